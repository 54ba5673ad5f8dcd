//! The server-log reader on real llama-server b11434 logs and on Ollama lines from its
//! source's log calls (tests/fixtures/server-logs/README.md), each with a hand-worked summary.

use std::path::PathBuf;

use cclocal::logs::serverlog::{
    self, analyze_files, join, Clock, OllamaRunner, ReloadReason, ServerAnalysis, Window,
};
use cclocal::server::ServerKind;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/server-logs")
        .join(name)
}

fn read(name: &str) -> ServerAnalysis {
    analyze_files(&[fixture(name)]).unwrap()
}

type Row = (
    u64,
    Option<u64>,
    Option<u64>,
    Option<u64>,
    Option<f64>,
    Option<f64>,
);

fn ids(f: &[cclocal::findings::Finding]) -> Vec<&'static str> {
    f.iter().map(|f| f.id).collect()
}

#[test]
fn b11434_claude_session_tasks() {
    let a = read("llama-server-b11434-claude-session.log");
    assert_eq!(a.kind, ServerKind::LlamaServer);
    assert_eq!(a.ollama_runner, None);
    assert_eq!(a.clock, Clock::Elapsed);
    assert_eq!(a.loads.len(), 1);
    assert_eq!(a.loads[0].context(), Some(32768));
    assert_eq!(a.loads[0].n_slots, Some(1));
    assert_eq!(
        a.loads[0].model.as_deref(),
        Some("/models/gemma-3-270m-q4_k_m.gguf")
    );
    // Hand-worked from the print_timing and release lines: prompt = n_tokens at release −
    // generated + 1; cached = prompt − evaluated (= the previous release's n_tokens, f_keep 1).
    let rows: Vec<Row> = a
        .tasks
        .iter()
        .map(|t| {
            (
                t.id,
                t.prompt_tokens,
                t.prompt_eval_tokens,
                t.cached_tokens(),
                t.prefill_ms,
                t.decode_ms,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                0,
                Some(3689),
                Some(3689),
                Some(0),
                Some(13535.29),
                Some(94906.30)
            ),
            (
                4100,
                Some(7865),
                Some(81),
                Some(7784),
                Some(685.60),
                Some(93793.12)
            ),
            (
                8199,
                Some(12041),
                Some(81),
                Some(11960),
                Some(811.59),
                Some(108364.91)
            ),
            (
                12298,
                Some(17533),
                Some(1397),
                Some(16136),
                Some(8961.29),
                Some(119305.96)
            ),
            (16398, None, None, None, None, None),
        ]
    );
    assert!(a.tasks[4].cancelled);
    assert_eq!(a.tasks[0].at, Some(15_830));
    assert_eq!(a.cached_tokens(), 35_880);
    assert_eq!(a.prompt_eval_tokens(), 5_248);
    assert!((a.prefill_ms() - 23_993.77).abs() < 0.01);
    assert!((a.decode_ms() - 416_370.29).abs() < 0.01);
    // No truncation, reload, KV or cache problem in this session.
    assert!(serverlog::findings(&a, Window::all()).is_empty());
}

#[test]
fn b11434_session_joins_claude_code_requests() {
    let claude =
        cclocal::logs::analyze_files(&[fixture("claude-2.1.332-session-against-llama-server.txt")])
            .unwrap();
    let server = read("llama-server-b11434-claude-session.log");
    let j = join::join(&claude, &server);
    assert_eq!(j.requests_considered, 5);
    assert_eq!(j.pairs.len(), 5, "{j:?}");
    // Request k ↔ task k, in order.
    let tasks: Vec<u64> = j.pairs.iter().map(|p| server.tasks[p.task].id).collect();
    assert_eq!(tasks, [0, 4100, 8199, 12298, 16398]);
    // Sent − launch: 00:28:30.256, .268, .263, .224, .211 → median .256 = the server's start.
    let o = j.main_offset().unwrap();
    assert_eq!(
        cclocal::logs::time::format_iso_ms(o.offset_ms),
        "2026-12-01T00:28:30.256Z"
    );
    let residuals: Vec<i64> = j.pairs.iter().map(|p| p.residual_ms).collect();
    assert_eq!(residuals, [0, 12, 7, -32, -45]);
    let s = join::summary(&claude, &server, &j);
    assert_eq!(s.matched, 5);
    assert_eq!(s.cached_tokens, 35_880);
    assert_eq!(s.prompt_tokens, 3689 + 7865 + 12041 + 17533);
    assert_eq!(s.prompt_tokens_evaluated, 5_248);
    assert!((s.prefill_ms - 23_993.77).abs() < 0.01);
    assert!((s.decode_ms - 416_370.29).abs() < 0.01);
    // Claude Code's log spans 00:28:45.408 → 00:37:05.030 = 499 622 ms.
    assert!((s.wall_ms - 499_622.0).abs() < 0.5);
    assert!((s.idle_ms - (499_622.0 - 23_993.77 - 416_370.29)).abs() < 0.01);
    // 23 993.77 ms / 5 248 tokens × 35 880 cached tokens ≈ 164 044 ms saved.
    assert!(
        (s.cache_saved_ms - 164_043.6).abs() < 1.0,
        "{}",
        s.cache_saved_ms
    );
    // Claude Code's first byte (13 593 ms) is the server's prefill (13 535 ms) plus overhead.
    let first = claude.requests[j.pairs[0].request].first_byte_ms.unwrap();
    assert_eq!(first, 13_593);
}

