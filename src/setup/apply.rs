//! Applies a plan: all new contents go to temporary files beside their targets first (so a
//! full disk or a read-only directory stops the run before any file changed), then each
//! target is checked against the bytes the plan read (its one baseline) immediately before
//! it is renamed into place. A file cclocal edits at a level (one JSON key, the rc block)
//! that moved on since is edited again on its fresh content; any other change is a
//! conflict. Any failure puts back what was already replaced, and never removes a file it
//! did not write or a backup it did not restore. An intent journal in the state directory
//! lets the next run finish the job when this one is killed (docs/safety.md).

use super::claude_lock::ClaudeLock;
use super::journal::{self, Journal};
use super::manifest::{self, Manifest};
use super::plan::{read_with_links, ChangeKind, FileChange, Level, Plan};
use crate::error::{Error, ErrorKind, Result};
pub use crate::fs::{create_dirs, temp_prefix, write_atomic};
use crate::fs::{sync_dir, write_temp, write_temp_with};
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Where and how to record a run for `cclocal undo`.
pub struct Record<'a> {
    pub runs_dir: &'a Path,
    pub command: &'a str,
}

/// The folders the changes of a plan need that do not exist yet (outermost first).
fn missing_dirs(changes: &[FileChange]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for c in changes.iter().filter(|c| c.new_bytes.is_some()) {
        let mut missing = Vec::new();
        let mut cur = c.real_path.parent();
        while let Some(d) = cur {
            if d.exists() || out.iter().any(|o| o == d) {
                break;
            }
            missing.push(d.to_path_buf());
            cur = d.parent();
        }
        out.extend(missing.into_iter().rev());
    }
    out
}

fn remove_dirs(created: &[PathBuf]) {
    for d in created.iter().rev() {
        let _ = fs::remove_dir(d);
    }
}

fn conflict(c: &FileChange) -> Error {
    Error::new(
        ErrorKind::Io,
        "the file changed after cclocal read it; it was not overwritten",
    )
    .with_subject(c.path.display().to_string())
    .with_hint("run the command again to plan against the new content; files already replaced in this run were put back")
}

/// `renameat2(from, to, flags)` (Linux 3.15+); an error where the filesystem or system
/// cannot (`EINVAL`, `ENOSYS`: the callers then fall back).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn renameat2(from: &Path, to: &Path, flags: libc::c_uint) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let ca = std::ffi::CString::new(from.as_os_str().as_bytes())?;
    let cb = std::ffi::CString::new(to.as_os_str().as_bytes())?;
    // SAFETY: two NUL-terminated paths that live across the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            flags,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Swaps two paths atomically (`RENAME_EXCHANGE`); an error where the filesystem or system
/// cannot (the caller then renames).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    renameat2(a, b, libc::RENAME_EXCHANGE as _)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// How often a one-key or block edit is made again on fresh content before giving up.
const MAX_REAPPLY: u32 = 50;

/// What an applied change left behind for its rollback.
struct Done {
    i: usize,
    /// A hard link to the replaced file (renamed back on rollback: no disk space needed).
    orig: Option<PathBuf>,
}

/// The engine's context: a new recorded run, the undo of a run, or neither.
pub enum Journaled<'a> {
    Plain,
    New(Record<'a>),
    Undo {
        runs_dir: &'a Path,
        run: &'a Manifest,
    },
}

/// Applies `plan`. Returns the recorded run, or `None` when there was nothing to do (then
/// no file, backup or manifest is touched).
pub fn apply(plan: &Plan, record: Option<Record<'_>>) -> Result<Option<Manifest>> {
    let how = match record {
        Some(r) => Journaled::New(r),
        None => Journaled::Plain,
    };
    apply_journaled(plan, how)
}

/// A file of the run that stays changed after a failed rollback.
struct Left {
    /// Its index in the plan.
    i: usize,
    path: PathBuf,
    why: String,
    /// It still holds what cclocal wrote (or may be damaged): `cclocal undo` restores it.
    ours: bool,
    /// A write in place that failed and could not be put back: only the backup restores it.
    damaged: bool,
}

fn left_message(left: &[Left]) -> String {
    left.iter()
        .map(|l| format!("\n  {} ({})", l.path.display(), l.why))
        .collect()
}

