//! What one Claude Code run did, read back from its debug log (through the debug-log
//! parser, `crate::logs::parse_line`), its stderr and the stub's records.

use super::stub::Recorded;
use crate::logs::{parse_line, CompactLevel, Event, Level, Line};
use serde::Serialize;

/// One `autocompact:` line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Autocompact {
    pub tokens: Option<u64>,
    /// Printed up to 2.1.121.
    pub threshold: Option<u64>,
    /// Printed from 2.1.122.
    pub level: Option<String>,
    pub effective_window: Option<u64>,
}

/// A request as the debug log names it, with the model the stub saw for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Call {
    pub path: String,
    /// The log's `source=` (`sdk`, `compact`, `generate_session_title`, …).
    pub source: String,
    pub model: Option<String>,
    pub max_tokens: Option<u64>,
}

/// What one run showed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunObs {
    pub name: String,
    pub exit_ok: bool,
    pub timed_out: bool,
    /// How long the run took, in milliseconds.
    pub ms: u64,
    pub autocompact: Vec<Autocompact>,
    /// `autocompact: routing through reactive (thresholdSource=…)`.
    pub reactive: Vec<String>,
    /// The model of a `[autocompact] "<model>" isn't described …` WARN.
    pub unknown_model_warning: Option<String>,
    /// stderr says `Claude Code doesn't recognize the model …`.
    pub unrecognized_on_stderr: bool,
    /// A compaction agent finished (`Forked agent [*compact*] finished`).
    pub compaction_finished: bool,
    /// Messages requests in log order, with what the stub recorded for each.
    pub calls: Vec<Call>,
    /// Hosts other than loopback the log says it tried to reach.
    pub outbound: Vec<String>,
    /// The last lines of stderr, for a run that failed.
    pub stderr_tail: String,
}

impl RunObs {
    /// The highest autocompact level this run logged (`None`: no level printed).
    pub fn max_level(&self) -> Option<CompactLevel> {
        self.autocompact
            .iter()
            .filter_map(|a| a.level.as_deref().and_then(level_of))
            .max()
    }

    /// It compacted or tried to: a compact/blocked level, a reactive routing, a compaction
    /// request or agent, or (old format) tokens at or past the threshold.
    pub fn tried_to_compact(&self) -> bool {
        self.max_level().is_some_and(|l| l >= CompactLevel::Compact)
            || !self.reactive.is_empty()
            || self.compaction_finished
            || self.calls.iter().any(|c| c.source == "compact")
            || self
                .autocompact
                .iter()
                .any(|a| match (a.tokens, a.threshold) {
                    (Some(t), Some(th)) => t >= th,
                    _ => false,
                })
    }
}

fn level_of(s: &str) -> Option<CompactLevel> {
    Some(match s {
        "ok" => CompactLevel::Ok,
        "warn" => CompactLevel::Warn,
        "compact" => CompactLevel::Compact,
        "blocked" => CompactLevel::Blocked,
        _ => return None,
    })
}

/// Hosts named as connection targets in one log message: `ENOTFOUND host`,
/// `getaddrinfo … host`, `http(s)://host`. Loopback names are left out.
pub fn hosts_in(msg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |h: &str| {
        let h = h
            .trim_matches(|c: char| {
                !(c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == ':')
            })
            .to_ascii_lowercase();
        let name = h.split(':').next().unwrap_or("");
        let loopback = matches!(name, "127.0.0.1" | "localhost" | "::1" | "" | "0.0.0.0");
        if !loopback && name.contains('.') && !out.contains(&name.to_string()) {
            out.push(name.to_string());
        }
    };
    for marker in ["ENOTFOUND ", "EAI_AGAIN ", "https://", "http://"] {
        let mut rest = msg;
        while let Some(i) = rest.find(marker) {
            let after = &rest[i + marker.len()..];
            let end = after
                .find(|c: char| {
                    c.is_whitespace() || matches!(c, '/' | ')' | '"' | '\'' | ',' | ';' | ']')
                })
                .unwrap_or(after.len());
            push(&after[..end]);
            rest = &after[end..];
        }
    }
    out
}

/// Reads one run: its debug log text, its stderr, and the stub's `/v1/messages` records
/// made during the run (in arrival order, paired with the log's request lines in order).
pub fn read_run(name: &str, log: &str, stderr: &str, records: &[Recorded]) -> RunObs {
    let mut r = RunObs {
        name: name.to_string(),
        unrecognized_on_stderr: stderr.contains("doesn't recognize the model"),
        ..Default::default()
    };
    let mut messages = records
        .iter()
        .filter(|x| x.method == "POST" && x.route() == "/v1/messages");
    let mut last_dispatch: Option<String> = None;
    for line in log.lines() {
        let Line::Entry(e) = parse_line(line) else {
            continue;
        };
        match e.event {
            Event::Autocompact {
                tokens,
                threshold,
                level,
                effective_window,
            } => r.autocompact.push(Autocompact {
                tokens,
                threshold,
                level: level.map(|l| l.as_str().to_string()),
                effective_window,
            }),
            Event::AutocompactReactive { threshold_source } => {
                r.reactive.push(threshold_source.to_string())
            }
            Event::UnknownModel { model } => r.unknown_model_warning = Some(model.to_string()),
            Event::ForkedAgentFinished { name } if name.contains("compact") => {
                r.compaction_finished = true
            }
            Event::Dispatch { model, .. } => last_dispatch = Some(model.to_string()),
            Event::ApiRequest { path, source } => {
                let bare = path.split('?').next().unwrap_or(path);
                if bare == "/v1/messages" {
                    let rec = messages.next();
                    r.calls.push(Call {
                        path: bare.to_string(),
                        source: source.to_string(),
                        model: rec
                            .and_then(|x| x.model.clone())
                            .or_else(|| last_dispatch.take()),
                        max_tokens: rec.and_then(|x| x.max_tokens),
                    });
                }
            }
            _ => {
                if matches!(e.level, Level::Error | Level::Warn) {
                    let msg = line.get(crate::logs::time::TS_LEN..).unwrap_or("");
                    for h in hosts_in(msg) {
                        if !r.outbound.contains(&h) {
                            r.outbound.push(h);
                        }
                    }
                }
            }
        }
    }
    // Requests the log did not name (an older log format): the stub saw them.
    for rec in messages {
        r.calls.push(Call {
            path: rec.route().to_string(),
            source: if rec.summary_request {
                "compact"
            } else {
                "unknown"
            }
            .into(),
            model: rec.model.clone(),
            max_tokens: rec.max_tokens,
        });
    }
    let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
    r.stderr_tail = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
    r
}

