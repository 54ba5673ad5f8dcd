//! What a server's log line says (docs/server-logs.md), and which server wrote the log.
//!
//! Each kind reads its own lines in its module (`server::<kind>::log`); they all produce a
//! [`LogLine`]. llama-server and Ollama share one file format (Ollama passes its runner's
//! llama.cpp lines through), so one reader, [`parse_line`], takes both: Ollama's `time=`
//! and `[GIN]` lines go to `server::ollama::log`, everything else to
//! `server::llama_server::log`. vLLM and vllm-mlx have readers of their own, used once a
//! line of theirs names them ([`KIND_LOGS`]).
//!
//! Which server wrote a log is one table, [`KIND_LOGS`]: a row per kind whose log cclocal
//! reads, each with that kind's own `log::detect`. Turning the lines into loads and
//! requests and joining them with Claude Code's is `logs::serverlog`'s work.
//!
//! The readers never allocate for a line they do not use and never panic; a line they do
//! not know is [`LogEvent::Other`].

use super::ollama::log::OllamaRunner;
use super::vllm::log::Throughput;
use super::ServerKind;

/// Which server wrote a log: its kind and, for Ollama, which runner served the models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogFormat {
    /// `ServerKind::Unknown` until a line names the server.
    pub kind: ServerKind,
    /// Ollama only, once a line tells.
    pub ollama_runner: Option<OllamaRunner>,
}

impl Default for LogFormat {
    fn default() -> Self {
        LogFormat::of(ServerKind::Unknown)
    }
}

impl LogFormat {
    pub const fn of(kind: ServerKind) -> Self {
        LogFormat {
            kind,
            ollama_runner: None,
        }
    }

    /// The name `cclocal logs --json` and the reports print (`llama-server`, `ollama
    /// (llama-server runner, 0.30+)`, `vllm`, …).
    pub fn name(self) -> &'static str {
        match (self.kind, self.ollama_runner) {
            (ServerKind::Ollama, Some(r)) => r.log_name(),
            (ServerKind::Ollama, None) => "ollama",
            (k, _) => k.info().name,
        }
    }
}

/// What one line says about who wrote the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    /// This server, unless another line has said otherwise (a line the server writes, but
    /// another one could pass on: llama-server's own lines also come through Ollama).
    Hint(LogFormat),
    /// This server, whatever was thought before (a line only it writes).
    Proof(LogFormat),
}

/// What a kind's detection sees of a line.
pub struct Seen<'s, 'e> {
    pub text: &'s str,
    /// What the shared llama.cpp-family reader made of it ([`LogEvent::Other`] for a line
    /// read before that reader, see [`KIND_LOGS`]).
    pub event: &'e LogEvent<'s>,
    /// No server is known yet.
    pub unknown: bool,
    /// An Ollama `time=` line came before.
    pub after_slog: bool,
}

/// A kind's own log-line reader: `None` for a line that is not its own (the shared reader
/// [`parse_line`] gets it then).
pub type OwnReader = for<'a> fn(&'a str) -> Option<LogEvent<'a>>;

/// One row: a kind whose log cclocal reads.
pub struct KindLog {
    pub kind: ServerKind,
    /// Whether its lines need its own reader; `None`: [`parse_line`] reads them.
    pub own_reader: Option<OwnReader>,
    /// Its `log::detect`: what a line says about the writer.
    pub detect: fn(&Seen<'_, '_>) -> Option<Sign>,
}

/// The kinds whose logs cclocal reads, in detection order: the first row whose `detect`
/// answers decides. A kind with its own reader is looked for before the shared reader
/// runs (its `detect` gets the raw text only); the others after, with the shared reader's
/// event.
pub const KIND_LOGS: &[KindLog] = &[
    KindLog {
        kind: ServerKind::VllmMlx,
        own_reader: Some(super::vllm_mlx::log::read),
        detect: super::vllm_mlx::log::detect,
    },
    KindLog {
        kind: ServerKind::Vllm,
        own_reader: Some(super::vllm::log::read),
        detect: super::vllm::log::detect,
    },
    KindLog {
        kind: ServerKind::Ollama,
        own_reader: None,
        detect: super::ollama::log::detect,
    },
    KindLog {
        kind: ServerKind::LlamaServer,
        own_reader: None,
        detect: super::llama_server::log::detect,
    },
];

/// The kind's own reader, for a kind that has one.
pub fn own_reader(kind: ServerKind) -> Option<OwnReader> {
    KIND_LOGS
        .iter()
        .find(|k| k.kind == kind)
        .and_then(|k| k.own_reader)
}

