//! The byte-level GGUF parser. See the module docs in `mod.rs`.

use super::{ggml_type, Array, GgufError, GgufErrorKind, GgufHeader, TensorInfo, Value};
use std::collections::HashSet;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

const MAGIC: &[u8; 4] = b"GGUF";
const DEFAULT_ALIGNMENT: u64 = 32;
const MAX_TENSOR_NAME: usize = 63; // GGML_MAX_NAME (64) including the NUL
const MAX_DIMS: u32 = 4;
/// Arrays longer than this are not materialised (only counted and skipped).
const MAX_MATERIALISED_ARRAY: u64 = 1 << 16;

// gguf_type ids
const T_UINT8: u32 = 0;
const T_INT8: u32 = 1;
const T_UINT16: u32 = 2;
const T_INT16: u32 = 3;
const T_UINT32: u32 = 4;
const T_INT32: u32 = 5;
const T_FLOAT32: u32 = 6;
const T_BOOL: u32 = 7;
const T_STRING: u32 = 8;
const T_ARRAY: u32 = 9;
const T_UINT64: u32 = 10;
const T_INT64: u32 = 11;
const T_FLOAT64: u32 = 12;

/// Fixed byte size of a scalar gguf type, `None` for string/array/unknown.
fn fixed_size(t: u32) -> Option<u64> {
    match t {
        T_UINT8 | T_INT8 | T_BOOL => Some(1),
        T_UINT16 | T_INT16 => Some(2),
        T_UINT32 | T_INT32 | T_FLOAT32 => Some(4),
        T_UINT64 | T_INT64 | T_FLOAT64 => Some(8),
        _ => None,
    }
}

/// Reads the header of the GGUF file at `path`.
pub fn read_header(path: &Path) -> crate::error::Result<GgufHeader> {
    let file = crate::fsread::open_regular(path, "a GGUF model file")
        .map_err(|e| crate::error::Error::io(path, "open the model file", e))?;
    let size = file
        .metadata()
        .map_err(|e| crate::error::Error::io(path, "read the model file's size", e))?
        .len();
    read_header_from(file, size).map_err(|mut e| {
        e.path = Some(path.to_path_buf());
        e.into()
    })
}

/// Reads a GGUF header from any seekable source of `size` bytes.
pub fn read_header_from<R: Read + Seek>(src: R, size: u64) -> Result<GgufHeader, GgufError> {
    let mut p = Parser {
        r: BufReader::with_capacity(64 * 1024, src),
        pos: 0,
        size,
    };
    p.parse()
}

struct Parser<R> {
    r: BufReader<R>,
    pos: u64,
    size: u64,
}

