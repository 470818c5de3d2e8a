//! Drawing: one function per view, all reading [`App`] without changing it.
//! Only the visible slice of a list is built. Every string from a database
//! goes through [`crate::sanitize::terminal`]; personal data is masked unless
//! revealed; severity is always written as a word, never colour alone.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Sparkline, Table, Wrap};

use super::app::{App, HitKind, Mode, Tab};
use super::data::Dataset;
use super::keys::Binding;
use crate::rules::Severity;
use crate::sanitize::{clip, terminal};
use crate::time::rfc3339;

/// `Ava Okafor` → `Ava O•••••`: the first word, then initials.
pub fn mask_name(name: &str) -> String {
    let mut words = name.split_whitespace();
    let Some(first) = words.next() else {
        return String::new();
    };
    let mut out = first.to_string();
    for w in words {
        let mut chars = w.chars();
        if let Some(c) = chars.next() {
            out.push(' ');
            out.push(c);
            out.extend(std::iter::repeat_n('•', chars.count().max(1)));
        }
    }
    out
}

/// `ava.okafor@mail.example` → `a•••@mail…`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((user, domain)) => {
            let u: String = user.chars().take(1).collect();
            let d: String = domain.chars().take(4).collect();
            format!("{u}•••@{d}…")
        }
        None => "•••".into(),
    }
}

struct Theme {
    color: bool,
}

impl Theme {
    fn sev(&self, s: Severity) -> Style {
        if !self.color {
            return if s >= Severity::High {
                Style::new().add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            };
        }
        match s {
            Severity::Critical => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            Severity::High => Style::new().fg(Color::LightRed),
            Severity::Medium => Style::new().fg(Color::Yellow),
            Severity::Low => Style::new().fg(Color::Blue),
        }
    }
    fn selected(&self) -> Style {
        if self.color {
            Style::new()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }
    fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }
    fn accent(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }
    fn matched(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::UNDERLINED)
        }
    }
}

