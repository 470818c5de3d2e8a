//! Writers for review campaigns: the list, one campaign's items with their
//! verdicts (`review show`), and the evidence a meeting signs off
//! (`review export`), each carrying the ledger's chain head.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{Format, csv_row};
use crate::ledger::CampaignState;
use crate::sanitize::{clip, terminal};

use super::md;

/// `review list`: one line per campaign.
pub fn list(campaigns: &[CampaignState], format: Format) -> String {
    if format == Format::Json {
        let rows: Vec<Value> = campaigns
            .iter()
            .map(|c| {
                json!({
                    "id": c.campaign.id,
                    "name": c.campaign.name,
                    "window": {"from": c.campaign.from, "to": c.campaign.to, "as_of": c.campaign.as_of},
                    "items": c.items.len(),
                    "decided": c.decided(),
                    "open": c.items.len() - c.decided(),
                    "created_by": c.campaign.created_by,
                    "created_at": c.campaign.created_at,
                })
            })
            .collect();
        let mut s =
            serde_json::to_string_pretty(&json!({ "campaigns": rows })).expect("serialises");
        s.push('\n');
        return s;
    }
    let mut o = format!(
        "{:>4}  {:<24} {:<21} {:<21} {:>6} {:>7} {:>5}  created by\n",
        "id", "name", "from", "to", "items", "decided", "open"
    );
    for c in campaigns {
        let _ = writeln!(
            o,
            "{:>4}  {:<24} {:<21} {:<21} {:>6} {:>7} {:>5}  {} at {}",
            c.campaign.id,
            clip(&terminal(&c.campaign.name), 24),
            c.campaign.from,
            c.campaign.to,
            c.items.len(),
            c.decided(),
            c.items.len() - c.decided(),
            terminal(&c.campaign.created_by),
            c.campaign.created_at
        );
    }
    o
}

/// The export's JSON document (CONTRACT section 7).
pub fn export_json(state: &CampaignState, chain_head: &str) -> Value {
    json!({
        "campaign": state.campaign.json(),
        "items": state.items_json(),
        "counts": state.counts_json(),
        "chain_head": chain_head,
    })
}

/// `gone`: for `review show`, the keys whose flag the source no longer
/// reports for the campaign's window (None: the source was not checked).
pub fn show(
    state: &CampaignState,
    format: Format,
    gone: Option<&std::collections::HashSet<String>>,
    width: usize,
) -> String {
    let in_source = |k: &str| gone.map(|g| !g.contains(k));
    match format {
        Format::Json => {
            let mut items = state.items_json();
            for (v, (i, _)) in items.iter_mut().zip(&state.items) {
                v["in_source"] = json!(in_source(&i.key));
            }
            let mut s = serde_json::to_string_pretty(&json!({
                "campaign": state.campaign.json(),
                "items": items,
                "counts": state.counts_json(),
            }))
            .expect("serialises");
            s.push('\n');
            s
        }
        Format::Csv => items_csv(state, Some(&in_source)),
        Format::Md => items_md(state, Some(&in_source)),
        Format::Table => {
            let c = &state.campaign;
            let mut o = format!(
                "campaign {} \u{b7} {} \u{b7} {} to {} \u{b7} {} of {} decided\n",
                c.id,
                terminal(&c.name),
                c.from,
                c.to,
                state.decided(),
                state.items.len()
            );
            let _ = writeln!(
                o,
                "{:<36} {:<8} {:<16} {:<10} note",
                "key", "severity", "verdict", "by"
            );
            for (i, v) in &state.items {
                let mark = match in_source(&i.key) {
                    Some(false) => "  (no longer in the source)",
                    _ => "",
                };
                let line = format!(
                    "{:<36} {:<8} {:<16} {:<10} {}{mark}",
                    clip(&terminal(&i.key), 36),
                    i.flag["severity"].as_str().unwrap_or(""),
                    v.as_ref().map_or("open", |v| v.kind.name()),
                    clip(
                        &terminal(v.as_ref().map_or("", |v| v.decided_by.as_str())),
                        10
                    ),
                    terminal(v.as_ref().and_then(|v| v.note.as_deref()).unwrap_or(""))
                );
                let _ = writeln!(o, "{}", clip(&line, width));
            }
            o
        }
    }
}

type InSource<'a> = &'a dyn Fn(&str) -> Option<bool>;

