//! The model Claude Code will use on LM Studio, vLLM or an MLX server: the context the
//! server reports for it, its trained maximum, and for an LM Studio GGUF on this machine
//! its memory at that context and the planner's context (docs/servers.md "LM Studio").

use super::model::llama_model_facts;
use crate::doctor::facts::{ContextSource, MachineFacts, ModelFacts};
use crate::server::backend::{BackendFacts, BackendModel};
use crate::server::llama_server::LlamaFacts;
use crate::server::{lmstudio, ServerKind};
use std::path::Path;

/// The model a request for `main` reaches (else the one loaded model), described.
pub fn backend_model_facts(
    b: &BackendFacts,
    kind: Option<ServerKind>,
    main: Option<&str>,
    machine: &MachineFacts,
    local: bool,
    home: Option<&Path>,
) -> Option<ModelFacts> {
    let loaded: Vec<&BackendModel> = b.loaded().collect();
    let m = main
        .and_then(|n| b.find(n))
        .or_else(|| (loaded.len() == 1).then(|| loaded[0]))?;
    let mut f = ModelFacts {
        name: m.id.clone(),
        trained_context: m.trained_context,
        served_context: m.context.filter(|_| m.loaded),
        served_context_source: m.context.filter(|_| m.loaded).map(|_| ContextSource::Live),
        format: m.format.clone(),
        ..Default::default()
    };
    if kind != Some(ServerKind::LmStudio) || !local {
        return Some(f);
    }
    let Some(gguf) = home.and_then(|h| lmstudio::local_gguf(m, &lmstudio::models_dir(h))) else {
        return Some(f);
    };
    let l = LlamaFacts {
        model_path: Some(gguf.display().to_string()),
        slot_context: f.served_context,
        total_slots: Some(1),
        trained_context: m.trained_context,
        ..Default::default()
    };
    let described = llama_model_facts(&l, None, machine, true, ServerKind::LmStudio);
    f.gguf_path = described.gguf_path;
    f.architecture = described.architecture;
    f.trained_context = described.trained_context.or(f.trained_context);
    f.weights_bytes = described.weights_bytes;
    f.memory = described.memory;
    f.error = described.error;
    if let (Some(budget), Ok((desc, _))) = (
        machine.budget.as_ref(),
        crate::model::load_model(&gguf.display().to_string()),
    ) {
        let kv = crate::planner::kinds::planned_kv_type(ServerKind::LmStudio).map(|t| t.name());
        f.planned_context = crate::setup::context::planned(&desc, kv, true, budget, None)
            .ok()
            .and_then(|p| crate::setup::context::decide(&p, &desc, budget).ok())
            .map(|(c, _)| c);
    }
    Some(f)
}
