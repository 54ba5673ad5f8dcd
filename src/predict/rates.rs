//! Measured speed as a function of context depth.
//!
//! Evaluating one token at depth `x` (the tokens already in the cache) costs `a + b·x`
//! milliseconds: `a` for the weights (the same for every token), `b·x` for attention over the
//! cache. Evaluating the tokens from depth `from` to `to` therefore costs
//! `a·(to − from) + b·(to² − from²)/2`. Both prefill and decode follow this shape with their
//! own `a` and `b`; they are fitted by least squares to timed segments: `cclocal bench` runs
//! (a prompt of `L` tokens from an empty cache: `from = 0, to = L`; decode after it:
//! `from = L, to = L + n`) or a server's timing lines (`cached` to `prompt` tokens in `ms`).
//! docs/session-time.md shows the fit against measurements.

use serde::{Deserialize, Serialize};

/// `ms(from, to) = c + a·(to − from) + b·(to² − from²)/2`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Cost {
    /// Milliseconds per token at depth 0.
    pub a_ms: f64,
    /// Extra milliseconds per token for every token already in the cache.
    pub b_ms: f64,
    /// Fixed milliseconds per request (evaluating even a few tokens costs this much more than
    /// their share: one small batch, the sampler, the HTTP layer); 0 where not measured.
    #[serde(default)]
    pub c_ms: f64,
}

impl Cost {
    /// Milliseconds to evaluate the tokens between depths `from` and `to` in one request (0
    /// when `to ≤ from`).
    pub fn ms(&self, from: u64, to: u64) -> f64 {
        if to <= from {
            return 0.0;
        }
        self.c_ms + self.tokens_ms(from, to)
    }

    /// The tokens' share alone, without the per-request cost.
    pub fn tokens_ms(&self, from: u64, to: u64) -> f64 {
        if to <= from {
            return 0.0;
        }
        let (f, t) = (from as f64, to as f64);
        self.a_ms * (t - f) + self.b_ms * (t * t - f * f) / 2.0
    }

    /// Tokens per second for one token at depth `x`.
    pub fn rate_at(&self, x: u64) -> f64 {
        let per = self.a_ms + self.b_ms * x as f64;
        if per > 0.0 {
            1000.0 / per
        } else {
            f64::INFINITY
        }
    }

    /// A flat rate (no depth term).
    pub fn flat(tokens_per_s: f64) -> Cost {
        Cost {
            a_ms: if tokens_per_s > 0.0 {
                1000.0 / tokens_per_s
            } else {
                f64::INFINITY
            },
            b_ms: 0.0,
            c_ms: 0.0,
        }
    }
}

/// One timed stretch of evaluation: tokens from depth `from` to `to` took `ms`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub from: u64,
    pub to: u64,
    pub ms: f64,
}

/// Least-squares fit of `a ≥ 0`, `b ≥ 0` to the segments, each weighted by 1/ms² (relative
/// error, so a 30-second prompt does not drown a 1-second one); no per-request cost. `None`
/// without a usable segment.
pub fn fit(segments: &[Segment]) -> Option<Cost> {
    fit_terms(segments, &[A, B])
}

/// [`fit`] with the per-request cost `c ≥ 0` as a third term: needs segments of different
/// lengths (long prompts and short increments) to tell `c` from `a`; where they do not, the
/// best fit without it wins.
pub fn fit_with_overhead(segments: &[Segment]) -> Option<Cost> {
    fit_terms(segments, &[A, B, C])
}

const A: usize = 0;
const B: usize = 1;
const C: usize = 2;

/// Whether the segments' depths differ enough to tell the depth term from the per-token one:
/// their mean depths span at least a factor of two and 512 tokens. Two requests at nearly
/// the same depth give a depth term from noise alone (issue 21: 7.9 s per token at 32K
/// from two requests).
pub fn spans_depth(segments: &[Segment]) -> bool {
    let mids: Vec<f64> = segments
        .iter()
        .filter(|s| s.to > s.from)
        .map(|s| (s.from + s.to) as f64 / 2.0)
        .collect();
    let (lo, hi) = mids.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), m| {
        (lo.min(*m), hi.max(*m))
    });
    mids.len() >= 2 && hi >= 2.0 * lo && hi - lo >= 512.0
}

/// The relative root-mean-square error of `cost` on the segments (0.1: predictions are off
/// by 10% on average); `None` with fewer than three segments, where it says nothing.
pub fn spread(cost: &Cost, segments: &[Segment]) -> Option<f64> {
    let errs: Vec<f64> = segments
        .iter()
        .filter(|s| s.to > s.from && s.ms > 0.0 && s.ms.is_finite())
        .map(|s| cost.ms(s.from, s.to) / s.ms - 1.0)
        .collect();
    (errs.len() >= 3).then(|| (errs.iter().map(|e| e * e).sum::<f64>() / errs.len() as f64).sqrt())
}

