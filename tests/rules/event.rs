//! The per-event rules: role, purpose, category and action, relationships,
//! termination, working hours, self, coworker, family and VIP access,
//! opt-outs and deletion, and severity overrides.

use super::*;

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
    fx.dir.relationships = Some(
        vec![rel(
            "1",
            "100",
            "ticket",
            Some("T-1"),
            "2026-03-09T16:00:00Z",
            Some("2026-03-09T18:00:00Z"),
        )]
        .into(),
    );
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
    fx.dir.relationships = Some(
        vec![rel(
            "1",
            "100",
            "ticket",
            None,
            "2026-03-09T16:00:00Z",
            Some("2026-03-09T18:00:00Z"),
        )]
        .into(),
    );
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
    let mut rels = vec![
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
    ];
    fx.dir.relationships = Some(rels.clone().into());
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
        (r.kind, r.reference),
        ("ticket", None),
        "open-ended wins among the latest"
    );
    rels.pop();
    fx.dir.relationships = Some(rels.clone().into());
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
        (r.kind, r.reference),
        ("Account", None),
        "smallest lower-cased kind"
    );
    rels.pop();
    fx.dir.relationships = Some(rels.clone().into());
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
    assert_eq!(r.reference, Some("A"), "smallest reference");
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
    fx.dir.relationships = Some(
        vec![rel(
            "1",
            "100",
            "ticket",
            None,
            "2026-03-01T00:00:00Z",
            None,
        )]
        .into(),
    );
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
fn self_coworker_and_vip_access() {
    let mut fx = Fx::new();
    fx.dir.subjects[0].staff_id = Some(Id::new("2"));
    fx.dir.subjects[1].staff_id = Some(Id::new("1"));
    fx.dir.subjects[2].is_vip = true;
    fx.dir.relationships = Some(
        vec![rel(
            "2",
            "102",
            "account_manager",
            None,
            "2026-03-01T00:00:00Z",
            None,
        )]
        .into(),
    );
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
    fx.dir.subjects[0].set_postal_address(Some("12 HARBOR LANE APT 3B"));
    fx.dir.subjects[1].set_family_name(Some("okafor"));
    fx.dir.subjects[2].set_family_name(Some("OKAFOR"));
    fx.dir.subjects[3].set_postal_address(Some("12 Harbor Lane Apt 3"));
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
    fx.dir.subjects[4].set_family_name(Some("Okafor"));
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
    // And a request received after as_of is ignored altogether: R7 (no
    // completion, received a second after as_of) would put del_late past
    // its grace; R5, received before as_of, still counts for del_grace,
    // which shows the events after as_of are judged.
    let mut requests = fx.dir.requests.clone().unwrap();
    requests.push(request(
        "R7",
        "106",
        "deletion",
        "2026-02-01T00:00:01Z",
        None,
        None,
    ));
    fx.dir.requests = Some(requests);
    m(
        &mut fx,
        "del_late",
        "2026-03-09T20:00:00Z",
        "106",
        "billing",
    );
    let late = fx.run_window(
        "2026-02-01T00:00:00Z",
        "2026-03-20T00:00:00Z",
        "2026-02-01T00:00:00Z",
    );
    assert_eq!(fired(&late, "del_late"), Vec::<&str>::new());
    assert_eq!(fired(&late, "del_grace"), vec!["access_after_deletion"]);
    // Judged once R7 has arrived, the same access is past R7's grace.
    let after = fx.run_window(
        "2026-02-01T00:00:00Z",
        "2026-03-20T00:00:00Z",
        "2026-02-01T00:00:02Z",
    );
    assert_eq!(fired(&after, "del_late"), vec!["access_after_deletion"]);
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