/// The first sign a row gives, over the rows with (`own`) or without their own reader.
pub fn detect(seen: &Seen<'_, '_>, own: bool) -> Option<Sign> {
    KIND_LOGS
        .iter()
        .filter(|k| k.own_reader.is_some() == own)
        .find_map(|k| (k.detect)(seen))
}

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
pub struct LogLine<'a> {
    pub stamp: Stamp,
    pub event: LogEvent<'a>,
}

/// What a server-log line says, for the lines cclocal uses.
#[derive(Debug, Clone, PartialEq)]
pub enum LogEvent<'a> {
    /// llama-server starts (`llama_server: initializing`).
    ServerStart,
    /// A model starts loading: llama-server `load_model: loading model '<path>'`, Ollama
    /// `msg="loading model via llama-server" model=<path>`, vllm-mlx `Loading model: <path>`.
    LoadModel {
        path: &'a str,
    },
    /// Ollama `msg="starting llama-server" cmd="…"` (0.30+) or `msg="starting runner"` /
    /// `msg="starting llama server"` (before 0.30): the runner's command line.
    StartRunner {
        cmd: &'a str,
        runner: OllamaRunner,
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
    /// A prompt over the context was refused: llama-server's `send_error: task id = T,
    /// error: request (P tokens) exceeds the available context size (C tokens)`; vLLM's
    /// `maximum context length is C tokens. However, your prompt contains P input tokens`
    /// (no task: its 400 access line follows).
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
    /// uvicorn's access line (vLLM, vllm-mlx): `POST <path>` answered with `status` (the
    /// path without its query). No time, no duration.
    Access {
        path: &'a str,
        status: u16,
    },
    /// vllm-mlx `[REQUEST] POST <path>`: a request was read.
    Request {
        path: &'a str,
    },
    /// vLLM's periodic stats line (`Avg prompt throughput: …`).
    Stats(Throughput),
    /// vLLM `Using max model len N`: the served context (a model is up).
    MaxModelLen(Option<u64>),
    /// vLLM's banner `model   PATH`.
    BannerModel(&'a str),
    /// vllm-mlx `Max request tokens: N`: the largest `max_tokens` a request may ask for.
    MaxRequestTokens(Option<u64>),
    /// vllm-mlx `System KV cache HIT: reusing A cached tokens, prefilling B new` (`hit`)
    /// or `MISS: will prefill A system + B suffix tokens`.
    PromptCache {
        hit: bool,
        a: u64,
        b: u64,
    },
    /// vllm-mlx `Anthropic messages (stream): N tokens in S s`: tokens written and the
    /// whole request's seconds (prefill and decode together).
    RequestDone {
        tokens: Option<u64>,
        secs: Option<f64>,
    },
    Other,
}

/// Reads one line of llama-server's or Ollama's log (without or with its trailing
/// newline).
pub fn parse_line(line: &str) -> LogLine<'_> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    if let Some(rest) = line.strip_prefix("time=") {
        return super::ollama::log::slog(rest);
    }
    if let Some(rest) = line.strip_prefix("[GIN] ") {
        return super::ollama::log::gin(rest);
    }
    super::llama_server::log::line(line)
}

// The scanners the readers share.

/// `s` without leading spaces and tabs (ASCII only: cheaper than `trim_start`).
pub(in crate::server) fn ltrim(s: &str) -> &str {
    let n = s.bytes().take_while(|&c| c == b' ' || c == b'\t').count();
    &s[n..]
}

