//! The integration tests, one binary (one link of llama.cpp instead of one per file), as
//! ripgrep keeps its tests: each file is a module, helpers live in `support`.

mod support;

mod alias_shells;
mod doctor_claude;
mod doctor_fake_ollama;
mod doctor_rules;
mod doctor_scenarios;
mod gguf_hostile;
mod logs_claude_e2e;
mod logs_cli;
mod logs_fixtures;
mod logs_parse_prop;
mod logs_scenarios;
mod memory_fixtures;
mod plan_cli;
mod runtime_cli;
mod runtime_measure;
mod runtime_unsupported;
mod session_time;
mod setup_apply;
mod setup_claude_e2e;
mod setup_launcher;
mod setup_server;
mod setup_snapshots;
