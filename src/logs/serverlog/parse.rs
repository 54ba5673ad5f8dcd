//! One server-log line → a typed event. Three dialects share a file (docs/server-logs.md):
//!
//! - llama-server's own lines, optionally prefixed `M.SS.mmm.uuu L ` (minutes since start,
//!   level letter) when it runs with `--log-prefix --log-timestamps` (the default of recent
//!   builds);
//! - Ollama's Go `slog` lines `time=<RFC 3339> level=<L> source=<file:line> msg=<…> k=v…`
//!   (both eras), and its `[GIN]` access lines;
//! - raw llama.cpp lines passed through by Ollama (no prefix at all).
//!
//! The parser never allocates and never panics; a line it does not know is `Other`.

use crate::logs::time::{days_from_civil, digits};

/// Where a line's time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// No time on the line.
    None,
    /// Milliseconds since the server process started (llama-server's log prefix).
    Elapsed(i64),
    /// Milliseconds since the Unix epoch, UTC (slog `time=` with its offset applied).
    Wall(i64),
    /// Milliseconds since the epoch of a local time without a zone (`[GIN]` lines): the
    /// join allows for the difference as clock skew.
    Local(i64),
}

/// A parsed line.
#[derive(Debug, Clone, PartialEq)]
pub struct SLine<'a> {
    pub stamp: Stamp,
    pub event: SEvent<'a>,
}

/// What a server-log line says, for the lines this reader uses.
#[derive(Debug, Clone, PartialEq)]
pub enum SEvent<'a> {
    /// llama-server starts (`llama_server: initializing`).
    ServerStart,
    /// A model starts loading: llama-server `load_model: loading model '<path>'`, Ollama
    /// `msg="loading model via llama-server" model=<path>`.
    LoadModel {
        path: &'a str,
    },
    /// Ollama `msg="starting llama-server" cmd="…"` (0.30+) or `msg="starting runner"` /
    /// `msg="starting llama server"` (before 0.30): the runner's command line.
    StartRunner {
        cmd: &'a str,
        llama_server: bool,
    },
    /// Ollama before 0.30: `msg=load request="{… KvSize:N KvCacheType:T … FlashAttention:B …}"`.
    LoadRequest {
        kv_size: Option<u64>,
        kv_type: Option<&'a str>,
        flash_attention: Option<bool>,
    },
    /// Ollama `msg="server config" env="map[OLLAMA_…:… …]"`.
    ServerConfig {
        env: &'a str,
    },
    /// `n_ctx = N` (libllama's context constructor).
    NCtx(u64),
    /// `n_ctx_seq = N` (older `n_ctx_per_seq`).
    NCtxSeq(u64),
    /// `n_seq_max = N`.
    NSeqMax(u64),
    /// `flash_attn = auto|enabled|disabled` (or 0/1 in old builds).
    FlashAttn(&'a str),
    /// `Flash Attention enabled|disabled` after `auto` was resolved.
    FlashResolved(bool),
    /// `llama_kv_cache: size = X MiB (N cells, …), K (t): …, V (t): …`.
    KvCache {
        mib: f64,
        cells: Option<u64>,
        k_type: &'a str,
        v_type: &'a str,
    },
    /// `offloaded X/Y layers to GPU`.
    Offload {
        layers: u32,
        of: u32,
    },
    /// `load_model: initializing, n_slots = N, n_ctx_slot = M`.
    Slots {
        n_slots: u32,
        n_ctx_slot: u64,
    },
    /// The server is ready: `llama_server: model loaded`, Ollama `llama-server started in`,
    /// `llama runner started in`.
    Ready,
    /// The process ends: `cleaning up before exit`.
    Shutdown,
    /// Ollama's scheduler let a model go: keep-alive expiry (DEBUG lines).
    Expired,
    /// `slot launch_slot_: … | processing task`.
    Launch {
        slot: u32,
        task: u64,
    },
    /// `new prompt, n_ctx_slot = A, n_keep = B, task.n_tokens = C` (verbose logs).
    NewPrompt {
        task: u64,
        n_ctx_slot: u64,
        n_tokens: u64,
    },
    /// `prompt eval time = X ms / N tokens`; `task` is `None` in the old two-line form.
    PromptEval {
        task: Option<u64>,
        ms: f64,
        tokens: u64,
    },
    /// `eval time = X ms / N tokens`.
    Eval {
        task: Option<u64>,
        ms: f64,
        tokens: u64,
    },
    /// A `print_timing` header with no figures (old form: the figures follow unprefixed).
    TimingHeader {
        task: u64,
    },
    /// `prompt processing, n_tokens = N, progress = F, t = S s / R tokens per second`: a
    /// prefill under way (one line per batch; `n_tokens` counts the prompt tokens in the
    /// slot so far, `progress` their share of the whole prompt).
    PromptProgress {
        task: u64,
        n_tokens: u64,
        progress: f64,
        tokens_per_s: Option<f64>,
    },
    /// `stop processing: n_tokens = N, truncated = T`.
    Release {
        task: u64,
        n_tokens: u64,
        truncated: bool,
    },
    /// `slot context shift, n_keep = A, n_left = B, n_discard = C`.
    ContextShift {
        task: u64,
        n_discard: u64,
    },
    /// `send_error: task id = T, error: request (P tokens) exceeds the available context size
    /// (C tokens)`.
    Overflow {
        task: Option<u64>,
        prompt: u64,
        n_ctx: u64,
    },
    /// Ollama's 400 text `the prompt is longer than the context length …` in a log line.
    OverflowText,
    /// `stop: cancel task, id_task = T`.
    Cancel {
        task: u64,
    },
    /// Ollama `msg="truncating input prompt" limit=L prompt=P keep=K new=N`.
    Truncating {
        limit: u64,
        prompt: u64,
        keep: u64,
        new: u64,
    },
    /// Ollama `[GIN] … | status | duration | ip | METHOD "path"`: a finished HTTP request.
    Http {
        status: u16,
        ms: f64,
        method: &'a str,
        path: &'a str,
    },
    Other,
}

