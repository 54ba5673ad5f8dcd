//! One planner, one truth (issue 9): `plan`, `setup` and `logs` agree on the context, the
//! cache type, the server settings and the Claude Code settings, and refuse what cannot work.

use crate::support;
use crate::support::setup_home::{text, TestHome};

use serde_json::Value;
use support::fake_ollama::{FakeModel, FakeOllama, Scenario};

fn plan_json(args: &[&str], home: &TestHome) -> Value {
    let o = home.command(args).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn config_value(t: &TestHome, key: &str) -> String {
    let cfg = std::fs::read_to_string(t.home().join(".config/cclocal/config.toml")).unwrap();
    cfg.lines()
        .find_map(|l| l.strip_prefix(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("{key} in {cfg}"))
        .trim_matches('"')
        .to_string()
}

/// `plan` describes a model the server has (not the local store), and prints exactly the
/// Ollama settings `setup` writes for the same model and budget.
#[test]
fn plan_prints_what_setup_writes() {
    let fake = FakeOllama::start(Scenario::new("0.30.0").model(FakeModel::llama("llama3.1:8b")));
    let t = TestHome::new();
    let j = plan_json(
        &[
            "plan",
            "llama3.1:8b",
            "--host",
            &fake.base_url,
            "--memory",
            "16GiB",
            "--claude-version",
            "2.1.332",
            "--json",
        ],
        &t,
    );
    assert!(
        j["model"]["described_from"]
            .as_str()
            .unwrap()
            .ends_with("/api/show"),
        "{j}"
    );
    let ollama = j["server"]["ollama_env"].as_object().unwrap().clone();
    let root = t.root().display().to_string();
    let o = t.run(&[
        "setup",
        "--yes",
        "--model",
        "llama3.1:8b",
        "--memory",
        "16GiB",
        "--claude-version",
        "2.1.332",
        "--host",
        &fake.base_url,
        "--system-root",
        &root,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let dropin = std::fs::read_to_string(
        t.root()
            .join("etc/systemd/system/ollama.service.d/cclocal.conf"),
    )
    .unwrap();
    let written: Vec<(String, String)> = dropin
        .lines()
        .filter_map(|l| l.strip_prefix("Environment=\""))
        .filter_map(|l| l.trim_end_matches('"').split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let planned: Vec<(String, String)> = ollama
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let mut w = written.clone();
    w.sort();
    assert_eq!(w, planned, "{dropin}");
    assert_eq!(
        config_value(&t, "context"),
        j["recommended"]["n_ctx"].to_string()
    );
    assert_eq!(
        config_value(&t, "kv_cache_type"),
        j["recommended"]["kv_type"].as_str().unwrap()
    );
    // The Claude Code settings setup writes are the ones plan shows.
    let settings: Value = serde_json::from_slice(
        &std::fs::read(t.home().join(".config/cclocal/claude-settings.json")).unwrap(),
    )
    .unwrap();
    for (k, v) in j["claude"]["env"].as_object().unwrap() {
        assert_eq!(&settings["env"][k], v, "{k}");
    }
    // After setup, plan asks the configured server without --host.
    let again = plan_json(
        &[
            "plan",
            "llama3.1:8b",
            "--memory",
            "16GiB",
            "--claude-version",
            "2.1.332",
            "--json",
        ],
        &t,
    );
    assert_eq!(again["recommended"], j["recommended"]);
    assert_eq!(again["server"], j["server"]);
}

/// `--mac-ram 64GB` is one budget (48 GiB: 3/4 of 64 GiB) in plan and in setup.
#[test]
fn mac_ram_means_the_same_everywhere() {
    let fake = FakeOllama::start(Scenario::new("0.30.0").model(FakeModel::llama("llama3.1:8b")));
    let t = TestHome::new();
    let j = plan_json(
        &[
            "plan",
            "llama3.1:8b",
            "--host",
            &fake.base_url,
            "--mac-ram",
            "64GB",
            "--json",
        ],
        &t,
    );
    assert_eq!(j["budget"]["bytes"].as_u64().unwrap(), 48 << 30);
    let root = t.root().display().to_string();
    let o = t.run(&[
        "setup",
        "--yes",
        "--dry-run",
        "--model",
        "llama3.1:8b",
        "--mac-ram",
        "64GB",
        "--claude-version",
        "2.1.332",
        "--host",
        &fake.base_url,
        "--system-root",
        &root,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("of 48.00 GiB budget"), "{}", text(&o));
}

/// Issue 9.5: setup refuses a model the server does not have, lists what it has, and
/// writes nothing; `--force` writes anyway.
#[test]
fn setup_refuses_a_model_the_server_lacks() {
    let fake = FakeOllama::start(Scenario::new("0.30.0").model(FakeModel::llama("llama3.1:8b")));
    let t = TestHome::new();
    let mut args = t.setup_args(&["--yes"]);
    let host = args.iter().position(|a| a == "--host").unwrap() + 1;
    args[host] = fake.base_url.clone();
    let model = args.iter().position(|a| a == "--model").unwrap() + 1;
    args[model] = "nosuch:model".into();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = t.run(&refs);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("does not have model \"nosuch:model\"")
            && text(&o).contains("llama3.1:8b"),
        "{}",
        text(&o)
    );
    assert!(!t.home().join(".config/cclocal/config.toml").exists());
    assert!(!t.home().join(".local/bin/claude-local").exists());
    let mut forced = refs.clone();
    forced.push("--force");
    let o = t.run(&forced);
    assert!(o.status.success(), "{}", text(&o));
    assert!(t.home().join(".config/cclocal/config.toml").exists());
}

/// Issue 9.7: setup refuses a context no Claude Code setting can work with, and a context
/// the model does not fit at, saying what would work; nothing is written.
#[test]
fn setup_refuses_what_cannot_work() {
    let t = TestHome::new();
    let mut args = t.setup_args(&["--yes"]);
    let ctx = args.iter().position(|a| a == "--ctx").unwrap() + 1;
    args[ctx] = "4096".into();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = t.run(&refs);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("no Claude Code setting can work") && text(&o).contains("28672"),
        "{}",
        text(&o)
    );
    assert!(!t.home().join(".config/cclocal/config.toml").exists());

    let fake = FakeOllama::start(Scenario::new("0.30.0").model(FakeModel::llama("llama3.1:8b")));
    let root = t.root().display().to_string();
    let o = t.run(&[
        "setup",
        "--yes",
        "--model",
        "llama3.1:8b",
        "--ctx",
        "131072",
        "--kv-cache-type",
        "f16",
        "--memory",
        "12GiB",
        "--claude-version",
        "2.1.332",
        "--host",
        &fake.base_url,
        "--system-root",
        &root,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("does not fit") && text(&o).contains("the largest that fits is --ctx"),
        "{}",
        text(&o)
    );
    assert!(!t.home().join(".config/cclocal/config.toml").exists());
}

/// Issue 9.6: a 2.1.121 session started by cclocal's launcher (no attribution header, so
/// no version in the log) gets a fix 2.1.121 obeys: no CLAUDE_CODE_MAX_CONTEXT_TOKENS. The
/// log compacts at 31757 (a percentage): that fits 65536 with its 20000-token reserve
/// (issue 23: the logged threshold decides), not 49152.
#[test]
fn logs_fix_for_a_cclocal_2_1_121_session_is_one_it_obeys() {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/claude-debug-logs/v2.1.121-p-mode-autocompact-old-format.txt"
    ))
    .unwrap();
    let log: String = src
        .lines()
        .filter(|l| !l.contains("attribution header"))
        .map(|l| format!("{l}\n"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("session.txt");
    std::fs::write(&p, log).unwrap();
    let o = support::cclocal()
        .args([
            "logs",
            p.to_str().unwrap(),
            "--server-ctx",
            "49152",
            "--json",
        ])
        .output()
        .unwrap();
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "context_mismatch")
        .unwrap()
        .clone();
    let fix = f["fix"].as_str().unwrap();
    assert!(!fix.contains("CLAUDE_CODE_MAX_CONTEXT_TOKENS"), "{fix}");
    assert!(fix.contains("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE="), "{fix}");
    // What 2.1.121 does with that environment: compacts before 65536 tokens.
    let env: cclocal::claude::EnvMap = fix
        .strip_prefix("export ")
        .unwrap()
        .split("   (")
        .next()
        .unwrap()
        .split_whitespace()
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    let calc = cclocal::claude::compute_window(
        cclocal::claude::Version(2, 1, 121),
        "qwen3-coder:30b",
        &env,
    );
    assert!(calc.proactive);
    assert!(
        calc.autocompact_threshold + calc.output_reserve as i64 + 13_000 <= 49_152,
        "{calc:?}"
    );
    assert!(calc.autocompact_threshold > 12_000, "{calc:?}");
}

/// A model neither in the local store nor on the server: plan says both, and what the
/// server has.
#[test]
fn plan_names_what_the_server_has_when_the_model_is_nowhere() {
    let fake = FakeOllama::start(Scenario::new("0.30.0").model(FakeModel::llama("llama3.1:8b")));
    let t = TestHome::new();
    let o = t.run(&["plan", "nosuch:model", "--host", &fake.base_url]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("does not have it either") && text(&o).contains("llama3.1:8b"),
        "{}",
        text(&o)
    );
}
