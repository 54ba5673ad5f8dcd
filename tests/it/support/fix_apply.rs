//! Applying a printed fix exactly as printed, for the fix-closure test (issue 21): the fix
//! text of a finding is parsed into one of the forms cclocal prints, and each form is carried
//! out the way a user would: settings go into `~/.claude/settings.json` (or the shell), a
//! `cclocal setup …` line runs, a server is restarted with what the line names. A fix in no
//! known form is an error naming it, so a new wording cannot slip past the test.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// What a fix asks for, parsed from its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Variables for Claude Code: its settings file's `env` (or the shell).
    ClaudeEnv(BTreeMap<String, String>),
    /// `export K=V …`: variables in the shell that starts Claude Code.
    Export(BTreeMap<String, String>),
    /// `add "KEY": VALUE to ~/.claude.json`.
    ClaudeJsonKey(String, Value),
    /// `cclocal setup …` (its arguments after `cclocal`).
    Cclocal(Vec<String>),
    /// A llama-server restart with these flags changed (`-c N`, `-ctk T`, …).
    LlamaServerFlags(Vec<(String, String)>),
    /// An Ollama server variable and the restart that makes it live.
    OllamaVar(String, String),
    /// `ollama pull NAME`.
    OllamaPull(String),
    /// `systemctl --user restart UNIT`: the unit's `ExecStart=` runs anew. The second is
    /// the unit file the fix names for a machine without a user systemd ("start the
    /// ExecStart= line of FILE directly"), as printed (`~/…` or absolute).
    UserUnitRestart(String, Option<String>),
}

/// A path as a printed fix names it (one shell word; `~/…` is under `home`, as the shell
/// expands it).
pub fn printed_path(word: &str, home: &Path) -> Result<std::path::PathBuf, String> {
    let (base, rest) = match word.strip_prefix("~/") {
        Some(r) => (Some(home), r),
        None => (None, word),
    };
    let words = shell_words(rest)?;
    let [one] = words.as_slice() else {
        return Err(format!("{word:?} is not one shell word"));
    };
    Ok(match base {
        Some(h) => h.join(one),
        None => std::path::PathBuf::from(one),
    })
}

