//! vLLM (https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html): `GET /version` answers `{"version": …}` and `/v1/models` items are `owned_by: "vllm"` with `max_model_len`.
//!
//! Its live facts: the served model names and, where reported, their context
//! (docs/servers.md "LM Studio, vLLM and the MLX servers").

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

/// The first vLLM release whose `vllm serve` answers Anthropic's `POST /v1/messages`
/// (vLLM PR #27882, merged late 2025; third parties name 0.11.1 — not confirmed from a
/// release note, so a server that answers the route is never called too old:
/// docs/servers.md "vLLM").
pub const MESSAGES_SINCE: (u64, u64, u64) = (0, 11, 1);

/// `0.11.1`, `0.10.2rc1`, `0.11.1.dev12+g…` → (major, minor, patch).
pub fn parse_version(v: &str) -> Option<(u64, u64, u64)> {
    let v = v.trim().trim_start_matches('v');
    let mut it = v.split(['.', '+', '-']);
    let num = |s: Option<&str>| -> Option<u64> {
        let s = s?;
        let d: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
        d.parse().ok()
    };
    Some((
        num(it.next())?,
        num(it.next())?,
        num(it.next()).unwrap_or(0),
    ))
}

/// Probes vLLM: `/version`, `/v1/models` (served names, `max_model_len`), `/v1/messages`.
/// vLLM refuses any model name it does not serve (404 "The model `X` does not exist.").
pub fn probe(http: &mut Http, client: &Client, names: &[String]) -> ServerProbe {
    let mut p = super::backend::probe_openai(http, client, ServerKind::Vllm, names, true);
    p.version = http
        .json("/version")
        .and_then(|v| v["version"].as_str().map(String::from));
    p
}

use super::{ServerKind, ServerProbe};
use crate::ollama::Client;

#[cfg(test)]
mod tests {
    #[test]
    fn versions() {
        use super::parse_version as v;
        assert_eq!(v("0.11.1"), Some((0, 11, 1)));
        assert_eq!(v("0.10.2rc1"), Some((0, 10, 2)));
        assert_eq!(v("0.11.1.dev12+gabc"), Some((0, 11, 1)));
        assert_eq!(v("v1.0"), Some((1, 0, 0)));
        assert!(v("0.10.2").unwrap() < super::MESSAGES_SINCE);
        assert_eq!(v("dev"), None);
    }
}
