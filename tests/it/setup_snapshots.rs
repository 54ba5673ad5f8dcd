//! Snapshot tests of every file `cclocal setup` generates, for each way the server part is
//! written (Linux with and without root, macOS, a remote server, the other OS), plus syntax
//! checks of every script with the real shells and shellcheck, and of every plist with
//! Python's plistlib.
//!
//! Snapshots live in `tests/snapshots/setup/<variant>/`; `$HOME` stands for the test's home.
//! To regenerate after an intended change: `CCLOCAL_UPDATE_SNAPSHOTS=1 cargo test --test
//! setup_snapshots`, then review the diff in git before committing.
use crate::support;

use cclocal::claude::Version;
use cclocal::setup::{build_plan, Choices, Host, Part, Paths, TargetOs};
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn choices() -> Choices {
    Choices {
        server_url: "http://127.0.0.1:11434".into(),
        remote: false,
        model: "qwen3-coder:30b".into(),
        context: 65536,
        kv_cache_type: "q8_0".into(),
        flash_attention: true,
        keep_alive: "30m".into(),
        launcher_name: "claude-local".into(),
        auth_token: "ollama".into(),
        claude_version: Version(2, 1, 332),
        target: TargetOs::Linux,
        parts: Part::ALL.to_vec(),
        llama_server: None,
        chosen: Default::default(),
    }
}

fn host(os: TargetOs, root: Option<&Path>) -> Host {
    Host {
        os,
        is_root: root.is_some(),
        uid: 501,
        system_root: root
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/")),
        app_context_length: None,
        brew_service: None,
    }
}

fn snapshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/setup")
}

/// (path relative to the temp dir, content with placeholders, real content)
type Rendered = (String, Vec<u8>, Vec<u8>);

/// Renders a variant into a temp home; returns the temp dir and each file as (path relative
/// to it, content with `$HOME`/`$ROOT` for the paths, real content).
fn render(ch: &Choices, os: TargetOs, with_root: bool) -> (tempfile::TempDir, Vec<Rendered>) {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let root = tmp.path().join("root");
    let paths = Paths::under(&home);
    let built = build_plan(&paths, ch, &host(os, with_root.then_some(root.as_path()))).unwrap();
    let home_s = home.display().to_string();
    let root_s = root.display().to_string();
    let files = built
        .plan
        .changes
        .iter()
        .map(|c| {
            let rel = c
                .path
                .strip_prefix(tmp.path())
                .unwrap()
                .display()
                .to_string();
            let real = c.new_bytes.clone().unwrap();
            let text = String::from_utf8(real.clone()).unwrap();
            let text = text.replace(&home_s, "$HOME").replace(&root_s, "$ROOT");
            (rel, text.into_bytes(), real)
        })
        .collect();
    (tmp, files)
}

fn check_snapshot(variant: &str, rel: &str, bytes: &[u8]) {
    let name = rel.replace('/', "__");
    let p = snapshot_dir().join(variant).join(name);
    if std::env::var_os("CCLOCAL_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        return;
    }
    let want = std::fs::read(&p)
        .unwrap_or_else(|_| panic!("missing snapshot {} (see the module docs)", p.display()));
    assert_eq!(
        String::from_utf8_lossy(bytes),
        String::from_utf8_lossy(&want),
        "{variant}/{rel} differs from its snapshot {}",
        p.display()
    );
}

