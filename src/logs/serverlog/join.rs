//! Joining the server's tasks to Claude Code's requests by time.
//!
//! The two logs run on different clocks: llama-server's prefix counts from its own start,
//! Ollama writes local wall time, and the two programs may run on different machines. The
//! join finds the offset that lines up the most requests with server tasks (each pair within
//! [`TOLERANCE_MS`], in order), then refines it to the median difference of the matched
//! pairs. The offset is reported: for an elapsed clock it is the server's start time on
//! Claude Code's clock, for a wall clock it is the skew between the two clocks.

use super::analyze::{Clock, ServerAnalysis};
use crate::logs::{Analysis, SourceKind};

/// A request and a server task match when they start this close (after the offset).
pub const TOLERANCE_MS: i64 = 3_000;
/// Candidate pairs tried per side when searching for the offset.
const CANDIDATES: usize = 64;
/// Wall clocks further apart than this are not the same session (time zones are ≤ 14 h).
const MAX_WALL_SKEW_MS: i64 = 15 * 3_600_000;

/// One matched pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    /// Index into `Analysis::requests`.
    pub request: usize,
    /// Index into `ServerAnalysis::tasks`.
    pub task: usize,
    /// Request sent minus task start, after the offset (ms).
    pub residual_ms: i64,
}

/// The offset of one server epoch (a process start, for elapsed clocks).
#[derive(Debug, Clone, PartialEq)]
pub struct EpochOffset {
    pub epoch: u32,
    /// Claude Code's time = server time + offset.
    pub offset_ms: i64,
    pub matched: usize,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Join {
    pub clock: Clock,
    pub offsets: Vec<EpochOffset>,
    pub pairs: Vec<Pair>,
    /// Claude Code requests that go to the model (count_tokens excluded).
    pub requests_considered: usize,
    pub tasks_considered: usize,
}

impl Join {
    /// The server task joined to request `i`, if any.
    pub fn task_of(&self, request: usize) -> Option<usize> {
        self.pairs
            .iter()
            .find(|p| p.request == request)
            .map(|p| p.task)
    }

    /// The offset of the epoch with the most matches.
    pub fn main_offset(&self) -> Option<&EpochOffset> {
        self.offsets.iter().max_by_key(|o| o.matched)
    }
}

fn greedy(c: &[(i64, usize)], s: &[(i64, usize)], d: i64) -> (Vec<(usize, usize, i64)>, i64) {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    let mut cost = 0i64;
    while i < c.len() && j < s.len() {
        let diff = c[i].0.saturating_sub(s[j].0.saturating_add(d));
        if diff.abs() <= TOLERANCE_MS {
            out.push((c[i].1, s[j].1, diff));
            cost = cost.saturating_add(diff.saturating_abs());
            i += 1;
            j += 1;
        } else if diff < 0 {
            i += 1;
        } else {
            j += 1;
        }
    }
    (out, cost)
}

/// Joins `server`'s tasks to `claude`'s requests.
pub fn join(claude: &Analysis, server: &ServerAnalysis) -> Join {
    let c: Vec<(i64, usize)> = claude
        .requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.kind != SourceKind::CountTokens && !r.path.ends_with("/count_tokens"))
        .map(|(i, r)| (r.sent_ms, i))
        .collect();
    let mut out = Join {
        clock: server.clock,
        requests_considered: c.len(),
        ..Join::default()
    };
    // vLLM's and vllm-mlx's logs have no time per request: the last requests of the
    // session are the last tasks of the log, in order.
    if !server.tasks.is_empty() && server.tasks.iter().all(|t| t.at.is_none()) {
        let reqs: Vec<usize> = c
            .iter()
            .map(|(_, i)| *i)
            .filter(|i| claude.requests[*i].path.contains("/v1/messages"))
            .collect();
        let n = reqs.len().min(server.tasks.len());
        out.tasks_considered = server.tasks.len();
        out.pairs = reqs[reqs.len() - n..]
            .iter()
            .zip(server.tasks.len() - n..server.tasks.len())
            .map(|(r, t)| Pair {
                request: *r,
                task: t,
                residual_ms: 0,
            })
            .collect();
        return out;
    }
    let mut epochs: Vec<u32> = server.tasks.iter().map(|t| t.epoch).collect();
    epochs.dedup();
    epochs.sort_unstable();
    epochs.dedup();
    let mut used_requests: Vec<bool> = vec![false; claude.requests.len()];
    for epoch in epochs {
        let s: Vec<(i64, usize)> = server
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.epoch == epoch)
            .filter_map(|(i, t)| t.at.map(|a| (a, i)))
            .collect();
        out.tasks_considered += s.len();
        let free: Vec<(i64, usize)> = c
            .iter()
            .copied()
            .filter(|(_, i)| !used_requests[*i])
            .collect();
        if s.is_empty() || free.is_empty() {
            continue;
        }
        let wall = matches!(server.clock, Clock::Wall | Clock::Local);
        let mut cands: Vec<i64> = Vec::new();
        if wall {
            cands.push(0);
        }
        for (ct, _) in free.iter().take(CANDIDATES) {
            for (st, _) in s.iter().take(CANDIDATES) {
                let d = ct.saturating_sub(*st);
                if !wall || d.saturating_abs() <= MAX_WALL_SKEW_MS {
                    cands.push(d);
                }
            }
        }
        let mut best: Option<(usize, i64, i64)> = None; // (matches, -cost, d)
        for d in cands {
            let (m, cost) = greedy(&free, &s, d);
            let key = (m.len(), -cost, d);
            let better = match best {
                None => true,
                Some((bm, bc, bd)) => {
                    (key.0, key.1) > (bm, bc)
                        // Equal: the smaller skew for wall clocks.
                        || ((key.0, key.1) == (bm, bc) && wall && d.saturating_abs() < bd.saturating_abs())
                }
            };
            if better {
                best = Some(key);
            }
        }
        let Some((n, _, d)) = best else { continue };
        // Any offset lines up one pair on a free (elapsed) clock: it takes two to agree,
        // unless one of the sides has only one.
        let need = if wall {
            1
        } else {
            2.min(free.len()).min(s.len())
        };
        if n == 0 || n < need {
            continue;
        }
        // Refine to the median difference, then match again.
        let (m, _) = greedy(&free, &s, d);
        let mut diffs: Vec<i64> = m
            .iter()
            .map(|(ci, si, _)| claude.requests[*ci].sent_ms - server.tasks[*si].at.unwrap_or(0))
            .collect();
        diffs.sort_unstable();
        let med = diffs[diffs.len() / 2];
        let (m2, _) = greedy(&free, &s, med);
        let (m, d) = if m2.len() >= m.len() {
            (m2, med)
        } else {
            (m, d)
        };
        for (ci, si, r) in &m {
            used_requests[*ci] = true;
            out.pairs.push(Pair {
                request: *ci,
                task: *si,
                residual_ms: *r,
            });
        }
        out.offsets.push(EpochOffset {
            epoch,
            offset_ms: d,
            matched: m.len(),
        });
    }
    out.pairs.sort_by_key(|p| p.request);
    out
}

