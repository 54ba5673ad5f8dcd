//! Issue 14's proof on a real session: the real Claude Code 2.1.332, through the launcher
//! `cclocal setup --server llama-server` writes, against the real llama-server (b11434) run
//! from the unit's `ExecStart=` serving the real gemma3-270m, for three turns; then
//! `cclocal bench` on the same model with the server's settings, in the same run; then
//! `cclocal logs DEBUG --server-log LOG --what-if --bench BENCH.json`. The prediction made
//! from the bench figures must match the session's measured wall time within ±25%, and each
//! request's prefill time as the server logged it within ±25%.
//!
//! It measures speed, so it runs alone: `#[ignore]`d in the parallel suite, and run by
//! scripts/test.sh on its own after it (`cargo test --test it -- --ignored`). What it
//! compares are two measurements of the same run (bench vs server), not a time limit.
use crate::support;
use crate::support::real_llama_server::{setup_unit, RealLlamaServer};
use crate::support::setup_home::*;

use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const CTX: u64 = 32_768;
/// The tiny model never stops by itself: a grammar holds every reply to this text.
const ANSWER: &str = "Noted";
/// Tolerance of the prediction, as the issue sets it.
const TOLERANCE: f64 = 0.25;

/// About `words` words of plain text, the same every run: a turn's new material (a file
/// the user pasted), so each turn evaluates a real amount of new prompt at a growing depth.
fn material(seed: u32, words: usize) -> String {
    const W: &[&str] = &[
        "server", "context", "cache", "prompt", "token", "model", "window", "compact", "slot",
        "batch", "thread", "memory", "layer", "request", "reply", "session", "config", "launcher",
        "port", "build", "table", "value", "error", "review", "change", "commit", "branch",
    ];
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(12_345);
    let mut out = String::new();
    for i in 0..words {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.push_str(W[(x as usize) % W.len()]);
        out.push(if i % 12 == 11 { '\n' } else { ' ' });
    }
    out
}

fn ratio_ok(predicted: f64, measured: f64) -> bool {
    measured > 0.0 && (predicted / measured - 1.0).abs() <= TOLERANCE
}

/// The one real session both proofs price: three turns of the real Claude Code 2.1.332
/// through the launcher against the real llama-server run from the unit's `ExecStart=`.
struct Session {
    t: TestHome,
    gemma: std::path::PathBuf,
    /// The unit's `ExecStart=`, as systemd splits it (without the grammar).
    argv: Vec<String>,
    /// Claude Code's debug log of the session.
    debug: std::path::PathBuf,
    /// A copy of the server's log of the session (later servers log elsewhere).
    server_log: std::path::PathBuf,
}

/// `cclocal logs DEBUG --server-log LOG --what-if --bench BENCH --json`.
fn what_if(debug: &Path, server_log: &Path, bench_json: &Path) -> Value {
    let o = support::cclocal()
        .args([
            "logs",
            debug.to_str().unwrap(),
            "--server-log",
            server_log.to_str().unwrap(),
            "--what-if",
            "--bench",
            bench_json.to_str().unwrap(),
            "--json",
        ])
        .output()
        .unwrap();
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("logs --what-if: {e}: {}", text(&o)))
}

/// The session, run once per test binary (on the first call) and shared: it is the slow
/// part of both tests. `None` when a real program is missing.
fn session() -> Option<&'static Session> {
    static SESSION: std::sync::OnceLock<Option<Session>> = std::sync::OnceLock::new();
    SESSION.get_or_init(run_session).as_ref()
}

/// The shared sessions' folders: a static is never dropped, so they are removed at exit.
static SESSION_DIRS: std::sync::OnceLock<Vec<std::path::PathBuf>> = std::sync::OnceLock::new();

