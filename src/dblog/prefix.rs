//! PostgreSQL's `log_line_prefix`, compiled into a matcher for stderr log
//! lines: which parts of a line are the time, the backend, the user and the
//! client, and where the message starts.

use crate::model::Instant;

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Lit(String),
    Field(char),
    /// `%q`: non-session processes stop the prefix here.
    Stop,
}

/// A compiled `log_line_prefix`.
#[derive(Debug, Clone)]
pub struct Prefix {
    pieces: Vec<Piece>,
}

/// The fields of one line's prefix.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Fields<'a> {
    pub time: Option<&'a str>,
    pub pid: Option<&'a str>,
    pub user: Option<&'a str>,
    pub host: Option<&'a str>,
}

impl Prefix {
    /// Compiles a prefix; an error names what the prefix lacks (`%m` or
    /// `%t`, `%p`, `%u`).
    pub fn parse(prefix: &str) -> Result<Prefix, String> {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut chars = prefix.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                lit.push(c);
                continue;
            }
            // Padding such as `%-10u` is a width, not a field.
            while chars
                .peek()
                .is_some_and(|c| *c == '-' || c.is_ascii_digit())
            {
                chars.next();
            }
            let Some(f) = chars.next() else {
                lit.push('%');
                break;
            };
            if f == '%' {
                lit.push('%');
                continue;
            }
            if !lit.is_empty() {
                pieces.push(Piece::Lit(std::mem::take(&mut lit)));
            }
            pieces.push(if f == 'q' {
                Piece::Stop
            } else {
                Piece::Field(f)
            });
        }
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        let has = |c: char| pieces.contains(&Piece::Field(c));
        let mut missing = Vec::new();
        if !has('m') && !has('t') {
            missing.push("%m or %t (the time)");
        }
        if !has('p') {
            missing.push("%p (the backend)");
        }
        if !has('u') {
            missing.push("%u (the user)");
        }
        if !missing.is_empty() {
            return Err(format!(
                "log_line_prefix {prefix:?} lacks {}",
                missing.join(", ")
            ));
        }
        Ok(Prefix { pieces })
    }

    /// Matches a line's prefix: its fields and the rest of the line, or
    /// `None` when the line does not start with this prefix.
    pub fn split<'a>(&self, line: &'a str) -> Option<(Fields<'a>, &'a str)> {
        let mut f = Fields::default();
        let mut pos = 0usize;
        for (k, piece) in self.pieces.iter().enumerate() {
            match piece {
                Piece::Lit(l) => {
                    if !line[pos..].starts_with(l.as_str()) {
                        return None;
                    }
                    pos += l.len();
                }
                Piece::Stop => {
                    // A non-session process ends its prefix here; its message
                    // then follows directly.
                    if level_at(&line[pos..]) {
                        return Some((f, &line[pos..]));
                    }
                }
                Piece::Field(c) => {
                    let rest = &line[pos..];
                    let len = match c {
                        'm' => timestamp_len(rest, true)?,
                        't' | 's' => timestamp_len(rest, false)?,
                        _ => match self.pieces[k + 1..]
                            .iter()
                            .find(|p| !matches!(p, Piece::Stop))
                        {
                            Some(Piece::Lit(l)) => find(rest, l)?,
                            _ => rest.find(' ').unwrap_or(rest.len()),
                        },
                    };
                    let v = &rest[..len];
                    match c {
                        'm' | 't' => f.time = Some(v),
                        'p' => f.pid = Some(v),
                        'u' => f.user = Some(v),
                        'h' => f.host = Some(v),
                        'r' if f.host.is_none() => {
                            f.host = Some(v.split_once('(').map_or(v, |(h, _)| h))
                        }
                        _ => {}
                    }
                    pos += len;
                }
            }
        }
        Some((f, &line[pos..]))
    }
}

