//! Issue 19: the planner decides everything, so `plan`, `setup`, `doctor` and `status` give
//! the same context and KV cache type for the same model, budget, server and Claude Code
//! version, and the doctor's fix is the plan's line. Issue 21: an Ollama fix is one command
//! (context, cache type and flash attention together), one rounding rule, and `plan`
//! prints no line `setup` refuses.

use crate::support;

use serde_json::Value;
use support::agree::{
    assert_status_names_plan, claude_env_disagreeing, coder_30b, config_value, configured,
    doctor_plan, errors, finding, fixes_disagreeing, gemma3_27b, ids, json, plan, plan_json,
    recommended, run, run_env, setup,
};
use support::fake_lmstudio::{self as lms, Api, Model};
use support::fake_ollama::{FakeModel, FakeOllama, Loaded, Scenario};
use support::fake_vllm;
use support::gguf_fixtures as gguf;
use support::setup_home::{text, TestHome};

const BLOG: &str = "qwen3-coder:30b";
const BLOG_MEMORY: &str = "23.5GiB";

/// The blog's case (issue 19): a 30B model on Ollama with 23.5 GiB. plan and setup pick
/// 104192 tokens with q8_0; with the server serving exactly that, doctor is clean and status
/// agrees; with the server at 16384, doctor's fix is the plan's line, cache type included,
/// in one command.
#[test]
fn blog_case_plan_setup_doctor_status_agree() {
    let fake = FakeOllama::start(Scenario::new("0.20.0").model(coder_30b(BLOG)));
    let t = TestHome::new();
    support::fake_claude_version(&t.dir.path().join("bin"), "2.1.332");
    let planned = plan(&t, &fake.base_url, BLOG, BLOG_MEMORY, "2.1.332");
    assert_eq!(planned, (104_192, "q8_0".to_string()));
    setup(&t, &fake.base_url, BLOG, Some(BLOG_MEMORY), "2.1.332");
    assert_eq!(configured(&t), planned, "setup writes what plan printed");

    // The server serves exactly the plan.
    fake.update(|s| s.loaded = vec![Loaded::new(BLOG, 104_192)]);
    let (doc, code) = json(&t, &["doctor", "--json"]);
    assert_eq!(doctor_plan(&doc), planned, "doctor plans what plan planned");
    assert!(errors(&doc).is_empty(), "{:?}", errors(&doc));
    assert_eq!(code, 0, "{:?}", ids(&doc));
    let mem = &doc["facts"]["model"]["memory"];
    assert_eq!(mem["kv_type"], "q8_0", "the cache setup configured: {mem}");
    assert_eq!(mem["fits"], true, "{mem}");
    let (st, code) = json(&t, &["status", "--json"]);
    assert_eq!(code, 0, "{st:#}");
    assert!(
        !ids(&st).iter().any(|i| i == "setup_drift"),
        "{:?}",
        ids(&st)
    );

    // The server at 16384: the fix is the plan's line, in one command.
    fake.update(|s| s.loaded = vec![Loaded::new(BLOG, 16_384)]);
    let (doc, code) = json(&t, &["doctor", "--json"]);
    assert_eq!(code, 1);
    let small = finding(&doc, "server_context_small");
    let fix = small["fix"].as_str().unwrap();
    assert!(
        fix.contains(
            "OLLAMA_CONTEXT_LENGTH=104192 OLLAMA_FLASH_ATTENTION=1 OLLAMA_KV_CACHE_TYPE=q8_0 ollama serve"
        ),
        "{fix}"
    );
    assert_eq!(fix.matches("ollama serve").count(), 1, "one command: {fix}");
    let (st, _) = json(&t, &["status", "--json"]);
    let drift = finding(&st, "setup_drift");
    assert!(
        drift["detail"].as_str().unwrap().contains("104192"),
        "{drift}"
    );
}

