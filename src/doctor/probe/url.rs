//! Which server the doctor checks: `--host`, else Claude Code's `ANTHROPIC_BASE_URL`,
//! else `OLLAMA_HOST`, else Ollama's default; and whether it runs on this machine.

use super::Options;
use crate::claude::EnvMap;

/// Turns an `OLLAMA_HOST`-style value into a URL the way Ollama's client does: bare
/// `host` → port 11434, `http://host` without a port → port 80; `0.0.0.0`/`::` (bind-all)
/// are reached through loopback.
pub fn ollama_host_url(v: &str) -> String {
    let v = v.trim().trim_matches(['"', '\'']);
    let (scheme, rest) = match v.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => ("http".to_string(), v),
    };
    let rest = rest.trim_end_matches('/');
    let has_port = if let Some(r) = rest.strip_prefix('[') {
        r.contains("]:")
    } else {
        rest.contains(':')
    };
    let default_port = match (v.contains("://"), scheme.as_str()) {
        (false, _) => 11434,
        (true, "https") => 443,
        (true, _) => 80,
    };
    let authority = if has_port {
        rest.to_string()
    } else {
        format!("{rest}:{default_port}")
    };
    let authority = authority
        .replacen("0.0.0.0", "127.0.0.1", 1)
        .replacen("[::]", "[::1]", 1);
    let authority = if authority.starts_with(':') {
        format!("127.0.0.1{authority}")
    } else {
        authority
    };
    format!("{scheme}://{authority}")
}

/// The server URL and where it came from: `--host`, Claude Code's `ANTHROPIC_BASE_URL`
/// (a trailing `/v1` removed: the server root is probed), `OLLAMA_HOST`, or the default.
pub fn server_url(opts: &Options, claude_env: &EnvMap, shell: &EnvMap) -> (String, String) {
    if let Some(h) = &opts.host {
        return (ollama_host_url(h), "--host".into());
    }
    if let Some(b) = claude_env
        .get("ANTHROPIC_BASE_URL")
        .filter(|b| !b.trim().is_empty())
    {
        let b = b.trim().trim_end_matches('/');
        let b = b.strip_suffix("/v1").unwrap_or(b);
        return (b.to_string(), "ANTHROPIC_BASE_URL".into());
    }
    if let Some(h) = shell.get("OLLAMA_HOST").filter(|h| !h.trim().is_empty()) {
        return (ollama_host_url(h), "OLLAMA_HOST".into());
    }
    ("http://127.0.0.1:11434".into(), "default".into())
}

/// Whether `host` is this machine.
pub fn is_local_host(host: &str) -> bool {
    let h = host.trim_matches(['[', ']']).to_ascii_lowercase();
    if h == "localhost" || h.ends_with(".localhost") || h == "0.0.0.0" || h == "::" {
        return true;
    }
    if let Ok(ip) = h.parse::<std::net::IpAddr>() {
        return ip.is_loopback();
    }
    sysinfo::System::host_name().is_some_and(|n| {
        n.eq_ignore_ascii_case(&h) || format!("{}.local", n.to_ascii_lowercase()) == h
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_urls() {
        assert_eq!(ollama_host_url("0.0.0.0"), "http://127.0.0.1:11434");
        assert_eq!(ollama_host_url("http://mini.local"), "http://mini.local:80");
        assert_eq!(ollama_host_url("mini.local:8080"), "http://mini.local:8080");
        assert_eq!(ollama_host_url(":11435"), "http://127.0.0.1:11435");
        let mut env = EnvMap::new();
        env.insert(
            "ANTHROPIC_BASE_URL".into(),
            "http://127.0.0.1:11434/v1/".into(),
        );
        let (u, s) = server_url(&Options::default(), &env, &EnvMap::new());
        assert_eq!(
            (u.as_str(), s.as_str()),
            ("http://127.0.0.1:11434", "ANTHROPIC_BASE_URL")
        );
        assert!(is_local_host("127.0.0.1") && is_local_host("localhost") && is_local_host("[::1]"));
        assert!(!is_local_host("192.0.2.7"));
    }
}
