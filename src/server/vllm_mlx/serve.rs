//! The one `vllm-mlx serve` line: what `cclocal setup --server vllm-mlx` writes as a script,
//! what `cclocal plan` prints, and the doctor's fix for `mlx_lm.server` (which has no
//! Anthropic Messages API) for the same model folder (docs/servers.md "vllm-mlx").
//!
//! vllm-mlx 0.6.0's `serve` (`vllm_mlx/cli.py`): the model (a folder or a Hugging Face repo
//! id), `--served-model-name` (one name; the model argument otherwise), `--host` (default
//! 127.0.0.1), `--port` (default 8000). Its KV cache grows with the prompt up to the model's
//! own limit; `--max-kv-size N` bounds it with a rotating cache that drops the oldest
//! tokens, so the line names it only for a context below the model's limit (Claude Code is
//! then told to compact before it). `Max request tokens` in its startup log is the largest
//! `max_tokens` (output) a request may ask for, not the context.

use crate::server::model_folder::{self, ModelFolder};
use crate::server::serve::{command_line, Restart, ServeParts};

pub const SCRIPT: &str = "vllm-mlx-serve.sh";
pub const DEFAULT_PORT: u16 = crate::server::ServerKind::VllmMlx.default_port();

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VllmMlxServe {
    /// What vllm-mlx loads (a folder or a Hugging Face repo id).
    pub model: String,
    /// The name Claude Code sends.
    pub served_name: String,
    /// The context Claude Code is set up for.
    pub context: u64,
    /// `--max-kv-size`, when the context is below the model's limit (or the limit is unknown).
    pub max_kv_size: Option<u64>,
    pub host: String,
    pub port: u16,
    pub model_limit: Option<u64>,
}

impl VllmMlxServe {
    pub fn new(model: &str, served_name: &str, wanted: u64, host: &str, port: u16) -> Self {
        Self::with_folder(
            model,
            served_name,
            wanted,
            host,
            port,
            model_folder::local(model),
        )
    }

    pub fn with_folder(
        model: &str,
        served_name: &str,
        wanted: u64,
        host: &str,
        port: u16,
        folder: Option<ModelFolder>,
    ) -> Self {
        let limit = folder.and_then(|f| f.max_context);
        let context = limit.map_or(wanted, |l| wanted.min(l));
        VllmMlxServe {
            model: model.to_string(),
            served_name: if served_name.is_empty() {
                model.to_string()
            } else {
                served_name.to_string()
            },
            context,
            max_kv_size: (Some(context) != limit).then_some(context),
            host: host.to_string(),
            port,
            model_limit: limit,
        }
    }
}

/// `vllm-mlx serve …` as words (without the program).
pub fn args(s: &VllmMlxServe) -> Vec<String> {
    let mut a = vec![
        "serve".to_string(),
        s.model.clone(),
        "--served-model-name".to_string(),
        s.served_name.clone(),
    ];
    if let Some(k) = s.max_kv_size {
        a.extend(["--max-kv-size".to_string(), k.to_string()]);
    }
    a.extend([
        "--host".to_string(),
        s.host.clone(),
        "--port".to_string(),
        s.port.to_string(),
    ]);
    a
}

pub fn line(s: &VllmMlxServe) -> String {
    command_line("vllm-mlx", &args(s))
}

pub fn script(s: &VllmMlxServe) -> Vec<u8> {
    format!(
        r#"#!/bin/sh
# Written by `cclocal setup --server vllm-mlx`: serves {model} under the name Claude Code
# sends, for a {ctx}-token context. Extra vllm-mlx options may follow:
# sh {script} --offline. `cclocal undo` removes this file.
exec {line} "$@"
"#,
        model = s.model.replace('\n', " "),
        ctx = s.context,
        script = SCRIPT,
        line = line(s),
    )
    .into_bytes()
}

/// The model's own name for a folder: its last path component.
pub fn folder_name(model: &str) -> String {
    std::path::Path::new(model.trim_end_matches('/'))
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| model.to_string())
}

/// vllm-mlx's row parts ([`crate::server::KINDS`]).
pub const PARTS: ServeParts = ServeParts {
    files: &[SCRIPT],
    installed: |_| Vec::new(),
    restart: restart_fix,
};

/// What restarts vllm-mlx with the line setup wrote.
pub fn restart_fix(r: &Restart) -> String {
    format!(
        "stop vllm-mlx and start it again with the line setup wrote: sh {}",
        r.server_file(SCRIPT)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line names no `--max-request-tokens`: vllm-mlx's default must take the
    /// `max_tokens` Claude Code sends with the settings setup writes, at every context and
    /// for every version (else every request gets HTTP 400).
    #[test]
    fn the_default_max_request_tokens_takes_what_setup_lets_claude_code_ask() {
        use crate::claude::Version;
        let limit = super::super::DEFAULT_MAX_REQUEST_TOKENS;
        for v in [Version(2, 1, 42), Version(2, 1, 100), Version(2, 1, 332)] {
            for c in [2048, 8192, 32_768, 65_536, 131_072, 262_144, 1_048_576] {
                let env = crate::claude::recommend(v, c, "tiny-hi").env;
                let asks = crate::claude::max_tokens_for(v, &env);
                assert!(asks <= limit, "{v:?} at {c}: max_tokens {asks} > {limit}");
            }
        }
    }

    #[test]
    fn serve_lines() {
        let f = ModelFolder {
            max_context: Some(32_768),
            model_type: None,
        };
        let s = VllmMlxServe::with_folder(
            "/m/tiny",
            "tiny",
            65_536,
            "127.0.0.1",
            8123,
            Some(f.clone()),
        );
        assert_eq!(
            line(&s),
            "vllm-mlx serve /m/tiny --served-model-name tiny --host 127.0.0.1 --port 8123"
        );
        assert_eq!(s.context, 32_768);
        let s = VllmMlxServe::with_folder("/m/tiny", "tiny", 16_384, "127.0.0.1", 8000, Some(f));
        assert!(line(&s).contains("--max-kv-size 16384"));
        let s = VllmMlxServe::with_folder(
            "mlx-community/Qwen3-8B-4bit",
            "",
            65_536,
            "0.0.0.0",
            8000,
            None,
        );
        assert!(line(&s).starts_with("vllm-mlx serve mlx-community/Qwen3-8B-4bit --served-model-name mlx-community/Qwen3-8B-4bit --max-kv-size 65536"));
        assert!(String::from_utf8(script(&s))
            .unwrap()
            .contains("exec vllm-mlx serve"));
        assert_eq!(folder_name("/a/b/tiny-hi/"), "tiny-hi");
    }
}
