//! The need-to-know engine: every rule of CONTRACT section 5 as pure
//! functions from the model to flags. No I/O here: the caller feeds access
//! events one local day at a time and reads back verdicts and flags.

pub mod context;
pub mod legal;
mod staff_day;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::cmp::Ordering;

use chrono::{Datelike, NaiveDate, Timelike};

use crate::model::Directory;
use crate::model::{AccessEvent, Id, Instant, Interner, RelRef};
use crate::policy::Policy;
use crate::time::rfc3339;
pub use crate::vocab::{Rule, RuleKind, Severity, norm};
pub use context::Context;

/// One reported finding, with the keys of CONTRACT section 6.
#[derive(Debug, Clone, PartialEq)]
pub struct Flag {
    pub rule: Rule,
    pub severity: Severity,
    pub staff_id: Option<Id>,
    pub subject_id: Option<Id>,
    pub event_ids: Vec<Id>,
    pub day: Option<NaiveDate>,
    pub disclosure_id: Option<Id>,
    pub request_id: Option<Id>,
    pub occurred_at: Instant,
    pub staff_name: Option<String>,
    pub subject_name: Option<String>,
    pub detail: String,
    /// The flag's name for ever (CONTRACT section 6), given once the
    /// report's order is known ([`Flag::base_key`] plus `#2`, `#3`, … for a
    /// repeat); empty until then.
    pub key: String,
}

impl Flag {
    /// `RULE/e:EVENT_ID`, `RULE/s:STAFF_ID@DAY`, `RULE/d:DISCLOSURE_ID` or
    /// `RULE/r:REQUEST_ID`, by the rule's kind.
    pub fn base_key(&self) -> String {
        let id = |x: &Option<Id>| x.as_ref().map(Id::as_str).unwrap_or("").to_string();
        let rule = self.rule.name();
        match self.rule.kind() {
            RuleKind::Event => format!(
                "{rule}/e:{}",
                self.event_ids.first().map(Id::as_str).unwrap_or("")
            ),
            RuleKind::StaffDay => format!(
                "{rule}/s:{}@{}",
                id(&self.staff_id),
                self.day.map(|d| d.to_string()).unwrap_or_default()
            ),
            RuleKind::Disclosure => format!("{rule}/d:{}", id(&self.disclosure_id)),
            RuleKind::Request => format!("{rule}/r:{}", id(&self.request_id)),
        }
    }

    fn bare(rule: Rule, severity: Severity, occurred_at: Instant, detail: String) -> Flag {
        Flag {
            rule,
            severity,
            staff_id: None,
            subject_id: None,
            event_ids: Vec::new(),
            day: None,
            disclosure_id: None,
            request_id: None,
            occurred_at,
            staff_name: None,
            subject_name: None,
            detail,
            key: String::new(),
        }
    }
}

fn cmp_opt_id(a: &Option<Id>, b: &Option<Id>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.cmp(y),
    }
}

/// The order of CONTRACT section 6, up to the flag's JSON text (the caller
/// breaks remaining ties with it).
pub fn flag_order(a: &Flag, b: &Flag) -> Ordering {
    a.occurred_at
        .cmp(&b.occurred_at)
        .then(a.rule.cmp(&b.rule))
        .then_with(|| cmp_opt_id(&a.staff_id, &b.staff_id))
        .then_with(|| cmp_opt_id(&a.subject_id, &b.subject_id))
        .then_with(|| cmp_opt_id(&a.disclosure_id, &b.disclosure_id))
        .then_with(|| cmp_opt_id(&a.request_id, &b.request_id))
        .then_with(|| cmp_opt_id(&a.event_ids.first().cloned(), &b.event_ids.first().cloned()))
}

/// An access event with its interned values resolved.
#[derive(Debug, Clone, Copy)]
pub struct EventView<'e> {
    pub event_id: &'e Id,
    pub occurred_at: Instant,
    pub staff: &'e str,
    pub subject: Option<&'e str>,
    pub action: Option<&'e str>,
    pub category: Option<&'e str>,
    pub purpose: Option<&'e str>,
    pub reference: Option<&'e str>,
    pub record_count: i64,
    /// What a database audit log says of the event, when it came from one.
    pub db: Option<&'e str>,
}

