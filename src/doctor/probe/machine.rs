//! The machine: OS, CPUs, RAM, the memory budget, and the embedded runtime's devices.

use crate::doctor::facts::MachineFacts;
use crate::runtime::Device;

fn describe(d: &Device) -> String {
    format!(
        "{} ({}, {}): {} total, {} free",
        d.name,
        d.backend,
        d.description,
        crate::units::human(d.memory_total),
        crate::units::human(d.memory_free)
    )
}

/// The embedded llama.cpp's backend devices (`crate::runtime::devices`); `None` when this
/// build has no runtime or it cannot list them.
pub fn runtime_devices() -> Option<Vec<Device>> {
    crate::runtime::devices().ok().map(|f| f.devices)
}

pub fn probe_machine() -> MachineFacts {
    // The devices are listed once: their budget when they have one, else the host's.
    let devices = runtime_devices();
    let budget = devices
        .as_deref()
        .and_then(crate::runtime::budget_from)
        .unwrap_or_else(crate::memory::host_budget);
    MachineFacts {
        os: std::env::consts::OS.to_string(),
        arch: std::env::consts::ARCH.to_string(),
        cpus: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        ram_bytes: crate::memory::total_ram(),
        budget: Some(budget),
        devices: devices.map(|d| d.iter().map(describe).collect()),
    }
}
