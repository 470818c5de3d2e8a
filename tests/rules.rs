//! Every rule of CONTRACT section 5 at its boundaries, on small fixtures
//! built in code. The engine is pure, so these run without a database.

use chrono::{DateTime, Utc};
use keyhole::model::*;
use keyhole::policy::Policy;
use keyhole::rules::{Engine, Flag, Rule, judge_events};
use keyhole::source::load::Directory;

const POLICY: &str = r#"
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

fn t(s: &str) -> Instant {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn staff(id: &str, role: &str) -> Staff {
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

fn subject(id: &str) -> Subject {
    Subject {
        subject_id: Id::new(id),
        display_name: format!("Subject {id}"),
        email: None,
        phone: None,
        postal_address: None,
        family_name: None,
        jurisdiction: None,
        is_vip: false,
        staff_id: None,
    }
}

fn rel(
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

fn request(
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

struct Fx {
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
            relationships: Some(Vec::new()),
            disclosures: Some(Vec::new()),
            disclosure_items: Some(Vec::new()),
            requests: Some(Vec::new()),
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

fn fired(flags: &[Flag], event: &str) -> Vec<&'static str> {
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

fn count(flags: &[Flag], rule: Rule) -> usize {
    flags.iter().filter(|f| f.rule == rule).count()
}

// Mondays: 2026-03-09 (PDT, after the spring change on 03-08), 2026-03-02 (PST).

#[test]
fn a_permitted_access_in_hours_raises_nothing() {
    let mut fx = Fx::new();
    fx.ok_event("e1", "2026-03-09T19:00:00Z", "100");
    assert!(fx.run().is_empty(), "{:?}", fx.run());
}

#[test]
fn after_termination_fires_at_the_instant_and_not_a_second_before() {
    let mut fx = Fx::new();
    fx.dir.staff[1].terminated_at = Some(t("2026-03-09T19:00:00Z"));
    fx.ok_event("before", "2026-03-09T18:59:59Z", "100");
    fx.ok_event("at", "2026-03-09T19:00:00Z", "100");
    let flags = fx.run();
    assert_eq!(fired(&flags, "before"), Vec::<&str>::new());
    assert_eq!(fired(&flags, "at"), vec!["after_termination"]);
    let f = flags
        .iter()
        .find(|f| f.rule == Rule::AfterTermination)
        .unwrap();
    assert_eq!(f.severity.name(), "critical");
    assert!(
        f.detail.contains("terminated at 2026-03-09T19:00:00Z"),
        "{}",
        f.detail
    );
}

#[test]
fn after_termination_spares_a_rehire_from_the_rehire_date() {
    let mut fx = Fx::new();
    fx.dir.staff[1].terminated_at = Some(t("2026-03-02T19:00:00Z"));
    fx.dir.staff[1].hired_at = Some(t("2026-03-09T16:00:00Z"));
    fx.ok_event("gap", "2026-03-05T19:00:00Z", "100");
    fx.ok_event("back", "2026-03-09T19:00:00Z", "100");
    let flags = fx.run();
    assert_eq!(fired(&flags, "gap"), vec!["after_termination"]);
    assert_eq!(fired(&flags, "back"), Vec::<&str>::new());
}

#[test]
fn working_hours_are_start_inclusive_and_end_exclusive_in_local_time_across_dst() {
    let mut fx = Fx::new();
    // Monday 2026-03-09 is PDT (UTC-7): 07:00 local is 14:00Z, 20:00 local is 03:00Z next day.
    fx.ok_event("pdt_0659", "2026-03-09T13:59:59Z", "100");
    fx.ok_event("pdt_0700", "2026-03-09T14:00:00Z", "100");
    fx.ok_event("pdt_1959", "2026-03-10T02:59:59Z", "100");
    fx.ok_event("pdt_2000", "2026-03-10T03:00:00Z", "100");
    // Monday 2026-03-02 is PST (UTC-8): 07:00 local is 15:00Z.
    fx.ok_event("pst_0659", "2026-03-02T14:59:59Z", "100");
    fx.ok_event("pst_0700", "2026-03-02T15:00:00Z", "100");
    // Saturday: not a working day.
    fx.ok_event("sat_noon", "2026-03-07T20:00:00Z", "100");
    let flags = fx.run();
    for (e, off) in [
        ("pdt_0659", true),
        ("pdt_0700", false),
        ("pdt_1959", false),
        ("pdt_2000", true),
        ("pst_0659", true),
        ("pst_0700", false),
        ("sat_noon", true),
    ] {
        assert_eq!(
            fired(&flags, e) == vec!["off_hours"],
            off,
            "{e}: {:?}",
            fired(&flags, e)
        );
    }
}

#[test]
fn a_role_with_its_own_hours_uses_them_and_a_wrapping_range_is_judged_on_its_own_weekday() {
    let text = format!(
        "{POLICY}working_hours = {{ start = \"22:00\", end = \"06:00\", days = [\"mon\"] }}\n"
    );
    let mut fx = Fx::with_policy(&text);
    // Analyst hours: Monday 22:00 to Monday 06:00 (both ends on Monday itself).
    fx.ok_event("mon_2300", "2026-03-10T06:00:00Z", "100"); // Mon 23:00 PDT
    fx.ok_event("mon_0500", "2026-03-09T12:00:00Z", "100"); // Mon 05:00 PDT
    fx.ok_event("tue_0100", "2026-03-10T08:00:00Z", "100"); // Tue 01:00 PDT: Tuesday is not listed
    fx.ok_event("mon_noon", "2026-03-09T19:00:00Z", "100");
    let flags = fx.run();
    assert_eq!(fired(&flags, "mon_2300"), Vec::<&str>::new());
    assert_eq!(fired(&flags, "mon_0500"), Vec::<&str>::new());
    assert_eq!(fired(&flags, "tue_0100"), vec!["off_hours"]);
    assert_eq!(fired(&flags, "mon_noon"), vec!["off_hours"]);
}

#[test]
fn without_any_working_hours_off_hours_is_not_evaluated() {
    let mut fx =
        Fx::with_policy("[roles.analyst]\ncategories = [\"payment\"]\npurposes = [\"billing\"]\n");
    fx.ok_event("sunday_3am", "2026-03-08T11:00:00Z", "100");
    assert!(fx.run().is_empty());
}

#[test]
fn a_relationship_explains_from_valid_from_inclusive_to_valid_to_exclusive() {
    let mut fx = Fx::new();
    fx.dir.relationships = Some(vec![rel(
        "1",
        "100",
        "ticket",
        Some("T-1"),
        "2026-03-09T16:00:00Z",
        Some("2026-03-09T18:00:00Z"),
    )]);
    for (id, at) in [
        ("early", "2026-03-09T15:59:59Z"),
        ("from", "2026-03-09T16:00:00Z"),
        ("last", "2026-03-09T17:59:59Z"),
        ("to", "2026-03-09T18:00:00Z"),
    ] {
        fx.event(
            id,
            at,
            "1",
            Some("100"),
            "view",
            "contact",
            Some("support_ticket"),
        );
    }
    let flags = fx.run();
    assert_eq!(fired(&flags, "early"), vec!["no_relationship"]);
    assert_eq!(fired(&flags, "from"), Vec::<&str>::new());
    assert_eq!(fired(&flags, "last"), Vec::<&str>::new());
    assert_eq!(fired(&flags, "to"), vec!["no_relationship"]);
    let d = &flags
        .iter()
        .find(|f| f.event_ids[0].as_str() == "to")
        .unwrap()
        .detail;
    assert!(
        d.contains("last ticket T-1 closed 2026-03-09T18:00:00Z"),
        "{d}"
    );
}

#[test]
fn lead_and_grace_minutes_widen_a_relationship() {
    let text = format!(
        "{POLICY}[thresholds]\nrelationship_lead_minutes = 10\nrelationship_grace_minutes = 5\n"
    );
    let mut fx = Fx::with_policy(&text);
    fx.dir.relationships = Some(vec![rel(
        "1",
        "100",
        "ticket",
        None,
        "2026-03-09T16:00:00Z",
        Some("2026-03-09T18:00:00Z"),
    )]);
    for (id, at) in [
        ("lead_edge", "2026-03-09T15:50:00Z"),
        ("before_lead", "2026-03-09T15:49:59Z"),
        ("grace_last", "2026-03-09T18:04:59Z"),
        ("grace_end", "2026-03-09T18:05:00Z"),
    ] {
        fx.event(
            id,
            at,
            "1",
            Some("100"),
            "view",
            "contact",
            Some("support_ticket"),
        );
    }
    let flags = fx.run();
    assert_eq!(fired(&flags, "lead_edge"), Vec::<&str>::new());
    assert_eq!(fired(&flags, "before_lead"), vec!["no_relationship"]);
    assert_eq!(fired(&flags, "grace_last"), Vec::<&str>::new());
    assert_eq!(fired(&flags, "grace_end"), vec!["no_relationship"]);
}

#[test]
fn the_explaining_relationship_is_the_latest_then_open_ended_then_smallest_kind_and_reference() {
    let mut fx = Fx::new();
    fx.dir.relationships = Some(vec![
        rel(
            "1",
            "100",
            "ticket",
            Some("OLD"),
            "2026-03-01T00:00:00Z",
            None,
        ),
        rel(
            "1",
            "100",
            "order",
            Some("B"),
            "2026-03-09T00:00:00Z",
            Some("2026-03-10T00:00:00Z"),
        ),
        rel(
            "1",
            "100",
            "order",
            Some("A"),
            "2026-03-09T00:00:00Z",
            Some("2026-03-10T00:00:00Z"),
        ),
        rel(
            "1",
            "100",
            "Account",
            None,
            "2026-03-09T00:00:00Z",
            Some("2026-03-10T00:00:00Z"),
        ),
        rel("1", "100", "ticket", None, "2026-03-09T00:00:00Z", None),
    ]);
    let mut engine = Engine::new(
        &fx.policy,
        &fx.dir,
        t("2026-01-01T00:00:00Z"),
        t("2027-01-01T00:00:00Z"),
        t("2026-12-01T00:00:00Z"),
    );
    let r = engine
        .ctx
        .explaining("1", "100", t("2026-03-09T12:00:00Z"))
        .unwrap();
    assert_eq!(
        (r.kind.as_str(), r.reference.as_deref()),
        ("ticket", None),
        "open-ended wins among the latest"
    );
    fx.dir.relationships.as_mut().unwrap().pop();
    engine = Engine::new(
        &fx.policy,
        &fx.dir,
        t("2026-01-01T00:00:00Z"),
        t("2027-01-01T00:00:00Z"),
        t("2026-12-01T00:00:00Z"),
    );
    let r = engine
        .ctx
        .explaining("1", "100", t("2026-03-09T12:00:00Z"))
        .unwrap();
    assert_eq!(
        (r.kind.as_str(), r.reference.as_deref()),
        ("Account", None),
        "smallest lower-cased kind"
    );
    fx.dir.relationships.as_mut().unwrap().pop();
    engine = Engine::new(
        &fx.policy,
        &fx.dir,
        t("2026-01-01T00:00:00Z"),
        t("2027-01-01T00:00:00Z"),
        t("2026-12-01T00:00:00Z"),
    );
    let r = engine
        .ctx
        .explaining("1", "100", t("2026-03-09T12:00:00Z"))
        .unwrap();
    assert_eq!(r.reference.as_deref(), Some("A"), "smallest reference");
}

#[test]
fn purposes_roles_categories_and_actions_compare_trimmed_and_case_insensitively() {
    let mut fx = Fx::new();
    // Staff 2's role is "Analyst " in the source.
    fx.event(
        "e",
        "2026-03-09T19:00:00Z",
        "2",
        Some("100"),
        " VIEW ",
        " Payment",
        Some("  BILLING "),
    );
    assert!(fx.run().is_empty(), "{:?}", fx.run());
}

#[test]
fn purpose_category_and_action_rules_fire_on_their_own() {
    let mut fx = Fx::new();
    fx.dir.relationships = Some(vec![rel(
        "1",
        "100",
        "ticket",
        None,
        "2026-03-01T00:00:00Z",
        None,
    )]);
    fx.event(
        "nopurpose",
        "2026-03-09T19:00:00Z",
        "1",
        Some("100"),
        "view",
        "contact",
        None,
    );
    fx.event(
        "blankpurpose",
        "2026-03-09T19:00:01Z",
        "1",
        Some("100"),
        "view",
        "contact",
        Some("  "),
    );
    fx.event(
        "purpose",
        "2026-03-09T19:00:02Z",
        "1",
        Some("100"),
        "view",
        "contact",
        Some("curiosity"),
    );
    fx.event(
        "category",
        "2026-03-09T19:00:03Z",
        "1",
        Some("100"),
        "view",
        "payment",
        Some("support_ticket"),
    );
    fx.event(
        "action",
        "2026-03-09T19:00:04Z",
        "1",
        Some("100"),
        "export",
        "contact",
        Some("support_ticket"),
    );
    let flags = fx.run();
    assert_eq!(fired(&flags, "nopurpose"), vec!["no_purpose"]);
    assert_eq!(fired(&flags, "purpose"), vec!["purpose_not_permitted"]);
    assert_eq!(fired(&flags, "category"), vec!["category_not_permitted"]);
    assert_eq!(fired(&flags, "action"), vec!["action_not_permitted"]);
    // A purpose that is empty after trimming counts as absent.
    assert_eq!(fired(&flags, "blankpurpose"), vec!["no_purpose"]);
}

#[test]
fn a_role_the_policy_does_not_name_is_denied_by_default_but_has_no_action_list_or_relationship_rule()
 {
    let mut fx = Fx::new();
    fx.event(
        "e",
        "2026-03-09T19:00:00Z",
        "3",
        Some("100"),
        "launch",
        "contact",
        Some("training"),
    );
    assert_eq!(
        fired(&fx.run(), "e"),
        vec!["category_not_permitted", "purpose_not_permitted"]
    );
}

#[test]
fn unknown_staff_gets_one_flag_per_day_and_none_of_the_role_rules() {
    let mut fx = Fx::new();
    fx.event(
        "u1",
        "2026-03-09T19:00:00Z",
        "999",
        Some("100"),
        "view",
        "payment",
        Some("curiosity"),
    );
    fx.event(
        "u2",
        "2026-03-09T20:00:00Z",
        "999",
        None,
        "export",
        "payment",
        Some("curiosity"),
    );
    fx.event(
        "u3",
        "2026-03-10T19:00:00Z",
        "999",
        Some("101"),
        "view",
        "payment",
        None,
    );
    let flags = fx.run();
    assert_eq!(fired(&flags, "u1"), Vec::<&str>::new());
    assert_eq!(fired(&flags, "u3"), vec!["no_purpose"]);
    let days: Vec<_> = flags
        .iter()
        .filter(|f| f.rule == Rule::UnknownStaff)
        .collect();
    assert_eq!(days.len(), 2);
    assert_eq!(days[0].day.unwrap().to_string(), "2026-03-09");
    assert_eq!(
        days[0]
            .event_ids
            .iter()
            .map(|i| i.as_str())
            .collect::<Vec<_>>(),
        vec!["u1", "u2"],
        "all that day's events, NULL subjects too"
    );
    assert_eq!(days[0].occurred_at, t("2026-03-09T19:00:00Z"));
}

#[test]
fn a_null_subject_is_judged_only_by_its_rules_and_counts_toward_no_distinct_figure() {
    let text = format!("{POLICY}[thresholds]\nbulk_daily_subjects = 0\nbulk_export_records = 10\n");
    let mut fx = Fx::with_policy(&text);
    fx.dir.subjects[0].is_vip = true;
    fx.event(
        "seg",
        "2026-03-09T19:00:00Z",
        "2",
        None,
        "export",
        "contact",
        Some("marketing"),
    )
    .record_count = 11;
    let flags = fx.run();
    assert_eq!(fired(&flags, "seg"), vec!["bulk_export"]);
    assert_eq!(
        count(&flags, Rule::BulkAccess),
        0,
        "no subject, no distinct subject"
    );
}

#[test]
fn bulk_thresholds_fire_only_above_the_threshold() {
    let text = format!(
        "{POLICY}[thresholds]\nbulk_daily_subjects = 3\nbulk_daily_records = 10\nbulk_export_records = 5\n"
    );
    let mut fx = Fx::with_policy(&text);
    // Day one: exactly 3 subjects and 10 records; exports of exactly 5.
    for (i, s) in ["100", "101", "102"].iter().enumerate() {
        fx.event(
            &format!("a{i}"),
            &format!("2026-03-09T19:0{i}:00Z"),
            "2",
            Some(s),
            "export",
            "contact",
            Some("billing"),
        )
        .record_count = 5;
    }
    fx.event(
        "a3",
        "2026-03-09T19:05:00Z",
        "2",
        None,
        "view",
        "contact",
        Some("billing"),
    )
    .record_count = -5;
    // Day two: 4 subjects, 11 records, one export of 6.
    for (i, s) in ["100", "101", "102", "103"].iter().enumerate() {
        fx.event(
            &format!("b{i}"),
            &format!("2026-03-10T19:0{i}:00Z"),
            "2",
            Some(s),
            "view",
            "contact",
            Some("billing"),
        )
        .record_count = 2;
    }
    fx.event(
        "b4",
        "2026-03-10T19:05:00Z",
        "2",
        None,
        "export",
        "contact",
        Some("billing"),
    )
    .record_count = 3;
    fx.event(
        "b5",
        "2026-03-10T19:06:00Z",
        "2",
        Some("100"),
        "export",
        "contact",
        Some("billing"),
    )
    .record_count = 6;
    let flags = fx.run();
    assert_eq!(count(&flags, Rule::BulkExport), 1);
    assert_eq!(fired(&flags, "b5"), vec!["bulk_export"]);
    let access: Vec<_> = flags
        .iter()
        .filter(|f| f.rule == Rule::BulkAccess)
        .collect();
    assert_eq!(access.len(), 1);
    assert_eq!(access[0].day.unwrap().to_string(), "2026-03-10");
    assert_eq!(
        access[0].event_ids.len(),
        5,
        "that day's events with a subject"
    );
    let records: Vec<_> = flags
        .iter()
        .filter(|f| f.rule == Rule::BulkRecords)
        .collect();
    assert_eq!(records.len(), 1, "10 records is not above 10; 17 is");
    assert_eq!(records[0].event_ids.len(), 6, "all that day's events");
}

fn spike_fixture(history: &[(u32, usize)], today: usize) -> Fx {
    let text = format!(
        "{POLICY}[thresholds]\nvolume_spike_min = 4\nvolume_spike_factor = 2.0\nbulk_daily_subjects = 1000\n"
    );
    let mut fx = Fx::with_policy(&text);
    fx.dir.subjects = (0..100).map(|i| subject(&format!("s{i}"))).collect();
    // history: (days before 2026-04-30, distinct subjects that day)
    let base = chrono::NaiveDate::from_ymd_opt(2026, 4, 30).unwrap();
    for (back, n) in history {
        let day = base - chrono::Duration::days(i64::from(*back));
        for k in 0..*n {
            fx.ok_event(
                &format!("h{back}_{k}"),
                &format!("{day}T19:00:{k:02}Z"),
                &format!("s{k}"),
            );
        }
    }
    for k in 0..today {
        fx.ok_event(
            &format!("today{k}"),
            &format!("2026-04-30T19:00:{k:02}Z"),
            &format!("s{k}"),
        );
    }
    fx
}

fn spikes(fx: &Fx) -> usize {
    // The window is the day itself; history comes from the 30 days before.
    count(
        &fx.run_window(
            "2026-04-30T07:00:00Z",
            "2026-05-01T07:00:00Z",
            "2026-05-01T07:00:00Z",
        ),
        Rule::VolumeSpike,
    )
}

#[test]
fn volume_spike_uses_the_median_of_thirty_days_with_empty_days_as_zero() {
    // 16 days with 2 subjects, 14 empty: sorted, the 15th and 16th values are 2 and 2.
    let hist: Vec<(u32, usize)> = (1..=16).map(|d| (d, 2)).collect();
    assert_eq!(spikes(&spike_fixture(&hist, 5)), 1, "5 > 4 and 5 > 2 × 2");
    assert_eq!(
        spikes(&spike_fixture(&hist, 4)),
        0,
        "4 is not above the minimum 4"
    );
    // 15 days with 3 subjects: values 15 zeros then 3s, median (0 + 3) / 2 = 1.5, so 2 × 1.5 = 3.
    let hist: Vec<(u32, usize)> = (1..=15).map(|d| (d, 3)).collect();
    assert_eq!(spikes(&spike_fixture(&hist, 5)), 1);
    let hist: Vec<(u32, usize)> = (1..=30).map(|d| (d, 3)).collect();
    assert_eq!(spikes(&spike_fixture(&hist, 6)), 0, "6 is not above 2 × 3");
    assert_eq!(spikes(&spike_fixture(&hist, 7)), 1);
}

#[test]
fn volume_spike_is_not_evaluated_when_all_thirty_days_are_zero_or_the_hire_is_recent() {
    assert_eq!(
        spikes(&spike_fixture(&[(31, 3)], 9)),
        0,
        "a day 31 days back is outside the 30"
    );
    let hist: Vec<(u32, usize)> = (1..=30).map(|d| (d, 1)).collect();
    let mut fx = spike_fixture(&hist, 9);
    // The first of the 30 days is 2026-03-31, which starts 07:00Z in Los Angeles.
    fx.dir.staff[1].hired_at = Some(t("2026-03-31T07:00:01Z"));
    assert_eq!(spikes(&fx), 0);
    fx.dir.staff[1].hired_at = Some(t("2026-03-31T07:00:00Z"));
    assert_eq!(spikes(&fx), 1);
}

#[test]
fn self_coworker_and_vip_access() {
    let mut fx = Fx::new();
    fx.dir.subjects[0].staff_id = Some(Id::new("2"));
    fx.dir.subjects[1].staff_id = Some(Id::new("1"));
    fx.dir.subjects[2].is_vip = true;
    fx.dir.relationships = Some(vec![rel(
        "2",
        "102",
        "account_manager",
        None,
        "2026-03-01T00:00:00Z",
        None,
    )]);
    fx.ok_event("self", "2026-03-09T19:00:00Z", "100");
    fx.ok_event("coworker", "2026-03-09T19:00:01Z", "101");
    fx.ok_event("vip_explained", "2026-03-09T19:00:02Z", "102");
    fx.event(
        "vip",
        "2026-03-09T19:00:03Z",
        "1",
        Some("102"),
        "view",
        "contact",
        Some("support_ticket"),
    );
    let flags = fx.run();
    assert_eq!(fired(&flags, "self"), vec!["self_access"]);
    assert_eq!(fired(&flags, "coworker"), vec!["coworker_access"]);
    assert_eq!(fired(&flags, "vip_explained"), Vec::<&str>::new());
    assert_eq!(fired(&flags, "vip"), vec!["no_relationship", "vip_access"]);
}

#[test]
fn family_access_by_address_on_letters_and_digits_and_by_a_rare_family_name() {
    let text = format!("{POLICY}[thresholds]\nfamily_name_max_subjects = 2\n");
    let mut fx = Fx::with_policy(&text);
    fx.dir.staff[1].postal_address = Some("12 Harbor Lane, Apt. 3B".into());
    fx.dir.staff[1].family_name = Some(" Okafor ".into());
    fx.dir.subjects[0].postal_address = Some("12 HARBOR LANE APT 3B".into());
    fx.dir.subjects[1].family_name = Some("okafor".into());
    fx.dir.subjects[2].family_name = Some("OKAFOR".into());
    fx.dir.subjects[3].postal_address = Some("12 Harbor Lane Apt 3".into());
    fx.ok_event("address", "2026-03-09T19:00:00Z", "100");
    fx.ok_event("name", "2026-03-09T19:00:01Z", "101");
    fx.ok_event("other", "2026-03-09T19:00:02Z", "103");
    let flags = fx.run();
    assert_eq!(fired(&flags, "address"), vec!["family_access"]);
    assert_eq!(
        fired(&flags, "name"),
        vec!["family_access"],
        "2 subjects share the name: not above 2"
    );
    assert_eq!(fired(&flags, "other"), Vec::<&str>::new());
    assert!(
        !flags
            .iter()
            .any(|f| f.detail.to_lowercase().contains("okafor") || f.detail.contains("Harbor")),
        "no personal values in details"
    );
    // A third namesake makes the name too common to suggest family.
    fx.dir.subjects[4].family_name = Some("Okafor".into());
    assert_eq!(fired(&fx.run(), "name"), Vec::<&str>::new());
}

#[test]
fn opt_out_and_deletion_by_completion_or_grace_and_not_when_denied_or_after_as_of() {
    let mut fx = Fx::new();
    fx.dir.requests = Some(vec![
        request(
            "R1",
            "100",
            "opt_out",
            "2026-03-02T00:00:00Z",
            Some("2026-03-03T00:00:00Z"),
            Some("completed"),
        ),
        request("R2", "101", "opt_out", "2026-03-01T00:00:00Z", None, None),
        request(
            "R3",
            "102",
            "deletion",
            "2026-03-01T00:00:00Z",
            None,
            Some("denied"),
        ),
        request(
            "R4",
            "103",
            "Deletion ",
            "2026-03-01T00:00:00Z",
            Some("2026-03-05T00:00:00Z"),
            Some("withdrawn"),
        ),
        request("R5", "104", "deletion", "2026-02-01T00:00:00Z", None, None),
        request(
            "R6",
            "105",
            "deletion",
            "2026-03-09T00:00:00Z",
            Some("2026-03-09T10:00:00Z"),
            None,
        ),
    ]);
    let m = |fx: &mut Fx, id: &str, at: &str, s: &str, purpose: &str| {
        fx.event(id, at, "2", Some(s), "view", "contact", Some(purpose));
    };
    m(
        &mut fx,
        "opt_done",
        "2026-03-03T20:00:01Z",
        "100",
        "marketing",
    );
    m(
        &mut fx,
        "opt_before_done",
        "2026-03-02T20:00:00Z",
        "100",
        "marketing",
    );
    m(
        &mut fx,
        "opt_billing",
        "2026-03-09T20:00:00Z",
        "100",
        "billing",
    );
    m(
        &mut fx,
        "opt_grace_edge",
        "2026-03-11T00:00:00Z",
        "101",
        "marketing",
    );
    m(
        &mut fx,
        "opt_grace_past",
        "2026-03-11T00:00:01Z",
        "101",
        "marketing",
    );
    m(&mut fx, "denied", "2026-03-09T20:00:00Z", "102", "billing");
    m(
        &mut fx,
        "withdrawn",
        "2026-03-09T20:00:00Z",
        "103",
        "billing",
    );
    m(
        &mut fx,
        "del_grace",
        "2026-03-09T20:00:00Z",
        "104",
        "billing",
    );
    m(
        &mut fx,
        "del_exempt",
        "2026-03-09T20:00:00Z",
        "104",
        "legal_hold",
    );
    m(
        &mut fx,
        "del_done",
        "2026-03-09T20:00:00Z",
        "105",
        "billing",
    );
    let flags = fx.run();
    assert_eq!(fired(&flags, "opt_done"), vec!["opt_out_ignored"]);
    assert_eq!(fired(&flags, "opt_before_done"), Vec::<&str>::new());
    assert_eq!(fired(&flags, "opt_billing"), Vec::<&str>::new());
    assert_eq!(
        fired(&flags, "opt_grace_edge"),
        Vec::<&str>::new(),
        "10 days exactly is not past the grace"
    );
    assert_eq!(fired(&flags, "opt_grace_past"), vec!["opt_out_ignored"]);
    assert_eq!(fired(&flags, "denied"), Vec::<&str>::new());
    assert_eq!(fired(&flags, "withdrawn"), Vec::<&str>::new());
    assert_eq!(fired(&flags, "del_grace"), vec!["access_after_deletion"]);
    assert_eq!(fired(&flags, "del_exempt"), Vec::<&str>::new());
    assert_eq!(fired(&flags, "del_done"), vec!["access_after_deletion"]);
    // Judged as of a time before the completion, the completion had not happened.
    let early = fx.run_window(
        "2026-03-01T00:00:00Z",
        "2026-03-20T00:00:00Z",
        "2026-03-09T09:00:00Z",
    );
    assert_eq!(fired(&early, "del_done"), Vec::<&str>::new());
    // And a request received after as_of is ignored altogether.
    let before = fx.run_window(
        "2026-03-01T00:00:00Z",
        "2026-03-20T00:00:00Z",
        "2026-03-08T00:00:00Z",
    );
    assert_eq!(fired(&before, "del_done"), Vec::<&str>::new());
}

#[test]
fn without_relationships_no_relationship_is_off_and_every_access_is_unexplained() {
    let mut fx = Fx::new();
    fx.dir.relationships = None;
    fx.dir.subjects[0].is_vip = true;
    fx.event(
        "e",
        "2026-03-09T19:00:00Z",
        "1",
        Some("100"),
        "view",
        "contact",
        Some("support_ticket"),
    );
    assert_eq!(fired(&fx.run(), "e"), vec!["vip_access"]);
}

#[test]
fn severity_overrides_and_off() {
    let text = format!("{POLICY}[severity]\nvip_access = \"off\"\nno_purpose = \"critical\"\n");
    let mut fx = Fx::with_policy(&text);
    fx.dir.subjects[0].is_vip = true;
    fx.event(
        "e",
        "2026-03-09T19:00:00Z",
        "2",
        Some("100"),
        "view",
        "payment",
        None,
    );
    let flags = fx.run();
    assert_eq!(fired(&flags, "e"), vec!["no_purpose"]);
    assert_eq!(flags[0].severity.name(), "critical");
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
fn disclosure_overdue_compares_due_at_with_as_of_and_with_the_response() {
    let mut fx = Fx::new();
    let mut d1 = disclosure("1", "subpoena", "2026-03-01T00:00:00Z");
    d1.due_at = Some(t("2026-03-10T00:00:00Z"));
    let mut d2 = d1.clone();
    d2.disclosure_id = Id::new("2");
    d2.responded_at = Some(t("2026-03-10T00:00:01Z"));
    d2.status = "produced".into();
    let mut d3 = d1.clone();
    d3.disclosure_id = Id::new("3");
    d3.status = "withdrawn".into();
    fx.dir.disclosures = Some(vec![d1, d2, d3]);
    // At the due instant nothing is overdue yet, and d2's later answer has not happened.
    assert_eq!(legal(&fx, "2026-03-10T00:00:00Z"), vec![]);
    // One second on: d1 is past due unanswered, d2 was answered one second late; d3 was withdrawn.
    assert_eq!(
        legal(&fx, "2026-03-10T00:00:01Z"),
        vec![
            ("1".into(), "disclosure_overdue"),
            ("2".into(), "disclosure_overdue")
        ]
    );
}

#[test]
fn unapproved_out_of_scope_and_partner_share_need_data_to_have_gone_out() {
    let mut fx = Fx::new();
    let mut a = disclosure("1", "court_order", "2026-03-01T00:00:00Z");
    a.approved_by = None;
    let mut b = disclosure("2", "search_warrant", "2026-03-01T00:00:00Z");
    b.requested_categories = vec!["contact".into()];
    b.status = "produced".into();
    let mut c = disclosure("3", "partner_share", "2026-03-01T00:00:00Z");
    c.status = "partially_produced".into();
    let mut d = disclosure("4", "partner_share", "2026-03-01T00:00:00Z");
    d.status = "rejected".into();
    fx.dir.disclosures = Some(vec![a, b, c, d]);
    fx.dir.disclosure_items = Some(vec![
        item("2", "100", "Contact", Some("2026-03-02T00:00:00Z")),
        item("2", "100", "payment", Some("2026-03-02T00:00:00Z")),
    ]);
    assert_eq!(
        legal(&fx, "2026-03-20T00:00:00Z"),
        vec![
            ("2".into(), "disclosure_out_of_scope"),
            ("3".into(), "share_without_agreement")
        ],
        "1 sent nothing yet; 4 was rejected"
    );
    fx.dir.disclosure_items.as_mut().unwrap().push(item(
        "1",
        "101",
        "contact",
        Some("2026-03-05T00:00:00Z"),
    ));
    assert!(legal(&fx, "2026-03-20T00:00:00Z").contains(&("1".into(), "disclosure_unapproved")));
    assert!(
        !legal(&fx, "2026-03-04T00:00:00Z").contains(&("1".into(), "disclosure_unapproved")),
        "an item disclosed after as_of is ignored"
    );
}

#[test]
fn acquisition_notice_exactly_at_the_first_transfer_is_in_time() {
    let mut fx = Fx::new();
    let mut a = disclosure("1", "acquisition_transfer", "2026-03-01T00:00:00Z");
    a.subjects_notified_at = Some(t("2026-03-05T00:00:00Z"));
    fx.dir.disclosures = Some(vec![a]);
    fx.dir.disclosure_items = Some(vec![
        item("1", "100", "contact", Some("2026-03-05T00:00:00Z")),
        item("1", "101", "contact", Some("2026-03-06T00:00:00Z")),
    ]);
    assert_eq!(legal(&fx, "2026-03-20T00:00:00Z"), vec![]);
    fx.dir.disclosures.as_mut().unwrap()[0].subjects_notified_at = Some(t("2026-03-05T00:00:01Z"));
    assert_eq!(
        legal(&fx, "2026-03-20T00:00:00Z"),
        vec![("1".into(), "notice_missing")]
    );
    // Before the notice happened (as of its eve), it counts as missing too.
    fx.dir.disclosures.as_mut().unwrap()[0].subjects_notified_at = Some(t("2026-03-10T00:00:00Z"));
    assert_eq!(
        legal(&fx, "2026-03-07T00:00:00Z"),
        vec![("1".into(), "notice_missing")]
    );
}

#[test]
fn legal_process_notice_waits_for_the_gag_to_lapse_and_spares_national_security() {
    let text = format!("notify_subjects_of_legal_process = true\n{POLICY}");
    let mut fx = Fx::with_policy(&text);
    let mut a = disclosure("1", "subpoena", "2026-03-01T00:00:00Z");
    a.status = "produced".into();
    a.nondisclosure_until = Some(t("2026-03-10T00:00:00Z"));
    let mut ns = a.clone();
    ns.disclosure_id = Id::new("2");
    ns.kind = "national_security".into();
    fx.dir.disclosures = Some(vec![a, ns]);
    assert_eq!(
        legal(&fx, "2026-03-10T00:00:00Z"),
        vec![],
        "the gag runs until as_of"
    );
    assert_eq!(
        legal(&fx, "2026-03-10T00:00:01Z"),
        vec![("1".into(), "notice_missing")]
    );
}

#[test]
fn request_overdue_past_grace_while_open_or_when_completed_late() {
    let mut fx = Fx::new();
    fx.dir.requests = Some(vec![
        request("A", "100", "deletion", "2026-03-01T00:00:00Z", None, None),
        request(
            "B",
            "101",
            "opt_out",
            "2026-03-01T00:00:00Z",
            Some("2026-03-11T00:00:01Z"),
            Some("completed"),
        ),
        request(
            "C",
            "102",
            "strange",
            "2026-03-01T00:00:00Z",
            Some("2026-03-31T00:00:00Z"),
            None,
        ),
        request(
            "D",
            "103",
            "deletion",
            "2026-03-01T00:00:00Z",
            None,
            Some("withdrawn"),
        ),
    ]);
    assert_eq!(
        legal(&fx, "2026-03-31T00:00:00Z"),
        vec![("B".into(), "request_overdue")],
        "30 days exactly is not past"
    );
    assert_eq!(
        legal(&fx, "2026-03-31T00:00:01Z"),
        vec![
            ("A".into(), "request_overdue"),
            ("B".into(), "request_overdue")
        ]
    );
}

#[test]
fn a_disclosure_received_after_as_of_is_ignored() {
    let mut fx = Fx::new();
    let mut d = disclosure("1", "court_order", "2026-03-10T00:00:00Z");
    d.approved_by = None;
    d.status = "produced".into();
    fx.dir.disclosures = Some(vec![d]);
    assert_eq!(legal(&fx, "2026-03-09T23:59:59Z"), vec![]);
    assert_eq!(
        legal(&fx, "2026-03-10T00:00:00Z"),
        vec![("1".into(), "disclosure_unapproved")]
    );
}

#[test]
fn rows_closed_before_the_window_do_not_come_back() {
    let mut fx = Fx::new();
    let mut old = disclosure("1", "court_order", "2026-01-01T00:00:00Z");
    old.approved_by = None;
    old.status = "produced".into();
    old.responded_at = Some(t("2026-01-05T00:00:00Z"));
    let mut open = disclosure("2", "subpoena", "2026-01-01T00:00:00Z");
    open.due_at = Some(t("2026-01-10T00:00:00Z"));
    fx.dir.disclosures = Some(vec![old, open]);
    assert_eq!(
        legal(&fx, "2026-03-20T00:00:00Z"),
        vec![("2".into(), "disclosure_overdue")]
    );
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
    let mut flags = fx.run();
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
