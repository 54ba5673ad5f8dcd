//! Issue 20, "Claude Code's own lock, and the remaining write races": Claude Code's lock on
//! `~/.claude.json` (against the real Claude Code: `real::write_races`), hard-linked
//! files written through one checked descriptor with their space reserved, a missing
//! `~/.claude.json` created without replacing one that appeared, every server kind under
//! the same session, true messages after a full disk, undo never deleting a file cclocal
//! did not write, pruning that keeps every run undoable, what interrupted runs leave, and
//! read-only files.
use crate::safety::{
    fill, home_with_user_files, json_file, kill9, mount_tmpfs, spawn_paused, spawn_paused_log,
    temps_in, Unmount, ONLY,
};
use crate::support::setup_home::*;

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

fn setup_cmd(t: &TestHome, extra: &[&str]) -> Command {
    let a = t.setup_args(extra);
    t.command(&a.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn claude_codes_lock_is_waited_for_and_a_stale_one_taken_over() {
    let t = TestHome::new();
    home_with_user_files(&t);
    let cj = t.home().join(".claude.json");
    let lock = t.home().join(".claude.json.lock");
    let before = std::fs::read(&cj).unwrap();
    // A Claude Code holding its lock (a fresh `mkdir ~/.claude.json.lock`): cclocal waits,
    // then stops without touching the file, and puts back what it already replaced.
    std::fs::create_dir(&lock).unwrap();
    let o = setup_cmd(&t, ONLY)
        .env("CCLOCAL_CLAUDE_LOCK_WAIT_SECS", "1")
        .output()
        .unwrap();
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(
        out.contains("Claude Code held its lock") && out.contains(".claude.json.lock"),
        "{out}"
    );
    assert_eq!(std::fs::read(&cj).unwrap(), before, "{out}");
    assert!(!t.home().join(".local/bin/claude-local").exists(), "{out}");
    assert!(lock.is_dir(), "Claude Code's lock is left to it");
    // Released while cclocal waits: cclocal goes on.
    let child = setup_cmd(&t, ONLY)
        .env("CCLOCAL_CLAUDE_LOCK_WAIT_SECS", "60")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    std::fs::remove_dir(&lock).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(json_file(&cj)["hasCompletedOnboarding"], true);
    assert!(!lock.exists(), "cclocal released its lock");
    assert!(t.run(&["undo"]).status.success());
    // A lock left by a killed Claude Code (older than 10 s) is stale: taken over, as Claude
    // Code itself does.
    std::fs::create_dir(&lock).unwrap();
    std::fs::File::open(&lock)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(60))
        .unwrap();
    let o = setup_cmd(&t, ONLY)
        .env("CCLOCAL_CLAUDE_LOCK_WAIT_SECS", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(!lock.exists());
    assert!(temps_in(t.dir.path()).is_empty());
}

#[test]
fn a_hard_linked_claude_json_renamed_over_before_the_write_is_kept() {
    // R4: the file was opened again by path after the check, so a rename in between was
    // overwritten with an edit of the older content.
    let t = TestHome::new();
    home_with_user_files(&t);
    let cj = t.home().join(".claude.json");
    let twin = t.dir.path().join("dotfiles-claude.json");
    std::fs::hard_link(&cj, &twin).unwrap();
    let resume = t.dir.path().join("resume");
    let (child, log) = spawn_paused_log(setup_cmd(&t, ONLY), "setup:checked-2", Some(&resume));
    // A writer that takes no lock renames a new file over it after cclocal's check.
    let mut v = json_file(&cj);
    v["writtenByClaude"] = serde_json::json!(true);
    let tmp = t.home().join(".claude.json.new");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    std::fs::rename(&tmp, &cj).unwrap();
    std::fs::write(&resume, "").unwrap();
    let o = child.wait_with_output().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(o.status.success(), "{}", log.lock().unwrap());
    let v = json_file(&cj);
    assert_eq!(v["writtenByClaude"], true, "the rename was lost: {v}");
    assert_eq!(v["hasCompletedOnboarding"], true, "{v}");
}

#[test]
fn a_missing_claude_json_created_meanwhile_is_edited_not_replaced() {
    // R5: cclocal created the missing file with a plain rename, replacing one Claude Code
    // had created in the gap (its login with it).
    let t = TestHome::new();
    let cj = t.home().join(".claude.json");
    let resume = t.dir.path().join("resume");
    let (child, log) = spawn_paused_log(setup_cmd(&t, ONLY), "setup:checked-2", Some(&resume));
    std::fs::write(
        &cj,
        "{\n  \"oauthAccount\": {\"emailAddress\": \"someone@example.com\"}\n}\n",
    )
    .unwrap();
    std::fs::write(&resume, "").unwrap();
    let o = child.wait_with_output().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(o.status.success(), "{}", log.lock().unwrap());
    let v = json_file(&cj);
    assert_eq!(
        v["oauthAccount"]["emailAddress"], "someone@example.com",
        "the login was replaced: {v}"
    );
    assert_eq!(v["hasCompletedOnboarding"], true, "{v}");
    // Undo takes back the key only: the file Claude Code created stays.
    assert!(t.run(&["undo"]).status.success());
    let v = json_file(&cj);
    assert_eq!(v["oauthAccount"]["emailAddress"], "someone@example.com");
    assert!(v.get("hasCompletedOnboarding").is_none(), "{v}");
}

#[test]
fn a_hard_linked_rc_file_keeps_every_line_when_the_disk_is_full() {
    // R3: the hard-linked rc file was truncated, then written; with a full disk lines were
    // lost and the backup deleted.
    let t = TestHome::new();
    let mnt = t.home();
    if !mount_tmpfs(&mnt, "2m") {
        return;
    }
    let _u = Unmount(mnt.clone());
    let rc = t.home().join(".bashrc");
    // cclocal's block first, then 250 lines of the user's, filling exactly four pages: a
    // longer block shifts every line after it and needs a fifth page.
    std::fs::write(&rc, "").unwrap();
    let o = t.run(&["alias", "bash", "--write"]);
    assert!(o.status.success(), "{}", text(&o));
    let mut original = std::fs::read_to_string(&rc).unwrap();
    for i in 0..250 {
        original.push_str(&format!("export LINE_{i}=\"{}\"\n", "x".repeat(40)));
    }
    original.push_str(&format!("# {}\n", "-".repeat(16384 - original.len() - 3)));
    assert_eq!(original.len(), 16384);
    std::fs::write(&rc, &original).unwrap();
    let twin = t.home().join("dotfiles-bashrc");
    std::fs::hard_link(&rc, &twin).unwrap();
    let resume = t.dir.path().join("resume");
    let longer = [
        "alias",
        "bash",
        "--write",
        "--name",
        &format!("{}x", "claude-local-".repeat(4)),
    ];
    let (child, log) = spawn_paused_log(t.command(&longer), "alias:rename-0", Some(&resume));
    let filler = fill(&mnt);
    std::fs::write(&resume, "").unwrap();
    let o = child.wait_with_output().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let err = log.lock().unwrap().clone();
    assert!(!o.status.success(), "{err}");
    assert_eq!(
        std::fs::read_to_string(&rc).unwrap(),
        original,
        "lines were lost: {err}"
    );
    assert_eq!(std::fs::read_to_string(&twin).unwrap(), original);
    assert!(
        err.contains(".bashrc") && err.contains("it was not changed"),
        "{err}"
    );
    std::fs::remove_file(&filler).unwrap();
    // With space again it works, and the link is kept.
    let o = t.run(&longer);
    assert!(o.status.success(), "{}", text(&o));
    let now = std::fs::read_to_string(&rc).unwrap();
    assert!(
        now.contains(&format!("{}x", "claude-local-".repeat(4)))
            && now.ends_with(&original[original.len() - 3000..])
    );
    assert_eq!(std::fs::read_to_string(&twin).unwrap(), now);
    assert!(temps_in(t.dir.path()).is_empty());
}

#[test]
fn a_full_disk_after_a_re_edit_never_says_nothing_was_changed_of_a_changed_file() {
    // R7: ~/.claude.json was re-edited on Claude Code's fresh content and renamed into
    // place; saving its new backup then failed (no space), and the error said "nothing was
    // changed" while the file stayed changed.
    let t = TestHome::new();
    let mnt = t.home();
    if !mount_tmpfs(&mnt, "2m") {
        return;
    }
    let _u = Unmount(mnt.clone());
    home_with_user_files(&t);
    let cj = t.home().join(".claude.json");
    let resume = t.dir.path().join("resume");
    let (child, log) = spawn_paused_log(setup_cmd(&t, ONLY), "setup:locked-2", Some(&resume));
    // Claude Code rewrote it (so cclocal edits it again), and the disk is full now.
    let mut v = json_file(&cj);
    v["writtenByClaude"] = serde_json::json!(true);
    let claude_bytes = serde_json::to_vec_pretty(&v).unwrap();
    std::fs::write(&cj, &claude_bytes).unwrap();
    // Room for cclocal's new edit of it (in place of its first temporary file, which it
    // removes), not for the backup of what it replaced.
    let filler = fill(&mnt);
    let len = std::fs::metadata(&filler).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&filler)
        .unwrap()
        .set_len(len - 16 * 1024)
        .unwrap();
    std::fs::write(&resume, "").unwrap();
    let o = child.wait_with_output().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let err = log.lock().unwrap().clone();
    std::fs::remove_file(&filler).unwrap();
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("No space") || err.contains("space"), "{err}");
    assert_eq!(
        std::fs::read(&cj).unwrap(),
        claude_bytes,
        "~/.claude.json stayed changed: {err}"
    );
    assert!(!t.home().join(".local/bin/claude-local").exists(), "{err}");
}

