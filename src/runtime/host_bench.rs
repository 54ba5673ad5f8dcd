//! `cclocal bench --host URL`: prefill and decode speed of the live server, measured through
//! its own API (docs/bench.md, "Benchmarking your server").
//!
//! Each kind is asked in the way that gives the most honest figures:
//! * llama-server: `POST /completion` and its `timings` (`cache_n`, `prompt_n`, `prompt_ms`,
//!   `predicted_n`, `predicted_ms`); prompts sized with `POST /tokenize`;
//! * Ollama: `POST /api/generate` with `raw` and the loaded model's `num_ctx` (another
//!   `num_ctx` reloads the model), and its `prompt_eval_*` / `eval_*` counts and durations;
//! * LM Studio: `POST /api/v0/completions` and its `stats` (`time_to_first_token`,
//!   `generation_time`);
//! * vLLM, vllm-mlx, oMLX, mlx_lm.server: `POST /v1/completions` timed by the client; vLLM's
//!   `POST /tokenize` sizes the prompts, elsewhere the server's own `usage` counts.
//!
//! Client-side times come from differences of requests that share a prompt: a cold request
//! writing one token (prefill + the fixed cost), the same prompt again (the fixed cost alone,
//! the prompt is cached), and again writing N more tokens (the N tokens' decode time).
//!
//! Every measured prompt starts with a fresh random prefix, so no prompt cache can flatter a
//! cold figure. The measuring code is the probe; [`summarize`] is a pure function of the
//! samples.

use crate::error::{Error, ErrorKind, Result};
use crate::runtime::bench::{BenchRun, Increment};
use crate::server::http::Client;
use crate::server::{ServerKind, ServerUrl};
use serde::Serialize;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Tokens added to a measured prompt for the warm request (the embedded bench's `+64`).
pub const INCREMENT_TOKENS: u32 = 64;

/// What to measure.
#[derive(Debug, Clone)]
pub struct HostConfig {
    pub url: String,
    /// The model to measure (default: the one the server serves or has loaded).
    pub model: Option<String>,
    /// Prompt lengths (tokens); empty: 512, 1024, … up to `ctx`.
    pub prompts: Vec<u32>,
    /// Deepest context to measure (capped at what the server serves).
    pub ctx: u32,
    /// Tokens written after each prompt.
    pub decode: u32,
    pub repetitions: u32,
    /// Load a model that is not loaded even where that may unload another one.
    pub force: bool,
    /// The longest one request may take.
    pub request_timeout: Duration,
}

/// One timed request.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sample {
    /// Tokens of the whole prompt.
    pub prompt_tokens: u64,
    /// Tokens the server took from its prompt cache.
    pub cached_tokens: u64,
    pub prefill_ms: f64,
    pub decode_tokens: u64,
    pub decode_ms: f64,
    /// The request as the client saw it, from sending to the last byte.
    pub wall_ms: f64,
}

/// One depth's measurements: a cold request (fresh prompt) and a warm one (the same prompt
/// plus [`INCREMENT_TOKENS`], cache kept).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Measured {
    pub cold: Sample,
    pub warm: Sample,
    /// Milliseconds of each request that are not the tokens' own time: the HTTP layer,
    /// tokenizing, scheduling (wall time minus the server's timings; client-side: the
    /// cached repeat's time).
    pub fixed_ms: f64,
}

/// How the figures were timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    /// The server's own per-request timings.
    Server,
    /// The client's clock, from differences of requests.
    Client,
}

/// The `--json` report of `bench --host`, in the shape the embedded bench saves (`runs`,
/// `generation`, `recommended`), so setup, doctor and the what-if read it the same way.
#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    pub model: String,
    pub host: String,
    pub kind: ServerKind,
    pub timing: Timing,
    pub runs: Vec<BenchRun>,
    pub generation: Vec<crate::runtime::bench::GenRun>,
    pub recommended: Option<crate::runtime::bench::Recommended>,
    pub repetitions: u32,
    /// Mean fixed cost of one request (ms).
    pub fixed_ms: Option<f64>,
    /// The context the server serves the model with, where it says.
    pub served_context: Option<u64>,
    /// Every timed request, for checking against the server's own log.
    pub samples: Vec<Measured>,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

/// The API a kind is measured through.
#[derive(Debug, Clone, PartialEq)]
enum Api {
    Llama,
    Ollama { num_ctx: u64 },
    LmStudio,
    OpenAi { ignore_eos: bool, tokenize: bool },
}

/// A server and model ready to be measured.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: ServerKind,
    pub url: ServerUrl,
    pub model: String,
    pub served_context: Option<u64>,
    api: Api,
    timeout: Duration,
    /// llama-server: the slot the cold request used (the warm one goes to the same).
    notes: Vec<String>,
}

