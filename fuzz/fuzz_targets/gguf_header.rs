//! Fuzzes the GGUF header reader and the model description built from it: any input must
//! give a header or a typed error, never a panic, an abort or a huge allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = cclocal::gguf::read_header_from(Cursor::new(data), data.len() as u64) {
        let _ = h.weights_bytes();
        if let Ok(m) = cclocal::model::describe(&h, "fuzz", h.weights_bytes(), h.token_embd_bytes()) {
            let p = cclocal::memory::CacheParams::new(4096);
            let _ = cclocal::memory::kv_plan(&m, &p);
        }
    }
});
