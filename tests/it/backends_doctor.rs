//! `cclocal doctor` against the FAKE LM Studio, vLLM, vllm-mlx, oMLX and mlx_lm.server
//! (issue 12): detection, served context, the findings of each kind with the server's own
//! fix, a server answering HTML / an empty body / a 500, and the time budget.
//!
//! LM Studio and oMLX cannot run here: their fakes (checked against the shapes the servers
//! document, fake_shapes.rs) stand in for them. vLLM, vllm-mlx and mlx_lm.server run here,
//! and real/python_servers_journey.rs proves the doctor against them; their fakes below are
//! only for cases the real servers here cannot produce (an old vLLM, a model family that is
//! not installed, several tiers, a server whose process is not on this machine, a model
//! listed by its hub repo id, slow or broken answers), each test saying which.

use crate::support;

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};
use support::fake_backend::FakeServer;
use support::fake_http::{Answer, FakeHttp, Routes};
use support::fake_lmstudio::{self as lms, Api, Model};
use support::fake_vllm;
use support::report::{finding, ids};

const KEY: &str = "qwen/qwen3-coder-30b";

fn script(bin: &Path, name: &str, body: &str) {
    std::fs::create_dir_all(bin).unwrap();
    let p = bin.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

struct Run {
    doc: Value,
    text: String,
    code: Option<i32>,
    /// Wall time of the `--json` run.
    took: Duration,
}

/// The doctor (`--timeout 5`) with Claude Code 2.1.332's environment pointing at `url`;
/// `prepare` may add files to HOME (an `lms` in HOME/bin, LM Studio's models folder).
fn doctor_in(url: &str, env: &[(&str, &str)], args: &[&str], prepare: impl FnOnce(&Path)) -> Run {
    let home = tempfile::tempdir().unwrap();
    let bin = home.path().join("bin");
    script(&bin, "claude", "echo '2.1.332 (Claude Code)'");
    std::fs::write(
        home.path().join(".claude.json"),
        r#"{"hasCompletedOnboarding": true}"#,
    )
    .unwrap();
    prepare(home.path());
    let run = |extra: &[&str]| {
        let mut c = support::naive_doctor(home.path(), &bin, url);
        c.args(if args.contains(&"--timeout") {
            &[][..]
        } else {
            &["--timeout", "5"][..]
        })
        .args(args)
        .args(extra);
        for (k, v) in env {
            c.env(k, v);
        }
        let t = Instant::now();
        (c.output().unwrap(), t.elapsed())
    };
    let (out, took) = run(&["--json"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let text = String::from_utf8_lossy(&run(&["-v"]).0.stdout).into_owned();
    Run {
        doc,
        text,
        code: out.status.code(),
        took,
    }
}

fn doctor(url: &str, env: &[(&str, &str)]) -> Run {
    doctor_in(url, env, &[], |_| {})
}

fn has(doc: &Value, id: &str) -> bool {
    ids(doc).iter().any(|i| i == id)
}

fn within_budget(r: &Run) {
    assert!(
        r.took < Duration::from_millis(5_000 + 1_500),
        "the doctor took {:?} with --timeout 5",
        r.took
    );
}

#[test]
fn lm_studio_at_its_4096_default_does_not_pass() {
    let srv = lms::start(&[Model::gguf(KEY, 262_144).loaded_at(4096)], Api::V1);
    let r = doctor(&srv.base_url, &[("ANTHROPIC_MODEL", KEY)]);
    let s = &r.doc["facts"]["server"];
    assert_eq!(s["kind"], "lmstudio", "{s:#}");
    let m = &r.doc["facts"]["model"];
    assert_eq!(m["served_context"], 4096, "{m:#}");
    assert_eq!(m["trained_context"], 262_144);
    assert_eq!(m["served_context_source"], "live");
    assert_ne!(r.code, Some(0), "the headline: 4096 tokens cannot work");
    let f = finding(&r.doc, "server_context_small");
    assert_eq!(f["severity"], "error");
    let fix = f["fix"].as_str().unwrap();
    assert!(
        fix.contains(&format!("lms load {KEY} --context-length 65536")),
        "{fix}"
    );
    assert!(
        f["detail"].as_str().unwrap().contains("LM Studio refuses"),
        "{f}"
    );
    let mm = finding(&r.doc, "context_mismatch");
    assert!(mm["detail"].as_str().unwrap().contains("LM Studio"), "{mm}");
    assert!(!has(&r.doc, "model_missing"), "{:?}", ids(&r.doc));
    assert!(r.text.contains("LM Studio"), "{}", r.text);
    assert!(
        r.text.contains(&format!("loaded {KEY}, context 4096")),
        "-v lists the loaded model:\n{}",
        r.text
    );
    within_budget(&r);
}

#[test]
fn lm_studio_v0_api_gives_the_loaded_context() {
    let srv = lms::start(&[Model::gguf(KEY, 262_144).loaded_at(8192)], Api::V0);
    let r = doctor(&srv.base_url, &[("ANTHROPIC_MODEL", KEY)]);
    assert_eq!(r.doc["facts"]["server"]["kind"], "lmstudio");
    assert_eq!(r.doc["facts"]["model"]["served_context"], 8192);
    assert!(has(&r.doc, "server_context_small"));
    assert_eq!(
        r.doc["facts"]["server"]["backend"]["sources"][0],
        "GET /api/v0/models"
    );
}

#[test]
fn lm_studio_at_a_planned_context_has_no_context_error() {
    let srv = lms::start(&[Model::gguf(KEY, 262_144).loaded_at(131_072)], Api::V1);
    let r = doctor(&srv.base_url, &[("ANTHROPIC_MODEL", KEY)]);
    // Claude Code without window settings still assumes more (a Claude-side finding).
    assert!(has(&r.doc, "context_mismatch"));
    for id in [
        "server_context_small",
        "lmstudio_nothing_loaded",
        "lmstudio_models_ambiguous",
        "lmstudio_model_unmatched",
        "model_missing",
        "messages_api_missing",
    ] {
        assert!(!has(&r.doc, id), "{id} in {:#}", r.doc["findings"]);
    }
}

#[test]
fn lm_studio_with_nothing_loaded() {
    let srv = lms::start(&[Model::gguf(KEY, 262_144)], Api::V1);
    let r = doctor(&srv.base_url, &[("ANTHROPIC_MODEL", KEY)]);
    let f = finding(&r.doc, "lmstudio_nothing_loaded");
    assert_eq!(f["severity"], "error");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .starts_with(&format!("lms load {KEY} --context-length 65536")),
        "{f}"
    );
    assert_ne!(r.code, Some(0));
}

#[test]
fn lm_studio_with_several_loaded_and_no_name_matching() {
    let srv = lms::start(
        &[
            Model::gguf(KEY, 262_144).loaded_at(65_536),
            Model::gguf("google/gemma-3-27b", 131_072).loaded_at(65_536),
        ],
        Api::V1,
    );
    let r = doctor(&srv.base_url, &[("ANTHROPIC_MODEL", "qwen3-coder:30b")]);
    let f = finding(&r.doc, "lmstudio_models_ambiguous");
    assert_eq!(f["severity"], "error");
    assert!(
        f["detail"].as_str().unwrap().contains("qwen3-coder:30b"),
        "{f}"
    );
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("ANTHROPIC_MODEL={KEY}")),
        "{f}"
    );
    assert!(
        !has(&r.doc, "model_missing"),
        "reported once: {:?}",
        ids(&r.doc)
    );
    // A name that is loaded is fine.
    let r = doctor(&srv.base_url, &[("ANTHROPIC_MODEL", KEY)]);
    assert!(
        !has(&r.doc, "lmstudio_models_ambiguous"),
        "{:?}",
        ids(&r.doc)
    );
}

