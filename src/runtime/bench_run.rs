//! Times prefill and decode with the embedded llama.cpp (wall clock around
//! `decode` + `synchronize`; llama.cpp's own perf counters book a 1-token prompt as "eval"
//! and are not used).

use super::bench::{recommend, BenchConfig, BenchReport, BenchRun, Skipped};
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
    let mut b = LlamaBatch::new(batch as usize, 1);
    let start = Instant::now();
    let mut pos = 0i32;
    for chunk in prompt.chunks(batch as usize) {
        b.clear();
        for (i, &t) in chunk.iter().enumerate() {
            let last = pos as usize + i + 1 == prompt.len();
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

pub fn run(cfg: &BenchConfig, progress: bool) -> Result<BenchReport> {
    validate(cfg)?;
    let (session, backend) = Session::start()?;
    let model = load(backend, &cfg.model, false)?;
    let _ = session.log();
    let vocab = model.vocab();
    let (n_vocab, bos) = (model.n_vocab(), vocab.bos());

    let combos: Vec<(u32, bool, crate::gguf::GgmlType)> = cfg
        .batches
        .iter()
        .flat_map(|&b| {
            cfg.flash_attn
                .iter()
                .flat_map(move |&fa| cfg.kv_types.iter().map(move |&t| (b, fa, t)))
        })
        .collect();
    let bar = if progress && std::io::stderr().is_terminal() {
        ProgressBar::new((combos.len() * cfg.prompts.len()) as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );

    let mut runs = Vec::new();
    let mut skipped = Vec::new();
    for (batch, fa, kv) in combos {
        let mut p = CacheParams::new(cfg.ctx as u64).with_cache_type(kv);
        p.flash_attn = fa;
        p.n_batch = batch;
        p.n_ubatch = batch;
        let mut params = context_params(&p)?;
        // llama.cpp's default is 4 threads whatever the machine; more threads than cores
        // makes ggml's spinning barrier crawl (0.2 tokens/s on 2 cores here).
        let threads = cfg.threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get() as u32)
                .unwrap_or(4)
        });
        params = params
            .with_n_threads(threads as i32)
            .with_n_threads_batch(threads as i32);
        let ctx = model.new_context(backend, params);
        let log = session.log();
        let mut ctx = match ctx {
            Ok(c) => c,
            Err(e) => {
                let reason = context_error(&log, e).message;
                skipped.push(Skipped {
                    batch,
                    flash_attn: fa,
                    kv_type: kv.name.into(),
                    reason,
                });
                bar.inc(cfg.prompts.len() as u64);
                continue;
            }
        };
        // Warm-up: first use pays for buffer setup and thread start.
        let warm = tokens(16.min(cfg.ctx), n_vocab, bos, 0);
        prefill(&mut ctx, &warm, batch)?;
        for (i, &len) in cfg.prompts.iter().enumerate() {
            bar.set_message(format!(
                "batch {batch}, flash-attn {}, {} cache, {len} tokens",
                if fa { "on" } else { "off" },
                kv.name
            ));
            ctx.clear_kv_cache();
            let prompt = tokens(len, n_vocab, bos, i as u32 + 1);
            let t_pre = prefill(&mut ctx, &prompt, batch)?;
            let t_dec = generate(&mut ctx, len, cfg.decode_tokens, prompt[prompt.len() - 1])?;
            runs.push(BenchRun {
                prompt_tokens: len,
                batch,
                flash_attn: fa,
                kv_type: kv.name.to_string(),
                prefill_tokens_per_s: len as f64 / t_pre.max(1e-9),
                decode_tokens_per_s: cfg.decode_tokens as f64 / t_dec.max(1e-9),
            });
            bar.inc(1);
        }
        let _ = session.log();
    }
    bar.finish_and_clear();
    let recommended = recommend(&runs, &cfg.turn);
    let model_name = cfg
        .model
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(BenchReport {
        model: model_name,
        runs,
        recommended,
        skipped,
    })
}
