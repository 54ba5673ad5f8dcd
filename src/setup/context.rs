//! The context to configure: the planner's largest fitting context for the model, and a
//! table of alternatives for the wizard.

use crate::error::{Error, Result};
use crate::memory::{fit_context, parse_cache_type, plan_row, Budget, CacheParams, PlanRow};
use crate::model::{describe, load_model, ModelDesc};
use std::time::Duration;

/// Where the model's description came from.
#[derive(Debug, Clone)]
pub struct Described {
    pub desc: ModelDesc,
    pub from: String,
}

/// Describes `model` from its local file (GGUF path or the Ollama store), or else from the
/// server's `/api/show` (weights from `/api/tags`).
pub fn describe_model(model: &str, server: Option<&str>) -> Result<Described> {
    let local_err = match load_model(model) {
        Ok((desc, _)) => {
            return Ok(Described {
                desc,
                from: "the local model file".into(),
            })
        }
        Err(e) => e,
    };
    let Some(base) = server else {
        return Err(local_err);
    };
    let budget = Duration::from_secs(5);
    let shown = super::server_api::show(base, model, budget).map_err(|_| local_err)?;
    let size = super::server_api::list_models(base, budget)
        .ok()
        .and_then(|m| {
            m.into_iter()
                .find(|(n, _)| crate::server::same_model(n, model))
                .map(|(_, s)| s)
        })
        .unwrap_or(0);
    let desc = describe(&shown.model_info, model, size, 0)?;
    Ok(Described {
        desc,
        from: format!("{base}/api/show"),
    })
}

fn params(kv: &str, flash_attention: bool) -> Result<CacheParams> {
    let mut p = CacheParams::new(0).with_cache_type(parse_cache_type(kv)?);
    p.flash_attn = flash_attention;
    Ok(p)
}

/// The largest context that fits `budget`.
pub fn fitted(
    desc: &ModelDesc,
    kv: &str,
    flash_attention: bool,
    budget: &Budget,
) -> Result<PlanRow> {
    fit_context(desc, &params(kv, flash_attention)?, budget)?.ok_or_else(|| {
        Error::usage(format!(
            "{} does not fit in {} even with a 256-token context",
            desc.name,
            crate::units::human(budget.bytes)
        ))
        .with_hint(
            "use a smaller model or quantization, or pass --memory SIZE if the budget is wrong",
        )
    })
}

/// Rows for the wizard: powers of two from 8K to the trained context, plus the fitted row;
/// sorted by context.
pub fn table(
    desc: &ModelDesc,
    kv: &str,
    flash_attention: bool,
    budget: &Budget,
) -> Result<(Vec<PlanRow>, Option<usize>)> {
    let p = params(kv, flash_attention)?;
    let best = fit_context(desc, &p, budget)?;
    let mut rows = Vec::new();
    let mut n = 8192u64;
    while n <= desc.context_length {
        rows.push(plan_row(desc, &CacheParams { n_ctx: n, ..p }, budget)?);
        n *= 2;
    }
    if let Some(b) = &best {
        if !rows.iter().any(|r| r.n_ctx == b.n_ctx) {
            rows.push(b.clone());
        }
    }
    rows.sort_by_key(|r| r.n_ctx);
    let pick = best.and_then(|b| rows.iter().position(|r| r.n_ctx == b.n_ctx));
    Ok((rows, pick))
}
