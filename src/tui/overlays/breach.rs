//! The breach review overlay: the incident scoped from the selected staff
//! member or address, with its deadlines; `e` exports it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::sanitize::{clip, terminal};
use crate::tui::app::App;
use crate::tui::theme::{Theme, centered};

pub fn draw(app: &App, theme: &Theme, f: &mut Frame, area: Rect) {
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
