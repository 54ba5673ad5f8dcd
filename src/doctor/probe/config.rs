//! How the Ollama service on this machine is configured (`docs/ollama.md`, settings places):
//! the environment of a running `ollama serve` (Linux `/proc`), the systemd unit's
//! `Environment` (Linux), `launchctl getenv` (macOS), and the Ollama app's SQLite
//! settings (`settings.context_length`, `expose`).
//!
//! The app's database is read with the `sqlite3` command when it is installed (it ships
//! with macOS): linking SQLite would add a C build to every cclocal build for one integer.
//! Without `sqlite3` the setting is reported as unknown.

use super::{run_cmd, HostEnv};
use crate::claude::EnvMap;
use crate::doctor::facts::ServerConfigFacts;
use std::path::PathBuf;
use std::time::Instant;

/// Variables worth reading through `launchctl getenv` (one call each).
const LAUNCHCTL_VARS: &[&str] = &[
    "OLLAMA_HOST",
    "OLLAMA_CONTEXT_LENGTH",
    "OLLAMA_KV_CACHE_TYPE",
    "OLLAMA_FLASH_ATTENTION",
    "OLLAMA_KEEP_ALIVE",
    "OLLAMA_NUM_PARALLEL",
    "OLLAMA_MAX_LOADED_MODELS",
    "OLLAMA_NUM_BATCH",
    "OLLAMA_NEW_ENGINE",
    "OLLAMA_MODELS",
];

/// `system`: also read the system-wide sources (process, systemd, launchctl).
pub fn probe_server_config(host: &HostEnv, system: bool, deadline: Instant) -> ServerConfigFacts {
    let mut f = ServerConfigFacts::default();
    if system && cfg!(target_os = "linux") {
        if let Some(env) = process_env() {
            f.env = env;
            f.env_source = Some("process".into());
        } else if let Some(out) = run_cmd(
            "systemctl",
            &["show", "ollama", "-p", "LoadState", "-p", "Environment"],
            deadline,
        ) {
            if let Some(env) = parse_systemctl_show(&out) {
                f.env = env;
                f.env_source = Some("systemd".into());
            }
        }
    }
    if system && cfg!(target_os = "macos") {
        let mut env = EnvMap::new();
        let mut any = false;
        for v in LAUNCHCTL_VARS {
            if let Some(out) = run_cmd("launchctl", &["getenv", v], deadline) {
                any = true;
                let val = out.trim();
                if !val.is_empty() {
                    env.insert(v.to_string(), val.to_string());
                }
            }
        }
        if any {
            f.env = env;
            f.env_source = Some("launchctl".into());
        }
    }
    if let Some(home) = &host.home {
        read_brew_plist(home, &mut f);
    }
    if f.env_source.is_none() {
        f.notes.push("the Ollama service's environment is unknown (no readable `ollama serve` process, systemd unit or launchctl)".into());
    }
    if let Some(db) = app_db_path(host).filter(|p| p.is_file()) {
        f.app_db = Some(db.display().to_string());
        read_app_db(&db, deadline, &mut f);
    }
    f
}

/// Ollama run by `brew services`: its LaunchAgent plist's `EnvironmentVariables` are the
/// environment the service starts with, and they win over `launchctl setenv` values
/// (src/ollama/homebrew.rs). A running process's own environment (`/proc`) stays the truth.
/// The plist is a file under `HOME`, read like the app's database without `system`.
fn read_brew_plist(home: &std::path::Path, f: &mut ServerConfigFacts) {
    let svc = match crate::ollama::homebrew::probe(home) {
        Ok(Some(svc)) => svc,
        Ok(None) => return,
        Err(e) => {
            f.notes.push(format!(
                "the Homebrew service plist is not readable: {}{}",
                e.message,
                e.subject.map(|s| format!(" ({s})")).unwrap_or_default()
            ));
            return;
        }
    };
    let path = svc.path.display().to_string();
    if f.env_source.as_deref() == Some("process") {
        f.notes.push(format!(
            "Ollama is also a Homebrew service ({path}); the running process's environment is shown"
        ));
        return;
    }
    for (k, v) in &svc.env {
        f.env.insert(k.clone(), v.clone());
    }
    f.env_source = Some(match f.env_source.take() {
        Some(s) => format!("brew services plist {path}, over {s}"),
        None => format!("brew services plist {path}"),
    });
    f.notes.push(format!(
        "Ollama runs as a Homebrew service: `launchctl setenv` values reach it only after `brew services restart ollama`, and its plist's EnvironmentVariables ({}) win over them",
        if svc.env.is_empty() {
            "none".to_string()
        } else {
            svc.env
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        }
    ));
}

