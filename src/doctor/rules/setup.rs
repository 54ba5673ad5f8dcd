//! Drift between what the last `cclocal setup` configured (config.toml) and what is live:
//! the served context, the server's KV type and keep-alive, and the Claude Code version the
//! settings were computed for (the right knobs differ between versions).

use super::{push, Section};
use crate::claude::{gate_for, Version};
use crate::doctor::facts::{ContextSource, Facts};
use crate::doctor::probe::same_model;
use crate::findings::{Finding, Severity};
use crate::setup::config::SetupConfig;

/// The last `cclocal verify`: what the user's own Claude Code did against the plan, and
/// how long ago (`docs/verify.md`).
fn verify_rule(f: &Facts, out: &mut Vec<(Section, Finding)>) {
    let Some(v) = &f.verify else { return };
    let installed = f
        .claude
        .as_ref()
        .and_then(|c| c.version)
        .map(|x| x.to_string());
    let s = Section::Claude;
    if let Some(now) = installed.filter(|i| *i != v.version) {
        push(
            out,
            s,
            Finding::of(
                "verify_mismatch",
                format!(
                    "cclocal verify last ran on Claude Code {} ({}); {now} is installed now",
                    v.version, v.age
                ),
            )
            .detail(format!("result: {}", v.path))
            .fix("cclocal verify"),
        );
        return;
    }
    if v.ok {
        push(
            out,
            s,
            Finding::ok(
                "verify_mismatch",
                format!(
                    "cclocal verify: Claude Code {} did what cclocal planned ({})",
                    v.version, v.age
                ),
            ),
        );
    } else {
        let mut detail = v.mismatches.join("; ");
        for t in &v.table {
            detail.push_str(&format!("; {t}"));
        }
        push(
            out,
            s,
            Finding::of(
                "verify_mismatch",
                format!(
                    "cclocal verify: Claude Code {} did not do what cclocal planned ({})",
                    v.version, v.age
                ),
            )
            .detail(detail)
            .fix("cclocal verify (the observations and what to change)"),
        );
    }
}

pub fn rules(f: &Facts, out: &mut Vec<(Section, Finding)>) {
    verify_rule(f, out);
    let Some(setup) = &f.setup else { return };
    let s = Section::Claude;
    let Some(cfg) = &setup.config else {
        push(
            out,
            s,
            Finding::graded(
                "setup_drift",
                Severity::Warning,
                "cclocal's configuration cannot be read",
            )
            .detail(format!(
                "{}: {}",
                setup.path,
                setup.error.clone().unwrap_or_default()
            ))
            .fix(format!(
                "fix or remove {}, then run `cclocal setup` again",
                setup.path
            )),
        );
        return;
    };
    let drift = drift(f, cfg);
    if drift.is_empty() {
        return;
    }
    let worst = drift
        .iter()
        .map(|d| d.severity)
        .max()
        .unwrap_or(Severity::Info);
    // The server runs other settings than setup wrote: re-running setup writes the same
    // files again and changes nothing; restarting the server is what makes them live.
    // Setup configured the server only when it wrote its part (`--only launcher` did not).
    let server_drift =
        drift.iter().any(|d| d.topic != DriftTopic::ClaudeVersion) && wrote_server(cfg);
    let claude_drift = drift
        .iter()
        .any(|d| d.topic == DriftTopic::ClaudeVersion && d.severity >= Severity::Warning);
    let fix = if server_drift && claude_drift {
        format!(
            "run `cclocal setup` again (for the Claude Code installed now), then {}",
            restart_fix(f, cfg)
        )
    } else if server_drift {
        restart_fix(f, cfg)
    } else if claude_drift {
        "run `cclocal setup` again (it computes the Claude Code settings for the version installed now)".into()
    } else {
        "run `cclocal setup` again (it re-applies config.toml; change one value with a flag, e.g. --ctx)".into()
    };
    let drift: Vec<&str> = drift.iter().map(|d| d.text.as_str()).collect();
    push(
        out,
        s,
        Finding::graded(
            "setup_drift",
            worst,
            "what `cclocal setup` configured is not what is live",
        )
        .detail(format!("{} ({})", drift.join("; "), setup.path))
        .fix(fix),
    );
}

/// What one difference between config.toml and the live setup is about (`cclocal status`
/// marks its compared items by these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriftTopic {
    Context,
    KvCache,
    KeepAlive,
    ClaudeVersion,
}

/// One difference between what setup configured and what is live.
#[derive(Debug, Clone)]
pub struct Drift {
    pub topic: DriftTopic,
    pub text: String,
    pub severity: Severity,
}

impl Drift {
    fn new(topic: DriftTopic, text: String, severity: Severity) -> Self {
        Drift {
            topic,
            text,
            severity,
        }
    }
}

