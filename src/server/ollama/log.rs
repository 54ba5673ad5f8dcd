//! Ollama's server log (docs/server-logs.md, "Ollama"): its Go `slog` lines
//! `time=<RFC 3339> level=<L> source=<file:line> msg=<…> k=v…` (before and since 0.30) and
//! its `[GIN]` access lines. The llama.cpp lines of its runner, passed through, are
//! llama-server's (`server::llama_server::log`).

use crate::duration::{days_from_civil, digits};
use crate::server::logline::{find, num, LogEvent, LogFormat, LogLine, Seen, Sign, Stamp};
use crate::server::ServerKind;

/// Which runner Ollama ran: the log reads differently (docs/server-logs.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OllamaRunner {
    /// Before 0.30: its own Go runners (`msg="starting runner"`, `msg=load request=…`).
    Go,
    /// 0.30+: llama-server as its runner (`msg="starting llama-server"`).
    LlamaServer,
}

impl OllamaRunner {
    /// The writer's name in `cclocal logs --json` (`kind`).
    pub fn log_name(self) -> &'static str {
        match self {
            OllamaRunner::Go => "ollama (go runner, before 0.30)",
            OllamaRunner::LlamaServer => "ollama (llama-server runner, 0.30+)",
        }
    }
}

fn ollama(runner: OllamaRunner) -> LogFormat {
    LogFormat {
        kind: ServerKind::Ollama,
        ollama_runner: Some(runner),
    }
}

/// What a line says about the writer: Ollama's runner start and its Go runner's load
/// request are Ollama's alone; a model load after a `time=` line is Ollama 0.30+'s, unless
/// the log said otherwise before.
pub fn detect(s: &Seen<'_, '_>) -> Option<Sign> {
    match s.event {
        LogEvent::StartRunner { runner, .. } => Some(Sign::Proof(ollama(*runner))),
        LogEvent::LoadRequest { .. } => Some(Sign::Proof(ollama(OllamaRunner::Go))),
        LogEvent::LoadModel { .. } if s.after_slog => {
            Some(Sign::Hint(ollama(OllamaRunner::LlamaServer)))
        }
        _ => None,
    }
}

/// What Ollama's runner command line (`cmd=` of [`LogEvent::StartRunner`]) asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunnerCommand {
    pub ctx_size: Option<u64>,
    pub kv_type: Option<String>,
    pub flash_attn: Option<String>,
    pub model: Option<String>,
}

/// Reads the runner's command line with the one llama-server command-line reader
/// (`server::llama_server::parse_command`); Ollama's Go runner (before 0.30) shares its
/// flags but names the cache type `--kv-cache-type`.
pub fn runner_command(cmd: &str) -> RunnerCommand {
    let words: Vec<String> = cmd.split_whitespace().map(str::to_string).collect();
    let c = crate::server::llama_server::parse_command(&words, &Default::default());
    let go_kv = words
        .iter()
        .position(|w| w == "--kv-cache-type")
        .and_then(|i| words.get(i + 1));
    RunnerCommand {
        ctx_size: c.ctx_size,
        kv_type: c.cache_type_k.or(go_kv.cloned()),
        flash_attn: c.flash_attn,
        model: c.model,
    }
}

/// The value of `key=` in a slog line: quoted (with `\"` escapes) or up to the next space.
pub fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(i) = line[from..].find(key) {
        let at = from + i;
        let ok_start = at == 0 || line.as_bytes()[at - 1] == b' ';
        let after = at + key.len();
        if ok_start && line.as_bytes().get(after) == Some(&b'=') {
            let v = &line[after + 1..];
            if let Some(q) = v.strip_prefix('"') {
                let b = q.as_bytes();
                let mut k = 0;
                while k < b.len() {
                    match b[k] {
                        b'\\' => k += 2,
                        b'"' => return Some(&q[..k]),
                        _ => k += 1,
                    }
                }
                return Some(q);
            }
            return Some(v.split(' ').next().unwrap_or(""));
        }
        from = after;
    }
    None
}

