//! KV cache element types: the one place that says which names exist, which are quantized,
//! which a server kind takes, and what "no type given" means (f16, the default of
//! llama.cpp's `--cache-type-k/-v` and of Ollama's `OLLAMA_KV_CACHE_TYPE`; docs/planner.md,
//! "The KV cache type policy").

use std::fmt;
use std::str::FromStr;

/// A KV cache element type llama.cpp accepts for `--cache-type-k/-v` (`common/arg.cpp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KvType {
    F32,
    F16,
    Bf16,
    Q8_0,
    Q4_0,
    Q4_1,
    Iq4Nl,
    Q5_0,
    Q5_1,
}

impl KvType {
    /// Every type, in llama.cpp's order.
    pub const ALL: [KvType; 9] = [
        KvType::F32,
        KvType::F16,
        KvType::Bf16,
        KvType::Q8_0,
        KvType::Q4_0,
        KvType::Q4_1,
        KvType::Iq4Nl,
        KvType::Q5_0,
        KvType::Q5_1,
    ];
    /// What a server uses when it is not told (llama.cpp, Ollama, LM Studio: f16).
    pub const DEFAULT: KvType = KvType::F16;
    /// The three types Ollama takes in `OLLAMA_KV_CACHE_TYPE` (its FAQ), which are also the
    /// planner's candidates, most precise first.
    pub const OLLAMA: [KvType; 3] = [KvType::F16, KvType::Q8_0, KvType::Q4_0];

    /// llama.cpp's name (`q8_0`).
    pub fn name(self) -> &'static str {
        match self {
            KvType::F32 => "f32",
            KvType::F16 => "f16",
            KvType::Bf16 => "bf16",
            KvType::Q8_0 => "q8_0",
            KvType::Q4_0 => "q4_0",
            KvType::Q4_1 => "q4_1",
            KvType::Iq4Nl => "iq4_nl",
            KvType::Q5_0 => "q5_0",
            KvType::Q5_1 => "q5_1",
        }
    }

    /// A block-quantized type: its V cache needs flash attention (llama.cpp refuses it
    /// without; Ollama before 0.30 silently falls back to f16, docs/ollama.md).
    pub fn is_quantized(self) -> bool {
        !matches!(self, KvType::F32 | KvType::F16 | KvType::Bf16)
    }

    /// Whether Ollama takes it in `OLLAMA_KV_CACHE_TYPE`.
    pub fn ollama_takes(self) -> bool {
        KvType::OLLAMA.contains(&self)
    }

    /// The type a server reports or was told (`None` or empty: the default, f16); `None`
    /// for a name that is no KV type.
    pub fn or_default(name: Option<&str>) -> Option<KvType> {
        match name.map(str::trim).filter(|n| !n.is_empty()) {
            None => Some(KvType::DEFAULT),
            Some(n) => n.parse().ok(),
        }
    }
}

impl FromStr for KvType {
    type Err = String;
    fn from_str(s: &str) -> Result<KvType, String> {
        let lower = s.trim().to_ascii_lowercase();
        KvType::ALL
            .into_iter()
            .find(|t| t.name() == lower)
            .ok_or_else(|| format!("unknown KV cache type {s:?}"))
    }
}

impl fmt::Display for KvType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name of the type a server uses when told `name` (`None` or empty: f16). An unknown
/// name is kept as given, lowercased.
pub fn name_or_default(name: Option<&str>) -> String {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        None => KvType::DEFAULT.name().to_string(),
        Some(n) => n.to_ascii_lowercase(),
    }
}

/// Whether the type named `name` is quantized (empty or unknown: no, as f16).
pub fn is_quantized(name: &str) -> bool {
    name.parse::<KvType>().is_ok_and(KvType::is_quantized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_llama_cpp() {
        for t in KvType::ALL {
            assert_eq!(t.name().parse::<KvType>(), Ok(t));
            assert!(crate::memory::CACHE_TYPES.contains(&t.name()));
        }
        assert_eq!(KvType::ALL.len(), crate::memory::CACHE_TYPES.len());
        assert_eq!(" Q8_0 ".parse::<KvType>(), Ok(KvType::Q8_0));
        assert!("q9".parse::<KvType>().is_err());
    }

    #[test]
    fn default_and_quantized() {
        assert_eq!(KvType::or_default(None), Some(KvType::F16));
        assert_eq!(KvType::or_default(Some(" ")), Some(KvType::F16));
        assert_eq!(KvType::or_default(Some("q4_0")), Some(KvType::Q4_0));
        assert_eq!(name_or_default(None), "f16");
        assert!(is_quantized("q8_0") && is_quantized("iq4_nl"));
        assert!(!is_quantized("f16") && !is_quantized("bf16") && !is_quantized(""));
        assert!(KvType::Q4_0.ollama_takes() && !KvType::Iq4Nl.ollama_takes());
    }
}
