//! What the server's own recent log says (`prompt_truncated`, `model_reloaded`,
//! `kv_cache_type_ignored`, `prompt_cache_not_reused`; docs/server-logs.md): the findings
//! of the logs written by the kind of server the doctor checks, each naming its file.

use super::{push, Section};
use crate::doctor::facts::{Facts, ServerLogFacts};
use crate::findings::Finding;

pub fn rules(f: &Facts, out: &mut Vec<(Section, Finding)>) {
    for log in checked_logs(f) {
        for x in &log.findings {
            let mut x = x.clone();
            x.detail = if x.detail.is_empty() {
                format!("from {}", log.path)
            } else {
                format!("{} (from {})", x.detail, log.path)
            };
            push(out, Section::Server, x);
        }
    }
}

/// The logs written by the kind of server the doctor checks (none for a remote server).
pub(crate) fn checked_logs(f: &Facts) -> Vec<&ServerLogFacts> {
    if !f.server.local {
        return vec![];
    }
    // The kind checked: detected or given, else the one setup configured.
    let kind = f.server.kind.map(|k| k.name().to_string()).or_else(|| {
        f.setup
            .as_ref()
            .and_then(|s| s.config.as_ref())
            .map(|c| c.server.kind.name().to_string())
    });
    f.server_log
        .iter()
        .filter(|l| concerns(l, kind.as_deref()))
        .collect()
}

/// A log concerns the server checked when it was written by that kind of server; with no
/// kind known (nothing answered), every log on this machine does.
fn concerns(log: &ServerLogFacts, kind: Option<&str>) -> bool {
    match (kind, log.kind.as_deref()) {
        (None, _) => true,
        (Some(k), Some(l)) => k == l,
        (Some(_), None) => false,
    }
}
