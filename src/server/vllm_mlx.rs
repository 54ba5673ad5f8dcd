//! vllm-mlx (https://github.com/waybarrios/vllm-mlx): `GET /health` answers JSON with `model_loaded` or `engine_type`; `/v1/models` items are `owned_by: "vllm-mlx"`.
//!
//! Its live facts: the served model names and, where reported, their context
//! (docs/servers.md "LM Studio, vLLM and the MLX servers").

/// Its log lines (`log::detect`, `log::read`).
pub mod log;
/// How `cclocal setup` runs this kind (its serve line, start script or service file) and
/// the doctor's restart fix.
pub mod serve;

use super::detect::{saw, Http, Verdict};

pub fn fingerprint(http: &mut Http) -> Verdict {
    if let Some(v) = http.json("/health") {
        if v.get("model_loaded").is_some() || v.get("engine_type").is_some() {
            return Verdict::Match("GET /health has model_loaded/engine_type".into());
        }
    }
    if http.owners().iter().any(|o| o == "vllm-mlx") {
        return Verdict::Match("GET /v1/models lists a model owned_by \"vllm-mlx\"".into());
    }
    Verdict::No(saw(http, "/health"))
}

/// Probes vllm-mlx: its `/v1/models` names (it refuses any other name with 404 "The model
/// `X` does not exist"), `/health` `model_name`, and `/v1/messages`. Its HTTP answers carry
/// no context; for a server on this machine, its process's command line does
/// ([`local_command`]): the model folder, whose `config.json` limit is the context (vllm-mlx
/// keeps the whole prompt up to it), or `--max-kv-size` below it.
pub fn probe(
    http: &mut Http,
    client: &crate::server::http::Client,
    names: &[String],
) -> super::ServerProbe {
    let mut p = super::backend::probe_openai(http, client, super::ServerKind::VllmMlx, names, true);
    if let (Some(b), Some(h)) = (p.backend.as_mut(), http.json("/health")) {
        if let Some(n) = h["model_name"].as_str() {
            // Only when /v1/models said nothing.
            if b.models.is_empty() {
                b.models.push(super::backend::BackendModel {
                    loaded: h["model_loaded"].as_bool().unwrap_or(true),
                    ..super::backend::BackendModel::new(n)
                });
                b.sources.push("GET /health".into());
            }
        }
    }
    if client.base.is_local() {
        if let (Some(b), Some(cmd)) = (p.backend.as_mut(), local_command(client.base.port)) {
            apply_command(b, &cmd);
        }
    }
    p
}

/// How a vllm-mlx on this machine was started (`/proc/PID/cmdline`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VllmMlxCommand {
    pub pid: u32,
    /// The model argument, made absolute against the process's working folder when it is a
    /// relative folder.
    pub model: Option<String>,
    pub served_name: Option<String>,
    pub max_kv_size: Option<u64>,
    /// `--max-request-tokens`, when given.
    pub max_request_tokens: Option<u64>,
    pub port: u16,
}

/// Reads `vllm-mlx serve MODEL [options]` from a command line (the interpreter may come
/// first: `python …/bin/vllm-mlx serve …`); `None` when it is not one.
pub fn parse_command(argv: &[String]) -> Option<VllmMlxCommand> {
    let i = argv.iter().position(|a| {
        std::path::Path::new(a)
            .file_name()
            .is_some_and(|n| n == "vllm-mlx")
    })?;
    if argv.get(i + 1).map(String::as_str) != Some("serve") {
        return None;
    }
    let rest = &argv[i + 2..];
    let mut c = VllmMlxCommand {
        port: DEFAULT_PORT,
        model: rest.first().filter(|m| !m.starts_with('-')).cloned(),
        ..Default::default()
    };
    let mut j = 0;
    while j < rest.len() {
        let (flag, inline) = match rest[j].split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (rest[j].as_str(), None),
        };
        let mut value = || {
            inline.clone().or_else(|| {
                j += 1;
                rest.get(j).cloned()
            })
        };
        match flag {
            "--served-model-name" => c.served_name = value(),
            "--max-kv-size" => {
                c.max_kv_size = value().and_then(|v| v.parse().ok()).filter(|n| *n > 0)
            }
            "--max-request-tokens" => {
                c.max_request_tokens = value().and_then(|v| v.parse().ok()).filter(|n| *n > 0)
            }
            "--port" => c.port = value().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_PORT),
            _ => {}
        }
        j += 1;
    }
    Some(c)
}

/// vllm-mlx's default port (`vllm_mlx/cli.py`).
pub const DEFAULT_PORT: u16 = super::ServerKind::VllmMlx.default_port();

