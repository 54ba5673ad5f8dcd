//! Which server the doctor checks: the one order every command uses
//! (`crate::server::resolve`), with Claude Code's `ANTHROPIC_BASE_URL` read from its
//! settings files and launcher as well as the shell.

use super::Options;
use crate::claude::EnvMap;
use crate::error::Result;
use crate::server::ServerUrl;

pub use crate::server::is_local_host;

/// The server to probe and where its address came from; an address that does not parse
/// is returned as the error (with its source).
pub fn server_url(
    opts: &Options,
    claude_env: &EnvMap,
    shell: &EnvMap,
    configured: Option<&str>,
) -> (Result<ServerUrl>, String, String) {
    let (u, shown, source) = crate::server::resolve::server(&crate::server::resolve::Inputs {
        host: opts.host.as_deref(),
        kind: opts.server,
        anthropic_base_url: claude_env.get("ANTHROPIC_BASE_URL").map(String::as_str),
        configured,
        ollama_host: shell.get("OLLAMA_HOST").map(String::as_str),
    });
    (u, shown, source.name().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::ServerKind;

    #[test]
    fn sources() {
        let mut env = EnvMap::new();
        env.insert(
            "ANTHROPIC_BASE_URL".into(),
            "http://127.0.0.1:11434/v1/".into(),
        );
        let (u, shown, s) = server_url(&Options::default(), &env, &EnvMap::new(), None);
        assert_eq!(u.unwrap().to_url(), "http://127.0.0.1:11434");
        assert_eq!(
            (shown.as_str(), s.as_str()),
            ("http://127.0.0.1:11434", "ANTHROPIC_BASE_URL")
        );
        let mut shell = EnvMap::new();
        shell.insert("OLLAMA_HOST".into(), "0.0.0.0".into());
        let (u, _, s) = server_url(&Options::default(), &EnvMap::new(), &shell, None);
        assert_eq!(
            (u.unwrap().to_url().as_str(), s.as_str()),
            ("http://127.0.0.1:11434", "OLLAMA_HOST")
        );
        let opts = Options {
            server: Some(ServerKind::LlamaServer),
            ..Options::default()
        };
        let (u, _, s) = server_url(&opts, &EnvMap::new(), &EnvMap::new(), None);
        assert_eq!(
            (u.unwrap().to_url().as_str(), s.as_str()),
            ("http://127.0.0.1:8080", "default")
        );
        let opts = Options {
            host: Some("http://mini.local".into()),
            ..Options::default()
        };
        let (u, _, _) = server_url(&opts, &EnvMap::new(), &EnvMap::new(), None);
        assert_eq!(
            u.unwrap().port,
            11434,
            "a URL without a port is Ollama's port, not 80"
        );
        let opts = Options {
            host: Some("http://h:99999".into()),
            ..Options::default()
        };
        let (u, shown, _) = server_url(&opts, &EnvMap::new(), &EnvMap::new(), None);
        assert!(u.is_err());
        assert_eq!(shown, "http://h:99999");
        let (u, _, s) = server_url(
            &Options::default(),
            &EnvMap::new(),
            &shell,
            Some("http://127.0.0.1:8080"),
        );
        assert_eq!(
            (u.unwrap().port, s.as_str()),
            (8080, "config.toml"),
            "the configured server comes before OLLAMA_HOST and the default"
        );
    }
}
