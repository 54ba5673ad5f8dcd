//! A loopback stub of the Anthropic Messages API, for `cclocal verify`: Claude Code's base
//! URL points here, so nothing leaves the machine, and every request is recorded.
//!
//! The wire (`docs/verify.md`, "The stub's wire"): `POST /v1/messages` answers a streamed
//! message as server-sent events (`message_start`, `content_block_start`,
//! `content_block_delta`, `content_block_stop`, `message_delta`, `message_stop`, the order of
//! Anthropic's streaming documentation and of the real llama-server b11434 capture that
//! real Claude Code accepted) or one JSON message; `POST /v1/messages/count_tokens` answers
//! `{"input_tokens": n}`; `HEAD /api/hello` answers 200 (Claude Code's reachability probe);
//! everything else gets a 404 in Anthropic's error shape. A `CONNECT host:port` or an
//! absolute-URI request (what a client sends to its HTTP proxy; verify makes the stub Claude
//! Code's proxy) is recorded as an outbound attempt and refused with 403.
//!
//! Bounded: request heads up to 64 KiB, bodies up to 32 MiB, 10 s read and write timeouts,
//! at most 32 connections at a time (more get 503). std only, one thread per connection.

use serde::Serialize;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Largest request head (request line and headers).
pub const MAX_HEAD: usize = 64 * 1024;
/// Largest request body.
pub const MAX_BODY: usize = 32 * 1024 * 1024;
/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 32;
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// One request the stub received.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Recorded {
    /// Milliseconds since the stub started.
    pub at_ms: u64,
    pub method: String,
    /// The request target as sent (with its query, e.g. `/v1/messages?beta=true`).
    pub path: String,
    /// Header names in lower case; `authorization` and `x-api-key` values are reduced to
    /// their kind (`Bearer <redacted>`, `<empty>`, `<redacted>`).
    pub headers: Vec<(String, String)>,
    pub body_len: usize,
    /// The JSON body's `model`.
    pub model: Option<String>,
    pub max_tokens: Option<u64>,
    pub stream: Option<bool>,
    /// Messages in the request.
    pub messages: usize,
    /// The last message asks for a summary of the conversation (a compaction request).
    pub summary_request: bool,
    /// The body carries Claude Code's attribution header (`x-anthropic-billing-header`).
    pub billing_header: bool,
    /// `CONNECT host:port` or an absolute URI: a connection meant for another host.
    pub outbound: Option<String>,
    /// The status the stub answered.
    pub status: u16,
}

impl Recorded {
    /// A header's value (names are compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The path without its query.
    pub fn route(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }
}

/// What the stub answers; changed between Claude Code runs.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// `usage.input_tokens` of every message reply; `None`: the request's bytes / 4.
    pub input_tokens: Option<u64>,
}

struct Shared {
    start: Instant,
    records: Mutex<Vec<Recorded>>,
    behaviour: Mutex<Behaviour>,
    active: AtomicUsize,
    stop: AtomicBool,
}

/// A running stub; it stops when dropped.
pub struct Stub {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Stub {
    /// Listens on `127.0.0.1:0`.
    pub fn start() -> std::io::Result<Stub> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            start: Instant::now(),
            records: Mutex::new(Vec::new()),
            behaviour: Mutex::new(Behaviour::default()),
            active: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        std::thread::Builder::new()
            .name("verify-stub".into())
            .spawn(move || accept_loop(listener, s))?;
        Ok(Stub { addr, shared })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_behaviour(&self, b: Behaviour) {
        *lock(&self.shared.behaviour) = b;
    }

    /// Every request so far, in arrival order.
    pub fn records(&self) -> Vec<Recorded> {
        lock(&self.shared.records).clone()
    }

