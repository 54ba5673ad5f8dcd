//! Durations: the one parser of Go's duration text (Ollama's `OLLAMA_KEEP_ALIVE`, its
//! server log's request times) and the one formatter every report uses; and the calendar
//! arithmetic behind the log readers' timestamps.

/// Go's `time.ParseDuration` text in milliseconds: an optional sign, then one or more
/// decimal numbers each with a unit (`ns`, `us`/`µs`/`μs`, `ms`, `s`, `m`, `h`): `30m`,
/// `1h30m`, `-1.5h`, `12.3ms`. A bare `0` is zero (Go accepts it); any other number without
/// a unit, an empty text, `.` or an unknown unit is `None`.
/// Source: <https://pkg.go.dev/time#ParseDuration>.
pub fn parse_go(s: &str) -> Option<f64> {
    let (sign, body) = match s.as_bytes().first() {
        Some(b'-') => (-1.0, &s[1..]),
        Some(b'+') => (1.0, &s[1..]),
        _ => (1.0, s),
    };
    if body == "0" {
        return Some(0.0);
    }
    if body.is_empty() {
        return None;
    }
    let mut rest = body;
    let mut total = 0.0;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..end];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return None;
        }
        let n: f64 = num.parse().ok()?;
        rest = &rest[end..];
        let (unit, scale) = [
            ("ns", 1e-6),
            ("us", 1e-3),
            ("µs", 1e-3),
            ("μs", 1e-3),
            ("ms", 1.0),
            ("s", 1000.0),
            ("m", 60_000.0),
            ("h", 3_600_000.0),
        ]
        .into_iter()
        .filter(|(u, _)| rest.starts_with(u))
        .max_by_key(|(u, _)| u.len())?;
        total += n * scale;
        rest = &rest[unit.len()..];
    }
    total.is_finite().then_some(sign * total)
}

/// A duration in words: `4.2 s` under 10 s, `45 s` under 2 min, `3.5 min` under 2 h, else
/// `2.5 h`; a whole value loses its `.0` (`5 min`, not `5.0 min`); `∞` when not finite.
pub fn human(ms: f64) -> String {
    let s = ms / 1000.0;
    if !s.is_finite() {
        return "∞".into();
    }
    let one = |v: f64, unit: &str| {
        let t = format!("{v:.1}");
        format!("{} {unit}", t.strip_suffix(".0").unwrap_or(&t))
    };
    if s.abs() < 10.0 {
        one(s, "s")
    } else if s.abs() < 120.0 {
        format!("{s:.0} s")
    } else if s.abs() < 7200.0 {
        one(s / 60.0, "min")
    } else {
        one(s / 3600.0, "h")
    }
}

/// [`human`] for whole seconds.
pub fn human_secs(secs: f64) -> String {
    human(secs * 1000.0)
}

// The calendar arithmetic the log readers' time parsers share (the debug log's
// `logs::time`, the server logs' `server::logline`).

/// A run of ASCII digits as a number: `None` when empty, longer than 12 digits or not all
/// digits (the debug-log and server-log time parsers share it).
pub fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 12 {
        return None;
    }
    let mut n: i64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(c - b'0');
    }
    Some(n)
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        for (t, ms) in [
            ("30m", 1_800_000.0),
            ("1h30m", 5_400_000.0),
            ("-1m", -60_000.0),
            ("1.5h", 5_400_000.0),
            ("500ms", 500.0),
            ("12.5ms", 12.5),
            ("45µs", 0.045),
            ("7ns", 0.000_007),
            ("0", 0.0),
            ("1m2.5s", 62_500.0),
            (".5s", 500.0),
        ] {
            let got = parse_go(t).unwrap_or_else(|| panic!("{t}"));
            assert!((got - ms).abs() < 1e-9, "{t}: {got}");
        }
        for bad in [
            "", "-", "5", "forever", "5 m", "m", "1x", "1.2.3s", ".s", "$(id)",
        ] {
            assert_eq!(parse_go(bad), None, "{bad}");
        }
    }

    #[test]
    fn words() {
        assert_eq!(human(4_200.0), "4.2 s");
        assert_eq!(human(45_000.0), "45 s");
        assert_eq!(human_secs(100.0), "100 s");
        assert_eq!(human_secs(300.0), "5 min");
        assert_eq!(human_secs(210.0), "3.5 min");
        // OLLAMA_KEEP_ALIVE=500: no float noise (it printed 8.333333333333334 min).
        assert_eq!(human_secs(500.0), "8.3 min");
        assert_eq!(human_secs(9000.0), "2.5 h");
        assert_eq!(human(f64::INFINITY), "∞");
    }
}
