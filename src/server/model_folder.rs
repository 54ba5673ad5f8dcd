//! A Hugging Face model folder on this machine (what vLLM and the MLX servers load): its
//! `config.json`'s context limit and family (docs/servers.md "Model folders"). The file is
//! the user's: read with a size bound, parsed as JSON, and anything unexpected is `None`.

use std::path::Path;

/// `config.json` larger than this is not a model config.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// What a model folder's `config.json` says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelFolder {
    /// `max_position_embeddings` (the longest context the model takes; vLLM refuses a
    /// larger `--max-model-len` at startup).
    pub max_context: Option<u64>,
    /// `model_type` (`gemma3_text`, `qwen3`, `llama`, …).
    pub model_type: Option<String>,
}

/// Reads `DIR/config.json` when `dir` is a folder with one (`None` otherwise). Multimodal
/// configs keep the language model's values under `text_config`.
pub fn read(dir: &Path) -> Option<ModelFolder> {
    let file = dir.join("config.json");
    let meta = std::fs::metadata(&file).ok()?;
    if !meta.is_file() || meta.len() > MAX_CONFIG_BYTES {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).ok()?).ok()?;
    parse(&v)
}

/// [`read`]'s parsing of a `config.json` value.
pub fn parse(v: &serde_json::Value) -> Option<ModelFolder> {
    let v = v.as_object()?;
    let text = v.get("text_config").and_then(|t| t.as_object());
    let get = |k: &str| v.get(k).or_else(|| text.and_then(|t| t.get(k)));
    Some(ModelFolder {
        max_context: get("max_position_embeddings")
            .and_then(|x| x.as_u64())
            .filter(|n| *n > 0),
        model_type: get("model_type")
            .and_then(|x| x.as_str())
            .map(|s| s.chars().take(64).collect()),
    })
}

/// The folder a server's model name or path names, when it is a folder on this machine.
pub fn local(model: &str) -> Option<ModelFolder> {
    let p = Path::new(model);
    (p.is_absolute() && p.is_dir()).then(|| read(p)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_limit_and_family() {
        let m =
            parse(&json!({"model_type": "gemma3_text", "max_position_embeddings": 32768})).unwrap();
        assert_eq!(m.max_context, Some(32768));
        assert_eq!(m.model_type.as_deref(), Some("gemma3_text"));
        let m = parse(
            &json!({"model_type": "gemma3", "text_config": {"max_position_embeddings": 131072}}),
        )
        .unwrap();
        assert_eq!(m.max_context, Some(131072));
        assert_eq!(m.model_type.as_deref(), Some("gemma3"));
        assert!(parse(&json!([1])).is_none());
        assert_eq!(
            parse(&json!({"max_position_embeddings": "x"}))
                .unwrap()
                .max_context,
            None
        );
    }

    #[test]
    fn reads_a_folder_and_refuses_junk() {
        let d = tempfile::tempdir().unwrap();
        assert!(read(d.path()).is_none());
        std::fs::write(d.path().join("config.json"), b"not json").unwrap();
        assert!(read(d.path()).is_none());
        std::fs::write(
            d.path().join("config.json"),
            br#"{"max_position_embeddings": 8192}"#,
        )
        .unwrap();
        assert_eq!(read(d.path()).unwrap().max_context, Some(8192));
        assert_eq!(
            local(d.path().to_str().unwrap()).unwrap().max_context,
            Some(8192)
        );
        assert!(local("Qwen/Qwen3-Coder-30B").is_none());
    }
}
