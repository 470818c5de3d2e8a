//! Incident scoping (`keyhole breach`): the accesses made by compromised
//! accounts or from compromised addresses in a window, the people affected
//! with the data categories exposed and their jurisdictions, and the
//! notification plan from an editable, dated table of obligations
//! ([`super::deadlines`]). Memory is bounded by the affected set: events
//! stream through and are folded in.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::{Format, Header, csv_row};
use crate::audit::{Day, Sink, SinkError};
use crate::model::Directory;
use crate::model::{AccessEvent, Id, Instant, Interner};
use crate::time::rfc3339;

pub use super::deadlines::{Deadline, DeadlineTable, PlanItem};

message_error!(
    /// An incident scope keyhole cannot read (`--ip`).
    ScopeError
);

/// Which accesses belong to the incident.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub staff: Vec<String>,
    pub networks: Vec<ipnet::IpNet>,
}

impl Scope {
    pub fn parse_ip(s: &str) -> Result<ipnet::IpNet, ScopeError> {
        let s = s.trim();
        s.parse::<ipnet::IpNet>()
            .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map_err(|_| {
                ScopeError(format!(
                    "--ip {s:?}: expected an address or a CIDR block like 10.1.0.0/16"
                ))
            })
    }

    pub fn matches(&self, ev: &AccessEvent, syms: &Interner) -> bool {
        if self.staff.iter().any(|s| s == syms.resolve(ev.staff)) {
            return true;
        }
        if self.networks.is_empty() {
            return false;
        }
        let Some(ip) = ev.client_ip.map(|s| syms.resolve(s)) else {
            return false;
        };
        let addr = ip
            .split('/')
            .next()
            .unwrap_or(ip)
            .parse::<std::net::IpAddr>();
        matches!(addr, Ok(a) if self.networks.iter().any(|n| n.contains(&a)))
    }
}

#[derive(Debug, Clone, Default)]
struct Affected {
    categories: BTreeSet<String>,
    first: Option<Instant>,
    last: Option<Instant>,
    accesses: u64,
}

/// Folds the accesses the pipeline kept (those [`Scope::matches`]) into an
/// [`Incident`].
pub struct IncidentSink {
    pub incident: Incident,
    pub tz: chrono_tz::Tz,
}

impl<'a> Sink<'a> for IncidentSink {
    fn day(&mut self, day: Day<'a, '_>) -> Result<bool, SinkError> {
        for j in &day.judged {
            self.incident.add(&j.event, day.symbols, self.tz);
        }
        Ok(true)
    }
}

/// The incident, folded from the matching events.
#[derive(Debug, Default)]
pub struct Incident {
    pub accesses: u64,
    pub records_without_subject: i64,
    affected: HashMap<Id, Affected>,
    by_day: BTreeMap<chrono::NaiveDate, u64>,
}

impl Incident {
    pub fn add(&mut self, ev: &AccessEvent, syms: &Interner, tz: chrono_tz::Tz) {
        self.accesses += 1;
        *self
            .by_day
            .entry(ev.occurred_at.with_timezone(&tz).date_naive())
            .or_default() += 1;
        let Some(s) = ev.subject else {
            self.records_without_subject += ev.record_count;
            return;
        };
        let a = self.affected.entry(Id::new(syms.resolve(s))).or_default();
        a.accesses += 1;
        if let Some(c) = ev.data_category {
            a.categories.insert(crate::policy::norm(syms.resolve(c)));
        }
        a.first = Some(a.first.map_or(ev.occurred_at, |f| f.min(ev.occurred_at)));
        a.last = Some(a.last.map_or(ev.occurred_at, |l| l.max(ev.occurred_at)));
    }

    pub fn subjects(&self) -> usize {
        self.affected.len()
    }
}

#[derive(Debug, Serialize)]
pub struct AffectedRow {
    pub subject_id: String,
    pub jurisdiction: Option<String>,
    pub categories: Vec<String>,
    pub accesses: u64,
    pub first_access: String,
    pub last_access: String,
    /// The earliest deadline among the obligations that cover this person.
    pub deadline: String,
    pub notify: Option<String>,
    /// That obligation's id in the deadline table.
    pub rule: String,
    /// When this person must be told: the earliest notice to individuals
    /// that covers them (none when no row asks for one).
    pub individuals_deadline: Option<String>,
    pub source: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub postal_address: Option<String>,
    #[serde(skip)]
    sort: Deadline,
}

