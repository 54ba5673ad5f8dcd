//! cclocal's own configuration, `~/.config/cclocal/config.toml`: the choices the last
//! `cclocal setup` made, so that a later run can re-apply them or change one value, and
//! `doctor` can compare them with what is live.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Written at the top of the file.
const HEADER: &str = "# cclocal configuration, written by `cclocal setup`.\n\
# Change a value with `cclocal setup --<option>` (for example `--ctx 65536`); the next\n\
# setup run rewrites this file.\n\n";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupConfig {
    /// Format version of this file.
    pub version: u32,
    pub server: ServerConfig,
    pub model: ModelConfig,
    pub claude: ClaudeConfig,
    /// The OS the server files were written for (`linux` or `macos`).
    pub target: String,
    /// What setup wrote: any of `launcher`, `server`, `onboarding`.
    pub wrote: Vec<String>,
    /// How setup runs llama-server (when `server.kind` is `llama-server`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llama_server: Option<LlamaServerConfig>,
    /// Which values the user chose, apart from those the planner chose (`None`: a file
    /// written before this was recorded; see [`SetupConfig::chose`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen: Option<Chosen>,
}

/// The values the user chose (`--ctx`, `--kv-type`, `--flash-attn`, `--memory`/`--mac-ram`,
/// or the wizard's answers); the planner chose the rest, and a later setup plans those again
/// (for a new model, a new budget).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chosen {
    #[serde(default)]
    pub context: bool,
    #[serde(default)]
    pub kv_cache_type: bool,
    #[serde(default)]
    pub flash_attention: bool,
    /// The memory budget in bytes the user planned for (`--memory`, `--mac-ram`); doctor and
    /// status plan with it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
}

/// The llama-server setup runs: the binary, the model file and the log `cclocal logs` reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlamaServerConfig {
    pub binary: String,
    pub model_path: String,
    pub log_file: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Which server setup configured (`ollama`, `llama-server`, `lmstudio`, …).
    pub kind: crate::server::ServerKind,
    /// The server root Claude Code talks to, e.g. `http://127.0.0.1:11434`.
    pub url: String,
    pub flash_attention: bool,
    /// The KV cache type the server serves, where the planner knows it
    /// (`crate::planner::kinds::knows_kv_type`): none for vLLM and the MLX servers, which
    /// choose their own (an old file's value for them is read and ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_cache_type: Option<String>,
    pub keep_alive: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    pub name: String,
    /// The context the server is configured for, in tokens.
    pub context: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaudeConfig {
    /// The Claude Code version the settings were computed for.
    pub version: String,
    pub launcher_name: String,
    pub launcher_path: String,
    pub settings_path: String,
}

impl ServerConfig {
    /// The KV cache type setup configured, for the kinds that record one (Ollama,
    /// llama-server, LM Studio); the default type where none is recorded.
    pub fn kv_type(&self) -> &str {
        self.kv_cache_type
            .as_deref()
            .unwrap_or(crate::planner::KvType::DEFAULT.name())
    }
}

impl SetupConfig {
    /// The server settings this setup wrote, as the kinds' serve generators and restart
    /// fixes take them (the doctor's side of `Choices::serve_settings`).
    pub fn serve_settings(&self) -> crate::server::serve::ServeSettings {
        crate::server::serve::ServeSettings {
            keep_alive: Some(self.server.keep_alive.clone()),
            flash_attn: self.server.flash_attention,
            ..crate::server::serve::ServeSettings::new(self.model.context, self.server.kv_type())
        }
    }

    /// The file's text.
    pub fn to_toml(&self) -> String {
        format!(
            "{HEADER}{}",
            toml::to_string(self).expect("config serializes")
        )
    }

    pub fn from_toml(text: &str) -> std::result::Result<SetupConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// What the user chose for `model`. A file from before `chosen` was recorded is read as
    /// before for the same model (its values count as chosen); for another model its context,
    /// cache type and flash attention were the planner's, for the old model, and are planned
    /// again.
    pub fn chose(&self, same_model: bool) -> Chosen {
        match (&self.chosen, same_model) {
            (Some(c), _) => c.clone(),
            (None, true) => Chosen {
                context: true,
                kv_cache_type: true,
                flash_attention: true,
                memory_bytes: None,
            },
            (None, false) => Chosen::default(),
        }
    }
}

