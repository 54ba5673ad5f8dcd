//! Findings from the server's own log: pure functions over a [`ServerAnalysis`], for a time
//! window (`cclocal logs`: the session) or the most recent server start (`doctor`).

use super::analyze::{Load, ReloadReason, ServerAnalysis, Task, Truncation};
use crate::findings::{Finding, Severity};
use crate::server::ServerKind;

/// A window of the log's own clock (inclusive), and its epoch for elapsed clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub epoch: Option<u32>,
}

impl Window {
    pub fn all() -> Self {
        Window::default()
    }

    fn has(&self, at: Option<i64>, epoch: u32) -> bool {
        if self.epoch.is_some_and(|e| e != epoch) {
            return false;
        }
        match at {
            None => self.from.is_none() && self.to.is_none(),
            Some(t) => self.from.map_or(true, |f| t >= f) && self.to.map_or(true, |x| t <= x),
        }
    }
}

/// A prompt at least this long that was mostly re-evaluated counts as a cache miss.
const CACHE_MIN_PROMPT: u64 = 1024;

fn fmt_at(at: Option<i64>, clock: super::analyze::Clock) -> String {
    use super::analyze::Clock;
    match (at, clock) {
        (Some(t), Clock::Wall | Clock::Local) => crate::logs::time::format_iso_ms(t),
        (Some(t), Clock::Elapsed) => format!("+{}", crate::logs::time::human_ms(t.max(0) as u64)),
        _ => "time not logged".into(),
    }
}

fn fix_context(a: &ServerAnalysis) -> &'static str {
    match a.kind {
        ServerKind::Ollama => {
            "serve a larger context: OLLAMA_CONTEXT_LENGTH=<tokens> for the Ollama server \
             (or `cclocal setup`), and keep Claude Code's window within it"
        }
        ServerKind::Vllm => {
            "keep Claude Code's window within vLLM's --max-model-len (`cclocal setup --server \
             vllm` sets both), or serve a larger --max-model-len within the model's own limit"
        }
        _ => "start llama-server with a larger --ctx-size (per slot: --ctx-size N --parallel 1), or run `cclocal setup --server llama-server`",
    }
}

/// All findings for the part of the log inside `w`.
pub fn findings(a: &ServerAnalysis, w: Window) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(prompt_truncated(a, w));
    out.extend(model_reloaded(a, w));
    out.extend(kv_cache_type_ignored(a, w));
    out.extend(prompt_cache_not_reused(a, w));
    out
}

/// The doctor's view: findings since the server's most recent start (Ollama's last
/// `server config` line; llama-server's last process start).
pub fn findings_recent(a: &ServerAnalysis) -> Vec<Finding> {
    if a.clock != super::analyze::Clock::Elapsed {
        // Ollama: since its last start (`server config` line).
        let w = Window {
            from: a.last_start_at,
            ..Window::all()
        };
        return findings(a, w);
    }
    let Some(last) = a.loads.last() else {
        return findings(a, Window::all());
    };
    // From the first load of the last epoch: reloads within it stay visible.
    let first = a
        .loads
        .iter()
        .find(|l| l.epoch == last.epoch)
        .unwrap_or(last);
    let w = Window {
        from: first.at,
        to: None,
        epoch: Some(last.epoch),
    };
    findings(a, w)
}

