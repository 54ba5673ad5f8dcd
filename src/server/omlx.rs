//! oMLX (https://github.com/jundot/omlx): its OpenAPI document `GET /openapi.json` is titled `oMLX API`.
//!
//! Its live facts: the served model names and, where reported, their context
//! (docs/servers.md "LM Studio, vLLM and the MLX servers").

use super::detect::{saw, Http, Verdict};

pub fn fingerprint(http: &mut Http) -> Verdict {
    match http.json("/openapi.json") {
        Some(v) if v["info"]["title"].as_str() == Some("oMLX API") => {
            Verdict::Match("GET /openapi.json is titled \"oMLX API\"".into())
        }
        _ => Verdict::No(saw(http, "/openapi.json")),
    }
}

/// Probes oMLX: its `/v1/models` (names, load status, a context where listed) and
/// `/v1/messages`. Whether it refuses a name it does not list is not confirmed, so such a
/// name is "unknown", not "missing" (docs/servers.md "oMLX").
pub fn probe(
    http: &mut Http,
    client: &crate::server::http::Client,
    names: &[String],
) -> super::ServerProbe {
    super::backend::probe_openai(http, client, super::ServerKind::Omlx, names, false)
}
