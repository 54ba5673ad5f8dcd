//! The per-request model and the analysis result. Plain data; the CLI formats it.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::parse::CompactLevel;

/// What a request was for, from its `source=` and path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    /// The conversation itself: `sdk` (`-p`), `repl_main_thread…` (interactive).
    Main,
    /// A sub-agent: `agent:…`.
    Agent,
    /// The summary request of a compaction: `compact`.
    Compact,
    /// Token counting: the `count_tokens` endpoint, or `source=count_tokens` (haiku fallback).
    CountTokens,
    /// Any other helper call: `generate_session_title`, `prompt_suggestion`, …
    Background,
}

impl SourceKind {
    pub fn of(source: &str, path: &str) -> SourceKind {
        if path.ends_with("/count_tokens") || source == "count_tokens" {
            SourceKind::CountTokens
        } else if source == "sdk" || source.starts_with("repl_main_thread") {
            SourceKind::Main
        } else if source.starts_with("agent:") || source == "agent" {
            SourceKind::Agent
        } else if source == "compact" || source.ends_with("_compact") {
            SourceKind::Compact
        } else {
            SourceKind::Background
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Main => "main",
            SourceKind::Agent => "agent",
            SourceKind::Compact => "compact",
            SourceKind::CountTokens => "count_tokens",
            SourceKind::Background => "background",
        }
    }
}

/// One `[API REQUEST]` line and what the following lines say about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// When the request line was written (ms since the epoch).
    pub sent_ms: i64,
    pub path: Rc<str>,
    pub source: Rc<str>,
    pub kind: SourceKind,
    /// From the `dispatching to … model=` line just before it (2.1.197+), or the model a
    /// failure names; `None` when the log does not say.
    pub model: Option<Rc<str>>,
    /// Wait from the request line to the first stream chunk: `first byte after Nms` when
    /// logged (2.1.197+), else the time between the request and `Stream started` lines.
    pub first_byte_ms: Option<u64>,
    /// When the first chunk arrived.
    pub first_byte_at: Option<i64>,
    /// First chunk to the end of the stream, where a later line marks the end (a stall
    /// summary, the turn's end, the compaction's end, or the next request of the same main
    /// thread, so tool time between requests of one turn is included). `None` when unknown.
    pub stream_ms: Option<u64>,
    /// HTTP status: the error's status, 200 once a stream started, `None` when not logged.
    pub status: Option<u16>,
    /// An error line was attributed to this request.
    pub failed: bool,
    /// Attempt number: from `API error (attempt n/m)`, or one more than the failed attempt of
    /// the same source just before it.
    pub attempts: u32,
    /// A `Slow first byte` warning was logged while it waited.
    pub slow_first_byte: bool,
    /// `Streaming stall detected` warnings while it streamed.
    pub stalls: u32,
    /// The prompt size of the `autocompact: tokens=` line before it (≤ 2.1.126), if any.
    pub prompt_tokens: Option<u64>,
}

impl Request {
    /// Streamed requests: the ones whose first byte is logged.
    pub fn streams(&self) -> bool {
        self.kind != SourceKind::CountTokens
    }
}

/// A failed response, by endpoint, source, model and status.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FailureKey {
    pub endpoint: Rc<str>,
    pub source: Rc<str>,
    pub kind: SourceKind,
    pub model: Option<Rc<str>>,
    pub status: Option<u16>,
}

