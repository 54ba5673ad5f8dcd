//! The engine of the FAKE LM Studio, vLLM and MLX servers (`fake_lmstudio`, `fake_vllm`,
//! `fake_mlx`; the project's own code, not those servers): fixed answers per route
//! (`fake_http::Routes`), and `POST /v1/messages` answered in Anthropic's shape (SSE when
//! the request streams, as Claude Code's do), refusing model names the server does not
//! serve the way that server does. Records every request.
#![allow(dead_code)]

use super::fake_http::{Answer, Routes};
use super::fake_ollama::{read_request, RecordedRequest};
use serde_json::{json, Value};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// How `POST /v1/messages` answers.
#[derive(Debug, Clone)]
pub enum Messages {
    /// Not routed: the route table (or fallback) answers.
    Absent,
    /// Answers any name (one model loaded, or a server that ignores names).
    AnyName,
    /// Answers only these names; any other gets `refusal` with `{model}` replaced.
    Only { names: Vec<String>, refusal: Answer },
}

#[derive(Debug, Clone)]
pub struct Fake {
    pub routes: Routes,
    pub messages: Messages,
    pub reply_text: String,
}

pub struct FakeServer {
    pub base_url: String,
    pub port: u16,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    fake: Arc<Mutex<Arc<Fake>>>,
}

impl FakeServer {
    pub fn start(fake: Fake) -> FakeServer {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let q = requests.clone();
        let current = Arc::new(Mutex::new(Arc::new(fake)));
        let shared = current.clone();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(s) = s else { continue };
                let (q, fake) = (q.clone(), shared.lock().unwrap().clone());
                std::thread::spawn(move || serve(s, &fake, &q));
            }
        });
        FakeServer {
            base_url: format!("http://127.0.0.1:{port}"),
            port,
            requests,
            fake: current,
        }
    }
    /// Answers as `fake` from the next connection on, at the same address (a server
    /// restarted with other settings, or another model loaded).
    pub fn replace(&self, fake: Fake) {
        *self.fake.lock().unwrap() = Arc::new(fake);
    }
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().unwrap().clone()
    }
    /// The models named in `POST /v1/messages` requests, in order, without cclocal's own
    /// probe (`cclocal-probe-…`, which asks whether the route exists).
    pub fn message_models(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.route() == "/v1/messages")
            .filter_map(|r| r.json()?["model"].as_str().map(String::from))
            .filter(|m| !m.starts_with("cclocal-probe"))
            .collect()
    }
}

fn respond(s: &mut TcpStream, a: &Answer, head_only: bool) {
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        a.status,
        if a.status == 200 { "OK" } else { "Status" },
        a.content_type,
        a.body.len()
    );
    let _ = s.write_all(head.as_bytes());
    if !head_only {
        let _ = s.write_all(&a.body);
    }
}

fn serve(mut s: TcpStream, fake: &Fake, log: &Mutex<Vec<RecordedRequest>>) {
    let Some(req) = read_request(&mut s) else {
        return;
    };
    log.lock().unwrap().push(req.clone());
    let key = format!("{} {}", req.method, req.route());
    if let Some(a) = fake.routes.routes.get(&key) {
        return respond(&mut s, a, req.method == "HEAD");
    }
    if key == "POST /v1/messages" {
        let body = req.json().unwrap_or(Value::Null);
        let model = body["model"].as_str().unwrap_or("").to_string();
        match &fake.messages {
            Messages::Absent => {}
            Messages::AnyName => return messages(&mut s, fake, &body, &model),
            Messages::Only { names, refusal } => {
                if names.contains(&model) {
                    return messages(&mut s, fake, &body, &model);
                }
                let text = String::from_utf8_lossy(&refusal.body).replace("{model}", &model);
                return respond(
                    &mut s,
                    &Answer::new(refusal.status, &refusal.content_type, text),
                    false,
                );
            }
        }
    }
    respond(&mut s, &fake.routes.fallback, req.method == "HEAD");
}

/// An Anthropic Messages answer: one text block, SSE when `stream` is true.
fn messages(s: &mut TcpStream, fake: &Fake, body: &Value, model: &str) {
    let text = &fake.reply_text;
    let input = (body.to_string().len() as u64 / 4).max(1);
    let output = (text.len() as u64).div_ceil(4).max(1);
    let id = "msg_fake0000000000000000";
    if !body["stream"].as_bool().unwrap_or(false) {
        // No `stop_sequence`: the real vLLM 0.32.0 and vllm-mlx 0.6.0 leave it out.
        let reply = json!({"id":id,"type":"message","role":"assistant","model":model,
            "content":[{"type":"text","text":text}],"stop_reason":"end_turn",
            "usage":{"input_tokens":input,"output_tokens":output}});
        return respond(s, &Answer::json(200, &reply.to_string()), false);
    }
    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n");
    let events = [
        (
            "message_start",
            json!({"type":"message_start","message":{"id":id,"type":"message","role":"assistant","model":model,
            "content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":input,"output_tokens":0}}}),
        ),
        (
            "content_block_start",
            json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
        ),
        (
            "content_block_delta",
            json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":text}}),
        ),
        (
            "content_block_stop",
            json!({"type":"content_block_stop","index":0}),
        ),
        (
            "message_delta",
            json!({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},
            "usage":{"output_tokens":output}}),
        ),
        ("message_stop", json!({"type":"message_stop"})),
    ];
    for (name, data) in events {
        let _ = s.write_all(format!("event: {name}\ndata: {data}\n\n").as_bytes());
        let _ = s.flush();
    }
}
