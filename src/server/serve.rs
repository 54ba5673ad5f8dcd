//! What every kind's serve generator takes and shares: the server settings a plan turns
//! into ([`ServeSettings`], plain data: setup and `cclocal plan` build it from the
//! planner's decision, the doctor from what setup recorded), the one shell line of a
//! command, and what a kind's restart fix needs ([`Restart`]).
//!
//! Each kind's own serve arguments, start script or service file and restart fix live in
//! `server::<kind>::serve`; [`ServeParts`] in the kind's row of [`super::KINDS`] points at
//! them (docs/architecture.md "Adding a server kind").

use serde::Serialize;
use std::path::{Path, PathBuf};

/// What the server is told to do. `context` is the context of one sequence (what a
/// Claude Code session gets); the server allocates `context × parallel` cells in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServeSettings {
    /// Tokens per sequence (Ollama's `OLLAMA_CONTEXT_LENGTH`; llama-server's `-c` is this
    /// times `parallel`).
    pub context: u64,
    /// KV cache element type for K and V (`f16`, `q8_0`, `q4_0`, …).
    pub kv_type: String,
    pub flash_attn: bool,
    /// Parallel sequences (Ollama's `OLLAMA_NUM_PARALLEL`, llama-server's `-np`).
    pub parallel: u32,
    /// How long Ollama keeps the model loaded (`OLLAMA_KEEP_ALIVE`), when set.
    pub keep_alive: Option<String>,
}

impl ServeSettings {
    /// Settings with one sequence, flash attention on and no keep-alive.
    pub fn new(context: u64, kv_type: &str) -> ServeSettings {
        ServeSettings {
            context,
            kv_type: kv_type.to_string(),
            flash_attn: true,
            parallel: 1,
            keep_alive: None,
        }
    }

    /// The whole context the server allocates (`-c` of llama-server).
    pub fn total_context(&self) -> u64 {
        self.context.saturating_mul(self.parallel.max(1) as u64)
    }
}

/// `program args…` as one shell line, each word quoted where it needs it.
pub fn command_line(program: &str, args: &[String]) -> String {
    std::iter::once(program.to_string())
        .chain(args.iter().map(|a| crate::shell::quote::sh_quote(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `K=V K=V` for people.
pub fn env_words(env: &[(String, String)]) -> String {
    env.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a kind's restart fix needs: where setup put its files (from [`crate::paths`], so
/// `XDG_CONFIG_HOME` counts), the model and the settings setup configured, and whether
/// the server runs on macOS.
#[derive(Debug, Clone)]
pub struct Restart<'a> {
    pub paths: &'a crate::paths::Paths,
    pub model: &'a str,
    pub settings: &'a ServeSettings,
    pub macos: bool,
}

impl Restart<'_> {
    /// A file in cclocal's server folder, as a shell word ([`crate::shell::quote::path_word`]).
    pub fn server_file(&self, name: &str) -> String {
        self.shown(&self.paths.server_dir().join(name))
    }
    /// `path` as a shell word: `~/…` only when it is under HOME.
    pub fn shown(&self, path: &Path) -> String {
        crate::shell::quote::path_word(path, Some(&self.paths.home))
    }
}

/// A kind's serve parts, for the kinds `cclocal setup` configures (the `serve` of its row
/// in [`super::KINDS`]).
#[derive(Debug, Clone, Copy)]
pub struct ServeParts {
    /// The files setup may write for this kind, by name, in cclocal's server folder (the
    /// only server files recovery and undo act on, with [`ServeParts::installed`]).
    pub files: &'static [&'static str],
    /// Where setup installs the kind's service on this machine, from the paths.
    pub installed: fn(&crate::paths::Paths) -> Vec<PathBuf>,
    /// What restarts the server with the settings setup wrote (the doctor's one fix for a
    /// server that runs other settings).
    pub restart: fn(&Restart) -> String,
}
