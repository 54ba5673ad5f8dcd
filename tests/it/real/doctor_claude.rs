//! The doctor against the real Claude Code from npm (2.1.197 and 2.1.332): version
//! detection through the doctor's probe, and one `claude -p` run per version against the
//! fake Ollama server proving that the effective window the doctor predicts is the one
//! Claude Code logs (`autocompact: … effectiveWindow=N`). Scratch HOME, cleared env.

use crate::support;

use cclocal::claude::EnvMap;
use cclocal::doctor::{self, Options};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::fake_ollama::{FakeModel, FakeOllama, Loaded, Scenario};

const MODEL: &str = "qwen3-coder:30b";

/// A bin dir holding `claude` → the real build, and a scratch HOME.
fn setup(real: &Path) -> (tempfile::TempDir, PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(real, bin.join("claude")).unwrap();
    (home, bin)
}

fn window_env(version: &str) -> EnvMap {
    // What the doctor's fix sets: the served context as the window, a smaller output
    // reserve, and (for 2.1.153–2.1.222) a window source so compaction is proactive.
    let mut e = EnvMap::new();
    e.insert("CLAUDE_CODE_MAX_CONTEXT_TOKENS".into(), "65536".into());
    e.insert("CLAUDE_CODE_MAX_OUTPUT_TOKENS".into(), "8192".into());
    if version == "2.1.197" {
        e.insert("CLAUDE_CODE_AUTO_COMPACT_WINDOW".into(), "100000".into());
    }
    e
}

#[test]
fn version_detection_through_the_probe() {
    for v in ["2.1.197", "2.1.332"] {
        let Some(real) = support::claude_bin(v) else {
            return;
        };
        let (home, bin) = setup(&real);
        let opts = Options {
            offline: true,
            service_probes: false,
            budget: Duration::from_secs(10),
            ..Options::default()
        };
        let report = doctor::diagnose(&opts, &support::host_env(home.path(), &bin, &EnvMap::new()));
        let c = report.facts.claude.expect("claude facts");
        assert_eq!(c.version.map(|x| x.to_string()).as_deref(), Some(v));
        assert_eq!(
            c.path.as_deref(),
            Some(bin.join("claude").to_str().unwrap())
        );
    }
}

fn run_claude(real: &Path, home: &Path, base_url: &str, env: &EnvMap, log: &Path) -> String {
    let mut c = Command::new(real);
    c.env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .env("ANTHROPIC_BASE_URL", base_url)
        .env("ANTHROPIC_AUTH_TOKEN", "x")
        .env("ANTHROPIC_MODEL", MODEL)
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .envs(env)
        .current_dir(home)
        .args(["-p", "hi", "--debug-file"])
        .arg(log);
    support::run_to_end(c)
}

#[test]
fn predicted_window_is_the_logged_one() {
    for v in ["2.1.197", "2.1.332"] {
        let Some(real) = support::claude_bin(v) else {
            return;
        };
        let (home, bin) = setup(&real);
        let fake = FakeOllama::start(
            Scenario::new("0.30.0")
                .model(FakeModel::llama(MODEL))
                .loaded(Loaded::new(MODEL, 65_536)),
        );
        let env = window_env(v);
        let mut doctor_env = env.clone();
        doctor_env.insert("ANTHROPIC_BASE_URL".into(), fake.base_url.clone());
        doctor_env.insert("ANTHROPIC_AUTH_TOKEN".into(), "x".into());
        doctor_env.insert("ANTHROPIC_MODEL".into(), MODEL.into());
        let opts = Options {
            service_probes: false,
            budget: Duration::from_secs(10),
            ..Options::default()
        };
        let report = doctor::diagnose(&opts, &support::host_env(home.path(), &bin, &doctor_env));
        assert_eq!(
            report
                .facts
                .claude
                .as_ref()
                .and_then(|c| c.version)
                .map(|x| x.to_string())
                .as_deref(),
            Some(v)
        );
        let calc = doctor::rules::window(&report.facts).expect("a window");
        assert!(
            report
                .findings
                .iter()
                .all(|(_, f)| f.id != "context_mismatch"),
            "{v}: {:?}",
            report.findings
        );

        let log_path = home.path().join("debug.txt");
        let output = run_claude(&real, home.path(), &fake.base_url, &env, &log_path);
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let logged = support::logged_effective_window(&log).unwrap_or_else(|| {
            panic!(
                "{v}: no autocompact line; output: {output}\nlog tail: {}",
                &log[log.len().saturating_sub(3000)..]
            )
        });
        assert_eq!(
            logged, calc.effective_window,
            "{v}: doctor predicted {}, Claude Code logged {logged}",
            calc.effective_window
        );
        assert!(fake
            .requests()
            .iter()
            .any(|r| r.route() == "/v1/messages" && r.json().is_some_and(|j| j["model"] == MODEL)));
    }
}
