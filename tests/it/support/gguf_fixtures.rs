//! A writer for synthetic GGUF files, and builders for the model families the planner
//! must size: llama, qwen3next (Qwen3-Coder-Next), gemma3, deepseek2 (MLA), lfm2 (per-layer
//! KV heads), gpt-oss (SWA), jamba (hybrid).
//!
//! Tensor data is a sparse region (`set_len`), so a 48 GB model costs a few KB of disk.
//! The dimensions are the real models' where the planner's figures are anchored to
//! llama.cpp's own report (`docs/llama-memory.md`, "Reference figures" and above).
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

#[derive(Debug, Clone)]
pub enum Val {
    U8(u8),
    U16(u16),
    U32(u32),
    I32(i32),
    U64(u64),
    F32(f32),
    Bool(bool),
    Str(String),
    ArrI32(Vec<i32>),
    ArrU32(Vec<u32>),
    ArrBool(Vec<bool>),
    ArrF32(Vec<f32>),
    ArrStr(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct Tensor {
    pub name: String,
    pub dims: Vec<u64>,
    /// ggml type id (0 f32, 1 f16, 8 q8_0, 12 q4_K, …).
    pub ty: u32,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub kv: Vec<(String, Val)>,
    pub tensors: Vec<Tensor>,
    pub alignment: u64,
}

fn type_block_size(ty: u32) -> (u64, u64) {
    match ty {
        0 => (1, 4),
        1 | 30 => (1, 2),
        2 => (32, 18),
        8 => (32, 34),
        12 => (256, 144),
        14 => (256, 210),
        _ => panic!("fixture type {ty} not in the test table"),
    }
}

pub fn tensor_bytes(t: &Tensor) -> u64 {
    let (blk, size) = type_block_size(t.ty);
    let ne0 = t.dims[0];
    assert_eq!(
        ne0 % blk,
        0,
        "{}: ne0 {ne0} not a multiple of {blk}",
        t.name
    );
    ne0 / blk * size * t.dims[1..].iter().product::<u64>()
}

fn pad(x: u64, a: u64) -> u64 {
    x.div_ceil(a) * a
}

fn w_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn w_val(out: &mut Vec<u8>, v: &Val) {
    let arr = |out: &mut Vec<u8>, t: u32, n: usize| {
        out.extend_from_slice(&9u32.to_le_bytes());
        out.extend_from_slice(&t.to_le_bytes());
        out.extend_from_slice(&(n as u64).to_le_bytes());
    };
    match v {
        Val::U8(x) => {
            out.extend_from_slice(&0u32.to_le_bytes());
            out.push(*x);
        }
        Val::U16(x) => {
            out.extend_from_slice(&2u32.to_le_bytes());
            out.extend_from_slice(&x.to_le_bytes());
        }
        Val::U32(x) => {
            out.extend_from_slice(&4u32.to_le_bytes());
            out.extend_from_slice(&x.to_le_bytes());
        }
        Val::I32(x) => {
            out.extend_from_slice(&5u32.to_le_bytes());
            out.extend_from_slice(&x.to_le_bytes());
        }
        Val::F32(x) => {
            out.extend_from_slice(&6u32.to_le_bytes());
            out.extend_from_slice(&x.to_le_bytes());
        }
        Val::Bool(x) => {
            out.extend_from_slice(&7u32.to_le_bytes());
            out.push(*x as u8);
        }
        Val::Str(s) => {
            out.extend_from_slice(&8u32.to_le_bytes());
            w_str(out, s);
        }
        Val::U64(x) => {
            out.extend_from_slice(&10u32.to_le_bytes());
            out.extend_from_slice(&x.to_le_bytes());
        }
        Val::ArrI32(v) => {
            arr(out, 5, v.len());
            v.iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
        }
        Val::ArrU32(v) => {
            arr(out, 4, v.len());
            v.iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
        }
        Val::ArrBool(v) => {
            arr(out, 7, v.len());
            v.iter().for_each(|x| out.push(*x as u8));
        }
        Val::ArrF32(v) => {
            arr(out, 6, v.len());
            v.iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
        }
        Val::ArrStr(v) => {
            arr(out, 8, v.len());
            v.iter().for_each(|s| w_str(out, s));
        }
    }
}

impl Spec {
    /// The header bytes (everything before the data section, padded).
    pub fn header(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(b"GGUF");
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&(self.tensors.len() as u64).to_le_bytes());
        out.extend_from_slice(&(self.kv.len() as u64).to_le_bytes());
        for (k, v) in &self.kv {
            w_str(&mut out, k);
            w_val(&mut out, v);
        }
        let mut off = 0u64;
        for t in &self.tensors {
            w_str(&mut out, &t.name);
            out.extend_from_slice(&(t.dims.len() as u32).to_le_bytes());
            t.dims
                .iter()
                .for_each(|d| out.extend_from_slice(&d.to_le_bytes()));
            out.extend_from_slice(&t.ty.to_le_bytes());
            out.extend_from_slice(&off.to_le_bytes());
            off += pad(tensor_bytes(t), self.alignment);
        }
        if !self.tensors.is_empty() {
            out.resize(pad(out.len() as u64, self.alignment) as usize, 0);
        }
        out
    }

    pub fn data_bytes(&self) -> u64 {
        self.tensors
            .iter()
            .map(|t| pad(tensor_bytes(t), self.alignment))
            .sum()
    }

    pub fn weights_bytes(&self) -> u64 {
        self.tensors.iter().map(tensor_bytes).sum()
    }

    /// Writes the file with a sparse, zero tensor data region.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let header = self.header();
        let mut f = std::fs::File::create(path)?;
        f.write_all(&header)?;
        f.set_len(header.len() as u64 + self.data_bytes())?;
        Ok(())
    }

