//! `cclocal logs --follow` beside a real Claude Code session (2.1.332, through the launcher
//! `cclocal setup` wrote, in a pseudo-terminal) against the real llama-server (b11434,
//! gemma3-270m):
//! - every request shows within 1 s of Claude Code sending it;
//! - prefill progress moves during the long cold prefill of the first request;
//! - a staged context refusal (the server runs with a smaller context than setup planned,
//!   and the second prompt does not fit it) shows when it happens;
//! - Ctrl-C's summary equals `cclocal logs --json` on the same file afterwards.
//!
//! "Within 1 s" is measured between two timestamps the logs themselves carry: the time on
//! Claude Code's `[API REQUEST]` line and `seen_at`, the time `--follow` printed it. A busy
//! machine can hold any process back; `--follow` prints `late_ms`, how much later than
//! planned the poll that read the line began, and the bound allows for exactly that (and for
//! nothing else), so the check fails when `--follow` is slow, not when the machine is.
use crate::support;
use crate::support::real_llama_server::{free_port, RealLlamaServer};
use crate::support::setup_home::*;

use serde_json::Value;
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ANSWER: &str = "Hello from llama-server";

fn ms(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("a timestamp: {v}"));
    cclocal::logs::time::parse_iso_ms(s.as_bytes()).unwrap_or_else(|| panic!("ISO time: {s}"))
}

