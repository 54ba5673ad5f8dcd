//! `cclocal setup`'s decisions: which server and model, the context and KV cache type,
//! the token, the choices, the plan of files and where the system drop-in goes. The CLI
//! (`cli/setup.rs`) parses the arguments into a [`Request`], asks this module, and prints
//! and applies what it gets back.

use crate::claude::LATEST_KNOWN;
use crate::error::{Error, Result};
use crate::runtime::detect_budget;
use crate::server::llama_server::serve::{self as llama_server, LlamaServer};
use crate::setup::build::{build_plan, Host};
use crate::setup::choices::{
    check_model_on_server, normalize_server, normalize_server_port, Choices, Part, TargetOs,
};
use crate::setup::config::{self, SetupConfig};
use crate::setup::context::{decide, describe_model, planned};
use crate::setup::wizard::{self, Draft};
use crate::setup::{apply, system, Paths, Record};
use crate::shell::quote::sh_quote;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

/// What `cclocal setup` was asked, as its flags say it (`cli/setup.rs` documents each).
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub server: Option<crate::server::ServerKind>,
    pub llama_server: Option<PathBuf>,
    pub host: Option<String>,
    pub model: Option<String>,
    pub ctx: Option<u64>,
    pub kv_type: Option<String>,
    pub flash_attn: Option<bool>,
    pub keep_alive: Option<String>,
    pub launcher_name: Option<String>,
    pub claude_version: Option<crate::claude::Version>,
    pub target: Option<TargetOs>,
    pub only: Vec<Part>,
    pub skip: Vec<Part>,
    pub auth_token: Option<String>,
    pub auth_token_file: Option<PathBuf>,
    pub memory: Option<u64>,
    pub mac_ram: Option<u64>,
    pub dry_run: bool,
    pub json: bool,
    pub yes: bool,
    pub force: bool,
    pub warm: bool,
    pub no_verify: bool,
    pub system_root: Option<PathBuf>,
}

/// Which of setup's two ways a request takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Ollama or llama-server: setup writes the server's own files ([`plan_local`]).
    Local { llama: bool },
    /// LM Studio, vLLM or vllm-mlx: a start script beside the launcher ([`plan_backend`]).
    Backend(crate::server::ServerKind),
}

/// A line setup has to say while it plans: the library hands it to the caller (the CLI
/// prints it, to stderr), in order, and prints nothing itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// `note: …`
    Note(String),
    /// `warning: …`
    Warning(String),
    /// `warning (--force): …`: what `--force` went past.
    Forced(String),
    /// What the planner chose (`planned context: …`), as it stands.
    Planned(String),
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::Note(t) => write!(f, "note: {t}"),
            Note::Warning(t) => write!(f, "warning: {t}"),
            Note::Forced(t) => write!(f, "warning (--force): {t}"),
            Note::Planned(t) => f.write_str(t),
        }
    }
}

/// `--server`, else the kind the previous setup configured, else Ollama; a kind setup does
/// not configure is a usage error.
pub fn route(req: &Request) -> Result<Route> {
    use crate::server::ServerKind;
    // Without --server, the kind the previous setup configured.
    let kind = req.server.or_else(|| {
        let p = Paths::from_env().ok()?;
        let c = config::load(&p.config_toml()).ok()??;
        Some(c.server.kind)
    });
    match kind {
        None | Some(ServerKind::Ollama) => Ok(Route::Local { llama: false }),
        Some(ServerKind::LlamaServer) => Ok(Route::Local { llama: true }),
        Some(k @ (ServerKind::LmStudio | ServerKind::Vllm | ServerKind::VllmMlx)) => {
            Ok(Route::Backend(k))
        }
        Some(k) => Err(
            Error::usage(format!("setup does not configure {} yet", k.label()))
                .with_hint("use --server ollama, llama-server, lmstudio, vllm or vllm-mlx"),
        ),
    }
}

/// The Claude Code settings for the choices' version and context, or why none can work.
pub fn claude_rec(ch: &Choices) -> Result<crate::claude::Recommendation> {
    match crate::planner::advise_version(ch.claude_version, ch.context, &ch.model) {
        crate::planner::ClaudeAdvice::Settings { rec, .. } => Ok(rec),
        crate::planner::ClaudeAdvice::Impossible { why, would, .. } => {
            Err(Error::usage(format!("no Claude Code setting can work: {why}")).with_hint(would))
        }
    }
}

/// An Ollama or llama-server setup, planned: the choices, the host, the plan of files
/// and where the system drop-in goes.
pub struct Local {
    pub paths: Paths,
    pub llama: bool,
    /// Setup may ask on a terminal (no `--yes`, no `--dry-run`, stdin and stderr a terminal).
    pub interactive: bool,
    pub ch: Choices,
    pub host: Host,
    /// Root installs the system drop-in after this (the user's) process.
    pub delegated: bool,
    pub built: crate::setup::Built,
    pub sys: SystemPart,
    pub rec: crate::claude::Recommendation,
    /// The model's trained context, when setup read the model.
    pub trained: Option<u64>,
    pub token_from: TokenFrom,
}

