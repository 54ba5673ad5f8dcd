//! `cclocal bench --host URL [--model NAME]`: the embedded bench's report, measured on the
//! user's own server through its API (`runtime::host_bench`).

use super::bench::BenchArgs;
use crate::error::{Error, Result};
use crate::runtime::bench::{default_prompts, recommend};
use crate::runtime::host_bench::{self as hb, HostConfig, HostReport, Timing, INCREMENT_TOKENS};
use std::time::Duration;

/// Room a measured prompt leaves in the context: the decode, the warm increment, a margin.
fn room(decode: u32) -> u32 {
    decode + INCREMENT_TOKENS + 32
}

/// The prompt lengths to measure: `--prompts`, else 512, 1024, … up to `--ctx`, both within
/// what the server serves.
pub fn depths(
    args_prompts: &[u32],
    ctx: u32,
    decode: u32,
    served: Option<u64>,
) -> Result<Vec<u32>> {
    let cap = served.map_or(u32::MAX, |s| u32::try_from(s).unwrap_or(u32::MAX));
    if args_prompts.is_empty() {
        let ctx = ctx.min(cap);
        let v = default_prompts(ctx, room(decode));
        if v.is_empty() {
            return Err(Error::usage(format!(
                "a context of {ctx} tokens leaves no room for a prompt and {} written tokens",
                room(decode)
            )));
        }
        return Ok(v);
    }
    if let Some(p) = args_prompts
        .iter()
        .find(|p| **p == 0 || p.saturating_add(room(decode)) > cap)
    {
        return Err(Error::usage(if *p == 0 {
            "--prompts: a prompt of 0 tokens measures nothing".to_string()
        } else {
            format!(
                "--prompts: {p} tokens and {} more do not fit the {cap} tokens the server serves",
                room(decode)
            )
        }));
    }
    Ok(args_prompts.to_vec())
}

/// A file name for the saved report of `model` on a server (`host-<model>.json`).
pub fn file_stem(model: &str) -> String {
    // A model named by its absolute path (llama-server without an alias): its file name.
    let base = if model.starts_with('/') {
        std::path::Path::new(model)
            .file_name()
            .map_or(model.to_string(), |n| n.to_string_lossy().into_owned())
    } else {
        model.to_string()
    };
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    format!("host-{clean}")
}

pub fn run(args: &BenchArgs, verbose: bool) -> Result<i32> {
    let url = args.host.host.clone().unwrap_or_default();
    let cfg = HostConfig {
        url,
        model: args.served.model.clone(),
        prompts: args.prompts.clone(),
        ctx: u32::try_from(args.ctx).unwrap_or(u32::MAX),
        decode: args.decode.max(2),
        repetitions: args.repetitions.unwrap_or(2),
        force: args.force,
        request_timeout: Duration::from_secs(600),
    };
    let target = hb::connect(&cfg)?;
    let depths = depths(&cfg.prompts, cfg.ctx, cfg.decode, target.served_context)?;
    let (measured, notes) = hb::measure(&target, &cfg, &depths, !args.json && !verbose)?;
    let runs = hb::summarize(&measured);
    let longest = runs.iter().map(|r| r.prompt_tokens).max().unwrap_or(0) as u64;
    let turn = args.turn.model(longest, super::bench::DEFAULT_TURNS);
    let fixed: Vec<f64> = measured.iter().map(|(_, m)| m.fixed_ms).collect();
    let mut warnings = Vec::new();
    if runs.is_empty() {
        warnings.push("no request gave both a prefill and a decode time".to_string());
    }
    let report = HostReport {
        model: target.model.clone(),
        host: target.url.to_url(),
        kind: target.kind,
        timing: target.timing(),
        recommended: recommend(&runs, &[], &turn),
        runs,
        generation: vec![],
        repetitions: cfg.repetitions,
        fixed_ms: (!fixed.is_empty()).then(|| hb::mean_sd(&fixed).0),
        served_context: target.served_context,
        samples: measured.iter().map(|(_, m)| *m).collect(),
        notes,
        warnings,
    };
    let saved = save(&report);
    if args.json {
        let text =
            serde_json::to_string_pretty(&report).map_err(|e| Error::parse(e.to_string()))?;
        println!("{text}");
        crate::teprintln!("{saved}");
    } else {
        crate::tprint!("{}", render(&report));
        crate::tprintln!("{saved}");
    }
    Ok(if report.runs.is_empty() { 1 } else { 0 })
}

