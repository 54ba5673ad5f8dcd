//! What window and thresholds a Claude Code version uses, given its environment, and the
//! environment that makes it use a served context `C`.
//!
//! Formulas (identical in 2.1.88 source, 2.1.121, 2.1.197 and 2.1.332;
//! `docs/claude-code.md`, "The window and compaction arithmetic"):
//!
//! ```text
//! outputReserve   = min(maxOutputTokens, 20000)
//! effectiveWindow = window - outputReserve
//! threshold       = effectiveWindow - 13000          (PCT: min(floor(eff*PCT/100), that))
//! warn            = threshold - 20000
//! blocked         = (modelWindow - outputReserve) - 3000  (or CLAUDE_CODE_BLOCKING_LIMIT_OVERRIDE)
//! ```

use super::version::{gate_for, Blocking, Gate, Version};
use serde::Serialize;
use std::collections::BTreeMap;

/// Environment variables as Claude Code sees them.
pub type EnvMap = BTreeMap<String, String>;

/// `K=V K=V`, for a fix line or an `export` command.
pub fn env_line(env: &EnvMap) -> String {
    env.iter()
        .map(|(k, v)| format!("{k}={}", crate::shell::quote::sh_quote(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

const SUMMARY_RESERVE_CAP: u64 = 20_000;
const AUTOCOMPACT_BUFFER: u64 = 13_000;
const WARNING_BUFFER: u64 = 20_000;
const MANUAL_COMPACT_BUFFER: u64 = 3_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WindowSource {
    /// No window configured: the version's default.
    Auto,
    /// `CLAUDE_CODE_AUTO_COMPACT_WINDOW`.
    Env,
    /// Unknown model name, enforced by the version itself (2.1.223+).
    UnknownModel,
}

/// What a version will do with an environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowCalc {
    pub version: Version,
    /// The model's context window as Claude Code believes it.
    pub model_window: u64,
    /// The autocompact window (model window, possibly lowered).
    pub window: u64,
    pub window_source: WindowSource,
    pub output_reserve: u64,
    /// The number the debug log prints as `effectiveWindow=`.
    pub effective_window: u64,
    /// Prompt tokens at which it compacts (may be negative for tiny windows).
    pub autocompact_threshold: i64,
    pub warning_threshold: i64,
    pub blocking_limit: i64,
    /// Whether it compacts before the server rejects the prompt.
    pub proactive: bool,
    /// `CLAUDE_AUTOCOMPACT_PCT_OVERRIDE` as applied, when it was valid.
    pub pct_override: Option<f64>,
}

fn truthy(env: &EnvMap, k: &str) -> bool {
    env.get(k).is_some_and(|v| {
        let v = v.trim().to_ascii_lowercase();
        !v.is_empty() && v != "0" && v != "false" && v != "no" && v != "off"
    })
}

/// JavaScript `parseInt` on a decimal string: the leading integer, if any.
fn parse_int(s: &str) -> Option<i64> {
    let t = s.trim();
    let (sign, digits) = match t.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, t.strip_prefix('+').unwrap_or(t)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse::<i64>().ok().map(|v| sign * v)
}

/// `CLAUDE_CODE_AUTO_COMPACT_WINDOW` as the gate parses it.
fn parse_window(gate: &Gate, s: &str) -> Option<u64> {
    let t = s.trim().to_ascii_lowercase();
    let (num, mult) = if gate.window_suffixes {
        if let Some(n) = t.strip_suffix('k') {
            (n.to_string(), 1_000)
        } else if let Some(n) = t.strip_suffix('m') {
            (n.to_string(), 1_000_000)
        } else {
            (t.clone(), 1)
        }
    } else {
        (t.clone(), 1)
    };
    let v = parse_int(&num)?;
    if v <= 0 {
        return None;
    }
    let v = v as u64 * mult;
    Some(match gate.auto_compact_window_floor {
        Some(floor) => v.clamp(floor, 1_000_000),
        None => v,
    })
}

/// Tokens a version reserves for output with this environment.
pub fn output_reserve_for(gate: &Gate, env: &EnvMap) -> u64 {
    let max_out = env
        .get("CLAUDE_CODE_MAX_OUTPUT_TOKENS")
        .and_then(|v| parse_int(v))
        .filter(|&v| v > 0)
        .map(|v| (v as u64).min(gate.max_output_limit))
        .unwrap_or(gate.max_output_default);
    max_out.min(SUMMARY_RESERVE_CAP)
}

/// Computes the window, thresholds and whether compaction is proactive, for Claude Code
/// `version` running `model` with `env`.
pub fn compute_window(version: Version, model: &str, env: &EnvMap) -> WindowCalc {
    let gate = gate_for(version);
    let claude_name = model.trim().to_ascii_lowercase().starts_with("claude-");
    let one_m = model.to_ascii_lowercase().contains("[1m]");
    let max_ctx = env
        .get("CLAUDE_CODE_MAX_CONTEXT_TOKENS")
        .and_then(|v| parse_int(v))
        .filter(|&v| v > 0)
        .map(|v| v as u64);
    let model_window = if one_m {
        1_000_000
    } else if claude_name {
        200_000
    } else if let (true, Some(c)) = (gate.max_context_tokens, max_ctx) {
        c
    } else if gate.unknown_model_window > 200_000 && truthy(env, "CLAUDE_CODE_DISABLE_1M_CONTEXT") {
        200_000
    } else {
        gate.unknown_model_window
    };
    // Builds before 2.1.75 do not read the variable at all ([RUN] 2.1.42, 2.1.69, 2.1.74).
    let configured = env
        .get("CLAUDE_CODE_AUTO_COMPACT_WINDOW")
        .filter(|_| gate.reads_auto_compact_window())
        .and_then(|v| parse_window(gate, v));
    let (window, window_source) = match configured {
        Some(w) => (model_window.min(w), WindowSource::Env),
        None if gate.unknown_model_source
            && !claude_name
            && !truthy(env, "CLAUDE_CODE_DISABLE_UNKNOWN_MODEL_WINDOW_ENFORCEMENT") =>
        {
            (model_window, WindowSource::UnknownModel)
        }
        None => (model_window, WindowSource::Auto),
    };
    let reserve = output_reserve_for(gate, env);
    let effective = window.saturating_sub(reserve);
    let default_threshold = effective as i64 - AUTOCOMPACT_BUFFER as i64;
    let pct = env
        .get("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|p| *p > 0.0 && *p <= 100.0);
    let threshold = match pct {
        Some(p) => pct_threshold(effective, p).min(default_threshold),
        None => default_threshold,
    };
    let block_base = match gate.blocking {
        Blocking::ModelWindow => model_window,
        Blocking::EffectiveWindow => effective,
        Blocking::ModelLessReserve => model_window.saturating_sub(reserve),
    };
    let blocking = env
        .get("CLAUDE_CODE_BLOCKING_LIMIT_OVERRIDE")
        .and_then(|v| parse_int(v))
        .filter(|&v| v > 0)
        .unwrap_or(block_base as i64 - MANUAL_COMPACT_BUFFER as i64);
    let disabled = truthy(env, "DISABLE_AUTO_COMPACT") || truthy(env, "DISABLE_COMPACT");
    let gated = gate.needs_window_source && window_source == WindowSource::Auto;
    WindowCalc {
        version,
        model_window,
        window,
        window_source,
        output_reserve: reserve,
        effective_window: effective,
        autocompact_threshold: threshold,
        warning_threshold: threshold - WARNING_BUFFER as i64,
        blocking_limit: blocking,
        proactive: !disabled && !gated,
        pct_override: pct,
    }
}

/// The threshold `CLAUDE_AUTOCOMPACT_PCT_OVERRIDE=p` gives before the cap at the default
/// threshold: `Math.floor(effectiveWindow * (p / 100))` in Claude Code's JavaScript, the
/// same IEEE double arithmetic as here ([RUN] 2.1.42: 30 on 180000 → 54000; 17.643 on
/// 191808 → 33840; 7.99 on 195904 → 15652).
pub fn pct_threshold(effective: u64, p: f64) -> i64 {
    (effective as f64 * (p / 100.0)).floor() as i64
}

/// The largest `CLAUDE_AUTOCOMPACT_PCT_OVERRIDE`, in hundredths of a percent, whose
/// threshold on `effective` is at most `target`; `None` when even 0.01 % is above it (or
/// `target` is not positive). Written with `{}`, the value reads back in JavaScript as the
/// same double, so [`pct_threshold`] is exactly what Claude Code computes.
pub fn pct_for_threshold(effective: u64, target: i64) -> Option<f64> {
    if target <= 0 || effective == 0 {
        return None;
    }
    // floor(target * 100 / effective) percent, in hundredths, exact in integers; the
    // double product can land just below an integer (150000 × 44.66 % = 66989.99…), so
    // the search starts a step above it.
    let mut k = ((target as u128 * 10_000) / effective as u128 + 2).min(10_000) as u64;
    while k > 0 {
        let p = k as f64 / 100.0;
        if pct_threshold(effective, p) <= target {
            return Some(p);
        }
        k -= 1;
    }
    None
}

/// The settings for a served context.
#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    pub version: Version,
    pub served_context: u64,
    pub env: EnvMap,
    pub calc: WindowCalc,
    pub notes: Vec<String>,
}

/// Output tokens to allow for a served context `c`: an eighth of it, in whole KiB, between
/// 2048 and Claude Code's 20000 summary cap. Smaller reserves leave more of a small window
/// for the prompt; the reserve also bounds each reply.
fn output_tokens_for(c: u64) -> u64 {
    ((c / 8) / 1024 * 1024).clamp(2048, SUMMARY_RESERVE_CAP)
}

/// The environment that makes Claude Code `version` use the served context `c` for `model`
/// and compact before the server's context is exceeded, leaving room for the output
/// reserve and for the summary call.
pub fn recommend(version: Version, c: u64, model: &str) -> Recommendation {
    let gate = gate_for(version);
    let r = output_tokens_for(c);
    let mut env = EnvMap::new();
    let mut notes = Vec::new();
    env.insert("CLAUDE_CODE_MAX_OUTPUT_TOKENS".into(), r.to_string());
    if gate.max_context_tokens {
        env.insert("CLAUDE_CODE_MAX_CONTEXT_TOKENS".into(), c.to_string());
    }
    // Any configured window arms proactive compaction on 2.1.153-2.1.222 and is harmless
    // elsewhere: the model window (C) is the minimum. Builds before 2.1.75 do not read it,
    // so it is not written for them.
    if gate.reads_auto_compact_window() {
        let floor = gate.auto_compact_window_floor.unwrap_or(0);
        env.insert(
            "CLAUDE_CODE_AUTO_COMPACT_WINDOW".into(),
            c.max(floor).to_string(),
        );
    }
    let first = compute_window(version, model, &env);
    if first.window > c {
        // The window cannot be brought down to C (≤ 2.1.74 at all, ≤ 2.1.152 below 100k, or
        // a Claude model name): trigger earlier with the percentage, and block before C.
        // The threshold leaves room for a reply (the output reserve) and for the summary
        // call's buffer inside C.
        let target = c as i64 - r as i64 - AUTOCOMPACT_BUFFER as i64;
        if let Some(pct) = pct_for_threshold(first.effective_window, target) {
            env.insert("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE".into(), format!("{pct}"));
        }
        let block = c as i64 - r as i64 - MANUAL_COMPACT_BUFFER as i64;
        if block > 0 {
            env.insert(
                "CLAUDE_CODE_BLOCKING_LIMIT_OVERRIDE".into(),
                block.to_string(),
            );
        }
        notes.push(format!(
            "Claude Code {version} cannot be told the model's window ({c} tokens); it compacts early through CLAUDE_AUTOCOMPACT_PCT_OVERRIDE instead"
        ));
    }
    if model.trim().to_ascii_lowercase().starts_with("claude-") {
        notes.push("the model name starts with \"claude-\", so Claude Code ignores CLAUDE_CODE_MAX_CONTEXT_TOKENS; serve it under another name".into());
    }
    // The hard block follows the model window, not the autocompact window: where the
    // model window stays above C (<= 2.1.152), block before C too.
    let calc = compute_window(version, model, &env);
    let block = c as i64 - calc.output_reserve as i64 - MANUAL_COMPACT_BUFFER as i64;
    if calc.blocking_limit + calc.output_reserve as i64 > c as i64 && block > 0 {
        env.insert(
            "CLAUDE_CODE_BLOCKING_LIMIT_OVERRIDE".into(),
            block.to_string(),
        );
    }
    // Whether the context is large enough at all is the planner's call
    // (`crate::planner::advise`, docs/planner.md).
    let calc = compute_window(version, model, &env);
    Recommendation {
        version,
        served_context: c,
        env,
        calc,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lines_are_shell_words() {
        let e = env(&[("A", "65536"), ("B", "m x$(id)")]);
        assert_eq!(env_line(&e), "A=65536 B='m x$(id)'");
    }

    fn env(pairs: &[(&str, &str)]) -> EnvMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_per_version() {
        let m = "qwen3-coder:30b";
        let c = compute_window(Version(2, 1, 121), m, &EnvMap::new());
        assert_eq!(
            (c.effective_window, c.autocompact_threshold),
            (180_000, 167_000)
        );
        assert!(c.proactive);
        let c = compute_window(Version(2, 1, 197), m, &EnvMap::new());
        assert_eq!(c.effective_window, 180_000);
        assert!(!c.proactive, "2.1.153-2.1.222 need a window source");
        let c = compute_window(Version(2, 1, 332), m, &EnvMap::new());
        assert_eq!(
            (c.effective_window, c.autocompact_threshold),
            (980_000, 967_000)
        );
        assert_eq!(c.window_source, WindowSource::UnknownModel);
    }

    #[test]
    fn observed_runs() {
        // [RUN] 2.1.332: MAX_CONTEXT 65536 + MAX_OUTPUT 8192 -> effectiveWindow 57344, threshold 44344.
        let e = env(&[
            ("CLAUDE_CODE_MAX_CONTEXT_TOKENS", "65536"),
            ("CLAUDE_CODE_MAX_OUTPUT_TOKENS", "8192"),
        ]);
        let c = compute_window(Version(2, 1, 332), "qwen3-coder:30b", &e);
        assert_eq!(
            (c.effective_window, c.autocompact_threshold),
            (57_344, 44_344)
        );
        let mut e50 = e.clone();
        e50.insert("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE".into(), "50.9".into());
        assert_eq!(
            compute_window(Version(2, 1, 332), "q", &e50).autocompact_threshold,
            29_188
        );
        let mut e90 = e.clone();
        e90.insert("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE".into(), "90".into());
        assert_eq!(
            compute_window(Version(2, 1, 332), "q", &e90).autocompact_threshold,
            44_344
        );
        // [RUN] 2.1.152 ignores MAX_CONTEXT: 200000 - 8192 = 191808.
        assert_eq!(
            compute_window(Version(2, 1, 152), "q", &e).effective_window,
            191_808
        );
        // [RUN] 2.1.121: PCT 17.643 -> threshold 31757; MAX_OUTPUT 4096 -> 195904.
        let e = env(&[("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE", "17.643")]);
        assert_eq!(
            compute_window(Version(2, 1, 121), "q", &e).autocompact_threshold,
            31_757
        );
        let e = env(&[("CLAUDE_CODE_MAX_OUTPUT_TOKENS", "4096")]);
        let c = compute_window(Version(2, 1, 121), "q", &e);
        assert_eq!(
            (c.effective_window, c.autocompact_threshold),
            (195_904, 182_904)
        );
        // [RUN] 2.1.332 AUTO_COMPACT_WINDOW=32768 is raised to 100k -> 80000.
        let e = env(&[("CLAUDE_CODE_AUTO_COMPACT_WINDOW", "32768")]);
        assert_eq!(
            compute_window(Version(2, 1, 332), "q", &e).effective_window,
            80_000
        );
        // [RUN] --autocompact 150k equivalent.
        let e = env(&[("CLAUDE_CODE_AUTO_COMPACT_WINDOW", "150k")]);
        assert_eq!(
            compute_window(Version(2, 1, 332), "q", &e).effective_window,
            130_000
        );
        // [RUN] claude-sonnet-4-5 ignores MAX_CONTEXT.
        let e = env(&[
            ("CLAUDE_CODE_MAX_CONTEXT_TOKENS", "65536"),
            ("CLAUDE_CODE_AUTO_COMPACT_WINDOW", "150000"),
        ]);
        assert_eq!(
            compute_window(Version(2, 1, 332), "claude-sonnet-4-5", &e).effective_window,
            130_000
        );
        // [RUN] 2.1.332 MAX_CONTEXT 32768 with the default reserve -> 12768.
        let e = env(&[("CLAUDE_CODE_MAX_CONTEXT_TOKENS", "32768")]);
        assert_eq!(
            compute_window(Version(2, 1, 332), "q", &e).effective_window,
            12_768
        );
    }

    #[test]
    fn recommendation_lands_on_served_context() {
        for v in [Version(2, 1, 197), Version(2, 1, 300), Version(2, 1, 332)] {
            for c in [32_768u64, 65_536, 131_072, 262_144] {
                let r = recommend(v, c, "qwen3-coder-next:q4_K_M");
                assert_eq!(r.calc.window, c, "{v} {c}");
                assert!(r.calc.proactive, "{v} {c}");
                assert!(
                    r.calc.autocompact_threshold + r.calc.output_reserve as i64 + 13_000
                        <= c as i64
                );
            }
        }
    }

    #[test]
    fn old_versions_use_percentage() {
        let r = recommend(Version(2, 1, 121), 65_536, "qwen3-coder:30b");
        let pct: f64 = r.env["CLAUDE_AUTOCOMPACT_PCT_OVERRIDE"].parse().unwrap();
        assert!(pct > 0.0 && pct < 100.0);
        // threshold + output reserve + summary buffer stays inside the served context
        assert!(r.calc.autocompact_threshold + r.calc.output_reserve as i64 + 13_000 <= 65_536);
        assert!(r.calc.autocompact_threshold > 65_536 - 8_192 - 13_000 - 200);
        assert!(r.calc.blocking_limit < 65_536);
        // 2.1.75 - 2.1.88 accept the window directly ([RUN] 2.1.75, 2.1.88) ...
        let r = recommend(Version(2, 1, 88), 65_536, "q");
        assert_eq!(r.calc.window, 65_536);
        assert!(!r.env.contains_key("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE"));
        // ... 2.1.89 and later raise it to 100000 ([RUN] 2.1.89, 2.1.100, 2.1.111).
        let r = recommend(Version(2, 1, 100), 65_536, "q");
        assert_eq!(r.calc.window, 100_000);
        assert!(r.env.contains_key("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE"));
    }

    /// [RUN] 2.1.42, 2.1.69 and 2.1.74 against a loopback server, as logged.
    #[test]
    fn builds_before_2_1_75_read_only_the_percentage() {
        let m = "qwen3-coder:30b";
        for v in [Version(2, 1, 42), Version(2, 1, 69), Version(2, 1, 74)] {
            let run = |pairs: &[(&str, &str)]| {
                let c = compute_window(v, m, &env(pairs));
                (c.autocompact_threshold, c.effective_window)
            };
            assert_eq!(run(&[]), (167_000, 180_000));
            assert_eq!(
                run(&[("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE", "30")]),
                (54_000, 180_000)
            );
            assert_eq!(
                run(&[("CLAUDE_CODE_AUTO_COMPACT_WINDOW", "65536")]),
                (167_000, 180_000)
            );
            assert_eq!(
                run(&[("CLAUDE_CODE_MAX_CONTEXT_TOKENS", "65536")]),
                (167_000, 180_000)
            );
            assert_eq!(
                run(&[("CLAUDE_CODE_MAX_OUTPUT_TOKENS", "8192")]),
                (178_808, 191_808)
            );
            assert_eq!(
                run(&[
                    ("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE", "17.643"),
                    ("CLAUDE_CODE_MAX_OUTPUT_TOKENS", "8192")
                ]),
                (33_840, 191_808)
            );
            assert_eq!(
                run(&[
                    ("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE", "7.99"),
                    ("CLAUDE_CODE_MAX_OUTPUT_TOKENS", "4096")
                ]),
                (15_652, 195_904)
            );
            // The hard block of these builds is the model window less 3000.
            assert_eq!(compute_window(v, m, &EnvMap::new()).blocking_limit, 197_000);
            // What setup writes for them: no window variable, a percentage instead.
            let r = recommend(v, 32_768, m);
            assert!(
                !r.env.contains_key("CLAUDE_CODE_AUTO_COMPACT_WINDOW"),
                "{v}"
            );
            // 8 % of 195904 is 15672.32: floored, exactly C - R - 13000.
            assert_eq!(r.env["CLAUDE_AUTOCOMPACT_PCT_OVERRIDE"], "8");
            assert_eq!(r.env["CLAUDE_CODE_MAX_OUTPUT_TOKENS"], "4096");
            assert_eq!(
                (r.calc.autocompact_threshold, r.calc.effective_window),
                (15_672, 195_904)
            );
        }
    }

    /// The percentage for builds that read only it, at the edges: the smallest context the
    /// planner serves, the test contexts, large ones, and one at the 200000 window.
    #[test]
    fn percentage_edges() {
        let v = Version(2, 1, 42);
        // (served context, percentage, threshold, effectiveWindow)
        let cases: &[(u64, Option<&str>, i64, u64)] = &[
            (28_672, Some("6.39"), 12_583, 196_928),
            (32_768, Some("8"), 15_672, 195_904),
            (65_536, Some("23.11"), 44_326, 191_808),
            (131_072, Some("55.38"), 101_686, 183_616),
            (190_000, Some("87.22"), 156_996, 180_000),
            (200_000, None, 167_000, 180_000),
            (262_144, None, 167_000, 180_000),
        ];
        for &(c, pct, threshold, eff) in cases {
            let r = recommend(v, c, "q");
            assert_eq!(
                r.env
                    .get("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE")
                    .map(String::as_str),
                pct,
                "{c}"
            );
            assert_eq!(
                (r.calc.autocompact_threshold, r.calc.effective_window),
                (threshold, eff),
                "{c}"
            );
            // Inside the served context with room for a reply and the summary buffer.
            assert!(
                r.calc.autocompact_threshold + r.calc.output_reserve as i64 + 13_000 <= c as i64,
                "{c}"
            );
            assert!(
                r.calc.blocking_limit + r.calc.output_reserve as i64 <= c as i64,
                "{c}"
            );
        }
    }

    /// The percentage is the largest in hundredths whose floored threshold stays at or
    /// below the target, with Claude Code's own double arithmetic.
    #[test]
    fn percentage_rounding() {
        assert_eq!(pct_for_threshold(180_000, 0), None);
        assert_eq!(pct_for_threshold(180_000, 17), None, "0.01 % is 18 tokens");
        assert_eq!(pct_for_threshold(180_000, 18), Some(0.01));
        assert_eq!(pct_for_threshold(180_000, 54_000), Some(30.0));
        assert_eq!(pct_for_threshold(180_000, 53_999), Some(29.99));
        // The double product rounds down: 44.66 % of 150000 floors to 66989.
        assert_eq!(pct_for_threshold(150_000, 66_989), Some(44.66));
        assert_eq!(pct_for_threshold(180_000, 500_000), Some(100.0));
        for eff in (150_000u64..=200_000).step_by(997) {
            for target in (12_000i64..=190_000).step_by(4_999) {
                let p = pct_for_threshold(eff, target).unwrap();
                assert!(pct_threshold(eff, p) <= target, "{eff} {target} {p}");
                let k = (p * 100.0).round() as u64;
                if k < 10_000 {
                    let next = (k + 1) as f64 / 100.0;
                    assert!(pct_threshold(eff, next) > target, "{eff} {target} {p}");
                }
                // Written and read back as Claude Code reads it.
                let back: f64 = format!("{p}").parse().unwrap();
                assert_eq!(back, p);
            }
        }
    }
}
