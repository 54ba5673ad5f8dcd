//! What the planner assumes per server kind, as data (docs/planner.md, "Per server kind"):
//! which KV cache types cclocal can set, the type served when it cannot set one, whether
//! cclocal plans the memory, and the context asked for when nothing better is known.

use super::kv::KvType;
use super::RECOMMENDED_CONTEXT;
use crate::server::ServerKind;

/// The planner's defaults for one server kind.
#[derive(Debug, Clone, Copy)]
pub struct KindDefaults {
    pub kind: ServerKind,
    /// The KV cache types cclocal can tell this kind to use (empty: none; the server uses
    /// [`KindDefaults::kv_type`]).
    pub kv_types: &'static [KvType],
    /// The cache type the planner plans with when the user names none and cclocal cannot
    /// set one (`None`: the planner's policy picks among `kv_types`).
    pub kv_type: Option<KvType>,
    /// Whether cclocal plans the memory (the rest size their KV cache themselves).
    pub plans_memory: bool,
    /// The context asked for when the memory cannot be planned (64K: Ollama's Claude Code
    /// page asks for at least that), capped at the model's trained context.
    pub fallback_context: u64,
    /// Where the kind's KV behaviour is documented.
    pub source: &'static str,
}

const LLAMA_CPP: &[KvType] = &KvType::ALL;
const OLLAMA: &[KvType] = &KvType::OLLAMA;

/// One row per kind (the kinds table is `crate::server::KINDS`).
pub const KIND_DEFAULTS: &[KindDefaults] = &[
    KindDefaults {
        kind: ServerKind::Ollama,
        kv_types: OLLAMA,
        kv_type: None,
        plans_memory: true,
        fallback_context: RECOMMENDED_CONTEXT,
        source: "https://github.com/ollama/ollama/blob/main/docs/faq.md (OLLAMA_KV_CACHE_TYPE)",
    },
    KindDefaults {
        kind: ServerKind::LlamaServer,
        kv_types: LLAMA_CPP,
        kv_type: None,
        plans_memory: true,
        fallback_context: RECOMMENDED_CONTEXT,
        source: "https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md",
    },
    // `lms load` takes a context but no KV cache type: LM Studio's llama.cpp engine serves
    // f16 unless its per-model settings say otherwise.
    KindDefaults {
        kind: ServerKind::LmStudio,
        kv_types: &[],
        kv_type: Some(KvType::F16),
        plans_memory: true,
        fallback_context: RECOMMENDED_CONTEXT,
        source: "https://lmstudio.ai/docs/cli/load",
    },
    KindDefaults {
        kind: ServerKind::Vllm,
        kv_types: &[],
        kv_type: None,
        plans_memory: false,
        fallback_context: RECOMMENDED_CONTEXT,
        source: "docs/servers.md (vLLM)",
    },
    KindDefaults {
        kind: ServerKind::VllmMlx,
        kv_types: &[],
        kv_type: None,
        plans_memory: false,
        fallback_context: RECOMMENDED_CONTEXT,
        source: "docs/servers.md (vllm-mlx)",
    },
    KindDefaults {
        kind: ServerKind::Omlx,
        kv_types: &[],
        kv_type: None,
        plans_memory: false,
        fallback_context: RECOMMENDED_CONTEXT,
        source: "docs/servers.md (oMLX)",
    },
    KindDefaults {
        kind: ServerKind::MlxLm,
        kv_types: &[],
        kv_type: None,
        plans_memory: false,
        fallback_context: RECOMMENDED_CONTEXT,
        source: "docs/servers.md (mlx_lm.server)",
    },
    KindDefaults {
        kind: ServerKind::Unknown,
        kv_types: &[],
        kv_type: None,
        plans_memory: false,
        fallback_context: RECOMMENDED_CONTEXT,
        source: "docs/planner.md",
    },
];

/// The row of `kind`.
pub fn defaults(kind: ServerKind) -> &'static KindDefaults {
    KIND_DEFAULTS
        .iter()
        .find(|d| d.kind == kind)
        .expect("every kind has a row")
}

/// The cache type the planner plans `kind` with when the user names none: the kind's own
/// where cclocal cannot set one (LM Studio's f16), else `None` (the policy's choice).
pub fn planned_kv_type(kind: ServerKind) -> Option<KvType> {
    defaults(kind).kv_type
}

/// Whether the planner knows the KV cache type `kind` serves: one cclocal sets, or the
/// kind's own (LM Studio's f16). vLLM and the MLX servers choose theirs (vLLM's `auto` is
/// the model's dtype), so no command names one for them.
pub fn knows_kv_type(kind: ServerKind) -> bool {
    let d = defaults(kind);
    !d.kv_types.is_empty() || d.kv_type.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_row() {
        for k in crate::server::KINDS.iter().map(|k| k.kind) {
            assert_eq!(
                KIND_DEFAULTS.iter().filter(|d| d.kind == k).count(),
                1,
                "{k:?}"
            );
        }
        assert_eq!(planned_kv_type(ServerKind::LmStudio), Some(KvType::F16));
        assert_eq!(planned_kv_type(ServerKind::Ollama), None);
        assert!(!defaults(ServerKind::Vllm).plans_memory);
        for k in [
            ServerKind::Ollama,
            ServerKind::LlamaServer,
            ServerKind::LmStudio,
        ] {
            assert!(knows_kv_type(k), "{k:?}");
        }
        for k in [
            ServerKind::Vllm,
            ServerKind::VllmMlx,
            ServerKind::MlxLm,
            ServerKind::Omlx,
        ] {
            assert!(!knows_kv_type(k), "{k:?}");
        }
    }
}
