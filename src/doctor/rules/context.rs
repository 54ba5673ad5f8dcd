//! Rules about the model's context and memory: Claude Code's window against the served
//! context, the context's size, and whether the model fits.

use super::server::{set_server_var, set_server_vars};
use super::{claude_env_fix, claude_version, env_line, push, window, Section};
use crate::doctor::facts::{ContextSource, Facts, ModelFacts};
use crate::findings::{Finding, Severity};
use crate::planner::{advise, VersionSpan};
use crate::planner::{FixTarget, KvType};
use crate::server::ServerKind;
use crate::units::human;

/// Below this no Claude Code setting can work (the planner's floor, docs/planner.md).
pub const CONTEXT_UNUSABLE: u64 = crate::planner::MIN_USABLE_CONTEXT;
/// Ollama's Claude Code page asks for 64k or more.
pub const CONTEXT_RECOMMENDED: u64 = crate::planner::RECOMMENDED_CONTEXT;

/// Where a live context comes from, in the terms of the kind of server that reported it
/// (each kind's probe in `src/server/`; docs/servers.md).
fn live_source(kind: Option<ServerKind>) -> &'static str {
    match kind {
        Some(ServerKind::LlamaServer) => {
            "llama-server's per-slot context, n_ctx in /slots, else /props default_generation_settings.n_ctx"
        }
        Some(ServerKind::LmStudio) => {
            "LM Studio's loaded_context_length of the loaded instance, from /api/v1/models, /api/v0/models or lms ps"
        }
        Some(ServerKind::Vllm) => "vLLM's max_model_len for the model in /v1/models",
        Some(ServerKind::VllmMlx) => {
            "the vllm-mlx process: its --max-kv-size, else max_position_embeddings in the model folder's config.json"
        }
        Some(ServerKind::Omlx) => "the context oMLX lists for the loaded model in /v1/models",
        Some(ServerKind::MlxLm) => "what mlx_lm.server reports for the loaded model",
        Some(ServerKind::Ollama) | None => {
            "what Ollama reports live for the loaded model, context_length in /api/ps"
        }
        Some(ServerKind::Unknown) => "what the server reports live for the loaded model",
    }
}

/// Where the served context came from: a live report in the terms of the kind of server
/// checked (Ollama's /api/ps only for Ollama), or Ollama's own settings.
fn source_of(f: &Facts, s: Option<ContextSource>) -> &'static str {
    match s {
        Some(ContextSource::Live) => live_source(f.server.kind),
        Some(ContextSource::Modelfile) => "the model's num_ctx parameter",
        Some(ContextSource::ServerEnv) => "the server's context setting",
        Some(ContextSource::Default) => "this Ollama version's default",
        None => "unknown",
    }
}

