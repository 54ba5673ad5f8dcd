//! Taking a run back: every file it replaced gets its saved bytes and mode again, every
//! file it created is removed, and directories it created go when they are empty. A file
//! changed since the run is left alone unless forced.

use super::apply::apply;
use super::manifest::{list_runs, mark_undone, saved_bytes, Manifest};
use super::plan::{read_current, FileChange, ModeRule, Plan};
use crate::error::{Error, Result};
use std::path::Path;

/// The newest run that has not been undone.
pub fn last_run(runs_dir: &Path) -> Result<Option<Manifest>> {
    Ok(list_runs(runs_dir)?
        .into_iter()
        .rev()
        .find(|m| m.undone_unix.is_none()))
}

/// Plans taking back run `m`.
pub fn plan_undo(runs_dir: &Path, m: &Manifest, force: bool) -> Result<Plan> {
    let mut plan = Plan::default();
    for e in m.entries.iter().rev() {
        let expected = match &e.after {
            Some(name) => Some(saved_bytes(runs_dir, m, name)?),
            None => None,
        };
        let current = read_current(&e.real_path)?.map(|(b, _)| b);
        if current != expected && !force {
            return Err(Error::usage(
                "a file changed after cclocal wrote it; undo changed nothing",
            )
            .with_subject(e.path.display().to_string())
            .with_hint(
                "pass --force to restore it anyway (the later edits are lost), or edit it by hand",
            ));
        }
        let mut c = match (&e.before, e.before_mode) {
            (Some(name), Some(mode)) => FileChange::write(
                &e.real_path,
                saved_bytes(runs_dir, m, name)?,
                ModeRule::Exact(mode),
                &e.what,
            )?,
            _ => FileChange::delete(&e.real_path, &e.what)?,
        };
        c.path = e.path.clone();
        plan.push(c);
    }
    Ok(plan)
}

/// Applies an undo plan and marks the run undone. Returns the number of files changed.
pub fn apply_undo(runs_dir: &Path, m: &Manifest, plan: &Plan) -> Result<usize> {
    let n = plan.effective().count();
    apply(plan, None)?;
    for d in m.created_dirs.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
    mark_undone(runs_dir, m)?;
    Ok(n)
}
