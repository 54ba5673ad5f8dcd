//! `cclocal alias`: print (or write into the rc file) the alias that runs the launcher.

use crate::error::{Error, Result};
use crate::setup::config;
use crate::setup::plan::{read_current, FileChange, ModeRule, Plan};
use crate::setup::{apply, Paths, Record};
use crate::shell::{block, snippet, upsert_block, Shell};

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
    /// With --write: show the change as a diff and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: &AliasArgs, _verbose: bool) -> Result<i32> {
    let paths = Paths::from_env()?;
    let shell = args.shell.or_else(Shell::from_env).ok_or_else(|| {
        Error::usage("cannot tell the shell from $SHELL")
            .with_hint("name it: cclocal alias bash|zsh|fish")
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
        eprintln!(
            "warning: {} does not exist yet; run `cclocal setup` to create it",
            launcher.display()
        );
    }
    let name = args.name.clone().unwrap_or(launcher_name);
    let text = snippet(shell, &name, &launcher)?;
    if !args.write {
        print!("{text}");
        return Ok(0);
    }
    let rc = shell.rc_file(&paths);
    let current = read_current(&rc)?.map(|(b, _)| b).unwrap_or_default();
    let current = String::from_utf8(current).map_err(|_| {
        Error::parse("the rc file is not UTF-8 text; cclocal leaves it alone")
            .with_subject(rc.display().to_string())
    })?;
    let new = upsert_block(&current, &block(&text), &rc)?;
    let mut plan = Plan::default();
    plan.push(FileChange::write(
        &rc,
        new.into_bytes(),
        ModeRule::KeepOr(0o644),
        &format!("{} rc file", shell.name()),
    )?);
    print!("{}", plan.summary());
    if args.dry_run {
        print!("{}", plan.diff());
        println!("dry run: nothing was written");
        return Ok(0);
    }
    if plan.is_noop() {
        println!(
            "nothing to change: the alias is already in {}",
            rc.display()
        );
        return Ok(0);
    }
    let runs = paths.runs_dir();
    apply(
        &plan,
        Some(Record {
            runs_dir: &runs,
            command: "alias",
        }),
    )?;
    println!(
        "wrote the `{name}` alias to {}; open a new shell (or source the file) to use it",
        rc.display()
    );
    Ok(0)
}
