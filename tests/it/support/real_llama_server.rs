//! The real llama-server (`support::llama_server_bin`) in a test: started on a loopback
//! port with given arguments, ready once `GET /health` answers 200 (bounded), killed when
//! dropped. Its stdout and stderr go to a file the test can read.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nobody listens on now (the OS picks it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A minimal HTTP/1.1 request on loopback: (status, body).
pub fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Some((status, body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

pub struct RealLlamaServer {
    child: Child,
    pub port: u16,
    pub base_url: String,
    /// Where the server's stdout and stderr go.
    pub output: PathBuf,
}

impl RealLlamaServer {
    /// Runs `argv` (program first) exactly as given; `port` is the one the arguments name.
    /// Panics (with the server's output) when it exits or `/health` is not 200 within
    /// `ready_within`.
    pub fn start_argv(argv: &[String], port: u16, output: &Path, ready_within: Duration) -> Self {
        let out = std::fs::File::create(output).unwrap();
        let child = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", argv[0]));
        let mut server = RealLlamaServer {
            child,
            port,
            base_url: format!("http://127.0.0.1:{port}"),
            output: output.to_path_buf(),
        };
        server.wait_ready(ready_within);
        server
    }

    /// The real llama-server with `args` (which must not name a port) on a free port.
    pub fn start(bin: &Path, args: &[&str], output: &Path) -> Self {
        let port = free_port();
        let mut argv = vec![bin.display().to_string()];
        argv.extend(args.iter().map(|s| s.to_string()));
        argv.extend([
            "--host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
        ]);
        Self::start_argv(&argv, port, output, Duration::from_secs(120))
    }

    /// The server's process id (to read its CPU time in `/proc/PID/stat`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn wait_ready(&mut self, within: Duration) {
        let start = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                panic!(
                    "llama-server exited ({st}) before it was ready:\n{}",
                    self.output_text()
                );
            }
            if let Some((200, _)) = http(self.port, "GET", "/health", None) {
                return;
            }
            if start.elapsed() > within {
                panic!(
                    "llama-server was not ready within {}s:\n{}",
                    within.as_secs(),
                    self.output_text()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        http(self.port, "GET", path, None).unwrap_or_else(|| panic!("GET {path} failed"))
    }

    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let (st, body) = self.get(path);
        assert_eq!(st, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    pub fn output_text(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }
}

impl Drop for RealLlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The unit `cclocal setup --server llama-server` writes, under the test's HOME.
pub const SETUP_UNIT: &str = ".config/systemd/user/cclocal-llama-server.service";

/// `cclocal setup --yes --server llama-server` for `model` at `ctx` tokens on a free loopback
/// port, for Claude Code 2.1.332, with a stand-in `systemctl` (no user systemd here: setup
/// prints the commands). Returns the unit's `ExecStart=` as systemd splits it and the port;
/// the test runs it (`RealLlamaServer::start_argv`), adding what it needs.
pub fn setup_unit(
    t: &super::setup_home::TestHome,
    model: &Path,
    server_bin: &Path,
    ctx: u64,
) -> (Vec<String>, u16) {
    let port = free_port();
    let argv = setup_unit_with(
        t,
        model,
        server_bin,
        port,
        &["--ctx", &ctx.to_string(), "--claude-version", "2.1.332"],
    );
    (argv, port)
}

/// [`setup_unit`] on `port` with `extra` arguments (`--memory 2GiB --claude-version …` to let
/// the planner choose the context and cache type).
pub fn setup_unit_with(
    t: &super::setup_home::TestHome,
    model: &Path,
    server_bin: &Path,
    port: u16,
    extra: &[&str],
) -> Vec<String> {
    let fake = super::systemd::fake_systemctl(t.dir.path(), false);
    let url = format!("http://127.0.0.1:{port}");
    let mut rest = vec!["--host", url.as_str()];
    rest.extend_from_slice(extra);
    let args = super::setup_home::llama_server_setup_args(model, server_bin, &rest);
    let o = t
        .command_of(&args)
        .env("PATH", format!("{}:/usr/bin:/bin", fake.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", super::setup_home::text(&o));
    let unit = std::fs::read_to_string(t.home().join(SETUP_UNIT)).unwrap();
    super::systemd::exec_start(&unit)
}
