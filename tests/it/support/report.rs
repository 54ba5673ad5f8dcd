//! Reading a command's `--json` report in tests: the stdout as JSON, the finding ids, one
//! finding by id (each test file had its own copy).

use serde_json::Value;
use std::process::Output;

/// The command's stdout as JSON; a panic shows the stdout when it is not.
pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// The ids of a report's findings, in order.
pub fn ids(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// The finding with `id`; a panic lists the ids there are.
pub fn finding<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {:?}", ids(doc)))
}

/// The stdout as JSON of a command that must succeed; a panic shows its stderr.
pub fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// The command's stdout as JSON; a panic names `what` and shows its output.
pub fn json_of(what: &str, o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: stdout is not JSON ({e}): {}",
            super::setup_home::text(o)
        )
    })
}

/// The finding with `id` that reports a problem (not an `ok` check), if any.
pub fn problem<'a>(report: &'a Value, id: &str) -> Option<&'a Value> {
    report["findings"]
        .as_array()?
        .iter()
        .find(|f| f["id"] == id && f["severity"] != "ok")
}
