//! Rules about the server: reachability, API, models, and the service's configuration.

use super::{push, Section};
use crate::doctor::facts::{Facts, Presence};
use crate::doctor::knowledge::{
    ollama_var, ollama_version, OllamaVar, LLAMA_SERVER_SINCE, MESSAGES_API_SINCE,
};
use crate::doctor::probe::ollama_bool_false;
use crate::findings::{Finding, Severity};
use crate::server::ServerKind;

/// A name for a printed command: shell-quoted (`crate::shell::quote::sh_quote`), except the
/// `<model>` placeholder, which is for the user to fill in.
fn sh_quote(name: &str) -> String {
    if name == "<model>" {
        return name.to_string();
    }
    crate::shell::quote::sh_quote(name)
}

/// How to set an Ollama server variable on this kind of host.
pub fn set_server_var(f: &Facts, kv: &str) -> String {
    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
    set_server_vars(f, &[(k.to_string(), v.to_string())])
}

/// Sets every variable of `vars` for the Ollama server in one step and restarts it once:
/// a fix split into one command per variable would restart the server between them, with
/// the first alone loading a context that may not fit.
pub fn set_server_vars(f: &Facts, vars: &[(String, String)]) -> String {
    let words = crate::planner::env_words(vars);
    if !f.server.local {
        return format!("on the server host: set {words} for the Ollama service and restart it");
    }
    let launchctl = vars
        .iter()
        .map(|(k, v)| format!("launchctl setenv {k} {v}"))
        .collect::<Vec<_>>()
        .join("; ");
    match (f.machine.os.as_str(), f.server_config.as_ref().and_then(|c| c.env_source.as_deref())) {
        (_, Some(s)) if s.starts_with("brew services plist") => format!(
            "{launchctl}, then brew services restart ollama   (a variable in the service plist's EnvironmentVariables wins: change it there)"
        ),
        ("macos", _) => format!("{launchctl}, then restart the Ollama app"),
        (_, Some("systemd")) => format!(
            "sudo systemctl edit ollama  →  [Service] Environment={}; then sudo systemctl restart ollama",
            vars.iter()
                .map(|(k, v)| format!("\"{k}={v}\""))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        _ => format!("start the server with {words} ollama serve"),
    }
}

/// `OLLAMA_KEEP_ALIVE` in seconds as Ollama reads it: a Go duration or bare seconds;
/// negative is forever (`None`), unparsable is the default 5m.
pub fn keep_alive_secs(v: &str) -> Option<i64> {
    let t = v.trim().trim_matches(['"', '\'']);
    let secs = if let Ok(n) = t.parse::<i64>() {
        n
    } else {
        crate::duration::parse_go(t).map_or(300, |ms| (ms / 1000.0) as i64)
    };
    (secs >= 0).then_some(secs)
}

pub fn rules(f: &Facts, out: &mut Vec<(Section, Finding)>) {
    let sv = &f.server;
    let s = Section::Server;
    if !sv.checked {
        let why = if f.options.offline {
            "--offline".to_string()
        } else {
            sv.error.clone().unwrap_or_else(|| "not probed".into())
        };
        push(
            out,
            s,
            Finding::of(
                "server_not_checked",
                format!("the server at {} was not checked", sv.url),
            )
            .detail(why),
        );
    } else if !sv.reachable {
        let d = sv.error.clone().unwrap_or_default();
        push(
            out,
            s,
            Finding::graded(
                "server_unreachable",
                Severity::Error,
                format!("no answer from {}", sv.url),
            )
            .detail(format!("{d} (URL from {})", sv.url_source))
            .fix(start_fix(f)),
        );
    } else if sv.loading {
        push(
            out,
            s,
            Finding::of("server_loading", format!("{} at {} is still loading its model", kind_label(f), sv.url))
                .detail("every route answers 503 \"Loading model\" until the model is in memory; the server is up, not unreachable")
                .fix("wait until GET /health answers {\"status\":\"ok\"}, then run `cclocal doctor` again"),
        );
    } else if sv.kind == Some(ServerKind::Unknown) && sv.messages_api != Some(true) {
        let what = sv
            .answered
            .clone()
            .unwrap_or_else(|| "an unrecognised server".into());
        push(
            out,
            s,
            Finding::of("server_not_llm", format!("what answers at {} is not an LLM server", sv.url))
                .detail(format!("{what}; it is not Ollama, llama-server, LM Studio, vLLM, vllm-mlx, oMLX or mlx_lm.server, and POST /v1/messages is not an API there (URL from {})", sv.url_source))
                .fix("point Claude Code at the LLM server's own address (ANTHROPIC_BASE_URL, or `cclocal setup --host URL`), or name its kind: `cclocal doctor --host URL --server KIND`"),
        );
    } else if sv.kind == Some(ServerKind::Unknown) {
        push(
            out,
            s,
            Finding::of("server_kind_unknown", format!("an Anthropic-compatible server of unknown kind answers at {}", sv.url))
                .detail(format!("{}; POST /v1/messages answers as an API, so Claude Code can talk to it, but its context and models cannot be checked", sv.answered.clone().unwrap_or_default()))
                .fix("if it is one cclocal knows, name it: `cclocal doctor --server KIND` (ollama, llama-server, lmstudio, vllm, vllm-mlx, omlx, mlx-lm)"),
        );
    } else if sv.messages_api == Some(false)
        && !matches!(sv.kind, Some(ServerKind::Ollama | ServerKind::Vllm))
    {
        push(
            out,
            s,
            Finding::of("messages_api_missing", format!("{} has no Anthropic Messages API (/v1/messages)", kind_label(f)))
                .detail(format!("Claude Code speaks only Anthropic's Messages API; {} at {} does not serve POST /v1/messages", kind_label(f), sv.url))
                .fix(match sv.kind {
                    Some(ServerKind::MlxLm) => super::backends::mlx_lm_fix(f),
                    Some(ServerKind::LlamaServer) => "upgrade llama.cpp: https://github.com/ggml-org/llama.cpp/releases (llama-server serves /v1/messages since late 2025)".to_string(),
                    _ => format!("upgrade {} to a version that serves /v1/messages", kind_label(f)),
                }),
        );
    } else {
        let old = sv
            .version
            .as_deref()
            .and_then(ollama_version)
            .is_some_and(|v| v < MESSAGES_API_SINCE);
        if sv.kind == Some(ServerKind::Ollama) && (sv.messages_api == Some(false) || old) {
            push(
                out,
                s,
                Finding::of("server_too_old", "the server has no Anthropic Messages API (/v1/messages)")
                    .detail(format!("Ollama {} answers 404 page not found for /v1/messages; Claude Code needs Ollama 0.14.0 or newer", sv.version.clone().unwrap_or_else(|| "(unknown version)".into())))
                    .fix("upgrade Ollama: https://ollama.com/download (Linux: curl -fsSL https://ollama.com/install.sh | sh)"),
            );
        }
        let installed: Vec<&str> = sv.installed.iter().map(|m| m.name.as_str()).collect();
        let pick = sv
            .backend
            .as_ref()
            .and_then(|b| b.loaded().next())
            .map(|m| m.id.as_str())
            .or(installed.first().copied())
            .unwrap_or("<model>");
        for m in &sv.models {
            if m.presence != Presence::Missing || super::backends::reported_here(f) {
                continue;
            }
            let own_fix = super::backends::name_fix(f, m);
            if m.role == "main" {
                push(
                    out,
                    s,
                    Finding::of(
                        "model_missing",
                        format!("the server has no model {:?}", m.name),
                    )
                    .detail(format!(
                        "Claude Code will send model {:?} ({}); installed: {}",
                        m.name,
                        m.why,
                        if installed.is_empty() {
                            "none".into()
                        } else {
                            crate::units::list_some(&installed)
                        }
                    ))
                    .fix(if sv.kind == Some(ServerKind::Ollama) {
                        format!(
                            "ollama pull {}   (or ANTHROPIC_MODEL={})",
                            sh_quote(&m.name),
                            sh_quote(pick)
                        )
                    } else if let Some(fix) = own_fix {
                        fix
                    } else {
                        format!(
                            "ANTHROPIC_MODEL={}   (a name the server serves)",
                            sh_quote(pick)
                        )
                    }),
                );
            } else {
                push(
                    out,
                    s,
                    Finding::of("background_model_missing", format!("{} model {:?} is not on the server", m.role, m.name))
                        .detail(format!("Claude Code sends {} calls to {:?} because {}; the server answers 404 not_found_error for each", m.role, m.name, m.why))
                        .fix(own_fix.unwrap_or_else(|| format!("ANTHROPIC_DEFAULT_HAIKU_MODEL={}", sh_quote(&f.claude.as_ref().and_then(|c| c.model.clone()).unwrap_or_else(|| pick.to_string()))))),
                );
            }
        }
        let any_name_works = sv.kind == Some(ServerKind::LlamaServer)
            && sv.llama.as_ref().is_some_and(|l| !l.router);
        if f.claude.is_some() && !any_name_works && sv.models.iter().all(|m| m.role != "main") {
            push(
                out,
                s,
                Finding::of("model_missing", "no model is set for Claude Code")
                    .detail("without ANTHROPIC_MODEL (or a settings \"model\"), Claude Code asks the server for its own default Claude model, which a local server does not have")
                    .fix(format!("ANTHROPIC_MODEL={}", sh_quote(pick))),
            );
        }
        if !sv.local {
            push(
                out,
                s,
                Finding::of("remote_server", format!("the server at {} is on another machine", sv.url))
                    .detail("judged from its API alone; memory fit, KV cache type, flash attention, keep-alive, app settings and the service environment need the server host")
                    .fix("run `cclocal doctor --server-only` on the server host"),
            );
        }
    }
    config_rules(f, out);
}

/// "Ollama", "llama-server (llama.cpp)", … for the server's kind (Ollama when unknown).
pub fn kind_label(f: &Facts) -> &'static str {
    match f.server.kind {
        None | Some(ServerKind::Unknown) => "the server",
        Some(k) => k.label(),
    }
}

