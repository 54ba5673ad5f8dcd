//! The context and KV cache type to configure, from the one planner (`crate::planner`):
//! the same decision `cclocal plan` shows, and the table of alternatives for the wizard.

use crate::error::Result;
use crate::memory::{Budget, CacheParams, PlanRow};
use crate::model::ModelDesc;
use crate::planner::{self, Planned, Request};

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

pub use crate::planner::decide;

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
        ..CacheParams::new(0)
    };
    let rows = planner::rows(desc, budget, &params, &p, &[])?;
    let pick = p
        .choice()
        .and_then(|b| rows.iter().position(|r| r.n_ctx == b.row.n_ctx));
    Ok((rows, pick))
}
