//! Ollama (https://github.com/ollama/ollama, `docs/api.md`): identified by `GET /` answering
//! exactly `Ollama is running`, confirmed by `GET /api/version`. Its live facts come from
//! `/api/version`, `/api/tags`, `/api/ps` and `/api/show`, through `crate::server::http::Client`.

/// Its server log's lines (`log::detect`, the `time=` and `[GIN]` lines).
pub mod log;
/// How `cclocal setup` runs this kind (its serve line, start script or service file) and
/// the doctor's restart fix.
pub mod serve;

use super::detect::{saw, Http, Verdict};
use super::{same_model, InstalledModel, LoadedModel, Presence, ServerKind, ServerProbe};
use crate::server::http::{Client, Response};
use serde_json::{json, Value};

/// A model name that cannot exist, to see whether `/v1/messages` is routed.
pub const PROBE_MODEL: &str = "cclocal-probe-nonexistent:latest";

pub fn fingerprint(http: &mut Http) -> Verdict {
    let is_ollama = http
        .get("/")
        .is_some_and(|r| r.is_success() && r.text().trim() == "Ollama is running");
    if !is_ollama {
        // Behind a proxy that forwards only the API, GET / may not reach Ollama; its
        // version route and model list still do. (llama-server's Ollama shim serves
        // /api/tags but not /api/version.)
        let version = http
            .json("/api/version")
            .and_then(|v| v["version"].as_str().map(String::from));
        if let Some(v) = version {
            if http
                .json("/api/tags")
                .is_some_and(|t| t["models"].is_array())
            {
                return Verdict::Match(format!(
                    "{}, but GET /api/version says {v} and GET /api/tags lists models as Ollama does (a proxy in front of Ollama?)",
                    saw(http, "/")
                ));
            }
        }
        return Verdict::No(saw(http, "/"));
    }
    match http
        .json("/api/version")
        .and_then(|v| v["version"].as_str().map(String::from))
    {
        Some(v) => Verdict::Match(format!(
            "GET / says \"Ollama is running\", GET /api/version says {v}"
        )),
        None => Verdict::Match("GET / says \"Ollama is running\"".into()),
    }
}

fn is_not_found_json(r: &Response) -> bool {
    r.status == 404 && r.json().is_ok()
}

/// Whether `POST /v1/messages` is routed: a JSON answer (even 404 model-not-found) is;
/// Go's plain `404 page not found` is not.
pub fn messages_api(client: &Client) -> Option<bool> {
    let probe = json!({"model": PROBE_MODEL, "max_tokens": 1, "messages": [{"role": "user", "content": "."}]});
    client
        .post_json("/v1/messages", &probe)
        .ok()
        .map(|r| r.status != 404 || is_not_found_json(&r))
}

/// Probes an Ollama server; `names` are the models to look for, `main` the one to describe.
pub fn probe(client: &Client, names: &[String], main: Option<&str>) -> ServerProbe {
    let mut p = ServerProbe {
        kind: Some(ServerKind::Ollama),
        ..Default::default()
    };
    let v = match client.get("/api/version") {
        Ok(r) => r,
        Err(e) => {
            p.error = Some(e.message);
            return p;
        }
    };
    p.reachable = true;
    p.latency_ms = Some(v.first_byte.as_millis() as u64);
    if v.is_success() {
        p.version = v
            .json()
            .ok()
            .and_then(|j| j.get("version").and_then(Value::as_str).map(String::from));
    }
    if let Ok(r) = client.get("/api/tags") {
        if let Ok(j) = r.json() {
            p.installed = j["models"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|m| InstalledModel {
                            name: m["name"].as_str().unwrap_or("").to_string(),
                            size: m["size"].as_u64().unwrap_or(0),
                            family: m["details"]["family"].as_str().unwrap_or("").to_string(),
                            parameter_size: m["details"]["parameter_size"]
                                .as_str()
                                .unwrap_or("")
                                .to_string(),
                            quantization_level: m["details"]["quantization_level"]
                                .as_str()
                                .unwrap_or("")
                                .to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
        }
    }
    if let Ok(r) = client.get("/api/ps") {
        if let Ok(j) = r.json() {
            p.loaded = j["models"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|m| LoadedModel {
                            name: m["name"].as_str().unwrap_or("").to_string(),
                            size: m["size"].as_u64().unwrap_or(0),
                            size_vram: m["size_vram"].as_u64().unwrap_or(0),
                            context_length: m["context_length"].as_u64(),
                            expires_at: m["expires_at"].as_str().unwrap_or("").to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
        }
    }
    p.messages_api = messages_api(client);
    for name in names {
        if p.presence.contains_key(name) {
            continue;
        }
        let presence = if p.installed.iter().any(|m| same_model(&m.name, name)) {
            Presence::Present
        } else {
            exists(client, name, p.messages_api == Some(true))
        };
        p.presence.insert(name.clone(), presence);
    }
    if let Some(m) = main {
        if let Ok(r) = client.post_json("/api/show", &json!({"model": m})) {
            if r.is_success() {
                if let Ok(j) = r.json() {
                    p.model_info = j.get("model_info").and_then(Value::as_object).cloned();
                    p.parameters = j
                        .get("parameters")
                        .and_then(Value::as_str)
                        .map(String::from);
                }
            }
        }
    }
    p
}

/// Whether `name` is served: `/api/show` (free), else a `max_tokens: 1` message.
fn exists(client: &Client, name: &str, messages_api: bool) -> Presence {
    match client.post_json("/api/show", &json!({"model": name})) {
        Ok(r) if r.is_success() => return Presence::Present,
        Ok(r) if is_not_found_json(&r) => return Presence::Missing,
        Ok(_) | Err(_) => {}
    }
    if !messages_api {
        return Presence::Unknown;
    }
    let body =
        json!({"model": name, "max_tokens": 1, "messages": [{"role": "user", "content": "."}]});
    match client.post_json("/v1/messages", &body) {
        Ok(r) if r.is_success() => Presence::Present,
        Ok(r) if is_not_found_json(&r) => Presence::Missing,
        _ => Presence::Unknown,
    }
}

/// `num_ctx` from `/api/show` `parameters` (`num_ctx                        65536`).
pub fn num_ctx_parameter(parameters: &str) -> Option<u64> {
    parameters.lines().find_map(|l| {
        let mut it = l.split_whitespace();
        (it.next() == Some("num_ctx")).then(|| it.next()?.trim_matches('"').parse().ok())?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn num_ctx() {
        assert_eq!(
            num_ctx_parameter("temperature 0.7\nnum_ctx                        65536"),
            Some(65_536)
        );
        assert_eq!(num_ctx_parameter("temperature 0.7"), None);
    }
}
