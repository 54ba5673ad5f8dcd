//! `cclocal setup`: configure the Ollama server, a Claude Code launcher and Claude Code's
//! onboarding flag in one step, through the plan → apply engine (`crate::setup`).

use super::args;
use crate::claude::{installed_version, Version, LATEST_KNOWN};
use crate::error::{Error, Result};
use crate::memory::detect_budget;
use crate::setup::build::{build_plan, Host};
use crate::setup::choices::{
    check_model_on_server, normalize_server, normalize_server_port, Choices, Part, TargetOs,
};
use crate::setup::config::{self, SetupConfig};
use crate::setup::context::{decide, describe_model, planned};
use crate::setup::llama_server::{self, LlamaServer};
use crate::setup::wizard::{self, Draft};
use crate::setup::{apply, system, Paths, Record};
use crate::shell::quote::sh_quote;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug, Default)]
pub struct SetupArgs {
    /// The server to configure: ollama (default: the previous setup's, else ollama),
    /// llama-server (--model is the GGUF file it serves), lmstudio (--model is the LM
    /// Studio model key) or vllm (--model is what vLLM serves, and the name Claude Code sends).
    #[arg(long, value_name = args::KIND, value_parser = args::server_kind)]
    pub server: Option<crate::server::ServerKind>,
    /// The llama-server binary (default: `llama-server` on PATH).
    #[arg(long, value_name = "PATH")]
    pub llama_server: Option<PathBuf>,
    /// The server Claude Code talks to: a URL or HOST[:PORT]. Default: the previous
    /// setup's, else $OLLAMA_HOST, else http://127.0.0.1:11434 (llama-server:
    /// http://127.0.0.1:8080, where setup makes it listen).
    #[arg(long, value_name = args::URL, value_parser = args::host)]
    pub host: Option<String>,
    /// The model Claude Code uses for every tier (main, subagents, background); with
    /// `--server llama-server`, the GGUF file the server loads.
    #[arg(long, value_name = args::MODEL)]
    pub model: Option<String>,
    /// Context length to configure, in tokens (32768 or 32K). Default: the largest that
    /// fits (the planner).
    #[arg(long, value_name = args::TOKENS, value_parser = args::ctx)]
    pub ctx: Option<u64>,
    /// KV cache type: f16, q8_0 or q4_0 (default: the planner's choice, see `cclocal plan`);
    /// llama-server also takes f32, bf16, q4_1, iq4_nl, q5_0, q5_1.
    #[arg(long = "kv-type", value_name = args::KV_TYPE, value_parser = args::kv_type, alias = "kv-cache-type", alias = "kv")]
    pub kv_cache_type: Option<String>,
    /// Flash attention on or off (default on; a quantized KV cache needs it).
    #[arg(long = "flash-attn", value_name = args::ON_OFF, value_parser = args::on_off(), alias = "flash-attention")]
    pub flash_attention: Option<bool>,
    /// How long Ollama keeps the model loaded: a Go duration (30m, 2h, -1 = forever).
    #[arg(long, value_name = "DURATION")]
    pub keep_alive: Option<String>,
    /// File name of the launcher in ~/.local/bin (default claude-local).
    #[arg(long, value_name = "NAME")]
    pub launcher_name: Option<String>,
    /// Plan the Claude Code settings for this version (default: the installed one).
    #[arg(long, value_name = args::VERSION, value_parser = args::claude_version)]
    pub claude_version: Option<String>,
    /// Render the server files for this OS (default: this machine's).
    #[arg(long, value_enum)]
    pub target: Option<TargetOs>,
    /// Write only these parts (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Part>,
    /// Do not write these parts (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub skip: Vec<Part>,
    /// The token the launcher sends (Ollama ignores it; default "ollama").
    #[arg(long, value_name = "TOKEN")]
    pub auth_token: Option<String>,
    /// Memory budget for the context planner (e.g. 24GiB), instead of this machine's.
    #[arg(long, value_name = args::SIZE, value_parser = args::size, conflicts_with = "mac_ram")]
    pub memory: Option<u64>,
    /// Plan for an Apple Silicon Mac with this much RAM (e.g. 64GB = 64 GiB).
    #[arg(long, value_name = args::SIZE, value_parser = args::mac_ram)]
    pub mac_ram: Option<u64>,
    /// Show the changes as unified diffs and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print a machine-readable summary (JSON) of the planned or applied changes on stdout
    /// (the usual report goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Apply without asking (every answer comes from flags and defaults).
    #[arg(short, long)]
    pub yes: bool,
    /// Write even when the server does not have the model or the context does not fit.
    #[arg(long)]
    pub force: bool,
    /// After applying, load the model into the server with the chosen keep-alive.
    #[arg(long)]
    pub warm: bool,
    /// Install system files (the systemd drop-in) under this directory instead of `/`,
    /// as a packager's DESTDIR; no service is restarted.
    #[arg(long, value_name = "DIR", hide = true)]
    pub system_root: Option<PathBuf>,
}

