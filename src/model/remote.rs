//! A model's description from its local file or, failing that, from the server that has
//! it (`/api/show`, with the weights' size from `/api/tags`): what `plan`, `setup` and the
//! wizard plan from.

use super::{describe, load_model, ModelDesc, ModelSource};
use crate::error::Result;
use std::time::Duration;

/// Where a model's description came from.
#[derive(Debug, Clone)]
pub struct Described {
    pub desc: ModelDesc,
    /// `the local model file` or `<server>/api/show`.
    pub from: String,
    /// The local files, when the model was read from them.
    pub source: Option<ModelSource>,
}

/// Describes `model` from its local file (GGUF path or the Ollama store), or else from the
/// server's `/api/show` (weights from `/api/tags`).
pub fn describe_model(model: &str, server: Option<&str>) -> Result<Described> {
    let local_err = match load_model(model) {
        Ok((desc, source)) => {
            return Ok(Described {
                desc,
                from: "the local model file".into(),
                source: Some(source),
            })
        }
        Err(e) => e,
    };
    // Only a model name missing from the local store is asked of the server: a bad path or
    // a malformed name is the answer.
    let by_name = matches!(
        crate::model::resolve_model_arg(model),
        crate::model::ModelArg::Ollama(_)
    );
    let (true, crate::error::ErrorKind::NotFound, Some(base)) = (by_name, local_err.kind, server)
    else {
        return Err(local_err);
    };
    let budget = Duration::from_secs(5);
    let shown = match crate::server::api::show(base, model, budget) {
        Ok(s) => s,
        // The server answered and does not have it either: say both.
        Err(e) if e.kind == crate::error::ErrorKind::NotFound => {
            let names: Vec<String> = crate::server::api::list_models(base, budget)
                .map(|m| m.into_iter().map(|(n, _)| n).collect())
                .unwrap_or_default();
            let mut err = local_err;
            err.message = format!(
                "{}; the server at {base} does not have it either{}",
                err.message,
                if names.is_empty() {
                    String::new()
                } else {
                    format!(" (it has: {})", crate::units::list_some(&names))
                }
            );
            return Err(err);
        }
        Err(_) => return Err(local_err),
    };
    let size = crate::server::api::list_models(base, budget)
        .ok()
        .and_then(|m| {
            m.into_iter()
                .find(|(n, _)| crate::server::same_model(n, model))
                .map(|(_, s)| s)
        })
        .unwrap_or(0);
    let desc = describe(&shown.model_info, model, size, 0)?;
    Ok(Described {
        desc,
        from: format!("{base}/api/show"),
        source: None,
    })
}
