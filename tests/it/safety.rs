//! "Never lose a byte" (docs/safety.md): setup, alias and undo against a real concurrent
//! writer, two runs at once, kill -9 of the real binary at chosen and random points, a full
//! disk (a tiny tmpfs), a damaged manifest, and a bounded random sequence of all of these
//! in which the user's own bytes must survive (root on another user's HOME, followed by the
//! real Claude Code run as that user: `real::root_home`).
use crate::support;
use crate::support::setup_home::*;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const ONLY: &[&str] = &["--yes", "--only", "launcher,onboarding"];

/// `t.setup_args(ONLY)` with `flag` set to `value` instead.
pub(crate) fn args_with(t: &TestHome, flag: &str, value: &str) -> Vec<String> {
    let mut a = t.setup_args(ONLY);
    let i = a.iter().position(|x| x == flag).unwrap();
    a[i + 1] = value.to_string();
    a
}

pub(crate) fn json_file(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Every file under HOME except cclocal's own history, with bytes and mode.
pub(crate) fn user_view(t: &TestHome) -> std::collections::BTreeMap<String, (Vec<u8>, u32)> {
    let mut c = contents(t.dir.path());
    c.retain(|k, _| {
        !k.starts_with("home/.local/state/")
            && k != "home/.local/"
            && !k.starts_with("home/.config/")
            && !k.starts_with("home/.local/bin")
    });
    c
}

/// No temporary file of cclocal anywhere in `dir`.
pub(crate) fn temps_in(dir: &Path) -> Vec<String> {
    tree(dir)
        .into_keys()
        .filter(|k| k.contains(".cclocal-tmp-"))
        .collect()
}

/// Starts `cmd` with a pause at `point`; returns once the binary stopped there.
pub(crate) fn spawn_paused(cmd: Command, point: &str, resume: Option<&Path>) -> Child {
    spawn_paused_log(cmd, point, resume).0
}

/// [`spawn_paused`], plus everything the binary prints on stderr.
pub(crate) fn spawn_paused_log(
    mut cmd: Command,
    point: &str,
    resume: Option<&Path>,
) -> (Child, std::sync::Arc<std::sync::Mutex<String>>) {
    cmd.env("CCLOCAL_TEST_PAUSE_AT", point)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(r) = resume {
        cmd.env("CCLOCAL_TEST_RESUME", r);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let want = format!("cclocal-test-pause: {point}");
    let (tx, rx) = std::sync::mpsc::channel();
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let log2 = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
            if line == want {
                let _ = tx.send(Ok(()));
            }
            let mut seen = log2.lock().unwrap();
            seen.push_str(&line);
            seen.push('\n');
        }
        let _ = tx.send(Err(log2.lock().unwrap().clone()));
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(Ok(())) => (child, log),
        other => {
            let _ = child.kill();
            panic!("{point}: the binary did not pause there: {other:?}")
        }
    }
}

