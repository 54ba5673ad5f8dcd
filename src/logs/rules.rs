//! Findings from an analysis: pure functions, testable with hand-made analyses.
//!
//! Ids (shared with `cclocal doctor` where the doctor has the same check; one severity per id,
//! `crate::findings::SEVERITIES`):
//! - `context_mismatch` (error): the last `effectiveWindow=` exceeds the server context given
//!   with `--server-ctx`; Claude Code lets the prompt grow past what the server keeps, so the
//!   server truncates it before Claude Code compacts. `ok` when it fits.
//! - `context_unknown` (info): the comparison could not run (the log has no `effectiveWindow`,
//!   or the model is not loaded on the server given with `--host`).
//! - `model_missing` (error): a main-thread, agent or compaction request got 404.
//! - `background_model_missing` (warning): a helper call (title, suggestions, …) or the
//!   count-tokens haiku fallback got 404: its model is not on the server.
//! - `count_tokens_unavailable` (info): the server has no `/v1/messages/count_tokens`;
//!   Claude Code estimates locally (2.1.332) or falls back to a message call (≤ 2.1.197).
//! - `prompt_cache_not_reused` (warning): the first-byte wait of main-thread requests grows
//!   as the conversation grows: the server re-reads the whole prompt each turn.
//! - `cache_buster` (warning, as in the doctor; the title says when its value changed within
//!   the log): Claude Code sends the attribution (billing) header, whose changes alter the prompt's first bytes
//!   and defeat a local server's prompt cache.
//! - `retries` (warning): API errors that Claude Code retried, and stream retries.
//! - `timeouts` (warning): slow first bytes (no chunk within `CLAUDE_SLOW_FIRST_BYTE_MS`, default
//!   30 s), timed-out requests, stream
//!   stalls and idle-timeout stream retries.

use super::model::{Analysis, Request, SourceKind};
use super::time::human_ms;
use crate::claude::{env_line, recommend, Version, LATEST_KNOWN};
use crate::findings::{Finding, Severity};

/// Inputs beyond the log itself.
#[derive(Debug, Clone, Default)]
pub struct RuleOptions {
    /// The server's context length (`num_ctx` / `n_ctx`), when known.
    pub server_ctx: Option<u64>,
}

/// A first-byte wait counts as growing when the late median is at least this many times the
/// early one, and at least `GROWTH_MIN_MS` longer.
const GROWTH_FACTOR: u64 = 2;
const GROWTH_MIN_MS: u64 = 2000;
/// Main-thread requests with a first byte needed to judge growth.
const GROWTH_MIN_REQUESTS: usize = 4;

pub fn findings(a: &Analysis, opts: &RuleOptions) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(context_mismatch(a, opts));
    out.extend(missing_models(a));
    out.extend(prompt_cache(a));
    out.extend(cache_buster(a));
    out.extend(retries(a));
    out.extend(timeouts(a));
    out
}

/// The Claude Code version that wrote the log, from the `cc_version=` of its attribution
/// header (`2.1.332.fb8`), when it carried one.
fn version_seen(a: &Analysis) -> Option<Version> {
    a.summary.attribution_values.iter().find_map(|v| {
        let mut it = v.split('.');
        let core = [it.next()?, it.next()?, it.next()?].join(".");
        core.parse().ok()
    })
}

/// The environment that gives this log's Claude Code the server's window (the version from
/// the log, else the newest known), as an `export` line.
fn window_fix(a: &Analysis, ctx: u64) -> String {
    let (version, assumed) = match version_seen(a) {
        Some(v) => (v, ""),
        None => (
            LATEST_KNOWN,
            " (for the newest Claude Code; `cclocal plan` computes them for yours)",
        ),
    };
    let model = a
        .requests
        .iter()
        .find_map(|r| r.model.clone())
        .map(|m| m.to_string())
        .unwrap_or_default();
    format!(
        "export {}{assumed}",
        env_line(&recommend(version, ctx, &model).env)
    )
}