#[test]
fn lm_studio_with_one_loaded_and_another_name() {
    let srv = lms::start(&[Model::gguf(KEY, 262_144).loaded_at(65_536)], Api::V1);
    let r = doctor(&srv.base_url, &[("ANTHROPIC_MODEL", "qwen3-coder:30b")]);
    let f = finding(&r.doc, "lmstudio_model_unmatched");
    assert_eq!(f["severity"], "warning");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("ANTHROPIC_MODEL={KEY}")),
        "{f}"
    );
    // The loaded model is the one described.
    assert_eq!(r.doc["facts"]["model"]["served_context"], 65_536);
}

/// `lms ps --json` (a fake `lms` on PATH, or in ~/.lmstudio/bin) names the model's folder; the planner reads the
/// GGUF there (the real gemma3-270m, trained for 32768) and the fix loads that context.
#[test]
fn lms_ps_and_the_models_folder_give_the_planned_context() {
    let Some(gemma) = support::gemma_path() else {
        return;
    };
    let models = [Model::gguf("google/gemma-3-270m", 32_768).loaded_at(4096)];
    let srv = lms::start(&models, Api::V1);
    let ps = lms::lms_ps(&models, "lmstudio-community/gemma-3-270m-GGUF").to_string();
    // `lms` on PATH, then only where LM Studio installs it (~/.lmstudio/bin).
    for lms_dir in ["bin", ".lmstudio/bin"] {
        let r = doctor_in(
            &srv.base_url,
            &[("ANTHROPIC_MODEL", "google/gemma-3-270m")],
            &[],
            |home| {
                let dir = home.join(".lmstudio/models/lmstudio-community/gemma-3-270m-GGUF");
                std::fs::create_dir_all(&dir).unwrap();
                std::os::unix::fs::symlink(&gemma, dir.join("gemma-3-270m-Q4_K_M.gguf")).unwrap();
                script(
                    &home.join(lms_dir),
                    "lms",
                    &format!("[ \"$1 $2\" = 'ps --json' ] || exit 2\ncat <<'EOF'\n{ps}\nEOF"),
                );
            },
        );
        let b = &r.doc["facts"]["server"]["backend"];
        assert_eq!(b["lms_cli"], true, "{b:#}");
        assert!(b["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "lms ps --json"));
        let m = &r.doc["facts"]["model"];
        assert!(
            m["gguf_path"]
                .as_str()
                .unwrap_or("")
                .ends_with("gemma-3-270m-Q4_K_M.gguf"),
            "{m:#}"
        );
        assert_eq!(m["architecture"], "gemma3");
        let planned = m["planned_context"].as_u64().expect("planned");
        assert!((28 * 1024..=32_768).contains(&planned), "{planned}");
        let f = finding(&r.doc, "server_context_small");
        let fix = f["fix"].as_str().unwrap();
        assert!(
            fix.contains(&format!(
                "lms load google/gemma-3-270m --context-length {planned}"
            )),
            "{fix}"
        );
        assert!(fix.contains("planner"), "{fix}");
    }
}

#[test]
fn an_mlx_model_in_lm_studio_is_named_and_not_planned_as_gguf() {
    let srv = lms::start(
        &[Model::mlx("mlx-community/qwen3-coder-30b", 262_144).loaded_at(4096)],
        Api::V1,
    );
    let r = doctor(
        &srv.base_url,
        &[("ANTHROPIC_MODEL", "mlx-community/qwen3-coder-30b")],
    );
    let m = &r.doc["facts"]["model"];
    assert_eq!(m["format"], "mlx");
    assert!(
        m["memory"].is_null() && m["planned_context"].is_null(),
        "{m:#}"
    );
    let fix = finding(&r.doc, "server_context_small")["fix"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        fix.contains("MLX model") && fix.contains("--estimate-only"),
        "{fix}"
    );
}

/// Edge case the real vLLM here cannot produce: a Qwen3-Coder model (parser
/// `qwen3_coder`, not installed here) served at 8192 with three Claude Code tiers.
#[test]
fn vllm_context_and_every_tier_against_the_served_names() {
    let srv = fake_vllm::start(&fake_vllm::Config::new("0.11.2", &["coder"], 8192));
    let r = doctor(
        &srv.base_url,
        &[
            ("ANTHROPIC_MODEL", "coder"),
            ("ANTHROPIC_DEFAULT_HAIKU_MODEL", "claude-haiku-4-5"),
            ("CLAUDE_CODE_SUBAGENT_MODEL", "helper"),
        ],
    );
    let s = &r.doc["facts"]["server"];
    assert_eq!(
        (s["kind"].as_str(), s["version"].as_str()),
        (Some("vllm"), Some("0.11.2")),
        "{s:#}"
    );
    assert_eq!(r.doc["facts"]["model"]["served_context"], 8192);
    let small = finding(&r.doc, "server_context_small");
    let fix = small["fix"].as_str().unwrap();
    assert!(
        fix.contains(&format!(
            "vllm serve {} --served-model-name coder claude-haiku-4-5 helper --max-model-len 65536 --enable-auto-tool-choice --tool-call-parser ",
            fake_vllm::ROOT
        )),
        "{fix}"
    );
    assert!(fix.contains(" --host 127.0.0.1 --port "), "{fix}");
    assert!(!fix.contains(" GiB"), "no byte claims for vLLM: {fix}");
    let bg: Vec<&Value> = r.doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "background_model_missing")
        .collect();
    assert_eq!(bg.len(), 2, "haiku and subagent: {:#}", r.doc["findings"]);
    let fixes: Vec<&str> = bg.iter().map(|f| f["fix"].as_str().unwrap()).collect();
    assert!(
        fixes
            .iter()
            .any(|f| f.contains("ANTHROPIC_DEFAULT_HAIKU_MODEL=coder")),
        "{fixes:?}"
    );
    assert!(
        fixes
            .iter()
            .any(|f| f.contains("CLAUDE_CODE_SUBAGENT_MODEL=coder")),
        "{fixes:?}"
    );
    assert!(
        fixes
            .iter()
            .all(|f| f.contains("--served-model-name coder")),
        "{fixes:?}"
    );
    assert!(!has(&r.doc, "server_too_old"));
    within_budget(&r);
    // The main model under a name vLLM does not serve.
    let r = doctor(&srv.base_url, &[("ANTHROPIC_MODEL", "qwen3-coder")]);
    let f = finding(&r.doc, "model_missing");
    assert!(
        f["fix"].as_str().unwrap().contains("ANTHROPIC_MODEL=coder"),
        "{f}"
    );
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains("--served-model-name coder qwen3-coder"),
        "{f}"
    );
}