/// The first unsigned number at the start of `s` (after spaces).
pub(in crate::server) fn num(s: &str) -> Option<u64> {
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
pub(in crate::server) fn float(s: &str) -> Option<f64> {
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
pub(in crate::server) fn find(hay: &str, pat: &str) -> Option<usize> {
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
pub(in crate::server) fn num_after(s: &str, key: &str) -> Option<u64> {
    find(s, key).and_then(|i| num(&s[i + key.len()..]))
}

pub(in crate::server) fn clamp32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The first unsigned integer in `s` (digits with `,` separators allowed: `32,768`).
pub(in crate::server) fn first_u64(s: &str) -> Option<u64> {
    let start = s.find(|c: char| c.is_ascii_digit())?;
    let digits: String = s[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(|c| *c != ',')
        .collect();
    digits.parse().ok()
}

/// The decimal number after `key` (`key` then optional spaces, then the number).
pub(in crate::server) fn decimal_after(text: &str, key: &str) -> Option<f64> {
    let r = text.split_once(key)?.1.trim_start();
    let end = r
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(r.len());
    r[..end].parse().ok()
}

/// uvicorn's access line (vLLM, vllm-mlx):
/// `INFO:     127.0.0.1:PORT - "POST /v1/messages?beta=true HTTP/1.1" 200 OK`
/// → (path without the query, status).
pub(in crate::server) fn uvicorn_access(text: &str) -> Option<(&str, u16)> {
    let r = text.strip_prefix("INFO:")?.split_once("\"POST ")?.1;
    let (path, r) = r.split_once(' ')?;
    let status = r
        .split_once("\" ")?
        .1
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((path.split('?').next().unwrap_or(path), status))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn shared_scanners() {
        assert_eq!(
            first_u64("CPU KV cache size: 495,695 tokens"),
            Some(495_695)
        );
        assert_eq!(decimal_after("Running: 3 reqs", "Running:"), Some(3.0));
        assert_eq!(
            uvicorn_access(
                "INFO:     127.0.0.1:1 - \"POST /v1/messages?beta=true HTTP/1.1\" 200 OK"
            ),
            Some(("/v1/messages", 200))
        );
        assert_eq!(uvicorn_access("garbage \"POST "), None);
    }

    /// The names `cclocal logs --json` prints for each writer (unchanged by the move to
    /// the one `ServerKind`).
    #[test]
    fn format_names() {
        let ollama = |r| LogFormat {
            kind: ServerKind::Ollama,
            ollama_runner: Some(r),
        };
        assert_eq!(LogFormat::default().name(), "unknown");
        assert_eq!(
            LogFormat::of(ServerKind::LlamaServer).name(),
            "llama-server"
        );
        assert_eq!(
            ollama(OllamaRunner::Go).name(),
            "ollama (go runner, before 0.30)"
        );
        assert_eq!(
            ollama(OllamaRunner::LlamaServer).name(),
            "ollama (llama-server runner, 0.30+)"
        );
        assert_eq!(LogFormat::of(ServerKind::Vllm).name(), "vllm");
        assert_eq!(LogFormat::of(ServerKind::VllmMlx).name(), "vllm-mlx");
    }

    /// What the reader does with a line, on its own: the own-reader rows on the raw text
    /// first, then the others on the shared reader's event.
    fn sign(text: &str, unknown: bool, after_slog: bool) -> Option<Sign> {
        let own = Seen {
            text,
            event: &LogEvent::Other,
            unknown,
            after_slog,
        };
        detect(&own, true).or_else(|| {
            let l = parse_line(text);
            let seen = Seen {
                text,
                event: &l.event,
                unknown,
                after_slog,
            };
            detect(&seen, false)
        })
    }

    /// Every row names its own kind from one of its server's real lines (the fixtures in
    /// tests/fixtures/server-logs/), and no other row claims that line.
    #[test]
    fn each_row_names_its_kind_from_its_own_line() {
        let ollama = |r| LogFormat {
            kind: ServerKind::Ollama,
            ollama_runner: Some(r),
        };
        let cases = [
            (
                "INFO:vllm_mlx.server:[REQUEST] POST /v1/messages (anthropic)",
                Sign::Proof(LogFormat::of(ServerKind::VllmMlx)),
            ),
            (
                "(APIServer pid=1) INFO 12-07 08:00:00 [a.py:1] Using max model len 8192",
                Sign::Proof(LogFormat::of(ServerKind::Vllm)),
            ),
            (
                r#"time=2026-11-20T10:01:00.000+01:00 level=INFO source=llama_server.go:540 msg="starting llama-server" cmd="/usr/lib/ollama/llama-server --model /m -c 16384""#,
                Sign::Proof(ollama(OllamaRunner::LlamaServer)),
            ),
            (
                r#"time=2025-06-02T09:01:00.000Z level=INFO source=server.go:438 msg="starting llama server" cmd="/usr/local/bin/ollama runner --model /m --ctx-size 4096""#,
                Sign::Proof(ollama(OllamaRunner::Go)),
            ),
            (
                "0.00.006.136 I srv  llama_server: initializing ...",
                Sign::Hint(LogFormat::of(ServerKind::LlamaServer)),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(sign(line, true, false), Some(want), "{line}");
        }
        let kinds: Vec<ServerKind> = KIND_LOGS.iter().map(|k| k.kind).collect();
        for (_, want) in cases {
            let (Sign::Proof(f) | Sign::Hint(f)) = want;
            assert!(kinds.contains(&f.kind));
        }
        // A model load is llama-server's, unless an Ollama `time=` line came first.
        let load = "0.00.011.162 I srv    load_model: loading model '/models/m.gguf'";
        assert_eq!(
            sign(load, true, false),
            Some(Sign::Hint(LogFormat::of(ServerKind::LlamaServer)))
        );
        assert_eq!(
            sign(load, true, true),
            Some(Sign::Hint(ollama(OllamaRunner::LlamaServer)))
        );
        // vLLM's and vllm-mlx's marks count only while nothing is known.
        assert_eq!(
            sign(
                "(APIServer pid=1) INFO 12-07 08:00:00 [a.py:1] x",
                false,
                false
            ),
            None
        );
        assert_eq!(sign("nothing a server writes", true, false), None);
    }
}
