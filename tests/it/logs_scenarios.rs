//! `cclocal::logs` over hand-written logs for the cases the real fixtures do not show:
//! retries, timeouts and stalls, a growing first-byte wait, background 404s, rotation,
//! bad bytes and malformed lines. Lines use the literal formats of `docs/claude-code.md`.

use cclocal::findings::Severity;
use cclocal::logs::{self, analyze_bytes, Analysis, RuleOptions, SourceKind};

fn ids(a: &Analysis) -> Vec<(&'static str, Severity)> {
    logs::findings(a, &RuleOptions::default())
        .iter()
        .map(|f| (f.id, f.severity))
        .collect()
}

/// `HH:MM:SS.mmm` on 2026-11-25 → a full log line.
fn l(t: &str, level: &str, msg: &str) -> String {
    format!("2026-11-25T{t}Z [{level}] {msg}\n")
}

#[test]
fn retries_then_success() {
    let mut log = String::new();
    log += &l(
        "10:00:00.000",
        "DEBUG",
        "[API:timing] dispatching to firstParty model=qwen3:8b",
    );
    log += &l(
        "10:00:00.001",
        "DEBUG",
        "[API REQUEST] /v1/messages source=sdk",
    );
    log += &l(
        "10:00:01.000",
        "ERROR",
        "API error (attempt 1/11): 500 500 {\"type\":\"error\"}",
    );
    log += &l(
        "10:00:01.500",
        "DEBUG",
        "[API:timing] dispatching to firstParty model=qwen3:8b",
    );
    log += &l(
        "10:00:01.501",
        "DEBUG",
        "[API REQUEST] /v1/messages source=sdk",
    );
    log += &l(
        "10:00:02.000",
        "ERROR",
        "API error (attempt 2/11): Request timed out.",
    );
    log += &l(
        "10:00:03.000",
        "DEBUG",
        "[API REQUEST] /v1/messages source=sdk",
    );
    log += &l(
        "10:00:03.250",
        "DEBUG",
        "Stream started - received first chunk",
    );
    log += &l(
        "10:00:03.250",
        "DEBUG",
        "[API:timing] first byte after 249ms",
    );
    log += &l(
        "10:00:04.000",
        "DEBUG",
        "[engine] turn 1 end (turns=1 usage in=10 out=2 cost=$0 api=1ms stop=end_turn resultLen=1)",
    );
    let a = analyze_bytes(log.as_bytes());
    let r: Vec<_> = a
        .requests
        .iter()
        .map(|r| (r.attempts, r.status, r.failed))
        .collect();
    assert_eq!(
        r,
        vec![(1, Some(500), true), (2, None, true), (3, Some(200), false)]
    );
    assert_eq!(a.requests[2].first_byte_ms, Some(249));
    // First byte 03.250 → turn end 04.000.
    assert_eq!(a.requests[2].stream_ms, Some(750));
    // No dispatch line before the third request: its model is not known.
    assert_eq!(a.requests[2].model, None);
    let s = &a.summary;
    assert_eq!(
        (s.api_errors, s.retries, s.api_timeouts, s.not_found_404),
        (2, 2, 1, 0)
    );
    let f = ids(&a);
    assert!(f.contains(&("retries", Severity::Warning)), "{f:?}");
    assert!(f.contains(&("timeouts", Severity::Warning)));
}

#[test]
fn slow_first_byte_stalls_and_stream_retry() {
    let mut log = String::new();
    log += &l(
        "10:00:00.000",
        "DEBUG",
        "[API REQUEST] /v1/messages source=repl_main_thread",
    );
    log += &l(
        "10:00:30.000",
        "WARN",
        "Slow first byte: no stream chunk 30.0s after request sent (attempt 1)",
    );
    log += &l(
        "10:00:41.000",
        "DEBUG",
        "Stream started - received first chunk",
    );
    log += &l(
        "10:00:41.000",
        "DEBUG",
        "[API:timing] first byte after 41000ms",
    );
    log += &l(
        "10:01:35.400",
        "WARN",
        "Streaming stall detected: 54.4s gap between events (stall #1)",
    );
    log += &l(
        "10:01:35.410",
        "WARN",
        "Streaming completed with 1 stall(s), total stall time: 54.4s",
    );
    log += &l(
        "10:01:40.000",
        "WARN",
        "Stream idle timeout before first event — retrying streaming (1/3)",
    );
    let a = analyze_bytes(log.as_bytes());
    let r = &a.requests[0];
    assert!(r.slow_first_byte);
    assert_eq!(
        (r.first_byte_ms, r.stalls, r.stream_ms),
        (Some(41_000), 1, Some(54_410))
    );
    let s = &a.summary;
    assert_eq!(
        (
            s.slow_first_bytes,
            s.stalls,
            s.stall_ms,
            s.stream_timeouts,
            s.retries
        ),
        (1, 1, 54_400, 1, 1)
    );
    let f = logs::findings(&a, &RuleOptions::default());
    let t = f.iter().find(|f| f.id == "timeouts").expect("timeouts");
    assert!(
        t.detail.contains("1 slow first byte warning"),
        "{}",
        t.detail
    );
    assert!(t.detail.contains("54.4s"), "{}", t.detail);
}

