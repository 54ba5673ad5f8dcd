//! One debug-log line to a typed event. The line format (2.1.88 through 2.1.332) is
//! `<ISO timestamp> [<LEVEL>] <message>`; multi-line messages continue on lines without the
//! prefix (stack traces in 2.1.121), and newer versions JSON-quote them into one line.
//!
//! `parse_line` never panics and never allocates: every string in an [`Event`] borrows from
//! the line. Message texts are the literal strings listed in `docs/claude-code.md` (debug log).

pub use super::event::{CompactLevel, Entry, Event, Level, Line};
use super::time::{parse_iso_ms, TS_LEN};

/// Parses one line (without its newline; a trailing `\r` is ignored). Never panics.
pub fn parse_line(line: &str) -> Line<'_> {
    // Trailing newlines and carriage returns (ASCII: the cut is a char boundary).
    let end = line
        .bytes()
        .rposition(|c| c != b'\n' && c != b'\r')
        .map_or(0, |p| p + 1);
    let line = &line[..end];
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
    let mut event = parse_message(msg);
    // Stream retries are WARN lines ending in `retrying streaming (n/m)`; only those are
    // searched, so ordinary lines are not scanned end to end.
    if level == Level::Warn && event == Event::Other {
        event = retry_suffix(msg);
    }
    Line::Entry(Entry {
        ts_ms,
        ts: &line[..TS_LEN],
        level,
        event,
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
        _ => Event::Other,
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
    Event::Other
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
    Event::Other
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
#[path = "parse_tests.rs"]
mod tests;
