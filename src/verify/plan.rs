//! The plan verify compares against, and the comparison: pure functions from the plan and
//! the observations to one item per fact (`[✓]` observed = planned, `[✗]` not).

use super::observe::Observed;
use crate::claude::{gate_for, EnvMap, Version, WindowCalc};
use serde::Serialize;

/// What the plan says Claude Code will do.
#[derive(Debug, Clone, Serialize)]
pub struct Expected {
    pub version: Version,
    /// The model the launcher (or the configuration) names.
    pub model: Option<String>,
    /// The background model Claude Code picks with this environment, and why.
    pub background_model: Option<String>,
    pub background_why: String,
    /// The window arithmetic for the launcher's settings (what cclocal planned).
    pub planned: WindowCalc,
    /// The same with the user's own config files on top (what the table predicts Claude
    /// Code will really do).
    pub predicted: WindowCalc,
    /// `max_tokens` of a conversation request.
    pub max_tokens: u64,
    /// `ANTHROPIC_AUTH_TOKEN` / `ANTHROPIC_API_KEY` are set (non-empty) for Claude Code.
    pub bearer: bool,
    pub api_key: bool,
    /// The launcher tells Claude Code the model's window (`CLAUDE_CODE_MAX_CONTEXT_TOKENS`
    /// honoured by this version), so it has no reason to warn about an unknown model.
    pub window_told: bool,
    /// Variables of the user's own files that change what the launcher set: `NAME=value
    /// (from FILE)`.
    pub overrides: Vec<String>,
    /// The context the server serves (the last setup's), when known.
    pub served_context: Option<u64>,
    /// The Claude Code version the launcher was planned for, when it differs.
    pub planned_for: Option<Version>,
    /// `usage.input_tokens` the stub reports after the first exchange (just under the
    /// planned threshold), and the tokens the padded prompt adds on top.
    pub below: u64,
    pub padding: u64,
    /// The threshold the first exchange showed (logged, or implied by the logged effective
    /// window), when it is not the planned one: the last exchange is padded past it.
    pub observed_threshold: Option<i64>,
}

/// The margin around the planned threshold: 4000 tokens or 5 % of it, whichever is more
/// (the local estimate of a new prompt is a few hundred tokens).
pub fn margin(threshold: i64) -> u64 {
    (threshold.max(0) as u64 / 20).max(4_000)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    /// Observed = planned.
    Ok,
    /// Observed ≠ planned.
    Mismatch,
    /// Reported, not a mismatch (nothing to compare, or outside the plan).
    Note,
}

impl Mark {
    pub fn symbol(self) -> &'static str {
        match self {
            Mark::Ok => "[✓]",
            Mark::Mismatch => "[✗]",
            Mark::Note => "[·]",
        }
    }
}

/// One compared fact.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// Stable id: `version`, `effective_window`, `threshold`, `compaction`, `fits_context`,
    /// `main_model`, `background_model`, `unknown_model_warning`, `onboarding`,
    /// `max_tokens`, `auth_headers`, `outbound`.
    pub id: &'static str,
    pub label: &'static str,
    pub mark: Mark,
    pub observed: String,
    pub planned: String,
    pub note: Option<String>,
}

/// The table row whose prediction Claude Code contradicted.
#[derive(Debug, Clone, Serialize)]
pub struct TableNote {
    /// `2.1.323 – …`
    pub versions: String,
    pub source: &'static str,
    /// The item (`effective_window`, `threshold`, `compaction`).
    pub item: &'static str,
    pub predicted: String,
    pub observed: String,
}

/// The whole result.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub claude: String,
    pub version: Version,
    pub launcher: Option<String>,
    pub settings: Option<String>,
    pub model: Option<String>,
    pub items: Vec<Item>,
    /// Set when Claude Code did not do what the version table predicts.
    pub table: Vec<TableNote>,
    /// Why observed and planned differ, where known (the user's own files).
    pub causes: Vec<String>,
    /// What to change, for a mismatch.
    pub fixes: Vec<String>,
    pub ok: bool,
    pub elapsed_ms: u64,
    pub expected: Expected,
    pub observed: Observed,
}

