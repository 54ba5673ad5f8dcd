//! What makes concurrent and interrupted runs safe (docs/safety.md):
//!
//! - a lock (`<state>/lock`, an advisory `flock` held while a run plans and writes): a
//!   second `setup`, `alias --write` or `undo` waits for the first, then refuses with a
//!   clear message when it takes too long;
//! - an intent journal (`<state>/journal.json`) written before the first temporary file
//!   and removed when the run is over: when cclocal is killed in between, the next run
//!   (under the lock, so the killed one is gone) takes the interrupted run back (or
//!   finishes an interrupted undo) and removes its temporary files;
//! - a test hook, `CCLOCAL_TEST_PAUSE_AT=<command>:<point>`, that stops the binary at a
//!   named point so that tests can kill it exactly there.

use super::manifest::{self, Run};
use crate::error::{Error, ErrorKind, Result};
use crate::paths::Paths;
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const JOURNAL_FILE: &str = "journal.json";
pub const LOCK_FILE: &str = "lock";

/// The intent of a run that is writing files.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Journal {
    /// `setup`, `alias`, `undo`.
    pub command: String,
    /// An undo of run `run_id` (else: the new run `run_id`).
    pub undo: bool,
    pub run_id: String,
    pub pid: u32,
    /// Every file the run may write (its temporary files lie beside them).
    pub paths: Vec<PathBuf>,
    pub started_unix: u64,
}

/// Writes the journal (synced) into `state_dir`.
pub fn write(state_dir: &Path, j: &Journal) -> Result<()> {
    let mut json = serde_json::to_vec_pretty(j).expect("journal serializes");
    json.push(b'\n');
    super::apply::write_atomic(&state_dir.join(JOURNAL_FILE), &json, 0o600)
}

/// Removes the journal: the run is over (done, or cleanly failed).
pub fn clear(state_dir: &Path) {
    let p = state_dir.join(JOURNAL_FILE);
    if fs::remove_file(&p).is_ok() {
        if let Ok(d) = File::open(state_dir) {
            let _ = d.sync_all();
        }
    }
}