    /// Milliseconds since the stub started (to split the records by run).
    pub fn now_ms(&self) -> u64 {
        self.shared.start.elapsed().as_millis() as u64
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(mut conn) = conn else { continue };
        if shared.active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            let _ = conn.set_write_timeout(Some(IO_TIMEOUT));
            let _ = respond_json(
                &mut conn,
                503,
                &error_body("overloaded_error", "too many connections"),
            );
            continue;
        }
        shared.active.fetch_add(1, Ordering::SeqCst);
        let s = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("verify-stub-conn".into())
            .spawn(move || {
                let _ = serve(conn, &s);
                s.active.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            shared.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Anthropic's error shape: `{"type":"error","error":{"type":…,"message":…}}`.
pub fn error_body(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

fn respond(
    s: &mut TcpStream,
    status: u16,
    ctype: &str,
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reason(status),
        body.len()
    );
    s.write_all(head.as_bytes())?;
    if !head_only {
        s.write_all(body)?;
    }
    s.flush()
}

fn respond_json(s: &mut TcpStream, status: u16, v: &Value) -> std::io::Result<()> {
    respond(
        s,
        status,
        "application/json",
        v.to_string().as_bytes(),
        false,
    )
}

/// A parsed request.
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

enum ReadError {
    Io,
    TooLarge(u16, &'static str),
    Bad(&'static str),
}

fn read_request(r: &mut BufReader<&TcpStream>) -> Result<Request, ReadError> {
    let mut head_bytes = 0usize;
    let mut line = String::new();
    let mut next_line =
        |r: &mut BufReader<&TcpStream>, line: &mut String| -> Result<(), ReadError> {
            line.clear();
            let n = r
                .by_ref()
                .take((MAX_HEAD - head_bytes.min(MAX_HEAD)) as u64 + 1)
                .read_line(line)
                .map_err(|_| ReadError::Io)?;
            if n == 0 {
                return Err(ReadError::Io);
            }
            head_bytes += n;
            if head_bytes > MAX_HEAD {
                return Err(ReadError::TooLarge(431, "request head over 64 KiB"));
            }
            Ok(())
        };
    next_line(r, &mut line)?;
    let mut words = line.split_whitespace();
    let method = words
        .next()
        .ok_or(ReadError::Bad("empty request line"))?
        .to_string();
    let target = words
        .next()
        .ok_or(ReadError::Bad("no request target"))?
        .to_string();
    let mut headers = Vec::new();
    loop {
        next_line(r, &mut line)?;
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let chunked =
        get("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        read_chunked(r)?
    } else {
        let len: usize = match get("content-length") {
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| ReadError::Bad("bad content-length"))?,
            None => 0,
        };
        if len > MAX_BODY {
            return Err(ReadError::TooLarge(413, "request body over 32 MiB"));
        }
        let mut body = vec![0u8; len];
        r.read_exact(&mut body).map_err(|_| ReadError::Io)?;
        body
    };
    Ok(Request {
        method,
        target,
        headers,
        body,
    })
}

fn read_chunked(r: &mut BufReader<&TcpStream>) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        r.by_ref()
            .take(1024)
            .read_line(&mut line)
            .map_err(|_| ReadError::Io)?;
        let size_hex = line.trim().split(';').next().unwrap_or("");
        let size =
            usize::from_str_radix(size_hex, 16).map_err(|_| ReadError::Bad("bad chunk size"))?;
        if body.len() + size > MAX_BODY {
            return Err(ReadError::TooLarge(413, "request body over 32 MiB"));
        }
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                line.clear();
                let n = r
                    .by_ref()
                    .take(8192)
                    .read_line(&mut line)
                    .map_err(|_| ReadError::Io)?;
                if n == 0 || line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])
            .map_err(|_| ReadError::Io)?;
        let mut crlf = [0u8; 2];
        r.read_exact(&mut crlf).map_err(|_| ReadError::Io)?;
    }
}

fn redact_header(name: &str, value: &str) -> String {
    match name {
        "authorization" => match value.split_once(' ') {
            Some((scheme, rest)) if !rest.trim().is_empty() => format!("{scheme} <redacted>"),
            _ if value.trim().is_empty() => "<empty>".into(),
            _ => "<redacted>".into(),
        },
        "x-api-key" => {
            if value.trim().is_empty() {
                "<empty>".into()
            } else if value.starts_with("sk-ant-") {
                let prefix: String = value.split_inclusive('-').take(3).collect();
                format!("{prefix}…<redacted>")
            } else {
                "<redacted>".into()
            }
        }
        _ => value.to_string(),
    }
}

/// Whether the last message of a Messages request asks for a summary of the conversation
/// (Claude Code's compaction prompt: "… create a detailed summary of the conversation …").
pub fn is_summary_request(body: &Value) -> bool {
    let Some(last) = body
        .get("messages")
        .and_then(Value::as_array)
        .and_then(|m| m.last())
    else {
        return false;
    };
    let text = match last.get("content") {
        Some(Value::String(s)) => s.to_ascii_lowercase(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase(),
        _ => return false,
    };
    text.contains("summary of the conversation") || text.contains("summarize the conversation")
}

/// After an error answer: read what the client still sends (briefly, bounded), so that
/// closing the socket does not reset the connection before the answer is read.
fn drain(conn: &TcpStream) {
    let _ = conn.shutdown(Shutdown::Write);
    let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
    let mut sink = [0u8; 8192];
    let mut left = 1usize << 20;
    let mut r = conn;
    while left > 0 {
        match r.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => left = left.saturating_sub(n),
        }
    }
}

fn serve(conn: TcpStream, shared: &Shared) -> std::io::Result<()> {
    conn.set_read_timeout(Some(IO_TIMEOUT))?;
    conn.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut out = conn.try_clone()?;
    let req = read_request(&mut BufReader::new(&conn));
    let req = match req {
        Ok(r) => r,
        Err(ReadError::Io) => return Ok(()),
        Err(ReadError::TooLarge(status, why)) => {
            let kind = if status == 413 {
                "request_too_large"
            } else {
                "invalid_request_error"
            };
            respond_json(&mut out, status, &error_body(kind, why))?;
            drain(&conn);
            return Ok(());
        }
        Err(ReadError::Bad(why)) => {
            respond_json(&mut out, 400, &error_body("invalid_request_error", why))?;
            drain(&conn);
            return Ok(());
        }
    };
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let route = req.target.split('?').next().unwrap_or("").to_string();
    // What a client sends its proxy: `CONNECT host:port`, or an absolute URI.
    let proxied = req.method == "CONNECT"
        || req.target.starts_with("http://")
        || req.target.starts_with("https://");
    let outbound = proxied.then(|| req.target.clone());
    let mut rec = Recorded {
        at_ms: shared.start.elapsed().as_millis() as u64,
        method: req.method.clone(),
        path: req.target.clone(),
        headers: req
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), redact_header(k, v)))
            .collect(),
        body_len: req.body.len(),
        model: body.get("model").and_then(Value::as_str).map(String::from),
        max_tokens: body.get("max_tokens").and_then(Value::as_u64),
        stream: body.get("stream").and_then(Value::as_bool),
        messages: body
            .get("messages")
            .and_then(Value::as_array)
            .map_or(0, Vec::len),
        summary_request: is_summary_request(&body),
        billing_header: memfind(&req.body, b"x-anthropic-billing-header"),
        outbound,
        status: 0,
    };
    let behaviour = lock(&shared.behaviour).clone();
    let status = answer(&mut out, &req, &route, &rec, &behaviour);
    rec.status = status.unwrap_or(0);
    lock(&shared.records).push(rec);
    let _ = conn.shutdown(Shutdown::Both);
    Ok(())
}

