//! Findings from an analysis: pure functions, testable with hand-made analyses.
//!
//! Ids (shared with `cclocal doctor` where the doctor has the same check; one severity per id,
//! `crate::findings::SEVERITIES`):
//! - `context_mismatch` (error): the last `effectiveWindow=` exceeds the server context given
//!   with `--server-ctx`; Claude Code lets the prompt grow past what the server keeps, so the
//!   server truncates it before Claude Code compacts. `ok` when it fits. The fix comes from
//!   the planner (`crate::planner::advise`) for every version that can have written the log
//!   (its attribution header, else its `autocompact:` format), or says no setting can work.
//! - `context_unknown` (info): the comparison could not run (the log has no `effectiveWindow`,
//!   or the model is not loaded on the server given with `--host`).
//! - `model_missing` (error): a main-thread, agent or compaction request got 404.
//! - `background_model_missing` (warning): a helper call (title, suggestions, …) or the
//!   count-tokens haiku fallback got 404: its model is not on the server.
//! - `count_tokens_unavailable` (info): the server has no `/v1/messages/count_tokens`;
//!   Claude Code estimates locally (2.1.332) or falls back to a message call (≤ 2.1.197).
//! - `prompt_cache_not_reused` (warning): the first-byte wait of main-thread requests grows
//!   as the conversation grows: the server re-reads the whole prompt each turn.
//! - `cache_buster` (warning, as in the doctor; the title says when its value changed within
//!   the log): Claude Code sends the attribution (billing) header, whose changes alter the prompt's first bytes
//!   and defeat a local server's prompt cache.
//! - `retries` (warning): API errors that Claude Code retried, and stream retries.
//! - `timeouts` (warning): slow first bytes (no chunk within `CLAUDE_SLOW_FIRST_BYTE_MS`, default
//!   30 s), timed-out requests, stream
//!   stalls and idle-timeout stream retries.

use super::model::{Analysis, Request, SourceKind};
use super::time::human_ms;
use crate::claude::{env_line, LogFormat, Version, GATES};
use crate::findings::{Finding, Severity};
use crate::planner::{advise, ClaudeAdvice, VersionSpan};

/// Inputs beyond the log itself.
#[derive(Debug, Clone, Default)]
pub struct RuleOptions {
    /// The server's context length (`num_ctx` / `n_ctx`), when known.
    pub server_ctx: Option<u64>,
}

/// A first-byte wait counts as growing when the late median is at least this many times the
/// early one, and at least `GROWTH_MIN_MS` longer.
const GROWTH_FACTOR: u64 = 2;
const GROWTH_MIN_MS: u64 = 2000;
/// Main-thread requests with a first byte needed to judge growth.
const GROWTH_MIN_REQUESTS: usize = 4;

pub fn findings(a: &Analysis, opts: &RuleOptions) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(context_mismatch(a, opts));
    out.extend(missing_models(a));
    out.extend(prompt_cache(a));
    out.extend(cache_buster(a));
    out.extend(retries(a));
    out.extend(timeouts(a));
    out
}

/// The Claude Code version that wrote the log, from the `cc_version=` of its attribution
/// header (`2.1.332.fb8`), when it carried one.
fn version_seen(a: &Analysis) -> Option<Version> {
    a.summary.attribution_values.iter().find_map(|v| {
        let mut it = v.split('.');
        let core = [it.next()?, it.next()?, it.next()?].join(".");
        core.parse().ok()
    })
}

/// The Claude Code versions that can have written this log: the one its attribution header
/// names, else the versions whose `autocompact:` line has this log's format (a launcher
/// from `cclocal setup` turns the attribution header off), else any.
pub fn versions_seen(a: &Analysis) -> VersionSpan {
    if let Some(v) = version_seen(a) {
        return VersionSpan::one(v);
    }
    let format = if a.summary.threshold.is_some() {
        Some(LogFormat::Threshold)
    } else if a.summary.autocompact_level.is_some() {
        Some(if a.summary.autocompact_tokens.is_some() {
            LogFormat::Level
        } else {
            LogFormat::LevelRedacted
        })
    } else {
        None
    };
    let rows: Vec<_> = GATES
        .iter()
        .filter(|g| format.map_or(true, |f| g.log == f))
        .collect();
    match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => VersionSpan {
            from: first.from,
            to: last.to,
        },
        _ => VersionSpan {
            from: GATES[0].from,
            to: GATES[GATES.len() - 1].to,
        },
    }
}

