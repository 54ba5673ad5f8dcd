//! The setup wizard in a real pseudo-terminal: keys in, screen out. A user who accepts the
//! wizard's answers gets exactly the files that the equivalent flags write.

use crate::support;
use crate::support::fake_ollama::{FakeModel, FakeOllama, Scenario};
use crate::support::setup_home::{contents, text, TestHome};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn driver() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cli_wizard/drive.py")
}

/// Runs `cclocal args` in a pseudo-terminal under `h`, answering `steps`.
fn in_pty(h: &TestHome, python: &Path, steps: &[(&str, &str)], args: &[&str]) -> (i32, String) {
    let steps: Vec<[&str; 2]> = steps.iter().map(|(e, s)| [*e, *s]).collect();
    let mut c = Command::new(python);
    c.arg(driver())
        .arg(serde_json::to_string(&steps).unwrap())
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_cclocal"))
        .args(args)
        .env("HOME", h.home())
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("SHELL", "/bin/bash")
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    for v in [
        "XDG_CONFIG_HOME",
        "XDG_STATE_HOME",
        "CLAUDE_CONFIG_DIR",
        "OLLAMA_HOST",
        "OLLAMA_MODELS",
    ] {
        c.env_remove(v);
    }
    let o = c.output().unwrap();
    (o.status.code().unwrap_or(-1), text(&o))
}

/// The files under `h` that setup wrote, with the home and root paths written as `$HOME`
/// and `$ROOT` (the run history, whose names are timestamps, left out).
fn written(h: &TestHome) -> BTreeMap<String, (String, u32)> {
    let home = h.home().display().to_string();
    let root = h.root().display().to_string();
    let mut out = BTreeMap::new();
    for (base, dir) in [("$HOME", h.home()), ("$ROOT", h.root())] {
        for (k, (bytes, mode)) in contents(&dir) {
            if k.starts_with(".local/state") {
                continue;
            }
            let t = String::from_utf8_lossy(&bytes)
                .replace(&home, "$HOME")
                .replace(&root, "$ROOT");
            out.insert(format!("{base}/{k}"), (t, mode));
        }
    }
    out
}

/// The context the run chose, from its summary line `…, context N tokens, …`.
fn chosen_context(screen: &str) -> String {
    let at = screen
        .find(", context ")
        .unwrap_or_else(|| panic!("no summary line: {screen}"));
    screen[at + ", context ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn wizard_answers_write_what_the_flags_write() {
    let Some(python) = support::tool("python3") else {
        return;
    };
    let fake = FakeOllama::start(
        Scenario::new("0.30.0")
            .model(FakeModel::llama("qwen3-coder:30b"))
            .model(FakeModel::llama("llama3.2:3b")),
    );
    let wiz = TestHome::new();
    let root = wiz.root().display().to_string();
    let (code, screen) = in_pty(
        &wiz,
        &python,
        &[
            ("Ollama server URL", &format!("{}\r", fake.base_url)),
            // The installed models are listed; the second is picked with the arrow key.
            ("llama3.2:3b", "\x1b[B\r"),
            ("KV cache type", "\r"),
            ("Context", "\r"),
            ("Keep the model loaded", "\r"),
            ("What to write", "\r"),
            ("Write these files?", "y"),
        ],
        &[
            "setup",
            "--claude-version",
            "2.1.332",
            "--system-root",
            &root,
        ],
    );
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("qwen3-coder:30b"),
        "the model list: {screen}"
    );
    assert!(screen.contains("wrote "), "{screen}");
    let ctx = chosen_context(&screen);
    assert!(screen.contains("llama3.2:3b on "), "{screen}");
    // The wizard's answers are the user's choices (config.toml `[chosen]`), as the flags
    // that name them.
    let cfg = std::fs::read_to_string(wiz.home().join(".config/cclocal/config.toml")).unwrap();
    let kv = cfg
        .lines()
        .find_map(|l| l.strip_prefix("kv_cache_type = "))
        .unwrap()
        .trim_matches('"')
        .to_string();

    let flags = TestHome::new();
    let root = flags.root().display().to_string();
    let o = flags.run(&[
        "setup",
        "--yes",
        "--host",
        &fake.base_url,
        "--model",
        "llama3.2:3b",
        "--ctx",
        &ctx,
        "--kv-type",
        &kv,
        "--keep-alive",
        "30m",
        "--claude-version",
        "2.1.332",
        "--system-root",
        &root,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let (a, b) = (written(&wiz), written(&flags));
    assert!(a.keys().any(|k| k.ends_with("claude-local")), "{a:?}");
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (k, v) in &a {
        assert_eq!(Some(v), b.get(k), "{k} differs");
    }
}

/// Where the planner cannot read the model, the wizard asks for the context and takes
/// `48K` as --ctx does (and asks again after a value it cannot read).
#[test]
fn wizard_context_takes_k_suffix() {
    let Some(python) = support::tool("python3") else {
        return;
    };
    let fake = FakeOllama::start(Scenario::new("0.30.0").model(FakeModel::new(
        "mystery:7b",
        serde_json::json!({}),
        4 << 30,
    )));
    let h = TestHome::new();
    let root = h.root().display().to_string();
    let (code, screen) = in_pty(
        &h,
        &python,
        &[
            ("Ollama server URL", &format!("{}\r", fake.base_url)),
            ("Model", "\r"),
            ("KV cache type", "\r"),
            ("Context length in tokens", "lots\r"),
            ("is not a context length", "48K\r"),
            ("Keep the model loaded", "\r"),
            ("What to write", "\r"),
            ("Write these files?", "y"),
        ],
        &[
            "setup",
            "--claude-version",
            "2.1.332",
            "--system-root",
            &root,
        ],
    );
    assert_eq!(code, 0, "{screen}");
    let cfg = std::fs::read_to_string(h.home().join(".config/cclocal/config.toml")).unwrap();
    assert!(cfg.contains("context = 49152"), "{cfg}\n{screen}");
}

#[test]
fn wizard_answer_no_writes_nothing() {
    let Some(python) = support::tool("python3") else {
        return;
    };
    let fake =
        FakeOllama::start(Scenario::new("0.30.0").model(FakeModel::llama("qwen3-coder:30b")));
    let h = TestHome::new();
    let root = h.root().display().to_string();
    let before = contents(&h.home());
    let (code, screen) = in_pty(
        &h,
        &python,
        &[
            ("Ollama server URL", &format!("{}\r", fake.base_url)),
            ("Model", "\r"),
            ("KV cache type", "\r"),
            ("Context", "\r"),
            ("Keep the model loaded", "\r"),
            ("What to write", "\r"),
            ("Write these files?", "n"),
        ],
        &[
            "setup",
            "--claude-version",
            "2.1.332",
            "--system-root",
            &root,
        ],
    );
    assert_eq!(code, 1, "{screen}");
    assert!(screen.contains("nothing was written"), "{screen}");
    assert_eq!(contents(&h.home()), before);
}
