//! The CLI around the commands: --version, --help, completions loaded by the real shells,
//! and a closed output pipe (`cclocal status` with the real Claude Code: `real::status_cli`).

use crate::support;
use crate::support::setup_home::text;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

#[test]
fn version_and_exit_codes_in_help() {
    let o = support::cclocal().arg("--version").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("cclocal {}", env!("CARGO_PKG_VERSION"))
    );
    let o = support::cclocal().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("Exit codes"), "{help}");
    assert!(help.contains("2  a usage error"), "{help}");
    // A usage error exits 2, as --help says.
    let o = support::cclocal().arg("--no-such-flag").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn verbose_mentions_llama_cpp_only_where_it_runs() {
    let help = |c: &str| {
        let o = support::cclocal().args([c, "--help"]).output().unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    for c in ["setup", "undo", "alias", "logs", "status", "completions"] {
        let h = help(c);
        let line = h.lines().find(|l| l.contains("--verbose")).unwrap_or("");
        assert!(!line.is_empty(), "{c} has no -v: {h}");
        assert!(!line.contains("llama.cpp"), "{c}: {line}");
    }
    for c in ["bench", "runtime"] {
        let h = help(c);
        let line = h.lines().find(|l| l.contains("--verbose")).unwrap();
        assert!(line.contains("llama.cpp"), "{c}: {line}");
    }
}

fn completion_script(shell: &str) -> (tempfile::TempDir, PathBuf) {
    let o = support::cclocal()
        .args(["completions", shell])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.stdout.len() > 500, "{shell}: a tiny script");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(format!("cclocal.{shell}"));
    std::fs::write(&p, &o.stdout).unwrap();
    (dir, p)
}

#[test]
fn bash_loads_the_completions() {
    let Some(bash) = support::tool("bash") else {
        return;
    };
    let (_d, p) = completion_script("bash");
    let o = Command::new(bash)
        .args(["--norc", "--noprofile", "-c"])
        .arg(format!("source {} && complete -p cclocal", p.display()))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(out.contains("complete") && out.contains("cclocal"), "{out}");
    assert!(o.stderr.is_empty(), "{}", text(&o));
}

#[test]
fn zsh_loads_the_completions() {
    let Some(zsh) = support::tool("zsh") else {
        return;
    };
    let (d, p) = completion_script("zsh");
    let o = Command::new(zsh)
        .args(["-f", "-c"])
        .arg(format!(
            "autoload -U compinit && compinit -u -d {}/zcompdump && source {} && print ok",
            d.path().display(),
            p.display()
        ))
        .env("HOME", d.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(o.stderr.is_empty(), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "ok");
}

#[test]
fn fish_completes_the_subcommands() {
    let Some(fish) = support::tool("fish") else {
        return;
    };
    let (d, p) = completion_script("fish");
    let o = Command::new(fish)
        .args(["--no-config", "-c"])
        .arg(format!(
            "source {}; complete -C 'cclocal '; complete -C 'cclocal setup --kv'",
            p.display()
        ))
        .env("HOME", d.path())
        .env("XDG_CONFIG_HOME", d.path())
        .env("XDG_DATA_HOME", d.path())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for sub in ["doctor", "plan", "setup", "status", "logs", "completions"] {
        assert!(
            out.lines().any(|l| l.split('\t').next() == Some(sub)),
            "fish does not offer {sub}: {out}"
        );
    }
    // The one spelling of a flag is offered, not its old alias.
    assert!(out.lines().any(|l| l.starts_with("--kv-type")), "{out}");
    assert!(!out.contains("--kv-cache-type"), "{out}");
}

#[test]
fn completions_for_an_unknown_shell_are_a_usage_error() {
    let o = support::cclocal()
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// A debug log of several MB: the fixture's requests many times over.
fn big_log(dir: &std::path::Path) -> PathBuf {
    let one = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(
        "tests/fixtures/claude-debug-logs/v2.1.121-interactive-context-haiku-fallback-failed.txt",
    ))
    .unwrap();
    let p = dir.join("big.log");
    std::fs::write(&p, one.repeat(100)).unwrap();
    p
}

/// `cmd | head -c 100`: reads 100 bytes, closes the pipe, and returns the exit status and
/// stderr.
fn head_c_100(mut cmd: Command) -> (Option<i32>, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 100];
    out.read_exact(&mut first).unwrap();
    drop(out);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (child.wait().unwrap().code(), err)
}

