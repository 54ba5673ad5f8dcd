//! `cclocal plan --measure`: each row's figures next to llama.cpp's own.

use crate::error::Result;
use crate::memory::{CacheParams, PlanRow};
use crate::model::ModelSource;
use crate::runtime::{measure_all, Measured};
use crate::units::mib;
use serde_json::json;
use std::fmt::Write;

/// Measures every row with exactly its parameters (one model load for all rows).
pub fn measure_rows(source: &ModelSource, params: &[CacheParams]) -> Result<Vec<Measured>> {
    measure_all(source.gguf_path()?, params)
}

/// Adds `"measured": {...}` to each JSON row.
pub fn add_json(v: &mut serde_json::Value, measured: &[Measured]) {
    let Some(rows) = v.get_mut("rows").and_then(|r| r.as_array_mut()) else {
        return;
    };
    for (row, m) in rows.iter_mut().zip(measured) {
        row["measured"] = json!({
            "kv_bytes": m.kv_bytes,
            "recurrent_bytes": m.recurrent_bytes,
            "compute_bytes": m.compute_bytes,
            "kv_exact": m.kv_exact,
            "recurrent_exact": m.recurrent_exact,
            "caches": m.caches,
        });
    }
}

/// Relative error of the compute estimate, in percent.
pub fn compute_error_pct(predicted: u64, measured: u64) -> Option<f64> {
    (measured > 0).then(|| (predicted as f64 - measured as f64) / measured as f64 * 100.0)
}

/// The predicted-vs-measured table.
pub fn text(rows: &[PlanRow], measured: &[Measured]) -> String {
    let mut s = String::new();
    if measured.is_empty() {
        return s;
    }
    let _ = writeln!(
        s,
        "\nMeasured by the embedded llama.cpp (model loaded without weights):"
    );
    let _ = writeln!(
        s,
        "{:>9}  {:<6} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>8}",
        "context",
        "KV",
        "KV pred",
        "KV llama",
        "recur pred",
        "recur llama",
        "compute est",
        "compute",
        "error"
    );
    let mut mismatches = 0;
    for (r, m) in rows.iter().zip(measured) {
        let kv_ok = r.kv_bytes == m.kv_bytes;
        let rs_ok = if m.recurrent_exact {
            r.recurrent_bytes == m.recurrent_bytes
        } else {
            crate::runtime::parse::mib_matches(
                m.recurrent_bytes as f64 / 1_048_576.0,
                r.recurrent_bytes,
            )
        };
        if !kv_ok || !rs_ok {
            mismatches += 1;
        }
        let err = compute_error_pct(r.compute_bytes, m.compute_bytes)
            .map(|e| format!("{e:+.1}%"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "{:>9}  {:<6} {:>12} {:>12}{} {:>12} {:>12}{} {:>12} {:>12} {:>8}",
            r.n_ctx,
            r.kv_type,
            mib(r.kv_bytes),
            mib(m.kv_bytes),
            if kv_ok { " " } else { "!" },
            mib(r.recurrent_bytes),
            mib(m.recurrent_bytes),
            if rs_ok { " " } else { "!" },
            mib(r.compute_bytes),
            mib(m.compute_bytes),
            err
        );
    }
    if mismatches > 0 {
        let _ = writeln!(s, "  ! {mismatches} row(s) differ from llama.cpp: please report this with the model's name");
    } else {
        let rs_note = if measured.iter().any(|m| !m.recurrent_exact) {
            " (recurrent state to llama.cpp's 0.01 MiB)"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "  KV cache and recurrent state match llama.cpp to the byte{rs_note}; the compute buffer is an estimate (error shown)"
        );
    }
    s
}
