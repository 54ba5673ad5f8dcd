//! The record of each run that changed files: a directory per run under
//! `<state>/runs/<id>/` holding `manifest.json` and a copy of every replaced file
//! (`before-N`); what was written is recorded by its hash (`after_hash`), so a large file
//! is copied once, not twice. Runs beyond [`KEEP_RUNS`] are pruned (docs/safety.md).
//! `cclocal undo` reads it back.

use super::plan::{ChangeKind, FileChange, Level};
use crate::error::{Error, Result};
pub use crate::fs::private_dir;
use serde::{Deserialize, Serialize};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

pub const MANIFEST_FILE: &str = "manifest.json";

/// How many recorded runs are kept; older ones (and their backups) are pruned at the start
/// of the next run that writes. `cclocal undo` can take back at most this many runs.
pub const KEEP_RUNS: usize = 20;

/// A content hash (FNV-1a, 64 bit, plus the length) to recognise bytes cclocal wrote.
pub fn hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}:{}", bytes.len())
}

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
    /// File name of the saved new content (runs recorded before `after_hash` existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    pub after_mode: Option<u32>,
    /// [`hash`] of the content written.
    #[serde(default)]
    pub after_hash: Option<String>,
    /// [`hash`] of the content replaced.
    #[serde(default)]
    pub before_hash: Option<String>,
    /// The level of the change (whole file, one JSON key, the rc block).
    #[serde(default)]
    pub level: Level,
    /// For a JSON key: its raw value before (absent: `None`); for the rc block: the block's
    /// text before (none: `None`). Undo puts that back on the file's current content.
    #[serde(default)]
    pub before_part: Option<String>,
    /// Undo already took this file back (an undo that skipped other files, or was cut off).
    #[serde(default)]
    pub undone: bool,
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
    /// `None`: applied. `applying`: the run was cut off (the next run takes it back);
    /// `incomplete`: a rollback could not restore every file (undo finishes it).
    #[serde(default)]
    pub state: Option<String>,
}

fn now() -> (u64, u32) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs(), d.subsec_nanos())
}

/// What `level` covered before the change, from the old content.
pub fn before_part(c: &FileChange) -> Option<String> {
    let old = c.old.as_deref()?;
    match &c.level {
        Level::File => None,
        Level::JsonKey { key, .. } => super::claude_json::raw_value(&c.real_path, old, key)
            .ok()
            .flatten(),
        Level::RcBlock { .. } => std::str::from_utf8(old)
            .ok()
            .and_then(|t| crate::shell::find_block(t, &c.real_path).ok().flatten()),
    }
}

pub fn entry_for(i: usize, c: &FileChange) -> Entry {
    Entry {
        path: c.path.clone(),
        real_path: c.real_path.clone(),
        what: c.what.clone(),
        action: c.kind,
        before: c.old.as_ref().map(|_| format!("before-{i}")),
        before_mode: c.old_mode,
        after: None,
        after_mode: c.new_bytes.as_ref().map(|_| c.mode),
        after_hash: c.new_bytes.as_deref().map(hash),
        before_hash: c.old.as_deref().map(hash),
        level: c.level.clone(),
        before_part: before_part(c),
        undone: false,
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
            state: None,
        }
    }
}

/// Reads one of cclocal's own records (a manifest, a saved copy, the journal) without
/// following a symlink at its name (`O_NOFOLLOW`): a link planted there is an error, never
/// a way to read another file. Anything but a regular file is refused too.
pub fn read_own(path: &Path) -> std::io::Result<Vec<u8>> {
    crate::fsread::read_own(path, crate::fsread::STATE)
}

fn save_private(path: &Path, bytes: &[u8]) -> Result<()> {
    super::apply::write_atomic(path, bytes, 0o600)
}

pub fn write_manifest(run_dir: &Path, m: &Manifest) -> Result<()> {
    let mut json = serde_json::to_vec_pretty(m).expect("manifest serializes");
    json.push(b'\n');
    save_private(&run_dir.join(MANIFEST_FILE), &json)
}

/// A new run id (a directory name under `runs_dir` that does not exist yet).
pub fn new_run_id(runs_dir: &Path) -> String {
    let (secs, nanos) = now();
    let mut id = format!("{secs:011}-{nanos:09}");
    let mut n = 0;
    while runs_dir.join(&id).exists() {
        n += 1;
        id = format!("{secs:011}-{nanos:09}-{n}");
    }
    id
}

