//! FAKE MLX servers for tests (not the real ones), from the shapes their sources show
//! (docs/servers.md "MLX servers"): `mlx_lm.server` (`/health` `{"status": "ok"}`,
//! `/v1/models`, 404 `Not Found` for everything else, no `/v1/messages`), vllm-mlx
//! (`/health` with `model_loaded`/`engine_type`, names checked on `/v1/messages`) and oMLX
//! (`/openapi.json` titled `oMLX API`).
#![allow(dead_code)]

use super::fake_backend::{Fake, FakeServer, Messages};
use super::fake_http::{Answer, Routes};
use serde_json::json;

fn models(ids: &[&str], owner: &str) -> String {
    json!({"object": "list", "data": ids.iter().map(|i| json!({"id": i, "object": "model", "created": 1, "owned_by": owner})).collect::<Vec<_>>()}).to_string()
}

/// `mlx_lm.server --model ID`: its list items have no `owned_by` (as the real 0.32.2's).
pub fn mlx_lm(model: &str) -> FakeServer {
    let list = json!({"object": "list", "data": [{"id": model, "object": "model", "created": 1}]});
    let routes = Routes::new(Answer::new(404, "application/json", "Not Found"))
        .route("GET /health", Answer::json(200, r#"{"status": "ok"}"#))
        .route("GET /v1/models", Answer::json(200, &list.to_string()));
    FakeServer::start(Fake {
        routes,
        messages: Messages::Absent,
        reply_text: String::new(),
    })
}

/// `vllm-mlx serve MODEL [--served-model-name NAME]`.
pub fn vllm_mlx(name: &str) -> FakeServer {
    let health = json!({"status": "healthy", "model_loaded": true, "model_name": name, "available_models": [name],
                        "model_type": "llm", "engine_type": "simple", "mcp": null});
    let routes = Routes::new(Answer::json(404, r#"{"detail":"Not Found"}"#))
        .route("GET /health", Answer::json(200, &health.to_string()))
        .route(
            "GET /v1/models",
            Answer::json(200, &models(&[name], "vllm-mlx")),
        );
    FakeServer::start(Fake {
        routes,
        messages: Messages::Only {
            names: vec![name.to_string()],
            refusal: Answer::json(404, &format!("{{\"detail\":\"The model `{{model}}` does not exist. Available model: `{name}`\"}}")),
        },
        reply_text: "Hello from the fake vllm-mlx.".into(),
    })
}

/// `omlx serve` with these models (each listed with `max_context_window`).
pub fn omlx(ids: &[&str], context: u64) -> FakeServer {
    let list = json!({"object": "list", "data": ids.iter().map(|i| json!({"id": i, "object": "model", "owned_by": "omlx", "max_context_window": context})).collect::<Vec<_>>()});
    let routes = Routes::new(Answer::json(404, r#"{"detail":"Not Found"}"#))
        .route(
            "GET /openapi.json",
            Answer::json(
                200,
                r#"{"openapi":"3.1.0","info":{"title":"oMLX API","version":"0.3.6"},"paths":{}}"#,
            ),
        )
        .route("GET /health", Answer::json(200, r#"{"status":"healthy"}"#))
        .route("GET /v1/models", Answer::json(200, &list.to_string()));
    FakeServer::start(Fake {
        routes,
        messages: Messages::AnyName,
        reply_text: "Hello from the fake oMLX.".into(),
    })
}
