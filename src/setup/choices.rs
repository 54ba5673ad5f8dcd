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
    pub llama_server: Option<super::llama_server::LlamaServer>,
}

impl Choices {
    pub fn has(&self, p: Part) -> bool {
        self.parts.contains(&p)
    }

    /// The server kind as config.toml records it.
    pub fn server_kind(&self) -> &'static str {
        if self.llama_server.is_some() {
            "llama-server"
        } else {
            "ollama"
        }
    }

    /// Checks every value; the first problem is returned as a usage error.
    pub fn validate(&self) -> Result<()> {
        check_model(&self.model)?;
        if self.context < 2048 {
            return Err(Error::usage(format!("context {} is too small for Claude Code", self.context))
                .with_hint("Claude Code's system prompt and tools alone take 12-19k tokens; use --ctx 32768 or more"));
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
            if !super::llama_server::LLAMA_KV_TYPES.contains(&self.kv_cache_type.as_str()) {
                return Err(Error::usage(format!(
                    "llama-server does not take KV cache type {:?}",
                    self.kv_cache_type
                ))
                .with_hint(format!(
                    "use one of: {}",
                    super::llama_server::LLAMA_KV_TYPES.join(", ")
                )));
            }
        } else if !OLLAMA_KV_TYPES.contains(&self.kv_cache_type.as_str()) {
            return Err(Error::usage(format!(
                "Ollama does not take KV cache type {:?}",
                self.kv_cache_type
            ))
            .with_hint(format!("use one of: {}", OLLAMA_KV_TYPES.join(", "))));
        }
        if !matches!(self.kv_cache_type.as_str(), "f16" | "f32" | "bf16") && !self.flash_attention {
            return Err(Error::usage("a quantized KV cache needs flash attention")
                .with_hint("drop --no-flash-attention, or use --kv-cache-type f16"));
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
    if body.is_empty() {
        return Err(bad());
    }
    if body.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    let mut rest = body;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_len];
        if num.is_empty() || num.matches('.').count() > 1 || num == "." {
            return Err(bad());
        }
        rest = &rest[num_len..];
        let unit = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .iter()
            .filter(|u| rest.starts_with(*u))
            .max_by_key(|u| u.len())
            .ok_or_else(bad)?;
        rest = &rest[unit.len()..];
    }
    Ok(())
}

/// Normalises a server given as `host`, `host:port` or a URL, and says whether it is this
/// machine. Claude Code needs the server root: a trailing `/v1` is refused.
pub fn normalize_server(input: &str) -> Result<(String, bool)> {
    normalize_server_port(input, 11434)
}

/// [`normalize_server`] with another default port for `http` (llama-server's is 8080).
pub fn normalize_server_port(input: &str, default_port: u16) -> Result<(String, bool)> {
    let s = input.trim();
    let bad = |why: &str| {
        Error::usage(format!("server {input:?} {why}")).with_hint(format!(
            "pass --host http://HOST:{default_port} (the server root, without /v1)"
        ))
    };
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("is not a URL"));
    }
    let (scheme, rest) = match s.split_once("://") {
        Some((sch, rest)) => (sch.to_ascii_lowercase(), rest),
        None => ("http".to_string(), s),
    };
    if scheme != "http" && scheme != "https" {
        return Err(bad("must use http or https"));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    if path.ends_with("/v1") {
        return Err(bad(
            "ends in /v1, but Claude Code appends /v1/messages itself",
        ));
    }
    if authority.is_empty() || authority.contains(['@', '?', '#', '"', '\'', '\\']) {
        return Err(bad("has no usable host"));
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(inner) => match inner.split_once(']') {
            Some((h, "")) => (h, None),
            Some((h, p)) => (
                h,
                Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| bad("has no usable host"))?,
                ),
            ),
            None => return Err(bad("has no usable host")),
        },
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    if host.is_empty()
        || port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad("has no usable host and port"));
    }
    let authority = match (port, scheme.as_str()) {
        (None, "http") => format!("{authority}:{default_port}"),
        _ => authority.to_string(),
    };
    let local = matches!(
        host.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "::1" | "0.0.0.0"
    );
    Ok((format!("{scheme}://{authority}{path}"), !local))
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
            normalize_server("https://ollama.example.com/proxy").unwrap(),
            ("https://ollama.example.com/proxy".into(), true)
        );
        assert_eq!(
            normalize_server("[::1]:11434").unwrap(),
            ("http://[::1]:11434".into(), false)
        );
        assert!(normalize_server("http://h:11434/v1").is_err());
        assert!(normalize_server("ftp://h").is_err());
        assert!(normalize_server("h'$(x)").is_err());
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