/// Plans an Ollama (`llama: false`) or llama-server setup: the server and model, the
/// wizard's answers on a terminal, the context and KV cache type, the token and the files.
/// What setup has to say on the way (notes, warnings, the planned context) goes to `say`,
/// in order; the library prints nothing.
pub fn plan_local(req: &Request, llama: bool, say: &mut dyn FnMut(Note)) -> Result<Local> {
    let paths = Paths::from_env()?;
    let prev = config::load(&paths.config_toml())?;
    let interactive = !req.yes
        && !req.dry_run
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal();
    let kind = if llama {
        crate::server::ServerKind::LlamaServer
    } else {
        crate::server::ServerKind::Ollama
    };
    // The previous run's server settings count only for the same kind of server.
    let prev_same = prev.as_ref().filter(|p| p.server.kind == kind);
    let budget = budget(req, prev_same);
    let (d, chosen) = local_draft(req, prev_same, llama, interactive, &budget, say)?;
    let (server_url, remote) = local_server(&d.server, llama)?;
    let target = req.target.unwrap_or_else(TargetOs::this);
    let ls = local_llama_server(req, prev_same, &paths, llama, remote, target)?;
    let model = local_model(req, &d, ls.as_ref(), &server_url, say)?;
    // What the planner reads: the GGUF file for llama-server (setup starts the server, so
    // there is none to ask), else the model name (its file here, or the server's /api/show).
    let (model_ref, show_from) = match &ls {
        Some(ls) => (ls.model_path.display().to_string(), None),
        None => (model.clone(), Some(server_url.as_str())),
    };
    let budget_known = !remote || chosen.memory_bytes.is_some();
    let (context, kv_cache_type, trained) = context_and_kv(
        req,
        &d,
        &budget,
        (&model_ref, show_from),
        known_context(req, prev_same, ls.as_ref(), &d),
        budget_known,
        say,
    )?;
    let (claude_version, _) = crate::setup::resolve::claude_version(req.claude_version)?;
    let launcher = launcher_name(req, prev.as_ref());
    let (token, token_from) = auth_token(req, kind, &paths, &launcher)?;
    let ch = Choices {
        server_url,
        remote,
        model,
        context,
        kv_cache_type,
        flash_attention: d.flash_attention,
        keep_alive: d.keep_alive.clone(),
        launcher_name: launcher,
        auth_token: token,
        claude_version,
        target,
        parts: d.parts.clone(),
        llama_server: ls,
        chosen,
    };
    ch.validate()?;
    local_plan(req, paths, llama, interactive, ch, trained, token_from)
}

/// The draft from flags and the previous setup, the wizard's answers on a terminal
/// (Ollama), and what the user chose of it.
fn local_draft(
    req: &Request,
    prev_same: Option<&SetupConfig>,
    llama: bool,
    interactive: bool,
    budget: &crate::memory::Budget,
    say: &mut dyn FnMut(Note),
) -> Result<(Draft, config::Chosen)> {
    let mut d = draft(req, prev_same, say)?;
    if llama && req.host.is_none() && prev_same.is_none() {
        d.server = format!("http://127.0.0.1:{}", llama_server::DEFAULT_PORT);
    }
    let drafted = d.clone();
    if interactive && !llama {
        wizard::ask(&mut d, budget)?;
    }
    let chosen = chosen(req, prev_same, &d, &drafted);
    Ok((d, chosen))
}

/// The server's URL and whether it is another machine; an Ollama server that takes the
/// connection and never answers is named as timed out, not read as "no such model" after
/// every probe waited out its own timeout.
fn local_server(server: &str, llama: bool) -> Result<(String, bool)> {
    if llama {
        return normalize_server_port(server, llama_server::DEFAULT_PORT);
    }
    let (url, remote) = normalize_server(server)?;
    crate::server::check_answers(&url, None, crate::server::ANSWER_TIMEOUT)?;
    Ok((url, remote))
}

/// llama-server's binary, model and settings (`None` for Ollama).
fn local_llama_server(
    req: &Request,
    prev_same: Option<&SetupConfig>,
    paths: &Paths,
    llama: bool,
    remote: bool,
    target: TargetOs,
) -> Result<Option<LlamaServer>> {
    if !llama {
        return Ok(None);
    }
    if req.warm {
        return Err(Error::usage(
            "--warm is for Ollama: llama-server loads its model when it starts",
        ));
    }
    llama_server_choices(req, prev_same, paths, !remote && target == TargetOs::this()).map(Some)
}

/// The model Claude Code uses: llama-server's alias of its GGUF, else `--model` or the
/// draft's, checked against the Ollama server's list when it gives one.
fn local_model(
    req: &Request,
    d: &Draft,
    ls: Option<&LlamaServer>,
    server_url: &str,
    say: &mut dyn FnMut(Note),
) -> Result<String> {
    if let Some(ls) = ls {
        return Ok(llama_server::default_alias(&ls.model_path));
    }
    let model = d.model.clone().ok_or_else(|| {
        Error::usage("no model given")
            .with_hint("pass --model NAME (for example --model qwen3-coder:30b)")
    })?;
    match crate::setup::server_api::list_models(server_url, Duration::from_secs(3)) {
        Ok(list) => check_model_on_server(&model, &list, req.force)?,
        Err(_) => say(Note::Note(format!(
            "{server_url} did not list its models, so cclocal could not check that it has {model}"
        ))),
    }
    Ok(model)
}