fn versions_of(v: Version) -> String {
    let g = gate_for(v);
    match (g.from == Version(0, 0, 0), g.to.0 == u32::MAX) {
        (true, _) => format!("up to {}", g.to),
        (_, true) => format!("{} and later", g.from),
        _ => format!("{} – {}", g.from, g.to),
    }
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn distinct(it: impl Iterator<Item = Option<String>>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in it.flatten() {
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

/// The threshold Claude Code uses for an observed effective window, with the planned
/// percentage override (`docs/claude-code.md`, "The window and compaction arithmetic").
pub fn threshold_for(eff: u64, pct: Option<f64>) -> i64 {
    let d = eff as i64 - 13_000;
    match pct {
        Some(p) => ((eff as f64 * (p / 100.0)).floor() as i64).min(d),
        None => d,
    }
}

/// The settings that make the window this build really uses compact inside the served
/// context, when the version table is wrong for it and what it does does not fit (the
/// observed value wins): `CLAUDE_AUTOCOMPACT_PCT_OVERRIDE` of the observed effective window
/// for a threshold of `served − output reserve − 13000` (the planner's own target,
/// `claude::recommend`), rounded down to two decimals, and a blocking limit before the
/// served context where none is set. `None` when nothing is to change or nothing can work.
pub fn observed_fix(r: &Report) -> Option<EnvMap> {
    let e = &r.expected;
    let c = e.served_context?;
    let w = r.observed.effective_window()?;
    let unfit = r
        .items
        .iter()
        .any(|i| i.id == "fits_context" && i.mark == Mark::Mismatch);
    let table_wrong = r.table.iter().any(|t| t.item == "effective_window");
    if !unfit || !table_wrong || w == 0 || !e.overrides.is_empty() {
        return None;
    }
    let reserve = e.planned.output_reserve as i64;
    let target = c as i64 - reserve - 13_000;
    if target <= 0 {
        return None;
    }
    let pct = (target as f64 * 10_000.0 / w as f64).floor() / 100.0;
    let mut env = EnvMap::new();
    env.insert("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE".into(), format!("{pct}"));
    let block = c as i64 - reserve - 3_000;
    if block > 0 && e.planned.blocking_limit + reserve > c as i64 {
        env.insert(
            "CLAUDE_CODE_BLOCKING_LIMIT_OVERRIDE".into(),
            block.to_string(),
        );
    }
    Some(env)
}

/// Compares the observations with the plan.
pub fn compare(e: &Expected, o: &Observed) -> (Vec<Item>, Vec<TableNote>) {
    let mut items = Vec::new();
    let mut table = Vec::new();
    let p = &e.planned;
    let item = |id, label, mark, observed: String, planned: String, note: Option<String>| Item {
        id,
        label,
        mark,
        observed,
        planned,
        note,
    };
    // The build itself, from the User-Agent of its requests.
    let agents = distinct(o.requests.iter().map(|r| {
        r.header("user-agent")
            .and_then(|ua| ua.strip_prefix("claude-cli/"))
            .map(|v| v.split([' ', '(']).next().unwrap_or("").to_string())
    }));
    let any_call = o.calls().next().is_some();
    items.push(match agents.first() {
        Some(v) if agents.len() == 1 && *v == e.version.to_string() => item(
            "version",
            "Claude Code build",
            Mark::Ok,
            format!("claude-cli/{v}"),
            e.version.to_string(),
            e.planned_for
                .filter(|pf| *pf != e.version)
                .map(|pf| format!("the launcher was planned for {pf}; this is {}", e.version)),
        ),
        _ if !any_call => item(
            "version",
            "Claude Code build",
            Mark::Mismatch,
            "no request reached the stub".into(),
            e.version.to_string(),
            o.runs
                .first()
                .map(|r| r.stderr_tail.clone())
                .filter(|s| !s.is_empty()),
        ),
        _ => item(
            "version",
            "Claude Code build",
            Mark::Mismatch,
            list(&agents),
            e.version.to_string(),
            None,
        ),
    });

    // Where the table is wrong for this build but what the build does with these settings
    // still compacts within the served context, the difference is reported, not failed
    // (the observed value wins; `table` says which row was wrong).
    let eff = o.effective_window();
    let obs_t: Option<i64> = o
        .logged_threshold()
        .map(|t| t as i64)
        .or_else(|| eff.map(|w| threshold_for(w, p.pct_override)));
    let fits = match (e.served_context, obs_t) {
        (Some(c), Some(t)) => t + p.output_reserve as i64 <= c as i64,
        _ => false,
    };
    let table_wrong_note = "the version table is wrong for this build (see `table`); what it does with these settings still compacts within the served context";
    // (Not where the user's own files change the window: then they are the cause.)
    let differs = |table_wrong: bool| {
        if table_wrong && fits && e.overrides.is_empty() {
            (Mark::Note, Some(table_wrong_note.to_string()))
        } else {
            (Mark::Mismatch, None)
        }
    };

    // effectiveWindow.
    let expect_line = p.proactive || !gate_for(e.version).needs_window_source;
    items.push(match (eff, expect_line) {
        (Some(w), _) => {
            let table_wrong = w != e.predicted.effective_window;
            if table_wrong {
                table.push(TableNote {
                    versions: versions_of(e.version),
                    source: gate_for(e.version).source,
                    item: "effective_window",
                    predicted: e.predicted.effective_window.to_string(),
                    observed: w.to_string(),
                });
            }
            let (m, note) = if w == p.effective_window {
                (Mark::Ok, None)
            } else {
                differs(table_wrong)
            };
            item(
                "effective_window",
                "effectiveWindow",
                m,
                w.to_string(),
                p.effective_window.to_string(),
                note,
            )
        }
        (None, false) => item(
            "effective_window",
            "effectiveWindow",
            Mark::Ok,
            "no autocompact line".into(),
            "no autocompact line (this version only compacts proactively with a window source)"
                .into(),
            None,
        ),
        (None, true) => item(
            "effective_window",
            "effectiveWindow",
            Mark::Mismatch,
            "no autocompact line".into(),
            p.effective_window.to_string(),
            Some("Claude Code logged no autocompact check: compaction is off for it".into()),
        ),
    });

    // The threshold: printed up to 2.1.121; else bracketed by runs 2 (under) and 3 (over)
    // around the threshold expected (the planned one, or the one the observed window implies).
    let run2 = o.runs.get(1);
    let run3 = o.runs.get(2);
    let under = e.below;
    let over = e.below + e.padding;
    let t_exp = e.observed_threshold.unwrap_or(p.autocompact_threshold);
    if let Some(t) = o.logged_threshold() {
        let table_wrong = t as i64 != e.predicted.autocompact_threshold;
        if table_wrong {
            table.push(TableNote {
                versions: versions_of(e.version),
                source: gate_for(e.version).source,
                item: "threshold",
                predicted: e.predicted.autocompact_threshold.to_string(),
                observed: t.to_string(),
            });
        }
        let (m, note) = if t as i64 == p.autocompact_threshold {
            (Mark::Ok, None)
        } else {
            differs(table_wrong)
        };
        items.push(item(
            "threshold",
            "autocompact threshold",
            m,
            format!("{t} (logged)"),
            p.autocompact_threshold.to_string(),
            note,
        ));
    } else if p.proactive {
        let early = run2.is_some_and(|r| r.tried_to_compact());
        let late = run3.is_some_and(|r| r.tried_to_compact());
        let expected_early = under as i64 >= t_exp;
        let (m, note) = if early != expected_early {
            (Mark::Mismatch, None)
        } else if t_exp != p.autocompact_threshold {
            differs(true)
        } else {
            (Mark::Ok, None)
        };
        let which = if t_exp == p.autocompact_threshold {
            format!("as planned {t_exp}")
        } else {
            format!("where this build's window puts it ({t_exp})")
        };
        let observed = match (early, late) {
            (true, _) => format!("below {under}: it compacted at about {under} tokens"),
            (false, true) => format!(
                "between {under} and {over}, {which} (no compaction at about {under} tokens, compaction at about {over})"
            ),
            (false, false) => format!("above {under} (no compaction at about {under} tokens)"),
        };
        items.push(item(
            "threshold",
            "autocompact threshold",
            m,
            observed,
            p.autocompact_threshold.to_string(),
            note.or_else(|| {
                Some("this version logs no threshold; verify brackets it with two exchanges".into())
            }),
        ));
    }

    // Compaction past the threshold.
    let tried = run3.is_some_and(|r| r.tried_to_compact());
    let how = run3
        .map(|r| {
            let mut w = Vec::new();
            if let Some(l) = r.max_level() {
                w.push(format!("level={}", l.as_str()));
            }
            for s in &r.reactive {
                w.push(format!("routed through reactive ({s})"));
            }
            if r.calls.iter().any(|c| c.source == "compact") {
                w.push("sent a summary request (source=compact)".into());
            }
            if r.compaction_finished {
                w.push("the compaction agent finished".into());
            }
            w.join(", ")
        })
        .unwrap_or_default();
    let planned_c = if p.proactive {
        format!("compacts past {t_exp} tokens")
    } else {
        "no proactive compaction (waits for the server to reject the prompt)".into()
    };
    let observed_c = if tried {
        format!("yes at about {over} tokens: {how}")
    } else {
        format!("no compaction at about {over} tokens")
    };
    if run3.is_some() && tried != e.predicted.proactive {
        table.push(TableNote {
            versions: versions_of(e.version),
            source: gate_for(e.version).source,
            item: "compaction",
            predicted: if e.predicted.proactive {
                "proactive compaction"
            } else {
                "no proactive compaction"
            }
            .into(),
            observed: observed_c.clone(),
        });
    }
    items.push(item(
        "compaction",
        "compacts past the threshold",
        if tried == p.proactive {
            Mark::Ok
        } else {
            Mark::Mismatch
        },
        observed_c,
        planned_c,
        None,
    ));

    // The window Claude Code really uses, against what the server serves.
    if let (Some(c), Some(w)) = (e.served_context, eff) {
        let t = o
            .logged_threshold()
            .map(|t| t as i64)
            .unwrap_or_else(|| threshold_for(w, p.pct_override));
        let need = t + p.output_reserve as i64;
        items.push(item(
            "fits_context",
            "compacts within the served context",
            if need <= c as i64 {
                Mark::Ok
            } else {
                Mark::Mismatch
            },
            format!(
                "threshold {t} + output reserve {} = {need}",
                p.output_reserve
            ),
            format!("at most {c} (the served context)"),
            None,
        ));
    }

    // Models.
    let main = distinct(o.main_calls().map(|c| c.model.clone()));
    items.push(match &e.model {
        Some(m) => item(
            "main_model",
            "main model",
            if !main.is_empty() && main.iter().all(|x| x == m) {
                Mark::Ok
            } else {
                Mark::Mismatch
            },
            list(&main),
            m.clone(),
            None,
        ),
        None => item(
            "main_model",
            "main model",
            Mark::Note,
            list(&main),
            "Claude Code's default".into(),
            None,
        ),
    });
    let bg = distinct(o.background_calls().map(|c| c.model.clone()));
    let planned_bg = e
        .background_model
        .clone()
        .unwrap_or_else(|| "the main model".into());
    items.push(if bg.is_empty() {
        item(
            "background_model",
            "background model",
            Mark::Note,
            "no background request in these runs".into(),
            planned_bg,
            Some(format!("background model from: {}", e.background_why)),
        )
    } else {
        let okay = e
            .background_model
            .as_ref()
            .is_some_and(|b| bg.iter().all(|x| x == b));
        item(
            "background_model",
            "background model",
            if okay { Mark::Ok } else { Mark::Mismatch },
            list(&bg),
            planned_bg,
            Some(format!("background model from: {}", e.background_why)),
        )
    });

    // The unknown-model warning.
    let warned = o
        .runs
        .iter()
        .any(|r| r.unknown_model_warning.is_some() || r.unrecognized_on_stderr);
    items.push(item(
        "unknown_model_warning",
        "unknown-model warning",
        match (e.window_told, warned) {
            (true, true) => Mark::Mismatch,
            (true, false) => Mark::Ok,
            _ => Mark::Note,
        },
        if warned {
            "warned that it assumes a window"
        } else {
            "none"
        }
        .into(),
        if e.window_told {
            "none (the launcher tells it the window)".into()
        } else {
            "no expectation (the launcher does not tell this version the window)".into()
        },
        None,
    ));

    // Onboarding.
    items.push(item(
        "onboarding",
        "onboarding gate",
        if o.onboarding_completed == Some(true) { Mark::Ok } else { Mark::Mismatch },
        match o.onboarding_completed {
            Some(true) => "skipped (hasCompletedOnboarding: true)".into(),
            Some(false) => "shown (hasCompletedOnboarding: false)".into(),
            None => "shown (hasCompletedOnboarding unset)".into(),
        },
        "skipped".into(),
        Some(format!(
            "read from {} as Claude Code left it; -p runs never show the gate, an interactive start does",
            o.global_config.as_deref().unwrap_or("Claude Code's global config")
        )),
    ));

    // max_tokens of the first conversation request.
    let mt = o
        .main_calls()
        .find(|c| c.source != "compact")
        .and_then(|c| c.max_tokens);
    items.push(item(
        "max_tokens",
        "max_tokens sent",
        if mt == Some(e.max_tokens) {
            Mark::Ok
        } else {
            Mark::Mismatch
        },
        mt.map(|m| m.to_string())
            .unwrap_or_else(|| "no request".into()),
        e.max_tokens.to_string(),
        None,
    ));

    // Authentication headers of the conversation requests.
    let msgs: Vec<_> = o
        .requests
        .iter()
        .filter(|r| r.method == "POST" && r.route() == "/v1/messages")
        .collect();
    let auth_of = |r: &super::stub::Recorded| {
        let bearer = r
            .header("authorization")
            .is_some_and(|a| a.starts_with("Bearer "));
        let key = r.header("x-api-key").is_some_and(|k| k != "<empty>");
        (bearer, key)
    };
    let seen = distinct(msgs.iter().map(|r| {
        let (b, k) = auth_of(r);
        Some(format!(
            "{}, {}",
            if b {
                "Authorization: Bearer"
            } else {
                "no Authorization"
            },
            if k { "x-api-key" } else { "no x-api-key" }
        ))
    }));
    let want = format!(
        "{}, {}",
        if e.bearer {
            "Authorization: Bearer"
        } else {
            "no Authorization"
        },
        if e.api_key {
            "x-api-key"
        } else {
            "no x-api-key"
        }
    );
    let beta = distinct(
        msgs.iter()
            .map(|r| r.header("anthropic-beta").map(String::from)),
    );
    items.push(item(
        "auth_headers",
        "authentication headers",
        if !seen.is_empty() && seen.iter().all(|s| *s == want) {
            Mark::Ok
        } else {
            Mark::Mismatch
        },
        list(&seen),
        want,
        (!beta.is_empty()).then(|| format!("anthropic-beta: {}", beta.join(" | "))),
    ));

    // Outbound attempts.
    let out = o.outbound();
    items.push(item(
        "outbound",
        "other hosts contacted",
        Mark::Note,
        if out.is_empty() {
            "none".into()
        } else {
            format!(
                "tried {} (refused by the stub, not followed)",
                out.join(", ")
            )
        },
        "none (CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1; everything else goes to the stub)"
            .into(),
        None,
    ));
    (items, table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claude::{compute_window, max_tokens_for};
    use crate::verify::observe::{read_run, Observed};

    fn expected(v: Version, env: &EnvMap) -> Expected {
        let calc = compute_window(v, "qwen3-coder:30b", env);
        let b = margin(calc.autocompact_threshold);
        Expected {
            version: v,
            model: Some("qwen3-coder:30b".into()),
            background_model: Some("qwen3-coder:30b".into()),
            background_why: "x".into(),
            planned: calc.clone(),
            predicted: calc.clone(),
            max_tokens: max_tokens_for(v, env),
            bearer: true,
            api_key: false,
            window_told: true,
            overrides: vec![],
            served_context: Some(65_536),
            planned_for: None,
            below: (calc.autocompact_threshold - b as i64).max(1) as u64,
            padding: 2 * b,
            observed_threshold: None,
        }
    }

    #[test]
    fn max_tokens() {
        let mut env = EnvMap::new();
        assert_eq!(max_tokens_for(Version(2, 1, 332), &env), 32_000);
        env.insert("CLAUDE_CODE_MAX_OUTPUT_TOKENS".into(), "8192".into());
        assert_eq!(max_tokens_for(Version(2, 1, 332), &env), 8_192);
        env.insert("CLAUDE_CODE_MAX_OUTPUT_TOKENS".into(), "999999".into());
        assert_eq!(max_tokens_for(Version(2, 1, 332), &env), 128_000);
    }

    /// The real 2.1.332 log (MAX_CONTEXT 65536, MAX_OUTPUT 8192): effectiveWindow 57344 is
    /// the plan; a plan of another window is a mismatch and names the table row.
    #[test]
    fn compares_a_real_log() {
        let log = include_str!(
            "../../tests/fixtures/claude-debug-logs/v2.1.332-p-mode-compaction-unknown-model.txt"
        );
        let mut env = EnvMap::new();
        env.insert("CLAUDE_CODE_MAX_CONTEXT_TOKENS".into(), "65536".into());
        env.insert("CLAUDE_CODE_MAX_OUTPUT_TOKENS".into(), "8192".into());
        let e = expected(Version(2, 1, 332), &env);
        let o = Observed {
            runs: vec![read_run("short", log, "", &[])],
            onboarding_completed: Some(true),
            ..Default::default()
        };
        let (items, table) = compare(&e, &o);
        let get = |id: &str| items.iter().find(|i| i.id == id).unwrap();
        assert_eq!(
            get("effective_window").mark,
            Mark::Ok,
            "{:?}",
            get("effective_window")
        );
        assert_eq!(get("main_model").mark, Mark::Ok);
        assert!(table.is_empty());
        env.insert("CLAUDE_CODE_MAX_CONTEXT_TOKENS".into(), "32768".into());
        let mut e2 = expected(Version(2, 1, 332), &env);
        e2.predicted = e2.planned.clone();
        // What the build does (threshold 44344 + 8192) does not fit a 32768-token server.
        e2.served_context = Some(32_768);
        let (items, table) = compare(&e2, &o);
        let w = items.iter().find(|i| i.id == "effective_window").unwrap();
        assert_eq!(w.mark, Mark::Mismatch);
        assert_eq!(w.observed, "57344");
        assert_eq!(table[0].item, "effective_window");
        assert_eq!(table[0].versions, "2.1.323 and later");
    }

    /// The blog's build, 2.1.42, measured: with the table's settings for a 65536-token
    /// server it logs `threshold=178808 effectiveWindow=191808` (it ignores
    /// `CLAUDE_CODE_AUTO_COMPACT_WINDOW`). verify fails it and names the row; the fix is
    /// the percentage of the observed window; with it applied, the build compacts inside
    /// the served context and the table's error is reported, not failed.
    #[test]
    fn the_observed_value_wins() {
        use crate::verify::observe::{Autocompact, RunObs};
        // A build that contradicts its table row: 2.1.100 honours the window variable (run,
        // docs/claude-code.md), so observations of a build that ignores it, as 2.1.74 and
        // older do (191808 / 178808), stand for a new release that changed its logic.
        let v = Version(2, 1, 100);
        let mut env = EnvMap::new();
        env.insert("CLAUDE_CODE_AUTO_COMPACT_WINDOW".into(), "65536".into());
        env.insert("CLAUDE_CODE_MAX_OUTPUT_TOKENS".into(), "8192".into());
        env.insert("CLAUDE_CODE_BLOCKING_LIMIT_OVERRIDE".into(), "54344".into());
        let run = |tokens: u64, threshold: u64| RunObs {
            autocompact: vec![Autocompact {
                tokens: Some(tokens),
                threshold: Some(threshold),
                level: None,
                effective_window: Some(191_808),
            }],
            ..Default::default()
        };
        let report = |e: &Expected, o: Observed| {
            let (items, table) = compare(e, &o);
            let ok = !items.iter().any(|i| i.mark == Mark::Mismatch);
            Report {
                claude: "claude".into(),
                version: v,
                launcher: None,
                settings: None,
                model: e.model.clone(),
                items,
                table,
                causes: vec![],
                fixes: vec![],
                ok,
                elapsed_ms: 0,
                expected: e.clone(),
                observed: o,
            }
        };
        let mut e = expected(v, &env);
        e.window_told = false;
        let o = Observed {
            runs: vec![
                run(10, 178_808),
                run(40_344, 178_808),
                run(187_748, 178_808),
            ],
            onboarding_completed: Some(true),
            ..Default::default()
        };
        let r = report(&e, o);
        assert!(!r.ok);
        let mark = |r: &Report, id: &str| r.items.iter().find(|i| i.id == id).unwrap().mark;
        assert_eq!(mark(&r, "effective_window"), Mark::Mismatch);
        assert_eq!(mark(&r, "fits_context"), Mark::Mismatch);
        assert_eq!(r.table[0].versions, "2.1.89 – 2.1.121");
        let fix = observed_fix(&r).expect("a fix");
        assert_eq!(fix["CLAUDE_AUTOCOMPACT_PCT_OVERRIDE"], "23.11");
        assert!(!fix.contains_key("CLAUDE_CODE_BLOCKING_LIMIT_OVERRIDE"));
        // Applied: floor(191808 × 0.2311) = 44326 is what the build then logs.
        env.extend(fix);
        let mut e = expected(v, &env);
        e.window_told = false;
        let o = Observed {
            runs: vec![run(10, 44_326), run(9_252, 44_326), run(48_326, 44_326)],
            onboarding_completed: Some(true),
            ..Default::default()
        };
        let r = report(&e, o.clone());
        // (No request was recorded in this hand-made observation: only the window items
        // are compared here.)
        assert_eq!(mark(&r, "compaction"), Mark::Ok);
        assert_eq!(mark(&r, "effective_window"), Mark::Note);
        assert_eq!(mark(&r, "threshold"), Mark::Note);
        assert_eq!(mark(&r, "fits_context"), Mark::Ok);
        assert!(!r.table.is_empty());
        assert!(observed_fix(&r).is_none());
        // Where the user's own files change the window, they are the cause: no pass.
        e.overrides =
            vec!["CLAUDE_AUTOCOMPACT_PCT_OVERRIDE=23.11 (from /h/.claude/settings.json)".into()];
        let r = report(&e, o);
        assert_eq!(mark(&r, "effective_window"), Mark::Mismatch);
        assert!(observed_fix(&r).is_none());
    }
}
