//! Fuzzes the HTTP client's response reader (`cclocal::server::http::parse_raw`): any bytes
//! a server sends, framing (Content-Length, chunked) and parsing, without a panic and within
//! the body cap.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((_, len)) = cclocal::server::http::parse_raw(data) {
        assert!(len <= cclocal::server::http::MAX_BODY);
    }
});
