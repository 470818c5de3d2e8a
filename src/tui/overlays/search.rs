//! The search overlay: fuzzy matches over staff, subjects, references and
//! rules, with the matched characters marked.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::sanitize::terminal;
use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

use crate::rules::Rule;
use crate::tui::app::App;
use crate::tui::data::Dataset;
use crate::tui::theme::{Theme, centered, person};

/// A fuzzy-search hit: what it points at and which characters matched.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub kind: HitKind,
    pub id: String,
    pub score: i64,
    pub matched: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitKind {
    Staff,
    Subject,
    Reference,
    Rule,
}

/// The search overlay's state: the query, its hits, and the corpus it
/// ranks (built once per load).
#[derive(Debug, Clone, Default)]
pub struct SearchState {
    pub text: String,
    pub hits: Vec<SearchHit>,
    pub sel: usize,
    /// Only the newest query's results are kept.
    pub generation: u64,
    pub corpus: std::sync::Arc<Vec<(HitKind, String, String)>>,
}

/// Search corpus: (kind, id, text to match).
pub fn build_corpus(d: &Dataset) -> Vec<(HitKind, String, String)> {
    let mut v = Vec::new();
    for s in &d.dir.staff {
        v.push((
            HitKind::Staff,
            s.staff_id.to_string(),
            format!("{} {}", s.staff_id, s.display_name),
        ));
    }
    for s in &d.dir.subjects {
        v.push((
            HitKind::Subject,
            s.subject_id.to_string(),
            format!("{} {}", s.subject_id, s.display_name()),
        ));
    }
    let mut refs: Vec<&str> = (0..d.rows.len())
        .filter_map(|i| d.rows.reference(i))
        .map(|s| d.symbols.resolve(s))
        .collect();
    refs.sort_unstable();
    refs.dedup();
    for r in refs {
        v.push((HitKind::Reference, r.to_string(), r.to_string()));
    }
    for r in Rule::ALL {
        v.push((HitKind::Rule, r.name().to_string(), r.name().to_string()));
    }
    v
}

/// The best 50 hits for `q`, with the matched character positions.
pub fn rank(corpus: &[(HitKind, String, String)], q: &str) -> Vec<SearchHit> {
    if q.trim().is_empty() {
        return Vec::new();
    }
    let m = SkimMatcherV2::default();
    let mut hits: Vec<SearchHit> = corpus
        .iter()
        .filter_map(|(k, id, text)| {
            m.fuzzy_indices(text, q).map(|(score, matched)| SearchHit {
                kind: *k,
                id: id.clone(),
                score,
                matched,
            })
        })
        .collect();
    hits.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    hits.truncate(50);
    hits
}

pub fn draw(app: &App, theme: &Theme, f: &mut Frame, area: Rect) {
    let r = centered(area, 70, area.height.saturating_sub(4).max(6));
    f.render_widget(Clear, r);
    let [input, results] = Layout::vertical([Constraint::Length(3), Constraint::Min(1)]).areas(r);
    f.render_widget(
        Paragraph::new(format!("{}▏", app.search.text)).block(Block::bordered().title("search")),
        input,
    );
    let d = app.data.as_ref();
    let lines: Vec<Line> = app
        .search
        .hits
        .iter()
        .take(results.height.saturating_sub(2) as usize)
        .enumerate()
        .map(|(k, h)| {
            let (kind, label) = match h.kind {
                HitKind::Staff => (
                    "staff",
                    person(app, "staff", &h.id, d.and_then(|d| d.staff_name(&h.id))),
                ),
                HitKind::Subject => (
                    "subject",
                    person(app, "subject", &h.id, d.and_then(|d| d.subject_name(&h.id))),
                ),
                HitKind::Reference => ("reference", String::new()),
                HitKind::Rule => ("rule", String::new()),
            };
            // The id prefix of the matched text is shown with its matched characters highlighted.
            let mut spans = vec![Span::styled(format!("{kind:<10}"), theme.dim())];
            for (i, c) in terminal(&h.id).chars().enumerate() {
                let st = if h.matched.contains(&i) {
                    theme.matched()
                } else {
                    Style::new()
                };
                spans.push(Span::styled(c.to_string(), st));
            }
            spans.push(Span::raw(format!("  {label}")));
            let line = Line::from(spans);
            if k == app.search.sel {
                line.style(theme.selected())
            } else {
                line
            }
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered().title(format!("{} match(es) · Enter opens", app.search.hits.len())),
        ),
        results,
    );
}
