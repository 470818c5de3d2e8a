//! The staff ranking, one consumer for `report staff` and the dashboard's
//! Staff tab: per staff member the accesses, distinct subjects, data
//! categories and days of the window, then flags by severity and rule, ranked
//! worst first.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use chrono::NaiveDate;
use serde::Serialize;

use super::{Format, Header};
use crate::audit::{Day, Finish, Sink, SinkError};
use crate::model::{Id, Interner, Staff, Sym};
use crate::rules::{Flag, Rule};
use crate::sanitize::{clip, terminal};
use crate::time::rfc3339;

/// One staff member's figures over the window.
#[derive(Debug, Clone, Default)]
pub struct StaffSummary {
    pub staff_id: Id,
    pub accesses: u64,
    /// Distinct subjects accessed.
    pub subjects: u64,
    pub by_severity: [u64; 4],
    pub by_rule: [u64; Rule::COUNT],
    /// Accesses per local day of the window, in order.
    pub per_day: Vec<u64>,
    /// Data categories by accesses, most first.
    pub categories: Vec<(String, u64)>,
    /// The five most accessed subjects.
    pub top_subjects: Vec<(String, u64)>,
}

#[derive(Default)]
struct Tally {
    accesses: u64,
    per_day: Vec<u64>,
    subjects: HashMap<Sym, u64>,
    categories: HashMap<Sym, u64>,
}

/// Tallies accesses per staff member as days arrive; needs the pipeline to
/// keep interned values ([`crate::audit::Symbols::Keep`]).
#[derive(Default)]
pub struct StaffTally {
    days: Vec<NaiveDate>,
    by: HashMap<Sym, Tally>,
    /// The flags of the days seen (per-event and staff-day).
    pub flags: Vec<Flag>,
    symbols: Interner,
}

impl StaffTally {
    /// Counts one judged access of the current day.
    pub fn count(&mut self, staff: Sym, subject: Option<Sym>, category: Option<Sym>) {
        let di = self.days.len().saturating_sub(1);
        let t = self.by.entry(staff).or_default();
        t.accesses += 1;
        if t.per_day.len() <= di {
            t.per_day.resize(di + 1, 0);
        }
        t.per_day[di] += 1;
        if let Some(s) = subject {
            *t.subjects.entry(s).or_default() += 1;
        }
        if let Some(c) = category {
            *t.categories.entry(c).or_default() += 1;
        }
    }

    /// Starts a new local day.
    pub fn begin_day(&mut self, date: NaiveDate) {
        self.days.push(date);
    }

    /// The local days seen, in order.
    pub fn days(&self) -> &[NaiveDate] {
        &self.days
    }

    /// Gives the tally the interned values it counted by (the pipeline's,
    /// at the end).
    pub fn set_symbols(&mut self, symbols: Interner) {
        self.symbols = symbols;
    }

    pub fn symbols(&self) -> &Interner {
        &self.symbols
    }

    /// The interned values, for a caller that keeps rows counted here.
    pub fn into_symbols(self) -> Interner {
        self.symbols
    }