extern "C" fn remove_session_dir() {
    for dir in SESSION_DIRS.get().into_iter().flatten() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// The shared session. Both proofs compare it with a measurement taken apart from it, so a
/// session that other processes slowed (they took more than
/// `bench_stats::CONTENTION_SHARE` of the CPUs besides the server, Claude Code included) is
/// not a quiet machine's: it is run once more, in a new HOME, and the second one is used
/// whatever its load (printed).
fn run_session() -> Option<Session> {
    let (server_bin, gemma, claude) = support::llama_gemma_claude()?;
    let mut dirs = Vec::new();
    for attempt in 1..=2 {
        let (session, others) = one_session(&server_bin, &gemma, &claude);
        dirs.push(session.t.dir.path().to_path_buf());
        let contended = others > cclocal::runtime::bench_stats::CONTENTION_SHARE;
        eprintln!(
            "session load (attempt {attempt}): other processes {:.1}% of the CPUs{}",
            others * 100.0,
            if contended { ", contended" } else { "" }
        );
        if !contended || attempt == 2 {
            if SESSION_DIRS.set(dirs).is_ok() {
                // SAFETY: registers a plain function with no arguments to run at exit.
                unsafe { libc::atexit(remove_session_dir) };
            }
            return Some(session);
        }
    }
    unreachable!()
}

/// `/proc/stat`'s (busy, total) ticks of all CPUs, and the busy ticks of process `pid`.
fn cpu_ticks(pid: u32) -> Option<(u64, u64, u64)> {
    use cclocal::runtime::bench_stats::{parse_proc_stat, parse_self_stat};
    let (busy, total) = parse_proc_stat(&std::fs::read_to_string("/proc/stat").ok()?)?;
    let own = parse_self_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)?;
    Some((busy, total, own))
}

/// One run of the session, and the share of the CPUs that processes other than the server
/// took meanwhile (0 where `/proc` cannot be read).
fn one_session(server_bin: &Path, gemma: &Path, claude: &Path) -> (Session, f64) {
    let gemma = gemma.to_path_buf();
    let t = TestHome::new();
    let (argv, port) = setup_unit(&t, &gemma, server_bin, CTX);
    let mut session_argv = argv.clone();
    session_argv.extend(["--grammar".into(), format!("root ::= \"{ANSWER}\"")]);
    let server = RealLlamaServer::start_argv(
        &session_argv,
        port,
        &t.dir.path().join("server-output.txt"),
        Duration::from_secs(180),
    );
    // Three turns of one session through the launcher, each bringing ~1,500 tokens.
    let bin = t.claude_bin_dir(claude);
    let before = cpu_ticks(server.pid());
    let debug = t.dir.path().join("claude-debug.txt");
    for turn in 0..3u32 {
        let prompt = format!(
            "Here are my notes, part {}:\n{}\nReply with one word.",
            turn + 1,
            material(turn, 1100)
        );
        let mut cmd = t.launcher(&bin);
        if turn > 0 {
            cmd.arg("-c");
        }
        cmd.args(["-p", &prompt]).arg("--debug-file").arg(&debug);
        let out = support::run_to_end_within(cmd, 480);
        assert!(
            out.contains(ANSWER),
            "turn {turn}: no answer: {out}\nserver: {}",
            server.output_text()
        );
    }
    let server_log = t.dir.path().join("session-server.log");
    std::fs::copy(
        t.home().join(".local/state/cclocal/llama-server.log"),
        &server_log,
    )
    .unwrap();
    let others = match (before, cpu_ticks(server.pid())) {
        (Some(a), Some(b)) if b.1 > a.1 => {
            let busy = b.0.saturating_sub(a.0);
            let own = b.2.saturating_sub(a.2).min(busy);
            (busy - own) as f64 / (b.1 - a.1) as f64
        }
        _ => 0.0,
    };
    drop(server);
    (
        Session {
            t,
            gemma,
            argv,
            debug,
            server_log,
        },
        others,
    )
}

/// Judges `proof` on the shared session. A machine that slows down for a while (on a
/// shared VM the session's last turn has run at 0.65× its own first turn's rate, with no
/// other process on the CPUs) fails it once; so a miss is judged once more on a new
/// session, and a wrong prediction fails twice. Both reports are printed.
fn judged_twice(proof: fn(&Session) -> Result<(), String>) {
    let Some(s) = session() else {
        return;
    };
    let Err(first) = proof(s) else {
        return;
    };
    eprintln!("outside the tolerance on the shared session:\n{first}\nonce more, on a new session");
    let (server_bin, gemma, claude) = support::llama_gemma_claude().expect("found once already");
    let (again, others) = one_session(&server_bin, &gemma, &claude);
    eprintln!(
        "session load (again): other processes {:.1}% of the CPUs",
        others * 100.0
    );
    if let Err(second) = proof(&again) {
        panic!("{first}\n\nand on a new session:\n{second}");
    }
}

