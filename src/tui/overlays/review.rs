//! Review mode (`R`): a campaign's items one by one with the flag's
//! explanation and the access's context, one key per verdict, a note
//! prompt, a follow-up choice after a violation, progress by severity, and
//! the staff member's verdicts in other campaigns. A verdict is shown as
//! unsaved until the ledger has it, and is sent again until it can be
//! written.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table, Wrap};

use crate::ledger::review::{FOLLOW_UPS, check_verdict};
use crate::ledger::{CampaignState, VerdictKind};
use crate::sanitize::{clip, terminal};
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keys::Binding;
use crate::tui::reveal::LedgerWrite;
use crate::tui::theme::{Theme, person, selected, visible_rows};

/// Where the reviewer is in deciding one item.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Browse,
    /// Typing the note of a verdict.
    Note {
        kind: VerdictKind,
        text: String,
    },
    /// Choosing what follows a violation.
    FollowUp {
        note: String,
    },
}

/// A verdict sent to the ledger and not yet confirmed.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub kind: VerdictKind,
    pub note: Option<String>,
    pub follow_up: Option<String>,
    /// Why the last attempt failed, if it did.
    pub failed: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ReviewState {
    /// Every campaign in the ledger (loaded on `R`).
    pub campaigns: Vec<CampaignState>,
    pub loading: bool,
    /// Choosing a campaign rather than reviewing one.
    pub picking: bool,
    pub pick_sel: usize,
    /// Index into `campaigns` of the campaign under review.
    pub current: Option<usize>,
    pub sel: usize,
    pub step: Option<Step>,
    /// Verdicts the ledger has not confirmed, by item key.
    pub unsaved: BTreeMap<String, Pending>,
    ticks: u32,
}

/// What a review action asks of the app.
#[derive(Debug, Clone)]
pub enum Outcome {
    Stay,
    Close,
    Status(String),
    Send(LedgerWrite),
}

impl ReviewState {
    pub fn state(&self) -> Option<&CampaignState> {
        self.current.and_then(|i| self.campaigns.get(i))
    }

    fn item_key(&self) -> Option<String> {
        self.state()?
            .items
            .get(self.sel)
            .map(|(i, _)| i.key.clone())
    }

    /// The campaigns arrived: pick the newest with open items.
    pub fn loaded(&mut self, campaigns: Vec<CampaignState>) {
        self.loading = false;
        self.pick_sel = campaigns
            .iter()
            .rposition(|c| c.decided() < c.items.len())
            .unwrap_or(campaigns.len().saturating_sub(1));
        self.campaigns = campaigns;
        self.picking = true;
        self.current = None;
    }

    fn decided(&self, key: &str) -> bool {
        self.unsaved.contains_key(key)
            || self
                .state()
                .is_some_and(|s| s.items.iter().any(|(i, v)| i.key == key && v.is_some()))
    }

    fn move_undecided(&mut self, forward: bool) -> Outcome {
        let Some(s) = self.state() else {
            return Outcome::Stay;
        };
        let n = s.items.len();
        let keys: Vec<String> = s.items.iter().map(|(i, _)| i.key.clone()).collect();
        for step in 1..=n {
            let i = if forward {
                (self.sel + step) % n
            } else {
                (self.sel + n - step % n) % n
            };
            if !self.decided(&keys[i]) {
                self.sel = i;
                return Outcome::Stay;
            }
        }
        Outcome::Status("every item has a verdict".into())
    }

    fn verdict(
        &self,
        kind: VerdictKind,
        note: Option<String>,
        follow_up: Option<String>,
    ) -> Outcome {
        let (Some(s), Some(key)) = (self.state(), self.item_key()) else {
            return Outcome::Stay;
        };
        Outcome::Send(LedgerWrite::Verdict {
            campaign: s.campaign.id,
            key,
            kind,
            note,
            follow_up,
        })
    }

    /// Records a verdict as sent (unsaved until confirmed).
    pub fn sent(&mut self, w: &LedgerWrite) {
        if let LedgerWrite::Verdict {
            key,
            kind,
            note,
            follow_up,
            ..
        } = w
        {
            self.unsaved.insert(
                key.clone(),
                Pending {
                    kind: *kind,
                    note: note.clone(),
                    follow_up: follow_up.clone(),
                    failed: None,
                },
            );
        }
    }

