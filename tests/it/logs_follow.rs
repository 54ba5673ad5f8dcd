//! `cclocal logs --follow` on files that grow while it runs (the real session is
//! `logs_follow_e2e`): events as lines and as ndjson, the switch to a newer session, and
//! Ctrl-C's summary equal to `logs` on the same file.
use crate::support::setup_home::*;

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/claude-debug-logs"
);

/// Waits until `f` holds (the follower polls every 200 ms), at most 30 s.
fn eventually(what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(30), "never: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn interrupt(mut c: Child) -> std::process::ExitStatus {
    // SAFETY: kill(2) on a child this test started.
    unsafe { libc::kill(c.id() as i32, libc::SIGINT) };
    let start = Instant::now();
    loop {
        if let Some(st) = c.try_wait().unwrap() {
            return st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no exit after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn ndjson(p: &Path) -> Vec<Value> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn follow_switches_to_the_newer_session_and_ends_with_logs_summary() {
    let t = TestHome::new();
    let dir = t.home().join(".local/state/cclocal/claude-debug");
    std::fs::create_dir_all(&dir).unwrap();
    let old = dir.join("old.txt");
    std::fs::write(
        &old,
        std::fs::read(format!("{FIXTURES}/v2.1.332-404-model-not-found.txt")).unwrap(),
    )
    .unwrap();
    std::os::unix::fs::symlink(&old, dir.join("latest")).unwrap();
    let out = t.dir.path().join("out.ndjson");
    let child = t
        .command(&["logs", "--follow", "--json"])
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The old session is counted, not replayed.
    eventually("the old session followed", || {
        ndjson(&out).iter().any(|e| e["event"] == "session")
    });
    assert!(!ndjson(&out).iter().any(|e| e["event"] == "request"));

    // A new session begins (as the launcher starts one): followed from its first line.
    let new = dir.join("new.txt");
    let mut f = std::fs::File::create(&new).unwrap();
    std::fs::remove_file(dir.join("latest")).unwrap();
    std::os::unix::fs::symlink(&new, dir.join("latest")).unwrap();
    let text = std::fs::read(format!(
        "{FIXTURES}/v2.1.332-p-mode-compaction-unknown-model.txt"
    ))
    .unwrap();
    let (a, b) = text.split_at(text.len() / 2);
    f.write_all(a).unwrap();
    eventually("requests of the new session", || {
        ndjson(&out).iter().any(|e| e["event"] == "request")
    });
    f.write_all(b).unwrap();
    eventually("the compaction request", || {
        ndjson(&out)
            .iter()
            .any(|e| e["event"] == "request" && e["kind"] == "compact")
    });
    let st = interrupt(child);
    let events = ndjson(&out);
    let sessions: Vec<&Value> = events.iter().filter(|e| e["event"] == "session").collect();
    assert_eq!(sessions.len(), 2, "{events:?}");
    assert!(sessions[1]["path"].as_str().unwrap().ends_with("new.txt"));
    assert!(events
        .iter()
        .any(|e| e["event"] == "context" && e["level"] == "blocked"));

    let o = t
        .command(&["logs", new.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    let logs: Value = serde_json::from_slice(&o.stdout).unwrap();
    let requests = events.iter().filter(|e| e["event"] == "request").count();
    assert_eq!(
        requests as u64,
        logs["summary"]["requests"].as_u64().unwrap()
    );
    let summary = events.last().unwrap();
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["summary"], logs["summary"]);
    assert_eq!(summary["findings"], logs["findings"]);
    assert_eq!(st.code(), o.status.code(), "the same exit code as logs");

    // `logs` lists the launcher's folder too, and `--latest` is the newer session.
    let o = t.command(&["logs", "--json"]).output().unwrap();
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    let latest: Vec<&Value> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["latest"] == true)
        .collect();
    assert_eq!(latest.len(), 1, "{list}");
    assert!(
        latest[0]["path"].as_str().unwrap().ends_with("new.txt"),
        "{list}"
    );
    assert_eq!(list["sessions"].as_array().unwrap().len(), 2, "{list}");
}

#[test]
fn follow_on_a_pipe_prints_plain_lines_and_the_404() {
    let t = TestHome::new();
    let log = t.dir.path().join("s.txt");
    std::fs::write(&log, "").unwrap();
    let out = t.dir.path().join("out.txt");
    let child = t
        .command(&["logs", "--follow", log.to_str().unwrap()])
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    eventually("following", || {
        std::fs::read_to_string(&out)
            .unwrap_or_default()
            .contains("following")
    });
    let text = std::fs::read(format!("{FIXTURES}/v2.1.332-404-model-not-found.txt")).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(&text)
        .unwrap();
    eventually("the 404", || {
        std::fs::read_to_string(&out)
            .unwrap_or_default()
            .contains("404: the server has no model \"missing-model:7b\"")
    });
    interrupt(child);
    let shown = std::fs::read_to_string(&out).unwrap();
    assert!(
        !shown.contains('\x1b'),
        "no terminal codes on a pipe: {shown:?}"
    );
    let o = t
        .command(&["logs", log.to_str().unwrap()])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(shown.ends_with(report.as_ref()), "{shown}\n---\n{report}");
}

#[test]
fn follow_refuses_what_if_and_a_fifo() {
    let t = TestHome::new();
    let o = t
        .command(&["logs", "--follow", "--what-if"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let fifo = t.dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let o = t
        .command(&["logs", "--follow", fifo.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("FIFO"), "{}", text(&o));
}