/// Parses one line (without or with its trailing newline).
pub fn parse_line(line: &str) -> SLine<'_> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    if let Some(rest) = line.strip_prefix("time=") {
        return slog(rest);
    }
    if let Some(rest) = line.strip_prefix("[GIN] ") {
        return gin(rest);
    }
    let (stamp, body) = match elapsed_prefix(line) {
        Some((ms, body)) => (Stamp::Elapsed(ms), body),
        None => (Stamp::None, line),
    };
    SLine {
        stamp,
        event: llama(body),
    }
}

/// `M.SS.mmm.uuu L ` → (ms since start, rest).
fn elapsed_prefix(line: &str) -> Option<(i64, &str)> {
    let b = line.as_bytes();
    let dot = b.iter().take(8).position(|&c| c == b'.')?;
    if dot == 0 {
        return None;
    }
    let min = digits(&b[..dot])?;
    let rest = &b[dot..];
    // .SS.mmm.uuu L<space>
    if rest.len() < 15
        || rest[0] != b'.'
        || rest[3] != b'.'
        || rest[7] != b'.'
        || rest[11] != b' '
        || rest[13] != b' '
    {
        return None;
    }
    let sec = digits(&rest[1..3])?;
    let ms = digits(&rest[4..7])?;
    digits(&rest[8..11])?;
    if !b"IWEDT".contains(&rest[12]) {
        return None;
    }
    Some((min * 60_000 + sec * 1000 + ms, &line[dot + 14..]))
}

/// `s` without leading spaces and tabs (ASCII only: cheaper than `trim_start`).
fn ltrim(s: &str) -> &str {
    let n = s.bytes().take_while(|&c| c == b' ' || c == b'\t').count();
    &s[n..]
}

/// The first unsigned number at the start of `s` (after spaces).
fn num(s: &str) -> Option<u64> {
    let s = ltrim(s);
    let end = s
        .bytes()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(s.len());
    if end == 0 || end > 19 {
        return None;
    }
    s[..end].parse().ok()
}

