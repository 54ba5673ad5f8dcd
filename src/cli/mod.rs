//! Command-line interface: argument parsing and dispatch. Each command lives in its own
//! file and only formats what the library computes.

mod doctor;
mod plan;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "cclocal", version, about = "Make Claude Code run well against a local LLM (Ollama, llama-server, LM Studio).")]
pub struct Cli {
    /// Show more detail (and llama.cpp's own log where it applies).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Memory of weights, KV cache and recurrent state per context length, the largest
    /// context that fits, and the Claude Code settings that follow.
    Plan(plan::PlanArgs),
    /// Checks Claude Code, the server and the model together, with a fix for every finding.
    Doctor(doctor::DoctorArgs),
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
        Command::Doctor(args) => doctor::run(&args, cli.verbose),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}