fn context_mismatch(a: &Analysis, opts: &RuleOptions) -> Option<Finding> {
    let ctx = opts.server_ctx?;
    let Some(win) = a.summary.effective_window else {
        return Some(
            Finding::new(
                "context_unknown",
                Severity::Info,
                "no autocompact line in this log",
            )
            .detail(format!(
                "Claude Code logged no window (no effectiveWindow line), so the log cannot be \
                     compared with the server context of {ctx} tokens (2.1.153–2.1.222 print none for an \
                     unknown model, and run no proactive compaction at all)"
            ))
            .fix(window_fix(a, ctx)),
        );
    };
    if win <= ctx {
        return Some(Finding::new(
            "context_mismatch",
            Severity::Ok,
            format!("effective window {win} fits the server context {ctx}"),
        ));
    }
    Some(
        Finding::new(
            "context_mismatch",
            Severity::Error,
            format!("Claude Code assumes {win} tokens but the server holds {ctx}"),
        )
        .detail(format!(
            "Claude Code plans with a {win}-token window (effectiveWindow={win} in the log) and \
             compacts near {} tokens, so the prompt \
             outgrows the server's {ctx}-token context first and the server drops its start",
            win.saturating_sub(13_000)
        ))
        .fix(window_fix(a, ctx)),
    )
}

fn missing_models(a: &Analysis) -> Vec<Finding> {
    let mut main: Vec<String> = Vec::new();
    let mut background: Vec<String> = Vec::new();
    let (mut n_main, mut n_bg, mut n_count) = (0u64, 0u64, 0u64);
    for (k, n) in &a.summary.failures {
        if k.status != Some(404) {
            continue;
        }
        let name = k
            .model
            .as_deref()
            .unwrap_or("(model not logged)")
            .to_string();
        if k.endpoint.ends_with("/count_tokens") {
            n_count += n;
            continue;
        }
        let (list, count) = match k.kind {
            SourceKind::Main | SourceKind::Agent | SourceKind::Compact => (&mut main, &mut n_main),
            SourceKind::Background | SourceKind::CountTokens => (&mut background, &mut n_bg),
        };
        *count += n;
        if !list.contains(&name) {
            list.push(name);
        }
    }
    let mut out = Vec::new();
    if n_main > 0 {
        out.push(
            Finding::new(
                "model_missing",
                Severity::Error,
                format!("the server does not have {}", main.join(", ")),
            )
            .detail(format!("{n_main} main-thread request(s) got 404"))
            .fix(format!(
                "ollama pull {} (or set ANTHROPIC_MODEL to a model the server has)",
                main[0]
            )),
        );
    }
    if n_bg > 0 {
        out.push(
            Finding::new(
                "background_model_missing",
                Severity::Warning,
                format!(
                    "helper calls use {}, which the server does not have",
                    background.join(", ")
                ),
            )
            .detail(format!(
                "{n_bg} background or haiku-fallback request(s) got 404; titles, suggestions and \
                 token estimates fail quietly"
            ))
            .fix(
                "export ANTHROPIC_DEFAULT_HAIKU_MODEL=<a model the server has> (or pull the \
                 missing model)",
            ),
        );
    }
    if n_count > 0 {
        out.push(
            Finding::new(
                "count_tokens_unavailable",
                Severity::Info,
                "the server has no /v1/messages/count_tokens",
            )
            .detail(format!(
                "{n_count} count-tokens call(s) got 404; Claude Code estimates token counts \
                 locally (only /context-style breakdowns are affected)"
            )),
        );
    }
    out
}