impl<'e> EventView<'e> {
    pub fn new(ev: &'e AccessEvent, syms: &'e Interner) -> Self {
        let t = |s: Option<crate::model::Sym>| s.map(|s| syms.resolve(s));
        EventView {
            event_id: &ev.event_id,
            occurred_at: ev.occurred_at,
            staff: syms.resolve(ev.staff),
            subject: t(ev.subject),
            action: t(ev.action),
            category: t(ev.data_category),
            purpose: t(ev.purpose),
            reference: t(ev.reference),
            record_count: ev.record_count,
            db: t(ev.db),
        }
    }
}

/// What the per-event rules said about one access.
#[derive(Debug, Clone, Default)]
pub struct Verdict<'a> {
    /// Rules that fired (enabled ones only), in section 5 order, with details.
    pub fired: Vec<(Rule, String)>,
    pub explained_by: Option<RelRef<'a>>,
    /// The staff member's role (lower-cased), None for unknown staff.
    pub role: Option<&'a str>,
}

impl Verdict<'_> {
    /// The details of what fired, or why the access was allowed.
    pub fn why(&self) -> String {
        if self.fired.is_empty() {
            self.allowed_because()
        } else {
            self.fired
                .iter()
                .map(|(_, d)| d.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        }
    }

    /// Why an access nobody flagged was allowed, in words for a reviewer.
    pub fn allowed_because(&self) -> String {
        match (self.explained_by, self.role) {
            (Some(r), _) => format!("explained by {}", rel_text(&r)),
            (None, Some("")) => "permitted: no rule applies to staff without a role".into(),
            (None, Some(role)) => {
                format!("permitted for the {role} role; no relationship required")
            }
            (None, None) => "no rule fired".into(),
        }
    }
}

/// One judged access: the event, its verdict and the staff-day rules whose
/// flags include it.
#[derive(Debug, Clone)]
pub struct JudgedEvent<'a> {
    pub event: AccessEvent,
    pub verdict: Verdict<'a>,
    pub day_rules: Vec<Rule>,
}

impl JudgedEvent<'_> {
    /// Every rule that fired for this event, in section 5 order.
    pub fn rules(&self) -> Vec<Rule> {
        let mut r: Vec<Rule> = self
            .verdict
            .fired
            .iter()
            .map(|(r, _)| *r)
            .chain(self.day_rules.iter().copied())
            .collect();
        r.sort();
        r.dedup();
        r
    }
}

/// The engine over one report window: feed it days in order.
pub struct Engine<'a> {
    pub ctx: Context<'a>,
    pub from: Instant,
    pub to: Instant,
    history: HashMap<String, HashMap<NaiveDate, u32>>,
}

impl<'a> Engine<'a> {
    pub fn new(
        policy: &'a Policy,
        dir: &'a Directory,
        from: Instant,
        to: Instant,
        as_of: Instant,
    ) -> Self {
        Engine {
            ctx: Context::new(policy, dir, as_of),
            from,
            to,
            history: HashMap::default(),
        }
    }

    pub fn policy(&self) -> &Policy {
        self.ctx.policy
    }

    /// The local day of an instant in the policy zone.
    pub fn local_day(&self, t: Instant) -> NaiveDate {
        t.with_timezone(&self.ctx.policy.timezone).date_naive()
    }

    pub fn day_start(&self, d: NaiveDate) -> Instant {
        crate::time::local_day_start(d, self.ctx.policy.timezone)
    }

    /// The first local day whose figures `volume_spike` needs: 30 days before
    /// the window's first day.
    pub fn history_start(&self) -> NaiveDate {
        self.local_day(self.from) - chrono::Duration::days(30)
    }

    pub fn needs_history(&self) -> bool {
        self.ctx.policy.enabled(Rule::VolumeSpike)
    }

