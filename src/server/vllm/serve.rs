//! The one `vllm serve` line: what `cclocal setup --server vllm` writes as a script, what
//! `cclocal plan` prints and what the doctor's vLLM fixes say (docs/servers.md "vLLM").
//! Every line is complete, so it works as printed:
//!
//! - the model as vLLM loads it: a folder or a Hugging Face repo id (a running vLLM's
//!   `/v1/models` `root`), never the served name;
//! - `--served-model-name`: the names Claude Code sends (vLLM refuses any other);
//! - `--max-model-len`: the context wanted, but never above the model's own limit
//!   (`max_position_embeddings` of the folder's `config.json`, when it is on this machine:
//!   vLLM refuses a larger value at startup);
//! - `--enable-auto-tool-choice --tool-call-parser P`: without them every Claude Code
//!   request fails (HTTP 400 "\"auto\" tool choice requires …"); P from
//!   [`crate::server::tool_parsers`];
//! - `--host` and `--port`.
//!
//! vLLM sizes its own KV cache (`--gpu-memory-utilization` on a GPU, `VLLM_CPU_KVCACHE_SPACE`
//! on its CPU build), so cclocal makes no memory claims for it.

use crate::server::model_folder::{self, ModelFolder};
use crate::server::serve::{command_line, Restart, ServeParts};
use crate::server::tool_parsers::vllm_tool_parser;

pub const SCRIPT: &str = "vllm-serve.sh";
/// vLLM's default port (`vllm/entrypoints/openai/cli_args.py`).
pub const DEFAULT_PORT: u16 = crate::server::ServerKind::Vllm.default_port();

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VllmServe {
    /// What vLLM loads (a Hugging Face repo id or a local folder).
    pub model: String,
    /// The names Claude Code sends, served as aliases (the first is the main one).
    pub served_names: Vec<String>,
    /// `--max-model-len`, already within the model's limit.
    pub context: u64,
    pub tool_parser: String,
    pub host: String,
    pub port: u16,
    /// The model's own limit, when its folder was read (for the notes).
    pub model_limit: Option<u64>,
}

impl VllmServe {
    /// The line for `model` served as `names` at up to `wanted` tokens, listening on
    /// `host:port`. A local model folder gives the limit and the family.
    pub fn new(model: &str, names: &[String], wanted: u64, host: &str, port: u16) -> VllmServe {
        Self::with_folder(model, names, wanted, host, port, model_folder::local(model))
    }

    pub fn with_folder(
        model: &str,
        names: &[String],
        wanted: u64,
        host: &str,
        port: u16,
        folder: Option<ModelFolder>,
    ) -> VllmServe {
        let folder = folder.unwrap_or_default();
        let mut served_names: Vec<String> = Vec::new();
        for n in names {
            if !n.is_empty() && !served_names.contains(n) {
                served_names.push(n.clone());
            }
        }
        if served_names.is_empty() {
            served_names.push(model.to_string());
        }
        VllmServe {
            model: model.to_string(),
            context: folder.max_context.map_or(wanted, |m| wanted.min(m)),
            tool_parser: vllm_tool_parser(folder.model_type.as_deref(), model).to_string(),
            served_names,
            host: host.to_string(),
            port,
            model_limit: folder.max_context,
        }
    }
}

/// The address vLLM listens on for a server URL's host: the loopback address it names, or
/// every interface for a server other machines reach.
pub fn listen_host(url_host: &str) -> String {
    let h = url_host.trim_start_matches('[').trim_end_matches(']');
    if h == "localhost"
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
    {
        if h == "localhost" {
            "127.0.0.1".into()
        } else {
            h.to_string()
        }
    } else {
        "0.0.0.0".into()
    }
}