pub fn draw(app: &App, bindings: &[Binding], f: &mut Frame) {
    let theme = Theme { color: app.color };
    let area = f.area();
    let [tabs, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_tabs(app, &theme, f, tabs);
    match (&app.data, &app.error) {
        (_, Some(e)) => {
            let p = Paragraph::new(vec![
                Line::from(Span::styled("Could not load the source", theme.accent())),
                Line::from(terminal(e)),
                Line::from("r reloads, q quits"),
            ])
            .wrap(Wrap { trim: false })
            .block(Block::bordered());
            f.render_widget(p, body);
        }
        (None, None) => {
            let msg = app.loading.clone().unwrap_or_default();
            let p = Paragraph::new(vec![
                Line::from(Span::styled("keyhole", theme.accent())),
                Line::from(""),
                Line::from(format!("Loading: {msg}")),
                Line::from("Esc or q cancels and quits."),
            ])
            .block(Block::bordered());
            f.render_widget(p, body);
        }
        (Some(d), None) => match app.tab {
            Tab::Overview => overview(app, d, &theme, f, body),
            Tab::Flags => flags(app, d, &theme, f, body),
            Tab::Access => access(app, d, &theme, f, body),
            Tab::Staff => staff(app, d, &theme, f, body),
            Tab::Subjects => subject(app, d, &theme, f, body),
            Tab::Disclosures => disclosures(app, d, &theme, f, body),
            Tab::Requests => requests(app, d, &theme, f, body),
        },
    }
    draw_status(app, &theme, f, status);
    match app.mode {
        Mode::Help => help(bindings, &theme, f, area),
        Mode::Search => search(app, &theme, f, area),
        Mode::Breach => breach(app, &theme, f, area),
        _ => {}
    }
}

fn draw_tabs(app: &App, theme: &Theme, f: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    for (i, t) in Tab::ALL.iter().enumerate() {
        let label = if area.width < 90 {
            t.title().split(' ').next().unwrap_or("").to_string()
        } else {
            t.title().to_string()
        };
        let text = format!(" {} {label} ", i + 1);
        let style = if *t == app.tab {
            theme.selected()
        } else {
            Style::new()
        };
        spans.push(Span::styled(text, style));
    }
    if let Some(l) = &app.loading
        && app.data.is_some()
    {
        spans.push(Span::styled(format!(" ⟳ {}", clip(l, 30)), theme.dim()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_status(app: &App, theme: &Theme, f: &mut Frame, area: Rect) {
    let line = match app.mode {
        Mode::Filter => Line::from(vec![
            Span::styled("filter: ", theme.accent()),
            Span::raw(app.filter_text.clone()),
            Span::raw("▏"),
        ]),
        Mode::RevealReason => Line::from(vec![
            Span::styled("reason for revealing: ", theme.accent()),
            Span::raw(app.reveal_text.clone()),
            Span::raw("▏"),
        ]),
        _ => {
            let hint = "? help  / search  : filter  v reveal  e export  q back";
            let msg = terminal(&app.status);
            let room = (area.width as usize).saturating_sub(hint.len() + 2);
            Line::from(vec![
                Span::raw(clip(&msg, room)),
                Span::raw(" ".repeat(room.saturating_sub(msg.chars().count().min(room)) + 2)),
                Span::styled(hint, theme.dim()),
            ])
        }
    };
    f.render_widget(Paragraph::new(line), area);
}

fn person(app: &App, kind: &str, id: &str, name: Option<&str>) -> String {
    let key = format!("{kind}:{id}");
    match name {
        Some(n) if app.is_revealed(&key) => terminal(n),
        Some(n) => terminal(&mask_name(n)),
        None => String::new(),
    }
}

/// The body area below the tab line and above the status line.
pub fn body_rect(w: u16, h: u16) -> Rect {
    Rect {
        x: 0,
        y: 1,
        width: w,
        height: h.saturating_sub(2),
    }
}

/// Where the current tab draws its main list (the same layout as its draw function).
pub fn list_rect(app: &App, area: Rect) -> Option<Rect> {
    app.data.as_ref()?;
    Some(match app.tab {
        Tab::Overview => return None,
        Tab::Flags => Layout::vertical([
            Constraint::Min(5),
            Constraint::Length(if area.height < 20 { 5 } else { 8 }),
        ])
        .areas::<2>(area)[0],
        Tab::Access if area.width >= 120 => {
            Layout::horizontal([Constraint::Min(80), Constraint::Length(48)]).areas::<2>(area)[0]
        }
        Tab::Access => {
            Layout::vertical([Constraint::Min(5), Constraint::Length(5)]).areas::<2>(area)[0]
        }
        Tab::Staff if area.width >= 110 => {
            Layout::horizontal([Constraint::Length(52), Constraint::Min(40)]).areas::<2>(area)[0]
        }
        Tab::Staff => Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)])
            .areas::<2>(area)[0],
        Tab::Subjects => {
            app.subject.as_deref()?;
            Layout::vertical([Constraint::Length(3), Constraint::Min(4)]).areas::<2>(area)[1]
        }
        Tab::Disclosures => {
            Layout::vertical([Constraint::Min(5), Constraint::Length(9)]).areas::<2>(area)[0]
        }
        Tab::Requests => area,
    })
}

/// Which row of the current list a click at screen line `y` hits.
pub fn row_at(app: &App, sel: usize, len: usize, y: u16) -> Option<usize> {
    let list = list_rect(app, body_rect(app.size.0, app.size.1))?;
    let first = list.y + 2;
    if y < first || y >= list.y + list.height.saturating_sub(1) {
        return None;
    }
    let range = window(sel, len, list.height.saturating_sub(3) as usize);
    let i = range.start + (y - first) as usize;
    (i < range.end).then_some(i)
}

/// A table row, highlighted when it is the selection.
fn selected<'r>(row: Row<'r>, is_selected: bool, theme: &Theme) -> Row<'r> {
    if is_selected {
        row.style(theme.selected())
    } else {
        row
    }
}

