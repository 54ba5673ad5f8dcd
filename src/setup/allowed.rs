//! The only paths recovery and undo act on (docs/safety.md, "What recovery and undo
//! touch"): the files setup and alias can plan — the launcher, the Claude Code settings,
//! `config.toml`, the rc files, `~/.claude.json` and the server files setup generates —
//! and the `ollama.service` drop-in. A journal or manifest naming anything else
//! (`..`, a relative name, another path, a folder on the way that is a symlink leading out
//! of HOME) is refused with its file and the path named, whoever runs cclocal: the state
//! folder is only data, never a list of orders.

use super::journal::Journal;
use super::manifest::Manifest;
use crate::error::{Error, Result};
use crate::paths::{systemd_dropin, Paths};
use std::path::{Component, Path, PathBuf};

/// The drop-in's path below a system root.
const DROPIN_TAIL: &str = "etc/systemd/system/ollama.service.d/cclocal.conf";

/// Every file setup and alias may plan for `paths` (the launcher's folder is checked apart:
/// its file name is the user's choice).
pub fn planned_files(paths: &Paths) -> Vec<PathBuf> {
    if let Some(root) = &paths.system_root {
        return vec![systemd_dropin(root)];
    }
    let mut v = vec![
        paths.claude_settings(),
        paths.config_toml(),
        paths.claude_json.clone(),
    ];
    // Each kind's service where setup installs it, and its files in cclocal's server
    // folder: the kind's own list (`server::<kind>::serve::PARTS`).
    let kinds = || crate::server::KINDS.iter().filter_map(|k| k.serve);
    for parts in kinds() {
        v.extend((parts.installed)(paths));
    }
    for sh in [
        crate::shell::Shell::Bash,
        crate::shell::Shell::Zsh,
        crate::shell::Shell::Fish,
    ] {
        v.push(sh.rc_file(paths));
    }
    // Zsh's rc file without ZDOTDIR too: the variable may differ between runs.
    v.push(paths.home.join(".zshrc"));
    let server = paths.server_dir();
    for parts in kinds() {
        v.extend(parts.files.iter().map(|name| server.join(name)));
    }
    v
}

/// `p` resolved the way setup resolves a planned path: a symlink at `p` is followed.
fn resolve(p: &Path) -> PathBuf {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
        }
        _ => p.to_path_buf(),
    }
}

/// Absolute, and no `..` anywhere.
fn clean(p: &Path) -> std::result::Result<(), &'static str> {
    if !p.is_absolute() {
        return Err("a relative name");
    }
    if p.components().any(|c| c == Component::ParentDir) {
        return Err("a path with `..` in it");
    }
    Ok(())
}

/// Lexically one of the files setup plans (or a file in the launcher's folder, or the
/// drop-in under a system root).
fn is_planned(paths: &Paths, p: &Path) -> bool {
    if planned_files(paths).iter().any(|a| a == p) {
        return true;
    }
    if paths.system_root.is_some() {
        return false;
    }
    let bin = paths.home.join(".local/bin");
    if p.parent() == Some(bin.as_path()) && p.file_name().is_some() {
        return true;
    }
    // The drop-in, recorded with the rest by root on its own HOME, or under a
    // `--system-root` folder (a packager's DESTDIR, the tests' stand-in system). Whoever
    // runs cclocal can only write there with their own rights (`crate::privilege`).
    p.ends_with(DROPIN_TAIL)
}

/// The folder `p` is planned below: HOME, or the longest of the XDG config folder,
/// cclocal's config folder, `~/.claude.json`'s folder and ZDOTDIR where they lie outside
/// HOME — or, for the drop-in, its system root.
fn base_of(paths: &Paths, p: &Path) -> PathBuf {
    let mut bases = vec![
        paths.home.clone(),
        paths.xdg_config.clone(),
        paths.config_dir.clone(),
        paths
            .claude_json
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
    ];
    if let Some(zsh) = crate::shell::Shell::Zsh.rc_file(paths).parent() {
        bases.push(zsh.to_path_buf());
    }
    if p.ends_with(DROPIN_TAIL) {
        let mut root = p.to_path_buf();
        for _ in Path::new(DROPIN_TAIL).components() {
            root.pop();
        }
        bases.push(root);
    }
    if let Some(root) = &paths.system_root {
        bases = vec![root.clone()];
    }
    let base = bases
        .into_iter()
        .filter(|b| !b.as_os_str().is_empty() && p.starts_with(b))
        .max_by_key(|b| b.components().count())
        .unwrap_or_else(|| paths.home.clone());
    // A folder inside HOME (`~/.config/cclocal`) may itself be a link: HOME is the base.
    if paths.system_root.is_none() && base.starts_with(&paths.home) {
        return paths.home.clone();
    }
    base
}

