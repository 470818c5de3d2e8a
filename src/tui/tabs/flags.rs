//! Tab 2, flags: every flag of the window in the chosen order, with the
//! selected flag's explanation below.
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use crate::sanitize::terminal;
use crate::time::rfc3339;
use crate::tui::app::App;
use crate::tui::data::Dataset;
use crate::tui::theme::{Theme, local, person, selected, visible_rows};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagSort {
    Time,
    Severity,
    Rule,
    Staff,
}

/// The Flags tab's state: the sort, the order it gives, the selection.
#[derive(Debug, Clone)]
pub struct FlagsTab {
    pub sort: FlagSort,
    pub order: Vec<u32>,
    pub sel: usize,
}

impl Default for FlagsTab {
    fn default() -> Self {
        FlagsTab {
            sort: FlagSort::Time,
            order: Vec::new(),
            sel: 0,
        }
    }
}

impl FlagsTab {
    /// Orders the flags by the current sort, keeping the selection in range.
    pub fn resort(&mut self, d: &Dataset) {
        let mut order: Vec<u32> = (0..d.flags.len() as u32).collect();
        match self.sort {
            FlagSort::Time => {}
            FlagSort::Severity => {
                order.sort_by_key(|i| std::cmp::Reverse(d.flags[*i as usize].severity))
            }
            FlagSort::Rule => order.sort_by_key(|i| d.flags[*i as usize].rule),
            FlagSort::Staff => order.sort_by(|a, b| {
                d.flags[*a as usize]
                    .staff_id
                    .cmp(&d.flags[*b as usize].staff_id)
            }),
        }
        self.order = order;
        self.sel = self.sel.min(self.order.len().saturating_sub(1));
    }
}

pub fn draw(app: &App, d: &Dataset, theme: &Theme, f: &mut Frame, area: Rect) {
    let wide = area.width >= 120;
    let [list, detail] = Layout::vertical([
        Constraint::Min(5),
        Constraint::Length(if area.height < 20 { 5 } else { 8 }),
    ])
    .areas(area);
    let range = visible_rows(app, list, app.flags.sel, app.flags.order.len());
    let rows: Vec<Row> = app.flags.order[range.clone()]
        .iter()
        .enumerate()
        .map(|(k, i)| {
            let fl = &d.flags[*i as usize];
            let target = fl
                .subject_id
                .as_ref()
                .or(fl.disclosure_id.as_ref())
                .or(fl.request_id.as_ref())
                .map(|x| terminal(x.as_str()))
                .unwrap_or_default();
            let mut cells = vec![
                Cell::from(local(app, d, fl.occurred_at)),
                Cell::from(Span::styled(fl.severity.name(), theme.sev(fl.severity))),
                Cell::from(fl.rule.name()),
                Cell::from(
                    fl.staff_id
                        .as_ref()
                        .map(|x| terminal(x.as_str()))
                        .unwrap_or_default(),
                ),
                Cell::from(target),
            ];
            if wide {
                cells.push(Cell::from(terminal(&fl.detail)));
            }
            let row = Row::new(cells);
            selected(row, range.start + k == app.flags.sel, theme)
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(11),
        Constraint::Length(8),
        Constraint::Length(23),
        Constraint::Length(6),
        Constraint::Length(8),
    ];
    let mut header = vec!["when", "severity", "rule", "staff", "subject"];
    if wide {
        widths.push(Constraint::Min(20));
        header.push("detail");
    }
    let title = format!(
        "flags {}/{} · sorted by {:?} (s)",
        (app.flags.sel + 1).min(app.flags.order.len()),
        app.flags.order.len(),
        app.flags.sort
    )
    .to_lowercase();
    f.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(theme.accent()))
            .block(Block::bordered().title(title)),
        list,
    );
    let text = match app
        .flags
        .order
        .get(app.flags.sel)
        .map(|i| &d.flags[*i as usize])
    {
        Some(fl) => {
            let mut lines = vec![Line::from(terminal(&fl.detail))];
            let who = fl
                .staff_id
                .as_ref()
                .map(|s| person(app, "staff", s.as_str(), d.staff_name(s.as_str())))
                .unwrap_or_default();
            let subj = fl
                .subject_id
                .as_ref()
                .map(|s| person(app, "subject", s.as_str(), d.subject_name(s.as_str())))
                .unwrap_or_default();
            lines.push(Line::from(Span::styled(
                {
                    let mut parts = Vec::new();
                    if let Some(s) = &fl.staff_id {
                        parts.push(format!("staff {} {who}", terminal(s.as_str())));
                    }
                    if let Some(s) = &fl.subject_id {
                        parts.push(format!("subject {} {subj}", terminal(s.as_str())));
                    }
                    parts.push(format!("at {}", rfc3339(fl.occurred_at)));
                    parts.push(format!("key {}", terminal(&fl.key)));
                    parts.join("  ")
                },
                theme.dim(),
            )));
            if !fl.event_ids.is_empty() {
                let ids: Vec<&str> = fl.event_ids.iter().take(12).map(|i| i.as_str()).collect();
                lines.push(Line::from(format!(
                    "events ({}): {}{}",
                    fl.event_ids.len(),
                    terminal(&ids.join(" ")),
                    if fl.event_ids.len() > 12 { " …" } else { "" }
                )));
            }
            lines.push(Line::from(Span::styled(
                "Enter: open subject (or staff member)",
                theme.dim(),
            )));
            lines
        }
        None => vec![Line::from("No flags in this window.")],
    };
    f.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title("why")),
        detail,
    );
}
