//! LM Studio (https://lmstudio.ai/docs/developer/rest): `GET /api/v0/models` items carry `compatibility_type`/`state`, `GET /api/v1/models` lists `models` with `key`/`loaded_instances`, and `/v1/models` items are `owned_by: "organization_owner"`.
//!
//! Its live facts: the models and the context each loaded instance has (`/api/v1/models`,
//! `/api/v0/models`, `lms ps --json`), docs/servers.md "LM Studio".

// How `cclocal setup` runs this kind (its serve line, start script or service file) and
// the doctor's restart fix.
pub mod serve;

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

use super::backend::{unexpected, BackendFacts, BackendModel};
use super::{InstalledModel, Presence, ServerKind, ServerProbe};
use crate::server::http::Client;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Models from `GET /api/v1/models` (LM Studio ≥ 0.4.0): one entry per loaded instance
/// (its `id` is the name requests use; `config.context_length` its context), and one per
/// downloaded model that is not loaded.
pub fn from_api_v1(v: &Value) -> Option<Vec<BackendModel>> {
    let items = v["models"].as_array()?;
    let mut out = Vec::new();
    for m in items {
        if m["type"].as_str().is_some_and(|t| t != "llm" && t != "vlm") {
            continue;
        }
        let Some(key) = m["key"].as_str() else {
            continue;
        };
        let base = BackendModel {
            id: key.to_string(),
            key: Some(key.to_string()),
            format: m["format"].as_str().map(String::from),
            trained_context: m["max_context_length"].as_u64(),
            ..Default::default()
        };
        let instances = m["loaded_instances"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if instances.is_empty() {
            out.push(base.clone());
        }
        for i in instances {
            out.push(BackendModel {
                id: i["id"].as_str().unwrap_or(key).to_string(),
                loaded: true,
                context: i["config"]["context_length"].as_u64(),
                ..base.clone()
            });
        }
    }
    Some(out)
}

/// Models from `GET /api/v0/models` (LM Studio ≥ 0.3.6): `state: "loaded"` entries carry
/// `loaded_context_length`.
pub fn from_api_v0(v: &Value) -> Option<Vec<BackendModel>> {
    let items = v["data"].as_array()?;
    Some(
        items
            .iter()
            .filter(|m| {
                m["type"]
                    .as_str()
                    .map_or(true, |t| t == "llm" || t == "vlm")
            })
            .filter_map(|m| {
                let id = m["id"].as_str()?;
                Some(BackendModel {
                    id: id.to_string(),
                    key: Some(id.to_string()),
                    format: m["compatibility_type"].as_str().map(String::from),
                    loaded: m["state"].as_str() == Some("loaded"),
                    context: m["loaded_context_length"].as_u64(),
                    trained_context: m["max_context_length"].as_u64(),
                    path: None,
                })
            })
            .collect(),
    )
}

/// Models from `lms ps --json` (the loaded ones): `identifier`, `modelKey`, `format`,
/// `path`, `contextLength`, `maxContextLength`.
pub fn from_lms_ps(v: &Value) -> Option<Vec<BackendModel>> {
    let items = v.as_array()?;
    Some(
        items
            .iter()
            .filter(|m| m["type"].as_str().map_or(true, |t| t == "llm"))
            .filter_map(|m| {
                let id = m["identifier"].as_str().or(m["modelKey"].as_str())?;
                Some(BackendModel {
                    id: id.to_string(),
                    key: m["modelKey"].as_str().map(String::from),
                    format: m["format"].as_str().map(String::from),
                    loaded: true,
                    context: m["contextLength"].as_u64(),
                    trained_context: m["maxContextLength"].as_u64(),
                    path: m["path"]
                        .as_str()
                        .filter(|p| !p.is_empty())
                        .map(String::from),
                })
            })
            .collect(),
    )
}

/// Adds what `lms ps` knows (the model's path, and the context where the REST API had none)
/// to the loaded models the REST API listed; instances only `lms` lists are added.
pub fn merge_lms(models: &mut Vec<BackendModel>, ps: Vec<BackendModel>) {
    for p in ps {
        match models.iter_mut().find(|m| m.loaded && m.id == p.id) {
            Some(m) => {
                m.path = m.path.take().or(p.path);
                m.context = m.context.or(p.context);
                m.trained_context = m.trained_context.or(p.trained_context);
                m.format = m.format.take().or(p.format);
            }
            None => {
                models.retain(|m| m.loaded || !m.answers_to(p.load_key()));
                models.push(p);
            }
        }
    }
}

/// LM Studio's home: the folder named in `~/.lmstudio-home-pointer`, else
/// `~/.cache/lm-studio` when it exists, else `~/.lmstudio` (lmstudio-js
/// `findLMStudioHome.ts`; docs/servers.md).
pub fn home_dir(home: &Path) -> PathBuf {
    if let Ok(p) =
        crate::fsread::read_to_string(&home.join(".lmstudio-home-pointer"), crate::fsread::SMALL)
    {
        let p = p.trim();
        if !p.is_empty() {
            return PathBuf::from(p);
        }
    }
    let cache = home.join(".cache/lm-studio");
    if cache.is_dir() {
        return cache;
    }
    home.join(".lmstudio")
}

/// LM Studio's default models folder (`<home>/models`).
pub fn models_dir(home: &Path) -> PathBuf {
    home_dir(home).join("models")
}

/// The GGUF file of a loaded LM Studio model on this machine: `path` as `lms ps` gives
/// it (absolute, or relative to the models folder; a folder's first `.gguf`), else the
/// folder named by the model key under the models folder. `None` for MLX models and
/// when nothing is found.
pub fn local_gguf(m: &BackendModel, models: &Path) -> Option<PathBuf> {
    if m.is_mlx() {
        return None;
    }
    let mut tries: Vec<PathBuf> = Vec::new();
    if let Some(p) = &m.path {
        let p = PathBuf::from(p);
        tries.push(if p.is_absolute() { p } else { models.join(p) });
    }
    tries.push(models.join(m.load_key()));
    for t in tries {
        if t.is_file()
            && t.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
        {
            return Some(t);
        }
        if t.is_dir() {
            let mut ggufs: Vec<PathBuf> = std::fs::read_dir(&t)
                .ok()?
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
                        && !p
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with("mmproj"))
                })
                .collect();
            ggufs.sort();
            if let Some(g) = ggufs.into_iter().next() {
                return Some(g);
            }
        }
    }
    None
}

