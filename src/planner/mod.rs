//! The one planner: which context and KV cache type to serve a model with on a memory
//! budget, the server settings that say so, and the Claude Code settings that fit them.
//! `cclocal plan`, `setup`, `doctor` and `logs` all ask it; the policy and its reasoning
//! are in docs/planner.md.

pub mod claude;
pub mod kinds;
pub use crate::kv;
pub mod server;

pub use claude::{
    advise, advise_version, context_notes, obeys, ClaudeAdvice, VersionSpan, MIN_USABLE_CONTEXT,
    RECOMMENDED_CONTEXT, SYSTEM_PROMPT_TOKENS,
};
pub use kinds::{defaults, KindDefaults, KIND_DEFAULTS};
pub use kv::KvType;
pub use server::{command_line, lms_load_args, lms_load_line, serve_line, ServeLine};
pub use server::{env_words, llama_server_args, ollama_env, ServerSettings};

use crate::error::Result;
use crate::memory::{fit_context, parse_cache_type, plan_row, Budget, CacheParams, PlanRow};
use crate::model::ModelDesc;
use crate::units::human;

/// The KV cache types the policy chooses from, most precise first (the three Ollama takes).
pub const POLICY_KV_TYPES: [KvType; 3] = KvType::OLLAMA;
/// The cache type when the budget is unknown (a remote server without `--memory`): half of
/// f16's memory at a quality loss too small to measure in practice; f16 without flash
/// attention (a quantized V cache needs it).
pub fn unknown_budget_kv_type(flash_attn: bool) -> KvType {
    if flash_attn {
        KvType::Q8_0
    } else {
        KvType::F16
    }
}

/// The context a server really serves when asked for `requested` tokens per sequence:
/// llama.cpp pads every context up to a multiple of 256 (`llama-context.cpp`), and Ollama
/// runs llama.cpp. `plan` prints, `setup` writes and `doctor` compares this one figure.
pub fn served_context(requested: u64) -> u64 {
    requested.max(1).div_ceil(256) * 256
}
/// How long Ollama keeps the model loaded when setup is not told (`OLLAMA_KEEP_ALIVE`).
pub const DEFAULT_KEEP_ALIVE: &str = "30m";
/// A context that is enough for Claude Code: beyond it, more precision beats more context.
pub const ENOUGH_CONTEXT: u64 = 128 * 1024;
/// The smallest context in the ladder of rows.
pub const LADDER_START: u64 = 8 * 1024;

/// The contexts to show: powers of two from 8K up to the trained context, and the trained
/// context itself.
pub fn ladder(trained: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (13..=24)
        .map(|p| 1u64 << p)
        .filter(|&c| c <= trained)
        .collect();
    if !v.contains(&trained) && trained >= 256 {
        v.push(trained);
    }
    if v.is_empty() {
        v.push(trained.max(256));
    }
    v
}

/// What to plan.
#[derive(Debug, Clone)]
pub struct Request {
    /// Sequences, micro-batch and flash attention (context and cache types are ignored).
    pub params: CacheParams,
    /// Cache types allowed (empty: the policy's, [`POLICY_KV_TYPES`]).
    pub kv_types: Vec<String>,
    /// The context to serve (llama.cpp's `n_ctx`, all sequences); `None`: the largest that
    /// fits.
    pub ctx: Option<u64>,
}

impl Request {
    pub fn new() -> Request {
        Request {
            params: CacheParams::new(0),
            kv_types: Vec::new(),
            ctx: None,
        }
    }
    /// The cache types to try: the named ones, else the policy's; without flash attention
    /// only the unquantized one (a quantized V cache needs flash attention).
    fn types(&self) -> Vec<String> {
        if self.kv_types.is_empty() {
            POLICY_KV_TYPES
                .iter()
                .filter(|t| self.params.flash_attn || !t.is_quantized())
                .map(|t| t.name().to_string())
                .collect()
        } else {
            self.kv_types
                .iter()
                .map(|s| s.trim().to_ascii_lowercase())
                .collect()
        }
    }
}