/// `vllm serve …` as words (without the program).
pub fn args(s: &VllmServe) -> Vec<String> {
    let mut a = vec![
        "serve".to_string(),
        s.model.clone(),
        "--served-model-name".to_string(),
    ];
    a.extend(s.served_names.iter().cloned());
    a.extend([
        "--max-model-len".to_string(),
        s.context.to_string(),
        "--enable-auto-tool-choice".to_string(),
        "--tool-call-parser".to_string(),
        s.tool_parser.clone(),
        "--host".to_string(),
        s.host.clone(),
        "--port".to_string(),
        s.port.to_string(),
    ]);
    a
}

/// The one line to run.
pub fn line(s: &VllmServe) -> String {
    command_line("vllm", &args(s))
}

/// Why the context is what it is, when the model's limit lowered it.
pub fn limit_note(s: &VllmServe, wanted: u64) -> Option<String> {
    let m = s.model_limit?;
    (wanted > m).then(|| {
        format!(
            "--max-model-len {m}: {} takes at most {m} tokens (max_position_embeddings in its config.json); vLLM refuses more at startup",
            s.model
        )
    })
}

pub fn script(s: &VllmServe) -> Vec<u8> {
    format!(
        r#"#!/bin/sh
# Written by `cclocal setup --server vllm`: serves {model} with a {ctx}-token context under
# the name Claude Code sends, with tool calling on (Claude Code's requests carry tools).
# vLLM sizes its own KV cache: if it stops for lack of cache memory, lower --max-model-len.
# Extra vLLM options may follow: sh {script} --enforce-eager. `cclocal undo` removes this file.
exec {line} "$@"
"#,
        model = s.model.replace('\n', " "),
        ctx = s.context,
        script = SCRIPT,
        line = line(s),
    )
    .into_bytes()
}

/// vLLM's row parts ([`crate::server::KINDS`]).
pub const PARTS: ServeParts = ServeParts {
    files: &[SCRIPT],
    installed: |_| Vec::new(),
    restart: restart_fix,
};

/// What restarts vLLM with the line setup wrote.
pub fn restart_fix(r: &Restart) -> String {
    format!(
        "stop vLLM and start it again with the line setup wrote: sh {}   (vLLM reads --max-model-len only at start)",
        r.server_file(SCRIPT)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_line_is_complete() {
        let s = VllmServe::with_folder(
            "Qwen/Qwen3-Coder-30B-A3B-Instruct",
            &["qwen3-coder".into()],
            65_536,
            "127.0.0.1",
            8000,
            None,
        );
        assert_eq!(
            line(&s),
            "vllm serve Qwen/Qwen3-Coder-30B-A3B-Instruct --served-model-name qwen3-coder --max-model-len 65536 --enable-auto-tool-choice --tool-call-parser qwen3_coder --host 127.0.0.1 --port 8000"
        );
        assert!(String::from_utf8(script(&s))
            .unwrap()
            .contains("exec vllm serve "));
    }

    #[test]
    fn the_models_limit_caps_the_context() {
        let folder = ModelFolder {
            max_context: Some(32_768),
            model_type: Some("gemma3_text".into()),
        };
        let s = VllmServe::with_folder(
            "/m/gemma",
            &["g".into(), "g".into()],
            65_536,
            "0.0.0.0",
            8111,
            Some(folder),
        );
        assert_eq!(s.context, 32_768);
        assert_eq!(s.served_names, vec!["g".to_string()]);
        assert_eq!(s.tool_parser, "hermes");
        assert!(limit_note(&s, 65_536)
            .unwrap()
            .contains("max_position_embeddings"));
        assert!(limit_note(&s, 16_384).is_none());
        let s = VllmServe::with_folder("/m/gemma", &[], 8192, "127.0.0.1", 1, None);
        assert_eq!(s.served_names, vec!["/m/gemma".to_string()]);
    }

    #[test]
    fn listen_hosts() {
        assert_eq!(listen_host("127.0.0.1"), "127.0.0.1");
        assert_eq!(listen_host("localhost"), "127.0.0.1");
        assert_eq!(listen_host("[::1]"), "::1");
        assert_eq!(listen_host("gpu-box.lan"), "0.0.0.0");
        assert_eq!(listen_host("192.168.1.9"), "0.0.0.0");
    }
}