    /// The ledger's answer.
    pub fn recorded(
        &mut self,
        campaign: i64,
        key: &str,
        result: Result<(String, String), String>,
    ) -> Outcome {
        match result {
            Ok((by, at)) => {
                let Some(p) = self.unsaved.remove(key) else {
                    return Outcome::Stay;
                };
                if let Some(c) = self
                    .campaigns
                    .iter_mut()
                    .find(|c| c.campaign.id == campaign)
                    && let Some((_, v)) = c.items.iter_mut().find(|(i, _)| i.key == key)
                {
                    *v = Some(crate::ledger::Verdict {
                        kind: p.kind,
                        note: p.note,
                        follow_up: p.follow_up,
                        decided_by: by,
                        decided_at: at,
                        seq: 0,
                    });
                }
                Outcome::Status(format!("{key}: {} saved", p_name(p.kind)))
            }
            Err(e) => {
                if let Some(p) = self.unsaved.get_mut(key) {
                    p.failed = Some(e.clone());
                }
                Outcome::Status(format!("{key}: unsaved ({e}); it is kept and sent again"))
            }
        }
    }

    /// Unsaved verdicts to send again, every few seconds.
    pub fn retries(&mut self, campaign: Option<i64>) -> Vec<LedgerWrite> {
        self.ticks += 1;
        if !self.ticks.is_multiple_of(12) {
            return Vec::new();
        }
        let Some(campaign) = campaign else {
            return Vec::new();
        };
        self.unsaved
            .iter_mut()
            .filter(|(_, p)| p.failed.is_some())
            .map(|(key, p)| {
                p.failed = None;
                LedgerWrite::Verdict {
                    campaign,
                    key: key.clone(),
                    kind: p.kind,
                    note: p.note.clone(),
                    follow_up: p.follow_up.clone(),
                }
            })
            .collect()
    }

    pub fn update(&mut self, action: Action, page: usize) -> Outcome {
        if self.picking {
            return match action {
                Action::Back | Action::Quit => Outcome::Close,
                Action::Up => {
                    self.pick_sel = self.pick_sel.saturating_sub(1);
                    Outcome::Stay
                }
                Action::Down => {
                    self.pick_sel = (self.pick_sel + 1).min(self.campaigns.len().saturating_sub(1));
                    Outcome::Stay
                }
                Action::Submit | Action::Open if !self.campaigns.is_empty() => {
                    self.current = Some(self.pick_sel);
                    self.picking = false;
                    self.step = Some(Step::Browse);
                    // Open on the first item without a verdict.
                    let keys: Vec<String> = self
                        .state()
                        .map(|s| s.items.iter().map(|(i, _)| i.key.clone()).collect())
                        .unwrap_or_default();
                    self.sel = keys.iter().position(|k| !self.decided(k)).unwrap_or(0);
                    Outcome::Stay
                }
                _ => Outcome::Stay,
            };
        }
        match self.step.clone().unwrap_or(Step::Browse) {
            Step::Note { kind, mut text } => match action {
                Action::Back | Action::Quit => {
                    self.step = Some(Step::Browse);
                    Outcome::Status("verdict cancelled".into())
                }
                Action::Input(c) => {
                    text.push(c);
                    self.step = Some(Step::Note { kind, text });
                    Outcome::Stay
                }
                Action::Backspace => {
                    text.pop();
                    self.step = Some(Step::Note { kind, text });
                    Outcome::Stay
                }
                Action::Submit => {
                    let note = text.trim().to_string();
                    if kind == VerdictKind::Violation {
                        if note.is_empty() {
                            return Outcome::Status("a violation needs a note".into());
                        }
                        self.step = Some(Step::FollowUp { note });
                        return Outcome::Stay;
                    }
                    if let Err(e) = check_verdict(kind, Some(&note), None) {
                        return Outcome::Status(e.replace("--note", "a note"));
                    }
                    self.step = Some(Step::Browse);
                    let note = (!note.is_empty()).then_some(note);
                    self.verdict(kind, note, None)
                }
                _ => Outcome::Stay,
            },
            Step::FollowUp { note } => match action {
                Action::Back | Action::Quit => {
                    self.step = Some(Step::Browse);
                    Outcome::Status("verdict cancelled".into())
                }
                Action::Input(c @ '1'..='4') => {
                    let f = FOLLOW_UPS[c as usize - '1' as usize].to_string();
                    self.step = Some(Step::Browse);
                    self.verdict(VerdictKind::Violation, Some(note), Some(f))
                }
                _ => Outcome::Status(format!("follow-up: {}", follow_up_hint())),
            },
            Step::Browse => match action {
                Action::Back | Action::Quit => {
                    self.picking = true;
                    self.current = None;
                    Outcome::Stay
                }
                Action::Up | Action::ScrollUp => {
                    self.sel = self.sel.saturating_sub(1);
                    Outcome::Stay
                }
                Action::Down | Action::ScrollDown => {
                    let n = self.state().map_or(0, |s| s.items.len());
                    self.sel = (self.sel + 1).min(n.saturating_sub(1));
                    Outcome::Stay
                }
                Action::PageUp => {
                    self.sel = self.sel.saturating_sub(page);
                    Outcome::Stay
                }
                Action::PageDown => {
                    let n = self.state().map_or(0, |s| s.items.len());
                    self.sel = (self.sel + page).min(n.saturating_sub(1));
                    Outcome::Stay
                }
                Action::NextUndecided => self.move_undecided(true),
                Action::PrevUndecided => self.move_undecided(false),
                Action::Verdict(kind) => {
                    self.step = Some(Step::Note {
                        kind,
                        text: String::new(),
                    });
                    Outcome::Stay
                }
                _ => Outcome::Stay,
            },
        }
    }
}

