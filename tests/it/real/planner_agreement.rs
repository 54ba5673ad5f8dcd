//! Issue 19's agreement matrix on the REAL llama-server (the fake servers' matrices are in
//! `tests/it/planner_agreement.rs`): plan, setup, doctor and status give the same context and
//! KV cache type.

use crate::support;

use crate::planner_agreement::CLAUDE;
use std::time::Duration;
use support::agree::{
    assert_status_names_plan, claude_env_disagreeing, configured, doctor_plan, errors, finding,
    fixes_disagreeing, ids, json,
};
use support::real_llama_server::{free_port, setup_unit_with, RealLlamaServer};
use support::setup_home::TestHome;

/// The matrix on the REAL llama-server with the real gemma3-270m (a sliding-window model):
/// three budgets where the planner chooses q4_0, q8_0 and f16 (each at the trained 32768) ×
/// Claude Code versions. plan and setup's config.toml and unit agree (the same unit for every
/// version); the real server started with setup's unit is clean for doctor and status; the
/// real server at 16384 gets the plan's context and cache type as the fix, and status names
/// the plan. One real server per budget serving the plan, one at 16384.
#[test]
fn real_llama_server_agrees_over_a_matrix() {
    let (Some(bin), Some(gemma)) = (support::llama_server_bin(), support::gemma_path()) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let mut kv_seen = std::collections::BTreeSet::new();
    let mut cells = 0;
    for memory in ["1.81GiB", "1.85GiB", "2GiB"] {
        let port = free_port();
        let mut homes = Vec::new();
        let mut unit: Option<(Vec<String>, Vec<String>)> = None;
        for claude in CLAUDE {
            let case = format!("llama-server: gemma3-270m on {memory} for Claude Code {claude}");
            let t = TestHome::new();
            support::fake_claude_version(&t.dir.path().join("bin"), claude);
            let (j, code) = json(
                &t,
                &[
                    "plan",
                    gemma.to_str().unwrap(),
                    "--memory",
                    memory,
                    "--claude-version",
                    claude,
                    "--json",
                ],
            );
            assert_eq!(code, 0, "plan: {case}: {j}");
            let planned = (
                j["recommended"]["n_ctx"].as_u64().unwrap(),
                j["recommended"]["kv_type"].as_str().unwrap().to_string(),
            );
            eprintln!("{case}: {planned:?}");
            kv_seen.insert(planned.1.clone());
            let argv = setup_unit_with(
                &t,
                &gemma,
                &bin,
                port,
                &[
                    "--no-verify",
                    "--memory",
                    memory,
                    "--claude-version",
                    claude,
                ],
            );
            let bad = claude_env_disagreeing(&t, &j);
            assert!(bad.is_empty(), "Claude Code settings: {case}: {bad:?}");
            assert_eq!(configured(&t), planned, "setup: {case}");
            let words = argv.join(" ");
            for want in [
                format!("--ctx-size {}", planned.0),
                format!("--cache-type-k {}", planned.1),
                format!("--cache-type-v {}", planned.1),
            ] {
                assert!(words.contains(&want), "setup's unit: {case}: {words}");
            }
            // The same unit for every version, but for the log file in each HOME.
            let home = t.home().display().to_string();
            let same: Vec<String> = argv.iter().map(|w| w.replace(&home, "~")).collect();
            match &unit {
                None => unit = Some((argv, same)),
                Some((_, u)) => assert_eq!(&same, u, "one unit for every version: {case}"),
            }
            homes.push((t, planned, case));
        }
        // The real server started with setup's unit: doctor plans the same and is clean.
        let server = RealLlamaServer::start_argv(
            &unit.as_ref().unwrap().0,
            port,
            &out.path().join(format!("plan-{memory}.txt")),
            Duration::from_secs(120),
        );
        for (t, planned, case) in &homes {
            let (doc, _) = json(t, &["doctor", "--json"]);
            let bad = fixes_disagreeing(&doc, planned.0, Some(&planned.1));
            assert!(bad.is_empty(), "doctor's fixes: {case}: {bad:#?}");
            assert_eq!(doc["facts"]["server"]["kind"], "llama-server", "{case}");
            assert_eq!(&doctor_plan(&doc), planned, "doctor: {case}");
            assert_eq!(
                doc["facts"]["model"]["memory"]["kv_type"], planned.1,
                "{case}"
            );
            assert!(errors(&doc).is_empty(), "{case}: {:?}", errors(&doc));
            let (st, code) = json(t, &["status", "--json"]);
            assert_eq!(code, 0, "status: {case}: {:?}", ids(&st));
            assert!(
                !ids(&st).iter().any(|i| i == "setup_drift"),
                "status: {case}: {:?}",
                ids(&st)
            );
        }
        drop(server);
        // The real server at 16384 on the same address.
        let argv: Vec<String> = [
            bin.to_str().unwrap(),
            "-m",
            gemma.to_str().unwrap(),
            "-c",
            "16384",
            "-np",
            "1",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let server = RealLlamaServer::start_argv(
            &argv,
            port,
            &out.path().join(format!("small-{memory}.txt")),
            Duration::from_secs(120),
        );
        for (t, planned, case) in &homes {
            let (doc, code) = json(t, &["doctor", "--json"]);
            let bad = fixes_disagreeing(&doc, planned.0, Some(&planned.1));
            assert!(bad.is_empty(), "doctor's fixes: {case}: {bad:#?}");
            assert_eq!(code, 1, "doctor at 16384: {case}: {:?}", ids(&doc));
            let fix = finding(&doc, "server_context_small")["fix"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            // The fix restarts the unit setup wrote, which serves the plan (above).
            assert!(
                fix.contains("systemctl --user restart cclocal-llama-server.service"),
                "doctor at 16384: {case}: {fix}"
            );
            assert_status_names_plan(t, planned.0, case);
            cells += 1;
        }
        drop(server);
    }
    eprintln!("llama-server: {cells} cells");
    assert_eq!(kv_seen.len(), 3, "{kv_seen:?}");
}