/// The most `lms ps --json` may take in the doctor (it answers in well under a second
/// when LM Studio runs).
pub const LMS_BUDGET_MS: u64 = 1500;

/// `lms`: on PATH, else in LM Studio's home (`<home>/bin/lms`, where LM Studio installs it
/// before it is added to PATH).
pub fn lms_program(home: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(p) = std::env::split_paths(&path)
            .map(|d| d.join("lms"))
            .find(|p| p.is_file())
        {
            return Some(p);
        }
    }
    let p = home_dir(home?).join("bin/lms");
    p.is_file().then_some(p)
}

/// `lms ps --json` (`lms` from [`lms_program`]), within `deadline`.
pub fn lms_ps(deadline: Instant) -> Option<Value> {
    let home = crate::paths::home_dir();
    let lms = lms_program(home.as_deref())?;
    let out = crate::process::run_until(&lms, &["ps", "--json"], deadline).ok()?;
    if !out.success {
        return None;
    }
    serde_json::from_str(out.stdout.trim()).ok()
}

/// Probes LM Studio: the REST API's model list (`/api/v1/models`, else `/api/v0/models`),
/// `lms ps --json` for a server on this machine, `/v1/messages`, and which of `names` a
/// request reaches.
pub fn probe(http: &mut Http, client: &Client, names: &[String]) -> ServerProbe {
    let mut b = BackendFacts::default();
    let mut models = None;
    for path in ["/api/v1/models", "/api/v0/models"] {
        let parsed = http.json(path).and_then(|v| {
            if path == "/api/v1/models" {
                from_api_v1(&v)
            } else {
                from_api_v0(&v)
            }
        });
        match parsed {
            Some(m) => {
                b.sources.push(format!("GET {path}"));
                models = Some(m);
                break;
            }
            None => b.notes.extend(unexpected(path, http.get(path))),
        }
    }
    let mut models = models.unwrap_or_else(|| {
        // Only the OpenAI list: names, nothing about loading or context.
        http.json("/v1/models")
            .and_then(|v| {
                v["data"].as_array().map(|a| {
                    a.iter()
                        .filter_map(|m| m["id"].as_str())
                        .map(BackendModel::new)
                        .collect()
                })
            })
            .inspect(|_| b.sources.push("GET /v1/models".into()))
            .unwrap_or_default()
    });
    if client.base.is_local() {
        // `lms` gets at most a part of the budget: the route checks come after it.
        let cap = Instant::now() + std::time::Duration::from_millis(LMS_BUDGET_MS);
        if let Some(ps) = lms_ps(client.deadline().min(cap))
            .as_ref()
            .and_then(from_lms_ps)
        {
            b.sources.push("lms ps --json".into());
            b.lms_cli = true;
            merge_lms(&mut models, ps);
        }
    }
    b.models = models;
    let mut p = ServerProbe {
        kind: Some(ServerKind::LmStudio),
        reachable: true,
        installed: b
            .models
            .iter()
            .map(|m| InstalledModel {
                name: m.id.clone(),
                ..Default::default()
            })
            .collect(),
        messages_api: super::messages_route(client),
        version: lms_status_version(http),
        ..Default::default()
    };
    let loaded: Vec<&BackendModel> = b.loaded().collect();
    for n in names {
        // A name that is loaded, or downloaded (LM Studio loads it on demand), reaches a
        // model; with one model loaded LM Studio has answered any name with it (0.3.14),
        // whether /v1/messages does the same is not confirmed: unknown.
        let presence = if b.find(n).is_some() {
            Presence::Present
        } else if loaded.len() == 1 {
            Presence::Unknown
        } else {
            Presence::Missing
        };
        p.presence.insert(n.clone(), presence);
    }
    p.backend = Some(b);
    p
}

