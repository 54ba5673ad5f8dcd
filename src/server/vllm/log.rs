//! vLLM's own log (`vllm serve`; docs/server-logs.md, "vLLM"): uvicorn's access lines (the
//! requests, with their status and no time), the context refusal logged before its 400,
//! the served context (`Using max model len N`), the banner's model, and the periodic
//! stats line `Engine 000: Avg prompt throughput: X tokens/s, …` every
//! `VLLM_LOG_STATS_INTERVAL` seconds.

use crate::server::logline::{
    decimal_after, first_u64, uvicorn_access, LogEvent, LogFormat, Seen, Sign,
};
use crate::server::ServerKind;

/// One of vLLM's periodic stats lines (`vllm/v1/metrics/loggers.py`, `LoggingStatLogger`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Throughput {
    /// Seconds since the start of the year of the line's `MM-DD HH:MM:SS` (local time).
    pub at_s: Option<i64>,
    /// Prompt tokens whose prefill finished in the interval, per second of the interval.
    pub prompt_tps: f64,
    pub generation_tps: f64,
    pub running: Option<u64>,
    pub waiting: Option<u64>,
    /// `GPU KV cache usage` / `CPU KV cache usage`, percent.
    pub kv_usage_pct: Option<f64>,
    /// Over vLLM's recent requests (its own sliding window), percent.
    pub prefix_hit_pct: Option<f64>,
}

/// vLLM's default `VLLM_LOG_STATS_INTERVAL` (seconds; `vllm/envs.py`).
pub const VLLM_STATS_INTERVAL_S: f64 = 10.0;

/// vLLM's process prefix (`(APIServer pid=N)`, `(EngineCore_DP0 pid=N)`) on a line with
/// nothing known yet: vLLM wrote the log.
pub fn detect(s: &Seen<'_, '_>) -> Option<Sign> {
    let ours =
        s.unknown && (s.text.starts_with("(APIServer pid=") || s.text.starts_with("(EngineCore"));
    ours.then_some(Sign::Proof(LogFormat::of(ServerKind::Vllm)))
}

/// One line of vLLM's log; `None` for a line that is not vLLM's own (not prefixed, not
/// uvicorn's).
pub fn read(text: &str) -> Option<LogEvent<'_>> {
    if let Some((path, status)) = uvicorn_access(text) {
        return Some(LogEvent::Access { path, status });
    }
    if !text.starts_with('(') {
        return (text.starts_with("INFO:") || text.starts_with("WARNING:"))
            .then_some(LogEvent::Other);
    }
    if let Some(r) = text.split_once("Avg prompt throughput:").map(|x| x.1) {
        return Some(LogEvent::Stats(Throughput {
            at_s: stamp(text),
            prompt_tps: decimal_after(r, "").unwrap_or(0.0),
            generation_tps: decimal_after(r, "Avg generation throughput:").unwrap_or(0.0),
            running: decimal_after(r, "Running:").map(|v| v as u64),
            waiting: decimal_after(r, "Waiting:")
                .or_else(|| decimal_after(r, "Pending:"))
                .map(|v| v as u64),
            kv_usage_pct: decimal_after(r, "KV cache usage:"),
            prefix_hit_pct: decimal_after(r, "Prefix cache hit rate:"),
        }));
    }
    if let Some(r) = text.split_once("maximum context length is ").map(|x| x.1) {
        // `C tokens. However, your prompt contains [at least] P input tokens` (or `P
        // characters (more than …)`: the prompt is then over C tokens, count unknown).
        let ctx = first_u64(r);
        let prompt = r
            .split_once("your prompt contains ")
            .map(|x| x.1.trim_start_matches("at least "))
            .filter(|p| {
                p.split_whitespace()
                    .nth(1)
                    .is_some_and(|w| w.starts_with("input"))
            })
            .and_then(first_u64);
        return Some(match ctx {
            Some(n_ctx) => LogEvent::Overflow {
                task: None,
                prompt: prompt.unwrap_or(n_ctx.saturating_add(1)),
                n_ctx,
            },
            None => LogEvent::Other,
        });
    }
    if let Some(r) = text.split_once("Using max model len ").map(|x| x.1) {
        return Some(LogEvent::MaxModelLen(first_u64(r)));
    }
    if let Some(r) = text.split_once("  model   ").map(|x| x.1) {
        return Some(LogEvent::BannerModel(r.trim()));
    }
    Some(LogEvent::Other)
}

/// `(APIServer pid=N) INFO 12-07 08:09:12 [file.py:335] …` → seconds since the year's start.
fn stamp(text: &str) -> Option<i64> {
    let r = text.split_once(") ")?.1;
    let mut w = r.split_whitespace();
    w.next()?; // level
    let date = w.next()?;
    let time = w.next()?;
    let (mo, d) = date.split_once('-')?;
    let mut hms = time.split(':').map(|x| x.parse::<i64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    let (mo, d) = (mo.parse::<i64>().ok()?, d.parse::<i64>().ok()?);
    let ok = (1..=12).contains(&mo)
        && (1..=31).contains(&d)
        && (0..24).contains(&h)
        && (0..60).contains(&m)
        && (0..=60).contains(&s);
    ok.then_some((((mo * 31 + d) * 24 + h) * 60 + m) * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps() {
        assert_eq!(
            stamp("(APIServer pid=1) INFO 12-07 08:09:12 [loggers.py:335] x"),
            Some((((12 * 31 + 7) * 24 + 8) * 60 + 9) * 60 + 12)
        );
        assert_eq!(
            stamp("(APIServer pid=1) INFO 99-99 99:99:99 [a.py:1] x"),
            None
        );
    }

    /// A context length of `u64::MAX` with no prompt count: the refusal says "over the
    /// context" without overflowing (`C + 1` panicked in a debug build).
    #[test]
    fn refusal_at_the_largest_context_does_not_overflow() {
        let line = format!(
            "(APIServer pid=1) ERROR 12-07 08:00:10 [a.py:1] This model's maximum context length is {} tokens.",
            u64::MAX
        );
        assert_eq!(
            read(&line),
            Some(LogEvent::Overflow {
                task: None,
                prompt: u64::MAX,
                n_ctx: u64::MAX
            })
        );
    }
}
