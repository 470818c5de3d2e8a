//! Tab 4, staff: the ranking shared with `report staff`, and the selected
//! person's profile: accesses per day, categories, subjects, rules.
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Sparkline, Table, Wrap};

use crate::rules::Severity;
use crate::sanitize::{clip, terminal};
use crate::tui::app::App;
use crate::tui::data::Dataset;
use crate::tui::theme::{Theme, local, person, selected, visible_rows};

/// The tab's state: the selection.
#[derive(Debug, Clone, Default)]
pub struct StaffTab {
    pub sel: usize,
}

pub fn draw(app: &App, d: &Dataset, theme: &Theme, f: &mut Frame, area: Rect) {
    let wide = area.width >= 110;
    let (list, profile) = if wide {
        let [l, r] = Layout::horizontal([Constraint::Length(52), Constraint::Min(40)]).areas(area);
        (l, r)
    } else {
        let [l, r] =
            Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(area);
        (l, r)
    };
    let range = visible_rows(app, list, app.staff.sel, d.staff.len());
    let rows: Vec<Row> = d.staff[range.clone()]
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let role = d
                .dir
                .staff
                .iter()
                .find(|x| x.staff_id == s.staff_id)
                .and_then(|x| x.role.clone())
                .unwrap_or_else(|| "unknown".into());
            let row = Row::new(vec![
                Cell::from(format!("{}", range.start + k + 1)),
                Cell::from(terminal(s.staff_id.as_str())),
                Cell::from(clip(&terminal(&role), 14)),
                Cell::from(Span::styled(
                    format!("{}", s.by_severity[3]),
                    theme.sev(Severity::Critical),
                )),
                Cell::from(Span::styled(
                    format!("{}", s.by_severity[2]),
                    theme.sev(Severity::High),
                )),
                Cell::from(format!("{}", s.accesses)),
            ]);
            selected(row, range.start + k == app.staff.sel, theme)
        })
        .collect();
    f.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(4),
                Constraint::Length(8),
                Constraint::Length(14),
                Constraint::Length(5),
                Constraint::Length(5),
                Constraint::Length(8),
            ],
        )
        .header(
            Row::new(vec!["#", "staff", "role", "crit", "high", "accesses"]).style(theme.accent()),
        )
        .block(Block::bordered().title("staff ranked by risk")),
        list,
    );
    let Some(s) = d.staff.get(app.staff.sel) else {
        return;
    };
    let st = d.dir.staff.iter().find(|x| x.staff_id == s.staff_id);
    let name = person(
        app,
        "staff",
        s.staff_id.as_str(),
        st.map(|x| x.display_name.as_str()),
    );
    let role = st
        .and_then(|x| x.role.clone())
        .unwrap_or_else(|| "not in staff.sql".into());
    let permitted = d
        .policy
        .role(Some(&role))
        .map(|r| crate::rules::list(&r.categories))
        .unwrap_or_else(|| "none (not in the policy)".into());
    // Reads straight from the database, which the application never logged.
    let direct: Vec<usize> = match d.symbols.get(s.staff_id.as_str()) {
        Some(sym) => d
            .rows
            .db_rows()
            .filter(|i| d.rows.staff(*i) == sym)
            .collect(),
        None => Vec::new(),
    };
    let [head, chart, rest] = Layout::vertical([
        Constraint::Length(5),
        Constraint::Length(if profile.height < 16 { 3 } else { 5 }),
        Constraint::Min(2),
    ])
    .areas(profile);
    let lines = vec![
        Line::from(vec![
            Span::styled(
                format!("{} ", terminal(s.staff_id.as_str())),
                theme.accent(),
            ),
            Span::raw(name),
        ]),
        Line::from(format!(
            "role {}  department {}",
            terminal(&role),
            terminal(st.and_then(|x| x.department.as_deref()).unwrap_or("—"))
        )),
        Line::from(vec![
            Span::raw(format!(
                "{} accesses, {} distinct subjects",
                s.accesses, s.subjects
            )),
            Span::styled(
                if direct.is_empty() {
                    String::new()
                } else {
                    format!(" · ⛁ {} read in the database directly", direct.len())
                },
                theme.accent(),
            ),
        ]),
        Line::from(format!("permitted categories: {permitted}")),
    ];
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::TOP).title("profile")),
        head,
    );
    f.render_widget(
        Sparkline::default()
            .data(&s.per_day)
            .block(Block::bordered().title("accesses per day")),
        chart,
    );
    let mut lines = vec![Line::from(Span::styled("categories touched", theme.dim()))];
    let allowed = d
        .policy
        .role(Some(&role))
        .map(|r| r.categories.clone())
        .unwrap_or_default();
    for (c, n) in s.categories.iter().take(4) {
        let ok = allowed.contains(&crate::policy::norm(c));
        lines.push(Line::from(format!(
            "  {} {} {n}",
            if ok { "✓" } else { "⚑" },
            terminal(c)
        )));
    }
    if !direct.is_empty() {
        let mut people: Vec<_> = direct.iter().filter_map(|i| d.rows.subject(*i)).collect();
        people.sort_unstable();
        people.dedup();
        lines.push(Line::from(Span::styled(
            format!(
                "⛁ direct database reads: {} ({} people) · filter staff:{} source:db lists them",
                direct.len(),
                people.len(),
                terminal(s.staff_id.as_str())
            ),
            theme.accent(),
        )));
        for i in direct.iter().rev().take(3) {
            let r = d.rows.get(*i);
            let id = r.event.event_id.as_str();
            let table = id.split(':').nth(2).unwrap_or("");
            lines.push(Line::from(format!(
                "  {} {} {} {} {}",
                local(app, d, r.event.occurred_at),
                terminal(d.text(r.event.action)),
                terminal(table),
                terminal(d.text(r.event.subject)),
                terminal(d.text(r.event.data_category)),
            )));
        }
    }
    lines.push(Line::from(Span::styled("flags by rule", theme.dim())));
    for r in crate::rules::Rule::ALL {
        let n = s.by_rule[r as usize];
        if n > 0 {
            lines.push(Line::from(format!("  {} {n}", r.name())));
        }
    }
    lines.push(Line::from(Span::styled("subjects seen most", theme.dim())));
    for (sid, n) in &s.top_subjects {
        lines.push(Line::from(format!(
            "  {} {} ×{n}",
            terminal(sid),
            person(app, "subject", sid, d.subject_name(sid))
        )));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), rest);
}
