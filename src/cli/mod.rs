//! Command-line interface: argument parsing and dispatch. Each command lives in its own
//! file and only formats what the library computes; the flags they share are defined once
//! in [`args`].
//!
//! Exit codes, the same for every command: 0 success (findings at most warnings), 1 an
//! error finding (or a warning with `--strict`) or the command failed, 2 a usage error.
//! A closed stdout (`cclocal logs --json big.log | head`) ends the command quietly with 0.

mod alias;
pub mod args;
mod bench;
mod bench_host;
mod doctor;
mod logs;
pub mod output;
mod plan;
mod plan_measure;
mod runtime;
mod setup;
mod status;
mod undo;
mod verify;

use crate::error;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "cclocal",
    version,
    about = "Make Claude Code run well against a local LLM server (Ollama, llama-server, LM Studio, vLLM, vllm-mlx, oMLX, mlx_lm.server).",
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// Show more detail.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Checks Claude Code, the server and the model together, with a fix for every finding.
    Doctor(doctor::DoctorArgs),
    /// Memory of weights, KV cache and recurrent state per context length, the largest
    /// context that fits, and the Claude Code settings that follow.
    Plan(plan::PlanArgs),
    /// Configure the server (Ollama, llama-server, LM Studio, vLLM or vllm-mlx), a Claude
    /// Code launcher and onboarding
    /// in one step (planned, shown with --dry-run, applied atomically, undoable).
    Setup(setup::SetupArgs),
    /// Print the shell alias that runs the launcher, or --write it into the rc file.
    Alias(alias::AliasArgs),
    /// Take back the last `setup` or `alias --write` byte for byte; --list shows the history.
    Undo(undo::UndoArgs),
    /// Where a Claude Code session's time went, from its debug log: per-request waits,
    /// failures, autocompact, and findings. Without PATH, lists recent sessions.
    Logs(logs::LogsArgs),
    /// Prefill and decode speed with the embedded llama.cpp, and what a Claude Code
    /// session costs at that speed.
    Bench(bench::BenchArgs),
    /// The embedded llama.cpp: build, devices and their memory, CPU features.
    Runtime(runtime::RuntimeArgs),
    /// What `cclocal setup` configured, and whether the live server and Claude Code still
    /// match it.
    Status(status::StatusArgs),
    /// Run the installed Claude Code the way the launcher runs it, against a loopback stub
    /// of the Anthropic API, and compare its window, compaction, models and headers with
    /// the plan (exit 1 on a mismatch).
    Verify(verify::VerifyArgs),
    /// Print a shell completion script for bash, zsh or fish (see the README for where
    /// each shell reads it).
    Completions(CompletionsArgs),
}

/// The exit codes, shown at the end of `cclocal --help` (and in the README).
pub const EXIT_CODES: &str = "\
Exit codes (every command):
  0  done; findings, if any, are at most warnings
  1  an error finding (with --strict: a warning too), or the command failed
  2  a usage error (a flag or value cclocal does not take)
A closed output pipe (cclocal logs --json x | head) ends quietly with 0.

Which server and which Claude Code (doctor, plan, setup, status alike):
  server:      --host, else Claude Code's ANTHROPIC_BASE_URL, else the server
               `cclocal setup` configured (config.toml), else OLLAMA_HOST (Ollama only),
               else 127.0.0.1 at the default port of --server (Ollama's: 11434)
  Claude Code: --claude-version, else the installed `claude`, else the version
               config.toml was set up for, else the newest cclocal knows";

#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Commands whose `-v` also shows llama.cpp's own log.
const USES_LLAMA_CPP: &[&str] = &["bench", "runtime", "plan", "doctor"];

/// The full command line definition, as parsing, `--help` and completions see it.
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    // The global -v says nothing of llama.cpp; the commands that run it define their own -v
    // (clap propagates a global flag only to subcommands without one of the same id).
    for name in USES_LLAMA_CPP {
        cmd = cmd.mut_subcommand(*name, |sc| {
            sc.arg(
                clap::Arg::new("verbose")
                    .short('v')
                    .long("verbose")
                    .action(clap::ArgAction::SetTrue)
                    .help("Show more detail, and llama.cpp's own log where it runs"),
            )
        });
    }
    negative_numbers_are_values(cmd)
}

