//! Shell integration: the shell function (bash, zsh, fish) that runs cclocal's
//! launcher, the rc file it goes into, and the marked block that `cclocal alias --write`
//! owns in that file.

pub mod quote;
pub mod scan;
pub mod templates;

use crate::error::{Error, Result};
use crate::paths::Paths;
use std::path::{Path, PathBuf};
use templates::render;

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

/// The line indices of the marker lines: (starts, ends). A marker counts only as a whole
/// line that begins at top level, outside any quote, here-document, command substitution
/// or continuation ([`scan`]); the same text anywhere else is data.
fn markers(lines: &[&str], path: &Path) -> (Vec<usize>, Vec<usize>) {
    let top = scan::top_level_lines(lines, scan::Dialect::of_path(path));
    let is = |i: usize, m: &str| top[i] && lines[i].trim_end() == m;
    (
        (0..lines.len()).filter(|&i| is(i, BLOCK_START)).collect(),
        (0..lines.len()).filter(|&i| is(i, BLOCK_END)).collect(),
    )
}

fn refuse(path: &Path, why: &str) -> Error {
    Error::parse(format!("{} {why}; cclocal leaves it alone", path.display()))
        .with_subject(path.display().to_string())
        .with_hint(format!(
            "keep exactly one `{BLOCK_START}` … `{BLOCK_END}` block (or none), each marker a whole line outside any quote or here-document, and run again"
        ))
}

/// The line range of the one block, `None` when there is none; unbalanced or repeated
/// markers are refused. Markers count only as whole lines at top level.
fn block_range(lines: &[&str], path: &Path) -> Result<Option<(usize, usize)>> {
    let (starts, ends) = markers(lines, path);
    match (starts.as_slice(), ends.as_slice()) {
        ([], []) => Ok(None),
        ([s], [e]) if s < e => Ok(Some((*s, *e))),
        ([_], [_]) => Err(refuse(
            path,
            "has the cclocal end marker before the start marker",
        )),
        _ if starts.len() > 1 || ends.len() > 1 => {
            Err(refuse(path, "has more than one cclocal block"))
        }
        _ => Err(refuse(path, "has a cclocal marker without its partner")),
    }
}

