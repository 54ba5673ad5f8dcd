//! The model Claude Code will use: its description (local GGUF blob when the server is on
//! this machine, else `/api/show` `model_info`), the context the server serves it with,
//! and its memory at that context.

use super::{num_ctx_parameter, same_model, ServerProbe};
use crate::doctor::facts::{
    ContextSource, MachineFacts, MemoryFacts, ModelFacts, ServerConfigFacts,
};
use crate::doctor::knowledge::ollama_default_context;
use crate::memory::{parse_cache_type, plan_row, CacheParams};
use crate::model::{describe, load_model, ModelDesc};
use crate::server::llama_server::{LlamaCommand, LlamaFacts};

/// Whether an Ollama boolean variable is false (`strconv.ParseBool`; anything unparsable
/// counts as true, `docs/ollama.md`, "Environment variables").
pub fn ollama_bool_false(v: &str) -> bool {
    matches!(
        v.trim().trim_matches(['"', '\'']),
        "0" | "f" | "F" | "false" | "FALSE" | "False"
    )
}

/// The server's context setting: the app's non-zero slider wins over `OLLAMA_CONTEXT_LENGTH`.
pub fn configured_context(cfg: Option<&ServerConfigFacts>) -> Option<u64> {
    let cfg = cfg?;
    if let Some(c) = cfg.app_context_length.filter(|c| *c > 0) {
        return Some(c);
    }
    cfg.env
        .get("OLLAMA_CONTEXT_LENGTH")
        .and_then(|v| v.trim().parse().ok())
        .filter(|c| *c > 0)
}

/// `configured`: the server settings `cclocal setup` wrote for this server (config.toml),
/// which stand for the service's environment when that cannot be read (no `/proc`, systemd or
/// launchctl answer): the cache type and flash attention setup told it.
pub fn model_facts(
    name: &str,
    server: &ServerProbe,
    cfg: Option<&ServerConfigFacts>,
    configured: Option<&crate::setup::config::ServerConfig>,
    machine: &MachineFacts,
    local: bool,
    measure: bool,
) -> ModelFacts {
    let mut f = ModelFacts {
        name: name.to_string(),
        ..Default::default()
    };
    let weights = server
        .installed
        .iter()
        .find(|m| same_model(&m.name, name))
        .map(|m| m.size)
        .unwrap_or(0);
    let loaded_local = local.then(|| load_model(name).ok()).flatten();
    let gguf_path = loaded_local
        .as_ref()
        .and_then(|(_, src)| src.gguf_path().ok().map(std::path::Path::to_path_buf));
    let desc: Option<ModelDesc> = loaded_local.map(|(d, _)| d).or_else(|| {
        let info = server.model_info.as_ref()?;
        match describe(info, name, weights, 0) {
            Ok(d) => Some(d),
            Err(e) => {
                f.error = Some(e.message);
                None
            }
        }
    });
    if let Some(d) = &desc {
        f.architecture = Some(d.architecture.clone());
        f.trained_context = Some(d.context_length);
        f.weights_bytes = d.weights_bytes;
    }
    let live = server
        .loaded
        .iter()
        .find(|l| same_model(&l.name, name))
        .and_then(|l| l.context_length);
    let (ctx, src) = if let Some(c) = live {
        (Some(c), Some(ContextSource::Live))
    } else if let Some(c) = server.parameters.as_deref().and_then(num_ctx_parameter) {
        (Some(c), Some(ContextSource::Modelfile))
    } else if let Some(c) = configured_context(cfg) {
        (Some(c), Some(ContextSource::ServerEnv))
    } else if let Some(c) = server.version.as_deref().and_then(ollama_default_context) {
        (Some(c), Some(ContextSource::Default))
    } else {
        (None, None)
    };
    // The server caps a requested context at the trained one.
    let ctx = match (ctx, f.trained_context, src) {
        (Some(c), Some(t), Some(s)) if s != ContextSource::Live => Some(c.min(t)),
        (c, _, _) => c,
    };
    f.served_context = ctx;
    f.served_context_source = src;
    if let (Some(d), Some(c), true, Some(budget)) = (&desc, ctx, local, machine.budget.as_ref()) {
        let mut env = cfg
            .filter(|c| c.env_source.is_some())
            .map(|c| c.env.clone())
            .unwrap_or_default();
        if let (true, Some(c)) = (env.is_empty(), configured) {
            env.insert("OLLAMA_KV_CACHE_TYPE".into(), c.kv_type().to_string());
            env.insert(
                "OLLAMA_FLASH_ATTENTION".into(),
                if c.flash_attention { "1" } else { "0" }.into(),
            );
        }
        let kv_name = env
            .get("OLLAMA_KV_CACHE_TYPE")
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty());
        let kv_type = kv_name
            .as_deref()
            .and_then(|n| parse_cache_type(n).ok())
            .unwrap_or_else(|| {
                parse_cache_type(crate::planner::KvType::DEFAULT.name()).expect("a cache type")
            });
        let n_seq: u32 = env
            .get("OLLAMA_NUM_PARALLEL")
            .and_then(|v| v.trim().parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(1);
        let fa = !env
            .get("OLLAMA_FLASH_ATTENTION")
            .is_some_and(|v| ollama_bool_false(v));
        let mut p = CacheParams::new(c * n_seq as u64).with_cache_type(kv_type);
        p.n_seq = n_seq;
        p.flash_attn = fa;
        match memory_facts(d, &p, budget, crate::server::ServerKind::Ollama) {
            Ok((mut mem, row)) => {
                if let (true, Some(path)) = (measure, gguf_path.as_deref()) {
                    match crate::runtime::measure(path, &p) {
                        Ok(m) => {
                            let estimated = row.kv_bytes
                                + row.recurrent_bytes
                                + row.compute_bytes
                                + row.output_bytes;
                            let real =
                                m.kv_bytes + m.recurrent_bytes + m.compute_bytes + m.output_bytes;
                            mem.kv_bytes = m.kv_bytes;
                            mem.total_bytes = row.total_bytes - estimated + real;
                            mem.fits = mem.total_bytes.saturating_add(crate::memory::MARGIN_BYTES)
                                <= budget.bytes;
                            mem.measured = true;
                        }
                        Err(e) => {
                            f.error = Some(format!(
                                "llama.cpp could not measure the model: {}",
                                e.message
                            ))
                        }
                    }
                }
                f.memory = Some(mem);
            }
            Err(e) => f.error = Some(e.message),
        }
    }
    f
}

