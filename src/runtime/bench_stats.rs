//! The arithmetic and the machine probes `cclocal bench` shares with no llama.cpp: mean and
//! standard deviation as llama-bench reports them, llama-bench's default thread count, and
//! how much of the CPUs other processes took while the benchmark ran.
//!
//! Sources (llama.cpp b11434): `tools/llama-bench/llama-bench.cpp` (`avg`, `stdev`: the
//! sample standard deviation of the per-repetition tokens/s), `common/common.cpp`
//! (`common_cpu_get_num_math`: physical cores on x86-64 Linux). See docs/bench.md.

use serde::Serialize;

/// Mean ± sample standard deviation of per-repetition rates (tokens/s).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stat {
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 with one sample.
    pub sd: f64,
    pub n: usize,
}

/// `samples` are rates; llama-bench averages the rates, not the times.
pub fn stat(samples: &[f64]) -> Stat {
    let n = samples.len();
    if n == 0 {
        return Stat {
            mean: 0.0,
            sd: 0.0,
            n,
        };
    }
    let mean = samples.iter().sum::<f64>() / n as f64;
    let sd = if n < 2 {
        0.0
    } else {
        (samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    };
    Stat { mean, sd, n }
}

/// Counts distinct `thread_siblings_list` values: one per physical core.
pub fn physical_cores_from(siblings: &[String]) -> usize {
    let mut seen: Vec<&str> = siblings.iter().map(|s| s.trim()).collect();
    seen.retain(|s| !s.is_empty());
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

/// llama-bench's default `-t`: the physical cores (`common_cpu_get_num_math`, which on a
/// non-hybrid x86-64 Linux CPU is `common_cpu_get_num_physical_cores`: distinct
/// `/sys/devices/system/cpu/cpu*/topology/thread_siblings` sets), else the logical CPUs
/// this process may use.
pub fn default_threads() -> u32 {
    let logical = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(4);
    let mut siblings = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/sys/devices/system/cpu") {
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let is_cpu = name
                .strip_prefix("cpu")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if !is_cpu {
                continue;
            }
            if let Ok(s) = std::fs::read_to_string(e.path().join("topology/thread_siblings")) {
                siblings.push(s);
            }
        }
    }
    let physical = physical_cores_from(&siblings);
    // More threads than CPUs this process may run on makes ggml's barrier crawl.
    let n = if physical > 0 {
        physical.min(logical)
    } else {
        logical
    };
    n.max(1) as u32
}

/// CPU time counters at one instant (Linux `/proc`, in clock ticks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuSample {
    /// Busy ticks of every CPU together (`/proc/stat` `cpu` line: all but idle and iowait).
    pub busy: u64,
    /// Every tick of every CPU together.
    pub total: u64,
    /// This process's user + system ticks (`/proc/self/stat` fields 14 and 15).
    pub own: u64,
}

/// Parses the aggregate `cpu` line of `/proc/stat` into (busy, total).
pub fn parse_proc_stat(text: &str) -> Option<(u64, u64)> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().ok())
        .collect::<Option<Vec<u64>>>()?;
    if v.len() < 4 {
        return None;
    }
    // user nice system idle iowait irq softirq steal [guest guest_nice: already in user]
    let total: u64 = v.iter().take(8).sum();
    let idle = v[3] + v.get(4).copied().unwrap_or(0);
    Some((total.saturating_sub(idle), total))
}

/// Parses user + system ticks out of `/proc/self/stat` (the command name may hold spaces
/// and parentheses: fields are counted after the last `)`).
pub fn parse_self_stat(text: &str) -> Option<u64> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After ")": state(3) ppid(4) … utime(14) stime(15) → indices 11 and 12.
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(utime + stime)
}

impl CpuSample {
    /// `None` where `/proc` is not readable (not Linux).
    pub fn now() -> Option<CpuSample> {
        let (busy, total) = parse_proc_stat(&std::fs::read_to_string("/proc/stat").ok()?)?;
        let own = parse_self_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
        Some(CpuSample { busy, total, own })
    }
}

