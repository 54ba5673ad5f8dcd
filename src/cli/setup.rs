//! `cclocal setup`: configure the Ollama server, a Claude Code launcher and Claude Code's
//! onboarding flag in one step, through the plan → apply engine (`crate::setup`).

use super::args;
use crate::claude::LATEST_KNOWN;
use crate::error::{Error, Result};
use crate::runtime::detect_budget;
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
    /// Studio model key), vllm or vllm-mlx (--model is what the server serves, and the name
    /// Claude Code sends).
    #[arg(long, value_name = args::KIND, value_parser = args::setup_server_kinds())]
    pub server: Option<crate::server::ServerKind>,
    /// The llama-server binary (default: `llama-server` on PATH).
    #[arg(long, value_name = "PATH")]
    pub llama_server: Option<PathBuf>,
    /// The server Claude Code talks to: a URL or HOST[:PORT]. Default: the order of every
    /// command (`cclocal --help`): ANTHROPIC_BASE_URL, then the previous setup's, then
    /// $OLLAMA_HOST, then http://127.0.0.1:11434 (llama-server: http://127.0.0.1:8080, where
    /// setup makes it listen).
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
    #[arg(long = "kv-type", value_name = args::KV_TYPE, value_parser = args::kv_types(), alias = "kv-cache-type", alias = "kv")]
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
    /// Plan the Claude Code settings for this version (default: the installed one, else
    /// config.toml's, else the newest known).
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
    /// The token the launcher sends (Ollama ignores it). Default: $CCLOCAL_AUTH_TOKEN, else
    /// the token the previous setup wrote, else the server kind's name. On a command line it
    /// is visible to other users (`ps`): prefer --auth-token-file or $CCLOCAL_AUTH_TOKEN.
    #[arg(long, value_name = "TOKEN", conflicts_with = "auth_token_file")]
    pub auth_token: Option<String>,
    /// Read the token from this file's first line (`-`: standard input).
    #[arg(long, value_name = "FILE")]
    pub auth_token_file: Option<PathBuf>,
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
    /// Do not run `cclocal verify` at the end (it runs the installed Claude Code through the
    /// new launcher against a loopback stub, a few seconds).
    #[arg(long)]
    pub no_verify: bool,
    /// Install system files (the systemd drop-in) under this directory instead of `/`,
    /// as a packager's DESTDIR; no service is restarted.
    #[arg(long, value_name = "DIR", hide = true)]
    pub system_root: Option<PathBuf>,
}

/// Fills the draft from flags, then the previous configuration, then defaults.
fn draft(args: &SetupArgs, prev: Option<&SetupConfig>) -> Result<Draft> {
    // The one order every command uses (`crate::server::resolve`); the previous setup's
    // server is config.toml's.
    let (url, shown, source) = crate::setup::resolve::server(
        args.host.as_deref(),
        args.server,
        Some(prev.map(|p| p.server.url.as_str())),
    );
    note_source(source, &shown);
    let server = match url {
        Ok(u) => normalize_server(&u.to_url())?.0,
        Err(e) => {
            let mut err =
                Error::new(e.kind, format!("{}: {}", source.name(), e.message)).with_subject(shown);
            err.hint = e.hint;
            return Err(err);
        }
    };
    let same_model =
        args.model.is_none() || args.model.as_deref() == prev.map(|p| p.model.name.as_str());
    // Only what the user chose is kept; what the planner chose is planned again.
    let chose = prev.map(|p| p.chose(same_model)).unwrap_or_default();
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
                    && chose.context
                    && args
                        .kv_cache_type
                        .as_ref()
                        .map_or(true, |k| *k == p.server.kv_cache_type)
            })
            .map(|p| p.model.context)
        }),
        kv_cache_type: args.kv_cache_type.clone().or_else(|| {
            prev.filter(|_| chose.kv_cache_type)
                .map(|p| p.server.kv_cache_type.clone())
        }),
        flash_attention: args
            .flash_attention
            .or(prev
                .filter(|_| chose.flash_attention)
                .map(|p| p.server.flash_attention))
            .unwrap_or(true),
        keep_alive: args
            .keep_alive
            .clone()
            .or_else(|| prev.map(|p| p.server.keep_alive.clone()))
            .unwrap_or_else(|| crate::planner::DEFAULT_KEEP_ALIVE.into()),
        parts,
    })
}

/// Says where the server's address came from when the environment chose it (the one
/// order, `crate::server::resolve`), so a shell's `ANTHROPIC_BASE_URL` or `OLLAMA_HOST` is
/// never a silent choice; `--host` overrides it.
fn note_source(source: crate::server::resolve::Source, shown: &str) {
    use crate::server::resolve::Source;
    if matches!(source, Source::AnthropicBaseUrl | Source::OllamaHost) {
        crate::teprintln!(
            "note: the server is {shown}, from ${} (pass --host to choose another)",
            source.name()
        );
    }
}

