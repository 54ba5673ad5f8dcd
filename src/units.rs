//! Byte sizes: parsing `64GiB`-style arguments and formatting for people.

use crate::error::{Error, Result};

pub const KIB: u64 = 1 << 10;
pub const MIB: u64 = 1 << 20;
pub const GIB: u64 = 1 << 30;

/// The largest context `--ctx` and every other context flag accept (16M tokens; no model trains longer).
pub const MAX_CTX: u64 = 16 * 1024 * 1024;

/// A context length in tokens: `32768`, or with a binary `K`/`M` suffix (`32K` = 32768,
/// `1M` = 1048576), between 1 and 16M.
pub fn context_tokens(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.strip_suffix(['k', 'K']) {
        Some(n) => (n, 1024),
        None => match t.strip_suffix(['m', 'M']) {
            Some(n) => (n, 1024 * 1024),
            None => (t, 1),
        },
    };
    match num.trim().parse::<u64>() {
        Ok(n) if n > 0 && n.saturating_mul(mult) <= MAX_CTX => Ok(n * mult),
        _ => Err(format!(
            "{s:?} is not a context length; write tokens like 32768 or 32K (1 to 16M)"
        )),
    }
}

/// Parses a size such as `64GiB`, `64G`, `64GB`, `512MiB`, `1.5TiB` or a plain byte count.
///
/// Every unit is binary: `64GB`, `64G` and `64GiB` all mean 64 × 2³⁰ bytes, because memory
/// is sold and reported in binary units written "GB" (a "64GB" Mac has 64 GiB; a "24GB" GPU
/// 24 GiB). One parser and one meaning for `--memory` and `--mac-ram` in every command
/// (docs/planner.md, "Sizes").
pub fn parse_size(s: &str) -> Result<u64> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| bad_size(s))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => KIB as f64,
        "m" | "mib" => MIB as f64,
        "g" | "gib" => GIB as f64,
        "t" | "tib" => (GIB * 1024) as f64,
        "kb" => KIB as f64,
        "mb" => MIB as f64,
        "gb" => GIB as f64,
        "tb" => (GIB * 1024) as f64,
        _ => return Err(bad_size(s)),
    };
    let v = n * mult;
    if !v.is_finite() || !(1.0..=1e18).contains(&v) {
        return Err(bad_size(s));
    }
    Ok(v.round() as u64)
}

fn bad_size(s: &str) -> Error {
    Error::usage(format!("invalid size {s:?}"))
        .with_hint("write a size like 64GiB, 48G, 64GB or 512MiB")
}

/// Formats bytes in MiB with two decimals, as llama.cpp logs them.
pub fn mib(bytes: u64) -> String {
    format!("{:.2} MiB", bytes as f64 / MIB as f64)
}

/// Formats bytes with a binary unit chosen for readability.
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if bytes >= GIB {
        format!("{:.2} GiB", b / GIB as f64)
    } else if bytes >= MIB {
        format!("{:.1} MiB", b / MIB as f64)
    } else if bytes >= KIB {
        format!("{:.1} KiB", b / KIB as f64)
    } else {
        format!("{bytes} B")
    }
}

/// Formats a token count compactly: 32768 → `32K`, 262144 → `256K`, 100000 → `100000`.
pub fn tokens(n: u64) -> String {
    if n >= 1024 && n % 1024 == 0 {
        format!("{}K", n / 1024)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64GiB").unwrap(), 64 * GIB);
        assert_eq!(parse_size("64G").unwrap(), 64 * GIB);
        assert_eq!(parse_size("64GB").unwrap(), 64 * GIB);
        assert_eq!(parse_size("24gb").unwrap(), 24 * GIB);
        assert_eq!(parse_size("1TB").unwrap(), 1024 * GIB);
        assert_eq!(parse_size("512 MiB").unwrap(), 512 * MIB);
        assert_eq!(parse_size("1.5GiB").unwrap(), 3 * GIB / 2);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        for bad in ["", "GiB", "-1G", "12XB", "1e400G", "0"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formatting() {
        assert_eq!(mib(408 * MIB), "408.00 MiB");
        assert_eq!(tokens(32768), "32K");
        assert_eq!(tokens(100000), "100000");
        assert_eq!(human(3 * GIB / 2), "1.50 GiB");
    }
}

/// Most names a message lists before "… and N more".
pub const LIST_MAX: usize = 10;

/// `items` joined with `, `, at most [`LIST_MAX`] of them, then `… and N more`: a server
/// that lists a million models gets a message of one line, not megabytes.
pub fn list_some<S: AsRef<str>>(items: &[S]) -> String {
    list_at_most(items, LIST_MAX)
}

/// [`list_some`] with another cap.
pub fn list_at_most<S: AsRef<str>>(items: &[S], max: usize) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(AsRef::as_ref).collect();
    let mut s = shown.join(", ");
    if items.len() > max {
        s.push_str(&format!(" … and {} more", items.len() - max));
    }
    s
}

#[cfg(test)]
mod list_tests {
    #[test]
    fn long_lists_are_cut() {
        assert_eq!(super::list_some(&["a", "b"]), "a, b");
        let many: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
        let s = super::list_some(&many);
        assert!(s.ends_with("m9 … and 990 more"), "{s}");
        assert_eq!(super::list_at_most(&many, 0), " … and 1000 more");
    }
}
