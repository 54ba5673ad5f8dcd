//! llama-server's own log lines (docs/server-logs.md, "llama-server"), optionally prefixed
//! `M.SS.mmm.uuu L ` (minutes since start, level letter) when it runs with `--log-prefix
//! --log-timestamps` (the default of recent builds), and the raw llama.cpp lines Ollama
//! passes through from its runner (no prefix at all).

use crate::duration::digits;
use crate::server::logline::{
    clamp32, find, float, ltrim, num, num_after, LogEvent, LogFormat, LogLine, Seen, Sign, Stamp,
};
use crate::server::ServerKind;

/// What a line says about the writer: llama-server's start, or a model load with no
/// Ollama line before it (Ollama 0.30+ passes the same lines through: a hint only).
pub fn detect(s: &Seen<'_, '_>) -> Option<Sign> {
    let ours = match s.event {
        LogEvent::ServerStart => true,
        LogEvent::LoadModel { .. } => !s.after_slog,
        _ => false,
    };
    ours.then_some(Sign::Hint(LogFormat::of(ServerKind::LlamaServer)))
}

/// One line of llama-server's (or a runner's) output, without its newline.
pub fn line(line: &str) -> LogLine<'_> {
    let (stamp, body) = match elapsed_prefix(line) {
        Some((ms, body)) => (Stamp::Elapsed(ms), body),
        None => (Stamp::None, line),
    };
    LogLine {
        stamp,
        event: self::body(body),
    }
}

/// `M.SS.mmm.uuu L ` → (ms since start, rest).
fn elapsed_prefix(line: &str) -> Option<(i64, &str)> {
    let b = line.as_bytes();
    let dot = b.iter().take(8).position(|&c| c == b'.')?;
    if dot == 0 {
        return None;
    }
    let min = digits(&b[..dot])?;
    let rest = &b[dot..];
    // .SS.mmm.uuu L<space>
    if rest.len() < 15
        || rest[0] != b'.'
        || rest[3] != b'.'
        || rest[7] != b'.'
        || rest[11] != b' '
        || rest[13] != b' '
    {
        return None;
    }
    let sec = digits(&rest[1..3])?;
    let ms = digits(&rest[4..7])?;
    digits(&rest[8..11])?;
    if !b"IWEDT".contains(&rest[12]) {
        return None;
    }
    Some((min * 60_000 + sec * 1000 + ms, &line[dot + 14..]))
}

/// llama-server / libllama body (no prefix).
fn body(body: &str) -> LogEvent<'_> {
    if let Some(rest) = body.strip_prefix("slot ") {
        return slot(rest);
    }
    // The bulk of a verbose model load says nothing this reader uses.
    if body.starts_with("print_info:") || body.starts_with("llama_model_loader:") {
        return LogEvent::Other;
    }
    // Old two-line timing form: the figures on their own line.
    let t = ltrim(body);
    if t.starts_with("prompt eval time =") {
        return timing(None, t, true);
    }
    if t.starts_with("eval time =") {
        return timing(None, t, false);
    }
    let Some(colon) = find(body, ": ") else {
        return LogEvent::Other;
    };
    let (head, msg) = (&body[..colon], ltrim(&body[colon + 2..]));
    let func = head.rfind(' ').map_or(head, |i| &head[i + 1..]);
    match func {
        "llama_context" | "llama_new_context_with_model" => context(msg),
        "llama_kv_cache" | "llama_kv_cache_unified" | "llama_kv_cache_init" => kv(msg),
        "load_model" => {
            if let Some(p) = msg.strip_prefix("loading model '") {
                LogEvent::LoadModel {
                    path: p.trim_end_matches('\''),
                }
            } else if msg.starts_with("initializing, n_slots") {
                match (
                    num_after(msg, "n_slots = "),
                    num_after(msg, "n_ctx_slot = "),
                ) {
                    (Some(n), Some(c)) => LogEvent::Slots {
                        n_slots: clamp32(n),
                        n_ctx_slot: c,
                    },
                    _ => LogEvent::Other,
                }
            } else {
                LogEvent::Other
            }
        }
        "llama_server" => {
            if msg.starts_with("initializing") {
                LogEvent::ServerStart
            } else if msg.starts_with("model loaded") {
                LogEvent::Ready
            } else {
                LogEvent::Other
            }
        }
        "send_error" => overflow(msg),
        "stop" => match msg.strip_prefix("cancel task, id_task = ").and_then(num) {
            Some(task) => LogEvent::Cancel { task },
            None => LogEvent::Other,
        },
        "resolve_fused_ops" if msg.starts_with("Flash Attention ") => {
            LogEvent::FlashResolved(msg.contains("enabled"))
        }
        _ if msg.starts_with("offloaded ") && find(msg, " layers to GPU").is_some() => {
            let r = &msg["offloaded ".len()..];
            match (num(r), r.find('/').and_then(|i| num(&r[i + 1..]))) {
                (Some(a), Some(b)) => LogEvent::Offload {
                    layers: clamp32(a),
                    of: clamp32(b),
                },
                _ => LogEvent::Other,
            }
        }
        "operator()" if find(msg, "cleaning up before exit").is_some() => LogEvent::Shutdown,
        _ => LogEvent::Other,
    }
}

