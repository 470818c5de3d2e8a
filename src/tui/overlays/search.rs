//! The search overlay: fuzzy matches over staff, subjects, references and
//! rules, with the matched characters marked.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use std::sync::Arc;

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

/// The search overlay's state: the query and its hits, and the entries the
/// last query matched, which a longer query only needs to narrow.
#[derive(Debug, Clone, Default)]
pub struct SearchState {
    pub text: String,
    pub hits: Vec<SearchHit>,
    pub sel: usize,
    /// Only the newest query's results are kept.
    pub generation: u64,
    pub last: Option<Arc<Narrowed>>,
}

/// The entries a query matched (each a number, see [`Entries`]).
#[derive(Debug, Default)]
pub struct Narrowed {
    pub query: String,
    pub matched: Vec<u32>,
}

/// What search ranks, read from the dataset in place: its staff, its
/// subjects, the distinct references of the window, and the rules, numbered
/// in that order. Nothing is copied per entry, so a million subjects cost
/// no memory here.
struct Entries<'d> {
    d: &'d Dataset,
    staff: u32,
    subjects: u32,
    refs: u32,
}

impl<'d> Entries<'d> {
    fn new(d: &'d Dataset) -> Self {
        Entries {
            d,
            staff: d.dir.staff.len() as u32,
            subjects: d.dir.subjects.len() as u32,
            refs: d.references.len() as u32,
        }
    }
    fn len(&self) -> u32 {
        self.staff + self.subjects + self.refs + Rule::COUNT as u32
    }
    /// The entry's kind and id.
    fn id(&self, n: u32) -> (HitKind, &'d str) {
        let d = self.d;
        let mut n = n;
        if n < self.staff {
            return (HitKind::Staff, d.dir.staff[n as usize].staff_id.as_str());
        }
        n -= self.staff;
        if n < self.subjects {
            return (
                HitKind::Subject,
                d.dir.subjects[n as usize].subject_id.as_str(),
            );
        }
        n -= self.subjects;
        if n < self.refs {
            return (
                HitKind::Reference,
                d.symbols.resolve(d.references[n as usize]),
            );
        }
        n -= self.refs;
        (HitKind::Rule, Rule::ALL[n as usize].name())
    }
    /// The text matched: id and name for people, the text itself otherwise.
    fn text_into(&self, n: u32, buf: &mut String) {
        use std::fmt::Write;
        buf.clear();
        let d = self.d;
        if n < self.staff {
            let s = &d.dir.staff[n as usize];
            let _ = write!(buf, "{} {}", s.staff_id, s.display_name);
        } else if n < self.staff + self.subjects {
            let s = &d.dir.subjects[(n - self.staff) as usize];
            let _ = write!(buf, "{} {}", s.subject_id, s.display_name());
        } else {
            buf.push_str(self.id(n).1);
        }
    }
}

/// The best 50 hits for `q`, with the matched character positions, and
/// every entry `q` matched. When `q` extends the query of `prior`, only
/// what `prior` matched is tried: a character added to a fuzzy query can
/// only lose matches.
pub fn rank(d: &Dataset, q: &str, prior: Option<&Narrowed>) -> (Vec<SearchHit>, Narrowed) {
    let mut narrowed = Narrowed {
        query: q.to_string(),
        matched: Vec::new(),
    };
    if q.trim().is_empty() {
        return (Vec::new(), narrowed);
    }
    let entries = Entries::new(d);
    let m = SkimMatcherV2::default();
    let mut buf = String::new();
    let mut scored: Vec<(i64, u32)> = Vec::new();
    let mut try_one = |n: u32| {
        entries.text_into(n, &mut buf);
        if let Some(score) = m.fuzzy_match(&buf, q) {
            narrowed.matched.push(n);
            scored.push((score, n));
        }
    };
    match prior.filter(|p| !p.query.trim().is_empty() && q.starts_with(p.query.as_str())) {
        Some(p) => p.matched.iter().copied().for_each(&mut try_one),
        None => (0..entries.len()).for_each(&mut try_one),
    }
    let order = |a: &(i64, u32), b: &(i64, u32)| {
        b.0.cmp(&a.0)
            .then_with(|| entries.id(a.1).1.cmp(entries.id(b.1).1))
    };
    if scored.len() > 50 {
        scored.select_nth_unstable_by(49, order);
        scored.truncate(50);
    }
    scored.sort_by(order);
    let hits = scored
        .into_iter()
        .filter_map(|(_, n)| {
            entries.text_into(n, &mut buf);
            let (kind, id) = entries.id(n);
            m.fuzzy_indices(&buf, q).map(|(score, matched)| SearchHit {
                kind,
                id: id.to_string(),
                score,
                matched,
            })
        })
        .collect();
    (hits, narrowed)
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
