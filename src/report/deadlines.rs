//! The breach deadline table: one row per obligation (who must be told, on
//! what clock, from what event, above what threshold, under which law, from
//! which date), and the notification plan it gives for an affected set.
//!
//! A row applies from its `effective` date: rows that share an `id` are the
//! versions of one obligation, and the version in force on the day of
//! awareness is the one applied. A table in the earlier format (one
//! `[[jurisdiction]]` clock per place, first match wins) is still read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::model::Instant;
use crate::time::{local_to_utc, rfc3339};

pub const DEFAULT_TABLE: &str = include_str!("../../assets/breach-deadlines.toml");

/// Who an obligation says must be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    Individuals,
    Regulator,
    AttorneyGeneral,
    ConsumerReportingAgencies,
    Media,
    LawEnforcement,
    Other,
}

impl Recipient {
    pub fn text(self) -> &'static str {
        match self {
            Recipient::Individuals => "individuals",
            Recipient::Regulator => "regulator",
            Recipient::AttorneyGeneral => "attorney general",
            Recipient::ConsumerReportingAgencies => "consumer reporting agencies",
            Recipient::Media => "media",
            Recipient::LawEnforcement => "law enforcement",
            Recipient::Other => "other",
        }
    }
}

/// What starts an obligation's clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    /// Discovery of, or awareness of, the breach (`--aware-at`).
    #[default]
    Awareness,
    /// Notice to the individuals under the same jurisdiction's individuals row.
    IndividualNotice,
    /// The end of the calendar year in which the breach was discovered.
    EndOfYear,
}

impl Start {
    pub fn text(self) -> &'static str {
        match self {
            Start::Awareness => "awareness",
            Start::IndividualNotice => "notice to individuals",
            Start::EndOfYear => "end of the calendar year",
        }
    }
}

/// A date in the table: a TOML date (`2026-01-01`) or the same in quotes.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum DateField {
    Toml(toml::value::Datetime),
    Text(String),
}

impl DateField {
    fn date(&self) -> Option<NaiveDate> {
        let s = match self {
            DateField::Toml(d) => d.to_string(),
            DateField::Text(s) => s.clone(),
        };
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawObligation {
    id: Option<String>,
    jurisdiction: String,
    codes: Vec<String>,
    recipient: Recipient,
    notify: Option<String>,
    hours: Option<u32>,
    days: Option<u32>,
    business_days: Option<u32>,
    standard: Option<String>,
    #[serde(default)]
    starts: Start,
    more_than: Option<u64>,
    at_least: Option<u64>,
    fewer_than: Option<u64>,
    #[serde(default)]
    per_jurisdiction: bool,
    condition: Option<String>,
    requires: Option<String>,
    effective: Option<DateField>,
    source: String,
    note: Option<String>,
}

/// A row of the earlier format: one clock per place, first match wins.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLegacy {
    name: String,
    codes: Vec<String>,
    notify: Option<String>,
    hours: Option<u32>,
    days: Option<u32>,
    text: Option<String>,
    source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    reviewed: String,
    #[serde(default)]
    obligation: Vec<RawObligation>,
    #[serde(default)]
    jurisdiction: Vec<RawLegacy>,
}

/// An obligation's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Hours(u32),
    Days(u32),
    BusinessDays(u32),
}

impl Clock {
    pub fn text(self) -> String {
        match self {
            Clock::Hours(n) => format!("{n} hours"),
            Clock::Days(n) => format!("{n} calendar days"),
            Clock::BusinessDays(n) => format!("{n} business days"),
        }
    }

    /// The instant this clock runs out when started at `from`: hours are
    /// exact; days keep the local time of day in `tz` across a DST change;
    /// business days skip Saturdays and Sundays (not public holidays).
    pub fn add(self, from: Instant, tz: chrono_tz::Tz) -> Instant {
        let local = from.with_timezone(&tz).naive_local();
        let shifted = match self {
            Clock::Hours(n) => return from + chrono::Duration::hours(i64::from(n)),
            Clock::Days(n) => local + chrono::Days::new(u64::from(n)),
            Clock::BusinessDays(n) => {
                let mut t = local;
                let mut left = n;
                while left > 0 {
                    t = t + chrono::Days::new(1);
                    if t.weekday().number_from_monday() <= 5 {
                        left -= 1;
                    }
                }
                t
            }
        };
        at_local(shifted, tz)
    }
}

