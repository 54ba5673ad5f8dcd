//! `cclocal bench MODEL`: prefill and decode speed with the embedded llama.cpp, and what a
//! Claude Code session costs at that speed.

use super::args;
use crate::error::{Error, Result};
use crate::memory::parse_cache_type;
use crate::model::load_model;
use crate::runtime::bench::{
    default_prompts, BenchConfig, BenchReport, TurnCost, CLAUDE_TIMEOUT_S,
};
use std::path::PathBuf;

/// A session's round trips when `--turns` does not say.
pub const DEFAULT_TURNS: u32 = 20;

#[derive(clap::Args, Debug)]
#[command(
    mut_arg("model", |a| a.requires("host")),
    mut_arg("ubatch", |a| a.conflicts_with("host")),
    mut_arg("kv_type", |a| a.conflicts_with("host")),
    mut_arg("flash_attn", |a| a.conflicts_with("host"))
)]
pub struct BenchArgs {
    /// A .gguf file or an Ollama model name (not with --host: that measures the server's
    /// model, named with --model).
    #[arg(
        id = "file",
        value_name = "MODEL",
        required_unless_present = "host",
        conflicts_with = "host"
    )]
    pub file: Option<String>,
    #[command(flatten)]
    pub host: args::HostArgs,
    #[command(flatten)]
    pub served: args::ModelArgs,
    /// With --host: load the model even when that may unload another one the server holds.
    #[arg(long, requires = "host")]
    pub force: bool,
    /// Context size of every run (4096 or 4K); prompt lengths go up to it.
    #[arg(long, value_name = args::TOKENS, value_parser = args::ctx, default_value = "4096")]
    pub ctx: u64,
    /// Prompt lengths in tokens (default: 512, 1024, … up to the context).
    #[arg(long, value_name = "TOKENS,…", value_delimiter = ',', value_parser = clap::value_parser!(u32).range(2..=16_777_216))]
    pub prompts: Vec<u32>,
    /// Logical batch sizes (n_batch, llama-bench's -b), e.g. 512,2048.
    #[arg(long, value_delimiter = ',', default_value = "2048", value_parser = clap::value_parser!(u32).range(1..=65_536), conflicts_with = "host")]
    pub batch: Vec<u32>,
    #[command(flatten)]
    pub ubatch: args::UbatchArgs,
    // --kv-type and --flash-attn: lists to compare (default f16, flash attention on).
    #[command(flatten)]
    pub kv: args::KvArgs,
    /// Tokens generated after each prompt.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub decode: u32,
    /// CPU threads (default: the physical cores, as llama-bench).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096), conflicts_with = "host")]
    pub threads: Option<u32>,
    /// Timed repetitions of each measurement (mean ± standard deviation is reported;
    /// default 5, with --host 2).
    #[arg(short = 'r', long, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repetitions: Option<u32>,
    /// Skip the untimed warm-up run before each setting.
    #[arg(long, conflicts_with = "host")]
    pub no_warmup: bool,
    // The turn a session is priced for (--turns, default 20; --turn-context, default the
    // longest prompt).
    #[command(flatten)]
    pub turn: args::TurnArgs,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

fn model_path(arg: &str) -> Result<PathBuf> {
    let (_, source) = load_model(arg).map_err(|e| not_here_hint(arg, e))?;
    Ok(source.gguf_path()?.to_path_buf())
}

/// A model that is neither a file nor in this machine's Ollama store: `ollama pull` is a fix
/// only where Ollama keeps models here; an LM Studio key or an MLX / Hugging Face id is
/// measured through the server that serves it (`bench --host`), which is said either way.
pub fn not_here_hint(arg: &str, e: Error) -> Error {
    let ollama_here = crate::ollama::models_dir().is_some_and(|d| d.is_dir());
    not_here_hint_with(arg, e, ollama_here)
}

/// [`not_here_hint`] with whether this machine has an Ollama store (pure).
pub fn not_here_hint_with(arg: &str, e: Error, ollama_here: bool) -> Error {
    let path = std::path::Path::new(arg);
    if path.exists() || e.kind != crate::error::ErrorKind::NotFound {
        return e;
    }
    let host = format!(
        "for a model a server serves (an LM Studio key, an MLX or vLLM model id), measure it there: cclocal bench --host URL --model {}",
        crate::shell::quote::sh_quote(arg)
    );
    let hint = if ollama_here && crate::ollama::parse_name(arg).is_some() {
        format!(
            "pass a .gguf path, or `ollama pull {}` for an Ollama model; {host}",
            crate::shell::quote::sh_quote(arg)
        )
    } else {
        format!("pass a .gguf path; {host}")
    };
    Error::not_found(format!(
        "{arg:?} is not a .gguf file here, nor a model in this machine's Ollama store"
    ))
    .with_hint(hint)
}

