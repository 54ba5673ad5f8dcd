//! The real Python servers in a test (vLLM's CPU build, vllm-mlx, mlx_lm.server from
//! `scripts/install-test-deps.sh`): a command started on a loopback port, ready once a
//! route answers 200 (bounded), its output captured to a file, and stopped when dropped.
//!
//! These servers start child processes of their own (vLLM: an engine core process), so a
//! server runs in its own process group and is stopped as a group: SIGTERM, then SIGKILL.
//! No server may outlive the test binary, whatever happens:
//! - dropping the guard stops the group (a test that panics drops it too);
//! - at the binary's exit (`atexit`), every group still running is killed;
//! - a killed test binary: the server's leader gets SIGKILL from the kernel
//!   (`PR_SET_PDEATHSIG`; the parent-death signal follows the *thread* that started the
//!   process, and a test's thread ends with the test, so every server is started from one
//!   thread that lives as long as the binary), and a watchdog (`sh`, reading a pipe only
//!   the binary holds open) kills the rest of the group when that pipe closes.
#![allow(dead_code)]

use super::real_llama_server::http;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Process groups of the servers running now (killed at exit).
static GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

extern "C" fn kill_groups_at_exit() {
    if let Ok(g) = GROUPS.lock() {
        for pgid in g.iter() {
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
}

type SpawnJob = (Command, mpsc::Sender<std::io::Result<Child>>);

/// The one thread that starts servers: it lives until the binary exits.
fn spawner() -> &'static Mutex<mpsc::Sender<SpawnJob>> {
    static TX: OnceLock<Mutex<mpsc::Sender<SpawnJob>>> = OnceLock::new();
    TX.get_or_init(|| {
        unsafe {
            libc::atexit(kill_groups_at_exit);
        }
        let (tx, rx) = mpsc::channel::<SpawnJob>();
        std::thread::Builder::new()
            .name("real-server-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
                // The sender lives in a static: never reached before exit.
                loop {
                    std::thread::park();
                }
            })
            .unwrap();
        Mutex::new(tx)
    })
}

fn spawn_guarded(mut cmd: Command) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as i32;
    unsafe {
        cmd.pre_exec(move || {
            // Its own process group, so the whole tree can be stopped.
            libc::setpgid(0, 0);
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            // The binary died between fork and prctl.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    let (tx, rx) = mpsc::channel();
    spawner().lock().unwrap().send((cmd, tx)).unwrap();
    rx.recv().unwrap()
}

pub struct RealServer {
    child: Child,
    /// `sh -c 'read _; kill -KILL -PGID'`: its stdin is a pipe this process holds.
    watchdog: Option<Child>,
    pub name: String,
    pub port: u16,
    pub base_url: String,
    /// Where the server's stdout and stderr go.
    pub output: PathBuf,
    /// How long it took to answer its ready route.
    pub startup: Duration,
}

impl RealServer {
    /// Runs `argv` (program first, with `env` added) exactly as given; `port` is the one the
    /// arguments name. Ready when `GET ready_path` answers 200. Panics (with the server's
    /// output) when it exits first or is not ready within `within`.
    pub fn start(
        name: &str,
        argv: &[String],
        env: &[(&str, &str)],
        port: u16,
        output: &Path,
        ready_path: &str,
        within: Duration,
    ) -> RealServer {
        let out = std::fs::File::create(output).unwrap();
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let t0 = Instant::now();
        let child =
            spawn_guarded(cmd).unwrap_or_else(|e| panic!("cannot start {name} ({}): {e}", argv[0]));
        let pgid = child.id() as i32;
        GROUPS.lock().unwrap().push(pgid);
        // Dies with this process's end of the pipe, taking the group with it.
        let watchdog = Command::new("/bin/sh")
            .args([
                "-c",
                &format!("read _ignored; kill -KILL -{pgid} 2>/dev/null"),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        let mut s = RealServer {
            child,
            watchdog,
            name: name.to_string(),
            port,
            base_url: format!("http://127.0.0.1:{port}"),
            output: output.to_path_buf(),
            startup: Duration::ZERO,
        };
        loop {
            if let Some(st) = s.child.try_wait().unwrap() {
                panic!(
                    "{name} exited ({st}) before it was ready:\n{}",
                    s.output_tail()
                );
            }
            if let Some((200, _)) = http(port, "GET", ready_path, None) {
                break;
            }
            if t0.elapsed() > within {
                panic!(
                    "{name} was not ready within {}s:\n{}",
                    within.as_secs(),
                    s.output_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        s.startup = t0.elapsed();
        eprintln!(
            "{name} ready on port {port} in {:.1}s",
            s.startup.as_secs_f64()
        );
        s
    }

    pub fn output_text(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    /// The last 4000 characters of its output (for panics).
    pub fn output_tail(&self) -> String {
        let t = self.output_text();
        let start = t.len().saturating_sub(4000);
        let start = (start..t.len())
            .find(|i| t.is_char_boundary(*i))
            .unwrap_or(t.len());
        t[start..].to_string()
    }

    /// The resident memory of its process group, in bytes (from /proc; 0 when unreadable).
    pub fn rss_bytes(&self) -> u64 {
        let pgid = self.child.id() as i32;
        let mut total = 0;
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            if unsafe { libc::getpgid(pid) } != pgid {
                continue;
            }
            if let Ok(st) = std::fs::read_to_string(e.path().join("status")) {
                if let Some(kb) = st
                    .lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                {
                    total += kb * 1024;
                }
            }
        }
        total
    }

    /// Stops the whole group: SIGTERM, up to 20 s for a clean exit, then SIGKILL.
    pub fn stop(&mut self) {
        let pgid = self.child.id() as i32;
        if self.child.try_wait().ok().flatten().is_none() {
            unsafe {
                libc::kill(-pgid, libc::SIGTERM);
            }
            let t0 = Instant::now();
            while t0.elapsed() < Duration::from_secs(20) {
                if self.child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        // Whatever is left of the group (engine processes), and the leader.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        GROUPS.lock().unwrap().retain(|g| *g != pgid);
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Held by a test while its real Python servers run: one such test at a time, so vLLM
/// (~8 GB, both cores) never shares the machine with another real server.
pub fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A shell line as `sh -c` runs it, for "run the command as printed".
pub fn shell_argv(line: &str) -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into(), format!("exec {line}")]
}