/// Fills the draft from flags, then the previous configuration, then defaults.
fn draft(args: &SetupArgs, prev: Option<&SetupConfig>) -> Result<Draft> {
    let server = match (&args.host, prev) {
        (Some(h), _) => h.clone(),
        (None, Some(p)) => p.server.url.clone(),
        (None, None) => std::env::var("OLLAMA_HOST")
            .ok()
            .filter(|h| !h.trim().is_empty())
            .unwrap_or_else(|| "http://127.0.0.1:11434".into()),
    };
    let server = match normalize_server(&server) {
        Ok((url, _)) => url,
        Err(e) if args.host.is_some() => return Err(e),
        // A bad $OLLAMA_HOST (e.g. 0.0.0.0 meant for the server) falls back to the default.
        Err(_) => "http://127.0.0.1:11434".into(),
    };
    let same_model =
        args.model.is_none() || args.model.as_deref() == prev.map(|p| p.model.name.as_str());
    let mut parts: Vec<Part> = if !args.only.is_empty() {
        args.only.clone()
    } else {
        prev.map(|p| p.wrote.iter().filter_map(|w| Part::parse(w)).collect())
            .unwrap_or_else(|| Part::ALL.to_vec())
    };
    parts.retain(|p| !args.skip.contains(p));
    Ok(Draft {
        server,
        model: args
            .model
            .clone()
            .or_else(|| prev.map(|p| p.model.name.clone())),
        // A remembered context belongs to the remembered model and cache type.
        context: args.ctx.or_else(|| {
            prev.filter(|p| {
                same_model
                    && args
                        .kv_cache_type
                        .as_ref()
                        .map_or(true, |k| *k == p.server.kv_cache_type)
            })
            .map(|p| p.model.context)
        }),
        kv_cache_type: args
            .kv_cache_type
            .clone()
            .or_else(|| prev.map(|p| p.server.kv_cache_type.clone())),
        flash_attention: args
            .flash_attention
            .or(prev.map(|p| p.server.flash_attention))
            .unwrap_or(true),
        keep_alive: args
            .keep_alive
            .clone()
            .or_else(|| prev.map(|p| p.server.keep_alive.clone()))
            .unwrap_or_else(|| crate::planner::DEFAULT_KEEP_ALIVE.into()),
        parts,
    })
}

/// The command line that reproduces `ch` without prompts.
fn equivalent_command(ch: &Choices) -> String {
    let mut s = match &ch.llama_server {
        Some(ls) => format!(
            "cclocal setup --yes --server llama-server --llama-server {} --host {} --model {} --ctx {} --kv-type {}",
            sh_quote(&ls.binary.display().to_string()),
            sh_quote(&ch.server_url),
            sh_quote(&ls.model_path.display().to_string()),
            ch.context,
            ch.kv_cache_type,
        ),
        None => format!(
            "cclocal setup --yes --host {} --model {} --ctx {} --kv-type {} --keep-alive {}",
            sh_quote(&ch.server_url),
            sh_quote(&ch.model),
            ch.context,
            ch.kv_cache_type,
            sh_quote(&ch.keep_alive)
        ),
    };
    if !ch.flash_attention {
        s.push_str(" --flash-attn off");
    }
    if ch.parts.len() < Part::ALL.len() {
        let only: Vec<&str> = ch.parts.iter().map(|p| p.name()).collect();
        s.push_str(&format!(" --only {}", only.join(",")));
    }
    s
}

/// `println!` that goes to stderr when stdout carries the JSON summary.
macro_rules! say {
    ($json:expr, $($t:tt)*) => {
        if $json { eprintln!($($t)*) } else { println!($($t)*) }
    };
}
macro_rules! say_raw {
    ($json:expr, $($t:tt)*) => {
        if $json { eprint!($($t)*) } else { print!($($t)*) }
    };
}

