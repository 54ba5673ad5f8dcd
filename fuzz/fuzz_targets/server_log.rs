//! Fuzzes the server-log reader (llama-server and Ollama lines): any bytes, line by line and
//! as a whole log with its findings, the HTML page, and a join against an empty session, are
//! handled without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

use cclocal::logs::serverlog;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        let _ = serverlog::parse_line(line);
    }
    let a = serverlog::analyze_bytes(data);
    let f = serverlog::findings(&a, serverlog::Window::all());
    let _ = serverlog::findings_recent(&a);
    let t = serverlog::html::server_timeline(&a, &f);
    let _ = serverlog::html::render(&t);
    let claude = cclocal::logs::analyze_bytes(data);
    let j = serverlog::join(&claude, &a);
    let _ = serverlog::join::summary(&claude, &a, &j);
});
