//! How long a Claude Code session takes: a model of its wall time from its round trips and
//! the measured speed of the model, and what cclocal's recommended settings would save.
//!
//! Plain data in, plain data out; no llama.cpp needed. Inputs: a [`Session`] (filled from a
//! Claude Code debug log by [`from_logs`], from a server log by whoever parses one, or
//! [`synthetic`]) and [`Rates`] (from a saved `cclocal bench --json`, or a server's timing
//! lines). The formulas and the measurements behind them: docs/session-time.md.

pub mod follow;
pub mod from_logs;
pub mod from_server;
pub mod quote;
pub mod rates;

pub use rates::{fit, fit_with_overhead, from_bench_json, Cost, Rates, Segment};
use serde::Serialize;

/// One request to the model.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RoundTrip {
    /// Tokens in the request's prompt (the whole conversation so far).
    pub prompt_tokens: u64,
    /// Tokens the server took from its prompt cache instead of evaluating them; `None`
    /// when the source does not say (a Claude Code debug log).
    pub cached_tokens: Option<u64>,
    /// Tokens the model wrote.
    pub output_tokens: u64,
    /// A compaction's summary request.
    pub compaction: bool,
    /// The server (re)loaded the model for this request.
    pub reload: bool,
    /// A helper call outside the conversation (a title, a background summary): it takes the
    /// server's time as it ran in every scenario, and the conversation's prompt does not
    /// follow it.
    pub side: bool,
    /// Measured wait before the first token (prefill and queueing), ms.
    pub measured_prefill_ms: Option<f64>,
    /// Measured generation time, ms (a server's decode time; `None` from a debug log, whose
    /// stream time includes the tools that ran before the next request).
    pub measured_decode_ms: Option<f64>,
    /// Measured time of the whole request as the source saw it, ms.
    pub measured_ms: Option<f64>,
}

/// A session: its round trips, in order, and the time spent outside them.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Session {
    pub round_trips: Vec<RoundTrip>,
    /// Measured wall time of the whole session, ms.
    pub measured_wall_ms: Option<f64>,
    /// Wall time outside the requests (tools, the user, Claude Code itself), ms: carried into
    /// every scenario unchanged.
    pub other_ms: f64,
    /// Where the session comes from, for the report.
    pub source: String,
    /// Requests the source showed but could not size (skipped).
    pub unsized_requests: u64,
}

/// Tokens a compaction's summary takes (Claude Code asks for a summary of a few thousand
/// tokens; docs/session-time.md).
pub const SUMMARY_TOKENS: u64 = 2000;
/// Tokens of a typical turn's new input and output, for [`typical_turn`].
pub const TYPICAL_NEW: u64 = 1500;
pub const TYPICAL_OUTPUT: u64 = 300;

/// How a session is run.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Scenario {
    /// The prompt cache is reused: each request evaluates only what the previous one did
    /// not have.
    pub reuse_cache: bool,
    /// Model reloads happen as logged (false: none).
    pub reloads: bool,
    /// Compact the conversation when the prompt passes this many tokens.
    pub compact_at: Option<u64>,
    /// A q8_0 KV cache (its measured rates).
    pub kv_q8: bool,
}

/// Where the predicted time goes, ms.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Breakdown {
    pub prefill_ms: f64,
    pub decode_ms: f64,
    pub reload_ms: f64,
    pub other_ms: f64,
    /// Tokens evaluated (prefill), over all requests.
    pub evaluated_tokens: u64,
    pub requests: u64,
    /// Compactions the scenario added.
    pub compactions_added: u64,
}

impl Breakdown {
    pub fn total_ms(&self) -> f64 {
        self.prefill_ms + self.decode_ms + self.reload_ms + self.other_ms
    }
}