/// The model the log's first request with a model names ("" for none).
fn first_model(a: &Analysis) -> String {
    a.requests
        .iter()
        .find_map(|r| r.model.as_ref())
        .map(|m| m.to_string())
        .unwrap_or_default()
}

/// The fix for a server that keeps `ctx` tokens: settings every version that can have
/// written this log obeys (`crate::planner::advise`), or why none can work and what would.
fn window_fix(a: &Analysis, ctx: u64) -> String {
    let span = versions_seen(a);
    let model = first_model(a);
    let advice = advise(span, ctx, &model);
    let for_ = match &advice {
        ClaudeAdvice::Settings { span, .. } => *span,
        ClaudeAdvice::Impossible { .. } => span,
    };
    match advice.env() {
        Some(env) if for_.is_one() => format!("export {}", env_line(env)),
        Some(env) => format!(
            "export {}   (works for Claude Code {for_}, {}; `cclocal plan {} --ctx {ctx} --claude-version V` gives the settings for yours)",
            env_line(env),
            if for_ == span {
                "the versions that write this log's format"
            } else {
                "not for 2.1.74 and older, which read only CLAUDE_AUTOCOMPACT_PCT_OVERRIDE"
            },
            if model.is_empty() {
                "MODEL".to_string()
            } else {
                crate::shell::quote::sh_quote(&model)
            }
        ),
        None => advice.line(),
    }
}

/// The output reserve behind a logged `effectiveWindow` of a build that prints the
/// threshold: those builds subtract `min(max output, 20000)` from the window, which is
/// 200,000 for an unknown model, 1,000,000 for a `[1m]` one, or a configured
/// `CLAUDE_CODE_AUTO_COMPACT_WINDOW` (clamped to at least 100,000 from 2.1.89 on, the value
/// cclocal's own settings use at small contexts). A logged window up to 20,000 below one of
/// those reveals the reserve; anything else counts the largest reserve, 20,000.
fn logged_reserve(win: u64) -> u64 {
    const CAP: u64 = 20_000;
    [100_000u64, 200_000, 1_000_000]
        .iter()
        .find(|w| (*w - CAP..**w).contains(&win))
        .map_or(CAP, |w| w - win)
}

/// Whether the logged threshold `t` and window `win` are what the planner's settings for
/// `ctx` give one of the versions that can have written the log: then the planner's own
/// test (`crate::planner::obeys`) has judged them, and `logs` agrees with it.
fn planned_settings_in_effect(a: &Analysis, ctx: u64, t: u64, win: u64) -> bool {
    let span = versions_seen(a);
    let model = first_model(a);
    let Some(env) = advise(span, ctx, &model).env().cloned() else {
        return false;
    };
    span.probes().into_iter().any(|v| {
        let c = crate::claude::compute_window(v, &model, &env);
        c.autocompact_threshold == t as i64
            && c.effective_window == win
            && crate::planner::obeys(v, ctx, &model, &env)
    })
}