pub fn config(args: &BenchArgs) -> Result<BenchConfig> {
    // args::ctx caps at 16M tokens, well inside u32.
    let ctx = u32::try_from(args.ctx).unwrap_or(u32::MAX);
    let kv_types = if args.kv.kv_type.is_empty() {
        vec![crate::kv::KvType::DEFAULT]
    } else {
        args.kv.kv_type.clone()
    }
    .iter()
    .map(|k| parse_cache_type(k.name()))
    .collect::<Result<Vec<_>>>()?;
    let prompts = if args.prompts.is_empty() {
        default_prompts(ctx, args.decode)
    } else {
        args.prompts.clone()
    };
    let longest = prompts.iter().copied().max().unwrap_or(0) as u64;
    Ok(BenchConfig {
        model: model_path(args.file.as_deref().unwrap_or_default())?,
        ctx,
        prompts,
        batches: args.batch.clone(),
        ubatch: args.ubatch.ubatch,
        flash_attn: if args.kv.flash_attn.is_empty() {
            vec![true]
        } else {
            args.kv.flash_attn.iter().fold(Vec::new(), |mut v, f| {
                if !v.contains(f) {
                    v.push(*f);
                }
                v
            })
        },
        kv_types,
        decode_tokens: args.decode,
        threads: args.threads,
        repetitions: args.repetitions.unwrap_or(5),
        warmup: !args.no_warmup,
        turn: args.turn.model(longest, DEFAULT_TURNS),
    })
}

pub fn run(args: &BenchArgs, verbose: bool) -> Result<i32> {
    if args.host.host.is_some() {
        return super::bench_host::run(args, verbose);
    }
    if args.served.model.is_some() {
        return Err(Error::usage(
            "--model names the model a server serves, for --host URL; without --host pass the model as MODEL",
        ));
    }
    crate::runtime::require("cclocal bench")?;
    crate::runtime::set_verbose(verbose);
    let cfg = config(args)?;
    let report = crate::runtime::bench::run(&cfg, !args.json && !verbose)?;
    let saved = save(
        &report,
        &cfg.model,
        args.file.as_deref().unwrap_or_default(),
    );
    if args.json {
        let text =
            serde_json::to_string_pretty(&report).map_err(|e| Error::parse(e.to_string()))?;
        println!("{text}");
        for w in &report.warnings {
            crate::teprintln!("warning: {w}");
        }
        crate::teprintln!("{saved}");
    } else {
        crate::tprint!("{}", render(&report));
        crate::tprintln!("{saved}");
    }
    Ok(if report.runs.is_empty() { 1 } else { 0 })
}

