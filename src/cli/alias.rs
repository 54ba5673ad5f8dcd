//! `cclocal alias`: print (or write into the rc file) the alias that runs the launcher.

use crate::error::{Error, Result};
use crate::setup::config;
use crate::setup::journal::Session;
use crate::setup::plan::{FileChange, Level, ModeRule, Plan};
use crate::setup::{apply, Paths, Record};
use crate::shell::{block, snippet, Shell};

#[derive(clap::Args, Debug)]
pub struct AliasArgs {
    /// The shell (default: from $SHELL).
    #[arg(value_enum)]
    pub shell: Option<Shell>,
    /// The alias name (default: the launcher's name, claude-local).
    #[arg(long)]
    pub name: Option<String>,
    /// Put it into the shell's rc file, between `# >>> cclocal >>>` and `# <<< cclocal <<<`.
    #[arg(long)]
    pub write: bool,
    /// Take the marked block out of the rc file again (undoable with `cclocal undo`).
    #[arg(long, conflicts_with = "write")]
    pub remove: bool,
    #[command(flatten)]
    pub apply: super::args::WriteArgs,
    /// With --write or --remove: print a machine-readable summary (JSON) on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &AliasArgs, _verbose: bool) -> Result<i32> {
    let paths = Paths::from_env()?;
    let shell = args.shell.or_else(Shell::from_env).ok_or_else(|| {
        let seen = match std::env::var_os("SHELL") {
            Some(s) if !s.is_empty() => format!("$SHELL is {}", s.to_string_lossy()),
            _ => "$SHELL is not set".to_string(),
        };
        Error::usage(format!(
            "cclocal writes aliases for bash, zsh and fish only, and {seen}"
        ))
        .with_hint(
            "name one of them: cclocal alias bash|zsh|fish (another shell can run the \
             launcher by its full path)",
        )
    })?;
    let prev = config::load(&paths.config_toml())?;
    let launcher_name = prev
        .as_ref()
        .map(|p| p.claude.launcher_name.clone())
        .unwrap_or_else(|| "claude-local".into());
    let launcher = prev
        .as_ref()
        .map(|p| std::path::PathBuf::from(&p.claude.launcher_path))
        .unwrap_or_else(|| paths.launcher(&launcher_name));
    if !launcher.is_file() {
        crate::teprintln!(
            "warning: {} does not exist yet; run `cclocal setup` to create it",
            launcher.display()
        );
    }
    let name = args.name.clone().unwrap_or(launcher_name);
    let text = snippet(shell, &name, &launcher)?;
    if !args.write && !args.remove {
        crate::tprint!("{text}");
        return Ok(0);
    }
    let say = |s: String| {
        if args.json {
            crate::teprintln!("{s}")
        } else {
            crate::tprintln!("{s}")
        }
    };
    let rc = shell.rc_file(&paths);
    let _session = if args.apply.dry_run {
        None
    } else {
        let s = Session::begin(&paths, true)?;
        super::output::say_recovered(&s);
        Some(s)
    };
    // One read of the rc file: the edit and apply's baseline come from the same bytes.
    let level = Level::RcBlock {
        block: (!args.remove).then(|| block(&text)),
    };
    let mut plan = Plan::default();
    plan.push(FileChange::edit(
        &rc,
        level,
        ModeRule::KeepOr(0o644),
        &format!("{} rc file", shell.name()),
    )?);
    let summary = plan.summary();
    if args.json {
        crate::teprint!("{summary}");
    } else {
        crate::tprint!("{summary}");
    }
    let runs = paths.runs_dir();
    let json = |run: Option<&crate::setup::manifest::Manifest>, applied: bool| {
        serde_json::json!({
            "command": if args.remove { "alias --remove" } else { "alias --write" },
            "dry_run": args.apply.dry_run,
            "applied": applied,
            "run_id": run.map(|m| m.id.clone()),
            "changes": plan.to_json(run.map(|m| (runs.as_path(), m))),
            "notes": plan.notes,
        })
    };
    if args.apply.dry_run {
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json(None, false)).expect("json")
            );
        } else {
            crate::tprint!("{}", plan.diff());
            crate::tprintln!("dry run: nothing was written");
        }
        return Ok(0);
    }
    if plan.is_noop() {
        say(if args.remove {
            format!("nothing to change: {} has no cclocal block", rc.display())
        } else {
            format!(
                "nothing to change: the alias is already in {}",
                rc.display()
            )
        });
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json(None, false)).expect("json")
            );
        }
        return Ok(0);
    }
    let run = apply(
        &plan,
        Some(Record {
            runs_dir: &runs,
            command: if args.remove {
                "alias --remove"
            } else {
                "alias"
            },
        }),
    )?;
    if args.remove {
        say(format!(
            "removed the cclocal block from {}; `cclocal undo` puts it back",
            rc.display()
        ));
    } else {
        say(format!(
            "wrote the `{name}` alias to {}; open a new shell (or source the file) to use it",
            rc.display()
        ));
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json(run.as_ref(), true)).expect("json")
        );
    }
    Ok(0)
}
