//! One debug-log line to a typed event. The line format (2.1.88 through 2.1.332) is
//! `<ISO timestamp> [<LEVEL>] <message>`; multi-line messages continue on lines without the
//! prefix (stack traces in 2.1.121), and newer versions JSON-quote them into one line.
//!
//! `parse_line` never panics and never allocates: every string in an [`Event`] borrows from
//! the line. Message texts are the literal strings listed in claude-code.md §4.

use super::time::{parse_iso_ms, TS_LEN};

/// Severity prefix of a log entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Verbose,
    Debug,
    Info,
    Warn,
    Error,
}

/// One physical line of a debug log.
#[derive(Debug, Clone, PartialEq)]
pub enum Line<'a> {
    /// Empty or whitespace only.
    Blank,
    /// No `<timestamp> [<LEVEL>] ` prefix: the continuation of a multi-line message, or garbage.
    Continuation(&'a str),
    /// A log entry.
    Entry(Entry<'a>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry<'a> {
    /// Milliseconds since the Unix epoch.
    pub ts_ms: i64,
    /// The timestamp as written.
    pub ts: &'a str,
    pub level: Level,
    pub event: Event<'a>,
}

/// The autocompact level printed by 2.1.122+.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CompactLevel {
    Ok,
    Warn,
    Compact,
    Blocked,
}

impl CompactLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            CompactLevel::Ok => "ok",
            CompactLevel::Warn => "warn",
            CompactLevel::Compact => "compact",
            CompactLevel::Blocked => "blocked",
        }
    }
}

