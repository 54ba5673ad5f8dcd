//! The planner's KV-cache and recurrent-state bytes on synthetic models of every family,
//! against figures llama.cpp itself reported (`docs/llama-memory.md`, "Reference figures",
//! and above) and, for the rest, against the formulas worked by hand from the model dims.

use crate::support;

use cclocal::memory::{kv_plan, parse_cache_type, CacheParams, KvReport};
use cclocal::model::{load_model, ModelDesc};
use support::gguf_fixtures as fx;

const MIB: u64 = 1 << 20;

fn load(spec: &fx::Spec, name: &str) -> (tempfile::TempDir, ModelDesc) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.gguf"));
    spec.write(&path).unwrap();
    let (m, _) = load_model(path.to_str().unwrap()).unwrap();
    assert_eq!(m.weights_bytes, spec.weights_bytes());
    (dir, m)
}

fn plan(m: &ModelDesc, n_ctx: u64, ty: &str) -> KvReport {
    let p = CacheParams::new(n_ctx).with_cache_type(parse_cache_type(ty).unwrap());
    kv_plan(m, &p).unwrap()
}

#[test]
fn qwen3next_matches_llama_cpp() {
    let (_d, m) = load(&fx::qwen3next(), "qwen3next");
    assert_eq!((m.kv_layers(), m.recurrent_layers()), (12, 36));
    // llama.cpp: "size =  408.00 MiB ( 32768 cells,  12 layers,  1/1 seqs)"
    let cases = [
        (32768, "q8_0", 408 * MIB),
        (65536, "q8_0", 816 * MIB),
        (131072, "q8_0", 1632 * MIB),
        (262144, "q8_0", 3264 * MIB),
        (262144, "f16", 6144 * MIB),
        (32768, "f16", 768 * MIB),
        (32768, "q4_0", 216 * MIB),
        (262144, "q4_0", 1728 * MIB),
    ];
    for (ctx, ty, bytes) in cases {
        let r = plan(&m, ctx, ty);
        assert_eq!(r.kv_bytes, bytes, "{ctx} {ty}");
        assert_eq!(r.caches.len(), 1);
        assert_eq!((r.caches[0].cells, r.caches[0].layers), (ctx, 12));
        // "size =   75.38 MiB": 79,036,416 bytes of f32 state per sequence.
        assert_eq!(r.recurrent_bytes, 79_036_416);
    }
    // Four sequences: state x4 (301.50 MiB), KV unchanged, unified or not.
    let mut p = CacheParams::new(32768).with_cache_type(parse_cache_type("q8_0").unwrap());
    p.n_seq = 4;
    let r = kv_plan(&m, &p).unwrap();
    assert_eq!((r.kv_bytes, r.recurrent_bytes), (408 * MIB, 4 * 79_036_416));
    assert_eq!((r.caches[0].cells, r.caches[0].streams), (8192, 4));
    p.kv_unified = true;
    let r = kv_plan(&m, &p).unwrap();
    assert_eq!(
        (r.kv_bytes, r.caches[0].cells, r.caches[0].streams),
        (408 * MIB, 32768, 1)
    );
}

#[test]
fn gemma3_sliding_window_cells_match_llama_cpp() {
    let (_d, m) = load(&fx::gemma3(), "gemma3");
    assert_eq!(m.sliding_window, 1024);
    let r = plan(&m, 32768, "f16");
    let swa = r.caches.iter().find(|c| c.name == "kv_swa").unwrap();
    let base = r.caches.iter().find(|c| c.name == "kv").unwrap();
    // llama.cpp: "SWA KV cache, size = 1536 cells", 10 SWA + 2 dense layers.
    assert_eq!(
        (swa.cells, swa.layers, base.cells, base.layers),
        (1536, 10, 32768, 2)
    );
    // 256-wide K and V, 1 KV head, f16.
    assert_eq!(base.k_bytes + base.v_bytes, 2 * 512 * 2 * 32768);
    assert_eq!(swa.k_bytes + swa.v_bytes, 10 * 512 * 2 * 1536);
    // swa_full -> full-size SWA cache.
    let mut p = CacheParams::new(32768);
    p.swa_full = true;
    assert_eq!(kv_plan(&m, &p).unwrap().caches[1].cells, 32768);
    // 4 sequences: 1536 cells x 4 streams; unified: 4608 cells.
    let mut p = CacheParams::new(32768);
    p.n_seq = 4;
    let r = kv_plan(&m, &p).unwrap();
    assert_eq!((r.caches[1].cells, r.caches[1].streams), (1536, 4));
    p.kv_unified = true;
    assert_eq!(kv_plan(&m, &p).unwrap().caches[1].cells, 4608);
}

