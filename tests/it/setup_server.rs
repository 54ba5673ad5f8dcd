//! Setup talking to the (fake) Ollama server: planning the context from `/api/show` when the
//! model file is not readable here, and `--warm` preloading the model with the keep-alive.
use crate::support;
use crate::support::setup_home;

use setup_home::*;
use support::fake_ollama::{FakeModel, FakeOllama, Scenario};

#[test]
fn context_is_planned_from_api_show_and_warm_preloads() {
    let fake = FakeOllama::start(Scenario::new("0.30.0").model(FakeModel::llama("llama3.1:8b")));
    let t = TestHome::new();
    let root = t.root().display().to_string();
    let args = [
        "setup",
        "--yes",
        "--model",
        "llama3.1:8b",
        "--memory",
        "16GiB",
        "--kv-cache-type",
        "f16",
        "--keep-alive",
        "2h",
        "--claude-version",
        "2.1.332",
        "--host",
        &fake.base_url,
        "--system-root",
        &root,
        "--warm",
    ];
    let o = t.run(&args);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("planned context:") && out.contains("/api/show"),
        "{out}"
    );
    let cfg = std::fs::read_to_string(t.home().join(".config/cclocal/config.toml")).unwrap();
    let ctx: u64 = cfg
        .lines()
        .find_map(|l| l.strip_prefix("context = "))
        .unwrap()
        .parse()
        .unwrap();
    // 32 layers x 8 KV heads x 128 x 2 (K+V) x 2 bytes = 128 KiB per token; 4.9 GB of weights in
    // a 16 GiB budget (1 GiB margin) leaves room for roughly 70-80k tokens, below the 131072 trained.
    assert!(ctx > 32_768 && ctx < 131_072 && ctx % 256 == 0, "{ctx}");
    let dropin = std::fs::read_to_string(
        t.root()
            .join("etc/systemd/system/ollama.service.d/cclocal.conf"),
    )
    .unwrap();
    assert!(
        dropin.contains(&format!("OLLAMA_CONTEXT_LENGTH={ctx}\"")),
        "{dropin}"
    );
    assert!(dropin.contains("OLLAMA_KEEP_ALIVE=2h"));
    let reqs = fake.requests();
    assert!(reqs.iter().any(|r| r.route() == "/api/show"));
    let gen = reqs
        .iter()
        .find(|r| r.route() == "/api/generate")
        .expect("--warm loads the model");
    let body = gen.json().unwrap();
    assert_eq!(body["model"], "llama3.1:8b");
    assert_eq!(body["keep_alive"], "2h");
    assert!(body.get("prompt").is_none());
}

#[test]
fn remote_server_without_ctx_or_memory_asks_for_one() {
    let t = TestHome::new();
    let o = t.run(&[
        "setup",
        "--yes",
        "--model",
        "m",
        "--host",
        "http://gpu-box.invalid:11434",
        "--claude-version",
        "2.1.332",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("--ctx") && text(&o).contains("--memory"),
        "{}",
        text(&o)
    );
}

/// After `cclocal setup`, the doctor compares config.toml with what is live: a server that
/// serves another context than the one set up is reported as drift.
#[test]
fn doctor_reports_drift_from_what_setup_configured() {
    let fake = FakeOllama::start(
        Scenario::new("0.30.0")
            .model(FakeModel::llama("qwen3-coder:30b"))
            .loaded(support::fake_ollama::Loaded::new("qwen3-coder:30b", 16_384)),
    );
    let t = TestHome::new();
    let mut args = t.setup_args(&["--yes", "--only", "launcher"]);
    let host = args.iter().position(|a| a == "--host").unwrap() + 1;
    args[host] = fake.base_url.clone();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = t.run(&refs);
    assert!(o.status.success(), "{}", text(&o));
    assert!(t.home().join(".config/cclocal/config.toml").is_file());
    let o = t
        .command(&[
            "doctor",
            "--json",
            "--host",
            &fake.base_url,
            "--model",
            "qwen3-coder:30b",
        ])
        .env("CCLOCAL_DOCTOR_NO_SERVICE_PROBES", "1")
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let drift = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "setup_drift")
        .unwrap_or_else(|| panic!("no setup_drift: {}", j["findings"]));
    let detail = drift["detail"].as_str().unwrap();
    assert!(
        detail.contains("65536-token context") && detail.contains("serves 16384"),
        "{detail}"
    );
}
