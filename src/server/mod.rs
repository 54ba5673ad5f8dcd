//! Everything about talking to an LLM server, in one place:
//!
//! * [`ServerUrl`]: the one parser of server addresses (every command's `--host`,
//!   `ANTHROPIC_BASE_URL`, `OLLAMA_HOST`).
//! * [`ServerKind`] and [`KINDS`]: the servers cclocal knows, their default ports and
//!   their fingerprints (docs/servers.md).
//! * [`detect()`]: which kind answers at a URL, from its own responses, with a trail of how
//!   it was decided and, for something that is not an LLM server, what answered instead.
//! * [`probe()`]: the live facts of a server ([`ServerProbe`]), dispatched to the kind's
//!   own module (`ollama`, `llama_server`, …).
//! * [`same_model`]: the one model-name matcher.
//! * [`logline`]: what a server's log line says, and which server wrote a log (a row per
//!   kind in [`logline::KIND_LOGS`]); each kind reads its lines in `<kind>::log`.
//!
//! * [`serve`]: what every kind's serve generator takes ([`serve::ServeSettings`]); each
//!   kind's serve line, start script or service file and restart fix are in
//!   `<kind>::serve`.
//!
//! Adding a kind: a module with its `fingerprint` and `probe` (and, for a kind setup
//! configures, its `serve` part), one row in [`KINDS`], one variant of [`ServerKind`]
//! (docs/architecture.md "Adding a server kind").

pub mod api;
pub mod backend;

pub mod detect;
pub mod gates;
pub mod http;
mod kind;
pub mod llama_server;
pub mod lmstudio;
pub mod logline;
pub mod mlx_lm;
pub mod model_folder;
mod names;
pub mod ollama;
pub mod omlx;
pub mod process;
pub mod resolve;
pub mod serve;
pub mod tool_parsers;
mod url;
pub mod vllm;
pub mod vllm_mlx;

pub use detect::{detect, Detection};
pub use kind::{Fingerprint, KindInfo, Probe, ProbeCall, ServerKind, KINDS};
pub use names::{find_model, same_model};
pub use url::{is_https_refusal, is_local_host, ServerUrl};

use crate::server::http::{Client, TIMED_OUT_ANSWER};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Models kept of a server's lists (installed, loaded, a router's); the rest are dropped.
pub const MAX_MODELS: usize = 10_000;

/// A model the server lists (`/api/tags`, `/v1/models`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct InstalledModel {
    pub name: String,
    pub size: u64,
    pub family: String,
    pub parameter_size: String,
    pub quantization_level: String,
}

/// A loaded model (`/api/ps`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LoadedModel {
    pub name: String,
    pub size: u64,
    pub size_vram: u64,
    pub context_length: Option<u64>,
    pub expires_at: String,
}

/// Whether a model name is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Present,
    Missing,
    Unknown,
}

/// What probing a server found: plain data for the doctor's facts.
#[derive(Debug, Clone, Default)]
pub struct ServerProbe {
    /// The kind (from `--server` or detection); `None` when nothing answered.
    pub kind: Option<ServerKind>,
    /// How the kind was decided (one line per step).
    pub detection: Vec<String>,
    /// For an unknown kind: what answered instead.
    pub answered: Option<String>,
    /// The server is still loading its model (llama-server's 503 `Loading model`).
    pub loading: bool,
    pub reachable: bool,
    pub error: Option<String>,
    pub version: Option<String>,
    pub latency_ms: Option<u64>,
    pub installed: Vec<InstalledModel>,
    pub loaded: Vec<LoadedModel>,
    pub messages_api: Option<bool>,
    pub presence: BTreeMap<String, Presence>,
    /// Ollama's `/api/show` of the main model: `model_info` and `parameters`.
    pub model_info: Option<Map<String, Value>>,
    pub parameters: Option<String>,
    /// llama-server's live facts (`/props`, `/slots`, `/v1/models`).
    pub llama: Option<llama_server::LlamaFacts>,
    /// LM Studio's, vLLM's and the MLX servers' models and contexts.
    pub backend: Option<backend::BackendFacts>,
    /// How a llama-server on this machine was started (`/proc`).
    pub llama_command: Option<llama_server::LlamaCommand>,
    /// The context one Claude Code session gets from the main model, as the server reports
    /// it now (Ollama `/api/ps`, llama-server's per-slot `n_ctx`).
    pub served_context: Option<u64>,
    /// Where `served_context` comes from (`live` when the server reports it).
    pub served_context_source: Option<&'static str>,
    /// The KV cache type, when the server says or its command line does.
    pub kv_type: Option<String>,
    /// Flash attention (`on`, `off`, `auto`), when known.
    pub flash_attn: Option<String>,
}

