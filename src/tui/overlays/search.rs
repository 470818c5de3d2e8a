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
    /// A staff member's reads straight from the database (audit logs).
    DbReads,
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
    /// The newest query's generation, which a ranking still running reads
    /// to stop when it is no longer wanted.
    pub newest: Arc<std::sync::atomic::AtomicU64>,
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
    db: u32,
}

impl<'d> Entries<'d> {
    fn new(d: &'d Dataset) -> Self {
        Entries {
            d,
            staff: d.dir.staff.len() as u32,
            subjects: d.dir.subjects.len() as u32,
            refs: d.references.len() as u32,
            db: d.db_staff.len() as u32,
        }
    }
    fn len(&self) -> u32 {
        self.staff + self.subjects + self.refs + self.db + Rule::COUNT as u32
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
        if n < self.db {
            return (HitKind::DbReads, d.symbols.resolve(d.db_staff[n as usize]));
        }
        n -= self.db;
        (HitKind::Rule, Rule::ALL[n as usize].name())
    }
    /// The text matched, in parts: id, separator and name for people.
    fn parts(&self, n: u32) -> [&'d str; 3] {
        let d = self.d;
        if n < self.staff {
            let s = &d.dir.staff[n as usize];
            [s.staff_id.as_str(), " ", s.display_name.as_str()]
        } else if n < self.staff + self.subjects {
            let s = &d.dir.subjects[(n - self.staff) as usize];
            [s.subject_id.as_str(), " ", s.display_name()]
        } else if n >= self.staff + self.subjects + self.refs
            && n < self.staff + self.subjects + self.refs + self.db
        {
            [self.id(n).1, " ", "direct database reads"]
        } else {
            [self.id(n).1, "", ""]
        }
    }
    /// The text matched: id and name for people, the text itself otherwise.
    fn text_into(&self, n: u32, buf: &mut String) {
        buf.clear();
        for part in self.parts(n) {
            buf.push_str(part);
        }
    }
}

/// Whether the pattern's characters all occur in `parts`, in order: the
/// first test of the fuzzy matcher, made on the text in place. Characters
/// compare as the matcher compares them (ASCII case folded unless the
/// pattern has a capital), so it keeps exactly the entries the matcher
/// would go on to score.
/// A query as the in-place test reads it.
struct Pattern<'q> {
    chars: Vec<char>,
    ascii: Option<&'q [u8]>,
    case_sensitive: bool,
}

impl<'q> Pattern<'q> {
    fn new(q: &'q str) -> Self {
        Pattern {
            chars: q.chars().collect(),
            ascii: q.is_ascii().then_some(q.as_bytes()),
            // As the matcher decides: an ASCII capital makes the query case-sensitive.
            case_sensitive: q.chars().any(|c| c.is_ascii_uppercase()),
        }
    }
    fn keeps(&self, parts: [&str; 3]) -> bool {
        in_order(parts, &self.chars, self.ascii, self.case_sensitive)
    }
}

fn in_order(
    parts: [&str; 3],
    pattern: &[char],
    ascii: Option<&[u8]>,
    case_sensitive: bool,
) -> bool {
    // An ASCII pattern byte never equals a byte of a multi-byte character,
    // so an ASCII pattern can be sought byte by byte.
    if let Some(p) = ascii {
        let mut k = 0;
        for part in parts {
            for &c in part.as_bytes() {
                if k == p.len() {
                    return true;
                }
                let same = if case_sensitive {
                    c == p[k]
                } else {
                    c.eq_ignore_ascii_case(&p[k])
                };
                k += usize::from(same);
            }
        }
        return k == p.len();
    }
    let mut want = pattern.iter().peekable();
    for part in parts {
        for c in part.chars() {
            match want.peek() {
                Some(&&p) => {
                    let same = if case_sensitive {
                        c == p
                    } else {
                        c.eq_ignore_ascii_case(&p)
                    };
                    if same {
                        want.next();
                    }
                }
                None => return true,
            }
        }
    }
    want.peek().is_none()
}

