//! Proof against the real llama-server (b11434, built by scripts/install-test-deps.sh) and
//! the real Claude Code 2.1.332: the `ExecStart=` of the unit `cclocal setup --server
//! llama-server` writes, run as written, serves the planned context in one slot; Claude
//! Code run through the generated launcher logs an effective window within it and gets an
//! answer; the second request of the same session reuses the server's prompt cache.
use crate::support;
use crate::support::real_llama_server::{setup_unit, RealLlamaServer};
use crate::support::setup_home::*;

use cclocal::claude::{recommend, Version};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const CTX: u64 = 32_768;
/// The answer the server is held to. The tiny test model never stops by itself, and
/// Claude Code's `max_tokens` (4096 here) overrides the server's `-n`, so a grammar
/// appended to the command line makes every reply exactly this text, then end of turn.
const ANSWER: &str = "Hello from llama-server";

/// One request as llama-server's log shows it at the default verbosity:
/// `prompt eval time = … ms / N tokens`, `eval time = … ms / G tokens`, and the slot's
/// `stop processing: n_tokens = T` (prompt plus generated tokens).
#[derive(Debug, Default, Clone, Copy)]
struct Task {
    evaluated: u64,
    generated: u64,
    n_tokens: u64,
}

impl Task {
    /// The prompt's whole length: what the slot held at the end, less what it generated.
    fn prompt(&self) -> u64 {
        self.n_tokens.saturating_sub(self.generated)
    }
}

fn number_after(line: &str, key: &str) -> Option<u64> {
    let i = line.find(key)? + key.len();
    line[i..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

fn tasks(log: &str) -> Vec<Task> {
    let mut out = Vec::new();
    let mut cur = Task::default();
    for line in log.lines() {
        if line.contains("prompt eval time =") {
            cur.evaluated = number_after(line.split(" ms /").nth(1).unwrap_or(""), "").unwrap_or(0);
        } else if line.contains("       eval time =") {
            cur.generated = number_after(line.split(" ms /").nth(1).unwrap_or(""), "").unwrap_or(0);
        } else if line.contains("stop processing: n_tokens =") {
            cur.n_tokens = number_after(line, "n_tokens =").unwrap_or(0);
            out.push(cur);
            cur = Task::default();
        }
    }
    out
}

#[test]
fn setup_unit_serves_the_planned_context_to_real_claude_code() {
    let Some((server_bin, gemma, claude)) = support::llama_gemma_claude() else {
        return;
    };
    let t = TestHome::new();
    // The model by a path with a space, as many people keep them.
    let models = t.dir.path().join("My Models");
    std::fs::create_dir_all(&models).unwrap();
    let model = models.join("gemma-3-270m-q4_k_m.gguf");
    std::os::unix::fs::symlink(&gemma, &model).unwrap();
    // No user systemd here: setup prints the commands, and the test runs ExecStart itself
    // (plus the answer cap).
    let (mut argv, port) = setup_unit(&t, &model, &server_bin, CTX);
    assert_eq!(argv[0], server_bin.to_str().unwrap());
    argv.extend([
        "-n".into(),
        "48".into(),
        "--grammar".into(),
        format!("root ::= \"{ANSWER}\""),
    ]);
    let server = RealLlamaServer::start_argv(
        &argv,
        port,
        &t.dir.path().join("server-output.txt"),
        Duration::from_secs(180),
    );

    // One slot holding the whole planned context.
    let slots = server.get_json("/slots");
    let slots = slots.as_array().expect("/slots is an array");
    assert_eq!(slots.len(), 1, "{slots:?}");
    assert_eq!(slots[0]["n_ctx"], CTX, "{slots:?}");
    let props = server.get_json("/props");
    assert_eq!(props["default_generation_settings"]["n_ctx"], CTX);
    assert_eq!(props["total_slots"], 1);

    // The real Claude Code through the generated launcher.
    let bin = t.claude_bin_dir(&claude);
    let debug = t.dir.path().join("claude-debug.txt");
    let mut cmd = t.launcher(&bin);
    cmd.args(["-p", "Reply with one word"])
        .arg("--debug-file")
        .arg(&debug);
    let first = support::run_to_end_within(cmd, 480);
    let log = std::fs::read_to_string(&debug).unwrap_or_default();
    let window = support::logged_effective_window(&log).unwrap_or_else(|| {
        panic!(
            "no autocompact line; output: {first}\nserver: {}",
            server.output_text()
        )
    });
    let planned = recommend(Version(2, 1, 332), CTX, "gemma-3-270m-q4_k_m")
        .calc
        .effective_window;
    eprintln!("Claude Code logged effectiveWindow={window} (planned {planned}, served {CTX})");
    assert!(
        window as u64 <= CTX,
        "window {window} > served context {CTX}"
    );
    assert_eq!(window, planned);
    assert!(first.contains(ANSWER), "no answer from the server: {first}");

    // The second request of the same session re-evaluates only what is new.
    let mut cmd = t.launcher(&bin);
    cmd.args(["-c", "-p", "And once more"])
        .arg("--debug-file")
        .arg(&debug);
    let second = support::run_to_end_within(cmd, 480);
    assert!(
        second.contains(ANSWER),
        "no answer to the second request: {second}"
    );
    let server_log =
        std::fs::read_to_string(t.home().join(".local/state/cclocal/llama-server.log"))
            .expect("llama-server writes the log file setup configured");
    let all = tasks(&server_log);
    eprintln!("llama-server requests: {all:?}");
    let last = *all.last().expect("timing lines in the server log");
    assert!(all.len() >= 2, "{all:?}");
    assert!(
        last.prompt() > 1000,
        "a Claude Code prompt is thousands of tokens: {all:?}"
    );
    assert!(
        last.evaluated * 5 < last.prompt(),
        "the second request re-evaluated {} of {} prompt tokens: the cache was not reused ({all:?})",
        last.evaluated,
        last.prompt()
    );
}

#[test]
fn server_log_tasks_are_read() {
    // Lines from a real b11434 log (tests/fixtures/llama-server-setup/README.md).
    let log = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/llama-server-setup/claude-session-timings.log"
    ))
    .unwrap();
    let t = tasks(&log);
    assert_eq!(t.len(), 2, "{t:?}");
    assert_eq!(
        (t[0].evaluated, t[0].generated, t[0].n_tokens),
        (3689, 4096, 7784)
    );
    assert_eq!(t[0].prompt(), 3688);
    assert_eq!(
        (t[1].evaluated, t[1].generated, t[1].n_tokens),
        (81, 4096, 11960)
    );
}

