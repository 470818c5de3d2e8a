//! `report subject --id ID`: everything about one person, for a data-subject
//! access request: every access to them with its explanation or flags, every
//! disclosure item about them and every request they made.

use serde::Serialize;

use super::{Format, Header, WindowJson};
use crate::audit::{Day, Sink, SinkError};
use crate::model::{Directory, Interner};
use crate::policy::norm;
use crate::rules::Severity;
use crate::time::rfc3339;

#[derive(Serialize)]
struct AccessRow {
    event_id: String,
    occurred_at: String,
    staff_id: String,
    staff_name: Option<String>,
    action: Option<String>,
    data_category: Option<String>,
    purpose: Option<String>,
    reference: Option<String>,
    explained_by: Option<String>,
    flags: Vec<&'static str>,
    why: String,
}

#[derive(Serialize)]
struct ItemRow {
    disclosure_id: String,
    kind: String,
    requester: String,
    data_category: Option<String>,
    disclosed_at: Option<String>,
}

#[derive(Serialize)]
struct RequestRow {
    request_id: String,
    kind: String,
    channel: Option<String>,
    received_at: String,
    completed_at: Option<String>,
    status: Option<String>,
}

#[derive(Serialize)]
struct SubjectJson {
    subject_id: String,
    display_name: Option<String>,
    jurisdiction: Option<String>,
    is_vip: bool,
    staff_id: Option<String>,
    known: bool,
}

#[derive(Serialize)]
struct TimelineRow {
    at: String,
    event: &'static str,
    id: String,
    summary: String,
}

#[derive(Serialize)]
struct Doc {
    generated_at: String,
    as_of: String,
    window: WindowJson,
    subject: SubjectJson,
    /// Everything below in one chronological list: what the company did with this person's data.
    timeline: Vec<TimelineRow>,
    accesses: Vec<AccessRow>,
    disclosures: Vec<ItemRow>,
    requests: Vec<RequestRow>,
}

/// The subject report's consumer: keeps one person's accesses, resolved to
/// text as they are judged (the pipeline forgets interned values per read).
pub struct SubjectAccesses<'d> {
    id: String,
    reveal: bool,
    staff_names: std::collections::HashMap<&'d str, &'d str>,
    accesses: Vec<AccessRow>,
    severities: Vec<Severity>,
    policy: &'d crate::policy::Policy,
}

impl<'d> SubjectAccesses<'d> {
    pub fn new(
        id: &str,
        dir: &'d Directory,
        policy: &'d crate::policy::Policy,
        reveal: bool,
    ) -> Self {
        SubjectAccesses {
            id: id.to_string(),
            reveal,
            staff_names: dir
                .staff
                .iter()
                .map(|s| (s.staff_id.as_str(), s.display_name.as_str()))
                .collect(),
            accesses: Vec::new(),
            severities: Vec::new(),
            policy,
        }
    }

    /// Whether an access is about this person: the filter the pipeline
    /// applies while reading.
    pub fn is_about(id: &str, ev: &crate::model::AccessEvent, syms: &Interner) -> bool {
        ev.subject.is_some_and(|s| syms.resolve(s) == id)
    }
}

impl<'a> Sink<'a> for SubjectAccesses<'_> {
    fn day(&mut self, day: Day<'a, '_>) -> Result<bool, SinkError> {
        let symbols = day.symbols;
        for j in day.judged {
            let e = &j.event;
            if !Self::is_about(&self.id, e, symbols) {
                continue;
            }
            let t = |s: Option<crate::model::Sym>| s.map(|s| symbols.resolve(s).to_string());
            let staff = symbols.resolve(e.staff).to_string();
            self.severities.extend(
                j.verdict
                    .fired
                    .iter()
                    .map(|(r, _)| self.policy.severity_of(*r)),
            );
            self.accesses.push(AccessRow {
                event_id: e.event_id.to_string(),
                occurred_at: rfc3339(e.occurred_at),
                staff_name: if self.reveal {
                    self.staff_names.get(staff.as_str()).map(|s| s.to_string())
                } else {
                    None
                },
                staff_id: staff,
                action: t(e.action),
                data_category: t(e.data_category),
                purpose: t(e.purpose),
                reference: t(e.reference),
                explained_by: j.verdict.explained_by.as_ref().map(crate::rules::rel_text),
                flags: j.verdict.fired.iter().map(|(r, _)| r.name()).collect(),
                why: j.verdict.why(),
            });
        }
        Ok(true)
    }
}

/// The subject is in no query file's rows: nothing to report.
#[derive(Debug, thiserror::Error)]
#[error("subject {0:?} appears in no query file's rows")]
pub struct UnknownSubject(pub String);

