//! `cclocal doctor` against the FAKE llama-server (captured b11434 bodies), issue 11's
//! Doctor section: detection, per-slot context, slots, Jinja, build, router mode, loading,
//! the local command line from /proc; and a server on 8080 that is not llama-server.

use crate::support;

use serde_json::Value;
use std::process::Output;
use support::fake_http::{Answer, FakeHttp, Routes};
use support::fake_llama_server::{self as fake, Config, Layout};
use support::report::{finding, ids};

struct Run {
    doc: Value,
    text: String,
    code: Option<i32>,
}

/// The doctor with a naive Claude Code 2.1.332 environment pointing at `url`.
fn doctor(url: &str, env: &[(&str, &str)], args: &[&str]) -> Run {
    let home = tempfile::tempdir().unwrap();
    let bin = home.path().join("bin");
    support::fake_claude_version(&bin, "2.1.332");
    std::fs::write(
        home.path().join(".claude.json"),
        r#"{"hasCompletedOnboarding": true}"#,
    )
    .unwrap();
    let run = |extra: &[&str]| -> Output {
        let mut c = support::naive_doctor(home.path(), &bin, url);
        c.args(["--timeout", "5"]).args(args).args(extra);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let out = run(&["--json"]);
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let text = String::from_utf8_lossy(&run(&["-v"]).stdout).into_owned();
    Run {
        doc,
        text,
        code: out.status.code(),
    }
}

fn has(doc: &Value, id: &str) -> bool {
    ids(doc).iter().any(|i| i == id)
}

#[test]
fn naive_claude_code_against_one_slot_gets_context_mismatch() {
    let srv = fake::start(Config::new(Layout::OneSlot));
    let r = doctor(
        &srv.base_url,
        &[("ANTHROPIC_MODEL", "anything-at-all")],
        &[],
    );
    let s = &r.doc["facts"]["server"];
    assert_eq!(s["kind"], "llama-server", "{s:#}");
    assert_eq!(s["version"], "b0-unknown");
    assert_eq!(s["llama"]["total_slots"], 1);
    assert_eq!(s["llama"]["slot_context"], 8192);
    assert_eq!(s["llama"]["model_path"], "/models/gemma-3-270m-q4_k_m.gguf");
    assert_eq!(s["llama"]["trained_context"], 32768);
    let m = &r.doc["facts"]["model"];
    assert_eq!(
        (
            m["served_context"].as_u64(),
            m["served_context_source"].as_str()
        ),
        (Some(8192), Some("live"))
    );
    let f = finding(&r.doc, "context_mismatch");
    assert!(
        f["detail"]
            .as_str()
            .unwrap()
            .contains("llama-server refuses"),
        "{f}"
    );
    assert!(
        !has(&r.doc, "model_missing"),
        "one model loaded answers any name: {:?}",
        ids(&r.doc)
    );
    assert!(!has(&r.doc, "server_too_old"));
    assert_eq!(r.code, Some(1));
    assert!(
        r.text.contains("/props has build_info"),
        "-v shows how it was decided:\n{}",
        r.text
    );
    // Detection never asked /api/tags (an Ollama shim on some llama-server builds).
    // (The fake answers it 404 like b11434; the point is the kind came from /props.)
    assert_eq!(s["kind_source"], "detected");
}

#[test]
fn slots_dividing_the_context_are_named_with_a_llama_server_fix() {
    let srv = fake::start(Config::new(Layout::FourSlots));
    let port = srv.port.to_string();
    let Some(_p) = fake::fake_process(
        &[
            "-m",
            "/models/g.gguf",
            "-np",
            "4",
            "-c",
            "16384",
            "--port",
            &port,
        ],
        &[],
    ) else {
        return;
    };
    let r = doctor(&srv.base_url, &[("ANTHROPIC_MODEL", "g")], &[]);
    let cmd = &r.doc["facts"]["server"]["llama_command"];
    assert_eq!(
        (cmd["parallel"].as_i64(), cmd["ctx_size"].as_u64()),
        (Some(4), Some(16384)),
        "{cmd:#}"
    );
    assert_eq!(r.doc["facts"]["model"]["served_context"], 4096);
    let f = finding(&r.doc, "llama_slots_split");
    assert_eq!(f["severity"], "warning");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains("--parallel 1 --ctx-size 16384"),
        "{f}"
    );
}

