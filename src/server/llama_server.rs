//! llama.cpp's `llama-server` (https://github.com/ggml-org/llama.cpp/tree/master/tools/server):
//! identified by `GET /props` holding `build_info` and `default_generation_settings`, or
//! by `owned_by: "llamacpp"` in `GET /v1/models`. Not by `/api/tags`: many builds answer
//! it as an Ollama shim. While it loads its model, every route answers 503 `Loading model`.

use super::detect::{saw, Http, Verdict};
use serde_json::Value;

/// Whether an answer is llama-server's 503 `Loading model`.
pub fn is_loading(v: &Value) -> bool {
    v["error"]["message"].as_str() == Some("Loading model")
        && v["error"]["type"].as_str() == Some("unavailable_error")
}

pub fn fingerprint(http: &mut Http) -> Verdict {
    if let Some(r) = http.get("/props") {
        if r.status == 503 && r.json().is_ok_and(|v| is_loading(&v)) {
            return Verdict::Loading(
                "GET /props → 503 {\"error\":{\"message\":\"Loading model\",\"type\":\"unavailable_error\"}}: llama-server is still loading its model".into(),
            );
        }
    }
    if let Some(v) = http.json("/props") {
        if v.get("build_info").is_some() && v.get("default_generation_settings").is_some() {
            return Verdict::Match(format!(
                "GET /props has build_info ({}) and default_generation_settings",
                v["build_info"].as_str().unwrap_or("?")
            ));
        }
    }
    let props = saw(http, "/props");
    if http.owners().iter().any(|o| o == "llamacpp") {
        return Verdict::Match(format!(
            "{props}; GET /v1/models lists a model owned_by \"llamacpp\""
        ));
    }
    Verdict::No(props)
}

use super::{find_model, InstalledModel, Presence, ServerKind, ServerProbe};
use crate::ollama::Client;
use serde::Serialize;

/// What llama-server says about itself (`/props`, `/slots`, `/v1/models`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LlamaFacts {
    /// `/props` `build_info`, e.g. `b11434-abc1234` (`b0-unknown` for a build without git data).
    pub build_info: Option<String>,
    /// The build number from `build_info` (`None` for `b0`).
    pub build: Option<u64>,
    /// `/props` `total_slots`.
    pub total_slots: Option<u64>,
    /// The context one slot (one Claude Code session) gets: `/slots[].n_ctx`, else
    /// `/props` `default_generation_settings.n_ctx`.
    pub slot_context: Option<u64>,
    /// `/v1/models` `meta.n_ctx_train`.
    pub trained_context: Option<u64>,
    /// `/props` `model_path` (the `-m` file).
    pub model_path: Option<String>,
    pub model_alias: Option<String>,
    /// `/props` `chat_template_caps.supports_tools`.
    pub template_supports_tools: Option<bool>,
    /// Router mode (started without `-m`): several models, chosen by name.
    pub router: bool,
    /// In router mode: the models it knows and their status (`loaded`, `unloaded`, …).
    pub router_models: Vec<(String, String)>,
}

/// `b11434-abc` → 11434; `b0-unknown` → None.
pub fn build_number(build_info: &str) -> Option<u64> {
    let n: u64 = build_info
        .strip_prefix('b')?
        .split(['-', ' '])
        .next()?
        .parse()
        .ok()?;
    (n > 0).then_some(n)
}

/// Reads llama-server's facts from its answers (pure, for tests with captured bodies).
pub fn facts_from(
    props: Option<&Value>,
    slots: Option<&Value>,
    models: Option<&Value>,
) -> LlamaFacts {
    let mut f = LlamaFacts::default();
    if let Some(p) = props {
        f.build_info = p["build_info"].as_str().map(String::from);
        f.build = f.build_info.as_deref().and_then(build_number);
        f.total_slots = p["total_slots"].as_u64();
        f.slot_context = p["default_generation_settings"]["n_ctx"].as_u64();
        f.model_path = p["model_path"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(String::from);
        f.model_alias = p["model_alias"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(String::from);
        f.template_supports_tools = p["chat_template_caps"]["supports_tools"].as_bool();
        f.router = p.get("default_generation_settings").is_none() && f.model_path.is_none();
    }
    if let Some(ctx) = slots
        .and_then(Value::as_array)
        .and_then(|a| a.iter().filter_map(|s| s["n_ctx"].as_u64()).min())
    {
        f.slot_context = Some(ctx);
    }
    if let Some(data) = models.and_then(|m| m["data"].as_array()) {
        f.trained_context = data.iter().find_map(|m| m["meta"]["n_ctx_train"].as_u64());
        let with_status: Vec<(String, String)> = data
            .iter()
            .filter_map(|m| {
                let id = m["id"].as_str()?;
                let st = m["status"]["value"].as_str()?;
                Some((id.to_string(), st.to_string()))
            })
            .collect();
        if !with_status.is_empty() {
            f.router = true;
            f.router_models = with_status;
        }
    }
    f
}

/// Probes a llama-server (reusing the answers detection already has).
pub fn probe(http: &mut Http, client: &Client, names: &[String], loading: bool) -> ServerProbe {
    let mut p = ServerProbe {
        kind: Some(ServerKind::LlamaServer),
        reachable: true,
        loading,
        ..Default::default()
    };
    if loading {
        return p;
    }
    let props = http.json("/props");
    let slots = http.json("/slots");
    let models = http.json("/v1/models").or_else(|| http.json("/models"));
    let f = facts_from(props.as_ref(), slots.as_ref(), models.as_ref());
    p.version = f.build_info.clone();
    p.installed = models
        .as_ref()
        .and_then(|m| m["data"].as_array())
        .map(|a| {
            a.iter()
                .filter_map(|m| m["id"].as_str())
                .map(|id| InstalledModel {
                    name: id.to_string(),
                    size: 0,
                    ..Default::default()
                })
                .collect()
        })
        .unwrap_or_default();
    // count_tokens costs no generation and exists wherever /v1/messages does.
    let body = serde_json::json!({"model": names.first().map(String::as_str).unwrap_or("cclocal-probe"), "messages": [{"role": "user", "content": "."}]});
    p.messages_api = client
        .post_json("/v1/messages/count_tokens", &body)
        .ok()
        .map(|r| {
            r.status != 404
                || r.json()
                    .is_ok_and(|v| v["error"]["type"] != "not_found_error")
        });
    for n in names {
        // One model loaded: llama-server answers whatever name is sent.
        let known = find_model(f.router_models.iter().map(|(id, _)| id.as_str()), n).is_some();
        let presence = if !f.router || known {
            Presence::Present
        } else {
            Presence::Missing
        };
        p.presence.insert(n.clone(), presence);
    }
    p.llama = Some(f);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_numbers() {
        assert_eq!(build_number("b11434-abc1234"), Some(11434));
        assert_eq!(build_number("b8681-Debian"), Some(8681));
        assert_eq!(build_number("b0-unknown"), None);
        assert_eq!(build_number("garbage"), None);
    }
}