/// The Ollama app's settings database: `$OLLAMA_APP_DB_PATH`, else the per-OS default.
pub fn app_db_path(host: &HostEnv) -> Option<PathBuf> {
    if let Some(p) = host
        .vars
        .get("OLLAMA_APP_DB_PATH")
        .filter(|p| !p.is_empty())
    {
        return Some(PathBuf::from(p));
    }
    let home = host.home.as_ref()?;
    Some(if cfg!(target_os = "macos") {
        home.join("Library/Application Support/Ollama/db.sqlite")
    } else {
        home.join(".ollama/db.sqlite")
    })
}

fn read_app_db(db: &std::path::Path, deadline: Instant, f: &mut ServerConfigFacts) {
    let path = db.display().to_string();
    let q = |sql: &str| {
        run_cmd(
            "sqlite3",
            &[
                "-readonly",
                "-batch",
                "-noheader",
                "-separator",
                "|",
                &path,
                sql,
            ],
            deadline,
        )
    };
    if let Some(out) = q("SELECT context_length, expose FROM settings WHERE id = 1;") {
        let line = out.lines().next().unwrap_or("");
        let mut it = line.split('|');
        f.app_context_length = it.next().and_then(|v| v.trim().parse().ok());
        f.app_expose = it
            .next()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .map(|v| v != 0);
    } else if let Some(out) = q("SELECT context_length FROM settings WHERE id = 1;") {
        f.app_context_length = out.trim().parse().ok();
    } else {
        f.notes.push(format!("the Ollama app's settings ({path}) could not be read: the sqlite3 command is missing or failed"));
    }
}

/// Parses `systemctl show ollama -p LoadState -p Environment`; `None` when the unit does
/// not exist. Values may be quoted (`"OLLAMA_HOST=0.0.0.0" OLLAMA_X=y`).
pub fn parse_systemctl_show(out: &str) -> Option<EnvMap> {
    let mut loaded = false;
    let mut env = EnvMap::new();
    for line in out.lines() {
        if let Some(s) = line.strip_prefix("LoadState=") {
            loaded = s.trim() == "loaded";
        } else if let Some(s) = line.strip_prefix("Environment=") {
            for word in split_words(s) {
                if let Some((k, v)) = word.split_once('=') {
                    env.insert(k.to_string(), v.to_string());
                }
            }
        }
    }
    loaded.then_some(env)
}

/// Splits on whitespace, honouring double quotes.
fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The `OLLAMA_*` environment of a running `ollama serve` we may read (Linux).
fn process_env() -> Option<EnvMap> {
    for e in std::fs::read_dir("/proc").ok()?.filter_map(|e| e.ok()) {
        let name = e.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmd.split(|b| *b == 0).collect();
        let is_ollama = args
            .first()
            .is_some_and(|a| a.ends_with(b"/ollama") || *a == b"ollama");
        if !(is_ollama && args.get(1).is_some_and(|a| *a == b"serve")) {
            continue;
        }
        let Ok(raw) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        return Some(
            raw.split(|b| *b == 0)
                .filter_map(|kv| std::str::from_utf8(kv).ok()?.split_once('='))
                .filter(|(k, _)| k.starts_with("OLLAMA_"))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemctl_output() {
        let env = parse_systemctl_show("LoadState=loaded\nEnvironment=\"OLLAMA_HOST=0.0.0.0:11434\" OLLAMA_KEEP_ALIVE=1h PATH=/usr/bin\n").unwrap();
        assert_eq!(env["OLLAMA_HOST"], "0.0.0.0:11434");
        assert_eq!(env["OLLAMA_KEEP_ALIVE"], "1h");
        assert!(parse_systemctl_show("LoadState=not-found\nEnvironment=\n").is_none());
    }
}
