//! The streaming state machine: feed it parsed entries in file order, then `finish`.
//!
//! Claude Code writes no request id next to its timing and error lines, so each such line is
//! matched to a request by what it can belong to: first bytes and API errors to the oldest
//! streamed request still waiting, count-tokens failures to the oldest waiting count-tokens
//! call, haiku-fallback failures to the oldest waiting `source=count_tokens` message call.
//! That matches Claude Code's own order for sequential calls and stays sane for parallel ones.

use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use super::model::{Analysis, FailureKey, Request, SourceKind, Summary};
use super::parse::{model_in_error, Entry, Event, Line};

/// Requests still waiting for an answer are forgotten past this many (a successful
/// count-tokens call logs no answer at all), so a long log stays linear.
const MAX_WAITING: usize = 256;
/// Distinct attribution-header values kept.
const MAX_ATTRIBUTION: usize = 32;

#[derive(Default)]
pub struct Analyzer {
    strings: HashMap<Box<str>, Rc<str>>,
    requests: Vec<Request>,
    /// Indices of requests with no first byte and no failure yet, oldest first.
    waiting: VecDeque<usize>,
    /// Indices of requests whose stream started and has not been seen ending.
    streaming: Vec<usize>,
    pending_model: Option<Rc<str>>,
    last_stream_started: Option<usize>,
    first_byte_explicit: Vec<bool>,
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
        if let Some(r) = self.strings.get(s) {
            return r.clone();
        }
        let r: Rc<str> = Rc::from(s);
        // Bounded: a pathological log with endless distinct names stops being interned.
        if self.strings.len() < 4096 {
            self.strings.insert(Box::from(s), r.clone());
        }
        r
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
                Some(i) if !self.first_byte_explicit[i] => self.first_byte(i, ts, Some(*ms)),
                _ => {
                    if let Some(i) = self.take_waiting(|r| r.streams()) {
                        self.first_byte(i, ts, Some(*ms));
                    }
                }
            },
            Event::SlowFirstByte { .. } => {
                self.s.slow_first_bytes += 1;
                if let Some(&i) = self.waiting.iter().find(|&&i| self.requests[i].streams()) {
                    self.requests[i].slow_first_byte = true;
                }
            }
            Event::Stall { gap_ms } => {
                self.s.stalls += 1;
                self.s.stall_ms += gap_ms;
                if let Some(&i) = self.streaming.last() {
                    self.requests[i].stalls += 1;
                }
            }
            Event::StreamCompleted { .. } => {
                if let Some(i) = self.streaming.pop() {
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
                if let Some(i) = self.last_failed {
                    let src = self.requests[i].source.clone();
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
                        .rposition(|&i| self.requests[i].kind == SourceKind::Compact)
                    {
                        let i = self.streaming.remove(p);
                        self.end_stream(i, ts);
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
                if self.requests[i].source == source {
                    self.streaming.remove(k);
                    self.end_stream(i, ts);
                } else {
                    k += 1;
                }
            }
            let reqs = &self.requests;
            self.waiting.retain(|&i| reqs[i].source != source);
        }
        // Count-tokens calls log no dispatch line; leave a pending model to its own request.
        let model = if path.ends_with("/count_tokens") {
            None
        } else {
            self.pending_model.take()
        };
        let attempts = self.retry_next.remove(&source).unwrap_or(1);
        self.s.requests += 1;
        if kind == SourceKind::Compact {
            self.s.compactions += 1;
        }
        match self.by_source.iter_mut().find(|(s, _, _)| *s == source) {
            Some(row) => row.2 += 1,
            None => self.by_source.push((source.clone(), kind, 1)),
        }
        if let Some(m) = &model {
            match self.by_model.iter_mut().find(|(s, _)| s == m) {
                Some(row) => row.1 += 1,
                None => self.by_model.push((m.clone(), 1)),
            }
        }
        self.requests.push(Request {
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
        });
        self.first_byte_explicit.push(false);
        self.waiting.push_back(self.requests.len() - 1);
        if self.waiting.len() > MAX_WAITING {
            self.waiting.pop_front();
        }
    }

    /// Removes and returns the oldest waiting request that `pred` accepts.
    fn take_waiting(&mut self, pred: impl Fn(&Request) -> bool) -> Option<usize> {
        let p = self.waiting.iter().position(|&i| pred(&self.requests[i]))?;
        self.waiting.remove(p)
    }

    fn first_byte(&mut self, i: usize, ts: i64, ms: Option<u64>) {
        let r = &mut self.requests[i];
        let measured = u64::try_from(ts - r.sent_ms).unwrap_or(0);
        r.first_byte_ms = Some(ms.unwrap_or(measured));
        r.first_byte_at = Some(ts);
        if r.status.is_none() {
            r.status = Some(200);
        }
        if ms.is_some() {
            self.first_byte_explicit[i] = true;
        }
        if !self.streaming.contains(&i) {
            self.streaming.push(i);
        }
    }

    fn end_stream(&mut self, i: usize, ts: i64) {
        let r = &mut self.requests[i];
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
        if let Some(i) = i {
            self.requests[i].attempts = attempt.max(1);
        }
        let source = self.fail(i, status, model, "/v1/messages", "unknown");
        let retryable = match status {
            None => true,
            Some(s) => matches!(s, 408 | 409 | 429) || s >= 500,
        };
        if retryable && attempt < max {
            self.s.retries += 1;
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
        let (endpoint, source, kind, model) = match i {
            Some(i) => {
                let r = &mut self.requests[i];
                r.failed = true;
                r.status = status.or(r.status);
                if r.model.is_none() {
                    r.model = model;
                }
                self.last_failed = Some(i);
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
        *self.s.failures.entry(key).or_insert(0) += 1;
        source
    }

    /// Ends the read: totals and the request list.
    pub fn finish(mut self) -> Analysis {
        let mut s = std::mem::take(&mut self.s);
        if let (Some(a), Some(b)) = (s.first_ts_ms, s.last_ts_ms) {
            s.wall_ms = u64::try_from(b - a).unwrap_or(0);
        }
        s.first_byte_ms_total = self.requests.iter().filter_map(|r| r.first_byte_ms).sum();
        s.stream_ms_total = self.requests.iter().filter_map(|r| r.stream_ms).sum();
        s.by_source = self.by_source;
        s.by_model = self.by_model;
        Analysis {
            requests: self.requests,
            summary: s,
        }
    }
}