#[test]
fn undo_force_after_an_incomplete_run_never_deletes_a_file_the_user_created() {
    // R14: after a run that could not put everything back, `undo --force` removed a file
    // the run had never written (the user created it afterwards).
    let t = TestHome::new();
    let mnt = t.home();
    if !mount_tmpfs(&mnt, "2m") {
        return;
    }
    let _u = Unmount(mnt.clone());
    home_with_user_files(&t);
    let resume = t.dir.path().join("resume");
    let (child, log) = spawn_paused_log(setup_cmd(&t, ONLY), "setup:rename-3", Some(&resume));
    let pid = child.id();
    // config.toml (file 3) cannot be replaced, and ~/.claude.json cannot be put back
    // without disk space (its hard link is gone): the run is left incomplete.
    let cfg = t.home().join(".config/cclocal/config.toml");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::remove_file(
        t.home()
            .join(format!("..claude.json.cclocal-tmp-{pid}-orig")),
    )
    .unwrap();
    let filler = fill(&mnt);
    std::fs::write(&resume, "").unwrap();
    let o = child.wait_with_output().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let err = log.lock().unwrap().clone();
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("could not be put back"), "{err}");
    std::fs::remove_file(&filler).unwrap();
    std::fs::remove_dir(&cfg).unwrap();
    // The launcher was taken back by the rollback; now the user puts their own file there,
    // and one at config.toml, which the run never wrote.
    let launcher = t.home().join(".local/bin/claude-local");
    assert!(!launcher.exists(), "{err}");
    std::fs::create_dir_all(launcher.parent().unwrap()).unwrap();
    std::fs::write(&launcher, "#!/bin/sh\n# the user's own\n").unwrap();
    std::fs::write(&cfg, "# the user's own\n").unwrap();
    let o = t.run(&["undo", "--force"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(&launcher).unwrap(),
        "#!/bin/sh\n# the user's own\n",
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), "# the user's own\n");
    // What the run left changed was taken back.
    assert_eq!(
        std::fs::read_to_string(t.home().join(".claude.json")).unwrap(),
        realistic_claude_json()
    );
}

