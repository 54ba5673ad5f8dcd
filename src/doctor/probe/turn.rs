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

/// Whether a server log is of the model checked: a log whose last load names another model
/// file is another server's (issue 21: doctor pointed at a second server quoted the first
/// one's log). A log that names no model is taken as the checked server's.
pub fn log_is_of(log: &crate::doctor::facts::ServerLogFacts, keys: &[String]) -> bool {
    let Some(m) = &log.model else {
        return true;
    };
    let base = |s: &str| {
        std::path::Path::new(s)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| s.to_string())
    };
    keys.iter()
        .any(|k| k == m || base(k) == base(m) || crate::server::same_model(k, m))
}

/// Why the checked server's log cannot price a turn yet, where it has timed requests but too
/// few or all at one depth.
pub fn log_rates_missing(f: &Facts) -> Option<String> {
    let keys = model_keys(f);
    crate::doctor::rules::checked_logs(f)
        .into_iter()
        .filter(|l| log_is_of(l, &keys))
        .find_map(|l| l.rates_missing.clone())
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
    let keys = model_keys(f);
    let server = crate::doctor::rules::checked_logs(f)
        .into_iter()
        .filter(|l| log_is_of(l, &keys))
        .filter_map(|l| l.rates.as_ref())
        .max_by_key(|(_, n)| *n)
        .map(|(r, n)| (r, *n));
    if server.is_some() {
        return quote::choose(ctx, server, None, kv);
    }
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

    /// Issue 21: doctor pointed at a second server quoted the first one's log.
    #[test]
    fn another_models_log_is_not_quoted() {
        let mut f = facts(Some(8192));
        f.server.llama = Some(crate::server::llama_server::LlamaFacts {
            model_path: Some("/models/b.gguf".into()),
            ..Default::default()
        });
        f.server_log = vec![ServerLogFacts {
            path: "/l.log".into(),
            kind: Some("llama-server".into()),
            rates: Some((rates(100.0), 9)),
            model: Some("/models/a.gguf".into()),
            ..Default::default()
        }];
        assert!(turn_time(&f, None).is_none());
        f.server_log[0].model = Some("/elsewhere/b.gguf".into());
        assert!(turn_time(&f, None).is_some());
    }

    #[test]
    fn not_enough_data_is_said_with_a_hint_that_works_for_the_kind() {
        let mut f = facts(Some(8192));
        f.server.kind = Some(crate::server::ServerKind::LmStudio);
        f.server.url = "http://127.0.0.1:1234".into();
        f.model.as_mut().unwrap().name = "qwen/qwen3-coder-30b".into();
        let line = crate::doctor::render::turn_line(&f).unwrap();
        assert!(
            line.contains(
                "cclocal bench --host http://127.0.0.1:1234 --model qwen/qwen3-coder-30b"
            ),
            "{line}"
        );
        assert!(!line.contains("`cclocal bench qwen"), "{line}");
        f.server.kind = Some(crate::server::ServerKind::LlamaServer);
        f.server_log = vec![ServerLogFacts {
            path: "/l.log".into(),
            kind: Some("llama-server".into()),
            rates_missing: Some("not enough data in the server's log yet: 2 timed requests, 4 spread over depth are needed".into()),
            ..Default::default()
        }];
        let line = crate::doctor::render::turn_line(&f).unwrap();
        assert!(
            line.contains("not enough data") && line.contains("bench --host"),
            "{line}"
        );
    }
}
