//! Root and a user's HOME (docs/safety.md, "Run as root"), for real: a real user made with
//! `useradd -m`, a journal, a manifest and symlinks planted in that user's HOME that
//! would have root create, append to and delete files elsewhere, and the real binary run
//! as root with HOME set to that HOME. Nothing outside the HOME may change (the targets
//! are a stand-in folder of root-owned files; the system root is a stand-in too, never the
//! real `/etc`), and every file the run writes in HOME belongs to the user.
//!
//! Also, as root on root's own HOME: the Ollama drop-in only where `ollama.service`
//! exists, a planted journal or manifest refused, and a dangling `lock` symlink never
//! followed.
use crate::support::setup_home::*;

use cclocal::setup::manifest::{hash, Entry, Manifest};
use cclocal::setup::plan::{ChangeKind, Level};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn is_root() -> bool {
    cclocal::privilege::euid() == 0
}

/// A real user with a real HOME (`useradd -m`), removed with its HOME (`userdel -r`)
/// when dropped.
struct RealUser {
    name: String,
    home: PathBuf,
    uid: u32,
}

impl RealUser {
    /// `None` (with a message) when this process is not root or `useradd` is missing.
    fn new(tag: &str) -> Option<RealUser> {
        if !is_root() {
            eprintln!("skipping: needs root (the test makes a real user with useradd)");
            return None;
        }
        let name = format!("ccr{tag}{}", std::process::id() % 100_000);
        let st = Command::new("useradd")
            .args(["-m", "-s", "/bin/sh", &name])
            .status();
        if !st.map(|s| s.success()).unwrap_or(false) {
            eprintln!("skipping: `useradd -m {name}` is missing or failed");
            return None;
        }
        let out = Command::new("getent")
            .args(["passwd", &name])
            .output()
            .unwrap();
        let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let f: Vec<&str> = line.split(':').collect();
        let u = RealUser {
            uid: f[2].parse().unwrap(),
            home: PathBuf::from(f[5]),
            name,
        };
        assert_eq!(std::fs::metadata(&u.home).unwrap().uid(), u.uid);
        Some(u)
    }

    /// `cclocal <args>` as root with HOME = this user's HOME.
    fn cclocal(&self, args: &[&str]) -> Output {
        self.cclocal_on(args, "/usr/local/bin:/usr/bin:/bin")
    }

    /// [`RealUser::cclocal`] with another `PATH`.
    fn cclocal_on(&self, args: &[&str], path: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_cclocal"))
            .args(args)
            .env_clear()
            .env("HOME", &self.home)
            .env("PATH", path)
            .env("SHELL", "/bin/bash")
            .env("CCLOCAL_LOCK_WAIT_SECS", "5")
            .current_dir("/")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    }

    /// Gives `p` (not following a symlink) to the user.
    fn give(&self, p: &Path) {
        std::os::unix::fs::lchown(p, Some(self.uid), Some(self.uid)).unwrap();
    }
}

impl Drop for RealUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel")
            .args(["-r", &self.name])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// A folder of root-owned files standing in for the system's: what an attacker would aim at.
struct Victims {
    dir: tempfile::TempDir,
}