/// The visible window of a list of `len` rows for a selection.
fn window(sel: usize, len: usize, height: usize) -> std::ops::Range<usize> {
    let h = height.max(1);
    let start = sel.saturating_sub(h - 1).min(len.saturating_sub(h));
    start..(start + h).min(len)
}

/// A time as `MM-DD HH:MM` in the display zone (the config's, else the policy's).
fn local(app: &App, d: &Dataset, t: crate::model::Instant) -> String {
    t.with_timezone(&app.display_timezone.unwrap_or(d.policy.timezone))
        .format("%m-%d %H:%M")
        .to_string()
}

fn overview(app: &App, d: &Dataset, theme: &Theme, f: &mut Frame, area: Rect) {
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
    let [figures, charts, lists] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(if area.height < 20 { 4 } else { 8 }),
        Constraint::Min(3),
    ])
    .areas(area);
    let fig = vec![
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
                    super::super::report::legal::clock(Some(n), false, d.header.as_of)
                ))
                .unwrap_or_default(),
            overdue_requests
        )),
    ];
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

fn flags(app: &App, d: &Dataset, theme: &Theme, f: &mut Frame, area: Rect) {
    let wide = area.width >= 120;
    let [list, detail] = Layout::vertical([
        Constraint::Min(5),
        Constraint::Length(if area.height < 20 { 5 } else { 8 }),
    ])
    .areas(area);
    let h = list.height.saturating_sub(3) as usize;
    let range = window(app.flag_sel, app.flag_order.len(), h);
    let rows: Vec<Row> = app.flag_order[range.clone()]
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
            selected(row, range.start + k == app.flag_sel, theme)
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
        (app.flag_sel + 1).min(app.flag_order.len()),
        app.flag_order.len(),
        app.flag_sort
    )
    .to_lowercase();
    f.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(theme.accent()))
            .block(Block::bordered().title(title)),
        list,
    );
    let text = match app
        .flag_order
        .get(app.flag_sel)
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