/// A folder between `p` and the folder it is planned below ([`base_of`]) that is a symlink
/// leading out of that folder (and out of HOME): the path it leads to. Links above that
/// folder (`/var` to `/private/var`, a HOME that is itself a link) are the system's layout.
fn symlinked_parent(paths: &Paths, p: &Path) -> Option<PathBuf> {
    let parent = p.parent()?;
    let real = std::fs::canonicalize(parent).ok()?;
    let canon = |b: &Path| std::fs::canonicalize(b).unwrap_or_else(|_| b.to_path_buf());
    let base = canon(&base_of(paths, p));
    if real.starts_with(&base) {
        return None;
    }
    if paths.system_root.is_none() && real.starts_with(canon(&paths.home)) {
        return None;
    }
    Some(real)
}

fn refuse(file: &Path, p: &Path, why: &str) -> Error {
    Error::usage(format!(
        "{} names {}: {why}; cclocal acts only on the files setup plans (launcher, Claude Code settings, config.toml, rc files, ~/.claude.json, its server files), so it did nothing with it",
        file.display(),
        p.display()
    ))
    .with_subject(file.display().to_string())
    .with_hint(format!(
        "cclocal did not write this record; move {} out of cclocal's state folder",
        file.display()
    ))
}

/// Checks one path a record names as a file to act on: `path` as the user knows it and
/// `real` the file written (itself, or where a symlink at `path` leads now).
pub fn check_file(paths: &Paths, file: &Path, path: &Path, real: &Path) -> Result<()> {
    for p in [path, real] {
        clean(p).map_err(|why| refuse(file, p, why))?;
    }
    if !is_planned(paths, path) {
        return Err(refuse(file, path, "not a file setup plans"));
    }
    if real != path && resolve(path) != real {
        return Err(refuse(
            file,
            real,
            &format!("not the file {} leads to", path.display()),
        ));
    }
    if let Some(to) = symlinked_parent(paths, path) {
        return Err(refuse(
            file,
            path,
            &format!("a folder on the way is a symlink to {}", to.display()),
        ));
    }
    Ok(())
}

/// A path an intent journal names (a written file: a planned path or where it leads).
fn check_journal_path(paths: &Paths, file: &Path, p: &Path) -> Result<()> {
    clean(p).map_err(|why| refuse(file, p, why))?;
    let planned = planned_files(paths)
        .into_iter()
        .any(|a| a == p || resolve(&a) == p)
        || is_planned(paths, p);
    if !planned {
        return Err(refuse(file, p, "not a file setup plans"));
    }
    if let Some(to) = symlinked_parent(paths, p) {
        return Err(refuse(
            file,
            p,
            &format!("a folder on the way is a symlink to {}", to.display()),
        ));
    }
    Ok(())
}

/// Checks every path of an intent journal (`file`) before recovery acts on it.
pub fn check_journal(paths: &Paths, file: &Path, j: &Journal) -> Result<()> {
    for p in &j.paths {
        check_journal_path(paths, file, p)?;
    }
    Ok(())
}

