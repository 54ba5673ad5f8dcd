//! The server log's model (loads, tasks, truncations) and the streaming state machine that
//! builds it, line by line, in file order.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::server::logline::{self, parse_line, LogEvent, LogFormat, Seen, Sign, Stamp};
use crate::server::ollama::log::{parse_env_map, runner_command, OllamaRunner};
use crate::server::ServerKind;

/// Which clock the log's times are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// No timestamps at all.
    #[default]
    None,
    /// Time since the server started (llama-server's prefix); each start is a new epoch.
    Elapsed,
    /// UTC wall time (Ollama's slog `time=`).
    Wall,
    /// Local wall time without a zone (Ollama's `[GIN]` lines only).
    Local,
}

impl Clock {
    pub fn as_str(self) -> &'static str {
        match self {
            Clock::None => "none",
            Clock::Elapsed => "elapsed",
            Clock::Wall => "wall",
            Clock::Local => "local",
        }
    }
}

/// Why a model was loaded again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadReason {
    /// The first load in the log.
    First,
    /// Ollama's keep-alive timer expired and the model was unloaded before.
    KeepAliveExpired,
    /// The same model with another context size (`num_ctx`).
    DifferentContext,
    /// Another model.
    OtherModel,
    /// The server was restarted (or the reason is not in the log).
    Restart,
}

impl ReloadReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ReloadReason::First => "first load",
            ReloadReason::KeepAliveExpired => "keep-alive expired",
            ReloadReason::DifferentContext => "different num_ctx",
            ReloadReason::OtherModel => "another model",
            ReloadReason::Restart => "server restarted",
        }
    }
}

/// A KV cache allocation as the server logged it.
#[derive(Debug, Clone, PartialEq)]
pub struct KvAlloc {
    pub mib: f64,
    pub cells: Option<u64>,
    pub k_type: String,
    pub v_type: String,
}

/// One model load.
#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    /// Log-clock time of the first line of the load, and its epoch.
    pub at: Option<i64>,
    pub epoch: u32,
    pub model: Option<String>,
    pub n_ctx: Option<u64>,
    pub n_ctx_seq: Option<u64>,
    pub n_seq_max: Option<u64>,
    pub n_slots: Option<u32>,
    /// `flash_attn =` as configured (`auto`, `enabled`, `disabled`, `1`, `0`) and what `auto`
    /// resolved to.
    pub flash_attn: Option<String>,
    pub flash_resolved: Option<bool>,
    pub kv: Vec<KvAlloc>,
    /// The KV cache type that was asked for: Ollama's `OLLAMA_KV_CACHE_TYPE`, the runner's
    /// `--cache-type-k`, or `KvCacheType` of the load request.
    pub kv_requested: Option<String>,
    /// Flash attention as asked for (`--flash-attn`, `FlashAttention`, `OLLAMA_FLASH_ATTENTION`).
    pub flash_requested: Option<String>,
    /// `-c` / `--ctx-size` / `KvSize` of the runner command.
    pub ctx_requested: Option<u64>,
    pub offload: Option<(u32, u32)>,
    pub ready_at: Option<i64>,
    pub reason: ReloadReason,
}

impl Load {
    /// A load with nothing known yet but when it began.
    pub(super) fn new_at(at: Option<i64>, epoch: u32) -> Self {
        Self::new(at, epoch)
    }

    fn new(at: Option<i64>, epoch: u32) -> Self {
        Load {
            at,
            epoch,
            model: None,
            n_ctx: None,
            n_ctx_seq: None,
            n_seq_max: None,
            n_slots: None,
            flash_attn: None,
            flash_resolved: None,
            kv: Vec::new(),
            kv_requested: None,
            flash_requested: None,
            ctx_requested: None,
            offload: None,
            ready_at: None,
            reason: ReloadReason::First,
        }
    }

    /// The context one request can use: per slot when known.
    pub fn context(&self) -> Option<u64> {
        self.n_ctx_seq.or(self.n_ctx).or(self.ctx_requested)
    }

    /// The K type of the largest allocation (`f16` when the server ignored a quantised type).
    pub fn kv_type(&self) -> Option<&str> {
        self.kv
            .iter()
            .max_by(|a, b| a.mib.total_cmp(&b.mib))
            .map(|k| k.k_type.as_str())
    }

    pub fn kv_mib(&self) -> f64 {
        self.kv.iter().map(|k| k.mib).sum()
    }

    /// Flash attention in effect: resolved, else the setting.
    pub fn flash_on(&self) -> Option<bool> {
        self.flash_resolved.or(match self.flash_attn.as_deref() {
            Some("enabled" | "1" | "true" | "on") => Some(true),
            Some("disabled" | "0" | "false" | "off") => Some(false),
            _ => None,
        })
    }
}

