//! Parses llama.cpp's own memory report out of its log.
//!
//! The format strings are those of the vendored llama.cpp (`docs/llama-memory.md`,
//! "llama.cpp's memory report"):
//!
//! ```text
//! llama_context: n_ctx         = 4096
//! llama_kv_cache_iswa: creating non-SWA KV cache, size = 4096 cells
//! llama_kv_cache: size =   12.00 MiB (  4096 cells,   3 layers,  1/1 seqs), K (f16):    6.00 MiB, V (f16):    6.00 MiB
//! llama_memory_recurrent: size =   75.38 MiB (     1 cells,  48 layers,  1 seqs  0 rs_seq), R (f32):    3.38 MiB, S (f32):   72.00 MiB, P (f32):    0.00 MiB
//! sched_reserve:        CPU compute buffer size =    81.00 MiB
//! ```
//!
//! Only the text after the `func: ` prefix is relied on, because older llama.cpp builds
//! used other function names for the same lines.

use serde::Serialize;

/// One KV cache instance as llama.cpp reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggedCache {
    /// `"kv"` (full attention) or `"kv_swa"` (sliding window), from the preceding
    /// `creating … KV cache` line; `"kv"` when there is none.
    pub name: String,
    pub size_mib: f64,
    pub cells: u64,
    pub layers: u32,
    /// `n_seq_max` of the context.
    pub seqs: u32,
    /// Streams (`n_seq_max` when not unified, else 1).
    pub streams: u32,
    pub type_k: String,
    pub k_mib: f64,
    pub type_v: String,
    pub v_mib: f64,
}

/// The recurrent state line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggedRecurrent {
    pub size_mib: f64,
    /// Rows per layer (`max(1, n_seq_max)`), llama.cpp calls them cells.
    pub cells: u64,
    /// `n_layer()` of the model (all layers, not only the recurrent ones).
    pub layers: u32,
    pub seqs: u32,
    pub rs_seq: u32,
    pub r_mib: f64,
    pub s_mib: f64,
    pub p_mib: f64,
}

/// One `… buffer size = X MiB` line: the buffer's name (`CPU`, `MTL0`, `CUDA0`) and size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggedBuffer {
    pub buffer: String,
    pub mib: f64,
}

/// Everything the memory report of one context creation says.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MemoryLog {
    pub n_ctx: Option<u64>,
    pub n_ctx_seq: Option<u64>,
    pub caches: Vec<LoggedCache>,
    pub recurrent: Option<LoggedRecurrent>,
    pub compute: Vec<LoggedBuffer>,
    pub output: Vec<LoggedBuffer>,
}

impl MemoryLog {
    pub fn compute_mib(&self) -> f64 {
        self.compute.iter().map(|b| b.mib).sum()
    }
}

/// The text after the first `": "` (the `func: ` prefix), or the whole line.
fn body(line: &str) -> &str {
    match line.find(": ") {
        Some(i) if !line[..i].contains(' ') => &line[i + 2..],
        _ => line,
    }
}

fn tokens(s: &str) -> Vec<&str> {
    s.split(|c: char| c.is_whitespace() || "(),:/".contains(c))
        .filter(|t| !t.is_empty())
        .collect()
}

/// The token `back` places before the first occurrence of `word`.
fn before<'a>(t: &[&'a str], word: &str, back: usize) -> Option<&'a str> {
    let i = t.iter().position(|x| *x == word)?;
    i.checked_sub(back).map(|j| t[j])
}

/// The token `ahead` places after the first occurrence of `word`.
fn after<'a>(t: &[&'a str], word: &str, ahead: usize) -> Option<&'a str> {
    let i = t.iter().position(|x| *x == word)?;
    t.get(i + ahead).copied()
}

fn num<T: std::str::FromStr>(s: Option<&str>) -> Option<T> {
    s?.parse().ok()
}

