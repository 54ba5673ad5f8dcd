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
//! `--kv`, `--flash-attention`); using one prints a warning that names the current flag
//! ([`OLD_SPELLINGS`]).

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

/// Old spellings still accepted (hidden aliases), with the flag that replaced them.
pub const OLD_SPELLINGS: &[(&str, &str)] = &[
    ("--kv-cache-type", "--kv-type"),
    ("--kv", "--kv-type"),
    ("--flash-attention", "--flash-attn"),
    ("--rounds", "--turns"),
];

/// One warning per old spelling used in `argv` (before a `--`), naming the current flag.
pub fn old_spelling_warnings<S: AsRef<std::ffi::OsStr>>(argv: &[S]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in argv.iter().map(|a| a.as_ref().to_string_lossy()) {
        if a == "--" {
            break;
        }
        let flag = a.split('=').next().unwrap_or("");
        if let Some((old, new)) = OLD_SPELLINGS.iter().find(|(old, _)| *old == flag) {
            let w = format!("{old} is an old spelling of {new}; use {new} (the old one will go)");
            if !out.contains(&w) {
                out.push(w);
            }
        }
    }
    out
}

/// A number of tokens that is not a context length (`--turn-output`, `--turn-new`: what a
/// round trip writes or adds): the same digits and suffixes as [`ctx`], 1 to 16M.
pub fn tokens(s: &str) -> Result<u64, String> {
    crate::units::context_tokens(s).map_err(|_| {
        format!("{s:?} is not a number of tokens; write a whole number like 300 or 2K (1 to 16M)")
    })
}

/// Round trips of a Claude Code session (`bench --rounds`, `logs --turns`): 1 to 10000 (a
/// long day's session is a few hundred).
pub const MAX_ROUNDS: u32 = 10_000;

/// A count of round trips (see [`MAX_ROUNDS`]).
pub fn rounds(s: &str) -> Result<u32, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if (1..=i64::from(MAX_ROUNDS)).contains(&n) => Ok(n as u32),
        _ => Err(format!(
            "{s:?} is not a number of round trips; write a whole number from 1 to {MAX_ROUNDS}"
        )),
    }
}

/// Rows to show (`logs --limit`): 0 (all) to a million.
pub fn rows(s: &str) -> Result<usize, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if (0..=1_000_000).contains(&n) => Ok(n as usize),
        _ => Err(format!(
            "{s:?} is not a number of rows; write a whole number from 0 (all) to 1000000"
        )),
    }
}

/// Seconds to wait (`--timeout`): more than 0, at most an hour.
pub fn seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 3600.0 => Ok(v),
        _ => Err(format!(
            "{s:?} is not a time to wait; write seconds like 2.8 or 30 (more than 0, at most 3600)"
        )),
    }
}

/// A KV cache type, lower-cased: f16, q8_0, q4_0, … (llama.cpp's cache types; which of
/// them a server accepts is checked where the server is known).
pub fn kv_type(s: &str) -> Result<String, String> {
    crate::memory::parse_cache_type(s).map_err(|e| match e.hint {
        Some(h) => format!("{}; {h}", e.message),
        None => e.message,
    })?;
    Ok(s.trim().to_ascii_lowercase())
}

/// A value parser with a fixed list of names for `--help` and shell completion (so bash
/// offers `q8_0` after `--kv-type`, not file names); parsing and its errors are `parse`'s.
#[derive(Clone)]
pub struct Named<T: 'static> {
    names: &'static [&'static str],
    parse: fn(&str) -> Result<T, String>,
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Named<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        self.parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.names.iter().map(|n| PossibleValue::new(*n))))
    }
}

/// [`kv_type`] as the type: commands get a `KvType`, not a name to parse again.
fn kv_type_typed(s: &str) -> Result<crate::kv::KvType, String> {
    kv_type(s)?.parse()
}

/// `--kv-type`: [`kv_type`], completing llama.cpp's cache types.
pub fn kv_types() -> Named<crate::kv::KvType> {
    Named {
        names: crate::memory::CACHE_TYPES,
        parse: kv_type_typed,
    }
}

/// The memory budget a command plans for (`plan`, `setup`): `--memory`, or `--mac-ram`
/// for an Apple Silicon Mac; neither: this machine's (`runtime::detect_budget`).
#[derive(clap::Args, Debug, Default, Clone, Copy)]
pub struct MemoryArgs {
    /// Memory budget to plan for instead of this machine's (e.g. 24GiB for a GPU).
    #[arg(long, value_name = SIZE, value_parser = size, conflicts_with = "mac_ram")]
    pub memory: Option<u64>,
    /// Plan for an Apple Silicon Mac with this much RAM (e.g. 64GB = 64 GiB); the GPU
    /// budget is macOS's default working set.
    #[arg(long, value_name = SIZE, value_parser = mac_ram)]
    pub mac_ram: Option<u64>,
}

