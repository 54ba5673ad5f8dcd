//! Server-log read speed: a generated ~100 MB llama-server/Ollama log (the real and assembled
//! fixtures in tests/fixtures/server-logs/, concatenated until 100 MB) streamed through the
//! parser and the analysis. Target: the same speed class as the debug-log reader
//! (`logs_parse`), ~0.1 s for 100 MB. scripts/bench.sh also times a 1 GB file.
//!
//! Anchors over the same file in the same run: a bare `read_until` line loop and `wc -l`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const TARGET_BYTES: u64 = 100 * 1024 * 1024;

/// Writes `bytes` of log; returns its path and size.
pub fn generate(dir: &Path, bytes: u64) -> (PathBuf, u64) {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/server-logs");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .expect("tests/fixtures/server-logs")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    names.sort();
    let mut corpus = Vec::new();
    for n in &names {
        corpus.extend_from_slice(&std::fs::read(n).unwrap());
        if !corpus.ends_with(b"\n") {
            corpus.push(b'\n');
        }
    }
    let path = dir.join("big-server-log.txt");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut size = 0u64;
    while size < bytes {
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
    let (path, size) = generate(dir.path(), TARGET_BYTES);
    let lines = count_lines(&path);
    let mut g = c.benchmark_group("serverlog_100mb");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Bytes(size));
    g.bench_function("serverlog_analyze_100mb", |b| {
        b.iter(|| {
            let a = cclocal::logs::serverlog::analyze_files(std::slice::from_ref(&path)).unwrap();
            assert_eq!(a.lines as usize, lines);
            a.tasks.len()
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
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
