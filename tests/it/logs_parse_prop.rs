//! Property-style test of the log line parser and the analysis: random and mutated lines from
//! a seeded PRNG (xorshift64*, `support::rng`, so the sequence never changes) must never panic,
//! and the analysis must stay consistent whatever it is fed.

use cclocal::logs::{analyze_bytes, parse_line, Event, Line};

use crate::support::rng::Rng;

/// Real line shapes from `docs/claude-code.md` ("The debug log") and the fixtures.
const SEEDS: &[&str] = &[
    "2026-11-25T19:36:59.715Z [DEBUG] [API REQUEST] /v1/messages source=sdk",
    "2026-08-12T13:14:53.822Z [DEBUG] [API REQUEST] /v1/messages x-client-request-id=6538e9fc-a0af source=repl_main_thread",
    "2026-11-25T19:36:59.713Z [DEBUG] [API:timing] dispatching to firstParty model=qwen3-coder:30b",
    "2026-11-25T19:36:59.725Z [DEBUG] Stream started - received first chunk",
    "2026-11-25T19:36:59.725Z [DEBUG] [API:timing] first byte after 14ms",
    "2026-11-25T19:36:59.725Z [WARN] Slow first byte: no stream chunk 30.0s after request sent (attempt 1)",
    "2026-05-02T18:18:28.508Z [WARN] Streaming stall detected: 54.4s gap between events (stall #1)",
    "2026-05-02T18:18:28.518Z [WARN] Streaming completed with 1 stall(s), total stall time: 54.4s",
    "2026-08-12T13:15:04.721Z [WARN] Stream connection error (ECONNRESET) — retrying streaming (1/10)",
    "2026-11-25T19:32:51.032Z [ERROR] API error (attempt 1/11): 404 404 {\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"message\":\"model 'missing-model:7b' not found\"}}",
    "2026-11-25T19:32:51.045Z [WARN] Streaming endpoint returned 404, falling back to non-streaming mode",
    "2026-11-25T19:32:51.098Z [ERROR] Non-streaming fallback also failed: 404 {\"type\":\"error\"}",
    "2026-11-25T19:39:11.667Z [ERROR] countTokens API call failed: 404 {\"type\":\"error\"}",
    "2026-11-25T19:40:28.618Z [DEBUG] countTokensWithFallback: API returned null, trying haiku fallback (0 tools)",
    "2026-11-25T19:40:02.847Z [ERROR] countTokensWithFallback: [REDACTED] fallback failed: 404 {\"message\":\"model 'm' not found\"}",
    "2026-11-25T19:40:28.618Z [ERROR] Error: Error: 404 {\"type\":\"error\"}",
    "2026-11-25T19:43:27.682Z [DEBUG] autocompact: tokens=654 threshold=31757 effectiveWindow=180000",
    "2026-11-25T19:37:01.347Z [DEBUG] autocompact: tokens=[REDACTED] level=blocked effectiveWindow=57344",
    "2026-11-25T19:37:01.350Z [DEBUG] autocompact: routing through reactive (thresholdSource=unknown-model)",
    "2026-11-25T19:39:05.714Z [WARN] [autocompact] \"qwen3-coder:30b\" isn't described by this version's model catalog",
    "2026-11-25T19:37:01.447Z [DEBUG] Forked agent [reactive-compact] finished: 1 messages, types=[assistant]",
    "2026-11-25T19:31:05.072Z [DEBUG] [engine] turn 1 end (turns=1 usage in=1000 out=10 cost=$0.0042 api=152ms stop=end_turn resultLen=16)",
    "2026-11-25T19:36:59.706Z [DEBUG] attribution header x-anthropic-billing-header: cc_version=2.1.332.fb8; cc_entrypoint=sdk-cli;",
    "    at generate (/$bunfs/home/dev/src/entrypoints/cli.js:11:57083)",
];

const ALPHABET: &[u8] = b" []()=:/.-0123456789TZ\"'{}\\x\xc3\xa9\xe2\x80\xff\x00\r\nabcAPIERROR";

/// One mutated line: byte flips, insertions, deletions, truncation, splicing.
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..=rng.below(6) {
        match rng.below(6) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] = ALPHABET[rng.below(ALPHABET.len())];
            }
            1 => {
                let i = rng.below(b.len() + 1);
                b.insert(i, ALPHABET[rng.below(ALPHABET.len())]);
            }
            2 if !b.is_empty() => {
                let i = rng.below(b.len());
                b.remove(i);
            }
            3 => {
                let n = rng.below(b.len() + 1);
                b.truncate(n);
            }
            4 => {
                let other = SEEDS[rng.below(SEEDS.len())].as_bytes();
                let cut = rng.below(other.len() + 1);
                let at = rng.below(b.len() + 1);
                b.splice(at..at, other[cut..].iter().copied());
            }
            _ => {
                // Digits blown up to overflow every integer type.
                let at = rng.below(b.len() + 1);
                b.splice(at..at, b"99999999999999999999999".iter().copied());
            }
        }
    }
    b
}

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    (0..rng.below(200))
        .map(|_| (rng.next() >> 24) as u8)
        .collect()
}

#[test]
fn parse_line_never_panics_on_mutated_lines() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut entries = 0;
    for round in 0..60_000 {
        let bytes = if round % 10 == 0 {
            random_bytes(&mut rng)
        } else {
            let seed = SEEDS[rng.below(SEEDS.len())].as_bytes();
            mutate(&mut rng, seed)
        };
        let text = String::from_utf8_lossy(&bytes);
        if let Line::Entry(e) = parse_line(&text) {
            entries += 1;
            // An entry always starts with its timestamp.
            assert!(text.starts_with(e.ts), "{text:?}");
            if let Event::FirstByte { ms } = e.event {
                assert!(text.contains(&format!("first byte after {ms}")), "{text:?}");
            }
        }
    }
    // The mutations keep many lines valid: the test exercises the event parsers, not only
    // the prefix check.
    assert!(entries > 10_000, "only {entries} entries");
}

#[test]
fn seeds_parse_to_known_events() {
    for s in SEEDS {
        match parse_line(s) {
            Line::Entry(e) => assert_ne!(e.event, Event::Other, "{s}"),
            Line::Continuation(_) => assert!(s.starts_with("    at ")),
            Line::Blank => panic!("{s}"),
        }
    }
}

#[test]
fn analysis_stays_consistent_on_random_logs() {
    let mut rng = Rng(42);
    for _ in 0..300 {
        let mut log: Vec<u8> = Vec::new();
        for _ in 0..rng.below(120) {
            let seed = SEEDS[rng.below(SEEDS.len())].as_bytes();
            let line = if rng.below(3) == 0 {
                mutate(&mut rng, seed)
            } else {
                seed.to_vec()
            };
            log.extend_from_slice(&line);
            log.push(b'\n');
        }
        let a = analyze_bytes(&log);
        let s = &a.summary;
        assert_eq!(s.requests as usize, a.requests.len());
        assert_eq!(
            s.lines as usize,
            log.iter().filter(|&&c| c == b'\n').count()
        );
        assert_eq!(
            s.first_byte_ms_total,
            a.requests
                .iter()
                .filter_map(|r| r.first_byte_ms)
                .sum::<u64>()
        );
        assert!(s.not_found_404 <= s.failures.values().sum::<u64>());
        assert!(a.requests.iter().all(|r| r.attempts >= 1));
    }
}