#[test]
fn deepseek2_mla_is_k_only() {
    let (_d, m) = load(&fx::deepseek2(), "deepseek2");
    assert!(m.is_mla);
    let r = plan(&m, 32768, "f16");
    // llama.cpp: "size = 144.00 MiB …, K (f16): 144.00 MiB, V (f16): 0.00 MiB"
    assert_eq!(r.kv_bytes, 144 * MIB);
    assert_eq!(r.caches[0].v_bytes, 0);
    // MLA needs no flash attention for a quantized cache's V (there is none).
    let mut p = CacheParams::new(32768).with_cache_type(parse_cache_type("q8_0").unwrap());
    p.flash_attn = false;
    assert_eq!(kv_plan(&m, &p).unwrap().kv_bytes, 576 * 34 / 32 * 4 * 32768);
}

#[test]
fn lfm2_per_layer_kv_heads() {
    let (_d, m) = load(&fx::lfm2(), "lfm2");
    assert_eq!((m.kv_layers(), m.recurrent_layers()), (6, 10));
    let r = plan(&m, 32768, "f16");
    // 6 attention layers x 8 KV heads x 64 dims x (K+V) x 2 bytes per token.
    assert_eq!(r.kv_bytes, 6 * 8 * 64 * 2 * 2 * 32768);
    // short-conv state: n_embd * (l_cache - 1) f32 per layer and sequence.
    assert_eq!(r.recurrent_bytes, 10 * 2048 * 2 * 4);
}

#[test]
fn gpt_oss_alternating_swa() {
    let (_d, m) = load(&fx::gpt_oss(), "gpt-oss");
    let r = plan(&m, 32768, "f16");
    let swa = r.caches.iter().find(|c| c.name == "kv_swa").unwrap();
    let base = r.caches.iter().find(|c| c.name == "kv").unwrap();
    // window 128 + n_ubatch 512 = 640 -> padded to 768 cells.
    assert_eq!((swa.cells, swa.layers, base.layers), (768, 12, 12));
    let per_token = 8 * 64 * 2 * 2;
    assert_eq!(r.kv_bytes, 12 * per_token * 32768 + 12 * per_token * 768);
}

#[test]
fn jamba_hybrid() {
    let (_d, m) = load(&fx::jamba(), "jamba");
    assert_eq!((m.kv_layers(), m.recurrent_layers()), (1, 7));
    let r = plan(&m, 65536, "f16");
    assert_eq!(r.kv_bytes, 8 * 128 * 2 * 2 * 65536);
    // Mamba: conv (d_conv-1)*d_inner, state d_state*d_inner, f32.
    assert_eq!(r.recurrent_bytes, 7 * (3 * 8192 + 16 * 8192) * 4);
}

#[test]
fn llama_padding_and_v_without_flash_attention() {
    let (_d, m) = load(&fx::llama(), "llama");
    // n_ctx 100000 -> 100096 (padded to 256).
    let r = plan(&m, 100_000, "f16");
    assert_eq!(r.n_ctx, 100_096);
    assert_eq!(r.kv_bytes, 32 * 1024 * 2 * 2 * 100_096);
    // A quantized V cache needs flash attention.
    let mut p = CacheParams::new(8192).with_cache_type(parse_cache_type("q8_0").unwrap());
    p.flash_attn = false;
    let err = kv_plan(&m, &p).unwrap_err();
    assert!(err.to_string().contains("flash attention"), "{err}");
    // Every cache type llama.cpp accepts.
    for (ty, num, den) in [
        ("f32", 4, 1),
        ("bf16", 2, 1),
        ("q4_1", 20, 32),
        ("q5_0", 22, 32),
        ("q5_1", 24, 32),
        ("iq4_nl", 18, 32),
    ] {
        assert_eq!(
            plan(&m, 8192, ty).kv_bytes,
            32 * 1024 * 2 * 8192 * num / den,
            "{ty}"
        );
    }
}

#[test]
fn real_gemma3_270m_matches_llama_cpp() {
    let Some(path) = support::gemma_path() else {
        return;
    };
    let (m, _) = load_model(path.to_str().unwrap()).unwrap();
    assert_eq!(
        (m.architecture.as_str(), m.block_count, m.vocab_size),
        ("gemma3", 18, Some(262_144))
    );
    let r = plan(&m, 4096, "f16");
    // llama.cpp: 12.00 MiB (non-SWA) + 15.00 MiB (SWA) at n_ctx 4096, f16, n_ubatch 512.
    let base = r.caches.iter().find(|c| c.name == "kv").unwrap();
    let swa = r.caches.iter().find(|c| c.name == "kv_swa").unwrap();
    assert_eq!(base.k_bytes + base.v_bytes, 12 * MIB);
    assert_eq!(swa.k_bytes + swa.v_bytes, 15 * MIB);
}