fn context(msg: &str) -> LogEvent<'_> {
    let Some(eq) = find(msg, " = ") else {
        return LogEvent::Other;
    };
    let key = msg[..eq].trim_end();
    let val = msg[eq + 3..].trim();
    match key {
        "n_ctx" => num(val).map_or(LogEvent::Other, LogEvent::NCtx),
        "n_ctx_seq" | "n_ctx_per_seq" => num(val).map_or(LogEvent::Other, LogEvent::NCtxSeq),
        "n_seq_max" => num(val).map_or(LogEvent::Other, LogEvent::NSeqMax),
        "flash_attn" => LogEvent::FlashAttn(val),
        _ => LogEvent::Other,
    }
}

/// `size = X MiB (N cells, …), K (t): …, V (t): …` and the old `KV self size = …` form.
fn kv(msg: &str) -> LogEvent<'_> {
    let Some(i) = find(msg, "size = ") else {
        return LogEvent::Other;
    };
    let (Some(k), Some(v)) = (paren_after(msg, "K ("), paren_after(msg, "V (")) else {
        return LogEvent::Other;
    };
    let Some(mib) = float(&msg[i + 7..]) else {
        return LogEvent::Other;
    };
    let cells = msg.find('(').and_then(|p| num(&msg[p + 1..]));
    LogEvent::KvCache {
        mib,
        cells,
        k_type: k,
        v_type: v,
    }
}

fn paren_after<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let i = s.find(key)? + key.len();
    let end = s[i..].find(')')?;
    let t = &s[i..i + end];
    (!t.is_empty() && t.len() <= 16).then_some(t)
}

fn overflow(msg: &str) -> LogEvent<'_> {
    let Some(i) = find(msg, "request (") else {
        return LogEvent::Other;
    };
    let task = num_after(msg, "task id = ");
    let prompt = num(&msg[i + 9..]);
    let n_ctx = num_after(msg, "context size (");
    match (prompt, n_ctx) {
        (Some(prompt), Some(n_ctx)) => LogEvent::Overflow {
            task,
            prompt,
            n_ctx,
        },
        _ => LogEvent::Other,
    }
}

/// `<func>: id  S | task T | <msg>`.
fn slot(rest: &str) -> LogEvent<'_> {
    // Generation progress lines (one every few seconds) are most of a session's log.
    if rest.starts_with("print_timing") && find(rest, "| n_gen").is_some() {
        return LogEvent::Other;
    }
    let Some(id) = find(rest, ": id ") else {
        return LogEvent::Other;
    };
    let r = &rest[id + 5..];
    let Some(slot) = num(r) else {
        return LogEvent::Other;
    };
    let Some(tp) = find(r, "| task ") else {
        return LogEvent::Other;
    };
    let r = &r[tp + 7..];
    if r.starts_with('-') {
        return LogEvent::Other;
    }
    let Some(task) = num(r) else {
        return LogEvent::Other;
    };
    let msg = match find(r, " | ") {
        Some(i) => &r[i + 3..],
        None => "",
    };
    let t = ltrim(msg);
    if t.starts_with("n_gen") {
        return LogEvent::Other;
    }
    if t.starts_with("prompt processing") {
        return prompt_progress(task, t);
    }
    if t.starts_with("prompt eval time =") {
        return timing(Some(task), t, true);
    }
    if t.starts_with("eval time =") {
        return timing(Some(task), t, false);
    }
    if t.is_empty() && rest.starts_with("print_timing") {
        return LogEvent::TimingHeader { task };
    }
    if t.starts_with("processing task") {
        return LogEvent::Launch {
            slot: clamp32(slot),
            task,
        };
    }
    if t.starts_with("new prompt,") {
        return match (
            num_after(t, "n_ctx_slot = "),
            num_after(t, "task.n_tokens = "),
        ) {
            (Some(c), Some(n)) => LogEvent::NewPrompt {
                task,
                n_ctx_slot: c,
                n_tokens: n,
            },
            _ => LogEvent::Other,
        };
    }
    if let Some(s) = t.strip_prefix("stop processing: ") {
        return match num_after(s, "n_tokens = ") {
            Some(n) => LogEvent::Release {
                task,
                n_tokens: n,
                truncated: num_after(s, "truncated = ").is_some_and(|v| v != 0),
            },
            None => LogEvent::Other,
        };
    }
    if t.starts_with("slot context shift") {
        return match num_after(t, "n_discard = ") {
            Some(d) => LogEvent::ContextShift { task, n_discard: d },
            None => LogEvent::Other,
        };
    }
    LogEvent::Other
}

