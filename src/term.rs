//! Text for the terminal. What a server or a file gave (model names, versions, log lines,
//! paths) can hold escape sequences that move the cursor, rewrite the screen, retitle the
//! window or reorder what is shown (Unicode bidi controls). Every human report passes such
//! text through [`clean`] (one line) or [`clean_text`] (several lines) before it is printed;
//! JSON output keeps the raw values, which JSON escapes itself.

use std::borrow::Cow;

/// `println!` through [`clean_text`]: for human reports that carry outside text.
#[macro_export]
macro_rules! tprintln {
    () => { println!() };
    ($($t:tt)*) => { println!("{}", $crate::term::clean_text(&format!($($t)*))) };
}

/// `print!` through [`clean_text`].
#[macro_export]
macro_rules! tprint {
    ($($t:tt)*) => { print!("{}", $crate::term::clean_text(&format!($($t)*))) };
}

/// `eprintln!` through [`clean_text`].
#[macro_export]
macro_rules! teprintln {
    () => { eprintln!() };
    ($($t:tt)*) => { eprintln!("{}", $crate::term::clean_text(&format!($($t)*))) };
}

/// `eprint!` through [`clean_text`].
#[macro_export]
macro_rules! teprint {
    ($($t:tt)*) => { eprint!("{}", $crate::term::clean_text(&format!($($t)*))) };
}

/// Whether `c` must not reach a terminal as it is: C0 controls (ESC and CR included), DEL,
/// C1 controls, and the Unicode bidirectional formatting characters (Unicode Standard
/// Annex #9: LRM, RLM, ALM, LRE…RLO, LRI…PDI) that make a line read differently than it is.
pub fn is_unsafe(c: char) -> bool {
    let u = c as u32;
    u < 0x20
        || u == 0x7f
        || (0x80..=0x9f).contains(&u)
        || matches!(u, 0x061c | 0x200e | 0x200f | 0x202a..=0x202e | 0x2066..=0x2069)
}

fn escape_into(out: &mut String, c: char) {
    use std::fmt::Write;
    let u = c as u32;
    let _ = match c {
        '\t' => write!(out, "\\t"),
        '\r' => write!(out, "\\r"),
        '\n' => write!(out, "\\n"),
        _ if u <= 0xff => write!(out, "\\x{u:02x}"),
        _ => write!(out, "\\u{{{u:04x}}}"),
    };
}

fn escape_where(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_unsafe(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) && !keep(c) {
            escape_into(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One line of outside text, safe to print: every unsafe character (newlines and tabs
/// too) is written as a visible escape (`\x1b`, `\r`, `\u{202e}`).
pub fn clean(s: &str) -> Cow<'_, str> {
    escape_where(s, |_| false)
}

/// Several lines of text, safe to print: as [`clean`], but newlines and tabs stay.
pub fn clean_text(s: &str) -> Cow<'_, str> {
    escape_where(s, |c| c == '\n' || c == '\t')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible() {
        assert_eq!(clean("qwen3:30b"), "qwen3:30b");
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
        assert_eq!(clean("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(clean("a\rb\nc\td"), "a\\rb\\nc\\td");
        assert_eq!(clean("x\u{7f}\u{9b}y"), "x\\x7f\\x9by");
        assert_eq!(clean("evil\u{202e}txt.sh"), "evil\\u{202e}txt.sh");
        assert_eq!(
            clean("\u{2066}\u{2069}\u{200f}"),
            "\\u{2066}\\u{2069}\\u{200f}"
        );
        assert_eq!(
            clean_text("l1\n\tl2\x1b]0;t\x07\n"),
            "l1\n\tl2\\x1b]0;t\\x07\n"
        );
        // Ordinary non-ASCII text stays.
        assert_eq!(clean("modèle ✓ 模型"), "modèle ✓ 模型");
    }
}