/// Reads the config at `path`: `None` when there is none; an error when it cannot be
/// parsed (setup then refuses to overwrite it).
pub fn load(path: &Path) -> Result<Option<SetupConfig>> {
    let text = match crate::fsread::read_to_string(path, crate::fsread::CONFIG) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, "read", e)),
    };
    SetupConfig::from_toml(&text).map(Some).map_err(|e| {
        Error::parse(format!(
            "cclocal's configuration cannot be read: {}",
            e.trim()
        ))
        .with_subject(path.display().to_string())
        .with_hint("fix or remove the file; setup will not overwrite a file it cannot read")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn sample() -> SetupConfig {
        SetupConfig {
            version: 1,
            server: ServerConfig {
                kind: crate::server::ServerKind::Ollama,
                url: "http://127.0.0.1:11434".into(),
                flash_attention: true,
                kv_cache_type: Some("q8_0".into()),
                keep_alive: "30m".into(),
            },
            model: ModelConfig {
                name: "qwen3-coder:30b".into(),
                context: 65536,
            },
            claude: ClaudeConfig {
                version: "2.1.332".into(),
                launcher_name: "claude-local".into(),
                launcher_path: "/home/u/.local/bin/claude-local".into(),
                settings_path: "/home/u/.config/cclocal/claude-settings.json".into(),
            },
            target: "linux".into(),
            wrote: vec!["launcher".into(), "server".into()],
            llama_server: None,
            chosen: None,
        }
    }

    #[test]
    fn chosen_round_trips_and_old_files_read_as_before() {
        let mut c = sample();
        let old = c.to_toml();
        assert!(!old.contains("chosen"), "{old}");
        let read = SetupConfig::from_toml(&old).unwrap();
        assert!(read.chose(true).kv_cache_type && read.chose(true).context);
        assert_eq!(read.chose(false), Chosen::default());
        c.chosen = Some(Chosen {
            kv_cache_type: true,
            memory_bytes: Some(24 << 30),
            ..Chosen::default()
        });
        let text = c.to_toml();
        assert!(text.contains("[chosen]"), "{text}");
        let back = SetupConfig::from_toml(&text).unwrap();
        assert_eq!(back, c);
        assert!(!back.chose(false).context && back.chose(false).kv_cache_type);
    }

    #[test]
    fn round_trip() {
        let c = sample();
        let text = c.to_toml();
        assert!(text.starts_with("# cclocal configuration"));
        assert_eq!(SetupConfig::from_toml(&text).unwrap(), c);
    }

    /// vLLM and the MLX servers choose their own KV cache type: no `kv_cache_type` is written
    /// for them, and an old file's `f16` for vLLM still reads.
    #[test]
    fn no_cache_type_for_a_server_that_chooses_its_own() {
        let mut c = sample();
        c.server.kind = crate::server::ServerKind::Vllm;
        c.server.kv_cache_type = None;
        let text = c.to_toml();
        assert!(!text.contains("kv_cache_type"), "{text}");
        assert_eq!(SetupConfig::from_toml(&text).unwrap(), c);
        let old = text.replace("keep_alive", "kv_cache_type = \"f16\"\nkeep_alive");
        let read = SetupConfig::from_toml(&old).unwrap();
        assert_eq!(read.server.kv_cache_type.as_deref(), Some("f16"));
        assert_eq!(sample().server.kv_type(), "q8_0");
        assert_eq!(c.server.kv_type(), crate::planner::KvType::DEFAULT.name());
    }

    #[test]
    fn llama_server_round_trip() {
        let mut c = sample();
        c.server.kind = crate::server::ServerKind::LlamaServer;
        c.llama_server = Some(LlamaServerConfig {
            binary: "/usr/local/bin/llama-server".into(),
            model_path: "/m/My Models/a.gguf".into(),
            log_file: "/h/.local/state/cclocal/llama-server.log".into(),
        });
        let text = c.to_toml();
        assert!(text.contains("[llama_server]"), "{text}");
        assert_eq!(SetupConfig::from_toml(&text).unwrap(), c);
        // An Ollama config has no such section.
        assert!(!sample().to_toml().contains("llama_server"));
    }

    /// The kind is read through `ServerKind::parse`: the names `--server` takes, and an
    /// unknown one refused with the list (it was a string compared as a string).
    #[test]
    fn the_kind_is_a_server_kind() {
        let text = sample().to_toml();
        assert!(text.contains("kind = \"ollama\""), "{text}");
        let alias = text.replace("kind = \"ollama\"", "kind = \"llama.cpp\"");
        assert_eq!(
            SetupConfig::from_toml(&alias).unwrap().server.kind,
            crate::server::ServerKind::LlamaServer
        );
        let bad = text.replace("kind = \"ollama\"", "kind = \"olama\"");
        let e = SetupConfig::from_toml(&bad).unwrap_err();
        assert!(
            e.contains("unknown server kind \"olama\"") && e.contains("llama-server"),
            "{e}"
        );
    }

    #[test]
    fn unknown_or_broken_is_refused() {
        assert!(SetupConfig::from_toml("version = 1\nnonsense = [").is_err());
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("config.toml");
        std::fs::write(&p, "version = \"x\"").unwrap();
        let e = load(&p).unwrap_err();
        assert!(e.message.contains("cannot be read"));
        assert!(load(&d.path().join("none")).unwrap().is_none());
    }
}
