//! `measure`: llama.cpp's own KV / recurrent / compute sizes for one set of parameters.
//!
//! The model is loaded with `no_alloc` (nothing is read or allocated but the recurrent
//! state), a context is created with exactly the caller's parameters, and the memory
//! report is parsed out of the log.
//!
//! Exact bytes: the log prints MiB with two decimals. A cache's bytes are
//! `W × cells × streams`, where `W` (bytes per cell, summed over the cache's layers) is an
//! integer multiple of the type's block size. When `cells × streams` is large (≥ ~5k for
//! f16) the two-decimal figure pins `W` down to one integer. For smaller contexts a second
//! "probe" context with the same types, flash attention and ubatch but 32768 unified cells
//! (and full-size SWA) is created, `W` is recovered from it, and checked against the
//! real context's figure. `W` comes from llama.cpp's numbers alone, so it is an independent
//! check of the planner's per-layer widths.

use super::engine::{context_error, context_params, load, Session};
use super::parse::{mib_matches, parse_memory_log, unique_per_unit, LoggedCache, MemoryLog};
use super::{Measured, MeasuredCache};
use crate::error::{Error, Result};
use crate::gguf::ggml_type_by_name;
use crate::memory::CacheParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::LlamaModel;
use std::path::Path;

/// Cells of the probe context (large enough that a two-decimal MiB figure is exact).
const PROBE_CELLS: u64 = 32768;

fn create(
    model: &LlamaModel,
    backend: &LlamaBackend,
    s: &Session,
    p: &CacheParams,
) -> Result<MemoryLog> {
    let params = context_params(p)?;
    let ctx = model.new_context(backend, params);
    let log = s.log();
    match ctx {
        Ok(ctx) => {
            drop(ctx);
            let m = parse_memory_log(&log);
            if m.n_ctx.is_none() {
                return Err(Error::parse("llama.cpp's log had no memory report")
                    .with_hint("this llama.cpp build prints another log format; run with -v"));
            }
            Ok(m)
        }
        Err(e) => Err(context_error(&log, e)),
    }
}

fn step_of(type_name: &str) -> u64 {
    ggml_type_by_name(type_name).map(|t| t.size).unwrap_or(1)
}

/// Exact (k, v) bytes per cell of a logged cache, if its figures pin them down.
fn per_cell(c: &LoggedCache) -> Option<(u64, u64)> {
    let n = c.cells * c.streams as u64;
    Some((
        unique_per_unit(c.k_mib, n, step_of(&c.type_k))?,
        unique_per_unit(c.v_mib, n, step_of(&c.type_v))?,
    ))
}

pub fn measure(model_path: &Path, p: &CacheParams) -> Result<Measured> {
    measure_all(model_path, std::slice::from_ref(p)).map(|mut v| v.remove(0))
}

/// [`measure`] for many parameter sets, loading the model once.
pub fn measure_all(model_path: &Path, params: &[CacheParams]) -> Result<Vec<Measured>> {
    let (session, backend) = Session::start()?;
    let model = load(backend, model_path, true)?;
    let _ = session.log();
    params
        .iter()
        .map(|p| measure_loaded(&model, backend, &session, p))
        .collect()
}

fn measure_loaded(
    model: &LlamaModel,
    backend: &LlamaBackend,
    session: &Session,
    p: &CacheParams,
) -> Result<Measured> {
    let real = create(model, backend, session, p)?;

    let mut probe: Option<MemoryLog> = None;
    let mut caches = Vec::new();
    for c in &real.caches {
        let mut w = per_cell(c);
        if w.is_none() {
            if probe.is_none() {
                let mut q = *p;
                q.n_ctx = PROBE_CELLS;
                q.n_seq = 1;
                q.kv_unified = true;
                q.swa_full = true;
                probe = Some(create(model, backend, session, &q)?);
            }
            let same = probe.as_ref().and_then(|m| {
                m.caches
                    .iter()
                    .find(|x| x.name == c.name && x.layers == c.layers)
            });
            w = same.and_then(per_cell);
        }
        let n = c.cells * c.streams as u64;
        let (k_bytes, v_bytes, exact) = match w {
            Some((wk, wv)) if mib_matches(c.k_mib, wk * n) && mib_matches(c.v_mib, wv * n) => {
                (wk * n, wv * n, true)
            }
            _ => (mib_bytes(c.k_mib), mib_bytes(c.v_mib), false),
        };
        caches.push(MeasuredCache {
            logged: c.clone(),
            k_bytes,
            v_bytes,
            exact,
        });
    }
    let kv_bytes = caches.iter().map(|c| c.k_bytes + c.v_bytes).sum();
    let (recurrent_bytes, recurrent_exact) = match &real.recurrent {
        None => (0, true),
        Some(r) => {
            let rows = r.cells * (1 + r.rs_seq as u64);
            let exact = [r.r_mib, r.s_mib, r.p_mib]
                .iter()
                .map(|&m| unique_per_unit(m, rows, 4))
                .collect::<Option<Vec<_>>>();
            match exact {
                Some(ws) => (ws.iter().sum::<u64>() * rows, true),
                None => (
                    mib_bytes(r.r_mib) + mib_bytes(r.s_mib) + mib_bytes(r.p_mib),
                    false,
                ),
            }
        }
    };
    Ok(Measured {
        n_ctx: real.n_ctx.unwrap_or(0),
        n_ctx_seq: real.n_ctx_seq.unwrap_or(0),
        kv_bytes,
        kv_exact: caches.iter().all(|c| c.exact),
        caches,
        recurrent_bytes,
        recurrent_exact,
        compute_bytes: mib_bytes(real.compute_mib()),
        output_bytes: mib_bytes(real.output.iter().map(|b| b.mib).sum()),
        log: real,
    })
}

fn mib_bytes(mib: f64) -> u64 {
    (mib * 1_048_576.0).round() as u64
}
