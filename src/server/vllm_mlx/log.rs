//! vllm-mlx's own log (docs/server-logs.md, "vllm-mlx"): `INFO:vllm_mlx.<module>:` lines
//! with no time. A `[REQUEST] POST` line is a request; uvicorn's access line gives its
//! status; `System KV cache MISS`/`HIT` the whole prompt and the tokens prefilled;
//! `Anthropic messages (stream): N tokens in S s` the tokens written and the request's
//! time; `Max request tokens: N` the largest `max_tokens` it accepts.

use crate::server::logline::{
    decimal_after, first_u64, uvicorn_access, LogEvent, LogFormat, Seen, Sign,
};
use crate::server::ServerKind;

/// A `vllm_mlx` logger's line on a log with nothing known yet: vllm-mlx wrote it.
pub fn detect(s: &Seen<'_, '_>) -> Option<Sign> {
    (s.unknown && s.text.contains("INFO:vllm_mlx."))
        .then_some(Sign::Proof(LogFormat::of(ServerKind::VllmMlx)))
}

/// One line of vllm-mlx's log; `None` for a line that is not its own.
pub fn read(text: &str) -> Option<LogEvent<'_>> {
    if let Some((path, status)) = uvicorn_access(text) {
        return Some(LogEvent::Access { path, status });
    }
    if let Some(r) = text.split_once("[REQUEST] POST ").map(|x| x.1) {
        let path = r.split_whitespace().next().unwrap_or("");
        return Some(LogEvent::Request { path });
    }
    if let Some(r) = text.strip_prefix("Loading model: ") {
        return Some(LogEvent::LoadModel { path: r.trim() });
    }
    if let Some(r) = text.split_once("Max request tokens: ").map(|x| x.1) {
        return Some(LogEvent::MaxRequestTokens(first_u64(r)));
    }
    if let Some((hit, r)) = text
        .split_once("System KV cache HIT")
        .map(|x| (true, x.1))
        .or_else(|| {
            text.split_once("System KV cache MISS")
                .map(|x| (false, x.1))
        })
    {
        // HIT: `reusing A [cached] tokens, prefilling B new`; MISS: `will prefill A system
        // + B suffix tokens` / `A system tokens, B suffix tokens`. The hash is hex: cut.
        let r = r.split("(hash=").next().unwrap_or(r);
        let mut nums = r
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|w| w.parse::<u64>().ok());
        return Some(match (nums.next(), nums.next()) {
            (Some(a), Some(b)) => LogEvent::PromptCache { hit, a, b },
            _ => LogEvent::Other,
        });
    }
    if let Some(r) = text.split_once("Anthropic messages").map(|x| x.1) {
        // `(stream): N tokens in S s (R tok/s)` or `: N tokens in Ss (…)`
        return Some(match r.split_once(": ") {
            Some((_, r)) => LogEvent::RequestDone {
                tokens: first_u64(r),
                secs: decimal_after(r, "tokens in"),
            },
            None => LogEvent::Other,
        });
    }
    text.contains("vllm_mlx").then_some(LogEvent::Other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(
            read("INFO:vllm_mlx.server:[REQUEST] POST /v1/messages (anthropic)"),
            Some(LogEvent::Request {
                path: "/v1/messages"
            })
        );
        assert_eq!(
            read("INFO:vllm_mlx.engine.simple:System KV cache HIT: reusing 3765 cached tokens, prefilling 149 new tokens"),
            Some(LogEvent::PromptCache {
                hit: true,
                a: 3765,
                b: 149
            })
        );
        assert_eq!(read("something else"), None);
    }
}
