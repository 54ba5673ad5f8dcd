//! `cclocal setup`: configure the Ollama server, a Claude Code launcher and Claude Code's
//! onboarding flag in one step, through the plan → apply engine (`crate::setup`). This file
//! parses the flags and prints; `crate::setup::flow` decides.

use super::args;
use crate::error::{Error, Result};
use crate::setup::choices::{Choices, Part, TargetOs};
use crate::setup::flow::{self, Request, RootRequest, SystemPart};
use crate::setup::{apply, system, wizard, Paths, Record};
use crate::shell::quote::sh_quote;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug, Default)]
#[command(after_help = SETUP_HELP)]
pub struct SetupArgs {
    /// The llama-server binary (default: `llama-server` on PATH).
    #[arg(long, value_name = "PATH")]
    pub llama_server: Option<PathBuf>,
    #[command(flatten)]
    pub server: args::ServerArgs,
    #[command(flatten)]
    pub host: args::HostArgs,
    #[command(flatten)]
    pub model: args::ModelArgs,
    /// Context length to configure, in tokens (32768 or 32K). Default: the largest that
    /// fits (the planner).
    #[arg(long, value_name = args::TOKENS, value_parser = args::ctx)]
    pub ctx: Option<u64>,
    #[command(flatten)]
    pub kv: args::KvArgs,
    /// How long Ollama keeps the model loaded: a Go duration (30m, 2h, -1 = forever).
    #[arg(long, value_name = "DURATION")]
    pub keep_alive: Option<String>,
    /// File name of the launcher in ~/.local/bin (default claude-local).
    #[arg(long, value_name = "NAME")]
    pub launcher_name: Option<String>,
    #[command(flatten)]
    pub claude: args::ClaudeVersionArgs,
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
    #[command(flatten)]
    pub budget: args::MemoryArgs,
    #[command(flatten)]
    pub apply: args::WriteArgs,
    /// Print a machine-readable summary (JSON) of the planned or applied changes on stdout
    /// (the usual report goes to stderr).
    #[arg(long)]
    pub json: bool,
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

/// What setup's shared flags mean for each server kind (their help is every command's).
const SETUP_HELP: &str = "\
Per server kind (--server; default: the previous setup's, else ollama):
  ollama        --model is the Ollama model Claude Code uses for every tier
  llama-server  --model is the GGUF file the server loads; --host defaults to
                http://127.0.0.1:8080, where setup makes it listen
  lmstudio      --model is the LM Studio model key (`lms ls`)
  vllm, vllm-mlx --model is what the server serves, and the name Claude Code sends
--kv-type and --flash-attn take one value here (default: the planner's, see `cclocal plan`;
a quantized KV cache needs flash attention).";

/// Prints what the planner says on the way (`flow::Note`), to stderr as every report line
/// before the plan.
fn print_note(n: flow::Note) {
    crate::teprintln!("{n}");
}

impl SetupArgs {
    /// The flags as the library takes them.
    fn request(&self) -> Result<Request> {
        Ok(Request {
            server: self.server.server,
            llama_server: self.llama_server.clone(),
            host: self.host.host.clone(),
            model: self.model.model.clone(),
            ctx: self.ctx,
            kv_type: self.kv.one_kv_type()?.map(|k| k.name().to_string()),
            flash_attn: self.kv.one_flash_attn()?,
            keep_alive: self.keep_alive.clone(),
            launcher_name: self.launcher_name.clone(),
            claude_version: self.claude.claude_version,
            target: self.target,
            only: self.only.clone(),
            skip: self.skip.clone(),
            auth_token: self.auth_token.clone(),
            auth_token_file: self.auth_token_file.clone(),
            memory: self.budget.memory,
            mac_ram: self.budget.mac_ram,
            dry_run: self.apply.dry_run,
            json: self.json,
            yes: self.apply.yes,
            force: self.force,
            warm: self.warm,
            no_verify: self.no_verify,
            system_root: self.system_root.clone(),
        })
    }
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

/// The `--json` report of one plan or run: `json_report` with what the command adds.
type Report<'a> = dyn Fn(&crate::setup::Built, Option<&crate::setup::manifest::Manifest>, bool) -> serde_json::Value
    + 'a;

pub fn run(args: &SetupArgs, verbose: bool) -> Result<i32> {
    // Every question setup asks the server shares one budget, as the doctor's probes do.
    crate::setup::server_api::share_budget(crate::setup::server_api::SETUP_NET_BUDGET);
    let req = args.request()?;
    let llama = match flow::route(&req)? {
        flow::Route::Backend(k) => return run_backend(args, &req, k, verbose),
        flow::Route::Local { llama } => llama,
    };
    let mut l = flow::plan_local(&req, llama, &mut print_note)?;
    let (ch, rec) = (&l.ch, &l.rec);
    say!(args.json,
        "cclocal setup: {} on {}, context {} tokens, Claude Code {} (effective window {}, compacts at {})",
        ch.model, ch.server_url, ch.context, ch.claude_version, rec.calc.effective_window, rec.calc.autocompact_threshold
    );
    for n in crate::planner::context_notes(rec, l.trained) {
        say!(args.json, "note: {n}");
    }
    if let Some(n) = l.modelfile_num_ctx() {
        say!(args.json, "warning: the model's Modelfile sets num_ctx {n}, which overrides OLLAMA_CONTEXT_LENGTH; re-create it without num_ctx or with num_ctx {}", ch.context);
    }
    say_raw!(args.json, "{}", l.built.plan.summary());
    let (turn_time, turn_line) = flow::turn_quote(&l.paths, ch);
    say!(args.json, "{turn_line}");
    let runs = l.paths.runs_dir();
    let json = |built: &crate::setup::Built,
                run: Option<&crate::setup::manifest::Manifest>,
                applied: bool| {
        let mut v = json_report(args.apply.dry_run, &runs, built, run, applied);
        v["turn_time"] = serde_json::json!(turn_time);
        v
    };
    if args.apply.dry_run {
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json(&l.built, None, false)).expect("json")
            );
            return Ok(0);
        }
        say_raw!(args.json, "{}", l.built.plan.diff());
        for n in &l.built.plan.notes {
            say!(args.json, "note: {n}");
        }
        say!(args.json, "dry run: nothing was written");
        return Ok(0);
    }
    if l.built.plan.is_noop() {
        say!(
            args.json,
            "nothing to change: every file is already as planned"
        );
        if l.sys == SystemPart::ToRoot {
            send_to_root(&l.root_request(args.json, None))?;
        }
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json(&l.built, None, false)).expect("json")
            );
        }
        return Ok(0);
    }
    if !args.apply.yes {
        let (flag, note) = flow::token_flag(&l.token_from, &ch.auth_token);
        let mut hint = format!(
            "review with --dry-run, then run: {}{flag}",
            flow::equivalent_command(ch)
        );
        if let Some(n) = note {
            hint.push_str(&format!(" ({n})"));
        }
        if let Some(code) = confirm(args.json, l.interactive, verbose, &l.built, hint)? {
            return Ok(code);
        }
    }
    apply_local(args, &req, &mut l, &json)
}