    /// Records a whole local day's distinct-subject counts per staff member
    /// (every event of the day, inside the window or not).
    pub fn record_history(&mut self, day: NaiveDate, events: &[AccessEvent], syms: &Interner) {
        for (staff, n) in day_counts(events, syms) {
            self.history.entry(staff).or_default().insert(day, n);
        }
    }

    /// Judges one local day. `events` are every event the source returned for
    /// that day; only those in `[from, to)` are judged, all of them count
    /// as history for later days.
    pub fn judge_day(
        &mut self,
        day: NaiveDate,
        mut events: Vec<AccessEvent>,
        syms: &Interner,
    ) -> (Vec<JudgedEvent<'a>>, Vec<Flag>) {
        let (from, to) = (self.from, self.to);
        // Counted now, recorded after the day is judged: a day is not its own history.
        let counts = self.needs_history().then(|| day_counts(&events, syms));
        events.retain(|e| e.occurred_at >= from && e.occurred_at < to);
        events.sort_by(|a, b| {
            a.occurred_at
                .cmp(&b.occurred_at)
                .then_with(|| a.event_id.cmp(&b.event_id))
        });
        let mut judged: Vec<JudgedEvent<'a>> = Vec::with_capacity(events.len());
        let mut flags = Vec::new();
        for ev in events {
            let view = EventView::new(&ev, syms);
            let verdict = self.ctx.judge_event(&view);
            for (rule, detail) in &verdict.fired {
                let mut f = Flag::bare(
                    *rule,
                    self.ctx.severity(*rule),
                    ev.occurred_at,
                    detail.clone(),
                );
                f.staff_id = Some(Id::new(view.staff));
                f.subject_id = view.subject.map(Id::new);
                f.event_ids = vec![ev.event_id.clone()];
                flags.push(f);
            }
            judged.push(JudgedEvent {
                event: ev,
                verdict,
                day_rules: Vec::new(),
            });
        }
        let history = std::mem::take(&mut self.history);
        let day_flags = staff_day::judge(self, day, &mut judged, syms, &history);
        self.history = history;
        for (staff, n) in counts.unwrap_or_default() {
            self.history.entry(staff).or_default().insert(day, n);
        }
        flags.extend(day_flags);
        (judged, flags)
    }

    /// Disclosure and request flags as of `as_of`, for rows in the window.
    pub fn legal_flags(&self) -> Vec<Flag> {
        let mut v = legal::disclosures(&self.ctx, self.from, self.to);
        v.extend(legal::requests(&self.ctx, self.from, self.to));
        v
    }
}

fn day_counts(events: &[AccessEvent], syms: &Interner) -> Vec<(String, u32)> {
    let mut per: HashMap<&str, HashSet<crate::model::Sym>> = HashMap::default();
    for ev in events {
        if let Some(s) = ev.subject {
            per.entry(syms.resolve(ev.staff)).or_default().insert(s);
        }
    }
    per.into_iter()
        .map(|(k, v)| (k.to_string(), v.len() as u32))
        .collect()
}

/// Judges events already in memory the way a report does from a source:
/// the 30 days before the window as history, then each day of the window.
/// For tests and small in-memory sets.
pub fn judge_events<'a>(
    engine: &mut Engine<'a>,
    events: Vec<AccessEvent>,
    syms: &Interner,
) -> (Vec<JudgedEvent<'a>>, Vec<Flag>) {
    let mut by_day: std::collections::BTreeMap<NaiveDate, Vec<AccessEvent>> =
        std::collections::BTreeMap::new();
    for e in events {
        by_day
            .entry(engine.local_day(e.occurred_at))
            .or_default()
            .push(e);
    }
    let (first, last) = (
        engine.local_day(engine.from),
        engine.local_day(engine.to - chrono::Duration::nanoseconds(1)),
    );
    let mut judged = Vec::new();
    let mut flags = Vec::new();
    if engine.needs_history() {
        for (d, evs) in by_day.range(engine.history_start()..first) {
            engine.record_history(*d, evs, syms);
        }
    }
    for (d, evs) in by_day.range(first..=last) {
        let (j, f) = engine.judge_day(*d, evs.clone(), syms);
        judged.extend(j);
        flags.extend(f);
    }
    flags.extend(engine.legal_flags());
    (judged, flags)
}