/// What the user chose in this run (flags, the wizard's changed answers) or chose before
/// (config.toml's `[chosen]`, for values this run keeps): config.toml records it, and a later
/// setup re-plans the rest.
fn chosen(
    args: &SetupArgs,
    prev: Option<&SetupConfig>,
    d: &Draft,
    asked: &Draft,
) -> config::Chosen {
    let same_model =
        args.model.is_none() || args.model.as_deref() == prev.map(|p| p.model.name.as_str());
    let before = prev.map(|p| p.chose(same_model)).unwrap_or_default();
    config::Chosen {
        context: args.ctx.is_some()
            || asked.context != d.context
            || (before.context && d.context.is_some()),
        kv_cache_type: args.kv_cache_type.is_some()
            || asked.kv_cache_type != d.kv_cache_type
            || (before.kv_cache_type && d.kv_cache_type.is_some()),
        flash_attention: args.flash_attention.is_some()
            || asked.flash_attention != d.flash_attention
            || before.flash_attention,
        memory_bytes: args
            .memory
            .or(args.mac_ram.map(|r| crate::memory::mac_gpu_budget(r).bytes))
            .or(before.memory_bytes),
    }
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
/// Outside text (model names, paths, diffs, the service manager's words) is made safe for
/// the terminal (`crate::term::clean_text`).
macro_rules! say {
    ($json:expr, $($t:tt)*) => {
        if $json { crate::teprintln!($($t)*) } else { crate::tprintln!($($t)*) }
    };
}
macro_rules! say_raw {
    ($json:expr, $($t:tt)*) => {
        if $json { crate::teprint!($($t)*) } else { crate::tprint!($($t)*) }
    };
}

/// setup's `--json` report, for every server kind (docs/safety.md, "Machine-readable
/// output").
fn json_report(
    dry_run: bool,
    runs: &std::path::Path,
    built: &crate::setup::Built,
    run: Option<&crate::setup::manifest::Manifest>,
    applied: bool,
) -> serde_json::Value {
    serde_json::json!({
        "command": "setup",
        "dry_run": dry_run,
        "applied": applied,
        "run_id": run.map(|m| m.id.clone()),
        "run_dir": run.map(|m| runs.join(&m.id).display().to_string()),
        "changes": built.plan.to_json(run.map(|m| (runs, m))),
        "notes": built.plan.notes,
    })
}

/// The launcher's name: `--launcher-name`, else the previous setup's, else `claude-local`.
fn launcher_name(args: &SetupArgs, prev: Option<&SetupConfig>) -> String {
    args.launcher_name
        .clone()
        .or_else(|| prev.map(|p| p.claude.launcher_name.clone()))
        .unwrap_or_else(|| "claude-local".into())
}

/// The environment variable setup takes the token from (never a command line).
pub const TOKEN_ENV: &str = "CCLOCAL_AUTH_TOKEN";

/// Where the token came from, so that the command setup prints reproduces it without
/// showing it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TokenFrom {
    /// `--auth-token VALUE` or `--auth-token-file -`: only that command line had it.
    Given,
    /// `--auth-token-file PATH`.
    File(PathBuf),
    /// `$CCLOCAL_AUTH_TOKEN`, the previous setup's files, or the placeholder: a re-run
    /// without a token flag finds the same one.
    Found,
}

/// The longest token file read (a token is one short line).
const TOKEN_FILE_CAP: u64 = 64 * 1024;

fn read_token_file(p: &std::path::Path) -> Result<String> {
    use std::io::Read;
    let mut raw = Vec::new();
    if p == std::path::Path::new("-") {
        std::io::stdin()
            .take(TOKEN_FILE_CAP)
            .read_to_end(&mut raw)
            .map_err(|e| Error::io(p, "read the token from standard input", e))?;
    } else {
        let m = std::fs::metadata(p).map_err(|e| Error::io(p, "read the token file", e))?;
        if !m.is_file() {
            return Err(Error::usage("the token file is not a regular file")
                .with_subject(p.display().to_string()));
        }
        std::fs::File::open(p)
            .and_then(|f| f.take(TOKEN_FILE_CAP).read_to_end(&mut raw))
            .map_err(|e| Error::io(p, "read the token file", e))?;
    }
    let text = String::from_utf8(raw).map_err(|_| {
        Error::usage("the token file is not UTF-8 text").with_subject(p.display().to_string())
    })?;
    let token = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if token.is_empty() {
        return Err(Error::usage("the token file's first line is empty")
            .with_subject(p.display().to_string()));
    }
    Ok(token.to_string())
}

/// The secret token the previous setup wrote (the Claude Code settings file the launcher
/// passes, else the launcher), when it is not a placeholder.
fn previous_token(paths: &Paths, launcher_name: &str) -> Option<String> {
    use std::io::Read;
    for p in [paths.claude_settings(), paths.launcher(launcher_name)] {
        let Ok(m) = std::fs::metadata(&p) else {
            continue;
        };
        if !m.is_file() {
            continue;
        }
        let mut raw = Vec::new();
        if std::fs::File::open(&p)
            .and_then(|f| f.take(1 << 20).read_to_end(&mut raw))
            .is_err()
        {
            continue;
        }
        let text = String::from_utf8_lossy(&raw);
        let found = match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(v) => v["env"]["ANTHROPIC_AUTH_TOKEN"]
                .as_str()
                .map(str::to_string),
            Err(_) => text.lines().find_map(|l| {
                l.trim_start()
                    .strip_prefix("export ANTHROPIC_AUTH_TOKEN=")
                    .and_then(|_| crate::secret::values_in(l).into_iter().next())
            }),
        };
        if let Some(t) =
            found.filter(|t| !t.is_empty() && !crate::setup::build::is_placeholder_token(t))
        {
            return Some(t);
        }
    }
    None
}

