//! `cclocal bench`, `cclocal runtime` and `cclocal plan --measure` end to end on the real
//! gemma3-270m.
#![cfg(feature = "runtime")]

use crate::support;

use serde_json::Value;

fn json_of(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// One thread: on a loaded machine (CI, parallel tests) more threads than free cores make
/// ggml's spinning barrier crawl.
#[test]
fn bench_small_gemma_run() {
    let Some(path) = support::gemma_path() else {
        return;
    };
    // The report is saved under HOME's state directory: a scratch one.
    let home = tempfile::tempdir().unwrap();
    let out = support::cclocal()
        .env("HOME", home.path())
        .env_remove("XDG_STATE_HOME")
        .args([
            "bench",
            path.to_str().unwrap(),
            "--ctx",
            "512",
            "--prompts",
            "64,256",
            "--decode",
            "8",
            "--threads",
            "1",
            "-r",
            "2",
            "--json",
        ])
        .output()
        .unwrap();
    let v = json_of(&out);
    assert_eq!(v["model"], "gemma-3-270m-q4_k_m.gguf");
    // Measured like llama-bench: repetitions with a spread, a tgN test, the build it ran.
    assert_eq!(
        (v["threads"].as_u64(), v["repetitions"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(v["warmup"], true);
    let tg = v["generation"].as_array().unwrap();
    assert_eq!(tg.len(), 1);
    assert_eq!(tg[0]["tokens"], 8);
    assert!(tg[0]["tokens_per_s"].as_f64().unwrap() > 0.0);
    assert!(v["build"]["system_info"].as_str().unwrap().contains("CPU"));
    assert!(v["warnings"].is_array());
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for r in runs {
        let pre = r["prefill_tokens_per_s"].as_f64().unwrap();
        let dec = r["decode_tokens_per_s"].as_f64().unwrap();
        assert!(pre > 0.0 && dec > 0.0, "{r}");
        assert!(r["prefill_sd"].as_f64().unwrap() >= 0.0, "{r}");
        assert_eq!(r["repetitions"], 2);
        // Prefill evaluates a whole batch per call; decode one token per call.
        assert!(
            pre > dec,
            "prefill {pre} tok/s should exceed decode {dec} tok/s"
        );
        assert_eq!(
            (
                r["batch"].as_u64(),
                r["flash_attn"].as_bool(),
                r["kv_type"].as_str()
            ),
            (Some(2048), Some(true), Some("f16"))
        );
        assert_eq!(r["ubatch"], 512);
    }
    assert_eq!(runs[0]["prompt_tokens"], 64);
    let rec = &v["recommended"];
    assert_eq!(
        (rec["batch"].as_u64(), rec["ubatch"].as_u64()),
        (Some(2048), Some(512))
    );
    // Cold re-reads the whole 256-token context plus the new tokens; warm only the new ones.
    assert!(
        rec["turn"]["cold_turn_s"].as_f64().unwrap() > rec["turn"]["warm_turn_s"].as_f64().unwrap()
    );
    assert_eq!(rec["turn"]["context_tokens"], 256);
    // Saved where setup and doctor look, with the model as given, and read back to the
    // same turn figures.
    let saved_path = home
        .path()
        .join(".local/state/cclocal/bench/gemma-3-270m-q4_k_m.gguf.json");
    let saved_text = std::fs::read_to_string(&saved_path).expect("the saved report");
    let saved: Value = serde_json::from_str(&saved_text).unwrap();
    assert_eq!(saved["model_arg"], path.to_str().unwrap());
    assert_eq!(saved["recommended"], v["recommended"]);
    let rates = cclocal::predict::from_bench_json(&saved_text, "saved").unwrap();
    let (w, c) = cclocal::predict::quote::turn_ms(&rates, 256, 64, 300);
    assert!((rec["turn"]["warm_turn_s"].as_f64().unwrap() - w / 1000.0).abs() < 1e-6);
    assert!((rec["turn"]["cold_turn_s"].as_f64().unwrap() - c / 1000.0).abs() < 1e-6);
    assert!(String::from_utf8_lossy(&out.stderr).contains("saved to "));
    // Nothing from llama.cpp's log leaks to the terminal without -v.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("llama_") && !err.contains("load_tensors"),
        "stderr: {err}"
    );
}

#[test]
fn bench_rejects_prompt_longer_than_context() {
    let Some(path) = support::gemma_path() else {
        return;
    };
    let out = support::cclocal()
        .args([
            "bench",
            path.to_str().unwrap(),
            "--ctx",
            "256",
            "--prompts",
            "512",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not fit in --ctx 256"));
}

#[test]
fn runtime_lists_cpu_device_with_memory() {
    let out = support::cclocal()
        .args(["runtime", "--json"])
        .output()
        .unwrap();
    let v = json_of(&out);
    let cpu = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "CPU")
        .expect("a CPU device");
    assert!(cpu["memory_total"].as_u64().unwrap() > 0);
    assert_eq!(cpu["kind"], "cpu");
    assert!(v["build"]["system_info"]
        .as_str()
        .unwrap()
        .starts_with("CPU :"));
    let text = support::cclocal().arg("runtime").output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("CPU") && text.contains("total"), "{text}");
}

#[test]
fn plan_measure_matches_prediction() {
    let Some(path) = support::gemma_path() else {
        return;
    };
    let out = support::cclocal()
        .args([
            "plan",
            path.to_str().unwrap(),
            "--ctx",
            "4096",
            "--ctx",
            "32768",
            "--kv-type",
            "q8_0",
            "--measure",
            "--json",
        ])
        .output()
        .unwrap();
    let v = json_of(&out);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for r in rows {
        let m = &r["measured"];
        assert_eq!(m["kv_bytes"], r["kv_bytes"], "{r}");
        assert_eq!(m["recurrent_bytes"], 0);
        assert!(m["compute_bytes"].as_u64().unwrap() > 0);
    }
    let text = support::cclocal()
        .args(["plan", path.to_str().unwrap(), "--ctx", "4096", "--measure"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("Measured by the embedded llama.cpp") && text.contains("match llama.cpp"),
        "{text}"
    );
}

/// `doctor --measure`: the model resolved through the Ollama store on this machine is
/// measured by the embedded llama.cpp at the live context; the KV figure equals the
/// planner's (byte-exact) and the memory is marked as measured.
#[test]
fn doctor_measure_uses_llama_cpp() {
    let Some(gemma) = support::gemma_path() else {
        return;
    };
    const NAME: &str = "gemma3:270m";
    let home = tempfile::tempdir().unwrap();
    let store = home.path().join("models");
    let hex = "ef".repeat(32);
    std::fs::create_dir_all(store.join("blobs")).unwrap();
    std::os::unix::fs::symlink(&gemma, store.join(format!("blobs/sha256-{hex}"))).unwrap();
    let mdir = store.join("manifests/registry.ollama.ai/library/gemma3");
    std::fs::create_dir_all(&mdir).unwrap();
    std::fs::write(
        mdir.join("270m"),
        format!(r#"{{"layers":[{{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:{hex}"}}]}}"#),
    )
    .unwrap();
    let fake = support::fake_ollama::FakeOllama::start(
        support::fake_ollama::Scenario::new("0.30.0")
            .model(support::fake_ollama::FakeModel::llama(NAME))
            .loaded(support::fake_ollama::Loaded::new(NAME, 4096)),
    );
    let out = support::cclocal()
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", "/usr/bin:/bin")
        .env("OLLAMA_MODELS", &store)
        .env("CCLOCAL_DOCTOR_NO_SERVICE_PROBES", "1")
        .args([
            "doctor",
            "--json",
            "--measure",
            "--timeout",
            "5",
            "--host",
            &fake.base_url,
            "--model",
            NAME,
        ])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let mem = &doc["facts"]["model"]["memory"];
    assert_eq!(mem["measured"], true, "{}", doc["facts"]["model"]);
    assert_eq!(mem["n_ctx"], 4096);
    // llama.cpp: 12.00 MiB non-SWA + 15.00 MiB SWA at 4096, f16.
    assert_eq!(mem["kv_bytes"].as_u64().unwrap(), 27 << 20);
}
