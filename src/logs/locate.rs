//! Where Claude Code writes debug logs (`docs/claude-code.md`): `<configHome>/debug/<session>.txt`
//! plus a `latest` symlink, where configHome is `$CLAUDE_CONFIG_DIR` or `~/.claude`;
//! `$CLAUDE_CODE_DEBUG_LOGS_DIR` replaces the directory (2.1.332). At 10 MiB a log is rotated:
//! `<name>.txt` is renamed `<name>.1.txt`, so the parts read in order are `<name>.1.txt`, then
//! `<name>.txt`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{Error, Result};

/// How to turn debug logging on, for messages.
pub const ENABLE_HINT: &str =
    "run Claude Code through the launcher `cclocal setup` writes (it records \
one), or start it with `claude --debug-file PATH` (or `claude --debug`, which writes \
~/.claude/debug/<session>.txt), then run `cclocal logs PATH` or `cclocal logs --latest`";

/// The environment this module reads, passed in so tests need not touch the process env.
#[derive(Debug, Clone, Default)]
pub struct DebugEnv {
    pub home: Option<OsString>,
    pub claude_config_dir: Option<OsString>,
    pub debug_logs_dir: Option<OsString>,
    /// `$XDG_STATE_HOME`: the launcher `cclocal setup` writes keeps its debug logs in
    /// cclocal's state directory (`<state>/claude-debug`).
    pub xdg_state_home: Option<OsString>,
}

impl DebugEnv {
    pub fn from_process() -> Self {
        let nonempty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        DebugEnv {
            home: nonempty("HOME"),
            claude_config_dir: nonempty("CLAUDE_CONFIG_DIR"),
            debug_logs_dir: nonempty("CLAUDE_CODE_DEBUG_LOGS_DIR"),
            xdg_state_home: nonempty("XDG_STATE_HOME"),
        }
    }
}

/// The directory holding `<session>.txt` files and `latest`.
pub fn debug_dir(env: &DebugEnv) -> Option<PathBuf> {
    if let Some(d) = &env.debug_logs_dir {
        return Some(PathBuf::from(d));
    }
    if let Some(c) = &env.claude_config_dir {
        return Some(PathBuf::from(c).join("debug"));
    }
    env.home
        .as_ref()
        .map(|h| PathBuf::from(h).join(".claude").join("debug"))
}

/// The folder the launcher `cclocal setup` writes has Claude Code write its debug logs in.
pub fn launcher_debug_dir(env: &DebugEnv) -> Option<PathBuf> {
    let home = PathBuf::from(env.home.as_ref()?);
    let state = crate::paths::state_dir_with(&home, env.xdg_state_home.as_deref());
    Some(crate::paths::claude_debug_dir_in(&state))
}

/// The log `latest` points at: in Claude Code's debug directory or the launcher's folder,
/// whichever was written last.
pub fn latest(env: &DebugEnv) -> Result<PathBuf> {
    let dir = debug_dir(env).ok_or_else(|| {
        Error::not_found("no debug log directory: HOME is not set")
            .with_hint("pass the log's path: `cclocal logs PATH`")
    })?;
    let link = dir.join("latest");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let launcher = launcher_debug_dir(env)
        .and_then(|d| std::fs::canonicalize(d.join("latest")).ok())
        .filter(|p| p.is_file());
    let claude = std::fs::canonicalize(&link);
    if let Some(l) = launcher {
        match &claude {
            Ok(c) if modified(c) > modified(&l) => {}
            _ => return Ok(l),
        }
    }
    match claude {
        Ok(p) => Ok(p),
        Err(e) => Err(
            Error::io(&link, "follow the `latest` debug log link", e).with_hint(format!(
                "no debug session was recorded there; {ENABLE_HINT}"
            )),
        ),
    }
}

/// The parts of one log in reading order: rotated `<name>.N.txt` (highest N first, as far as
/// they run without a gap), then `path` itself.
pub fn parts(path: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let (Some(parent), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str()))
    else {
        return vec![path.to_path_buf()];
    };
    // A rotated part named directly is read on its own.
    if let Some(stem) = name.strip_suffix(".txt") {
        if rotation_of(stem).is_none() {
            for n in 1..=9 {
                let p = parent.join(format!("{stem}.{n}.txt"));
                if p.is_file() {
                    out.push(p);
                } else {
                    break;
                }
            }
            out.reverse();
        }
    }
    out.push(path.to_path_buf());
    out
}

/// `abc.1` → Some(("abc", 1)).
fn rotation_of(stem: &str) -> Option<(&str, u32)> {
    let (base, n) = stem.rsplit_once('.')?;
    let n: u32 = n.parse().ok()?;
    (!base.is_empty()).then_some((base, n))
}

/// One recorded session in the debug directory.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionFile {
    pub path: PathBuf,
    /// Bytes, rotated parts included.
    pub size: u64,
    pub modified: Option<SystemTime>,
    /// `latest` points at it.
    pub latest: bool,
}

/// Sessions in `dir`, newest first. A missing directory is an empty list.
pub fn list_sessions(dir: &Path) -> Result<Vec<SessionFile>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, "list the debug log directory", e)),
    };
    let latest = std::fs::canonicalize(dir.join("latest")).ok();
    let mut out: Vec<SessionFile> = Vec::new();
    let mut rotated: Vec<(String, u64)> = Vec::new();
    for entry in rd.flatten() {
        let path = entry.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".txt") else {
            continue;
        };
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        if let Some((base, _)) = rotation_of(stem) {
            rotated.push((base.to_string(), meta.len()));
            continue;
        }
        let canon = std::fs::canonicalize(&path).ok();
        out.push(SessionFile {
            latest: canon.is_some() && canon == latest,
            path,
            size: meta.len(),
            modified: meta.modified().ok(),
        });
    }
    for (base, size) in rotated {
        let name = format!("{base}.txt");
        if let Some(s) = out
            .iter_mut()
            .find(|s| s.path.file_name().and_then(|n| n.to_str()) == Some(&name))
        {
            s.size += size;
        }
    }
    out.sort_by(|a, b| {
        b.modified
            .cmp(&a.modified)
            .then_with(|| a.path.cmp(&b.path))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_precedence() {
        let mut env = DebugEnv {
            home: Some("/h".into()),
            ..Default::default()
        };
        assert_eq!(debug_dir(&env), Some(PathBuf::from("/h/.claude/debug")));
        env.claude_config_dir = Some("/c".into());
        assert_eq!(debug_dir(&env), Some(PathBuf::from("/c/debug")));
        env.debug_logs_dir = Some("/d".into());
        assert_eq!(debug_dir(&env), Some(PathBuf::from("/d")));
        assert_eq!(debug_dir(&DebugEnv::default()), None);
    }

    #[test]
    fn rotation_names() {
        assert_eq!(rotation_of("abc.1"), Some(("abc", 1)));
        assert_eq!(rotation_of("abc"), None);
        assert_eq!(rotation_of("v2.1.121-x"), None);
    }
}