/// `HH:MM Ddd` of an instant in a zone, for details.
pub fn local_clock(t: Instant, tz: chrono_tz::Tz) -> String {
    let l = t.with_timezone(&tz);
    format!(
        "{:02}:{:02}:{:02} {} local",
        l.hour(),
        l.minute(),
        l.second(),
        l.weekday()
    )
}

pub fn list(set: &crate::policy::NameSet) -> String {
    if set.is_empty() {
        return "none".into();
    }
    let mut v: Vec<&str> = set.iter().map(String::as_str).collect();
    v.sort();
    v.join(", ")
}

pub(crate) fn days_between(a: Instant, b: Instant) -> String {
    let secs = (b - a).num_seconds();
    if secs.abs() < 60 {
        return format!("{secs} seconds");
    }
    let d = secs as f64 / 86_400.0;
    if d.abs() >= 1.0 {
        format!("{d:.1} days")
    } else {
        format!("{:.1} hours", secs as f64 / 3600.0)
    }
}

pub fn rel_text(r: &RelRef) -> String {
    let reference = r.reference.map(|x| format!(" {x}")).unwrap_or_default();
    let to = r
        .valid_to
        .map(rfc3339)
        .unwrap_or_else(|| "still open".into());
    format!(
        "{}{reference} from {} to {to}",
        norm(r.kind),
        rfc3339(r.valid_from)
    )
}

/// Why no relationship explains an access: the nearest one with the same
/// person that would have, as a reviewer first asks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Miss<'a> {
    /// The staff member's own relationship with the person, outside its time
    /// window (with the policy's lead and grace) by `by`.
    OutOfWindow {
        rel: RelRef<'a>,
        before: bool,
        by: chrono::Duration,
    },
    /// Someone else's relationship with the person covers the access's time.
    OtherStaff { rel: RelRef<'a> },
}

/// The nearest miss for an access by `staff` to `subject` at `at`: the
/// staff member's own relationship closest in time, else another staff
/// member's that covers the time (the latest begun). None: nobody has any
/// relationship with the person that time.
pub fn nearest_miss<'a>(
    rels: &'a crate::model::Relationships,
    staff: &str,
    subject: &str,
    at: Instant,
    lead: chrono::Duration,
    grace: chrono::Duration,
) -> Option<Miss<'a>> {
    let own = rels
        .of(staff, subject)
        .filter_map(|r| {
            let from = r.valid_from - lead;
            if at < from {
                return Some((from - at, true, r));
            }
            let to = r.valid_to? + grace;
            (at >= to).then(|| (at - to, false, r))
        })
        .min_by_key(|(by, _, _)| *by);
    if let Some((by, before, rel)) = own {
        return Some(Miss::OutOfWindow { rel, before, by });
    }
    rels.with_subject(subject)
        .filter(|r| {
            r.staff_id.as_str() != staff
                && r.valid_from - lead <= at
                && r.valid_to.is_none_or(|to| at < to + grace)
        })
        .max_by_key(|r| r.valid_from)
        .map(|rel| Miss::OtherStaff { rel })
}

/// `2 d 4 h`, `3 h 10 min`, `12 min`.
pub fn span_text(d: chrono::Duration) -> String {
    let m = d.num_minutes().max(0);
    let (days, hours, mins) = (m / 1440, (m / 60) % 24, m % 60);
    match (days, hours) {
        (0, 0) => format!("{mins} min"),
        (0, h) => format!("{h} h {mins} min"),
        (d, h) => format!("{d} d {h} h"),
    }
}

