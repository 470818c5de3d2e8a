//! The help overlay, generated from the key binding table.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::tui::keys::Binding;
use crate::tui::theme::{Theme, centered};

pub fn draw(bindings: &[Binding], theme: &Theme, f: &mut Frame, area: Rect) {
    let shown: Vec<&Binding> = bindings
        .iter()
        .filter(|b| !b.keys.is_empty() && !crate::tui::keys::REVIEW_ONLY.contains(&b.name))
        .collect();
    // The key column as wide as its longest entry, so that the text fits
    // beside it on an 80-column terminal.
    let keys = |b: &Binding| b.keys.join(" ");
    let kw = shown
        .iter()
        .map(|b| keys(b).chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    let widest = shown
        .iter()
        .map(|b| kw + b.help.chars().count())
        .max()
        .unwrap_or(0);
    let lines: Vec<Line> = shown
        .iter()
        .map(|b| {
            Line::from(vec![
                Span::styled(format!("{:<kw$}", keys(b)), theme.accent()),
                Span::raw(b.help),
            ])
        })
        .collect();
    let r = centered(area, widest as u16 + 2, lines.len() as u16 + 2);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title("keys (Esc closes)")),
        r,
    );
}