/// Applies `plan` with an intent journal (for a recorded run or an undo).
pub fn apply_journaled(plan: &Plan, how: Journaled<'_>) -> Result<Option<Manifest>> {
    let mut changes: Vec<FileChange> = plan.effective().cloned().collect();
    if changes.is_empty() {
        return Ok(None);
    }
    let (runs_dir, command, run_id) = match &how {
        Journaled::Plain => (None, "apply", String::new()),
        Journaled::New(r) => (
            Some(r.runs_dir),
            r.command,
            manifest::new_run_id(r.runs_dir),
        ),
        Journaled::Undo { runs_dir, run } => (Some(*runs_dir), "undo", run.id.clone()),
    };
    let pid = std::process::id();
    let state_dir = runs_dir.and_then(Path::parent).map(Path::to_path_buf);
    // The journal comes first: whatever happens after it, the next run can clean up.
    if let Some(sd) = &state_dir {
        manifest::private_dir(sd)?;
        journal::write(
            sd,
            &Journal {
                command: command.to_string(),
                undo: matches!(how, Journaled::Undo { .. }),
                run_id: run_id.clone(),
                pid,
                paths: changes.iter().map(|c| c.real_path.clone()).collect(),
                started_unix: manifest::now_unix(),
            },
        )?;
    }
    let clear_journal = || {
        if let Some(sd) = &state_dir {
            journal::clear(sd);
        }
    };
    journal::pause_point(command, "journal");
    // The run's manifest and backups come next: if they cannot be saved, nothing changes.
    let refs: Vec<&FileChange> = changes.iter().collect();
    let mut run = match &how {
        Journaled::New(r) => {
            match manifest::save_run(r.runs_dir, &run_id, r.command, &refs, &plan.notes) {
                Ok(run) => Some(run),
                Err(e) => {
                    clear_journal();
                    return Err(e);
                }
            }
        }
        _ => None,
    };
    drop(refs);
    let discard_run = |run: &Option<(Manifest, PathBuf)>| {
        if let Some((_, dir)) = run {
            let _ = fs::remove_dir_all(dir);
        }
    };
    journal::pause_point(command, "saved");
    // Phase 1: directories (recorded in the manifest before they are made, so that a run
    // killed right after still has them removed), then temporary files.
    let mut created_dirs = Vec::new();
    let mut temps: Vec<Option<PathBuf>> = Vec::new();
    let cleanup_temps = |temps: &[Option<PathBuf>]| {
        for t in temps.iter().flatten() {
            let _ = fs::remove_file(t);
        }
    };
    if let Some((m, dir)) = &mut run {
        let planned = missing_dirs(&changes);
        if !planned.is_empty() {
            m.created_dirs = planned;
            if let Err(e) = manifest::write_manifest(dir, m) {
                discard_run(&run);
                clear_journal();
                return Err(e);
            }
        }
    }
    let made = changes
        .iter()
        .filter(|c| c.new_bytes.is_some())
        .try_for_each(|c| {
            create_dirs(
                c.real_path.parent().unwrap_or(Path::new(".")),
                &mut created_dirs,
            )
        });
    if let Err(e) = made {
        remove_dirs(&created_dirs);
        discard_run(&run);
        clear_journal();
        return Err(e);
    }
    journal::pause_point(command, "dirs");
    for c in &changes {
        let step = match &c.new_bytes {
            Some(bytes) => write_temp(&c.real_path, bytes, c.mode).map(Some),
            None => Ok(None),
        };
        match step {
            Ok(t) => temps.push(t),
            Err(e) => {
                cleanup_temps(&temps);
                remove_dirs(&created_dirs);
                discard_run(&run);
                clear_journal();
                return Err(e);
            }
        }
    }
    if let Some((m, dir)) = &mut run {
        if m.created_dirs != created_dirs {
            m.created_dirs = created_dirs.clone();
            let _ = manifest::write_manifest(dir, m);
        }
    }
    journal::pause_point(command, "temps");
    // Phase 2: check each file against its baseline and replace it.
    let mut done: Vec<Done> = Vec::new();
    let mut damaged: Vec<(PathBuf, String)> = Vec::new();
    let mut failure: Option<Error> = None;
    for i in 0..changes.len() {
        journal::pause_point(command, &format!("rename-{i}"));
        if let Err(e) = commit(
            &mut changes[i],
            &mut temps[i],
            i,
            &mut run,
            command,
            &mut done,
            &mut damaged,
        ) {
            failure = Some(e);
            break;
        }
        journal::pause_point(command, &format!("renamed-{i}"));
    }
    cleanup_temps(&temps);
    if let Some(e) = failure {
        let mut left = roll_back(&changes, &done);
        left.extend(damaged.iter().map(|(p, why)| {
            Left {
                i: changes
                    .iter()
                    .position(|c| &c.path == p)
                    .unwrap_or(usize::MAX),
                path: p.clone(),
                why: why.clone(),
                ours: true,
                damaged: true,
            }
        }));
        if left.is_empty() {
            remove_dirs(&created_dirs);
            discard_run(&run);
            clear_journal();
            return Err(e);
        }
        // Files stay changed: keep the run (its backups) so that undo can finish the job.
        // Only what still holds cclocal's bytes is left for undo: files put back, never
        // written, or written by someone else since are marked as needing nothing.
        let (what, fix) = match &run {
            Some((m, dir)) => {
                let mut m = m.clone();
                m.state = Some("incomplete".into());
                for (j, entry) in m.entries.iter_mut().enumerate() {
                    match left.iter().find(|l| l.i == j && l.ours) {
                        Some(l) if l.damaged => entry.level = Level::File,
                        Some(_) => {}
                        None => entry.undone = true,
                    }
                }
                let _ = manifest::write_manifest(dir, &m);
                (format!("backups kept in {}", dir.display()), "cclocal undo")
            }
            None => (String::new(), "cclocal undo"),
        };
        clear_journal();
        let msg = format!(
            "{}; putting the files back failed, so these stay changed:{}",
            e.message,
            left_message(&left)
        );
        return Err(Error::new(e.kind, msg)
            .with_subject(e.subject.clone().unwrap_or_default())
            .with_hint(format!(
                "free space or fix the cause above, then run `{fix}` to restore them{}",
                if what.is_empty() {
                    String::new()
                } else {
                    format!(" ({what})")
                }
            )));
    }
    for d in &done {
        if let Some(o) = &d.orig {
            let _ = fs::remove_file(o);
        }
    }
    let result = match run {
        Some((mut m, dir)) => {
            m.state = None;
            manifest::write_manifest(&dir, &m)?;
            Some(m)
        }
        None => {
            let refs: Vec<&FileChange> = changes.iter().collect();
            Some(Manifest::unrecorded(&refs))
        }
    };
    clear_journal();
    Ok(result)
}

