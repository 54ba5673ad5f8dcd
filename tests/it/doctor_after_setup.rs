//! Journeys 9.3 and 9.9: after `cclocal setup`, a bare `cclocal doctor` diagnoses the
//! Claude Code the user starts (the launcher and its `--settings` file), checks the
//! configured server, and reports broken config files and a missing token in the summary.

use crate::support;

use serde_json::Value;
use support::fake_ollama::FakeOllama;
use support::report::{finding, ids};
use support::setup_home::TestHome;

fn setup(t: &TestHome, url: &str) {
    let o = t.run(&[
        "setup",
        "--yes",
        "--only",
        "launcher",
        "--model",
        "qwen3-coder:30b",
        "--ctx",
        "65536",
        "--claude-version",
        "2.1.332",
        "--host",
        url,
    ]);
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn doctor(t: &TestHome, args: &[&str]) -> (Value, String) {
    let bin = t.dir.path().join("bin");
    let run = |extra: &[&str]| {
        t.user_command(&bin, &["doctor"])
            .args(args)
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&["--json"]);
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let text = String::from_utf8_lossy(&run(&[]).stdout).into_owned();
    (doc, text)
}

#[test]
fn bare_doctor_after_setup_checks_what_the_launcher_starts() {
    let fake = FakeOllama::serving("qwen3-coder:30b", 65_536);
    let t = TestHome::new();
    support::fake_claude_version(&t.dir.path().join("bin"), "2.1.332");
    setup(&t, &fake.base_url);
    let (doc, text) = doctor(&t, &[]);
    let server = &doc["facts"]["server"];
    assert_eq!(server["url"], fake.base_url.as_str(), "{server:#}");
    assert_ne!(server["url_source"], "default");
    let claude = &doc["facts"]["claude"];
    let launcher = claude["launcher"]
        .as_str()
        .expect("the launcher is evaluated");
    assert!(launcher.ends_with("claude-local"), "{launcher}");
    assert_eq!(claude["model"], "qwen3-coder:30b");
    let src = claude["env_sources"]["CLAUDE_CODE_ATTRIBUTION_HEADER"]
        .as_str()
        .unwrap();
    assert!(src.contains("cclocal") || src.contains("launcher"), "{src}");
    assert!(
        doc["facts"]["model"].is_object(),
        "the model section is shown: {doc:#}"
    );
    let found = ids(&doc);
    for not in [
        "cache_buster",
        "context_mismatch",
        "model_missing",
        "auth_token_missing",
    ] {
        assert!(!found.contains(&not.to_string()), "{not} in {found:?}");
    }
    assert!(text.contains("started by the launcher"), "{text}");
    assert!(!text.contains("has not set this machine up"), "{text}");
}

#[test]
fn fixes_for_a_launcher_user_are_setup_commands() {
    let fake = FakeOllama::serving("qwen3-coder:30b", 32_768);
    let t = TestHome::new();
    support::fake_claude_version(&t.dir.path().join("bin"), "2.1.332");
    setup(&t, &fake.base_url);
    let (doc, _) = doctor(&t, &[]);
    let f = finding(&doc, "context_mismatch");
    let fix = f["fix"].as_str().unwrap();
    assert!(fix.starts_with("cclocal setup --ctx 32768"), "{fix}");
    assert!(!fix.contains("settings.json \"env\""), "{fix}");
}

#[test]
fn broken_config_files_and_a_missing_token_are_in_the_summary() {
    let fake = FakeOllama::serving("qwen3-coder:30b", 65_536);
    let t = TestHome::new();
    support::fake_claude_version(&t.dir.path().join("bin"), "2.1.332");
    std::fs::write(
        t.home().join(".claude.json"),
        "{\"hasCompletedOnboarding\": true,",
    )
    .unwrap();
    std::fs::create_dir_all(t.home().join(".claude")).unwrap();
    std::fs::write(
        t.home().join(".claude/settings.json"),
        format!(
            "{{\"env\": {{\"ANTHROPIC_BASE_URL\": \"{}\", \"ANTHROPIC_MODEL\": \"qwen3-coder:30b\"}}}}",
            fake.base_url
        ),
    )
    .unwrap();
    let (doc, text) = doctor(&t, &[]);
    let f = finding(&doc, "claude_config_unreadable");
    assert!(
        f["detail"].as_str().unwrap().contains(".claude.json"),
        "{f}"
    );
    finding(&doc, "auth_token_missing");
    // In the summary, without -v.
    assert!(text.contains("[claude_config_unreadable]"), "{text}");
    assert!(text.contains("[auth_token_missing]"), "{text}");
    assert!(text.contains("invalid JSON"), "{text}");
    assert!(text.contains("has not set this machine up yet"), "{text}");
}

#[test]
fn a_configured_llama_server_that_is_down_gets_a_llama_server_fix() {
    let t = TestHome::new();
    support::fake_claude_version(&t.dir.path().join("bin"), "2.1.332");
    let dir = t.home().join(".config/cclocal");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        r#"version = 1
target = "linux"
wrote = ["launcher"]
[server]
kind = "llama-server"
url = "http://127.0.0.1:1"
flash_attention = true
kv_cache_type = "q8_0"
keep_alive = ""
[model]
name = "x"
context = 32768
[claude]
version = "2.1.332"
launcher_name = "claude-local"
launcher_path = "/nonexistent/claude-local"
settings_path = "/nonexistent/s.json"
"#,
    )
    .unwrap();
    let (doc, text) = doctor(&t, &[]);
    assert_eq!(doc["facts"]["server"]["url_source"], "config.toml");
    let f = finding(&doc, "server_unreachable");
    assert!(f["fix"].as_str().unwrap().contains("llama-server"), "{f}");
    finding(&doc, "launcher_missing");
    assert!(!text.contains("Ollama service configuration"), "{text}");
    // setup ran: its findings name their own fixes, not "run setup".
    assert!(text.contains("Doctor found issues"), "{text}");
    assert!(!text.contains("has not set this machine up"), "{text}");
}

/// Issue 21: an unreadable settings.json is said once (its finding), not again among the
/// facts `doctor -v` lists.
#[test]
fn an_unreadable_settings_file_is_said_once() {
    let fake = FakeOllama::serving("qwen3-coder:30b", 65_536);
    let t = TestHome::new();
    support::fake_claude_version(&t.dir.path().join("bin"), "2.1.332");
    setup(&t, &fake.base_url);
    std::fs::create_dir_all(t.home().join(".claude")).unwrap();
    std::fs::write(t.home().join(".claude/settings.json"), "{\"env\": {").unwrap();
    let (_, text) = doctor(&t, &["-v"]);
    let n = text.matches(".claude/settings.json: invalid JSON").count();
    assert_eq!(n, 1, "{text}");
}
