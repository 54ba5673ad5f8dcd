//! The integration tests, one binary (one link of llama.cpp instead of one per file), as
//! ripgrep keeps its tests: each file is a module, helpers live in `support`.

mod support;

mod alias_shells;
mod backends_doctor;
mod backends_setup;
mod cli_commands;
mod cli_vocabulary;
mod cli_wizard;
mod doctor_after_setup;
mod doctor_claude;
mod doctor_fake_ollama;
mod doctor_llama_server;
mod doctor_rules;
mod doctor_scenarios;
mod doctor_server_kind;
mod gguf_hostile;
mod llama_server_journey;
mod logs_claude_e2e;
mod logs_cli;
mod logs_fixtures;
mod logs_parse_prop;
mod logs_scenarios;
mod memory_fixtures;
mod newcomer_journey;
mod plan_cli;
mod planner_journeys;
mod runtime_cli;
mod runtime_measure;
mod runtime_unsupported;
mod safety;
mod server_layer;
mod serverlog_cli;
mod serverlog_fixtures;
mod serverlog_hostile;
mod session_time;
mod session_time_real;
mod setup_apply;
mod setup_claude_e2e;
mod setup_launcher;
mod setup_llama_server;
mod setup_llama_server_real;
mod setup_server;
mod setup_snapshots;
mod turn_time;
mod wiring;