impl Default for Request {
    fn default() -> Self {
        Request::new()
    }
}

/// The largest context that fits with one cache type.
#[derive(Debug, Clone)]
pub struct Fitted {
    pub kv_type: String,
    pub row: Option<PlanRow>,
}

/// A context and cache type to serve, with its memory and its server settings.
#[derive(Debug, Clone)]
pub struct Choice {
    pub row: PlanRow,
    pub settings: ServerSettings,
}

impl Choice {
    /// Tokens one Claude Code session gets.
    pub fn per_sequence(&self) -> u64 {
        self.settings.context
    }
}

/// What the planner decided.
#[derive(Debug, Clone)]
pub enum Outcome {
    Serve(Choice),
    /// The requested context fits with none of the allowed cache types; `largest` is the
    /// policy's choice without the request (what does fit).
    DoesNotFit {
        requested: u64,
        largest: Option<Choice>,
    },
    /// Not even 256 tokens fit: the weights alone exceed the budget.
    NothingFits,
}

/// A reason no setting can work (`what`), and what would (`would`, an imperative phrase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub what: String,
    pub would: String,
}

/// The plan.
#[derive(Debug, Clone)]
pub struct Planned {
    pub fitted: Vec<Fitted>,
    pub outcome: Outcome,
    pub warnings: Vec<String>,
    pub problem: Option<Problem>,
}

impl Planned {
    /// The choice to serve, when there is one.
    pub fn choice(&self) -> Option<&Choice> {
        match &self.outcome {
            Outcome::Serve(c) => Some(c),
            _ => None,
        }
    }
    /// The largest fitting context for a cache type.
    pub fn fitted_ctx(&self, kv: &str) -> Option<u64> {
        self.fitted
            .iter()
            .find(|f| f.kv_type == kv)
            .and_then(|f| f.row.as_ref().map(|r| r.n_ctx))
    }
}

fn choice(row: PlanRow, p: &CacheParams) -> Choice {
    let mut settings = ServerSettings::new(row.n_ctx / p.n_seq.max(1) as u64, &row.kv_type);
    settings.flash_attn = p.flash_attn;
    settings.parallel = p.n_seq.max(1);
    Choice { row, settings }
}

/// The context a cache type must reach to be chosen (docs/planner.md): 16- and 32-bit
/// caches 128K, `q8_0` 64K, coarser types any.
fn goal(kv_type: &str) -> u64 {
    match kv_type.parse::<KvType>() {
        Ok(t) if !t.is_quantized() => ENOUGH_CONTEXT,
        Ok(KvType::Q8_0) => RECOMMENDED_CONTEXT,
        _ => 0,
    }
}

/// The policy (docs/planner.md): in order of precision, the first cache type whose largest
/// fitting context reaches its goal (capped at the trained context): f16 at 128K, q8_0 at
/// 64K, q4_0 at any; when none does, the type that fits the largest context (the more
/// precise one on a tie).
fn pick(fitted: &[Fitted], trained: u64) -> Option<PlanRow> {
    if let Some(r) = fitted
        .iter()
        .filter_map(|f| f.row.as_ref().map(|r| (f, r)))
        .find(|(f, r)| r.n_ctx >= goal(&f.kv_type).min(trained))
        .map(|(_, r)| r)
    {
        return Some(r.clone());
    }
    let mut best: Option<&PlanRow> = None;
    for r in fitted.iter().filter_map(|f| f.row.as_ref()) {
        if best.map_or(true, |b| r.n_ctx > b.n_ctx) {
            best = Some(r);
        }
    }
    best.cloned()
}

