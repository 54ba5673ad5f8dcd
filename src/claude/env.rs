//! The environment Claude Code will see: the shell's, then `~/.claude.json` `env`, then the
//! settings files' `env`, later sources winning (`docs/claude-code.md`, "Config files…": the
//! settings `env` overrides the inherited environment; measured: 2.1.332 applies both files).
//! Secrets are redacted before anything leaves this module.

use super::settings::{env_of, ClaudeFiles};
use super::EnvMap;

/// Whether a variable matters to Claude Code against a local server (and is worth showing).
pub fn is_relevant(name: &str) -> bool {
    const PREFIXES: &[&str] = &["ANTHROPIC_", "CLAUDE_", "DISABLE_", "OLLAMA_"];
    const NAMES: &[&str] = &[
        "API_TIMEOUT_MS",
        "MAX_THINKING_TOKENS",
        "MAX_MCP_OUTPUT_TOKENS",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p)) || NAMES.contains(&name)
}

/// Whether a variable holds a credential.
pub fn is_secret(name: &str) -> bool {
    crate::secret::is_secret_name(name)
}

/// A credential reduced to what the diagnosis needs: empty stays empty; an Anthropic key
/// keeps its kind prefix (`sk-ant-api03-…`); anything else becomes `<redacted>`.
pub fn redact(name: &str, value: &str) -> String {
    if !is_secret(name) || value.is_empty() {
        return value.to_string();
    }
    if value.starts_with("sk-ant-") {
        let prefix: String = value.split_inclusive('-').take(3).collect();
        return format!("{prefix}…<redacted>");
    }
    "<redacted>".to_string()
}

/// One variable whose shell value a config file replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub name: String,
    pub shell: String,
    pub value: String,
    pub source: String,
}

/// Merges the shell's relevant variables with the config files' `env` (redacted), and
/// lists the variables whose shell value is replaced by a different one.
pub fn effective_env(shell: &EnvMap, files: &ClaudeFiles) -> (EnvMap, Vec<Override>) {
    let mut env: EnvMap = shell
        .iter()
        .filter(|(k, _)| is_relevant(k))
        .map(|(k, v)| (k.clone(), redact(k, v)))
        .collect();
    let mut layers = Vec::new();
    if let Some((p, m)) = &files.global {
        layers.push((p.display().to_string(), env_of(m)));
    }
    for (p, m) in &files.settings {
        layers.push((p.display().to_string(), env_of(m)));
    }
    let mut overrides: Vec<Override> = Vec::new();
    for (source, layer) in layers {
        for (k, v) in layer {
            let v = redact(&k, &v);
            if let Some(sh) = shell.get(&k) {
                let sh = redact(&k, sh);
                overrides.retain(|o| o.name != k);
                if sh != v {
                    overrides.push(Override {
                        name: k.clone(),
                        shell: sh,
                        value: v.clone(),
                        source: source.clone(),
                    });
                }
            }
            env.insert(k, v);
        }
    }
    (env, overrides)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::PathBuf;

    #[test]
    fn settings_win_and_secrets_hide() {
        let mut shell = EnvMap::new();
        shell.insert("ANTHROPIC_MODEL".into(), "a".into());
        shell.insert(
            "ANTHROPIC_API_KEY".into(),
            "sk-ant-api03-abcdefghijkl".into(),
        );
        shell.insert("PATH".into(), "/bin".into());
        let files = ClaudeFiles {
            global: Some((
                PathBuf::from("/h/.claude.json"),
                json!({"env":{"X_Y":"g"}}).as_object().unwrap().clone(),
            )),
            settings: vec![(
                PathBuf::from("/h/.claude/settings.json"),
                json!({"env":{"ANTHROPIC_MODEL":"b","CLAUDE_CODE_MAX_OUTPUT_TOKENS":8192}})
                    .as_object()
                    .unwrap()
                    .clone(),
            )],
            errors: vec![],
        };
        let (env, ov) = effective_env(&shell, &files);
        assert_eq!(env["ANTHROPIC_MODEL"], "b");
        assert_eq!(env["CLAUDE_CODE_MAX_OUTPUT_TOKENS"], "8192");
        assert_eq!(env["X_Y"], "g");
        assert!(!env.contains_key("PATH"));
        assert_eq!(env["ANTHROPIC_API_KEY"], "sk-ant-api03-…<redacted>");
        assert_eq!(ov.len(), 1);
        assert_eq!((ov[0].shell.as_str(), ov[0].value.as_str()), ("a", "b"));
        assert_eq!(redact("ANTHROPIC_AUTH_TOKEN", "ollama"), "<redacted>");
        assert_eq!(redact("CLAUDE_CODE_MAX_OUTPUT_TOKENS", "8192"), "8192");
    }
}
