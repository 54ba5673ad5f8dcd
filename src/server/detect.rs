//! Which server answers at a URL, decided from its own responses (docs/servers.md
//! "Detection"). The kinds are tried in the order of [`super::KINDS`]; each kind's
//! fingerprint lives in its own module and reads responses through [`Http`], which asks
//! each route once, so later fingerprints reuse earlier answers. Every request shares the
//! client's deadline (the doctor's time budget).

use super::{ServerKind, KINDS};
use crate::server::http::{Client, Response};
use serde_json::Value;
use std::collections::BTreeMap;

/// What a fingerprint concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It is this kind; the text says why.
    Match(String),
    /// It is this kind, still loading its model; the text says why.
    Loading(String),
    /// Not this kind (the text says what was seen).
    No(String),
}

/// The responses of one server, each route asked at most once.
pub struct Http<'a> {
    client: &'a Client,
    seen: BTreeMap<String, Option<Response>>,
    /// The first network error, when nothing answered.
    pub error: Option<String>,
}

impl<'a> Http<'a> {
    pub fn new(client: &'a Client) -> Self {
        Http {
            client,
            seen: BTreeMap::new(),
            error: None,
        }
    }

    /// `GET path`, `None` when the request failed (no answer in time, refused).
    pub fn get(&mut self, path: &str) -> Option<&Response> {
        if !self.seen.contains_key(path) {
            let r = match self.client.get(path) {
                Ok(r) => Some(r),
                Err(e) => {
                    self.error.get_or_insert(e.message);
                    None
                }
            };
            self.seen.insert(path.to_string(), r);
        }
        self.seen.get(path).and_then(Option::as_ref)
    }

    /// `GET path` as JSON when it answered 2xx with JSON.
    pub fn json(&mut self, path: &str) -> Option<Value> {
        self.get(path)
            .filter(|r| r.is_success())
            .and_then(|r| r.json().ok())
    }

    /// The `owned_by` values of `GET /v1/models`.
    pub fn owners(&mut self) -> Vec<String> {
        self.json("/v1/models")
            .and_then(|v| {
                v["data"].as_array().map(|a| {
                    a.iter()
                        .filter_map(|m| m["owned_by"].as_str().map(String::from))
                        .collect()
                })
            })
            .unwrap_or_default()
    }

    /// The answers so far, in the order of their routes.
    pub fn answers(&self) -> impl Iterator<Item = (&str, &Response)> {
        self.seen
            .iter()
            .filter_map(|(p, r)| r.as_ref().map(|r| (p.as_str(), r)))
    }

    /// Whether any request was answered.
    pub fn answered(&self) -> bool {
        self.answers().next().is_some()
    }
}

/// How the kind was decided.
#[derive(Debug, Clone, Default)]
pub struct Detection {
    pub kind: Option<ServerKind>,
    /// The server answered some request.
    pub reachable: bool,
    /// The network error when it did not.
    pub error: Option<String>,
    /// A llama-server (or other kind) still loading its model.
    pub loading: bool,
    /// One line per step, for `doctor -v`.
    pub trail: Vec<String>,
    /// For a server no fingerprint matched: what answered instead, in plain words.
    pub answered: Option<String>,
    /// Milliseconds to the first byte of the first answer.
    pub latency_ms: Option<u64>,
}

/// A short description of one response for the trail: `404, JSON, 70 bytes`.
pub fn describe_response(r: &Response) -> String {
    let what = if looks_html(r) {
        "HTML".to_string()
    } else if r.body.is_empty() {
        "empty body".to_string()
    } else if r.json().is_ok() {
        "JSON".to_string()
    } else {
        let t = r.text();
        let t = t.trim();
        let short: String = t.chars().take(40).collect();
        format!("text {short:?}")
    };
    format!("HTTP {}, {what}, {} bytes", r.status, r.body.len())
}

fn looks_html(r: &Response) -> bool {
    r.content_type
        .as_deref()
        .is_some_and(|c| c.contains("text/html"))
        || {
            let t = String::from_utf8_lossy(&r.body[..r.body.len().min(512)]).to_ascii_lowercase();
            let t = t.trim_start();
            t.starts_with("<!doctype html") || t.starts_with("<html")
        }
}

fn html_title(r: &Response) -> Option<String> {
    let t = r.text();
    let lower = t.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let end = open_end + lower[open_end..].find("</title")?;
    let title = t[open_end..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!title.is_empty()).then(|| title.chars().take(80).collect())
}