/// Checks change `i` against its baseline (editing a level change again on fresh content)
/// and puts it in place; what it replaced goes into `done` (for a rollback) as soon as the
/// file changed, so that an error after that (a backup that cannot be saved) still puts it
/// back. A hard-linked file whose write failed and could not be restored is named in
/// `damaged`: its run's backups must be kept.
#[allow(clippy::too_many_arguments)]
fn commit(
    c: &mut FileChange,
    temp: &mut Option<PathBuf>,
    i: usize,
    run: &mut Option<(Manifest, PathBuf)>,
    command: &str,
    done: &mut Vec<Done>,
    damaged: &mut Vec<(PathBuf, String)>,
) -> Result<()> {
    let target = c.real_path.clone();
    // `~/.claude.json`: Claude Code's own lock, taken as Claude Code takes it, is held from
    // the check to the rename (and the backup), so a Claude Code that saves its
    // configuration meanwhile waits and then reads what cclocal wrote.
    let lock = match c.level {
        Level::JsonKey { .. } => Some(ClaudeLock::acquire(&c.path)?),
        _ => None,
    };
    if lock.is_some() {
        journal::pause_point(command, &format!("locked-{i}"));
    }
    let orig_name =
        target.with_file_name(format!("{}orig", temp_prefix(&target, std::process::id())));
    let mut tries = 0;
    let mut unsynced = false;
    let mut swapped = false;
    let orig = 'commit: loop {
        // A hard-linked file is written through one descriptor, opened and checked here.
        let mut in_place: Option<File> = None;
        let orig = loop {
            // A hard link to the file as it is now, made before the check, so that the check
            // is the last thing before the rename and a rollback needs no disk space.
            let _ = fs::remove_file(&orig_name);
            let orig = match &c.old {
                Some(_) if c.nlink <= 1 => fs::hard_link(&target, &orig_name)
                    .ok()
                    .map(|_| orig_name.clone()),
                _ => None,
            };
            let now = read_with_links(&c.real_path)?;
            let now_bytes = now.as_ref().map(|(b, _, _)| b);
            if now_bytes == c.old.as_ref() {
                match (&c.old, &c.new_bytes) {
                    (Some(old), Some(_)) if c.nlink > 1 => {
                        if let Some(f) = open_checked(&target, old)? {
                            in_place = Some(f);
                            break orig;
                        }
                        // Replaced between the read and the open: read it again.
                        tries += 1;
                        if tries > MAX_REAPPLY {
                            return Err(kept_changing(c));
                        }
                        continue;
                    }
                    _ => break orig,
                }
            }
            let linked = u64::from(orig.is_some());
            if let Some(o) = &orig {
                let _ = fs::remove_file(o);
            }
            tries += 1;
            if c.level == Level::File {
                return Err(conflict(c));
            }
            if tries > MAX_REAPPLY {
                return Err(kept_changing(c));
            }
            // Claude Code (or the user) rewrote the file: make the same edit on what is there now.
            if let Some((_, m, _)) = &now {
                super::plan::check_writable(&c.path, *m, &c.level)?;
            }
            let fresh = now.as_ref().map(|(b, _, _)| b.as_slice());
            let Some(new) = c.level.edit(&c.path, fresh)? else {
                // The change is already there (or nothing is left to remove).
                if let Some(t) = temp.take() {
                    let _ = fs::remove_file(t);
                }
                c.kind = ChangeKind::Unchanged;
                return Ok(());
            };
            let (old, old_mode, nlink) = match now {
                Some((b, m, n)) => (Some(b), Some(m), n.saturating_sub(linked)),
                None => (None, None, 0),
            };
            c.old = old;
            c.old_mode = old_mode;
            c.nlink = nlink;
            if let Some(m) = old_mode {
                c.mode = m;
            }
            c.kind = if c.old.is_some() {
                ChangeKind::Modify
            } else {
                ChangeKind::Create
            };
            if let Some(t) = temp.take() {
                let _ = fs::remove_file(t);
            }
            // Not synced yet: a sync takes longer than a busy writer waits between writes, and
            // the check must come right before the rename. The file is synced after it.
            *temp = Some(write_temp_with(&c.real_path, &new, c.mode, false)?);
            unsynced = true;
            c.new_bytes = Some(new);
        };
        journal::pause_point(command, &format!("checked-{i}"));
        if lock.as_ref().is_some_and(|l| !l.still_held()) {
            if let Some(o) = &orig {
                let _ = fs::remove_file(o);
            }
            return Err(conflict(c).with_hint(
                "Claude Code took its lock over while cclocal held it (a very slow disk?); run the command again; files already replaced in this run were put back",
            ));
        }

        // A hard-linked file: written through the descriptor that was checked, the space it
        // needs reserved first, so that every link sees the change and a failed write puts
        // the old bytes back.
        if let (Some(f), Some(new), Some(old)) = (&in_place, &c.new_bytes, &c.old) {
            if let Err((e, state)) = write_through(f, new, old, c.mode) {
                if state == InPlace::Damaged {
                    damaged.push((
                        c.path.clone(),
                        format!("its write failed and the old content could not be put back: {e}"),
                    ));
                }
                return Err(Error::io(&target, "write", e).with_hint(match state {
                    InPlace::Untouched => "it was not changed (no byte of it was written); free space or fix the cause, then run the command again",
                    InPlace::Restored => "its old content was written back; free space or fix the cause, then run the command again",
                    InPlace::Damaged => "restore it from the backup named below",
                }));
            }
            if let Some(t) = temp.take() {
                let _ = fs::remove_file(t);
            }
            if !same_file(f, &target) {
                // Renamed over between the check and the write: the file now at the path is
                // someone else's; the edit is made again on it.
                tries += 1;
                if tries > MAX_REAPPLY {
                    return Err(kept_changing(c));
                }
                let new = c.new_bytes.clone().unwrap_or_default();
                *temp = Some(write_temp_with(&c.real_path, &new, c.mode, false)?);
                continue 'commit;
            }
            break orig;
        }

        // Linux: swap the new file in atomically and look at what came out. Should a writer
        // have slipped in between the check and the swap, its file is swapped back, so
        // nothing it wrote is lost, and the edit is made again on it.
        let can_swap = c.new_bytes.is_some() && c.old.is_some() && c.nlink <= 1;
        if let (true, Some(tmp)) = (can_swap, temp.clone()) {
            if exchange(&tmp, &target).is_ok() {
                let replaced = fs::read(&tmp).ok();
                if let Some(o) = &orig {
                    let _ = fs::remove_file(o);
                }
                if replaced.as_ref() == c.old.as_ref() {
                    // `tmp` now holds the replaced file: it is the copy a rollback renames back.
                    *temp = None;
                    swapped = true;
                    break 'commit fs::rename(&tmp, &orig_name).ok().map(|_| orig_name.clone());
                }
                let back = exchange(&tmp, &target);
                if back.is_ok() && fs::read(&tmp).ok() != c.new_bytes {
                    // A second write landed while cclocal's file was in place: that newest
                    // file goes back in place; the older one is kept below.
                    let _ = exchange(&tmp, &target);
                }
                if back.is_err() || fs::read(&tmp).ok() != c.new_bytes {
                    // Whatever is in `tmp` now is someone's: keep it, under a name that says so.
                    let keep = target.with_file_name(format!(
                        "{}.cclocal-kept-{}",
                        target.file_name().unwrap_or_default().to_string_lossy(),
                        std::process::id()
                    ));
                    let _ = fs::rename(&tmp, &keep);
                    *temp = None;
                    return Err(conflict(c).with_hint(format!(
                        "another program wrote it at the same moment; the content cclocal took out is kept in {}",
                        keep.display()
                    )));
                }
                continue 'commit;
            }
        }
        // A new file is created without replacing one that appeared since the check (Claude
        // Code creating its configuration): that one is then edited, or is a conflict.
        if let (None, Some(_), Some(tmp)) = (&c.old, &c.new_bytes, temp.clone()) {
            match rename_noreplace(&tmp, &target) {
                Ok(()) => {
                    *temp = None;
                    break orig;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue 'commit,
                Err(e) => {
                    let _ = fs::remove_file(&tmp);
                    *temp = None;
                    return Err(Error::io(&target, "create", e));
                }
            }
        }
        break orig;
    };
    let target = &c.real_path;
    let step = match (&c.new_bytes, temp.take()) {
        _ if swapped => Ok(()),
        (Some(_), None) => Ok(()),
        (Some(_), Some(tmp)) => fs::rename(&tmp, target).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            Error::io(target, "replace", e)
        }),
        (None, _) => fs::remove_file(target).map_err(|e| Error::io(target, "remove", e)),
    };
    if let Err(e) = step {
        if let Some(o) = orig {
            let _ = fs::remove_file(o);
        }
        return Err(e);
    }
    if unsynced {
        if let Ok(f) = File::open(target) {
            let _ = f.sync_all();
        }
    }
    sync_dir(target.parent().unwrap_or(Path::new(".")));
    // From here on the file is changed: a failure below still takes it back.
    done.push(Done { i, orig });
    if unsynced {
        // Edited again on fresh content: the backup becomes what was replaced. Until it is
        // saved, the hard link `orig` holds that content; a kill in between is taken back
        // at the key/block level, which needs no backup.
        if let Some((m, dir)) = run {
            if let Some(b) = &c.old {
                write_atomic(&dir.join(format!("before-{i}")), b, 0o600)
                    .map_err(|e| e.with_hint(PUT_BACK))?;
            }
            m.entries[i] = manifest::entry_for(i, c);
            manifest::write_manifest(dir, m).map_err(|e| e.with_hint(PUT_BACK))?;
        }
    }
    drop(lock);
    Ok(())
}

