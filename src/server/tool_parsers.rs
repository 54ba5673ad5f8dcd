//! vLLM's tool-call parsers by model family (docs/servers.md "vLLM tool calling").
//!
//! Claude Code sends tools with every request, and vLLM refuses a request with tools and
//! `"auto"` tool choice unless it was started with `--enable-auto-tool-choice
//! --tool-call-parser NAME` (HTTP 400 "\"auto\" tool choice requires
//! --enable-auto-tool-choice and --tool-call-parser to be set"). The parser must match the
//! model's tool-call format. Sources: vLLM's tool calling guide,
//! https://docs.vllm.ai/en/latest/features/tool_calling.html, and the parser registry of
//! vLLM 0.32.0 (`vllm/tool_parsers/__init__.py`), which every name below is checked against.

/// One row: a family, recognised by its `config.json` `model_type` or by words in the
/// model's name, and the parser for it.
pub struct ToolParser {
    /// `model_type` values of `config.json`.
    pub model_types: &'static [&'static str],
    /// Lower-case words of the model's name or path (any one matches).
    pub name_words: &'static [&'static str],
    pub parser: &'static str,
    pub family: &'static str,
}

/// In order: the first row that matches wins, so specific families come before general ones.
pub const PARSERS: &[ToolParser] = &[
    ToolParser {
        model_types: &[],
        name_words: &["qwen3-coder", "qwen3_coder"],
        parser: "qwen3_coder",
        family: "Qwen3-Coder",
    },
    ToolParser {
        model_types: &["qwen3", "qwen3_moe", "qwen2", "qwen2_moe"],
        name_words: &["qwen3", "qwen2.5", "qwq"],
        parser: "hermes",
        family: "Qwen2.5 / Qwen3",
    },
    ToolParser {
        model_types: &["gpt_oss"],
        name_words: &["gpt-oss"],
        parser: "openai",
        family: "gpt-oss",
    },
    ToolParser {
        model_types: &["llama4"],
        name_words: &["llama-4", "llama4"],
        parser: "llama4_pythonic",
        family: "Llama 4",
    },
    ToolParser {
        model_types: &[],
        name_words: &["llama-3", "llama3"],
        parser: "llama3_json",
        family: "Llama 3.1 / 3.2",
    },
    ToolParser {
        model_types: &["mistral", "mixtral", "ministral"],
        name_words: &["mistral", "mixtral", "devstral", "codestral"],
        parser: "mistral",
        family: "Mistral",
    },
    ToolParser {
        model_types: &[],
        name_words: &["deepseek-v3.1"],
        parser: "deepseek_v31",
        family: "DeepSeek-V3.1",
    },
    ToolParser {
        model_types: &["deepseek_v3"],
        name_words: &["deepseek-v3"],
        parser: "deepseek_v3",
        family: "DeepSeek-V3",
    },
    ToolParser {
        model_types: &["kimi_k2"],
        name_words: &["kimi-k2"],
        parser: "kimi_k2",
        family: "Kimi K2",
    },
    ToolParser {
        model_types: &["glm4_moe"],
        name_words: &["glm-4.5", "glm-4.6"],
        parser: "glm45",
        family: "GLM-4.5 / 4.6",
    },
    ToolParser {
        model_types: &["minimax_m2"],
        name_words: &["minimax-m2"],
        parser: "minimax_m2",
        family: "MiniMax-M2",
    },
    ToolParser {
        model_types: &["granitemoehybrid"],
        name_words: &["granite-4"],
        parser: "granite4",
        family: "Granite 4",
    },
    ToolParser {
        model_types: &["granite"],
        name_words: &["granite-3"],
        parser: "granite",
        family: "Granite 3",
    },
    ToolParser {
        model_types: &["internlm2"],
        name_words: &["internlm"],
        parser: "internlm",
        family: "InternLM 2.5",
    },
    ToolParser {
        model_types: &["jamba"],
        name_words: &["jamba"],
        parser: "jamba",
        family: "Jamba",
    },
    ToolParser {
        model_types: &["seed_oss"],
        name_words: &["seed-oss"],
        parser: "seed_oss",
        family: "Seed-OSS",
    },
    ToolParser {
        model_types: &["olmo3"],
        name_words: &["olmo-3"],
        parser: "olmo3",
        family: "OLMo 3",
    },
    ToolParser {
        model_types: &["gemma4", "gemma4_text"],
        name_words: &["gemma-4", "gemma4"],
        parser: "gemma4",
        family: "Gemma 4",
    },
    ToolParser {
        model_types: &[],
        name_words: &["functiongemma"],
        parser: "functiongemma",
        family: "FunctionGemma",
    },
    ToolParser {
        model_types: &[],
        name_words: &["xlam"],
        parser: "xlam",
        family: "xLAM",
    },
    ToolParser {
        model_types: &[],
        name_words: &["phi-4-mini"],
        parser: "phi4_mini_json",
        family: "Phi-4-mini",
    },
];

