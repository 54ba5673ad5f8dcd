//! Reading Claude Code debug logs: where the session's time went.
//!
//! `parse` turns one line into a typed event, `analyze` follows requests through the
//! following lines, `read` streams files through both, `rules` turns the result into
//! findings, and `locate` finds the logs (`latest`, rotated parts, recent sessions).
//! Line formats and their versions: `docs/claude-code.md`, "The debug log".

pub mod analyze;
pub mod event;
pub mod locate;
pub mod model;
pub mod parse;
pub mod read;
pub mod rules;
pub mod server;
pub mod serverlog;
pub mod synth;
pub mod time;

pub use analyze::Analyzer;
pub use locate::{debug_dir, latest, list_sessions, parts, DebugEnv, SessionFile};
pub use model::{Analysis, FailureKey, Request, SourceKind, Summary};
pub use parse::{parse_line, CompactLevel, Entry, Event, Level, Line};
pub use read::{analyze_bytes, analyze_files, check_debug_log};
pub use rules::{findings, RuleOptions};
