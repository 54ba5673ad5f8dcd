//! `cclocal plan MODEL`: memory per context length and cache type, the largest context
//! that fits, and the Claude Code settings that follow.

use super::args;
use crate::claude::{installed_version, recommend, Recommendation, Version, LATEST_KNOWN};
use crate::error::{Error, Result};
use crate::memory::{
    detect_budget, fit_context, parse_cache_type, plan_row, Budget, CacheParams, PlanRow,
};
use crate::model::{load_model, ModelDesc, ModelSource};
use crate::units::{human, mib, tokens};
use serde_json::json;

#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    /// A .gguf file (split models: any shard) or an Ollama model name (qwen3-coder:30b).
    pub model: String,
    /// Context length to show (repeatable; 32768 or 32K). Default: 8K, 16K, … up to the
    /// trained context, plus the fitted value.
    #[arg(long, value_name = args::TOKENS, value_parser = args::ctx, value_delimiter = ',')]
    pub ctx: Vec<u64>,
    /// KV cache type (repeatable, or comma-separated): f16, q8_0, q4_0, bf16, f32, q4_1,
    /// q5_0, q5_1, iq4_nl.
    #[arg(long, value_name = args::KV_TYPE, value_parser = args::kv_type, value_delimiter = ',', alias = "kv-cache-type", alias = "kv")]
    pub kv_type: Vec<String>,
    /// Parallel sequences (llama-server -np / OLLAMA_NUM_PARALLEL).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub parallel: u32,
    /// Micro-batch size (n_ubatch).
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub ubatch: u32,
    /// Flash attention.
    #[arg(long, value_name = args::ON_OFF, value_parser = args::on_off(), default_value = "on", action = clap::ArgAction::Set, alias = "flash-attention")]
    pub flash_attn: bool,
    /// Memory budget to plan for instead of this machine's (e.g. 24GiB for a GPU).
    #[arg(long, value_name = args::SIZE, value_parser = args::size, conflicts_with = "mac_ram")]
    pub memory: Option<u64>,
    /// Plan for an Apple Silicon Mac with this much RAM (e.g. 64GB); the GPU budget is
    /// macOS's default working set.
    #[arg(long, value_name = args::SIZE, value_parser = args::mac_ram)]
    pub mac_ram: Option<u64>,
    /// Claude Code version to compute settings for (default: the installed one, else the
    /// newest known).
    #[arg(long, value_name = args::VERSION, value_parser = args::claude_version)]
    pub claude_version: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Also measure every row with the embedded llama.cpp (model loaded without weights).
    #[arg(long)]
    pub measure: bool,
}

/// Everything `plan` computed, before formatting.
pub struct Plan {
    pub model: ModelDesc,
    pub source: ModelSource,
    pub budget: Budget,
    pub params: CacheParams,
    pub rows: Vec<PlanRow>,
    /// Fitted context per cache type (None: not even 256 tokens fit).
    pub fitted: Vec<(String, Option<u64>)>,
    pub recommended: Option<(u64, String)>,
    pub claude: Option<Recommendation>,
    pub claude_version_source: &'static str,
    /// llama.cpp's own figures per row (`--measure`), else empty.
    pub measured: Vec<crate::runtime::Measured>,
}

/// Picks the cache type to recommend: f16 when it fits the model's trained context (or
/// 128K), else the type with the largest fitted context, preferring the higher-precision
/// type on ties (q8_0 is near-lossless; q4_0 costs quality).
fn choose(fitted: &[(String, Option<u64>)], trained: u64) -> Option<(u64, String)> {
    let target = trained.min(131_072);
    if let Some((t, Some(c))) = fitted.iter().find(|(t, _)| t == "f16") {
        if *c >= target {
            return Some((*c, t.clone()));
        }
    }
    let mut best: Option<(u64, String)> = None;
    for (t, c) in fitted {
        if let Some(c) = c {
            if best.as_ref().map_or(true, |(bc, _)| *c > *bc) {
                best = Some((*c, t.clone()));
            }
        }
    }
    best
}

fn ladder(trained: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (13..=24)
        .map(|p| 1u64 << p)
        .filter(|&c| c <= trained)
        .collect();
    if !v.contains(&trained) && trained >= 256 {
        v.push(trained);
    }
    if v.is_empty() {
        v.push(trained.max(256));
    }
    v
}