/// Entries tried per check that the query is still the newest.
const SLICE: usize = 8192;

/// The best 50 hits for `q`, with the matched character positions, and
/// every entry `q` matched. When `q` extends the query of `prior`, only
/// what `prior` matched is tried: a character added to a fuzzy query can
/// only lose matches. The work is split between two threads; it stops
/// (`None`) as soon as `stale` says a newer query has come.
pub fn rank(
    d: &Dataset,
    q: &str,
    prior: Option<&Narrowed>,
    stale: &(dyn Fn() -> bool + Sync),
) -> Option<(Vec<SearchHit>, Narrowed)> {
    let mut narrowed = Narrowed {
        query: q.to_string(),
        matched: Vec::new(),
    };
    if q.trim().is_empty() {
        return Some((Vec::new(), narrowed));
    }
    let entries = Entries::new(d);
    let pattern = Pattern::new(q);
    let narrow = prior.filter(|p| !p.query.trim().is_empty() && q.starts_with(p.query.as_str()));
    // The candidates: what the shorter query matched, else every entry.
    let count = narrow.map_or(entries.len() as usize, |p| p.matched.len());
    let candidate = |k: usize| narrow.map_or(k as u32, |p| p.matched[k]);
    let score_part = |part: std::ops::Range<usize>| -> Option<Vec<(i64, u32)>> {
        let m = SkimMatcherV2::default();
        let mut buf = String::new();
        let mut scored = Vec::new();
        for (k, n) in part.map(candidate).enumerate() {
            if k % SLICE == 0 && stale() {
                return None;
            }
            if !pattern.keeps(entries.parts(n)) {
                continue;
            }
            entries.text_into(n, &mut buf);
            if let Some(score) = m.fuzzy_match(&buf, q) {
                scored.push((score, n));
            }
        }
        Some(scored)
    };
    let half = count / 2;
    let (a, b) = std::thread::scope(|s| {
        let second = s.spawn(|| score_part(half..count));
        let first = score_part(0..half);
        (first, second.join().ok().flatten())
    });
    let mut scored = a?;
    scored.extend(b?);
    narrowed.matched = scored.iter().map(|x| x.1).collect();
    // Equal scores: staff first (the person an incident is about), then
    // subjects, references and rules, each by id.
    let order = |a: &(i64, u32), b: &(i64, u32)| {
        let (ka, ia) = entries.id(a.1);
        let (kb, ib) = entries.id(b.1);
        b.0.cmp(&a.0)
            .then((ka as u8).cmp(&(kb as u8)))
            .then_with(|| ia.cmp(ib))
    };
    if scored.len() > 50 {
        scored.select_nth_unstable_by(49, order);
        scored.truncate(50);
    }
    scored.sort_by(order);
    let m = SkimMatcherV2::default();
    let mut buf = String::new();
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
    Some((hits, narrowed))
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
                HitKind::DbReads => ("db log", "direct database reads".to_string()),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-place test keeps every entry the matcher scores, and drops
    /// only entries it would not score, whatever the case and script.
    #[test]
    fn the_in_place_test_agrees_with_the_matcher() {
        let m = SkimMatcherV2::default();
        let choices = [
            ["Élodie", " ", "MARTIN"],
            ["10450", " ", "Kenji Kobayashi"],
            ["CS-7123", "", ""],
            ["zoë", " ", "Zoë Ångström"],
            ["vip_access", "", ""],
        ];
        let patterns = [
            "Éa", "éa", "ÉA", "ka", "Ka", "KK", "cs7", "CS-7", "zoë", "ZOË", "Ång", "ång", "vpa",
            "x", "10450 k", "",
        ];
        for parts in choices {
            let text = parts.concat();
            for q in patterns.iter().filter(|q| !q.is_empty()) {
                let ours = Pattern::new(q).keeps(parts);
                let theirs = m.fuzzy_match(&text, q).is_some();
                assert_eq!(ours, theirs, "{text:?} {q:?}");
            }
        }
    }
}
