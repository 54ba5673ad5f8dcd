//! `cclocal bench`: what prompt evaluation costs on this machine.
//!
//! The runner (`bench_run.rs`, feature `runtime`) times prefill and decode with the
//! embedded llama.cpp for each combination of batch size, flash attention and KV type; the
//! summary here is a pure function of those runs: the fastest settings and what a Claude
//! Code turn costs at a given context, cold (the whole prompt re-read, as when the prompt
//! cache is busted) and warm (only the new tokens read), over a session of N round trips.

use crate::error::Result;
use crate::gguf::GgmlType;
use crate::predict::Rates;
use serde::Serialize;
use std::path::PathBuf;

/// Claude Code's request timeout ceiling (`API_TIMEOUT_MS` is clamped at 5 minutes,
/// https://github.com/anthropics/claude-code/issues/35327).
pub const CLAUDE_TIMEOUT_S: f64 = 300.0;

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    pub model: PathBuf,
    /// Context of every run (`n_ctx`).
    pub ctx: u32,
    /// Prompt lengths; each must leave room for the decode tokens.
    pub prompts: Vec<u32>,
    /// Logical batch sizes (`n_batch`, llama-bench's `-b`, default 2048).
    pub batches: Vec<u32>,
    /// Physical batch (`n_ubatch`, llama-bench's `-ub`, default 512); capped at each batch.
    pub ubatch: u32,
    pub flash_attn: Vec<bool>,
    pub kv_types: Vec<GgmlType>,
    /// Tokens generated after each prompt, one per decode call.
    pub decode_tokens: u32,
    /// CPU threads (llama-bench's default, the physical cores, when `None`).
    pub threads: Option<u32>,
    /// Timed repetitions of every measurement (llama-bench's `-r`, default 5).
    pub repetitions: u32,
    /// One untimed prompt and one untimed token before each setting's measurements.
    pub warmup: bool,
    pub turn: TurnModel,
}

/// The shape of one Claude Code round trip.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TurnModel {
    /// Tokens in the conversation when the turn starts.
    pub context_tokens: u64,
    /// Tokens added by the turn (tool results, the user's message).
    pub new_tokens: u64,
    /// Tokens the model writes.
    pub output_tokens: u64,
    pub rounds: u32,
}

/// One measurement, the `--json` contract's `runs[]` row. Rates are the mean over the
/// repetitions, `*_sd` their sample standard deviation (as llama-bench's `avg_ts ± stddev_ts`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchRun {
    pub prompt_tokens: u32,
    pub batch: u32,
    pub ubatch: u32,
    pub flash_attn: bool,
    pub kv_type: String,
    /// llama-bench's `ppN`: N tokens into an empty cache.
    pub prefill_tokens_per_s: f64,
    pub prefill_sd: f64,
    /// Measured right after the prompt, i.e. at a depth of `prompt_tokens`.
    pub decode_tokens_per_s: f64,
    pub decode_sd: f64,
    pub repetitions: u32,
    /// Per-repetition rates (tokens/s), for best-of comparisons on a noisy machine.
    pub prefill_samples: Vec<f64>,
    pub decode_samples: Vec<f64>,
    /// A short request right after the prompt (at a depth of `prompt_tokens`), where the
    /// context had room for it; `null` otherwise.
    pub increment: Option<Increment>,
}

/// A short request at depth: `tokens` evaluated in `ms` (mean ± sd over the repetitions).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Increment {
    pub tokens: u32,
    pub ms: f64,
    pub sd: f64,
}

/// llama-bench's `tgN`: N tokens generated one at a time from an empty cache.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GenRun {
    pub tokens: u32,
    pub batch: u32,
    pub ubatch: u32,
    pub flash_attn: bool,
    pub kv_type: String,
    pub tokens_per_s: f64,
    pub sd: f64,
    pub repetitions: u32,
    pub samples: Vec<f64>,
}

