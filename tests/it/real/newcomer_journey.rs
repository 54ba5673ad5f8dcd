//! A new user's whole journey, in one scratch HOME, against the fake Ollama and the real
//! Claude Code 2.1.332 from npm: `setup` → the launcher runs Claude Code → `plan` → `doctor`
//! → `logs` → `undo`. Each step must agree with the others: the same context, the same
//! Claude Code environment, the same window; the doctor clean after setup; undo clean after
//! Claude Code has rewritten `~/.claude.json`.
use crate::support;
use crate::support::report::json_of;
use crate::support::setup_home::*;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use support::fake_ollama::{FakeModel, FakeOllama, Loaded, Scenario};

const MODEL: &str = "qwen3-coder:30b";
const CTX: u64 = 65_536;

/// `cclocal ARGS` in the test HOME with `bin` (the real `claude`) first on PATH.
fn cclocal(t: &TestHome, bin: &Path, args: &[&str]) -> Output {
    t.command(args)
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
        )
        .env("CCLOCAL_DOCTOR_NO_SERVICE_PROBES", "1")
        .output()
        .unwrap()
}

fn ids(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["id"].as_str().unwrap_or("").to_string(),
                        f["severity"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn setup_launcher_claude_doctor_logs_undo_agree() {
    let Some(real) = support::claude_bin("2.1.332") else {
        return;
    };
    let fake = FakeOllama::start(
        Scenario::new("0.30.0")
            .model(FakeModel::llama(MODEL))
            .loaded(Loaded::new(MODEL, CTX)),
    );
    let t = TestHome::new();
    let bin = t.claude_bin_dir(&real);
    let ctx = CTX.to_string();
    let root = t.root().display().to_string();

    // 1. setup, the way the README says (Claude Code's version found on PATH).
    let o = cclocal(
        &t,
        &bin,
        &[
            "setup",
            "--yes",
            "--model",
            MODEL,
            "--ctx",
            &ctx,
            "--host",
            &fake.base_url,
            "--system-root",
            &root,
        ],
    );
    assert!(o.status.success(), "setup: {}", text(&o));
    let settings: Value = serde_json::from_slice(
        &std::fs::read(t.home().join(".config/cclocal/claude-settings.json")).unwrap(),
    )
    .unwrap();
    let written_env = settings["env"].as_object().expect("settings env").clone();

    // 2. plan prints exactly the Claude Code environment setup wrote, for the same context.
    let o = cclocal(
        &t,
        &bin,
        &[
            "plan",
            MODEL,
            "--ctx",
            &ctx,
            "--host",
            &fake.base_url,
            "--json",
        ],
    );
    assert!(o.status.success(), "plan: {}", text(&o));
    let plan = json_of("plan", &o);
    assert_eq!(plan["recommended"]["n_ctx"], CTX, "plan serves the --ctx");
    assert_eq!(plan["claude"]["served_context"], CTX, "plan: {plan}");
    let plan_env = plan["claude"]["env"].as_object().expect("plan env").clone();
    for (k, v) in &plan_env {
        assert_eq!(
            written_env.get(k),
            Some(v),
            "plan says {k}={v}, setup wrote {:?}",
            written_env.get(k)
        );
    }
    let planned_window = plan["claude"]["effective_window"].as_u64().unwrap();

    // 3. The launcher runs the real Claude Code, which uses the planned window.
    let log = t.dir.path().join("debug.txt");
    let mut cmd = Command::new(t.home().join(".local/bin/claude-local"));
    cmd.env_clear()
        .env("HOME", t.home())
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .current_dir(t.home())
        .args(["-p", "hi", "--debug-file"])
        .arg(&log);
    let output = support::run_to_end(cmd);
    let debug = std::fs::read_to_string(&log).unwrap_or_default();
    let logged = support::logged_effective_window(&debug)
        .unwrap_or_else(|| panic!("no window in Claude Code's log; output: {output}"));
    assert_eq!(logged, planned_window, "Claude Code's window vs the plan");
    let claude_json_after_run = std::fs::read_to_string(t.home().join(".claude.json")).unwrap();

    // 4. A bare doctor diagnoses what the user starts: the configured server, no findings
    //    about the things setup fixed, exit 0.
    let o = cclocal(&t, &bin, &["doctor", "--json"]);
    let report = json_of("doctor", &o);
    assert_eq!(
        report["facts"]["server"]["url"].as_str(),
        Some(fake.base_url.trim_end_matches('/')),
        "doctor checks the server setup configured: {}",
        report["facts"]["server"]
    );
    let found = ids(&report);
    for bad in [
        "context_mismatch",
        "cache_buster",
        "server_unreachable",
        "model_missing",
        "background_model_missing",
        "claude_config_invalid",
    ] {
        assert!(
            !found.iter().any(|(id, sev)| id == bad && sev != "ok"),
            "doctor after setup reports {bad}: {found:?}"
        );
    }
    assert!(
        !found.iter().any(|(_, s)| s == "error"),
        "doctor after setup has errors: {found:?}"
    );
    assert!(
        !report["facts"]["model"].is_null(),
        "doctor shows the model setup chose"
    );
    assert_eq!(o.status.code(), Some(0), "doctor exit code: {found:?}");

    // 5. logs: the session's window matches the server; nothing to fix.
    let log_s = log.display().to_string();
    let o = cclocal(
        &t,
        &bin,
        &["logs", &log_s, "--host", &fake.base_url, "--json"],
    );
    let analysis = json_of("logs", &o);
    let found = ids(&analysis);
    assert!(
        !found
            .iter()
            .any(|(id, sev)| id == "context_mismatch" && sev != "ok"),
        "logs after setup: {found:?}"
    );

    // 6. undo after Claude Code has rewritten ~/.claude.json: no --force needed, the launcher
    //    and settings go, Claude Code's own keys stay.
    let o = cclocal(&t, &bin, &["undo"]);
    assert!(o.status.success(), "undo: {}", text(&o));
    assert!(!t.home().join(".local/bin/claude-local").exists());
    assert!(!t
        .home()
        .join(".config/cclocal/claude-settings.json")
        .exists());
    let before: Value = serde_json::from_str(&claude_json_after_run).unwrap();
    let after: Value =
        serde_json::from_slice(&std::fs::read(t.home().join(".claude.json")).unwrap())
            .expect("~/.claude.json still valid JSON after undo");
    for (k, v) in before.as_object().unwrap() {
        if k == "hasCompletedOnboarding" {
            continue;
        }
        assert_eq!(after.get(k), Some(v), "undo lost Claude Code's key {k}");
    }
}
