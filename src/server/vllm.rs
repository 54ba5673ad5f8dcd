//! vLLM (https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html): `GET /version` answers `{"version": …}` and `/v1/models` items are `owned_by: "vllm"` with `max_model_len`.
//!
//! Detection only for now: the live facts (models, served context) of this kind are
//! still to be written (one function next to this fingerprint).

use super::detect::{saw, Http, Verdict};

pub fn fingerprint(http: &mut Http) -> Verdict {
    let owned = http.owners().iter().any(|o| o == "vllm");
    let version = http
        .json("/version")
        .and_then(|v| v["version"].as_str().map(String::from));
    match (owned, version) {
        (true, Some(v)) => Verdict::Match(format!(
            "GET /version says {v} and GET /v1/models lists a model owned_by \"vllm\""
        )),
        (true, None) => Verdict::Match("GET /v1/models lists a model owned_by \"vllm\"".into()),
        (false, _) => Verdict::No(saw(http, "/v1/models")),
    }
}
