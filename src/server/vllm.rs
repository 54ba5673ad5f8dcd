//! vLLM (https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html): `GET /version` answers `{"version": …}` and `/v1/models` items are `owned_by: "vllm"` with `max_model_len`.
//!
//! Its live facts: the served model names and, where reported, their context
//! (docs/servers.md "LM Studio, vLLM and the MLX servers").

/// Its log lines (`log::detect`, `log::read`).
pub mod log;
/// How `cclocal setup` runs this kind (its serve line, start script or service file) and
/// the doctor's restart fix.
pub mod serve;

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
/// (the gates table, `super::gates::VLLM_MESSAGES_API`).
pub const MESSAGES_SINCE: crate::version::Version = super::gates::VLLM_MESSAGES_API.since;

/// `0.11.1`, `0.10.2rc1`, `0.11.1.dev12+g…` (the one version type's loose reading).
pub fn parse_version(v: &str) -> Option<crate::version::Version> {
    crate::version::Version::loose(v)
}

/// Probes vLLM: `/version`, `/v1/models` (served names, `max_model_len`, `root`),
/// `/v1/messages`, and whether a request with tools can succeed at all ([`tools_probe`]).
/// vLLM refuses any model name it does not serve (404 "The model `X` does not exist.").
/// For a server on this machine whose `root` is a model folder, the folder's
/// `config.json` gives the model's own limit (its trained context).
pub fn probe(http: &mut Http, client: &Client, names: &[String]) -> ServerProbe {
    let mut p = super::backend::probe_openai(http, client, ServerKind::Vllm, names, true);
    p.version = http
        .json("/version")
        .and_then(|v| v["version"].as_str().map(String::from));
    let local = client.base.is_local();
    if let Some(b) = p.backend.as_mut() {
        if local {
            for m in &mut b.models {
                let folder = m.path.as_deref().and_then(super::model_folder::local);
                if let Some(limit) = folder.and_then(|f| f.max_context) {
                    m.trained_context = Some(limit);
                }
            }
        }
        if let Some(first) = b.models.first().map(|m| m.id.clone()) {
            b.tool_choice = tools_probe(client, &first);
        }
    }
    p
}

/// What the server answered to a request with tools and `"auto"` tool choice.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ToolChoice {
    /// `false`: vLLM refuses such requests (started without `--enable-auto-tool-choice
    /// --tool-call-parser`), and so every Claude Code request.
    pub auto_ok: bool,
    /// The server's own message when it refused.
    pub message: Option<String>,
}

/// Sends one request the way Claude Code does (Anthropic `/v1/messages` with a tool and
/// `"auto"` tool choice), for one output token: a vLLM started without tool calling
/// answers 400 "\"auto\" tool choice requires --enable-auto-tool-choice and
/// --tool-call-parser to be set". `None` when the answer says neither.
pub fn tools_probe(client: &Client, model: &str) -> Option<ToolChoice> {
    let body = serde_json::json!({
        "model": model,
        "max_tokens": 1,
        "messages": [{"role": "user", "content": "."}],
        "tools": [{"name": "cclocal_probe", "description": "probe", "input_schema": {"type": "object", "properties": {}}}],
        "tool_choice": {"type": "auto"},
    });
    let r = client.post_json("/v1/messages", &body).ok()?;
    if r.is_success() {
        return Some(ToolChoice {
            auto_ok: true,
            message: None,
        });
    }
    let text = r.text();
    refuses_auto_tools(&text).then(|| ToolChoice {
        auto_ok: false,
        message: Some(server_message(&text)),
    })
}

/// Whether an error body is vLLM's refusal of auto tool choice.
pub fn refuses_auto_tools(body: &str) -> bool {
    body.contains("enable-auto-tool-choice") && body.contains("tool-call-parser")
}

/// The `message` of an Anthropic or OpenAI error body (else the body), one line, bounded.
fn server_message(body: &str) -> String {
    let v: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let m = v
        .as_ref()
        .and_then(|v| {
            v["error"]["message"]
                .as_str()
                .or(v["message"].as_str())
                .or(v["detail"].as_str())
        })
        .unwrap_or(body);
    m.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(300)
        .collect()
}

use super::{ServerKind, ServerProbe};
use crate::server::http::Client;

#[cfg(test)]
mod tests {
    #[test]
    fn auto_tool_choice_refusal() {
        let body = r#"{"type":"error","error":{"type":"BadRequestError","message":"\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set"}}"#;
        assert!(super::refuses_auto_tools(body));
        assert_eq!(
            super::server_message(body),
            "\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set"
        );
        assert!(!super::refuses_auto_tools(
            r#"{"error":{"message":"The model `x` does not exist."}}"#
        ));
    }

    #[test]
    fn versions() {
        use super::parse_version as v;
        use crate::version::Version;
        assert_eq!(v("0.11.1"), Some(Version(0, 11, 1)));
        assert_eq!(v("0.10.2rc1"), Some(Version(0, 10, 2)));
        assert_eq!(v("0.11.1.dev12+gabc"), Some(Version(0, 11, 1)));
        assert_eq!(v("v1.0"), Some(Version(1, 0, 0)));
        assert!(v("0.10.2").unwrap() < super::MESSAGES_SINCE);
        assert_eq!(v("dev"), None);
    }
}