/// The context already known: `--ctx`, or for llama-server the previous setup's for the
/// same GGUF and cache type; for Ollama the draft's (flag or remembered choice).
fn known_context(
    req: &Request,
    prev_same: Option<&SetupConfig>,
    ls: Option<&LlamaServer>,
    d: &Draft,
) -> Option<u64> {
    let Some(ls) = ls else {
        return d.context;
    };
    req.ctx.or_else(|| {
        prev_same
            .filter(|p| {
                p.llama_server.as_ref().map(|l| l.model_path.as_str()) == ls.model_path.to_str()
                    && req
                        .kv_type
                        .as_ref()
                        .map_or(true, |k| Some(k) == p.server.kv_cache_type.as_ref())
            })
            .map(|p| p.model.context)
    })
}

/// The plan of files for the choices, where the system drop-in goes, and Claude Code's
/// settings.
fn local_plan(
    req: &Request,
    paths: Paths,
    llama: bool,
    interactive: bool,
    ch: Choices,
    trained: Option<u64>,
    token_from: TokenFrom,
) -> Result<Local> {
    let delegated = crate::privilege::root_does_system_part();
    let host = local_host(req, &paths, &ch, delegated);
    let mut built = build_plan(&paths, &ch, &host)?;
    let sys = system_part(&mut built, &ch, &host, delegated);
    let rec = claude_rec(&ch)?;
    Ok(Local {
        paths,
        llama,
        interactive,
        ch,
        host,
        delegated,
        built,
        sys,
        rec,
        trained,
        token_from,
    })
}

/// The machine an Ollama or llama-server setup writes on: its OS, root or not, the system
/// root, and what the Ollama app and a Homebrew service say (for a Mac target here).
fn local_host(req: &Request, paths: &Paths, ch: &Choices, delegated: bool) -> Host {
    let this_os = TargetOs::this();
    Host {
        os: this_os,
        // Root on its own HOME installs the drop-in itself; setup's user process (root on
        // a user's HOME, `crate::privilege`) has root install it after its own files.
        is_root: req.system_root.is_some() || system::uid() == 0 || delegated,
        uid: system::uid(),
        system_root: req
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
    }
}

impl Local {
    /// The plan made again on what the files hold now (under setup's lock).
    pub fn replan(&mut self) -> Result<()> {
        self.built = build_plan(&self.paths, &self.ch, &self.host)?;
        self.sys = system_part(&mut self.built, &self.ch, &self.host, self.delegated);
        Ok(())
    }

    /// The Modelfile's `num_ctx` when it differs from the chosen context (it overrides
    /// `OLLAMA_CONTEXT_LENGTH`); Ollama only.
    pub fn modelfile_num_ctx(&self) -> Option<u64> {
        Some(())
            .filter(|_| !self.llama)
            .and_then(|_| {
                crate::setup::server_api::show(
                    &self.ch.server_url,
                    &self.ch.model,
                    Duration::from_secs(2),
                )
                .ok()
            })
            .and_then(|s| s.num_ctx)
            .filter(|n| *n != self.ch.context)
    }

    /// Runs the plan's service actions that apply on this OS (not with `--system-root`),
    /// handing each line they print to `say`. Returns whether llama-server's unit did not
    /// start; a failed systemd reload marks the drop-in [`SystemPart::NotRunning`].
    pub fn post_actions(&mut self, req: &Request, say: &mut dyn FnMut(&str)) -> bool {
        let mut server_down = false;
        if req.system_root.is_some() {
            return server_down;
        }
        let this_os = self.host.os;
        for action in &self.built.post {
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
                        self.sys = SystemPart::NotRunning;
                    }
                    if matches!(action, crate::setup::PostAction::SystemdUserStart { .. })
                        && system::did_not_start(&line)
                    {
                        // The unit is written, but llama-server does not run from it.
                        server_down = true;
                    }
                    say(&line);
                }
            }
        }
        server_down
    }

    /// What the user's process asks root to install.
    pub fn root_request(&self, json: bool, start: Option<String>) -> RootRequest {
        RootRequest {
            context: self.ch.context,
            kv_cache_type: self.ch.kv_cache_type.clone(),
            flash_attention: self.ch.flash_attention,
            keep_alive: self.ch.keep_alive.clone(),
            start,
            json,
        }
    }
}

/// The budget the planner plans for: `--memory` or `--mac-ram`, else the one the user chose
/// in an earlier run (config.toml's `[chosen]`), else this machine's.
fn budget(req: &Request, prev: Option<&SetupConfig>) -> crate::memory::Budget {
    let remembered_budget = prev
        .and_then(|p| p.chosen.as_ref())
        .and_then(|c| c.memory_bytes);
    detect_budget(req.memory.or(remembered_budget), req.mac_ram)
}

/// The budget this run's flags chose (`--memory`, or `--mac-ram`'s GPU share).
fn chosen_budget(req: &Request) -> Option<u64> {
    req.memory
        .or(req.mac_ram.map(|r| crate::memory::mac_gpu_budget(r).bytes))
}

