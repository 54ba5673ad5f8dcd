//! Rules about the model's context and memory: Claude Code's window against the served
//! context, the context's size, and whether the model fits.

use super::server::set_server_var;
use super::{claude_env_fix, claude_version, env_line, finding, push, window, Section};
use crate::doctor::facts::{ContextSource, Facts};
use crate::findings::{Finding, Severity};
use crate::planner::{advise, VersionSpan};
use crate::units::human;

/// Below this no Claude Code setting can work (the planner's floor, docs/planner.md).
pub const CONTEXT_UNUSABLE: u64 = crate::planner::MIN_USABLE_CONTEXT;
/// Ollama's Claude Code page asks for 64k or more.
pub const CONTEXT_RECOMMENDED: u64 = crate::planner::RECOMMENDED_CONTEXT;

fn source_words(s: Option<ContextSource>) -> &'static str {
    match s {
        Some(ContextSource::Live) => {
            "what the server reports live: /api/ps, or llama-server's per-slot /slots"
        }
        Some(ContextSource::Modelfile) => "the model's num_ctx parameter",
        Some(ContextSource::ServerEnv) => "the server's context setting",
        Some(ContextSource::Default) => "this Ollama version's default",
        None => "unknown",
    }
}

/// [`source_words`], naming LM Studio's, vLLM's or an MLX server's own report.
fn source_of(f: &Facts, s: Option<ContextSource>) -> String {
    match (f.server.kind, s) {
        (Some(k), Some(ContextSource::Live)) if super::backends::is_backend(Some(k)) => {
            format!("what {} reports live for the loaded model", k.label())
        }
        _ => source_words(s).to_string(),
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
                finding("context_unknown", Severity::Info, format!("the context {} is served with is not known", m.name))
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
                finding("context_unknown", Severity::Info, format!("{} does not report the context {} is served with", super::server::kind_label(f), m.name))
                    .detail("Claude Code's settings cannot be checked against it; a context below Claude Code's window makes long sessions fail")
                    .fix("compare the server's context setting with `cclocal plan --host URL`'s advice"),
            );
        } else if f.server.reachable {
            push(
                out,
                s,
                if llama {
                    finding("context_unknown", Severity::Info, format!("the context {} is served with is not known", m.name))
                        .detail("llama-server did not report its per-slot context: /props and /slots did not answer (started with --api-key, or --no-slots?)")
                        .fix("check `curl URL/props` on the server host, or start llama-server with an explicit -c N -np 1")
                } else {
                    finding("context_unknown", Severity::Info, format!("the context {} is served with is not known yet", m.name))
                        .detail("the model is not loaded and nothing sets its context; Ollama then picks 4k, 32k or 256k from the GPU's total memory")
                        .fix("run one Claude Code prompt (or `ollama run <model> hi`), then run the doctor again")
                },
            );
        }
        return;
    };
    let trained = m.trained_context.unwrap_or(u64::MAX);
    // What to serve instead: 64K (or the trained context), but never more than fits, with
    // the server's cache type or else the planner's (docs/planner.md).
    let usable = |n: Option<u64>| {
        n.map(|l| CONTEXT_RECOMMENDED.min(trained).min(l / 1024 * 1024))
            .filter(|t| *t >= CONTEXT_UNUSABLE)
    };
    let fix_to = match &m.memory {
        None => Some((CONTEXT_RECOMMENDED.min(trained), None)),
        Some(mem) => usable(mem.largest_fit)
            .map(|t| (t, None))
            .or_else(|| usable(mem.planned_context).map(|t| (t, mem.planned_kv_type.clone()))),
    };
    let target = fix_to.as_ref().map_or(0, |(t, _)| *t);
    if c < CONTEXT_RECOMMENDED && c < trained && c < target.max(CONTEXT_UNUSABLE) {
        let sev = if c < CONTEXT_UNUSABLE {
            Severity::Error
        } else {
            Severity::Warning
        };
        let fix = match &fix_to {
            Some((t, None)) if *t >= CONTEXT_UNUSABLE => format!(
                "{}   (or a derived model: FROM {} + PARAMETER num_ctx {t})",
                set_server_var(f, &format!("OLLAMA_CONTEXT_LENGTH={t}")),
                m.name
            ),
            Some((t, Some(kv))) => format!(
                "{}; {}   (the largest context that fits needs a {kv} KV cache)",
                set_server_var(f, &format!("OLLAMA_CONTEXT_LENGTH={t}")),
                set_server_var(f, &format!("OLLAMA_KV_CACHE_TYPE={kv}")),
            ),
            _ if trained < CONTEXT_UNUSABLE => format!("no server setting can work: {} was trained for {trained} tokens and Claude Code needs at least {CONTEXT_UNUSABLE}; use a model trained for a longer context", m.name),
            _ => format!(
                "no server setting can work: {} fits at most {} tokens in this machine's memory (any KV cache type) and Claude Code needs at least {CONTEXT_UNUSABLE}; use a smaller model or quantization, or more memory (`cclocal plan {}` shows what fits)",
                m.name,
                m.memory.as_ref().and_then(|x| x.planned_context.or(x.largest_fit)).unwrap_or(0),
                m.name
            ),
        };
        push(
            out,
            s,
            finding("server_context_small", sev, format!("{} is served with a {c}-token context", m.name))
                .detail(format!(
                    "from {}; Claude Code's system prompt and tools alone take about 12–19k tokens, and {} beyond the context; 64k or more is recommended{}",
                    source_of(f, m.served_context_source),
                    super::backends::overflow_words(f),
                    m.trained_context.map(|t| format!(" (the model was trained for {t})")).unwrap_or_default()
                ))
                .fix(match (&fix_to, llama) {
                    // The server runs other settings than setup wrote (which were not
                    // small): restarting it is the one fix (as setup_drift says).
                    _ if drift_restart(f, c).is_some() => drift_restart(f, c).unwrap_or_default(),
                    (Some((t, _)), _) if super::backends::is_backend(f.server.kind) => {
                        super::backends::context_fix(f, (*t).max(CONTEXT_UNUSABLE)).unwrap_or(fix)
                    }
                    (Some((t, kv)), true) if *t >= CONTEXT_UNUSABLE => {
                        let kv = kv.as_ref().map(|k| format!(" -ctk {k} -ctv {k}")).unwrap_or_default();
                        format!("start llama-server with -c {t} -np 1{kv}   (LLAMA_ARG_CTX_SIZE={t}), or `cclocal setup --server llama-server --ctx {t}`")
                    }
                    _ => fix,
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
                finding("context_mismatch", Severity::Error, format!("Claude Code {v} assumes a {}-token window; the server serves {c}", calc.window))
                    .detail(format!(
                        "Claude Code{assumed} treats {} as a {}-token model (effectiveWindow={}, compaction at {} tokens{}), but the server holds only {c} tokens ({}); {}",
                        m.name,
                        calc.model_window,
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
                finding("memory_does_not_fit", Severity::Error, format!("{} at {} tokens needs {} of {}", m.name, mem.n_ctx, human(mem.total_bytes), human(mem.budget_bytes)))
                    .detail(format!("weights, a {} {} KV cache and compute buffers exceed the memory budget (1 GiB kept free); {} will offload layers to the CPU or fail to load", human(mem.kv_bytes), mem.kv_type, match f.server.kind { Some(k) if k != crate::server::ServerKind::Ollama && k != crate::server::ServerKind::Unknown => k.label(), _ => "Ollama" }))
                    .fix(match (mem.planned_context.filter(|c| *c >= CONTEXT_UNUSABLE), &mem.planned_kv_type) {
                        (Some(pc), _) if super::backends::is_backend(f.server.kind) => super::backends::context_fix(f, CONTEXT_RECOMMENDED.min(trained).max(CONTEXT_UNUSABLE).min(pc)).unwrap_or_default(),
                        (Some(pc), Some(kv)) if llama => format!(
                            "serve what fits: start llama-server with -c {} -ctk {kv} -ctv {kv}   (`cclocal plan {}` shows the rows)",
                            CONTEXT_RECOMMENDED.min(trained).max(CONTEXT_UNUSABLE).min(pc),
                            m.name
                        ),
                        (Some(pc), Some(kv)) => format!(
                            "serve what fits: {}; {}   (`cclocal plan {}` shows the rows)",
                            set_server_var(f, &format!("OLLAMA_CONTEXT_LENGTH={}", CONTEXT_RECOMMENDED.min(trained).max(CONTEXT_UNUSABLE).min(pc))),
                            set_server_var(f, &format!("OLLAMA_KV_CACHE_TYPE={kv}")),
                            m.name
                        ),
                        _ => format!("no server setting fits a usable context: use a smaller model or quantization, or more memory (`cclocal plan {}` shows what fits)", m.name),
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
                finding("model_partial_offload", Severity::Warning, format!("{:.0}% of {} runs on the CPU", pct, m.name))
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
            && (kv.is_empty() || kv == "f16")
            && !super::planner_chose_f16(mem)
        {
            if let Some(q8) = mem.kv_bytes_q8_0.filter(|q| *q < mem.kv_bytes) {
                let tight = !mem.fits || loaded.is_some_and(|l| l.size_vram < l.size);
                push(
                    out,
                    s,
                    finding(
                        "kv_cache_f16",
                        if tight {
                            Severity::Warning
                        } else {
                            Severity::Info
                        },
                        "the KV cache is f16; q8_0 would halve it",
                    )
                    .detail(format!(
                        "at {} tokens the KV cache takes {} in f16 and {} in q8_0",
                        mem.n_ctx,
                        human(mem.kv_bytes),
                        human(q8)
                    ))
                    .fix(set_server_var(f, "OLLAMA_KV_CACHE_TYPE=q8_0")),
                );
            }
        }
    }
}

/// The restart that brings the server to the larger context `cclocal setup` configured
/// (it serves `c`), when that is the drift; `None` otherwise.
fn drift_restart(f: &Facts, c: u64) -> Option<String> {
    let cfg = super::served_context_drift(f)?;
    (cfg.model.context > c && cfg.model.context >= CONTEXT_UNUSABLE)
        .then(|| super::restart_fix(f, cfg))
}
