//! A fake Ollama server for tests, on loopback.
//!
//! **This is not Ollama.** It is built from Ollama's documented response shapes
//! (summary in this repository's `docs/ollama.md`, "HTTP API"; upstream `docs/api.md`,
//! `docs/openapi.yaml`, `anthropic/anthropic.go`, gin's default 404) so that cclocal and
//! the real Claude Code can be tested against something that answers the way Ollama
//! does, without a model or a GPU. Plain `std::net` and one thread per connection.
//!
//! ```ignore
//! let fake = FakeOllama::start(
//!     Scenario::new("0.15.2")
//!         .model(FakeModel::qwen3_coder_next())
//!         .loaded(Loaded::new("qwen3-coder-next:latest", 16_384)),
//! );
//! // point ANTHROPIC_BASE_URL / --host at fake.base_url, then:
//! let seen: Vec<RecordedRequest> = fake.requests();
//! ```
//!
//! Routes (everything else, and a wrong method, is gin's plain-text `404 page not found`):
//! * `GET|HEAD /` → `Ollama is running`; `GET|HEAD /api/version` → `{"version": …}`
//! * `GET /api/tags`, `GET /api/ps`, `POST /api/show` (`404 {"error":"model 'x' not found"}`)
//! * `POST /api/generate` with no prompt: load (`done_reason: load`, adds to `/api/ps`) or
//!   `keep_alive: 0` unload
//! * `POST /v1/messages` (when [`Scenario::messages_api`]): SSE when `stream: true`,
//!   JSON otherwise; `usage.input_tokens` = request body bytes / 4 (or the override);
//!   unknown models get Ollama's Anthropic-shaped 404 with a `request_id`.
//! * `POST /v1/messages/count_tokens` and `HEAD /api/hello` are not routed (404), as in Ollama.
#![allow(dead_code)]

use serde_json::{json, Map, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An installed model (`/api/tags`, `/api/show`).
#[derive(Debug, Clone)]
pub struct FakeModel {
    pub name: String,
    pub family: String,
    pub parameter_size: String,
    pub quantization_level: String,
    pub size: u64,
    /// `/api/show` `model_info`: raw GGUF keys.
    pub model_info: Map<String, Value>,
    /// `/api/show` `parameters` text, e.g. `num_ctx                        65536`.
    pub parameters: String,
    pub capabilities: Vec<String>,
}

impl FakeModel {
    /// A model with the given `model_info` (pass `json!({...})`).
    pub fn new(name: &str, model_info: Value, size: u64) -> Self {
        let info = model_info.as_object().cloned().unwrap_or_default();
        let family = info
            .get("general.architecture")
            .and_then(|v| v.as_str())
            .unwrap_or("llama")
            .to_string();
        FakeModel {
            name: normalize(name),
            family,
            parameter_size: "7B".into(),
            quantization_level: "Q4_K_M".into(),
            size,
            model_info: info,
            parameters: String::new(),
            capabilities: vec!["completion".into(), "tools".into()],
        }
    }

    /// `qwen3-coder-next:latest` as `/api/show` describes it (qwen3next: 48 blocks, one
    /// full-attention layer in four, 2 KV heads × 256; 262144 trained context), 51 GB.
    pub fn qwen3_coder_next() -> Self {
        let mut m = FakeModel::new(
            "qwen3-coder-next:latest",
            json!({
                "general.architecture": "qwen3next",
                "general.parameter_count": 79_674_391_296u64,
                "qwen3next.block_count": 48,
                "qwen3next.context_length": 262_144,
                "qwen3next.embedding_length": 2048,
                "qwen3next.feed_forward_length": 5120,
                "qwen3next.attention.head_count": 16,
                "qwen3next.attention.head_count_kv": 2,
                "qwen3next.attention.key_length": 256,
                "qwen3next.attention.value_length": 256,
                "qwen3next.full_attention_interval": 4,
                "qwen3next.ssm.conv_kernel": 4,
                "qwen3next.ssm.group_count": 16,
                "qwen3next.ssm.inner_size": 4096,
                "qwen3next.ssm.state_size": 128,
                "qwen3next.ssm.time_step_rank": 32,
                "qwen3next.expert_count": 512,
                "qwen3next.expert_used_count": 10,
                "tokenizer.ggml.model": "gpt2"
            }),
            51_000_000_000,
        );
        m.parameter_size = "79.7B".into();
        m
    }

    /// A small llama-architecture model (32 layers, 8 KV heads × 128, 8192 trained).
    pub fn llama(name: &str) -> Self {
        FakeModel::new(
            name,
            json!({
                "general.architecture": "llama",
                "llama.block_count": 32,
                "llama.context_length": 131072,
                "llama.embedding_length": 4096,
                "llama.feed_forward_length": 14336,
                "llama.attention.head_count": 32,
                "llama.attention.head_count_kv": 8,
                "llama.vocab_size": 128256
            }),
            4_920_000_000,
        )
    }

    pub fn with_parameters(mut self, p: &str) -> Self {
        self.parameters = p.into();
        self
    }
}

/// A loaded model (`/api/ps`).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub name: String,
    pub size: u64,
    pub size_vram: u64,
    pub context_length: u64,
    pub expires_at: String,
}

