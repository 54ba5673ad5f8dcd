//! The processes on this machine, as the local-server probes need them: each process's pid,
//! its `/proc/PID` folder and its arguments (Linux; nothing elsewhere). One reader for the
//! llama-server and vllm-mlx probes, which find the server behind a port by its command line.

use std::path::PathBuf;

/// The most bytes of one command line read (a server's is a few hundred).
const MAX_CMDLINE: usize = 1 << 16;

/// One running process.
pub struct Process {
    pub pid: u32,
    /// `/proc/PID`, for its `environ` and `cwd`.
    pub dir: PathBuf,
    /// Its arguments, program first.
    pub argv: Vec<String>,
}

/// Every process whose command line can be read (and is at most 64 KiB).
pub fn all() -> impl Iterator<Item = Process> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let raw = std::fs::read(entry.path().join("cmdline")).ok()?;
            if raw.len() > MAX_CMDLINE {
                return None;
            }
            Some(Process {
                pid,
                dir: entry.path(),
                argv: split_nul(&raw),
            })
        })
}

/// NUL-separated strings (`/proc/PID/cmdline`, `environ`), empty ones dropped.
pub fn split_nul(raw: &[u8]) -> Vec<String> {
    raw.split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_is_listed() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let me = std::process::id();
        let p = super::all().find(|p| p.pid == me).expect("this process");
        assert!(!p.argv.is_empty());
    }

    #[test]
    fn nul_separated() {
        assert_eq!(super::split_nul(b"a\0\0b c\0"), vec!["a", "b c"]);
    }
}
