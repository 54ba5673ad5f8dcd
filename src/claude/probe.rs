//! Finds the installed Claude Code and its version.

use super::Version;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where Claude Code is looked for: each `PATH` entry, then the places its installers use
/// (`~/.local/bin/claude`, `~/.claude/local/claude`).
pub fn candidate_paths(path_var: Option<&OsStr>, home: Option<&Path>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(path) = path_var {
        for dir in std::env::split_paths(path) {
            out.push(dir.join("claude"));
        }
    }
    if let Some(home) = home {
        out.push(home.join(".local/bin/claude"));
        out.push(home.join(".claude/local/claude"));
    }
    out
}

/// The first existing Claude Code executable for the given `PATH` and home.
pub fn find_claude_in(path_var: Option<&OsStr>, home: Option<&Path>) -> Option<PathBuf> {
    candidate_paths(path_var, home)
        .into_iter()
        .find(|p| p.is_file())
}

/// The first existing Claude Code executable for this process's environment.
pub fn find_claude() -> Option<PathBuf> {
    let home = crate::paths::home_dir();
    find_claude_in(std::env::var_os("PATH").as_deref(), home.as_deref())
}

/// Runs `<exe> --version` with a timeout and parses `2.1.332 (Claude Code)`.
pub fn claude_version(exe: &Path, timeout: Duration) -> Option<Version> {
    let out = crate::process::run_for(exe, &["--version"], timeout).ok()?;
    out.stdout.trim().parse().ok()
}

/// The installed Claude Code version, if Claude Code is found and answers in time. The
/// JavaScript builds (up to 2.1.112) load a 12 MB bundle before answering: about 2 s on
/// a busy 2-core machine, so the limit is generous.
pub fn installed_version() -> Option<Version> {
    claude_version(&find_claude()?, Duration::from_secs(15))
}
