//! `cclocal doctor` end to end against the fake Ollama server, with a scratch HOME and a
//! cleared environment (the developer's files and variables are never read).

use crate::support;

use serde_json::Value;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};
use support::fake_ollama::{FakeModel, FakeOllama, Loaded, Scenario};
use support::report::{finding, ids, json};

fn doctor(home: &Path, env: &[(&str, &str)], args: &[&str]) -> (Output, Duration) {
    let bin = home.join("bin");
    let mut c = support::cclocal();
    c.env_clear()
        .env("HOME", home)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("NO_COLOR", "1")
        .env("CCLOCAL_DOCTOR_NO_SERVICE_PROBES", "1")
        .current_dir(home)
        .arg("doctor")
        .args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let t = Instant::now();
    let out = c.output().unwrap();
    (out, t.elapsed())
}

/// The blog's setup: Ollama 0.15.2 serving qwen3-coder-next at 16384 tokens, Claude Code
/// 2.1.197 assuming 200k for an unknown model, an Anthropic key exported from cloud use
/// and no Haiku mapping.
#[test]
fn blog_scenario() {
    let home = tempfile::tempdir().unwrap();
    support::fake_claude_version(&home.path().join("bin"), "2.1.197");
    let fake = FakeOllama::start(
        Scenario::new("0.15.2")
            .model(FakeModel::qwen3_coder_next())
            .loaded(Loaded::new("qwen3-coder-next", 16_384)),
    );
    let env = [
        ("ANTHROPIC_BASE_URL", fake.base_url.as_str()),
        ("ANTHROPIC_AUTH_TOKEN", "ollama"),
        ("ANTHROPIC_API_KEY", "sk-ant-api03-0123456789abcdefghij"),
        ("ANTHROPIC_MODEL", "qwen3-coder-next"),
    ];
    let (out, _) = doctor(home.path(), &env, &["--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(&out);
    assert_eq!(doc["cclocal_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["facts"]["claude"]["version"], "2.1.197");
    assert_eq!(doc["facts"]["server"]["version"], "0.15.2");
    let m = finding(&doc, "context_mismatch");
    assert_eq!(m["severity"], "error");
    assert!(m["title"].as_str().unwrap().contains("200000"), "{m}");
    assert!(m["title"].as_str().unwrap().contains("16384"), "{m}");
    let fix = m["fix"].as_str().unwrap();
    // 16384 tokens cannot hold Claude Code's system prompt, compaction buffer and a reply:
    // no Claude Code setting can work, so none is offered (issue 9.7); the server's context
    // is the fix.
    assert!(
        !fix.contains("CLAUDE_CODE_MAX_CONTEXT_TOKENS=16384")
            && fix.contains("no Claude Code setting can work")
            && fix.contains("at least 28672"),
        "{fix}"
    );
    assert_eq!(finding(&doc, "server_context_small")["severity"], "error");
    let bg = finding(&doc, "background_model_missing");
    assert!(
        bg["title"]
            .as_str()
            .unwrap()
            .contains("claude-haiku-4-5-20251001"),
        "{bg}"
    );
    assert!(bg["fix"]
        .as_str()
        .unwrap()
        .contains("ANTHROPIC_DEFAULT_HAIKU_MODEL=qwen3-coder-next"));
    assert!(
        ids(&doc).contains(&"autocompact_ineffective".to_string()),
        "2.1.197 has no proactive compaction"
    );
    assert!(ids(&doc).contains(&"api_key_conflict".to_string()));
    // The key never leaves the machine in the report.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("0123456789abcdef"));
    // The probes cost the server nothing: metadata routes, and 404s for unknown models.
    let reqs = fake.requests();
    for r in reqs.iter().filter(|r| r.route() == "/v1/messages") {
        let j = r.json().unwrap();
        assert!(j["max_tokens"].as_u64().unwrap() <= 1, "{j}");
    }
    for route in [
        "/api/version",
        "/api/tags",
        "/api/ps",
        "/v1/messages",
        "/api/show",
    ] {
        assert!(reqs.iter().any(|r| r.route() == route), "no {route}");
    }
}

#[test]
fn human_report_is_flutter_style() {
    let home = tempfile::tempdir().unwrap();
    support::fake_claude_version(&home.path().join("bin"), "2.1.332");
    let fake = FakeOllama::serving("qwen3-coder:30b", 8192);
    let env = [
        ("ANTHROPIC_BASE_URL", fake.base_url.as_str()),
        ("ANTHROPIC_AUTH_TOKEN", "x"),
        ("ANTHROPIC_MODEL", "qwen3-coder:30b"),
    ];
    let (out, _) = doctor(home.path(), &env, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[✗] Model qwen3-coder:30b"), "{text}");
    assert!(
        text.contains("[context_mismatch]") && text.contains("1000000"),
        "{text}"
    );
    assert!(text.contains("fix: "), "{text}");
    assert!(
        text.lines().last().unwrap().contains("Doctor found issues"),
        "{text}"
    );
    // Nothing of cclocal's here yet: the report points at the one command that sets it up.
    assert!(
        text.contains("cclocal has not set this machine up yet: `cclocal setup`"),
        "{text}"
    );
    assert!(!text.contains("\x1b["), "no colour without a TTY");
    assert!(!text.contains("• URL from"), "facts only with -v");
    let (out, _) = doctor(home.path(), &env, &["-v"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("• URL from ANTHROPIC_BASE_URL"));
}

#[test]
fn healthy_setup_exits_zero() {
    let home = tempfile::tempdir().unwrap();
    support::fake_claude_version(&home.path().join("bin"), "2.1.332");
    std::fs::write(
        home.path().join(".claude.json"),
        r#"{"hasCompletedOnboarding": true}"#,
    )
    .unwrap();
    let fake = FakeOllama::serving("qwen3-coder:30b", 65_536);
    std::fs::create_dir_all(home.path().join(".claude")).unwrap();
    let settings = serde_json::json!({"env": {
        "ANTHROPIC_BASE_URL": fake.base_url, "ANTHROPIC_AUTH_TOKEN": "ollama", "ANTHROPIC_MODEL": "qwen3-coder:30b",
        "CLAUDE_CODE_MAX_CONTEXT_TOKENS": "65536", "CLAUDE_CODE_AUTO_COMPACT_WINDOW": "100000",
        "CLAUDE_CODE_MAX_OUTPUT_TOKENS": "8192", "CLAUDE_CODE_ATTRIBUTION_HEADER": "0",
        "CLAUDE_CODE_TOTAL_TOKENS_REMINDER": "off"}});
    std::fs::write(
        home.path().join(".claude/settings.json"),
        settings.to_string(),
    )
    .unwrap();
    let (out, _) = doctor(home.path(), &[], &["--json"]);
    let doc = json(&out);
    let bad: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(doc["facts"]["server"]["url_source"], "ANTHROPIC_BASE_URL");
}

#[test]
fn hanging_server_stays_within_the_budget() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeOllama::start(Scenario::hanging());
    let (out, took) = doctor(home.path(), &[], &["--json", "--host", &fake.base_url]);
    assert!(took < Duration::from_secs(3), "took {took:?}");
    let doc = json(&out);
    assert_eq!(finding(&doc, "server_unreachable")["severity"], "error");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn offline_sends_nothing_and_old_server_is_named() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeOllama::start(Scenario::new("0.13.5").model(FakeModel::llama("llama3:8b")));
    let (out, _) = doctor(
        home.path(),
        &[],
        &["--json", "--offline", "--host", &fake.base_url],
    );
    assert!(ids(&json(&out)).contains(&"server_not_checked".to_string()));
    assert!(fake.requests().is_empty());
    let (out, _) = doctor(
        home.path(),
        &[],
        &[
            "--json",
            "--server-only",
            "--host",
            &fake.base_url,
            "--model",
            "llama3:8b",
        ],
    );
    let doc = json(&out);
    assert_eq!(finding(&doc, "server_too_old")["severity"], "error");
    assert!(doc["facts"]["claude"].is_null());
    assert!(!ids(&doc).contains(&"claude_missing".to_string()));
}

#[test]
fn missing_model_and_v1_suffix() {
    let home = tempfile::tempdir().unwrap();
    support::fake_claude_version(&home.path().join("bin"), "2.1.332");
    let fake = FakeOllama::start(Scenario::new("0.30.0").model(FakeModel::llama("llama3:8b")));
    let url = format!("{}/v1", fake.base_url);
    let env = [
        ("ANTHROPIC_BASE_URL", url.as_str()),
        ("ANTHROPIC_AUTH_TOKEN", "x"),
        ("ANTHROPIC_MODEL", "qwen3-coder:30b"),
    ];
    let (out, _) = doctor(home.path(), &env, &["--json"]);
    let doc = json(&out);
    assert!(finding(&doc, "model_missing")["fix"]
        .as_str()
        .unwrap()
        .contains("ollama pull qwen3-coder:30b"));
    assert_eq!(finding(&doc, "base_url_v1_suffix")["severity"], "error");
    assert_eq!(
        doc["facts"]["server"]["reachable"], true,
        "the server root is probed despite /v1"
    );
}

#[test]
fn settings_override_onboarding_and_fake_variables() {
    let home = tempfile::tempdir().unwrap();
    support::fake_claude_version(&home.path().join("bin"), "2.1.332");
    std::fs::create_dir_all(home.path().join(".claude")).unwrap();
    std::fs::write(home.path().join(".claude/settings.json"), r#"{"env":{"ANTHROPIC_MODEL":"from-settings:1b","ANTHROPIC_MODEL_CONTEXT_LENGTH":"65536"}}"#).unwrap();
    std::fs::write(
        home.path().join(".claude.json"),
        r#"{"autoCompactEnabled":"false"}"#,
    )
    .unwrap();
    let env = [
        ("ANTHROPIC_MODEL", "from-shell:1b"),
        ("OLLAMA_NUM_BATCH", "1024"),
    ];
    let (out, _) = doctor(home.path(), &env, &["--json", "--offline"]);
    let doc = json(&out);
    assert!(finding(&doc, "settings_env_override")["detail"]
        .as_str()
        .unwrap()
        .contains("from-shell:1b"));
    assert_eq!(doc["facts"]["claude"]["model"], "from-settings:1b");
    assert_eq!(finding(&doc, "onboarding_gate")["severity"], "warning");
    let unknown: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "unknown_env_var")
        .map(|f| f["title"].as_str().unwrap())
        .collect();
    assert!(
        unknown
            .iter()
            .any(|t| t.contains("ANTHROPIC_MODEL_CONTEXT_LENGTH")),
        "{unknown:?}"
    );
    assert!(
        unknown.iter().any(|t| t.contains("OLLAMA_NUM_BATCH")),
        "{unknown:?}"
    );
    assert!(doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["id"] == "autocompact_ineffective"
            && f["title"].as_str().unwrap().contains("string")));
    assert_eq!(out.status.code(), Some(0), "warnings only");
    let (out, _) = doctor(home.path(), &env, &["--json", "--offline", "--strict"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn ollama_app_setting_is_read_with_sqlite3() {
    let Some(sqlite) = support::tool("sqlite3") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".ollama")).unwrap();
    let db = home.path().join(".ollama/db.sqlite");
    let st = std::process::Command::new(sqlite)
        .arg(&db)
        .arg("CREATE TABLE settings (id INTEGER PRIMARY KEY, context_length INTEGER NOT NULL DEFAULT 0, expose INTEGER NOT NULL DEFAULT 0); INSERT INTO settings VALUES (1, 8192, 1);")
        .status()
        .unwrap();
    assert!(st.success());
    let fake = FakeOllama::start(Scenario::new("0.30.0").model(FakeModel::llama("llama3:8b")));
    let (out, _) = doctor(
        home.path(),
        &[],
        &[
            "--json",
            "--server-only",
            "--host",
            &fake.base_url,
            "--model",
            "llama3:8b",
        ],
    );
    let doc = json(&out);
    assert_eq!(doc["facts"]["server_config"]["app_context_length"], 8192);
    assert!(finding(&doc, "ollama_app_context_override")["title"]
        .as_str()
        .unwrap()
        .contains("8192"));
    assert!(ids(&doc).contains(&"server_exposed".to_string()));
    // Not loaded: the context comes from the app setting.
    assert_eq!(doc["facts"]["model"]["served_context"], 8192);
    assert_eq!(doc["facts"]["model"]["served_context_source"], "server_env");
}

#[test]
fn usage_errors_exit_2() {
    let home = tempfile::tempdir().unwrap();
    let (out, _) = doctor(home.path(), &[], &["--timeout", "-1"]);
    assert_eq!(out.status.code(), Some(2));
    let (out, _) = doctor(home.path(), &[], &["--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    let (out, _) = doctor(home.path(), &[], &["--host", "http://"]);
    assert_eq!(out.status.code(), Some(2));
}
