//! `cclocal verify`: the user's own Claude Code has the last word.
//!
//! Runs the installed Claude Code the way the launcher runs it (same binary, environment
//! and `--settings` file), pointed at a loopback stub of the Anthropic Messages API
//! ([`stub`]), with a debug file, three times in one session:
//!
//! 1. a short `-p` exchange (the stub reports a usage just under the planned threshold);
//! 2. a short follow-up, whose autocompact check sees that usage: it must not compact;
//! 3. a follow-up whose prompt is padded past the planned threshold: it must compact, or
//!    try to.
//!
//! Then it reads back what Claude Code did (its debug log through `crate::logs::parse_line`,
//! and the stub's records) and compares each item with the plan: the window arithmetic of
//! `crate::claude::compute_window` for this version and the launcher's settings
//! (`docs/verify.md`).

pub mod observe;
pub mod plan;
pub mod run;
pub mod stub;

pub use observe::{Observed, RunObs};
pub use plan::{compare, Expected, Item, Mark, Report, TableNote};
pub use run::{resolve, verify, Options, Target};

use crate::doctor::verify_state::Last;

/// What `doctor` keeps of a verify run (`crate::doctor::verify_state`).
pub fn last(r: &Report) -> Last {
    Last {
        at: crate::doctor::verify_state::now(),
        version: r.version.to_string(),
        claude: r.claude.clone(),
        ok: r.ok,
        mismatches: r
            .items
            .iter()
            .filter(|i| i.mark == Mark::Mismatch)
            .map(|i| format!("{}: {} (planned {})", i.label, i.observed, i.planned))
            .collect(),
        table: r
            .table
            .iter()
            .map(|t| {
                format!(
                    "{}: the table row {} predicted {}, Claude Code did {}",
                    t.item, t.versions, t.predicted, t.observed
                )
            })
            .collect(),
    }
}