/// The first decimal number at the start of `s` (after spaces).
fn float(s: &str) -> Option<f64> {
    let s = ltrim(s);
    let end = s
        .bytes()
        .position(|c| !(c.is_ascii_digit() || c == b'.'))
        .unwrap_or(s.len());
    if end == 0 || end > 24 {
        return None;
    }
    s[..end].parse().ok().filter(|v: &f64| v.is_finite())
}

/// `hay.find(pat)` for short patterns: a memchr for the first byte, then a compare. (The
/// generic substring search sets up a two-way searcher per call, which dominated the
/// profile of a 100 MB log.)
fn find(hay: &str, pat: &str) -> Option<usize> {
    let (h, p) = (hay.as_bytes(), pat.as_bytes());
    let (&first, rest) = p.split_first()?;
    if h.len() < p.len() {
        return None;
    }
    // Lines are short and patterns a few bytes: a plain loop beats setting up a searcher
    // (or calling memcmp) per candidate.
    (0..=h.len() - p.len())
        .find(|&i| h[i] == first && h[i + 1..i + p.len()].iter().zip(rest).all(|(a, b)| a == b))
}

/// The number after `key` (e.g. `"n_tokens = "`).
fn num_after(s: &str, key: &str) -> Option<u64> {
    find(s, key).and_then(|i| num(&s[i + key.len()..]))
}

/// llama-server / libllama body (no prefix).
fn llama(body: &str) -> SEvent<'_> {
    if let Some(rest) = body.strip_prefix("slot ") {
        return slot(rest);
    }
    // The bulk of a verbose model load says nothing this reader uses.
    if body.starts_with("print_info:") || body.starts_with("llama_model_loader:") {
        return SEvent::Other;
    }
    // Old two-line timing form: the figures on their own line.
    let t = ltrim(body);
    if t.starts_with("prompt eval time =") {
        return timing(None, t, true);
    }
    if t.starts_with("eval time =") {
        return timing(None, t, false);
    }
    let Some(colon) = find(body, ": ") else {
        return SEvent::Other;
    };
    let (head, msg) = (&body[..colon], ltrim(&body[colon + 2..]));
    let func = head.rfind(' ').map_or(head, |i| &head[i + 1..]);
    match func {
        "llama_context" | "llama_new_context_with_model" => context(msg),
        "llama_kv_cache" | "llama_kv_cache_unified" | "llama_kv_cache_init" => kv(msg),
        "load_model" => {
            if let Some(p) = msg.strip_prefix("loading model '") {
                SEvent::LoadModel {
                    path: p.trim_end_matches('\''),
                }
            } else if msg.starts_with("initializing, n_slots") {
                match (
                    num_after(msg, "n_slots = "),
                    num_after(msg, "n_ctx_slot = "),
                ) {
                    (Some(n), Some(c)) => SEvent::Slots {
                        n_slots: clamp32(n),
                        n_ctx_slot: c,
                    },
                    _ => SEvent::Other,
                }
            } else {
                SEvent::Other
            }
        }
        "llama_server" => {
            if msg.starts_with("initializing") {
                SEvent::ServerStart
            } else if msg.starts_with("model loaded") {
                SEvent::Ready
            } else {
                SEvent::Other
            }
        }
        "send_error" => overflow(msg),
        "stop" => match msg.strip_prefix("cancel task, id_task = ").and_then(num) {
            Some(task) => SEvent::Cancel { task },
            None => SEvent::Other,
        },
        "resolve_fused_ops" if msg.starts_with("Flash Attention ") => {
            SEvent::FlashResolved(msg.contains("enabled"))
        }
        _ if msg.starts_with("offloaded ") && find(msg, " layers to GPU").is_some() => {
            let r = &msg["offloaded ".len()..];
            match (num(r), r.find('/').and_then(|i| num(&r[i + 1..]))) {
                (Some(a), Some(b)) => SEvent::Offload {
                    layers: clamp32(a),
                    of: clamp32(b),
                },
                _ => SEvent::Other,
            }
        }
        "operator()" if find(msg, "cleaning up before exit").is_some() => SEvent::Shutdown,
        _ => SEvent::Other,
    }
}