    /// The ranking with `flags` counted in: by severity counts from
    /// critical down, then accesses, then staff id.
    pub fn rank(&self, flags: &[Flag]) -> Vec<StaffSummary> {
        let syms = &self.symbols;
        let mut out: Vec<StaffSummary> = self
            .by
            .iter()
            .map(|(staff, t)| {
                // The five first by (count, id), chosen before any text is copied.
                let mut top: Vec<(&str, u64)> = t
                    .subjects
                    .iter()
                    .map(|(k, v)| (syms.resolve(*k), *v))
                    .collect();
                let order = |a: &(&str, u64), b: &(&str, u64)| {
                    b.1.cmp(&a.1).then_with(|| Id::new(a.0).cmp(&Id::new(b.0)))
                };
                if top.len() > 5 {
                    top.select_nth_unstable_by(4, order);
                    top.truncate(5);
                }
                top.sort_by(order);
                let top: Vec<(String, u64)> =
                    top.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                let mut categories: Vec<(String, u64)> = t
                    .categories
                    .iter()
                    .map(|(k, v)| (syms.resolve(*k).to_string(), *v))
                    .collect();
                categories.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                let mut per_day = t.per_day.clone();
                per_day.resize(self.days.len(), 0);
                StaffSummary {
                    staff_id: Id::new(syms.resolve(*staff)),
                    accesses: t.accesses,
                    subjects: t.subjects.len() as u64,
                    per_day,
                    categories,
                    top_subjects: top,
                    ..Default::default()
                }
            })
            .collect();
        let mut index: HashMap<Id, usize> = out
            .iter()
            .enumerate()
            .map(|(i, s)| (s.staff_id.clone(), i))
            .collect();
        for f in flags {
            let Some(s) = &f.staff_id else { continue };
            let i = *index.entry(s.clone()).or_insert_with(|| {
                out.push(StaffSummary {
                    staff_id: s.clone(),
                    per_day: vec![0; self.days.len()],
                    ..Default::default()
                });
                out.len() - 1
            });
            out[i].by_severity[f.severity as usize] += 1;
            out[i].by_rule[f.rule as usize] += 1;
        }
        out.sort_by(|a, b| {
            b.by_severity
                .iter()
                .rev()
                .cmp(a.by_severity.iter().rev())
                .then(b.accesses.cmp(&a.accesses))
                .then(a.staff_id.cmp(&b.staff_id))
        });
        out
    }
}

impl<'a> Sink<'a> for StaffTally {
    fn day(&mut self, day: Day<'a, '_>) -> Result<bool, SinkError> {
        self.begin_day(day.date);
        for j in &day.judged {
            let e = &j.event;
            self.count(e.staff, e.subject, e.data_category);
        }
        self.flags.extend(day.flags);
        Ok(true)
    }

    fn finish(&mut self, end: Finish<'_, 'a>) -> Result<(), SinkError> {
        self.set_symbols(end.symbols);
        Ok(())
    }
}

#[derive(Serialize)]
struct StaffJson<'a> {
    rank: usize,
    staff_id: &'a str,
    staff_name: Option<&'a str>,
    role: Option<&'a str>,
    department: Option<&'a str>,
    accesses: u64,
    distinct_subjects: u64,
    flags: u64,
    critical: u64,
    high: u64,
    medium: u64,
    low: u64,
    by_rule: BTreeMap<&'static str, u64>,
}

