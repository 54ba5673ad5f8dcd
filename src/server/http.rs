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

/// Largest response accepted, head and body (a server listing a million models must not
/// cost the doctor hundreds of MB; no answer cclocal reads comes near this).
pub const MAX_BODY: usize = 4 * 1024 * 1024;
/// Longest response head accepted.
const MAX_HEAD: usize = 64 * 1024;

pub use super::ServerUrl as BaseUrl;

/// The message of an error for a server that took the request and did not answer in time.
pub const TIMED_OUT_ANSWER: &str = "timed out waiting for the server's answer";

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
        let mut framing = Framing::default();
        loop {
            s.set_read_timeout(Some(self.remaining(&url)?))
                .map_err(|e| net_err(e.to_string(), &url))?;
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    first_byte.get_or_insert_with(|| sent.elapsed());
                    raw.extend_from_slice(&buf[..n]);
                    if raw.len() > MAX_BODY {
                        return Err(too_large(&url));
                    }
                    match framing.advance(&raw, method == "HEAD") {
                        Ok(true) => break,
                        Ok(false) => {}
                        // A bad frame: stop reading; the parse below says what was wrong.
                        Err(_) => break,
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
                    return Err(net_err(TIMED_OUT_ANSWER, &url));
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

fn too_large(url: &str) -> Error {
    net_err(
        format!(
            "the server's answer is larger than {} MiB, more than cclocal reads of any answer",
            MAX_BODY >> 20
        ),
        url,
    )
}

/// Where the end of a response is, found as bytes arrive (each byte looked at a bounded
/// number of times, so a large answer in small reads stays linear), so a server that keeps
/// the connection open despite `Connection: close` does not cost the whole budget.
#[derive(Debug, Default)]
struct Framing {
    /// Bytes already searched for the end of the head.
    scanned: usize,
    /// Offset of the body, once the head is complete.
    body: Option<usize>,
    length: Option<usize>,
    chunked: bool,
    /// The next chunk header's offset in the body (chunked).
    chunk_at: usize,
}

impl Framing {
    /// Whether `raw` holds a whole response; `Err` for a malformed one.
    fn advance(&mut self, raw: &[u8], head_only: bool) -> std::result::Result<bool, String> {
        let body = match self.body {
            Some(b) => b,
            None => {
                let from = self.scanned.saturating_sub(3);
                let Some(p) = find(&raw[from..], b"\r\n\r\n") else {
                    self.scanned = raw.len();
                    if raw.len() > MAX_HEAD {
                        return Err("the answer's head is too long".into());
                    }
                    return Ok(false);
                };
                let end = from + p;
                if head_only {
                    return Ok(true);
                }
                let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
                self.chunked =
                    header(&head, "transfer-encoding").is_some_and(|v| v.contains("chunked"));
                self.length = header(&head, "content-length").and_then(|v| v.parse::<usize>().ok());
                self.body = Some(end + 4);
                end + 4
            }
        };
        let b = &raw[body..];
        if self.chunked {
            loop {
                match next_chunk(&b[self.chunk_at..])? {
                    None => return Ok(false),
                    Some((_, _, 0)) => return Ok(true),
                    Some((_, _, used)) => self.chunk_at += used,
                }
            }
        }
        match self.length {
            Some(len) if len > MAX_BODY => {
                Err(format!("the answer's Content-Length {len} is too large"))
            }
            Some(len) => Ok(b.len() >= len),
            None => Ok(false),
        }
    }
}

/// Position of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One chunk at the start of `b`: `Ok(None)` when it is not all there yet, else its data's
/// offset and size and the bytes it takes in all, with `0` for the size-0 last chunk
/// (trailers are not read). Sizes are checked: a size past [`MAX_BODY`] is an error, never
/// an overflow.
fn next_chunk(b: &[u8]) -> std::result::Result<Option<(usize, usize, usize)>, String> {
    let Some(nl) = find(b, b"\r\n") else {
        if b.len() > 1024 {
            return Err("a chunk header is too long".into());
        }
        return Ok(None);
    };
    let size_text = String::from_utf8_lossy(&b[..nl]);
    let digits = size_text.split(';').next().unwrap_or("").trim();
    let size = if digits.is_empty() || digits.len() > 16 {
        None
    } else {
        u64::from_str_radix(digits, 16).ok()
    }
    .ok_or_else(|| format!("bad chunk size {:?}", cut(&size_text, 40)))?;
    if size > MAX_BODY as u64 {
        return Err(format!(
            "a chunk of {size} bytes is larger than cclocal reads of any answer ({} MiB)",
            MAX_BODY >> 20
        ));
    }
    let size = size as usize;
    if size == 0 {
        return Ok(Some((nl + 2, 0, 0)));
    }
    // Bounded above: size <= MAX_BODY, so no sum here can overflow.
    let end = nl + 2 + size + 2;
    if b.len() < end {
        return Ok(None);
    }
    if &b[end - 2..end] != b"\r\n" {
        return Err("a chunk does not end with CRLF".into());
    }
    Ok(Some((nl + 2, size, end)))
}

fn cut(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
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

/// Decodes a complete chunked body (sizes checked, the total capped at [`MAX_BODY`]).
fn dechunk(mut b: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        match next_chunk(b)? {
            None => return Err("incomplete chunked body".into()),
            Some((_, _, 0)) => return Ok(out),
            Some((at, size, used)) => {
                if out.len() + size > MAX_BODY {
                    return Err(format!(
                        "the chunked answer is larger than {} MiB",
                        MAX_BODY >> 20
                    ));
                }
                out.extend_from_slice(&b[at..at + size]);
                b = &b[used..];
            }
        }
    }
}

/// Parses a whole raw response (fuzzing: never panics, whatever the bytes).
pub fn parse_raw(raw: &[u8]) -> std::result::Result<(u16, usize), String> {
    let mut f = Framing::default();
    let _ = f.advance(raw, false);
    parse_response(raw, false).map(|r| (r.status, r.body.len()))
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
        assert_eq!(Framing::default().advance(raw, false), Ok(true));
        assert_eq!(parse_response(raw, false).unwrap().text(), "hello world");
        assert_eq!(
            Framing::default().advance(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", false),
            Ok(false)
        );
        assert!(parse_response(b"garbage\r\n\r\n", false).is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", false).is_err());
    }

    #[test]
    fn hostile_chunk_sizes_are_errors_not_panics() {
        let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for body in [
            &b"ffffffffffffffff\r\nabc\r\n0\r\n\r\n"[..],
            b"fffffffffffffffe\r\n",
            b"10000000000000000\r\nx\r\n",
            b"-1\r\nx\r\n",
            b"\r\n\r\n",
            b"5\r\nhelloXX0\r\n\r\n",
            b"400001\r\nx\r\n",
        ] {
            let mut raw = head.clone();
            raw.extend_from_slice(body);
            assert!(parse_response(&raw, false).is_err(), "{body:?}");
            // Framing says "stop" (or "wait"): never a panic.
            let _ = Framing::default().advance(&raw, false);
            let _ = parse_raw(&raw);
        }
        let too_long = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        assert!(Framing::default()
            .advance(too_long.as_bytes(), false)
            .is_err());
    }

    #[test]
    fn a_huge_answer_is_cut_off() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut req = [0u8; 1024];
            let _ = s.read(&mut req);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n");
            let chunk = vec![b' '; 64 * 1024];
            // Far more than the cap, then the server would go on forever.
            for _ in 0..(2 * MAX_BODY / chunk.len()) {
                if s.write_all(&chunk).is_err() {
                    return;
                }
            }
        });
        let c = Client::new(&format!("http://127.0.0.1:{port}"), Duration::from_secs(20)).unwrap();
        let e = c.get("/v1/models").unwrap_err();
        assert!(e.message.contains("larger than"), "{e}");
        t.join().unwrap();
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
