//! What the dashboard shows, computed once per load by the same engine and
//! report code as `keyhole report`: every access of the window with its
//! rules, the flags, per-day figures and the staff ranking. Built in a
//! background task; the screen only ever reads it.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::model::{AccessEvent, Id, Instant, Interner, Relationship};
use crate::policy::Policy;
use crate::report::Header;
use crate::report::audit::run_days;
use crate::rules::{Engine, Flag, Rule, Severity};
use crate::source::Source;
use crate::source::load::Directory;
use crate::source::queries::QuerySet;

/// One access as the dashboard keeps it: compact, rules as a bit set.
#[derive(Debug, Clone)]
pub struct AccessRow {
    pub event: AccessEvent,
    pub rules: u32,
    /// Index into `Directory::relationships` of the relationship that explains it.
    pub explained_by: Option<u32>,
}

impl AccessRow {
    pub fn flagged(&self) -> bool {
        self.rules != 0
    }
    pub fn rule_list(&self) -> Vec<Rule> {
        Rule::ALL
            .iter()
            .copied()
            .filter(|r| self.rules & (1 << (*r as u32)) != 0)
            .collect()
    }
}

#[derive(Debug, Clone, Default)]
pub struct StaffSummary {
    pub staff_id: Id,
    pub accesses: u64,
    pub subjects: u64,
    pub by_severity: [u64; 4],
    pub by_rule: [u64; Rule::COUNT],
    pub per_day: Vec<u64>,
    pub categories: Vec<(String, u64)>,
    pub top_subjects: Vec<(String, u64)>,
}

pub struct Dataset {
    pub header: Header,
    pub policy: Policy,
    pub dir: Directory,
    pub symbols: Interner,
    pub rows: Vec<AccessRow>,
    pub flags: Vec<Flag>,
    /// Local days of the window with (accesses, flagged accesses).
    pub days: Vec<(NaiveDate, u64, u64)>,
    pub staff: Vec<StaffSummary>,
    /// Row indices by event id, for jumps from a flag.
    pub by_event: HashMap<Id, u32>,
    /// Distinct subjects accessed in the window.
    pub distinct_subjects: usize,
    /// Disclosures by urgency: awaiting an answer by due date, awaiting
    /// without one, then the answered, newest first.
    pub disclosure_order: Vec<u32>,
    /// Requests still open first (oldest first), then the closed, newest first.
    pub request_order: Vec<u32>,
    staff_index: HashMap<String, usize>,
    subject_index: HashMap<String, usize>,
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Dataset({} accesses, {} flags)",
            self.rows.len(),
            self.flags.len()
        )
    }
}

impl Dataset {
    pub fn severity(&self, r: Rule) -> Severity {
        self.policy.severity[r as usize].unwrap_or(r.default_severity())
    }
    pub fn text(&self, s: Option<crate::model::Sym>) -> &str {
        s.map(|s| self.symbols.resolve(s)).unwrap_or("")
    }
    pub fn relationship(&self, row: &AccessRow) -> Option<&Relationship> {
        let i = row.explained_by? as usize;
        self.dir.relationships.as_ref()?.get(i)
    }
    pub fn staff_name(&self, id: &str) -> Option<&str> {
        self.staff_index
            .get(id)
            .map(|i| self.dir.staff[*i].display_name.as_str())
    }
    pub fn subject_name(&self, id: &str) -> Option<&str> {
        self.subject_index
            .get(id)
            .map(|i| self.dir.subjects[*i].display_name.as_str())
    }
    /// The worst severity among a row's rules.
    pub fn row_severity(&self, row: &AccessRow) -> Option<Severity> {
        row.rule_list().into_iter().map(|r| self.severity(r)).max()
    }
}

/// Loading progress reported to the screen.
#[derive(Debug, Clone)]
pub enum LoadEvent {
    Step(String),
    Day { day: NaiveDate, rows: u64 },
    Done(std::sync::Arc<Dataset>),
    Failed(String),
}

/// Loads the window from the source and judges it. `report` gets progress.
pub async fn load(
    mut src: Source,
    set: QuerySet,
    policy: Policy,
    window: (Instant, Instant, Instant),
    now: Instant,
    report: impl Fn(LoadEvent) + Sync,
) -> (Source, Result<Box<Dataset>, String>) {
    let r = load_inner(&mut src, &set, policy, window, now, &report).await;
    (src, r)
}

