//! The version table, run: every JavaScript Claude Code build `scripts/install-test-deps.sh`
//! installs from npm (2.1.42 … 2.1.112, the first and last build of each family the table
//! names for them) against one fake Ollama per build, on loopback.
//!
//! For each build:
//! - the variables the table says the family reads or ignores, from the shell and from a
//!   `--settings` file: the `autocompact: … threshold=N effectiveWindow=M` line it logs
//!   equals `claude::compute_window` for that version;
//! - `cclocal setup` in a scratch HOME, with the build installed (setup detects it), for
//!   served contexts of 32K and 64K: the launcher writes no variable the build ignores, and
//!   the threshold it logs through the launcher equals the plan's and fits the context with
//!   room for a reply.
//!
//! And the doctor's fix for a build that honours only the percentage works as printed.

use crate::support;
use crate::support::setup_home::{text, TestHome};

use cclocal::claude::{compute_window, gate_for, EnvMap, Version};
use cclocal::doctor::{self, Options};
use cclocal::planner::{advise_version, obeys};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::fake_ollama::{FakeModel, FakeOllama, Loaded, Scenario};

const MODEL: &str = "qwen3-coder:30b";

fn env(pairs: &[(&str, &str)]) -> EnvMap {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn fake(ctx: u64) -> FakeOllama {
    FakeOllama::start(
        Scenario::new("0.30.0")
            .model(FakeModel::llama(MODEL))
            .loaded(Loaded::new(MODEL, ctx)),
    )
}

/// `claude -p hi` of the real build in a scratch HOME with `shell` (and `--settings FILE`),
/// against `base_url`; the `(threshold, effectiveWindow)` it logs.
fn run_direct(
    real: &Path,
    base_url: &str,
    shell: &EnvMap,
    settings: Option<&EnvMap>,
) -> (i64, u64) {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join(".claude.json"),
        r#"{"hasCompletedOnboarding":true}"#,
    )
    .unwrap();
    let log = home.path().join("debug.txt");
    let mut c = Command::new(real);
    c.env_clear()
        .env("HOME", home.path())
        .env("PATH", "/usr/bin:/bin")
        .env("ANTHROPIC_BASE_URL", base_url)
        .env("ANTHROPIC_AUTH_TOKEN", "x")
        .env("ANTHROPIC_MODEL", MODEL)
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .envs(shell)
        .current_dir(home.path())
        .args(["-p", "hi", "--debug-file"])
        .arg(&log);
    if let Some(s) = settings {
        let file = home.path().join("settings.json");
        std::fs::write(&file, serde_json::json!({ "env": s }).to_string()).unwrap();
        c.arg("--settings").arg(&file);
    }
    let output = support::run_to_end(c);
    logged(&log, &output)
}

fn logged(log: &Path, output: &str) -> (i64, u64) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    support::logged_threshold(&text).unwrap_or_else(|| {
        panic!(
            "no autocompact threshold line; output: {output}\nlog tail: {}",
            &text[text.len().saturating_sub(3000)..]
        )
    })
}

fn predicted(v: Version, e: &EnvMap) -> (i64, u64) {
    let c = compute_window(v, MODEL, e);
    (c.autocompact_threshold, c.effective_window)
}

/// `cclocal setup` (launcher and onboarding) for `ctx` tokens against `base_url` with the
/// real build as the `claude` on PATH, so setup detects its version; the home and `bin`.
fn set_up(real: &Path, ctx: u64, base_url: &str) -> (TestHome, PathBuf) {
    let t = TestHome::new();
    let bin = t.claude_bin_dir(real);
    let ctx = ctx.to_string();
    let o = t
        .command(&[
            "setup",
            "--yes",
            "--only",
            "launcher,onboarding",
            "--model",
            MODEL,
            "--ctx",
            &ctx,
            "--host",
            base_url,
        ])
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    (t, bin)
}