fn memfind(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Answers one request; the status sent.
fn answer(
    s: &mut TcpStream,
    req: &Request,
    route: &str,
    rec: &Recorded,
    behaviour: &Behaviour,
) -> std::io::Result<u16> {
    if rec.outbound.is_some() {
        let why = "cclocal verify does not let Claude Code reach other hosts";
        respond_json(s, 403, &error_body("permission_error", why))?;
        return Ok(403);
    }
    match (req.method.as_str(), route) {
        ("HEAD", "/api/hello") => {
            respond(s, 200, "application/json", b"{}", true)?;
            Ok(200)
        }
        ("POST", "/v1/messages/count_tokens") => {
            let n = (req.body.len() as u64 / 4).max(1);
            respond_json(s, 200, &json!({"input_tokens": n}))?;
            Ok(200)
        }
        ("POST", "/v1/messages") => {
            let Some(model) = rec.model.clone().filter(|m| !m.is_empty()) else {
                respond_json(
                    s,
                    400,
                    &error_body("invalid_request_error", "model: field required"),
                )?;
                return Ok(400);
            };
            let input = behaviour
                .input_tokens
                .unwrap_or((req.body.len() as u64 / 4).max(1));
            let text = if rec.summary_request {
                "Summary: the user asked for short replies and got them."
            } else {
                "ok"
            };
            let reply = Reply {
                id: format!("msg_verify_{:06}", rec.at_ms % 1_000_000),
                model,
                text: text.into(),
                input_tokens: input,
                output_tokens: 2,
            };
            if rec.stream == Some(true) {
                let mut out = Vec::new();
                write_sse(&mut out, &reply);
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n")?;
                s.write_all(&out)?;
                s.flush()?;
            } else {
                respond_json(s, 200, &reply.message())?;
            }
            Ok(200)
        }
        ("GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "PATCH" | "OPTIONS", _) => {
            let msg = format!(
                "{} {} is not served by cclocal's verify stub",
                req.method, route
            );
            if req.method == "HEAD" {
                respond(s, 404, "application/json", b"", true)?;
            } else {
                respond_json(s, 404, &error_body("not_found_error", &msg))?;
            }
            Ok(404)
        }
        _ => {
            respond_json(
                s,
                405,
                &error_body("invalid_request_error", "method not allowed"),
            )?;
            Ok(405)
        }
    }
}

/// One assistant reply.
#[derive(Debug, Clone)]
pub struct Reply {
    pub id: String,
    pub model: String,
    pub text: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

impl Reply {
    fn usage(&self, output: u64) -> Value {
        json!({"input_tokens": self.input_tokens, "cache_creation_input_tokens": 0,
               "cache_read_input_tokens": 0, "output_tokens": output})
    }

    /// The non-streamed message.
    pub fn message(&self) -> Value {
        json!({"id": self.id, "type": "message", "role": "assistant", "model": self.model,
               "content": [{"type": "text", "text": self.text}],
               "stop_reason": "end_turn", "stop_sequence": null,
               "usage": self.usage(self.output_tokens)})
    }

    /// The streamed message's events, in order: `(event name, data)`.
    pub fn events(&self) -> Vec<(&'static str, Value)> {
        vec![
            (
                "message_start",
                json!({"type": "message_start", "message": {"id": self.id, "type": "message",
                       "role": "assistant", "content": [], "model": self.model,
                       "stop_reason": null, "stop_sequence": null, "usage": self.usage(0)}}),
            ),
            (
                "content_block_start",
                json!({"type": "content_block_start", "index": 0,
                       "content_block": {"type": "text", "text": ""}}),
            ),
            (
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0,
                       "delta": {"type": "text_delta", "text": self.text}}),
            ),
            (
                "content_block_stop",
                json!({"type": "content_block_stop", "index": 0}),
            ),
            (
                "message_delta",
                json!({"type": "message_delta",
                       "delta": {"stop_reason": "end_turn", "stop_sequence": null},
                       "usage": self.usage(self.output_tokens)}),
            ),
            ("message_stop", json!({"type": "message_stop"})),
        ]
    }
}

