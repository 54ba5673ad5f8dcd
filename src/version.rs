//! The one version type: `major.minor.patch`, for Claude Code (`2.1.332`, strict) and for
//! the servers (`v0.33.0-rc2`, `0.11.1.dev12+g…`, `0.15`: [`Version::loose`]), compared as
//! numbers.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// A version, `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// A server's version text: an optional `v`, then `major.minor[.patch]`, each part's
    /// leading digits counting (`0.10.2rc1` is 0.10.2, `0.33.0-rc2` is 0.33.0,
    /// `0.11.1.dev12+gabc` is 0.11.1); a missing patch is 0. `None` without a major and a
    /// minor.
    pub fn loose(s: &str) -> Option<Version> {
        let core = s.trim().trim_start_matches('v');
        let mut it = core.split(['.', '+', '-']);
        let num = |p: Option<&str>| -> Option<u32> {
            let d: String = p?.chars().take_while(char::is_ascii_digit).collect();
            d.parse().ok()
        };
        Some(Version(
            num(it.next())?,
            num(it.next())?,
            num(it.next()).unwrap_or(0),
        ))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl FromStr for Version {
    type Err = crate::error::Error;
    /// Parses `2.1.332` or `claude --version` output (`2.1.332 (Claude Code)`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let word = s.split_whitespace().next().unwrap_or("");
        let word = word.trim_start_matches('v');
        let core = word.split(['-', '+']).next().unwrap_or("");
        let mut it = core.split('.').map(|p| p.parse::<u32>());
        match (it.next(), it.next(), it.next(), it.next()) {
            (Some(Ok(a)), Some(Ok(b)), Some(Ok(c)), None) => Ok(Version(a, b, c)),
            _ => Err(
                crate::error::Error::usage(format!("invalid Claude Code version {s:?}"))
                    .with_hint("write a version like 2.1.332"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_server_versions() {
        for (t, v) in [
            ("0.11.1", Version(0, 11, 1)),
            ("0.10.2rc1", Version(0, 10, 2)),
            ("0.11.1.dev12+gabc", Version(0, 11, 1)),
            ("v0.33.0-rc2", Version(0, 33, 0)),
            ("0.15", Version(0, 15, 0)),
        ] {
            assert_eq!(Version::loose(t), Some(v), "{t}");
        }
        for bad in ["", "x", "1", "v"] {
            assert_eq!(Version::loose(bad), None, "{bad}");
        }
        assert!(Version::loose("0.10.2").unwrap() < Version(0, 11, 1));
        assert_eq!(
            "2.1.332 (Claude Code)".parse::<Version>().unwrap(),
            Version(2, 1, 332)
        );
    }
}
