//! The disclosure register and the subject-request list.

use std::collections::HashMap;

use serde::Serialize;

use super::{Format, Header, csv_row};
use crate::model::Id;
use crate::policy::norm;
use crate::rules::legal::{disclosures_as_of, grace_days, in_report};
use crate::rules::{Engine, Flag};
use crate::sanitize::{clip, terminal};
use crate::time::rfc3339;

fn flags_of(flags: &[Flag], pick: impl Fn(&Flag) -> bool) -> Vec<&'static str> {
    let mut v: Vec<_> = flags
        .iter()
        .filter(|f| pick(f))
        .map(|f| f.rule.name())
        .collect();
    v.dedup();
    v
}

/// "due in 2 d 4 h", "overdue 6 d 1 h", or empty.
pub fn clock(
    due: Option<crate::model::Instant>,
    done: bool,
    as_of: crate::model::Instant,
) -> String {
    let Some(due) = due else { return String::new() };
    if done {
        return "answered".into();
    }
    let secs = (due - as_of).num_seconds();
    let (d, h) = (secs.abs() / 86_400, secs.abs() % 86_400 / 3600);
    if secs >= 0 {
        format!("due in {d} d {h} h")
    } else {
        format!("overdue {d} d {h} h")
    }
}

#[derive(Serialize)]
struct RequestRow {
    request_id: String,
    subject_id: String,
    kind: String,
    channel: Option<String>,
    status: String,
    received_at: String,
    grace_deadline: String,
    completed_at: Option<String>,
    age_days: i64,
    flags: Vec<&'static str>,
    /// Accesses flagged because they came after this kind of request.
    linked_accesses: Vec<String>,
}

