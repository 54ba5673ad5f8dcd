//! Unit tests of the line parser, one literal line per format (`docs/claude-code.md`).

use super::*;

fn ev(line: &str) -> Event<'_> {
    match parse_line(line) {
        Line::Entry(e) => e.event,
        other => panic!("not an entry: {other:?}"),
    }
}

#[test]
fn prefix_and_levels() {
    let l = parse_line("2026-11-25T19:27:12.425Z [WARN] hello\r\n");
    let Line::Entry(e) = l else { panic!() };
    assert_eq!(e.level, Level::Warn);
    assert_eq!(e.ts, "2026-11-25T19:27:12.425Z");
    assert_eq!(e.event, Event::Other);
    assert_eq!(parse_line("   "), Line::Blank);
    assert!(matches!(
        parse_line("    at generate (x.js:1:2)"),
        Line::Continuation(_)
    ));
    assert!(matches!(
        parse_line("2026-11-25T19:27:12.425Z [TRACE] x"),
        Line::Continuation(_)
    ));
}

#[test]
fn requests_and_timing() {
    assert_eq!(
        ev("2026-08-12T13:14:53.822Z [DEBUG] [API REQUEST] /v1/messages x-client-request-id=6538e9fc source=repl_main_thread"),
        Event::ApiRequest { path: "/v1/messages", source: "repl_main_thread" }
    );
    assert_eq!(
        ev("2026-11-25T19:31:04.973Z [DEBUG] [API:timing] dispatching to firstParty model=qwen-small:1b"),
        Event::Dispatch { provider: "firstParty", model: "qwen-small:1b" }
    );
    assert_eq!(
        ev("2026-11-25T19:31:05.001Z [DEBUG] [API:timing] first byte after 30ms"),
        Event::FirstByte { ms: 30 }
    );
    assert_eq!(
        ev("2026-11-25T19:31:05.001Z [WARN] Slow first byte: no stream chunk 31.5s after request sent (attempt 2)"),
        Event::SlowFirstByte { after_ms: 31_500, attempt: Some(2) }
    );
    assert_eq!(
        ev("2026-05-02T18:18:28.508Z [WARN] Streaming stall detected: 54.4s gap between events (stall #1)"),
        Event::Stall { gap_ms: 54_400 }
    );
    assert_eq!(
        ev("2026-05-02T18:18:28.518Z [WARN] Streaming completed with 1 stall(s), total stall time: 54.4s"),
        Event::StreamCompleted { stalls: 1, stall_ms: 54_400 }
    );
    assert_eq!(
        ev("2026-08-12T13:15:04.721Z [WARN] Stream connection error (ECONNRESET) — retrying streaming (1/10)"),
        Event::StreamRetry { timeout: false }
    );
    assert_eq!(
        ev("2026-08-12T13:15:04.721Z [WARN] Stream idle timeout before any output — retrying streaming (1/3)"),
        Event::StreamRetry { timeout: true }
    );
}

#[test]
fn errors() {
    let e = ev(
        r#"2026-11-25T19:32:51.032Z [ERROR] API error (attempt 1/11): 404 404 {"type":"error","error":{"type":"not_found_error","message":"model 'missing-model:7b' not found"}}"#,
    );
    let Event::ApiError {
        attempt,
        max,
        status,
        message,
    } = e
    else {
        panic!()
    };
    assert_eq!((attempt, max, status), (1, 11, Some(404)));
    assert_eq!(model_in_error(message), Some("missing-model:7b"));
    assert!(matches!(
        ev("2026-11-25T19:32:51.032Z [ERROR] API error (attempt 3/11): Request timed out."),
        Event::ApiError {
            attempt: 3,
            status: None,
            ..
        }
    ));
    assert_eq!(
        ev("2026-11-25T19:39:11.667Z [ERROR] countTokens API call failed: 404 {}"),
        Event::CountTokensFailed { status: Some(404) }
    );
    assert_eq!(
        ev("2026-11-25T19:40:02.835Z [DEBUG] countTokensWithFallback: [REDACTED] returned null, trying haiku fallback (0 tools)"),
        Event::CountTokensNull
    );
    assert!(matches!(
        ev("2026-11-25T19:40:02.847Z [ERROR] countTokensWithFallback: [REDACTED] fallback failed: 404 {\"x\":1}"),
        Event::HaikuFallbackFailed { status: Some(404), .. }
    ));
    assert_eq!(
        ev(r#"2026-11-25T19:32:51.098Z [ERROR] "Error: Error: 404 {\"type\":\"error\"}""#),
        Event::GenericError { status: Some(404) }
    );
    assert_eq!(
        ev("2026-11-25T19:32:51.045Z [WARN] Streaming endpoint returned 404, falling back to non-streaming mode"),
        Event::StreamingFallback { status: Some(404) }
    );
}

#[test]
fn autocompact_lines() {
    assert_eq!(
        ev("2026-11-25T19:43:27.682Z [DEBUG] autocompact: tokens=654 threshold=31757 effectiveWindow=180000"),
        Event::Autocompact {
            tokens: Some(654),
            threshold: Some(31757),
            level: None,
            effective_window: Some(180_000)
        }
    );
    assert_eq!(
        ev("2026-11-25T19:37:01.347Z [DEBUG] autocompact: tokens=[REDACTED] level=blocked effectiveWindow=57344"),
        Event::Autocompact {
            tokens: None,
            threshold: None,
            level: Some(CompactLevel::Blocked),
            effective_window: Some(57_344)
        }
    );
    assert_eq!(
        ev("2026-11-25T19:37:01.350Z [DEBUG] autocompact: routing through reactive (thresholdSource=unknown-model)"),
        Event::AutocompactReactive { threshold_source: "unknown-model" }
    );
    assert_eq!(
        ev("2026-11-25T19:39:05.714Z [WARN] [autocompact] \"qwen3-coder:30b\" isn't described by this version's model catalog; update"),
        Event::UnknownModel { model: "qwen3-coder:30b" }
    );
}

#[test]
fn engine_and_misc() {
    assert_eq!(
        ev("2026-11-25T19:31:05.072Z [DEBUG] [engine] turn 1 end (turns=1 usage in=1000 out=10 cost=$0.0042 api=152ms stop=end_turn resultLen=16)"),
        Event::TurnEnd { usage_in: Some(1000), usage_out: Some(10), api_ms: Some(152) }
    );
    assert_eq!(
        ev("2026-11-25T19:31:04.952Z [DEBUG] [engine] turn 12 start"),
        Event::TurnStart
    );
    assert_eq!(
        ev("2026-11-25T19:37:01.447Z [DEBUG] Forked agent [reactive-compact] finished: 1 messages, types=[assistant]"),
        Event::ForkedAgentFinished { name: "reactive-compact" }
    );
    assert_eq!(
        ev("2026-11-25T19:36:59.706Z [DEBUG] attribution header x-anthropic-billing-header: cc_version=2.1.332.fb8; cc_entrypoint=sdk-cli;"),
        Event::AttributionHeader { cc_version: "2.1.332.fb8" }
    );
}

#[test]
fn statuses() {
    assert_eq!(leading_status("404 {"), Some(404));
    assert_eq!(leading_status("4040"), None);
    assert_eq!(leading_status("undefined Connection error."), None);
    assert_eq!(seconds_ms("0.05s"), Some(50));
    assert_eq!(leading_u64("99999999999999999999999"), None);
}
