//! The audit window of CONTRACT section 1, resolved one way for the command
//! line and the dashboard: `[from, to)` and `as_of`, with `now` read once
//! and truncated to whole seconds, and the dashboard's window presets.

use chrono::{Datelike, Duration, NaiveDate, Timelike};
use chrono_tz::Tz;

use crate::model::Instant;
use crate::time::{local_day_start, parse_cli_time, rfc3339};

/// A resolved window: events in `[from, to)`, judged as of `as_of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditWindow {
    pub from: Instant,
    pub to: Instant,
    pub as_of: Instant,
}

/// Where a window starts when `--from` is not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultStart {
    /// The local midnight that begins the day 30 days before `to`.
    Last30Days,
    /// The beginning of time: a subject's whole history, a transparency report.
    AllTime,
}

/// The window flags as the user typed them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowFlags {
    pub from: Option<String>,
    pub to: Option<String>,
    pub as_of: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("--{flag}: {message}")]
    BadTime { flag: &'static str, message: String },
    #[error("the window is empty: --from {from} is not before --to {to}")]
    Empty { from: String, to: String },
}

/// Truncates to whole seconds, as every time keyhole prints.
pub fn whole_seconds(t: Instant) -> Instant {
    t.with_nanosecond(0).unwrap_or(t)
}

/// Parses one `--flag` time: RFC 3339 or a local date, in whole seconds.
pub fn flag_time(
    flag: &'static str,
    v: Option<&str>,
    tz: Tz,
) -> Result<Option<Instant>, WindowError> {
    v.map(|s| parse_cli_time(s, tz).map_err(|e| WindowError::BadTime { flag, message: e.0 }))
        .transpose()
}

/// `[from, to)` must hold at least one instant.
pub fn nonempty(from: Instant, to: Instant) -> Result<(), WindowError> {
    if from >= to {
        return Err(WindowError::Empty {
            from: rfc3339(from),
            to: rfc3339(to),
        });
    }
    Ok(())
}

/// The local midnight that begins the day 30 days before `to`.
fn thirty_days_before(to: Instant, tz: Tz) -> Instant {
    local_day_start(
        (to - Duration::days(30)).with_timezone(&tz).date_naive(),
        tz,
    )
}

/// Resolves the window flags against `now` in the policy zone.
pub fn resolve(
    flags: &WindowFlags,
    default_start: DefaultStart,
    tz: Tz,
    now: Instant,
) -> Result<AuditWindow, WindowError> {
    let now = whole_seconds(now);
    let to = flag_time("to", flags.to.as_deref(), tz)?.unwrap_or(now);
    let as_of = flag_time("as-of", flags.as_of.as_deref(), tz)?.unwrap_or(now);
    let from = match flag_time("from", flags.from.as_deref(), tz)? {
        Some(f) => f,
        None => match default_start {
            DefaultStart::AllTime => chrono::DateTime::UNIX_EPOCH,
            DefaultStart::Last30Days => thirty_days_before(to, tz),
        },
    };
    nonempty(from, to)?;
    Ok(AuditWindow { from, to, as_of })
}

/// The windows the dashboard offers on `w`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Today,
    Last7Days,
    Last30Days,
    ThisQuarter,
    LastQuarter,
}

impl Preset {
    pub const ALL: [Preset; 5] = [
        Preset::Today,
        Preset::Last7Days,
        Preset::Last30Days,
        Preset::ThisQuarter,
        Preset::LastQuarter,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Preset::Today => "today",
            Preset::Last7Days => "last 7 days",
            Preset::Last30Days => "last 30 days",
            Preset::ThisQuarter => "this quarter",
            Preset::LastQuarter => "last quarter",
        }
    }

    /// The preset's window at `now`, in local days of `tz`; `as_of` is the
    /// window's end, or `now` for a window that ends now.
    pub fn window(self, tz: Tz, now: Instant) -> AuditWindow {
        let now = whole_seconds(now);
        let today = now.with_timezone(&tz).date_naive();
        let day = |d: NaiveDate| local_day_start(d, tz);
        let (from, to) = match self {
            Preset::Today => (day(today), now),
            Preset::Last7Days => (day(today - Duration::days(6)), now),
            Preset::Last30Days => (thirty_days_before(now, tz), now),
            Preset::ThisQuarter => (day(quarter_start(today)), now),
            Preset::LastQuarter => {
                let this = quarter_start(today);
                (day(quarter_start(this - Duration::days(1))), day(this))
            }
        };
        AuditWindow {
            from,
            to,
            as_of: to.min(now),
        }
    }
}

