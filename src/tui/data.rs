//! What the dashboard shows, computed once per load by the same engine and
//! report code as `keyhole report`: every access of the window with its
//! rules, the flags, per-day figures and the staff ranking. Built in a
//! background task; the screen only ever reads it.

pub use super::columns::{AccessLog, AccessRow};
use std::sync::atomic::AtomicBool;

use chrono::NaiveDate;

use crate::audit::{self, AuditWindow, Day, Finish, Plan, Sink, SinkError, Symbols};
use crate::model::{Directory, Id, IdIndex, Instant, Interner, RelRef};
use crate::policy::Policy;
use crate::report::Header;
pub use crate::report::staff::StaffSummary;
use crate::report::staff::StaffTally;
use crate::rules::{Engine, Flag, Rule, Severity};
use crate::source::Source;
use crate::source::queries::QuerySet;

pub struct Dataset {
    pub header: Header,
    pub policy: Policy,
    pub dir: Directory,
    pub symbols: Interner,
    pub rows: AccessLog,
    pub flags: Vec<Flag>,
    /// Local days of the window with (accesses, flagged accesses).
    pub days: Vec<(NaiveDate, u64, u64)>,
    pub staff: Vec<StaffSummary>,
    /// Distinct subjects accessed in the window.
    pub distinct_subjects: usize,
    /// The distinct references of the window's accesses, for search.
    pub references: Vec<crate::model::Sym>,
    /// Disclosures by urgency: awaiting an answer by due date, awaiting
    /// without one, then the answered, newest first.
    pub disclosure_order: Vec<u32>,
    /// Requests still open first (oldest first), then the closed, newest first.
    pub request_order: Vec<u32>,
    /// What each database audit log held.
    pub db_logs: Vec<crate::dblog::LogSummary>,
    /// The staff ids with accesses read from a database audit log, by id.
    pub db_staff: Vec<crate::model::Sym>,
    staff_index: IdIndex,
    subject_index: IdIndex,
    /// The first flag of each event rule for an event id, and of each
    /// staff-day rule for a staff member's local day: the flag behind an
    /// access's rule without a scan of every flag.
    event_flags: rustc_hash::FxHashMap<(Rule, Id), u32>,
    staff_day_flags: rustc_hash::FxHashMap<(Rule, Id, NaiveDate), u32>,
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
        self.policy.severity_of(r)
    }
    pub fn text(&self, s: Option<crate::model::Sym>) -> &str {
        s.map(|s| self.symbols.resolve(s)).unwrap_or("")
    }
    pub fn relationship(&self, row: &AccessRow) -> Option<RelRef<'_>> {
        let i = row.explained_by? as usize;
        self.dir.relationships.as_ref()?.get(i)
    }
    /// For an access no relationship explains, the nearest one that would
    /// have (see [`crate::rules::nearest_miss`]).
    pub fn nearest_miss(&self, row: &AccessRow) -> Option<crate::rules::Miss<'_>> {
        let rels = self.dir.relationships.as_ref()?;
        let subject = row.event.subject.map(|s| self.symbols.resolve(s))?;
        let th = &self.policy.thresholds;
        crate::rules::nearest_miss(
            rels,
            self.symbols.resolve(row.event.staff),
            subject,
            row.event.occurred_at,
            chrono::Duration::minutes(th.relationship_lead_minutes),
            chrono::Duration::minutes(th.relationship_grace_minutes),
        )
    }
    pub fn staff_name(&self, id: &str) -> Option<&str> {
        self.staff_index
            .get(id)
            .map(|i| self.dir.staff[i as usize].display_name.as_str())
    }
    pub fn subject_name(&self, id: &str) -> Option<&str> {
        self.subject_index
            .get(id)
            .map(|i| self.dir.subjects[i as usize].display_name())
    }
    /// The flag of `rule` that an access is part of.
    pub fn flag_for(&self, row: &AccessRow, rule: Rule) -> Option<&Flag> {
        let e = &row.event;
        let i = match rule.kind() {
            crate::rules::RuleKind::Event => self.event_flags.get(&(rule, e.event_id.clone())),
            crate::rules::RuleKind::StaffDay => {
                let staff = Id::new(self.symbols.resolve(e.staff));
                let day = e
                    .occurred_at
                    .with_timezone(&self.policy.timezone)
                    .date_naive();
                self.staff_day_flags.get(&(rule, staff, day))
            }
            _ => None,
        }?;
        self.flags.get(*i as usize)
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
    Day {
        day: NaiveDate,
        rows: u64,
    },
    Done(std::sync::Arc<Dataset>),
    Failed(String),
    /// The load was stopped for a newer one; the screen keeps what it has.
    Cancelled,
}

/// The dashboard's consumer: keeps every access compactly with its rules,
/// the flags, the per-day figures, and the staff tally shared with
/// `report staff`.
struct DatasetSink<'r, R> {
    rows: AccessLog,
    flags: Vec<Flag>,
    days: Vec<(NaiveDate, u64, u64)>,
    staff: StaffTally,
    report: &'r R,
}

