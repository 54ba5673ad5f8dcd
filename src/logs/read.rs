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

/// Calls `f` with every line of `reader` (newline included), one reusable buffer, invalid
/// UTF-8 replaced, never an error: the one line reader of the debug-log and server-log
/// readers.
pub fn for_each_line<R: Read>(reader: R, mut f: impl FnMut(&str)) -> std::io::Result<()> {
    let mut r = BufReader::with_capacity(BUF, reader);
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        f(&String::from_utf8_lossy(&buf));
    }
}

/// Feeds every line of `reader` to `an`. Invalid UTF-8 is replaced, never an error.
pub fn feed<R: Read>(an: &mut Analyzer, reader: R) -> std::io::Result<()> {
    for_each_line(reader, |text| an.line(&parse_line(text)))
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
    File::open(p).map_err(|e| Error::io(p, &format!("open the {what}"), e))
}