/// What a log entry says, for the entries this analysis uses. Everything else is `Other`.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    /// `[API REQUEST] <path>[ x-client-request-id=<id>] source=<source>`
    ApiRequest { path: &'a str, source: &'a str },
    /// `[API:timing] dispatching to <provider> model=<model>` (2.1.197+)
    Dispatch { provider: &'a str, model: &'a str },
    /// `Stream started - received first chunk`
    StreamStarted,
    /// `[API:timing] first byte after <ms>ms` (2.1.197+)
    FirstByte { ms: u64 },
    /// `Slow first byte: no stream chunk <s.s>s after request sent (attempt <n>)` (WARN)
    SlowFirstByte { after_ms: u64, attempt: Option<u32> },
    /// `Streaming stall detected: <s.s>s gap between events (stall #<n>)` (WARN)
    Stall { gap_ms: u64 },
    /// `Streaming completed with <n> stall(s), total stall time: <s.s>s`
    StreamCompleted { stalls: u32, stall_ms: u64 },
    /// `… — retrying streaming (<n>/<max>)` (WARN): a stream retried without a new request line.
    StreamRetry { timeout: bool },
    /// `API error (attempt <n>/<max>): <status> <message>` (ERROR); status absent for
    /// connection errors and timeouts.
    ApiError {
        attempt: u32,
        max: u32,
        status: Option<u16>,
        message: &'a str,
    },
    /// `Streaming endpoint returned 404, falling back to non-streaming mode` (WARN)
    StreamingFallback { status: Option<u16> },
    /// `Non-streaming fallback also failed: <status> …` / `Error in API request: …` (ERROR):
    /// the final outcome of a request already reported by `ApiError`.
    RequestGaveUp { status: Option<u16> },
    /// `countTokens API call failed: <status> <json>` (ERROR, 2.1.197+)
    CountTokensFailed { status: Option<u16> },
    /// `countTokensWithFallback: API returned null, trying haiku fallback (<n> tools)`, or its
    /// redacted form `countTokensWithFallback: [REDACTED] returned null, …` (2.1.197).
    CountTokensNull,
    /// `countTokensWithFallback: haiku fallback failed: <status> <json>` or the redacted
    /// `countTokensWithFallback: [REDACTED] fallback failed: …` (2.1.197).
    HaikuFallbackFailed {
        status: Option<u16>,
        message: &'a str,
    },
    /// `Error: Error: <status> <json>` (2.1.121, possibly JSON-quoted): a generic error report.
    GenericError { status: Option<u16> },
    /// `autocompact: tokens=<n|[REDACTED]> (threshold=<n>|level=<l>) effectiveWindow=<n>`
    Autocompact {
        tokens: Option<u64>,
        threshold: Option<u64>,
        level: Option<CompactLevel>,
        effective_window: Option<u64>,
    },
    /// `autocompact: routing through reactive (thresholdSource=<src>)`
    AutocompactReactive { threshold_source: &'a str },
    /// `[autocompact] "<model>" isn't described by this version's model catalog; …` (WARN)
    UnknownModel { model: &'a str },
    /// `Forked agent [<name>] finished: …`
    ForkedAgentFinished { name: &'a str },
    /// `[engine] turn <n> end (turns=<n> usage in=<n> out=<n> … api=<n>ms …)` (2.1.332)
    TurnEnd {
        usage_in: Option<u64>,
        usage_out: Option<u64>,
        api_ms: Option<u64>,
    },
    /// `[engine] turn <n> start`
    TurnStart,
    /// `attribution header x-anthropic-billing-header: cc_version=<v>; …`: the per-request
    /// billing header that defeats a local server's prompt cache when it changes.
    AttributionHeader { cc_version: &'a str },
    /// Any other entry.
    Other,
}

/// Parses one line (without its newline; a trailing `\r` is ignored). Never panics.
pub fn parse_line(line: &str) -> Line<'_> {
    let line = line.trim_end_matches(['\n', '\r']);
    if line.trim().is_empty() {
        return Line::Blank;
    }
    let b = line.as_bytes();
    let Some(ts_ms) = parse_iso_ms(b) else {
        return Line::Continuation(line);
    };
    // ISO timestamps are ASCII, so byte offsets here are char boundaries.
    let rest = &line[TS_LEN..];
    let Some(rest) = rest.strip_prefix(" [") else {
        return Line::Continuation(line);
    };
    // The level is at most 7 letters; look no further than that for its `]`.
    let Some(close) = rest.bytes().take(10).position(|c| c == b']') else {
        return Line::Continuation(line);
    };
    let level = match &rest[..close] {
        "DEBUG" => Level::Debug,
        "ERROR" => Level::Error,
        "WARN" => Level::Warn,
        "INFO" => Level::Info,
        "VERBOSE" => Level::Verbose,
        _ => return Line::Continuation(line),
    };
    let msg = rest.get(close + 1..).unwrap_or("");
    let msg = msg.strip_prefix(' ').unwrap_or(msg);
    Line::Entry(Entry {
        ts_ms,
        ts: &line[..TS_LEN],
        level,
        event: parse_message(msg),
    })
}

/// Classifies a message (the text after `[LEVEL] `).
pub fn parse_message(msg: &str) -> Event<'_> {
    let Some(&first) = msg.as_bytes().first() else {
        return Event::Other;
    };
    match first {
        b'[' => bracketed(msg),
        b'a' => {
            if let Some(r) = msg.strip_prefix("autocompact: ") {
                autocompact(r)
            } else if let Some(r) = msg.strip_prefix("attribution header ") {
                let v = after(r, "cc_version=")
                    .map(|v| until(v, b';'))
                    .unwrap_or("");
                Event::AttributionHeader { cc_version: v }
            } else {
                Event::Other
            }
        }
        b'S' => stream_family(msg),
        b'A' => match msg.strip_prefix("API error (attempt ") {
            Some(r) => api_error(r),
            None => Event::Other,
        },
        b'c' => count_tokens(msg),
        b'N' => match msg.strip_prefix("Non-streaming fallback also failed: ") {
            Some(r) => Event::RequestGaveUp {
                status: leading_status(r),
            },
            None => Event::Other,
        },
        b'E' => {
            if let Some(r) = msg.strip_prefix("Error: Error: ") {
                Event::GenericError {
                    status: leading_status(r),
                }
            } else if let Some(r) = msg.strip_prefix("Error in API request: ") {
                Event::RequestGaveUp {
                    status: leading_status(r),
                }
            } else {
                Event::Other
            }
        }
        b'"' => match msg.strip_prefix("\"Error: Error: ") {
            Some(r) => Event::GenericError {
                status: leading_status(r),
            },
            None => Event::Other,
        },
        b'F' => match msg.strip_prefix("Forked agent [") {
            Some(r) => match r.split_once("] finished: ") {
                Some((name, _)) => Event::ForkedAgentFinished { name },
                None => Event::Other,
            },
            None => Event::Other,
        },
        _ => retry_suffix(msg),
    }
}

fn bracketed(msg: &str) -> Event<'_> {
    if let Some(r) = msg.strip_prefix("[API REQUEST] ") {
        let path = until(r, b' ');
        let source = after(r, " source=")
            .map(|s| until(s, b' '))
            .unwrap_or("unknown");
        if path.is_empty() {
            return Event::Other;
        }
        return Event::ApiRequest { path, source };
    }
    if let Some(r) = msg.strip_prefix("[API:timing] ") {
        if let Some(r) = r.strip_prefix("first byte after ") {
            return match leading_u64(r) {
                Some(ms) => Event::FirstByte { ms },
                None => Event::Other,
            };
        }
        if let Some(r) = r.strip_prefix("dispatching to ") {
            let provider = until(r, b' ');
            let model = after(r, " model=").map(|m| until(m, b' ')).unwrap_or("");
            return Event::Dispatch { provider, model };
        }
        return Event::Other;
    }
    if let Some(r) = msg.strip_prefix("[engine] turn ") {
        let r = r.trim_start_matches(|c: char| c.is_ascii_digit());
        if r.starts_with(" start") {
            return Event::TurnStart;
        }
        if let Some(r) = r.strip_prefix(" end") {
            return Event::TurnEnd {
                usage_in: after(r, " in=").and_then(leading_u64),
                usage_out: after(r, " out=").and_then(leading_u64),
                api_ms: after(r, " api=").and_then(leading_u64),
            };
        }
        return Event::Other;
    }
    if let Some(r) = msg.strip_prefix("[autocompact] \"") {
        if let Some((model, tail)) = r.split_once('"') {
            if tail.starts_with(" isn't described") {
                return Event::UnknownModel { model };
            }
        }
    }
    retry_suffix(msg)
}