/// Asks before writing (setup without `--yes`): `Some(code)` when setup stops here (no
/// terminal to ask on: an error with `hint`; the user said no: 1).
fn confirm(
    json: bool,
    interactive: bool,
    verbose: bool,
    built: &crate::setup::Built,
    hint: String,
) -> Result<Option<i32>> {
    if !interactive {
        return Err(Error::usage(
            "no terminal to ask on, and --yes was not given; nothing was written",
        )
        .with_hint(hint));
    }
    if verbose {
        crate::teprint!("{}", built.plan.diff());
    }
    if !wizard::confirm("Write these files?")? {
        say!(json, "nothing was written");
        return Ok(Some(1));
    }
    Ok(None)
}

/// Writes an Ollama or llama-server setup: under the lock, the plan made again, applied,
/// the services told, the model loaded (`--warm`), and Claude Code verified.
fn apply_local(
    args: &SetupArgs,
    req: &Request,
    l: &mut flow::Local,
    json: &Report<'_>,
) -> Result<i32> {
    // Under the lock: a second run waits for the first, an interrupted earlier run is
    // finished first, and the plan is made again on what the files hold now.
    let session = crate::setup::journal::Session::begin(&l.paths, true)?;
    super::output::say_recovered(&session);
    l.replan()?;
    let run = apply(
        &l.built.plan,
        Some(Record {
            runs_dir: &l.paths.runs_dir(),
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
    let server_down = l.post_actions(req, &mut |line| say!(args.json, "{line}"));
    let (paths, ch, sys) = (&l.paths, &l.ch, l.sys);
    for n in &l.built.plan.notes {
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
    let verified = final_verify(args, paths, ch, args.json);
    if args.json {
        let mut v = json(&l.built, run.as_ref(), true);
        if let Some(r) = &verified {
            v["verify"] = serde_json::to_value(r).expect("json");
        }
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
    }
    if sys == SystemPart::ToRoot {
        send_to_root(&l.root_request(args.json, start))?;
    }
    Ok(match verified {
        Some(r) if !r.ok && observed_any(&r) => 1,
        _ => 0,
    })
}

/// `cclocal setup --server lmstudio|vllm|vllm-mlx` (`flow::plan_backend`): shows the plan
/// and the server's command, then writes the launcher's files and the start script.
fn run_backend(
    args: &SetupArgs,
    req: &Request,
    kind: crate::server::ServerKind,
    verbose: bool,
) -> Result<i32> {
    let mut b = flow::plan_backend(req, kind, &mut print_note)?;
    let (ch, rec, json) = (&b.ch, &b.rec, args.json);
    say!(json,
        "cclocal setup: {} on {} ({}), context {} tokens, Claude Code {} (effective window {}, compacts at {})",
        ch.model, ch.server_url, kind.label(), ch.context, ch.claude_version, rec.calc.effective_window, rec.calc.autocompact_threshold
    );
    say!(json, "the server's command: {}", b.start_line);
    say_raw!(json, "{}", b.built.plan.summary());
    let runs = b.paths.runs_dir();
    let report =
        |built: &crate::setup::Built,
         run: Option<&crate::setup::manifest::Manifest>,
         applied: bool| json_report(args.apply.dry_run, &runs, built, run, applied);
    if args.apply.dry_run {
        if !json {
            crate::tprint!("{}", b.built.plan.diff());
            crate::tprintln!("dry run: nothing was written");
        }
        print_report(json, report(&b.built, None, false));
        return Ok(0);
    }
    if b.built.plan.is_noop() {
        say!(json, "nothing to change: every file is already as planned");
        print_report(json, report(&b.built, None, false));
        return Ok(0);
    }
    if !args.apply.yes {
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        let hint = "review with --dry-run, then add --yes".to_string();
        if let Some(code) = confirm(json, interactive, verbose, &b.built, hint)? {
            return Ok(code);
        }
    }
    apply_backend(json, &mut b, &report)
}

/// Prints the `--json` report on stdout when asked for.
fn print_report(json: bool, v: serde_json::Value) {
    if json {
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
    }
}

/// Writes a backend setup under the lock and says how to start the server and Claude Code.
fn apply_backend(json: bool, b: &mut flow::Backend, report: &Report<'_>) -> Result<i32> {
    use crate::server::ServerKind;
    // Under the lock, as for Ollama and llama-server: a second run waits, an interrupted
    // one is taken back, old runs are pruned, and the plan is made again on what the files
    // hold now.
    let session = crate::setup::journal::Session::begin(&b.paths, true)?;
    super::output::say_recovered(&session);
    b.built = b.make()?;
    let run = apply(
        &b.built.plan,
        Some(Record {
            runs_dir: &b.paths.runs_dir(),
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
    for n in &b.built.plan.notes {
        say!(json, "note: {n}");
    }
    let (kind, start_line) = (b.kind, &b.start_line);
    if b.with_server {
        let q = sh_quote(&b.script.display().to_string());
        match (kind, b.remote) {
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
    if b.ch.has(Part::Launcher) {
        // setup starts none of these servers: Claude Code works once the line above ran.
        let once = if b.with_server {
            format!("once {} serves with those settings, ", kind.label())
        } else {
            String::new()
        };
        say!(
            json,
            "{once}start Claude Code with: {}",
            sh_quote(&b.paths.launcher(&b.ch.launcher_name).display().to_string())
        );
    }
    print_report(json, report(&b.built, run.as_ref(), true));
    Ok(0)
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
                match flow::write_observed(paths, &env) {
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

fn send_to_root(req: &RootRequest) -> Result<()> {
    crate::privilege::send_to_root(&serde_json::to_vec(req).expect("request serializes"))
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
    let ch = req.choices()?;
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
    super::output::say_recovered(&session);
    let mut plan = Plan::default();
    plan.push(FileChange::write(
        &dropin,
        crate::server::ollama::serve::systemd_dropin(&ch.serve_settings())?,
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