/// A local wall-clock time as an instant; a time a DST change skips is read
/// with the offset in force just before the gap, so it moves on by the
/// length of the gap (02:30 on a spring-forward night is 03:30).
fn at_local(t: NaiveDateTime, tz: chrono_tz::Tz) -> Instant {
    if let Some(i) = local_to_utc(t, tz) {
        return i;
    }
    use chrono::Offset;
    let before = t - chrono::Duration::hours(6);
    let offset = local_to_utc(before, tz)
        .map(|i| i.with_timezone(&tz).offset().fix().local_minus_utc())
        .unwrap_or(0);
    chrono::DateTime::<chrono::Utc>::from_naive_utc_and_offset(
        t - chrono::Duration::seconds(i64::from(offset)),
        chrono::Utc,
    )
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Obligation {
    pub id: String,
    pub jurisdiction: String,
    pub codes: Vec<String>,
    pub recipient: Recipient,
    pub notify: Option<String>,
    pub clock: Option<Clock>,
    pub standard: Option<String>,
    pub starts: Start,
    pub more_than: Option<u64>,
    pub at_least: Option<u64>,
    pub fewer_than: Option<u64>,
    pub per_jurisdiction: bool,
    pub condition: Option<String>,
    pub requires: Option<String>,
    /// `None` only for a row of the earlier format: always in force.
    pub effective: Option<NaiveDate>,
    pub source: String,
    pub note: Option<String>,
    /// A row of the earlier format: only the first match for a place applies.
    pub first_match: bool,
}

/// The switches a company sets in its config (`[breach]`) that turn rows on.
pub const SWITCHES: [&str; 5] = ["hipaa", "ftc_safeguards", "nydfs", "sec", "banking"];

impl Obligation {
    /// Whether a code of the table covers a subject's jurisdiction: exact,
    /// `US-*` for every US state and territory, `*` for everyone, and a
    /// country code for its subdivisions (`CA` covers `CA-QC`).
    pub fn covers(&self, jurisdiction: &str) -> bool {
        let j = jurisdiction.trim().to_uppercase();
        self.codes.iter().any(|c| {
            let c = c.trim().to_uppercase();
            match c.strip_suffix('*') {
                Some(prefix) => j.starts_with(prefix),
                None => c == j || (!c.contains('-') && j.starts_with(&format!("{c}-"))),
            }
        })
    }

    pub fn threshold_text(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(n) = self.more_than {
            parts.push(format!("more than {}", thousands(n)));
        }
        if let Some(n) = self.at_least {
            parts.push(format!("{} or more", thousands(n)));
        }
        if let Some(n) = self.fewer_than {
            parts.push(format!("fewer than {}", thousands(n)));
        }
        if parts.is_empty() {
            return None;
        }
        let whom = if self.per_jurisdiction {
            "people in one jurisdiction"
        } else {
            "people"
        };
        Some(format!("{} {whom}", parts.join(" and ")))
    }

    pub fn threshold_met(&self, people: u64) -> bool {
        self.more_than.is_none_or(|n| people > n)
            && self.at_least.is_none_or(|n| people >= n)
            && self.fewer_than.is_none_or(|n| people < n)
    }

    pub fn has_threshold(&self) -> bool {
        self.more_than.is_some() || self.at_least.is_some() || self.fewer_than.is_some()
    }

    /// "72 hours", "without undue delay", or both.
    pub fn clock_text(&self) -> String {
        match (&self.standard, self.clock) {
            (Some(s), Some(c)) => format!("{s}; at most {}", c.text()),
            (Some(s), None) => s.clone(),
            (None, Some(c)) => c.text(),
            (None, None) => "see the source".into(),
        }
    }
}

/// `12345` → `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The table: its review date and its rows, in file order.
#[derive(Debug, Clone)]
pub struct DeadlineTable {
    pub reviewed: String,
    pub origin: String,
    pub rows: Vec<Obligation>,
}

impl DeadlineTable {
    pub fn builtin() -> DeadlineTable {
        Self::parse("built-in breach-deadlines.toml", DEFAULT_TABLE)
            .expect("the built-in table parses")
    }

    pub fn load(path: &Path) -> Result<DeadlineTable, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Usage(format!("{}: {e}", path.display())))?;
        Self::parse(&path.display().to_string(), &text)
    }

    pub fn parse(origin: &str, text: &str) -> Result<DeadlineTable, ConfigError> {
        let raw: RawTable = crate::config::parse_toml(Path::new(origin), text)?;
        let mut rows = Vec::new();
        for (i, r) in raw.obligation.into_iter().enumerate() {
            let at = |msg: String| {
                ConfigError::Usage(format!(
                    "{origin}: obligation {} ({}): {msg}",
                    i + 1,
                    r.jurisdiction
                ))
            };
            let clocks = [
                r.hours.map(Clock::Hours),
                r.days.map(Clock::Days),
                r.business_days.map(Clock::BusinessDays),
            ];
            let mut set = clocks.into_iter().flatten();
            let clock = set.next();
            if set.next().is_some() {
                return Err(at(
                    "give one of hours, days and business_days, not several".into()
                ));
            }
            if clock.is_none() && r.standard.is_none() && r.starts != Start::IndividualNotice {
                return Err(at(
                    "no clock: give hours, days, business_days or a standard such as \"without unreasonable delay\"".into(),
                ));
            }
            let effective = match &r.effective {
                Some(d) => Some(
                    d.date()
                        .ok_or_else(|| at("effective must be a date like 2026-01-01".into()))?,
                ),
                None => {
                    return Err(at(
                        "no effective date (the date the rule took effect)".into()
                    ));
                }
            };
            if r.source.trim().is_empty() {
                return Err(at("no source (statute and section)".into()));
            }
            if r.codes.is_empty() {
                return Err(at("no codes (the jurisdictions it covers)".into()));
            }
            if let Some(s) = &r.requires
                && !SWITCHES.contains(&s.as_str())
            {
                return Err(at(format!(
                    "requires {s:?}: the switches are {}",
                    SWITCHES.join(", ")
                )));
            }
            rows.push(Obligation {
                id: r
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("{}/{}", r.jurisdiction, r.recipient.text())),
                jurisdiction: r.jurisdiction,
                codes: r.codes,
                recipient: r.recipient,
                notify: r.notify,
                clock,
                standard: r.standard,
                starts: r.starts,
                more_than: r.more_than,
                at_least: r.at_least,
                fewer_than: r.fewer_than,
                per_jurisdiction: r.per_jurisdiction,
                condition: r.condition,
                requires: r.requires,
                effective,
                source: r.source,
                note: r.note,
                first_match: false,
            });
        }
        for r in raw.jurisdiction {
            rows.push(Obligation {
                id: r.name.clone(),
                jurisdiction: r.name,
                codes: r.codes,
                recipient: Recipient::Other,
                notify: r.notify,
                clock: r.hours.map(Clock::Hours).or(r.days.map(Clock::Days)),
                standard: r.text,
                starts: Start::Awareness,
                more_than: None,
                at_least: None,
                fewer_than: None,
                per_jurisdiction: false,
                condition: None,
                requires: None,
                effective: None,
                source: r.source,
                note: None,
                first_match: true,
            });
        }
        Ok(DeadlineTable {
            reviewed: raw.reviewed,
            origin: origin.to_string(),
            rows,
        })
    }

    /// The rows in force on `day` with the given switches on: of each `id`,
    /// the version with the latest effective date not after `day`.
    pub fn in_force(&self, day: NaiveDate, switches: &[&str]) -> Vec<&Obligation> {
        let mut latest: BTreeMap<&str, &Obligation> = BTreeMap::new();
        for r in &self.rows {
            if r.effective.is_some_and(|e| e > day) {
                continue;
            }
            if r.requires
                .as_deref()
                .is_some_and(|s| !switches.contains(&s))
            {
                continue;
            }
            match latest.get(r.id.as_str()) {
                Some(prev) if prev.effective >= r.effective => {}
                _ => {
                    latest.insert(r.id.as_str(), r);
                }
            }
        }
        // File order, so that "first match" keeps its meaning.
        self.rows
            .iter()
            .filter(|r| {
                latest
                    .get(r.id.as_str())
                    .is_some_and(|l| std::ptr::eq(*l, *r))
            })
            .collect()
    }
}

