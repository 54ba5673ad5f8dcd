//! Hostile input costs bounded time and memory (issue 20, "Bounded time and memory"):
//! FIFOs and devices at any path cclocal reads are refused without blocking; over-long log
//! lines are skipped and counted; the logs' in-flight lists stay bounded; a server's chunk
//! sizes and lists cannot panic or flood; setup, alias and undo finish their work when
//! stdout is closed; a helper program's stray child does not hold setup up; a llama-server
//! path systemd would refuse is refused before anything is written.
//!
//! Tests that would hang without their fix run under a watchdog (`run_to_end_within`): a
//! limit on ending at all, not a speed claim.

use crate::support;
use crate::support::fake_http::{Answer, FakeHttp, Routes};
use crate::support::setup_home::*;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn mkfifo(p: &Path) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o600) },
        0,
        "mkfifo {p:?}"
    );
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/claude-debug-logs")
        .join(name)
}

/// Runs `cmd` with stdout a pipe whose reader is already gone (as after `| head -1` read
/// its line): every write to stdout fails with EPIPE.
fn run_with_closed_stdout(mut cmd: Command) -> std::process::Output {
    let mut fds = [0; 2];
    // SAFETY: pipe fills two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: closing the read end this test owns; the write end goes to the child.
    unsafe { libc::close(fds[0]) };
    let write_end = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[1]) };
    cmd.stdout(Stdio::from(write_end)).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    std::process::Output {
        status,
        stdout: Vec::new(),
        stderr: err.into_bytes(),
    }
}

// ---- R11: files ------------------------------------------------------------------------

#[test]
fn doctor_reports_fifos_and_devices_at_config_paths_and_does_not_hang() {
    let t = TestHome::new();
    let home = t.home();
    let project = t.dir.path().join("project");
    // Settings in HOME and in the current folder's .claude/ are FIFOs (a read would wait
    // for a writer forever); ~/.claude.json is /dev/zero (a read would never end).
    mkfifo(&home.join(".claude/settings.json"));
    mkfifo(&project.join(".claude/settings.json"));
    std::os::unix::fs::symlink("/dev/zero", home.join(".claude.json")).unwrap();
    mkfifo(&home.join(".config/cclocal/config.toml"));
    let mut cmd = t.command(&["doctor", "--offline"]);
    cmd.current_dir(&project);
    let out = support::run_to_end_within(cmd, 90);
    assert!(out.contains("FIFO"), "{out}");
    assert!(out.contains("character device"), "{out}");
    assert!(out.contains("settings.json"), "{out}");
    assert!(!out.contains("panicked"), "{out}");
}

#[test]
fn logs_refuses_fifos_and_devices() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("session.txt");
    mkfifo(&fifo);
    for (path, what) in [
        (fifo.as_path(), "FIFO"),
        (Path::new("/dev/zero"), "character device"),
    ] {
        let mut cmd = support::cclocal();
        cmd.arg("logs").arg(path);
        let out = support::run_to_end_within(cmd, 60);
        assert!(out.contains(what), "{out}");
        let mut cmd = support::cclocal();
        cmd.args(["logs", "--server-log"])
            .arg(path)
            .arg(fixture("v2.1.332-interactive-haiku-env.txt"));
        let out = support::run_to_end_within(cmd, 60);
        assert!(out.contains(what), "{out}");
    }
}

// ---- logs: over-long lines, bounded lists ----------------------------------------------

#[test]
fn an_over_long_line_is_skipped_and_counted() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("log.txt");
    let real = std::fs::read(fixture("v2.1.332-interactive-haiku-env.txt")).unwrap();
    let one = cclocal::logs::analyze_bytes(&real);
    let mut f = std::fs::File::create(&log).unwrap();
    f.write_all(&real).unwrap();
    // 3 MiB without a newline, then the log again; and one more at the very end.
    f.write_all(&vec![b'x'; 3 << 20]).unwrap();
    f.write_all(b"\n").unwrap();
    f.write_all(&real).unwrap();
    f.write_all(&vec![b'y'; 2 << 20]).unwrap();
    drop(f);
    let a = cclocal::logs::analyze_files(std::slice::from_ref(&log)).unwrap();
    assert_eq!(a.summary.long_lines_skipped, 2);
    assert_eq!(a.summary.requests, 2 * one.summary.requests);
    assert_eq!(a.summary.lines, 2 * one.summary.lines);
    let mut cmd = support::cclocal();
    cmd.arg("logs").arg(&log);
    let out = support::run_to_end_within(cmd, 60);
    assert!(out.contains("2 over-long line(s)"), "{out}");

    // The server-log reader is the same line reader.
    let s =
        cclocal::logs::serverlog::analyze_bytes(&[&vec![b'z'; 3 << 20][..], b"\nok\n"].concat());
    assert_eq!((s.long_lines_skipped, s.lines), (1, 1));
}

