//! A [`Session`] from a Claude Code debug log.
//!
//! Prompt sizes: the `autocompact: tokens=N …` line Claude Code writes before each request
//! (up to 2.1.126; later versions write `tokens=[REDACTED]`, and such requests are counted
//! as unsized). Waits: the analysis's first-byte time per request. Output tokens: the last
//! `[engine] turn … usage … out=N` total spread over the requests, else `default_output`.
//! The debug log does not say what the server's cache held (a server log does).

use super::{RoundTrip, Session};
use crate::logs::{parse_line, Analysis, Event, Line, SourceKind};

/// Prompt sizes in the order of the `[API REQUEST]` lines: the last `autocompact: tokens=`
/// value seen before each request line (`None` when none was seen since the previous one).
pub fn prompt_tokens_per_request(text: &str) -> Vec<Option<u64>> {
    let mut out = Vec::new();
    let mut pending = None;
    for line in text.lines() {
        if let Line::Entry(e) = parse_line(line) {
            match e.event {
                Event::Autocompact {
                    tokens: Some(t), ..
                } => pending = Some(t),
                Event::ApiRequest { .. } => out.push(pending.take()),
                _ => {}
            }
        }
    }
    out
}

/// Builds the session from the analysis and the per-request prompt sizes.
pub fn session(a: &Analysis, tokens: &[Option<u64>], default_output: u64) -> Session {
    let convo: Vec<usize> = a
        .requests
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r.kind, SourceKind::Main | SourceKind::Compact) && !r.failed)
        .map(|(i, _)| i)
        .collect();
    let output = match a.summary.usage_out {
        Some(o) if o > 0 && !convo.is_empty() => o / convo.len() as u64,
        _ => default_output,
    };
    let mut round_trips = Vec::new();
    let mut unsized_requests = 0;
    let mut measured_total = 0.0;
    for &i in &convo {
        let r = &a.requests[i];
        let Some(Some(prompt)) = tokens.get(i) else {
            unsized_requests += 1;
            continue;
        };
        let first = r.first_byte_ms.map(|m| m as f64);
        let total = match (r.first_byte_ms, r.stream_ms) {
            (Some(f), Some(s)) => Some((f + s) as f64),
            (Some(f), None) => Some(f as f64),
            _ => None,
        };
        measured_total += total.unwrap_or(0.0);
        round_trips.push(RoundTrip {
            prompt_tokens: *prompt,
            cached_tokens: None,
            output_tokens: output,
            compaction: r.kind == SourceKind::Compact,
            reload: false,
            side: false,
            measured_prefill_ms: first,
            measured_decode_ms: None,
            measured_ms: total,
        });
    }
    let wall = a.summary.wall_ms as f64;
    Session {
        round_trips,
        measured_wall_ms: (wall > 0.0).then_some(wall),
        // Time outside the requests as the log shows it (stream times here include the tools
        // that ran before the next request, so this is what is left over).
        other_ms: (wall - measured_total).max(0.0),
        source: "Claude Code debug log".into(),
        unsized_requests,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
2026-11-25T19:43:27.000Z [DEBUG] autocompact: tokens=17000 threshold=31757 effectiveWindow=180000
2026-11-25T19:43:27.010Z [DEBUG] [API REQUEST] /v1/messages source=sdk
2026-11-25T19:43:42.010Z [DEBUG] Stream started - received first chunk
2026-11-25T19:43:52.000Z [DEBUG] autocompact: tokens=17300 threshold=31757 effectiveWindow=180000
2026-11-25T19:43:52.010Z [DEBUG] [API REQUEST] /v1/messages source=sdk
2026-11-25T19:44:12.010Z [DEBUG] Stream started - received first chunk
2026-11-25T19:44:20.000Z [DEBUG] [API REQUEST] /v1/messages source=sdk
2026-11-25T19:44:21.000Z [DEBUG] Stream started - received first chunk
";

    #[test]
    fn sizes_follow_request_lines() {
        assert_eq!(
            prompt_tokens_per_request(LOG),
            vec![Some(17000), Some(17300), None]
        );
    }

    #[test]
    fn session_from_log() {
        let a = crate::logs::analyze_bytes(LOG.as_bytes());
        let s = session(&a, &prompt_tokens_per_request(LOG), 150);
        assert_eq!(s.round_trips.len(), 2);
        assert_eq!(s.unsized_requests, 1);
        assert_eq!(s.round_trips[0].prompt_tokens, 17000);
        assert_eq!(s.round_trips[0].measured_prefill_ms, Some(15_000.0));
        assert_eq!(s.round_trips[1].measured_prefill_ms, Some(20_000.0));
        assert_eq!(s.round_trips[0].output_tokens, 150);
        assert!(s.measured_wall_ms.unwrap() > 50_000.0);
    }
}