impl<'a, R: Fn(LoadEvent) + Sync> Sink<'a> for DatasetSink<'_, R> {
    fn day(&mut self, day: Day<'a, '_>) -> Result<bool, SinkError> {
        self.staff.begin_day(day.date);
        let mut flagged = 0;
        let n = day.judged.len() as u64;
        for j in day.judged {
            let mut mask = 0u32;
            for r in j.rules() {
                mask |= 1 << (r as u32);
            }
            if mask != 0 {
                flagged += 1;
            }
            let explained_by = j.verdict.explained_by.map(|r| r.index);
            let e = &j.event;
            self.staff.count(e.staff, e.subject, e.data_category);
            self.rows.push(e, mask, explained_by);
        }
        self.days.push((day.date, n, flagged));
        (self.report)(LoadEvent::Day {
            day: day.date,
            rows: self.rows.len() as u64,
        });
        self.flags.extend(day.flags);
        Ok(true)
    }

    fn finish(&mut self, end: Finish<'_, 'a>) -> Result<(), SinkError> {
        self.flags.extend(end.engine.legal_flags());
        self.staff.set_symbols(end.symbols);
        Ok(())
    }
}

/// What a load reads beside the source: its query files and the database
/// audit logs.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub queries: QuerySet,
    pub logs: Vec<crate::dblog::LogSpec>,
}

/// Loads the window from the source and judges it. `report` gets progress.
pub async fn load(
    mut src: Source,
    set: Inputs,
    policy: Policy,
    window: AuditWindow,
    now: Instant,
    stop: &AtomicBool,
    report: impl Fn(LoadEvent) + Sync,
) -> (Source, Result<Box<Dataset>, audit::AuditError>) {
    let r = load_inner(&mut src, &set, policy, window, now, stop, &report).await;
    (src, r)
}

/// `reading subjects.sql: 412,000 rows`, from a statement's label.
pub fn reading_line((label, rows): &(String, u64)) -> String {
    let file = label
        .split_whitespace()
        .next()
        .unwrap_or("")
        .rsplit('/')
        .next()
        .unwrap_or("");
    format!(
        "reading {}: {} rows",
        crate::sanitize::terminal(file),
        thousands(*rows)
    )
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let mut s = n.to_string();
    let mut k = s.len();
    while k > 3 {
        k -= 3;
        s.insert(k, ',');
    }
    s
}

async fn load_inner(
    src: &mut Source,
    inputs: &Inputs,
    policy: Policy,
    w: AuditWindow,
    now: Instant,
    stop: &AtomicBool,
    report: &(impl Fn(LoadEvent) + Sync),
) -> Result<Box<Dataset>, audit::AuditError> {
    let AuditWindow { from, to, as_of } = w;
    report(LoadEvent::Step(
        "reading staff, subjects and relationships".into(),
    ));
    let set = &inputs.queries;
    let (dir, db_logs) = audit::load_directory(src, set, &policy, &inputs.logs).await?;
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
    let mut sink = DatasetSink {
        rows: AccessLog::default(),
        flags: Vec::new(),
        days: Vec::new(),
        staff: StaffTally::default(),
        report,
    };
    {
        let mut engine = Engine::new(&policy, &dir, from, to, as_of);
        let plan = Plan {
            symbols: Symbols::Keep,
            stop: Some(stop),
            ..Plan::default()
        };
        audit::run(src, set, &mut engine, &plan, &mut sink).await?;
    }
    let DatasetSink {
        rows,
        mut flags,
        days,
        staff: tally,
        ..
    } = sink;
    crate::report::sort_flags(&mut flags);
    // Held for the whole session: no growth slack.
    flags.shrink_to_fit();
    let staff = tally.rank(&flags);
    let symbols = {
        let mut t = tally;
        std::mem::take(&mut t).into_symbols()
    };
    let references = {
        let mut seen = vec![false; symbols.len()];
        let mut v = Vec::new();
        for i in 0..rows.len() {
            if let Some(r) = rows.reference(i)
                && let Some(x) = seen.get_mut(r.0 as usize)
                && !*x
            {
                *x = true;
                v.push(r);
            }
        }
        v.sort_unstable_by(|a, b| symbols.resolve(*a).cmp(symbols.resolve(*b)));
        v
    };
    let distinct_subjects = {
        let mut seen = vec![false; symbols.len()];
        let mut n = 0;
        for s in rows.subject_column().flatten() {
            if let Some(x) = seen.get_mut(s.0 as usize)
                && !*x
            {
                *x = true;
                n += 1;
            }
        }
        n
    };
    let db_staff = {
        let mut v: Vec<crate::model::Sym> = rows.db_rows().map(|i| rows.staff(i)).collect();
        v.sort_unstable_by(|a, b| Id::new(symbols.resolve(*a)).cmp(&Id::new(symbols.resolve(*b))));
        v.dedup();
        v
    };
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
    let mut event_flags = rustc_hash::FxHashMap::default();
    let mut staff_day_flags = rustc_hash::FxHashMap::default();
    for (i, f) in flags.iter().enumerate() {
        match (f.rule.kind(), &f.staff_id, f.day) {
            (crate::rules::RuleKind::Event, _, _) => {
                if let Some(id) = f.event_ids.first() {
                    event_flags.entry((f.rule, id.clone())).or_insert(i as u32);
                }
            }
            (crate::rules::RuleKind::StaffDay, Some(staff), Some(day)) => {
                staff_day_flags
                    .entry((f.rule, staff.clone(), day))
                    .or_insert(i as u32);
            }
            _ => {}
        }
    }
    let staff_index = IdIndex::positions(dir.staff.iter().map(|s| s.staff_id.as_str()));
    let subject_index = IdIndex::positions(dir.subjects.iter().map(|s| s.subject_id.as_str()));
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
        db_logs,
        db_staff,
        staff_index,
        subject_index,
        event_flags,
        staff_day_flags,
        disclosure_order,
        distinct_subjects,
        references,
        header,
        policy,
        dir,
        symbols,
        rows,
        flags,
        days,
        staff,
    }))
}
