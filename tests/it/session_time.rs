//! `cclocal logs LOG --what-if --bench BENCH.json` and the synthetic `--turns` session: the JSON
//! contract and the seed's 57-minute session (tests/fixtures/session_time/README.md).

use crate::support;

use serde_json::Value;

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/session_time/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn run_json(args: &[&str]) -> Value {
    support::report::ok_json(&support::cclocal().args(args).output().unwrap())
}

#[test]
fn seed_session_shows_where_the_57_minutes_went() {
    let log = fixture("seed-57.txt");
    let bench = fixture("seed-bench.json");
    let v = run_json(&["logs", &log, "--what-if", "--bench", &bench, "--json"]);
    let w = &v["what_if"];
    let measured = w["as_ran"]["measured_ms"].as_f64().unwrap();
    let predicted = w["as_ran"]["predicted_ms"].as_f64().unwrap();
    // 57 minutes measured; the model explains it within 5% (the tools' 1.5 s per request is
    // inside the log's stream times, not in the model).
    assert!((measured / 60_000.0 - 57.0).abs() < 0.1, "{measured}");
    assert!(
        (predicted / measured - 1.0).abs() < 0.05,
        "{predicted} vs {measured}"
    );
    assert_eq!(w["as_ran"]["round_trips"], 57);
    // Most of it was prefill: the waits.
    let prefill = w["as_ran"]["breakdown"]["prefill_ms"].as_f64().unwrap();
    assert!(prefill > 0.6 * measured, "{prefill}");
    // The fix is the prompt cache: it saves over 20 minutes.
    let savings = w["recommended"]["savings"].as_array().unwrap();
    let cache = savings
        .iter()
        .find(|s| s["cause"] == "cache_reused")
        .expect("a cache_reused saving");
    assert!(cache["ms"].as_f64().unwrap() > 20.0 * 60_000.0, "{cache}");
    let rec = w["recommended"]["predicted_ms"].as_f64().unwrap();
    let sum: f64 = savings.iter().map(|s| s["ms"].as_f64().unwrap()).sum();
    assert!((predicted - rec - sum).abs() < 1.0);
    // The usual log report is still there.
    assert_eq!(v["summary"]["requests"], 57);
}

