//! LM Studio as `cclocal setup --server lmstudio` configures it: a script that starts LM
//! Studio's server and loads the model with the planned context (`lms server start`, `lms
//! load KEY --context-length N`, the line the doctor prints, from [`lms_load_args`]), and
//! the restart fix. Nothing inside LM Studio's own folders is written: its settings stay
//! LM Studio's (docs/servers.md "Setup for LM Studio and vLLM").

use crate::server::serve::{command_line, Restart, ServeParts};
use crate::shell::quote::sh_quote;
use std::path::{Path, PathBuf};

/// LM Studio's row parts ([`crate::server::KINDS`]).
pub const PARTS: ServeParts = ServeParts {
    files: &[SCRIPT],
    installed: |_| Vec::new(),
    restart: restart_fix,
};

/// `lms` arguments that load an LM Studio model with a context (LM Studio's CLI docs,
/// https://lmstudio.ai/docs/cli/load): `load KEY --context-length N`, plus `--gpu max`
/// (every layer on the GPU) where the machine has one. LM Studio otherwise loads a model
/// at its own default context.
pub fn lms_load_args(key: &str, context: u64, gpu: bool) -> Vec<String> {
    let mut v = vec![
        "load".to_string(),
        key.to_string(),
        "--context-length".to_string(),
        context.to_string(),
    ];
    if gpu {
        v.extend(["--gpu".to_string(), "max".to_string()]);
    }
    v
}

/// The `lms load` line (the doctor's fix and setup's script print this same line).
pub fn lms_load_line(key: &str, context: u64, gpu: bool) -> String {
    command_line("lms", &lms_load_args(key, context, gpu))
}

/// What loads the model again with the context setup configured (a loaded model keeps the
/// context it was loaded with).
pub fn restart_fix(r: &Restart) -> String {
    format!(
        "lms unload {m}; {}   (a loaded model keeps the context it was loaded with; the script setup wrote does both: sh {})",
        lms_load_line(r.model, r.settings.context, false),
        r.server_file(SCRIPT),
        m = sh_quote(r.model),
    )
}

/// The script's file name under cclocal's server folder.
pub const SCRIPT: &str = "lmstudio-start.sh";

/// What the script does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LmStudioStart {
    /// The model key (`qwen/qwen3-coder-30b`), what `lms load` takes and Claude Code sends.
    pub key: String,
    pub context: u64,
    pub port: u16,
    /// `--gpu max` (the machine the server runs on has a GPU or Apple unified memory).
    pub gpu: bool,
}

fn words(args: &[String]) -> String {
    args.iter()
        .map(|a| sh_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `lms load` line (the planner's, as the doctor prints it).
pub fn load_line(s: &LmStudioStart) -> String {
    lms_load_line(&s.key, s.context, s.gpu)
}

/// The POSIX sh script (macOS and Linux): finds `lms` (PATH, else LM Studio's
/// `~/.lmstudio/bin` or `~/.cache/lm-studio/bin`), starts the server on the port, unloads
/// an instance of the model loaded at another context, and loads it with the planned one.
pub fn script(s: &LmStudioStart) -> Vec<u8> {
    let load = words(&lms_load_args(&s.key, s.context, s.gpu));
    let key = sh_quote(&s.key);
    format!(
        r#"#!/bin/sh
# Written by `cclocal setup --server lmstudio`: starts LM Studio's server on port {port}
# and loads {key_plain} with a {ctx}-token context, so Claude Code does not run at
# LM Studio's small default context. Run it after each restart of LM Studio;
# `cclocal undo` removes it.
set -eu
LMS=lms
if ! command -v "$LMS" >/dev/null 2>&1; then
    for c in "$HOME/.lmstudio/bin/lms" "$HOME/.cache/lm-studio/bin/lms"; do
        if [ -x "$c" ]; then LMS=$c; break; fi
    done
fi
if ! command -v "$LMS" >/dev/null 2>&1; then
    echo "lms (LM Studio's command line) was not found: open LM Studio once, or install it from https://lmstudio.ai" >&2
    exit 1
fi
"$LMS" server start --port {port}
# A model loaded at another context keeps it: unload it first.
"$LMS" unload {key} >/dev/null 2>&1 || true
"$LMS" {load}
"$LMS" ps
"#,
        port = s.port,
        key_plain = s.key.replace('\n', " "),
        ctx = s.context,
    )
    .into_bytes()
}

/// The GGUF of LM Studio model `key` under the models folder of `home` (the folder named
/// by the key, its first `.gguf`); `None` for an MLX model or when absent.
pub fn local_gguf(home: &Path, key: &str) -> Option<PathBuf> {
    let m = crate::server::backend::BackendModel::new(key);
    super::local_gguf(&m, &super::models_dir(home))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_loads_the_planned_context() {
        let s = LmStudioStart {
            key: "qwen/qwen3-coder-30b".into(),
            context: 65_536,
            port: 1234,
            gpu: true,
        };
        let t = String::from_utf8(script(&s)).unwrap();
        assert!(t.contains("\"$LMS\" server start --port 1234\n"), "{t}");
        assert!(
            t.contains("\"$LMS\" load qwen/qwen3-coder-30b --context-length 65536 --gpu max\n"),
            "{t}"
        );
        assert_eq!(
            load_line(&s),
            "lms load qwen/qwen3-coder-30b --context-length 65536 --gpu max"
        );
        let odd = LmStudioStart {
            key: "a b'$(x)".into(),
            gpu: false,
            ..s
        };
        let t = String::from_utf8(script(&odd)).unwrap();
        assert!(
            t.contains("load 'a b'\\''$(x)' --context-length 65536\n"),
            "{t}"
        );
    }
}
