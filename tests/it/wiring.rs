//! Parts built apart, wired together: the doctor reads the server's own log and Homebrew's
//! plist, `plan` prints the LM Studio/vLLM command setup writes, `logs --host` reads any
//! kind's live context, `status` shows only the settings the configured kind has.

use crate::support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use support::fake_llama_server::{self as fake_llama, Config, Layout};
use support::report::ids as finding_ids;

fn server_logs(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/server-logs")
        .join(name)
}

fn cmd(home: &Path) -> std::process::Command {
    let mut c = support::cclocal();
    c.env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .env("NO_COLOR", "1")
        .env("CCLOCAL_DOCTOR_NO_SERVICE_PROBES", "1")
        .current_dir(home);
    c
}

/// `doctor --server-only --json --host URL` in `home`.
fn doctor_json(home: &Path, url: &str) -> Value {
    let out = cmd(home)
        .args([
            "doctor",
            "--server-only",
            "--json",
            "--timeout",
            "5",
            "--host",
            url,
        ])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn doctor_reports_the_truncation_in_the_llama_server_log_setup_configured() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".local/state/cclocal");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        server_logs("llama-server-b11434-verbose.log"),
        dir.join("llama-server.log"),
    )
    .unwrap();
    // An Ollama log on the same machine says nothing about the llama-server checked.
    let ol = home.path().join(".ollama/logs");
    std::fs::create_dir_all(&ol).unwrap();
    std::fs::copy(
        server_logs("ollama-0.30-session.log"),
        ol.join("server.log"),
    )
    .unwrap();
    let srv = fake_llama::start(Config::new(Layout::OneSlot));
    let doc = doctor_json(home.path(), &srv.base_url);
    assert_eq!(doc["facts"]["server"]["kind"], "llama-server");
    let ids = finding_ids(&doc);
    assert!(ids.iter().any(|i| i == "prompt_truncated"), "{ids:?}");
    assert!(!ids.iter().any(|i| i == "kv_cache_type_ignored"), "{ids:?}");
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "prompt_truncated")
        .unwrap();
    assert!(
        f["detail"]
            .as_str()
            .unwrap()
            .contains(".local/state/cclocal/llama-server.log"),
        "{f}"
    );
    let logs = doc["facts"]["server_log"].as_array().unwrap();
    assert_eq!(logs.len(), 2, "{logs:?}");
}

fn brew_plist_in(home: &Path) -> PathBuf {
    let dir = home.join("Library/LaunchAgents");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("homebrew.mxcl.ollama.plist");
    std::fs::copy(server_logs("homebrew.mxcl.ollama.plist"), &p).unwrap();
    p
}

#[test]
fn doctor_reads_the_homebrew_service_plist() {
    use support::fake_ollama::{FakeModel, FakeOllama, Scenario};
    let home = tempfile::tempdir().unwrap();
    let plist = brew_plist_in(home.path());
    let srv = FakeOllama::start(Scenario::new("0.30.0").model(FakeModel::qwen3_coder_next()));
    let doc = doctor_json(home.path(), &srv.base_url);
    let cfg = &doc["facts"]["server_config"];
    assert_eq!(
        cfg["env_source"],
        format!("brew services plist {}", plist.display()),
        "{cfg:#}"
    );
    assert_eq!(cfg["env"]["OLLAMA_KV_CACHE_TYPE"], "q8_0", "{cfg:#}");
    assert_eq!(cfg["env"]["OLLAMA_FLASH_ATTENTION"], "1", "{cfg:#}");
    assert!(
        cfg["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("brew services restart ollama")),
        "{cfg:#}"
    );
    // Without the plist the service's environment is unknown here (no service probes).
    let bare = tempfile::tempdir().unwrap();
    let doc = doctor_json(bare.path(), &srv.base_url);
    assert!(doc["facts"]["server_config"]["env_source"].is_null());
}

#[test]
fn setup_for_a_homebrew_ollama_says_to_restart_the_service() {
    use support::setup_home::TestHome;
    let t = TestHome::new();
    let without = t.setup(&["--target", "macos", "--dry-run"]);
    let text = String::from_utf8_lossy(&without.stdout).into_owned();
    assert!(without.status.success(), "{text}");
    assert!(!text.contains("brew services restart ollama"), "{text}");
    let plist = brew_plist_in(&t.home());
    let with = t.setup(&["--target", "macos", "--dry-run"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&with.stdout),
        String::from_utf8_lossy(&with.stderr)
    );
    assert!(with.status.success(), "{text}");
    assert!(text.contains("brew services restart ollama"), "{text}");
    // The plist's own OLLAMA_KV_CACHE_TYPE wins over launchctl: the note names it.
    assert!(text.contains(&plist.display().to_string()), "{text}");
    assert!(text.contains("OLLAMA_KV_CACHE_TYPE=q8_0"), "{text}");
}

#[test]
fn logs_host_reads_llama_servers_per_slot_context() {
    let home = tempfile::tempdir().unwrap();
    let srv = fake_llama::start(Config::new(Layout::OneSlot));
    let log = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/claude-debug-logs/v2.1.332-p-mode-compaction-unknown-model.txt");
    let o = cmd(home.path())
        .args([
            "logs",
            log.to_str().unwrap(),
            "--json",
            "--host",
            &srv.base_url,
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&o.stderr));
    });
    let f = v["findings"].as_array().unwrap();
    // llama-server answers no /api/ps: its per-slot context (8192) is the live one.
    assert!(!f.iter().any(|x| x["id"] == "server_unreachable"), "{f:#?}");
    let cm = f
        .iter()
        .find(|x| x["id"] == "context_mismatch")
        .unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(cm["severity"], "error", "{cm}");
    assert!(cm["title"].as_str().unwrap().contains("8192"), "{cm}");
}