#[test]
#[ignore = "measures speed: run alone by scripts/test.sh (cargo test --test it -- --ignored)"]
fn prediction_from_bench_matches_a_real_session_within_25_percent() {
    judged_twice(bench_proof);
}

/// The embedded bench's prediction against session `s`: `Err` with the report when a
/// request's prefill or the session is outside ±25%.
fn bench_proof(s: &Session) -> Result<(), String> {
    let Session {
        t,
        gemma,
        argv,
        debug,
        server_log,
    } = s;
    let args = argv.join(" ");
    // The settings the bench must share with the server: what the plan put in the unit.
    assert!(args.contains("--flash-attn on"), "{args}");
    assert!(args.contains("--cache-type-k f16"), "{args}");

    // The bench, same model, same settings as the unit (flash attention on, f16 cache,
    // llama-server's ubatch of 512), prompts spanning the session's depths.
    let bench_json = t.dir.path().join("bench.json");
    // Another process on the CPUs makes the bench slower than the session was: once more then.
    for attempt in 0..2 {
        let o = support::cclocal()
            .env("HOME", t.home())
            .env_remove("XDG_STATE_HOME")
            .args([
                "bench",
                gemma.to_str().unwrap(),
                "--ctx",
                "12288",
                "--prompts",
                "1024,4096,8192",
                "--batch",
                "512",
                "--flash-attn",
                "on",
                "--kv-type",
                "f16",
                "--decode",
                "16",
                "-r",
                "2",
                "--json",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "bench: {}", text(&o));
        std::fs::write(&bench_json, &o.stdout).unwrap();
        let bench: Value = serde_json::from_slice(&o.stdout).unwrap();
        eprintln!("bench load (attempt {}): {}", attempt + 1, bench["load"]);
        if bench["load"]["contended"] != true {
            break;
        }
    }

    let v = what_if(debug, server_log, &bench_json);
    // CCLOCAL_KEEP_SESSION=DIR keeps the three inputs (how the fixtures in
    // tests/fixtures/session_time/real-2.1.332 were captured).
    if let Some(dir) = std::env::var_os("CCLOCAL_KEEP_SESSION") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(debug, dir.join("claude-debug.txt")).unwrap();
        std::fs::copy(server_log, dir.join("llama-server.log")).unwrap();
        std::fs::copy(&bench_json, dir.join("bench.json")).unwrap();
    }
    let w = &v["what_if"];
    assert_eq!(
        w["source"], "Claude Code debug log joined to the server log",
        "{w:#}"
    );
    let reqs = w["as_ran"]["requests"].as_array().expect("requests");
    // Every request of the three turns reached the server and was joined: sized by it.
    assert!(reqs.len() >= 3, "{w:#}");
    let mut lines = Vec::new();
    let mut bad = Vec::new();
    for r in reqs {
        let predicted = r["predicted_prefill_ms"].as_f64().unwrap();
        let measured = r["measured_prefill_ms"]
            .as_f64()
            .expect("the server logged it");
        assert_eq!(r["cache_inferred"], false, "{r}");
        let line = format!(
            "prompt {:>6} evaluated {:>5}: prefill predicted {:>7.0} ms, measured {:>7.0} ms ({:.2}×)",
            r["prompt_tokens"], r["evaluated_tokens"], predicted, measured, predicted / measured
        );
        if !ratio_ok(predicted, measured) {
            bad.push(line.clone());
        }
        lines.push(line);
    }
    let predicted = w["as_ran"]["predicted_ms"].as_f64().unwrap();
    let measured = w["as_ran"]["measured_ms"].as_f64().unwrap();
    let report = format!(
        "{}\nsession: predicted {predicted:.0} ms, measured {measured:.0} ms ({:.3}×); prefill {:.0} ms, decode {:.0} ms, outside the model {:.0} ms",
        lines.join("\n"),
        predicted / measured,
        w["as_ran"]["breakdown"]["prefill_ms"].as_f64().unwrap_or(0.0),
        w["as_ran"]["breakdown"]["decode_ms"].as_f64().unwrap_or(0.0),
        w["as_ran"]["breakdown"]["other_ms"].as_f64().unwrap_or(0.0),
    );
    eprintln!("{report}");
    // The first request read the whole prompt; the later ones only what each turn added.
    let first = &reqs[0];
    assert_eq!(
        first["evaluated_tokens"], first["prompt_tokens"],
        "{report}"
    );
    let last = reqs.last().unwrap();
    assert!(
        last["evaluated_tokens"].as_u64().unwrap() * 2 < last["prompt_tokens"].as_u64().unwrap(),
        "{report}"
    );
    if !bad.is_empty() {
        return Err(format!(
            "prefill outside ±25%:\n{}\n\n{report}",
            bad.join("\n")
        ));
    }
    if !ratio_ok(predicted, measured) {
        return Err(format!("session outside ±25%:\n{report}"));
    }
    Ok(())
}

