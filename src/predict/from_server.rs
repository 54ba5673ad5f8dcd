//! A [`Session`] from the server's own log joined to Claude Code's debug log, and [`Rates`]
//! from the server's timing lines.
//!
//! The server log says what the debug log cannot (and what Claude Code 2.1.127+ redacts):
//! each request's whole prompt, the tokens its cache held, the tokens written, and the
//! prefill and decode times (llama-server's `prompt eval time` / `eval time` lines). Every
//! request that reached the model is a round trip, helper calls included (`side`: they take
//! the server's time but are not part of the conversation's growth). The time outside the
//! model is the session's wall time minus the server's measured busy time for those
//! requests, so the model's check is its prefill and decode against the server's own
//! figures (docs/session-time.md).

use super::rates::{fit, fit_with_overhead, spread, Rates, Segment};
use super::{RoundTrip, Session};
use crate::logs::serverlog::{Join, ServerAnalysis, Task};
use crate::logs::{Analysis, SourceKind};

/// The session from the joined logs. `sizes` are the debug log's own prompt sizes (per
/// request, [`super::from_logs::prompt_tokens_per_request`]), used for conversation requests
/// the join could not pair; `default_output` where neither log says what was written.
pub fn session(
    claude: &Analysis,
    server: &ServerAnalysis,
    join: &Join,
    sizes: &[Option<u64>],
    default_output: u64,
) -> Session {
    let mut round_trips = Vec::new();
    let mut unsized_requests = 0;
    let mut busy_ms = 0.0;
    let mut last_load = None;
    for (i, r) in claude.requests.iter().enumerate() {
        if r.kind == SourceKind::CountTokens {
            continue;
        }
        let side = !matches!(r.kind, SourceKind::Main | SourceKind::Compact);
        let task = join.task_of(i).map(|t| &server.tasks[t]);
        match task.and_then(|t| trip_of(t, side, r.kind == SourceKind::Compact)) {
            Some((mut trip, ms)) => {
                let t = task.expect("trip_of had a task");
                // A load between two requests of the session is a reload.
                trip.reload = last_load.is_some() && t.load.is_some() && t.load != last_load;
                last_load = t.load.or(last_load);
                busy_ms += ms;
                round_trips.push(trip);
            }
            None if side || r.failed => {}
            None => match sizes.get(i).copied().flatten() {
                Some(prompt) => {
                    let first = r.first_byte_ms.map(|m| m as f64);
                    busy_ms += first.unwrap_or(0.0);
                    round_trips.push(RoundTrip {
                        prompt_tokens: prompt,
                        output_tokens: default_output,
                        compaction: r.kind == SourceKind::Compact,
                        measured_prefill_ms: first,
                        measured_ms: first,
                        ..RoundTrip::default()
                    });
                }
                None => unsized_requests += 1,
            },
        }
    }
    let wall = claude.summary.wall_ms as f64;
    Session {
        round_trips,
        measured_wall_ms: (wall > 0.0).then_some(wall),
        other_ms: (wall - busy_ms).max(0.0),
        source: "Claude Code debug log joined to the server log".into(),
        unsized_requests,
    }
}

/// A round trip from a timed server task, and the server's busy time for it (ms).
fn trip_of(t: &Task, side: bool, compaction: bool) -> Option<(RoundTrip, f64)> {
    let prompt = t.prompt_tokens?;
    let prefill = t.prefill_ms?;
    let decode = t.decode_ms.unwrap_or(0.0);
    Some((
        RoundTrip {
            prompt_tokens: prompt,
            cached_tokens: t.cached_tokens(),
            output_tokens: t.eval_tokens.unwrap_or(0),
            compaction,
            reload: false,
            side,
            measured_prefill_ms: Some(prefill),
            measured_decode_ms: t.decode_ms,
            measured_ms: Some(prefill + decode),
        },
        prefill + decode,
    ))
}

/// The session from a server log alone: every timed task in order; the wall time from the
/// first task's start to the last one's end.
pub fn session_of_server(server: &ServerAnalysis) -> Session {
    let mut round_trips = Vec::new();
    let mut busy_ms = 0.0;
    let mut last_load = None;
    for t in &server.tasks {
        if let Some((mut trip, ms)) = trip_of(t, false, false) {
            trip.reload = last_load.is_some() && t.load.is_some() && t.load != last_load;
            last_load = t.load.or(last_load);
            busy_ms += ms;
            round_trips.push(trip);
        }
    }
    let first = server.timed().filter_map(|t| t.at).min();
    let last = server.timed().filter_map(|t| t.end.or(t.at)).max();
    let wall = match (first, last) {
        (Some(a), Some(b)) if b > a => Some((b - a) as f64),
        _ => None,
    };
    Session {
        round_trips,
        measured_wall_ms: wall,
        other_ms: wall.map_or(0.0, |w| (w - busy_ms).max(0.0)),
        source: "server log".into(),
        unsized_requests: 0,
    }
}

/// Rates from the server's timing lines: prefill segments from the cached depth to the whole
/// prompt, decode segments from the prompt to the tokens written, the load time from the
/// loads that logged when they were ready. `None` without a timed task.
pub fn rates(server: &ServerAnalysis) -> Option<Rates> {
    let mut pre = Vec::new();
    let mut dec = Vec::new();
    for t in server.timed() {
        let (Some(prompt), Some(ms)) = (t.prompt_tokens, t.prefill_ms) else {
            continue;
        };
        let cached = t.cached_tokens().unwrap_or(0);
        if prompt > cached {
            pre.push(Segment {
                from: cached,
                to: prompt,
                ms,
            });
        }
        if let (Some(n), Some(ms)) = (t.eval_tokens, t.decode_ms) {
            if n > 0 {
                dec.push(Segment {
                    from: prompt,
                    to: prompt + n,
                    ms,
                });
            }
        }
    }
    let loads: Vec<f64> = server
        .loads
        .iter()
        .filter_map(|l| Some((l.ready_at? - l.at?) as f64))
        .filter(|ms| *ms >= 0.0)
        .collect();
    let prefill = fit_with_overhead(&pre)?;
    Some(Rates {
        spread: spread(&prefill, &pre),
        prefill,
        decode: fit(&dec)?,
        load_ms: if loads.is_empty() {
            0.0
        } else {
            loads.iter().sum::<f64>() / loads.len() as f64
        },
        prefill_q8: None,
        decode_q8: None,
        source: "the server log's timing lines".into(),
    })
}