/// Plans `model` on `budget`.
pub fn plan(model: &ModelDesc, budget: &Budget, req: &Request) -> Result<Planned> {
    let types = req.types();
    let mut fitted = Vec::new();
    for name in &types {
        let p = req.params.with_cache_type(parse_cache_type(name)?);
        fitted.push(Fitted {
            kv_type: p.type_k.name.to_string(),
            row: fit_context(model, &p, budget)?,
        });
    }
    let trained = model.context_length;
    let n_seq = req.params.n_seq.max(1) as u64;
    let mut warnings = Vec::new();
    let largest = pick(&fitted, trained).map(|r| choice(r, &req.params));
    let largest_ref = largest.clone();
    let outcome = match req.ctx {
        Some(ctx) => {
            if ctx / n_seq > trained {
                warnings.push(format!(
                    "{ctx} tokens is more than {} was trained for ({trained}): past that its answers degrade; serve {trained} or less",
                    model.name
                ));
            }
            let mut found = None;
            for name in &types {
                let p = CacheParams {
                    n_ctx: ctx,
                    ..req.params.with_cache_type(parse_cache_type(name)?)
                };
                let row = plan_row(model, &p, budget)?;
                if row.fits {
                    found = Some(choice(row, &p));
                    break;
                }
            }
            match found {
                Some(c) => Outcome::Serve(c),
                None => Outcome::DoesNotFit {
                    requested: ctx,
                    largest,
                },
            }
        }
        None => match largest {
            Some(c) => Outcome::Serve(c),
            None => Outcome::NothingFits,
        },
    };
    let problem = problem(model, budget, &outcome, largest_ref.as_ref());
    Ok(Planned {
        fitted,
        outcome,
        warnings,
        problem,
    })
}

fn problem(
    model: &ModelDesc,
    budget: &Budget,
    outcome: &Outcome,
    largest: Option<&Choice>,
) -> Option<Problem> {
    let trained = model.context_length;
    if trained < MIN_USABLE_CONTEXT {
        return Some(Problem {
            what: format!(
                "{} was trained for {trained} tokens, and Claude Code needs at least {MIN_USABLE_CONTEXT} (its system prompt and tools take about {}k, compaction 13k more)",
                model.name,
                SYSTEM_PROMPT_TOKENS / 1000
            ),
            would: "use a model trained for a longer context".into(),
        });
    }
    let memory = || {
        Problem {
        what: match largest {
            Some(c) => format!(
                "the largest context of {} that fits in {} is {} tokens, and Claude Code needs at least {MIN_USABLE_CONTEXT}",
                model.name,
                human(budget.bytes),
                c.per_sequence()
            ),
            None => format!(
                "{} does not fit in {} even with a 256-token context",
                model.name,
                human(budget.bytes)
            ),
        },
        would: format!(
            "use a smaller model or quantization, or more memory than {}",
            human(budget.bytes)
        ),
    }
    };
    let largest_usable = largest.is_some_and(|c| c.per_sequence() >= MIN_USABLE_CONTEXT);
    match outcome {
        _ if !largest_usable => Some(memory()),
        Outcome::Serve(c) if c.per_sequence() < MIN_USABLE_CONTEXT => Some(Problem {
            what: format!(
                "{} tokens is too small for Claude Code, which needs at least {MIN_USABLE_CONTEXT}",
                c.per_sequence()
            ),
            would: format!(
                "serve {MIN_USABLE_CONTEXT} tokens or more (up to {} fit)",
                largest.map(|l| l.per_sequence()).unwrap_or(0)
            ),
        }),
        _ => None,
    }
}

/// The rows to show (`plan`'s table and the wizard's): for each cache type planned, the
/// named contexts, else the ladder plus the largest context that fits with that type.
pub fn rows(
    model: &ModelDesc,
    budget: &Budget,
    params: &CacheParams,
    planned: &Planned,
    named: &[u64],
) -> Result<Vec<PlanRow>> {
    let mut rows = Vec::new();
    for f in &planned.fitted {
        let p = params.with_cache_type(parse_cache_type(&f.kv_type)?);
        let mut ctxs = if named.is_empty() {
            ladder(model.context_length)
        } else {
            named.to_vec()
        };
        if let (true, Some(r)) = (named.is_empty(), &f.row) {
            ctxs.push(r.n_ctx);
        }
        ctxs.sort_unstable();
        ctxs.dedup();
        for c in ctxs {
            rows.push(plan_row(model, &CacheParams { n_ctx: c, ..p }, budget)?);
        }
    }
    Ok(rows)
}

