//! The server's side of a session, from the server's own log: llama-server, and Ollama before
//! and since 0.30 (docs/server-logs.md).
//!
//! `parse` turns a line into a typed event, `analyze` builds loads and per-request tasks
//! from a stream of lines, `rules` turns them into findings, `join` lines the tasks up with
//! Claude Code's requests, `locate` finds the logs, and `html` draws the session.

pub mod analyze;
pub mod html;
pub mod join;
pub mod locate;
pub mod parse;
pub mod rules;

pub use analyze::{
    analyze_bytes, analyze_files, Clock, KvAlloc, Load, ReloadReason, ServerAnalysis,
    ServerAnalyzer, ServerKind, Task, Truncation,
};
pub use join::{join, Join, JoinSummary};
pub use locate::{default_server_logs, journal, llama_server_log};
pub use parse::{parse_line, SEvent, SLine, Stamp};
pub use rules::{findings, findings_recent, Window};
