//! Claude Code knowledge: how each version picks its context window and when it compacts,
//! and the settings that make it use the window a local server really serves.

pub mod env;
mod probe;
pub mod resolve;
pub mod settings;
pub mod vars;
mod version;
mod window;

pub use probe::{candidate_paths, claude_version, find_claude, find_claude_in, installed_version};
pub use version::{
    gate_for, max_tokens_for, Blocking, Gate, LogFormat, Version, GATES, LATEST_KNOWN,
};
pub use window::{
    compute_window, env_line, output_reserve_for, pct_for_threshold, pct_threshold, recommend,
    EnvMap, Recommendation, WindowCalc, WindowSource,
};