/// A combination that could not run, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    pub batch: u32,
    pub flash_attn: bool,
    pub kv_type: String,
    pub reason: String,
}

/// The cost of a turn with the recommended settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TurnCost {
    pub context_tokens: u64,
    pub new_tokens: u64,
    pub output_tokens: u64,
    pub rounds: u32,
    /// The longest prompt measured: the rates are fitted to every prompt length of the
    /// recommended setting (`a + b·depth`, docs/session-time.md), so a context beyond it is
    /// an extrapolation.
    pub rates_at_tokens: u32,
    /// Whole prompt re-read + output.
    pub cold_turn_s: f64,
    /// Only the new tokens read + output.
    pub warm_turn_s: f64,
    /// Every turn cold (a busted prompt cache).
    pub session_cold_s: f64,
    /// First turn cold, the rest warm.
    pub session_warm_s: f64,
    /// Whether a cold turn's prefill alone exceeds Claude Code's 5-minute request timeout.
    pub cold_exceeds_timeout: bool,
}

/// The `--json` contract's `recommended` object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommended {
    pub batch: u32,
    pub ubatch: u32,
    pub flash_attn: bool,
    pub kv_type: String,
    /// At the longest prompt measured.
    pub prefill_tokens_per_s: f64,
    pub decode_tokens_per_s: f64,
    pub turn: TurnCost,
}

/// `{"model", "runs", "generation", "recommended", "threads", "build", "load"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    pub model: String,
    pub runs: Vec<BenchRun>,
    pub generation: Vec<GenRun>,
    pub recommended: Option<Recommended>,
    pub threads: u32,
    pub repetitions: u32,
    pub warmup: bool,
    /// The linked llama.cpp and the CPU features it was built with.
    pub build: Option<super::BuildInfo>,
    /// What other processes took while it ran (Linux); `None` where unknown.
    pub load: Option<super::bench_stats::Load>,
    /// Why the figures may be off (another process on the CPUs, a build missing CPU features).
    pub warnings: Vec<String>,
    #[serde(skip)]
    pub skipped: Vec<Skipped>,
}

/// Default prompt lengths: 512, 1024, 2048, … up to what `ctx` leaves after decoding.
pub fn default_prompts(ctx: u32, decode_tokens: u32) -> Vec<u32> {
    let top = ctx.saturating_sub(decode_tokens);
    let mut v: Vec<u32> = std::iter::successors(Some(512u32), |x| x.checked_mul(2))
        .take_while(|&x| x < top)
        .collect();
    if top > 0 && !v.contains(&top) {
        v.push(top);
    }
    v
}

/// Picks the settings with the fastest prefill at the longest prompt (decode breaks ties)
/// and prices a turn with them: [`turn_rates`] on every measurement (the generation runs
/// too), as a saved copy of the report is read.
pub fn recommend(
    runs: &[BenchRun],
    generation: &[GenRun],
    turn: &TurnModel,
) -> Option<Recommended> {
    let longest = runs.iter().map(|r| r.prompt_tokens).max()?;
    let best = runs
        .iter()
        .filter(|r| r.prompt_tokens == longest)
        .max_by(|a, b| {
            (a.prefill_tokens_per_s, a.decode_tokens_per_s)
                .partial_cmp(&(b.prefill_tokens_per_s, b.decode_tokens_per_s))
                .unwrap_or(std::cmp::Ordering::Equal)
        })?;
    let rates = turn_rates(runs, generation, &best.kv_type).unwrap_or_else(|| {
        Rates::flat(
            best.prefill_tokens_per_s,
            best.decode_tokens_per_s,
            "the longest prompt's rates",
        )
    });
    Some(Recommended {
        batch: best.batch,
        ubatch: best.ubatch,
        flash_attn: best.flash_attn,
        kv_type: best.kv_type.clone(),
        prefill_tokens_per_s: best.prefill_tokens_per_s,
        decode_tokens_per_s: best.decode_tokens_per_s,
        turn: turn_cost(turn, longest, &rates),
    })
}

