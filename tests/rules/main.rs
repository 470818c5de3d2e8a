//! Every rule of CONTRACT section 5 at its boundaries, on small fixtures
//! built in code. The engine is pure, so these run without a database.
//! One file per kind of rule, as in `src/rules`: per-event rules, staff-day
//! rules, and the legal (disclosure and request) rules; the order of flags
//! and the transparency counts stay here.

mod event;
mod legal;
mod staff_day;

use chrono::{DateTime, Utc};
use keyhole::model::*;
use keyhole::policy::Policy;
use keyhole::rules::{Engine, Flag, Rule, judge_events};
use keyhole::source::load::Directory;

pub const POLICY: &str = r#"
timezone = "America/Los_Angeles"
marketing_purposes = ["marketing"]
deletion_exempt_purposes = ["legal_hold"]
[working_hours]
start = "07:00"
end = "20:00"
days = ["mon", "tue", "wed", "thu", "fri"]
[roles.support]
categories = ["contact", "order_history"]
purposes = ["support_ticket"]
actions = ["view", "search"]
requires_relationship = true
[roles.analyst]
categories = ["payment", "contact"]
purposes = ["billing", "marketing", "legal_hold"]
"#;

pub fn t(s: &str) -> Instant {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub fn staff(id: &str, role: &str) -> Staff {
    Staff {
        staff_id: Id::new(id),
        display_name: format!("Staff {id}"),
        role: Some(role.into()),
        department: None,
        email: None,
        family_name: None,
        postal_address: None,
        db_user: None,
        hired_at: None,
        terminated_at: None,
    }
}

pub fn subject(id: &str) -> Subject {
    Subject::new(
        Id::new(id),
        SubjectText {
            display_name: &format!("Subject {id}"),
            ..Default::default()
        },
        false,
        None,
    )
}

pub fn rel(
    staff: &str,
    subject: &str,
    kind: &str,
    reference: Option<&str>,
    from: &str,
    to: Option<&str>,
) -> Relationship {
    Relationship {
        staff_id: Id::new(staff),
        subject_id: Id::new(subject),
        kind: kind.into(),
        reference: reference.map(Into::into),
        valid_from: t(from),
        valid_to: to.map(t),
    }
}

pub fn request(
    id: &str,
    subject: &str,
    kind: &str,
    received: &str,
    completed: Option<&str>,
    status: Option<&str>,
) -> SubjectRequest {
    SubjectRequest {
        request_id: Id::new(id),
        subject_id: Id::new(subject),
        kind: kind.into(),
        channel: Some("email".into()),
        received_at: t(received),
        completed_at: completed.map(t),
        status: status.map(Into::into),
    }
}

pub struct Fx {
    policy: Policy,
    dir: Directory,
    syms: Interner,
    events: Vec<AccessEvent>,
}

impl Fx {
    fn new() -> Fx {
        Fx::with_policy(POLICY)
    }
    fn with_policy(text: &str) -> Fx {
        let dir = Directory {
            staff: vec![
                staff("1", "support"),
                staff("2", "Analyst "),
                staff("3", "intern"),
            ],
            subjects: (100..110).map(|i| subject(&i.to_string())).collect(),
            relationships: Some(Relationships::default()),
            disclosures: Some(Vec::new()),
            disclosure_items: Some(Vec::new()),
            requests: Some(Vec::new()),
            db_events: Default::default(),
        };
        Fx {
            policy: Policy::parse("test policy", text).unwrap(),
            dir,
            syms: Interner::default(),
            events: Vec::new(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn event(
        &mut self,
        id: &str,
        at: &str,
        staff: &str,
        subject: Option<&str>,
        action: &str,
        category: &str,
        purpose: Option<&str>,
    ) -> &mut AccessEvent {
        let s = &mut self.syms;
        let ev = AccessEvent {
            event_id: Id::new(id),
            occurred_at: t(at),
            staff: s.intern(staff),
            subject: subject.map(|x| s.intern(x)),
            action: Some(s.intern(action)),
            data_category: Some(s.intern(category)),
            purpose: purpose.map(|p| s.intern(p)),
            reference: None,
            client_ip: None,
            record_count: 1,
            db: None,
        };
        self.events.push(ev);
        self.events.last_mut().unwrap()
    }

    /// A plain, permitted analyst access (no relationship needed) on a weekday at noon.
    fn ok_event(&mut self, id: &str, at: &str, subject: &str) -> &mut AccessEvent {
        self.event(
            id,
            at,
            "2",
            Some(subject),
            "view",
            "payment",
            Some("billing"),
        )
    }

    fn run_window(&self, from: &str, to: &str, as_of: &str) -> Vec<Flag> {
        let mut engine = Engine::new(&self.policy, &self.dir, t(from), t(to), t(as_of));
        let (_, flags) = judge_events(&mut engine, self.events.clone(), &self.syms);
        flags
    }

    fn run(&self) -> Vec<Flag> {
        self.run_window(
            "2026-01-01T00:00:00Z",
            "2027-01-01T00:00:00Z",
            "2026-12-31T00:00:00Z",
        )
    }
}

pub fn fired(flags: &[Flag], event: &str) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = flags
        .iter()
        .filter(|f| {
            f.event_ids.len() == 1
                && f.event_ids[0].as_str() == event
                && f.rule.kind() == keyhole::rules::RuleKind::Event
        })
        .map(|f| f.rule.name())
        .collect();
    v.sort();
    v
}

pub fn count(flags: &[Flag], rule: Rule) -> usize {
    flags.iter().filter(|f| f.rule == rule).count()
}

fn disclosure(id: &str, kind: &str, received: &str) -> Disclosure {
    Disclosure {
        disclosure_id: Id::new(id),
        kind: kind.into(),
        requester: "Court".into(),
        authority_ref: None,
        received_at: t(received),
        due_at: None,
        responded_at: None,
        status: "open".into(),
        approved_by: Some("GC".into()),
        nondisclosure_until: None,
        subjects_notified_at: None,
        requested_categories: Vec::new(),
        agreement_ref: None,
    }
}

fn item(d: &str, s: &str, cat: &str, at: Option<&str>) -> DisclosureItem {
    DisclosureItem {
        disclosure_id: Id::new(d),
        subject_id: Id::new(s),
        data_category: Some(cat.into()),
        disclosed_at: at.map(t),
    }
}

fn legal(fx: &Fx, as_of: &str) -> Vec<(String, &'static str)> {
    let mut v: Vec<_> = fx
        .run_window("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", as_of)
        .iter()
        .filter(|f| f.disclosure_id.is_some() || f.request_id.is_some())
        .map(|f| {
            (
                f.disclosure_id
                    .clone()
                    .or(f.request_id.clone())
                    .unwrap()
                    .to_string(),
                f.rule.name(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn flags_sort_by_time_then_rule_order_then_ids() {
    let mut fx = Fx::new();
    fx.event(
        "b",
        "2026-03-09T19:00:00Z",
        "3",
        Some("100"),
        "view",
        "contact",
        None,
    );
    fx.event(
        "a",
        "2026-03-09T19:00:00Z",
        "3",
        Some("99"),
        "view",
        "contact",
        None,
    );
    // An hour later, with the smallest ids: time comes before rule and ids.
    fx.event(
        "0",
        "2026-03-09T20:00:00Z",
        "1",
        Some("1"),
        "view",
        "contact",
        None,
    );
    let mut flags = fx.run();
    flags.reverse();
    keyhole::report::sort_flags(&mut flags);
    let got: Vec<_> = flags
        .iter()
        .map(|f| (f.rule.name(), f.subject_id.as_ref().unwrap().to_string()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("no_purpose", "99".into()),
            ("no_purpose", "100".into()),
            ("category_not_permitted", "99".into()),
            ("category_not_permitted", "100".into()),
            ("no_purpose", "1".into()),
            ("no_relationship", "1".into()),
        ]
    );
}

#[test]
fn the_transparency_report_counts_kinds_per_half_year_with_bands_for_national_security() {
    use keyhole::report::transparency::{Period, aggregate};
    let mut fx = Fx::new();
    let mut ds = Vec::new();
    let mut items = Vec::new();
    let mut add = |id: &str, kind: &str, at: &str, status: &str, subjects: &[&str]| {
        let mut d = disclosure(id, kind, at);
        d.status = status.into();
        ds.push(d);
        for s in subjects {
            items.push(item(id, s, "contact", Some(at)));
        }
    };
    add(
        "s1",
        "subpoena",
        "2026-02-01T12:00:00Z",
        "produced",
        &["A", "B"],
    );
    add(
        "s2",
        "subpoena",
        "2026-03-01T12:00:00Z",
        "partially_produced",
        &["B"],
    );
    add("s3", "subpoena", "2026-04-01T12:00:00Z", "rejected", &[]);
    add(
        "c1",
        "court_order",
        "2026-05-01T12:00:00Z",
        "withdrawn",
        &[],
    );
    add(
        "p1",
        "preservation_request",
        "2026-05-02T12:00:00Z",
        "open",
        &[],
    );
    add(
        "p2",
        "preservation_request",
        "2026-05-03T12:00:00Z",
        "open",
        &[],
    );
    add(
        "x1",
        "partner_share",
        "2026-05-04T12:00:00Z",
        "produced",
        &["Z"],
    );
    for k in 0..3 {
        add(
            &format!("n{k}"),
            "national_security",
            "2026-06-01T12:00:00Z",
            "produced",
            &["N"],
        );
    }
    add("s4", "subpoena", "2026-08-01T12:00:00Z", "produced", &["C"]);
    for k in 0..251 {
        add(
            &format!("m{k}"),
            "national_security",
            "2026-09-01T12:00:00Z",
            "open",
            &[],
        );
    }
    fx.dir.disclosures = Some(ds);
    fx.dir.disclosure_items = Some(items);
    let engine = Engine::new(
        &fx.policy,
        &fx.dir,
        t("2026-01-01T00:00:00Z"),
        t("2027-01-01T00:00:00Z"),
        t("2026-12-31T00:00:00Z"),
    );
    let rows = keyhole::rules::legal::disclosures_as_of(&engine.ctx);
    let lines = aggregate(
        &rows,
        fx.policy.timezone,
        Period::HalfYear,
        t("2026-01-01T00:00:00Z"),
        t("2027-01-01T00:00:00Z"),
    );
    type Published = (String, String, String, String, Option<f64>, Option<f64>);
    let got: Vec<Published> = lines
        .into_iter()
        .map(|l| {
            (
                l.period,
                l.kind,
                l.requests,
                l.accounts_specified,
                l.some_data_produced_pct,
                l.rejected_or_withdrawn_pct,
            )
        })
        .collect();
    let total = "total (excluding preservation and national security)".to_string();
    let row = |p: &str, k: &str, r: &str, a: &str, pr: Option<f64>, rw: Option<f64>| {
        (
            p.to_string(),
            k.to_string(),
            r.to_string(),
            a.to_string(),
            pr,
            rw,
        )
    };
    assert_eq!(
        got,
        vec![
            row("2026-H1", "subpoena", "3", "2", Some(66.7), Some(33.3)),
            row("2026-H1", "court_order", "1", "0", Some(0.0), Some(100.0)),
            row("2026-H1", &total, "4", "2", Some(50.0), Some(50.0)),
            row("2026-H1", "national_security", "0–249", "0–249", None, None),
            row(
                "2026-H1",
                "preservation_request",
                "2",
                "0",
                Some(0.0),
                Some(0.0)
            ),
            row("2026-H2", "subpoena", "1", "1", Some(100.0), Some(0.0)),
            row("2026-H2", &total, "1", "1", Some(100.0), Some(0.0)),
            row(
                "2026-H2",
                "national_security",
                "250–499",
                "0–249",
                None,
                None
            ),
        ]
    );
}
