//! One plan row (weights + KV + recurrent + compute vs the budget) and the largest context
//! that fits.

use super::{compute_bytes, kv_plan, output_bytes, Budget, CacheParams, KvReport, MARGIN_BYTES};
use crate::error::Result;
use crate::model::ModelDesc;
use serde::Serialize;

/// Memory of one (n_ctx, cache type) combination.
#[derive(Debug, Clone, Serialize)]
pub struct PlanRow {
    pub n_ctx: u64,
    pub kv_type: String,
    pub kv_bytes: u64,
    pub recurrent_bytes: u64,
    pub compute_bytes: u64,
    pub output_bytes: u64,
    pub weights_bytes: u64,
    pub total_bytes: u64,
    pub fits: bool,
    #[serde(skip)]
    pub kv: KvReport,
}

/// Weights that count against `budget`: all of them on a CPU budget, all but the input
/// embedding on a GPU budget.
fn budget_weights(model: &ModelDesc, budget: &Budget) -> u64 {
    if budget.gpu {
        model.weights_on_device()
    } else {
        model.weights_bytes
    }
}

/// Computes one row.
pub fn plan_row(model: &ModelDesc, p: &CacheParams, budget: &Budget) -> Result<PlanRow> {
    let kv = kv_plan(model, p)?;
    let compute = compute_bytes(model, kv.n_ctx_seq, kv.n_ubatch as u64, p.flash_attn);
    let output = output_bytes(model, p.n_seq);
    let weights = budget_weights(model, budget);
    let total = [weights, kv.kv_bytes, kv.recurrent_bytes, compute, output]
        .iter()
        .fold(0u64, |a, b| a.saturating_add(*b));
    Ok(PlanRow {
        n_ctx: kv.n_ctx,
        kv_type: if p.type_k == p.type_v {
            p.type_k.name.to_string()
        } else {
            format!("{}/{}", p.type_k.name, p.type_v.name)
        },
        kv_bytes: kv.kv_bytes,
        recurrent_bytes: kv.recurrent_bytes,
        compute_bytes: compute,
        output_bytes: output,
        weights_bytes: weights,
        total_bytes: total,
        fits: total.saturating_add(MARGIN_BYTES) <= budget.bytes,
        kv,
    })
}

/// The largest context (a multiple of 256, at most the trained context) that fits the
/// budget with the given parameters (`p.n_ctx` is ignored), or `None` when not even 256
/// tokens fit.
pub fn fit_context(model: &ModelDesc, p: &CacheParams, budget: &Budget) -> Result<Option<PlanRow>> {
    let max_k = (model.context_length / 256).max(1);
    let try_k = |k: u64| {
        plan_row(
            model,
            &CacheParams {
                n_ctx: k * 256,
                ..*p
            },
            budget,
        )
    };
    let lo_row = try_k(1)?;
    if !lo_row.fits {
        return Ok(None);
    }
    let hi_row = try_k(max_k)?;
    if hi_row.fits {
        return Ok(Some(hi_row));
    }
    // Invariant: lo fits, hi does not.
    let (mut lo, mut hi, mut best) = (1u64, max_k, lo_row);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        let row = try_k(mid)?;
        if row.fits {
            lo = mid;
            best = row;
        } else {
            hi = mid;
        }
    }
    Ok(Some(best))
}