/// How to start the server that does not answer.
fn start_fix(f: &Facts) -> String {
    let sv = &f.server;
    let configured = f
        .setup
        .as_ref()
        .and_then(|s| s.config.as_ref())
        .map(|c| c.server.kind);
    let kind = sv.kind.or(configured).unwrap_or(ServerKind::Ollama);
    if !sv.local {
        return match kind {
            ServerKind::Ollama => format!("check that Ollama listens on the network on that host (OLLAMA_HOST=0.0.0.0) and that {} is right", sv.url),
            k => format!("check that {} runs on that host, listens on the network, and that {} is right", k.label(), sv.url),
        };
    }
    match kind {
        ServerKind::Ollama | ServerKind::Unknown => "start Ollama: open the Ollama app or run `ollama serve`".to_string(),
        ServerKind::LlamaServer => format!("start llama-server: llama-server -m MODEL.gguf --port {} (or `cclocal setup --server llama-server`)", crate::server::ServerUrl::parse_for(&sv.url, None).map(|u| u.port).unwrap_or(ServerKind::LlamaServer.default_port())),
        ServerKind::LmStudio => format!("start LM Studio's server: lms server start --port {} (or open LM Studio → Developer → Start server)", ServerKind::LmStudio.default_port()),
        ServerKind::Vllm if configured == Some(ServerKind::Vllm) => format!("start vLLM with the line setup wrote: sh {}", super::setup::server_file(f, crate::server::vllm::serve::SCRIPT)),
        ServerKind::Vllm => "start vLLM with tool calling on: vllm serve MODEL --served-model-name NAME --max-model-len N --enable-auto-tool-choice --tool-call-parser PARSER --host 127.0.0.1 --port PORT (`cclocal setup --server vllm --model NAME` writes the complete line)".to_string(),
        ServerKind::VllmMlx if configured == Some(ServerKind::VllmMlx) => format!("start vllm-mlx with the line setup wrote: sh {}", super::setup::server_file(f, crate::server::vllm_mlx::serve::SCRIPT)),
        ServerKind::VllmMlx => "start vllm-mlx: vllm-mlx serve MODEL --served-model-name NAME --host 127.0.0.1 --port PORT (`cclocal setup --server vllm-mlx --model NAME` writes the complete line)".to_string(),
        k => format!("start {}", k.label()),
    }
}

