//! `cclocal logs`: where a Claude Code session's time went, read from its debug log.
//!
//! `cclocal logs PATH` or `--latest` analyses one log (rotated parts first); without either it
//! lists the recent sessions in the debug directory. Exit codes as every reporting command
//! (`crate::findings::exit_code`): 1 when a finding is an error (or, with `--strict`, a
//! warning) or the log cannot be read, 2 on usage errors, else 0.

use std::path::PathBuf;

use serde_json::{json, Value};

use super::args;
use crate::error::{Error, Result};
use crate::findings::Finding;
use crate::logs::time::format_iso_ms;
use crate::logs::{self, Analysis, DebugEnv, Request};

mod follow;
mod human;
mod server;
mod what_if;
use human::human;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "--host: the server context is read live from that server, for the log's model; --server-ctx wins when both are given."
)]
pub struct LogsArgs {
    /// A Claude Code debug log (`claude --debug-file PATH`, or ~/.claude/debug/<session>.txt).
    #[arg(value_name = "PATH", conflicts_with = "latest")]
    pub path: Option<PathBuf>,
    /// The log `~/.claude/debug/latest` points at ($CLAUDE_CODE_DEBUG_LOGS_DIR/latest or
    /// $CLAUDE_CONFIG_DIR/debug/latest when set).
    #[arg(long)]
    pub latest: bool,
    /// The server's context length in tokens (32768 or 32K), to check Claude Code's window
    /// against it.
    #[arg(long, value_name = args::TOKENS, value_parser = args::ctx)]
    pub server_ctx: Option<u64>,
    /// Print JSON: {"requests": [...], "summary": {...}, "findings": [...]}.
    #[arg(long)]
    pub json: bool,
    // --host: the server context is read live from it, for the log's model (Ollama,
    // llama-server, LM Studio, vLLM, …); --server-ctx wins when both are given.
    #[command(flatten)]
    pub host: args::HostArgs,
    #[command(flatten)]
    pub strict: args::StrictArgs,
    /// Rows in the request table and chart (the most recent ones); 0 shows all.
    #[arg(long, value_name = "N", value_parser = args::rows, default_value_t = 40)]
    pub limit: usize,
    /// The server's own log (llama-server `--log-file`, Ollama's server.log or journal
    /// output), repeatable (rotated parts oldest first). Alone: the server's side; with a
    /// debug log: joined to Claude Code's requests by time. Without it, the logs on this
    /// machine are tried (docs/server-logs.md).
    #[arg(long = "server-log", value_name = "FILE")]
    pub server_log: Vec<PathBuf>,
    /// Also write the session's timeline as one self-contained HTML file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Follow the session as it runs (like `tail -f`): the newest Claude Code debug log (or
    /// PATH), the server log (--server-log) and llama-server's /slots (--host), one line
    /// per request and per problem as it happens; Ctrl-C prints the session's summary.
    #[arg(long, short = 'f', conflicts_with_all = ["html", "latest"])]
    pub follow: bool,
    #[command(flatten)]
    pub what_if: what_if::WhatIfArgs,
}

/// The findings `logs` shows for a debug log's analysis (also `--follow`'s summary).
pub fn findings_of(a: &Analysis, server_ctx: Option<u64>) -> Vec<Finding> {
    let mut findings = logs::findings(a, &logs::RuleOptions { server_ctx });
    launcher_note(&mut findings, server_ctx);
    findings
}

/// Where `cclocal setup` wrote a launcher, an `export …` fix reaches only a `claude` started
/// from the shell: the launcher passes cclocal's settings file with `--settings`, whose
/// `env` wins over the shell. Each such fix then also says where to change it for a session
/// started by the launcher.
fn launcher_note(findings: &mut [crate::findings::Finding], server_ctx: Option<u64>) {
    let Ok(paths) = crate::setup::Paths::from_env() else {
        return;
    };
    let settings = paths.claude_settings();
    if !settings.is_file() {
        return;
    }
    let setup = match server_ctx {
        Some(c) => format!("cclocal setup --ctx {c}"),
        None => "cclocal setup --ctx <served context>".into(),
    };
    for f in findings.iter_mut().filter(|f| f.fix.starts_with("export ")) {
        f.fix.push_str(&format!(
            "   (for `claude` started from this shell; a session started by cclocal's launcher reads {} instead, which wins over the shell: there run `{setup}`, which rewrites it)",
            settings.display()
        ));
    }
}