fn clamp32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn context(msg: &str) -> SEvent<'_> {
    let Some(eq) = find(msg, " = ") else {
        return SEvent::Other;
    };
    let key = msg[..eq].trim_end();
    let val = msg[eq + 3..].trim();
    match key {
        "n_ctx" => num(val).map_or(SEvent::Other, SEvent::NCtx),
        "n_ctx_seq" | "n_ctx_per_seq" => num(val).map_or(SEvent::Other, SEvent::NCtxSeq),
        "n_seq_max" => num(val).map_or(SEvent::Other, SEvent::NSeqMax),
        "flash_attn" => SEvent::FlashAttn(val),
        _ => SEvent::Other,
    }
}

/// `size = X MiB (N cells, …), K (t): …, V (t): …` and the old `KV self size = …` form.
fn kv(msg: &str) -> SEvent<'_> {
    let Some(i) = find(msg, "size = ") else {
        return SEvent::Other;
    };
    let (Some(k), Some(v)) = (paren_after(msg, "K ("), paren_after(msg, "V (")) else {
        return SEvent::Other;
    };
    let Some(mib) = float(&msg[i + 7..]) else {
        return SEvent::Other;
    };
    let cells = msg.find('(').and_then(|p| num(&msg[p + 1..]));
    SEvent::KvCache {
        mib,
        cells,
        k_type: k,
        v_type: v,
    }
}

fn paren_after<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let i = s.find(key)? + key.len();
    let end = s[i..].find(')')?;
    let t = &s[i..i + end];
    (!t.is_empty() && t.len() <= 16).then_some(t)
}

fn overflow(msg: &str) -> SEvent<'_> {
    let Some(i) = find(msg, "request (") else {
        return SEvent::Other;
    };
    let task = num_after(msg, "task id = ");
    let prompt = num(&msg[i + 9..]);
    let n_ctx = num_after(msg, "context size (");
    match (prompt, n_ctx) {
        (Some(prompt), Some(n_ctx)) => SEvent::Overflow {
            task,
            prompt,
            n_ctx,
        },
        _ => SEvent::Other,
    }
}

/// `<func>: id  S | task T | <msg>`.
fn slot(rest: &str) -> SEvent<'_> {
    // Generation progress lines (one every few seconds) are most of a session's log.
    if rest.starts_with("print_timing") && find(rest, "| n_gen").is_some() {
        return SEvent::Other;
    }
    let Some(id) = find(rest, ": id ") else {
        return SEvent::Other;
    };
    let r = &rest[id + 5..];
    let Some(slot) = num(r) else {
        return SEvent::Other;
    };
    let Some(tp) = find(r, "| task ") else {
        return SEvent::Other;
    };
    let r = &r[tp + 7..];
    if r.starts_with('-') {
        return SEvent::Other;
    }
    let Some(task) = num(r) else {
        return SEvent::Other;
    };
    let msg = match find(r, " | ") {
        Some(i) => &r[i + 3..],
        None => "",
    };
    let t = ltrim(msg);
    if t.starts_with("n_gen") {
        return SEvent::Other;
    }
    if t.starts_with("prompt processing") {
        return prompt_progress(task, t);
    }
    if t.starts_with("prompt eval time =") {
        return timing(Some(task), t, true);
    }
    if t.starts_with("eval time =") {
        return timing(Some(task), t, false);
    }
    if t.is_empty() && rest.starts_with("print_timing") {
        return SEvent::TimingHeader { task };
    }
    if t.starts_with("processing task") {
        return SEvent::Launch {
            slot: clamp32(slot),
            task,
        };
    }
    if t.starts_with("new prompt,") {
        return match (
            num_after(t, "n_ctx_slot = "),
            num_after(t, "task.n_tokens = "),
        ) {
            (Some(c), Some(n)) => SEvent::NewPrompt {
                task,
                n_ctx_slot: c,
                n_tokens: n,
            },
            _ => SEvent::Other,
        };
    }
    if let Some(s) = t.strip_prefix("stop processing: ") {
        return match num_after(s, "n_tokens = ") {
            Some(n) => SEvent::Release {
                task,
                n_tokens: n,
                truncated: num_after(s, "truncated = ").is_some_and(|v| v != 0),
            },
            None => SEvent::Other,
        };
    }
    if t.starts_with("slot context shift") {
        return match num_after(t, "n_discard = ") {
            Some(d) => SEvent::ContextShift { task, n_discard: d },
            None => SEvent::Other,
        };
    }
    SEvent::Other
}

