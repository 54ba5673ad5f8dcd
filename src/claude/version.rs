//! Claude Code versions and the version gates that change autocompaction.
//!
//! Every row was observed by running that Claude Code build against a loopback server
//! with an unknown model name (`docs/claude-code.md`, "Versions and their window rules";
//! run: 2.1.42 … 2.1.112 in the test suite, bisect points 2.1.121 … 2.1.332); each row's
//! `source` names the builds run (`[RUN]`) and the code read. Bounds are inclusive.

use serde::Serialize;

pub use crate::version::Version;

/// Newest version whose behaviour is in the table.
pub const LATEST_KNOWN: Version = Version(2, 1, 332);

/// The `autocompact:` debug line a version prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// `autocompact: tokens=N threshold=N effectiveWindow=N`
    Threshold,
    /// `autocompact: tokens=N level=… effectiveWindow=N`
    Level,
    /// `autocompact: tokens=[REDACTED] level=… effectiveWindow=N`
    LevelRedacted,
}

/// The window the default hard block subtracts its 3000-token buffer from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Blocking {
    /// The model window (≤ 2.1.74; cli.js of 2.1.0, 2.1.42, 2.1.69, 2.1.74).
    ModelWindow,
    /// The effective window, a lowered compaction window included (2.1.75 – 2.1.121; cli.js
    /// of 2.1.75, 2.1.88, 2.1.89, 2.1.112; 2.1.88 TypeScript source).
    EffectiveWindow,
    /// The model window less the output reserve (2.1.197 and 2.1.332 code reading).
    ModelLessReserve,
}

/// One behaviour range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Gate {
    pub from: Version,
    pub to: Version,
    /// Window assumed for a model name it does not know.
    pub unknown_model_window: u64,
    /// `CLAUDE_CODE_MAX_CONTEXT_TOKENS` sets the window of a non-Claude model name.
    pub max_context_tokens: bool,
    /// Proactive autocompaction needs a window source other than `auto`
    /// (`CLAUDE_CODE_AUTO_COMPACT_WINDOW` or the `autoCompactWindow` setting).
    pub needs_window_source: bool,
    /// `CLAUDE_CODE_AUTO_COMPACT_WINDOW` values below this are raised to it.
    pub auto_compact_window_floor: Option<u64>,
    /// Variable names absent from this family's builds (read nowhere): setting them does
    /// nothing. Where `CLAUDE_CODE_AUTO_COMPACT_WINDOW` is absent, only
    /// `CLAUDE_AUTOCOMPACT_PCT_OVERRIDE` moves the threshold below the default window.
    pub absent: &'static [&'static str],
    /// What the default hard block (`blocked` level) is measured from.
    pub blocking: Blocking,
    /// An unknown model arms proactive compaction on its own (source `unknown-model`).
    pub unknown_model_source: bool,
    /// `k`/`m` suffixes in `CLAUDE_CODE_AUTO_COMPACT_WINDOW` (seen in 2.1.332).
    pub window_suffixes: bool,
    pub log: LogFormat,
    /// Default and upper limit of `CLAUDE_CODE_MAX_OUTPUT_TOKENS` for unknown models.
    pub max_output_default: u64,
    pub max_output_limit: u64,
    /// Where the facts come from.
    pub source: &'static str,
}

const V0: Version = Version(0, 0, 0);
const VMAX: Version = Version(u32::MAX, u32::MAX, u32::MAX);

const fn gate(from: Version, to: Version) -> Gate {
    Gate {
        from,
        to,
        unknown_model_window: 200_000,
        max_context_tokens: false,
        needs_window_source: false,
        auto_compact_window_floor: Some(100_000),
        absent: &[],
        blocking: Blocking::ModelLessReserve,
        unknown_model_source: false,
        window_suffixes: false,
        log: LogFormat::LevelRedacted,
        max_output_default: 32_000,
        max_output_limit: 128_000,
        source: "",
    }
}

