//! Tab 3, the access log: every access (or those the filter keeps), with the
//! selected access's verdict and context.
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use crate::rules::Rule;
use crate::sanitize::terminal;
use crate::tui::app::App;
use crate::tui::data::Dataset;
use crate::tui::theme::{Theme, local, selected, visible_rows};

message_error!(
    /// A filter bar entry keyhole cannot read.
    FilterError
);

/// The filter bar: `staff:104 rule:vip_access since:2026-03-01`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub staff: Option<String>,
    pub subject: Option<String>,
    pub rule: Option<Rule>,
    pub category: Option<String>,
    pub purpose: Option<String>,
    pub since: Option<chrono::NaiveDate>,
    pub until: Option<chrono::NaiveDate>,
    pub flagged_only: bool,
    /// `source:db`: only accesses read from a database audit log;
    /// `source:app`: only the application's.
    pub source: Option<Origin>,
}

/// Where an access was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The application's access log (`access_events.sql`).
    App,
    /// A database audit log (pgAudit, server_audit).
    Db,
}

impl Filter {
    pub fn parse(s: &str) -> Result<Filter, FilterError> {
        let mut f = Filter::default();
        for word in s.split_whitespace() {
            let (k, v) = word
                .split_once(':')
                .ok_or_else(|| format!("{word:?}: expected key:value"))?;
            let date = |v: &str| {
                chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .map_err(|_| format!("{word:?}: expected a date like 2026-03-01"))
            };
            match k {
                "staff" => f.staff = Some(v.into()),
                "subject" => f.subject = Some(v.into()),
                "rule" => {
                    f.rule = Some(Rule::from_name(v).ok_or_else(|| format!("unknown rule {v:?}"))?)
                }
                "category" => f.category = Some(v.to_lowercase()),
                "purpose" => f.purpose = Some(v.to_lowercase()),
                "since" => f.since = Some(date(v)?),
                "until" => f.until = Some(date(v)?),
                "flagged" => f.flagged_only = matches!(v, "yes" | "true" | "1"),
                "source" => {
                    f.source = Some(match v {
                        "db" => Origin::Db,
                        "app" => Origin::App,
                        _ => return Err(format!("{word:?}: source is db or app").into()),
                    })
                }
                _ => {
                    return Err(format!(
                        "unknown filter {k:?} (staff, subject, rule, category, purpose, since, until, flagged, source)"
                    ).into());
                }
            }
        }
        Ok(f)
    }
}

/// The Access log tab's state: the filter and the rows it keeps.
#[derive(Debug, Clone, Default)]
pub struct AccessTab {
    /// Row indices of the accesses shown.
    pub view: Vec<u32>,
    pub sel: usize,
    pub filter: Filter,
    pub filter_text: String,
}

impl AccessTab {
    /// Recomputes the access log's visible rows (off the render path).
    pub fn apply(&mut self, d: &Dataset) {
        let f = &self.filter;
        let tz = d.policy.timezone;
        let staff = f.staff.as_deref().and_then(|s| d.symbols.get(s));
        let subject = f.subject.as_deref().and_then(|s| d.symbols.get(s));
        let missing =
            (f.staff.is_some() && staff.is_none()) || (f.subject.is_some() && subject.is_none());
        self.view = if missing {
            Vec::new()
        } else {
            // Each (action, category, purpose) is compared once, not once per row.
            let shape_ok: Vec<bool> = d
                .rows
                .shapes()
                .iter()
                .map(|[_, category, purpose]| {
                    f.category
                        .as_deref()
                        .is_none_or(|c| d.text(*category).to_lowercase() == c)
                        && f.purpose
                            .as_deref()
                            .is_none_or(|p| d.text(*purpose).to_lowercase() == p)
                })
                .collect();
            // Local days as bounds in nanoseconds: `since` from its first
            // instant, `until` to the start of the next day.
            let bound = |day: chrono::NaiveDate| {
                crate::time::local_day_start(day, tz)
                    .timestamp_nanos_opt()
                    .unwrap_or(i64::MAX)
            };
            let lo = f.since.map_or(i64::MIN, bound);
            let hi = f.until.and_then(|u| u.succ_opt()).map_or(i64::MAX, bound);
            let wanted = |i: usize, rules: u32| {
                staff.is_none_or(|s| d.rows.staff(i) == s)
                    && subject.is_none_or(|s| d.rows.subject(i) == Some(s))
                    && f.rule.is_none_or(|x| rules & (1 << (x as u32)) != 0)
            };
            let mut view = Vec::new();
            if f.source == Some(Origin::Db) {
                // Database-log accesses are few: walk those.
                for i in d.rows.db_rows() {
                    let t = d.rows.time(i);
                    if wanted(i, d.rows.rules(i))
                        && t >= lo
                        && t < hi
                        && shape_ok[d.rows.shape(i) as usize]
                        && (!f.flagged_only || d.rows.rules(i) != 0)
                    {
                        view.push(i as u32);
                    }
                }
            } else if f.rule.is_some() || f.flagged_only {
                // Only flagged rows can match: walk those.
                for &(i, rules) in d.rows.flagged() {
                    let i = i as usize;
                    if wanted(i, rules) {
                        view.push(i as u32);
                    }
                }
                view.retain(|i| {
                    let t = d.rows.time(*i as usize);
                    t >= lo && t < hi && shape_ok[d.rows.shape(*i as usize) as usize]
                });
            } else if lo == i64::MIN
                && hi == i64::MAX
                && staff.is_none()
                && subject.is_none()
                && shape_ok.iter().all(|x| *x)
            {
                view = (0..d.rows.len() as u32).collect();
            } else {
                view = d.rows.scan(lo..hi, staff, subject, &shape_ok);
            }
            if f.source == Some(Origin::App) {
                view.retain(|i| d.rows.db(*i as usize).is_none());
            }
            view
        };
        self.sel = self.sel.min(self.view.len().saturating_sub(1));
    }
}

