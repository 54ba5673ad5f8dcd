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

/// Indices of the lines that are inside a here-document (bash/zsh `<<WORD`, `<<-WORD`,
/// quoted or not), including the terminator lines. A marker there is text, not a marker.
fn heredoc_lines(lines: &[&str]) -> Vec<bool> {
    let mut inside = vec![false; lines.len()];
    let mut pending: std::collections::VecDeque<(String, bool)> = Default::default();
    let mut opened_at = 0;
    for (i, line) in lines.iter().enumerate() {
        let l = line.trim_end_matches(['\n', '\r']);
        if let Some((word, dash)) = pending.front() {
            if i > 0 && !inside[i - 1] {
                opened_at = i;
            }
            inside[i] = true;
            let cmp = if *dash { l.trim_start_matches('\t') } else { l };
            if cmp == word {
                pending.pop_front();
            }
            continue;
        }
        if l.trim_start().starts_with('#') {
            continue;
        }
        pending.extend(heredoc_words(l));
    }
    if !pending.is_empty() {
        // Never terminated: not a here-document bash would run; judge those lines as lines.
        for v in &mut inside[opened_at..] {
            *v = false;
        }
    }
    inside
}

/// The here-document delimiters a command line opens, in order (`<<<` is a here-string).
fn heredoc_words(line: &str) -> Vec<(String, bool)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                } else if c == b'\\' && q == b'"' {
                    i += 1;
                }
                i += 1;
                continue;
            }
            None if c == b'\'' || c == b'"' => {
                quote = Some(c);
                i += 1;
                continue;
            }
            None if c == b'\\' => {
                i += 2;
                continue;
            }
            None if c == b'#' && (i == 0 || b[i - 1] == b' ' || b[i - 1] == b'\t') => break,
            None => {}
        }
        // `<<` inside `$(( ))` / `(( ))` is a shift, not a here-document.
        let in_arith = line[..i].matches("((").count() > line[..i].matches("))").count();
        if c == b'<'
            && b.get(i + 1) == Some(&b'<')
            && b.get(i + 2) != Some(&b'<')
            && b.get(i + 2) != Some(&b'(')
            && !in_arith
        {
            let mut j = i + 2;
            let dash = b.get(j) == Some(&b'-');
            if dash {
                j += 1;
            }
            while b.get(j).is_some_and(|c| *c == b' ' || *c == b'\t') {
                j += 1;
            }
            let mut word = String::new();
            while let Some(&c) = b.get(j) {
                match c {
                    b'\'' | b'"' => {
                        let end = line[j + 1..].find(c as char).map(|k| j + 1 + k);
                        match end {
                            Some(e) => {
                                word.push_str(&line[j + 1..e]);
                                j = e + 1;
                            }
                            None => break,
                        }
                    }
                    b'\\' => j += 1,
                    b' ' | b'\t' | b';' | b'|' | b'&' | b')' | b'<' | b'>' => break,
                    _ => {
                        word.push(c as char);
                        j += 1;
                    }
                }
            }
            if !word.is_empty() {
                out.push((word, dash));
            }
            i = j;
            continue;
        }
        if b.get(i) == Some(&b'<') && b.get(i + 1) == Some(&b'<') {
            i += 3;
            continue;
        }
        i += 1;
    }
    out
}

/// The line indices of the marker lines outside here-documents: (starts, ends).
fn markers(lines: &[&str]) -> (Vec<usize>, Vec<usize>) {
    let inside = heredoc_lines(lines);
    let is = |i: usize, m: &str| !inside[i] && lines[i].trim_end() == m;
    (
        (0..lines.len()).filter(|&i| is(i, BLOCK_START)).collect(),
        (0..lines.len()).filter(|&i| is(i, BLOCK_END)).collect(),
    )
}

fn refuse(path: &Path, why: &str) -> Error {
    Error::parse(format!("{} {why}; cclocal leaves it alone", path.display()))
        .with_subject(path.display().to_string())
        .with_hint(format!(
            "keep exactly one `{BLOCK_START}` … `{BLOCK_END}` block (or none), each marker a whole line outside any here-document, and run again"
        ))
}

/// The line range of the one block, `None` when there is none; unbalanced or repeated
/// markers are refused. Markers count only as whole lines outside here-documents.
fn block_range(lines: &[&str], path: &Path) -> Result<Option<(usize, usize)>> {
    let (starts, ends) = markers(lines);
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
/// an appended block), every other line as it was. Unchanged when there is no block.
pub fn remove_block(rc: &str, path: &Path) -> Result<String> {
    let lines: Vec<&str> = rc.split_inclusive('\n').collect();
    let Some((mut s, e)) = block_range(&lines, path)? else {
        return Ok(rc.to_string());
    };
    if e + 1 == lines.len() && s > 0 && lines[s - 1] == "\n" {
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

    #[test]
    fn remove_is_the_inverse_of_append() {
        let p = Path::new("/h/.bashrc");
        for rc in ["", "export A=1\n", "a\n\n", "x\n"] {
            let once = upsert_block(rc, &block("one\n"), p).unwrap();
            assert_eq!(remove_block(&once, p).unwrap(), rc, "{rc:?}");
        }
        // A user line after the block stays.
        let once = upsert_block("a\n", &block("one\n"), p).unwrap();
        assert_eq!(
            remove_block(&format!("{once}echo mine\n"), p).unwrap(),
            "a\n\necho mine\n"
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