fn access(app: &App, d: &Dataset, theme: &Theme, f: &mut Frame, area: Rect) {
    let wide = area.width >= 120;
    let (list, detail) = if wide {
        let [l, r] = Layout::horizontal([Constraint::Min(80), Constraint::Length(48)]).areas(area);
        (l, r)
    } else {
        let [l, r] = Layout::vertical([Constraint::Min(5), Constraint::Length(5)]).areas(area);
        (l, r)
    };
    let h = list.height.saturating_sub(3) as usize;
    let range = window(app.access_sel, app.access_view.len(), h);
    let rows: Vec<Row> = app.access_view[range.clone()]
        .iter()
        .enumerate()
        .map(|(k, i)| {
            let r = &d.rows[*i as usize];
            let e = &r.event;
            let mark = match d.row_severity(r) {
                Some(s) => Span::styled("⚑", theme.sev(s)),
                None => Span::raw("✓"),
            };
            let mut cells = vec![
                Cell::from(local(app, d, e.occurred_at)),
                Cell::from(mark),
                Cell::from(terminal(d.symbols.resolve(e.staff))),
                Cell::from(terminal(d.text(e.subject))),
                Cell::from(terminal(d.text(e.action))),
                Cell::from(terminal(d.text(e.data_category))),
                Cell::from(terminal(d.text(e.purpose))),
            ];
            if wide || list.width >= 100 {
                cells.push(Cell::from(terminal(d.text(e.reference))));
            }
            let row = Row::new(cells);
            selected(row, range.start + k == app.access_sel, theme)
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(11),
        Constraint::Length(1),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(13),
        Constraint::Min(8),
    ];
    let mut header = vec![
        "when", "", "staff", "subject", "action", "category", "purpose",
    ];
    if wide || list.width >= 100 {
        widths.push(Constraint::Length(16));
        header.push("reference");
    }
    let filter = if app.filter == Default::default() {
        String::new()
    } else {
        format!(" · filter {}", terminal(&app.filter_text))
    };
    let title = format!(
        "accesses {}/{}{filter}",
        (app.access_sel + 1).min(app.access_view.len()),
        app.access_view.len()
    );
    f.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(theme.accent()))
            .block(Block::bordered().title(title)),
        list,
    );
    let text: Vec<Line> = match app
        .access_view
        .get(app.access_sel)
        .map(|i| &d.rows[*i as usize])
    {
        Some(r) => {
            let mut lines = Vec::new();
            for rule in r.rule_list() {
                let detail = d
                    .flags
                    .iter()
                    .find(|fl| fl.rule == rule && fl.event_ids.contains(&r.event.event_id))
                    .map(|fl| fl.detail.clone())
                    .unwrap_or_default();
                lines.push(Line::from(vec![
                    Span::styled(format!("⚑ {} ", rule.name()), theme.sev(d.severity(rule))),
                    Span::raw(terminal(&detail)),
                ]));
            }
            if lines.is_empty() {
                let why = match d.relationship(r) {
                    Some(rel) => {
                        format!("✓ explained by {}", terminal(&crate::rules::rel_text(rel)))
                    }
                    None => "✓ permitted by the role's policy; no relationship required".into(),
                };
                lines.push(Line::from(why));
            }
            lines.push(Line::from(Span::styled(
                format!(
                    "event {} · {} record(s) · ip {}",
                    terminal(r.event.event_id.as_str()),
                    r.event.record_count,
                    terminal(d.text(r.event.client_ip))
                ),
                theme.dim(),
            )));
            lines
        }
        None => vec![Line::from("No accesses match.")],
    };
    f.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title("why")),
        detail,
    );
}

fn staff(app: &App, d: &Dataset, theme: &Theme, f: &mut Frame, area: Rect) {
    let wide = area.width >= 110;
    let (list, profile) = if wide {
        let [l, r] = Layout::horizontal([Constraint::Length(52), Constraint::Min(40)]).areas(area);
        (l, r)
    } else {
        let [l, r] =
            Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(area);
        (l, r)
    };
    let h = list.height.saturating_sub(3) as usize;
    let range = window(app.staff_sel, d.staff.len(), h);
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
            selected(row, range.start + k == app.staff_sel, theme)
        })
        .collect();
    f.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(4),
                Constraint::Length(6),
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
    let Some(s) = d.staff.get(app.staff_sel) else {
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
        Line::from(format!(
            "{} accesses, {} distinct subjects",
            s.accesses, s.subjects
        )),
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

fn subject(app: &App, d: &Dataset, theme: &Theme, f: &mut Frame, area: Rect) {
    let Some(id) = &app.subject else {
        f.render_widget(
            Paragraph::new(
                "Choose a person: / searches, Enter on a flag or an access opens its subject.",
            )
            .block(Block::bordered().title("subject")),
            area,
        );
        return;
    };
    let s = d.dir.subjects.iter().find(|x| x.subject_id.as_str() == id);
    let name = person(app, "subject", id, s.map(|x| x.display_name.as_str()));
    let email = s
        .and_then(|x| x.email.as_deref())
        .map(|e| {
            if app.is_revealed(&format!("subject:{id}")) {
                terminal(e)
            } else {
                mask_email(e)
            }
        })
        .unwrap_or_default();
    let [head, list] = Layout::vertical([Constraint::Length(3), Constraint::Min(4)]).areas(area);
    let head_lines = vec![
        Line::from(vec![
            Span::styled(format!("subject {} ", terminal(id)), theme.accent()),
            Span::raw(name),
            Span::raw(format!("  {email}")),
        ]),
        Line::from(format!(
            "jurisdiction {}  {}{}",
            terminal(s.and_then(|x| x.jurisdiction.as_deref()).unwrap_or("—")),
            if s.is_some_and(|x| x.is_vip) {
                "VIP  "
            } else {
                ""
            },
            s.and_then(|x| x.staff_id.as_ref())
                .map(|x| format!("also staff {}", terminal(x.as_str())))
                .unwrap_or_default()
        )),
    ];
    f.render_widget(Paragraph::new(head_lines), head);
    let tl = &app.subject_timeline;
    let h = list.height.saturating_sub(3) as usize;
    let range = window(app.subject_sel, tl.len(), h);
    let rows: Vec<Row> = tl[range.clone()]
        .iter()
        .enumerate()
        .map(|(k, e)| {
            let mark = match e.severity {
                Some(sev) => Span::styled("⚑", theme.sev(sev)),
                None => Span::raw(e.mark),
            };
            let row = Row::new(vec![
                Cell::from(local(app, d, e.at)),
                Cell::from(mark),
                Cell::from(e.what),
                Cell::from(terminal(&e.who)),
                Cell::from(terminal(&e.detail)),
            ]);
            selected(row, range.start + k == app.subject_sel, theme)
        })
        .collect();
    let accesses = app.subject_view.len();
    f.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(11),
                Constraint::Length(1),
                Constraint::Length(10),
                Constraint::Length(8),
                Constraint::Min(10),
            ],
        )
        .header(Row::new(vec!["when", "", "what", "who", "detail"]).style(theme.accent()))
        .block(Block::bordered().title(format!(
            "timeline: {accesses} access(es), {} request and disclosure event(s)",
            tl.len() - accesses
        ))),
        list,
    );
}