/// The parts to write: `--only`, else the previous setup's, else all; less `--skip`.
fn parts_to_write(req: &Request, prev: Option<&SetupConfig>) -> Vec<Part> {
    let mut parts: Vec<Part> = if !req.only.is_empty() {
        req.only.clone()
    } else {
        prev.map(|p| p.wrote.iter().filter_map(|w| Part::parse(w)).collect())
            .unwrap_or_else(|| Part::ALL.to_vec())
    };
    parts.retain(|p| !req.skip.contains(p));
    parts
}

/// The context and KV cache type for an Ollama or llama-server setup: `known_context`
/// (`--ctx`, or a remembered one the user chose) rounded the planner's way, else the
/// planner's largest that fits; and the model's trained context when it was read.
fn context_and_kv(
    req: &Request,
    d: &Draft,
    budget: &crate::memory::Budget,
    (model_ref, show_from): (&str, Option<&str>),
    known_context: Option<u64>,
    budget_known: bool,
    say: &mut dyn FnMut(Note),
) -> Result<(u64, String, Option<u64>)> {
    let Some(c) = known_context else {
        if !budget_known {
            return Err(Error::usage(
                "the server is another machine, so its memory is unknown here",
            )
            .with_hint(
                "pass --ctx TOKENS, or --memory SIZE (the server's memory) to let cclocal plan it",
            ));
        }
        return largest_context(d, budget, (model_ref, show_from), say);
    };
    let described = if budget_known {
        describe_for_kv(req, d, (model_ref, show_from), say)?
    } else {
        None
    };
    let Some(m) = described else {
        return Ok((crate::planner::served_context(c), fallback_kv(d), None));
    };
    let trained = Some(m.desc.context_length);
    let p = planned(
        &m.desc,
        d.kv_cache_type.as_deref(),
        d.flash_attention,
        budget,
        Some(c),
    )?;
    for w in &p.warnings {
        say(Note::Warning(w.clone()));
    }
    // The planner's context: the one rounding rule plan prints with.
    let (context, kv) = match decide(&p, &m.desc, budget) {
        Ok(ckv) => ckv,
        Err(e) if req.force => {
            say(Note::Forced(e.message));
            (crate::planner::served_context(c), fallback_kv(d))
        }
        Err(e) => return Err(e),
    };
    Ok((context, kv, trained))
}

/// The KV cache type when the model cannot be planned: `--kv-type` (or a remembered
/// choice), else the planner's type for an unknown budget.
fn fallback_kv(d: &Draft) -> String {
    d.kv_cache_type.clone().unwrap_or_else(|| {
        crate::planner::unknown_budget_kv_type(d.flash_attention)
            .name()
            .into()
    })
}

/// No context given: the planner's largest that fits the budget, said as a
/// [`Note::Planned`].
fn largest_context(
    d: &Draft,
    budget: &crate::memory::Budget,
    (model_ref, show_from): (&str, Option<&str>),
    say: &mut dyn FnMut(Note),
) -> Result<(u64, String, Option<u64>)> {
    let m = describe_model(model_ref, show_from).map_err(|e| {
        Error::usage(format!("cannot plan the context: {}", e.message))
            .with_subject(e.subject.unwrap_or_else(|| model_ref.to_string()))
            .with_hint("pass --ctx TOKENS, or make the model readable here (a .gguf path or the Ollama store)")
    })?;
    let p = planned(
        &m.desc,
        d.kv_cache_type.as_deref(),
        d.flash_attention,
        budget,
        None,
    )?;
    let (c, kv) = decide(&p, &m.desc, budget)?;
    let total = p.choice().map(|c| c.row.total_bytes).unwrap_or(0);
    say(Note::Planned(format!(
        "planned context: {c} tokens, KV cache {kv} ({} of {} budget; {} from {})",
        crate::units::human(total),
        crate::units::human(budget.bytes),
        m.desc.name,
        m.from
    )));
    Ok((c, kv, Some(m.desc.context_length)))
}

/// The model read to choose the KV cache type for a given context. A model file here that
/// cannot be read does not silently change the type (docs/planner.md): an error, unless
/// `--kv-type` or `--force` says what to do; a model that is not on this machine gets the
/// unknown-budget type, with a warning.
fn describe_for_kv(
    req: &Request,
    d: &Draft,
    (model_ref, show_from): (&str, Option<&str>),
    say: &mut dyn FnMut(Note),
) -> Result<Option<crate::model::Described>> {
    match describe_model(model_ref, show_from) {
        Ok(m) => Ok(Some(m)),
        Err(e)
            if d.kv_cache_type.is_none()
                && !req.force
                && (std::path::Path::new(model_ref).is_file()
                    || matches!(
                        e.kind,
                        crate::error::ErrorKind::Io | crate::error::ErrorKind::Parse
                    )) =>
        {
            Err(Error::new(
                e.kind,
                format!(
                    "cannot read the model to choose its KV cache type: {}",
                    e.message
                ),
            )
            .with_subject(model_ref.to_string())
            .with_hint(
                "make the model readable here (a .gguf path or the Ollama store), \
                 or choose the cache yourself with --kv-type TYPE (f16 is always safe)",
            ))
        }
        Err(e) => {
            say(Note::Warning(format!(
                "cannot read the model here ({}), so the KV cache type is {} (choose it with --kv-type)",
                e.message,
                fallback_kv(d)
            )));
            Ok(None)
        }
    }
}

