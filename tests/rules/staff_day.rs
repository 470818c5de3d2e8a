//! The staff-day rules: unknown staff, bulk access and records, and volume
//! spikes against thirty days of history.

use super::*;

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
