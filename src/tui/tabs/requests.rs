//! Tab 7, subject requests: open first, with their clocks and the accesses
//! that came after them.
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Cell, Row, Table};

use crate::rules::Severity;
use crate::sanitize::terminal;
use crate::tui::app::App;
use crate::tui::data::Dataset;
use crate::tui::theme::{Theme, selected, visible_rows};

/// The tab's state: the selection.
#[derive(Debug, Clone, Default)]
pub struct RequestsTab {
    pub sel: usize,
}

pub fn draw(app: &App, d: &Dataset, theme: &Theme, f: &mut Frame, area: Rect) {
    let all = d.dir.requests.as_deref().unwrap_or(&[]);
    let list: Vec<_> = d.request_order.iter().map(|i| &all[*i as usize]).collect();
    let range = visible_rows(app, area, app.requests.sel, list.len());
    let rows: Vec<Row> = list[range.clone()]
        .iter()
        .enumerate()
        .map(|(k, x)| {
            let overdue = d
                .flags
                .iter()
                .any(|fl| fl.request_id.as_ref() == Some(&x.request_id));
            let end = x
                .completed_at
                .filter(|c| *c <= d.header.as_of)
                .unwrap_or(d.header.as_of);
            let row = Row::new(vec![
                Cell::from(terminal(x.request_id.as_str())),
                Cell::from(terminal(x.subject_id.as_str())),
                Cell::from(terminal(&x.kind)),
                Cell::from(terminal(x.channel.as_deref().unwrap_or(""))),
                Cell::from(x.received_at.format("%Y-%m-%d").to_string()),
                Cell::from(format!("{} d", (end - x.received_at).num_days())),
                Cell::from(terminal(x.status.as_deref().unwrap_or(
                    if x.completed_at.is_some() {
                        "completed"
                    } else {
                        "open"
                    },
                ))),
                Cell::from(Span::styled(
                    {
                        // Accesses flagged because they came after this opt-out or deletion.
                        let rule = match crate::policy::norm(&x.kind).as_str() {
                            "opt_out" => Some(crate::rules::Rule::OptOutIgnored),
                            "deletion" => Some(crate::rules::Rule::AccessAfterDeletion),
                            _ => None,
                        };
                        let later = rule.map_or(0, |r| {
                            d.flags
                                .iter()
                                .filter(|fl| {
                                    fl.rule == r && fl.subject_id.as_ref() == Some(&x.subject_id)
                                })
                                .count()
                        });
                        let mut v = Vec::new();
                        if overdue {
                            v.push("request_overdue".to_string());
                        }
                        if later > 0 {
                            v.push(format!("⚑ {later} later access(es)"));
                        }
                        v.join(" ")
                    },
                    theme.sev(Severity::Medium),
                )),
            ]);
            selected(row, range.start + k == app.requests.sel, theme)
        })
        .collect();
    f.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(8),
                Constraint::Length(7),
                Constraint::Length(10),
                Constraint::Length(6),
                Constraint::Length(10),
                Constraint::Length(6),
                Constraint::Length(10),
                Constraint::Min(8),
            ],
        )
        .header(
            Row::new(vec![
                "request", "subject", "kind", "via", "received", "age", "status", "flags",
            ])
            .style(theme.accent()),
        )
        .block(Block::bordered().title(format!("subject requests, open first ({})", list.len()))),
        area,
    );
}
