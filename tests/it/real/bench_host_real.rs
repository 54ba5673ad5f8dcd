//! Issue 22's proof of `cclocal bench --host`: against the real llama-server (b11434, the
//! real gemma3-270m), every request it timed agrees with the server's own timing lines for
//! the same request within 5%; against the real vLLM CPU build it runs and reports.
//!
//! Both compare two accounts of the same requests (never a time limit).
use crate::support;
use crate::support::real_llama_server::RealLlamaServer;
use crate::support::setup_home::*;

use serde_json::Value;

/// `(ms, tokens)` of each `<what> time = X ms / N tokens` line of a llama-server log, where
/// `what` is `prompt eval` or `eval` (the decode line, without the `prompt` before it).
pub fn timing_lines(log: &str, prompt: bool) -> Vec<(f64, u64)> {
    log.lines()
        .filter_map(|l| {
            let i = l.find("eval time =")?;
            let is_prompt = l[..i].trim_end().ends_with("prompt");
            if is_prompt != prompt {
                return None;
            }
            let rest = &l[i + "eval time =".len()..];
            let (ms, rest) = rest.split_once("ms /")?;
            let tokens = rest.split_whitespace().next()?;
            Some((ms.trim().parse().ok()?, tokens.parse().ok()?))
        })
        .collect()
}

/// Whether a line of the log timed `tokens` tokens in `ms` within 5%.
fn logged(lines: &[(f64, u64)], tokens: u64, ms: f64) -> Option<f64> {
    lines
        .iter()
        .filter(|(_, n)| *n == tokens)
        .map(|(l, _)| ms / l)
        .find(|r| (r - 1.0).abs() <= 0.05)
}

#[test]
fn bench_host_agrees_with_the_real_llama_servers_own_timing_lines() {
    let (Some(bin), Some(gemma)) = (support::llama_server_bin(), support::gemma_path()) else {
        return;
    };
    let t = TestHome::new();
    let server = RealLlamaServer::start(
        &bin,
        &[
            "-m",
            gemma.to_str().unwrap(),
            "-c",
            "4096",
            "-np",
            "1",
            "-t",
            "2",
        ],
        &t.dir.path().join("server.log"),
    );
    let o = support::cclocal()
        .env("HOME", t.home())
        .env_remove("XDG_STATE_HOME")
        .args([
            "bench",
            "--host",
            &server.base_url,
            "--prompts",
            "256,768",
            "--decode",
            "8",
            "-r",
            "1",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "bench --host: {}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["kind"], "llama-server", "{v:#}");
    assert_eq!(v["timing"], "server", "{v:#}");
    let log = server.output_text();
    let prompt_lines = timing_lines(&log, true);
    let eval_lines = timing_lines(&log, false);
    let samples = v["samples"].as_array().expect("samples");
    assert_eq!(samples.len(), 2, "{v:#}");
    let mut report = Vec::new();
    for s in samples {
        for which in ["cold", "warm"] {
            let x = &s[which];
            let tokens =
                x["prompt_tokens"].as_u64().unwrap() - x["cached_tokens"].as_u64().unwrap();
            let ms = x["prefill_ms"].as_f64().unwrap();
            let r = logged(&prompt_lines, tokens, ms).unwrap_or_else(|| {
                panic!("{which} prefill {tokens} tokens in {ms} ms is not in the log within 5%: {prompt_lines:?}")
            });
            report.push(format!("{which} prefill {tokens} tokens: {r:.4}× the log"));
        }
        let cold = &s["cold"];
        let (n, ms) = (
            cold["decode_tokens"].as_u64().unwrap(),
            cold["decode_ms"].as_f64().unwrap(),
        );
        let r = logged(&eval_lines, n, ms)
            .unwrap_or_else(|| panic!("decode {n} in {ms} ms not in the log: {eval_lines:?}"));
        report.push(format!("decode {n} tokens: {r:.4}× the log"));
        // The cold request really was cold: the server took nothing from its cache but
        // the shared first token at most.
        assert!(cold["cached_tokens"].as_u64().unwrap() <= 1, "{s}");
        // The warm one reused the cold prompt (all but the last few tokens, which the
        // added text tokenizes differently at the seam).
        assert!(
            s["warm"]["cached_tokens"].as_u64().unwrap() * 10
                >= cold["prompt_tokens"].as_u64().unwrap() * 9,
            "{s}"
        );
    }
    eprintln!("{}", report.join("\n"));
    // Saved where setup and doctor look first.
    let saved = t
        .home()
        .join(".local/state/cclocal/bench")
        .read_dir()
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect::<Vec<_>>();
    assert!(saved.iter().any(|n| n.starts_with("host-")), "{saved:?}");
    // Rows in the embedded bench's shape, with a fixed cost per request.
    assert_eq!(v["runs"].as_array().unwrap().len(), 2, "{v:#}");
    assert!(v["fixed_ms"].as_f64().unwrap() > 0.0, "{v:#}");
    assert!(v["recommended"]["turn"]["cold_turn_s"].as_f64().unwrap() > 0.0);
}

// `bench --host` against real vLLM runs inside python_servers_journey's vLLM journey, on
// the server that journey starts (one vLLM start per test run).
