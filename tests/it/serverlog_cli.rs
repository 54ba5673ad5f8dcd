//! `cclocal logs --server-log` and `--html` through the binary, on the real b11434 session
//! pair; the HTML page rendered in a real headless Chromium, its bars read back after layout.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/server-logs")
        .join(name)
}

const CLAUDE: &str = "claude-2.1.332-session-against-llama-server.txt";
const SERVER: &str = "llama-server-b11434-claude-session.log";

fn logs(home: &Path, args: &[&str]) -> Output {
    let mut c = support::cclocal();
    c.arg("logs")
        .args(args)
        .env("HOME", home)
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("CLAUDE_CODE_DEBUG_LOGS_DIR")
        .env_remove("XDG_STATE_HOME")
        .env_remove("HOMEBREW_PREFIX")
        .env("NO_COLOR", "1");
    c.output().unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn joined_json_has_server_figures_per_request() {
    let home = tempfile::tempdir().unwrap();
    let o = logs(
        home.path(),
        &[
            s(&fixture(CLAUDE)),
            "--server-log",
            s(&fixture(SERVER)),
            "--json",
        ],
    );
    let v = support::report::ok_json(&o);
    let reqs = v["requests"].as_array().unwrap();
    assert_eq!(reqs.len(), 5);
    let srv: Vec<&Value> = reqs.iter().map(|r| &r["server"]).collect();
    assert_eq!(srv[0]["prompt_tokens"], 3689);
    assert_eq!(srv[0]["prompt_tokens_evaluated"], 3689);
    assert_eq!(srv[0]["cached_tokens"], 0);
    assert_eq!(srv[0]["prefill_ms"], 13535.29);
    assert_eq!(srv[0]["decode_ms"], 94906.3);
    assert_eq!(srv[1]["prompt_tokens"], 7865);
    assert_eq!(srv[1]["prompt_tokens_evaluated"], 81);
    assert_eq!(srv[1]["cached_tokens"], 7784);
    assert_eq!(srv[3]["prefill_ms"], 8961.29);
    assert_eq!(srv[4]["cancelled"], true);
    assert_eq!(srv[4]["prefill_ms"], Value::Null);
    let sum = &v["summary"]["server"];
    assert_eq!(sum["matched"], 5);
    assert_eq!(sum["prefill_ms"], 23993.77);
    assert_eq!(sum["decode_ms"], 416370.29);
    assert_eq!(sum["idle_ms"], 59257.94);
    assert_eq!(sum["cached_tokens"], 35880);
    assert_eq!(
        v["server"]["join"]["server_started_at"],
        "2026-12-01T00:28:30.256Z"
    );
    assert_eq!(v["server"]["join"]["clock_skew_ms"], Value::Null);
    assert_eq!(v["server"]["kind"], "llama-server");
    // The server's own context now checks Claude Code's window: 28672 fits 32768.
    let f = v["findings"].as_array().unwrap();
    let cm = f.iter().find(|f| f["id"] == "context_mismatch").unwrap();
    assert_eq!(cm["severity"], "ok");
}

#[test]
fn joined_human_report() {
    let home = tempfile::tempdir().unwrap();
    let o = logs(
        home.path(),
        &[s(&fixture(CLAUDE)), "--server-log", s(&fixture(SERVER))],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(out.contains("joined 5 of 5 requests"), "{out}");
    assert!(out.contains("2026-12-01T00:28:30.256Z on Claude Code's clock"));
    assert!(
        out.contains("prefill 24.0s (5%), decode 6m56s (83%), idle 59.3s (12%)"),
        "{out}"
    );
    assert!(out.contains("35880 of 41128 prompt tokens reused"));
    // The server section comes before the findings.
    assert!(out.find("Server log").unwrap() < out.find("\nFindings").unwrap());
}

#[test]
fn server_log_alone_and_strict() {
    let home = tempfile::tempdir().unwrap();
    let o = logs(
        home.path(),
        &["--server-log", s(&fixture("ollama-0.30-session.log"))],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        out.starts_with("Server log (ollama (llama-server runner, 0.30+))"),
        "{out}"
    );
    assert!(out.contains("! prompt_truncated: the server cut 1 prompt(s), 26306 tokens dropped"));
    assert!(out.contains("! kv_cache_type_ignored"));
    let o = logs(
        home.path(),
        &[
            "--server-log",
            s(&fixture("ollama-0.30-session.log")),
            "--strict",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["server"]["loads"].as_array().unwrap().len(), 3);
    assert_eq!(v["server"]["loads"][1]["reason"], "keep-alive expired");
    assert_eq!(v["server"]["config"]["OLLAMA_KV_CACHE_TYPE"], "q8_0");
    assert_eq!(v["server"]["requests"][1]["prompt_tokens"], 8194);
    // Two files, repeated flag: read in order as one log.
    let o = logs(
        home.path(),
        &[
            "--server-log",
            s(&fixture("ollama-0.24-runner.log")),
            "--server-log",
            s(&fixture("ollama-0.30-session.log")),
            "--json",
        ],
    );
    let v = support::report::ok_json(&o);
    assert_eq!(v["server"]["files"].as_array().unwrap().len(), 2);
    assert_eq!(v["server"]["loads"].as_array().unwrap().len(), 5);
}

#[test]
fn missing_server_log_is_a_clear_error() {
    let home = tempfile::tempdir().unwrap();
    let o = logs(home.path(), &["--server-log", "/nonexistent/server.log"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("/nonexistent/server.log"), "{err}");
    assert!(err.contains("server log"), "{err}");
}

#[test]
fn setup_log_is_found_automatically() {
    // The llama-server log under cclocal's state directory joins without --server-log.
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join(".local/state/cclocal");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::copy(fixture(SERVER), state.join("llama-server.log")).unwrap();
    let v = support::report::ok_json(&logs(home.path(), &[s(&fixture(CLAUDE)), "--json"]));
    assert_eq!(v["server"]["found_automatically"], true);
    assert_eq!(v["requests"][1]["server"]["cached_tokens"], 7784);
    // A server log of another session does not join, and is left out.
    std::fs::copy(
        fixture("llama-server-b11434-verbose.log"),
        state.join("llama-server.log"),
    )
    .unwrap();
    let v = support::report::ok_json(&logs(home.path(), &[s(&fixture(CLAUDE)), "--json"]));
    assert!(v.get("server").is_none(), "{}", v["server"]);
}

/// Attribute values of `name` in order of appearance.
fn attrs<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let key = format!(" {name}=\"");
    html.match_indices(&key)
        .map(|(i, _)| {
            let v = &html[i + key.len()..];
            &v[..v.find('"').unwrap()]
        })
        .collect()
}

#[test]
fn html_renders_in_chromium_and_bars_match_the_json() {
    let Some(chromium) = support::tool("chromium") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let page = home.path().join("session.html");
    let v = support::report::ok_json(&logs(
        home.path(),
        &[
            s(&fixture(CLAUDE)),
            "--server-log",
            s(&fixture(SERVER)),
            "--html",
            s(&page),
            "--json",
        ],
    ));
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: nothing to fetch.
    for needle in [" src=", " href=", "<link", "@import", "url("] {
        assert!(!html.contains(needle), "{needle} in the page");
    }
    let dom = std::process::Command::new(&chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!(
            "--user-data-dir={}",
            home.path().join("chromium-profile").display()
        ))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    assert!(
        dom.contains("data-laid-out=\"yes\""),
        "the page's script did not run: {dom}"
    );
    let scale: f64 = attrs(&dom, "data-scale")[0].parse().unwrap();
    // Bars: each one's prefill/decode widths after layout = its milliseconds × the scale, and
    // its milliseconds = the JSON's server figures.
    let bars: Vec<&str> = dom.split("<g class=\"bar\"").skip(1).collect();
    assert_eq!(bars.len(), 5);
    let reqs = v["requests"].as_array().unwrap();
    for b in &bars {
        let n: usize = attrs(b, "data-n")[0].parse().unwrap();
        let srv = &reqs[n - 1]["server"];
        let ms: Vec<f64> = attrs(b, "data-ms")
            .iter()
            .map(|x| x.parse().unwrap())
            .collect();
        let px: Vec<f64> = attrs(b, "data-px")
            .iter()
            .map(|x| x.parse().unwrap())
            .collect();
        assert_eq!((ms.len(), px.len()), (3, 3), "{b}");
        for k in 0..3 {
            assert!(
                (px[k] - ms[k] * scale).abs() < 0.05,
                "bar {n} segment {k}: {} px for {} ms at {scale} px/ms",
                px[k],
                ms[k]
            );
        }
        if let Some(p) = srv["prefill_ms"].as_f64() {
            assert!((ms[0] - p).abs() < 0.01, "bar {n}: {} vs JSON {p}", ms[0]);
            assert!((ms[1] - srv["decode_ms"].as_f64().unwrap()).abs() < 0.01);
        }
    }
    // The first bar's prefill is visibly the 13.5 s of the first request: 13535.29 ms.
    let first_px: f64 = attrs(bars[0], "data-px")[0].parse().unwrap();
    assert!((first_px - 13535.29 * scale).abs() < 0.05);
    // Prompt sizes: heights match the JSON's prompt_tokens.
    let per_tok: f64 = attrs(&dom, "data-px-per-token")[0].parse().unwrap();
    let toks = attrs(&dom, "data-prompt-tokens");
    let hs = attrs(&dom, "data-px-h");
    assert_eq!(toks, ["3689", "7865", "12041", "17533"]);
    for (t, h) in toks.iter().zip(&hs) {
        let (t, h): (f64, f64) = (t.parse().unwrap(), h.parse().unwrap());
        assert!((h - t * per_tok).abs() < 0.05, "{h} px for {t} tokens");
    }
    // The limits: the server's context and Claude Code's compaction threshold.
    assert_eq!(attrs(&dom, "data-tokens"), ["32768", "15672"]);
    // The two compactions are marked.
    assert_eq!(attrs(&dom, "data-kind"), ["compaction", "compaction"]);
    // And it draws: a screenshot comes back as a PNG.
    let shot = home.path().join("shot.png");
    let o = std::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1200,800",
        ])
        .arg(format!(
            "--user-data-dir={}",
            home.path().join("chromium-profile").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let png =
        std::fs::read(&shot).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&o.stderr)));
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
}