async fn load_inner(
    src: &mut Source,
    set: &QuerySet,
    policy: Policy,
    (from, to, as_of): (Instant, Instant, Instant),
    now: Instant,
    report: &(impl Fn(LoadEvent) + Sync),
) -> Result<Box<Dataset>, String> {
    report(LoadEvent::Step(
        "reading staff, subjects and relationships".into(),
    ));
    let dir = Directory::load(src, set, policy.timezone)
        .await
        .map_err(|e| e.to_string())?;
    let header = Header {
        generated_at: now,
        as_of,
        from,
        to,
        dialect: src.dialect.name().into(),
        database: src.database.clone(),
        policy: policy.origin.clone(),
        timezone: policy.timezone,
    };
    let mut symbols = Interner::default();
    let mut rows: Vec<AccessRow> = Vec::new();
    let mut flags: Vec<Flag> = Vec::new();
    let mut days: Vec<(NaiveDate, u64, u64)> = Vec::new();
    {
        let rel_base = dir
            .relationships
            .as_ref()
            .map(|r| r.as_ptr() as usize)
            .unwrap_or(0);
        let rel_size = std::mem::size_of::<Relationship>();
        let mut engine = Engine::new(&policy, &dir, from, to, as_of);
        let mut count = 0u64;
        run_days(
            src,
            set,
            &mut engine,
            &mut symbols,
            crate::report::audit::Symbols::Keep,
            |day, judged, f, _| {
                let mut flagged = 0;
                for j in judged {
                    let mut mask = 0u32;
                    for r in j.rules() {
                        mask |= 1 << (r as u32);
                    }
                    if mask != 0 {
                        flagged += 1;
                    }
                    let explained_by = j.verdict.explained_by.map(|r| {
                        ((r as *const Relationship as usize - rel_base) / rel_size) as u32
                    });
                    rows.push(AccessRow {
                        event: j.event,
                        rules: mask,
                        explained_by,
                    });
                }
                let n = rows.len() as u64 - days.iter().map(|d| d.1).sum::<u64>();
                days.push((day, n, flagged));
                count = rows.len() as u64;
                report(LoadEvent::Day { day, rows: count });
                flags.extend(f);
                Ok(())
            },
            |_| {},
        )
        .await
        .map_err(|e| e.to_string())?;
        flags.extend(engine.legal_flags());
    }
    crate::report::sort_flags(&mut flags);
    let by_event = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.event.event_id.clone(), i as u32))
        .collect();
    let staff = summarise_staff(&rows, &flags, &symbols, &days);
    let distinct_subjects = rows
        .iter()
        .filter_map(|r| r.event.subject)
        .collect::<std::collections::HashSet<_>>()
        .len();
    let mut disclosure_order: Vec<u32> =
        (0..dir.disclosures.as_ref().map_or(0, Vec::len) as u32).collect();
    if let Some(ds) = &dir.disclosures {
        let key = |x: &crate::model::Disclosure| {
            let status = crate::policy::norm(&x.status);
            let waiting = x.responded_at.is_none_or(|r| r > as_of)
                && status != "withdrawn"
                && status != "rejected";
            match (waiting, x.due_at) {
                (true, Some(due)) => (0u8, due.timestamp()),
                (true, None) => (1, -x.received_at.timestamp()),
                (false, _) => (2, -x.received_at.timestamp()),
            }
        };
        disclosure_order.sort_by_key(|i| key(&ds[*i as usize]));
    }
    let staff_index = dir
        .staff
        .iter()
        .enumerate()
        .map(|(i, s)| (s.staff_id.to_string(), i))
        .collect();
    let subject_index = dir
        .subjects
        .iter()
        .enumerate()
        .map(|(i, s)| (s.subject_id.to_string(), i))
        .collect();
    let mut request_order: Vec<u32> =
        (0..dir.requests.as_ref().map_or(0, Vec::len) as u32).collect();
    if let Some(rs) = &dir.requests {
        let key = |r: &crate::model::SubjectRequest| {
            let open = r.completed_at.is_none_or(|c| c > as_of)
                && crate::rules::context::request_counts(r);
            if open {
                (0u8, r.received_at.timestamp())
            } else {
                (1, -r.received_at.timestamp())
            }
        };
        request_order.sort_by_key(|i| key(&rs[*i as usize]));
    }
    Ok(Box::new(Dataset {
        request_order,
        staff_index,
        subject_index,
        disclosure_order,
        distinct_subjects,
        header,
        policy,
        dir,
        symbols,
        rows,
        flags,
        days,
        staff,
        by_event,
    }))
}

type StaffTally = (
    StaffSummary,
    HashMap<crate::model::Sym, u64>,
    HashMap<crate::model::Sym, u64>,
);

fn summarise_staff(
    rows: &[AccessRow],
    flags: &[Flag],
    syms: &Interner,
    days: &[(NaiveDate, u64, u64)],
) -> Vec<StaffSummary> {
    let mut by: HashMap<crate::model::Sym, StaffTally> = HashMap::new();
    let mut start = 0usize;
    for (di, d) in days.iter().enumerate() {
        let end = (start + d.1 as usize).min(rows.len());
        for r in &rows[start..end] {
            let e = by.entry(r.event.staff).or_insert_with(|| {
                (
                    StaffSummary {
                        staff_id: Id::new(syms.resolve(r.event.staff)),
                        per_day: vec![0; days.len()],
                        ..Default::default()
                    },
                    HashMap::new(),
                    HashMap::new(),
                )
            });
            e.0.accesses += 1;
            e.0.per_day[di] += 1;
            if let Some(s) = r.event.subject {
                *e.1.entry(s).or_default() += 1;
            }
            if let Some(c) = r.event.data_category {
                *e.2.entry(c).or_default() += 1;
            }
        }
        start = end;
    }
    let mut out: Vec<StaffSummary> = by
        .into_values()
        .map(|(mut s, subjects, cats)| {
            s.subjects = subjects.len() as u64;
            let mut top: Vec<(String, u64)> = subjects
                .into_iter()
                .map(|(k, v)| (syms.resolve(k).to_string(), v))
                .collect();
            top.sort_by(|a, b| {
                b.1.cmp(&a.1)
                    .then_with(|| Id::new(a.0.as_str()).cmp(&Id::new(b.0.as_str())))
            });
            top.truncate(5);
            s.top_subjects = top;
            let mut c: Vec<(String, u64)> = cats
                .into_iter()
                .map(|(k, v)| (syms.resolve(k).to_string(), v))
                .collect();
            c.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            s.categories = c;
            s
        })
        .collect();
    let index: HashMap<Id, usize> = out
        .iter()
        .enumerate()
        .map(|(i, s)| (s.staff_id.clone(), i))
        .collect();
    for f in flags {
        if let Some(i) = f.staff_id.as_ref().and_then(|s| index.get(s)) {
            out[*i].by_severity[f.severity as usize] += 1;
            out[*i].by_rule[f.rule as usize] += 1;
        }
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
