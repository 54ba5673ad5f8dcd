//! `~/.claude.json`: setup only adds `"hasCompletedOnboarding": true` (Claude Code's
//! first-run theme picker otherwise greets every launch in a fresh `HOME`). The edit is
//! textual: every other byte of the file stays as it was, so other keys keep their values,
//! their order and their formatting.
//!
//! The file is checked with cclocal's own JSON reader, which accepts exactly what
//! JavaScript's `JSON.parse` accepts (Claude Code reads the file with it): any nesting
//! depth, numbers of any size (`1E400`), lone surrogate escapes (`"\ud800"`), duplicate
//! keys. Nothing is converted to values, so nothing is rejected or rewritten that Claude
//! Code would read. A UTF-8 byte-order mark is named (JavaScript's `JSON.parse` rejects
//! it, so Claude Code cannot read such a file either). See docs/safety.md.

use crate::error::{Error, Result};
use std::ops::Range;
use std::path::Path;

pub const KEY: &str = "hasCompletedOnboarding";
/// The raw JSON text setup gives [`KEY`].
pub const VALUE: &str = "true";

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_ws(b[i]) {
        i += 1;
    }
    i
}

/// A syntax error: byte offset and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub offset: usize,
    pub expected: &'static str,
}

/// End (exclusive) of the string starting at `b[i] == '"'`, checking its escapes.
fn string_end(b: &[u8], mut i: usize) -> std::result::Result<usize, SyntaxError> {
    let err = |offset, expected| SyntaxError { offset, expected };
    i += 1;
    while i < b.len() {
        match b[i] {
            b'"' => return Ok(i + 1),
            b'\\' => match b.get(i + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                Some(b'u') => {
                    let hex = b
                        .get(i + 2..i + 6)
                        .ok_or(err(i, "four hex digits after \\u"))?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return Err(err(i, "four hex digits after \\u"));
                    }
                    i += 6;
                }
                _ => return Err(err(i, "a valid escape")),
            },
            c if c < 0x20 => return Err(err(i, "no control character inside a string")),
            _ => i += 1,
        }
    }
    Err(err(b.len(), "the end of a string"))
}

/// End (exclusive) of the number starting at `b[i]` (JSON's grammar, any magnitude).
fn number_end(b: &[u8], mut i: usize) -> std::result::Result<usize, SyntaxError> {
    let err = |offset| SyntaxError {
        offset,
        expected: "a number",
    };
    let digits = |b: &[u8], mut j: usize| {
        let s = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        (j, j - s)
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(b, i).0,
        _ => return Err(err(i)),
    }
    if b.get(i) == Some(&b'.') {
        let (j, n) = digits(b, i + 1);
        if n == 0 {
            return Err(err(j));
        }
        i = j;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let (j, n) = digits(b, i);
        if n == 0 {
            return Err(err(j));
        }
        i = j;
    }
    Ok(i)
}

/// End (exclusive) of the JSON value starting at `b[i]`, checking its syntax. Iterative, so
/// nesting depth is limited by memory only (as in JavaScript).
fn value_end(b: &[u8], i: usize) -> std::result::Result<usize, SyntaxError> {
    let err = |offset, expected| SyntaxError { offset, expected };
    // Stack of open containers: true = object.
    let mut stack: Vec<bool> = Vec::new();
    let mut i = i;
    loop {
        // Parse one value at i.
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b'{') => {
                let j = skip_ws(b, i + 1);
                if b.get(j) == Some(&b'}') {
                    i = j + 1;
                } else {
                    stack.push(true);
                    i = object_key(b, j)?;
                    continue;
                }
            }
            Some(b'[') => {
                let j = skip_ws(b, i + 1);
                if b.get(j) == Some(&b']') {
                    i = j + 1;
                } else {
                    stack.push(false);
                    i = j;
                    continue;
                }
            }
            Some(b'"') => i = string_end(b, i)?,
            Some(b'-' | b'0'..=b'9') => i = number_end(b, i)?,
            Some(b't') if b[i..].starts_with(b"true") => i += 4,
            Some(b'f') if b[i..].starts_with(b"false") => i += 5,
            Some(b'n') if b[i..].starts_with(b"null") => i += 4,
            _ => return Err(err(i, "a value")),
        }
        // After a value: close containers or move to the next element.
        loop {
            let Some(&is_obj) = stack.last() else {
                return Ok(i);
            };
            i = skip_ws(b, i);
            match (b.get(i), is_obj) {
                (Some(b','), true) => {
                    i = object_key(b, skip_ws(b, i + 1))?;
                    break;
                }
                (Some(b','), false) => {
                    i += 1;
                    break;
                }
                (Some(b'}'), true) | (Some(b']'), false) => {
                    stack.pop();
                    i += 1;
                }
                (_, true) => return Err(err(i, "',' or '}'")),
                (_, false) => return Err(err(i, "',' or ']'")),
            }
        }
    }
}

