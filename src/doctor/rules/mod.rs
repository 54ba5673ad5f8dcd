//! Rules: pure functions from [`Facts`] to findings. No I/O, no clock; every rule can be
//! tested with hand-made facts.

pub mod backends;
mod claude;
mod context;
mod llama;
mod server;
mod serverlog;
pub mod setup;
pub(crate) use setup::{restart_fix, served_context_drift};

pub use crate::claude::env_line;
use crate::claude::{compute_window, EnvMap, Version, WindowCalc, LATEST_KNOWN};
use crate::doctor::facts::Facts;
use crate::findings::Finding;
use serde::Serialize;
pub(crate) use serverlog::checked_logs;

/// Where a finding is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Machine,
    Claude,
    Server,
    Model,
    ServerConfig,
}

/// Every finding id the doctor can report (the JSON contract).
pub const IDS: &[&str] = &[
    "context_mismatch",
    "context_unknown",
    "server_context_small",
    "memory_does_not_fit",
    "model_partial_offload",
    "server_unreachable",
    "server_not_checked",
    "server_too_old",
    "server_loading",
    "server_not_llm",
    "server_kind_unknown",
    "messages_api_missing",
    "remote_server",
    "model_missing",
    "background_model_missing",
    "kv_cache_f16",
    "kv_quant_without_flash_attention",
    "keep_alive_short",
    "cache_buster",
    "unknown_env_var",
    "autocompact_ineffective",
    "base_url_v1_suffix",
    "api_key_conflict",
    "settings_env_override",
    "onboarding_gate",
    "llama_slots_split",
    "llama_no_jinja",
    "llama_template_no_tools",
    "llama_build_old",
    "claude_config_unreadable",
    "launcher_missing",
    "auth_token_missing",
    "ollama_app_context_override",
    "server_exposed",
    "claude_missing",
    "setup_drift",
    "lmstudio_nothing_loaded",
    "lmstudio_models_ambiguous",
    "lmstudio_model_unmatched",
    "server_answer_unreadable",
    "vllm_tools_off",
    "vllm_mlx_max_tokens_refused",
    "prompt_truncated",
    "model_reloaded",
    "kv_cache_type_ignored",
    "prompt_cache_not_reused",
    "verify_mismatch",
];

/// All findings, each with its section, most severe first (stable within a severity).
pub fn evaluate(f: &Facts) -> Vec<(Section, Finding)> {
    let mut out = Vec::new();
    claude::rules(f, &mut out);
    server::rules(f, &mut out);
    context::rules(f, &mut out);
    llama::rules(f, &mut out);
    backends::rules(f, &mut out);
    setup::rules(f, &mut out);
    serverlog::rules(f, &mut out);
    out.sort_by_key(|b| std::cmp::Reverse(b.1.severity));
    out
}

/// The findings alone.
pub fn findings(f: &Facts) -> Vec<Finding> {
    evaluate(f).into_iter().map(|(_, x)| x).collect()
}

/// The Claude Code version the rules reason about: the installed one, else the one
/// `cclocal setup` planned for (config.toml; a JavaScript build can miss a short budget),
/// else the newest known (and the caller says so).
pub fn claude_version(f: &Facts) -> Option<Version> {
    let c = f.claude.as_ref()?;
    // The one order (`crate::claude::resolve`); the doctor has no --claude-version.
    Some(crate::claude::resolve::version(None, || c.version, planned_version(f)).0)
}

/// The Claude Code version `cclocal setup` computed the settings for (config.toml).
pub fn planned_version(f: &Facts) -> Option<Version> {
    f.setup
        .as_ref()?
        .config
        .as_ref()?
        .claude
        .version
        .parse::<Version>()
        .ok()
}

/// Claude Code's environment as the window computation needs it: the merged env, plus
/// the settings that act like variables (`autoCompactWindow` on 2.1.323+, a boolean
/// `autoCompactEnabled: false`).
pub fn window_env(f: &Facts) -> EnvMap {
    let mut env = f.claude_env();
    if let (Some(c), Some(v)) = (f.claude.as_ref(), claude_version(f)) {
        if v >= Version(2, 1, 323) && !env.contains_key("CLAUDE_CODE_AUTO_COMPACT_WINDOW") {
            if let Some(w) = c
                .auto_compact_window
                .as_ref()
                .and_then(|w| w.as_u64())
                .filter(|w| *w >= 100_000)
            {
                env.insert("CLAUDE_CODE_AUTO_COMPACT_WINDOW".into(), w.to_string());
            }
        }
        if c.auto_compact_enabled == Some(serde_json::Value::Bool(false)) {
            env.insert("DISABLE_AUTO_COMPACT".into(), "1".into());
        }
    }
    env
}

/// What the installed Claude Code will do with its model and environment.
pub fn window(f: &Facts) -> Option<WindowCalc> {
    let v = claude_version(f)?;
    let model = f
        .claude
        .as_ref()?
        .model
        .clone()
        .unwrap_or_else(|| "claude-sonnet-4-5".into());
    Some(compute_window(v, &model, &window_env(f)))
}

/// Whether the installed Claude Code, with its environment, compacts in time on a server
/// that keeps `c` tokens: the planner's own test (`crate::planner::obeys`), so the doctor
/// accepts exactly what plan and setup write (a percentage where the window cannot be
/// lowered, as on 2.1.74 and older).
pub fn window_obeys(f: &Facts, c: u64) -> bool {
    let (Some(v), Some(claude)) = (claude_version(f), f.claude.as_ref()) else {
        return true;
    };
    let model = claude
        .model
        .clone()
        .unwrap_or_else(|| "claude-sonnet-4-5".into());
    crate::planner::obeys(v, c, &model, &window_env(f))
}