/// vllm-mlx 0.6.0's default `--max-request-tokens` (`vllm_mlx/cli.py`): the largest
/// `max_tokens` a request may ask for; its startup log prints it as `Max request tokens: N`.
pub const DEFAULT_MAX_REQUEST_TOKENS: u64 = 32_768;

/// The vllm-mlx process on this machine serving `port`, from `/proc` (Linux; `None`
/// elsewhere or when none is found).
pub fn local_command(port: u16) -> Option<VllmMlxCommand> {
    for proc in super::process::all() {
        let argv = proc.argv;
        let Some(mut c) = parse_command(&argv) else {
            continue;
        };
        if c.port != port {
            continue;
        }
        c.pid = proc.pid;
        if let Some(m) = c.model.clone() {
            let p = std::path::Path::new(&m);
            if p.is_relative() {
                if let Ok(cwd) = std::fs::read_link(proc.dir.join("cwd")) {
                    if cwd.join(p).is_dir() {
                        c.model = Some(cwd.join(p).display().to_string());
                    }
                }
            }
        }
        return Some(c);
    }
    None
}

/// What the command line says about the served model: its folder, the limit in the
/// folder's `config.json` (the trained context), and the context it is served with (that
/// limit, or `--max-kv-size` below it).
pub fn apply_command(b: &mut super::backend::BackendFacts, cmd: &VllmMlxCommand) {
    let folder = cmd.model.as_deref().and_then(super::model_folder::local);
    let limit = folder.as_ref().and_then(|f| f.max_context);
    let served = match (cmd.max_kv_size, limit) {
        (Some(k), Some(l)) => Some(k.min(l)),
        (k, l) => k.or(l),
    };
    let name = cmd.served_name.clone().or(cmd.model.clone());
    // One process serves one model: the listed one, or the one its name matches.
    let single = b.models.len() == 1;
    for m in &mut b.models {
        if single || name.as_deref().is_some_and(|n| super::same_model(n, &m.id)) {
            m.path = cmd.model.clone().filter(|p| *p != m.id);
            m.trained_context = limit.or(m.trained_context);
            m.context = m.context.or(served);
        }
    }
    b.max_request_tokens = Some(cmd.max_request_tokens.unwrap_or(DEFAULT_MAX_REQUEST_TOKENS));
    b.sources.push(format!(
        "the vllm-mlx process's command line (PID {})",
        cmd.pid
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn command_lines() {
        let c = parse_command(&words("/v/bin/python3 /v/bin/vllm-mlx serve /m/tiny --served-model-name tiny --port 8123 --offline")).unwrap();
        assert_eq!(c.model.as_deref(), Some("/m/tiny"));
        assert_eq!(c.served_name.as_deref(), Some("tiny"));
        assert_eq!((c.port, c.max_kv_size), (8123, None));
        let c = parse_command(&words("vllm-mlx serve m --max-kv-size=16384")).unwrap();
        assert_eq!((c.port, c.max_kv_size), (8000, Some(16384)));
        let c = parse_command(&words("vllm-mlx serve m --max-request-tokens 4096")).unwrap();
        assert_eq!(c.max_request_tokens, Some(4096));
        assert!(parse_command(&words("vllm-mlx bench m")).is_none());
        assert!(parse_command(&words("python -m http.server 8000")).is_none());
    }

    #[test]
    fn the_folder_gives_the_context() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("config.json"),
            br#"{"max_position_embeddings": 32768}"#,
        )
        .unwrap();
        let dir = d.path().display().to_string();
        let mut b = super::super::backend::BackendFacts {
            models: vec![super::super::backend::BackendModel {
                loaded: true,
                ..super::super::backend::BackendModel::new("tiny")
            }],
            ..Default::default()
        };
        let cmd = VllmMlxCommand {
            pid: 7,
            model: Some(dir.clone()),
            served_name: Some("tiny".into()),
            max_kv_size: None,
            max_request_tokens: None,
            port: 8000,
        };
        apply_command(&mut b, &cmd);
        assert_eq!(b.max_request_tokens, Some(DEFAULT_MAX_REQUEST_TOKENS));
        assert_eq!(b.models[0].context, Some(32768));
        assert_eq!(b.models[0].trained_context, Some(32768));
        assert_eq!(b.models[0].path.as_deref(), Some(dir.as_str()));
        let mut b2 = b.clone();
        b2.models[0].context = None;
        apply_command(
            &mut b2,
            &VllmMlxCommand {
                max_kv_size: Some(8192),
                ..cmd
            },
        );
        assert_eq!(b2.models[0].context, Some(8192));
    }
}
