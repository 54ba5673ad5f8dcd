//! `cclocal setup --server llama-server`: the systemd user unit (its ExecStart as systemd
//! reads it), the LaunchAgent for macOS, the launcher and config, the service commands
//! (through a stand-in systemctl), idempotency, dry-run, undo, and the errors.
use crate::support;
use crate::support::setup_home::*;
use crate::support::systemd::{exec_start, fake_systemctl, systemctl_calls};

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

const UNIT: &str = ".config/systemd/user/cclocal-llama-server.service";

/// A model file in a folder with a space and a `%` in its name, and a stand-in
/// llama-server binary (setup only checks that it is executable).
fn files(t: &TestHome) -> (PathBuf, PathBuf) {
    let dir = t.dir.path().join("My Models 100%");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("gemma-3-270m-q4_k_m.gguf");
    // A GGUF header (version 3, no tensors, no keys): setup checks that it is one.
    std::fs::write(&model, b"GGUF\x03\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0").unwrap();
    let bin = t.dir.path().join("llama.cpp/bin/llama-server");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::write(
        &bin,
        "#!/bin/sh\necho 'version: 1 (fake)'; echo 'built with sh for tests'\n",
    )
    .unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    (model, bin)
}

/// The files under `home` except cclocal's state (run records and the server log), by
/// path: (bytes, mode).
fn user_files(home: &Path) -> std::collections::BTreeMap<String, (Vec<u8>, u32)> {
    contents(home)
        .into_iter()
        .filter(|(k, _)| !k.starts_with(".local/state/"))
        .collect()
}

fn same_files(home: &Path, expected: &std::collections::BTreeMap<String, (Vec<u8>, u32)>) {
    let now = user_files(home);
    let differ: Vec<&String> = now
        .keys()
        .chain(expected.keys())
        .filter(|k| now.get(*k) != expected.get(*k))
        .collect();
    assert!(differ.is_empty(), "these files differ: {differ:?}");
}

fn setup(t: &TestHome, path: &Path, extra: &[&str]) -> Output {
    setup_ctx(t, path, "32768", extra)
}

fn setup_ctx(t: &TestHome, path: &Path, ctx: &str, extra: &[&str]) -> Output {
    let (model, bin) = files(t);
    let mut args = llama_server_setup_args(
        &model,
        &bin,
        &[
            "--ctx",
            ctx,
            "--kv-type",
            "q8_0",
            "--host",
            "http://127.0.0.1:18080",
            "--claude-version",
            "2.1.332",
        ],
    );
    args.extend(extra.iter().map(|s| s.to_string()));
    t.command_of(&args)
        .env("PATH", format!("{}:/usr/bin:/bin", path.display()))
        .output()
        .unwrap()
}

