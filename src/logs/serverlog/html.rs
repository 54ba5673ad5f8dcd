//! `cclocal logs --html FILE`: one self-contained page (inline CSS and SVG, no network) with
//! the session's timeline — a bar per request split into prefill, decode and idle — and each
//! request's prompt size against the server's context and Claude Code's compaction threshold,
//! with truncations, reloads and compactions marked.
//!
//! Every drawn bar carries its figures as `data-*` attributes; a small inline script writes
//! the laid-out pixel widths back (`data-px`), so a headless browser's DOM dump shows that the
//! picture matches the numbers.

use super::analyze::{Clock, ServerAnalysis};
use super::join::Join;
use crate::findings::Finding;
use crate::logs::time::{format_iso_ms, human_ms};
use crate::logs::{Analysis, SourceKind};

/// One request's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// The request's number in `cclocal logs`' table (1-based).
    pub n: usize,
    pub label: String,
    pub start_ms: i64,
    pub prefill_ms: f64,
    pub decode_ms: f64,
    pub idle_ms: f64,
    pub prompt_tokens: Option<u64>,
    /// Prefill and decode are the server's figures (else Claude Code's first byte / stream).
    pub from_server: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    Truncation,
    Overflow,
    Reload,
    Compaction,
}

impl MarkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MarkKind::Truncation => "truncation",
            MarkKind::Overflow => "overflow",
            MarkKind::Reload => "reload",
            MarkKind::Compaction => "compaction",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub kind: MarkKind,
    pub at_ms: i64,
    pub label: String,
}

/// Everything the page draws, on one clock.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Timeline {
    pub title: String,
    pub start_ms: i64,
    pub end_ms: i64,
    /// Times are wall-clock (else elapsed since the server started).
    pub wall: bool,
    pub bars: Vec<Bar>,
    pub marks: Vec<Mark>,
    pub server_ctx: Option<u64>,
    pub compact_threshold: Option<u64>,
    pub findings: Vec<Finding>,
    /// Prefill, decode and idle of the whole session where the text report has them (a
    /// joined session: `join::summary`, the same figures as `cclocal logs` prints); else
    /// the bars' sums, idle being the span less prefill and decode (the text's rule too).
    pub totals: Option<(f64, f64, f64)>,
}

fn idle_fill(bars: &mut [Bar], end: i64) {
    for i in 0..bars.len() {
        let next = bars.get(i + 1).map_or(end, |b| b.start_ms);
        let span = next.saturating_sub(bars[i].start_ms).max(0) as f64;
        bars[i].idle_ms = (span - bars[i].prefill_ms - bars[i].decode_ms).max(0.0);
    }
}

fn server_marks(a: &ServerAnalysis, map: impl Fn(Option<i64>, u32) -> Option<i64>) -> Vec<Mark> {
    let mut marks = Vec::new();
    for t in &a.truncations {
        if let Some(at) = map(t.at, t.epoch) {
            marks.push(Mark {
                kind: MarkKind::Truncation,
                at_ms: at,
                label: format!("prompt cut {} → {} tokens", t.prompt, t.new),
            });
        }
    }
    for t in a.tasks.iter().filter(|t| t.overflow.is_some()) {
        if let (Some(at), Some((p, c))) = (map(t.at, t.epoch), t.overflow) {
            marks.push(Mark {
                kind: MarkKind::Overflow,
                at_ms: at,
                label: format!("refused: {p} tokens > context {c}"),
            });
        }
    }
    for (i, l) in a.loads.iter().enumerate() {
        if i == 0 {
            continue;
        }
        if let Some(at) = map(l.at, l.epoch) {
            marks.push(Mark {
                kind: MarkKind::Reload,
                at_ms: at,
                label: format!("model loaded again ({})", l.reason.as_str()),
            });
        }
    }
    marks
}