    pub fn set(&mut self, key: &str, v: Val) {
        match self.kv.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = v,
            None => self.kv.push((key.to_string(), v)),
        }
    }
}

/// Common dims of a decoder.
#[derive(Debug, Clone)]
pub struct Dims {
    pub arch: &'static str,
    pub n_layer: u32,
    pub n_embd: u64,
    pub n_head: u32,
    pub n_head_kv: u32,
    pub head_dim: u32,
    pub n_ff: u64,
    pub n_vocab: u64,
    pub n_ctx_train: u32,
}

fn vocab_kv(n_vocab: u64) -> Vec<(String, Val)> {
    vec![
        ("tokenizer.ggml.model".into(), Val::Str("llama".into())),
        (
            "tokenizer.ggml.tokens".into(),
            Val::ArrStr((0..n_vocab).map(|i| format!("<t{i}>")).collect()),
        ),
        (
            "tokenizer.ggml.scores".into(),
            Val::ArrF32(vec![0.0; n_vocab as usize]),
        ),
        (
            "tokenizer.ggml.token_type".into(),
            Val::ArrI32(vec![1; n_vocab as usize]),
        ),
        ("tokenizer.ggml.bos_token_id".into(), Val::U32(1)),
        ("tokenizer.ggml.eos_token_id".into(), Val::U32(2)),
    ]
}