/// A deadline: a fixed instant, or words when the law sets no clock.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Deadline {
    At(Instant),
    Words(String),
}

impl Deadline {
    pub fn text(&self) -> String {
        match self {
            Deadline::At(t) => rfc3339(*t),
            Deadline::Words(w) => w.clone(),
        }
    }
}

/// One line of the notification plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanItem {
    pub id: String,
    pub jurisdiction: String,
    /// The affected set's jurisdictions this line covers.
    pub codes: Vec<String>,
    pub recipient: Recipient,
    pub notify: Option<String>,
    pub people: u64,
    pub threshold: Option<String>,
    pub threshold_met: bool,
    pub condition: Option<String>,
    pub clock: String,
    pub starts: Start,
    pub deadline: String,
    pub deadline_at: Option<String>,
    pub effective: Option<String>,
    pub source: String,
    pub note: Option<String>,
    #[serde(skip)]
    pub sort: Deadline,
}

/// What the plan is built for.
pub struct PlanInput<'a> {
    pub aware_at: Instant,
    pub tz: chrono_tz::Tz,
    /// People affected per jurisdiction code (`None`: no jurisdiction known).
    pub people: &'a BTreeMap<Option<String>, u64>,
    pub switches: &'a [&'a str],
}

pub const NO_RULE: &str = "no rule in the deadline table: review with counsel";

fn deadline_of(o: &Obligation, aware_at: Instant, tz: chrono_tz::Tz) -> Deadline {
    let words = || Deadline::Words(o.clock_text());
    match (o.starts, o.clock) {
        (Start::Awareness, Some(c)) => Deadline::At(c.add(aware_at, tz)),
        (Start::EndOfYear, Some(c)) => {
            let year = aware_at.with_timezone(&tz).year();
            let jan1 = NaiveDate::from_ymd_opt(year + 1, 1, 1).expect("a valid year");
            Deadline::At(c.add(crate::time::local_day_start(jan1, tz), tz))
        }
        _ => words(),
    }
}