/// Everything verify observed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Observed {
    pub runs: Vec<RunObs>,
    /// Every request the stub received.
    pub requests: Vec<Recorded>,
    /// `hasCompletedOnboarding` in Claude Code's global config after the runs.
    pub onboarding_completed: Option<bool>,
    /// The file it was read from.
    pub global_config: Option<String>,
    pub elapsed_ms: u64,
}

/// Sources of requests made for the conversation itself (the rest are background calls).
pub const MAIN_SOURCES: &[&str] = &["sdk", "repl_main_thread", "compact", "print", "unknown"];

impl Observed {
    pub fn calls(&self) -> impl Iterator<Item = &Call> {
        self.runs.iter().flat_map(|r| r.calls.iter())
    }
    /// Main-conversation calls (`source=sdk` and friends).
    pub fn main_calls(&self) -> impl Iterator<Item = &Call> {
        self.calls()
            .filter(|c| MAIN_SOURCES.contains(&c.source.as_str()))
    }
    /// Background calls (titles, summaries, …).
    pub fn background_calls(&self) -> impl Iterator<Item = &Call> {
        self.calls()
            .filter(|c| !MAIN_SOURCES.contains(&c.source.as_str()))
    }
    /// The first `effectiveWindow=` logged.
    pub fn effective_window(&self) -> Option<u64> {
        self.runs
            .iter()
            .flat_map(|r| r.autocompact.iter())
            .find_map(|a| a.effective_window)
    }
    /// The first `threshold=` logged (2.1.121 and older).
    pub fn logged_threshold(&self) -> Option<u64> {
        self.runs
            .iter()
            .flat_map(|r| r.autocompact.iter())
            .find_map(|a| a.threshold)
    }
    pub fn any_autocompact_line(&self) -> bool {
        self.runs.iter().any(|r| !r.autocompact.is_empty())
    }
    /// Every host outside loopback Claude Code tried to reach (log and stub).
    pub fn outbound(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.runs {
            for h in &r.outbound {
                if !out.contains(h) {
                    out.push(h.clone());
                }
            }
        }
        for q in &self.requests {
            if let Some(t) = &q.outbound {
                let host = t
                    .trim_start_matches("https://")
                    .trim_start_matches("http://")
                    .split(['/', ':'])
                    .next()
                    .unwrap_or("")
                    .to_string();
                if !host.is_empty() && !out.contains(&host) {
                    out.push(host);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(
            hosts_in("1P event logging: 126 events failed to export (code=ENOTFOUND, getaddrinfo ENOTFOUND api.anthropic.com)"),
            vec!["api.anthropic.com"]
        );
        assert_eq!(
            hosts_in(
                "Failed to fetch https://statsig.anthropic.com/v1/x and http://127.0.0.1:8080/y"
            ),
            vec!["statsig.anthropic.com"]
        );
        assert!(hosts_in("Streaming stall detected: 1.0s gap").is_empty());
    }

    /// A real 2.1.332 `-p` log with compaction (`tests/fixtures/claude-debug-logs`).
    #[test]
    fn reads_a_real_log() {
        let log = include_str!(
            "../../tests/fixtures/claude-debug-logs/v2.1.332-p-mode-compaction-unknown-model.txt"
        );
        let r = read_run("x", log, "", &[]);
        assert_eq!(r.autocompact[0].effective_window, Some(57_344));
        assert_eq!(r.autocompact[0].level.as_deref(), Some("ok"));
        assert_eq!(r.max_level(), Some(CompactLevel::Blocked));
        assert_eq!(r.reactive, vec!["unknown-model"]);
        assert!(r.compaction_finished && r.tried_to_compact());
        assert!(r.calls.iter().any(|c| c.source == "compact"));
        assert_eq!(r.calls[0].model.as_deref(), Some("qwen3-coder:30b"));
        assert_eq!(r.outbound, vec!["api.anthropic.com"]);
    }

    #[test]
    fn reads_the_old_format() {
        let log = include_str!(
            "../../tests/fixtures/claude-debug-logs/v2.1.121-p-mode-autocompact-old-format.txt"
        );
        let r = read_run("x", log, "", &[]);
        let a = &r.autocompact[0];
        assert_eq!(
            (a.threshold, a.effective_window),
            (Some(31_757), Some(180_000))
        );
        assert!(!r.tried_to_compact());
    }
}