/// One request the server processed (a llama-server task, or an Ollama `[GIN]` line).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Task {
    pub id: u64,
    pub slot: u32,
    pub epoch: u32,
    /// Log-clock time it started (launch line, or an HTTP line's end minus its duration).
    pub at: Option<i64>,
    /// When it ended (release or timing line).
    pub end: Option<i64>,
    /// Whole prompt, from `new prompt … task.n_tokens` or derived from the release line.
    pub prompt_tokens: Option<u64>,
    /// Prompt tokens evaluated (not taken from the cache).
    pub prompt_eval_tokens: Option<u64>,
    pub prefill_ms: Option<f64>,
    pub eval_tokens: Option<u64>,
    pub decode_ms: Option<f64>,
    /// Tokens in the slot when released.
    pub n_tokens_end: Option<u64>,
    /// The context filled during generation (`truncated = 1`).
    pub truncated: bool,
    pub cancelled: bool,
    /// Refused: the prompt did not fit (`prompt`, `n_ctx`).
    pub overflow: Option<(u64, u64)>,
    /// Tokens thrown away by context shifts.
    pub shifted: u64,
    /// From an HTTP line (Ollama `[GIN]`): status and the route.
    pub http: Option<(u16, String)>,
    /// The whole request, prefill and decode together, where only that is logged
    /// (vllm-mlx's `N tokens in S s`).
    pub total_ms: Option<f64>,
    /// Index of the load that served it.
    pub load: Option<usize>,
    /// The last `prompt processing` line of its prefill (llama-server), while and after
    /// it ran.
    pub prefill_progress: Option<PrefillProgress>,
}

/// Where a prefill stood at a `prompt processing` line.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PrefillProgress {
    /// Prompt tokens in the slot so far.
    pub n_tokens: u64,
    /// Their share of the whole prompt, 0 to 1.
    pub progress: f64,
    /// The server's own rate for this prefill so far.
    pub tokens_per_s: Option<f64>,
}

impl PrefillProgress {
    /// The whole prompt, from the share (`None` before the first batch is done).
    pub fn total(&self) -> Option<u64> {
        (self.progress > 0.0).then(|| (self.n_tokens as f64 / self.progress).round() as u64)
    }
}

impl Task {
    /// Prompt tokens served from the cache.
    pub fn cached_tokens(&self) -> Option<u64> {
        match (self.prompt_tokens, self.prompt_eval_tokens) {
            (Some(p), Some(e)) => Some(p.saturating_sub(e)),
            _ => None,
        }
    }
}

/// `truncating input prompt` (Ollama).
#[derive(Debug, Clone, PartialEq)]
pub struct Truncation {
    pub at: Option<i64>,
    pub epoch: u32,
    pub limit: u64,
    pub prompt: u64,
    pub keep: u64,
    pub new: u64,
}

/// The whole log, read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServerAnalysis {
    /// Which server wrote the log (`Unknown` until a line names it; `server::logline`).
    pub kind: ServerKind,
    /// Ollama: which runner it ran (Go runners before 0.30, llama-server since).
    pub ollama_runner: Option<OllamaRunner>,
    pub clock: Clock,
    pub lines: u64,
    pub first_at: Option<i64>,
    pub last_at: Option<i64>,
    /// Ollama's `OLLAMA_*` settings from its last `server config` line.
    pub config: Vec<(String, String)>,
    pub loads: Vec<Load>,
    pub tasks: Vec<Task>,
    pub truncations: Vec<Truncation>,
    /// Refused prompts with no task line (Ollama's 400 text): when, and the epoch.
    pub refused_text: Vec<(Option<i64>, u32)>,
    /// Keep-alive expiries.
    pub expiries: Vec<Option<i64>>,
    pub context_shifts: u64,
    /// When Ollama last started (its `server config` line), on the log's clock.
    pub last_start_at: Option<i64>,
    /// Lines longer than the reader's cap, skipped and counted.
    pub long_lines_skipped: u64,
    /// Entries dropped from the front of `tasks`, `loads`, `truncations`, `refused_text`
    /// and `expiries` when one grew past its cap (the most recent [`MAX_KEPT`] are kept).
    pub dropped: u64,
    /// Totals of the dropped tasks: prefill ms, decode ms, evaluated and cached prompt tokens.
    pub dropped_totals: (f64, f64, u64, u64),
    /// vLLM's periodic throughput lines, in order.
    pub throughput: Vec<super::python::Throughput>,
    /// vLLM: the seconds each throughput line covers (read from the log, else vLLM's default).
    pub stats_interval_s: Option<f64>,
    /// vllm-mlx: `Max request tokens: N`, the largest `max_tokens` a request may ask for.
    pub max_request_tokens: Option<u64>,
}

