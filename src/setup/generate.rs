//! The content of every file setup writes, as pure functions of the choices.

use super::choices::{Choices, TargetOs};
use crate::claude::recommend;
use crate::error::{Error, Result};
use crate::shell::quote::{is_env_name, sh_quote};
use crate::shell::templates::{heredoc_delimiter, render};
use serde_json::{Map, Value};
use std::path::Path;

/// The LaunchAgent label (the plist is `<label>.plist`).
pub const LAUNCH_AGENT_LABEL: &str = "com.cclocal.ollama-env";

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

/// The Ollama server settings setup configures.
pub fn server_settings(ch: &Choices) -> crate::planner::ServerSettings {
    crate::planner::ServerSettings {
        keep_alive: Some(ch.keep_alive.clone()),
        flash_attn: ch.flash_attention,
        ..crate::planner::ServerSettings::new(ch.context, &ch.kv_cache_type)
    }
}

/// The Ollama server variables: the planner's generator (`crate::planner::ollama_env`), the
/// same lines `cclocal plan` prints.
pub fn ollama_env(ch: &Choices) -> Vec<(String, String)> {
    crate::planner::ollama_env(&server_settings(ch))
}

fn env_summary(ch: &Choices) -> String {
    ollama_env(ch)
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The systemd drop-in for `ollama.service`.
pub fn systemd_dropin(ch: &Choices) -> Result<Vec<u8>> {
    Ok(render(
        "ollama-dropin.conf",
        minijinja::context! { env => ollama_env(ch) },
    )?
    .into_bytes())
}

/// The LaunchAgent that runs `launchctl setenv` for each variable at login (RunAtLoad).
pub fn launch_agent(ch: &Choices) -> Vec<u8> {
    let script = ollama_env(ch)
        .iter()
        .map(|(k, v)| format!("/bin/launchctl setenv {k} {}", sh_quote(v)))
        .collect::<Vec<_>>()
        .join("; ");
    let mut dict = plist::Dictionary::new();
    dict.insert(
        "Label".into(),
        plist::Value::String(LAUNCH_AGENT_LABEL.into()),
    );
    dict.insert(
        "ProgramArguments".into(),
        plist::Value::Array(vec![
            "/bin/sh".into(),
            "-c".into(),
            plist::Value::String(script),
        ]),
    );
    dict.insert("RunAtLoad".into(), plist::Value::Boolean(true));
    let mut out = Vec::new();
    plist::Value::Dictionary(dict)
        .to_writer_xml(&mut out)
        .expect("plist serializes to memory");
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out
}

/// A self-contained script that applies the server settings on the server host (the file
/// content is embedded in a quoted heredoc, so nothing in it is expanded).
pub fn server_script(ch: &Choices, target: TargetOs, run_hint: &str) -> Result<Vec<u8>> {
    let text = match target {
        TargetOs::Linux => {
            let dropin = String::from_utf8(systemd_dropin(ch)?).expect("utf-8");
            let path = "/etc/systemd/system/ollama.service.d/cclocal.conf";
            render(
                "server-linux.sh",
                minijinja::context! {
                    run_hint => run_hint,
                    dropin_dir => "/etc/systemd/system/ollama.service.d",
                    dropin_path => path,
                    delimiter => heredoc_delimiter(&dropin),
                    dropin => dropin,
                    done_message => format!("Ollama restarted with {}", env_summary(ch)),
                },
            )?
        }
        TargetOs::Macos => {
            let plist = String::from_utf8(launch_agent(ch)).expect("plist XML is UTF-8");
            render(
                "server-macos.sh",
                minijinja::context! {
                    run_hint => run_hint,
                    label => LAUNCH_AGENT_LABEL,
                    delimiter => heredoc_delimiter(&plist),
                    plist => plist,
                    done_message => format!("Set {}. Quit Ollama from the menu bar and open it again so that it reads them.", env_summary(ch)),
                },
            )?
        }
    };
    Ok(text.into_bytes())
}