/// Issue 22's proof: the same kind of session, priced from `cclocal bench --host` rates
/// measured on the same llama-server build with the same settings (the unit's command line,
/// on another port), must match each request's prefill as the server logged it within ±15%
/// (the embedded bench's figures get ±25% above: they come from a cousin of the server).
#[test]
#[ignore = "measures speed: run alone by scripts/test.sh (cargo test --test it -- --ignored)"]
fn prediction_from_bench_host_matches_a_real_session_within_15_percent() {
    judged_twice(host_proof);
}

/// `bench --host`'s prediction against session `s`: `Err` with the report when a request's
/// prefill is outside ±15%.
fn host_proof(s: &Session) -> Result<(), String> {
    const HOST_TOLERANCE: f64 = 0.15;
    let Session {
        t,
        argv,
        debug,
        server_log,
        ..
    } = s;

    // The same command line on another port, logging elsewhere (the session's log stays
    // the session's): `bench --host` measures it through its API.
    let port2 = crate::support::real_llama_server::free_port();
    let mut bench_argv = argv.clone();
    for i in 1..bench_argv.len() {
        if bench_argv[i - 1] == "--port" {
            bench_argv[i] = port2.to_string();
        }
        if bench_argv[i - 1] == "--log-file" {
            bench_argv[i] = t.dir.path().join("bench-server.log").display().to_string();
        }
    }
    let bench_server = RealLlamaServer::start_argv(
        &bench_argv,
        port2,
        &t.dir.path().join("bench-server-output.txt"),
        Duration::from_secs(180),
    );
    let o = support::cclocal()
        .env("HOME", t.home())
        .env_remove("XDG_STATE_HOME")
        .args([
            "bench",
            "--host",
            &bench_server.base_url,
            "--prompts",
            "2048,8192,16384",
            "--decode",
            "16",
            "-r",
            "1",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "bench --host: {}", text(&o));
    drop(bench_server);
    let bench_json = t.dir.path().join("bench-host.json");
    std::fs::write(&bench_json, &o.stdout).unwrap();

    let v = what_if(debug, server_log, &bench_json);
    let reqs = v["what_if"]["as_ran"]["requests"]
        .as_array()
        .expect("requests");
    assert!(reqs.len() >= 3, "{v:#}");
    let mut lines = Vec::new();
    let mut bad = Vec::new();
    for r in reqs {
        let predicted = r["predicted_prefill_ms"].as_f64().unwrap();
        let measured = r["measured_prefill_ms"]
            .as_f64()
            .expect("the server logged it");
        let line = format!(
            "prompt {:>6} evaluated {:>5}: prefill predicted {:>7.0} ms, measured {:>7.0} ms ({:.3}×)",
            r["prompt_tokens"], r["evaluated_tokens"], predicted, measured, predicted / measured
        );
        if !(measured > 0.0 && (predicted / measured - 1.0).abs() <= HOST_TOLERANCE) {
            bad.push(line.clone());
        }
        lines.push(line);
    }
    let report = lines.join("\n");
    eprintln!("{report}");
    if !bad.is_empty() {
        return Err(format!(
            "prefill outside ±15%:\n{}\n\n{report}",
            bad.join("\n")
        ));
    }
    Ok(())
}