pub fn rules(f: &Facts, out: &mut Vec<(Section, Finding)>) {
    let s = Section::Model;
    let Some(m) = &f.model else { return };
    let llama = f.server.kind == Some(crate::server::ServerKind::LlamaServer);
    let Some(c) = m.served_context else {
        if f.server.reachable && f.server.kind == Some(crate::server::ServerKind::VllmMlx) {
            push(
                out,
                s,
                Finding::of("context_unknown", format!("the context {} is served with is not known", m.name))
                    .detail("vllm-mlx reports no context over HTTP; it keeps the whole prompt up to the model's own limit (max_position_embeddings in the folder's config.json) or --max-kv-size, and cclocal reads both from the vllm-mlx process on this machine: none was found serving this port with a model folder it can read")
                    .fix(if f.server.local {
                        "start vllm-mlx with the model folder as its first argument on this machine (`cclocal setup --server vllm-mlx --model NAME` writes the line), then run the doctor again".to_string()
                    } else {
                        format!("run `cclocal doctor --host {}` on the vllm-mlx machine", f.server.url)
                    }),
            );
        } else if f.server.reachable && super::backends::is_backend(f.server.kind) {
            push(
                out,
                s,
                Finding::of("context_unknown", format!("{} does not report the context {} is served with", super::server::kind_label(f), m.name))
                    .detail("Claude Code's settings cannot be checked against it; a context below Claude Code's window makes long sessions fail")
                    .fix("compare the server's context setting with `cclocal plan --host URL`'s advice"),
            );
        } else if f.server.reachable {
            push(
                out,
                s,
                if llama {
                    Finding::of("context_unknown", format!("the context {} is served with is not known", m.name))
                        .detail("llama-server did not report its per-slot context: /props and /slots did not answer (started with --api-key, or --no-slots?)")
                        .fix("check `curl URL/props` on the server host, or start llama-server with an explicit --ctx-size N --parallel 1")
                } else {
                    Finding::of("context_unknown", format!("the context {} is served with is not known yet", m.name))
                        .detail("the model is not loaded and nothing sets its context; Ollama then picks 4k, 32k or 256k from the GPU's total memory")
                        .fix("run one Claude Code prompt (or `ollama run <model> hi`), then run the doctor again")
                },
            );
        }
        return;
    };
    let trained = m.trained_context.unwrap_or(u64::MAX);
    // What to serve instead: the planner's choice for this model on this machine, the one
    // `plan` prints and `setup` writes (`planner::fix`).
    let fix_to = target(f, m);
    let target = fix_to.as_ref().map_or(0, |t| t.context);
    if c < CONTEXT_RECOMMENDED && c < trained && c < target.max(CONTEXT_UNUSABLE) {
        let sev = if c < CONTEXT_UNUSABLE {
            Severity::Error
        } else {
            Severity::Warning
        };
        push(
            out,
            s,
            Finding::graded("server_context_small", sev, format!("{} is served with a {c}-token context", m.name))
                .detail(format!(
                    "from {}; Claude Code's system prompt and tools alone take about 12–19k tokens, and {} beyond the context; 64k or more is recommended{}",
                    source_of(f, m.served_context_source),
                    super::backends::overflow_words(f),
                    m.trained_context.map(|t| format!(" (the model was trained for {t})")).unwrap_or_default()
                ))
                .fix(match &fix_to {
                    // The server runs other settings than setup wrote (which were not
                    // small): restarting it is the one fix (as setup_drift says).
                    _ if drift_restart(f, c).is_some() => drift_restart(f, c).unwrap_or_default(),
                    Some(t) => serve_fix(f, m, t, ""),
                    None => no_setting(m),
                }),
        );
    }
    if let (Some(calc), Some(v)) = (window(f), claude_version(f)) {
        // A window above the served context is fine where the threshold and the hard
        // block sit inside it (the percentage route of builds that cannot lower the window).
        if calc.window > c && !super::window_obeys(f, c) {
            // A detected version gets its own settings, else the one setup planned for;
            // otherwise settings every version obeys.
            let detected = f.claude.as_ref().and_then(|x| x.version);
            let planned = super::planned_version(f);
            let span = match detected.or(planned) {
                Some(v) => VersionSpan::one(v),
                None => VersionSpan {
                    from: crate::claude::GATES[0].from,
                    to: crate::claude::GATES[crate::claude::GATES.len() - 1].to,
                },
            };
            let advice = advise(span, c, &m.name);
            let assumed = match (&advice, detected, planned) {
                (_, Some(_), _) => String::new(),
                (_, None, Some(p)) => format!(
                    " (version not detected in time; assuming {p}, the version `cclocal setup` planned for)"
                ),
                (crate::planner::ClaudeAdvice::Settings { span: for_, .. }, None, None) if *for_ != span => format!(
                    " (version not detected; assuming the newest known, and the fix works for Claude Code {for_}: 2.1.74 and older read only CLAUDE_AUTOCOMPACT_PCT_OVERRIDE)"
                ),
                _ => " (version not detected; assuming the newest known, and the fix works for any version)".to_string(),
            };
            push(
                out,
                s,
                Finding::of("context_mismatch", format!("Claude Code {v} assumes a {}-token window; the server serves {c}", calc.window))
                    .detail(format!(
                        "Claude Code{assumed} uses a {}-token window for {}{} (effectiveWindow={}, compaction at {} tokens{}), but the server holds only {c} tokens ({}); {}",
                        calc.window,
                        m.name,
                        if calc.model_window != calc.window {
                            format!(", which it treats as a {}-token model", calc.model_window)
                        } else {
                            String::new()
                        },
                        calc.effective_window,
                        calc.autocompact_threshold,
                        if calc.proactive { "" } else { ", and this version does not compact proactively" },
                        source_of(f, m.served_context_source),
                        if f.server.kind.is_none() || f.server.kind == Some(crate::server::ServerKind::Ollama) {
                            "past that Ollama drops the oldest messages without an error, so Claude Code loses context instead of compacting".to_string()
                        } else {
                            format!("past that {}, so the session stops instead of compacting", super::backends::overflow_words(f))
                        },
                    ))
                    .fix(match (drift_restart(f, c), advice.env()) {
                        // The launcher's settings are for the context setup configured,
                        // which the server does not serve yet: restarting it is the one fix
                        // (as setup_drift says).
                        (Some(restart), _) if f.claude.as_ref().is_some_and(|x| x.launcher.is_some()) => restart,
                        (_, Some(env)) => claude_env_fix(f, &env_line(&super::with_model(f, &m.name, env)), &format!(" --ctx {c}")),
                        (_, None) => advice.line(),
                    }),
            );
        }
    }
    if let Some(mem) = &m.memory {
        if !mem.fits {
            push(
                out,
                s,
                Finding::of("memory_does_not_fit", format!("{} at {} tokens needs {} of {}", m.name, mem.n_ctx, human(mem.total_bytes), human(mem.budget_bytes)))
                    .detail(format!("weights, a {} {} KV cache and compute buffers exceed the memory budget (1 GiB kept free); {} will offload layers to the CPU or fail to load", human(mem.kv_bytes), mem.kv_type, match f.server.kind { Some(k) if k != crate::server::ServerKind::Ollama && k != crate::server::ServerKind::Unknown => k.label(), _ => "Ollama" }))
                    .fix(match &fix_to {
                        Some(t) => serve_fix(f, m, t, "serve what fits: "),
                        None => format!("no server setting fits a usable context: use a smaller model or quantization, or more memory (`cclocal plan {}` shows what fits)", m.name),
                    }),
            );
        }
    }
    let loaded = f
        .server
        .loaded
        .iter()
        .find(|l| crate::doctor::probe::same_model(&l.name, &m.name));
    if let Some(l) = loaded {
        let gpu = f.machine.budget.as_ref().is_some_and(|b| b.gpu);
        if l.size > 0 && l.size_vram < l.size && (l.size_vram > 0 || gpu) {
            let pct = 100.0 * (l.size - l.size_vram) as f64 / l.size as f64;
            push(
                out,
                s,
                Finding::of("model_partial_offload", format!("{:.0}% of {} runs on the CPU", pct, m.name))
                    .detail(format!("/api/ps: size {} but size_vram {}; CPU layers make prompt processing many times slower", human(l.size), human(l.size_vram)))
                    .fix("lower the context or use OLLAMA_KV_CACHE_TYPE=q8_0 so the whole model fits on the GPU"),
            );
        }
    }
    if let (Some(cfg), Some(mem)) = (&f.server_config, &m.memory) {
        let kv = cfg
            .env
            .get("OLLAMA_KV_CACHE_TYPE")
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if cfg.env_source.is_some()
            && crate::planner::kv::name_or_default(Some(&kv)) == KvType::DEFAULT.name()
            && !super::planner_chose_f16(mem)
        {
            if let Some((t, title, takes)) = super::quantized_kv(mem) {
                let tight = !mem.fits || loaded.is_some_and(|l| l.size_vram < l.size);
                push(
                    out,
                    s,
                    Finding::graded(
                        "kv_cache_f16",
                        if tight {
                            Severity::Warning
                        } else {
                            Severity::Info
                        },
                        title,
                    )
                    .detail(takes)
                    .fix(if ollama_needs_flash_attn(f) {
                        set_server_vars(
                            f,
                            &[
                                ("OLLAMA_FLASH_ATTENTION".into(), "1".into()),
                                ("OLLAMA_KV_CACHE_TYPE".into(), t.clone()),
                            ],
                        )
                    } else {
                        set_server_var(f, &format!("OLLAMA_KV_CACHE_TYPE={t}"))
                    }),
                );
            }
        }
    }
}