#[test]
fn in_flight_lists_and_the_request_list_stay_bounded() {
    use cclocal::logs::analyze::{Analyzer, MAX_REQUESTS};
    use cclocal::logs::parse_line;
    // Background requests whose streams start and are never seen ending, with distinct
    // sources: every list that grew with them before (streaming, by_source) has a cap.
    let mut an = Analyzer::new();
    let n = MAX_REQUESTS + 5000;
    let mut max_flight = (0, 0, 0);
    for i in 0..n {
        let ts = cclocal::logs::time::format_iso_ms(1_764_000_000_000 + i as i64 * 10);
        for l in [
            format!("{ts} [DEBUG] [API REQUEST] /v1/messages source=helper_{i}\n"),
            format!("{ts} [DEBUG] Stream started - received first chunk\n"),
            format!("{ts} [DEBUG] [API:timing] first byte after 7ms\n"),
        ] {
            an.line(&parse_line(&l));
        }
        let f = an.in_flight();
        max_flight = (
            max_flight.0.max(f.0),
            max_flight.1.max(f.1),
            max_flight.2.max(f.2),
        );
    }
    assert!(max_flight.0 <= 256 && max_flight.1 <= 256, "{max_flight:?}");
    assert!(max_flight.2 <= MAX_REQUESTS, "{max_flight:?}");
    let a = an.finish();
    assert_eq!(a.summary.requests, n as u64);
    assert_eq!(a.requests.len(), MAX_REQUESTS);
    assert_eq!(a.summary.requests_dropped, 5000);
    // The totals still count every request: 7 ms each.
    assert_eq!(a.summary.first_byte_ms_total, 7 * n as u64);
    assert!(a.summary.by_source.len() <= cclocal::logs::analyze::MAX_ROWS);
    assert!(a.summary.rows_dropped > 0);
}

// ---- R12 and servers -------------------------------------------------------------------

/// A server that answers every request with `raw` and closes.
fn raw_server(raw: &'static [u8]) -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
                let _ = s.read(&mut buf);
                let _ = s.write_all(raw);
            });
        }
    });
    url
}

#[test]
fn a_huge_chunk_size_is_an_error_not_a_panic() {
    let url = raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n{}\r\n",
    );
    for kind in ["ollama", "llama-server", "vllm"] {
        let t = TestHome::new();
        let mut cmd = t.command(&["doctor", "--host", &url, "--server", kind]);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let o = cmd.output().unwrap();
        let all = text(&o);
        assert_ne!(o.status.code(), Some(101), "{kind}: {all}");
        assert!(!all.contains("panicked"), "{kind}: {all}");
    }
}

#[test]
fn a_server_listing_many_models_gets_a_one_line_message() {
    let models: Vec<String> = (0..50_000)
        .map(|i| format!("{{\"name\":\"m{i}:latest\",\"size\":1}}"))
        .collect();
    let body = format!("{{\"models\":[{}]}}", models.join(","));
    let fake = FakeHttp::start(
        Routes::new(Answer::text(404, "404 page not found"))
            .route("GET /api/tags", Answer::json(200, &body))
            .route(
                "GET /api/version",
                Answer::json(200, "{\"version\":\"0.15.2\"}"),
            ),
    );
    let t = TestHome::new();
    let args: Vec<String> = t
        .setup_args(&["--dry-run"])
        .into_iter()
        .map(|a| {
            if a == "http://127.0.0.1:9" {
                fake.base_url.clone()
            } else {
                a
            }
        })
        .collect();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = t.run(&refs);
    let all = text(&o);
    assert!(!o.status.success(), "{all}");
    assert!(all.contains("does not have model"), "{all}");
    // Ten names, then a count (of the 10,000 models cclocal keeps of a list).
    assert!(all.contains("m9:latest … and "), "{all}");
    assert!(!all.contains("m10:latest"), "{all}");
    assert!(all.len() < 4000, "{} bytes of message", all.len());
}

// ---- R13: a closed stdout --------------------------------------------------------------