/// The hint of an error after a file was replaced: the rollback puts it back (when it
/// cannot, the run's error lists what stays changed instead).
const PUT_BACK: &str =
    "the files this run had replaced, this one included, were put back; free space or fix the cause, then run the command again";

fn kept_changing(c: &FileChange) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("the file kept changing while cclocal edited it ({MAX_REAPPLY} tries); it was not overwritten"),
    )
    .with_subject(c.path.display().to_string())
    .with_hint("run the command again when the program writing it (Claude Code?) is idle; files already replaced in this run were put back")
}

/// Opens `target` for writing in place and checks, through that one descriptor, that it
/// still holds `expected` and is still the file at the path. `None`: it changed.
fn open_checked(target: &Path, expected: &[u8]) -> Result<Option<File>> {
    use std::io::Read;
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(target)
        .map_err(|e| Error::io(target, "open for writing", e))?;
    let mut now = Vec::with_capacity(expected.len());
    f.read_to_end(&mut now)
        .map_err(|e| Error::io(target, "read", e))?;
    Ok((now == expected && same_file(&f, target)).then_some(f))
}

/// Whether the open file `f` is the file at `path` now.
fn same_file(f: &File, path: &Path) -> bool {
    match (f.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Reserves the blocks `len` bytes need in `f` without changing its content or size
/// (`fallocate` with `FALLOC_FL_KEEP_SIZE`). Filesystems that cannot are not an error: the
/// write below then restores the old bytes itself when it fails.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn reserve(f: &File, len: usize) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: fallocate on a descriptor this `File` owns; no memory is passed.
    let r = unsafe { libc::fallocate(f.as_raw_fd(), libc::FALLOC_FL_KEEP_SIZE, 0, len as _) };
    if r == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::ENOSPC) | Some(libc::EDQUOT) | Some(libc::EFBIG) => Err(e),
        _ => Ok(()),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn reserve(_f: &File, _len: usize) -> std::io::Result<()> {
    Ok(())
}

/// What a failed write in place left in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InPlace {
    /// Nothing was written (the space could not be reserved).
    Untouched,
    /// Bytes were written, and the old ones written back.
    Restored,
    /// Neither the new nor the old content is certain: only the backup restores it.
    Damaged,
}

