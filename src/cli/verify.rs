//! `cclocal verify`: run the installed Claude Code the way the launcher runs it, against
//! a loopback stub, and compare what it did with the plan (`crate::verify`).

use super::args;
use crate::doctor::HostEnv;
use crate::error::Result;
use crate::verify::{self, Mark, Report};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// Print the report as JSON: {"ok", "version", "items": [{"id", "mark", "observed",
    /// "planned", …}], "table", "causes", "expected", "observed", …}.
    #[arg(long)]
    pub json: bool,
    /// Run this Claude Code instead of the launcher's (or the one on PATH).
    #[arg(long, value_name = "PATH")]
    pub claude: Option<PathBuf>,
    /// Time limit in seconds for the whole check (three short Claude Code runs).
    #[arg(long, value_name = "SECONDS", value_parser = args::seconds, default_value_t = 60.0)]
    pub timeout: f64,
}

/// The report as text: a header, one line per item, then the causes and table notes.
pub fn render(r: &Report, verbose: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "cclocal verify: Claude Code {} ({}){}, model {}",
        r.version,
        r.claude,
        r.launcher
            .as_ref()
            .map(|l| format!(" through the launcher {l}"))
            .unwrap_or_default(),
        r.model.as_deref().unwrap_or("(Claude Code's default)")
    );
    for i in &r.items {
        let line = match i.mark {
            Mark::Ok => format!("{} {}: {}", i.mark.symbol(), i.label, i.observed),
            _ => format!(
                "{} {}: observed {}; planned {}",
                i.mark.symbol(),
                i.label,
                i.observed,
                i.planned
            ),
        };
        let _ = writeln!(s, "{line}");
        if let Some(n) = i
            .note
            .as_ref()
            .filter(|_| verbose || i.mark == Mark::Mismatch)
        {
            let _ = writeln!(s, "    {n}");
        }
    }
    for c in &r.causes {
        let _ = writeln!(s, "cause: {c}");
    }
    for f in &r.fixes {
        let _ = writeln!(s, "fix: {f}");
    }
    for t in &r.table {
        let _ = writeln!(
            s,
            "table: the row for Claude Code {} ({}) predicted {} = {}; Claude Code {} showed {}",
            t.versions, t.source, t.item, t.predicted, r.version, t.observed
        );
    }
    if verbose {
        let runs: Vec<String> = r
            .observed
            .runs
            .iter()
            .map(|x| format!("{} {:.1} s", x.name, x.ms as f64 / 1000.0))
            .collect();
        let _ = writeln!(s, "runs: {}", runs.join(", "));
    }
    let mismatches = r.items.iter().filter(|i| i.mark == Mark::Mismatch).count();
    let _ = writeln!(
        s,
        "{} in {:.1} s, no network: Claude Code talked to a stub on 127.0.0.1",
        if mismatches == 0 && r.table.is_empty() {
            "every observation matches the plan".to_string()
        } else if mismatches == 0 {
            "what Claude Code does fits the plan, but the version table is wrong for this build (the table lines above)".to_string()
        } else {
            format!("{mismatches} observation(s) differ from the plan")
        },
        r.elapsed_ms as f64 / 1000.0
    );
    s
}

/// Runs verify for this process's environment; saves the result for the doctor.
pub fn check(args: &VerifyArgs) -> Result<Report> {
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 600.0) {
        return Err(crate::error::Error::usage(format!(
            "--timeout {} is out of range",
            args.timeout
        ))
        .with_hint("give seconds between 0 and 600, e.g. --timeout 30"));
    }
    let host = HostEnv::from_process();
    let opts = verify::Options {
        timeout: Duration::from_secs_f64(args.timeout),
        claude: args.claude.clone(),
    };
    let target = verify::resolve(&host, &opts)?;
    let report = verify::verify(&target, &opts)?;
    // A run Claude Code made no request in observed nothing: there is nothing to keep.
    let observed = report.observed.runs.iter().any(|r| !r.calls.is_empty());
    if let Some(home) = host.home.as_ref().filter(|_| observed) {
        let dir = crate::paths::state_dir_with(
            home,
            host.vars.get("XDG_STATE_HOME").map(std::ffi::OsStr::new),
        );
        if let Err(e) = crate::doctor::verify_state::save(&dir, &verify::last(&report)) {
            eprintln!("note: the result was not saved in {}: {e}", dir.display());
        }
    }
    Ok(report)
}

pub fn run(args: &VerifyArgs, verbose: bool) -> Result<i32> {
    let report = check(args)?;
    if args.json {
        let mut out = serde_json::to_vec_pretty(&report).expect("json");
        out.push(b'\n');
        super::output::write_stdout(&out)?;
    } else {
        super::output::write_stdout(render(&report, verbose).as_bytes())?;
    }
    Ok(if report.ok { 0 } else { 1 })
}