/// Writes the ranking in `format`; names only with `reveal`.
pub fn write(
    out: &mut dyn Write,
    format: Format,
    h: &Header,
    ranked: &[StaffSummary],
    staff: &[Staff],
    reveal: bool,
    width: usize,
) -> std::io::Result<()> {
    let dir: HashMap<&str, &Staff> = staff.iter().map(|s| (s.staff_id.as_str(), s)).collect();
    let rows: Vec<StaffJson> = ranked
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let id = &r.staff_id;
            let s = dir.get(id.as_str());
            StaffJson {
                rank: i + 1,
                staff_id: id.as_str(),
                staff_name: if reveal {
                    s.map(|s| s.display_name.as_str())
                } else {
                    None
                },
                role: s.and_then(|s| s.role.as_deref()),
                department: s.and_then(|s| s.department.as_deref()),
                accesses: r.accesses,
                distinct_subjects: r.subjects,
                flags: r.by_severity.iter().sum(),
                critical: r.by_severity[3],
                high: r.by_severity[2],
                medium: r.by_severity[1],
                low: r.by_severity[0],
                by_rule: Rule::ALL
                    .iter()
                    .filter(|k| r.by_rule[**k as usize] > 0)
                    .map(|k| (k.name(), r.by_rule[*k as usize]))
                    .collect(),
            }
        })
        .collect();
    let text = match format {
        Format::Json => {
            #[derive(Serialize)]
            struct Doc<'a> {
                generated_at: String,
                as_of: String,
                window: super::WindowJson,
                staff: &'a [StaffJson<'a>],
            }
            let mut s = serde_json::to_string_pretty(&Doc {
                generated_at: rfc3339(h.generated_at),
                as_of: rfc3339(h.as_of),
                window: super::WindowJson {
                    from: rfc3339(h.from),
                    to: rfc3339(h.to),
                },
                staff: &rows,
            })
            .expect("serialises");
            s.push('\n');
            s
        }
        Format::Csv => {
            let mut o = super::csv_row(
                &[
                    "rank",
                    "staff_id",
                    "staff_name",
                    "role",
                    "department",
                    "accesses",
                    "distinct_subjects",
                    "flags",
                    "critical",
                    "high",
                    "medium",
                    "low",
                    "by_rule",
                ]
                .map(String::from),
            );
            for r in &rows {
                o.push_str(&super::csv_row(&[
                    r.rank.to_string(),
                    r.staff_id.into(),
                    r.staff_name.unwrap_or_default().into(),
                    r.role.unwrap_or_default().into(),
                    r.department.unwrap_or_default().into(),
                    r.accesses.to_string(),
                    r.distinct_subjects.to_string(),
                    r.flags.to_string(),
                    r.critical.to_string(),
                    r.high.to_string(),
                    r.medium.to_string(),
                    r.low.to_string(),
                    r.by_rule
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                ]));
            }
            o
        }
        Format::Md | Format::Table => {
            let md = format == Format::Md;
            let mut o = String::new();
            if md {
                o.push_str(&format!("# Staff ranked by risk\n\nWindow {} to {}\n\n| rank | staff | role | accesses | subjects | critical | high | medium | low | top rules |\n|---|---|---|---|---|---|---|---|---|---|\n", rfc3339(h.from), rfc3339(h.to)));
            } else {
                o.push_str(&format!(
                    "{:>4} {:<10} {:<16} {:>8} {:>8} {:>4} {:>4} {:>4} {:>4}  top rules\n",
                    "rank", "staff", "role", "accesses", "subjects", "crit", "high", "med", "low"
                ));
            }
            for r in &rows {
                let mut top: Vec<(&&str, &u64)> = r.by_rule.iter().collect();
                top.sort_by(|a, b| b.1.cmp(a.1));
                let top = top
                    .iter()
                    .take(3)
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let who = match r.staff_name {
                    Some(n) => format!("{} ({})", r.staff_id, n),
                    None => r.staff_id.to_string(),
                };
                if md {
                    let m = super::md;
                    o.push_str(&format!(
                        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                        r.rank,
                        m(&who),
                        m(r.role.unwrap_or("")),
                        r.accesses,
                        r.distinct_subjects,
                        r.critical,
                        r.high,
                        r.medium,
                        r.low,
                        top
                    ));
                } else {
                    let line = format!(
                        "{:>4} {:<10} {:<16} {:>8} {:>8} {:>4} {:>4} {:>4} {:>4}  {}",
                        r.rank,
                        clip(&terminal(&who), 10),
                        clip(&terminal(r.role.unwrap_or("")), 16),
                        r.accesses,
                        r.distinct_subjects,
                        r.critical,
                        r.high,
                        r.medium,
                        r.low,
                        top
                    );
                    o.push_str(&line);
                    o.push('\n');
                }
            }
            if md { o } else { super::fit(&o, width) }
        }
    };
    out.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The five most accessed subjects, ties by id (integers by value), and
    /// the distinct count over all of them.
    #[test]
    fn the_top_five_subjects_are_the_most_accessed_ties_by_id() {
        let mut syms = Interner::default();
        let staff = syms.intern("7");
        let mut tally = StaffTally::default();
        tally.begin_day(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap());
        // (subject, accesses): 10 and 9 tie at 3 (9 first, by value), then
        // 100, 20 and 3 tie at 2 (3, 20, 100), and 5 once.
        for (subject, n) in [
            ("100", 2),
            ("10", 3),
            ("5", 1),
            ("9", 3),
            ("20", 2),
            ("3", 2),
        ] {
            let s = syms.intern(subject);
            for _ in 0..n {
                tally.count(staff, Some(s), None);
            }
        }
        tally.set_symbols(syms);
        let ranked = tally.rank(&[]);
        assert_eq!(ranked.len(), 1);
        let top: Vec<(&str, u64)> = ranked[0]
            .top_subjects
            .iter()
            .map(|(s, n)| (s.as_str(), *n))
            .collect();
        assert_eq!(top, [("9", 3), ("10", 3), ("3", 2), ("20", 2), ("100", 2)]);
        assert_eq!(ranked[0].subjects, 6);
        assert_eq!(ranked[0].accesses, 13);
    }
}