/// The planner's target for the model (`planner::fix`): its choice when the memory is known
/// (the same context and cache type `plan` prints), else the kind's fallback context.
pub fn target(f: &Facts, m: &ModelFacts) -> Option<FixTarget> {
    let kind = f.server.kind.unwrap_or(crate::server::ServerKind::Ollama);
    let planned = m
        .memory
        .as_ref()
        .and_then(|mem| mem.planned_context.zip(mem.planned_kv_type.as_deref()));
    // LM Studio's context is planned from its GGUF with its own f16 cache.
    let lmstudio = crate::planner::kinds::planned_kv_type(crate::server::ServerKind::LmStudio)
        .unwrap_or(KvType::DEFAULT)
        .name();
    let planned = planned.or_else(|| m.planned_context.map(|c| (c, lmstudio)));
    let known = m.memory.is_some() || m.planned_context.is_some();
    crate::planner::fix(planned, known, m.trained_context, kind)
}

/// "No server setting can work", with the reason (the trained context, or the memory).
fn no_setting(m: &ModelFacts) -> String {
    match m.trained_context {
        Some(t) if t < CONTEXT_UNUSABLE => format!("no server setting can work: {} was trained for {t} tokens and Claude Code needs at least {CONTEXT_UNUSABLE}; use a model trained for a longer context", m.name),
        _ => format!(
            "no server setting can work: {} fits at most {} tokens in this machine's memory (any KV cache type) and Claude Code needs at least {CONTEXT_UNUSABLE}; use a smaller model or quantization, or more memory (`cclocal plan {}` shows what fits)",
            m.name,
            m.memory.as_ref().and_then(|x| x.planned_context.or(x.largest_fit)).unwrap_or(0),
            m.name
        ),
    }
}

