//! Secrets: the one place that decides what is a credential and masks it in anything shown
//! (diffs, verbose reports, command lines read from `/proc`). See `docs/safety.md`,
//! "Secrets".

/// What a masked value is shown as.
pub const MASK: &str = "********";

/// Whether a variable holds a credential.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    n.ends_with("_TOKEN")
        || n.ends_with("_KEY")
        || n.contains("SECRET")
        || n.contains("PASSWORD")
        || n == "ANTHROPIC_CUSTOM_HEADERS"
}

/// Command-line options whose value is a credential, for the servers cclocal reads:
/// llama-server (`--api-key`, `-hft`/`--hf-token`: llama.cpp `common/arg.cpp`), vLLM
/// (`--api-key`, `--hf-token`: `vllm serve --help`), and the generic `--token`.
pub const SECRET_FLAGS: &[&str] = &["--api-key", "--hf-token", "-hft", "--token"];

/// The command line with the value of every [`SECRET_FLAGS`] option replaced by
/// `<redacted>` (as `--flag VALUE` or `--flag=VALUE`).
pub fn redact_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut secret_next = false;
    for a in args {
        if secret_next {
            out.push("<redacted>".to_string());
            secret_next = false;
        } else if SECRET_FLAGS.contains(&a.as_str()) {
            out.push(a.clone());
            secret_next = true;
        } else if let Some(flag) = SECRET_FLAGS
            .iter()
            .find(|f| a.strip_prefix(**f).is_some_and(|r| r.starts_with('=')))
        {
            out.push(format!("{flag}=<redacted>"));
        } else {
            out.push(a.clone());
        }
    }
    out
}

/// The token the launcher sends when none is given (Ollama ignores it; not a secret).
pub const DEFAULT_AUTH_TOKEN: &str = "ollama";

/// The tokens setup writes when none is given: every server kind's name (the `name` column
/// of `crate::server::KINDS`, which a test there keeps equal to this list). The list is
/// here, not read from `server`, because `server` itself masks secrets (the floors,
/// docs/architecture.md).
pub const PLACEHOLDER_TOKENS: &[&str] = &[
    "ollama",
    "llama-server",
    "lmstudio",
    "vllm",
    "vllm-mlx",
    "omlx",
    "mlx-lm",
    "unknown",
];

/// A token setup writes when none is given: a server kind's name (`ollama`,
/// `llama-server`, `lmstudio`, `vllm`, …), not a secret.
pub fn is_placeholder_token(token: &str) -> bool {
    token == DEFAULT_AUTH_TOKEN || PLACEHOLDER_TOKENS.contains(&token)
}

/// A placeholder token (one setup writes by itself: a server kind's name, which local
/// servers ignore) is not a secret; masking "ollama" would hide the server's name.
fn worth_masking(v: &str) -> bool {
    !v.is_empty() && !is_placeholder_token(v)
}

/// The values of secret variables assigned in `text`: `NAME=VALUE` lines of a shell script
/// (`export` or not, the value single-quoted, double-quoted or bare) and `"NAME": "VALUE"`
/// members of JSON. Placeholders and empty values are left out.
pub fn values_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim_start();
        let l = l.strip_prefix("export ").unwrap_or(l).trim_start();
        if let Some((name, rest)) = l.split_once('=') {
            if crate::shell::quote::is_env_name(name) && is_secret_name(name) {
                if let Some(v) = sh_word(rest) {
                    out.push(v);
                }
            }
        }
        // JSON: "NAME": "VALUE" (one member per line, as serde_json's pretty printer writes).
        let mut rest = line;
        while let Some(start) = rest.find('"') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('"') else { break };
            let name = &after[..end];
            let tail = after[end + 1..].trim_start();
            rest = &after[end + 1..];
            if !is_secret_name(name) || !crate::shell::quote::is_env_name(name) {
                continue;
            }
            let Some(tail) = tail.strip_prefix(':') else {
                continue;
            };
            let tail = tail.trim_start();
            if let Some(v) = json_string_prefix(tail) {
                out.push(v);
            }
        }
    }
    out.retain(|v| worth_masking(v));
    out.sort();
    out.dedup();
    out
}