/// Tokens evaluated for a prompt of `prompt` tokens, `wait_ms` long, at `cost`: solves
/// `cost.ms(prompt − e, prompt) = wait_ms` for `e`, clamped to `0..=prompt`.
pub fn evaluated_from_wait(cost: &Cost, prompt: u64, wait_ms: f64) -> u64 {
    if wait_ms <= 0.0 || prompt == 0 {
        return 0;
    }
    if cost.ms(0, prompt) <= wait_ms {
        return prompt;
    }
    let wait_ms = wait_ms - cost.c_ms;
    if wait_ms <= 0.0 {
        return 0;
    }
    let p = prompt as f64;
    let (a, b) = (cost.a_ms, cost.b_ms);
    let e = if b <= 0.0 {
        wait_ms / a
    } else {
        // b/2·e² − (a + b·p)·e + w = 0, smaller root.
        let k = a + b * p;
        let disc = k * k - 2.0 * b * wait_ms;
        if disc < 0.0 {
            p
        } else {
            (k - disc.sqrt()) / b
        }
    };
    e.round().clamp(0.0, p) as u64
}

/// Tokens each request actually evaluated as the session ran: the cache figure where known,
/// else inferred from the measured wait ([`evaluated_from_wait`]), else the growth since the
/// previous request (a working cache).
pub fn evaluated_as_ran(s: &Session, rates: &Rates) -> Vec<(u64, bool)> {
    let mut prev = None;
    s.round_trips
        .iter()
        .map(|r| {
            // Before the first request, what the server held is unknown: no growth forced.
            let growth = match (r.side, prev) {
                (false, Some(p)) => r.prompt_tokens.saturating_sub(p),
                _ => 0,
            };
            if !r.side {
                prev = Some(r.prompt_tokens);
            }
            match (r.cached_tokens, r.measured_prefill_ms) {
                (Some(c), _) => (r.prompt_tokens.saturating_sub(c), false),
                (None, Some(w)) => (
                    evaluated_from_wait(&rates.prefill, r.prompt_tokens, w)
                        .max(growth.min(r.prompt_tokens)),
                    true,
                ),
                (None, None) => (growth, true),
            }
        })
        .collect()
}

/// One request as it ran: the model's prefill and decode next to the measured ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestFit {
    pub prompt_tokens: u64,
    /// Tokens evaluated (not from the cache).
    pub evaluated_tokens: u64,
    /// The evaluated tokens were inferred from the measured wait (a debug log alone), so the
    /// predicted prefill equals the measured one by construction.
    pub cache_inferred: bool,
    pub output_tokens: u64,
    pub side: bool,
    pub predicted_prefill_ms: f64,
    pub measured_prefill_ms: Option<f64>,
    pub predicted_decode_ms: f64,
    pub measured_decode_ms: Option<f64>,
}

/// The model's figures for every request as it ran.
pub fn per_request(s: &Session, rates: &Rates) -> Vec<RequestFit> {
    s.round_trips
        .iter()
        .zip(evaluated_as_ran(s, rates))
        .map(|(r, (e, inferred))| {
            let p = r.prompt_tokens;
            RequestFit {
                prompt_tokens: p,
                evaluated_tokens: e,
                cache_inferred: inferred,
                output_tokens: r.output_tokens,
                side: r.side,
                predicted_prefill_ms: rates.prefill.ms(p - e, p),
                measured_prefill_ms: r.measured_prefill_ms,
                predicted_decode_ms: rates.decode.ms(p, p + r.output_tokens),
                measured_decode_ms: r.measured_decode_ms,
            }
        })
        .collect()
}

