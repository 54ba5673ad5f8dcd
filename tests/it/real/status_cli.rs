//! `cclocal status` with the REAL Claude Code 2.1.332 as `claude` on PATH (it reads the
//! installed version): before setup, after setup, and whether the server still matches.

use crate::support;
use crate::support::fake_ollama::{FakeOllama, Loaded};
use crate::support::setup_home::{text, TestHome};
use serde_json::Value;

fn set_up(h: &TestHome, fake: &FakeOllama) {
    let o = h.run(&[
        "setup",
        "--yes",
        "--model",
        "qwen3-coder:30b",
        "--ctx",
        "32K",
        "--claude-version",
        "2.1.332",
        "--host",
        &fake.base_url,
        "--system-root",
        h.root().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// A PATH with the real Claude Code 2.1.332 as `claude` (and node).
fn claude_path(h: &TestHome) -> Option<String> {
    let real = support::claude_bin("2.1.332")?;
    let bin = h.dir.path().join("bin");
    if !bin.exists() {
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(real, bin.join("claude")).unwrap();
    }
    Some(format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()))
}

fn status(h: &TestHome, args: &[&str]) -> (Option<i32>, Value, String) {
    let path = claude_path(h).unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    let mut a = vec!["status", "--json"];
    a.extend_from_slice(args);
    let o = h
        .command(&a)
        .env("CCLOCAL_DOCTOR_NO_SERVICE_PROBES", "1")
        .env("PATH", &path)
        .output()
        .unwrap();
    let v: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    let mut b = vec!["status"];
    b.extend_from_slice(args);
    let human = h
        .command(&b)
        .env("CCLOCAL_DOCTOR_NO_SERVICE_PROBES", "1")
        .env("PATH", &path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (o.status.code(), v, text(&human))
}

#[test]
fn status_before_setup_says_so() {
    let h = TestHome::new();
    let (code, v, human) = status(&h, &[]);
    assert_eq!(code, Some(0));
    assert_eq!(v["configured"], Value::Null);
    assert_eq!(v["findings"][0]["id"], "not_set_up");
    assert!(human.contains("Not set up"), "{human}");
    let (code, _, _) = status(&h, &["--strict"]);
    assert_eq!(code, Some(1));
}

#[test]
fn status_shows_the_setup_and_whether_the_server_still_matches() {
    let h = TestHome::new();
    if claude_path(&h).is_none() {
        return;
    }
    let fake = FakeOllama::serving("qwen3-coder:30b", 32_768);
    set_up(&h, &fake);
    let (code, v, human) = status(&h, &[]);
    assert_eq!(v["configured"]["model"]["name"], "qwen3-coder:30b");
    assert_eq!(v["configured"]["model"]["context"], 32768);
    assert!(
        v["last_run"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["present"] == true),
        "{v}"
    );
    let compared = v["compared"].to_string();
    assert!(compared.contains("served context"), "{v}");
    assert!(compared.contains("Claude Code version"), "{v}");
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"setup_drift"), "{v}");
    assert_eq!(code, Some(0), "{human}");
    assert!(human.contains("[✓] the served context"), "{human}");
    assert!(
        human.contains("qwen3-coder:30b, context 32768 tokens"),
        "{human}"
    );
    // Nothing it could not compare is marked ✓.
    for l in human.lines().filter(|l| l.contains("not compared")) {
        assert!(!l.contains('✓'), "{l}");
    }

    // The server now serves a smaller context: setup_drift, exit 1 with --strict.
    fake.update(|s| s.loaded = vec![Loaded::new("qwen3-coder:30b", 8192)]);
    let (_, v, human) = status(&h, &["--strict"]);
    let drift = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "setup_drift")
        .unwrap_or_else(|| panic!("{v}"));
    assert!(drift["detail"].as_str().unwrap().contains("8192"), "{v}");
    // The launcher's Claude Code now plans with more than the server holds: the doctor's
    // context_mismatch (an error) is part of the status too.
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "context_mismatch" && f["severity"] == "error"),
        "{v}"
    );
    assert!(human.contains("[!]"), "{human}");
    assert!(!human.contains("[✓] the served context"), "{human}");

    // A file of the run removed: shown as missing.
    let launcher = h.home().join(".local/bin/claude-local");
    std::fs::remove_file(&launcher).unwrap();
    let (_, v, human) = status(&h, &[]);
    let files = v["last_run"]["files"].as_array().unwrap();
    assert!(files
        .iter()
        .any(|f| f["present"] == false && f["path"].as_str().unwrap().ends_with("claude-local")));
    assert!(
        human.contains("claude-local (") && human.contains(": missing"),
        "{human}"
    );

    // The server gone: an error finding, exit 1.
    drop(fake);
    let (code, v, _) = status(&h, &[]);
    assert_eq!(code, Some(1), "{v}");
}