fn context_mismatch(a: &Analysis, opts: &RuleOptions) -> Option<Finding> {
    let ctx = opts.server_ctx?;
    let Some(win) = a.summary.effective_window else {
        return Some(
            Finding::of(
                "context_unknown",
                "no autocompact line in this log",
            )
            .detail(format!(
                "Claude Code logged no window (no effectiveWindow line), so the log cannot be \
                     compared with the server context of {ctx} tokens (2.1.153–2.1.222 print none for an \
                     unknown model, and run no proactive compaction at all)"
            ))
            .fix(window_fix(a, ctx)),
        );
    };
    if win <= ctx {
        return Some(Finding::ok(
            "context_mismatch",
            format!("effective window {win} fits the server context {ctx}"),
        ));
    }
    // Builds up to 2.1.121 print the threshold itself; where the window cannot be lowered
    // (2.1.74 and older) a percentage puts it inside the context instead, and the planner's
    // test decides: threshold + reply reserve + compaction buffer within the context.
    if let Some(t) = a.summary.threshold {
        let reserve = logged_reserve(win);
        if t + reserve + crate::planner::claude::AUTOCOMPACT_BUFFER <= ctx
            || planned_settings_in_effect(a, ctx, t, win)
        {
            return Some(Finding::ok(
                "context_mismatch",
                format!(
                    "compaction at {t} tokens (effective window {win}) fits the server context {ctx}"
                ),
            ));
        }
    }
    Some(
        Finding::of(
            "context_mismatch",
            format!("Claude Code assumes {win} tokens but the server holds {ctx}"),
        )
        .detail(format!(
            "Claude Code plans with a {win}-token window (effectiveWindow={win} in the log) and \
             compacts {}, so the prompt \
             outgrows the server's {ctx}-token context first and the server drops its start",
            match a.summary.threshold {
                Some(t) => format!(
                    "at {t} tokens (threshold={t} in the log), too late to leave room for a reply \
                     ({} tokens) and the {}-token compaction buffer",
                    logged_reserve(win),
                    crate::planner::claude::AUTOCOMPACT_BUFFER
                ),
                None => format!("near {} tokens", win.saturating_sub(13_000)),
            }
        ))
        .fix(window_fix(a, ctx)),
    )
}

fn missing_models(a: &Analysis) -> Vec<Finding> {
    let mut main: Vec<String> = Vec::new();
    let mut background: Vec<String> = Vec::new();
    let (mut n_main, mut n_bg, mut n_count) = (0u64, 0u64, 0u64);
    for (k, n) in &a.summary.failures {
        if k.status != Some(404) {
            continue;
        }
        let name = k
            .model
            .as_deref()
            .unwrap_or("(model not logged)")
            .to_string();
        if k.endpoint.ends_with("/count_tokens") {
            n_count += n;
            continue;
        }
        let (list, count) = match k.kind {
            SourceKind::Main | SourceKind::Agent | SourceKind::Compact => (&mut main, &mut n_main),
            SourceKind::Background | SourceKind::CountTokens => (&mut background, &mut n_bg),
        };
        *count += n;
        if !list.contains(&name) {
            list.push(name);
        }
    }
    let mut out = Vec::new();
    if n_main > 0 {
        out.push(
            Finding::of(
                "model_missing",
                format!("the server does not have {}", main.join(", ")),
            )
            .detail(format!("{n_main} main-thread request(s) got 404"))
            .fix(format!(
                "ollama pull {} (or set ANTHROPIC_MODEL to a model the server has)",
                crate::shell::quote::sh_quote(&main[0])
            )),
        );
    }
    if n_bg > 0 {
        out.push(
            Finding::of(
                "background_model_missing",
                format!(
                    "helper calls use {}, which the server does not have",
                    background.join(", ")
                ),
            )
            .detail(format!(
                "{n_bg} background or haiku-fallback request(s) got 404; titles, suggestions and \
                 token estimates fail quietly"
            ))
            .fix(
                "export ANTHROPIC_DEFAULT_HAIKU_MODEL=<a model the server has> (or pull the \
                 missing model)",
            ),
        );
    }
    if n_count > 0 {
        out.push(
            Finding::of(
                "count_tokens_unavailable",
                "the server has no /v1/messages/count_tokens",
            )
            .detail(format!(
                "{n_count} count-tokens call(s) got 404; Claude Code estimates token counts \
                 locally (only /context-style breakdowns are affected)"
            )),
        );
    }
    out
}