impl Loaded {
    /// Fully on the GPU, expiring in five minutes (a fixed timestamp).
    pub fn new(name: &str, context_length: u64) -> Self {
        Loaded {
            name: normalize(name),
            size: 8_000_000_000,
            size_vram: 8_000_000_000,
            context_length,
            expires_at: "2026-11-25T20:05:00.000000000Z".into(),
        }
    }
    pub fn sizes(mut self, size: u64, size_vram: u64) -> Self {
        self.size = size;
        self.size_vram = size_vram;
        self
    }
}

/// What the fake server does.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub version: String,
    pub models: Vec<FakeModel>,
    pub loaded: Vec<Loaded>,
    /// `/v1/messages` is routed (Ollama ≥ 0.14.0). Older servers answer 404 page not found.
    pub messages_api: bool,
    /// Delay before every answer.
    pub latency: Duration,
    /// Extra delay before a `/v1/messages` answer's first byte.
    pub first_byte_delay: Duration,
    /// Gap between SSE events.
    pub event_gap: Duration,
    /// Accept connections and never answer.
    pub hang: bool,
    /// The assistant's reply text.
    pub reply_text: String,
    /// Fixed `usage.input_tokens` instead of request bytes / 4.
    pub input_tokens: Option<u64>,
    /// Context a `/api/generate` load gets without `options.num_ctx`.
    pub default_context: u64,
}

impl Scenario {
    pub fn new(version: &str) -> Self {
        Scenario {
            version: version.into(),
            models: Vec::new(),
            loaded: Vec::new(),
            messages_api: version_at_least(version, (0, 14, 0)),
            latency: Duration::ZERO,
            first_byte_delay: Duration::ZERO,
            event_gap: Duration::ZERO,
            hang: false,
            reply_text: "Hello from the fake Ollama.".into(),
            input_tokens: None,
            default_context: 4096,
        }
    }
    /// Accepts connections and never answers.
    pub fn hanging() -> Self {
        Scenario {
            hang: true,
            ..Scenario::new("0.30.0")
        }
    }
    pub fn model(mut self, m: FakeModel) -> Self {
        self.models.push(m);
        self
    }
    pub fn loaded(mut self, l: Loaded) -> Self {
        self.loaded.push(l);
        self
    }
}

fn version_at_least(v: &str, min: (u32, u32, u32)) -> bool {
    let core = v
        .trim_start_matches('v')
        .split(['-', '+'])
        .next()
        .unwrap_or("");
    let p: Vec<u32> = core.split('.').filter_map(|x| x.parse().ok()).collect();
    p.len() == 3 && (p[0], p[1], p[2]) >= min
}

/// `qwen3` → `qwen3:latest`, lower case (Ollama matches names case-insensitively).
pub fn normalize(name: &str) -> String {
    let n = name.trim().to_ascii_lowercase();
    let last = n.rsplit('/').next().unwrap_or("");
    if last.contains(':') {
        n
    } else {
        format!("{n}:latest")
    }
}

/// One request the fake server received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// Path with query, e.g. `/v1/messages?beta=true`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RecordedRequest {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The path without the query.
    pub fn route(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }
}

struct Shared {
    scenario: Mutex<Scenario>,
    requests: Mutex<Vec<RecordedRequest>>,
    stop: AtomicBool,
    held: Mutex<Vec<TcpStream>>,
    counter: AtomicU64,
}

/// A running fake server; stops when dropped.
pub struct FakeOllama {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    pub port: u16,
    shared: Arc<Shared>,
    accept: Option<std::thread::JoinHandle<()>>,
}

impl FakeOllama {
    /// Ollama 0.30.0 with `model` (a llama-architecture model) pulled and loaded at `ctx`
    /// tokens: the plain case most tests start from.
    pub fn serving(model: &str, ctx: u64) -> FakeOllama {
        FakeOllama::start(
            Scenario::new("0.30.0")
                .model(FakeModel::llama(model))
                .loaded(Loaded::new(model, ctx)),
        )
    }
    pub fn start(scenario: Scenario) -> FakeOllama {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            scenario: Mutex::new(scenario),
            requests: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            held: Mutex::new(Vec::new()),
            counter: AtomicU64::new(1),
        });
        let s2 = shared.clone();
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s2.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                if s2.scenario.lock().unwrap().hang {
                    if let Ok(c) = conn.try_clone() {
                        s2.held.lock().unwrap().push(c);
                    }
                    continue;
                }
                let s3 = s2.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &s3);
                });
            }
        });
        FakeOllama {
            base_url: format!("http://127.0.0.1:{port}"),
            port,
            shared,
            accept: Some(accept),
        }
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Changes the scenario while running.
    pub fn update(&self, f: impl FnOnce(&mut Scenario)) {
        f(&mut self.shared.scenario.lock().unwrap());
    }
}