pub fn run(args: &LogsArgs, verbose: bool) -> Result<i32> {
    if args.follow {
        if args.what_if.what_if {
            return Err(Error::usage("--follow cannot be combined with --what-if")
                .with_hint("run `cclocal logs --latest --what-if` after the session"));
        }
        return follow::run(args, verbose);
    }
    let env = DebugEnv::from_process();
    if let (None, false, Some(session)) =
        (&args.path, args.latest, what_if::synthetic(&args.what_if))
    {
        let w = what_if::compute(&args.what_if, &session, args.server_ctx, None)?;
        if args.json {
            let v = serde_json::json!({"what_if": what_if::to_json(&w, &session)});
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        } else {
            crate::tprint!("{}", what_if::human(&w, &session));
        }
        return Ok(0);
    }
    let path = match (&args.path, args.latest) {
        (Some(p), _) => p.clone(),
        (None, true) => logs::latest(&env)?,
        (None, false) if !args.server_log.is_empty() => return server_only(args),
        (None, false) => return list(&env, args.json),
    };
    // A `latest` link named directly: its target's name tells the rotated parts.
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    let parts = logs::parts(&path);
    let analysis = logs::analyze_files(&parts)?;
    logs::check_debug_log(&parts, &analysis)?;
    let mut server_ctx = args.server_ctx;
    let mut extra = Vec::new();
    if let (None, Some(host)) = (server_ctx, &args.host.host) {
        let url = crate::server::ServerUrl::parse_for(host, None)?
            .reachable()
            .to_url();
        let model = logs::server::main_model(&analysis);
        let live = logs::server::fetch(&url, model.as_deref(), std::time::Duration::from_secs(3));
        if let logs::server::LiveContext::Loaded { context, .. } = live {
            server_ctx = Some(context);
        }
        extra.extend(logs::server::finding(&live));
    }
    let srv = server::load(&args.server_log, Some(&analysis))?;
    // The server's own context, when its log says, for the window check.
    if server_ctx.is_none() {
        server_ctx = srv
            .as_ref()
            .and_then(|s| s.analysis.loads.last())
            .and_then(|l| l.context());
    }
    let mut findings = findings_of(&analysis, server_ctx);
    findings.extend(extra);
    if let Some(s) = &srv {
        findings.extend(s.findings.iter().cloned());
    }
    let what_if = if args.what_if.what_if {
        let joined = srv
            .as_ref()
            .and_then(|s| s.join.as_ref().map(|j| (&s.analysis, j)));
        let session = what_if::session_from_log(&analysis, joined, args.what_if.turn.turn_output)?;
        Some((
            what_if::compute(
                &args.what_if,
                &session,
                server_ctx,
                srv.as_ref().map(|s| &s.analysis),
            )?,
            session,
        ))
    } else {
        None
    };
    if let Some(out) = &args.html {
        let t = crate::logs::serverlog::html::timeline(
            Some(&analysis),
            srv.as_ref()
                .and_then(|s| s.join.as_ref().map(|j| (&s.analysis, j))),
            &findings,
        );
        write_html(out, &t)?;
    }
    if args.json {
        let mut v = to_json(&analysis, &findings, &parts);
        if let Some((w, s)) = &what_if {
            v["what_if"] = what_if::to_json(w, s);
        }
        if let Some(s) = &srv {
            if let (Some(j), Some(reqs)) = (&s.join, v["requests"].as_array_mut()) {
                for p in &j.pairs {
                    if let Some(r) = reqs.get_mut(p.request) {
                        r["server"] = server::task_json(&s.analysis.tasks[p.task]);
                    }
                }
            }
            if let Some(sm) = &s.summary {
                v["summary"]["server"] = server::summary_json(sm);
            }
            v["server"] = server::json(s);
        }
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        let mut text = human(&analysis, &findings, &parts, args.limit, verbose);
        if let Some(s) = &srv {
            // Before the findings: the server's section belongs with the time figures.
            let at = text.find("\nFindings\n").unwrap_or(text.len());
            text.insert_str(at, &server::human(s, Some(&analysis), args.limit));
        }
        crate::tprint!("{text}");
        if let Some((w, s)) = &what_if {
            crate::tprint!("{}", what_if::human(w, s));
        }
    }
    Ok(crate::findings::exit_code(&findings, args.strict.strict))
}

