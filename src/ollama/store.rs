//! Ollama's on-disk model store.
//!
//! Layout (Ollama `types/model/name.go`, `manifest/manifest.go`; summary in
//! `docs/ollama.md`, "The model store"): `$OLLAMA_MODELS` (default `~/.ollama/models`) holds
//! `manifests/<host>/<namespace>/<model>/<tag>` JSON files whose layer of media type
//! `application/vnd.ollama.image.model` names the GGUF blob `blobs/sha256-<hex>`.
//! Names default to host `registry.ollama.ai`, namespace `library`, tag `latest`, and
//! are matched case-insensitively, as the server does.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

const DEFAULT_HOST: &str = "registry.ollama.ai";
const DEFAULT_NAMESPACE: &str = "library";
const DEFAULT_TAG: &str = "latest";
const MODEL_MEDIA_TYPE: &str = "application/vnd.ollama.image.model";

/// A parsed Ollama model name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelName {
    pub host: String,
    pub namespace: String,
    pub model: String,
    pub tag: String,
}

impl ModelName {
    /// The short form Ollama prints (`qwen3:8b`, `user/model:tag`, `hf.co/u/r:Q4_K_M`).
    pub fn display(&self) -> String {
        let mut s = String::new();
        if !self.host.eq_ignore_ascii_case(DEFAULT_HOST) {
            s.push_str(&self.host);
            s.push('/');
        }
        if !(self.host.eq_ignore_ascii_case(DEFAULT_HOST)
            && self.namespace.eq_ignore_ascii_case(DEFAULT_NAMESPACE))
        {
            s.push_str(&self.namespace);
            s.push('/');
        }
        s.push_str(&self.model);
        s.push(':');
        s.push_str(&self.tag);
        s
    }
}

/// Parses `model`, `model:tag`, `ns/model:tag`, `host/ns/model:tag`.
pub fn parse_name(name: &str) -> Option<ModelName> {
    let name = name.trim();
    if name.is_empty() || name.contains("..") || name.contains('\\') {
        return None;
    }
    let (path, tag) = match name.rfind(':') {
        Some(i) if !name[i..].contains('/') => (&name[..i], &name[i + 1..]),
        _ => (name, DEFAULT_TAG),
    };
    let parts: Vec<&str> = path.split('/').collect();
    let (host, ns, model) = match parts.as_slice() {
        [m] => (DEFAULT_HOST, DEFAULT_NAMESPACE, *m),
        [ns, m] => (DEFAULT_HOST, *ns, *m),
        [h, ns, m] => (*h, *ns, *m),
        _ => return None,
    };
    let ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    if !(ok(host) || host.contains(':')) || !ok(ns) || !ok(model) || !ok(tag) {
        return None;
    }
    Some(ModelName {
        host: host.into(),
        namespace: ns.into(),
        model: model.into(),
        tag: tag.into(),
    })
}

/// The models directory: `$OLLAMA_MODELS`, else `~/.ollama/models`.
pub fn models_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("OLLAMA_MODELS").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    home_dir().map(|h| h.join(".ollama").join("models"))
}

fn home_dir() -> Option<PathBuf> {
    crate::paths::home_dir()
}

/// A model found in the store.
#[derive(Debug, Clone)]
pub struct StoreModel {
    pub name: String,
    pub manifest: PathBuf,
    pub blob: PathBuf,
}

/// Finds `entry` in `dir` case-insensitively.
fn find_ci(dir: &Path, entry: &str) -> Option<PathBuf> {
    let exact = dir.join(entry);
    if exact.exists() {
        return Some(exact);
    }
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .find(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(entry))
        })
        .map(|e| e.path())
}

