//! `cclocal setup --server lmstudio|vllm` (issue 12): the launcher and settings for the
//! server's model names, the start script with the planned context (the same `lms load` /
//! `vllm serve` line the doctor prints), nothing in LM Studio's folders. The REAL Claude
//! Code run through the generated launcher is in `real::backends_setup`.

use crate::support;
use crate::support::setup_home::*;

use std::process::Command;
use support::fake_lmstudio::{self as lms, Api, Model};

pub(crate) const KEY: &str = "qwen/qwen3-coder-30b";

fn read(p: &std::path::Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub(crate) fn setup(t: &TestHome, extra: &[&str]) -> std::process::Output {
    let mut a = vec!["setup", "--yes", "--claude-version", "2.1.332"];
    a.extend_from_slice(extra);
    t.run(&a)
}

#[test]
fn lmstudio_setup_writes_launcher_and_start_script_only() {
    let srv = lms::start(&[Model::gguf(KEY, 262_144).loaded_at(4096)], Api::V1);
    let t = TestHome::new();
    let lm_home = t.home().join(".lmstudio/models");
    std::fs::create_dir_all(&lm_home).unwrap();
    let before = tree(&t.home().join(".lmstudio"));
    let o = setup(
        &t,
        &[
            "--server",
            "lmstudio",
            "--host",
            &srv.base_url,
            "--model",
            KEY,
            "--ctx",
            "65536",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    let launcher = read(&t.home().join(".local/bin/claude-local"));
    assert!(
        launcher.contains(&format!("ANTHROPIC_BASE_URL={}", srv.base_url)),
        "{launcher}"
    );
    assert!(
        launcher.contains(KEY),
        "the model key, quoted as the launcher quotes: {launcher}"
    );
    let script = t.home().join(".config/cclocal/server/lmstudio-start.sh");
    let s = read(&script);
    assert!(
        s.contains(&format!("\"$LMS\" load {KEY} --context-length 65536")),
        "{s}"
    );
    assert!(
        s.contains(&format!("server start --port {}", srv.port)),
        "{s}"
    );
    assert!(
        out.contains(&format!("lms load {KEY} --context-length 65536")),
        "{out}"
    );
    assert!(out.contains("sh "), "the one command to run: {out}");
    // sh parses it.
    let n = Command::new("sh").arg("-n").arg(&script).status().unwrap();
    assert!(n.success());
    if let Some(sc) = support::tool("shellcheck") {
        let o = Command::new(sc).arg(&script).output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    assert_eq!(
        tree(&t.home().join(".lmstudio")),
        before,
        "nothing in LM Studio's folders"
    );
    let cfg = read(&t.home().join(".config/cclocal/config.toml"));
    assert!(cfg.contains("kind = \"lmstudio\""), "{cfg}");
    // The script runs `lms` as planned (a fake `lms` records its arguments).
    let bin = t.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = t.dir.path().join("lms.log");
    std::fs::write(
        bin.join("lms"),
        format!("#!/bin/sh\necho \"$*\" >> '{}'\n", log.display()),
    )
    .unwrap();
    Command::new("chmod")
        .arg("755")
        .arg(bin.join("lms"))
        .status()
        .unwrap();
    let st = Command::new("sh")
        .arg(&script)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("HOME", t.home())
        .status()
        .unwrap();
    assert!(st.success());
    let calls = read(&log);
    assert!(
        calls.contains(&format!("server start --port {}", srv.port)),
        "{calls}"
    );
    assert!(
        calls.contains(&format!("load {KEY} --context-length 65536")),
        "{calls}"
    );
    // A bare rerun keeps LM Studio (the configured kind) and changes nothing.
    let again = setup(&t, &[]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains("nothing to change"),
        "{}",
        text(&again)
    );
    // undo takes everything back.
    let u = t.run(&["undo"]);
    assert!(u.status.success(), "{}", text(&u));
    assert!(!script.exists());
}

#[test]
fn lmstudio_setup_plans_from_the_gguf_in_its_models_folder() {
    let Some(gemma) = support::gemma_path() else {
        return;
    };
    let t = TestHome::new();
    let dir = t.home().join(".lmstudio/models/google/gemma-3-270m");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(&gemma, dir.join("gemma-3-270m-Q4_K_M.gguf")).unwrap();
    let o = setup(
        &t,
        &[
            "--server",
            "lmstudio",
            "--host",
            "127.0.0.1:9",
            "--model",
            "google/gemma-3-270m",
            "--memory",
            "16GiB",
            "--dry-run",
        ],
    );
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("planned context: 32768 tokens"), "{out}");
    assert!(
        out.contains("lms load google/gemma-3-270m --context-length 32768"),
        "{out}"
    );
    // An MLX model (as the running server says) or no GGUF: asks for --ctx.
    let o = setup(
        &t,
        &[
            "--server",
            "lmstudio",
            "--host",
            "127.0.0.1:9",
            "--model",
            "nope/none",
            "--dry-run",
        ],
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("--ctx"), "{}", text(&o));
    let srv = lms::start(
        &[Model::mlx("mlx-community/m", 32_768).loaded_at(4096)],
        Api::V1,
    );
    let o = setup(
        &t,
        &[
            "--server",
            "lmstudio",
            "--host",
            &srv.base_url,
            "--model",
            "mlx-community/m",
            "--dry-run",
        ],
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("MLX model"), "{}", text(&o));
}

#[test]
fn vllm_setup_prints_the_serve_line() {
    let t = TestHome::new();
    let o = setup(
        &t,
        &[
            "--server",
            "vllm",
            "--model",
            "Qwen/Qwen3-Coder-30B-A3B-Instruct",
            "--ctx",
            "131072",
        ],
    );
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    let line = "vllm serve Qwen/Qwen3-Coder-30B-A3B-Instruct --served-model-name Qwen/Qwen3-Coder-30B-A3B-Instruct --max-model-len 131072 --enable-auto-tool-choice --tool-call-parser qwen3_coder --host 127.0.0.1 --port 8000";
    assert!(out.contains(line), "{out}");
    assert!(!out.contains("GiB"), "no byte claims for vLLM: {out}");
    let launcher = read(&t.home().join(".local/bin/claude-local"));
    assert!(
        launcher.contains("http://127.0.0.1:8000"),
        "vLLM's default port: {launcher}"
    );
    let s = read(&t.home().join(".config/cclocal/server/vllm-serve.sh"));
    assert!(s.contains(&format!("exec {line}")), "{s}");
    // Issue 21: setup starts no vLLM, so Claude Code is not announced as ready.
    assert!(
        !out.lines().any(|l| l.starts_with("start Claude Code with")),
        "{out}"
    );
    assert!(
        out.contains("once vLLM serves with those settings, start Claude Code with"),
        "{out}"
    );
    let bad = setup(
        &t,
        &["--server", "mlx-lm", "--model", "m", "--ctx", "65536"],
    );
    assert!(!bad.status.success());
    assert!(text(&bad).contains("does not configure"), "{}", text(&bad));
}

// Real Claude Code through setup's launcher against vLLM: the REAL vLLM's journey
// (real/python_servers_journey.rs) is the proof; the fake vLLM's run was retired.

/// After `setup --server lmstudio`, LM Studio serving another context is drift whose fix
/// is the `lms load` line with the configured context.
#[test]
fn drift_from_an_lm_studio_setup_names_lms_load() {
    let srv = lms::start(&[Model::gguf(KEY, 262_144).loaded_at(4096)], Api::V1);
    let t = TestHome::new();
    let o = setup(
        &t,
        &[
            "--server",
            "lmstudio",
            "--host",
            &srv.base_url,
            "--model",
            KEY,
            "--ctx",
            "65536",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let d = t.run(&["doctor", "--json", "--timeout", "5"]);
    let doc: serde_json::Value =
        serde_json::from_slice(&d.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&d)));
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "setup_drift")
        .unwrap_or_else(|| panic!("{:#}", doc["findings"]))
        .clone();
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("lms load {KEY} --context-length 65536")),
        "{f}"
    );
    // Issue 21: a loaded model keeps its context, so the fix unloads it first.
    let fix = f["fix"].as_str().unwrap();
    assert!(
        fix.find(&format!("lms unload {KEY};"))
            .is_some_and(|u| u < fix.find("lms load").unwrap()),
        "{f}"
    );
}

/// Every file setup writes for a kind is one undo may take back: `undo` after `setup
/// --server vllm-mlx` refused its own start script ("not a file setup plans") while the
/// list of server files was kept apart from the kinds; it comes from each kind's serve
/// parts now.
#[test]
fn vllm_mlx_setup_is_taken_back_by_undo() {
    let t = TestHome::new();
    let o = setup(
        &t,
        &[
            "--server",
            "vllm-mlx",
            "--model",
            "mlx-community/Qwen3-8B-4bit",
            "--ctx",
            "65536",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let script = t.home().join(".config/cclocal/server/vllm-mlx-serve.sh");
    assert!(read(&script).contains("exec vllm-mlx serve"));
    let u = t.run(&["undo"]);
    assert!(u.status.success(), "{}", text(&u));
    assert!(!text(&u).contains("not a file setup plans"), "{}", text(&u));
    assert!(!script.exists(), "{}", text(&u));
    assert!(!t.home().join(".local/bin/claude-local").exists());
}
