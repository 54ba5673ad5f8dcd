//! The server settings a plan turns into, and the kinds' lines built from the plan's
//! decision. The generators are the kinds' own (`crate::server::<kind>::serve`: Ollama's
//! environment, llama-server's arguments, `lms load`, the `vllm serve` and `vllm-mlx
//! serve` lines) and take plain data ([`ServerSettings`]); `cclocal plan` prints these and
//! `cclocal setup` writes them, from the same functions, so the two never disagree
//! (docs/planner.md).

pub use crate::server::llama_server::serve::llama_server_args;
pub use crate::server::lmstudio::serve::{lms_load_args, lms_load_line};
pub use crate::server::ollama::serve::env as ollama_env;
pub use crate::server::serve::{command_line, env_words, ServeSettings as ServerSettings};
use crate::server::vllm::serve as vllm;
use crate::server::vllm_mlx::serve as m;

/// A start line for vLLM or vllm-mlx, as `cclocal setup` writes it and `cclocal plan`
/// prints it (one function, so the two agree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeLine {
    pub line: String,
    pub script: Vec<u8>,
    pub script_name: &'static str,
    /// The context served, within the model's limit: what Claude Code is set up for.
    pub context: u64,
    pub notes: Vec<String>,
}

/// The line for `kind` (vLLM or vllm-mlx) loading `model` (a folder or repo id; a running
/// server's `root` or command line) as `name`, at `wanted` tokens (else what the running
/// server serves, for vllm-mlx, else 64K), listening where `url` points.
pub fn serve_line(
    kind: crate::server::ServerKind,
    model: &str,
    name: &str,
    wanted: Option<u64>,
    served_context: Option<u64>,
    url: &crate::server::ServerUrl,
) -> ServeLine {
    let fallback = super::defaults(kind).fallback_context;
    let host = vllm::listen_host(&url.host);
    if kind == crate::server::ServerKind::VllmMlx {
        let want = wanted.or(served_context).unwrap_or(fallback);
        let s = m::VllmMlxServe::new(model, name, want, &host, url.port);
        let mut notes = vec![format!(
            "vllm-mlx keeps the whole prompt up to the model's own limit{}: context {} tokens",
            s.model_limit.map(|l| format!(" ({l})")).unwrap_or_default(),
            s.context
        )];
        if want > s.context {
            notes.push(format!(
                "{} takes at most {} tokens (max_position_embeddings in its config.json)",
                model, s.context
            ));
        }
        return ServeLine {
            line: m::line(&s),
            script: m::script(&s),
            script_name: m::SCRIPT,
            context: s.context,
            notes,
        };
    }
    let want = wanted.unwrap_or(fallback);
    let s = vllm::VllmServe::new(model, &[name.to_string()], want, &host, url.port);
    let mut notes = vec![format!(
        "vLLM sizes its own KV cache, so cclocal does not plan its memory: --max-model-len {}",
        s.context
    )];
    notes.extend(vllm::limit_note(&s, want));
    ServeLine {
        line: vllm::line(&s),
        script: vllm::script(&s),
        script_name: vllm::SCRIPT,
        context: s.context,
        notes,
    }
}