impl ServerAnalysis {
    /// The writer: kind and Ollama's runner.
    pub fn format(&self) -> LogFormat {
        LogFormat {
            kind: self.kind,
            ollama_runner: self.ollama_runner,
        }
    }

    /// The writer's name in reports and `--json` (`llama-server`, `ollama (go runner,
    /// before 0.30)`, …).
    pub fn kind_name(&self) -> &'static str {
        self.format().name()
    }

    /// Tasks with timing figures.
    pub fn timed(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter().filter(|t| t.prefill_ms.is_some())
    }

    pub fn setting(&self, key: &str) -> Option<&str> {
        self.config
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn prefill_ms(&self) -> f64 {
        self.dropped_totals.0 + self.tasks.iter().filter_map(|t| t.prefill_ms).sum::<f64>()
    }

    pub fn decode_ms(&self) -> f64 {
        self.dropped_totals.1 + self.tasks.iter().filter_map(|t| t.decode_ms).sum::<f64>()
    }

    pub fn prompt_eval_tokens(&self) -> u64 {
        self.dropped_totals.2
            + self
                .tasks
                .iter()
                .filter_map(|t| t.prompt_eval_tokens)
                .sum::<u64>()
    }

    pub fn cached_tokens(&self) -> u64 {
        self.dropped_totals.3
            + self
                .tasks
                .iter()
                .filter_map(|t| t.cached_tokens())
                .sum::<u64>()
    }

    /// The prefill time the cache saved, at this log's own prefill rate (ms per evaluated
    /// token over all tasks): an estimate, low for long prompts (attention grows with them).
    pub fn cache_saved_ms(&self) -> f64 {
        let tokens = self.prompt_eval_tokens();
        if tokens == 0 {
            return 0.0;
        }
        self.prefill_ms() / tokens as f64 * self.cached_tokens() as f64
    }
}

/// Tasks kept in the id map at most (the map only resolves lines of running tasks).
const MAX_OPEN: usize = 1024;
/// Tasks, truncations, refusals and expiries kept (the most recent); older ones are dropped
/// in halves once a list holds twice this many, so memory stays bounded and the read linear.
pub const MAX_KEPT: usize = 16 * 1024;
/// Loads kept (the most recent), and KV allocations per load.
const MAX_LOADS: usize = 512;
const MAX_KV: usize = 16;
/// Longest text (model path, setting) kept from a line, in bytes.
const MAX_TEXT: usize = 1024;

