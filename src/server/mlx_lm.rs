//! `mlx_lm.server` (https://github.com/ml-explore/mlx-lm/blob/main/mlx_lm/server.py): `GET /health` answers `{"status": "ok"}` while `GET /props` is 404 (llama-server, which answers `/health` the same way, serves `/props`). It has no Anthropic `/v1/messages`.
//!
//! Its live facts are the OpenAI ones (`crate::server::backend::probe_openai`): the
//! `/v1/models` names (no context is reported) and the missing `/v1/messages`.

use super::detect::{saw, Http, Verdict};

pub fn fingerprint(http: &mut Http) -> Verdict {
    let ok = http
        .json("/health")
        .is_some_and(|v| v["status"].as_str() == Some("ok"));
    let no_props = http.get("/props").is_some_and(|r| r.status == 404);
    if ok && no_props {
        return Verdict::Match(
            "GET /health says {\"status\": \"ok\"} and GET /props is 404 (not llama-server)".into(),
        );
    }
    Verdict::No(saw(http, "/health"))
}
