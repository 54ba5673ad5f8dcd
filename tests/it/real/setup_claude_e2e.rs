//! End to end: `cclocal setup` writes the launcher, the launcher runs the real Claude Code
//! from npm (`-p` with `--debug-file`) against the fake Ollama server, and the effective
//! window Claude Code logs is the one cclocal planned for that version.
use crate::support;
use crate::support::setup_home;

use cclocal::claude::{recommend, Version};
use setup_home::*;
use support::fake_ollama::{FakeModel, FakeOllama, Loaded, Scenario};

const MODEL: &str = "qwen3-coder:30b";
const CTX: u64 = 65_536;

/// The generated launcher, run with a clean environment and `bin` (holding `claude`) on PATH.
/// `cclocal setup` of the launcher for `ctx` tokens and Claude Code `version` against
/// `base_url`, in a new HOME; returns it and a `bin` folder holding the real `claude`.
fn set_up(
    real: &std::path::Path,
    ctx: u64,
    version: &str,
    base_url: &str,
) -> (TestHome, std::path::PathBuf) {
    let t = TestHome::new();
    let ctx = ctx.to_string();
    let o = t.run(&[
        "setup",
        "--yes",
        "--only",
        "launcher,onboarding",
        "--model",
        MODEL,
        "--ctx",
        &ctx,
        "--claude-version",
        version,
        "--host",
        base_url,
    ]);
    assert!(o.status.success(), "{version}: {}", text(&o));
    let bin = t.claude_bin_dir(real);
    (t, bin)
}

#[test]
fn launcher_gives_claude_code_the_planned_window() {
    for v in ["2.1.332", "2.1.197"] {
        let Some(real) = support::claude_bin(v) else {
            return;
        };
        let fake = FakeOllama::start(
            Scenario::new("0.30.0")
                .model(FakeModel::llama(MODEL))
                .loaded(Loaded::new(MODEL, CTX)),
        );
        let (t, bin) = set_up(&real, CTX, v, &fake.base_url);
        let log = t.dir.path().join("debug.txt");
        let mut cmd = t.launcher(&bin);
        cmd.args(["-p", "hi", "--debug-file"]).arg(&log);
        let output = support::run_to_end(cmd);
        let text_log = std::fs::read_to_string(&log).unwrap_or_default();
        let planned = recommend(v.parse::<Version>().unwrap(), CTX, MODEL)
            .calc
            .effective_window;
        let logged = support::logged_effective_window(&text_log).unwrap_or_else(|| {
            panic!(
                "{v}: no autocompact line; output: {output}\nlog tail: {}",
                &text_log[text_log.len().saturating_sub(3000)..]
            )
        });
        assert_eq!(
            logged, planned,
            "{v}: Claude Code's effectiveWindow vs cclocal's plan"
        );
        // The request went to the fake server with the configured model.
        eprintln!("{v}: logged effectiveWindow={logged}, planned {planned}");
        let reqs = fake.requests();
        let msg = reqs
            .iter()
            .find(|r| r.route() == "/v1/messages")
            .unwrap_or_else(|| panic!("{v}: no /v1/messages; {output}"));
        assert_eq!(msg.json().unwrap()["model"], MODEL, "{v}");
        assert_eq!(msg.header("authorization"), Some("Bearer ollama"), "{v}");
        assert!(
            msg.header("x-api-key").map_or(true, |k| k.is_empty()),
            "{v}: no API key sent"
        );
    }
}

/// A long exchange through the generated launcher: every reply is long, so the
/// conversation grows by about 2,000 tokens a turn. Claude Code must compact (a
/// `source=compact` request) before any request exceeds the served context, because the
/// launcher told it the real window.
#[test]
fn long_exchange_compacts_before_the_served_context_is_exceeded() {
    const SMALL_CTX: u64 = 32_768;
    let Some(real) = support::claude_bin("2.1.332") else {
        return;
    };
    let mut scenario = Scenario::new("0.30.0")
        .model(FakeModel::llama(MODEL))
        .loaded(Loaded::new(MODEL, SMALL_CTX));
    scenario.reply_text = "The quick brown fox jumps over the lazy dog. ".repeat(180);
    let fake = FakeOllama::start(scenario);
    let (t, bin) = set_up(&real, SMALL_CTX, "2.1.332", &fake.base_url);
    let log = t.dir.path().join("debug.txt");
    let plan = recommend(Version(2, 1, 332), SMALL_CTX, MODEL);
    let mut compacted_at = None;
    for turn in 1..=10 {
        let mut args = vec!["-p".to_string(), format!("turn {turn}: continue the story")];
        if turn > 1 {
            args.insert(0, "-c".into());
        }
        let mut cmd = t.launcher(&bin);
        cmd.args(&args).arg("--debug-file").arg(&log);
        support::run_to_end(cmd);
        let text_log = std::fs::read_to_string(&log).unwrap_or_default();
        if text_log.contains("source=compact") {
            compacted_at = Some(turn);
            break;
        }
    }
    let sizes: Vec<u64> = fake
        .requests()
        .iter()
        .filter(|r| r.route() == "/v1/messages")
        .map(|r| r.body.len() as u64 / 4)
        .collect();
    let turn = compacted_at
        .unwrap_or_else(|| panic!("no compaction in 10 turns; request sizes (tokens): {sizes:?}"));
    let largest = sizes.iter().copied().max().unwrap_or(0);
    eprintln!(
        "compacted at turn {turn}; request sizes (tokens): {sizes:?}; threshold {}",
        plan.calc.autocompact_threshold
    );
    assert!(
        largest <= SMALL_CTX,
        "a request of {largest} tokens exceeded the {SMALL_CTX}-token context: {sizes:?}"
    );
    assert!(
        largest as i64 >= plan.calc.autocompact_threshold - 4_000,
        "compaction came long before the planned threshold {}: {sizes:?}",
        plan.calc.autocompact_threshold
    );
}
