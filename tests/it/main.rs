//! The integration tests, one binary (one link of llama.cpp instead of one per file), as
//! ripgrep keeps its tests: each file is a module, helpers live in `support`.

mod support;

mod alias_shells;
mod backends_doctor;
mod backends_setup;
mod bench_host;
mod bounded_input;
mod cli_commands;
mod cli_vocabulary;
mod cli_wizard;
mod doctor_after_setup;
mod doctor_fake_ollama;
mod doctor_llama_server;
mod doctor_rules;
mod doctor_scenarios;
mod doctor_server_kind;
mod env_names;
mod fake_shapes;
mod gguf_hostile;
mod logs_cli;
mod logs_fixtures;
mod logs_follow;
mod logs_parse_prop;
mod logs_scenarios;
mod memory_fixtures;
mod module_floors;
mod nonsense_input;
mod plan_cli;
mod planner_agreement;
mod planner_journeys;
mod root_crossing;
mod runtime_cli;
mod runtime_measure;
mod runtime_unsupported;
mod safety;
mod secrets_output;
mod server_layer;
mod serverlog_cli;
mod serverlog_fixtures;
mod serverlog_hostile;
mod session_time;
mod setup_apply;
mod setup_launcher;
mod setup_llama_server;
mod setup_server;
mod setup_snapshots;
mod test_layout;
mod turn_time;
mod wiring;
mod write_races;

// Tests that start a real program (llama-server, Claude Code, the Python servers).
mod real;