/// Predicts the session under a scenario. With `scenario == as_ran()` the cache behaves as
/// measured ([`evaluated_as_ran`]); otherwise as the scenario says.
pub fn predict(s: &Session, rates: &Rates, sc: &Scenario, as_ran: bool) -> Breakdown {
    let (pre, dec) = match (sc.kv_q8, rates.prefill_q8, rates.decode_q8) {
        (true, Some(p), Some(d)) => (p, d),
        _ => (rates.prefill, rates.decode),
    };
    let evaluated = evaluated_as_ran(s, rates);
    let mut b = Breakdown {
        other_ms: s.other_ms,
        ..Breakdown::default()
    };
    // The conversation as the scenario shapes it: `p` is the simulated prompt.
    let mut prev_logged = 0u64;
    let mut p = 0u64;
    // What the previous request wrote: the server's cache holds it after the prompt, and the
    // next prompt starts with it (the assistant's reply is part of the conversation).
    let mut prev_out = 0u64;
    // The prefix a compaction keeps (system prompt and tools): the first prompt, at most
    // half the compaction point.
    let base = s
        .round_trips
        .iter()
        .find(|r| !r.side)
        .map_or(0, |r| r.prompt_tokens);
    let mut first = true;
    for (i, r) in s.round_trips.iter().enumerate() {
        if r.side {
            // As it ran, in every scenario.
            b.prefill_ms += pre.ms(r.prompt_tokens - evaluated[i].0, r.prompt_tokens);
            b.evaluated_tokens += evaluated[i].0;
            b.decode_ms += dec.ms(r.prompt_tokens, r.prompt_tokens + r.output_tokens);
            if sc.reloads && r.reload {
                b.reload_ms += rates.load_ms;
            }
            b.requests += 1;
            continue;
        }
        let start = std::mem::take(&mut first);
        let logged_growth = r.prompt_tokens.saturating_sub(prev_logged);
        let logged_shrank = r.prompt_tokens < prev_logged;
        prev_logged = r.prompt_tokens;
        let prev_p = p;
        let held = prev_p + std::mem::replace(&mut prev_out, r.output_tokens);
        p = if start || logged_shrank {
            // The start, or a compaction in the log: the conversation restarts.
            r.prompt_tokens
        } else {
            p + logged_growth
        };
        if let Some(c) = sc.compact_at {
            let base = base.min(c / 2);
            if p > c && !r.compaction {
                // Claude Code compacts before sending: the summary request reads what the
                // cache lacks and writes the summary; the conversation restarts from it.
                b.prefill_ms += pre.ms(held.min(p), p);
                b.decode_ms += dec.ms(p, p + SUMMARY_TOKENS);
                b.evaluated_tokens += p - held.min(p);
                b.requests += 1;
                b.compactions_added += 1;
                p = base + SUMMARY_TOKENS + logged_growth.min(c / 4);
                // The request after it: the prefix is cached, the summary and new text not.
                let from = if sc.reuse_cache { base } else { 0 };
                b.prefill_ms += pre.ms(from, p);
                b.evaluated_tokens += p - from;
                b.decode_ms += dec.ms(p, p + r.output_tokens);
                b.requests += 1;
                continue;
            }
        }
        let from = if as_ran || start {
            // The first request finds the cache as the session found it.
            p.saturating_sub(evaluated[i].0)
        } else if sc.reuse_cache && !logged_shrank {
            held.min(p)
        } else if sc.reuse_cache && logged_shrank {
            base.min(p)
        } else {
            0
        };
        b.prefill_ms += pre.ms(from, p);
        b.evaluated_tokens += p - from;
        b.decode_ms += dec.ms(p, p + r.output_tokens);
        if sc.reloads && r.reload {
            b.reload_ms += rates.load_ms;
        }
        b.requests += 1;
    }
    b
}

/// One saving of the recommended settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Saving {
    /// `no_reloads`, `cache_reused`, `compacts_in_time`, `quantised_kv`.
    pub cause: String,
    pub ms: f64,
    pub note: String,
}

/// The session as it ran and as it would run with the recommended settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIf {
    pub as_ran: AsRan,
    pub recommended: Recommended,
    pub rates: Rates,
    /// Caveats about the inputs (inferred cache hits, requests without a size).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AsRan {
    pub predicted_ms: f64,
    pub measured_ms: Option<f64>,
    pub breakdown: Breakdown,
    /// Requests whose cache hits were inferred from their waits.
    pub cache_inferred: u64,
    pub round_trips: u64,
    /// Each request: predicted next to measured.
    pub requests: Vec<RequestFit>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommended {
    pub predicted_ms: f64,
    pub breakdown: Breakdown,
    pub savings: Vec<Saving>,
    pub compact_at: Option<u64>,
}

