//! The typical turn that `cclocal setup`, `cclocal doctor` and `cclocal bench` quote: one
//! function prices it, one formats it, one decides where the rates come from
//! (docs/session-time.md, "The typical turn in setup and doctor").
//!
//! Rates come, in this order, from the server's own recent log when it has timed requests
//! (measured on this server, this model), else from the newest `cclocal bench` report saved
//! for the same model in cclocal's state directory (`bench/<GGUF file name>.json`), else
//! there is no quote.

use super::from_server;
use super::rates::{from_bench_json, Rates};
use crate::error::{Error, Result};
use crate::logs::serverlog::ServerAnalysis;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The folder under cclocal's state directory where `cclocal bench` saves its reports.
pub const BENCH_DIR: &str = "bench";

/// A typical turn's predicted time at a context.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quote {
    /// Tokens of context the turn ends at.
    pub ctx: u64,
    /// With the prompt cache reused: only the turn's new tokens are evaluated.
    pub warm_ms: f64,
    /// With the whole prompt re-read.
    pub cold_ms: f64,
    /// Where the rates come from, in words ("your server's log, 12 timed requests",
    /// "cclocal bench on 2026-12-01").
    pub source: String,
    /// How far the rates are off their own measurements (relative RMS), where known.
    #[serde(default)]
    pub spread: Option<f64>,
}

/// A turn that starts with `start` tokens in the conversation, adds `new` and writes
/// `output`: (warm, cold) ms. Warm evaluates the new tokens only, cold the whole prompt; both
/// then decode at the prompt's depth. [`super::typical_turn`] is this with
/// `start = ctx − TYPICAL_NEW`, `new = TYPICAL_NEW`, `output = TYPICAL_OUTPUT`.
pub fn turn_ms(rates: &Rates, start: u64, new: u64, output: u64) -> (f64, f64) {
    let prompt = start + new;
    let decode = rates.decode.ms(prompt, prompt + output);
    let warm = rates.prefill.ms(start, prompt) + decode;
    let cold = rates.prefill.ms(0, prompt) + decode;
    (warm, cold)
}

/// The rates for a KV cache type: the q8_0 costs where the type is q8_0 and they were
/// measured, else the f16 ones.
pub fn for_kv(rates: &Rates, kv_type: Option<&str>) -> Rates {
    let mut r = rates.clone();
    if kv_type == Some("q8_0") {
        if let (Some(p), Some(d)) = (rates.prefill_q8, rates.decode_q8) {
            r.prefill = p;
            r.decode = d;
        }
    }
    r
}

/// The typical turn ([`super::typical_turn`]) at `ctx` tokens with `rates`.
pub fn quote(ctx: u64, rates: &Rates, source: &str) -> Quote {
    let (warm_ms, cold_ms) = super::typical_turn(ctx, rates);
    Quote {
        ctx,
        warm_ms,
        cold_ms,
        source: source.to_string(),
        spread: rates.spread,
    }
}

/// A duration for the sentence: `~4.2 s`, `~45 s`, `~3.5 min`.
pub fn approx(ms: f64) -> String {
    if ms.is_finite() {
        format!("~{}", crate::duration::human(ms))
    } else {
        "too long to predict".into()
    }
}

/// The one sentence: `a turn at 60K tokens: ~X s with the cache reused, ~Y s without (rates
/// from …)`.
pub fn sentence(q: &Quote) -> String {
    let within = match q.spread {
        // At least ±1%: a fit that matches its few points exactly is no better than that.
        Some(s) if s.is_finite() => format!("±{:.0}%, ", (s * 100.0).max(1.0)),
        _ => String::new(),
    };
    format!(
        "a turn at {} tokens: {} with the cache reused, {} without ({within}rates from {})",
        crate::units::tokens(q.ctx),
        approx(q.warm_ms),
        approx(q.cold_ms),
        q.source
    )
}

