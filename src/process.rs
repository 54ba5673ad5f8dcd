//! Running a helper program (`claude --version`, `launchctl`, `systemctl`, `sqlite3`) with
//! a deadline: it is killed when the deadline passes, and its output is read on threads so
//! that a chatty program cannot block on a full pipe.

use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
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

/// Most bytes kept of one stream (a chatty program cannot fill memory).
const MAX_OUTPUT: usize = 8 * 1024 * 1024;
/// How long the pipes may stay open after the program exited: a child it left behind can
/// hold them open for as long as it lives, and its output is not the program's.
const AFTER_EXIT: Duration = Duration::from_millis(200);

/// Reads `r` on a thread into a shared buffer (capped); the receiver hears when it ends.
fn drain<R: Read + Send + 'static>(r: Option<R>) -> (Arc<Mutex<Vec<u8>>>, mpsc::Receiver<()>) {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let b = buf.clone();
    std::thread::spawn(move || {
        if let Some(mut r) = r {
            let mut chunk = [0u8; 16 * 1024];
            loop {
                match r.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => {
                        let mut b = b.lock().unwrap_or_else(|e| e.into_inner());
                        let room = MAX_OUTPUT.saturating_sub(b.len());
                        b.extend_from_slice(&chunk[..n.min(room)]);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        }
        let _ = tx.send(());
    });
    (buf, rx)
}

/// What a reader has so far, once it ended or `until` passed (whichever comes first).
fn collect(buf: &Arc<Mutex<Vec<u8>>>, done: &mpsc::Receiver<()>, until: Instant) -> String {
    let _ = done.recv_timeout(until.saturating_duration_since(Instant::now()));
    let b = buf.lock().unwrap_or_else(|e| e.into_inner());
    String::from_utf8_lossy(&b).into_owned()
}

/// Kills the program and everything it started in its process group.
fn kill_group(child: &mut std::process::Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: signalling a process group this function's caller created.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs `program args` with stdin closed until `deadline`. The program runs in its own
/// process group, killed whole at the deadline; once it exits, its output is what arrived
/// within a moment after, even if a child it left behind still holds the pipes.
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
        .process_group(0)
        .spawn()
        .map_err(RunError::Spawn)?;
    let (out, out_done) = drain(child.stdout.take());
    let (err, err_done) = drain(child.stderr.take());
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                kill_group(&mut child);
                return Err(RunError::TimedOut);
            }
        }
    };
    let until = (Instant::now() + AFTER_EXIT).min(deadline.max(Instant::now()));
    Ok(Output {
        success: status.success(),
        stdout: collect(&out, &out_done, until),
        stderr: collect(&err, &err_done, until),
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
    fn a_child_left_holding_the_pipes_is_not_waited_for() {
        // The program exits at once; the `sleep` it leaves behind keeps stdout open. Before,
        // the read waited for the sleep (the whole deadline and more). A watchdog, not a
        // speed claim: the run must end, with the program's own output.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let o = run_for(
                "sh",
                &["-c", "echo v1.2.3; sleep 300 & echo $! >&2"],
                Duration::from_secs(280),
            );
            let _ = tx.send(o);
        });
        let o = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("run_for waited on the pipe of a child left behind")
            .unwrap();
        assert!(o.success);
        assert_eq!(o.stdout.trim(), "v1.2.3");
        if let Ok(pid) = o.stderr.trim().parse::<i32>() {
            // SAFETY: the test's own stray `sleep`.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }

    #[test]
    fn the_deadline_kills_the_whole_group() {
        let d = tempfile::tempdir().unwrap();
        let pidfile = d.path().join("pid");
        let script = format!("sleep 300 & echo $! > {}; wait", pidfile.display());
        assert!(matches!(
            run_for("sh", &["-c", &script], Duration::from_millis(500)),
            Err(RunError::TimedOut)
        ));
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The grandchild is gone (a zombie is reaped by init soon; poll briefly).
        let mut alive = true;
        for _ in 0..100 {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if stat.is_empty() || stat.contains(") Z ") {
                alive = false;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!alive, "the program's child survived the deadline");
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
