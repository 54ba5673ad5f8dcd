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
use super::paths::Paths;
use crate::error::{Error, ErrorKind, Result};
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
/// `saved`, `temps`, `rename-N` (before file N is checked and replaced), `renamed-N`.
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
    /// Messages about interrupted runs that were cleaned up.
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
    /// left and prunes old runs.
    pub fn begin(paths: &Paths) -> Result<Session> {
        let state_dir = &paths.state_dir;
        manifest::private_dir(state_dir)?;
        let lock_path = state_dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, "open the lock file", e))?;
        super::apply::adopt_owner(&lock_path);
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
        s.recovered = recover(paths)?;
        clean_state_temps(state_dir);
        s.pruned = manifest::prune(&paths.runs_dir(), manifest::KEEP_RUNS - 1);
        Ok(s)
    }

    /// Prints what was recovered (to stderr).
    pub fn report(&self) {
        for m in &self.recovered {
            eprintln!("{m}");
        }
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

/// Removes the temporary files process `pid` made beside `paths`.
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

/// Finishes what an interrupted run left: takes an interrupted run back, finishes an
/// interrupted undo, removes temporary files. Returns messages for the user.
pub fn recover(paths: &Paths) -> Result<Vec<String>> {
    let state_dir = &paths.state_dir;
    let jp = state_dir.join(JOURNAL_FILE);
    let bytes = match crate::fsread::read(&jp, crate::fsread::STATE) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(&jp, "read", e)),
    };
    let mut out = Vec::new();
    let runs_dir = paths.runs_dir();
    let Ok(j) = serde_json::from_slice::<Journal>(&bytes) else {
        // A journal is written atomically; a damaged one is not ours to act on.
        out.push(format!(
            "note: {} is damaged; it was set aside as journal.json.damaged",
            jp.display()
        ));
        let _ = fs::rename(&jp, state_dir.join("journal.json.damaged"));
        return Ok(out);
    };
    // Its temporary files first (they would keep created folders from being removed).
    let n = clean_temps(&j.paths, j.pid);
    let run = manifest::list_all(&runs_dir)?
        .into_iter()
        .find(|r| r.id() == j.run_id);
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
