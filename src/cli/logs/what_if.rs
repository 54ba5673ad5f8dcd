//! `cclocal logs LOG --what-if [--bench BENCH.json]`: the session's wall time as the model
//! predicts it, next to the measured one, and what the recommended settings would save.
//! Without a log, `--turns N` prices a synthetic session. The model: src/predict,
//! docs/session-time.md.

use crate::cli::args;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::logs::serverlog::{Join, ServerAnalysis};
use crate::predict::{self, Rates, Session, WhatIf};

/// The context a synthetic session starts at (`--turn-context`'s default here).
pub const SYNTHETIC_CONTEXT: u64 = 15_000;

#[derive(clap::Args, Debug, Default)]
#[command(
    mut_arg("turns", |a| a.requires("what_if")),
    mut_arg("rounds", |a| a.requires("what_if")),
    mut_arg("turn_context", |a| a.requires("turns")),
    mut_arg("turn_new", |a| a.requires("turns"))
)]
pub struct WhatIfArgs {
    /// Predict the session's time and what cclocal's recommended settings would save.
    #[arg(long)]
    pub what_if: bool,
    /// Rates from a saved `cclocal bench MODEL --json`, for --what-if when no server log
    /// with timing lines (--server-log) gives them.
    #[arg(long, value_name = "BENCH.json", requires = "what_if")]
    pub bench: Option<PathBuf>,
    /// Compact the conversation at this many tokens in the recommended run (default: the
    /// server context, when --server-ctx gives it).
    #[arg(long, value_name = args::TOKENS, requires = "what_if", value_parser = args::ctx)]
    pub compact_at: Option<u64>,
    // --turns N: a synthetic session of N round trips instead of a log.
    #[command(flatten)]
    pub turn: args::TurnArgs,
}

/// Rates from `--bench`, else from the server log's timing lines.
fn read_rates(path: Option<&Path>, server: Option<&ServerAnalysis>) -> Result<Rates> {
    let Some(path) = path else {
        if let Some(r) = server.and_then(predict::from_server::rates) {
            return Ok(r);
        }
        if server.is_some_and(|s| s.kind == crate::server::ServerKind::Vllm) {
            return Err(Error::usage(
                "--what-if needs measured rates, and vLLM's log times no request (its throughput lines are averages over its stats interval): pass --bench BENCH.json",
            )
            .with_hint("the prompt sizes still come from vLLM's log; measure the rates with `cclocal bench` against the same model and machine"));
        }
        return Err(no_rates(server));
    };
    let text = crate::fsread::read_to_string(path, crate::fsread::SMALL).map_err(|e| {
        Error::not_found(format!("cannot read the bench report: {e}"))
            .with_subject(path.display().to_string())
    })?;
    predict::from_bench_json(&text, &format!("bench {}", path.display())).map_err(|e| {
        Error::parse(e)
            .with_subject(path.display().to_string())
            .with_hint("pass the output of `cclocal bench MODEL --json`")
    })
}

/// Why there are no rates to price with, naming what was given: no server log at all, a
/// server log without timing lines (vLLM's and vllm-mlx's logs have none), or too few
/// timed requests to fit.
fn no_rates(server: Option<&ServerAnalysis>) -> Error {
    let bench_hint = "or save rates with `cclocal bench MODEL --json > bench.json` (same model, \
                      same machine) and pass --bench bench.json";
    match server {
        None => Error::usage(
            "--what-if needs measured rates: pass a server log with timing lines \
             (--server-log FILE) or --bench BENCH.json",
        )
        .with_hint(format!(
            "llama-server's and Ollama's logs time every request; {bench_hint}"
        )),
        Some(s) => {
            let timed = s.timed().count();
            let why = if timed == 0 {
                format!(
                    "the server log ({}, {} lines) has no timing lines, so it gives no \
                     prefill or decode rate",
                    s.kind_name(),
                    s.lines
                )
            } else {
                format!(
                    "the server log has {timed} timed request(s), too few or too alike \
                     (prefill needs prompts of different sizes, decode needs written \
                     tokens) to fit a prefill and a decode rate"
                )
            };
            Error::parse(format!("--what-if cannot price this session: {why}")).with_hint(format!(
                "llama-server's and Ollama's logs time every request; {bench_hint}"
            ))
        }
    }
}

