//! Proof: the planner's KV and recurrent bytes equal what the linked llama.cpp allocates,
//! on the real gemma3-270m and on the synthetic fixtures llama.cpp can load.
#![cfg(feature = "runtime")]

use crate::support;

use cclocal::memory::{kv_plan, parse_cache_type, CacheParams};
use cclocal::model::{load_model, ModelDesc};
use cclocal::runtime::{measure, Measured};
use std::path::Path;
use support::gguf_fixtures as fx;

const MIB: u64 = 1 << 20;

fn params(n_ctx: u64, ty: &str, n_seq: u32, unified: bool, fa: bool) -> CacheParams {
    let mut p = CacheParams::new(n_ctx).with_cache_type(parse_cache_type(ty).unwrap());
    p.n_seq = n_seq;
    p.kv_unified = unified;
    p.flash_attn = fa;
    p
}

/// Measured == predicted, to the byte for KV, cache by cache with identical cells, layers
/// and streams; recurrent to the byte when exact, else to llama.cpp's 0.01 MiB.
fn check(model: &ModelDesc, path: &Path, p: &CacheParams) -> Measured {
    let what = format!(
        "{} n_ctx {} {} seq {} unified {} fa {}",
        model.name, p.n_ctx, p.type_k.name, p.n_seq, p.kv_unified, p.flash_attn
    );
    let predicted = kv_plan(model, p).unwrap_or_else(|e| panic!("{what}: planner: {e}"));
    let m = measure(path, p).unwrap_or_else(|e| panic!("{what}: llama.cpp: {e}"));
    assert_eq!(m.n_ctx, predicted.n_ctx, "{what}: n_ctx");
    assert_eq!(m.n_ctx_seq, predicted.n_ctx_seq, "{what}: n_ctx_seq");
    assert_eq!(
        m.caches.len(),
        predicted.caches.len(),
        "{what}: cache instances"
    );
    for (mc, pc) in m.caches.iter().zip(&predicted.caches) {
        assert_eq!(mc.logged.name, pc.name, "{what}");
        assert_eq!(
            (
                mc.logged.cells,
                mc.logged.layers,
                mc.logged.streams,
                mc.logged.seqs
            ),
            (pc.cells, pc.layers, pc.streams, p.n_seq),
            "{what}: {} cells/layers/streams/seqs",
            pc.name
        );
        assert!(mc.exact, "{what}: {} bytes not recovered exactly", pc.name);
        assert_eq!(
            (mc.k_bytes, mc.v_bytes),
            (pc.k_bytes, pc.v_bytes),
            "{what}: {} K/V bytes",
            pc.name
        );
    }
    assert_eq!(m.kv_bytes, predicted.kv_bytes, "{what}: KV bytes");
    if m.recurrent_exact {
        assert_eq!(
            m.recurrent_bytes, predicted.recurrent_bytes,
            "{what}: recurrent bytes"
        );
    } else {
        let r = m.log.recurrent.as_ref().expect("a recurrent line");
        assert!(
            cclocal::runtime::parse::mib_matches(r.size_mib, predicted.recurrent_bytes),
            "{what}: recurrent {r:?}"
        );
    }
    assert!(m.compute_bytes > 0, "{what}: compute buffer");
    m
}

#[test]
fn gemma3_270m_matches_llama_cpp() {
    let Some(path) = support::gemma_path() else {
        return;
    };
    let (model, _) = load_model(path.to_str().unwrap()).unwrap();

    // The anchor from the issue: 12.00 MiB non-SWA + 15.00 MiB SWA at 4096, f16, ubatch 512.
    let m = check(&model, &path, &params(4096, "f16", 1, false, true));
    let sizes: Vec<_> = m
        .caches
        .iter()
        .map(|c| (c.logged.name.as_str(), c.k_bytes + c.v_bytes))
        .collect();
    assert_eq!(sizes, vec![("kv", 12 * MIB), ("kv_swa", 15 * MIB)]);
    assert_eq!(m.recurrent_bytes, 0);

    for ty in ["f16", "q8_0", "q4_0"] {
        for (n_seq, unified) in [(1, false), (4, false), (4, true)] {
            for fa in [true, false] {
                for n_ctx in [1000, 8192] {
                    let p = params(n_ctx, ty, n_seq, unified, fa);
                    if ty != "f16" && !fa {
                        // A quantized V cache needs flash attention: both refuse.
                        assert!(kv_plan(&model, &p).is_err());
                        assert!(
                            measure(&path, &p).is_err(),
                            "llama.cpp accepted quantized V without FA"
                        );
                        continue;
                    }
                    check(&model, &path, &p);
                }
            }
        }
    }
    // swa_full and a larger ubatch change the SWA cache's cells.
    let mut p = params(4096, "q8_0", 1, false, true);
    p.swa_full = true;
    check(&model, &path, &p);
    let mut p = params(16384, "f16", 2, false, true);
    p.n_ubatch = 1024;
    p.n_batch = 2048;
    check(&model, &path, &p);
}

