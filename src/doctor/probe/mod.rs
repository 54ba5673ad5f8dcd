//! Probes: gather the facts in parallel threads, each bounded by one deadline (the
//! doctor's time budget). A probe that is not back by the deadline is recorded in
//! `options.timed_out` and its facts stay empty.

mod backend;
mod claude;
mod config;
mod launcher;
mod machine;
mod model;
mod serverlog;
mod setup;
mod turn;
mod url;

pub use crate::server::ollama::{num_ctx_parameter, PROBE_MODEL};
pub use crate::server::{same_model, ServerProbe};
pub use backend::backend_model_facts;
pub use claude::{find_claude, probe_claude_config, strip_1m};
pub use config::{app_db_path, parse_systemctl_show, probe_server_config};
pub use launcher::{parse_launcher, read_launcher, sh_words, Launcher};
pub use machine::{probe_machine, runtime_devices};
pub use model::{configured_context, llama_model_facts, model_facts, ollama_bool_false};
pub use serverlog::probe_server_logs;
pub use setup::{probe_setup, setup_config_path};
pub use turn::{bench_arg, log_rates_missing, state_dir, turn_time};
pub use url::{is_local_host, server_url};

use crate::claude::{EnvMap, Version};
use crate::doctor::facts::{ClaudeFacts, Facts, ModelCheck, Presence, RunFacts, ServerFacts};
use crate::doctor::knowledge::default_haiku;
use crate::server::http::Client;
use crate::server::ServerKind;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What the doctor was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub offline: bool,
    pub server_only: bool,
    /// `--host`: the server, in `OLLAMA_HOST` form (`host`, `host:port`, `http://host:port`).
    pub host: Option<String>,
    /// `--model`: the model Claude Code will use.
    pub model: Option<String>,
    /// Total time budget for all probes.
    pub budget: Duration,
    /// Read the Ollama service's system-wide configuration (systemd, launchctl, `/proc`);
    /// the app database under `HOME` is read either way.
    pub service_probes: bool,
    /// Measure the model's memory with the embedded llama.cpp (`--measure`).
    pub measure: bool,
    /// `--server KIND`: the server's kind is given, detection is skipped.
    pub server: Option<ServerKind>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            offline: false,
            server_only: false,
            host: None,
            model: None,
            budget: Duration::from_millis(2800),
            service_probes: true,
            measure: false,
            server: None,
        }
    }
}

/// The process environment the probes read (injected so tests never touch real files).
#[derive(Debug, Clone, Default)]
pub struct HostEnv {
    pub vars: EnvMap,
    pub home: Option<PathBuf>,
    pub cwd: Option<PathBuf>,
}

impl HostEnv {
    pub fn from_process() -> HostEnv {
        let vars: EnvMap = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let home = crate::paths::home_from(vars.get("HOME").map(std::ffi::OsStr::new));
        HostEnv {
            vars,
            home,
            cwd: std::env::current_dir().ok(),
        }
    }
}

/// Runs a command with a deadline; its stdout when it exits successfully in time.
pub fn run_cmd(program: &str, args: &[&str], deadline: Instant) -> Option<String> {
    let out = crate::process::run_until(program, args, deadline).ok()?;
    out.success.then_some(out.stdout)
}

/// The background ("small fast") model Claude Code will call, and why
/// (`docs/claude-code.md`, "The background model": measured on 2.1.197 and 2.1.332).
pub fn background_model(
    env: &EnvMap,
    main: Option<&str>,
    version: Option<Version>,
) -> (Option<String>, String) {
    let set = |k: &str| env.get(k).filter(|v| !v.trim().is_empty()).cloned();
    if let Some(m) = set("ANTHROPIC_SMALL_FAST_MODEL") {
        return (Some(m), "ANTHROPIC_SMALL_FAST_MODEL".into());
    }
    let anthropic_key = env
        .get("ANTHROPIC_API_KEY")
        .is_some_and(|k| k.starts_with("sk-ant-api"));
    if let Some(m) = set("ANTHROPIC_DEFAULT_HAIKU_MODEL") {
        return (Some(m), "ANTHROPIC_DEFAULT_HAIKU_MODEL".into());
    }
    if anthropic_key {
        return (
            Some(default_haiku(version).to_string()),
            "ANTHROPIC_API_KEY is an Anthropic key and ANTHROPIC_DEFAULT_HAIKU_MODEL is unset, so Claude Code uses its Haiku default".into(),
        );
    }
    (
        main.map(String::from),
        "no Haiku mapping and no Anthropic API key: Claude Code uses the main model".into(),
    )
}