/// Detects the kind of the server behind `client` (unless `forced`) and gathers its live
/// facts; `names` are the models Claude Code will call, `main` the one to describe. Every
/// request shares `client`'s deadline.
pub fn probe(
    client: &Client,
    forced: Option<ServerKind>,
    names: &[String],
    main: Option<&str>,
) -> ServerProbe {
    let mut http = detect::Http::new(client);
    let d = detect::detect_with(&mut http, forced);
    let mut p = match d.kind {
        None => ServerProbe {
            error: d.error.clone(),
            ..Default::default()
        },
        // The kind's own probe, from its row of KINDS.
        Some(k) => match k.info().probe {
            Some(probe) => probe(kind::ProbeCall {
                http: &mut http,
                client,
                names,
                main,
                loading: d.loading,
            }),
            None => generic(&mut http, client, k),
        },
    };
    if p.served_context.is_none() {
        if let Some(c) = main.and_then(|m| {
            p.loaded
                .iter()
                .find(|l| same_model(&l.name, m))
                .and_then(|l| l.context_length)
        }) {
            p.served_context = Some(c);
            p.served_context_source = Some("live");
        }
    }
    if p.served_context.is_none() {
        // LM Studio, vLLM, oMLX: the model a request for `main` reaches (else the one loaded).
        if let Some(b) = &p.backend {
            let loaded: Vec<&backend::BackendModel> = b.loaded().collect();
            let m = main
                .and_then(|n| b.find(n))
                .or_else(|| (loaded.len() == 1).then(|| loaded[0]));
            if let Some(c) = m.filter(|m| m.loaded).and_then(|m| m.context) {
                p.served_context = Some(c);
                p.served_context_source = Some("live");
            }
        }
    }
    // Bounded: a server that lists a million models costs a few MB, not hundreds (every list
    // printed from these is cut again to a few names, `crate::units::list_some`).
    p.installed.truncate(MAX_MODELS);
    p.loaded.truncate(MAX_MODELS);
    if let Some(b) = &mut p.backend {
        b.models.truncate(MAX_MODELS);
    }
    if let Some(l) = &mut p.llama {
        l.router_models.truncate(MAX_MODELS);
    }
    p.kind = d.kind;
    p.detection = d.trail;
    p.answered = d.answered;
    p.loading |= d.loading;
    if p.kind.is_some() {
        p.reachable = true;
        p.latency_ms = p.latency_ms.or(d.latency_ms);
    }
    p
}

/// The facts every OpenAI-style server gives: its `/v1/models` ids, and whether
/// `POST /v1/messages` answers like an API (JSON) rather than a missing route.
fn generic(http: &mut detect::Http, client: &Client, kind: ServerKind) -> ServerProbe {
    let installed = http
        .json("/v1/models")
        .and_then(|v| {
            v["data"].as_array().map(|a| {
                a.iter()
                    .filter_map(|m| m["id"].as_str())
                    .map(|id| InstalledModel {
                        name: id.to_string(),
                        ..Default::default()
                    })
                    .collect()
            })
        })
        .unwrap_or_default();
    ServerProbe {
        kind: Some(kind),
        reachable: true,
        installed,
        messages_api: messages_route(client),
        ..Default::default()
    }
}

