//! The generated launcher, run for real with a fake `claude` on PATH that records its argv
//! and environment: hostile values reach Claude Code byte for byte and nothing runs.
use crate::support;
use crate::support::setup_home;

use setup_home::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// Writes a fake `claude` (Python) into `dir` that dumps argv and env as JSON to `$DUMP`.
pub fn fake_claude(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join("claude");
    std::fs::write(
        &p,
        "#!/usr/bin/env python3\nimport json, os, sys\njson.dump({'argv': sys.argv[1:], 'env': dict(os.environ)}, open(os.environ['DUMP'], 'w'))\n",
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

const HOSTILE: &str =
    "it's \"a\" $(touch PWNED1) `touch PWNED2`; touch PWNED3 \\ $HOME * ~\nline2 %s";

#[test]
fn hostile_model_name_reaches_claude_exactly_and_nothing_runs() {
    if support::tool("python3").is_none() {
        return;
    }
    let t = TestHome::new();
    let o = t.run(&[
        "setup",
        "--yes",
        "--only",
        "launcher",
        "--model",
        HOSTILE,
        "--ctx",
        "65536",
        "--claude-version",
        "2.1.332",
        "--host",
        "http://127.0.0.1:9",
        "--auth-token",
        "tok'en $(x)",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let launcher = t.home().join(".local/bin/claude-local");
    super_check_syntax(&launcher);

    let work = t.dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let bin = t.dir.path().join("bin");
    fake_claude(&bin);
    let dump = t.dir.path().join("dump.json");
    let out = Command::new(&launcher)
        .args(["x y", "$(touch PWNED4)", "", "--print"])
        .current_dir(&work)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("HOME", t.home())
        .env("DUMP", &dump)
        .env("ANTHROPIC_API_KEY", "sk-real-key-must-not-leak")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&dump).unwrap()).unwrap();
    let settings = t.home().join(".config/cclocal/claude-settings.json");
    let argv: Vec<&str> = v["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    // The launcher has Claude Code write its debug log in a private folder of cclocal's
    // state directory (docs/follow.md), named by the launcher, in front of the user's words.
    let debug_dir = t.home().join(".local/state/cclocal/claude-debug");
    assert_eq!(argv.get(4), Some(&"--debug-file"), "{argv:?}");
    let debug_file = std::path::Path::new(argv[5]);
    assert_eq!(debug_file.parent(), Some(debug_dir.as_path()), "{argv:?}");
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&debug_dir), 0o700);
    assert_eq!(mode(debug_file), 0o600);
    assert_eq!(
        std::fs::canonicalize(debug_dir.join("latest")).unwrap(),
        debug_file
    );
    assert_eq!(
        [&argv[..4], &argv[6..]].concat(),
        vec![
            "--settings",
            settings.to_str().unwrap(),
            "--model",
            HOSTILE,
            "x y",
            "$(touch PWNED4)",
            "",
            "--print"
        ]
    );
    let env = &v["env"];
    for k in [
        "ANTHROPIC_DEFAULT_OPUS_MODEL",
        "ANTHROPIC_DEFAULT_SONNET_MODEL",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL",
        "CLAUDE_CODE_SUBAGENT_MODEL",
    ] {
        assert_eq!(env[k], HOSTILE, "{k}");
    }
    assert_eq!(env["ANTHROPIC_AUTH_TOKEN"], "tok'en $(x)");
    assert_eq!(
        env["ANTHROPIC_API_KEY"], "",
        "the launcher blanks a key from the shell"
    );
    assert_eq!(env["ANTHROPIC_BASE_URL"], "http://127.0.0.1:9");
    assert_eq!(env["CLAUDE_CODE_MAX_CONTEXT_TOKENS"], "65536");
    assert_eq!(env["CLAUDE_CODE_ATTRIBUTION_HEADER"], "0");
    assert_eq!(env["CLAUDE_CODE_TOTAL_TOKENS_REMINDER"], "off");
    // The settings file carries the same values.
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&settings).unwrap()).unwrap();
    assert_eq!(s["env"]["ANTHROPIC_DEFAULT_OPUS_MODEL"], HOSTILE);
    for (k, val) in s["env"].as_object().unwrap() {
        assert_eq!(&env[k], val, "{k}: launcher and settings file agree");
    }
    // Nothing ran.
    for dir in [work.as_path(), t.dir.path(), t.home().as_path()] {
        for n in 1..=4 {
            assert!(
                !dir.join(format!("PWNED{n}")).exists(),
                "PWNED{n} in {}",
                dir.display()
            );
        }
    }
    // The launcher keeps the newest 10 debug logs; a command line with its own --debug-file
    // gets no second one.
    for args in [&["-p", "x"][..]; 12] {
        let o = Command::new(&launcher)
            .args(args)
            .current_dir(&work)
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("HOME", t.home())
            .env("DUMP", &dump)
            .output()
            .unwrap();
        assert!(o.status.success());
    }
    let logs = |d: &Path| {
        std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".txt"))
            .count()
    };
    assert_eq!(logs(&debug_dir), 10);
    let own = t.dir.path().join("own.txt");
    let o = Command::new(&launcher)
        .args(["--debug-file", own.to_str().unwrap(), "-p", "x"])
        .current_dir(&work)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("HOME", t.home())
        .env("DUMP", &dump)
        .output()
        .unwrap();
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&dump).unwrap()).unwrap();
    let n = v["argv"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| *a == "--debug-file")
        .count();
    assert_eq!(n, 1, "{}", v["argv"]);
}

fn super_check_syntax(p: &Path) {
    for (tool, args) in [
        ("sh", vec!["-n"]),
        ("bash", vec!["-n"]),
        ("zsh", vec!["-n"]),
        ("shellcheck", vec!["-s", "sh"]),
    ] {
        let Some(bin) = support::tool(tool) else {
            continue;
        };
        let out = Command::new(bin).args(&args).arg(p).output().unwrap();
        assert!(
            out.status.success(),
            "{tool}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn shell_quoting_round_trips_in_every_shell() {
    let values = [
        "",
        "plain",
        "a b",
        "it's",
        "''",
        "\"dq\"",
        "$(touch PWNED)",
        "`touch PWNED`",
        "a; touch PWNED",
        "line1\nline2\n",
        "back\\slash\\",
        "\\'",
        "* ? [a] ~ ~/x",
        "$HOME ${HOME} %s %%",
        "tab\there",
        "ünïcödé ✓",
        "-n",
        "#comment",
        "a=b",
    ];
    let t = tempfile::tempdir().unwrap();
    for (shell, fish) in [
        ("sh", false),
        ("bash", false),
        ("zsh", false),
        ("fish", true),
    ] {
        let Some(bin) = support::tool(shell) else {
            continue;
        };
        for v in values {
            let q = if fish {
                cclocal::shell::quote::fish_quote(v)
            } else {
                cclocal::shell::quote::sh_quote(v)
            };
            let out = Command::new(&bin)
                .arg("-c")
                .arg(format!("printf '%s' {q}"))
                .current_dir(t.path())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{shell} {q}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(String::from_utf8_lossy(&out.stdout), v, "{shell} with {q}");
        }
    }
    assert!(!t.path().join("PWNED").exists());
}
