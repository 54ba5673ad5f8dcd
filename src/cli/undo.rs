//! `cclocal undo`: take back the last setup (or alias) run, at the level it changed each
//! file (docs/safety.md).

use crate::error::{Error, Result};
use crate::setup::journal::Session;
use crate::setup::manifest::{format_time, list_all, BrokenRun, Run};
use crate::setup::undo::{apply_undo, last_run, plan_undo};
use crate::setup::{ChangeKind, Paths};
use crate::shell::quote::sh_quote;

#[derive(clap::Args, Debug)]
pub struct UndoArgs {
    /// List the recorded runs instead.
    #[arg(long)]
    pub list: bool,
    /// Also restore files cclocal owns (launcher, settings) that changed after it wrote
    /// them (those later edits are lost). Never needed for ~/.claude.json or rc files.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub apply: super::args::WriteArgs,
    /// Print a machine-readable summary (JSON) on stdout.
    #[arg(long)]
    pub json: bool,
    /// Take back what root installed as root (the `ollama.service` drop-in of a setup run
    /// with sudo on a user's HOME), from root's own record in /var/lib/cclocal. Root only.
    #[arg(long)]
    pub system: bool,
    /// With --system: the system files live under this directory instead of `/` (as
    /// setup's --system-root).
    #[arg(long, value_name = "DIR", hide = true, requires = "system")]
    pub system_root: Option<std::path::PathBuf>,
}

/// How to put a damaged run's files back by hand.
fn broken_help(b: &BrokenRun) -> String {
    let mut s = format!(
        "run {} cannot be undone automatically: {}\n  its saved copies are in {}",
        b.id,
        b.error,
        b.dir.display()
    );
    if b.salvaged.is_empty() {
        s.push_str(&format!(" ({})", b.files.join(", ")));
    } else {
        s.push_str("; to restore them by hand:");
        for (name, path) in &b.salvaged {
            s.push_str(&format!(
                "\n    cp {} {}",
                sh_quote(&b.dir.join(name).display().to_string()),
                sh_quote(&path.display().to_string())
            ));
        }
    }
    s
}

fn broken_json(b: &BrokenRun) -> serde_json::Value {
    serde_json::json!({
        "id": b.id,
        "damaged": b.error,
        "dir": b.dir.display().to_string(),
        "files": b.files,
        "restore": b.salvaged.iter().map(|(n, p)| serde_json::json!({
            "backup": b.dir.join(n).display().to_string(),
            "path": p.display().to_string(),
        })).collect::<Vec<_>>(),
    })
}

