//! Applies a plan: all new contents go to temporary files beside their targets first (so a
//! full disk or a read-only directory stops the run before any file changed), then each
//! target is checked against what the plan read and renamed into place. Any failure puts
//! back what was already replaced.

use super::manifest::{self, Manifest};
use super::plan::{read_current, FileChange, Plan};
use crate::error::{Error, ErrorKind, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Where and how to record a run for `cclocal undo`.
pub struct Record<'a> {
    pub runs_dir: &'a Path,
    pub command: &'a str,
}

/// Writes `bytes` to a new temporary file beside `target` with `mode`, synced to disk.
fn write_temp(target: &Path, bytes: &[u8], mode: u32) -> Result<PathBuf> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for n in 0..100u32 {
        let tmp = dir.join(format!(".{name}.cclocal-tmp-{}-{n}", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp);
        let mut file = match file {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(
                    Error::io(dir, "create a temporary file in the directory", e).with_hint(
                        "make the directory writable (or choose another path); nothing was changed",
                    ),
                )
            }
        };
        let done = file
            .write_all(bytes)
            .and_then(|_| file.set_permissions(fs::Permissions::from_mode(mode)))
            .and_then(|_| file.sync_all());
        if let Err(e) = done {
            let _ = fs::remove_file(&tmp);
            return Err(Error::io(&tmp, "write", e).with_hint("nothing was changed"));
        }
        return Ok(tmp);
    }
    Err(
        Error::new(ErrorKind::Io, "could not pick a temporary file name")
            .with_subject(dir.display().to_string()),
    )
}

fn sync_dir(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Atomically replaces `target` with `bytes` (temp file + rename).
pub fn write_atomic(target: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let tmp = write_temp(target, bytes, mode)?;
    if let Err(e) = fs::rename(&tmp, target) {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(target, "replace", e));
    }
    sync_dir(target.parent().unwrap_or(Path::new(".")));
    Ok(())
}

/// Creates the missing ancestors of `dir`, returning those it created (outermost first).
fn create_dirs(dir: &Path, created: &mut Vec<PathBuf>) -> Result<()> {
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        cur = d.parent();
    }
    for d in missing.into_iter().rev() {
        match fs::create_dir(&d) {
            Ok(()) => created.push(d),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(Error::io(&d, "create the directory", e)
                    .with_hint("make the parent directory writable; nothing was changed"))
            }
        }
    }
    Ok(())
}

fn remove_dirs(created: &[PathBuf]) {
    for d in created.iter().rev() {
        let _ = fs::remove_dir(d);
    }
}

/// Checks that `c`'s file still holds what the plan read.
fn unchanged_since_plan(c: &FileChange) -> Result<()> {
    let now = read_current(&c.real_path)?;
    if now.as_ref().map(|(b, _)| b) != c.old.as_ref() {
        return Err(Error::new(ErrorKind::Io, "the file changed after cclocal read it; it was not overwritten")
            .with_subject(c.path.display().to_string())
            .with_hint("run the command again to plan against the new content; files already replaced in this run were put back"));
    }
    Ok(())
}

/// Puts back the files of `done` (in reverse) as the plan found them.
fn roll_back(done: &[&FileChange]) {
    for c in done.iter().rev() {
        match (&c.old, c.old_mode) {
            (Some(bytes), Some(mode)) => {
                let _ = write_atomic(&c.real_path, bytes, mode);
            }
            _ => {
                let _ = fs::remove_file(&c.real_path);
            }
        }
    }
}

/// Applies `plan`. Returns the recorded run, or `None` when there was nothing to do (then
/// no file, backup or manifest is touched).
pub fn apply(plan: &Plan, record: Option<Record<'_>>) -> Result<Option<Manifest>> {
    let changes: Vec<&FileChange> = plan.effective().collect();
    if changes.is_empty() {
        return Ok(None);
    }
    // The run's manifest and backups come first: if they cannot be saved, nothing changes.
    let run = match &record {
        Some(r) => Some(manifest::save_run(
            r.runs_dir,
            r.command,
            &changes,
            &plan.notes,
        )?),
        None => None,
    };
    let discard_run = |run: &Option<(Manifest, PathBuf)>| {
        if let Some((_, dir)) = run {
            let _ = fs::remove_dir_all(dir);
        }
    };
    // Phase 1: directories and temporary files.
    let mut created_dirs = Vec::new();
    let mut temps: Vec<Option<PathBuf>> = Vec::new();
    let cleanup_temps = |temps: &[Option<PathBuf>]| {
        for t in temps.iter().flatten() {
            let _ = fs::remove_file(t);
        }
    };
    for c in &changes {
        let step = match &c.new_bytes {
            Some(bytes) => create_dirs(
                c.real_path.parent().unwrap_or(Path::new(".")),
                &mut created_dirs,
            )
            .and_then(|_| write_temp(&c.real_path, bytes, c.mode))
            .map(Some),
            None => Ok(None),
        };
        match step {
            Ok(t) => temps.push(t),
            Err(e) => {
                cleanup_temps(&temps);
                remove_dirs(&created_dirs);
                discard_run(&run);
                return Err(e);
            }
        }
    }
    // Phase 2: check and rename.
    let mut done: Vec<&FileChange> = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        let step = unchanged_since_plan(c).and_then(|_| match &temps[i] {
            Some(tmp) => {
                fs::rename(tmp, &c.real_path).map_err(|e| Error::io(&c.real_path, "replace", e))
            }
            None => fs::remove_file(&c.real_path).map_err(|e| Error::io(&c.real_path, "remove", e)),
        });
        match step {
            Ok(()) => {
                sync_dir(c.real_path.parent().unwrap_or(Path::new(".")));
                done.push(c);
            }
            Err(e) => {
                roll_back(&done);
                cleanup_temps(&temps[i..]);
                remove_dirs(&created_dirs);
                discard_run(&run);
                return Err(e);
            }
        }
    }
    match run {
        Some((mut m, dir)) => {
            if !created_dirs.is_empty() {
                m.created_dirs = created_dirs;
                manifest::write_manifest(&dir, &m)?;
            }
            Ok(Some(m))
        }
        None => Ok(Some(Manifest::unrecorded(&changes))),
    }
}

#[cfg(test)]
mod tests {
    use super::super::plan::ModeRule;
    use super::*;

    #[test]
    fn applies_and_rolls_back_on_conflict() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("sub/a");
        let b = d.path().join("b");
        fs::write(&b, "old b").unwrap();
        let mut plan = Plan::default();
        plan.push(FileChange::write(&a, b"new a".to_vec(), ModeRule::Exact(0o644), "a").unwrap());
        plan.push(FileChange::write(&b, b"new b".to_vec(), ModeRule::KeepOr(0o644), "b").unwrap());
        // Someone edits b after the plan was made.
        fs::write(&b, "edited b").unwrap();
        let err = apply(&plan, None).unwrap_err();
        assert!(
            err.message.contains("changed after cclocal read it"),
            "{err}"
        );
        assert!(!a.exists(), "a must be rolled back");
        assert!(!d.path().join("sub").exists(), "created directory removed");
        assert_eq!(fs::read_to_string(&b).unwrap(), "edited b");
        let leftovers: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }

    #[test]
    fn noop_plan_records_nothing() {
        let d = tempfile::tempdir().unwrap();
        let runs = d.path().join("runs");
        let plan = Plan::default();
        assert!(apply(
            &plan,
            Some(Record {
                runs_dir: &runs,
                command: "t"
            })
        )
        .unwrap()
        .is_none());
        assert!(!runs.exists());
    }
}