/// `cclocal logs --server-log FILE` with no debug log: the server's side alone.
fn server_only(args: &LogsArgs) -> Result<i32> {
    let Some(s) = server::load(&args.server_log, None)? else {
        return Ok(0);
    };
    if let Some(out) = &args.html {
        let t = crate::logs::serverlog::html::server_timeline(&s.analysis, &s.findings);
        write_html(out, &t)?;
    }
    let what_if = if args.what_if.what_if {
        let session = crate::predict::from_server::session_of_server(&s.analysis);
        Some((
            what_if::compute(&args.what_if, &session, args.server_ctx, Some(&s.analysis))?,
            session,
        ))
    } else {
        None
    };
    if args.json {
        let mut v = json!({"server": server::json(&s), "findings": &s.findings});
        if let Some((w, session)) = &what_if {
            v["what_if"] = what_if::to_json(w, session);
        }
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        let mut o = server::human(&s, None, args.limit);
        o.push_str("\nFindings\n");
        if s.findings.is_empty() {
            o.push_str("  ✓ nothing to fix in this log\n");
        }
        for f in &s.findings {
            o.push_str(&format!("  {} {}: {}\n", f.severity.glyph(), f.id, f.title));
            if !f.detail.is_empty() {
                o.push_str(&format!("      {}\n", f.detail));
            }
            if !f.fix.is_empty() {
                o.push_str(&format!("      fix: {}\n", f.fix));
            }
        }
        crate::tprint!("{}", o.trim_start_matches('\n'));
        if let Some((w, session)) = &what_if {
            crate::tprint!("{}", what_if::human(w, session));
        }
    }
    Ok(crate::findings::exit_code(&s.findings, args.strict.strict))
}

/// Writes the HTML timeline atomically: a new file with a unique name in `out`'s folder,
/// created exclusively (so a planted symlink there is never followed), then renamed over
/// `out` (which replaces a symlink at `out` rather than writing through it).
fn write_html(out: &std::path::Path, t: &crate::logs::serverlog::html::Timeline) -> Result<()> {
    let html = crate::logs::serverlog::html::render(t);
    crate::fs::write_atomic(out, html.as_bytes(), 0o644)?;
    crate::teprintln!("wrote {}", out.display());
    Ok(())
}