pub(crate) fn kill9(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

pub(crate) fn home_with_user_files(t: &TestHome) {
    std::fs::write(t.home().join(".claude.json"), realistic_claude_json()).unwrap();
    std::fs::set_permissions(
        t.home().join(".claude.json"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::write(t.home().join(".bashrc"), "export MINE=1\n").unwrap();
}

/// A Claude-Code-like writer: read, bump `numStartups`, write (temp + rename), `n` times.
fn claude_like_writer(path: PathBuf, n: u64) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for _ in 0..n {
            let mut v = json_file(&path);
            let k = v["numStartups"].as_u64().unwrap();
            v["numStartups"] = serde_json::json!(k + 1);
            let tmp = path.with_extension("writer-tmp");
            std::fs::write(&tmp, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
            std::fs::rename(&tmp, &path).unwrap();
            std::thread::sleep(Duration::from_millis(10));
        }
    })
}

#[test]
fn a_concurrent_claude_code_writer_never_loses_a_write() {
    // Issue 10.1: a write between cclocal's read and its rename used to be reverted.
    let t = TestHome::new();
    let cj = t.home().join(".claude.json");
    std::fs::write(&cj, "{\n  \"numStartups\": 0,\n  \"theme\": \"dark\"\n}\n").unwrap();
    let n = 500;
    let writer = claude_like_writer(cj.clone(), n);
    let start = Instant::now();
    let mut runs = 0;
    while !writer.is_finished() && start.elapsed() < Duration::from_secs(60) {
        let o = t.setup(ONLY);
        assert!(
            o.status.success() || text(&o).contains("changed after"),
            "{}",
            text(&o)
        );
        let o = t.run(&["undo"]);
        assert!(o.status.success(), "{}", text(&o));
        runs += 1;
    }
    writer.join().unwrap();
    let v = json_file(&cj);
    assert_eq!(
        v["numStartups"].as_u64(),
        Some(n),
        "every one of the writer's {n} increments survived {runs} setup/undo pairs"
    );
    assert!(runs >= 3, "the runs overlapped the writer ({runs})");
    assert!(temps_in(t.dir.path()).is_empty());
}

/// Starts the inotify writer on `file`; returns once its watch is set.
fn inotify_writer(file: &Path, mode: &str) -> Option<Child> {
    let py = support::tool("python3")?;
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/safety/inotify_writer.py");
    let mut c = Command::new(py)
        .arg(script)
        .arg(file)
        .arg(mode)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(c.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    Some(c)
}

fn wait_for(mut c: Child) {
    let start = Instant::now();
    while c.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            let _ = c.kill();
            panic!("the writer never fired");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_write_right_after_cclocals_read_is_kept() {
    // Issue 10.1, as reproduced: a writer that replaces ~/.claude.json the moment cclocal
    // has read it (inotify), and the same for the rc file under `alias --write`.
    for round in 0..4 {
        let t = TestHome::new();
        home_with_user_files(&t);
        let cj = t.home().join(".claude.json");
        let Some(w) = inotify_writer(&cj, "json") else {
            return;
        };
        let o = t.setup(ONLY);
        wait_for(w);
        assert!(o.status.success(), "round {round}: {}", text(&o));
        let v = json_file(&cj);
        assert_eq!(
            v["writtenByClaude"], true,
            "round {round}: Claude Code's write was lost"
        );

        let rc = t.home().join(".bashrc");
        let Some(w) = inotify_writer(&rc, "line") else {
            return;
        };
        let o = t.run(&["alias", "bash", "--write"]);
        wait_for(w);
        assert!(o.status.success(), "round {round}: {}", text(&o));
        let now = std::fs::read_to_string(&rc).unwrap();
        assert!(
            now.contains("export WRITTEN_BY_USER=1"),
            "round {round}: the user's line was lost: {now}"
        );
        // (cclocal's own block may be gone: the writer read the file before cclocal replaced
        // it and wrote after, as Claude Code can; that loses nothing of the user's.)
    }
}

#[test]
fn two_setups_at_once_wait_for_each_other_and_agree() {
    // Issue 10.2: the loser's rollback deleted the winner's launcher; files disagreed.
    let t = TestHome::new();
    for round in 0..6 {
        let models = ["model-a:1b", "model-b:2b"];
        let children: Vec<Child> = models
            .iter()
            .map(|m| {
                let a = args_with(&t, "--model", m);
                let mut c = t.command(&a.iter().map(String::as_str).collect::<Vec<_>>());
                c.stdout(Stdio::piped()).stderr(Stdio::piped());
                c.spawn().unwrap()
            })
            .collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert!(o.status.success(), "round {round}: {}", text(&o));
        }
        let launcher = std::fs::read_to_string(t.home().join(".local/bin/claude-local"))
            .unwrap_or_else(|e| panic!("round {round}: launcher gone: {e}"));
        let settings =
            std::fs::read_to_string(t.home().join(".config/cclocal/claude-settings.json")).unwrap();
        let config = std::fs::read_to_string(t.home().join(".config/cclocal/config.toml")).unwrap();
        let winner = models
            .iter()
            .find(|m| {
                launcher.contains(&format!("--model '{m}'"))
                    || launcher.contains(&format!("--model {m}"))
            })
            .unwrap_or_else(|| panic!("{launcher}"));
        assert!(
            settings.contains(winner) && config.contains(winner),
            "round {round}"
        );
    }
}

#[test]
fn a_second_run_refuses_clearly_while_the_first_holds_the_lock() {
    let t = TestHome::new();
    let first = spawn_paused(
        t.command(
            &t.setup_args(ONLY)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        ),
        "setup:temps",
        None,
    );
    let mut c = t.command(
        &t.setup_args(ONLY)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    c.env("CCLOCAL_LOCK_WAIT_SECS", "1");
    let o = c.output().unwrap();
    assert!(!o.status.success());
    assert!(
        text(&o).contains("another cclocal setup, alias or undo is changing files"),
        "{}",
        text(&o)
    );
    kill9(first);
}

#[test]
fn kill_9_at_every_point_is_taken_back_by_the_next_run() {
    // Issue 10.5: after kill -9, undo complained of changes nobody made; temp files stayed.
    let points = [
        "setup:journal",
        "setup:saved",
        "setup:temps",
        "setup:rename-0",
        "setup:renamed-0",
        "setup:rename-2",
        "setup:renamed-2",
        "setup:renamed-3",
    ];
    for point in points {
        let t = TestHome::new();
        home_with_user_files(&t);
        let before = user_view(&t);
        let before_all = contents(t.dir.path());
        let child = spawn_paused(
            t.command(
                &t.setup_args(ONLY)
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
            ),
            point,
            None,
        );
        kill9(child);
        let o = t.run(&["undo"]);
        assert!(o.status.success(), "{point}: {}", text(&o));
        assert!(
            text(&o).contains("was interrupted"),
            "{point}: {}",
            text(&o)
        );
        assert!(!text(&o).contains("changed after"), "{point}: {}", text(&o));
        assert_eq!(user_view(&t), before, "{point}");
        assert!(
            temps_in(t.dir.path()).is_empty(),
            "{point}: {:?}",
            temps_in(t.dir.path())
        );
        let mut now = contents(t.dir.path());
        now.retain(|k, _| !k.starts_with("home/.local/state/") && k != "home/.local/");
        let mut want = before_all.clone();
        want.retain(|k, _| k != "home/.local/");
        assert_eq!(
            now.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{point}: created folders removed"
        );
    }
}

#[test]
fn kill_9_during_undo_is_finished_by_the_next_run() {
    for point in ["undo:temps", "undo:renamed-0", "undo:renamed-1"] {
        let t = TestHome::new();
        home_with_user_files(&t);
        let before = user_view(&t);
        assert!(t.setup(ONLY).status.success());
        let child = spawn_paused(t.command(&["undo"]), point, None);
        kill9(child);
        let o = t.run(&["undo", "--list"]);
        assert!(o.status.success());
        let o = t.run(&["undo"]);
        assert!(o.status.success(), "{point}: {}", text(&o));
        assert!(
            text(&o).contains("its undo was finished"),
            "{point}: {}",
            text(&o)
        );
        assert_eq!(user_view(&t), before, "{point}");
        assert!(
            !t.home().join(".local/bin/claude-local").exists(),
            "{point}"
        );
        assert!(temps_in(t.dir.path()).is_empty(), "{point}");
    }
}

#[test]
fn kill_9_at_random_moments_never_loses_the_users_bytes() {
    let t = TestHome::new();
    home_with_user_files(&t);
    let before = user_view(&t);
    let mut seed: u64 = 0x5eed;
    for i in 0..12 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = Duration::from_micros((seed >> 33) % 40_000);
        let mut c = t.command(
            &t.setup_args(ONLY)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        c.stdout(Stdio::null()).stderr(Stdio::null());
        let child = c.spawn().unwrap();
        std::thread::sleep(delay);
        kill9(child);
        // Whatever state it left, undo brings back the user's files exactly.
        loop {
            let o = t.run(&["undo"]);
            assert!(o.status.success(), "round {i}: {}", text(&o));
            if text(&o).contains("nothing to undo") {
                break;
            }
        }
        assert_eq!(user_view(&t), before, "round {i} (killed after {delay:?})");
        assert!(temps_in(t.dir.path()).is_empty(), "round {i}");
    }
}

/// Mounts a tmpfs of `size` at `dir`; `false` (with a message) when not allowed here.
pub(crate) fn mount_tmpfs(dir: &Path, size: &str) -> bool {
    std::fs::create_dir_all(dir).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("cannot mount a tmpfs (CI runs as root)");
        }
        eprintln!("skipping: cannot mount a tmpfs here (needs root)");
    }
    ok
}

pub(crate) struct Unmount(pub(crate) PathBuf);
impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the filesystem holding `dir` (returns the filler file).
pub(crate) fn fill(dir: &Path) -> PathBuf {
    let f = dir.join("filler");
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=4k"])
        .arg(format!("of={}", f.display()))
        .stderr(Stdio::null())
        .status();
    // Also the last partial blocks.
    let _ = Command::new("dd")
        .args([
            "if=/dev/zero",
            "bs=1",
            "count=65536",
            "oflag=append",
            "conv=notrunc",
        ])
        .arg(format!("of={}", f.display()))
        .stderr(Stdio::null())
        .status();
    f
}

#[test]
fn a_failed_rename_with_a_full_disk_keeps_the_backups_and_names_every_file() {
    // Issue 10.4: the backups were deleted and the error named only the other file.
    let t = TestHome::new();
    let mnt = t.dir.path().join("home");
    if !mount_tmpfs(&mnt, "2m") {
        return;
    }
    let _u = Unmount(mnt.clone());
    home_with_user_files(&t);
    let original = std::fs::read(t.home().join(".claude.json")).unwrap();
    for lose_link in [false, true] {
        let resume = t.dir.path().join(format!("resume-{lose_link}"));
        let (child, log) = spawn_paused_log(
            t.command(
                &t.setup_args(ONLY)
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
            ),
            "setup:rename-3",
            Some(&resume),
        );
        let pid = child.id();
        // ~/.claude.json (file 2) is replaced; now the disk fills and file 3 cannot be.
        let cfg = t.home().join(".config/cclocal/config.toml");
        std::fs::create_dir_all(&cfg).unwrap();
        if lose_link {
            // Without the hard link to the old file, putting it back needs disk space.
            let link = t
                .home()
                .join(format!("..claude.json.cclocal-tmp-{pid}-orig"));
            std::fs::remove_file(&link).unwrap_or_else(|e| {
                panic!("{e}: {:?}", tree(&t.home()).keys().collect::<Vec<_>>())
            });
        }
        let filler = fill(&mnt);
        std::fs::write(&resume, "").ok();
        let o = child.wait_with_output().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let err = log.lock().unwrap().clone();
        assert!(!o.status.success(), "{err}");
        if !lose_link {
            // The old file comes back by renaming its hard link: no space needed.
            assert_eq!(
                std::fs::read(t.home().join(".claude.json")).unwrap(),
                original
            );
            assert!(!t.home().join(".local/bin/claude-local").exists(), "{err}");
            std::fs::remove_file(&filler).unwrap();
            std::fs::remove_dir(&cfg).unwrap();
            continue;
        }
        assert!(
            err.contains(".claude.json")
                && err.contains("could not be put back")
                && err.contains("cclocal undo"),
            "{err}"
        );
        std::fs::remove_file(&filler).unwrap();
        std::fs::remove_dir(&cfg).unwrap();
        // The backup was kept; undo takes back this run, not an older one.
        let o = t.run(&["undo"]);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(
            std::fs::read(t.home().join(".claude.json")).unwrap(),
            original
        );
    }
    assert!(
        temps_in(t.dir.path()).is_empty(),
        "{:?}",
        temps_in(t.dir.path())
    );
}

#[test]
fn a_rollback_never_deletes_a_file_another_program_wrote() {
    // Issue 10.2: the losing run's rollback deleted the winning run's launcher.
    let t = TestHome::new();
    home_with_user_files(&t);
    let resume = t.dir.path().join("resume");
    let (child, log) = spawn_paused_log(
        t.command(
            &t.setup_args(ONLY)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        ),
        "setup:rename-3",
        Some(&resume),
    );
    // Meanwhile another program writes the launcher this run created, and file 3
    // (config.toml) cannot be replaced: the run fails and rolls back.
    let launcher = t.home().join(".local/bin/claude-local");
    std::fs::write(&launcher, "#!/bin/sh\n# someone else's\n").unwrap();
    std::fs::create_dir_all(t.home().join(".config/cclocal/config.toml")).unwrap();
    std::fs::write(&resume, "").unwrap();
    let o = child.wait_with_output().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let err = log.lock().unwrap().clone();
    assert!(!o.status.success(), "{err}");
    assert_eq!(
        std::fs::read_to_string(&launcher).unwrap(),
        "#!/bin/sh\n# someone else's\n",
        "{err}"
    );
    assert!(err.contains("changed by another program"), "{err}");
    // Everything else the run wrote was taken back.
    assert_eq!(
        std::fs::read_to_string(t.home().join(".claude.json")).unwrap(),
        realistic_claude_json()
    );
    assert!(!t
        .home()
        .join(".config/cclocal/claude-settings.json")
        .exists());
}

#[test]
fn a_damaged_manifest_is_reported_with_the_commands_that_restore_its_files() {
    // Issue 10.8: the run vanished from undo --list and undo.
    let t = TestHome::new();
    home_with_user_files(&t);
    let original = std::fs::read(t.home().join(".claude.json")).unwrap();
    assert!(t.setup(ONLY).status.success());
    let runs = t.home().join(".local/state/cclocal/runs");
    let run = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let m = std::fs::read_to_string(run.join("manifest.json")).unwrap();
    std::fs::write(run.join("manifest.json"), &m[..m.len() * 2 / 3]).unwrap();
    let o = t.run(&["undo", "--list"]);
    assert!(text(&o).contains("DAMAGED RECORD"), "{}", text(&o));
    let o = t.run(&["undo"]);
    assert!(!o.status.success());
    let out = text(&o);
    let cp = out
        .lines()
        .find(|l| l.trim_start().starts_with("cp ") && l.contains(".claude.json"))
        .unwrap_or_else(|| panic!("{out}"));
    let st = Command::new("sh")
        .arg("-c")
        .arg(cp.trim())
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(
        std::fs::read(t.home().join(".claude.json")).unwrap(),
        original
    );
}

#[test]
fn undo_after_claude_code_ran_removes_only_the_key() {
    // Issue 9.2: undo refused everything once Claude Code had rewritten ~/.claude.json.
    let t = TestHome::new();
    home_with_user_files(&t);
    assert!(t.setup(ONLY).status.success());
    let cj = t.home().join(".claude.json");
    // Claude Code rewrites the file: JSON.stringify order, a new key, a changed value.
    let mut v = json_file(&cj);
    v["numStartups"] = serde_json::json!(413);
    v["lastSeen"] = serde_json::json!("today");
    let mut s = serde_json::to_string_pretty(&v).unwrap();
    s.push('\n');
    std::fs::write(&cj, &s).unwrap();
    let o = t.run(&["undo"]);
    assert!(o.status.success(), "{}", text(&o));
    let after = json_file(&cj);
    assert!(after.get("hasCompletedOnboarding").is_none());
    assert_eq!(after["numStartups"], 413);
    assert_eq!(after["lastSeen"], "today");
    assert!(
        !t.home().join(".local/bin/claude-local").exists(),
        "the launcher is undone too"
    );
    let mut want = v.clone();
    want.as_object_mut()
        .unwrap()
        .shift_remove("hasCompletedOnboarding");
    assert_eq!(after, want);
}

#[test]
fn a_bom_is_named_and_what_javascript_reads_is_accepted() {
    let t = TestHome::new();
    std::fs::write(t.home().join(".claude.json"), b"\xEF\xBB\xBF{\"a\": 1}\n").unwrap();
    let o = t.setup(ONLY);
    assert!(!o.status.success());
    assert!(text(&o).contains("byte-order mark"), "{}", text(&o));
    let odd = format!(
        "{{\"big\": 1E400, \"s\": \"\\ud800\", \"deep\": {}0{}}}\n",
        "[".repeat(3000),
        "]".repeat(3000)
    );
    std::fs::write(t.home().join(".claude.json"), &odd).unwrap();
    let o = t.setup(ONLY);
    assert!(o.status.success(), "{}", text(&o));
    let now = std::fs::read_to_string(t.home().join(".claude.json")).unwrap();
    assert!(
        now.starts_with("{\"hasCompletedOnboarding\":true,\"big\": 1E400"),
        "{}",
        &now[..80]
    );
    // Node's JSON.parse reads the result.
    if let Some(node) = support::tool("node") {
        let ok = Command::new(node)
            .arg("-e")
            .arg("const v=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8')); if(v.hasCompletedOnboarding!==true) process.exit(3)")
            .arg(t.home().join(".claude.json"))
            .status()
            .unwrap();
        assert!(ok.success());
    }
    assert!(t.run(&["undo"]).status.success());
    assert_eq!(
        std::fs::read_to_string(t.home().join(".claude.json")).unwrap(),
        odd
    );
}

#[test]
fn old_runs_are_pruned_beyond_the_limit() {
    let t = TestHome::new();
    std::fs::write(t.home().join(".bashrc"), "x=1\n").unwrap();
    for i in 0..(cclocal::setup::manifest::KEEP_RUNS + 4) {
        let flag = if i % 2 == 0 { "--write" } else { "--remove" };
        let o = t.run(&["alias", "bash", flag]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let n = std::fs::read_dir(t.home().join(".local/state/cclocal/runs"))
        .unwrap()
        .count();
    assert_eq!(n, cclocal::setup::manifest::KEEP_RUNS);
    // No run stores a second full copy of what it wrote.
    for e in std::fs::read_dir(t.home().join(".local/state/cclocal/runs")).unwrap() {
        for f in std::fs::read_dir(e.unwrap().path()).unwrap() {
            let name = f.unwrap().file_name().to_string_lossy().into_owned();
            assert!(!name.starts_with("after-"), "{name}");
        }
    }
}

#[test]
fn the_launcher_never_replaces_or_shadows_claude_code() {
    // Issue 9.1: --launcher-name claude overwrote the real Claude Code through its symlink.
    let t = TestHome::new();
    let native = t.home().join(".local/share/claude/versions/2.1.332");
    std::fs::create_dir_all(native.parent().unwrap()).unwrap();
    std::fs::write(&native, "#!/bin/sh\necho real claude\n").unwrap();
    std::fs::set_permissions(&native, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = t.home().join(".local/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(&native, bin.join("claude")).unwrap();
    let o = t.setup(&["--yes", "--only", "launcher", "--launcher-name", "claude"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("shadow Claude Code"), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(&native).unwrap(),
        "#!/bin/sh\necho real claude\n"
    );
    // Another name that is a symlink, or a file cclocal did not write: refused too.
    std::os::unix::fs::symlink(&native, bin.join("cl")).unwrap();
    let o = t.setup(&["--yes", "--only", "launcher", "--launcher-name", "cl"]);
    assert!(text(&o).contains("is a symlink"), "{}", text(&o));
    std::fs::write(bin.join("mine"), "#!/bin/sh\n").unwrap();
    let o = t.setup(&["--yes", "--only", "launcher", "--launcher-name", "mine"]);
    assert!(text(&o).contains("not written by cclocal"), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(bin.join("mine")).unwrap(),
        "#!/bin/sh\n"
    );
    // The launcher runs Claude Code by its absolute path, found on PATH at setup time.
    let args = t.setup_args(&["--yes", "--only", "launcher"]);
    let mut c = t.command(&args.iter().map(String::as_str).collect::<Vec<_>>());
    c.env("PATH", format!("{}:/usr/bin:/bin", bin.display()));
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let l = std::fs::read_to_string(bin.join("claude-local")).unwrap();
    assert!(
        l.contains(&format!("exec {} --settings", bin.join("claude").display())),
        "{l}"
    );
    // Setup again over its own launcher is fine.
    let o = t.run(
        &args_with(&t, "--ctx", "32768")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn an_auth_token_is_private_and_never_printed() {
    // Issue 9.10.
    let t = TestHome::new();
    let token = "sk-secret-'tok'-123";
    let o = t.setup(&[
        "--yes",
        "--only",
        "launcher",
        "--auth-token",
        token,
        "--dry-run",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("secret-"), "{}", text(&o));
    assert!(text(&o).contains("********"), "{}", text(&o));
    let o = t.setup(&[
        "--yes",
        "--only",
        "launcher",
        "--auth-token",
        token,
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("secret-"), "{}", text(&o));
    let mode = |p: &str| {
        std::fs::metadata(t.home().join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(".local/bin/claude-local"), 0o700);
    assert_eq!(mode(".config/cclocal/claude-settings.json"), 0o600);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["applied"], true);
    assert!(v["run_id"].is_string());
    assert_eq!(v["changes"][0]["mode"], "0700");
}

#[test]
fn setup_json_names_every_file_and_its_backup() {
    let t = TestHome::new();
    home_with_user_files(&t);
    let o = t.setup(&["--yes", "--only", "launcher,onboarding", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let changes = v["changes"].as_array().unwrap();
    let cj = changes
        .iter()
        .find(|c| c["path"].as_str().unwrap().ends_with(".claude.json"))
        .unwrap();
    assert_eq!(cj["level"], "json_key");
    assert_eq!(
        std::fs::read_to_string(cj["backup"].as_str().unwrap()).unwrap(),
        realistic_claude_json()
    );
    let o = t.run(&["undo", "--dry-run", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["applied"], false);
    assert!(v["changes"].as_array().unwrap().len() >= 3, "{v}");
}

#[test]
fn an_out_of_range_port_is_refused() {
    // Issue 10.11 (the server-URL parser of the server layer is the long-term home).
    let t = TestHome::new();
    let o = t.run(&[
        "setup",
        "--yes",
        "--model",
        "m",
        "--ctx",
        "8192",
        "--host",
        "http://h:99999999",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("port"), "{}", text(&o));
    assert!(!t.home().join(".local").exists());
}

/// The user's own bytes in a sequence of runs: keys Claude Code added to `~/.claude.json`
/// and lines the user added to `.bashrc`.
#[test]
fn random_sequences_never_lose_the_users_bytes() {
    let mut seed: u64 = 0xC0FFEE;
    let mut rnd = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for seq in 0..5 {
        let t = TestHome::new();
        home_with_user_files(&t);
        let cj = t.home().join(".claude.json");
        let rc = t.home().join(".bashrc");
        let mut keys: Vec<String> = Vec::new();
        let mut lines: Vec<String> = vec!["export MINE=1".into()];
        let mut log = Vec::new();
        for step in 0..14 {
            let op = rnd(7);
            log.push(op);
            match op {
                0 => {
                    let model = format!("m{}:1b", rnd(3));
                    let a = args_with(&t, "--model", &model);
                    let o = t.run(&a.iter().map(String::as_str).collect::<Vec<_>>());
                    assert!(o.status.success(), "{seq}/{step}: {}", text(&o));
                }
                1 => {
                    let flag = if rnd(2) == 0 { "--write" } else { "--remove" };
                    let o = t.run(&["alias", "bash", flag]);
                    assert!(o.status.success(), "{seq}/{step}: {}", text(&o));
                }
                2 => {
                    // Claude Code adds a key (read, modify, rewrite).
                    let mut v = json_file(&cj);
                    let k = format!("user-{seq}-{step}");
                    v[&k] = serde_json::json!(step);
                    std::fs::write(&cj, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
                    keys.push(k);
                }
                3 => {
                    let l = format!("export U{step}={seq}");
                    let mut s = std::fs::read_to_string(&rc).unwrap();
                    s.push_str(&l);
                    s.push('\n');
                    std::fs::write(&rc, s).unwrap();
                    lines.push(l);
                }
                4 => {
                    let points = [
                        "setup:temps",
                        "setup:renamed-0",
                        "setup:renamed-2",
                        "setup:rename-3",
                    ];
                    let p = points[rnd(points.len() as u64) as usize];
                    let c = spawn_paused(
                        t.command(
                            &t.setup_args(ONLY)
                                .iter()
                                .map(String::as_str)
                                .collect::<Vec<_>>(),
                        ),
                        p,
                        None,
                    );
                    kill9(c);
                }
                _ => {
                    let o = t.run(&["undo"]);
                    assert!(o.status.success(), "{seq}/{step}: {}", text(&o));
                }
            }
            let v = json_file(&cj);
            for k in &keys {
                assert!(
                    v.get(k).is_some(),
                    "seq {seq} step {step} ops {log:?}: lost key {k}"
                );
            }
            let s = std::fs::read_to_string(&rc).unwrap();
            for l in &lines {
                assert!(
                    s.contains(l.as_str()),
                    "seq {seq} step {step} ops {log:?}: lost line {l}"
                );
            }
        }
        assert!(
            temps_in(t.dir.path()).iter().all(|k| k.contains("state")) || {
                // A kill as the last step leaves temps until the next run; one run cleans them.
                let _ = t.run(&["undo"]);
                temps_in(t.dir.path()).is_empty()
            }
        );
    }
}
