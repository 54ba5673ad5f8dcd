//! The human report of `cclocal logs`: a request table, a first-byte chart, where the time
//! went, autocompact, and findings.

use std::path::PathBuf;

use crate::findings::{Finding, Severity};
use crate::logs::time::{format_iso_ms, human_ms};
use crate::logs::{Analysis, Request, SourceKind};

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
pub(super) fn human(
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
    if s.long_lines_skipped > 0 {
        let _ = writeln!(o, "{}\n", long_lines_note(s.long_lines_skipped));
    }
    if s.requests_dropped > 0 {
        let _ = writeln!(
            o,
            "note: the {} oldest requests are not kept; the list shows the most recent {} (the totals include all)\n",
            s.requests_dropped,
            a.requests.len()
        );
    }

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
    let legend = source_legend(shown.iter().map(|(_, r)| &*r.source));
    if !legend.is_empty() {
        let _ = writeln!(o, "  source, as Claude Code names the caller: {legend}");
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
        .map(|(src, k, n)| format!("{src} {n} ({})", kind_words(*k)))
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
                Some(t) => format!("compacts at {t} tokens (logged)"),
                None => format!(
                    "compacts near {} tokens (the window − 13000)",
                    w.saturating_sub(13_000)
                ),
            };
            let _ = write!(
                o,
                "  the window Claude Code plans with: {w} tokens (effectiveWindow), {th}"
            );
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
            "  compaction took Claude Code's \"reactive\" path (thresholdSource={src}: the window came from {})",
            match &**src {
                "unknown-model" => "a guess for a model it does not know",
                "env" => "an environment variable",
                _ => "a source cclocal does not know",
            }
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

/// A request kind in plain words.
/// The note for lines a log reader skipped as longer than it reads (both logs' reports).
pub(super) fn long_lines_note(n: u64) -> String {
    format!(
        "note: {n} over-long line(s) (over {} MiB) skipped",
        crate::logs::read::MAX_LINE >> 20
    )
}

fn kind_words(k: SourceKind) -> &'static str {
    match k {
        SourceKind::Main => "your conversation",
        SourceKind::Agent => "a subagent",
        SourceKind::Compact => "a compaction summary",
        SourceKind::CountTokens => "token counting",
        SourceKind::Background => "a background helper: titles, suggestions",
    }
}

/// `repl_main_thread = your conversation, …` for each distinct source name shown.
fn source_legend<'a>(sources: impl Iterator<Item = &'a str>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for s in sources {
        if !seen.contains(&s) {
            seen.push(s);
        }
    }
    seen.iter()
        .map(|s| format!("{s} = {}", kind_words(SourceKind::of(s, ""))))
        .collect::<Vec<_>>()
        .join(", ")
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
