//! The debug log's timestamps: `2026-11-25T19:40:28.609Z` (JavaScript `toISOString()`, always
//! UTC with milliseconds). Parsed to milliseconds since the Unix epoch without allocating.

use crate::duration::{days_from_civil, digits};

/// Length of a timestamp in the log prefix.
pub const TS_LEN: usize = 24;

/// Parses `YYYY-MM-DDTHH:MM:SS.mmmZ` into milliseconds since 1970-01-01T00:00:00Z.
/// Returns `None` for anything else (never panics).
pub fn parse_iso_ms(s: &[u8]) -> Option<i64> {
    if s.len() < TS_LEN {
        return None;
    }
    let s = &s[..TS_LEN];
    let sep_ok = s[4] == b'-'
        && s[7] == b'-'
        && s[10] == b'T'
        && s[13] == b':'
        && s[16] == b':'
        && s[19] == b'.'
        && s[23] == b'Z';
    if !sep_ok {
        return None;
    }
    let year = digits(&s[0..4])?;
    let month = digits(&s[5..7])?;
    let day = digits(&s[8..10])?;
    let hour = digits(&s[11..13])?;
    let min = digits(&s[14..16])?;
    let sec = digits(&s[17..19])?;
    let milli = digits(&s[20..23])?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let days = cached_days(year, month, day);
    Some(((days * 24 + hour) * 60 + min) * 60_000 + sec * 1000 + milli)
}

/// [`days_from_civil`] with the last answer kept: a log's lines mostly share their date.
fn cached_days(y: i64, m: i64, d: i64) -> i64 {
    use std::cell::Cell;
    thread_local! {
        static LAST: Cell<(i64, i64)> = const { Cell::new((i64::MIN, 0)) };
    }
    let key = (y * 100 + m) * 100 + d;
    LAST.with(|c| {
        let (k, days) = c.get();
        if k == key {
            return days;
        }
        let days = days_from_civil(y, m, d);
        c.set((key, days));
        days
    })
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Formats milliseconds since the epoch like the log does (`2026-11-25T19:40:28.609Z`).
pub fn format_iso_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

/// A duration in milliseconds for people: `850ms`, `12.3s`, `4m05s`, `1h02m`.
pub fn human_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, ms / 1000 % 60)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, ms / 60_000 % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let s = "2026-11-25T19:40:28.609Z";
        let ms = parse_iso_ms(s.as_bytes()).unwrap();
        assert_eq!(format_iso_ms(ms), s);
        assert_eq!(parse_iso_ms(b"1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(
            parse_iso_ms(b"2000-03-01T00:00:00.001Z"),
            Some(951_868_800_001)
        );
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse_iso_ms(b"2026-11-25 19:40:28.609Z"), None);
        assert_eq!(parse_iso_ms(b"2026-13-25T19:40:28.609Z"), None);
        assert_eq!(parse_iso_ms(b"2026-11-25T19:40:2"), None);
        assert_eq!(parse_iso_ms("2026-11-25T19:40:28.6é9Z".as_bytes()), None);
    }

    #[test]
    fn human() {
        assert_eq!(human_ms(850), "850ms");
        assert_eq!(human_ms(12_345), "12.3s");
        assert_eq!(human_ms(245_000), "4m05s");
        assert_eq!(human_ms(3_720_000), "1h02m");
    }
}
