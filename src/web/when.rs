//! Times as people read them on a page: how long ago, in words, with the exact UTC time on
//! hover (`templates/when.html` puts both in a `<time>` element). Stored times are RFC 3339 UTC;
//! anything else is shown as it is.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `3 minutes ago`, `2 hours ago`, `just now`, for `t` as seen at `now`. A time in the future
/// (clocks of two machines) reads `just now`.
pub fn ago_at(t: &str, now: OffsetDateTime) -> String {
    let Ok(then) = OffsetDateTime::parse(t, &Rfc3339) else {
        return t.to_string();
    };
    let secs = (now - then).whole_seconds().max(0);
    let (n, unit) = match secs {
        0..45 => return "just now".to_string(),
        45..90 => return "a minute ago".to_string(),
        90..3600 => ((secs + 30) / 60, "minute"),
        3600..86_400 => ((secs + 1800) / 3600, "hour"),
        86_400..2_592_000 => ((secs + 43_200) / 86_400, "day"),
        _ => return exact(t),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// `in 14 minutes`, `in 2 hours`, for a time to come (a plan's expiry); one already past reads
/// `now`.
pub fn until_at(t: &str, now: OffsetDateTime) -> String {
    let Ok(then) = OffsetDateTime::parse(t, &Rfc3339) else {
        return t.to_string();
    };
    let secs = (then - now).whole_seconds().max(0);
    let (n, unit) = match secs {
        0..30 => return "now".to_string(),
        30..90 => return "in a minute".to_string(),
        90..3600 => ((secs + 30) / 60, "minute"),
        3600..86_400 => ((secs + 1800) / 3600, "hour"),
        86_400..2_592_000 => ((secs + 43_200) / 86_400, "day"),
        _ => return exact(t),
    };
    format!("in {n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// [`until_at`] now; what templates call.
pub fn until(t: impl AsRef<str>) -> String {
    until_at(t.as_ref(), OffsetDateTime::now_utc())
}

/// [`ago_at`] now; what templates call.
pub fn ago(t: impl AsRef<str>) -> String {
    ago_at(t.as_ref(), OffsetDateTime::now_utc())
}

/// `2026-11-23 11:58:11 UTC`: the hover text, to the second.
pub fn exact(t: impl AsRef<str>) -> String {
    let t = t.as_ref();
    match (
        t.get(..10),
        t.get(11..19),
        OffsetDateTime::parse(t, &Rfc3339),
    ) {
        (Some(d), Some(hms), Ok(_)) => format!("{d} {hms} UTC"),
        _ => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::parse("2026-11-23T12:10:30Z", &Rfc3339).unwrap()
    }

    #[test]
    fn a_time_to_come_reads_as_how_long_until() {
        let cases = [
            ("2026-11-23T12:10:40Z", "now"),
            ("2026-11-23T12:09:00Z", "now"),
            ("2026-11-23T12:11:30Z", "in a minute"),
            ("2026-11-23T12:25:30Z", "in 15 minutes"),
            ("2026-11-23T14:10:30Z", "in 2 hours"),
        ];
        for (t, want) in cases {
            assert_eq!(until_at(t, now()), want, "{t}");
        }
    }

    #[test]
    fn reads_as_how_long_ago_rounded_to_the_nearest_unit() {
        let cases = [
            ("2026-11-23T12:10:00.000Z", "just now"),
            ("2026-11-23T12:09:30Z", "a minute ago"),
            ("2026-11-23T12:07:30Z", "3 minutes ago"),
            ("2026-11-23T12:05:11.123Z", "5 minutes ago"),
            ("2026-11-23T09:10:30Z", "3 hours ago"),
            ("2026-11-23T11:00:00Z", "1 hour ago"),
            ("2026-11-20T12:10:30Z", "3 days ago"),
            ("2026-11-24T12:10:30Z", "just now"),
            ("2026-09-01T08:00:00Z", "2026-09-01 08:00:00 UTC"),
            ("yesterday", "yesterday"),
        ];
        for (t, want) in cases {
            assert_eq!(ago_at(t, now()), want, "{t}");
        }
    }

    #[test]
    fn the_exact_time_is_utc_to_the_second() {
        assert_eq!(exact("2026-11-23T11:58:11.123Z"), "2026-11-23 11:58:11 UTC");
        assert_eq!(exact("not a time"), "not a time");
    }
}
