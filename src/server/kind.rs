//! The kinds of LLM server cclocal knows, with their default ports (docs/servers.md).

use serde::{Deserialize, Deserializer, Serialize};

/// Which server answers at a URL. Serialized as its name (`llama-server`); read through
/// [`ServerKind::parse`], so config.toml and JSON accept what `--server` accepts. The
/// default is `Unknown` (what a server log's reader knows before a line names the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
pub enum ServerKind {
    #[serde(rename = "ollama")]
    Ollama,
    #[serde(rename = "llama-server")]
    LlamaServer,
    #[serde(rename = "lmstudio")]
    LmStudio,
    #[serde(rename = "vllm")]
    Vllm,
    #[serde(rename = "vllm-mlx")]
    VllmMlx,
    #[serde(rename = "omlx")]
    Omlx,
    #[serde(rename = "mlx-lm")]
    MlxLm,
    /// Something answers, but no fingerprint matched.
    #[serde(rename = "unknown")]
    #[default]
    Unknown,
}

/// One row of the kinds table.
#[derive(Debug, Clone, Copy)]
pub struct KindInfo {
    pub kind: ServerKind,
    /// The name on the command line and in JSON (`--server llama-server`).
    pub name: &'static str,
    /// The name people know it by.
    pub label: &'static str,
    pub default_port: u16,
    /// Whether it serves Anthropic's `POST /v1/messages` (Claude Code's protocol).
    pub messages_api: bool,
    /// Where the default port and routes are documented upstream.
    pub source: &'static str,
    /// The fingerprint (`None` for `unknown`, what remains when none matches).
    pub detect: Option<Fingerprint>,
    /// The live probe (`None`: the generic OpenAI-style probe).
    pub probe: Option<Probe>,
    /// How `cclocal setup` runs it: the files it writes and the restart fix, from the
    /// kind's `serve` module (`None`: setup does not configure this kind).
    pub serve: Option<super::serve::ServeParts>,
}

/// What a kind's probe gets: the detection's answers (reused, not asked again), the client
/// and its deadline, the model names Claude Code will call and the one to describe, and
/// whether the server said it is still loading.
pub struct ProbeCall<'a, 'h> {
    pub http: &'a mut super::detect::Http<'h>,
    pub client: &'a super::http::Client,
    pub names: &'a [String],
    pub main: Option<&'a str>,
    pub loading: bool,
}

/// A kind's probe: its live facts ([`super::ServerProbe`]).
pub type Probe = fn(ProbeCall<'_, '_>) -> super::ServerProbe;

/// A kind's fingerprint: reads the server's answers, says whether they are its own.
pub type Fingerprint = fn(&mut super::detect::Http) -> super::detect::Verdict;

/// Every kind, in detection order (docs/servers.md "Detection").
pub const KINDS: &[KindInfo] = &[
    KindInfo {
        kind: ServerKind::Ollama,
        name: "ollama",
        label: "Ollama",
        default_port: 11434,
        messages_api: true,
        source: "https://github.com/ollama/ollama/blob/main/envconfig/config.go",
        detect: Some(super::ollama::fingerprint),
        probe: Some(|c| super::ollama::probe(c.client, c.names, c.main)),
        serve: Some(super::ollama::serve::PARTS),
    },
    KindInfo {
        kind: ServerKind::LlamaServer,
        name: "llama-server",
        label: "llama-server (llama.cpp)",
        default_port: 8080,
        messages_api: true,
        source: "https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md",
        detect: Some(super::llama_server::fingerprint),
        probe: Some(|c| super::llama_server::probe(c.http, c.client, c.names, c.loading)),
        serve: Some(super::llama_server::serve::PARTS),
    },
    KindInfo {
        kind: ServerKind::LmStudio,
        name: "lmstudio",
        label: "LM Studio",
        default_port: 1234,
        messages_api: true,
        source: "https://lmstudio.ai/docs/developer/core/server",
        detect: Some(super::lmstudio::fingerprint),
        probe: Some(|c| super::lmstudio::probe(c.http, c.client, c.names)),
        serve: Some(super::lmstudio::serve::PARTS),
    },
    KindInfo {
        kind: ServerKind::Vllm,
        name: "vllm",
        label: "vLLM",
        default_port: 8000,
        messages_api: true,
        source: "https://docs.vllm.ai/en/latest/cli/serve.html",
        detect: Some(super::vllm::fingerprint),
        probe: Some(|c| super::vllm::probe(c.http, c.client, c.names)),
        serve: Some(super::vllm::serve::PARTS),
    },
    KindInfo {
        kind: ServerKind::VllmMlx,
        name: "vllm-mlx",
        label: "vllm-mlx",
        default_port: 8000,
        messages_api: true,
        source: "https://github.com/waybarrios/vllm-mlx",
        detect: Some(super::vllm_mlx::fingerprint),
        probe: Some(|c| super::vllm_mlx::probe(c.http, c.client, c.names)),
        serve: Some(super::vllm_mlx::serve::PARTS),
    },
    KindInfo {
        kind: ServerKind::Omlx,
        name: "omlx",
        label: "oMLX",
        default_port: 8000,
        messages_api: true,
        source: "https://github.com/jundot/omlx",
        detect: Some(super::omlx::fingerprint),
        probe: Some(|c| super::omlx::probe(c.http, c.client, c.names)),
        serve: None,
    },
    KindInfo {
        kind: ServerKind::MlxLm,
        name: "mlx-lm",
        label: "mlx_lm.server",
        default_port: 8080,
        messages_api: false,
        source: "https://github.com/ml-explore/mlx-lm/blob/main/mlx_lm/server.py",
        detect: Some(super::mlx_lm::fingerprint),
        probe: Some(|c| {
            super::backend::probe_openai(c.http, c.client, ServerKind::MlxLm, c.names, false)
        }),
        serve: None,
    },
    KindInfo {
        kind: ServerKind::Unknown,
        name: "unknown",
        label: "an unknown server",
        default_port: 11434,
        messages_api: true,
        source: "",
        detect: None,
        probe: None,
        serve: None,
    },
];

