//! `logs --follow`: the session that runs now, as it happens.
//!
//! [`Tail`] reads what was appended to a file since the last look, in bounded chunks, and
//! hands on whole lines through the one line reader (`read::for_each_line`): a line cut by
//! the end of the file waits (at most [`MAX_LINE`] bytes of it) for the rest, a replaced
//! file (Claude Code's rotation at 10 MiB renames `<name>.txt` away) is read to its end and
//! the new one from its start. [`Follower`] feeds the lines to the same analysers `logs`
//! uses ([`Analyzer`], [`ServerAnalyzer`]) and, after each line, turns what changed into
//! [`FollowEvent`]s. Memory stays what the analysers keep (bounded, docs/bounded.md) plus a
//! few small lists of things not yet reported, each capped.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::logs::analyze::Analyzer;
use crate::logs::model::{Analysis, SourceKind};
use crate::logs::parse::{parse_line, CompactLevel};
use crate::logs::read::{for_each_line, MAX_LINE};
use crate::logs::serverlog::analyze::{ServerAnalysis, ServerAnalyzer};
use crate::logs::time::format_iso_ms;
use crate::predict::rates::Rates;
use crate::server::ServerKind;

/// Bytes read at a time.
const CHUNK: usize = 256 * 1024;
/// Requests or server tasks waiting to be reported at most (older ones are let go).
const MAX_PENDING: usize = 64;

/// A file followed as it grows.
pub struct Tail {
    path: PathBuf,
    file: Option<File>,
    id: (u64, u64),
    pos: u64,
    carry: Vec<u8>,
    skipping: bool,
    skipped: u64,
}

