//! What the last `cclocal setup` configured (`~/.config/cclocal/config.toml`), so the
//! rules can report drift between that and what is live.

use super::HostEnv;
use crate::doctor::facts::SetupFacts;
use std::path::PathBuf;

/// `$XDG_CONFIG_HOME/cclocal/config.toml`, else `~/.config/cclocal/config.toml`.
pub fn setup_config_path(host: &HostEnv) -> Option<PathBuf> {
    let xdg = host.vars.get("XDG_CONFIG_HOME").map(std::ffi::OsStr::new);
    Some(crate::paths::config_dir_with(host.home.as_deref()?, xdg).join("config.toml"))
}

/// Reads cclocal's configuration; `None` when setup never ran.
pub fn probe_setup(host: &HostEnv) -> Option<SetupFacts> {
    let path = setup_config_path(host)?;
    let paths = crate::paths::Paths::from_vars(
        |k| host.vars.get(k).map(std::ffi::OsString::from),
        host.cwd.as_deref(),
    )
    .ok();
    match crate::setup::config::load(&path) {
        Ok(None) => None,
        Ok(Some(config)) => Some(SetupFacts {
            path: path.display().to_string(),
            config: Some(config),
            error: None,
            paths,
        }),
        Err(e) => Some(SetupFacts {
            path: path.display().to_string(),
            config: None,
            error: Some(e.message),
            paths,
        }),
    }
}