/// The JSON string literal at the start of `s`, decoded.
fn json_string_prefix(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return serde_json::from_str(&s[..=i]).ok(),
            _ => i += 1,
        }
    }
    None
}

/// The first shell word of `s`, unquoted (single quotes, `'\''`, double quotes, bare).
fn sh_word(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(&c) = it.peek() {
        match c {
            '\'' => {
                it.next();
                for c in it.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    out.push(c);
                }
            }
            '"' => {
                it.next();
                while let Some(c) = it.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = it.next() {
                                out.push(n);
                            }
                        }
                        c => out.push(c),
                    }
                }
            }
            '\\' => {
                it.next();
                if let Some(n) = it.next() {
                    out.push(n);
                }
            }
            c if c.is_whitespace() || c == ';' || c == '#' => break,
            c => {
                it.next();
                out.push(c);
            }
        }
    }
    Some(out)
}

/// `text` with every secret replaced by [`MASK`]: as it appears quoted for a shell, escaped
/// in a JSON string, and as it is. Longer secrets first, so one that contains another is
/// masked whole.
pub fn mask(text: &str, secrets: &[String]) -> String {
    let mut secrets: Vec<&String> = secrets.iter().filter(|s| !s.is_empty()).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for s in secrets {
        let sh = crate::shell::quote::sh_quote(s);
        if sh != *s {
            out = out.replace(&sh, &format!("'{MASK}'"));
        }
        if let Ok(js) = serde_json::to_string(s) {
            out = out.replace(&js[1..js.len() - 1], MASK);
        }
        out = out.replace(s.as_str(), MASK);
    }
    out
}

/// [`mask`] with the secrets found in `sources` (file contents: [`values_in`]) added to
/// `known`.
pub fn mask_found<'a>(
    text: &str,
    known: &[String],
    sources: impl IntoIterator<Item = &'a [u8]>,
) -> String {
    let mut all: Vec<String> = known.to_vec();
    for b in sources {
        all.extend(values_in(&String::from_utf8_lossy(b)));
    }
    mask(text, &all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn flags_are_redacted() {
        assert_eq!(
            redact_args(&s(&[
                "llama-server",
                "--api-key",
                "k1",
                "--hf-token=hf_x",
                "-hft",
                "hf_y",
                "--api-key-file",
                "/p",
                "-c",
                "1"
            ])),
            s(&[
                "llama-server",
                "--api-key",
                "<redacted>",
                "--hf-token=<redacted>",
                "-hft",
                "<redacted>",
                "--api-key-file",
                "/p",
                "-c",
                "1"
            ])
        );
    }

    #[test]
    fn values_are_found_in_launchers_and_settings() {
        let launcher = "#!/bin/sh\nexport ANTHROPIC_BASE_URL=http://x\nexport ANTHROPIC_AUTH_TOKEN='s3cr'\\''et'\nexport ANTHROPIC_API_KEY=''\nexec claude\n";
        assert_eq!(values_in(launcher), ["s3cr'et"]);
        let settings = "{\n  \"env\": {\n    \"ANTHROPIC_AUTH_TOKEN\": \"a\\\"b\",\n    \"ANTHROPIC_API_KEY\": \"\"\n  }\n}\n";
        assert_eq!(values_in(settings), ["a\"b"]);
        // Placeholders are not secrets.
        assert!(values_in("export ANTHROPIC_AUTH_TOKEN=ollama\n").is_empty());
        assert!(values_in("{\"ANTHROPIC_AUTH_TOKEN\": \"llama-server\"}").is_empty());
    }

    #[test]
    fn masking_covers_every_form() {
        let t = "-export ANTHROPIC_AUTH_TOKEN='it'\\''s'\n+\"ANTHROPIC_AUTH_TOKEN\": \"it's\"\n";
        let m = mask(t, &s(&["it's"]));
        assert!(!m.contains("it"), "{m}");
        let m = mask_found(
            "x tok-123 y",
            &[],
            [&b"export ANTHROPIC_AUTH_TOKEN=tok-123\n"[..]],
        );
        assert_eq!(m, "x ******** y");
    }
}