fn autocompact(r: &str) -> Event<'_> {
    if let Some(s) = r.strip_prefix("routing through reactive (thresholdSource=") {
        return Event::AutocompactReactive {
            threshold_source: until(s, b')'),
        };
    }
    if !r.starts_with("tokens=") {
        return Event::Other;
    }
    let level = after(r, " level=")
        .map(|l| until(l, b' '))
        .and_then(|l| match l {
            "ok" => Some(CompactLevel::Ok),
            "warn" => Some(CompactLevel::Warn),
            "compact" => Some(CompactLevel::Compact),
            "blocked" => Some(CompactLevel::Blocked),
            _ => None,
        });
    Event::Autocompact {
        tokens: leading_u64(&r["tokens=".len()..]),
        threshold: after(r, " threshold=").and_then(leading_u64),
        level,
        effective_window: after(r, " effectiveWindow=").and_then(leading_u64),
    }
}

fn stream_family(msg: &str) -> Event<'_> {
    if msg.starts_with("Stream started") {
        return Event::StreamStarted;
    }
    if let Some(r) = msg.strip_prefix("Slow first byte: no stream chunk ") {
        return Event::SlowFirstByte {
            after_ms: seconds_ms(r).unwrap_or(0),
            attempt: after(r, "(attempt ").and_then(leading_u64).map(clamp_u32),
        };
    }
    if let Some(r) = msg.strip_prefix("Streaming stall detected: ") {
        return Event::Stall {
            gap_ms: seconds_ms(r).unwrap_or(0),
        };
    }
    if let Some(r) = msg.strip_prefix("Streaming completed with ") {
        return Event::StreamCompleted {
            stalls: leading_u64(r).map(clamp_u32).unwrap_or(0),
            stall_ms: after(r, "total stall time: ")
                .and_then(seconds_ms)
                .unwrap_or(0),
        };
    }
    if let Some(r) = msg.strip_prefix("Streaming endpoint returned ") {
        return Event::StreamingFallback {
            status: leading_status(r),
        };
    }
    retry_suffix(msg)
}

