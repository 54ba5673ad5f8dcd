//! The streaming state machine: feed it parsed entries in file order, then `finish`.
//!
//! Claude Code writes no request id next to its timing and error lines, so each such line is
//! matched to a request by what it can belong to: first bytes and API errors to the oldest
//! streamed request still waiting, count-tokens failures to the oldest waiting count-tokens
//! call, haiku-fallback failures to the oldest waiting `source=count_tokens` message call.
//! That matches Claude Code's own order for sequential calls and stays sane for parallel ones.
//!
//! Memory is bounded whatever the log: the request list keeps the most recent
//! [`MAX_REQUESTS`] (older ones are folded into the totals and counted in
//! `Summary::requests_dropped`), the in-flight lists are capped, names are interned and cut
//! to [`MAX_NAME`] bytes, and the per-source, per-model and failure tables have a row cap.
//! Every per-line step is O(1) or bounded by a constant, so the read is linear.

use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use super::model::{Analysis, FailureKey, Request, SourceKind, Summary};
use super::parse::{model_in_error, Entry, Event, Line};

/// Requests still waiting for an answer are forgotten past this many (a successful
/// count-tokens call logs no answer at all), so a long log stays linear.
const MAX_WAITING: usize = 256;
/// Distinct attribution-header values kept.
const MAX_ATTRIBUTION: usize = 32;
/// Requests kept in the list (the most recent ones).
pub const MAX_REQUESTS: usize = 32 * 1024;
/// Streams seen starting and not yet ending, at most (a stream whose end is never logged
/// would otherwise stay forever).
const MAX_STREAMING: usize = 256;
/// Longest name (path, source, model) kept, in bytes; longer ones are cut.
pub const MAX_NAME: usize = 160;
/// Rows of `by_source`, `by_model` and `failures` at most.
pub const MAX_ROWS: usize = 256;
/// Distinct interned strings at most.
const MAX_INTERNED: usize = 4096;

/// Bookkeeping of one kept request.
#[derive(Default, Clone, Copy)]
struct Flags {
    /// Its first byte came with an explicit `first byte after Nms`.
    first_byte_explicit: bool,
    /// It is in `streaming`.
    streaming: bool,
}

#[derive(Default, Clone)]
pub struct Analyzer {
    strings: HashMap<Box<str>, Rc<str>>,
    /// The most recent requests; `requests[0]` has the absolute index `base`.
    requests: VecDeque<(Request, Flags)>,
    base: usize,
    /// Totals of the requests dropped from the front of `requests`.
    dropped_first_byte_ms: u64,
    dropped_stream_ms: u64,
    /// Absolute indices of requests with no first byte and no failure yet, oldest first.
    waiting: VecDeque<usize>,
    /// Absolute indices of requests whose stream started and has not been seen ending.
    streaming: VecDeque<usize>,
    pending_model: Option<Rc<str>>,
    /// The last unredacted `autocompact: tokens=` value, for the next request.
    pending_tokens: Option<u64>,
    last_stream_started: Option<usize>,
    /// Attempt number of the next request of a source, after a retryable failure.
    retry_next: HashMap<Rc<str>, u32>,
    last_failed: Option<usize>,
    /// `countTokens API call failed` lines not yet followed by their `returned null` line.
    count_failed_unpaired: u64,
    /// Status of the last `Error: Error: <status>` line (2.1.121's only trace of a 404).
    generic_status: Option<u16>,
    by_source: Vec<(Rc<str>, SourceKind, u64)>,
    by_model: Vec<(Rc<str>, u64)>,
    s: Summary,
}

impl Analyzer {
    pub fn new() -> Self {
        Self::default()
    }

    fn intern(&mut self, s: &str) -> Rc<str> {
        let s = cut(s, MAX_NAME);
        if let Some(r) = self.strings.get(s) {
            return r.clone();
        }
        let r: Rc<str> = Rc::from(s);
        // Bounded: a pathological log with endless distinct names stops being interned.
        if self.strings.len() < MAX_INTERNED {
            self.strings.insert(Box::from(s), r.clone());
        }
        r
    }