/// The hint where no rates are known, for a model served by `kind` at `host`: the embedded
/// bench where it can read the model (a GGUF file, an Ollama name), else `bench --host`,
/// which measures any kind through its API.
pub fn hint_for(
    model: &str,
    kind: Option<crate::server::ServerKind>,
    host: Option<&str>,
) -> String {
    use crate::server::ServerKind;
    let gguf = model.ends_with(".gguf") || std::path::Path::new(model).is_file();
    let embedded = match kind {
        None | Some(ServerKind::Ollama) => true,
        Some(ServerKind::LlamaServer) => gguf,
        Some(_) => false,
    };
    if embedded {
        return hint(model);
    }
    let h = host.unwrap_or("URL");
    format!(
        "`cclocal bench --host {h} --model {}` shows how long a turn takes at this context",
        crate::shell::quote::sh_quote(model)
    )
}

/// The hint where no rates are known (the embedded bench).
pub fn hint(model: &str) -> String {
    format!("`cclocal bench {model}` shows how long a turn takes at this context")
}

/// Timed requests a server log needs before its rates price a turn.
pub const MIN_TIMED: usize = 4;

/// Rates from a server log's timing lines, for the model it loaded last (an older model's
/// requests in the same log say nothing about this one), and how many timed requests they
/// come from. `None` without [`MIN_TIMED`] timed requests whose prompts span depth
/// ([`super::rates::spans_depth`]), or without a fit ([`server_rates_why`] says which).
pub fn server_rates(a: &ServerAnalysis) -> Option<(Rates, usize)> {
    server_rates_why(a).ok()
}

/// [`server_rates`], or why the log cannot price a turn yet.
pub fn server_rates_why(a: &ServerAnalysis) -> std::result::Result<(Rates, usize), String> {
    let last_model = a.loads.iter().rev().find_map(|l| l.model.clone());
    let mut mine = a.clone();
    if let Some(m) = &last_model {
        mine.tasks.retain(|t| {
            t.load
                .and_then(|i| a.loads.get(i))
                .and_then(|l| l.model.as_ref())
                .map_or(true, |tm| tm == m)
        });
    }
    let n = mine.timed().count();
    let spans = {
        let segs: Vec<super::Segment> = mine
            .timed()
            .filter_map(|t| {
                let to = t.prompt_tokens?;
                let from = t.cached_tokens().unwrap_or(0);
                Some(super::Segment {
                    from: from.min(to),
                    to,
                    ms: t.prefill_ms?,
                })
            })
            .collect();
        super::rates::spans_depth(&segs)
    };
    if n < MIN_TIMED || !spans {
        return Err(format!(
            "not enough data in the server's log yet: {n} timed request{}{}",
            if n == 1 { "" } else { "s" },
            if n >= MIN_TIMED {
                ", all at about the same depth".to_string()
            } else {
                format!(", {MIN_TIMED} spread over depth are needed")
            }
        ));
    }
    let rates = from_server::rates(&mine)
        .ok_or_else(|| "the server's log has no timed request to fit".to_string())?;
    Ok((rates, n))
}

/// The source words for a server log's rates.
pub fn server_source(requests: usize) -> String {
    format!(
        "your server's log, {requests} timed request{}",
        if requests == 1 { "" } else { "s" }
    )
}

/// A saved `cclocal bench` report.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedBench {
    pub path: PathBuf,
    /// The model as `cclocal bench` was given it (a path or an Ollama name).
    pub model_arg: Option<String>,
    /// `2026-12-01T05:49:53.000Z`, when the file says.
    pub saved_at: Option<String>,
    pub rates: Rates,
    /// The server `cclocal bench --host` measured (`None`: the embedded llama.cpp).
    pub host: Option<String>,
}

impl SavedBench {
    /// `cclocal bench on 2026-12-01`, or `cclocal bench --host on 2026-12-01 (your server)`.
    pub fn source(&self) -> String {
        let what = if self.host.is_some() {
            "cclocal bench --host"
        } else {
            "cclocal bench"
        };
        let mine = if self.host.is_some() {
            " (your server)"
        } else {
            ""
        };
        match self.saved_at.as_deref().and_then(|s| s.get(..10)) {
            Some(d) => format!("{what} on {d}{mine}"),
            None => format!("{what} ({}){mine}", self.path.display()),
        }
    }
}