fn list(env: &DebugEnv, json: bool) -> Result<i32> {
    let Some(dir) = logs::debug_dir(env) else {
        return Err(Error::not_found("no debug log directory: HOME is not set")
            .with_hint("pass the log's path: `cclocal logs PATH`"));
    };
    // The launcher's folder too (docs/follow.md): newest first across both.
    let mut sessions = logs::list_sessions(&dir)?;
    let launcher_dir = logs::locate::launcher_debug_dir(env).filter(|d| *d != dir);
    if let Some(d) = &launcher_dir {
        sessions.extend(logs::list_sessions(d)?);
        let newest = logs::latest(env).ok();
        for s in &mut sessions {
            s.latest = newest.is_some() && std::fs::canonicalize(&s.path).ok() == newest;
        }
        sessions.sort_by(|a, b| {
            b.modified
                .cmp(&a.modified)
                .then_with(|| a.path.cmp(&b.path))
        });
    }
    let modified = |s: &logs::SessionFile| {
        s.modified
            .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| format_iso_ms(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
    };
    if json {
        let rows: Vec<Value> = sessions
            .iter()
            .map(|s| {
                json!({"path": s.path.display().to_string(), "size": s.size,
                       "modified": modified(s), "latest": s.latest})
            })
            .collect();
        let v = json!({"debug_dir": dir.display().to_string(),
                       "launcher_debug_dir": launcher_dir.as_ref().map(|d| d.display().to_string()),
                       "sessions": rows});
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Ok(0);
    }
    if sessions.is_empty() {
        crate::tprintln!("No Claude Code debug logs in {}.", dir.display());
        crate::tprintln!("To record one, {}.", logs::locate::ENABLE_HINT);
        return Ok(0);
    }
    match &launcher_dir {
        Some(d) if d.is_dir() => crate::tprintln!(
            "Claude Code debug logs in {} and {} (newest first):",
            dir.display(),
            d.display()
        ),
        _ => crate::tprintln!(
            "Claude Code debug logs in {} (newest first):",
            dir.display()
        ),
    }
    for s in sessions.iter().take(20) {
        let when = modified(s)
            .map(|m| m[..16].replace('T', " "))
            .unwrap_or_default();
        // Names alone where every log is in one folder; the path where there are two.
        let name = if launcher_dir.as_ref().is_some_and(|d| d.is_dir()) {
            s.path.display().to_string()
        } else {
            s.path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let mark = if s.latest { "  (latest)" } else { "" };
        crate::tprintln!(
            "  {when}  {:>10}  {name}{mark}",
            crate::units::human(s.size)
        );
    }
    if sessions.len() > 20 {
        crate::tprintln!("  … {} older", sessions.len() - 20);
    }
    crate::tprintln!("Analyse one with `cclocal logs PATH`, or `cclocal logs --latest`.");
    Ok(0)
}

fn request_json(r: &Request) -> Value {
    json!({
        "sent_at": format_iso_ms(r.sent_ms),
        "source": &*r.source,
        "model": r.model.as_deref(),
        "first_byte_ms": r.first_byte_ms,
        "status": r.status,
        "attempts": r.attempts,
        "path": &*r.path,
        "kind": r.kind.as_str(),
        "stream_ms": r.stream_ms,
        "failed": r.failed,
        "slow_first_byte": r.slow_first_byte,
        "stalls": r.stalls,
    })
}

/// The JSON report: the contract keys first, then extra detail.
pub fn to_json(a: &Analysis, findings: &[Finding], parts: &[PathBuf]) -> Value {
    let s = &a.summary;
    let by_source: Vec<Value> = s
        .by_source
        .iter()
        .map(|(src, k, n)| json!({"source": &**src, "kind": k.as_str(), "requests": n}))
        .collect();
    let by_model: Vec<Value> = s
        .by_model
        .iter()
        .map(|(m, n)| json!({"model": &**m, "requests": n}))
        .collect();
    let failures: Vec<Value> = s
        .failures
        .iter()
        .map(|(k, n)| {
            json!({"endpoint": &*k.endpoint, "source": &*k.source, "model": k.model.as_deref(),
                   "status": k.status, "count": n})
        })
        .collect();
    json!({
        "requests": a.requests.iter().map(request_json).collect::<Vec<_>>(),
        "summary": {
            "wall_ms": s.wall_ms,
            "requests": s.requests,
            "api_errors": s.api_errors,
            "not_found_404": s.not_found_404,
            "first_byte_ms_total": s.first_byte_ms_total,
            "effective_window": s.effective_window,
            "compactions": s.compactions,
            "stream_ms_total": s.stream_ms_total,
            "other_ms": s.other_ms(),
            "started_at": s.first_ts_ms.map(format_iso_ms),
            "ended_at": s.last_ts_ms.map(format_iso_ms),
            "threshold": s.threshold,
            "autocompact_level": s.autocompact_level.map(|l| l.as_str()),
            "autocompact_level_max": s.autocompact_level_max.map(|l| l.as_str()),
            "threshold_source": s.threshold_source.as_deref(),
            "unknown_model": s.unknown_model.as_deref(),
            "compaction_summaries": s.compaction_summaries,
            "retries": s.retries,
            "slow_first_bytes": s.slow_first_bytes,
            "api_timeouts": s.api_timeouts,
            "stalls": s.stalls,
            "stall_ms": s.stall_ms,
            "turns": s.turns,
            "usage_in": s.usage_in,
            "usage_out": s.usage_out,
            "by_source": by_source,
            "by_model": by_model,
            "failures": failures,
            "lines": s.lines,
            "long_lines_skipped": s.long_lines_skipped,
            "requests_dropped": s.requests_dropped,
            "rows_dropped": s.rows_dropped,
        },
        "findings": findings,
        "files": parts.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
    })
}