#[test]
fn html_of_a_server_log_alone_marks_truncations_and_reloads() {
    let home = tempfile::tempdir().unwrap();
    let page = home.path().join("server.html");
    let o = logs(
        home.path(),
        &[
            "--server-log",
            s(&fixture("ollama-0.30-session.log")),
            "--html",
            s(&page),
        ],
    );
    assert!(o.status.success());
    let html = std::fs::read_to_string(&page).unwrap();
    let kinds = attrs(&html, "data-kind");
    assert_eq!(kinds, ["truncation", "reload", "reload"]);
    assert_eq!(attrs(&html, "data-prompt-tokens"), ["12000", "8194"]);
}

fn with_fake_journalctl(home: &Path, script: &str, args: &[&str]) -> (Output, std::time::Duration) {
    use std::os::unix::fs::PermissionsExt;
    let bin = home.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let j = bin.join("journalctl");
    std::fs::write(&j, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&j, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = support::cclocal();
    c.arg("logs")
        .args(args)
        .env("HOME", home)
        .env("PATH", path)
        .env_remove("XDG_STATE_HOME")
        .env_remove("HOMEBREW_PREFIX")
        .env_remove("CLAUDE_CONFIG_DIR");
    let t = std::time::Instant::now();
    let o = c.output().unwrap();
    (o, t.elapsed())
}

#[test]
fn ollama_journal_is_read_around_the_session_with_a_deadline() {
    let home = tempfile::tempdir().unwrap();
    // The system unit answers (the session's server log stands in for the journal's lines).
    let script = format!(
        "echo \"$@\" >> \"$HOME/journal-args\"\ncase \"$*\" in *--user*) exit 1;; esac\ncat '{}'",
        fixture(SERVER).display()
    );
    let (o, _) = with_fake_journalctl(home.path(), &script, &[s(&fixture(CLAUDE)), "--json"]);
    let v = support::report::ok_json(&o);
    assert_eq!(v["server"]["files"][0], "journalctl -u ollama");
    assert_eq!(v["requests"][1]["server"]["cached_tokens"], 7784);
    let args = std::fs::read_to_string(home.path().join("journal-args")).unwrap();
    assert!(
        args.contains("--no-pager -o cat -u ollama --since 2026-11-30 23:28:45 UTC --until 2026-12-01 01:37:05 UTC"),
        "{args}"
    );
    // A journalctl that hangs is killed at the deadline; the report comes without it.
    let home = tempfile::tempdir().unwrap();
    let (o, took) = with_fake_journalctl(home.path(), "sleep 30", &[s(&fixture(CLAUDE)), "--json"]);
    let v = support::report::ok_json(&o);
    assert!(v.get("server").is_none());
    assert!(took < std::time::Duration::from_secs(15), "{took:?}");
}
