//! Per disclosure and per request, judged as of `as_of`: overdue,
//! unapproved, out of scope, shared without agreement, notice missing, and
//! subject requests past their grace.

use chrono::Duration;

use super::{Context, Flag, Rule, days_between};
use crate::model::{Disclosure, DisclosureItem, Instant};
use crate::policy::norm;
use crate::time::rfc3339;

pub use crate::vocab::LEGAL_KINDS;

/// A disclosure as it stood at `as_of`.
pub struct DisclosureAsOf<'a> {
    pub d: &'a Disclosure,
    pub kind: String,
    pub status: String,
    pub responded_at: Option<Instant>,
    pub notified_at: Option<Instant>,
    pub items: Vec<&'a DisclosureItem>,
}

impl DisclosureAsOf<'_> {
    pub fn data_went_out(&self) -> bool {
        !self.items.is_empty() || matches!(self.status.as_str(), "produced" | "partially_produced")
    }
    pub fn open_at_as_of(&self) -> bool {
        self.status == "open" && self.responded_at.is_none()
    }
}

fn known_status(s: &str) -> String {
    let s = norm(s);
    if [
        "open",
        "produced",
        "partially_produced",
        "rejected",
        "withdrawn",
    ]
    .contains(&s.as_str())
    {
        s
    } else {
        "open".into()
    }
}

fn known_kind(s: &str) -> String {
    let s = norm(s);
    if crate::vocab::DISCLOSURE_KINDS.contains(&s.as_str()) {
        s
    } else {
        "other".into()
    }
}

/// Disclosures received by `as_of`, with their state at `as_of`.
pub fn disclosures_as_of<'a>(ctx: &Context<'a>) -> Vec<DisclosureAsOf<'a>> {
    let as_of = ctx.as_of;
    let items = ctx.dir.disclosure_items.as_deref().unwrap_or(&[]);
    let mut by: std::collections::HashMap<&str, Vec<&DisclosureItem>> =
        std::collections::HashMap::new();
    for it in items {
        if it.disclosed_at.is_none_or(|t| t <= as_of) {
            by.entry(it.disclosure_id.as_str()).or_default().push(it);
        }
    }
    ctx.dir
        .disclosures
        .iter()
        .flatten()
        .filter(|d| d.received_at <= as_of)
        .map(|d| DisclosureAsOf {
            d,
            kind: known_kind(&d.kind),
            status: known_status(&d.status),
            responded_at: d.responded_at.filter(|t| *t <= as_of),
            notified_at: d.subjects_notified_at.filter(|t| *t <= as_of),
            items: by.remove(d.disclosure_id.as_str()).unwrap_or_default(),
        })
        .collect()
}

pub fn in_report(
    received: Instant,
    open: bool,
    stamps: &[Option<Instant>],
    from: Instant,
    to: Instant,
) -> bool {
    received < to && (open || stamps.iter().flatten().any(|t| *t >= from))
}

