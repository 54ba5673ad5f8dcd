//! One error type for the whole tool.
//!
//! Every error says what went wrong, about which file or value, and what to do
//! next (the cargo convention). The CLI prints it as:
//!
//! ```text
//! error: <message>
//!   --> <subject>
//!   help: <hint>
//! ```

use std::fmt;
use std::path::Path;

/// Broad class of an error; decides the exit code and lets tests match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A command-line value is wrong (exit code 2).
    Usage,
    /// A file could not be read or written.
    Io,
    /// A file's content is not what was expected (GGUF, JSON, manifest, log).
    Parse,
    /// A named thing (model, file, server) was not found.
    NotFound,
    /// A network peer failed or timed out.
    Network,
    /// A feature that this build does not contain.
    Unsupported,
}

#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// The file, value or URL the error is about.
    pub subject: Option<String>,
    /// What to do next.
    pub hint: Option<String>,
    /// The operating system's kind of failure, for an I/O error (`BrokenPipe`, …).
    pub io_kind: Option<std::io::ErrorKind>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            subject: None,
            hint: None,
            io_kind: None,
        }
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }
    pub fn parse(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Parse, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }
    /// An I/O error about `path`, with the OS reason.
    pub fn io(path: &Path, action: &str, err: std::io::Error) -> Self {
        let hint = match err.kind() {
            std::io::ErrorKind::NotFound => Some("check the path; it does not exist".to_string()),
            std::io::ErrorKind::PermissionDenied => {
                Some("check the file's permissions and owner".to_string())
            }
            _ => None,
        };
        Error {
            kind: if err.kind() == std::io::ErrorKind::NotFound {
                ErrorKind::NotFound
            } else {
                ErrorKind::Io
            },
            message: format!("could not {action}: {err}"),
            subject: Some(path.display().to_string()),
            hint,
            io_kind: Some(err.kind()),
        }
    }
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    /// Process exit code for this error: 2 for usage errors, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::Usage => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(s) = &self.subject {
            write!(f, "\n  --> {s}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_subject_and_hint() {
        let e = Error::parse("bad magic")
            .with_subject("/tmp/x.gguf")
            .with_hint("pass a .gguf file");
        let s = e.to_string();
        assert!(s.starts_with("bad magic"));
        assert!(s.contains("--> /tmp/x.gguf"));
        assert!(s.contains("help: pass a .gguf file"));
        assert_eq!(e.exit_code(), 1);
        assert_eq!(Error::usage("x").exit_code(), 2);
    }

    #[test]
    fn io_not_found_maps_kind() {
        let e = Error::io(
            Path::new("/nope"),
            "open",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert_eq!(e.kind, ErrorKind::NotFound);
    }
}