/// Saves a new run (backups and manifest, state `applying`) before anything is applied.
pub fn save_run(
    runs_dir: &Path,
    id: &str,
    command: &str,
    changes: &[&FileChange],
    notes: &[String],
) -> Result<(Manifest, PathBuf)> {
    private_dir(runs_dir)?;
    let secs = now().0;
    let dir = runs_dir.join(id);
    private_dir(&dir)?;
    let m = Manifest {
        version: 1,
        id: id.to_string(),
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
        state: Some("applying".into()),
    };
    let saved = (|| {
        for (i, c) in changes.iter().enumerate() {
            if let Some(b) = &c.old {
                save_private(&dir.join(format!("before-{i}")), b)?;
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

/// A run directory whose manifest cannot be read: what is known about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenRun {
    pub id: String,
    pub dir: PathBuf,
    /// Why the manifest cannot be used.
    pub error: String,
    /// The saved copies in the directory (`before-0`, …).
    pub files: Vec<String>,
    /// (backup file name, the path it was saved from), as far as the damaged manifest
    /// still names them.
    pub salvaged: Vec<(String, PathBuf)>,
}

/// One recorded run.
#[derive(Debug, Clone)]
pub enum Run {
    Ok(Manifest),
    Broken(BrokenRun),
}

impl Run {
    pub fn id(&self) -> &str {
        match self {
            Run::Ok(m) => &m.id,
            Run::Broken(b) => &b.id,
        }
    }
}

/// The (backup, path) pairs still legible in a damaged manifest: each `"real_path"` with
/// the `"before"` that follows it in the same entry.
fn salvage(text: &str) -> Vec<(String, PathBuf)> {
    let read_str = |s: &str| -> Option<String> {
        let s = s.trim_start().strip_prefix(':')?.trim_start();
        let mut de = serde_json::Deserializer::from_str(s).into_iter::<String>();
        de.next()?.ok()
    };
    let mut out = Vec::new();
    let parts: Vec<&str> = text.split("\"real_path\"").collect();
    for part in parts.iter().skip(1) {
        let Some(path) = read_str(part) else { continue };
        if let Some(i) = part.find("\"before\"") {
            if let Some(name) = read_str(&part[i + 8..]) {
                if name.starts_with("before-") {
                    out.push((name, PathBuf::from(path)));
                }
            }
        }
    }
    out
}

/// Every recorded run, oldest first, including those whose manifest cannot be read.
pub fn list_all(runs_dir: &Path) -> Result<Vec<Run>> {
    let rd = match fs::read_dir(runs_dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(runs_dir, "read the run history", e)),
    };
    let mut runs = Vec::new();
    for ent in rd.flatten() {
        let dir = ent.path();
        if !dir.is_dir() {
            continue;
        }
        let id = ent.file_name().to_string_lossy().into_owned();
        let p = dir.join(MANIFEST_FILE);
        let broken = |error: String, text: &str| {
            let mut files: Vec<String> = fs::read_dir(&dir)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .filter(|n| n != MANIFEST_FILE)
                        .collect()
                })
                .unwrap_or_default();
            files.sort();
            Run::Broken(BrokenRun {
                id: id.clone(),
                dir: dir.clone(),
                error,
                files,
                salvaged: salvage(text),
            })
        };
        match read_own(&p) {
            Ok(bytes) => match serde_json::from_slice::<Manifest>(&bytes) {
                Ok(m) if m.id == id => runs.push(Run::Ok(m)),
                Ok(_) => runs.push(broken(
                    "its manifest names another run".into(),
                    &String::from_utf8_lossy(&bytes),
                )),
                Err(e) => runs.push(broken(
                    format!("its manifest is damaged ({e})"),
                    &String::from_utf8_lossy(&bytes),
                )),
            },
            Err(e) => runs.push(broken(format!("its manifest cannot be read ({e})"), "")),
        }
    }
    runs.sort_by(|a, b| a.id().cmp(b.id()));
    Ok(runs)
}

/// Every recorded run with a readable manifest, oldest first.
pub fn list_runs(runs_dir: &Path) -> Result<Vec<Manifest>> {
    Ok(list_all(runs_dir)?
        .into_iter()
        .filter_map(|r| match r {
            Run::Ok(m) => Some(m),
            Run::Broken(_) => None,
        })
        .collect())
}

/// Removes the oldest intact runs beyond `keep` (damaged ones are kept for the user to look
/// at). Returns the ids removed. Runs call it with `KEEP_RUNS - 1` before they record one.
pub fn prune(runs_dir: &Path, keep: usize) -> Vec<String> {
    let Ok(all) = list_all(runs_dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    let excess = all.len().saturating_sub(keep);
    for r in all.iter().take(excess) {
        if let Run::Ok(m) = r {
            if m.state.is_none() && fs::remove_dir_all(runs_dir.join(&m.id)).is_ok() {
                removed.push(m.id.clone());
            }
        }
    }
    removed
}

/// Reads a saved file of run `m`.
pub fn saved_bytes(runs_dir: &Path, m: &Manifest, name: &str) -> Result<Vec<u8>> {
    let p = runs_dir.join(&m.id).join(name);
    read_own(&p).map_err(|e| {
        Error::io(&p, "read the saved copy", e)
            .with_hint("the run's backup is gone; undo cannot restore it")
    })
}

/// Marks run `m` as undone.
pub fn mark_undone(runs_dir: &Path, m: &Manifest) -> Result<()> {
    let mut m = m.clone();
    m.undone_unix = Some(now().0);
    m.state = None;
    write_manifest(&runs_dir.join(&m.id), &m)
}

pub fn now_unix() -> u64 {
    now().0
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
    fn damaged_manifests_still_name_their_backups() {
        let text = "{\"entries\": [{\"path\": \"/h/.bashrc\", \"real_path\": \"/h/dot/bashrc\", \"before\": \"before-0\"}, {\"real_path\": \"/h/x\", \"before\": null}, {\"real_path\": \"/h/\\\"q\", \"before\": \"before-2\"";
        assert_eq!(
            salvage(text),
            vec![
                ("before-0".to_string(), PathBuf::from("/h/dot/bashrc")),
                ("before-2".to_string(), PathBuf::from("/h/\"q")),
            ]
        );
    }

    #[test]
    fn hashes_differ_and_carry_the_length() {
        assert_ne!(hash(b"a"), hash(b"b"));
        assert!(hash(b"abc").ends_with(":3"));
    }

    #[test]
    fn time_format() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_time(1_764_100_931), "2025-11-25 20:02:11 UTC");
        assert_eq!(format_time(951_782_400), "2000-02-29 00:00:00 UTC");
    }
}
