//! Claude Code settings for a served context, checked against each version's own window
//! computation (`crate::claude::compute_window`), and the floor below which no setting can
//! work (docs/planner.md, "The usable floor").

use crate::claude::{
    compute_window, env_line, gate_for, recommend, EnvMap, Recommendation, Version, GATES,
};

/// Tokens of Claude Code's own system prompt and tool definitions before the first user
/// message (about 12k measured against a mock server; more with MCP servers).
pub const SYSTEM_PROMPT_TOKENS: u64 = 12_000;
/// Claude Code compacts this many tokens before the end of its effective window.
pub const AUTOCOMPACT_BUFFER: u64 = 13_000;
/// The smallest output reserve cclocal sets (`CLAUDE_CODE_MAX_OUTPUT_TOKENS`).
pub const MIN_OUTPUT_TOKENS: u64 = 2_048;
/// The smallest served context cclocal configures Claude Code for: the system prompt, the
/// compaction buffer and the smallest output reserve (27,048 tokens), rounded up to 28K.
/// Below it Claude Code would compact on every turn, or never get a reply.
pub const MIN_USABLE_CONTEXT: u64 = 28 * 1024;
/// The context worth asking for when memory allows (Ollama's Claude Code page: 64K).
pub const RECOMMENDED_CONTEXT: u64 = 64 * 1024;

/// Versions a fix must work for: one version, or the range a log's format allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionSpan {
    pub from: Version,
    pub to: Version,
}

impl VersionSpan {
    pub fn one(v: Version) -> VersionSpan {
        VersionSpan { from: v, to: v }
    }
    pub fn is_one(&self) -> bool {
        self.from == self.to
    }
    /// One version per behaviour row inside the span (both ends of each row's part), the
    /// versions a fix is checked against.
    pub fn probes(&self) -> Vec<Version> {
        let mut v = Vec::new();
        for g in GATES {
            if g.to < self.from || g.from > self.to {
                continue;
            }
            let lo = g.from.max(self.from);
            let hi = g.to.min(self.to);
            v.push(lo);
            if hi != lo {
                v.push(hi);
            }
        }
        v
    }
}

impl std::fmt::Display for VersionSpan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const V0: Version = Version(0, 0, 0);
        const VMAX: Version = Version(u32::MAX, u32::MAX, u32::MAX);
        match (self.from, self.to) {
            (a, b) if a == b => write!(f, "{a}"),
            (V0, b) => write!(f, "≤ {b}"),
            (a, VMAX) => write!(f, "{a} or newer"),
            (a, b) => write!(f, "{a} – {b}"),
        }
    }
}

/// Whether Claude Code `v` with `env`, on a server that keeps `c` tokens, compacts in time:
/// proactively, with the threshold, the output reserve and the compaction buffer inside
/// `c`, the hard block before `c`, and room for its own system prompt before compacting.
pub fn obeys(v: Version, c: u64, model: &str, env: &EnvMap) -> bool {
    let calc = compute_window(v, model, env);
    let c = c as i64;
    let reserve = calc.output_reserve as i64;
    calc.proactive
        && calc.autocompact_threshold + reserve + AUTOCOMPACT_BUFFER as i64 <= c
        && calc.blocking_limit + reserve <= c
        && calc.autocompact_threshold >= SYSTEM_PROMPT_TOKENS as i64
}

/// Settings for Claude Code, or why none can work.
#[derive(Debug, Clone)]
pub enum ClaudeAdvice {
    /// Settings every version of the span obeys.
    Settings {
        /// The versions the settings are for: the span asked for, or its part from 2.1.75
        /// on where no setting serves both the builds that read only the percentage and the
        /// newer ones.
        span: VersionSpan,
        env: EnvMap,
        /// The computation for the span's newest version (the one shown).
        rec: Recommendation,
    },
    /// No setting works for this context.
    Impossible {
        served: u64,
        /// Why, in plain words.
        why: String,
        /// What would work instead.
        would: String,
    },
}

impl ClaudeAdvice {
    pub fn env(&self) -> Option<&EnvMap> {
        match self {
            ClaudeAdvice::Settings { env, .. } => Some(env),
            ClaudeAdvice::Impossible { .. } => None,
        }
    }
    /// One line for a finding's fix or a report: the settings as `K=V …`, or why none works
    /// and what would.
    pub fn line(&self) -> String {
        match self {
            ClaudeAdvice::Settings { env, .. } => env_line(env),
            ClaudeAdvice::Impossible { why, would, .. } => {
                format!("no Claude Code setting can work: {why}; {would}")
            }
        }
    }
}

