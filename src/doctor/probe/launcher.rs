//! The launcher `cclocal setup` wrote (`templates/launcher.sh.j2`): the variables it
//! exports and the `--settings` file and `--model` it passes to Claude Code, so the doctor
//! diagnoses the Claude Code the user actually starts.

use std::path::{Path, PathBuf};

/// What a launcher gives Claude Code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Launcher {
    pub path: PathBuf,
    /// `export NAME=value` lines, in order.
    pub exports: Vec<(String, String)>,
    /// `--settings FILE` of the `exec claude` line.
    pub settings: Option<PathBuf>,
    /// `--model NAME` of the `exec claude` line.
    pub model: Option<String>,
    /// The program of the `exec` line (an absolute path, or `claude` looked up on PATH).
    pub program: Option<String>,
}

/// Splits one POSIX sh line into words: single quotes, double quotes (with `\"`, `\\`,
/// `\$`), backslash escapes; `None` for an unclosed quote. Expansions are left as text.
pub fn sh_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut it = line.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match it.next()? {
                        '\'' => break,
                        x => cur.push(x),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match it.next()? {
                        '"' => break,
                        '\\' if matches!(it.peek(), Some('"' | '\\' | '$' | '`')) => {
                            cur.push(it.next()?)
                        }
                        x => cur.push(x),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(x) = it.next() {
                    cur.push(x);
                }
            }
            '#' if !in_word => break,
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

/// Parses a launcher's text.
pub fn parse_launcher(path: &Path, text: &str) -> Launcher {
    let mut l = Launcher {
        path: path.to_path_buf(),
        ..Default::default()
    };
    for line in text.lines() {
        let Some(words) = sh_words(line.trim()) else {
            continue;
        };
        match words.first().map(String::as_str) {
            Some("export") => {
                for w in &words[1..] {
                    if let Some((k, v)) = w.split_once('=') {
                        if crate::shell::quote::is_env_name(k) {
                            l.exports.push((k.to_string(), v.to_string()));
                        }
                    }
                }
            }
            Some("exec") => {
                l.program = words.get(1).cloned();
                let mut i = 1;
                while i < words.len() {
                    match words[i].as_str() {
                        "--settings" => l.settings = words.get(i + 1).map(PathBuf::from),
                        "--model" => l.model = words.get(i + 1).cloned(),
                        _ => {}
                    }
                    i += 1;
                }
            }
            _ => {}
        }
    }
    l
}

/// Reads the launcher at `path`.
pub fn read_launcher(path: &Path) -> Result<Launcher, String> {
    crate::fsread::read_to_string(path, crate::fsread::TEXT)
        .map(|t| parse_launcher(path, &t))
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(
            sh_words(r#"export A='x y' B="q\"z" C='it'\''s'"#).unwrap(),
            vec!["export", "A=x y", "B=q\"z", "C=it's"]
        );
        assert_eq!(sh_words("a # c").unwrap(), vec!["a"]);
        assert!(sh_words("a 'open").is_none());
    }

    #[test]
    fn launcher() {
        let t = "#!/bin/sh\n# c\nexport ANTHROPIC_BASE_URL='http://127.0.0.1:11434'\nexport ANTHROPIC_API_KEY=''\nexec claude --settings '/h/.config/cclocal/claude settings.json' --model 'qwen3:8b' \"$@\"\n";
        let l = parse_launcher(Path::new("/h/bin/claude-local"), t);
        assert_eq!(
            l.exports,
            vec![
                (
                    "ANTHROPIC_BASE_URL".to_string(),
                    "http://127.0.0.1:11434".to_string()
                ),
                ("ANTHROPIC_API_KEY".to_string(), String::new())
            ]
        );
        assert_eq!(
            l.settings.as_deref(),
            Some(Path::new("/h/.config/cclocal/claude settings.json"))
        );
        assert_eq!(l.model.as_deref(), Some("qwen3:8b"));
        assert_eq!(l.program.as_deref(), Some("claude"));
    }
}
