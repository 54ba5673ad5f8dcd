//! vllm-mlx (https://github.com/waybarrios/vllm-mlx): `GET /health` answers JSON with `model_loaded` or `engine_type`; `/v1/models` items are `owned_by: "vllm-mlx"`.
//!
//! Its live facts: the served model names and, where reported, their context
//! (docs/servers.md "LM Studio, vLLM and the MLX servers").

use super::detect::{saw, Http, Verdict};

pub fn fingerprint(http: &mut Http) -> Verdict {
    if let Some(v) = http.json("/health") {
        if v.get("model_loaded").is_some() || v.get("engine_type").is_some() {
            return Verdict::Match("GET /health has model_loaded/engine_type".into());
        }
    }
    if http.owners().iter().any(|o| o == "vllm-mlx") {
        return Verdict::Match("GET /v1/models lists a model owned_by \"vllm-mlx\"".into());
    }
    Verdict::No(saw(http, "/health"))
}

/// Probes vllm-mlx: its `/v1/models` names (it refuses any other name with 404 "The model
/// `X` does not exist"), `/health` `model_name`, and `/v1/messages`.
pub fn probe(
    http: &mut Http,
    client: &crate::ollama::Client,
    names: &[String],
) -> super::ServerProbe {
    let mut p = super::backend::probe_openai(http, client, super::ServerKind::VllmMlx, names, true);
    if let (Some(b), Some(h)) = (p.backend.as_mut(), http.json("/health")) {
        if let Some(n) = h["model_name"].as_str() {
            // Only when /v1/models said nothing.
            if b.models.is_empty() {
                b.models.push(super::backend::BackendModel {
                    loaded: h["model_loaded"].as_bool().unwrap_or(true),
                    ..super::backend::BackendModel::new(n)
                });
                b.sources.push("GET /health".into());
            }
        }
    }
    p
}
