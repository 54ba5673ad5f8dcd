//! The names of Ollama's environment variables cclocal reads or writes, once. Each is in
//! `data/ollama-env-vars.txt` (docs/ollama.md, "Environment variables");
//! `tests/it/env_names.rs` checks that, and that every such name written in `src/` is here.

pub const OLLAMA_APP_DB_PATH: &str = "OLLAMA_APP_DB_PATH";
pub const OLLAMA_CONTEXT_LENGTH: &str = "OLLAMA_CONTEXT_LENGTH";
pub const OLLAMA_FLASH_ATTENTION: &str = "OLLAMA_FLASH_ATTENTION";
pub const OLLAMA_HOST: &str = "OLLAMA_HOST";
pub const OLLAMA_KEEP_ALIVE: &str = "OLLAMA_KEEP_ALIVE";
pub const OLLAMA_KV_CACHE_TYPE: &str = "OLLAMA_KV_CACHE_TYPE";
pub const OLLAMA_MAX_LOADED_MODELS: &str = "OLLAMA_MAX_LOADED_MODELS";
pub const OLLAMA_MODELS: &str = "OLLAMA_MODELS";
pub const OLLAMA_NEW_ENGINE: &str = "OLLAMA_NEW_ENGINE";
pub const OLLAMA_NO_CLOUD: &str = "OLLAMA_NO_CLOUD";
pub const OLLAMA_NUM_BATCH: &str = "OLLAMA_NUM_BATCH";
pub const OLLAMA_NUM_PARALLEL: &str = "OLLAMA_NUM_PARALLEL";

/// Every name above.
pub const ALL: &[&str] = &[
    OLLAMA_APP_DB_PATH,
    OLLAMA_CONTEXT_LENGTH,
    OLLAMA_FLASH_ATTENTION,
    OLLAMA_HOST,
    OLLAMA_KEEP_ALIVE,
    OLLAMA_KV_CACHE_TYPE,
    OLLAMA_MAX_LOADED_MODELS,
    OLLAMA_MODELS,
    OLLAMA_NEW_ENGINE,
    OLLAMA_NO_CLOUD,
    OLLAMA_NUM_BATCH,
    OLLAMA_NUM_PARALLEL,
];