/// Saves the report beside the embedded bench's (`STATE/bench/host-<model>.json`), where
/// setup, doctor and the what-if find it first (`predict::quote::find_bench`).
fn save(report: &HostReport) -> String {
    if report.runs.is_empty() {
        return "nothing measured, so nothing was saved".into();
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let saved = crate::setup::Paths::from_env().and_then(|p| {
        crate::predict::quote::save_named(
            &p.state_dir,
            &format!("{}.json", file_stem(&report.model)),
            &report.model,
            None,
            report,
            now_ms,
        )
    });
    match saved {
        Ok(p) => format!(
            "saved to {} (`cclocal setup`, `cclocal doctor` and `logs --what-if` use these rates before any embedded bench)",
            p.display()
        ),
        Err(e) => format!("warning: the report was not saved: {}", e.message),
    }
}

/// The human report: the embedded bench's table without its llama.cpp settings.
pub fn render(r: &HostReport) -> String {
    let mut o = format!(
        "Benchmark of {} on {} at {}\n",
        r.model,
        r.kind.label(),
        r.host
    );
    o += &format!(
        "{} repetitions, fresh random prompt each; times from {}; rates are mean ± standard deviation in tokens/s\n\n",
        r.repetitions,
        match r.timing {
            Timing::Server => "the server's own timings",
            Timing::Client => "this client's clock (the server reports none)",
        }
    );
    o += &format!(
        "{:>8} {:>18} {:>18} {:>16}\n",
        "prompt", "cold prefill", "warm +64 at depth", "decode after it"
    );
    for x in &r.runs {
        o += &format!(
            "{:>8} {:>18} {:>18} {:>16}\n",
            x.prompt_tokens,
            format!("{:.1} ± {:.1}", x.prefill_tokens_per_s, x.prefill_sd),
            x.increment
                .as_ref()
                .map(|i| format!("{:.0} ± {:.0} ms", i.ms, i.sd))
                .unwrap_or_else(|| "-".into()),
            format!("{:.1} ± {:.1}", x.decode_tokens_per_s, x.decode_sd)
        );
    }
    if let Some(f) = r.fixed_ms {
        o += &format!(
            "\nFixed cost of a request (HTTP, tokenizing, scheduling; beyond the tokens' own time): {f:.0} ms\n"
        );
    }
    if let Some(rec) = &r.recommended {
        o += &super::bench::render_turn(&rec.turn);
    }
    for n in &r.notes {
        o += &format!("note: {n}\n");
    }
    for w in &r.warnings {
        o += &format!("warning: {w}\n");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depths_fit_the_served_context() {
        assert_eq!(
            depths(&[], 4096, 32, None).unwrap(),
            vec![512, 1024, 2048, 3968]
        );
        assert_eq!(
            depths(&[], 32768, 32, Some(2048)).unwrap(),
            vec![512, 1024, 1920]
        );
        assert!(depths(&[4000], 4096, 32, Some(4096)).is_err());
        assert!(depths(&[0], 4096, 32, None).is_err());
        assert!(depths(&[], 100, 32, None).is_err());
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(
            file_stem("qwen/qwen3-coder-30b"),
            "host-qwen_qwen3-coder-30b"
        );
        assert_eq!(file_stem("/m/../x y"), "host-x_y");
        assert_eq!(file_stem("/models/gemma.gguf"), "host-gemma.gguf");
        assert_eq!(file_stem("../x"), "host-.._x");
    }
}
