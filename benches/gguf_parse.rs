//! Header parse of the real gemma3-270m GGUF (262,144-token vocabulary), the planner's
//! first step. Target: under 20 ms. `scripts/bench.sh` runs this next to the anchors
//! (Python's `gguf.GGUFReader`, llama.cpp's own loader) and prints the ratios.

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::PathBuf;

fn gemma() -> Option<PathBuf> {
    let deps = std::env::var_os("CCLOCAL_TEST_DEPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-deps"));
    let p = deps.join("gemma-3-270m-q4_k_m.gguf");
    p.is_file().then_some(p)
}

fn bench(c: &mut Criterion) {
    let Some(path) = gemma() else {
        eprintln!("gguf_parse: gemma3-270m missing; run scripts/install-test-deps.sh");
        return;
    };
    c.bench_function("gguf_header_gemma3_270m", |b| {
        b.iter(|| {
            let h = cclocal::gguf::read_header(&path).unwrap();
            assert_eq!(h.get_str("general.architecture"), Some("gemma3"));
            h
        })
    });
    c.bench_function("plan_model_gemma3_270m", |b| {
        b.iter(|| cclocal::model::load_model(path.to_str().unwrap()).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
