//! The breach review overlay: the incident scoped from the selected staff
//! member or address, with its notification plan (earliest deadline
//! first; obligations whose threshold is not met last and dimmed); `e`
//! exports it.

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
            "aware since {} · earliest deadline {}",
            short(&b.aware_at),
            b.earliest_deadline
                .as_deref()
                .map_or_else(|| "none".into(), short)
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
    lines.push(Line::from(Span::styled(
        format!("{:<18} {:>6}  {}", "deadline", "people", "who must be told"),
        theme.dim(),
    )));
    // Leave room for the summary above and the hint below on a small screen.
    let room = (area.height as usize)
        .saturating_sub(lines.len() + 4)
        .max(1);
    let plan = &b.obligations;
    let shown = if plan.len() > room {
        room.saturating_sub(1)
    } else {
        plan.len()
    };
    // 84 columns, or up to 140 on a wide screen for the longer names.
    let width = area.width.saturating_sub(4).clamp(area.width.min(84), 140);
    let inner = (width as usize).saturating_sub(2);
    for p in &plan[..shown] {
        // A law without a clock says its words after whom to tell.
        let (when, words) = match &p.deadline_at {
            Some(t) => (short(t), String::new()),
            None => ("no fixed date".to_string(), format!(" · {}", p.deadline)),
        };
        let who = format!(
            "{}: {}{words}{}{}",
            p.jurisdiction,
            p.notify.as_deref().unwrap_or(p.recipient.text()),
            p.condition
                .as_deref()
                .map(|c| format!(" · {c}"))
                .unwrap_or_default(),
            match (&p.threshold, p.threshold_met) {
                (Some(t), false) => format!(" (not needed: {t})"),
                _ => String::new(),
            }
        );
        let text = format!(
            "{:<18} {:>6}  {}",
            clip(&terminal(&when), 18),
            p.people,
            terminal(&who)
        );
        let style = if p.threshold_met {
            ratatui::style::Style::default()
        } else {
            theme.dim()
        };
        lines.push(Line::from(Span::styled(clip(&text, inner), style)));
    }
    if shown < plan.len() {
        lines.push(Line::from(Span::styled(
            format!(
                "… {} more obligation(s): e exports the whole plan",
                plan.len() - shown
            ),
            theme.dim(),
        )));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "e exports the incident summary and notification list · any other key closes",
        theme.dim(),
    )));
    let r = centered(area, width, (lines.len() as u16 + 2).min(area.height));
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title("breach review")),
        r,
    );
}

/// `2026-11-27T09:00:00Z` → `2026-11-27 09:00Z`.
fn short(t: &str) -> String {
    match (t.get(..10), t.get(11..16)) {
        (Some(d), Some(hm)) => format!("{d} {hm}Z"),
        _ => t.to_string(),
    }
}