/// Edge case: a vLLM older than `/v1/messages` (the real one here is 0.32.0).
#[test]
fn vllm_without_messages_is_too_old() {
    let srv =
        fake_vllm::start(&fake_vllm::Config::new("0.10.1", &["coder"], 65_536).without_messages());
    let r = doctor(&srv.base_url, &[("ANTHROPIC_MODEL", "coder")]);
    let f = finding(&r.doc, "server_too_old");
    assert!(f["detail"].as_str().unwrap().contains("0.10.1"), "{f}");
    assert!(
        f["fix"].as_str().unwrap().contains("pip install -U vllm"),
        "{f}"
    );
    assert!(!has(&r.doc, "messages_api_missing"), "{:?}", ids(&r.doc));
    assert_eq!(r.doc["facts"]["server"]["messages_api"], false);
    // An old version number whose /v1/messages answers anyway is not called too old.
    let srv = fake_vllm::start(&fake_vllm::Config::new("0.10.1", &["coder"], 65_536));
    let r = doctor(&srv.base_url, &[("ANTHROPIC_MODEL", "coder")]);
    assert!(!has(&r.doc, "server_too_old"), "{:?}", ids(&r.doc));
}

/// Edge case: an mlx_lm.server that lists its model by hub repo id (no model hub here;
/// the real one, listing a folder, is in real/python_servers_journey.rs).
#[test]
fn mlx_lm_server_listing_a_repo_id_has_no_messages_api() {
    let srv = support::fake_mlx::mlx_lm("mlx-community/Qwen3-Coder-30B-4bit");
    let r = doctor(
        &srv.base_url,
        &[("ANTHROPIC_MODEL", "mlx-community/Qwen3-Coder-30B-4bit")],
    );
    assert_eq!(r.doc["facts"]["server"]["kind"], "mlx-lm");
    let f = finding(&r.doc, "messages_api_missing");
    assert_eq!(f["severity"], "error");
    let fix = f["fix"].as_str().unwrap();
    // vllm-mlx for the same model (mlx_lm.server lists it by its path or repo id).
    assert!(
        fix.contains("vllm-mlx serve mlx-community/Qwen3-Coder-30B-4bit --served-model-name mlx-community/Qwen3-Coder-30B-4bit"),
        "{fix}"
    );
    within_budget(&r);
}