#[test]
fn every_one_of_the_kept_runs_can_be_undone() {
    // With exactly KEEP_RUNS recorded runs, undo pruned one before undoing.
    let keep = cclocal::setup::manifest::KEEP_RUNS;
    let t = TestHome::new();
    let rc = t.home().join(".bashrc");
    std::fs::write(&rc, "x=1\n").unwrap();
    for i in 0..keep {
        let flag = if i % 2 == 0 { "--write" } else { "--remove" };
        let o = t.run(&["alias", "bash", flag]);
        assert!(o.status.success(), "{}", text(&o));
    }
    for i in 0..keep {
        let o = t.run(&["undo"]);
        assert!(o.status.success(), "undo {i}: {}", text(&o));
        assert!(
            !text(&o).contains("nothing to undo"),
            "undo {i}: {}",
            text(&o)
        );
    }
    let o = t.run(&["undo"]);
    assert!(text(&o).contains("nothing to undo"), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&rc).unwrap(), "x=1\n");
}

#[test]
fn a_kill_right_after_the_folders_are_made_leaves_no_folder() {
    let t = TestHome::new();
    home_with_user_files(&t);
    let child = spawn_paused(setup_cmd(&t, ONLY), "setup:dirs", None);
    assert!(t.home().join(".local/bin").is_dir());
    kill9(child);
    let o = t.run(&["undo"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("was interrupted"), "{}", text(&o));
    assert!(!t.home().join(".local/bin").exists(), "{}", text(&o));
    assert!(!t.home().join(".config/cclocal").exists(), "{}", text(&o));
}

#[test]
fn a_damaged_journal_still_gets_the_temporary_files_removed() {
    let t = TestHome::new();
    home_with_user_files(&t);
    let child = spawn_paused(setup_cmd(&t, ONLY), "setup:renamed-2", None);
    kill9(child);
    assert!(
        temps_in(t.dir.path())
            .iter()
            .any(|p| p.contains(".claude.json.cclocal-tmp-") && p.ends_with("-orig")),
        "{:?}",
        temps_in(t.dir.path())
    );
    let journal = t.home().join(".local/state/cclocal/journal.json");
    std::fs::write(&journal, "{\"command\": \"setup\", \"pid\": 12").unwrap();
    let o = t.run(&["undo", "--list"]);
    assert!(o.status.success());
    let o = t.run(&["undo"]);
    assert!(text(&o).contains("damaged"), "{}", text(&o));
    assert!(
        temps_in(t.dir.path()).is_empty(),
        "{:?}\n{}",
        temps_in(t.dir.path()),
        text(&o)
    );
}

#[test]
fn status_right_after_a_kill_names_the_interrupted_run_and_claims_no_file() {
    let t = TestHome::new();
    home_with_user_files(&t);
    let child = spawn_paused(setup_cmd(&t, ONLY), "setup:rename-0", None);
    kill9(child);
    let o = t.run(&["status", "--offline"]);
    let out = text(&o);
    assert!(out.contains("was interrupted"), "{out}");
    assert!(
        !out.lines()
            .any(|l| l.contains("[✓]") && l.contains(".claude.json")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("[?]") && l.contains(".claude.json")),
        "{out}"
    );
    let o = t.run(&["status", "--offline", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["interrupted"]["command"], "setup", "{v}");
    assert_eq!(v["last_run"]["state"], "applying", "{v}");
}

#[test]
fn a_read_only_bashrc_or_claude_json_is_refused_with_its_name_and_mode() {
    let t = TestHome::new();
    home_with_user_files(&t);
    let rc = t.home().join(".bashrc");
    let cj = t.home().join(".claude.json");
    for (p, run) in [(&rc, "alias"), (&cj, "setup")] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o444)).unwrap();
        let before = std::fs::read(p).unwrap();
        let o = if run == "alias" {
            t.run(&["alias", "bash", "--write"])
        } else {
            t.setup(ONLY)
        };
        let out = text(&o);
        assert!(!o.status.success(), "{out}");
        assert!(
            out.contains(&p.display().to_string()) && out.contains("read-only (mode 0444)"),
            "{out}"
        );
        assert!(out.contains("chmod u+w"), "{out}");
        assert_eq!(std::fs::read(p).unwrap(), before);
        assert_eq!(
            std::fs::metadata(p).unwrap().permissions().mode() & 0o777,
            0o444
        );
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    // `--skip onboarding` leaves the read-only ~/.claude.json out, as the message says.
    std::fs::set_permissions(&cj, std::fs::Permissions::from_mode(0o444)).unwrap();
    let o = t.setup(&["--yes", "--only", "launcher"]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn every_server_kind_goes_through_the_same_session() {
    // R6: `setup --server vllm|lmstudio` took no lock, did no recovery, and ignored --json.
    let t = TestHome::new();
    let vllm = |json: bool| {
        let mut a = vec![
            "setup",
            "--yes",
            "--claude-version",
            "2.1.332",
            "--server",
            "vllm",
            "--model",
            "Qwen/Qwen3-Coder-30B-A3B-Instruct",
            "--ctx",
            "131072",
        ];
        if json {
            a.push("--json");
        }
        t.command(&a)
    };
    // The lock: a paused setup holds it, so vLLM's setup waits, then refuses.
    let first = spawn_paused(setup_cmd(&t, ONLY), "setup:temps", None);
    let o = vllm(false)
        .env("CCLOCAL_LOCK_WAIT_SECS", "1")
        .output()
        .unwrap();
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("another cclocal setup, alias or undo is changing files"),
        "{}",
        text(&o)
    );
    // Recovery: the killed run is taken back first.
    kill9(first);
    let o = vllm(true).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("was interrupted"),
        "{}",
        text(&o)
    );
    // --json: one JSON object on stdout, naming the run and every file.
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)));
    assert_eq!(v["command"], "setup");
    assert_eq!(v["applied"], true);
    assert!(v["run_id"].is_string(), "{v}");
    assert!(v["changes"].as_array().unwrap().iter().any(|c| c["path"]
        .as_str()
        .unwrap()
        .ends_with("vllm-start.sh")
        || c["what"].as_str().unwrap().contains("start script")));
    assert!(!t.home().join(".local/state/cclocal/journal.json").exists());
}