/// The session from a debug log (the prompt sizes come with its requests), joined to the
/// server's log where one was read and shares requests with it: the server's figures
/// (whole prompt, cached tokens, prefill and decode times) win over the debug log's.
pub fn session_from_log(
    analysis: &crate::logs::Analysis,
    server: Option<(&ServerAnalysis, &Join)>,
    output: u64,
) -> Result<Session> {
    // Read with the log itself (never the whole file again: it can be gigabytes).
    let tokens: Vec<Option<u64>> = analysis.requests.iter().map(|r| r.prompt_tokens).collect();
    Ok(match server {
        Some((a, j)) if !j.pairs.is_empty() => {
            predict::from_server::session(analysis, a, j, &tokens, output)
        }
        _ => predict::from_logs::session(analysis, &tokens, output),
    })
}

/// Runs the what-if for a session.
pub fn compute(
    args: &WhatIfArgs,
    session: &Session,
    server_ctx: Option<u64>,
    server: Option<&ServerAnalysis>,
) -> Result<WhatIf> {
    let rates = read_rates(args.bench.as_deref(), server)?;
    if session.round_trips.is_empty() {
        return Err(Error::parse(
            "no request in this log carries its prompt size, so its time cannot be modelled",
        )
        .with_hint("Claude Code 2.1.127 and later redact `autocompact: tokens=`: add the server's own log (--server-log FILE), which has every prompt's size, or price a synthetic session: --turns N --turn-context T --turn-new T"));
    }
    Ok(predict::what_if(
        session,
        &rates,
        args.compact_at.or(server_ctx),
    ))
}

pub fn synthetic(args: &WhatIfArgs) -> Option<Session> {
    args.turn.turns().map(|n| {
        let t = args.turn.model(SYNTHETIC_CONTEXT, n);
        predict::synthetic(n, t.context_tokens, t.new_tokens, t.output_tokens)
    })
}

pub fn to_json(w: &WhatIf, session: &Session) -> Value {
    json!({
        "source": session.source,
        "as_ran": w.as_ran,
        "recommended": w.recommended,
        "rates": w.rates,
        "notes": w.notes,
    })
}

fn dur(ms: f64) -> String {
    crate::duration::human(ms)
}

pub fn human(w: &WhatIf, session: &Session) -> String {
    let a = &w.as_ran;
    let b = &a.breakdown;
    let mut o = format!(
        "\nWhat if ({}; rates from {}: prefill {:.0} tok/s at 0 → {:.0} tok/s at 32K tokens, decode {:.1} tok/s):\n",
        session.source,
        w.rates.source,
        w.rates.prefill.rate_at(0),
        w.rates.prefill.rate_at(32_768),
        w.rates.decode.rate_at(0)
    );
    o += &format!(
        "  as it ran: {} predicted{} over {} round trips\n",
        dur(a.predicted_ms),
        a.measured_ms
            .map(|m| format!(" vs {} measured", dur(m)))
            .unwrap_or_default(),
        a.round_trips
    );
    o += &format!(
        "    prefill {} ({} tokens evaluated), decode {}, reloads {}, outside the model {}\n",
        dur(b.prefill_ms),
        b.evaluated_tokens,
        dur(b.decode_ms),
        dur(b.reload_ms),
        dur(b.other_ms)
    );
    let measured: Vec<_> = a
        .requests
        .iter()
        .filter(|q| !q.cache_inferred && q.measured_prefill_ms.is_some())
        .collect();
    if !measured.is_empty() {
        o += "    per request (prompt tokens, evaluated; prefill predicted vs measured):\n";
        for q in measured.iter().rev().take(12).rev() {
            o += &format!(
                "      {:>7} {:>7}  {:>8} vs {:>8}{}\n",
                q.prompt_tokens,
                q.evaluated_tokens,
                dur(q.predicted_prefill_ms),
                dur(q.measured_prefill_ms.unwrap_or(0.0)),
                if q.side { "  (helper call)" } else { "" }
            );
        }
    }
    let r = &w.recommended;
    o += &format!("  with the recommended settings: {}\n", dur(r.predicted_ms));
    for s in &r.savings {
        o += &format!(
            "    - {:<17} saves {:>9}  ({})\n",
            s.cause,
            dur(s.ms),
            s.note
        );
    }
    if r.savings.is_empty() {
        o += "    (nothing to save: the session already ran as recommended)\n";
    }
    for n in &w.notes {
        o += &format!("  note: {n}\n");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_bench_is_a_usage_error_with_a_hint() {
        let e = read_rates(None, None).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Usage);
        assert!(e.message.contains("--server-log"));
        assert!(e.hint.unwrap().contains("cclocal bench"));
        let e = read_rates(Some(Path::new("/nonexistent/b.json")), None).unwrap_err();
        assert!(e.message.contains("cannot read"));
    }
}
