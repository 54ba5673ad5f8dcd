//! vLLM's and vllm-mlx's logs (docs/server-logs.md, "vLLM" and "vllm-mlx"): their lines
//! (read by `server::vllm::log` and `server::vllm_mlx::log`) become tasks, loads, refusals
//! and vLLM's periodic throughput figures here.
//!
//! Neither log has a time per request (uvicorn's access lines carry none, vllm-mlx's lines
//! no time at all), so their tasks have no `at` and are joined to Claude Code's requests by
//! order (`join.rs`).
//!
//! - vLLM: each `POST /v1/messages` access line is a task with its HTTP status. A refusal
//!   (`This model's maximum context length is C tokens. However, your prompt contains [at
//!   least] P input tokens …`) is logged before its 400 access line and becomes that task's
//!   `overflow`. The stats line `Engine 000: Avg prompt throughput: X tokens/s, …` every
//!   `VLLM_LOG_STATS_INTERVAL` seconds (10 by default) counts the prompt tokens of the
//!   prefills that finished in the interval: X × interval is the whole prompt of the oldest
//!   request not counted yet (prefills finish in arrival order; Claude Code's requests
//!   follow one another).
//!   `Using max model len N` is the served context; the banner's `model PATH` the model.
//! - vllm-mlx: a `[REQUEST] POST /v1/messages` line is a task; its access line gives the
//!   status (a 400 without a request line is a request refused before it was read, such as
//!   `max_tokens` above `--max-request-tokens`); `System KV cache MISS`/`HIT` lines give the
//!   whole prompt and the tokens prefilled; `Anthropic messages (stream): N tokens in S s`
//!   the tokens written and the whole request's time (prefill and decode together).
//!   `Max request tokens: N` is the largest `max_tokens` it accepts.

use std::collections::VecDeque;

use super::analyze::{Load, ServerAnalysis, Task};
use crate::server::logline::LogEvent;
pub use crate::server::vllm::log::{Throughput, VLLM_STATS_INTERVAL_S};
use crate::server::ServerKind;

/// The reader's state for these two servers.
#[derive(Debug, Default)]
pub struct PyState {
    next_id: u64,
    /// vLLM: the context refusal waiting for its 400 access line.
    refusal: Option<(u64, u64)>,
    /// vLLM: `/v1/messages` tasks (ids) whose prompt no stats line has counted yet, oldest
    /// first.
    pending: Vec<u64>,
    /// vLLM: (task id, prompt tokens/s of the stats line that counted its prompt).
    sized: Vec<(u64, f64)>,
    /// vLLM: the banner's model, for the load `Using max model len` starts.
    model: Option<String>,
    /// vllm-mlx: `[REQUEST]` tasks whose access line has not come yet.
    awaiting_access: VecDeque<u64>,
}

/// One line's event, read by the kind's own reader (`a.kind` is vLLM or vllm-mlx).
pub fn event(a: &mut ServerAnalysis, st: &mut PyState, e: LogEvent<'_>) {
    match a.kind {
        ServerKind::Vllm => vllm_event(a, st, e),
        ServerKind::VllmMlx => mlx_event(a, st, e),
        _ => {}
    }
}

/// After the last line: vLLM's prompt sizes from the stats lines, at the log's interval.
pub fn finish(a: &mut ServerAnalysis, st: &mut PyState) {
    if a.kind != ServerKind::Vllm {
        return;
    }
    let interval = stats_interval_s(&a.throughput);
    a.stats_interval_s = Some(interval);
    for (id, tps) in std::mem::take(&mut st.sized) {
        if let Some(t) = task_mut(a, id) {
            // `as` saturates: a hostile figure gives u64::MAX, never a panic.
            t.prompt_tokens = Some((tps * interval).round() as u64);
        }
    }
}

/// The stats interval: the most common gap between two stats lines in a row (an active
/// interval is always followed by a logged one), else vLLM's default.
fn stats_interval_s(lines: &[Throughput]) -> f64 {
    let mut gaps: Vec<i64> = lines
        .windows(2)
        .filter_map(|w| Some(w[1].at_s? - w[0].at_s?))
        .filter(|g| (1..=3600).contains(g))
        .collect();
    if gaps.is_empty() {
        return VLLM_STATS_INTERVAL_S;
    }
    gaps.sort_unstable();
    let mut best = (0usize, gaps[0]);
    let mut i = 0;
    while i < gaps.len() {
        let j = gaps[i..].iter().take_while(|g| **g == gaps[i]).count();
        if j > best.0 {
            best = (j, gaps[i]);
        }
        i += j;
    }
    best.1 as f64
}

