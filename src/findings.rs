//! Findings: what `doctor`, `logs` and `status` report. A finding has a stable id (part of
//! the JSON contract), a severity, a one-line title, detail, and a fix (a command or a
//! setting).
//!
//! One id, one severity: [`SEVERITIES`] says how bad each problem is, for every command
//! that reports it, so `cache_buster` is a warning in `doctor` and in `logs` alike. A
//! finding may also be `ok` (the check ran and passed). The few ids in [`GRADED`] take
//! their severity from how far off the value is (a context a little short is a warning, one
//! that cannot hold Claude Code's system prompt is an error).
//!
//! So a finding is made one of three ways, none of which names a fixed severity:
//! [`Finding::of`] (the table's severity), [`Finding::graded`] (a [`GRADED`] id, with the
//! severity its rule works out) and [`Finding::ok`] (the check passed). A unit test reads
//! every such call in `src/` and fails on an id the tables do not list.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Ok,
    Info,
    Warning,
    Error,
}

impl Severity {
    /// The flutter-doctor glyph: ✓ ok (checked and fine), i info, ! warning, ✗ error. Only
    /// a check that ran and passed gets ✓.
    pub fn glyph(self) -> &'static str {
        match self {
            Severity::Ok => "✓",
            Severity::Info => "i",
            Severity::Warning => "!",
            Severity::Error => "✗",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable identifier, e.g. `context_mismatch`.
    pub id: &'static str,
    pub severity: Severity,
    pub title: String,
    pub detail: String,
    /// A command to run or a setting to change; empty for `ok` findings.
    pub fix: String,
}

/// Every finding id with a fixed severity, shared by `doctor`, `logs` and `status`.
pub const SEVERITIES: &[(&str, Severity)] = &[
    // Claude Code and its settings.
    ("claude_missing", Severity::Error),
    ("base_url_v1_suffix", Severity::Error),
    ("api_key_conflict", Severity::Warning),
    ("settings_env_override", Severity::Warning),
    ("onboarding_gate", Severity::Warning),
    ("unknown_env_var", Severity::Warning),
    ("autocompact_ineffective", Severity::Warning),
    ("cache_buster", Severity::Warning),
    ("claude_config_unreadable", Severity::Warning),
    ("auth_token_missing", Severity::Warning),
    ("launcher_missing", Severity::Warning),
    ("verify_mismatch", Severity::Warning),
    // The server.
    ("server_not_checked", Severity::Info),
    ("server_too_old", Severity::Error),
    ("remote_server", Severity::Info),
    ("server_exposed", Severity::Warning),
    ("keep_alive_short", Severity::Warning),
    ("server_loading", Severity::Warning),
    ("server_not_llm", Severity::Error),
    ("server_kind_unknown", Severity::Info),
    ("messages_api_missing", Severity::Error),
    ("llama_no_jinja", Severity::Error),
    ("llama_template_no_tools", Severity::Warning),
    ("llama_build_old", Severity::Warning),
    ("lmstudio_nothing_loaded", Severity::Error),
    ("lmstudio_models_ambiguous", Severity::Error),
    ("lmstudio_model_unmatched", Severity::Warning),
    ("server_answer_unreadable", Severity::Warning),
    ("vllm_tools_off", Severity::Error),
    ("vllm_mlx_max_tokens_refused", Severity::Error),
    // A server log (the serverlogs branch).
    ("kv_cache_type_ignored", Severity::Warning),
    // The model and its context.
    ("model_missing", Severity::Error),
    ("background_model_missing", Severity::Warning),
    ("memory_does_not_fit", Severity::Error),
    ("model_partial_offload", Severity::Warning),
    ("context_mismatch", Severity::Error),
    ("context_unknown", Severity::Info),
    // A session's log.
    ("retries", Severity::Warning),
    ("timeouts", Severity::Warning),
    ("count_tokens_unavailable", Severity::Info),
    // A server's log.
    ("model_reloaded", Severity::Warning),
    ("prompt_truncated", Severity::Warning),
    // `cclocal status`.
    ("not_set_up", Severity::Warning),
];

/// Ids whose severity depends on how far off the value is.
pub const GRADED: &[&str] = &[
    // One long prompt re-read is a note; two or more are a warning.
    "prompt_cache_not_reused",
    "server_unreachable",
    "server_context_small",
    "kv_cache_f16",
    "kv_quant_without_flash_attention",
    "ollama_app_context_override",
    "setup_drift",
    "llama_slots_split",
];

/// The one severity of a problem with this id (`None` for graded or unknown ids).
pub fn severity_of(id: &str) -> Option<Severity> {
    SEVERITIES.iter().find(|(i, _)| *i == id).map(|(_, s)| *s)
}

impl Finding {
    /// A finding whose severity is the table's ([`SEVERITIES`]): the one way to say how bad
    /// a problem is. An id the table does not list is a bug (a debug assertion; `Info` in a
    /// release build).
    pub fn of(id: &'static str, title: impl Into<String>) -> Self {
        debug_assert!(
            severity_of(id).is_some(),
            "finding {id} is not in findings::SEVERITIES (graded ids use Finding::graded)"
        );
        Self::with(id, severity_of(id).unwrap_or(Severity::Info), title)
    }