#[test]
fn auto_slots_share_one_cache() {
    let srv = fake::start(Config::new(Layout::Defaults));
    let r = doctor(&srv.base_url, &[], &[]);
    assert_eq!(r.doc["facts"]["model"]["served_context"], 32768);
    let f = finding(&r.doc, "llama_slots_split");
    assert_eq!(f["severity"], "info", "{f}");
}

#[test]
fn no_jinja_from_the_command_line_or_the_environment_is_an_error() {
    let srv = fake::start(Config::new(Layout::OneSlot));
    let port = srv.port.to_string();
    let Some(_p) = fake::fake_process(
        &["-c", "8192", "-np", "1", "--no-jinja", "--port", &port],
        &[],
    ) else {
        return;
    };
    let r = doctor(&srv.base_url, &[], &[]);
    let f = finding(&r.doc, "llama_no_jinja");
    assert_eq!(f["severity"], "error");
    assert!(f["fix"].as_str().unwrap().contains("--jinja"));
    drop(_p);
    let Some(_p) = fake::fake_process(&["--port", &port], &[("LLAMA_ARG_JINJA", "false")]) else {
        return;
    };
    let r = doctor(&srv.base_url, &[], &[]);
    assert!(finding(&r.doc, "llama_no_jinja")["detail"]
        .as_str()
        .unwrap()
        .contains("LLAMA_ARG_JINJA"));
}

#[test]
fn template_without_tools_is_a_warning_when_jinja_is_on() {
    // The captured gemma3-270m GGUF has no chat template: /props says supports_tools false.
    let srv = fake::start(Config::new(Layout::OneSlot));
    let r = doctor(&srv.base_url, &[], &[]);
    assert_eq!(
        finding(&r.doc, "llama_template_no_tools")["severity"],
        "warning"
    );
}

#[test]
fn an_old_build_needs_the_attribution_header_off() {
    let srv = fake::start(Config::new(Layout::OneSlot).build("b8000-abc1234"));
    let r = doctor(&srv.base_url, &[], &[]);
    assert_eq!(r.doc["facts"]["server"]["llama"]["build"], 8000);
    let f = finding(&r.doc, "llama_build_old");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains("CLAUDE_CODE_ATTRIBUTION_HEADER=0"),
        "{f}"
    );
    let r = doctor(
        &srv.base_url,
        &[("CLAUDE_CODE_ATTRIBUTION_HEADER", "0")],
        &[],
    );
    assert!(!has(&r.doc, "llama_build_old"));
    let srv = fake::start(Config::new(Layout::OneSlot).build("b11434-abc1234"));
    let r = doctor(&srv.base_url, &[], &[]);
    assert!(!has(&r.doc, "llama_build_old"));
}

#[test]
fn router_mode_checks_model_names() {
    let srv = fake::start(Config::new(Layout::OneSlot).router());
    let r = doctor(&srv.base_url, &[("ANTHROPIC_MODEL", "nosuch")], &[]);
    assert_eq!(r.doc["facts"]["server"]["kind"], "llama-server");
    assert_eq!(r.doc["facts"]["server"]["llama"]["router"], true);
    let f = finding(&r.doc, "model_missing");
    assert!(f["detail"].as_str().unwrap().contains("gemma3-270m"), "{f}");
    assert!(!f["fix"].as_str().unwrap().contains("ollama pull"), "{f}");
    let r = doctor(
        &srv.base_url,
        &[
            ("ANTHROPIC_MODEL", "gemma3-270m"),
            ("ANTHROPIC_DEFAULT_HAIKU_MODEL", "gemma3-270m"),
        ],
        &[],
    );
    assert!(!has(&r.doc, "model_missing"), "{:?}", ids(&r.doc));
}

#[test]
fn loading_is_not_unreachable() {
    let srv = fake::start(Config::new(Layout::OneSlot).loading());
    let r = doctor(&srv.base_url, &[], &[]);
    assert_eq!(r.doc["facts"]["server"]["kind"], "llama-server");
    assert_eq!(r.doc["facts"]["server"]["loading"], true);
    assert!(has(&r.doc, "server_loading"));
    assert!(!has(&r.doc, "server_unreachable"));
    // --server llama-server skips detection but still sees the loading server.
    let r = doctor(&srv.base_url, &[], &["--server", "llama-server"]);
    assert!(has(&r.doc, "server_loading"), "{:?}", ids(&r.doc));
}