pub fn disclosures(ctx: &Context, from: Instant, to: Instant) -> Vec<Flag> {
    let as_of = ctx.as_of;
    let mut flags = Vec::new();
    for x in disclosures_as_of(ctx) {
        let d = x.d;
        let mut stamps = vec![Some(d.received_at), d.due_at, x.responded_at, x.notified_at];
        stamps.extend(x.items.iter().map(|i| i.disclosed_at));
        if !in_report(d.received_at, x.open_at_as_of(), &stamps, from, to) {
            continue;
        }
        let name = format!("{} {}", x.kind, d.disclosure_id);
        let mut push = |rule: Rule, detail: String| {
            if ctx.policy.enabled(rule) {
                let mut f = Flag::bare(rule, ctx.severity(rule), d.received_at, detail);
                f.disclosure_id = Some(d.disclosure_id.clone());
                flags.push(f);
            }
        };
        if let Some(due) = d.due_at
            && x.status != "withdrawn"
        {
            match x.responded_at {
                Some(r) if r > due => push(
                    Rule::DisclosureOverdue,
                    format!(
                        "{name} was due {} and answered {}, {} late",
                        rfc3339(due),
                        rfc3339(r),
                        days_between(due, r)
                    ),
                ),
                None if due < as_of => push(
                    Rule::DisclosureOverdue,
                    format!(
                        "{name} was due {} and has no response as of {} ({} overdue)",
                        rfc3339(due),
                        rfc3339(as_of),
                        days_between(due, as_of)
                    ),
                ),
                _ => {}
            }
        }
        if x.data_went_out() && d.approved_by.is_none() {
            push(
                Rule::DisclosureUnapproved,
                format!(
                    "{name} released data (status {}, {} item(s)) with no approver recorded",
                    x.status,
                    x.items.len()
                ),
            );
        }
        if !d.requested_categories.is_empty() {
            let mut outside: Vec<String> = x
                .items
                .iter()
                .map(|i| {
                    i.data_category
                        .as_deref()
                        .map(norm)
                        .unwrap_or_else(|| "(no category)".into())
                })
                .filter(|c| !d.requested_categories.contains(c))
                .collect();
            outside.sort();
            outside.dedup();
            if !outside.is_empty() {
                push(
                    Rule::DisclosureOutOfScope,
                    format!(
                        "{name} requested {} but items include {}",
                        d.requested_categories.join(", "),
                        outside.join(", ")
                    ),
                );
            }
        }
        if x.kind == "partner_share" && x.data_went_out() && d.agreement_ref.is_none() {
            push(
                Rule::ShareWithoutAgreement,
                format!(
                    "{name} released data ({} item(s)) with no agreement reference",
                    x.items.len()
                ),
            );
        }
        if x.kind == "acquisition_transfer" {
            let first = x.items.iter().filter_map(|i| i.disclosed_at).min();
            if let Some(first) = first {
                match x.notified_at {
                    None => push(
                        Rule::NoticeMissing,
                        format!(
                            "{name} transferred data from {} and the subjects have not been notified",
                            rfc3339(first)
                        ),
                    ),
                    Some(n) if n > first => push(
                        Rule::NoticeMissing,
                        format!(
                            "{name} transferred data from {} but the subjects were notified only at {}",
                            rfc3339(first),
                            rfc3339(n)
                        ),
                    ),
                    _ => {}
                }
            }
        } else if ctx.policy.notify_subjects_of_legal_process
            && LEGAL_KINDS.contains(&x.kind.as_str())
            && x.kind != "national_security"
            && x.data_went_out()
            && d.nondisclosure_until.is_none_or(|g| g < as_of)
            && x.notified_at.is_none()
        {
            let gag = d
                .nondisclosure_until
                .map(|g| format!("its gag order lapsed {}", rfc3339(g)))
                .unwrap_or_else(|| "it has no gag order".into());
            push(
                Rule::NoticeMissing,
                format!("{name} released data, {gag}, and the subjects have not been notified"),
            );
        }
    }
    flags
}

pub fn grace_days(ctx: &Context, kind: &str) -> i64 {
    let th = &ctx.policy.thresholds;
    match kind {
        "opt_out" => th.opt_out_grace_days,
        "deletion" => th.deletion_grace_days,
        "correction" => th.correction_grace_days,
        _ => th.access_grace_days,
    }
}

pub fn requests(ctx: &Context, from: Instant, to: Instant) -> Vec<Flag> {
    let mut flags = Vec::new();
    if !ctx.policy.enabled(Rule::RequestOverdue) {
        return flags;
    }
    let mut all: Vec<_> = ctx.requests.values().flatten().collect();
    all.sort_by(|a, b| a.request.request_id.cmp(&b.request.request_id));
    for r in all {
        let q = r.request;
        if !in_report(
            q.received_at,
            r.completed_at.is_none(),
            &[Some(q.received_at), r.completed_at],
            from,
            to,
        ) {
            continue;
        }
        let g = grace_days(ctx, &r.kind);
        let deadline = q.received_at + Duration::seconds(g * 86_400);
        let end = r.completed_at.unwrap_or(ctx.as_of);
        if end > deadline {
            let state = match r.completed_at {
                Some(c) => format!("was completed {}", rfc3339(c)),
                None => format!("is still open as of {}", rfc3339(ctx.as_of)),
            };
            let mut f = Flag::bare(
                Rule::RequestOverdue,
                ctx.severity(Rule::RequestOverdue),
                q.received_at,
                format!(
                    "{} request {} received {} {state}, {} past its {g}-day grace ({})",
                    r.kind,
                    q.request_id,
                    rfc3339(q.received_at),
                    days_between(deadline, end),
                    rfc3339(deadline)
                ),
            );
            f.request_id = Some(q.request_id.clone());
            f.subject_id = Some(q.subject_id.clone());
            flags.push(f);
        }
    }
    flags
}
