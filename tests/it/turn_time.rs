//! `cclocal setup` and `cclocal doctor` quote a typical Claude Code turn's time at the chosen
//! context (docs/session-time.md, "The typical turn in setup and doctor"): from a saved
//! `cclocal bench` report of the model, or from the server's own log when it has timed
//! requests; the same numbers as `predict::typical_turn`, never a finding.

use crate::support;

use cclocal::predict::{self, quote};
use serde_json::Value;
use std::path::Path;
use support::fake_llama_server::{self as fake_llama, Config, Layout};
use support::fake_ollama::FakeOllama;
use support::report::ids;
use support::setup_home::TestHome;

fn fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn state(t: &TestHome) -> std::path::PathBuf {
    t.home().join(".local/state/cclocal")
}

/// Saves tests/fixtures/turn_time/bench-qwen.json as `cclocal bench` does for `gguf`, benched
/// as `model_arg`; returns the saved text.
fn save_bench(t: &TestHome, gguf: &str, model_arg: &str) -> String {
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("turn_time/bench-qwen.json")).unwrap(),
    )
    .unwrap();
    // 2026-11-30T10:00:00Z.
    let p = quote::save_bench(
        &state(t),
        Path::new(gguf),
        model_arg,
        &report,
        1_796_032_800_000,
    )
    .unwrap();
    std::fs::read_to_string(p).unwrap()
}

struct Doc {
    json: Value,
    text: String,
    code: Option<i32>,
}

/// `cclocal doctor` (JSON, then text) in `t`'s HOME, Claude Code 2.1.332 sending `model`
/// to `url`.
fn doctor(t: &TestHome, url: &str, model: &str) -> Doc {
    let bin = t.dir.path().join("bin");
    support::fake_claude_version(&bin, "2.1.332");
    let run = |extra: &[&str]| {
        let mut c = t.command(&[]);
        c.arg("doctor")
            .args(["--timeout", "5"])
            .args(extra)
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("NO_COLOR", "1")
            .env("CCLOCAL_DOCTOR_NO_SERVICE_PROBES", "1")
            .env("ANTHROPIC_BASE_URL", url)
            .env("ANTHROPIC_AUTH_TOKEN", "local")
            .env("ANTHROPIC_MODEL", model)
            .env_remove("ANTHROPIC_API_KEY")
            .current_dir(t.home());
        c.output().unwrap()
    };
    let out = run(&["--json"]);
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let text = String::from_utf8_lossy(&run(&[]).stdout).into_owned();
    Doc {
        json,
        text,
        code: out.status.code(),
    }
}

fn quote_of(v: &Value) -> quote::Quote {
    quote::Quote {
        ctx: v["ctx"].as_u64().unwrap(),
        warm_ms: v["warm_ms"].as_f64().unwrap(),
        cold_ms: v["cold_ms"].as_f64().unwrap(),
        source: v["source"].as_str().unwrap().to_string(),
        spread: v["spread"].as_f64(),
    }
}