/// Why a kind cannot be measured; `None` for the kinds that can.
pub fn unsupported_reason(kind: ServerKind) -> Option<&'static str> {
    match kind {
        ServerKind::Unknown => Some(
            "no known fingerprint matched this server, so cclocal does not know which of its routes time a request",
        ),
        _ => None,
    }
}

fn net(msg: impl Into<String>, subject: &str) -> Error {
    Error::new(ErrorKind::Network, msg).with_subject(subject.to_string())
}

/// Detects the server, picks the model and checks that measuring it disturbs nobody: the
/// model must be loaded (or `force`), and with no other model that loading it could evict.
pub fn connect(cfg: &HostConfig) -> Result<Target> {
    let url = ServerUrl::parse_for(&cfg.url, None)?.reachable();
    let subject = url.to_url();
    let client = Client::with_deadline(url.clone(), Instant::now() + Duration::from_secs(10));
    let names: Vec<String> = cfg.model.clone().into_iter().collect();
    let p = crate::server::probe(&client, None, &names, cfg.model.as_deref());
    let Some(kind) = p.kind else {
        return Err(net(
            format!("no server answers: {}", p.error.unwrap_or_default()),
            &subject,
        ));
    };
    if let Some(why) = unsupported_reason(kind) {
        return Err(Error::unsupported(format!(
            "cannot bench this server: {why}{}",
            p.answered
                .map(|a| format!(" (what answered: {a})"))
                .unwrap_or_default()
        ))
        .with_subject(subject));
    }
    if p.loading {
        return Err(net(
            format!("{} is still loading its model", kind.label()),
            &subject,
        )
        .with_hint("wait until it answers, then run this again"));
    }
    let mut notes = Vec::new();
    let force_hint = "pass --force to load it anyway (another user's model may be unloaded), or load it yourself first";
    let (model, api, served_context) = match kind {
        ServerKind::Ollama => {
            let loaded: Vec<&crate::server::LoadedModel> = p.loaded.iter().collect();
            let name = match &cfg.model {
                Some(m) => m.clone(),
                None if loaded.len() == 1 => loaded[0].name.clone(),
                None => {
                    return Err(Error::usage(if loaded.is_empty() {
                        "Ollama has no model loaded: name the one to measure".to_string()
                    } else {
                        format!(
                            "Ollama has {} models loaded: name the one to measure",
                            loaded.len()
                        )
                    })
                    .with_subject(subject)
                    .with_hint("pass --model NAME"))
                }
            };
            let mine = loaded
                .iter()
                .find(|l| crate::server::same_model(&l.name, &name));
            if mine.is_none() {
                if !p.installed.is_empty()
                    && !p
                        .installed
                        .iter()
                        .any(|m| crate::server::same_model(&m.name, &name))
                {
                    return Err(Error::not_found(format!("Ollama has no model {name:?}"))
                        .with_subject(subject)
                        .with_hint(format!("pull it first: ollama pull {name}")));
                }
                let others: Vec<&str> = loaded.iter().map(|l| l.name.as_str()).collect();
                if !others.is_empty() && !cfg.force {
                    return Err(Error::usage(format!(
                        "{name} is not loaded, and loading it may unload {} that Ollama holds now",
                        crate::units::list_some(&others)
                    ))
                    .with_subject(subject)
                    .with_hint(force_hint));
                }
                notes.push(format!(
                    "{name} was not loaded: the first request loaded it"
                ));
            }
            let ctx = mine.and_then(|l| l.context_length);
            // The loaded model's own context: any other num_ctx reloads it.
            let num_ctx = ctx.unwrap_or_else(|| u64::from(cfg.ctx).max(2048));
            (name, Api::Ollama { num_ctx }, Some(num_ctx))
        }
        ServerKind::LlamaServer => {
            let l = p.llama.clone().unwrap_or_default();
            if l.router {
                return Err(Error::unsupported(
                    "llama-server runs in router mode: bench --host measures a server that serves one model",
                )
                .with_subject(subject)
                .with_hint("bench the model's own llama-server, or the router's model with `cclocal bench FILE.gguf`"));
            }
            let name = l
                .model_alias
                .clone()
                .or_else(|| l.model_path.clone())
                .unwrap_or_else(|| "the served model".into());
            if let Some(m) = &cfg.model {
                if !crate::server::same_model(m, &name)
                    && !l.model_path.as_deref().is_some_and(|p| {
                        std::path::Path::new(p)
                            .file_name()
                            .is_some_and(|f| f.to_string_lossy() == *m)
                            || p == m
                    })
                {
                    return Err(Error::not_found(format!(
                        "this llama-server serves {name}, not {m}"
                    ))
                    .with_subject(subject)
                    .with_hint("leave out --model to measure what it serves"));
                }
            }
            (name, Api::Llama, l.slot_context)
        }
        ServerKind::LmStudio
        | ServerKind::Vllm
        | ServerKind::VllmMlx
        | ServerKind::Omlx
        | ServerKind::MlxLm => {
            let b = p.backend.clone().unwrap_or_default();
            let loaded: Vec<&crate::server::backend::BackendModel> = b.loaded().collect();
            let pick = match &cfg.model {
                Some(m) => b.find(m).or_else(|| {
                    // mlx_lm.server names its model by its path; any name reaches it.
                    (kind == ServerKind::MlxLm && b.models.len() == 1).then(|| &b.models[0])
                }),
                None if loaded.len() == 1 => Some(loaded[0]),
                None if b.models.len() == 1 => Some(&b.models[0]),
                None => None,
            };
            let Some(m) = pick else {
                let ids: Vec<&str> = b.models.iter().map(|m| m.id.as_str()).collect();
                return Err(match &cfg.model {
                    Some(m) => Error::not_found(format!("{} has no model {m:?}", kind.label())),
                    None => Error::usage(format!(
                        "{} serves several models: name the one to measure",
                        kind.label()
                    )),
                }
                .with_subject(subject)
                .with_hint(format!(
                    "pass --model, one of: {}",
                    crate::units::list_some(&ids)
                )));
            };
            if kind == ServerKind::LmStudio && !m.loaded {
                let others: Vec<&str> = loaded.iter().map(|l| l.id.as_str()).collect();
                if !others.is_empty() && !cfg.force {
                    return Err(Error::usage(format!(
                        "{} is not loaded, and LM Studio may unload {} to load it",
                        m.id,
                        crate::units::list_some(&others)
                    ))
                    .with_subject(subject)
                    .with_hint(force_hint));
                }
                notes.push(format!(
                    "{} was not loaded: the first request loaded it",
                    m.id
                ));
            }
            let api = match kind {
                ServerKind::LmStudio => Api::LmStudio,
                ServerKind::Vllm => Api::OpenAi {
                    ignore_eos: true,
                    tokenize: true,
                },
                _ => Api::OpenAi {
                    ignore_eos: false,
                    tokenize: false,
                },
            };
            (m.id.clone(), api, m.context.or(p.served_context))
        }
        ServerKind::Unknown => unreachable!("refused above"),
    };
    Ok(Target {
        kind,
        url,
        model,
        served_context,
        api,
        timeout: cfg.request_timeout,
        notes,
    })
}