fn prompt_truncated(a: &ServerAnalysis, w: Window) -> Option<Finding> {
    let cut: Vec<&Truncation> = a
        .truncations
        .iter()
        .filter(|t| w.has(t.at, t.epoch))
        .collect();
    let refused: Vec<&Task> = a
        .tasks
        .iter()
        .filter(|t| t.overflow.is_some() && w.has(t.at, t.epoch))
        .collect();
    let shifted: u64 = a
        .tasks
        .iter()
        .filter(|t| w.has(t.at, t.epoch))
        .map(|t| t.shifted)
        .sum();
    let full: Vec<&Task> = a
        .tasks
        .iter()
        .filter(|t| t.truncated && w.has(t.at, t.epoch))
        .collect();
    let refused_text = a
        .refused_text
        .iter()
        .filter(|(at, e)| w.has(*at, *e))
        .count() as u64;
    if cut.is_empty() && refused.is_empty() && shifted == 0 && full.is_empty() && refused_text == 0
    {
        return None;
    }
    let mut parts = Vec::new();
    let mut lines = Vec::new();
    if !cut.is_empty() {
        let lost: u64 = cut.iter().map(|t| t.prompt.saturating_sub(t.new)).sum();
        parts.push(format!(
            "cut {} prompt(s), {lost} tokens dropped",
            cut.len()
        ));
        for t in cut.iter().take(5) {
            lines.push(format!(
                "{}: prompt {} → {} tokens (limit {}, keep {})",
                fmt_at(t.at, a.clock),
                t.prompt,
                t.new,
                t.limit,
                t.keep
            ));
        }
    }
    if !refused.is_empty() || refused_text > 0 {
        parts.push(format!(
            "refused {} prompt(s) longer than the context",
            refused.len() as u64 + refused_text
        ));
        for t in refused.iter().take(5) {
            if let Some((p, c)) = t.overflow {
                lines.push(format!(
                    "{}: request of {p} tokens > context {c}",
                    fmt_at(t.at, a.clock)
                ));
            }
        }
    }
    if shifted > 0 {
        parts.push(format!("context shifts dropped {shifted} tokens"));
    }
    if !full.is_empty() {
        parts.push(format!(
            "{} reply(ies) stopped at a full context",
            full.len()
        ));
    }
    Some(
        Finding::of(
            "prompt_truncated",
            format!("the server {}", parts.join("; ")),
        )
        .detail(lines.join("; "))
        .fix(fix_context(a)),
    )
}

