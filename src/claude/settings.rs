//! Claude Code's config files, read-only: `~/.claude.json` (global config) and the
//! settings files whose `env` Claude Code applies (`docs/claude-code.md`, "Config files…").
//!
//! With `CLAUDE_CONFIG_DIR` set, both the global config and the user settings live in that
//! directory. Settings are listed lowest precedence first: user, project, local.

use super::EnvMap;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The parsed files, lowest precedence first, plus what could not be read.
#[derive(Debug, Clone, Default)]
pub struct ClaudeFiles {
    /// `~/.claude.json`.
    pub global: Option<(PathBuf, Map<String, Value>)>,
    /// `~/.claude/settings.json`, `<cwd>/.claude/settings.json`, `<cwd>/.claude/settings.local.json`.
    pub settings: Vec<(PathBuf, Map<String, Value>)>,
    /// `path: reason` for files that exist but are not a JSON object.
    pub errors: Vec<String>,
}

/// The directory holding Claude Code's user settings: `$CLAUDE_CONFIG_DIR` or `~/.claude`.
pub fn config_dir(home: &Path, env: &EnvMap) -> PathBuf {
    crate::paths::claude_settings_dir(home, claude_config_dir_value(env), None)
}

fn claude_config_dir_value(env: &EnvMap) -> Option<&std::ffi::OsStr> {
    env.get("CLAUDE_CONFIG_DIR").map(std::ffi::OsStr::new)
}

/// `~/.claude.json`, or `$CLAUDE_CONFIG_DIR/.claude.json`.
/// The rule is `crate::paths::claude_json`'s, which setup writes by: a relative value is
/// used as given, that is from the current directory.
pub fn global_config_path(home: &Path, env: &EnvMap) -> PathBuf {
    crate::paths::claude_json(home, claude_config_dir_value(env), None)
}

/// Settings files, lowest precedence first.
pub fn settings_paths(home: &Path, env: &EnvMap, cwd: Option<&Path>) -> Vec<PathBuf> {
    let mut v = vec![config_dir(home, env).join("settings.json")];
    if let Some(c) = cwd {
        v.push(c.join(".claude").join("settings.json"));
        v.push(c.join(".claude").join("settings.local.json"));
    }
    v
}

/// Reads a JSON object; `Ok(None)` when the file does not exist.
pub fn read_json_object(path: &Path) -> Result<Option<Map<String, Value>>, String> {
    // Bounded: a FIFO, a device or a huge file is refused with a message (never a hang).
    let kind = if path.file_name().is_some_and(|n| n == ".claude.json") {
        crate::fsread::CLAUDE_JSON
    } else {
        crate::fsread::SETTINGS
    };
    let text = match crate::fsread::read_to_string(path, kind) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        Ok(_) => Err(format!("{}: not a JSON object", path.display())),
        Err(e) => Err(format!("{}: invalid JSON ({e})", path.display())),
    }
}

/// Reads every file Claude Code would read for `home`, `env` and `cwd`.
pub fn read_claude_files(home: &Path, env: &EnvMap, cwd: Option<&Path>) -> ClaudeFiles {
    let mut out = ClaudeFiles::default();
    let g = global_config_path(home, env);
    match read_json_object(&g) {
        Ok(Some(m)) => out.global = Some((g, m)),
        Ok(None) => {}
        Err(e) => out.errors.push(e),
    }
    for p in settings_paths(home, env, cwd) {
        match read_json_object(&p) {
            Ok(Some(m)) => out.settings.push((p, m)),
            Ok(None) => {}
            Err(e) => out.errors.push(e),
        }
    }
    out
}

/// The `env` object of a config file as strings (numbers and booleans as written).
pub fn env_of(m: &Map<String, Value>) -> EnvMap {
    let mut out = EnvMap::new();
    if let Some(Value::Object(e)) = m.get("env") {
        for (k, v) in e {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            out.insert(k.clone(), s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_orders() {
        let home = tempfile::tempdir().unwrap();
        let cwd = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".claude")).unwrap();
        std::fs::write(
            home.path().join(".claude.json"),
            r#"{"hasCompletedOnboarding":true,"env":{"A":"1"}}"#,
        )
        .unwrap();
        std::fs::write(
            home.path().join(".claude/settings.json"),
            r#"{"env":{"A":"2","N":5}}"#,
        )
        .unwrap();
        std::fs::create_dir_all(cwd.path().join(".claude")).unwrap();
        std::fs::write(cwd.path().join(".claude/settings.local.json"), "[1]").unwrap();
        let f = read_claude_files(home.path(), &EnvMap::new(), Some(cwd.path()));
        assert!(f.global.is_some());
        assert_eq!(f.settings.len(), 1);
        assert_eq!(env_of(&f.settings[0].1)["N"], "5");
        assert_eq!(f.errors.len(), 1, "{:?}", f.errors);
        let mut env = EnvMap::new();
        env.insert("CLAUDE_CONFIG_DIR".into(), "/x".into());
        assert_eq!(
            global_config_path(home.path(), &env),
            PathBuf::from("/x/.claude.json")
        );
    }
}