/// What answered when no fingerprint matched, in plain words.
pub fn what_answered(http: &Http) -> String {
    let answers: Vec<(&str, &Response)> = http.answers().collect();
    if let Some((path, r)) = answers.iter().find(|(_, r)| looks_html(r)) {
        return match html_title(r) {
            Some(t) => format!(
                "a web page titled {t:?} (HTML at GET {path}, HTTP {})",
                r.status
            ),
            None => format!("a web page (HTML at GET {path}, HTTP {})", r.status),
        };
    }
    if !answers.is_empty() && answers.iter().all(|(_, r)| r.status == 404) {
        return format!(
            "a server that answers 404 Not Found to every route cclocal asked ({})",
            answers
                .iter()
                .map(|(p, _)| *p)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some((path, r)) = answers.iter().find(|(_, r)| r.status >= 500) {
        return format!(
            "a server that fails with HTTP {} (GET {path}: {})",
            r.status,
            describe_response(r)
        );
    }
    if !answers.is_empty() && answers.iter().all(|(_, r)| r.body.is_empty()) {
        return format!(
            "a server that answers with empty bodies (HTTP {})",
            answers[0].1.status
        );
    }
    match answers.first() {
        Some((path, r)) => format!(
            "an unrecognised server (GET {path}: {})",
            describe_response(r)
        ),
        None => "nothing".into(),
    }
}

/// Decides the kind of the server behind `client`; `forced` (`--server KIND`) skips the
/// fingerprints but still checks that something answers.
pub fn detect(client: &Client, forced: Option<ServerKind>) -> Detection {
    let mut http = Http::new(client);
    detect_with(&mut http, forced)
}

/// [`detect`] over an existing [`Http`] (so a kind's probe can reuse the answers).
pub fn detect_with(http: &mut Http, forced: Option<ServerKind>) -> Detection {
    let mut d = Detection::default();
    let first = http.get("/").map(|r| r.first_byte.as_millis() as u64);
    d.latency_ms = first;
    if first.is_none() {
        let e = http.error.clone().unwrap_or_default();
        if e.starts_with("not an HTTP answer") {
            // Something listens and answers, in another protocol (ssh, a database, …).
            d.reachable = true;
            d.kind = Some(ServerKind::Unknown);
            let what = format!("something that does not speak HTTP ({e})");
            d.trail.push(format!("GET / → {what}"));
            d.answered = Some(what);
            return d;
        }
        d.error = http.error.clone();
        d.trail.push(format!(
            "GET / got no answer: {}",
            d.error.clone().unwrap_or_default()
        ));
        return d;
    }
    d.reachable = true;
    if let Some(k) = forced {
        d.kind = Some(k);
        d.trail.push(format!(
            "--server {}: the kind is given, detection skipped",
            k.name()
        ));
        // Naming a kind skips detection, not verification: what answers must still be an
        // LLM server. Its own fingerprint passing settles it (a llama-server can still be
        // loading); else, when no kind's fingerprint matches either, it is none.
        let own = KINDS
            .iter()
            .find(|i| i.kind == k)
            .and_then(|i| i.detect)
            .map(|fp| fp(http));
        match own {
            Some(Verdict::Loading(why)) => {
                d.loading = k == ServerKind::LlamaServer;
                d.trail.push(why);
            }
            Some(Verdict::No(why)) => {
                d.trail.push(format!("not {}: {why}", k.label()));
                let found = detect_with(http, None);
                // A web page, or 404 for every route, is no server of any kind; a 401, an
                // empty body or a 500 can be the named server behind a token or failing,
                // which its own probe reports.
                let none = {
                    let answers: Vec<&Response> = http.answers().map(|(_, r)| r).collect();
                    answers.iter().any(|r| looks_html(r))
                        || (!answers.is_empty() && answers.iter().all(|r| r.status == 404))
                };
                if found.kind == Some(ServerKind::Unknown) && none {
                    let what = found.answered.unwrap_or_default();
                    d.trail.push(format!(
                        "no fingerprint matched; --server {} names the kind, but what answered is {what}",
                        k.name()
                    ));
                    d.kind = Some(ServerKind::Unknown);
                    d.answered = Some(what);
                }
            }
            Some(Verdict::Match(why)) => d.trail.push(why),
            None => {}
        }
        return d;
    }
    for info in KINDS {
        let Some(fp) = info.detect else { continue };
        match fp(http) {
            Verdict::Match(why) => {
                d.trail.push(format!("{}: {why}", info.label));
                d.kind = Some(info.kind);
                return d;
            }
            Verdict::Loading(why) => {
                d.trail.push(format!("{}: {why}", info.label));
                d.kind = Some(info.kind);
                d.loading = true;
                return d;
            }
            Verdict::No(why) => d.trail.push(format!("not {}: {why}", info.label)),
        }
        if http.error.is_some() && !http.answered() {
            break;
        }
    }
    d.kind = Some(ServerKind::Unknown);
    let what = what_answered(http);
    d.trail
        .push(format!("no fingerprint matched; what answered: {what}"));
    d.answered = Some(what);
    d
}

/// The trail text for one route: `GET /props → HTTP 404, JSON, 70 bytes`.
pub fn saw(http: &mut Http, path: &str) -> String {
    match http.get(path) {
        Some(r) => format!("GET {path} → {}", describe_response(r)),
        None => format!("GET {path} → no answer"),
    }
}
