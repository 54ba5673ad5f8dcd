//! The facts the doctor gathers: plain data, serialisable (the `facts` object of
//! `--json`), and constructible by hand in tests. Secrets are already redacted here.

use crate::claude::{EnvMap, Version};
use crate::memory::Budget;
use serde::Serialize;

/// Everything the probes found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Facts {
    pub options: RunFacts,
    pub machine: MachineFacts,
    /// `None` with `--server-only`.
    pub claude: Option<ClaudeFacts>,
    pub server: ServerFacts,
    /// Configuration of the Ollama service on this machine (`None` for a remote server).
    pub server_config: Option<ServerConfigFacts>,
    pub model: Option<ModelFacts>,
    /// What the last `cclocal setup` configured (`None` when it never ran).
    pub setup: Option<SetupFacts>,
    /// The server logs on this machine and what they say since each server's last start
    /// (empty for a remote server).
    pub server_log: Vec<ServerLogFacts>,
    /// A typical Claude Code turn's predicted time at the served context
    /// (`predict::quote`; `None` without rates or a context).
    pub turn_time: Option<crate::predict::quote::Quote>,
    /// The last `cclocal verify` result kept in the state directory (`None`: never ran).
    pub verify: Option<VerifyFacts>,
}

/// The last `cclocal verify` (`crate::verify::state`), with its age.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyFacts {
    pub path: String,
    /// Seconds since it ran, and the same in words (`3 min ago`).
    pub age_s: u64,
    pub age: String,
    /// The Claude Code version it ran.
    pub version: String,
    pub ok: bool,
    /// `item: observed (planned …)` for each mismatch.
    pub mismatches: Vec<String>,
    /// Where Claude Code contradicted the version table.
    pub table: Vec<String>,
}

/// One server log file and the findings of its recent part (`crate::logs::serverlog`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerLogFacts {
    pub path: String,
    /// The server that wrote it (`llama-server`, `ollama`), when its lines say.
    pub kind: Option<String>,
    pub findings: Vec<crate::findings::Finding>,
    /// Why the file could not be read.
    pub error: Option<String>,
    /// Rates fitted to the log's timed requests of the model it loaded last, and how many
    /// requests (`predict::quote::server_rates`).
    #[serde(skip)]
    pub rates: Option<(crate::predict::Rates, usize)>,
    /// Why the log's timed requests cannot price a turn yet (too few, all at one depth).
    #[serde(skip)]
    pub rates_missing: Option<String>,
    /// The model the server loaded last, as its log names it.
    #[serde(skip)]
    pub model: Option<String>,
}

/// cclocal's own configuration file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SetupFacts {
    pub path: String,
    pub config: Option<crate::setup::config::SetupConfig>,
    /// Why the file could not be read.
    pub error: Option<String>,
    /// Where setup writes, for the checked environment (`HOME`, `XDG_CONFIG_HOME`): the
    /// paths a printed fix names. `None`: the default layout under HOME.
    #[serde(skip)]
    pub paths: Option<crate::paths::Paths>,
}

/// How the doctor ran.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunFacts {
    pub offline: bool,
    pub server_only: bool,
    pub budget_ms: u64,
    /// Probes that did not finish within the budget.
    pub timed_out: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MachineFacts {
    pub os: String,
    pub arch: String,
    pub cpus: usize,
    pub ram_bytes: u64,
    /// The memory budget a model must fit in (`crate::runtime::detect_budget`).
    pub budget: Option<Budget>,
    /// Backend devices from the embedded llama.cpp runtime, when built in.
    pub devices: Option<Vec<String>>,
}

/// A variable set in the shell whose value Claude Code's settings replace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvOverride {
    pub name: String,
    pub shell: String,
    pub value: String,
    /// The file whose `env` wins.
    pub source: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ClaudeFacts {
    pub path: Option<String>,
    pub version: Option<Version>,
    /// Relevant variables of the shell (`ANTHROPIC_*`, `CLAUDE_*`, `DISABLE_*`, …), redacted.
    pub shell_env: EnvMap,
    /// The environment Claude Code will see: shell, then `~/.claude.json` `env`, then the
    /// settings files' `env` (later wins), redacted.
    pub env: EnvMap,
    pub overrides: Vec<EnvOverride>,
    /// Config files read, and problems reading them.
    pub files: Vec<String>,
    pub file_errors: Vec<String>,
    /// `~/.claude.json` `hasCompletedOnboarding`.
    pub has_completed_onboarding: Option<bool>,
    /// `autoCompactEnabled` as written (settings files first, then `~/.claude.json`).
    pub auto_compact_enabled: Option<serde_json::Value>,
    pub auto_compact_enabled_source: Option<String>,
    /// Settings `autoCompactWindow`, as written.
    pub auto_compact_window: Option<serde_json::Value>,
    /// Settings `model`.
    pub settings_model: Option<String>,
    /// The model Claude Code will send (`--model` of cclocal, `ANTHROPIC_MODEL`, settings
    /// `model`), with a `[1m]` suffix removed as Claude Code does.
    pub model: Option<String>,
    pub model_source: Option<String>,
    /// The launcher `cclocal setup` wrote, when the doctor evaluated the environment it
    /// gives Claude Code.
    pub launcher: Option<String>,
    /// Why the launcher `config.toml` names could not be read.
    pub launcher_error: Option<String>,
    /// Where each variable of `env` came from: `shell`, `launcher PATH`, or a file's path.
    pub env_sources: std::collections::BTreeMap<String, String>,
}