/// The launcher's name: `--launcher-name`, else the previous setup's, else `claude-local`.
fn launcher_name(args: &SetupArgs, prev: Option<&SetupConfig>) -> String {
    args.launcher_name
        .clone()
        .or_else(|| prev.map(|p| p.claude.launcher_name.clone()))
        .unwrap_or_else(|| "claude-local".into())
}

/// The token Claude Code sends: `--auth-token`, else the server kind's name (a placeholder
/// local servers ignore; `setup::build::is_placeholder_token` keeps it out of the secrets).
fn auth_token(args: &SetupArgs, kind: crate::server::ServerKind) -> String {
    args.auth_token
        .clone()
        .unwrap_or_else(|| kind.name().into())
}

pub fn run(args: &SetupArgs, verbose: bool) -> Result<i32> {
    // Every question setup asks the server shares one budget, as the doctor's probes do.
    crate::setup::server_api::share_budget(crate::setup::server_api::SETUP_NET_BUDGET);
    // Without --server, the kind the previous setup configured.
    let kind = args.server.or_else(|| {
        let p = Paths::from_env().ok()?;
        let c = config::load(&p.config_toml()).ok()??;
        crate::server::ServerKind::parse(&c.server.kind).ok()
    });
    match kind {
        None
        | Some(crate::server::ServerKind::Ollama)
        | Some(crate::server::ServerKind::LlamaServer) => {}
        Some(k @ (crate::server::ServerKind::LmStudio | crate::server::ServerKind::Vllm)) => {
            return run_backend(args, k, verbose)
        }
        Some(k) => {
            return Err(
                Error::usage(format!("setup does not configure {} yet", k.label()))
                    .with_hint("use --server ollama, llama-server, lmstudio or vllm"),
            )
        }
    }
    let paths = Paths::from_env()?;
    let prev = config::load(&paths.config_toml())?;
    let interactive = !args.yes
        && !args.dry_run
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal();
    let budget = detect_budget(args.memory, args.mac_ram);
    use crate::server::ServerKind;
    let llama = kind == Some(ServerKind::LlamaServer);
    let kind = if llama { "llama-server" } else { "ollama" };
    // The previous run's server settings count only for the same kind of server.
    let prev_same = prev.as_ref().filter(|p| p.server.kind == kind);
    let mut d = draft(args, prev_same)?;
    if llama && args.host.is_none() && prev_same.is_none() {
        d.server = format!("http://127.0.0.1:{}", llama_server::DEFAULT_PORT);
    }
    if interactive && !llama {
        wizard::ask(&mut d, &budget)?;
    }
    let (server_url, remote) = if llama {
        normalize_server_port(&d.server, llama_server::DEFAULT_PORT)?
    } else {
        normalize_server(&d.server)?
    };
    let target = args.target.unwrap_or_else(TargetOs::this);
    let ls = if llama {
        if args.warm {
            return Err(Error::usage(
                "--warm is for Ollama: llama-server loads its model when it starts",
            ));
        }
        Some(llama_server_choices(
            args,
            prev_same,
            &paths,
            !remote && target == TargetOs::this(),
        )?)
    } else {
        None
    };
    let model = match &ls {
        Some(ls) => llama_server::default_alias(&ls.model_path),
        None => d.model.clone().ok_or_else(|| {
            Error::usage("no model given")
                .with_hint("pass --model NAME (for example --model qwen3-coder:30b)")
        })?,
    };
    // What the planner reads: the GGUF file for llama-server (setup starts the server, so
    // there is none to ask), else the model name (its file here, or the server's /api/show).
    let (model_ref, show_from) = match &ls {
        Some(ls) => (ls.model_path.display().to_string(), None),
        None => (model.clone(), Some(server_url.as_str())),
    };
    if !llama {
        let installed = crate::setup::server_api::list_models(&server_url, Duration::from_secs(3));
        match &installed {
            Ok(list) => check_model_on_server(&model, list, args.force)?,
            Err(_) => eprintln!(
                "note: {server_url} did not list its models, so cclocal could not check that it has {model}"
            ),
        }
    }
    let known_context = match &ls {
        Some(ls) => args.ctx.or_else(|| {
            prev_same
                .filter(|p| {
                    p.llama_server.as_ref().map(|l| l.model_path.as_str()) == ls.model_path.to_str()
                        && args
                            .kv_cache_type
                            .as_ref()
                            .map_or(true, |k| *k == p.server.kv_cache_type)
                })
                .map(|p| p.model.context)
        }),
        None => d.context,
    };
    let budget_known = !remote || args.memory.is_some() || args.mac_ram.is_some();
    let mut trained = None;
    let (context, kv_cache_type) = match known_context {
        None => {
            if !budget_known {
                return Err(Error::usage("the server is another machine, so its memory is unknown here")
                    .with_hint("pass --ctx TOKENS, or --memory SIZE (the server's memory) to let cclocal plan it"));
            }
            let m = describe_model(&model_ref, show_from).map_err(|e| {
                Error::usage(format!("cannot plan the context: {}", e.message))
                    .with_subject(e.subject.unwrap_or_else(|| model_ref.clone()))
                    .with_hint("pass --ctx TOKENS, or make the model readable here (a .gguf path or the Ollama store)")
            })?;
            trained = Some(m.desc.context_length);
            let p = planned(
                &m.desc,
                d.kv_cache_type.as_deref(),
                d.flash_attention,
                &budget,
                None,
            )?;
            let (c, kv) = decide(&p, &m.desc, &budget)?;
            let total = p.choice().map(|c| c.row.total_bytes).unwrap_or(0);
            eprintln!(
                "planned context: {c} tokens, KV cache {kv} ({} of {} budget; {} from {})",
                crate::units::human(total),
                crate::units::human(budget.bytes),
                m.desc.name,
                m.from
            );
            (c, kv)
        }
        Some(c) => {
            let described = if budget_known {
                describe_model(&model_ref, show_from).ok()
            } else {
                None
            };
            match described {
                Some(m) => {
                    trained = Some(m.desc.context_length);
                    let p = planned(
                        &m.desc,
                        d.kv_cache_type.as_deref(),
                        d.flash_attention,
                        &budget,
                        Some(c),
                    )?;
                    for w in &p.warnings {
                        eprintln!("warning: {w}");
                    }
                    match decide(&p, &m.desc, &budget) {
                        Ok((_, kv)) => (c, kv),
                        Err(e) if args.force => {
                            eprintln!("warning (--force): {}", e.message);
                            (
                                c,
                                d.kv_cache_type.clone().unwrap_or_else(|| {
                                    crate::planner::UNKNOWN_BUDGET_KV_TYPE.into()
                                }),
                            )
                        }
                        Err(e) => return Err(e),
                    }
                }
                None => (
                    c,
                    d.kv_cache_type
                        .clone()
                        .unwrap_or_else(|| crate::planner::UNKNOWN_BUDGET_KV_TYPE.into()),
                ),
            }
        }
    };
    let claude_version = match &args.claude_version {
        Some(v) => v.parse::<Version>()?,
        None => installed_version().unwrap_or(LATEST_KNOWN),
    };
    let ch = Choices {
        server_url,
        remote,
        model,
        context,
        kv_cache_type,
        flash_attention: d.flash_attention,
        keep_alive: d.keep_alive.clone(),
        launcher_name: launcher_name(args, prev.as_ref()),
        auth_token: auth_token(
            args,
            if llama {
                crate::server::ServerKind::LlamaServer
            } else {
                crate::server::ServerKind::Ollama
            },
        ),
        claude_version,
        target,
        parts: d.parts.clone(),
        llama_server: ls,
    };
    ch.validate()?;
    let this_os = TargetOs::this();
    let host = Host {
        os: this_os,
        is_root: args.system_root.is_some() || system::uid() == 0,
        uid: system::uid(),
        system_root: args
            .system_root
            .clone()
            .unwrap_or_else(|| PathBuf::from("/")),
        app_context_length: if this_os == TargetOs::Macos
            && ch.target == TargetOs::Macos
            && !ch.remote
        {
            system::ollama_app_context_length(&paths.home)
        } else {
            None
        },
        // The plist under this HOME describes this machine's Ollama.
        brew_service: (ch.target == TargetOs::Macos && !ch.remote)
            .then(|| crate::ollama::homebrew::probe(&paths.home).ok().flatten())
            .flatten(),
    };
    let mut built = build_plan(&paths, &ch, &host)?;
    let rec = match crate::planner::advise_version(ch.claude_version, ch.context, &ch.model) {
        crate::planner::ClaudeAdvice::Settings { rec, .. } => rec,
        crate::planner::ClaudeAdvice::Impossible { why, would, .. } => {
            return Err(
                Error::usage(format!("no Claude Code setting can work: {why}")).with_hint(would),
            )
        }
    };
    say!(args.json,
        "cclocal setup: {} on {}, context {} tokens, Claude Code {} (effective window {}, compacts at {})",
        ch.model, ch.server_url, ch.context, ch.claude_version, rec.calc.effective_window, rec.calc.autocompact_threshold
    );
    for n in crate::planner::context_notes(&rec, trained) {
        say!(args.json, "note: {n}");
    }
    if let Some(n) = Some(())
        .filter(|_| !llama)
        .and_then(|_| {
            crate::setup::server_api::show(&ch.server_url, &ch.model, Duration::from_secs(2)).ok()
        })
        .and_then(|s| s.num_ctx)
    {
        if n != ch.context {
            say!(args.json, "warning: the model's Modelfile sets num_ctx {n}, which overrides OLLAMA_CONTEXT_LENGTH; re-create it without num_ctx or with num_ctx {}", ch.context);
        }
    }
    say_raw!(args.json, "{}", built.plan.summary());
    let (turn_time, turn_line) = turn_quote(&paths, &ch);
    say!(args.json, "{turn_line}");
    let runs = paths.runs_dir();
    let json = |built: &crate::setup::Built,
                run: Option<&crate::setup::manifest::Manifest>,
                applied: bool| {
        serde_json::json!({
            "command": "setup",
            "dry_run": args.dry_run,
            "applied": applied,
            "run_id": run.map(|m| m.id.clone()),
            "run_dir": run.map(|m| runs.join(&m.id).display().to_string()),
            "changes": built.plan.to_json(run.map(|m| (runs.as_path(), m))),
            "notes": built.plan.notes,
            "turn_time": turn_time,
        })
    };
    if args.dry_run {
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json(&built, None, false)).expect("json")
            );
            return Ok(0);
        }
        say_raw!(args.json, "{}", built.plan.diff());
        for n in &built.plan.notes {
            say!(args.json, "note: {n}");
        }
        say!(args.json, "dry run: nothing was written");
        return Ok(0);
    }
    if built.plan.is_noop() {
        say!(
            args.json,
            "nothing to change: every file is already as planned"
        );
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json(&built, None, false)).expect("json")
            );
        }
        return Ok(0);
    }
    if !args.yes {
        if !interactive {
            return Err(Error::usage(
                "no terminal to ask on, and --yes was not given; nothing was written",
            )
            .with_hint(format!(
                "review with --dry-run, then run: {}",
                equivalent_command(&ch)
            )));
        }
        if verbose {
            eprint!("{}", built.plan.diff());
        }
        if !wizard::confirm("Write these files?")? {
            say!(args.json, "nothing was written");
            return Ok(1);
        }
    }
    // Under the lock: a second run waits for the first, an interrupted earlier run is
    // finished first, and the plan is made again on what the files hold now.
    let session = crate::setup::journal::Session::begin(&paths)?;
    session.report();
    built = build_plan(&paths, &ch, &host)?;
    let run = apply(
        &built.plan,
        Some(Record {
            runs_dir: &runs,
            command: "setup",
        }),
    )?;
    if let Some(m) = &run {
        say!(
            args.json,
            "wrote {} file(s); `cclocal undo` takes them back (run {})",
            m.entries.len(),
            m.id
        );
    }
    if args.system_root.is_none() {
        for action in &built.post {
            let applies = match action {
                crate::setup::PostAction::SystemdReload => this_os == TargetOs::Linux,
                crate::setup::PostAction::LaunchctlBootstrap { .. } => this_os == TargetOs::Macos,
                crate::setup::PostAction::SystemdUserStart { .. } => this_os == TargetOs::Linux,
            };
            if applies {
                for line in system::perform(action) {
                    say!(args.json, "{line}");
                }
            }
        }
    }
    for n in &built.plan.notes {
        say!(args.json, "note: {n}");
    }
    if args.warm {
        eprintln!("loading {} (keep-alive {})…", ch.model, ch.keep_alive);
        crate::setup::server_api::warm(
            &ch.server_url,
            &ch.model,
            &ch.keep_alive,
            Duration::from_secs(600),
        )?;
        say!(
            args.json,
            "{} is loaded and stays for {}",
            ch.model,
            ch.keep_alive
        );
    }
    if ch.has(Part::Launcher) {
        say!(
            args.json,
            "start Claude Code with: {}",
            sh_quote(&paths.launcher(&ch.launcher_name).display().to_string())
        );
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json(&built, run.as_ref(), true)).expect("json")
        );
    }
    Ok(0)
}