/// An LM Studio, vLLM or vllm-mlx setup, planned: the launcher's choices, the server's start
/// script and its line, and the plan of files.
pub struct Backend {
    pub paths: Paths,
    pub kind: crate::server::ServerKind,
    /// The server runs on another machine.
    pub remote: bool,
    pub ch: Choices,
    pub host: Host,
    /// The parts to write (with the server's start script, [`Part::Server`]).
    pub parts: Vec<Part>,
    /// The start script, its bytes and the command it runs.
    pub script: PathBuf,
    pub bytes: Vec<u8>,
    pub start_line: String,
    pub with_server: bool,
    pub built: crate::setup::Built,
    pub rec: crate::claude::Recommendation,
}

/// Plans `cclocal setup --server lmstudio|vllm|vllm-mlx`: the Claude Code launcher and
/// settings for the server, and the server's own start script (`lms load … --context-length
/// N`, or the `vllm serve` line) in cclocal's server folder; nothing of the server's own
/// files is written (docs/servers.md "Setup for LM Studio and vLLM"). What setup has to say
/// on the way goes to `say`.
pub fn plan_backend(
    req: &Request,
    kind: crate::server::ServerKind,
    say: &mut dyn FnMut(Note),
) -> Result<Backend> {
    let paths = Paths::from_env()?;
    let prev = config::load(&paths.config_toml())?.filter(|p| p.server.kind == kind);
    let (url, server_url, remote) = backend_server(req, kind, prev.as_ref(), say)?;
    let model = backend_model(req, kind, prev.as_ref())?;
    let budget = budget(req, prev.as_ref());
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
    let serve = backend_serve(
        req.ctx.or(remembered),
        kind,
        &model,
        served.as_ref(),
        &url,
        say,
    );
    let context = match (&serve, req.ctx.or(remembered)) {
        (Some(s), _) => s.context,
        (None, Some(c)) => c,
        (None, None) => {
            lmstudio_context(&paths, kind, &model, served.as_ref(), remote, &budget, say)?
        }
    };
    let (claude_version, _) = crate::setup::resolve::claude_version(req.claude_version)?;
    let parts = parts_to_write(req, prev.as_ref());
    let launcher = launcher_name(req, prev.as_ref());
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
        auth_token: auth_token(req, kind, &paths, &launcher)?.0,
        launcher_name: launcher,
        claude_version,
        target: req.target.unwrap_or_else(TargetOs::this),
        parts: parts
            .iter()
            .copied()
            .filter(|p| *p != Part::Server)
            .collect(),
        llama_server: None,
        chosen: backend_chosen(req, prev.as_ref(), &model, remembered),
    };
    ch.validate()?;
    backend_plan(paths, kind, ch, parts, serve, &url, &budget)
}

/// The server's address (the one order, `crate::server::resolve`), normalized, and checked
/// to answer: the address, its URL, and whether it is another machine.
fn backend_server(
    req: &Request,
    kind: crate::server::ServerKind,
    prev: Option<&SetupConfig>,
    say: &mut dyn FnMut(Note),
) -> Result<(crate::server::ServerUrl, String, bool)> {
    let (url, shown, source) = crate::setup::resolve::server(
        req.host.as_deref(),
        Some(kind),
        Some(prev.map(|p| p.server.url.as_str())),
    );
    if let Some(n) = note_source(source, &shown) {
        say(n);
    }
    let url = url.map_err(|e| {
        let mut err =
            Error::new(e.kind, format!("{}: {}", source.name(), e.message)).with_subject(shown);
        err.hint = e.hint;
        err
    })?;
    let (server_url, remote) = normalize_server(&url.to_url())?;
    crate::server::check_answers(&server_url, Some(kind), crate::server::ANSWER_TIMEOUT)?;
    Ok((url, server_url, remote))
}

/// `--model`, else the previous setup's; checked.
fn backend_model(
    req: &Request,
    kind: crate::server::ServerKind,
    prev: Option<&SetupConfig>,
) -> Result<String> {
    let model = req
        .model
        .clone()
        .or_else(|| prev.map(|p| p.model.name.clone()))
        .ok_or_else(|| {
            Error::usage("no model given").with_hint(match kind {
                crate::server::ServerKind::LmStudio => "pass --model KEY, LM Studio's model key (`lms ls` lists them), e.g. qwen/qwen3-coder-30b",
                _ => "pass --model MODEL, what vLLM serves (a Hugging Face repo id), e.g. Qwen/Qwen3-Coder-30B-A3B-Instruct",
            })
        })?;
    crate::setup::choices::check_model(&model)?;
    Ok(model)
}

/// vLLM's and vllm-mlx's serve line (`None` for LM Studio), with its notes, and a note when
/// the running server serves another model.
fn backend_serve(
    wanted: Option<u64>,
    kind: crate::server::ServerKind,
    model: &str,
    served: Option<&crate::server::ServedModel>,
    url: &crate::server::ServerUrl,
    say: &mut dyn FnMut(Note),
) -> Option<crate::planner::ServeLine> {
    use crate::server::ServerKind;
    if !matches!(kind, ServerKind::Vllm | ServerKind::VllmMlx) {
        return None;
    }
    // vLLM loads the model from its `root` (a folder or repo id), vllm-mlx from its command
    // line's model, not from the served name.
    let served_path = served.and_then(|s| s.model_path.clone());
    let serve = crate::planner::serve_line(
        kind,
        served_path.as_deref().unwrap_or(model),
        model,
        wanted,
        served.and_then(|s| s.context),
        url,
    );
    for n in &serve.notes {
        say(Note::Note(n.clone()));
    }
    if let Some(s) = served.filter(|s| !crate::server::same_model(&s.name, model)) {
        say(Note::Note(format!(
            "the running {} serves {:?}; restart it with the line below",
            kind.label(),
            s.name
        )));
    }
    Some(serve)
}