/// Every non-empty subset of `terms` that keeps the per-token term `a` (a token always costs
/// the weights' time: a fit without it claims infinite speed at depth 0) is fitted by
/// weighted least squares; the depth term `b` only where [`spans_depth`]. Among the fits with
/// no negative coefficient, the one with the smallest weighted error wins (fewer terms on a
/// tie). Solving each subset exactly and keeping the feasible best is the non-negative least
/// squares answer for three unknowns.
fn fit_terms(segments: &[Segment], terms: &[usize]) -> Option<Cost> {
    let deep = spans_depth(segments);
    let terms: Vec<usize> = terms.iter().copied().filter(|t| *t != B || deep).collect();
    let terms = terms.as_slice();
    let rows: Vec<([f64; 3], f64, f64)> = segments
        .iter()
        .filter(|s| s.to > s.from && s.ms.is_finite() && s.ms > 0.0)
        .map(|s| {
            let (f, t) = (s.from as f64, s.to as f64);
            (
                [t - f, (t * t - f * f) / 2.0, 1.0],
                s.ms,
                1.0 / (s.ms * s.ms),
            )
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let mut best: Option<(f64, usize, [f64; 3])> = None;
    for mask in 1u32..(1 << terms.len()) {
        let cols: Vec<usize> = (0..terms.len())
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| terms[i])
            .collect();
        if terms.contains(&A) && !cols.contains(&A) {
            continue;
        }
        let Some(coef) = solve(&rows, &cols) else {
            continue;
        };
        if coef.iter().any(|c| *c < 0.0 || !c.is_finite()) || coef[A] <= 0.0 {
            continue;
        }
        let sse: f64 = rows
            .iter()
            .map(|(x, y, w)| {
                let p: f64 = (0..3).map(|k| x[k] * coef[k]).sum();
                w * (y - p) * (y - p)
            })
            .sum();
        let better = match best {
            None => true,
            Some((b_sse, b_n, _)) => {
                let tol = 1e-9 * (1.0 + b_sse.abs());
                sse < b_sse - tol || (sse <= b_sse + tol && cols.len() < b_n)
            }
        };
        if better {
            best = Some((sse, cols.len(), coef));
        }
    }
    best.map(|(_, _, c)| Cost {
        a_ms: c[A],
        b_ms: c[B],
        c_ms: c[C],
    })
}

/// Weighted least squares on the columns `cols` (others 0): the normal equations, columns
/// scaled to unit size, Gaussian elimination with partial pivoting. `None` when they are
/// singular (the columns cannot be told apart on these rows).
fn solve(rows: &[([f64; 3], f64, f64)], cols: &[usize]) -> Option<[f64; 3]> {
    let n = cols.len();
    if rows.len() < n {
        return None;
    }
    let scale: Vec<f64> = cols
        .iter()
        .map(|&c| {
            let m = rows.iter().map(|(x, _, w)| w * x[c] * x[c]).sum::<f64>();
            if m > 0.0 {
                m.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    let mut m = vec![vec![0.0; n + 1]; n];
    for (x, y, w) in rows {
        for i in 0..n {
            let xi = x[cols[i]] / scale[i];
            for j in 0..n {
                m[i][j] += w * xi * x[cols[j]] / scale[j];
            }
            m[i][n] += w * xi * y;
        }
    }
    for k in 0..n {
        let p = (k..n).max_by(|&a, &b| m[a][k].abs().total_cmp(&m[b][k].abs()))?;
        // Unit-scaled columns: a pivot this small means two columns are the same.
        if m[p][k].abs() < 1e-9 {
            return None;
        }
        m.swap(k, p);
        let pivot = m[k].clone();
        for (i, row) in m.iter_mut().enumerate() {
            if i != k {
                let f = row[k] / pivot[k];
                for (x, p) in row.iter_mut().zip(&pivot).skip(k) {
                    *x -= f * p;
                }
            }
        }
    }
    let mut out = [0.0; 3];
    for i in 0..n {
        out[cols[i]] = m[i][n] / m[i][i] / scale[i];
    }
    Some(out)
}

/// Prefill and decode cost, and what reloading the model costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    pub prefill: Cost,
    pub decode: Cost,
    /// Loading the model again (ms); 0 when unknown.
    pub load_ms: f64,
    /// Prefill cost with a quantised (q8_0) KV cache, where measured.
    pub prefill_q8: Option<Cost>,
    pub decode_q8: Option<Cost>,
    /// Where the figures come from (`bench FILE`, `server log`, `flat`).
    pub source: String,
    /// How far the prefill fit is off its own measurements (relative RMS, [`spread`]);
    /// `None` where too few to say.
    #[serde(default)]
    pub spread: Option<f64>,
}

impl Rates {
    /// Flat rates (no depth term, no per-request cost, no reload cost): for examples and tests.
    pub fn flat(prefill_tokens_per_s: f64, decode_tokens_per_s: f64, source: &str) -> Rates {
        Rates {
            prefill: Cost::flat(prefill_tokens_per_s),
            decode: Cost::flat(decode_tokens_per_s),
            load_ms: 0.0,
            prefill_q8: None,
            decode_q8: None,
            source: source.to_string(),
            spread: None,
        }
    }
}

/// The fields of a saved `cclocal bench --json` this reads.
#[derive(Debug, Clone, Deserialize)]
struct BenchFile {
    runs: Vec<BenchFileRun>,
    #[serde(default)]
    generation: Vec<BenchFileGen>,
}

#[derive(Debug, Clone, Deserialize)]
struct BenchFileRun {
    prompt_tokens: u64,
    #[serde(default)]
    kv_type: String,
    prefill_tokens_per_s: f64,
    decode_tokens_per_s: f64,
    #[serde(default)]
    batch: u64,
    #[serde(default)]
    flash_attn: bool,
    #[serde(default)]
    increment: Option<BenchFileIncrement>,
}

#[derive(Debug, Clone, Deserialize)]
struct BenchFileIncrement {
    tokens: u64,
    ms: f64,
}

#[derive(Debug, Clone, Deserialize)]
struct BenchFileGen {
    tokens: u64,
    #[serde(default)]
    kv_type: String,
    tokens_per_s: f64,
}

/// Decode tokens the bench measured after each prompt (its `--decode`): the JSON does not
/// carry it per run, and the fit only needs the depth, so one token's width is used.
const DECODE_SPAN: u64 = 1;

fn segments(runs: &[&BenchFileRun], gens: &[&BenchFileGen]) -> (Vec<Segment>, Vec<Segment>) {
    let mut pre: Vec<Segment> = runs
        .iter()
        .filter(|r| r.prefill_tokens_per_s > 0.0)
        .map(|r| Segment {
            from: 0,
            to: r.prompt_tokens,
            ms: r.prompt_tokens as f64 / r.prefill_tokens_per_s * 1000.0,
        })
        .collect();
    // The short requests at depth: they tell the per-request cost from the per-token one.
    pre.extend(runs.iter().filter_map(|r| {
        let i = r.increment.as_ref()?;
        Some(Segment {
            from: r.prompt_tokens,
            to: r.prompt_tokens + i.tokens,
            ms: i.ms,
        })
    }));
    let mut dec: Vec<Segment> = runs
        .iter()
        .filter(|r| r.decode_tokens_per_s > 0.0)
        .map(|r| Segment {
            from: r.prompt_tokens,
            to: r.prompt_tokens + DECODE_SPAN,
            ms: DECODE_SPAN as f64 / r.decode_tokens_per_s * 1000.0,
        })
        .collect();
    dec.extend(
        gens.iter()
            .filter(|g| g.tokens_per_s > 0.0)
            .map(|g| Segment {
                from: 0,
                to: g.tokens,
                ms: g.tokens as f64 / g.tokens_per_s * 1000.0,
            }),
    );
    (pre, dec)
}

/// Rates from a saved `cclocal bench --json`: the fastest setting's runs (as `bench`
/// recommends: fastest prefill at the longest prompt) for f16, and q8_0 runs where present.
pub fn from_bench_json(text: &str, source: &str) -> Result<Rates, String> {
    let f: BenchFile = serde_json::from_str(text)
        .map_err(|e| format!("not a `cclocal bench --json` report: {e}"))?;
    let pick = |kv: &str| -> Option<(Cost, Cost, Option<f64>)> {
        let of_kv: Vec<&BenchFileRun> = f
            .runs
            .iter()
            .filter(|r| r.kv_type == kv || (kv == "f16" && r.kv_type.is_empty()))
            .collect();
        let longest = of_kv.iter().map(|r| r.prompt_tokens).max()?;
        let best = of_kv
            .iter()
            .filter(|r| r.prompt_tokens == longest)
            .max_by(|a, b| a.prefill_tokens_per_s.total_cmp(&b.prefill_tokens_per_s))?;
        let same: Vec<&BenchFileRun> = of_kv
            .iter()
            .copied()
            .filter(|r| r.batch == best.batch && r.flash_attn == best.flash_attn)
            .collect();
        let gens: Vec<&BenchFileGen> = f
            .generation
            .iter()
            .filter(|g| g.kv_type == kv || (kv == "f16" && g.kv_type.is_empty()))
            .collect();
        let (pre, dec) = segments(&same, &gens);
        let p = fit_with_overhead(&pre)?;
        Some((p, fit(&dec)?, spread(&p, &pre)))
    };
    let (prefill, decode, spread) = pick("f16").ok_or_else(|| {
        "the bench report has no f16 run with a prefill and a decode rate".to_string()
    })?;
    let q8 = pick("q8_0");
    Ok(Rates {
        prefill,
        decode,
        load_ms: 0.0,
        prefill_q8: q8.map(|q| q.0),
        decode_q8: q8.map(|q| q.1),
        source: source.to_string(),
        spread,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Segments from `from` to `to` tokens, each timed exactly by `truth`.
    fn timed(truth: &Cost, spans: impl IntoIterator<Item = (u64, u64)>) -> Vec<Segment> {
        spans
            .into_iter()
            .map(|(from, to)| Segment {
                from,
                to,
                ms: truth.ms(from, to),
            })
            .collect()
    }

    #[test]
    fn cost_integrates_the_depth_term() {
        let c = Cost {
            a_ms: 2.0,
            b_ms: 0.001,
            c_ms: 0.0,
        };
        // 1000 tokens from 0: 2000 + 0.001 × 1e6/2 = 2500 ms.
        assert!((c.ms(0, 1000) - 2500.0).abs() < 1e-9);
        // Additive over adjacent spans.
        assert!((c.ms(0, 400) + c.ms(400, 1000) - c.ms(0, 1000)).abs() < 1e-9);
        assert_eq!(c.ms(10, 10), 0.0);
        assert_eq!(c.ms(10, 5), 0.0);
        assert!((c.rate_at(0) - 500.0).abs() < 1e-9);
    }

    #[test]
    fn fit_recovers_a_and_b() {
        let truth = Cost {
            a_ms: 1.5,
            b_ms: 0.0004,
            c_ms: 0.0,
        };
        let segs = timed(&truth, [512, 1024, 2048, 4064].map(|l| (0, l)));
        let f = fit(&segs).unwrap();
        assert!((f.a_ms - 1.5).abs() < 1e-6, "{f:?}");
        assert!((f.b_ms - 0.0004).abs() < 1e-9, "{f:?}");
    }

    #[test]
    fn fit_with_overhead_recovers_c_from_short_increments() {
        let truth = Cost {
            a_ms: 1.4,
            b_ms: 0.00012,
            c_ms: 250.0,
        };
        // Long prompts from an empty cache and 64-token increments at depth.
        let mut segs = timed(&truth, [512, 2048, 8192].map(|l| (0, l)));
        segs.extend(timed(&truth, [2048, 8192].map(|d| (d, d + 64))));
        let f = fit_with_overhead(&segs).unwrap();
        assert!((f.a_ms - 1.4).abs() < 1e-6, "{f:?}");
        assert!((f.b_ms - 0.00012).abs() < 1e-9, "{f:?}");
        assert!((f.c_ms - 250.0).abs() < 1e-3, "{f:?}");
        // Without the increments c cannot be told apart: the two-term fit stays close.
        let f2 = fit(&segs[..3]).unwrap();
        assert_eq!(f2.c_ms, 0.0);
        // A negative overhead is never fitted: noise that makes short requests cheap.
        let cheap: Vec<Segment> = segs
            .iter()
            .map(|s| Segment {
                ms: if s.to - s.from == 64 {
                    s.ms * 0.2
                } else {
                    s.ms
                },
                ..*s
            })
            .collect();
        let f3 = fit_with_overhead(&cheap).unwrap();
        assert!(f3.c_ms >= 0.0 && f3.a_ms >= 0.0 && f3.b_ms >= 0.0, "{f3:?}");
    }

    #[test]
    fn fit_with_one_depth_is_flat_and_never_negative() {
        let f = fit(&[Segment {
            from: 0,
            to: 100,
            ms: 1000.0,
        }])
        .unwrap();
        assert!((f.a_ms - 10.0).abs() < 1e-9 && f.b_ms == 0.0, "{f:?}");
        // Longer prompts faster per token than short ones (noise): b would be negative.
        let f = fit(&[
            Segment {
                from: 0,
                to: 100,
                ms: 1000.0,
            },
            Segment {
                from: 0,
                to: 1000,
                ms: 9000.0,
            },
        ])
        .unwrap();
        assert!(f.b_ms == 0.0 && f.a_ms > 0.0, "{f:?}");
        assert!(fit(&[]).is_none());
        assert!(fit(&[Segment {
            from: 5,
            to: 5,
            ms: 1.0
        }])
        .is_none());
    }

    /// Real llama-server b11434 timings (gemma3-270m, 2 cores; docs/session-time.md): a cold
    /// 3689-token prompt and a 1397-token prompt after 16135 cached tokens.
    #[test]
    fn fit_on_real_server_timings() {
        let cold = Segment {
            from: 0,
            to: 3689,
            ms: 13_535.29,
        };
        let deep = Segment {
            from: 16_135,
            to: 17_532,
            ms: 8_961.29,
        };
        let f = fit(&[cold, deep]).unwrap();
        assert!((f.a_ms - 3.33).abs() < 0.01, "{f:?}");
        assert!((f.b_ms - 0.000183).abs() < 0.000002, "{f:?}");
        assert!((f.ms(0, 3689) / cold.ms - 1.0).abs() < 0.001);
        assert!((f.ms(16_135, 17_532) / deep.ms - 1.0).abs() < 0.001);
        // A cache hit of 81 tokens at depth 7783 took 686 ms: the formula says ~0.39 s (the
        // fixed per-request cost it leaves out, see the doc).
        let hit = f.ms(7783, 7864);
        assert!(hit > 300.0 && hit < 686.0, "{hit}");
        // Re-reading that prompt instead would take ~30 s.
        assert!(f.ms(0, 7864) > 25_000.0);
    }

    #[test]
    fn bench_json_gives_rates() {
        let text = r#"{"model":"m","runs":[
            {"prompt_tokens":512,"batch":2048,"flash_attn":true,"kv_type":"f16","prefill_tokens_per_s":512.0,"decode_tokens_per_s":50.0},
            {"prompt_tokens":2048,"batch":2048,"flash_attn":true,"kv_type":"f16","prefill_tokens_per_s":400.0,"decode_tokens_per_s":40.0},
            {"prompt_tokens":2048,"batch":2048,"flash_attn":true,"kv_type":"q8_0","prefill_tokens_per_s":380.0,"decode_tokens_per_s":41.0}],
            "generation":[{"tokens":32,"kv_type":"f16","tokens_per_s":55.0}]}"#;
        let r = from_bench_json(text, "bench b.json").unwrap();
        assert!((r.prefill.ms(0, 512) - 1000.0).abs() < 1.0, "{r:?}");
        assert!((r.prefill.ms(0, 2048) - 5120.0).abs() < 5.0, "{r:?}");
        assert!(r.prefill.b_ms > 0.0);
        assert!(r.decode.rate_at(0) > r.decode.rate_at(2048));
        assert!(r.prefill_q8.is_some());
        assert!(from_bench_json("{}", "x")
            .unwrap_err()
            .contains("cclocal bench"));
        assert!(from_bench_json(r#"{"runs":[]}"#, "x")
            .unwrap_err()
            .contains("no f16 run"));
    }

    /// Issue 21: two decode segments whose per-token cost grew with depth gave a fit with all
    /// its cost in the depth term (`a = 0`): infinite speed at depth 0 (`decode inf tok/s`)
    /// and seconds per token far beyond the depths measured.
    #[test]
    fn no_fit_puts_all_its_cost_in_the_depth_term() {
        let segs = [
            Segment {
                from: 16_000,
                to: 16_100,
                ms: 100.0 * 25.0,
            },
            Segment {
                from: 17_000,
                to: 17_100,
                ms: 100.0 * 27.0,
            },
        ];
        let f = fit(&segs).unwrap();
        assert!(f.a_ms > 0.0, "{f:?}");
        assert!(f.rate_at(0).is_finite(), "{f:?}");
        // Two depths this close cannot tell a depth term from noise: flat.
        assert_eq!(f.b_ms, 0.0, "{f:?}");
        assert!((f.rate_at(32_768) - 1000.0 / 26.0).abs() < 2.0, "{f:?}");
        // Exactly proportional to depth: still a per-token cost at depth 0.
        let prop = [
            Segment {
                from: 1_000,
                to: 1_001,
                ms: 10.0,
            },
            Segment {
                from: 4_000,
                to: 4_001,
                ms: 40.0,
            },
            Segment {
                from: 8_000,
                to: 8_001,
                ms: 80.0,
            },
        ];
        let f = fit(&prop).unwrap();
        assert!(f.a_ms > 0.0 && f.rate_at(0).is_finite(), "{f:?}");
        assert!(spread(&f, &prop).is_some());
    }
}
