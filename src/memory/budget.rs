//! The memory budget a model must fit in.
//!
//! * Apple Silicon: the Metal working set (`recommendedMaxWorkingSetSize`). The runtime
//!   reads it from the Metal device; without the runtime cclocal uses the documented
//!   default fraction of RAM (≤ 32 GiB → 2/3, otherwise 3/4; `docs/llama-memory.md`,
//!   "Apple Silicon working set") and marks the budget as an estimate.
//! * Elsewhere: physical RAM (a GPU budget comes from the runtime's CUDA device).
//! * `--memory SIZE` overrides it; `--mac-ram SIZE` plans for an Apple Silicon Mac.

use serde::Serialize;

/// Safety margin kept free on the device (llama.cpp's `--fit-target` default, 1024 MiB).
pub const MARGIN_BYTES: u64 = 1024 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetSource {
    Metal,
    Cuda,
    Ram,
    Override,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Budget {
    pub bytes: u64,
    pub source: BudgetSource,
    pub estimated: bool,
    /// Whether the input embedding stays off the budgeted device (GPU budgets).
    #[serde(skip)]
    pub gpu: bool,
    /// How the figure was obtained, for people.
    pub note: String,
}

/// The default Metal working set for a Mac with `ram` bytes of memory.
pub fn mac_gpu_budget(ram: u64) -> Budget {
    const GIB: u64 = 1 << 30;
    let bytes = if ram <= 32 * GIB {
        ram / 3 * 2
    } else {
        ram / 4 * 3
    };
    Budget {
        bytes,
        source: BudgetSource::Metal,
        estimated: true,
        gpu: true,
        note: format!(
            "estimated Metal working set: {} of {} RAM (macOS default; `sudo sysctl iogpu.wired_limit_mb` changes it)",
            if ram <= 32 * GIB { "2/3" } else { "3/4" },
            crate::units::human(ram)
        ),
    }
}

/// The budget without the runtime's devices: the documented Metal fraction of RAM on
/// Apple Silicon (an estimate), physical RAM elsewhere.
pub fn host_budget() -> Budget {
    let ram = total_ram();
    if cfg!(all(target_os = "macos", target_arch = "aarch64")) {
        return mac_gpu_budget(ram);
    }
    Budget {
        bytes: ram,
        source: BudgetSource::Ram,
        estimated: false,
        gpu: false,
        note: "physical RAM (CPU inference)".into(),
    }
}

/// Physical RAM in bytes.
pub fn total_ram() -> u64 {
    let mut sys = sysinfo::System::new();
    sys.refresh_memory();
    sys.total_memory()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_fractions() {
        const GIB: u64 = 1 << 30;
        assert_eq!(mac_gpu_budget(64 * GIB).bytes, 48 * GIB);
        assert_eq!(mac_gpu_budget(36 * GIB).bytes, 27 * GIB);
        assert_eq!(mac_gpu_budget(16 * GIB).bytes, 16 * GIB / 3 * 2);
        assert!(mac_gpu_budget(16 * GIB).estimated);
    }
}