/// `s` cut to at most [`MAX_TEXT`] bytes at a character boundary.
fn cut(s: &str) -> String {
    let mut end = s.len().min(MAX_TEXT);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// Drops the oldest half of `v` once it holds `2 * cap`; returns how many were dropped.
fn halve<T>(v: &mut Vec<T>, cap: usize) -> usize {
    if v.len() < 2 * cap {
        return 0;
    }
    v.drain(..cap);
    cap
}

/// The streaming reader's state.
#[derive(Default)]
pub struct ServerAnalyzer {
    a: ServerAnalysis,
    now: Option<i64>,
    epoch: u32,
    last_elapsed: Option<i64>,
    open: HashMap<(u32, u64), usize>,
    /// Task id to its slot in `open` (lines that name a task but not its slot).
    open_by_id: HashMap<u64, u32>,
    /// Tasks dropped from the front of `tasks` (HTTP-line tasks are numbered by position).
    tasks_base: u64,
    last_timing: Option<usize>,
    load_open: bool,
    expired_since_load: bool,
    saw_slog: bool,
    /// llama-server tasks seen since the last `[GIN]` line (Ollama 0.30+ prints both).
    since_http: Vec<usize>,
    /// The zone offset (minutes) of the last slog time: turns `[GIN]` local times into UTC.
    tz_off_min: Option<i64>,
    /// vLLM's and vllm-mlx's lines.
    py: super::python::PyState,
}

impl ServerAnalyzer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one raw line.
    pub fn line(&mut self, text: &str) {
        self.a.lines += 1;
        // A kind with a reader of its own (vLLM, vllm-mlx): named by a line of its own
        // before anything else is known, then read by that reader.
        if self.a.kind == ServerKind::Unknown {
            let seen = Seen {
                text,
                event: &LogEvent::Other,
                unknown: true,
                after_slog: self.saw_slog,
            };
            self.sign(logline::detect(&seen, true));
        }
        if let Some(read) = logline::own_reader(self.a.kind) {
            if let Some(e) = read(text) {
                super::python::event(&mut self.a, &mut self.py, e);
                return;
            }
        }
        let l = parse_line(text);
        match l.stamp {
            Stamp::None => {}
            Stamp::Elapsed(ms) => {
                if self.a.clock == Clock::None {
                    self.a.clock = Clock::Elapsed;
                }
                if self.last_elapsed.is_some_and(|p| ms + 1000 < p) {
                    self.epoch += 1;
                }
                self.last_elapsed = Some(ms);
                self.stamp(ms);
            }
            Stamp::Wall(ms) => {
                self.saw_slog = true;
                self.tz_off_min = text.strip_prefix("time=").and_then(|r| {
                    crate::server::ollama::log::zone_offset_min(r.split(' ').next().unwrap_or(""))
                });
                if matches!(self.a.clock, Clock::None | Clock::Local) {
                    self.a.clock = Clock::Wall;
                }
                self.stamp(ms);
            }
            Stamp::Local(ms) => {
                if self.a.clock == Clock::None {
                    self.a.clock = Clock::Local;
                }
                // Local stamps only count when there is no better clock.
                if self.a.clock == Clock::Local {
                    self.stamp(ms);
                }
            }
        }
        let seen = Seen {
            text,
            event: &l.event,
            unknown: self.a.kind == ServerKind::Unknown,
            after_slog: self.saw_slog,
        };
        self.sign(logline::detect(&seen, false));
        self.event(l.event, l.stamp);
    }

    /// What a line said about the writer: a proof decides, a hint counts while nothing is
    /// known.
    fn sign(&mut self, s: Option<Sign>) {
        let f = match s {
            Some(Sign::Proof(f)) => f,
            Some(Sign::Hint(f)) if self.a.kind == ServerKind::Unknown => f,
            _ => return,
        };
        self.a.kind = f.kind;
        self.a.ollama_runner = f.ollama_runner;
    }

    fn stamp(&mut self, ms: i64) {
        self.now = Some(ms);
        self.a.first_at.get_or_insert(ms);
        self.a.last_at = Some(self.a.last_at.map_or(ms, |t| t.max(ms)));
    }

    fn load_mut(&mut self) -> &mut Load {
        if !self.load_open || self.a.loads.is_empty() {
            self.begin_load();
        }
        let i = self.a.loads.len() - 1;
        &mut self.a.loads[i]
    }

    fn begin_load(&mut self) {
        let mut l = Load::new(self.now, self.epoch);
        // The settings Ollama runs every load with.
        if let Some(t) = self
            .a
            .setting("OLLAMA_KV_CACHE_TYPE")
            .filter(|v| !v.is_empty())
        {
            l.kv_requested = Some(t.to_string());
        }
        if let Some(f) = self
            .a
            .setting("OLLAMA_FLASH_ATTENTION")
            .filter(|v| !v.is_empty())
        {
            l.flash_requested = Some(f.to_string());
        }
        self.a.loads.push(l);
        self.load_open = true;
        if self.a.loads.len() >= 2 * MAX_LOADS {
            self.a.loads.drain(..MAX_LOADS);
            self.a.dropped += MAX_LOADS as u64;
            for t in &mut self.a.tasks {
                t.load = t.load.and_then(|l| l.checked_sub(MAX_LOADS));
            }
        }
    }

    /// Task index of the open task with id `id` (any slot).
    fn open_index(&self, id: u64) -> Option<usize> {
        let slot = self.open_by_id.get(&id)?;
        self.open.get(&(*slot, id)).copied()
    }

    fn close_all(&mut self) {
        self.open.clear();
        self.open_by_id.clear();
    }

    /// Keeps `tasks` bounded: drops the oldest half and moves every index that points into it.
    fn trim_tasks(&mut self) {
        if self.a.tasks.len() < 2 * MAX_KEPT {
            return;
        }
        for t in &self.a.tasks[..MAX_KEPT] {
            let d = &mut self.a.dropped_totals;
            d.0 += t.prefill_ms.unwrap_or(0.0);
            d.1 += t.decode_ms.unwrap_or(0.0);
            d.2 += t.prompt_eval_tokens.unwrap_or(0);
            d.3 += t.cached_tokens().unwrap_or(0);
        }
        self.a.tasks.drain(..MAX_KEPT);
        self.a.dropped += MAX_KEPT as u64;
        self.tasks_base += MAX_KEPT as u64;
        self.open.retain(|_, i| match i.checked_sub(MAX_KEPT) {
            Some(n) => {
                *i = n;
                true
            }
            None => false,
        });
        let open = &self.open;
        self.open_by_id
            .retain(|id, slot| open.contains_key(&(*slot, *id)));
        self.since_http = self
            .since_http
            .iter()
            .filter_map(|i| i.checked_sub(MAX_KEPT))
            .collect();
        self.last_timing = self.last_timing.and_then(|i| i.checked_sub(MAX_KEPT));
    }

    /// An open load with nothing allocated yet (its lines may still come).
    fn fresh_load(&self) -> bool {
        self.load_open
            && self
                .a
                .loads
                .last()
                .is_some_and(|l| l.ready_at.is_none() && l.n_ctx.is_none() && l.kv.is_empty())
    }

    fn task_mut(&mut self, slot: Option<u32>, id: u64) -> Option<&mut Task> {
        let i = match slot {
            Some(s) => self.open.get(&(s, id)).copied(),
            None => self.open_index(id),
        }?;
        self.a.tasks.get_mut(i)
    }

    fn new_task(&mut self, slot: u32, id: u64) -> usize {
        if self.open.len() >= MAX_OPEN {
            self.close_all();
        }
        self.trim_tasks();
        let load = self.a.loads.len().checked_sub(1);
        self.a.tasks.push(Task {
            id,
            slot,
            epoch: self.epoch,
            at: self.now,
            load,
            ..Task::default()
        });
        let i = self.a.tasks.len() - 1;
        self.open.insert((slot, id), i);
        self.open_by_id.insert(id, slot);
        if self.since_http.len() < MAX_OPEN {
            self.since_http.push(i);
        }
        i
    }

    fn event(&mut self, e: LogEvent<'_>, stamp: Stamp) {
        let now = self.now;
        match e {
            LogEvent::Other => {}
            // vLLM's and vllm-mlx's lines: their own readers' (`python.rs`).
            LogEvent::Access { .. }
            | LogEvent::Request { .. }
            | LogEvent::Stats(_)
            | LogEvent::MaxModelLen(_)
            | LogEvent::BannerModel(_)
            | LogEvent::MaxRequestTokens(_)
            | LogEvent::PromptCache { .. }
            | LogEvent::RequestDone { .. } => {}
            LogEvent::ServerStart => {
                // Under Ollama the runner's start follows Ollama's own `starting llama-server`
                // line: same load.
                if !self.fresh_load() {
                    self.load_open = false;
                }
                self.close_all();
            }
            LogEvent::StartRunner { cmd, .. } => {
                self.load_open = false;
                self.close_all();
                self.begin_load();
                let c = runner_command(cmd);
                let l = self.load_mut();
                if let Some(n) = c.ctx_size {
                    l.ctx_requested = Some(n);
                }
                if let Some(t) = &c.kv_type {
                    l.kv_requested = Some(cut(t));
                }
                if let Some(f) = &c.flash_attn {
                    l.flash_requested = Some(cut(f));
                }
                if let Some(m) = &c.model {
                    l.model = Some(cut(m));
                }
            }
            LogEvent::LoadModel { path } => {
                // Ollama names the model on its own line right after `starting llama-server`;
                // llama-server's own `loading model` line comes once per start.
                if !self.fresh_load() {
                    self.begin_load();
                }
                self.load_mut().model = Some(cut(path));
            }
            LogEvent::LoadRequest {
                kv_size,
                kv_type,
                flash_attention,
            } => {
                let l = self.load_mut();
                if kv_size.is_some() {
                    l.ctx_requested = kv_size;
                }
                if let Some(t) = kv_type.filter(|t| !t.is_empty()) {
                    l.kv_requested = Some(t.to_string());
                }
                if let Some(f) = flash_attention {
                    l.flash_requested = Some(if f { "on" } else { "off" }.into());
                }
            }
            LogEvent::ServerConfig { env } => {
                self.saw_slog = true;
                self.a.config = parse_env_map(env);
                self.a.last_start_at = now;
            }
            LogEvent::NCtx(n) => self.load_mut().n_ctx = Some(n),
            LogEvent::NCtxSeq(n) => self.load_mut().n_ctx_seq = Some(n),
            LogEvent::NSeqMax(n) => self.load_mut().n_seq_max = Some(n),
            LogEvent::FlashAttn(v) => self.load_mut().flash_attn = Some(v.to_string()),
            LogEvent::FlashResolved(on) => self.load_mut().flash_resolved = Some(on),
            LogEvent::KvCache {
                mib,
                cells,
                k_type,
                v_type,
            } => {
                let kv = &mut self.load_mut().kv;
                if kv.len() < MAX_KV {
                    kv.push(KvAlloc {
                        mib,
                        cells,
                        k_type: cut(k_type),
                        v_type: cut(v_type),
                    });
                }
            }
            LogEvent::Offload { layers, of } => self.load_mut().offload = Some((layers, of)),
            LogEvent::Slots {
                n_slots,
                n_ctx_slot,
            } => {
                let l = self.load_mut();
                l.n_slots = Some(n_slots);
                l.n_ctx_seq.get_or_insert(n_ctx_slot);
            }
            LogEvent::Ready => {
                // Ollama 0.30+ logs both llama-server's `model loaded` and its own
                // `llama-server started in`: the first one closes the load.
                if self.load_open {
                    self.load_mut().ready_at = now;
                    self.load_open = false;
                    self.finish_load_reason();
                }
            }
            LogEvent::Shutdown => {
                self.load_open = false;
                self.close_all();
            }
            LogEvent::Expired => {
                self.a.expiries.push(now);
                self.a.dropped += halve(&mut self.a.expiries, MAX_KEPT) as u64;
                self.expired_since_load = true;
            }
            LogEvent::Launch { slot, task } => {
                self.new_task(slot, task);
            }
            LogEvent::NewPrompt {
                task,
                n_ctx_slot: _,
                n_tokens,
            } => {
                if let Some(t) = self.task_mut(None, task) {
                    t.prompt_tokens = Some(n_tokens);
                }
            }
            LogEvent::PromptProgress {
                task,
                n_tokens,
                progress,
                tokens_per_s,
            } => {
                if let Some(t) = self.task_mut(None, task) {
                    t.prefill_progress = Some(PrefillProgress {
                        n_tokens,
                        progress,
                        tokens_per_s,
                    });
                }
            }
            LogEvent::TimingHeader { task } => {
                self.timing_task(Some(task));
            }
            LogEvent::PromptEval { task, ms, tokens } => {
                if let Some(i) = self.timing_task(task) {
                    let t = &mut self.a.tasks[i];
                    t.prefill_ms = Some(ms);
                    t.prompt_eval_tokens = Some(tokens);
                    t.end = now.or(t.end);
                }
            }
            LogEvent::Eval { task, ms, tokens } => {
                if let Some(i) = self.timing_task(task) {
                    let t = &mut self.a.tasks[i];
                    t.decode_ms = Some(ms);
                    t.eval_tokens = Some(tokens);
                    t.end = now.or(t.end);
                }
            }
            LogEvent::Release {
                task,
                n_tokens,
                truncated,
            } => {
                if let Some(i) = self
                    .open_by_id
                    .get(&task)
                    .and_then(|s| Some(((*s, task), *self.open.get(&(*s, task))?)))
                {
                    self.open.remove(&i.0);
                    self.open_by_id.remove(&task);
                    let t = &mut self.a.tasks[i.1];
                    t.n_tokens_end = Some(n_tokens);
                    t.truncated = truncated;
                    t.end = now.or(t.end);
                    // Without the verbose `new prompt` line: the slot holds prompt + generated
                    // − 1 (the last sampled token is never decoded).
                    if t.prompt_tokens.is_none() && t.overflow.is_none() && !t.cancelled {
                        if let Some(e) = t.eval_tokens {
                            t.prompt_tokens = Some((n_tokens + 1).saturating_sub(e));
                        }
                    }
                }
            }
            LogEvent::ContextShift { task, n_discard } => {
                self.a.context_shifts += 1;
                if let Some(t) = self.task_mut(None, task) {
                    t.shifted += n_discard;
                }
            }
            LogEvent::Overflow {
                task,
                prompt,
                n_ctx,
            } => {
                let idx = task.and_then(|id| self.open_index(id));
                let i = match idx {
                    Some(i) => i,
                    None => self.new_task(0, task.unwrap_or(u64::MAX)),
                };
                let t = &mut self.a.tasks[i];
                t.overflow = Some((prompt, n_ctx));
                t.prompt_tokens = Some(prompt);
            }
            LogEvent::OverflowText => {
                self.a.refused_text.push((now, self.epoch));
                self.a.dropped += halve(&mut self.a.refused_text, MAX_KEPT) as u64;
            }
            LogEvent::Cancel { task } => {
                if let Some(t) = self.task_mut(None, task) {
                    t.cancelled = true;
                }
            }
            LogEvent::Truncating {
                limit,
                prompt,
                keep,
                new,
            } => {
                self.a.truncations.push(Truncation {
                    at: now,
                    epoch: self.epoch,
                    limit,
                    prompt,
                    keep,
                    new,
                });
                self.a.dropped += halve(&mut self.a.truncations, MAX_KEPT) as u64;
            }
            LogEvent::Http {
                status,
                ms,
                method,
                path,
            } => {
                // Ollama's model routes only; the start is the line's time minus the duration.
                let model_route = method == "POST"
                    && matches!(
                        path,
                        "/api/chat" | "/api/generate" | "/v1/messages" | "/v1/chat/completions"
                    );
                if model_route {
                    let end = match stamp {
                        Stamp::Local(t) if self.a.clock == Clock::Local => Some(t),
                        Stamp::Local(t) => match self.tz_off_min {
                            Some(off) => Some(t - off * 60_000),
                            None => now,
                        },
                        _ => now,
                    };
                    let at = end.map(|e| e.saturating_sub(ms.round() as i64));
                    // The runner's own task for this request, when its lines came first:
                    // it gets the HTTP line's times (raw runner lines carry none).
                    if !self.since_http.is_empty() {
                        let i = self.since_http.remove(0);
                        let t = &mut self.a.tasks[i];
                        t.http = Some((status, path.to_string()));
                        if at.is_some() {
                            t.at = at;
                            t.end = end;
                        }
                        return;
                    }
                    self.trim_tasks();
                    let id = self.tasks_base + self.a.tasks.len() as u64;
                    let load = self.a.loads.len().checked_sub(1);
                    self.a.tasks.push(Task {
                        id,
                        epoch: self.epoch,
                        at,
                        end,
                        http: Some((status, path.to_string())),
                        load,
                        ..Task::default()
                    });
                }
            }
        }
    }

    /// The task a timing line belongs to; one is started when its launch line is not in the
    /// log (an excerpt, or a log that begins mid-request).
    fn timing_task(&mut self, task: Option<u64>) -> Option<usize> {
        match task {
            Some(id) => {
                let i = match self.open_index(id) {
                    Some(i) => i,
                    None => self.new_task(0, id),
                };
                self.last_timing = Some(i);
                Some(i)
            }
            None => self.last_timing,
        }
    }

    /// Why the load that just finished happened, from the one before it.
    fn finish_load_reason(&mut self) {
        let n = self.a.loads.len();
        if n < 2 {
            self.expired_since_load = false;
            return;
        }
        let (prev, cur) = (&self.a.loads[n - 2], &self.a.loads[n - 1]);
        let reason = if prev.model.is_some() && cur.model.is_some() && prev.model != cur.model {
            ReloadReason::OtherModel
        } else if prev.context().is_some()
            && cur.context().is_some()
            && prev.context() != cur.context()
        {
            ReloadReason::DifferentContext
        } else if self.expired_since_load {
            ReloadReason::KeepAliveExpired
        } else {
            ReloadReason::Restart
        };
        self.a.loads[n - 1].reason = reason;
        self.expired_since_load = false;
    }

    /// The analysis so far, while lines are still coming (`logs --follow`).
    pub fn current(&self) -> &ServerAnalysis {
        &self.a
    }

    /// Over-long lines a reader skipped (counted in the analysis).
    pub fn skipped_long_lines(&mut self, n: u64) {
        self.a.long_lines_skipped += n;
    }

    pub fn finish(mut self) -> ServerAnalysis {
        // A load that never logged `ready` still gets its reason.
        if self.load_open {
            self.finish_load_reason();
        }
        super::python::finish(&mut self.a, &mut self.py);
        self.a
    }
}