fn task_mut(a: &mut ServerAnalysis, id: u64) -> Option<&mut Task> {
    a.tasks.iter_mut().rev().find(|t| t.id == id)
}

fn new_task(a: &mut ServerAnalysis, st: &mut PyState, path: &str, status: u16) -> u64 {
    let id = st.next_id;
    st.next_id += 1;
    a.tasks.push(Task {
        id,
        http: Some((status, path.to_string())),
        load: a.loads.len().checked_sub(1),
        ..Task::default()
    });
    if a.tasks.len() >= 2 * super::analyze::MAX_KEPT {
        a.tasks.drain(..super::analyze::MAX_KEPT);
        a.dropped += super::analyze::MAX_KEPT as u64;
    }
    id
}

fn new_load(a: &mut ServerAnalysis, model: Option<String>, ctx: Option<u64>) {
    let mut l = Load::new_at(None, 0);
    l.model = model;
    l.n_ctx = ctx;
    if !a.loads.is_empty() {
        l.reason = super::analyze::ReloadReason::Restart;
    }
    a.loads.push(l);
    if a.loads.len() > 512 {
        a.loads.remove(0);
    }
}

/// Claude Code's requests (not `count_tokens`).
fn is_messages(path: &str) -> bool {
    path == "/v1/messages"
}

/// A model path or name as kept (at most 1024 characters).
fn kept(s: &str) -> String {
    s.chars().take(1024).collect()
}

fn vllm_event(a: &mut ServerAnalysis, st: &mut PyState, e: LogEvent<'_>) {
    match e {
        LogEvent::Access { path, status } => {
            let refusal = if status == 400 {
                st.refusal.take()
            } else {
                None
            };
            if is_messages(path) {
                let id = new_task(a, st, path, status);
                if let Some(t) = task_mut(a, id) {
                    t.overflow = refusal;
                }
                if status == 200 {
                    st.pending.push(id);
                }
            }
        }
        LogEvent::Stats(t) => {
            if t.prompt_tps > 0.0 && !st.pending.is_empty() {
                // The prompts whose prefill finished in this interval. A request's access
                // line comes before its prefill, and prefills finish in arrival order: the
                // oldest request not yet counted (two finishing in one interval count as
                // one; more than a whole context in one interval cannot be one prompt: none
                // is sized).
                let id = st.pending.remove(0);
                let ctx = a.loads.last().and_then(|l| l.n_ctx);
                if ctx.map_or(true, |c| {
                    t.prompt_tps * VLLM_STATS_INTERVAL_S <= c as f64 * 1.01
                }) {
                    st.sized.push((id, t.prompt_tps));
                }
            }
            a.throughput.push(t);
            if a.throughput.len() >= 2 * super::analyze::MAX_KEPT {
                a.throughput.drain(..super::analyze::MAX_KEPT);
            }
        }
        LogEvent::Overflow { prompt, n_ctx, .. } => st.refusal = Some((prompt, n_ctx)),
        LogEvent::MaxModelLen(ctx) => new_load(a, st.model.take(), ctx),
        LogEvent::BannerModel(m) => st.model = Some(kept(m)),
        _ => {}
    }
}