/// The miss in one line for the access log, the reason first (a small
/// pane shows the start of it).
pub fn miss_text(m: &Miss) -> String {
    match m {
        Miss::OutOfWindow { rel, before, by } => format!(
            "nearest: {} — this staff member's {}",
            if *before {
                format!("begins {} after the access", span_text(*by))
            } else {
                format!("ended {} before the access", span_text(*by))
            },
            rel_text(rel)
        ),
        Miss::OtherStaff { rel } => format!(
            "nearest: a different staff member on the case — staff {}'s {}",
            rel.staff_id.as_str(),
            rel_text(rel)
        ),
    }
}

#[cfg(test)]
mod miss_tests {
    use super::*;
    use crate::model::{Relationship, Relationships};

    fn t(s: &str) -> Instant {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().into()
    }

    fn rel(staff: &str, subject: &str, kind: &str, from: &str, to: Option<&str>) -> Relationship {
        Relationship {
            staff_id: Id::new(staff),
            subject_id: Id::new(subject),
            kind: kind.into(),
            reference: Some(format!("{kind}-1")),
            valid_from: t(from),
            valid_to: to.map(t),
        }
    }

    #[test]
    fn the_nearest_miss_is_the_staff_members_own_then_someone_elses() {
        let rels: Relationships = vec![
            rel(
                "7",
                "s1",
                "ticket",
                "2026-10-01T09:00:00Z",
                Some("2026-10-03T12:00:00Z"),
            ),
            rel("7", "s1", "order", "2026-10-20T08:00:00Z", None),
            rel(
                "9",
                "s1",
                "ticket",
                "2026-10-05T00:00:00Z",
                Some("2026-10-10T00:00:00Z"),
            ),
        ]
        .into();
        let zero = chrono::Duration::zero();
        let miss = |staff: &str, at: &str, grace: chrono::Duration| {
            nearest_miss(&rels, staff, "s1", t(at), zero, grace)
        };
        // Two days and two hours after staff 7's ticket closed: that ticket,
        // not the order that begins two weeks later.
        match miss("7", "2026-10-05T14:00:00Z", zero) {
            Some(Miss::OutOfWindow { rel, before, by }) => {
                assert_eq!(rel.kind, "ticket");
                assert!(!before);
                assert_eq!(span_text(by), "2 d 2 h");
            }
            other => panic!("{other:?}"),
        }
        // The instant the ticket closes is already outside it (t < valid_to).
        match miss("7", "2026-10-03T12:00:00Z", zero) {
            Some(Miss::OutOfWindow {
                by, before: false, ..
            }) => assert_eq!(span_text(by), "0 min"),
            other => panic!("{other:?}"),
        }
        // With an hour's grace it is one hour later that it ends.
        match miss("7", "2026-10-03T14:00:00Z", chrono::Duration::hours(1)) {
            Some(Miss::OutOfWindow { by, .. }) => assert_eq!(span_text(by), "1 h 0 min"),
            other => panic!("{other:?}"),
        }
        // Before the order begins: "before it began".
        match miss("7", "2026-10-19T20:00:00Z", zero) {
            Some(m @ Miss::OutOfWindow { before: true, .. }) => {
                assert!(
                    miss_text(&m).starts_with(
                        "nearest: begins 12 h 0 min after the access — this staff member's order"
                    ),
                    "{}",
                    miss_text(&m)
                );
            }
            other => panic!("{other:?}"),
        }
        // Staff 8 has nothing with s1; staff 9's ticket covers the time.
        match miss("8", "2026-10-06T10:00:00Z", zero) {
            Some(m @ Miss::OtherStaff { rel }) => {
                assert_eq!(rel.staff_id.as_str(), "9");
                assert!(
                    miss_text(&m).contains("a different staff member"),
                    "{}",
                    miss_text(&m)
                );
            }
            other => panic!("{other:?}"),
        }
        // Nobody's relationship covers this time, and 8 has none of its own.
        assert_eq!(miss("8", "2026-10-15T10:00:00Z", zero), None);
        assert_eq!(
            nearest_miss(&rels, "7", "nobody", t("2026-10-15T10:00:00Z"), zero, zero),
            None
        );
    }
}
