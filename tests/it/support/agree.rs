//! Helpers for the agreement tests (issue 19: `plan`, `setup`, `doctor` and `status` give the
//! same context and KV cache type for the same model, budget, server and Claude Code
//! version): running cclocal in a test HOME with a stand-in `claude` on PATH, reading each
//! command's answer, and the models the fakes describe.
#![allow(dead_code)]

use super::fake_ollama::FakeModel;
use super::setup_home::{text, TestHome};
use serde_json::Value;
use std::process::Output;

/// `cclocal ARGS` in `t`'s HOME with `t`'s `bin` (a stand-in `claude`) first on PATH, no
/// colour, no service probes and no Claude Code variables from the environment.
pub fn run(t: &TestHome, args: &[&str]) -> Output {
    run_env(t, args, &[])
}

/// [`run`] with extra environment variables.
pub fn run_env(t: &TestHome, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = t.user_command(&t.dir.path().join("bin"), args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// `status --json` with the server at another context than setup's: its `setup_drift`
/// names the planned context `ctx` (`case` names the matrix cell in a failure).
pub fn assert_status_names_plan(t: &TestHome, ctx: u64, case: &str) {
    let (st, _) = json(t, &["status", "--json"]);
    let drift = finding(&st, "setup_drift");
    assert!(
        drift["detail"].as_str().unwrap().contains(&ctx.to_string()),
        "status at 16384: {case}: {drift}"
    );
}

/// [`run`], its stdout read as JSON, and its exit code.
pub fn json(t: &TestHome, args: &[&str]) -> (Value, i32) {
    let o = run(t, args);
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    (v, o.status.code().unwrap_or(-1))
}

pub use super::report::{finding, ids};

/// The error findings, as `id: title`.
pub fn errors(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| format!("{}: {}", f["id"], f["title"]))
        .collect()
}

/// The config.toml setup wrote, as TOML.
pub fn config(t: &TestHome) -> toml::Value {
    let p = t.home().join(".config/cclocal/config.toml");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}: {text}", p.display()))
}

/// `[table] key` of the config.toml setup wrote, as text (`None`: not there).
pub fn config_value(t: &TestHome, table: &str, key: &str) -> Option<String> {
    config(t).get(table)?.get(key).map(|v| match v {
        toml::Value::String(s) => s.clone(),
        v => v.to_string(),
    })
}

/// The context and KV cache type in the config.toml setup wrote.
pub fn configured(t: &TestHome) -> (u64, String) {
    let get = |table: &str, key: &str| {
        config_value(t, table, key).unwrap_or_else(|| panic!("no [{table}] {key} in {}", config(t)))
    };
    (
        get("model", "context").parse().unwrap(),
        get("server", "kv_cache_type"),
    )
}

/// The doctor's memory facts: the planner's context and cache type.
pub fn doctor_plan(doc: &Value) -> (u64, String) {
    let mem = &doc["facts"]["model"]["memory"];
    (
        mem["planned_context"]
            .as_u64()
            .unwrap_or_else(|| panic!("{:#}", doc["facts"]["model"])),
        mem["planned_kv_type"].as_str().unwrap().to_string(),
    )
}

/// `plan MODEL --host URL --memory M --claude-version V --json` (exit 0).
pub fn plan_json(t: &TestHome, url: &str, model: &str, memory: &str, claude: &str) -> Value {
    let (j, code) = json(
        t,
        &[
            "plan",
            model,
            "--host",
            url,
            "--memory",
            memory,
            "--claude-version",
            claude,
            "--json",
        ],
    );
    assert_eq!(code, 0, "plan {model} on {memory}: {j}");
    j
}

/// plan's recommended context and KV cache type.
pub fn plan(t: &TestHome, url: &str, model: &str, memory: &str, claude: &str) -> (u64, String) {
    recommended(&plan_json(t, url, model, memory, claude))
}

/// The recommended context and KV cache type of a `plan --json` document.
pub fn recommended(j: &Value) -> (u64, String) {
    let r = &j["recommended"];
    (
        r["n_ctx"].as_u64().unwrap_or_else(|| panic!("{j:#}")),
        r["kv_type"]
            .as_str()
            .unwrap_or_else(|| panic!("{j:#}"))
            .to_string(),
    )
}

/// `setup --yes --no-verify --only launcher --model M --claude-version V --host URL
/// [--memory M]` (exit 0).
pub fn setup(t: &TestHome, url: &str, model: &str, memory: Option<&str>, claude: &str) {
    let mut args = vec![
        "setup",
        "--yes",
        "--no-verify",
        "--only",
        "launcher",
        "--model",
        model,
        "--claude-version",
        claude,
        "--host",
        url,
    ];
    if let Some(m) = memory {
        args.extend(["--memory", m]);
    }
    let o = run(t, &args);
    assert!(o.status.success(), "{}", text(&o));
}