    /// The kept request with absolute index `i` (`None` once dropped).
    fn req(&self, i: usize) -> Option<&Request> {
        self.requests.get(i.checked_sub(self.base)?).map(|(r, _)| r)
    }

    fn flags(&self, i: usize) -> Option<Flags> {
        self.requests
            .get(i.checked_sub(self.base)?)
            .map(|(_, f)| *f)
    }

    fn req_mut(&mut self, i: usize) -> Option<&mut (Request, Flags)> {
        let k = i.checked_sub(self.base)?;
        self.requests.get_mut(k)
    }

    /// Over-long lines the reader skipped (counted in the summary).
    pub fn skipped_long_lines(&mut self, n: u64) {
        self.s.long_lines_skipped += n;
    }

    /// Streams in flight now (tests: the list stays bounded).
    pub fn in_flight(&self) -> (usize, usize, usize) {
        (
            self.waiting.len(),
            self.streaming.len(),
            self.requests.len(),
        )
    }

    /// Requests seen so far, dropped ones included: the next request's absolute index.
    pub fn request_count(&self) -> usize {
        self.base + self.requests.len()
    }

    /// The request with absolute index `i`, while it is kept.
    pub fn request_at(&self, i: usize) -> Option<&Request> {
        self.req(i)
    }

    /// The totals so far (`finish` completes them).
    pub fn summary(&self) -> &Summary {
        &self.s
    }

    /// The analysis of everything fed so far, as `finish` would give it, without ending the
    /// read (`logs --follow` on Ctrl-C): the same figures `logs` prints for the same lines.
    pub fn snapshot(&self) -> Analysis {
        self.clone().finish()
    }

    /// Feeds one parsed line.
    pub fn line(&mut self, line: &Line<'_>) {
        self.s.lines += 1;
        match line {
            Line::Blank => {}
            Line::Continuation(_) => self.s.continuation_lines += 1,
            Line::Entry(e) => self.entry(e),
        }
    }