fn p_name(k: VerdictKind) -> &'static str {
    k.name()
}

fn follow_up_hint() -> String {
    FOLLOW_UPS
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{} {f}", i + 1))
        .collect::<Vec<_>>()
        .join("  ")
}

/// "2 earlier violations, last 2026-09-14, campaign 3; 1 justified" for a staff member.
fn earlier(app: &App, staff: &str, except: i64) -> String {
    let mut by: BTreeMap<&'static str, (u32, String, i64)> = BTreeMap::new();
    for c in &app.review.campaigns {
        if c.campaign.id == except {
            continue;
        }
        for (i, v) in &c.items {
            if let Some(v) = v
                && i.flag["staff_id"].as_str() == Some(staff)
            {
                let e = by.entry(v.kind.name()).or_insert((0, String::new(), 0));
                e.0 += 1;
                if v.decided_at > e.1 {
                    e.1 = v.decided_at.clone();
                    e.2 = c.campaign.id;
                }
            }
        }
    }
    if by.is_empty() {
        return "no earlier verdicts in other campaigns".into();
    }
    by.iter()
        .map(|(k, (n, last, c))| {
            format!(
                "{n} earlier {k}{}, last {}, campaign {c}",
                if *n == 1 { "" } else { "s" },
                last.get(..10).unwrap_or(last)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn keys_of(bindings: &[Binding], name: &str) -> String {
    bindings
        .iter()
        .find(|b| b.name == name)
        .map(|b| b.keys.join("/"))
        .unwrap_or_default()
}

pub fn draw(app: &App, bindings: &[Binding], theme: &Theme, f: &mut Frame, area: Rect) {
    f.render_widget(Clear, area);
    let r = &app.review;
    if r.loading {
        f.render_widget(
            Paragraph::new("Reading the ledger's campaigns…")
                .block(Block::bordered().title("review")),
            area,
        );
        return;
    }
    if r.picking || r.state().is_none() {
        let rows: Vec<Row> = r
            .campaigns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                selected(
                    Row::new(vec![
                        Cell::from(c.campaign.id.to_string()),
                        Cell::from(terminal(&c.campaign.name)),
                        Cell::from(format!("{} of {}", c.decided(), c.items.len())),
                        Cell::from(format!("{} to {}", c.campaign.from, c.campaign.to)),
                    ]),
                    i == r.pick_sel,
                    theme,
                )
            })
            .collect();
        let title = if r.campaigns.is_empty() {
            "no campaigns yet: start one with `keyhole review start --name NAME` (Esc closes)"
        } else {
            "review: choose a campaign (Enter opens, Esc closes)"
        };
        f.render_widget(
            Table::new(
                rows,
                [
                    Constraint::Length(4),
                    Constraint::Min(16),
                    Constraint::Length(14),
                    Constraint::Min(20),
                ],
            )
            .header(Row::new(vec!["id", "name", "decided", "window"]).style(theme.accent()))
            .block(Block::bordered().title(title)),
            area,
        );
        return;
    }
    let s = r.state().expect("checked above");
    let [head, list, detail, foot] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(4),
        Constraint::Length(if area.height < 30 { 8 } else { 10 }),
        Constraint::Length(1),
    ])
    .areas(area);
    // Progress: n of m decided, and by severity.
    let mut by_sev: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (i, v) in &s.items {
        let e = by_sev
            .entry(i.flag["severity"].as_str().unwrap_or(""))
            .or_default();
        e.1 += 1;
        if v.is_some() || r.unsaved.contains_key(&i.key) {
            e.0 += 1;
        }
    }
    let done = s
        .items
        .iter()
        .filter(|(i, v)| v.is_some() || r.unsaved.contains_key(&i.key))
        .count();
    let width = 20usize;
    let filled = (done * width).checked_div(s.items.len()).unwrap_or(0);
    let sev: Vec<String> = ["critical", "high", "medium", "low"]
        .iter()
        .filter_map(|k| by_sev.get(k).map(|(d, n)| format!("{k} {d}/{n}")))
        .collect();
    f.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::styled(
                    format!(
                        "campaign {} · {} ",
                        s.campaign.id,
                        terminal(&s.campaign.name)
                    ),
                    theme.accent(),
                ),
                Span::raw(format!("{} to {}", s.campaign.from, s.campaign.to)),
            ]),
            Line::from(format!(
                "[{}{}] {done} of {} decided · {}",
                "█".repeat(filled),
                "░".repeat(width - filled),
                s.items.len(),
                sev.join("  ")
            )),
        ]),
        head,
    );
    let range = visible_rows(app, list, r.sel, s.items.len());
    // A wide screen has room for each flag's detail beside its key.
    let wide = list.width >= 120;
    let rows: Vec<Row> = s.items[range.clone()]
        .iter()
        .enumerate()
        .map(|(k, (i, v))| {
            let verdict = match (r.unsaved.get(&i.key), v) {
                (Some(p), _) => format!("{} · unsaved", p.kind.name()),
                (None, Some(v)) => v.kind.name().to_string(),
                (None, None) => "open".into(),
            };
            let sev = i.flag["severity"].as_str().unwrap_or("");
            let mut cells = vec![
                Cell::from((range.start + k + 1).to_string()),
                Cell::from(Span::styled(
                    sev.to_string(),
                    crate::rules::Severity::from_name(sev).map_or(theme.dim(), |x| theme.sev(x)),
                )),
                Cell::from(terminal(&i.key)),
                Cell::from(verdict),
            ];
            if wide {
                cells.push(Cell::from(terminal(
                    i.flag["detail"].as_str().unwrap_or(""),
                )));
            }
            selected(Row::new(cells), range.start + k == r.sel, theme)
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(5),
        Constraint::Length(8),
        Constraint::Length(36),
        Constraint::Length(24),
    ];
    let mut header = vec!["#", "severity", "key", "verdict"];
    if wide {
        widths.push(Constraint::Min(20));
        header.push("detail");
    } else {
        widths[2] = Constraint::Min(24);
    }
    f.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(theme.accent()))
            .block(Block::bordered().title(format!("items {}/{}", r.sel + 1, s.items.len()))),
        list,
    );
    let mut lines: Vec<Line> = Vec::new();
    if let Some((item, v)) = s.items.get(r.sel) {
        let fl = &item.flag;
        let get = |k: &str| fl[k].as_str().unwrap_or("").to_string();
        lines.push(Line::from(terminal(&get("detail"))));
        let now = match (r.unsaved.get(&item.key), v) {
            (Some(p), _) => format!(
                "verdict: {} · UNSAVED{}",
                p.kind.name(),
                p.failed
                    .as_ref()
                    .map(|e| format!(" ({})", terminal(e)))
                    .unwrap_or_default()
            ),
            (None, Some(v)) => format!(
                "verdict: {}{}{} · saved, by {} at {}",
                v.kind.name(),
                v.follow_up
                    .as_ref()
                    .map(|f| format!(" ({f})"))
                    .unwrap_or_default(),
                v.note
                    .as_ref()
                    .map(|n| format!(" · {}", terminal(n)))
                    .unwrap_or_default(),
                terminal(&v.decided_by),
                v.decided_at
            ),
            (None, None) => "verdict: open".into(),
        };
        lines.push(Line::from(Span::styled(now, theme.accent())));
        let staff = get("staff_id");
        let subject = get("subject_id");
        let d = app.data.as_deref();
        let mut who = Vec::new();
        if !staff.is_empty() {
            let name = person(app, "staff", &staff, d.and_then(|d| d.staff_name(&staff)));
            who.push(format!("staff {} {name}", terminal(&staff)));
        }
        if !subject.is_empty() {
            let name = person(
                app,
                "subject",
                &subject,
                d.and_then(|d| d.subject_name(&subject)),
            );
            who.push(format!("subject {} {name}", terminal(&subject)));
        }
        who.push(format!("at {}", get("occurred_at")));
        lines.push(Line::from(Span::styled(who.join("  "), theme.dim())));
        // The access itself, when the loaded window holds it.
        let event = fl["event_ids"][0].as_str().unwrap_or("");
        if let Some(d) = d
            && let Ok(at) = chrono::DateTime::parse_from_rfc3339(get("occurred_at").as_str())
            && let Some(row) = d
                .rows
                .find(event, at.with_timezone(&chrono::Utc))
                .map(|i| d.rows.get(i as usize))
        {
            let e = &row.event;
            let mut ctx = format!(
                "access {}: {} {} · purpose {}",
                terminal(event),
                terminal(d.text(e.action)),
                terminal(d.text(e.data_category)),
                terminal(d.text(e.purpose))
            );
            if e.reference.is_some() {
                ctx.push_str(&format!(" · ref {}", terminal(d.text(e.reference))));
            }
            if let Some(rel) = d.relationship(&row) {
                ctx.push_str(&format!(" · {}", terminal(&crate::rules::rel_text(&rel))));
            }
            lines.push(Line::from(ctx));
        }
        if !staff.is_empty() {
            lines.push(Line::from(format!(
                "staff {}: {}",
                terminal(&staff),
                earlier(app, &staff, s.campaign.id)
            )));
        }
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(clip(
                &terminal(s.items.get(r.sel).map_or("", |(i, _)| i.key.as_str())),
                60,
            ))),
        detail,
    );
    let hint = match &r.step {
        Some(Step::Note { kind, text }) => Line::from(vec![
            Span::styled(format!("note for {}: ", kind.name()), theme.accent()),
            Span::raw(terminal(text)),
            Span::raw("▏"),
        ]),
        Some(Step::FollowUp { .. }) => Line::from(vec![
            Span::styled("follow-up: ", theme.accent()),
            Span::raw(follow_up_hint()),
        ]),
        _ => Line::from(Span::styled(
            [
                ("justified", "justified"),
                ("false_positive", "false-pos"),
                ("violation", "violation"),
                ("needs_follow_up", "follow-up"),
                ("escalated", "escalated"),
                ("next_undecided", "next"),
                ("prev_undecided", "prev"),
            ]
            .iter()
            .map(|(n, label)| format!("{} {label}", keys_of(bindings, n)))
            .collect::<Vec<_>>()
            .join("  ")
                + "  Esc",
            theme.dim(),
        )),
    };
    f.render_widget(Paragraph::new(hint), foot);
}