/// The KV cache and flash attention (`plan`, `setup`, `bench`): lists, so `plan` and
/// `bench` compare several (`--kv-type f16,q8_0`); `setup` configures one. No default of
/// their own: the planner chooses (`bench` measures f16 with flash attention on).
#[derive(clap::Args, Debug, Default, Clone)]
pub struct KvArgs {
    /// KV cache type: f16, q8_0, q4_0, bf16, f32, q4_1, q5_0, q5_1, iq4_nl (plan and bench:
    /// repeatable or comma-separated, to compare; setup takes one). Default: the planner's
    /// choice (bench: f16).
    #[arg(long, value_name = KV_TYPE, value_parser = kv_types(), value_delimiter = ',', alias = "kv-cache-type", alias = "kv")]
    pub kv_type: Vec<crate::kv::KvType>,
    /// Flash attention: on or off (bench: on,off compares both). Default: on.
    #[arg(long, value_name = ON_OFF, value_parser = on_off(), value_delimiter = ',', alias = "flash-attention")]
    pub flash_attn: Vec<bool>,
}

impl KvArgs {
    /// The one KV cache type a command that configures one takes (`setup`); none given:
    /// `None` (the planner's).
    pub fn one_kv_type(&self) -> crate::error::Result<Option<crate::kv::KvType>> {
        one("--kv-type", &self.kv_type, |k| k.name().to_string())
    }

    /// The one flash attention switch (`plan`, `setup`); none given: `None`.
    pub fn one_flash_attn(&self) -> crate::error::Result<Option<bool>> {
        one("--flash-attn", &self.flash_attn, |f| {
            if *f { "on" } else { "off" }.to_string()
        })
    }
}

/// The single value of a list flag (the last of equal ones), or a usage error naming them.
fn one<T: Clone + PartialEq>(
    flag: &str,
    v: &[T],
    name: impl Fn(&T) -> String,
) -> crate::error::Result<Option<T>> {
    let mut distinct: Vec<&T> = Vec::new();
    for x in v {
        if !distinct.contains(&x) {
            distinct.push(x);
        }
    }
    match distinct.as_slice() {
        [] => Ok(None),
        [x] => Ok(Some((*x).clone())),
        many => Err(crate::error::Error::usage(format!(
            "{flag} takes one value here, not {}",
            many.iter().map(|x| name(x)).collect::<Vec<_>>().join(",")
        ))
        .with_hint(format!(
            "pick one; `cclocal plan` and `cclocal bench` compare several with {flag}"
        ))),
    }
}

/// The Claude Code session a turn is priced for (`bench`, `logs --what-if`): the same
/// flags, defaults and rule for `--turn-new` (`predict::default_turn_new`).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct TurnArgs {
    /// Round trips (Claude Code turns) in a session (bench: default 20; logs --what-if: a
    /// synthetic session of N round trips instead of a log).
    #[arg(long, value_name = "N", value_parser = rounds)]
    pub turns: Option<u32>,
    /// The old name of --turns (a warning says so when it is used).
    #[arg(long, value_name = "N", hide = true, conflicts_with = "turns", value_parser = rounds)]
    pub rounds: Option<u32>,
    /// Tokens in the conversation when a turn starts (default: bench: the longest prompt;
    /// logs --what-if: 15000).
    #[arg(long, value_name = TOKENS, value_parser = ctx)]
    pub turn_context: Option<u64>,
    /// Tokens a turn adds (tool results, your message); default: a quarter of the turn
    /// context, at most 2000 (`predict::default_turn_new`).
    #[arg(long, value_name = TOKENS, value_parser = tokens)]
    pub turn_new: Option<u64>,
    /// Tokens the model writes per turn (logs --what-if: when the log does not say).
    #[arg(long, value_name = TOKENS, value_parser = tokens, default_value_t = 300)]
    pub turn_output: u64,
}

impl Default for TurnArgs {
    fn default() -> Self {
        TurnArgs {
            turns: None,
            rounds: None,
            turn_context: None,
            turn_new: None,
            turn_output: 300,
        }
    }
}

impl TurnArgs {
    /// `--turns`, or its old spelling `--rounds`.
    pub fn turns(&self) -> Option<u32> {
        self.turns.or(self.rounds)
    }

