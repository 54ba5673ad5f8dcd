//! The server, through its API only: version, installed and loaded models, whether
//! `/v1/messages` exists, and whether the models Claude Code will call exist. Every
//! request costs the server nothing (metadata routes, or a 404 for an unknown model).

use crate::doctor::facts::{InstalledModel, LoadedModel, Presence};
use crate::ollama::{parse_name, Client};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A model name that cannot exist, to see whether `/v1/messages` is routed.
pub const PROBE_MODEL: &str = "cclocal-probe-nonexistent:latest";

/// What the server probe found (merged into the facts later).
#[derive(Debug, Clone, Default)]
pub struct ServerProbe {
    pub reachable: bool,
    pub error: Option<String>,
    pub version: Option<String>,
    pub latency_ms: Option<u64>,
    pub installed: Vec<InstalledModel>,
    pub loaded: Vec<LoadedModel>,
    pub messages_api: Option<bool>,
    pub presence: BTreeMap<String, Presence>,
    /// `/api/show` of the main model: `model_info` and `parameters`.
    pub model_info: Option<Map<String, Value>>,
    pub parameters: Option<String>,
}

/// `qwen3` and `QWEN3:latest` are the same model to Ollama.
pub fn same_model(a: &str, b: &str) -> bool {
    match (parse_name(a), parse_name(b)) {
        (Some(x), Some(y)) => x.display().eq_ignore_ascii_case(&y.display()),
        _ => a.eq_ignore_ascii_case(b),
    }
}

fn is_not_found_json(r: &crate::ollama::Response) -> bool {
    r.status == 404 && r.json().is_ok()
}

/// Probes `client`'s server; `names` are the models to look for, `main` the one to describe.
pub fn probe_server(client: &Client, names: &[String], main: Option<&str>) -> ServerProbe {
    let mut p = ServerProbe::default();
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
    let probe = json!({"model": PROBE_MODEL, "max_tokens": 1, "messages": [{"role": "user", "content": "."}]});
    if let Ok(r) = client.post_json("/v1/messages", &probe) {
        p.messages_api = Some(r.status != 404 || is_not_found_json(&r));
    }
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
    fn helpers() {
        assert!(same_model("qwen3-coder-next", "qwen3-coder-next:latest"));
        assert!(same_model("Qwen3:8B", "qwen3:8b"));
        assert!(!same_model("qwen3:8b", "qwen3:4b"));
        assert_eq!(
            num_ctx_parameter("temperature 0.7\nnum_ctx                        65536"),
            Some(65_536)
        );
        assert_eq!(num_ctx_parameter("temperature 0.7"), None);
    }
}