    fn entry(&mut self, e: &Entry<'_>) {
        let s = &mut self.s;
        s.entries += 1;
        s.first_ts_ms.get_or_insert(e.ts_ms);
        s.last_ts_ms = Some(s.last_ts_ms.map_or(e.ts_ms, |t| t.max(e.ts_ms)));
        match e.level {
            super::parse::Level::Error => s.error_lines += 1,
            super::parse::Level::Warn => s.warn_lines += 1,
            _ => {}
        }
        let ts = e.ts_ms;
        match &e.event {
            Event::Other | Event::TurnStart => {}
            Event::ApiRequest { path, source } => self.request(ts, path, source),
            Event::Dispatch { model, .. } => {
                self.pending_model = (!model.is_empty()).then(|| self.intern(model));
            }
            Event::StreamStarted => {
                if let Some(i) = self.take_waiting(|r| r.streams()) {
                    self.first_byte(i, ts, None);
                    self.last_stream_started = Some(i);
                }
            }
            Event::FirstByte { ms } => match self.last_stream_started.take() {
                Some(i) if self.flags(i).is_some_and(|f| !f.first_byte_explicit) => {
                    self.first_byte(i, ts, Some(*ms))
                }
                _ => {
                    if let Some(i) = self.take_waiting(|r| r.streams()) {
                        self.first_byte(i, ts, Some(*ms));
                    }
                }
            },
            Event::SlowFirstByte { .. } => {
                self.s.slow_first_bytes += 1;
                if let Some(&i) = self
                    .waiting
                    .iter()
                    .find(|&&i| self.req(i).is_some_and(|r| r.streams()))
                {
                    if let Some((r, _)) = self.req_mut(i) {
                        r.slow_first_byte = true;
                    }
                }
            }
            Event::Stall { gap_ms } => {
                self.s.stalls += 1;
                self.s.stall_ms += gap_ms;
                if let Some(&i) = self.streaming.back() {
                    if let Some((r, _)) = self.req_mut(i) {
                        r.stalls += 1;
                    }
                }
            }
            Event::StreamCompleted { .. } => {
                if let Some(i) = self.streaming.pop_back() {
                    self.end_stream(i, ts);
                }
            }
            Event::StreamRetry { timeout } => {
                self.s.retries += 1;
                if *timeout {
                    self.s.stream_timeouts += 1;
                }
            }
            Event::ApiError {
                attempt,
                max,
                status,
                message,
            } => self.api_error(*attempt, *max, *status, message),
            Event::StreamingFallback { .. } | Event::RequestGaveUp { .. } => {
                // A new chain of attempts starts (non-streaming), or none follows.
                if let Some(src) = self
                    .last_failed
                    .and_then(|i| self.req(i))
                    .map(|r| r.source.clone())
                {
                    self.retry_next.remove(&src);
                }
            }
            Event::CountTokensFailed { status } => {
                self.count_failed_unpaired += 1;
                self.count_tokens_failed(*status, None);
            }
            Event::CountTokensNull => {
                if self.count_failed_unpaired > 0 {
                    self.count_failed_unpaired -= 1;
                } else {
                    // 2.1.121: the count call's failure is silent but for `Error: Error:`.
                    let status = self.generic_status.take();
                    self.count_tokens_failed(status, None);
                }
            }
            Event::HaikuFallbackFailed { status, message } => {
                let model = model_in_error(message).map(|m| self.intern(m));
                let i = self.take_waiting(|r| {
                    r.kind == SourceKind::CountTokens && !r.path.ends_with("/count_tokens")
                });
                self.fail(i, *status, model, "/v1/messages", "count_tokens");
            }
            Event::GenericError { status } => self.generic_status = *status,
            Event::Autocompact {
                tokens,
                threshold,
                level,
                effective_window,
            } => {
                let s = &mut self.s;
                s.autocompact_lines += 1;
                if effective_window.is_some() {
                    s.effective_window = *effective_window;
                }
                if threshold.is_some() {
                    s.threshold = *threshold;
                }
                if tokens.is_some() {
                    s.autocompact_tokens = *tokens;
                    self.pending_tokens = *tokens;
                }
                if let Some(l) = level {
                    s.autocompact_level = Some(*l);
                    s.autocompact_level_max = s.autocompact_level_max.max(Some(*l));
                }
            }
            Event::AutocompactReactive { threshold_source } => {
                self.s.threshold_source = Some(self.intern(threshold_source));
            }
            Event::UnknownModel { model } => self.s.unknown_model = Some(self.intern(model)),
            Event::ForkedAgentFinished { name } => {
                if name.contains("compact") {
                    self.s.compaction_summaries += 1;
                    if let Some(p) = self
                        .streaming
                        .iter()
                        .rposition(|&i| self.req(i).is_some_and(|r| r.kind == SourceKind::Compact))
                    {
                        if let Some(i) = self.streaming.remove(p) {
                            self.end_stream(i, ts);
                        }
                    }
                }
            }
            Event::TurnEnd {
                usage_in,
                usage_out,
                ..
            } => {
                self.s.turns += 1;
                if usage_in.is_some() {
                    self.s.usage_in = *usage_in;
                }
                if usage_out.is_some() {
                    self.s.usage_out = *usage_out;
                }
                for i in std::mem::take(&mut self.streaming) {
                    self.end_stream(i, ts);
                }
            }
            Event::AttributionHeader { cc_version } => {
                self.s.attribution_headers += 1;
                let known = self
                    .s
                    .attribution_values
                    .iter()
                    .any(|v| &**v == *cc_version);
                if !known && self.s.attribution_values.len() < MAX_ATTRIBUTION {
                    let v = self.intern(cc_version);
                    self.s.attribution_values.push(v);
                }
            }
        }
    }

