//! The content of the Claude Code files setup writes (the launcher and its settings), as
//! pure functions of the choices. The server's files are the kinds' own
//! (`crate::server::<kind>::serve`), from [`Choices::serve_settings`].

use super::choices::Choices;
use crate::claude::recommend;
use crate::error::{Error, Result};
use crate::shell::quote::is_env_name;
use crate::shell::templates::render;
use serde_json::{Map, Value};
use std::path::Path;

/// Claude Code's environment, in the order the launcher sets it: the server, the model
/// tiers, the context settings the planner computes for this Claude Code version, and the
/// switches that keep the prompt prefix stable so the server's prompt cache keeps working.
pub fn claude_env(ch: &Choices) -> Vec<(String, String)> {
    let m = ch.model.clone();
    let mut env = vec![
        ("ANTHROPIC_BASE_URL".to_string(), ch.server_url.clone()),
        ("ANTHROPIC_AUTH_TOKEN".to_string(), ch.auth_token.clone()),
        ("ANTHROPIC_API_KEY".to_string(), String::new()),
        ("ANTHROPIC_DEFAULT_OPUS_MODEL".to_string(), m.clone()),
        ("ANTHROPIC_DEFAULT_SONNET_MODEL".to_string(), m.clone()),
        ("ANTHROPIC_DEFAULT_HAIKU_MODEL".to_string(), m.clone()),
        ("CLAUDE_CODE_SUBAGENT_MODEL".to_string(), m.clone()),
    ];
    // The planner's settings (the ones `cclocal plan` prints); `Choices::validate` keeps the
    // context above the floor where none can work.
    let advice = crate::planner::advise_version(ch.claude_version, ch.context, &ch.model);
    match advice.env() {
        Some(e) => env.extend(e.clone()),
        None => env.extend(recommend(ch.claude_version, ch.context, &ch.model).env),
    }
    // Source: `ollama launch claude` (`docs/ollama.md`); both exist in 2.1.197 and 2.1.332.
    // Builds whose version row lists a name as absent do not get it.
    let gate = crate::claude::gate_for(ch.claude_version);
    for (k, v) in [
        ("CLAUDE_CODE_ATTRIBUTION_HEADER", "0"),
        ("CLAUDE_CODE_TOTAL_TOKENS_REMINDER", "off"),
    ] {
        if gate.reads(k) != Some(false) {
            env.push((k.to_string(), v.to_string()));
        }
    }
    env
}

/// The settings file the launcher passes with `--settings`: the same variables as an `env`
/// block, because `env` in `~/.claude/settings.json` would otherwise win over the shell.
pub fn claude_settings(ch: &Choices) -> Vec<u8> {
    let env: Map<String, Value> = claude_env(ch)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let mut root = Map::new();
    root.insert("env".into(), Value::Object(env));
    let mut out = serde_json::to_vec_pretty(&Value::Object(root)).expect("settings serialize");
    out.push(b'\n');
    out
}

fn path_str(p: &Path) -> Result<&str> {
    p.to_str()
        .ok_or_else(|| Error::usage("the path is not UTF-8").with_subject(p.display().to_string()))
}

/// Debug-log files the launcher keeps in its folder (a session rotated at 10 MiB counts
/// twice): at most this many times 10 MiB on disk.
pub const DEBUG_KEEP: u32 = 10;

/// The first Claude Code with `--debug-file` among the builds run: its `--help` lists it
/// from 2.1.42 (the oldest in the test suite) to 2.1.332 (docs/verify.md), and 2.1.88's
/// source has it.
pub const DEBUG_FILE_SINCE: crate::claude::Version = crate::claude::Version(2, 1, 42);

/// The POSIX sh launcher; it runs `claude` (the absolute path setup resolved, else the
/// `claude` on PATH). With `debug_dir`, each run writes its debug log there (for versions
/// with `--debug-file`).
pub fn launcher(
    ch: &Choices,
    settings_path: &Path,
    claude: Option<&Path>,
    debug_dir: Option<&Path>,
) -> Result<Vec<u8>> {
    let claude = match claude {
        Some(p) => path_str(p)?.to_string(),
        None => "claude".to_string(),
    };
    let env = claude_env(ch);
    debug_assert!(env.iter().all(|(k, _)| is_env_name(k)));
    let debug_dir = match debug_dir {
        Some(d) if ch.claude_version >= DEBUG_FILE_SINCE => Some(path_str(d)?.to_string()),
        _ => None,
    };
    let text = render(
        "launcher.sh",
        minijinja::context! {
            name => ch.launcher_name,
            model => ch.model,
            server => ch.server_url,
            context => ch.context,
            claude_version => ch.claude_version.to_string(),
            env => env,
            settings_path => path_str(settings_path)?,
            claude => claude,
            debug_dir => debug_dir,
            debug_keep => DEBUG_KEEP,
        },
    )?;
    Ok(text.into_bytes())
}