/// The context per sequence and cache type to serve, or a usage error that says why none
/// works and what would (the planner's problem, or the requested context that does not
/// fit): what `setup` writes, and `plan` recommends.
pub fn decide(p: &Planned, desc: &ModelDesc, budget: &Budget) -> Result<(u64, String)> {
    use crate::error::Error;
    if let Some(pr) = &p.problem {
        return Err(
            Error::usage(format!("no setting can work: {}", pr.what)).with_hint(format!(
                "{} (`cclocal plan {}` shows what fits)",
                pr.would, desc.name
            )),
        );
    }
    match &p.outcome {
        Outcome::Serve(c) => Ok((c.per_sequence(), c.row.kv_type.clone())),
        Outcome::DoesNotFit { requested, largest } => Err(Error::usage(format!(
            "a {requested}-token context for {} does not fit in {}",
            desc.name,
            human(budget.bytes)
        ))
        .with_hint(match largest {
            Some(l) => format!(
                "the largest that fits is --ctx {} with --kv-type {}; or pass --force to write it anyway",
                l.per_sequence(),
                l.row.kv_type
            ),
            None => "use a smaller model or quantization".into(),
        })),
        Outcome::NothingFits => Err(Error::usage(format!(
            "{} does not fit in {} even with a 256-token context",
            desc.name,
            human(budget.bytes)
        ))
        .with_hint(
            "use a smaller model or quantization, or pass --memory SIZE if the budget is wrong",
        )),
    }
}

/// What a server should serve instead of what it serves (the doctor's fixes): the context
/// and, when the planner knows the memory, the cache type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixTarget {
    /// Tokens per sequence.
    pub context: u64,
    /// The cache type to serve it with (`None`: the memory is unknown; keep the server's).
    pub kv_type: Option<String>,
}