impl<R: Read + Seek> Parser<R> {
    fn err(&self, kind: GgufErrorKind) -> GgufError {
        GgufError {
            offset: self.pos,
            kind,
            path: None,
        }
    }
    fn remaining(&self) -> u64 {
        self.size.saturating_sub(self.pos)
    }
    fn need(&self, n: u64) -> Result<(), GgufError> {
        if n > self.remaining() {
            Err(self.err(GgufErrorKind::Truncated {
                needed: n - self.remaining(),
            }))
        } else {
            Ok(())
        }
    }
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], GgufError> {
        self.need(N as u64)?;
        let mut b = [0u8; N];
        self.r.read_exact(&mut b).map_err(|e| self.io_err(e))?;
        self.pos += N as u64;
        Ok(b)
    }
    fn io_err(&self, e: std::io::Error) -> GgufError {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            self.err(GgufErrorKind::Truncated { needed: 1 })
        } else {
            self.err(GgufErrorKind::Io(e.to_string()))
        }
    }
    fn skip(&mut self, n: u64) -> Result<(), GgufError> {
        self.need(n)?;
        let off = i64::try_from(n).map_err(|_| self.err(GgufErrorKind::Truncated { needed: n }))?;
        self.r.seek_relative(off).map_err(|e| self.io_err(e))?;
        self.pos += n;
        Ok(())
    }
    fn u32(&mut self) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }
    fn u64(&mut self) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }
    /// A count that must fit `min_item` bytes per item in the rest of the file.
    fn count(&mut self, what: &'static str, min_item: u64) -> Result<u64, GgufError> {
        let start = self.pos;
        let raw = self.u64()?;
        let bad = (raw as i64) < 0 || raw.saturating_mul(min_item) > self.remaining();
        if bad {
            return Err(GgufError {
                offset: start,
                kind: GgufErrorKind::BadCount { what, count: raw },
                path: None,
            });
        }
        Ok(raw)
    }
    fn string_len(&mut self) -> Result<u64, GgufError> {
        let start = self.pos;
        let len = self.u64()?;
        if len > self.remaining() {
            return Err(GgufError {
                offset: start,
                kind: GgufErrorKind::StringTooLong(len),
                path: None,
            });
        }
        Ok(len)
    }
    fn string(&mut self) -> Result<String, GgufError> {
        let len = self.string_len()?;
        let start = self.pos;
        let mut buf = vec![0u8; len as usize];
        self.r.read_exact(&mut buf).map_err(|e| self.io_err(e))?;
        self.pos += len;
        String::from_utf8(buf).map_err(|_| GgufError {
            offset: start,
            kind: GgufErrorKind::BadUtf8,
            path: None,
        })
    }

    fn parse(&mut self) -> Result<GgufHeader, GgufError> {
        let magic: [u8; 4] = self.bytes()?;
        if &magic != MAGIC {
            self.pos = 0;
            return Err(self.err(GgufErrorKind::BadMagic(magic)));
        }
        let version = self.u32()?;
        if version & 0xFFFF == 0 && version != 0 {
            self.pos = 4;
            return Err(self.err(GgufErrorKind::WrongEndian));
        }
        if version != 2 && version != 3 {
            self.pos = 4;
            return Err(self.err(GgufErrorKind::BadVersion(version)));
        }
        // tensor info >= 8 (name len) + 4 (n_dims) + 4 (type) + 8 (offset) bytes;
        // kv >= 8 (key len) + 4 (type) + 1 (smallest value) bytes.
        let n_tensors = self.count("tensor", 24)?;
        let n_kv = self.count("metadata key", 13)?;

        let mut metadata: Vec<(String, Value)> = Vec::new();
        let mut seen = HashSet::new();
        let mut alignment = DEFAULT_ALIGNMENT;
        for _ in 0..n_kv {
            let key_at = self.pos;
            let key = self.string()?;
            if !seen.insert(key.clone()) {
                return Err(GgufError {
                    offset: key_at,
                    kind: GgufErrorKind::DuplicateKey(key),
                    path: None,
                });
            }
            let type_at = self.pos;
            let vtype = self.u32()?;
            let value = self.value(vtype, &key, type_at)?;
            if key == "general.alignment" {
                alignment = match (vtype, &value) {
                    (T_UINT32, Value::Uint(a)) if *a > 0 && a.is_power_of_two() => *a,
                    _ => {
                        return Err(GgufError {
                            offset: type_at,
                            kind: GgufErrorKind::BadAlignment(format!("{value:?}")),
                            path: None,
                        })
                    }
                };
            }
            metadata.push((key, value));
        }

        let mut tensors = Vec::new();
        let mut names = HashSet::new();
        for _ in 0..n_tensors {
            tensors.push(self.tensor_info(&mut names)?);
        }

        let data_offset = if n_tensors > 0 {
            pad(self.pos, alignment)
        } else {
            self.pos
        };
        let mut expected = 0u64;
        for t in &tensors {
            if t.offset != expected {
                return Err(GgufError {
                    offset: self.pos,
                    kind: GgufErrorKind::BadTensorOffset {
                        name: t.name.clone(),
                        found: t.offset,
                        expected,
                    },
                    path: None,
                });
            }
            expected = expected.saturating_add(pad(t.bytes, alignment));
        }
        if let Some(last) = tensors.last() {
            let end = data_offset
                .saturating_add(last.offset)
                .saturating_add(last.bytes);
            if end > self.size {
                return Err(GgufError {
                    offset: self.pos,
                    kind: GgufErrorKind::DataPastEnd {
                        end,
                        file_size: self.size,
                    },
                    path: None,
                });
            }
        }
        Ok(GgufHeader {
            version,
            metadata,
            tensors,
            alignment,
            data_offset,
            file_size: self.size,
        })
    }

    fn value(&mut self, vtype: u32, key: &str, type_at: u64) -> Result<Value, GgufError> {
        Ok(match vtype {
            T_UINT8 => Value::Uint(self.bytes::<1>()?[0] as u64),
            T_INT8 => Value::Int(self.bytes::<1>()?[0] as i8 as i64),
            T_UINT16 => Value::Uint(u16::from_le_bytes(self.bytes()?) as u64),
            T_INT16 => Value::Int(i16::from_le_bytes(self.bytes()?) as i64),
            T_UINT32 => Value::Uint(self.u32()? as u64),
            T_INT32 => Value::Int(i32::from_le_bytes(self.bytes()?) as i64),
            T_FLOAT32 => Value::Float(f32::from_le_bytes(self.bytes()?) as f64),
            T_BOOL => Value::Bool(self.bytes::<1>()?[0] != 0),
            T_STRING => Value::String(self.string()?),
            T_UINT64 => Value::Uint(self.u64()?),
            T_INT64 => Value::Int(i64::from_le_bytes(self.bytes()?)),
            T_FLOAT64 => Value::Float(f64::from_le_bytes(self.bytes()?)),
            T_ARRAY => Value::Array(self.array(key)?),
            other => {
                return Err(GgufError {
                    offset: type_at,
                    kind: GgufErrorKind::UnknownValueType(other),
                    path: None,
                })
            }
        })
    }

    fn array(&mut self, key: &str) -> Result<Array, GgufError> {
        let type_at = self.pos;
        let elem = self.u32()?;
        if elem == T_ARRAY {
            return Err(GgufError {
                offset: type_at,
                kind: GgufErrorKind::NestedArray,
                path: None,
            });
        }
        let min = match (elem, fixed_size(elem)) {
            (_, Some(s)) => s,
            (T_STRING, None) => 8,
            _ => {
                return Err(GgufError {
                    offset: type_at,
                    kind: GgufErrorKind::UnknownValueType(elem),
                    path: None,
                })
            }
        };
        let len = self.count("array element", min)?;
        let materialise = !key.starts_with("tokenizer.") && len <= MAX_MATERIALISED_ARRAY;
        if !materialise {
            match fixed_size(elem) {
                Some(s) => self.skip(len * s)?,
                None => {
                    for _ in 0..len {
                        let n = self.string_len()?;
                        self.skip(n)?;
                    }
                }
            }
            return Ok(Array::Skipped {
                elem_type: elem,
                len,
            });
        }
        let mut values = Vec::with_capacity(len as usize);
        for _ in 0..len {
            values.push(self.value(elem, key, type_at)?);
        }
        Ok(match elem {
            T_BOOL => Array::Bools(values.iter().filter_map(Value::as_bool).collect()),
            T_FLOAT32 | T_FLOAT64 => {
                Array::Floats(values.iter().filter_map(Value::as_f64).collect())
            }
            T_STRING => Array::Strings(
                values
                    .into_iter()
                    .filter_map(|v| {
                        if let Value::String(s) = v {
                            Some(s)
                        } else {
                            None
                        }
                    })
                    .collect(),
            ),
            _ => Array::Ints(
                values
                    .iter()
                    .map(|v| match *v {
                        Value::Uint(u) => i64::try_from(u).unwrap_or(i64::MAX),
                        Value::Int(i) => i,
                        _ => 0,
                    })
                    .collect(),
            ),
        })
    }

    fn tensor_info(&mut self, names: &mut HashSet<String>) -> Result<TensorInfo, GgufError> {
        let at = self.pos;
        let name = self.string()?;
        if name.is_empty() || name.len() > MAX_TENSOR_NAME || !names.insert(name.clone()) {
            return Err(GgufError {
                offset: at,
                kind: GgufErrorKind::BadTensorName(name),
                path: None,
            });
        }
        let n_dims = self.u32()?;
        if n_dims > MAX_DIMS {
            return Err(self.err(GgufErrorKind::TooManyDims { name, n_dims }));
        }
        let shape_at = self.pos;
        let mut raw = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            raw.push(i64::from_le_bytes(self.bytes()?));
        }
        let type_at = self.pos;
        let type_id = self.u32()?;
        let offset = self.u64()?;
        let bad_shape = |name: String| GgufError {
            offset: shape_at,
            kind: GgufErrorKind::BadShape {
                name,
                dims: raw.clone(),
            },
            path: None,
        };
        if raw.iter().any(|&d| d < 0) {
            return Err(bad_shape(name));
        }
        let ty = ggml_type(type_id).ok_or_else(|| GgufError {
            offset: type_at,
            kind: GgufErrorKind::UnknownTensorType {
                name: name.clone(),
                type_id,
            },
            path: None,
        })?;
        let dims: Vec<u64> = raw.iter().map(|&d| d as u64).collect();
        let ne0 = dims.first().copied().unwrap_or(1);
        let rest = dims
            .iter()
            .skip(1)
            .try_fold(1u64, |acc, &d| acc.checked_mul(d));
        let bytes = match (ty.row_bytes(ne0), rest) {
            (Some(row), Some(rest)) => row.checked_mul(rest),
            _ => None,
        };
        let bytes = bytes.filter(|_| {
            dims.iter()
                .try_fold(1u64, |a, &d| a.checked_mul(d))
                .is_some_and(|n| n <= i64::MAX as u64)
        });
        let Some(bytes) = bytes else {
            return Err(bad_shape(name));
        };
        Ok(TensorInfo {
            name,
            dims,
            type_id,
            offset,
            bytes,
        })
    }
}

fn pad(x: u64, align: u64) -> u64 {
    x.div_ceil(align).saturating_mul(align)
}
