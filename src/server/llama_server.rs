//! llama.cpp's `llama-server` (https://github.com/ggml-org/llama.cpp/tree/master/tools/server):
//! identified by `GET /props` holding `build_info` and `default_generation_settings`, or
//! by `owned_by: "llamacpp"` in `GET /v1/models`. Not by `/api/tags`: many builds answer
//! it as an Ollama shim. While it loads its model, every route answers 503 `Loading model`.

/// Its log lines (`log::detect`, `log::line`).
pub mod log;
/// How `cclocal setup` runs this kind (its serve line, start script or service file) and
/// the doctor's restart fix.
pub mod serve;

use super::detect::{saw, Http, Verdict};
use serde_json::Value;

/// Whether an answer is llama-server's 503 `Loading model`.
pub fn is_loading(v: &Value) -> bool {
    v["error"]["message"].as_str() == Some("Loading model")
        && v["error"]["type"].as_str() == Some("unavailable_error")
}

pub fn fingerprint(http: &mut Http) -> Verdict {
    if let Some(r) = http.get("/props") {
        if r.status == 503 && r.json().is_ok_and(|v| is_loading(&v)) {
            return Verdict::Loading(
                "GET /props → 503 {\"error\":{\"message\":\"Loading model\",\"type\":\"unavailable_error\"}}: llama-server is still loading its model".into(),
            );
        }
    }
    if let Some(v) = http.json("/props") {
        if v.get("build_info").is_some() && v.get("default_generation_settings").is_some() {
            return Verdict::Match(format!(
                "GET /props has build_info ({}) and default_generation_settings",
                v["build_info"].as_str().unwrap_or("?")
            ));
        }
    }
    let props = saw(http, "/props");
    if http.owners().iter().any(|o| o == "llamacpp") {
        return Verdict::Match(format!(
            "{props}; GET /v1/models lists a model owned_by \"llamacpp\""
        ));
    }
    Verdict::No(props)
}

use super::{find_model, InstalledModel, Presence, ServerKind, ServerProbe};
use crate::server::http::Client;
use serde::Serialize;
use std::collections::BTreeMap;

/// What llama-server says about itself (`/props`, `/slots`, `/v1/models`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LlamaFacts {
    /// `/props` `build_info`, e.g. `b11434-abc1234` (`b0-unknown` for a build without git data).
    pub build_info: Option<String>,
    /// The build number from `build_info` (`None` for `b0`).
    pub build: Option<u64>,
    /// `/props` `total_slots`.
    pub total_slots: Option<u64>,
    /// The context one slot (one Claude Code session) gets: `/slots[].n_ctx`, else
    /// `/props` `default_generation_settings.n_ctx`.
    pub slot_context: Option<u64>,
    /// `/v1/models` `meta.n_ctx_train`.
    pub trained_context: Option<u64>,
    /// `/props` `model_path` (the `-m` file).
    pub model_path: Option<String>,
    pub model_alias: Option<String>,
    /// `/props` `chat_template_caps.supports_tools`.
    pub template_supports_tools: Option<bool>,
    /// Router mode (started without `-m`): several models, chosen by name.
    pub router: bool,
    /// In router mode: the models it knows and their status (`loaded`, `unloaded`, …).
    pub router_models: Vec<(String, String)>,
}

/// `b11434-abc` → 11434; `b0-unknown` → None.
pub fn build_number(build_info: &str) -> Option<u64> {
    let n: u64 = build_info
        .strip_prefix('b')?
        .split(['-', ' '])
        .next()?
        .parse()
        .ok()?;
    (n > 0).then_some(n)
}