/// Accesses flagged `opt_out_ignored` or `access_after_deletion`, by
/// (subject, request kind), to link from the requests.
pub fn linked_accesses(flags: &[Flag]) -> HashMap<(String, &'static str), Vec<String>> {
    let mut m: HashMap<(String, &'static str), Vec<String>> = HashMap::new();
    for f in flags {
        let kind = match f.rule {
            crate::rules::Rule::OptOutIgnored => "opt_out",
            crate::rules::Rule::AccessAfterDeletion => "deletion",
            _ => continue,
        };
        if let Some(s) = &f.subject_id {
            m.entry((s.to_string(), kind))
                .or_default()
                .extend(f.event_ids.iter().map(|e| e.to_string()));
        }
    }
    m
}

pub fn requests_report(
    engine: &Engine,
    flags: &[Flag],
    linked: &HashMap<(String, &'static str), Vec<String>>,
    format: Format,
    h: &Header,
    width: usize,
) -> String {
    let ctx = &engine.ctx;
    let mut rows = Vec::new();
    for r in ctx.dir.requests.iter().flatten() {
        if r.received_at > ctx.as_of {
            continue;
        }
        let completed = r.completed_at.filter(|c| *c <= ctx.as_of);
        // A denied or withdrawn request is closed even without a completion time.
        let open = completed.is_none() && crate::rules::context::request_counts(r);
        if !in_report(
            r.received_at,
            open,
            &[Some(r.received_at), completed],
            engine.from,
            engine.to,
        ) {
            continue;
        }
        let kind = norm(&r.kind);
        let g = grace_days(ctx, &kind);
        let status = r.status.as_deref().map(norm).unwrap_or_else(|| {
            if completed.is_some() {
                "completed".into()
            } else {
                "open".into()
            }
        });
        let end = completed.unwrap_or(ctx.as_of);
        let linked_ids = match kind.as_str() {
            "opt_out" => linked
                .get(&(r.subject_id.to_string(), "opt_out"))
                .cloned()
                .unwrap_or_default(),
            "deletion" => linked
                .get(&(r.subject_id.to_string(), "deletion"))
                .cloned()
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        rows.push(RequestRow {
            request_id: r.request_id.to_string(),
            subject_id: r.subject_id.to_string(),
            kind,
            channel: r.channel.clone(),
            status,
            received_at: rfc3339(r.received_at),
            grace_deadline: rfc3339(r.received_at + chrono::Duration::seconds(g * 86_400)),
            completed_at: completed.map(rfc3339),
            age_days: (end - r.received_at).num_days(),
            linked_accesses: linked_ids,
            flags: flags_of(flags, |f| f.request_id.as_ref() == Some(&r.request_id)),
        });
    }
    rows.sort_by(|a, b| {
        a.received_at
            .cmp(&b.received_at)
            .then_with(|| Id::new(a.request_id.as_str()).cmp(&Id::new(b.request_id.as_str())))
    });
    match format {
        Format::Json => super::json_doc(h, "requests", &rows),
        Format::Csv => {
            let mut o = csv_row(
                &[
                    "request_id",
                    "subject_id",
                    "kind",
                    "channel",
                    "status",
                    "received_at",
                    "grace_deadline",
                    "completed_at",
                    "age_days",
                    "flags",
                    "linked_accesses",
                ]
                .map(String::from),
            );
            for r in &rows {
                o.push_str(&csv_row(&[
                    r.request_id.clone(),
                    r.subject_id.clone(),
                    r.kind.clone(),
                    r.channel.clone().unwrap_or_default(),
                    r.status.clone(),
                    r.received_at.clone(),
                    r.grace_deadline.clone(),
                    r.completed_at.clone().unwrap_or_default(),
                    r.age_days.to_string(),
                    r.flags.join(" "),
                    r.linked_accesses.join(" "),
                ]));
            }
            o
        }
        Format::Md | Format::Table => {
            let md = format == Format::Md;
            let mut o = String::new();
            if md {
                o.push_str("# Subject requests\n\n| request | subject | kind | channel | status | received | grace deadline | completed | age (days) | flags |\n|---|---|---|---|---|---|---|---|---|---|\n");
            } else {
                o.push_str(&format!(
                    "{:<10} {:<8} {:<10} {:<6} {:<9} {:<20} {:<20} {:>4}  flags\n",
                    "request",
                    "subject",
                    "kind",
                    "via",
                    "status",
                    "received",
                    "grace deadline",
                    "age"
                ));
            }
            for r in &rows {
                let t = super::md;
                if md {
                    o.push_str(&format!(
                        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                        t(&r.request_id),
                        t(&r.subject_id),
                        t(&r.kind),
                        t(r.channel.as_deref().unwrap_or("")),
                        t(&r.status),
                        r.received_at,
                        r.grace_deadline,
                        r.completed_at.clone().unwrap_or_default(),
                        r.age_days,
                        r.flags.join(" ")
                    ));
                } else {
                    let line = format!(
                        "{:<10} {:<8} {:<10} {:<6} {:<9} {:<20} {:<20} {:>4}  {}",
                        clip(&t(&r.request_id), 10),
                        clip(&t(&r.subject_id), 8),
                        clip(&t(&r.kind), 10),
                        clip(&t(r.channel.as_deref().unwrap_or("")), 6),
                        clip(&t(&r.status), 9),
                        r.received_at,
                        r.grace_deadline,
                        r.age_days,
                        r.flags.join(" ")
                    );
                    o.push_str(&line);
                    o.push('\n');
                }
            }
            o.push_str(&format!(
                "{}{} request(s)\n",
                if md { "\n" } else { "" },
                rows.len()
            ));
            if md { o } else { super::fit(&o, width) }
        }
    }
}

#[derive(Serialize)]
struct DisclosureRow {
    disclosure_id: String,
    kind: String,
    requester: String,
    authority_ref: Option<String>,
    received_at: String,
    due_at: Option<String>,
    responded_at: Option<String>,
    status: String,
    approved_by: Option<String>,
    nondisclosure_until: Option<String>,
    subjects_notified_at: Option<String>,
    requested_categories: Vec<String>,
    items: usize,
    items_out_of_scope: usize,
    deadline: String,
    flags: Vec<&'static str>,
    /// What was sent, item by item, against the requested scope.
    items_sent: Vec<ItemRow>,
    #[serde(skip)]
    urgency: (u8, i64),
}

#[derive(Serialize)]
struct ItemRow {
    subject_id: String,
    data_category: Option<String>,
    disclosed_at: Option<String>,
    in_scope: bool,
}

pub fn disclosures_report(
    engine: &Engine,
    flags: &[Flag],
    format: Format,
    h: &Header,
    width: usize,
) -> String {
    let ctx = &engine.ctx;
    let mut rows = Vec::new();
    for x in disclosures_as_of(ctx) {
        let d = x.d;
        let mut stamps = vec![Some(d.received_at), d.due_at, x.responded_at, x.notified_at];
        stamps.extend(x.items.iter().map(|i| i.disclosed_at));
        if !in_report(
            d.received_at,
            x.open_at_as_of(),
            &stamps,
            engine.from,
            engine.to,
        ) {
            continue;
        }
        let out_of_scope = if d.requested_categories.is_empty() {
            0
        } else {
            x.items
                .iter()
                .filter(|i| {
                    !i.data_category
                        .as_deref()
                        .map(norm)
                        .is_some_and(|c| d.requested_categories.contains(&c))
                })
                .count()
        };
        rows.push(DisclosureRow {
            disclosure_id: d.disclosure_id.to_string(),
            kind: x.kind.clone(),
            requester: d.requester.clone(),
            authority_ref: d.authority_ref.clone(),
            received_at: rfc3339(d.received_at),
            due_at: d.due_at.map(rfc3339),
            responded_at: x.responded_at.map(rfc3339),
            status: x.status.clone(),
            approved_by: d.approved_by.clone(),
            nondisclosure_until: d.nondisclosure_until.map(rfc3339),
            subjects_notified_at: x.notified_at.map(rfc3339),
            requested_categories: d.requested_categories.clone(),
            items: x.items.len(),
            items_out_of_scope: out_of_scope,
            deadline: clock(
                d.due_at,
                x.responded_at.is_some() || matches!(x.status.as_str(), "withdrawn" | "rejected"),
                ctx.as_of,
            ),
            flags: flags_of(flags, |f| {
                f.disclosure_id.as_ref() == Some(&d.disclosure_id)
            }),
            items_sent: x
                .items
                .iter()
                .map(|i| ItemRow {
                    subject_id: i.subject_id.to_string(),
                    data_category: i.data_category.clone(),
                    disclosed_at: i.disclosed_at.map(rfc3339),
                    in_scope: d.requested_categories.is_empty()
                        || i.data_category
                            .as_deref()
                            .map(norm)
                            .is_some_and(|c| d.requested_categories.contains(&c)),
                })
                .collect(),
            // Awaiting an answer with a due date first (soonest, or most overdue, first),
            // then awaiting without one, then the answered, newest first.
            urgency: match (
                x.responded_at.is_none() && !matches!(x.status.as_str(), "withdrawn" | "rejected"),
                d.due_at,
            ) {
                (true, Some(due)) => (0, due.timestamp()),
                (true, None) => (1, -d.received_at.timestamp()),
                (false, _) => (2, -d.received_at.timestamp()),
            },
        });
    }
    rows.sort_by(|a, b| {
        a.urgency
            .cmp(&b.urgency)
            .then_with(|| Id::new(a.disclosure_id.as_str()).cmp(&Id::new(b.disclosure_id.as_str())))
    });
    match format {
        Format::Json => super::json_doc(h, "disclosures", &rows),
        Format::Csv => {
            let mut o = csv_row(
                &[
                    "disclosure_id",
                    "kind",
                    "requester",
                    "authority_ref",
                    "received_at",
                    "due_at",
                    "responded_at",
                    "status",
                    "approved_by",
                    "nondisclosure_until",
                    "subjects_notified_at",
                    "requested_categories",
                    "items",
                    "items_out_of_scope",
                    "deadline",
                    "flags",
                ]
                .map(String::from),
            );
            for r in &rows {
                let o_ = |v: &Option<String>| v.clone().unwrap_or_default();
                o.push_str(&csv_row(&[
                    r.disclosure_id.clone(),
                    r.kind.clone(),
                    r.requester.clone(),
                    o_(&r.authority_ref),
                    r.received_at.clone(),
                    o_(&r.due_at),
                    o_(&r.responded_at),
                    r.status.clone(),
                    o_(&r.approved_by),
                    o_(&r.nondisclosure_until),
                    o_(&r.subjects_notified_at),
                    r.requested_categories.join(","),
                    r.items.to_string(),
                    r.items_out_of_scope.to_string(),
                    r.deadline.clone(),
                    r.flags.join(" "),
                ]));
            }
            o
        }
        Format::Md | Format::Table => {
            let md = format == Format::Md;
            let mut o = String::new();
            if md {
                o.push_str("# Disclosure register\n\n| id | kind | requester | received | due | status | approved by | items (out of scope) | deadline | flags |\n|---|---|---|---|---|---|---|---|---|---|\n");
            } else {
                o.push_str(&format!(
                    "{:<5} {:<20} {:<24} {:<20} {:<18} {:>5}  {:<18} flags\n",
                    "id", "kind", "requester", "received", "status", "items", "deadline"
                ));
            }
            for r in &rows {
                let t = super::md;
                if md {
                    o.push_str(&format!(
                        "| {} | {} | {} | {} | {} | {} | {} | {} ({}) | {} | {} |\n",
                        t(&r.disclosure_id),
                        r.kind,
                        t(&r.requester),
                        r.received_at,
                        r.due_at.clone().unwrap_or_default(),
                        r.status,
                        t(r.approved_by.as_deref().unwrap_or("—")),
                        r.items,
                        r.items_out_of_scope,
                        r.deadline,
                        r.flags.join(" ")
                    ));
                } else {
                    let line = format!(
                        "{:<5} {:<20} {:<24} {:<20} {:<18} {:>5}  {:<18} {}",
                        clip(&t(&r.disclosure_id), 5),
                        r.kind,
                        clip(&t(&r.requester), 24),
                        r.received_at,
                        r.status,
                        r.items,
                        r.deadline,
                        r.flags.join(" ")
                    );
                    o.push_str(&line);
                    o.push('\n');
                }
            }
            o.push_str(&format!(
                "{}{} disclosure(s)\n",
                if md { "\n" } else { "" },
                rows.len()
            ));
            if md {
                o.push_str("\n## What was sent, against the requested scope\n\n");
                for r in rows.iter().filter(|r| !r.items_sent.is_empty()) {
                    let mut cats: std::collections::BTreeMap<String, usize> = Default::default();
                    for i in &r.items_sent {
                        *cats
                            .entry(i.data_category.clone().unwrap_or_else(|| "(none)".into()))
                            .or_default() += 1;
                    }
                    let cats: Vec<String> = cats
                        .into_iter()
                        .map(|(c, n)| format!("{} {n}", terminal(&c)))
                        .collect();
                    let scope = if r.requested_categories.is_empty() {
                        "no scope stated".to_string()
                    } else {
                        format!("requested {}", r.requested_categories.join(", "))
                    };
                    o.push_str(&format!(
                        "- {} {}: {} item(s), {} ({scope})\n",
                        terminal(&r.disclosure_id),
                        r.kind,
                        r.items_sent.len(),
                        cats.join(", ")
                    ));
                    for i in r.items_sent.iter().filter(|i| !i.in_scope) {
                        o.push_str(&format!(
                            "  - ⚑ out of scope: subject {} {} sent {}\n",
                            terminal(&i.subject_id),
                            terminal(i.data_category.as_deref().unwrap_or("(none)")),
                            i.disclosed_at.clone().unwrap_or_default()
                        ));
                    }
                }
            }
            if md { o } else { super::fit(&o, width) }
        }
    }
}
