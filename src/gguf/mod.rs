//! GGUF header reader.
//!
//! Reads the metadata and tensor infos of a GGUF file (format: `ggml/include/gguf.h`,
//! `ggml/src/gguf.cpp` in llama.cpp; summary in `docs/llama-memory.md`, "GGUF layout") and
//! never the tensor data. Tokenizer arrays are skipped by their lengths. Every check
//! llama.cpp's own reader makes (magic, version, alignment, tensor offsets, sizes) is made
//! here too, and each failure is a [`GgufError`] with the byte offset where it was found.
//! Nothing is allocated that the file's size does not justify.

mod reader;
mod split;
mod types;

pub use reader::{read_header, read_header_from};
pub use split::{read_model_files, split_shard_paths, ModelFiles};
pub use types::{ggml_type, ggml_type_by_name, GgmlType, GGML_TYPES};

use std::path::PathBuf;

/// A metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Uint(u64),
    Int(i64),
    Float(f64),
    Bool(bool),
    String(String),
    Array(Array),
}

/// An array value. Arrays under `tokenizer.` and very long arrays are not materialised:
/// only their element type and length are kept.
#[derive(Debug, Clone, PartialEq)]
pub enum Array {
    Ints(Vec<i64>),
    Floats(Vec<f64>),
    Bools(Vec<bool>),
    Strings(Vec<String>),
    Skipped { elem_type: u32, len: u64 },
}

impl Array {
    pub fn len(&self) -> u64 {
        match self {
            Array::Ints(v) => v.len() as u64,
            Array::Floats(v) => v.len() as u64,
            Array::Bools(v) => v.len() as u64,
            Array::Strings(v) => v.len() as u64,
            Array::Skipped { len, .. } => *len,
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Value {
    /// The value as an unsigned integer, when it is a non-negative integer (any width).
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::Uint(v) => Some(v),
            Value::Int(v) if v >= 0 => Some(v as u64),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Uint(v) => Some(v as f64),
            Value::Int(v) => Some(v as f64),
            Value::Float(v) => Some(v),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            Value::Uint(v) => Some(v != 0),
            Value::Int(v) => Some(v != 0),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

/// One tensor's description (name, shape, type, offset in the data section).
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    pub dims: Vec<u64>,
    pub type_id: u32,
    pub offset: u64,
    /// `ggml_nbytes` of the tensor.
    pub bytes: u64,
}

/// A parsed GGUF header.
#[derive(Debug, Clone)]
pub struct GgufHeader {
    pub version: u32,
    /// Metadata in file order.
    pub metadata: Vec<(String, Value)>,
    pub tensors: Vec<TensorInfo>,
    pub alignment: u64,
    /// Absolute offset of the tensor data section.
    pub data_offset: u64,
    pub file_size: u64,
}

impl GgufHeader {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }
    pub fn get_u64(&self, key: &str) -> Option<u64> {
        self.get(key).and_then(Value::as_u64)
    }
    /// Sum of all tensors' bytes.
    pub fn weights_bytes(&self) -> u64 {
        self.tensors.iter().map(|t| t.bytes).sum()
    }
    /// Bytes of the input embedding (`token_embd.weight`), which llama.cpp keeps on the CPU.
    pub fn token_embd_bytes(&self) -> u64 {
        self.tensors
            .iter()
            .filter(|t| t.name == "token_embd.weight")
            .map(|t| t.bytes)
            .sum()
    }
}

/// What was wrong with a GGUF file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GgufErrorKind {
    #[error("the file ends early (needed {needed} more bytes)")]
    Truncated { needed: u64 },
    #[error("not a GGUF file (it starts with \"{}\", expected \"GGUF\")", .0.escape_ascii())]
    BadMagic([u8; 4]),
    #[error("GGUF version {0} is not supported (expected 2 or 3)")]
    BadVersion(u32),
    #[error("the file was written on a host of the other endianness")]
    WrongEndian,
    #[error("{what} count {count} is negative or larger than the file can hold")]
    BadCount { what: &'static str, count: u64 },
    #[error("a string of {0} bytes is larger than the rest of the file")]
    StringTooLong(u64),
    #[error("a string is not valid UTF-8")]
    BadUtf8,
    #[error("unknown metadata value type {0}")]
    UnknownValueType(u32),
    #[error("nested arrays are not allowed in GGUF metadata")]
    NestedArray,
    #[error("duplicate metadata key {0:?}")]
    DuplicateKey(String),
    #[error("general.alignment must be a UINT32 power of two, found {0}")]
    BadAlignment(String),
    #[error("tensor name {0:?} is empty, too long (max 63 bytes) or repeated")]
    BadTensorName(String),
    #[error("tensor {name:?} has {n_dims} dimensions (max 4)")]
    TooManyDims { name: String, n_dims: u32 },
    #[error("tensor {name:?} has an invalid shape {dims:?}")]
    BadShape { name: String, dims: Vec<i64> },
    #[error("tensor {name:?} has unknown ggml type {type_id}")]
    UnknownTensorType { name: String, type_id: u32 },
    #[error("tensor {name:?} has offset {found}, expected {expected}")]
    BadTensorOffset {
        name: String,
        found: u64,
        expected: u64,
    },
    #[error("the tensor data ends at byte {end}, past the end of the file ({file_size})")]
    DataPastEnd { end: u64, file_size: u64 },
    #[error("I/O error: {0}")]
    Io(String),
}

/// A GGUF format error with the byte offset where it was found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind} (at byte {offset})")]
pub struct GgufError {
    pub offset: u64,
    pub kind: GgufErrorKind,
    pub path: Option<PathBuf>,
}

impl From<GgufError> for crate::error::Error {
    fn from(e: GgufError) -> Self {
        let hint = match e.kind {
            GgufErrorKind::Truncated { .. } | GgufErrorKind::DataPastEnd { .. } => {
                "the file looks incomplete: download it again"
            }
            GgufErrorKind::BadMagic(_) => "pass a .gguf model file or an Ollama model name",
            GgufErrorKind::BadVersion(_) | GgufErrorKind::WrongEndian => {
                "convert the model again with a current llama.cpp"
            }
            _ => "the file is damaged or not a valid GGUF model: download it again",
        };
        let mut err =
            crate::error::Error::parse(format!("invalid GGUF file: {}", e.clone())).with_hint(hint);
        if let Some(p) = &e.path {
            err = err.with_subject(p.display().to_string());
        }
        err
    }
}
