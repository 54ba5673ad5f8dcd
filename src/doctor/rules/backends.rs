//! Rules for LM Studio, vLLM, vllm-mlx, oMLX and mlx_lm.server: a model loaded (or not),
//! the model names Claude Code sends against the names served, a vLLM too old for
//! `/v1/messages`, answers that are not the JSON expected. The fixes are the servers' own
//! commands (`lms load`, `vllm serve`), built by the planner's generators
//! (`crate::planner::server`), or Claude Code's tier variables (docs/servers.md).

use super::{claude_env_fix, push, Section};
use crate::doctor::facts::{Facts, ModelCheck};
use crate::findings::Finding;
use crate::server::backend::BackendModel;
use crate::server::ServerKind;
use crate::shell::quote::sh_quote;

/// The kinds these rules are for.
pub fn is_backend(k: Option<ServerKind>) -> bool {
    matches!(
        k,
        Some(
            ServerKind::LmStudio
                | ServerKind::Vllm
                | ServerKind::VllmMlx
                | ServerKind::Omlx
                | ServerKind::MlxLm
        )
    )
}

/// `lms load KEY --context-length N [--gpu max]`: `--gpu max` where this machine has a GPU
/// (or Apple's unified memory) and LM Studio runs here.
pub fn lms_load_line(f: &Facts, key: &str, context: u64) -> String {
    let gpu = f.server.local && f.machine.budget.as_ref().is_some_and(|b| b.gpu);
    crate::planner::lms_load_line(key, context, gpu)
}

/// The context to load a model with: the planner's target (`planner::fix`, the same as
/// `server_context_small`'s), else the kind's fallback.
fn target_context(f: &Facts) -> u64 {
    let kind = f.server.kind.unwrap_or(ServerKind::Unknown);
    f.model
        .as_ref()
        .and_then(|m| super::context::target(f, m))
        .map(|t| t.context)
        .unwrap_or(crate::planner::defaults(kind).fallback_context)
}

/// The server's own fix for a context that is too small (`t` tokens wanted), for
/// `server_context_small`; `None` for kinds without one.
pub fn context_fix(f: &Facts, t: u64) -> Option<String> {
    let m = f.model.as_ref()?;
    let b = f.server.backend.as_ref()?;
    let served = b.find(&m.name);
    match f.server.kind? {
        ServerKind::LmStudio => {
            let key = served.map(BackendModel::load_key).unwrap_or(&m.name);
            let mlx = if m.format.as_deref() == Some("mlx") {
                format!("   ({} is an MLX model: cclocal's GGUF memory math does not apply; `lms load {} --context-length {t} --estimate-only` shows LM Studio's own estimate)", m.name, sh_quote(key))
            } else if m.planned_context.is_some() {
                "   (the planner's context for this GGUF on this machine)".to_string()
            } else {
                String::new()
            };
            Some(format!(
                "lms unload {}; {}{mlx}",
                sh_quote(&m.name),
                lms_load_line(f, key, t)
            ))
        }
        ServerKind::Vllm => {
            let line = match served {
                Some(s) => vllm_line(f, s, Some(t)),
                None => vllm_line(f, &BackendModel::new(&m.name), Some(t)),
            };
            Some(format!(
                "restart vLLM with a larger --max-model-len: {line}   ({})",
                vllm_memory_words(f)
            ))
        }
        ServerKind::Omlx => Some(format!(
            "raise the model's context window to {t} in oMLX (its admin page {}/admin, or ~/.omlx/settings.json), then reload the model",
            f.server.url
        )),
        k => Some(format!(
            "serve {} with a context of at least {t} tokens (restart {} with a larger context)",
            m.name,
            k.label()
        )),
    }
}

