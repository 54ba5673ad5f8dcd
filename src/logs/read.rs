//! Streaming read: one reusable buffer, line by line, lossy UTF-8. The file is never held in
//! memory; a malformed line is just a line the parser does not recognise.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::analyze::Analyzer;
use super::model::Analysis;
use super::parse::parse_line;
use crate::error::{Error, ErrorKind, Result};

/// Read buffer size.
const BUF: usize = 256 * 1024;
/// Longest line handed on; a longer one is skipped whole and counted, so one endless line
/// (a file of zeros, a pasted blob) costs at most this much memory.
pub const MAX_LINE: usize = 1024 * 1024;

/// Position of the first `\n` in `b` (libc's vectorised `memchr`).
fn newline(b: &[u8]) -> Option<usize> {
    // SAFETY: `b` is a valid slice; memchr reads at most `b.len()` bytes of it.
    let p = unsafe { libc::memchr(b.as_ptr().cast(), b'\n' as i32, b.len()) };
    (!p.is_null()).then(|| p as usize - b.as_ptr() as usize)
}

/// `b` as text: borrowed when it is valid UTF-8 (the common case, checked with the fast
/// validator), else with invalid sequences replaced.
fn text(b: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// The longest prefix of `b` that is whole lines (ends with `\n`) of valid UTF-8; empty
/// when the first line is cut off or holds an invalid byte. `\n` is ASCII, so every line
/// start and end in it is a char boundary.
fn whole_lines_utf8(b: &[u8]) -> &str {
    let Some(last) = b.iter().rposition(|&c| c == b'\n') else {
        return "";
    };
    let whole = &b[..=last];
    match std::str::from_utf8(whole) {
        Ok(s) => s,
        Err(e) => {
            let valid = &whole[..e.valid_up_to()];
            let cut = valid.iter().rposition(|&c| c == b'\n').map_or(0, |p| p + 1);
            std::str::from_utf8(&valid[..cut]).unwrap_or("")
        }
    }
}

/// Calls `f` with every line of `reader` (newline included), invalid UTF-8 replaced, never
/// an error: the one line reader of the debug-log and server-log readers. Lines longer
/// than [`MAX_LINE`] are skipped; returns how many were.
pub fn for_each_line<R: Read>(reader: R, mut f: impl FnMut(&str)) -> std::io::Result<u64> {
    let mut r = BufReader::with_capacity(BUF, reader);
    // A line split across reads is gathered here; whole lines go straight from the buffer.
    let mut part: Vec<u8> = Vec::new();
    let mut skipping = false;
    let mut skipped = 0u64;
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            if skipping {
                skipped += 1;
            } else if !part.is_empty() {
                f(&text(&part));
            }
            return Ok(skipped);
        }
        let mut used = 0;
        while used < avail.len() {
            let rest = &avail[used..];
            // Fast path: the whole lines in the buffer, checked as UTF-8 once, not per line
            // (up to the first invalid byte; the line holding it takes the path below).
            if !skipping && part.is_empty() {
                let block = whole_lines_utf8(rest);
                if !block.is_empty() {
                    let b = block.as_bytes();
                    let mut pos = 0;
                    while pos < b.len() {
                        let end = newline(&b[pos..]).map_or(b.len(), |n| pos + n + 1);
                        if end - pos <= MAX_LINE {
                            f(&block[pos..end]);
                        } else {
                            skipped += 1;
                        }
                        pos = end;
                    }
                    used += b.len();
                    continue;
                }
            }
            match newline(rest) {
                Some(n) => {
                    let line = &rest[..=n];
                    if skipping {
                        skipped += 1;
                        skipping = false;
                    } else if part.is_empty() {
                        if line.len() <= MAX_LINE {
                            f(&text(line));
                        } else {
                            skipped += 1;
                        }
                    } else if part.len() + line.len() <= MAX_LINE {
                        part.extend_from_slice(line);
                        f(&text(&part));
                        part.clear();
                    } else {
                        skipped += 1;
                        part.clear();
                    }
                    used += n + 1;
                }
                None => {
                    if !skipping {
                        if part.len() + rest.len() <= MAX_LINE {
                            part.extend_from_slice(rest);
                        } else {
                            skipping = true;
                            part = Vec::new();
                        }
                    }
                    used = avail.len();
                }
            }
        }
        r.consume(used);
    }
}

/// Feeds every line of `reader` to `an`. Invalid UTF-8 is replaced, never an error.
pub fn feed<R: Read>(an: &mut Analyzer, reader: R) -> std::io::Result<()> {
    let skipped = for_each_line(reader, |text| an.line(&parse_line(text)))?;
    an.skipped_long_lines(skipped);
    Ok(())
}

/// Analyses log text already in memory (tests, fuzzing).
pub fn analyze_bytes(bytes: &[u8]) -> Analysis {
    let mut an = Analyzer::new();
    // Reading from a slice cannot fail.
    let _ = feed(&mut an, bytes);
    an.finish()
}

/// Analyses the given files in order, as one log (rotated parts first).
pub fn analyze_files(paths: &[PathBuf]) -> Result<Analysis> {
    let mut an = Analyzer::new();
    for p in paths {
        let f = open_log(p)?;
        feed(&mut an, f).map_err(|e| Error::io(p, "read the debug log", e))?;
    }
    Ok(an.finish())
}