/// Computes the plan.
pub fn compute(args: &PlanArgs) -> Result<Plan> {
    // Usage errors first, before any file is read.
    let requested_version = args
        .claude_version
        .as_deref()
        .map(str::parse::<Version>)
        .transpose()?;
    for t in &args.kv_type {
        parse_cache_type(t)?;
    }
    let (model, source) = load_model(&args.model)?;
    let budget = detect_budget(args.memory, args.mac_ram);
    let kv_types: Vec<String> = if args.kv_type.is_empty() {
        vec!["f16".into(), "q8_0".into(), "q4_0".into()]
    } else {
        args.kv_type.clone()
    };
    let mut params = CacheParams::new(0);
    params.n_seq = args.parallel;
    params.n_ubatch = args.ubatch;
    params.flash_attn = args.flash_attn;

    let mut rows = Vec::new();
    let mut row_params = Vec::new();
    let mut fitted = Vec::new();
    for name in &kv_types {
        let t = parse_cache_type(name)?;
        let p = params.with_cache_type(t);
        let fit = fit_context(&model, &p, &budget)?;
        let fit_ctx = fit.as_ref().map(|r| r.n_ctx);
        fitted.push((t.name.to_string(), fit_ctx));
        let mut ctxs = if args.ctx.is_empty() {
            ladder(model.context_length)
        } else {
            args.ctx.clone()
        };
        if let Some(c) = fit_ctx {
            if args.ctx.is_empty() && !ctxs.contains(&c) {
                ctxs.push(c);
            }
        }
        ctxs.sort_unstable();
        ctxs.dedup();
        for c in ctxs {
            rows.push(plan_row(&model, &CacheParams { n_ctx: c, ..p }, &budget)?);
            row_params.push(CacheParams { n_ctx: c, ..p });
        }
    }
    let recommended = choose(&fitted, model.context_length);
    let measured = if args.measure {
        super::plan_measure::measure_rows(&source, &row_params)?
    } else {
        Vec::new()
    };
    let (version, claude_version_source) = match requested_version {
        Some(v) => (v, "argument"),
        None => match installed_version() {
            Some(v) => (v, "installed"),
            None => (LATEST_KNOWN, "latest known"),
        },
    };
    let claude = recommended.as_ref().map(|(c, _)| {
        // Each sequence (server slot) gets n_ctx / n_seq tokens.
        let per_slot = c / args.parallel as u64;
        recommend(version, per_slot, &args.model)
    });
    Ok(Plan {
        model,
        source,
        budget,
        params,
        rows,
        fitted,
        recommended,
        claude,
        claude_version_source,
        measured,
    })
}

/// The JSON document (the contract other tools read: add fields, never rename).
pub fn to_json(plan: &Plan) -> serde_json::Value {
    let m = &plan.model;
    let mut v = json!({
        "model": {
            "name": m.name,
            "architecture": m.architecture,
            "context_length": m.context_length,
            "block_count": m.block_count,
            "weights_bytes": m.weights_bytes,
            "token_embd_bytes": m.token_embd_bytes,
            "kv_layers": m.kv_layers(),
            "recurrent_layers": m.recurrent_layers(),
            "swa_layers": m.layers.iter().filter(|l| l.kv && l.swa).count(),
            "sliding_window": m.sliding_window,
            "mla": m.is_mla,
            "approximate": m.approximate,
            "source": plan.source,
        },
        "budget": plan.budget,
        "params": {
            "parallel": plan.params.n_seq,
            "ubatch": plan.params.n_ubatch,
            "flash_attn": plan.params.flash_attn,
            "margin_bytes": crate::memory::MARGIN_BYTES,
        },
        "rows": plan.rows.iter().map(|r| json!({
            "n_ctx": r.n_ctx,
            "kv_type": r.kv_type,
            "kv_bytes": r.kv_bytes,
            "recurrent_bytes": r.recurrent_bytes,
            "compute_bytes": r.compute_bytes,
            "output_bytes": r.output_bytes,
            "weights_bytes": r.weights_bytes,
            "total_bytes": r.total_bytes,
            "fits": r.fits,
            "caches": r.kv.caches,
        })).collect::<Vec<_>>(),
        "fitted": plan.fitted.iter().map(|(t, c)| json!({"kv_type": t, "n_ctx": c})).collect::<Vec<_>>(),
        "recommended": plan.recommended.as_ref().map(|(c, t)| json!({"n_ctx": c, "kv_type": t})),
        "claude": plan.claude.as_ref().map(|r| json!({
            "version": r.version,
            "version_source": plan.claude_version_source,
            "served_context": r.served_context,
            "env": r.env,
            "effective_window": r.calc.effective_window,
            "autocompact_threshold": r.calc.autocompact_threshold,
            "blocking_limit": r.calc.blocking_limit,
            "proactive": r.calc.proactive,
            "notes": r.notes,
        })),
    });
    super::plan_measure::add_json(&mut v, &plan.measured);
    v
}

