//! Turns the choices into a plan: which files, where, with which content, and what must run
//! after they are written. Pure apart from reading the files' current content.

use super::choices::{Choices, Part, TargetOs};
use super::claude_json;
use super::config::{ClaudeConfig, LlamaServerConfig, ModelConfig, ServerConfig, SetupConfig};
use super::generate;
use super::plan::{FileChange, Level, ModeRule, Plan};
use crate::error::{Error, Result};
use crate::paths::{systemd_dropin, Paths};
use crate::server::llama_server::serve::{self as llama_server, LlamaServer};
use crate::server::ollama::serve::{self as ollama, LAUNCH_AGENT_LABEL};
use crate::shell::quote::sh_quote;
use std::path::{Path, PathBuf};

/// Facts about the machine setup runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub os: TargetOs,
    pub is_root: bool,
    pub uid: u32,
    /// Where `/etc` lives (`/` on a real system; a directory in tests).
    pub system_root: PathBuf,
    /// The Ollama app's own context setting (macOS `db.sqlite`), when known and non-zero.
    pub app_context_length: Option<u64>,
    /// Ollama run by `brew services` on this machine (its LaunchAgent plist), when found.
    pub brew_service: Option<crate::ollama::homebrew::BrewService>,
}

/// What must happen after the files are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostAction {
    /// `systemctl daemon-reload` and `systemctl restart ollama`.
    SystemdReload,
    /// `launchctl bootout` + `launchctl bootstrap gui/<uid> <plist>`.
    LaunchctlBootstrap { uid: u32, plist: PathBuf },
    /// `systemctl --user daemon-reload`, `enable --now` and `restart` of llama-server's
    /// user unit (or the commands printed when the user's systemd does not answer). `direct`
    /// is the unit's command line as a shell runs it, for a machine without user systemd.
    SystemdUserStart { unit: String, direct: String },
}

