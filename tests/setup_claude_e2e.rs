//! End to end: `cclocal setup` writes the launcher, the launcher runs the real Claude Code
//! from npm (`-p` with `--debug-file`) against the fake Ollama server, and the effective
//! window Claude Code logs is the one cclocal planned for that version.
#[path = "support/setup_home.rs"]
mod setup_home;
mod support;

use cclocal::claude::{recommend, Version};
use setup_home::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::fake_ollama::{FakeModel, FakeOllama, Loaded, Scenario};

const MODEL: &str = "qwen3-coder:30b";
const CTX: u64 = 65_536;

fn logged_window(log: &str) -> Option<u64> {
    log.lines()
        .filter(|l| l.contains("autocompact: "))
        .find_map(|l| {
            let i = l.find("effectiveWindow=")? + "effectiveWindow=".len();
            l[i..]
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
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
        let t = TestHome::new();
        let o = t.run(&[
            "setup",
            "--yes",
            "--only",
            "launcher,onboarding",
            "--model",
            MODEL,
            "--ctx",
            &CTX.to_string(),
            "--claude-version",
            v,
            "--host",
            &fake.base_url,
        ]);
        assert!(o.status.success(), "{v}: {}", text(&o));
        let bin = t.dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(&real, bin.join("claude")).unwrap();
        let log = t.dir.path().join("debug.txt");
        let mut child = Command::new(t.home().join(".local/bin/claude-local"))
            .env_clear()
            .env("HOME", t.home())
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .current_dir(t.home())
            .args(["-p", "hi", "--debug-file"])
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(120) {
                let _ = child.kill();
                panic!("{v}: claude -p did not finish in 120 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = child.wait_with_output().unwrap();
        let output = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let text_log = std::fs::read_to_string(&log).unwrap_or_default();
        let planned = recommend(v.parse::<Version>().unwrap(), CTX, MODEL)
            .calc
            .effective_window;
        let logged = logged_window(&text_log).unwrap_or_else(|| {
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