/// The backend's start script (vLLM's serve line, or LM Studio's `lms load`), the plan of
/// files and Claude Code's settings.
fn backend_plan(
    paths: Paths,
    kind: crate::server::ServerKind,
    ch: Choices,
    parts: Vec<Part>,
    serve: Option<crate::planner::ServeLine>,
    url: &crate::server::ServerUrl,
    budget: &crate::memory::Budget,
) -> Result<Backend> {
    use crate::server::lmstudio::serve as lmstudio;
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
    let (script, bytes, start_line) = match serve {
        Some(s) => (paths.server_dir().join(s.script_name), s.script, s.line),
        None => {
            let s = lmstudio::LmStudioStart {
                key: ch.model.clone(),
                context: ch.context,
                port: url.port,
                gpu: budget.gpu || ch.target == TargetOs::Macos,
            };
            let script = paths.server_dir().join(lmstudio::SCRIPT);
            (script, lmstudio::script(&s), lmstudio::load_line(&s))
        }
    };
    let with_server = parts.contains(&Part::Server);
    let built = backend_files(
        kind,
        &paths,
        &ch,
        &host,
        &parts,
        (&script, &bytes),
        with_server,
    )?;
    let rec = claude_rec(&ch)?;
    Ok(Backend {
        paths,
        kind,
        remote: ch.remote,
        ch,
        host,
        parts,
        script,
        bytes,
        start_line,
        with_server,
        built,
        rec,
    })
}

/// What the user chose in a backend setup: `--ctx` (or a remembered context they chose)
/// and the budget; the rest is the planner's.
fn backend_chosen(
    req: &Request,
    prev: Option<&SetupConfig>,
    model: &str,
    remembered: Option<u64>,
) -> config::Chosen {
    let before = prev
        .map(|p| p.chose(p.model.name == model))
        .unwrap_or_default();
    config::Chosen {
        context: req.ctx.is_some() || (before.context && remembered.is_some()),
        memory_bytes: chosen_budget(req).or(before.memory_bytes),
        ..Default::default()
    }
}

impl Backend {
    /// The plan of files made again on what the files hold now (under setup's lock).
    pub fn make(&self) -> Result<crate::setup::Built> {
        backend_files(
            self.kind,
            &self.paths,
            &self.ch,
            &self.host,
            &self.parts,
            (&self.script, &self.bytes),
            self.with_server,
        )
    }
}

/// The plan of files of a backend setup: the launcher's, the start script and config.toml
/// recording the kind.
fn backend_files(
    kind: crate::server::ServerKind,
    paths: &Paths,
    ch: &Choices,
    host: &Host,
    parts: &[Part],
    (script, bytes): (&std::path::Path, &[u8]),
    with_server: bool,
) -> Result<crate::setup::Built> {
    use crate::setup::plan::{FileChange, ModeRule};
    let mut built = build_plan(paths, ch, host)?;
    if with_server {
        built.plan.push(FileChange::write(
            script,
            bytes.to_vec(),
            ModeRule::Exact(0o755),
            &format!("{} start script", kind.label()),
        )?);
    }
    let mut cfg = built.config.clone();
    cfg.server.kind = kind;
    // vLLM and the MLX servers choose their own cache type: config.toml names none, as
    // plan, doctor and status do.
    if !crate::planner::kinds::knows_kv_type(kind) {
        cfg.server.kv_cache_type = None;
    }
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
}

/// LM Studio's context without `--ctx`: the planner's largest that fits for the model's
/// GGUF (LM Studio's models folder here, else what the server says), with LM Studio's KV
/// cache type; an MLX model or no GGUF is a usage error.
fn lmstudio_context(
    paths: &Paths,
    kind: crate::server::ServerKind,
    model: &str,
    served: Option<&crate::server::ServedModel>,
    remote: bool,
    budget: &crate::memory::Budget,
    say: &mut dyn FnMut(Note),
) -> Result<u64> {
    use crate::server::lmstudio::serve as lmstudio;
    let mlx = served.and_then(|s| s.format.clone()).filter(|f| f == "mlx");
    let gguf = (!remote)
        .then(|| lmstudio::local_gguf(&paths.home, model))
        .flatten()
        .or_else(|| served.and_then(|s| s.gguf_path.clone()));
    let Some(gguf) = gguf.filter(|_| mlx.is_none()) else {
        return Err(Error::usage(match mlx {
            Some(_) => format!("{model} is an MLX model: cclocal plans contexts from GGUF files only"),
            None => format!("cannot plan the context: no GGUF for {model} in LM Studio's models folder ({})", crate::server::lmstudio::models_dir(&paths.home).display()),
        })
        .with_hint("pass --ctx TOKENS (`lms load KEY --estimate-only --context-length N` shows LM Studio's own estimate)"));
    };
    let m = describe_model(&gguf.display().to_string(), None)?;
    let kv = crate::planner::kinds::planned_kv_type(kind).map(|t| t.name());
    let p = planned(&m.desc, kv, true, budget, None)?;
    let (c, kv) = decide(&p, &m.desc, budget)?;
    say(Note::Planned(format!(
        "planned context: {c} tokens for {} ({kv} KV cache, {}'s default; {})",
        model,
        kind.label(),
        gguf.display()
    )));
    Ok(c)
}

