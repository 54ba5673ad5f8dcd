//! Secrets and terminal output (issue 20): tokens never shown in diffs or command lines and
//! kept on a re-run; outside text made safe for the terminal and names quoted in printed
//! commands; the HTML report's temporary file never followed through a symlink; the rc
//! block found exactly once by the real shells, whatever tricky text surrounds it.
use crate::support;
use crate::support::setup_home::*;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const TOKEN: &str = "tok-S3CRET-91x";

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn settings(t: &TestHome) -> PathBuf {
    t.home().join(".config/cclocal/claude-settings.json")
}

fn launcher(t: &TestHome) -> PathBuf {
    t.home().join(".local/bin/claude-local")
}

fn token_file(t: &TestHome, token: &str) -> String {
    let p = t.dir.path().join(format!("token-{}", token.len()));
    std::fs::write(&p, format!("{token}\n")).unwrap();
    p.display().to_string()
}

fn written_token(t: &TestHome) -> String {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(settings(t)).unwrap()).unwrap();
    v["env"]["ANTHROPIC_AUTH_TOKEN"]
        .as_str()
        .unwrap()
        .to_string()
}

fn launcher_setup(t: &TestHome, extra: &[&str]) -> std::process::Output {
    let mut a = vec!["--yes", "--only", "launcher"];
    a.extend_from_slice(extra);
    t.setup(&a)
}