/// The what-if: causes applied one after the other (reloads, cache, compaction, KV type),
/// each kept only where it saves time; each saving is the drop it adds.
pub fn what_if(s: &Session, rates: &Rates, compact_at: Option<u64>) -> WhatIf {
    let as_ran_sc = Scenario {
        reuse_cache: false,
        reloads: true,
        compact_at: None,
        kv_q8: false,
    };
    let as_ran = predict(s, rates, &as_ran_sc, true);
    let inferred = evaluated_as_ran(s, rates)
        .iter()
        .filter(|(_, inf)| *inf)
        .count() as u64;
    let mut notes = Vec::new();
    if inferred > 0 {
        notes.push(format!(
            "{inferred} of {} requests: the log does not say how much of the prompt the server's cache held, so it was inferred from the wait for the first byte",
            s.round_trips.len()
        ));
    }
    if s.unsized_requests > 0 {
        notes.push(format!(
            "{} requests without a logged prompt size were left out",
            s.unsized_requests
        ));
    }
    let mut savings = Vec::new();
    let mut cur_sc = as_ran_sc;
    let mut cur = as_ran;
    let causes = [
        (
            "no_reloads",
            "the model stays loaded (one server, one context size, keep-alive)",
        ),
        (
            "cache_reused",
            "each request evaluates only the tokens the previous one did not have",
        ),
        (
            "compacts_in_time",
            "the conversation is compacted before it grows past the compaction point",
        ),
        ("quantised_kv", "a q8_0 KV cache (its measured speed)"),
    ];
    for (cause, note) in causes {
        let mut sc = cur_sc;
        match cause {
            "no_reloads" => sc.reloads = false,
            "cache_reused" => sc.reuse_cache = true,
            "compacts_in_time" => match compact_at {
                Some(c) => sc.compact_at = Some(c),
                None => continue,
            },
            _ => {
                if rates.prefill_q8.is_none() {
                    notes.push("no q8_0 KV measurement in the rates: its saving is not priced (measure it with `cclocal bench MODEL --kv-type f16,q8_0 --json > bench.json` and pass --bench bench.json)".into());
                    continue;
                }
                sc.kv_q8 = true;
            }
        }
        // Until the cache is reused, requests evaluate what they evaluated as the session ran.
        let next = predict(s, rates, &sc, !sc.reuse_cache);
        let saved = cur.total_ms() - next.total_ms();
        // Below half a percent of the session (or a millisecond) it is rounding, not a saving.
        let noise = (0.005 * cur.total_ms()).max(1.0);
        if saved > noise {
            savings.push(Saving {
                cause: cause.to_string(),
                ms: saved,
                note: note.to_string(),
            });
            cur = next;
            cur_sc = sc;
        } else if cause != "no_reloads" && -saved > noise {
            notes.push(format!(
                "{cause}: would cost time here ({:+.0} s)",
                -saved / 1000.0
            ));
        }
    }
    WhatIf {
        as_ran: AsRan {
            predicted_ms: as_ran.total_ms(),
            measured_ms: s.measured_wall_ms,
            breakdown: as_ran,
            cache_inferred: inferred,
            round_trips: s.round_trips.len() as u64,
            requests: per_request(s, rates),
        },
        recommended: Recommended {
            predicted_ms: cur.total_ms(),
            breakdown: cur,
            savings,
            compact_at: cur_sc.compact_at,
        },
        rates: rates.clone(),
        notes,
    }
}

/// Tokens a Claude Code turn adds (tool results, the user's message) when nobody says: a
/// quarter of the context the turn starts at, at most 2000. `cclocal bench` and
/// `cclocal logs --what-if --turns` share it.
pub fn default_turn_new(turn_context: u64) -> u64 {
    (turn_context / 4).min(2000)
}

