//! The server's own recent log on this machine (docs/server-logs.md): the llama-server log
//! `cclocal setup` configures, Ollama's app log, Homebrew's `ollama.log`. Each file's last
//! 16 MiB is read, and the findings since that server's last start are kept as plain data;
//! the rules decide which of them concern the server the doctor checks.

use crate::doctor::facts::ServerLogFacts;
use crate::logs::serverlog;
use crate::server::ServerKind;
use std::path::Path;

/// How much of each log's end is read: enough for many sessions, bounded in time.
const TAIL_BYTES: u64 = 16 << 20;

/// Reads the current file of each server log found under `home` (and Homebrew's prefix).
/// Ollama's rotated parts (`server-N.log`) are older than its last start and are skipped.
pub fn probe_server_logs(home: &Path) -> Vec<ServerLogFacts> {
    serverlog::default_server_logs(home)
        .into_iter()
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            !(name.starts_with("server-") && name.ends_with(".log"))
        })
        .map(|p| read_one(&p))
        .collect()
}

fn read_one(p: &Path) -> ServerLogFacts {
    let path = p.display().to_string();
    match serverlog::analyze::analyze_tail(p, TAIL_BYTES) {
        Ok(a) => {
            let rates = crate::predict::quote::server_rates_why(&a);
            ServerLogFacts {
                path,
                kind: log_kind(a.kind).map(String::from),
                findings: serverlog::findings_recent(&a),
                error: None,
                rates_missing: rates.as_ref().err().cloned(),
                rates: rates.ok(),
                model: a.loads.iter().rev().find_map(|l| l.model.clone()),
            }
        }
        Err(e) => ServerLogFacts {
            path,
            kind: None,
            findings: vec![],
            error: Some(e.message),
            rates: None,
            rates_missing: None,
            model: None,
        },
    }
}

/// The server kind's name (`ServerKind`'s, as `--server` takes it) whose log this is.
fn log_kind(k: ServerKind) -> Option<&'static str> {
    (k != ServerKind::Unknown).then(|| k.info().name)
}
