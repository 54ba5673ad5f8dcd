//! `cclocal runtime`: the embedded llama.cpp and its devices.

use crate::error::{Error, Result};
use crate::runtime::{devices, RuntimeFacts};
use crate::units::human;

#[derive(clap::Args, Debug)]
pub struct RuntimeArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &RuntimeArgs, verbose: bool) -> Result<i32> {
    crate::runtime::set_verbose(verbose);
    let facts = devices()?;
    if args.json {
        let text = serde_json::to_string_pretty(&facts).map_err(|e| Error::parse(e.to_string()))?;
        println!("{text}");
    } else {
        crate::tprint!("{}", render(&facts));
    }
    Ok(0)
}

/// The human report.
pub fn render(f: &RuntimeFacts) -> String {
    let mut o = format!(
        "llama.cpp  {} ({})\n",
        f.build.crate_version, f.build.sys_version
    );
    o += &format!(
        "GPU offload {}\n",
        if f.gpu_offload {
            "supported"
        } else {
            "not available (CPU only)"
        }
    );
    o += "Devices\n";
    for d in &f.devices {
        o += &format!(
            "  {:<8} {:<7} {:<14} {} total, {} free  ({})\n",
            d.name,
            d.backend,
            d.kind,
            human(d.memory_total),
            human(d.memory_free),
            d.description
        );
    }
    o += &format!(
        "CPU backend features: {}\n",
        if f.cpu_features.is_empty() {
            "none".into()
        } else {
            f.cpu_features.join(" ")
        }
    );
    if !f.build.missing_cpu_features.is_empty() {
        o += &format!(
            "note: this CPU has {} but the CPU backend was built without; rebuild with RUSTFLAGS=\"-C target-cpu=native\" for faster CPU inference\n",
            f.build.missing_cpu_features.join(", ")
        );
    }
    o
}