/// The cache type the server uses now (its `OLLAMA_KV_CACHE_TYPE`, llama-server's `-ctk`,
/// else what the memory was computed with).
fn current_kv(f: &Facts, m: &ModelFacts) -> String {
    let env = f
        .server_config
        .as_ref()
        .filter(|c| c.env_source.is_some())
        .map(|c| {
            crate::planner::kv::name_or_default(
                c.env.get("OLLAMA_KV_CACHE_TYPE").map(String::as_str),
            )
        });
    m.kv_type
        .clone()
        .or(env)
        .or_else(|| m.memory.as_ref().map(|x| x.kv_type.clone()))
        .unwrap_or_else(|| KvType::DEFAULT.name().to_string())
}

/// Whether Ollama must be told `OLLAMA_FLASH_ATTENTION=1` for a quantized cache: before
/// 0.30 (or an unknown version) a quantized cache without it falls back to f16, and any
/// version with it set off refuses or falls back (docs/ollama.md, "Environment variables").
fn ollama_needs_flash_attn(f: &Facts) -> bool {
    let set_off = f
        .server_config
        .as_ref()
        .and_then(|c| c.env.get("OLLAMA_FLASH_ATTENTION"))
        .is_some_and(|v| crate::doctor::probe::ollama_bool_false(v));
    let old = f
        .server
        .version
        .as_deref()
        .and_then(crate::doctor::knowledge::ollama_version)
        .map_or(true, |v| v < crate::doctor::knowledge::LLAMA_SERVER_SINCE);
    set_off || old
}

/// One fix that makes the server serve `t`, built by the generators setup writes with
/// (`planner::ollama_env`, `planner::llama_server_args`, the kinds' own lines): the context,
/// the cache type and, where a quantized cache needs it, flash attention, in one command.
pub fn serve_fix(f: &Facts, m: &ModelFacts, t: &FixTarget, lead: &str) -> String {
    if super::backends::is_backend(f.server.kind) {
        return super::backends::context_fix(f, t.context).unwrap_or_default();
    }
    let now = current_kv(f, m);
    let kv = t.kv_type.clone().unwrap_or_else(|| now.clone());
    let quantized = crate::planner::kv::is_quantized(&kv);
    if f.server.kind == Some(crate::server::ServerKind::LlamaServer) {
        let mut s = crate::planner::ServerSettings::new(t.context, &kv);
        s.flash_attn = quantized || m.flash_attn.as_deref() != Some("off");
        return format!(
            "{lead}start llama-server with {}   (`cclocal setup --server llama-server{} --ctx {} --kv-type {kv}` writes it)",
            crate::planner::llama_server_args(&s).join(" "),
            super::setup_host_arg(f),
            t.context
        );
    }
    let s = crate::planner::ServerSettings::new(t.context, &kv);
    let fa = quantized && ollama_needs_flash_attn(f);
    let vars: Vec<(String, String)> = crate::planner::ollama_env(&s)
        .into_iter()
        .filter(|(k, _)| match k.as_str() {
            "OLLAMA_CONTEXT_LENGTH" => true,
            "OLLAMA_KV_CACHE_TYPE" => t.kv_type.is_some(),
            "OLLAMA_FLASH_ATTENTION" => fa,
            _ => false,
        })
        .collect();
    let derived = if kv == now {
        format!(
            "   (or a derived model: FROM {} + PARAMETER num_ctx {})",
            m.name, t.context
        )
    } else {
        format!("   (the planner's choice for this machine: a {kv} KV cache; `cclocal plan {}` shows the rows)", m.name)
    };
    format!("{lead}{}{derived}", set_server_vars(f, &vars))
}

/// The restart that brings the server to the larger context `cclocal setup` configured
/// (it serves `c`), when that is the drift; `None` otherwise.
fn drift_restart(f: &Facts, c: u64) -> Option<String> {
    let cfg = super::served_context_drift(f)?;
    (cfg.model.context > c && cfg.model.context >= CONTEXT_UNUSABLE)
        .then(|| super::restart_fix(f, cfg))
}