/// gemma4-style: per-layer SWA pattern and different head sizes for SWA layers. Without
/// flash attention llama.cpp pads every V row to the widest layer ([TAG_V_CACHE_VARIABLE]).
#[test]
fn v_cache_padding_without_flash_attention() {
    let a = "gemma4";
    let kv = vec![
        ("general.architecture".to_string(), fx::Val::Str(a.into())),
        (format!("{a}.block_count"), fx::Val::U32(6)),
        (format!("{a}.context_length"), fx::Val::U32(131072)),
        (format!("{a}.embedding_length"), fx::Val::U32(2560)),
        (format!("{a}.attention.head_count"), fx::Val::U32(8)),
        (format!("{a}.attention.head_count_kv"), fx::Val::U32(2)),
        (format!("{a}.attention.key_length"), fx::Val::U32(512)),
        (format!("{a}.attention.value_length"), fx::Val::U32(512)),
        (format!("{a}.attention.key_length_swa"), fx::Val::U32(256)),
        (format!("{a}.attention.value_length_swa"), fx::Val::U32(256)),
        (format!("{a}.attention.sliding_window"), fx::Val::U32(512)),
        (
            format!("{a}.attention.sliding_window_pattern"),
            fx::Val::ArrBool(vec![true, true, true, true, true, false]),
        ),
    ];
    let spec = fx::Spec {
        kv,
        tensors: vec![],
        alignment: 32,
    };
    let (_d, m) = load(&spec, "gemma4");
    let mut p = CacheParams::new(8192);
    let r = kv_plan(&m, &p).unwrap();
    let (base, swa) = (&r.caches[0], &r.caches[1]);
    assert_eq!((base.layers, swa.layers, swa.cells), (1, 5, 1024));
    assert_eq!(base.k_bytes + base.v_bytes, 2 * (512 + 512) * 2 * 8192);
    assert_eq!(swa.k_bytes + swa.v_bytes, 5 * 2 * (256 + 256) * 2 * 1024);
    p.flash_attn = false;
    let r = kv_plan(&m, &p).unwrap();
    let swa = &r.caches[1];
    assert_eq!(swa.k_bytes, 5 * 2 * 256 * 2 * 1024);
    assert_eq!(
        swa.v_bytes,
        5 * 2 * 512 * 2 * 1024,
        "V padded to the widest layer"
    );
}

/// Ollama's `/api/show` `model_info` (same keys, JSON values) describes the same model as
/// the GGUF file.
#[test]
fn ollama_model_info_matches_the_gguf() {
    let spec = fx::qwen3next();
    let (_d, from_file) = load(&spec, "qwen3next");
    let mut info = serde_json::Map::new();
    for (k, v) in &spec.kv {
        let j = match v {
            fx::Val::U32(x) => serde_json::json!(x),
            fx::Val::Str(s) => serde_json::json!(s),
            fx::Val::ArrI32(a) => serde_json::json!(a),
            _ => continue, // tokenizer arrays are empty in /api/show unless verbose
        };
        info.insert(k.clone(), j);
    }
    info.insert("qwen3next.vocab_size".into(), serde_json::json!(151936));
    let from_api = cclocal::model::describe(&info, "qwen3-coder-next:q4_K_M", 0, 0).unwrap();
    assert_eq!(from_api.layers, from_file.layers);
    assert_eq!(
        (from_api.n_embd_r, from_api.n_embd_s),
        (from_file.n_embd_r, from_file.n_embd_s)
    );
    assert_eq!(
        plan(&from_api, 65536, "q8_0"),
        plan(&from_file, 65536, "q8_0")
    );
    // Per-layer head counts arrive as JSON arrays.
    let mut lfm = serde_json::Map::new();
    lfm.insert("general.architecture".into(), "lfm2".into());
    lfm.insert("lfm2.block_count".into(), 4.into());
    lfm.insert("lfm2.context_length".into(), 4096.into());
    lfm.insert("lfm2.embedding_length".into(), 256.into());
    lfm.insert("lfm2.attention.head_count".into(), 4.into());
    lfm.insert(
        "lfm2.attention.head_count_kv".into(),
        serde_json::json!([0, 2, 0, 2]),
    );
    let m = cclocal::model::describe(&lfm, "lfm2", 0, 0).unwrap();
    assert_eq!((m.kv_layers(), m.recurrent_layers()), (2, 2));
    lfm.insert(
        "lfm2.attention.head_count_kv".into(),
        serde_json::json!([0, 2, 0]),
    );
    let e = cclocal::model::describe(&lfm, "lfm2", 0, 0).unwrap_err();
    assert!(e.to_string().contains("expected one per layer"), "{e}");
}
