//! Standard output for every command: a reader that stops early (`| head`, `| less` then
//! `q`) closes the pipe, and cclocal then ends quietly with exit code 0, as `cat` and
//! ripgrep do, instead of a panic (exit 101).
//!
//! Rust ignores SIGPIPE, so a write to a closed pipe fails with `BrokenPipe`; `println!`
//! turns that failure into a panic. The commands print with `print!`/`println!`, so the one
//! place that sees every such failure is the panic hook installed here.

use std::io::Write;

/// Whether the panic `print!`/`println!` (and `eprint!`) raise is for a reader of stdout
/// (or stderr, as in `cclocal doctor 2>&1 | head -1`) that has gone. The panic carries
/// only text: `failed printing to stdout: <io::Error>`, and the error's `(os error N)`;
/// the code is read back into an `io::Error` and judged by its kind, `BrokenPipe`, not by
/// the words of its message.
fn is_closed_stdout_panic(msg: &str) -> bool {
    let printing = msg.starts_with("failed printing to stdout")
        || msg.starts_with("failed printing to stderr");
    let code = msg
        .rsplit_once("(os error ")
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .and_then(|n| n.parse::<i32>().ok());
    printing
        && code.is_some_and(|c| {
            std::io::Error::from_raw_os_error(c).kind() == std::io::ErrorKind::BrokenPipe
        })
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
        Err(e) => Err(crate::error::Error {
            io_kind: Some(e.kind()),
            ..crate::error::Error::new(
                crate::error::ErrorKind::Io,
                format!("could not write the output: {e}"),
            )
        }),
    }
}

/// The output of a command that changes files (setup, alias, undo): where stdout or stderr
/// is not a terminal (a pipe, `| head -1`, a file), the command writes into a pipe of its
/// own, and a thread passes everything on as it comes. When the real reader goes away the
/// thread drops the rest instead of failing the write, so a reader that leaves early cannot
/// stop the work half-way (the closed-pipe exit above would end the process with 0 before
/// anything was written); the exit code is the work's.
pub struct KeepGoing {
    held: Vec<(i32, i32, std::sync::mpsc::Receiver<()>)>,
}

/// Starts passing stdout and stderr on through threads where they are not terminals.
pub fn keep_going_if_closed() -> KeepGoing {
    use std::io::IsTerminal;
    let mut held = Vec::new();
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    for (fd, tty) in [
        (1, std::io::stdout().is_terminal()),
        (2, std::io::stderr().is_terminal()),
    ] {
        if tty {
            continue;
        }
        if let Some(h) = forward(fd) {
            held.push(h);
        }
    }
    KeepGoing { held }
}

/// Puts a pipe in place of `fd` and a thread that copies it to where `fd` went before.
fn forward(fd: i32) -> Option<(i32, i32, std::sync::mpsc::Receiver<()>)> {
    use std::io::Read;
    use std::os::fd::FromRawFd;
    let mut p = [0; 2];
    // SAFETY: plain descriptor calls on the process's own stdout/stderr and a pipe made
    // here; every descriptor is closed or handed to exactly one owner.
    unsafe {
        if libc::pipe(p.as_mut_ptr()) != 0 {
            return None;
        }
        // The read end stays out of programs cclocal starts.
        libc::fcntl(p[0], libc::F_SETFD, libc::FD_CLOEXEC);
        let saved = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3);
        let writer = if saved >= 0 {
            libc::fcntl(saved, libc::F_DUPFD_CLOEXEC, 3)
        } else {
            -1
        };
        if saved < 0 || writer < 0 || libc::dup2(p[1], fd) < 0 {
            for d in [p[0], p[1], saved, writer] {
                if d >= 0 {
                    libc::close(d);
                }
            }
            return None;
        }
        libc::close(p[1]);
        let mut from = std::fs::File::from_raw_fd(p[0]);
        let mut to = std::fs::File::from_raw_fd(writer);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            let mut gone = false;
            loop {
                match from.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if !gone && to.write_all(&buf[..n]).is_err() {
                            // The reader has gone: drop the rest, the work goes on.
                            gone = true;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = tx.send(());
        });
        Some((fd, saved, rx))
    }
}

impl KeepGoing {
    /// Puts stdout and stderr back and waits (briefly) until everything was passed on.
    pub fn finish(self) {
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        for (fd, saved, done) in self.held {
            // SAFETY: restoring the descriptor saved in `forward`; this closes the pipe's
            // write end, so the thread sees its end (unless a program cclocal started
            // still holds it: then the wait below gives up).
            unsafe {
                libc::dup2(saved, fd);
                libc::close(saved);
            }
            let _ = done.recv_timeout(std::time::Duration::from_secs(2));
        }
    }
}

/// An error that only says stdout's reader has gone (a command that wrote through
/// `std::io` and passed the failure up).
pub fn is_closed_pipe(e: &crate::error::Error) -> bool {
    e.io_kind == Some(std::io::ErrorKind::BrokenPipe)
}

/// Prints what a journal session recovered from an interrupted run (to stderr).
pub fn say_recovered(s: &crate::setup::journal::Session) {
    for m in &s.recovered {
        eprintln!("{m}");
    }
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
        // By the error's kind: another wording of EPIPE still counts, the words alone do not.
        assert!(is_closed_stdout_panic(
            "failed printing to stdout: Relais cassé (os error 32)"
        ));
        assert!(!is_closed_stdout_panic(
            "failed printing to stdout: Broken pipe"
        ));
        let pipe = crate::error::Error::io(
            std::path::Path::new("-"),
            "write",
            std::io::Error::from(std::io::ErrorKind::BrokenPipe),
        );
        assert!(is_closed_pipe(&pipe));
        assert!(!is_closed_pipe(&crate::error::Error::new(
            crate::error::ErrorKind::Io,
            "Broken pipe"
        )));
        assert!(!is_closed_stdout_panic(
            "failed printing to stdout: No space left on device (os error 28)"
        ));
    }
}