#[test]
fn mlx_lm_server_on_8080_is_not_llama_server() {
    // mlx_lm.server answers /health like llama-server but has no /props and no /v1/messages.
    let srv = FakeHttp::start(
        Routes::new(Answer::text(404, "Not Found"))
            .route("GET /health", Answer::json(200, r#"{"status": "ok"}"#))
            .route("GET /v1/models", Answer::json(200, r#"{"object": "list", "data": [{"id": "mlx-community/Qwen3-4B-4bit", "object": "model", "created": 1}]}"#)),
    );
    let r = doctor(&srv.base_url, &[], &[]);
    assert_eq!(r.doc["facts"]["server"]["kind"], "mlx-lm");
    let f = finding(&r.doc, "messages_api_missing");
    // The fix is a server with the Messages API for the same model (docs/servers.md).
    let fix = f["fix"].as_str().unwrap();
    assert!(fix.contains("vllm-mlx serve"), "{fix}");
    assert!(fix.contains("mlx-community/Qwen3-4B-4bit"), "{fix}");
}

#[test]
fn kv_cache_f16_agrees_with_the_planner_on_a_local_gguf() {
    // gemma3-270m at 8192 tokens: the planner keeps f16 (its whole trained context fits in
    // f16), so the doctor does not advise q8_0 either (it did before: issue 12's left-over).
    let Some(gguf) = support::gemma_path() else {
        return;
    };
    let gguf = gguf.display().to_string();
    let srv = fake::start(Config::new(Layout::OneSlot).model_path(&gguf));
    let port = srv.port.to_string();
    let Some(_p) = fake::fake_process(
        &["-m", &gguf, "-c", "8192", "-np", "1", "--port", &port],
        &[],
    ) else {
        return;
    };
    let r = doctor(&srv.base_url, &[], &[]);
    let m = &r.doc["facts"]["model"];
    assert_eq!(m["architecture"], "gemma3", "{m:#}");
    assert_eq!(m["kv_type"], "f16");
    assert_eq!(m["memory"]["planned_kv_type"], "f16", "{m:#}");
    let ids: Vec<&str> = r.doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(!ids.contains(&"kv_cache_f16"), "{ids:?}");
}

#[test]
fn secrets_on_the_command_line_are_never_shown() {
    let srv = fake::start(Config::new(Layout::OneSlot));
    let port = srv.port.to_string();
    let Some(_p) = fake::fake_process(
        &["--api-key", "s3cret-cli", "--port", &port],
        &[("LLAMA_ARG_API_KEY", "s3cret-env")],
    ) else {
        return;
    };
    let r = doctor(&srv.base_url, &[], &[]);
    let all = format!("{}{}", r.doc, r.text);
    assert!(
        r.doc["facts"]["server"]["llama_command"]["pid"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(!all.contains("s3cret"), "{all}");
}

#[test]
fn an_api_key_protected_server_is_still_recognised() {
    // With --api-key only the public routes (/health, /v1/models) answer without a key.
    let unauthorized =
        r#"{"error":{"code":401,"message":"Invalid API Key","type":"authentication_error"}}"#;
    let srv = FakeHttp::start(
        Routes::new(Answer::json(401, unauthorized))
            .route(
                "GET /health",
                Answer::json(200, &fake::fixture("health.json")),
            )
            .route(
                "GET /v1/models",
                Answer::json(200, &fake::fixture("v1_models.json")),
            ),
    );
    let r = doctor(&srv.base_url, &[], &[]);
    assert_eq!(r.doc["facts"]["server"]["kind"], "llama-server");
    assert!(r.text.contains("owned_by \"llamacpp\""), "{}", r.text);
    let f = finding(&r.doc, "context_unknown");
    assert!(f["detail"].as_str().unwrap().contains("--api-key"), "{f}");
}

#[test]
fn no_ollama_section_for_llama_server() {
    let srv = fake::start(Config::new(Layout::OneSlot));
    let r = doctor(&srv.base_url, &[], &[]);
    assert!(
        r.doc["facts"]["server_config"].is_null(),
        "{:#}",
        r.doc["facts"]["server_config"]
    );
    assert!(
        !r.text.contains("Ollama service configuration"),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("serves /models/gemma-3-270m-q4_k_m.gguf"),
        "{}",
        r.text
    );
}
