//! The record of each run that changed files: a directory per run under
//! `<state>/runs/<id>/` holding `manifest.json`, a copy of every replaced file (`before-N`)
//! and of what was written (`after-N`). `cclocal undo` reads it back.

use super::plan::{ChangeKind, FileChange};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

pub const MANIFEST_FILE: &str = "manifest.json";

/// One file a run touched.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    /// The path as the user named it.
    pub path: PathBuf,
    /// The file that was written (a symlink's target).
    pub real_path: PathBuf,
    pub what: String,
    pub action: ChangeKind,
    /// File name of the saved previous content in the run directory.
    pub before: Option<String>,
    pub before_mode: Option<u32>,
    /// File name of the saved new content in the run directory.
    pub after: Option<String>,
    pub after_mode: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub version: u32,
    pub id: String,
    pub created_unix: u64,
    pub command: String,
    pub entries: Vec<Entry>,
    /// Directories the run created (outermost first); undo removes them when empty.
    #[serde(default)]
    pub created_dirs: Vec<PathBuf>,
    #[serde(default)]
    pub notes: Vec<String>,
    /// When `cclocal undo` took this run back.
    #[serde(default)]
    pub undone_unix: Option<u64>,
}

fn now() -> (u64, u32) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs(), d.subsec_nanos())
}

fn entry_for(i: usize, c: &FileChange) -> Entry {
    Entry {
        path: c.path.clone(),
        real_path: c.real_path.clone(),
        what: c.what.clone(),
        action: c.kind,
        before: c.old.as_ref().map(|_| format!("before-{i}")),
        before_mode: c.old_mode,
        after: c.new_bytes.as_ref().map(|_| format!("after-{i}")),
        after_mode: c.new_bytes.as_ref().map(|_| c.mode),
    }
}

impl Manifest {
    /// A manifest for a run that was not recorded (undo applying its own plan).
    pub fn unrecorded(changes: &[&FileChange]) -> Manifest {
        Manifest {
            version: 1,
            id: String::new(),
            created_unix: now().0,
            command: String::new(),
            entries: changes
                .iter()
                .enumerate()
                .map(|(i, c)| entry_for(i, c))
                .collect(),
            created_dirs: Vec::new(),
            notes: Vec::new(),
            undone_unix: None,
        }
    }
}

/// Creates `dir` with mode 0700 (its missing ancestors get the usual mode).
fn private_dir(dir: &Path) -> Result<()> {
    let err =
        |e| Error::io(dir, "create cclocal's state directory", e).with_hint("nothing was changed");
    if let Some(parent) = dir.parent() {
        fs::create_dir_all(parent).map_err(err)?;
    }
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(err(e)),
        _ => Ok(()),
    }
}

fn save_private(path: &Path, bytes: &[u8]) -> Result<()> {
    super::apply::write_atomic(path, bytes, 0o600)
}

pub fn write_manifest(run_dir: &Path, m: &Manifest) -> Result<()> {
    let mut json = serde_json::to_vec_pretty(m).expect("manifest serializes");
    json.push(b'\n');
    save_private(&run_dir.join(MANIFEST_FILE), &json)
}

/// Saves a new run (backups, new contents, manifest) before anything is applied.
pub fn save_run(
    runs_dir: &Path,
    command: &str,
    changes: &[&FileChange],
    notes: &[String],
) -> Result<(Manifest, PathBuf)> {
    private_dir(runs_dir)?;
    let (secs, nanos) = now();
    let mut id = format!("{secs:011}-{nanos:09}");
    let mut dir = runs_dir.join(&id);
    let mut n = 0;
    while dir.exists() {
        n += 1;
        id = format!("{secs:011}-{nanos:09}-{n}");
        dir = runs_dir.join(&id);
    }
    private_dir(&dir)?;
    let m = Manifest {
        version: 1,
        id,
        created_unix: secs,
        command: command.to_string(),
        entries: changes
            .iter()
            .enumerate()
            .map(|(i, c)| entry_for(i, c))
            .collect(),
        created_dirs: Vec::new(),
        notes: notes.to_vec(),
        undone_unix: None,
    };
    let saved = (|| {
        for (i, c) in changes.iter().enumerate() {
            if let Some(b) = &c.old {
                save_private(&dir.join(format!("before-{i}")), b)?;
            }
            if let Some(b) = &c.new_bytes {
                save_private(&dir.join(format!("after-{i}")), b)?;
            }
        }
        write_manifest(&dir, &m)
    })();
    if let Err(e) = saved {
        let _ = fs::remove_dir_all(&dir);
        return Err(e);
    }
    Ok((m, dir))
}

/// Every recorded run, oldest first. Unreadable run directories are skipped.
pub fn list_runs(runs_dir: &Path) -> Result<Vec<Manifest>> {
    let rd = match fs::read_dir(runs_dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(runs_dir, "read the run history", e)),
    };
    let mut runs = Vec::new();
    for ent in rd.flatten() {
        let p = ent.path().join(MANIFEST_FILE);
        if let Ok(bytes) = fs::read(&p) {
            if let Ok(m) = serde_json::from_slice::<Manifest>(&bytes) {
                runs.push(m);
            }
        }
    }
    runs.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(runs)
}

/// Reads a saved file of run `m`.
pub fn saved_bytes(runs_dir: &Path, m: &Manifest, name: &str) -> Result<Vec<u8>> {
    let p = runs_dir.join(&m.id).join(name);
    fs::read(&p).map_err(|e| {
        Error::io(&p, "read the saved copy", e)
            .with_hint("the run's backup is gone; undo cannot restore it")
    })
}

/// Marks run `m` as undone.
pub fn mark_undone(runs_dir: &Path, m: &Manifest) -> Result<()> {
    let mut m = m.clone();
    m.undone_unix = Some(now().0);
    write_manifest(&runs_dir.join(&m.id), &m)
}

/// `2026-11-25 20:02:11 UTC` for a Unix time.
pub fn format_time(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Keeps saved files private even when the umask is loose.
pub fn is_private(path: &Path) -> bool {
    fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o077 == 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_format() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_time(1_764_100_931), "2025-11-25 20:02:11 UTC");
        assert_eq!(format_time(951_782_400), "2000-02-29 00:00:00 UTC");
    }
}