/// Every difference between `cfg` (config.toml) and the live facts: the `setup_drift`
/// finding's detail, and `cclocal status`'s marks.
pub fn drift(f: &Facts, cfg: &SetupConfig) -> Vec<Drift> {
    let mut drift: Vec<Drift> = Vec::new();
    // One model loaded in llama-server: that is the one setup configured, whatever its name.
    let single_llama = f.server.kind == Some(crate::server::ServerKind::LlamaServer)
        && f.server.llama.as_ref().is_some_and(|l| !l.router);
    if let Some(m) = f
        .model
        .as_ref()
        .filter(|m| single_llama || same_model(&m.name, &cfg.model.name))
    {
        if let (Some(c), Some(ContextSource::Live)) = (m.served_context, m.served_context_source) {
            if c != cfg.model.context {
                drift.push(Drift::new(
                    DriftTopic::Context,
                    format!(
                        "setup configured a {}-token context for {}, the server serves {c}",
                        cfg.model.context, m.name
                    ),
                    Severity::Warning,
                ));
            }
        }
    }
    if let Some(sc) = f
        .server_config
        .as_ref()
        .filter(|sc| sc.env_source.is_some())
    {
        let live = |k: &str| {
            sc.env
                .get(k)
                .map(|v| v.trim().to_ascii_lowercase())
                .unwrap_or_default()
        };
        let kv = live("OLLAMA_KV_CACHE_TYPE");
        let kv = crate::planner::kv::name_or_default(Some(&kv));
        if !kv.eq_ignore_ascii_case(cfg.server.kv_type()) {
            drift.push(Drift::new(
                DriftTopic::KvCache,
                format!(
                    "setup configured OLLAMA_KV_CACHE_TYPE={}, the server has {kv}",
                    cfg.server.kv_type()
                ),
                Severity::Warning,
            ));
        }
        let ka = live("OLLAMA_KEEP_ALIVE");
        if !ka.is_empty() && !ka.eq_ignore_ascii_case(&cfg.server.keep_alive) {
            drift.push(Drift::new(
                DriftTopic::KeepAlive,
                format!(
                    "setup configured OLLAMA_KEEP_ALIVE={}, the server has {ka}",
                    cfg.server.keep_alive
                ),
                Severity::Warning,
            ));
        }
    }
    if let Some(cmd) = f.server.llama_command.as_ref() {
        let kv = crate::planner::kv::name_or_default(cmd.cache_type_k.as_deref());
        if cfg.server.kind == crate::server::ServerKind::LlamaServer
            && !kv.eq_ignore_ascii_case(cfg.server.kv_type())
        {
            drift.push(Drift::new(
                DriftTopic::KvCache,
                format!(
                    "setup configured --cache-type-k {}, llama-server runs with {kv}",
                    cfg.server.kv_type()
                ),
                Severity::Warning,
            ));
        }
    }
    let installed = f.claude.as_ref().and_then(|c| c.version);
    if let (Some(now), Ok(then)) = (installed, cfg.claude.version.parse::<Version>()) {
        if now != then {
            let changed = gate_for(now) != gate_for(then);
            drift.push(Drift::new(
                DriftTopic::ClaudeVersion,
                format!(
                    "the Claude Code settings were computed for {then}, {now} is installed{}",
                    if changed {
                        " and computes its window differently"
                    } else {
                        ""
                    }
                ),
                if changed {
                    Severity::Warning
                } else {
                    Severity::Info
                },
            ));
        }
    }
    drift
}

/// Whether the served context differs from what setup configured, for the model setup
/// configured (the server was not restarted with setup's settings).
pub fn served_context_drift(f: &Facts) -> Option<&crate::setup::config::SetupConfig> {
    let cfg = f.setup.as_ref()?.config.as_ref()?;
    let single_llama = f.server.kind == Some(crate::server::ServerKind::LlamaServer)
        && f.server.llama.as_ref().is_some_and(|l| !l.router);
    let m = f
        .model
        .as_ref()
        .filter(|m| single_llama || same_model(&m.name, &cfg.model.name))?;
    match (m.served_context, m.served_context_source) {
        (Some(c), Some(ContextSource::Live)) if c != cfg.model.context && wrote_server(cfg) => {
            Some(cfg)
        }
        _ => None,
    }
}

/// Whether that setup run wrote the server's configuration (not `--only launcher`).
fn wrote_server(cfg: &crate::setup::config::SetupConfig) -> bool {
    cfg.wrote.iter().any(|w| w == "server")
}

/// Where setup wrote, for the checked environment ([`SetupFacts::paths`]), else the
/// default layout under HOME (printed as `~/…`).
///
/// [`SetupFacts::paths`]: crate::doctor::facts::SetupFacts::paths
pub fn setup_paths(f: &Facts) -> crate::paths::Paths {
    f.setup
        .as_ref()
        .and_then(|s| s.paths.clone())
        .unwrap_or_else(|| crate::paths::Paths::under(std::path::Path::new("/home/user")))
}

/// A file setup wrote in cclocal's server folder, as a shell word for a printed fix.
pub fn server_file(f: &Facts, name: &str) -> String {
    let p = setup_paths(f);
    crate::shell::quote::path_word(&p.server_dir().join(name), Some(&p.home))
}

/// What restarts the server with the settings `cclocal setup` wrote, for the kind it set
/// up: the one fix for a server that runs other settings (`setup_drift`, and the context
/// findings that drift causes). The words are the kind's own
/// (`server::<kind>::serve::restart_fix`), with the paths of the checked environment.
pub fn restart_fix(f: &Facts, cfg: &crate::setup::config::SetupConfig) -> String {
    use crate::server::ServerKind;
    if cfg.server.kind == ServerKind::LmStudio {
        if let Some(fix) = super::backends::drift_fix(f, cfg) {
            return fix;
        }
    }
    let paths = setup_paths(f);
    let settings = cfg.serve_settings();
    let r = crate::server::serve::Restart {
        paths: &paths,
        model: &cfg.model.name,
        settings: &settings,
        macos: cfg.target == "macos",
    };
    // A kind setup does not configure is not recorded by it; Ollama's words otherwise.
    let parts = cfg
        .server
        .kind
        .info()
        .serve
        .unwrap_or(crate::server::ollama::serve::PARTS);
    (parts.restart)(&r)
}