/// A typical turn's time at the chosen context from the newest saved `cclocal bench` of the
/// model (`predict::quote`, the doctor's sentence), and the line to show: the quote, or how
/// to get one.
fn turn_quote(paths: &Paths, ch: &Choices) -> (Option<crate::predict::quote::Quote>, String) {
    use crate::predict::quote;
    let gguf = ch
        .llama_server
        .as_ref()
        .map(|l| l.model_path.display().to_string());
    let keys: Vec<String> = std::iter::once(ch.model.clone())
        .chain(gguf.clone())
        .collect();
    let q = quote::find_bench(&paths.state_dir, &keys)
        .and_then(|b| quote::choose(ch.context, None, Some(&b), Some(&ch.kv_cache_type)));
    let line = match &q {
        Some(q) => quote::sentence(q),
        None => quote::hint(&gguf.unwrap_or_else(|| ch.model.clone())),
    };
    (q, line)
}

/// The llama-server parts of the choices: the GGUF file (`--model`), the binary
/// (`--llama-server`, the previous setup's, or PATH) and the log file. `here`: the server
/// runs on this machine, so the files must exist here.
fn llama_server_choices(
    args: &SetupArgs,
    prev: Option<&SetupConfig>,
    paths: &Paths,
    here: bool,
) -> Result<LlamaServer> {
    let prev_ls = prev.and_then(|p| p.llama_server.as_ref());
    let model_path = match (&args.model, prev_ls) {
        (Some(m), _) => PathBuf::from(m),
        (None, Some(l)) => PathBuf::from(&l.model_path),
        (None, None) => {
            return Err(Error::usage("no model given")
                .with_hint("pass --model PATH.gguf, the GGUF file llama-server serves"))
        }
    };
    let model_path = if here {
        if !model_path.is_file() {
            return Err(Error::not_found("the model file does not exist")
                .with_subject(model_path.display().to_string())
                .with_hint("pass --model PATH.gguf, the GGUF file llama-server serves"));
        }
        std::path::absolute(&model_path).map_err(|e| Error::io(&model_path, "resolve", e))?
    } else if model_path.is_absolute() {
        model_path
    } else {
        return Err(
            Error::usage("the model path must be absolute on the server host")
                .with_subject(model_path.display().to_string()),
        );
    };
    let binary = match (&args.llama_server, here) {
        (Some(p), true) => llama_server::find_binary(Some(p), None)?,
        (Some(p), false) if p.is_absolute() => p.clone(),
        (Some(p), false) => {
            return Err(
                Error::usage("--llama-server must be an absolute path on the server host")
                    .with_subject(p.display().to_string()),
            )
        }
        (None, here) => match prev_ls.map(|l| PathBuf::from(&l.binary)) {
            Some(b) if !here || llama_server::find_binary(Some(&b), None).is_ok() => b,
            _ if here => llama_server::find_binary(None, std::env::var_os("PATH").as_deref())?,
            _ => {
                return Err(
                    Error::usage("the llama-server binary on the server host is unknown")
                        .with_hint("pass --llama-server PATH (its absolute path on that machine)"),
                )
            }
        },
    };
    Ok(LlamaServer {
        binary,
        model_path,
        log_file: paths.state_dir.join("llama-server.log"),
    })
}