/// What other processes took while the benchmark ran.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Load {
    /// Share of all CPUs' time used by other processes (0–1).
    pub others_share: f64,
    /// Share of the CPUs' time this process used (0–1).
    pub own_share: f64,
    /// Whether the figures are likely depressed by that load.
    pub contended: bool,
}

/// Others above this share of the machine: the figures are not a quiet machine's.
pub const CONTENTION_SHARE: f64 = 0.10;

/// Load between two samples; `None` when no time passed.
pub fn load_between(a: &CpuSample, b: &CpuSample) -> Option<Load> {
    let total = b.total.checked_sub(a.total)?;
    if total == 0 {
        return None;
    }
    let busy = b.busy.saturating_sub(a.busy);
    let own = b.own.saturating_sub(a.own).min(busy);
    let others = (busy - own) as f64 / total as f64;
    Some(Load {
        others_share: others,
        own_share: own as f64 / total as f64,
        contended: others > CONTENTION_SHARE,
    })
}

/// The warning line for a contended run.
pub fn load_warning(l: &Load) -> Option<String> {
    l.contended.then(|| {
        format!(
            "other processes used {:.0}% of the CPUs while this ran: the figures are lower and noisier than on a quiet machine; rerun when `uptime` shows a low load",
            l.others_share * 100.0
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_is_mean_and_sample_sd() {
        let s = stat(&[10.0, 12.0, 14.0]);
        assert!((s.mean - 12.0).abs() < 1e-12);
        assert!((s.sd - 2.0).abs() < 1e-12);
        assert_eq!(s.n, 3);
        assert_eq!(stat(&[5.0]).sd, 0.0);
        assert_eq!(stat(&[]).mean, 0.0);
    }

    #[test]
    fn physical_cores_dedupe_siblings() {
        let s: Vec<String> = ["3\n", "3\n", "c\n", "c\n", ""]
            .iter()
            .map(|x| x.to_string())
            .collect();
        assert_eq!(physical_cores_from(&s), 2);
        assert_eq!(physical_cores_from(&[]), 0);
        assert!(default_threads() >= 1);
    }

    #[test]
    fn proc_stat_parses() {
        let t = "cpu  100 5 50 800 20 3 2 10 0 0\ncpu0 1 2 3 4\n";
        // total = 100+5+50+800+20+3+2+10 = 990; idle = 820.
        assert_eq!(parse_proc_stat(t), Some((170, 990)));
        assert_eq!(parse_proc_stat("cpu0 1 2\n"), None);
        assert_eq!(parse_proc_stat("cpu  x y z w\n"), None);
    }

    #[test]
    fn self_stat_parses_past_odd_names() {
        let t = "1234 (my (odd) prog) S 1 2 3 4 5 6 7 8 9 10 150 25 0 0 20 0";
        assert_eq!(parse_self_stat(t), Some(175));
        assert_eq!(parse_self_stat("garbage"), None);
    }

    #[test]
    fn load_flags_other_processes() {
        let a = CpuSample {
            busy: 0,
            total: 0,
            own: 0,
        };
        // 2 CPUs × 100 ticks; we used 100, others 60.
        let b = CpuSample {
            busy: 160,
            total: 200,
            own: 100,
        };
        let l = load_between(&a, &b).unwrap();
        assert!((l.others_share - 0.3).abs() < 1e-12);
        assert!((l.own_share - 0.5).abs() < 1e-12);
        assert!(l.contended);
        assert!(load_warning(&l).unwrap().contains("30%"));
        let quiet = CpuSample {
            busy: 105,
            total: 200,
            own: 100,
        };
        let l = load_between(&a, &quiet).unwrap();
        assert!(!l.contended && load_warning(&l).is_none());
        assert!(load_between(&a, &a).is_none());
    }
}
