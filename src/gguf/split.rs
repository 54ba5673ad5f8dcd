//! Split GGUF models (`<name>-00001-of-00003.gguf`): shard 1 carries the metadata, every
//! shard carries tensor infos, and the weights are the sum over all shards.

use super::{read_header, GgufHeader};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// A model's header plus the weight totals over all of its files.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    /// Header of the first (or only) file: the metadata.
    pub header: GgufHeader,
    pub paths: Vec<PathBuf>,
    pub weights_bytes: u64,
    pub token_embd_bytes: u64,
    pub tensor_count: u64,
}

/// If `path` names shard `k` of `n` (`…-0000k-of-0000n.gguf`), the paths of all `n` shards.
pub fn split_shard_paths(path: &Path) -> Option<Vec<PathBuf>> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(".gguf")?;
    // "<prefix>-NNNNN-of-MMMMM"
    let (head, count) = stem.rsplit_once("-of-")?;
    let (prefix, index) = head.rsplit_once('-')?;
    if index.len() != 5 || count.len() != 5 {
        return None;
    }
    let _k: u32 = index.parse().ok()?;
    let n: u32 = count.parse().ok()?;
    if n == 0 {
        return None;
    }
    let dir = path.parent().unwrap_or(Path::new(""));
    Some(
        (1..=n)
            .map(|i| dir.join(format!("{prefix}-{i:05}-of-{n:05}.gguf")))
            .collect(),
    )
}

/// Reads a model file, following split shards, and sums the weights over all of them.
pub fn read_model_files(path: &Path) -> Result<ModelFiles> {
    let split = split_shard_paths(path);
    let is_split = split.is_some();
    let paths = split.unwrap_or_else(|| vec![path.to_path_buf()]);
    let mut first: Option<GgufHeader> = None;
    let (mut weights, mut embd, mut count) = (0u64, 0u64, 0u64);
    for p in &paths {
        if is_split && !p.exists() {
            return Err(Error::not_found(format!(
                "shard {} of a split model is missing",
                p.file_name().and_then(|n| n.to_str()).unwrap_or("?")
            ))
            .with_subject(p.display().to_string())
            .with_hint("download every part of the split model into the same folder"));
        }
        let h = read_header(p)?;
        weights += h.weights_bytes();
        embd += h.token_embd_bytes();
        count += h.tensors.len() as u64;
        if first.is_none() {
            first = Some(h);
        }
    }
    let header = first.expect("at least one path");
    Ok(ModelFiles {
        header,
        paths,
        weights_bytes: weights,
        token_embd_bytes: embd,
        tensor_count: count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_names() {
        let p = split_shard_paths(Path::new("/m/Qwen3-00002-of-00003.gguf")).unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[0], Path::new("/m/Qwen3-00001-of-00003.gguf"));
        assert_eq!(p[2], Path::new("/m/Qwen3-00003-of-00003.gguf"));
        assert!(split_shard_paths(Path::new("/m/model.gguf")).is_none());
        assert!(split_shard_paths(Path::new("/m/x-1-of-3.gguf")).is_none());
    }
}