    fn request(&mut self, ts: i64, path: &str, source: &str) {
        let path = self.intern(path);
        let source = self.intern(source);
        let kind = SourceKind::of(&source, &path);
        if kind == SourceKind::Main {
            // The main thread is sequential: a new request means the last one is over.
            let mut k = 0;
            while k < self.streaming.len() {
                let i = self.streaming[k];
                if self.req(i).is_some_and(|r| r.source == source) {
                    self.streaming.remove(k);
                    self.end_stream(i, ts);
                } else {
                    k += 1;
                }
            }
            let (reqs, base) = (&self.requests, self.base);
            self.waiting.retain(|&i| {
                i.checked_sub(base)
                    .and_then(|k| reqs.get(k))
                    .is_some_and(|(r, _)| r.source != source)
            });
        }
        // Count-tokens calls log no dispatch line; leave a pending model to its own request.
        let model = if path.ends_with("/count_tokens") {
            None
        } else {
            self.pending_model.take()
        };
        let attempts = self.retry_next.remove(&source).unwrap_or(1);
        let prompt_tokens = self.pending_tokens.take();
        self.s.requests += 1;
        if kind == SourceKind::Compact {
            self.s.compactions += 1;
        }
        let full = self.by_source.len() >= MAX_ROWS;
        match self.by_source.iter_mut().find(|(s, _, _)| *s == source) {
            Some(row) => row.2 += 1,
            None if !full => self.by_source.push((source.clone(), kind, 1)),
            None => self.s.rows_dropped += 1,
        }
        if let Some(m) = &model {
            let full = self.by_model.len() >= MAX_ROWS;
            match self.by_model.iter_mut().find(|(s, _)| s == m) {
                Some(row) => row.1 += 1,
                None if !full => self.by_model.push((m.clone(), 1)),
                None => self.s.rows_dropped += 1,
            }
        }
        if self.requests.len() >= MAX_REQUESTS {
            if let Some((old, _)) = self.requests.pop_front() {
                self.dropped_first_byte_ms += old.first_byte_ms.unwrap_or(0);
                self.dropped_stream_ms += old.stream_ms.unwrap_or(0);
                self.s.requests_dropped += 1;
                self.base += 1;
            }
        }
        let r = Request {
            sent_ms: ts,
            path,
            source,
            kind,
            model,
            first_byte_ms: None,
            first_byte_at: None,
            stream_ms: None,
            status: None,
            failed: false,
            attempts,
            slow_first_byte: false,
            stalls: 0,
            prompt_tokens,
        };
        self.requests.push_back((r, Flags::default()));
        self.waiting.push_back(self.base + self.requests.len() - 1);
        if self.waiting.len() > MAX_WAITING {
            self.waiting.pop_front();
        }
    }

    /// Removes and returns the oldest waiting request that `pred` accepts.
    fn take_waiting(&mut self, pred: impl Fn(&Request) -> bool) -> Option<usize> {
        let p = self
            .waiting
            .iter()
            .position(|&i| self.req(i).is_some_and(&pred))?;
        self.waiting.remove(p)
    }

    fn first_byte(&mut self, i: usize, ts: i64, ms: Option<u64>) {
        let Some((r, f)) = self.req_mut(i) else {
            return;
        };
        let measured = u64::try_from(ts - r.sent_ms).unwrap_or(0);
        r.first_byte_ms = Some(ms.unwrap_or(measured));
        r.first_byte_at = Some(ts);
        if r.status.is_none() {
            r.status = Some(200);
        }
        if ms.is_some() {
            f.first_byte_explicit = true;
        }
        let newly = !f.streaming;
        f.streaming = true;
        if newly {
            self.streaming.push_back(i);
            if self.streaming.len() > MAX_STREAMING {
                // Its end was never logged: forget it (its stream time stays unknown).
                if let Some(old) = self.streaming.pop_front() {
                    if let Some((_, f)) = self.req_mut(old) {
                        f.streaming = false;
                    }
                }
            }
        }
    }

