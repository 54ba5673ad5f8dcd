//! Issue 20, Claude Code's own lock on `~/.claude.json`, against the REAL Claude Code
//! 2.1.332 and 2.1.197: it sees cclocal's lock as its own, and its writes while setup and
//! undo run lose no key (the other write races are in `write_races`).
use crate::safety::{json_file, spawn_paused, temps_in};
use crate::support;
use crate::support::setup_home::*;

use std::path::Path;
use std::process::Command;

/// A `bin` folder with the real `claude`, and a fake Ollama for it to talk to.
fn real_claude_home(
    real: &Path,
) -> (
    TestHome,
    std::path::PathBuf,
    support::fake_ollama::FakeOllama,
) {
    use support::fake_ollama::FakeOllama;
    let fake = FakeOllama::serving("qwen3-coder:30b", 65_536);
    let t = TestHome::new();
    let bin = t.claude_bin_dir(real);
    std::fs::write(
        t.home().join(".claude.json"),
        "{\n  \"mine\": \"the user's own key\"\n}\n",
    )
    .unwrap();
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
        &fake.base_url,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    (t, bin, fake)
}

fn onboarding_setup(t: &TestHome, fake: &str) -> Command {
    t.command(&[
        "setup",
        "--yes",
        "--only",
        "launcher,onboarding",
        "--model",
        "qwen3-coder:30b",
        "--ctx",
        "65536",
        "--claude-version",
        "2.1.332",
        "--host",
        fake,
    ])
}

/// Runs the real Claude Code once (`-p`) from `dir`, which it records under `projects`.
fn run_claude(t: &TestHome, bin: &Path, dir: &Path, debug: Option<&Path>) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let mut c = t.launcher(bin);
    c.current_dir(dir).args(["-p", "hi"]);
    if let Some(d) = debug {
        c.arg("--debug-file").arg(d);
    }
    support::run_to_end(c)
}

#[test]
fn real_claude_code_sees_cclocals_lock_as_its_own() {
    // cclocal holds the lock (paused right after taking it) while the real Claude Code
    // (2.1.332, and 2.1.197) runs to its end: Claude Code finds the lock held, as its debug
    // log says, and its write is kept; cclocal then adds its key to what Claude Code wrote.
    for version in ["2.1.332", "2.1.197"] {
        let Some(real) = support::claude_bin(version) else {
            return;
        };
        let (t, bin, fake) = real_claude_home(&real);
        let cj = t.home().join(".claude.json");
        let resume = t.dir.path().join("resume");
        // The launcher is in place already, so ~/.claude.json is the run's first file.
        let child = spawn_paused(
            onboarding_setup(&t, &fake.base_url),
            "setup:locked-0",
            Some(&resume),
        );
        assert!(t.home().join(".claude.json.lock").is_dir());
        let log = t.dir.path().join("claude-debug.txt");
        let project = t.dir.path().join("project-held");
        let out = run_claude(&t, &bin, &project, Some(&log));
        let dbg = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            dbg.contains("Lock file is already being held"),
            "{version}: Claude Code did not see cclocal's lock: {out}\n{}",
            &dbg[dbg.len().saturating_sub(3000)..]
        );
        std::fs::write(&resume, "").unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{version}");
        let v = json_file(&cj);
        assert_eq!(v["hasCompletedOnboarding"], true, "{version}: {v}");
        assert_eq!(v["mine"], "the user's own key", "{version}");
        assert!(
            v["firstStartTime"].is_string(),
            "{version}: Claude Code's write: {v}"
        );
        assert!(!t.home().join(".claude.json.lock").exists(), "{version}");
    }
}

#[test]
fn real_claude_code_writing_while_setup_and_undo_run_loses_no_key() {
    // The real Claude Code 2.1.332 runs again and again (each run rewrites ~/.claude.json
    // several times, under its lock) while setup and undo add and remove their one key.
    // Right after every setup its key is there; every key Claude Code ever wrote is there at
    // the end, with the value it keeps (its `userID`, made once: a write of Claude Code's
    // that was lost would make it choose a new one); the user's own key stays.
    let Some(real) = support::claude_bin("2.1.332") else {
        return;
    };
    let (t, bin, fake) = real_claude_home(&real);
    let cj = t.home().join(".claude.json");
    let runs = 6;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let claude = {
        let (dir, bin, done) = (t.dir.path().to_path_buf(), bin.clone(), done.clone());
        let launcher = t.home().join(".local/bin/claude-local");
        let (home, cj) = (t.home(), cj.clone());
        std::thread::spawn(move || {
            let mut seen: Vec<serde_json::Value> = Vec::new();
            for _ in 0..runs {
                let mut c = Command::new(&launcher);
                c.env_clear()
                    .env("HOME", &home)
                    .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
                    .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
                    .current_dir(&dir)
                    .args(["-p", "hi"]);
                support::run_to_end(c);
                seen.push(json_file(&cj));
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            seen
        })
    };
    let mut pairs = 0;
    while !done.load(std::sync::atomic::Ordering::SeqCst) {
        let o = onboarding_setup(&t, &fake.base_url).output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let v = json_file(&cj);
        assert_eq!(
            v["hasCompletedOnboarding"], true,
            "setup's key was lost right after it: {v}"
        );
        let o = t.run(&["undo"]);
        assert!(o.status.success(), "{}", text(&o));
        pairs += 1;
    }
    let seen = claude.join().unwrap();
    let v = json_file(&cj);
    let first_id = seen
        .iter()
        .find_map(|s| s["userID"].as_str().map(String::from))
        .expect("Claude Code wrote its userID");
    assert_eq!(
        v["userID"].as_str(),
        Some(first_id.as_str()),
        "Claude Code's userID changed: one of its writes was lost ({pairs} setup/undo pairs)"
    );
    for s in &seen {
        for k in s.as_object().unwrap().keys() {
            if k != "hasCompletedOnboarding" {
                assert!(v.get(k).is_some(), "Claude Code's key {k} was lost: {v}");
            }
        }
    }
    assert_eq!(v["mine"], "the user's own key");
    assert!(
        v.get("hasCompletedOnboarding").is_none(),
        "undo came last: {v}"
    );
    assert!(pairs >= 1);
    assert!(temps_in(t.dir.path()).is_empty());
    assert!(!t.home().join(".claude.json.lock").exists());
}