/// A 30B-A3B MoE coder as Ollama's `/api/show` describes it (qwen3moe: 48 blocks, 4 KV
/// heads × 128, 256K trained), 18.6 GB of Q4_K_M weights: the blog's model.
pub fn coder_30b(name: &str) -> FakeModel {
    let mut m = FakeModel::new(
        name,
        serde_json::json!({
            "general.architecture": "qwen3moe",
            "general.parameter_count": 30_532_122_624u64,
            "qwen3moe.block_count": 48,
            "qwen3moe.context_length": 262_144,
            "qwen3moe.embedding_length": 2048,
            "qwen3moe.feed_forward_length": 6144,
            "qwen3moe.attention.head_count": 32,
            "qwen3moe.attention.head_count_kv": 4,
            "qwen3moe.attention.key_length": 128,
            "qwen3moe.attention.value_length": 128,
            "qwen3moe.expert_count": 128,
            "qwen3moe.expert_used_count": 8,
            "qwen3moe.vocab_size": 151_936
        }),
        18_270_000_000,
    );
    m.parameter_size = "30.5B".into();
    m
}

/// A gemma3 27B as Ollama's `/api/show` describes it (62 blocks, 16 KV heads × 128, a
/// 1024-token sliding window on five layers in six, 128K trained), 17.4 GB of Q4_K_M
/// weights: a sliding-window model.
pub fn gemma3_27b(name: &str) -> FakeModel {
    let mut m = FakeModel::new(
        name,
        serde_json::json!({
            "general.architecture": "gemma3",
            "general.parameter_count": 27_432_406_640u64,
            "gemma3.block_count": 62,
            "gemma3.context_length": 131_072,
            "gemma3.embedding_length": 5376,
            "gemma3.feed_forward_length": 21504,
            "gemma3.attention.head_count": 32,
            "gemma3.attention.head_count_kv": 16,
            "gemma3.attention.key_length": 128,
            "gemma3.attention.value_length": 128,
            "gemma3.attention.sliding_window": 1024,
            "gemma3.vocab_size": 262_144
        }),
        17_400_000_000,
    );
    m.parameter_size = "27.4B".into();
    m
}

/// Every fix of a `doctor --json` document that names a KV cache type or a context for the
/// server (`OLLAMA_KV_CACHE_TYPE=`, `--cache-type-k`, `OLLAMA_CONTEXT_LENGTH=`,
/// `--ctx-size`, `--context-length`, `--max-model-len`) must name `kv` and `ctx` (`ctx` per
/// sequence; llama-server's `--ctx-size` with one slot): one plan behind every fix.
/// Returns the fixes that disagree, as `id: fix`.
pub fn fixes_disagreeing(doc: &Value, ctx: u64, kv: Option<&str>) -> Vec<String> {
    let words_after = |fix: &str, key: &str| -> Vec<String> {
        fix.match_indices(key)
            .map(|(i, _)| {
                fix[i + key.len()..]
                    .trim_start_matches([' ', '='])
                    .split(|c: char| c.is_whitespace() || c == '`' || c == ')' || c == ',')
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    };
    let mut bad = Vec::new();
    for f in doc["findings"].as_array().into_iter().flatten() {
        let Some(fix) = f["fix"].as_str() else {
            continue;
        };
        let mut named_kv = words_after(fix, "OLLAMA_KV_CACHE_TYPE=");
        named_kv.extend(words_after(fix, "--cache-type-k "));
        named_kv.extend(words_after(fix, "--kv-type "));
        let mut named_ctx = words_after(fix, "OLLAMA_CONTEXT_LENGTH=");
        for key in [
            "--ctx-size ",
            "--context-length ",
            "--max-model-len ",
            "--ctx ",
        ] {
            named_ctx.extend(words_after(fix, key));
        }
        let kv_ok = match kv {
            Some(k) => named_kv.iter().all(|n| n == k),
            None => named_kv.is_empty(),
        };
        // Only numbers are contexts ("vLLM reads --max-model-len only at start" names none).
        let ctx_ok = named_ctx
            .iter()
            .filter(|n| n.parse::<u64>().is_ok())
            .all(|n| *n == ctx.to_string());
        if !kv_ok || !ctx_ok {
            bad.push(format!("{}: {fix}", f["id"]));
        }
    }
    bad
}

/// The Claude Code settings `plan --json` printed (`claude.env`) that setup did not write
/// with the same value, as `K=V`: setup writes them into the settings file config.toml names
/// (its `env`) or the launcher.
pub fn claude_env_disagreeing(t: &TestHome, plan: &Value) -> Vec<String> {
    let cfg = config(t);
    let path = |key: &str| {
        cfg.get("claude")
            .and_then(|c| c.get(key))
            .and_then(|v| v.as_str())
            .map(|p| p.replace('~', &t.home().display().to_string()))
    };
    let settings: Value = path("settings_path")
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null);
    let launcher = path("launcher_path")
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let mut bad = Vec::new();
    for (k, v) in plan["claude"]["env"].as_object().into_iter().flatten() {
        let v = v
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| v.to_string());
        let in_settings = settings["env"][k].as_str() == Some(v.as_str());
        let in_launcher = launcher.contains(&format!("{k}={v}"))
            || launcher.contains(&format!("{k}='{v}'"))
            || launcher.contains(&format!("{k}=\"{v}\""));
        if !in_settings && !in_launcher {
            bad.push(format!("{k}={v}"));
        }
    }
    if !plan["claude"]["env"]
        .as_object()
        .is_some_and(|e| !e.is_empty())
    {
        bad.push(format!(
            "plan printed no Claude Code settings: {}",
            plan["claude"]
        ));
    }
    bad
}
