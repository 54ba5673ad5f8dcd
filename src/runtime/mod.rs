//! The embedded llama.cpp (`llama-cpp-2`, cargo feature `runtime`, on by default).
//!
//! * [`devices`]: facts about the linked llama.cpp and every backend device (the doctor's
//!   runtime section).
//! * [`measure`]: llama.cpp's own KV / recurrent / compute buffer sizes for one set of
//!   context parameters, the authoritative check of the planner's figures.
//! * [`bench::run`]: prefill and decode speed on this machine (`cclocal bench`).
//! * [`device_budget`]: the Metal / CUDA device memory the planner budgets against.
//!
//! The types are plain data and exist in every build; without the feature the functions
//! return an [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) error that says how
//! to rebuild. llama.cpp's log is captured and parsed, and echoed only with `-v`.

pub mod bench;
pub mod bench_stats;
pub mod host_bench;
pub mod parse;

#[cfg(feature = "runtime")]
mod bench_run;
#[cfg(feature = "runtime")]
mod engine;
#[cfg(feature = "runtime")]
mod measure;

#[cfg(not(feature = "runtime"))]
use crate::error::Error;
use crate::error::Result;
use crate::memory::{Budget, BudgetSource, CacheParams};
use parse::{LoggedCache, MemoryLog};
use serde::Serialize;
use std::path::Path;

/// The pinned binding versions (Cargo.toml pins them exactly).
pub const CRATE_VERSION: &str = "llama-cpp-2 0.1.160";
pub const SYS_VERSION: &str = "llama-cpp-sys-2 0.1.161";

/// The linked llama.cpp build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildInfo {
    pub crate_version: String,
    pub sys_version: String,
    /// `llama_print_system_info()`: every backend's compiled features.
    pub system_info: String,
    /// CPU features this CPU has but the CPU backend was built without (x86-64: AVX2,
    /// FMA, F16C, AVX512…): the build is slower than it could be.
    pub missing_cpu_features: Vec<String>,
}

/// One ggml backend device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    pub index: usize,
    /// `CPU`, `MTL0`, `CUDA0`, `Vulkan0`.
    pub name: String,
    /// The backend's registry name: `CPU`, `Metal`, `CUDA`, `Vulkan`.
    pub backend: String,
    pub description: String,
    /// Bytes. On Metal: `recommendedMaxWorkingSetSize`.
    pub memory_total: u64,
    pub memory_free: u64,
    /// `cpu`, `gpu`, `integratedgpu`, `accelerator`, `unknown`.
    pub kind: String,
}

/// Facts about the embedded runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuntimeFacts {
    pub build: BuildInfo,
    pub devices: Vec<Device>,
    pub gpu_offload: bool,
    /// CPU backend features compiled in and enabled (`AVX2`, `FMA`, `NEON`, …).
    pub cpu_features: Vec<String>,
}

/// One measured KV cache instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasuredCache {
    #[serde(flatten)]
    pub logged: LoggedCache,
    pub k_bytes: u64,
    pub v_bytes: u64,
    /// Whether `k_bytes`/`v_bytes` are exact (see `measure.rs`); else rounded MiB.
    pub exact: bool,
}

/// What llama.cpp allocates for one set of context parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measured {
    pub n_ctx: u64,
    pub n_ctx_seq: u64,
    pub kv_bytes: u64,
    pub kv_exact: bool,
    pub caches: Vec<MeasuredCache>,
    /// R + S (+ P) of the recurrent state.
    pub recurrent_bytes: u64,
    /// Exact when the logged figure pins the bytes down; otherwise to 0.01 MiB.
    pub recurrent_exact: bool,
    /// Sum of every backend's compute buffer (to 0.01 MiB each).
    pub compute_bytes: u64,
    pub output_bytes: u64,
    #[serde(skip)]
    pub log: MemoryLog,
}

#[cfg(not(feature = "runtime"))]
fn unsupported(what: &str) -> Error {
    Error::unsupported(format!(
        "{what} needs the embedded llama.cpp, which this build of cclocal does not contain"
    ))
    .with_hint(
        "rebuild with the runtime: cargo install cclocal --features runtime (it is on by default)",
    )
}

/// Echo llama.cpp's own log on stderr (`-v`).
pub fn set_verbose(on: bool) {
    #[cfg(feature = "runtime")]
    engine::set_verbose(on);
    #[cfg(not(feature = "runtime"))]
    let _ = on;
}

/// `Ok` when this build embeds llama.cpp, else the `Unsupported` error for `what`.
pub fn require(what: &str) -> Result<()> {
    #[cfg(feature = "runtime")]
    {
        let _ = what;
        Ok(())
    }
    #[cfg(not(feature = "runtime"))]
    Err(unsupported(what))
}

/// Whether this build embeds llama.cpp.
pub const fn available() -> bool {
    cfg!(feature = "runtime")
}

/// Facts about the linked llama.cpp and its devices.
pub fn devices() -> Result<RuntimeFacts> {
    #[cfg(feature = "runtime")]
    return engine::facts();
    #[cfg(not(feature = "runtime"))]
    Err(unsupported("inspecting llama.cpp devices"))
}

/// llama.cpp's own KV / recurrent / compute sizes for `p` (model loaded with `no_alloc`).
pub fn measure(model_path: &Path, p: &CacheParams) -> Result<Measured> {
    #[cfg(feature = "runtime")]
    return measure::measure(model_path, p);
    #[cfg(not(feature = "runtime"))]
    {
        let _ = (model_path, p);
        Err(unsupported("measuring memory with llama.cpp (--measure)"))
    }
}