#[test]
fn a_rerun_without_a_token_keeps_it_and_the_private_modes() {
    let t = TestHome::new();
    let o = launcher_setup(&t, &["--auth-token", TOKEN]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(written_token(&t), TOKEN);
    assert_eq!((mode(&settings(&t)), mode(&launcher(&t))), (0o600, 0o700));
    // Again without any token flag, with another context: the token and modes stay.
    let o = t.run(&[
        "setup",
        "--yes",
        "--only",
        "launcher",
        "--ctx",
        "32768",
        "--claude-version",
        "2.1.332",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains(TOKEN), "{}", text(&o));
    assert_eq!(written_token(&t), TOKEN);
    assert_eq!((mode(&settings(&t)), mode(&launcher(&t))), (0o600, 0o700));
    // A placeholder given on purpose replaces it.
    let o = launcher_setup(&t, &["--auth-token", "ollama"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(written_token(&t), "ollama");
    assert_eq!(mode(&settings(&t)), 0o644);
}

#[test]
fn diffs_never_show_a_token_being_replaced_or_restored() {
    let t = TestHome::new();
    assert!(launcher_setup(&t, &["--auth-token", TOKEN])
        .status
        .success());
    // Back to the placeholder: the old token is on the diff's `-` lines.
    let o = t.setup(&["--dry-run", "--only", "launcher", "--auth-token", "ollama"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("-export ANTHROPIC_AUTH_TOKEN="),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains(TOKEN), "{}", text(&o));
    assert!(text(&o).contains("********"), "{}", text(&o));
    // Another token, then undo --dry-run: the backup brings the first one back.
    let other = "second-T0KEN-xyz";
    assert!(launcher_setup(&t, &["--auth-token", other])
        .status
        .success());
    let o = t.run(&["undo", "--dry-run"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("ANTHROPIC_AUTH_TOKEN"), "{}", text(&o));
    assert!(
        !text(&o).contains(TOKEN) && !text(&o).contains(other),
        "{}",
        text(&o)
    );
}

/// The `cclocal setup --yes …` a run without a terminal prints, run exactly as printed.
fn printed_command(o: &std::process::Output) -> String {
    let t = text(o);
    let line = t
        .lines()
        .find_map(|l| l.split_once("then run: ").map(|(_, c)| c.to_string()))
        .unwrap_or_else(|| panic!("no command in: {t}"));
    match line.split_once(" (cclocal does not print the token") {
        Some((c, _)) => c.to_string(),
        None => line,
    }
}

fn run_printed(t: &TestHome, cmd: &str, env: &[(&str, &str)]) -> std::process::Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_cclocal")).parent().unwrap();
    let mut c = t.command(&[]);
    let mut sh = std::process::Command::new("sh");
    sh.arg("-c").arg(cmd);
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    sh.env("PATH", format!("{}:/usr/bin:/bin", bin.display()));
    for (k, v) in env {
        sh.env(k, v);
    }
    let _ = &mut c;
    sh.stdin(std::process::Stdio::null()).output().unwrap()
}

#[test]
fn the_printed_command_keeps_the_token_without_showing_it() {
    // From a token file: the command names the file.
    let t = TestHome::new();
    let f = token_file(&t, TOKEN);
    let base = [
        "setup",
        "--only",
        "launcher",
        "--model",
        "m",
        "--ctx",
        "32768",
        "--host",
        "http://127.0.0.1:9",
    ];
    let mut a = base.to_vec();
    a.extend(["--auth-token-file", &f]);
    let o = t.run(&a);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!text(&o).contains(TOKEN));
    let cmd = printed_command(&o);
    assert!(cmd.contains("--auth-token-file"), "{cmd}");
    let o = run_printed(&t, &cmd, &[]);
    assert!(o.status.success(), "{cmd}\n{}", text(&o));
    assert_eq!(written_token(&t), TOKEN);

    // A re-run without a token flag: the command needs none, the token stays.
    let other_ctx: Vec<&str> = base
        .iter()
        .map(|a| if *a == "32768" { "40960" } else { a })
        .collect();
    let o = t.run(&other_ctx);
    let cmd = printed_command(&o);
    assert!(
        !cmd.contains("auth-token") && cmd.contains("40960"),
        "{cmd}"
    );
    let o = run_printed(&t, &cmd, &[]);
    assert!(o.status.success(), "{cmd}\n{}", text(&o));
    assert_eq!(written_token(&t), TOKEN);

    // On the command line: the token is not repeated; the note names the variable, and
    // with it set the command works as printed.
    let t = TestHome::new();
    let mut a = base.to_vec();
    a.extend(["--auth-token", TOKEN]);
    let o = t.run(&a);
    assert!(!text(&o).contains(TOKEN), "{}", text(&o));
    assert!(text(&o).contains("CCLOCAL_AUTH_TOKEN"), "{}", text(&o));
    let cmd = printed_command(&o);
    let o = run_printed(&t, &cmd, &[("CCLOCAL_AUTH_TOKEN", TOKEN)]);
    assert!(o.status.success(), "{cmd}\n{}", text(&o));
    assert_eq!(written_token(&t), TOKEN);
}

#[test]
fn child_processes_never_see_the_token() {
    let t = TestHome::new();
    let bin = t.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = t.dir.path().join("claude.log");
    // A stand-in `claude` that records its parent's command line (cclocal's), its own
    // command line and its environment.
    let script = format!(
        "#!/bin/sh\n{{ tr '\\0' ' ' < /proc/$PPID/cmdline; echo; echo \"$0 $*\"; tr '\\0' '\\n' < /proc/$$/environ; }} >> '{}'\necho '2.1.332 (Claude Code)'\n",
        log.display()
    );
    std::fs::write(bin.join("claude"), script).unwrap();
    std::fs::set_permissions(bin.join("claude"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let f = token_file(&t, TOKEN);
    for how in ["file", "env"] {
        let mut c = t.command(&[
            "setup",
            "--yes",
            "--only",
            "launcher",
            "--model",
            "m",
            "--ctx",
            "32768",
            "--host",
            "http://127.0.0.1:9",
        ]);
        c.env("PATH", &path);
        if how == "file" {
            c.args(["--auth-token-file", &f]);
        } else {
            c.env("CCLOCAL_AUTH_TOKEN", TOKEN);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{how}: {}", text(&o));
        assert_eq!(written_token(&t), TOKEN, "{how}");
        let seen = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(seen.contains("--version"), "{how}: claude ran: {seen}");
        assert!(!seen.contains(TOKEN), "{how}: {seen}");
        let _ = std::fs::remove_file(&log);
    }
}

#[test]
fn outside_text_is_made_safe_and_names_are_quoted_in_fixes() {
    use support::fake_ollama::{FakeModel, FakeOllama, Scenario};
    let evil = "m\u{1b}]0;pwned\u{7}\u{1b}[2J\r\u{202e}x;$(id)";
    let fake = FakeOllama::start(Scenario::new("0.15.2\u{1b}[31m").model(FakeModel::llama(evil)));
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        support::cclocal()
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", "/usr/bin:/bin")
            .env("NO_COLOR", "1")
            .env("CCLOCAL_DOCTOR_NO_SERVICE_PROBES", "1")
            .env("ANTHROPIC_BASE_URL", &fake.base_url)
            .env("OLLAMA_HOST", &fake.base_url)
            .env("ANTHROPIC_MODEL", "missing-model")
            .current_dir(home.path())
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&["doctor", "-v"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    for bad in ['\u{1b}', '\u{7}', '\r', '\u{202e}'] {
        assert!(!out.contains(bad), "{bad:?} reached the terminal: {out:?}");
    }
    assert!(out.contains("\\x1b"), "{out}");
    // The fix that names the server's model quotes it for the shell.
    assert!(out.contains("ANTHROPIC_MODEL='m\\x1b]0;pwned"), "{out}");
    // JSON keeps the raw values (JSON escapes them).
    let o = run(&["doctor", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v.to_string().contains("\\u001b]0;pwned"), "{v}");
    // Setup's error lists the server's models: the terminal gets them escaped.
    let o = run(&[
        "setup",
        "--yes",
        "--only",
        "launcher",
        "--model",
        "nope",
        "--ctx",
        "32768",
        "--host",
        &fake.base_url,
    ]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{202e}'),
        "{err:?}"
    );
}

#[test]
fn the_html_report_never_writes_through_a_planted_symlink() {
    let d = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/server-logs");
    let victim = d.path().join("victim");
    std::fs::write(&victim, "keep me\n").unwrap();
    let out = d.path().join("report.html");
    // The old fixed temporary name, and the file itself, both planted as symlinks.
    std::os::unix::fs::symlink(&victim, d.path().join("report.html.tmp")).unwrap();
    std::os::unix::fs::symlink(&victim, &out).unwrap();
    let o = support::cclocal()
        .env("HOME", d.path())
        .env("NO_COLOR", "1")
        .arg("logs")
        .arg(fixtures.join("claude-2.1.332-session-against-llama-server.txt"))
        .arg("--server-log")
        .arg(fixtures.join("llama-server-b11434-claude-session.log"))
        .arg("--html")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");
    assert!(!std::fs::symlink_metadata(&out)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&out).unwrap().contains("<html"));
    // No temporary file left behind.
    let left: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp") && n != "report.html.tmp")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Shell text with marker-looking lines where they are data (a here-document with a
/// backtick command, multi-line strings, `$'…'`, a comment after `;`), each piece complete.
const SH_PIECES: &[&str] = &[
    "cat >/dev/null <<'EOF'\n# >>> cclocal >>>\n`echo ran-backtick >&2`\n# <<< cclocal <<<\nEOF\n",
    "cat >/dev/null <<EOF\n$(printf '%s' '\n# >>> cclocal >>>\n')\nEOF\n",
    "echo $'it\\'s <<EOF' >/dev/null\n",
    "true;# cat <<EOF\n",
    "x='\n# >>> cclocal >>>\n'\n",
    "y=\"\n# <<< cclocal <<<\n\"\n",
    "z=$(cat <<E\n# >>> cclocal >>>\nE\n)\n",
    "cat >/dev/null <<A; cat >/dev/null <<\"B\"\nA\n# >>> cclocal >>>\nB\n",
    "a=$((1<<2))\n",
    "cat <<< '<<EOF' >/dev/null\n",
    "true |\n# >>> cclocal >>>\n  cat >/dev/null\n",
    "f() {\n  cat <<-X >/dev/null\n\t# <<< cclocal <<<\n\tX\n}\n",
];

const FISH_PIECES: &[&str] = &[
    "echo 'it\\'s\n# >>> cclocal >>>\n' >/dev/null\n",
    "set x (echo \"\n# >>> cclocal >>>\n\")\n",
    "set y \"\n# <<< cclocal <<<\n\"\n",
    "echo '#' >/dev/null # <<EOF\n",
    "echo a \\\n# >>> cclocal >>>\n",
];

/// Every piece once, then `n` texts of pieces in a generated order (xorshift, fixed seeds).
fn texts(pieces: &[&str], n: u64) -> Vec<String> {
    let mut out = vec![pieces.concat()];
    for seed in 1..=n {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut t = String::new();
        for _ in 0..(3 + seed % 6) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            t.push_str(pieces[(x % pieces.len() as u64) as usize]);
        }
        out.push(t);
    }
    out
}

#[test]
fn tricky_rc_text_gets_one_block_that_the_real_shell_runs() {
    let mut cases = Vec::new();
    for t in texts(SH_PIECES, 6) {
        cases.push(("bash", ".bashrc", t.clone()));
        cases.push(("zsh", ".zshrc", t));
    }
    for t in texts(FISH_PIECES, 3) {
        cases.push(("fish", ".config/fish/config.fish", t));
    }
    for (shell, rc_rel, tricky) in cases {
        let tricky = tricky.as_str();
        let t = TestHome::new();
        let rc = t.home().join(rc_rel);
        std::fs::create_dir_all(rc.parent().unwrap()).unwrap();
        std::fs::write(&rc, tricky).unwrap();
        let o = t.run(&["alias", shell, "--write"]);
        assert!(o.status.success(), "{shell}: {}", text(&o));
        let o = t.run(&["alias", shell, "--write", "--name", "cl2"]);
        assert!(o.status.success(), "{shell}: {}", text(&o));
        let now = std::fs::read_to_string(&rc).unwrap();
        let tail = now
            .strip_prefix(tricky)
            .unwrap_or_else(|| panic!("{shell}: the user's text changed:\n{now}"));
        assert!(
            tail.starts_with("\n# >>> cclocal >>>\n") && tail.ends_with("# <<< cclocal <<<\n"),
            "{shell}: {tail}"
        );
        assert_eq!(
            tail.matches(">>> cclocal >>>").count(),
            1,
            "{shell}: {tail}"
        );
        assert!(
            tail.contains("cl2") && !tail.contains("claude-local()"),
            "{tail}"
        );
        // The real shell reads the file: the function is defined, the heredoc's backtick
        // never runs, nothing fails.
        let Some(b) = support::tool(shell) else {
            continue;
        };
        let script = match shell {
            "fish" => format!(
                "source {}; and functions -q cl2; and echo defined",
                rc.display()
            ),
            _ => format!(
                ". '{}' && type cl2 >/dev/null && echo defined",
                rc.display()
            ),
        };
        let out = std::process::Command::new(b)
            .arg("-c")
            .arg(script)
            .env("HOME", t.home())
            .output()
            .unwrap();
        let (so, se) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(so.contains("defined"), "{shell}: {so}{se}");
        assert!(!se.contains("ran-backtick"), "{shell}: {se}");
        assert!(se.trim().is_empty(), "{shell}: {se}");
        // And undo puts the file back as it was.
        assert!(t.run(&["undo"]).status.success());
        assert!(t.run(&["undo"]).status.success());
        assert_eq!(std::fs::read_to_string(&rc).unwrap(), tricky, "{shell}");
    }
}

#[test]
fn log_text_reaches_the_terminal_escaped_and_json_keeps_it() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "tests/fixtures/claude-debug-logs/v2.1.121-interactive-context-haiku-fallback-failed.txt",
    );
    let evil = "mm\u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}x";
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("session.txt");
    let text_in = std::fs::read_to_string(fixture).unwrap();
    assert!(text_in.contains("missing-model:7b"));
    std::fs::write(&log, text_in.replace("missing-model:7b", evil)).unwrap();
    let run = |json: bool| {
        let mut c = support::cclocal();
        c.env("HOME", d.path())
            .env("NO_COLOR", "1")
            .arg("logs")
            .arg(&log);
        if json {
            c.arg("--json");
        }
        c.output().unwrap()
    };
    let o = run(false);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("helper calls use mm\\x1b]0;pwned\\x07\\x1b[2J\\u{202e}x"),
        "{out}"
    );
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{202e}'),
        "{out:?}"
    );
    let v: serde_json::Value = serde_json::from_slice(&run(true).stdout).unwrap();
    let title = v["findings"][0]["title"].as_str().unwrap_or_default();
    assert!(title.contains(evil), "{title:?}");
}