enum Msg {
    Machine(crate::doctor::facts::MachineFacts),
    Version(Option<Version>),
    Server(Box<ServerProbe>),
    Config(crate::doctor::facts::ServerConfigFacts),
    ServerLog(Vec<crate::doctor::facts::ServerLogFacts>),
}

/// Gathers every fact within `opts.budget`.
pub fn gather(opts: &Options, host: &HostEnv) -> Facts {
    let start = Instant::now();
    // Leave room to describe the model and render after the probes.
    let deadline = start + opts.budget.saturating_sub(Duration::from_millis(150));
    let mut facts = Facts {
        options: RunFacts {
            offline: opts.offline,
            server_only: opts.server_only,
            budget_ms: opts.budget.as_millis() as u64,
            timed_out: vec![],
        },
        ..Default::default()
    };
    let (tx, rx) = mpsc::channel::<Msg>();
    let mut pending = vec!["machine"];
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let _ = tx.send(Msg::Machine(probe_machine()));
        });
    }
    let setup = probe_setup(host);
    let setup_cfg = setup.as_ref().and_then(|s| s.config.as_ref());
    let mut launcher_error = None;
    let launcher = setup_cfg
        .filter(|c| c.wrote.iter().any(|w| w == "launcher") && !opts.server_only)
        .and_then(
            |c| match read_launcher(std::path::Path::new(&c.claude.launcher_path)) {
                Ok(l) => Some(l),
                Err(e) => {
                    launcher_error = Some(e);
                    None
                }
            },
        );
    let claude: Option<ClaudeFacts> = (!opts.server_only).then(|| {
        let mut c = probe_claude_config(host, opts.model.as_deref(), launcher.as_ref());
        c.launcher_error = launcher_error.clone();
        c
    });
    if let Some(exe) = claude.as_ref().and_then(|c| c.path.clone()) {
        pending.push("claude_version");
        let tx = tx.clone();
        std::thread::spawn(move || {
            let left = deadline.saturating_duration_since(Instant::now());
            let _ = tx.send(Msg::Version(crate::claude::claude_version(
                std::path::Path::new(&exe),
                left,
            )));
        });
    }
    let claude_env = claude.as_ref().map(|c| c.env.clone()).unwrap_or_default();
    let (parsed, url, url_source) = server_url(
        opts,
        &claude_env,
        &host.vars,
        setup_cfg.map(|c| c.server.url.as_str()),
    );
    let local = parsed.as_ref().map(|b| b.is_local()).unwrap_or(false);
    let main = claude
        .as_ref()
        .and_then(|c| c.model.clone())
        .or_else(|| opts.model.clone());
    let mut names: Vec<String> = main.iter().cloned().collect();
    for k in [
        "ANTHROPIC_SMALL_FAST_MODEL",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL",
        "CLAUDE_CODE_SUBAGENT_MODEL",
    ] {
        if let Some(v) = claude_env
            .get(k)
            .filter(|v| !v.trim().is_empty() && !["inherit", "default"].contains(&v.as_str()))
        {
            names.push(strip_1m(v));
        }
    }
    if claude_env
        .get("ANTHROPIC_API_KEY")
        .is_some_and(|k| k.starts_with("sk-ant-api"))
    {
        names.push(default_haiku(None).into());
        names.push(default_haiku(Some(crate::claude::LATEST_KNOWN)).into());
    }
    let mut server = ServerFacts {
        url: url.clone(),
        url_source,
        base_url: claude_env.get("ANTHROPIC_BASE_URL").cloned(),
        local,
        ..Default::default()
    };
    match &parsed {
        Err(e) => server.error = Some(format!("{} (from {})", e.message, server.url_source)),
        Ok(_) if opts.offline => {}
        Ok(b) => {
            server.checked = true;
            pending.push("server");
            let client = Client::with_deadline(b.clone(), deadline);
            let tx = tx.clone();
            let names = names.clone();
            let main = main.clone();
            let forced = opts.server;
            std::thread::spawn(move || {
                let _ = tx.send(Msg::Server(Box::new(crate::server::probe(
                    &client,
                    forced,
                    &names,
                    main.as_deref(),
                ))));
            });
        }
    }
    if local {
        pending.push("server_config");
        let tx = tx.clone();
        let host = host.clone();
        let system = opts.service_probes;
        std::thread::spawn(move || {
            let _ = tx.send(Msg::Config(probe_server_config(&host, system, deadline)));
        });
    }
    // The server's own log: local files only, so it is read with --offline too.
    if let (true, Some(home)) = (local, host.home.clone()) {
        pending.push("server_log");
        let tx = tx.clone();
        std::thread::spawn(move || {
            let _ = tx.send(Msg::ServerLog(probe_server_logs(&home)));
        });
    }
    drop(tx);
    let mut version = None;
    let mut sp = ServerProbe::default();
    let hard = start + opts.budget;
    while !pending.is_empty() {
        let left = hard.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Msg::Machine(m)) => {
                facts.machine = m;
                pending.retain(|p| *p != "machine");
            }
            Ok(Msg::Version(v)) => {
                version = v;
                pending.retain(|p| *p != "claude_version");
            }
            Ok(Msg::Server(s)) => {
                sp = *s;
                pending.retain(|p| *p != "server");
            }
            Ok(Msg::Config(c)) => {
                facts.server_config = Some(c);
                pending.retain(|p| *p != "server_config");
            }
            Ok(Msg::ServerLog(l)) => {
                facts.server_log = l;
                pending.retain(|p| *p != "server_log");
            }
            Err(_) => break,
        }
    }
    facts.options.timed_out = pending.iter().map(|p| p.to_string()).collect();
    // Whether the server checked is the one setup configured.
    let is_configured = |c: &crate::setup::config::SetupConfig| {
        crate::server::ServerUrl::parse_for(&c.server.url, None)
            .is_ok_and(|u| u.reachable().to_url() == url)
    };
    // The memory budget the user planned setup for (`--memory`, `--mac-ram`) is the one
    // the doctor plans with, as plan and setup did.
    if let Some(bytes) = setup_cfg
        .filter(|c| is_configured(c))
        .and_then(|c| c.chosen.as_ref())
        .and_then(|c| c.memory_bytes)
    {
        let mut b = crate::runtime::detect_budget(Some(bytes), None);
        b.note = "the budget `cclocal setup` planned for (config.toml)".into();
        facts.machine.budget = Some(b);
    }
    if facts.options.timed_out.iter().any(|p| p == "server") && sp.error.is_none() {
        sp.error = Some("timed out (the probe's time budget is spent)".into());
    }
    server.reachable = sp.reachable;
    server.kind = sp.kind.or(opts.server);
    server.kind_source = if opts.server.is_some() {
        Some("--server".into())
    } else {
        sp.kind.map(|_| "detected".into())
    };
    server.detection = sp.detection.clone();
    server.answered = sp.answered.clone();
    server.loading = sp.loading;
    server.llama = sp.llama.clone();
    server.backend = sp.backend.clone();
    server.llama_command = sp.llama_command.clone();
    // The Ollama service's configuration says nothing about another kind of server.
    let configured_kind = setup_cfg.map(|c| c.server.kind);
    if !matches!(
        server.kind.or(configured_kind),
        None | Some(ServerKind::Ollama)
    ) {
        facts.server_config = None;
    }
    server.error = server.error.take().or(sp.error.clone());
    server.version = sp.version.clone();
    server.latency_ms = sp.latency_ms;
    server.installed = sp.installed.clone();
    server.loaded = sp.loaded.clone();
    server.messages_api = sp.messages_api;
    let claude = claude.map(|mut c| {
        c.version = version;
        c
    });
    if server.checked && server.reachable {
        let presence = |n: &str| sp.presence.get(n).copied().unwrap_or(Presence::Unknown);
        if let Some(m) = &main {
            let why = claude
                .as_ref()
                .and_then(|c| c.model_source.clone())
                .unwrap_or_else(|| "--model".into());
            server.models.push(ModelCheck {
                role: "main".into(),
                name: m.clone(),
                why,
                presence: presence(m),
            });
        }
        if claude.is_some() {
            let (bg, why) = background_model(&claude_env, main.as_deref(), version);
            if let Some(bg) = bg.map(|b| strip_1m(&b)) {
                server.models.push(ModelCheck {
                    role: "background".into(),
                    presence: presence(&bg),
                    name: bg,
                    why,
                });
            }
            if let Some(s) = claude_env
                .get("CLAUDE_CODE_SUBAGENT_MODEL")
                .filter(|v| !v.trim().is_empty() && !["inherit", "default"].contains(&v.as_str()))
            {
                let s = strip_1m(s);
                server.models.push(ModelCheck {
                    role: "subagent".into(),
                    presence: presence(&s),
                    name: s,
                    why: "CLAUDE_CODE_SUBAGENT_MODEL".into(),
                });
            }
        }
    }
    if let Some(b) = &sp.backend {
        facts.model = backend_model_facts(
            b,
            sp.kind,
            main.as_deref(),
            &facts.machine,
            local,
            host.home.as_deref(),
        );
    } else if let Some(l) = sp.llama.as_ref().filter(|l| !l.router) {
        facts.model = Some(llama_model_facts(
            l,
            server.llama_command.as_ref(),
            &facts.machine,
            local,
            ServerKind::LlamaServer,
        ));
    } else if let Some(m) = &main {
        if server.reachable && sp.installed.iter().any(|i| same_model(&i.name, m))
            || sp.model_info.is_some()
        {
            // What setup configured stands for this server's settings when it is the one
            // setup configured.
            let configured = setup_cfg
                .filter(|c| c.server.kind == crate::server::ServerKind::Ollama && is_configured(c))
                .map(|c| &c.server);
            facts.model = Some(model_facts(
                m,
                &sp,
                facts.server_config.as_ref(),
                configured,
                &facts.machine,
                local,
                opts.measure,
            ));
        }
    }
    facts.claude = claude;
    facts.server = server;
    facts.setup = setup;
    facts.turn_time = turn_time(&facts, state_dir(host).as_deref());
    facts.verify = state_dir(host).and_then(|d| {
        let last = crate::doctor::verify_state::load(&d)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Some(crate::doctor::facts::VerifyFacts {
            path: crate::doctor::verify_state::path(&d).display().to_string(),
            age_s: now.saturating_sub(last.at),
            age: last.age(now),
            version: last.version,
            ok: last.ok,
            mismatches: last.mismatches,
            table: last.table,
        })
    });
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background() {
        let mut env = EnvMap::new();
        env.insert("ANTHROPIC_AUTH_TOKEN".into(), "<redacted>".into());
        assert_eq!(
            background_model(&env, Some("q"), None).0.as_deref(),
            Some("q")
        );
        env.insert(
            "ANTHROPIC_API_KEY".into(),
            "sk-ant-api03-…<redacted>".into(),
        );
        assert_eq!(
            background_model(&env, Some("q"), Some(Version(2, 1, 332)))
                .0
                .as_deref(),
            Some("claude-haiku-5-5")
        );
        assert_eq!(
            background_model(&env, Some("q"), Some(Version(2, 1, 197)))
                .0
                .as_deref(),
            Some("claude-haiku-4-5-20251001")
        );
        env.insert("ANTHROPIC_DEFAULT_HAIKU_MODEL".into(), "small:1b".into());
        assert_eq!(
            background_model(&env, Some("q"), None).0.as_deref(),
            Some("small:1b")
        );
        env.insert("ANTHROPIC_SMALL_FAST_MODEL".into(), "tiny".into());
        assert_eq!(
            background_model(&env, Some("q"), None).0.as_deref(),
            Some("tiny")
        );
    }
}