impl Tail {
    /// Follows `path` from its start (it need not exist yet).
    pub fn new(path: &Path) -> Tail {
        Tail {
            path: path.to_path_buf(),
            file: None,
            id: (0, 0),
            pos: 0,
            carry: Vec::new(),
            skipping: false,
            skipped: 0,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Over-long lines skipped since the last call.
    pub fn take_skipped(&mut self) -> u64 {
        std::mem::take(&mut self.skipped)
    }

    /// Reads everything appended since the last call and calls `f` with each whole line
    /// (newline included). A missing file is nothing yet; a FIFO or device is refused.
    pub fn poll(&mut self, f: &mut dyn FnMut(&str)) -> io::Result<()> {
        for _ in 0..2 {
            if self.file.is_none() {
                match crate::fsread::open_regular(&self.path, "a log file (a regular file)") {
                    Ok(file) => {
                        let m = file.metadata()?;
                        self.id = (m.dev(), m.ino());
                        self.file = Some(file);
                        self.pos = 0;
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
            let mut buf = vec![0u8; CHUNK];
            while let Some(file) = self.file.as_mut() {
                let n = match file.read(&mut buf) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                if n == 0 {
                    break;
                }
                self.pos += n as u64;
                self.feed(&buf[..n], f);
            }
            match std::fs::metadata(&self.path) {
                // Replaced (rotated): the old file is read to its end; the new one begins.
                Ok(m) if (m.dev(), m.ino()) != self.id => {
                    self.flush(f);
                    self.file = None;
                }
                // Cut short in place: start again from its start.
                Ok(m) if m.len() < self.pos => {
                    self.carry.clear();
                    self.skipping = false;
                    self.file = None;
                }
                _ => return Ok(()),
            }
        }
        Ok(())
    }

    /// Hands on a last line that has no newline yet (at the end: `logs` reads it as a line).
    pub fn flush(&mut self, f: &mut dyn FnMut(&str)) {
        if !self.skipping && !self.carry.is_empty() {
            let c = std::mem::take(&mut self.carry);
            f(&String::from_utf8_lossy(&c));
        }
        self.skipping = false;
        self.carry.clear();
    }

    fn feed(&mut self, mut data: &[u8], f: &mut dyn FnMut(&str)) {
        if self.skipping || !self.carry.is_empty() {
            let Some(n) = data.iter().position(|&c| c == b'\n') else {
                self.hold(data);
                return;
            };
            if self.skipping {
                self.skipped += 1;
                self.skipping = false;
            } else if self.carry.len() + n < MAX_LINE {
                self.carry.extend_from_slice(&data[..=n]);
                let c = std::mem::take(&mut self.carry);
                self.skipped += for_each_line(&c[..], &mut *f).unwrap_or(0);
            } else {
                self.skipped += 1;
                self.carry.clear();
            }
            data = &data[n + 1..];
        }
        let rest = match data.iter().rposition(|&c| c == b'\n') {
            Some(last) => {
                self.skipped += for_each_line(&data[..=last], &mut *f).unwrap_or(0);
                &data[last + 1..]
            }
            None => data,
        };
        self.hold(rest);
    }

    /// Keeps the start of a line until its end arrives, up to [`MAX_LINE`].
    fn hold(&mut self, part: &[u8]) {
        if self.skipping {
            return;
        }
        if self.carry.len() + part.len() > MAX_LINE {
            self.carry = Vec::new();
            self.skipping = true;
        } else {
            self.carry.extend_from_slice(part);
        }
    }
}

/// Something `--follow` reports, one JSON object each (`event` names it).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum FollowEvent {
    /// Following this debug log now (the first, or a newer session's).
    Session { path: String },
    /// Following this server log.
    ServerLog { path: String },
    /// Claude Code sent a request (`at`: the time on its `[API REQUEST]` line).
    Request {
        at: String,
        source: String,
        kind: &'static str,
        model: Option<String>,
        /// The prompt size Claude Code last logged (`autocompact: tokens=`, where not
        /// redacted), and the window it plans with.
        prompt_tokens: Option<u64>,
        effective_window: Option<u64>,
        threshold: Option<u64>,
        server_context: Option<u64>,
    },
    /// Its first byte came back (prefill and queueing done).
    FirstByte {
        at: String,
        source: String,
        wait_ms: u64,
    },
    /// It failed; `status` 404 with `model`: the server does not have that model.
    Failed {
        at: String,
        source: String,
        status: Option<u16>,
        model: Option<String>,
        problem: String,
    },
    /// Claude Code's autocompact level rose (warn, compact, blocked).
    Context {
        at: String,
        level: &'static str,
        tokens: Option<u64>,
        effective_window: Option<u64>,
        threshold: Option<u64>,
    },
    /// A prefill under way on the server.
    Prefill {
        task: Option<u64>,
        /// Prompt tokens in the slot so far, and the whole prompt where known.
        done: u64,
        total: Option<u64>,
        tokens_per_s: Option<f64>,
        /// Time left, from the rates measured on this server's log (or its own rate).
        eta_ms: Option<u64>,
        from: &'static str,
    },
    /// The server finished a request.
    Served {
        task: u64,
        prompt_tokens: Option<u64>,
        cached_tokens: Option<u64>,
        evaluated_tokens: Option<u64>,
        prefill_ms: Option<f64>,
        decode_tokens: Option<u64>,
        decode_tokens_per_s: Option<f64>,
        status: Option<u16>,
        /// The server's context per request, for the prompt to be measured against.
        server_context: Option<u64>,
    },
    /// Something went wrong on the server's side.
    Problem {
        kind: &'static str,
        task: Option<u64>,
        detail: String,
    },
}

impl FollowEvent {
    /// `true` for the events that say something went wrong.
    pub fn is_problem(&self) -> bool {
        matches!(
            self,
            FollowEvent::Failed { .. } | FollowEvent::Context { .. } | FollowEvent::Problem { .. }
        )
    }
}

/// What is known of the requests already reported.
#[derive(Default)]
struct ClaudeWatch {
    next: usize,
    pending: VecDeque<usize>,
    level: Option<CompactLevel>,
}

/// Claude Code's debug log, followed.
pub struct ClaudeSide {
    pub tail: Tail,
    pub an: Analyzer,
    watch: ClaudeWatch,
}

impl ClaudeSide {
    pub fn new(path: &Path) -> Self {
        ClaudeSide {
            tail: Tail::new(path),
            an: Analyzer::new(),
            watch: ClaudeWatch::default(),
        }
    }
}

/// The server's log, followed.
pub struct ServerSide {
    pub tail: Tail,
    pub st: ServerState,
}

/// The server log's analysis, and what of it was reported.
pub struct ServerState {
    pub an: ServerAnalyzer,
    /// Tasks checked so far (index into `tasks`) and the ones not yet reported done.
    checked: usize,
    open: VecDeque<usize>,
    loads: usize,
    truncations: usize,
    refused: usize,
    /// Rates fitted from the tasks done so far (refitted as timed tasks end).
    rates: Option<Rates>,
    /// Timed tasks seen end since the last fit.
    timed: usize,
    /// The last prefill reported (task, tokens so far).
    last_prefill: Option<(u64, u64)>,
}

impl ServerSide {
    pub fn new(path: &Path) -> Self {
        ServerSide {
            tail: Tail::new(path),
            st: ServerState {
                an: ServerAnalyzer::new(),
                checked: 0,
                open: VecDeque::new(),
                loads: 0,
                truncations: 0,
                refused: 0,
                rates: None,
                timed: 0,
                last_prefill: None,
            },
        }
    }
}

/// The whole follow: Claude Code's side, the server's, and what is not yet reported.
#[derive(Default)]
pub struct Follower {
    pub claude: Option<ClaudeSide>,
    pub server: Option<ServerSide>,
    /// The server's context per request (from `/slots`, its log, or `--server-ctx`).
    pub server_ctx: Option<u64>,
    /// Last prefill figures reported from `/slots` (task, done).
    slots_last: Option<(u64, u64, std::time::Instant)>,
    /// Read without reporting (what the logs held before the follow began): events are
    /// dropped as they come, so a long history costs no memory.
    pub quiet: bool,
}

impl Follower {
    pub fn new() -> Self {
        Self::default()
    }

    /// Follows the debug log at `path` from its start (a new session: the old one's
    /// analysis is let go).
    pub fn set_claude(&mut self, path: &Path, out: &mut Vec<FollowEvent>) {
        self.claude = Some(ClaudeSide::new(path));
        out.push(FollowEvent::Session {
            path: path.display().to_string(),
        });
    }

    pub fn set_server_log(&mut self, path: &Path, out: &mut Vec<FollowEvent>) {
        self.server = Some(ServerSide::new(path));
        out.push(FollowEvent::ServerLog {
            path: path.display().to_string(),
        });
    }

    /// The debug log followed now.
    pub fn claude_path(&self) -> Option<&Path> {
        self.claude.as_ref().map(|c| c.tail.path())
    }

    /// Reads what the logs gained since the last call; events go to `out`.
    pub fn poll(&mut self, out: &mut Vec<FollowEvent>) -> crate::error::Result<()> {
        let keep = out.len();
        let quiet = self.quiet;
        if let Some(ServerSide { tail, st }) = self.server.as_mut() {
            let path = tail.path().to_path_buf();
            let ctx = &mut self.server_ctx;
            // Each line is checked as it comes.
            let mut f = |l: &str| {
                st.an.line(l);
                server_changes(st, out, ctx);
                if quiet {
                    out.truncate(keep);
                }
            };
            let r = tail.poll(&mut f);
            let skipped = tail.take_skipped();
            st.an.skipped_long_lines(skipped);
            r.map_err(|e| crate::error::Error::io(&path, "read the server log", e))?;
        }
        let ctx = self.server_ctx;
        if let Some(c) = self.claude.as_mut() {
            let ClaudeSide { tail, an, watch } = c;
            let path = tail.path().to_path_buf();
            let mut f = |l: &str| {
                an.line(&parse_line(l));
                claude_changes(an, watch, ctx, out);
                if quiet {
                    out.truncate(keep);
                }
            };
            let r = tail.poll(&mut f);
            let skipped = tail.take_skipped();
            an.skipped_long_lines(skipped);
            r.map_err(|e| crate::error::Error::io(&path, "read the debug log", e))?;
        }
        Ok(())
    }

    /// A last line without its newline is a line (as `logs` reads it); then the analysis
    /// of the session so far.
    pub fn finish(&mut self) -> Option<Analysis> {
        let c = self.claude.as_mut()?;
        let ClaudeSide { tail, an, .. } = c;
        tail.flush(&mut |l: &str| an.line(&parse_line(l)));
        Some(an.snapshot())
    }

    /// The server's analysis so far.
    pub fn server_analysis(&self) -> Option<&ServerAnalysis> {
        self.server.as_ref().map(|s| s.st.an.current())
    }

    /// llama-server's `/slots` answer: the context per slot, and a prefill under way.
    pub fn slots(&mut self, slots: &serde_json::Value, out: &mut Vec<FollowEvent>) {
        let Some(arr) = slots.as_array() else {
            return;
        };
        if let Some(c) = arr.iter().find_map(|s| s["n_ctx"].as_u64()) {
            self.server_ctx = Some(c);
        }
        let now = std::time::Instant::now();
        let busy = arr.iter().find(|s| s["is_processing"] == true);
        let Some(s) = busy else {
            self.slots_last = None;
            return;
        };
        let (Some(task), Some(done)) = (
            s["id_task"].as_u64(),
            s["n_prompt_tokens_processed"].as_u64(),
        ) else {
            return;
        };
        // Decoding has begun: the prefill is over.
        if s["next_token"][0]["n_decoded"].as_u64().unwrap_or(0) > 0 {
            return;
        }
        let rate = match self.slots_last {
            Some((t, d, at)) if t == task && done > d => {
                let secs = now.duration_since(at).as_secs_f64();
                (secs > 0.0).then(|| (done - d) as f64 / secs)
            }
            Some((t, d, _)) if t == task && done == d => return,
            _ => None,
        };
        self.slots_last = Some((task, done, now));
        out.push(FollowEvent::Prefill {
            task: Some(task),
            done,
            total: None,
            tokens_per_s: rate,
            eta_ms: None,
            from: "slots",
        });
    }
}

fn claude_changes(
    an: &Analyzer,
    w: &mut ClaudeWatch,
    server_ctx: Option<u64>,
    out: &mut Vec<FollowEvent>,
) {
    let s = an.summary();
    let threshold = s.threshold.or(s
        .effective_window
        .map(|e| e.saturating_sub(crate::planner::claude::AUTOCOMPACT_BUFFER)));
    while w.next < an.request_count() {
        if let Some(r) = an.request_at(w.next) {
            out.push(FollowEvent::Request {
                at: format_iso_ms(r.sent_ms),
                source: r.source.to_string(),
                kind: r.kind.as_str(),
                model: r.model.as_deref().map(str::to_string),
                prompt_tokens: r.prompt_tokens.or(s.autocompact_tokens),
                effective_window: s.effective_window,
                threshold,
                server_context: server_ctx,
            });
            w.pending.push_back(w.next);
            if w.pending.len() > MAX_PENDING {
                w.pending.pop_front();
            }
        }
        w.next += 1;
    }
    w.pending.retain(|&i| {
        let Some(r) = an.request_at(i) else {
            return false;
        };
        if r.failed {
            let at = format_iso_ms(s.last_ts_ms.unwrap_or(r.sent_ms));
            let model = r.model.as_deref().map(str::to_string);
            let problem = match (r.status, &model) {
                (Some(404), Some(m)) => format!("404: the server has no model {m:?}"),
                (Some(404), None) => "404: the server does not know the model or route".into(),
                (Some(st), _) => format!("HTTP {st}"),
                (None, _) => "no answer (connection error or timeout)".into(),
            };
            out.push(FollowEvent::Failed {
                at,
                source: r.source.to_string(),
                status: r.status,
                model,
                problem,
            });
            return false;
        }
        if let (Some(ms), Some(at)) = (r.first_byte_ms, r.first_byte_at) {
            out.push(FollowEvent::FirstByte {
                at: format_iso_ms(at),
                source: r.source.to_string(),
                wait_ms: ms,
            });
            return false;
        }
        // Count-tokens calls log no answer when they work.
        r.kind != SourceKind::CountTokens || an.request_count() - i < 8
    });
    if s.autocompact_level != w.level {
        w.level = s.autocompact_level;
        if let Some(l) = s.autocompact_level.filter(|l| *l > CompactLevel::Ok) {
            out.push(FollowEvent::Context {
                at: s.last_ts_ms.map(format_iso_ms).unwrap_or_default(),
                level: l.as_str(),
                tokens: s.autocompact_tokens,
                effective_window: s.effective_window,
                threshold,
            });
        }
    }
}

fn server_changes(s: &mut ServerState, out: &mut Vec<FollowEvent>, server_ctx: &mut Option<u64>) {
    let a = s.an.current();
    if let Some(c) = a.loads.last().and_then(|l| l.context()) {
        *server_ctx = Some(c);
    }
    // Lists halve when they reach their cap: start the count again from what is left.
    if a.tasks.len() < s.checked {
        s.checked = a.tasks.len();
        s.open.clear();
    }
    if a.loads.len() < s.loads {
        s.loads = a.loads.len();
    }
    if a.truncations.len() < s.truncations {
        s.truncations = a.truncations.len();
    }
    if a.refused_text.len() < s.refused {
        s.refused = a.refused_text.len();
    }
    if a.loads.len() > s.loads {
        for l in &a.loads[s.loads..] {
            if s.loads > 0 || l.reason != crate::logs::serverlog::analyze::ReloadReason::First {
                out.push(FollowEvent::Problem {
                    kind: "reload",
                    task: None,
                    detail: format!(
                        "the model was loaded again ({}): {}",
                        l.reason.as_str(),
                        l.model.as_deref().unwrap_or("?")
                    ),
                });
            }
        }
        s.loads = a.loads.len();
    }
    for t in &a.truncations[s.truncations..] {
        out.push(FollowEvent::Problem {
            kind: "truncated",
            task: None,
            detail: format!(
                "the server cut the prompt: {} tokens over its limit {}, kept {}",
                t.prompt, t.limit, t.new
            ),
        });
    }
    s.truncations = a.truncations.len();
    for _ in &a.refused_text[s.refused..] {
        out.push(FollowEvent::Problem {
            kind: "refused",
            task: None,
            detail: "the server refused a prompt longer than its context".into(),
        });
    }
    s.refused = a.refused_text.len();
    while s.checked < a.tasks.len() {
        s.open.push_back(s.checked);
        if s.open.len() > MAX_PENDING {
            s.open.pop_front();
        }
        s.checked += 1;
    }
    let python = matches!(a.kind, ServerKind::Vllm | ServerKind::VllmMlx);
    // Refit after the first timed task, then after every 8 more (a fit reads every kept
    // task: refitting on every line would make a long log quadratic).
    if s.timed > 0 && (s.rates.is_none() || s.timed >= 8) {
        s.timed = 0;
        s.rates = crate::predict::from_server::rates(a);
    }
    let tasks = &a.tasks;
    let rates = s.rates.as_ref();
    let last_prefill = &mut s.last_prefill;
    let mut keep = VecDeque::new();
    let last_prompt = |i: usize| -> Option<u64> {
        tasks[..i]
            .iter()
            .rev()
            .find(|t| t.prompt_tokens.is_some())
            .and_then(|t| t.prompt_tokens)
    };
    for &i in &s.open {
        let Some(t) = tasks.get(i) else { continue };
        let done = t.n_tokens_end.is_some()
            || t.overflow.is_some()
            || t.cancelled
            || t.http.is_some() && (python || t.end.is_some());
        if !done {
            if let Some(p) = t.prefill_progress {
                let total = p.total();
                let eta_ms = total.and_then(|total| match rates {
                    Some(r) => Some(r.prefill.tokens_ms(p.n_tokens, total).round() as u64),
                    None => p
                        .tokens_per_s
                        .filter(|r| *r > 0.0)
                        .map(|r| ((total.saturating_sub(p.n_tokens)) as f64 / r * 1000.0) as u64),
                });
                let ev = FollowEvent::Prefill {
                    task: Some(t.id),
                    done: p.n_tokens,
                    total,
                    tokens_per_s: p.tokens_per_s,
                    eta_ms,
                    from: "server log",
                };
                // One event per progress line: the same figures again say nothing new.
                if *last_prefill != Some((t.id, p.n_tokens)) {
                    *last_prefill = Some((t.id, p.n_tokens));
                    out.push(ev);
                }
            }
            keep.push_back(i);
            continue;
        }
        if let Some((prompt, n_ctx)) = t.overflow {
            out.push(FollowEvent::Problem {
                kind: "refused",
                task: Some(t.id),
                detail: format!(
                    "the server refused a prompt of {prompt} tokens: its context is {n_ctx}"
                ),
            });
            continue;
        }
        if t.prefill_ms.is_some() {
            s.timed += 1;
        }
        let decode_tps = match (t.eval_tokens, t.decode_ms) {
            (Some(n), Some(ms)) if ms > 0.0 => Some(n as f64 / ms * 1000.0),
            _ => None,
        };
        out.push(FollowEvent::Served {
            task: t.id,
            prompt_tokens: t.prompt_tokens,
            cached_tokens: t.cached_tokens(),
            evaluated_tokens: t.prompt_eval_tokens,
            prefill_ms: t.prefill_ms,
            decode_tokens: t.eval_tokens,
            decode_tokens_per_s: decode_tps,
            status: t.http.as_ref().map(|h| h.0),
            server_context: *server_ctx,
        });
        if t.truncated {
            out.push(FollowEvent::Problem {
                kind: "truncated",
                task: Some(t.id),
                detail: "the reply stopped because the context filled (truncated = 1)".into(),
            });
        }
        if let (Some(prompt), Some(cached), Some(prev)) =
            (t.prompt_tokens, t.cached_tokens(), last_prompt(i))
        {
            // The prompt before was mostly this one's start: most of it should have come
            // from the cache.
            if prompt >= 1024 && prev >= 1024 && prev <= prompt && cached * 2 < prev {
                out.push(FollowEvent::Problem {
                    kind: "cache_miss",
                    task: Some(t.id),
                    detail: format!(
                        "prompt cache not reused: {cached} of {prompt} tokens from the cache \
                         after a prompt of {prev}"
                    ),
                });
            }
        }
    }
    s.open = keep;
}

/// One event as a line for people.
pub fn human_line(e: &FollowEvent) -> String {
    let k = |n: u64| format!("{n} tokens");
    let hm = |at: &str| at.get(11..23).unwrap_or(at).to_string();
    match e {
        FollowEvent::Session { path } => format!("following {path}"),
        FollowEvent::ServerLog { path } => format!("following the server log {path}"),
        FollowEvent::Request {
            at,
            source,
            kind,
            model,
            prompt_tokens,
            effective_window,
            threshold,
            server_context,
        } => {
            let mut l = format!("{}  → {kind} request ({source}", hm(at));
            if let Some(m) = model {
                l.push_str(&format!(", {m}"));
            }
            l.push(')');
            if let Some(p) = prompt_tokens {
                l.push_str(&format!("  prompt {}", k(*p)));
            }
            match (effective_window, threshold) {
                (Some(w), Some(t)) => {
                    l.push_str(&format!("  window {} (compacts at {})", k(*w), k(*t)))
                }
                (Some(w), None) => l.push_str(&format!("  window {}", k(*w))),
                _ => {}
            }
            if let Some(c) = server_context {
                l.push_str(&format!("  server context {}", k(*c)));
                if effective_window.is_some_and(|w| w > *c) {
                    l.push_str(" (smaller than Claude Code's window!)");
                }
            }
            l
        }
        FollowEvent::FirstByte {
            at,
            source,
            wait_ms,
        } => format!(
            "{}  ← first byte ({source}) after {}",
            hm(at),
            crate::logs::time::human_ms(*wait_ms)
        ),
        FollowEvent::Failed {
            at,
            source,
            problem,
            ..
        } => format!("{}  ✗ {source} request failed: {problem}", hm(at)),
        FollowEvent::Context {
            at,
            level,
            tokens,
            threshold,
            ..
        } => {
            let mut l = format!("{}  ! context at Claude Code's {level} level", hm(at));
            if let (Some(n), Some(t)) = (tokens, threshold) {
                l.push_str(&format!(" ({} of {} before compaction)", k(*n), k(*t)));
            }
            l
        }
        FollowEvent::Prefill {
            task,
            done,
            total,
            tokens_per_s,
            eta_ms,
            ..
        } => {
            let mut l = String::from("   prefill");
            if let Some(t) = task {
                l.push_str(&format!(" task {t}"));
            }
            match total {
                Some(tot) if *tot > 0 => l.push_str(&format!(
                    ": {} of {} ({:.0}%)",
                    k(*done),
                    k(*tot),
                    *done as f64 * 100.0 / *tot as f64
                )),
                _ => l.push_str(&format!(": {} so far", k(*done))),
            }
            if let Some(r) = tokens_per_s {
                l.push_str(&format!(", {r:.0} tokens/s"));
            }
            if let Some(ms) = eta_ms {
                l.push_str(&format!(
                    ", about {} left",
                    crate::logs::time::human_ms(*ms)
                ));
            }
            l
        }
        FollowEvent::Served {
            task,
            prompt_tokens,
            cached_tokens,
            evaluated_tokens,
            prefill_ms,
            decode_tokens,
            decode_tokens_per_s,
            status,
            server_context,
        } => {
            let mut l = format!("   served task {task}");
            if let Some(st) = status {
                l.push_str(&format!(" ({st})"));
            }
            if let Some(p) = prompt_tokens {
                l.push_str(&format!(": prompt {}", k(*p)));
                if let Some(c) = server_context.filter(|c| *c > 0) {
                    l.push_str(&format!(
                        " ({:.0}% of the context {})",
                        *p as f64 * 100.0 / c as f64,
                        k(c)
                    ));
                }
                if let Some(c) = cached_tokens {
                    l.push_str(&format!(", {} from the cache", k(*c)));
                }
            }
            if let (Some(e), Some(ms)) = (evaluated_tokens, prefill_ms) {
                l.push_str(&format!(
                    "; prefill {} in {}",
                    k(*e),
                    crate::logs::time::human_ms(ms.round() as u64)
                ));
            }
            if let (Some(n), Some(r)) = (decode_tokens, decode_tokens_per_s) {
                l.push_str(&format!("; decode {} at {r:.1} tokens/s", k(*n)));
            }
            l
        }
        FollowEvent::Problem { kind, detail, .. } => format!("   ! {kind}: {detail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines_of(t: &mut Tail) -> Vec<String> {
        let mut v = Vec::new();
        t.poll(&mut |l: &str| v.push(l.to_string())).unwrap();
        v
    }

    #[test]
    fn tail_hands_on_whole_lines_as_they_come() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.txt");
        let mut t = Tail::new(&p);
        assert!(lines_of(&mut t).is_empty(), "missing is nothing yet");
        let mut f = std::fs::File::create(&p).unwrap();
        f.write_all(b"one\ntw").unwrap();
        assert_eq!(lines_of(&mut t), vec!["one\n"]);
        f.write_all(b"o\nthree").unwrap();
        assert_eq!(lines_of(&mut t), vec!["two\n"]);
        let mut last = Vec::new();
        t.flush(&mut |l: &str| last.push(l.to_string()));
        assert_eq!(last, vec!["three"]);
    }

    #[test]
    fn tail_follows_a_rotation_and_skips_endless_lines() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.txt");
        std::fs::write(&p, "a\n").unwrap();
        let mut t = Tail::new(&p);
        assert_eq!(lines_of(&mut t), vec!["a\n"]);
        // Claude Code's rotation: the file is renamed away after a last line, a new one begins.
        let mut old = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        old.write_all(b"b\n").unwrap();
        std::fs::rename(&p, d.path().join("s.1.txt")).unwrap();
        std::fs::write(&p, "c\n").unwrap();
        assert_eq!(lines_of(&mut t), vec!["b\n", "c\n"]);
        // A line longer than MAX_LINE, arriving in pieces, is skipped and counted.
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        let piece = vec![b'x'; MAX_LINE / 2 + 1];
        for _ in 0..3 {
            f.write_all(&piece).unwrap();
            assert!(lines_of(&mut t).is_empty());
        }
        f.write_all(b"\nd\n").unwrap();
        assert_eq!(lines_of(&mut t), vec!["d\n"]);
        assert_eq!(t.take_skipped(), 1);
        assert!(t.carry.capacity() <= MAX_LINE + CHUNK);
    }

    /// Fed in pieces of any size, the follower ends with the analysis `logs` gives for the
    /// whole file, and reports every request once.
    #[test]
    fn follow_summary_equals_the_whole_read() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let mut logs: Vec<PathBuf> = std::fs::read_dir(format!("{dir}/claude-debug-logs"))
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        logs.retain(|p| p.extension().is_some_and(|e| e == "txt"));
        logs.sort();
        assert!(!logs.is_empty(), "fixtures in {dir}/claude-debug-logs");
        for log in logs {
            let bytes = std::fs::read(&log).unwrap();
            let want = crate::logs::read::analyze_bytes(&bytes);
            for piece in [7usize, 1000, 1 << 20] {
                let d = tempfile::tempdir().unwrap();
                let p = d.path().join("live.txt");
                let mut f = std::fs::File::create(&p).unwrap();
                let mut fo = Follower::new();
                let mut ev = Vec::new();
                fo.set_claude(&p, &mut ev);
                for c in bytes.chunks(piece) {
                    f.write_all(c).unwrap();
                    fo.poll(&mut ev).unwrap();
                }
                let got = fo.finish().unwrap();
                assert_eq!(got, want, "{} in pieces of {piece}", log.display());
                let reqs = ev
                    .iter()
                    .filter(|e| matches!(e, FollowEvent::Request { .. }))
                    .count();
                assert_eq!(reqs as u64, want.summary.requests, "{}", log.display());
            }
        }
    }

    /// A follower of an empty server log in a temporary folder (kept while the returned
    /// folder lives), the file to write the log through, and the events so far.
    fn following_a_server_log() -> (tempfile::TempDir, std::fs::File, Follower, Vec<FollowEvent>) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("server.log");
        let f = std::fs::File::create(&p).unwrap();
        let mut fo = Follower::new();
        let mut ev = Vec::new();
        fo.set_server_log(&p, &mut ev);
        (d, f, fo, ev)
    }

    #[test]
    fn server_log_progress_truncation_and_refusal() {
        let (_d, mut f, mut fo, mut ev) = following_a_server_log();
        f.write_all(b"0.13.368.804 I srv    load_model: initializing, n_slots = 1, n_ctx_slot = 32768, kv_unified = 'false'\n\
0.17.865.635 I slot launch_slot_: id  0 | task 1 | processing task, is_child = 0\n\
0.40.089.549 I slot print_timing: id  0 | task 1 | prompt processing, n_tokens =    512, progress = 0.04, t =  22.22 s / 23.04 tokens per second\n").unwrap();
        fo.poll(&mut ev).unwrap();
        assert_eq!(fo.server_ctx, Some(32768));
        let pre: Vec<&FollowEvent> = ev
            .iter()
            .filter(|e| matches!(e, FollowEvent::Prefill { .. }))
            .collect();
        assert_eq!(pre.len(), 1, "{ev:?}");
        let FollowEvent::Prefill {
            done,
            total,
            eta_ms,
            ..
        } = pre[0]
        else {
            unreachable!()
        };
        assert_eq!((*done, *total), (512, Some(12800)));
        // 12288 tokens left at 23.04 tokens/s.
        assert_eq!(*eta_ms, Some((12288.0 / 23.04 * 1000.0) as u64));
        f.write_all(b"0.41.000.000 I slot print_timing: id  0 | task 1 | prompt processing, n_tokens =   1024, progress = 0.08, t =  44.00 s / 23.27 tokens per second\n\
0.50.000.000 I slot print_timing: id  0 | task 1 | prompt eval time = 550000.00 ms / 12800 tokens (   43.00 ms per token,    23.27 tokens per second)\n\
0.50.000.001 I slot print_timing: id  0 | task 1 |        eval time =    2000.00 ms /    48 tokens (   41.67 ms per token,    24.00 tokens per second)\n\
0.50.000.002 I slot release: id  0 | task 1 | stop processing: n_tokens = 12847, truncated = 1\n\
0.51.000.000 I slot launch_slot_: id  0 | task 2 | processing task, is_child = 0\n\
0.51.000.001 E srv    send_error: task id = 2, error: request (40000 tokens) exceeds the available context size (32768 tokens), try increasing it\n").unwrap();
        ev.clear();
        fo.poll(&mut ev).unwrap();
        let kinds: Vec<String> = ev
            .iter()
            .map(|e| match e {
                FollowEvent::Problem { kind, .. } => kind.to_string(),
                other => serde_json::to_value(other).unwrap()["event"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            })
            .collect();
        assert_eq!(
            kinds,
            vec!["prefill", "served", "truncated", "refused"],
            "{ev:#?}"
        );
        assert!(ev.iter().all(|e| !human_line(e).is_empty()));
    }

    /// A long history read quietly leaves no events behind, and the lists of what is not
    /// yet reported stay capped whatever the log holds.
    #[test]
    fn long_logs_stay_bounded() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("big.txt");
        let mut f = std::fs::File::create(&p).unwrap();
        let mut text = String::new();
        for i in 0..20_000 {
            // Streamed requests that never get an answer.
            text.push_str(&format!(
                "2026-11-25T19:{:02}:{:02}.000Z [DEBUG] [API REQUEST] /v1/messages source=agent:x{}\n",
                i / 60 % 60,
                i % 60,
                i % 7
            ));
        }
        f.write_all(text.as_bytes()).unwrap();
        let mut fo = Follower::new();
        let mut ev = Vec::new();
        fo.set_claude(&p, &mut ev);
        fo.quiet = true;
        fo.poll(&mut ev).unwrap();
        assert_eq!(
            ev.len(),
            1,
            "only the session line: {:?}",
            &ev[..2.min(ev.len())]
        );
        let c = fo.claude.as_ref().unwrap();
        assert!(c.watch.pending.len() <= MAX_PENDING);
        assert_eq!(c.an.summary().requests, 20_000);
        fo.quiet = false;
        f.write_all(b"2026-11-25T20:00:00.000Z [DEBUG] [API REQUEST] /v1/messages source=sdk\n")
            .unwrap();
        ev.clear();
        fo.poll(&mut ev).unwrap();
        assert_eq!(ev.len(), 1, "{ev:?}");
    }

    #[test]
    fn ollama_truncation_shows() {
        let (_d, mut f, mut fo, mut ev) = following_a_server_log();
        fo.poll(&mut ev).unwrap();
        ev.clear();
        f.write_all(b"time=2026-11-25T19:00:00.000Z level=WARN source=runner.go:120 msg=\"truncating input prompt\" limit=8192 prompt=9000 keep=4 new=8192\n").unwrap();
        fo.poll(&mut ev).unwrap();
        assert!(
            matches!(&ev[..], [FollowEvent::Problem { kind: "truncated", detail, .. }] if detail.contains("9000")),
            "{ev:?}"
        );
    }
}
