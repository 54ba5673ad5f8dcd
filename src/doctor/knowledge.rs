//! Knowledge tables the rules consult, kept as data with their sources.
//!
//! * `data/claude-env-vars-<version>.txt`: every environment variable name the Claude Code
//!   build reads (`docs/claude-code.md`, "Environment variables": the typed env registry plus every
//!   literal `process.env.X` in the bundle).
//! * `data/ollama-env-vars.txt`: Ollama's variables with the versions that read them
//!   (`docs/ollama.md`, "Environment variables"; upstream `envconfig/config.go` of ollama/ollama).
//! * Server version gates and Claude Code's default background model: below, each with
//!   its source.

use crate::claude::Version;

const CLAUDE_ENV_2_1_197: &str = include_str!("../../data/claude-env-vars-2.1.197.txt");
const CLAUDE_ENV_2_1_332: &str = include_str!("../../data/claude-env-vars-2.1.332.txt");
const OLLAMA_ENV: &str = include_str!("../../data/ollama-env-vars.txt");

fn listed(table: &str, name: &str) -> bool {
    table.lines().any(|l| l.trim() == name)
}

/// Whether Claude Code `version` reads variable `name`: `Some(true/false)` where a list
/// decides it, `None` where cclocal has no list that covers the version.
///
/// Lists exist for 2.1.197 and 2.1.332. Newer versions use the 2.1.332 list; versions
/// between the two only count a name as unread when neither list has it; older versions
/// are judged only for the names their row of the version table lists as absent
/// (`crate::claude::Gate::absent`, e.g. `CLAUDE_CODE_AUTO_COMPACT_WINDOW` before 2.1.75).
pub fn claude_reads(version: Version, name: &str) -> Option<bool> {
    let v197 = Version(2, 1, 197);
    let v332 = Version(2, 1, 332);
    let in197 = listed(CLAUDE_ENV_2_1_197, name);
    let in332 = listed(CLAUDE_ENV_2_1_332, name);
    if version == v197 {
        Some(in197)
    } else if version >= v332 {
        Some(in332)
    } else if version > v197 {
        if in197 || in332 {
            Some(true)
        } else {
            Some(false)
        }
    } else {
        crate::claude::gate_for(version).reads(name)
    }
}

/// Ollama's verdict on a variable for a server version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OllamaVar {
    /// Read by this version (or by current versions when the version is unknown).
    Read,
    /// No Ollama version has ever read it.
    Never(String),
    /// Removed in `since` (the server is that version or newer, or the version is unknown).
    Removed { since: String, note: String },
    /// Added in a later version than the server's.
    TooNew { since: String },
    /// Not in cclocal's table (which covers Ollama up to 0.33.0-rc2).
    Unlisted,
}

/// Parses `0.15.2`, `v0.33.0-rc2` (the one version type's loose reading).
pub fn ollama_version(v: &str) -> Option<crate::version::Version> {
    crate::version::Version::loose(v)
}

/// What Ollama `server` (a version string, when known) does with `name`.
pub fn ollama_var(name: &str, server: Option<&str>) -> OllamaVar {
    let sv = server.and_then(ollama_version);
    for line in OLLAMA_ENV
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let f: Vec<&str> = line.split('|').collect();
        if f.len() < 5 || f[0] != name {
            continue;
        }
        let (added, removed, note) = (f[1], f[2], f[4]);
        if removed == "never" {
            return OllamaVar::Never(note.to_string());
        }
        if removed != "-" {
            let r = ollama_version(removed);
            if sv.is_none() || r.is_some_and(|r| sv.is_some_and(|s| s >= r)) {
                return OllamaVar::Removed {
                    since: removed.to_string(),
                    note: note.to_string(),
                };
            }
        }
        if added != "-" {
            if let (Some(a), Some(s)) = (ollama_version(added), sv) {
                if s < a {
                    return OllamaVar::TooNew {
                        since: added.to_string(),
                    };
                }
            }
        }
        return OllamaVar::Read;
    }
    OllamaVar::Unlisted
}

