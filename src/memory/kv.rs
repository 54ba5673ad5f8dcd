//! KV cache and recurrent state sizes, to the byte.
//!
//! Follows the vendored llama.cpp (`llama-context.cpp` n_ctx padding, `llama-kv-cache.cpp`
//! per-layer tensors, `llama-kv-cache-iswa.cpp` SWA cell counts,
//! `llama-memory-recurrent.cpp` state rows); worked through in
//! `docs/llama-memory.md`.

use crate::error::{Error, Result};
use crate::gguf::{ggml_type_by_name, GgmlType};
use crate::model::ModelDesc;
use serde::Serialize;

/// Cache element types llama.cpp accepts for `--cache-type-k/-v` (`common/arg.cpp`).
pub const CACHE_TYPES: &[&str] = &[
    "f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1",
];

/// Parses a cache type name.
pub fn parse_cache_type(name: &str) -> Result<GgmlType> {
    let lower = name.trim().to_ascii_lowercase();
    if !CACHE_TYPES.contains(&lower.as_str()) {
        return Err(Error::usage(format!("unknown KV cache type {name:?}"))
            .with_hint(format!("use one of: {}", CACHE_TYPES.join(", "))));
    }
    Ok(ggml_type_by_name(&lower).expect("every cache type is a ggml type"))
}

/// Context parameters that decide the cache size (llama.cpp's `llama_context_params`).
#[derive(Debug, Clone, Copy)]
pub struct CacheParams {
    /// Requested context; 0 means the model's trained context.
    pub n_ctx: u64,
    /// `n_seq_max` (llama-server `-np`).
    pub n_seq: u32,
    pub kv_unified: bool,
    pub n_batch: u32,
    pub n_ubatch: u32,
    pub flash_attn: bool,
    pub type_k: GgmlType,
    pub type_v: GgmlType,
    /// Full-size SWA cache (`--swa-full`; llama-server's default is false).
    pub swa_full: bool,
    pub n_rs_seq: u32,
}

impl CacheParams {
    /// llama-server's defaults: 1 sequence, batch 2048, ubatch 512, FA on, f16, no swa_full.
    pub fn new(n_ctx: u64) -> Self {
        let f16 = ggml_type_by_name("f16").expect("f16");
        CacheParams {
            n_ctx,
            n_seq: 1,
            kv_unified: false,
            n_batch: 2048,
            n_ubatch: 512,
            flash_attn: true,
            type_k: f16,
            type_v: f16,
            swa_full: false,
            n_rs_seq: 0,
        }
    }
    pub fn with_cache_type(mut self, t: GgmlType) -> Self {
        self.type_k = t;
        self.type_v = t;
        self
    }
}

/// One cache instance, as llama.cpp logs it (`llama_kv_cache: size = … (N cells, L layers, S/T seqs)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheInstance {
    pub name: &'static str,
    pub cells: u64,
    pub layers: u32,
    pub streams: u32,
    pub k_bytes: u64,
    pub v_bytes: u64,
}

/// The cache sizes for one set of parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KvReport {
    /// n_ctx after llama.cpp's padding.
    pub n_ctx: u64,
    /// Cells per stream of the full-attention cache.
    pub n_ctx_seq: u64,
    pub caches: Vec<CacheInstance>,
    /// Sum of K+V over all cache instances.
    pub kv_bytes: u64,
    /// Recurrent state (R+S), always f32.
    pub recurrent_bytes: u64,
    pub n_ubatch: u32,
}

fn pad(x: u64, n: u64) -> u64 {
    x.div_ceil(n) * n
}

fn is_quantized(t: GgmlType) -> bool {
    t.block > 1
}

/// Computes the KV cache and recurrent state of `model` under `p`.
pub fn kv_plan(model: &ModelDesc, p: &CacheParams) -> Result<KvReport> {
    if p.n_seq == 0 {
        return Err(Error::usage(
            "the number of parallel sequences must be at least 1",
        ));
    }
    if is_quantized(p.type_v) && !p.flash_attn && !model.is_mla {
        return Err(Error::usage(format!(
            "a quantized V cache ({}) requires flash attention",
            p.type_v.name
        ))
        .with_hint("turn flash attention on (--flash-attn on) or use an f16 cache"));
    }
    let n_seq = p.n_seq as u64;
    let requested = if p.n_ctx == 0 {
        model.context_length
    } else {
        p.n_ctx
    };
    let mut n_ctx = pad(requested.max(1), 256);
    let (n_ctx_seq, streams) = if p.kv_unified {
        (n_ctx, 1u64)
    } else {
        let per = pad(n_ctx / n_seq, 256);
        n_ctx = per * n_seq;
        (per, n_seq)
    };
    let n_batch = (p.n_batch as u64).min(n_ctx);
    let n_ubatch = (p.n_ubatch as u64).min(n_batch);
    let swa_cells = if p.swa_full {
        n_ctx_seq
    } else {
        let seqs = if p.kv_unified { n_seq } else { 1 };
        pad(
            n_ctx_seq.min(model.sliding_window as u64 * seqs + n_ubatch),
            256,
        )
    };
    let v_max = model.v_width_max();

    let mut base = CacheInstance {
        name: "kv",
        cells: n_ctx_seq,
        layers: 0,
        streams: streams as u32,
        k_bytes: 0,
        v_bytes: 0,
    };
    let mut swa = CacheInstance {
        name: "kv_swa",
        cells: swa_cells,
        layers: 0,
        streams: streams as u32,
        k_bytes: 0,
        v_bytes: 0,
    };
    for (il, layer) in model.layers.iter().enumerate() {
        if !layer.kv {
            continue;
        }
        let cache = if layer.swa { &mut swa } else { &mut base };
        let row = |t: GgmlType, width: u64, what: &str| {
            t.row_bytes(width).ok_or_else(|| {
                Error::usage(format!(
                    "the {what} cache type {} needs rows that are a multiple of {} elements, but layer {il} has {width}",
                    t.name, t.block
                ))
                .with_hint("use f16 or q8_0 for this model")
            })
        };
        let k_row = row(p.type_k, layer.k_width, "K")?;
        let v_width = if model.is_mla {
            0
        } else if p.flash_attn {
            layer.v_width
        } else {
            v_max
        };
        let v_row = if model.is_mla {
            0
        } else {
            row(p.type_v, v_width, "V")?
        };
        let n = cache.cells.saturating_mul(streams);
        cache.k_bytes = cache.k_bytes.saturating_add(k_row.saturating_mul(n));
        cache.v_bytes = cache.v_bytes.saturating_add(v_row.saturating_mul(n));
        cache.layers += 1;
    }
    let mut caches = Vec::new();
    if base.layers > 0 {
        caches.push(base);
    }
    if swa.layers > 0 {
        caches.push(swa);
    }
    let kv_bytes = caches
        .iter()
        .map(|c| c.k_bytes.saturating_add(c.v_bytes))
        .fold(0u64, u64::saturating_add);

    let rows = n_seq.max(1) * (1 + p.n_rs_seq as u64);
    let per_layer = model
        .n_embd_r
        .saturating_add(model.n_embd_s)
        .saturating_mul(4)
        .saturating_mul(rows);
    let recurrent_bytes = per_layer.saturating_mul(model.recurrent_layers() as u64);

    Ok(KvReport {
        n_ctx,
        n_ctx_seq,
        caches,
        kv_bytes,
        recurrent_bytes,
        n_ubatch: n_ubatch as u32,
    })
}
