//! Turns the user's model argument (a `.gguf` path or an Ollama name) into a description.

use super::{describe, ModelDesc};
use crate::error::{Error, Result};
use crate::gguf::read_model_files;
use crate::ollama::{models_dir, resolve_name};
use std::path::{Path, PathBuf};

/// What the user named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelArg {
    Gguf(PathBuf),
    Ollama(String),
}

/// Where a description came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelSource {
    Gguf { paths: Vec<PathBuf> },
    OllamaStore { name: String, blob: PathBuf },
}

impl ModelSource {
    /// The local GGUF file of this source: the first shard of a (split) GGUF, or the
    /// Ollama store's blob. The one answer to "which file holds the weights".
    pub fn gguf_path(&self) -> Result<&Path> {
        match self {
            ModelSource::Gguf { paths } => paths
                .first()
                .map(PathBuf::as_path)
                .ok_or_else(|| Error::not_found("the model source names no GGUF file")),
            ModelSource::OllamaStore { blob, .. } => Ok(blob),
        }
    }
}

/// A path to an existing file, or anything ending in `.gguf`, is a GGUF path; the rest
/// are Ollama names.
pub fn resolve_model_arg(arg: &str) -> ModelArg {
    let p = Path::new(arg);
    if arg.to_ascii_lowercase().ends_with(".gguf")
        || p.is_file()
        || arg.contains(std::path::MAIN_SEPARATOR) && p.exists()
    {
        ModelArg::Gguf(p.to_path_buf())
    } else {
        ModelArg::Ollama(arg.to_string())
    }
}

/// Loads a model description from a GGUF file (following split shards) or the Ollama store.
pub fn load_model(arg: &str) -> Result<(ModelDesc, ModelSource)> {
    match resolve_model_arg(arg) {
        ModelArg::Gguf(path) => {
            let files = read_model_files(&path)?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| arg.to_string());
            let desc = describe(
                &files.header,
                &name,
                files.weights_bytes,
                files.token_embd_bytes,
            )
            .map_err(|e| {
                if e.subject.is_none() {
                    e.with_subject(path.display().to_string())
                } else {
                    e
                }
            })?;
            Ok((desc, ModelSource::Gguf { paths: files.paths }))
        }
        ModelArg::Ollama(name) => {
            let dir = models_dir().ok_or_else(|| {
                Error::not_found(
                    "cannot find the Ollama model store: neither OLLAMA_MODELS nor HOME is set",
                )
                .with_hint("set OLLAMA_MODELS, or pass a .gguf path")
            })?;
            let found = resolve_name(&dir, &name).map_err(|e| {
                // `plan models` where `models` is a folder here: say so, not "ollama pull".
                if e.kind == crate::error::ErrorKind::NotFound && Path::new(&name).is_dir() {
                    Error::usage(format!(
                        "{name:?} is a directory, and no Ollama model has that name"
                    ))
                    .with_subject(name.clone())
                    .with_hint("pass the .gguf file inside it (a path like ./models/model.gguf), or an Ollama model name")
                } else {
                    e
                }
            })?;
            let files = read_model_files(&found.blob)?;
            let desc = describe(
                &files.header,
                &found.name,
                files.weights_bytes,
                files.token_embd_bytes,
            )?;
            Ok((
                desc,
                ModelSource::OllamaStore {
                    name: found.name,
                    blob: found.blob,
                },
            ))
        }
    }
}

#[cfg(test)]
mod gguf_path_tests {
    use super::*;

    #[test]
    fn one_gguf_path_per_source() {
        let g = ModelSource::Gguf {
            paths: vec![
                "/m/a-00001-of-00002.gguf".into(),
                "/m/a-00002-of-00002.gguf".into(),
            ],
        };
        assert_eq!(
            g.gguf_path().unwrap(),
            Path::new("/m/a-00001-of-00002.gguf")
        );
        let o = ModelSource::OllamaStore {
            name: "q:latest".into(),
            blob: "/s/blobs/sha256-ab".into(),
        };
        assert_eq!(o.gguf_path().unwrap(), Path::new("/s/blobs/sha256-ab"));
        assert!(ModelSource::Gguf { paths: vec![] }.gguf_path().is_err());
    }
}