fn fixture(spec: &fx::Spec, name: &str) -> (tempfile::TempDir, std::path::PathBuf, ModelDesc) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.gguf"));
    spec.write(&path).unwrap();
    let (m, _) = load_model(path.to_str().unwrap()).unwrap();
    (dir, path, m)
}

#[test]
fn synthetic_llama_and_gemma3_match_llama_cpp() {
    for (spec, name) in [(fx::llama(), "llama"), (fx::gemma3(), "gemma3")] {
        let (_d, path, model) = fixture(&spec, name);
        for (ty, fa) in [
            ("f16", true),
            ("f16", false),
            ("q8_0", true),
            ("q4_0", true),
        ] {
            for (n_ctx, n_seq) in [(4096, 1), (32768, 4), (100_000, 1)] {
                check(&model, &path, &params(n_ctx, ty, n_seq, false, fa));
            }
        }
    }
}

#[test]
fn metadata_only_fixtures_are_refused_by_llama_cpp() {
    // These fixtures carry only token_embd/output tensors: llama.cpp needs the full tensor
    // list of the architecture to build a context, so they cannot be measured.
    let (_d, path, _) = fixture(&fx::qwen3next(), "qwen3next");
    let e = measure(&path, &CacheParams::new(4096)).unwrap_err();
    assert!(e.message.contains("could not load"), "{e}");
}

/// mamba-130m's dims with its full tensor list (`src/models/mamba.cpp`), so llama.cpp can
/// build a context: 24 layers, n_embd 768, d_inner 1536, d_state 16, d_conv 4, dt_rank 48.
fn mamba() -> fx::Spec {
    let a = "mamba";
    let (n_layer, n_embd, d_inner, d_state, d_conv, dt_rank, n_vocab) =
        (24u32, 768u64, 1536u64, 16u64, 4u64, 48u64, 1024u64);
    let mut kv: Vec<(String, fx::Val)> = vec![
        ("general.architecture".into(), fx::Val::Str(a.into())),
        (format!("{a}.block_count"), fx::Val::U32(n_layer)),
        (format!("{a}.context_length"), fx::Val::U32(1 << 20)),
        (format!("{a}.embedding_length"), fx::Val::U32(n_embd as u32)),
        (format!("{a}.feed_forward_length"), fx::Val::U32(0)),
        (format!("{a}.attention.head_count"), fx::Val::U32(0)),
        (
            format!("{a}.attention.layer_norm_rms_epsilon"),
            fx::Val::F32(1e-5),
        ),
        (format!("{a}.ssm.conv_kernel"), fx::Val::U32(d_conv as u32)),
        (format!("{a}.ssm.inner_size"), fx::Val::U32(d_inner as u32)),
        (format!("{a}.ssm.state_size"), fx::Val::U32(d_state as u32)),
        (
            format!("{a}.ssm.time_step_rank"),
            fx::Val::U32(dt_rank as u32),
        ),
    ];
    // The synthetic vocabulary of the lead's fixtures (1024 tokens).
    kv.extend(
        fx::gemma3()
            .kv
            .into_iter()
            .filter(|(k, _)| k.starts_with("tokenizer.")),
    );
    let t = |name: String, dims: Vec<u64>, ty: u32| fx::Tensor { name, dims, ty };
    let mut tensors = vec![
        t("token_embd.weight".into(), vec![n_embd, n_vocab], 8),
        t("output_norm.weight".into(), vec![n_embd], 0),
        t("output.weight".into(), vec![n_embd, n_vocab], 8),
    ];
    for i in 0..n_layer {
        let b = |n: &str| format!("blk.{i}.{n}");
        tensors.push(t(b("attn_norm.weight"), vec![n_embd], 0));
        tensors.push(t(b("ssm_in.weight"), vec![n_embd, 2 * d_inner], 0));
        tensors.push(t(b("ssm_conv1d.weight"), vec![d_conv, d_inner], 0));
        tensors.push(t(b("ssm_conv1d.bias"), vec![d_inner], 0));
        tensors.push(t(
            b("ssm_x.weight"),
            vec![d_inner, dt_rank + 2 * d_state],
            0,
        ));
        tensors.push(t(b("ssm_dt.weight"), vec![dt_rank, d_inner], 0));
        tensors.push(t(b("ssm_dt.bias"), vec![d_inner], 0));
        tensors.push(t(b("ssm_a"), vec![d_state, d_inner], 0));
        tensors.push(t(b("ssm_d"), vec![d_inner], 0));
        tensors.push(t(b("ssm_out.weight"), vec![d_inner, n_embd], 0));
    }
    fx::Spec {
        kv,
        tensors,
        alignment: 32,
    }
}

