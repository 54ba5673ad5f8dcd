//! `cclocal bench --host` and the bench hints against FAKE servers (the real llama-server
//! and vLLM proofs are in `bench_host_real`): what it refuses, and that every hint names
//! something that can work for the kind of model it is about.
use crate::support;
use crate::support::fake_http::{Answer, FakeHttp, Routes};
use crate::support::fake_ollama::{FakeModel, FakeOllama, Loaded, Scenario};
use crate::support::setup_home::*;

fn run(t: &TestHome, args: &[&str]) -> std::process::Output {
    support::cclocal()
        .env("HOME", t.home())
        .env_remove("XDG_STATE_HOME")
        .env_remove("OLLAMA_HOST")
        .env_remove("OLLAMA_MODELS")
        .args(args)
        .output()
        .unwrap()
}

/// Issue 21: an LM Studio key and an MLX id were told to `ollama pull` (the embedded bench
/// runs only in a build with the runtime; `cli::bench` tests the hint in every build).
#[cfg(feature = "runtime")]
#[test]
fn bench_of_a_served_model_id_points_at_bench_host_not_ollama_pull() {
    let t = TestHome::new();
    for id in [
        "qwen/qwen3-coder-30b",
        "mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit",
    ] {
        let o = run(&t, &["bench", id]);
        let err = text(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(!err.contains("ollama pull"), "{err}");
        assert!(
            err.contains(&format!("cclocal bench --host URL --model {id}")),
            "{err}"
        );
    }
}

/// Issue 21: `plan x --host <mlx_lm>` said `ollama pull x`.
#[test]
fn plan_against_an_mlx_server_does_not_hint_ollama_pull() {
    let t = TestHome::new();
    let srv = support::fake_mlx::mlx_lm("mlx-community/Qwen3-Coder-30B-4bit");
    let o = run(&t, &["plan", "x", "--host", &srv.base_url]);
    let err = text(&o);
    assert!(!o.status.success(), "{err}");
    assert!(!err.contains("ollama pull"), "{err}");
    assert!(err.contains("mlx_lm.server"), "{err}");
    assert!(err.contains("cclocal bench --host"), "{err}");
}

#[test]
fn bench_host_says_why_it_cannot_measure_an_unknown_server() {
    let t = TestHome::new();
    let srv = FakeHttp::start(Routes::new(Answer::html(200, "<html>router admin</html>")));
    let o = run(&t, &["bench", "--host", &srv.base_url]);
    let err = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot bench this server"), "{err}");
    assert!(err.contains("fingerprint"), "{err}");
}

#[test]
fn bench_host_never_evicts_another_ollama_model_without_force() {
    let t = TestHome::new();
    let fake = FakeOllama::start(
        Scenario::new("0.30.0")
            .model(FakeModel::llama("llama3:8b"))
            .model(FakeModel::llama("qwen3:8b"))
            .loaded(Loaded::new("llama3:8b", 8192)),
    );
    let o = run(
        &t,
        &["bench", "--host", &fake.base_url, "--model", "qwen3:8b"],
    );
    let err = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("may unload llama3:8b"), "{err}");
    assert!(err.contains("--force"), "{err}");
    // Nothing was generated: the loaded model stays.
    assert!(
        !fake
            .requests()
            .iter()
            .any(|r| r.path.contains("/api/generate")),
        "{:?}",
        fake.requests()
    );
}

#[test]
fn bench_host_flags_that_belong_to_the_embedded_bench_are_refused() {
    let t = TestHome::new();
    let o = run(&t, &["bench", "--host", "127.0.0.1:9", "--kv-type", "q8_0"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = run(&t, &["bench", "m.gguf", "--host", "127.0.0.1:9"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = run(&t, &["bench", "m.gguf", "--model", "x"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
