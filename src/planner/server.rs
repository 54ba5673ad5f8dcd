//! The server settings a plan turns into: Ollama's environment and llama-server's
//! arguments (vLLM's and vllm-mlx's lines: `crate::setup::vllm`, `crate::setup::vllm_mlx`). `cclocal plan` prints these and `cclocal setup` writes them, from the same
//! functions, so the two never disagree (docs/planner.md).

use serde::Serialize;

/// What the server is told to do. `context` is the context of one sequence (what a
/// Claude Code session gets); the server allocates `context × parallel` cells in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerSettings {
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

impl ServerSettings {
    /// Settings with one sequence, flash attention on and no keep-alive.
    pub fn new(context: u64, kv_type: &str) -> ServerSettings {
        ServerSettings {
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

/// The Ollama server variables, in a fixed order. Only variables that exist (Ollama's
/// `envconfig`; there is no `OLLAMA_NUM_BATCH`): `OLLAMA_CONTEXT_LENGTH` is the context of
/// one request, Ollama multiplies it by `OLLAMA_NUM_PARALLEL` itself.
pub fn ollama_env(s: &ServerSettings) -> Vec<(String, String)> {
    let mut v = vec![
        ("OLLAMA_CONTEXT_LENGTH".to_string(), s.context.to_string()),
        (
            "OLLAMA_FLASH_ATTENTION".to_string(),
            if s.flash_attn { "1" } else { "0" }.to_string(),
        ),
        ("OLLAMA_KV_CACHE_TYPE".to_string(), s.kv_type.clone()),
    ];
    if s.parallel > 1 {
        v.push(("OLLAMA_NUM_PARALLEL".to_string(), s.parallel.to_string()));
    }
    if let Some(k) = &s.keep_alive {
        v.push(("OLLAMA_KEEP_ALIVE".to_string(), k.clone()));
    }
    v
}

/// llama-server's arguments for these settings (llama.cpp `tools/server/README.md`):
/// `-c` is the total context, shared by `-np` slots (an explicit `-np` keeps the cache
/// per slot, so each gets `-c / -np`); the cache type is given for K and V.
pub fn llama_server_args(s: &ServerSettings) -> Vec<String> {
    vec![
        "--ctx-size".to_string(),
        s.total_context().to_string(),
        "--parallel".to_string(),
        s.parallel.max(1).to_string(),
        "--cache-type-k".to_string(),
        s.kv_type.clone(),
        "--cache-type-v".to_string(),
        s.kv_type.clone(),
        "--flash-attn".to_string(),
        if s.flash_attn { "on" } else { "off" }.to_string(),
    ]
}

/// `lms` arguments that load an LM Studio model with a context (LM Studio's CLI docs,
/// https://lmstudio.ai/docs/cli/load): `load KEY --context-length N`, plus `--gpu max`
/// (every layer on the GPU) where the machine has one. LM Studio otherwise loads a model
/// at its own default context.
pub fn lms_load_args(key: &str, context: u64, gpu: bool) -> Vec<String> {
    let mut v = vec![
        "load".to_string(),
        key.to_string(),
        "--context-length".to_string(),
        context.to_string(),
    ];
    if gpu {
        v.extend(["--gpu".to_string(), "max".to_string()]);
    }
    v
}

/// `program args…` as one shell line, each word quoted where it needs it.
pub fn command_line(program: &str, args: &[String]) -> String {
    std::iter::once(program.to_string())
        .chain(args.iter().map(|a| crate::shell::quote::sh_quote(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `lms load` line (the doctor's fix and setup's script print this same line).
pub fn lms_load_line(key: &str, context: u64, gpu: bool) -> String {
    command_line("lms", &lms_load_args(key, context, gpu))
}

/// `K=V K=V` for people.
pub fn env_words(env: &[(String, String)]) -> String {
    env.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ollama_and_llama_server_agree() {
        let mut s = ServerSettings::new(65_536, "q8_0");
        s.parallel = 2;
        s.keep_alive = Some("30m".into());
        assert_eq!(
            env_words(&ollama_env(&s)),
            "OLLAMA_CONTEXT_LENGTH=65536 OLLAMA_FLASH_ATTENTION=1 OLLAMA_KV_CACHE_TYPE=q8_0 \
             OLLAMA_NUM_PARALLEL=2 OLLAMA_KEEP_ALIVE=30m"
        );
        assert_eq!(
            llama_server_args(&s).join(" "),
            "--ctx-size 131072 --parallel 2 --cache-type-k q8_0 --cache-type-v q8_0 --flash-attn on"
        );
        let s = ServerSettings {
            flash_attn: false,
            ..ServerSettings::new(32_768, "f16")
        };
        assert_eq!(
            env_words(&ollama_env(&s)),
            "OLLAMA_CONTEXT_LENGTH=32768 OLLAMA_FLASH_ATTENTION=0 OLLAMA_KV_CACHE_TYPE=f16"
        );
        assert!(llama_server_args(&s).ends_with(&["--flash-attn".into(), "off".into()]));
    }

    #[test]
    fn lms_lines() {
        assert_eq!(
            lms_load_args("qwen/qwen3-coder-30b", 65_536, true).join(" "),
            "load qwen/qwen3-coder-30b --context-length 65536 --gpu max"
        );
        assert_eq!(lms_load_args("m", 32_768, false).len(), 4);
    }
}
