//! Quoting values for the scripts cclocal writes.
//!
//! Every value that reaches a generated script goes through one of these functions, so that
//! a model name such as `a'b $(rm -rf ~); c` arrives as those exact bytes and runs nothing.

/// Quotes `s` for POSIX sh, bash and zsh: one single-quoted word, with each `'` written as
/// `'\''`. Single quotes keep every other byte literal (`$`, backticks, `\`, `;`, newlines),
/// so the result is safe in any of these shells. Words made only of characters that no
/// shell treats specially are left bare for readability.
pub fn sh_quote(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(is_plain) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Quotes `s` for fish: single quotes, where fish treats `\\` and `\'` as escapes (unlike
/// POSIX sh) and everything else literally, newlines included.
pub fn fish_quote(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(is_plain) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Quotes a value for a systemd `Environment="K=V"` assignment: inside double quotes `\` and
/// `"` are escaped and `%` (a unit specifier) is doubled. Control characters are refused by
/// the caller; systemd would read a newline as the end of the line.
pub fn systemd_quote_assignment(key: &str, value: &str) -> String {
    let mut out = String::from("\"");
    for c in key.chars().chain(std::iter::once('=')).chain(value.chars()) {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '%' => out.push_str("%%"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `path` as one shell word for a printed command: `~/REST` when it is under `home` (the
/// shell expands `~` to HOME, so it runs as printed), else the whole path; quoted where
/// it needs it.
pub fn path_word(path: &std::path::Path, home: Option<&std::path::Path>) -> String {
    let rest = home
        .and_then(|h| path.strip_prefix(h).ok())
        .filter(|r| !r.as_os_str().is_empty());
    match rest {
        Some(r) => format!("~/{}", sh_quote(&r.to_string_lossy())),
        None => sh_quote(&path.to_string_lossy()),
    }
}

/// Characters that need no quoting in sh, bash, zsh or fish (`~` is excluded: it expands
/// at the start of a word; `=` and `,` are fine everywhere; `%` starts a fish job spec).
fn is_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'_' | b'-' | b'.' | b'/' | b':' | b'+' | b'@' | b',' | b'='
        )
}

/// A name valid as an environment variable in every shell: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_env_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A name usable as an alias, function or file name: letters, digits, `_`, `-`, `.`, not
/// starting with `-` or `.`, at most 64 bytes.
pub fn is_command_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && !s.starts_with(['-', '.'])
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn path_words_use_tilde_only_under_home() {
        let h = Path::new("/home/me");
        assert_eq!(
            path_word(Path::new("/home/me/.config/cclocal/server/x.sh"), Some(h)),
            "~/.config/cclocal/server/x.sh"
        );
        assert_eq!(
            path_word(Path::new("/home/me/a b/x.sh"), Some(h)),
            "~/'a b/x.sh'"
        );
        assert_eq!(path_word(Path::new("/home/mex/y"), Some(h)), "/home/mex/y");
        assert_eq!(
            path_word(Path::new("/xdg/cclocal/s.sh"), Some(h)),
            "/xdg/cclocal/s.sh"
        );
        assert_eq!(path_word(Path::new("/home/me"), Some(h)), "/home/me");
        assert_eq!(path_word(Path::new("/o/it's"), None), "'/o/it'\\''s'");
    }

    #[test]
    fn plain_words_stay_bare() {
        assert_eq!(sh_quote("qwen3-coder:30b"), "qwen3-coder:30b");
        assert_eq!(sh_quote("http://127.0.0.1:11434"), "http://127.0.0.1:11434");
        assert_eq!(fish_quote("/usr/bin/x"), "/usr/bin/x");
    }

    #[test]
    fn special_values_are_quoted() {
        assert_eq!(sh_quote(""), "''");
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert_eq!(sh_quote("$(id)"), "'$(id)'");
        assert_eq!(sh_quote("`id`"), "'`id`'");
        assert_eq!(sh_quote("a;b"), "'a;b'");
        assert_eq!(sh_quote("a\nb"), "'a\nb'");
        assert_eq!(sh_quote("~"), "'~'");
        assert_eq!(fish_quote("it's \\ $x"), "'it\\'s \\\\ $x'");
        assert_eq!(fish_quote(""), "''");
    }

    #[test]
    fn systemd_assignment() {
        assert_eq!(systemd_quote_assignment("A", "1"), "\"A=1\"");
        assert_eq!(
            systemd_quote_assignment("A", "x\"y\\z%"),
            "\"A=x\\\"y\\\\z%%\""
        );
    }

    #[test]
    fn names() {
        assert!(is_env_name("OLLAMA_KEEP_ALIVE"));
        assert!(!is_env_name("1A"));
        assert!(!is_env_name("A-B"));
        assert!(is_command_name("claude-local"));
        assert!(!is_command_name("-x"));
        assert!(!is_command_name("a b"));
        assert!(!is_command_name("a/b"));
    }
}
