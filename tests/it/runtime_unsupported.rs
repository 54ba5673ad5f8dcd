//! Without the `runtime` feature the runtime commands say what is missing and how to get it.
#![cfg(not(feature = "runtime"))]

use crate::support;

#[test]
fn runtime_commands_explain_the_missing_feature() {
    for args in [
        vec!["bench", "model.gguf"],
        vec!["runtime"],
        vec!["runtime", "--json"],
    ] {
        let out = support::cclocal().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("does not contain") && err.contains("--features runtime"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn plan_still_works_and_measure_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gemma3.gguf");
    support::gguf_fixtures::gemma3().write(&path).unwrap();
    let ok = support::cclocal()
        .args(["plan", path.to_str().unwrap(), "--ctx", "4096", "--json"])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let out = support::cclocal()
        .args(["plan", path.to_str().unwrap(), "--ctx", "4096", "--measure"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--measure"));
}