/// How to bring LM Studio back to what setup configured (`setup_drift`): load the model
/// with the configured context again (the start script setup wrote does it); `None` for
/// other kinds.
pub fn drift_fix(f: &Facts, cfg: &crate::setup::config::SetupConfig) -> Option<String> {
    if f.server.kind != Some(ServerKind::LmStudio) || cfg.server.kind != ServerKind::LmStudio {
        return None;
    }
    // A loaded model keeps the context it was loaded with: unload it first (as the start
    // script does).
    Some(format!(
        "load the model with the configured context again: lms unload {}; {}   (the script `cclocal setup --server lmstudio` wrote does this: sh {})",
        sh_quote(&cfg.model.name),
        lms_load_line(f, &cfg.model.name, cfg.model.context),
        super::setup::server_file(f, crate::server::lmstudio::serve::SCRIPT)
    ))
}

/// What the server does with a request longer than its context.
pub fn overflow_words(f: &Facts) -> &'static str {
    match f.server.kind {
        Some(ServerKind::LlamaServer) => {
            "llama-server refuses the request (HTTP 400 exceed_context_size_error)"
        }
        Some(ServerKind::LmStudio) => {
            "LM Studio refuses the request (HTTP 400 \"n_keep … >= n_ctx\")"
        }
        Some(ServerKind::Vllm) => {
            "vLLM refuses the request (HTTP 400 \"maximum context length is N tokens\")"
        }
        Some(ServerKind::VllmMlx | ServerKind::Omlx | ServerKind::MlxLm) => {
            "the server refuses or truncates the request"
        }
        _ => "Ollama silently drops the oldest messages",
    }
}

/// The names Claude Code sends, for `--served-model-name` (the served one first).
fn served_names(f: &Facts, served: &str) -> Vec<String> {
    let mut names = vec![served.to_string()];
    for m in &f.server.models {
        if !names.contains(&m.name) {
            names.push(m.name.clone());
        }
    }
    names
}

/// The complete `vllm serve` line for the served model `m` (its `root`, else its name) at
/// `ctx` tokens (else the context it is served with, else 64K), within the model's own
/// limit when its folder is on this machine, with tool calling on, on the server's host
/// and port: the generator `cclocal setup --server vllm` and `cclocal plan` use.
pub fn vllm_line(f: &Facts, m: &BackendModel, ctx: Option<u64>) -> String {
    use crate::server::vllm::serve::{line, listen_host, VllmServe, DEFAULT_PORT};
    let model = m.path.clone().unwrap_or_else(|| m.id.clone());
    let (host, port) = crate::server::ServerUrl::parse_for(&f.server.url, Some(ServerKind::Vllm))
        .map(|u| (listen_host(&u.host), u.port))
        .unwrap_or_else(|_| ("127.0.0.1".into(), DEFAULT_PORT));
    let folder = f
        .server
        .local
        .then(|| crate::server::model_folder::local(&model))
        .flatten();
    let wanted = ctx
        .or(m.context)
        .unwrap_or(crate::planner::defaults(ServerKind::Vllm).fallback_context);
    line(&VllmServe::with_folder(
        &model,
        &served_names(f, &m.id),
        wanted,
        &host,
        port,
        folder,
    ))
}

/// What to do when vLLM cannot hold the context, in the words of its build: vLLM's CPU
/// build keeps its KV cache in `VLLM_CPU_KVCACHE_SPACE` GiB of memory, a GPU build in the
/// `--gpu-memory-utilization` share of GPU memory (docs/servers.md "vLLM").
pub fn vllm_memory_words(f: &Facts) -> &'static str {
    let gpu = f.machine.budget.as_ref().map(|b| b.gpu);
    match (f.server.local, gpu) {
        (true, Some(false)) => "vLLM's CPU build holds its KV cache in the memory VLLM_CPU_KVCACHE_SPACE sets: raise it, or lower the context, if vLLM refuses to start",
        (true, Some(true)) => "vLLM needs GPU memory for it: raise --gpu-memory-utilization or lower the context if it refuses to start",
        _ => "if vLLM refuses to start for lack of KV cache memory, lower the context",
    }
}