/// The human report.
pub fn to_text(plan: &Plan) -> String {
    use std::fmt::Write;
    let m = &plan.model;
    let mut s = String::new();
    let mut layers = format!("{} layers", m.block_count);
    let mut parts = vec![format!("{} KV", m.kv_layers())];
    let swa = m.layers.iter().filter(|l| l.kv && l.swa).count();
    if swa > 0 {
        parts.push(format!("{swa} of them sliding-window {}", m.sliding_window));
    }
    if m.recurrent_layers() > 0 {
        parts.push(format!("{} recurrent", m.recurrent_layers()));
    }
    if m.is_mla {
        parts.push("MLA".into());
    }
    let _ = write!(layers, " ({})", parts.join(", "));
    let _ = writeln!(
        s,
        "Model   {} · {} · {layers} · trained context {}",
        m.name, m.architecture, m.context_length
    );
    let _ = writeln!(
        s,
        "Weights {} ({} on the GPU when fully offloaded)",
        human(m.weights_bytes),
        human(m.weights_on_device())
    );
    let est = if plan.budget.estimated {
        ", estimated"
    } else {
        ""
    };
    let source = serde_json::to_value(plan.budget.source)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "Budget  {} ({source}{est}: {})",
        human(plan.budget.bytes),
        plan.budget.note
    );
    if let Some(a) = &m.approximate {
        let _ = writeln!(s, "Note    {a}");
    }
    let _ = writeln!(
        s,
        "        {} sequence(s), n_ubatch {}, flash attention {}, {} safety margin\n",
        plan.params.n_seq,
        plan.params.n_ubatch,
        if plan.params.flash_attn { "on" } else { "off" },
        human(crate::memory::MARGIN_BYTES)
    );
    let _ = writeln!(
        s,
        "{:>9}  {:<6} {:>12} {:>12} {:>12} {:>11}  fits",
        "context", "KV", "KV cache", "recurrent", "compute*", "total"
    );
    for r in &plan.rows {
        let mark = if plan.recommended.as_ref() == Some(&(r.n_ctx, r.kv_type.clone())) {
            " ← recommended"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "{:>9}  {:<6} {:>12} {:>12} {:>12} {:>11}  {}{mark}",
            r.n_ctx,
            r.kv_type,
            mib(r.kv_bytes),
            mib(r.recurrent_bytes),
            mib(r.compute_bytes),
            human(r.total_bytes),
            if r.fits { "✓" } else { "✗" }
        );
    }
    let _ = writeln!(s, "  * compute and output buffers are estimates; total = weights + KV + recurrent + compute + output");
    s += &super::plan_measure::text(&plan.rows, &plan.measured);
    let _ = writeln!(s);
    for (t, c) in &plan.fitted {
        match c {
            Some(c) => {
                let _ = writeln!(
                    s,
                    "Largest context that fits with {t}: {c} ({})",
                    tokens(*c)
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "With {t} not even 256 tokens fit: the weights alone exceed the budget"
                );
            }
        }
    }
    match (&plan.recommended, &plan.claude) {
        (Some((c, t)), Some(r)) => {
            let _ = writeln!(s, "\nRecommended: n_ctx {c}, KV cache {t}");
            let _ = writeln!(s, "  Ollama:       OLLAMA_CONTEXT_LENGTH={} OLLAMA_KV_CACHE_TYPE={t} OLLAMA_FLASH_ATTENTION={}", c / plan.params.n_seq as u64, if plan.params.flash_attn { 1 } else { 0 });
            let _ = writeln!(s, "  llama-server: -c {c} -np {} --cache-type-k {t} --cache-type-v {t} --flash-attn {}", plan.params.n_seq, if plan.params.flash_attn { "on" } else { "off" });
            let _ = writeln!(
                s,
                "\nClaude Code {} ({}): window {} tokens, compacts at {} (effectiveWindow={})",
                r.version,
                plan.claude_version_source,
                r.calc.window,
                r.calc.autocompact_threshold,
                r.calc.effective_window
            );
            for (k, v) in &r.env {
                let _ = writeln!(s, "  export {k}={v}");
            }
            for n in &r.notes {
                let _ = writeln!(s, "  note: {n}");
            }
        }
        _ => {
            let _ = writeln!(s, "\nNothing fits this budget: use a smaller quantisation of the model, or plan for a machine with more memory (--memory, --mac-ram).");
        }
    }
    s
}

pub fn run(args: &PlanArgs, _verbose: bool) -> Result<i32> {
    crate::runtime::set_verbose(_verbose);
    let plan = compute(args)?;
    if args.json {
        let text = serde_json::to_string_pretty(&to_json(&plan)).map_err(|e| {
            Error::new(
                crate::error::ErrorKind::Io,
                format!("could not encode JSON: {e}"),
            )
        })?;
        println!("{text}");
    } else {
        print!("{}", to_text(&plan));
    }
    Ok(0)
}
