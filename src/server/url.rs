//! The one parser of server addresses, for every command (`doctor --host`, `setup --host`,
//! `plan --host`, `logs --host`, `ANTHROPIC_BASE_URL`, `OLLAMA_HOST`).
//!
//! Accepted: `host`, `host:port`, `:port`, `[v6]`, `[v6]:port`, each optionally prefixed
//! with `http://` and followed by a path. A missing port is the default port of the server
//! kind the caller names (`ServerKind::default_port`, Ollama's 11434 when none is named),
//! whatever the scheme. Only plain `http` is spoken: `https://` is refused with a clear
//! error (put the local server's plain-http address instead). A port must be 1..=65535 and
//! a host may hold only letters, digits, `-`, `_`, `.` (and `:`/`%` inside brackets), so a
//! parsed URL is safe to write into a shell script or a unit file.

use super::ServerKind;
use crate::error::{Error, ErrorKind, Result};

/// A parsed `http://host:port[/prefix]` server address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    /// The host as given (IPv6 without brackets), lower case.
    pub host: String,
    pub port: u16,
    /// Path prefix without a trailing slash (empty for the server root).
    pub prefix: String,
}

fn bad(input: &str, why: &str) -> Error {
    Error::usage(format!("server address {input:?} {why}"))
        .with_hint("write the server's root URL, e.g. http://127.0.0.1:11434 or 127.0.0.1:8080")
}

fn host_ok(h: &str, bracketed: bool) -> bool {
    !h.is_empty()
        && h.chars().all(|c| {
            c.is_ascii_alphanumeric() || "-_.".contains(c) || (bracketed && ":%".contains(c))
        })
}

impl ServerUrl {
    /// Parses `input`; a URL without a port gets `kind`'s default port (Ollama's when
    /// `kind` is `None`).
    pub fn parse_for(input: &str, kind: Option<ServerKind>) -> Result<ServerUrl> {
        Self::parse(input, kind.unwrap_or(ServerKind::Ollama).default_port())
    }

    /// [`ServerUrl::parse`] for an address the user gives cclocal (`--host`, the wizard):
    /// it must be the server's root, as Claude Code's `ANTHROPIC_BASE_URL` takes it, so a
    /// trailing `/v1` is refused (Claude Code appends `/v1/messages` itself). An address read
    /// from Claude Code's own settings is parsed with [`ServerUrl::parse`] instead, so that the
    /// doctor can report the suffix as a finding (`base_url_v1_suffix`).
    pub fn parse_root(input: &str, default_port: u16) -> Result<ServerUrl> {
        let u = Self::parse(input, default_port)?;
        if u.prefix.ends_with("/v1") {
            let mut root = u.clone();
            root.prefix.truncate(root.prefix.len() - 3);
            return Err(Error::usage(format!(
                "{:?} ends in /v1, but Claude Code appends /v1/messages itself",
                input.trim()
            ))
            .with_hint(format!(
                "give the server's root ({}), as Claude Code's ANTHROPIC_BASE_URL takes it",
                root.to_url()
            )));
        }
        Ok(u)
    }

    /// Parses `input`; a URL without a port gets `default_port`.
    pub fn parse(input: &str, default_port: u16) -> Result<ServerUrl> {
        let s = input.trim().trim_matches(['"', '\'']);
        if s.is_empty() {
            return Err(bad(input, "is empty"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(input, "contains spaces or control characters"));
        }
        let rest = match s.split_once("://") {
            Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
                "http" => rest,
                "https" => {
                    return Err(Error::unsupported(
                        "cclocal talks to local LLM servers over plain http only; https is not supported",
                    )
                    .with_subject(s.to_string())
                    .with_hint("give the server's own plain-http address (e.g. http://127.0.0.1:11434), or run `cclocal doctor --server-only` on the server host"));
                }
                other => {
                    return Err(bad(
                        input,
                        &format!("uses scheme {other:?}; only http:// is supported"),
                    ))
                }
            },
            None => s,
        };
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let path = path.split(['?', '#']).next().unwrap_or("");
        if authority.is_empty() {
            return Err(bad(input, "names no host"));
        }
        let (host, port, bracketed) = if let Some(r) = authority.strip_prefix('[') {
            let (h, after) = r
                .split_once(']')
                .ok_or_else(|| bad(input, "has an unclosed [ in its host"))?;
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| bad(input, "has text after its [host]"))?,
                ),
            };
            (h, port, true)
        } else {
            match authority.split_once(':') {
                Some((_, p)) if p.contains(':') => {
                    return Err(bad(
                        input,
                        "has an IPv6 host without brackets (write [::1]:11434)",
                    ))
                }
                Some((h, p)) => (if h.is_empty() { "127.0.0.1" } else { h }, Some(p), false),
                None => (authority, None, false),
            }
        };
        if !host_ok(host, bracketed) {
            return Err(bad(input, "has no usable host"));
        }
        let port = match port {
            None => default_port,
            Some(p) => {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad(
                        input,
                        &format!("has port {p:?}, which is not a number"),
                    ));
                }
                match p.parse::<u32>() {
                    Ok(n @ 1..=65535) => n as u16,
                    _ => {
                        return Err(bad(input, &format!("has port {p}; a port is 1 to 65535")));
                    }
                }
            }
        };
        Ok(ServerUrl {
            host: host.to_ascii_lowercase(),
            port,
            prefix: path.trim_end_matches('/').to_string(),
        })
    }

    /// `http://host:port/prefix`.
    pub fn to_url(&self) -> String {
        format!("{}{}", self.root(), self.prefix)
    }

    /// `http://host:port` (no prefix).
    pub fn root(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("http://{host}:{}", self.port)
    }

    /// The same server with a bind-all host (`0.0.0.0`, `::`, as in `OLLAMA_HOST`)
    /// replaced by loopback, which is where a client on this machine reaches it.
    pub fn reachable(&self) -> ServerUrl {
        let host = match self.host.as_str() {
            "0.0.0.0" => "127.0.0.1".to_string(),
            "::" => "::1".to_string(),
            h => h.to_string(),
        };
        ServerUrl {
            host,
            ..self.clone()
        }
    }

    /// The same server without a trailing `/v1` (Claude Code's base URL is the server
    /// root; some users add `/v1`).
    pub fn without_v1(&self) -> ServerUrl {
        ServerUrl {
            prefix: self
                .prefix
                .strip_suffix("/v1")
                .unwrap_or(&self.prefix)
                .to_string(),
            ..self.clone()
        }
    }

    /// Whether the server runs on this machine.
    pub fn is_local(&self) -> bool {
        is_local_host(&self.host)
    }
}