/// The model a llama-server serves: its per-slot context (live, `/slots`), its trained
/// context, and, when the server runs here and its GGUF is readable, its description and
/// memory at the context it was started with (`cmd`).
pub fn llama_model_facts(
    l: &LlamaFacts,
    cmd: Option<&LlamaCommand>,
    machine: &MachineFacts,
    local: bool,
    kind: crate::server::ServerKind,
) -> ModelFacts {
    let name = l
        .model_alias
        .clone()
        .or_else(|| l.model_path.clone())
        .unwrap_or_else(|| "(the loaded model)".into());
    let mut f = ModelFacts {
        name,
        trained_context: l.trained_context,
        served_context: l.slot_context,
        served_context_source: l.slot_context.map(|_| ContextSource::Live),
        kv_type: cmd.map(|c| crate::planner::kv::name_or_default(c.cache_type_k.as_deref())),
        flash_attn: cmd.map(|c| c.flash_attn.clone().unwrap_or_else(|| "auto".into())),
        ..Default::default()
    };
    let path = l
        .model_path
        .clone()
        .or_else(|| cmd.and_then(|c| c.model.clone()));
    let Some(path) = path.filter(|p| local && std::path::Path::new(p).is_file()) else {
        return f;
    };
    let (desc, src) = match load_model(&path) {
        Ok(x) => x,
        Err(e) => {
            f.error = Some(e.message);
            return f;
        }
    };
    f.gguf_path = src.gguf_path().ok().map(|p| p.display().to_string());
    f.architecture = Some(desc.architecture.clone());
    f.trained_context = Some(desc.context_length);
    f.weights_bytes = desc.weights_bytes;
    let (Some(slot), Some(budget)) = (l.slot_context, machine.budget.as_ref()) else {
        return f;
    };
    let slots = l.total_slots.unwrap_or(1).max(1);
    let unified = cmd.map(LlamaCommand::unified).unwrap_or(slots == 1);
    let total = if unified { slot } else { slot * slots };
    let kv = crate::planner::kv::name_or_default(f.kv_type.as_deref());
    let Ok(kv_type) = parse_cache_type(&kv) else {
        return f;
    };
    let mut p = CacheParams::new(total).with_cache_type(kv_type);
    p.flash_attn = f.flash_attn.as_deref() != Some("off");
    if let Ok((mem, _)) = memory_facts(&desc, &p, budget, kind) {
        f.memory = Some(mem);
    }
    f
}

/// The memory of `d` served with `p` on `budget`: the row llama.cpp would allocate, the KV
/// bytes with q8_0 instead, the largest context that fits and the planner's own choice for a
/// server of `kind` (both per sequence; LM Studio's with its own f16 cache, as plan and setup
/// plan it).
fn memory_facts(
    d: &crate::model::ModelDesc,
    p: &CacheParams,
    budget: &crate::memory::Budget,
    kind: crate::server::ServerKind,
) -> crate::error::Result<(MemoryFacts, crate::memory::PlanRow)> {
    let row = plan_row(d, p, budget)?;
    let q8 = plan_row(
        d,
        &p.with_cache_type(parse_cache_type("q8_0").expect("q8_0")),
        budget,
    )
    .ok()
    .map(|r| r.kv_bytes);
    let planned = crate::planner::plan(
        d,
        budget,
        &crate::planner::Request {
            params: *p,
            kv_types: crate::planner::kinds::planned_kv_type(kind)
                .map(|t| vec![t.name().to_string()])
                .unwrap_or_default(),
            ctx: None,
        },
    )
    .ok()
    .and_then(|pl| pl.choice().cloned());
    let kv_bytes_planned = planned
        .as_ref()
        .and_then(|c| parse_cache_type(&c.row.kv_type).ok())
        .and_then(|t| plan_row(d, &p.with_cache_type(t), budget).ok())
        .map(|r| r.kv_bytes);
    let n_seq = u64::from(p.n_seq.max(1));
    let mem = MemoryFacts {
        n_ctx: row.n_ctx,
        kv_type: row.kv_type.clone(),
        kv_bytes: row.kv_bytes,
        kv_bytes_q8_0: q8,
        kv_bytes_planned,
        total_bytes: row.total_bytes,
        budget_bytes: budget.bytes,
        fits: row.fits,
        largest_fit: crate::memory::fit_context(d, p, budget)
            .ok()
            .flatten()
            .map(|r| r.n_ctx / n_seq),
        planned_context: planned.as_ref().map(|c| c.per_sequence()),
        planned_kv_type: planned.as_ref().map(|c| c.row.kv_type.clone()),
        measured: false,
    };
    Ok((mem, row))
}