#[derive(Debug, Clone)]
pub struct Built {
    pub plan: Plan,
    pub post: Vec<PostAction>,
    pub config: SetupConfig,
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Plans everything `cclocal setup` writes for `ch`.
pub fn build_plan(paths: &Paths, ch: &Choices, host: &Host) -> Result<Built> {
    ch.validate()?;
    let mut plan = Plan::default();
    let mut post = Vec::new();
    let launcher_path = paths.launcher(&ch.launcher_name);
    let settings_path = paths.claude_settings();

    if ch.has(Part::Launcher) {
        let claude = resolve_claude(&launcher_path)?;
        check_launcher_path(&launcher_path, &ch.launcher_name)?;
        if claude.is_none() {
            plan.notes.push("Claude Code (`claude`) is not on PATH here: the launcher runs the `claude` it finds on PATH when it starts; run setup again after installing Claude Code to pin its path".into());
        }
        // A token the user gave is a secret: only the user may read the files holding it.
        // The placeholder tokens setup writes by itself (a server kind's name, which local
        // servers ignore) are not: masking "llama-server" would hide the binary's name.
        let secret = !is_placeholder_token(&ch.auth_token);
        if secret {
            plan.secrets.push(ch.auth_token.clone());
        }
        plan.push(FileChange::write(
            &launcher_path,
            generate::launcher(
                ch,
                &settings_path,
                claude.as_deref(),
                Some(&paths.claude_debug_dir()),
            )?,
            ModeRule::Exact(if secret { 0o700 } else { 0o755 }),
            "launcher",
        )?);
        plan.push(FileChange::write(
            &settings_path,
            generate::claude_settings(ch),
            ModeRule::Exact(if secret { 0o600 } else { 0o644 }),
            "Claude Code settings",
        )?);
        let on_path = std::env::var_os("PATH")
            .map(|p| {
                std::env::split_paths(&p)
                    .any(|d| d == launcher_path.parent().unwrap_or(Path::new("")))
            })
            .unwrap_or(false);
        if !on_path {
            plan.notes.push(format!(
                "{} is not on PATH: run it by its full path, or add the alias with `cclocal alias --write`",
                s(launcher_path.parent().unwrap_or(Path::new("")))
            ));
        }
    }
    if ch.has(Part::Server) {
        match &ch.llama_server {
            Some(ls) => llama_server_files(paths, ch, ls, host, &mut plan, &mut post)?,
            None => server_files(paths, ch, host, &mut plan, &mut post)?,
        }
    }
    if ch.has(Part::Onboarding) {
        // One read: the edit is computed on the bytes that are also apply's baseline.
        plan.push(FileChange::edit(
            &paths.claude_json,
            Level::JsonKey {
                key: claude_json::KEY.into(),
                value: Some(claude_json::VALUE.into()),
            },
            ModeRule::KeepOr(0o600),
            "Claude Code onboarding flag",
        )?);
    }
    let config = SetupConfig {
        version: 1,
        server: ServerConfig {
            kind: ch.server_kind(),
            url: ch.server_url.clone(),
            flash_attention: ch.flash_attention,
            kv_cache_type: Some(ch.kv_cache_type.clone()),
            keep_alive: ch.keep_alive.clone(),
        },
        model: ModelConfig {
            name: ch.model.clone(),
            context: ch.context,
        },
        claude: ClaudeConfig {
            version: ch.claude_version.to_string(),
            launcher_name: ch.launcher_name.clone(),
            launcher_path: s(&launcher_path),
            settings_path: s(&settings_path),
        },
        target: ch.target.name().into(),
        wrote: ch.parts.iter().map(|p| p.name().to_string()).collect(),
        llama_server: ch.llama_server.as_ref().map(|ls| LlamaServerConfig {
            binary: s(&ls.binary),
            model_path: s(&ls.model_path),
            log_file: s(&ls.log_file),
        }),
        chosen: Some(ch.chosen.clone()),
    };
    plan.push(FileChange::write(
        paths.config_toml(),
        config.to_toml().into_bytes(),
        ModeRule::Exact(0o644),
        "cclocal configuration",
    )?);
    plan.guard_secrets();
    Ok(Built { plan, post, config })
}

fn server_files(
    paths: &Paths,
    ch: &Choices,
    host: &Host,
    plan: &mut Plan,
    post: &mut Vec<PostAction>,
) -> Result<()> {
    let here = !ch.remote && ch.target == host.os;
    let settings = ch.serve_settings();
    if let (false, TargetOs::Macos, Some(svc)) = (ch.remote, ch.target, &host.brew_service) {
        let env = ollama::env(&settings);
        let vars: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
        plan.notes
            .push(crate::ollama::homebrew::restart_note(svc, &vars));
    }
    match (here, ch.target) {
        (true, TargetOs::Macos) => {
            let plist = paths.launch_agent(LAUNCH_AGENT_LABEL);
            plan.push(FileChange::write(
                &plist,
                ollama::launch_agent(&settings),
                ModeRule::Exact(0o644),
                "LaunchAgent for Ollama's settings",
            )?);
            post.push(PostAction::LaunchctlBootstrap {
                uid: host.uid,
                plist,
            });
            plan.notes.push("then quit Ollama from the menu bar and open it again: it reads its environment only at start".into());
            if let Some(n) = host.app_context_length.filter(|&n| n != ch.context) {
                plan.notes.push(format!(
                    "the Ollama app's own Context length setting ({n}) overrides OLLAMA_CONTEXT_LENGTH: set it to {} in Ollama's Settings, or move the slider to its default (0) so the LaunchAgent's value applies",
                    ch.context
                ));
            }
        }
        (true, TargetOs::Linux) if host.is_root => {
            plan.push(FileChange::write(
                systemd_dropin(&host.system_root),
                ollama::systemd_dropin(&settings)?,
                ModeRule::Exact(0o644),
                "systemd drop-in for ollama.service",
            )?);
            post.push(PostAction::SystemdReload);
        }
        (true, TargetOs::Linux) => {
            let file = paths.server_dir().join(ollama::DROPIN);
            plan.push(FileChange::write(
                &file,
                ollama::systemd_dropin(&settings)?,
                ModeRule::Exact(0o644),
                "systemd drop-in for ollama.service (to install with sudo)",
            )?);
            plan.notes.push(format!(
                "installing the drop-in needs root; run:\n    sudo install -D -m 0644 {} /etc/systemd/system/ollama.service.d/cclocal.conf && sudo systemctl daemon-reload && sudo systemctl restart ollama",
                sh_quote(&s(&file))
            ));
        }
        (false, target) => {
            let name = ollama::script_name(target.name());
            let script = paths.server_dir().join(&name);
            let q = sh_quote(&s(&script));
            let host_name = server_host(&ch.server_url);
            let hint = match (ch.remote, target) {
                (true, TargetOs::Linux) => {
                    format!("scp {q} {host_name}:{name} && ssh -t {host_name} sudo sh {name}")
                }
                (true, TargetOs::Macos) => format!("ssh {host_name} sh -s < {q}"),
                (false, TargetOs::Linux) => {
                    format!("copy {q} to the Linux server and run: sudo sh {name}")
                }
                (false, TargetOs::Macos) => format!("copy {q} to the Mac and run: sh {name}"),
            };
            let run_hint = match target {
                TargetOs::Linux => format!("sudo sh {name}"),
                TargetOs::Macos => format!("sh {name}"),
            };
            plan.push(FileChange::write(
                &script,
                ollama::server_script(&settings, target == TargetOs::Macos, &run_hint)?,
                ModeRule::Exact(0o755),
                "Ollama settings script for the server host",
            )?);
            let (raw_name, raw) = match target {
                TargetOs::Linux => (
                    ollama::DROPIN.to_string(),
                    ollama::systemd_dropin(&settings)?,
                ),
                TargetOs::Macos => (
                    format!("{LAUNCH_AGENT_LABEL}.plist"),
                    ollama::launch_agent(&settings),
                ),
            };
            plan.push(FileChange::write(
                paths.server_dir().join(raw_name),
                raw,
                ModeRule::Exact(0o644),
                "the server file the script installs",
            )?);
            plan.notes.push(format!(
                "the Ollama server is not this machine; apply its settings there with:\n    {hint}"
            ));
            if ch.remote {
                plan.notes.push("the server must listen on the network (OLLAMA_HOST=0.0.0.0:11434 on the server host)".into());
            }
        }
    }
    Ok(())
}

pub use crate::secret::{is_placeholder_token, DEFAULT_AUTH_TOKEN};

/// The header line every launcher cclocal writes carries.
pub const LAUNCHER_MARK: &str = "Written by `cclocal setup`";

/// The `claude` the launcher runs: the first `claude` on PATH that is not the launcher
/// itself (nor a link to it), as an absolute path, so the launcher never runs itself.
/// `None` when PATH has none.
pub fn resolve_claude(launcher: &Path) -> Result<Option<PathBuf>> {
    let launcher_real = std::fs::canonicalize(launcher).ok();
    let Some(path) = std::env::var_os("PATH") else {
        return Ok(None);
    };
    for dir in std::env::split_paths(&path) {
        if !dir.is_absolute() {
            continue;
        }
        let p = dir.join("claude");
        if !p.is_file() || p == launcher {
            continue;
        }
        if launcher_real.is_some() && std::fs::canonicalize(&p).ok() == launcher_real {
            continue;
        }
        return Ok(Some(p));
    }
    Ok(None)
}

/// Refuses a launcher that would be, replace or shadow Claude Code itself, or write
/// through a symlink or over a file cclocal did not write.
fn check_launcher_path(launcher: &Path, name: &str) -> Result<()> {
    let refuse = |why: String| {
        Error::usage(why)
            .with_subject(launcher.display().to_string())
            .with_hint("choose another name with --launcher-name (the default is claude-local)")
    };
    if name == "claude" {
        return Err(refuse(
            "the launcher cannot be named `claude`: it would shadow Claude Code itself, which the launcher runs".into(),
        ));
    }
    match std::fs::symlink_metadata(launcher) {
        Ok(m) if m.file_type().is_symlink() => Err(refuse(format!(
            "{} is a symlink (to {}); cclocal writes its launcher only as its own file, never through a link into a file it did not create",
            launcher.display(),
            std::fs::read_link(launcher)
                .map(|t| t.display().to_string())
                .unwrap_or_else(|_| "?".into())
        ))),
        Ok(m) if m.is_file() => {
            let head = crate::fsread::read(launcher, crate::fsread::TEXT).unwrap_or_default();
            let head = &head[..head.len().min(4096)];
            if String::from_utf8_lossy(head).contains(LAUNCHER_MARK) {
                Ok(())
            } else {
                Err(refuse(format!(
                    "{} exists and was not written by cclocal; it is left alone",
                    launcher.display()
                )))
            }
        }
        _ => Ok(()),
    }
}

/// llama-server's service: a systemd user unit (Linux) or a LaunchAgent (macOS) that runs
/// the planned command line; on another machine, the file to install there.
fn llama_server_files(
    paths: &Paths,
    ch: &Choices,
    ls: &LlamaServer,
    host: &Host,
    plan: &mut Plan,
    post: &mut Vec<PostAction>,
) -> Result<()> {
    let here = !ch.remote && ch.target == host.os;
    let serve = ch.llama_serve(ls)?;
    let (file, bytes, what) = match ch.target {
        TargetOs::Linux => (
            if here {
                llama_server::unit_path(&paths.xdg_config)
            } else {
                paths.server_dir().join(llama_server::UNIT_NAME)
            },
            llama_server::systemd_user_unit(&serve)?,
            "systemd user unit for llama-server",
        ),
        TargetOs::Macos => (
            if here {
                paths.launch_agent(llama_server::LAUNCH_AGENT_LABEL)
            } else {
                paths
                    .server_dir()
                    .join(format!("{}.plist", llama_server::LAUNCH_AGENT_LABEL))
            },
            llama_server::launch_agent(&serve)?,
            "LaunchAgent for llama-server",
        ),
    };
    plan.push(FileChange::write(
        &file,
        bytes,
        ModeRule::Exact(0o644),
        what,
    )?);
    let q = sh_quote(&s(&file));
    match (here, ch.target) {
        (true, TargetOs::Linux) => post.push(PostAction::SystemdUserStart {
            unit: llama_server::UNIT_NAME.into(),
            direct: llama_server::argv(&serve)
                .iter()
                .map(|w| sh_quote(w))
                .collect::<Vec<_>>()
                .join(" "),
        }),
        (true, TargetOs::Macos) => post.push(PostAction::LaunchctlBootstrap {
            uid: host.uid,
            plist: file.clone(),
        }),
        (false, TargetOs::Linux) => plan.notes.push(format!(
            "llama-server runs on another machine; install the unit there (as the user who runs it) with:\n    install -D -m 0644 {q} ~/.config/systemd/user/{unit} && systemctl --user daemon-reload && systemctl --user enable --now {unit}",
            unit = llama_server::UNIT_NAME
        )),
        (false, TargetOs::Macos) => plan.notes.push(format!(
            "llama-server runs on another machine; install the LaunchAgent there with:\n    cp {q} ~/Library/LaunchAgents/ && launchctl bootstrap gui/$(id -u) ~/Library/LaunchAgents/{}.plist",
            llama_server::LAUNCH_AGENT_LABEL
        )),
    }
    plan.notes.push(format!(
        "llama-server logs to {} (read by `cclocal logs`)",
        sh_quote(&s(&ls.log_file))
    ));
    Ok(())
}

/// The host part of a server URL (for ssh), read by the one address parser.
fn server_host(url: &str) -> String {
    let host = crate::server::ServerUrl::parse_for(url, None)
        .map(|u| u.host)
        .unwrap_or_else(|_| url.to_string());
    sh_quote(&host)
}
