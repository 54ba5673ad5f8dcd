//! A small blocking HTTP/1.1 client for Ollama's API with strict time limits.
//!
//! Every request runs against one deadline shared by the whole client (the doctor's
//! total budget): name resolution, connect, write and each read are bounded by what is
//! left of it, so a server that accepts connections and never answers costs at most the
//! budget. Plain `http://` only (local servers speak plain HTTP); bodies are read until the
//! server closes (`Connection: close`), with `Content-Length` and chunked encoding
//! understood. No async runtime, no dependency beyond std and serde_json.

use crate::error::{Error, ErrorKind, Result};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Largest response body accepted (an `/api/show` with `verbose` can be large).
const MAX_BODY: usize = 32 * 1024 * 1024;

pub use crate::server::ServerUrl as BaseUrl;

/// One HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// Time to the first response byte.
    pub first_byte: Duration,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Error::parse(format!("the server's reply is not JSON: {e}")))
    }
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A client bound to one server and one deadline.
#[derive(Debug, Clone)]
pub struct Client {
    pub base: BaseUrl,
    deadline: Instant,
}

fn net_err(msg: impl Into<String>, url: &str) -> Error {
    Error::new(ErrorKind::Network, msg).with_subject(url.to_string())
}

impl Client {
    /// A client for `base_url` (any form `crate::server::ServerUrl` reads) whose requests
    /// all finish within `budget` from now.
    pub fn new(base_url: &str, budget: Duration) -> Result<Client> {
        Ok(Client {
            base: BaseUrl::parse_for(base_url, None)?,
            deadline: Instant::now() + budget,
        })
    }

    /// A client for an already parsed URL with an absolute deadline.
    pub fn with_deadline(base: BaseUrl, deadline: Instant) -> Client {
        Client { base, deadline }
    }

    /// The deadline every request shares.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    fn remaining(&self, url: &str) -> Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left < Duration::from_millis(5) {
            return Err(net_err("timed out (the probe's time budget is spent)", url));
        }
        Ok(left)
    }

    /// Resolves the host within the deadline (a resolver can block far longer).
    fn resolve(&self, url: &str) -> Result<Vec<SocketAddr>> {
        let target = (self.base.host.clone(), self.base.port);
        if let Ok(ip) = target.0.parse::<std::net::IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, target.1)]);
        }
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(target.to_socket_addrs().map(|a| a.collect::<Vec<_>>()));
        });
        match rx.recv_timeout(self.remaining(url)?) {
            Ok(Ok(a)) if !a.is_empty() => Ok(a),
            Ok(Ok(_)) => Err(net_err(format!("{} has no address", self.base.host), url)),
            Ok(Err(e)) => Err(net_err(
                format!("cannot resolve {}: {e}", self.base.host),
                url,
            )),
            Err(_) => Err(net_err(
                format!("resolving {} timed out", self.base.host),
                url,
            )),
        }
    }

    /// Sends one request and reads the whole response.
    pub fn request(&self, method: &str, path: &str, body: Option<&[u8]>) -> Result<Response> {
        let url = format!("{}{}", self.base.to_url(), path);
        let addrs = self.resolve(&url)?;
        let mut last = None;
        let mut stream = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, self.remaining(&url)?) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let mut s = stream.ok_or_else(|| {
            net_err(
                format!(
                    "cannot connect: {}",
                    last.map(|e| e.to_string()).unwrap_or_default()
                ),
                &url,
            )
        })?;
        let _ = s.set_nodelay(true);
        let host = if self.base.host.contains(':') {
            format!("[{}]", self.base.host)
        } else {
            self.base.host.clone()
        };
        let mut req = format!(
            "{method} {}{path} HTTP/1.1\r\nHost: {host}:{}\r\nUser-Agent: cclocal/{}\r\nAccept: */*\r\nConnection: close\r\n",
            self.base.prefix,
            self.base.port,
            env!("CARGO_PKG_VERSION")
        );
        if let Some(b) = body {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                b.len()
            ));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        if let Some(b) = body {
            bytes.extend_from_slice(b);
        }
        s.set_write_timeout(Some(self.remaining(&url)?))
            .map_err(|e| net_err(e.to_string(), &url))?;
        s.write_all(&bytes)
            .map_err(|e| net_err(format!("sending the request failed: {e}"), &url))?;
        let sent = Instant::now();
        let mut raw = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        let mut first_byte = None;
        loop {
            s.set_read_timeout(Some(self.remaining(&url)?))
                .map_err(|e| net_err(e.to_string(), &url))?;
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    first_byte.get_or_insert_with(|| sent.elapsed());
                    raw.extend_from_slice(&buf[..n]);
                    if raw.len() > MAX_BODY {
                        return Err(net_err("the response is too large", &url));
                    }
                    if method == "HEAD" && raw.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                    if response_complete(&raw) {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // A peer that answered and then reset the connection (it did not read the
                // request, or speaks another protocol): judge what it sent.
                Err(e)
                    if !raw.is_empty()
                        && matches!(
                            e.kind(),
                            std::io::ErrorKind::ConnectionReset
                                | std::io::ErrorKind::ConnectionAborted
                        ) =>
                {
                    break
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(net_err("timed out waiting for the server's answer", &url));
                }
                Err(e) => return Err(net_err(format!("reading the answer failed: {e}"), &url)),
            }
        }
        let mut r = parse_response(&raw, method == "HEAD").map_err(|m| net_err(m, &url))?;
        r.first_byte = first_byte.unwrap_or_default();
        Ok(r)
    }

    pub fn get(&self, path: &str) -> Result<Response> {
        self.request("GET", path, None)
    }
    pub fn head(&self, path: &str) -> Result<Response> {
        self.request("HEAD", path, None)
    }
    pub fn post_json(&self, path: &str, body: &serde_json::Value) -> Result<Response> {
        self.request("POST", path, Some(body.to_string().as_bytes()))
    }
}