/// mlx_lm.server has no Anthropic Messages API: the fix is vllm-mlx serving the same model
/// folder (mlx_lm.server's `/v1/models` lists it by path) under the name Claude Code sends,
/// on the same host and port (docs/servers.md "mlx_lm.server").
pub fn mlx_lm_fix(f: &Facts) -> String {
    use crate::server::vllm_mlx::serve::{folder_name, line, VllmMlxServe};
    let folder = f
        .server
        .backend
        .as_ref()
        .and_then(|b| b.models.first())
        .map(|m| m.id.clone());
    let Some(folder) = folder else {
        return "serve the model with vllm-mlx (pip install vllm-mlx), which serves /v1/messages: vllm-mlx serve MODEL_FOLDER --served-model-name NAME   (on a Mac, LM Studio's MLX engine and oMLX serve /v1/messages too)".to_string();
    };
    let claude_model = f.claude.as_ref().and_then(|c| c.model.clone());
    let name = claude_model.clone().unwrap_or_else(|| folder_name(&folder));
    let (host, port) = crate::server::ServerUrl::parse_for(&f.server.url, Some(ServerKind::MlxLm))
        .map(|u| (crate::server::vllm::serve::listen_host(&u.host), u.port))
        .unwrap_or_else(|_| ("127.0.0.1".into(), ServerKind::LlamaServer.default_port()));
    let limit = f
        .server
        .local
        .then(|| crate::server::model_folder::local(&folder))
        .flatten();
    let wanted = limit
        .as_ref()
        .and_then(|l| l.max_context)
        .unwrap_or(crate::planner::defaults(ServerKind::VllmMlx).fallback_context);
    let s = VllmMlxServe::with_folder(&folder, &name, wanted, &host, port, limit);
    let env = if claude_model.is_none() {
        format!(
            "; and set {}",
            claude_env_fix(f, &format!("ANTHROPIC_MODEL={}", sh_quote(&name)), "")
        )
    } else {
        String::new()
    };
    format!(
        "serve the same model with vllm-mlx (pip install vllm-mlx), which serves /v1/messages: stop mlx_lm.server, then run {}{env}",
        line(&s)
    )
}

/// The Claude Code variable that sets a tier's model.
fn tier_var(m: &ModelCheck) -> &'static str {
    match m.role.as_str() {
        "main" => "ANTHROPIC_MODEL",
        "subagent" => "CLAUDE_CODE_SUBAGENT_MODEL",
        _ if m.why.starts_with("ANTHROPIC_SMALL_FAST_MODEL") => "ANTHROPIC_SMALL_FAST_MODEL",
        _ => "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    }
}

/// The fix for a tier's model name the server does not serve (`model_missing`,
/// `background_model_missing`), for the kinds that refuse unknown names; `None` for others.
pub fn name_fix(f: &Facts, m: &ModelCheck) -> Option<String> {
    let b = f.server.backend.as_ref()?;
    let first = b.loaded().next().or(b.models.first())?;
    let var = format!("{}={}", tier_var(m), sh_quote(&first.id));
    match f.server.kind? {
        ServerKind::Vllm => Some(format!(
            "{}   (or serve the name too: {})",
            claude_env_fix(f, &var, ""),
            vllm_line(f, first, None)
        )),
        ServerKind::VllmMlx => Some(format!(
            "{}   (or restart vllm-mlx with --served-model-name {})",
            claude_env_fix(f, &var, ""),
            sh_quote(&m.name)
        )),
        ServerKind::LmStudio | ServerKind::Omlx => Some(claude_env_fix(f, &var, "")),
        _ => None,
    }
}

/// Whether a missing tier is already reported by these rules (LM Studio with several
/// models loaded), so the generic `model_missing` stays quiet.
pub fn reported_here(f: &Facts) -> bool {
    f.server.kind == Some(ServerKind::LmStudio)
        && f.server
            .backend
            .as_ref()
            .is_some_and(|b| b.loaded().count() > 1)
}