/// A llama-style model with its full tensor list (llama.cpp can load it with no_alloc).
pub fn decoder(d: &Dims, weight_ty: u32) -> Spec {
    let a = d.arch;
    let mut kv: Vec<(String, Val)> = vec![
        ("general.architecture".into(), Val::Str(a.into())),
        ("general.name".into(), Val::Str(format!("synthetic {a}"))),
        (format!("{a}.block_count"), Val::U32(d.n_layer)),
        (format!("{a}.context_length"), Val::U32(d.n_ctx_train)),
        (format!("{a}.embedding_length"), Val::U32(d.n_embd as u32)),
        (format!("{a}.feed_forward_length"), Val::U32(d.n_ff as u32)),
        (format!("{a}.attention.head_count"), Val::U32(d.n_head)),
        (
            format!("{a}.attention.head_count_kv"),
            Val::U32(d.n_head_kv),
        ),
        (format!("{a}.attention.key_length"), Val::U32(d.head_dim)),
        (format!("{a}.attention.value_length"), Val::U32(d.head_dim)),
        (
            format!("{a}.attention.layer_norm_rms_epsilon"),
            Val::F32(1e-6),
        ),
        (format!("{a}.rope.freq_base"), Val::F32(10000.0)),
        (format!("{a}.rope.dimension_count"), Val::U32(d.head_dim)),
    ];
    kv.extend(vocab_kv(d.n_vocab));
    let q = (d.n_head * d.head_dim) as u64;
    let k = (d.n_head_kv * d.head_dim) as u64;
    let mut t = vec![
        Tensor {
            name: "token_embd.weight".into(),
            dims: vec![d.n_embd, d.n_vocab],
            ty: weight_ty,
        },
        Tensor {
            name: "output_norm.weight".into(),
            dims: vec![d.n_embd],
            ty: 0,
        },
        Tensor {
            name: "output.weight".into(),
            dims: vec![d.n_embd, d.n_vocab],
            ty: weight_ty,
        },
    ];
    for il in 0..d.n_layer {
        let b = |n: &str, dims: Vec<u64>, ty: u32| Tensor {
            name: format!("blk.{il}.{n}.weight"),
            dims,
            ty,
        };
        t.push(b("attn_norm", vec![d.n_embd], 0));
        t.push(b("attn_q", vec![d.n_embd, q], weight_ty));
        t.push(b("attn_k", vec![d.n_embd, k], weight_ty));
        t.push(b("attn_v", vec![d.n_embd, k], weight_ty));
        t.push(b("attn_output", vec![q, d.n_embd], weight_ty));
        if a == "gemma3" {
            t.push(b("attn_q_norm", vec![d.head_dim as u64], 0));
            t.push(b("attn_k_norm", vec![d.head_dim as u64], 0));
            t.push(b("post_attention_norm", vec![d.n_embd], 0));
            t.push(b("post_ffw_norm", vec![d.n_embd], 0));
        }
        t.push(b("ffn_norm", vec![d.n_embd], 0));
        t.push(b("ffn_gate", vec![d.n_embd, d.n_ff], weight_ty));
        t.push(b("ffn_up", vec![d.n_embd, d.n_ff], weight_ty));
        t.push(b("ffn_down", vec![d.n_ff, d.n_embd], weight_ty));
    }
    Spec {
        kv,
        tensors: t,
        alignment: 32,
    }
}

/// Llama-3-8B-like: 32 layers, 8 KV heads of 128, 8K trained context.
pub fn llama() -> Spec {
    decoder(
        &Dims {
            arch: "llama",
            n_layer: 32,
            n_embd: 4096,
            n_head: 32,
            n_head_kv: 8,
            head_dim: 128,
            n_ff: 14336,
            n_vocab: 1024,
            n_ctx_train: 8192,
        },
        8,
    )
}

/// gemma3 with 12 layers and a 1024-token window (period 6: 10 SWA + 2 dense).
pub fn gemma3() -> Spec {
    let mut s = decoder(
        &Dims {
            arch: "gemma3",
            n_layer: 12,
            n_embd: 640,
            n_head: 4,
            n_head_kv: 1,
            head_dim: 256,
            n_ff: 2048,
            n_vocab: 1024,
            n_ctx_train: 32768,
        },
        8,
    );
    s.set("gemma3.attention.sliding_window", Val::U32(1024));
    s
}

/// Metadata-only model (token_embd + output tensors for the weight total), for families
/// whose full tensor lists are not generated here.
fn meta_only(arch: &str, kv: Vec<(String, Val)>, n_embd: u64, n_vocab: u64) -> Spec {
    let mut all: Vec<(String, Val)> = vec![("general.architecture".into(), Val::Str(arch.into()))];
    all.extend(kv);
    all.extend(vocab_kv(n_vocab));
    Spec {
        kv: all,
        tensors: vec![
            Tensor {
                name: "token_embd.weight".into(),
                dims: vec![n_embd, n_vocab],
                ty: 8,
            },
            Tensor {
                name: "output.weight".into(),
                dims: vec![n_embd, n_vocab],
                ty: 8,
            },
        ],
        alignment: 32,
    }
}

fn k(arch: &str, key: &str, v: Val) -> (String, Val) {
    (format!("{arch}.{key}"), v)
}

