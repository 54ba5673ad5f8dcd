//! `cclocal status`: what `cclocal setup` configured (config.toml and the files of the last
//! run), and whether the live server and Claude Code still match it. The live part is the
//! doctor's: its probes gather the facts and its `setup_drift` rule compares them with
//! config.toml; status shows that finding and the few others that say the configuration
//! cannot work (server gone, model gone, Claude Code gone, the launcher's window larger than
//! what the server serves). It marks with ✓ only what it
//! compared.

use super::args;
use crate::doctor::facts::{ContextSource, Facts};
use crate::doctor::{self, HostEnv, Options};
use crate::error::Result;
use crate::findings::{exit_code, Finding, Severity};
use crate::paths::Paths;
use crate::setup::config::{self, SetupConfig};
use crate::setup::manifest::{format_time, list_runs, Manifest};
use serde::Serialize;
use serde_json::json;

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// Print JSON: {"configured", "config_path", "last_run", "compared", "not_compared",
    /// "findings"}.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub host: args::HostArgs,
    #[command(flatten)]
    pub strict: args::StrictArgs,
    #[command(flatten)]
    pub probe: args::ProbeArgs,
}

/// The doctor's findings that say whether the configuration still holds.
const STATUS_IDS: &[&str] = &[
    "setup_drift",
    "server_unreachable",
    "server_not_checked",
    "server_too_old",
    "model_missing",
    "context_mismatch",
    "claude_missing",
];

/// One file of the last run, and whether it is still there.
#[derive(Debug, Serialize)]
struct RunFile {
    path: String,
    what: String,
    present: bool,
}

#[derive(Debug, Serialize)]
struct LastRun {
    id: String,
    command: String,
    created: String,
    files: Vec<RunFile>,
    /// The run did not finish: `applying` (cut off; the next setup, alias or undo takes it
    /// back) or `incomplete` (a rollback could not restore every file). Its files are not
    /// marked as in place.
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<String>,
}

/// A run that was cut off and not yet taken back: its command and pid (from the journal).
#[derive(Debug, Serialize)]
struct Interrupted {
    command: String,
    pid: u32,
}

/// The journal of a run whose process is gone: it was interrupted.
fn interrupted(paths: &Paths) -> Option<Interrupted> {
    let bytes = std::fs::read(paths.state_dir.join(crate::setup::journal::JOURNAL_FILE)).ok()?;
    let j: crate::setup::journal::Journal = serde_json::from_slice(&bytes).ok()?;
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let gone = unsafe { libc::kill(j.pid as libc::pid_t, 0) } != 0
        && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
    gone.then_some(Interrupted {
        command: j.command,
        pid: j.pid,
    })
}

/// What the live comparison covered, and what it could not.
#[derive(Debug, Default, Serialize)]
struct Coverage {
    compared: Vec<String>,
    not_compared: Vec<String>,
    /// Per compared item: ✓ when it matches, else the glyph of its worst difference
    /// (`setup_drift`'s own comparison, `crate::doctor::rules::setup::drift`).
    #[serde(skip)]
    marks: Vec<&'static str>,
}

