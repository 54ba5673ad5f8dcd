//! A FAKE vLLM for tests (not vLLM): `GET /version`, `GET /v1/models` (`owned_by: "vllm"`,
//! `max_model_len`), `GET /health` (200, empty), and `/v1/messages` that refuses a model
//! name it does not serve with 404 "The model `X` does not exist." as vLLM does; other
//! routes get FastAPI's 404 `{"detail":"Not Found"}`. Built from the shapes vLLM
//! documents (docs/servers.md "vLLM"); values are illustrative.
#![allow(dead_code)]

use super::fake_backend::{Fake, FakeServer, Messages};
use super::fake_http::{Answer, Routes};
use serde_json::json;

pub const ROOT: &str = "Qwen/Qwen3-Coder-30B-A3B-Instruct";

#[derive(Debug, Clone)]
pub struct Config {
    pub version: String,
    /// The served names (`--served-model-name`; default: the model path).
    pub names: Vec<String>,
    pub max_model_len: u64,
    /// `/v1/messages` is routed (vLLM with PR #27882).
    pub messages: bool,
    /// The model path (`root` of `/v1/models`; default [`ROOT`]).
    pub root: String,
}

impl Config {
    pub fn new(version: &str, names: &[&str], max_model_len: u64) -> Self {
        Config {
            version: version.into(),
            names: names.iter().map(|n| n.to_string()).collect(),
            max_model_len,
            messages: true,
            root: ROOT.into(),
        }
    }
    /// Serves the model at `path` (a folder with its `config.json`, as `vllm serve PATH`).
    pub fn root(mut self, path: &str) -> Self {
        self.root = path.into();
        self
    }
    pub fn without_messages(mut self) -> Self {
        self.messages = false;
        self
    }
}

pub fn fake(c: &Config) -> Fake {
    let models = json!({"object": "list", "data": c.names.iter().map(|n| json!({
        "id": n, "object": "model", "created": 1, "owned_by": "vllm", "root": c.root, "parent": null,
        "max_model_len": c.max_model_len, "permission": []
    })).collect::<Vec<_>>()});
    let routes = Routes::new(Answer::json(404, r#"{"detail":"Not Found"}"#))
        .route(
            "GET /version",
            Answer::json(200, &json!({"version": c.version}).to_string()),
        )
        .route("GET /v1/models", Answer::json(200, &models.to_string()))
        .route("GET /health", Answer::new(200, "application/json", ""));
    Fake {
        routes,
        messages: if c.messages {
            Messages::Only {
                names: c.names.clone(),
                refusal: Answer::json(
                    404,
                    r#"{"type":"error","error":{"type":"NotFoundError","message":"The model `{model}` does not exist."}}"#,
                ),
            }
        } else {
            Messages::Absent
        },
        reply_text: "Hello from the fake vLLM.".into(),
    }
}

pub fn start(c: &Config) -> FakeServer {
    FakeServer::start(fake(c))
}
