//! Builds a [`ModelDesc`] from metadata keys (GGUF header or Ollama `/api/show`).
//! Mirrors `llama_model::load_hparams` and the per-architecture `load_arch_hparams` of the
//! vendored llama.cpp; see `arch.rs` for the rule table.

use super::arch::{arch_rule, KvFromStart, RecurrentRule, SwaRule, NO_MEMORY_ARCHS};
use super::{Layer, ModelDesc};
use crate::error::{Error, Result};
use crate::gguf::{Array, GgufHeader, Value};

/// Where metadata values come from.
pub trait KvSource {
    fn value(&self, key: &str) -> Option<Value>;
}

impl KvSource for GgufHeader {
    fn value(&self, key: &str) -> Option<Value> {
        self.get(key).cloned()
    }
}

/// Ollama's `/api/show` `model_info`: the same keys as GGUF, JSON values.
impl KvSource for serde_json::Map<String, serde_json::Value> {
    fn value(&self, key: &str) -> Option<Value> {
        json_to_value(self.get(key)?)
    }
}

fn json_to_value(v: &serde_json::Value) -> Option<Value> {
    use serde_json::Value as J;
    Some(match v {
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::Uint(u)
            } else if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else {
                Value::Float(n.as_f64()?)
            }
        }
        J::String(s) => Value::String(s.clone()),
        J::Array(items) => {
            if items.iter().all(|x| x.is_boolean()) && !items.is_empty() {
                Value::Array(Array::Bools(
                    items.iter().filter_map(|x| x.as_bool()).collect(),
                ))
            } else if items.iter().all(|x| x.is_i64() || x.is_u64()) {
                Value::Array(Array::Ints(
                    items
                        .iter()
                        .map(|x| x.as_i64().unwrap_or(i64::MAX))
                        .collect(),
                ))
            } else if items.iter().all(|x| x.is_number()) {
                Value::Array(Array::Floats(
                    items.iter().filter_map(|x| x.as_f64()).collect(),
                ))
            } else {
                Value::Array(Array::Strings(
                    items
                        .iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect(),
                ))
            }
        }
        _ => return None,
    })
}

/// Upper bound on `block_count` accepted from a file (the largest real models have < 200).
const MAX_LAYERS: u64 = 65_536;

struct Keys<'a> {
    src: &'a dyn KvSource,
    arch: String,
    n: usize,
}

impl Keys<'_> {
    fn key(&self, k: &str) -> String {
        format!("{}.{}", self.arch, k)
    }
    fn u(&self, k: &str) -> Result<Option<u64>> {
        match self.src.value(&self.key(k)) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| bad(&self.key(k), "a non-negative integer", &v)),
        }
    }
    fn u32(&self, k: &str) -> Result<Option<u32>> {
        match self.u(k)? {
            None => Ok(None),
            Some(v) => u32::try_from(v).map(Some).map_err(|_| {
                Error::parse(format!("metadata key {} = {v} is too large", self.key(k)))
            }),
        }
    }
    /// A scalar repeated over all layers, or a per-layer array of exactly `n` values.
    fn per_layer(&self, k: &str) -> Result<Option<Vec<u32>>> {
        let key = self.key(k);
        match self.src.value(&key) {
            None => Ok(None),
            Some(Value::Array(Array::Ints(v))) => {
                if v.len() != self.n {
                    return Err(Error::parse(format!(
                        "metadata key {key} has {} values, expected one per layer ({})",
                        v.len(),
                        self.n
                    )));
                }
                v.iter()
                    .map(|&x| {
                        u32::try_from(x).map_err(|_| {
                            Error::parse(format!("metadata key {key} has an invalid value {x}"))
                        })
                    })
                    .collect::<Result<Vec<_>>>()
                    .map(Some)
            }
            Some(v) => match v.as_u64().and_then(|x| u32::try_from(x).ok()) {
                Some(x) => Ok(Some(vec![x; self.n])),
                None => Err(bad(&key, "an integer or a per-layer integer array", &v)),
            },
        }
    }
    /// A per-layer bool array (`sliding_window_pattern`, `recurrent_layers`).
    fn bools(&self, k: &str) -> Result<Option<Vec<bool>>> {
        let key = self.key(k);
        let v = match self.src.value(&key) {
            Some(Value::Array(Array::Bools(v))) => v,
            Some(Value::Array(Array::Ints(v))) => v.iter().map(|&x| x != 0).collect(),
            _ => return Ok(None),
        };
        if v.len() != self.n {
            return Err(Error::parse(format!(
                "metadata key {key} has {} values, expected one per layer ({})",
                v.len(),
                self.n
            )));
        }
        Ok(Some(v))
    }
}

fn bad(key: &str, expected: &str, found: &Value) -> Error {
    Error::parse(format!(
        "metadata key {key} should be {expected}, found {found:?}"
    ))
}

