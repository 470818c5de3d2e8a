//! The legal rules: disclosures (overdue, unapproved, out of scope, shares
//! without an agreement, missing notice) and overdue subject requests.

use super::*;

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