/// `cclocal setup --server lmstudio|vllm`: the Claude Code launcher and settings for the
/// server, and the server's own start script (`lms load … --context-length N`, or the
/// `vllm serve` line) in cclocal's server folder; nothing of the server's own files is
/// written (docs/servers.md "Setup for LM Studio and vLLM").
fn run_backend(args: &SetupArgs, kind: crate::server::ServerKind, verbose: bool) -> Result<i32> {
    use crate::server::{ServerKind, ServerUrl};
    use crate::setup::plan::{FileChange, ModeRule};
    use crate::setup::{lmstudio, vllm};
    let paths = Paths::from_env()?;
    let prev = config::load(&paths.config_toml())?.filter(|p| p.server.kind == kind.name());
    let given = args
        .host
        .clone()
        .or_else(|| prev.as_ref().map(|p| p.server.url.clone()))
        .unwrap_or_else(|| format!("http://127.0.0.1:{}", kind.default_port()));
    let url = ServerUrl::parse_for(&given, Some(kind))?;
    let (server_url, remote) = normalize_server(&url.to_url())?;
    let model = args
        .model
        .clone()
        .or_else(|| prev.as_ref().map(|p| p.model.name.clone()))
        .ok_or_else(|| {
            Error::usage("no model given").with_hint(match kind {
                ServerKind::LmStudio => "pass --model KEY, LM Studio's model key (`lms ls` lists them), e.g. qwen/qwen3-coder-30b",
                _ => "pass --model MODEL, what vLLM serves (a Hugging Face repo id), e.g. Qwen/Qwen3-Coder-30B-A3B-Instruct",
            })
        })?;
    crate::setup::choices::check_model(&model)?;
    let budget = detect_budget(args.memory, args.mac_ram);
    // What the running server says about the model (format, served names), when it answers.
    let served = crate::server::served_model(
        &server_url,
        Some(kind),
        Some(&model),
        Duration::from_secs(3),
    )
    .ok();
    // A remembered context belongs to the remembered model.
    let remembered = prev
        .as_ref()
        .filter(|p| p.model.name == model)
        .map(|p| p.model.context);
    let context = match (args.ctx.or(remembered), kind) {
        (Some(c), _) => c,
        (None, ServerKind::Vllm) => {
            eprintln!("note: vLLM's memory is its own (--gpu-memory-utilization), so cclocal does not plan it: --max-model-len {} (pass --ctx to change it)", crate::planner::RECOMMENDED_CONTEXT);
            crate::planner::RECOMMENDED_CONTEXT
        }
        (None, _) => {
            let mlx = served
                .as_ref()
                .and_then(|s| s.format.clone())
                .filter(|f| f == "mlx");
            let gguf = (!remote)
                .then(|| lmstudio::local_gguf(&paths.home, &model))
                .flatten()
                .or_else(|| served.as_ref().and_then(|s| s.gguf_path.clone()));
            let Some(gguf) = gguf.filter(|_| mlx.is_none()) else {
                return Err(Error::usage(match mlx {
                    Some(_) => format!("{model} is an MLX model: cclocal plans contexts from GGUF files only"),
                    None => format!("cannot plan the context: no GGUF for {model} in LM Studio's models folder ({})", crate::server::lmstudio::models_dir(&paths.home).display()),
                })
                .with_hint("pass --ctx TOKENS (`lms load KEY --estimate-only --context-length N` shows LM Studio's own estimate)"));
            };
            let m = describe_model(&gguf.display().to_string(), None)?;
            let p = planned(&m.desc, Some("f16"), true, &budget, None)?;
            let (c, _) = decide(&p, &m.desc, &budget)?;
            eprintln!(
                "planned context: {c} tokens for {} (f16 KV cache, LM Studio's default; {})",
                model,
                gguf.display()
            );
            c
        }
    };
    if let Some(s) = &served {
        if kind == ServerKind::Vllm && !crate::server::same_model(&s.name, &model) {
            eprintln!(
                "note: the running vLLM serves {:?}; restart it with the line below",
                s.name
            );
        }
    }
    let claude_version = match &args.claude_version {
        Some(v) => v.parse::<Version>()?,
        None => installed_version().unwrap_or(LATEST_KNOWN),
    };
    let mut parts: Vec<Part> = if !args.only.is_empty() {
        args.only.clone()
    } else {
        prev.as_ref()
            .map(|p| p.wrote.iter().filter_map(|w| Part::parse(w)).collect())
            .unwrap_or_else(|| Part::ALL.to_vec())
    };
    parts.retain(|p| !args.skip.contains(p));
    let ch = Choices {
        server_url: server_url.clone(),
        remote,
        model: model.clone(),
        context,
        kv_cache_type: "f16".into(),
        flash_attention: true,
        keep_alive: crate::planner::DEFAULT_KEEP_ALIVE.into(),
        launcher_name: launcher_name(args, prev.as_ref()),
        auth_token: auth_token(args, kind),
        claude_version,
        target: args.target.unwrap_or_else(TargetOs::this),
        parts: parts
            .iter()
            .copied()
            .filter(|p| *p != Part::Server)
            .collect(),
        llama_server: None,
    };
    ch.validate()?;
    let host = Host {
        os: TargetOs::this(),
        is_root: false,
        uid: system::uid(),
        system_root: PathBuf::from("/"),
        app_context_length: None,
        brew_service: None,
    };
    let mut built = build_plan(&paths, &ch, &host)?;
    let script = paths.server_dir().join(match kind {
        ServerKind::LmStudio => lmstudio::SCRIPT,
        _ => vllm::SCRIPT,
    });
    let (bytes, start_line) = match kind {
        ServerKind::LmStudio => {
            let s = lmstudio::LmStudioStart {
                key: model.clone(),
                context,
                port: url.port,
                gpu: budget.gpu || ch.target == TargetOs::Macos,
            };
            (lmstudio::script(&s), lmstudio::load_line(&s))
        }
        _ => {
            let s = vllm::VllmServe {
                model: model.clone(),
                served_name: model.clone(),
                context,
                port: url.port,
            };
            (vllm::script(&s), vllm::line(&s))
        }
    };
    let with_server = parts.contains(&Part::Server);
    if with_server {
        built.plan.push(FileChange::write(
            &script,
            bytes,
            ModeRule::Exact(0o755),
            &format!("{} start script", kind.label()),
        )?);
    }
    let mut cfg = built.config.clone();
    cfg.server.kind = kind.name().into();
    cfg.wrote = parts.iter().map(|p| p.name().to_string()).collect();
    let cfg_path = paths.config_toml();
    built.plan.changes.retain(|c| c.path != cfg_path);
    built.plan.push(FileChange::write(
        &cfg_path,
        cfg.to_toml().into_bytes(),
        ModeRule::Exact(0o644),
        "cclocal configuration",
    )?);
    let rec = match crate::planner::advise_version(ch.claude_version, ch.context, &ch.model) {
        crate::planner::ClaudeAdvice::Settings { rec, .. } => rec,
        crate::planner::ClaudeAdvice::Impossible { why, would, .. } => {
            return Err(
                Error::usage(format!("no Claude Code setting can work: {why}")).with_hint(would),
            )
        }
    };
    println!(
        "cclocal setup: {} on {} ({}), context {} tokens, Claude Code {} (effective window {}, compacts at {})",
        ch.model, ch.server_url, kind.label(), ch.context, ch.claude_version, rec.calc.effective_window, rec.calc.autocompact_threshold
    );
    println!("the server's command: {start_line}");
    print!("{}", built.plan.summary());
    if args.dry_run {
        print!("{}", built.plan.diff());
        println!("dry run: nothing was written");
        return Ok(0);
    }
    if built.plan.is_noop() {
        println!("nothing to change: every file is already as planned");
        return Ok(0);
    }
    if !args.yes {
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        if !interactive {
            return Err(Error::usage(
                "no terminal to ask on, and --yes was not given; nothing was written",
            )
            .with_hint("review with --dry-run, then add --yes"));
        }
        if verbose {
            eprint!("{}", built.plan.diff());
        }
        if !wizard::confirm("Write these files?")? {
            println!("nothing was written");
            return Ok(1);
        }
    }
    let runs = paths.runs_dir();
    if let Some(m) = apply(
        &built.plan,
        Some(Record {
            runs_dir: &runs,
            command: "setup",
        }),
    )? {
        println!(
            "wrote {} file(s); `cclocal undo` takes them back (run {})",
            m.entries.len(),
            m.id
        );
    }
    for n in &built.plan.notes {
        println!("note: {n}");
    }
    if with_server {
        let q = sh_quote(&script.display().to_string());
        match (kind, remote) {
            (ServerKind::LmStudio, false) => {
                println!("start LM Studio's server and load the model with: sh {q}")
            }
            (ServerKind::LmStudio, true) => println!(
                "on the LM Studio machine, run: {start_line}   (or copy {q} there and run it)"
            ),
            (_, false) => println!("start vLLM with: sh {q}   ({start_line})"),
            (_, true) => println!("on the vLLM machine, run: {start_line}"),
        }
    }
    if ch.has(Part::Launcher) {
        println!(
            "start Claude Code with: {}",
            sh_quote(&paths.launcher(&ch.launcher_name).display().to_string())
        );
    }
    Ok(0)
}