fn mlx_event(a: &mut ServerAnalysis, st: &mut PyState, e: LogEvent<'_>) {
    match e {
        LogEvent::Access { path, status } if is_messages(path) => {
            match st.awaiting_access.pop_front() {
                Some(id) => {
                    if let Some(t) = task_mut(a, id) {
                        if let Some(h) = t.http.as_mut() {
                            h.0 = status;
                        }
                    }
                }
                // Refused before its request line was logged.
                None => {
                    new_task(a, st, path, status);
                }
            }
        }
        LogEvent::Request { path } if is_messages(path) => {
            let id = new_task(a, st, path, 0);
            st.awaiting_access.push_back(id);
            if st.awaiting_access.len() > 1024 {
                st.awaiting_access.pop_front();
            }
        }
        LogEvent::LoadModel { path } => new_load(a, Some(kept(path)), None),
        LogEvent::MaxRequestTokens(n) => a.max_request_tokens = n,
        LogEvent::PromptCache { hit, a: x, b: y } => {
            if let Some(t) = a.tasks.last_mut() {
                t.prompt_tokens = Some(x.saturating_add(y));
                t.prompt_eval_tokens = Some(if hit { y } else { x.saturating_add(y) });
            }
        }
        LogEvent::RequestDone { tokens, secs } => {
            if let Some(t) = a.tasks.last_mut() {
                t.eval_tokens = tokens;
                t.total_ms = secs.map(|s| (s * 1000.0).round());
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::serverlog::analyze_bytes;

    #[test]
    fn interval_is_the_most_common_gap() {
        let at = |s| Throughput {
            at_s: Some(s),
            ..Throughput::default()
        };
        assert_eq!(stats_interval_s(&[]), 10.0);
        assert_eq!(
            stats_interval_s(&[at(0), at(5), at(10), at(100), at(105)]),
            5.0
        );
    }

    #[test]
    fn each_stats_line_sizes_the_oldest_request_not_counted() {
        let log = "(APIServer pid=1) INFO 12-07 08:00:00 [a.py:1] Using max model len 8192
INFO:     127.0.0.1:1 - \"POST /v1/messages?beta=true HTTP/1.1\" 200 OK
INFO:     127.0.0.1:2 - \"POST /v1/messages?beta=true HTTP/1.1\" 200 OK
(APIServer pid=1) INFO 12-07 08:00:10 [loggers.py:335] Engine 000: Avg prompt throughput: 100.0 tokens/s, Avg generation throughput: 1.0 tokens/s, Running: 0 reqs, Waiting: 0 reqs, GPU KV cache usage: 0.0%
(APIServer pid=1) INFO 12-07 08:00:20 [loggers.py:335] Engine 000: Avg prompt throughput: 50.0 tokens/s, Avg generation throughput: 1.0 tokens/s, Running: 0 reqs, Waiting: 0 reqs, GPU KV cache usage: 0.0%
INFO:     127.0.0.1:3 - \"POST /v1/messages?beta=true HTTP/1.1\" 200 OK
(APIServer pid=1) INFO 12-07 08:00:30 [loggers.py:335] Engine 000: Avg prompt throughput: 900.0 tokens/s, Avg generation throughput: 1.0 tokens/s, Running: 0 reqs, Waiting: 0 reqs, GPU KV cache usage: 0.0%
";
        let a = analyze_bytes(log.as_bytes());
        let p: Vec<_> = a.tasks.iter().map(|t| t.prompt_tokens).collect();
        // The third interval holds more than a whole context: not one prompt.
        assert_eq!(p, vec![Some(1000), Some(500), None]);
        assert_eq!(a.loads[0].n_ctx, Some(8192));
        assert_eq!(a.throughput[0].prefix_hit_pct, None);
    }

    /// Real vLLM 0.32.0 (CPU build) log: two Claude Code 2.1.332 `-p` runs, a prompt over
    /// the context (refused), a 20 010-token prompt (tests/fixtures/server-logs/README.md).
    const VLLM: &str =
        include_str!("../../../tests/fixtures/server-logs/vllm-0.32.0-cpu-claude.log");
    /// Real vllm-mlx 0.6.0 log: two Claude Code runs (a MISS, then a HIT), a `max_tokens`
    /// over the server's limit (refused), a chat completion.
    const VLLM_MLX: &str =
        include_str!("../../../tests/fixtures/server-logs/vllm-mlx-0.6.0-claude.log");

    #[test]
    fn real_vllm_log() {
        let a = analyze_bytes(VLLM.as_bytes());
        assert_eq!(a.kind, ServerKind::Vllm);
        assert_eq!(a.loads.len(), 1);
        assert_eq!(a.loads[0].n_ctx, Some(32_768));
        assert_eq!(a.loads[0].model.as_deref(), Some("/models/gemma-3-270m"));
        let st: Vec<u16> = a.tasks.iter().map(|t| t.http.as_ref().unwrap().0).collect();
        assert_eq!(st, vec![200, 200, 400, 200]);
        assert!(a.tasks.iter().all(|t| t.at.is_none()));
        // 392.8, 392.3 and 2001.0 tokens/s over 10 s: the client's own count of the last
        // prompt was 20 010 input tokens.
        assert_eq!(a.stats_interval_s, Some(10.0));
        let p: Vec<_> = a.tasks.iter().map(|t| t.prompt_tokens).collect();
        assert_eq!(p, vec![Some(3928), Some(3923), None, Some(20_010)]);
        assert_eq!(a.tasks[2].overflow, Some((32_769, 32_768)));
        assert_eq!(a.throughput.len(), 4);
        let last = a.throughput.last().unwrap();
        assert_eq!((last.prompt_tps, last.generation_tps), (2001.0, 0.7));
        assert_eq!((last.running, last.waiting), (Some(0), Some(0)));
        assert_eq!(last.prefix_hit_pct, Some(0.0));
        assert_eq!(a.throughput[2].kv_usage_pct, Some(1.8));
        let f = crate::logs::serverlog::findings(&a, crate::logs::serverlog::Window::all());
        let t = f
            .iter()
            .find(|f| f.id == "prompt_truncated")
            .expect("refusal");
        assert!(
            t.detail.contains("32769 tokens > context 32768"),
            "{}",
            t.detail
        );
        let c = f
            .iter()
            .find(|f| f.id == "prompt_cache_not_reused")
            .expect("0% hit rate");
        assert_eq!(c.severity, crate::findings::Severity::Info);
    }

    #[test]
    fn real_vllm_mlx_log() {
        let a = analyze_bytes(VLLM_MLX.as_bytes());
        assert_eq!(a.kind, ServerKind::VllmMlx);
        assert_eq!(a.max_request_tokens, Some(32_768));
        assert_eq!(a.loads.len(), 1);
        assert_eq!(a.loads[0].model.as_deref(), Some("/models/tiny-hi"));
        let st: Vec<u16> = a.tasks.iter().map(|t| t.http.as_ref().unwrap().0).collect();
        assert_eq!(st, vec![200, 200, 400]);
        let t = &a.tasks[0];
        assert_eq!(
            (
                t.prompt_tokens,
                t.prompt_eval_tokens,
                t.eval_tokens,
                t.total_ms
            ),
            (Some(3913), Some(3913), Some(2), Some(8060.0))
        );
        let t = &a.tasks[1];
        assert_eq!(
            (
                t.prompt_tokens,
                t.cached_tokens(),
                t.eval_tokens,
                t.total_ms
            ),
            (Some(3914), Some(3765), Some(2), Some(2830.0))
        );
        // Refused before its request line: nothing but the status.
        assert_eq!(a.tasks[2].prompt_tokens, None);
    }

    #[test]
    fn what_if_rates_from_the_real_logs() {
        // vllm-mlx times whole requests: 8060 ms for 3913 tokens prefilled, 2830 ms for 149
        // (both wrote 2): 1.389 ms a token and 2.6 s per request.
        let r = crate::predict::from_server::rates(&analyze_bytes(VLLM_MLX.as_bytes()))
            .expect("rates from vllm-mlx's log");
        assert!(r.source.contains("request times"), "{}", r.source);
        assert!((r.prefill.a_ms - 1.389).abs() < 0.01, "{:?}", r.prefill);
        assert!((r.prefill.c_ms - 2620.0).abs() < 10.0, "{:?}", r.prefill);
        // vLLM's log times no request.
        assert!(crate::predict::from_server::rates(&analyze_bytes(VLLM.as_bytes())).is_none());
    }

    /// Hostile lines: no panic, nothing absurd taken as a time.
    #[test]
    fn hostile_lines() {
        let big = "9".repeat(40);
        let log = format!(
            "(APIServer pid=1) INFO 99-99 99:99:99 [a.py:1] Using max model len {big}
(APIServer pid=1) INFO 12-07 08:00:10 [loggers.py:335] Engine 000: Avg prompt throughput: 1e308 tokens/s, Avg generation throughput: -5 tokens/s, Running: x reqs
INFO:     127.0.0.1:1 - \"POST /v1/messages HTTP/1.1\" 99999999 OK
INFO:     127.0.0.1:1 - \"POST /v1/messages HTTP/1.1\" 200 OK
(APIServer pid=1) ERROR 12-07 08:00:10 [a.py:1] This model's maximum context length is {big} tokens.
(APIServer pid=1) INFO 12-07 08:00:20 [loggers.py:335] Engine 000: Avg prompt throughput: {big}.0 tokens/s
"
        );
        let a = analyze_bytes(log.as_bytes());
        assert_eq!(a.kind, ServerKind::Vllm);
        let mlx = format!(
            "INFO:vllm_mlx.server:[REQUEST] POST /v1/messages (anthropic)
INFO:vllm_mlx.engine.simple:System KV cache HIT: reusing {m} cached tokens, prefilling {m} new tokens
INFO:vllm_mlx.engine.simple:System KV cache MISS
INFO:vllm_mlx.server:Anthropic messages: tokens in s
INFO:vllm_mlx.server:Max request tokens: {big}
",
            m = u64::MAX
        );
        let a = analyze_bytes(mlx.as_bytes());
        assert_eq!(a.tasks[0].prompt_tokens, Some(u64::MAX));
        assert_eq!(a.max_request_tokens, None);
    }
}
