//! Running a helper program (`claude --version`, `launchctl`, `systemctl`, `sqlite3`) with
//! a deadline: it is killed when the deadline passes, and its output is read on threads so
//! that a chatty program cannot block on a full pipe.

use std::ffi::OsStr;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a finished program printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Why no output came back.
#[derive(Debug)]
pub enum RunError {
    /// The program could not be started (not installed, not executable).
    Spawn(std::io::Error),
    /// It was still running at the deadline and was killed.
    TimedOut,
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Spawn(e) => write!(f, "could not start it: {e}"),
            RunError::TimedOut => write!(f, "it did not finish in time"),
        }
    }
}

fn drain<R: Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Runs `program args` with stdin closed until `deadline`.
pub fn run_until<S: AsRef<OsStr>>(
    program: S,
    args: &[&str],
    deadline: Instant,
) -> Result<Output, RunError> {
    let mut child = Command::new(program)
        .args(args)
        // A secret handed to cclocal through its environment is not passed on.
        .env_remove("CCLOCAL_AUTH_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(RunError::Spawn)?;
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::TimedOut);
            }
        }
    };
    Ok(Output {
        success: status.success(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// [`run_until`] with a timeout from now.
pub fn run_for<S: AsRef<OsStr>>(
    program: S,
    args: &[&str],
    timeout: Duration,
) -> Result<Output, RunError> {
    run_until(program, args, Instant::now() + timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_and_status() {
        let o = run_for(
            "sh",
            &["-c", "echo out; echo err >&2; exit 3"],
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(
            (o.success, o.stdout.trim(), o.stderr.trim()),
            (false, "out", "err")
        );
    }

    #[test]
    fn large_output_does_not_block() {
        let o = run_for(
            "sh",
            &["-c", "head -c 300000 /dev/zero | tr '\\0' x"],
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(o.stdout.len(), 300_000);
    }

    #[test]
    fn deadline_kills() {
        let t = Instant::now();
        assert!(matches!(
            run_for("sleep", &["5"], Duration::from_millis(200)),
            Err(RunError::TimedOut)
        ));
        assert!(t.elapsed() < Duration::from_secs(3));
        assert!(matches!(
            run_for("/nonexistent/program", &[], Duration::from_secs(1)),
            Err(RunError::Spawn(_))
        ));
    }
}