    fn end_stream(&mut self, i: usize, ts: i64) {
        let Some((r, f)) = self.req_mut(i) else {
            return;
        };
        f.streaming = false;
        if let (Some(at), None) = (r.first_byte_at, r.stream_ms) {
            r.stream_ms = Some(u64::try_from(ts - at).unwrap_or(0));
        }
    }

    fn api_error(&mut self, attempt: u32, max: u32, status: Option<u16>, message: &str) {
        self.s.api_errors += 1;
        let lower_timeout = {
            let m = message.to_ascii_lowercase();
            m.contains("timed out") || m.contains("timeout")
        };
        if lower_timeout || matches!(status, Some(408) | Some(504)) {
            self.s.api_timeouts += 1;
        }
        let i = self
            .take_waiting(|r| r.streams())
            .or_else(|| self.take_waiting(|r| !r.path.ends_with("/count_tokens")));
        let model = model_in_error(message).map(|m| self.intern(m));
        if let Some((r, _)) = i.and_then(|i| self.req_mut(i)) {
            r.attempts = attempt.max(1);
        }
        let source = self.fail(i, status, model, "/v1/messages", "unknown");
        let retryable = match status {
            None => true,
            Some(s) => matches!(s, 408 | 409 | 429) || s >= 500,
        };
        if retryable && attempt < max {
            self.s.retries += 1;
            if self.retry_next.len() >= MAX_ROWS {
                self.retry_next.clear();
            }
            self.retry_next.insert(source, attempt + 1);
        }
    }

    fn count_tokens_failed(&mut self, status: Option<u16>, model: Option<Rc<str>>) {
        let i = self.take_waiting(|r| r.path.ends_with("/count_tokens"));
        self.fail(
            i,
            status,
            model,
            "/v1/messages/count_tokens",
            "count_tokens",
        );
    }

    /// Marks request `i` (if any) failed and records the failure; returns its source.
    fn fail(
        &mut self,
        i: Option<usize>,
        status: Option<u16>,
        model: Option<Rc<str>>,
        endpoint: &str,
        source: &str,
    ) -> Rc<str> {
        let kept = i.filter(|&i| self.req(i).is_some());
        let (endpoint, source, kind, model) = match kept {
            Some(i) => {
                self.last_failed = Some(i);
                let Some((r, _)) = self.req_mut(i) else {
                    unreachable!("checked above")
                };
                r.failed = true;
                r.status = status.or(r.status);
                if r.model.is_none() {
                    r.model = model;
                }
                (r.path.clone(), r.source.clone(), r.kind, r.model.clone())
            }
            None => {
                let (e, s) = (self.intern(endpoint), self.intern(source));
                let kind = SourceKind::of(&s, &e);
                (e, s, kind, model)
            }
        };
        if status == Some(404) {
            self.s.not_found_404 += 1;
        }
        let key = FailureKey {
            endpoint,
            source: source.clone(),
            kind,
            model,
            status,
        };
        let full = self.s.failures.len() >= MAX_ROWS;
        match self.s.failures.get_mut(&key) {
            Some(n) => *n += 1,
            None if !full => {
                self.s.failures.insert(key, 1);
            }
            None => self.s.rows_dropped += 1,
        }
        source
    }

    /// Ends the read: totals and the request list.
    pub fn finish(mut self) -> Analysis {
        let mut s = std::mem::take(&mut self.s);
        if let (Some(a), Some(b)) = (s.first_ts_ms, s.last_ts_ms) {
            s.wall_ms = u64::try_from(b - a).unwrap_or(0);
        }
        let requests: Vec<Request> = self.requests.into_iter().map(|(r, _)| r).collect();
        s.first_byte_ms_total = self.dropped_first_byte_ms
            + requests.iter().filter_map(|r| r.first_byte_ms).sum::<u64>();
        s.stream_ms_total =
            self.dropped_stream_ms + requests.iter().filter_map(|r| r.stream_ms).sum::<u64>();
        s.by_source = self.by_source;
        s.by_model = self.by_model;
        Analysis {
            requests,
            summary: s,
        }
    }
}

/// `s` cut to at most `max` bytes, at a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