#[test]
fn setup_alias_and_undo_finish_their_work_when_stdout_is_closed() {
    let t = TestHome::new();
    let home = t.home();
    let args = t.setup_args(&["--yes"]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run_with_closed_stdout(t.command(&refs));
    // Before: exit 0 and nothing written. Now the work is done, whatever the reader did.
    assert!(o.status.success(), "{}", text(&o));
    let launcher = home.join(".local/bin/claude-local");
    assert!(
        launcher.is_file(),
        "setup reported success and wrote no launcher"
    );
    assert!(home.join(".config/cclocal/config.toml").is_file());

    std::fs::write(home.join(".bashrc"), "# mine\n").unwrap();
    let o = run_with_closed_stdout(t.command(&["alias", "bash", "--write"]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(std::fs::read_to_string(home.join(".bashrc"))
        .unwrap()
        .contains("claude-local"));

    let o = run_with_closed_stdout(t.command(&["undo"]));
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(home.join(".bashrc")).unwrap(),
        "# mine\n",
        "undo reported success and took nothing back"
    );
    let o = run_with_closed_stdout(t.command(&["undo"]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        !launcher.exists(),
        "the second undo did not take setup back"
    );
}

// ---- subprocesses ----------------------------------------------------------------------

#[test]
fn a_claude_that_leaves_a_child_holding_stdout_does_not_hold_setup_up() {
    let t = TestHome::new();
    let bin = t.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let pidfile = t.dir.path().join("stray.pid");
    let claude = bin.join("claude");
    std::fs::write(
        &claude,
        format!(
            "#!/bin/sh\nsleep 600 &\necho $! > {}\necho '2.1.332 (Claude Code)'\n",
            pidfile.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&claude, std::fs::Permissions::from_mode(0o755)).unwrap();
    let args: Vec<String> = t.setup_args(&["--dry-run"]).into_iter().collect::<Vec<_>>();
    // Without --claude-version: setup asks `claude --version`.
    let mut filtered = Vec::new();
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
            continue;
        }
        if a == "--claude-version" {
            skip = true;
            continue;
        }
        filtered.push(a);
    }
    let refs: Vec<&str> = filtered.iter().map(String::as_str).collect();
    let mut cmd = t.command(&refs);
    cmd.env("PATH", format!("{}:/usr/bin:/bin", bin.display()));
    let out = support::run_to_end_within(cmd, 120);
    if let Ok(pid) = std::fs::read_to_string(&pidfile)
        .unwrap_or_default()
        .trim()
        .parse::<i32>()
    {
        // SAFETY: the test's own stray sleep.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    assert!(out.contains("2.1.332"), "{out}");
}

// ---- files systemd cannot take ---------------------------------------------------------

#[test]
fn a_llama_server_path_systemd_refuses_is_refused_before_writing() {
    for dir in ["it's", "a\"b", "back\\slash"] {
        let t = TestHome::new();
        let bin = t.dir.path().join(dir).join("llama-server");
        std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
        std::fs::write(
            &bin,
            "#!/bin/sh\necho 'version: 1 (fake)'; echo 'built with sh for tests'\n",
        )
        .unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let model = t.dir.path().join("m.gguf");
        // A GGUF header (version 3, no tensors, no keys): setup checks that it is one.
        std::fs::write(&model, b"GGUF\x03\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0").unwrap();
        let before = contents(&t.home());
        let args = llama_server_setup_args(
            &model,
            &bin,
            &[
                "--ctx",
                "32768",
                "--kv-type",
                "q8_0",
                "--host",
                "http://127.0.0.1:18080",
                "--claude-version",
                "2.1.332",
            ],
        );
        let o = t.command_of(&args).output().unwrap();
        let all = text(&o);
        assert!(!o.status.success(), "{dir}: {all}");
        assert!(all.contains("systemd will not run"), "{dir}: {all}");
        assert_eq!(contents(&t.home()), before, "{dir}: something was written");
    }
}

/// The rule above is systemd's own: `systemd-analyze verify` (where installed) rejects a unit
/// whose executable path has a quote or a backslash, however it is quoted, and accepts the
/// same characters in arguments.
#[test]
fn systemd_itself_refuses_such_executable_paths() {
    let Some(analyze) = support::tool("systemd-analyze") else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let verify = |name: &str, exec: &str| -> (bool, String) {
        let unit = d.path().join(name);
        std::fs::write(
            &unit,
            format!("[Unit]\nDescription=t\n[Service]\nExecStart={exec}\n"),
        )
        .unwrap();
        let o = Command::new(&analyze)
            .args(["verify", "--man=no"])
            .arg(&unit)
            .output()
            .unwrap();
        (o.status.success(), text(&o))
    };
    let ok = d.path().join("ok/llama-server");
    std::fs::create_dir_all(ok.parent().unwrap()).unwrap();
    std::fs::copy("/bin/true", &ok).unwrap();
    let args = cclocal::server::llama_server::serve::exec_start(&[
        ok.display().to_string(),
        "/m/it's \"q\" \\ 50% $HOME.gguf".into(),
    ])
    .unwrap();
    let (good, out) = verify("good.service", &args);
    assert!(good, "{args}: {out}");
    for dir in ["it's", "a\"b", "back\\slash"] {
        let p = d.path().join(dir).join("llama-server");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::copy("/bin/true", &p).unwrap();
        let quoted =
            cclocal::server::llama_server::serve::systemd_quote_word(&p.display().to_string())
                .unwrap();
        let (good, out) = verify("bad.service", &quoted);
        assert!(!good, "{quoted} was accepted");
        assert!(out.contains("special characters"), "{out}");
        assert!(!cclocal::server::llama_server::serve::systemd_can_run(
            &p.display().to_string()
        ));
    }
}
