//! Server version gates, in one table: from which version a kind of server does something
//! cclocal relies on, each with where that is documented. A rule compares a server's
//! version ([`crate::version::Version::loose`]) with a row, never with a literal.

use super::ServerKind;
use crate::version::Version;

/// One gate: `kind` does `what` from version `since` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionGate {
    pub kind: ServerKind,
    pub what: &'static str,
    pub since: Version,
    pub source: &'static str,
}

impl VersionGate {
    /// Whether `version` (a server's version text) is this gate's version or newer;
    /// `None` when the text is not a version.
    pub fn met_by(&self, version: &str) -> Option<bool> {
        Version::loose(version).map(|v| v >= self.since)
    }
}

/// Ollama answers Anthropic's `POST /v1/messages`.
pub const OLLAMA_MESSAGES_API: VersionGate = VersionGate {
    kind: ServerKind::Ollama,
    what: "serves /v1/messages",
    since: Version(0, 14, 0),
    source: "ollama commit 2b2cda7a2 (docs/ollama.md, \"HTTP API\")",
};

/// Ollama runs llama-server as its runner: quantized KV without flash attention is refused
/// at load (before, up to 0.24, it silently fell back to f16).
pub const OLLAMA_LLAMA_SERVER_RUNNER: VersionGate = VersionGate {
    kind: ServerKind::Ollama,
    what: "runs llama-server (quantized KV needs flash attention)",
    since: Version(0, 30, 0),
    source: "docs/ollama.md, \"Environment variables\" (OLLAMA_KV_CACHE_TYPE)",
};

/// Ollama's default context is 4096 (2048 before).
pub const OLLAMA_CONTEXT_4096: VersionGate = VersionGate {
    kind: ServerKind::Ollama,
    what: "defaults to a 4096-token context",
    since: Version(0, 6, 7),
    source: "docs/ollama.md, \"Environment variables\" (OLLAMA_CONTEXT_LENGTH)",
};

/// Ollama's default context follows the GPU memory (VRAM tiers), not knowable from its API.
pub const OLLAMA_CONTEXT_VRAM_TIERS: VersionGate = VersionGate {
    kind: ServerKind::Ollama,
    what: "defaults the context by VRAM tier",
    since: Version(0, 15, 5),
    source: "docs/ollama.md, \"Environment variables\" (OLLAMA_CONTEXT_LENGTH)",
};

/// vLLM's `vllm serve` answers `POST /v1/messages` (vLLM PR #27882, merged late 2025; third
/// parties name 0.11.1, not confirmed from a release note, so a server that answers the
/// route is never called too old).
pub const VLLM_MESSAGES_API: VersionGate = VersionGate {
    kind: ServerKind::Vllm,
    what: "serves /v1/messages",
    since: Version(0, 11, 1),
    source: "vLLM PR #27882 (docs/servers.md, \"vLLM\")",
};

/// Every gate.
pub const GATES: &[VersionGate] = &[
    OLLAMA_CONTEXT_4096,
    OLLAMA_MESSAGES_API,
    OLLAMA_CONTEXT_VRAM_TIERS,
    OLLAMA_LLAMA_SERVER_RUNNER,
    VLLM_MESSAGES_API,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gate_has_a_source() {
        for g in GATES {
            assert!(!g.source.is_empty() && !g.what.is_empty(), "{g:?}");
        }
        assert_eq!(VLLM_MESSAGES_API.met_by("0.10.2rc1"), Some(false));
        assert_eq!(OLLAMA_MESSAGES_API.met_by("v0.14.0-rc1"), Some(true));
        assert_eq!(OLLAMA_MESSAGES_API.met_by("dev"), None);
    }
}