/// The fix for Claude Code's window settings, from the planner (one generator): the
/// settings for the installed version and the served context when both are known, else
/// the `cclocal plan` command that computes them.
pub fn window_settings_fix(f: &Facts) -> String {
    let v = claude_version(f).unwrap_or(LATEST_KNOWN);
    let model = f.model.as_ref();
    match model.and_then(|m| m.served_context.map(|c| (m, c))) {
        Some((m, c)) => {
            let advice = crate::planner::advise_version(v, c, &m.name);
            match advice.env() {
                Some(env) => claude_env_fix(f, &env_line(&with_model(f, &m.name, env)), &format!(" --ctx {c}")),
                None => advice.line(),
            }
        }
        None => format!(
            "`cclocal plan {} --ctx <served context> --claude-version {v}` prints the settings Claude Code {v} reads",
            model.map_or("MODEL", |m| m.name.as_str())
        ),
    }
}

/// `env` for the served model `served`, plus `ANTHROPIC_MODEL=served` where Claude Code would
/// otherwise send a `claude-*` name (none set, or a Claude name): Claude Code gives such a
/// name its own window and ignores `CLAUDE_CODE_MAX_CONTEXT_TOKENS` (docs/claude-code.md),
/// so the settings computed for the served model work only with that model named.
pub fn with_model(f: &Facts, served: &str, env: &EnvMap) -> EnvMap {
    let mut env = env.clone();
    let sent = f.claude.as_ref().and_then(|c| c.model.as_deref());
    let claude_name = |n: &str| n.trim().to_ascii_lowercase().starts_with("claude-");
    if sent.map_or(true, claude_name) && !claude_name(served) {
        env.insert("ANTHROPIC_MODEL".into(), served.to_string());
    }
    env
}

/// How to give Claude Code `vars`: through `cclocal setup{setup_args}` when a launcher
/// written by setup starts it (its `--settings` file wins over anything the user edits),
/// else in the shell or `~/.claude/settings.json`.
pub fn claude_env_fix(f: &Facts, vars: &str, setup_args: &str) -> String {
    match f.claude.as_ref().and_then(|c| c.launcher.as_deref()) {
        Some(l) => format!(
            "cclocal setup{setup_args}   (rewrites the launcher {l} and its settings file: {vars})"
        ),
        None => format!("set for Claude Code (shell or ~/.claude/settings.json \"env\"): {vars}"),
    }
}

/// The planner chose an f16 KV cache for a context at least as large as the one served,
/// and it fits: the doctor then does not advise q8_0 (`kv_cache_f16` agrees with
/// `cclocal plan` and `cclocal setup`).
pub(crate) fn planner_chose_f16(mem: &crate::doctor::facts::MemoryFacts) -> bool {
    mem.fits
        && mem.planned_kv_type.as_deref() == Some(crate::planner::KvType::DEFAULT.name())
        && mem.planned_context.is_some_and(|c| c >= mem.n_ctx)
}

/// What `kv_cache_f16` advises instead of an f16 cache, when a quantized one would save
/// memory: the planner's choice for this model and budget when it is quantized (the type
/// `plan` prints and `setup` writes; q4_0 where only q4_0 fits), else q8_0. Returns the type,
/// the finding's title and what the cache takes with each type.
pub(crate) fn quantized_kv(
    mem: &crate::doctor::facts::MemoryFacts,
) -> Option<(String, String, String)> {
    use crate::units::human;
    let q8 = mem.kv_bytes_q8_0.filter(|q| *q < mem.kv_bytes)?;
    let (t, bytes) = match mem.planned_kv_type.as_deref() {
        Some(t) if crate::planner::kv::is_quantized(t) => (t.to_string(), mem.kv_bytes_planned),
        _ => (crate::planner::KvType::Q8_0.name().to_string(), Some(q8)),
    };
    let f16 = human(mem.kv_bytes);
    Some(match bytes {
        Some(b) => (
            t.clone(),
            format!("the KV cache is f16; {t} would take {} instead of {f16}", human(b)),
            format!(
                "at {} tokens the KV cache takes {f16} in f16 and {} in {t} (the planner's choice for this model and budget, or q8_0)",
                mem.n_ctx,
                human(b)
            ),
        ),
        None => (
            t.clone(),
            format!("the KV cache is f16; {t} would shrink it"),
            format!(
                "at {} tokens the KV cache takes {f16} in f16, {} in q8_0 and less in {t} (the planner's choice for this model and budget)",
                mem.n_ctx,
                human(q8)
            ),
        ),
    })
}

/// ` --host URL` for a printed `cclocal setup --server llama-server …` when the server the
/// doctor checked is not where setup would put it (llama-server's default port on this
/// machine): applied as printed, setup then writes the server the doctor looked at.
pub(crate) fn setup_host_arg(f: &Facts) -> String {
    use crate::server::{ServerKind, ServerUrl};
    let default = ServerKind::LlamaServer.default_port();
    match ServerUrl::parse_for(&f.server.url, Some(ServerKind::LlamaServer)) {
        Ok(u)
            if u.port == default
                && u.prefix.is_empty()
                && crate::server::is_local_host(&u.host) =>
        {
            String::new()
        }
        Ok(u) => format!(" --host {}", crate::shell::quote::sh_quote(&u.to_url())),
        Err(_) => String::new(),
    }
}

pub(crate) fn push(out: &mut Vec<(Section, Finding)>, s: Section, f: Finding) {
    out.push((s, f));
}
