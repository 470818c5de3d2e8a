//! The help overlay, generated from the key binding table.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::tui::keys::Binding;
use crate::tui::theme::{Theme, centered};

pub fn draw(bindings: &[Binding], theme: &Theme, f: &mut Frame, area: Rect) {
    let lines: Vec<Line> = bindings
        .iter()
        .filter(|b| !b.keys.is_empty() && !crate::tui::keys::REVIEW_ONLY.contains(&b.name))
        .map(|b| {
            Line::from(vec![
                Span::styled(format!("{:<22}", b.keys.join(" ")), theme.accent()),
                Span::raw(b.help),
            ])
        })
        .collect();
    let r = centered(area, 78, lines.len() as u16 + 2);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title("keys (Esc closes)")),
        r,
    );
}