/// The token Claude Code sends: `--auth-token` or `--auth-token-file`, else
/// `$CCLOCAL_AUTH_TOKEN`, else the secret token the previous setup wrote (a re-run keeps
/// it, and with it the files' private modes), else the server kind's name (a placeholder
/// local servers ignore; `setup::build::is_placeholder_token` keeps it out of the secrets).
fn auth_token(
    args: &SetupArgs,
    kind: crate::server::ServerKind,
    paths: &Paths,
    launcher_name: &str,
) -> Result<(String, TokenFrom)> {
    if let Some(t) = &args.auth_token {
        return Ok((t.clone(), TokenFrom::Given));
    }
    if let Some(p) = &args.auth_token_file {
        let t = read_token_file(p)?;
        let from = if p == std::path::Path::new("-") {
            TokenFrom::Given
        } else {
            TokenFrom::File(std::path::absolute(p).unwrap_or_else(|_| p.clone()))
        };
        return Ok((t, from));
    }
    if let Some(t) = std::env::var(TOKEN_ENV).ok().filter(|t| !t.is_empty()) {
        return Ok((t, TokenFrom::Found));
    }
    Ok((
        previous_token(paths, launcher_name).unwrap_or_else(|| kind.name().into()),
        TokenFrom::Found,
    ))
}

/// The part of the printed command that brings the token back, and what to tell the user
/// when the command alone cannot (a secret token is never printed; a placeholder is).
fn token_flag(from: &TokenFrom, token: &str) -> (String, Option<String>) {
    match from {
        TokenFrom::Given if crate::setup::build::is_placeholder_token(token) => {
            (format!(" --auth-token {}", sh_quote(token)), None)
        }
        TokenFrom::File(p) => (
            format!(" --auth-token-file {}", sh_quote(&p.display().to_string())),
            None,
        ),
        TokenFrom::Found => (String::new(), None),
        TokenFrom::Given => (
            String::new(),
            Some(format!(
                "cclocal does not print the token: put it in ${TOKEN_ENV} (`read -rs {TOKEN_ENV} && export {TOKEN_ENV}`) or add --auth-token-file FILE"
            )),
        ),
    }
}

