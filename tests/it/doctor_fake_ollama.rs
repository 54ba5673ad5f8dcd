//! The fake Ollama server answers in Ollama's documented shapes (checked with cclocal's
//! own client), so the tests built on it mean something.

use crate::support;

use cclocal::server::http::Client;
use serde_json::json;
use std::time::Duration;
use support::fake_ollama::{FakeOllama, Scenario};

#[test]
fn shapes() {
    let fake = FakeOllama::serving("llama3:8b", 4096);
    let c = Client::new(&fake.base_url, Duration::from_secs(10)).unwrap();
    assert_eq!(c.get("/").unwrap().text(), "Ollama is running");
    assert_eq!(c.head("/").unwrap().status, 200);
    assert_eq!(
        c.get("/api/version").unwrap().json().unwrap()["version"],
        "0.30.0"
    );
    assert_eq!(
        c.get("/api/tags").unwrap().json().unwrap()["models"][0]["name"],
        "llama3:8b"
    );
    let ps = c.get("/api/ps").unwrap().json().unwrap();
    assert_eq!(ps["models"][0]["context_length"], 4096);
    let show = c
        .post_json("/api/show", &json!({"model": "llama3"}))
        .unwrap();
    assert_eq!(show.status, 404, "llama3 means llama3:latest");
    let show = c
        .post_json("/api/show", &json!({"model": "LLAMA3:8b"}))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(show["model_info"]["llama.block_count"], 32);
    // Unknown model: Ollama's Anthropic-shaped 404.
    let r = c
        .post_json(
            "/v1/messages",
            &json!({"model": "claude-haiku-4-5-20251001", "max_tokens": 1, "messages": []}),
        )
        .unwrap();
    assert_eq!(r.status, 404);
    let e = r.json().unwrap();
    assert_eq!(e["error"]["type"], "not_found_error");
    assert_eq!(
        e["error"]["message"],
        "model 'claude-haiku-4-5-20251001' not found"
    );
    let id = e["request_id"].as_str().unwrap();
    assert!(
        id.len() == 28 && id.starts_with("req_") && id[4..].chars().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );
    // Routes Ollama does not have.
    for (m, p) in [
        ("POST", "/v1/messages/count_tokens"),
        ("HEAD", "/api/hello"),
        ("GET", "/v1/models"),
    ] {
        let r = c.request(m, p, Some(b"{}")).unwrap();
        assert_eq!(r.status, 404);
        if m != "HEAD" {
            assert_eq!(r.text(), "404 page not found");
        }
    }
    // Non-streaming and streaming messages with usage from the request size.
    let body = json!({"model": "llama3:8b", "max_tokens": 100, "messages": [{"role": "user", "content": "x".repeat(400)}]});
    let r = c.post_json("/v1/messages", &body).unwrap().json().unwrap();
    assert_eq!(r["type"], "message");
    assert_eq!(
        r["usage"]["input_tokens"],
        body.to_string().len() as u64 / 4
    );
    let mut sbody = body.clone();
    sbody["stream"] = json!(true);
    let r = c.post_json("/v1/messages", &sbody).unwrap();
    assert!(r
        .content_type
        .as_deref()
        .unwrap()
        .starts_with("text/event-stream"));
    let text = r.text();
    let events: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(
        events,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert!(text.contains("\"text_delta\""));
    // max_tokens 1 stops at one token.
    let one = json!({"model": "llama3:8b", "max_tokens": 1, "messages": [{"role": "user", "content": "."}]});
    let r = c.post_json("/v1/messages", &one).unwrap().json().unwrap();
    assert_eq!(
        (
            r["stop_reason"].as_str(),
            r["usage"]["output_tokens"].as_u64()
        ),
        (Some("max_tokens"), Some(1))
    );
    // Old servers have no /v1/messages at all.
    let old = FakeOllama::start(Scenario::new("0.13.5"));
    let r = Client::new(&old.base_url, Duration::from_secs(5))
        .unwrap()
        .post_json("/v1/messages", &one)
        .unwrap();
    assert_eq!((r.status, r.text().as_str()), (404, "404 page not found"));
    // Preload and unload through /api/generate.
    let r = c
        .post_json(
            "/api/generate",
            &json!({"model": "llama3:8b", "options": {"num_ctx": 32768}, "keep_alive": -1}),
        )
        .unwrap();
    assert_eq!(r.json().unwrap()["done_reason"], "load");
    assert_eq!(
        c.get("/api/ps").unwrap().json().unwrap()["models"][0]["context_length"],
        32768
    );
    let reqs = fake.requests();
    assert!(reqs
        .iter()
        .any(|r| r.route() == "/v1/messages/count_tokens"));
}
