//! Times prefill and decode with the embedded llama.cpp (wall clock around
//! `decode` + `synchronize`; llama.cpp's own perf counters book a 1-token prompt as "eval"
//! and are not used).

use super::bench::{recommend, BenchConfig, BenchReport, BenchRun, GenRun, Increment, Skipped};
use super::bench_stats::{default_threads, load_between, load_warning, stat, CpuSample};
use super::engine::{context_error, context_params, load, Session};
use crate::error::{Error, Result};
use crate::memory::CacheParams;
use indicatif::{ProgressBar, ProgressStyle};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::token::LlamaToken;
use std::io::IsTerminal;
use std::time::Instant;

fn decode_error(e: impl std::fmt::Display) -> Error {
    Error::new(
        crate::ErrorKind::Io,
        format!("llama.cpp failed to evaluate the batch: {e}"),
    )
    .with_hint("run with -v to see llama.cpp's log")
}

/// Pseudo-random token ids (no sampler, no tokenizer: only the cost of evaluation matters).
fn tokens(n: u32, n_vocab: i32, bos: LlamaToken, seed: u32) -> Vec<LlamaToken> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut v = vec![bos];
    while v.len() < n as usize {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.push(LlamaToken((x % n_vocab.max(1) as u32) as i32));
    }
    v.truncate(n as usize);
    v
}

/// Prefills `prompt` in chunks of `batch` tokens; returns seconds.
fn prefill(ctx: &mut LlamaContext, prompt: &[LlamaToken], batch: u32) -> Result<f64> {
    prefill_at(ctx, prompt, batch, 0)
}

/// Evaluates `prompt` at positions from `start_pos` (the cache holds the tokens before it),
/// logits for the last token only, as a server does for a request; returns seconds.
fn prefill_at(
    ctx: &mut LlamaContext,
    prompt: &[LlamaToken],
    batch: u32,
    start_pos: u32,
) -> Result<f64> {
    let mut b = LlamaBatch::new(batch as usize, 1);
    let start = Instant::now();
    let end = start_pos as usize + prompt.len();
    let mut pos = start_pos as i32;
    for chunk in prompt.chunks(batch as usize) {
        b.clear();
        for (i, &t) in chunk.iter().enumerate() {
            let last = pos as usize + i + 1 == end;
            b.add(t, pos + i as i32, &[0], last).map_err(decode_error)?;
        }
        ctx.decode(&mut b).map_err(decode_error)?;
        pos += chunk.len() as i32;
    }
    ctx.synchronize();
    Ok(start.elapsed().as_secs_f64())
}

/// Generates `n` tokens one decode at a time after position `pos`; returns seconds.
fn generate(ctx: &mut LlamaContext, start_pos: u32, n: u32, tok: LlamaToken) -> Result<f64> {
    let mut b = LlamaBatch::new(1, 1);
    let start = Instant::now();
    for i in 0..n {
        b.clear();
        b.add(tok, (start_pos + i) as i32, &[0], true)
            .map_err(decode_error)?;
        ctx.decode(&mut b).map_err(decode_error)?;
        ctx.synchronize();
    }
    Ok(start.elapsed().as_secs_f64())
}

fn validate(cfg: &BenchConfig) -> Result<()> {
    if cfg.prompts.is_empty()
        || cfg.batches.is_empty()
        || cfg.flash_attn.is_empty()
        || cfg.kv_types.is_empty()
    {
        return Err(Error::usage(
            "nothing to measure: every option list needs at least one value",
        ));
    }
    if cfg.decode_tokens == 0 {
        return Err(Error::usage("--decode must be at least 1"));
    }
    for &p in &cfg.prompts {
        if p < 2 || p.saturating_add(cfg.decode_tokens) > cfg.ctx {
            return Err(Error::usage(format!(
                "prompt length {p} plus {} decode tokens does not fit in --ctx {}",
                cfg.decode_tokens, cfg.ctx
            ))
            .with_hint(
                "use prompt lengths of at least 2 and at most ctx minus the decode tokens",
            ));
        }
    }
    if let Some(b) = cfg.batches.iter().find(|&&b| b == 0) {
        return Err(Error::usage(format!("batch size {b} is invalid")));
    }
    Ok(())
}

