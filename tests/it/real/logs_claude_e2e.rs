//! `cclocal logs` over logs written by the real Claude Code 2.1.332 from npm, run against the
//! fake Ollama server (scratch HOME, cleared env, loopback only). One debug file collects
//! three `claude -p` runs:
//! 1. a slow first byte (the fake waits 700 ms; `CLAUDE_SLOW_FIRST_BYTE_MS=200` makes Claude
//!    Code warn), with the server reporting 60000 input tokens;
//! 2. `-c`: at 60000 tokens the 57344-token window is blocked, so Claude Code compacts
//!    (a `source=compact` request) before answering;
//! 3. a model the server does not have: 404.
//!
//! The analysis must find each.

use crate::support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use cclocal::findings::Severity;
use cclocal::logs::{self, RuleOptions, SourceKind};
use support::fake_ollama::{FakeModel, FakeOllama, Loaded, Scenario};

const MODEL: &str = "qwen3-coder:30b";

fn run_claude(real: &Path, home: &Path, base_url: &str, model: &str, extra: &[&str], log: &Path) {
    let mut c = Command::new(real);
    c.env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .env("ANTHROPIC_BASE_URL", base_url)
        .env("ANTHROPIC_AUTH_TOKEN", "x")
        .env("ANTHROPIC_MODEL", model)
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("CLAUDE_CODE_MAX_CONTEXT_TOKENS", "65536")
        .env("CLAUDE_CODE_MAX_OUTPUT_TOKENS", "8192")
        .env("CLAUDE_SLOW_FIRST_BYTE_MS", "200")
        .current_dir(home)
        .arg("-p")
        .args(extra)
        .args(["hi", "--debug-file"])
        .arg(log);
    support::run_to_end(c);
}

#[test]
fn real_claude_code_session_is_read_back() {
    let Some(real) = support::claude_bin("2.1.332") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("debug.txt");
    let mut scenario = Scenario::new("0.30.0")
        .model(FakeModel::llama(MODEL))
        .loaded(Loaded::new(MODEL, 65_536));
    scenario.first_byte_delay = Duration::from_millis(700);
    scenario.input_tokens = Some(60_000);
    let fake = FakeOllama::start(scenario);

    run_claude(&real, home.path(), &fake.base_url, MODEL, &[], &log);
    fake.update(|s| s.first_byte_delay = Duration::ZERO);
    run_claude(&real, home.path(), &fake.base_url, MODEL, &["-c"], &log);
    run_claude(
        &real,
        home.path(),
        &fake.base_url,
        "missing-model:7b",
        &[],
        &log,
    );

    let a = logs::analyze_files(&logs::parts(&log)).expect("the log reads");
    let text = std::fs::read_to_string(&log).unwrap();
    let s = &a.summary;
    assert_eq!(s.requests as usize, text.matches("[API REQUEST]").count());
    assert_eq!(
        s.api_errors as usize,
        text.matches("API error (attempt").count()
    );
    // 57344 = 65536 − 8192.
    assert_eq!(s.effective_window, Some(57_344), "{text}");

    // 1: the slow first byte, on the first main request.
    let first = &a.requests[0];
    assert_eq!(first.kind, SourceKind::Main);
    assert_eq!(first.model.as_deref(), Some(MODEL));
    assert!(first.first_byte_ms.unwrap() >= 700, "{first:?}");
    assert!(
        first.slow_first_byte && s.slow_first_bytes >= 1,
        "{first:?}"
    );

    // 2: the compaction, with the main model.
    assert!(s.compactions >= 1, "no compaction: {text}");
    let compact = a
        .requests
        .iter()
        .find(|r| r.kind == SourceKind::Compact)
        .unwrap();
    assert_eq!(compact.model.as_deref(), Some(MODEL));

    // 3: the missing model.
    assert!(s.not_found_404 >= 1);
    assert!(a
        .requests
        .iter()
        .any(|r| r.status == Some(404) && r.model.as_deref() == Some("missing-model:7b")));

    let f = logs::findings(
        &a,
        &RuleOptions {
            server_ctx: Some(32_768),
        },
    );
    let has = |id: &str, sev: Severity| f.iter().any(|x| x.id == id && x.severity == sev);
    assert!(has("timeouts", Severity::Warning), "{f:?}");
    assert!(has("model_missing", Severity::Error), "{f:?}");
    assert!(has("context_mismatch", Severity::Error), "{f:?}");
    assert!(has("context_mismatch", Severity::Error));
    let ok = logs::findings(
        &a,
        &RuleOptions {
            server_ctx: Some(65_536),
        },
    );
    assert!(ok
        .iter()
        .any(|x| x.id == "context_mismatch" && x.severity == Severity::Ok));
}