/// Ollama gained `/v1/messages` in 0.14.0 (the gates table, `server::gates`).
pub const MESSAGES_API_SINCE: crate::version::Version =
    crate::server::gates::OLLAMA_MESSAGES_API.since;
/// Quantized KV without flash attention: ≤ 0.24 silently falls back to f16; from 0.30
/// llama-server refuses to load (the gates table, `server::gates`).
pub const LLAMA_SERVER_SINCE: crate::version::Version =
    crate::server::gates::OLLAMA_LLAMA_SERVER_RUNNER.since;

/// The default context of an Ollama version when nothing sets one (`docs/ollama.md`):
/// 2048 before 0.6.7, 4096 before 0.15.5, then a VRAM tier (`None`: not knowable from the API).
pub fn ollama_default_context(version: &str) -> Option<u64> {
    let v = ollama_version(version)?;
    if v < crate::server::gates::OLLAMA_CONTEXT_4096.since {
        Some(2048)
    } else if v < crate::server::gates::OLLAMA_CONTEXT_VRAM_TIERS.since {
        Some(4096)
    } else {
        None
    }
}

/// The Haiku id Claude Code falls back to for background calls when it decides to use
/// one (`docs/claude-code.md`: 2.1.197 → `claude-haiku-4-5-20251001`, 2.1.332 →
/// `claude-haiku-5-5`; the version where the id changed was not bisected).
pub fn default_haiku(version: Option<Version>) -> &'static str {
    match version {
        Some(v) if v >= Version(2, 1, 332) => "claude-haiku-5-5",
        _ => "claude-haiku-4-5-20251001",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_lists() {
        assert_eq!(
            claude_reads(Version(2, 1, 332), "ANTHROPIC_MODEL_CONTEXT_LENGTH"),
            Some(false)
        );
        assert_eq!(
            claude_reads(Version(2, 1, 197), "CLAUDE_CODE_MAX_TURNS"),
            Some(true)
        );
        assert_eq!(
            claude_reads(
                Version(2, 1, 197),
                "CLAUDE_CODE_DISABLE_UNKNOWN_MODEL_WINDOW_ENFORCEMENT"
            ),
            Some(false)
        );
        assert_eq!(
            claude_reads(
                Version(2, 1, 250),
                "CLAUDE_CODE_DISABLE_UNKNOWN_MODEL_WINDOW_ENFORCEMENT"
            ),
            Some(true)
        );
        assert_eq!(
            claude_reads(Version(2, 1, 121), "ANTHROPIC_MODEL_CONTEXT_LENGTH"),
            None
        );
        // [RUN] 2.1.42 and 2.1.69 ignore the window variable; the table says so.
        assert_eq!(
            claude_reads(Version(2, 1, 42), "CLAUDE_CODE_AUTO_COMPACT_WINDOW"),
            Some(false)
        );
        assert_eq!(
            claude_reads(Version(2, 1, 88), "CLAUDE_CODE_AUTO_COMPACT_WINDOW"),
            None
        );
    }

    #[test]
    fn ollama_table() {
        assert!(matches!(
            ollama_var("OLLAMA_NUM_BATCH", Some("0.30.1")),
            OllamaVar::Never(_)
        ));
        assert!(matches!(
            ollama_var("OLLAMA_NEW_ENGINE", Some("0.30.1")),
            OllamaVar::Removed { .. }
        ));
        assert_eq!(
            ollama_var("OLLAMA_NEW_ENGINE", Some("0.24.0")),
            OllamaVar::Read
        );
        assert!(matches!(
            ollama_var("OLLAMA_NO_CLOUD", Some("0.15.2")),
            OllamaVar::TooNew { .. }
        ));
        assert_eq!(ollama_var("OLLAMA_KV_CACHE_TYPE", None), OllamaVar::Read);
        assert_eq!(ollama_var("OLLAMA_FOO", None), OllamaVar::Unlisted);
        assert_eq!(ollama_default_context("0.15.2"), Some(4096));
        assert_eq!(ollama_default_context("0.30.0"), None);
    }
}
