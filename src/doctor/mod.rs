//! `cclocal doctor`: probe → facts → rules → report.
//!
//! * [`probe`] gathers [`facts::Facts`] in parallel threads under one time budget
//!   (default 2.8 s, so the whole command stays under 3 s even against a server that
//!   accepts connections and never answers).
//! * [`rules`] are pure functions from facts to [`crate::findings::Finding`]s with stable ids.
//! * [`render`] formats them (flutter-doctor style text, or JSON).

pub mod facts;
pub mod knowledge;
pub mod probe;
pub mod render;
pub mod rules;
pub mod verify_state;

pub use facts::Facts;
pub use probe::{gather, HostEnv, Options};
pub use rules::Section;

use crate::findings::Finding;

/// Facts and the findings drawn from them.
#[derive(Debug, Clone)]
pub struct Report {
    pub facts: Facts,
    pub findings: Vec<(Section, Finding)>,
}

/// Runs every probe and rule.
pub fn diagnose(opts: &Options, host: &HostEnv) -> Report {
    let facts = gather(opts, host);
    let findings = rules::evaluate(&facts);
    Report { facts, findings }
}

/// 1 when any finding is an error (or, with `strict`, a warning); else 0.
pub fn exit_code(findings: &[(Section, Finding)], strict: bool) -> i32 {
    crate::findings::exit_code_for(findings.iter().map(|(_, f)| f.severity), strict)
}
