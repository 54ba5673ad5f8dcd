//! Helpers for the setup/alias/undo tests: a throwaway HOME, running cclocal in it, and
//! snapshots of a directory tree (bytes, mode, mtime) to prove what changed and what not.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where the stand-in system root holds `ollama.service` (as Ollama's installer puts it).
pub const OLLAMA_UNIT: &str = "etc/systemd/system/ollama.service";

/// Plants a minimal `ollama.service` under the stand-in system `root`.
pub fn plant_ollama_service(root: &Path) {
    let unit = root.join(OLLAMA_UNIT);
    std::fs::create_dir_all(unit.parent().unwrap()).unwrap();
    std::fs::write(
        &unit,
        "[Unit]\nDescription=Ollama Service\n\n[Service]\nExecStart=/usr/local/bin/ollama serve\n",
    )
    .unwrap();
}

pub struct TestHome {
    pub dir: tempfile::TempDir,
}

impl TestHome {
    pub fn new() -> TestHome {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("home")).unwrap();
        std::fs::create_dir(dir.path().join("root")).unwrap();
        // The stand-in system has an ollama.service, so setup installs its drop-in there
        // (`TestHome::remove_ollama_service` for a machine without one).
        plant_ollama_service(&dir.path().join("root"));
        TestHome { dir }
    }
    /// Removes the stand-in `ollama.service` (setup then installs no drop-in).
    pub fn remove_ollama_service(&self) {
        std::fs::remove_file(self.root().join(OLLAMA_UNIT)).unwrap();
    }
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }
    /// `cclocal <args>` with HOME here, no XDG or Claude variables, no terminal.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cclocal"));
        c.args(args)
            .env("HOME", self.home())
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("SHELL", "/bin/bash")
            .stdin(std::process::Stdio::null());
        for v in [
            "XDG_CONFIG_HOME",
            "XDG_STATE_HOME",
            "CLAUDE_CONFIG_DIR",
            "OLLAMA_HOST",
            "ZDOTDIR",
            "OLLAMA_MODELS",
        ] {
            c.env_remove(v);
        }
        c
    }
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }
    /// `cclocal <args>` as the user runs it once set up: `bin` (where the tests put `claude`)
    /// first on PATH, from HOME, no colour, no service probes, and none of the Claude
    /// variables in the environment (the doctor must find the setup by itself).
    pub fn user_command(&self, bin: &Path, args: &[&str]) -> Command {
        let mut c = self.command(args);
        c.env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("NO_COLOR", "1")
            .env("CCLOCAL_DOCTOR_NO_SERVICE_PROBES", "1")
            .current_dir(self.home());
        for v in [
            "ANTHROPIC_BASE_URL",
            "ANTHROPIC_MODEL",
            "ANTHROPIC_AUTH_TOKEN",
            "ANTHROPIC_API_KEY",
        ] {
            c.env_remove(v);
        }
        c
    }
    /// A `bin` folder in the test's directory with `claude` linked to `claude` (a real
    /// build), to put on PATH.
    pub fn claude_bin_dir(&self, claude: &Path) -> PathBuf {
        let bin = self.dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(claude, bin.join("claude")).unwrap();
        bin
    }
    /// [`TestHome::command`] with owned arguments.
    pub fn command_of(&self, args: &[String]) -> Command {
        self.command(&refs(args))
    }
    /// [`setup_args`] with the system drop-in under the test's root.
    pub fn setup_args(&self, extra: &[&str]) -> Vec<String> {
        setup_args(&self.root(), extra)
    }
    pub fn setup(&self, extra: &[&str]) -> Output {
        let args = self.setup_args(extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&refs)
    }
}