/// The rates a saved report of these runs gives (`predict::from_bench_json`, the reader
/// `setup` and `doctor` use), for the KV cache type `kv_type`: so bench, setup and doctor
/// quote the same turn for the same measurements. `None` when they cannot be fitted.
pub fn turn_rates(runs: &[BenchRun], generation: &[GenRun], kv_type: &str) -> Option<Rates> {
    let text = serde_json::json!({ "runs": runs, "generation": generation }).to_string();
    let r = crate::predict::from_bench_json(&text, "this bench").ok()?;
    Some(crate::predict::quote::for_kv(&r, Some(kv_type)))
}

/// A turn and a session at `rates` (`predict::quote::turn_ms`): cold = the whole prompt
/// re-read, warm = only the new tokens; both decode at the prompt's depth.
pub fn turn_cost(t: &TurnModel, rates_at: u32, rates: &Rates) -> TurnCost {
    let (warm_ms, cold_ms) =
        crate::predict::quote::turn_ms(rates, t.context_tokens, t.new_tokens, t.output_tokens);
    let (cold, warm) = (cold_ms / 1000.0, warm_ms / 1000.0);
    let cold_prefill = rates.prefill.ms(0, t.context_tokens + t.new_tokens) / 1000.0;
    let rounds = t.rounds.max(1) as f64;
    TurnCost {
        context_tokens: t.context_tokens,
        new_tokens: t.new_tokens,
        output_tokens: t.output_tokens,
        rounds: t.rounds,
        rates_at_tokens: rates_at,
        cold_turn_s: cold,
        warm_turn_s: warm,
        session_cold_s: cold * rounds,
        session_warm_s: cold + warm * (rounds - 1.0),
        cold_exceeds_timeout: cold_prefill > CLAUDE_TIMEOUT_S,
    }
}