impl ServerKind {
    /// The kind's row of [`KINDS`] (a `const fn`: constants such as a module's
    /// `DEFAULT_PORT` read the table at compile time, and a kind without a row does not
    /// compile).
    pub const fn info(self) -> &'static KindInfo {
        let mut i = 0;
        while i < KINDS.len() {
            if KINDS[i].kind as u8 == self as u8 {
                return &KINDS[i];
            }
            i += 1;
        }
        panic!("every kind has a row in KINDS")
    }
    /// `ollama`, `llama-server`, … (the `--server` and JSON name).
    pub fn name(self) -> &'static str {
        self.info().name
    }
    pub fn label(self) -> &'static str {
        self.info().label
    }
    /// The port a URL without one gets (Ollama's for `unknown`).
    pub const fn default_port(self) -> u16 {
        self.info().default_port
    }
    /// Parses a `--server` value.
    pub fn parse(s: &str) -> crate::error::Result<ServerKind> {
        let t = s.trim().to_ascii_lowercase();
        let alias = match t.as_str() {
            "llama.cpp" | "llamacpp" | "llama-cpp" | "llama_server" => "llama-server",
            "lm-studio" | "lms" => "lmstudio",
            "mlx_lm" | "mlx_lm.server" | "mlx-lm.server" => "mlx-lm",
            "vllm_mlx" => "vllm-mlx",
            other => other,
        };
        KINDS
            .iter()
            .find(|i| i.name == alias)
            .map(|i| i.kind)
            .ok_or_else(|| {
                crate::error::Error::usage(format!("unknown server kind {s:?}")).with_hint(format!(
                    "use one of: {}",
                    KINDS.iter().map(|i| i.name).collect::<Vec<_>>().join(", ")
                ))
            })
    }
}

impl std::fmt::Display for ServerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ServerKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ServerKind::parse(&s).map_err(|e| {
            serde::de::Error::custom(match e.hint {
                Some(h) => format!("{}; {h}", e.message),
                None => e.message,
            })
        })
    }
}

impl std::str::FromStr for ServerKind {
    type Err = crate::error::Error;
    fn from_str(s: &str) -> crate::error::Result<Self> {
        ServerKind::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_name_is_a_placeholder_token() {
        let names: Vec<&str> = KINDS.iter().map(|k| k.kind.name()).collect();
        assert_eq!(names, crate::secret::PLACEHOLDER_TOKENS);
    }

    /// Every kind's serve parts name bare files, and its restart fix takes its paths from
    /// `paths` (with `XDG_CONFIG_HOME` outside HOME, nothing is printed under
    /// `~/.config`).
    #[test]
    fn serve_parts_take_their_paths_from_paths() {
        let paths = crate::paths::Paths::from_vars(
            |k| match k {
                "HOME" => Some("/h".into()),
                "XDG_CONFIG_HOME" => Some("/x".into()),
                _ => None,
            },
            None,
        )
        .unwrap();
        let settings = crate::server::serve::ServeSettings::new(65_536, "q8_0");
        for i in KINDS {
            let Some(parts) = i.serve else { continue };
            assert!(!parts.files.is_empty(), "{}", i.name);
            for f in parts.files {
                assert!(!f.contains('/') && !f.is_empty(), "{}: {f}", i.name);
            }
            for p in (parts.installed)(&paths) {
                assert!(p.is_absolute(), "{}: {}", i.name, p.display());
            }
            for macos in [false, true] {
                let r = crate::server::serve::Restart {
                    paths: &paths,
                    model: "m",
                    settings: &settings,
                    macos,
                };
                let fix = (parts.restart)(&r);
                assert!(
                    !fix.contains("~/.config") && !fix.contains("/h/.config"),
                    "{}: {fix}",
                    i.name
                );
            }
        }
    }

    #[test]
    fn table_is_complete_and_names_round_trip() {
        for i in KINDS {
            assert_eq!(ServerKind::parse(i.name).unwrap(), i.kind);
            let json = serde_json::to_string(&i.kind).unwrap();
            assert_eq!(json, format!("\"{}\"", i.name));
            assert_eq!(i.kind.info().name, i.name);
        }
        assert_eq!(KINDS.len(), 8);
        assert_eq!(
            ServerKind::parse("llama.cpp").unwrap(),
            ServerKind::LlamaServer
        );
        assert_eq!(ServerKind::LlamaServer.default_port(), 8080);
        assert_eq!(ServerKind::LmStudio.default_port(), 1234);
        assert!(ServerKind::parse("tgi")
            .unwrap_err()
            .hint
            .unwrap()
            .contains("llama-server"));
    }
}
