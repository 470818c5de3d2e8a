//! How the dashboard looks: the theme (colour, or none under NO_COLOR, with
//! severity always written as a word), masking of personal names, and the
//! small drawing helpers every tab shares.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::Row;

use crate::rules::Severity;
use crate::sanitize::terminal;
use crate::tui::app::App;
use crate::tui::data::Dataset;
use crate::tui::screen::ListArea;

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

pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub fn sev(&self, s: Severity) -> Style {
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
    pub fn selected(&self) -> Style {
        if self.color {
            Style::new()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }
    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }
    pub fn accent(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }
    pub fn matched(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::UNDERLINED)
        }
    }
}

pub fn person(app: &App, kind: &str, id: &str, name: Option<&str>) -> String {
    let key = format!("{kind}:{id}");
    match name {
        Some(n) if app.is_revealed(&key) => terminal(n),
        Some(n) => terminal(&mask_name(n)),
        None => String::new(),
    }
}

/// A table row, highlighted when it is the selection.
pub fn selected<'r>(row: Row<'r>, is_selected: bool, theme: &Theme) -> Row<'r> {
    if is_selected {
        row.style(theme.selected())
    } else {
        row
    }
}

/// The visible window of a list of `len` rows for a selection.
pub fn window(sel: usize, len: usize, height: usize) -> std::ops::Range<usize> {
    let h = height.max(1);
    let start = sel.saturating_sub(h - 1).min(len.saturating_sub(h));
    start..(start + h).min(len)
}

/// A time as `MM-DD HH:MM` in the display zone (the config's, else the policy's).
pub fn local(app: &App, d: &Dataset, t: crate::model::Instant) -> String {
    t.with_timezone(&app.display_timezone.unwrap_or(d.policy.timezone))
        .format("%m-%d %H:%M")
        .to_string()
}

pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// The rows of a bordered table with a header that fit `list`, keeping the
/// selection visible; records where they are drawn so a click can find
/// its row.
pub fn visible_rows(app: &App, list: Rect, sel: usize, len: usize) -> std::ops::Range<usize> {
    let h = list.height.saturating_sub(3) as usize;
    let range = window(sel, len, h);
    app.screen.set(app.screen.get().with_list(ListArea {
        top: list.y + 2,
        rows: h as u16,
        first: range.start,
        len,
    }));
    range
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