/// Edge case: a vllm-mlx whose process is not on this machine (a remote one: no context
/// from its command line); the real, local one is in real/python_servers_journey.rs.
#[test]
fn remote_vllm_mlx_refuses_other_names_and_reports_no_context() {
    let srv = support::fake_mlx::vllm_mlx("qwen3-coder");
    let r = doctor(&srv.base_url, &[("ANTHROPIC_MODEL", "Qwen/Qwen3-Coder")]);
    assert_eq!(r.doc["facts"]["server"]["kind"], "vllm-mlx");
    let f = finding(&r.doc, "model_missing");
    assert!(
        f["fix"].as_str().unwrap().contains("--served-model-name"),
        "{f}"
    );
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains("ANTHROPIC_MODEL=qwen3-coder"),
        "{f}"
    );
    let r = doctor(&srv.base_url, &[("ANTHROPIC_MODEL", "qwen3-coder")]);
    assert!(!has(&r.doc, "model_missing"), "{:?}", ids(&r.doc));
    assert!(!has(&r.doc, "messages_api_missing"));
    assert!(
        has(&r.doc, "context_unknown"),
        "vllm-mlx reports no context: {:?}",
        ids(&r.doc)
    );
    within_budget(&r);
}

#[test]
fn omlx_is_detected_with_its_context() {
    let srv = support::fake_mlx::omlx(&["Qwen3-Coder-30B-4bit"], 32_768);
    let r = doctor(
        &srv.base_url,
        &[("ANTHROPIC_MODEL", "Qwen3-Coder-30B-4bit")],
    );
    assert_eq!(r.doc["facts"]["server"]["kind"], "omlx");
    assert_eq!(r.doc["facts"]["model"]["served_context"], 32_768);
    assert!(!has(&r.doc, "messages_api_missing"));
    within_budget(&r);
}