/// Renders the subject report from what the pipeline kept; returns the text
/// and the severities of the flags it lists (for `--fail-on`).
pub fn render(
    kept: SubjectAccesses<'_>,
    dir: &Directory,
    format: Format,
    h: &Header,
) -> Result<(String, Vec<Severity>), UnknownSubject> {
    let SubjectAccesses {
        id,
        reveal,
        accesses,
        severities,
        ..
    } = kept;
    let id = id.as_str();
    let subject = dir.subjects.iter().find(|s| s.subject_id.as_str() == id);
    let items: Vec<_> = dir
        .disclosure_items
        .iter()
        .flatten()
        .filter(|i| i.subject_id.as_str() == id)
        .collect();
    let requests: Vec<_> = dir
        .requests
        .iter()
        .flatten()
        .filter(|r| r.subject_id.as_str() == id)
        .collect();
    let in_rels = dir
        .relationships
        .as_ref()
        .is_some_and(|t| t.iter().any(|r| r.subject_id.as_str() == id));
    if subject.is_none()
        && accesses.is_empty()
        && items.is_empty()
        && requests.is_empty()
        && !in_rels
    {
        return Err(UnknownSubject(id.to_string()));
    }
    let disclosures: std::collections::HashMap<&str, &crate::model::Disclosure> = dir
        .disclosures
        .iter()
        .flatten()
        .map(|d| (d.disclosure_id.as_str(), d))
        .collect();
    let mut item_rows: Vec<ItemRow> = items
        .iter()
        .filter(|i| i.disclosed_at.is_none_or(|t| t <= h.as_of))
        .filter_map(|i| {
            let d = disclosures.get(i.disclosure_id.as_str())?;
            Some(ItemRow {
                disclosure_id: i.disclosure_id.to_string(),
                kind: norm(&d.kind),
                requester: d.requester.clone(),
                data_category: i.data_category.clone(),
                disclosed_at: i.disclosed_at.map(rfc3339),
            })
        })
        .collect();
    item_rows.sort_by(|a, b| a.disclosed_at.cmp(&b.disclosed_at));
    let mut request_rows: Vec<RequestRow> = requests
        .iter()
        .filter(|r| r.received_at <= h.as_of)
        .map(|r| RequestRow {
            request_id: r.request_id.to_string(),
            kind: norm(&r.kind),
            channel: r.channel.clone(),
            received_at: rfc3339(r.received_at),
            completed_at: r.completed_at.filter(|c| *c <= h.as_of).map(rfc3339),
            status: r.status.clone(),
        })
        .collect();
    request_rows.sort_by(|a, b| a.received_at.cmp(&b.received_at));
    let mut timeline: Vec<TimelineRow> = Vec::new();
    for a in &accesses {
        let verdict = if a.flags.is_empty() {
            "explained or permitted".to_string()
        } else {
            format!("flagged {}", a.flags.join(" "))
        };
        timeline.push(TimelineRow {
            at: a.occurred_at.clone(),
            event: "access",
            id: a.event_id.clone(),
            summary: format!(
                "staff {} {} {} ({})",
                a.staff_id,
                a.action.clone().unwrap_or_default(),
                a.data_category.clone().unwrap_or_default(),
                verdict
            ),
        });
    }
    for i in &item_rows {
        timeline.push(TimelineRow {
            at: i.disclosed_at.clone().unwrap_or_default(),
            event: "disclosure",
            id: i.disclosure_id.clone(),
            summary: format!(
                "{} data disclosed to {} ({})",
                i.data_category.clone().unwrap_or_default(),
                i.requester,
                i.kind
            ),
        });
    }
    for r in &request_rows {
        timeline.push(TimelineRow {
            at: r.received_at.clone(),
            event: "request received",
            id: r.request_id.clone(),
            summary: format!(
                "{} request via {}",
                r.kind,
                r.channel.clone().unwrap_or_default()
            ),
        });
        if let Some(c) = &r.completed_at {
            timeline.push(TimelineRow {
                at: c.clone(),
                event: "request completed",
                id: r.request_id.clone(),
                summary: format!("{} request completed", r.kind),
            });
        }
    }
    // RFC 3339 in UTC with Z sorts as text; undated items come first.
    timeline.sort_by(|a, b| {
        a.at.cmp(&b.at)
            .then(a.event.cmp(b.event))
            .then(a.id.cmp(&b.id))
    });
    let doc = Doc {
        timeline,
        generated_at: rfc3339(h.generated_at),
        as_of: rfc3339(h.as_of),
        window: WindowJson {
            from: rfc3339(h.from),
            to: rfc3339(h.to),
        },
        subject: SubjectJson {
            subject_id: id.to_string(),
            display_name: if reveal {
                subject.map(|s| s.display_name().to_string())
            } else {
                None
            },
            jurisdiction: subject.and_then(|s| s.jurisdiction().map(str::to_string)),
            is_vip: subject.is_some_and(|s| s.is_vip),
            staff_id: subject.and_then(|s| s.staff_id.as_ref().map(|x| x.to_string())),
            known: subject.is_some(),
        },
        accesses,
        disclosures: item_rows,
        requests: request_rows,
    };
    let text = match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&doc).expect("serialises");
            s.push('\n');
            s
        }
        Format::Csv => {
            let mut o = super::csv_row(
                &[
                    "section",
                    "id",
                    "when",
                    "who",
                    "what",
                    "purpose_or_kind",
                    "reference",
                    "flags",
                    "why",
                ]
                .map(String::from),
            );
            for a in &doc.accesses {
                o.push_str(&super::csv_row(&[
                    "access".into(),
                    a.event_id.clone(),
                    a.occurred_at.clone(),
                    a.staff_id.clone(),
                    format!(
                        "{} {}",
                        a.action.clone().unwrap_or_default(),
                        a.data_category.clone().unwrap_or_default()
                    ),
                    a.purpose.clone().unwrap_or_default(),
                    a.reference.clone().unwrap_or_default(),
                    a.flags.join(" "),
                    a.why.clone(),
                ]));
            }
            for i in &doc.disclosures {
                o.push_str(&super::csv_row(&[
                    "disclosure".into(),
                    i.disclosure_id.clone(),
                    i.disclosed_at.clone().unwrap_or_default(),
                    i.requester.clone(),
                    i.data_category.clone().unwrap_or_default(),
                    i.kind.clone(),
                    String::new(),
                    String::new(),
                    String::new(),
                ]));
            }
            for r in &doc.requests {
                o.push_str(&super::csv_row(&[
                    "request".into(),
                    r.request_id.clone(),
                    r.received_at.clone(),
                    r.channel.clone().unwrap_or_default(),
                    r.completed_at
                        .clone()
                        .map(|c| format!("completed {c}"))
                        .unwrap_or_else(|| "open".into()),
                    r.kind.clone(),
                    String::new(),
                    String::new(),
                    r.status.clone().unwrap_or_default(),
                ]));
            }
            o
        }
        Format::Md | Format::Table => {
            let t = super::md;
            let mut o = String::new();
            let name = doc
                .subject
                .display_name
                .as_deref()
                .map(|n| format!(" ({})", t(n)))
                .unwrap_or_default();
            o.push_str(&format!(
                "# Subject {}{name}\n\nWindow {} to {}, as of {}\n\n",
                t(id),
                doc.window.from,
                doc.window.to,
                doc.as_of
            ));
            o.push_str(&format!(
                "## Timeline ({})\n\n| when (UTC) | what | id | summary |\n|---|---|---|---|\n",
                doc.timeline.len()
            ));
            for e in &doc.timeline {
                o.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    e.at,
                    e.event,
                    t(&e.id),
                    t(&e.summary)
                ));
            }
            o.push('\n');
            o.push_str(&format!("## Accesses ({})\n\n| when (UTC) | staff | action | category | purpose | flags | why |\n|---|---|---|---|---|---|---|\n", doc.accesses.len()));
            for a in &doc.accesses {
                let who = match &a.staff_name {
                    Some(n) => format!("{} ({})", t(&a.staff_id), t(n)),
                    None => t(&a.staff_id),
                };
                o.push_str(&format!(
                    "| {} | {who} | {} | {} | {} | {} | {} |\n",
                    a.occurred_at,
                    t(a.action.as_deref().unwrap_or("")),
                    t(a.data_category.as_deref().unwrap_or("")),
                    t(a.purpose.as_deref().unwrap_or("")),
                    if a.flags.is_empty() {
                        "✓".to_string()
                    } else {
                        format!("⚑ {}", a.flags.join(" "))
                    },
                    t(&a.why)
                ));
            }
            o.push_str(&format!("\n## Disclosures ({})\n\n| disclosure | kind | requester | category | disclosed |\n|---|---|---|---|---|\n", doc.disclosures.len()));
            for i in &doc.disclosures {
                o.push_str(&format!(
                    "| {} | {} | {} | {} | {} |\n",
                    t(&i.disclosure_id),
                    i.kind,
                    t(&i.requester),
                    t(i.data_category.as_deref().unwrap_or("")),
                    i.disclosed_at.clone().unwrap_or_default()
                ));
            }
            o.push_str(&format!("\n## Requests ({})\n\n| request | kind | channel | received | completed | status |\n|---|---|---|---|---|---|\n", doc.requests.len()));
            for r in &doc.requests {
                o.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} |\n",
                    t(&r.request_id),
                    r.kind,
                    t(r.channel.as_deref().unwrap_or("")),
                    r.received_at,
                    r.completed_at.clone().unwrap_or_default(),
                    t(r.status.as_deref().unwrap_or(""))
                ));
            }
            o
        }
    };
    Ok((text, severities))
}
