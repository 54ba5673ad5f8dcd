//! Finds the installed Claude Code and its version.

use super::Version;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where Claude Code is looked for besides `PATH` (the places its installers use).
pub fn candidate_paths() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            out.push(dir.join("claude"));
        }
    }
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        let home = PathBuf::from(home);
        out.push(home.join(".local/bin/claude"));
        out.push(home.join(".claude/local/claude"));
    }
    out
}

/// The first existing Claude Code executable.
pub fn find_claude() -> Option<PathBuf> {
    candidate_paths().into_iter().find(|p| p.is_file())
}

/// Runs `<exe> --version` with a timeout and parses `2.1.332 (Claude Code)`.
pub fn claude_version(exe: &std::path::Path, timeout: Duration) -> Option<Version> {
    let mut child = Command::new(exe)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() < timeout => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let out = child.wait_with_output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// The installed Claude Code version, if Claude Code is found and answers in time.
pub fn installed_version() -> Option<Version> {
    claude_version(&find_claude()?, Duration::from_secs(5))
}