/// `sh -n`, `bash -n`, `zsh -n` and `shellcheck` on a script.
pub fn check_sh_syntax(path: &Path) {
    for (tool, args) in [
        ("sh", vec!["-n"]),
        ("bash", vec!["-n"]),
        ("zsh", vec!["-n"]),
        ("shellcheck", vec!["-s", "sh"]),
    ] {
        let Some(bin) = support::tool(tool) else {
            continue;
        };
        let out = Command::new(bin).args(&args).arg(path).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?} rejects {}:\n{}{}",
            path.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

pub fn check_plist(path: &Path) {
    let Some(py) = support::tool("python3") else {
        return;
    };
    let out = Command::new(py)
        .args(["-c", "import plistlib,sys; d=plistlib.load(open(sys.argv[1],'rb')); assert d['RunAtLoad'] is True; print(d['Label'])"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "plistlib rejects {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "com.cclocal.ollama-env"
    );
}

fn check_variant(variant: &str, ch: &Choices, os: TargetOs, with_root: bool, expect: &[&str]) {
    let (tmp, files) = render(ch, os, with_root);
    let names: Vec<&str> = files.iter().map(|(r, _, _)| r.as_str()).collect();
    assert_eq!(names, expect, "{variant}: files");
    for (rel, shown, bytes) in &files {
        check_snapshot(variant, rel, shown);
        // Check the real bytes (with real paths) with the tools.
        let real = tmp.path().join(format!("check-{}", rel.replace('/', "_")));
        std::fs::write(&real, bytes).unwrap();
        if rel.ends_with(".sh") || rel.ends_with("claude-local") {
            check_sh_syntax(&real);
        }
        if rel.ends_with(".plist") {
            check_plist(&real);
        }
        if rel.ends_with(".json") {
            serde_json::from_slice::<serde_json::Value>(bytes).unwrap();
        }
    }
}

#[test]
fn linux_without_root() {
    check_variant(
        "linux-user",
        &choices(),
        TargetOs::Linux,
        false,
        &[
            "home/.local/bin/claude-local",
            "home/.config/cclocal/claude-settings.json",
            "home/.config/cclocal/server/cclocal.conf",
            "home/.claude.json",
            "home/.config/cclocal/config.toml",
        ],
    );
}

#[test]
fn linux_as_root_writes_the_drop_in() {
    let ch = Choices {
        parts: vec![Part::Server],
        ..choices()
    };
    check_variant(
        "linux-root",
        &ch,
        TargetOs::Linux,
        true,
        &[
            "root/etc/systemd/system/ollama.service.d/cclocal.conf",
            "home/.config/cclocal/config.toml",
        ],
    );
}

#[test]
fn macos_writes_a_launch_agent() {
    let ch = Choices {
        parts: vec![Part::Server],
        target: TargetOs::Macos,
        ..choices()
    };
    check_variant(
        "macos",
        &ch,
        TargetOs::Macos,
        false,
        &[
            "home/Library/LaunchAgents/com.cclocal.ollama-env.plist",
            "home/.config/cclocal/config.toml",
        ],
    );
}

#[test]
fn remote_linux_server_gets_a_script() {
    let ch = Choices {
        server_url: "http://gpu-box:11434".into(),
        remote: true,
        parts: vec![Part::Server, Part::Launcher],
        ..choices()
    };
    check_variant(
        "remote-linux",
        &ch,
        TargetOs::Linux,
        false,
        &[
            "home/.local/bin/claude-local",
            "home/.config/cclocal/claude-settings.json",
            "home/.config/cclocal/server/ollama-linux.sh",
            "home/.config/cclocal/server/cclocal.conf",
            "home/.config/cclocal/config.toml",
        ],
    );
}

#[test]
fn other_os_target_renders_the_mac_files_here() {
    let ch = Choices {
        target: TargetOs::Macos,
        parts: vec![Part::Server],
        ..choices()
    };
    check_variant(
        "target-macos",
        &ch,
        TargetOs::Linux,
        false,
        &[
            "home/.config/cclocal/server/ollama-macos.sh",
            "home/.config/cclocal/server/com.cclocal.ollama-env.plist",
            "home/.config/cclocal/config.toml",
        ],
    );
}

#[test]
fn older_claude_code_gets_its_own_settings() {
    // 2.1.121 cannot be told the window: the launcher compacts early by percentage instead.
    let ch = Choices {
        claude_version: Version(2, 1, 121),
        parts: vec![Part::Launcher],
        ..choices()
    };
    check_variant(
        "claude-2.1.121",
        &ch,
        TargetOs::Linux,
        false,
        &[
            "home/.local/bin/claude-local",
            "home/.config/cclocal/claude-settings.json",
            "home/.config/cclocal/config.toml",
        ],
    );
}

#[test]
fn mac_script_installs_the_same_plist_and_bootstraps_it() {
    // Run the rendered macOS script on this machine with a fake `launchctl` on PATH.
    let ch = Choices {
        target: TargetOs::Macos,
        parts: vec![Part::Server],
        keep_alive: "-1".into(),
        ..choices()
    };
    let (tmp, files) = render(&ch, TargetOs::Linux, false);
    let script = &files
        .iter()
        .find(|(r, _, _)| r.ends_with("ollama-macos.sh"))
        .unwrap()
        .2;
    let plist = &files
        .iter()
        .find(|(r, _, _)| r.ends_with(".plist"))
        .unwrap()
        .2;
    let bin = tmp.path().join("fakebin");
    std::fs::create_dir(&bin).unwrap();
    let log = tmp.path().join("launchctl.log");
    let fake = bin.join("launchctl");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\n", log.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mac_home = tmp.path().join("mac");
    std::fs::create_dir(&mac_home).unwrap();
    let sp = tmp.path().join("s.sh");
    std::fs::write(&sp, script).unwrap();
    let out = Command::new("sh")
        .arg(&sp)
        .env("HOME", &mac_home)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let installed =
        std::fs::read(mac_home.join("Library/LaunchAgents/com.cclocal.ollama-env.plist")).unwrap();
    assert_eq!(
        &installed, plist,
        "the heredoc carries the plist byte for byte"
    );
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(calls.contains("bootout gui/"), "{calls}");
    assert!(
        calls.contains("bootstrap gui/") && calls.contains("com.cclocal.ollama-env.plist"),
        "{calls}"
    );

    // The agent's own command, with /bin/launchctl pointed at the fake: each variable once.
    let Some(py) = support::tool("python3") else {
        return;
    };
    let pl = tmp.path().join("agent.plist");
    std::fs::write(&pl, plist).unwrap();
    let args = Command::new(py)
        .args(["-c", "import plistlib,sys; print(plistlib.load(open(sys.argv[1],'rb'))['ProgramArguments'][2])"])
        .arg(&pl)
        .output()
        .unwrap();
    let cmd = String::from_utf8(args.stdout)
        .unwrap()
        .trim()
        .replace("/bin/launchctl", fake.to_str().unwrap());
    std::fs::write(&log, "").unwrap();
    assert!(Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .status()
        .unwrap()
        .success());
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "setenv OLLAMA_CONTEXT_LENGTH 65536\nsetenv OLLAMA_FLASH_ATTENTION 1\nsetenv OLLAMA_KV_CACHE_TYPE q8_0\nsetenv OLLAMA_KEEP_ALIVE -1\n"
    );
}
