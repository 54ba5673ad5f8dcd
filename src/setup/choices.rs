//! What setup configures, checked: every value that reaches a generated file passes
//! through here first.

use crate::claude::Version;
use crate::error::{Error, Result};

/// The OS whose server files are rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetOs {
    Linux,
    Macos,
}

impl TargetOs {
    pub fn this() -> TargetOs {
        if cfg!(target_os = "macos") {
            TargetOs::Macos
        } else {
            TargetOs::Linux
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            TargetOs::Linux => "linux",
            TargetOs::Macos => "macos",
        }
    }
    pub fn parse(s: &str) -> Option<TargetOs> {
        match s {
            "linux" => Some(TargetOs::Linux),
            "macos" => Some(TargetOs::Macos),
            _ => None,
        }
    }
}

/// The parts setup can write (the config file is always written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// `~/.local/bin/<launcher>` and cclocal's Claude Code settings file.
    Launcher,
    /// The Ollama server settings (LaunchAgent, systemd drop-in or a script for the server host).
    Server,
    /// `hasCompletedOnboarding` in `~/.claude.json`.
    Onboarding,
}

impl Part {
    pub const ALL: [Part; 3] = [Part::Launcher, Part::Server, Part::Onboarding];
    pub fn name(self) -> &'static str {
        match self {
            Part::Launcher => "launcher",
            Part::Server => "server",
            Part::Onboarding => "onboarding",
        }
    }
    pub fn parse(s: &str) -> Option<Part> {
        Part::ALL.into_iter().find(|p| p.name() == s)
    }
}

/// KV cache types Ollama accepts in `OLLAMA_KV_CACHE_TYPE` (FAQ: f16, q8_0, q4_0).
pub const OLLAMA_KV_TYPES: &[&str] = &["f16", "q8_0", "q4_0"];

/// Everything setup needs, already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choices {
    /// Server root, no trailing slash (`http://127.0.0.1:11434`).
    pub server_url: String,
    /// The server runs on another machine.
    pub remote: bool,
    pub model: String,
    pub context: u64,
    pub kv_cache_type: String,
    pub flash_attention: bool,
    pub keep_alive: String,
    pub launcher_name: String,
    pub auth_token: String,
    pub claude_version: Version,
    pub target: TargetOs,
    pub parts: Vec<Part>,
    /// `Some` when the server is llama.cpp's llama-server (setup runs it); `None` for Ollama.
    pub llama_server: Option<crate::server::llama_server::serve::LlamaServer>,
    /// What the user chose (the rest is the planner's), recorded in config.toml.
    pub chosen: super::config::Chosen,
}

impl Choices {
    pub fn has(&self, p: Part) -> bool {
        self.parts.contains(&p)
    }

    /// The server kind as config.toml records it.
    pub fn server_kind(&self) -> crate::server::ServerKind {
        if self.llama_server.is_some() {
            crate::server::ServerKind::LlamaServer
        } else {
            crate::server::ServerKind::Ollama
        }
    }

    /// The server settings setup writes, from the planner's decision: the one place setup
    /// builds what every kind's serve generator takes (`crate::server::<kind>::serve`).
    pub fn serve_settings(&self) -> crate::server::serve::ServeSettings {
        crate::server::serve::ServeSettings {
            keep_alive: Some(self.keep_alive.clone()),
            flash_attn: self.flash_attention,
            ..crate::server::serve::ServeSettings::new(self.context, &self.kv_cache_type)
        }
    }

    /// What llama-server's serve line, unit and LaunchAgent say for these choices: the
    /// settings, the alias and the address it binds.
    pub fn llama_serve<'a>(
        &'a self,
        ls: &'a crate::server::llama_server::serve::LlamaServer,
    ) -> Result<crate::server::llama_server::serve::LlamaServe<'a>> {
        let (host, port) =
            crate::server::llama_server::serve::bind_address(&self.server_url, self.remote)?;
        Ok(crate::server::llama_server::serve::LlamaServe {
            files: ls,
            alias: &self.model,
            settings: self.serve_settings(),
            host,
            port,
        })
    }

    /// Checks every value; the first problem is returned as a usage error.
    pub fn validate(&self) -> Result<()> {
        check_model(&self.model)?;
        if self.context < crate::planner::MIN_USABLE_CONTEXT {
            return Err(Error::usage(format!(
                "no Claude Code setting can work with a {}-token context",
                self.context
            ))
            .with_hint(format!(
                "Claude Code's system prompt and tools take about 12k tokens and compaction 13k more: use --ctx {} or more (docs/planner.md)",
                crate::planner::MIN_USABLE_CONTEXT
            )));
        }
        if self.context > 16 * 1024 * 1024 {
            return Err(Error::usage(format!(
                "context {} is larger than any model serves",
                self.context
            )));
        }
        if let Some(ls) = &self.llama_server {
            ls.validate()?;
            if self.model.contains(',') {
                return Err(Error::usage(format!(
                    "{:?} cannot be llama-server's model name: --alias splits names at commas",
                    self.model
                )));
            }
            if !crate::server::llama_server::serve::LLAMA_KV_TYPES
                .contains(&self.kv_cache_type.as_str())
            {
                return Err(Error::usage(format!(
                    "llama-server does not take KV cache type {:?}",
                    self.kv_cache_type
                ))
                .with_hint(format!(
                    "use one of: {}",
                    crate::server::llama_server::serve::LLAMA_KV_TYPES.join(", ")
                )));
            }
        } else if !OLLAMA_KV_TYPES.contains(&self.kv_cache_type.as_str()) {
            return Err(Error::usage(format!(
                "Ollama does not take KV cache type {:?}",
                self.kv_cache_type
            ))
            .with_hint(format!("use one of: {}", OLLAMA_KV_TYPES.join(", "))));
        }
        if crate::planner::kv::is_quantized(&self.kv_cache_type) && !self.flash_attention {
            return Err(Error::usage("a quantized KV cache needs flash attention")
                .with_hint("use --flash-attn on, or --kv-type f16"));
        }
        check_keep_alive(&self.keep_alive)?;
        if !crate::shell::quote::is_command_name(&self.launcher_name) {
            return Err(Error::usage(format!(
                "{:?} cannot be a launcher name",
                self.launcher_name
            ))
            .with_hint("use letters, digits, '_', '-' and '.', not starting with '-' or '.'"));
        }
        if self.auth_token.is_empty() || self.auth_token.chars().any(char::is_control) {
            return Err(Error::usage(
                "the auth token must be non-empty text without control characters",
            ));
        }
        Ok(())
    }
}

