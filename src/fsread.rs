//! The one reader of files a user (or anyone who can write to the user's folders) controls:
//! settings, `~/.claude.json`, cclocal's config and launcher, rc files, state files, logs.
//!
//! A path can name anything: a FIFO (a read blocks until someone writes), a character device
//! such as `/dev/zero` (a read never ends), a socket, a directory, or a file far larger than
//! any real config. So every file is opened with `O_NONBLOCK` (opening a FIFO for reading
//! then returns at once instead of waiting for a writer) and `O_NOCTTY`, checked with
//! `fstat` on the open descriptor (no window between the check and the read), and refused
//! unless it is a regular file. Whole-file reads stop at a size cap per kind of file.
//!
//! Errors are `std::io::Error`s whose text names what was found and what was expected, so
//! callers keep their own wording (`could not read: …`) and `NotFound` handling.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// A kind of file and the most bytes cclocal reads of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// What was expected, for messages: "a JSON settings file".
    pub what: &'static str,
    /// Size cap in bytes.
    pub max: u64,
}

impl Kind {
    const fn new(what: &'static str, max: u64) -> Kind {
        Kind { what, max }
    }
}

const MIB: u64 = 1024 * 1024;

/// Claude Code's `settings.json` / `settings.local.json`.
pub const SETTINGS: Kind = Kind::new("a Claude Code settings file (JSON)", 16 * MIB);
/// `~/.claude.json`: Claude Code keeps per-project history in it, so it can be large.
pub const CLAUDE_JSON: Kind = Kind::new("Claude Code's state file (JSON)", 64 * MIB);
/// cclocal's `config.toml`.
pub const CONFIG: Kind = Kind::new("cclocal's configuration (TOML)", 4 * MIB);
/// The launcher script, shell rc files, a server unit or plist: small text files setup edits.
pub const TEXT: Kind = Kind::new(
    "a small text file (shell script, rc file or service file)",
    16 * MIB,
);
/// Any file setup plans to edit (launcher, settings, config, rc files, `~/.claude.json`):
/// the largest of those kinds.
pub const EDITED: Kind = Kind::new(
    "a file setup edits (settings, rc file, launcher or Claude Code's state file)",
    64 * MIB,
);
/// cclocal's own journal, manifests and saved copies.
pub const STATE: Kind = Kind::new("a cclocal state file", 64 * MIB);
/// One-line pointer files, model manifests, `/proc` entries.
pub const SMALL: Kind = Kind::new("a small metadata file", 4 * MIB);

/// What a file type is called in messages.
fn describe(ft: &std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Opens `path` for reading without blocking on a FIFO or taking a terminal, and refuses
/// anything but a regular file (`ErrorKind::InvalidInput`, the text names what it is and
/// what was expected). Streaming readers (logs) use this; whole-file reads use [`read`].
pub fn open_regular(path: &Path, what: &str) -> io::Result<File> {
    open_with(path, what, 0)
}

fn open_with(path: &Path, what: &str, flags: i32) -> io::Result<File> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | flags)
        .open(path)?;
    let meta = f.metadata()?;
    let ft = meta.file_type();
    if !ft.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {}; expected {what}", describe(&ft)),
        ));
    }
    // Regular files never block; clear the flag anyway so reads behave as usual.
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl on a descriptor this function owns.
    unsafe {
        let fl = libc::fcntl(f.as_raw_fd(), libc::F_GETFL);
        if fl >= 0 {
            libc::fcntl(f.as_raw_fd(), libc::F_SETFL, fl & !libc::O_NONBLOCK);
        }
    }
    Ok(f)
}

/// The error for a file over `kind`'s cap.
fn too_large(kind: Kind, size: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "it is {} (at least {size} bytes), larger than cclocal reads of {} (at most {} MiB)",
            crate::units::human(size),
            kind.what,
            kind.max / MIB
        ),
    )
}

/// Reads a whole regular file of `kind`, up to its cap.
pub fn read(path: &Path, kind: Kind) -> io::Result<Vec<u8>> {
    read_with(path, kind, 0)
}

/// [`read`] for cclocal's own records (journal, manifests, saved copies): a symlink at the
/// name is never followed (`O_NOFOLLOW`, the error is `ELOOP`), so a link planted there
/// cannot make cclocal read another file (docs/safety.md, "Run as root").
pub fn read_own(path: &Path, kind: Kind) -> io::Result<Vec<u8>> {
    read_with(path, kind, libc::O_NOFOLLOW)
}

fn read_with(path: &Path, kind: Kind, flags: i32) -> io::Result<Vec<u8>> {
    let f = open_with(path, kind.what, flags)?;
    let len = f.metadata()?.len();
    if len > kind.max {
        return Err(too_large(kind, len));
    }
    let mut buf = Vec::with_capacity(len as usize);
    // The file can grow after the fstat: read one byte past the cap to notice.
    f.take(kind.max + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > kind.max {
        return Err(too_large(kind, buf.len() as u64));
    }
    Ok(buf)
}

/// [`read`] as UTF-8 text (invalid UTF-8 is an error, as with `std::fs::read_to_string`).
pub fn read_to_string(path: &Path, kind: Kind) -> io::Result<String> {
    String::from_utf8(read(path, kind)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("it is not UTF-8 text; expected {}", kind.what),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_file_reads() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.json");
        std::fs::write(&p, "{}").unwrap();
        assert_eq!(read_to_string(&p, SETTINGS).unwrap(), "{}");
        assert_eq!(
            read(&d.path().join("missing"), SETTINGS)
                .unwrap_err()
                .kind(),
            io::ErrorKind::NotFound
        );
    }

    #[test]
    fn fifo_is_refused_without_blocking() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("fifo");
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Without O_NONBLOCK the open itself would wait for a writer forever.
        let e = read(&p, SETTINGS).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("FIFO"), "{e}");
        assert!(e.to_string().contains("settings file"), "{e}");
    }

    #[test]
    fn devices_and_directories_are_refused() {
        let e = read(Path::new("/dev/zero"), CONFIG).unwrap_err();
        assert!(e.to_string().contains("character device"), "{e}");
        let d = tempfile::tempdir().unwrap();
        let e = read(d.path(), CONFIG).unwrap_err();
        assert!(e.to_string().contains("directory"), "{e}");
    }

    #[test]
    fn size_cap() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("big");
        std::fs::write(&p, vec![b' '; 100]).unwrap();
        let small = Kind {
            what: "a test file",
            max: 99,
        };
        let e = read(&p, small).unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
        assert!(e.to_string().contains("a test file"), "{e}");
        assert_eq!(read(&p, Kind { max: 100, ..small }).unwrap().len(), 100);
    }
}