/// Rewrites a hard-linked file in place through `f` (so every link keeps seeing it): the
/// space is reserved first, the new bytes are written over the old ones without truncating
/// first, and only then is the file cut to its new length (which needs no space). When the
/// write fails the old bytes are written back. `Err((error, what the file holds))`.
fn write_through(
    f: &File,
    new: &[u8],
    old: &[u8],
    mode: u32,
) -> std::result::Result<(), (std::io::Error, InPlace)> {
    use std::os::unix::fs::FileExt;
    if let Err(e) = reserve(f, new.len()) {
        return Err((e, InPlace::Untouched));
    }
    if let Err(e) = f.write_all_at(new, 0) {
        let restored = f
            .write_all_at(old, 0)
            .and_then(|_| f.set_len(old.len() as u64))
            .and_then(|_| f.sync_all())
            .is_ok();
        let state = if restored {
            InPlace::Restored
        } else {
            InPlace::Damaged
        };
        return Err((e, state));
    }
    f.set_len(new.len() as u64)
        .and_then(|_| f.sync_all())
        .map_err(|e| (e, InPlace::Damaged))?;
    if f.metadata().ok().map(|m| m.permissions().mode() & 0o7777) != Some(mode) {
        let _ = f.set_permissions(fs::Permissions::from_mode(mode));
    }
    Ok(())
}

