//! The window picker (`w`): today, the last 7 or 30 days, this quarter,
//! last quarter, or typed dates. The chosen window loads in the background
//! while the old one stays on screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::audit::{Preset, WindowChoice, WindowFlags};
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::theme::{Theme, centered};

/// The picker's state: the highlighted line, and the dates being typed.
#[derive(Debug, Clone, Default)]
pub struct WindowPicker {
    /// 0..5: the presets; 5: typed dates.
    pub sel: usize,
    /// `FROM TO` as typed: dates or RFC 3339 times.
    pub typed: String,
}

/// What a key did in the picker.
#[derive(Debug, Clone, PartialEq)]
pub enum PickerOutcome {
    Stay,
    Cancel,
    Choose(WindowChoice),
    /// The typed text is not two times.
    Invalid(String),
}

const TYPED: usize = Preset::ALL.len();

impl WindowPicker {
    /// Opens on the first preset with nothing typed.
    pub fn open(&mut self) {
        self.sel = 0;
        self.typed.clear();
    }

    pub fn update(&mut self, action: Action) -> PickerOutcome {
        match action {
            Action::Back | Action::Quit => PickerOutcome::Cancel,
            Action::Up => {
                self.sel = self.sel.saturating_sub(1);
                PickerOutcome::Stay
            }
            Action::Down => {
                self.sel = (self.sel + 1).min(TYPED);
                PickerOutcome::Stay
            }
            Action::Input(c) => {
                self.sel = TYPED;
                self.typed.push(c);
                PickerOutcome::Stay
            }
            Action::Backspace => {
                self.typed.pop();
                PickerOutcome::Stay
            }
            Action::Submit => match Preset::ALL.get(self.sel) {
                Some(p) => PickerOutcome::Choose(WindowChoice::Preset(*p)),
                None => self.typed_choice(),
            },
            _ => PickerOutcome::Stay,
        }
    }

    fn typed_choice(&self) -> PickerOutcome {
        let words: Vec<&str> = self.typed.split_whitespace().collect();
        match words.as_slice() {
            [from, to] => PickerOutcome::Choose(WindowChoice::Flags(WindowFlags {
                from: Some(from.to_string()),
                to: Some(to.to_string()),
                as_of: None,
            })),
            _ => PickerOutcome::Invalid(
                "type two dates, FROM and TO (exclusive): 2026-03-01 2026-04-01".into(),
            ),
        }
    }
}

pub fn draw(app: &App, theme: &Theme, f: &mut Frame, area: Rect) {
    let p = &app.window;
    let mut lines: Vec<Line> = Preset::ALL
        .iter()
        .enumerate()
        .map(|(i, preset)| {
            let text = format!(
                " {} {} ",
                if i == p.sel { "›" } else { " " },
                preset.label()
            );
            if i == p.sel {
                Line::from(Span::styled(text, theme.selected()))
            } else {
                Line::from(text)
            }
        })
        .collect();
    let mark = if p.sel == TYPED { "›" } else { " " };
    let typed = format!(" {mark} dates: {}▏", p.typed);
    lines.push(if p.sel == TYPED {
        Line::from(Span::styled(typed, theme.selected()))
    } else {
        Line::from(typed)
    });
    lines.push(Line::from(Span::styled(
        "   FROM TO, local dates or RFC 3339; TO is exclusive",
        theme.dim(),
    )));
    let r = centered(area, 56, lines.len() as u16 + 2);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title("window (Enter loads, Esc closes)")),
        r,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_dates_become_a_window_and_nonsense_is_refused() {
        let mut p = WindowPicker::default();
        for c in "2026-03-01 2026-04-01".chars() {
            assert_eq!(p.update(Action::Input(c)), PickerOutcome::Stay);
        }
        match p.update(Action::Submit) {
            PickerOutcome::Choose(WindowChoice::Flags(f)) => {
                assert_eq!(f.from.as_deref(), Some("2026-03-01"));
                assert_eq!(f.to.as_deref(), Some("2026-04-01"));
            }
            other => panic!("{other:?}"),
        }
        p.typed = "March".into();
        assert!(matches!(
            p.update(Action::Submit),
            PickerOutcome::Invalid(_)
        ));
    }

    #[test]
    fn arrows_pick_a_preset() {
        let mut p = WindowPicker::default();
        p.update(Action::Down);
        p.update(Action::Down);
        p.update(Action::Down);
        assert_eq!(
            p.update(Action::Submit),
            PickerOutcome::Choose(WindowChoice::Preset(Preset::ThisQuarter))
        );
    }
}
