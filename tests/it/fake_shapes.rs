//! The fakes against the shapes of the servers they stand for: a fake that drifts from the
//! real answer (a field renamed, added, dropped, or of another JSON type) fails here, so a
//! test passing against a fake still says something about the real server.
//!
//! - Ollama, LM Studio, oMLX cannot run here: their fakes are checked against the shapes the
//!   servers document (tests/fixtures/shapes/{ollama,lmstudio,omlx}/, each file's source in
//!   tests/fixtures/shapes/README.md).
//! - vLLM, vllm-mlx and mlx_lm.server run here (real/python_servers_journey.rs is their proof);
//!   their fakes stay only for cases the real servers here cannot produce (an old vLLM
//!   without `/v1/messages`, a model family not installed, a remote vllm-mlx, a model listed
//!   by repo id), and are checked against answers captured from the real servers
//!   (tests/fixtures/shapes/real/).
//!
//! The comparison: objects key by key (a key only one side has fails, unless the fixture's
//! README lists it as optional for that path), arrays by their elements (elements with a
//! `type` field are matched by type), scalars by JSON type (`null` matches anything: a
//! documented optional value). Free-form maps (Ollama's `model_info`) are compared as maps.
use crate::support::fake_backend::FakeServer;
use crate::support::fake_ollama::{FakeModel, FakeOllama, Loaded, Scenario};
use crate::support::real_llama_server::http;
use crate::support::{fake_lmstudio as lms, fake_mlx, fake_vllm};
use serde_json::Value;
use std::path::PathBuf;

fn fixture(rel: &str) -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/shapes")
        .join(rel);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Differences between the documented (or real) shape and the fake's, as `path: what`.
/// `optional`: paths (`a.b`, array elements as `a[]`) either side may lack; `free`: paths
/// whose object is a map of arbitrary keys.
fn diff(
    doc: &Value,
    fake: &Value,
    path: &str,
    optional: &[&str],
    free: &[&str],
    out: &mut Vec<String>,
) {
    match (doc, fake) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(d), Value::Object(f)) => {
            if free.contains(&path) {
                return;
            }
            for (k, dv) in d {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match f.get(k) {
                    Some(fv) => diff(dv, fv, &p, optional, free, out),
                    None if optional.contains(&p.as_str()) => {}
                    None => out.push(format!("{p}: missing in the fake")),
                }
            }
            for k in f.keys().filter(|k| !d.contains_key(*k)) {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if !optional.contains(&p.as_str()) {
                    out.push(format!("{p}: the fake has it, the server does not"));
                }
            }
        }
        (Value::Array(d), Value::Array(f)) => {
            let p = format!("{path}[]");
            for fv in f {
                let twin = match fv.get("type") {
                    Some(t) => d.iter().find(|dv| dv.get("type") == Some(t)),
                    None => d.first(),
                };
                match twin {
                    Some(dv) => diff(dv, fv, &p, optional, free, out),
                    None if d.is_empty() => {}
                    None => out.push(format!(
                        "{p}: an element of a type the server does not send: {fv}"
                    )),
                }
            }
        }
        (d, f) if kind(d) != kind(f) => out.push(format!(
            "{path}: {} in the fake, {} from the server",
            kind(f),
            kind(d)
        )),
        _ => {}
    }
}

#[track_caller]
fn same_shape(what: &str, doc: &Value, fake: &Value, optional: &[&str], free: &[&str]) {
    let mut out = Vec::new();
    diff(doc, fake, "", optional, free, &mut out);
    assert!(
        out.is_empty(),
        "{what}: the fake drifted from the server's shape:\n  {}\nfake: {fake}",
        out.join("\n  ")
    );
}

fn get(port: u16, path: &str) -> Value {
    let (status, body) = http(port, "GET", path, None).unwrap_or_else(|| panic!("GET {path}"));
    assert!(status < 500, "GET {path}: {status}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

fn post(port: u16, path: &str, body: &str) -> (u16, Value) {
    let (status, text) =
        http(port, "POST", path, Some(body)).unwrap_or_else(|| panic!("POST {path}"));
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("POST {path}: {e}: {text}")),
    )
}