/// A window as the user chose it, so that a reload moves a window that
/// ends now to the new now and keeps a fixed one fixed.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowChoice {
    /// `--from`, `--to`, `--as-of` as typed (the last 30 days when empty).
    Flags(WindowFlags),
    Preset(Preset),
}

impl Default for WindowChoice {
    fn default() -> Self {
        WindowChoice::Flags(WindowFlags::default())
    }
}

impl WindowChoice {
    pub fn resolve(&self, tz: Tz, now: Instant) -> Result<AuditWindow, WindowError> {
        match self {
            WindowChoice::Flags(f) => resolve(f, DefaultStart::Last30Days, tz, now),
            WindowChoice::Preset(p) => Ok(p.window(tz, now)),
        }
    }
}

/// The first day of `d`'s calendar quarter.
fn quarter_start(d: NaiveDate) -> NaiveDate {
    let month = (d.month0() / 3) * 3 + 1;
    NaiveDate::from_ymd_opt(d.year(), month, 1).expect("the first of a month exists")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Instant {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }
    const NY: Tz = chrono_tz::America::New_York;

    #[test]
    fn the_default_window_starts_at_a_local_midnight_thirty_days_back() {
        let w = resolve(
            &WindowFlags::default(),
            DefaultStart::Last30Days,
            NY,
            at("2026-11-24T19:04:31.7Z"),
        )
        .unwrap();
        assert_eq!(rfc3339(w.to), "2026-11-24T19:04:31Z");
        assert_eq!(w.as_of, w.to);
        // 30 days before is 2026-10-25, still daylight time in New York.
        assert_eq!(rfc3339(w.from), "2026-10-25T04:00:00Z");
    }

    #[test]
    fn an_empty_window_and_a_bad_time_are_refused_with_their_flag() {
        let flags = WindowFlags {
            from: Some("2026-03-02".into()),
            to: Some("2026-03-01".into()),
            as_of: None,
        };
        let e = resolve(
            &flags,
            DefaultStart::Last30Days,
            NY,
            at("2026-11-24T00:00:00Z"),
        )
        .unwrap_err();
        assert!(matches!(e, WindowError::Empty { .. }), "{e}");
        let flags = WindowFlags {
            as_of: Some("yesterday".into()),
            ..Default::default()
        };
        let e = resolve(
            &flags,
            DefaultStart::Last30Days,
            NY,
            at("2026-11-24T00:00:00Z"),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("--as-of: "), "{e}");
    }

    #[test]
    fn all_time_starts_at_the_epoch() {
        let w = resolve(
            &WindowFlags::default(),
            DefaultStart::AllTime,
            NY,
            at("2026-11-24T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(w.from, chrono::DateTime::UNIX_EPOCH);
    }

    #[test]
    fn quarters_follow_local_days_across_a_dst_change() {
        let now = at("2026-11-24T19:04:31Z");
        let this = Preset::ThisQuarter.window(NY, now);
        assert_eq!(rfc3339(this.from), "2026-10-01T04:00:00Z");
        assert_eq!(this.to, this.as_of);
        let last = Preset::LastQuarter.window(NY, now);
        assert_eq!(rfc3339(last.from), "2026-07-01T04:00:00Z");
        assert_eq!(rfc3339(last.to), "2026-10-01T04:00:00Z");
        assert_eq!(last.as_of, last.to);
        // In January, last quarter is the previous year's fourth, in standard time.
        let jan = Preset::LastQuarter.window(NY, at("2027-01-15T12:00:00Z"));
        assert_eq!(rfc3339(jan.from), "2026-10-01T04:00:00Z");
        assert_eq!(rfc3339(jan.to), "2027-01-01T05:00:00Z");
        let today = Preset::Today.window(NY, at("2026-11-24T03:00:00Z"));
        assert_eq!(rfc3339(today.from), "2026-11-23T05:00:00Z");
        let week = Preset::Last7Days.window(NY, now);
        assert_eq!(rfc3339(week.from), "2026-11-18T05:00:00Z");
    }
}