impl Target {
    fn client(&self) -> Client {
        Client::with_deadline(self.url.clone(), Instant::now() + self.timeout)
    }

    fn post(&self, path: &str, body: &Value) -> Result<(Value, f64)> {
        let t = Instant::now();
        let r = self.client().post_json(path, body)?;
        let wall = t.elapsed().as_secs_f64() * 1000.0;
        let subject = format!("{}{path}", self.url.to_url());
        if !r.is_success() {
            let text: String = r.text().chars().take(300).collect();
            return Err(net(
                format!(
                    "{} answered {}: {}",
                    self.kind.label(),
                    r.status,
                    text.trim()
                ),
                &subject,
            ));
        }
        let v = r.json().map_err(|e| {
            Error::parse(format!("the answer is not JSON: {}", e.message)).with_subject(subject)
        })?;
        Ok((v, wall))
    }

    fn get(&self, path: &str) -> Option<crate::server::http::Response> {
        Client::with_deadline(self.url.clone(), Instant::now() + Duration::from_secs(5))
            .get(path)
            .ok()
            .filter(|r| r.is_success())
    }

    /// Whether the server's own timings are used (else the client's clock).
    pub fn timing(&self) -> Timing {
        match self.api {
            Api::OpenAi { .. } => Timing::Client,
            _ => Timing::Server,
        }
    }

    /// Tokens of `text` by the server's tokenizer, where it has an endpoint for it.
    pub fn count_tokens(&self, text: &str) -> Result<Option<u64>> {
        match self.api {
            Api::Llama => {
                let (v, _) =
                    self.post("/tokenize", &json!({"content": text, "add_special": true}))?;
                Ok(v["tokens"].as_array().map(|a| a.len() as u64))
            }
            Api::OpenAi { tokenize: true, .. } => {
                let (v, _) =
                    self.post("/tokenize", &json!({"model": self.model, "prompt": text}))?;
                Ok(v["count"]
                    .as_u64()
                    .or_else(|| v["tokens"].as_array().map(|a| a.len() as u64)))
            }
            _ => Ok(None),
        }
    }