pub fn run(args: &SetupArgs, verbose: bool) -> Result<i32> {
    // Every question setup asks the server shares one budget, as the doctor's probes do.
    crate::setup::server_api::share_budget(crate::setup::server_api::SETUP_NET_BUDGET);
    // Without --server, the kind the previous setup configured.
    let kind = args.server.or_else(|| {
        let p = Paths::from_env().ok()?;
        let c = config::load(&p.config_toml()).ok()??;
        Some(c.server.kind)
    });
    match kind {
        None
        | Some(crate::server::ServerKind::Ollama)
        | Some(crate::server::ServerKind::LlamaServer) => {}
        Some(
            k @ (crate::server::ServerKind::LmStudio
            | crate::server::ServerKind::Vllm
            | crate::server::ServerKind::VllmMlx),
        ) => return run_backend(args, k, verbose),
        Some(k) => {
            return Err(
                Error::usage(format!("setup does not configure {} yet", k.label()))
                    .with_hint("use --server ollama, llama-server, lmstudio, vllm or vllm-mlx"),
            )
        }
    }
    let paths = Paths::from_env()?;
    let prev = config::load(&paths.config_toml())?;
    let interactive = !args.yes
        && !args.dry_run
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal();
    use crate::server::ServerKind;
    let llama = kind == Some(ServerKind::LlamaServer);
    let kind = if llama {
        ServerKind::LlamaServer
    } else {
        ServerKind::Ollama
    };
    // The previous run's server settings count only for the same kind of server.
    let prev_same = prev.as_ref().filter(|p| p.server.kind == kind);
    // The budget the user chose, now or in an earlier run; else this machine's.
    let remembered_budget = prev_same
        .and_then(|p| p.chosen.as_ref())
        .and_then(|c| c.memory_bytes);
    let budget = detect_budget(args.memory.or(remembered_budget), args.mac_ram);
    let mut d = draft(args, prev_same)?;
    if llama && args.host.is_none() && prev_same.is_none() {
        d.server = format!("http://127.0.0.1:{}", llama_server::DEFAULT_PORT);
    }
    let drafted = d.clone();
    if interactive && !llama {
        wizard::ask(&mut d, &budget)?;
    }
    let chosen = chosen(args, prev_same, &d, &drafted);
    let (server_url, remote) = if llama {
        normalize_server_port(&d.server, llama_server::DEFAULT_PORT)?
    } else {
        normalize_server(&d.server)?
    };
    if !llama {
        // A server that takes the connection and never answers is named as timed out, not
        // read as "no such model" after every probe waited out its own timeout.
        crate::server::check_answers(&server_url, None, crate::server::ANSWER_TIMEOUT)?;
    }
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
            Err(_) => crate::teprintln!(
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
    let budget_known = !remote || chosen.memory_bytes.is_some();
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
            crate::teprintln!(
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
                match describe_model(&model_ref, show_from) {
                    Ok(m) => Some(m),
                    // The KV cache type is chosen from the model: a model file here that
                    // cannot be read does not silently change it (docs/planner.md); a
                    // model that is not on this machine gets the unknown-budget type, said
                    // below.
                    Err(e)
                        if d.kv_cache_type.is_none()
                            && !args.force
                            && (std::path::Path::new(&model_ref).is_file()
                                || matches!(
                                    e.kind,
                                    crate::error::ErrorKind::Io | crate::error::ErrorKind::Parse
                                )) =>
                    {
                        return Err(Error::new(
                            e.kind,
                            format!(
                                "cannot read the model to choose its KV cache type: {}",
                                e.message
                            ),
                        )
                        .with_subject(model_ref.clone())
                        .with_hint(
                            "make the model readable here (a .gguf path or the Ollama store), \
                             or choose the cache yourself with --kv-type TYPE (f16 is always safe)",
                        ));
                    }
                    Err(e) => {
                        crate::teprintln!(
                            "warning: cannot read the model here ({}), so the KV cache type is {} (choose it with --kv-type)",
                            e.message,
                            d.kv_cache_type.clone().unwrap_or_else(|| {
                                crate::planner::unknown_budget_kv_type(d.flash_attention)
                                    .name()
                                    .into()
                            })
                        );
                        None
                    }
                }
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
                        crate::teprintln!("warning: {w}");
                    }
                    // The planner's context: the one rounding rule plan prints with.
                    match decide(&p, &m.desc, &budget) {
                        Ok(ckv) => ckv,
                        Err(e) if args.force => {
                            crate::teprintln!("warning (--force): {}", e.message);
                            (
                                crate::planner::served_context(c),
                                d.kv_cache_type.clone().unwrap_or_else(|| {
                                    crate::planner::unknown_budget_kv_type(d.flash_attention)
                                        .name()
                                        .into()
                                }),
                            )
                        }
                        Err(e) => return Err(e),
                    }
                }
                None => (
                    crate::planner::served_context(c),
                    d.kv_cache_type.clone().unwrap_or_else(|| {
                        crate::planner::unknown_budget_kv_type(d.flash_attention)
                            .name()
                            .into()
                    }),
                ),
            }
        }
    };
    let (claude_version, _) =
        crate::setup::resolve::claude_version(args.claude_version.as_deref())?;
    let (token, token_from) = auth_token(
        args,
        if llama {
            crate::server::ServerKind::LlamaServer
        } else {
            crate::server::ServerKind::Ollama
        },
        &paths,
        &launcher_name(args, prev.as_ref()),
    )?;
    let ch = Choices {
        server_url,
        remote,
        model,
        context,
        kv_cache_type,
        flash_attention: d.flash_attention,
        keep_alive: d.keep_alive.clone(),
        launcher_name: launcher_name(args, prev.as_ref()),
        auth_token: token.clone(),
        claude_version,
        target,
        parts: d.parts.clone(),
        llama_server: ls,
        chosen,
    };
    ch.validate()?;
    let this_os = TargetOs::this();
    let delegated = crate::privilege::root_does_system_part();
    let host = Host {
        os: this_os,
        // Root on its own HOME installs the drop-in itself; setup's user process (root on
        // a user's HOME, `crate::privilege`) has root install it after its own files.
        is_root: args.system_root.is_some() || system::uid() == 0 || delegated,
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
    let mut sys = system_part(&mut built, &ch, &host, delegated);
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
        let mut v = json_report(args.dry_run, &runs, built, run, applied);
        v["turn_time"] = serde_json::json!(turn_time);
        v
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
        if sys == SystemPart::ToRoot {
            send_to_root(args, &ch, None)?;
        }
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
            .with_hint({
                let (flag, note) = token_flag(&token_from, &ch.auth_token);
                let mut h = format!(
                    "review with --dry-run, then run: {}{flag}",
                    equivalent_command(&ch)
                );
                if let Some(n) = note {
                    h.push_str(&format!(" ({n})"));
                }
                h
            }));
        }
        if verbose {
            crate::teprint!("{}", built.plan.diff());
        }
        if !wizard::confirm("Write these files?")? {
            say!(args.json, "nothing was written");
            return Ok(1);
        }
    }
    // Under the lock: a second run waits for the first, an interrupted earlier run is
    // finished first, and the plan is made again on what the files hold now.
    let session = crate::setup::journal::Session::begin(&paths, true)?;
    session.report();
    built = build_plan(&paths, &ch, &host)?;
    sys = system_part(&mut built, &ch, &host, delegated);
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
    let mut server_down = false;
    if args.system_root.is_none() {
        for action in &built.post {
            let applies = match action {
                crate::setup::PostAction::SystemdReload => this_os == TargetOs::Linux,
                crate::setup::PostAction::LaunchctlBootstrap { .. } => this_os == TargetOs::Macos,
                crate::setup::PostAction::SystemdUserStart { .. } => this_os == TargetOs::Linux,
            };
            if applies {
                for line in system::perform(action) {
                    if *action == crate::setup::PostAction::SystemdReload
                        && system::is_failure(&line)
                    {
                        // The drop-in is there, but Ollama does not run with it yet.
                        sys = SystemPart::NotRunning;
                    }
                    if matches!(action, crate::setup::PostAction::SystemdUserStart { .. })
                        && system::did_not_start(&line)
                    {
                        // The unit is written, but llama-server does not run from it.
                        server_down = true;
                    }
                    say!(args.json, "{line}");
                }
            }
        }
    }
    for n in &built.plan.notes {
        say!(args.json, "note: {n}");
    }
    if args.warm {
        crate::teprintln!("loading {} (keep-alive {})…", ch.model, ch.keep_alive);
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
    let start = ch.has(Part::Launcher).then(|| {
        format!(
            "start Claude Code with: {}",
            sh_quote(&paths.launcher(&ch.launcher_name).display().to_string())
        )
    });
    match (&sys, &start) {
        // Said by root once the drop-in is in place.
        (SystemPart::ToRoot, _) => {}
        (SystemPart::Missing | SystemPart::NotRunning, Some(line)) => {
            say!(args.json, "once Ollama runs with those settings, {line}")
        }
        (_, Some(line)) if server_down => {
            say!(args.json, "once llama-server runs (see above), {line}")
        }
        (_, Some(line)) => say!(args.json, "{line}"),
        (_, None) => {}
    }
    let verified = final_verify(args, &paths, &ch, args.json);
    if args.json {
        let mut v = json(&built, run.as_ref(), true);
        if let Some(r) = &verified {
            v["verify"] = serde_json::to_value(r).expect("json");
        }
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
    }
    if sys == SystemPart::ToRoot {
        send_to_root(args, &ch, start)?;
    }
    Ok(match verified {
        Some(r) if !r.ok && observed_any(&r) => 1,
        _ => 0,
    })
}

