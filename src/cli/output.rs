//! Standard output for every command: a reader that stops early (`| head`, `| less` then
//! `q`) closes the pipe, and cclocal then ends quietly with exit code 0, as `cat` and
//! ripgrep do, instead of a panic (exit 101).
//!
//! Rust ignores SIGPIPE, so a write to a closed pipe fails with `BrokenPipe`; `println!`
//! turns that failure into a panic. The commands print with `print!`/`println!`, so the one
//! place that sees every such failure is the panic hook installed here.

use std::io::Write;

/// The text of the panic `print!`/`println!` (and `eprint!`) raise when the reader of
/// stdout (or stderr, as in `cclocal doctor 2>&1 | head -1`) has gone.
fn is_closed_stdout_panic(msg: &str) -> bool {
    (msg.starts_with("failed printing to stdout") || msg.starts_with("failed printing to stderr"))
        && msg.contains("Broken pipe")
}

/// Installs the panic hook that ends the process with 0 when stdout's reader has gone; any
/// other panic is reported as before.
pub fn quiet_on_closed_stdout() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if is_closed_stdout_panic(msg) {
            std::process::exit(0);
        }
        previous(info);
    }));
}

/// Writes `bytes` to stdout and flushes; a closed pipe ends the process with 0.
pub fn write_stdout(bytes: &[u8]) -> crate::error::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(crate::error::Error::new(
            crate::error::ErrorKind::Io,
            format!("could not write the output: {e}"),
        )),
    }
}

/// An error that only says stdout's reader has gone (a command that wrote through
/// `std::io` and passed the failure up).
pub fn is_closed_pipe(e: &crate::error::Error) -> bool {
    e.kind == crate::error::ErrorKind::Io && e.message.contains("Broken pipe")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_print_panic() {
        assert!(is_closed_stdout_panic(
            "failed printing to stdout: Broken pipe (os error 32)"
        ));
        assert!(is_closed_stdout_panic(
            "failed printing to stderr: Broken pipe (os error 32)"
        ));
        assert!(!is_closed_stdout_panic("index out of bounds"));
        assert!(!is_closed_stdout_panic(
            "failed printing to stdout: No space left on device (os error 28)"
        ));
    }
}
