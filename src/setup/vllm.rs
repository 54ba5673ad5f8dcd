//! `cclocal setup --server vllm`: the `vllm serve` command line for the user to run
//! (`--max-model-len` the planned context, `--served-model-name` the name Claude Code
//! sends, from `crate::planner::vllm_serve_args`, the line the doctor prints), written as a
//! script. vLLM sizes its KV cache from `--gpu-memory-utilization`, not from llama.cpp's
//! arithmetic, so cclocal makes no memory claims for it (docs/servers.md "vLLM").

pub const SCRIPT: &str = "vllm-serve.sh";
/// vLLM's default port (`vllm/entrypoints/openai/cli_args.py`).
pub const DEFAULT_PORT: u16 = 8000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VllmServe {
    /// What vLLM loads (a Hugging Face repo id or a local folder).
    pub model: String,
    /// The name Claude Code sends (every tier), served as an alias.
    pub served_name: String,
    pub context: u64,
    pub port: u16,
}

/// `vllm serve …` as words (without the program).
pub fn args(s: &VllmServe) -> Vec<String> {
    let mut names = vec![s.served_name.clone()];
    if s.model != s.served_name {
        names.push(s.model.clone());
    }
    let mut a = crate::planner::vllm_serve_args(&s.model, Some(s.context), &names);
    if s.port != DEFAULT_PORT {
        a.extend(["--port".to_string(), s.port.to_string()]);
    }
    a
}

/// The one line to run (the planner's, as the doctor prints it).
pub fn line(s: &VllmServe) -> String {
    crate::planner::command_line("vllm", &args(s))
}

pub fn script(s: &VllmServe) -> Vec<u8> {
    format!(
        r#"#!/bin/sh
# Written by `cclocal setup --server vllm`: serves {model} with a {ctx}-token context under
# the name Claude Code sends. If vLLM stops with "not enough KV cache", lower
# --max-model-len or raise --gpu-memory-utilization. `cclocal undo` removes this file.
exec {line} "$@"
"#,
        model = s.model.replace('\n', " "),
        ctx = s.context,
        line = line(s),
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_line() {
        let s = VllmServe {
            model: "Qwen/Qwen3-Coder-30B-A3B-Instruct".into(),
            served_name: "qwen3-coder".into(),
            context: 65_536,
            port: 8000,
        };
        assert_eq!(
            line(&s),
            "vllm serve Qwen/Qwen3-Coder-30B-A3B-Instruct --max-model-len 65536 --served-model-name qwen3-coder Qwen/Qwen3-Coder-30B-A3B-Instruct"
        );
        let s = VllmServe {
            served_name: s.model.clone(),
            port: 8001,
            ..s
        };
        assert!(
            line(&s).ends_with("--served-model-name Qwen/Qwen3-Coder-30B-A3B-Instruct --port 8001")
        );
        assert!(String::from_utf8(script(&s))
            .unwrap()
            .contains("exec vllm serve "));
    }
}
