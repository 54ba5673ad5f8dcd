//! Issue 18's journeys against the REAL Python servers (installed by
//! scripts/install-test-deps.sh), with the real Claude Code 2.1.332 through the launcher:
//!
//! - vLLM 0.32.0 (CPU build) serving the gemma3-270m safetensors folder: a server started
//!   without tool calling is `vllm_tools_off` (exit 1), and the fix is the complete
//!   `vllm serve` line, the same line `plan` prints and `setup --server vllm` writes; run as
//!   written, it serves Claude Code.
//! - vllm-mlx 0.6.0 serving the tiny fixture model: the doctor reads the served context from
//!   its process (the model folder's limit), a naive Claude Code is `context_mismatch`
//!   (exit 1); `setup --server vllm-mlx` writes the line `plan` prints; run as written, it
//!   serves Claude Code, and the doctor is clean.
//! - `logs --server-log` joins both servers' own logs to Claude Code's requests, by order
//!   (neither log has a time per request).
//! - mlx_lm.server: `messages_api_missing` (exit 1), and its fix, run as printed, is a
//!   vllm-mlx for the same model folder that Claude Code gets an answer from.
//!
//! Each real server is started once, by the test that needs it, in its own process group,
//! and stopped at the end (support::real_py_server); the three tests take turns. vLLM takes 1.5–2.5 min to start here
//! (with --enforce-eager) and ~8 GB; vllm-mlx 20–40 s and ~1.3 GB; mlx_lm.server seconds.
use crate::support;
use crate::support::real_llama_server::free_port;
use crate::support::real_py_server::{exclusive, shell_argv, RealServer};
use crate::support::report::{json_of, problem as finding};
use crate::support::setup_home::*;

use serde_json::Value;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// The context gemma3-270m and the tiny model take (`max_position_embeddings`).
const MODEL_LIMIT: u64 = 32_768;