/// `time=…` slog line (the `time=` already stripped).
pub(in crate::server) fn slog(rest: &str) -> LogLine<'_> {
    let ts = rest.split(' ').next().unwrap_or("");
    let stamp = rfc3339_ms(ts).map_or(Stamp::None, Stamp::Wall);
    let event = match field(rest, "msg") {
        Some(msg) => slog_event(rest, msg),
        None => LogEvent::Other,
    };
    LogLine { stamp, event }
}

fn slog_event<'a>(line: &'a str, msg: &'a str) -> LogEvent<'a> {
    let n = |k: &str| field(line, k).and_then(num);
    match msg {
        "truncating input prompt" => match (n("limit"), n("prompt"), n("keep"), n("new")) {
            (Some(limit), Some(prompt), keep, new) => LogEvent::Truncating {
                limit,
                prompt,
                keep: keep.unwrap_or(0),
                new: new.unwrap_or(limit),
            },
            _ => LogEvent::Other,
        },
        "server config" => LogEvent::ServerConfig {
            env: field(line, "env").unwrap_or(""),
        },
        "starting llama-server" => LogEvent::StartRunner {
            cmd: field(line, "cmd").unwrap_or(""),
            runner: OllamaRunner::LlamaServer,
        },
        "starting runner" | "starting llama server" => LogEvent::StartRunner {
            cmd: field(line, "cmd").unwrap_or(""),
            runner: OllamaRunner::Go,
        },
        "loading model via llama-server" => LogEvent::LoadModel {
            path: field(line, "model").unwrap_or(""),
        },
        "load" => {
            let req = field(line, "request").unwrap_or("");
            let word = |k: &str| {
                req.find(k)
                    .map(|i| &req[i + k.len()..])
                    .map(|r| r.split([' ', '}']).next().unwrap_or(""))
            };
            LogEvent::LoadRequest {
                kv_size: word("KvSize:").and_then(num),
                kv_type: word("KvCacheType:"),
                flash_attention: word("FlashAttention:").map(|v| v == "true" || v == "Enabled"),
            }
        }
        "timer expired, expiring to unload" | "runner expired event received" => LogEvent::Expired,
        m if m.starts_with("llama-server started in")
            || m.starts_with("llama runner started in") =>
        {
            LogEvent::Ready
        }
        // Ollama's 400 text when context shift is off (in `msg` or an `error=` field).
        _ if find(line, "the prompt is longer than the context length").is_some() => {
            LogEvent::OverflowText
        }
        _ => LogEvent::Other,
    }
}

/// The zone offset of an RFC 3339 time in minutes (`Z` → 0).
pub fn zone_offset_min(s: &str) -> Option<i64> {
    let utc = rfc3339_ms(s)?;
    let local = rfc3339_ms(&format!("{}Z", s.get(..19)?))?;
    Some((local - (utc - utc.rem_euclid(1000))) / 60_000)
}

/// `2026-10-01T14:50:47.067+02:00` / `…Z` → UTC ms (fraction optional, any digits).
pub fn rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let base = civil_ms(
        digits(&b[0..4])?,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    )?;
    let mut i = 19;
    let mut frac_ms = 0i64;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let f = &b[start..i];
        let mut scale = 100;
        for &c in f.iter().take(3) {
            frac_ms += i64::from(c - b'0') * scale;
            scale /= 10;
        }
    }
    let tz = &b[i..];
    let off_min = match tz.first() {
        Some(b'Z') => 0,
        Some(&s @ (b'+' | b'-')) if tz.len() >= 6 && tz[3] == b':' => {
            let m = digits(&tz[1..3])? * 60 + digits(&tz[4..6])?;
            if s == b'+' {
                m
            } else {
                -m
            }
        }
        _ => return None,
    };
    Some(base + frac_ms - off_min * 60_000)
}

