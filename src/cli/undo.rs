//! `cclocal undo`: take back the last setup (or alias) run, byte for byte.

use crate::error::Result;
use crate::setup::manifest::{format_time, list_runs};
use crate::setup::undo::{apply_undo, last_run, plan_undo};
use crate::setup::{ChangeKind, Paths};

#[derive(clap::Args, Debug)]
pub struct UndoArgs {
    /// List the recorded runs instead.
    #[arg(long)]
    pub list: bool,
    /// Restore even files that changed after cclocal wrote them (those later edits are lost).
    #[arg(long)]
    pub force: bool,
    /// Show what undo would change and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: &UndoArgs, _verbose: bool) -> Result<i32> {
    let paths = Paths::from_env()?;
    let runs_dir = paths.runs_dir();
    if args.list {
        let runs = list_runs(&runs_dir)?;
        if runs.is_empty() {
            println!("no recorded runs");
        }
        for m in runs.iter().rev() {
            let state = match m.undone_unix {
                Some(t) => format!("undone {}", format_time(t)),
                None => "active".into(),
            };
            println!(
                "{}  {}  {}  ({state})",
                m.id,
                format_time(m.created_unix),
                m.command
            );
            for e in &m.entries {
                let verb = match e.action {
                    ChangeKind::Create => "created",
                    ChangeKind::Modify => "changed",
                    ChangeKind::Delete => "removed",
                    ChangeKind::Unchanged => "kept",
                };
                println!("    {verb:<8} {}  ({})", e.path.display(), e.what);
            }
        }
        return Ok(0);
    }
    let Some(m) = last_run(&runs_dir)? else {
        println!("nothing to undo: no recorded run (see `cclocal undo --list`)");
        return Ok(0);
    };
    let plan = plan_undo(&runs_dir, &m, args.force)?;
    println!(
        "undo {} run {} of {}:",
        m.command,
        m.id,
        format_time(m.created_unix)
    );
    print!("{}", plan.summary());
    if args.dry_run {
        print!("{}", plan.diff());
        println!("dry run: nothing was written");
        return Ok(0);
    }
    let (stop, reload) = crate::setup::llama_server::undo_service_commands(&m);
    if !stop.is_empty() {
        for line in crate::setup::system::run_systemd_user(&stop, "stop llama-server") {
            println!("{line}");
        }
    }
    let n = apply_undo(&runs_dir, &m, &plan)?;
    println!("restored {n} file(s)");
    if !reload.is_empty() {
        for line in crate::setup::system::run_systemd_user(&reload, "reload llama-server's unit") {
            println!("{line}");
        }
    }
    if m.entries.iter().any(|e| {
        e.path.ends_with(format!(
            "{}.plist",
            crate::setup::llama_server::LAUNCH_AGENT_LABEL
        ))
    }) {
        println!(
            "note: stop the llama-server LaunchAgent with `launchctl bootout gui/$(id -u)/{}` (a changed one: bootout, then `launchctl bootstrap gui/$(id -u) ~/Library/LaunchAgents/{0}.plist`)",
            crate::setup::llama_server::LAUNCH_AGENT_LABEL
        );
    }
    if m.entries.iter().any(|e| {
        e.path.extension().is_some_and(|x| x == "plist")
            && e.path.starts_with(paths.home.join("Library"))
            && !e.path.ends_with(format!(
                "{}.plist",
                crate::setup::llama_server::LAUNCH_AGENT_LABEL
            ))
    }) {
        println!("note: the LaunchAgent's variables stay set until logout; clear them now with `launchctl bootout gui/$(id -u)/com.cclocal.ollama-env` and `launchctl unsetenv` for each OLLAMA_ variable, then restart Ollama");
    }
    if m.entries
        .iter()
        .any(|e| e.path.ends_with("ollama.service.d/cclocal.conf") && e.path.starts_with("/etc"))
    {
        println!("note: run `systemctl daemon-reload && systemctl restart ollama` to drop the removed settings");
    }
    Ok(0)
}
