//! The context and KV cache type to configure, from the one planner (`crate::planner`):
//! the same decision `cclocal plan` shows, and the table of alternatives for the wizard.

use crate::error::{Error, Result};
use crate::memory::{plan_row, Budget, CacheParams, PlanRow};
use crate::model::ModelDesc;
use crate::planner::{self, Outcome, Planned, Request};

pub use crate::model::{describe_model, Described};

fn request(kv: Option<&str>, flash_attention: bool, ctx: Option<u64>) -> Request {
    let mut params = CacheParams::new(0);
    params.flash_attn = flash_attention;
    Request {
        params,
        kv_types: kv.map(|k| vec![k.to_string()]).unwrap_or_default(),
        ctx,
    }
}

/// The planner's decision for `desc` on `budget`: the cache type `kv` (None: the planner's
/// policy) and the context `ctx` (None: the largest that fits).
pub fn planned(
    desc: &ModelDesc,
    kv: Option<&str>,
    flash_attention: bool,
    budget: &Budget,
    ctx: Option<u64>,
) -> Result<Planned> {
    planner::plan(desc, budget, &request(kv, flash_attention, ctx))
}

/// The context and cache type to serve, or a usage error that says why none works and what
/// would (the planner's problem, or the requested context that does not fit).
pub fn decide(p: &Planned, desc: &ModelDesc, budget: &Budget) -> Result<(u64, String)> {
    if let Some(pr) = &p.problem {
        return Err(
            Error::usage(format!("no setting can work: {}", pr.what)).with_hint(format!(
                "{} (`cclocal plan {}` shows what fits)",
                pr.would, desc.name
            )),
        );
    }
    match &p.outcome {
        Outcome::Serve(c) => Ok((c.per_sequence(), c.row.kv_type.clone())),
        Outcome::DoesNotFit { requested, largest } => Err(Error::usage(format!(
            "a {requested}-token context for {} does not fit in {}",
            desc.name,
            crate::units::human(budget.bytes)
        ))
        .with_hint(match largest {
            Some(l) => format!(
                "the largest that fits is --ctx {} with --kv-cache-type {}; or pass --force to write it anyway",
                l.per_sequence(),
                l.row.kv_type
            ),
            None => "use a smaller model or quantization".into(),
        })),
        Outcome::NothingFits => Err(Error::usage(format!(
            "{} does not fit in {} even with a 256-token context",
            desc.name,
            crate::units::human(budget.bytes)
        ))
        .with_hint(
            "use a smaller model or quantization, or pass --memory SIZE if the budget is wrong",
        )),
    }
}

/// Rows for the wizard with cache type `kv`: the planner's ladder plus the fitted row,
/// sorted by context, and the position of the planner's choice.
pub fn table(
    desc: &ModelDesc,
    kv: &str,
    flash_attention: bool,
    budget: &Budget,
) -> Result<(Vec<PlanRow>, Option<usize>)> {
    let p = planned(desc, Some(kv), flash_attention, budget, None)?;
    let params = CacheParams {
        flash_attn: flash_attention,
        ..CacheParams::new(0).with_cache_type(crate::memory::parse_cache_type(kv)?)
    };
    let mut rows = Vec::new();
    for n in planner::ladder(desc.context_length) {
        if n >= planner::LADDER_START {
            rows.push(plan_row(desc, &CacheParams { n_ctx: n, ..params }, budget)?);
        }
    }
    let best = p.choice().map(|c| c.row.clone());
    if let Some(b) = &best {
        if !rows.iter().any(|r| r.n_ctx == b.n_ctx) {
            rows.push(b.clone());
        }
    }
    rows.sort_by_key(|r| r.n_ctx);
    let pick = best.and_then(|b| rows.iter().position(|r| r.n_ctx == b.n_ctx));
    Ok((rows, pick))
}