fn items_csv(state: &CampaignState, in_source: Option<InSource>) -> String {
    let mut head: Vec<String> = [
        "key",
        "rule",
        "severity",
        "staff_id",
        "subject_id",
        "occurred_at",
        "detail",
        "verdict",
        "note",
        "follow_up",
        "decided_by",
        "decided_at",
    ]
    .map(String::from)
    .to_vec();
    if in_source.is_some() {
        head.push("in_source".into());
    }
    let mut o = csv_row(&head);
    for (i, v) in &state.items {
        let f = |k: &str| i.flag[k].as_str().unwrap_or("").to_string();
        let mut row = vec![
            i.key.clone(),
            f("rule"),
            f("severity"),
            f("staff_id"),
            f("subject_id"),
            f("occurred_at"),
            f("detail"),
            v.as_ref().map_or(String::new(), |v| v.kind.name().into()),
            v.as_ref().and_then(|v| v.note.clone()).unwrap_or_default(),
            v.as_ref()
                .and_then(|v| v.follow_up.clone())
                .unwrap_or_default(),
            v.as_ref().map_or(String::new(), |v| v.decided_by.clone()),
            v.as_ref().map_or(String::new(), |v| v.decided_at.clone()),
        ];
        if let Some(s) = in_source {
            row.push(s(&i.key).map_or(String::new(), |b| b.to_string()));
        }
        o.push_str(&csv_row(&row));
    }
    o
}

fn items_md(state: &CampaignState, in_source: Option<InSource>) -> String {
    let mut o = String::from(
        "| # | key | severity | detail | verdict | note | follow-up | decided by | decided at |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for (n, (i, v)) in state.items.iter().enumerate() {
        let gone = match in_source.and_then(|s| s(&i.key)) {
            Some(false) => " (no longer in the source)",
            _ => "",
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {}{gone} | {} | {} | {} | {} | {} |",
            n + 1,
            md(&i.key),
            i.flag["severity"].as_str().unwrap_or(""),
            md(i.flag["detail"].as_str().unwrap_or("")),
            v.as_ref().map_or("open", |v| v.kind.name()),
            md(v.as_ref().and_then(|v| v.note.as_deref()).unwrap_or("")),
            md(v.as_ref()
                .and_then(|v| v.follow_up.as_deref())
                .unwrap_or("")),
            md(v.as_ref().map_or("", |v| v.decided_by.as_str())),
            v.as_ref().map_or("", |v| v.decided_at.as_str())
        );
    }
    o
}

/// `review export`: the evidence, in md (the default), csv or json.
pub fn export(state: &CampaignState, format: Format, chain_head: (i64, &str)) -> String {
    match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&export_json(state, chain_head.1))
                .expect("serialises");
            s.push('\n');
            s
        }
        Format::Csv => {
            let mut o = items_csv(state, None);
            let _ = writeln!(o, "# chain_head,{},entry {}", chain_head.1, chain_head.0);
            o
        }
        _ => {
            let c = &state.campaign;
            let mut o = String::new();
            let _ = writeln!(o, "# Access review: campaign {}, {}\n", c.id, md(&c.name));
            let _ = writeln!(o, "- Window: {} to {}, as of {}", c.from, c.to, c.as_of);
            let _ = writeln!(
                o,
                "- Source: {} database `{}`",
                md(c.source["dialect"].as_str().unwrap_or("")),
                md(c.source["database"].as_str().unwrap_or(""))
            );
            let _ = writeln!(o, "- Policy SHA-256: `{}`", c.policy_sha256);
            for (file, h) in &c.query_sha256 {
                let _ = writeln!(o, "- {file} SHA-256: `{h}`");
            }
            let _ = writeln!(o, "- Started by {} at {}", md(&c.created_by), c.created_at);
            let _ = writeln!(
                o,
                "- Chain head: `{}` (entry {})\n",
                chain_head.1, chain_head.0
            );
            let _ = writeln!(o, "## Counts\n\n| verdict | items |\n|---|---|");
            for (k, n) in state.counts() {
                let _ = writeln!(o, "| {k} | {n} |");
            }
            let _ = writeln!(o, "\n## Items ({})\n", state.items.len());
            o.push_str(&items_md(state, None));
            let _ = writeln!(
                o,
                "\nReviewed and signed off: ______________________  Date: __________"
            );
            o
        }
    }
}