/// Where a joined session's time went, from the server's figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JoinSummary {
    pub matched: usize,
    pub prefill_ms: f64,
    pub decode_ms: f64,
    /// Session wall time (Claude Code's log) not spent in prefill or decode.
    pub idle_ms: f64,
    pub wall_ms: f64,
    pub prompt_tokens: u64,
    pub prompt_tokens_evaluated: u64,
    pub cached_tokens: u64,
    /// Prefill time the cache saved, at the session's own prefill rate (estimate).
    pub cache_saved_ms: f64,
}

pub fn summary(claude: &Analysis, server: &ServerAnalysis, j: &Join) -> JoinSummary {
    let mut s = JoinSummary {
        matched: j.pairs.len(),
        wall_ms: claude.summary.wall_ms as f64,
        ..JoinSummary::default()
    };
    for p in &j.pairs {
        let t = &server.tasks[p.task];
        s.prefill_ms += t.prefill_ms.unwrap_or(0.0);
        s.decode_ms += t.decode_ms.unwrap_or(0.0);
        s.prompt_tokens += t.prompt_tokens.unwrap_or(0);
        s.prompt_tokens_evaluated += t.prompt_eval_tokens.unwrap_or(0);
        s.cached_tokens += t.cached_tokens().unwrap_or(0);
    }
    s.idle_ms = (s.wall_ms - s.prefill_ms - s.decode_ms).max(0.0);
    if s.prompt_tokens_evaluated > 0 {
        s.cache_saved_ms = s.prefill_ms / s.prompt_tokens_evaluated as f64 * s.cached_tokens as f64;
    }
    s
}

/// The session's window on the server's clock (for the findings), with a minute's margin.
pub fn window(claude: &Analysis, j: &Join) -> Option<super::rules::Window> {
    let o = j.main_offset()?;
    let (a, b) = (claude.summary.first_ts_ms?, claude.summary.last_ts_ms?);
    Some(super::rules::Window {
        from: Some(a.saturating_sub(o.offset_ms).saturating_sub(60_000)),
        to: Some(b.saturating_sub(o.offset_ms).saturating_add(60_000)),
        epoch: (j.clock == Clock::Elapsed).then_some(o.epoch),
    })
}