/// Fills the draft from flags, then the previous configuration, then defaults.
pub fn draft(
    req: &Request,
    prev: Option<&SetupConfig>,
    say: &mut dyn FnMut(Note),
) -> Result<Draft> {
    // The one order every command uses (`crate::server::resolve`); the previous setup's
    // server is config.toml's.
    let (url, shown, source) = crate::setup::resolve::server(
        req.host.as_deref(),
        req.server,
        Some(prev.map(|p| p.server.url.as_str())),
    );
    if let Some(n) = note_source(source, &shown) {
        say(n);
    }
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
        req.model.is_none() || req.model.as_deref() == prev.map(|p| p.model.name.as_str());
    // Only what the user chose is kept; what the planner chose is planned again.
    let chose = prev.map(|p| p.chose(same_model)).unwrap_or_default();
    let parts = parts_to_write(req, prev);
    Ok(Draft {
        server,
        model: req
            .model
            .clone()
            .or_else(|| prev.map(|p| p.model.name.clone())),
        // A remembered context belongs to the remembered model and cache type.
        context: req.ctx.or_else(|| {
            prev.filter(|p| {
                same_model
                    && chose.context
                    && req
                        .kv_type
                        .as_ref()
                        .map_or(true, |k| Some(k) == p.server.kv_cache_type.as_ref())
            })
            .map(|p| p.model.context)
        }),
        kv_cache_type: req.kv_type.clone().or_else(|| {
            prev.filter(|_| chose.kv_cache_type)
                .and_then(|p| p.server.kv_cache_type.clone())
        }),
        flash_attention: req
            .flash_attn
            .or(prev
                .filter(|_| chose.flash_attention)
                .map(|p| p.server.flash_attention))
            .unwrap_or(true),
        keep_alive: req
            .keep_alive
            .clone()
            .or_else(|| prev.map(|p| p.server.keep_alive.clone()))
            .unwrap_or_else(|| crate::planner::DEFAULT_KEEP_ALIVE.into()),
        parts,
    })
}

/// Where the server's address came from when the environment chose it (the one order,
/// `crate::server::resolve`), so a shell's `ANTHROPIC_BASE_URL` or `OLLAMA_HOST` is never a
/// silent choice; `--host` overrides it.
pub fn note_source(source: crate::server::resolve::Source, shown: &str) -> Option<Note> {
    use crate::server::resolve::Source;
    matches!(source, Source::AnthropicBaseUrl | Source::OllamaHost).then(|| {
        Note::Note(format!(
            "the server is {shown}, from ${} (pass --host to choose another)",
            source.name()
        ))
    })
}

/// What the user chose in this run (flags, the wizard's changed answers) or chose before
/// (config.toml's `[chosen]`, for values this run keeps): config.toml records it, and a later
/// setup re-plans the rest.
pub fn chosen(
    req: &Request,
    prev: Option<&SetupConfig>,
    d: &Draft,
    asked: &Draft,
) -> config::Chosen {
    let same_model =
        req.model.is_none() || req.model.as_deref() == prev.map(|p| p.model.name.as_str());
    let before = prev.map(|p| p.chose(same_model)).unwrap_or_default();
    config::Chosen {
        context: req.ctx.is_some()
            || asked.context != d.context
            || (before.context && d.context.is_some()),
        kv_cache_type: req.kv_type.is_some()
            || asked.kv_cache_type != d.kv_cache_type
            || (before.kv_cache_type && d.kv_cache_type.is_some()),
        flash_attention: req.flash_attn.is_some()
            || asked.flash_attention != d.flash_attention
            || before.flash_attention,
        memory_bytes: chosen_budget(req).or(before.memory_bytes),
    }
}

/// The command line that reproduces `ch` without prompts.
pub fn equivalent_command(ch: &Choices) -> String {
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

/// The launcher's name: `--launcher-name`, else the previous setup's, else `claude-local`.
pub fn launcher_name(req: &Request, prev: Option<&SetupConfig>) -> String {
    req.launcher_name
        .clone()
        .or_else(|| prev.map(|p| p.claude.launcher_name.clone()))
        .unwrap_or_else(|| "claude-local".into())
}

/// The environment variable setup takes the token from (never a command line).
pub const TOKEN_ENV: &str = "CCLOCAL_AUTH_TOKEN";

/// Where the token came from, so that the command setup prints reproduces it without
/// showing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenFrom {
    /// `--auth-token VALUE` or `--auth-token-file -`: only that command line had it.
    Given,
    /// `--auth-token-file PATH`.
    File(PathBuf),
    /// `$CCLOCAL_AUTH_TOKEN`, the previous setup's files, or the placeholder: a re-run
    /// without a token flag finds the same one.
    Found,
}