/// Resolves an Ollama model name to its GGUF blob in `models` (the store root).
pub fn resolve_name(models: &Path, name: &str) -> Result<StoreModel> {
    let parsed = parse_name(name).ok_or_else(|| {
        Error::usage(format!(
            "{name:?} is neither a .gguf file nor a valid Ollama model name"
        ))
        .with_hint(
            "use a path to a .gguf file, or a name like qwen3-coder:30b or hf.co/user/repo:Q4_K_M",
        )
    })?;
    let mut dir = models.join("manifests");
    for part in [&parsed.host, &parsed.namespace, &parsed.model, &parsed.tag] {
        match find_ci(&dir, part) {
            Some(p) => dir = p,
            None => return Err(not_installed(models, name)),
        }
    }
    let manifest = dir;
    let text = crate::fsread::read_to_string(&manifest, crate::fsread::SMALL)
        .map_err(|e| Error::io(&manifest, "read the Ollama manifest", e))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::parse(format!("the Ollama manifest is not valid JSON: {e}"))
            .with_subject(manifest.display().to_string())
            .with_hint(format!(
                "run `ollama pull {}` to repair it",
                parsed.display()
            ))
    })?;
    let digest = json
        .get("layers")
        .and_then(|l| l.as_array())
        .and_then(|layers| {
            layers.iter().find(|l| l.get("mediaType").and_then(|m| m.as_str()) == Some(MODEL_MEDIA_TYPE))
        })
        .and_then(|l| l.get("digest"))
        .and_then(|d| d.as_str())
        .ok_or_else(|| {
            Error::parse("the Ollama manifest has no GGUF model layer")
                .with_subject(manifest.display().to_string())
                .with_hint("this model is not a GGUF model (safetensors/MLX or cloud); pass a .gguf path instead")
        })?;
    let hex = digest
        .strip_prefix("sha256:")
        .or_else(|| digest.strip_prefix("sha256-"));
    let hex = hex
        .filter(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()))
        .ok_or_else(|| {
            Error::parse(format!(
                "the Ollama manifest has an invalid digest {digest:?}"
            ))
            .with_subject(manifest.display().to_string())
        })?;
    let blob = models.join("blobs").join(format!("sha256-{hex}"));
    if !blob.exists() {
        return Err(
            Error::not_found("the model's GGUF blob is missing from the Ollama store")
                .with_subject(blob.display().to_string())
                .with_hint(format!("run `ollama pull {}`", parsed.display())),
        );
    }
    Ok(StoreModel {
        name: parsed.display(),
        manifest,
        blob,
    })
}

/// Lists installed model names (for "did you mean" messages).
pub fn installed(models: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let root = models.join("manifests");
    let Ok(hosts) = std::fs::read_dir(&root) else {
        return out;
    };
    for h in hosts.flatten() {
        for ns in std::fs::read_dir(h.path()).into_iter().flatten().flatten() {
            for m in std::fs::read_dir(ns.path()).into_iter().flatten().flatten() {
                for t in std::fs::read_dir(m.path()).into_iter().flatten().flatten() {
                    let name = ModelName {
                        host: h.file_name().to_string_lossy().into(),
                        namespace: ns.file_name().to_string_lossy().into(),
                        model: m.file_name().to_string_lossy().into(),
                        tag: t.file_name().to_string_lossy().into(),
                    };
                    out.push(name.display());
                }
            }
        }
    }
    out.sort();
    out
}

fn not_installed(models: &Path, name: &str) -> Error {
    let list = installed(models);
    let hint = if list.is_empty() {
        format!(
            "no models are installed in {}; run `ollama pull {name}` or pass a .gguf path",
            models.display()
        )
    } else {
        format!("installed models: {}", crate::units::list_some(&list))
    };
    Error::not_found(format!(
        "model {name:?} is not installed in the Ollama store"
    ))
    .with_subject(models.display().to_string())
    .with_hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let n = parse_name("qwen3-coder-next:q4_K_M").unwrap();
        assert_eq!(
            (
                n.host.as_str(),
                n.namespace.as_str(),
                n.model.as_str(),
                n.tag.as_str()
            ),
            (
                "registry.ollama.ai",
                "library",
                "qwen3-coder-next",
                "q4_K_M"
            )
        );
        assert_eq!(n.display(), "qwen3-coder-next:q4_K_M");
        let n = parse_name("user/model:tag").unwrap();
        assert_eq!((n.namespace.as_str(), n.model.as_str()), ("user", "model"));
        let n = parse_name("hf.co/user/repo:Q4_K_M").unwrap();
        assert_eq!((n.host.as_str(), n.tag.as_str()), ("hf.co", "Q4_K_M"));
        assert_eq!(n.display(), "hf.co/user/repo:Q4_K_M");
        assert_eq!(parse_name("llama3").unwrap().tag, "latest");
        assert!(parse_name("a/b/c/d").is_none());
        assert!(parse_name("../etc:passwd").is_none());
        assert!(parse_name("x;rm -rf:y").is_none());
        assert!(parse_name("").is_none());
    }
}