/// The environment the launcher's `--settings` file gives Claude Code.
fn launcher_settings(t: &TestHome) -> EnvMap {
    let p = t.home().join(".config/cclocal/claude-settings.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    v["env"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

/// The finding ids of `cclocal doctor --json` or `cclocal status --json` in `t`'s HOME, with
/// `bin` (the real build) on PATH and no Claude variables in the environment.
fn finding_ids(t: &TestHome, bin: &Path, cmd: &str) -> Vec<String> {
    // A generous budget: a JavaScript build answers `--version` in about 2 s when the
    // machine is busy.
    let out = t
        .user_command(bin, &[cmd, "--json", "--timeout", "30"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{cmd}: {e}: {}", String::from_utf8_lossy(&out.stdout)));
    doc["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("{cmd}: {doc}"))
        .iter()
        .map(|f| f["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn check_build(version: &str) {
    let Some(real) = support::claude_bin(version) else {
        return;
    };
    let v: Version = version.parse().unwrap();
    let server = fake(65_536);
    let url = server.base_url.as_str();

    // What the table says this family reads, and ignores, from the shell.
    let cases = [
        env(&[]),
        env(&[("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE", "30")]),
        env(&[("CLAUDE_CODE_AUTO_COMPACT_WINDOW", "65536")]),
        env(&[("CLAUDE_CODE_MAX_CONTEXT_TOKENS", "65536")]),
        env(&[
            ("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE", "17.643"),
            ("CLAUDE_CODE_MAX_OUTPUT_TOKENS", "8192"),
        ]),
    ];
    for e in &cases {
        let got = run_direct(&real, url, e, None);
        assert_eq!(got, predicted(v, e), "{version}, shell {e:?}");
        eprintln!(
            "{version}: shell {e:?} -> threshold={} effectiveWindow={}",
            got.0, got.1
        );
    }
    // The same variables from a settings file's "env" (the launcher's route).
    let s = env(&[
        ("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE", "30"),
        ("CLAUDE_CODE_MAX_OUTPUT_TOKENS", "8192"),
        ("CLAUDE_CODE_AUTO_COMPACT_WINDOW", "150000"),
    ]);
    let got = run_direct(&real, url, &EnvMap::new(), Some(&s));
    assert_eq!(got, predicted(v, &s), "{version}, settings {s:?}");
    eprintln!(
        "{version}: settings {s:?} -> threshold={} effectiveWindow={}",
        got.0, got.1
    );

    // What setup writes for it, through the launcher.
    let gate = gate_for(v);
    for ctx in [32_768u64, 65_536] {
        let (t, bin) = set_up(&real, ctx, url);
        let written = launcher_settings(&t);
        for k in written.keys() {
            assert_ne!(
                gate.reads(k),
                Some(false),
                "{version}: setup wrote {k}, which it ignores"
            );
        }
        let plan = match advise_version(v, ctx, MODEL) {
            cclocal::planner::ClaudeAdvice::Settings { env, rec, .. } => {
                for (k, val) in &env {
                    assert_eq!(written.get(k), Some(val), "{version} {ctx}: {k}");
                }
                rec.calc
            }
            other => panic!("{version} {ctx}: {}", other.line()),
        };
        let log = t.dir.path().join("debug.txt");
        let mut cmd = t.launcher(&bin);
        cmd.args(["-p", "hi", "--debug-file"]).arg(&log);
        let output = support::run_to_end(cmd);
        let got = logged(&log, &output);
        eprintln!(
            "{version}: setup --ctx {ctx} -> threshold={} effectiveWindow={} ({})",
            got.0,
            got.1,
            cclocal::claude::env_line(&written)
                .split(' ')
                .filter(|kv| kv.contains("TOKENS") || kv.contains("WINDOW") || kv.contains("PCT"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert_eq!(
            got,
            (plan.autocompact_threshold, plan.effective_window),
            "{version} {ctx}: logged vs planned"
        );
        assert!(obeys(v, ctx, MODEL, &written), "{version} {ctx}");
        if ctx == 32_768 {
            // The doctor and status read the same launcher and agree with the plan.
            for cmd in ["doctor", "status"] {
                let ids = finding_ids(&t, &bin, cmd);
                for bad in [
                    "context_mismatch",
                    "unknown_env_var",
                    "autocompact_ineffective",
                ] {
                    assert!(!ids.iter().any(|i| i == bad), "{version} {cmd}: {ids:?}");
                }
            }
        }
        assert!(
            got.0 + plan.output_reserve as i64 + 13_000 <= ctx as i64,
            "{version} {ctx}: threshold {} leaves no room for a reply",
            got.0
        );
    }
}

/// One test per build: `family_2_1_42` …
macro_rules! builds {
    ($($name:ident => $v:literal),* $(,)?) => {
        $(#[test] fn $name() { check_build($v) })*
    };
}

builds! {
    family_2_1_42 => "2.1.42",
    family_2_1_69 => "2.1.69",
    family_2_1_74 => "2.1.74",
    family_2_1_75 => "2.1.75",
    family_2_1_88 => "2.1.88",
    family_2_1_89 => "2.1.89",
    family_2_1_100 => "2.1.100",
    family_2_1_111 => "2.1.111",
    family_2_1_112 => "2.1.112",
}

/// The doctor on 2.1.42 with a 32K server and the variables newer builds read: it says
/// the window variable is not read, its fix line is the percentage, and that line, set in
/// the shell as printed, makes the real build compact inside the served context; the
/// doctor then has nothing to say about the window.
#[test]
fn doctor_fix_for_a_percentage_build_works_as_printed() {
    const CTX: u64 = 32_768;
    let Some(real) = support::claude_bin("2.1.42") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(&real, bin.join("claude")).unwrap();
    std::fs::write(
        home.path().join(".claude.json"),
        r#"{"hasCompletedOnboarding":true}"#,
    )
    .unwrap();
    let server = fake(CTX);
    let base = env(&[
        ("ANTHROPIC_BASE_URL", &server.base_url),
        ("ANTHROPIC_AUTH_TOKEN", "x"),
        ("ANTHROPIC_MODEL", MODEL),
    ]);
    let opts = Options {
        service_probes: false,
        budget: Duration::from_secs(10),
        ..Options::default()
    };
    let mut shell = base.clone();
    shell.insert("CLAUDE_CODE_AUTO_COMPACT_WINDOW".into(), "32768".into());
    let report = doctor::diagnose(&opts, &support::host_env(home.path(), &bin, &shell));
    let ids: Vec<&str> = report.findings.iter().map(|(_, f)| f.id).collect();
    let unread = report
        .findings
        .iter()
        .find(|(_, f)| f.id == "unknown_env_var")
        .unwrap_or_else(|| panic!("{ids:?}"));
    assert!(
        unread.1.title.contains("CLAUDE_CODE_AUTO_COMPACT_WINDOW"),
        "{}",
        unread.1.title
    );
    let mismatch = report
        .findings
        .iter()
        .find(|(_, f)| f.id == "context_mismatch")
        .unwrap_or_else(|| panic!("{ids:?}"));
    let fix = mismatch.1.fix.clone();
    let vars = fix
        .split_once("\"env\"): ")
        .unwrap_or_else(|| panic!("{fix}"))
        .1;
    let printed: EnvMap = vars
        .split_whitespace()
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("K=V");
            (k.to_string(), v.to_string())
        })
        .collect();
    assert!(
        printed.contains_key("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE"),
        "{fix}"
    );
    assert!(
        !printed.contains_key("CLAUDE_CODE_AUTO_COMPACT_WINDOW"),
        "{fix}"
    );

    // As printed, in the shell: the build compacts inside the served context.
    let mut fixed = base.clone();
    fixed.extend(printed.clone());
    let got = run_direct(&real, &server.base_url, &printed, None);
    let v = Version(2, 1, 42);
    assert_eq!(got, predicted(v, &printed), "{fix}");
    let reserve = compute_window(v, MODEL, &printed).output_reserve as i64;
    assert!(got.0 + reserve + 13_000 <= CTX as i64, "{got:?} {fix}");
    eprintln!(
        "2.1.42 with the doctor's fix: threshold={} effectiveWindow={}",
        got.0, got.1
    );

    let report = doctor::diagnose(&opts, &support::host_env(home.path(), &bin, &fixed));
    assert!(
        report
            .findings
            .iter()
            .all(|(_, f)| f.id != "context_mismatch" && f.id != "unknown_env_var"),
        "{:?}",
        report.findings
    );
}

/// A JavaScript build can miss the doctor's budget for `claude --version`; the doctor then
/// reasons about the version `cclocal setup` planned for (config.toml), not the newest
/// known, so a launcher written for 2.1.42 (a percentage, no window variable) is not
/// reported as a context mismatch by the doctor or by status.
#[test]
fn a_slow_version_answer_falls_back_to_the_planned_version() {
    use std::os::unix::fs::PermissionsExt;
    let server = fake(32_768);
    let t = TestHome::new();
    let o = t.run(&[
        "setup",
        "--yes",
        "--only",
        "launcher,onboarding",
        "--model",
        MODEL,
        "--ctx",
        "32768",
        "--claude-version",
        "2.1.42",
        "--host",
        &server.base_url,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let bin = t.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let claude = bin.join("claude");
    std::fs::write(&claude, "#!/bin/sh\nsleep 8\necho '2.1.42 (Claude Code)'\n").unwrap();
    std::fs::set_permissions(&claude, std::fs::Permissions::from_mode(0o755)).unwrap();
    for cmd in ["doctor", "status"] {
        let mut c = t.command(&[cmd, "--json", "--timeout", "2"]);
        c.env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("CCLOCAL_DOCTOR_NO_SERVICE_PROBES", "1")
            .current_dir(t.home());
        let out = c.output().unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{cmd}: {e}: {}", String::from_utf8_lossy(&out.stdout)));
        let ids: Vec<&str> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["id"].as_str())
            .collect();
        assert!(!ids.contains(&"context_mismatch"), "{cmd}: {doc}");
    }
}
