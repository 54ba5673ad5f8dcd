//! The server's side in `cclocal logs`: reading the server log(s), joining them to Claude
//! Code's requests, and their JSON and human forms.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::error::Result;
use crate::findings::Finding;
use crate::logs::serverlog::{self, join, Clock, Join, JoinSummary, ServerAnalysis, Task};
use crate::logs::time::{format_iso_ms, human_ms};
use crate::logs::Analysis;

/// The server log, read, and (with a debug log) joined.
pub struct ServerSide {
    pub files: Vec<PathBuf>,
    pub analysis: ServerAnalysis,
    pub join: Option<Join>,
    pub summary: Option<JoinSummary>,
    pub findings: Vec<Finding>,
    /// Found automatically (not named with --server-log).
    pub automatic: bool,
}

/// Reads `named` (or, when empty and a debug log is given, the logs found on this machine,
/// one source at a time: setup's llama-server log, Ollama's app logs, Homebrew's log, then
/// Ollama's journal; a source is kept only when it shares requests with the session).
pub fn load(named: &[PathBuf], claude: Option<&Analysis>) -> Result<Option<ServerSide>> {
    if !named.is_empty() {
        let analysis = serverlog::analyze_files(named)?;
        serverlog::check_server_log(named, &analysis)?;
        return Ok(Some(build(named.to_vec(), analysis, claude, false)));
    }
    let Some(c) = claude else {
        return Ok(None);
    };
    let home = crate::paths::home_dir();
    let found = home
        .as_deref()
        .map(serverlog::default_server_logs)
        .unwrap_or_default();
    // Rotated parts of one log sit in one directory: read together, oldest first.
    let mut groups: Vec<Vec<PathBuf>> = Vec::new();
    for f in found {
        match groups.last_mut() {
            Some(g) if g[0].parent() == f.parent() => g.push(f),
            _ => groups.push(vec![f]),
        }
    }
    for files in groups {
        if let Ok(a) = serverlog::analyze_files(&files) {
            let side = build(files, a, Some(c), true);
            if side.join.as_ref().is_some_and(|j| !j.pairs.is_empty()) {
                return Ok(Some(side));
            }
        }
    }
    // Ollama under systemd: the journal around the session's time.
    if let (Some(a), Some(b)) = (c.summary.first_ts_ms, c.summary.last_ts_ms) {
        let stamp = |ms: i64| format_iso_ms(ms)[..19].replace('T', " ") + " UTC";
        let (since, until) = (stamp(a - 3_600_000), stamp(b + 3_600_000));
        if let Some(text) = serverlog::journal(
            Some(&since),
            Some(&until),
            std::time::Duration::from_secs(3),
        ) {
            let a = serverlog::analyze_bytes(text.as_bytes());
            let side = build(
                vec![PathBuf::from("journalctl -u ollama")],
                a,
                Some(c),
                true,
            );
            if side.join.as_ref().is_some_and(|j| !j.pairs.is_empty()) {
                return Ok(Some(side));
            }
        }
    }
    Ok(None)
}

fn build(
    files: Vec<PathBuf>,
    analysis: ServerAnalysis,
    claude: Option<&Analysis>,
    automatic: bool,
) -> ServerSide {
    let (join, summary, window) = match claude {
        Some(c) => {
            let j = join::join(c, &analysis);
            let s = join::summary(c, &analysis, &j);
            let w = join::window(c, &j);
            (Some(j), Some(s), w)
        }
        None => (None, None, None),
    };
    // Joined: the session's window; a server log alone: all of it.
    let findings = match (&join, window) {
        (Some(_), Some(w)) => serverlog::findings(&analysis, w),
        (Some(_), None) => Vec::new(),
        (None, _) => serverlog::findings(&analysis, serverlog::Window::all()),
    };
    ServerSide {
        files,
        analysis,
        join,
        summary,
        findings,
        automatic,
    }
}

