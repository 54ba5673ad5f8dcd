//! Ollama: the local model store (manifests → GGUF blobs) and Homebrew's service. The HTTP
//! client is `crate::server::http`, the server's API `crate::server::ollama`.

pub mod homebrew;
mod store;
pub mod vars;

pub use store::{models_dir, parse_name, resolve_name, ModelName, StoreModel};