/// `cmd` run in a pseudo-terminal (util-linux `script`), stdin a pipe into the terminal.
fn in_pty(cmd: &str, env: &[(&str, String)]) -> Command {
    let mut c = Command::new("script");
    c.args(["-qfec", cmd, "/dev/null"]).env_clear();
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn wait_within(child: &mut Child, limit: Duration, what: &str) {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{what} did not end within {}s", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn follow_shows_a_real_session_as_it_happens() {
    let (Some(server_bin), Some(gemma), Some(claude), Some(_)) = (
        support::llama_server_bin(),
        support::gemma_path(),
        support::claude_bin("2.1.332"),
        support::tool("script"),
    ) else {
        return;
    };
    let t = TestHome::new();
    let bin = t.claude_bin_dir(&claude);
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let path_env = format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display());

    // setup plans for 32K; the server then runs with 8K (a restart with a smaller context).
    let args = llama_server_setup_args(
        &gemma,
        &server_bin,
        &[
            "--ctx",
            "32768",
            "--host",
            &url,
            "--claude-version",
            "2.1.332",
            "--only",
            "launcher,onboarding",
        ],
    );
    let o = t.command_of(&args).env("PATH", &path_env).output().unwrap();
    assert!(o.status.success(), "setup: {}", text(&o));
    let launcher = t.home().join(".local/bin/claude-local");
    assert!(
        std::fs::read_to_string(&launcher)
            .unwrap()
            .contains("--debug-file"),
        "the launcher records a debug log"
    );

    let server_out = t.dir.path().join("llama-server.log");
    let grammar = format!("root ::= \"{ANSWER}\"");
    let argv: Vec<String> = [
        server_bin.to_str().unwrap(),
        "-m",
        gemma.to_str().unwrap(),
        "-c",
        "8192",
        "-np",
        "1",
        "-b",
        "512",
        "-ub",
        "512",
        "--jinja",
        "-n",
        "48",
        "--grammar",
        &grammar,
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let server = RealLlamaServer::start_argv(&argv, port, &server_out, Duration::from_secs(180));

    // Two followers: ndjson on a pipe (checked event by event), and people's output in a
    // terminal (the live status line). Neither is given the log: they find the newest.
    let follow_args = [
        "logs",
        "--follow",
        "--server-log",
        server_out.to_str().unwrap(),
        "--host",
        &url,
    ];
    let json_out = t.dir.path().join("follow.ndjson");
    let mut json_follow = t
        .command(&[&follow_args[..], &["--json"]].concat())
        .stdout(std::fs::File::create(&json_out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let tty_out = t.dir.path().join("follow.tty");
    let cmd = std::iter::once(env!("CARGO_BIN_EXE_cclocal").to_string())
        .chain(follow_args.iter().map(|s| s.to_string()))
        .map(|s| sh_quote(&s))
        .collect::<Vec<_>>()
        .join(" ");
    let env = [
        ("HOME", t.home().display().to_string()),
        ("PATH", "/usr/bin:/bin".to_string()),
        ("TERM", "xterm".to_string()),
    ];
    let mut tty_follow = in_pty(&format!("exec {cmd}"), &env)
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&tty_out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(1));

    // 1. A cold first request: a long prefill. 2. The next prompt does not fit 8K.
    let digits: String = (0..6000u64)
        .map(|i| char::from(b'0' + ((i * 7919 + 13) % 10) as u8))
        .collect();
    let claude_env = [
        ("HOME", t.home().display().to_string()),
        ("PATH", path_env.clone()),
        ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".to_string()),
        ("TERM", "xterm".to_string()),
    ];
    let l = sh_quote(launcher.to_str().unwrap());
    let first = support::run_to_end_within(
        in_pty(
            &format!("cd ~ && {l} -p 'Reply with one word'"),
            &claude_env,
        ),
        600,
    );
    assert!(
        first.contains(ANSWER),
        "no answer: {first}\nserver: {}",
        server.output_text()
    );
    let second = support::run_to_end_within(
        in_pty(
            &format!("cd ~ && {l} -c -p 'Count these digits: {digits}'"),
            &claude_env,
        ),
        600,
    );
    std::thread::sleep(Duration::from_millis(1500));

    // Ctrl-C: a signal to the JSON follower, the real key in the terminal.
    // SAFETY: kill(2) on a child this test started.
    unsafe { libc::kill(json_follow.id() as i32, libc::SIGINT) };
    tty_follow
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"\x03")
        .unwrap();
    wait_within(&mut json_follow, Duration::from_secs(30), "follow --json");
    wait_within(
        &mut tty_follow,
        Duration::from_secs(30),
        "follow in a terminal",
    );

    let events: Vec<Value> = std::fs::read_to_string(&json_out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let all = || {
        events
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let of = |name: &str| -> Vec<&Value> { events.iter().filter(|e| e["event"] == name).collect() };

    // The launcher's log, as `logs --latest` finds it.
    let o = t.command(&["logs", "--latest", "--json"]).output().unwrap();
    let logs: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("logs --latest --json: {e}: {}", text(&o)));
    let sessions = of("session");
    assert!(
        logs["files"][0]
            .as_str()
            .is_some_and(|f| f.contains("/.local/state/cclocal/claude-debug/")),
        "{}",
        logs["files"]
    );
    assert_eq!(
        sessions.last().unwrap()["path"].as_str(),
        logs["files"][0].as_str(),
        "{}",
        all()
    );

    // Every request, within 1 s of its line (plus how late the machine let the poll run).
    let requests = logs["requests"].as_array().unwrap();
    assert!(requests.len() >= 2, "{}", logs["requests"]);
    let mut lags = Vec::new();
    for r in requests {
        let e = of("request")
            .into_iter()
            .find(|e| e["at"] == r["sent_at"] && e["source"] == r["source"])
            .unwrap_or_else(|| panic!("request {r} not followed:\n{}", all()));
        let lag = ms(&e["seen_at"]) - ms(&e["at"]);
        let late = e["late_ms"].as_i64().unwrap();
        lags.push((lag, late));
        assert!(
            lag <= 1000 + late,
            "request shown {lag} ms after it was sent (poll late {late} ms): {e}"
        );
    }

    eprintln!("follow: request shown after (ms, poll late ms): {lags:?}");
    // The first request's prefill moved while it ran: several figures, rising, before its
    // first byte came back.
    let first_byte = of("first_byte")
        .first()
        .map(|e| ms(&e["seen_at"]))
        .unwrap_or_else(|| panic!("no first byte:\n{}", all()));
    let progress: Vec<u64> = of("prefill")
        .iter()
        .filter(|e| ms(&e["seen_at"]) <= first_byte)
        .map(|e| e["done"].as_u64().unwrap())
        .collect();
    eprintln!("follow: prefill progress before the first byte: {progress:?}");
    let distinct: std::collections::BTreeSet<u64> = progress.iter().copied().collect();
    assert!(
        distinct.len() >= 2 && progress.windows(2).any(|w| w[1] > w[0]),
        "prefill progress did not move: {progress:?}\n{}",
        all()
    );

    // The staged refusal: the server's refusal and Claude Code's failed request, each shown
    // within 1 s of the log line that says so.
    let failed = of("failed");
    let f = failed
        .iter()
        .find(|e| e["status"] == 400)
        .unwrap_or_else(|| panic!("no failed request with 400 ({second}):\n{}", all()));
    let lag = ms(&f["seen_at"]) - ms(&f["at"]);
    eprintln!("follow: the refusal shown after {lag} ms");
    assert!(lag <= 1000 + f["late_ms"].as_i64().unwrap(), "{f}");
    assert!(
        of("problem")
            .iter()
            .any(|e| e["kind"] == "refused" && e["detail"].as_str().unwrap().contains("8192")),
        "{}",
        all()
    );
    let served = of("served");
    assert!(
        served
            .iter()
            .any(|e| e["prompt_tokens"].as_u64().is_some_and(|p| p > 1000)
                && e["server_context"] == 8192),
        "{}",
        all()
    );

    // Ctrl-C's summary is `logs`' summary of the same file.
    let summary = events.last().unwrap();
    assert_eq!(summary["event"], "summary", "{}", all());
    assert_eq!(summary["summary"], logs["summary"]);
    assert_eq!(summary["files"], logs["files"]);

    // In the terminal: a status line redrawn in place, and the same summary for people.
    let tty = std::fs::read_to_string(&tty_out).unwrap();
    assert!(tty.contains("\r\x1b[2K"), "{tty}");
    assert!(tty.contains("prefill"), "{tty}");
    assert!(tty.contains("failed: HTTP 400"), "{tty}");
    let o = t.command(&["logs", "--latest"]).output().unwrap();
    let report = String::from_utf8_lossy(&o.stdout).to_string();
    for line in report.lines().take(2) {
        assert!(tty.contains(line), "{line:?} not in\n{tty}");
    }
    drop(server);
}