/// The `data:` objects of a server-sent event stream, by event name.
fn events(text: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut name = String::new();
    for l in text.lines() {
        if let Some(n) = l.strip_prefix("event: ") {
            name = n.to_string();
        } else if let Some(d) = l.strip_prefix("data: ") {
            out.push((name.clone(), serde_json::from_str(d).unwrap()));
        }
    }
    out
}

/// `/api/show` fields Ollama documents as present only when set (ollama-api-examples:
/// "Other fields (omitempty)").
const SHOW_OPTIONAL: &[&str] = &[
    "license",
    "modelfile",
    "template",
    "system",
    "renderer",
    "parser",
    "messages",
    "remote_model",
    "remote_host",
    "projector_info",
    "tensors",
    "requires",
];

#[test]
fn fake_ollama_answers_in_ollamas_documented_shapes() {
    let fake = FakeOllama::start(
        Scenario::new("0.33.0")
            .model(FakeModel::qwen3_coder_next())
            .loaded(Loaded::new("qwen3-coder-next:latest", 32_768)),
    );
    let port = fake.port;
    same_shape(
        "GET /api/version",
        &fixture("ollama/version.json"),
        &get(port, "/api/version"),
        &[],
        &[],
    );
    same_shape(
        "GET /api/tags",
        &fixture("ollama/tags.json"),
        &get(port, "/api/tags"),
        &[],
        &[],
    );
    same_shape(
        "GET /api/ps",
        &fixture("ollama/ps.json"),
        &get(port, "/api/ps"),
        &[],
        &[],
    );
    let (st, show) = post(port, "/api/show", r#"{"model":"qwen3-coder-next:latest"}"#);
    assert_eq!(st, 200);
    same_shape(
        "POST /api/show",
        &fixture("ollama/show.json"),
        &show,
        SHOW_OPTIONAL,
        &["model_info"],
    );
    let (st, miss) = post(port, "/api/show", r#"{"model":"nope"}"#);
    assert_eq!(st, 404);
    same_shape(
        "POST /api/show (unknown)",
        &fixture("ollama/error-404.json"),
        &miss,
        &[],
        &[],
    );
    let (_, load) = post(
        port,
        "/api/generate",
        r#"{"model":"qwen3-coder-next:latest","keep_alive":0}"#,
    );
    same_shape(
        "POST /api/generate (unload)",
        &fixture("ollama/generate-load.json"),
        &load,
        &[],
        &[],
    );
    let ask = r#"{"model":"qwen3-coder-next:latest","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"#;
    let (st, reply) = post(port, "/v1/messages", ask);
    assert_eq!(st, 200);
    // `stop_sequence` is omitempty in Ollama's MessagesResponse.
    same_shape(
        "POST /v1/messages",
        &fixture("ollama/messages.json"),
        &reply,
        &["stop_sequence"],
        &[],
    );
    let (st, refused) = post(
        port,
        "/v1/messages",
        &ask.replace("qwen3-coder-next:latest", "claude-haiku-4-5"),
    );
    assert_eq!(st, 404);
    same_shape(
        "POST /v1/messages (unknown model)",
        &fixture("ollama/messages-404.json"),
        &refused,
        &[],
        &[],
    );
    // The stream's message_start carries the same message object.
    let (_, text) = http(
        port,
        "POST",
        "/v1/messages",
        Some(&ask.replace("\"max_tokens\"", "\"stream\":true,\"max_tokens\"")),
    )
    .unwrap();
    let start = events(&text)
        .into_iter()
        .find(|(n, _)| n == "message_start")
        .expect("message_start")
        .1;
    let mut doc = fixture("ollama/messages.json");
    doc["content"] = Value::Array(vec![]);
    same_shape(
        "message_start",
        &doc,
        &start["message"],
        &["stop_sequence", "stop_reason"],
        &[],
    );
}

#[test]
fn fake_lm_studio_answers_in_lm_studios_documented_shapes() {
    let key = "qwen/qwen3-coder-30b";
    let models = [lms::Model::gguf(key, 262_144).loaded_at(32_768)];
    let srv = lms::start(&models, lms::Api::V1);
    same_shape(
        "GET /v1/models",
        &fixture("lmstudio/v1-models.json"),
        &get(srv.port, "/v1/models"),
        &[],
        &[],
    );
    same_shape(
        "GET /api/v1/models",
        &fixture("lmstudio/api-v1-models.json"),
        &get(srv.port, "/api/v1/models"),
        &[],
        &[],
    );
    same_shape(
        "GET /api/v0/models",
        &fixture("lmstudio/api-v0-models.json"),
        &get(srv.port, "/api/v0/models"),
        &[],
        &[],
    );
    same_shape(
        "lms ps --json",
        &fixture("lmstudio/lms-ps.json"),
        &lms::lms_ps(&models, "qwen/x.gguf"),
        &[],
        &[],
    );
}

/// oMLX documents its list items as `id`, `object`, `created`, `owned_by` and an optional
/// `capabilities` (`omlx/api/openai_models.py`, `ModelInfo`). The fake's
/// `max_context_window` is NOT among them: it stands for a context the doctor reads where
/// present, which a real oMLX's list was not seen to carry (listed here so that it stays
/// the one known difference).
#[test]
fn fake_omlx_answers_in_omlxs_documented_shapes() {
    let srv = fake_mlx::omlx(&["Qwen3-Coder-30B-4bit"], 32_768);
    same_shape(
        "GET /v1/models",
        &fixture("omlx/v1-models.json"),
        &get(srv.port, "/v1/models"),
        &[
            "data[].capabilities",
            "data[].created",
            "data[].max_context_window",
        ],
        &[],
    );
    same_shape(
        "GET /openapi.json",
        &fixture("omlx/openapi.json"),
        &get(srv.port, "/openapi.json"),
        &[],
        &["paths"],
    );
}

/// The edge-case fakes of the servers that run here, against the real servers' answers.
#[test]
fn edge_case_fakes_of_vllm_and_the_mlx_servers_answer_as_the_real_ones() {
    let v: FakeServer =
        fake_vllm::start(&fake_vllm::Config::new("0.32.0", &["gemma3-270m"], 32_768));
    same_shape(
        "vLLM GET /v1/models",
        &fixture("real/vllm-models.json"),
        &get(v.port, "/v1/models"),
        &[],
        &["data[].permission[]"],
    );
    same_shape(
        "vLLM GET /version",
        &fixture("real/vllm-version.json"),
        &get(v.port, "/version"),
        &[],
        &[],
    );
    let ask = r#"{"model":"claude-haiku-4-5","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}"#;
    let (st, refused) = post(v.port, "/v1/messages", ask);
    assert_eq!(st, 404);
    same_shape(
        "vLLM POST /v1/messages (unknown model)",
        &fixture("real/vllm-messages-unknown.json"),
        &refused,
        &[],
        &[],
    );
    let (st, reply) = post(
        v.port,
        "/v1/messages",
        &ask.replace("claude-haiku-4-5", "gemma3-270m"),
    );
    assert_eq!(st, 200);
    same_shape(
        "vLLM POST /v1/messages",
        &fixture("real/vllm-messages.json"),
        &reply,
        &[],
        &[],
    );

    let m = fake_mlx::vllm_mlx("tiny-hi");
    same_shape(
        "vllm-mlx GET /v1/models",
        &fixture("real/vllm-mlx-models.json"),
        &get(m.port, "/v1/models"),
        &[],
        &[],
    );
    same_shape(
        "vllm-mlx GET /health",
        &fixture("real/vllm-mlx-health.json"),
        &get(m.port, "/health"),
        &[],
        &[],
    );
    let (st, refused) = post(m.port, "/v1/messages", ask);
    assert_eq!(st, 404);
    same_shape(
        "vllm-mlx POST /v1/messages (unknown model)",
        &fixture("real/vllm-mlx-messages-unknown.json"),
        &refused,
        &[],
        &[],
    );

    let (st, reply) = post(
        m.port,
        "/v1/messages",
        &ask.replace("claude-haiku-4-5", "tiny-hi"),
    );
    assert_eq!(st, 200);
    same_shape(
        "vllm-mlx POST /v1/messages",
        &fixture("real/vllm-mlx-messages.json"),
        &reply,
        &[],
        &[],
    );

    let l = fake_mlx::mlx_lm("/models/tiny-hi");
    same_shape(
        "mlx_lm.server GET /v1/models",
        &fixture("real/mlx-lm-models.json"),
        &get(l.port, "/v1/models"),
        &[],
        &[],
    );
    same_shape(
        "mlx_lm.server GET /health",
        &fixture("real/mlx-lm-health.json"),
        &get(l.port, "/health"),
        &[],
        &[],
    );
}