fn disclosures(app: &App, d: &Dataset, theme: &Theme, f: &mut Frame, area: Rect) {
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
    let h = list.height.saturating_sub(3) as usize;
    let range = window(app.disclosure_sel, order.len(), h);
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
            selected(row, range.start + k == app.disclosure_sel, theme)
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
    let Some(x) = order.get(app.disclosure_sel).map(|i| &all[*i as usize]) else {
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

fn requests(app: &App, d: &Dataset, theme: &Theme, f: &mut Frame, area: Rect) {
    let all = d.dir.requests.as_deref().unwrap_or(&[]);
    let list: Vec<_> = d.request_order.iter().map(|i| &all[*i as usize]).collect();
    let h = area.height.saturating_sub(3) as usize;
    let range = window(app.request_sel, list.len(), h);
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
            selected(row, range.start + k == app.request_sel, theme)
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

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn help(bindings: &[Binding], theme: &Theme, f: &mut Frame, area: Rect) {
    let mut lines: Vec<Line> = bindings
        .iter()
        .filter(|b| !b.keys.is_empty())
        .map(|b| {
            Line::from(vec![
                Span::styled(format!("{:<22}", b.keys.join(" ")), theme.accent()),
                Span::raw(b.help),
            ])
        })
        .collect();
    lines.push(Line::from(vec![
        Span::styled(format!("{:<22}", "1 … 7"), theme.accent()),
        Span::raw("jump to a tab"),
    ]));
    let r = centered(area, 78, lines.len() as u16 + 2);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title("keys (Esc closes)")),
        r,
    );
}

fn breach(app: &App, theme: &Theme, f: &mut Frame, area: Rect) {
    let Some(b) = &app.breach else { return };
    let scope = if b.staff.is_empty() {
        format!("address {}", b.networks.join(", "))
    } else {
        format!("account {}", terminal(&b.staff.join(", ")))
    };
    let mut lines = vec![
        Line::from(Span::styled(
            format!("Breach review: {scope}"),
            theme.accent(),
        )),
        Line::from(format!(
            "{} accesses, {} people affected, {} records without a named subject",
            b.accesses, b.subjects, b.records_without_subject
        )),
        Line::from(format!(
            "aware since {} · earliest fixed deadline {}",
            b.aware_at,
            b.earliest_deadline.clone().unwrap_or_else(|| "none".into())
        )),
        Line::from(format!(
            "categories: {}",
            b.by_category
                .iter()
                .map(|(c, n)| format!("{} {n}", terminal(c)))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Line::from(""),
    ];
    let mut js: Vec<_> = b.by_jurisdiction.iter().collect();
    js.sort_by(|a, b| {
        a.deadline
            .cmp(&b.deadline)
            .then(a.jurisdiction.cmp(&b.jurisdiction))
    });
    // Leave room for the summary above and the hint below on a small screen.
    let room = (area.height as usize)
        .saturating_sub(lines.len() + 4)
        .max(1);
    let shown = if js.len() > room {
        room.saturating_sub(1)
    } else {
        js.len()
    };
    for j in &js[..shown] {
        lines.push(Line::from(format!(
            "{:<8} {:>4}  {:<26} {}",
            terminal(&j.jurisdiction),
            j.subjects,
            clip(&j.deadline, 26),
            terminal(&j.rule)
        )));
    }
    if shown < js.len() {
        lines.push(Line::from(Span::styled(
            format!(
                "… {} more jurisdiction(s): e exports them all",
                js.len() - shown
            ),
            theme.dim(),
        )));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "e exports the incident summary and notification list · any other key closes",
        theme.dim(),
    )));
    let r = centered(area, 84, (lines.len() as u16 + 2).min(area.height));
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title("breach review")),
        r,
    );
}

