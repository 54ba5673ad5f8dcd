//! What LM Studio, vLLM, vllm-mlx, oMLX and mlx_lm.server say about the models they
//! serve, in one shape: the names a request may carry, whether each is loaded, the context
//! it is served with and its trained maximum (docs/servers.md "LM Studio, vLLM and the MLX
//! servers").

use serde::Serialize;

/// One model a server lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BackendModel {
    /// The name a request carries: LM Studio's instance identifier (or model key), vLLM's
    /// served model name.
    pub id: String,
    /// LM Studio's model key (what `lms load` takes), when it differs from `id`.
    pub key: Option<String>,
    /// `gguf` or `mlx` (LM Studio), when reported.
    pub format: Option<String>,
    /// Loaded in memory (LM Studio lists downloaded models too; vLLM serves only loaded ones).
    pub loaded: bool,
    /// The context it is served with now, when the server reports it.
    pub context: Option<u64>,
    /// The trained maximum (LM Studio `max_context_length`).
    pub trained_context: Option<u64>,
    /// The model's files (LM Studio `lms ps` `path`; vLLM `root`).
    pub path: Option<String>,
}

impl BackendModel {
    pub fn new(id: &str) -> Self {
        BackendModel {
            id: id.to_string(),
            ..Default::default()
        }
    }
    /// The name `lms load` takes.
    pub fn load_key(&self) -> &str {
        self.key.as_deref().unwrap_or(&self.id)
    }
    /// Whether a request naming `name` reaches this model (its id or, for LM Studio, its key).
    pub fn answers_to(&self, name: &str) -> bool {
        super::same_model(&self.id, name)
            || self
                .key
                .as_deref()
                .is_some_and(|k| super::same_model(k, name))
    }
    pub fn is_mlx(&self) -> bool {
        self.format
            .as_deref()
            .is_some_and(|f| f.eq_ignore_ascii_case("mlx"))
    }
}

/// The live facts of a server that is neither Ollama nor llama-server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BackendFacts {
    /// Where the model list came from (`GET /api/v1/models`, `lms ps --json`, …), in order.
    pub sources: Vec<String>,
    pub models: Vec<BackendModel>,
    /// The server refuses a model name it does not serve (vLLM, vllm-mlx: 404).
    pub strict_names: bool,
    /// `lms ps --json` answered (LM Studio on this machine with `lms` on PATH).
    pub lms_cli: bool,
    /// vLLM: whether a request with tools and `"auto"` tool choice (every Claude Code
    /// request) can succeed, when the probe could tell.
    pub tool_choice: Option<super::vllm::ToolChoice>,
    /// vllm-mlx: the largest `max_tokens` a request may ask for (`--max-request-tokens`, from
    /// its process's command line, else its default); a request asking more gets HTTP 400.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_request_tokens: Option<u64>,
    /// Problems reading the answers (an HTML page, an empty body, a 500), in plain words.
    pub notes: Vec<String>,
}

impl BackendFacts {
    pub fn loaded(&self) -> impl Iterator<Item = &BackendModel> {
        self.models.iter().filter(|m| m.loaded)
    }
    /// The model a request for `name` reaches, loaded ones first.
    pub fn find(&self, name: &str) -> Option<&BackendModel> {
        self.loaded()
            .find(|m| m.answers_to(name))
            .or_else(|| self.models.iter().find(|m| m.answers_to(name)))
    }
}

/// What a route answered when it was not the JSON expected: `HTML`, `an empty body`,
/// `HTTP 500`, … (for the notes).
pub fn unexpected(path: &str, r: Option<&crate::server::http::Response>) -> Option<String> {
    let r = r?;
    if r.is_success() && r.json().is_ok() {
        return None;
    }
    let auth = if r.status == 401 || r.status == 403 {
        " (the server asks for an API token: LM Studio's \"Require Authentication\" is on, or a proxy)"
    } else {
        ""
    };
    Some(format!(
        "GET {path} → {}{auth}",
        super::detect::describe_response(r)
    ))
}

/// Models from an OpenAI-style `GET /v1/models`: `id`, and the context where the server
/// reports one (vLLM `max_model_len`; `max_context_window`/`context_length` as other
/// servers name it), `root` as the model's files. Every listed model is served.
pub fn from_openai_models(v: &serde_json::Value) -> Option<Vec<BackendModel>> {
    let items = v["data"].as_array()?;
    Some(
        items
            .iter()
            .filter_map(|m| {
                let id = m["id"].as_str()?;
                let ctx = [
                    "max_model_len",
                    "max_context_window",
                    "context_length",
                    "context_window",
                ]
                .iter()
                .find_map(|k| m[*k].as_u64());
                let loaded = match m.get("loaded").and_then(|l| l.as_bool()) {
                    Some(l) => l,
                    None => !matches!(m["status"].as_str(), Some("unloaded" | "not-loaded")),
                };
                Some(BackendModel {
                    id: id.to_string(),
                    loaded,
                    context: ctx,
                    path: m["root"].as_str().filter(|r| *r != id).map(String::from),
                    ..Default::default()
                })
            })
            .collect(),
    )
}

/// The facts of an OpenAI-style server: its `/v1/models`, whether `/v1/messages` is an
/// API, and for each of `names` whether it is served (`strict`: the server refuses other
/// names, so a name not listed is missing).
pub fn probe_openai(
    http: &mut super::detect::Http,
    client: &crate::server::http::Client,
    kind: super::ServerKind,
    names: &[String],
    strict: bool,
) -> super::ServerProbe {
    let mut b = BackendFacts {
        strict_names: strict,
        ..Default::default()
    };
    match http
        .json("/v1/models")
        .as_ref()
        .and_then(from_openai_models)
    {
        Some(m) => {
            b.sources.push("GET /v1/models".into());
            b.models = m;
        }
        None => b
            .notes
            .extend(unexpected("/v1/models", http.get("/v1/models"))),
    }
    let mut p = super::ServerProbe {
        kind: Some(kind),
        reachable: true,
        installed: b
            .models
            .iter()
            .map(|m| super::InstalledModel {
                name: m.id.clone(),
                ..Default::default()
            })
            .collect(),
        messages_api: super::messages_route(client),
        ..Default::default()
    };
    for n in names {
        let presence = if b.models.iter().any(|m| m.id == *n) {
            super::Presence::Present
        } else if strict && !b.models.is_empty() {
            super::Presence::Missing
        } else {
            super::Presence::Unknown
        };
        p.presence.insert(n.clone(), presence);
    }
    p.backend = Some(b);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn openai_models() {
        let v = json!({"object":"list","data":[{"id":"coder","object":"model","owned_by":"vllm","root":"Qwen/Qwen3-Coder-30B","max_model_len":131072},
                                               {"id":"x","owned_by":"vllm-mlx"}]});
        let m = from_openai_models(&v).unwrap();
        assert_eq!(m[0].context, Some(131072));
        assert_eq!(m[0].path.as_deref(), Some("Qwen/Qwen3-Coder-30B"));
        assert!(m[0].loaded && m[1].loaded && m[1].context.is_none());
        assert!(from_openai_models(&json!("<html>")).is_none());
    }
}
