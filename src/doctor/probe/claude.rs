//! Claude Code on this machine: where it is, its version, and the environment it will see.

use super::launcher::Launcher;
use super::HostEnv;
use crate::claude::env::effective_env;
use crate::claude::settings::{read_claude_files, read_json_object};
use crate::doctor::facts::{ClaudeFacts, EnvOverride};
use serde_json::Value;
use std::ffi::OsStr;
use std::path::PathBuf;

/// Where Claude Code is looked for: `PATH`, then its installers' places.
pub fn find_claude(host: &HostEnv) -> Option<PathBuf> {
    crate::claude::find_claude_in(host.vars.get("PATH").map(OsStr::new), host.home.as_deref())
}

/// Reads the config files and merges the environment (no subprocess; the version comes
/// from a separate, timed probe).
///
/// With `launcher` (the script `cclocal setup` wrote), the environment is the one that
/// launcher gives Claude Code: the shell, then its `export`s, then Claude Code's own files,
/// then the `--settings` file it passes (command-line settings win over the user's and the
/// project's); its `--model` is the model. `env_sources` says where each value came from.
pub fn probe_claude_config(
    host: &HostEnv,
    model_flag: Option<&str>,
    launcher: Option<&Launcher>,
) -> ClaudeFacts {
    let mut f = ClaudeFacts {
        path: find_claude(host).map(|p| p.display().to_string()),
        launcher: launcher.map(|l| l.path.display().to_string()),
        ..Default::default()
    };
    let Some(home) = &host.home else {
        f.file_errors
            .push("HOME is not set; Claude Code's config files were not read".into());
        return f;
    };
    let mut files = read_claude_files(home, &host.vars, host.cwd.as_deref());
    let mut shell = host.vars.clone();
    for (k, _) in shell
        .iter()
        .filter(|(k, _)| crate::claude::env::is_relevant(k))
    {
        f.env_sources.insert(k.clone(), "shell".into());
    }
    if let Some(l) = launcher {
        for (k, v) in &l.exports {
            shell.insert(k.clone(), v.clone());
            f.env_sources
                .insert(k.clone(), format!("launcher {}", l.path.display()));
        }
        if let Some(sp) = &l.settings {
            match read_json_object(sp) {
                Ok(Some(m)) => files.settings.push((sp.clone(), m)),
                Ok(None) => files.errors.push(format!(
                    "{}: missing (the launcher passes it with --settings)",
                    sp.display()
                )),
                Err(e) => files.errors.push(e),
            }
        }
    }
    for (p, m) in files.global.iter().chain(files.settings.iter()) {
        for k in crate::claude::settings::env_of(m).into_keys() {
            f.env_sources.insert(k, p.display().to_string());
        }
    }
    f.file_errors = files.errors.clone();
    if let Some((p, _)) = &files.global {
        f.files.push(p.display().to_string());
    }
    f.files
        .extend(files.settings.iter().map(|(p, _)| p.display().to_string()));
    let (env, overrides) = effective_env(&shell, &files);
    f.shell_env = host
        .vars
        .iter()
        .filter(|(k, _)| crate::claude::env::is_relevant(k))
        .map(|(k, v)| (k.clone(), crate::claude::env::redact(k, v)))
        .collect();
    f.env = env;
    f.overrides = overrides
        .into_iter()
        .map(|o| EnvOverride {
            name: o.name,
            shell: o.shell,
            value: o.value,
            source: o.source,
        })
        .collect();
    if let Some((_, g)) = &files.global {
        f.has_completed_onboarding = g.get("hasCompletedOnboarding").and_then(Value::as_bool);
    }
    // autoCompactEnabled: settings files first (highest precedence last), then the legacy
    // ~/.claude.json key (`docs/claude-code.md`, "Config files…").
    for (p, m) in files.settings.iter().rev() {
        if f.auto_compact_enabled.is_none() {
            if let Some(v) = m.get("autoCompactEnabled") {
                f.auto_compact_enabled = Some(v.clone());
                f.auto_compact_enabled_source = Some(p.display().to_string());
            }
        }
        if f.auto_compact_window.is_none() {
            f.auto_compact_window = m.get("autoCompactWindow").cloned();
        }
        if f.settings_model.is_none() {
            f.settings_model = m.get("model").and_then(Value::as_str).map(String::from);
        }
    }
    if f.auto_compact_enabled.is_none() {
        if let Some((p, g)) = &files.global {
            if let Some(v) = g.get("autoCompactEnabled") {
                f.auto_compact_enabled = Some(v.clone());
                f.auto_compact_enabled_source = Some(p.display().to_string());
            }
        }
    }
    let launcher_model = launcher.and_then(|l| l.model.clone());
    let (model, source) = if let Some(m) = model_flag {
        (Some(m.to_string()), "--model")
    } else if let Some(m) = launcher_model {
        (Some(m), "the launcher's --model")
    } else if let Some(m) = f.env.get("ANTHROPIC_MODEL").filter(|m| !m.is_empty()) {
        (Some(m.clone()), "ANTHROPIC_MODEL")
    } else if let Some(m) = &f.settings_model {
        (Some(m.clone()), "settings model")
    } else {
        (None, "Claude Code's default")
    };
    f.model = model.map(|m| resolve_alias(&strip_1m(&m), &f.env));
    f.model_source = Some(source.to_string());
    f
}

/// Claude Code strips a `[1m]` suffix before sending the name ([RUN] 2.1.332).
pub fn strip_1m(m: &str) -> String {
    let lower = m.to_ascii_lowercase();
    match lower.find("[1m]") {
        Some(i) => format!("{}{}", &m[..i], &m[i + 4..]).trim().to_string(),
        None => m.trim().to_string(),
    }
}

/// The aliases `sonnet`, `opus`, `haiku` go through `ANTHROPIC_DEFAULT_<TIER>_MODEL`.
fn resolve_alias(m: &str, env: &crate::claude::EnvMap) -> String {
    let var = match m.to_ascii_lowercase().as_str() {
        "sonnet" => "ANTHROPIC_DEFAULT_SONNET_MODEL",
        "opus" => "ANTHROPIC_DEFAULT_OPUS_MODEL",
        "haiku" => "ANTHROPIC_DEFAULT_HAIKU_MODEL",
        _ => return m.to_string(),
    };
    env.get(var)
        .filter(|v| !v.is_empty())
        .cloned()
        .unwrap_or_else(|| m.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(strip_1m("qwen3-coder:30b[1m]"), "qwen3-coder:30b");
        let mut env = crate::claude::EnvMap::new();
        env.insert("ANTHROPIC_DEFAULT_OPUS_MODEL".into(), "big:70b".into());
        assert_eq!(resolve_alias("opus", &env), "big:70b");
        assert_eq!(resolve_alias("sonnet", &env), "sonnet");
    }
}