/// `prompt processing, n_tokens = N, progress = F, t = S s / R tokens per second`.
fn prompt_progress(task: u64, t: &str) -> LogEvent<'_> {
    let n_tokens = num_after(t, "n_tokens = ");
    let progress = find(t, "progress = ").and_then(|i| float(&t[i + 11..]));
    let tokens_per_s = find(t, " s / ").and_then(|i| float(&t[i + 5..]));
    match (n_tokens, progress) {
        (Some(n_tokens), Some(progress)) if (0.0..=1.0).contains(&progress) => {
            LogEvent::PromptProgress {
                task,
                n_tokens,
                progress,
                tokens_per_s,
            }
        }
        _ => LogEvent::Other,
    }
}

/// `prompt eval time = X ms / N tokens (…)` / `eval time = …`.
fn timing(task: Option<u64>, t: &str, prompt: bool) -> LogEvent<'_> {
    let Some(eq) = find(t, "= ") else {
        return LogEvent::Other;
    };
    let r = &t[eq + 2..];
    let ms = float(r);
    let tokens = find(r, "/ ").and_then(|i| num(&r[i + 2..]));
    match (ms, tokens) {
        (Some(ms), Some(tokens)) if prompt => LogEvent::PromptEval { task, ms, tokens },
        (Some(ms), Some(tokens)) => LogEvent::Eval { task, ms, tokens },
        _ => LogEvent::Other,
    }
}

#[cfg(test)]
mod tests {
    use crate::server::logline::{parse_line, LogEvent, Stamp};

    #[test]
    fn llama_server_prefixed_lines() {
        let l = parse_line("2.04.272.666 I slot print_timing: id  0 | task 0 | prompt eval time =   13535.29 ms /  3689 tokens (    3.67 ms per token,   272.55 tokens per second)");
        assert_eq!(l.stamp, Stamp::Elapsed(124_272));
        assert_eq!(
            l.event,
            LogEvent::PromptEval {
                task: Some(0),
                ms: 13535.29,
                tokens: 3689
            }
        );
        let l = parse_line("3.38.941.711 I slot      release: id  0 | task 4100 | stop processing: n_tokens = 11960, truncated = 0");
        assert_eq!(
            l.event,
            LogEvent::Release {
                task: 4100,
                n_tokens: 11960,
                truncated: false
            }
        );
        let l = parse_line("0.34.742.689 E srv    send_error: task id = 60, error: request (12024 tokens) exceeds the available context size (8192 tokens), try increasing it");
        assert_eq!(
            l.event,
            LogEvent::Overflow {
                task: Some(60),
                prompt: 12024,
                n_ctx: 8192
            }
        );
        let l = parse_line("0.02.582.170 I llama_kv_cache: size =   24.00 MiB (  8192 cells,   3 layers,  1/1 seqs), K (f16):   12.00 MiB, V (f16):   12.00 MiB");
        assert_eq!(
            l.event,
            LogEvent::KvCache {
                mib: 24.0,
                cells: Some(8192),
                k_type: "f16",
                v_type: "f16"
            }
        );
        assert_eq!(
            parse_line("0.15.829.735 I slot get_availabl: id  0 | task -1 | selected slot by LRU, t_last = -1").event,
            LogEvent::Other
        );
    }

    #[test]
    fn raw_and_old_timing_lines() {
        assert_eq!(
            parse_line("       eval time =     363.21 ms /     8 tokens").event,
            LogEvent::Eval {
                task: None,
                ms: 363.21,
                tokens: 8
            }
        );
        assert_eq!(
            parse_line("llama_context: n_ctx_per_seq = 4096").event,
            LogEvent::NCtxSeq(4096)
        );
        assert_eq!(
            parse_line("load_tensors: offloaded 29/29 layers to GPU").event,
            LogEvent::Offload { layers: 29, of: 29 }
        );
    }
}