/// Whether `raw` already holds a complete response (so a server that keeps the
/// connection open despite `Connection: close` does not cost the whole budget).
fn response_complete(raw: &[u8]) -> bool {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    let body = &raw[end + 4..];
    if let Some(len) = header(&head, "content-length").and_then(|v| v.parse::<usize>().ok()) {
        return body.len() >= len;
    }
    if header(&head, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        return dechunk(body).is_ok();
    }
    false
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == name).then(|| v.trim())
    })
}

fn parse_response(raw: &[u8], head_only: bool) -> std::result::Result<Response, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the server closed the connection without a complete answer")?;
    let head_text = String::from_utf8_lossy(&raw[..end]).into_owned();
    let status_line = head_text.lines().next().unwrap_or("");
    let mut parts = status_line.split_whitespace();
    let proto = parts.next().unwrap_or("");
    let status = parts.next().and_then(|s| s.parse::<u16>().ok());
    let status = match (proto.starts_with("HTTP/"), status) {
        (true, Some(s)) => s,
        _ => return Err(format!("not an HTTP answer: {status_line:?}")),
    };
    let lower = head_text.to_ascii_lowercase();
    let content_type = header(&head_text.to_ascii_lowercase(), "content-type").map(String::from);
    let mut body = if head_only {
        Vec::new()
    } else {
        raw[end + 4..].to_vec()
    };
    if !head_only {
        if header(&lower, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            body = dechunk(&body)?;
        } else if let Some(len) =
            header(&lower, "content-length").and_then(|v| v.parse::<usize>().ok())
        {
            if body.len() < len {
                return Err("the answer ended before its Content-Length".into());
            }
            body.truncate(len);
        }
    }
    Ok(Response {
        status,
        content_type,
        body,
        first_byte: Duration::ZERO,
    })
}

/// Decodes a complete chunked body.
fn dechunk(mut b: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let nl = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("incomplete chunked body")?;
        let size_text = String::from_utf8_lossy(&b[..nl]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        b = &b[nl + 2..];
        if size == 0 {
            return Ok(out);
        }
        if b.len() < size + 2 {
            return Err("incomplete chunked body".into());
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses() {
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
            false,
        )
        .unwrap();
        assert_eq!((r.status, r.text().as_str()), (200, "hello"));
        assert_eq!(r.content_type.as_deref(), Some("text/plain"));
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        assert!(response_complete(raw));
        assert_eq!(parse_response(raw, false).unwrap().text(), "hello world");
        assert!(!response_complete(
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc"
        ));
        assert!(parse_response(b"garbage\r\n\r\n", false).is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", false).is_err());
    }

    #[test]
    fn hanging_server_costs_the_budget_only() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let keep = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            std::thread::sleep(Duration::from_millis(1500));
            drop(s);
        });
        let c = Client::new(
            &format!("http://127.0.0.1:{port}"),
            Duration::from_millis(300),
        )
        .unwrap();
        let t = Instant::now();
        let e = c.get("/api/version").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Network);
        assert!(
            t.elapsed() < Duration::from_millis(1200),
            "{:?}",
            t.elapsed()
        );
        keep.join().unwrap();
    }
}
