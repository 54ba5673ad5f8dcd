//! Shell integration: the shell function (bash, zsh, fish) that runs cclocal's
//! launcher, the rc file it goes into, and the marked block that `cclocal alias --write`
//! owns in that file.

pub mod quote;

use crate::error::{Error, Result};
use crate::setup::paths::Paths;
use crate::setup::render::render;
use std::path::{Path, PathBuf};

pub const BLOCK_START: &str = "# >>> cclocal >>>";
pub const BLOCK_END: &str = "# <<< cclocal <<<";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
        }
    }

    /// The shell named by `$SHELL`, if it is one of these.
    pub fn from_env() -> Option<Shell> {
        let sh = std::env::var_os("SHELL")?;
        match Path::new(&sh).file_name()?.to_str()? {
            "bash" => Some(Shell::Bash),
            "zsh" => Some(Shell::Zsh),
            "fish" => Some(Shell::Fish),
            _ => None,
        }
    }

    /// The interactive rc file: `~/.bashrc`, `${ZDOTDIR:-~}/.zshrc`,
    /// `${XDG_CONFIG_HOME:-~/.config}/fish/config.fish`.
    pub fn rc_file(self, paths: &Paths) -> PathBuf {
        match self {
            Shell::Bash => paths.home.join(".bashrc"),
            Shell::Zsh => match std::env::var_os("ZDOTDIR").map(PathBuf::from) {
                Some(d) if d.is_absolute() => d.join(".zshrc"),
                _ => paths.home.join(".zshrc"),
            },
            Shell::Fish => paths.xdg_config.join("fish/config.fish"),
        }
    }
}

/// The alias (or fish function) `name` that runs `command` (a path, passed as one word).
pub fn snippet(shell: Shell, name: &str, command: &Path) -> Result<String> {
    if !quote::is_command_name(name) {
        return Err(Error::usage(format!("{name:?} cannot be an alias name"))
            .with_hint("use letters, digits, '_', '-' and '.', not starting with '-' or '.'"));
    }
    let command = command.to_str().ok_or_else(|| {
        Error::usage("the launcher path is not UTF-8").with_subject(command.display().to_string())
    })?;
    let ctx = minijinja::context! { name => name, command => command };
    match shell {
        Shell::Bash | Shell::Zsh => render("alias.sh", ctx),
        Shell::Fish => render("alias.fish", ctx),
    }
}

/// The marked block holding `body`.
pub fn block(body: &str) -> String {
    let mut s = format!("{BLOCK_START}\n# Managed by `cclocal alias --write`; the lines between the markers are replaced.\n");
    s.push_str(body);
    if !body.ends_with('\n') {
        s.push('\n');
    }
    s.push_str(BLOCK_END);
    s.push('\n');
    s
}

/// `rc` with the cclocal block replaced by `new_block`, or appended when there is none.
/// Every line outside the block is kept as it was. A file with unbalanced or repeated
/// markers is refused.
pub fn upsert_block(rc: &str, new_block: &str, path: &Path) -> Result<String> {
    let lines: Vec<&str> = rc.split_inclusive('\n').collect();
    let is = |l: &str, m: &str| l.trim_end() == m;
    let starts: Vec<usize> = (0..lines.len())
        .filter(|&i| is(lines[i], BLOCK_START))
        .collect();
    let ends: Vec<usize> = (0..lines.len())
        .filter(|&i| is(lines[i], BLOCK_END))
        .collect();
    let refuse = |why: &str| {
        Error::parse(format!("{} {why}; cclocal leaves it alone", path.display()))
            .with_subject(path.display().to_string())
            .with_hint(format!(
                "keep exactly one `{BLOCK_START}` … `{BLOCK_END}` block (or none) and run again"
            ))
    };
    match (starts.as_slice(), ends.as_slice()) {
        ([], []) => {
            let mut out = rc.to_string();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(new_block);
            Ok(out)
        }
        ([s], [e]) if s < e => {
            let mut out: String = lines[..*s].concat();
            out.push_str(new_block);
            out.push_str(&lines[e + 1..].concat());
            Ok(out)
        }
        ([_], [_]) => Err(refuse("has the cclocal end marker before the start marker")),
        _ if starts.len() > 1 || ends.len() > 1 => Err(refuse("has more than one cclocal block")),
        _ => Err(refuse("has a cclocal marker without its partner")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_is_appended_then_replaced_in_place() {
        let p = Path::new("/h/.bashrc");
        let rc = "export A=1\nalias ll='ls -l'";
        let once = upsert_block(rc, &block("one\n"), p).unwrap();
        assert_eq!(
            once,
            format!("export A=1\nalias ll='ls -l'\n\n{}", block("one\n"))
        );
        let with_tail = format!("{once}echo after\n");
        let twice = upsert_block(&with_tail, &block("two\n"), p).unwrap();
        assert_eq!(
            twice,
            format!(
                "export A=1\nalias ll='ls -l'\n\n{}echo after\n",
                block("two\n")
            )
        );
        assert_eq!(upsert_block(&twice, &block("two\n"), p).unwrap(), twice);
        assert_eq!(upsert_block("", &block("x"), p).unwrap(), block("x"));
    }

    #[test]
    fn broken_markers_are_refused() {
        let p = Path::new("/h/.zshrc");
        let b = block("x");
        for bad in [
            format!("{BLOCK_START}\n"),
            format!("{BLOCK_END}\n{BLOCK_START}\n"),
            format!("{b}{b}"),
        ] {
            assert!(upsert_block(&bad, &block("y"), p).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(snippet(Shell::Bash, "x;rm", Path::new("/bin/true")).is_err());
        let s = snippet(Shell::Zsh, "cl", Path::new("/a b/c")).unwrap();
        assert!(s.contains("cl() { '/a b/c' \"$@\"; }"), "{s}");
        let f = snippet(Shell::Fish, "cl", Path::new("/a b/c")).unwrap();
        assert!(f.contains("'/a b/c' $argv"), "{f}");
    }
}
