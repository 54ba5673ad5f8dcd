//! The live server context for `context_mismatch`, from any kind of server through the
//! server layer; for Ollama, `/api/ps` lists the loaded models with their `context_length`
//! (`docs/ollama.md`, "HTTP API"). The choice of model is pure and tested on JSON; the
//! fetches have a deadline.

use std::time::Duration;

use serde_json::Value;

use super::model::{Analysis, SourceKind};
use crate::findings::{Finding, Severity};

/// What the server said about the log's model.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveContext {
    /// `context_length` of the loaded model named `model`.
    Loaded { model: String, context: u64 },
    /// The model is not loaded (Ollama loads on first use, at the context it is asked for).
    NotLoaded {
        model: Option<String>,
        loaded: Vec<String>,
    },
    /// No answer, or not Ollama's shape.
    Unreachable { url: String, reason: String },
}

/// The model the log's main thread used most (or the one the autocompact warning named).
pub fn main_model(a: &Analysis) -> Option<String> {
    let mut counts: Vec<(&str, u64)> = Vec::new();
    for r in a.requests.iter().filter(|r| r.kind == SourceKind::Main) {
        if let Some(m) = r.model.as_deref() {
            match counts.iter_mut().find(|(n, _)| *n == m) {
                Some(c) => c.1 += 1,
                None => counts.push((m, 1)),
            }
        }
    }
    let best = counts
        .iter()
        .max_by_key(|(_, n)| *n)
        .map(|(m, _)| m.to_string());
    best.or_else(|| a.summary.unknown_model.as_deref().map(str::to_string))
}

/// Picks `model`'s context from an `/api/ps` reply. With no model known and exactly one
/// model loaded, that one is taken.
pub fn pick(ps: &Value, model: Option<&str>) -> LiveContext {
    let rows: Vec<(String, Option<u64>)> = ps["models"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    let name = m["name"].as_str().or(m["model"].as_str()).unwrap_or("");
                    (name.to_string(), m["context_length"].as_u64())
                })
                .collect()
        })
        .unwrap_or_default();
    let hit = match model {
        Some(want) => rows
            .iter()
            .find(|(n, _)| crate::server::same_model(n, want)),
        None if rows.len() == 1 => rows.first(),
        None => None,
    };
    match hit {
        Some((name, Some(ctx))) => LiveContext::Loaded {
            model: name.clone(),
            context: *ctx,
        },
        _ => LiveContext::NotLoaded {
            model: model.map(str::to_string),
            loaded: rows.into_iter().map(|(n, _)| n).collect(),
        },
    }
}

/// Asks the server at `base_url` (already normalised) within `budget`, whatever its kind,
/// through the server layer (`crate::server::served_model`): llama-server's per-slot
/// context, LM Studio's and vLLM's loaded context; Ollama's `/api/ps` (which also lists
/// the loaded models when the log's one is not among them).
pub fn fetch(base_url: &str, model: Option<&str>, budget: Duration) -> LiveContext {
    use crate::server::ServerKind;
    match crate::server::served_model(base_url, None, model, budget) {
        Ok(sm) if sm.kind != ServerKind::Ollama => match sm.context {
            Some(context) => LiveContext::Loaded {
                model: sm.name,
                context,
            },
            None => LiveContext::NotLoaded {
                model: model.map(str::to_string),
                loaded: vec![],
            },
        },
        Err(e) if e.kind == crate::error::ErrorKind::Network => LiveContext::Unreachable {
            url: base_url.to_string(),
            reason: e.message,
        },
        // Ollama, or a model the server layer could not pick: Ollama's list of loaded models.
        _ => fetch_ollama(base_url, model, budget),
    }
}

/// Ollama's `/api/ps`.
fn fetch_ollama(base_url: &str, model: Option<&str>, budget: Duration) -> LiveContext {
    let unreachable = |reason: String| LiveContext::Unreachable {
        url: base_url.to_string(),
        reason,
    };
    let client = match crate::server::http::Client::new(base_url, budget) {
        Ok(c) => c,
        Err(e) => return unreachable(e.message),
    };
    match client.get("/api/ps") {
        Ok(r) if r.is_success() => match r.json() {
            Ok(v) => pick(&v, model),
            Err(e) => unreachable(e.message),
        },
        Ok(r) => unreachable(format!("GET /api/ps answered {}", r.status)),
        Err(e) => unreachable(e.message),
    }
}

/// A finding when the live context could not be used (none when it could).
pub fn finding(live: &LiveContext) -> Option<Finding> {
    match live {
        LiveContext::Loaded { .. } => None,
        LiveContext::NotLoaded { model, loaded } => Some(
            Finding::of(
                "context_unknown",
                format!(
                    "{} is not loaded on the server; its live context is unknown",
                    model.as_deref().unwrap_or("the log's model")
                ),
            )
            .detail(format!(
                "loaded now: {}",
                if loaded.is_empty() {
                    "none".into()
                } else {
                    crate::units::list_some(loaded)
                }
            ))
            .fix("run the model once, or pass --server-ctx N"),
        ),
        LiveContext::Unreachable { url, reason } => Some(
            Finding::graded(
                "server_unreachable",
                Severity::Warning,
                format!("no answer from {url}"),
            )
            .detail(reason.clone())
            .fix("check --host, or pass --server-ctx N"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn picks_the_log_model() {
        let ps = json!({"models": [
            {"name": "qwen3-coder:30b", "model": "qwen3-coder:30b", "context_length": 16384},
            {"name": "llama3.2:latest", "model": "llama3.2:latest", "context_length": 4096}
        ]});
        assert_eq!(
            pick(&ps, Some("qwen3-coder:30b")),
            LiveContext::Loaded {
                model: "qwen3-coder:30b".into(),
                context: 16384
            }
        );
        assert_eq!(
            pick(&ps, Some("LLAMA3.2")),
            LiveContext::Loaded {
                model: "llama3.2:latest".into(),
                context: 4096
            }
        );
        assert!(matches!(
            pick(&ps, Some("gemma3")),
            LiveContext::NotLoaded { .. }
        ));
        assert!(matches!(pick(&ps, None), LiveContext::NotLoaded { .. }));
        let one = json!({"models": [{"name": "a:1b", "context_length": 8192}]});
        assert_eq!(
            pick(&one, None),
            LiveContext::Loaded {
                model: "a:1b".into(),
                context: 8192
            }
        );
        assert!(matches!(
            pick(&json!({}), Some("a")),
            LiveContext::NotLoaded { .. }
        ));
    }
}