fn median(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// First-byte waits of main-thread requests, in order.
fn main_waits(requests: &[Request]) -> Vec<u64> {
    requests
        .iter()
        .filter(|r| r.kind == SourceKind::Main)
        .filter_map(|r| r.first_byte_ms)
        .collect()
}

fn prompt_cache(a: &Analysis) -> Option<Finding> {
    let w = main_waits(&a.requests);
    if w.len() < GROWTH_MIN_REQUESTS {
        return None;
    }
    let k = (w.len() / 3).max(1);
    let early = median(&mut w[..k].to_vec());
    let late = median(&mut w[w.len() - k..].to_vec());
    let rising = w.windows(2).filter(|p| p[1] >= p[0]).count();
    let grows = late >= early.saturating_mul(GROWTH_FACTOR)
        && late >= early + GROWTH_MIN_MS
        && rising * 10 >= (w.len() - 1) * 6;
    if !grows {
        return None;
    }
    Some(
        Finding::graded(
            "prompt_cache_not_reused",
            Severity::Warning,
            format!(
                "first-byte wait grew from {} to {}",
                human_ms(w[0]),
                human_ms(w[w.len() - 1])
            ),
        )
        .detail(format!(
            "over {} main-thread requests the wait before the first token kept growing with the \
             conversation: the server re-reads the whole prompt instead of reusing its cache",
            w.len()
        ))
        .fix(
            "export CLAUDE_CODE_ATTRIBUTION_HEADER=0 CLAUDE_CODE_TOTAL_TOKENS_REMINDER=off; keep \
             one model loaded (OLLAMA_MAX_LOADED_MODELS, OLLAMA_KEEP_ALIVE) and OLLAMA_NUM_PARALLEL=1",
        ),
    )
}

fn cache_buster(a: &Analysis) -> Option<Finding> {
    let s = &a.summary;
    if s.attribution_headers == 0 {
        return None;
    }
    let v = &s.attribution_values;
    let shown = v
        .iter()
        .take(3)
        .map(|s| s.as_ref())
        .collect::<Vec<_>>()
        .join(", ");
    // One severity with the doctor's (findings::SEVERITIES): the header being on is the
    // problem, whether or not this session already saw it change.
    let title = if v.len() > 1 {
        format!("the attribution header took {} different values", v.len())
    } else {
        "the attribution header is on".to_string()
    };
    Some(
        Finding::of("cache_buster", title)
            .detail(format!(
                "{} request(s) carried the billing header (cc_version={shown}); it sits at the \
                 start of the prompt, and each change of it makes a local server re-read the \
                 whole prompt instead of reusing its cache (ollama/ollama#14918)",
                s.attribution_headers
            ))
            .fix("export CLAUDE_CODE_ATTRIBUTION_HEADER=0"),
    )
}

fn retries(a: &Analysis) -> Option<Finding> {
    let s = &a.summary;
    if s.retries == 0 {
        return None;
    }
    Some(
        Finding::of("retries", format!("{} request(s) were retried", s.retries))
            .detail(format!(
                "{} API error line(s); retried errors are timeouts, overload (429/5xx) or \
                 dropped connections",
                s.api_errors
            ))
            .fix(
                "check the server log for crashes or out-of-memory reloads; a smaller context or \
                 model keeps it responsive (`cclocal plan`)",
            ),
    )
}

fn timeouts(a: &Analysis) -> Option<Finding> {
    let s = &a.summary;
    let n = s.slow_first_bytes + s.api_timeouts + s.stream_timeouts + s.stalls;
    if n == 0 {
        return None;
    }
    let mut parts = Vec::new();
    if s.slow_first_bytes > 0 {
        parts.push(format!(
            "{} slow first byte warning(s) (no chunk within CLAUDE_SLOW_FIRST_BYTE_MS, default 30 s)",
            s.slow_first_bytes
        ));
    }
    if s.api_timeouts > 0 {
        parts.push(format!("{} timed-out request(s)", s.api_timeouts));
    }
    if s.stream_timeouts > 0 {
        parts.push(format!("{} idle stream timeout(s)", s.stream_timeouts));
    }
    if s.stalls > 0 {
        parts.push(format!(
            "{} stream stall(s), {} in all",
            s.stalls,
            human_ms(s.stall_ms)
        ));
    }
    Some(
        Finding::of("timeouts", "the server was slow to answer")
            .detail(parts.join("; "))
            .fix(timeouts_fix(a)),
    )
}

/// The fix for slow answers: the attribution header only where it was on (a session whose
/// requests carried none, as under cclocal's launcher, already has it off) and the cache
/// was not seen reused.
fn timeouts_fix(a: &Analysis) -> String {
    let header_on = a.summary.attribution_headers > 0;
    if header_on || prompt_cache(a).is_some() {
        "a long first-byte wait is prompt processing: shrink the context or reuse the \
         prompt cache (CLAUDE_CODE_ATTRIBUTION_HEADER=0); raise API_TIMEOUT_MS if \
         requests time out"
            .into()
    } else {
        "a long first-byte wait is prompt processing: a smaller context or a faster \
         server/model shortens it (`cclocal plan` shows both); raise API_TIMEOUT_MS if \
         requests time out"
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claude::EnvMap;
    use crate::logs::event::CompactLevel;
    use crate::planner::obeys;

    /// Logs as each kind of Claude Code writes them (format, attribution header or not).
    fn logs() -> Vec<(String, Analysis)> {
        let mut out = Vec::new();
        let mut base = Analysis::default();
        base.summary.effective_window = Some(180_000);
        // cclocal's launcher turns the attribution header off: only the format is left.
        let mut t = base.clone();
        t.summary.threshold = Some(167_000);
        t.summary.autocompact_tokens = Some(655);
        out.push(("threshold format".to_string(), t));
        let mut l = base.clone();
        l.summary.autocompact_level = Some(CompactLevel::Ok);
        l.summary.autocompact_tokens = Some(655);
        out.push(("level format".to_string(), l));
        let mut r = base.clone();
        r.summary.autocompact_level = Some(CompactLevel::Ok);
        out.push(("redacted format".to_string(), r));
        out.push(("no autocompact line".to_string(), base.clone()));
        // With the header: each version row's ends.
        for g in GATES {
            for v in [g.from, g.to] {
                if v.0 == u32::MAX {
                    continue;
                }
                let mut a = base.clone();
                a.summary.attribution_values = vec![format!("{v}.fb8").into()];
                out.push((format!("attribution {v}"), a));
            }
        }
        out
    }

    fn parse_export(fix: &str) -> Option<EnvMap> {
        let rest = fix.strip_prefix("export ")?;
        let words = rest.split("   (").next().unwrap_or(rest);
        Some(
            words
                .split_whitespace()
                .map(|kv| {
                    let (k, v) = kv.split_once('=').expect("K=V");
                    (k.to_string(), v.to_string())
                })
                .collect(),
        )
    }

    /// Every fix line the log reader can produce is obeyed by every Claude Code version that
    /// can have written the log, by that version's own window computation; where none can
    /// work the fix says so instead of giving settings.
    #[test]
    fn every_context_fix_is_obeyed_by_the_versions_that_wrote_the_log() {
        for (what, a) in logs() {
            let span = versions_seen(&a);
            for ctx in [4_096u64, 16_384, 28_672, 32_768, 65_536, 131_072, 262_144] {
                {
                    let f = context_mismatch(
                        &a,
                        &RuleOptions {
                            server_ctx: Some(ctx),
                        },
                    )
                    .expect("a finding");
                    let fix = f.fix.clone();
                    if fix.is_empty() {
                        assert_eq!(f.severity, Severity::Ok);
                        continue;
                    }
                    let for_ = match advise(span, ctx, "") {
                        crate::planner::ClaudeAdvice::Settings { span, .. } => span,
                        _ => span,
                    };
                    match parse_export(&fix) {
                        Some(env) => {
                            for v in for_.probes() {
                                assert!(
                                    obeys(v, ctx, "", &env),
                                    "{what}: {v} ignores {fix} at {ctx}"
                                );
                            }
                        }
                        None => {
                            assert!(
                                ctx < crate::planner::MIN_USABLE_CONTEXT,
                                "{what} {ctx}: {fix}"
                            );
                            assert!(fix.contains("no Claude Code setting can work"), "{fix}");
                        }
                    }
                }
            }
        }
    }

    /// [RUN] 2.1.42 through the launcher setup writes for 32768 tokens logs
    /// `threshold=15672 effectiveWindow=195904`: the window is above the context, the
    /// compaction point is not, so the log reader agrees with the plan.
    #[test]
    fn a_percentage_threshold_inside_the_context_is_fine() {
        let mut a = Analysis::default();
        a.summary.effective_window = Some(195_904);
        a.summary.threshold = Some(15_672);
        let ok = |a: &Analysis, ctx| {
            context_mismatch(
                a,
                &RuleOptions {
                    server_ctx: Some(ctx),
                },
            )
            .unwrap()
            .severity
        };
        // 15672 + 4096 (200000 - 195904) + 13000 = 32768.
        assert_eq!(ok(&a, 32_768), Severity::Ok);
        assert_eq!(ok(&a, 32_767), Severity::Error);
        // The default threshold of an unset build does not fit 65536.
        a.summary.effective_window = Some(180_000);
        a.summary.threshold = Some(167_000);
        assert_eq!(ok(&a, 65_536), Severity::Error);
    }

    #[test]
    fn a_cclocal_2_1_121_session_gets_a_fix_2_1_121_obeys() {
        let mut a = Analysis::default();
        a.summary.effective_window = Some(180_000);
        a.summary.threshold = Some(167_000);
        let span = versions_seen(&a);
        assert_eq!(span.to, Version(2, 1, 121));
        let f = context_mismatch(
            &a,
            &RuleOptions {
                server_ctx: Some(65_536),
            },
        )
        .unwrap();
        let fix = f.fix;
        assert!(!fix.contains("CLAUDE_CODE_MAX_CONTEXT_TOKENS"), "{fix}");
        let env = parse_export(&fix).unwrap();
        assert!(obeys(Version(2, 1, 121), 65_536, "q", &env), "{fix}");
    }

    /// Issue 21: the fix `logs` prints for a threshold-format session, applied, makes each
    /// version of that format log a threshold and window that `logs` then accepts (it
    /// judges the logged threshold, not the window less 13000).
    #[test]
    fn the_logs_fix_applied_gives_a_log_that_logs_accepts() {
        let mut a = Analysis::default();
        a.summary.effective_window = Some(180_000);
        a.summary.threshold = Some(167_000);
        for ctx in [28_672u64, 32_768, 40_960, 49_152, 65_536, 131_072] {
            let opts = RuleOptions {
                server_ctx: Some(ctx),
            };
            let f = context_mismatch(&a, &opts).unwrap();
            assert_eq!(f.severity, Severity::Error, "{ctx}");
            let logs_env = parse_export(&f.fix).unwrap_or_else(|| panic!("{ctx}: {}", f.fix));
            for v in versions_seen(&a).probes() {
                // The settings `logs` printed, and those doctor, plan and setup print for
                // that one version.
                let one = crate::planner::advise_version(v, ctx, "m").env().cloned();
                for env in [Some(logs_env.clone()), one].into_iter().flatten() {
                    let c = crate::claude::compute_window(v, "m", &env);
                    if !c.proactive {
                        continue;
                    }
                    let mut after = Analysis::default();
                    after.summary.effective_window = Some(c.effective_window);
                    after.summary.threshold = Some(c.autocompact_threshold as u64);
                    let g = context_mismatch(&after, &opts).unwrap();
                    assert_eq!(
                        g.severity,
                        Severity::Ok,
                        "{v} at {ctx}: {env:?} gives threshold={} effectiveWindow={}: {}",
                        c.autocompact_threshold,
                        c.effective_window,
                        g.detail
                    );
                }
            }
        }
    }

    /// Issue 21: with the attribution header already off (no request carried it, as under
    /// cclocal's launcher) and no sign of a cache re-read, `timeouts` does not recommend
    /// turning it off.
    #[test]
    fn timeouts_do_not_recommend_a_header_already_off() {
        let mut a = Analysis::default();
        a.summary.slow_first_bytes = 2;
        let f = timeouts(&a).unwrap();
        assert!(!f.fix.contains("ATTRIBUTION_HEADER"), "{}", f.fix);
        a.summary.attribution_headers = 3;
        let f = timeouts(&a).unwrap();
        assert!(
            f.fix.contains("CLAUDE_CODE_ATTRIBUTION_HEADER=0"),
            "{}",
            f.fix
        );
    }
}