/// Whether `POST /v1/messages` is an API route here: any JSON answer (even an error about
/// the model) is; a plain 404 page, HTML, an empty body, or FastAPI's own 404
/// `{"detail":"Not Found"}` for a route it does not have (vLLM, vllm-mlx, oMLX) is not.
pub fn messages_route(client: &Client) -> Option<bool> {
    let probe = json!({"model": ollama::PROBE_MODEL, "max_tokens": 1, "messages": [{"role": "user", "content": "."}]});
    client.post_json("/v1/messages", &probe).ok().map(|r| {
        let fastapi_missing = r.status == 404
            && r.json()
                .is_ok_and(|v| v.get("detail").and_then(Value::as_str) == Some("Not Found"));
        r.json().is_ok() && r.status != 405 && !fastapi_missing
    })
}

/// The model a running server serves, for `cclocal plan --host URL` (and setup): its name,
/// the context one session gets, and the local GGUF file when the server runs here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServedModel {
    pub kind: ServerKind,
    pub url: String,
    /// The name to plan for (llama-server: its alias or `-m` path; Ollama: the model).
    pub name: String,
    /// The GGUF on this machine (llama-server `/props` `model_path`, or Ollama's store).
    pub gguf_path: Option<std::path::PathBuf>,
    /// The context one Claude Code session gets now (per slot; Ollama's `/api/ps`).
    pub context: Option<u64>,
    pub slots: Option<u64>,
    pub trained_context: Option<u64>,
    /// `gguf` or `mlx`, where the server says (LM Studio).
    pub format: Option<String>,
    /// What the server loaded the model from (vLLM's `/v1/models` `root`: a folder or a
    /// Hugging Face repo id), when it differs from the name.
    pub model_path: Option<String>,
}

/// How long [`check_answers`] waits for a server's first answer.
pub const ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// `Ok` unless the server at `host` accepts a connection and then answers nothing within
/// `budget` (a hung or overloaded server, or a port some other program holds open): then
/// an error that says it timed out, before a caller would read the silence as "no such
/// model". A refused connection is `Ok`: callers say what that means for them.
pub fn check_answers(
    host: &str,
    kind: Option<ServerKind>,
    budget: std::time::Duration,
) -> crate::error::Result<()> {
    let url = ServerUrl::parse_for(host, kind)?.reachable();
    let client = Client::with_deadline(url.clone(), std::time::Instant::now() + budget);
    match client.get("/") {
        Err(e) if e.message.starts_with(TIMED_OUT_ANSWER) => Err(crate::error::Error::new(
            crate::error::ErrorKind::Network,
            format!(
                "the server timed out: it accepted the connection but sent no answer within {} s",
                budget.as_secs_f64()
            ),
        )
        .with_subject(url.to_url())
        .with_hint(
            "check that this is the server's address and that it is not stuck (still loading \
             a model, swapping, or another program holding the port), then run this again",
        )),
        _ => Ok(()),
    }
}