/// Reads llama-server's facts from its answers (pure, for tests with captured bodies).
pub fn facts_from(
    props: Option<&Value>,
    slots: Option<&Value>,
    models: Option<&Value>,
) -> LlamaFacts {
    let mut f = LlamaFacts::default();
    if let Some(p) = props {
        f.build_info = p["build_info"].as_str().map(String::from);
        f.build = f.build_info.as_deref().and_then(build_number);
        f.total_slots = p["total_slots"].as_u64();
        f.slot_context = p["default_generation_settings"]["n_ctx"].as_u64();
        f.model_path = p["model_path"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(String::from);
        f.model_alias = p["model_alias"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(String::from);
        f.template_supports_tools = p["chat_template_caps"]["supports_tools"].as_bool();
        f.router = p.get("default_generation_settings").is_none() && f.model_path.is_none();
    }
    if let Some(ctx) = slots
        .and_then(Value::as_array)
        .and_then(|a| a.iter().filter_map(|s| s["n_ctx"].as_u64()).min())
    {
        f.slot_context = Some(ctx);
    }
    if let Some(data) = models.and_then(|m| m["data"].as_array()) {
        f.trained_context = data.iter().find_map(|m| m["meta"]["n_ctx_train"].as_u64());
        let with_status: Vec<(String, String)> = data
            .iter()
            .filter_map(|m| {
                let id = m["id"].as_str()?;
                let st = m["status"]["value"].as_str()?;
                Some((id.to_string(), st.to_string()))
            })
            .collect();
        if !with_status.is_empty() {
            f.router = true;
            f.router_models = with_status;
        }
    }
    f
}

/// Probes a llama-server (reusing the answers detection already has).
pub fn probe(http: &mut Http, client: &Client, names: &[String], loading: bool) -> ServerProbe {
    let mut p = ServerProbe {
        kind: Some(ServerKind::LlamaServer),
        reachable: true,
        loading,
        ..Default::default()
    };
    if loading {
        return p;
    }
    let props = http.json("/props");
    let slots = http.json("/slots");
    let models = http.json("/v1/models").or_else(|| http.json("/models"));
    let f = facts_from(props.as_ref(), slots.as_ref(), models.as_ref());
    p.version = f.build_info.clone();
    p.installed = models
        .as_ref()
        .and_then(|m| m["data"].as_array())
        .map(|a| {
            a.iter()
                .filter_map(|m| m["id"].as_str())
                .map(|id| InstalledModel {
                    name: id.to_string(),
                    size: 0,
                    ..Default::default()
                })
                .collect()
        })
        .unwrap_or_default();
    // count_tokens costs no generation and exists wherever /v1/messages does.
    let body = serde_json::json!({"model": names.first().map(String::as_str).unwrap_or("cclocal-probe"), "messages": [{"role": "user", "content": "."}]});
    p.messages_api = client
        .post_json("/v1/messages/count_tokens", &body)
        .ok()
        .map(|r| {
            r.status != 404
                || r.json()
                    .is_ok_and(|v| v["error"]["type"] != "not_found_error")
        });
    for n in names {
        // One model loaded: llama-server answers whatever name is sent.
        let known = find_model(f.router_models.iter().map(|(id, _)| id.as_str()), n).is_some();
        let presence = if !f.router || known {
            Presence::Present
        } else {
            Presence::Missing
        };
        p.presence.insert(n.clone(), presence);
    }
    p.served_context = f.slot_context;
    p.served_context_source = f.slot_context.map(|_| "live");
    if client.base.is_local() {
        p.llama_command = local_command(client.base.port);
    }
    if let Some(c) = &p.llama_command {
        p.kv_type = Some(crate::kv::name_or_default(c.cache_type_k.as_deref()));
        p.flash_attn = Some(c.flash_attn.clone().unwrap_or_else(|| "auto".into()));
    }
    p.llama = Some(f);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_numbers() {
        assert_eq!(build_number("b11434-abc1234"), Some(11434));
        assert_eq!(build_number("b8681-Debian"), Some(8681));
        assert_eq!(build_number("b0-unknown"), None);
        assert_eq!(build_number("garbage"), None);
    }
}

/// How a llama-server on this machine was started: its command line and `LLAMA_ARG_*`
/// environment (the command line wins, as in llama.cpp's `common/arg.cpp`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LlamaCommand {
    pub pid: u32,
    /// The command line, as read from `/proc/PID/cmdline`.
    pub args: Vec<String>,
    /// `LLAMA_ARG_*` variables of the process (when readable).
    pub env: BTreeMap<String, String>,
    /// `-c/--ctx-size` (total for all slots; 0 = the model's trained context).
    pub ctx_size: Option<u64>,
    /// `-np/--parallel` (-1 or absent = auto: 4 slots sharing one unified cache).
    pub parallel: Option<i64>,
    /// `-kvu/--kv-unified` or `-no-kvu/--no-kv-unified`.
    pub kv_unified: Option<bool>,
    pub cache_type_k: Option<String>,
    pub cache_type_v: Option<String>,
    /// `-fa/--flash-attn` value (`on`, `off`, `auto`).
    pub flash_attn: Option<String>,
    /// `--jinja` / `--no-jinja` (recent builds default to on).
    pub jinja: Option<bool>,
    pub cache_reuse: Option<u64>,
    pub model: Option<String>,
    pub port: u16,
}

fn flag_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "on" | "yes" | "enabled" => Some(true),
        "0" | "false" | "off" | "no" | "disabled" => Some(false),
        _ => None,
    }
}

