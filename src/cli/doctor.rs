//! `cclocal doctor`: checks Claude Code, the server and the model, with a fix for every
//! finding. Exit 0 without error findings, 1 with any (or any warning with `--strict`),
//! 2 on usage errors.

use super::args;
use crate::doctor::{self, render, HostEnv, Options};
use crate::error::{Error, Result};
use std::io::IsTerminal;

#[derive(clap::Args, Debug)]
pub struct DoctorArgs {
    /// Print the report as JSON: {"cclocal_version", "findings", "facts"}.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub strict: args::StrictArgs,
    #[command(flatten)]
    pub probe: args::ProbeArgs,
    #[command(flatten)]
    pub host: args::HostArgs,
    #[command(flatten)]
    pub server: args::ServerArgs,
    #[command(flatten)]
    pub model: args::ModelArgs,
    /// Check only the server, its configuration and the model (run this on the server
    /// host when Ollama runs on another machine).
    #[arg(long)]
    pub server_only: bool,
    /// Let the embedded llama.cpp allocate the model's context (without weights) for the
    /// authoritative "does it fit" figure, after the probes (about a second more).
    #[arg(long)]
    pub measure: bool,
}

pub fn run(args: &DoctorArgs, verbose: bool) -> Result<i32> {
    let budget = args.probe.budget()?;
    if let Some(h) = &args.host.host {
        crate::server::ServerUrl::parse_for(h, args.server.server).map_err(|e| {
            let hint = e.hint.clone().unwrap_or_default();
            Error::new(e.kind, format!("--host: {}", e.message))
                .with_subject(h.clone())
                .with_hint(hint)
        })?;
    }
    let opts = Options {
        offline: args.probe.offline,
        server_only: args.server_only,
        host: args.host.host.clone(),
        model: args.model.model.clone(),
        budget,
        service_probes: std::env::var_os("CCLOCAL_DOCTOR_NO_SERVICE_PROBES").is_none(),
        measure: args.measure,
        server: args.server.server,
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
    Ok(doctor::exit_code(&report.findings, args.strict.strict))
}

trait OsEmpty {
    fn is_none_or_empty(&self) -> bool;
}

impl OsEmpty for Option<std::ffi::OsString> {
    fn is_none_or_empty(&self) -> bool {
        self.as_ref().map_or(true, |v| v.is_empty())
    }
}
