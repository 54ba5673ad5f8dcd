//! `cclocal logs` through the binary: human and JSON output, `--latest`, the session list,
//! exit codes and error messages.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/claude-debug-logs")
        .join(name)
}

const COMPACTION: &str = "v2.1.332-p-mode-compaction-unknown-model.txt";

/// Runs `cclocal logs ARGS` with HOME in `home` and no Claude Code env of the caller's.
fn logs(home: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = support::cclocal();
    c.arg("logs")
        .args(args)
        .env("HOME", home)
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("CLAUDE_CODE_DEBUG_LOGS_DIR")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn json_contract() {
    let home = tempfile::tempdir().unwrap();
    let p = fixture(COMPACTION);
    let o = logs(home.path(), &[p.to_str().unwrap(), "--json"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let reqs = v["requests"].as_array().unwrap();
    assert_eq!(reqs.len(), 7);
    let r = &reqs[3];
    assert_eq!(r["sent_at"], "2026-11-25T19:37:01.386Z");
    assert_eq!(r["source"], "compact");
    assert_eq!(r["model"], "qwen3-coder:30b");
    assert_eq!(r["first_byte_ms"], 9);
    assert_eq!(r["status"], 200);
    assert_eq!(r["attempts"], 1);
    let s = &v["summary"];
    assert_eq!(s["wall_ms"], 3303);
    assert_eq!(s["requests"], 7);
    assert_eq!(s["api_errors"], 0);
    assert_eq!(s["not_found_404"], 0);
    assert_eq!(s["first_byte_ms_total"], 68);
    assert_eq!(s["effective_window"], 57344);
    assert_eq!(s["compactions"], 1);
    let f = v["findings"].as_array().unwrap();
    assert!(f
        .iter()
        .all(|f| f["id"].is_string() && f["severity"].is_string() && f["fix"].is_string()));
}

#[test]
fn json_nulls_and_404s() {
    let home = tempfile::tempdir().unwrap();
    let p = fixture("v2.1.332-404-model-not-found.txt");
    let o = logs(home.path(), &[p.to_str().unwrap(), "--json"], &[]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = &v["requests"][0];
    assert_eq!(r["status"], 404);
    assert!(r["first_byte_ms"].is_null());
    assert_eq!(v["summary"]["not_found_404"], 2);
    assert_eq!(v["summary"]["api_errors"], 2);
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"model_missing"), "{ids:?}");
    // No autocompact line in this 2.1.332 interactive log: the window is null.
    let p = fixture("v2.1.332-interactive-context-count_tokens-404.txt");
    let o = logs(home.path(), &[p.to_str().unwrap(), "--json"], &[]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["summary"]["effective_window"].is_null());
    assert!(v["requests"][0]["model"].is_null());
}

#[test]
fn human_table_chart_and_findings() {
    let home = tempfile::tempdir().unwrap();
    let p = fixture(COMPACTION);
    let o = logs(
        home.path(),
        &[p.to_str().unwrap(), "--server-ctx", "32768"],
        &[],
    );
    // context_mismatch is an error finding: exit 1, as the doctor does.
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    for want in [
        "sent (UTC)",
        "19:37:01.386  compact",
        "First-byte wait per request",
        "waiting for first bytes (prefill)",
        "the window Claude Code plans with: 57344 tokens (effectiveWindow)",
        "compactions: 1",
        "✗ context_mismatch",
        "CLAUDE_CODE_MAX_CONTEXT_TOKENS=32768 CLAUDE_CODE_MAX_OUTPUT_TOKENS=4096",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // Bars scale to the longest wait (14 ms → 40 blocks).
    assert!(out.contains(&format!("{} 14ms", "█".repeat(40))), "{out}");
}

#[test]
fn count_tokens_rows_hidden_unless_verbose() {
    let home = tempfile::tempdir().unwrap();
    let p = fixture("v2.1.332-interactive-context-count_tokens-404.txt");
    let o = logs(home.path(), &[p.to_str().unwrap()], &[]);
    assert!(stdout(&o).contains("27 count_tokens request(s) hidden"));
    let o = logs(home.path(), &[p.to_str().unwrap(), "-v"], &[]);
    let rows = stdout(&o)
        .lines()
        .filter(|l| l.contains(" count_tokens ") && l.contains(" 404 ") && l.ends_with('✗'))
        .count();
    assert_eq!(rows, 27, "{}", stdout(&o));
}

#[test]
fn strict_turns_findings_into_exit_1() {
    let home = tempfile::tempdir().unwrap();
    let p = fixture("v2.1.197-p-mode-autocompact.txt");
    let p = p.to_str().unwrap();
    // An error finding (context_mismatch) exits 1 with or without --strict, as in the doctor.
    assert_eq!(
        logs(home.path(), &[p, "--server-ctx", "32768"], &[])
            .status
            .code(),
        Some(1)
    );
    // Warnings alone exit 0, and 1 with --strict.
    let warn = fixture("v2.1.197-p-mode-autocompact.txt");
    let o = logs(home.path(), &[warn.to_str().unwrap(), "--json"], &[]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let worst = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert!(!worst.contains(&"error".to_string()), "{worst:?}");
    assert_eq!(o.status.code(), Some(0));
    if worst.contains(&"warning".to_string()) {
        let o = logs(home.path(), &[warn.to_str().unwrap(), "--strict"], &[]);
        assert_eq!(o.status.code(), Some(1));
    }
    assert_eq!(
        logs(home.path(), &[p, "--server-ctx", "32768", "--strict"], &[])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        logs(home.path(), &[p, "--server-ctx", "65536"], &[])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn latest_follows_the_link() {
    let home = tempfile::tempdir().unwrap();
    let debug = home.path().join(".claude/debug");
    std::fs::create_dir_all(&debug).unwrap();
    std::fs::copy(fixture(COMPACTION), debug.join("a1b2.txt")).unwrap();
    std::os::unix::fs::symlink(debug.join("a1b2.txt"), debug.join("latest")).unwrap();
    let o = logs(home.path(), &["--latest", "--json"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["requests"], 7);
    // The link named as PATH reads the same log, rotated part first.
    std::fs::write(
        debug.join("a1b2.1.txt"),
        "2026-11-25T19:00:00.000Z [DEBUG] [API REQUEST] /v1/messages source=sdk\n",
    )
    .unwrap();
    let link = debug.join("latest");
    let o = logs(home.path(), &[link.to_str().unwrap(), "--json"], &[]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["requests"], 8);
    assert_eq!(v["files"].as_array().unwrap().len(), 2);
    assert_eq!(v["requests"][0]["sent_at"], "2026-11-25T19:00:00.000Z");

    // $CLAUDE_CONFIG_DIR replaces ~/.claude; $CLAUDE_CODE_DEBUG_LOGS_DIR replaces the directory.
    let cfg = home.path().join("cfg");
    std::fs::create_dir_all(cfg.join("debug")).unwrap();
    std::fs::copy(
        fixture("v2.1.332-404-model-not-found.txt"),
        cfg.join("debug/x.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink(cfg.join("debug/x.txt"), cfg.join("debug/latest")).unwrap();
    let o = logs(
        home.path(),
        &["--latest", "--json"],
        &[("CLAUDE_CONFIG_DIR", &cfg)],
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["requests"], 2);
    let o = logs(
        home.path(),
        &["--latest", "--json"],
        &[("CLAUDE_CODE_DEBUG_LOGS_DIR", &debug)],
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["requests"], 8); // a1b2.1.txt + a1b2.txt
}

#[test]
fn no_argument_lists_sessions_or_says_how_to_record_one() {
    let home = tempfile::tempdir().unwrap();
    let o = logs(home.path(), &[], &[]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(
        out.contains(&home.path().join(".claude/debug").display().to_string()),
        "{out}"
    );
    assert!(out.contains("--debug-file"), "{out}");

    let debug = home.path().join(".claude/debug");
    std::fs::create_dir_all(&debug).unwrap();
    std::fs::copy(fixture(COMPACTION), debug.join("s1.txt")).unwrap();
    std::os::unix::fs::symlink(debug.join("s1.txt"), debug.join("latest")).unwrap();
    let o = logs(home.path(), &[], &[]);
    let out = stdout(&o);
    assert!(out.contains("s1.txt") && out.contains("(latest)"), "{out}");
    assert!(out.contains("61.2 KiB"), "{out}");
    let o = logs(home.path(), &["--json"], &[]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["sessions"][0]["size"], 62_659);
    assert_eq!(v["sessions"][0]["latest"], true);
}

#[test]
fn bad_inputs() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("missing.txt");
    let o = logs(home.path(), &[missing.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(&format!("--> {}", missing.display())), "{err}");
    assert!(err.contains("help: "), "{err}");
    assert!(o.stdout.is_empty());

    let o = logs(home.path(), &[home.path().to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("directory"), "{}", stderr(&o));

    // No `latest` link yet.
    let o = logs(home.path(), &["--latest"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--debug-file"), "{}", stderr(&o));

    // Usage errors: exit 2.
    let p = fixture(COMPACTION);
    let p = p.to_str().unwrap();
    assert_eq!(
        logs(home.path(), &[p, "--server-ctx", "0"], &[])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        logs(home.path(), &[p, "--server-ctx", "lots"], &[])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        logs(home.path(), &[p, "--latest"], &[]).status.code(),
        Some(2)
    );
}

#[test]
fn unreadable_file() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let p = home.path().join("locked.txt");
    std::fs::write(&p, "2026-11-25T10:00:00.000Z [DEBUG] x\n").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&p).is_ok() {
        eprintln!("skipping: running as root, permissions do not stop reads");
        return;
    }
    let o = logs(home.path(), &[p.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("permission"), "{}", stderr(&o));
}

#[test]
fn host_reads_the_live_context_from_api_ps() {
    use support::fake_ollama::FakeOllama;
    let home = tempfile::tempdir().unwrap();
    let fake = FakeOllama::serving("qwen3-coder:30b", 16_384);
    let p = fixture(COMPACTION);
    let o = logs(
        home.path(),
        &[p.to_str().unwrap(), "--json", "--host", &fake.base_url],
        &[],
    );
    // The live 16384 is smaller than the log's window: an error finding, exit 1.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = v["findings"].as_array().unwrap();
    let cm = f
        .iter()
        .find(|f| f["id"] == "context_mismatch")
        .expect("context_mismatch");
    assert_eq!(cm["severity"], "error");
    assert!(cm["title"].as_str().unwrap().contains("16384"), "{cm}");
    assert!(fake.requests().iter().any(|r| r.route() == "/api/ps"));
    // --server-ctx wins over the live value.
    let o = logs(
        home.path(),
        &[
            p.to_str().unwrap(),
            "--json",
            "--host",
            &fake.base_url,
            "--server-ctx",
            "65536",
        ],
        &[],
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let cm = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "context_mismatch")
        .cloned()
        .unwrap();
    assert_eq!(cm["severity"], "ok");
    drop(fake);

    // A server that is not there: a warning, and the analysis still prints.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let o = logs(
        home.path(),
        &[p.to_str().unwrap(), "--json", "--host", &url],
        &[],
    );
    assert_eq!(o.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["requests"], 7);
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["id"] == "server_unreachable"));
}