fn config_rules(f: &Facts, out: &mut Vec<(Section, Finding)>) {
    if !matches!(f.server.kind, None | Some(ServerKind::Ollama)) {
        return;
    }
    let s = Section::ServerConfig;
    let version = f.server.version.as_deref();
    // Ollama variables in the service's or the shell's environment.
    let mut seen = std::collections::BTreeSet::new();
    let cfg_env = f
        .server_config
        .as_ref()
        .map(|c| c.env.clone())
        .unwrap_or_default();
    let shell = f
        .claude
        .as_ref()
        .map(|c| c.shell_env.clone())
        .unwrap_or_default();
    for (name, origin) in cfg_env
        .keys()
        .map(|k| (k, "the Ollama service"))
        .chain(shell.keys().map(|k| (k, "your shell")))
    {
        if !name.starts_with("OLLAMA_") || !seen.insert(name.clone()) {
            continue;
        }
        let (title, detail) = match ollama_var(name, version) {
            OllamaVar::Read => continue,
            OllamaVar::Never(note) => (format!("{name} does not exist in Ollama"), note),
            OllamaVar::Removed { since, note } => {
                (format!("{name} was removed in Ollama {since}"), note)
            }
            OllamaVar::TooNew { since } => (
                format!("{name} needs Ollama {since} or newer"),
                format!("this server is {}", version.unwrap_or("?")),
            ),
            OllamaVar::Unlisted => (
                format!("{name} is not an Ollama variable"),
                "not read by Ollama up to 0.33".into(),
            ),
        };
        push(
            out,
            s,
            Finding::of("unknown_env_var", title)
                .detail(format!("set in {origin}; {detail}"))
                .fix(format!("remove {name}")),
        );
    }
    let Some(cfg) = &f.server_config else { return };
    let env = &cfg.env;
    let known = cfg.env_source.is_some();
    let kv = env
        .get("OLLAMA_KV_CACHE_TYPE")
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty());
    let fa_off = env
        .get("OLLAMA_FLASH_ATTENTION")
        .is_some_and(|v| ollama_bool_false(v));
    if let (Some(k), true) = (&kv, fa_off) {
        if crate::planner::kv::is_quantized(k) {
            let new = version
                .and_then(ollama_version)
                .map_or(true, |v| v >= LLAMA_SERVER_SINCE);
            push(
                out,
                s,
                Finding::graded("kv_quant_without_flash_attention", if new { Severity::Error } else { Severity::Warning }, format!("OLLAMA_KV_CACHE_TYPE={k} with flash attention off"))
                    .detail(if new {
                        "from Ollama 0.30 llama-server refuses a quantized V cache without flash attention: the model fails to load".to_string()
                    } else {
                        "Ollama before 0.30 silently falls back to f16 when flash attention is off".to_string()
                    })
                    .fix(set_server_var(f, "OLLAMA_FLASH_ATTENTION=1")),
            );
        }
    }
    if known {
        let ka = env.get("OLLAMA_KEEP_ALIVE");
        let secs = ka.map(|v| keep_alive_secs(v)).unwrap_or(Some(300));
        if let Some(sec) = secs.filter(|s| *s < 600) {
            push(
                out,
                s,
                Finding::of("keep_alive_short", format!("Ollama unloads the model after {} idle", if sec == 0 { "every request".to_string() } else { crate::duration::human_secs(sec as f64) }))
                    .detail(format!("{}; after a pause the next turn reloads the model and re-reads the whole prompt", match ka { Some(v) => format!("OLLAMA_KEEP_ALIVE={v}"), None => "OLLAMA_KEEP_ALIVE is unset (default 5m)".into() }))
                    .fix(set_server_var(f, "OLLAMA_KEEP_ALIVE=1h")),
            );
        }
    }
    let host = env
        .get("OLLAMA_HOST")
        .map(|h| h.trim().trim_start_matches("http://").to_string());
    let bind_all = host
        .as_deref()
        .is_some_and(|h| h.starts_with("0.0.0.0") || h.starts_with("[::]") || h.starts_with(":"));
    if bind_all || cfg.app_expose == Some(true) {
        push(
            out,
            s,
            Finding::of("server_exposed", "Ollama listens on every network interface")
                .detail(format!("{}; Ollama's API has no authentication, so anyone on the network can use the models", if bind_all { format!("OLLAMA_HOST={}", host.unwrap_or_default()) } else { "the Ollama app's \"Expose Ollama to the network\" is on".into() }))
                .fix(if bind_all { set_server_var(f, &format!("OLLAMA_HOST=127.0.0.1:{}", ServerKind::Ollama.default_port())) } else { "turn off \"Expose Ollama to the network\" in the Ollama app, unless other machines need it".into() }),
        );
    }
    if let Some(app) = cfg.app_context_length.filter(|c| *c > 0) {
        let env_ctx = env
            .get("OLLAMA_CONTEXT_LENGTH")
            .and_then(|v| v.trim().parse::<u64>().ok());
        let conflict = env_ctx.is_some_and(|e| e != app);
        push(
            out,
            s,
            Finding::graded("ollama_app_context_override", if conflict { Severity::Warning } else { Severity::Info }, format!("the Ollama app's context setting is {app}"))
                .detail(if conflict {
                    format!("the app passes OLLAMA_CONTEXT_LENGTH={app} to the server, replacing OLLAMA_CONTEXT_LENGTH={} from {}", env_ctx.unwrap_or(0), cfg.env_source.clone().unwrap_or_default())
                } else {
                    format!("a non-zero app setting overrides OLLAMA_CONTEXT_LENGTH ({})", cfg.app_db.clone().unwrap_or_default())
                })
                .fix("set the context in the Ollama app (Settings → Context length), or move its slider to default to let OLLAMA_CONTEXT_LENGTH apply"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_alive() {
        assert_eq!(keep_alive_secs("5m"), Some(300));
        assert_eq!(keep_alive_secs("1h30m"), Some(5400));
        assert_eq!(keep_alive_secs("3600"), Some(3600));
        assert_eq!(keep_alive_secs("-1"), None);
        assert_eq!(keep_alive_secs("-1m"), None);
        assert_eq!(keep_alive_secs("0"), Some(0));
        assert_eq!(keep_alive_secs("banana"), Some(300));
    }
}
