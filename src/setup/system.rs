//! The few facts and commands setup needs from the operating system: who runs it, the
//! Ollama app's own context setting, and reloading the service after the files are written.

use super::build::PostAction;
use std::path::Path;
use std::time::Duration;

/// Runs `program args` with a timeout; returns (success, combined output).
pub fn run(program: &str, args: &[&str], timeout: Duration) -> (bool, String) {
    match crate::process::run_for(program, args, timeout) {
        Ok(o) => (
            o.success,
            format!("{}{}", o.stdout, o.stderr).trim().to_string(),
        ),
        Err(crate::process::RunError::TimedOut) => (
            false,
            format!("{program} did not finish within {}s", timeout.as_secs()),
        ),
        Err(e) => (false, format!("cannot run {program}: {e}")),
    }
}

/// The effective user id.
pub fn uid() -> u32 {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata("/proc/self") {
            return m.uid();
        }
    }
    let (ok, out) = run("id", &["-u"], Duration::from_secs(5));
    if ok {
        out.trim().parse().unwrap_or(u32::MAX)
    } else {
        u32::MAX
    }
}

/// The Ollama app's `context_length` setting (macOS `db.sqlite`, table `settings`, row 1;
/// `docs/ollama.md`, "Where the server's settings live"), when set (non-zero). Read with `sqlite3`.
pub fn ollama_app_context_length(home: &Path) -> Option<u64> {
    let db = match std::env::var_os("OLLAMA_APP_DB_PATH") {
        Some(p) => std::path::PathBuf::from(p),
        None => home.join("Library/Application Support/Ollama/db.sqlite"),
    };
    if !db.is_file() {
        return None;
    }
    let db = db.to_str()?.to_string();
    let (ok, out) = run(
        "sqlite3",
        &[
            "-readonly",
            &db,
            "select context_length from settings where id = 1",
        ],
        Duration::from_secs(5),
    );
    if !ok {
        return None;
    }
    out.trim().parse::<u64>().ok().filter(|&n| n > 0)
}

/// Runs one post action; returns what to tell the user.
pub fn perform(action: &PostAction) -> Vec<String> {
    let t = Duration::from_secs(60);
    let mut out = Vec::new();
    match action {
        PostAction::SystemdReload => {
            for args in [&["daemon-reload"][..], &["restart", "ollama"][..]] {
                let (ok, text) = run("systemctl", args, t);
                let cmd = format!("systemctl {}", args.join(" "));
                out.push(if ok {
                    format!("ran `{cmd}`")
                } else {
                    format!("`{cmd}` failed: {text}")
                });
                if !ok {
                    break;
                }
            }
        }
        PostAction::LaunchctlBootstrap { uid, plist } => {
            let label = plist
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let _ = run(
                "/bin/launchctl",
                &["bootout", &format!("gui/{uid}/{label}")],
                t,
            );
            let p = plist.display().to_string();
            let (ok, text) = run(
                "/bin/launchctl",
                &["bootstrap", &format!("gui/{uid}"), &p],
                t,
            );
            out.push(if ok {
                format!("loaded {label} (launchctl bootstrap gui/{uid})")
            } else {
                format!("`launchctl bootstrap gui/{uid} {p}` failed: {text}")
            });
        }
    }
    out
}