/// Shell words (POSIX single/double quotes and backslashes), enough for cclocal's fixes.
pub fn shell_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut it = s.chars();
    while let Some(c) = it.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match it.next() {
                        Some('\'') => break,
                        Some(x) => cur.push(x),
                        None => return Err(format!("unterminated ' in {s}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match it.next() {
                        Some('"') => break,
                        Some('\\') => cur.push(it.next().ok_or("trailing \\")?),
                        Some(x) => cur.push(x),
                        None => return Err(format!("unterminated \" in {s}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.push(it.next().ok_or("trailing \\")?);
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// `K=V K=V …` (every word an assignment), else `None`.
fn assignments(s: &str) -> Option<BTreeMap<String, String>> {
    let words = shell_words(s.trim()).ok()?;
    if words.is_empty() {
        return None;
    }
    let mut m = BTreeMap::new();
    for w in words {
        let (k, v) = w.split_once('=')?;
        if k.is_empty()
            || !k
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            return None;
        }
        m.insert(k.to_string(), v.to_string());
    }
    Some(m)
}

/// The text before a run of three spaces (cclocal's "   (explanation)" tail).
fn main_part(fix: &str) -> &str {
    fix.split("   (").next().unwrap_or(fix).trim()
}

/// Parses a printed fix into the actions that carry it out, or says why it cannot.
pub fn parse(fix: &str) -> Result<Vec<Action>, String> {
    let fix = fix.trim();
    if let Some(rest) =
        fix.strip_prefix("set for Claude Code (shell or ~/.claude/settings.json \"env\"): ")
    {
        let m = assignments(main_part(rest)).ok_or_else(|| format!("not K=V words: {rest}"))?;
        return Ok(vec![Action::ClaudeEnv(m)]);
    }
    if let Some(rest) = fix.strip_prefix("export ") {
        let m = assignments(main_part(rest)).ok_or_else(|| format!("not K=V words: {rest}"))?;
        return Ok(vec![Action::Export(m)]);
    }
    if let Some(rest) = fix.strip_prefix("cclocal ") {
        let words = shell_words(main_part(rest))?;
        return Ok(vec![Action::Cclocal(words)]);
    }
    if let Some(rest) = fix.strip_prefix("add \"") {
        // add "KEY": VALUE to ~/.claude.json
        let (key, rest) = rest.split_once("\": ").ok_or("no key")?;
        let (value, file) = rest.split_once(" to ").ok_or("no file")?;
        if file.trim() != "~/.claude.json" {
            return Err(format!("an unknown file: {file}"));
        }
        let v: Value = serde_json::from_str(value).map_err(|e| format!("{value}: {e}"))?;
        return Ok(vec![Action::ClaudeJsonKey(key.to_string(), v)]);
    }
    for lead in [
        "restart llama-server with ",
        "start llama-server with ",
        "serve what fits: start llama-server with ",
    ] {
        if let Some(rest) = fix.strip_prefix(lead) {
            let words = shell_words(main_part(rest))?;
            let mut flags = Vec::new();
            let mut it = words.into_iter();
            while let Some(w) = it.next() {
                if !w.starts_with('-') {
                    return Err(format!("not a flag: {w} in {fix}"));
                }
                let v = it.next().ok_or_else(|| format!("{w} without a value"))?;
                flags.push((w, v.trim_end_matches([',', ';']).to_string()));
            }
            return Ok(vec![Action::LlamaServerFlags(flags)]);
        }
    }
    if let Some(rest) = fix.strip_prefix("start the server with ") {
        // start the server with K=V [K=V ...] ollama serve (one command: context, cache type
        // and flash attention together)
        let words = shell_words(main_part(rest))?;
        let split = words
            .iter()
            .position(|w| !w.contains('='))
            .ok_or("no command")?;
        let cmd = words[split..].join(" ");
        if cmd != "ollama serve" || split == 0 {
            return Err(format!("an unknown command: {}", main_part(rest)));
        }
        return words[..split]
            .iter()
            .map(|a| {
                let (k, v) = a.split_once('=').ok_or("no variable")?;
                Ok(Action::OllamaVar(k.to_string(), v.to_string()))
            })
            .collect();
    }
    if let Some(rest) = fix.strip_prefix("systemctl --user restart ") {
        let words = shell_words(main_part(rest))?;
        let file = rest
            .split_once("ExecStart= line of ")
            .and_then(|(_, r)| r.split_once(" directly"))
            .map(|(f, _)| f.to_string());
        return Ok(vec![Action::UserUnitRestart(
            words.first().ok_or("no unit")?.clone(),
            file,
        )]);
    }
    if let Some(rest) = fix.strip_prefix("ollama pull ") {
        let name = shell_words(rest.split(" (").next().unwrap_or(rest))?;
        return Ok(vec![Action::OllamaPull(
            name.first().ok_or("no model")?.clone(),
        )]);
    }
    if let Some(m) = assignments(main_part(fix)) {
        // A bare K=V list is a Claude Code setting (where cclocal prints one without a place).
        return Ok(vec![Action::ClaudeEnv(m)]);
    }
    Err(format!("no known form: {fix}"))
}

/// Writes `vars` into `~/.claude/settings.json`'s `env` under `home` (creating it).
pub fn set_claude_env(home: &Path, vars: &BTreeMap<String, String>) {
    let p = home.join(".claude/settings.json");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let mut v: Value = std::fs::read_to_string(&p)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    let env = v
        .as_object_mut()
        .unwrap()
        .entry("env")
        .or_insert_with(|| serde_json::json!({}));
    for (k, val) in vars {
        env[k] = Value::String(val.clone());
    }
    std::fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

/// Sets `key` in `~/.claude.json` under `home`.
pub fn set_claude_json_key(home: &Path, key: &str, value: &Value) {
    let p = home.join(".claude.json");
    let mut v: Value = std::fs::read_to_string(&p)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    v[key] = value.clone();
    std::fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

#[test]
fn the_printed_forms_parse() {
    assert_eq!(
        parse("set for Claude Code (shell or ~/.claude/settings.json \"env\"): ANTHROPIC_MODEL='/a b/m.gguf' CLAUDE_CODE_MAX_CONTEXT_TOKENS=32768").unwrap(),
        vec![Action::ClaudeEnv(BTreeMap::from([
            ("ANTHROPIC_MODEL".to_string(), "/a b/m.gguf".to_string()),
            ("CLAUDE_CODE_MAX_CONTEXT_TOKENS".to_string(), "32768".to_string()),
        ]))]
    );
    assert_eq!(
        parse("add \"hasCompletedOnboarding\": true to ~/.claude.json").unwrap(),
        vec![Action::ClaudeJsonKey(
            "hasCompletedOnboarding".into(),
            Value::Bool(true)
        )]
    );
    assert!(matches!(&parse("export A=1 B=2").unwrap()[0], Action::Export(m) if m.len() == 2));
    assert!(parse("upgrade something somehow").is_err());
}