    /// A check that ran and passed. The id is still one of the table's (the problem this
    /// check looks for).
    pub fn ok(id: &'static str, title: impl Into<String>) -> Self {
        debug_assert!(
            severity_of(id).is_some() || GRADED.contains(&id),
            "finding {id} is in neither findings::SEVERITIES nor findings::GRADED"
        );
        Self::with(id, Severity::Ok, title)
    }

    /// A finding of one of the [`GRADED`] ids, whose severity depends on how far off the
    /// value is.
    pub fn graded(id: &'static str, severity: Severity, title: impl Into<String>) -> Self {
        debug_assert!(GRADED.contains(&id), "finding {id} is not graded");
        Self::with(id, severity, title)
    }

    fn with(id: &'static str, severity: Severity, title: impl Into<String>) -> Self {
        Finding {
            id,
            severity,
            title: title.into(),
            detail: String::new(),
            fix: String::new(),
        }
    }
    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = d.into();
        self
    }
    pub fn fix(mut self, f: impl Into<String>) -> Self {
        self.fix = f.into();
        self
    }
}

/// The highest severity among `findings` (`Ok` when empty).
pub fn worst(findings: &[Finding]) -> Severity {
    findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Ok)
}

/// The exit code every reporting command shares: 1 when a finding is an error (or, with
/// `strict`, a warning), else 0. Errors in running the command itself exit 1, usage errors 2.
pub fn exit_code(findings: &[Finding], strict: bool) -> i32 {
    exit_code_for(findings.iter().map(|f| f.severity), strict)
}

