//! `cclocal::logs` over every real Claude Code debug log in tests/fixtures/claude-debug-logs/.
//! Expected figures were worked out from the lines themselves (grep counts, timestamp
//! arithmetic); the comments say which lines.

use std::path::PathBuf;

use cclocal::findings::Severity;
use cclocal::logs::{self, Analysis, RuleOptions, SourceKind};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/claude-debug-logs")
        .join(name)
}

fn analyze(name: &str) -> Analysis {
    let a = logs::analyze_files(&[fixture(name)]).expect("fixture reads");
    // One request per `[API REQUEST]` line, always.
    assert_eq!(a.summary.requests as usize, a.requests.len(), "{name}");
    a
}

fn ids(a: &Analysis, server_ctx: Option<u64>) -> Vec<(&'static str, Severity)> {
    logs::findings(a, &RuleOptions { server_ctx })
        .iter()
        .map(|f| (f.id, f.severity))
        .collect()
}

struct Expect {
    name: &'static str,
    requests: u64,
    api_errors: u64,
    not_found_404: u64,
    first_byte_ms_total: u64,
    effective_window: Option<u64>,
    compactions: u64,
    wall_ms: u64,
}

/// Figures per fixture:
/// - requests: `grep -c '\[API REQUEST\]'`; api_errors: `grep -c 'API error (attempt'`.
/// - 404s: `API error … 404` + `countTokens API call failed: 404` + `… fallback failed: 404`,
///   and in 2.1.121 each `API returned null` preceded by its `Error: Error: 404` (17).
/// - first bytes: sum of `first byte after Nms`; 2.1.121 logs none, so the one request's wait
///   is `Stream started` 27.700 − request 27.691 = 9 ms.
/// - wall: last timestamp − first timestamp.
const EXPECT: &[Expect] = &[
    Expect {
        name: "v2.1.121-interactive-context-haiku-fallback-failed.txt",
        requests: 34,
        api_errors: 0,
        not_found_404: 34,
        first_byte_ms_total: 0,
        effective_window: None,
        compactions: 0,
        wall_ms: 17_959, // 19:40:22.670 → 19:40:40.629
    },
    Expect {
        name: "v2.1.121-p-mode-autocompact-old-format.txt",
        requests: 1,
        api_errors: 0,
        not_found_404: 0,
        first_byte_ms_total: 9,
        effective_window: Some(180_000),
        compactions: 0,
        wall_ms: 574, // 19:43:27.204 → .778
    },
    Expect {
        name: "v2.1.197-interactive-context-haiku-fallback-failed.txt",
        requests: 28,
        api_errors: 0,
        not_found_404: 28,
        first_byte_ms_total: 0,
        effective_window: None,
        compactions: 0,
        wall_ms: 18_065, // 19:39:56.942 → 19:40:15.007
    },
    Expect {
        name: "v2.1.197-p-mode-autocompact.txt",
        requests: 1,
        api_errors: 0,
        not_found_404: 0,
        first_byte_ms_total: 7,
        effective_window: Some(57_344),
        compactions: 0,
        wall_ms: 387, // 19:33:19.510 → .897
    },
    Expect {
        name: "v2.1.332-404-model-not-found.txt",
        requests: 2,
        api_errors: 2,
        not_found_404: 2,
        first_byte_ms_total: 0,
        effective_window: Some(980_000),
        compactions: 0,
        wall_ms: 467, // 19:32:50.668 → 19:32:51.135
    },
    Expect {
        name: "v2.1.332-interactive-context-count_tokens-404.txt",
        requests: 27,
        api_errors: 0,
        not_found_404: 27,
        first_byte_ms_total: 0,
        effective_window: None,
        compactions: 0,
        wall_ms: 18_495, // 19:39:05.544 → 19:39:24.039
    },
    Expect {
        name: "v2.1.332-interactive-haiku-env.txt",
        requests: 2,
        api_errors: 0,
        not_found_404: 0,
        first_byte_ms_total: 40, // 30 + 10
        effective_window: Some(980_000),
        compactions: 0,
        wall_ms: 18_521, // 19:30:58.815 → 19:31:17.336
    },
    Expect {
        name: "v2.1.332-p-mode-compaction-unknown-model.txt",
        requests: 7,
        api_errors: 0,
        not_found_404: 0,
        first_byte_ms_total: 68, // 14 + 9 + 10 + 9 + 7 + 10 + 9
        effective_window: Some(57_344),
        compactions: 1,
        wall_ms: 3_303, // 19:36:59.354 → 19:37:02.657
    },
];

#[test]
fn every_fixture_is_covered() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude-debug-logs");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = EXPECT.iter().map(|e| e.name.to_string()).collect();
    expected.sort();
    assert_eq!(names, expected);
}