pub fn rules(f: &Facts, out: &mut Vec<(Section, Finding)>) {
    let sv = &f.server;
    if !is_backend(sv.kind) || !sv.reachable || sv.loading {
        return;
    }
    let s = Section::Server;
    let label = sv.kind.map(|k| k.label()).unwrap_or("the server");
    let Some(b) = &sv.backend else { return };
    for n in &b.notes {
        push(
            out,
            s,
            Finding::of("server_answer_unreadable", format!("{label} answered a route with something other than its JSON"))
                .detail(format!("{n}; its models and context could not be read from it (a proxy or another program on this port, or a server error)"))
                .fix(format!("check that {} is {label}'s own address, or name the kind: `cclocal doctor --server KIND`", sv.url)),
        );
    }
    match sv.kind {
        Some(ServerKind::LmStudio) => lmstudio(f, out),
        Some(ServerKind::Vllm) => {
            vllm_too_old(f, out);
            vllm_tools_off(f, out);
        }
        Some(ServerKind::VllmMlx) => vllm_mlx_max_tokens(f, out),
        _ => {}
    }
}

fn lmstudio(f: &Facts, out: &mut Vec<(Section, Finding)>) {
    let sv = &f.server;
    let s = Section::Server;
    let Some(b) = &sv.backend else { return };
    // Only the REST API and `lms` say what is loaded.
    let knows_loading = b
        .sources
        .iter()
        .any(|x| x.contains("/api/") || x.starts_with("lms"));
    if !knows_loading {
        return;
    }
    let loaded: Vec<&BackendModel> = b.loaded().collect();
    let main = f.claude.as_ref().and_then(|c| c.model.clone());
    if loaded.is_empty() {
        let pick = main
            .as_deref()
            .and_then(|n| b.find(n))
            .or(b.models.first())
            .map(|m| m.load_key().to_string())
            .unwrap_or_else(|| "<model-key>".into());
        push(
            out,
            s,
            Finding::of("lmstudio_nothing_loaded", "LM Studio has no model loaded")
                .detail(format!(
                    "{} lists {} downloaded model(s) and none loaded; Claude Code's first request then fails (\"No models loaded\") or, with just-in-time loading on, loads the model at LM Studio's default context (often 4096 tokens), far too small for Claude Code",
                    b.sources.join(", "),
                    b.models.len()
                ))
                .fix(lms_load_line(f, &pick, target_context(f))),
        );
        return;
    }
    let misses: Vec<&ModelCheck> = sv
        .models
        .iter()
        .filter(|m| b.find(&m.name).is_none())
        .collect();
    if misses.is_empty() {
        return;
    }
    let ids: Vec<&str> = loaded.iter().map(|m| m.id.as_str()).collect();
    let tiers = misses
        .iter()
        .map(|m| format!("{} {:?}", m.role, m.name))
        .collect::<Vec<_>>()
        .join(", ");
    let vars = misses
        .iter()
        .map(|m| format!("{}={}", tier_var(m), sh_quote(ids[0])))
        .collect::<Vec<_>>()
        .join(" ");
    if loaded.len() > 1 {
        push(
            out,
            s,
            Finding::of("lmstudio_models_ambiguous", format!("LM Studio has {} models loaded and Claude Code names none of them", loaded.len()))
                .detail(format!("Claude Code sends {tiers}; loaded: {}; with several models loaded LM Studio cannot pick one and refuses the request (\"Multiple models are loaded. Please specify a model…\")", crate::units::list_some(&ids)))
                .fix(format!("{}   (or unload the others: lms unload --all, then {})", claude_env_fix(f, &vars, ""), lms_load_line(f, loaded[0].load_key(), loaded[0].context.unwrap_or_else(|| target_context(f))))),
        );
    } else {
        push(
            out,
            s,
            Finding::of("lmstudio_model_unmatched", format!("Claude Code names a model LM Studio does not have; {} is loaded", ids[0]))
                .detail(format!("Claude Code sends {tiers}; with one model loaded LM Studio has answered any name with it, but that is not confirmed for /v1/messages, and a second loaded model makes every such request fail"))
                .fix(claude_env_fix(f, &vars, "")),
        );
    }
}

