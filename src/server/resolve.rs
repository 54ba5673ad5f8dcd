//! Which server a command talks to: one order for every command (`doctor`, `plan`, `setup`,
//! `status`; README "Which server and which Claude Code"):
//!
//! 1. `--host`;
//! 2. Claude Code's `ANTHROPIC_BASE_URL` (the server Claude Code is pointed at);
//! 3. the server `cclocal setup` configured (config.toml);
//! 4. `OLLAMA_HOST` (unless `--server` names another kind: it is Ollama's variable);
//! 5. the default port of the `--server` kind (Ollama's when none) on this machine.
//!
//! Every address is read by the one parser, [`ServerUrl`]. An address that does not parse is
//! the answer (an error naming where it came from), not a reason to try the next source.

use super::{ServerKind, ServerUrl};
use crate::error::Result;

/// Where the server's address came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Host,
    AnthropicBaseUrl,
    Config,
    OllamaHost,
    Default,
}

impl Source {
    /// The name shown (`--host`, `ANTHROPIC_BASE_URL`, `config.toml`, `OLLAMA_HOST`,
    /// `default`).
    pub fn name(self) -> &'static str {
        match self {
            Source::Host => "--host",
            Source::AnthropicBaseUrl => "ANTHROPIC_BASE_URL",
            Source::Config => "config.toml",
            Source::OllamaHost => "OLLAMA_HOST",
            Source::Default => "default",
        }
    }
}

/// What the resolution reads, as data.
#[derive(Debug, Clone, Default)]
pub struct Inputs<'a> {
    pub host: Option<&'a str>,
    /// `--server KIND`: the default port, and how an address without a port is read.
    pub kind: Option<ServerKind>,
    pub anthropic_base_url: Option<&'a str>,
    pub configured: Option<&'a str>,
    pub ollama_host: Option<&'a str>,
}

/// The server, as the address it is reached at (`0.0.0.0` becomes loopback, a `/v1` suffix
/// is dropped), the address as shown, and its source.
pub fn server(i: &Inputs) -> (Result<ServerUrl>, String, Source) {
    let set = |v: Option<&str>| v.filter(|v| !v.trim().is_empty()).map(str::to_string);
    let (raw, source) = if let Some(h) = set(i.host) {
        (h, Source::Host)
    } else if let Some(b) = set(i.anthropic_base_url) {
        (b, Source::AnthropicBaseUrl)
    } else if let Some(c) = set(i.configured) {
        (c, Source::Config)
    } else if let Some(h) =
        set(i.ollama_host).filter(|_| matches!(i.kind, None | Some(ServerKind::Ollama)))
    {
        (h, Source::OllamaHost)
    } else {
        let kind = i.kind.unwrap_or(ServerKind::Ollama);
        (
            format!("127.0.0.1:{}", kind.default_port()),
            Source::Default,
        )
    };
    let parsed = ServerUrl::parse_for(&raw, i.kind).map(|u| {
        let u = u.reachable();
        if source == Source::AnthropicBaseUrl {
            u.without_v1()
        } else {
            u
        }
    });
    let shown = parsed.as_ref().map(|u| u.to_url()).unwrap_or(raw);
    (parsed, shown, source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_order() {
        let all = Inputs {
            host: Some("127.0.0.1:1"),
            kind: None,
            anthropic_base_url: Some("http://127.0.0.1:2/v1/"),
            configured: Some("http://127.0.0.1:3"),
            ollama_host: Some("0.0.0.0:4"),
        };
        let port = |i: &Inputs| {
            let (u, _, s) = server(i);
            (u.unwrap().port, s)
        };
        assert_eq!(port(&all), (1, Source::Host));
        let i = Inputs {
            host: None,
            ..all.clone()
        };
        assert_eq!(port(&i), (2, Source::AnthropicBaseUrl));
        let i = Inputs {
            anthropic_base_url: Some(" "),
            ..i
        };
        assert_eq!(port(&i), (3, Source::Config));
        let i = Inputs {
            configured: None,
            ..i
        };
        assert_eq!(port(&i), (4, Source::OllamaHost));
        assert_eq!(server(&i).0.unwrap().to_url(), "http://127.0.0.1:4");
        let i = Inputs {
            kind: Some(ServerKind::LlamaServer),
            ..i
        };
        assert_eq!(port(&i), (8080, Source::Default), "OLLAMA_HOST is Ollama's");
        // A bad address is the answer, with its source.
        let i = Inputs {
            host: Some("http://h:99999"),
            ..Inputs::default()
        };
        let (u, shown, s) = server(&i);
        assert!(u.is_err());
        assert_eq!((shown.as_str(), s), ("http://h:99999", Source::Host));
    }
}
