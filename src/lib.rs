//! cclocal: make Claude Code run well against a local LLM.
//!
//! The crate is split by domain. Probes gather plain facts, pure functions turn facts into
//! plans and findings, and the CLI only formats.

pub mod claude;
pub mod cli;
pub mod doctor;
pub mod duration;
pub mod error;
pub mod findings;
pub mod fs;
pub mod fsread;
pub mod gguf;
pub mod kv;
pub mod logs;
pub mod memory;
pub mod model;
pub mod ollama;
pub mod paths;
pub mod planner;
pub mod predict;
pub mod privilege;
pub mod process;
pub mod runtime;
pub mod secret;
pub mod server;
pub mod setup;
pub mod shell;
pub mod term;
pub mod units;
pub mod verify;
pub mod version;

pub use error::{Error, ErrorKind, Result};
