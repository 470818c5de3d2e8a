//! The frame around the tabs: the tab line, the body (the current tab, or
//! the loading and error screens), the status line and the overlays. It
//! routes drawing to the files under `tabs/` and `overlays/`, reads the app
//! without changing it, and records the screen map for clicks.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::app::{App, Mode, Tab};
use super::keys::Binding;
use super::screen::ScreenMap;
use super::theme::Theme;
use super::{overlays, tabs};
use crate::sanitize::{clip, terminal};

pub fn draw(app: &App, bindings: &[Binding], f: &mut Frame) {
    let theme = Theme { color: app.color };
    // Only the current tab records a list; the overview has none.
    app.screen.set(ScreenMap {
        list: None,
        ..app.screen.get()
    });
    let area = f.area();
    let [tabs, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_tabs(app, &theme, f, tabs);
    // A reload that failed over loaded data: the data stays, under a banner.
    let body = match (&app.data, &app.error) {
        (Some(_), Some(e)) => {
            let [banner, rest] =
                Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(body);
            f.render_widget(
                Paragraph::new(vec![
                    Line::from(vec![
                        Span::styled("⚠ reload failed", theme.sev(crate::rules::Severity::High)),
                        Span::styled(
                            " · showing the data loaded before · r retries · q quits",
                            theme.dim(),
                        ),
                    ]),
                    Line::from(terminal(e)),
                ]),
                banner,
            );
            rest
        }
        _ => body,
    };
    match (&app.data, &app.error) {
        (None, Some(e)) => {
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
        (Some(d), _) => match app.tab {
            Tab::Overview => tabs::overview::draw(app, d, &theme, f, body),
            Tab::Flags => tabs::flags::draw(app, d, &theme, f, body),
            Tab::Access => tabs::access::draw(app, d, &theme, f, body),
            Tab::Staff => tabs::staff::draw(app, d, &theme, f, body),
            Tab::Subjects => tabs::subjects::draw(app, d, &theme, f, body),
            Tab::Disclosures => tabs::disclosures::draw(app, d, &theme, f, body),
            Tab::Requests => tabs::requests::draw(app, d, &theme, f, body),
        },
    }
    draw_status(app, bindings, &theme, f, status);
    match app.mode {
        Mode::Help => overlays::help::draw(bindings, &theme, f, area),
        Mode::Search => overlays::search::draw(app, &theme, f, area),
        Mode::Breach => overlays::breach::draw(app, &theme, f, area),
        Mode::Window => overlays::window::draw(app, &theme, f, area),
        Mode::Review => overlays::review::draw(app, bindings, &theme, f, body),
        _ => {}
    }
}

fn draw_tabs(app: &App, theme: &Theme, f: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    let mut map = app.screen.get();
    let mut x = area.x;
    for (i, t) in Tab::ALL.iter().enumerate() {
        let label = if area.width < 90 {
            t.title().split(' ').next().unwrap_or("").to_string()
        } else {
            t.title().to_string()
        };
        let text = format!(" {} {label} ", i + 1);
        let w = text.chars().count() as u16;
        map.tabs[i] = (x, w);
        x += w;
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
        // Beside the tabs there is room for little: the day being read
        // comes first, the rest of the line only where it fits.
        let room = (area.width as usize)
            .saturating_sub((x - area.x) as usize + 3)
            .min(40);
        let l = l.strip_prefix("reading ").unwrap_or(l);
        spans.push(Span::styled(format!(" ⟳ {}", clip(l, room)), theme.dim()));
    }
    app.screen.set(map);
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_status(app: &App, bindings: &[Binding], theme: &Theme, f: &mut Frame, area: Rect) {
    let line = match app.mode {
        Mode::Filter => Line::from(vec![
            Span::styled("filter: ", theme.accent()),
            Span::raw(app.access.filter_text.clone()),
            Span::raw("▏"),
        ]),
        Mode::RevealReason => Line::from(vec![
            Span::styled("reason for revealing: ", theme.accent()),
            Span::raw(app.reveals.text.clone()),
            Span::raw("▏"),
        ]),
        _ => {
            let hint = crate::tui::keys::hint_line(bindings);
            let msg = terminal(&app.status);
            let room = (area.width as usize).saturating_sub(hint.chars().count() + 2);
            Line::from(vec![
                Span::raw(clip(&msg, room)),
                Span::raw(" ".repeat(room.saturating_sub(msg.chars().count().min(room)) + 2)),
                Span::styled(hint, theme.dim()),
            ])
        }
    };
    f.render_widget(Paragraph::new(line), area);
}
