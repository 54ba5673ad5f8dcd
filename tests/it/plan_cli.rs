//! `cclocal plan` end to end: the JSON contract, the fit, Ollama names, bad input.

use crate::support;

use serde_json::Value;
use std::path::Path;
use support::gguf_fixtures::{self as fx, Tensor};

/// Qwen3-Coder-Next-sized: the real attention/SSM dims plus ~45 GiB of (sparse) weights.
fn qwen3_coder_next(dir: &Path) -> std::path::PathBuf {
    let mut s = fx::qwen3next();
    // 80 expert tensors of 2048 x 1024 x 512 q4_K (0.5625 GiB each): 45 GiB, the size of
    // the real Q4_K_M file (48.3 GB).
    for il in 0..48 {
        s.tensors.push(Tensor {
            name: format!("blk.{il}.ffn_up_exps.weight"),
            dims: vec![2048, 1024, 512],
            ty: 12,
        });
        if il < 32 {
            s.tensors.push(Tensor {
                name: format!("blk.{il}.ffn_gate_exps.weight"),
                dims: vec![2048, 1024, 512],
                ty: 12,
            });
        }
    }
    let p = dir.join("qwen3-coder-next.gguf");
    s.write(&p).unwrap();
    p
}

fn run_json(args: &[&str]) -> Value {
    let out = support::cclocal()
        .args(args)
        .env_remove("OLLAMA_MODELS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn blog_machine_64gb_mac() {
    let dir = tempfile::tempdir().unwrap();
    let m = qwen3_coder_next(dir.path());
    let j = run_json(&[
        "plan",
        m.to_str().unwrap(),
        "--mac-ram",
        "64GB",
        "--claude-version",
        "2.1.332",
        "--json",
    ]);
    assert_eq!(j["model"]["architecture"], "qwen3next");
    assert_eq!(j["model"]["kv_layers"], 12);
    assert_eq!(j["model"]["recurrent_layers"], 36);
    assert_eq!(j["model"]["context_length"], 262144);
    assert_eq!(j["budget"]["source"], "metal");
    assert_eq!(j["budget"]["estimated"], true);
    assert_eq!(j["budget"]["bytes"].as_u64().unwrap(), 48 << 30);
    let rows = j["rows"].as_array().unwrap();
    let row = |ctx: u64, ty: &str| {
        rows.iter()
            .find(|r| r["n_ctx"] == ctx && r["kv_type"] == ty)
            .unwrap()
            .clone()
    };
    assert_eq!(row(32768, "q8_0")["kv_bytes"].as_u64().unwrap(), 408 << 20);
    assert_eq!(
        row(32768, "q8_0")["recurrent_bytes"].as_u64().unwrap(),
        79_036_416
    );
    assert_eq!(row(262144, "f16")["kv_bytes"].as_u64().unwrap(), 6144 << 20);
    for r in rows {
        let sum: u64 = [
            "weights_bytes",
            "kv_bytes",
            "recurrent_bytes",
            "compute_bytes",
            "output_bytes",
        ]
        .iter()
        .map(|k| r[k].as_u64().unwrap())
        .sum();
        assert_eq!(r["total_bytes"].as_u64().unwrap(), sum);
        let fits = sum + (1 << 30) <= 48 << 30;
        assert_eq!(r["fits"], fits);
    }
    let rec = &j["recommended"];
    let n = rec["n_ctx"].as_u64().unwrap();
    assert_eq!(n % 256, 0);
    assert!((32768..262144).contains(&n), "{n}");
    // The fitted value is the largest: 256 more tokens do not fit.
    let ty = rec["kv_type"].as_str().unwrap().to_string();
    let next = (n + 256).to_string();
    let j2 = run_json(&[
        "plan",
        m.to_str().unwrap(),
        "--mac-ram",
        "64GB",
        "--ctx",
        &next,
        "--kv-type",
        &ty,
        "--json",
    ]);
    assert_eq!(j2["rows"][0]["fits"], false);
    let here = n.to_string();
    let j3 = run_json(&[
        "plan",
        m.to_str().unwrap(),
        "--mac-ram",
        "64GB",
        "--ctx",
        &here,
        "--kv-type",
        &ty,
        "--json",
    ]);
    assert_eq!(j3["rows"][0]["fits"], true);
    // Claude Code settings for that window.
    let c = &j["claude"];
    assert_eq!(c["version"], "2.1.332");
    assert_eq!(c["env"]["CLAUDE_CODE_MAX_CONTEXT_TOKENS"], here);
    let eff = c["effective_window"].as_u64().unwrap();
    let reserve: u64 = c["env"]["CLAUDE_CODE_MAX_OUTPUT_TOKENS"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(eff, n - reserve);
    assert_eq!(
        c["autocompact_threshold"].as_i64().unwrap(),
        eff as i64 - 13000
    );
}

#[test]
fn older_claude_code_gets_the_window_source() {
    let dir = tempfile::tempdir().unwrap();
    let m = qwen3_coder_next(dir.path());
    let j = run_json(&[
        "plan",
        m.to_str().unwrap(),
        "--memory",
        "64GiB",
        "--claude-version",
        "2.1.197",
        "--json",
    ]);
    let env = &j["claude"]["env"];
    assert!(env["CLAUDE_CODE_AUTO_COMPACT_WINDOW"].is_string());
    assert!(env["CLAUDE_CODE_MAX_CONTEXT_TOKENS"].is_string());
    assert_eq!(j["claude"]["proactive"], true);
    assert_eq!(j["budget"]["source"], "override");
}

#[test]
fn human_table_marks_the_recommended_row() {
    let dir = tempfile::tempdir().unwrap();
    let m = qwen3_coder_next(dir.path());
    let out = support::cclocal()
        .args([
            "plan",
            m.to_str().unwrap(),
            "--mac-ram",
            "64GB",
            "--claude-version",
            "2.1.332",
        ])
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert!(s.contains("← recommended"), "{s}");
    assert!(s.contains("408.00 MiB"), "{s}");
    assert!(s.contains("export CLAUDE_CODE_MAX_CONTEXT_TOKENS="), "{s}");
}

#[test]
fn nothing_fits_a_tiny_budget() {
    let dir = tempfile::tempdir().unwrap();
    let m = qwen3_coder_next(dir.path());
    let j = run_json(&["plan", m.to_str().unwrap(), "--memory", "8GiB", "--json"]);
    assert!(j["recommended"].is_null());
    assert!(j["fitted"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["n_ctx"].is_null()));
}

#[test]
fn ollama_names_resolve_through_the_store() {
    let store = tempfile::tempdir().unwrap();
    let blob_hex = "ab".repeat(32);
    let blobs = store.path().join("blobs");
    std::fs::create_dir_all(&blobs).unwrap();
    fx::llama()
        .write(&blobs.join(format!("sha256-{blob_hex}")))
        .unwrap();
    let mdir = store
        .path()
        .join("manifests/registry.ollama.ai/library/Qwen3-Coder");
    std::fs::create_dir_all(&mdir).unwrap();
    let manifest = format!(
        r#"{{"schemaVersion":2,"layers":[{{"mediaType":"application/vnd.ollama.image.license","digest":"sha256:{}","size":1}},{{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:{blob_hex}","size":1}}]}}"#,
        "cd".repeat(32)
    );
    std::fs::write(mdir.join("30b"), manifest).unwrap();
    let out = support::cclocal()
        .args([
            "plan",
            "qwen3-coder:30B",
            "--json",
            "--memory",
            "64GiB",
            "--ctx",
            "8K",
        ])
        .env("OLLAMA_MODELS", store.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["model"]["architecture"], "llama");
    assert_eq!(j["model"]["source"]["kind"], "ollama_store");
    assert_eq!(
        j["rows"][0]["kv_bytes"].as_u64().unwrap(),
        32 * 1024 * 2 * 2 * 8192
    );
    // Unknown name: says so and lists what is installed.
    let out = support::cclocal()
        .args(["plan", "llama3:8b"])
        .env("OLLAMA_MODELS", store.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not installed") && err.contains("Qwen3-Coder:30b"),
        "{err}"
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], i32, &str)] = &[
        (&["plan", "/nonexistent/model.gguf"], 1, "could not open"),
        (
            &["plan", "x;rm -rf /:latest"],
            2,
            "neither a .gguf file nor a valid Ollama model name",
        ),
        (
            &["plan", "m.gguf", "--ctx", "abc"],
            2,
            "not a context length",
        ),
        (&["plan", "m.gguf", "--memory", "lots"], 2, "invalid size"),
        (
            &["plan", "m.gguf", "--claude-version", "two"],
            2,
            "invalid Claude Code version",
        ),
    ];
    for (args, code, needle) in cases {
        let out = support::cclocal()
            .args(*args)
            .current_dir(dir.path())
            .env("OLLAMA_MODELS", dir.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // A file that is not a GGUF.
    let p = dir.path().join("notes.gguf");
    std::fs::write(&p, "hello").unwrap();
    let out = support::cclocal()
        .args(["plan", p.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("invalid GGUF file") && err.contains("help:"),
        "{err}"
    );
    // An unknown cache type.
    let m = dir.path().join("llama.gguf");
    fx::llama().write(&m).unwrap();
    let out = support::cclocal()
        .args(["plan", m.to_str().unwrap(), "--kv-type", "q3_K"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("use one of"));
}

fn run_text(args: &[&str]) -> String {
    let out = support::cclocal()
        .args(args)
        .env_remove("OLLAMA_MODELS")
        .env("OLLAMA_HOST", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Issue 9.4: `--ctx` names the context to serve, so the server lines and the Claude Code
/// block are for it, not for the largest context that fits.
#[test]
fn ctx_is_the_context_to_serve() {
    let dir = tempfile::tempdir().unwrap();
    let m = qwen3_coder_next(dir.path());
    let m = m.to_str().unwrap();
    let base = [
        "plan",
        m,
        "--mac-ram",
        "64GB",
        "--ctx",
        "65536",
        "--claude-version",
        "2.1.332",
    ];
    let s = run_text(&base);
    assert!(s.contains("OLLAMA_CONTEXT_LENGTH=65536 "), "{s}");
    assert!(s.contains("--ctx-size 65536 "), "{s}");
    assert!(
        s.contains("export CLAUDE_CODE_MAX_CONTEXT_TOKENS=65536\n"),
        "{s}"
    );
    for l in s
        .lines()
        .filter(|l| l.contains("Ollama:") || l.contains("llama-server:"))
    {
        assert!(!l.contains("262144"), "{s}");
    }
    let mut a = base.to_vec();
    a.push("--json");
    let j = run_json(&a);
    assert_eq!(j["recommended"]["n_ctx"], 65536);
    // The most precise type that fits the named context (f16 needs 47.25 GiB).
    assert_eq!(j["recommended"]["kv_type"], "q8_0");
    assert_eq!(j["claude"]["served_context"], 65536);
    assert_eq!(j["server"]["ollama_env"]["OLLAMA_CONTEXT_LENGTH"], "65536");
}

/// Issue 9.4: a named context that does not fit is said plainly, with what does.
#[test]
fn ctx_that_does_not_fit_says_so_and_what_does() {
    let dir = tempfile::tempdir().unwrap();
    let m = qwen3_coder_next(dir.path());
    let m = m.to_str().unwrap();
    let s = run_text(&[
        "plan",
        m,
        "--memory",
        "47GiB",
        "--ctx",
        "262144",
        "--kv-type",
        "f16",
        "--claude-version",
        "2.1.332",
    ]);
    assert!(s.contains("n_ctx 262144 does not fit"), "{s}");
    assert!(s.contains("What fits: n_ctx "), "{s}");
    assert!(!s.contains("OLLAMA_CONTEXT_LENGTH"), "{s}");
    assert!(!s.contains("export CLAUDE_CODE"), "{s}");
}

/// Issue 9 "one planner": a context beyond the trained one is warned about, and a model
/// trained for 32K is not told to use "at least 64K".
#[test]
fn trained_context_bounds_the_advice() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("llama32k.gguf");
    let mut spec = fx::llama();
    spec.set("llama.context_length", fx::Val::U32(32768));
    spec.write(&p).unwrap();
    let p = p.to_str().unwrap();
    let s = run_text(&[
        "plan",
        p,
        "--memory",
        "64GiB",
        "--ctx",
        "65536",
        "--claude-version",
        "2.1.332",
    ]);
    assert!(s.contains("warning: 65536 tokens is more than"), "{s}");
    assert!(s.contains("trained for (32768)"), "{s}");
    let s = run_text(&[
        "plan",
        p,
        "--memory",
        "64GiB",
        "--claude-version",
        "2.1.332",
    ]);
    assert!(s.contains("Recommended: n_ctx 32768"), "{s}");
    assert!(!s.contains("64K") && !s.contains("65536 or more"), "{s}");
}

/// Issue 9.7: a context no Claude Code setting can work with gets no settings, but the
/// reason and what would work.
#[test]
fn too_small_a_context_gets_no_settings() {
    let dir = tempfile::tempdir().unwrap();
    let m = qwen3_coder_next(dir.path());
    let m = m.to_str().unwrap();
    let s = run_text(&[
        "plan",
        m,
        "--memory",
        "64GiB",
        "--ctx",
        "4096",
        "--claude-version",
        "2.1.332",
    ]);
    assert!(!s.contains("CLAUDE_CODE_MAX_CONTEXT_TOKENS=4096"), "{s}");
    assert!(s.to_lowercase().contains("no setting can work"), "{s}");
    assert!(s.contains("at least 28672"), "{s}");
    // A budget where only a small context fits: say so, and what would help.
    let j = run_json(&[
        "plan",
        m,
        "--memory",
        "46GiB",
        "--claude-version",
        "2.1.332",
        "--json",
    ]);
    let largest = j["recommended"]["n_ctx"].as_u64().unwrap_or(0);
    assert!(largest < 28672, "{j}");
    assert!(
        j["problem"]["would"]
            .as_str()
            .unwrap()
            .contains("smaller model"),
        "{j}"
    );
}

/// Issue 23: Claude Code 2.1.42 reads no window variable ([RUN]); `plan` gives it the
/// percentage (and the output and blocking limits it reads), nothing it ignores, in the
/// JSON and in the human output.
#[test]
fn a_build_that_reads_only_the_percentage_gets_only_what_it_reads() {
    let dir = tempfile::tempdir().unwrap();
    let m = qwen3_coder_next(dir.path());
    let args = [
        "plan",
        m.to_str().unwrap(),
        "--mac-ram",
        "64GB",
        "--ctx",
        "32768",
        "--claude-version",
        "2.1.42",
    ];
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let j = run_json(&json_args);
    let c = &j["claude"];
    let env = c["env"].as_object().unwrap();
    let mut keys: Vec<&str> = env.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "CLAUDE_AUTOCOMPACT_PCT_OVERRIDE",
            "CLAUDE_CODE_BLOCKING_LIMIT_OVERRIDE",
            "CLAUDE_CODE_MAX_OUTPUT_TOKENS"
        ]
    );
    assert_eq!(env["CLAUDE_AUTOCOMPACT_PCT_OVERRIDE"], "8");
    assert_eq!(c["autocompact_threshold"], 15_672);
    assert_eq!(c["effective_window"], 195_904);
    let out = support::cclocal().args(args).output().unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{s}");
    assert!(
        s.contains("export CLAUDE_AUTOCOMPACT_PCT_OVERRIDE=8\n"),
        "{s}"
    );
    assert!(!s.contains("CLAUDE_CODE_AUTO_COMPACT_WINDOW"), "{s}");
    assert!(!s.contains("CLAUDE_CODE_MAX_CONTEXT_TOKENS"), "{s}");
}