#[test]
fn summary_figures_per_fixture() {
    for e in EXPECT {
        let s = analyze(e.name).summary;
        assert_eq!(s.requests, e.requests, "{} requests", e.name);
        assert_eq!(s.api_errors, e.api_errors, "{} api_errors", e.name);
        assert_eq!(s.not_found_404, e.not_found_404, "{} 404s", e.name);
        assert_eq!(
            s.first_byte_ms_total, e.first_byte_ms_total,
            "{} first bytes",
            e.name
        );
        assert_eq!(s.effective_window, e.effective_window, "{} window", e.name);
        assert_eq!(s.compactions, e.compactions, "{} compactions", e.name);
        assert_eq!(s.wall_ms, e.wall_ms, "{} wall", e.name);
    }
}

#[test]
fn v2_1_121_interactive_haiku_fallback() {
    let a = analyze("v2.1.121-interactive-context-haiku-fallback-failed.txt");
    // 17 `/v1/messages/count_tokens` + 17 `/v1/messages source=count_tokens` (haiku fallback).
    let ct = a
        .requests
        .iter()
        .filter(|r| r.path.ends_with("/count_tokens"))
        .count();
    assert_eq!(ct, 17);
    assert!(a
        .requests
        .iter()
        .all(|r| &*r.source == "count_tokens" && r.kind == SourceKind::CountTokens));
    assert!(a.requests.iter().all(|r| r.failed && r.status == Some(404)));
    // The fallback calls name their model in the 404 body.
    let fallback: Vec<_> = a
        .requests
        .iter()
        .filter(|r| &*r.path == "/v1/messages")
        .collect();
    assert_eq!(fallback.len(), 17);
    assert!(fallback
        .iter()
        .all(|r| r.model.as_deref() == Some("missing-model:7b")));
    let by_ep = a.summary.failures_by_endpoint();
    assert!(by_ep
        .iter()
        .any(|(e, n, nf)| &**e == "/v1/messages" && *n == 17 && *nf == 17));
    assert!(by_ep
        .iter()
        .any(|(e, n, nf)| &**e == "/v1/messages/count_tokens" && *n == 17 && *nf == 17));
    let f = ids(&a, None);
    assert!(
        f.contains(&("background_model_missing", Severity::Warning)),
        "{f:?}"
    );
    assert!(f.contains(&("count_tokens_unavailable", Severity::Info)));
    assert!(!f.iter().any(|(id, _)| *id == "model_missing"));
}

#[test]
fn v2_1_121_old_autocompact_format() {
    let a = analyze("v2.1.121-p-mode-autocompact-old-format.txt");
    let s = &a.summary;
    // `autocompact: tokens=654 threshold=31757 effectiveWindow=180000`
    assert_eq!(s.autocompact_tokens, Some(654));
    assert_eq!(s.threshold, Some(31_757));
    assert_eq!(s.autocompact_level, None);
    let r = &a.requests[0];
    assert_eq!((&*r.source, r.kind), ("sdk", SourceKind::Main));
    assert_eq!(r.model, None); // 2.1.121 logs no dispatch line
    assert_eq!(
        (r.first_byte_ms, r.status, r.attempts),
        (Some(9), Some(200), 1)
    );
    // 180000 > 32768: the blog's root cause.
    assert!(ids(&a, Some(32_768)).contains(&("context_mismatch", Severity::Error)));
    assert!(ids(&a, Some(200_000)).contains(&("context_mismatch", Severity::Ok)));
}

#[test]
fn v2_1_197_interactive_redacted_fallback() {
    let a = analyze("v2.1.197-interactive-context-haiku-fallback-failed.txt");
    // 14 `countTokens API call failed: 404` + 14 `[REDACTED] fallback failed: 404`.
    let failures = a.summary.failures_by_endpoint();
    assert!(failures
        .iter()
        .any(|(e, n, _)| &**e == "/v1/messages/count_tokens" && *n == 14));
    assert!(failures
        .iter()
        .any(|(e, n, _)| &**e == "/v1/messages" && *n == 14));
    assert_eq!(
        a.requests.iter().filter(|r| r.status == Some(404)).count(),
        28
    );
    assert!(ids(&a, None).contains(&("background_model_missing", Severity::Warning)));
    // No autocompact line in 2.1.197 without a configured window: nothing to compare.
    assert!(ids(&a, Some(32_768)).contains(&("context_unknown", Severity::Info)));
}

#[test]
fn v2_1_197_p_mode() {
    let a = analyze("v2.1.197-p-mode-autocompact.txt");
    let r = &a.requests[0];
    assert_eq!(r.model.as_deref(), Some("qwen3-coder:30b"));
    assert_eq!(r.first_byte_ms, Some(7));
    assert_eq!(a.summary.autocompact_level.map(|l| l.as_str()), Some("ok"));
    assert!(ids(&a, Some(65_536)).contains(&("context_mismatch", Severity::Ok)));
    assert!(ids(&a, Some(32_768)).contains(&("context_mismatch", Severity::Error)));
}

