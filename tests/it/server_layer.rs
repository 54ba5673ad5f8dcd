//! `cclocal::server` as other commands use it: `served_model` (for `plan --host`) against
//! the fake llama-server and the fake Ollama.

use crate::support;

use cclocal::server::{served_model, ServerKind};
use std::time::Duration;
use support::fake_llama_server::{self as fake, Config, Layout};
use support::fake_ollama::FakeOllama;

const T: Duration = Duration::from_secs(5);

#[test]
fn llama_server_serves_its_gguf_and_per_slot_context() {
    let srv = fake::start(Config::new(Layout::FourSlots));
    let m = served_model(&srv.base_url, None, None, T).unwrap();
    assert_eq!(m.kind, ServerKind::LlamaServer);
    assert_eq!(
        (m.context, m.slots, m.trained_context),
        (Some(4096), Some(4), Some(32768))
    );
    assert_eq!(m.name, "/models/gemma-3-270m-q4_k_m.gguf");
    assert_eq!(m.gguf_path, None, "that path is not on this machine");
    if let Some(g) = support::gemma_path() {
        let g = g.display().to_string();
        let srv = fake::start(Config::new(Layout::OneSlot).model_path(&g));
        let m = served_model(&srv.base_url, None, None, T).unwrap();
        assert_eq!(m.gguf_path.unwrap().display().to_string(), g);
        assert_eq!(m.context, Some(8192));
    }
}

#[test]
fn router_mode_and_loading_are_clear_errors() {
    let srv = fake::start(Config::new(Layout::OneSlot).router());
    let e = served_model(&srv.base_url, None, None, T).unwrap_err();
    assert!(e.hint.unwrap().contains("gemma3-270m"));
    let m = served_model(&srv.base_url, None, Some("GEMMA3-270M"), T).unwrap();
    assert_eq!(m.name, "gemma3-270m");
    assert!(served_model(&srv.base_url, None, Some("nosuch"), T).is_err());
    let srv = fake::start(Config::new(Layout::OneSlot).loading());
    let e = served_model(&srv.base_url, None, None, T).unwrap_err();
    assert!(e.message.contains("loading"), "{e:?}");
}

#[test]
fn ollama_serves_the_loaded_model() {
    let fake = FakeOllama::serving("qwen3:8b", 32_768);
    let m = served_model(&fake.base_url, None, None, T).unwrap();
    assert_eq!(
        (m.kind, m.name.as_str(), m.context),
        (ServerKind::Ollama, "qwen3:8b", Some(32_768))
    );
    let e = served_model("http://127.0.0.1:1", Some(ServerKind::LlamaServer), None, T).unwrap_err();
    assert!(e.message.contains("no answer"), "{e:?}");
}

#[test]
fn one_probe_gives_kind_context_and_cache_settings() {
    use cclocal::server::http::Client;
    let srv = fake::start(Config::new(Layout::FourSlots));
    let port = srv.port.to_string();
    let proc_ = fake::fake_process(
        &[
            "-np", "4", "-c", "16384", "-ctk", "q8_0", "-fa", "on", "--port", &port,
        ],
        &[],
    );
    let client = Client::new(&srv.base_url, T).unwrap();
    let p = cclocal::server::probe(&client, None, &["anything".to_string()], Some("anything"));
    assert_eq!(p.kind, Some(ServerKind::LlamaServer));
    assert_eq!(
        (p.served_context, p.served_context_source),
        (Some(4096), Some("live"))
    );
    assert_eq!(p.presence["anything"], cclocal::server::Presence::Present);
    if proc_.is_some() {
        assert_eq!(p.kv_type.as_deref(), Some("q8_0"));
        assert_eq!(p.flash_attn.as_deref(), Some("on"));
    }
    let fake = FakeOllama::serving("qwen3:8b", 32_768);
    let client = Client::new(&fake.base_url, T).unwrap();
    let p = cclocal::server::probe(&client, None, &["qwen3:8b".to_string()], Some("QWEN3:8b"));
    assert_eq!(
        (p.kind, p.served_context),
        (Some(ServerKind::Ollama), Some(32_768))
    );
}
