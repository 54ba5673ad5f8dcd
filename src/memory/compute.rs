//! Estimates of llama.cpp's compute and output buffers.
//!
//! These are estimates, not byte-exact figures: the compute buffer is the worst-case graph
//! for one micro-batch and depends on the backend. The model below was fitted to the
//! CPU-backend measurements in `docs/llama-memory.md` (compute buffers; Qwen3-Coder-Next
//! dims, n_ubatch 512: 321.04 MiB at 4K, 349.04 at 32K, 573.04 at 256K with flash
//! attention; 1134 MiB at 32K without):
//!
//! * the logits of a micro-batch, `n_vocab × n_ubatch × 4` bytes, dominate the intercept;
//! * the f16 attention mask, `n_kv × n_ubatch × 2` bytes, is the slope in n_ctx;
//! * without flash attention the f32 scores `n_kv × n_ubatch × n_head × 4` are
//!   materialised instead of the logits' peak (the allocator reuses memory between them);
//! * activations, about `n_embd × n_ubatch × 4 × 5` bytes.
//!
//! `cclocal plan --measure` (the runtime) reports the real figure and the estimate's error.

use crate::model::ModelDesc;

/// Estimated compute buffer for a context of `n_kv` cells per stream.
pub fn compute_bytes(model: &ModelDesc, n_kv: u64, n_ubatch: u64, flash_attn: bool) -> u64 {
    let vocab = model.vocab_size.unwrap_or(32_000);
    let logits = vocab.saturating_mul(n_ubatch).saturating_mul(4);
    let mask = n_kv.saturating_mul(n_ubatch).saturating_mul(2);
    let act = model
        .embedding_length
        .saturating_mul(n_ubatch)
        .saturating_mul(20);
    let has_attention = model.kv_layers() > 0;
    let peak = if flash_attn || !has_attention {
        logits
    } else {
        let scores = n_kv
            .saturating_mul(n_ubatch)
            .saturating_mul(model.n_head as u64)
            .saturating_mul(4);
        logits.max(scores)
    };
    let mask = if has_attention { mask } else { 0 };
    peak.saturating_add(mask).saturating_add(act)
}

/// The output (logits) buffer: `n_vocab × 4 × n_seq` bytes.
pub fn output_bytes(model: &ModelDesc, n_seq: u32) -> u64 {
    model
        .vocab_size
        .unwrap_or(32_000)
        .saturating_mul(4)
        .saturating_mul(n_seq as u64)
}
