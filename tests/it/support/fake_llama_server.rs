//! A FAKE llama-server for tests (not llama.cpp): it answers with the bodies captured from
//! a real llama-server b11434 (`tests/fixtures/llama_server_b11434/`), configurable as the
//! real one is started: `-np 1 -c 8192`, `-np 4 -c 16384`, the defaults (4 auto slots),
//! router mode, still loading (503 everywhere), another build number. `fake_process`
//! starts a process named `llama-server` carrying a command line and `LLAMA_ARG_*`
//! environment for the doctor to read from `/proc` (it serves nothing itself).
#![allow(dead_code)]

use super::fake_http::{Answer, FakeHttp, Routes};
use std::path::Path;
use std::process::{Child, Command};

/// Which captured run to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `-c 8192 -np 1`.
    OneSlot,
    /// `-np 4 -c 16384`: 4 slots of 4096.
    FourSlots,
    /// No `-c`/`-np`: 32768, 4 auto slots sharing one cache.
    Defaults,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub layout: Layout,
    pub router: bool,
    pub loading: bool,
    /// Replaces `b0-unknown` in `/props`.
    pub build_info: Option<String>,
    /// Replaces `/models/gemma-3-270m-q4_k_m.gguf` (e.g. with the real GGUF's path).
    pub model_path: Option<String>,
}

impl Config {
    pub fn new(layout: Layout) -> Self {
        Config {
            layout,
            router: false,
            loading: false,
            build_info: None,
            model_path: None,
        }
    }
    pub fn router(mut self) -> Self {
        self.router = true;
        self
    }
    pub fn loading(mut self) -> Self {
        self.loading = true;
        self
    }
    pub fn build(mut self, b: &str) -> Self {
        self.build_info = Some(b.into());
        self
    }
    pub fn model_path(mut self, p: &str) -> Self {
        self.model_path = Some(p.into());
        self
    }
}

pub fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/llama_server_b11434")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const CAPTURED_PATH: &str = "/models/gemma-3-270m-q4_k_m.gguf";

/// The fake's routes for `cfg`.
pub fn routes(cfg: &Config) -> Routes {
    let not_found = Answer::json(404, &fixture("not_found.json"));
    if cfg.loading {
        return Routes::new(Answer::json(503, &fixture("loading.json")));
    }
    let prefix = match cfg.layout {
        Layout::OneSlot => "",
        Layout::FourSlots => "np4_",
        Layout::Defaults => "defaults_",
    };
    let fix = |s: String| {
        let s = match &cfg.build_info {
            Some(b) => s.replace("b0-unknown", b),
            None => s,
        };
        match &cfg.model_path {
            Some(p) => s.replace(CAPTURED_PATH, p),
            None => s,
        }
    };
    let mut r = Routes::new(not_found)
        .route("GET /health", Answer::json(200, &fixture("health.json")))
        .route("GET /v1/health", Answer::json(200, &fixture("health.json")))
        .route(
            "GET /metrics",
            Answer::json(501, &fixture("metrics_disabled.json")),
        )
        .route(
            "POST /v1/messages/count_tokens",
            Answer::json(200, &fixture("count_tokens.json")),
        );
    if cfg.router {
        // Router mode (no -m): the documented shape of its model list; /props describes
        // the router itself, without a model or generation settings.
        let models = r#"{"object":"list","data":[{"id":"gemma3-270m","object":"model","owned_by":"llamacpp","path":"/models/gemma-3-270m-q4_k_m.gguf","status":{"value":"loaded","args":["llama-server","-c","8192"]}},{"id":"qwen3-coder-30b","object":"model","owned_by":"llamacpp","path":"/models/qwen3-coder-30b.gguf","status":{"value":"unloaded"}}]}"#;
        let props =
            fix(r#"{"role":"router","build_info":"b0-unknown","is_sleeping":false}"#.to_string());
        return r
            .route("GET /v1/models", Answer::json(200, models))
            .route("GET /models", Answer::json(200, models))
            .route("GET /props", Answer::json(200, &props));
    }
    for (route, file) in [
        ("GET /props", "props.json"),
        ("GET /slots", "slots.json"),
        ("GET /v1/models", "v1_models.json"),
        ("GET /models", "v1_models.json"),
    ] {
        r = r.route(
            route,
            Answer::json(200, &fix(fixture(&format!("{prefix}{file}")))),
        );
    }
    r
}

pub fn start(cfg: Config) -> FakeHttp {
    FakeHttp::start(routes(&cfg))
}

/// A process whose program name is `llama-server` with `args` after it and `env` added,
/// for the doctor's `/proc` reading. Killed on drop.
pub struct FakeProcess {
    pub child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for FakeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn fake_process(args: &[&str], env: &[(&str, &str)]) -> Option<FakeProcess> {
    super::tool("python3")?;
    // The interpreter itself (a version manager's `python3` shim would re-exec and lose
    // the program name).
    let exe = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .ok()?;
    let exe = String::from_utf8_lossy(&exe.stdout).trim().to_string();
    let dir = tempfile::tempdir().unwrap();
    let idle = dir.path().join("idle.py");
    std::fs::write(&idle, "import time\ntime.sleep(120)\n").unwrap();
    let mut script = format!("exec -a llama-server '{exe}' \"$0\"");
    for a in args {
        script.push_str(&format!(" '{}'", a.replace('\'', "'\\''")));
    }
    let mut c = Command::new("bash");
    c.arg("-c").arg(script).arg(&idle);
    for (k, v) in env {
        c.env(k, v);
    }
    let child = c.spawn().unwrap();
    // Wait until the exec happened (the name is visible in /proc).
    let cmdline = format!("/proc/{}/cmdline", child.id());
    for _ in 0..100 {
        if std::fs::read(&cmdline).is_ok_and(|b| b.starts_with(b"llama-server\0")) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Some(FakeProcess { child, _dir: dir })
}