const AUTO_COMPACT_WINDOW: &str = "CLAUDE_CODE_AUTO_COMPACT_WINDOW";
const MAX_CONTEXT_TOKENS: &str = "CLAUDE_CODE_MAX_CONTEXT_TOKENS";
/// Not in the bundles of 2.1.42, 2.1.69, 2.1.74, 2.1.75, 2.1.88, 2.1.89, 2.1.100, 2.1.111,
/// 2.1.112; read by 2.1.197 (`data/claude-env-vars-2.1.197.txt`).
const TOTAL_TOKENS_REMINDER: &str = "CLAUDE_CODE_TOTAL_TOKENS_REMINDER";

/// The version table, oldest first.
pub const GATES: &[Gate] = &[
    Gate {
        auto_compact_window_floor: None,
        absent: &[
            AUTO_COMPACT_WINDOW,
            MAX_CONTEXT_TOKENS,
            TOTAL_TOKENS_REMINDER,
        ],
        blocking: Blocking::ModelWindow,
        log: LogFormat::Threshold,
        max_output_limit: 64_000,
        source:
            "[RUN] 2.1.42, 2.1.69, 2.1.74 (AUTO_COMPACT_WINDOW and MAX_CONTEXT_TOKENS ignored; \
                 PCT_OVERRIDE honoured); cli.js of 2.1.0, 2.1.42, 2.1.74: neither name present",
        ..gate(V0, Version(2, 1, 74))
    },
    Gate {
        auto_compact_window_floor: None,
        absent: &[MAX_CONTEXT_TOKENS, TOTAL_TOKENS_REMINDER],
        blocking: Blocking::EffectiveWindow,
        log: LogFormat::Threshold,
        max_output_limit: 64_000,
        source: "[RUN] 2.1.75, 2.1.88 (AUTO_COMPACT_WINDOW=65536 obeyed); cli.js of 2.1.75, \
                 2.1.88: min(window, parseInt(v)); 2.1.88 TypeScript source (autoCompact.ts)",
        ..gate(Version(2, 1, 75), Version(2, 1, 88))
    },
    Gate {
        log: LogFormat::Threshold,
        blocking: Blocking::EffectiveWindow,
        // The upper limit of CLAUDE_CODE_MAX_OUTPUT_TOKENS was 64000 up to at least 2.1.94
        // and is 128000 from 2.1.100 (cli.js); it never changes the 20000-capped reserve.
        source: "[RUN] 2.1.89, 2.1.100, 2.1.111, 2.1.112, 2.1.121 (AUTO_COMPACT_WINDOW raised to \
                 100000); cli.js of 2.1.89: max(100000, v), capped at 1e6",
        ..gate(Version(2, 1, 89), Version(2, 1, 121))
    },
    Gate {
        log: LogFormat::Level,
        source: "[RUN] 2.1.122, 2.1.126",
        ..gate(Version(2, 1, 122), Version(2, 1, 127))
    },
    Gate {
        source: "[RUN] 2.1.128 … 2.1.152",
        ..gate(Version(2, 1, 128), Version(2, 1, 152))
    },
    Gate {
        max_context_tokens: true,
        needs_window_source: true,
        source: "[RUN] 2.1.153 … 2.1.222 (2.1.197 cli.js: WIi, P4, MRf)",
        ..gate(Version(2, 1, 153), Version(2, 1, 222))
    },
    Gate {
        max_context_tokens: true,
        unknown_model_source: true,
        source: "[RUN] 2.1.223 … 2.1.322",
        ..gate(Version(2, 1, 223), Version(2, 1, 322))
    },
    Gate {
        unknown_model_window: 1_000_000,
        max_context_tokens: true,
        unknown_model_source: true,
        window_suffixes: true,
        source: "[RUN] 2.1.323 … 2.1.332 (chunk-6bm6jz2w.js ik, chunk-bqhgd24a.js XS)",
        ..gate(Version(2, 1, 323), VMAX)
    },
];