/// A main thread whose first-byte wait grows turn after turn, as when the server re-reads
/// the whole prompt each time.
fn growing(waits: &[u64]) -> String {
    let mut log = String::new();
    let mut t: u64 = 0;
    for w in waits {
        let ts = |ms: u64| {
            format!(
                "10:{:02}:{:02}.{:03}",
                ms / 60_000,
                ms / 1000 % 60,
                ms % 1000
            )
        };
        log += &l(
            &ts(t),
            "DEBUG",
            "[API REQUEST] /v1/messages source=repl_main_thread",
        );
        log += &l(&ts(t + w), "DEBUG", "Stream started - received first chunk");
        log += &l(
            &ts(t + w),
            "DEBUG",
            &format!("[API:timing] first byte after {w}ms"),
        );
        t += w + 1000;
    }
    log
}

#[test]
fn growing_first_byte_means_no_prompt_cache() {
    let a = analyze_bytes(growing(&[800, 1500, 2600, 3900, 5200, 7000]).as_bytes());
    let f = logs::findings(&a, &RuleOptions::default());
    let p = f
        .iter()
        .find(|f| f.id == "prompt_cache_not_reused")
        .expect("finding");
    assert_eq!(p.severity, Severity::Warning);
    assert!(
        p.title.contains("800ms") && p.title.contains("7.0s"),
        "{}",
        p.title
    );
    assert!(p.fix.contains("CLAUDE_CODE_ATTRIBUTION_HEADER=0"));
    // Flat, or growing by little, or too few requests: no finding.
    for waits in [
        &[900, 1000, 950, 1100, 1000, 980][..],
        &[100, 200, 300, 400, 500, 600],
        &[800, 9000, 12000],
    ] {
        let a = analyze_bytes(growing(waits).as_bytes());
        assert!(
            !ids(&a)
                .iter()
                .any(|(id, _)| *id == "prompt_cache_not_reused"),
            "{waits:?}"
        );
    }
}

#[test]
fn background_title_404_is_background_model_missing() {
    let mut log = String::new();
    log += &l(
        "10:00:00.000",
        "DEBUG",
        "[API:timing] dispatching to firstParty model=claude-haiku-5-5",
    );
    log += &l(
        "10:00:00.001",
        "DEBUG",
        "[API REQUEST] /v1/messages source=generate_session_title",
    );
    log += &l(
        "10:00:00.002",
        "DEBUG",
        "[API:timing] dispatching to firstParty model=qwen3:8b",
    );
    log += &l(
        "10:00:00.003",
        "DEBUG",
        "[API REQUEST] /v1/messages source=repl_main_thread",
    );
    log += &l("10:00:00.010", "ERROR", "API error (attempt 1/11): 404 404 {\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"message\":\"model 'claude-haiku-5-5' not found\"}}");
    log += &l(
        "10:00:00.020",
        "DEBUG",
        "Stream started - received first chunk",
    );
    log += &l(
        "10:00:00.020",
        "DEBUG",
        "[API:timing] first byte after 17ms",
    );
    let a = analyze_bytes(log.as_bytes());
    let r: Vec<_> = a
        .requests
        .iter()
        .map(|r| (r.kind, r.model.as_deref(), r.status))
        .collect();
    assert_eq!(
        r,
        vec![
            (SourceKind::Background, Some("claude-haiku-5-5"), Some(404)),
            (SourceKind::Main, Some("qwen3:8b"), Some(200)),
        ]
    );
    let f = logs::findings(&a, &RuleOptions::default());
    let b = f
        .iter()
        .find(|f| f.id == "background_model_missing")
        .expect("finding");
    assert!(b.title.contains("claude-haiku-5-5"));
    assert!(b.fix.contains("ANTHROPIC_DEFAULT_HAIKU_MODEL"));
    assert!(!f.iter().any(|f| f.id == "model_missing"));
}