#[test]
fn v2_1_332_main_model_404() {
    let a = analyze("v2.1.332-404-model-not-found.txt");
    // Streaming request 404 (attempt 1/11), then the non-streaming fallback 404 (attempt 1/10).
    assert_eq!(a.requests.len(), 2);
    for r in &a.requests {
        assert_eq!(
            (&*r.source, r.status, r.attempts, r.failed),
            ("sdk", Some(404), 1, true)
        );
        assert_eq!(r.model.as_deref(), Some("missing-model:7b"));
        assert_eq!(r.first_byte_ms, None);
    }
    assert_eq!(a.summary.unknown_model.as_deref(), Some("missing-model:7b"));
    assert_eq!(a.summary.retries, 0); // a 404 is not retried
    let f = ids(&a, None);
    assert!(f.contains(&("model_missing", Severity::Error)), "{f:?}");
    assert!(!f.iter().any(|(id, _)| *id == "background_model_missing"));
}

#[test]
fn v2_1_332_count_tokens_404() {
    let a = analyze("v2.1.332-interactive-context-count_tokens-404.txt");
    assert!(a
        .requests
        .iter()
        .all(|r| &*r.path == "/v1/messages/count_tokens"));
    assert!(a.requests.iter().all(|r| r.status == Some(404)));
    let f = ids(&a, None);
    assert_eq!(f, vec![("count_tokens_unavailable", Severity::Info)]);
}

#[test]
fn v2_1_332_haiku_env() {
    let a = analyze("v2.1.332-interactive-haiku-env.txt");
    let r: Vec<_> = a
        .requests
        .iter()
        .map(|r| {
            (
                &*r.source,
                r.model.as_deref(),
                r.first_byte_ms,
                r.status,
                r.kind,
            )
        })
        .collect();
    assert_eq!(
        r,
        vec![
            (
                "generate_session_title",
                Some("qwen-small:1b"),
                Some(30),
                Some(200),
                SourceKind::Background
            ),
            (
                "repl_main_thread",
                Some("qwen3-coder:30b"),
                Some(10),
                Some(200),
                SourceKind::Main
            ),
        ]
    );
    // `[engine] turn 1 end (… usage in=1000 out=10 …)`
    assert_eq!(
        (a.summary.turns, a.summary.usage_in, a.summary.usage_out),
        (1, Some(1000), Some(10))
    );
    // Both streams end at the turn's end (05.072): 05.072 − 05.001 and 05.072 − 05.013.
    assert_eq!(a.requests[0].stream_ms, Some(71));
    assert_eq!(a.requests[1].stream_ms, Some(59));
}

#[test]
fn v2_1_332_compaction() {
    let a = analyze("v2.1.332-p-mode-compaction-unknown-model.txt");
    let sources: Vec<&str> = a.requests.iter().map(|r| &*r.source).collect();
    assert_eq!(
        sources,
        ["sdk", "sdk", "sdk", "compact", "sdk", "sdk", "sdk"]
    );
    let waits: Vec<u64> = a.requests.iter().filter_map(|r| r.first_byte_ms).collect();
    assert_eq!(waits, [14, 9, 10, 9, 7, 10, 9]);
    let s = &a.summary;
    assert_eq!(s.by_model.len(), 1);
    assert_eq!((&*s.by_model[0].0, s.by_model[0].1), ("qwen3-coder:30b", 7));
    assert_eq!(s.compaction_summaries, 1);
    assert_eq!(s.threshold_source.as_deref(), Some("unknown-model"));
    assert_eq!(s.autocompact_level.map(|l| l.as_str()), Some("warn"));
    assert_eq!(s.autocompact_level_max.map(|l| l.as_str()), Some("blocked"));
    assert_eq!(s.turns, 6);
    assert_eq!(s.usage_in, Some(177_270));
    // Compact stream: first byte 01.390 → `Forked agent [reactive-compact] finished` 01.447.
    assert_eq!(a.requests[3].stream_ms, Some(57));
    // Seven attribution lines, two values (fb8 before the compaction, cf6 after).
    assert_eq!(s.attribution_headers, 7);
    assert_eq!(s.attribution_values.len(), 2);
    let f = ids(&a, Some(32_768));
    assert!(f.contains(&("context_mismatch", Severity::Error)));
    assert!(f.contains(&("cache_buster", Severity::Warning)));
    // Flat first-byte waits: the cache question does not arise.
    assert!(!f.iter().any(|(id, _)| *id == "prompt_cache_not_reused"));
}
