//! Model description: everything the memory math needs, from GGUF metadata or from
//! Ollama's `/api/show` `model_info` (the same keys).

mod arch;
mod describe;
mod remote;
mod resolve;

pub use arch::{arch_rule, ArchRule, KvFromStart, RecurrentRule, SwaRule, ARCH_RULES};
pub use describe::{describe, KvSource};
pub use remote::{describe_model, Described};
pub use resolve::{load_model, resolve_model_arg, ModelArg, ModelSource};

use serde::Serialize;

/// One layer's memory role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Layer {
    /// Has a K (and, unless MLA, V) cache.
    pub kv: bool,
    /// Uses the sliding-window cache.
    pub swa: bool,
    /// Carries recurrent state.
    pub recurrent: bool,
    pub n_head_kv: u32,
    /// K width per token (`n_embd_head_k(il) * n_head_kv(il)`).
    pub k_width: u64,
    /// V width per token (0 for MLA).
    pub v_width: u64,
}

/// A model as the memory planner sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ModelDesc {
    pub name: String,
    pub architecture: String,
    pub block_count: u32,
    /// Layers that run in the main context: `block_count - nextn_predict_layers`.
    pub n_layer: u32,
    pub context_length: u64,
    pub embedding_length: u64,
    pub vocab_size: Option<u64>,
    pub n_head: u32,
    pub key_length: u32,
    pub value_length: u32,
    pub is_mla: bool,
    /// Sliding window in tokens, 0 when the model has none.
    pub sliding_window: u32,
    pub nextn_predict_layers: u32,
    pub layers: Vec<Layer>,
    /// Recurrent state widths per recurrent layer (f32 elements per sequence).
    pub n_embd_r: u64,
    pub n_embd_s: u64,
    /// Weight bytes over all files (0 when unknown, e.g. from `/api/show` alone).
    pub weights_bytes: u64,
    /// Bytes of the input embedding, which llama.cpp keeps on the CPU.
    pub token_embd_bytes: u64,
    /// Set when cclocal sizes this architecture's cache only approximately.
    pub approximate: Option<String>,
}

impl ModelDesc {
    pub fn kv_layers(&self) -> usize {
        self.layers.iter().filter(|l| l.kv).count()
    }
    pub fn recurrent_layers(&self) -> usize {
        self.layers.iter().filter(|l| l.recurrent).count()
    }
    pub fn has_swa(&self) -> bool {
        self.layers.iter().any(|l| l.kv && l.swa)
    }
    /// Widest V row over all layers (`n_embd_v_gqa_max`), used for the V cache without
    /// flash attention.
    pub fn v_width_max(&self) -> u64 {
        self.layers.iter().map(|l| l.v_width).max().unwrap_or(0)
    }
    /// Weights that live on the GPU when fully offloaded (all but the input embedding).
    pub fn weights_on_device(&self) -> u64 {
        self.weights_bytes.saturating_sub(self.token_embd_bytes)
    }
}