/// Which of setup_drift's comparisons the facts allowed (the rule itself decides whether
/// they match).
fn coverage(f: &Facts, cfg: &SetupConfig) -> Coverage {
    use crate::doctor::rules::setup::DriftTopic;
    let mut c = Coverage::default();
    let mut topics: Vec<&[DriftTopic]> = Vec::new();
    if f.server.checked && f.server.reachable {
        c.compared
            .push(format!("the server answers at {}", f.server.url));
        topics.push(&[]);
        let live_ctx = f.model.as_ref().is_some_and(|m| {
            m.served_context.is_some() && m.served_context_source == Some(ContextSource::Live)
        });
        if live_ctx {
            c.compared.push(format!(
                "the served context ({} tokens configured)",
                cfg.model.context
            ));
            topics.push(&[DriftTopic::Context]);
        } else {
            c.not_compared.push(format!(
                "the served context: {} is not loaded on the server now",
                cfg.model.name
            ));
        }
    } else if !f.server.checked {
        c.not_compared
            .push("the server: not contacted (--offline, or an https URL)".into());
    }
    match cfg.server.kind {
        crate::server::ServerKind::Ollama => {
            if f.server_config
                .as_ref()
                .is_some_and(|s| s.env_source.is_some())
            {
                c.compared
                    .push("the server's KV cache type and keep-alive".into());
                topics.push(&[DriftTopic::KvCache, DriftTopic::KeepAlive]);
            } else {
                c.not_compared.push(
                    "the server's KV cache type and keep-alive: its environment is not readable here"
                        .into(),
                );
            }
        }
        crate::server::ServerKind::LlamaServer => {
            if f.server.llama_command.is_some() {
                c.compared.push("the server's KV cache type".into());
                topics.push(&[DriftTopic::KvCache]);
            } else {
                c.not_compared.push(
                    "the server's KV cache type: llama-server's command line is not readable here"
                        .into(),
                );
            }
        }
        // LM Studio, vLLM, the MLX servers: setup sets only their context.
        _ => {}
    }
    if f.claude.as_ref().and_then(|c| c.version).is_some() {
        c.compared.push(format!(
            "the Claude Code version (settings computed for {})",
            cfg.claude.version
        ));
        topics.push(&[DriftTopic::ClaudeVersion]);
    } else {
        c.not_compared
            .push("the Claude Code version: no claude found on PATH".into());
    }
    let drift = crate::doctor::rules::setup::drift(f, cfg);
    c.marks = topics
        .iter()
        .map(|t| {
            drift
                .iter()
                .filter(|d| t.contains(&d.topic))
                .map(|d| d.severity)
                .max()
                .map_or("✓", |s| s.glyph())
        })
        .collect();
    c
}

fn last_run(paths: &Paths) -> Result<Option<LastRun>> {
    let runs = list_runs(&paths.runs_dir())?;
    let m: Option<&Manifest> = runs
        .iter()
        .rev()
        .find(|m| m.command == "setup" && m.undone_unix.is_none());
    Ok(m.map(|m| LastRun {
        id: m.id.clone(),
        command: m.command.clone(),
        created: format_time(m.created_unix),
        files: m
            .entries
            .iter()
            .filter(|e| (e.after.is_some() || e.after_hash.is_some()) && !e.undone)
            .map(|e| RunFile {
                path: e.path.display().to_string(),
                what: e.what.clone(),
                present: e.path.exists(),
            })
            .collect(),
        state: m.state.clone(),
    }))
}