/// `rc` with the cclocal block replaced by `new_block`, or appended when there is none.
/// Every line outside the block is kept as it was. A file with unbalanced or repeated
/// markers is refused.
pub fn upsert_block(rc: &str, new_block: &str, path: &Path) -> Result<String> {
    let lines: Vec<&str> = rc.split_inclusive('\n').collect();
    match block_range(&lines, path)? {
        None => {
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
        Some((s, e)) => {
            let mut out: String = lines[..s].concat();
            out.push_str(new_block);
            out.push_str(&lines[e + 1..].concat());
            Ok(out)
        }
    }
}

/// The block's text in `rc` (markers included), `None` when there is none.
pub fn find_block(rc: &str, path: &Path) -> Result<Option<String>> {
    let lines: Vec<&str> = rc.split_inclusive('\n').collect();
    Ok(block_range(&lines, path)?.map(|(s, e)| lines[s..=e].concat()))
}

/// `rc` without the cclocal block (and without the blank line [`upsert_block`] put before
/// an appended block, also when lines were added after the block since), every other line
/// as it was. Unchanged when there is no block.
pub fn remove_block(rc: &str, path: &Path) -> Result<String> {
    let lines: Vec<&str> = rc.split_inclusive('\n').collect();
    let Some((mut s, e)) = block_range(&lines, path)? else {
        return Ok(rc.to_string());
    };
    if s > 0 && lines[s - 1] == "\n" {
        s -= 1;
    }
    let mut out: String = lines[..s].concat();
    out.push_str(&lines[e + 1..].concat());
    Ok(out)
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
    fn markers_inside_heredocs_are_text() {
        let p = Path::new("/h/.bashrc");
        let rc =
            format!("cat > /tmp/x <<'EOF'\n{BLOCK_START}\nkeep me\n{BLOCK_END}\nEOF\nexport B=2\n");
        let out = upsert_block(&rc, &block("new\n"), p).unwrap();
        assert_eq!(out, format!("{rc}\n{}", block("new\n")));
        assert_eq!(find_block(&out, p).unwrap(), Some(block("new\n")));
        assert_eq!(remove_block(&out, p).unwrap(), rc);
        // <<- strips tabs from the terminator; <<< is a here-string; quoted << is text.
        let rc2 = format!(
            "f() {{\n\tcat <<-END\n{BLOCK_START}\n\tEND\n}}\necho '<<X'\ncat <<< \"{BLOCK_END}\"\n"
        );
        assert_eq!(find_block(&rc2, p).unwrap(), None);
        // A marker inside a heredoc plus a real block: the real one is replaced.
        let both = format!("{rc}{}", block("old\n"));
        assert_eq!(
            upsert_block(&both, &block("two\n"), p).unwrap(),
            format!("{rc}{}", block("two\n"))
        );
    }

    #[test]
    fn shifts_and_unterminated_heredocs_do_not_hide_the_block() {
        let p = Path::new("/h/.bashrc");
        for pre in [
            "x=$((1<<2))\n",
            "(( y = 1 << 3 ))\n",
            "cat <<EOF\nnever closed\n",
        ] {
            let once = upsert_block(pre, &block("a\n"), p).unwrap();
            let twice = upsert_block(&once, &block("b\n"), p).unwrap();
            assert_eq!(twice.matches(BLOCK_START).count(), 1, "{pre:?}: {twice}");
            assert!(twice.contains("b\n"), "{pre:?}");
        }
    }

    /// Fragments of shell text that each end complete, many with marker-looking lines in
    /// places where they are data (a here-document, a multi-line string, a continuation).
    pub(crate) const TRICKY_POSIX: &[&str] = &[
        "cat >/dev/null <<'EOF'\n# >>> cclocal >>>\n`echo ran >&2`\n# <<< cclocal <<<\nEOF\n",
        "cat >/dev/null <<EOF\n$(printf '%s' '\n# >>> cclocal >>>\n')\nEOF\n",
        ": <<-X\n# >>> cclocal >>>\n\tX\n",
        "echo $'it\\'s <<EOF' >/dev/null\n",
        "true;# cat <<EOF\n",
        "x='\n# >>> cclocal >>>\n'\n",
        "y=\"\n# <<< cclocal <<<\n\"\n",
        "z=$(cat <<E\n# >>> cclocal >>>\nE\n)\n",
        "a=$((1<<2))\n",
        "cat <<< '<<EOF' >/dev/null\n",
        "cat >/dev/null <<A; cat >/dev/null <<\"B\"\nA\n# >>> cclocal >>>\nB\n",
        "echo \\\n# >>> cclocal >>>\n",
        "echo a#b >/dev/null <<EOF\n# <<< cclocal <<<\nEOF\n",
        "case x in a) echo;; esac\n",
        "echo '#' \"#\" >/dev/null # c <<EOF\n",
        "true |\n# >>> cclocal >>>\n  cat >/dev/null\n",
        "b=`echo '\n# >>> cclocal >>>\n'`\n",
        "export P=\"$HOME/bin:$PATH\"\n",
    ];

    pub(crate) const TRICKY_FISH: &[&str] = &[
        "echo 'it\\'s\n# >>> cclocal >>>\n' >/dev/null\n",
        "set x (echo \"\n# >>> cclocal >>>\n\")\n",
        "set y \"\n# <<< cclocal <<<\n\"\n",
        "echo a \\\n# >>> cclocal >>>\n",
        "echo '#' >/dev/null # <<EOF\n",
        "set -gx P $HOME/bin $PATH\n",
    ];

    /// A small deterministic generator (xorshift): the same texts on every run.
    pub(crate) fn generated(frags: &[&str], seed: u64, n: usize) -> String {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut out = String::new();
        for _ in 0..n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.push_str(frags[(x % frags.len() as u64) as usize]);
        }
        out
    }

    #[test]
    fn the_reported_cases_keep_one_block() {
        let p = Path::new("/h/.bashrc");
        for pre in [
            "echo $'it\\'s <<EOF'\n",
            "true;# cat <<EOF\n",
            "cat <<EOF\n`date`\n# >>> cclocal >>>\nEOF\n",
        ] {
            let once = upsert_block(pre, &block("a\n"), p).unwrap();
            assert_eq!(once, format!("{pre}\n{}", block("a\n")), "{pre:?}");
            let twice = upsert_block(&once, &block("b\n"), p).unwrap();
            assert_eq!(twice, format!("{pre}\n{}", block("b\n")), "{pre:?}");
            assert_eq!(remove_block(&twice, p).unwrap(), pre);
        }
    }

    #[test]
    fn generated_text_keeps_its_lines_and_gets_one_block() {
        for (frags, p) in [
            (TRICKY_POSIX, Path::new("/h/.bashrc")),
            (TRICKY_FISH, Path::new("/h/.config/fish/config.fish")),
        ] {
            for seed in 0..400 {
                let rc = generated(frags, seed, 1 + (seed as usize % 7));
                assert_eq!(find_block(&rc, p).unwrap(), None, "{rc}");
                let once = upsert_block(&rc, &block("a\n"), p).unwrap();
                assert_eq!(once, format!("{rc}\n{}", block("a\n")), "{rc}");
                let twice = upsert_block(&once, &block("b\n"), p).unwrap();
                assert_eq!(twice, format!("{rc}\n{}", block("b\n")), "{rc}");
                // A user's text after the block stays after it.
                let tail = generated(frags, seed + 1000, 2);
                let with_tail = format!("{twice}{tail}");
                let again = upsert_block(&with_tail, &block("c\n"), p).unwrap();
                assert_eq!(
                    again,
                    format!("{rc}\n{}{tail}", block("c\n")),
                    "{with_tail}"
                );
            }
        }
    }

    #[test]
    fn remove_is_the_inverse_of_append() {
        let p = Path::new("/h/.bashrc");
        for rc in ["", "export A=1\n", "a\n\n", "x\n"] {
            let once = upsert_block(rc, &block("one\n"), p).unwrap();
            assert_eq!(remove_block(&once, p).unwrap(), rc, "{rc:?}");
        }
        // A user line after the block stays, and the blank line the append put before
        // the block goes (issue 21: `alias --remove` left it).
        let once = upsert_block("a\n", &block("one\n"), p).unwrap();
        assert_eq!(
            remove_block(&format!("{once}echo mine\n"), p).unwrap(),
            "a\necho mine\n"
        );
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