#[test]
fn seed_session_human_report() {
    let out = support::cclocal()
        .args([
            "logs",
            &fixture("seed-57.txt"),
            "--what-if",
            "--bench",
            &fixture("seed-bench.json"),
            "--compact-at",
            "24000",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("57 min measured"), "{text}");
    assert!(text.contains("cache_reused"), "{text}");
    // Compacting at 24K costs more summaries than it saves at these rates: said, not hidden.
    assert!(text.contains("compacts_in_time: would cost time"), "{text}");
}

#[test]
fn synthetic_session_prices_the_cache() {
    let v = run_json(&[
        "logs",
        "--what-if",
        "--bench",
        &fixture("seed-bench.json"),
        "--turns",
        "10",
        "--turn-context",
        "20000",
        "--turn-new",
        "1000",
        "--turn-output",
        "200",
        "--json",
    ]);
    let w = &v["what_if"];
    assert!(w["as_ran"]["measured_ms"].is_null());
    let cold = w["as_ran"]["predicted_ms"].as_f64().unwrap();
    let warm = w["recommended"]["predicted_ms"].as_f64().unwrap();
    assert!(cold > 3.0 * warm, "cold {cold} warm {warm}");
    assert_eq!(w["recommended"]["savings"][0]["cause"], "cache_reused");
}

#[test]
fn what_if_without_rates_is_a_usage_error() {
    let out = support::cclocal()
        .args(["logs", &fixture("seed-57.txt"), "--what-if"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--bench"), "{err}");
}

#[test]
fn what_if_rejects_a_bad_bench_file() {
    let out = support::cclocal()
        .args([
            "logs",
            &fixture("seed-57.txt"),
            "--what-if",
            "--bench",
            &fixture("seed-57.txt"),
        ])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cclocal bench"), "{err}");
}

#[test]
fn redacted_log_says_why_it_cannot_be_modelled() {
    // 2.1.332 redacts the token counts: no request is sized.
    let path = format!(
        "{}/tests/fixtures/claude-debug-logs/v2.1.332-p-mode-compaction-unknown-model.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = support::cclocal()
        .args([
            "logs",
            &path,
            "--what-if",
            "--bench",
            &fixture("seed-bench.json"),
        ])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--turns"), "{err}");
}

/// A real Claude Code 2.1.332 session (its debug log redacts every prompt size) joined to
/// the real llama-server b11434 log of it (tests/fixtures/server-logs/README.md): the
/// what-if takes its round trips from the server's log, and its rates from the server's own
/// timing lines when no bench is given.
#[test]
fn redacted_log_is_modelled_from_the_server_log() {
    let dir = format!("{}/tests/fixtures/server-logs", env!("CARGO_MANIFEST_DIR"));
    let v = run_json(&[
        "logs",
        &format!("{dir}/claude-2.1.332-session-against-llama-server.txt"),
        "--server-log",
        &format!("{dir}/llama-server-b11434-claude-session.log"),
        "--what-if",
        "--json",
    ]);
    let w = &v["what_if"];
    assert_eq!(
        w["source"],
        "Claude Code debug log joined to the server log"
    );
    assert_eq!(w["rates"]["source"], "the server log's timing lines");
    let reqs = w["as_ran"]["requests"].as_array().unwrap();
    // The four timed requests, sized by the server: the first read its whole prompt, the
    // next two only the turn's 81 new tokens, the last 1397.
    let sizes: Vec<(u64, u64)> = reqs
        .iter()
        .map(|r| {
            (
                r["prompt_tokens"].as_u64().unwrap(),
                r["evaluated_tokens"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        sizes,
        [(3689, 3689), (7865, 81), (12041, 81), (17533, 1397)]
    );
    for r in reqs {
        assert_eq!(r["cache_inferred"], false);
        let (p, m) = (
            r["predicted_prefill_ms"].as_f64().unwrap(),
            r["measured_prefill_ms"].as_f64().unwrap(),
        );
        // Fitted to these very lines (three terms, four requests): close, not circular-exact.
        assert!((p / m - 1.0).abs() < 0.1, "{r}");
    }
    // It already reused its cache: nothing to save there, and no note that it would.
    assert!(
        w["recommended"]["savings"].as_array().unwrap().is_empty(),
        "{w:#}"
    );
    let notes = w["notes"].to_string();
    assert!(!notes.contains("cache_reused"), "{notes}");
    // The cancelled request has no timing: left out, and said so.
    assert!(notes.contains("1 requests without"), "{notes}");
    let (pred, meas) = (
        w["as_ran"]["predicted_ms"].as_f64().unwrap(),
        w["as_ran"]["measured_ms"].as_f64().unwrap(),
    );
    assert!((pred / meas - 1.0).abs() < 0.05, "{pred} vs {meas}");
}

#[test]
fn server_log_alone_gives_a_what_if() {
    let dir = format!("{}/tests/fixtures/server-logs", env!("CARGO_MANIFEST_DIR"));
    let v = run_json(&[
        "logs",
        "--server-log",
        &format!("{dir}/llama-server-b11434-claude-session.log"),
        "--what-if",
        "--json",
    ]);
    let w = &v["what_if"];
    assert_eq!(w["source"], "server log");
    assert_eq!(w["as_ran"]["round_trips"], 4, "{w:#}");
    assert!(w["as_ran"]["measured_ms"].as_f64().unwrap() > 0.0, "{w:#}");
}

/// The inputs of one run of the real-session proof (tests/it/real/session_time_real.rs), kept as
/// captured (tests/fixtures/session_time/real-2.1.332/README.md): the prediction from the
/// bench matches the session and every request's prefill within ±25%, in the parallel suite
/// too, since nothing is measured here.
#[test]
fn captured_real_session_is_predicted_within_25_percent() {
    let dir = fixture("real-2.1.332");
    let v = run_json(&[
        "logs",
        &format!("{dir}/claude-debug.txt"),
        "--server-log",
        &format!("{dir}/llama-server.log"),
        "--what-if",
        "--bench",
        &format!("{dir}/bench.json"),
        "--json",
    ]);
    let w = &v["what_if"];
    assert_eq!(
        w["source"],
        "Claude Code debug log joined to the server log"
    );
    let reqs = w["as_ran"]["requests"].as_array().unwrap();
    assert_eq!(reqs.len(), 3, "{w:#}");
    for r in reqs {
        let (p, m) = (
            r["predicted_prefill_ms"].as_f64().unwrap(),
            r["measured_prefill_ms"].as_f64().unwrap(),
        );
        assert!((p / m - 1.0).abs() <= 0.25, "{r}");
    }
    // The bench's short requests at depth gave the per-request cost a value.
    assert!(
        w["rates"]["prefill"]["c_ms"].as_f64().unwrap() > 0.0,
        "{}",
        w["rates"]
    );
    let (p, m) = (
        w["as_ran"]["predicted_ms"].as_f64().unwrap(),
        w["as_ran"]["measured_ms"].as_f64().unwrap(),
    );
    assert!((p / m - 1.0).abs() <= 0.25, "{p} vs {m}");
}
