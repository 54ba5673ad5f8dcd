//! Journey 9.8: the doctor identifies the server from its answers, and names what
//! answered when it is not an LLM server (an HTML page, 404 for everything, an empty
//! body, HTTP 500), instead of `[✓] Server (Ollama ?)` or "upgrade Ollama".

use crate::support;

use serde_json::Value;
use std::path::Path;
use std::process::Output;
use support::fake_http::{Answer, FakeHttp, Routes};
use support::fake_ollama::{FakeModel, FakeOllama, Scenario};
use support::report::{finding, ids};

fn doctor(home: &Path, args: &[&str]) -> Output {
    let mut c = support::cclocal();
    c.env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .env("NO_COLOR", "1")
        .env("CCLOCAL_DOCTOR_NO_SERVICE_PROBES", "1")
        .current_dir(home)
        .arg("doctor")
        .args(args);
    c.output().unwrap()
}

fn run(url: &str, extra: &[&str]) -> (Value, String) {
    let home = tempfile::tempdir().unwrap();
    let mut args = vec!["--server-only", "--host", url, "--model", "qwen3:8b"];
    args.extend_from_slice(extra);
    let mut j = args.clone();
    j.push("--json");
    let out = doctor(home.path(), &j);
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let mut v = args.clone();
    v.push("-v");
    let text = String::from_utf8_lossy(&doctor(home.path(), &v).stdout).into_owned();
    (doc, text)
}

#[test]
fn an_html_page_is_named_not_taken_for_ollama() {
    let page =
        "<!DOCTYPE html><html><head><title>Router admin</title></head><body>hi</body></html>";
    let fake = FakeHttp::start(Routes::new(Answer::html(200, page)));
    let (doc, text) = run(&fake.base_url, &[]);
    assert_eq!(doc["facts"]["server"]["kind"], "unknown", "{doc:#}");
    let f = finding(&doc, "server_not_llm");
    assert_eq!(f["severity"], "error");
    assert!(
        f["detail"].as_str().unwrap().contains("Router admin"),
        "{f}"
    );
    assert!(
        !ids(&doc).contains(&"model_missing".to_string()),
        "{:?}",
        ids(&doc)
    );
    assert!(!text.contains("Ollama ?"), "{text}");
    assert!(!text.contains("[✓] Server"), "{text}");
    assert!(
        text.contains("detection: "),
        "doctor -v shows the trail:\n{text}"
    );
}

/// Issue 21: `--server KIND` skips detection, not verification: a web page named as
/// llama-server (the doctor's own suggestion) is still not an LLM server.
#[test]
fn a_named_kind_does_not_turn_a_web_page_into_a_server() {
    let page =
        "<!DOCTYPE html><html><head><title>Router admin</title></head><body>hi</body></html>";
    let fake = FakeHttp::start(Routes::new(Answer::html(200, page)));
    for kind in ["llama-server", "ollama", "vllm", "lmstudio", "mlx-lm"] {
        let (doc, text) = run(&fake.base_url, &["--server", kind]);
        let f = finding(&doc, "server_not_llm");
        assert_eq!(f["severity"], "error", "{kind}: {f}");
        assert!(
            f["detail"].as_str().unwrap().contains("Router admin"),
            "{kind}: {f}"
        );
        assert!(!text.contains("[✓] Server"), "{kind}: {text}");
        assert!(!text.contains("serving 0 model(s)"), "{kind}: {text}");
    }
}

#[test]
fn a_server_answering_404_to_everything_is_not_told_to_upgrade_ollama() {
    let fake = FakeHttp::start(Routes::new(Answer::text(404, "404 page not found")));
    let (doc, text) = run(&fake.base_url, &[]);
    assert!(
        !ids(&doc).contains(&"server_too_old".to_string()),
        "{:?}",
        ids(&doc)
    );
    let f = finding(&doc, "server_not_llm");
    assert!(f["detail"].as_str().unwrap().contains("404"), "{f}");
    assert!(!text.to_lowercase().contains("upgrade ollama"), "{text}");
}

#[test]
fn empty_bodies_and_500s_are_named() {
    let fake = FakeHttp::start(Routes::new(Answer::text(200, "")));
    let (doc, _) = run(&fake.base_url, &[]);
    assert!(finding(&doc, "server_not_llm")["detail"]
        .as_str()
        .unwrap()
        .contains("empty"));
    let fake = FakeHttp::start(Routes::new(Answer::text(500, "boom")));
    let (doc, _) = run(&fake.base_url, &[]);
    assert!(finding(&doc, "server_not_llm")["detail"]
        .as_str()
        .unwrap()
        .contains("500"));
}