/// One setting's measurements (a context per setting, as llama-bench makes one per test).
struct Setting {
    batch: u32,
    ubatch: u32,
    fa: bool,
    kv: crate::gguf::GgmlType,
}

/// Tokens of the short request timed after each prompt where the context has room: a
/// Claude Code turn whose prompt cache held everything but the new message. Its time beside
/// the long prompts' separates the per-request cost from the per-token one
/// (docs/session-time.md).
pub const INCREMENT_TOKENS: u32 = 64;

/// One prompt length's samples.
struct PromptSamples {
    prefill: Vec<f64>,
    decode: Vec<f64>,
    /// Milliseconds for [`INCREMENT_TOKENS`] at a depth of the prompt, when measured.
    increment_ms: Vec<f64>,
}

/// Times `reps` repetitions of: clear the cache, prefill `len` tokens, evaluate a short
/// increment after them (where the context has room), generate `decode` tokens.
fn measure_prompt(
    ctx: &mut LlamaContext,
    s: &Setting,
    len: u32,
    cfg: &BenchConfig,
    vocab: (i32, LlamaToken),
    bar: &ProgressBar,
) -> Result<PromptSamples> {
    let (decode, n_ctx, reps) = (cfg.decode_tokens, cfg.ctx, cfg.repetitions.max(1));
    let mut out = PromptSamples {
        prefill: Vec::new(),
        decode: Vec::new(),
        increment_ms: Vec::new(),
    };
    let inc = len + INCREMENT_TOKENS + decode <= n_ctx;
    for rep in 0..reps {
        ctx.clear_kv_cache();
        let prompt = tokens(len, vocab.0, vocab.1, len ^ (rep + 1));
        let t_pre = prefill(ctx, &prompt, s.batch)?;
        let mut depth = len;
        if inc {
            let more = tokens(INCREMENT_TOKENS, vocab.0, vocab.1, len ^ (rep + 7));
            let t_inc = prefill_at(ctx, &more, s.batch, len)?;
            out.increment_ms.push(t_inc * 1000.0);
            depth += INCREMENT_TOKENS;
        }
        let t_dec = generate(ctx, depth, decode, prompt[prompt.len() - 1])?;
        out.prefill.push(len as f64 / t_pre.max(1e-9));
        out.decode.push(decode as f64 / t_dec.max(1e-9));
        bar.inc(1);
    }
    Ok(out)
}