fn parse_cache(b: &str, name: &str) -> Option<LoggedCache> {
    let t = tokens(b);
    Some(LoggedCache {
        name: name.to_string(),
        size_mib: num(after(&t, "=", 1))?,
        cells: num(before(&t, "cells", 1))?,
        layers: num(before(&t, "layers", 1))?,
        seqs: num(before(&t, "seqs", 2))?,
        streams: num(before(&t, "seqs", 1))?,
        type_k: after(&t, "K", 1)?.to_string(),
        k_mib: num(after(&t, "K", 2))?,
        type_v: after(&t, "V", 1)?.to_string(),
        v_mib: num(after(&t, "V", 2))?,
    })
}

fn parse_recurrent(b: &str) -> Option<LoggedRecurrent> {
    let t = tokens(b);
    Some(LoggedRecurrent {
        size_mib: num(after(&t, "=", 1))?,
        cells: num(before(&t, "cells", 1))?,
        layers: num(before(&t, "layers", 1))?,
        seqs: num(before(&t, "seqs", 1))?,
        rs_seq: num(before(&t, "rs_seq", 1))?,
        r_mib: num(after(&t, "R", 2))?,
        s_mib: num(after(&t, "S", 2))?,
        p_mib: num(after(&t, "P", 2)).unwrap_or(0.0),
    })
}

fn parse_buffer(b: &str, what: &str) -> Option<LoggedBuffer> {
    let (name, rest) = b.split_once(what)?;
    let mib = rest
        .trim()
        .strip_prefix('=')?
        .trim()
        .strip_suffix("MiB")?
        .trim()
        .parse()
        .ok()?;
    Some(LoggedBuffer {
        buffer: name.trim().to_string(),
        mib,
    })
}

/// `   = 4096` → 4096 (not `(4096) < n_ctx_train …`).
fn assigned(v: &str) -> Option<u64> {
    v.trim().strip_prefix('=')?.trim().parse().ok()
}

/// Parses the memory report out of llama.cpp's log text.
pub fn parse_memory_log(log: &str) -> MemoryLog {
    let mut out = MemoryLog::default();
    let mut next_name = "kv";
    for line in log.lines() {
        let b = body(line.trim_end());
        if let Some(v) = b.strip_prefix("n_ctx ").and_then(assigned) {
            out.n_ctx = Some(v);
        } else if let Some(v) = b.strip_prefix("n_ctx_seq ").and_then(assigned) {
            out.n_ctx_seq = Some(v);
        } else if b.starts_with("creating non-SWA KV cache") {
            next_name = "kv";
        } else if b.starts_with("creating") && b.contains("SWA KV cache") {
            next_name = "kv_swa";
        } else if b.starts_with("size =") && b.contains("rs_seq") {
            out.recurrent = parse_recurrent(b);
        } else if b.starts_with("size =") && b.contains(" cells") {
            if let Some(c) = parse_cache(b, next_name) {
                out.caches.push(c);
            }
            next_name = "kv";
        } else if b.contains(" compute buffer size =") {
            out.compute.extend(parse_buffer(b, " compute buffer size"));
        } else if b.contains(" output buffer size =") {
            out.output.extend(parse_buffer(b, " output buffer size"));
        }
    }
    out
}

/// Whether a logged `MiB` figure (printed with `%.2f` from a float) is `bytes`.
pub fn mib_matches(logged_mib: f64, bytes: u64) -> bool {
    let exact = bytes as f64 / 1_048_576.0;
    // %.2f of a single-precision float: half a hundredth plus the float's own rounding.
    (logged_mib - exact).abs() <= 0.005 + exact * 1e-7 + 1e-9
}

