//! Tab 6, disclosures: the legal-process register by urgency, with scope,
//! approvals, notice and what was sent against what was asked.
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use crate::rules::Severity;
use crate::sanitize::terminal;
use crate::time::rfc3339;
use crate::tui::app::App;
use crate::tui::data::Dataset;
use crate::tui::theme::{Theme, selected, visible_rows};

/// The tab's state: the selection.
#[derive(Debug, Clone, Default)]
pub struct DisclosuresTab {
    pub sel: usize,
}

pub fn draw(app: &App, d: &Dataset, theme: &Theme, f: &mut Frame, area: Rect) {
    let Some(all) = d.dir.disclosures.as_ref() else {
        f.render_widget(
            Paragraph::new("disclosures.sql is absent: the disclosure register is off.")
                .block(Block::bordered()),
            area,
        );
        return;
    };
    let [list, detail] = Layout::vertical([Constraint::Min(5), Constraint::Length(9)]).areas(area);
    let wide = area.width >= 110;
    let order = &d.disclosure_order;
    let range = visible_rows(app, list, app.disclosures.sel, order.len());
    let flags_of = |id: &crate::model::Id| -> Vec<&crate::rules::Flag> {
        d.flags
            .iter()
            .filter(|fl| fl.disclosure_id.as_ref() == Some(id))
            .collect()
    };
    let done = |x: &crate::model::Disclosure| {
        x.responded_at.is_some_and(|r| r <= d.header.as_of)
            || matches!(
                crate::policy::norm(&x.status).as_str(),
                "withdrawn" | "rejected"
            )
    };
    let rows: Vec<Row> = order[range.clone()]
        .iter()
        .enumerate()
        .map(|(k, i)| {
            let x = &all[*i as usize];
            let flags: Vec<&str> = flags_of(&x.disclosure_id)
                .iter()
                .map(|fl| fl.rule.name())
                .collect();
            let mut cells = vec![
                Cell::from(terminal(x.disclosure_id.as_str())),
                Cell::from(terminal(&x.kind)),
            ];
            if wide {
                cells.push(Cell::from(terminal(&x.requester)));
            }
            let row = Row::new(cells.into_iter().chain([
                Cell::from(x.received_at.format("%Y-%m-%d").to_string()),
                Cell::from(crate::report::legal::clock(
                    x.due_at,
                    done(x),
                    d.header.as_of,
                )),
                Cell::from(terminal(&x.status)),
                Cell::from(Span::styled(flags.join(" "), theme.sev(Severity::High))),
            ]));
            selected(row, range.start + k == app.disclosures.sel, theme)
        })
        .collect();
    f.render_widget(
        Table::new(
            rows,
            if wide {
                vec![
                    Constraint::Length(4),
                    Constraint::Length(20),
                    Constraint::Min(12),
                    Constraint::Length(10),
                    Constraint::Length(17),
                    Constraint::Length(18),
                    Constraint::Min(10),
                ]
            } else {
                // The requester is in the pane below on a narrow screen.
                vec![
                    Constraint::Length(3),
                    Constraint::Length(20),
                    Constraint::Length(10),
                    Constraint::Length(17),
                    Constraint::Length(10),
                    Constraint::Min(8),
                ]
            },
        )
        .header(
            Row::new(if wide {
                vec![
                    "id",
                    "kind",
                    "requester",
                    "received",
                    "deadline",
                    "status",
                    "flags",
                ]
            } else {
                vec!["id", "kind", "received", "deadline", "status", "flags"]
            })
            .style(theme.accent()),
        )
        .block(Block::bordered().title(format!("disclosures by urgency ({})", order.len()))),
        list,
    );
    let Some(x) = order.get(app.disclosures.sel).map(|i| &all[*i as usize]) else {
        return;
    };
    let items: Vec<_> = d
        .dir
        .disclosure_items
        .iter()
        .flatten()
        .filter(|i| {
            i.disclosure_id == x.disclosure_id && i.disclosed_at.is_none_or(|t| t <= d.header.as_of)
        })
        .collect();
    let in_scope = |c: &Option<String>| {
        x.requested_categories.is_empty()
            || c.as_deref()
                .map(crate::policy::norm)
                .is_some_and(|c| x.requested_categories.contains(&c))
    };
    let mut cats: std::collections::BTreeMap<String, usize> = Default::default();
    for i in &items {
        *cats
            .entry(i.data_category.clone().unwrap_or_else(|| "(none)".into()))
            .or_default() += 1;
    }
    let opt = |t: Option<crate::model::Instant>| t.map(rfc3339).unwrap_or_else(|| "—".into());
    let mut lines = vec![
        Line::from(format!(
            "{} {} from {} · ref {} · approved by {}",
            terminal(&x.kind),
            terminal(x.disclosure_id.as_str()),
            terminal(&x.requester),
            terminal(x.authority_ref.as_deref().unwrap_or("—")),
            terminal(x.approved_by.as_deref().unwrap_or("nobody"))
        )),
        Line::from(format!(
            "received {} · due {} · answered {}",
            rfc3339(x.received_at),
            opt(x.due_at),
            opt(x.responded_at.filter(|r| *r <= d.header.as_of))
        )),
        Line::from(format!(
            "gag order until {} · subjects notified {}",
            opt(x.nondisclosure_until),
            opt(x.subjects_notified_at.filter(|t| *t <= d.header.as_of))
        )),
        Line::from(format!(
            "requested {} · sent {} item(s): {}",
            if x.requested_categories.is_empty() {
                "(no scope stated)".to_string()
            } else {
                x.requested_categories.join(", ")
            },
            items.len(),
            cats.iter()
                .map(|(c, n)| format!("{} {n}", terminal(c)))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    ];
    for i in items.iter().filter(|i| !in_scope(&i.data_category)).take(2) {
        lines.push(Line::from(Span::styled(
            format!(
                "⚑ out of scope: subject {} {}",
                terminal(i.subject_id.as_str()),
                terminal(i.data_category.as_deref().unwrap_or("(none)"))
            ),
            theme.sev(Severity::Critical),
        )));
    }
    for fl in flags_of(&x.disclosure_id) {
        lines.push(Line::from(vec![
            Span::styled(format!("⚑ {} ", fl.rule.name()), theme.sev(fl.severity)),
            Span::raw(terminal(&fl.detail)),
        ]));
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title("scope, approvals and notice")),
        detail,
    );
}
