//! Reading what setup wrote for systemd, as systemd reads it: `ExecStart=` split into
//! words by systemd's quoting rules (systemd.syntax(7): whitespace separates words; double
//! or single quotes group; `\` escapes; `%%` is `%`, `$$` is `$`). And a stand-in
//! `systemctl` that records its arguments, so setup and undo can run without touching the
//! machine's service manager.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The words of a systemd command line. Panics on what systemd would reject or expand
/// (an unterminated quote, a lone `%` specifier or `$` variable).
pub fn split_command_line(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut it = line.chars().peekable();
    while let Some(c) = it.next() {
        match (quote, c) {
            (None, ' ' | '\t') => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, '"' | '\'') if !in_word => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => {
                quote = None;
                // systemd requires whitespace after a closing quote.
                assert!(
                    matches!(it.peek(), None | Some(' ') | Some('\t')),
                    "text right after a closing quote in {line}"
                );
            }
            (_, '\\') => {
                let e = it.next().expect("a trailing backslash");
                cur.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    other => other,
                });
                in_word = true;
            }
            (_, '%' | '$') => {
                assert_eq!(it.next(), Some(c), "an unescaped {c} in {line}");
                cur.push(c);
                in_word = true;
            }
            (_, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    assert!(quote.is_none(), "unterminated quote in {line}");
    if in_word {
        words.push(cur);
    }
    words
}

/// The `ExecStart=` of a unit file, split into words.
pub fn exec_start(unit: &str) -> Vec<String> {
    let lines: Vec<&str> = unit
        .lines()
        .filter_map(|l| l.strip_prefix("ExecStart="))
        .collect();
    assert_eq!(lines.len(), 1, "one ExecStart= line in:\n{unit}");
    split_command_line(lines[0])
}

/// A directory holding a stand-in `systemctl` that appends each call's arguments to
/// `<dir>/systemctl.log`; `show-environment` (the "does the user manager answer" probe)
/// succeeds when `answers`.
pub fn fake_systemctl(dir: &Path, answers: bool) -> PathBuf {
    let bin = dir.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("systemctl.log");
    let script =
        format!(
        "#!/bin/sh\necho \"$*\" >> '{}'\ncase \"$*\" in *show-environment*) {} ;; esac\nexit 0\n",
        log.display(),
        if answers { "exit 0" } else { "echo 'Failed to connect to bus' >&2; exit 1" }
    );
    let p = bin.join("systemctl");
    std::fs::write(&p, script).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// The calls the stand-in `systemctl` recorded.
pub fn systemctl_calls(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("systemctl.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn splitting_follows_systemd() {
    assert_eq!(
        split_command_line(r#"/bin/x -m "/a b/c.gguf" '50%%' "$$HOME" a\"b"#),
        vec!["/bin/x", "-m", "/a b/c.gguf", "50%", "$HOME", "a\"b"]
    );
}
