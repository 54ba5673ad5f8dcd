//! Writing files safely, for every command: a temporary file beside the target, synced, then
//! renamed over it ([`write_atomic`]), and cclocal's private state folders ([`private_dir`]).
//! Setup's plan/apply (`crate::setup::apply`) builds its journaled runs on these.

use crate::error::{Error, ErrorKind, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The prefix of every temporary file this process makes beside `target`.
pub fn temp_prefix(target: &Path, pid: u32) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.cclocal-tmp-{pid}-")
}

/// Writes `bytes` to a new temporary file beside `target` with `mode`, synced to disk. It
/// belongs to whoever runs cclocal: root never works on another user's HOME
/// (`crate::privilege`), so no owner is ever copied.
pub fn write_temp(target: &Path, bytes: &[u8], mode: u32) -> Result<PathBuf> {
    write_temp_with(target, bytes, mode, true)
}

/// [`write_temp`]; `sync: false` leaves syncing to the caller (after the rename).
pub fn write_temp_with(target: &Path, bytes: &[u8], mode: u32, sync: bool) -> Result<PathBuf> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let prefix = temp_prefix(target, std::process::id());
    for n in 0..100u32 {
        let tmp = dir.join(format!("{prefix}{n}"));
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
            .and_then(|_| if sync { file.sync_all() } else { Ok(()) });
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

pub fn sync_dir(dir: &Path) {
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
pub fn create_dirs(dir: &Path, created: &mut Vec<PathBuf>) -> Result<()> {
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

/// Creates `dir` with mode 0700 (its missing ancestors get the usual mode).
pub fn private_dir(dir: &Path) -> Result<()> {
    let err =
        |e| Error::io(dir, "create cclocal's state directory", e).with_hint("nothing was changed");
    if let Some(parent) = dir.parent() {
        let mut created = Vec::new();
        create_dirs(parent, &mut created)?;
    }
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(err(e)),
        Err(_) => Ok(()),
        Ok(()) => Ok(()),
    }
}