impl Drop for FakeOllama {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        self.shared.held.lock().unwrap().clear();
    }
}

pub fn read_request(s: &mut TcpStream) -> Option<RecordedRequest> {
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut buf).ok()?;
        if n == 0 || raw.len() > 1 << 20 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut first = lines.next()?.split_whitespace();
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    let mut body = raw[head_end + 4..].to_vec();
    if let Some(len) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
        while body.len() < len {
            let n = s.read(&mut buf).ok()?;
            if n == 0 {
                return None;
            }
            body.extend_from_slice(&buf[..n]);
        }
        body.truncate(len);
    } else if get("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        loop {
            if let Some(d) = dechunk(&body) {
                body = d;
                break;
            }
            let n = s.read(&mut buf).ok()?;
            if n == 0 {
                return None;
            }
            body.extend_from_slice(&buf[..n]);
        }
    }
    Some(RecordedRequest {
        method,
        path,
        headers,
        body,
    })
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let nl = b.windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&b[..nl]).split(';').next()?.trim(),
            16,
        )
        .ok()?;
        b = &b[nl + 2..];
        if size == 0 {
            return Some(out);
        }
        if b.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

fn respond(
    s: &mut TcpStream,
    status: u16,
    ctype: &str,
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Error",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nDate: Wed, 25 Nov 2026 20:00:00 GMT\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body);
    }
    s.write_all(&out)?;
    s.flush()
}

const JSON: &str = "application/json; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

fn not_found_page(s: &mut TcpStream, head: bool) -> std::io::Result<()> {
    respond(s, 404, "text/plain", b"404 page not found", head)
}

fn hex24(shared: &Shared) -> String {
    let n = shared.counter.fetch_add(1, Ordering::SeqCst);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mixed = (t ^ ((n as u128) << 64) ^ (n as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        & ((1u128 << 96) - 1);
    format!("{mixed:024x}")
}

fn find<'a>(sc: &'a Scenario, name: &str) -> Option<&'a FakeModel> {
    let n = normalize(name);
    sc.models.iter().find(|m| m.name == n)
}

fn details(m: &FakeModel) -> Value {
    json!({"parent_model":"","format":"gguf","family":m.family,"families":[m.family],
           "parameter_size":m.parameter_size,"quantization_level":m.quantization_level})
}

fn serve(mut s: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let Some(req) = read_request(&mut s) else {
        return Ok(());
    };
    shared.requests.lock().unwrap().push(req.clone());
    let sc = shared.scenario.lock().unwrap().clone();
    if !sc.latency.is_zero() {
        std::thread::sleep(sc.latency);
    }
    let head = req.method == "HEAD";
    let route = req.route().to_string();
    let body = req.json().unwrap_or(Value::Null);
    match (req.method.as_str(), route.as_str()) {
        ("GET" | "HEAD", "/") => respond(&mut s, 200, TEXT, b"Ollama is running", head),
        ("GET" | "HEAD", "/api/version") => respond(
            &mut s,
            200,
            JSON,
            json!({"version": sc.version}).to_string().as_bytes(),
            head,
        ),
        ("GET", "/api/tags") => {
            let models: Vec<Value> = sc
                .models
                .iter()
                .map(|m| {
                    json!({"name":m.name,"model":m.name,"modified_at":"2026-11-20T10:00:00.000000000Z",
                           "size":m.size,"digest":format!("{:064x}", m.size),"details":details(m)})
                })
                .collect();
            respond(
                &mut s,
                200,
                JSON,
                json!({ "models": models }).to_string().as_bytes(),
                false,
            )
        }
        ("GET", "/api/ps") => {
            let models: Vec<Value> = sc
                .loaded
                .iter()
                .map(|l| {
                    let d = find(&sc, &l.name).map(details).unwrap_or(json!({}));
                    json!({"name":l.name,"model":l.name,"size":l.size,"digest":format!("{:064x}", l.size),
                           "details":d,"expires_at":l.expires_at,"size_vram":l.size_vram,"context_length":l.context_length})
                })
                .collect();
            respond(
                &mut s,
                200,
                JSON,
                json!({ "models": models }).to_string().as_bytes(),
                false,
            )
        }
        ("POST", "/api/show") => {
            let name = body
                .get("model")
                .or_else(|| body.get("name"))
                .and_then(|v| v.as_str())
                .unwrap_or("");
            match find(&sc, name) {
                Some(m) => {
                    let show = json!({
                        "license":"", "modelfile": format!("FROM {}\n", m.name), "parameters": m.parameters,
                        "template":"{{ .Prompt }}", "details": details(m), "model_info": m.model_info,
                        "capabilities": m.capabilities, "modified_at":"2026-11-20T10:00:00.000000000Z"
                    });
                    respond(&mut s, 200, JSON, show.to_string().as_bytes(), false)
                }
                None => respond(
                    &mut s,
                    404,
                    JSON,
                    json!({"error": format!("model '{name}' not found")})
                        .to_string()
                        .as_bytes(),
                    false,
                ),
            }
        }
        ("POST", "/api/generate") => generate(&mut s, shared, &sc, &body),
        ("POST", "/v1/messages") if sc.messages_api => messages(&mut s, shared, &sc, &req, &body),
        _ => not_found_page(&mut s, head),
    }
}

