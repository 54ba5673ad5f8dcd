//! `cclocal setup`, `alias` and `undo`: every write is planned first (path, new bytes,
//! mode), shown as a diff on request, applied atomically with backups and recorded in a
//! manifest so that it can be taken back byte for byte.

pub mod allowed;
pub mod apply;
pub mod build;
pub mod choices;
pub mod claude_json;
pub mod claude_lock;
pub mod config;
pub mod context;
pub mod flow;
pub mod generate;
pub mod journal;
pub mod llama_server;
pub mod lmstudio;
pub mod manifest;
pub mod plan;
pub mod resolve;
pub mod system;
pub mod undo;
pub mod vllm;
pub mod vllm_mlx;
pub mod wizard;

pub use crate::paths::Paths;
/// Setup's Ollama API calls now live with the other server calls (`crate::server::api`).
pub use crate::server::api as server_api;
pub use apply::{apply, Record};
pub use build::{build_plan, Built, Host, PostAction};
pub use choices::{Choices, Part, TargetOs};
pub use plan::{ChangeKind, FileChange, Level, ModeRule, Plan};