    /// The turn to price: the flags, else `context` and `turns`, and `--turn-new`'s one rule.
    pub fn model(&self, context: u64, turns: u32) -> crate::runtime::bench::TurnModel {
        let context_tokens = self.turn_context.unwrap_or(context);
        crate::runtime::bench::TurnModel {
            context_tokens,
            new_tokens: self
                .turn_new
                .unwrap_or_else(|| crate::predict::default_turn_new(context_tokens)),
            output_tokens: self.turn_output,
            rounds: self.turns().unwrap_or(turns),
        }
    }
}

/// The server a command talks to (`--host`): one parser and one resolution order for
/// every command (`cclocal --help`).
#[derive(clap::Args, Debug, Default, Clone)]
pub struct HostArgs {
    /// The server (a URL, HOST, HOST:PORT or :PORT; without a port, the default port of
    /// its kind, else 11434). Default: Claude Code's ANTHROPIC_BASE_URL, then config.toml's
    /// server, then OLLAMA_HOST, then 127.0.0.1 (the order of every command, `cclocal
    /// --help`). bench: measure this server through its API instead of the embedded llama.cpp.
    #[arg(long, value_name = URL, value_parser = host)]
    pub host: Option<String>,
}

/// The model a server serves (`--model`: `doctor`, `setup`, `bench --host`).
#[derive(clap::Args, Debug, Default, Clone)]
pub struct ModelArgs {
    /// The model the server serves: doctor checks it (default: ANTHROPIC_MODEL or the
    /// settings' model), setup configures it, bench --host measures it (default: the one
    /// the server serves or has loaded).
    #[arg(long, value_name = MODEL)]
    pub model: Option<String>,
}

/// The micro-batch of a llama.cpp context (`plan`, `bench`).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct UbatchArgs {
    /// Physical batch size (n_ubatch, llama-server's and llama-bench's -ub); bench caps it
    /// at each batch size.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub ubatch: u32,
}

/// The server's kind (`--server`: `doctor`, `setup`).
#[derive(clap::Args, Debug, Default, Clone, Copy)]
pub struct ServerArgs {
    /// The server's kind: ollama, llama-server, lmstudio, vllm, vllm-mlx, omlx, mlx-lm,
    /// unknown (setup configures the first five). doctor: skips detecting it; setup: the
    /// server to configure (default: the previous setup's, else ollama).
    #[arg(long, value_name = KIND, value_parser = server_kinds())]
    pub server: Option<crate::server::ServerKind>,
}

/// The Claude Code version to plan for (`plan`, `setup`).
#[derive(clap::Args, Debug, Default, Clone, Copy)]
pub struct ClaudeVersionArgs {
    /// Claude Code version to compute settings for (default: the installed one, else
    /// config.toml's, else the newest known; the order of every command, `cclocal --help`).
    #[arg(long, value_name = VERSION, value_parser = claude_version)]
    pub claude_version: Option<crate::claude::Version>,
}

/// Live checks of the server (`doctor`, `status`).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct ProbeArgs {
    /// Do not contact the server; check local files only.
    #[arg(long)]
    pub offline: bool,
    /// Total time budget in seconds for all probes.
    #[arg(long, value_name = "SECONDS", value_parser = seconds, default_value_t = 2.8)]
    pub timeout: f64,
}

impl ProbeArgs {
    /// The probes' time budget: `--timeout`, at most 600 s (a probe waits no longer).
    pub fn budget(&self) -> crate::error::Result<std::time::Duration> {
        let t = self.timeout;
        if !(t.is_finite() && t > 0.0 && t <= 600.0) {
            return Err(
                crate::error::Error::usage(format!("--timeout {t} is out of range"))
                    .with_hint("give seconds between 0 and 600, e.g. --timeout 5"),
            );
        }
        Ok(std::time::Duration::from_secs_f64(t))
    }
}

/// The exit code of a report with findings (`doctor`, `status`, `logs`).
#[derive(clap::Args, Debug, Default, Clone, Copy)]
pub struct StrictArgs {
    /// Exit 1 on warnings too (e.g. a drifted setting).
    #[arg(long)]
    pub strict: bool,
}

/// Commands that write files (`setup`, `alias`, `undo`).
#[derive(clap::Args, Debug, Default, Clone, Copy)]
pub struct WriteArgs {
    /// Show what would change (a diff) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply without asking (every answer comes from flags and defaults). alias and undo
    /// never ask, so there it changes nothing; scripts may pass it to every command.
    #[arg(short, long)]
    pub yes: bool,
}

/// The server kinds `--server` completes (aliases such as `lms` parse too).
const SERVER_KIND_NAMES: &[&str] = &[
    "ollama",
    "llama-server",
    "lmstudio",
    "vllm",
    "vllm-mlx",
    "omlx",
    "mlx-lm",
    "unknown",
];

