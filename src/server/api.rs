//! The few Ollama API calls setup makes, through the doctor's client (`crate::server::http::Client`,
//! plain http, one deadline per call).

use crate::error::{Error, Result};
use crate::server::http::Client;
use serde_json::{json, Map, Value};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Setup's total time for asking the server (listing, describing a model), like the
/// doctor's budget: every probe after [`share_budget`] ends by the same deadline, so a
/// slow server costs setup this much in all, not this much per question.
pub const SETUP_NET_BUDGET: Duration = Duration::from_secs(3);

static SHARED_DEADLINE: Mutex<Option<Instant>> = Mutex::new(None);

/// Starts the shared deadline: `budget` from now, for every later [`list_models`] and
/// [`show`] of this process (preloading a model is not a probe and keeps its own time).
pub fn share_budget(budget: Duration) {
    *SHARED_DEADLINE.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now() + budget);
}

/// A client for one probe: `budget` from now, but never past the shared deadline.
fn probe_client(base: &str, budget: Duration) -> Result<Client> {
    let own = Instant::now() + budget;
    let shared = *SHARED_DEADLINE.lock().unwrap_or_else(|e| e.into_inner());
    let deadline = shared.map_or(own, |s| s.min(own));
    Ok(Client::with_deadline(
        crate::server::ServerUrl::parse_for(base, None)?,
        deadline,
    ))
}

/// Model names from `GET /api/tags`, with their sizes in bytes.
pub fn list_models(base: &str, budget: Duration) -> Result<Vec<(String, u64)>> {
    let r = probe_client(base, budget)?.get("/api/tags")?;
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
                .take(crate::server::MAX_MODELS)
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
    let r = probe_client(base, budget)?.post_json("/api/show", &json!({ "model": model }))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_share_one_deadline() {
        // A server that accepts and never answers.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        let hold = std::thread::spawn(move || {
            let mut conns = Vec::new();
            for _ in 0..3 {
                if let Ok((s, _)) = l.accept() {
                    conns.push(s);
                }
            }
            std::thread::sleep(Duration::from_secs(2));
        });
        share_budget(Duration::from_millis(300));
        // Each asks for seconds; the first spends the shared 300 ms, the others find it spent.
        assert!(list_models(&base, Duration::from_secs(5)).is_err());
        let e = show(&base, "m", Duration::from_secs(5)).unwrap_err();
        assert!(e.message.contains("budget is spent"), "{e}");
        let e = list_models(&base, Duration::from_secs(5)).unwrap_err();
        assert!(e.message.contains("budget is spent"), "{e}");
        *SHARED_DEADLINE.lock().unwrap() = None;
        drop(hold);
    }
}