fn search(app: &App, theme: &Theme, f: &mut Frame, area: Rect) {
    let r = centered(area, 70, area.height.saturating_sub(4).max(6));
    f.render_widget(Clear, r);
    let [input, results] = Layout::vertical([Constraint::Length(3), Constraint::Min(1)]).areas(r);
    f.render_widget(
        Paragraph::new(format!("{}▏", app.search_text)).block(Block::bordered().title("search")),
        input,
    );
    let d = app.data.as_ref();
    let lines: Vec<Line> = app
        .search_hits
        .iter()
        .take(results.height.saturating_sub(2) as usize)
        .enumerate()
        .map(|(k, h)| {
            let (kind, label) = match h.kind {
                HitKind::Staff => (
                    "staff",
                    person(app, "staff", &h.id, d.and_then(|d| d.staff_name(&h.id))),
                ),
                HitKind::Subject => (
                    "subject",
                    person(app, "subject", &h.id, d.and_then(|d| d.subject_name(&h.id))),
                ),
                HitKind::Reference => ("reference", String::new()),
                HitKind::Rule => ("rule", String::new()),
            };
            // The id prefix of the matched text is shown with its matched characters highlighted.
            let mut spans = vec![Span::styled(format!("{kind:<10}"), theme.dim())];
            for (i, c) in terminal(&h.id).chars().enumerate() {
                let st = if h.matched.contains(&i) {
                    theme.matched()
                } else {
                    Style::new()
                };
                spans.push(Span::styled(c.to_string(), st));
            }
            spans.push(Span::raw(format!("  {label}")));
            let line = Line::from(spans);
            if k == app.search_sel {
                line.style(theme.selected())
            } else {
                line
            }
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered().title(format!("{} match(es) · Enter opens", app.search_hits.len())),
        ),
        results,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_emails_are_masked() {
        assert_eq!(mask_name("Ava Okafor"), "Ava O•••••");
        assert_eq!(mask_name("Ava"), "Ava");
        assert_eq!(mask_email("ava.okafor@mail.example"), "a•••@mail…");
    }

    #[test]
    fn the_window_keeps_the_selection_visible() {
        assert_eq!(window(0, 100, 10), 0..10);
        assert_eq!(window(15, 100, 10), 6..16);
        assert_eq!(window(99, 100, 10), 90..100);
        assert_eq!(window(0, 3, 10), 0..3);
    }
}