/// [`exit_code`] from the findings' severities.
pub fn exit_code_for(severities: impl IntoIterator<Item = Severity>, strict: bool) -> i32 {
    let w = severities.into_iter().max().unwrap_or(Severity::Ok);
    i32::from(w == Severity::Error || (strict && w == Severity::Warning))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_and_json() {
        let f = vec![
            Finding::of("context_unknown", "x"),
            Finding::of("cache_buster", "y").fix("do z"),
        ];
        assert_eq!(worst(&f), Severity::Warning);
        let j = serde_json::to_value(&f[1]).unwrap();
        assert_eq!(j["severity"], "warning");
        assert_eq!(j["id"], "cache_buster");
        assert_eq!(j["fix"], "do z");
    }

    #[test]
    fn one_severity_per_id() {
        let mut ids: Vec<&str> = SEVERITIES.iter().map(|x| x.0).collect();
        ids.extend(GRADED);
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "an id is listed twice");
        // Every id the doctor can report has its severity here.
        for id in crate::doctor::rules::IDS {
            assert!(
                severity_of(id).is_some() || GRADED.contains(id),
                "{id} is not in findings::SEVERITIES"
            );
        }
        assert_eq!(severity_of("cache_buster"), Some(Severity::Warning));
    }

    #[test]
    fn the_table_gives_the_severity() {
        assert_eq!(Finding::of("cache_buster", "t").severity, Severity::Warning);
        assert_eq!(Finding::ok("cache_buster", "t").severity, Severity::Ok);
        assert_eq!(
            Finding::graded("server_unreachable", Severity::Error, "t").severity,
            Severity::Error
        );
    }

    #[test]
    fn exit_codes() {
        let f = |s| vec![Finding::graded("setup_drift", s, "t")];
        assert_eq!(exit_code(&f(Severity::Error), false), 1);
        assert_eq!(exit_code(&f(Severity::Warning), false), 0);
        assert_eq!(exit_code(&f(Severity::Warning), true), 1);
        assert_eq!(exit_code(&f(Severity::Info), true), 0);
        assert_eq!(exit_code(&[], true), 0);
    }

    /// The string-literal ids of every `Finding::of(`, `Finding::graded(` and `Finding::ok(`
    /// call in the files below `dir`, with the constructor's name and the file.
    fn calls_in(dir: &std::path::Path, out: &mut Vec<(String, String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                calls_in(&path, out);
                continue;
            }
            // This file's own tests make findings of their own.
            if path.extension().and_then(|e| e.to_str()) != Some("rs")
                || path.ends_with("findings.rs")
            {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for ctor in ["of", "graded", "ok"] {
                let call = format!("Finding::{ctor}(");
                for (at, _) in text.match_indices(&call) {
                    let rest = text[at + call.len()..].trim_start();
                    // A literal id; anything else (a variable) cannot be checked here.
                    let id = rest
                        .strip_prefix('"')
                        .and_then(|r| r.split_once('"'))
                        .map(|(id, _)| id.to_string())
                        .unwrap_or_else(|| {
                            format!("<not a literal: {}>", &rest[..rest.len().min(20)])
                        });
                    out.push((ctor.to_string(), id, path.display().to_string()));
                }
            }
        }
    }

    #[test]
    fn every_id_made_in_src_is_in_the_registry() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut calls = Vec::new();
        calls_in(&src, &mut calls);
        assert!(
            calls.len() > 50,
            "the scan found only {} calls",
            calls.len()
        );
        let doctor = src.join("doctor").display().to_string();
        for (ctor, id, file) in &calls {
            let ok = match ctor.as_str() {
                "of" => severity_of(id).is_some(),
                "graded" => GRADED.contains(&id.as_str()),
                _ => severity_of(id).is_some() || GRADED.contains(&id.as_str()),
            };
            assert!(
                ok,
                "{file}: Finding::{ctor}({id:?}, ...): the id is not in findings::{}",
                if ctor == "graded" {
                    "GRADED"
                } else {
                    "SEVERITIES"
                }
            );
            // What the doctor reports is also in its own list (its JSON contract).
            if file.starts_with(&doctor) && !file.ends_with("tests.rs") {
                assert!(
                    crate::doctor::rules::IDS.contains(&id.as_str()),
                    "{file}: {id} is not in doctor::rules::IDS"
                );
            }
        }
        // And no entry of the tables is left that nothing makes.
        for id in SEVERITIES.iter().map(|x| x.0).chain(GRADED.iter().copied()) {
            assert!(
                calls.iter().any(|(c, i, _)| c != "ok" && i == id),
                "{id} is in the registry but no code in src/ reports it"
            );
        }
    }

    #[test]
    fn only_ok_gets_a_check_mark() {
        assert_eq!(Severity::Ok.glyph(), "✓");
        for s in [Severity::Info, Severity::Warning, Severity::Error] {
            assert_ne!(s.glyph(), "✓", "{s:?}");
        }
    }
}
