//! Secrets (issue 20) with the REAL llama-server: `doctor -v` shows the server's command
//! line but never its `--hf-token` value (the other secrets tests are in `secrets_output`).
use crate::support;

#[test]
fn doctor_verbose_never_shows_the_real_servers_hf_token() {
    use support::real_llama_server::RealLlamaServer;
    let (Some(server_bin), Some(gemma)) = (support::llama_server_bin(), support::gemma_path())
    else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let secret = "hf_S3CRETtokenValue";
    let server = RealLlamaServer::start(
        &server_bin,
        &[
            "-m",
            gemma.to_str().unwrap(),
            "-c",
            "4096",
            "--hf-token",
            secret,
        ],
        &d.path().join("server.log"),
    );
    for args in [&["doctor", "-v"][..], &["doctor", "-v", "--json"][..]] {
        let o = support::cclocal()
            .env_clear()
            .env("HOME", d.path())
            .env("PATH", "/usr/bin:/bin")
            .env("NO_COLOR", "1")
            .env("CCLOCAL_DOCTOR_NO_SERVICE_PROBES", "1")
            .env("ANTHROPIC_BASE_URL", &server.base_url)
            .current_dir(d.path())
            .args(args)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains("--hf-token"),
            "the command line is shown: {out}"
        );
        assert!(!out.contains(secret), "{out}");
    }
}