/// `prompt processing, n_tokens = N, progress = F, t = S s / R tokens per second`.
fn prompt_progress(task: u64, t: &str) -> SEvent<'_> {
    let n_tokens = num_after(t, "n_tokens = ");
    let progress = find(t, "progress = ").and_then(|i| float(&t[i + 11..]));
    let tokens_per_s = find(t, " s / ").and_then(|i| float(&t[i + 5..]));
    match (n_tokens, progress) {
        (Some(n_tokens), Some(progress)) if (0.0..=1.0).contains(&progress) => {
            SEvent::PromptProgress {
                task,
                n_tokens,
                progress,
                tokens_per_s,
            }
        }
        _ => SEvent::Other,
    }
}

/// `prompt eval time = X ms / N tokens (…)` / `eval time = …`.
fn timing(task: Option<u64>, t: &str, prompt: bool) -> SEvent<'_> {
    let Some(eq) = find(t, "= ") else {
        return SEvent::Other;
    };
    let r = &t[eq + 2..];
    let ms = float(r);
    let tokens = find(r, "/ ").and_then(|i| num(&r[i + 2..]));
    match (ms, tokens) {
        (Some(ms), Some(tokens)) if prompt => SEvent::PromptEval { task, ms, tokens },
        (Some(ms), Some(tokens)) => SEvent::Eval { task, ms, tokens },
        _ => SEvent::Other,
    }
}

/// The value of `key=` in a slog line: quoted (with `\"` escapes) or up to the next space.
pub fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(i) = line[from..].find(key) {
        let at = from + i;
        let ok_start = at == 0 || line.as_bytes()[at - 1] == b' ';
        let after = at + key.len();
        if ok_start && line.as_bytes().get(after) == Some(&b'=') {
            let v = &line[after + 1..];
            if let Some(q) = v.strip_prefix('"') {
                let b = q.as_bytes();
                let mut k = 0;
                while k < b.len() {
                    match b[k] {
                        b'\\' => k += 2,
                        b'"' => return Some(&q[..k]),
                        _ => k += 1,
                    }
                }
                return Some(q);
            }
            return Some(v.split(' ').next().unwrap_or(""));
        }
        from = after;
    }
    None
}

/// `time=…` slog line (the `time=` already stripped).
fn slog(rest: &str) -> SLine<'_> {
    let ts = rest.split(' ').next().unwrap_or("");
    let stamp = rfc3339_ms(ts).map_or(Stamp::None, Stamp::Wall);
    let event = match field(rest, "msg") {
        Some(msg) => slog_event(rest, msg),
        None => SEvent::Other,
    };
    SLine { stamp, event }
}