#[test]
fn b11434_second_run_joins_after_the_first() {
    // One server log holding two Claude Code runs: run 2's four requests match tasks 1906…
    let claude =
        cclocal::logs::analyze_files(&[fixture("claude-2.1.332-run2-maxout32.txt")]).unwrap();
    let server = read("llama-server-b11434-claude-runs.log");
    let j = join::join(&claude, &server);
    assert_eq!(j.pairs.len(), 4, "{j:?}");
    assert_eq!(server.tasks[j.pairs[0].task].id, 1906);
    assert_eq!(server.tasks[j.pairs[0].task].prompt_eval_tokens, Some(3700));
    // The retries reuse the cache: about 81 new tokens each.
    for p in &j.pairs[1..] {
        let t = &server.tasks[p.task];
        assert!(t.prompt_eval_tokens.unwrap() < 200, "{t:?}");
        assert!(t.cached_tokens().unwrap() > 3000, "{t:?}");
    }
}

#[test]
fn b11434_verbose_run_overflow_truncation_and_cache_misses() {
    let a = read("llama-server-b11434-verbose.log");
    let l = &a.loads[0];
    assert_eq!(
        (l.n_ctx, l.n_ctx_seq, l.n_seq_max),
        (Some(8192), Some(8192), Some(1))
    );
    assert_eq!(l.flash_attn.as_deref(), Some("auto"));
    assert_eq!(l.flash_resolved, Some(true));
    assert_eq!(l.kv.len(), 2);
    assert_eq!(l.kv_type(), Some("f16"));
    assert!((l.kv_mib() - 39.0).abs() < 1e-9);
    // The verbose log names every prompt size (`new prompt … task.n_tokens`).
    let t60 = a.tasks.iter().find(|t| t.id == 60).unwrap();
    assert_eq!(t60.overflow, Some((12024, 8192)));
    let t63 = a.tasks.iter().find(|t| t.id == 63).unwrap();
    assert!(t63.truncated);
    assert_eq!(
        (t63.prompt_tokens, t63.prompt_eval_tokens),
        (Some(8180), Some(8179))
    );
    let f = serverlog::findings(&a, Window::all());
    assert_eq!(ids(&f), ["prompt_truncated", "prompt_cache_not_reused"]);
    assert!(f[0].title.contains("refused 1 prompt"), "{}", f[0].title);
    assert!(f[0]
        .title
        .contains("1 reply(ies) stopped at a full context"));
    assert!(f[0]
        .detail
        .contains("request of 12024 tokens > context 8192"));
    // Tasks 37 (1848 of 1849) and 63 (8179 of 8180) re-evaluated their prompts.
    assert!(f[1].title.starts_with("2 request(s)"), "{}", f[1].title);
}

#[test]
fn b11434_excerpt_without_launch_lines() {
    // The billing-header capture is an excerpt: timing lines without their launch lines.
    let a = read("llama-server-b11434-billing.log");
    let t45 = a.tasks.iter().find(|t| t.id == 45).unwrap();
    assert_eq!(t45.prompt_eval_tokens, Some(1848));
    assert_eq!(t45.prompt_tokens, Some(1849));
}