#[test]
fn malformed_lines_and_bad_bytes_do_not_stop_the_read() {
    let mut log: Vec<u8> = Vec::new();
    log.extend_from_slice(
        l(
            "10:00:00.000",
            "DEBUG",
            "[API REQUEST] /v1/messages source=sdk",
        )
        .as_bytes(),
    );
    log.extend_from_slice(b"\xff\xfe garbage \x00 bytes\n");
    log.extend_from_slice(b"2026-11-25T10:00:00.001Z [DEBUG] caf\xc3 broken utf-8 \xe2\x82\n");
    log.extend_from_slice(
        b"2026-99-25T10:00:00.001Z [DEBUG] [API REQUEST] /v1/messages source=sdk\n",
    );
    log.extend_from_slice(
        b"2026-11-25T10:00:00.002Z [NOPE] [API REQUEST] /v1/messages source=sdk\n",
    );
    log.extend_from_slice(
        b"2026-11-25T10:00:00.003Z [DEBUG] [API:timing] first byte after NaNms\n",
    );
    log.extend_from_slice(b"2026-11-25T10:00:00.004Z [ERROR] API error (attempt x/y): ???\n");
    log.extend_from_slice(b"2026-11-25T10:00:00.005Z [DEBUG] autocompact: tokens=1 effectiveWindow=99999999999999999999999\n");
    log.extend_from_slice(b"\r\n\n   \n");
    log.extend_from_slice(
        l(
            "10:00:00.050",
            "DEBUG",
            "[API:timing] first byte after 50ms",
        )
        .as_bytes(),
    );
    log.extend_from_slice(b"2026-11-25T10:00:00.060Z [DEBUG] autocompact: tokens=[REDACTED] level=ok effectiveWindow=57344");
    let a = analyze_bytes(&log);
    assert_eq!(a.summary.requests, 1);
    assert_eq!(a.requests[0].first_byte_ms, Some(50));
    assert_eq!(a.summary.api_errors, 0);
    // The last line has no newline and still counts.
    assert_eq!(a.summary.effective_window, Some(57_344));
    assert_eq!(a.summary.wall_ms, 60);
    assert_eq!(a.summary.lines, 13);
}

#[test]
fn rotated_parts_are_read_first() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("abc.txt");
    let older = dir.path().join("abc.1.txt");
    std::fs::write(
        &older,
        l(
            "09:00:00.000",
            "DEBUG",
            "autocompact: tokens=1 threshold=2 effectiveWindow=180000",
        ),
    )
    .unwrap();
    std::fs::write(
        &base,
        l(
            "10:00:00.000",
            "DEBUG",
            "autocompact: tokens=[REDACTED] level=ok effectiveWindow=57344",
        ),
    )
    .unwrap();
    let parts = logs::parts(&base);
    assert_eq!(parts, vec![older.clone(), base.clone()]);
    let a = logs::analyze_files(&parts).unwrap();
    // The last value seen is the current part's.
    assert_eq!(a.summary.effective_window, Some(57_344));
    assert_eq!(a.summary.wall_ms, 3_600_000);
    // A rotated part named on its own is read alone.
    assert_eq!(logs::parts(&older), vec![older]);
}

#[test]
fn bad_inputs_are_errors_with_subject_and_hint() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.txt");
    let e = logs::analyze_files(std::slice::from_ref(&missing)).unwrap_err();
    assert_eq!(e.subject.as_deref(), Some(missing.to_str().unwrap()));
    assert!(e.hint.is_some());
    assert_eq!(e.exit_code(), 1);
    let e = logs::analyze_files(&[dir.path().to_path_buf()]).unwrap_err();
    assert!(e.message.contains("directory"), "{e}");
    assert!(e.hint.is_some());
    assert_eq!(e.exit_code(), 1);
}

#[test]
fn session_listing_and_latest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("debug");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("aaa.txt"), "x\n").unwrap();
    std::fs::write(d.join("bbb.txt"), "yy\n").unwrap();
    std::fs::write(d.join("bbb.1.txt"), "zzzz\n").unwrap();
    std::fs::write(d.join("notes.md"), "no\n").unwrap();
    std::os::unix::fs::symlink(d.join("bbb.txt"), d.join("latest")).unwrap();
    let env = logs::DebugEnv {
        claude_config_dir: Some(dir.path().into()),
        ..Default::default()
    };
    assert_eq!(logs::debug_dir(&env), Some(d.clone()));
    assert_eq!(
        logs::latest(&env).unwrap(),
        std::fs::canonicalize(d.join("bbb.txt")).unwrap()
    );
    let s = logs::list_sessions(&d).unwrap();
    let rows: Vec<(String, u64, bool)> = s
        .iter()
        .map(|s| {
            (
                s.path.file_name().unwrap().to_string_lossy().into_owned(),
                s.size,
                s.latest,
            )
        })
        .collect();
    let mut sorted = rows.clone();
    sorted.sort();
    // bbb's size includes its rotated part: 3 + 5 bytes.
    assert_eq!(
        sorted,
        vec![("aaa.txt".into(), 2, false), ("bbb.txt".into(), 8, true)]
    );
    // No latest link: an error that says how to record a log.
    let empty = logs::DebugEnv {
        debug_logs_dir: Some(dir.path().join("none").into()),
        ..Default::default()
    };
    let e = logs::latest(&empty).unwrap_err();
    assert!(e.hint.unwrap().contains("--debug-file"));
    assert!(logs::list_sessions(&dir.path().join("none"))
        .unwrap()
        .is_empty());
}