/// What the start of the file at `p` looks like, in words, for an error that says what was
/// seen instead of a log: empty, a GGUF model, binary data, or its first line (quoted,
/// cut at 80 characters).
pub fn describe_content(p: &Path) -> String {
    let mut head = Vec::with_capacity(4096);
    if let Ok(f) = crate::fsread::open_regular(p, "a file") {
        let _ = f.take(4096).read_to_end(&mut head);
    }
    if head.is_empty() {
        return "an empty file".to_string();
    }
    if head.starts_with(b"GGUF") {
        return "a GGUF model file".to_string();
    }
    let binary = head.contains(&0)
        || std::str::from_utf8(&head).is_err_and(|e| e.valid_up_to() + 4 < head.len());
    if binary {
        return "binary data, not text".to_string();
    }
    let text = String::from_utf8_lossy(&head);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut cut: String = first.chars().take(80).collect();
    if cut.len() < first.len() {
        cut.push('…');
    }
    format!("text whose first line is {cut:?}")
}

/// `Ok` when `analysis` (of `paths`) read at least one Claude Code debug line (a timestamp
/// and a level: `2026-01-01T12:00:00.000Z [DEBUG] …`); else an error that says what the
/// file holds instead. A short log of a session just started is a debug log; an empty
/// file, `/etc/passwd`, random bytes or a model file are not.
pub fn check_debug_log(paths: &[PathBuf], analysis: &Analysis) -> Result<()> {
    if analysis.summary.entries > 0 {
        return Ok(());
    }
    let Some(p) = paths.last() else {
        return Ok(());
    };
    let seen = describe_content(p);
    let server = crate::logs::serverlog::analyze_files(std::slice::from_ref(p))
        .is_ok_and(|a| crate::logs::serverlog::looks_like_server_log(&a));
    let hint = if server {
        "this looks like a server's log: pass it with `--server-log FILE`".to_string()
    } else {
        "pass a log Claude Code wrote (`claude --debug-file PATH`, or \
         ~/.claude/debug/<session>.txt); `cclocal logs` lists recent sessions"
            .to_string()
    };
    Err(Error::parse(format!(
        "not a Claude Code debug log: expected lines like \
         `2026-01-01T12:00:00.000Z [DEBUG] …`, found {seen}"
    ))
    .with_subject(p.display().to_string())
    .with_hint(hint))
}

/// Opens a log file, with errors that say what to do.
pub fn open_log(p: &Path) -> Result<File> {
    open_named(
        p,
        "debug log",
        "pass the path of a Claude Code debug log (`claude --debug-file PATH`), or run \
         `cclocal logs` to list recent sessions",
        "pass one log file from it, or run `cclocal logs` to list recent sessions",
    )
}

/// Opens the `what` (`debug log`, `server log`) at `p`: a missing file gets `missing_hint`,
/// a directory `dir_hint`.
pub fn open_named(p: &Path, what: &str, missing_hint: &str, dir_hint: &str) -> Result<File> {
    let meta = std::fs::metadata(p)
        .map_err(|e| Error::io(p, &format!("open the {what}"), e).with_hint(missing_hint))?;
    if meta.is_dir() {
        return Err(
            Error::new(ErrorKind::Io, format!("this is a directory, not a {what}"))
                .with_subject(p.display().to_string())
                .with_hint(dir_hint),
        );
    }
    // A FIFO or a device is refused without blocking (`/dev/zero` would never end).
    crate::fsread::open_regular(p, &format!("a {what} (a regular file)")).map_err(|e| {
        let bad = e.kind() == std::io::ErrorKind::InvalidInput;
        let err = Error::io(p, &format!("open the {what}"), e);
        if bad {
            err.with_hint(
                "copy the log to a regular file first (`cat … > file.log`), then pass that file",
            )
        } else {
            err
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out at most `k` bytes per read.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn lines_of(input: &[u8], k: usize) -> (Vec<String>, u64) {
        let mut out = Vec::new();
        let skipped = for_each_line(Trickle(input, k), |l| out.push(l.to_string())).unwrap();
        (out, skipped)
    }

    #[test]
    fn lines_the_same_whatever_the_reads() {
        let mut input = b"a\nb\xffc\n\xe2\x82\xac euro\n\n".to_vec();
        input.extend_from_slice("é\nlast without newline".as_bytes());
        let want: Vec<String> = input
            .split_inclusive(|&c| c == b'\n')
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        for k in [1, 2, 3, 7, 1 << 20] {
            assert_eq!(lines_of(&input, k), (want.clone(), 0), "reads of {k}");
        }
    }

    #[test]
    fn over_long_lines_are_skipped_and_counted() {
        let mut input = b"short\n".to_vec();
        input.resize(input.len() + MAX_LINE + 1, b'x');
        input.extend_from_slice(b"\nafter\n");
        input.resize(input.len() + MAX_LINE + 10, b'y');
        for k in [4096, 1 << 20] {
            let (lines, skipped) = lines_of(&input, k);
            assert_eq!(lines, vec!["short\n".to_string(), "after\n".to_string()]);
            assert_eq!(skipped, 2);
        }
        // Exactly MAX_LINE bytes with its newline is kept.
        let mut exact = vec![b'z'; MAX_LINE - 1];
        exact.push(b'\n');
        assert_eq!(lines_of(&exact, 1 << 16).0.len(), 1);
    }
}
