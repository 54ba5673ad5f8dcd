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

/// The level at which cclocal changes a file, and so the level at which apply re-applies
/// the change to content that moved on and undo takes it back (docs/safety.md).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Level {
    /// A file cclocal owns: written and taken back whole.
    #[default]
    File,
    /// One top-level key of a JSON file cclocal does not own (`~/.claude.json`): set to the
    /// raw JSON text `value`, or removed when `None`.
    JsonKey { key: String, value: Option<String> },
    /// cclocal's marked block in a shell rc file: replaced by `block`, or removed when `None`.
    RcBlock { block: Option<String> },
}

impl Level {
    /// The new content for a file holding `current` (`None`: missing), or `None` when the
    /// change is already there. `Level::File` has no edit of its own.
    pub fn edit(&self, path: &Path, current: Option<&[u8]>) -> Result<Option<Vec<u8>>> {
        match self {
            Level::File => Ok(None),
            Level::JsonKey {
                key,
                value: Some(v),
            } => super::claude_json::set_key(path, current, key, v),
            Level::JsonKey { key, value: None } => match current {
                Some(b) => super::claude_json::remove_key(path, b, key),
                None => Ok(None),
            },
            Level::RcBlock { block } => {
                let text = match current {
                    Some(b) => std::str::from_utf8(b).map_err(|_| {
                        Error::parse("the rc file is not UTF-8 text; cclocal leaves it alone")
                            .with_subject(path.display().to_string())
                    })?,
                    None if block.is_none() => return Ok(None),
                    None => "",
                };
                let new = match block {
                    Some(b) => crate::shell::upsert_block(text, b, path)?,
                    None => crate::shell::remove_block(text, path)?,
                };
                Ok((current != Some(new.as_bytes())).then(|| new.into_bytes()))
            }
        }
    }
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
    /// The level of the change (whole file, one JSON key, the rc block).
    pub level: Level,
    /// Hard links of the existing file (more than 1: written in place, not renamed over).
    pub nlink: u64,
}

/// Reads a file's bytes and mode, `None` when it does not exist. A symlink is followed;
/// anything but a regular file is refused.
pub fn read_current(path: &Path) -> Result<Option<(Vec<u8>, u32)>> {
    Ok(read_with_links(path)?.map(|(b, m, _)| (b, m)))
}

