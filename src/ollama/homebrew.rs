//! Ollama run by `brew services` (docs/server-logs.md, "Homebrew service"): the service's
//! LaunchAgent plist holds the environment the server really starts with. Homebrew's
//! formula sets `OLLAMA_FLASH_ATTENTION=1` and `OLLAMA_KV_CACHE_TYPE=q8_0` in its service
//! block, and logs to `$(brew --prefix)/var/log/ollama.log`. Values set with
//! `launchctl setenv` do not reach an already-running service: it must be restarted
//! (`brew services restart ollama`), and a value in the plist wins over them.
//!
//! The probe reads plain data; what to make of it is the doctor's business.

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// The service's launchd label (`homebrew.mxcl.<formula>`).
pub const LABEL: &str = "homebrew.mxcl.ollama";

/// The environment Homebrew's `ollama` formula puts in its service block
/// (Homebrew/homebrew-core `Formula/o/ollama.rb`, `service do … environment_variables`).
pub const FORMULA_ENV: &[(&str, &str)] = &[
    ("OLLAMA_FLASH_ATTENTION", "1"),
    ("OLLAMA_KV_CACHE_TYPE", "q8_0"),
];

/// `~/Library/LaunchAgents/homebrew.mxcl.ollama.plist` (where `brew services start`, run as
/// the user, installs it).
pub fn plist_path(home: &Path) -> PathBuf {
    home.join("Library/LaunchAgents")
        .join(format!("{LABEL}.plist"))
}

/// What the service's plist says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BrewService {
    pub path: PathBuf,
    pub label: Option<String>,
    pub program: Vec<String>,
    /// `EnvironmentVariables`, in the plist's order.
    pub env: Vec<(String, String)>,
    pub log_path: Option<String>,
}

impl BrewService {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses the plist (XML or binary).
pub fn parse_plist(path: &Path, bytes: &[u8]) -> Result<BrewService> {
    let bad = |why: String| {
        Error::new(
            ErrorKind::Io,
            format!("not a readable LaunchAgent plist: {why}"),
        )
        .with_subject(path.display().to_string())
        .with_hint("`brew services restart ollama` rewrites it")
    };
    let v =
        plist::Value::from_reader(std::io::Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    let dict = v
        .as_dictionary()
        .ok_or_else(|| bad("the top level is not a dictionary".into()))?;
    let s = |k: &str| dict.get(k).and_then(|v| v.as_string()).map(str::to_string);
    let mut out = BrewService {
        path: path.to_path_buf(),
        label: s("Label"),
        log_path: s("StandardErrorPath").or(s("StandardOutPath")),
        ..BrewService::default()
    };
    if let Some(a) = dict.get("ProgramArguments").and_then(|v| v.as_array()) {
        out.program = a
            .iter()
            .filter_map(|v| v.as_string().map(str::to_string))
            .collect();
    }
    if let Some(env) = dict
        .get("EnvironmentVariables")
        .and_then(|v| v.as_dictionary())
    {
        for (k, v) in env {
            let val = match v {
                plist::Value::String(s) => s.clone(),
                plist::Value::Integer(i) => i.to_string(),
                plist::Value::Boolean(b) => b.to_string(),
                _ => continue,
            };
            out.env.push((k.clone(), val));
        }
    }
    Ok(out)
}

/// Reads the service plist under `home`; `None` when Ollama is not a Homebrew service there.
pub fn probe(home: &Path) -> Result<Option<BrewService>> {
    let p = plist_path(home);
    match crate::fsread::read(&p, crate::fsread::TEXT) {
        Ok(b) => parse_plist(&p, &b).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(&p, "read the Homebrew service plist", e)),
    }
}

/// The note setup prints when it changes Ollama's environment and Ollama is a Homebrew
/// service: `launchctl setenv` values reach it only after a restart, and the plist's own
/// values win. `vars` are the settings changed.
pub fn restart_note(svc: &BrewService, vars: &[&str]) -> String {
    let shadowed: Vec<String> = vars
        .iter()
        .filter_map(|k| svc.get(k).map(|v| format!("{k}={v}")))
        .collect();
    let mut note = String::from(
        "Ollama runs as a Homebrew service: it reads `launchctl setenv` values only when it \
         starts, so run `brew services restart ollama`.",
    );
    if !shadowed.is_empty() {
        note.push_str(&format!(
            " Its plist ({}) sets {}, which wins over launchctl; change them there \
             (or in the formula's service block) and restart.",
            svc.path.display(),
            shadowed.join(", ")
        ));
    }
    note
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> (PathBuf, Vec<u8>) {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/server-logs/homebrew.mxcl.ollama.plist");
        let b = std::fs::read(&p).unwrap();
        (p, b)
    }

    #[test]
    fn reads_the_service_environment() {
        let (p, b) = fixture();
        let s = parse_plist(&p, &b).unwrap();
        assert_eq!(s.label.as_deref(), Some(LABEL));
        assert_eq!(s.program, ["/opt/homebrew/opt/ollama/bin/ollama", "serve"]);
        assert_eq!(s.get("OLLAMA_FLASH_ATTENTION"), Some("1"));
        assert_eq!(s.get("OLLAMA_KV_CACHE_TYPE"), Some("q8_0"));
        assert_eq!(s.get("OLLAMA_CONTEXT_LENGTH"), None);
        assert_eq!(
            s.log_path.as_deref(),
            Some("/opt/homebrew/var/log/ollama.log")
        );
        // The formula's defaults are what a fresh service plist holds.
        for (k, v) in FORMULA_ENV {
            assert_eq!(s.get(k), Some(*v));
        }
    }

    #[test]
    fn probe_under_home_and_bad_plists() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(probe(d.path()).unwrap(), None);
        let p = plist_path(d.path());
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, b"not a plist").unwrap();
        let e = probe(d.path()).unwrap_err();
        assert!(e.to_string().contains("plist"), "{e}");
        let (_, b) = fixture();
        std::fs::write(&p, b).unwrap();
        assert!(probe(d.path()).unwrap().is_some());
    }

    #[test]
    fn restart_note_names_the_plist_values_that_win() {
        let (p, b) = fixture();
        let s = parse_plist(&p, &b).unwrap();
        let n = restart_note(&s, &["OLLAMA_CONTEXT_LENGTH", "OLLAMA_KV_CACHE_TYPE"]);
        assert!(n.contains("brew services restart ollama"));
        assert!(n.contains("OLLAMA_KV_CACHE_TYPE=q8_0"));
        assert!(!n.contains("OLLAMA_CONTEXT_LENGTH="));
        let n = restart_note(&s, &["OLLAMA_CONTEXT_LENGTH"]);
        assert!(!n.contains("wins over"));
    }
}