impl Gate {
    /// Whether builds of this row read the variable `name` at all: `Some(false)` for a
    /// name absent from them, `None` where the table does not say.
    pub fn reads(&self, name: &str) -> Option<bool> {
        if self.absent.contains(&name) {
            Some(false)
        } else {
            None
        }
    }

    /// Whether `CLAUDE_CODE_AUTO_COMPACT_WINDOW` can lower the window (2.1.75 and later).
    pub fn reads_auto_compact_window(&self) -> bool {
        !self.absent.contains(&AUTO_COMPACT_WINDOW)
    }
}

/// The behaviour range of `v`.
pub fn gate_for(v: Version) -> &'static Gate {
    GATES
        .iter()
        .find(|g| g.from <= v && v <= g.to)
        .expect("the table covers every version")
}

/// The `max_tokens` a version sends with this environment: `CLAUDE_CODE_MAX_OUTPUT_TOKENS`
/// (up to the version's limit), else its default (`docs/claude-code.md`, "Output tokens").
pub fn max_tokens_for(version: Version, env: &crate::claude::EnvMap) -> u64 {
    let gate = gate_for(version);
    env.get("CLAUDE_CODE_MAX_OUTPUT_TOKENS")
        .and_then(|v| {
            let t = v.trim();
            let end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
            t[..end].parse::<u64>().ok()
        })
        .filter(|&v| v > 0)
        .map(|v| v.min(gate.max_output_limit))
        .unwrap_or(gate.max_output_default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        assert_eq!(
            "2.1.332 (Claude Code)".parse::<Version>().unwrap(),
            Version(2, 1, 332)
        );
        assert_eq!("v2.1.197".parse::<Version>().unwrap(), Version(2, 1, 197));
        assert!("2.1".parse::<Version>().is_err());
        assert!("banana".parse::<Version>().is_err());
    }

    #[test]
    fn table_is_contiguous() {
        assert_eq!(GATES[0].from, V0);
        assert_eq!(GATES.last().unwrap().to, VMAX);
        for w in GATES.windows(2) {
            let next = Version(w[0].to.0, w[0].to.1, w[0].to.2 + 1);
            assert_eq!(w[1].from, next);
        }
    }

    #[test]
    fn gates() {
        assert!(gate_for(Version(2, 1, 197)).needs_window_source);
        assert_eq!(gate_for(Version(2, 1, 332)).unknown_model_window, 1_000_000);
        assert_eq!(gate_for(Version(2, 1, 322)).unknown_model_window, 200_000);
        assert!(!gate_for(Version(2, 1, 152)).max_context_tokens);
        assert_eq!(gate_for(Version(1, 0, 100)).log, LogFormat::Threshold);
        // [RUN] 2.1.42, 2.1.69, 2.1.74 ignore the window variable; 2.1.75 obeys it; 2.1.89
        // raises small values to 100000.
        for v in [Version(2, 1, 42), Version(2, 1, 69), Version(2, 1, 74)] {
            assert!(!gate_for(v).reads_auto_compact_window(), "{v}");
            assert_eq!(gate_for(v).reads(MAX_CONTEXT_TOKENS), Some(false));
        }
        assert!(gate_for(Version(2, 1, 75)).reads_auto_compact_window());
        assert_eq!(gate_for(Version(2, 1, 88)).auto_compact_window_floor, None);
        assert_eq!(
            gate_for(Version(2, 1, 89)).auto_compact_window_floor,
            Some(100_000)
        );
        assert_eq!(
            gate_for(Version(2, 1, 197)).reads(AUTO_COMPACT_WINDOW),
            None
        );
    }

    #[test]
    fn every_row_names_its_sources() {
        for g in GATES {
            assert!(!g.source.is_empty(), "{}–{}", g.from, g.to);
            assert!(
                g.source.contains("[RUN]"),
                "{}–{}: {}",
                g.from,
                g.to,
                g.source
            );
        }
    }
}