#[test]
fn synthetic_mamba_recurrent_state_matches_llama_cpp() {
    let (_d, path, model) = fixture(&mamba(), "mamba");
    // Per sequence: 24 × (R 3·1536 + S 16·1536) f32 = 2,801,664 bytes.
    assert_eq!(
        kv_plan(&model, &CacheParams::new(4096))
            .unwrap()
            .recurrent_bytes,
        2_801_664
    );
    // 256 sequences (llama.cpp's maximum): the 0.01 MiB figure then pins each sequence's
    // bytes to within 20 bytes.
    for n_seq in [1, 4, 256] {
        let m = check(&model, &path, &params(4096, "f16", n_seq, false, true));
        let r = m.log.recurrent.as_ref().unwrap();
        assert_eq!((r.cells, r.layers, r.seqs), (n_seq as u64, 24, n_seq));
        assert!(m.caches.is_empty() && m.kv_bytes == 0);
        let predicted = kv_plan(&model, &params(4096, "f16", n_seq, false, true)).unwrap();
        // R and S separately: (d_conv-1)·d_inner and d_state·d_inner floats per layer.
        let rows = n_seq as u64;
        assert!(cclocal::runtime::parse::mib_matches(
            r.r_mib,
            24 * 3 * 1536 * 4 * rows
        ));
        assert!(cclocal::runtime::parse::mib_matches(
            r.s_mib,
            24 * 16 * 1536 * 4 * rows
        ));
        assert!(cclocal::runtime::parse::mib_matches(
            r.size_mib,
            predicted.recurrent_bytes
        ));
    }
}