/// `cclocal setup` with a fixed model, context and Claude Code version, and the system
/// drop-in under `system_root`, plus `extra`.
pub fn setup_args(system_root: &Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "setup",
        "--model",
        "qwen3-coder:30b",
        "--ctx",
        "65536",
        "--claude-version",
        "2.1.332",
        "--host",
        "http://127.0.0.1:9",
        "--system-root",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.push(system_root.display().to_string());
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// `args` as `&str`s, for the functions that take `&[&str]`.
pub fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// What every llama-server setup in the tests begins with, `setup --yes --server
/// llama-server --model MODEL --llama-server SERVER_BIN`, then `rest`.
pub fn llama_server_setup_args(model: &Path, server_bin: &Path, rest: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = ["setup", "--yes", "--server", "llama-server", "--model"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    a.push(model.display().to_string());
    a.push("--llama-server".into());
    a.push(server_bin.display().to_string());
    a.extend(rest.iter().map(|s| s.to_string()));
    a
}

/// Every file under `dir`: relative path -> (bytes, mode, mtime in ns); directories too
/// (bytes empty).
pub fn tree(dir: &Path) -> BTreeMap<String, (Vec<u8>, u32, i128)> {
    let mut out = BTreeMap::new();
    fn walk(base: &Path, d: &Path, out: &mut BTreeMap<String, (Vec<u8>, u32, i128)>) {
        let mut ents: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        ents.sort();
        for p in ents {
            let m = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            let mtime = m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128;
            if m.is_dir() {
                out.insert(
                    format!("{rel}/"),
                    (Vec::new(), m.permissions().mode() & 0o7777, 0),
                );
                walk(base, &p, out);
            } else {
                out.insert(
                    rel,
                    (
                        std::fs::read(&p).unwrap(),
                        m.permissions().mode() & 0o7777,
                        mtime,
                    ),
                );
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

/// The tree without mtimes (for byte-for-byte comparisons across rewrites).
pub fn contents(dir: &Path) -> BTreeMap<String, (Vec<u8>, u32)> {
    tree(dir)
        .into_iter()
        .map(|(k, (b, m, _))| (k, (b, m)))
        .collect()
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A realistic `~/.claude.json` of more than 100 KB, pretty-printed like Claude Code
/// (`JSON.stringify(x, null, 2)`): projects, history, oauth-looking keys, odd strings.
pub fn realistic_claude_json() -> String {
    use serde_json::{json, Map, Value};
    let mut projects = Map::new();
    for i in 0..150 {
        let history: Vec<Value> = (0..6)
            .map(|j| json!({"display": format!("fix the bug in module {i} step {j} — “quoted” \\ \"esc\" \u{2028}"), "pastedContents": {}}))
            .collect();
        projects.insert(
            format!("/home/user/src/project-{i:03}"),
            json!({
                "allowedTools": ["Bash(git status)", "Edit"],
                "history": history,
                "mcpContextUris": [],
                "mcpServers": {"fs": {"type": "stdio", "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem"]}},
                "enabledMcpjsonServers": [],
                "hasTrustDialogAccepted": i % 2 == 0,
                "lastCost": 0.123456789,
                "lastDuration": 1234567,
                "lastTotalInputTokens": 98765,
                "exampleFiles": ["src/main.rs", "Cargo.toml"]
            }),
        );
    }
    let v = json!({
        "numStartups": 412,
        "installMethod": "npm-global",
        "autoUpdates": true,
        "theme": "dark",
        "customApiKeyResponses": {"approved": ["abcdefghij0123456789"], "rejected": []},
        "tipsHistory": {"new-user-warmup": 7, "memory-command": 31},
        "userID": "5b1c0f3e9a7d4e2b8c6f1a0d3e5b7c9f5b1c0f3e9a7d4e2b8c6f1a0d3e5b7c9f",
        "oauthAccount": {
            "accountUuid": "0c5e2d1a-7b3f-4e9c-8a6d-2f1b0e9d8c7a",
            "emailAddress": "someone@example.com",
            "organizationUuid": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
            "organizationRole": "admin"
        },
        "primaryApiKey": "sk-ant-api03-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX-XXXXXXAA",
        "projects": projects,
        "cachedChangelog": "# Changelog\n\n## 2.1.332\n- Something \"quoted\" and \\ backslashed\n".repeat(20),
        "firstStartTime": "2026-01-02T03:04:05.678Z",
        "bigNumber": 12345678901234567u64,
        "negative": -0.5,
        "empty": {},
        "emptyList": [],
        "nothing": null
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap();
    s.push('\n');
    assert!(s.len() > 100_000, "{} bytes", s.len());
    s
}

/// Runs `cmd` as an unprivileged user when this process is root (so that file permissions
/// apply), giving that user `dir`.
pub fn unprivileged(cmd: Command, dir: &Path) -> Command {
    let euid = std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(1);
    if euid != 0 {
        return cmd;
    }
    let st = Command::new("chown")
        .arg("-R")
        .arg("65534:65534")
        .arg(dir)
        .status()
        .unwrap();
    assert!(st.success());
    // Let the unprivileged user reach the temp directory.
    let mut p = dir.to_path_buf();
    while let Some(parent) = p.parent() {
        if parent == Path::new("/") || parent == Path::new("/tmp") {
            break;
        }
        let _ = std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o755));
        p = parent.to_path_buf();
    }
    let prog = cmd.get_program().to_os_string();
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(prog)
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c.stdin(std::process::Stdio::null());
    c
}

impl TestHome {
    /// The launcher `cclocal setup` wrote, ready to run the real Claude Code: a clean
    /// environment with this HOME, `bin` first on PATH (where the test put `claude`), no
    /// non-essential traffic, run from HOME.
    pub fn launcher(&self, bin: &std::path::Path) -> std::process::Command {
        let mut c = std::process::Command::new(self.home().join(".local/bin/claude-local"));
        c.env_clear()
            .env("HOME", self.home())
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .current_dir(self.home());
        c
    }
}
