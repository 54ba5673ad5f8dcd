//! The server's side of a session, from the server's own log: llama-server, Ollama before
//! and since 0.30, vLLM and vllm-mlx (docs/server-logs.md).
//!
//! Each server's lines are read in its own module (`server::<kind>::log`; which server
//! wrote a log: `server::logline`). Here `analyze` builds loads and per-request tasks from
//! the stream of events (`python` for vLLM's and vllm-mlx's), `rules` turns them into
//! findings, `join` lines the tasks up with Claude Code's requests, `locate` finds the
//! logs, and `html` draws the session.

pub mod analyze;
pub mod html;
pub mod join;
pub mod locate;
pub mod python;
pub mod rules;

pub use crate::server::logline::{parse_line, LogEvent, LogFormat, LogLine, Stamp};
pub use crate::server::ollama::log::OllamaRunner;
pub use analyze::{
    analyze_bytes, analyze_files, check_server_log, looks_like_server_log, Clock, KvAlloc, Load,
    ReloadReason, ServerAnalysis, ServerAnalyzer, Task, Truncation,
};
pub use join::{join, Join, JoinSummary};
pub use locate::{default_server_logs, journal, llama_server_log};
pub use rules::{findings, findings_recent, Window};

/// The doctor's entry point: findings from the recent part (last 16 MiB) of each server log
/// found on this machine, since that server's last start. Unreadable logs are skipped.
pub fn recent_findings(home: &std::path::Path) -> Vec<crate::findings::Finding> {
    let mut out = Vec::new();
    let logs = default_server_logs(home);
    // Ollama's rotated parts are older: only the current file of each location.
    let current = logs.iter().filter(|p| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        !(name.starts_with("server-") && name.ends_with(".log"))
    });
    for p in current {
        if let Ok(a) = analyze::analyze_tail(p, 16 << 20) {
            for mut f in findings_recent(&a) {
                f.detail = if f.detail.is_empty() {
                    format!("from {}", p.display())
                } else {
                    format!("{} (from {})", f.detail, p.display())
                };
                out.push(f);
            }
        }
    }
    out
}
