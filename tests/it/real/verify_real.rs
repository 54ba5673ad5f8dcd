//! `cclocal verify` against real Claude Code builds from npm: after a real `setup` in a
//! scratch HOME (every part; the system drop-in under the test's root, so no service is
//! touched), the user's Claude Code, run the way the launcher runs it against verify's own
//! loopback stub, does what cclocal planned (every item ✓, exit 0); a typo in the user's
//! own `~/.claude/settings.json` that the launcher does not override is caught (✗, exit 1).
use crate::support;
use crate::support::setup_home::*;
use serde_json::Value;
use std::path::PathBuf;

const MODEL: &str = "qwen3-coder:30b";

/// The builds to run: 2.1.332, 2.1.197 and 2.1.121, one in each of the newest families of
/// the version table (scripts/install-test-deps.sh installs them).
fn builds() -> Vec<(&'static str, PathBuf)> {
    ["2.1.332", "2.1.197", "2.1.121"]
        .into_iter()
        .filter_map(|v| support::claude_bin(v).map(|p| (v, p)))
        .collect()
}

/// A scratch HOME with `bin/claude` → the real build, and `cclocal setup` applied for
/// `ctx` with that Claude Code installed (setup reads its version and puts its path in the
/// launcher).
fn set_up(real: &std::path::Path, ctx: u64, extra: &[&str]) -> (TestHome, PathBuf) {
    let t = TestHome::new();
    let bin = t.claude_bin_dir(real);
    let ctx = ctx.to_string();
    let root = t.root().display().to_string();
    let mut args = vec![
        "setup",
        "--yes",
        "--model",
        MODEL,
        "--ctx",
        &ctx,
        "--host",
        "http://127.0.0.1:9",
        "--system-root",
        &root,
    ];
    args.extend_from_slice(extra);
    let o = t
        .command(&args)
        .env("PATH", path_with(&bin))
        .output()
        .unwrap();
    assert!(o.status.success(), "setup: {}", text(&o));
    (t, bin)
}

fn path_with(bin: &std::path::Path) -> String {
    format!("{}:/usr/bin:/bin", bin.display())
}

fn verify(t: &TestHome, bin: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut a = vec!["verify"];
    a.extend_from_slice(args);
    t.command(&a).env("PATH", path_with(bin)).output().unwrap()
}