fn slog_event<'a>(line: &'a str, msg: &'a str) -> SEvent<'a> {
    let n = |k: &str| field(line, k).and_then(num);
    match msg {
        "truncating input prompt" => match (n("limit"), n("prompt"), n("keep"), n("new")) {
            (Some(limit), Some(prompt), keep, new) => SEvent::Truncating {
                limit,
                prompt,
                keep: keep.unwrap_or(0),
                new: new.unwrap_or(limit),
            },
            _ => SEvent::Other,
        },
        "server config" => SEvent::ServerConfig {
            env: field(line, "env").unwrap_or(""),
        },
        "starting llama-server" => SEvent::StartRunner {
            cmd: field(line, "cmd").unwrap_or(""),
            llama_server: true,
        },
        "starting runner" | "starting llama server" => SEvent::StartRunner {
            cmd: field(line, "cmd").unwrap_or(""),
            llama_server: false,
        },
        "loading model via llama-server" => SEvent::LoadModel {
            path: field(line, "model").unwrap_or(""),
        },
        "load" => {
            let req = field(line, "request").unwrap_or("");
            let word = |k: &str| {
                req.find(k)
                    .map(|i| &req[i + k.len()..])
                    .map(|r| r.split([' ', '}']).next().unwrap_or(""))
            };
            SEvent::LoadRequest {
                kv_size: word("KvSize:").and_then(num),
                kv_type: word("KvCacheType:"),
                flash_attention: word("FlashAttention:").map(|v| v == "true" || v == "Enabled"),
            }
        }
        "timer expired, expiring to unload" | "runner expired event received" => SEvent::Expired,
        m if m.starts_with("llama-server started in")
            || m.starts_with("llama runner started in") =>
        {
            SEvent::Ready
        }
        // Ollama's 400 text when context shift is off (in `msg` or an `error=` field).
        _ if find(line, "the prompt is longer than the context length").is_some() => {
            SEvent::OverflowText
        }
        _ => SEvent::Other,
    }
}

/// The zone offset of an RFC 3339 time in minutes (`Z` → 0).
pub fn zone_offset_min(s: &str) -> Option<i64> {
    let utc = rfc3339_ms(s)?;
    let local = rfc3339_ms(&format!("{}Z", s.get(..19)?))?;
    Some((local - (utc - utc.rem_euclid(1000))) / 60_000)
}

/// `2026-10-01T14:50:47.067+02:00` / `…Z` → UTC ms (fraction optional, any digits).
pub fn rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let base = civil_ms(
        digits(&b[0..4])?,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    )?;
    let mut i = 19;
    let mut frac_ms = 0i64;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let f = &b[start..i];
        let mut scale = 100;
        for &c in f.iter().take(3) {
            frac_ms += i64::from(c - b'0') * scale;
            scale /= 10;
        }
    }
    let tz = &b[i..];
    let off_min = match tz.first() {
        Some(b'Z') => 0,
        Some(&s @ (b'+' | b'-')) if tz.len() >= 6 && tz[3] == b':' => {
            let m = digits(&tz[1..3])? * 60 + digits(&tz[4..6])?;
            if s == b'+' {
                m
            } else {
                -m
            }
        }
        _ => return None,
    };
    Some(base + frac_ms - off_min * 60_000)
}

fn civil_ms(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<i64> {
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some(((days * 24 + h) * 60 + mi) * 60_000 + s * 1000)
}

/// `2025/07/01 - 12:34:56 | 200 |  1.234s |  127.0.0.1 | POST  "/api/chat"`.
fn gin(rest: &str) -> SLine<'_> {
    let mut parts = rest.split('|');
    let when = parts.next().unwrap_or("").trim();
    let b = when.as_bytes();
    let stamp = if b.len() == 21 && b[4] == b'/' && b[7] == b'/' && &b[10..13] == b" - " {
        (|| {
            civil_ms(
                digits(&b[0..4])?,
                digits(&b[5..7])?,
                digits(&b[8..10])?,
                digits(&b[13..15])?,
                digits(&b[16..18])?,
                digits(&b[19..21])?,
            )
        })()
        .map_or(Stamp::None, Stamp::Local)
    } else {
        Stamp::None
    };
    let status = parts
        .next()
        .and_then(num)
        .and_then(|s| u16::try_from(s).ok());
    let ms = parts.next().and_then(|d| go_duration_ms(d.trim()));
    let _ip = parts.next();
    let req = parts.next().unwrap_or("").trim();
    let (method, path) = match req.split_once(' ') {
        Some((m, p)) => (m, p.trim().trim_matches('"')),
        None => ("", ""),
    };
    let event = match (status, ms) {
        (Some(status), Some(ms)) if !method.is_empty() => SEvent::Http {
            status,
            ms,
            method,
            path,
        },
        _ => SEvent::Other,
    };
    SLine { stamp, event }
}

