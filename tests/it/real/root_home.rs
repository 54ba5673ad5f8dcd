//! Root on another user's HOME (issue 10.3, docs/safety.md): setup keeps every file the
//! user's, and the REAL Claude Code 2.1.332 run as that user still reads its config; the
//! user's own undo works on the state folder setup made.

use crate::safety::{args_with, home_with_user_files, json_file};
use crate::support;
use crate::support::setup_home::*;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

#[test]
fn root_on_another_users_home_keeps_owners_and_claude_code_still_reads_its_config() {
    // Issue 10.3: sudo with HOME kept made the user's files root-owned.
    if std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(1)
        != 0
    {
        eprintln!("skipping: needs root");
        return;
    }
    let user = format!("ccl{}", std::process::id() % 100000);
    let st = Command::new("useradd")
        .args(["-M", "-s", "/bin/sh", &user])
        .status();
    if !st.map(|s| s.success()).unwrap_or(false) {
        eprintln!("skipping: useradd failed");
        return;
    }
    struct Del(String);
    impl Drop for Del {
        fn drop(&mut self) {
            let _ = Command::new("userdel").arg(&self.0).status();
        }
    }
    let _del = Del(user.clone());
    let t = TestHome::new();
    home_with_user_files(&t);
    let st = Command::new("chown")
        .args(["-R", &format!("{user}:{user}")])
        .arg(t.home())
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::set_permissions(t.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let uid = std::fs::metadata(t.home()).unwrap().uid();
    let fake = support::fake_ollama::FakeOllama::start(
        support::fake_ollama::Scenario::new("0.30.0")
            .model(support::fake_ollama::FakeModel::llama("qwen3-coder:30b")),
    );
    let args = args_with(&t, "--host", &fake.base_url);
    let o = t.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", text(&o));
    // Every file and folder under HOME is the user's, modes kept.
    for (k, (_, mode, _)) in tree(&t.home()) {
        let p = t.home().join(&k);
        let m = std::fs::symlink_metadata(&p).unwrap();
        assert_eq!(m.uid(), uid, "{k} is owned by {} (mode {mode:o})", m.uid());
    }
    assert_eq!(
        std::fs::metadata(t.home().join(".claude.json"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let as_user = |prog: &Path, a: &[&str]| {
        let mut c = Command::new("setpriv");
        c.args([
            format!("--reuid={uid}"),
            format!("--regid={uid}"),
            "--clear-groups".into(),
        ])
        .arg(prog)
        .args(a)
        .env_clear()
        .env("HOME", t.home())
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .current_dir(t.home());
        c
    };
    // The real Claude Code, run as the user, reads its config (and keeps it).
    if let Some(claude) = support::claude_bin("2.1.332") {
        let mut c = as_user(&t.home().join(".local/bin/claude-local"), &["-p", "hi"]);
        let dir = claude.parent().unwrap().display().to_string();
        c.env("PATH", format!("{dir}:/usr/local/bin:/usr/bin:/bin"));
        let out = support::run_to_end(c);
        assert!(
            !fake.requests().is_empty(),
            "Claude Code ran as the user and reached the server: {out}"
        );
        let v = json_file(&t.home().join(".claude.json"));
        assert_eq!(v["hasCompletedOnboarding"], true, "{out}");
        assert_eq!(
            v["projects"].as_object().map(|p| p.len()),
            Some(150),
            "Claude Code kept the user's config: {out}"
        );
    }
    // The user's own undo works on the state folder setup made.
    let o = as_user(Path::new(env!("CARGO_BIN_EXE_cclocal")), &["undo"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let v = json_file(&t.home().join(".claude.json"));
    assert!(v.get("hasCompletedOnboarding").is_none());
}