pub fn draw(app: &App, d: &Dataset, theme: &Theme, f: &mut Frame, area: Rect) {
    // The why panel only beside a list that keeps every column whole.
    let wide = area.width >= 130;
    let (list, detail) = if wide {
        let [l, r] = Layout::horizontal([Constraint::Min(80), Constraint::Length(48)]).areas(area);
        (l, r)
    } else {
        let [l, r] = Layout::vertical([Constraint::Min(5), Constraint::Length(5)]).areas(area);
        (l, r)
    };
    let range = visible_rows(app, list, app.access.sel, app.access.view.len());
    let rows: Vec<Row> = app.access.view[range.clone()]
        .iter()
        .enumerate()
        .map(|(k, i)| {
            let r = &d.rows.get(*i as usize);
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
                if e.db.is_some() {
                    // A database log records no purpose: say where the access was seen.
                    Cell::from(Span::styled("⛁ database log", theme.accent()))
                } else {
                    Cell::from(terminal(d.text(e.purpose)))
                },
            ];
            if list.width >= 100 {
                cells.push(Cell::from(if e.db.is_some() {
                    // FILE:LINE of the statement.
                    let id = e.event_id.as_str();
                    let at = id.match_indices(':').nth(1).map_or(id.len(), |(k, _)| k);
                    terminal(&id[..at])
                } else {
                    terminal(d.text(e.reference))
                }));
            }
            let row = Row::new(cells);
            selected(row, range.start + k == app.access.sel, theme)
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(11),
        Constraint::Length(1),
        // A database login shown as `db:NAME` needs more than a staff id.
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(13),
        Constraint::Min(8),
    ];
    let mut header = vec![
        "when", "", "staff", "subject", "action", "category", "purpose",
    ];
    if list.width >= 100 {
        // The purpose gets what it needs, the reference (last) the rest.
        widths[2] = Constraint::Length(9);
        widths[6] = Constraint::Length(24);
        widths.push(Constraint::Min(16));
        header.push("reference");
    }
    let filter = if app.access.filter == Default::default() {
        String::new()
    } else {
        format!(" · filter {}", terminal(&app.access.filter_text))
    };
    let title = format!(
        "accesses {}/{}{filter}",
        (app.access.sel + 1).min(app.access.view.len()),
        app.access.view.len()
    );
    f.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(theme.accent()))
            .block(Block::bordered().title(title)),
        list,
    );
    let text: Vec<Line> = match app
        .access
        .view
        .get(app.access.sel)
        .map(|i| d.rows.get(*i as usize))
    {
        Some(ref r) => {
            let mut lines = Vec::new();
            // Where the access was seen comes first for a database-log access.
            let mut rules = r.rule_list();
            rules.sort_by_key(|x| *x != Rule::DirectDbAccess);
            for rule in rules {
                let detail = d
                    .flag_for(r, rule)
                    .map(|fl| fl.detail.clone())
                    .unwrap_or_default();
                lines.push(Line::from(vec![
                    Span::styled(format!("⚑ {} ", rule.name()), theme.sev(d.severity(rule))),
                    Span::raw(terminal(&detail)),
                ]));
                // The first thing a reviewer asks of an unexplained access.
                if rule == Rule::NoRelationship {
                    let miss = d.nearest_miss(r);
                    lines.push(Line::from(Span::styled(
                        match miss {
                            Some(m) => format!("  {}", terminal(&crate::rules::miss_text(&m))),
                            None => "  nearest: no relationship of any kind with this person at that time".into(),
                        },
                        theme.dim(),
                    )));
                }
            }
            if let Some(db) = r.event.db
                && !r.rule_list().contains(&Rule::DirectDbAccess)
            {
                lines.push(Line::from(vec![
                    Span::styled("⛁ database audit log ", theme.accent()),
                    Span::raw(terminal(d.symbols.resolve(db))),
                ]));
            }
            if lines.is_empty() {
                let why = match d.relationship(r) {
                    Some(rel) => {
                        format!("✓ explained by {}", terminal(&crate::rules::rel_text(&rel)))
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