/// Where `lit` first occurs in `s`: its first byte found, then the rest
/// compared (prefix literals are short; a general searcher costs more to
/// set up than to run here).
fn find(s: &str, lit: &str) -> Option<usize> {
    let (b, l) = (s.as_bytes(), lit.as_bytes());
    let first = *l.first()?;
    let mut from = 0;
    while let Some(i) = b[from..].iter().position(|&c| c == first) {
        let at = from + i;
        if b[at..].starts_with(l) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

const LEVELS: [&str; 17] = [
    "LOG",
    "ERROR",
    "STATEMENT",
    "DETAIL",
    "HINT",
    "CONTEXT",
    "FATAL",
    "PANIC",
    "WARNING",
    "NOTICE",
    "INFO",
    "DEBUG1",
    "DEBUG2",
    "DEBUG3",
    "DEBUG4",
    "DEBUG5",
    "LOCATION",
];

fn level_at(s: &str) -> bool {
    LEVELS
        .iter()
        .any(|l| s.starts_with(l) && s[l.len()..].starts_with(":  "))
}

/// Splits a message into its level and text: `LOG:  AUDIT: …`.
pub fn message(s: &str) -> Option<(&str, &str)> {
    let at = find(s, ":  ")?;
    let level = &s[..at];
    LEVELS.contains(&level).then_some((level, &s[at + 3..]))
}

/// Length of `YYYY-MM-DD HH:MM:SS[.mmm] ZONE` at the start of `s`.
fn timestamp_len(s: &str, millis: bool) -> Option<usize> {
    let b = s.as_bytes();
    let base = if millis { 23 } else { 19 };
    if b.len() < base + 2 || b[4] != b'-' || b[10] != b' ' || b[13] != b':' {
        return None;
    }
    if millis && b[19] != b'.' {
        return None;
    }
    if b[base] != b' ' {
        return None;
    }
    let zone = s[base + 1..].find(' ').unwrap_or(s.len() - base - 1);
    Some(base + 1 + zone)
}

/// `YYYY-MM-DD HH:MM:SS[.f…]`, read by hand: a log has a time on every line.
fn naive_time(s: &str) -> Option<chrono::NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let mut nanos = 0u32;
    if b.len() > 19 {
        if b[19] != b'.' || b.len() == 20 || b.len() > 29 {
            return None;
        }
        let mut scale = 100_000_000u32;
        for &c in &b[20..] {
            if !c.is_ascii_digit() {
                return None;
            }
            nanos += u32::from(c - b'0') * scale;
            scale /= 10;
        }
    }
    let date = chrono::NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let time =
        chrono::NaiveTime::from_hms_nano_opt(num(11..13)?, num(14..16)?, num(17..19)?, nanos)?;
    Some(date.and_time(time))
}

/// Reads `YYYY-MM-DD HH:MM:SS[.fff] ZONE` as PostgreSQL writes it: the zone
/// is an abbreviation (`UTC`, `GMT`) or an offset (`+01`, `-0530`); any
/// other abbreviation is read in `tz` when one is configured.
pub fn parse_time(s: &str, tz: Option<chrono_tz::Tz>) -> Result<Instant, String> {
    let (local, zone) = s.rsplit_once(' ').ok_or("no time zone")?;
    let naive = naive_time(local).ok_or_else(|| format!("malformed time {local:?}"))?;
    let offset_secs = match zone {
        "UTC" | "GMT" | "Z" | "UCT" => Some(0),
        z if z.starts_with('+') || z.starts_with('-') => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z[1..].chars().filter(|c| c.is_ascii_digit()).collect();
            let (h, m) = match digits.len() {
                1 | 2 => (digits.parse::<i32>().ok(), Some(0)),
                4 => (digits[..2].parse().ok(), digits[2..].parse().ok()),
                _ => (None, None),
            };
            match (h, m) {
                (Some(h), Some(m)) => Some(sign * (h * 3600 + m * 60)),
                _ => return Err(format!("malformed time zone {z:?}")),
            }
        }
        _ => None,
    };
    match (offset_secs, tz) {
        (Some(o), _) => Ok(naive.and_utc() - chrono::Duration::seconds(o as i64)),
        (None, Some(tz)) => crate::time::local_to_utc(naive, tz)
            .ok_or_else(|| format!("time {local:?} does not exist in {}", tz.name())),
        (None, None) => Err(format!(
            "time zone {zone:?} is an abbreviation keyhole cannot place; set timezone for this log"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_must_name_time_backend_and_user() {
        assert_eq!(
            Prefix::parse("%m [%p] ").unwrap_err(),
            "log_line_prefix \"%m [%p] \" lacks %u (the user)"
        );
        assert!(Prefix::parse("%t [%p]: user=%u,db=%d ").is_ok());
    }

    #[test]
    fn fields_come_from_their_places() {
        let p = Prefix::parse("%m [%p] user=%u db=%d app=%a client=%h ").unwrap();
        let (f, rest) = p
            .split("2026-12-01 08:51:54.258 UTC [5441] user=alice db=shop app=psql client=127.0.0.1 LOG:  AUDIT: x")
            .unwrap();
        assert_eq!(f.time, Some("2026-12-01 08:51:54.258 UTC"));
        assert_eq!(f.pid, Some("5441"));
        assert_eq!(f.user, Some("alice"));
        assert_eq!(f.host, Some("127.0.0.1"));
        assert_eq!(message(rest), Some(("LOG", "AUDIT: x")));
        let (f, _) = p
            .split("2026-12-01 08:52:04.223 UTC [5470] user= db= app= client= LOG:  AUDIT: x")
            .unwrap();
        assert_eq!(f.user, Some(""));
        let q = Prefix::parse("%t [%p] %q%u@%d ").unwrap();
        let (f, rest) = q
            .split("2026-12-01 08:51:43 CET [9] LOG:  starting")
            .unwrap();
        assert_eq!((f.pid, f.user, rest), (Some("9"), None, "LOG:  starting"));
        let (f, _) = q
            .split("2026-12-01 08:51:43 CET [9] bob@shop LOG:  x")
            .unwrap();
        assert_eq!(f.user, Some("bob"));
    }

    #[test]
    fn times_carry_their_zone() {
        let t = parse_time("2026-12-01 08:51:54.258 UTC", None).unwrap();
        assert_eq!(crate::time::rfc3339(t), "2026-12-01T08:51:54.258Z");
        let t = parse_time("2026-12-01 08:51:54 +0530", None).unwrap();
        assert_eq!(crate::time::rfc3339(t), "2026-12-01T03:21:54Z");
        assert!(parse_time("2026-12-01 08:51:54 CET", None).is_err());
        assert!(parse_time("2026-13-01 08:51:54 UTC", None).is_err());
        assert!(parse_time("2026-12-01 08:5x:54 UTC", None).is_err());
        assert!(parse_time("2026-12-01 08:51:54. UTC", None).is_err());
        let t = parse_time("2026-12-01 08:51:54.123456 UTC", None).unwrap();
        assert_eq!(crate::time::rfc3339(t), "2026-12-01T08:51:54.123456Z");
        let t = parse_time("2026-12-01 08:51:54 CET", Some(chrono_tz::Europe::Paris)).unwrap();
        assert_eq!(crate::time::rfc3339(t), "2026-12-01T07:51:54Z");
    }
}