/// `cclocal setup --server KIND` then `cclocal status --offline` in a scratch HOME.
fn status_after_setup(server: &str, model: &str) -> (String, Value) {
    use support::setup_home::TestHome;
    let t = TestHome::new();
    let o = t.run(&[
        "setup",
        "--yes",
        "--server",
        server,
        "--model",
        model,
        "--ctx",
        "32768",
        "--claude-version",
        "2.1.332",
        "--host",
        "http://127.0.0.1:9",
    ]);
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&t.run(&["status", "--offline"]).stdout).into_owned();
    let json = t.run(&["status", "--offline", "--json"]);
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    (text, v)
}

#[test]
fn status_shows_only_the_settings_the_server_kind_has() {
    for (server, model) in [
        ("lmstudio", "qwen/qwen3-coder-30b"),
        ("vllm", "Qwen/Qwen3-Coder-30B-A3B-Instruct"),
    ] {
        let (text, v) = status_after_setup(server, model);
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("server"))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(line.contains(server), "{text}");
        for absent in ["keep-alive", "KV cache", "flash attention"] {
            assert!(!line.contains(absent), "{server}: {line}");
        }
        assert!(text.contains("context 32768 tokens"), "{text}");
        let all = format!("{}{}", v["compared"], v["not_compared"]);
        assert!(!all.contains("keep-alive"), "{server}: {all}");
    }
}

/// The line of `out` that starts (after spaces and a label) with `prefix`, from `prefix` on.
fn line_from<'a>(out: &'a str, prefix: &str) -> &'a str {
    let l = out
        .lines()
        .find(|l| l.contains(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in {out}"));
    &l[l.find(prefix).unwrap()..]
}

#[test]
fn plan_against_lm_studio_prints_the_load_line_setup_writes() {
    use support::fake_lmstudio::{self as lms, Api, Model};
    use support::setup_home::TestHome;
    let Some(gemma) = support::gemma_path() else {
        return;
    };
    let key = "google/gemma-3-270m";
    let t = TestHome::new();
    let dir = t.home().join(".lmstudio/models").join(key);
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(&gemma, dir.join("gemma-3-270m-Q4_K_M.gguf")).unwrap();
    let srv = lms::start(&[Model::gguf(key, 32_768).loaded_at(4096)], Api::V1);
    let o = t.run(&[
        "setup",
        "--yes",
        "--claude-version",
        "2.1.332",
        "--server",
        "lmstudio",
        "--host",
        &srv.base_url,
        "--model",
        key,
        "--memory",
        "16GiB",
    ]);
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{out}");
    let script =
        std::fs::read_to_string(t.home().join(".config/cclocal/server/lmstudio-start.sh")).unwrap();
    let plan = t.run(&["plan", key, "--host", &srv.base_url, "--memory", "16GiB"]);
    let text = String::from_utf8_lossy(&plan.stdout).into_owned();
    assert!(
        plan.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let line = line_from(&text, "lms load ");
    assert!(line.contains("--context-length 32768"), "{line}");
    // setup's script runs the same load (its `"$LMS"` for `lms`).
    assert!(
        script.contains(&line.replacen("lms ", "\"$LMS\" ", 1)),
        "{line}\n{script}"
    );
    let json = t.run(&[
        "plan",
        key,
        "--host",
        &srv.base_url,
        "--memory",
        "16GiB",
        "--json",
    ]);
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["server_command"], line, "{v:#}");
    assert_eq!(v["recommended"]["kv_type"], "f16");
}

/// Edge case the real vLLM here cannot produce (real/python_servers_journey.rs checks the same
/// against the real one): a Qwen3-Coder model, whose line names its own tool-call parser.
#[test]
fn plan_against_vllm_prints_the_serve_line_setup_writes() {
    use support::fake_vllm;
    use support::setup_home::TestHome;
    let model = "Qwen/Qwen3-Coder-30B-A3B-Instruct";
    let srv = fake_vllm::start(&fake_vllm::Config::new("0.11.2", &[model], 32_768));
    let t = TestHome::new();
    let o = t.run(&[
        "setup",
        "--yes",
        "--claude-version",
        "2.1.332",
        "--server",
        "vllm",
        "--host",
        &srv.base_url,
        "--model",
        model,
        "--ctx",
        "65536",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let script =
        std::fs::read_to_string(t.home().join(".config/cclocal/server/vllm-serve.sh")).unwrap();
    let plan = t.run(&[
        "plan",
        model,
        "--host",
        &srv.base_url,
        "--ctx",
        "65536",
        "--json",
    ]);
    let v: Value = serde_json::from_slice(&plan.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&plan.stderr));
    });
    let line = v["server_command"].as_str().unwrap();
    assert!(
        line.starts_with("vllm serve ") && line.contains("--max-model-len 65536"),
        "{line}"
    );
    assert!(script.contains(&format!("exec {line}")), "{line}\n{script}");
    let text = String::from_utf8_lossy(
        &t.run(&["plan", model, "--host", &srv.base_url, "--ctx", "65536"])
            .stdout,
    )
    .into_owned();
    assert!(text.contains(line), "{text}");
}