/// [`read_current`] plus the file's hard-link count.
pub fn read_with_links(path: &Path) -> Result<Option<(Vec<u8>, u32, u64)>> {
    use std::os::unix::fs::MetadataExt;
    match fs::metadata(path) {
        Ok(m) if !m.is_file() => Err(Error::usage(
            "not a regular file; cclocal will not replace it",
        )
        .with_subject(path.display().to_string())
        .with_hint("move it out of the way, or choose another path")),
        Ok(m) => {
            let bytes = crate::fsread::read(path, crate::fsread::EDITED)
                .map_err(|e| Error::io(path, "read", e))?;
            Ok(Some((bytes, m.permissions().mode() & 0o7777, m.nlink())))
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

/// Refuses to edit a file of the user's that has no write permission for its owner (a
/// `chmod 444 ~/.bashrc`): a read-only file says "leave me alone", so cclocal does not edit
/// it behind the user's back, whoever runs it (docs/safety.md).
pub fn check_writable(path: &Path, mode: u32, level: &Level) -> Result<()> {
    if mode & 0o200 != 0 {
        return Ok(());
    }
    Err(Error::usage(format!(
        "{} is read-only (mode {:04o}); cclocal does not edit a file you made read-only",
        path.display(),
        mode & 0o7777
    ))
    .with_subject(path.display().to_string())
    .with_hint(format!(
        "to let cclocal edit it, run `chmod u+w {}` and run the command again{}",
        crate::shell::quote::sh_quote(&path.display().to_string()),
        match level {
            Level::JsonKey { .. } => "; or leave it out with `--skip onboarding`",
            Level::RcBlock { .. } => "; or add the lines `cclocal alias` prints yourself",
            Level::File => "",
        }
    )))
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
        let current = read_with_links(&real_path)?;
        Ok(Self::from_read(
            path,
            real_path,
            current,
            bytes,
            mode,
            what,
            Level::File,
        ))
    }

    /// Plans an edit at `level` of the file at `path`: the file is read once, the edit is
    /// computed on those bytes, and the same bytes are the baseline apply checks before it
    /// renames (docs/safety.md).
    pub fn edit(
        path: impl Into<PathBuf>,
        level: Level,
        mode: ModeRule,
        what: &str,
    ) -> Result<FileChange> {
        let path = path.into();
        let real_path = resolve(&path);
        let current = read_with_links(&real_path)?;
        let new = level.edit(&path, current.as_ref().map(|(b, _, _)| b.as_slice()))?;
        if let (Some(_), Some((_, m, _))) = (&new, &current) {
            check_writable(&path, *m, &level)?;
        }
        let bytes = match (new, &current) {
            (Some(b), _) => b,
            (None, Some((b, _, _))) => b.clone(),
            (None, None) => {
                // Nothing to remove from a missing file.
                return Ok(FileChange {
                    path,
                    real_path,
                    new_bytes: None,
                    mode: 0,
                    kind: ChangeKind::Unchanged,
                    old: None,
                    old_mode: None,
                    what: what.into(),
                    level,
                    nlink: 0,
                });
            }
        };
        let mut c = Self::from_read(path, real_path, current, bytes, mode, what, level);
        if c.kind == ChangeKind::Modify && c.new_bytes == c.old {
            c.kind = ChangeKind::Unchanged;
        }
        Ok(c)
    }

    fn from_read(
        path: PathBuf,
        real_path: PathBuf,
        current: Option<(Vec<u8>, u32, u64)>,
        bytes: Vec<u8>,
        mode: ModeRule,
        what: &str,
        level: Level,
    ) -> FileChange {
        let nlink = current.as_ref().map_or(0, |c| c.2);
        let current = current.map(|(b, m, _)| (b, m));
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
        FileChange {
            path,
            real_path,
            new_bytes: Some(bytes),
            mode,
            kind,
            old,
            old_mode,
            what: what.into(),
            level,
            nlink,
        }
    }

    /// Plans removing `path` (nothing to do when it does not exist).
    pub fn delete(path: impl Into<PathBuf>, what: &str) -> Result<FileChange> {
        let path = path.into();
        let real_path = resolve(&path);
        let current = read_with_links(&real_path)?;
        Ok(Self::delete_read(path, real_path, current, what))
    }

    /// Plans writing `bytes` (or removing the file, `None`) over `current`, the one read of
    /// the file at `real_path` that is also apply's baseline.
    pub fn on_read(
        path: PathBuf,
        real_path: PathBuf,
        current: Option<(Vec<u8>, u32, u64)>,
        bytes: Option<Vec<u8>>,
        mode: ModeRule,
        what: &str,
    ) -> FileChange {
        match bytes {
            Some(b) => Self::from_read(path, real_path, current, b, mode, what, Level::File),
            None => Self::delete_read(path, real_path, current, what),
        }
    }

    fn delete_read(
        path: PathBuf,
        real_path: PathBuf,
        current: Option<(Vec<u8>, u32, u64)>,
        what: &str,
    ) -> FileChange {
        let nlink = current.as_ref().map_or(0, |c| c.2);
        let current = current.map(|(b, m, _)| (b, m));
        let kind = if current.is_some() {
            ChangeKind::Delete
        } else {
            ChangeKind::Unchanged
        };
        let (old, old_mode) = current
            .map(|(b, m)| (Some(b), Some(m)))
            .unwrap_or((None, None));
        FileChange {
            path,
            real_path,
            new_bytes: None,
            mode: 0,
            kind,
            old,
            old_mode,
            what: what.into(),
            level: Level::File,
            nlink,
        }
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
    /// Values never shown: diffs print `********` instead (an `--auth-token`).
    pub secrets: Vec<String>,
}

/// `text` with every secret replaced by `********` (`crate::secret::mask`).
pub fn mask(text: &str, secrets: &[String]) -> String {
    crate::secret::mask(text, secrets)
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
    /// A machine-readable summary: one object per file (path, action, mode, level, and the
    /// backup path when `run` recorded one). `runs_dir`/`run` name the recorded run.
    pub fn to_json(
        &self,
        run: Option<(&Path, &super::manifest::Manifest)>,
    ) -> Vec<serde_json::Value> {
        self.changes
            .iter()
            .map(|c| {
                let entry = run.and_then(|(dir, m)| {
                    m.entries
                        .iter()
                        .find(|e| e.real_path == c.real_path)
                        .map(|e| (dir, m, e))
                });
                let backup = entry.and_then(|(dir, m, e)| {
                    e.before
                        .as_ref()
                        .map(|b| dir.join(&m.id).join(b).display().to_string())
                });
                let level = match &c.level {
                    Level::File => "file",
                    Level::JsonKey { .. } => "json_key",
                    Level::RcBlock { .. } => "rc_block",
                };
                serde_json::json!({
                    "path": c.path.display().to_string(),
                    "real_path": c.real_path.display().to_string(),
                    "what": c.what,
                    "action": c.kind,
                    "mode": c.new_bytes.as_ref().map(|_| format!("{:04o}", c.mode)),
                    "level": level,
                    "backup": backup,
                })
            })
            .collect()
    }
    /// Files cclocal writes whole (launcher, settings, units, plists, start scripts) whose
    /// new content holds a secret (the run's token, or a secret value assigned in it:
    /// `crate::secret::values_in`) are made private: group and others lose every
    /// permission (0755 becomes 0700, 0644 becomes 0600). Files edited at another level
    /// (rc files, `~/.claude.json`) keep the user's mode.
    pub fn guard_secrets(&mut self) {
        for c in self.changes.iter_mut() {
            let (Some(b), Level::File) = (&c.new_bytes, &c.level) else {
                continue;
            };
            if c.mode & 0o077 == 0 {
                continue;
            }
            let text = String::from_utf8_lossy(b);
            let holds = self
                .secrets
                .iter()
                .any(|s| !s.is_empty() && text.contains(s.as_str()))
                || !crate::secret::values_in(&text).is_empty();
            if holds {
                c.mode &= !0o077;
                if c.kind == ChangeKind::Unchanged && c.old_mode != Some(c.mode) {
                    c.kind = ChangeKind::Modify;
                }
            }
        }
    }
    /// Unified diffs of every effective change, secrets masked: the plan's own and every
    /// secret assigned in the files' old or new content (a token being replaced, or one a
    /// backup brings back on undo).
    pub fn diff(&self) -> String {
        let d: String = self.effective().map(FileChange::diff).collect();
        let sources = self
            .changes
            .iter()
            .flat_map(|c| [c.old.as_deref(), c.new_bytes.as_deref()])
            .flatten();
        crate::secret::mask_found(&d, &self.secrets, sources)
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
    fn files_holding_a_secret_are_made_private() {
        let d = tempfile::tempdir().unwrap();
        let script = d.path().join("start.sh");
        fs::write(&script, "old\n").unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        let mut p = Plan::default();
        for (name, body, mode) in [
            ("start.sh", "export HF_TOKEN='hf_abc'\nexec vllm\n", 0o755),
            ("unit", "ExecStart=/bin/x --api-key k\n", 0o644),
            ("plain", "export ANTHROPIC_AUTH_TOKEN=ollama\n", 0o644),
        ] {
            let c = FileChange::write(
                d.path().join(name),
                body.as_bytes().to_vec(),
                ModeRule::Exact(mode),
                "t",
            )
            .unwrap();
            p.push(c);
        }
        p.secrets.push("k".into());
        p.guard_secrets();
        let modes: Vec<u32> = p.changes.iter().map(|c| c.mode).collect();
        // The run's secret "k" is in the unit; a placeholder token is no secret.
        assert_eq!(modes, [0o700, 0o600, 0o644]);
        // Same content, looser mode on disk: still a change (the mode).
        fs::write(&script, "export HF_TOKEN='hf_abc'\n").unwrap();
        let mut p = Plan::default();
        p.push(
            FileChange::write(
                &script,
                b"export HF_TOKEN='hf_abc'\n".to_vec(),
                ModeRule::Exact(0o755),
                "t",
            )
            .unwrap(),
        );
        p.guard_secrets();
        assert_eq!(
            (p.changes[0].mode, p.changes[0].kind),
            (0o700, ChangeKind::Modify)
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