/// Puts `tmp` at `target` only when nothing is there (`renameat2(RENAME_NOREPLACE)`, or
/// `link` + `unlink` where that is not available): a file created meanwhile is never
/// replaced (`AlreadyExists`).
fn rename_noreplace(tmp: &Path, target: &Path) -> std::io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    match renameat2(tmp, target, libc::RENAME_NOREPLACE as _) {
        Ok(()) => return Ok(()),
        Err(e) if !matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS)) => {
            return Err(e)
        }
        Err(_) => {}
    }
    fs::hard_link(tmp, target)?;
    let _ = fs::remove_file(tmp);
    Ok(())
}

/// Puts back the files of `done` (in reverse) as the plan found them. A file that no longer
/// holds what this run wrote belongs to someone else now and is left alone. Returns the
/// files that stay changed, with why.
fn roll_back(changes: &[FileChange], done: &[Done]) -> Vec<Left> {
    let mut left = Vec::new();
    for d in done.iter().rev() {
        let c = &changes[d.i];
        let leave = |why: String, ours: bool| Left {
            i: d.i,
            path: c.path.clone(),
            why,
            ours,
            damaged: false,
        };
        // `~/.claude.json` is put back under Claude Code's lock too.
        let _lock = match c.level {
            Level::JsonKey { .. } => match ClaudeLock::acquire(&c.path) {
                Ok(l) => Some(l),
                Err(e) => {
                    left.push(leave(format!("could not be put back: {}", e.message), true));
                    continue;
                }
            },
            _ => None,
        };
        let now = fs::read(&c.real_path).ok();
        if now != c.new_bytes {
            if let Some(o) = &d.orig {
                let _ = fs::remove_file(o);
            }
            if now.is_some() || c.new_bytes.is_some() {
                left.push(leave(
                    "changed by another program since cclocal wrote it; left as it is".into(),
                    false,
                ));
            }
            continue;
        }
        let restored = match (&d.orig, &c.old, c.old_mode) {
            (Some(o), _, _) => fs::rename(o, &c.real_path)
                .map_err(|e| Error::io(&c.real_path, "put back", e))
                .or_else(|e| {
                    let _ = fs::remove_file(o);
                    match (&c.old, c.old_mode) {
                        (Some(b), Some(m)) => write_atomic(&c.real_path, b, m),
                        _ => Err(e),
                    }
                }),
            (None, Some(bytes), Some(mode)) if c.nlink > 1 => {
                match c
                    .new_bytes
                    .as_deref()
                    .map(|new| open_checked(&c.real_path, new))
                {
                    Some(Ok(Some(f))) => {
                        write_through(&f, bytes, c.new_bytes.as_deref().unwrap_or_default(), mode)
                            .map_err(|(e, _)| Error::io(&c.real_path, "put back", e))
                    }
                    Some(Err(e)) => Err(e),
                    _ => {
                        left.push(leave(
                            "changed by another program since cclocal wrote it; left as it is"
                                .into(),
                            false,
                        ));
                        continue;
                    }
                }
            }
            (None, Some(bytes), Some(mode)) => write_atomic(&c.real_path, bytes, mode),
            _ => fs::remove_file(&c.real_path).map_err(|e| Error::io(&c.real_path, "remove", e)),
        };
        if let Err(e) = restored {
            left.push(leave(format!("could not be put back: {}", e.message), true));
        }
    }
    left
}