fn median(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// First-byte waits of main-thread requests, in order.
fn main_waits(requests: &[Request]) -> Vec<u64> {
    requests
        .iter()
        .filter(|r| r.kind == SourceKind::Main)
        .filter_map(|r| r.first_byte_ms)
        .collect()
}

fn prompt_cache(a: &Analysis) -> Option<Finding> {
    let w = main_waits(&a.requests);
    if w.len() < GROWTH_MIN_REQUESTS {
        return None;
    }
    let k = (w.len() / 3).max(1);
    let early = median(&mut w[..k].to_vec());
    let late = median(&mut w[w.len() - k..].to_vec());
    let rising = w.windows(2).filter(|p| p[1] >= p[0]).count();
    let grows = late >= early.saturating_mul(GROWTH_FACTOR)
        && late >= early + GROWTH_MIN_MS
        && rising * 10 >= (w.len() - 1) * 6;
    if !grows {
        return None;
    }
    Some(
        Finding::new(
            "prompt_cache_not_reused",
            Severity::Warning,
            format!(
                "first-byte wait grew from {} to {}",
                human_ms(w[0]),
                human_ms(w[w.len() - 1])
            ),
        )
        .detail(format!(
            "over {} main-thread requests the wait before the first token kept growing with the \
             conversation: the server re-reads the whole prompt instead of reusing its cache",
            w.len()
        ))
        .fix(
            "export CLAUDE_CODE_ATTRIBUTION_HEADER=0 CLAUDE_CODE_TOTAL_TOKENS_REMINDER=off; keep \
             one model loaded (OLLAMA_MAX_LOADED_MODELS, OLLAMA_KEEP_ALIVE) and OLLAMA_NUM_PARALLEL=1",
        ),
    )
}

fn cache_buster(a: &Analysis) -> Option<Finding> {
    let s = &a.summary;
    if s.attribution_headers == 0 {
        return None;
    }
    let v = &s.attribution_values;
    let shown = v
        .iter()
        .take(3)
        .map(|s| s.as_ref())
        .collect::<Vec<_>>()
        .join(", ");
    // One severity with the doctor's (findings::SEVERITIES): the header being on is the
    // problem, whether or not this session already saw it change.
    let title = if v.len() > 1 {
        format!("the attribution header took {} different values", v.len())
    } else {
        "the attribution header is on".to_string()
    };
    Some(
        Finding::new("cache_buster", Severity::Warning, title)
            .detail(format!(
                "{} request(s) carried the billing header (cc_version={shown}); it sits at the \
                 start of the prompt, and each change of it makes a local server re-read the \
                 whole prompt instead of reusing its cache (ollama/ollama#14918)",
                s.attribution_headers
            ))
            .fix("export CLAUDE_CODE_ATTRIBUTION_HEADER=0"),
    )
}

fn retries(a: &Analysis) -> Option<Finding> {
    let s = &a.summary;
    if s.retries == 0 {
        return None;
    }
    Some(
        Finding::new(
            "retries",
            Severity::Warning,
            format!("{} request(s) were retried", s.retries),
        )
        .detail(format!(
            "{} API error line(s); retried errors are timeouts, overload (429/5xx) or \
                 dropped connections",
            s.api_errors
        ))
        .fix(
            "check the server log for crashes or out-of-memory reloads; a smaller context or \
                 model keeps it responsive (`cclocal plan`)",
        ),
    )
}

fn timeouts(a: &Analysis) -> Option<Finding> {
    let s = &a.summary;
    let n = s.slow_first_bytes + s.api_timeouts + s.stream_timeouts + s.stalls;
    if n == 0 {
        return None;
    }
    let mut parts = Vec::new();
    if s.slow_first_bytes > 0 {
        parts.push(format!(
            "{} slow first byte warning(s) (no chunk within CLAUDE_SLOW_FIRST_BYTE_MS, default 30 s)",
            s.slow_first_bytes
        ));
    }
    if s.api_timeouts > 0 {
        parts.push(format!("{} timed-out request(s)", s.api_timeouts));
    }
    if s.stream_timeouts > 0 {
        parts.push(format!("{} idle stream timeout(s)", s.stream_timeouts));
    }
    if s.stalls > 0 {
        parts.push(format!(
            "{} stream stall(s), {} in all",
            s.stalls,
            human_ms(s.stall_ms)
        ));
    }
    Some(
        Finding::new(
            "timeouts",
            Severity::Warning,
            "the server was slow to answer",
        )
        .detail(parts.join("; "))
        .fix(
            "a long first-byte wait is prompt processing: shrink the context or reuse the \
                 prompt cache (CLAUDE_CODE_ATTRIBUTION_HEADER=0); raise API_TIMEOUT_MS if \
                 requests time out",
        ),
    )
}
