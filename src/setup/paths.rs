//! Where cclocal reads and writes, all derived from `HOME` and the XDG variables so that
//! tests (and users) can point everything at another directory.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The user's home directory (`$HOME`, which must be set and absolute).
pub fn home() -> Result<PathBuf> {
    match std::env::var_os("HOME").map(PathBuf::from) {
        Some(h) if h.is_absolute() => Ok(h),
        _ => Err(Error::not_found("HOME is not set to an absolute path")
            .with_hint("set HOME to your home directory")),
    }
}

fn xdg(var: &str, home: &Path, fallback: &str) -> PathBuf {
    xdg_with(std::env::var_os(var).as_deref(), home, fallback)
}

/// `VALUE/cclocal` when the XDG variable's value is an absolute path, else
/// `HOME/FALLBACK/cclocal` (the XDG Base Directory rule: a relative value is ignored).
fn xdg_with(value: Option<&std::ffi::OsStr>, home: &Path, fallback: &str) -> PathBuf {
    match value.map(PathBuf::from) {
        Some(p) if p.is_absolute() => p.join("cclocal"),
        _ => home.join(fallback).join("cclocal"),
    }
}

/// cclocal's state directory for a given `HOME` and `XDG_STATE_HOME` value (as
/// [`Paths::state_dir`] computes it from the process's environment), for readers that take
/// the environment as data: the doctor, the server-log locator.
pub fn state_dir_with(home: &Path, xdg_state_home: Option<&std::ffi::OsStr>) -> PathBuf {
    xdg_with(xdg_state_home, home, ".local/state")
}

/// Every path setup, alias and undo use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub home: PathBuf,
    /// `$XDG_CONFIG_HOME/cclocal` or `~/.config/cclocal`.
    pub config_dir: PathBuf,
    /// `$XDG_STATE_HOME/cclocal` or `~/.local/state/cclocal`: manifests and backups.
    pub state_dir: PathBuf,
    /// `$CLAUDE_CONFIG_DIR/.claude.json` or `~/.claude.json`.
    pub claude_json: PathBuf,
    /// `$XDG_CONFIG_HOME` or `~/.config` (fish's config lives below it).
    pub xdg_config: PathBuf,
    /// `Some(root)`: root's own record of the system files it installed
    /// (`<root>/var/lib/cclocal`, [`Paths::system`]); no user file is planned here.
    pub system_root: Option<PathBuf>,
}

impl Paths {
    /// Paths for the current environment.
    pub fn from_env() -> Result<Paths> {
        let home = home()?;
        let claude_dir = match std::env::var_os("CLAUDE_CONFIG_DIR").map(PathBuf::from) {
            Some(p) if p.is_absolute() => p,
            _ => home.clone(),
        };
        let xdg_config = match std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from) {
            Some(p) if p.is_absolute() => p,
            _ => home.join(".config"),
        };
        Ok(Paths {
            config_dir: xdg("XDG_CONFIG_HOME", &home, ".config"),
            state_dir: xdg("XDG_STATE_HOME", &home, ".local/state"),
            claude_json: claude_dir.join(".claude.json"),
            xdg_config,
            home,
            system_root: None,
        })
    }

    /// Paths under a given home, ignoring the environment (for tests and `--target`).
    pub fn under(home: &Path) -> Paths {
        Paths {
            config_dir: home.join(".config/cclocal"),
            state_dir: home.join(".local/state/cclocal"),
            claude_json: home.join(".claude.json"),
            xdg_config: home.join(".config"),
            home: home.to_path_buf(),
            system_root: None,
        }
    }

    /// Root's own record of the system files it installed under `root` (`/` on a real
    /// system): state in `<root>/var/lib/cclocal`, a folder only root writes, never a
    /// user's. `cclocal undo --system` reads it; the only file it may name is the drop-in.
    pub fn system(root: &Path) -> Paths {
        let state = root.join("var/lib/cclocal");
        Paths {
            config_dir: state.clone(),
            state_dir: state.clone(),
            claude_json: state.join(".claude.json"),
            xdg_config: state.clone(),
            home: state,
            system_root: Some(root.to_path_buf()),
        }
    }

    pub fn config_toml(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }
    pub fn claude_settings(&self) -> PathBuf {
        self.config_dir.join("claude-settings.json")
    }
    pub fn launcher(&self, name: &str) -> PathBuf {
        self.home.join(".local/bin").join(name)
    }
    /// Where server files go when they cannot be installed here.
    pub fn server_dir(&self) -> PathBuf {
        self.config_dir.join("server")
    }
    pub fn launch_agent(&self, label: &str) -> PathBuf {
        self.home
            .join("Library/LaunchAgents")
            .join(format!("{label}.plist"))
    }
    pub fn runs_dir(&self) -> PathBuf {
        self.state_dir.join("runs")
    }
    /// Where the launcher has Claude Code write its debug logs (`logs --latest` looks here
    /// too): [`claude_debug_dir_in`] of the state directory.
    pub fn claude_debug_dir(&self) -> PathBuf {
        claude_debug_dir_in(&self.state_dir)
    }
}

/// The launcher's debug-log folder in cclocal's state directory `state`.
pub fn claude_debug_dir_in(state: &Path) -> PathBuf {
    state.join("claude-debug")
}

/// The systemd drop-in for `ollama.service` under `root` (`/` on a real system).
pub fn systemd_dropin(root: &Path) -> PathBuf {
    root.join("etc/systemd/system/ollama.service.d/cclocal.conf")
}