/// Every option that takes a value takes `-5` as its value too, so its own parser says what
/// range it wants ("not a number of round trips; 1 to 10000"), rather than clap's tip to
/// write `-- -5`; and one whose value is not a path completes to no file names.
fn negative_numbers_are_values(cmd: clap::Command) -> clap::Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|sc| sc.get_name().to_string())
        .collect();
    let mut cmd = cmd.mut_args(|a| {
        if a.get_long().is_none() || !a.get_action().takes_values() {
            return a;
        }
        // A value that is not a path (a number, a size, a switch) completes to nothing
        // rather than to file names; one with names completes to them.
        let ty = a.get_value_parser().type_id();
        let pathlike = ty == std::any::TypeId::of::<std::path::PathBuf>()
            || ty == std::any::TypeId::of::<String>()
            || ty == std::any::TypeId::of::<std::ffi::OsString>();
        let a = if !pathlike
            && a.get_value_hint() == clap::ValueHint::Unknown
            && a.get_value_parser().possible_values().is_none()
        {
            a.value_hint(clap::ValueHint::Other)
        } else {
            a
        };
        a.allow_negative_numbers(true)
    });
    for name in names {
        cmd = cmd.mut_subcommand(name, negative_numbers_are_values);
    }
    cmd
}

fn completions(args: &CompletionsArgs) -> error::Result<i32> {
    let mut cmd = command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "cclocal", &mut out);
    output::write_stdout(&out)?;
    Ok(0)
}

/// The one point where the commands that work on a HOME give up root when that HOME is
/// another user's (`crate::privilege`, docs/safety.md "Run as root"), before they read any
/// file there. `setup` is split: its user process does the user's files, and the root
/// process only installs the system drop-in; `Some(code)` is that root process's end.
fn home_owner_gate(command: &Command) -> error::Result<Option<i32>> {
    // Every command that reads a user's files or runs a program they name (the launcher's
    // `exec` line: doctor, status and verify run that Claude Code) works as the HOME's
    // owner; only `runtime`, `completions` and root's own `undo --system` do not touch HOME.
    let works_on_home = match command {
        Command::Undo(a) => !a.system,
        Command::Runtime(_) | Command::Completions(_) => false,
        _ => true,
    };
    if !works_on_home || crate::privilege::euid() != 0 {
        return Ok(None);
    }
    let Ok(paths) = crate::paths::Paths::from_env() else {
        // No HOME: the command says so itself; there is no user's file to protect.
        return Ok(None);
    };
    match command {
        Command::Setup(args) => {
            let serve = |req: &[u8]| setup::serve_root_part(args, req);
            match crate::privilege::enter_split(&paths, &serve)? {
                crate::privilege::Split::Parent(code) => Ok(Some(code)),
                _ => Ok(None),
            }
        }
        _ => {
            crate::privilege::enter(&paths)?;
            Ok(None)
        }
    }
}

/// Parses arguments, runs the command, prints errors; returns the exit code.
pub fn main() -> i32 {
    output::quiet_on_closed_stdout();
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match command()
        .try_get_matches_from(&argv)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(c) => {
            for w in args::old_spelling_warnings(&argv[1.min(argv.len())..]) {
                eprintln!("warning: {w}");
            }
            c
        }
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match home_owner_gate(&cli.command) {
        Ok(Some(code)) => return code,
        Ok(None) => {}
        Err(e) => {
            eprintln!("error: {e}");
            return e.exit_code();
        }
    }
    // Commands that change files go on when their reader leaves (docs/bounded.md).
    let changes_files = match &cli.command {
        Command::Setup(a) => !a.apply.dry_run,
        Command::Alias(a) => !a.apply.dry_run,
        Command::Undo(a) => !a.apply.dry_run,
        _ => false,
    };
    let held = changes_files.then(output::keep_going_if_closed);
    let result = match cli.command {
        Command::Plan(args) => plan::run(&args, cli.verbose),
        Command::Bench(args) => bench::run(&args, cli.verbose),
        Command::Runtime(args) => runtime::run(&args, cli.verbose),
        Command::Doctor(args) => doctor::run(&args, cli.verbose),
        Command::Setup(args) => setup::run(&args, cli.verbose),
        Command::Alias(args) => alias::run(&args, cli.verbose),
        Command::Undo(args) => undo::run(&args, cli.verbose),
        Command::Logs(args) => logs::run(&args, cli.verbose),
        Command::Status(args) => status::run(&args, cli.verbose),
        Command::Verify(args) => verify::run(&args, cli.verbose),
        Command::Completions(args) => completions(&args),
    };
    let code = match result {
        Ok(code) => code,
        Err(e) if output::is_closed_pipe(&e) => 0,
        Err(e) => {
            // An error can quote what a server or a file said: made safe for the terminal.
            eprintln!("error: {}", crate::term::clean_text(&e.to_string()));
            e.exit_code()
        }
    };
    if let Some(h) = held {
        h.finish();
    }
    code
}
