//! Architecture rules: which layers of a model keep a KV cache, which are sliding-window,
//! which carry recurrent state. Data, not scattered `if`s.
//!
//! Source: the llama.cpp that `llama-cpp-sys-2 0.1.161` vendors —
//! `src/llama-arch.cpp` (`llm_arch_is_recurrent`, `llm_arch_is_hybrid`),
//! `src/llama-model.cpp` (`create_memory`, the hybrid layer filters, `load_swa_pattern`),
//! `src/models/<arch>.cpp` (`load_arch_hparams`: SWA periods, default windows, recurrent
//! layer rules). Summary in `docs/llama-memory.md` (which layers keep what; SWA).

/// How the sliding-window layers of an architecture are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwaRule {
    /// No sliding-window attention.
    None,
    /// `sliding_window_pattern` bool array, else a period (u32 key or this default):
    /// `is_swa = il % n < n - 1` (dense last) or `il % n != 0` (dense first).
    /// `window`: default window when the key is absent; `needs_key`: SWA only when the
    /// `sliding_window` key is present and non-zero.
    Period {
        period: u32,
        dense_first: bool,
        window: u32,
        needs_key: bool,
    },
    /// Only the per-layer bool array `sliding_window_pattern` says which layers are SWA.
    BoolArray,
    /// Every attention (non-recurrent) layer is SWA when `sliding_window > 0` (lfm2).
    AllAttention,
}

/// How the recurrent layers of an architecture are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecurrentRule {
    /// A pure attention model.
    None,
    /// Every layer is recurrent and there is no KV cache (mamba, rwkv).
    AllNoKv,
    /// Every layer has both a KV cache and recurrent state (falcon-h1).
    AllWithKv,
    /// `attention.recurrent_layers` array, else `(il+1) % full_attention_interval != 0`
    /// (default interval 4) for `il < n_layer` (qwen3next, qwen35, minimax-01 …).
    Interval,
    /// Recurrent where `head_count_kv(il) == 0` (jamba, granitehybrid, lfm2, plamo2 …).
    HeadKvZero,
    /// Recurrent where `head_count_kv(il) == 0 && feed_forward_length(il) == 0`; attention
    /// where `head_count_kv(il) > 0 && feed_forward_length(il) == 0`; MLP-only layers have
    /// neither (nemotron_h).
    NemotronH,
}

/// Which layers at the end of the stack reuse earlier layers' KV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvFromStart {
    All,
    /// Only the first N layers have KV (gemma3n: 20).
    Fixed(u32),
    /// `block_count - attention.shared_kv_layers` (gemma4).
    SharedKvLayers,
}

#[derive(Debug, Clone, Copy)]
pub struct ArchRule {
    pub names: &'static [&'static str],
    pub swa: SwaRule,
    pub recurrent: RecurrentRule,
    pub kv_from_start: KvFromStart,
    /// The memory layout is a bespoke cache (DSA indexer, MSA, DeepSeek-V4) that cclocal
    /// sizes only approximately.
    pub approximate: bool,
}

const fn rule(names: &'static [&'static str], swa: SwaRule, recurrent: RecurrentRule) -> ArchRule {
    ArchRule {
        names,
        swa,
        recurrent,
        kv_from_start: KvFromStart::All,
        approximate: false,
    }
}

const fn period(period: u32, dense_first: bool, window: u32, needs_key: bool) -> SwaRule {
    SwaRule::Period {
        period,
        dense_first,
        window,
        needs_key,
    }
}

use RecurrentRule as R;

