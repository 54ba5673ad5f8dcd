//! Where cclocal and Claude Code read and write, all derived from `HOME`, the XDG variables
//! and `CLAUDE_CONFIG_DIR`, so that tests (and users) can point everything at another
//! directory. One rule each (docs/architecture.md "Paths"), on the environment as data:
//! setup reads its own process's, the doctor another's (`doctor::HostEnv`), and both get
//! the same paths for the same values.

use crate::error::{Error, Result};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The one `HOME` rule: set, not empty and absolute; anything else is no home.
pub fn home_from(value: Option<&OsStr>) -> Option<PathBuf> {
    value.map(PathBuf::from).filter(|h| h.is_absolute())
}

/// This process's home directory ([`home_from`]), or `None`.
pub fn home_dir() -> Option<PathBuf> {
    home_from(std::env::var_os("HOME").as_deref())
}

/// The user's home directory ([`home_from`] on this process's `HOME`), or an error naming
/// `HOME`.
pub fn home() -> Result<PathBuf> {
    home_dir().ok_or_else(no_home)
}

fn no_home() -> Error {
    Error::not_found("HOME is not set to an absolute path")
        .with_hint("set HOME to your home directory")
}

/// The one XDG rule: the variable's value when it is an absolute path, else
/// `HOME/FALLBACK` (the XDG Base Directory rule: a relative value is ignored).
pub fn xdg_base(value: Option<&OsStr>, home: &Path, fallback: &str) -> PathBuf {
    match value.map(PathBuf::from) {
        Some(p) if p.is_absolute() => p,
        _ => home.join(fallback),
    }
}

/// `VALUE/cclocal` or `HOME/FALLBACK/cclocal` ([`xdg_base`]).
fn xdg_with(value: Option<&OsStr>, home: &Path, fallback: &str) -> PathBuf {
    xdg_base(value, home, fallback).join("cclocal")
}

/// cclocal's state directory for a given `HOME` and `XDG_STATE_HOME` value (as
/// [`Paths::state_dir`] computes it from the process's environment), for readers that take
/// the environment as data: the doctor, the server-log locator.
pub fn state_dir_with(home: &Path, xdg_state_home: Option<&OsStr>) -> PathBuf {
    xdg_with(xdg_state_home, home, ".local/state")
}

/// cclocal's config directory (`$XDG_CONFIG_HOME/cclocal` or `~/.config/cclocal`).
pub fn config_dir_with(home: &Path, xdg_config_home: Option<&OsStr>) -> PathBuf {
    xdg_with(xdg_config_home, home, ".config")
}

/// The one `CLAUDE_CONFIG_DIR` rule: `Some(dir)` when the variable is set and not empty,
/// where Claude Code keeps `.claude.json` and `settings.json`. A relative value is taken
/// from `cwd`, as Claude Code does (it uses the value as given, relative to the directory it
/// runs in); without a `cwd` it is taken as given. `None`: the defaults under `HOME`.
pub fn claude_config_dir(value: Option<&OsStr>, cwd: Option<&Path>) -> Option<PathBuf> {
    let d = PathBuf::from(value.filter(|v| !v.is_empty())?);
    Some(match cwd {
        Some(c) if d.is_relative() => c.join(d),
        _ => d,
    })
}

/// Claude Code's global config: `$CLAUDE_CONFIG_DIR/.claude.json` or `~/.claude.json`.
pub fn claude_json(
    home: &Path,
    claude_config_dir_value: Option<&OsStr>,
    cwd: Option<&Path>,
) -> PathBuf {
    claude_config_dir(claude_config_dir_value, cwd)
        .unwrap_or_else(|| home.to_path_buf())
        .join(".claude.json")
}

/// Claude Code's user settings folder: `$CLAUDE_CONFIG_DIR` or `~/.claude`.
pub fn claude_settings_dir(
    home: &Path,
    claude_config_dir_value: Option<&OsStr>,
    cwd: Option<&Path>,
) -> PathBuf {
    claude_config_dir(claude_config_dir_value, cwd).unwrap_or_else(|| home.join(".claude"))
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
        let cwd = std::env::current_dir().ok();
        Paths::from_vars(|k| std::env::var_os(k), cwd.as_deref())
    }

    /// Paths for an environment given as data (`var` looks a variable up; `cwd` is where a
    /// relative `CLAUDE_CONFIG_DIR` starts).
    pub fn from_vars(var: impl Fn(&str) -> Option<OsString>, cwd: Option<&Path>) -> Result<Paths> {
        let home = home_from(var("HOME").as_deref()).ok_or_else(no_home)?;
        let xdg_config = var("XDG_CONFIG_HOME");
        let xdg_state = var("XDG_STATE_HOME");
        Ok(Paths {
            config_dir: config_dir_with(&home, xdg_config.as_deref()),
            state_dir: state_dir_with(&home, xdg_state.as_deref()),
            claude_json: claude_json(&home, var("CLAUDE_CONFIG_DIR").as_deref(), cwd),
            xdg_config: xdg_base(xdg_config.as_deref(), &home, ".config"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let m: BTreeMap<String, OsString> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn home_must_be_absolute_and_not_empty() {
        for bad in ["", "relative/home", "."] {
            assert_eq!(home_from(Some(OsStr::new(bad))), None, "{bad:?}");
            assert!(Paths::from_vars(vars(&[("HOME", bad)]), None).is_err());
        }
        assert_eq!(home_from(None), None);
        assert_eq!(home_from(Some(OsStr::new("/h"))), Some(PathBuf::from("/h")));
    }

    #[test]
    fn relative_xdg_values_are_ignored() {
        let p = Paths::from_vars(
            vars(&[
                ("HOME", "/h"),
                ("XDG_CONFIG_HOME", "cfg"),
                ("XDG_STATE_HOME", "/s"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(p.config_dir, PathBuf::from("/h/.config/cclocal"));
        assert_eq!(p.xdg_config, PathBuf::from("/h/.config"));
        assert_eq!(p.state_dir, PathBuf::from("/s/cclocal"));
    }

    /// Setup writes where Claude Code (and so the doctor) reads: a relative
    /// CLAUDE_CONFIG_DIR is taken from the current directory by both.
    #[test]
    fn claude_config_dir_is_one_rule_for_setup_and_readers() {
        let cwd = Path::new("/work");
        for (value, json) in [
            (None, "/h/.claude.json"),
            (Some(""), "/h/.claude.json"),
            (Some("/c"), "/c/.claude.json"),
            (Some("rel"), "/work/rel/.claude.json"),
        ] {
            let mut pairs = vec![("HOME", "/h")];
            if let Some(v) = value {
                pairs.push(("CLAUDE_CONFIG_DIR", v));
            }
            let setup = Paths::from_vars(vars(&pairs), Some(cwd))
                .unwrap()
                .claude_json;
            let reader = claude_json(Path::new("/h"), value.map(OsStr::new), Some(cwd));
            assert_eq!(setup, PathBuf::from(json), "{value:?}");
            assert_eq!(reader, setup, "{value:?}");
        }
        assert_eq!(
            claude_settings_dir(Path::new("/h"), None, Some(cwd)),
            PathBuf::from("/h/.claude")
        );
    }
}
