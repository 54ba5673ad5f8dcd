//! A plan: every file a command wants to create, change or remove, with the bytes and mode
//! it will have, and what the file held when the plan was made. Nothing is written here.

use crate::error::{Error, Result};
use std::fs;
use std::io::ErrorKind as IoKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// What applying a change does to its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Create,
    Modify,
    Delete,
    Unchanged,
}

/// The mode a written file gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeRule {
    /// Exactly this mode.
    Exact(u32),
    /// The existing file's mode, or this one for a new file.
    KeepOr(u32),
}

/// One file of a plan.
#[derive(Debug, Clone)]
pub struct FileChange {
    /// The path as the user knows it.
    pub path: PathBuf,
    /// The file actually written: `path`, or the file a symlink at `path` points to.
    pub real_path: PathBuf,
    /// New content; `None` removes the file.
    pub new_bytes: Option<Vec<u8>>,
    pub mode: u32,
    pub kind: ChangeKind,
    /// Content when the plan was made (`None`: the file did not exist).
    pub old: Option<Vec<u8>>,
    pub old_mode: Option<u32>,
    /// What the file is, for people ("launcher", "Claude Code settings").
    pub what: String,
}

/// Reads a file's bytes and mode, `None` when it does not exist. A symlink is followed;
/// anything but a regular file is refused.
pub fn read_current(path: &Path) -> Result<Option<(Vec<u8>, u32)>> {
    match fs::metadata(path) {
        Ok(m) if !m.is_file() => Err(Error::usage(
            "not a regular file; cclocal will not replace it",
        )
        .with_subject(path.display().to_string())
        .with_hint("move it out of the way, or choose another path")),
        Ok(m) => {
            let bytes = fs::read(path).map_err(|e| Error::io(path, "read", e))?;
            Ok(Some((bytes, m.permissions().mode() & 0o7777)))
        }
        Err(e) if e.kind() == IoKind::NotFound => {
            if fs::symlink_metadata(path).is_ok() {
                return Err(Error::usage("a dangling symlink is in the way")
                    .with_subject(path.display().to_string())
                    .with_hint("remove the symlink or point it at a file"));
            }
            Ok(None)
        }
        Err(e) => Err(Error::io(path, "inspect", e)),
    }
}

/// Follows a symlink at `path` to the file it names (so that dotfile managers keep their
/// links); other paths are returned as they are.
fn resolve(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

impl FileChange {
    /// Plans writing `bytes` to `path`.
    pub fn write(
        path: impl Into<PathBuf>,
        bytes: Vec<u8>,
        mode: ModeRule,
        what: &str,
    ) -> Result<FileChange> {
        let path = path.into();
        let real_path = resolve(&path);
        let current = read_current(&real_path)?;
        let mode = match (mode, &current) {
            (ModeRule::Exact(m), _) | (ModeRule::KeepOr(m), None) => m,
            (ModeRule::KeepOr(_), Some((_, m))) => *m,
        };
        let kind = match &current {
            None => ChangeKind::Create,
            Some((b, m)) if *b == bytes && *m == mode => ChangeKind::Unchanged,
            Some(_) => ChangeKind::Modify,
        };
        let (old, old_mode) = current
            .map(|(b, m)| (Some(b), Some(m)))
            .unwrap_or((None, None));
        Ok(FileChange {
            path,
            real_path,
            new_bytes: Some(bytes),
            mode,
            kind,
            old,
            old_mode,
            what: what.into(),
        })
    }

    /// Plans removing `path` (nothing to do when it does not exist).
    pub fn delete(path: impl Into<PathBuf>, what: &str) -> Result<FileChange> {
        let path = path.into();
        let real_path = resolve(&path);
        let current = read_current(&real_path)?;
        let kind = if current.is_some() {
            ChangeKind::Delete
        } else {
            ChangeKind::Unchanged
        };
        let (old, old_mode) = current
            .map(|(b, m)| (Some(b), Some(m)))
            .unwrap_or((None, None));
        Ok(FileChange {
            path,
            real_path,
            new_bytes: None,
            mode: 0,
            kind,
            old,
            old_mode,
            what: what.into(),
        })
    }

    /// A unified diff from the current content to the planned one.
    pub fn diff(&self) -> String {
        let old_label = if self.old.is_some() {
            self.path.display().to_string()
        } else {
            "/dev/null".into()
        };
        let new_label = if self.new_bytes.is_some() {
            self.path.display().to_string()
        } else {
            "/dev/null".into()
        };
        let old = self.old.as_deref().unwrap_or_default();
        let new = self.new_bytes.as_deref().unwrap_or_default();
        let mut out = String::new();
        if let (Some(a), Some(b)) = (self.old_mode, self.new_bytes.as_ref().map(|_| self.mode)) {
            if a != b {
                out.push_str(&format!("mode {a:o} -> {b:o}: {}\n", self.path.display()));
            }
        }
        match (std::str::from_utf8(old), std::str::from_utf8(new)) {
            (Ok(a), Ok(b)) => {
                if a != b {
                    let d = similar::TextDiff::from_lines(a, b);
                    out.push_str(
                        &d.unified_diff()
                            .context_radius(3)
                            .header(&old_label, &new_label)
                            .to_string(),
                    );
                }
            }
            _ => out.push_str(&format!("binary file {} differs\n", self.path.display())),
        }
        out
    }
}

/// Everything a command wants to write, plus what it wants to tell the user.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub changes: Vec<FileChange>,
    /// Things to tell the user (commands to run by hand, warnings).
    pub notes: Vec<String>,
}

