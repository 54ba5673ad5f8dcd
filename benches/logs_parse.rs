//! `cclocal logs` read speed: a generated ~100 MB debug log (the real fixtures in
//! tests/fixtures/claude-debug-logs/, concatenated until 100 MB) streamed through the parser
//! and the analysis. Target: well under a second.
//!
//! Anchors measured in the same run over the same file: a bare `read_until` line loop (the
//! I/O floor of any line reader) and `wc -l` (when installed). Compare `logs_analyze_100mb`
//! with them; criterion prints MB/s for each.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const TARGET_BYTES: u64 = 100 * 1024 * 1024;

/// Writes the log; returns its path and size.
fn generate(dir: &Path) -> (PathBuf, u64) {
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
    let path = dir.join("big-debug-log.txt");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut size = 0u64;
    while size < TARGET_BYTES {
        f.write_all(&corpus).unwrap();
        size += corpus.len() as u64;
    }
    f.flush().unwrap();
    (path, size)
}

fn count_lines(path: &Path) -> usize {
    let mut r = BufReader::with_capacity(256 * 1024, std::fs::File::open(path).unwrap());
    let mut buf = Vec::with_capacity(4096);
    let mut n = 0;
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf).unwrap() == 0 {
            return n;
        }
        n += 1;
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (path, size) = generate(dir.path());
    let lines = count_lines(&path);
    let mut g = c.benchmark_group("logs_100mb");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Bytes(size));
    g.bench_function("logs_analyze_100mb", |b| {
        b.iter(|| {
            let a = cclocal::logs::analyze_files(std::slice::from_ref(&path)).unwrap();
            assert_eq!(a.summary.lines as usize, lines);
            a.summary.requests
        })
    });
    g.bench_function("anchor_read_until_lines_100mb", |b| {
        b.iter(|| count_lines(&path))
    });
    let wc_works = std::process::Command::new("wc")
        .arg("-l")
        .arg(&path)
        .output()
        .is_ok_and(|o| o.status.success());
    if wc_works {
        g.bench_function("anchor_wc_l_100mb", |b| {
            b.iter(|| {
                std::process::Command::new("wc")
                    .arg("-l")
                    .arg(&path)
                    .output()
                    .unwrap()
            })
        });
    } else {
        eprintln!("logs_parse: `wc` not found; the wc -l anchor is skipped");
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
