//! `~/.claude.json`: setup only adds `"hasCompletedOnboarding": true` (Claude Code's
//! first-run theme picker otherwise greets every launch in a fresh `HOME`). The edit is
//! textual: every other byte of the file stays as it was, so other keys keep their values,
//! their order and their formatting; the result is checked by parsing it again.

use crate::error::{Error, Result};
use serde_json::Value;
use std::ops::Range;
use std::path::Path;

pub const KEY: &str = "hasCompletedOnboarding";

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// End (exclusive) of the string starting at `b[i] == '"'`.
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// End (exclusive) of the value starting at `b[i]`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                j += 1;
            }
            Some(j)
        }
    }
}

/// A member of the top-level object: decoded key, where its key starts, its value's range.
struct Member {
    key: String,
    key_start: usize,
    value: Range<usize>,
}

/// The top-level object's `{` position and its members.
fn members(text: &str) -> Option<(usize, Vec<Member>)> {
    let b = text.as_bytes();
    let open = skip_ws(b, 0);
    if b.get(open) != Some(&b'{') {
        return None;
    }
    let mut out = Vec::new();
    let mut i = skip_ws(b, open + 1);
    if b.get(i) == Some(&b'}') {
        return Some((open, out));
    }
    loop {
        let kstart = i;
        let kend = string_end(b, i)?;
        let key: String = serde_json::from_str(&text[i..kend]).ok()?;
        i = skip_ws(b, kend);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let vstart = skip_ws(b, i + 1);
        let vend = value_end(b, vstart)?;
        out.push(Member {
            key,
            key_start: kstart,
            value: vstart..vend,
        });
        i = skip_ws(b, vend);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return Some((open, out)),
            _ => return None,
        }
    }
}

fn invalid(path: &Path, why: &str) -> Error {
    Error::parse(format!("{} {why}; cclocal leaves it alone", path.display()))
        .with_subject(path.display().to_string())
        .with_hint(
            "fix the file (Claude Code rewrites it on its next start), or pass --skip onboarding",
        )
}

/// The new content of `~/.claude.json` with onboarding marked complete, or `None` when it
/// already is. `current` is `None` when the file does not exist.
pub fn mark_onboarded(path: &Path, current: Option<&[u8]>) -> Result<Option<Vec<u8>>> {
    let Some(bytes) = current else {
        return Ok(Some(format!("{{\n  \"{KEY}\": true\n}}\n").into_bytes()));
    };
    let text = std::str::from_utf8(bytes).map_err(|_| invalid(path, "is not UTF-8 text"))?;
    let old: Value = serde_json::from_str(text)
        .map_err(|e| invalid(path, &format!("is not valid JSON ({e})")))?;
    let Value::Object(old_map) = &old else {
        return Err(invalid(path, "does not hold a JSON object"));
    };
    if old_map.get(KEY) == Some(&Value::Bool(true)) {
        return Ok(None);
    }
    let (open, members) =
        members(text).ok_or_else(|| invalid(path, "has a layout cclocal cannot edit safely"))?;
    let new_text = match members.iter().rev().find(|m| m.key == KEY) {
        // Present but not `true`: replace the value only (the last duplicate is the one that counts).
        Some(m) => format!("{}true{}", &text[..m.value.start], &text[m.value.end..]),
        None => match members.first() {
            None => {
                let close = skip_ws(text.as_bytes(), open + 1);
                format!(
                    "{}{{\n  \"{KEY}\": true\n}}{}",
                    &text[..open],
                    &text[close + 1..]
                )
            }
            Some(first) => {
                // Reuse the whitespace between `{` and the first key, so the new line is
                // indented like its neighbours.
                let key_start = first.key_start;
                let ws = &text[open + 1..key_start];
                let sep = if ws.is_empty() { ":" } else { ": " };
                format!(
                    "{}{ws}\"{KEY}\"{sep}true,{ws}{}",
                    &text[..=open],
                    &text[key_start..]
                )
            }
        },
    };
    // Check: the same members in the same order with the same values, plus the key.
    let new: Value =
        serde_json::from_str(&new_text).map_err(|_| invalid(path, "could not be edited safely"))?;
    let Value::Object(new_map) = &new else {
        return Err(invalid(path, "could not be edited safely"));
    };
    let strip = |m: &serde_json::Map<String, Value>| -> Vec<(String, Value)> {
        m.iter()
            .filter(|(k, _)| k.as_str() != KEY)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    if strip(old_map) != strip(new_map) || new_map.get(KEY) != Some(&Value::Bool(true)) {
        return Err(invalid(path, "could not be edited safely"));
    }
    Ok(Some(new_text.into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(s: &str) -> Option<String> {
        mark_onboarded(Path::new("/x/.claude.json"), Some(s.as_bytes()))
            .unwrap()
            .map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn inserts_first_with_neighbour_indent() {
        let s = "{\n  \"numStartups\": 3,\n  \"theme\": \"dark\"\n}\n";
        assert_eq!(edit(s).unwrap(), "{\n  \"hasCompletedOnboarding\": true,\n  \"numStartups\": 3,\n  \"theme\": \"dark\"\n}\n");
        assert_eq!(
            edit("{\"a\":1}").unwrap(),
            "{\"hasCompletedOnboarding\":true,\"a\":1}"
        );
        assert_eq!(
            edit("{}").unwrap(),
            "{\n  \"hasCompletedOnboarding\": true\n}"
        );
        assert_eq!(
            edit(" { } \n").unwrap(),
            " {\n  \"hasCompletedOnboarding\": true\n} \n"
        );
    }

    #[test]
    fn replaces_a_false_value_only() {
        let s = "{\n  \"a\": {\"hasCompletedOnboarding\": false},\n  \"hasCompletedOnboarding\": false,\n  \"b\": [1, \"}\"]\n}";
        assert_eq!(
            edit(s).unwrap(),
            s.replacen(
                "\"hasCompletedOnboarding\": false,",
                "\"hasCompletedOnboarding\": true,",
                1
            )
        );
        assert!(edit("{\"hasCompletedOnboarding\": true}").is_none());
    }

    #[test]
    fn keys_with_escapes_and_odd_values() {
        let s = "{\"k\\\"ey\": \"v\\\\\", \"n\": -1.5e3, \"t\": null}";
        let out = edit(s).unwrap();
        assert!(out.ends_with(&s[1..]));
    }

    #[test]
    fn invalid_files_are_refused() {
        for bad in ["{", "[1]", "not json", "{\"a\":1,}"] {
            let e = mark_onboarded(Path::new("/x/.claude.json"), Some(bad.as_bytes())).unwrap_err();
            assert!(e.message.contains("leaves it alone"), "{bad}: {e}");
        }
        assert!(mark_onboarded(Path::new("/x"), Some(&[0xff, 0xfe])).is_err());
    }

    #[test]
    fn missing_file_is_created() {
        let b = mark_onboarded(Path::new("/x"), None).unwrap().unwrap();
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v[KEY], Value::Bool(true));
    }
}