/// Hermes' `<tool_call>{json}</tool_call>` format: vLLM's general parser, for families
/// without one of their own (Gemma 3 among them).
pub const DEFAULT_PARSER: &str = "hermes";

/// The parser for a model: by its `config.json` `model_type` where known, else by its
/// name, else [`DEFAULT_PARSER`].
pub fn vllm_tool_parser(model_type: Option<&str>, name: &str) -> &'static str {
    let name = name.to_ascii_lowercase();
    let by_type = model_type.and_then(|t| PARSERS.iter().find(|p| p.model_types.contains(&t)));
    // A name word is more specific than a model type (Qwen3-Coder is a `qwen3_moe`).
    let by_name = PARSERS
        .iter()
        .position(|p| p.name_words.iter().any(|w| name.contains(w)));
    let by_type_pos = by_type.and_then(|t| PARSERS.iter().position(|p| std::ptr::eq(p, t)));
    match (by_name, by_type_pos) {
        (Some(n), Some(t)) => PARSERS[n.min(t)].parser,
        (Some(i), None) | (None, Some(i)) => PARSERS[i].parser,
        (None, None) => DEFAULT_PARSER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        assert_eq!(
            vllm_tool_parser(Some("qwen3_moe"), "/m/Qwen3-Coder-30B-A3B-Instruct"),
            "qwen3_coder"
        );
        assert_eq!(
            vllm_tool_parser(Some("qwen3_moe"), "/m/Qwen3-30B-A3B"),
            "hermes"
        );
        assert_eq!(
            vllm_tool_parser(None, "meta-llama/Llama-3.1-8B-Instruct"),
            "llama3_json"
        );
        assert_eq!(vllm_tool_parser(Some("llama4"), "x"), "llama4_pythonic");
        assert_eq!(
            vllm_tool_parser(None, "mistralai/Devstral-Small-2507"),
            "mistral"
        );
        assert_eq!(vllm_tool_parser(Some("gpt_oss"), "/models/a"), "openai");
        assert_eq!(
            vllm_tool_parser(Some("gemma3_text"), "/deps/models/gemma-3-270m"),
            "hermes"
        );
        assert_eq!(
            vllm_tool_parser(None, "deepseek-ai/DeepSeek-V3.1"),
            "deepseek_v31"
        );
    }

    #[test]
    fn every_parser_is_one_vllm_knows() {
        // vLLM 0.32.0's registry (vllm/tool_parsers/__init__.py), the names used here.
        const KNOWN: &[&str] = &[
            "deepseek_v3",
            "deepseek_v31",
            "glm45",
            "granite",
            "granite4",
            "hermes",
            "internlm",
            "jamba",
            "kimi_k2",
            "llama3_json",
            "llama4_pythonic",
            "minimax_m2",
            "mistral",
            "olmo3",
            "openai",
            "phi4_mini_json",
            "qwen3_coder",
            "seed_oss",
            "xlam",
            "functiongemma",
            "gemma4",
        ];
        for p in PARSERS {
            assert!(KNOWN.contains(&p.parser), "{}", p.parser);
        }
        assert!(KNOWN.contains(&DEFAULT_PARSER));
    }
}