const BUF: usize = 256 * 1024;

/// Feeds every line of `reader` (lossy UTF-8; the debug log's line reader).
pub fn feed<R: Read>(an: &mut ServerAnalyzer, reader: R) -> std::io::Result<()> {
    let skipped = crate::logs::read::for_each_line(reader, |line| an.line(line))?;
    an.a.long_lines_skipped += skipped;
    Ok(())
}

/// Reads log text already in memory.
pub fn analyze_bytes(bytes: &[u8]) -> ServerAnalysis {
    let mut an = ServerAnalyzer::new();
    let _ = feed(&mut an, bytes);
    an.finish()
}

/// Whether the reader recognised anything of a server's log in `a`: the server's kind, a
/// model load, a request, Ollama's settings or a truncation. A server log cut from the
/// middle of a run still has requests; `/etc/passwd` or a debug log has none of these.
pub fn looks_like_server_log(a: &ServerAnalysis) -> bool {
    a.kind != ServerKind::Unknown
        || !a.loads.is_empty()
        || !a.tasks.is_empty()
        || !a.config.is_empty()
        || !a.truncations.is_empty()
        || !a.refused_text.is_empty()
        || !a.expiries.is_empty()
        || a.dropped > 0
}

/// Whether the first 64 KiB of `p` name a server the reader knows (a log whose lines it
/// does not read yet, such as another vLLM version's, is still a server's log).
fn names_a_server(p: &Path) -> bool {
    use std::io::Read;
    let mut head = Vec::new();
    if let Ok(f) = crate::fsread::open_regular(p, "a server log") {
        let _ = f.take(64 * 1024).read_to_end(&mut head);
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    [
        "vllm",
        "llama_model_loader",
        "llama-server",
        "ollama",
        "uvicorn",
        "\"post /v1/",
        "mlx_lm",
    ]
    .iter()
    .any(|m| text.contains(m))
}

/// `Ok` when `a` (read from `paths`) is a server's log; else an error that names the
/// servers whose logs are read and what the file holds instead.
pub fn check_server_log(paths: &[PathBuf], a: &ServerAnalysis) -> Result<()> {
    if looks_like_server_log(a) || paths.iter().any(|p| names_a_server(p)) {
        return Ok(());
    }
    let Some(p) = paths.last() else {
        return Ok(());
    };
    let seen = crate::logs::read::describe_content(p);
    let debug =
        crate::logs::analyze_files(std::slice::from_ref(p)).is_ok_and(|d| d.summary.entries > 0);
    let hint = if debug {
        "this is a Claude Code debug log: pass it as PATH (`cclocal logs PATH --server-log …`)"
    } else {
        "pass llama-server's log file (`--log-file`), Ollama's server.log (or \
         `journalctl -u ollama --no-pager > ollama.log`), or the output of `vllm serve` or \
         vllm-mlx"
    };
    Err(Error::parse(format!(
        "not a server log: expected the log of llama-server, Ollama, vLLM or vllm-mlx \
         (a model load or request lines), found {seen}"
    ))
    .with_subject(p.display().to_string())
    .with_hint(hint))
}

/// Reads the given files in order, as one log (rotated parts oldest first).
pub fn analyze_files(paths: &[PathBuf]) -> Result<ServerAnalysis> {
    let mut an = ServerAnalyzer::new();
    for p in paths {
        let f = open(p)?;
        feed(&mut an, f).map_err(|e| Error::io(p, "read the server log", e))?;
    }
    Ok(an.finish())
}

fn open(p: &Path) -> Result<File> {
    crate::logs::read::open_named(
        p,
        "server log",
        "pass llama-server's log file (`--log-file`), Ollama's server.log, or \
         `journalctl -u ollama --no-pager > ollama.log`",
        "pass one log file from it",
    )
}

/// Reads the last `max_bytes` of a log (from the first whole line), for a quick look at
/// what happened recently (the doctor).
pub fn analyze_tail(path: &Path, max_bytes: u64) -> Result<ServerAnalysis> {
    use std::io::{Seek, SeekFrom};
    let mut f = open(path)?;
    let len = f
        .metadata()
        .map_err(|e| Error::io(path, "read the server log", e))?
        .len();
    let mut an = ServerAnalyzer::new();
    if len > max_bytes {
        f.seek(SeekFrom::Start(len - max_bytes))
            .map_err(|e| Error::io(path, "read the server log", e))?;
        let mut r = BufReader::with_capacity(BUF, f);
        let mut skip = Vec::new();
        r.read_until(b'\n', &mut skip)
            .map_err(|e| Error::io(path, "read the server log", e))?;
        feed(&mut an, r).map_err(|e| Error::io(path, "read the server log", e))?;
    } else {
        feed(&mut an, f).map_err(|e| Error::io(path, "read the server log", e))?;
    }
    Ok(an.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_starts_at_a_whole_line() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.log");
        let line = "0.00.000.001 I slot print_timing: id  0 | task 7 | prompt eval time =      10.00 ms /    20 tokens (x)\n";
        std::fs::write(&p, line.repeat(100)).unwrap();
        let a = analyze_tail(&p, (line.len() * 3 + 5) as u64).unwrap();
        assert_eq!(a.lines, 3);
        assert_eq!(a.tasks.len(), 1);
        assert_eq!(a.tasks[0].prompt_eval_tokens, Some(20));
        assert_eq!(analyze_tail(&p, 1 << 20).unwrap().lines, 100);
    }
}

#[cfg(test)]
mod runner_command_tests {
    use super::*;

    /// Ollama's runner command line goes through the one llama-server reader
    /// (`server::llama_server::parse_command`): `--ctx-size=N` and a bare `-fa` before
    /// another flag read as llama-server reads them (a word-after reader took `--jinja`
    /// for the flash-attention value and missed `=`).
    #[test]
    fn runner_command_line_is_read_like_llama_server_reads_it() {
        let log = "time=2026-11-20T10:01:00.000+01:00 level=INFO source=llama_server.go:540 msg=\"starting llama-server\" cmd=\"/usr/lib/ollama/llama-server --model /m/blob --port 40123 --ctx-size=8192 -ctk q8_0 -fa --jinja\"\n";
        let a = analyze_bytes(log.as_bytes());
        let l = &a.loads[0];
        assert_eq!(l.ctx_requested, Some(8192));
        assert_eq!(l.kv_requested.as_deref(), Some("q8_0"));
        assert_eq!(l.flash_requested.as_deref(), Some("on"));
        assert_eq!(l.model.as_deref(), Some("/m/blob"));
        let go = "time=2026-11-20T10:01:00.000+01:00 level=INFO source=server.go:1 msg=\"starting runner\" cmd=\"/usr/bin/ollama runner --model /m/b --ctx-size 4096 --kv-cache-type q4_0 --flash-attn\"\n";
        let l = analyze_bytes(go.as_bytes()).loads[0].clone();
        assert_eq!(
            (
                l.ctx_requested,
                l.kv_requested.as_deref(),
                l.flash_requested.as_deref()
            ),
            (Some(4096), Some("q4_0"), Some("on"))
        );
    }
}
