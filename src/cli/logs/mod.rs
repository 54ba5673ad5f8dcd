//! `cclocal logs`: where a Claude Code session's time went, read from its debug log.
//!
//! `cclocal logs PATH` or `--latest` analyses one log (rotated parts first); without either it
//! lists the recent sessions in the debug directory. Exit 0 whatever the findings (1 with
//! `--strict` when a finding is a warning or an error), 1 when the log cannot be read, 2 on
//! usage errors.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::findings::{worst, Finding, Severity};
use crate::logs::time::{format_iso_ms, human_ms};
use crate::logs::{self, Analysis, DebugEnv, Request, SourceKind};

#[derive(clap::Args, Debug)]
pub struct LogsArgs {
    /// A Claude Code debug log (`claude --debug-file PATH`, or ~/.claude/debug/<session>.txt).
    #[arg(value_name = "PATH", conflicts_with = "latest")]
    pub path: Option<PathBuf>,
    /// The log `~/.claude/debug/latest` points at ($CLAUDE_CODE_DEBUG_LOGS_DIR/latest or
    /// $CLAUDE_CONFIG_DIR/debug/latest when set).
    #[arg(long)]
    pub latest: bool,
    /// The server's context length in tokens, to check Claude Code's window against it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub server_ctx: Option<u64>,
    /// Print JSON: {"requests": [...], "summary": {...}, "findings": [...]}.
    #[arg(long)]
    pub json: bool,
    /// Exit 1 when any finding is a warning or an error.
    #[arg(long)]
    pub strict: bool,
    /// Rows in the request table and chart (the most recent ones); 0 shows all.
    #[arg(long, value_name = "N", default_value_t = 40)]
    pub limit: usize,
}

pub fn run(args: &LogsArgs, verbose: bool) -> Result<i32> {
    let env = DebugEnv::from_process();
    let path = match (&args.path, args.latest) {
        (Some(p), _) => p.clone(),
        (None, true) => logs::latest(&env)?,
        (None, false) => return list(&env, args.json),
    };
    let parts = logs::parts(&path);
    let analysis = logs::analyze_files(&parts)?;
    let opts = logs::RuleOptions {
        server_ctx: args.server_ctx,
    };
    let findings = logs::findings(&analysis, &opts);
    if args.json {
        let v = to_json(&analysis, &findings, &parts);
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        print!(
            "{}",
            human(&analysis, &findings, &parts, args.limit, verbose)
        );
    }
    let bad = worst(&findings) >= Severity::Warning;
    Ok(if args.strict && bad { 1 } else { 0 })
}