#[test]
fn unit_runs_the_planned_command_line_and_undo_stops_it() {
    let t = TestHome::new();
    let fake = fake_systemctl(t.dir.path(), true);
    let before = contents(&t.home());
    let o = setup(&t, &fake, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let (model, bin) = (
        t.dir.path().join("My Models 100%/gemma-3-270m-q4_k_m.gguf"),
        t.dir.path().join("llama.cpp/bin/llama-server"),
    );
    let unit = std::fs::read_to_string(t.home().join(UNIT)).unwrap();
    let log = t.home().join(".local/state/cclocal/llama-server.log");
    let expected: Vec<String> = [
        bin.to_str().unwrap(),
        "-m",
        model.to_str().unwrap(),
        "--alias",
        "gemma-3-270m-q4_k_m",
        "--ctx-size",
        "32768",
        "--parallel",
        "1",
        "--cache-type-k",
        "q8_0",
        "--cache-type-v",
        "q8_0",
        "--flash-attn",
        "on",
        "--jinja",
        "--host",
        "127.0.0.1",
        "--port",
        "18080",
        "--log-file",
        log.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(exec_start(&unit), expected, "{unit}");
    assert!(unit.contains("\nRestart=on-failure\n"), "{unit}");
    assert!(unit.contains("\nWantedBy=default.target\n"), "{unit}");
    assert!(unit.contains("%%"), "the % in the path is escaped: {unit}");
    // systemd's own checker accepts the unit: it unquotes ExecStart and checks that the
    // executable exists (optional: not every machine has systemd).
    let analyze = Path::new("/usr/bin/systemd-analyze");
    if analyze.exists() {
        let v = std::process::Command::new(analyze)
            .arg("verify")
            .arg(t.home().join(UNIT))
            .env("HOME", t.home())
            .output()
            .unwrap();
        assert!(v.status.success(), "systemd-analyze verify: {}", text(&v));
    }
    // The service commands ran, in order.
    let calls = systemctl_calls(t.dir.path());
    assert_eq!(
        calls,
        vec![
            "--user show-environment",
            "--user daemon-reload",
            "--user enable --now cclocal-llama-server.service",
            "--user restart cclocal-llama-server.service",
        ],
        "{}",
        text(&o)
    );
    // The launcher and settings point Claude Code at the server and the served name.
    let launcher = std::fs::read_to_string(t.home().join(".local/bin/claude-local")).unwrap();
    assert!(
        launcher.contains("export ANTHROPIC_BASE_URL='http://127.0.0.1:18080'")
            || launcher.contains("export ANTHROPIC_BASE_URL=http://127.0.0.1:18080"),
        "{launcher}"
    );
    for tier in ["OPUS", "SONNET", "HAIKU"] {
        assert!(
            launcher.contains(&format!(
                "ANTHROPIC_DEFAULT_{tier}_MODEL=gemma-3-270m-q4_k_m"
            )),
            "{launcher}"
        );
    }
    assert!(
        launcher.contains("CLAUDE_CODE_MAX_CONTEXT_TOKENS=32768"),
        "{launcher}"
    );
    let cfg = std::fs::read_to_string(t.home().join(".config/cclocal/config.toml")).unwrap();
    assert!(cfg.contains("kind = \"llama-server\""), "{cfg}");
    assert!(cfg.contains("[llama_server]"), "{cfg}");
    assert!(cfg.contains("name = \"gemma-3-270m-q4_k_m\""), "{cfg}");

    // The same run again changes nothing and runs nothing.
    let after = user_files(&t.home());
    let again = setup(&t, &fake, &[]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains("nothing to change"),
        "{}",
        text(&again)
    );
    same_files(&t.home(), &after);
    assert_eq!(systemctl_calls(t.dir.path()).len(), 4);

    // So does a bare rerun: the server kind, binary, model and context come from config.toml.
    let bare = t
        .command(&["setup", "--yes", "--claude-version", "2.1.332"])
        .env("PATH", format!("{}:/usr/bin:/bin", fake.display()))
        .output()
        .unwrap();
    assert!(bare.status.success(), "{}", text(&bare));
    assert!(text(&bare).contains("nothing to change"), "{}", text(&bare));

    // A dry run of another context shows the new -c and writes nothing.
    let dry = setup_ctx(&t, &fake, "65536", &["--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry));
    let d = text(&dry);
    assert!(
        d.contains("--ctx-size 65536") && d.contains("--ctx-size 32768"),
        "{d}"
    );
    same_files(&t.home(), &after);

    // A rerun with another context changes the unit; undoing it restores the old unit
    // and restarts the service with it.
    let o = setup_ctx(&t, &fake, "65536", &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(std::fs::read_to_string(t.home().join(UNIT))
        .unwrap()
        .contains(" --ctx-size 65536 "));
    let n = systemctl_calls(t.dir.path()).len();
    let u = t
        .command(&["undo"])
        .env("PATH", format!("{}:/usr/bin:/bin", fake.display()))
        .output()
        .unwrap();
    assert!(u.status.success(), "{}", text(&u));
    same_files(&t.home(), &after);
    assert_eq!(
        systemctl_calls(t.dir.path())[n..],
        [
            "--user show-environment",
            "--user daemon-reload",
            "--user restart cclocal-llama-server.service",
        ]
    );

    // Undoing the first run disables and stops the unit before its file goes.
    let n = systemctl_calls(t.dir.path()).len();
    let u = t
        .command(&["undo"])
        .env("PATH", format!("{}:/usr/bin:/bin", fake.display()))
        .output()
        .unwrap();
    assert!(u.status.success(), "{}", text(&u));
    assert_eq!(
        systemctl_calls(t.dir.path())[n..],
        [
            "--user show-environment",
            "--user disable --now cclocal-llama-server.service",
            "--user show-environment",
            "--user daemon-reload",
        ]
    );
    assert!(!t.home().join(UNIT).exists());
    let now = contents(&t.home());
    let kept: Vec<_> = now
        .keys()
        .filter(|k| !before.contains_key(*k) && !k.starts_with(".local/state/") && *k != ".local/")
        .collect();
    assert!(kept.is_empty(), "left behind: {kept:?}");
}

#[test]
fn without_a_user_systemd_the_commands_are_printed() {
    let t = TestHome::new();
    let fake = fake_systemctl(t.dir.path(), false);
    let o = setup(&t, &fake, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("systemctl --user daemon-reload && systemctl --user enable --now cclocal-llama-server.service"),
        "{out}"
    );
    // Only the probe ran.
    assert_eq!(
        systemctl_calls(t.dir.path()),
        vec!["--user show-environment"]
    );
}

/// Issue 21: with no user systemd, setup says how to run the server directly (the unit's
/// command line) and does not tell the user to start Claude Code as if the server ran; undo
/// then prints no `systemctl --user disable --now …` for a unit it is about to remove.
#[test]
fn without_a_user_systemd_setup_offers_the_command_line_and_undo_names_no_gone_unit() {
    let t = TestHome::new();
    let fake = fake_systemctl(t.dir.path(), false);
    let o = setup(&t, &fake, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    let unit = std::fs::read_to_string(
        t.home()
            .join(".config/systemd/user/cclocal-llama-server.service"),
    )
    .unwrap();
    let argv = exec_start(&unit);
    let direct = out
        .lines()
        .find_map(|l| {
            l.split_once("or run it directly: ")
                .map(|x| x.1.to_string())
        })
        .unwrap_or_else(|| panic!("no direct command line: {out}"));
    assert_eq!(
        crate::support::fix_apply::shell_words(&direct).unwrap(),
        argv,
        "the direct line runs what the unit runs"
    );
    assert!(
        !out.lines().any(|l| l.starts_with("start Claude Code with")),
        "{out}"
    );
    assert!(out.contains("once llama-server runs"), "{out}");
    let o = t
        .command(&["undo"])
        .env("PATH", format!("{}:/usr/bin:/bin", fake.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("disable --now"), "{}", text(&o));
}

/// Issue 21: a `systemctl --user` that fails is reported as failed, and Claude Code is not
/// announced as ready.
#[test]
fn a_failing_systemctl_is_reported_and_claude_code_waits_for_the_server() {
    use std::os::unix::fs::PermissionsExt;
    let t = TestHome::new();
    let bin = t.dir.path().join("fail-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let p = bin.join("systemctl");
    std::fs::write(
        &p,
        "#!/bin/sh\ncase \"$*\" in *show-environment*|*daemon-reload*) exit 0 ;; esac\necho 'Failed to enable unit: Unit file is masked.' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = setup(&t, &bin, &[]);
    let out = text(&o);
    assert!(out.contains("failed"), "{out}");
    assert!(out.contains("or run it directly: "), "{out}");
    assert!(
        !out.lines().any(|l| l.starts_with("start Claude Code with")),
        "{out}"
    );
}

#[test]
fn macos_launch_agent_runs_the_same_command_line() {
    let Some(python) = support::tool("python3") else {
        return;
    };
    let t = TestHome::new();
    let fake = fake_systemctl(t.dir.path(), true);
    let o = setup(&t, &fake, &["--target", "macos"]);
    assert!(o.status.success(), "{}", text(&o));
    let plist = t
        .home()
        .join(".config/cclocal/server/com.cclocal.llama-server.plist");
    let unit_argv = {
        // The Linux unit of the same choices, for comparison.
        let t2 = TestHome::new();
        let f2 = fake_systemctl(t2.dir.path(), true);
        let o = setup(&t2, &f2, &[]);
        assert!(o.status.success(), "{}", text(&o));
        let a = exec_start(&std::fs::read_to_string(t2.home().join(UNIT)).unwrap());
        // Paths differ only in the temp dir; compare the flags.
        a[1..]
            .iter()
            .filter(|w| w.starts_with('-'))
            .cloned()
            .collect::<Vec<_>>()
    };
    let script = r#"
import json, plistlib, sys
with open(sys.argv[1], "rb") as f:
    p = plistlib.load(f)
print(json.dumps(p))
"#;
    let out = std::process::Command::new(python)
        .args(["-c", script])
        .arg(&plist)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Label"], "com.cclocal.llama-server");
    assert_eq!(v["RunAtLoad"], true);
    assert_eq!(v["KeepAlive"], true);
    let args: Vec<String> = v["ProgramArguments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    assert!(args[0].ends_with("/llama.cpp/bin/llama-server"), "{args:?}");
    assert!(
        args[2].ends_with("My Models 100%/gemma-3-270m-q4_k_m.gguf"),
        "{args:?}"
    );
    let flags: Vec<String> = args[1..]
        .iter()
        .filter(|w| w.starts_with('-'))
        .cloned()
        .collect();
    assert_eq!(flags, unit_argv);
    assert!(v["StandardErrorPath"]
        .as_str()
        .unwrap()
        .ends_with("llama-server.log.stderr"));
    // Nothing ran on this Linux machine for a macOS target, and the note says how to load it.
    assert!(systemctl_calls(t.dir.path()).is_empty());
    assert!(text(&o).contains("launchctl bootstrap"), "{}", text(&o));
}

#[test]
fn missing_binary_or_model_is_a_clear_error() {
    let t = TestHome::new();
    let (model, _) = files(&t);
    let empty = t.dir.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let o = t
        .command(&[
            "setup",
            "--yes",
            "--server",
            "llama-server",
            "--model",
            model.to_str().unwrap(),
            "--ctx",
            "32768",
        ])
        .env("PATH", format!("{}:/usr/bin:/bin", empty.display()))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let out = text(&o);
    assert!(out.contains("llama-server is not on PATH"), "{out}");
    assert!(out.contains("brew install llama.cpp"), "{out}");
    assert!(out.contains("--llama-server PATH"), "{out}");
    assert!(!t.home().join(".config/cclocal/config.toml").exists());

    let o = t
        .command(&[
            "setup",
            "--yes",
            "--server",
            "llama-server",
            "--model",
            "/nonexistent/model.gguf",
            "--ctx",
            "32768",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let out = text(&o);
    assert!(out.contains("the model file does not exist"), "{out}");
    assert!(out.contains("/nonexistent/model.gguf"), "{out}");
    assert!(!out.contains("panicked"), "{out}");
}

#[test]
fn context_is_planned_from_the_gguf_when_not_given() {
    let Some(gemma) = support::gemma_path() else {
        return;
    };
    let t = TestHome::new();
    let (_, bin) = files(&t);
    let fake = fake_systemctl(t.dir.path(), false);
    let args = llama_server_setup_args(
        &gemma,
        &bin,
        &["--memory", "4GiB", "--claude-version", "2.1.332"],
    );
    let o = t
        .command_of(&args)
        .env("PATH", format!("{}:/usr/bin:/bin", fake.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("planned context: 32768 tokens"), "{out}");
    let argv = exec_start(&std::fs::read_to_string(t.home().join(UNIT)).unwrap());
    let c = argv.iter().position(|w| w == "--ctx-size").unwrap();
    // gemma3-270m was trained on 32768 tokens, and they fit in 4 GiB.
    assert_eq!(argv[c + 1], "32768", "{argv:?}");
    // The default address is llama-server's own.
    let p = argv.iter().position(|w| w == "--port").unwrap();
    assert_eq!(argv[p + 1], "8080");
}

#[test]
fn a_server_kind_setup_cannot_run_is_refused() {
    let t = TestHome::new();
    let o = t.run(&[
        "setup", "--yes", "--server", "mlx-lm", "--model", "m", "--ctx", "32768",
    ]);
    assert!(!o.status.success());
    let out = text(&o);
    assert!(out.contains("does not configure"), "{out}");
    assert!(!t.home().join(".config/cclocal/config.toml").exists());
}