#[test]
fn a_closed_pipe_ends_quietly_with_0() {
    let home = tempfile::tempdir().unwrap();
    let log = big_log(home.path());
    // The whole output is far larger than a pipe's buffer, so cclocal is still writing
    // when the reader goes.
    let full = support::cclocal()
        .args(["logs", "--json"])
        .arg(&log)
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(full.stdout.len() > 1 << 18, "{} bytes", full.stdout.len());
    for args in [
        vec!["logs", "--json", log.to_str().unwrap()],
        vec!["logs", "--limit", "0", log.to_str().unwrap()],
    ] {
        let mut c = support::cclocal();
        c.args(&args).env("HOME", home.path()).env("NO_COLOR", "1");
        let (code, err) = head_c_100(c);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.trim().is_empty(), "{args:?} printed: {err}");
    }
    // The same through a real shell pipeline.
    if let Some(bash) = support::tool("bash") {
        let o = Command::new(bash)
            .arg("-c")
            .arg(format!(
                "set -o pipefail; {:?} logs --json {:?} | head -c 100 >/dev/null; echo \"rc=${{PIPESTATUS[0]}}\"",
                env!("CARGO_BIN_EXE_cclocal"),
                log
            ))
            .env("HOME", home.path())
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("rc=0"), "{}", text(&o));
        assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
    }
}

/// Claude Code's internal names appear only next to plain words that say what they are.
#[test]
fn internal_names_come_with_plain_words() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude-debug-logs");
    let home = tempfile::tempdir().unwrap();
    let mut saw = (false, false);
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let o = support::cclocal()
            .args(["logs", "-v", "--limit", "0", "--server-ctx", "32K"])
            .arg(&p)
            .env("HOME", home.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        for l in out.lines().filter(|l| l.contains("effectiveWindow")) {
            saw.0 = true;
            assert!(
                l.contains("window Claude Code plans with")
                    || l.contains("-token window")
                    || l.contains("no window"),
                "{}: {l}",
                p.display()
            );
        }
        for l in out.lines().filter(|l| l.contains("thresholdSource")) {
            assert!(l.contains("the window came from"), "{}: {l}", p.display());
        }
        if out.contains("repl_main_thread") {
            saw.1 = true;
            assert!(
                out.contains("repl_main_thread = your conversation"),
                "{}: {out}",
                p.display()
            );
        }
    }
    assert!(saw.0 && saw.1, "the fixtures name both: {saw:?}");
}

/// `[✓]` marks only what was checked: a section the doctor could not look at is `[-]`.
#[test]
fn doctor_marks_only_checked_sections() {
    let home = tempfile::tempdir().unwrap();
    let o = support::cclocal()
        .args(["doctor", "--host", "127.0.0.1:9", "--timeout", "1"])
        .env("HOME", home.path())
        .env("PATH", "/usr/bin:/bin")
        .env("NO_COLOR", "1")
        .env("CCLOCAL_DOCTOR_NO_SERVICE_PROBES", "1")
        .env_remove("OLLAMA_HOST")
        .env_remove("ANTHROPIC_BASE_URL")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let mut headers = 0;
    for l in out.lines().filter(|l| l.starts_with('[')) {
        headers += 1;
        if l.contains("unknown") || l.contains("not checked") || l.contains("unreachable") {
            assert!(!l.starts_with("[✓]"), "{l}\n{out}");
        }
    }
    assert!(headers >= 3, "{out}");
    assert!(out.contains("[-] Ollama service configuration"), "{out}");
}
