//! Claude Code's own lock on `~/.claude.json`, taken the way Claude Code takes it, so that a
//! Claude Code saving its configuration and cclocal editing the one key never interleave
//! (docs/safety.md "Claude Code's lock").
//!
//! What Claude Code does (seen in the strings of the npm builds 2.1.197 and 2.1.332): before
//! it rewrites its configuration file it creates the *directory* `<file>.lock` with
//! `mkdir` (the file name as configured, symlinks not resolved), reads the file again under
//! it, writes, and removes the directory with `rmdir`. A directory that already exists is
//! held, unless its modification time is more than 10 s old: then it is stale, removed, and
//! taken once more. The holder moves the directory's modification time forward every 5 s
//! (half the stale time) so that a long hold is not taken for stale. Claude Code retries a
//! held lock after 200, 400, 800, 1600, 3200 and 4000 ms (each times 1 to 2).

use crate::error::{Error, ErrorKind, Result};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// A lock directory older than this is stale (Claude Code's default).
pub const STALE: Duration = Duration::from_secs(10);
/// How often the holder renews the directory's modification time (half of [`STALE`]).
pub const RENEW: Duration = Duration::from_secs(5);

/// The lock Claude Code takes for the configuration file `config`: `<config>.lock`.
pub fn lock_path(config: &Path) -> PathBuf {
    let mut s = config.as_os_str().to_os_string();
    s.push(".lock");
    PathBuf::from(s)
}

/// How long cclocal waits for a Claude Code holding the lock
/// (`CCLOCAL_CLAUDE_LOCK_WAIT_SECS`, default 20: longer than Claude Code's own retries).
fn wait_limit() -> Duration {
    std::env::var("CCLOCAL_CLAUDE_LOCK_WAIT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(20))
}

/// The held lock. Dropping it removes the directory (when it is still this one).
pub struct ClaudeLock {
    dir: PathBuf,
    ino: (u64, u64),
    stop: Arc<AtomicBool>,
    renewer: Option<JoinHandle<()>>,
}

fn is_stale(m: &fs::Metadata) -> bool {
    m.modified()
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age > STALE)
}

/// One attempt, as Claude Code makes it: `mkdir`; when it exists, a stale directory is
/// removed and `mkdir` tried once more. `Ok(None)`: held by someone else.
fn try_take(dir: &Path) -> std::io::Result<Option<fs::Metadata>> {
    for stale_check in [true, false] {
        match fs::create_dir(dir) {
            Ok(()) => return fs::metadata(dir).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        if !stale_check {
            return Ok(None);
        }
        match fs::metadata(dir) {
            Ok(m) if is_stale(&m) => match fs::remove_dir(dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            },
            Ok(_) => return Ok(None),
            // Released in between: try again at once.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

impl ClaudeLock {
    /// Takes Claude Code's lock on `config`, waiting (bounded) while a Claude Code holds it.
    pub fn acquire(config: &Path) -> Result<ClaudeLock> {
        Self::acquire_within(config, wait_limit())
    }

    /// [`ClaudeLock::acquire`], waiting at most `limit`.
    pub fn acquire_within(config: &Path, limit: Duration) -> Result<ClaudeLock> {
        let dir = lock_path(config);
        let start = Instant::now();
        let mut told = false;
        let mut pause = Duration::from_millis(20);
        loop {
            match try_take(&dir) {
                Ok(Some(m)) => return Ok(ClaudeLock::held(dir, (m.dev(), m.ino()))),
                Ok(None) => {}
                Err(e) => {
                    return Err(
                        Error::io(&dir, "take Claude Code's lock", e).with_hint(format!(
                            "make {} writable; it was not changed",
                            config.parent().unwrap_or(Path::new(".")).display()
                        )),
                    )
                }
            }
            if start.elapsed() >= limit {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!(
                        "Claude Code held its lock on {} ({}) for more than {} s, so cclocal did not change the file",
                        config.display(),
                        dir.display(),
                        limit.as_secs()
                    ),
                )
                .with_subject(dir.display().to_string())
                .with_hint("a running Claude Code keeps renewing it; close the Claude Code sessions, then run the command again (a lock left by a killed Claude Code counts as stale after 10 s)"));
            }
            if !told && start.elapsed() >= Duration::from_millis(500) {
                eprintln!(
                    "waiting for Claude Code to release its lock on {}…",
                    config.display()
                );
                told = true;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(400));
        }
    }

    fn held(dir: PathBuf, ino: (u64, u64)) -> ClaudeLock {
        let stop = Arc::new(AtomicBool::new(false));
        let (d, s) = (dir.clone(), stop.clone());
        // Renew the modification time while held, as Claude Code does, so that a hold that
        // lasts (a slow disk) is never taken for stale.
        let renewer = std::thread::spawn(move || {
            let mut last = Instant::now();
            while !s.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
                if last.elapsed() >= RENEW {
                    if let Ok(f) = fs::File::open(&d) {
                        let _ = f.set_modified(SystemTime::now());
                    }
                    last = Instant::now();
                }
            }
        });
        ClaudeLock {
            dir,
            ino,
            stop,
            renewer: Some(renewer),
        }
    }

    /// Whether the lock directory is still the one this process made (no one judged it
    /// stale and took it over).
    pub fn still_held(&self) -> bool {
        fs::metadata(&self.dir).is_ok_and(|m| (m.dev(), m.ino()) == self.ino)
    }
}

impl Drop for ClaudeLock {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.renewer.take() {
            let _ = t.join();
        }
        if self.still_held() {
            let _ = fs::remove_dir(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taken_and_released_as_a_directory() {
        let d = tempfile::tempdir().unwrap();
        let cfg = d.path().join(".claude.json");
        let l = ClaudeLock::acquire(&cfg).unwrap();
        assert!(d.path().join(".claude.json.lock").is_dir());
        assert!(l.still_held());
        drop(l);
        assert!(!d.path().join(".claude.json.lock").exists());
    }

    #[test]
    fn a_stale_lock_is_taken_over_and_a_fresh_one_waited_for() {
        let d = tempfile::tempdir().unwrap();
        let cfg = d.path().join(".claude.json");
        let dir = lock_path(&cfg);
        fs::create_dir(&dir).unwrap();
        let old = SystemTime::now() - Duration::from_secs(60);
        fs::File::open(&dir).unwrap().set_modified(old).unwrap();
        let l = ClaudeLock::acquire(&cfg).unwrap();
        assert!(l.still_held());
        drop(l);
        fs::create_dir(&dir).unwrap();
        let e = ClaudeLock::acquire_within(&cfg, Duration::ZERO)
            .err()
            .unwrap();
        assert!(e.message.contains("held its lock"), "{e}");
        assert!(dir.is_dir(), "someone else's lock is left alone");
    }
}