/// The notification plan: every obligation in force that covers someone in
/// the affected set, with its count of people, whether its threshold is met
/// and its deadline; places no row covers get a line telling the reader to
/// review them with counsel. Sorted: thresholds met first, then by deadline
/// (fixed instants first, earliest first), jurisdiction and recipient.
pub fn plan(table: &DeadlineTable, input: &PlanInput) -> Vec<PlanItem> {
    let day = input.aware_at.with_timezone(&input.tz).date_naive();
    let rows = table.in_force(day, input.switches);
    let known: Vec<&str> = input.people.keys().flatten().map(String::as_str).collect();
    let mut covered: BTreeSet<&str> = BTreeSet::new();
    let mut taken_first: BTreeSet<&str> = BTreeSet::new();
    let mut items = Vec::new();
    // The individuals' deadline of each jurisdiction, for rows that run from it.
    let individuals: BTreeMap<&str, Deadline> = rows
        .iter()
        .filter(|r| r.recipient == Recipient::Individuals && r.starts == Start::Awareness)
        .map(|r| {
            (
                r.jurisdiction.as_str(),
                deadline_of(r, input.aware_at, input.tz),
            )
        })
        .collect();
    for r in &rows {
        let mut codes: Vec<&str> = known.iter().copied().filter(|j| r.covers(j)).collect();
        if r.first_match {
            codes.retain(|j| !taken_first.contains(j));
            taken_first.extend(codes.iter().copied());
        }
        if codes.is_empty() {
            continue;
        }
        // A row for everyone (HIPAA) does not stand in for a place's own law.
        let universal = r.codes.iter().any(|c| c.trim() == "*");
        if !universal {
            covered.extend(codes.iter().copied());
        }
        let groups: Vec<Vec<&str>> = if r.per_jurisdiction {
            codes.iter().map(|c| vec![*c]).collect()
        } else {
            vec![codes]
        };
        for g in groups {
            let mut people: u64 = g
                .iter()
                .map(|c| {
                    input
                        .people
                        .get(&Some((*c).to_string()))
                        .copied()
                        .unwrap_or(0)
                })
                .sum();
            // A row for everyone also counts the people of no known place.
            if universal && !r.per_jurisdiction {
                people += input.people.get(&None).copied().unwrap_or(0);
            }
            let sort = match r.starts {
                Start::IndividualNotice => {
                    let after = individuals.get(r.jurisdiction.as_str());
                    match (after, r.clock) {
                        (Some(Deadline::At(t)), Some(c)) => Deadline::At(c.add(*t, input.tz)),
                        (Some(Deadline::At(t)), None) => Deadline::At(*t),
                        (_, Some(c)) => {
                            Deadline::Words(format!("{} after notifying individuals", c.text()))
                        }
                        (_, None) => Deadline::Words(r.clock_text()),
                    }
                }
                _ => deadline_of(r, input.aware_at, input.tz),
            };
            let mut deadline = sort.text();
            if r.starts == Start::IndividualNotice
                && let (Deadline::At(_), Some(c)) = (&sort, r.clock)
            {
                deadline = format!(
                    "{deadline} (at the latest: {} after the individuals' deadline)",
                    c.text()
                );
            }
            items.push(PlanItem {
                id: r.id.clone(),
                jurisdiction: r.jurisdiction.clone(),
                codes: g.iter().map(|c| c.to_string()).collect(),
                recipient: r.recipient,
                notify: r.notify.clone(),
                people,
                threshold: r.threshold_text(),
                threshold_met: r.threshold_met(people),
                condition: r.condition.clone(),
                clock: r.clock_text(),
                starts: r.starts,
                deadline,
                deadline_at: match &sort {
                    Deadline::At(t) => Some(rfc3339(*t)),
                    Deadline::Words(_) => None,
                },
                effective: r.effective.map(|d| d.to_string()),
                source: r.source.clone(),
                note: r.note.clone(),
                sort,
            });
        }
    }
    for (j, n) in input.people {
        let (name, uncovered) = match j {
            Some(j) if !covered.contains(j.as_str()) => (j.clone(), true),
            None => ("(unknown)".to_string(), true),
            _ => continue,
        };
        if uncovered {
            items.push(PlanItem {
                id: format!("{name}/none"),
                jurisdiction: name.clone(),
                codes: j.iter().cloned().collect(),
                recipient: Recipient::Other,
                notify: None,
                people: *n,
                threshold: None,
                threshold_met: true,
                condition: None,
                clock: NO_RULE.into(),
                starts: Start::Awareness,
                deadline: NO_RULE.into(),
                deadline_at: None,
                effective: None,
                source: String::new(),
                note: None,
                sort: Deadline::Words(NO_RULE.into()),
            });
        }
    }
    items.sort_by(|a, b| {
        b.threshold_met
            .cmp(&a.threshold_met)
            .then_with(|| a.sort.cmp(&b.sort))
            .then_with(|| a.jurisdiction.cmp(&b.jurisdiction))
            .then_with(|| a.recipient.cmp(&b.recipient))
            .then_with(|| a.codes.cmp(&b.codes))
    });
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Instant {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().into()
    }

    fn plan_for(
        table: &DeadlineTable,
        aware: &str,
        tz: chrono_tz::Tz,
        people: &[(&str, u64)],
        switches: &[&str],
    ) -> Vec<PlanItem> {
        let people: BTreeMap<Option<String>, u64> = people
            .iter()
            .map(|(j, n)| (Some(j.to_string()), *n))
            .collect();
        plan(
            table,
            &PlanInput {
                aware_at: t(aware),
                tz,
                people: &people,
                switches,
            },
        )
    }

    fn item<'a>(plan: &'a [PlanItem], jurisdiction: &str, r: Recipient) -> &'a PlanItem {
        let found: Vec<&PlanItem> = plan
            .iter()
            .filter(|p| p.jurisdiction == jurisdiction && p.recipient == r)
            .collect();
        assert_eq!(found.len(), 1, "{jurisdiction} {r:?} in {plan:#?}");
        found[0]
    }

    const UTC: chrono_tz::Tz = chrono_tz::UTC;

    #[test]
    fn known_clocks_at_a_fixed_awareness() {
        let table = DeadlineTable::builtin();
        let aware = "2026-03-10T15:00:00Z";
        let people = [
            ("US-NY", 3),
            ("US-CA", 3),
            ("US-TX", 3),
            ("US-FL", 3),
            ("US-CO", 3),
            ("US-WA", 3),
            ("FR", 3),
            ("GB", 3),
        ];
        let plan = plan_for(&table, aware, UTC, &people, &[]);
        let at = |j: &str, r| item(&plan, j, r).deadline_at.clone();
        let ind = Recipient::Individuals;
        assert_eq!(at("New York", ind).as_deref(), Some("2026-04-09T15:00:00Z"));
        assert_eq!(
            at("California", ind).as_deref(),
            Some("2026-04-09T15:00:00Z")
        );
        assert_eq!(at("Texas", ind).as_deref(), Some("2026-05-09T15:00:00Z"));
        for j in ["Florida", "Colorado", "Washington"] {
            assert_eq!(at(j, ind).as_deref(), Some("2026-04-09T15:00:00Z"), "{j}");
        }
        let reg = Recipient::Regulator;
        assert_eq!(
            at("EU/EEA (GDPR)", reg).as_deref(),
            Some("2026-03-13T15:00:00Z")
        );
        assert_eq!(
            at("United Kingdom (UK GDPR)", reg).as_deref(),
            Some("2026-03-13T15:00:00Z")
        );
        // GDPR's notice to people holds only under a high risk, and says so.
        let gdpr = item(&plan, "EU/EEA (GDPR)", ind);
        assert_eq!(gdpr.deadline, "without undue delay");
        assert!(gdpr.condition.as_deref().unwrap().contains("high risk"));
        // Every line names its source and the date its rule took effect.
        assert!(
            plan.iter()
                .all(|p| !p.source.is_empty() && p.effective.is_some())
        );
        // No HIPAA without the switch.
        assert!(plan.iter().all(|p| p.jurisdiction != "HIPAA"), "{plan:#?}");
        // Sorted: thresholds met first, then the earliest deadline.
        let met: Vec<&PlanItem> = plan.iter().take_while(|p| p.threshold_met).collect();
        assert!(plan[met.len()..].iter().all(|p| !p.threshold_met));
        assert!(met.windows(2).all(|w| w[0].sort <= w[1].sort));
        assert_eq!(met[0].deadline_at.as_deref(), Some("2026-03-13T15:00:00Z"));
    }

    #[test]
    fn california_gets_the_law_of_the_day_of_awareness() {
        let table = DeadlineTable::builtin();
        let la: chrono_tz::Tz = "America/Los_Angeles".parse().unwrap();
        // 2025-12-31 23:59:59 in Los Angeles: the old standard, no clock.
        let before = plan_for(&table, "2026-01-01T07:59:59Z", la, &[("US-CA", 10)], &[]);
        let ca = item(&before, "California", Recipient::Individuals);
        assert_eq!(
            ca.deadline,
            "in the most expedient time possible and without unreasonable delay"
        );
        assert_eq!(ca.deadline_at, None);
        assert_eq!(ca.effective.as_deref(), Some("2003-07-01"));
        // One second later it is 2026 there: 30 calendar days.
        let after = plan_for(&table, "2026-01-01T08:00:00Z", la, &[("US-CA", 10)], &[]);
        let ca = item(&after, "California", Recipient::Individuals);
        assert_eq!(ca.deadline_at.as_deref(), Some("2026-01-31T08:00:00Z"));
        assert_eq!(ca.effective.as_deref(), Some("2026-01-01"));
        assert!(ca.source.contains("SB 446"));
        // New York before and after its amendment of December 2024.
        let ny_2024 = plan_for(&table, "2024-12-01T12:00:00Z", UTC, &[("US-NY", 1)], &[]);
        assert_eq!(
            item(&ny_2024, "New York", Recipient::Individuals).deadline_at,
            None
        );
        let ny_2025 = plan_for(&table, "2025-01-10T12:00:00Z", UTC, &[("US-NY", 1)], &[]);
        assert_eq!(
            item(&ny_2025, "New York", Recipient::Individuals)
                .deadline_at
                .as_deref(),
            Some("2025-02-09T12:00:00Z")
        );
        // Arizona's Attorney General: told alone until the 2022 amendment
        // added the Department of Homeland Security, on the same clock.
        let phx: chrono_tz::Tz = "America/Phoenix".parse().unwrap();
        let az = |at: &str| {
            let plan = plan_for(&table, at, phx, &[("US-AZ", 1001)], &[]);
            let ag = item(&plan, "Arizona", Recipient::AttorneyGeneral);
            (
                ag.notify.clone().unwrap(),
                ag.deadline_at.clone(),
                ag.threshold_met,
            )
        };
        let (who, at, met) = az("2022-09-24T06:59:59Z");
        assert_eq!(who, "the Arizona Attorney General");
        assert_eq!(at.as_deref(), Some("2022-11-08T06:59:59Z"));
        assert!(met);
        let (who, _, _) = az("2022-09-24T07:00:00Z");
        assert!(who.contains("Department of Homeland Security"), "{who}");
        // A rule not yet in force is not applied: India's DPDP Rules.
        let india = plan_for(&table, "2026-12-01T12:00:00Z", UTC, &[("IN", 4)], &[]);
        assert!(
            india.iter().all(|p| !p.source.contains("DPDP")),
            "{india:#?}"
        );
        let india = plan_for(&table, "2027-06-01T12:00:00Z", UTC, &[("IN", 4)], &[]);
        assert!(india.iter().any(|p| p.source.contains("rule 7(2)")));
    }

    #[test]
    fn californias_attorney_general_runs_from_the_residents_notice_above_500() {
        let table = DeadlineTable::builtin();
        let aware = "2026-03-10T15:00:00Z";
        let ag = |n: u64| {
            let plan = plan_for(&table, aware, UTC, &[("US-CA", n)], &[]);
            item(&plan, "California", Recipient::AttorneyGeneral).clone()
        };
        let at_500 = ag(500);
        assert!(!at_500.threshold_met, "exactly 500 is not more than 500");
        assert_eq!(at_500.threshold.as_deref(), Some("more than 500 people"));
        let at_501 = ag(501);
        assert!(at_501.threshold_met);
        assert_eq!(at_501.starts, Start::IndividualNotice);
        // 15 days after the residents' own deadline of 2026-04-09.
        assert_eq!(at_501.deadline_at.as_deref(), Some("2026-04-24T15:00:00Z"));
        assert!(at_501.deadline.contains("15 calendar days after"));
        // In 2025 there was a duty above 500, but no clock.
        let plan = plan_for(&table, "2025-06-01T12:00:00Z", UTC, &[("US-CA", 900)], &[]);
        let old = item(&plan, "California", Recipient::AttorneyGeneral);
        assert!(old.threshold_met);
        assert_eq!(old.deadline_at, None);
    }

    #[test]
    fn sector_rules_apply_only_when_switched_on_and_in_force() {
        let table = DeadlineTable::builtin();
        // Tuesday 24 November 2026, 09:00 UTC.
        let aware = "2026-11-24T09:00:00Z";
        let people = [("US-NY", 300), ("DE", 250)];
        let sectors = ["ftc_safeguards", "nydfs", "sec", "banking"];
        let off = plan_for(&table, aware, UTC, &people, &["hipaa"]);
        for j in ["FTC", "NYDFS", "SEC", "US banking"] {
            assert!(off.iter().all(|p| !p.jurisdiction.starts_with(j)), "{j}");
        }
        let on = plan_for(&table, aware, UTC, &people, &sectors);
        let get = |j: &str| {
            let found: Vec<&PlanItem> = on
                .iter()
                .filter(|p| p.jurisdiction.starts_with(j))
                .collect();
            assert_eq!(found.len(), 1, "{j}: {on:#?}");
            found[0]
        };
        // The FTC: 30 days from discovery, at 500 or more, everyone counted.
        let ftc = get("FTC");
        assert_eq!(ftc.people, 550);
        assert!(ftc.threshold_met);
        assert_eq!(ftc.deadline_at.as_deref(), Some("2026-12-24T09:00:00Z"));
        let small = plan_for(&table, aware, UTC, &[("US-NY", 499)], &sectors);
        let ftc_small = small
            .iter()
            .find(|p| p.jurisdiction.starts_with("FTC"))
            .unwrap();
        assert!(!ftc_small.threshold_met);
        // NYDFS: 72 hours; the amended rule's text.
        let dfs = get("NYDFS");
        assert_eq!(dfs.deadline_at.as_deref(), Some("2026-11-27T09:00:00Z"));
        assert!(dfs.condition.as_deref().unwrap().contains("ransomware"));
        // The SEC: four business days, over the weekend.
        let sec = get("SEC");
        assert_eq!(sec.deadline_at.as_deref(), Some("2026-11-30T09:00:00Z"));
        // The banking agencies: 36 hours.
        let bank = get("US banking");
        assert_eq!(bank.deadline_at.as_deref(), Some("2026-11-25T21:00:00Z"));
        // Before a rule took effect it is not applied; before an amendment,
        // the earlier text.
        let y2023 = plan_for(&table, "2023-06-01T12:00:00Z", UTC, &people, &sectors);
        assert!(y2023.iter().all(|p| !p.jurisdiction.starts_with("SEC")));
        assert!(y2023.iter().all(|p| !p.jurisdiction.starts_with("FTC")));
        let dfs_2023 = y2023
            .iter()
            .find(|p| p.jurisdiction.starts_with("NYDFS"))
            .unwrap();
        assert!(
            !dfs_2023
                .condition
                .as_deref()
                .unwrap()
                .contains("ransomware")
        );
        // A rule for everyone does not stand in for a place's own law.
        assert!(on.iter().any(|p| p.jurisdiction.starts_with("EU/EEA")));
        assert!(on.iter().any(|p| p.jurisdiction == "New York"));
    }

    #[test]
    fn every_switch_the_table_knows_is_a_config_key() {
        let all: String = SWITCHES.iter().map(|s| format!("{s} = true\n")).collect();
        let b: crate::config::BreachConfig = toml::from_str(&all).unwrap();
        assert_eq!(b.switches(), SWITCHES);
        let none: crate::config::BreachConfig = toml::from_str("").unwrap();
        assert!(none.switches().is_empty());
    }

    #[test]
    fn hipaa_applies_only_when_switched_on() {
        let table = DeadlineTable::builtin();
        let aware = "2026-05-01T12:00:00Z";
        let people = [("US-TX", 501), ("US-OH", 20)];
        let off = plan_for(&table, aware, UTC, &people, &[]);
        assert!(off.iter().all(|p| p.jurisdiction != "HIPAA"));
        let on = plan_for(&table, aware, UTC, &people, &["hipaa"]);
        let ind = item(&on, "HIPAA", Recipient::Individuals);
        assert_eq!(ind.deadline_at.as_deref(), Some("2026-06-30T12:00:00Z"));
        assert_eq!(ind.people, 521, "everyone affected, wherever they live");
        // HHS: 500 or more gets the 60-day notice; the annual log is not needed.
        let hhs: Vec<&PlanItem> = on
            .iter()
            .filter(|p| p.jurisdiction == "HIPAA" && p.recipient == Recipient::Regulator)
            .collect();
        assert_eq!(hhs.len(), 2);
        let now = hhs.iter().find(|p| p.id == "HIPAA/hhs-500").unwrap();
        assert!(now.threshold_met);
        assert_eq!(now.deadline_at.as_deref(), Some("2026-06-30T12:00:00Z"));
        let annual = hhs.iter().find(|p| p.id == "HIPAA/hhs-annual").unwrap();
        assert!(!annual.threshold_met);
        // The media, state by state: Texas has more than 500, Ohio does not.
        let media: Vec<&PlanItem> = on
            .iter()
            .filter(|p| p.recipient == Recipient::Media)
            .collect();
        assert_eq!(media.len(), 2);
        let tx = media.iter().find(|p| p.codes == ["US-TX"]).unwrap();
        assert!(tx.threshold_met && tx.people == 501);
        let oh = media.iter().find(|p| p.codes == ["US-OH"]).unwrap();
        assert!(!oh.threshold_met && oh.people == 20);
        // A small breach: the annual log, 60 days after the year ends.
        let small = plan_for(&table, aware, UTC, &[("US-OH", 20)], &["hipaa"]);
        let log = small.iter().find(|p| p.id == "HIPAA/hhs-annual").unwrap();
        assert!(log.threshold_met);
        assert_eq!(log.deadline_at.as_deref(), Some("2027-03-02T00:00:00Z"));
    }

    #[test]
    fn clocks_keep_local_time_across_dst_and_skip_weekends() {
        let ny: chrono_tz::Tz = "America/New_York".parse().unwrap();
        // 09:00 EDT on 20 October; 30 days on is 09:00 EST, an hour later in UTC.
        assert_eq!(
            rfc3339(Clock::Days(30).add(t("2026-10-20T13:00:00Z"), ny)),
            "2026-11-19T14:00:00Z"
        );
        // Hours are exact across the change.
        assert_eq!(
            rfc3339(Clock::Hours(72).add(t("2026-10-31T13:00:00Z"), ny)),
            "2026-11-03T13:00:00Z"
        );
        // Friday noon + 3 business days = Wednesday noon.
        assert_eq!(
            rfc3339(Clock::BusinessDays(3).add(t("2026-11-27T12:00:00Z"), UTC)),
            "2026-12-02T12:00:00Z"
        );
        // Saturday + 1 business day = Monday.
        assert_eq!(
            rfc3339(Clock::BusinessDays(1).add(t("2026-11-28T12:00:00Z"), UTC)),
            "2026-11-30T12:00:00Z"
        );
        // A day that lands in a skipped hour moves on past the gap.
        assert_eq!(
            rfc3339(Clock::Days(1).add(t("2026-03-07T07:30:00Z"), ny)),
            "2026-03-08T07:30:00Z"
        );
    }

    #[test]
    fn codes_cover_subdivisions_wildcards_and_nothing_else() {
        let table = DeadlineTable::builtin();
        let plan = plan_for(
            &table,
            "2026-03-10T15:00:00Z",
            UTC,
            &[("CA-QC", 2), ("CA-ON", 3), ("XX", 1)],
            &[],
        );
        // PIPEDA covers every province; Law 25 only Quebec.
        let pipeda = item(&plan, "Canada (PIPEDA)", Recipient::Regulator);
        assert_eq!(pipeda.codes, ["CA-ON", "CA-QC"]);
        assert_eq!(pipeda.people, 5);
        let quebec = item(&plan, "Quebec (Law 25)", Recipient::Regulator);
        assert_eq!(quebec.codes, ["CA-QC"]);
        assert_eq!(quebec.deadline, "promptly");
        // A place no row covers is a line for counsel, never a guess.
        let xx = plan.iter().find(|p| p.codes == ["XX"]).unwrap();
        assert_eq!(xx.deadline, NO_RULE);
        assert_eq!(xx.people, 1);
        let o = &table.rows[0];
        assert!(!o.covers("CAX") && !o.covers(""));
    }

    /// The whole table, read as plain TOML: every row has a source and an
    /// effective date, and every place the table promises has its rows.
    #[test]
    fn every_row_has_a_source_and_an_effective_date_and_every_place_is_covered() {
        let raw: toml::Value = toml::from_str(DEFAULT_TABLE).unwrap();
        let rows = raw["obligation"].as_array().unwrap();
        assert!(rows.len() > 100, "{}", rows.len());
        for (i, r) in rows.iter().enumerate() {
            let src = r.get("source").and_then(|s| s.as_str()).unwrap_or("");
            assert!(!src.trim().is_empty(), "row {i} has no source: {r}");
            let eff = r
                .get("effective")
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                NaiveDate::parse_from_str(eff.trim_matches('"'), "%Y-%m-%d").is_ok(),
                "row {i} has no effective date: {r}"
            );
        }
        let table = DeadlineTable::builtin();
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let in_force = table.in_force(day, &[]);
        let individuals = |code: &str| {
            in_force.iter().any(|r| {
                r.covers(code) && matches!(r.recipient, Recipient::Individuals | Recipient::Other)
            })
        };
        let states = [
            "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN",
            "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV",
            "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN",
            "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "DC", "PR", "GU", "VI", "AS", "MP",
        ];
        for s in states {
            let code = format!("US-{s}");
            let rows: Vec<_> = in_force
                .iter()
                .filter(|r| r.codes.contains(&code))
                .collect();
            assert!(!rows.is_empty(), "{code} has no row of its own");
            assert!(
                individuals(&code),
                "{code} has no row for the people affected"
            );
        }
        let countries = [
            "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
            "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS",
            "LI", "NO", "GB", "CH", "CA", "CA-QC", "AU", "BR", "SG", "JP", "KR",
        ];
        for c in countries {
            assert!(
                in_force
                    .iter()
                    .any(|r| r.covers(c) && r.recipient == Recipient::Regulator),
                "{c}: no authority row"
            );
        }
        // India's rows: CERT-In now, the DPDP Rules from May 2027.
        assert!(in_force.iter().any(|r| r.covers("IN")));
        let later = table.in_force(NaiveDate::from_ymd_opt(2027, 6, 1).unwrap(), &[]);
        assert!(
            later
                .iter()
                .any(|r| r.covers("IN") && r.recipient == Recipient::Individuals)
        );
        // Versions of one obligation never share an effective date.
        let mut seen = BTreeSet::new();
        for r in &table.rows {
            assert!(seen.insert((r.id.clone(), r.effective)), "{} twice", r.id);
        }
    }

    #[test]
    fn a_table_in_the_earlier_format_still_applies_first_match_wins() {
        let t = DeadlineTable::parse(
            "old.toml",
            "reviewed = \"2025-01-01\"\n\
             [[jurisdiction]]\nname = \"Texas\"\ncodes = [\"US-TX\"]\ndays = 60\nsource = \"s\"\n\
             [[jurisdiction]]\nname = \"Other states\"\ncodes = [\"US-*\"]\ntext = \"without unreasonable delay\"\nsource = \"s\"\n",
        )
        .unwrap();
        let plan = plan_for(
            &t,
            "2026-03-10T15:00:00Z",
            UTC,
            &[("US-TX", 2), ("US-OH", 1)],
            &[],
        );
        assert_eq!(plan.len(), 2, "{plan:#?}");
        assert_eq!(plan[0].jurisdiction, "Texas");
        assert_eq!(plan[0].deadline_at.as_deref(), Some("2026-05-09T15:00:00Z"));
        assert_eq!(plan[1].jurisdiction, "Other states");
        assert_eq!(plan[1].codes, ["US-OH"]);
    }

    #[test]
    fn a_bad_row_is_one_line_naming_the_file_and_the_row() {
        let head = "reviewed = \"2026-01-01\"\n[[obligation]]\njurisdiction = \"Utopia\"\ncodes = [\"UT\"]\nsource = \"s\"\n";
        let err = |body: &str| {
            DeadlineTable::parse("counsel.toml", &format!("{head}{body}"))
                .unwrap_err()
                .to_string()
        };
        let e = err("recipient = \"individuals\"\ndays = 30\n");
        assert_eq!(
            e,
            "counsel.toml: obligation 1 (Utopia): no effective date (the date the rule took effect)"
        );
        let e = err("recipient = \"individuals\"\neffective = 2026-01-01\n");
        assert!(
            e.starts_with("counsel.toml: obligation 1 (Utopia): no clock"),
            "{e}"
        );
        let e = err("recipient = \"individuals\"\ndays = 3\nhours = 4\neffective = 2026-01-01\n");
        assert!(e.contains("not several"), "{e}");
        let e = err("recipient = \"the press\"\ndays = 3\neffective = 2026-01-01\n");
        assert!(e.starts_with("counsel.toml:6:"), "{e}");
        assert!(e.contains("unknown variant"), "{e}");
        let e = err("recipient = \"media\"\ndays = 3\neffective = \"2026-13-01\"\n");
        assert!(e.contains("effective must be a date"), "{e}");
        let e =
            err("recipient = \"media\"\ndays = 3\neffective = 2026-01-01\nrequires = \"sox\"\n");
        assert!(e.contains("requires \"sox\""), "{e}");
        // A quoted date reads as well as a bare one.
        assert!(
            DeadlineTable::parse(
                "counsel.toml",
                &format!("{head}recipient = \"media\"\ndays = 3\neffective = \"2026-01-01\"\n")
            )
            .is_ok()
        );
    }
}
