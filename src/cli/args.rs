//! The command line's vocabulary in one place: every flag that more than one command takes
//! has its value parser and placeholder here, so `--ctx 32K` or `--kv-type q8_0` mean the
//! same thing in `plan`, `setup`, `bench`, `doctor` and `logs`.
//!
//! A command's `clap::Args` struct names the flag and uses these:
//!
//! ```ignore
//! #[arg(long, value_name = args::TOKENS, value_parser = args::ctx)]
//! pub ctx: Option<u64>,
//! ```
//!
//! `tests/it/cli_vocabulary.rs` walks every subcommand and fails when one long flag has two
//! parsers or two placeholders. Old spellings stay as hidden aliases (`--kv-cache-type`,
//! `--kv`, `--flash-attention`).

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

/// Placeholder of a context length (`--ctx`, `--server-ctx`).
pub const TOKENS: &str = "TOKENS";
/// Placeholder of a KV cache type (`--kv-type`).
pub const KV_TYPE: &str = "TYPE";
/// Placeholder of an on/off switch (`--flash-attn`).
pub const ON_OFF: &str = "on|off";
/// Placeholder of a server address (`--host`).
pub const URL: &str = "URL";
/// Placeholder of a memory size (`--memory`, `--mac-ram`).
pub const SIZE: &str = "SIZE";
/// Placeholder of a Claude Code version (`--claude-version`).
pub const VERSION: &str = "VERSION";
/// Placeholder of a model name (`--model`).
pub const MODEL: &str = "MODEL";
/// A server kind (`--server`).
pub const KIND: &str = "KIND";

pub use crate::units::{context_tokens as ctx, MAX_CTX};

/// A KV cache type, lower-cased: f16, q8_0, q4_0, … (llama.cpp's cache types; which of
/// them a server accepts is checked where the server is known).
pub fn kv_type(s: &str) -> Result<String, String> {
    crate::memory::parse_cache_type(s).map_err(|e| match e.hint {
        Some(h) => format!("{}; {h}", e.message),
        None => e.message,
    })?;
    Ok(s.trim().to_ascii_lowercase())
}

/// `on` or `off` (also `true`/`false`, `yes`/`no`, `1`/`0`), as a bool.
pub fn on_off() -> impl TypedValueParser<Value = bool> {
    PossibleValuesParser::new([
        PossibleValue::new("on").aliases(["true", "yes", "1"]),
        PossibleValue::new("off").aliases(["false", "no", "0"]),
    ])
    .map(|s| s == "on")
}

/// A server address as the user typed it (a URL, `HOST` or `HOST:PORT`), checked once for
/// every command (`crate::server::ServerUrl`): http, a host, a port from 1 to 65535, no
/// `/v1` suffix. A bare `:PORT` (as `OLLAMA_HOST` allows) means this machine. The commands
/// resolve it to a URL themselves.
pub fn host(s: &str) -> Result<String, String> {
    let t = s.trim();
    let local;
    let t = match t.strip_prefix(':') {
        Some(port) => {
            local = format!("127.0.0.1:{port}");
            local.as_str()
        }
        None => t,
    };
    crate::server::ServerUrl::parse_root(t, crate::server::ServerKind::Ollama.default_port())
        .map_err(|e| match e.hint {
            Some(h) => format!("{}; {h}", e.message),
            None => e.message,
        })?;
    Ok(t.to_string())
}

/// A memory size in bytes: `24GiB`, `24G`, `24GB`, `512MiB`. Every unit is binary, as
/// memory is sold: a "64GB" Mac has 64 GiB (one meaning everywhere: `crate::units::parse_size`,
/// docs/planner.md "Sizes").
pub fn size(s: &str) -> Result<u64, String> {
    crate::units::parse_size(s).map_err(|e| match e.hint {
        Some(h) => format!("{}; {h}", e.message),
        None => e.message,
    })
}

/// A Mac's RAM as Apple writes it (`64GB` = 64 GiB): the same parser as `size`.
pub fn mac_ram(s: &str) -> Result<u64, String> {
    size(s)
}

/// A Claude Code version such as `2.1.332`, checked; the commands parse it again.
pub fn claude_version(s: &str) -> Result<String, String> {
    s.parse::<crate::claude::Version>()
        .map_err(|e| format!("{}; write a version like 2.1.332", e.message))?;
    Ok(s.trim().to_string())
}

/// A server kind (`--server`): ollama, llama-server, lmstudio, vllm, vllm-mlx, omlx, mlx-lm,
/// unknown (aliases such as `llama.cpp` and `lms` too), one parser for every command.
pub fn server_kind(s: &str) -> Result<crate::server::ServerKind, String> {
    crate::server::ServerKind::parse(s).map_err(|e| match e.hint {
        Some(h) => format!("{}; {h}", e.message),
        None => e.message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctx_takes_plain_and_k() {
        assert_eq!(ctx("32768"), Ok(32768));
        assert_eq!(ctx("32K"), Ok(32768));
        assert_eq!(ctx("32k"), Ok(32768));
        assert_eq!(ctx(" 1M "), Ok(1 << 20));
        assert_eq!(ctx("16M"), Ok(MAX_CTX));
        for bad in [
            "0",
            "",
            "K",
            "17M",
            "-5",
            "32KB",
            "1.5K",
            "99999999999999999999K",
        ] {
            assert!(ctx(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn kv_type_lowercases_and_names_choices() {
        assert_eq!(kv_type("Q8_0").as_deref(), Ok("q8_0"));
        let e = kv_type("q9").unwrap_err();
        assert!(e.contains("q4_0") && e.contains("q9"), "{e}");
    }

    #[test]
    fn host_checks_ports() {
        assert_eq!(host("127.0.0.1:11434").as_deref(), Ok("127.0.0.1:11434"));
        assert!(
            host("https://box.lan").is_err(),
            "https is refused with a clear error"
        );
        assert!(host("[::1]:8080").is_ok());
        assert_eq!(host(":11434").as_deref(), Ok("127.0.0.1:11434"));
        for bad in [
            "",
            "ftp://x",
            "x:99999",
            "x:0",
            "http://x:11434/v1",
            "[::1]:70000",
        ] {
            assert!(host(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn mac_ram_is_binary() {
        assert_eq!(mac_ram("64GB"), Ok(64 << 30));
        assert_eq!(mac_ram("64G"), Ok(64 << 30));
        assert_eq!(size("64GB"), Ok(64 << 30));
        assert_eq!(size("24GiB"), Ok(24 << 30));
        assert!(size("lots").is_err());
    }
}
