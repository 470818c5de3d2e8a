//! Tab 5, a subject: one person's timeline of accesses, requests and
//! disclosures about them.
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use crate::rules::Severity;
use crate::sanitize::terminal;
use crate::tui::app::App;
use crate::tui::data::Dataset;
use crate::tui::theme::{Theme, local, mask_email, person, selected, visible_rows};

/// One line of a person's timeline: an access, a request or a disclosure.
#[derive(Debug, Clone)]
pub struct TimelineEntry {
    pub at: crate::model::Instant,
    pub what: &'static str,
    pub mark: &'static str,
    pub severity: Option<Severity>,
    pub who: String,
    pub detail: String,
}

/// The Subjects tab's state: whose page is open, their accesses and timeline.
#[derive(Debug, Clone, Default)]
pub struct SubjectsTab {
    pub id: Option<String>,
    /// Row indices of accesses to this subject.
    pub view: Vec<u32>,
    /// Accesses, requests and disclosures about this subject, in time order.
    pub timeline: Vec<TimelineEntry>,
    pub sel: usize,
}

impl SubjectsTab {
    /// Opens (or refreshes) a subject's page.
    pub fn show(&mut self, d: Option<&Dataset>, id: Option<String>) {
        self.id = id;
        match d {
            Some(d) => {
                self.view = self.rows(d);
                self.timeline = self.timeline(d);
            }
            None => {
                self.view.clear();
                self.timeline.clear();
            }
        }
    }

    /// Row indices of accesses to the current subject.
    pub fn rows(&self, d: &Dataset) -> Vec<u32> {
        let Some(id) = &self.id else {
            return Vec::new();
        };
        let Some(sym) = d.symbols.get(id) else {
            return Vec::new();
        };
        d.rows
            .subject_column()
            .enumerate()
            .filter(|(_, s)| *s == Some(sym))
            .map(|(i, _)| i as u32)
            .collect()
    }

    /// The current subject's accesses, requests and disclosure items, by time.
    pub fn timeline(&self, d: &Dataset) -> Vec<TimelineEntry> {
        let Some(id) = &self.id else {
            return Vec::new();
        };
        let mut v: Vec<TimelineEntry> = Vec::new();
        for i in &self.view {
            let r = &d.rows.get(*i as usize);
            let e = &r.event;
            let detail = if r.flagged() {
                r.rule_list()
                    .iter()
                    .map(|x| x.name())
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                d.relationship(r)
                    .map(|rel| format!("{} {}", rel.kind, rel.reference.unwrap_or_default()))
                    .unwrap_or_else(|| "permitted".into())
            };
            v.push(TimelineEntry {
                at: e.occurred_at,
                what: "access",
                mark: "✓",
                severity: d.row_severity(r),
                who: d.symbols.resolve(e.staff).to_string(),
                detail: format!(
                    "{} {} · {detail}",
                    d.text(e.action),
                    d.text(e.data_category)
                ),
            });
        }
        for q in d
            .dir
            .requests
            .iter()
            .flatten()
            .filter(|q| q.subject_id.as_str() == id)
        {
            let channel = q.channel.clone().unwrap_or_default();
            v.push(TimelineEntry {
                at: q.received_at,
                what: "request",
                mark: "→",
                severity: None,
                who: q.request_id.to_string(),
                detail: format!("{} request received via {channel}", q.kind),
            });
            if let Some(c) = q.completed_at.filter(|c| *c <= d.header.as_of) {
                v.push(TimelineEntry {
                    at: c,
                    what: "request",
                    mark: "✓",
                    severity: None,
                    who: q.request_id.to_string(),
                    detail: format!("{} request completed", q.kind),
                });
            }
        }
        let disclosures: std::collections::HashMap<&str, &crate::model::Disclosure> = d
            .dir
            .disclosures
            .iter()
            .flatten()
            .map(|x| (x.disclosure_id.as_str(), x))
            .collect();
        for it in d
            .dir
            .disclosure_items
            .iter()
            .flatten()
            .filter(|i| i.subject_id.as_str() == id)
        {
            let Some(at) = it.disclosed_at.filter(|t| *t <= d.header.as_of) else {
                continue;
            };
            let to = disclosures
                .get(it.disclosure_id.as_str())
                .map(|x| format!("{} to {}", x.kind, x.requester))
                .unwrap_or_default();
            v.push(TimelineEntry {
                at,
                what: "disclosure",
                mark: "◆",
                severity: None,
                who: it.disclosure_id.to_string(),
                detail: format!(
                    "{} data · {to}",
                    it.data_category.clone().unwrap_or_default()
                ),
            });
        }
        v.sort_by_key(|e| e.at);
        v
    }
}

pub fn draw(app: &App, d: &Dataset, theme: &Theme, f: &mut Frame, area: Rect) {
    let Some(id) = &app.subjects.id else {
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
    let name = person(app, "subject", id, s.map(|x| x.display_name()));
    let email = s
        .and_then(|x| x.email())
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
            terminal(s.and_then(|x| x.jurisdiction()).unwrap_or("—")),
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
    let tl = &app.subjects.timeline;
    let range = visible_rows(app, list, app.subjects.sel, tl.len());
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
            selected(row, range.start + k == app.subjects.sel, theme)
        })
        .collect();
    let accesses = app.subjects.view.len();
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