/// The unique integer `w` with `round2(w * n / 2^20) == logged_mib`, if there is one and it
/// is a multiple of `step`: recovers an exact per-cell byte count from a logged size when
/// `n` (cells × streams) is large enough.
pub fn unique_per_unit(logged_mib: f64, n: u64, step: u64) -> Option<u64> {
    if n == 0 || step == 0 {
        return None;
    }
    let slack = 0.005 + logged_mib * 1e-7 + 1e-9;
    let lo = ((logged_mib - slack).max(0.0) * 1_048_576.0 / n as f64).ceil() as u64;
    let hi = ((logged_mib + slack) * 1_048_576.0 / n as f64).floor() as u64;
    let first = lo.div_ceil(step) * step;
    if first > hi {
        return None;
    }
    (first + step > hi).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    const QWEN: &str = "llama_context: n_ctx                 = 32768
llama_context: n_ctx_seq             = 32768
llama_context: n_ctx_seq (32768) < n_ctx_train (262144) -- the full capacity of the model will not be utilized
llama_kv_cache:        CPU KV buffer size =   408.00 MiB
llama_kv_cache: size =  408.00 MiB ( 32768 cells,  12 layers,  1/1 seqs), K (q8_0):  204.00 MiB, V (q8_0):  204.00 MiB
llama_memory_recurrent:        CPU RS buffer size =    75.38 MiB
llama_memory_recurrent: size =   75.38 MiB (     1 cells,  48 layers,  1 seqs  0 rs_seq), R (f32):    3.38 MiB, S (f32):   72.00 MiB, P (f32):    0.00 MiB
sched_reserve:        CPU compute buffer size =    81.00 MiB
llama_context:        CPU  output buffer size =     0.58 MiB
";

    #[test]
    fn parses_hybrid_report() {
        let m = parse_memory_log(QWEN);
        assert_eq!(m.n_ctx, Some(32768));
        assert_eq!(m.n_ctx_seq, Some(32768));
        assert_eq!(m.caches.len(), 1);
        let c = &m.caches[0];
        assert_eq!((c.cells, c.layers, c.seqs, c.streams), (32768, 12, 1, 1));
        assert_eq!(
            (c.type_k.as_str(), c.k_mib, c.v_mib),
            ("q8_0", 204.0, 204.0)
        );
        let r = m.recurrent.unwrap();
        assert_eq!((r.cells, r.layers, r.seqs, r.rs_seq), (1, 48, 1, 0));
        assert_eq!((r.r_mib, r.s_mib, r.size_mib), (3.38, 72.0, 75.38));
        assert_eq!(
            m.compute,
            vec![LoggedBuffer {
                buffer: "CPU".into(),
                mib: 81.0
            }]
        );
        assert_eq!(m.output[0].mib, 0.58);
    }

    #[test]
    fn names_iswa_instances() {
        let log = "llama_kv_cache_iswa: creating non-SWA KV cache, size = 4096 cells
llama_kv_cache: size =   12.00 MiB (  4096 cells,   3 layers,  4/4 seqs), K (f16):    6.00 MiB, V (f16):    6.00 MiB
llama_kv_cache_iswa: creating     SWA KV cache, size = 768 cells
llama_kv_cache: size =   15.00 MiB (   768 cells,  15 layers,  4/4 seqs), K (f16):    7.50 MiB, V (f16):    7.50 MiB
sched_reserve:       MTL0 compute buffer size =   100.50 MiB
sched_reserve:   CPU_Host compute buffer size =     1.25 MiB
";
        let m = parse_memory_log(log);
        let names: Vec<_> = m
            .caches
            .iter()
            .map(|c| (c.name.as_str(), c.cells, c.streams))
            .collect();
        assert_eq!(names, vec![("kv", 4096, 4), ("kv_swa", 768, 4)]);
        assert_eq!(m.compute_mib(), 101.75);
        assert_eq!(m.compute[1].buffer, "CPU_Host");
    }

    #[test]
    fn mib_comparison_and_recovery() {
        assert!(mib_matches(12.0, 12 << 20));
        assert!(mib_matches(75.38, 79_036_416));
        assert!(!mib_matches(75.38, 79_036_416 + 20_000));
        // 576 B/cell over 32768 cells = 18.00 MiB: recovered exactly.
        assert_eq!(unique_per_unit(18.0, 32768, 2), Some(576));
        // Too few cells: ambiguous.
        assert_eq!(unique_per_unit(0.28, 512, 2), None);
    }

    #[test]
    fn ignores_noise() {
        let m = parse_memory_log("garbage\nllama_kv_cache: size = broken\n");
        assert!(m.caches.is_empty() && m.recurrent.is_none());
    }
}