    /// Whether another client is using the server now: `Busy(reason)`, `Idle`, or `Unknown`
    /// where the server cannot say.
    pub fn busy(&self) -> Busy {
        Busy::from(self.busy_inner())
    }

    fn busy_inner(&self) -> std::result::Result<Option<String>, ()> {
        match self.kind {
            ServerKind::LlamaServer => {
                if let Some(v) = self.get("/slots").and_then(|r| r.json().ok()) {
                    let n = v
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter(|s| s["is_processing"] == json!(true))
                                .count()
                        })
                        .unwrap_or(0);
                    return Ok(
                        (n > 0).then(|| format!("{n} slot(s) processing a request (GET /slots)"))
                    );
                }
                let m = self.get("/metrics").ok_or(())?.text();
                busy_from_metrics(
                    &m,
                    &["llamacpp:requests_processing", "llamacpp:requests_deferred"],
                )
                .ok_or(())
            }
            ServerKind::Vllm => {
                let m = self.get("/metrics").ok_or(())?.text();
                busy_from_metrics(
                    &m,
                    &["vllm:num_requests_running", "vllm:num_requests_waiting"],
                )
                .ok_or(())
            }
            ServerKind::VllmMlx | ServerKind::Omlx => {
                let v = self
                    .get("/v1/status")
                    .and_then(|r| r.json().ok())
                    .ok_or(())?;
                let run = v["num_running"].as_u64().ok_or(())?;
                let wait = v["num_waiting"].as_u64().unwrap_or(0);
                Ok((run + wait > 0)
                    .then(|| format!("{run} request(s) running, {wait} waiting (GET /v1/status)")))
            }
            _ => Err(()),
        }
    }

    /// One request for `prompt` writing `n` tokens.
    pub fn complete(
        &self,
        prompt: &str,
        n: u32,
        slot: Option<i64>,
    ) -> Result<(Sample, Option<i64>)> {
        match &self.api {
            Api::Llama => {
                let mut body = json!({
                    "prompt": prompt, "n_predict": n, "cache_prompt": true,
                    "temperature": 0, "ignore_eos": true, "stream": false,
                });
                if let Some(s) = slot {
                    body["id_slot"] = json!(s);
                }
                let (v, wall) = self.post("/completion", &body)?;
                let t = &v["timings"];
                let prompt_n = t["prompt_n"].as_u64().unwrap_or(0);
                let cache_n = t["cache_n"].as_u64();
                let total = v["tokens_evaluated"]
                    .as_u64()
                    .unwrap_or(prompt_n + cache_n.unwrap_or(0));
                let cached = cache_n.unwrap_or(total.saturating_sub(prompt_n));
                Ok((
                    Sample {
                        prompt_tokens: total,
                        cached_tokens: cached,
                        prefill_ms: t["prompt_ms"].as_f64().unwrap_or(0.0),
                        decode_tokens: t["predicted_n"].as_u64().unwrap_or(0),
                        decode_ms: t["predicted_ms"].as_f64().unwrap_or(0.0),
                        wall_ms: wall,
                    },
                    v["id_slot"].as_i64(),
                ))
            }
            Api::Ollama { num_ctx } => {
                let body = json!({
                    "model": self.model, "prompt": prompt, "raw": true, "stream": false,
                    "options": {"num_ctx": num_ctx, "num_predict": n, "temperature": 0, "seed": 1},
                });
                let (v, wall) = self.post("/api/generate", &body)?;
                let ns = |k: &str| v[k].as_f64().unwrap_or(0.0) / 1e6;
                let evaluated = v["prompt_eval_count"].as_u64().unwrap_or(0);
                Ok((
                    Sample {
                        // Ollama counts only the tokens it evaluated; the caller knows the rest.
                        prompt_tokens: evaluated,
                        cached_tokens: 0,
                        prefill_ms: ns("prompt_eval_duration"),
                        decode_tokens: v["eval_count"].as_u64().unwrap_or(0),
                        decode_ms: ns("eval_duration"),
                        wall_ms: wall - ns("load_duration"),
                    },
                    None,
                ))
            }
            Api::LmStudio => {
                let body = json!({
                    "model": self.model, "prompt": prompt, "max_tokens": n,
                    "temperature": 0, "stream": false,
                });
                let (v, wall) = self.post("/api/v0/completions", &body)?;
                let s = &v["stats"];
                let written = v["usage"]["completion_tokens"].as_u64().unwrap_or(0);
                Ok((
                    Sample {
                        prompt_tokens: v["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
                        cached_tokens: 0,
                        prefill_ms: s["time_to_first_token"].as_f64().unwrap_or(0.0) * 1000.0,
                        // The first token comes with the prefill.
                        decode_tokens: written.saturating_sub(1),
                        decode_ms: s["generation_time"].as_f64().unwrap_or(0.0) * 1000.0,
                        wall_ms: wall,
                    },
                    None,
                ))
            }
            Api::OpenAi { ignore_eos, .. } => {
                let mut body = json!({
                    "model": self.model, "prompt": prompt, "max_tokens": n,
                    "temperature": 0, "stream": false,
                });
                if *ignore_eos {
                    body["ignore_eos"] = json!(true);
                }
                let (v, wall) = self.post("/v1/completions", &body)?;
                Ok((
                    Sample {
                        prompt_tokens: v["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
                        cached_tokens: 0,
                        prefill_ms: wall,
                        decode_tokens: v["usage"]["completion_tokens"].as_u64().unwrap_or(0),
                        decode_ms: 0.0,
                        wall_ms: wall,
                    },
                    None,
                ))
            }
        }
    }
}

/// What the server says about other users.
#[derive(Debug, Clone, PartialEq)]
pub enum Busy {
    Busy(String),
    Idle,
    Unknown,
}

impl From<std::result::Result<Option<String>, ()>> for Busy {
    fn from(r: std::result::Result<Option<String>, ()>) -> Busy {
        match r {
            Ok(Some(why)) => Busy::Busy(why),
            Ok(None) => Busy::Idle,
            Err(()) => Busy::Unknown,
        }
    }
}

/// Measurements per target depth.
pub type Measurements = Vec<(u32, Measured)>;

/// The sum of Prometheus gauges `names` (`Some(reason)` when above zero); `None` when none
/// of them is there.
pub fn busy_from_metrics(text: &str, names: &[&str]) -> Option<Option<String>> {
    let mut found = false;
    let mut total = 0.0;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some(name) = names.iter().find(|n| {
            line.strip_prefix(**n)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        }) else {
            continue;
        };
        let _ = name;
        if let Some(v) = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()) {
            found = true;
            total += v;
        }
    }
    found.then(|| {
        (total > 0.0).then(|| format!("{total:.0} request(s) running or waiting (GET /metrics)"))
    })
}

