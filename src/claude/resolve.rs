//! Which Claude Code version a command computes settings for: one order for every command
//! (`plan`, `setup`, `doctor`, `status`; README "Which server and which Claude Code"):
//!
//! 1. `--claude-version`;
//! 2. the installed one (`claude --version` of the `claude` cclocal finds);
//! 3. the version the last `cclocal setup` computed the settings for (config.toml);
//! 4. the newest version cclocal knows ([`LATEST_KNOWN`]).

use super::{Version, LATEST_KNOWN};

/// Where the version came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Argument,
    Installed,
    Configured,
    LatestKnown,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Argument => "argument",
            Source::Installed => "installed",
            Source::Configured => "config.toml",
            Source::LatestKnown => "latest known",
        }
    }
}

/// The version, in the one order; `installed` is asked only when no argument is given.
pub fn version(
    arg: Option<Version>,
    installed: impl FnOnce() -> Option<Version>,
    configured: Option<Version>,
) -> (Version, Source) {
    if let Some(v) = arg {
        return (v, Source::Argument);
    }
    if let Some(v) = installed() {
        return (v, Source::Installed);
    }
    match configured {
        Some(v) => (v, Source::Configured),
        None => (LATEST_KNOWN, Source::LatestKnown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_order() {
        let v = |s: &str| s.parse::<Version>().unwrap();
        let (a, i, c) = (v("2.1.121"), v("2.1.197"), v("2.1.42"));
        assert_eq!(version(Some(a), || Some(i), Some(c)), (a, Source::Argument));
        assert_eq!(version(None, || Some(i), Some(c)), (i, Source::Installed));
        assert_eq!(version(None, || None, Some(c)), (c, Source::Configured));
        assert_eq!(
            version(None, || None, None),
            (LATEST_KNOWN, Source::LatestKnown)
        );
    }
}
