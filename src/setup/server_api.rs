//! The few Ollama API calls setup makes, through the doctor's client (`crate::ollama::Client`,
//! plain http, one deadline per call).

use crate::error::{Error, Result};
use crate::ollama::Client;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// Model names from `GET /api/tags`, with their sizes in bytes.
pub fn list_models(base: &str, budget: Duration) -> Result<Vec<(String, u64)>> {
    let r = Client::new(base, budget)?.get("/api/tags")?;
    if !r.is_success() {
        return Err(Error::new(
            crate::error::ErrorKind::Network,
            format!("/api/tags answered HTTP {}", r.status),
        )
        .with_subject(base.to_string()));
    }
    let v = r.json()?;
    Ok(v["models"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| {
                    let name = m["name"].as_str().or(m["model"].as_str())?;
                    Some((name.to_string(), m["size"].as_u64().unwrap_or(0)))
                })
                .collect()
        })
        .unwrap_or_default())
}

/// What `/api/show` says about a model.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    pub model_info: Map<String, Value>,
    /// `num_ctx` from the Modelfile parameters (it overrides `OLLAMA_CONTEXT_LENGTH`).
    pub num_ctx: Option<u64>,
}

/// `POST /api/show` for `model`.
pub fn show(base: &str, model: &str, budget: Duration) -> Result<Shown> {
    let r = Client::new(base, budget)?.post_json("/api/show", &json!({ "model": model }))?;
    if !r.is_success() {
        return Err(Error::not_found(format!(
            "the server does not have model {model:?} (HTTP {})",
            r.status
        ))
        .with_subject(base.to_string())
        .with_hint(format!("pull it first: ollama pull {model}")));
    }
    let v = r.json()?;
    let num_ctx = v["parameters"].as_str().and_then(|p| {
        p.lines().find_map(|l| {
            let mut it = l.split_whitespace();
            (it.next() == Some("num_ctx")).then(|| it.next()?.trim_matches('"').parse().ok())?
        })
    });
    Ok(Shown {
        model_info: v["model_info"].as_object().cloned().unwrap_or_default(),
        num_ctx,
    })
}

/// Loads `model` and keeps it loaded for `keep_alive` (`POST /api/generate` without a
/// prompt only loads).
pub fn warm(base: &str, model: &str, keep_alive: &str, budget: Duration) -> Result<()> {
    let body = json!({ "model": model, "keep_alive": keep_alive, "stream": false });
    let r = Client::new(base, budget)?.post_json("/api/generate", &body)?;
    if !r.is_success() {
        return Err(Error::new(
            crate::error::ErrorKind::Network,
            format!("preloading failed: HTTP {}: {}", r.status, r.text().trim()),
        )
        .with_subject(format!("{base}/api/generate")));
    }
    Ok(())
}