fn civil_ms(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<i64> {
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some(((days * 24 + h) * 60 + mi) * 60_000 + s * 1000)
}

/// `2025/07/01 - 12:34:56 | 200 |  1.234s |  127.0.0.1 | POST  "/api/chat"`.
pub(in crate::server) fn gin(rest: &str) -> LogLine<'_> {
    let mut parts = rest.split('|');
    let when = parts.next().unwrap_or("").trim();
    let b = when.as_bytes();
    let stamp = if b.len() == 21 && b[4] == b'/' && b[7] == b'/' && &b[10..13] == b" - " {
        (|| {
            civil_ms(
                digits(&b[0..4])?,
                digits(&b[5..7])?,
                digits(&b[8..10])?,
                digits(&b[13..15])?,
                digits(&b[16..18])?,
                digits(&b[19..21])?,
            )
        })()
        .map_or(Stamp::None, Stamp::Local)
    } else {
        Stamp::None
    };
    let status = parts
        .next()
        .and_then(num)
        .and_then(|s| u16::try_from(s).ok());
    let ms = parts
        .next()
        .and_then(|d| crate::duration::parse_go(d.trim()));
    let _ip = parts.next();
    let req = parts.next().unwrap_or("").trim();
    let (method, path) = match req.split_once(' ') {
        Some((m, p)) => (m, p.trim().trim_matches('"')),
        None => ("", ""),
    };
    let event = match (status, ms) {
        (Some(status), Some(ms)) if !method.is_empty() => LogEvent::Http {
            status,
            ms,
            method,
            path,
        },
        _ => LogEvent::Other,
    };
    LogLine { stamp, event }
}

/// `map[OLLAMA_CONTEXT_LENGTH:8192 OLLAMA_KV_CACHE_TYPE:q8_0 …]` → pairs (values may hold
/// spaces only inside brackets, e.g. `OLLAMA_ORIGINS:[http://localhost …]`).
pub fn parse_env_map(env: &str) -> Vec<(String, String)> {
    let inner = env
        .trim()
        .strip_prefix("map[")
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(env);
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let b = inner.as_bytes();
    let mut push = |s: &str| {
        if let Some((k, v)) = s.split_once(':') {
            if k.starts_with("OLLAMA_")
                || k.ends_with("_PROXY")
                || k.starts_with("CUDA")
                || k.starts_with("HIP")
                || k.starts_with("ROCR")
                || k.starts_with("GPU")
                || k.starts_with("HSA")
            {
                out.push((k.to_string(), v.to_string()));
            }
        }
    };
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'[' => depth += 1,
            b']' => depth -= 1,
            b' ' if depth <= 0 => {
                push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    push(&inner[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::logline::parse_line;

    #[test]
    fn slog_lines() {
        let l = parse_line(
            r#"time=2026-10-01T14:50:47.067+02:00 level=WARN source=llama_server.go:318 msg="truncating input prompt" limit=2051 prompt=4398 keep=5 new=2051"#,
        );
        assert_eq!(
            l.stamp,
            Stamp::Wall(rfc3339_ms("2026-10-01T12:50:47.067Z").unwrap())
        );
        assert_eq!(
            l.event,
            LogEvent::Truncating {
                limit: 2051,
                prompt: 4398,
                keep: 5,
                new: 2051
            }
        );
        assert_eq!(
            field(r#"a=1 msg="x \"y\" z" b=2"#, "msg"),
            Some(r#"x \"y\" z"#)
        );
        assert_eq!(field("amsg=1 msg=2", "msg"), Some("2"));
    }

    #[test]
    fn gin_lines() {
        let l = parse_line(
            r#"[GIN] 2025/07/01 - 12:34:56 | 200 |  1m2.5s |       127.0.0.1 | POST     "/api/chat""#,
        );
        assert!(matches!(l.stamp, Stamp::Local(_)));
        assert_eq!(
            l.event,
            LogEvent::Http {
                status: 200,
                ms: 62_500.0,
                method: "POST",
                path: "/api/chat"
            }
        );
        assert_eq!(crate::duration::parse_go("12.5ms"), Some(12.5));
        assert_eq!(crate::duration::parse_go("x"), None);
    }
}
