//! Command-line interface: argument parsing and dispatch. Each command lives in its own
//! file and only formats what the library computes.

mod alias;
mod bench;
mod doctor;
mod logs;
mod plan;
mod plan_measure;
mod runtime;
mod setup;
mod undo;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "cclocal",
    version,
    about = "Make Claude Code run well against a local LLM (Ollama, llama-server, LM Studio)."
)]
pub struct Cli {
    /// Show more detail (and llama.cpp's own log where it applies).
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
    /// Configure the Ollama server, a Claude Code launcher and onboarding in one step
    /// (planned, shown with --dry-run, applied atomically, undoable).
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
}

/// Parses arguments, runs the command, prints errors; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Plan(args) => plan::run(&args, cli.verbose),
        Command::Bench(args) => bench::run(&args, cli.verbose),
        Command::Runtime(args) => runtime::run(&args, cli.verbose),
        Command::Doctor(args) => doctor::run(&args, cli.verbose),
        Command::Setup(args) => setup::run(&args, cli.verbose),
        Command::Alias(args) => alias::run(&args, cli.verbose),
        Command::Undo(args) => undo::run(&args, cli.verbose),
        Command::Logs(args) => logs::run(&args, cli.verbose),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}