/// Reads llama-server's options from its arguments (without the program name) and its
/// `LLAMA_ARG_*` environment (flags and variables: docs/servers.md "llama-server facts").
pub fn parse_command(args: &[String], env: &BTreeMap<String, String>) -> LlamaCommand {
    let mut c = LlamaCommand {
        args: args.to_vec(),
        env: env.clone(),
        ..Default::default()
    };
    let e = |k: &str| env.get(k).map(|v| v.trim().to_string());
    c.ctx_size = e("LLAMA_ARG_CTX_SIZE").and_then(|v| v.parse().ok());
    c.parallel = e("LLAMA_ARG_N_PARALLEL").and_then(|v| v.parse().ok());
    c.kv_unified = e("LLAMA_ARG_KV_UNIFIED").and_then(|v| flag_bool(&v));
    c.cache_type_k = e("LLAMA_ARG_CACHE_TYPE_K");
    c.cache_type_v = e("LLAMA_ARG_CACHE_TYPE_V");
    c.flash_attn = e("LLAMA_ARG_FLASH_ATTN");
    c.jinja = e("LLAMA_ARG_JINJA").and_then(|v| flag_bool(&v));
    c.cache_reuse = e("LLAMA_ARG_CACHE_REUSE").and_then(|v| v.parse().ok());
    c.model = e("LLAMA_ARG_MODEL");
    let mut port = e("LLAMA_ARG_PORT").and_then(|v| v.parse().ok());
    let mut i = 0;
    while i < args.len() {
        let (flag, inline) = match args[i].split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (args[i].as_str(), None),
        };
        let mut value = || -> Option<String> {
            if let Some(v) = inline.clone() {
                return Some(v);
            }
            i += 1;
            args.get(i).cloned()
        };
        match flag {
            "-c" | "--ctx-size" => c.ctx_size = value().and_then(|v| v.parse().ok()),
            "-np" | "--parallel" => c.parallel = value().and_then(|v| v.parse().ok()),
            "-kvu" | "--kv-unified" => c.kv_unified = Some(true),
            "-no-kvu" | "--no-kv-unified" => c.kv_unified = Some(false),
            "-ctk" | "--cache-type-k" => c.cache_type_k = value(),
            "-ctv" | "--cache-type-v" => c.cache_type_v = value(),
            "-fa" | "--flash-attn" => {
                // Older builds take `-fa` without a value.
                match args.get(i + 1).map(String::as_str) {
                    Some(v @ ("on" | "off" | "auto")) if inline.is_none() => {
                        c.flash_attn = Some(v.to_string());
                        i += 1;
                    }
                    _ => c.flash_attn = Some(inline.clone().unwrap_or_else(|| "on".into())),
                }
            }
            "--jinja" => c.jinja = Some(true),
            "--no-jinja" => c.jinja = Some(false),
            "--cache-reuse" => c.cache_reuse = value().and_then(|v| v.parse().ok()),
            "-m" | "--model" => c.model = value(),
            "--port" => port = value().and_then(|v| v.parse().ok()),
            _ => {}
        }
        i += 1;
    }
    c.port = port.unwrap_or(super::ServerKind::LlamaServer.default_port());
    c
}