/// The rule table. An architecture not listed is a plain attention model.
pub const ARCH_RULES: &[ArchRule] = &[
    rule(&["gemma2"], period(2, false, 4096, false), R::None),
    rule(&["gemma3"], period(6, false, 0, true), R::None),
    ArchRule {
        kv_from_start: KvFromStart::Fixed(20),
        ..rule(&["gemma3n"], period(5, false, 0, false), R::None)
    },
    ArchRule {
        kv_from_start: KvFromStart::SharedKvLayers,
        ..rule(&["gemma4"], SwaRule::BoolArray, R::None)
    },
    rule(&["gemma-embedding"], period(6, false, 0, false), R::None),
    rule(
        &["gpt-oss", "openai-moe"],
        period(2, false, 0, false),
        R::None,
    ),
    rule(&["cohere2"], period(4, false, 0, false), R::None),
    rule(&["cohere2moe"], period(4, true, 0, false), R::None),
    rule(&["llama4"], period(4, false, 8192, false), R::None),
    rule(&["exaone4"], period(4, false, 4096, true), R::None),
    rule(&["exaone-moe"], period(4, false, 128, false), R::None),
    rule(
        &["olmo2", "mellum", "afmoe", "muse-glimmer"],
        period(4, false, 0, true),
        R::None,
    ),
    rule(&["smallthinker"], period(4, true, 4096, true), R::None),
    rule(&["laguna"], period(4, true, 0, true), R::None),
    rule(&["plamo3"], period(8, false, 0, true), R::None),
    rule(
        &[
            "granite-swa",
            "step35",
            "mimo2",
            "maple",
            "dots3note",
            "spark2-5",
        ],
        SwaRule::BoolArray,
        R::None,
    ),
    rule(
        &["mamba", "mamba2", "rwkv6", "rwkv6qwen2", "rwkv7", "arwkv7"],
        SwaRule::None,
        R::AllNoKv,
    ),
    rule(&["falcon-h1"], SwaRule::None, R::AllWithKv),
    rule(
        &["qwen3next", "qwen35", "qwen35moe", "minimax-01"],
        SwaRule::None,
        R::Interval,
    ),
    ArchRule {
        approximate: true,
        ..rule(&["qwen4exp"], SwaRule::None, R::Interval)
    },
    rule(
        &[
            "jamba",
            "granitehybrid",
            "plamo2",
            "lfm2moe",
            "kimi-linear",
            "bailingmoe3",
        ],
        SwaRule::None,
        R::HeadKvZero,
    ),
    rule(&["lfm2"], SwaRule::AllAttention, R::HeadKvZero),
    rule(
        &["nemotron_h", "nemotron_h_moe"],
        SwaRule::None,
        R::NemotronH,
    ),
    ArchRule {
        approximate: true,
        ..rule(&["kimi-k3", "glm5-next"], SwaRule::None, R::HeadKvZero)
    },
    ArchRule {
        approximate: true,
        ..rule(
            &["deepseek32", "glm-dsa", "deepseek4", "minimax-m3", "hy-v4"],
            SwaRule::None,
            R::None,
        )
    },
];

const PLAIN: ArchRule = rule(&[], SwaRule::None, R::None);

/// The rule for a `general.architecture` name.
pub fn arch_rule(arch: &str) -> &'static ArchRule {
    ARCH_RULES
        .iter()
        .find(|r| r.names.contains(&arch))
        .unwrap_or(&PLAIN)
}

/// Architectures without any KV/recurrent memory in llama.cpp (encoders, diffusion).
pub const NO_MEMORY_ARCHS: &[&str] = &[
    "bert",
    "jina-bert-v2",
    "jina-bert-v3",
    "nomic-bert",
    "nomic-bert-moe",
    "neo-bert",
    "eurobert",
    "wavtokenizer-dec",
    "modern-bert",
    "gemma-embedding",
    "dream",
    "llada",
    "llada-moe",
    "rnd1",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut all: Vec<&str> = ARCH_RULES
            .iter()
            .flat_map(|r| r.names.iter().copied())
            .collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
    }

    #[test]
    fn lookup() {
        assert_eq!(arch_rule("qwen3next").recurrent, R::Interval);
        assert_eq!(arch_rule("llama").swa, SwaRule::None);
        assert!(matches!(
            arch_rule("gemma3").swa,
            SwaRule::Period { period: 6, .. }
        ));
    }
}