/// Test hook: with `CCLOCAL_TEST_PAUSE_AT=<command>:<point>` the process prints
/// `cclocal-test-pause: <command>:<point>` on stderr and waits there until it is killed,
/// or, with `CCLOCAL_TEST_RESUME=<file>`, until that file exists. Points: `journal`,
/// `saved`, `dirs` (folders made), `temps`, `rename-N` (before file N is checked and
/// replaced), `locked-N` (Claude Code's lock taken for file N), `checked-N` (file N
/// matched its baseline, right before it is replaced), `renamed-N`.
pub fn pause_point(command: &str, point: &str) {
    let Some(want) = std::env::var_os("CCLOCAL_TEST_PAUSE_AT") else {
        return;
    };
    let here = format!("{command}:{point}");
    if want.to_str() == Some(here.as_str()) {
        eprintln!("cclocal-test-pause: {here}");
        let resume = std::env::var_os("CCLOCAL_TEST_RESUME").map(PathBuf::from);
        loop {
            if resume.as_ref().is_some_and(|r| r.exists()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A held lock on the state directory, plus what was found and done when it was taken.
pub struct Session {
    _lock: File,
    /// Messages about what was cleaned up (interrupted runs, a link planted at the lock's
    /// name), for the caller to show.
    pub recovered: Vec<String>,
    /// Runs pruned (beyond [`manifest::KEEP_RUNS`]).
    pub pruned: Vec<String>,
}

/// An exclusive `flock` on `f` without waiting: `Ok(false)` when another process holds it.
/// The kernel drops it when the holder exits, even by kill -9.
fn try_lock(f: &File) -> std::io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a file descriptor this `File` owns; no memory is passed.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

/// Opens (or creates) the lock file without ever following a symlink at its name: a link
/// planted there (even a dangling one) is removed and replaced by a new file made with
/// `O_CREAT|O_EXCL`, so the lock can never create or open a file elsewhere. The note says
/// that a link was removed, for the caller to show.
fn open_lock(lock_path: &Path) -> Result<(File, Option<String>)> {
    use std::os::unix::fs::OpenOptionsExt;
    let err = |e| Error::io(lock_path, "open the lock file", e);
    let mut note = None;
    for _ in 0..10 {
        let opened = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(lock_path);
        match opened {
            Ok(f) => {
                if !f.metadata().map_err(err)?.is_file() {
                    return Err(Error::usage("cclocal's lock is not a regular file")
                        .with_subject(lock_path.display().to_string())
                        .with_hint("remove it; cclocal makes a new one"));
                }
                return Ok((f, note));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                note = Some(format!(
                    "note: {} was a symlink; cclocal's lock is its own file, so the link was removed",
                    lock_path.display()
                ));
                let _ = fs::remove_file(lock_path);
            }
            Err(e) => return Err(err(e)),
        }
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(lock_path)
        {
            Ok(f) => return Ok((f, note)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(err(e)),
        }
    }
    Err(Error::new(
        ErrorKind::Io,
        "the lock file kept changing while cclocal opened it",
    )
    .with_subject(lock_path.display().to_string()))
}

/// How long a second run waits for the first (`CCLOCAL_LOCK_WAIT_SECS`, default 30).
fn lock_wait() -> Duration {
    std::env::var("CCLOCAL_LOCK_WAIT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(30))
}

impl Session {
    /// Takes the lock (waiting for another run), then finishes what an interrupted run
    /// left and prunes old runs. `records`: this command records a new run (setup, alias),
    /// so one place is made for it; `undo` records none, so all [`manifest::KEEP_RUNS`]
    /// stay undoable.
    pub fn begin(paths: &Paths, records: bool) -> Result<Session> {
        let state_dir = &paths.state_dir;
        manifest::private_dir(state_dir)?;
        let lock_path = state_dir.join(LOCK_FILE);
        let (lock, link_note) = open_lock(&lock_path)?;
        let start = Instant::now();
        let mut told = false;
        loop {
            match try_lock(&lock) {
                Ok(true) => break,
                Ok(false) => {
                    if start.elapsed() >= lock_wait() {
                        return Err(Error::new(
                            ErrorKind::Io,
                            "another cclocal setup, alias or undo is changing files; nothing was changed",
                        )
                        .with_subject(lock_path.display().to_string())
                        .with_hint("wait for it to finish, then run this command again"));
                    }
                    if !told {
                        eprintln!("waiting for another cclocal setup, alias or undo to finish…");
                        told = true;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(Error::io(&lock_path, "lock", e)),
            }
        }
        let mut s = Session {
            _lock: lock,
            recovered: Vec::new(),
            pruned: Vec::new(),
        };
        s.recovered = link_note.into_iter().chain(recover(paths)?).collect();
        clean_state_temps(state_dir);
        let keep = if records {
            manifest::KEEP_RUNS - 1
        } else {
            manifest::KEEP_RUNS
        };
        s.pruned = manifest::prune(&paths.runs_dir(), keep);
        Ok(s)
    }
}

/// Removes temporary files a killed run left inside cclocal's own state folder (its
/// journal, manifests, backups); only cclocal writes there, and the lock is held.
fn clean_state_temps(state_dir: &Path) {
    let mut dirs = vec![state_dir.to_path_buf(), state_dir.join("runs")];
    if let Ok(rd) = fs::read_dir(state_dir.join("runs")) {
        dirs.extend(rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
    }
    for d in dirs {
        if let Ok(rd) = fs::read_dir(&d) {
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().contains(".cclocal-tmp-") {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
    }
}

/// Removes the temporary files process `pid` made beside `paths` (checked by
/// [`super::allowed::check_journal`] first: only files setup plans).
fn clean_temps(paths: &[PathBuf], pid: u32) -> usize {
    let mut n = 0;
    for p in paths {
        let (Some(dir), Some(_)) = (p.parent(), p.file_name()) else {
            continue;
        };
        let prefix = super::apply::temp_prefix(p, pid);
        if let Ok(rd) = fs::read_dir(dir) {
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().starts_with(&prefix)
                    && fs::remove_file(e.path()).is_ok()
                {
                    n += 1;
                }
            }
        }
    }
    n
}

/// The folders where setup, alias and undo put temporary files: beside every file they
/// can write.
fn known_dirs(paths: &Paths) -> Vec<PathBuf> {
    let mut dirs = vec![
        paths.home.clone(),
        paths.home.join(".local/bin"),
        paths.config_dir.clone(),
        paths.config_dir.join("server"),
        paths.xdg_config.join("fish"),
        paths.xdg_config.join("systemd/user"),
        paths.home.join("Library/LaunchAgents"),
    ];
    if let Some(d) = paths.claude_json.parent() {
        dirs.push(d.to_path_buf());
    }
    if let Some(z) = std::env::var_os("ZDOTDIR").map(PathBuf::from) {
        dirs.push(z);
    }
    dirs.sort();
    dirs.dedup();
    dirs
}

/// `.NAME.cclocal-tmp-PID-N` or `...-PID-orig`: the PID, when `name` is such a name.
fn temp_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let (_, tail) = rest.rsplit_once(".cclocal-tmp-")?;
    let (pid, n) = tail.split_once('-')?;
    let n_ok = n == "orig" || (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if !n_ok || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Without a journal to name them: removes the temporary files that a process no longer
/// running left beside the files setup can write (their names say they are cclocal's, and
/// which process made them). The `-orig` copy is a hard link to a replaced file, whose
/// content is also in the run's backup. Only regular files are removed.
fn clean_orphan_temps(paths: &Paths) -> usize {
    let me = std::process::id();
    let mut n = 0;
    for d in known_dirs(paths) {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(pid) = temp_pid(&name) else { continue };
            if pid == me || alive(pid) {
                continue;
            }
            if e.file_type().is_ok_and(|t| t.is_file()) && fs::remove_file(e.path()).is_ok() {
                n += 1;
            }
        }
    }
    n
}

/// Finishes what an interrupted run left: takes an interrupted run back, finishes an
/// interrupted undo, removes temporary files. Returns messages for the user.
pub fn recover(paths: &Paths) -> Result<Vec<String>> {
    let state_dir = &paths.state_dir;
    let jp = state_dir.join(JOURNAL_FILE);
    let mut out = Vec::new();
    let bytes = match manifest::read_own(&jp) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e)
            if e.raw_os_error() == Some(libc::ELOOP)
                || e.kind() == std::io::ErrorKind::InvalidInput =>
        {
            // A symlink (or a FIFO, a folder) is not a journal cclocal wrote: never followed.
            let _ = fs::rename(&jp, state_dir.join("journal.json.refused"));
            out.push(format!(
                "note: {} is not a regular file (a symlink?); it was set aside as journal.json.refused and not followed",
                jp.display()
            ));
            return Ok(out);
        }
        Err(e) => return Err(Error::io(&jp, "read", e)),
    };
    let runs_dir = paths.runs_dir();
    let refused = |e: Error, out: &mut Vec<String>| {
        let _ = fs::rename(&jp, state_dir.join("journal.json.refused"));
        out.push(format!(
            "cclocal: refused to recover from {}: {}; it was set aside as journal.json.refused",
            jp.display(),
            e.message
        ));
    };
    let Ok(j) = serde_json::from_slice::<Journal>(&bytes) else {
        // A journal is written atomically; a damaged one is not ours to act on. The
        // temporary files a killed run leaves are still recognisable by their names.
        out.push(format!(
            "note: {} is damaged; it was set aside as journal.json.damaged",
            jp.display()
        ));
        let _ = fs::rename(&jp, state_dir.join("journal.json.damaged"));
        let n = clean_orphan_temps(paths);
        if n > 0 {
            out.push(format!(
                "  removed {n} temporary file(s) an interrupted run left"
            ));
        }
        return Ok(out);
    };
    // Only the files setup plans, whoever wrote the journal.
    if let Err(e) = super::allowed::check_journal(paths, &jp, &j) {
        refused(e, &mut out);
        return Ok(out);
    }
    let run = manifest::list_all(&runs_dir)?
        .into_iter()
        .find(|r| r.id() == j.run_id);
    if let Some(Run::Ok(m)) = &run {
        let mp = runs_dir.join(&m.id).join(manifest::MANIFEST_FILE);
        if let Err(e) = super::allowed::check_manifest(paths, &mp, m) {
            refused(e, &mut out);
            return Ok(out);
        }
    }
    // Its temporary files first (they would keep created folders from being removed).
    let n = clean_temps(&j.paths, j.pid);
    match run {
        Some(Run::Ok(m)) => {
            let done = super::undo::plan_undo(&runs_dir, &m, false)
                .and_then(|up| super::undo::apply_undo(&runs_dir, &m, &up).map(|_| up));
            let up = match done {
                Ok(up) => up,
                Err(e) => {
                    // Never block every later run: set the journal aside and say so; the
                    // run stays recorded, so `cclocal undo` can take it back later.
                    let _ = fs::rename(&jp, state_dir.join("journal.json.unfinished"));
                    out.push(format!(
                        "cclocal: an earlier `cclocal {}` (pid {}) was interrupted and could not be taken back yet: {}{}; run `cclocal undo` once that is fixed (its backups are in {})",
                        j.command,
                        j.pid,
                        e.message,
                        e.subject.map(|s| format!(" ({s})")).unwrap_or_default(),
                        runs_dir.join(&m.id).display()
                    ));
                    return Ok(out);
                }
            };
            let verb = if j.undo {
                "its undo was finished"
            } else {
                "what it had changed was taken back"
            };
            out.push(format!(
                "cclocal: an earlier `cclocal {}` (pid {}) was interrupted; {verb} ({} file(s))",
                j.command,
                j.pid,
                up.plan.effective().count()
            ));
            for (p, why) in &up.skipped {
                out.push(format!("  left {}: {why}", p.display()));
            }
        }
        Some(Run::Broken(b)) if !j.undo => {
            // Cut off while its backups were being saved: no file was replaced yet.
            if !b.dir.join(manifest::MANIFEST_FILE).exists() {
                let _ = fs::remove_dir_all(&b.dir);
            }
            out.push(format!(
                "cclocal: an earlier `cclocal {}` (pid {}) was interrupted before it changed any file",
                j.command, j.pid
            ));
        }
        Some(Run::Broken(b)) => out.push(format!(
            "cclocal: an earlier `cclocal undo` (pid {}) was interrupted, and the record of run {} is damaged: see `cclocal undo --list`",
            j.pid, b.id
        )),
        None => out.push(format!(
            "cclocal: an earlier `cclocal {}` (pid {}) was interrupted before it changed any file",
            j.command, j.pid
        )),
    }
    if n > 0 {
        out.push(format!("  removed {n} temporary file(s) it left"));
    }
    clear(state_dir);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_file_names_give_their_pid_and_nothing_else_does() {
        assert_eq!(temp_pid("..claude.json.cclocal-tmp-123-orig"), Some(123));
        assert_eq!(temp_pid(".bashrc.cclocal-tmp-77-0"), Some(77));
        for other in [
            ".bashrc",
            "bashrc.cclocal-tmp-77-0",
            ".bashrc.cclocal-tmp-77-",
            ".bashrc.cclocal-tmp--0",
            ".bashrc.cclocal-tmp-7x-0",
            ".bashrc.cclocal-tmp-77-0x",
            ".claude.json.cclocal-kept-12",
        ] {
            assert_eq!(temp_pid(other), None, "{other}");
        }
    }
}