#[test]
fn ollama_030_session() {
    let a = read("ollama-0.30-session.log");
    assert_eq!(a.kind, ServerKind::Ollama);
    assert_eq!(a.ollama_runner, Some(OllamaRunner::LlamaServer));
    assert_eq!(a.kind_name(), "ollama (llama-server runner, 0.30+)");
    assert_eq!(a.clock, Clock::Wall);
    assert_eq!(a.setting("OLLAMA_KV_CACHE_TYPE"), Some("q8_0"));
    assert_eq!(a.setting("OLLAMA_CONTEXT_LENGTH"), Some("16384"));
    assert_eq!(
        a.setting("OLLAMA_ORIGINS"),
        Some("[http://localhost https://localhost http://127.0.0.1]")
    );
    let reasons: Vec<ReloadReason> = a.loads.iter().map(|l| l.reason).collect();
    assert_eq!(
        reasons,
        [
            ReloadReason::First,
            ReloadReason::KeepAliveExpired,
            ReloadReason::DifferentContext
        ]
    );
    assert_eq!(a.loads[0].offload, Some((37, 37)));
    assert_eq!(a.loads[0].kv_requested.as_deref(), Some("q8_0"));
    assert_eq!(a.loads[2].context(), Some(32768));
    assert_eq!(a.truncations.len(), 1);
    let t = &a.truncations[0];
    assert_eq!((t.limit, t.prompt, t.keep, t.new), (8194, 34500, 4, 8194));
    // Two requests, their times from the [GIN] lines (local +01:00 → UTC).
    assert_eq!(a.tasks.len(), 2);
    assert_eq!(
        cclocal::logs::time::format_iso_ms(a.tasks[1].at.unwrap()),
        "2026-11-20T09:01:59.800Z"
    );
    assert_eq!(a.tasks[0].http.as_ref().map(|h| h.0), Some(200));
    let f = serverlog::findings(&a, Window::all());
    assert_eq!(
        ids(&f),
        [
            "prompt_truncated",
            "model_reloaded",
            "kv_cache_type_ignored",
            "prompt_cache_not_reused"
        ]
    );
    assert!(f[0].title.contains("cut 1 prompt(s), 26306 tokens dropped"));
    assert!(f[1].title.contains("2 more time(s)"), "{}", f[1].title);
    assert!(f[1].detail.contains("keep-alive expired"));
    assert!(f[1].detail.contains("different num_ctx"));
    assert!(f[2].title.contains("q8_0") && f[2].title.contains("f16"));
    assert!(f[2].detail.contains("flash attention is off"));
    assert!(f[2].fix.contains("OLLAMA_FLASH_ATTENTION=1"));
    // The doctor's view: since Ollama's last start (its one `server config` line): all of it.
    assert_eq!(serverlog::findings_recent(&a), f);
    // A later restart of Ollama leaves the earlier trouble out.
    let mut text = std::fs::read_to_string(fixture("ollama-0.30-session.log")).unwrap();
    text.push_str(r#"time=2026-11-20T11:00:00.000+01:00 level=INFO source=routes.go:1951 msg="server config" env="map[OLLAMA_CONTEXT_LENGTH:32768 OLLAMA_FLASH_ATTENTION:true OLLAMA_KV_CACHE_TYPE:q8_0]""#);
    text.push('\n');
    let later = serverlog::analyze_bytes(text.as_bytes());
    assert!(serverlog::findings_recent(&later).is_empty());
    assert_eq!(serverlog::findings(&later, Window::all()).len(), 4);
}

#[test]
fn ollama_pre_030_runner() {
    let a = read("ollama-0.24-runner.log");
    assert_eq!(a.kind, ServerKind::Ollama);
    assert_eq!(a.ollama_runner, Some(OllamaRunner::Go));
    assert_eq!(a.kind_name(), "ollama (go runner, before 0.30)");
    assert_eq!(a.loads.len(), 2);
    let l = &a.loads[0];
    assert_eq!(l.ctx_requested, Some(4096));
    assert_eq!(l.context(), Some(4096));
    assert_eq!(l.kv_type(), Some("q8_0"));
    assert_eq!(l.flash_on(), Some(true));
    assert_eq!(a.loads[1].reason, ReloadReason::OtherModel);
    assert_eq!(a.loads[1].ctx_requested, Some(8192));
    assert_eq!(a.loads[1].flash_requested.as_deref(), Some("off"));
    // Model routes only (GET /api/tags is not a request to the model).
    assert_eq!(a.tasks.len(), 2);
    assert_eq!(a.tasks[1].at, Some(a.tasks[1].end.unwrap() - 30_200));
    let f = serverlog::findings(&a, Window::all());
    assert_eq!(ids(&f), ["prompt_truncated", "model_reloaded"]);
    assert!(f[0].title.contains("5780 tokens dropped"), "{}", f[0].title);
    assert!(f[1].detail.contains("another model"));
}

#[test]
fn ollama_wall_clock_skew_is_found_and_shown() {
    // Claude Code's real session, and an Ollama log of the same requests written on a
    // machine whose clock runs 95 s ahead (GIN lines: end time and duration, zone from the
    // slog line before them).
    let claude =
        cclocal::logs::analyze_files(&[fixture("claude-2.1.332-session-against-llama-server.txt")])
            .unwrap();
    let skew = 95_000;
    let mut log = String::from(
        "time=2026-12-01T01:20:00.000+01:00 level=INFO source=routes.go:1951 msg=\"server config\" env=\"map[OLLAMA_CONTEXT_LENGTH:32768]\"\n",
    );
    for r in &claude.requests {
        let end = r.sent_ms + skew + 2_000 + 1_000; // 1 s of network and queueing, 2 s served
        let local = cclocal::logs::time::format_iso_ms(end + 3_600_000); // +01:00
        let (d, t) = (&local[..10], &local[11..19]);
        log.push_str(&format!(
            "[GIN] {} - {t} | 200 |          2s |       127.0.0.1 | POST     \"/v1/messages\"\n",
            d.replace('-', "/")
        ));
    }
    let server = serverlog::analyze_bytes(log.as_bytes());
    assert_eq!(server.clock, Clock::Wall);
    assert_eq!(server.tasks.len(), 5);
    let j = join::join(&claude, &server);
    assert_eq!(j.pairs.len(), 5);
    // GIN times have whole seconds: the skew comes back within a second.
    let off = j.main_offset().unwrap().offset_ms;
    assert!((off + skew + 1_000).abs() < 1_000, "offset {off}");
}

#[test]
fn doctor_view_is_since_the_last_start() {
    // Two llama-server runs in one file: the verbose one (a refused prompt) then the session.
    let mut text = std::fs::read(fixture("llama-server-b11434-verbose.log")).unwrap();
    text.extend(std::fs::read(fixture("llama-server-b11434-claude-session.log")).unwrap());
    let a = serverlog::analyze_bytes(&text);
    assert_eq!(a.loads.len(), 2);
    assert_eq!(a.loads[1].epoch, 1);
    // 8192 then 32768 tokens.
    assert_eq!(a.loads[1].reason, ReloadReason::DifferentContext);
    let all = ids(&serverlog::findings(&a, Window::all()));
    assert!(all.contains(&"prompt_truncated"), "{all:?}");
    assert!(serverlog::findings_recent(&a).is_empty());
    // The doctor's entry point finds Ollama's app log under HOME and names it.
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".ollama/logs");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixture("ollama-0.30-session.log"), dir.join("server.log")).unwrap();
    let f = serverlog::recent_findings(home.path());
    assert_eq!(
        ids(&f),
        [
            "prompt_truncated",
            "model_reloaded",
            "kv_cache_type_ignored",
            "prompt_cache_not_reused"
        ]
    );
    assert!(f[0]
        .detail
        .ends_with(&format!("(from {})", dir.join("server.log").display())));
}

#[test]
fn old_two_line_timing_block() {
    // Older builds print the timing block as one entry: a header, then unprefixed figures.
    let log = "\
0.00.001.000 I slot launch_slot_: id  0 | task 124 | processing task, is_child = 0
0.00.009.000 I slot print_timing: id  0 | task 124 | 
prompt eval time =     900.00 ms /  1369 tokens (    0.66 ms per token,  1521.11 tokens per second)
       eval time =     500.00 ms /    10 tokens (   50.00 ms per token,    20.00 tokens per second)
      total time =    1400.00 ms /  1379 tokens
0.00.009.100 I slot      release: id  0 | task 124 | stop processing: n_tokens = 1378, truncated = 0
";
    let a = serverlog::analyze_bytes(log.as_bytes());
    assert_eq!(a.tasks.len(), 1);
    let t = &a.tasks[0];
    assert_eq!(
        (t.prompt_eval_tokens, t.eval_tokens),
        (Some(1369), Some(10))
    );
    assert_eq!(t.prefill_ms, Some(900.0));
    assert_eq!(t.prompt_tokens, Some(1369));
    assert_eq!(t.cached_tokens(), Some(0));
}