fn vllm_too_old(f: &Facts, out: &mut Vec<(Section, Finding)>) {
    use crate::server::vllm::{parse_version, MESSAGES_SINCE};
    let sv = &f.server;
    let version = sv.version.as_deref();
    let old = version
        .and_then(parse_version)
        .is_some_and(|v| v < MESSAGES_SINCE);
    if sv.messages_api == Some(false) || (old && sv.messages_api != Some(true)) {
        let crate::version::Version(a, b_, c) = MESSAGES_SINCE;
        push(
            out,
            Section::Server,
            Finding::of("server_too_old", "this vLLM has no Anthropic Messages API (/v1/messages)")
                .detail(format!(
                    "vLLM {} answers POST /v1/messages as a missing route; `vllm serve` serves it since vLLM PR #27882 (about {a}.{b_}.{c})",
                    version.unwrap_or("(version unknown)")
                ))
                .fix("upgrade vLLM: pip install -U vllm   (then restart `vllm serve`)"),
        );
    }
}

/// A vLLM started without tool calling refuses every request with tools, and Claude Code
/// sends tools with every request (`vllm_tools_off`, from [`crate::server::vllm::tools_probe`]).
fn vllm_tools_off(f: &Facts, out: &mut Vec<(Section, Finding)>) {
    let Some(b) = &f.server.backend else { return };
    let Some(tc) = b.tool_choice.as_ref().filter(|t| !t.auto_ok) else {
        return;
    };
    let Some(m) = b.loaded().next().or(b.models.first()) else {
        return;
    };
    push(
        out,
        Section::Server,
        Finding::of("vllm_tools_off", "vLLM was started without tool calling: every Claude Code request fails")
            .detail(format!(
                "Claude Code sends tools with every request; this vLLM answers such a request with HTTP 400 ({}), so Claude Code shows \"API Error: 400\" for every prompt",
                tc.message.as_deref().unwrap_or("\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set")
            ))
            .fix(format!("restart vLLM with tool calling on: {}", vllm_line(f, m, None))),
    );
}

/// vllm-mlx refuses a request whose `max_tokens` is above its `--max-request-tokens` (HTTP
/// 400 "max_tokens exceeds server limit"), and Claude Code asks for the same `max_tokens`
/// in every request: all of them fail (`vllm_mlx_max_tokens_refused`).
fn vllm_mlx_max_tokens(f: &Facts, out: &mut Vec<(Section, Finding)>) {
    let Some(limit) = f.server.backend.as_ref().and_then(|b| b.max_request_tokens) else {
        return;
    };
    let Some(v) = super::claude_version(f) else {
        return;
    };
    let asks = crate::claude::max_tokens_for(v, &super::window_env(f));
    if asks <= limit {
        return;
    }
    push(
        out,
        Section::Server,
        Finding::of(
            "vllm_mlx_max_tokens_refused",
            format!("vllm-mlx accepts max_tokens up to {limit}, and Claude Code asks for {asks}: every request fails"),
        )
        .detail(format!(
            "vllm-mlx answers HTTP 400 \"max_tokens exceeds server limit ({limit})\" before reading the request (its log shows only the 400 access line); Claude Code {v} sends max_tokens {asks} with every request"
        ))
        .fix(format!(
            "{}   (or restart vllm-mlx with --max-request-tokens {asks})",
            super::claude_env_fix(f, &format!("CLAUDE_CODE_MAX_OUTPUT_TOKENS={limit}"), "")
        )),
    );
}