/// Runs the benchmark; `progress` draws a bar on stderr when it is a terminal.
pub fn run(cfg: &BenchConfig, progress: bool) -> Result<BenchReport> {
    #[cfg(feature = "runtime")]
    return super::bench_run::run(cfg, progress);
    #[cfg(not(feature = "runtime"))]
    {
        let _ = (cfg, progress);
        Err(super::unsupported("cclocal bench"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(p: u32, batch: u32, fa: bool, pre: f64, dec: f64) -> BenchRun {
        BenchRun {
            prompt_tokens: p,
            batch,
            ubatch: 512,
            flash_attn: fa,
            kv_type: "f16".into(),
            prefill_tokens_per_s: pre,
            prefill_sd: 0.0,
            decode_tokens_per_s: dec,
            decode_sd: 0.0,
            repetitions: 1,
            prefill_samples: vec![pre],
            decode_samples: vec![dec],
            increment: None,
        }
    }

    #[test]
    fn prompts_double_up_to_context() {
        assert_eq!(default_prompts(4096, 32), vec![512, 1024, 2048, 4064]);
        assert_eq!(default_prompts(512, 8), vec![504]);
    }

    /// A 4000-token context, 1000 new tokens and 180 written, 10 round trips.
    fn turn_4000_1000_180() -> TurnModel {
        TurnModel {
            context_tokens: 4000,
            new_tokens: 1000,
            output_tokens: 180,
            rounds: 10,
        }
    }

    #[test]
    fn recommends_fastest_prefill_at_longest_prompt() {
        let runs = vec![
            run(512, 512, true, 900.0, 20.0),
            run(4096, 512, true, 500.0, 18.0),
            run(512, 2048, false, 1000.0, 21.0),
            run(4096, 2048, false, 450.0, 17.0),
        ];
        let t = turn_4000_1000_180();
        let r = recommend(&runs, &[], &t).unwrap();
        assert_eq!((r.batch, r.flash_attn), (512, true));
        assert_eq!(r.turn.rates_at_tokens, 4096);
        // The turn comes from the rates a saved report gives (fitted to the recommended
        // setting's 512- and 4096-token runs): prefill a = 0.9840 ms, b = 0.000496 ms per
        // cached token; decode a = 49.19 ms, b = 0.00155 ms. Cold: 0..5000 prefilled
        // (11.12 s) + 180 written at depth 5000 (10.28 s); warm: 4000..5000 (3.22 s) + 10.28 s.
        // (The flat rate at 4096 tokens gave 20 s and 12 s before.)
        let rates = turn_rates(&runs, &[], "f16").unwrap();
        assert!((rates.prefill.a_ms - 0.9840).abs() < 1e-3, "{rates:?}");
        assert!((rates.prefill.b_ms - 0.000496).abs() < 1e-6, "{rates:?}");
        assert!((r.turn.cold_turn_s - 21.40).abs() < 0.02, "{:?}", r.turn);
        assert!((r.turn.warm_turn_s - 13.50).abs() < 0.02, "{:?}", r.turn);
        // The same figures as predict's typical turn would give for this turn's shape.
        let (w, c) = crate::predict::quote::turn_ms(&rates, 4000, 1000, 180);
        assert!((r.turn.cold_turn_s - c / 1000.0).abs() < 1e-9);
        assert!((r.turn.warm_turn_s - w / 1000.0).abs() < 1e-9);
        assert!((r.turn.session_cold_s - 10.0 * r.turn.cold_turn_s).abs() < 1e-9);
        assert!(
            (r.turn.session_warm_s - (r.turn.cold_turn_s + 9.0 * r.turn.warm_turn_s)).abs() < 1e-9
        );
        assert!(!r.turn.cold_exceeds_timeout);
    }

    #[test]
    fn the_turn_uses_the_generation_runs_as_a_saved_report_does() {
        let runs = vec![
            run(512, 2048, true, 900.0, 20.0),
            run(4096, 2048, true, 500.0, 18.0),
        ];
        let t = turn_4000_1000_180();
        let generation = vec![GenRun {
            tokens: 32,
            batch: 2048,
            ubatch: 512,
            flash_attn: true,
            kv_type: "f16".into(),
            tokens_per_s: 40.0,
            sd: 0.0,
            repetitions: 1,
            samples: vec![40.0],
        }];
        let without = recommend(&runs, &[], &t).unwrap().turn;
        let report = BenchReport {
            model: "m.gguf".into(),
            recommended: recommend(&runs, &generation, &t),
            runs,
            generation,
            threads: 2,
            repetitions: 1,
            warmup: true,
            build: None,
            load: None,
            warnings: vec![],
            skipped: vec![],
        };
        let with = report.recommended.clone().unwrap().turn;
        // The tg32 run (faster at depth 0) changes the decode fit, and so the turn.
        assert!(
            (with.warm_turn_s - without.warm_turn_s).abs() > 0.1,
            "{without:?} {with:?}"
        );
        let text = serde_json::to_string(&report).unwrap();
        let saved = crate::predict::from_bench_json(&text, "saved").unwrap();
        let (w, c) = crate::predict::quote::turn_ms(&saved, 4000, 1000, 180);
        assert!((with.warm_turn_s - w / 1000.0).abs() < 1e-9);
        assert!((with.cold_turn_s - c / 1000.0).abs() < 1e-9);
    }

    #[test]
    fn flags_timeouts() {
        let t = TurnModel {
            context_tokens: 60_000,
            new_tokens: 0,
            output_tokens: 0,
            rounds: 1,
        };
        let flat = Rates::flat(150.0, 10.0, "flat");
        // 60000 tokens at 150 tokens/s: 400 s of prefill.
        assert!(turn_cost(&t, 4096, &flat).cold_exceeds_timeout);
        let fast = Rates::flat(1000.0, 10.0, "flat");
        assert!(!turn_cost(&t, 4096, &fast).cold_exceeds_timeout);
        assert!(recommend(&[], &[], &t).is_none());
    }
}