impl std::fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_url())
    }
}

/// Whether `host` is this machine: loopback, bind-all, `localhost`, or this machine's
/// host name (also with `.local`).
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

/// Whether an error from [`ServerUrl::parse`] is the https refusal.
pub fn is_https_refusal(e: &Error) -> bool {
    e.kind == ErrorKind::Unsupported
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_given_root_must_not_end_in_v1() {
        for input in ["http://h:8080/v1", "http://h:8080/v1/", "h:8080/v1"] {
            let e = ServerUrl::parse_root(input, 11434).unwrap_err();
            assert_eq!(e.kind, crate::ErrorKind::Usage, "{input}");
            assert!(e.message.contains("ends in /v1"), "{input}: {}", e.message);
            assert!(e.hint.unwrap().contains("(http://h:8080)"), "{input}");
        }
        assert_eq!(
            ServerUrl::parse_root("http://h:8080/proxy", 11434)
                .unwrap()
                .to_url(),
            "http://h:8080/proxy"
        );
        // Read from Claude Code's settings, the same URL parses: the doctor reports it.
        assert!(ServerUrl::parse("http://h:8080/v1", 11434).is_ok());
    }

    use super::*;

    fn p(s: &str) -> Result<ServerUrl> {
        ServerUrl::parse_for(s, None)
    }

    #[test]
    fn one_meaning_for_every_form() {
        assert_eq!(p("localhost").unwrap().to_url(), "http://localhost:11434");
        assert_eq!(
            p("http://mini.local").unwrap().to_url(),
            "http://mini.local:11434"
        );
        assert_eq!(
            p("mini.local:8080").unwrap().to_url(),
            "http://mini.local:8080"
        );
        assert_eq!(p(":11435").unwrap().to_url(), "http://127.0.0.1:11435");
        assert_eq!(
            p("http://127.0.0.1:11434/").unwrap().to_url(),
            "http://127.0.0.1:11434"
        );
        assert_eq!(p("[::1]").unwrap().to_url(), "http://[::1]:11434");
        assert_eq!(p("HTTP://Box:1/v1/").unwrap().to_url(), "http://box:1/v1");
        assert_eq!(
            p("\"0.0.0.0\"").unwrap().reachable().to_url(),
            "http://127.0.0.1:11434"
        );
        assert_eq!(p("[::]:9").unwrap().reachable().to_url(), "http://[::1]:9");
        assert_eq!(
            p("http://h:1/v1").unwrap().without_v1().to_url(),
            "http://h:1"
        );
    }

    #[test]
    fn default_port_follows_the_named_kind() {
        let u = ServerUrl::parse_for("127.0.0.1", Some(ServerKind::LlamaServer)).unwrap();
        assert_eq!(u.port, 8080);
        let u = ServerUrl::parse_for("http://box", Some(ServerKind::LmStudio)).unwrap();
        assert_eq!(u.port, 1234);
        let u = ServerUrl::parse_for("box:7", Some(ServerKind::Vllm)).unwrap();
        assert_eq!(u.port, 7);
    }

    #[test]
    fn refusals_are_clear() {
        let e = p("https://x").unwrap_err();
        assert!(is_https_refusal(&e) && e.message.contains("https"), "{e:?}");
        for (input, why) in [
            ("http://h:99999", "1 to 65535"),
            ("http://h:0", "1 to 65535"),
            ("h:abc", "not a number"),
            ("http://", "no host"),
            ("", "empty"),
            ("ftp://h", "only http://"),
            ("h'$(x)", "no usable host"),
            ("a b", "spaces"),
            ("::1", "without brackets"),
            ("user@h:1", "no usable host"),
            ("[::1", "unclosed"),
        ] {
            let e = p(input).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Usage, "{input}");
            assert!(e.message.contains(why), "{input}: {}", e.message);
        }
    }

    #[test]
    fn local_hosts() {
        assert!(is_local_host("127.0.0.1") && is_local_host("localhost") && is_local_host("[::1]"));
        assert!(!is_local_host("192.0.2.7"));
    }
}