/// A small, fast pseudo-random source (xorshift), seeded from the clock and the process.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn seeded() -> Rng {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Rng::new(t ^ (u64::from(std::process::id()) << 32))
    }
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// Common English words: a prompt of them tokenizes at about one token per word in most
/// vocabularies, so sizes can be hit closely.
const WORDS: &[&str] = &[
    "the", "house", "river", "green", "light", "water", "small", "stone", "table", "window",
    "garden", "market", "paper", "number", "yellow", "winter", "summer", "music", "story",
    "animal", "letter", "mountain", "road", "city", "bread", "chair", "cloud", "field", "forest",
    "glass", "horse", "island", "kitchen", "ladder", "morning", "night", "ocean", "pencil",
    "question", "rabbit", "school", "street", "teacher", "village", "wind", "year", "answer",
    "bottle", "candle", "doctor", "engine", "family", "friend", "harbor", "jacket", "lemon",
    "mirror", "orange", "planet", "silver", "ticket", "wallet", "basket", "bridge", "button",
    "corner", "dinner", "finger", "flower", "hammer", "market", "office", "pocket", "rocket",
    "shadow", "spring", "thread", "tunnel", "valley", "weather", "blue", "red", "old", "new",
    "quiet", "quick", "warm", "cold", "long", "short", "and", "with", "under", "over", "near",
];

/// `words` random words after a unique prefix: no two prompts share more than the first
/// token, so a prompt cache holds nothing of it.
pub fn random_text(rng: &mut Rng, words: usize) -> String {
    let mut s = format!("Run {:016x}:", rng.next_u64());
    for _ in 0..words {
        s.push(' ');
        s.push_str(WORDS[(rng.next_u64() % WORDS.len() as u64) as usize]);
    }
    s
}