impl Victims {
    fn new() -> Victims {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir(d.join("sudoers.d")).unwrap();
        std::fs::write(d.join("crontab"), "# root's crontab\n").unwrap();
        std::fs::write(d.join("nologin-victim"), "keep me\n").unwrap();
        // Named like a temporary file the planted journal's pid left beside it: recovery's
        // temp cleanup must not remove it either.
        std::fs::write(d.join(".nologin-victim.cclocal-tmp-999999-0"), "root's\n").unwrap();
        std::fs::write(d.join("root-bashrc"), "# root's own bashrc\n").unwrap();
        std::fs::write(d.join("root.json"), "{\n  \"root\": true\n}\n").unwrap();
        Victims { dir }
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

/// The entry of a planted manifest.
fn entry(path: &Path, action: ChangeKind) -> Entry {
    Entry {
        path: path.to_path_buf(),
        real_path: path.to_path_buf(),
        what: "planted".into(),
        action,
        before: None,
        before_mode: None,
        after: None,
        after_mode: None,
        after_hash: None,
        before_hash: None,
        level: Level::File,
        before_part: None,
        undone: false,
    }
}

const PLANTED_RUN: &str = "00000000001-000000000";

/// Plants, in `state` (cclocal's state folder), an interrupted run whose recovery (and
/// undo) would, as root: create `sudoers.d/cclocal-evil` (0440, chosen content), append a
/// cron line to `crontab`, and delete `nologin-victim` (its hash is known). Returns the
/// files planted, for handing them to a user.
fn plant_run(state: &Path, v: &Victims) -> Vec<PathBuf> {
    let run = state.join("runs").join(PLANTED_RUN);
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("before-0"), "attacker ALL=(ALL) NOPASSWD: ALL\n").unwrap();
    let mut create = entry(&v.path("sudoers.d/cclocal-evil"), ChangeKind::Modify);
    create.before = Some("before-0".into());
    create.before_mode = Some(0o440);
    let mut append = entry(&v.path("crontab"), ChangeKind::Modify);
    append.level = Level::RcBlock { block: None };
    append.before_part = Some("* * * * * root /tmp/attacker\n".into());
    append.after_hash = Some(hash(b"something else"));
    let mut delete = entry(&v.path("nologin-victim"), ChangeKind::Create);
    delete.after_hash = Some(hash(b"keep me\n"));
    let m = Manifest {
        version: 1,
        id: PLANTED_RUN.into(),
        created_unix: 1,
        command: "setup".into(),
        entries: vec![create, append, delete],
        created_dirs: vec![],
        notes: vec![],
        undone_unix: None,
        state: Some("applying".into()),
    };
    std::fs::write(
        run.join("manifest.json"),
        serde_json::to_vec_pretty(&m).unwrap(),
    )
    .unwrap();
    let j = cclocal::setup::journal::Journal {
        command: "setup".into(),
        undo: false,
        run_id: PLANTED_RUN.into(),
        pid: 999_999,
        paths: m.entries.iter().map(|e| e.real_path.clone()).collect(),
        started_unix: 1,
    };
    std::fs::write(
        state.join("journal.json"),
        serde_json::to_vec_pretty(&j).unwrap(),
    )
    .unwrap();
    vec![
        state.to_path_buf(),
        state.join("runs"),
        run.clone(),
        run.join("before-0"),
        run.join("manifest.json"),
        state.join("journal.json"),
    ]
}

/// Every path under `dir` whose owner is not `uid`.
fn not_owned_by(dir: &Path, uid: u32) -> Vec<String> {
    let mut bad = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.uid() != uid {
                bad.push(format!("{} (uid {})", p.display(), m.uid()));
            }
            if m.is_dir() {
                stack.push(p);
            }
        }
    }
    bad
}

