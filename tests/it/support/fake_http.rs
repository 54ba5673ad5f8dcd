//! A FAKE HTTP server on loopback for tests: fixed answers per route (`METHOD /path`),
//! a default answer for every other route, and a record of the requests. The building
//! block of servers that are not Ollama (an HTML page, a 404-for-everything proxy) and of
//! `fake_llama_server`.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// One canned answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Answer {
            status,
            content_type: content_type.into(),
            body: body.into(),
        }
    }
    pub fn json(status: u16, body: &str) -> Self {
        Self::new(status, "application/json; charset=utf-8", body)
    }
    pub fn text(status: u16, body: &str) -> Self {
        Self::new(status, "text/plain; charset=utf-8", body)
    }
    pub fn html(status: u16, body: &str) -> Self {
        Self::new(status, "text/html; charset=utf-8", body)
    }
}

/// Routes: `"GET /props"` → answer; anything else gets `fallback`.
#[derive(Debug, Clone)]
pub struct Routes {
    pub routes: BTreeMap<String, Answer>,
    pub fallback: Answer,
}

impl Routes {
    pub fn new(fallback: Answer) -> Self {
        Routes {
            routes: BTreeMap::new(),
            fallback,
        }
    }
    pub fn route(mut self, method_path: &str, a: Answer) -> Self {
        self.routes.insert(method_path.to_string(), a);
        self
    }
}

pub struct FakeHttp {
    pub base_url: String,
    pub port: u16,
    routes: Arc<Mutex<Routes>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FakeHttp {
    pub fn start(routes: Routes) -> FakeHttp {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let routes = Arc::new(Mutex::new(routes));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (r2, q2) = (routes.clone(), requests.clone());
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(s) = s else { continue };
                let (r, q) = (r2.clone(), q2.clone());
                std::thread::spawn(move || serve(s, &r, &q));
            }
        });
        FakeHttp {
            base_url: format!("http://127.0.0.1:{port}"),
            port,
            routes,
            requests,
        }
    }
    /// `METHOD /path` of every request so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
    pub fn update(&self, f: impl FnOnce(&mut Routes)) {
        f(&mut self.routes.lock().unwrap());
    }
}

fn serve(mut s: std::net::TcpStream, routes: &Mutex<Routes>, log: &Mutex<Vec<String>>) {
    let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while raw.len() < head_end + 4 + len {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    let mut first = head.lines().next().unwrap_or("").split_whitespace();
    let method = first.next().unwrap_or("").to_string();
    let path = first.next().unwrap_or("").to_string();
    let bare = path.split('?').next().unwrap_or("").to_string();
    log.lock().unwrap().push(format!("{method} {path}"));
    let a = {
        let r = routes.lock().unwrap();
        r.routes
            .get(&format!("{method} {bare}"))
            .cloned()
            .unwrap_or_else(|| r.fallback.clone())
    };
    let reason = match a.status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let body: &[u8] = if method == "HEAD" { b"" } else { &a.body };
    let head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        a.status,
        a.content_type,
        a.body.len()
    );
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body);
}