fn too_small(c: u64) -> ClaudeAdvice {
    ClaudeAdvice::Impossible {
        served: c,
        why: format!(
            "a {c}-token context cannot hold Claude Code's system prompt and tools (about {}k tokens), its {}k compaction buffer and a reply",
            SYSTEM_PROMPT_TOKENS / 1000,
            AUTOCOMPACT_BUFFER / 1000
        ),
        would: format!(
            "serve at least {MIN_USABLE_CONTEXT} tokens (a larger context, or a smaller model that fits one; `cclocal plan MODEL` shows what fits)"
        ),
    }
}

/// The Claude Code settings for a server that keeps `c` tokens per session, valid for every
/// version in `span`: each version row's own recommendation is a candidate, and the one
/// whose worst compaction threshold over the span is highest wins. Every candidate is
/// checked with [`obeys`] against each row of the span.
pub fn advise(span: VersionSpan, c: u64, model: &str) -> ClaudeAdvice {
    if c < MIN_USABLE_CONTEXT {
        return too_small(c);
    }
    let probes = span.probes();
    let mut candidates: Vec<EnvMap> = Vec::new();
    for v in probes.iter().rev() {
        let env = recommend(*v, c, model).env;
        if !candidates.contains(&env) {
            candidates.push(env);
        }
    }
    // A row that reads only the percentage (≤ 2.1.74) ignores the window variables the
    // others need: each candidate also with the other candidates' lower percentage and
    // hard block, which every row reads.
    let base = candidates.clone();
    for a in &base {
        for b in &base {
            let m = merge_limits(a, b);
            if !candidates.contains(&m) {
                candidates.push(m);
            }
        }
    }
    let mut best: Option<(i64, EnvMap)> = None;
    for env in candidates {
        if !probes.iter().all(|v| obeys(*v, c, model, &env)) {
            continue;
        }
        let worst = probes
            .iter()
            .map(|v| compute_window(*v, model, &env).autocompact_threshold)
            .min()
            .unwrap_or(i64::MIN);
        if best.as_ref().map_or(true, |(w, _)| worst > *w) {
            best = Some((worst, env));
        }
    }
    match best {
        Some((_, env)) => {
            let newest = span.to.min(*probes.last().unwrap_or(&span.to));
            let mut rec = recommend(newest, c, model);
            rec.calc = compute_window(newest, model, &env);
            rec.env = env.clone();
            ClaudeAdvice::Settings { span, env, rec }
        }
        None if span.from < FIRST_WINDOW_READER && span.to >= FIRST_WINDOW_READER => {
            // Builds that read only the percentage (≤ 2.1.74) and builds that need the window
            // (2.1.153+) share no settings at small contexts: the percentage that fits the
            // first leaves the second no room for its system prompt. The settings for the
            // newer builds, saying which versions they are for (`Settings::span`).
            advise(
                VersionSpan {
                    from: FIRST_WINDOW_READER,
                    to: span.to,
                },
                c,
                model,
            )
        }
        None => ClaudeAdvice::Impossible {
            served: c,
            why: format!(
                "no environment makes Claude Code {span} compact inside {c} tokens for {model:?}"
            ),
            would: "serve a larger context, or name the Claude Code version (`cclocal plan MODEL --ctx N --claude-version V`)".into(),
        },
    }
}

/// The first build that reads `CLAUDE_CODE_AUTO_COMPACT_WINDOW` (`docs/claude-code.md`).
const FIRST_WINDOW_READER: Version = Version(2, 1, 75);

/// `a`, with `b`'s `CLAUDE_AUTOCOMPACT_PCT_OVERRIDE` and `CLAUDE_CODE_BLOCKING_LIMIT_OVERRIDE`
/// where they are lower (or `a` has none): both only make compaction or the block earlier.
fn merge_limits(a: &EnvMap, b: &EnvMap) -> EnvMap {
    let mut out = a.clone();
    for k in [
        "CLAUDE_AUTOCOMPACT_PCT_OVERRIDE",
        "CLAUDE_CODE_BLOCKING_LIMIT_OVERRIDE",
    ] {
        let num = |e: &EnvMap| e.get(k).and_then(|v| v.parse::<f64>().ok());
        if let Some(vb) = num(b) {
            if num(a).map_or(true, |va| vb < va) {
                out.insert(k.into(), b[k].clone());
            }
        }
    }
    out
}

/// [`advise`] for one version.
pub fn advise_version(v: Version, c: u64, model: &str) -> ClaudeAdvice {
    advise(VersionSpan::one(v), c, model)
}