/// [`measure`] for many parameter sets with one model load (`plan --measure`).
pub fn measure_all(model_path: &Path, params: &[CacheParams]) -> Result<Vec<Measured>> {
    #[cfg(feature = "runtime")]
    return measure::measure_all(model_path, params);
    #[cfg(not(feature = "runtime"))]
    {
        let _ = (model_path, params);
        Err(unsupported("measuring memory with llama.cpp (--measure)"))
    }
}

/// The budget of this machine, or the override: `--memory`, then `--mac-ram`, then the
/// runtime's devices, then the host (`crate::memory::host_budget`).
pub fn detect_budget(memory: Option<u64>, mac_ram: Option<u64>) -> Budget {
    if let Some(bytes) = memory {
        return Budget {
            bytes,
            source: BudgetSource::Override,
            estimated: false,
            gpu: false,
            note: "set with --memory".into(),
        };
    }
    if let Some(ram) = mac_ram {
        return crate::memory::mac_gpu_budget(ram);
    }
    // The runtime's Metal (recommendedMaxWorkingSetSize) or CUDA device memory, when linked.
    device_budget().unwrap_or_else(crate::memory::host_budget)
}

/// The GPU budget from the runtime's devices: Metal's `recommendedMaxWorkingSetSize`, or the
/// largest CUDA device's memory. `None` without a GPU device or without the runtime.
pub fn device_budget() -> Option<Budget> {
    budget_from(&devices().ok()?.devices)
}

/// The budget rule on plain device facts.
pub fn budget_from(devices: &[Device]) -> Option<Budget> {
    let pick = |backend: &str| {
        devices
            .iter()
            .filter(|d| d.backend.eq_ignore_ascii_case(backend) && d.memory_total > 0)
            .max_by_key(|d| d.memory_total)
    };
    if let Some(d) = pick("Metal") {
        return Some(Budget {
            bytes: d.memory_total,
            source: BudgetSource::Metal,
            estimated: false,
            gpu: true,
            note: format!(
                "{} recommendedMaxWorkingSetSize (from llama.cpp's Metal device)",
                d.name
            ),
        });
    }
    pick("CUDA").map(|d| Budget {
        bytes: d.memory_total,
        source: BudgetSource::Cuda,
        estimated: false,
        gpu: true,
        note: format!("{} memory ({})", d.name, d.description),
    })
}

/// The enabled features of the CPU backend in `llama_print_system_info()`'s text
/// (`CPU : SSE3 = 1 | AVX = 1 | … | Metal : …`).
pub fn cpu_features_from(info: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_cpu = false;
    for item in info.split('|') {
        let mut item = item.trim();
        if let Some((section, rest)) = item.split_once(" : ") {
            in_cpu = section.trim() == "CPU";
            item = rest.trim();
        }
        if !in_cpu {
            continue;
        }
        if let Some((name, value)) = item.split_once('=') {
            let (name, value) = (name.trim(), value.trim());
            if !name.is_empty() && value != "0" && !value.is_empty() {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// Features this CPU has that the CPU backend lacks (x86-64 only; empty elsewhere).
pub fn missing_cpu_features(built: &[String]) -> Vec<String> {
    #[allow(unused_mut)]
    let mut host: Vec<&str> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx") {
            host.push("AVX");
        }
        if std::is_x86_feature_detected!("avx2") {
            host.push("AVX2");
        }
        if std::is_x86_feature_detected!("fma") {
            host.push("FMA");
        }
        if std::is_x86_feature_detected!("f16c") {
            host.push("F16C");
        }
        if std::is_x86_feature_detected!("avx512f") {
            host.push("AVX512");
        }
    }
    host.into_iter()
        .filter(|h| !built.iter().any(|b| b == h))
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_wins() {
        let b = detect_budget(Some(123), Some(1 << 40));
        assert_eq!((b.bytes, b.source), (123, BudgetSource::Override));
    }

    fn dev(name: &str, backend: &str, total: u64) -> Device {
        Device {
            index: 0,
            name: name.into(),
            backend: backend.into(),
            description: "d".into(),
            memory_total: total,
            memory_free: total,
            kind: "gpu".into(),
        }
    }

    #[test]
    fn budget_prefers_metal_then_cuda() {
        let cpu = dev("CPU", "CPU", 64 << 30);
        assert_eq!(budget_from(std::slice::from_ref(&cpu)), None);
        let b = budget_from(&[cpu.clone(), dev("MTL0", "Metal", 48 << 30)]).unwrap();
        assert_eq!(
            (b.bytes, b.source, b.estimated),
            (48 << 30, BudgetSource::Metal, false)
        );
        let b = budget_from(&[
            cpu,
            dev("CUDA0", "CUDA", 8 << 30),
            dev("CUDA1", "CUDA", 24 << 30),
        ])
        .unwrap();
        assert_eq!((b.bytes, b.source), (24 << 30, BudgetSource::Cuda));
    }

    #[test]
    fn cpu_features_parse() {
        let info = "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 0 | LLAMAFILE = 1 | OPENMP = 0 | REPACK = 1 | Metal : EMBED_LIBRARY = 1 | ";
        assert_eq!(
            cpu_features_from(info),
            vec!["SSE3", "SSSE3", "AVX", "LLAMAFILE", "REPACK"]
        );
    }

    #[test]
    fn missing_features_are_host_minus_built() {
        let all: Vec<String> = ["AVX", "AVX2", "FMA", "F16C", "AVX512"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(missing_cpu_features(&all).is_empty());
    }

    #[cfg(not(feature = "runtime"))]
    #[test]
    fn without_runtime_is_unsupported() {
        let e = devices().unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Unsupported);
        assert!(e.hint.unwrap().contains("--features runtime"));
    }
}
