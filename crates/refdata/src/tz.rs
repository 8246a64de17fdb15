//! UTC offsets of airports' IANA time zones, as the engine needs them: a short list of
//! (from-instant, offset) transitions over the loaded window.

use chrono::{Offset, TimeZone};
use chrono_tz::Tz;
use spontra_domain::UtcMinute;

/// The UTC offset in minutes of `tz` at the UTC instant `at`.
pub fn offset_minutes_at(tz: Tz, at: UtcMinute) -> i32 {
    let Some(instant) = chrono::DateTime::from_timestamp(at * 60, 0) else {
        return 0;
    };
    tz.offset_from_utc_datetime(&instant.naive_utc())
        .fix()
        .local_minus_utc()
        / 60
}

/// The offsets in force over `[from, to)`: the first entry starts at `from`, and each further
/// entry is a transition (found to the minute by bisection between daily samples).
pub fn offset_transitions(tz: Tz, from: UtcMinute, to: UtcMinute) -> Vec<(UtcMinute, i32)> {
    let mut out = vec![(from, offset_minutes_at(tz, from))];
    let mut t = from;
    while t < to {
        let next = (t + 1440).min(to);
        let (before, after) = (offset_minutes_at(tz, t), offset_minutes_at(tz, next));
        if before != after {
            let (mut lo, mut hi) = (t, next);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset_minutes_at(tz, mid) == before {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            out.push((hi, after));
        }
        t = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_european_autumn_change_to_the_minute() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 10, 20).unwrap();
        let from = spontra_domain::utc_minute(d, 0);
        let t = offset_transitions(chrono_tz::Europe::Paris, from, from + 14 * 1440);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].1, 120);
        assert_eq!(t[1].1, 60);
        // 2026-10-25 01:00 UTC
        let change =
            spontra_domain::utc_minute(chrono::NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(), 60);
        assert_eq!(t[1].0, change);
    }
}