/// Issue 19.3: a setup for a new model plans again what the planner chose for the old one
/// (the automatic f16 was taken as the user's choice), and keeps what the user chose.
#[test]
fn a_new_model_is_planned_again_and_user_choices_stay() {
    let small = FakeModel::llama("small:8b");
    let fake = FakeOllama::start(Scenario::new("0.30.0").model(small).model(coder_30b(BLOG)));
    let t = TestHome::new();
    support::fake_claude_version(&t.dir.path().join("bin"), "2.1.332");
    // The small model fits 128K in f16: the planner picks f16.
    setup(&t, &fake.base_url, "small:8b", Some(BLOG_MEMORY), "2.1.332");
    let (_, kv) = configured(&t);
    assert_eq!(kv, "f16");
    // A setup for the 30B model, budget remembered: the plan's q8_0, not the old f16.
    let o = run(
        &t,
        &[
            "setup",
            "--yes",
            "--no-verify",
            "--model",
            BLOG,
            "--claude-version",
            "2.1.332",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let planned = plan(&t, &fake.base_url, BLOG, BLOG_MEMORY, "2.1.332");
    assert_eq!(configured(&t), planned, "{}", text(&o));
    assert_eq!(planned.1, "q8_0");
    // The user's own choice stays for the next model.
    setup(&t, &fake.base_url, BLOG, None, "2.1.332");
    let o = run(
        &t,
        &[
            "setup",
            "--yes",
            "--no-verify",
            "--kv-type",
            "q4_0",
            "--model",
            "small:8b",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(configured(&t).1, "q4_0");
    let o = run(&t, &["setup", "--yes", "--no-verify", "--model", BLOG]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(configured(&t).1, "q4_0", "the user chose q4_0");
}

/// Claude Code versions of the matrix: the last with the old window computation (2.1.121),
/// one between, and the newest known (docs/claude-code.md).
pub(crate) const CLAUDE: [&str; 3] = ["2.1.121", "2.1.197", "2.1.332"];

/// The agreement matrix on the FAKE Ollama: models (dense, sliding-window, MoE, hybrid MoE)
/// × budgets (two or more per model, where the cache type chosen differs) × Claude Code
/// versions. plan, setup, doctor and status give the same context and cache type; a server
/// serving the plan is clean; a server at 16384 gets the plan's line as its fix, and status
/// names the planned context.
#[test]
fn plan_setup_doctor_status_agree_over_a_matrix() {
    let next = FakeModel::qwen3_coder_next();
    let next_name = next.name.clone();
    let fake = FakeOllama::start(
        Scenario::new("0.30.0")
            .model(FakeModel::llama("small:8b"))
            .model(gemma3_27b("gemma3:27b"))
            .model(coder_30b(BLOG))
            .model(next),
    );
    let mut kv_seen: std::collections::BTreeMap<&str, std::collections::BTreeSet<String>> =
        Default::default();
    let mut cells = 0;
    for (model, memory) in [
        ("small:8b", "12GiB"),
        ("small:8b", "24GiB"),
        ("gemma3:27b", "20GiB"),
        ("gemma3:27b", "32GiB"),
        (BLOG, "21GiB"),
        (BLOG, BLOG_MEMORY),
        (BLOG, "48GiB"),
        (next_name.as_str(), "49GiB"),
        (next_name.as_str(), "52GiB"),
        (next_name.as_str(), "64GiB"),
    ] {
        for claude in CLAUDE {
            let case = format!("{model} on {memory} for Claude Code {claude}");
            let t = TestHome::new();
            support::fake_claude_version(&t.dir.path().join("bin"), claude);
            let pj = plan_json(&t, &fake.base_url, model, memory, claude);
            let planned = recommended(&pj);
            kv_seen.entry(model).or_default().insert(planned.1.clone());
            eprintln!("ollama: {case}: {planned:?}");
            setup(&t, &fake.base_url, model, Some(memory), claude);
            assert_eq!(configured(&t), planned, "setup: {case}");
            let bad = claude_env_disagreeing(&t, &pj);
            assert!(bad.is_empty(), "Claude Code settings: {case}: {bad:?}");
            // The server serves the plan: doctor plans the same and is clean; status agrees.
            fake.update(|s| s.loaded = vec![Loaded::new(model, planned.0)]);
            let (doc, _) = json(&t, &["doctor", "--json"]);
            let bad = fixes_disagreeing(&doc, planned.0, Some(&planned.1));
            assert!(bad.is_empty(), "doctor's fixes: {case}: {bad:#?}");
            assert_eq!(doctor_plan(&doc), planned, "doctor: {case}");
            assert_eq!(
                doc["facts"]["model"]["memory"]["kv_type"], planned.1,
                "{case}"
            );
            assert!(errors(&doc).is_empty(), "{case}: {:?}", errors(&doc));
            let (st, code) = json(&t, &["status", "--json"]);
            assert_eq!(code, 0, "status: {case}: {:?}", ids(&st));
            assert!(
                !ids(&st).iter().any(|i| i == "setup_drift"),
                "status: {case}: {:?}",
                ids(&st)
            );
            // The server at 16384: the fix is the plan's line, status names the plan.
            fake.update(|s| s.loaded = vec![Loaded::new(model, 16_384)]);
            let (doc, code) = json(&t, &["doctor", "--json"]);
            let bad = fixes_disagreeing(&doc, planned.0, Some(&planned.1));
            assert!(bad.is_empty(), "doctor's fixes: {case}: {bad:#?}");
            assert_eq!(code, 1, "doctor at 16384: {case}: {:?}", ids(&doc));
            let fix = finding(&doc, "server_context_small")["fix"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            for want in [
                format!("OLLAMA_CONTEXT_LENGTH={}", planned.0),
                format!("OLLAMA_KV_CACHE_TYPE={}", planned.1),
            ] {
                assert!(fix.contains(&want), "doctor at 16384: {case}: {fix}");
            }
            assert_status_names_plan(&t, planned.0, &case);
            cells += 1;
        }
    }
    eprintln!("ollama: {cells} cells");
    for (model, kv) in &kv_seen {
        assert!(kv.len() > 1, "{model}: the budgets choose {kv:?}");
    }
}

/// Issue 21: `--flash-attn off` without `--kv-type` plans f16 (a quantized V cache needs
/// flash attention), in plan and in setup.
#[test]
fn flash_attention_off_plans_f16() {
    let fake = FakeOllama::start(Scenario::new("0.30.0").model(coder_30b(BLOG)));
    let t = TestHome::new();
    let (j, code) = json(
        &t,
        &[
            "plan",
            BLOG,
            "--host",
            &fake.base_url,
            "--memory",
            BLOG_MEMORY,
            "--flash-attn",
            "off",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{j}");
    assert_eq!(j["recommended"]["kv_type"], "f16", "{j}");
    let ctx = j["recommended"]["n_ctx"].as_u64().unwrap();
    let o = run(
        &t,
        &[
            "setup",
            "--yes",
            "--no-verify",
            "--only",
            "launcher",
            "--model",
            BLOG,
            "--host",
            &fake.base_url,
            "--memory",
            BLOG_MEMORY,
            "--flash-attn",
            "off",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(configured(&t), (ctx, "f16".to_string()));
}

/// Issue 21: one rounding rule. `--ctx 30000` is what llama.cpp serves, 30208, in plan's
/// line and in what setup writes.
#[test]
fn plan_and_setup_round_a_context_alike() {
    let fake = FakeOllama::start(Scenario::new("0.30.0").model(coder_30b(BLOG)));
    let t = TestHome::new();
    let (j, _) = json(
        &t,
        &[
            "plan",
            BLOG,
            "--host",
            &fake.base_url,
            "--memory",
            BLOG_MEMORY,
            "--ctx",
            "30000",
            "--json",
        ],
    );
    assert_eq!(j["recommended"]["n_ctx"], 30_208, "{j}");
    assert_eq!(
        j["server"]["ollama_env"]["OLLAMA_CONTEXT_LENGTH"], "30208",
        "{j}"
    );
    let o = run(
        &t,
        &[
            "setup",
            "--yes",
            "--no-verify",
            "--only",
            "launcher",
            "--model",
            BLOG,
            "--host",
            &fake.base_url,
            "--memory",
            BLOG_MEMORY,
            "--ctx",
            "30000",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(configured(&t).0, 30_208);
}

/// Issue 21: plan prints no Ollama line with a cache type Ollama does not take (setup
/// refuses it), and no settings above "No setting can work".
#[test]
fn plan_prints_no_line_setup_refuses() {
    let fake = FakeOllama::start(Scenario::new("0.30.0").model(coder_30b(BLOG)));
    let t = TestHome::new();
    let o = run(
        &t,
        &[
            "plan",
            BLOG,
            "--host",
            &fake.base_url,
            "--memory",
            BLOG_MEMORY,
            "--kv-type",
            "iq4_nl",
        ],
    );
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(!out.contains("OLLAMA_KV_CACHE_TYPE=iq4_nl"), "{out}");
    assert!(out.contains("--cache-type-k iq4_nl"), "{out}");
    let o = run(
        &t,
        &[
            "plan",
            BLOG,
            "--host",
            &fake.base_url,
            "--memory",
            BLOG_MEMORY,
            "--ctx",
            "16384",
        ],
    );
    let out = text(&o);
    assert!(out.contains("No setting can work"), "{out}");
    assert!(!out.contains("OLLAMA_CONTEXT_LENGTH="), "{out}");
    assert!(!out.contains("--ctx-size"), "{out}");
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn run_with(t: &TestHome, args: &[&str], env: &[(&str, &str)]) -> (Value, std::process::Output) {
    let o = run_env(t, args, env);
    let v = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    (v, o)
}

/// Issue 19.2: one resolution step. With config.toml naming server A, `OLLAMA_HOST` naming
/// server B and Claude Code 2.1.197 installed, doctor, plan, setup and status all choose A
/// and 2.1.197; with `--host B` every one chooses B.
#[test]
fn every_command_resolves_the_same_server_and_version() {
    let a = FakeOllama::start(
        Scenario::new("0.30.0")
            .model(coder_30b(BLOG))
            .loaded(Loaded::new(BLOG, 104_192)),
    );
    let b = FakeOllama::start(
        Scenario::new("0.30.0")
            .model(coder_30b(BLOG))
            .loaded(Loaded::new(BLOG, 104_192)),
    );
    let t = TestHome::new();
    support::fake_claude_version(&t.dir.path().join("bin"), "2.1.197");
    setup(&t, &a.base_url, BLOG, Some(BLOG_MEMORY), "2.1.197");
    let env = [("OLLAMA_HOST", b.base_url.as_str())];
    for (host, want) in [(None, &a.base_url), (Some(&b.base_url), &b.base_url)] {
        let with = |cmd: &[&str]| -> Vec<String> {
            let mut v: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
            if let Some(h) = host {
                v.extend(["--host".to_string(), h.to_string()]);
            }
            v
        };
        let case = format!("--host {host:?}");
        let d = with(&["doctor", "--json"]);
        let (doc, _) = run_with(&t, &args(&d), &env);
        assert_eq!(
            doc["facts"]["server"]["url"],
            want.as_str(),
            "doctor {case}"
        );
        assert_eq!(
            doc["facts"]["claude"]["version"], "2.1.197",
            "doctor {case}"
        );
        let p = with(&["plan", BLOG, "--memory", BLOG_MEMORY, "--json"]);
        let (pj, o) = run_with(&t, &args(&p), &env);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(pj["server_url"], want.as_str(), "plan {case}");
        assert_eq!(pj["claude"]["version"], "2.1.197", "plan {case}");
        let s = with(&["status", "--json"]);
        let (sj, _) = run_with(&t, &args(&s), &env);
        let compared = sj["compared"].to_string();
        assert!(
            compared.contains(&format!("the server answers at {want}")),
            "status {case}: {compared}"
        );
        let u = with(&[
            "setup",
            "--yes",
            "--no-verify",
            "--only",
            "launcher",
            "--model",
            BLOG,
        ]);
        let (_, o) = run_with(&t, &args(&u), &env);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(
            config_value(&t, "server", "url").as_deref(),
            Some(want.as_str()),
            "setup {case}"
        );
        let cfg = std::fs::read_to_string(t.home().join(".config/cclocal/config.toml")).unwrap();
        let claude = &cfg[cfg.find("[claude]").unwrap()..];
        assert!(
            claude.contains("version = \"2.1.197\""),
            "setup {case}: {cfg}"
        );
    }
}

/// Where a synthetic or real GGUF for LM Studio's models folder is written once per test.
struct Ggufs {
    dir: tempfile::TempDir,
}

impl Ggufs {
    fn new() -> Ggufs {
        Ggufs {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn write(&self, name: &str, spec: &gguf::Spec) -> std::path::PathBuf {
        let p = self.dir.path().join(name);
        spec.write(&p).unwrap();
        p
    }
}

/// Plants `gguf` as LM Studio's model `key` in `t`'s models folder.
fn plant_lmstudio_model(t: &TestHome, key: &str, gguf: &std::path::Path) {
    let dir = t.home().join(".lmstudio/models").join(key);
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(gguf, dir.join(gguf.file_name().unwrap())).unwrap();
}

/// A Llama-3.1-8B-like dense GGUF (32 layers, 8 KV heads × 128, 128K trained), Q8_0.
fn dense_8b() -> gguf::Spec {
    gguf::decoder(
        &gguf::Dims {
            arch: "llama",
            n_layer: 32,
            n_embd: 4096,
            n_head: 32,
            n_head_kv: 8,
            head_dim: 128,
            n_ff: 14336,
            n_vocab: 1024,
            n_ctx_train: 131_072,
        },
        8,
    )
}

/// The matrix on the FAKE LM Studio (LM Studio cannot run here): models planned from the
/// GGUF in its models folder (a dense 8B, Qwen3-Coder-Next's hybrid MoE, the real
/// gemma3-270m with its sliding window) × budgets × Claude Code versions. LM Studio
/// takes no cache type, so every plan is f16; plan, setup, doctor and status give the same
/// context, and a server loaded at 16384 gets the plan's `lms load` line.
#[test]
fn lm_studio_agrees_over_a_matrix() {
    let g = Ggufs::new();
    let mut models: Vec<(&str, std::path::PathBuf, u64, &[&str])> = vec![
        (
            "meta/llama-8b",
            g.write("llama-8b-Q8_0.gguf", &dense_8b()),
            131_072,
            &["12GiB", "16GiB"],
        ),
        (
            "qwen/qwen3-coder-next",
            g.write("qwen3next.gguf", &gguf::qwen3next()),
            262_144,
            &["3GiB", "8GiB"],
        ),
    ];
    // The sliding-window model: the real gemma3-270m, else the synthetic gemma3.
    let gemma = support::gemma_path().unwrap_or_else(|| g.write("gemma3.gguf", &gguf::gemma3()));
    models.push(("google/gemma-3-270m", gemma, 32_768, &["2GiB"]));
    let srv = lms::start(&[], Api::V1);
    let mut cells = 0;
    for (key, path, trained, budgets) in &models {
        for memory in budgets.iter() {
            for claude in CLAUDE {
                let case = format!("LM Studio: {key} on {memory} for Claude Code {claude}");
                let t = TestHome::new();
                support::fake_claude_version(&t.dir.path().join("bin"), claude);
                plant_lmstudio_model(&t, key, path);
                let load = |ctx: u64| {
                    srv.replace(lms::fake(
                        &[Model::gguf(key, *trained).loaded_at(ctx)],
                        Api::V1,
                    ))
                };
                load(4096);
                let pj = plan_json(&t, &srv.base_url, key, memory, claude);
                let planned = recommended(&pj);
                eprintln!("{case}: {planned:?}");
                assert_eq!(planned.1, "f16", "{case}");
                let o = run(
                    &t,
                    &[
                        "setup",
                        "--yes",
                        "--no-verify",
                        "--server",
                        "lmstudio",
                        "--host",
                        &srv.base_url,
                        "--model",
                        key,
                        "--memory",
                        memory,
                        "--claude-version",
                        claude,
                    ],
                );
                assert!(o.status.success(), "{case}: {}", text(&o));
                assert_eq!(configured(&t), planned, "setup: {case}");
                let bad = claude_env_disagreeing(&t, &pj);
                assert!(bad.is_empty(), "Claude Code settings: {case}: {bad:?}");
                load(planned.0);
                let (doc, _) = json(&t, &["doctor", "--json"]);
                let bad = fixes_disagreeing(&doc, planned.0, None);
                assert!(bad.is_empty(), "doctor's fixes: {case}: {bad:#?}");
                assert_eq!(
                    doc["facts"]["model"]["planned_context"], planned.0,
                    "doctor: {case}"
                );
                assert!(errors(&doc).is_empty(), "{case}: {:?}", errors(&doc));
                let (st, code) = json(&t, &["status", "--json"]);
                assert_eq!(code, 0, "status: {case}: {:?}", ids(&st));
                assert!(
                    !ids(&st).iter().any(|i| i == "setup_drift"),
                    "status: {case}: {:?}",
                    ids(&st)
                );
                load(16_384);
                let (doc, code) = json(&t, &["doctor", "--json"]);
                let bad = fixes_disagreeing(&doc, planned.0, None);
                assert!(bad.is_empty(), "doctor's fixes: {case}: {bad:#?}");
                assert_eq!(code, 1, "doctor at 16384: {case}: {:?}", ids(&doc));
                let fix = finding(&doc, "server_context_small")["fix"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                assert!(
                    fix.contains(&format!("lms load {key} --context-length {}", planned.0)),
                    "doctor at 16384: {case}: {fix}"
                );
                assert_status_names_plan(&t, planned.0, &case);
                cells += 1;
            }
        }
    }
    eprintln!("LM Studio: {cells} cells");
}

/// `setup --server KIND` for `model` on `url` with `memory` and Claude Code `claude`.
fn setup_backend(t: &TestHome, kind: &str, url: &str, model: &str, memory: &str, claude: &str) {
    let o = run(
        t,
        &[
            "setup",
            "--yes",
            "--no-verify",
            "--server",
            kind,
            "--host",
            url,
            "--model",
            model,
            "--memory",
            memory,
            "--claude-version",
            claude,
        ],
    );
    assert!(
        o.status.success(),
        "setup --server {kind} {model}: {}",
        text(&o)
    );
}

/// A model folder as `vllm serve PATH` and `vllm-mlx serve PATH` take it: a gemma3 whose
/// `config.json` limits it to 32768 tokens (`max_position_embeddings`).
fn gemma_folder() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("config.json"),
        r#"{"model_type": "gemma3_text", "max_position_embeddings": 32768}"#,
    )
    .unwrap();
    d
}

/// plan for a server that chooses its own cache type (vLLM, vllm-mlx), then `setup --server
/// KIND` with the same inputs: setup writes plan's Claude Code settings and context and no
/// cache type. Returns plan's context.
fn plan_and_setup_agree(
    t: &TestHome,
    kind: &str,
    url: &str,
    model: &str,
    memory: &str,
    claude: &str,
    case: &str,
) -> u64 {
    let pj = plan_json(t, url, model, memory, claude);
    let context = pj["context"]
        .as_u64()
        .unwrap_or_else(|| panic!("{case}: {pj:#}"));
    eprintln!("{case}: {context} {}", pj["server_command"]);
    setup_backend(t, kind, url, model, memory, claude);
    let bad = claude_env_disagreeing(t, &pj);
    assert!(bad.is_empty(), "Claude Code settings: {case}: {bad:?}");
    assert_eq!(
        config_value(t, "model", "context"),
        Some(context.to_string()),
        "setup: {case}"
    );
    assert_eq!(
        config_value(t, "server", "kv_cache_type"),
        None,
        "setup: {case}"
    );
    context
}

/// With the server serving the plan's `context`: the doctor has no error and no fix naming
/// another context, and status exits 0. Returns status's JSON.
fn doctor_and_status_clean(t: &TestHome, context: u64, case: &str) -> Value {
    let (doc, _) = json(t, &["doctor", "--json"]);
    let bad = fixes_disagreeing(&doc, context, None);
    assert!(bad.is_empty(), "doctor's fixes: {case}: {bad:#?}");
    assert!(errors(&doc).is_empty(), "{case}: {:?}", errors(&doc));
    let (st, code) = json(t, &["status", "--json"]);
    assert_eq!(code, 0, "status: {case}: {:?}", ids(&st));
    st
}

/// The matrix on the FAKE vLLM (the real one costs 70 s and 7 GB to start; the real one's
/// journey is python_servers_journey.rs): vLLM sizes its own KV cache, so every command
/// gives the same context whatever the budget (the kind's 64K, within what the server
/// allows) and no cache type; a server at 16384 gets the plan's `vllm serve` line.
#[test]
fn vllm_agrees_over_a_matrix() {
    // A hub id (its limit unknown: the kind's 64K), and a local folder whose config.json
    // limits it to 32768 tokens, served under another name.
    let folder = gemma_folder();
    let gemma_path = folder.path().display().to_string();
    let models = [
        (fake_vllm::ROOT, fake_vllm::ROOT),
        ("google/gemma-3-27b-it", gemma_path.as_str()),
        (
            "meta-llama/Llama-3.1-8B-Instruct",
            "meta-llama/Llama-3.1-8B-Instruct",
        ),
    ];
    let srv = fake_vllm::start(&fake_vllm::Config::new("0.32.0", &[models[0].0], 65_536));
    let mut cells = 0;
    let mut contexts = std::collections::BTreeSet::new();
    for (model, root) in models {
        for memory in ["12GiB", "48GiB"] {
            for claude in CLAUDE {
                let case = format!("vLLM: {model} on {memory} for Claude Code {claude}");
                let t = TestHome::new();
                support::fake_claude_version(&t.dir.path().join("bin"), claude);
                let serve = |ctx: u64| {
                    srv.replace(fake_vllm::fake(
                        &fake_vllm::Config::new("0.32.0", &[model], ctx).root(root),
                    ))
                };
                serve(4096);
                let context =
                    plan_and_setup_agree(&t, "vllm", &srv.base_url, model, memory, claude, &case);
                contexts.insert(context);
                serve(context);
                let st = doctor_and_status_clean(&t, context, &case);
                assert!(
                    !ids(&st).iter().any(|i| i == "setup_drift"),
                    "status: {case}: {:?}",
                    ids(&st)
                );
                serve(16_384);
                let (doc, code) = json(&t, &["doctor", "--json"]);
                let bad = fixes_disagreeing(&doc, context, None);
                assert!(bad.is_empty(), "doctor's fixes: {case}: {bad:#?}");
                assert_eq!(code, 1, "doctor at 16384: {case}: {:?}", ids(&doc));
                let fix = finding(&doc, "server_context_small")["fix"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                // The fix runs the start script setup wrote, which serves the plan.
                let script = t.home().join(".config/cclocal/server/vllm-serve.sh");
                let line = std::fs::read_to_string(&script).unwrap();
                assert!(
                    fix.contains("sh ~/.config/cclocal/server/vllm-serve.sh")
                        && line.contains(&format!("--max-model-len {context} ")),
                    "doctor at 16384: {case}: {fix}\n{line}"
                );
                assert_status_names_plan(&t, context, &case);
                cells += 1;
            }
        }
    }
    eprintln!("vLLM: {cells} cells");
    assert_eq!(contexts.into_iter().collect::<Vec<_>>(), [32_768, 65_536]);
}

/// The matrix on the FAKE vllm-mlx (the real one's journey is python_servers_journey.rs):
/// it keeps the whole prompt up to the model's own limit, so every command gives the same
/// context whatever the budget and no cache type. (Its served context is read from its
/// process's command line, which a fake has not: the doctor's side is the real journey's.)
#[test]
fn vllm_mlx_agrees_over_a_matrix() {
    let mut cells = 0;
    // A hub id (its limit unknown: the kind's 64K), and a local folder whose config.json
    // limits it to 32768 tokens.
    let folder = gemma_folder();
    let gemma_path = folder.path().display().to_string();
    for model in [
        "mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit",
        gemma_path.as_str(),
    ] {
        let srv = support::fake_mlx::vllm_mlx(model);
        for memory in ["12GiB", "48GiB"] {
            for claude in CLAUDE {
                let case = format!("vllm-mlx: {model} on {memory} for Claude Code {claude}");
                let t = TestHome::new();
                support::fake_claude_version(&t.dir.path().join("bin"), claude);
                let context = plan_and_setup_agree(
                    &t,
                    "vllm-mlx",
                    &srv.base_url,
                    model,
                    memory,
                    claude,
                    &case,
                );
                doctor_and_status_clean(&t, context, &case);
                cells += 1;
            }
        }
    }
    eprintln!("vllm-mlx: {cells} cells");
}