/// Adds `env` to the `env` of the launcher's settings file, as a recorded run of its own
/// (planned, applied atomically, undoable).
fn write_observed(paths: &Paths, env: &crate::claude::EnvMap) -> Result<()> {
    use crate::setup::plan::{FileChange, ModeRule, Plan};
    let path = paths.claude_settings();
    let mut root = crate::claude::settings::read_json_object(&path)
        .map_err(Error::parse)?
        .ok_or_else(|| {
            Error::not_found("the launcher's settings file is missing")
                .with_subject(path.display().to_string())
        })?;
    let mut obj = match root.remove("env") {
        Some(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    for (k, v) in env {
        obj.insert(k.clone(), serde_json::Value::String(v.clone()));
    }
    root.insert("env".into(), serde_json::Value::Object(obj));
    let mut bytes = serde_json::to_vec_pretty(&serde_json::Value::Object(root)).expect("json");
    bytes.push(b'\n');
    let mut plan = Plan::default();
    plan.push(FileChange::write(
        &path,
        bytes,
        ModeRule::KeepOr(0o644),
        "Claude Code settings (as verify observed)",
    )?);
    apply(
        &plan,
        Some(Record {
            runs_dir: &paths.runs_dir(),
            command: "setup",
        }),
    )?;
    Ok(())
}

/// Claude Code made a request to verify's stub at all (a stand-in that only answers
/// `--version` makes none: verify then observed nothing).
fn observed_any(r: &crate::verify::Report) -> bool {
    r.observed.runs.iter().any(|x| !x.calls.is_empty())
}

/// The last step of setup: `cclocal verify` through the launcher just written, when Claude
/// Code is installed (`--no-verify` skips it). Prints one line per item; on a mismatch,
/// what was observed and the command to see why.
fn final_verify(
    args: &SetupArgs,
    paths: &Paths,
    ch: &Choices,
    json: bool,
) -> Option<crate::verify::Report> {
    if args.no_verify || !ch.has(Part::Launcher) {
        return None;
    }
    crate::setup::build::resolve_claude(&paths.launcher(&ch.launcher_name))
        .ok()
        .flatten()?;
    let va = super::verify::VerifyArgs {
        json: false,
        claude: None,
        timeout: 60.0,
    };
    match super::verify::check(&va) {
        Ok(r) if !observed_any(&r) => {
            say!(json, "note: verify could not observe Claude Code: it sent no request to the stub ({}); `cclocal verify` runs the check again", r.observed.runs.first().map(|x| x.stderr_tail.as_str()).filter(|s| !s.is_empty()).unwrap_or("no output"));
            Some(r)
        }
        Ok(r) => {
            say_raw!(json, "{}", super::verify::render(&r, false));
            if let Some(env) = crate::verify::plan::observed_fix(&r) {
                match write_observed(paths, &env) {
                    Ok(()) => {
                        say!(json, "the observed value wins: Claude Code {} does not use the window the version table says, so setup added {} to {} (`cclocal undo` takes it back); verifying again:", r.version, crate::claude::env_line(&env), paths.claude_settings().display());
                        if let Ok(again) = super::verify::check(&va) {
                            say_raw!(json, "{}", super::verify::render(&again, false));
                            return Some(again);
                        }
                    }
                    Err(e) => say!(
                        json,
                        "note: the observed settings could not be written: {}",
                        e.message
                    ),
                }
            }
            if !r.ok {
                say!(json, "Claude Code {} does not do what cclocal planned (above); `cclocal verify --json` shows every observation", r.version);
            }
            Some(r)
        }
        Err(e) => {
            say!(json, "note: verify did not run: {}", e.message);
            None
        }
    }
}

/// Where the `ollama.service` drop-in of a plan goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SystemPart {
    /// No drop-in in the plan (another server, another OS, not root), or written with it.
    Here,
    /// No `ollama.service` on this machine: no drop-in, and the user is told how to run
    /// the server with the settings instead.
    Missing,
    /// Root installs it after this (the user's) process is done (`crate::privilege`).
    ToRoot,
    /// Written, but restarting Ollama with it failed.
    NotRunning,
}

/// Takes the system drop-in out of `built` when `ollama.service` does not exist (with a
/// note saying so and what to run instead), or when root installs it (`delegated`).
fn system_part(
    built: &mut crate::setup::Built,
    ch: &Choices,
    host: &Host,
    delegated: bool,
) -> SystemPart {
    let dropin = crate::paths::systemd_dropin(&host.system_root);
    if !built.plan.changes.iter().any(|c| c.path == dropin) {
        return SystemPart::Here;
    }
    let missing = !system::ollama_service_exists(&host.system_root);
    if !missing && !delegated {
        // Root on its own HOME: written with the rest of the plan.
        return SystemPart::Here;
    }
    built.plan.changes.retain(|c| c.path != dropin);
    built
        .post
        .retain(|p| *p != crate::setup::PostAction::SystemdReload);
    if missing {
        let env: Vec<String> = crate::setup::generate::ollama_env(ch)
            .iter()
            .map(|(k, v)| format!("{k}={}", sh_quote(v)))
            .collect();
        built.plan.notes.push(format!(
            "there is no ollama.service on this machine (looked in {}), so cclocal installed no systemd drop-in; start the Ollama server with these settings yourself:\n    {} ollama serve",
            system::ollama_unit_places(&host.system_root),
            env.join(" ")
        ));
        return SystemPart::Missing;
    }
    built.plan.notes.push(format!(
        "root installs {} once this user's files are written (recorded in root's own {}; `sudo cclocal undo --system` takes it back)",
        dropin.display(),
        Paths::system(&host.system_root).state_dir.display()
    ));
    SystemPart::ToRoot
}

/// What setup's user process asks root to install (`crate::privilege::enter_split`): the
/// Ollama server settings, as values root checks and renders itself, never as file text.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct RootRequest {
    pub context: u64,
    pub kv_cache_type: String,
    pub flash_attention: bool,
    pub keep_alive: String,
    /// The `start Claude Code with: …` line, said once the drop-in is in place.
    pub start: Option<String>,
    pub json: bool,
}