#[derive(Debug, Serialize)]
pub struct JurisdictionRow {
    pub jurisdiction: String,
    pub rule: String,
    pub subjects: u64,
    pub deadline: String,
    pub notify: Option<String>,
    pub source: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct BreachReport {
    pub generated_at: String,
    pub as_of: String,
    pub aware_at: String,
    pub window: super::WindowJson,
    pub staff: Vec<String>,
    pub networks: Vec<String>,
    pub deadline_table_reviewed: String,
    pub accesses: u64,
    pub subjects: u64,
    pub records_without_subject: i64,
    pub earliest_deadline: Option<String>,
    pub obligations: Vec<PlanItem>,
    pub by_jurisdiction: Vec<JurisdictionRow>,
    pub by_category: BTreeMap<String, u64>,
    pub timeline: BTreeMap<String, u64>,
    pub affected: Vec<AffectedRow>,
}

/// The places a plan line covers, in a table cell: named when they are a
/// few, counted when a rule for everyone covers many.
fn places(codes: &[String]) -> String {
    if codes.len() <= 6 {
        codes.join(", ")
    } else {
        format!("{} places", codes.len())
    }
}

/// What a plan line asks, in a few words: "the attorney general" or the
/// table's own `notify`.
fn notify_of(p: &PlanItem) -> String {
    p.notify
        .clone()
        .unwrap_or_else(|| p.recipient.text().to_string())
}

/// Builds the report: the notification plan, then every affected person
/// with the earliest deadline that covers them, sorted by that deadline
/// (fixed instants first, earliest first), then subject id. `switches` are
/// the config's `[breach]` switches that are on (`hipaa`).
#[allow(clippy::too_many_arguments)]
pub fn build(
    h: &Header,
    aware_at: Instant,
    scope: &Scope,
    table: &DeadlineTable,
    switches: &[&str],
    inc: Incident,
    dir: &Directory,
    reveal: bool,
) -> BreachReport {
    let subjects: HashMap<&str, &crate::model::Subject> = dir
        .subjects
        .iter()
        .map(|s| (s.subject_id.as_str(), s))
        .collect();
    let jurisdiction_of = |id: &Id| {
        subjects
            .get(id.as_str())
            .and_then(|s| s.jurisdiction().map(|j| j.trim().to_uppercase()))
    };
    let mut people: BTreeMap<Option<String>, u64> = BTreeMap::new();
    for id in inc.affected.keys() {
        *people.entry(jurisdiction_of(id)).or_default() += 1;
    }
    let obligations = super::deadlines::plan(
        table,
        &super::deadlines::PlanInput {
            aware_at,
            tz: h.timezone,
            people: &people,
            switches,
        },
    );
    // For each place, the first plan line that covers it with its threshold
    // met: the plan is sorted, so that is the earliest deadline.
    let mut first: HashMap<Option<String>, &PlanItem> = HashMap::new();
    for p in obligations.iter().filter(|p| p.threshold_met) {
        if p.codes.is_empty() {
            first.entry(None).or_insert(p);
        }
        for c in &p.codes {
            first.entry(Some(c.clone())).or_insert(p);
        }
    }
    let mut to_people: HashMap<Option<String>, &PlanItem> = HashMap::new();
    for p in obligations
        .iter()
        .filter(|p| p.threshold_met && p.recipient == super::deadlines::Recipient::Individuals)
    {
        for c in &p.codes {
            to_people.entry(Some(c.clone())).or_insert(p);
        }
    }
    let mut affected: Vec<AffectedRow> = inc
        .affected
        .into_iter()
        .map(|(id, a)| {
            let s = subjects.get(id.as_str());
            let jurisdiction = jurisdiction_of(&id);
            let p = first.get(&jurisdiction).copied();
            let individuals_deadline = to_people.get(&jurisdiction).map(|p| p.deadline.clone());
            let sort = p.map_or_else(
                || Deadline::Words(super::deadlines::NO_RULE.into()),
                |p| p.sort.clone(),
            );
            AffectedRow {
                subject_id: id.to_string(),
                jurisdiction,
                categories: a.categories.into_iter().collect(),
                accesses: a.accesses,
                first_access: a.first.map(rfc3339).unwrap_or_default(),
                last_access: a.last.map(rfc3339).unwrap_or_default(),
                deadline: p.map_or_else(|| sort.text(), |p| p.deadline.clone()),
                notify: p.filter(|p| !p.source.is_empty()).map(notify_of),
                rule: p.map_or_else(|| "(no rule)".into(), |p| p.id.clone()),
                individuals_deadline,
                source: p.map(|p| p.source.clone()).filter(|s| !s.is_empty()),
                name: reveal
                    .then(|| s.map(|s| s.display_name().to_string()))
                    .flatten(),
                email: reveal
                    .then(|| s.and_then(|s| s.email().map(str::to_string)))
                    .flatten(),
                phone: reveal
                    .then(|| s.and_then(|s| s.phone().map(str::to_string)))
                    .flatten(),
                postal_address: reveal
                    .then(|| s.and_then(|s| s.postal_address().map(str::to_string)))
                    .flatten(),
                sort,
            }
        })
        .collect();
    affected.sort_by(|a, b| {
        a.sort
            .cmp(&b.sort)
            .then_with(|| Id::new(a.subject_id.as_str()).cmp(&Id::new(b.subject_id.as_str())))
    });
    let mut by_category: BTreeMap<String, u64> = BTreeMap::new();
    for a in &affected {
        for c in &a.categories {
            *by_category.entry(c.clone()).or_default() += 1;
        }
    }
    let by_jurisdiction = people
        .iter()
        .map(|(j, n)| {
            let p = first.get(j).copied();
            JurisdictionRow {
                jurisdiction: j.clone().unwrap_or_else(|| "(unknown)".into()),
                rule: p.map_or_else(|| "(no rule)".into(), |p| p.id.clone()),
                subjects: *n,
                deadline: p
                    .map_or_else(|| super::deadlines::NO_RULE.into(), |p| p.deadline.clone()),
                notify: p.filter(|p| !p.source.is_empty()).map(notify_of),
                source: p.map(|p| p.source.clone()).filter(|s| !s.is_empty()),
            }
        })
        .collect();
    let earliest = obligations
        .iter()
        .filter(|p| p.threshold_met)
        .find_map(|p| p.deadline_at.clone());
    BreachReport {
        generated_at: rfc3339(h.generated_at),
        as_of: rfc3339(h.as_of),
        aware_at: rfc3339(aware_at),
        window: super::WindowJson {
            from: rfc3339(h.from),
            to: rfc3339(h.to),
        },
        staff: scope.staff.clone(),
        networks: scope.networks.iter().map(|n| n.to_string()).collect(),
        deadline_table_reviewed: table.reviewed.clone(),
        accesses: inc.accesses,
        subjects: affected.len() as u64,
        records_without_subject: inc.records_without_subject,
        earliest_deadline: earliest,
        obligations,
        by_jurisdiction,
        by_category,
        timeline: inc
            .by_day
            .into_iter()
            .map(|(d, n)| (d.to_string(), n))
            .collect(),
        affected,
    }
}

/// The plan's threshold cell: "—", "met (812): more than 500 people" or
/// "not met (15): more than 500 people".
pub fn threshold_cell(p: &PlanItem) -> String {
    match &p.threshold {
        None => "—".into(),
        Some(t) if p.threshold_met => format!("met ({}): {t}", p.people),
        Some(t) => format!("not met ({}): {t}", p.people),
    }
}

pub fn render(r: &BreachReport, format: Format, reveal: bool) -> String {
    match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(r).expect("serialises");
            s.push('\n');
            s
        }
        Format::Csv => {
            let mut head = vec![
                "subject_id",
                "jurisdiction",
                "categories",
                "deadline",
                "notify",
                "rule",
                "individuals_deadline",
            ];
            if reveal {
                head.extend(["name", "email", "phone", "postal_address"]);
            }
            let mut o = csv_row(&head.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            for a in &r.affected {
                let mut cells = vec![
                    a.subject_id.clone(),
                    a.jurisdiction.clone().unwrap_or_default(),
                    a.categories.join(" "),
                    a.deadline.clone(),
                    a.notify.clone().unwrap_or_default(),
                    a.rule.clone(),
                    a.individuals_deadline.clone().unwrap_or_default(),
                ];
                if reveal {
                    cells.extend(
                        [
                            a.name.clone(),
                            a.email.clone(),
                            a.phone.clone(),
                            a.postal_address.clone(),
                        ]
                        .map(Option::unwrap_or_default),
                    );
                }
                o.push_str(&csv_row(&cells));
            }
            o
        }
        Format::Md | Format::Table => {
            let t = super::md;
            let mut o = String::new();
            o.push_str("# Incident summary\n\n");
            o.push_str(&format!(
                "Aware since {}; every clock below runs from then. Deadline table reviewed {}: a starting point for counsel, not legal advice.\n\n",
                r.aware_at,
                t(&r.deadline_table_reviewed)
            ));
            o.push_str("## Notification plan\n\n| deadline | jurisdiction | notify | people | threshold | condition | clock | source |\n|---|---|---|---|---|---|---|---|\n");
            for p in &r.obligations {
                o.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
                    t(&p.deadline),
                    t(&format!("{} ({})", p.jurisdiction, places(&p.codes))),
                    t(&notify_of(p)),
                    p.people,
                    t(&threshold_cell(p)),
                    t(p.condition.as_deref().unwrap_or("—")),
                    t(&p.clock),
                    t(&p.source)
                ));
            }
            o.push_str("\n## Scope\n\n");
            let scope = [
                (!r.staff.is_empty()).then(|| format!("accounts {}", t(&r.staff.join(", ")))),
                (!r.networks.is_empty()).then(|| format!("addresses {}", r.networks.join(", "))),
            ];
            o.push_str(&format!(
                "- Scope: {}\n",
                scope.into_iter().flatten().collect::<Vec<_>>().join("; ")
            ));
            o.push_str(&format!("- Window: {} to {}\n", r.window.from, r.window.to));
            o.push_str(&format!(
                "- Accesses: {}; people affected: {}; records exported without a named subject: {}\n",
                r.accesses, r.subjects, r.records_without_subject
            ));
            o.push_str(&format!(
                "- Earliest fixed deadline: {}\n",
                r.earliest_deadline.clone().unwrap_or_else(|| "none".into())
            ));
            o.push_str("\n## By jurisdiction\n\n| jurisdiction | people | earliest deadline | notify | obligation | source |\n|---|---|---|---|---|---|\n");
            for j in &r.by_jurisdiction {
                o.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} |\n",
                    t(&j.jurisdiction),
                    j.subjects,
                    t(&j.deadline),
                    t(j.notify.as_deref().unwrap_or("")),
                    t(&j.rule),
                    t(j.source.as_deref().unwrap_or(""))
                ));
            }
            o.push_str("\n## By data category\n\n| category | people |\n|---|---|\n");
            for (c, n) in &r.by_category {
                o.push_str(&format!("| {} | {n} |\n", t(c)));
            }
            o.push_str("\n## Timeline\n\n| day | accesses |\n|---|---|\n");
            for (d, n) in &r.timeline {
                o.push_str(&format!("| {d} | {n} |\n"));
            }
            o.push_str("\nThe notification list (one row per person) is `--format csv`; names and contact details only with `--reveal`.\n");
            o
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_match_by_cidr() {
        let mut syms = Interner::default();
        let ev = |ip: &str, syms: &mut Interner| AccessEvent {
            event_id: Id::new("1"),
            occurred_at: chrono::Utc::now(),
            staff: syms.intern("7"),
            subject: None,
            action: None,
            data_category: None,
            purpose: None,
            reference: None,
            client_ip: Some(syms.intern(ip)),
            record_count: 1,
            db: None,
        };
        let scope = Scope {
            staff: vec![],
            networks: vec![
                Scope::parse_ip("203.0.113.0/24").unwrap(),
                Scope::parse_ip("2001:db8::1").unwrap(),
            ],
        };
        assert!(scope.matches(&ev("203.0.113.77", &mut syms), &syms));
        assert!(!scope.matches(&ev("203.0.114.1", &mut syms), &syms));
        assert!(scope.matches(&ev("2001:db8::1", &mut syms), &syms));
        assert!(Scope::parse_ip("not-an-ip").is_err());
    }
}