/// Any non-empty name without NUL reaches Claude Code unchanged (the launcher quotes it).
pub fn check_model(model: &str) -> Result<()> {
    if model.trim().is_empty() || model.contains('\0') {
        return Err(
            Error::usage("the model name is empty or contains a NUL byte")
                .with_hint("pass --model NAME (for example qwen3-coder:30b)"),
        );
    }
    Ok(())
}

/// Checks `model` against the models the server has (`/api/tags`): a name the server does
/// not have is refused, listing what it has, because the launcher would fail on the first
/// prompt. `force` turns the refusal into `Ok` (the model may be pulled later).
pub fn check_model_on_server(model: &str, installed: &[(String, u64)], force: bool) -> Result<()> {
    if force
        || installed
            .iter()
            .any(|(n, _)| crate::server::same_model(n, model))
    {
        return Ok(());
    }
    let names: Vec<&str> = installed.iter().map(|(n, _)| n.as_str()).collect();
    let have = if names.is_empty() {
        "it has no models".to_string()
    } else {
        format!("it has: {}", crate::units::list_some(&names))
    };
    Err(Error::not_found(format!("the server does not have model {model:?}; {have}"))
        .with_subject(model.to_string())
        .with_hint(format!(
            "pull it first (ollama pull {model}), pick one of those, or pass --force to write the setup anyway"
        )))
}

/// `OLLAMA_KEEP_ALIVE`: a Go duration (`30m`, `1h30m`, `-1m`) or whole seconds (`3600`,
/// `-1`). Ollama silently falls back to 5m on anything else, so it is checked here.
pub fn check_keep_alive(s: &str) -> Result<()> {
    let bad = || {
        Error::usage(format!(
            "keep-alive {s:?} is not a duration Ollama understands"
        ))
        .with_hint(
            "use a Go duration such as 30m, 2h or -1 (forever), or whole seconds such as 3600",
        )
    };
    let body = s.strip_prefix('-').unwrap_or(s);
    let seconds = !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit());
    if seconds || crate::duration::parse_go(s).is_some() {
        return Ok(());
    }
    Err(bad())
}

/// Normalises a server given as `host`, `host:port` or a URL (the one parser,
/// `crate::server::ServerUrl`: no port means Ollama's 11434, https is refused), and says
/// whether it is on another machine. Claude Code needs the server root: a trailing `/v1`
/// is refused.
pub fn normalize_server(input: &str) -> Result<(String, bool)> {
    normalize_server_port(input, crate::server::ServerKind::Ollama.default_port())
}

/// [`normalize_server`] with another default port (llama-server's is 8080).
pub fn normalize_server_port(input: &str, default_port: u16) -> Result<(String, bool)> {
    let u = crate::server::ServerUrl::parse_root(input, default_port)?;
    Ok((u.to_url(), !u.is_local()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers() {
        assert_eq!(
            normalize_server("localhost").unwrap(),
            ("http://localhost:11434".into(), false)
        );
        assert_eq!(
            normalize_server("http://127.0.0.1:11434/").unwrap(),
            ("http://127.0.0.1:11434".into(), false)
        );
        assert_eq!(
            normalize_server("gpu-box:8080").unwrap(),
            ("http://gpu-box:8080".into(), true)
        );
        assert_eq!(
            normalize_server("http://ollama.example.com/proxy").unwrap(),
            ("http://ollama.example.com:11434/proxy".into(), true)
        );
        assert!(normalize_server("https://ollama.example.com").is_err());
        assert!(normalize_server("http://h:99999").is_err());
        assert_eq!(
            normalize_server("[::1]:11434").unwrap(),
            ("http://[::1]:11434".into(), false)
        );
        assert!(normalize_server("http://h:11434/v1").is_err());
        assert!(normalize_server("ftp://h").is_err());
        assert!(normalize_server("h'$(x)").is_err());
    }

    #[test]
    fn model_must_be_on_the_server() {
        let have = vec![
            ("qwen3-coder:30b".to_string(), 1u64),
            ("llama3:latest".into(), 2),
        ];
        assert!(check_model_on_server("qwen3-coder:30b", &have, false).is_ok());
        assert!(check_model_on_server("llama3", &have, false).is_ok());
        let e = check_model_on_server("nosuch:model", &have, false).unwrap_err();
        assert!(
            e.message.contains("qwen3-coder:30b, llama3:latest"),
            "{}",
            e.message
        );
        assert!(check_model_on_server("nosuch:model", &have, true).is_ok());
        let e = check_model_on_server("m", &[], false).unwrap_err();
        assert!(e.message.contains("no models"));
    }

    #[test]
    fn keep_alive() {
        for ok in ["30m", "1h30m", "-1", "-1m", "3600", "0", "1.5h", "500ms"] {
            assert!(check_keep_alive(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-", "forever", "5 m", "m", "1x", "1.2.3s", "$(id)"] {
            assert!(check_keep_alive(bad).is_err(), "{bad}");
        }
    }
}
