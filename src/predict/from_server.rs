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
        // vLLM's log sizes the prompt but does not time it: Claude Code's wait for the
        // first byte is the measured prefill, as for a debug log alone.
        if let Some(prompt) = task
            .filter(|t| t.prefill_ms.is_none() && t.total_ms.is_none())
            .and_then(|t| t.prompt_tokens)
        {
            let first = r.first_byte_ms.map(|m| m as f64);
            busy_ms += first.unwrap_or(0.0);
            round_trips.push(RoundTrip {
                prompt_tokens: prompt,
                output_tokens: task.and_then(|t| t.eval_tokens).unwrap_or(default_output),
                compaction: r.kind == SourceKind::Compact,
                side,
                measured_prefill_ms: first,
                measured_ms: first,
                ..RoundTrip::default()
            });
            continue;
        }
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

/// A round trip from a timed server task, and the server's busy time for it (ms). A task
/// timed only as a whole (vllm-mlx) is one measured request, its prefill not told apart.
fn trip_of(t: &Task, side: bool, compaction: bool) -> Option<(RoundTrip, f64)> {
    let prompt = t.prompt_tokens?;
    let (prefill, decode, ms) = match t.prefill_ms {
        None => (None, None, t.total_ms?),
        Some(p) => (Some(p), t.decode_ms, p + t.decode_ms.unwrap_or(0.0)),
    };
    Some((
        RoundTrip {
            prompt_tokens: prompt,
            cached_tokens: t.cached_tokens(),
            output_tokens: t.eval_tokens.unwrap_or(0),
            compaction,
            reload: false,
            side,
            measured_prefill_ms: prefill,
            measured_decode_ms: decode,
            measured_ms: Some(ms),
        },
        ms,
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

/// Rates from requests timed only as a whole (vllm-mlx's `N tokens in S s`): each took
/// `p·E + d·N` ms for `E` prompt tokens prefilled and `N` written; `p` and `d` are fitted
/// (non-negative least squares, weighted by 1/ms²). Where the log cannot tell `d` (Claude
/// Code's short answers), a written token is taken to cost what a prefilled one does (a
/// floor: decoding is never cheaper per token), and the source says so.
fn rates_from_whole_requests(server: &ServerAnalysis) -> Option<Rates> {
    let rows: Vec<(f64, f64, f64, u64, u64)> = server
        .tasks
        .iter()
        .filter_map(|t| {
            let total = t.total_ms.filter(|m| *m > 0.0)?;
            let prompt = t.prompt_tokens?;
            let cached = t.cached_tokens().unwrap_or(0);
            let e = prompt.saturating_sub(cached) as f64;
            let n = t.eval_tokens.unwrap_or(0) as f64;
            (e > 0.0).then_some((e, n, total, cached, prompt))
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    // `d` can be told from the per-request cost only where the tokens written vary (Claude
    // Code's answers of a few tokens do not): then a weighted fit of p and d; else d = p.
    let ns = rows.iter().map(|r| r.1);
    let (lo, hi) = (
        ns.clone().fold(f64::INFINITY, f64::min),
        ns.fold(0.0, f64::max),
    );
    let fitted = (hi >= 16.0 && hi >= 2.0 * lo.max(1.0))
        .then(|| {
            let (mut see, mut snn, mut sen, mut set, mut snt) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (e, n, t, _, _) in &rows {
                let w = 1.0 / (t * t);
                see += w * e * e;
                snn += w * n * n;
                sen += w * e * n;
                set += w * e * t;
                snt += w * n * t;
            }
            let det = see * snn - sen * sen;
            (det > 0.0).then(|| ((set * snn - snt * sen) / det, (see * snt - sen * set) / det))
        })
        .flatten()
        .filter(|(p, d)| *p > 0.0 && *d > 0.0 && d.is_finite());
    let (d, d_fitted) = match fitted {
        Some((_, d)) => (d, true),
        None => {
            // The prefill fit of the whole times (overhead included) gives the floor.
            let whole: Vec<Segment> = rows
                .iter()
                .map(|(_, _, t, cached, prompt)| Segment {
                    from: *cached,
                    to: *prompt,
                    ms: *t,
                })
                .collect();
            (fit_with_overhead(&whole)?.a_ms, false)
        }
    };
    if !(d.is_finite() && d > 0.0) {
        return None;
    }
    let pre: Vec<Segment> = rows
        .iter()
        .filter_map(|(_, n, t, cached, prompt)| {
            let ms = t - d * n;
            (ms > 0.0).then_some(Segment {
                from: *cached,
                to: *prompt,
                ms,
            })
        })
        .collect();
    let prefill = fit_with_overhead(&pre)?;
    let spread = super::rates::spread(&prefill, &pre);
    Some(Rates {
        prefill,
        spread,
        decode: super::rates::Cost {
            a_ms: d,
            b_ms: 0.0,
            c_ms: 0.0,
        },
        load_ms: 0.0,
        prefill_q8: None,
        decode_q8: None,
        source: if d_fitted {
            "the server log's request times (prefill and decode fitted)".into()
        } else {
            "the server log's request times (decode taken at the prefill cost: the log's answers are too short to time it)".into()
        },
    })
}

/// Rates from the server's timing lines: prefill segments from the cached depth to the whole
/// prompt, decode segments from the prompt to the tokens written, the load time from the
/// loads that logged when they were ready; for a log that times only whole requests
/// (vllm-mlx), [`rates_from_whole_requests`]. `None` without a timed task (vLLM's log: its
/// throughput lines are averages over its stats interval, not request times).
pub fn rates(server: &ServerAnalysis) -> Option<Rates> {
    if server.timed().next().is_none() {
        return rates_from_whole_requests(server);
    }
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
