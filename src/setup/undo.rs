//! Taking a run back at the level it changed each file (docs/safety.md):
//!
//! - a file still holding what the run wrote gets its saved bytes and mode again (or is
//!   removed when the run created it);
//! - a file already back as it was needs nothing;
//! - `~/.claude.json`, which Claude Code rewrites on every start: the one key is put back
//!   as it was (removed, or its old value) on the file's current content;
//! - a shell rc file: the marked block is put back as it was on the current content, so
//!   lines the user added since stay;
//! - a file cclocal owns that someone changed since is left as it is and named, with the
//!   command that restores cclocal's backup (`--force` restores it).
//!
//! Every other file of the run is taken back regardless.

use super::apply::{apply_journaled, Journaled};
use super::manifest::{hash, list_all, mark_undone, saved_bytes, Entry, Manifest, Run};
use super::plan::{read_with_links, FileChange, Level, ModeRule, Plan};
use crate::error::Result;
use crate::shell::quote::sh_quote;
use std::path::{Path, PathBuf};

/// The `systemctl --user` commands undo runs for llama-server's unit when taking back run
/// `m` (before the files are restored, and after): what the run did to the unit, read
/// from its record, given to llama-server's own `undo_service_commands`.
pub fn llama_service_commands(m: &Manifest) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    use crate::server::llama_server::serve::{undo_service_commands, unit_tail, UnitChange};
    use crate::setup::plan::ChangeKind;
    let tail = unit_tail();
    let changes: Vec<UnitChange> = m
        .entries
        .iter()
        .filter(|e| e.path.ends_with(&tail))
        .filter_map(|e| match e.action {
            ChangeKind::Create => Some(UnitChange::Created),
            ChangeKind::Modify => Some(UnitChange::Modified),
            ChangeKind::Delete | ChangeKind::Unchanged => None,
        })
        .collect();
    undo_service_commands(&changes)
}

/// The newest run that has not been undone (a run whose manifest is damaged counts: it
/// is reported rather than skipped). With `force`, a run whose undo left files that changed
/// after cclocal wrote them counts too: `cclocal undo --force` is what that undo suggested.
pub fn last_run(runs_dir: &Path, force: bool) -> Result<Option<Run>> {
    Ok(list_all(runs_dir)?.into_iter().rev().find(|r| match r {
        Run::Ok(m) => m.undone_unix.is_none() || (force && left_files(m)),
        Run::Broken(_) => true,
    }))
}

/// Whether an undo of `m` left files for `undo --force` (they are not marked undone).
pub fn left_files(m: &Manifest) -> bool {
    m.notes.iter().any(|n| n.starts_with(LEFT_NOTE)) && m.entries.iter().any(|e| !e.undone)
}

/// How a run's notes record a file its undo left as it was.
const LEFT_NOTE: &str = "undo left ";

/// What undo will do for a run.
#[derive(Debug, Clone, Default)]
pub struct UndoPlan {
    pub plan: Plan,
    /// Files left as they are, with why and how to restore them by hand.
    pub skipped: Vec<(PathBuf, String)>,
}

fn after_matches(runs_dir: &Path, m: &Manifest, e: &Entry, current: Option<&[u8]>) -> bool {
    match (&e.after_hash, &e.after, current) {
        (Some(h), _, Some(c)) => hash(c) == *h,
        (None, Some(name), Some(c)) => saved_bytes(runs_dir, m, name).is_ok_and(|b| b == c),
        (None, None, None) => true,
        _ => false,
    }
}

/// The shell command that puts cclocal's saved copy of `e` back by hand.
fn manual_restore(runs_dir: &Path, m: &Manifest, e: &Entry) -> String {
    let p = sh_quote(&e.real_path.display().to_string());
    match &e.before {
        Some(name) => format!(
            "cp {} {p}",
            sh_quote(&runs_dir.join(&m.id).join(name).display().to_string())
        ),
        None => format!("rm {p}"),
    }
}

/// Plans taking back run `m`. With `force`, files cclocal owns are restored even when
/// they changed since.
pub fn plan_undo(runs_dir: &Path, m: &Manifest, force: bool) -> Result<UndoPlan> {
    let mut up = UndoPlan::default();
    for e in m.entries.iter().rev() {
        if e.undone {
            continue;
        }
        // One read: the decision below and apply's baseline come from the same bytes.
        let read = read_with_links(&e.real_path)?;
        let current = read.as_ref().map(|(b, _, _)| b.clone());
        let before = match &e.before {
            Some(name) => Some(saved_bytes(runs_dir, m, name)?),
            None => None,
        };
        let restore_whole = |before: Option<Vec<u8>>| -> Result<FileChange> {
            let (bytes, mode) = match (before, e.before_mode) {
                (Some(b), Some(m)) => (Some(b), m),
                _ => (None, 0),
            };
            Ok(FileChange::on_read(
                e.real_path.clone(),
                e.real_path.clone(),
                read.clone(),
                bytes,
                ModeRule::Exact(mode),
                &e.what,
            ))
        };
        // The edit that takes this file back at its level (None: whole file).
        let level = match &e.level {
            Level::File => None,
            Level::JsonKey { key, .. } => Some(Level::JsonKey {
                key: key.clone(),
                value: e.before_part.clone(),
            }),
            Level::RcBlock { .. } => Some(Level::RcBlock {
                block: e.before_part.clone(),
            }),
        };
        let mut c = if after_matches(runs_dir, m, e, current.as_deref()) {
            // Exactly as the run left it: the saved bytes come back. Should the file move
            // on before the rename, apply makes the level edit on its fresh content.
            let mut c = restore_whole(before)?;
            if let Some(l) = level {
                c.level = l;
            }
            c
        } else if current == before {
            continue;
        } else {
            match level {
                Some(level) => {
                    match FileChange::edit(&e.real_path, level, ModeRule::KeepOr(0o600), &e.what) {
                        Ok(c) => c,
                        Err(err) => {
                            up.skipped.push((
                                e.path.clone(),
                                format!(
                                    "{}; cclocal's copy from before the run: {}",
                                    err.message,
                                    manual_restore(runs_dir, m, e)
                                ),
                            ));
                            continue;
                        }
                    }
                }
                None if force => restore_whole(before)?,
                None => {
                    up.skipped.push((
                        e.path.clone(),
                        format!(
                            "changed after cclocal wrote it, so it was left as it is; to restore cclocal's copy anyway: {} (or `cclocal undo --force` now)",
                            manual_restore(runs_dir, m, e)
                        ),
                    ));
                    continue;
                }
            }
        };
        c.path = e.path.clone();
        up.plan.push(c);
    }
    Ok(up)
}

/// Applies an undo plan and marks the run undone. Returns the number of files changed.
pub fn apply_undo(runs_dir: &Path, m: &Manifest, up: &UndoPlan) -> Result<usize> {
    let n = up.plan.effective().count();
    apply_journaled(&up.plan, Journaled::Undo { runs_dir, run: m })?;
    for d in m.created_dirs.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
    let mut m = m.clone();
    // The files taken back are marked, so that `undo --force` later plans only those left.
    for e in m.entries.iter_mut() {
        if !up.skipped.iter().any(|(p, _)| *p == e.path) {
            e.undone = true;
        }
    }
    m.notes.retain(|n| !n.starts_with(LEFT_NOTE));
    m.notes.extend(
        up.skipped
            .iter()
            .map(|(p, why)| format!("{LEFT_NOTE}{}: {why}", p.display())),
    );
    mark_undone(runs_dir, &m)?;
    Ok(n)
}