fn cclocal(t: &TestHome, path: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = t.command(args);
    c.env("PATH", path)
        .env("CCLOCAL_DOCTOR_NO_SERVICE_PROBES", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn errors(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["id"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The command a fix prints, from `program` to the end of the command (before "   (" or
/// "; "), exactly as printed.
fn command_in(fix: &str, program: &str) -> String {
    let start = fix
        .find(&format!("{program} serve "))
        .unwrap_or_else(|| panic!("no `{program} serve` in the fix: {fix}"));
    let rest = &fix[start..];
    let end = [rest.find("   ("), rest.find("; ")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(rest.len());
    rest[..end].trim().to_string()
}

/// The `exec` line of a start script setup wrote, without `exec` and `"$@"`.
fn script_line(script: &Path) -> String {
    let s = std::fs::read_to_string(script).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("exec "))
        .unwrap_or_else(|| panic!("no exec line in {}: {s}", script.display()))
        .trim_end_matches(" \"$@\"")
        .to_string()
}

/// PATH for the user's shell: the server's venv and the test's `claude`.
fn user_path(venv_bin: &Path, bin: &Path) -> String {
    format!("{}:{}:/usr/bin:/bin", venv_bin.display(), bin.display())
}

/// `claude -p PROMPT` through the launcher setup wrote; returns its output and the
/// `effectiveWindow` Claude Code logged.
fn claude_via_launcher(t: &TestHome, bin: &Path, prompt: &str) -> (String, Option<u64>) {
    let debug = debug_log(t);
    let mut cmd = t.launcher(bin);
    cmd.args(["-p", prompt]).arg("--debug-file").arg(&debug);
    let out = support::run_to_end_within(cmd, 480);
    let log = std::fs::read_to_string(&debug).unwrap_or_default();
    (out, support::logged_effective_window(&log))
}

fn debug_log(t: &TestHome) -> std::path::PathBuf {
    t.dir.path().join("claude-debug.txt")
}

/// `cclocal logs DEBUG --server-log SERVER --json`: the requests joined to the server's own
/// log lines (they carry no times: joined by order).
fn joined_requests(t: &TestHome, path: &str, server_log: &Path) -> Vec<Value> {
    let debug = debug_log(t).display().to_string();
    let server = server_log.display().to_string();
    let o = cclocal(
        t,
        path,
        &[],
        &["logs", &debug, "--server-log", &server, "--json"],
    );
    let logs = json_of("logs --server-log", &o);
    logs["requests"]
        .as_array()
        .unwrap_or_else(|| panic!("no requests: {logs}"))
        .iter()
        .filter(|r| r["server"].is_object())
        .cloned()
        .collect()
}

fn hf_home(t: &TestHome) -> String {
    // mlx_lm.server answers /v1/models with an empty body unless $HF_HOME/hub exists.
    let h = t.dir.path().join("hf");
    std::fs::create_dir_all(h.join("hub")).unwrap();
    h.display().to_string()
}

#[test]
fn vllm_without_tool_calling_is_an_error_and_its_fix_serves_claude_code() {
    let (Some(vllm), Some(model), Some(claude)) = (
        support::vllm_bin(),
        support::gemma_hf_dir(),
        support::claude_bin("2.1.332"),
    ) else {
        return;
    };
    let _one_at_a_time = exclusive();
    let t = TestHome::new();
    let bin = t.claude_bin_dir(&claude);
    let path = user_path(vllm.parent().unwrap(), &bin);
    let hf = hf_home(&t);
    // vLLM's CPU build: a 2 GiB KV cache; no model hub.
    let env = [
        ("VLLM_CPU_KVCACHE_SPACE", "2"),
        ("HF_HUB_OFFLINE", "1"),
        ("HF_HOME", hf.as_str()),
        ("PATH", path.as_str()),
    ];
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let model_s = model.display().to_string();
    let name = "gemma3-270m";
    // 1. A new user's vLLM: the model and a context, no tool-call flags.
    let mut naive = RealServer::start(
        "vLLM (no tool calling)",
        &[
            vllm.display().to_string(),
            "serve".into(),
            model_s.clone(),
            "--served-model-name".into(),
            name.into(),
            "--max-model-len".into(),
            MODEL_LIMIT.to_string(),
            "--host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
            "--enforce-eager".into(),
        ],
        &env,
        port,
        &t.dir.path().join("vllm-naive.log"),
        "/health",
        Duration::from_secs(480),
    );
    eprintln!("vLLM RSS: {} MB", naive.rss_bytes() >> 20);
    let claude_env = [
        ("ANTHROPIC_BASE_URL", url.as_str()),
        ("ANTHROPIC_AUTH_TOKEN", "x"),
        ("ANTHROPIC_MODEL", name),
        ("ANTHROPIC_DEFAULT_HAIKU_MODEL", name),
    ];
    let o = cclocal(
        &t,
        &path,
        &claude_env,
        &["doctor", "--json", "--timeout", "20"],
    );
    let report = json_of("naive doctor", &o);
    let server = &report["facts"]["server"];
    assert_eq!(server["kind"], "vllm", "{server}");
    assert_eq!(server["version"], "0.32.0", "{server}");
    let served = &server["backend"]["models"][0];
    assert_eq!(served["id"], name, "{server}");
    assert_eq!(served["context"], MODEL_LIMIT, "{server}");
    assert_eq!(served["path"].as_str(), Some(model_s.as_str()), "{server}");
    assert_eq!(report["facts"]["model"]["served_context"], MODEL_LIMIT);
    let f = finding(&report, "vllm_tools_off")
        .unwrap_or_else(|| panic!("no vllm_tools_off: {}", report["findings"]));
    assert_eq!(f["severity"], "error");
    assert!(
        f["detail"]
            .as_str()
            .unwrap()
            .contains("--enable-auto-tool-choice"),
        "{f}"
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let all = report["findings"].to_string();
    assert!(
        !all.contains("GPU") && !all.contains("gpu-memory"),
        "GPU words on a CPU build: {all}"
    );
    let fix = command_in(f["fix"].as_str().unwrap(), "vllm");
    assert_eq!(
        fix,
        format!(
            "vllm serve {model_s} --served-model-name {name} --max-model-len {MODEL_LIMIT} --enable-auto-tool-choice --tool-call-parser hermes --host 127.0.0.1 --port {port}"
        )
    );
    // The real Claude Code fails on every request against it, as the finding says.
    let mut cc = std::process::Command::new(bin.join("claude"));
    cc.env_clear()
        .env("HOME", t.home())
        .env("PATH", &path)
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .args(["-p", "say hi"])
        .current_dir(t.home());
    for (k, v) in claude_env {
        cc.env(k, v);
    }
    let out = support::run_to_end_within(cc, 240);
    assert!(
        out.contains("tool choice requires"),
        "Claude Code against vLLM without tools: {out}"
    );

    // 2. plan prints the line, setup writes the same one (with the server still running,
    // both read its `root`); the model's own limit caps the 64K default.
    let o = cclocal(&t, &path, &[], &["plan", name, "--host", &url, "--json"]);
    let plan = json_of("plan", &o);
    assert_eq!(
        plan["server_command"].as_str(),
        Some(fix.as_str()),
        "{plan}"
    );
    assert_eq!(plan["context"], MODEL_LIMIT);
    let o = cclocal(
        &t,
        &path,
        &[],
        &[
            "setup",
            "--yes",
            "--server",
            "vllm",
            "--model",
            name,
            "--host",
            &url,
            "--claude-version",
            "2.1.332",
        ],
    );
    assert!(o.status.success(), "setup: {}", text(&o));
    assert!(text(&o).contains("max_position_embeddings"), "{}", text(&o));
    let script = t.home().join(".config/cclocal/server/vllm-serve.sh");
    assert_eq!(script_line(&script), fix);

    // 3. The script run as written (vLLM's CPU build starts faster without torch.compile:
    // --enforce-eager, passed through the script's "$@").
    naive.stop();
    let fixed = RealServer::start(
        "vLLM (setup's script)",
        &[
            "/bin/sh".into(),
            script.display().to_string(),
            "--enforce-eager".into(),
        ],
        &env,
        port,
        &t.dir.path().join("vllm.log"),
        "/health",
        Duration::from_secs(480),
    );
    let o = cclocal(&t, &path, &[], &["doctor", "--json", "--timeout", "20"]);
    let after = json_of("doctor after setup", &o);
    assert!(errors(&after).is_empty(), "{}", after["findings"]);
    for id in [
        "vllm_tools_off",
        "context_mismatch",
        "server_context_small",
        "model_missing",
    ] {
        assert!(finding(&after, id).is_none(), "{id}: {}", after["findings"]);
    }
    let (out, window) = claude_via_launcher(&t, &bin, "say hi");
    assert!(
        !out.contains("API Error") && !out.trim().is_empty(),
        "Claude Code through the launcher: {out}\nserver: {}",
        fixed.output_tail()
    );
    let window = window.expect("Claude Code logs its window");
    assert!(
        window <= MODEL_LIMIT,
        "window {window} > served {MODEL_LIMIT}"
    );
    // vLLM's own log: each Claude Code request is one access line, joined in order, its
    // whole prompt from the throughput line that counted it (written at the end of vLLM's
    // 10-second stats interval: wait for it).
    // Claude Code's small first request (a few tokens) may have its own interval: wait until
    // the main request's interval is logged too (at most 120 s).
    let sized = |j: &[Value]| {
        j.iter().any(|r| {
            r["server"]["prompt_tokens"]
                .as_u64()
                .is_some_and(|p| p > 1000)
        })
    };
    let t0 = std::time::Instant::now();
    let mut joined = joined_requests(&t, &path, &fixed.output);
    while !sized(&joined) && t0.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_secs(2));
        joined = joined_requests(&t, &path, &fixed.output);
    }
    assert!(
        joined.iter().any(|r| r["server"]["http_status"] == 200),
        "{joined:?}"
    );
    assert!(
        sized(&joined),
        "no prompt sized from vLLM's throughput lines: {joined:?}\nserver: {}",
        fixed.output_tail()
    );
    let server = server_side(&t, &path, &fixed.output);
    assert!(
        server["throughput"]["lines"]
            .as_array()
            .is_some_and(|l| !l.is_empty()),
        "{server}"
    );
    assert_eq!(server["loads"][0]["n_ctx"], MODEL_LIMIT, "{server}");
    eprintln!(
        "vLLM through the launcher: prefix cache hit rate {}, findings {}",
        server["throughput"]["prefix_cache_hit_pct"], server["findings"]
    );
    // --what-if: vLLM's log times no request, so the rates must come from a bench.
    let debug = debug_log(&t).display().to_string();
    let log = fixed.output.display().to_string();
    let o = cclocal(
        &t,
        &path,
        &[],
        &["logs", &debug, "--server-log", &log, "--what-if"],
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("vLLM's log times no request"),
        "{}",
        text(&o)
    );
    // 4. `bench --host` on the same server (one vLLM start per run serves both): client-side
    // times, prompts sized with vLLM's own tokenizer.
    let o = cclocal(
        &t,
        &path,
        &[],
        &[
            "bench",
            "--host",
            &fixed.base_url,
            "--prompts",
            "256,1024",
            "--decode",
            "8",
            "-r",
            "1",
            "--json",
        ],
    );
    assert!(o.status.success(), "bench --host: {}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["kind"], "vllm", "{v:#}");
    assert_eq!(v["timing"], "client", "{v:#}");
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{v:#}");
    for r in runs {
        let p = r["prefill_tokens_per_s"].as_f64().unwrap();
        let d = r["decode_tokens_per_s"].as_f64().unwrap();
        assert!(p.is_finite() && p > 0.0 && d.is_finite() && d > 0.0, "{r}");
    }
    let first = runs[0]["prompt_tokens"].as_u64().unwrap();
    assert!((240..=272).contains(&first), "{v:#}");
}

/// `cclocal logs DEBUG --server-log SERVER --json`'s `server` object.
fn server_side(t: &TestHome, path: &str, server_log: &Path) -> Value {
    let debug = debug_log(t).display().to_string();
    let server = server_log.display().to_string();
    let o = cclocal(
        t,
        path,
        &[],
        &["logs", &debug, "--server-log", &server, "--json"],
    );
    let mut v = json_of("logs --server-log", &o)["server"].clone();
    let logs = json_of("logs --server-log", &o);
    v["findings"] = logs["findings"].clone();
    v
}

#[test]
fn vllm_mlx_context_from_its_process_and_setup_serves_claude_code() {
    let (Some(vllm_mlx), Some(model), Some(claude)) = (
        support::vllm_mlx_bin(),
        support::tiny_model_dir(),
        support::claude_bin("2.1.332"),
    ) else {
        return;
    };
    let _one_at_a_time = exclusive();
    let t = TestHome::new();
    let bin = t.claude_bin_dir(&claude);
    let path = user_path(vllm_mlx.parent().unwrap(), &bin);
    let hf = hf_home(&t);
    let env = [
        ("HF_HUB_OFFLINE", "1"),
        ("HF_HOME", hf.as_str()),
        ("PATH", path.as_str()),
    ];
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let model_s = model.display().to_string();
    let name = "tiny-hi";
    let mut naive = RealServer::start(
        "vllm-mlx",
        &[
            vllm_mlx.display().to_string(),
            "serve".into(),
            model_s.clone(),
            "--served-model-name".into(),
            name.into(),
            "--host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
        ],
        &env,
        port,
        &t.dir.path().join("vllm-mlx-naive.log"),
        "/health",
        Duration::from_secs(240),
    );
    eprintln!("vllm-mlx RSS: {} MB", naive.rss_bytes() >> 20);
    // 1. Naive: Claude Code's own window is far above what the model takes.
    let o = cclocal(
        &t,
        &path,
        &[
            ("ANTHROPIC_BASE_URL", &url),
            ("ANTHROPIC_AUTH_TOKEN", "x"),
            ("ANTHROPIC_MODEL", name),
            ("ANTHROPIC_DEFAULT_HAIKU_MODEL", name),
        ],
        &["doctor", "--json", "--timeout", "20"],
    );
    let report = json_of("naive doctor", &o);
    let server = &report["facts"]["server"];
    assert_eq!(server["kind"], "vllm-mlx", "{server}");
    assert_eq!(server["backend"]["models"][0]["id"], name, "{server}");
    assert_eq!(
        server["backend"]["models"][0]["path"].as_str(),
        Some(model_s.as_str())
    );
    assert_eq!(
        report["facts"]["model"]["served_context"], MODEL_LIMIT,
        "{}",
        report["facts"]["model"]
    );
    assert!(
        finding(&report, "context_unknown").is_none(),
        "{}",
        report["findings"]
    );
    assert!(
        finding(&report, "context_mismatch").is_some(),
        "{}",
        report["findings"]
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    // 2. plan and setup: one line.
    let o = cclocal(&t, &path, &[], &["plan", name, "--host", &url, "--json"]);
    let plan = json_of("plan", &o);
    let line = plan["server_command"]
        .as_str()
        .expect("plan's command")
        .to_string();
    assert_eq!(
        line,
        format!(
            "vllm-mlx serve {model_s} --served-model-name {name} --host 127.0.0.1 --port {port}"
        )
    );
    assert_eq!(plan["context"], MODEL_LIMIT);
    let o = cclocal(
        &t,
        &path,
        &[],
        &[
            "setup",
            "--yes",
            "--server",
            "vllm-mlx",
            "--model",
            name,
            "--host",
            &url,
            "--claude-version",
            "2.1.332",
        ],
    );
    assert!(o.status.success(), "setup: {}", text(&o));
    let script = t.home().join(".config/cclocal/server/vllm-mlx-serve.sh");
    assert_eq!(script_line(&script), line);

    // 3. The script as written.
    naive.stop();
    let fixed = RealServer::start(
        "vllm-mlx (setup's script)",
        &["/bin/sh".into(), script.display().to_string()],
        &env,
        port,
        &t.dir.path().join("vllm-mlx.log"),
        "/health",
        Duration::from_secs(240),
    );
    let o = cclocal(&t, &path, &[], &["doctor", "--json", "--timeout", "20"]);
    let after = json_of("doctor after setup", &o);
    assert!(errors(&after).is_empty(), "{}", after["findings"]);
    assert!(
        finding(&after, "context_mismatch").is_none(),
        "{}",
        after["findings"]
    );
    let (out, window) = claude_via_launcher(&t, &bin, "say hi");
    assert!(
        out.contains("Hi"),
        "Claude Code: {out}\nserver: {}",
        fixed.output_tail()
    );
    let window = window.expect("Claude Code logs its window");
    assert!(
        window <= MODEL_LIMIT,
        "window {window} > served {MODEL_LIMIT}"
    );
    // vllm-mlx's own log: the request, its prompt prefilled and the tokens generated.
    let joined = joined_requests(&t, &path, &fixed.output);
    let last = &joined
        .last()
        .unwrap_or_else(|| panic!("nothing joined: {}", fixed.output_tail()))["server"];
    assert!(
        last["prompt_tokens"].as_u64().is_some_and(|p| p > 1000),
        "{last}"
    );
    assert!(
        last["generated_tokens"].as_u64().is_some_and(|n| n >= 1),
        "{last}"
    );
    assert_eq!(last["http_status"], 200, "{last}");
    assert!(
        last["request_ms"].as_f64().is_some_and(|m| m > 0.0),
        "{last}"
    );
    // vllm-mlx's Max request tokens, from its process, above what Claude Code asks.
    assert_eq!(
        after["facts"]["server"]["backend"]["max_request_tokens"], 32_768,
        "{}",
        after["facts"]["server"]
    );
    let server = server_side(&t, &path, &fixed.output);
    assert_eq!(server["max_request_tokens"], 32_768, "{server}");
    // --what-if with the rates from vllm-mlx's own request times.
    let debug = debug_log(&t).display().to_string();
    let log = fixed.output.display().to_string();
    let o = cclocal(
        &t,
        &path,
        &[],
        &["logs", &debug, "--server-log", &log, "--what-if", "--json"],
    );
    let w = json_of("logs --what-if", &o);
    assert!(
        w["what_if"]["rates"]["source"]
            .as_str()
            .is_some_and(|s| s.contains("request times")),
        "{}",
        w["what_if"]
    );
}

#[test]
fn mlx_lm_server_has_no_messages_api_and_its_fix_serves_claude_code() {
    let (Some(mlx_lm), Some(vllm_mlx), Some(model), Some(claude)) = (
        support::mlx_lm_server_bin(),
        support::vllm_mlx_bin(),
        support::tiny_model_dir(),
        support::claude_bin("2.1.332"),
    ) else {
        return;
    };
    let _one_at_a_time = exclusive();
    let t = TestHome::new();
    let bin = t.claude_bin_dir(&claude);
    // The user has both installed.
    let path = format!(
        "{}:{}:{}:/usr/bin:/bin",
        mlx_lm.parent().unwrap().display(),
        vllm_mlx.parent().unwrap().display(),
        bin.display()
    );
    let hf = hf_home(&t);
    let env = [
        ("HF_HUB_OFFLINE", "1"),
        ("HF_HOME", hf.as_str()),
        ("PATH", path.as_str()),
    ];
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let model_s = model.display().to_string();
    let name = "tiny-hi";
    let claude_env = [
        ("ANTHROPIC_BASE_URL", url.as_str()),
        ("ANTHROPIC_AUTH_TOKEN", "x"),
        ("ANTHROPIC_MODEL", name),
        ("ANTHROPIC_DEFAULT_HAIKU_MODEL", name),
    ];
    let mut server = RealServer::start(
        "mlx_lm.server",
        &[
            mlx_lm.display().to_string(),
            "--model".into(),
            model_s.clone(),
            "--host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
        ],
        &env,
        port,
        &t.dir.path().join("mlx-lm.log"),
        "/health",
        Duration::from_secs(120),
    );
    eprintln!("mlx_lm.server RSS: {} MB", server.rss_bytes() >> 20);
    let o = cclocal(
        &t,
        &path,
        &claude_env,
        &["doctor", "--json", "--timeout", "20"],
    );
    let report = json_of("doctor", &o);
    assert_eq!(
        report["facts"]["server"]["kind"], "mlx-lm",
        "{}",
        report["facts"]["server"]
    );
    let f = finding(&report, "messages_api_missing")
        .unwrap_or_else(|| panic!("no messages_api_missing: {}", report["findings"]));
    assert_eq!(f["severity"], "error");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let fix = command_in(f["fix"].as_str().unwrap(), "vllm-mlx");
    assert_eq!(
        fix,
        format!(
            "vllm-mlx serve {model_s} --served-model-name {name} --host 127.0.0.1 --port {port}"
        )
    );

    // The fix as printed, on the same port.
    server.stop();
    let fixed = RealServer::start(
        "vllm-mlx (the doctor's fix)",
        &shell_argv(&fix),
        &env,
        port,
        &t.dir.path().join("vllm-mlx.log"),
        "/health",
        Duration::from_secs(240),
    );
    let o = cclocal(
        &t,
        &path,
        &claude_env,
        &["doctor", "--json", "--timeout", "20"],
    );
    let after = json_of("doctor after the fix", &o);
    assert_eq!(after["facts"]["server"]["kind"], "vllm-mlx");
    assert!(
        finding(&after, "messages_api_missing").is_none(),
        "{}",
        after["findings"]
    );
    let mut cc = std::process::Command::new(bin.join("claude"));
    cc.env_clear()
        .env("HOME", t.home())
        .env("PATH", &path)
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .args(["-p", "say hi"])
        .current_dir(t.home());
    for (k, v) in claude_env {
        cc.env(k, v);
    }
    let out = support::run_to_end_within(cc, 240);
    assert!(
        out.contains("Hi"),
        "Claude Code: {out}\nserver: {}",
        fixed.output_tail()
    );
}