/// Asks the server at `host` what it serves. `model` picks one where several are served
/// (Ollama, llama-server's router mode); with one loaded model it may be `None`.
pub fn served_model(
    host: &str,
    kind: Option<ServerKind>,
    model: Option<&str>,
    budget: std::time::Duration,
) -> crate::error::Result<ServedModel> {
    use crate::error::Error;
    let url = ServerUrl::parse_for(host, kind)?.reachable();
    let client = Client::with_deadline(url.clone(), std::time::Instant::now() + budget);
    let names: Vec<String> = model.map(String::from).into_iter().collect();
    let p = probe(&client, kind, &names, model);
    let subject = url.to_url();
    if !p.reachable {
        return Err(crate::error::Error::new(
            crate::error::ErrorKind::Network,
            format!("no answer: {}", p.error.unwrap_or_default()),
        )
        .with_subject(subject));
    }
    let local = url.is_local();
    let k = p.kind.unwrap_or(ServerKind::Unknown);
    let mut out = ServedModel {
        kind: k,
        url: subject.clone(),
        name: String::new(),
        gguf_path: None,
        context: None,
        slots: None,
        trained_context: None,
        format: None,
        model_path: None,
    };
    match k {
        ServerKind::LlamaServer if p.loading => {
            return Err(Error::new(
                crate::error::ErrorKind::Network,
                "llama-server is still loading its model",
            )
            .with_subject(subject)
            .with_hint("wait until GET /health answers {\"status\":\"ok\"}, then run this again"))
        }
        ServerKind::LlamaServer => {
            let l = p.llama.unwrap_or_default();
            if l.router {
                let want = model.ok_or_else(|| {
                    Error::usage("llama-server runs in router mode (several models): name one")
                        .with_subject(subject.clone())
                        .with_hint(format!(
                            "pass the model, one of: {}",
                            crate::units::list_some(
                                &l.router_models
                                    .iter()
                                    .map(|(m, _)| m.as_str())
                                    .collect::<Vec<_>>()
                            )
                        ))
                })?;
                out.name = find_model(l.router_models.iter().map(|(m, _)| m.as_str()), want)
                    .ok_or_else(|| {
                        Error::not_found(format!("the router has no model {want:?}"))
                            .with_subject(subject.clone())
                    })?
                    .to_string();
            } else {
                out.name = l
                    .model_alias
                    .clone()
                    .or_else(|| l.model_path.clone())
                    .unwrap_or_default();
                out.gguf_path = l
                    .model_path
                    .as_ref()
                    .map(std::path::PathBuf::from)
                    .filter(|p| local && p.is_file());
                out.context = l.slot_context;
                out.slots = l.total_slots;
            }
            out.trained_context = l.trained_context;
        }
        ServerKind::Ollama => {
            let name = match model {
                Some(m) => m.to_string(),
                None if p.loaded.len() == 1 => p.loaded[0].name.clone(),
                None => {
                    return Err(
                        Error::usage("name the model to plan for: Ollama serves several")
                            .with_subject(subject)
                            .with_hint(format!(
                                "installed: {}",
                                crate::units::list_some(
                                    &p.installed
                                        .iter()
                                        .map(|m| m.name.as_str())
                                        .collect::<Vec<_>>()
                                )
                            )),
                    )
                }
            };
            out.context = p
                .loaded
                .iter()
                .find(|l| same_model(&l.name, &name))
                .and_then(|l| l.context_length);
            if local {
                out.gguf_path = crate::ollama::models_dir()
                    .and_then(|d| crate::ollama::resolve_name(&d, &name).ok())
                    .map(|m| m.blob);
            }
            out.name = name;
        }
        other if p.backend.is_some() => {
            let b = p.backend.unwrap_or_default();
            let loaded: Vec<&backend::BackendModel> = b.loaded().collect();
            let m = match model {
                Some(want) => b.find(want).ok_or_else(|| {
                    Error::not_found(format!("{} has no model {want:?}", other.label()))
                        .with_subject(subject.clone())
                        .with_hint(format!(
                            "it has: {}",
                            crate::units::list_some(
                                &b.models.iter().map(|m| m.id.as_str()).collect::<Vec<_>>()
                            )
                        ))
                })?,
                None if loaded.len() == 1 => loaded[0],
                None => {
                    return Err(Error::usage(format!(
                        "name the model to plan for: {} has {} loaded",
                        other.label(),
                        loaded.len()
                    ))
                    .with_subject(subject))
                }
            };
            out.name = m.id.clone();
            out.context = m.context.filter(|_| m.loaded);
            out.trained_context = m.trained_context;
            out.format = m.format.clone();
            out.model_path = m.path.clone();
            if other == ServerKind::LmStudio && local {
                out.gguf_path = crate::paths::home_dir()
                    .and_then(|h| lmstudio::local_gguf(m, &lmstudio::models_dir(&h)));
            }
        }
        other => {
            return Err(Error::unsupported(format!(
                "planning from a running {} is not supported yet",
                other.label()
            ))
            .with_subject(subject)
            .with_hint("pass the model's .gguf path instead"))
        }
    }
    Ok(out)
}