/// The timeline of a Claude Code session, with the server's figures where joined.
pub fn timeline(
    claude: Option<&Analysis>,
    server: Option<(&ServerAnalysis, &Join)>,
    findings: &[Finding],
) -> Timeline {
    let Some(c) = claude else {
        return match server {
            Some((a, _)) => server_timeline(a, findings),
            None => Timeline::default(),
        };
    };
    let s = &c.summary;
    let mut bars: Vec<Bar> = Vec::new();
    let mut marks = Vec::new();
    for (i, r) in c.requests.iter().enumerate() {
        if r.kind == SourceKind::CountTokens {
            continue;
        }
        let task = server.and_then(|(a, j)| j.task_of(i).map(|k| &a.tasks[k]));
        let (prefill, decode, prompt, from_server) = match task {
            Some(t) => (
                t.prefill_ms.unwrap_or(r.first_byte_ms.unwrap_or(0) as f64),
                t.decode_ms.unwrap_or(r.stream_ms.unwrap_or(0) as f64),
                t.prompt_tokens,
                t.prefill_ms.is_some(),
            ),
            None => (
                r.first_byte_ms.unwrap_or(0) as f64,
                r.stream_ms.unwrap_or(0) as f64,
                None,
                false,
            ),
        };
        if r.kind == SourceKind::Compact {
            marks.push(Mark {
                kind: MarkKind::Compaction,
                at_ms: r.sent_ms,
                label: "compaction".into(),
            });
        }
        bars.push(Bar {
            n: i + 1,
            label: format!("{} {}", r.source, r.model.as_deref().unwrap_or(""))
                .trim()
                .to_string(),
            start_ms: r.sent_ms,
            prefill_ms: prefill,
            decode_ms: decode,
            idle_ms: 0.0,
            prompt_tokens: prompt,
            from_server,
        });
    }
    let start = s.first_ts_ms.unwrap_or(0);
    let end = s.last_ts_ms.unwrap_or(start);
    idle_fill(&mut bars, end);
    let mut server_ctx = None;
    let mut totals = None;
    if let Some((a, j)) = server {
        let offset = |e: u32| {
            j.offsets
                .iter()
                .find(|o| o.epoch == e)
                .or(j.main_offset())
                .map(|o| o.offset_ms)
        };
        let map = |at: Option<i64>, e: u32| {
            let t = at?.checked_add(offset(e)?)?;
            (t >= start && t <= end).then_some(t)
        };
        marks.extend(server_marks(a, map));
        server_ctx = a.loads.last().and_then(|l| l.context());
        let sm = super::join::summary(c, a, j);
        totals = Some((sm.prefill_ms, sm.decode_ms, sm.idle_ms));
    }
    let compact_threshold = s
        .threshold
        .or(s.effective_window.map(|w| w.saturating_sub(13_000)));
    Timeline {
        title: "Claude Code session".into(),
        start_ms: start,
        end_ms: end.max(start.saturating_add(1)),
        wall: true,
        bars,
        marks,
        server_ctx,
        compact_threshold,
        findings: findings.to_vec(),
        totals,
    }
}

/// The timeline of a server log alone (its own clock).
pub fn server_timeline(a: &ServerAnalysis, findings: &[Finding]) -> Timeline {
    // One epoch (the last server start) when the clock restarts.
    let epoch = a.tasks.last().map(|t| t.epoch).unwrap_or(0);
    let mut bars: Vec<Bar> = a
        .tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.epoch == epoch)
        .filter_map(|(i, t)| {
            Some(Bar {
                n: i + 1,
                label: format!("task {}", t.id),
                start_ms: t.at?,
                prefill_ms: t.prefill_ms.unwrap_or(0.0),
                decode_ms: t.decode_ms.unwrap_or(0.0),
                idle_ms: 0.0,
                prompt_tokens: t.prompt_tokens,
                from_server: true,
            })
        })
        .collect();
    let start = bars.first().map(|b| b.start_ms).or(a.first_at).unwrap_or(0);
    let end = a.last_at.unwrap_or(start).max(
        bars.last()
            .map(|b| {
                b.start_ms
                    .saturating_add((b.prefill_ms + b.decode_ms) as i64)
            })
            .unwrap_or(start),
    );
    idle_fill(&mut bars, end);
    let marks = server_marks(a, |at, e| {
        let t = at?;
        (e == epoch && t >= start && t <= end).then_some(t)
    });
    Timeline {
        title: "Server log".into(),
        start_ms: start,
        end_ms: end.max(start.saturating_add(1)),
        wall: matches!(a.clock, Clock::Wall | Clock::Local),
        bars,
        marks,
        server_ctx: a.loads.last().and_then(|l| l.context()),
        compact_threshold: None,
        findings: findings.to_vec(),
        totals: None,
    }
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// Drawing width of the time axis in CSS pixels (the SVG is drawn 1:1, no scaling).
pub const PLOT_W: f64 = 900.0;
const LEFT: f64 = 190.0;
const ROW_H: f64 = 16.0;
const ROW_GAP: f64 = 4.0;
const TOP: f64 = 28.0;

