//! The one resolution step (`crate::server::resolve`, `crate::claude::resolve`) fed with
//! this process's environment and config.toml: what `plan`, `setup` and `status` call.
//! The pure orders live with the server and Claude Code (a floor below); reading
//! config.toml is setup's.

use crate::claude::resolve::Source as ClaudeSource;
use crate::claude::Version;
use crate::error::Result;
use crate::server::resolve::{Inputs, Source};
use crate::server::{ServerKind, ServerUrl};

/// [`crate::server::resolve::server`] with this process's environment and config.toml (`--host` and `--server` as
/// given): what `plan`, `setup` and `status` use; the doctor adds Claude Code's own
/// settings files to `ANTHROPIC_BASE_URL`.
/// `configured`: config.toml's server (`None`: read config.toml here).
pub fn server(
    host: Option<&str>,
    kind: Option<ServerKind>,
    configured: Option<Option<&str>>,
) -> (Result<ServerUrl>, String, Source) {
    let base = std::env::var("ANTHROPIC_BASE_URL").ok();
    let ollama = std::env::var("OLLAMA_HOST").ok();
    let read = || {
        crate::setup::Paths::from_env()
            .ok()
            .and_then(|p| crate::setup::config::load(&p.config_toml()).ok().flatten())
            .map(|c| c.server.url)
    };
    let configured = match configured {
        Some(c) => c.map(str::to_string),
        None => read(),
    };
    crate::server::resolve::server(&Inputs {
        host,
        kind,
        anthropic_base_url: base.as_deref(),
        configured: configured.as_deref(),
        ollama_host: ollama.as_deref(),
    })
}

/// [`crate::claude::resolve::version`] with `--claude-version` as given (a usage error when it does not parse), the
/// installed Claude Code and config.toml.
pub fn claude_version(arg: Option<Version>) -> Result<(Version, ClaudeSource)> {
    let configured = || {
        let p = crate::setup::Paths::from_env().ok()?;
        let c = crate::setup::config::load(&p.config_toml()).ok()??;
        c.claude.version.parse::<Version>().ok()
    };
    let mut cfg = None;
    let found = crate::claude::resolve::version(arg, crate::claude::installed_version, None);
    if found.1 == ClaudeSource::LatestKnown {
        cfg = configured();
    }
    Ok(match cfg {
        Some(v) => (v, ClaudeSource::Configured),
        None => found,
    })
}
