//! Instants as the contract prints and reads them: RFC 3339 in UTC with `Z`,
//! a fraction only when it is not zero; command-line times as RFC 3339 or a
//! local date in the policy zone, truncated to whole seconds.

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::model::Instant;

message_error!(
    /// A time on the command line that is neither RFC 3339 nor a date.
    TimeError
);

/// Start of the local day `d` in `tz`: the first instant whose local date is `d`.
pub fn local_day_start(d: NaiveDate, tz: Tz) -> Instant {
    let mut t = d.and_hms_opt(0, 0, 0).expect("midnight exists");
    // Walk forward over a gap (a zone whose DST change skips midnight).
    for _ in 0..(26 * 4) {
        match tz.from_local_datetime(&t) {
            chrono::LocalResult::Single(x) => return x.with_timezone(&Utc),
            chrono::LocalResult::Ambiguous(a, _) => return a.with_timezone(&Utc),
            chrono::LocalResult::None => t += chrono::Duration::minutes(15),
        }
    }
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

/// A local wall-clock time in `tz`, in UTC; an ambiguous time (the hour
/// a DST change repeats) is its earlier instant, a skipped one is none.
pub fn local_to_utc(t: chrono::NaiveDateTime, tz: Tz) -> Option<Instant> {
    match tz.from_local_datetime(&t) {
        chrono::LocalResult::Single(x) => Some(x.with_timezone(&Utc)),
        chrono::LocalResult::Ambiguous(a, _) => Some(a.with_timezone(&Utc)),
        chrono::LocalResult::None => None,
    }
}

pub fn rfc3339(t: Instant) -> String {
    let s = t.to_rfc3339_opts(SecondsFormat::Nanos, true);
    // "2026-01-01T00:00:00.120000000Z" → "2026-01-01T00:00:00.12Z"
    match s.find('.') {
        Some(dot) => {
            let frac = s[dot + 1..s.len() - 1].trim_end_matches('0');
            if frac.is_empty() {
                format!("{}Z", &s[..dot])
            } else {
                format!("{}.{}Z", &s[..dot], frac)
            }
        }
        None => s,
    }
}

/// Parses `--from`/`--to`/`--as-of`: RFC 3339, or a date meaning the start
/// of that local day in `tz`. Truncated to whole seconds.
pub fn parse_cli_time(s: &str, tz: Tz) -> Result<Instant, TimeError> {
    let s = s.trim();
    let t = if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        t.with_timezone(&Utc)
    } else if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        local_day_start(d, tz)
    } else {
        return Err(format!(
            "{s:?} is neither an RFC 3339 time (2026-03-01T08:00:00Z) nor a date (2026-03-01)"
        )
        .into());
    };
    Ok(t.with_nanosecond(0).expect("zero nanoseconds is valid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_print_only_when_not_zero() {
        let t = |s: &str| rfc3339(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc));
        assert_eq!(t("2026-01-01T00:00:00Z"), "2026-01-01T00:00:00Z");
        assert_eq!(
            t("2026-01-01T01:00:00.120+01:00"),
            "2026-01-01T00:00:00.12Z"
        );
    }

    #[test]
    fn cli_times_truncate_and_dates_are_local() {
        let tz: Tz = "America/Los_Angeles".parse().unwrap();
        assert_eq!(
            rfc3339(parse_cli_time("2026-03-01T08:00:00.9Z", tz).unwrap()),
            "2026-03-01T08:00:00Z"
        );
        assert_eq!(
            rfc3339(parse_cli_time("2026-03-01", tz).unwrap()),
            "2026-03-01T08:00:00Z"
        );
        assert!(parse_cli_time("March", tz).is_err());
    }
}
