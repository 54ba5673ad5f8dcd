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

/// Feeds every line of `reader` to `an`. Invalid UTF-8 is replaced, never an error.
pub fn feed<R: Read>(an: &mut Analyzer, reader: R) -> std::io::Result<()> {
    let mut r = BufReader::with_capacity(BUF, reader);
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&buf);
        an.line(&parse_line(&text));
    }
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
    let meta = std::fs::metadata(p).map_err(|e| {
        Error::io(p, "open the debug log", e).with_hint(
            "pass the path of a Claude Code debug log (`claude --debug-file PATH`), or run \
             `cclocal logs` to list recent sessions",
        )
    })?;
    if meta.is_dir() {
        return Err(
            Error::new(ErrorKind::Io, "this is a directory, not a debug log")
                .with_subject(p.display().to_string())
                .with_hint(
                    "pass one log file from it, or run `cclocal logs` to list recent sessions",
                ),
        );
    }
    File::open(p).map_err(|e| Error::io(p, "open the debug log", e))
}
