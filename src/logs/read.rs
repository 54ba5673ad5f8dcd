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
                f(&String::from_utf8_lossy(&part));
            }
            return Ok(skipped);
        }
        let mut used = 0;
        while used < avail.len() {
            let rest = &avail[used..];
            match newline(rest) {
                Some(n) => {
                    let line = &rest[..=n];
                    if skipping {
                        skipped += 1;
                        skipping = false;
                    } else if part.is_empty() {
                        if line.len() <= MAX_LINE {
                            f(&String::from_utf8_lossy(line));
                        } else {
                            skipped += 1;
                        }
                    } else if part.len() + line.len() <= MAX_LINE {
                        part.extend_from_slice(line);
                        f(&String::from_utf8_lossy(&part));
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