/// Mean and sample standard deviation.
pub fn mean_sd(x: &[f64]) -> (f64, f64) {
    if x.is_empty() {
        return (0.0, 0.0);
    }
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let sd = if x.len() > 1 {
        (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    (m, sd)
}

/// The report rows from the measurements, grouped by target depth: prefill from an empty
/// cache, decode after it, and the warm increment at that depth (pure).
pub fn summarize(measured: &[(u32, Measured)]) -> Vec<BenchRun> {
    let mut depths: Vec<u32> = measured.iter().map(|(d, _)| *d).collect();
    depths.sort_unstable();
    depths.dedup();
    depths
        .iter()
        .filter_map(|&d| {
            let of: Vec<&Measured> = measured
                .iter()
                .filter(|(x, _)| *x == d)
                .map(|(_, m)| m)
                .collect();
            let prompt = of.iter().map(|m| m.cold.prompt_tokens).sum::<u64>() / of.len() as u64;
            let pre: Vec<f64> = of
                .iter()
                .filter(|m| m.cold.prefill_ms > 0.0)
                .map(|m| {
                    (m.cold.prompt_tokens - m.cold.cached_tokens) as f64 / m.cold.prefill_ms
                        * 1000.0
                })
                .collect();
            let dec: Vec<f64> = of
                .iter()
                .filter(|m| m.cold.decode_ms > 0.0 && m.cold.decode_tokens > 0)
                .map(|m| m.cold.decode_tokens as f64 / m.cold.decode_ms * 1000.0)
                .collect();
            if pre.is_empty() || dec.is_empty() {
                return None;
            }
            let inc: Vec<(u64, f64)> = of
                .iter()
                .filter(|m| m.warm.prefill_ms > 0.0 && m.warm.prompt_tokens > m.warm.cached_tokens)
                .map(|m| {
                    (
                        m.warm.prompt_tokens - m.warm.cached_tokens,
                        m.warm.prefill_ms,
                    )
                })
                .collect();
            let (pm, psd) = mean_sd(&pre);
            let (dm, dsd) = mean_sd(&dec);
            let increment = (!inc.is_empty()).then(|| {
                let (ms, sd) = mean_sd(&inc.iter().map(|x| x.1).collect::<Vec<_>>());
                Increment {
                    tokens: (inc.iter().map(|x| x.0).sum::<u64>() / inc.len() as u64) as u32,
                    ms,
                    sd,
                }
            });
            Some(BenchRun {
                prompt_tokens: prompt as u32,
                batch: 0,
                ubatch: 0,
                flash_attn: false,
                kv_type: String::new(),
                prefill_tokens_per_s: pm,
                prefill_sd: psd,
                decode_tokens_per_s: dm,
                decode_sd: dsd,
                repetitions: of.len() as u32,
                prefill_samples: pre,
                decode_samples: dec,
                increment,
            })
        })
        .collect()
}

/// A client-side measurement from four requests' wall times (ms): the cold prompt writing
/// one token, the cached repeat writing one, the cached repeat writing `1 + k` (`k` more
/// written), and the prompt plus the increment writing one (pure).
#[allow(clippy::too_many_arguments)]
pub fn client_side(
    prompt: u64,
    cold_ms: f64,
    repeat_ms: f64,
    long_ms: f64,
    k: u64,
    inc_prompt: u64,
    inc_ms: f64,
) -> Measured {
    let decode_ms = (long_ms - repeat_ms).max(0.0);
    let per_token = if k > 0 { decode_ms / k as f64 } else { 0.0 };
    // The repeat evaluates (about) one token and writes one: the rest is the fixed cost.
    let fixed = (repeat_ms - 2.0 * per_token).max(0.0);
    Measured {
        cold: Sample {
            prompt_tokens: prompt,
            cached_tokens: 0,
            prefill_ms: (cold_ms - per_token).max(0.0),
            decode_tokens: k,
            decode_ms,
            wall_ms: cold_ms,
        },
        warm: Sample {
            prompt_tokens: inc_prompt,
            cached_tokens: prompt,
            prefill_ms: (inc_ms - per_token).max(0.0),
            decode_tokens: 1,
            decode_ms: per_token,
            wall_ms: inc_ms,
        },
        fixed_ms: fixed,
    }
}

/// Progress on stderr: a redrawn bar with an ETA on a terminal, one plain line per step on a
/// pipe, nothing when `quiet`.
pub struct Progress {
    total: usize,
    done: usize,
    start: Instant,
    tty: bool,
    quiet: bool,
}

impl Progress {
    pub fn new(total: usize, quiet: bool) -> Progress {
        use std::io::IsTerminal;
        Progress {
            total: total.max(1),
            done: 0,
            start: Instant::now(),
            tty: std::io::stderr().is_terminal(),
            quiet,
        }
    }
    pub fn step(&mut self, what: &str) {
        self.done += 1;
        if self.quiet {
            return;
        }
        let el = self.start.elapsed().as_secs_f64();
        let eta = el / self.done as f64 * (self.total - self.done.min(self.total)) as f64;
        if self.tty {
            let w = 24;
            let fill = w * self.done / self.total;
            crate::teprint!(
                "\r\x1b[2K[{}{}] {}/{} ETA {} {}",
                "#".repeat(fill),
                ".".repeat(w - fill),
                self.done,
                self.total,
                eta_text(eta),
                what
            );
        } else {
            crate::teprintln!(
                "bench --host: {}/{} {} (ETA {})",
                self.done,
                self.total,
                what,
                eta_text(eta)
            );
        }
    }
    pub fn finish(&self) {
        if self.tty && !self.quiet {
            crate::teprint!("\r\x1b[2K");
        }
    }
}

fn eta_text(s: f64) -> String {
    if s >= 60.0 {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!("{s:.0}s")
    }
}

/// Waits (up to a minute) until the server is idle; an error naming what keeps it busy.
fn wait_idle(t: &Target) -> Result<()> {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        match t.busy() {
            Busy::Busy(_) if Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(500));
            }
            Busy::Busy(why) => {
                return Err(Error::new(
                    ErrorKind::Network,
                    format!("the server is busy ({why}): measuring now would time other users' requests too"),
                )
                .with_subject(t.url.to_url())
                .with_hint("run it again when the server is idle"))
            }
            _ => return Ok(()),
        }
    }
}

