//! LM Studio (https://lmstudio.ai/docs/developer/rest): `GET /api/v0/models` items carry `compatibility_type`/`state`, `GET /api/v1/models` lists `models` with `key`/`loaded_instances`, and `/v1/models` items are `owned_by: "organization_owner"`.
//!
//! Detection only for now: the live facts (models, served context) of this kind are
//! still to be written (one function next to this fingerprint).

use super::detect::{saw, Http, Verdict};

pub fn fingerprint(http: &mut Http) -> Verdict {
    if let Some(v) = http.json("/api/v0/models") {
        let items = v["data"].as_array().cloned().unwrap_or_default();
        if items
            .iter()
            .any(|m| m.get("compatibility_type").is_some() || m.get("state").is_some())
        {
            return Verdict::Match(
                "GET /api/v0/models lists models with compatibility_type/state".into(),
            );
        }
    }
    if let Some(v) = http.json("/api/v1/models") {
        let items = v["models"].as_array().cloned().unwrap_or_default();
        if items
            .iter()
            .any(|m| m.get("key").is_some() || m.get("loaded_instances").is_some())
        {
            return Verdict::Match(
                "GET /api/v1/models lists models with key/loaded_instances".into(),
            );
        }
    }
    if http.owners().iter().any(|o| o == "organization_owner") {
        return Verdict::Match(
            "GET /v1/models lists a model owned_by \"organization_owner\"".into(),
        );
    }
    Verdict::No(saw(http, "/api/v0/models"))
}
