//! Tab 1, the overview: the window, counts, open legal deadlines, accesses
//! and flagged accesses per day, the worst staff and the rules by count.
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Sparkline, Table};

use crate::rules::Severity;
use crate::sanitize::{clip, terminal};
use crate::time::rfc3339;
use crate::tui::app::App;
use crate::tui::data::Dataset;
use crate::tui::theme::{Theme, person};

pub fn draw(app: &App, d: &Dataset, theme: &Theme, f: &mut Frame, area: Rect) {
    let sev = app.severity_counts();
    let staff_n = d.staff.len();
    let open_legal: Vec<_> = d
        .dir
        .disclosures
        .iter()
        .flatten()
        .filter(|x| {
            x.responded_at.is_none_or(|r| r > d.header.as_of)
                && crate::policy::norm(&x.status) == "open"
                && x.received_at <= d.header.as_of
        })
        .collect();
    let nearest = open_legal.iter().filter_map(|x| x.due_at).min();
    let overdue_requests = d
        .flags
        .iter()
        .filter(|f| f.rule == crate::rules::Rule::RequestOverdue)
        .count();
    let narrow = area.width < 100;
    let logs = &d.db_logs;
    let [figures, charts, lists] = Layout::vertical([
        Constraint::Length(if logs.is_empty() { 4 } else { 5 }),
        Constraint::Length(if area.height < 20 { 4 } else { 8 }),
        Constraint::Min(3),
    ])
    .areas(area);
    let mut fig = vec![
        Line::from(vec![
            Span::styled("Window ", theme.dim()),
            Span::raw(format!(
                "{} → {} ({})",
                rfc3339(d.header.from),
                rfc3339(d.header.to),
                d.policy.timezone.name()
            )),
        ]),
        Line::from(format!(
            "Accesses {}   Staff {}   Subjects {}   Source {} {}",
            d.rows.len(),
            staff_n,
            d.distinct_subjects,
            d.header.dialect,
            terminal(&d.header.database)
        )),
        Line::from(vec![
            Span::raw("Flags  "),
            Span::styled(
                format!("critical {}", sev[3]),
                theme.sev(Severity::Critical),
            ),
            Span::raw("  "),
            Span::styled(format!("high {}", sev[2]), theme.sev(Severity::High)),
            Span::raw("  "),
            Span::styled(format!("medium {}", sev[1]), theme.sev(Severity::Medium)),
            Span::raw("  "),
            Span::styled(format!("low {}", sev[0]), theme.sev(Severity::Low)),
        ]),
        Line::from(format!(
            "Open legal requests {}{}   Overdue subject requests {}",
            open_legal.len(),
            nearest
                .map(|n| format!(
                    " (next due {})",
                    crate::report::legal::clock(Some(n), false, d.header.as_of)
                ))
                .unwrap_or_default(),
            overdue_requests
        )),
    ];
    if !logs.is_empty() {
        // The reads that bypassed the application, and where they came from.
        fig.push(Line::from(vec![
            Span::styled("⛁ ", theme.accent()),
            Span::raw(format!(
                "{} database-log events from {} audit log{}: {}",
                logs.iter().map(|l| l.events).sum::<u64>(),
                logs.len(),
                if logs.len() == 1 { "" } else { "s" },
                logs.iter()
                    .map(|l| terminal(&l.file))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        ]));
    }
    f.render_widget(Paragraph::new(fig), figures);
    let [a, b] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(charts);
    let per_day: Vec<u64> = d.days.iter().map(|x| x.1).collect();
    let flagged: Vec<u64> = d.days.iter().map(|x| x.2).collect();
    f.render_widget(
        Sparkline::default()
            .block(Block::bordered().title("accesses per day"))
            .data(&per_day),
        a,
    );
    f.render_widget(
        Sparkline::default()
            .block(Block::bordered().title("flagged accesses per day"))
            .data(&flagged)
            .style(theme.sev(Severity::High)),
        b,
    );
    let [l, r] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(lists);
    let rows: Vec<Row> = d
        .staff
        .iter()
        .take(lists.height.saturating_sub(2) as usize)
        .map(|s| {
            let name = person(
                app,
                "staff",
                s.staff_id.as_str(),
                d.staff_name(s.staff_id.as_str()),
            );
            Row::new(vec![
                Cell::from(terminal(s.staff_id.as_str())),
                Cell::from(clip(&name, if narrow { 10 } else { 20 })),
                Cell::from(Span::styled(
                    format!("{}c {}h", s.by_severity[3], s.by_severity[2]),
                    theme.sev(Severity::High),
                )),
                Cell::from(format!("{}", s.by_severity.iter().sum::<u64>())),
            ])
        })
        .collect();
    f.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(6),
                Constraint::Min(8),
                Constraint::Length(9),
                Constraint::Length(6),
            ],
        )
        .block(Block::bordered().title("top flagged staff")),
        l,
    );
    let counts = crate::report::by_rule(&d.flags);
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    let rows: Vec<Row> = counts
        .iter()
        .take(lists.height.saturating_sub(2) as usize)
        .map(|(r, n)| Row::new(vec![Cell::from(r.name()), Cell::from(n.to_string())]))
        .collect();
    f.render_widget(
        Table::new(rows, [Constraint::Min(10), Constraint::Length(7)])
            .block(Block::bordered().title("rules by count")),
        r,
    );
}