fn generate(
    s: &mut TcpStream,
    shared: &Shared,
    sc: &Scenario,
    body: &Value,
) -> std::io::Result<()> {
    let name = body.get("model").and_then(|v| v.as_str()).unwrap_or("");
    if find(sc, name).is_none() {
        return respond(
            s,
            404,
            JSON,
            json!({"error": format!("model '{name}' not found")})
                .to_string()
                .as_bytes(),
            false,
        );
    }
    let unload = body
        .get("keep_alive")
        .is_some_and(|k| k.as_f64() == Some(0.0) || k.as_str() == Some("0"));
    let ctx = body
        .pointer("/options/num_ctx")
        .and_then(|v| v.as_u64())
        .unwrap_or(sc.default_context);
    {
        let mut live = shared.scenario.lock().unwrap();
        let n = normalize(name);
        live.loaded.retain(|l| l.name != n);
        if !unload {
            live.loaded.push(Loaded::new(&n, ctx));
        }
    }
    let reply = json!({"model": name, "created_at": "2026-11-25T20:00:00.000000000Z", "response": "", "done": true,
                       "done_reason": if unload { "unload" } else { "load" }});
    respond(s, 200, JSON, reply.to_string().as_bytes(), false)
}

fn messages(
    s: &mut TcpStream,
    shared: &Shared,
    sc: &Scenario,
    req: &RecordedRequest,
    body: &Value,
) -> std::io::Result<()> {
    let model = body
        .get("model")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    if find(sc, &model).is_none() {
        let err = json!({"type":"error","error":{"type":"not_found_error","message":format!("model '{model}' not found")},
                         "request_id": format!("req_{}", hex24(shared))});
        return respond(s, 404, JSON, err.to_string().as_bytes(), false);
    }
    if !sc.first_byte_delay.is_zero() {
        std::thread::sleep(sc.first_byte_delay);
    }
    let input_tokens = sc
        .input_tokens
        .unwrap_or((req.body.len() as u64 / 4).max(1));
    let max_tokens = body
        .get("max_tokens")
        .and_then(|v| v.as_u64())
        .unwrap_or(u64::MAX);
    let mut text = sc.reply_text.clone();
    let mut output_tokens = (text.len() as u64).div_ceil(4).max(1);
    let mut stop = "end_turn";
    if output_tokens > max_tokens {
        let keep = (max_tokens as usize * 4).min(text.len());
        let mut cut = keep;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        output_tokens = max_tokens;
        stop = "max_tokens";
    }
    let id = format!("msg_{}", hex24(shared));
    if !body
        .get("stream")
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
    {
        let reply = json!({"id":id,"type":"message","role":"assistant","model":model,
                           "content":[{"type":"text","text":text}],"stop_reason":stop,"stop_sequence":null,
                           "usage":{"input_tokens":input_tokens,"output_tokens":output_tokens}});
        return respond(s, 200, JSON, reply.to_string().as_bytes(), false);
    }
    s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n")?;
    let events = [
        (
            "message_start",
            json!({"type":"message_start","message":{"id":id,"type":"message","role":"assistant","model":model,
            "content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":input_tokens,"output_tokens":0}}}),
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
            json!({"type":"message_delta","delta":{"stop_reason":stop,"stop_sequence":null},
            "usage":{"input_tokens":input_tokens,"output_tokens":output_tokens}}),
        ),
        ("message_stop", json!({"type":"message_stop"})),
    ];
    for (i, (name, data)) in events.iter().enumerate() {
        if i > 0 && !sc.event_gap.is_zero() {
            std::thread::sleep(sc.event_gap);
        }
        s.write_all(format!("event: {name}\ndata: {data}\n\n").as_bytes())?;
        s.flush()?;
    }
    Ok(())
}