/// Qwen3-Coder-Next's real dims (`docs/llama-memory.md`): 48 layers, every 4th attention.
pub fn qwen3next() -> Spec {
    let a = "qwen3next";
    meta_only(
        a,
        vec![
            k(a, "block_count", Val::U32(48)),
            k(a, "context_length", Val::U32(262144)),
            k(a, "embedding_length", Val::U32(2048)),
            k(a, "feed_forward_length", Val::U32(5120)),
            k(a, "attention.head_count", Val::U32(16)),
            k(a, "attention.head_count_kv", Val::U32(2)),
            k(a, "attention.key_length", Val::U32(256)),
            k(a, "attention.value_length", Val::U32(256)),
            k(a, "rope.dimension_count", Val::U32(64)),
            k(a, "expert_count", Val::U32(512)),
            k(a, "expert_used_count", Val::U32(10)),
            k(a, "ssm.conv_kernel", Val::U32(4)),
            k(a, "ssm.state_size", Val::U32(128)),
            k(a, "ssm.group_count", Val::U32(16)),
            k(a, "ssm.time_step_rank", Val::U32(32)),
            k(a, "ssm.inner_size", Val::U32(4096)),
            k(a, "full_attention_interval", Val::U32(4)),
        ],
        2048,
        151936,
    )
}

/// DeepSeek-V2-Lite-like MLA: 4 layers, kv_lora_rank 512 + rope 64 -> K-only 576 wide.
pub fn deepseek2() -> Spec {
    let a = "deepseek2";
    meta_only(
        a,
        vec![
            k(a, "block_count", Val::U32(4)),
            k(a, "context_length", Val::U32(163840)),
            k(a, "embedding_length", Val::U32(2048)),
            k(a, "attention.head_count", Val::U32(16)),
            k(a, "attention.head_count_kv", Val::U32(1)),
            k(a, "attention.key_length", Val::U32(576)),
            k(a, "attention.value_length", Val::U32(512)),
            k(a, "attention.key_length_mla", Val::U32(192)),
            k(a, "attention.value_length_mla", Val::U32(128)),
            k(a, "attention.kv_lora_rank", Val::U32(512)),
        ],
        2048,
        1024,
    )
}

/// LFM2-1.2B-like: 16 layers, per-layer KV heads (0 = short-conv layer).
pub fn lfm2() -> Spec {
    let a = "lfm2";
    let heads_kv: Vec<i32> = vec![0, 0, 8, 0, 0, 8, 0, 0, 8, 0, 8, 0, 8, 0, 8, 0];
    meta_only(
        a,
        vec![
            k(a, "block_count", Val::U32(16)),
            k(a, "context_length", Val::U32(128000)),
            k(a, "embedding_length", Val::U32(2048)),
            k(a, "attention.head_count", Val::U32(32)),
            k(a, "attention.head_count_kv", Val::ArrI32(heads_kv)),
            k(a, "shortconv.l_cache", Val::U32(3)),
        ],
        2048,
        1024,
    )
}

/// gpt-oss-20b-like: 24 layers alternating SWA (128) and dense, 8 KV heads of 64.
pub fn gpt_oss() -> Spec {
    let a = "gpt-oss";
    meta_only(
        a,
        vec![
            k(a, "block_count", Val::U32(24)),
            k(a, "context_length", Val::U32(131072)),
            k(a, "embedding_length", Val::U32(2880)),
            k(a, "attention.head_count", Val::U32(64)),
            k(a, "attention.head_count_kv", Val::U32(8)),
            k(a, "attention.key_length", Val::U32(64)),
            k(a, "attention.value_length", Val::U32(64)),
            k(a, "attention.sliding_window", Val::U32(128)),
        ],
        2880,
        1024,
    )
}

/// Jamba-like hybrid: 8 layers, attention where head_count_kv > 0, Mamba elsewhere.
pub fn jamba() -> Spec {
    let a = "jamba";
    let heads_kv: Vec<i32> = vec![0, 0, 0, 0, 8, 0, 0, 0];
    meta_only(
        a,
        vec![
            k(a, "block_count", Val::U32(8)),
            k(a, "context_length", Val::U32(262144)),
            k(a, "embedding_length", Val::U32(4096)),
            k(a, "attention.head_count", Val::U32(32)),
            k(a, "attention.head_count_kv", Val::ArrI32(heads_kv)),
            k(a, "ssm.conv_kernel", Val::U32(4)),
            k(a, "ssm.inner_size", Val::U32(8192)),
            k(a, "ssm.state_size", Val::U32(16)),
            k(a, "ssm.time_step_rank", Val::U32(256)),
        ],
        4096,
        1024,
    )
}
