//! Where the integration tests live. `scripts/test.sh` runs the tests without default
//! features first, skipping `real::` (the tests that start a real program), and then every
//! test with default features: a real-program test outside `tests/it/real/` would run twice,
//! and a file no `mod` line names would run never. These checks keep both from happening.

use std::path::{Path, PathBuf};

/// What starts a real program, as `support` names it.
const REAL_PROGRAMS: &[&str] = &[
    "claude_bin(",
    "llama_server_bin(",
    "llama_bench_bin(",
    "vllm_bin(",
    "vllm_mlx_bin(",
    "mlx_lm_server_bin(",
    "RealLlamaServer",
    "real_py_server",
    "setup_unit(",
];

fn it_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it")
}

/// The `.rs` files of `dir` (not below it), sorted.
fn rs_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    v.sort();
    v
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

/// The code lines of a file (comments left out: a doc line may name a real program).
fn code_lines(p: &Path) -> Vec<(usize, String)> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

#[test]
fn real_programs_are_started_only_under_real() {
    let mut wrong = Vec::new();
    let (mut files, mut dirs) = (Vec::new(), vec![it_dir()]);
    while let Some(dir) = dirs.pop() {
        files.extend(rs_files(&dir));
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() && !(dir == it_dir() && (name == "real" || name == "support")) {
                dirs.push(p);
            }
        }
    }
    for f in files {
        if f == it_dir().join("test_layout.rs") {
            continue;
        }
        let shown = f.strip_prefix(it_dir()).unwrap().display().to_string();
        for (n, line) in code_lines(&f) {
            if let Some(what) = REAL_PROGRAMS.iter().find(|w| line.contains(*w)) {
                wrong.push(format!("tests/it/{shown}:{n} uses {what}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "tests that start a real program belong in tests/it/real/ (run once, with default \
         features; scripts/test.sh skips real:: without them):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_test_file_is_a_module() {
    for (dir, list) in [("", "main.rs"), ("real", "mod.rs"), ("support", "mod.rs")] {
        let dir = it_dir().join(dir);
        let listed = std::fs::read_to_string(dir.join(list)).unwrap();
        for f in rs_files(&dir) {
            let name = stem(&f);
            if name == "main" || name == "mod" {
                continue;
            }
            assert!(
                listed.lines().any(|l| l.trim() == format!("mod {name};")
                    || l.trim() == format!("pub mod {name};")),
                "{} is not named by a `mod {name};` line in {}: its tests never run",
                f.display(),
                dir.join(list).display()
            );
        }
    }
}

/// `--skip real::` skips every test whose path contains `real::`: no other module may end
/// in `real`, in the integration tests or in the library's unit tests.
#[test]
fn only_the_real_folder_matches_the_skip() {
    let mut wrong = Vec::new();
    let mut stack = vec![it_dir(), Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if p != it_dir().join("real") {
                    stack.push(p.clone());
                }
                if p.file_name().unwrap().to_string_lossy().ends_with("real")
                    && p != it_dir().join("real")
                {
                    wrong.push(p.display().to_string());
                }
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            if stem(&p).ends_with("real") && !p.starts_with(it_dir().join("real")) {
                wrong.push(p.display().to_string());
            }
            for (n, line) in code_lines(&p) {
                let t = line.trim_start();
                let t = t.strip_prefix("pub ").unwrap_or(t);
                let t = t.strip_prefix("pub(crate) ").unwrap_or(t);
                if let Some(name) = t.strip_prefix("mod ") {
                    let name = name.trim_end_matches([';', '{', ' ']);
                    if name.ends_with("real") && p != it_dir().join("main.rs") {
                        wrong.push(format!("{}:{n}: mod {name}", p.display()));
                    }
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "scripts/test.sh's `--skip real::` would skip these too; rename them:\n{}",
        wrong.join("\n")
    );
}