#[test]
fn root_on_a_users_home_works_as_the_user_and_never_touches_root_files() {
    let Some(u) = RealUser::new("a") else { return };
    let v = Victims::new();
    // The stand-in system root, readable by all like `/`.
    let sys = tempfile::tempdir().unwrap();
    std::fs::set_permissions(sys.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let victims_before = contents(v.dir.path());
    let sys_before = contents(sys.path());

    // What the user plants: an interrupted run, a dangling lock link, rc and JSON links.
    let state = u.home.join(".local/state/cclocal");
    std::fs::create_dir_all(&state).unwrap();
    for p in [u.home.join(".local"), u.home.join(".local/state")] {
        u.give(&p);
    }
    for p in plant_run(&state, &v) {
        u.give(&p);
    }
    let lock = state.join("lock");
    std::os::unix::fs::symlink(v.path("nologin"), &lock).unwrap();
    u.give(&lock);
    let bashrc = u.home.join(".bashrc");
    let _ = std::fs::remove_file(&bashrc);
    std::os::unix::fs::symlink(v.path("root-bashrc"), &bashrc).unwrap();
    u.give(&bashrc);
    let cj = u.home.join(".claude.json");
    std::os::unix::fs::symlink(v.path("root.json"), &cj).unwrap();
    u.give(&cj);

    // Root runs setup, alias --write and undo on that HOME.
    let o = u.cclocal(&refs(&setup_args(sys.path(), &["--yes"])));
    let setup_out = text(&o);
    assert!(
        setup_out.contains(&format!("working as {} (uid {})", u.name, u.uid)),
        "{setup_out}"
    );
    assert!(
        setup_out.contains("refused to recover from") && setup_out.contains("journal.json"),
        "the planted journal is refused, named: {setup_out}"
    );
    assert!(
        !o.status.success(),
        "~/.claude.json leads to root's file: {setup_out}"
    );
    let o = u.cclocal(&["alias", "bash", "--write"]);
    assert!(!o.status.success(), "{}", text(&o));
    let o = u.cclocal(&["undo"]);
    let undo_out = text(&o);
    assert!(!o.status.success(), "{undo_out}");
    assert!(
        undo_out.contains("manifest.json") && undo_out.contains("not a file setup plans"),
        "the planted manifest is refused, named: {undo_out}"
    );
    assert!(!undo_out.contains("panicked"), "{undo_out}");

    // Nothing outside the HOME changed: no file made, appended to or deleted.
    assert_eq!(
        contents(v.dir.path()),
        victims_before,
        "{setup_out}\n{undo_out}"
    );
    assert!(
        !v.path("nologin").exists(),
        "the dangling lock link was never followed"
    );
    assert!(!v.path("sudoers.d/cclocal-evil").exists());
    assert_eq!(
        contents(sys.path()),
        sys_before,
        "no ollama.service: no drop-in"
    );
    let lm = std::fs::symlink_metadata(&lock).unwrap();
    assert!(
        lm.is_file() && lm.uid() == u.uid,
        "the lock is the user's own file now"
    );

    // Without the links into root's files, the same commands succeed, as the user.
    std::fs::remove_file(&bashrc).unwrap();
    std::fs::write(&bashrc, "# the user's bashrc\n").unwrap();
    u.give(&bashrc);
    std::fs::remove_file(&cj).unwrap();
    plant_ollama_service(sys.path());
    let o = u.cclocal(&refs(&setup_args(sys.path(), &["--yes"])));
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    let dropin = sys
        .path()
        .join("etc/systemd/system/ollama.service.d/cclocal.conf");
    let d = std::fs::metadata(&dropin).unwrap();
    assert_eq!(d.uid(), 0, "root installed the drop-in");
    assert!(std::fs::read_to_string(&dropin)
        .unwrap()
        .contains("OLLAMA_CONTEXT_LENGTH=65536"));
    assert!(
        sys.path().join("var/lib/cclocal/runs").is_dir(),
        "recorded in root's own folder"
    );
    let installed = out
        .find("root installed")
        .expect("root says it installed it");
    let start = out
        .find("start Claude Code with")
        .expect("the launcher line");
    assert!(
        installed < start,
        "said once the drop-in is in place: {out}"
    );
    let o = u.cclocal(&["alias", "bash", "--write"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(std::fs::read_to_string(&bashrc)
        .unwrap()
        .starts_with("# the user's bashrc\n"));
    assert_eq!(
        not_owned_by(&u.home, u.uid),
        Vec::<String>::new(),
        "everything in HOME is the user's"
    );
    for _ in 0..2 {
        let o = u.cclocal(&["undo"]);
        assert!(o.status.success(), "{}", text(&o));
    }
    assert_eq!(
        std::fs::read_to_string(&bashrc).unwrap(),
        "# the user's bashrc\n"
    );
    assert!(!cj.exists(), "undo took back the file setup created");
    assert_eq!(not_owned_by(&u.home, u.uid), Vec::<String>::new());
    // Root's own record takes back root's file.
    let o = u.cclocal(&[
        "undo",
        "--system",
        "--system-root",
        sys.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!dropin.exists());
    assert_eq!(contents(v.dir.path()), victims_before);
}

#[test]
fn root_refuses_a_home_whose_folders_belong_to_two_users() {
    let Some(u) = RealUser::new("b") else { return };
    let state = u.home.join(".local/state/cclocal");
    std::fs::create_dir_all(&state).unwrap();
    u.give(&u.home.join(".local"));
    u.give(&u.home.join(".local/state"));
    // The state folder belongs to another user (nobody): refused before anything is read.
    std::os::unix::fs::lchown(&state, Some(65534), Some(65534)).unwrap();
    let o = u.cclocal(&["undo"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("one user's files only"), "{}", text(&o));
    assert!(text(&o).contains("sudo -u USER"), "{}", text(&o));
}

#[test]
fn root_never_runs_a_program_the_users_launcher_names() {
    // The launcher's `exec` line names a program the user owns (and can rewrite). doctor,
    // status and verify run the Claude Code it names: as root on the user's HOME they must
    // run it as the user, never as root.
    let Some(u) = RealUser::new("x") else { return };
    let bin = u.home.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    u.give(&bin);
    let claude = bin.join("claude");
    let record = u.home.join("ran-as");
    std::fs::write(
        &claude,
        format!(
            "#!/bin/sh\nid -u >> '{}'\necho '2.1.332 (Claude Code)'\n",
            record.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&claude, std::fs::Permissions::from_mode(0o755)).unwrap();
    u.give(&claude);
    let user_path = format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display());
    let o = u.cclocal_on(
        &[
            "setup",
            "--yes",
            "--only",
            "launcher",
            "--model",
            "m",
            "--ctx",
            "32768",
            "--host",
            "http://127.0.0.1:9",
            "--no-verify",
        ],
        &user_path,
    );
    assert!(o.status.success(), "{}", text(&o));
    let launcher = std::fs::read_to_string(u.home.join(".local/bin/claude-local")).unwrap();
    assert!(
        launcher.contains(&claude.display().to_string()),
        "{launcher}"
    );
    let _ = std::fs::remove_file(&record);
    // Root's own PATH has no `claude`: the only one to run is the launcher's.
    for args in [&["doctor"][..], &["status"], &["verify", "--timeout", "20"]] {
        let o = u.cclocal(args);
        let ran = std::fs::read_to_string(&record).unwrap_or_default();
        assert!(
            !ran.lines().any(|l| l.trim() == "0"),
            "{args:?} ran the user's program as root: {ran}\n{}",
            text(&o)
        );
    }
    let ran = std::fs::read_to_string(&record).unwrap_or_default();
    assert!(
        ran.lines().any(|l| l.trim() == u.uid.to_string()),
        "the launcher's program ran as the user: {ran:?}"
    );
}

#[test]
fn the_ollama_drop_in_is_written_only_where_ollama_service_exists() {
    let t = TestHome::new();
    t.remove_ollama_service();
    let before = contents(&t.root());
    let o = t.setup(&["--yes"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert_eq!(contents(&t.root()), before, "no drop-in: {out}");
    assert!(
        out.contains("there is no ollama.service on this machine")
            && out.contains("OLLAMA_CONTEXT_LENGTH=65536")
            && out.contains("ollama serve"),
        "says so, and how to run the server with the settings: {out}"
    );
    assert!(
        !out.lines().any(|l| l.starts_with("start Claude Code with")),
        "never says to start Claude Code as if the server were set: {out}"
    );
    assert!(out.contains("once Ollama runs with those settings, start Claude Code with"));
    assert!(
        !out.contains("systemctl"),
        "no systemctl call or error: {out}"
    );
    // With the service, the drop-in is written.
    plant_ollama_service(&t.root());
    let o = t.setup(&["--yes"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(t
        .root()
        .join("etc/systemd/system/ollama.service.d/cclocal.conf")
        .is_file());
}

#[test]
fn root_on_its_own_home_refuses_a_planted_journal_and_manifest() {
    if !is_root() {
        eprintln!("skipping: needs root");
        return;
    }
    let t = TestHome::new();
    let v = Victims::new();
    let before = contents(v.dir.path());
    let state = t.home().join(".local/state/cclocal");
    plant_run(&state, &v);
    // A dangling lock link aimed at a root stand-in path.
    std::os::unix::fs::symlink(v.path("nologin"), state.join("lock")).unwrap();
    let o = t.setup(&["--yes"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("refused to recover from"), "{out}");
    // The library hands the note back; setup says it.
    assert!(
        out.contains("was a symlink; cclocal's lock is its own file"),
        "{out}"
    );
    assert!(!v.path("nologin").exists(), "{out}");
    assert!(std::fs::symlink_metadata(state.join("lock"))
        .unwrap()
        .is_file());
    assert_eq!(contents(v.dir.path()), before, "{out}");
    // undo takes back setup's run, then stops at the planted one, naming it.
    let o = t.run(&["undo"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = t.run(&["undo"]);
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(
        out.contains(&format!("{PLANTED_RUN}/manifest.json")) && out.contains("sudoers.d"),
        "{out}"
    );
    assert_eq!(contents(v.dir.path()), before, "{out}");
}