/// Every item of a `--json` report, `id → (mark, observed, planned)`.
fn items(j: &Value) -> Vec<(String, String, String, String)> {
    j["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["mark"].as_str().unwrap().to_string(),
                i["observed"].as_str().unwrap().to_string(),
                i["planned"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn verify_after_setup_matches_the_plan_on_real_builds() {
    for (v, real) in builds() {
        for ctx in [28_672u64, 32_768, 65_536, 131_072, 262_144] {
            let (t, bin) = set_up(&real, ctx, &["--no-verify"]);
            let started = std::time::Instant::now();
            let o = verify(&t, &bin, &["--json"]);
            let took = started.elapsed();
            let j: Value = serde_json::from_slice(&o.stdout)
                .unwrap_or_else(|e| panic!("{v} {ctx}: not JSON ({e}): {}", text(&o)));
            eprintln!("{v} ctx {ctx}: verify took {:.1} s", took.as_secs_f64());
            let its = items(&j);
            let bad: Vec<_> = its.iter().filter(|i| i.1 == "mismatch").collect();
            assert!(bad.is_empty(), "{v} {ctx}: {bad:#?}\n{}", text(&o));
            assert_eq!(o.status.code(), Some(0), "{v} {ctx}: {}", text(&o));
            // The JSON's shape.
            assert_eq!(j["ok"], true);
            assert_eq!(j["version"], v);
            assert!(j["table"].as_array().unwrap().is_empty());
            for id in [
                "version",
                "effective_window",
                "compaction",
                "fits_context",
                "main_model",
                "background_model",
                "unknown_model_warning",
                "onboarding",
                "max_tokens",
                "auth_headers",
                "outbound",
            ] {
                assert!(its.iter().any(|i| i.0 == id), "{v} {ctx}: no item {id}");
            }
            for i in &its {
                assert!(["ok", "mismatch", "note"].contains(&i.1.as_str()), "{i:?}");
            }
            let eff = j["expected"]["planned"]["effective_window"]
                .as_u64()
                .unwrap();
            let w = its.iter().find(|i| i.0 == "effective_window").unwrap();
            if j["expected"]["planned"]["proactive"] == true {
                assert_eq!(w.2, eff.to_string(), "{v} {ctx}: effectiveWindow as logged");
                let c = its.iter().find(|i| i.0 == "compaction").unwrap();
                assert!(c.2.starts_with("yes"), "{v} {ctx}: {c:?}");
            }
            assert_eq!(j["observed"]["runs"].as_array().unwrap().len(), 3);
            let main = its.iter().find(|i| i.0 == "main_model").unwrap();
            assert_eq!(main.2, MODEL);
            // Nothing but loopback, and verify's own session is gone again.
            let out = its.iter().find(|i| i.0 == "outbound").unwrap();
            assert_eq!(out.2, "none", "{v} {ctx}");
            let projects = t.home().join(".claude/projects");
            let left: Vec<_> = std::fs::read_dir(&projects)
                .map(|d| d.flatten().map(|e| e.file_name()).collect())
                .unwrap_or_default();
            assert!(left.is_empty(), "{v} {ctx}: sessions left behind: {left:?}");
            // doctor shows the result and its age.
            let d = t
                .command(&["doctor", "--offline"])
                .env("PATH", path_with(&bin))
                .output()
                .unwrap();
            let dt = text(&d);
            assert!(
                dt.contains("verify") && dt.contains("ago"),
                "{v}: doctor: {dt}"
            );
        }
    }
}

/// `"CLAUDE_AUTOCOMPACT_PCT_OVERRIDE": "5O"` (50 typed with a letter O) in the user's own
/// settings: the launcher does not set that variable, so it reaches Claude Code, which reads
/// it as 5 % and compacts far too early. verify says so and exits 1.
#[test]
fn a_typo_in_the_users_settings_is_caught() {
    for (v, real) in builds().into_iter().take(2) {
        let (t, bin) = set_up(&real, 65_536, &["--no-verify"]);
        let dir = t.home().join(".claude");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("settings.json"),
            r#"{"env":{"CLAUDE_AUTOCOMPACT_PCT_OVERRIDE":"5O"}}"#,
        )
        .unwrap();
        let o = verify(&t, &bin, &[]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{v}: {out}");
        assert!(out.contains("[✗]"), "{v}: {out}");
        assert!(
            out.contains("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE=5O")
                && out.contains(".claude/settings.json"),
            "{v}: the cause names the variable and the file: {out}"
        );
    }
}

/// setup runs verify at the end when Claude Code is installed, and says so.
#[test]
fn setup_ends_with_verify() {
    let Some(real) = support::claude_bin("2.1.332") else {
        return;
    };
    let t = TestHome::new();
    let bin = t.claude_bin_dir(&real);
    let root = t.root().display().to_string();
    let o = t
        .command(&[
            "setup",
            "--yes",
            "--model",
            MODEL,
            "--ctx",
            "32K",
            "--host",
            "http://127.0.0.1:9",
            "--system-root",
            &root,
        ])
        .env("PATH", path_with(&bin))
        .output()
        .unwrap();
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("[✓] effectiveWindow: 28672"), "{out}");
    assert!(out.contains("every observation matches the plan"), "{out}");
}

/// Usage errors exit 2; no Claude Code is a clear error (exit 1), nothing written.
#[test]
fn usage_and_missing_claude() {
    let t = TestHome::new();
    let o = t.run(&["verify", "--timeout", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = t.run(&["verify", "--bogus"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = t.run(&["verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("Claude Code is not installed"),
        "{}",
        text(&o)
    );
}

/// A build the version table has not seen run (`claude-2.1.42` in the test dependencies,
/// the blog's build; skipped where it is not installed): setup plans from the table, its
/// last step runs verify, and where the build does not use the window the table says, setup
/// writes what the observation requires and verifies again. Either way the end is a Claude
/// Code that compacts within the served context.
#[test]
fn setup_acts_on_what_an_unrun_build_does() {
    let real = support::deps_dir().join("claude-2.1.42/node_modules/.bin/claude");
    if !real.exists() {
        eprintln!("skipping: Claude Code 2.1.42 is not in the test dependencies");
        return;
    }
    let t = TestHome::new();
    let bin = t.claude_bin_dir(&real);
    let root = t.root().display().to_string();
    let o = t
        .command(&[
            "setup",
            "--yes",
            "--model",
            MODEL,
            "--ctx",
            "64K",
            "--host",
            "http://127.0.0.1:9",
            "--system-root",
            &root,
        ])
        .env("PATH", path_with(&bin))
        .output()
        .unwrap();
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    let last = out.rsplit("cclocal verify: ").next().unwrap();
    assert!(
        last.contains("[✓] compacts within the served context"),
        "{out}"
    );
    assert!(last.contains("[✓] compacts past the threshold"), "{out}");
    if out.contains("table: the row") {
        assert!(out.contains("the observed value wins"), "{out}");
        let settings =
            std::fs::read_to_string(t.home().join(".config/cclocal/claude-settings.json")).unwrap();
        assert!(
            settings.contains("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE"),
            "{settings}"
        );
        // `cclocal undo` takes the observed settings back first.
        let u = t.run(&["undo"]);
        assert!(u.status.success(), "{}", text(&u));
        let settings =
            std::fs::read_to_string(t.home().join(".config/cclocal/claude-settings.json")).unwrap();
        assert!(
            !settings.contains("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE"),
            "{settings}"
        );
    }
}

/// Without a launcher, verify runs the `claude` on PATH with the environment the user gives
/// it: the settings-file route (`~/.claude/settings.json` `env`) and the shell route (the
/// variables exported), each with the settings `cclocal plan` prints for 2.1.332.
#[test]
fn verify_without_a_launcher_follows_the_settings_file_and_the_shell() {
    use cclocal::claude::{recommend, Version};
    let Some(real) = support::claude_bin("2.1.332") else {
        return;
    };
    let rec = recommend(Version(2, 1, 332), 65_536, MODEL);
    let mut env: Vec<(String, String)> = rec.env.clone().into_iter().collect();
    env.push(("ANTHROPIC_BASE_URL".into(), "http://127.0.0.1:9".into()));
    env.push(("ANTHROPIC_AUTH_TOKEN".into(), "local".into()));
    env.push(("ANTHROPIC_MODEL".into(), MODEL.into()));
    for route in ["settings file", "shell"] {
        let t = TestHome::new();
        let bin = t.claude_bin_dir(&real);
        std::fs::write(
            t.home().join(".claude.json"),
            r#"{"hasCompletedOnboarding": true}"#,
        )
        .unwrap();
        let mut cmd = t.command(&["verify", "--json"]);
        cmd.env("PATH", path_with(&bin));
        if route == "shell" {
            cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        } else {
            let obj: serde_json::Map<String, Value> = env
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            std::fs::create_dir_all(t.home().join(".claude")).unwrap();
            std::fs::write(
                t.home().join(".claude/settings.json"),
                serde_json::to_string(&serde_json::json!({ "env": obj })).unwrap(),
            )
            .unwrap();
        }
        let o = cmd.output().unwrap();
        let j: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{route}: not JSON ({e}): {}", text(&o)));
        let its = items(&j);
        let bad: Vec<_> = its.iter().filter(|i| i.1 == "mismatch").collect();
        assert!(bad.is_empty(), "{route}: {bad:#?}");
        assert_eq!(o.status.code(), Some(0), "{route}");
        assert!(j["launcher"].is_null(), "{route}");
        let w = its.iter().find(|i| i.0 == "effective_window").unwrap();
        assert_eq!(w.2, rec.calc.effective_window.to_string(), "{route}");
        let m = its.iter().find(|i| i.0 == "main_model").unwrap();
        assert_eq!(m.2, MODEL, "{route}");
    }
}