/// Saves the report where `setup` and `doctor` look for it (`STATE/bench/<file>.json`,
/// `predict::quote`); the line to show: where it went, or why it was not saved (a failure
/// to save does not fail the bench).
pub fn save(report: &BenchReport, gguf: &std::path::Path, model_arg: &str) -> String {
    if report.runs.is_empty() {
        return "nothing measured, so nothing was saved".into();
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let saved = crate::paths::Paths::from_env().and_then(|p| {
        crate::predict::quote::save_bench(&p.state_dir, gguf, model_arg, report, now_ms)
    });
    match saved {
        Ok(p) => format!(
            "saved to {} (`cclocal setup` and `cclocal doctor` quote a turn's time from it)",
            p.display()
        ),
        Err(e) => format!("warning: the report was not saved: {}", e.message),
    }
}

fn secs(s: f64) -> String {
    crate::duration::human_secs(s)
}

fn pm(mean: f64, sd: f64) -> String {
    format!("{mean:.1} ± {sd:.1}")
}

/// The human report.
pub fn render(r: &BenchReport) -> String {
    let mut o = format!("Benchmark of {} (embedded llama.cpp)\n", r.model);
    if let Some(b) = &r.build {
        o += &format!(
            "llama.cpp: {} / {}; CPU features built in: {}\n",
            b.crate_version,
            b.sys_version,
            crate::runtime::cpu_features_from(&b.system_info).join(" ")
        );
    }
    o += &format!(
        "{} threads, {} repetitions{}; rates are mean ± standard deviation in tokens/s\n\n",
        r.threads,
        r.repetitions,
        if r.warmup {
            " after a warm-up run"
        } else {
            ", no warm-up"
        }
    );
    o += &format!(
        "{:>8} {:>6} {:>6} {:>4} {:>5} {:>18} {:>16} {:>16}\n",
        "prompt",
        "batch",
        "ubatch",
        "FA",
        "KV",
        "prefill (pp)",
        "+64 at depth ms",
        "decode after it"
    );
    for x in &r.runs {
        o += &format!(
            "{:>8} {:>6} {:>6} {:>4} {:>5} {:>18} {:>16} {:>16}\n",
            x.prompt_tokens,
            x.batch,
            x.ubatch,
            if x.flash_attn { "on" } else { "off" },
            x.kv_type,
            pm(x.prefill_tokens_per_s, x.prefill_sd),
            x.increment
                .as_ref()
                .map(|i| pm(i.ms, i.sd))
                .unwrap_or_else(|| "-".into()),
            pm(x.decode_tokens_per_s, x.decode_sd)
        );
    }
    for g in &r.generation {
        o += &format!(
            "{:>8} {:>6} {:>6} {:>4} {:>5} {:>18} {:>16} {:>16}\n",
            format!("tg{}", g.tokens),
            g.batch,
            g.ubatch,
            if g.flash_attn { "on" } else { "off" },
            g.kv_type,
            "",
            "",
            pm(g.tokens_per_s, g.sd)
        );
    }
    for s in &r.skipped {
        o += &format!(
            "skipped: batch {}, flash attention {}, {} cache: {}\n",
            s.batch,
            if s.flash_attn { "on" } else { "off" },
            s.kv_type,
            s.reason
        );
    }
    if let Some(rec) = &r.recommended {
        o += &format!(
            "\nFastest: -b {} -ub {}, flash attention {}, {} KV cache: {:.0} tokens/s prefill, {:.1} tokens/s decode.\n",
            rec.batch,
            rec.ubatch,
            if rec.flash_attn { "on" } else { "off" },
            rec.kv_type,
            rec.prefill_tokens_per_s,
            rec.decode_tokens_per_s
        );
        o += &render_turn(&rec.turn);
    }
    for w in &r.warnings {
        o += &format!("warning: {w}\n");
    }
    o
}

/// The turn block both bench reports end with (the embedded one and `--host`): a Claude
/// Code turn's cold and warm time, a session's, and what to do when a cold prefill outlasts
/// Claude Code's request timeout.
pub fn render_turn(t: &TurnCost) -> String {
    let mut o = format!(
        "A Claude Code turn at {} tokens of context (+{} new, {} written; rates fitted to prompts of up to {} tokens):\n",
        t.context_tokens, t.new_tokens, t.output_tokens, t.rates_at_tokens
    );
    o += &format!(
        "  cold (prompt cache missed, whole prompt re-read): {}\n",
        secs(t.cold_turn_s)
    );
    o += &format!(
        "  warm (cache kept, only the new tokens read):      {}\n",
        secs(t.warm_turn_s)
    );
    o += &format!(
        "  a session of {} round trips: {} cold every turn vs {} with a warm cache\n",
        t.rounds,
        secs(t.session_cold_s),
        secs(t.session_warm_s)
    );
    if t.cold_exceeds_timeout {
        o += &format!(
            "  warning: at {} tokens a cold prefill takes longer than Claude Code's {CLAUDE_TIMEOUT_S:.0} s request timeout, so a turn that misses the prompt cache fails; keep the cache warm (`cclocal doctor` names what breaks it), or use a smaller context (`cclocal setup --ctx TOKENS`; price it first with --turn-context TOKENS)\n",
            t.context_tokens
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both bench reports end with the same turn block (it was two copies), and a cold
    /// prefill past Claude Code's timeout says what to do about it.
    #[test]
    fn the_turn_block_gives_advice_past_the_timeout() {
        let t = TurnCost {
            context_tokens: 60_000,
            new_tokens: 2000,
            output_tokens: 300,
            rounds: 20,
            rates_at_tokens: 4096,
            cold_turn_s: 400.0,
            warm_turn_s: 20.0,
            session_cold_s: 8000.0,
            session_warm_s: 780.0,
            cold_exceeds_timeout: true,
        };
        let o = render_turn(&t);
        assert!(o.contains("a session of 20 round trips"), "{o}");
        assert!(o.contains("at 60000 tokens a cold prefill"), "{o}");
        assert!(
            o.contains("--ctx TOKENS") && o.contains("--turn-context"),
            "{o}"
        );
        let quiet = render_turn(&TurnCost {
            cold_exceeds_timeout: false,
            ..t
        });
        assert!(!quiet.contains("warning"), "{quiet}");
    }

    /// Issue 21: an LM Studio key and an MLX id were told to `ollama pull`.
    #[test]
    fn a_served_model_id_is_pointed_at_bench_host() {
        for id in [
            "qwen/qwen3-coder-30b",
            "mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit",
        ] {
            let e = not_here_hint_with(
                id,
                Error::not_found("not in the store").with_hint("run `ollama pull x`"),
                false,
            );
            let h = e.hint.unwrap();
            assert!(!h.contains("ollama pull"), "{h}");
            assert!(
                h.contains(&format!("cclocal bench --host URL --model {id}")),
                "{h}"
            );
        }
        // Where Ollama keeps models here, an Ollama-style name also gets `ollama pull`.
        let e = not_here_hint_with("qwen3-coder:30b", Error::not_found("x"), true);
        assert!(e.hint.unwrap().contains("ollama pull qwen3-coder:30b"));
        // Other errors (a damaged file) are left alone.
        let e = not_here_hint_with("m", Error::parse("damaged"), false);
        assert_eq!(e.message, "damaged");
    }
}