/// Go's `time.Duration` text (`1m2.5s`, `12.3ms`) in milliseconds: the one parser.
pub use crate::duration::parse_go as go_duration_ms;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llama_server_prefixed_lines() {
        let l = parse_line("2.04.272.666 I slot print_timing: id  0 | task 0 | prompt eval time =   13535.29 ms /  3689 tokens (    3.67 ms per token,   272.55 tokens per second)");
        assert_eq!(l.stamp, Stamp::Elapsed(124_272));
        assert_eq!(
            l.event,
            SEvent::PromptEval {
                task: Some(0),
                ms: 13535.29,
                tokens: 3689
            }
        );
        let l = parse_line("3.38.941.711 I slot      release: id  0 | task 4100 | stop processing: n_tokens = 11960, truncated = 0");
        assert_eq!(
            l.event,
            SEvent::Release {
                task: 4100,
                n_tokens: 11960,
                truncated: false
            }
        );
        let l = parse_line("0.34.742.689 E srv    send_error: task id = 60, error: request (12024 tokens) exceeds the available context size (8192 tokens), try increasing it");
        assert_eq!(
            l.event,
            SEvent::Overflow {
                task: Some(60),
                prompt: 12024,
                n_ctx: 8192
            }
        );
        let l = parse_line("0.02.582.170 I llama_kv_cache: size =   24.00 MiB (  8192 cells,   3 layers,  1/1 seqs), K (f16):   12.00 MiB, V (f16):   12.00 MiB");
        assert_eq!(
            l.event,
            SEvent::KvCache {
                mib: 24.0,
                cells: Some(8192),
                k_type: "f16",
                v_type: "f16"
            }
        );
        assert_eq!(
            parse_line("0.15.829.735 I slot get_availabl: id  0 | task -1 | selected slot by LRU, t_last = -1").event,
            SEvent::Other
        );
    }

    #[test]
    fn raw_and_old_timing_lines() {
        assert_eq!(
            parse_line("       eval time =     363.21 ms /     8 tokens").event,
            SEvent::Eval {
                task: None,
                ms: 363.21,
                tokens: 8
            }
        );
        assert_eq!(
            parse_line("llama_context: n_ctx_per_seq = 4096").event,
            SEvent::NCtxSeq(4096)
        );
        assert_eq!(
            parse_line("load_tensors: offloaded 29/29 layers to GPU").event,
            SEvent::Offload { layers: 29, of: 29 }
        );
    }

    #[test]
    fn slog_lines() {
        let l = parse_line(
            r#"time=2026-10-01T14:50:47.067+02:00 level=WARN source=llama_server.go:318 msg="truncating input prompt" limit=2051 prompt=4398 keep=5 new=2051"#,
        );
        assert_eq!(
            l.stamp,
            Stamp::Wall(rfc3339_ms("2026-10-01T12:50:47.067Z").unwrap())
        );
        assert_eq!(
            l.event,
            SEvent::Truncating {
                limit: 2051,
                prompt: 4398,
                keep: 5,
                new: 2051
            }
        );
        assert_eq!(
            field(r#"a=1 msg="x \"y\" z" b=2"#, "msg"),
            Some(r#"x \"y\" z"#)
        );
        assert_eq!(field("amsg=1 msg=2", "msg"), Some("2"));
    }

    #[test]
    fn gin_lines() {
        let l = parse_line(
            r#"[GIN] 2025/07/01 - 12:34:56 | 200 |  1m2.5s |       127.0.0.1 | POST     "/api/chat""#,
        );
        assert!(matches!(l.stamp, Stamp::Local(_)));
        assert_eq!(
            l.event,
            SEvent::Http {
                status: 200,
                ms: 62_500.0,
                method: "POST",
                path: "/api/chat"
            }
        );
        assert_eq!(go_duration_ms("12.5ms"), Some(12.5));
        assert_eq!(go_duration_ms("x"), None);
    }

    #[test]
    fn garbage_is_other() {
        for s in [
            "",
            "1.",
            "9999999999999.00.000.000 I x",
            "slot : id",
            "time=",
            "[GIN] |||",
            "llama_kv_cache: size = K (",
            "time=x msg=\"load\" request=\"{KvSize:",
        ] {
            let _ = parse_line(s);
        }
    }
}
