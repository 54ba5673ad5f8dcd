//! Fuzzes the Claude Code debug-log reader: any bytes, line by line and as a whole log
//! (with the analysis and its findings), are handled without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        let _ = cclocal::logs::parse_line(line);
    }
    let _ = cclocal::logs::analyze_bytes(data);
});
