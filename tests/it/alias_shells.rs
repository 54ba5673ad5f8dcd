//! `cclocal alias`: the printed snippet for bash, zsh and fish passes each shell's syntax
//! check and shellcheck, works when sourced (even with a HOME containing spaces and a
//! quote), and `--write` owns only its marked block in the rc file, undoably.
use crate::support;
use crate::support::setup_home;

use setup_home::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn fake_claude(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join("claude");
    std::fs::write(&p, "#!/usr/bin/env python3\nimport json, os, sys\njson.dump(sys.argv[1:], open(os.environ['DUMP'], 'w'))\n").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A test home whose path has a space and a single quote.
fn odd_home() -> TestHome {
    let t = TestHome::new();
    let odd = t.dir.path().join("ho me'q");
    std::fs::rename(t.home(), &odd).unwrap();
    std::os::unix::fs::symlink(&odd, t.home()).unwrap();
    t
}

fn run_in(t: &TestHome, home: &Path, args: &[&str]) -> std::process::Output {
    t.command(args).env("HOME", home).output().unwrap()
}

#[test]
fn printed_snippets_pass_syntax_checks_and_run_the_launcher() {
    if support::tool("python3").is_none() {
        return;
    }
    let t = odd_home();
    let home = t.dir.path().join("ho me'q");
    let o = run_in(
        &t,
        &home,
        &[
            "setup",
            "--yes",
            "--only",
            "launcher",
            "--model",
            "m",
            "--ctx",
            "32768",
            "--claude-version",
            "2.1.332",
            "--host",
            "http://127.0.0.1:9",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let bin = t.dir.path().join("bin");
    fake_claude(&bin);
    for (shell, checks) in [
        (
            "bash",
            vec![("bash", vec!["-n"]), ("shellcheck", vec!["-s", "bash"])],
        ),
        ("zsh", vec![("zsh", vec!["-n"])]),
        ("fish", vec![("fish", vec!["--no-execute"])]),
    ] {
        let o = run_in(&t, &home, &["alias", shell, "--name", "cl"]);
        assert!(o.status.success(), "{}", text(&o));
        let snippet = t.dir.path().join(format!("snippet.{shell}"));
        std::fs::write(&snippet, &o.stdout).unwrap();
        for (tool, args) in checks {
            let Some(b) = support::tool(tool) else {
                continue;
            };
            let out = Command::new(b).args(&args).arg(&snippet).output().unwrap();
            assert!(
                out.status.success(),
                "{tool} on the {shell} snippet:\n{}\n{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // Source it and call the alias.
        let Some(sh) = support::tool(shell) else {
            continue;
        };
        let dump = t.dir.path().join(format!("dump-{shell}.json"));
        let script = match shell {
            "bash" => format!(
                "shopt -s expand_aliases\nsource {}\ncl 'a b' '$(x)'\n",
                cclocal::shell::quote::sh_quote(snippet.to_str().unwrap())
            ),
            "zsh" => format!(
                "source {}\ncl 'a b' '$(x)'\n",
                cclocal::shell::quote::sh_quote(snippet.to_str().unwrap())
            ),
            _ => format!(
                "source {}\ncl 'a b' '$(x)'\n",
                cclocal::shell::quote::fish_quote(snippet.to_str().unwrap())
            ),
        };
        let out = Command::new(sh)
            .arg("-c")
            .arg(&script)
            .env("HOME", &home)
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("DUMP", &dump)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let argv: Vec<String> = serde_json::from_slice(&std::fs::read(&dump).unwrap()).unwrap();
        assert_eq!(&argv[argv.len() - 2..], ["a b", "$(x)"], "{shell}");
        assert_eq!(argv[3], "m");
    }
}

#[test]
fn write_owns_only_its_block_and_undo_restores_the_rc_file() {
    let t = TestHome::new();
    let rc = t.home().join(".bashrc");
    let original = "# my bashrc\nexport PATH=\"$HOME/bin:$PATH\"\nalias ll='ls -l'"; // no trailing newline
    std::fs::write(&rc, original).unwrap();
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o640)).unwrap();

    let o = t.run(&["alias", "bash", "--write"]);
    assert!(o.status.success(), "{}", text(&o));
    let once = std::fs::read_to_string(&rc).unwrap();
    assert!(
        once.starts_with(&format!("{original}\n\n# >>> cclocal >>>\n")),
        "{once}"
    );
    assert!(once.ends_with("# <<< cclocal <<<\n"));
    assert!(once.contains("claude-local() {"));
    assert_eq!(
        std::fs::metadata(&rc).unwrap().permissions().mode() & 0o777,
        0o640,
        "mode kept"
    );

    // Same again: nothing to change, file untouched.
    let before = tree(t.dir.path());
    let o = t.run(&["alias", "bash", "--write"]);
    assert!(text(&o).contains("nothing to change"), "{}", text(&o));
    assert_eq!(tree(t.dir.path()), before);

    // A user line after the block, then a new name: the block is replaced in place.
    std::fs::write(&rc, format!("{once}echo after\n")).unwrap();
    let o = t.run(&["alias", "bash", "--write", "--name", "cc-local"]);
    assert!(o.status.success(), "{}", text(&o));
    let twice = std::fs::read_to_string(&rc).unwrap();
    assert!(twice.starts_with(&format!("{original}\n\n# >>> cclocal >>>\n")));
    assert!(
        twice.ends_with("# <<< cclocal <<<\necho after\n"),
        "{twice}"
    );
    assert!(twice.contains("cc-local() {") && !twice.contains("claude-local() {"));
    assert_eq!(twice.matches(">>> cclocal >>>").count(), 1);

    // Undo twice: first the rename, then the first write.
    assert!(t.run(&["undo"]).status.success());
    assert_eq!(
        std::fs::read_to_string(&rc).unwrap(),
        format!("{once}echo after\n")
    );
    // The user added a line after the first write's block: undo takes back only the
    // block (no --force needed) and keeps the user's line.
    let o = t.run(&["undo"]);
    assert!(o.status.success(), "{}", text(&o));
    let now = std::fs::read_to_string(&rc).unwrap();
    assert!(
        now.starts_with(original) && now.ends_with("echo after\n"),
        "{now}"
    );
    assert!(!now.contains("cclocal"), "{now}");
    assert_eq!(
        std::fs::metadata(&rc).unwrap().permissions().mode() & 0o777,
        0o640
    );
}

#[test]
fn alias_remove_takes_out_the_block_keeps_user_lines_and_is_undoable() {
    let t = TestHome::new();
    let rc = t.home().join(".bashrc");
    std::fs::write(&rc, "export A=1\n").unwrap();
    assert!(t.run(&["alias", "bash", "--write"]).status.success());
    let written = std::fs::read_to_string(&rc).unwrap();
    std::fs::write(&rc, format!("{written}export B=2\n")).unwrap();
    let o = t.run(&["alias", "bash", "--remove", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["applied"], true);
    assert_eq!(v["changes"][0]["action"], "modify");
    assert_eq!(v["changes"][0]["level"], "rc_block");
    let backup = v["changes"][0]["backup"].as_str().unwrap();
    assert_eq!(
        std::fs::read_to_string(backup).unwrap(),
        format!("{written}export B=2\n")
    );
    // The blank line `--write` put before the block goes with it (issue 21).
    assert_eq!(
        std::fs::read_to_string(&rc).unwrap(),
        "export A=1\nexport B=2\n"
    );
    // Nothing left to remove.
    let o = t.run(&["alias", "bash", "--remove"]);
    assert!(text(&o).contains("has no cclocal block"), "{}", text(&o));
    // A later user line, then undo: the block comes back, both user lines stay.
    std::fs::write(&rc, "export A=1\nexport B=2\nexport C=3\n").unwrap();
    let o = t.run(&["undo", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["applied"], true, "{v}");
    let now = std::fs::read_to_string(&rc).unwrap();
    assert!(
        now.contains("# >>> cclocal >>>") && now.contains("export C=3"),
        "{now}"
    );
    assert_eq!(now.matches(">>> cclocal >>>").count(), 1);
}

#[test]
fn markers_inside_a_heredoc_are_not_the_block() {
    let t = TestHome::new();
    let rc = t.home().join(".bashrc");
    let user = "cat > ~/notes.txt <<'EOF'\n# >>> cclocal >>>\nmy notes\n# <<< cclocal <<<\nEOF\n";
    std::fs::write(&rc, user).unwrap();
    let o = t.run(&["alias", "bash", "--write"]);
    assert!(o.status.success(), "{}", text(&o));
    let now = std::fs::read_to_string(&rc).unwrap();
    assert!(now.starts_with(user), "the heredoc is kept: {now}");
    // The function is really defined by bash.
    let Some(bash) = support::tool("bash") else {
        return;
    };
    let out = std::process::Command::new(bash)
        .arg("-c")
        .arg(format!(
            "HOME=/nonexistent; source {} >/dev/null 2>&1; type claude-local",
            rc.display()
        ))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("function"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_hard_linked_rc_file_is_written_in_place_so_its_twin_sees_it() {
    let t = TestHome::new();
    let dots = t.dir.path().join("dotfiles");
    std::fs::create_dir(&dots).unwrap();
    std::fs::write(dots.join("bashrc"), "export A=1\n").unwrap();
    let rc = t.home().join(".bashrc");
    std::fs::hard_link(dots.join("bashrc"), &rc).unwrap();
    assert!(t.run(&["alias", "bash", "--write"]).status.success());
    let twin = std::fs::read_to_string(dots.join("bashrc")).unwrap();
    assert!(
        twin.contains("# >>> cclocal >>>"),
        "the twin sees the block: {twin}"
    );
    assert_eq!(twin, std::fs::read_to_string(&rc).unwrap());
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(&rc).unwrap().nlink(), 2, "still one file");
    assert!(t.run(&["undo"]).status.success());
    assert_eq!(
        std::fs::read_to_string(dots.join("bashrc")).unwrap(),
        "export A=1\n"
    );
    assert_eq!(std::fs::metadata(&rc).unwrap().nlink(), 2);
}

#[test]
fn fish_writes_config_fish_and_broken_markers_are_refused() {
    let t = TestHome::new();
    let o = t.run(&["alias", "fish", "--write", "--dry-run"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("+function claude-local"), "{}", text(&o));
    assert!(
        !t.home().join(".config/fish/config.fish").exists(),
        "dry run writes nothing"
    );
    assert!(t.run(&["alias", "fish", "--write"]).status.success());
    let f = std::fs::read_to_string(t.home().join(".config/fish/config.fish")).unwrap();
    assert!(f.contains("function claude-local --wraps claude"), "{f}");

    let zrc = t.home().join(".zshrc");
    std::fs::write(&zrc, "# >>> cclocal >>>\nalias x=y\n").unwrap();
    let o = t.run(&["alias", "zsh", "--write"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("without its partner"), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(&zrc).unwrap(),
        "# >>> cclocal >>>\nalias x=y\n"
    );
    let o = t.run(&["alias", "zsh", "--name", "x;rm"]);
    assert_eq!(o.status.code(), Some(2));
}
