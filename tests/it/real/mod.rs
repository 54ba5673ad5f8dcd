//! The tests that start a real program: the real llama-server or llama-bench, a real Claude
//! Code build, vLLM, vllm-mlx or mlx_lm.server (the `support` helpers `llama_server_bin`,
//! `llama_bench_bin`, `claude_bin`, `vllm_bin`, `vllm_mlx_bin`, `mlx_lm_server_bin`,
//! `real_llama_server::RealLlamaServer`, `real_py_server`). None of them depends on the
//! embedded llama.cpp, and each is slow, so `scripts/test.sh` runs them once, in the
//! default-features run, and skips `real::` in the run without default features.
//! `test_layout::real_programs_are_started_only_under_real` keeps every such test here.

mod backends_setup;
mod bench_host_real;
mod claude_families;
mod doctor_claude;
mod fix_closure;
mod llama_server_journey;
mod logs_claude_e2e;
mod logs_follow_e2e;
mod newcomer_journey;
mod planner_agreement;
mod python_servers_journey;
mod root_home;
mod secrets_output;
mod session_time_real;
mod setup_claude_e2e;
mod setup_llama_server_real;
mod status_cli;
mod verify_real;
mod write_races;