/// The version from `GET /lms-status` (`{"package":…,"version":…}`), where the server
/// answers it; it is documented on LM Studio's internal API port, not confirmed on 1234.
fn lms_status_version(http: &mut Http) -> Option<String> {
    let v = http.json("/lms-status")?;
    v["package"].as_str()?;
    v["version"].as_str().map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rest_v1_v0_and_lms_ps() {
        let v1 = json!({"models":[
            {"type":"llm","key":"qwen/qwen3-coder-30b","format":"gguf","max_context_length":262144,
             "loaded_instances":[{"id":"qwen/qwen3-coder-30b","config":{"context_length":4096}}]},
            {"type":"llm","key":"mlx-community/m","format":"mlx","max_context_length":32768,"loaded_instances":[]},
            {"type":"embedding","key":"nomic","loaded_instances":[]}]});
        let m = from_api_v1(&v1).unwrap();
        assert_eq!(m.len(), 2);
        assert!(m[0].loaded && m[0].context == Some(4096) && m[0].trained_context == Some(262144));
        assert!(!m[1].loaded && m[1].is_mlx());
        let v0 = json!({"object":"list","data":[{"id":"a","type":"llm","compatibility_type":"gguf","state":"loaded","max_context_length":100,"loaded_context_length":50},
                                                {"id":"b","type":"llm","state":"not-loaded"}]});
        let m = from_api_v0(&v0).unwrap();
        assert_eq!(
            (m[0].loaded, m[0].context, m[1].loaded),
            (true, Some(50), false)
        );
        assert!(
            from_api_v1(&json!({"data":[]})).is_none(),
            "not the v1 shape"
        );
        let ps = json!([{"type":"llm","modelKey":"qwen/qwen3-coder-30b","identifier":"qwen/qwen3-coder-30b","format":"gguf",
                         "path":"lmstudio-community/Qwen3/Q.gguf","contextLength":32768,"maxContextLength":262144}]);
        let mut models = from_api_v1(&v1).unwrap();
        merge_lms(&mut models, from_lms_ps(&ps).unwrap());
        assert_eq!(
            models[0].path.as_deref(),
            Some("lmstudio-community/Qwen3/Q.gguf")
        );
        assert_eq!(models[0].context, Some(4096), "the REST API's figure stays");
    }

    #[test]
    fn home_and_gguf() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(home_dir(d.path()), d.path().join(".lmstudio"));
        std::fs::create_dir_all(d.path().join(".cache/lm-studio/models/pub/m")).unwrap();
        let models = models_dir(d.path());
        assert_eq!(models, d.path().join(".cache/lm-studio/models"));
        std::fs::write(models.join("pub/m/mmproj-x.gguf"), b"x").unwrap();
        std::fs::write(models.join("pub/m/m-Q4_K_M.gguf"), b"x").unwrap();
        let mut m = BackendModel::new("pub/m");
        m.path = Some("pub/m".into());
        assert_eq!(
            local_gguf(&m, &models),
            Some(models.join("pub/m/m-Q4_K_M.gguf"))
        );
        m.format = Some("mlx".into());
        assert_eq!(local_gguf(&m, &models), None, "MLX has no GGUF");
        std::fs::write(d.path().join(".lmstudio-home-pointer"), "/elsewhere\n").unwrap();
        assert_eq!(models_dir(d.path()), PathBuf::from("/elsewhere/models"));
    }
}