pub fn run(cfg: &BenchConfig, progress: bool) -> Result<BenchReport> {
    validate(cfg)?;
    let build = super::engine::facts().ok().map(|f| f.build);
    let (session, backend) = Session::start()?;
    let model = load(backend, &cfg.model, false)?;
    let _ = session.log();
    let vocab = model.vocab();
    let vocab = (model.n_vocab(), vocab.bos());
    let threads = cfg.threads.unwrap_or_else(default_threads);
    let reps = cfg.repetitions.max(1);

    let settings: Vec<Setting> = cfg
        .batches
        .iter()
        .flat_map(|&b| {
            cfg.flash_attn.iter().flat_map(move |&fa| {
                cfg.kv_types.iter().map(move |&kv| Setting {
                    batch: b,
                    ubatch: cfg.ubatch.min(b),
                    fa,
                    kv,
                })
            })
        })
        .collect();
    // Steps: every repetition of every prompt, plus the generation test, per setting.
    let steps = settings.len() as u64 * (cfg.prompts.len() as u64 + 1) * reps as u64;
    let bar = if progress && std::io::stderr().is_terminal() {
        ProgressBar::new(steps)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    // Ticks from indicatif's own thread, so the clock runs while llama.cpp computes.
    bar.enable_steady_tick(std::time::Duration::from_millis(250));

    let cpu_start = CpuSample::now();
    let mut runs = Vec::new();
    let mut generation = Vec::new();
    let mut skipped = Vec::new();
    for s in settings {
        let mut p = CacheParams::new(cfg.ctx as u64).with_cache_type(s.kv);
        p.flash_attn = s.fa;
        p.n_batch = s.batch;
        p.n_ubatch = s.ubatch;
        let params = context_params(&p)?
            .with_n_threads(threads as i32)
            .with_n_threads_batch(threads as i32);
        let ctx = model.new_context(backend, params);
        let log = session.log();
        let label = format!(
            "-b {} -ub {}, flash-attn {}, {} cache",
            s.batch,
            s.ubatch,
            if s.fa { "on" } else { "off" },
            s.kv.name
        );
        let mut ctx = match ctx {
            Ok(c) => c,
            Err(e) => {
                let reason = context_error(&log, e).message;
                skipped.push(Skipped {
                    batch: s.batch,
                    flash_attn: s.fa,
                    kv_type: s.kv.name.into(),
                    reason,
                });
                bar.inc((cfg.prompts.len() as u64 + 1) * reps as u64);
                continue;
            }
        };
        // Warm-up as llama-bench does: one untimed prompt and one untimed token, so the
        // first timed run does not pay for buffer setup, page faults and thread start.
        if cfg.warmup {
            bar.set_message(format!("{label}: warm-up"));
            ctx.clear_kv_cache();
            let first = cfg.prompts.iter().copied().min().unwrap_or(16);
            let warm = tokens(first, vocab.0, vocab.1, 0);
            prefill(&mut ctx, &warm, s.batch)?;
            generate(&mut ctx, first, 1, warm[warm.len() - 1])?;
        }
        for &len in &cfg.prompts {
            bar.set_message(format!("{label}: pp{len} + {} tokens", cfg.decode_tokens));
            let m = measure_prompt(&mut ctx, &s, len, cfg, vocab, &bar)?;
            let (pre_samples, dec_samples) = (m.prefill, m.decode);
            let (pre, dec) = (stat(&pre_samples), stat(&dec_samples));
            let increment = (!m.increment_ms.is_empty()).then(|| {
                let st = stat(&m.increment_ms);
                Increment {
                    tokens: INCREMENT_TOKENS,
                    ms: st.mean,
                    sd: st.sd,
                }
            });
            runs.push(BenchRun {
                prompt_tokens: len,
                batch: s.batch,
                ubatch: s.ubatch,
                flash_attn: s.fa,
                kv_type: s.kv.name.to_string(),
                prefill_tokens_per_s: pre.mean,
                prefill_sd: pre.sd,
                decode_tokens_per_s: dec.mean,
                decode_sd: dec.sd,
                repetitions: reps,
                prefill_samples: pre_samples,
                decode_samples: dec_samples,
                increment,
            });
        }
        // llama-bench's tgN: from an empty cache, one token per decode call.
        bar.set_message(format!("{label}: tg{}", cfg.decode_tokens));
        let mut tg = Vec::new();
        for _ in 0..reps {
            ctx.clear_kv_cache();
            let t = generate(&mut ctx, 0, cfg.decode_tokens, vocab.1)?;
            tg.push(cfg.decode_tokens as f64 / t.max(1e-9));
            bar.inc(1);
        }
        let tg_stat = stat(&tg);
        generation.push(GenRun {
            tokens: cfg.decode_tokens,
            batch: s.batch,
            ubatch: s.ubatch,
            flash_attn: s.fa,
            kv_type: s.kv.name.to_string(),
            tokens_per_s: tg_stat.mean,
            sd: tg_stat.sd,
            repetitions: reps,
            samples: tg,
        });
        let _ = session.log();
    }
    bar.finish_and_clear();
    let load = match (cpu_start, CpuSample::now()) {
        (Some(a), Some(b)) => load_between(&a, &b),
        _ => None,
    };
    let mut warnings: Vec<String> = load.as_ref().and_then(load_warning).into_iter().collect();
    if let Some(b) = &build {
        if !b.missing_cpu_features.is_empty() {
            warnings.push(format!(
                "this llama.cpp was built without {} which this CPU has; a build with RUSTFLAGS=\"-C target-cpu=native\" may be faster (docs/bench.md)",
                b.missing_cpu_features.join(", ")
            ));
        }
    }
    let recommended = recommend(&runs, &generation, &cfg.turn);
    let model_name = cfg
        .model
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(BenchReport {
        model: model_name,
        runs,
        generation,
        recommended,
        threads,
        repetitions: reps,
        warmup: cfg.warmup,
        build,
        load,
        warnings,
        skipped,
    })
}