/// Parses `"key" :` at `i`; returns where the value starts.
fn object_key(b: &[u8], i: usize) -> std::result::Result<usize, SyntaxError> {
    if b.get(i) != Some(&b'"') {
        return Err(SyntaxError {
            offset: i,
            expected: "a string key",
        });
    }
    let j = skip_ws(b, string_end(b, i)?);
    if b.get(j) != Some(&b':') {
        return Err(SyntaxError {
            offset: j,
            expected: "':'",
        });
    }
    Ok(j + 1)
}

/// Checks that `text` is one JSON value (as `JSON.parse` would accept it).
pub fn check_syntax(text: &str) -> std::result::Result<(), SyntaxError> {
    let b = text.as_bytes();
    let end = value_end(b, 0)?;
    let rest = skip_ws(b, end);
    if rest != b.len() {
        return Err(SyntaxError {
            offset: rest,
            expected: "the end of the file",
        });
    }
    Ok(())
}

/// Decodes a JSON string's text (with quotes) for comparison; lone surrogates become U+FFFD.
fn decode_key(raw: &str) -> String {
    let inner = &raw[1..raw.len() - 1];
    if !inner.contains('\\') {
        return inner.to_string();
    }
    let mut units: Vec<u16> = Vec::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u16; 2];
            units.extend_from_slice(c.encode_utf16(&mut buf));
            continue;
        }
        let e = chars.next().unwrap_or('\\');
        let u = match e {
            'b' => 8,
            'f' => 12,
            'n' => 10,
            'r' => 13,
            't' => 9,
            'u' => {
                let h: String = chars.by_ref().take(4).collect();
                u16::from_str_radix(&h, 16).unwrap_or(0xFFFD)
            }
            other => other as u16,
        };
        units.push(u);
    }
    String::from_utf16_lossy(&units)
}

/// A member of the top-level object: decoded key, where its key starts, its value's range.
#[derive(Debug)]
struct Member {
    key: String,
    raw_key: Range<usize>,
    value: Range<usize>,
}