/// A synthetic session: `turns` requests starting at `context` tokens, each adding `new`
/// tokens and writing `output` (which the next prompt carries), every one re-reading its whole
/// prompt (a missed cache, as when the prompt cache is busted); the what-if's `cache_reused`
/// prices the fix.
pub fn synthetic(turns: u32, context: u64, new: u64, output: u64) -> Session {
    let round_trips = (0..turns as u64)
        .map(|i| RoundTrip {
            prompt_tokens: context + new * (i + 1) + output * i,
            cached_tokens: Some(0),
            output_tokens: output,
            ..RoundTrip::default()
        })
        .collect();
    Session {
        round_trips,
        measured_wall_ms: None,
        other_ms: 0.0,
        source: format!(
            "synthetic: {turns} turns from {context} tokens, +{new} each, {output} written"
        ),
        unsized_requests: 0,
    }
}

/// A typical turn at `ctx` tokens of context: (warm, cold) ms — warm with the prompt cache
/// reused (only the turn's new tokens read), cold with the whole prompt re-read. For `setup`
/// and `doctor` ("a turn at 60K tokens: ~X s with the cache reused, ~Y s without").
pub fn typical_turn(ctx: u64, rates: &Rates) -> (f64, f64) {
    let start = ctx.saturating_sub(TYPICAL_NEW);
    quote::turn_ms(rates, start, ctx - start, TYPICAL_OUTPUT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates(prefill: f64, decode: f64) -> Rates {
        Rates::flat(prefill, decode, "test")
    }

    /// The causes of the recommended run's savings, in order.
    fn causes(w: &WhatIf) -> Vec<&str> {
        w.recommended
            .savings
            .iter()
            .map(|s| s.cause.as_str())
            .collect()
    }

    #[test]
    fn wait_inverts_the_cost() {
        let c = Cost {
            a_ms: 10.0,
            b_ms: 0.01,
            c_ms: 0.0,
        };
        for e in [1u64, 300, 5000, 20_000] {
            let w = c.ms(30_000 - e, 30_000);
            assert_eq!(evaluated_from_wait(&c, 30_000, w), e);
        }
        assert_eq!(evaluated_from_wait(&c, 100, 1e12), 100);
        assert_eq!(
            evaluated_from_wait(&Cost::flat(20.0), 30_000, 15_000.0),
            300
        );
        assert_eq!(evaluated_from_wait(&c, 100, 0.0), 0);
    }

    #[test]
    fn synthetic_cold_vs_warm() {
        // 10 turns from 10K, +1K each, 100 written (carried by the next prompt); 100 tok/s
        // prefill, 10 tok/s decode.
        let s = synthetic(10, 10_000, 1000, 100);
        let r = rates(100.0, 10.0);
        let w = what_if(&s, &r, None);
        // Cold: prompts 11K, 12.1K … 20.9K → 159.5K tokens / 100 = 1595 s; decode 10 × 10 s.
        assert!((w.as_ran.predicted_ms - 1_695_000.0).abs() < 1.0, "{w:?}");
        // Warm: first request cold (11K = 110 s), then only the 1K new each (9 × 10 s): the
        // cache holds the previous prompt and the reply it wrote; decode 100 s.
        assert!(
            (w.recommended.predicted_ms - 300_000.0).abs() < 1.0,
            "{w:?}"
        );
        assert_eq!(w.recommended.savings.len(), 1);
        assert_eq!(w.recommended.savings[0].cause, "cache_reused");
        assert!((w.recommended.savings[0].ms - 1_395_000.0).abs() < 1.0);
        assert!(w.notes.iter().any(|n| n.contains("q8_0")));
    }

    #[test]
    fn reloads_and_kv_priced_when_known() {
        let mut s = synthetic(3, 1000, 100, 10);
        s.round_trips[1].reload = true;
        s.round_trips[2].reload = true;
        let mut r = rates(100.0, 10.0);
        r.load_ms = 5000.0;
        r.prefill_q8 = Some(Cost::flat(200.0));
        r.decode_q8 = Some(Cost::flat(10.0));
        let w = what_if(&s, &r, None);
        let causes = causes(&w);
        assert_eq!(causes, ["no_reloads", "cache_reused", "quantised_kv"]);
        assert!((w.recommended.savings[0].ms - 10_000.0).abs() < 1.0);
        let sum: f64 = w.recommended.savings.iter().map(|s| s.ms).sum();
        assert!((w.as_ran.predicted_ms - w.recommended.predicted_ms - sum).abs() < 1.0);
    }

    #[test]
    fn compaction_caps_the_prompt_when_depth_costs() {
        // Attention-bound: per-token cost grows with depth.
        let r = Rates {
            prefill: Cost {
                a_ms: 1.0,
                b_ms: 0.002,
                c_ms: 0.0,
            },
            decode: Cost {
                a_ms: 50.0,
                b_ms: 0.01,
                c_ms: 0.0,
            },
            ..rates(1.0, 1.0)
        };
        let s = synthetic(60, 10_000, 1000, 200);
        let w = what_if(&s, &r, Some(30_000));
        let causes = causes(&w);
        assert_eq!(causes, ["cache_reused", "compacts_in_time"], "{w:#?}");
        assert!(w.recommended.breakdown.compactions_added >= 2);
        assert_eq!(w.recommended.compact_at, Some(30_000));
    }

    /// A session that already reused its cache: the what-if finds nothing to save by reusing
    /// it (the cache held the previous prompt and the reply it wrote).
    #[test]
    fn cache_reuse_as_ran_is_not_priced_again() {
        let trips = [
            (3689u64, 0u64, 4096u64),
            (7865, 7784, 4096),
            (12041, 11960, 4096),
        ];
        let s = Session {
            round_trips: trips
                .iter()
                .map(|&(p, c, o)| RoundTrip {
                    prompt_tokens: p,
                    cached_tokens: Some(c),
                    output_tokens: o,
                    ..RoundTrip::default()
                })
                .collect(),
            ..Session::default()
        };
        let w = what_if(&s, &rates(300.0, 50.0), None);
        assert!(w.recommended.savings.is_empty(), "{w:#?}");
        assert!(
            (w.as_ran.predicted_ms - w.recommended.predicted_ms).abs() < 1.0,
            "{w:#?}"
        );
    }

    /// Helper calls between the conversation's requests (a title, a summary) take the time
    /// they took in every scenario and do not break the conversation's growth.
    #[test]
    fn side_requests_are_priced_as_they_ran() {
        let main = |p: u64, c: u64| RoundTrip {
            prompt_tokens: p,
            cached_tokens: Some(c),
            output_tokens: 100,
            ..RoundTrip::default()
        };
        let side = RoundTrip {
            prompt_tokens: 400,
            cached_tokens: Some(0),
            output_tokens: 20,
            side: true,
            ..RoundTrip::default()
        };
        // The conversation re-read its prompt every time (a busted cache).
        let s = Session {
            round_trips: vec![
                main(10_000, 0),
                side.clone(),
                main(11_100, 0),
                side.clone(),
                main(12_200, 0),
            ],
            ..Session::default()
        };
        let w = what_if(&s, &rates(100.0, 10.0), None);
        // As ran: 33,300 + 2 × 400 tokens read, 300 + 40 written.
        assert!(
            (w.as_ran.predicted_ms - (341_000.0 + 34_000.0)).abs() < 1.0,
            "{w:#?}"
        );
        // Reused: the first prompt, then 1,000 new tokens each (the cache holds the reply),
        // and the helper calls as they ran.
        assert!(
            (w.recommended.predicted_ms - (100_000.0 + 20_000.0 + 8_000.0 + 34_000.0)).abs() < 1.0,
            "{w:#?}"
        );
        assert_eq!(w.recommended.savings[0].cause, "cache_reused");
        assert_eq!(w.as_ran.requests.iter().filter(|r| r.side).count(), 2);
    }

    #[test]
    fn typical_turn_warm_beats_cold() {
        let r = rates(100.0, 10.0);
        let (warm, cold) = typical_turn(60_000, &r);
        assert!((warm - (15_000.0 + 30_000.0)).abs() < 1e-6);
        assert!((cold - (600_000.0 + 30_000.0)).abs() < 1e-6);
    }
}