fn when(t: &Timeline, ms: i64) -> String {
    if t.wall {
        format_iso_ms(ms)[11..19].to_string()
    } else {
        format!("+{}", human_ms(ms.saturating_sub(t.start_ms).max(0) as u64))
    }
}

/// The page.
pub fn render(t: &Timeline) -> String {
    use std::fmt::Write;
    let span = t.end_ms.saturating_sub(t.start_ms).max(1) as f64;
    let scale = PLOT_W / span; // px per ms
    let x = |ms: i64| LEFT + ms.saturating_sub(t.start_ms) as f64 * scale;
    let rows_h = t.bars.len() as f64 * (ROW_H + ROW_GAP);
    let h1 = TOP + rows_h + 30.0;
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\
<title>cclocal — {title}</title><style>\
body{{font:13px/1.4 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#222;background:#fff}}\
h1{{font-size:18px;margin:0 0 4px}} h2{{font-size:15px;margin:22px 0 6px}}\
.prefill{{fill:#e8871e}} .decode{{fill:#2f6fb3}} .idle{{fill:#d9d9d9}} tr.ok{{color:#3a7a3a}} tr.error td:first-child{{color:#b00020}}\
.prompt{{fill:#7a5cb0}} .axis{{stroke:#999;stroke-width:1}} .limit{{stroke-width:1.5;stroke-dasharray:5 3}}\
.ctx{{stroke:#c0392b}} .thr{{stroke:#16a085}} text{{font-size:11px;fill:#333}}\
.mark-truncation,.mark-overflow{{stroke:#c0392b}} .mark-reload{{stroke:#8e44ad}} .mark-compaction{{stroke:#16a085}}\
line.mark{{stroke-width:2}} .legend span{{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:-2px}}\
table{{border-collapse:collapse}} td,th{{padding:2px 8px;text-align:right;border-bottom:1px solid #eee}} td.l,th.l{{text-align:left}}\
</style></head><body data-scale-px-per-ms=\"{scale}\">\n",
        title = esc(&t.title),
    );
    let _ = writeln!(
        o,
        "<h1>{}</h1><p>{} → {} ({}), {} request(s)</p>",
        esc(&t.title),
        esc(&when(t, t.start_ms)),
        esc(&when(t, t.end_ms)),
        human_ms(span as u64),
        t.bars.len()
    );
    let (p, d, i) = t.totals.unwrap_or_else(|| {
        let (p, d) = t
            .bars
            .iter()
            .fold((0.0, 0.0), |a, b| (a.0 + b.prefill_ms, a.1 + b.decode_ms));
        let wall = t.end_ms.saturating_sub(t.start_ms).max(0) as f64;
        (p, d, (wall - p - d).max(0.0))
    });
    let _ = writeln!(
        o,
        "<p class=\"legend\"><span style=\"background:#e8871e\"></span>prefill {}\
<span style=\"background:#2f6fb3\"></span>decode {}<span style=\"background:#d9d9d9\"></span>idle {}</p>",
        human_ms(p as u64),
        human_ms(d as u64),
        human_ms(i as u64)
    );
    // 1. The timeline.
    let _ = writeln!(
        o,
        "<h2>Timeline</h2>\n<svg id=\"timeline\" width=\"{w}\" height=\"{h1}\" data-scale=\"{scale}\">",
        w = LEFT + PLOT_W + 20.0
    );
    let _ = writeln!(
        o,
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\"/>\
<text x=\"{LEFT}\" y=\"{ty}\">{a}</text><text x=\"{x2}\" y=\"{ty}\" text-anchor=\"end\">{b}</text>",
        y = TOP + rows_h + 4.0,
        ty = TOP + rows_h + 18.0,
        x2 = LEFT + PLOT_W,
        a = esc(&when(t, t.start_ms)),
        b = esc(&when(t, t.end_ms)),
    );
    for (k, b) in t.bars.iter().enumerate() {
        let y = TOP + k as f64 * (ROW_H + ROW_GAP);
        let _ = writeln!(
            o,
            "<g class=\"bar\" data-n=\"{n}\" data-prefill-ms=\"{p}\" data-decode-ms=\"{d}\" data-idle-ms=\"{i}\" data-from-server=\"{fs}\">\
<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">#{n} {label}</text>",
            n = b.n,
            p = b.prefill_ms,
            d = b.decode_ms,
            i = b.idle_ms,
            fs = b.from_server,
            lx = LEFT - 6.0,
            ty = y + ROW_H - 4.0,
            label = esc(&b.label.chars().take(26).collect::<String>()),
        );
        let mut cx = x(b.start_ms);
        for (class, ms) in [
            ("prefill", b.prefill_ms),
            ("decode", b.decode_ms),
            ("idle", b.idle_ms),
        ] {
            let w = ms * scale;
            let _ = writeln!(
                o,
                "<rect class=\"seg {class}\" data-ms=\"{ms}\" x=\"{cx:.3}\" y=\"{y}\" width=\"{w:.3}\" height=\"{ROW_H}\"><title>#{n} {class} {h}</title></rect>",
                n = b.n,
                h = human_ms(ms as u64)
            );
            cx += w;
        }
        let _ = writeln!(o, "</g>");
    }
    for m in &t.marks {
        let mx = x(m.at_ms);
        let _ = writeln!(
            o,
            "<line class=\"mark mark-{k}\" data-kind=\"{k}\" x1=\"{mx:.3}\" y1=\"{y1}\" x2=\"{mx:.3}\" y2=\"{y2}\"><title>{l} at {w}</title></line>\
<text x=\"{mx:.3}\" y=\"{ty}\" text-anchor=\"middle\">{k}</text>",
            k = m.kind.as_str(),
            y1 = TOP - 6.0,
            y2 = TOP + rows_h,
            ty = TOP - 10.0,
            l = esc(&m.label),
            w = esc(&when(t, m.at_ms)),
        );
    }
    let _ = writeln!(o, "</svg>");
    // 2. Prompt size per request against the limits.
    let max_tok = t
        .bars
        .iter()
        .filter_map(|b| b.prompt_tokens)
        .chain(t.server_ctx)
        .chain(t.compact_threshold)
        .max()
        .unwrap_or(0);
    if max_tok > 0 && !t.bars.is_empty() {
        let ph = 220.0;
        let top = 20.0;
        let tok_scale = ph / max_tok as f64; // px per token
        let step = (PLOT_W / t.bars.len() as f64).min(40.0);
        let _ = writeln!(
            o,
            "<h2>Prompt size per request</h2>\n<svg id=\"prompts\" width=\"{w}\" height=\"{h}\" data-px-per-token=\"{tok_scale}\">",
            w = LEFT + PLOT_W + 20.0,
            h = ph + top + 30.0
        );
        let base = top + ph;
        let _ = writeln!(
            o,
            "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{base}\" x2=\"{x2}\" y2=\"{base}\"/>",
            x2 = LEFT + PLOT_W
        );
        for (k, b) in t.bars.iter().enumerate() {
            let bx = LEFT + k as f64 * step + step * 0.15;
            let Some(pt) = b.prompt_tokens else { continue };
            let hgt = pt as f64 * tok_scale;
            let _ = writeln!(
                o,
                "<rect class=\"prompt\" data-n=\"{n}\" data-prompt-tokens=\"{pt}\" x=\"{bx:.3}\" y=\"{y:.3}\" width=\"{w:.3}\" height=\"{hgt:.3}\"><title>#{n}: {pt} prompt tokens</title></rect>",
                n = b.n,
                y = base - hgt,
                w = step * 0.7
            );
        }
        for (class, v, name) in [
            ("ctx", t.server_ctx, "server context"),
            ("thr", t.compact_threshold, "Claude Code compacts at"),
        ] {
            if let Some(v) = v {
                let y = base - v as f64 * tok_scale;
                let _ = writeln!(
                    o,
                    "<line class=\"limit {class}\" data-tokens=\"{v}\" x1=\"{LEFT}\" y1=\"{y:.3}\" x2=\"{x2}\" y2=\"{y:.3}\"/>\
<text x=\"{tx}\" y=\"{ty:.3}\" text-anchor=\"end\">{name} {v}</text>",
                    x2 = LEFT + PLOT_W,
                    tx = LEFT - 6.0,
                    ty = y + 4.0
                );
            }
        }
        let _ = writeln!(o, "</svg>");
    }
    // 3. Findings.
    if !t.findings.is_empty() {
        // The same glyph as the text report (✓ a check that passed, i, !, ✗), so a passed
        // check does not read as a problem.
        let _ = writeln!(o, "<h2>Findings</h2><table><tr><th class=\"l\"></th><th class=\"l\">id</th><th class=\"l\">what</th><th class=\"l\">fix</th></tr>");
        for f in &t.findings {
            let sev = serde_json::to_value(f.severity)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let _ = writeln!(
                o,
                "<tr class=\"finding {sev}\" data-severity=\"{sev}\"><td class=\"l\" title=\"{sev}\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}<br><small>{}</small></td><td class=\"l\">{}</td></tr>",
                f.severity.glyph(),
                esc(f.id),
                esc(&f.title),
                esc(&f.detail),
                esc(&f.fix)
            );
        }
        let _ = writeln!(o, "</table>");
    }
    // Laid-out sizes, written back for checking (a browser's DOM dump shows them).
    let _ = writeln!(
        o,
        "<script>\
for (const r of document.querySelectorAll('rect.seg')) r.setAttribute('data-px', r.getBoundingClientRect().width.toFixed(3));\
for (const r of document.querySelectorAll('rect.prompt')) r.setAttribute('data-px-h', r.getBoundingClientRect().height.toFixed(3));\
document.body.setAttribute('data-laid-out', 'yes');\
</script>\n</body></html>"
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_is_the_rest_until_the_next_request() {
        let mut bars = vec![
            Bar {
                n: 1,
                label: "a".into(),
                start_ms: 0,
                prefill_ms: 100.0,
                decode_ms: 200.0,
                idle_ms: 0.0,
                prompt_tokens: Some(10),
                from_server: true,
            },
            Bar {
                n: 2,
                label: "b".into(),
                start_ms: 1000,
                prefill_ms: 50.0,
                decode_ms: 2000.0,
                idle_ms: 0.0,
                prompt_tokens: None,
                from_server: false,
            },
        ];
        idle_fill(&mut bars, 2500);
        assert_eq!(bars[0].idle_ms, 700.0);
        assert_eq!(bars[1].idle_ms, 0.0);
        let t = Timeline {
            title: "<x>".into(),
            start_ms: 0,
            end_ms: 2500,
            wall: false,
            bars,
            ..Timeline::default()
        };
        let h = render(&t);
        assert!(h.contains("&lt;x&gt;") && !h.contains("<x>"));
        assert!(!h.contains("http://") || !h.contains("src=\"http"));
        assert_eq!(h.matches("class=\"seg ").count(), 6);
    }
}