pub use crate::server::{InstalledModel, LoadedModel, Presence};

/// A model Claude Code will call, and whether the server has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelCheck {
    /// `main` or `background`.
    pub role: String,
    pub name: String,
    /// Why this name (which variable or default).
    pub why: String,
    pub presence: Presence,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerFacts {
    /// Root URL probed, e.g. `http://127.0.0.1:11434`.
    pub url: String,
    /// Where the URL came from (`--host`, `ANTHROPIC_BASE_URL`, `OLLAMA_HOST`, `default`).
    pub url_source: String,
    /// `ANTHROPIC_BASE_URL` as Claude Code sees it, when set.
    pub base_url: Option<String>,
    /// The server runs on this machine.
    pub local: bool,
    /// Probed (false with `--offline` or for an address that does not parse).
    pub checked: bool,
    /// The server's kind (`ollama`, `llama-server`, …; `unknown` when something answers
    /// that no fingerprint matches; `None` when nothing answered).
    pub kind: Option<crate::server::ServerKind>,
    /// `--server` or `detected`.
    pub kind_source: Option<String>,
    /// How the kind was decided, one line per step (`doctor -v`).
    pub detection: Vec<String>,
    /// For an unknown kind: what answered instead, in plain words.
    pub answered: Option<String>,
    /// The server is still loading its model (llama-server's 503 `Loading model`).
    pub loading: bool,
    /// llama-server's own facts (`/props`, `/slots`, `/v1/models`).
    pub llama: Option<crate::server::llama_server::LlamaFacts>,
    /// How the llama-server on this machine was started (`/proc`), when found.
    pub llama_command: Option<crate::server::llama_server::LlamaCommand>,
    /// LM Studio's, vLLM's and the MLX servers' models and contexts.
    pub backend: Option<crate::server::backend::BackendFacts>,
    pub reachable: bool,
    pub error: Option<String>,
    pub version: Option<String>,
    pub installed: Vec<InstalledModel>,
    pub loaded: Vec<LoadedModel>,
    /// `/v1/messages` is routed: `Some(false)` when the server answers `404 page not found`.
    pub messages_api: Option<bool>,
    pub models: Vec<ModelCheck>,
    /// Milliseconds to the first byte of `/api/version`.
    pub latency_ms: Option<u64>,
}

/// The Ollama service's configuration on this machine.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerConfigFacts {
    /// `OLLAMA_*` variables the server process gets, when known.
    pub env: EnvMap,
    /// Where `env` came from (`process`, `systemd`, `launchctl`), empty when unknown.
    pub env_source: Option<String>,
    /// The Ollama app's `settings.context_length` (SQLite), when read.
    pub app_context_length: Option<u64>,
    /// The app's `expose` switch (binds 0.0.0.0).
    pub app_expose: Option<bool>,
    pub app_db: Option<String>,
    pub notes: Vec<String>,
}

/// Where the served context figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextSource {
    /// `/api/ps` of the loaded model: what the server really allocated.
    Live,
    /// `/api/show` `parameters` `num_ctx`.
    Modelfile,
    /// `OLLAMA_CONTEXT_LENGTH` / the app setting.
    ServerEnv,
    /// The server version's default.
    Default,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemoryFacts {
    pub n_ctx: u64,
    pub kv_type: String,
    pub kv_bytes: u64,
    /// KV bytes with `q8_0` at the same context.
    pub kv_bytes_q8_0: Option<u64>,
    /// KV bytes with the planner's cache type (`planned_kv_type`) at the same context.
    pub kv_bytes_planned: Option<u64>,
    pub total_bytes: u64,
    pub budget_bytes: u64,
    pub fits: bool,
    /// The largest context per sequence that fits with this cache type (the planner's fit;
    /// None: not even 256 tokens fit).
    pub largest_fit: Option<u64>,
    /// The planner's choice for this model and budget (`crate::planner::plan`): the context
    /// per sequence and the KV cache type.
    pub planned_context: Option<u64>,
    pub planned_kv_type: Option<String>,
    /// KV, recurrent and compute bytes come from the embedded llama.cpp (`--measure`)
    /// rather than the planner's estimate of the compute buffer.
    pub measured: bool,
}

/// The model Claude Code will use, as the server describes it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ModelFacts {
    pub name: String,
    pub architecture: Option<String>,
    /// Trained context (`<arch>.context_length`).
    pub trained_context: Option<u64>,
    pub weights_bytes: u64,
    /// The context the server serves this model with, and how that is known.
    pub served_context: Option<u64>,
    pub served_context_source: Option<ContextSource>,
    /// The KV cache type the server uses, when known (llama-server's `-ctk`).
    pub kv_type: Option<String>,
    /// Flash attention as the server was started (`on`, `off`, `auto`), when known.
    pub flash_attn: Option<String>,
    /// The local GGUF file the description was read from.
    pub gguf_path: Option<String>,
    pub memory: Option<MemoryFacts>,
    /// The model's format where the server says (`gguf`, `mlx`: LM Studio).
    pub format: Option<String>,
    /// The planner's context for this model on this machine (LM Studio's GGUF), when known.
    pub planned_context: Option<u64>,
    pub error: Option<String>,
}

impl Facts {
    /// The effective Claude Code environment (empty with `--server-only`).
    pub fn claude_env(&self) -> EnvMap {
        self.claude
            .as_ref()
            .map(|c| c.env.clone())
            .unwrap_or_default()
    }
}