/// Why setup writes `-np 1`: the same server without it starts four slots, and with
/// `-np 4` each slot gets a quarter of `-c` (the per-slot context Claude Code can use).
#[test]
fn without_np_1_the_context_is_shared_by_slots() {
    let (Some(bin), Some(gemma)) = (support::llama_server_bin(), support::gemma_path()) else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let m = gemma.to_str().unwrap();
    let auto = RealLlamaServer::start(&bin, &["-m", m, "-c", "8192"], &d.path().join("a.txt"));
    assert_eq!(auto.get_json("/props")["total_slots"], 4);
    drop(auto);
    let four = RealLlamaServer::start(
        &bin,
        &["-m", m, "-c", "16384", "-np", "4"],
        &d.path().join("b.txt"),
    );
    let slots = four.get_json("/slots");
    let n: Vec<_> = slots
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["n_ctx"].clone())
        .collect();
    assert_eq!(n, vec![serde_json::json!(4096); 4]);
}

/// `cclocal doctor` against the real llama-server that setup's unit runs: Claude Code with
/// only a base URL would assume a far larger window than the server's context
/// (`context_mismatch`, exit 1); after setup, through the launcher, there is no context
/// finding.
#[test]
fn doctor_before_and_after_setup_against_the_real_server() {
    let Some((server_bin, gemma, claude)) = support::llama_gemma_claude() else {
        return;
    };
    let t = TestHome::new();
    let (argv, port) = setup_unit(&t, &gemma, &server_bin, CTX);
    let url = format!("http://127.0.0.1:{port}");
    let _server = RealLlamaServer::start_argv(
        &argv,
        port,
        &t.dir.path().join("server-output.txt"),
        Duration::from_secs(180),
    );
    let bin = t.claude_bin_dir(&claude);
    let doctor = |home: &Path, base_url: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cclocal"));
        c.args(["doctor", "--json"])
            .env_clear()
            .env("HOME", home)
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("NO_COLOR", "1")
            .env("CCLOCAL_DOCTOR_NO_SERVICE_PROBES", "1")
            .current_dir(home);
        if let Some(u) = base_url {
            c.env("ANTHROPIC_BASE_URL", u)
                .env("ANTHROPIC_AUTH_TOKEN", "x");
        }
        let o = c.output().unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
            panic!("{e}: {}", text(&o));
        });
        let ids: Vec<String> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap_or("").to_string())
            .collect();
        (o.status.code(), doc, ids)
    };
    // A naive Claude Code environment: only the base URL, in a home without cclocal.
    let naive = TestHome::new();
    let (code, doc, ids) = doctor(&naive.home(), Some(&url));
    assert_eq!(doc["facts"]["server"]["kind"], "llama-server", "{doc:#}");
    assert!(ids.contains(&"context_mismatch".to_string()), "{ids:?}");
    assert_eq!(code, Some(1), "{ids:?}");
    // After setup, the doctor checks what the launcher starts.
    let (_, doc, ids) = doctor(&t.home(), None);
    assert_eq!(doc["facts"]["server"]["kind"], "llama-server", "{doc:#}");
    assert_eq!(doc["facts"]["model"]["served_context"], CTX, "{doc:#}");
    assert!(!ids.contains(&"context_mismatch".to_string()), "{ids:?}");
    // What setup recorded matches the live server.
    assert!(
        !ids.contains(&"setup_drift".to_string()),
        "{ids:?}: {doc:#}"
    );
    eprintln!("doctor after setup: {ids:?}");
}