/// `<anything> — retrying streaming (<n>/<max>)`; "timeout" in the text marks a timeout.
fn retry_suffix(msg: &str) -> Event<'_> {
    match msg.find("retrying streaming (") {
        Some(i) => {
            let head = &msg[..i];
            let timeout = head.contains("timeout") || head.contains("timed out");
            Event::StreamRetry { timeout }
        }
        None => Event::Other,
    }
}

fn api_error(r: &str) -> Event<'_> {
    let Some(attempt) = leading_u64(r) else {
        return Event::Other;
    };
    let max = after(r, "/").and_then(leading_u64).unwrap_or(0);
    let message = after(r, "): ").unwrap_or("");
    Event::ApiError {
        attempt: clamp_u32(attempt),
        max: clamp_u32(max),
        status: leading_status(message),
        message,
    }
}

fn count_tokens(msg: &str) -> Event<'_> {
    if let Some(r) = msg.strip_prefix("countTokens API call failed: ") {
        return Event::CountTokensFailed {
            status: leading_status(r),
        };
    }
    let Some(r) = msg.strip_prefix("countTokensWithFallback: ") else {
        return Event::Other;
    };
    if r.starts_with("API returned null") || r.starts_with("[REDACTED] returned null") {
        return Event::CountTokensNull;
    }
    let failed = r
        .strip_prefix("haiku fallback failed: ")
        .or_else(|| r.strip_prefix("[REDACTED] fallback failed: "));
    match failed {
        Some(m) => Event::HaikuFallbackFailed {
            status: leading_status(m),
            message: m,
        },
        None => Event::Other,
    }
}

/// The text after the first occurrence of `key`.
fn after<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    s.find(key).map(|i| &s[i + key.len()..])
}

/// The text before the first `stop` byte (an ASCII delimiter, so the cut is a char boundary).
fn until(s: &str, stop: u8) -> &str {
    match s.bytes().position(|c| c == stop) {
        Some(i) => &s[..i],
        None => s,
    }
}

fn leading_u64(s: &str) -> Option<u64> {
    let mut n: u64 = 0;
    let mut seen = false;
    for c in s.bytes() {
        if !c.is_ascii_digit() {
            break;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
        seen = true;
    }
    seen.then_some(n)
}

/// A three-digit HTTP status at the start of `s`, followed by a space, `{` or the end.
fn leading_status(s: &str) -> Option<u16> {
    let b = s.as_bytes();
    if b.len() < 3 || !b[..3].iter().all(u8::is_ascii_digit) {
        return None;
    }
    if b.len() > 3 && b[3].is_ascii_digit() {
        return None;
    }
    let n = leading_u64(&s[..3])? as u16;
    (100..=599).contains(&n).then_some(n)
}

/// `54.4s…` → 54400.
fn seconds_ms(s: &str) -> Option<u64> {
    let whole = leading_u64(s)?;
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let mut ms = whole.checked_mul(1000)?;
    if let Some(frac) = s[digits..].strip_prefix('.') {
        let mut scale = 100;
        for c in frac.bytes().take_while(u8::is_ascii_digit).take(3) {
            ms += u64::from(c - b'0') * scale;
            scale /= 10;
        }
    }
    Some(ms)
}

fn clamp_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The model a 404 body names: Ollama's `model 'x' not found`, or `model: x`.
pub fn model_in_error(message: &str) -> Option<&str> {
    if let Some(r) = after(message, "model '") {
        let m = until(r, b'\'');
        if !m.is_empty() && m.len() < r.len() {
            return Some(m);
        }
    }
    if let Some(r) = after(message, "model: ") {
        let m = r.split(['"', '\\', ' ', ',', '}']).next().unwrap_or("");
        if !m.is_empty() {
            return Some(m);
        }
    }
    None
}

#[cfg(test)]
mod tests {
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
}