#[test]
fn ollama_is_detected_and_server_kind_skips_detection() {
    let fake = FakeOllama::start(Scenario::new("0.30.0").model(FakeModel::llama("qwen3:8b")));
    let (doc, text) = run(&fake.base_url, &[]);
    assert_eq!(doc["facts"]["server"]["kind"], "ollama");
    assert_eq!(doc["facts"]["server"]["kind_source"], "detected");
    assert!(text.contains("Ollama is running"), "{text}");
    let (doc, _) = run(&fake.base_url, &["--server", "ollama"]);
    assert_eq!(doc["facts"]["server"]["kind_source"], "--server");
    let n = fake
        .requests()
        .iter()
        .filter(|r| r.route() == "/props")
        .count();
    assert_eq!(n, 0, "fingerprints of other kinds are not tried on Ollama");
}

#[test]
fn host_is_parsed_one_way() {
    let home = tempfile::tempdir().unwrap();
    for (bad, why) in [
        ("http://h:99999", "1 to 65535"),
        ("https://x", "https is not supported"),
        ("ftp://h", "only http://"),
    ] {
        let out = doctor(home.path(), &["--server-only", "--host", bad]);
        assert_ne!(out.status.code(), Some(0), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--host") && err.contains(why), "{bad}: {err}");
    }
    let out = doctor(
        home.path(),
        &[
            "--server-only",
            "--host",
            "127.0.0.1:1",
            "--server",
            "nosuch",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn ollama_behind_a_proxy_without_its_root_page_is_still_ollama() {
    let fake = FakeHttp::start(
        Routes::new(Answer::text(404, "404 page not found"))
            .route(
                "GET /api/version",
                Answer::json(200, r#"{"version":"0.30.0"}"#),
            )
            .route("GET /api/tags", Answer::json(200, r#"{"models":[]}"#)),
    );
    let (doc, _) = run(&fake.base_url, &[]);
    assert_eq!(doc["facts"]["server"]["kind"], "ollama", "{doc:#}");
    // llama-server's Ollama shim (/api/tags without /api/version) is not Ollama.
    let shim = FakeHttp::start(
        Routes::new(Answer::json(
            404,
            r#"{"error":{"code":404,"message":"File Not Found","type":"not_found_error"}}"#,
        ))
        .route("GET /api/tags", Answer::json(200, r#"{"models":[]}"#)),
    );
    let (doc, _) = run(&shim.base_url, &[]);
    assert_ne!(doc["facts"]["server"]["kind"], "ollama");
}

#[test]
fn detection_stays_within_the_time_budget() {
    let home = tempfile::tempdir().unwrap();
    let html = FakeHttp::start(Routes::new(Answer::html(
        200,
        "<html><title>x</title></html>",
    )));
    let llama = support::fake_llama_server::start(support::fake_llama_server::Config::new(
        support::fake_llama_server::Layout::OneSlot,
    ));
    for url in [&html.base_url, &llama.base_url] {
        let t = std::time::Instant::now();
        let out = doctor(
            home.path(),
            &["--server-only", "--host", url, "--timeout", "2", "--json"],
        );
        assert!(
            t.elapsed() < std::time::Duration::from_millis(2600),
            "{url}: {:?}",
            t.elapsed()
        );
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            doc["facts"]["options"]["timed_out"]
                .as_array()
                .unwrap()
                .is_empty(),
            "{doc:#}"
        );
    }
}

#[test]
fn a_server_that_does_not_speak_http_is_named() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            use std::io::{Read, Write};
            // Read the request first, so closing sends FIN rather than a reset.
            let mut buf = [0u8; 4096];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let _ = s.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n");
        }
    });
    let (doc, _) = run(&format!("http://127.0.0.1:{port}"), &[]);
    assert_eq!(doc["facts"]["server"]["kind"], "unknown");
    let f = finding(&doc, "server_not_llm");
    assert!(f["detail"].as_str().unwrap().contains("SSH-2.0"), "{f}");
    assert!(!ids(&doc).contains(&"server_unreachable".to_string()));
}