/// The longest token file read (a token is one short line).
pub const TOKEN_FILE_CAP: u64 = 64 * 1024;

pub fn read_token_file(p: &std::path::Path) -> Result<String> {
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
pub fn previous_token(paths: &Paths, launcher_name: &str) -> Option<String> {
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
pub fn auth_token(
    req: &Request,
    kind: crate::server::ServerKind,
    paths: &Paths,
    launcher_name: &str,
) -> Result<(String, TokenFrom)> {
    if let Some(t) = &req.auth_token {
        return Ok((t.clone(), TokenFrom::Given));
    }
    if let Some(p) = &req.auth_token_file {
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
pub fn token_flag(from: &TokenFrom, token: &str) -> (String, Option<String>) {
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

/// Adds `env` to the `env` of the launcher's settings file, as a recorded run of its own
/// (planned, applied atomically, undoable).
pub fn write_observed(paths: &Paths, env: &crate::claude::EnvMap) -> Result<()> {
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

/// Where the `ollama.service` drop-in of a plan goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemPart {
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
pub fn system_part(
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
        let env: Vec<String> = crate::server::ollama::serve::env(&ch.serve_settings())
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

/// A typical turn's time at the chosen context from the newest saved `cclocal bench` of the
/// model (`predict::quote`, the doctor's sentence), and the line to show: the quote, or how
/// to get one.
pub fn turn_quote(paths: &Paths, ch: &Choices) -> (Option<crate::predict::quote::Quote>, String) {
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

/// llama-server's GGUF: on this machine a model file that exists, made absolute; for
/// another host an absolute path (it cannot be checked from here).
fn llama_model_path(model_path: PathBuf, here: bool) -> Result<PathBuf> {
    if here {
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
        std::path::absolute(&model_path).map_err(|e| Error::io(&model_path, "resolve", e))
    } else if model_path.is_absolute() {
        Ok(model_path)
    } else {
        Err(
            Error::usage("the model path must be absolute on the server host")
                .with_subject(model_path.display().to_string()),
        )
    }
}

/// The llama-server parts of the choices: the GGUF file (`--model`), the binary
/// (`--llama-server`, the previous setup's, or PATH) and the log file. `here`: the server
/// runs on this machine, so the files must exist here.
pub fn llama_server_choices(
    req: &Request,
    prev: Option<&SetupConfig>,
    paths: &Paths,
    here: bool,
) -> Result<LlamaServer> {
    let prev_ls = prev.and_then(|p| p.llama_server.as_ref());
    let model_path = match (&req.model, prev_ls) {
        (Some(m), _) => PathBuf::from(m),
        (None, Some(l)) => PathBuf::from(&l.model_path),
        (None, None) => {
            return Err(Error::usage("no model given")
                .with_hint("pass --model PATH.gguf, the GGUF file llama-server serves"))
        }
    };
    let model_path = llama_model_path(model_path, here)?;
    let binary = match (&req.llama_server, here) {
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

impl RootRequest {
    /// The choices root renders the `ollama.service` drop-in from, checked as every
    /// setup's are.
    pub fn choices(&self) -> Result<Choices> {
        let ch = Choices {
            server_url: "http://127.0.0.1:11434".into(),
            remote: false,
            model: "ollama".into(),
            context: self.context,
            kv_cache_type: self.kv_cache_type.clone(),
            flash_attention: self.flash_attention,
            keep_alive: self.keep_alive.clone(),
            launcher_name: "claude-local".into(),
            auth_token: "ollama".into(),
            claude_version: LATEST_KNOWN,
            target: TargetOs::Linux,
            parts: vec![Part::Server],
            llama_server: None,
            chosen: Default::default(),
        };
        ch.validate()?;
        Ok(ch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::resolve::Source;

    /// The library hands its lines to the caller, worded as setup printed them.
    #[test]
    fn notes_read_as_setup_printed_them() {
        assert_eq!(Note::Note("x".into()).to_string(), "note: x");
        assert_eq!(Note::Warning("x".into()).to_string(), "warning: x");
        assert_eq!(
            Note::Forced("too big".into()).to_string(),
            "warning (--force): too big"
        );
        assert_eq!(
            Note::Planned("planned context: 8192 tokens".into()).to_string(),
            "planned context: 8192 tokens"
        );
        let n = note_source(Source::AnthropicBaseUrl, "http://box:11434").unwrap();
        assert_eq!(
            n.to_string(),
            "note: the server is http://box:11434, from $ANTHROPIC_BASE_URL (pass --host to choose another)"
        );
        assert_eq!(note_source(Source::Host, "x"), None);
        assert_eq!(note_source(Source::Config, "x"), None);
    }

    /// A model setup cannot read gets the unknown-budget KV type unless --kv-type chose.
    #[test]
    fn fallback_kv_is_the_choice_else_the_unknown_budget_type() {
        let mut d = Draft {
            server: String::new(),
            model: None,
            context: None,
            kv_cache_type: Some("q4_0".into()),
            flash_attention: true,
            keep_alive: String::new(),
            parts: vec![],
        };
        assert_eq!(fallback_kv(&d), "q4_0");
        d.kv_cache_type = None;
        assert_eq!(
            fallback_kv(&d),
            crate::planner::unknown_budget_kv_type(true).name()
        );
    }
}
