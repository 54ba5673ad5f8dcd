//! `cclocal logs` at scale: time and peak memory (max RSS) of the release binary reading
//! generated debug logs of 100 MB, 1 GB and 2 GB (the real fixtures in
//! tests/fixtures/claude-debug-logs/, repeated with their timestamps shifted forward, see
//! `cclocal::logs::synth`). The 100 MB run is the anchor: the report gives each size's
//! time as a ratio to it next to the size ratio (linear: the two match), and its max RSS
//! (bounded: flat whatever the size). Sizes: `LOGS_SCALE_MB` (default `100,1000,2000`).
//!
//! Each run is a child process; its max RSS comes from `wait4`'s rusage (that child alone),
//! its time from the wall clock, best of `LOGS_SCALE_REPS` (default 3). The generated logs
//! are kept under the target dir for the next run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn corpus() -> Vec<u8> {
    let fixtures =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude-debug-logs");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .expect("tests/fixtures/claude-debug-logs")
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let mut corpus = Vec::new();
    for n in &names {
        corpus.extend_from_slice(&std::fs::read(n).unwrap());
        if !corpus.ends_with(b"\n") {
            corpus.push(b'\n');
        }
    }
    corpus
}

fn generate(dir: &Path, corpus: &[u8], mb: u64) -> PathBuf {
    let path = dir.join(format!("debug-log-{mb}mb.txt"));
    let target = mb * 1_000_000;
    if std::fs::metadata(&path).is_ok_and(|m| m.len() >= target) {
        return path;
    }
    let tmp = dir.join(format!("debug-log-{mb}mb.txt.part"));
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp).unwrap());
    cclocal::logs::synth::write_repeated(corpus, target, &mut f).unwrap();
    f.flush().unwrap();
    drop(f);
    std::fs::rename(&tmp, &path).unwrap();
    path
}

/// Runs `bin logs path` once: (wall seconds, max RSS in KiB). The child is reaped by
/// `wait4` (for its own rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn run_once(bin: &str, path: &Path) -> (f64, i64) {
    use std::os::unix::process::ExitStatusExt;
    let t = Instant::now();
    let child = std::process::Command::new(bin)
        .args(["logs", "--limit", "5"])
        .arg(path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start cclocal");
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for this child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as i32;
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(r, pid, "wait4");
    let st = std::process::ExitStatus::from_raw(status);
    // 1: the log has error findings (the generated one does: a missing model); not a failure.
    assert!(
        matches!(st.code(), Some(0 | 1)),
        "cclocal logs {} failed: {st}",
        path.display()
    );
    (secs, ru.ru_maxrss)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument that does not match skips the run.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !filter.is_empty() && !filter.iter().any(|f| "logs_scale".contains(f.as_str())) {
        return;
    }
    let sizes: Vec<u64> = std::env::var("LOGS_SCALE_MB")
        .unwrap_or_else(|_| "100,1000,2000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let reps: usize = std::env::var("LOGS_SCALE_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let bin = env!("CARGO_BIN_EXE_cclocal");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("logs-scale");
    std::fs::create_dir_all(&dir).unwrap();
    let corpus = corpus();
    println!("logs_scale: {bin}");
    let mut anchor: Option<(u64, f64)> = None;
    for mb in sizes {
        let path = generate(&dir, &corpus, mb);
        let size = std::fs::metadata(&path).unwrap().len();
        let mut best = f64::MAX;
        let mut rss = 0;
        for _ in 0..reps.max(1) {
            let (t, r) = run_once(bin, &path);
            best = best.min(t);
            rss = rss.max(r);
        }
        let (amb, at) = *anchor.get_or_insert((mb, best));
        println!(
            "logs_scale {mb:>5} MB: {best:7.3} s ({:6.0} MB/s), max RSS {:6.1} MiB; vs the {amb} MB anchor: size x{:.1}, time x{:.2}",
            size as f64 / best / 1e6,
            rss as f64 / 1024.0,
            mb as f64 / amb as f64,
            best / at
        );
    }
}
