//! Per staff member and local day: unknown_staff, bulk_access,
//! bulk_records and volume_spike.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use chrono::{Duration, NaiveDate};

use super::{Engine, Flag, JudgedEvent, Rule};
use crate::model::{Id, Interner};

pub(super) fn judge(
    engine: &Engine,
    day: NaiveDate,
    judged: &mut [JudgedEvent],
    syms: &Interner,
    history: &HashMap<String, HashMap<NaiveDate, u32>>,
) -> Vec<Flag> {
    let ctx = &engine.ctx;
    let th = &ctx.policy.thresholds;
    let mut groups: rustc_hash::FxHashMap<crate::model::Sym, Vec<usize>> = Default::default();
    for (i, j) in judged.iter().enumerate() {
        groups.entry(j.event.staff).or_default().push(i);
    }
    // Staff in id order so the output does not depend on hashing.
    let mut by_staff: Vec<(Id, Vec<usize>)> = groups
        .into_iter()
        .map(|(k, v)| (Id::new(syms.resolve(k)), v))
        .collect();
    by_staff.sort_by(|a, b| a.0.cmp(&b.0));
    let mut flags = Vec::new();
    for (staff, idx) in by_staff {
        let with_subject: Vec<usize> = idx
            .iter()
            .copied()
            .filter(|&i| judged[i].event.subject.is_some())
            .collect();
        let distinct: HashSet<_> = with_subject
            .iter()
            .map(|&i| judged[i].event.subject)
            .collect();
        let distinct = distinct.len() as u64;
        let records: i64 = idx.iter().map(|&i| judged[i].event.record_count).sum();
        let facts = ctx.staff.get(&crate::model::IdKey::of(staff.as_str()));
        let mut emit =
            |rule: Rule, members: &[usize], detail: String, judged: &mut [JudgedEvent]| {
                if members.is_empty() || !ctx.policy.enabled(rule) {
                    return;
                }
                for &i in members {
                    judged[i].day_rules.push(rule);
                }
                flags.push(Flag {
                    rule,
                    severity: ctx.severity(rule),
                    staff_id: Some(staff.clone()),
                    subject_id: None,
                    event_ids: members
                        .iter()
                        .map(|&i| judged[i].event.event_id.clone())
                        .collect(),
                    day: Some(day),
                    disclosure_id: None,
                    request_id: None,
                    occurred_at: judged[members[0]].event.occurred_at,
                    staff_name: None,
                    subject_name: None,
                    detail,
                    key: String::new(),
                });
            };
        if facts.is_none() {
            emit(
                Rule::UnknownStaff,
                &idx,
                format!(
                    "staff id {staff} is not returned by staff.sql but made {} access(es) on {day}",
                    idx.len()
                ),
                judged,
            );
        }
        if distinct > th.bulk_daily_subjects {
            emit(
                Rule::BulkAccess,
                &with_subject,
                format!(
                    "staff {staff} accessed {distinct} distinct subjects on {day}, above bulk_daily_subjects {}",
                    th.bulk_daily_subjects
                ),
                judged,
            );
        }
        if records > th.bulk_daily_records {
            emit(
                Rule::BulkRecords,
                &idx,
                format!(
                    "staff {staff} touched {records} records on {day}, above bulk_daily_records {}",
                    th.bulk_daily_records
                ),
                judged,
            );
        }
        if distinct > th.volume_spike_min && ctx.policy.enabled(Rule::VolumeSpike) {
            let first = day - Duration::days(30);
            let hired_late = facts
                .and_then(|f| f.staff.hired_at)
                .is_some_and(|h| h > engine.day_start(first));
            let counts: Vec<u32> = (1..=30)
                .map(|k| {
                    history
                        .get(staff.as_str())
                        .and_then(|m| m.get(&(day - Duration::days(k))))
                        .copied()
                        .unwrap_or(0)
                })
                .collect();
            if !hired_late && counts.iter().any(|&c| c > 0) {
                let m = median30(&counts);
                if (distinct as f64) > th.volume_spike_factor * m {
                    emit(
                        Rule::VolumeSpike,
                        &with_subject,
                        format!(
                            "staff {staff} accessed {distinct} distinct subjects on {day}, more than {} × the median {m} of the 30 days before (minimum {})",
                            th.volume_spike_factor, th.volume_spike_min
                        ),
                        judged,
                    );
                }
            }
        }
    }
    flags
}

/// The median of 30 values: the mean of the 15th and 16th.
pub fn median30(values: &[u32]) -> f64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    (f64::from(v[14]) + f64::from(v[15])) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_thirty_is_the_mean_of_the_middle_two() {
        let mut v = vec![0u32; 30];
        assert_eq!(median30(&v), 0.0);
        for (i, x) in v.iter_mut().enumerate() {
            *x = i as u32;
        }
        assert_eq!(median30(&v), 14.5);
        let mut z = vec![0u32; 15];
        z.extend(vec![10; 15]);
        assert_eq!(median30(&z), 5.0);
    }
}
