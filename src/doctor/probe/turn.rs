//! A typical Claude Code turn's predicted time at the context the server serves
//! (`predict::quote`, docs/session-time.md "The typical turn in setup and doctor"): rates from
//! the checked server's own log when it has timed requests, else the newest `cclocal bench`
//! report saved for the model. Informational: no finding, no effect on the exit code.

use super::HostEnv;
use crate::doctor::facts::Facts;
use crate::predict::quote::{self, Quote};
use std::path::PathBuf;

/// cclocal's state directory in the doctor's environment (where `cclocal bench` saves; the
/// rule `paths` applies).
pub fn state_dir(host: &HostEnv) -> Option<PathBuf> {
    let home = host.home.as_deref()?;
    let xdg = host.vars.get("XDG_STATE_HOME").map(std::ffi::OsStr::new);
    Some(crate::paths::state_dir_with(home, xdg))
}

/// The context a turn is quoted at: the served context, else Claude Code's window where it
/// is set (`CLAUDE_CODE_AUTO_COMPACT_WINDOW`; its default is the Anthropic model's window,
/// which says nothing about a local server).
pub fn turn_context(f: &Facts) -> Option<u64> {
    f.model.as_ref().and_then(|m| m.served_context).or_else(|| {
        crate::doctor::rules::window(f)
            .filter(|w| w.window_source == crate::claude::WindowSource::Env)
            .map(|w| w.window)
    })
}

/// The names a saved bench of the model may be found by: the model's name, its local GGUF,
/// llama-server's model path, the model Claude Code sends.
pub fn model_keys(f: &Facts) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(m) = &f.model {
        keys.push(m.name.clone());
        keys.extend(m.gguf_path.clone());
    }
    if let Some(l) = &f.server.llama {
        keys.extend(l.model_path.clone());
    }
    if let Some(c) = f.claude.as_ref().and_then(|c| c.model.clone()) {
        keys.push(c);
    }
    keys.retain(|k| !k.trim().is_empty());
    keys.dedup();
    keys
}

/// What to pass to `cclocal bench` for the model: an Ollama model's name (bench finds its
/// blob), else its local GGUF, else its name.
pub fn bench_arg(f: &Facts) -> Option<String> {
    let m = f.model.as_ref()?;
    if f.server.kind == Some(crate::server::ServerKind::Ollama) {
        return Some(m.name.clone());
    }
    Some(
        m.gguf_path
            .clone()
            .or_else(|| f.server.llama.as_ref().and_then(|l| l.model_path.clone()))
            .unwrap_or_else(|| m.name.clone()),
    )
}

/// The quote from the facts and the bench reports saved under `state_dir`.
pub fn turn_time(f: &Facts, state_dir: Option<&std::path::Path>) -> Option<Quote> {
    let ctx = turn_context(f)?;
    let kv = f.model.as_ref().and_then(|m| m.kv_type.as_deref());
    let server = crate::doctor::rules::checked_logs(f)
        .into_iter()
        .filter_map(|l| l.rates.as_ref())
        .max_by_key(|(_, n)| *n)
        .map(|(r, n)| (r, *n));
    if server.is_some() {
        return quote::choose(ctx, server, None, kv);
    }
    let keys = model_keys(f);
    if keys.is_empty() {
        return None;
    }
    let bench = quote::find_bench(state_dir?, &keys)?;
    quote::choose(ctx, None, Some(&bench), kv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::facts::{ClaudeFacts, ModelFacts, ServerLogFacts};
    use crate::predict::Rates;

    fn rates(prefill: f64) -> Rates {
        Rates::flat(prefill, 10.0, "t")
    }

    fn facts(served: Option<u64>) -> Facts {
        let mut f = Facts::default();
        f.server.local = true;
        f.server.kind = Some(crate::server::ServerKind::LlamaServer);
        f.model = Some(ModelFacts {
            name: "m".into(),
            served_context: served,
            ..Default::default()
        });
        f.claude = Some(ClaudeFacts {
            version: Some(crate::claude::Version(2, 1, 332)),
            ..Default::default()
        });
        f
    }

    #[test]
    fn the_checked_servers_log_wins_and_other_kinds_logs_do_not_count() {
        let mut f = facts(Some(8192));
        let log = |kind: &str, r: Rates, n| ServerLogFacts {
            path: format!("/{kind}.log"),
            kind: Some(kind.into()),
            rates: Some((r, n)),
            ..Default::default()
        };
        f.server_log = vec![
            log("ollama", rates(1.0), 99),
            log("llama-server", rates(100.0), 3),
        ];
        let q = turn_time(&f, None).unwrap();
        assert_eq!(q.source, "your server's log, 3 timed requests");
        assert_eq!(
            (q.warm_ms, q.cold_ms),
            crate::predict::typical_turn(8192, &rates(100.0))
        );
        // Only Ollama's log: it says nothing about this llama-server, and no bench is saved.
        f.server_log.pop();
        assert!(turn_time(&f, None).is_none());
        // A remote server's logs are not this machine's.
        f.server_log = vec![log("llama-server", rates(100.0), 3)];
        f.server.local = false;
        assert!(turn_time(&f, None).is_none());
    }

    #[test]
    fn the_hint_names_what_bench_takes() {
        let mut f = facts(Some(8192));
        f.server.llama = Some(crate::server::llama_server::LlamaFacts {
            model_path: Some("/models/m.gguf".into()),
            ..Default::default()
        });
        assert_eq!(bench_arg(&f).as_deref(), Some("/models/m.gguf"));
        f.server.llama = None;
        f.server.kind = Some(crate::server::ServerKind::Ollama);
        f.model.as_mut().unwrap().gguf_path = Some("/h/.ollama/models/blobs/sha256-1".into());
        assert_eq!(bench_arg(&f).as_deref(), Some("m"));
        f.model = None;
        assert_eq!(bench_arg(&f), None);
    }

    #[test]
    fn context_is_the_served_one_else_a_configured_window() {
        assert_eq!(turn_context(&facts(Some(8192))), Some(8192));
        let mut f = facts(None);
        // Claude Code's default window is the Anthropic model's: no quote from it.
        assert_eq!(turn_context(&f), None);
        f.claude
            .as_mut()
            .unwrap()
            .env
            .insert("CLAUDE_CODE_AUTO_COMPACT_WINDOW".into(), "120000".into());
        assert_eq!(turn_context(&f), Some(120_000));
    }
}
