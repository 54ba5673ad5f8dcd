//! Doctor rules from hand-made facts: no network, no files. A healthy setup yields no
//! warning or error; each test breaks one thing and expects its finding id.

use cclocal::claude::{EnvMap, Version};
use cclocal::doctor::facts::*;
use cclocal::doctor::rules::{self, IDS};
use cclocal::doctor::{exit_code, Section};
use cclocal::findings::{Finding, Severity};
use cclocal::memory::{Budget, BudgetSource};
use serde_json::json;

const GIB: u64 = 1 << 30;

fn env(pairs: &[(&str, &str)]) -> EnvMap {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn healthy() -> Facts {
    let model = "qwen3-coder-next:latest";
    Facts {
        options: RunFacts::default(),
        machine: MachineFacts {
            os: "linux".into(),
            arch: "x86_64".into(),
            cpus: 8,
            ram_bytes: 128 * GIB,
            budget: Some(Budget {
                bytes: 96 * GIB,
                source: BudgetSource::Cuda,
                estimated: false,
                gpu: true,
                note: "test".into(),
            }),
            devices: None,
        },
        claude: Some(ClaudeFacts {
            path: Some("/usr/local/bin/claude".into()),
            version: Some(Version(2, 1, 332)),
            env: env(&[
                ("ANTHROPIC_BASE_URL", "http://127.0.0.1:11434"),
                ("ANTHROPIC_AUTH_TOKEN", "<redacted>"),
                ("ANTHROPIC_MODEL", model),
                ("CLAUDE_CODE_MAX_CONTEXT_TOKENS", "65536"),
                ("CLAUDE_CODE_AUTO_COMPACT_WINDOW", "100000"),
                ("CLAUDE_CODE_MAX_OUTPUT_TOKENS", "8192"),
                ("CLAUDE_CODE_ATTRIBUTION_HEADER", "0"),
                ("CLAUDE_CODE_TOTAL_TOKENS_REMINDER", "off"),
            ]),
            has_completed_onboarding: Some(true),
            model: Some(model.into()),
            model_source: Some("ANTHROPIC_MODEL".into()),
            ..Default::default()
        }),
        server: ServerFacts {
            url: "http://127.0.0.1:11434".into(),
            url_source: "ANTHROPIC_BASE_URL".into(),
            base_url: Some("http://127.0.0.1:11434".into()),
            local: true,
            checked: true,
            reachable: true,
            version: Some("0.30.0".into()),
            installed: vec![InstalledModel {
                name: model.into(),
                size: 51 * GIB,
                ..Default::default()
            }],
            loaded: vec![LoadedModel {
                name: model.into(),
                size: 60 * GIB,
                size_vram: 60 * GIB,
                context_length: Some(65_536),
                expires_at: String::new(),
            }],
            messages_api: Some(true),
            models: vec![
                ModelCheck {
                    role: "main".into(),
                    name: model.into(),
                    why: "ANTHROPIC_MODEL".into(),
                    presence: Presence::Present,
                },
                ModelCheck {
                    role: "background".into(),
                    name: model.into(),
                    why: "main".into(),
                    presence: Presence::Present,
                },
            ],
            latency_ms: Some(1),
            error: None,
            kind: Some(cclocal::server::ServerKind::Ollama),
            kind_source: Some("detected".into()),
            ..Default::default()
        },
        server_config: Some(ServerConfigFacts {
            env: env(&[
                ("OLLAMA_KEEP_ALIVE", "1h"),
                ("OLLAMA_KV_CACHE_TYPE", "q8_0"),
                ("OLLAMA_CONTEXT_LENGTH", "65536"),
            ]),
            env_source: Some("systemd".into()),
            ..Default::default()
        }),
        model: Some(ModelFacts {
            name: model.into(),
            architecture: Some("qwen3next".into()),
            trained_context: Some(262_144),
            weights_bytes: 51 * GIB,
            served_context: Some(65_536),
            served_context_source: Some(ContextSource::Live),
            memory: Some(MemoryFacts {
                n_ctx: 65_536,
                kv_type: "q8_0".into(),
                kv_bytes: GIB,
                kv_bytes_q8_0: Some(GIB),
                kv_bytes_planned: None,
                total_bytes: 60 * GIB,
                budget_bytes: 96 * GIB,
                fits: true,
                largest_fit: Some(200_000),
                planned_context: Some(200_000),
                planned_kv_type: Some("q8_0".into()),
                measured: false,
            }),
            error: None,
            ..Default::default()
        }),
        setup: None,
        server_log: vec![],
        turn_time: None,
        verify: None,
    }
}

fn all(f: &Facts) -> Vec<(Section, Finding)> {
    rules::evaluate(f)
}

fn find(f: &Facts, id: &str) -> Finding {
    let got = all(f);
    got.iter()
        .find(|(_, x)| x.id == id)
        .map(|(_, x)| x.clone())
        .unwrap_or_else(|| {
            panic!(
                "expected {id}, got {:?}",
                got.iter().map(|(_, x)| x.id).collect::<Vec<_>>()
            )
        })
}

fn claude(f: &mut Facts) -> &mut ClaudeFacts {
    f.claude.as_mut().unwrap()
}

#[test]
fn healthy_setup_has_no_problems() {
    let f = healthy();
    let got = all(&f);
    let problems: Vec<_> = got
        .iter()
        .filter(|(_, x)| x.severity >= Severity::Warning)
        .map(|(_, x)| (x.id, x.title.clone()))
        .collect();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(exit_code(&got, true), 0);
}

#[test]
fn every_finding_has_title_and_problems_have_fixes() {
    // Break everything at once and check the contract of each finding.
    let mut f = healthy();
    f.server.version = Some("0.13.0".into());
    f.server.messages_api = Some(false);
    claude(&mut f)
        .env
        .insert("ANTHROPIC_MODEL_CONTEXT_LENGTH".into(), "16384".into());
    let got = all(&f);
    assert!(!got.is_empty());
    for (_, x) in &got {
        assert!(IDS.contains(&x.id), "{}", x.id);
        assert!(!x.title.is_empty());
        if x.severity >= Severity::Warning {
            assert!(!x.fix.is_empty(), "{} has no fix", x.id);
        }
    }
}

#[test]
fn context_mismatch_is_version_aware() {
    let mut f = healthy();
    claude(&mut f).env.remove("CLAUDE_CODE_MAX_CONTEXT_TOKENS");
    claude(&mut f).env.remove("CLAUDE_CODE_AUTO_COMPACT_WINDOW");
    let x = find(&f, "context_mismatch");
    assert_eq!(x.severity, Severity::Error);
    assert!(
        x.title.contains("1000000"),
        "2.1.332 assumes 1M for an unknown model: {}",
        x.title
    );
    assert!(
        x.fix.contains("CLAUDE_CODE_MAX_CONTEXT_TOKENS=65536"),
        "{}",
        x.fix
    );
    claude(&mut f).version = Some(Version(2, 1, 121));
    let x = find(&f, "context_mismatch");
    assert!(x.title.contains("200000"), "{}", x.title);
    assert!(
        x.fix.contains("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE"),
        "old versions ignore MAX_CONTEXT: {}",
        x.fix
    );
    assert_eq!(exit_code(&all(&f), false), 1);
}

/// Issue 21: the title and the detail name the same window (the title said 104192, the
/// detail "treats … as a 200000-token model").
#[test]
fn context_mismatch_title_and_detail_agree() {
    let mut f = healthy();
    for k in [
        "CLAUDE_CODE_MAX_CONTEXT_TOKENS",
        "CLAUDE_CODE_AUTO_COMPACT_WINDOW",
    ] {
        claude(&mut f).env.insert(k.into(), "104192".into());
    }
    let x = find(&f, "context_mismatch");
    assert!(
        x.title.contains("assumes a 104192-token window"),
        "{}",
        x.title
    );
    assert!(
        x.detail.contains("uses a 104192-token window"),
        "{}",
        x.detail
    );
}

#[test]
fn context_small_unknown_and_memory() {
    let mut f = healthy();
    f.model.as_mut().unwrap().served_context = Some(16_384);
    assert_eq!(find(&f, "server_context_small").severity, Severity::Error);
    f.model.as_mut().unwrap().served_context = Some(32_768);
    assert_eq!(find(&f, "server_context_small").severity, Severity::Warning);
    let mut f = healthy();
    f.model.as_mut().unwrap().served_context = None;
    assert_eq!(find(&f, "context_unknown").severity, Severity::Info);
    let mut f = healthy();
    f.model.as_mut().unwrap().memory.as_mut().unwrap().fits = false;
    assert_eq!(find(&f, "memory_does_not_fit").severity, Severity::Error);
}

/// Issue 19: a small context's detail names where that kind of server reported it, not
/// Ollama's /api/ps for llama-server, LM Studio or vLLM.
#[test]
fn context_small_names_the_kinds_own_source() {
    use cclocal::server::ServerKind;
    for (kind, source) in [
        (ServerKind::Ollama, "/api/ps"),
        (
            ServerKind::LlamaServer,
            "/props default_generation_settings.n_ctx",
        ),
        (ServerKind::LmStudio, "loaded_context_length"),
        (ServerKind::Vllm, "max_model_len"),
        (ServerKind::VllmMlx, "--max-kv-size"),
    ] {
        let mut f = healthy();
        f.server.kind = Some(kind);
        let m = f.model.as_mut().unwrap();
        m.served_context = Some(16_384);
        m.served_context_source = Some(ContextSource::Live);
        let x = find(&f, "server_context_small");
        assert!(x.detail.contains(source), "{kind:?}: {}", x.detail);
        if kind != ServerKind::Ollama {
            assert!(!x.detail.contains("/api/ps"), "{kind:?}: {}", x.detail);
            assert!(!x.detail.contains("Ollama"), "{kind:?}: {}", x.detail);
        }
    }
}

/// Issue 9.7: no fix that cannot work. A 4096-token server gets no Claude Code settings
/// (its system prompt alone is larger), and a model that fits only 16K is not told to serve
/// 64K; the fix says what would work instead.
#[test]
fn fixes_that_cannot_work_are_not_given() {
    let mut f = healthy();
    claude(&mut f).env.remove("CLAUDE_CODE_MAX_CONTEXT_TOKENS");
    claude(&mut f).env.remove("CLAUDE_CODE_AUTO_COMPACT_WINDOW");
    f.model.as_mut().unwrap().served_context = Some(4096);
    let x = find(&f, "context_mismatch");
    assert!(
        !x.fix.contains("CLAUDE_CODE_MAX_CONTEXT_TOKENS=4096"),
        "{}",
        x.fix
    );
    assert!(
        x.fix.contains("no Claude Code setting can work"),
        "{}",
        x.fix
    );

    let mut f = healthy();
    let m = f.model.as_mut().unwrap();
    m.served_context = Some(16_384);
    let mem = m.memory.as_mut().unwrap();
    mem.largest_fit = Some(16_384);
    mem.planned_context = Some(20_480);
    mem.planned_kv_type = Some("q4_0".into());
    let x = find(&f, "server_context_small");
    assert!(!x.fix.contains("OLLAMA_CONTEXT_LENGTH=65536"), "{}", x.fix);
    assert!(
        x.fix.contains("no server setting can work") && x.fix.contains("smaller model"),
        "{}",
        x.fix
    );
    // When a usable context fits, the fix is the planner's choice, context and cache type
    // in one command (issue 19: the doctor's fix is the plan's line; issue 21: not split).
    let mem = f.model.as_mut().unwrap().memory.as_mut().unwrap();
    mem.largest_fit = Some(40_192);
    mem.planned_context = Some(40_192);
    let x = find(&f, "server_context_small");
    assert!(
        x.fix
            .contains("Environment=\"OLLAMA_CONTEXT_LENGTH=40192\" \"OLLAMA_KV_CACHE_TYPE=q4_0\""),
        "{}",
        x.fix
    );
    assert_eq!(x.fix.matches("systemctl restart").count(), 1, "{}", x.fix);
}

#[test]
fn partial_offload_and_kv_cache() {
    let mut f = healthy();
    f.server.loaded[0].size_vram = 30 * GIB;
    assert!(find(&f, "model_partial_offload").title.starts_with("50%"));
    let mut f = healthy();
    let cfg = f.server_config.as_mut().unwrap();
    cfg.env.remove("OLLAMA_KV_CACHE_TYPE");
    let m = f.model.as_mut().unwrap().memory.as_mut().unwrap();
    m.kv_type = "f16".into();
    m.kv_bytes = 2 * GIB;
    assert_eq!(find(&f, "kv_cache_f16").severity, Severity::Info);
    f.model.as_mut().unwrap().memory.as_mut().unwrap().fits = false;
    assert_eq!(find(&f, "kv_cache_f16").severity, Severity::Warning);
}

#[test]
fn kv_cache_f16_agrees_with_the_planner() {
    // The planner chose f16 for this context (it fits): the doctor does not advise q8_0.
    let mut f = healthy();
    f.server_config
        .as_mut()
        .unwrap()
        .env
        .remove("OLLAMA_KV_CACHE_TYPE");
    let m = f.model.as_mut().unwrap().memory.as_mut().unwrap();
    m.kv_type = "f16".into();
    m.kv_bytes = 2 * GIB;
    m.planned_kv_type = Some("f16".into());
    m.planned_context = Some(m.n_ctx);
    assert!(
        all(&f).iter().all(|(_, x)| x.id != "kv_cache_f16"),
        "{:?}",
        all(&f)
    );
    // The planner chose q8_0, or the served context is above the planned one: advise it.
    let m = f.model.as_mut().unwrap().memory.as_mut().unwrap();
    m.planned_context = Some(m.n_ctx - 1);
    assert_eq!(find(&f, "kv_cache_f16").severity, Severity::Info);
    let m = f.model.as_mut().unwrap().memory.as_mut().unwrap();
    m.planned_context = Some(m.n_ctx);
    m.planned_kv_type = Some("q8_0".into());
    assert_eq!(find(&f, "kv_cache_f16").severity, Severity::Info);
}

#[test]
fn kv_quant_without_flash_attention_depends_on_server_version() {
    let mut f = healthy();
    f.server_config
        .as_mut()
        .unwrap()
        .env
        .insert("OLLAMA_FLASH_ATTENTION".into(), "false".into());
    assert_eq!(
        find(&f, "kv_quant_without_flash_attention").severity,
        Severity::Error
    );
    f.server.version = Some("0.24.0".into());
    assert_eq!(
        find(&f, "kv_quant_without_flash_attention").severity,
        Severity::Warning
    );
    // "off" parses as true in Ollama: flash attention is on.
    f.server_config
        .as_mut()
        .unwrap()
        .env
        .insert("OLLAMA_FLASH_ATTENTION".into(), "off".into());
    assert!(all(&f)
        .iter()
        .all(|(_, x)| x.id != "kv_quant_without_flash_attention"));
}

#[test]
fn server_reachability_and_age() {
    let mut f = healthy();
    f.server.reachable = false;
    f.server.error = Some("timed out".into());
    assert_eq!(find(&f, "server_unreachable").severity, Severity::Error);
    let mut f = healthy();
    f.server.checked = false;
    f.options.offline = true;
    assert_eq!(find(&f, "server_not_checked").severity, Severity::Info);
    let mut f = healthy();
    f.server.messages_api = Some(false);
    f.server.version = Some("0.13.5".into());
    assert_eq!(find(&f, "server_too_old").severity, Severity::Error);
    let mut f = healthy();
    f.server.local = false;
    assert!(find(&f, "remote_server").fix.contains("--server-only"));
    // A vLLM that does not answer: the way to start it names tool calling.
    let mut f = healthy();
    f.server.kind = Some(cclocal::server::ServerKind::Vllm);
    f.server.reachable = false;
    let fix = find(&f, "server_unreachable").fix;
    assert!(
        fix.contains("--enable-auto-tool-choice --tool-call-parser"),
        "{fix}"
    );
}

#[test]
fn models_missing() {
    let mut f = healthy();
    f.server.models[0].presence = Presence::Missing;
    assert_eq!(find(&f, "model_missing").severity, Severity::Error);
    let mut f = healthy();
    f.server.models.retain(|m| m.role != "main");
    assert!(find(&f, "model_missing")
        .fix
        .starts_with("ANTHROPIC_MODEL="));
    let mut f = healthy();
    f.server.models[1] = ModelCheck {
        role: "background".into(),
        name: "claude-haiku-4-5-20251001".into(),
        why: "key".into(),
        presence: Presence::Missing,
    };
    let x = find(&f, "background_model_missing");
    assert_eq!(x.severity, Severity::Warning);
    assert!(
        x.fix
            .contains("ANTHROPIC_DEFAULT_HAIKU_MODEL=qwen3-coder-next"),
        "{}",
        x.fix
    );
}

/// OLLAMA_KEEP_ALIVE=100 read "1.6666666666666667 min": the one duration formatter.
#[test]
fn keep_alive_in_words() {
    for (v, words) in [("100", "100 s"), ("5m", "5 min"), ("500", "8.3 min")] {
        let mut f = healthy();
        f.server_config
            .as_mut()
            .unwrap()
            .env
            .insert("OLLAMA_KEEP_ALIVE".into(), v.into());
        let x = find(&f, "keep_alive_short");
        assert!(
            x.title.ends_with(&format!("after {words} idle")),
            "{v}: {}",
            x.title
        );
    }
}

#[test]
fn keep_alive_exposure_and_app_override() {
    let mut f = healthy();
    f.server_config
        .as_mut()
        .unwrap()
        .env
        .remove("OLLAMA_KEEP_ALIVE");
    assert!(find(&f, "keep_alive_short").detail.contains("default 5m"));
    f.server_config
        .as_mut()
        .unwrap()
        .env
        .insert("OLLAMA_KEEP_ALIVE".into(), "-1".into());
    assert!(all(&f).iter().all(|(_, x)| x.id != "keep_alive_short"));
    let mut f = healthy();
    f.server_config
        .as_mut()
        .unwrap()
        .env
        .insert("OLLAMA_HOST".into(), "0.0.0.0:11434".into());
    assert!(find(&f, "server_exposed")
        .fix
        .contains("OLLAMA_HOST=127.0.0.1:11434"));
    let mut f = healthy();
    f.server_config.as_mut().unwrap().app_context_length = Some(8192);
    assert_eq!(
        find(&f, "ollama_app_context_override").severity,
        Severity::Warning
    );
    f.server_config
        .as_mut()
        .unwrap()
        .env
        .remove("OLLAMA_CONTEXT_LENGTH");
    assert_eq!(
        find(&f, "ollama_app_context_override").severity,
        Severity::Info
    );
}

#[test]
fn cache_buster_only_where_the_version_reads_the_switch() {
    let mut f = healthy();
    claude(&mut f).env.remove("CLAUDE_CODE_ATTRIBUTION_HEADER");
    assert!(find(&f, "cache_buster")
        .fix
        .contains("CLAUDE_CODE_ATTRIBUTION_HEADER=0"));
    claude(&mut f).version = Some(Version(2, 1, 121));
    assert!(
        all(&f).iter().all(|(_, x)| x.id != "cache_buster"),
        "no env list covers 2.1.121"
    );
}

#[test]
fn unknown_env_vars_claude_and_ollama() {
    let mut f = healthy();
    claude(&mut f)
        .env
        .insert("ANTHROPIC_MODEL_CONTEXT_LENGTH".into(), "65536".into());
    assert!(find(&f, "unknown_env_var")
        .title
        .contains("ANTHROPIC_MODEL_CONTEXT_LENGTH"));
    let mut f = healthy();
    claude(&mut f).version = Some(Version(2, 1, 197));
    claude(&mut f).env.insert(
        "CLAUDE_CODE_DISABLE_UNKNOWN_MODEL_WINDOW_ENFORCEMENT".into(),
        "1".into(),
    );
    assert!(find(&f, "unknown_env_var").title.contains("2.1.197"));
    let mut f = healthy();
    f.server_config
        .as_mut()
        .unwrap()
        .env
        .insert("OLLAMA_NUM_BATCH".into(), "2048".into());
    assert!(find(&f, "unknown_env_var").title.contains("does not exist"));
    let mut f = healthy();
    f.server_config
        .as_mut()
        .unwrap()
        .env
        .insert("OLLAMA_NEW_ENGINE".into(), "1".into());
    assert!(find(&f, "unknown_env_var")
        .title
        .contains("removed in Ollama 0.30.0"));
}

/// A named change to a healthy set of facts.
type Case = (&'static str, Box<dyn Fn(&mut Facts)>);

#[test]
fn autocompact_ineffective_causes() {
    let cases: Vec<Case> = vec![
        (
            "150 is ignored",
            Box::new(|f| {
                claude(f)
                    .env
                    .insert("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE".into(), "150".into());
            }),
        ),
        (
            "has no effect",
            Box::new(|f| {
                claude(f)
                    .env
                    .insert("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE".into(), "95".into());
            }),
        ),
        (
            "never compacts",
            Box::new(|f| {
                claude(f).version = Some(Version(2, 1, 197));
                claude(f).env.remove("CLAUDE_CODE_AUTO_COMPACT_WINDOW");
            }),
        ),
        (
            "switched off",
            Box::new(|f| {
                claude(f).auto_compact_enabled = Some(json!(false));
            }),
        ),
        (
            "string",
            Box::new(|f| {
                claude(f).auto_compact_enabled = Some(json!("false"));
            }),
        ),
        (
            "DISABLE_AUTO_COMPACT",
            Box::new(|f| {
                claude(f)
                    .env
                    .insert("DISABLE_AUTO_COMPACT".into(), "1".into());
            }),
        ),
        (
            "ignored",
            Box::new(|f| {
                claude(f).auto_compact_window = Some(json!(50_000));
            }),
        ),
        (
            "reads as 100000",
            Box::new(|f| {
                claude(f)
                    .env
                    .insert("CLAUDE_CODE_AUTO_COMPACT_WINDOW".into(), "32768".into());
            }),
        ),
    ];
    for (want, break_it) in cases {
        let mut f = healthy();
        break_it(&mut f);
        let got = all(&f);
        assert!(
            got.iter()
                .any(|(_, x)| x.id == "autocompact_ineffective" && x.title.contains(want)),
            "{want}: {:?}",
            got.iter().map(|(_, x)| &x.title).collect::<Vec<_>>()
        );
    }
}

#[test]
fn claude_config_findings() {
    let mut f = healthy();
    claude(&mut f).env.insert(
        "ANTHROPIC_BASE_URL".into(),
        "http://127.0.0.1:11434/v1".into(),
    );
    assert_eq!(
        find(&f, "base_url_v1_suffix").fix,
        "ANTHROPIC_BASE_URL=http://127.0.0.1:11434"
    );
    let mut f = healthy();
    claude(&mut f).env.insert(
        "ANTHROPIC_API_KEY".into(),
        "sk-ant-api03-…<redacted>".into(),
    );
    assert!(find(&f, "api_key_conflict").detail.contains("Haiku"));
    let mut f = healthy();
    claude(&mut f).overrides.push(EnvOverride {
        name: "ANTHROPIC_MODEL".into(),
        shell: "a".into(),
        value: "b".into(),
        source: "/h/.claude/settings.json".into(),
    });
    assert!(find(&f, "settings_env_override")
        .detail
        .contains("ANTHROPIC_MODEL"));
    let mut f = healthy();
    claude(&mut f).has_completed_onboarding = None;
    assert_eq!(find(&f, "onboarding_gate").severity, Severity::Warning);
    let mut f = healthy();
    claude(&mut f).path = None;
    assert_eq!(find(&f, "claude_missing").severity, Severity::Error);
}

#[test]
fn exit_codes_and_strict() {
    let mut f = healthy();
    claude(&mut f).has_completed_onboarding = None;
    let got = all(&f);
    assert_eq!(exit_code(&got, false), 0);
    assert_eq!(exit_code(&got, true), 1);
}

#[test]
fn server_log_findings_of_the_server_checked() {
    let log = |kind: &str| ServerLogFacts {
        path: format!("/home/u/{kind}.log"),
        kind: Some(kind.into()),
        findings: [
            "prompt_truncated",
            "model_reloaded",
            "kv_cache_type_ignored",
            "prompt_cache_not_reused",
        ]
        .iter()
        .map(|id| match cclocal::findings::severity_of(id) {
            Some(_) => Finding::of(id, format!("{id} in the log")),
            None => Finding::graded(id, Severity::Warning, format!("{id} in the log")),
        })
        .map(|x| x.detail("why"))
        .collect(),
        error: None,
        rates: None,
        ..Default::default()
    };
    let mut f = healthy();
    f.server.local = true;
    f.server_log = vec![log("ollama"), log("llama-server")];
    let got: Vec<(Section, Finding)> = all(&f)
        .into_iter()
        .filter(|(_, x)| x.title.ends_with("in the log"))
        .collect();
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(got
        .iter()
        .all(|(s, x)| *s == Section::Server && x.detail == "why (from /home/u/ollama.log)"));
    // A remote server: the logs on this machine are not its logs.
    f.server.local = false;
    assert!(all(&f)
        .iter()
        .all(|(_, x)| !x.title.ends_with("in the log")));
}

#[test]
fn verify_result_and_its_age() {
    let mut f = healthy();
    let last = |ok: bool, version: &str| VerifyFacts {
        path: "/h/.local/state/cclocal/verify-last.json".into(),
        age_s: 180,
        age: "3 min ago".into(),
        version: version.into(),
        ok,
        mismatches: if ok {
            vec![]
        } else {
            vec!["effectiveWindow: 980000 (planned 57344)".into()]
        },
        table: vec![],
    };
    f.verify = Some(last(true, "2.1.332"));
    let x = find(&f, "verify_mismatch");
    assert_eq!(x.severity, Severity::Ok);
    assert!(
        x.title.contains("3 min ago") && x.title.contains("2.1.332"),
        "{}",
        x.title
    );
    f.verify = Some(last(false, "2.1.332"));
    let x = find(&f, "verify_mismatch");
    assert_eq!(x.severity, Severity::Warning);
    assert!(x.detail.contains("980000"), "{}", x.detail);
    assert!(x.fix.contains("cclocal verify"));
    // A result of another Claude Code than the installed one is stale.
    f.verify = Some(last(true, "2.1.197"));
    let x = find(&f, "verify_mismatch");
    assert_eq!(x.severity, Severity::Warning);
    assert!(x.title.contains("2.1.332 is installed now"), "{}", x.title);
    f.verify = None;
    assert!(all(&f).iter().all(|(_, x)| x.id != "verify_mismatch"));
}

#[test]
fn ids_are_covered_by_tests() {
    // Every registered id is named in this file (a test exercises it).
    let src = include_str!("doctor_rules.rs");
    for id in IDS {
        assert!(
            src.matches(&format!("\"{id}\"")).count() >= 1,
            "no rule test for {id}"
        );
    }
}

#[test]
fn setup_drift_against_what_is_live() {
    use cclocal::doctor::facts::SetupFacts;
    use cclocal::setup::config::{ClaudeConfig, ModelConfig, ServerConfig, SetupConfig};
    let config = |ctx: u64, kv: &str, claude: &str| SetupConfig {
        version: 1,
        server: ServerConfig {
            kind: cclocal::server::ServerKind::Ollama,
            url: "http://127.0.0.1:11434".into(),
            flash_attention: true,
            kv_cache_type: Some(kv.into()),
            keep_alive: "1h".into(),
        },
        model: ModelConfig {
            name: "qwen3-coder-next".into(),
            context: ctx,
        },
        claude: ClaudeConfig {
            version: claude.into(),
            launcher_name: "claude-local".into(),
            launcher_path: "/h/.local/bin/claude-local".into(),
            settings_path: "/h/.config/cclocal/claude-settings.json".into(),
        },
        target: "linux".into(),
        wrote: vec!["launcher".into(), "server".into()],
        llama_server: None,
        chosen: None,
    };
    let with = |c: SetupConfig| {
        let mut f = healthy();
        f.setup = Some(SetupFacts {
            path: "/h/.config/cclocal/config.toml".into(),
            config: Some(c),
            error: None,
            paths: None,
        });
        f
    };
    // What setup wrote is what is live: nothing to say.
    let f = with(config(65_536, "q8_0", "2.1.332"));
    assert!(all(&f).iter().all(|(_, x)| x.id != "setup_drift"));
    // The server serves another context and KV type.
    let f = with(config(131_072, "q4_0", "2.1.332"));
    let d = find(&f, "setup_drift");
    assert_eq!(d.severity, Severity::Warning);
    assert!(
        d.detail.contains("131072-token context") && d.detail.contains("serves 65536"),
        "{}",
        d.detail
    );
    assert!(
        d.detail.contains("OLLAMA_KV_CACHE_TYPE=q4_0"),
        "{}",
        d.detail
    );
    // Issue 21: running setup again writes the same files; the server must restart.
    assert!(
        d.fix
            .starts_with("sudo systemctl daemon-reload && sudo systemctl restart ollama")
            && d.fix
                .contains("OLLAMA_CONTEXT_LENGTH=131072 OLLAMA_KV_CACHE_TYPE=q4_0"),
        "{}",
        d.fix
    );
    // Claude Code was upgraded across a version gate since setup ran.
    let f = with(config(65_536, "q8_0", "2.1.197"));
    let d = find(&f, "setup_drift");
    assert_eq!(d.severity, Severity::Warning);
    assert!(d.fix.starts_with("run `cclocal setup` again"), "{}", d.fix);
    assert!(
        d.detail
            .contains("computed for 2.1.197, 2.1.332 is installed"),
        "{}",
        d.detail
    );
    // Within the same gate it is only information.
    let f = with(config(65_536, "q8_0", "2.1.330"));
    assert_eq!(find(&f, "setup_drift").severity, Severity::Info);
    // An unreadable file.
    let mut f = healthy();
    f.setup = Some(SetupFacts {
        path: "/h/c.toml".into(),
        config: None,
        error: Some("expected `=`".into()),
        paths: None,
    });
    assert!(find(&f, "setup_drift").title.contains("cannot be read"));
}

/// Issue 21: a server that runs a smaller context than setup configured (never restarted)
/// gets one fix from all three findings it causes: restart it with what setup wrote. Not
/// "run setup again" (which changes nothing), not "lower Claude Code's window".
#[test]
fn drift_context_and_small_context_point_one_way() {
    use cclocal::doctor::facts::SetupFacts;
    use cclocal::setup::config::{ClaudeConfig, ModelConfig, ServerConfig, SetupConfig};
    for (kind, restart, xdg) in [
        ("vllm", "stop vLLM and start it again with the line setup wrote: sh ~/.config/cclocal/server/vllm-serve.sh"),
        ("llama-server", "systemctl --user restart cclocal-llama-server.service"),
        ("ollama", "sudo systemctl daemon-reload && sudo systemctl restart ollama"),
    ]
    .into_iter()
    .flat_map(|(k, r)| [(k, r, false), (k, r, true)])
    {
        // With XDG_CONFIG_HOME outside HOME the fix names the files where setup wrote them.
        let restart = if xdg {
            restart.replace("~/.config/cclocal/", "/xdg/cclocal/")
        } else {
            restart.to_string()
        };
        let paths = xdg.then(|| {
            cclocal::paths::Paths::from_vars(
                |k| match k {
                    "HOME" => Some("/h".into()),
                    "XDG_CONFIG_HOME" => Some("/xdg".into()),
                    _ => None,
                },
                None,
            )
            .unwrap()
        });
        let mut f = healthy();
        f.server.kind = Some(match kind {
            "vllm" => cclocal::server::ServerKind::Vllm,
            "llama-server" => cclocal::server::ServerKind::LlamaServer,
            _ => cclocal::server::ServerKind::Ollama,
        });
        f.server_config = None;
        f.server.llama_command = None;
        f.claude.as_mut().unwrap().launcher = Some("/h/.local/bin/claude-local".into());
        f.model.as_mut().unwrap().served_context = Some(16_384);
        f.setup = Some(SetupFacts {
            path: "/h/.config/cclocal/config.toml".into(),
            config: Some(SetupConfig {
                version: 1,
                server: ServerConfig {
                    kind: cclocal::server::ServerKind::parse(kind).unwrap(),
                    url: "http://127.0.0.1:8000".into(),
                    flash_attention: true,
                    kv_cache_type: Some("q8_0".into()),
                    keep_alive: "1h".into(),
                },
                model: ModelConfig {
                    name: "qwen3-coder-next".into(),
                    context: 65_536,
                },
                claude: ClaudeConfig {
                    version: "2.1.332".into(),
                    launcher_name: "claude-local".into(),
                    launcher_path: "/h/.local/bin/claude-local".into(),
                    settings_path: "/h/.config/cclocal/claude-settings.json".into(),
                },
                target: "linux".into(),
                wrote: vec!["launcher".into(), "server".into()],
                llama_server: None,
                chosen: None,
            }),
            error: None,
            paths,
        });
        let got = all(&f);
        let fixes: Vec<(&str, &str)> = got
            .iter()
            .filter(|(_, x)| {
                ["setup_drift", "context_mismatch", "server_context_small"].contains(&x.id)
                    && x.severity >= Severity::Warning
            })
            .map(|(_, x)| (x.id, x.fix.as_str()))
            .collect();
        assert!(fixes.len() >= 2, "{kind}: {fixes:?}");
        for (id, fix) in &fixes {
            assert!(fix.starts_with(&restart), "{kind}: {id}: {fix}");
            if kind == "llama-server" {
                let unit = if xdg {
                    "/xdg/systemd/user/cclocal-llama-server.service"
                } else {
                    "~/.config/systemd/user/cclocal-llama-server.service"
                };
                assert!(fix.contains(unit), "{kind}: {id}: {fix}");
            }
        }
    }
}

/// Issue 21: with no model set, Claude Code sends a `claude-*` name, gives it its own
/// window and ignores CLAUDE_CODE_MAX_CONTEXT_TOKENS: the window fix names the model too.
#[test]
fn the_window_fix_names_the_model_when_none_is_set() {
    let mut f = healthy();
    let c = f.claude.as_mut().unwrap();
    c.env.remove("ANTHROPIC_MODEL");
    c.env.remove("CLAUDE_CODE_MAX_CONTEXT_TOKENS");
    c.env.remove("CLAUDE_CODE_AUTO_COMPACT_WINDOW");
    c.model = None;
    f.model.as_mut().unwrap().served_context = Some(32_768);
    let d = find(&f, "context_mismatch");
    assert!(
        d.fix.contains("ANTHROPIC_MODEL=qwen3-coder-next:latest"),
        "{}",
        d.fix
    );
    // A model that is set is not set again.
    let mut f = healthy();
    let c = f.claude.as_mut().unwrap();
    c.env.remove("CLAUDE_CODE_MAX_CONTEXT_TOKENS");
    c.env.remove("CLAUDE_CODE_AUTO_COMPACT_WINDOW");
    f.model.as_mut().unwrap().served_context = Some(32_768);
    let d = find(&f, "context_mismatch");
    assert!(!d.fix.contains("ANTHROPIC_MODEL"), "{}", d.fix);
}

/// A walk found it: `doctor --host` on a llama-server at another port printed
/// `cclocal setup --server llama-server …` without `--host`; applied as printed, setup wrote a
/// unit for port 8080, not the server the doctor checked.
#[test]
fn a_llama_server_setup_fix_names_the_server_the_doctor_checked() {
    use cclocal::server::ServerKind;
    let small = |url: &str| {
        let mut f = healthy();
        f.server.kind = Some(ServerKind::LlamaServer);
        f.server.url = url.into();
        f.model.as_mut().unwrap().served_context = Some(8_192);
        find(&f, "server_context_small").fix
    };
    let fix = small("http://127.0.0.1:18555");
    assert!(
        fix.contains("cclocal setup --server llama-server --host http://127.0.0.1:18555 "),
        "{fix}"
    );
    let fix = small("http://127.0.0.1:8080");
    assert!(
        fix.contains("cclocal setup --server llama-server --ctx "),
        "{fix}"
    );
}

#[test]
fn server_kind_rules() {
    use cclocal::server::ServerKind;
    // Something that is not an LLM server: one error naming what answered, nothing else
    // about the server (no model_missing, no server_too_old).
    let mut f = healthy();
    f.server.kind = Some(ServerKind::Unknown);
    f.server.answered = Some("a web page titled \"Router admin\"".into());
    f.server.messages_api = Some(false);
    f.server.version = None;
    f.server.models[0].presence = Presence::Missing;
    let got = find(&f, "server_not_llm");
    assert_eq!(got.severity, Severity::Error);
    assert!(got.detail.contains("Router admin"));
    let ids: Vec<String> = all(&f).into_iter().map(|(_, x)| x.id.to_string()).collect();
    assert!(!ids.contains(&"model_missing".to_string()), "{ids:?}");
    assert!(!ids.contains(&"server_too_old".to_string()), "{ids:?}");
    // An unknown server that speaks /v1/messages is only named.
    f.server.messages_api = Some(true);
    assert_eq!(find(&f, "server_kind_unknown").severity, Severity::Info);
    // A loading llama-server is up, not unreachable.
    let mut f = healthy();
    f.server.kind = Some(ServerKind::LlamaServer);
    f.server.loading = true;
    assert_eq!(find(&f, "server_loading").severity, Severity::Warning);
    // mlx_lm.server has no /v1/messages: the fix names the working routes.
    let mut f = healthy();
    f.server.kind = Some(ServerKind::MlxLm);
    f.server.messages_api = Some(false);
    let got = find(&f, "messages_api_missing");
    assert!(
        got.fix.contains("vllm-mlx serve MODEL_FOLDER") && got.fix.contains("oMLX"),
        "{}",
        got.fix
    );
    // With the model it lists (its path): vllm-mlx for that folder, on the same port.
    f.server.url = "http://127.0.0.1:8080".into();
    f.server.backend = Some(cclocal::server::backend::BackendFacts {
        models: vec![cclocal::server::backend::BackendModel::new(
            "/m/Qwen3-8B-4bit",
        )],
        ..Default::default()
    });
    let got = find(&f, "messages_api_missing");
    assert!(
        got.fix.contains("stop mlx_lm.server, then run vllm-mlx serve /m/Qwen3-8B-4bit --served-model-name qwen3-coder-next:latest --max-kv-size 65536 --host 127.0.0.1 --port 8080"),
        "{}",
        got.fix
    );
}

#[test]
fn config_files_tokens_and_launcher_fixes() {
    let mut f = healthy();
    claude(&mut f)
        .file_errors
        .push("/h/.claude.json: invalid JSON (EOF while parsing)".into());
    let got = find(&f, "claude_config_unreadable");
    assert_eq!(got.severity, Severity::Warning);
    assert!(got.detail.contains("/h/.claude.json"));
    let mut f = healthy();
    claude(&mut f).env.remove("ANTHROPIC_AUTH_TOKEN");
    claude(&mut f).env.remove("ANTHROPIC_API_KEY");
    let got = find(&f, "auth_token_missing");
    assert!(got.fix.contains("ANTHROPIC_AUTH_TOKEN="), "{}", got.fix);
    claude(&mut f).launcher = Some("/h/.local/bin/claude-local".into());
    assert!(find(&f, "auth_token_missing")
        .fix
        .starts_with("cclocal setup"));
    let mut f = healthy();
    claude(&mut f).env.remove("CLAUDE_CODE_ATTRIBUTION_HEADER");
    claude(&mut f).launcher = Some("/h/.local/bin/claude-local".into());
    let got = find(&f, "cache_buster");
    assert!(got.fix.starts_with("cclocal setup"), "{}", got.fix);
}

#[test]
fn llama_server_rules() {
    use cclocal::server::llama_server::{parse_command, LlamaFacts};
    use cclocal::server::ServerKind;
    let llama = |f: &mut Facts, slots: u64, ctx: u64| {
        f.server.kind = Some(ServerKind::LlamaServer);
        f.server.llama = Some(LlamaFacts {
            build_info: Some("b11434-abc".into()),
            build: Some(11434),
            total_slots: Some(slots),
            slot_context: Some(ctx),
            template_supports_tools: Some(true),
            ..Default::default()
        });
    };
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut f = healthy();
    llama(&mut f, 4, 16_384);
    f.server.llama_command = Some(parse_command(
        &args(&["-np", "4", "-c", "65536"]),
        &Default::default(),
    ));
    let got = find(&f, "llama_slots_split");
    assert_eq!(got.severity, Severity::Warning);
    assert!(
        got.fix.contains("--parallel 1 --ctx-size 65536"),
        "{}",
        got.fix
    );
    let mut f = healthy();
    llama(&mut f, 1, 65_536);
    f.server.llama_command = Some(parse_command(&args(&["--no-jinja"]), &Default::default()));
    assert_eq!(find(&f, "llama_no_jinja").severity, Severity::Error);
    let mut f = healthy();
    llama(&mut f, 1, 65_536);
    f.server.llama.as_mut().unwrap().template_supports_tools = Some(false);
    assert_eq!(
        find(&f, "llama_template_no_tools").severity,
        Severity::Warning
    );
    let mut f = healthy();
    llama(&mut f, 1, 65_536);
    f.server.llama.as_mut().unwrap().build = Some(8000);
    claude(&mut f).env.remove("CLAUDE_CODE_ATTRIBUTION_HEADER");
    assert!(find(&f, "llama_build_old")
        .fix
        .contains("CLAUDE_CODE_ATTRIBUTION_HEADER=0"));
}

/// LM Studio facts with `models` (id, loaded context) and the one Claude Code model `main`.
fn lm_studio(models: &[(&str, Option<u64>)], main: &str) -> Facts {
    use cclocal::server::backend::{BackendFacts, BackendModel};
    let mut f = healthy();
    f.server.kind = Some(cclocal::server::ServerKind::LmStudio);
    f.server.loaded.clear();
    f.server.backend = Some(BackendFacts {
        sources: vec!["GET /api/v1/models".into()],
        models: models
            .iter()
            .map(|(id, ctx)| BackendModel {
                loaded: ctx.is_some(),
                context: *ctx,
                key: Some(id.to_string()),
                ..BackendModel::new(id)
            })
            .collect(),
        ..Default::default()
    });
    f.server.models[0].name = main.into();
    f.server.models.truncate(1);
    claude(&mut f).model = Some(main.into());
    f.model = None;
    f
}

#[test]
fn lm_studio_rules() {
    let f = lm_studio(&[("qwen/qwen3-coder-30b", None)], "qwen/qwen3-coder-30b");
    let x = find(&f, "lmstudio_nothing_loaded");
    assert!(
        x.fix
            .starts_with("lms load qwen/qwen3-coder-30b --context-length 65536 --gpu max"),
        "{}",
        x.fix
    );
    let f = lm_studio(&[("a/b", Some(65_536)), ("c/d", Some(65_536))], "qwen3");
    assert_eq!(
        find(&f, "lmstudio_models_ambiguous").severity,
        Severity::Error
    );
    let f = lm_studio(&[("a/b", Some(65_536))], "qwen3");
    assert_eq!(
        find(&f, "lmstudio_model_unmatched").severity,
        Severity::Warning
    );
    let mut f = lm_studio(&[("a/b", Some(65_536))], "a/b");
    f.server
        .backend
        .as_mut()
        .unwrap()
        .notes
        .push("GET /api/v1/models → HTTP 500, JSON, 9 bytes".into());
    assert!(find(&f, "server_answer_unreadable")
        .detail
        .contains("HTTP 500"));
    assert!(all(&f).iter().all(|(_, x)| !x.id.starts_with("lmstudio_")));
}

#[test]
fn setup_drift_against_a_live_llama_server() {
    use cclocal::server::llama_server::{parse_command, LlamaFacts};
    use cclocal::server::ServerKind;
    let mut f = healthy();
    f.server.kind = Some(ServerKind::LlamaServer);
    f.server.llama = Some(LlamaFacts {
        total_slots: Some(1),
        slot_context: Some(8192),
        ..Default::default()
    });
    f.server.llama_command = Some(parse_command(
        &["-c".to_string(), "8192".to_string()],
        &Default::default(),
    ));
    let m = f.model.as_mut().unwrap();
    m.name = "/models/x.gguf".into();
    m.served_context = Some(8192);
    use cclocal::doctor::facts::SetupFacts;
    let toml = r#"
version = 1
target = "linux"
wrote = ["launcher", "server"]
[server]
kind = "llama-server"
url = "http://127.0.0.1:8080"
flash_attention = true
kv_cache_type = "q8_0"
keep_alive = ""
[model]
name = "x"
context = 32768
[claude]
version = "2.1.332"
launcher_name = "claude-local"
launcher_path = "/h/.local/bin/claude-local"
settings_path = "/h/.config/cclocal/claude-settings.json"
"#;
    let cfg = cclocal::setup::config::SetupConfig::from_toml(toml).unwrap();
    f.setup = Some(SetupFacts {
        path: "/h/.config/cclocal/config.toml".into(),
        config: Some(cfg),
        error: None,
        paths: None,
    });
    let got = find(&f, "setup_drift");
    assert!(
        got.detail.contains("32768") && got.detail.contains("8192"),
        "{}",
        got.detail
    );
    assert!(got.detail.contains("--cache-type-k q8_0"), "{}", got.detail);
}

#[test]
fn a_missing_launcher_is_named() {
    let mut f = healthy();
    claude(&mut f).launcher_error = Some("/h/.local/bin/claude-local: No such file".into());
    let got = find(&f, "launcher_missing");
    assert!(got.fix.starts_with("cclocal setup"), "{}", got.fix);
}

/// vLLM facts: one served model `m` (loaded from `root`, at `ctx`), local, and whether a
/// request with tools and auto tool choice was refused.
fn vllm(ctx: u64, tools_refused: bool) -> Facts {
    use cclocal::server::backend::BackendModel;
    use cclocal::server::vllm::ToolChoice;
    let mut f = lm_studio(&[("m", Some(ctx))], "m");
    f.server.kind = Some(cclocal::server::ServerKind::Vllm);
    f.server.url = "http://127.0.0.1:8111".into();
    f.server.version = Some("0.32.0".into());
    let b = f.server.backend.as_mut().unwrap();
    b.sources = vec!["GET /v1/models".into()];
    b.models = vec![BackendModel {
        loaded: true,
        context: Some(ctx),
        path: Some("Qwen/Qwen3-Coder-30B-A3B-Instruct".into()),
        ..BackendModel::new("m")
    }];
    b.tool_choice = Some(ToolChoice {
        auto_ok: !tools_refused,
        message: tools_refused.then(|| "\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set".into()),
    });
    f
}

#[test]
fn vllm_rules() {
    let f = vllm(65_536, true);
    let x = find(&f, "vllm_tools_off");
    assert_eq!(x.severity, Severity::Error);
    assert!(
        x.detail.contains("--enable-auto-tool-choice"),
        "{}",
        x.detail
    );
    assert!(
        x.fix.ends_with(
            "vllm serve Qwen/Qwen3-Coder-30B-A3B-Instruct --served-model-name m --max-model-len 65536 --enable-auto-tool-choice --tool-call-parser qwen3_coder --host 127.0.0.1 --port 8111"
        ),
        "{}",
        x.fix
    );
    let f = vllm(65_536, false);
    assert!(all(&f).iter().all(|(_, x)| x.id != "vllm_tools_off"));
    // A small context: the fix is the complete line; its memory words follow the machine.
    let mut f = vllm(8192, false);
    f.model.get_or_insert_with(Default::default).name = "m".into();
    f.model.as_mut().unwrap().served_context = Some(8192);
    let gpu = find(&f, "server_context_small");
    assert!(
        gpu.fix.contains("--enable-auto-tool-choice")
            && gpu.fix.contains("--gpu-memory-utilization"),
        "{}",
        gpu.fix
    );
    f.machine.budget.as_mut().unwrap().gpu = false;
    let cpu = find(&f, "server_context_small");
    assert!(
        !cpu.fix.contains("GPU") && !cpu.fix.contains("gpu"),
        "{}",
        cpu.fix
    );
    assert!(cpu.fix.contains("VLLM_CPU_KVCACHE_SPACE"), "{}", cpu.fix);
}

/// vllm-mlx refuses a `max_tokens` above its `--max-request-tokens` before reading the
/// request: with Claude Code asking for more, every request fails.
#[test]
fn vllm_mlx_max_request_tokens_below_claude_codes_max_tokens() {
    let mut f = vllm(32_768, false);
    f.server.kind = Some(cclocal::server::ServerKind::VllmMlx);
    let b = f.server.backend.as_mut().unwrap();
    b.tool_choice = None;
    b.max_request_tokens = Some(4096);
    // The healthy Claude Code asks for 8192 (CLAUDE_CODE_MAX_OUTPUT_TOKENS).
    let x = find(&f, "vllm_mlx_max_tokens_refused");
    assert_eq!(x.severity, Severity::Error);
    assert!(
        x.title.contains("4096") && x.title.contains("8192"),
        "{}",
        x.title
    );
    assert!(
        x.fix.contains("CLAUDE_CODE_MAX_OUTPUT_TOKENS=4096"),
        "{}",
        x.fix
    );
    assert!(x.fix.contains("--max-request-tokens 8192"), "{}", x.fix);
    // vllm-mlx's default (32768) takes what Claude Code asks for.
    f.server.backend.as_mut().unwrap().max_request_tokens = Some(32_768);
    assert!(all(&f)
        .iter()
        .all(|(_, x)| x.id != "vllm_mlx_max_tokens_refused"));
    // Without a setting, Claude Code 2.1.332 asks for 32000: still within the default.
    claude(&mut f).env.remove("CLAUDE_CODE_MAX_OUTPUT_TOKENS");
    assert!(all(&f)
        .iter()
        .all(|(_, x)| x.id != "vllm_mlx_max_tokens_refused"));
}