fn list(paths: &Paths, json: bool) -> Result<i32> {
    let runs = list_all(&paths.runs_dir())?;
    if json {
        let v: Vec<serde_json::Value> = runs
            .iter()
            .rev()
            .map(|r| match r {
                Run::Ok(m) => serde_json::json!({
                    "id": m.id,
                    "created_unix": m.created_unix,
                    "command": m.command,
                    "undone_unix": m.undone_unix,
                    "state": m.state,
                    "entries": m.entries.iter().map(|e| serde_json::json!({
                        "path": e.path.display().to_string(),
                        "what": e.what,
                        "action": e.action,
                        "backup": e.before.as_ref().map(|b| paths.runs_dir().join(&m.id).join(b).display().to_string()),
                    })).collect::<Vec<_>>(),
                }),
                Run::Broken(b) => broken_json(b),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
        return Ok(0);
    }
    if runs.is_empty() {
        crate::tprintln!("no recorded runs");
    }
    for r in runs.iter().rev() {
        let m = match r {
            Run::Ok(m) => m,
            Run::Broken(b) => {
                crate::tprintln!("{}  DAMAGED RECORD", b.id);
                for l in broken_help(b).lines() {
                    crate::tprintln!("    {l}");
                }
                continue;
            }
        };
        let state = match (m.undone_unix, m.state.as_deref()) {
            (Some(t), _) => format!("undone {}", format_time(t)),
            (None, Some("incomplete")) => "incomplete: `cclocal undo` restores it".into(),
            (None, Some(s)) => s.to_string(),
            (None, None) => "active".into(),
        };
        crate::tprintln!(
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
            crate::tprintln!("    {verb:<8} {}  ({})", e.path.display(), e.what);
        }
    }
    Ok(0)
}

pub fn run(args: &UndoArgs, _verbose: bool) -> Result<i32> {
    let paths = if args.system {
        if crate::privilege::euid() != 0 {
            return Err(Error::usage(
                "`cclocal undo --system` takes back what root installed, so it runs as root",
            )
            .with_hint("sudo cclocal undo --system"));
        }
        Paths::system(
            args.system_root
                .as_deref()
                .unwrap_or(std::path::Path::new("/")),
        )
    } else {
        Paths::from_env()?
    };
    let runs_dir = paths.runs_dir();
    if args.list {
        return list(&paths, args.json);
    }
    // Under the lock: no other run writes meanwhile, and an interrupted one is finished.
    let session = if args.apply.dry_run {
        None
    } else {
        Some(Session::begin(&paths, false)?)
    };
    if let Some(s) = &session {
        super::output::say_recovered(s);
    }
    let say = |s: String| {
        if args.json {
            crate::teprintln!("{s}")
        } else {
            crate::tprintln!("{s}")
        }
    };
    let m = match last_run(&runs_dir, args.force)? {
        None => {
            say("nothing to undo: no recorded run (see `cclocal undo --list`)".into());
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"command": "undo", "applied": false, "run_id": null, "changes": []})
                );
            }
            return Ok(0);
        }
        Some(Run::Broken(b)) => {
            return Err(Error::parse(broken_help(&b))
                .with_subject(b.dir.display().to_string())
                .with_hint(format!(
                    "after restoring, move {} away; then `cclocal undo` continues with the runs before it",
                    b.dir.display()
                )))
        }
        Some(Run::Ok(m)) => m,
    };
    // Only the files setup plans, whoever wrote the manifest.
    crate::setup::allowed::check_manifest(
        &paths,
        &runs_dir
            .join(&m.id)
            .join(crate::setup::manifest::MANIFEST_FILE),
        &m,
    )?;
    let up = plan_undo(&runs_dir, &m, args.force)?;
    say(format!(
        "undo {} run {} of {}:",
        m.command,
        m.id,
        format_time(m.created_unix)
    ));
    let summary = up.plan.summary();
    if args.json {
        crate::teprint!("{summary}");
    } else {
        crate::tprint!("{summary}");
    }
    for (p, why) in &up.skipped {
        say(format!("  left    {}  ({why})", p.display()));
    }
    let json = |applied: bool| {
        serde_json::json!({
            "command": "undo",
            "dry_run": args.apply.dry_run,
            "applied": applied,
            "run_id": m.id,
            "run_command": m.command,
            "changes": up.plan.to_json(None),
            "skipped": up.skipped.iter().map(|(p, why)| serde_json::json!({"path": p.display().to_string(), "reason": why})).collect::<Vec<_>>(),
        })
    };
    if args.apply.dry_run {
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json(false)).expect("json")
            );
        } else {
            crate::tprint!("{}", up.plan.diff());
            crate::tprintln!("dry run: nothing was written");
        }
        return Ok(0);
    }
    let (stop, reload) = crate::setup::undo::llama_service_commands(&m);
    // Without an answering user systemd nothing ran from the unit, and once the files are
    // restored a printed `systemctl --user …` would name a unit that is gone: say what is
    // true instead.
    let no_systemd = |lines: &[String]| {
        lines
            .first()
            .is_some_and(|l| crate::setup::system::did_not_start(l) && !l.starts_with('`'))
    };
    let mut systemd = true;
    if !stop.is_empty() {
        let lines = crate::setup::system::run_systemd_user(&stop, "stop llama-server");
        if no_systemd(&lines) {
            systemd = false;
            say(format!(
                "note: your user systemd did not answer, so llama-server never ran from {}; a llama-server you started directly keeps running until you stop it",
                crate::server::llama_server::serve::UNIT_NAME
            ));
        } else {
            lines.into_iter().for_each(&say);
        }
    }
    let n = apply_undo(&runs_dir, &m, &up)?;
    say(format!("restored {n} file(s)"));
    if !reload.is_empty() && systemd {
        let lines = crate::setup::system::run_systemd_user(&reload, "reload llama-server's unit");
        if no_systemd(&lines) {
            say(format!(
                "note: your user systemd did not answer; the earlier {} is back, and a llama-server you started directly still runs with the settings undo took back: restart it with the restored unit's ExecStart= line",
                crate::server::llama_server::serve::UNIT_NAME
            ));
        } else {
            lines.into_iter().for_each(&say);
        }
    }
    if m.entries.iter().any(|e| {
        e.path.ends_with(format!(
            "{}.plist",
            crate::server::llama_server::serve::LAUNCH_AGENT_LABEL
        ))
    }) {
        say(format!(
            "note: stop the llama-server LaunchAgent with `launchctl bootout gui/$(id -u)/{}` (a changed one: bootout, then `launchctl bootstrap gui/$(id -u) ~/Library/LaunchAgents/{0}.plist`)",
            crate::server::llama_server::serve::LAUNCH_AGENT_LABEL
        ));
    }
    if m.entries.iter().any(|e| {
        e.path.extension().is_some_and(|x| x == "plist")
            && e.path.starts_with(paths.home.join("Library"))
            && !e.path.ends_with(format!(
                "{}.plist",
                crate::server::llama_server::serve::LAUNCH_AGENT_LABEL
            ))
    }) {
        say("note: the LaunchAgent's variables stay set until logout; clear them now with `launchctl bootout gui/$(id -u)/com.cclocal.ollama-env` and `launchctl unsetenv` for each OLLAMA_ variable, then restart Ollama".into());
    }
    if m.entries
        .iter()
        .any(|e| e.path.ends_with("ollama.service.d/cclocal.conf") && e.path.starts_with("/etc"))
    {
        say("note: run `systemctl daemon-reload && systemctl restart ollama` to drop the removed settings".into());
    }
    if crate::privilege::dropped() {
        // Root's part of a `sudo cclocal setup` (the drop-in) has its own record.
        say("note: a systemd drop-in root installed for this user's setup is taken back with `sudo cclocal undo --system`".into());
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json(true)).expect("json")
        );
    }
    Ok(0)
}