/// Notes about a usable context for people: how early Claude Code compacts, and whether a
/// larger context is worth it (never more than the model was trained for).
pub fn context_notes(rec: &Recommendation, trained: Option<u64>) -> Vec<String> {
    let mut notes = rec.notes.clone();
    let c = rec.served_context;
    let better = RECOMMENDED_CONTEXT.min(trained.unwrap_or(u64::MAX));
    if c < better {
        notes.push(format!(
            "a {c}-token context leaves {} tokens before compaction; Claude Code's system prompt and tools take about {}k, so {better} or more works better if memory allows",
            rec.calc.autocompact_threshold.max(0),
            SYSTEM_PROMPT_TOKENS / 1000,
        ));
    }
    let _ = gate_for(rec.version);
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTEXTS: &[u64] = &[
        4096, 16_384, 24_576, 28_672, 32_768, 40_960, 65_536, 100_000, 131_072, 167_168, 200_000,
        262_144, 1_048_576,
    ];
    const MODELS: &[&str] = &["qwen3-coder:30b", "claude-sonnet-4-5", "gemma3:270m"];

    fn all_spans() -> Vec<VersionSpan> {
        let mut v: Vec<VersionSpan> = GATES
            .iter()
            .flat_map(|g| [VersionSpan::one(g.from), VersionSpan::one(g.to)])
            .collect();
        // Every range a log's format or a partial guess can leave.
        for (i, a) in GATES.iter().enumerate() {
            for b in &GATES[i..] {
                v.push(VersionSpan {
                    from: a.from,
                    to: b.to,
                });
            }
        }
        v
    }

    /// Every settings line the planner can produce is obeyed by every version it is for:
    /// each version row's own window computation, each context, each kind of model name.
    #[test]
    fn every_fix_is_obeyed_by_every_version_it_names() {
        for span in all_spans() {
            for &c in CONTEXTS {
                for m in MODELS {
                    match advise(span, c, m) {
                        ClaudeAdvice::Settings {
                            env, span: for_, ..
                        } => {
                            for v in for_.probes() {
                                assert!(obeys(v, c, m, &env), "{v} {c} {m} {env:?}");
                            }
                            assert!(c >= MIN_USABLE_CONTEXT);
                            // Narrowed only by cutting the builds that read only the
                            // percentage off a span that also holds newer ones.
                            if for_ != span {
                                assert_eq!(for_.to, span.to);
                                assert_eq!(for_.from, FIRST_WINDOW_READER, "{span}");
                                assert!(span.from < for_.from, "{span}");
                            }
                        }
                        ClaudeAdvice::Impossible { .. } => {
                            assert!(c < MIN_USABLE_CONTEXT, "{span}, {c} tokens, {m}: no fix");
                        }
                    }
                }
            }
        }
    }

    /// Issue 23: 2.1.42 gets only what it reads, and settings for every version (an
    /// undetected one) include the percentage that version needs, where one env can serve all.
    #[test]
    fn percentage_builds_in_spans() {
        let a = advise_version(Version(2, 1, 42), 32_768, "q");
        let env = a.env().unwrap();
        assert!(
            !env.contains_key("CLAUDE_CODE_AUTO_COMPACT_WINDOW"),
            "{env:?}"
        );
        assert!(
            !env.contains_key("CLAUDE_CODE_MAX_CONTEXT_TOKENS"),
            "{env:?}"
        );
        assert_eq!(env["CLAUDE_AUTOCOMPACT_PCT_OVERRIDE"], "8");
        let all = VersionSpan {
            from: GATES[0].from,
            to: GATES[GATES.len() - 1].to,
        };
        let a = advise(all, 131_072, "qwen3-coder:30b");
        let env = a.env().unwrap_or_else(|| panic!("{}", a.line()));
        assert!(
            env.contains_key("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE"),
            "{env:?}"
        );
        assert!(obeys(Version(2, 1, 42), 131_072, "qwen3-coder:30b", env));
        assert!(obeys(Version(2, 1, 332), 131_072, "qwen3-coder:30b", env));
    }

    #[test]
    fn tiny_contexts_have_no_fix() {
        let a = advise_version(Version(2, 1, 332), 4096, "q");
        assert!(a.env().is_none());
        assert!(a.line().contains("at least 28672"), "{}", a.line());
        assert!(advise_version(Version(2, 1, 332), MIN_USABLE_CONTEXT, "q")
            .env()
            .is_some());
    }

    #[test]
    fn a_2_1_121_log_gets_no_max_context_tokens() {
        let span = VersionSpan {
            from: Version(0, 0, 0),
            to: Version(2, 1, 121),
        };
        let a = advise(span, 65_536, "qwen3-coder:30b");
        let env = a.env().unwrap();
        assert!(
            env.contains_key("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE"),
            "{env:?}"
        );
        assert!(obeys(Version(2, 1, 121), 65_536, "qwen3-coder:30b", env));
    }

    #[test]
    fn no_64k_advice_beyond_the_trained_context() {
        let rec = recommend(Version(2, 1, 332), 32_768, "q");
        assert!(context_notes(&rec, Some(32_768)).is_empty());
        let n = context_notes(&rec, Some(262_144));
        assert!(n.iter().any(|n| n.contains("65536 or more")), "{n:?}");
    }
}
