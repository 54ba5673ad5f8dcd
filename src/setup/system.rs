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

/// The effective user id (`geteuid`; not the owner of `/proc/self`, which is root for a
/// process that gave up root, `crate::privilege`).
pub fn uid() -> u32 {
    crate::privilege::euid()
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

/// The folders systemd reads system units from (systemd.unit(5), "Unit File Load
/// Path"), below `/`.
pub const SYSTEM_UNIT_DIRS: &[&str] = &[
    "etc/systemd/system",
    "run/systemd/system",
    "usr/local/lib/systemd/system",
    "usr/lib/systemd/system",
    "lib/systemd/system",
];

/// Where `ollama.service` was looked for under `root`, for messages.
pub fn ollama_unit_places(root: &Path) -> String {
    SYSTEM_UNIT_DIRS
        .iter()
        .map(|d| root.join(d).display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `ollama.service` exists under `root` (`/` on a real system): its unit file in
/// one of systemd's system unit folders, or, on the real system, `systemctl cat
/// ollama.service` knows it (a unit from elsewhere, e.g. a generator).
pub fn ollama_service_exists(root: &Path) -> bool {
    let on_disk = SYSTEM_UNIT_DIRS
        .iter()
        .any(|d| root.join(d).join("ollama.service").is_file());
    on_disk
        || (root == Path::new("/")
            && run(
                "systemctl",
                &["cat", "--no-pager", "ollama.service"],
                Duration::from_secs(10),
            )
            .0)
}

/// The first line of a command's output, at most 200 characters, control characters
/// dropped (what a message shows of a failure; the full text is the service manager's).
fn first_line(text: &str) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut out = String::new();
    let mut it = line.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\u{1b}' {
            // A terminal escape (`ESC [ … letter`): dropped whole.
            if it.peek() == Some(&'[') {
                for e in it.by_ref() {
                    if e.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        if !c.is_control() {
            out.push(c);
        }
    }
    out.chars().take(200).collect::<String>().trim().to_string()
}

/// Whether a line of [`perform`] reports a command that failed.
pub fn is_failure(line: &str) -> bool {
    line.starts_with('`') && line.contains("` failed")
}

/// How [`run_systemd_user`] says the user's systemd did not answer.
const NO_USER_SYSTEMD: &str = "your user systemd did not answer";

/// Whether a line of [`perform`] says a service was not (re)started: a command failed, or
/// the user's systemd did not answer and only the commands were printed.
pub fn did_not_start(line: &str) -> bool {
    is_failure(line) || line.starts_with(NO_USER_SYSTEMD)
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
                    format!(
                        "`{cmd}` failed ({}); the drop-in is written, but Ollama does not use it until this succeeds: see `systemctl status ollama`",
                        first_line(&text)
                    )
                });
                if !ok {
                    break;
                }
            }
        }
        PostAction::SystemdUserStart { unit, direct } => {
            let commands = crate::server::llama_server::serve::systemd_start_commands();
            let lines = run_systemd_user(&commands, &format!("start {unit}"));
            let started = !lines.iter().any(|l| did_not_start(l));
            out.extend(lines);
            if !started {
                out.push(format!(
                    "llama-server is not running under systemd; or run it directly: {direct}"
                ));
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

/// Whether this user's systemd manager answers (`systemctl --user show-environment`).
pub fn user_systemd_answers() -> bool {
    run(
        "systemctl",
        &["--user", "show-environment"],
        Duration::from_secs(10),
    )
    .0
}

/// Runs `systemctl --user` commands in order, stopping at the first failure; when the
/// user's systemd does not answer, returns the commands to run instead (`purpose` says why).
pub fn run_systemd_user(commands: &[Vec<String>], purpose: &str) -> Vec<String> {
    let line = |c: &Vec<String>| {
        c.iter()
            .map(|w| crate::shell::quote::sh_quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    };
    if !user_systemd_answers() {
        let all: Vec<String> = commands.iter().map(line).collect();
        return vec![format!(
            "{NO_USER_SYSTEMD} (`systemctl --user` needs a login session); to {purpose}, run:\n    {}",
            all.join(" && ")
        )];
    }
    let mut out = Vec::new();
    for c in commands {
        let args: Vec<&str> = c[1..].iter().map(String::as_str).collect();
        let (ok, text) = run(&c[0], &args, Duration::from_secs(60));
        if ok {
            out.push(format!("ran `{}`", line(c)));
        } else {
            out.push(format!("`{}` failed: {text}", line(c)));
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_one_short_line() {
        let dump = "\n\u{1b}[0;1;31mJob for ollama.service failed because the control process exited with error code.\u{1b}[0m\nSee \"systemctl status ollama.service\" and \"journalctl -xeu ollama.service\" for details.\n";
        let l = first_line(dump);
        assert!(l.starts_with("Job for ollama.service failed"), "{l}");
        assert!(!l.contains('\u{1b}') && !l.contains('\n'));
        assert!(first_line(&"x".repeat(5000)).len() <= 200);
        assert!(is_failure("`systemctl restart ollama` failed (x); …"));
        assert!(!is_failure("ran `systemctl daemon-reload`"));
    }

    #[test]
    fn the_service_is_found_in_any_unit_folder() {
        let d = tempfile::tempdir().unwrap();
        assert!(!ollama_service_exists(d.path()));
        let lib = d.path().join("usr/lib/systemd/system");
        std::fs::create_dir_all(&lib).unwrap();
        std::fs::write(lib.join("ollama.service"), "[Service]\n").unwrap();
        assert!(ollama_service_exists(d.path()));
    }
}
