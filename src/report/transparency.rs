//! The transparency report (`report disclosures --transparency`): legal
//! process received per kind and per half-year (or year), the accounts
//! specified, the share where some data was produced and the share rejected
//! or withdrawn, the way public transparency reports count them.
//! Preservation requests are counted apart from the totals, and
//! national-security requests only in bands of 250.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Format, csv_row};
use crate::model::Instant;
use crate::rules::legal::DisclosureAsOf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    HalfYear,
    Year,
}

pub fn period_of(t: Instant, tz: chrono_tz::Tz, p: Period) -> String {
    use chrono::Datelike;
    let d = t.with_timezone(&tz).date_naive();
    match p {
        Period::Year => d.year().to_string(),
        Period::HalfYear => format!("{}-H{}", d.year(), if d.month() <= 6 { 1 } else { 2 }),
    }
}

/// A number as published: exact, or a band of 250 (`0–249`, `250–499`, …).
pub fn band(n: u64) -> String {
    let lo = n / 250 * 250;
    format!("{lo}–{}", lo + 249)
}

const REPORTED: [&str; 5] = [
    "subpoena",
    "court_order",
    "search_warrant",
    "emergency_request",
    "national_security",
];

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Line {
    pub period: String,
    pub kind: String,
    /// A count, or a band for national security.
    pub requests: String,
    pub accounts_specified: String,
    /// Percent of requests where some data was produced (none for banded rows).
    pub some_data_produced_pct: Option<f64>,
    pub rejected_or_withdrawn_pct: Option<f64>,
}

#[derive(Debug, Default)]
struct Tally {
    requests: u64,
    accounts: BTreeSet<String>,
    produced: u64,
    refused: u64,
}

fn pct(n: u64, of: u64) -> Option<f64> {
    (of > 0).then(|| (n as f64 * 1000.0 / of as f64).round() / 10.0)
}

/// Aggregates the disclosures received in `[from, to)`.
pub fn aggregate(
    rows: &[DisclosureAsOf],
    tz: chrono_tz::Tz,
    period: Period,
    from: Instant,
    to: Instant,
) -> Vec<Line> {
    let mut by: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for x in rows
        .iter()
        .filter(|x| x.d.received_at >= from && x.d.received_at < to)
    {
        let kind = x.kind.as_str();
        if !REPORTED.contains(&kind) && kind != "preservation_request" {
            continue;
        }
        let p = period_of(x.d.received_at, tz, period);
        let mut keys = vec![(p.clone(), kind.to_string())];
        if kind != "preservation_request" && kind != "national_security" {
            keys.push((
                p,
                "total (excluding preservation and national security)".to_string(),
            ));
        }
        for key in keys {
            let t = by.entry(key).or_default();
            t.requests += 1;
            t.accounts
                .extend(x.items.iter().map(|i| i.subject_id.to_string()));
            if x.data_went_out() {
                t.produced += 1;
            }
            if matches!(x.status.as_str(), "rejected" | "withdrawn") {
                t.refused += 1;
            }
        }
    }
    let order = |k: &str| match k {
        "national_security" => 6,
        "preservation_request" => 7,
        k if k.starts_with("total") => 5,
        k => REPORTED.iter().position(|r| *r == k).unwrap_or(9),
    };
    let mut keys: Vec<&(String, String)> = by.keys().collect();
    keys.sort_by(|a, b| a.0.cmp(&b.0).then(order(&a.1).cmp(&order(&b.1))));
    keys.into_iter()
        .map(|k| {
            let t = &by[k];
            let banded = k.1 == "national_security";
            Line {
                period: k.0.clone(),
                kind: k.1.clone(),
                requests: if banded {
                    band(t.requests)
                } else {
                    t.requests.to_string()
                },
                accounts_specified: if banded {
                    band(t.accounts.len() as u64)
                } else {
                    t.accounts.len().to_string()
                },
                some_data_produced_pct: if banded {
                    None
                } else {
                    pct(t.produced, t.requests)
                },
                rejected_or_withdrawn_pct: if banded {
                    None
                } else {
                    pct(t.refused, t.requests)
                },
            }
        })
        .collect()
}

pub fn render(lines: &[Line], format: Format, h: &super::Header, period: Period) -> String {
    let p = |v: Option<f64>| v.map(|x| format!("{x:.1}%")).unwrap_or_else(|| "—".into());
    match format {
        Format::Json => super::json_doc(h, "transparency", &lines),
        Format::Csv => {
            let mut o = csv_row(
                &[
                    "period",
                    "kind",
                    "requests",
                    "accounts_specified",
                    "some_data_produced_pct",
                    "rejected_or_withdrawn_pct",
                ]
                .map(String::from),
            );
            for l in lines {
                o.push_str(&csv_row(&[
                    l.period.clone(),
                    l.kind.clone(),
                    l.requests.clone(),
                    l.accounts_specified.clone(),
                    l.some_data_produced_pct
                        .map(|x| x.to_string())
                        .unwrap_or_default(),
                    l.rejected_or_withdrawn_pct
                        .map(|x| x.to_string())
                        .unwrap_or_default(),
                ]));
            }
            o
        }
        Format::Md | Format::Table => {
            let mut o = format!(
                "# Transparency report\n\nRequests for customer data received {} to {}, by {}.\nNational-security requests are reported in bands of 250; preservation requests are counted apart and are not in the totals.\n\n| period | kind | requests | accounts specified | some data produced | rejected or withdrawn |\n|---|---|---|---|---|---|\n",
                crate::time::rfc3339(h.from),
                crate::time::rfc3339(h.to),
                if period == Period::Year {
                    "year"
                } else {
                    "half-year"
                }
            );
            for l in lines {
                o.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} |\n",
                    l.period,
                    l.kind,
                    l.requests,
                    l.accounts_specified,
                    p(l.some_data_produced_pct),
                    p(l.rejected_or_withdrawn_pct)
                ));
            }
            o
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_of_250() {
        assert_eq!(band(0), "0–249");
        assert_eq!(band(249), "0–249");
        assert_eq!(band(250), "250–499");
        assert_eq!(band(1001), "1000–1249");
    }

    #[test]
    fn half_years_follow_the_local_calendar() {
        let tz: chrono_tz::Tz = "America/New_York".parse().unwrap();
        let t = |s: &str| -> Instant { chrono::DateTime::parse_from_rfc3339(s).unwrap().into() };
        assert_eq!(
            period_of(t("2026-07-01T03:00:00Z"), tz, Period::HalfYear),
            "2026-H1",
            "still June 30 in New York"
        );
        assert_eq!(
            period_of(t("2026-07-01T05:00:00Z"), tz, Period::HalfYear),
            "2026-H2"
        );
        assert_eq!(
            period_of(t("2026-07-01T05:00:00Z"), tz, Period::Year),
            "2026"
        );
    }
}
