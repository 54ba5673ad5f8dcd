//! The server-log reader on mutated real lines (seeded xorshift64*, fixed sequence): no
//! panic anywhere — parse, analysis, findings, join, HTML — and the analysis stays sane.

use std::path::PathBuf;

use cclocal::logs::serverlog::{self, html, join, Window};

use crate::support::rng::Rng;

fn fixture_lines() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/server-logs");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    names.sort();
    let mut lines = Vec::new();
    for n in names {
        let t = std::fs::read_to_string(n).unwrap();
        lines.extend(t.lines().map(str::to_string));
    }
    lines
}

const JUNK: &[&str] = &[
    "9",
    ".",
    " | task ",
    "= ",
    "(",
    ")",
    "K (",
    "time=",
    "[GIN] ",
    "\"",
    "\\",
    "é",
    "\u{0}",
    "-1",
    "99999999999999999999",
    "1e400",
    "msg=\"load\" request=\"{KvSize:",
    "stop processing: n_tokens = ",
    "9999-12-31T23:59:59.999-23:59",
    "0.00.000.000 I ",
];

fn mutate(rng: &mut Rng, line: &str) -> String {
    let mut s: Vec<char> = line.chars().collect();
    for _ in 0..=rng.below(3) {
        match rng.below(4) {
            0 if !s.is_empty() => {
                let at = rng.below(s.len());
                s.truncate(at);
            }
            1 => {
                let at = rng.below(s.len() + 1);
                let j: Vec<char> = JUNK[rng.below(JUNK.len())].chars().collect();
                s.splice(at..at, j);
            }
            2 if !s.is_empty() => {
                let at = rng.below(s.len());
                s[at] = char::from(b'0' + (rng.below(10) as u8));
            }
            _ if !s.is_empty() => {
                let at = rng.below(s.len());
                s.remove(at);
            }
            _ => {}
        }
    }
    s.into_iter().collect()
}

#[test]
fn mutated_logs_never_panic() {
    let lines = fixture_lines();
    let claude = cclocal::logs::analyze_files(&[PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/server-logs/claude-2.1.332-session-against-llama-server.txt")])
    .unwrap();
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for round in 0..200 {
        let mut text = String::new();
        let start = rng.below(lines.len());
        for l in lines.iter().skip(start).take(400) {
            if rng.below(3) == 0 {
                text.push_str(&mutate(&mut rng, l));
            } else {
                text.push_str(l);
            }
            text.push('\n');
        }
        let a = serverlog::analyze_bytes(text.as_bytes());
        assert_eq!(a.lines as usize, text.lines().count(), "round {round}");
        for t in &a.tasks {
            if let (Some(p), Some(c)) = (t.prompt_tokens, t.cached_tokens()) {
                assert!(c <= p);
            }
        }
        let f = serverlog::findings(&a, Window::all());
        let _ = serverlog::findings_recent(&a);
        let j = join::join(&claude, &a);
        for p in &j.pairs {
            assert!(p.residual_ms.abs() <= join::TOLERANCE_MS);
        }
        let _ = join::summary(&claude, &a, &j);
        let _ = html::render(&html::timeline(Some(&claude), Some((&a, &j)), &f));
        let _ = html::render(&html::server_timeline(&a, &f));
    }
}