pub fn run(args: &StatusArgs, _verbose: bool) -> Result<i32> {
    let budget = args.probe.budget()?;
    let paths = Paths::from_env()?;
    let config_path = paths.config_toml();
    let cfg = config::load(&config_path)?;
    let run = last_run(&paths)?;
    let stopped = interrupted(&paths);
    let Some(cfg) = cfg else {
        let f = Finding::of(
            "not_set_up",
            "cclocal setup has not configured this machine",
        )
        .detail(format!("no {}", config_path.display()))
        .fix("cclocal setup");
        let findings = vec![f];
        if args.json {
            let v = json!({"configured": null, "config_path": config_path.display().to_string(),
                           "last_run": run, "interrupted": stopped, "compared": [], "not_compared": [], "findings": findings});
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        } else {
            crate::tprint!(
                "{}",
                human(
                    None,
                    &config_path,
                    run.as_ref(),
                    stopped.as_ref(),
                    None,
                    &findings
                )
            );
        }
        return Ok(exit_code(&findings, args.strict.strict));
    };
    let opts = Options {
        offline: args.probe.offline,
        server_only: false,
        // The one order every command uses (`crate::server::resolve`): with no --host, the
        // server Claude Code is pointed at, else the configured one.
        host: args.host.host.clone(),
        model: Some(cfg.model.name.clone()),
        server: Some(cfg.server.kind),
        budget,
        service_probes: std::env::var_os("CCLOCAL_DOCTOR_NO_SERVICE_PROBES").is_none(),
        measure: false,
    };
    let report = doctor::diagnose(&opts, &HostEnv::from_process());
    let cov = coverage(&report.facts, &cfg);
    let findings: Vec<Finding> = report
        .findings
        .into_iter()
        .map(|(_, f)| f)
        .filter(|f| STATUS_IDS.contains(&f.id) && f.severity > Severity::Ok)
        .collect();
    if args.json {
        let v = json!({
            "configured": cfg,
            "config_path": config_path.display().to_string(),
            "last_run": run,
            "interrupted": stopped,
            "compared": cov.compared,
            "not_compared": cov.not_compared,
            "findings": findings,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        crate::tprint!(
            "{}",
            human(
                Some(&cfg),
                &config_path,
                run.as_ref(),
                stopped.as_ref(),
                Some(&cov),
                &findings
            )
        );
    }
    Ok(exit_code(&findings, args.strict.strict))
}

/// The server settings setup configured for this kind of server, for people: Ollama has a
/// KV cache type, flash attention and a keep-alive; llama-server keeps its model loaded (no
/// keep-alive); LM Studio, vLLM and the MLX servers get only their context (the model line).
fn server_settings(c: &SetupConfig) -> Vec<String> {
    let on_off = |b: bool| if b { "on" } else { "off" };
    match c.server.kind {
        crate::server::ServerKind::Ollama => vec![
            format!("KV cache {}", c.server.kv_type()),
            format!("flash attention {}", on_off(c.server.flash_attention)),
            format!("keep-alive {}", c.server.keep_alive),
        ],
        crate::server::ServerKind::LlamaServer => vec![
            format!("KV cache {}", c.server.kv_type()),
            format!("flash attention {}", on_off(c.server.flash_attention)),
        ],
        _ => vec![],
    }
}

fn human(
    cfg: Option<&SetupConfig>,
    config_path: &std::path::Path,
    run: Option<&LastRun>,
    stopped: Option<&Interrupted>,
    cov: Option<&Coverage>,
    findings: &[Finding],
) -> String {
    let mut o = String::new();
    match cfg {
        None => o += &format!("Not set up: no {}.\n", config_path.display()),
        Some(c) => {
            o += &format!("Configured by cclocal setup ({}):\n", config_path.display());
            let settings = server_settings(c);
            o += &format!(
                "  server       {} ({}){}{}\n",
                c.server.url,
                c.server.kind,
                if settings.is_empty() { "" } else { ": " },
                settings.join(", ")
            );
            o += &format!(
                "  model        {}, context {} tokens\n",
                c.model.name, c.model.context
            );
            o += &format!(
                "  Claude Code  settings for {}; launcher {}\n",
                c.claude.version, c.claude.launcher_path
            );
        }
    }
    if let Some(i) = stopped {
        o += &format!(
            "[!] an earlier `cclocal {}` (pid {}) was interrupted; the next `cclocal setup`, `cclocal alias` or `cclocal undo` takes back what it changed\n",
            i.command, i.pid
        );
    }
    if let Some(r) = run.filter(|r| r.state.is_some()) {
        let why = match r.state.as_deref() {
            Some("incomplete") => "it failed and could not put every file back; `cclocal undo` restores them",
            _ => "it was cut off; the next `cclocal setup`, `cclocal alias` or `cclocal undo` takes it back",
        };
        o += &format!(
            "The last setup (run {}, {}) did not finish: {why}. Its files:\n",
            r.id, r.created
        );
        for f in &r.files {
            o += &format!(
                "  [?] {} ({}): not known to hold what setup planned\n",
                f.path, f.what
            );
        }
    }
    if let Some(r) = run.filter(|r| r.state.is_none()) {
        o += &format!("Files of the last setup (run {}, {}):\n", r.id, r.created);
        for f in &r.files {
            o += &format!(
                "  [{}] {} ({}){}\n",
                if f.present { "✓" } else { "✗" },
                f.path,
                f.what,
                if f.present { "" } else { ": missing" }
            );
        }
    }
    if let Some(cov) = cov {
        o += "Live:\n";
        // Each item marked by its own comparison: ✓ matches, ! or ✗ differs (the finding
        // below says how), i differs in a way that changes nothing.
        let drift = cov.marks.iter().any(|m| *m != "✓");
        for (i, c) in cov.compared.iter().enumerate() {
            let mark = cov.marks.get(i).copied().unwrap_or("✓");
            let note = if mark == "✓" {
                ""
            } else {
                ": differs (below)"
            };
            o += &format!("  [{mark}] {c}{note}\n");
        }
        for c in &cov.not_compared {
            o += &format!("  [-] not compared: {c}\n");
        }
        if !drift && !cov.compared.is_empty() {
            o += "  everything compared matches the configuration\n";
        }
    }
    for f in findings {
        o += &format!("[{}] {}\n", f.severity.glyph(), f.title);
        if !f.detail.is_empty() {
            o += &format!("    {}\n", f.detail);
        }
        if !f.fix.is_empty() {
            o += &format!("    fix: {}\n", f.fix);
        }
    }
    o
}
