//! A FAKE LM Studio for tests (not LM Studio): its REST model lists (`/api/v1/models`,
//! `/api/v0/models`), the OpenAI list (`/v1/models`, `owned_by: "organization_owner"`)
//! and `/v1/messages`, built from the shapes LM Studio documents (docs/servers.md "LM
//! Studio"); values are illustrative. With several models loaded it refuses a name it
//! does not have, as LM Studio's OpenAI route does ("Multiple models are loaded…").
#![allow(dead_code)]

use super::fake_backend::{Fake, FakeServer, Messages};
use super::fake_http::{Answer, Routes};
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct Model {
    pub key: String,
    /// `gguf` or `mlx`.
    pub format: String,
    pub max_context: u64,
    /// Loaded with this context.
    pub loaded: Option<u64>,
}

impl Model {
    pub fn gguf(key: &str, max_context: u64) -> Self {
        Model {
            key: key.into(),
            format: "gguf".into(),
            max_context,
            loaded: None,
        }
    }
    pub fn mlx(key: &str, max_context: u64) -> Self {
        Model {
            format: "mlx".into(),
            ..Model::gguf(key, max_context)
        }
    }
    pub fn loaded_at(mut self, ctx: u64) -> Self {
        self.loaded = Some(ctx);
        self
    }
}

/// Which REST API the server has (`/api/v1` since 0.4.0; `/api/v0` since 0.3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    V1,
    V0,
}

pub fn api_v1(models: &[Model]) -> Value {
    json!({"models": models.iter().map(|m| json!({
        "type": "llm", "publisher": m.key.split('/').next().unwrap_or(""), "key": m.key,
        "display_name": m.key, "architecture": "qwen3moe",
        "quantization": {"name": "Q4_K_M", "bits_per_weight": 4}, "size_bytes": 1, "params_string": "30B-A3B",
        "loaded_instances": m.loaded.map(|c| vec![json!({"id": m.key, "config": {"context_length": c, "eval_batch_size": 512, "parallel": 4, "flash_attention": true, "offload_kv_cache_to_gpu": true}})]).unwrap_or_default(),
        "max_context_length": m.max_context, "format": m.format
    })).collect::<Vec<_>>()})
}

pub fn api_v0(models: &[Model]) -> Value {
    json!({"object": "list", "data": models.iter().map(|m| {
        let mut v = json!({"id": m.key, "object": "model", "type": "llm", "publisher": m.key.split('/').next().unwrap_or(""),
            "arch": "qwen3moe", "compatibility_type": m.format, "quantization": "Q4_K_M",
            "state": if m.loaded.is_some() { "loaded" } else { "not-loaded" }, "max_context_length": m.max_context});
        if let Some(c) = m.loaded { v["loaded_context_length"] = json!(c); }
        v
    }).collect::<Vec<_>>()})
}

/// `lms ps --json` for these models (the loaded ones), `path` relative to the models folder.
pub fn lms_ps(models: &[Model], path: &str) -> Value {
    json!(models.iter().filter_map(|m| m.loaded.map(|c| json!({
        "type": "llm", "modelKey": m.key, "format": m.format, "displayName": m.key, "publisher": "qwen",
        "path": path, "sizeBytes": 1, "indexedModelIdentifier": m.key, "deviceIdentifier": null,
        "identifier": m.key, "ttlMs": null, "lastUsedTime": null, "vision": false, "trainedForToolUse": true,
        "maxContextLength": m.max_context, "contextLength": c, "status": "idle", "queued": 0, "parallel": 4
    }))).collect::<Vec<_>>())
}

pub fn fake(models: &[Model], api: Api) -> Fake {
    let not_found = Answer::json(200, r#"{"error":"Unexpected endpoint or method."}"#);
    let v1_models = json!({"object": "list", "data": models.iter().map(|m| json!({"id": m.key, "object": "model", "owned_by": "organization_owner"})).collect::<Vec<_>>()});
    let mut r =
        Routes::new(not_found).route("GET /v1/models", Answer::json(200, &v1_models.to_string()));
    r = match api {
        Api::V1 => r
            .route(
                "GET /api/v1/models",
                Answer::json(200, &api_v1(models).to_string()),
            )
            .route(
                "GET /api/v0/models",
                Answer::json(200, &api_v0(models).to_string()),
            ),
        Api::V0 => r.route(
            "GET /api/v0/models",
            Answer::json(200, &api_v0(models).to_string()),
        ),
    };
    let loaded: Vec<String> = models
        .iter()
        .filter(|m| m.loaded.is_some())
        .map(|m| m.key.clone())
        .collect();
    let messages = match loaded.len() {
        0 => Messages::Only {
            names: vec![],
            refusal: Answer::json(404, r#"{"error":{"message":"No models loaded. Please load a model in the developer page or use the 'lms load' command.","type":"invalid_request_error","param":"model","code":"model_not_found"}}"#),
        },
        1 => Messages::AnyName,
        _ => Messages::Only {
            names: loaded.clone(),
            refusal: Answer::json(400, &json!({"error":{"message":format!("Multiple models are loaded. Please specify a model by providing a 'model' field in the request body.\n\nYour models:\n{}", loaded.join("\n")),"type":"invalid_request_error","param":"model","code":"model_not_found"}}).to_string()),
        },
    };
    Fake {
        routes: r,
        messages,
        reply_text: "Hello from the fake LM Studio.".into(),
    }
}

pub fn start(models: &[Model], api: Api) -> FakeServer {
    FakeServer::start(fake(models, api))
}