/// Checks every path and saved-copy name of run `m` (its manifest is `file`) before undo
/// or recovery acts on it.
pub fn check_manifest(paths: &Paths, file: &Path, m: &Manifest) -> Result<()> {
    for e in &m.entries {
        check_file(paths, file, &e.path, &e.real_path)?;
        for (name, prefix) in [(&e.before, "before-"), (&e.after, "after-")] {
            if let Some(n) = name {
                let ok = n
                    .strip_prefix(prefix)
                    .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
                if !ok {
                    return Err(refuse(
                        file,
                        Path::new(n),
                        "not a saved copy's name (before-N)",
                    ));
                }
            }
        }
    }
    for d in &m.created_dirs {
        clean(d).map_err(|why| refuse(file, d, why))?;
        let below_an_entry = m
            .entries
            .iter()
            .any(|e| e.path.starts_with(d) && e.path != *d);
        if !below_an_entry || paths.home.starts_with(d) {
            return Err(refuse(
                file,
                d,
                "not a folder on the way to a file of the run",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::manifest::Entry;
    use crate::setup::plan::{ChangeKind, Level};

    fn entry(path: &Path, real: &Path) -> Entry {
        Entry {
            path: path.to_path_buf(),
            real_path: real.to_path_buf(),
            what: "t".into(),
            action: ChangeKind::Create,
            before: None,
            before_mode: None,
            after: None,
            after_mode: Some(0o644),
            after_hash: None,
            before_hash: None,
            level: Level::File,
            before_part: None,
            undone: false,
        }
    }

    fn manifest(entries: Vec<Entry>) -> Manifest {
        Manifest {
            version: 1,
            id: "1".into(),
            created_unix: 0,
            command: "setup".into(),
            entries,
            created_dirs: Vec::new(),
            notes: Vec::new(),
            undone_unix: None,
            state: None,
        }
    }

    fn home() -> (tempfile::TempDir, Paths) {
        let d = tempfile::tempdir().unwrap();
        let p = Paths::under(d.path());
        (d, p)
    }

    #[test]
    fn planned_files_pass() {
        let (_d, p) = home();
        let f = Path::new("/m.json");
        for file in [
            p.launcher("claude-local"),
            p.launcher("my-claude"),
            p.claude_settings(),
            p.config_toml(),
            p.claude_json.clone(),
            p.home.join(".bashrc"),
            p.xdg_config.join("fish/config.fish"),
            p.server_dir().join("cclocal.conf"),
            p.server_dir().join(crate::server::vllm::serve::SCRIPT),
            p.server_dir().join(crate::server::vllm_mlx::serve::SCRIPT),
            crate::server::llama_server::serve::unit_path(&p.xdg_config),
        ] {
            check_file(&p, f, &file, &file).unwrap();
        }
    }

    #[test]
    fn dot_dot_relative_and_other_paths_are_refused() {
        let (_d, p) = home();
        let f = Path::new("/state/runs/1/manifest.json");
        let dotdot = p.home.join(".local/bin/../../../../etc/sudoers.d/x");
        let e = check_file(&p, f, &dotdot, &dotdot).unwrap_err();
        assert!(e.message.contains("`..`"), "{e}");
        assert!(e.message.contains("manifest.json"), "{e}");
        assert!(e.message.contains("sudoers.d"), "{e}");
        let rel = Path::new(".bashrc");
        let e = check_file(&p, f, rel, rel).unwrap_err();
        assert!(e.message.contains("relative"), "{e}");
        for other in [
            PathBuf::from("/etc/crontab"),
            p.home.join(".profile"),
            p.config_dir.join("other.toml"),
            p.home.join(".local/bin/sub/x"),
        ] {
            let e = check_file(&p, f, &other, &other).unwrap_err();
            assert!(e.message.contains("not a file setup plans"), "{e}");
        }
        // A planned path whose recorded real file is elsewhere.
        let rc = p.home.join(".bashrc");
        let e = check_file(&p, f, &rc, Path::new("/root/.bashrc")).unwrap_err();
        assert!(e.message.contains("not the file"), "{e}");
    }

    #[test]
    fn a_symlink_at_the_path_may_lead_to_its_recorded_target() {
        let (_d, p) = home();
        let dot = p.home.join("dotfiles");
        std::fs::create_dir(&dot).unwrap();
        std::fs::write(dot.join("bashrc"), "x").unwrap();
        let rc = p.home.join(".bashrc");
        std::os::unix::fs::symlink(dot.join("bashrc"), &rc).unwrap();
        let real = std::fs::canonicalize(dot.join("bashrc")).unwrap();
        check_file(&p, Path::new("/m"), &rc, &real).unwrap();
    }

    #[test]
    fn a_symlinked_folder_leading_out_of_home_is_refused() {
        let (_d, p) = home();
        let out = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(p.home.join(".local")).unwrap();
        std::os::unix::fs::symlink(out.path(), p.home.join(".local/bin")).unwrap();
        let l = p.launcher("claude-local");
        let e = check_file(&p, Path::new("/m"), &l, &l).unwrap_err();
        assert!(e.message.contains("symlink"), "{e}");
        // Inside HOME (a dotfiles folder) it is the user's own layout.
        let (_d2, p2) = home();
        std::fs::create_dir_all(p2.home.join("dots/cclocal")).unwrap();
        std::fs::create_dir_all(&p2.xdg_config).unwrap();
        std::os::unix::fs::symlink(p2.home.join("dots/cclocal"), &p2.config_dir).unwrap();
        let t = p2.config_toml();
        check_file(&p2, Path::new("/m"), &t, &t).unwrap();
        // cclocal's config folder itself a link out of HOME.
        let (_d3, p3) = home();
        std::fs::create_dir_all(&p3.xdg_config).unwrap();
        std::os::unix::fs::symlink(out.path(), &p3.config_dir).unwrap();
        let t = p3.config_toml();
        assert!(check_file(&p3, Path::new("/m"), &t, &t).is_err());
        // A HOME below a link (macOS: /var -> /private/var) is the system's layout.
        let (d4, _) = home();
        std::fs::create_dir_all(d4.path().join(".config/cclocal")).unwrap();
        let link = out.path().join("home-link");
        std::os::unix::fs::symlink(d4.path(), &link).unwrap();
        let p4 = Paths::under(&link);
        let t = p4.config_toml();
        check_file(&p4, Path::new("/m"), &t, &t).unwrap();
    }

    #[test]
    fn manifests_check_names_and_folders() {
        let (_d, p) = home();
        let f = Path::new("/m");
        let l = p.launcher("claude-local");
        let mut e = entry(&l, &l);
        e.before = Some("../../../../etc/shadow".into());
        let err = check_manifest(&p, f, &manifest(vec![e])).unwrap_err();
        assert!(err.message.contains("saved copy"), "{err}");
        let mut m = manifest(vec![entry(&l, &l)]);
        m.created_dirs = vec![p.home.join(".local"), p.home.join(".local/bin")];
        check_manifest(&p, f, &m).unwrap();
        m.created_dirs = vec![PathBuf::from("/etc/cron.d")];
        assert!(check_manifest(&p, f, &m).is_err());
        m.created_dirs = vec![p.home.clone()];
        assert!(check_manifest(&p, f, &m).is_err());
    }

    #[test]
    fn journals_may_name_planned_files_only() {
        let (_d, p) = home();
        let f = Path::new("/state/journal.json");
        let mut j = Journal {
            command: "setup".into(),
            undo: false,
            run_id: "1".into(),
            pid: 1,
            paths: vec![p.claude_json.clone(), p.launcher("claude-local")],
            started_unix: 0,
        };
        check_journal(&p, f, &j).unwrap();
        j.paths.push(PathBuf::from("/etc/nologin"));
        let e = check_journal(&p, f, &j).unwrap_err();
        assert!(e.message.contains("journal.json"), "{e}");
        assert!(e.message.contains("/etc/nologin"), "{e}");
        j.paths = vec![PathBuf::from("x/.bashrc")];
        assert!(check_journal(&p, f, &j).is_err());
    }

    #[test]
    fn roots_system_record_names_the_drop_in_only() {
        let d = tempfile::tempdir().unwrap();
        let p = Paths::system(d.path());
        let f = Path::new("/m");
        let dropin = systemd_dropin(d.path());
        check_file(&p, f, &dropin, &dropin).unwrap();
        let other = d.path().join("etc/sudoers");
        assert!(check_file(&p, f, &other, &other).is_err());
        let home_file = p.launcher("claude-local");
        assert!(check_file(&p, f, &home_file, &home_file).is_err());
    }
}