/// `--server lmstudio` (or vllm) against something answering HTML, an empty body or a
/// 500: named as such, within the budget, no panic.
#[test]
fn html_empty_and_500_answers_are_named() {
    let cases: [(&str, Answer, &str); 4] = [
        (
            "401",
            Answer::json(401, r#"{"error":"unauthorized"}"#),
            "asks for an API token",
        ),
        (
            "HTML",
            Answer::html(
                200,
                "<!doctype html><html><head><title>Router login</title></head></html>",
            ),
            "HTML",
        ),
        (
            "empty",
            Answer::new(200, "application/json", ""),
            "empty body",
        ),
        ("500", Answer::json(500, r#"{"error":"boom"}"#), "HTTP 500"),
    ];
    for (what, answer, words) in cases {
        let srv = FakeHttp::start(Routes::new(answer));
        for kind in ["lmstudio", "vllm"] {
            let r = doctor_in(
                &srv.base_url,
                &[("ANTHROPIC_MODEL", KEY)],
                &["--server", kind],
                |_| {},
            );
            if what == "HTML" {
                // Issue 21: naming a kind skips detection, not verification: a web page
                // is no LM Studio or vLLM.
                assert_eq!(r.doc["facts"]["server"]["kind"], "unknown", "{kind}");
                let f = finding(&r.doc, "server_not_llm");
                assert!(
                    f["detail"].as_str().unwrap().contains("Router login"),
                    "{f}"
                );
                within_budget(&r);
                continue;
            }
            assert_eq!(r.doc["facts"]["server"]["kind"], kind);
            let f = finding(&r.doc, "server_answer_unreadable");
            assert!(
                f["detail"].as_str().unwrap().contains(words),
                "{what} {kind}: {f}"
            );
            within_budget(&r);
        }
        // Detected rather than named: the existing "not an LLM server" finding.
        let r = doctor(&srv.base_url, &[("ANTHROPIC_MODEL", KEY)]);
        assert!(
            has(&r.doc, "server_not_llm") || has(&r.doc, "server_kind_unknown"),
            "{what}: {:?}",
            ids(&r.doc)
        );
    }
}

/// The doctor against each fake stays within its time budget even when the server is
/// slow to list its models: every request shares the deadline.
#[test]
fn each_fake_within_the_budget() {
    let servers: Vec<FakeServer> = vec![
        lms::start(&[Model::gguf(KEY, 262_144).loaded_at(4096)], Api::V1),
        fake_vllm::start(&fake_vllm::Config::new("0.11.2", &["coder"], 8192)),
        support::fake_mlx::vllm_mlx("m"),
        support::fake_mlx::mlx_lm("m"),
        support::fake_mlx::omlx(&["m"], 32_768),
    ];
    for s in &servers {
        let r = doctor_in(
            &s.base_url,
            &[("ANTHROPIC_MODEL", "m")],
            &["--timeout", "2"],
            |_| {},
        );
        assert!(
            r.took < Duration::from_millis(3_500),
            "{}: {:?}",
            s.base_url,
            r.took
        );
        assert!(
            r.doc["options"]["timed_out"]
                .as_array()
                .map_or(true, |a| a.is_empty()),
            "{:#}",
            r.doc["options"]
        );
    }
}

#[test]
fn no_model_set_names_the_loaded_one() {
    let srv = lms::start(
        &[
            Model::gguf("a/downloaded-only", 32_768),
            Model::gguf(KEY, 262_144).loaded_at(65_536),
        ],
        Api::V1,
    );
    let r = doctor(&srv.base_url, &[]);
    let f = finding(&r.doc, "model_missing");
    assert_eq!(f["fix"], format!("ANTHROPIC_MODEL={KEY}"), "{f}");
}

/// An `lms` that hangs does not take the doctor's budget: it gets at most 1.5 s, and the
/// REST API's facts stand.
#[test]
fn a_hanging_lms_is_cut_short() {
    let srv = lms::start(&[Model::gguf(KEY, 262_144).loaded_at(4096)], Api::V1);
    let r = doctor_in(&srv.base_url, &[("ANTHROPIC_MODEL", KEY)], &[], |home| {
        script(&home.join("bin"), "lms", "exec sleep 30");
    });
    assert!(r.took < Duration::from_millis(4_000), "{:?}", r.took);
    assert_eq!(r.doc["facts"]["server"]["backend"]["lms_cli"], false);
    assert_eq!(r.doc["facts"]["server"]["messages_api"], true);
    assert!(has(&r.doc, "server_context_small"));
}

/// The version, where LM Studio answers `GET /lms-status` on its server port (documented
/// for its internal API port; not confirmed on 1234), and none otherwise.
#[test]
fn lm_studio_version_where_it_can_be_read() {
    let models = [Model::gguf(KEY, 262_144).loaded_at(65_536)];
    let mut fake = lms::fake(&models, Api::V1);
    fake.routes = fake.routes.route(
        "GET /lms-status",
        Answer::json(200, r#"{"package":"lmstudio","version":"0.4.2"}"#),
    );
    let srv = FakeServer::start(fake);
    let r = doctor(&srv.base_url, &[("ANTHROPIC_MODEL", KEY)]);
    assert_eq!(r.doc["facts"]["server"]["version"], "0.4.2");
    assert!(r.text.contains("LM Studio 0.4.2"), "{}", r.text);
    let srv = lms::start(&models, Api::V1);
    let r = doctor(&srv.base_url, &[("ANTHROPIC_MODEL", KEY)]);
    assert!(r.doc["facts"]["server"]["version"].is_null());
}

#[test]
fn omlx_small_context_gets_an_omlx_fix() {
    let srv = support::fake_mlx::omlx(&["m"], 8192);
    let r = doctor(&srv.base_url, &[("ANTHROPIC_MODEL", "m")]);
    let fix = finding(&r.doc, "server_context_small")["fix"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(fix.contains("oMLX") && !fix.contains("OLLAMA"), "{fix}");
}
