//! vllm-mlx (https://github.com/waybarrios/vllm-mlx): `GET /health` answers JSON with `model_loaded` or `engine_type`; `/v1/models` items are `owned_by: "vllm-mlx"`.
//!
//! Detection only for now: the live facts (models, served context) of this kind are
//! still to be written (one function next to this fingerprint).

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