/// The SSE text of a streamed reply (`event: NAME\ndata: JSON\n\n` per event).
pub fn write_sse(out: &mut Vec<u8>, reply: &Reply) {
    for (name, data) in reply.events() {
        out.extend_from_slice(format!("event: {name}\ndata: {data}\n\n").as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(stub: &Stub, raw: &[u8]) -> String {
        let mut c = TcpStream::connect(stub.addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        c.write_all(raw).unwrap();
        let mut s = String::new();
        let _ = c.read_to_string(&mut s);
        s
    }

    /// Events of an SSE text: `(event name, data JSON)`.
    pub(crate) fn parse_sse(text: &str) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        for block in text.split("\n\n") {
            let mut name = None;
            let mut data = None;
            for l in block.lines() {
                if let Some(n) = l.strip_prefix("event: ") {
                    name = Some(n.trim().to_string());
                } else if let Some(d) = l.strip_prefix("data: ") {
                    data = serde_json::from_str::<Value>(d).ok();
                }
            }
            if let (Some(n), Some(d)) = (name, data) {
                out.push((n, d));
            }
        }
        out
    }

    /// The shape of a JSON value: object keys (recursively) and scalar kinds.
    fn shape(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
            }
            Value::Array(a) => Value::Array(a.iter().take(1).map(shape).collect()),
            Value::String(_) => json!("string"),
            Value::Number(_) => json!("number"),
            Value::Bool(_) => json!("bool"),
            Value::Null => json!("null"),
        }
    }

    /// Every key path of `a` exists in `b` with the same kind.
    fn covers(b: &Value, a: &Value) -> Result<(), String> {
        match (a, b) {
            (Value::Object(am), Value::Object(bm)) => {
                for (k, av) in am {
                    let bv = bm.get(k).ok_or_else(|| format!("missing key {k}"))?;
                    covers(bv, av).map_err(|e| format!("{k}.{e}"))?;
                }
                Ok(())
            }
            (Value::Array(aa), Value::Array(ba)) => match (aa.first(), ba.first()) {
                (Some(x), Some(y)) => covers(y, x),
                _ => Ok(()),
            },
            _ if a == b => Ok(()),
            _ => Err(format!("{a} vs {b}")),
        }
    }

    /// The stub's stream has the events, in the order and with the fields, of a real
    /// llama-server b11434 stream that real Claude Code 2.1.332 accepted
    /// (`tests/fixtures/verify/llama-server-b11434-messages-stream.txt`).
    #[test]
    fn sse_matches_a_recorded_real_stream() {
        let recorded =
            include_str!("../../tests/fixtures/verify/llama-server-b11434-messages-stream.txt");
        // The HTTP head ends at the first empty line (CRLF), the SSE body follows.
        let body = recorded.split_once("\r\n\r\n").map_or(recorded, |(_, b)| b);
        let mut real = parse_sse(&body.replace("\r\n", "\n"));
        assert_eq!(real.first().map(|e| e.0.as_str()), Some("message_start"));
        real.dedup_by(|a, b| a.0 == b.0);
        let reply = Reply {
            id: "msg_x".into(),
            model: "m".into(),
            text: "ok".into(),
            input_tokens: 10,
            output_tokens: 2,
        };
        let mut out = Vec::new();
        write_sse(&mut out, &reply);
        let ours = parse_sse(std::str::from_utf8(&out).unwrap());
        let names = |v: &[(String, Value)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&ours), names(&real));
        for ((n, o), (_, r)) in ours.iter().zip(&real) {
            assert_eq!(o["type"], json!(n), "data.type names the event");
            covers(&shape(o), &shape(r)).unwrap_or_else(|e| panic!("{n}: {e}"));
        }
        // The usage Claude Code counts is in message_start and message_delta.
        assert_eq!(ours[0].1["message"]["usage"]["input_tokens"], 10);
        assert_eq!(ours[4].1["usage"]["output_tokens"], 2);
    }

    #[test]
    fn routes_and_records() {
        let stub = Stub::start().unwrap();
        stub.set_behaviour(Behaviour {
            input_tokens: Some(1234),
        });
        let body = r#"{"model":"qwen3:8b","max_tokens":8192,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
        let raw = format!(
            "POST /v1/messages?beta=true HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer secret\r\nanthropic-beta: a,b\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let r = http(&stub, raw.as_bytes());
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        assert!(r.contains("text/event-stream"));
        let (_, sse) = r.split_once("\r\n\r\n").unwrap();
        let ev = parse_sse(sse);
        assert_eq!(ev.len(), 6);
        assert_eq!(ev[0].1["message"]["usage"]["input_tokens"], 1234);
        assert_eq!(ev[0].1["message"]["model"], "qwen3:8b");
        // Non-streaming
        let body = r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"Your task is to create a detailed summary of the conversation so far"}]}]}"#;
        let raw = format!(
            "POST /v1/messages HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let r = http(&stub, raw.as_bytes());
        let j: Value = serde_json::from_str(r.split_once("\r\n\r\n").unwrap().1).unwrap();
        assert_eq!(j["type"], "message");
        assert!(j["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Summary"));
        // count_tokens, hello, 404, CONNECT, chunked
        let r = http(
            &stub,
            b"POST /v1/messages/count_tokens HTTP/1.1\r\nContent-Length: 8\r\n\r\n{\"a\":12}",
        );
        assert!(r.contains("{\"input_tokens\":2}"), "{r}");
        let r = http(&stub, b"HEAD /api/hello HTTP/1.1\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        let r = http(&stub, b"GET /v1/models HTTP/1.1\r\n\r\n");
        assert!(
            r.starts_with("HTTP/1.1 404") && r.contains("not_found_error"),
            "{r}"
        );
        let r = http(
            &stub,
            b"CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\n\r\n",
        );
        assert!(r.starts_with("HTTP/1.1 403"), "{r}");
        let r = http(&stub, b"POST /v1/messages/count_tokens HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n4\r\n:12}\r\n0\r\n\r\n");
        assert!(r.contains("{\"input_tokens\":2}"), "{r}");
        let recs = stub.records();
        assert_eq!(recs.len(), 7);
        let m = &recs[0];
        assert_eq!(m.model.as_deref(), Some("qwen3:8b"));
        assert_eq!(m.max_tokens, Some(8192));
        assert_eq!(m.header("authorization"), Some("Bearer <redacted>"));
        assert_eq!(m.header("anthropic-beta"), Some("a,b"));
        assert!(!m.summary_request);
        assert!(recs[1].summary_request);
        assert_eq!(recs[5].outbound.as_deref(), Some("api.anthropic.com:443"));
        assert_eq!(recs[5].status, 403);
    }

    #[test]
    fn bounded() {
        let stub = Stub::start().unwrap();
        let r = http(
            &stub,
            format!(
                "POST /v1/messages HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
                MAX_BODY + 1
            )
            .as_bytes(),
        );
        assert!(r.starts_with("HTTP/1.1 413"), "{r}");
        let mut huge = b"GET / HTTP/1.1\r\nX: ".to_vec();
        huge.extend(std::iter::repeat(b'a').take(MAX_HEAD + 10));
        huge.extend_from_slice(b"\r\n\r\n");
        let r = http(&stub, &huge);
        assert!(r.starts_with("HTTP/1.1 431"), "{r}");
        let r = http(
            &stub,
            b"POST /v1/messages HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",
        );
        assert!(
            r.starts_with("HTTP/1.1 400") && r.contains("invalid_request_error"),
            "{r}"
        );
        let r = http(&stub, b"garbage\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    }
}
