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
pub mod manifest;
pub mod plan;
pub mod resolve;
pub mod system;
pub mod undo;
pub mod wizard;

pub use crate::paths::Paths;
/// Setup's Ollama API calls now live with the other server calls (`crate::server::api`).
pub use crate::server::api as server_api;
pub use apply::{apply, Record};
pub use build::{build_plan, Built, Host, PostAction};
pub use choices::{Choices, Part, TargetOs};
pub use plan::{ChangeKind, FileChange, Level, ModeRule, Plan};

#[cfg(test)]
mod tests {
    /// A kind `cclocal setup` configures has its serve module in its row of
    /// `server::KINDS` (`server::<kind>::serve::PARTS`: the files it writes, its restart
    /// fix), and a kind with serve parts is one setup configures.
    #[test]
    fn every_kind_setup_configures_has_its_serve_parts() {
        for k in crate::server::KINDS {
            let req = super::flow::Request {
                server: Some(k.kind),
                ..Default::default()
            };
            assert_eq!(
                super::flow::route(&req).is_ok(),
                k.serve.is_some(),
                "{}: setup's route and the row's `serve` (server::<kind>::serve::PARTS) disagree",
                k.name
            );
        }
    }
}