fn send_to_root(args: &SetupArgs, ch: &Choices, start: Option<String>) -> Result<()> {
    let req = RootRequest {
        context: ch.context,
        kv_cache_type: ch.kv_cache_type.clone(),
        flash_attention: ch.flash_attention,
        keep_alive: ch.keep_alive.clone(),
        start,
        json: args.json,
    };
    crate::privilege::send_to_root(&serde_json::to_vec(&req).expect("request serializes"))
}

/// Root's part of a setup on a user's HOME (the parent of `crate::privilege::enter_split`,
/// once the user's process succeeded): checks the settings it was sent, renders the
/// `ollama.service` drop-in itself, installs it only when the service exists, records it
/// in root's own `<root>/var/lib/cclocal`, and restarts the service.
pub fn serve_root_part(args: &SetupArgs, request: &[u8]) -> Result<i32> {
    use crate::setup::plan::{FileChange, ModeRule, Plan};
    let req: RootRequest = serde_json::from_slice(request).map_err(|e| {
        Error::parse(format!(
            "setup's user process sent root a request it cannot read ({e}); nothing was installed as root"
        ))
    })?;
    let root = args
        .system_root
        .clone()
        .unwrap_or_else(|| PathBuf::from("/"));
    let ch = Choices {
        server_url: "http://127.0.0.1:11434".into(),
        remote: false,
        model: "ollama".into(),
        context: req.context,
        kv_cache_type: req.kv_cache_type.clone(),
        flash_attention: req.flash_attention,
        keep_alive: req.keep_alive.clone(),
        launcher_name: "claude-local".into(),
        auth_token: "ollama".into(),
        claude_version: LATEST_KNOWN,
        target: TargetOs::Linux,
        parts: vec![Part::Server],
        llama_server: None,
        chosen: Default::default(),
    };
    ch.validate()?;
    let dropin = crate::paths::systemd_dropin(&root);
    if !system::ollama_service_exists(&root) {
        say!(
            req.json,
            "there is no ollama.service on this machine (looked in {}), so root installed no systemd drop-in",
            system::ollama_unit_places(&root)
        );
        return Ok(1);
    }
    let sys = Paths::system(&root);
    let session = crate::setup::journal::Session::begin(&sys, true)?;
    session.report();
    let mut plan = Plan::default();
    plan.push(FileChange::write(
        &dropin,
        crate::setup::generate::systemd_dropin(&ch)?,
        ModeRule::Exact(0o644),
        "systemd drop-in for ollama.service",
    )?);
    let runs = sys.runs_dir();
    let run = apply(
        &plan,
        Some(Record {
            runs_dir: &runs,
            command: "setup",
        }),
    )?;
    match &run {
        Some(m) => say!(
            req.json,
            "root installed {} (run {} in {}; `sudo cclocal undo --system` takes it back)",
            dropin.display(),
            m.id,
            sys.state_dir.display()
        ),
        None => say!(req.json, "{} is already as planned", dropin.display()),
    }
    let mut running = true;
    if run.is_some() && args.system_root.is_none() {
        for line in system::perform(&crate::setup::PostAction::SystemdReload) {
            running &= !system::is_failure(&line);
            say!(req.json, "{line}");
        }
    }
    if let Some(line) = &req.start {
        let line: String = line.chars().filter(|c| !c.is_control()).collect();
        if running {
            say!(req.json, "{line}");
        } else {
            say!(req.json, "once Ollama runs with those settings, {line}");
        }
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
        // llama-server is handed this file: it must be a model, not any readable file.
        crate::gguf::read_header(&model_path).map_err(|e| {
            Error::new(
                e.kind,
                format!("--model is not a GGUF model file: {}", e.message),
            )
            .with_subject(model_path.display().to_string())
            .with_hint("pass --model PATH.gguf, the GGUF file llama-server serves")
        })?;
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
        (Some(p), true) => {
            let b = llama_server::find_binary(Some(p), None)?;
            llama_server::check_binary(&b)?;
            b
        }
        (Some(p), false) if p.is_absolute() => p.clone(),
        (Some(p), false) => {
            return Err(
                Error::usage("--llama-server must be an absolute path on the server host")
                    .with_subject(p.display().to_string()),
            )
        }
        (None, here) => match prev_ls.map(|l| PathBuf::from(&l.binary)) {
            Some(b) if !here || llama_server::find_binary(Some(&b), None).is_ok() => b,
            _ if here => {
                let b = llama_server::find_binary(None, std::env::var_os("PATH").as_deref())?;
                llama_server::check_binary(&b)?;
                b
            }
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
    let prev = config::load(&paths.config_toml())?.filter(|p| p.server.kind == kind);
    let (url, shown, source) = crate::setup::resolve::server(
        args.host.as_deref(),
        Some(kind),
        Some(prev.as_ref().map(|p| p.server.url.as_str())),
    );
    note_source(source, &shown);
    let url: ServerUrl = url.map_err(|e| {
        let mut err =
            Error::new(e.kind, format!("{}: {}", source.name(), e.message)).with_subject(shown);
        err.hint = e.hint;
        err
    })?;
    let (server_url, remote) = normalize_server(&url.to_url())?;
    crate::server::check_answers(&server_url, Some(kind), crate::server::ANSWER_TIMEOUT)?;
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
    let remembered_budget = prev
        .as_ref()
        .and_then(|p| p.chosen.as_ref())
        .and_then(|c| c.memory_bytes);
    let budget = detect_budget(args.memory.or(remembered_budget), args.mac_ram);
    // What the running server says about the model (format, served names), when it answers.
    let served = crate::server::served_model(
        &server_url,
        Some(kind),
        Some(&model),
        Duration::from_secs(3),
    )
    .ok();
    // A remembered context belongs to the remembered model, and only one the user chose
    // is kept (the planner's is planned again).
    let remembered = prev
        .as_ref()
        .filter(|p| p.model.name == model && p.chose(true).context)
        .map(|p| p.model.context);
    // vLLM loads the model from its `root` (a folder or repo id), vllm-mlx from its command
    // line's model, not from the served name.
    let served_path = served.as_ref().and_then(|s| s.model_path.clone());
    let serve = matches!(kind, ServerKind::Vllm | ServerKind::VllmMlx).then(|| {
        vllm::serve_line(
            kind,
            served_path.as_deref().unwrap_or(&model),
            &model,
            args.ctx.or(remembered),
            served.as_ref().and_then(|s| s.context),
            &url,
        )
    });
    if let Some(s) = &serve {
        for n in &s.notes {
            crate::teprintln!("note: {n}");
        }
    }
    let context = match (args.ctx.or(remembered), kind) {
        (_, ServerKind::Vllm | ServerKind::VllmMlx) => {
            serve.as_ref().map(|s| s.context).unwrap_or_default()
        }
        (Some(c), _) => c,
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
            let kv = crate::planner::kinds::planned_kv_type(kind).map(|t| t.name());
            let p = planned(&m.desc, kv, true, &budget, None)?;
            let (c, kv) = decide(&p, &m.desc, &budget)?;
            crate::teprintln!(
                "planned context: {c} tokens for {} ({kv} KV cache, {}'s default; {})",
                model,
                kind.label(),
                gguf.display()
            );
            c
        }
    };
    if let Some(s) = &served {
        if matches!(kind, ServerKind::Vllm | ServerKind::VllmMlx)
            && !crate::server::same_model(&s.name, &model)
        {
            crate::teprintln!(
                "note: the running {} serves {:?}; restart it with the line below",
                kind.label(),
                s.name
            );
        }
    }
    let (claude_version, _) =
        crate::setup::resolve::claude_version(args.claude_version.as_deref())?;
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
        kv_cache_type: crate::planner::kinds::planned_kv_type(kind)
            .unwrap_or(crate::planner::KvType::DEFAULT)
            .name()
            .into(),
        flash_attention: true,
        keep_alive: crate::planner::DEFAULT_KEEP_ALIVE.into(),
        launcher_name: launcher_name(args, prev.as_ref()),
        auth_token: auth_token(args, kind, &paths, &launcher_name(args, prev.as_ref()))?.0,
        claude_version,
        target: args.target.unwrap_or_else(TargetOs::this),
        parts: parts
            .iter()
            .copied()
            .filter(|p| *p != Part::Server)
            .collect(),
        llama_server: None,
        chosen: {
            let before = prev
                .as_ref()
                .map(|p| p.chose(p.model.name == model))
                .unwrap_or_default();
            crate::setup::config::Chosen {
                context: args.ctx.is_some() || (before.context && remembered.is_some()),
                memory_bytes: args
                    .memory
                    .or(args.mac_ram.map(|r| crate::memory::mac_gpu_budget(r).bytes))
                    .or(before.memory_bytes),
                ..Default::default()
            }
        },
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
    // The plan is made twice: once to show, and again under the lock (on what the files
    // hold then), as for every server kind.
    let script = paths.server_dir().join(match &serve {
        Some(s) => s.script_name,
        None => lmstudio::SCRIPT,
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
            let s = serve.clone().expect("vLLM and vllm-mlx have a serve line");
            (s.script, s.line)
        }
    };
    let with_server = parts.contains(&Part::Server);
    let make = || -> Result<crate::setup::Built> {
        let mut built = build_plan(&paths, &ch, &host)?;
        if with_server {
            built.plan.push(FileChange::write(
                &script,
                bytes.clone(),
                ModeRule::Exact(0o755),
                &format!("{} start script", kind.label()),
            )?);
        }
        let mut cfg = built.config.clone();
        cfg.server.kind = kind;
        cfg.wrote = parts.iter().map(|p| p.name().to_string()).collect();
        let cfg_path = paths.config_toml();
        built.plan.changes.retain(|c| c.path != cfg_path);
        built.plan.push(FileChange::write(
            &cfg_path,
            cfg.to_toml().into_bytes(),
            ModeRule::Exact(0o644),
            "cclocal configuration",
        )?);
        built.plan.guard_secrets();
        Ok(built)
    };
    let mut built = make()?;
    let rec = match crate::planner::advise_version(ch.claude_version, ch.context, &ch.model) {
        crate::planner::ClaudeAdvice::Settings { rec, .. } => rec,
        crate::planner::ClaudeAdvice::Impossible { why, would, .. } => {
            return Err(
                Error::usage(format!("no Claude Code setting can work: {why}")).with_hint(would),
            )
        }
    };
    let json = args.json;
    say!(json,
        "cclocal setup: {} on {} ({}), context {} tokens, Claude Code {} (effective window {}, compacts at {})",
        ch.model, ch.server_url, kind.label(), ch.context, ch.claude_version, rec.calc.effective_window, rec.calc.autocompact_threshold
    );
    say!(json, "the server's command: {start_line}");
    say_raw!(json, "{}", built.plan.summary());
    let runs = paths.runs_dir();
    let report =
        |built: &crate::setup::Built,
         run: Option<&crate::setup::manifest::Manifest>,
         applied: bool| json_report(args.dry_run, &runs, built, run, applied);
    let print_report = |v: serde_json::Value| {
        if json {
            println!("{}", serde_json::to_string_pretty(&v).expect("json"));
        }
    };
    if args.dry_run {
        if !json {
            crate::tprint!("{}", built.plan.diff());
            crate::tprintln!("dry run: nothing was written");
        }
        print_report(report(&built, None, false));
        return Ok(0);
    }
    if built.plan.is_noop() {
        say!(json, "nothing to change: every file is already as planned");
        print_report(report(&built, None, false));
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
            crate::teprint!("{}", built.plan.diff());
        }
        if !wizard::confirm("Write these files?")? {
            say!(json, "nothing was written");
            return Ok(1);
        }
    }
    // Under the lock, as for Ollama and llama-server: a second run waits, an interrupted
    // one is taken back, old runs are pruned, and the plan is made again on what the files
    // hold now.
    let session = crate::setup::journal::Session::begin(&paths, true)?;
    session.report();
    built = make()?;
    let run = apply(
        &built.plan,
        Some(Record {
            runs_dir: &runs,
            command: "setup",
        }),
    )?;
    if let Some(m) = &run {
        say!(
            json,
            "wrote {} file(s); `cclocal undo` takes them back (run {})",
            m.entries.len(),
            m.id
        );
    }
    for n in &built.plan.notes {
        say!(json, "note: {n}");
    }
    if with_server {
        let q = sh_quote(&script.display().to_string());
        match (kind, remote) {
            (ServerKind::LmStudio, false) => {
                say!(
                    json,
                    "start LM Studio's server and load the model with: sh {q}"
                )
            }
            (ServerKind::LmStudio, true) => say!(
                json,
                "on the LM Studio machine, run: {start_line}   (or copy {q} there and run it)"
            ),
            (k, false) => say!(json, "start {} with: sh {q}   ({start_line})", k.label()),
            (k, true) => say!(json, "on the {} machine, run: {start_line}", k.label()),
        }
    }
    if ch.has(Part::Launcher) {
        // setup starts none of these servers: Claude Code works once the line above ran.
        let once = if with_server {
            format!("once {} serves with those settings, ", kind.label())
        } else {
            String::new()
        };
        say!(
            json,
            "{once}start Claude Code with: {}",
            sh_quote(&paths.launcher(&ch.launcher_name).display().to_string())
        );
    }
    print_report(report(&built, run.as_ref(), true));
    Ok(0)
}