/// A small Jamba hybrid with its full tensor list (`src/models/jamba.cpp`): 8 layers, the
/// 5th attention (2 KV heads of 32), the rest Mamba (d_inner 512, d_state 16, d_conv 4).
fn jamba_small() -> fx::Spec {
    let a = "jamba";
    let (n_layer, n_embd, d_inner, d_state, d_conv, dt_rank, n_ff, n_vocab) =
        (8u32, 256u64, 512u64, 16u64, 4u64, 16u64, 512u64, 1024u64);
    let heads_kv: Vec<i32> = vec![0, 0, 0, 0, 2, 0, 0, 0];
    let mut kv: Vec<(String, fx::Val)> = vec![
        ("general.architecture".into(), fx::Val::Str(a.into())),
        (format!("{a}.block_count"), fx::Val::U32(n_layer)),
        (format!("{a}.context_length"), fx::Val::U32(262144)),
        (format!("{a}.embedding_length"), fx::Val::U32(n_embd as u32)),
        (
            format!("{a}.feed_forward_length"),
            fx::Val::U32(n_ff as u32),
        ),
        (format!("{a}.attention.head_count"), fx::Val::U32(8)),
        (
            format!("{a}.attention.head_count_kv"),
            fx::Val::ArrI32(heads_kv.clone()),
        ),
        (
            format!("{a}.attention.layer_norm_rms_epsilon"),
            fx::Val::F32(1e-6),
        ),
        (format!("{a}.ssm.conv_kernel"), fx::Val::U32(d_conv as u32)),
        (format!("{a}.ssm.inner_size"), fx::Val::U32(d_inner as u32)),
        (format!("{a}.ssm.state_size"), fx::Val::U32(d_state as u32)),
        (
            format!("{a}.ssm.time_step_rank"),
            fx::Val::U32(dt_rank as u32),
        ),
    ];
    kv.extend(
        fx::gemma3()
            .kv
            .into_iter()
            .filter(|(k, _)| k.starts_with("tokenizer.")),
    );
    let t = |name: String, dims: Vec<u64>| fx::Tensor { name, dims, ty: 0 };
    let mut tensors = vec![
        t("token_embd.weight".into(), vec![n_embd, n_vocab]),
        t("output_norm.weight".into(), vec![n_embd]),
        t("output.weight".into(), vec![n_embd, n_vocab]),
    ];
    for i in 0..n_layer {
        let b = |n: &str| format!("blk.{i}.{n}");
        tensors.push(t(b("attn_norm.weight"), vec![n_embd]));
        if heads_kv[i as usize] == 0 {
            tensors.push(t(b("ssm_in.weight"), vec![n_embd, 2 * d_inner]));
            tensors.push(t(b("ssm_conv1d.weight"), vec![d_conv, d_inner]));
            tensors.push(t(b("ssm_conv1d.bias"), vec![d_inner]));
            tensors.push(t(b("ssm_x.weight"), vec![d_inner, dt_rank + 2 * d_state]));
            tensors.push(t(b("ssm_dt_norm.weight"), vec![dt_rank]));
            tensors.push(t(b("ssm_dt.weight"), vec![dt_rank, d_inner]));
            tensors.push(t(b("ssm_dt.bias"), vec![d_inner]));
            tensors.push(t(b("ssm_b_norm.weight"), vec![d_state]));
            tensors.push(t(b("ssm_c_norm.weight"), vec![d_state]));
            tensors.push(t(b("ssm_a"), vec![d_state, d_inner]));
            tensors.push(t(b("ssm_d"), vec![d_inner]));
            tensors.push(t(b("ssm_out.weight"), vec![d_inner, n_embd]));
        } else {
            let gqa = 2 * 32;
            tensors.push(t(b("attn_q.weight"), vec![n_embd, n_embd]));
            tensors.push(t(b("attn_k.weight"), vec![n_embd, gqa]));
            tensors.push(t(b("attn_v.weight"), vec![n_embd, gqa]));
            tensors.push(t(b("attn_output.weight"), vec![n_embd, n_embd]));
        }
        tensors.push(t(b("ffn_norm.weight"), vec![n_embd]));
        tensors.push(t(b("ffn_gate.weight"), vec![n_embd, n_ff]));
        tensors.push(t(b("ffn_down.weight"), vec![n_ff, n_embd]));
        tensors.push(t(b("ffn_up.weight"), vec![n_embd, n_ff]));
    }
    fx::Spec {
        kv,
        tensors,
        alignment: 32,
    }
}

#[test]
fn synthetic_jamba_hybrid_matches_llama_cpp() {
    let (_d, path, model) = fixture(&jamba_small(), "jamba");
    assert_eq!((model.kv_layers(), model.recurrent_layers()), (1, 7));
    for (ty, fa) in [
        ("f16", true),
        ("f16", false),
        ("q8_0", true),
        ("q4_0", true),
    ] {
        for (n_ctx, n_seq, unified) in [(4096, 1, false), (20000, 4, false), (20000, 4, true)] {
            let m = check(&model, &path, &params(n_ctx, ty, n_seq, unified, fa));
            let r = m.log.recurrent.as_ref().expect("a recurrent state");
            assert_eq!((r.cells, r.layers, r.seqs), (n_seq as u64, 8, n_seq));
            assert_eq!(m.caches.len(), 1);
        }
    }
}
