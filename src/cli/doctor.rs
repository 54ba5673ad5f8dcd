//! `cclocal doctor`: checks Claude Code, the server and the model, with a fix for every
//! finding. Exit 0 without error findings, 1 with any (or any warning with `--strict`),
//! 2 on usage errors.

use super::args;
use crate::doctor::{self, render, HostEnv, Options};
use crate::error::{Error, Result};
use std::io::IsTerminal;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct DoctorArgs {
    /// Print the report as JSON: {"cclocal_version", "findings", "facts"}.
    #[arg(long)]
    pub json: bool,
    /// Exit 1 on warnings too.
    #[arg(long)]
    pub strict: bool,
    /// Do not contact the server; check local files only.
    #[arg(long)]
    pub offline: bool,
    /// The server (host, host:port, http://host:port; without a port, the default port of
    /// --server, else 11434). Default: the one order of every command (`cclocal --help`):
    /// Claude Code's ANTHROPIC_BASE_URL, then config.toml's server, then OLLAMA_HOST, then
    /// 127.0.0.1 at that port.
    #[arg(long, value_name = args::URL, value_parser = args::host)]
    pub host: Option<String>,
    /// The server's kind, which skips detecting it from its answers: ollama, llama-server,
    /// lmstudio, vllm, vllm-mlx, omlx, mlx-lm, unknown.
    #[arg(long, value_name = args::KIND, value_parser = args::server_kinds())]
    pub server: Option<crate::server::ServerKind>,
    /// The model Claude Code will use (default: ANTHROPIC_MODEL or the settings' model).
    #[arg(long, value_name = args::MODEL)]
    pub model: Option<String>,
    /// Check only the server, its configuration and the model (run this on the server
    /// host when Ollama runs on another machine).
    #[arg(long)]
    pub server_only: bool,
    /// Total time budget in seconds for all probes.
    #[arg(long, value_name = "SECONDS", value_parser = args::seconds, default_value_t = 2.8)]
    pub timeout: f64,
    /// Let the embedded llama.cpp allocate the model's context (without weights) for the
    /// authoritative "does it fit" figure, after the probes (about a second more).
    #[arg(long)]
    pub measure: bool,
}

pub fn run(args: &DoctorArgs, verbose: bool) -> Result<i32> {
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 600.0) {
        return Err(
            Error::usage(format!("--timeout {} is out of range", args.timeout))
                .with_hint("give seconds between 0 and 600, e.g. --timeout 5"),
        );
    }
    if let Some(h) = &args.host {
        crate::server::ServerUrl::parse_for(h, args.server).map_err(|e| {
            let hint = e.hint.clone().unwrap_or_default();
            Error::new(e.kind, format!("--host: {}", e.message))
                .with_subject(h.clone())
                .with_hint(hint)
        })?;
    }
    let opts = Options {
        offline: args.offline,
        server_only: args.server_only,
        host: args.host.clone(),
        model: args.model.clone(),
        budget: Duration::from_secs_f64(args.timeout),
        service_probes: std::env::var_os("CCLOCAL_DOCTOR_NO_SERVICE_PROBES").is_none(),
        measure: args.measure,
        server: args.server,
    };
    if args.measure {
        crate::runtime::require("doctor --measure")?;
    }
    let report = doctor::diagnose(&opts, &HostEnv::from_process());
    if args.json {
        let doc = render::json(&report.facts, &report.findings);
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).map_err(|e| Error::parse(e.to_string()))?
        );
    } else {
        let colour =
            std::env::var_os("NO_COLOR").is_none_or_empty() && std::io::stdout().is_terminal();
        print!(
            "{}",
            render::human_report(&report.facts, &report.findings, verbose, colour)
        );
    }
    Ok(doctor::exit_code(&report.findings, args.strict))
}

trait OsEmpty {
    fn is_none_or_empty(&self) -> bool;
}

impl OsEmpty for Option<std::ffi::OsString> {
    fn is_none_or_empty(&self) -> bool {
        self.as_ref().map_or(true, |v| v.is_empty())
    }
}