/// The top-level object's `{`, `}` positions and its members; the text must already have
/// passed [`check_syntax`].
fn members(text: &str) -> Option<(usize, usize, Vec<Member>)> {
    let b = text.as_bytes();
    let open = skip_ws(b, 0);
    if b.get(open) != Some(&b'{') {
        return None;
    }
    let mut out = Vec::new();
    let mut i = skip_ws(b, open + 1);
    if b.get(i) == Some(&b'}') {
        return Some((open, i, out));
    }
    loop {
        let kend = string_end(b, i).ok()?;
        let raw_key = i..kend;
        i = skip_ws(b, kend);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let vstart = skip_ws(b, i + 1);
        let vend = value_end(b, vstart).ok()?;
        out.push(Member {
            key: decode_key(&text[raw_key.clone()]),
            raw_key,
            value: vstart..vend,
        });
        i = skip_ws(b, vend);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return Some((open, i, out)),
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

/// Line and column (1-based) of byte `offset`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&c| c == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|&&c| c != b'\n').count() + 1;
    (line, col)
}

/// The text of an existing `~/.claude.json`, checked: UTF-8, no byte-order mark, JSON, an
/// object at the top.
fn checked_text<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str> {
    if bytes.starts_with(BOM) {
        return Err(invalid(
            path,
            "starts with a UTF-8 byte-order mark (BOM, bytes EF BB BF), which JSON does not allow and Claude Code cannot read",
        )
        .with_hint("remove the first three bytes of the file (many editors call it \"UTF-8 with BOM\"; save as plain UTF-8), or pass --skip onboarding"));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| invalid(path, "is not UTF-8 text"))?;
    if let Err(e) = check_syntax(text) {
        let (l, c) = line_col(text, e.offset);
        return Err(invalid(
            path,
            &format!(
                "is not valid JSON (expected {} at line {l} column {c})",
                e.expected
            ),
        ));
    }
    if !text.trim_start().starts_with('{') {
        return Err(invalid(path, "does not hold a JSON object"));
    }
    Ok(text)
}

/// The raw text of `key`'s value in the top-level object (the last duplicate, which is
/// the one JavaScript keeps), `None` when absent. `bytes` must be a valid object.
pub fn raw_value(path: &Path, bytes: &[u8], key: &str) -> Result<Option<String>> {
    let text = checked_text(path, bytes)?;
    let (_, _, members) =
        members(text).ok_or_else(|| invalid(path, "has a layout cclocal cannot edit safely"))?;
    Ok(members
        .iter()
        .rev()
        .find(|m| m.key == key)
        .map(|m| text[m.value.clone()].to_string()))
}

/// Raw (key, value) texts of every member except `key`, to check an edit touched nothing else.
fn others(text: &str, key: &str) -> Option<Vec<(String, String)>> {
    let (_, _, ms) = members(text)?;
    Some(
        ms.iter()
            .filter(|m| m.key != key)
            .map(|m| {
                (
                    text[m.raw_key.clone()].to_string(),
                    text[m.value.clone()].to_string(),
                )
            })
            .collect(),
    )
}

fn verified(
    path: &Path,
    old: &str,
    new: String,
    key: &str,
    value: Option<&str>,
) -> Result<Vec<u8>> {
    let bad = || invalid(path, "could not be edited safely");
    check_syntax(&new).map_err(|_| bad())?;
    if others(old, key) != others(&new, key) || others(&new, key).is_none() {
        return Err(bad());
    }
    let (_, _, ms) = members(&new).ok_or_else(bad)?;
    let now = ms
        .iter()
        .rev()
        .find(|m| m.key == key)
        .map(|m| &new[m.value.clone()]);
    if now != value {
        return Err(bad());
    }
    Ok(new.into_bytes())
}

/// The new content with top-level `key` set to the raw JSON text `value`, or `None` when it
/// already has it. `current` is `None` when the file does not exist (it is then created).
pub fn set_key(
    path: &Path,
    current: Option<&[u8]>,
    key: &str,
    value: &str,
) -> Result<Option<Vec<u8>>> {
    let raw_key = serde_json::to_string(key).expect("a string serializes");
    let Some(bytes) = current else {
        return Ok(Some(format!("{{\n  {raw_key}: {value}\n}}\n").into_bytes()));
    };
    let text = checked_text(path, bytes)?;
    let (open, close, members) =
        members(text).ok_or_else(|| invalid(path, "has a layout cclocal cannot edit safely"))?;
    let new_text = match members.iter().rev().find(|m| m.key == key) {
        Some(m) if &text[m.value.clone()] == value => return Ok(None),
        // Present with another value: replace the value only (the last duplicate counts).
        Some(m) => format!("{}{value}{}", &text[..m.value.start], &text[m.value.end..]),
        None => match members.first() {
            None => format!(
                "{}{{\n  {raw_key}: {value}\n}}{}",
                &text[..open],
                &text[close + 1..]
            ),
            Some(first) => {
                // Reuse the whitespace between `{` and the first key, so the new line is
                // indented like its neighbours.
                let key_start = first.raw_key.start;
                let ws = &text[open + 1..key_start];
                let sep = if ws.is_empty() { ":" } else { ": " };
                format!(
                    "{}{ws}{raw_key}{sep}{value},{ws}{}",
                    &text[..=open],
                    &text[key_start..]
                )
            }
        },
    };
    verified(path, text, new_text, key, Some(value)).map(Some)
}

/// The content with every top-level `key` member removed (the exact inverse of
/// [`set_key`]'s insertion), or `None` when there is none.
pub fn remove_key(path: &Path, current: &[u8], key: &str) -> Result<Option<Vec<u8>>> {
    let text = checked_text(path, current)?;
    let (open, close, members) =
        members(text).ok_or_else(|| invalid(path, "has a layout cclocal cannot edit safely"))?;
    if !members.iter().any(|m| m.key == key) {
        return Ok(None);
    }
    // Cut ranges, back to front.
    let mut cuts: Vec<Range<usize>> = Vec::new();
    let keep: Vec<&Member> = members.iter().filter(|m| m.key != key).collect();
    if keep.is_empty() {
        cuts.push(open + 1..close);
    } else {
        for (i, m) in members.iter().enumerate() {
            if m.key != key {
                continue;
            }
            if members[i + 1..].iter().any(|n| n.key != key) {
                // A kept member follows: cut up to the next member's key.
                cuts.push(m.raw_key.start..members[i + 1].raw_key.start);
            } else {
                // Only removed members follow: cut from the previous member's end.
                let prev_end = if i == 0 {
                    open + 1
                } else {
                    members[i - 1].value.end
                };
                cuts.push(prev_end..m.value.end);
            }
        }
    }
    let mut new_text = text.to_string();
    cuts.sort_by_key(|r| r.start);
    cuts.dedup();
    for r in cuts.iter().rev() {
        new_text.replace_range(r.clone(), "");
    }
    verified(path, text, new_text, key, None).map(Some)
}

/// The new content of `~/.claude.json` with onboarding marked complete, or `None` when it
/// already is. `current` is `None` when the file does not exist.
pub fn mark_onboarded(path: &Path, current: Option<&[u8]>) -> Result<Option<Vec<u8>>> {
    set_key(path, current, KEY, VALUE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(s: &str) -> Option<String> {
        mark_onboarded(Path::new("/x/.claude.json"), Some(s.as_bytes()))
            .unwrap()
            .map(|b| String::from_utf8(b).unwrap())
    }

    fn unedit(s: &str) -> Option<String> {
        remove_key(Path::new("/x/.claude.json"), s.as_bytes(), KEY)
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
    fn removal_is_the_exact_inverse_of_insertion() {
        for s in [
            "{\n  \"numStartups\": 3,\n  \"theme\": \"dark\"\n}\n",
            "{\"a\":1}",
            "{\"a\":1,\"b\":[1,{\"hasCompletedOnboarding\":1}]}",
        ] {
            let e = edit(s).unwrap();
            assert_eq!(unedit(&e).unwrap(), s);
        }
        // Elsewhere in the object (Claude Code moved it): cut with its comma.
        assert_eq!(
            unedit("{\n  \"a\": 1,\n  \"hasCompletedOnboarding\": true\n}").unwrap(),
            "{\n  \"a\": 1\n}"
        );
        assert_eq!(
            unedit("{\"a\": 1, \"hasCompletedOnboarding\": true, \"b\": 2}").unwrap(),
            "{\"a\": 1, \"b\": 2}"
        );
        assert_eq!(unedit("{\"hasCompletedOnboarding\": true}").unwrap(), "{}");
        assert!(unedit("{\"a\": 1}").is_none());
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
    fn what_json_parse_accepts_is_accepted() {
        // serde_json rejects each of these; JavaScript (and so Claude Code) reads them.
        let deep = format!("{{\"d\": {}1{}}}", "[".repeat(5000), "]".repeat(5000));
        for s in [
            "{\"big\": 1E400}".to_string(),
            "{\"s\": \"\\ud800\"}".to_string(),
            "{\"\\udc00\": 1, \"a\": -0.0e-999}".to_string(),
            deep,
        ] {
            let out = edit(&s).unwrap_or_else(|| panic!("{s}"));
            assert!(out.ends_with(&s[1..]));
            assert_eq!(unedit(&out).unwrap(), s);
        }
    }

    #[test]
    fn invalid_files_are_refused() {
        for bad in [
            "{",
            "[1]",
            "not json",
            "{\"a\":1,}",
            "{\"a\":01}",
            "{\"a\":1.}",
            "{\"a\":\"\t\"}",
            "{\"a\":\"\\x\"}",
            "{} {}",
            "{\"a\" 1}",
        ] {
            let e = mark_onboarded(Path::new("/x/.claude.json"), Some(bad.as_bytes())).unwrap_err();
            assert!(e.message.contains("leaves it alone"), "{bad}: {e}");
        }
        assert!(mark_onboarded(Path::new("/x"), Some(&[0xff, 0xfe])).is_err());
    }

    #[test]
    fn a_byte_order_mark_is_named() {
        let e = mark_onboarded(Path::new("/x"), Some(b"\xEF\xBB\xBF{}")).unwrap_err();
        assert!(e.message.contains("byte-order mark"), "{e}");
        assert!(!e.message.contains("expected value"), "{e}");
    }

    #[test]
    fn syntax_errors_say_where() {
        let e = mark_onboarded(Path::new("/x"), Some(b"{\n  \"a\": 1,,\n}")).unwrap_err();
        assert!(e.message.contains("line 2 column 10"), "{e}");
    }

    #[test]
    fn missing_file_is_created() {
        let b = mark_onboarded(Path::new("/x"), None).unwrap().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v[KEY], serde_json::Value::Bool(true));
    }
}