/// Prompt text of about `tokens` tokens: words at `per_word` tokens each, corrected once by
/// the server's tokenizer where it has one.
fn sized_prompt(t: &Target, rng: &mut Rng, tokens: u32, per_word: f64) -> Result<String> {
    let words = ((tokens as f64 - 8.0).max(1.0) / per_word) as usize;
    let text = random_text(rng, words);
    if let Some(n) = t.count_tokens(&text)? {
        if n as u32 != tokens && n > 0 {
            let words = (words as f64 * tokens as f64 / n as f64) as usize;
            return Ok(random_text(rng, words.max(1)));
        }
    }
    Ok(text)
}

/// The suffix of the warm request: about [`INCREMENT_TOKENS`] tokens.
fn increment_text(rng: &mut Rng, per_word: f64) -> String {
    let mut s = String::new();
    for _ in 0..((INCREMENT_TOKENS as f64 / per_word) as usize).max(1) {
        s.push(' ');
        s.push_str(WORDS[(rng.next_u64() % WORDS.len() as u64) as usize]);
    }
    s
}

/// Measures the target at every depth; the measurements in order.
pub fn measure(
    t: &Target,
    cfg: &HostConfig,
    depths: &[u32],
    progress: bool,
) -> Result<(Measurements, Vec<String>)> {
    let mut notes = t.notes.clone();
    let mut rng = Rng::seeded();
    match t.busy() {
        Busy::Busy(why) => {
            return Err(Error::new(
                ErrorKind::Network,
                format!("the server is busy ({why}): not measuring while others use it"),
            )
            .with_subject(t.url.to_url())
            .with_hint("run it again when the server is idle"))
        }
        Busy::Idle => {}
        Busy::Unknown => notes.push(format!(
            "{} does not say whether others are using it: figures taken while it serves someone else are slower",
            t.kind.label()
        )),
    }
    // Warm-up and calibration: tokens per word from the server's own count.
    let probe_words = 200;
    let text = random_text(&mut rng, probe_words);
    let per_word = match t.count_tokens(&text)? {
        Some(n) if n > 0 => n as f64 / (probe_words + 3) as f64,
        _ => {
            let (s, _) = t.complete(&text, 1, None)?;
            if s.prompt_tokens == 0 {
                return Err(Error::parse(format!(
                    "{} did not say how many tokens the prompt had",
                    t.kind.label()
                ))
                .with_subject(t.url.to_url()));
            }
            s.prompt_tokens as f64 / (probe_words + 3) as f64
        }
    };
    let _ = t.complete(&random_text(&mut rng, 32), 2, None)?;
    let steps = depths.len() * cfg.repetitions as usize;
    let mut bar = Progress::new(steps, !progress);
    let mut out = Vec::new();
    for &d in depths {
        for _ in 0..cfg.repetitions {
            wait_idle(t)?;
            let prompt = sized_prompt(t, &mut rng, d, per_word)?;
            let warm_prompt = format!("{prompt}{}", increment_text(&mut rng, per_word));
            let m = match t.timing() {
                Timing::Server => {
                    let (mut cold, slot) = t.complete(&prompt, cfg.decode, None)?;
                    let (mut warm, _) = t.complete(&warm_prompt, 1, slot)?;
                    if matches!(t.api, Api::Ollama { .. }) {
                        // Ollama counts only what it evaluated: the warm request's depth is the
                        // cold prompt (cached), its new tokens what it evaluated.
                        warm.cached_tokens = cold.prompt_tokens;
                        warm.prompt_tokens += cold.prompt_tokens;
                        cold.cached_tokens = 0;
                    }
                    let fixed = [cold, warm]
                        .iter()
                        .map(|s| (s.wall_ms - s.prefill_ms - s.decode_ms).max(0.0))
                        .sum::<f64>()
                        / 2.0;
                    Measured {
                        cold,
                        warm,
                        fixed_ms: fixed,
                    }
                }
                Timing::Client => {
                    let (c, _) = t.complete(&prompt, 1, None)?;
                    let (r, _) = t.complete(&prompt, 1, None)?;
                    let (l, _) = t.complete(&prompt, cfg.decode + 1, None)?;
                    let (i, _) = t.complete(&warm_prompt, 1, None)?;
                    let k = l.decode_tokens.saturating_sub(r.decode_tokens.max(1));
                    if k == 0 {
                        notes.push("the model stopped before writing a second token: decode could not be timed".into());
                    }
                    client_side(
                        c.prompt_tokens,
                        c.wall_ms,
                        r.wall_ms,
                        l.wall_ms,
                        k,
                        i.prompt_tokens,
                        i.wall_ms,
                    )
                }
            };
            bar.step(&format!("{} tokens", m.cold.prompt_tokens));
            out.push((d, m));
        }
    }
    bar.finish();
    Ok((out, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_prompts_never_share_a_prefix() {
        let mut r = Rng::new(7);
        let a = random_text(&mut r, 50);
        let b = random_text(&mut r, 50);
        assert_ne!(a[..20], b[..20]);
        assert_eq!(a.split(' ').count(), 52);
    }

    #[test]
    fn metrics_say_busy_or_idle() {
        let idle = "# HELP x\nvllm:num_requests_running{model_name=\"m\"} 0.0\nvllm:num_requests_waiting{model_name=\"m\"} 0.0\n";
        assert_eq!(
            busy_from_metrics(
                idle,
                &["vllm:num_requests_running", "vllm:num_requests_waiting"]
            ),
            Some(None)
        );
        let busy = idle.replace(
            "waiting{model_name=\"m\"} 0.0",
            "waiting{model_name=\"m\"} 2.0",
        );
        assert!(busy_from_metrics(
            &busy,
            &["vllm:num_requests_running", "vllm:num_requests_waiting"]
        )
        .unwrap()
        .unwrap()
        .contains("2 request"));
        assert_eq!(busy_from_metrics("", &["vllm:num_requests_running"]), None);
    }

    #[test]
    fn client_side_differences() {
        // 10 ms per written token, 50 ms fixed, 1000 tokens of prefill in 2000 ms.
        let m = client_side(
            1000,
            50.0 + 2000.0 + 10.0,
            50.0 + 20.0,
            50.0 + 20.0 + 320.0,
            32,
            1064,
            50.0 + 200.0 + 10.0,
        );
        assert!((m.cold.decode_ms / 32.0 - 10.0).abs() < 1e-9);
        assert!((m.fixed_ms - 50.0).abs() < 1e-9, "{m:?}");
        assert!((m.cold.prefill_ms - 2050.0).abs() < 1e-9, "{m:?}");
        assert!((m.warm.prefill_ms - 250.0).abs() < 1e-9, "{m:?}");
    }

    #[test]
    fn summary_rows_per_depth() {
        let s = |p: u64, c: u64, pre: f64, n: u64, dec: f64| Sample {
            prompt_tokens: p,
            cached_tokens: c,
            prefill_ms: pre,
            decode_tokens: n,
            decode_ms: dec,
            wall_ms: pre + dec + 50.0,
        };
        let m = |pre| Measured {
            cold: s(1000, 0, pre, 32, 320.0),
            warm: s(1064, 1000, 100.0, 1, 0.0),
            fixed_ms: 50.0,
        };
        let runs = summarize(&[(1024, m(1000.0)), (1024, m(1250.0)), (512, m(400.0))]);
        assert_eq!(runs.len(), 2);
        let r = &runs[1];
        assert_eq!(r.repetitions, 2);
        assert!((r.prefill_tokens_per_s - 900.0).abs() < 1e-9, "{r:?}");
        assert!((r.decode_tokens_per_s - 100.0).abs() < 1e-9);
        assert_eq!(r.increment.as_ref().unwrap().tokens, 64);
        // The rows are what a saved report is read from.
        let text = serde_json::json!({"runs": runs}).to_string();
        assert!(crate::predict::from_bench_json(&text, "host").is_ok());
    }
}
