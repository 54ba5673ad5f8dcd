//! Where the server's log is (docs/server-logs.md, "Where the logs are"):
//!
//! - the llama-server log `cclocal setup` configures: `~/.local/state/cclocal/llama-server.log`
//!   (`$XDG_STATE_HOME/cclocal/…` when set);
//! - the Ollama app (macOS) and `ollama serve` started by hand: `~/.ollama/logs/server.log`,
//!   rotated as `server-1.log`, `server-2.log`, … (older first when read);
//! - Homebrew's service: `$(brew --prefix)/var/log/ollama.log` (`/opt/homebrew` on Apple
//!   silicon, `/usr/local` on Intel, `/home/linuxbrew/.linuxbrew` on Linux);
//! - Linux systemd: the journal, `journalctl -u ollama` (system) or `--user -u ollama`.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The llama-server log file `cclocal setup` writes, under cclocal's state directory.
pub fn llama_server_log(home: &Path) -> PathBuf {
    llama_server_log_with(home, std::env::var_os("XDG_STATE_HOME"))
}

fn llama_server_log_with(home: &Path, xdg_state: Option<std::ffi::OsString>) -> PathBuf {
    crate::paths::state_dir_with(home, xdg_state.as_deref()).join("llama-server.log")
}

/// Homebrew prefixes to look in: `$HOMEBREW_PREFIX` first, then the standard ones.
fn brew_prefixes() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::env::var_os("HOMEBREW_PREFIX")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    for p in ["/opt/homebrew", "/usr/local", "/home/linuxbrew/.linuxbrew"] {
        let p = PathBuf::from(p);
        if !v.contains(&p) {
            v.push(p);
        }
    }
    v
}

/// Ollama's rotated logs in `dir`: `server-N.log` (highest N oldest) then `server.log`.
pub fn ollama_app_logs(dir: &Path) -> Vec<PathBuf> {
    let mut rotated: Vec<(u32, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n = name
                .strip_prefix("server-")?
                .strip_suffix(".log")?
                .parse()
                .ok()?;
            Some((n, e.path()))
        })
        .collect();
    rotated.sort_by_key(|r| std::cmp::Reverse(r.0));
    let mut out: Vec<PathBuf> = rotated.into_iter().map(|(_, p)| p).collect();
    let main = dir.join("server.log");
    if main.is_file() {
        out.push(main);
    }
    out
}

/// The server log files that exist on this machine, in the order to read them: cclocal's
/// llama-server log, Ollama's app logs (rotated parts oldest first), Homebrew's ollama.log.
pub fn default_server_logs(home: &Path) -> Vec<PathBuf> {
    default_server_logs_with(home, std::env::var_os("XDG_STATE_HOME"))
}

fn default_server_logs_with(home: &Path, xdg_state: Option<std::ffi::OsString>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let ls = llama_server_log_with(home, xdg_state);
    if ls.is_file() {
        out.push(ls);
    }
    out.extend(ollama_app_logs(&home.join(".ollama/logs")));
    for p in brew_prefixes() {
        let f = p.join("var/log/ollama.log");
        if f.is_file() && !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// Ollama's journal on systemd machines (`journalctl -o cat`: Ollama's own lines carry their
/// times): the system unit, else the user unit. `None` when
/// `journalctl` is missing, fails, times out, or has no lines for the unit.
/// `since`/`until` are journalctl times (`2026-12-01 00:28:30 UTC`).
pub fn journal(since: Option<&str>, until: Option<&str>, budget: Duration) -> Option<String> {
    let deadline = std::time::Instant::now() + budget;
    for user in [false, true] {
        let mut args = vec!["--no-pager", "-o", "cat", "-u", "ollama"];
        if user {
            args.insert(0, "--user");
        }
        if let Some(s) = since {
            args.extend(["--since", s]);
        }
        if let Some(u) = until {
            args.extend(["--until", u]);
        }
        if let Ok(o) = crate::process::run_until("journalctl", &args, deadline) {
            let text = o.stdout;
            if o.success && text.lines().any(|l| !l.starts_with("-- ")) {
                return Some(text);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_rotated_and_state_logs() {
        let d = tempfile::tempdir().unwrap();
        let home = d.path();
        std::fs::create_dir_all(home.join(".ollama/logs")).unwrap();
        for n in ["server.log", "server-1.log", "server-2.log", "other.log"] {
            std::fs::write(home.join(".ollama/logs").join(n), "x\n").unwrap();
        }
        std::fs::create_dir_all(home.join(".local/state/cclocal")).unwrap();
        std::fs::write(home.join(".local/state/cclocal/llama-server.log"), "x\n").unwrap();
        let got = default_server_logs_with(home, None);
        let names: Vec<String> = got
            .iter()
            .filter(|p| p.starts_with(home))
            .map(|p| p.strip_prefix(home).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                ".local/state/cclocal/llama-server.log",
                ".ollama/logs/server-2.log",
                ".ollama/logs/server-1.log",
                ".ollama/logs/server.log"
            ]
        );
    }
}