#[cfg(test)]
mod tests {
    use super::super::plan::ModeRule;
    use super::*;

    #[test]
    fn applies_and_rolls_back_on_conflict() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("sub/a");
        let b = d.path().join("b");
        fs::write(&b, "old b").unwrap();
        let mut plan = Plan::default();
        plan.push(FileChange::write(&a, b"new a".to_vec(), ModeRule::Exact(0o644), "a").unwrap());
        plan.push(FileChange::write(&b, b"new b".to_vec(), ModeRule::KeepOr(0o644), "b").unwrap());
        // Someone edits b after the plan was made.
        fs::write(&b, "edited b").unwrap();
        let err = apply(&plan, None).unwrap_err();
        assert!(
            err.message.contains("changed after cclocal read it"),
            "{err}"
        );
        assert!(!a.exists(), "a must be rolled back");
        assert!(!d.path().join("sub").exists(), "created directory removed");
        assert_eq!(fs::read_to_string(&b).unwrap(), "edited b");
        let leftovers: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }

    #[test]
    fn noop_plan_records_nothing() {
        let d = tempfile::tempdir().unwrap();
        let runs = d.path().join("runs");
        let plan = Plan::default();
        assert!(apply(
            &plan,
            Some(Record {
                runs_dir: &runs,
                command: "t"
            })
        )
        .unwrap()
        .is_none());
        assert!(!runs.exists());
    }
}