/// `--server`: [`server_kind`], completing the kinds.
pub fn server_kinds() -> Named<crate::server::ServerKind> {
    Named {
        names: SERVER_KIND_NAMES,
        parse: server_kind,
    }
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
    // A bare IPv6 address (`::1`) is a host, not `:PORT`: bracketed, as in a URL.
    let bracketed;
    let t = if t.parse::<std::net::Ipv6Addr>().is_ok() {
        bracketed = format!("[{t}]");
        bracketed.as_str()
    } else {
        t
    };
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

/// The smallest and largest memory `--memory` takes: 256 MiB (less holds no model worth
/// planning) to 64 TiB.
pub const MEMORY_RANGE: (u64, u64) = (256 << 20, 64 << 40);
const MEMORY_WORDS: &str = "256 MiB to 64 TiB";
/// The smallest and largest Mac memory `--mac-ram` takes: 4 GiB to 2 TiB (Apple sells 8 GB
/// to 512 GB).
pub const MAC_RAM_RANGE: (u64, u64) = (4 << 30, 2 << 40);
const MAC_RAM_WORDS: &str = "4 GB to 2 TB";

fn sized(s: &str, (min, max): (u64, u64), range: &str, what: &str) -> Result<u64, String> {
    let v = crate::units::parse_size(s).map_err(|e| match e.hint {
        Some(h) => format!("{}; {h}", e.message),
        None => e.message,
    })?;
    if (min..=max).contains(&v) {
        return Ok(v);
    }
    let amount = if v < 1024 {
        format!("{v} bytes")
    } else {
        crate::units::human(v)
    };
    Err(format!(
        "{s:?} is {amount}, not {what}; write a size like 64GB ({range})"
    ))
}

/// A memory size in bytes: `24GiB`, `24G`, `24GB`, `512MiB`. Every unit is binary, as
/// memory is sold: a "64GB" Mac has 64 GiB (one meaning everywhere: `crate::units::parse_size`,
/// docs/planner.md "Sizes"). A plain number is bytes, so `24` is refused as too small.
pub fn size(s: &str) -> Result<u64, String> {
    sized(s, MEMORY_RANGE, MEMORY_WORDS, "a machine's memory")
}

/// A Mac's RAM as Apple writes it (`64GB` = 64 GiB): the same units as `size`, within
/// [`MAC_RAM_RANGE`].
pub fn mac_ram(s: &str) -> Result<u64, String> {
    sized(s, MAC_RAM_RANGE, MAC_RAM_WORDS, "a Mac's memory")
}

/// A Claude Code version such as `2.1.332`, checked; the commands parse it again.
pub fn claude_version(s: &str) -> Result<crate::claude::Version, String> {
    s.parse::<crate::claude::Version>()
        .map_err(|e| format!("{}; write a version like 2.1.332", e.message))
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
    fn server_kind_names_are_the_kinds() {
        let mut want: Vec<&str> = crate::server::KINDS.iter().map(|k| k.name).collect();
        let mut have = SERVER_KIND_NAMES.to_vec();
        want.sort_unstable();
        have.sort_unstable();
        assert_eq!(have, want);
    }

    #[test]
    fn old_spellings_warn_once_each() {
        let w = old_spelling_warnings(&[
            "setup",
            "--kv-cache-type",
            "q8_0",
            "--kv=f16",
            "--kv-cache-type",
            "f16",
            "--",
            "--flash-attention",
        ]);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("--kv-type") && w[0].contains("--kv-cache-type"));
        assert!(old_spelling_warnings(&["setup", "--kv-type", "q8_0"]).is_empty());
        let w = old_spelling_warnings(&["bench", "--host", "x", "--rounds=3"]);
        assert_eq!(
            w,
            ["--rounds is an old spelling of --turns; use --turns (the old one will go)"]
        );
    }

    #[test]
    fn numbers_have_ranges() {
        assert_eq!(tokens("300"), Ok(300));
        assert!(tokens("0").unwrap_err().contains("number of tokens"));
        assert_eq!(rounds("20"), Ok(20));
        for bad in ["0", "-5", "100000000", "x"] {
            assert!(rounds(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(seconds("2.8"), Ok(2.8));
        for bad in ["0", "-1", "inf", "NaN", "99999"] {
            assert!(seconds(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(rows("0"), Ok(0));
        assert!(rows("-3").is_err());
        let e = mac_ram("8").unwrap_err();
        assert!(e.contains("8 bytes") && e.contains("4 GB"), "{e}");
        assert!(size("24").is_err());
        assert_eq!(host("::1").as_deref(), Ok("[::1]"));
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