/// The doctor's fix target (docs/planner.md, "The doctor's fixes"): the planner's choice for
/// this model on this machine (`planned`: the context per sequence and the cache type of
/// [`plan`], the same decision `plan` prints and `setup` writes); when the memory is
/// unknown, the kind's fallback context capped at the trained context. `None` when no
/// setting can work (the plan or the trained context is below [`MIN_USABLE_CONTEXT`]).
pub fn fix(
    planned: Option<(u64, &str)>,
    memory_known: bool,
    trained: Option<u64>,
    kind: crate::server::ServerKind,
) -> Option<FixTarget> {
    let trained = trained.unwrap_or(u64::MAX);
    if trained < MIN_USABLE_CONTEXT {
        return None;
    }
    let target = match (planned, memory_known) {
        (Some((c, kv)), _) => FixTarget {
            context: c,
            kv_type: Some(kv.to_string()),
        },
        (None, true) => return None,
        (None, false) => FixTarget {
            context: defaults(kind).fallback_context.min(trained),
            kv_type: None,
        },
    };
    (target.context >= MIN_USABLE_CONTEXT).then_some(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::KvReport;

    fn row(kv: &str, n_ctx: u64) -> PlanRow {
        PlanRow {
            n_ctx,
            kv_type: kv.into(),
            kv_bytes: 0,
            recurrent_bytes: 0,
            compute_bytes: 0,
            output_bytes: 0,
            weights_bytes: 0,
            total_bytes: 0,
            fits: true,
            kv: KvReport {
                n_ctx,
                n_ctx_seq: n_ctx,
                caches: vec![],
                kv_bytes: 0,
                recurrent_bytes: 0,
                n_ubatch: 512,
            },
        }
    }

    fn fitted(f16: Option<u64>, q8: Option<u64>, q4: Option<u64>) -> Vec<Fitted> {
        [("f16", f16), ("q8_0", q8), ("q4_0", q4)]
            .iter()
            .map(|(t, c)| Fitted {
                kv_type: t.to_string(),
                row: c.map(|c| row(t, c)),
            })
            .collect()
    }

    fn picked(f: &[Fitted], trained: u64) -> Option<(String, u64)> {
        pick(f, trained).map(|r| (r.kv_type, r.n_ctx))
    }

    #[test]
    fn fix_is_the_plan() {
        use crate::server::ServerKind;
        let t = fix(
            Some((104_192, "q8_0")),
            true,
            Some(262_144),
            ServerKind::Ollama,
        )
        .unwrap();
        assert_eq!((t.context, t.kv_type.as_deref()), (104_192, Some("q8_0")));
        // Above 64K too: the doctor no longer caps the plan.
        let t = fix(
            Some((200_192, "f16")),
            true,
            Some(262_144),
            ServerKind::Ollama,
        )
        .unwrap();
        assert_eq!(t.context, 200_192);
        // Unknown memory: the kind's fallback, within the trained context.
        let t = fix(None, false, Some(40_960), ServerKind::Ollama).unwrap();
        assert_eq!((t.context, t.kv_type), (40_960, None));
        // Nothing usable.
        assert_eq!(
            fix(Some((20_480, "q4_0")), true, None, ServerKind::Ollama),
            None
        );
        assert_eq!(fix(None, true, None, ServerKind::Ollama), None);
        assert_eq!(fix(None, false, Some(8192), ServerKind::Ollama), None);
    }

    #[test]
    fn served_context_pads_like_llama_cpp() {
        assert_eq!(served_context(30_000), 30_208);
        assert_eq!(served_context(32_768), 32_768);
        assert_eq!(served_context(1), 256);
    }

    #[test]
    fn without_flash_attention_only_f16() {
        let mut r = Request::new();
        r.params.flash_attn = false;
        assert_eq!(r.types(), vec!["f16".to_string()]);
        r.params.flash_attn = true;
        assert_eq!(r.types(), vec!["f16", "q8_0", "q4_0"]);
    }

    #[test]
    fn ladder_is_powers_of_two_to_the_trained_context() {
        assert_eq!(
            ladder(40_960),
            vec![8192, 16_384, 32_768, 40_960],
            "the trained context closes the ladder"
        );
        assert_eq!(ladder(32_768), vec![8192, 16_384, 32_768]);
        assert_eq!(ladder(4096), vec![4096]);
    }

    #[test]
    fn policy_prefers_precision_up_to_enough_context() {
        // f16 reaches 128K: f16, at its largest context.
        let f = fitted(Some(140_000), Some(262_144), Some(262_144));
        assert_eq!(picked(&f, 262_144), Some(("f16".into(), 140_000)));
        // Only q8_0 reaches 128K: q8_0, even though q4_0 fits more.
        let f = fitted(Some(54_784), Some(167_168), Some(262_144));
        assert_eq!(picked(&f, 262_144), Some(("q8_0".into(), 167_168)));
        // None reaches 128K; q8_0 reaches 64K: q8_0 (the blog machine).
        let f = fitted(Some(54_784), Some(99_584), Some(176_896));
        assert_eq!(picked(&f, 262_144), Some(("q8_0".into(), 99_584)));
        // Only q4_0 reaches 64K: q4_0.
        let f = fitted(Some(20_000), Some(40_000), Some(70_000));
        assert_eq!(picked(&f, 262_144), Some(("q4_0".into(), 70_000)));
        // None reaches 64K: the largest context.
        let f = fitted(Some(10_000), Some(20_000), Some(30_000));
        assert_eq!(picked(&f, 262_144), Some(("q4_0".into(), 30_000)));
        // A 32K model that fits its trained context in f16: f16.
        let f = fitted(Some(32_768), Some(32_768), Some(32_768));
        assert_eq!(picked(&f, 32_768), Some(("f16".into(), 32_768)));
        // Nothing fits.
        assert_eq!(picked(&fitted(None, None, None), 32_768), None);
    }
}