/// Where the report of a bench of `gguf` is saved: `STATE/bench/<file name>.json`.
pub fn bench_path(state_dir: &Path, gguf: &Path) -> Result<PathBuf> {
    let name = gguf.file_name().ok_or_else(|| {
        Error::usage(format!(
            "the benched model path {} names no file",
            gguf.display()
        ))
    })?;
    let mut file = name.to_os_string();
    file.push(".json");
    Ok(state_dir.join(BENCH_DIR).join(file))
}

/// Saves a `cclocal bench --json` report (any serialisable object) for `gguf`, benched as
/// `model_arg`, at `now_ms`: the report's own fields plus `model_arg`, `gguf_path` and
/// `saved_at`, written atomically (temporary file, then rename) with mode 0600. Returns the
/// path written.
pub fn save_bench(
    state_dir: &Path,
    gguf: &Path,
    model_arg: &str,
    report: &impl Serialize,
    now_ms: i64,
) -> Result<PathBuf> {
    let path = bench_path(state_dir, gguf)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    save_named(state_dir, &name, model_arg, Some(gguf), report, now_ms)
}

/// [`save_bench`] under the file name `file` (`bench --host` saves `host-<model>.json`);
/// `gguf_path` only where there is one.
pub fn save_named(
    state_dir: &Path,
    file: &str,
    model_arg: &str,
    gguf: Option<&Path>,
    report: &impl Serialize,
    now_ms: i64,
) -> Result<PathBuf> {
    let path = state_dir.join(BENCH_DIR).join(file);
    let mut v = serde_json::to_value(report).map_err(|e| Error::parse(e.to_string()))?;
    let obj = v
        .as_object_mut()
        .ok_or_else(|| Error::parse("a bench report must be a JSON object"))?;
    obj.insert("model_arg".into(), model_arg.into());
    if let Some(g) = gguf {
        obj.insert("gguf_path".into(), g.display().to_string().into());
    }
    obj.insert(
        "saved_at".into(),
        crate::logs::time::format_iso_ms(now_ms).into(),
    );
    let text = serde_json::to_string_pretty(&v).map_err(|e| Error::parse(e.to_string()))?;
    crate::fs::private_dir(state_dir)?;
    let dir = state_dir.join(BENCH_DIR);
    crate::fs::private_dir(&dir)?;
    crate::fs::write_atomic(&path, text.as_bytes(), 0o600)?;
    Ok(path)
}

/// Whether a saved report is for one of `keys` (model names as the server or Claude Code
/// call them, GGUF paths or file names): its file is `<key's file name>.json`, or its
/// `model_arg` is the same model.
fn matches(file_stem: &str, model_arg: Option<&str>, keys: &[String]) -> bool {
    keys.iter().filter(|k| !k.trim().is_empty()).any(|k| {
        let base = Path::new(k)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| k.clone());
        base == file_stem
            || model_arg.is_some_and(|m| {
                m == k
                    || crate::server::same_model(m, k)
                    || Path::new(m)
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy() == base)
            })
    })
}

/// The saved bench report for one of `keys` whose rates can be fitted: the newest of the
/// user's server (`bench --host`), else the newest of the embedded llama.cpp; `None` when
/// there is none (or the folder cannot be read).
pub fn find_bench(state_dir: &Path, keys: &[String]) -> Option<SavedBench> {
    let rd = std::fs::read_dir(state_dir.join(BENCH_DIR)).ok()?;
    let mut found: Vec<((bool, String), SavedBench)> = Vec::new();
    for e in rd.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".json") else {
            continue;
        };
        let Ok(text) = crate::fsread::read_to_string(&path, crate::fsread::SMALL) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let model_arg = v["model_arg"].as_str().map(String::from);
        if !matches(stem, model_arg.as_deref(), keys) {
            continue;
        }
        let saved_at = v["saved_at"].as_str().map(String::from);
        let mut saved = SavedBench {
            path: path.clone(),
            model_arg,
            saved_at,
            host: v["host"].as_str().map(String::from),
            rates: match from_bench_json(&text, &path.display().to_string()) {
                Ok(r) => r,
                Err(_) => continue,
            },
        };
        saved.rates.source = saved.source();
        // Newest first: the saved time, else the file's modification time.
        let order = saved.saved_at.clone().unwrap_or_else(|| {
            e.metadata()
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| crate::logs::time::format_iso_ms(d.as_millis() as i64))
                .unwrap_or_default()
        });
        found.push(((saved.host.is_some(), order), saved));
    }
    found
        .into_iter()
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, s)| s)
}