/// `requests[].server` of a joined task.
pub fn task_json(t: &Task) -> Value {
    json!({
        "prompt_tokens": t.prompt_tokens,
        "prompt_tokens_evaluated": t.prompt_eval_tokens,
        "cached_tokens": t.cached_tokens(),
        "prefill_ms": t.prefill_ms.map(round2),
        "decode_ms": t.decode_ms.map(round2),
        "generated_tokens": t.eval_tokens,
        "task": t.id,
        "http_status": t.http.as_ref().map(|h| h.0).filter(|s| *s > 0),
        "request_ms": t.total_ms.map(round2),
        "truncated": t.truncated,
        "cancelled": t.cancelled,
        "overflow": t.overflow.map(|(p, c)| json!({"prompt_tokens": p, "n_ctx": c})),
    })
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn at_json(a: &ServerAnalysis, at: Option<i64>) -> Value {
    match (at, a.clock) {
        (Some(t), Clock::Wall | Clock::Local) => json!(format_iso_ms(t)),
        (Some(t), Clock::Elapsed) => json!(format!("+{}ms", t)),
        _ => Value::Null,
    }
}

/// The `server` object of the JSON report.
pub fn json(s: &ServerSide) -> Value {
    let a = &s.analysis;
    let loads: Vec<Value> = a
        .loads
        .iter()
        .map(|l| {
            json!({
                "at": at_json(a, l.at),
                "model": l.model,
                "n_ctx": l.n_ctx,
                "context_per_slot": l.context(),
                "n_slots": l.n_slots,
                "flash_attn": l.flash_attn,
                "flash_attn_on": l.flash_on(),
                "kv_type": l.kv_type(),
                "kv_mib": round2(l.kv_mib()),
                "kv_type_requested": l.kv_requested,
                "offload": l.offload.map(|(a, b)| json!({"layers": a, "of": b})),
                "reason": l.reason.as_str(),
            })
        })
        .collect();
    let truncations: Vec<Value> = a
        .truncations
        .iter()
        .map(|t| {
            json!({"at": at_json(a, t.at), "limit": t.limit, "prompt": t.prompt,
                   "keep": t.keep, "new": t.new})
        })
        .collect();
    let mut v = json!({
        "files": s.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "found_automatically": s.automatic,
        "kind": a.kind_name(),
        "clock": a.clock.as_str(),
        "lines": a.lines,
        "long_lines_skipped": a.long_lines_skipped,
        "entries_dropped": a.dropped,
        "config": a.config.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "loads": loads,
        "tasks": a.tasks.len(),
        "truncations": truncations,
        "context_shifts": a.context_shifts,
        "prefill_ms": round2(a.prefill_ms()),
        "decode_ms": round2(a.decode_ms()),
        "prompt_tokens_evaluated": a.prompt_eval_tokens(),
        "cached_tokens": a.cached_tokens(),
        "cache_saved_ms": round2(a.cache_saved_ms()),
    });
    if !a.throughput.is_empty() {
        v["throughput"] = throughput_json(a);
    }
    if let Some(n) = a.max_request_tokens {
        v["max_request_tokens"] = json!(n);
    }
    if let Some(j) = &s.join {
        let o = j.main_offset();
        v["join"] = json!({
            "matched": j.pairs.len(),
            "requests": j.requests_considered,
            "server_tasks": j.tasks_considered,
            "tolerance_ms": join::TOLERANCE_MS,
            // Claude Code's time = server time + offset.
            "offset_ms": o.map(|o| o.offset_ms),
            "server_started_at": o.filter(|_| j.clock == Clock::Elapsed).map(|o| format_iso_ms(o.offset_ms)),
            "clock_skew_ms": o.filter(|_| j.clock != Clock::Elapsed).map(|o| o.offset_ms),
            "epochs": j.offsets.iter().map(|o| json!({"epoch": o.epoch, "offset_ms": o.offset_ms, "matched": o.matched})).collect::<Vec<_>>(),
        });
    }
    if let Some(s) = &s.summary {
        v["session"] = summary_json(s);
    }
    if s.join.is_none() {
        v["requests"] = a
            .tasks
            .iter()
            .map(|t| {
                let mut o = task_json(t);
                o["at"] = at_json(a, t.at);
                o
            })
            .collect();
    }
    v
}

/// vLLM's throughput lines: each line, and the peaks and the last prefix-cache hit rate.
fn throughput_json(a: &ServerAnalysis) -> Value {
    let lines: Vec<Value> = a
        .throughput
        .iter()
        .map(|t| {
            json!({
                "prompt_tokens_per_s": t.prompt_tps,
                "generation_tokens_per_s": t.generation_tps,
                "running": t.running,
                "waiting": t.waiting,
                "kv_cache_usage_pct": t.kv_usage_pct,
                "prefix_cache_hit_pct": t.prefix_hit_pct,
            })
        })
        .collect();
    let max = |f: fn(&serverlog::python::Throughput) -> f64| {
        a.throughput.iter().map(f).fold(0.0, f64::max)
    };
    json!({
        "interval_s": a.stats_interval_s,
        "prompt_tokens": (a.throughput.iter().map(|t| t.prompt_tps).sum::<f64>()
            * a.stats_interval_s.unwrap_or(serverlog::python::VLLM_STATS_INTERVAL_S)).round(),
        "peak_prompt_tokens_per_s": max(|t| t.prompt_tps),
        "peak_generation_tokens_per_s": max(|t| t.generation_tps),
        "prefix_cache_hit_pct": a.throughput.iter().rev().find_map(|t| t.prefix_hit_pct),
        "lines": lines,
    })
}

pub fn summary_json(s: &JoinSummary) -> Value {
    json!({
        "matched": s.matched,
        "prefill_ms": round2(s.prefill_ms),
        "decode_ms": round2(s.decode_ms),
        "idle_ms": round2(s.idle_ms),
        "wall_ms": round2(s.wall_ms),
        "prompt_tokens": s.prompt_tokens,
        "prompt_tokens_evaluated": s.prompt_tokens_evaluated,
        "cached_tokens": s.cached_tokens,
        "cache_saved_ms": round2(s.cache_saved_ms),
    })
}

fn pct(part: f64, whole: f64) -> f64 {
    if whole <= 0.0 {
        0.0
    } else {
        part * 100.0 / whole
    }
}

fn ms(v: f64) -> String {
    human_ms(v.max(0.0).round() as u64)
}

fn opt_tokens(v: Option<u64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_else(|| "-".into())
}

fn opt_ms(v: Option<f64>) -> String {
    v.map(ms).unwrap_or_else(|| "-".into())
}

/// The human section: what the server said, and (joined) per request.
pub fn human(s: &ServerSide, claude: Option<&Analysis>, limit: usize) -> String {
    use std::fmt::Write;
    let a = &s.analysis;
    let mut o = String::new();
    let files: Vec<String> = s.files.iter().map(|p| p.display().to_string()).collect();
    let _ = writeln!(
        o,
        "\nServer log ({}{}): {}",
        a.kind_name(),
        if s.automatic {
            ", found automatically"
        } else {
            ""
        },
        files.join(" + ")
    );
    if a.long_lines_skipped > 0 {
        let _ = writeln!(
            o,
            "  {}",
            super::human::long_lines_note(a.long_lines_skipped)
        );
    }
    if a.dropped > 0 {
        let _ = writeln!(
            o,
            "  note: {} of the oldest entries are not kept (the totals include their timings)",
            a.dropped
        );
    }
    let skip_loads =
        a.loads
            .len()
            .saturating_sub(if limit == 0 { usize::MAX } else { limit.max(5) });
    if skip_loads > 0 {
        let _ = writeln!(o, "  … {skip_loads} earlier load(s) not shown");
    }
    for (i, l) in a.loads.iter().enumerate().skip(skip_loads) {
        let mut parts = Vec::new();
        if let Some(c) = l.context() {
            parts.push(format!("context {c}"));
        }
        if let Some(n) = l.n_slots {
            parts.push(format!("{n} slot(s)"));
        }
        if let Some(t) = l.kv_type() {
            parts.push(format!("KV {t} {:.0} MiB", l.kv_mib()));
        }
        if let Some(r) = &l.kv_requested {
            parts.push(format!("KV type set {r}"));
        }
        if let Some(f) = l.flash_on() {
            parts.push(format!("flash attention {}", if f { "on" } else { "off" }));
        }
        if let Some((x, y)) = l.offload {
            parts.push(format!("{x}/{y} layers on GPU"));
        }
        let _ = writeln!(
            o,
            "  load {}: {} — {} ({})",
            i + 1,
            l.model
                .as_deref()
                .map(|m| m.rsplit(['/', '\\']).next().unwrap_or(m))
                .unwrap_or("model"),
            if parts.is_empty() {
                "no details logged".to_string()
            } else {
                parts.join(", ")
            },
            l.reason.as_str()
        );
    }
    if !a.throughput.is_empty() {
        let interval = a
            .stats_interval_s
            .unwrap_or(serverlog::python::VLLM_STATS_INTERVAL_S);
        let tokens = a.throughput.iter().map(|t| t.prompt_tps).sum::<f64>() * interval;
        let peak = |f: fn(&serverlog::python::Throughput) -> f64| {
            a.throughput.iter().map(f).fold(0.0, f64::max)
        };
        let _ = writeln!(
            o,
            "  throughput ({} lines, every {interval:.0} s): {tokens:.0} prompt tokens; busiest interval {:.1} prompt, {:.1} generated tokens/s{}",
            a.throughput.len(),
            peak(|t| t.prompt_tps),
            peak(|t| t.generation_tps),
            a.throughput
                .iter()
                .rev()
                .find_map(|t| t.prefix_hit_pct)
                .map(|p| format!("; prefix cache hit rate {p:.1}%"))
                .unwrap_or_default()
        );
    }
    if let Some(n) = a.max_request_tokens {
        let _ = writeln!(o, "  largest max_tokens accepted: {n}");
    }
    if let Some(j) = &s.join {
        match j.main_offset() {
            Some(off) if j.clock == Clock::Elapsed => {
                let _ = writeln!(
                    o,
                    "  joined {} of {} requests by time; the server's clock counts from its start, {} on Claude Code's clock",
                    j.pairs.len(),
                    j.requests_considered,
                    format_iso_ms(off.offset_ms)
                );
            }
            Some(off) => {
                let _ = writeln!(
                    o,
                    "  joined {} of {} requests by time; clock skew {} (server {} Claude Code)",
                    j.pairs.len(),
                    j.requests_considered,
                    human_ms(off.offset_ms.unsigned_abs()),
                    if off.offset_ms >= 0 {
                        "behind"
                    } else {
                        "ahead of"
                    }
                );
            }
            None if j.clock == Clock::None && !j.pairs.is_empty() => {
                let _ = writeln!(
                    o,
                    "  joined {} of {} requests by order (the server's log has no time per request)",
                    j.pairs.len(),
                    j.requests_considered
                );
            }
            None => {
                let _ = writeln!(
                    o,
                    "  no server task lines up with Claude Code's requests (tolerance {} ms)",
                    join::TOLERANCE_MS
                );
            }
        }
    }
    let header = format!(
        "  {:>4}  {:<12}  {:>8}  {:>9}  {:>8}  {:>9}  {:>9}",
        "#", "start", "prompt", "evaluated", "cached", "prefill", "decode"
    );
    let mut rows: Vec<String> = Vec::new();
    let mut pre_skipped = 0;
    match (&s.join, claude) {
        (Some(j), Some(c)) => {
            for p in &j.pairs {
                let t = &a.tasks[p.task];
                let r = &c.requests[p.request];
                rows.push(row(p.request + 1, &format_iso_ms(r.sent_ms)[11..23], t));
            }
        }
        _ => {
            // Only the rows shown are formatted (a big log has many).
            let from = if limit == 0 {
                0
            } else {
                a.tasks.len().saturating_sub(limit)
            };
            pre_skipped = from;
            for (i, t) in a.tasks.iter().enumerate().skip(from) {
                let when = match (t.at, a.clock) {
                    (Some(x), Clock::Wall | Clock::Local) => format_iso_ms(x)[11..23].to_string(),
                    (Some(x), Clock::Elapsed) => format!("+{}", human_ms(x.max(0) as u64)),
                    _ => "-".into(),
                };
                rows.push(row(i + 1, &when, t));
            }
        }
    }
    if !rows.is_empty() {
        let skip = if limit == 0 {
            0
        } else {
            rows.len().saturating_sub(limit)
        };
        let _ = writeln!(o, "{header}");
        for r in rows.iter().skip(skip) {
            let _ = writeln!(o, "{r}");
        }
        if skip + pre_skipped > 0 {
            let _ = writeln!(
                o,
                "  … {} earlier row(s) not shown (--limit 0 shows all)",
                skip + pre_skipped
            );
        }
    }
    match &s.summary {
        Some(sm) => {
            let _ = writeln!(
                o,
                "  session {}: prefill {} ({:.0}%), decode {} ({:.0}%), idle {} ({:.0}%)",
                ms(sm.wall_ms),
                ms(sm.prefill_ms),
                pct(sm.prefill_ms, sm.wall_ms),
                ms(sm.decode_ms),
                pct(sm.decode_ms, sm.wall_ms),
                ms(sm.idle_ms),
                pct(sm.idle_ms, sm.wall_ms)
            );
            let _ = writeln!(
                o,
                "  prompt cache: {} of {} prompt tokens reused; it saved about {} of prefill",
                sm.cached_tokens,
                sm.prompt_tokens,
                ms(sm.cache_saved_ms)
            );
        }
        None => {
            let _ = writeln!(
                o,
                "  {} request(s): prefill {}, decode {}; prompt cache reused {} tokens (saved about {})",
                a.tasks.len(),
                ms(a.prefill_ms()),
                ms(a.decode_ms()),
                a.cached_tokens(),
                ms(a.cache_saved_ms())
            );
        }
    }
    o
}

fn row(n: usize, when: &str, t: &Task) -> String {
    let mut flags = String::new();
    if t.overflow.is_some() {
        flags.push_str(" refused");
    }
    if t.truncated {
        flags.push_str(" full");
    }
    if t.cancelled {
        flags.push_str(" cancelled");
    }
    format!(
        "  {:>4}  {:<12}  {:>8}  {:>9}  {:>8}  {:>9}  {:>9}{flags}",
        n,
        when,
        opt_tokens(t.prompt_tokens),
        opt_tokens(t.prompt_eval_tokens),
        opt_tokens(t.cached_tokens()),
        match (t.prefill_ms, t.total_ms) {
            (None, Some(all)) => format!("{} all", ms(all)),
            (p, _) => opt_ms(p),
        },
        opt_ms(t.decode_ms)
    )
}