/// Describes a model from its metadata. `weights` and `token_embd` are the tensor byte
/// totals (0 when unknown).
pub fn describe(
    src: &dyn KvSource,
    name: &str,
    weights: u64,
    token_embd: u64,
) -> Result<ModelDesc> {
    let arch = src
        .value("general.architecture")
        .and_then(|v| v.as_str().map(String::from))
        .ok_or_else(|| {
            Error::parse("the model has no general.architecture key").with_subject(name.to_string())
        })?;
    let mut k = Keys {
        src,
        arch: arch.clone(),
        n: 0,
    };
    let missing = |key: &str| {
        Error::parse(format!("the model has no {key} key"))
            .with_subject(name.to_string())
            .with_hint(
                "the file is not a complete llama.cpp model, or its architecture is not supported",
            )
    };
    let block_count = k
        .u("block_count")?
        .ok_or_else(|| missing(&k.key("block_count")))?;
    if block_count == 0 || block_count > MAX_LAYERS {
        return Err(Error::parse(format!(
            "{} = {block_count} is out of range (1..={MAX_LAYERS})",
            k.key("block_count")
        )));
    }
    k.n = block_count as usize;
    let n_all = block_count as u32;
    let context_length = k
        .u("context_length")?
        .ok_or_else(|| missing(&k.key("context_length")))?;
    let n_embd = k.u("embedding_length")?.unwrap_or(0);
    let n_head = k
        .per_layer("attention.head_count")?
        .unwrap_or_else(|| vec![0; k.n]);
    let n_head_kv = k
        .per_layer("attention.head_count_kv")?
        .unwrap_or_else(|| n_head.clone());
    let nextn = k.u32("nextn_predict_layers")?.unwrap_or(0);
    if nextn >= n_all {
        return Err(Error::parse(format!(
            "{} = {nextn} is not below block_count {n_all}",
            k.key("nextn_predict_layers")
        )));
    }
    let n_layer = n_all - nextn;
    let head0 = n_head[0] as u64;
    let default_hd = n_embd.checked_div(head0).unwrap_or(0) as u32;
    let hd_k = k.u32("attention.key_length")?.unwrap_or(default_hd);
    let hd_v = k.u32("attention.value_length")?.unwrap_or(default_hd);
    let hd_k_swa = k.u32("attention.key_length_swa")?.unwrap_or(hd_k);
    let hd_v_swa = k.u32("attention.value_length_swa")?.unwrap_or(hd_v);
    let k_mla = k.u32("attention.key_length_mla")?.unwrap_or(0);
    let v_mla = k.u32("attention.value_length_mla")?.unwrap_or(0);
    let is_mla = k_mla != 0 && v_mla != 0;

    let rule = arch_rule(&arch);
    let no_memory = NO_MEMORY_ARCHS.contains(&arch.as_str());

    // Recurrent layers.
    let ff = k
        .per_layer("feed_forward_length")?
        .unwrap_or_else(|| vec![0; k.n]);
    let recurrent: Vec<bool> = match rule.recurrent {
        RecurrentRule::None => vec![false; k.n],
        RecurrentRule::AllNoKv | RecurrentRule::AllWithKv => vec![true; k.n],
        RecurrentRule::Interval => match k.bools("attention.recurrent_layers")? {
            Some(v) => v,
            None => {
                let interval = k.u32("full_attention_interval")?.unwrap_or(4);
                if interval == 0 {
                    return Err(Error::parse(format!(
                        "{} must not be 0",
                        k.key("full_attention_interval")
                    )));
                }
                (0..n_all)
                    .map(|il| il < n_layer && (il + 1) % interval != 0)
                    .collect()
            }
        },
        RecurrentRule::HeadKvZero => n_head_kv.iter().map(|&h| h == 0).collect(),
        RecurrentRule::NemotronH => (0..k.n)
            .map(|il| (il as u32) < n_layer && n_head_kv[il] == 0 && ff[il] == 0)
            .collect(),
    };

    // Sliding-window layers and window.
    let window_key = k.u32("attention.sliding_window")?;
    let (sliding_window, swa): (u32, Vec<bool>) = match rule.swa {
        SwaRule::None => (0, vec![false; k.n]),
        SwaRule::Period {
            period,
            dense_first,
            window,
            needs_key,
        } => {
            let w = window_key.unwrap_or(window);
            if (needs_key && window_key.unwrap_or(0) == 0) || w == 0 {
                (0, vec![false; k.n])
            } else if let Some(v) = k.bools("attention.sliding_window_pattern")? {
                (w, v)
            } else {
                let p = k.u32("attention.sliding_window_pattern")?.unwrap_or(period);
                let is = |il: u32| {
                    il < n_layer
                        && (p == 0
                            || if dense_first {
                                il % p != 0
                            } else {
                                il % p < p - 1
                            })
                };
                (w, (0..n_all).map(is).collect())
            }
        }
        SwaRule::BoolArray => match (k.bools("attention.sliding_window_pattern")?, window_key) {
            (Some(v), Some(w)) if w > 0 => (w, v),
            _ => (0, vec![false; k.n]),
        },
        SwaRule::AllAttention => match window_key {
            Some(w) if w > 0 => (w, recurrent.iter().map(|r| !r).collect()),
            _ => (0, vec![false; k.n]),
        },
    };

    // Which layers have a KV cache.
    let kv_limit = match rule.kv_from_start {
        KvFromStart::All => n_all,
        KvFromStart::Fixed(n) => n.min(n_all),
        KvFromStart::SharedKvLayers => {
            n_all.saturating_sub(k.u32("attention.shared_kv_layers")?.unwrap_or(0))
        }
    };
    let hybrid = !matches!(rule.recurrent, RecurrentRule::None | RecurrentRule::AllNoKv);
    let has_kv = |il: usize| -> bool {
        let ilu = il as u32;
        if no_memory || rule.recurrent == RecurrentRule::AllNoKv || ilu >= kv_limit {
            return false;
        }
        match rule.recurrent {
            RecurrentRule::AllWithKv => true,
            RecurrentRule::NemotronH => !recurrent[il] && ff[il] == 0,
            RecurrentRule::Interval => ilu < n_layer && !recurrent[il],
            _ if hybrid => !recurrent[il],
            _ => ilu < n_layer,
        }
    };
    let layers: Vec<Layer> = (0..k.n)
        .map(|il| {
            let (hk, hv) = if swa[il] {
                (hd_k_swa, hd_v_swa)
            } else {
                (hd_k, hd_v)
            };
            let h = n_head_kv[il];
            Layer {
                kv: has_kv(il),
                swa: swa[il],
                recurrent: recurrent[il] && !no_memory,
                n_head_kv: h,
                k_width: hk as u64 * h as u64,
                v_width: if is_mla { 0 } else { hv as u64 * h as u64 },
            }
        })
        .collect();

    // Recurrent state widths (llama_hparams::n_embd_r / n_embd_s).
    let wkv = k.u("wkv.head_size")?.unwrap_or(0);
    let l_cache = k.u("shortconv.l_cache")?.unwrap_or(0);
    let kda = k.u("kda.head_dim")?.unwrap_or(0);
    let d_conv = k.u("ssm.conv_kernel")?.unwrap_or(0);
    let d_inner = k.u("ssm.inner_size")?.unwrap_or(0);
    let d_state = k.u("ssm.state_size")?.unwrap_or(0);
    let n_group = k.u("ssm.group_count")?.unwrap_or(0);
    let token_shift = k.u("token_shift_count")?.unwrap_or(2);
    let sat = |a: u64, b: u64| a.saturating_mul(b);
    let n_embd_r = if wkv != 0 {
        sat(token_shift, n_embd)
    } else if l_cache != 0 {
        sat(n_embd, l_cache - 1)
    } else if kda != 0 {
        sat(
            sat(3, if d_conv > 0 { d_conv - 1 } else { 3 }),
            sat(head0, kda),
        )
    } else {
        sat(
            d_conv.saturating_sub(1),
            d_inner.saturating_add(sat(sat(2, n_group), d_state)),
        )
    };
    let n_embd_s = if wkv != 0 {
        sat(n_embd, wkv)
    } else if kda != 0 {
        sat(sat(kda, kda), head0)
    } else {
        sat(d_state, d_inner)
    };

    let vocab_size = k
        .u("vocab_size")?
        .or_else(|| match src.value("tokenizer.ggml.tokens") {
            Some(Value::Array(a)) => Some(a.len()),
            _ => None,
        });
    let approximate = if rule.approximate {
        Some(format!(
            "the {arch} architecture uses a cache layout cclocal sizes only approximately"
        ))
    } else if !no_memory && layers.iter().all(|l| !l.kv) && !layers.iter().any(|l| l.recurrent) {
        Some(format!("no KV layers were found for architecture {arch}"))
    } else {
        None
    };

    Ok(ModelDesc {
        name: name.to_string(),
        architecture: arch,
        block_count: n_all,
        n_layer,
        context_length,
        embedding_length: n_embd,
        vocab_size,
        n_head: n_head[0],
        key_length: hd_k,
        value_length: hd_v,
        is_mla,
        sliding_window,
        nextn_predict_layers: nextn,
        layers,
        n_embd_r,
        n_embd_s,
        weights_bytes: weights,
        token_embd_bytes: token_embd,
        approximate,
    })
}