impl Plan {
    pub fn push(&mut self, c: FileChange) {
        self.changes.push(c);
    }
    /// Changes that do something.
    pub fn effective(&self) -> impl Iterator<Item = &FileChange> {
        self.changes
            .iter()
            .filter(|c| c.kind != ChangeKind::Unchanged)
    }
    pub fn is_noop(&self) -> bool {
        self.effective().next().is_none()
    }
    /// One line per file: `create  ~/.local/bin/claude-local  (launcher)`.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for c in &self.changes {
            let verb = match c.kind {
                ChangeKind::Create => "create",
                ChangeKind::Modify => "change",
                ChangeKind::Delete => "remove",
                ChangeKind::Unchanged => "keep",
            };
            out.push_str(&format!("  {verb:<7} {}  ({})\n", c.path.display(), c.what));
        }
        out
    }
    /// Unified diffs of every effective change.
    pub fn diff(&self) -> String {
        self.effective().map(FileChange::diff).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_current_content() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        let c = FileChange::write(&p, b"a\n".to_vec(), ModeRule::Exact(0o644), "t").unwrap();
        assert_eq!(c.kind, ChangeKind::Create);
        assert!(c.diff().contains("+a"));
        fs::write(&p, "a\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        let c = FileChange::write(&p, b"a\n".to_vec(), ModeRule::Exact(0o644), "t").unwrap();
        assert_eq!(c.kind, ChangeKind::Unchanged);
        let c = FileChange::write(&p, b"a\n".to_vec(), ModeRule::Exact(0o755), "t").unwrap();
        assert_eq!(c.kind, ChangeKind::Modify);
        assert!(c.diff().contains("mode 644 -> 755"));
        let c = FileChange::write(&p, b"b\n".to_vec(), ModeRule::KeepOr(0o600), "t").unwrap();
        assert_eq!((c.kind, c.mode), (ChangeKind::Modify, 0o644));
        assert!(c.diff().contains("-a\n+b"));
        assert_eq!(
            FileChange::delete(&p, "t").unwrap().kind,
            ChangeKind::Delete
        );
        assert_eq!(
            FileChange::delete(d.path().join("nope"), "t").unwrap().kind,
            ChangeKind::Unchanged
        );
    }

    #[test]
    fn directories_are_refused() {
        let d = tempfile::tempdir().unwrap();
        assert!(FileChange::write(d.path(), vec![], ModeRule::Exact(0o644), "t").is_err());
    }

    #[test]
    fn symlinks_are_followed() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("real");
        fs::write(&target, "x").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let c = FileChange::write(&link, b"y".to_vec(), ModeRule::KeepOr(0o644), "t").unwrap();
        assert_eq!(c.real_path, fs::canonicalize(&target).unwrap());
        assert_eq!(c.old.as_deref(), Some(&b"x"[..]));
    }
}