fn list(env: &DebugEnv, json: bool) -> Result<i32> {
    let Some(dir) = logs::debug_dir(env) else {
        return Err(Error::not_found("no debug log directory: HOME is not set")
            .with_hint("pass the log's path: `cclocal logs PATH`"));
    };
    let sessions = logs::list_sessions(&dir)?;
    let modified = |s: &logs::SessionFile| {
        s.modified
            .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| format_iso_ms(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
    };
    if json {
        let rows: Vec<Value> = sessions
            .iter()
            .map(|s| {
                json!({"path": s.path.display().to_string(), "size": s.size,
                       "modified": modified(s), "latest": s.latest})
            })
            .collect();
        let v = json!({"debug_dir": dir.display().to_string(), "sessions": rows});
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Ok(0);
    }
    if sessions.is_empty() {
        println!("No Claude Code debug logs in {}.", dir.display());
        println!("To record one, {}.", logs::locate::ENABLE_HINT);
        return Ok(0);
    }
    println!(
        "Claude Code debug logs in {} (newest first):",
        dir.display()
    );
    for s in sessions.iter().take(20) {
        let when = modified(s)
            .map(|m| m[..16].replace('T', " "))
            .unwrap_or_default();
        let name = s
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mark = if s.latest { "  (latest)" } else { "" };
        println!(
            "  {when}  {:>10}  {name}{mark}",
            crate::units::human(s.size)
        );
    }
    if sessions.len() > 20 {
        println!("  … {} older", sessions.len() - 20);
    }
    println!("Analyse one with `cclocal logs PATH`, or `cclocal logs --latest`.");
    Ok(0)
}

fn request_json(r: &Request) -> Value {
    json!({
        "sent_at": format_iso_ms(r.sent_ms),
        "source": &*r.source,
        "model": r.model.as_deref(),
        "first_byte_ms": r.first_byte_ms,
        "status": r.status,
        "attempts": r.attempts,
        "path": &*r.path,
        "kind": r.kind.as_str(),
        "stream_ms": r.stream_ms,
        "failed": r.failed,
        "slow_first_byte": r.slow_first_byte,
        "stalls": r.stalls,
    })
}

/// The JSON report: the contract keys first, then extra detail.
pub fn to_json(a: &Analysis, findings: &[Finding], parts: &[PathBuf]) -> Value {
    let s = &a.summary;
    let by_source: Vec<Value> = s
        .by_source
        .iter()
        .map(|(src, k, n)| json!({"source": &**src, "kind": k.as_str(), "requests": n}))
        .collect();
    let by_model: Vec<Value> = s
        .by_model
        .iter()
        .map(|(m, n)| json!({"model": &**m, "requests": n}))
        .collect();
    let failures: Vec<Value> = s
        .failures
        .iter()
        .map(|(k, n)| {
            json!({"endpoint": &*k.endpoint, "source": &*k.source, "model": k.model.as_deref(),
                   "status": k.status, "count": n})
        })
        .collect();
    json!({
        "requests": a.requests.iter().map(request_json).collect::<Vec<_>>(),
        "summary": {
            "wall_ms": s.wall_ms,
            "requests": s.requests,
            "api_errors": s.api_errors,
            "not_found_404": s.not_found_404,
            "first_byte_ms_total": s.first_byte_ms_total,
            "effective_window": s.effective_window,
            "compactions": s.compactions,
            "stream_ms_total": s.stream_ms_total,
            "other_ms": s.other_ms(),
            "started_at": s.first_ts_ms.map(format_iso_ms),
            "ended_at": s.last_ts_ms.map(format_iso_ms),
            "threshold": s.threshold,
            "autocompact_level": s.autocompact_level.map(|l| l.as_str()),
            "autocompact_level_max": s.autocompact_level_max.map(|l| l.as_str()),
            "threshold_source": s.threshold_source.as_deref(),
            "unknown_model": s.unknown_model.as_deref(),
            "compaction_summaries": s.compaction_summaries,
            "retries": s.retries,
            "slow_first_bytes": s.slow_first_bytes,
            "api_timeouts": s.api_timeouts,
            "stalls": s.stalls,
            "stall_ms": s.stall_ms,
            "turns": s.turns,
            "usage_in": s.usage_in,
            "usage_out": s.usage_out,
            "by_source": by_source,
            "by_model": by_model,
            "failures": failures,
            "lines": s.lines,
        },
        "findings": findings,
        "files": parts.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
    })
}

/// `HH:MM:SS.mmm` of a timestamp.
fn clock(ms: i64) -> String {
    format_iso_ms(ms)[11..23].to_string()
}

fn cell(v: Option<u64>) -> String {
    v.map(human_ms).unwrap_or_else(|| "-".into())
}

fn pct(part: u64, whole: u64) -> u64 {
    part.saturating_mul(100).checked_div(whole).unwrap_or(0)
}

/// The human report: header, request table, first-byte chart, summary, findings.
pub fn human(
    a: &Analysis,
    findings: &[Finding],
    parts: &[PathBuf],
    limit: usize,
    verbose: bool,
) -> String {
    use std::fmt::Write;
    let s = &a.summary;
    let mut o = String::new();
    let files: Vec<String> = parts.iter().map(|p| p.display().to_string()).collect();
    let _ = writeln!(o, "Claude Code debug log: {}", files.join(" + "));
    let span = match (s.first_ts_ms, s.last_ts_ms) {
        (Some(a), Some(b)) => format!("{} → {}", format_iso_ms(a), clock(b)),
        _ => "no timestamped lines".into(),
    };
    let _ = writeln!(
        o,
        "{span}, wall {}, {} lines, {} requests\n",
        human_ms(s.wall_ms),
        s.lines,
        s.requests
    );

    // Count-tokens calls are many and say little; shown with -v.
    let rows: Vec<(usize, &Request)> = a
        .requests
        .iter()
        .enumerate()
        .filter(|(_, r)| verbose || r.kind != SourceKind::CountTokens)
        .collect();
    let hidden_count = a.requests.len() - rows.len();
    let skip = if limit == 0 {
        0
    } else {
        rows.len().saturating_sub(limit)
    };
    let shown = &rows[skip..];
    if !shown.is_empty() {
        let _ = writeln!(
            o,
            "{:>4}  {:<12}  {:<24}  {:<22}  {:>10}  {:>8}  {:>6}  {:>3}",
            "#", "sent (UTC)", "source", "model", "first byte", "stream", "status", "try"
        );
        for (i, r) in shown {
            let status = r
                .status
                .map(|c| c.to_string())
                .unwrap_or_else(|| "-".into());
            let flag = if r.failed {
                " ✗"
            } else if r.slow_first_byte || r.stalls > 0 {
                " !"
            } else {
                ""
            };
            let _ = writeln!(
                o,
                "{:>4}  {:<12}  {:<24}  {:<22}  {:>10}  {:>8}  {:>6}  {:>3}{flag}",
                i + 1,
                clock(r.sent_ms),
                trunc(&r.source, 24),
                trunc(r.model.as_deref().unwrap_or("-"), 22),
                cell(r.first_byte_ms),
                cell(r.stream_ms),
                status,
                r.attempts
            );
        }
    }
    if skip > 0 {
        let _ = writeln!(
            o,
            "  … {skip} earlier request(s) not shown (--limit 0 shows all)"
        );
    }
    if hidden_count > 0 {
        let _ = writeln!(
            o,
            "  ({hidden_count} count_tokens request(s) hidden; -v shows them)"
        );
    }
    chart(&mut o, shown);

    let total = s.wall_ms;
    let _ = writeln!(o, "\nTime");
    let _ = writeln!(
        o,
        "  waiting for first bytes (prefill)  {:>9}  {:>3}%",
        human_ms(s.first_byte_ms_total),
        pct(s.first_byte_ms_total, total)
    );
    let _ = writeln!(
        o,
        "  streaming (generation)             {:>9}  {:>3}%",
        human_ms(s.stream_ms_total),
        pct(s.stream_ms_total, total)
    );
    let _ = writeln!(
        o,
        "  the rest (tools, you, startup)     {:>9}  {:>3}%",
        human_ms(s.other_ms()),
        pct(s.other_ms(), total)
    );
    let _ = writeln!(o, "\nRequests");
    let srcs: Vec<String> = s
        .by_source
        .iter()
        .map(|(src, k, n)| format!("{src} {n} ({})", k.as_str()))
        .collect();
    let _ = writeln!(
        o,
        "  by source: {}",
        if srcs.is_empty() {
            "none".into()
        } else {
            srcs.join(", ")
        }
    );
    if !s.by_model.is_empty() {
        let m: Vec<String> = s
            .by_model
            .iter()
            .map(|(m, n)| format!("{m} ×{n}"))
            .collect();
        let _ = writeln!(o, "  by model: {}", m.join(", "));
    }
    let _ = writeln!(
        o,
        "  API errors: {}, 404s: {}, retries: {}",
        s.api_errors, s.not_found_404, s.retries
    );
    for (ep, n, nf) in s.failures_by_endpoint() {
        let _ = writeln!(o, "  failed {ep}: {n} ({nf} × 404)");
    }
    let _ = writeln!(o, "\nAutocompact");
    match s.effective_window {
        Some(w) => {
            let th = match s.threshold {
                Some(t) => format!("threshold {t} (logged)"),
                None => format!(
                    "threshold ≈ {} (effectiveWindow − 13000)",
                    w.saturating_sub(13_000)
                ),
            };
            let _ = write!(o, "  effectiveWindow {w}, {th}");
            if let (Some(l), Some(m)) = (s.autocompact_level, s.autocompact_level_max) {
                let _ = write!(o, ", level {} (highest {})", l.as_str(), m.as_str());
            }
            let _ = writeln!(o);
        }
        None => {
            let _ = writeln!(
                o,
                "  no autocompact line (2.1.153–2.1.222 print none without a configured window)"
            );
        }
    }
    if let Some(m) = &s.unknown_model {
        let _ = writeln!(o, "  Claude Code does not know the model {m:?} (window assumed, not read from the server)");
    }
    if let Some(src) = &s.threshold_source {
        let _ = writeln!(
            o,
            "  compaction routed through reactive (thresholdSource={src})"
        );
    }
    let _ = writeln!(
        o,
        "  compactions: {} ({} summary finished)",
        s.compactions, s.compaction_summaries
    );
    if s.turns > 0 {
        let _ = writeln!(
            o,
            "  turns: {}, last usage in={} out={}",
            s.turns,
            s.usage_in.unwrap_or(0),
            s.usage_out.unwrap_or(0)
        );
    }
    let _ = writeln!(o, "\nFindings");
    if findings.is_empty() {
        let _ = writeln!(o, "  ✓ nothing to fix in this log");
    }
    for f in findings {
        let _ = writeln!(o, "  {} {}: {}", f.severity.glyph(), f.id, f.title);
        if !f.detail.is_empty() && (verbose || f.severity >= Severity::Warning) {
            let _ = writeln!(o, "      {}", f.detail);
        }
        if !f.fix.is_empty() {
            let _ = writeln!(o, "      fix: {}", f.fix);
        }
    }
    o
}

fn trunc(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

/// A bar per request: its first-byte wait, scaled to the longest.
fn chart(o: &mut String, rows: &[(usize, &Request)]) {
    use std::fmt::Write;
    const WIDTH: u64 = 40;
    let waits: Vec<(usize, &Request, u64)> = rows
        .iter()
        .filter_map(|(i, r)| r.first_byte_ms.map(|w| (*i, *r, w)))
        .collect();
    let Some(max) = waits.iter().map(|w| w.2).max() else {
        return;
    };
    let _ = writeln!(o, "\nFirst-byte wait per request");
    for (i, r, w) in waits {
        let len = if max == 0 {
            0
        } else {
            (w * WIDTH).div_ceil(max)
        } as usize;
        let _ = writeln!(
            o,
            "{:>4} {:<14} {:<40} {}",
            i + 1,
            trunc(&r.source, 14),
            "█".repeat(len.max(usize::from(w > 0))),
            human_ms(w)
        );
    }
}