/// Everything the log said, summed up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Lines read (all), entries (with the timestamp prefix), and lines without a prefix.
    pub lines: u64,
    pub entries: u64,
    pub continuation_lines: u64,
    pub first_ts_ms: Option<i64>,
    pub last_ts_ms: Option<i64>,
    /// Last timestamp minus first.
    pub wall_ms: u64,
    /// `[API REQUEST]` lines.
    pub requests: u64,
    /// `API error (attempt …)` lines.
    pub api_errors: u64,
    /// Failed responses with status 404 (each counted once, not the follow-up lines).
    pub not_found_404: u64,
    /// Failed responses by endpoint/source/model/status, with counts.
    pub failures: BTreeMap<FailureKey, u64>,
    /// Sum of `first_byte_ms` over requests (prefill and queueing).
    pub first_byte_ms_total: u64,
    /// Sum of `stream_ms` over requests where it is known.
    pub stream_ms_total: u64,
    /// `[API REQUEST]` lines by source, in order of first appearance.
    pub by_source: Vec<(Rc<str>, SourceKind, u64)>,
    /// Requests by model (where known), in order of first appearance.
    pub by_model: Vec<(Rc<str>, u64)>,
    /// Last `effectiveWindow=` value.
    pub effective_window: Option<u64>,
    /// Last `threshold=` value (old format, ≤ 2.1.121).
    pub threshold: Option<u64>,
    /// Last unredacted `tokens=` value (≤ 2.1.126).
    pub autocompact_tokens: Option<u64>,
    /// Last and highest `level=` value (2.1.122+).
    pub autocompact_level: Option<CompactLevel>,
    pub autocompact_level_max: Option<CompactLevel>,
    /// `autocompact: tokens=…` lines.
    pub autocompact_lines: u64,
    /// `thresholdSource=` of the last `routing through reactive` line.
    pub threshold_source: Option<Rc<str>>,
    /// The model named by the `[autocompact] "<model>" isn't described …` warning.
    pub unknown_model: Option<Rc<str>>,
    /// Requests with `source=compact`.
    pub compactions: u64,
    /// `Forked agent [...compact...] finished` lines.
    pub compaction_summaries: u64,
    /// API errors that Claude Code retries (no status, 408, 409, 429, 5xx) before its last
    /// attempt, plus `retrying streaming` warnings.
    pub retries: u64,
    /// Timeouts: `Slow first byte` warnings, timed-out API errors, idle-timeout stream retries.
    pub slow_first_bytes: u64,
    pub api_timeouts: u64,
    pub stream_timeouts: u64,
    /// `Streaming stall detected` warnings and their summed gaps.
    pub stalls: u64,
    pub stall_ms: u64,
    /// `[engine] turn N end` lines, and the last usage they printed (cumulative per session).
    pub turns: u64,
    pub usage_in: Option<u64>,
    pub usage_out: Option<u64>,
    /// `attribution header` lines, and the distinct `cc_version` values they carried.
    pub attribution_headers: u64,
    pub attribution_values: Vec<Rc<str>>,
    /// Entries at ERROR and WARN level.
    pub error_lines: u64,
    pub warn_lines: u64,
    /// Lines longer than the reader's cap (`crate::logs::read::MAX_LINE`): skipped, counted.
    pub long_lines_skipped: u64,
    /// The oldest requests left out of `Analysis::requests` (kept: the most recent
    /// `crate::logs::analyze::MAX_REQUESTS`); the totals include them.
    pub requests_dropped: u64,
    /// Counts left out of `by_source`, `by_model` and `failures` once they hold
    /// `crate::logs::analyze::MAX_ROWS` rows.
    pub rows_dropped: u64,
}

impl Summary {
    /// Wall time not spent waiting for first bytes or streaming (never negative; parallel
    /// requests can overlap).
    pub fn other_ms(&self) -> u64 {
        self.wall_ms
            .saturating_sub(self.first_byte_ms_total)
            .saturating_sub(self.stream_ms_total)
    }

    /// Failures (all statuses) and 404s per endpoint.
    pub fn failures_by_endpoint(&self) -> Vec<(Rc<str>, u64, u64)> {
        let mut out: Vec<(Rc<str>, u64, u64)> = Vec::new();
        for (k, n) in &self.failures {
            let nf = if k.status == Some(404) { *n } else { 0 };
            match out.iter_mut().find(|(e, _, _)| *e == k.endpoint) {
                Some(row) => {
                    row.1 += n;
                    row.2 += nf;
                }
                None => out.push((k.endpoint.clone(), *n, nf)),
            }
        }
        out
    }
}

/// The result of reading one log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Analysis {
    pub requests: Vec<Request>,
    pub summary: Summary,
}
