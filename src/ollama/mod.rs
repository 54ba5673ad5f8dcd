//! Ollama: the local model store (manifests → GGUF blobs). The HTTP client and the
//! server checks come with the doctor.

pub mod client;
pub mod homebrew;
mod store;

pub use client::{BaseUrl, Client, Response};
pub use store::{models_dir, parse_name, resolve_name, ModelName, StoreModel};