impl LlamaCommand {
    /// The slot count it asked for (`None` = auto).
    pub fn slots(&self) -> Option<u64> {
        self.parallel.filter(|n| *n > 0).map(|n| n as u64)
    }
    /// Whether the slots share one cache (auto slots turn it on unless `-no-kvu`).
    pub fn unified(&self) -> bool {
        self.kv_unified.unwrap_or(self.slots().is_none())
    }
    /// Jinja (tool use): on unless `--no-jinja` (default since llama.cpp PR #17524).
    pub fn jinja_on(&self) -> bool {
        self.jinja != Some(false)
    }
}

/// The llama-server process on this machine listening on `port`, from `/proc` (Linux;
/// `None` elsewhere or when none is found). Only processes whose program name is
/// `llama-server` are read.
pub fn local_command(port: u16) -> Option<LlamaCommand> {
    for proc in super::process::all() {
        let args = proc.argv;
        let is_llama = args.first().is_some_and(|a0| {
            std::path::Path::new(a0)
                .file_name()
                .is_some_and(|n| n == "llama-server")
        });
        if !is_llama {
            continue;
        }
        let env: BTreeMap<String, String> = std::fs::read(proc.dir.join("environ"))
            .map(|raw| {
                super::process::split_nul(&raw)
                    .into_iter()
                    .filter_map(|kv| {
                        let (k, v) = kv.split_once('=')?;
                        k.starts_with("LLAMA_ARG_")
                            .then(|| (k.to_string(), v.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut c = parse_command(&args[1..], &env);
        if c.port == port {
            c.pid = proc.pid;
            c.args = redact_args(&args);
            c.env = env
                .iter()
                .map(|(k, v)| (k.clone(), crate::claude::env::redact(k, v)))
                .collect();
            return Some(c);
        }
    }
    None
}

/// The command line with the value of every secret option replaced
/// (`crate::secret::redact_args`: `--api-key`, `--hf-token`, …).
pub fn redact_args(args: &[String]) -> Vec<String> {
    crate::secret::redact_args(args)
}

#[cfg(test)]
mod command_tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn flags_and_env() {
        let mut env = BTreeMap::new();
        env.insert("LLAMA_ARG_CTX_SIZE".to_string(), "4096".to_string());
        env.insert("LLAMA_ARG_CACHE_TYPE_K".to_string(), "q8_0".to_string());
        env.insert("LLAMA_ARG_JINJA".to_string(), "false".to_string());
        let c = parse_command(
            &s(&[
                "-m",
                "/m/x.gguf",
                "-c",
                "32768",
                "-np",
                "4",
                "-fa",
                "on",
                "--port=18080",
                "--cache-reuse",
                "256",
            ]),
            &env,
        );
        assert_eq!(
            c.ctx_size,
            Some(32768),
            "the command line beats LLAMA_ARG_CTX_SIZE"
        );
        assert_eq!(c.slots(), Some(4));
        assert!(!c.unified());
        assert_eq!(c.cache_type_k.as_deref(), Some("q8_0"));
        assert_eq!(c.flash_attn.as_deref(), Some("on"));
        assert_eq!((c.port, c.cache_reuse), (18080, Some(256)));
        assert!(!c.jinja_on(), "LLAMA_ARG_JINJA=false turns tool use off");
        assert_eq!(c.model.as_deref(), Some("/m/x.gguf"));
        let c = parse_command(&s(&["-fa", "--jinja", "-c", "bad"]), &BTreeMap::new());
        assert_eq!(
            (c.flash_attn.as_deref(), c.jinja, c.ctx_size, c.port),
            (Some("on"), Some(true), None, 8080)
        );
        assert!(c.unified() && c.slots().is_none());
        assert_eq!(
            redact_args(&s(&[
                "llama-server",
                "--api-key",
                "s3cret",
                "--api-key=x",
                "-c",
                "1"
            ])),
            s(&[
                "llama-server",
                "--api-key",
                "<redacted>",
                "--api-key=<redacted>",
                "-c",
                "1"
            ])
        );
    }
}
