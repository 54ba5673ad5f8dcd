//! Large, realistic Claude Code debug logs for benchmarks and tests: real logs repeated, each
//! copy's timestamps shifted past the end of the copy before, so time runs forward as in one
//! long session (the analysis sees request after request, as in a real multi-day log).

use std::io::{self, Write};

use super::time::{format_iso_ms, parse_iso_ms};

/// Length of the `2026-11-25T19:31:04.973Z` prefix.
const STAMP: usize = 24;

/// Writes copies of `corpus` (whole lines) to `out` until at least `target` bytes are
/// written; returns the bytes written. Copy `k` has every leading timestamp moved forward
/// by `k` times the corpus's time span (plus a second).
pub fn write_repeated(corpus: &[u8], target: u64, out: &mut impl Write) -> io::Result<u64> {
    let stamps = corpus
        .split(|&b| b == b'\n')
        .filter_map(|l| l.get(..STAMP).and_then(parse_iso_ms));
    let (lo, hi) = stamps.fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
    let span = if lo <= hi { hi - lo + 1000 } else { 0 };
    let mut written = 0u64;
    let mut copy = 0i64;
    let mut line_buf = Vec::with_capacity(4096);
    while written < target {
        let shift = copy * span;
        for line in corpus.split_inclusive(|&b| b == b'\n') {
            line_buf.clear();
            match line.get(..STAMP).and_then(parse_iso_ms) {
                Some(t) if shift != 0 => {
                    line_buf.extend_from_slice(format_iso_ms(t + shift).as_bytes());
                    line_buf.extend_from_slice(&line[STAMP..]);
                }
                _ => line_buf.extend_from_slice(line),
            }
            if !line_buf.ends_with(b"\n") {
                line_buf.push(b'\n');
            }
            out.write_all(&line_buf)?;
            written += line_buf.len() as u64;
        }
        copy += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_run_forward_in_time() {
        let corpus =
            b"2026-11-25T19:31:04.973Z [DEBUG] a\n2026-11-25T19:31:05.973Z [DEBUG] b\nplain\n";
        let mut out = Vec::new();
        let n = write_repeated(corpus, corpus.len() as u64 * 2, &mut out).unwrap();
        assert_eq!(n as usize, out.len());
        let text = String::from_utf8(out).unwrap();
        let stamps: Vec<i64> = text
            .lines()
            .filter_map(|l| l.get(..STAMP).and_then(|s| parse_iso_ms(s.as_bytes())))
            .collect();
        assert_eq!(stamps.len(), 4);
        assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert_eq!(text.lines().filter(|l| *l == "plain").count(), 2);
    }
}
