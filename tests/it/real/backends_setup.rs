//! The REAL Claude Code 2.1.332 run through the launcher `cclocal setup --server lmstudio`
//! writes, against the FAKE LM Studio: it logs the planned window, gets an answer, and every
//! request carries the model key (the rest of setup for LM Studio and vLLM is in
//! `backends_setup`).

use crate::support;
use crate::support::setup_home::*;

use crate::backends_setup::{setup, KEY};
use cclocal::claude::{recommend, Version};
use support::fake_lmstudio::{self as lms, Api, Model};

/// The launcher, run with a clean environment and `bin` (holding `claude`) on PATH.
fn real_claude_through_launcher(
    kind: &str,
    base_url: &str,
    model: &str,
    ctx: u64,
) -> (String, String) {
    let real = support::claude_bin("2.1.332").expect("checked by the caller");
    let t = TestHome::new();
    let c = ctx.to_string();
    let o = setup(
        &t,
        &[
            "--server",
            kind,
            "--only",
            "launcher,onboarding",
            "--host",
            base_url,
            "--model",
            model,
            "--ctx",
            &c,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let bin = t.claude_bin_dir(&real);
    let log = t.dir.path().join("debug.txt");
    let mut cmd = t.launcher(&bin);
    cmd.args(["-p", "hi", "--debug-file"]).arg(&log);
    let output = support::run_to_end(cmd);
    let text_log = std::fs::read_to_string(&log).unwrap_or_default();
    let planned = recommend(Version(2, 1, 332), ctx, model)
        .calc
        .effective_window;
    let logged = support::logged_effective_window(&text_log).unwrap_or_else(|| {
        panic!(
            "{kind}: no autocompact line; output: {output}\nlog tail: {}",
            &text_log[text_log.len().saturating_sub(3000)..]
        )
    });
    assert_eq!(
        logged, planned,
        "{kind}: Claude Code's effectiveWindow vs cclocal's plan"
    );
    eprintln!("{kind}: logged effectiveWindow={logged}, planned {planned}");
    (output, text_log)
}

#[test]
fn real_claude_code_through_the_launcher_against_fake_lm_studio() {
    if support::claude_bin("2.1.332").is_none() {
        return;
    }
    const CTX: u64 = 65_536;
    // Two models loaded: LM Studio refuses any name but theirs, so an answer proves every
    // request carried the key.
    let srv = lms::start(
        &[
            Model::gguf(KEY, 262_144).loaded_at(CTX),
            Model::gguf("google/gemma-3-27b", 131_072).loaded_at(CTX),
        ],
        Api::V1,
    );
    let (output, _) = real_claude_through_launcher("lmstudio", &srv.base_url, KEY, CTX);
    assert!(
        output.contains("Hello from the fake LM Studio."),
        "{output}"
    );
    let models = srv.message_models();
    assert!(
        !models.is_empty() && models.iter().all(|m| m == KEY),
        "{models:?}"
    );
    let req = srv
        .requests()
        .into_iter()
        .find(|r| r.route() == "/v1/messages" && r.json().is_some_and(|j| j["model"] == KEY))
        .unwrap();
    assert_eq!(req.header("authorization"), Some("Bearer lmstudio"));
}