#[test]
fn a_saved_bench_gives_doctor_and_setup_the_same_turn() {
    let fake = FakeOllama::serving("qwen3-coder:30b", 65_536);
    let t = TestHome::new();

    // No bench yet: no quote, one line saying how to get it, and nothing else changes.
    let before = doctor(&t, &fake.base_url, "qwen3-coder:30b");
    assert!(
        before.json["facts"]["turn_time"].is_null(),
        "{:#}",
        before.json["facts"]
    );
    assert!(
        before.text.contains(
            "turn time: `cclocal bench qwen3-coder:30b` shows how long a turn takes at this context"
        ),
        "{}",
        before.text
    );

    // An Ollama model is benched through its blob; the report keeps the name it was given.
    let text = save_bench(&t, "/store/blobs/sha256-5ee1", "qwen3-coder:30b");
    let after = doctor(&t, &fake.base_url, "qwen3-coder:30b");
    let tt = &after.json["facts"]["turn_time"];
    assert_eq!(tt["ctx"], 65_536, "{tt:#}");
    assert_eq!(tt["source"], "cclocal bench on 2026-11-30");
    let q = quote_of(tt);
    let rates = predict::from_bench_json(&text, "x").unwrap();
    let (warm, cold) = predict::typical_turn(65_536, &rates);
    assert!(
        (q.warm_ms - warm).abs() < 1e-6 && (q.cold_ms - cold).abs() < 1e-6,
        "{q:?}"
    );
    assert!(q.warm_ms < q.cold_ms, "{q:?}");
    let sentence = quote::sentence(&q);
    assert!(
        sentence.starts_with("a turn at 64K tokens: ~")
            && sentence.contains(" with the cache reused, ~"),
        "{sentence}"
    );
    assert!(after.text.contains(&sentence), "{}", after.text);
    // Informational only: the same findings and exit code as without it.
    assert_eq!(ids(&after.json), ids(&before.json));
    assert_eq!(after.code, before.code);

    // Setup's plan for the same model and context prints the same sentence, and its JSON
    // carries the same numbers.
    let args = [
        "setup",
        "--model",
        "qwen3-coder:30b",
        "--ctx",
        "65536",
        "--claude-version",
        "2.1.332",
        "--host",
        fake.base_url.as_str(),
        "--dry-run",
    ];
    let o = t.run(&args);
    let out = support::setup_home::text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains(&sentence), "{out}");
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let o = t.run(&json_args);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", support::setup_home::text(&o)));
    assert_eq!(quote_of(&v["turn_time"]), q);
    // A dry run writes nothing, the saved bench stays.
    assert!(state(&t).join("bench/sha256-5ee1.json").is_file());

    // Another model has no bench: setup says how to get one.
    let o = t.run(&[
        "setup",
        "--model",
        "llama3:8b",
        "--ctx",
        "32768",
        "--claude-version",
        "2.1.332",
        "--host",
        "http://127.0.0.1:9",
        "--dry-run",
        "--force",
    ]);
    let out = support::setup_home::text(&o);
    assert!(
        out.contains("`cclocal bench llama3:8b` shows how long a turn takes at this context"),
        "{out}"
    );
}

#[test]
fn the_server_log_is_preferred_and_a_bench_is_found_by_its_file_name() {
    let srv = fake_llama::start(Config::new(Layout::OneSlot));
    let t = TestHome::new();
    // A bench of the GGUF the server runs (/models/gemma-3-270m-q4_k_m.gguf), by path.
    let text = save_bench(
        &t,
        "/elsewhere/gemma-3-270m-q4_k_m.gguf",
        "/elsewhere/gemma-3-270m-q4_k_m.gguf",
    );
    let d = doctor(&t, &srv.base_url, "gemma");
    let tt = &d.json["facts"]["turn_time"];
    assert_eq!(tt["ctx"], 8192, "served per slot: {tt:#}");
    assert_eq!(tt["source"], "cclocal bench on 2026-11-30");
    let rates = predict::from_bench_json(&text, "x").unwrap();
    let (warm, cold) = predict::typical_turn(8192, &rates);
    assert!(
        (tt["warm_ms"].as_f64().unwrap() - warm).abs() < 1e-6,
        "{tt:#}"
    );
    assert!(
        (tt["cold_ms"].as_f64().unwrap() - cold).abs() < 1e-6,
        "{tt:#}"
    );

    // The server's own log (real llama-server b11434 timing lines) wins over the bench.
    let log = fixture("server-logs/llama-server-b11434-claude-session.log");
    std::fs::copy(&log, state(&t).join("llama-server.log")).unwrap();
    let d = doctor(&t, &srv.base_url, "gemma");
    let tt = &d.json["facts"]["turn_time"];
    let a = cclocal::logs::serverlog::analyze::analyze_tail(&log, 16 << 20).unwrap();
    let (rates, n) = quote::server_rates(&a).unwrap();
    assert!(n >= 2);
    assert_eq!(
        tt["source"],
        format!("your server's log, {n} timed requests"),
        "{tt:#}"
    );
    let (warm, cold) = predict::typical_turn(8192, &rates);
    assert!(
        (tt["warm_ms"].as_f64().unwrap() - warm).abs() < 1e-6,
        "{tt:#}"
    );
    assert!(
        (tt["cold_ms"].as_f64().unwrap() - cold).abs() < 1e-6,
        "{tt:#}"
    );
    assert!(warm < cold);
    let sentence = quote::sentence(&quote_of(tt));
    assert!(sentence.starts_with("a turn at 8K tokens: "), "{sentence}");
    assert!(d.text.contains(&sentence), "{}", d.text);
}