fn model_reloaded(a: &ServerAnalysis, w: Window) -> Option<Finding> {
    let loads: Vec<&Load> = a.loads.iter().filter(|l| w.has(l.at, l.epoch)).collect();
    // A reload is any load after the first in the window, or one after a task there.
    let first_task = a
        .tasks
        .iter()
        .find(|t| w.has(t.at, t.epoch))
        .and_then(|t| t.at);
    let reloads: Vec<&Load> = loads
        .iter()
        .enumerate()
        .filter(|(i, l)| {
            *i > 0
                || (l.reason != ReloadReason::First
                    && first_task.is_some_and(|t| l.at.is_some_and(|a| a > t)))
        })
        .map(|(_, l)| *l)
        .collect();
    if reloads.is_empty() {
        return None;
    }
    let reasons: Vec<String> = reloads
        .iter()
        .take(5)
        .map(|l| {
            format!(
                "{}: {} ({}{})",
                fmt_at(l.at, a.clock),
                l.model.as_deref().map(short_model).unwrap_or("model"),
                l.reason.as_str(),
                l.context()
                    .map(|c| format!(", context {c}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    let expired = reloads
        .iter()
        .any(|l| l.reason == ReloadReason::KeepAliveExpired);
    let ctx = reloads
        .iter()
        .any(|l| l.reason == ReloadReason::DifferentContext);
    let other = reloads.iter().any(|l| l.reason == ReloadReason::OtherModel);
    let fix = if expired {
        "keep the model loaded during sessions: OLLAMA_KEEP_ALIVE=-1 (or a longer duration)"
    } else if !ctx && !other {
        // Only restarts: one model for all tiers changes nothing.
        "the server itself restarted (a crash, an out-of-memory kill or a service restart): \
         its log just before each restart says why; a smaller context or model keeps it \
         within memory (`cclocal plan`)"
    } else if ctx {
        "send every request with the same context: set OLLAMA_CONTEXT_LENGTH once instead of \
         per-request num_ctx, and use one model for all Claude Code tiers"
    } else {
        "use one model for all Claude Code tiers (ANTHROPIC_DEFAULT_*_MODEL), or give the server \
         room for both (OLLAMA_MAX_LOADED_MODELS)"
    };
    Some(
        Finding::of(
            "model_reloaded",
            format!(
                "the server loaded a model {} more time(s) in this window; each cold load \
                 throws the prompt cache away",
                reloads.len()
            ),
        )
        .detail(reasons.join("; "))
        .fix(fix),
    )
}

fn short_model(p: &str) -> &str {
    p.rsplit(['/', '\\']).next().unwrap_or(p)
}

fn is_quantised(t: &str) -> bool {
    crate::planner::kv::is_quantized(t)
}

fn kv_cache_type_ignored(a: &ServerAnalysis, w: Window) -> Option<Finding> {
    let l = a
        .loads
        .iter()
        .rev()
        .filter(|l| w.has(l.at, l.epoch))
        .find(|l| {
            l.kv_requested.as_deref().is_some_and(is_quantised)
                && l.kv_type().is_some_and(|t| !is_quantised(t))
        })?;
    let want = l.kv_requested.as_deref().unwrap_or("");
    let got = l
        .kv_type()
        .unwrap_or(crate::planner::KvType::DEFAULT.name());
    let fa_off = l.flash_on() == Some(false)
        || l.flash_requested
            .as_deref()
            .is_some_and(|f| matches!(f, "0" | "false" | "off" | "disabled"));
    let why = if fa_off {
        "flash attention is off, and a quantised KV cache needs it"
    } else {
        "the server did not apply it (flash attention unavailable for this model or device?)"
    };
    let fix = match a.kind {
        ServerKind::Ollama => {
            "set OLLAMA_FLASH_ATTENTION=1 with OLLAMA_KV_CACHE_TYPE, then restart Ollama"
        }
        _ => "start llama-server with --flash-attn on together with --cache-type-k/--cache-type-v",
    };
    Some(
        Finding::of(
            "kv_cache_type_ignored",
            format!("KV cache type {want} was set but the server allocated {got}"),
        )
        .detail(format!(
            "{why}; the {got} cache takes {:.0} MiB{}",
            l.kv_mib(),
            l.context()
                .map(|c| format!(" for {c} tokens"))
                .unwrap_or_default()
        ))
        .fix(fix),
    )
}

fn prompt_cache_not_reused(a: &ServerAnalysis, w: Window) -> Option<Finding> {
    let tasks: Vec<&Task> = a
        .tasks
        .iter()
        .filter(|t| (t.prefill_ms.is_some() || t.total_ms.is_some()) && w.has(t.at, t.epoch))
        .collect();
    if a.kind == ServerKind::Vllm {
        return vllm_prefix_cache_unused(a, w);
    }
    let mut misses = Vec::new();
    let mut miss_ms = 0.0;
    for (i, t) in tasks.iter().enumerate() {
        if i == 0 || tasks[i - 1].epoch != t.epoch {
            continue; // the first request after a start has nothing to reuse
        }
        let (Some(p), Some(e)) = (t.prompt_tokens, t.prompt_eval_tokens) else {
            continue;
        };
        if p >= CACHE_MIN_PROMPT && e * 2 > p {
            misses.push(*t);
            miss_ms += t.prefill_ms.or(t.total_ms).unwrap_or(0.0);
        }
    }
    if misses.is_empty() {
        return None;
    }
    let detail: Vec<String> = misses
        .iter()
        .take(5)
        .map(|t| {
            format!(
                "task {} re-evaluated {} of {} prompt tokens ({:.1} s)",
                t.id,
                t.prompt_eval_tokens.unwrap_or(0),
                t.prompt_tokens.unwrap_or(0),
                t.prefill_ms.or(t.total_ms).unwrap_or(0.0) / 1000.0
            )
        })
        .collect();
    let fix = match a.kind {
        ServerKind::Ollama => {
            "CLAUDE_CODE_ATTRIBUTION_HEADER=0 (the per-request billing header changes the prompt \
             start), and one model for all tiers"
        }
        ServerKind::VllmMlx => {
            "CLAUDE_CODE_ATTRIBUTION_HEADER=0 (a per-request billing header changes the system \
             prompt vllm-mlx caches)"
        }
        _ => {
            "CLAUDE_CODE_ATTRIBUTION_HEADER=0, or llama-server b8906+ (keeps the cache across \
              Claude Code's billing header); one slot (-np 1)"
        }
    };
    Some(
        Finding::graded(
            "prompt_cache_not_reused",
            if misses.len() >= 2 {
                Severity::Warning
            } else {
                Severity::Info
            },
            format!(
                "{} request(s) re-evaluated most of a long prompt ({:.0} s of prefill)",
                misses.len(),
                miss_ms / 1000.0
            ),
        )
        .detail(detail.join("; "))
        .fix(fix),
    )
}

/// vLLM logs no per-request cache figures, only its prefix-cache hit rate over recent
/// requests on each throughput line: with at least two long prompts counted and a rate below
/// 10%, the cache is not being reused. Information only: the cause is not in the log
/// (measured: vLLM 0.32.0's CPU build serving Gemma 3 270M reported 0.0% for two Claude
/// Code runs whose system prompts vllm-mlx found identical; not established why).
fn vllm_prefix_cache_unused(a: &ServerAnalysis, w: Window) -> Option<Finding> {
    let long = a
        .tasks
        .iter()
        .filter(|t| w.has(t.at, t.epoch) && t.prompt_tokens.is_some_and(|p| p >= CACHE_MIN_PROMPT))
        .count();
    let rate = a.throughput.iter().rev().find_map(|t| t.prefix_hit_pct)?;
    if long < 2 || rate >= 10.0 {
        return None;
    }
    Some(
        Finding::graded(
            "prompt_cache_not_reused",
            Severity::Info,
            format!(
                "vLLM's prefix cache hit rate is {rate:.1}% over {long} long prompts: each request was prefilled again from its start"
            ),
        )
        .detail("from vLLM's throughput lines (`Prefix cache hit rate`); the log does not say why")
        .fix(
            "check that the start of Claude Code's prompt stays the same from request to request \
             (CLAUDE_CODE_ATTRIBUTION_HEADER=0: no per-request billing header) and that vLLM's \
             prefix caching is on (no --no-enable-prefix-caching)",
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::serverlog::analyze_bytes;

    #[test]
    fn refusals_without_a_task_line_count_in_their_window() {
        // The 400 text is Ollama's (llm/llama_server.go); the line around it is illustrative.
        let log = "time=2026-11-20T10:00:00.000Z level=INFO source=routes.go:1951 msg=\"server config\" env=\"map[OLLAMA_CONTEXT_LENGTH:4096]\"\n\
time=2026-11-20T10:05:00.000Z level=ERROR source=routes.go:2100 msg=\"chat request failed\" error=\"the prompt is longer than the context length currently available to the model; shorten the prompt, adjust the context length in settings, or use a model with a longer context length\"\n";
        let a = analyze_bytes(log.as_bytes());
        assert_eq!(a.refused_text.len(), 1);
        let f = findings(&a, Window::all());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].id, "prompt_truncated");
        assert!(f[0].title.contains("refused 1 prompt"), "{}", f[0].title);
        let t = crate::server::ollama::log::rfc3339_ms("2026-11-20T10:06:00.000Z");
        let later = Window {
            from: t,
            ..Window::all()
        };
        assert!(findings(&a, later).is_empty());
    }

    /// Issue 21: a reload whose cause is a restart of the server is not fixed by "one model
    /// for all tiers".
    #[test]
    fn a_restart_is_not_told_to_use_one_model() {
        let load = |at: i64, reason| Load {
            at: Some(at),
            epoch: 0,
            model: Some("/m/qwen.gguf".into()),
            n_ctx: Some(32_768),
            n_ctx_seq: None,
            n_seq_max: None,
            n_slots: None,
            flash_attn: None,
            flash_resolved: None,
            kv: Vec::new(),
            kv_requested: None,
            flash_requested: None,
            ctx_requested: None,
            offload: None,
            ready_at: None,
            reason,
        };
        let mut a = ServerAnalysis {
            loads: vec![load(1, ReloadReason::First), load(2, ReloadReason::Restart)],
            ..Default::default()
        };
        let f = model_reloaded(&a, Window::all()).unwrap();
        assert!(!f.fix.contains("one model"), "{}", f.fix);
        assert!(f.fix.contains("restarted"), "{}", f.fix);
        a.loads[1].reason = ReloadReason::OtherModel;
        let f = model_reloaded(&a, Window::all()).unwrap();
        assert!(f.fix.contains("one model"), "{}", f.fix);
    }
}