/// The quote at `ctx` from the first source that has rates: the server's log (its rates and
/// timed requests), else a saved bench; `kv_type` picks the q8_0 rates where measured.
pub fn choose(
    ctx: u64,
    server: Option<(&Rates, usize)>,
    bench: Option<&SavedBench>,
    kv_type: Option<&str>,
) -> Option<Quote> {
    if ctx == 0 {
        return None;
    }
    if let Some((r, n)) = server {
        return Some(quote(ctx, &for_kv(r, kv_type), &server_source(n)));
    }
    let b = bench?;
    Some(quote(ctx, &for_kv(&b.rates, kv_type), &b.source()))
}

#[cfg(test)]
mod tests {
    use super::super::rates::Cost;
    use super::*;

    fn rates(prefill: f64, decode: f64) -> Rates {
        Rates::flat(prefill, decode, "test")
    }

    fn bench_text(prefill: f64) -> String {
        format!(
            r#"{{"model":"m","runs":[
            {{"prompt_tokens":512,"batch":2048,"flash_attn":true,"kv_type":"f16","prefill_tokens_per_s":{prefill},"decode_tokens_per_s":50.0}},
            {{"prompt_tokens":2048,"batch":2048,"flash_attn":true,"kv_type":"f16","prefill_tokens_per_s":{},"decode_tokens_per_s":40.0}}],
            "generation":[]}}"#,
            prefill * 0.8
        )
    }

    #[test]
    fn turn_ms_is_typical_turn() {
        let r = Rates {
            prefill: Cost {
                a_ms: 1.4,
                b_ms: 0.00012,
                c_ms: 30.0,
            },
            decode: Cost {
                a_ms: 10.6,
                b_ms: 0.00035,
                c_ms: 0.0,
            },
            ..rates(1.0, 1.0)
        };
        let ctx = 61_440;
        let (w, c) = super::super::typical_turn(ctx, &r);
        let (w2, c2) = turn_ms(
            &r,
            ctx - super::super::TYPICAL_NEW,
            super::super::TYPICAL_NEW,
            super::super::TYPICAL_OUTPUT,
        );
        assert_eq!((w, c), (w2, c2));
        assert!(w < c);
    }

    #[test]
    fn sentence_reads_as_the_issue_says() {
        let q = Quote {
            ctx: 61_440,
            warm_ms: 4_240.0,
            cold_ms: 200_000.0,
            source: "cclocal bench on 2026-12-01".into(),
            spread: None,
        };
        assert_eq!(
            sentence(&q),
            "a turn at 60K tokens: ~4.2 s with the cache reused, ~3.3 min without (rates from cclocal bench on 2026-12-01)"
        );
        assert_eq!(approx(45_400.0), "~45 s");
        assert_eq!(approx(f64::INFINITY), "too long to predict");
        // A context that is not a multiple of 1024 prints in full.
        let q = Quote { ctx: 60_000, ..q };
        assert!(sentence(&q).starts_with("a turn at 60000 tokens:"));
    }

    #[test]
    fn the_server_log_wins_over_a_bench_and_nothing_gives_none() {
        let server = rates(100.0, 10.0);
        let bench = SavedBench {
            path: "/s/bench/m.gguf.json".into(),
            model_arg: Some("m".into()),
            saved_at: Some("2026-12-01T05:49:53.000Z".into()),
            rates: rates(1000.0, 50.0),
            host: None,
        };
        let q = choose(8192, Some((&server, 12)), Some(&bench), None).unwrap();
        assert_eq!(q.source, "your server's log, 12 timed requests");
        assert_eq!(
            (q.warm_ms, q.cold_ms),
            super::super::typical_turn(8192, &server)
        );
        let q = choose(8192, None, Some(&bench), None).unwrap();
        assert_eq!(q.source, "cclocal bench on 2026-12-01");
        assert_eq!(
            (q.warm_ms, q.cold_ms),
            super::super::typical_turn(8192, &bench.rates)
        );
        assert!(choose(8192, None, None, None).is_none());
        assert!(choose(0, Some((&server, 1)), None, None).is_none());
        assert_eq!(server_source(1), "your server's log, 1 timed request");
    }

    #[test]
    fn q8_rates_are_used_for_a_q8_cache_when_measured() {
        let mut r = rates(100.0, 10.0);
        assert_eq!(for_kv(&r, Some("q8_0")), r);
        r.prefill_q8 = Some(Cost::flat(50.0));
        r.decode_q8 = Some(Cost::flat(5.0));
        let q = for_kv(&r, Some("q8_0"));
        assert_eq!(q.prefill, Cost::flat(50.0));
        assert_eq!(for_kv(&r, Some("f16")).prefill, Cost::flat(100.0));
    }

    #[test]
    fn saved_bench_round_trips_and_the_newest_match_wins() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state/cclocal");
        let report: serde_json::Value = serde_json::from_str(&bench_text(512.0)).unwrap();
        let p = save_bench(
            &state,
            Path::new("/blobs/sha256-abc"),
            "qwen3-coder:30b",
            &report,
            1_764_568_193_000,
        )
        .unwrap();
        assert_eq!(p, state.join("bench/sha256-abc.json"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let saved: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        assert_eq!(saved["model_arg"], "qwen3-coder:30b");
        assert_eq!(saved["gguf_path"], "/blobs/sha256-abc");
        assert_eq!(saved["saved_at"], "2025-12-01T05:49:53.000Z");
        assert_eq!(saved["runs"][0]["prompt_tokens"], 512);
        // No temporary file left beside it.
        let names: Vec<String> = std::fs::read_dir(state.join("bench"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["sha256-abc.json"]);

        // Found by the Ollama name (latest tag implied or not) and by the file name.
        let by_name = find_bench(&state, &["qwen3-coder:30b".into()]).unwrap();
        assert_eq!(by_name.source(), "cclocal bench on 2025-12-01");
        assert_eq!(
            by_name.rates,
            from_bench_json(&bench_text(512.0), "x")
                .map(|mut r| {
                    r.source = by_name.source();
                    r
                })
                .unwrap()
        );
        assert!(find_bench(&state, &["/elsewhere/sha256-abc".into()]).is_some());
        assert!(find_bench(&state, &["llama3:8b".into()]).is_none());
        assert!(find_bench(&dir.path().join("nowhere"), &["m".into()]).is_none());

        // A newer bench of the same model under another file (re-pulled blob) wins.
        save_bench(
            &state,
            Path::new("/blobs/sha256-def"),
            "qwen3-coder:30b",
            &serde_json::from_str::<serde_json::Value>(&bench_text(1024.0)).unwrap(),
            1_764_654_593_000,
        )
        .unwrap();
        let newest = find_bench(&state, &["qwen3-coder:30b".into()]).unwrap();
        assert_eq!(newest.path, state.join("bench/sha256-def.json"));
        assert_eq!(newest.source(), "cclocal bench on 2025-12-02");
        // A damaged file is skipped, not an error.
        std::fs::write(state.join("bench/broken.gguf.json"), "{not json").unwrap();
        assert!(find_bench(&state, &["broken.gguf".into()]).is_none());
        // A report that is not an object is refused with a clear error.
        let e = save_bench(&state, Path::new("/m.gguf"), "m", &vec![1, 2], 0).unwrap_err();
        assert!(e.message.contains("JSON object"), "{}", e.message);
    }

    /// Real llama-server b11434 log (tests/fixtures/server-logs): its timed requests give
    /// rates, and the quote says how many.
    #[test]
    fn rates_from_a_real_server_log() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/server-logs/llama-server-b11434-claude-session.log");
        let a = crate::logs::serverlog::analyze::analyze_tail(&p, 16 << 20).unwrap();
        let (r, n) = server_rates(&a).unwrap();
        assert!(n >= 2, "{n}");
        assert_eq!(n, a.timed().count());
        let (w, c) = super::super::typical_turn(16_384, &r);
        assert!(w > 0.0 && w < c, "{w} {c}");
        // An empty log has nothing to say.
        let empty = crate::logs::serverlog::ServerAnalyzer::new().finish();
        assert!(server_rates(&empty).is_none());
    }

    /// Issue 21: after two timed requests the log priced a turn at 32K from a decode fit that
    /// put all its cost in the depth term. Two requests are not enough: the reason says so.
    #[test]
    fn two_requests_are_not_enough_to_quote() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/server-logs/llama-server-b11434-claude-session.log");
        let text = std::fs::read_to_string(&p).unwrap();
        let two: String = text.lines().take(86).map(|l| format!("{l}\n")).collect();
        let a = crate::logs::serverlog::analyze::analyze_bytes(two.as_bytes());
        assert_eq!(a.timed().count(), 2);
        let why = server_rates_why(&a).unwrap_err();
        assert!(
            why.contains("not enough data") && why.contains("2 timed requests"),
            "{why}"
        );
        assert!(server_rates(&a).is_none());
        // The whole log spans depth: it quotes, with its uncertainty.
        let all = crate::logs::serverlog::analyze::analyze_bytes(text.as_bytes());
        let (r, _) = server_rates(&all).unwrap();
        assert!(r.decode.rate_at(0).is_finite() && r.prefill.rate_at(0).is_finite());
        let q = quote(32_768, &r, "log");
        // Physically sane: no turn at 32K takes longer than re-reading and writing at the
        // slowest rate the log measured, with room for the depth.
        assert!(q.cold_ms < 32_768.0 * 10.0 + 300.0 * 60.0 * 3.0, "{q:?}");
    }

    #[test]
    fn the_sentence_shows_the_uncertainty() {
        let q = Quote {
            ctx: 32_768,
            warm_ms: 5_000.0,
            cold_ms: 60_000.0,
            source: "your server's log, 9 timed requests".into(),
            spread: Some(0.123),
        };
        assert!(
            sentence(&q).contains("(±12%, rates from your server's log"),
            "{}",
            sentence(&q)
        );
    }

    #[test]
    fn hints_name_what_can_work_for_the_kind() {
        use crate::server::ServerKind;
        let h = hint_for(
            "qwen/qwen3-coder-30b",
            Some(ServerKind::LmStudio),
            Some("http://127.0.0.1:1234"),
        );
        assert!(
            h.contains("cclocal bench --host http://127.0.0.1:1234 --model qwen/qwen3-coder-30b"),
            "{h}"
        );
        let h = hint_for("mlx-community/Qwen3-4bit", Some(ServerKind::MlxLm), None);
        assert!(h.contains("bench --host"), "{h}");
        assert_eq!(
            hint_for("qwen3:8b", Some(ServerKind::Ollama), None),
            hint("qwen3:8b")
        );
        assert_eq!(
            hint_for("/m/x.gguf", Some(ServerKind::LlamaServer), None),
            hint("/m/x.gguf")
        );
        assert!(hint_for(
            "served-alias",
            Some(ServerKind::LlamaServer),
            Some("h:8080")
        )
        .contains("bench --host h:8080"));
    }

    #[test]
    fn a_host_bench_wins_over_a_newer_embedded_one() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let mut host: serde_json::Value = serde_json::from_str(&bench_text(300.0)).unwrap();
        host["host"] = "http://127.0.0.1:8080".into();
        save_named(&state, "host-m.json", "m", None, &host, 1_764_568_193_000).unwrap();
        let embedded: serde_json::Value = serde_json::from_str(&bench_text(900.0)).unwrap();
        save_bench(&state, Path::new("/x/m"), "m", &embedded, 1_764_654_593_000).unwrap();
        let b = find_bench(&state, &["m".into()]).unwrap();
        assert_eq!(
            b.source(),
            "cclocal bench --host on 2025-12-01 (your server)"
        );
        assert!(b.path.ends_with("host-m.json"));
    }
}
