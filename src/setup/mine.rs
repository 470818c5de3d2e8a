//! `keyhole explain --mine`: finds the relationships that explain why a
//! staff member may see a person, from the schema and the access log alone
//! (explanation-based auditing: Fabbri and LeFevre, PVLDB 5(1), 2011).
//!
//! - **Candidates** are join paths from an access's subject to its staff
//!   member: one table holding a subject-like and a staff-like column, or
//!   two tables joined on a shared key (a case table and its assignments).
//!   A column is subject-like (staff-like) when at least 80 % of a bounded
//!   sample of its values are ids that `subjects.sql` (`staff.sql`) returns.
//!   The access log's own table and the staff and subject tables are never
//!   part of a path, so a customer row that names the employee who is that
//!   customer never explains anything; pairs where the staff member is the
//!   subject are not counted either.
//! - **Time.** A start and an end column on the path (opened/closed,
//!   assigned/released, placed/shipped…) become `valid_from`/`valid_to`; a
//!   lone time column is `valid_from` with no end.
//! - **Scores**, over the window's accesses that name a subject:
//!   *coverage*, the share a template explains (with the policy's lead and
//!   grace minutes, as the `no_relationship` rule reads relationships), and
//!   *lift*, coverage against the same accesses with their staff shuffled
//!   (each access paired with the staff member of another, drawn from the
//!   last 4,096 accesses).
//! - **Kept**: coverage of at least [`MIN_COVERAGE`] and lift of at least
//!   [`MIN_LIFT`]. A real relationship explains its accesses far more often
//!   than chance does; a join that links everyone to everyone (same store,
//!   same region) explains shuffled pairs nearly as well, and its lift stays
//!   low. Below 0.5 % coverage a template is too rare to tell from noise.
//!
//! Memory: each template's rows are held in keyhole's packed relationship
//! table, one at a time; accesses stream through a day at a time.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::catalog::{self, Catalog, Kind, Table, words};
use crate::model::{Instant, Interner, Relationships};
use crate::policy::Policy;
use crate::source::queries::{QueryFile, QuerySet};
use crate::source::{Dialect, Source, SourceError, Window, load};

/// The least coverage a template must reach to be kept.
pub const MIN_COVERAGE: f64 = 0.005;
/// The least lift a template must reach to be kept.
pub const MIN_LIFT: f64 = 10.0;
/// Share of a column's sampled values that must be known ids.
const ID_SHARE: f64 = 0.8;

/// One candidate explanation.
#[derive(Debug, Clone)]
pub struct Template {
    /// `kind` in relationships.sql: the path's table names.
    pub kind: String,
    pub path: Vec<String>,
    pub staff_column: String,
    pub subject_column: String,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    /// The branch of relationships.sql.
    pub sql: String,
    pub rows: usize,
    pub explained: u64,
    pub coverage: f64,
    pub lift: f64,
    pub accepted: bool,
}

impl Template {
    /// A candidate before scoring: only its SQL; the caller fills in the rest.
    fn unscored(sql: String) -> Template {
        Template {
            kind: String::new(),
            path: Vec::new(),
            staff_column: String::new(),
            subject_column: String::new(),
            valid_from: None,
            valid_to: None,
            sql,
            rows: 0,
            explained: 0,
            coverage: 0.0,
            lift: 0.0,
            accepted: false,
        }
    }
}

/// The result: every template, ranked, and the figures of the kept set.
#[derive(Debug, Clone)]
pub struct Mined {
    pub accesses: u64,
    pub templates: Vec<Template>,
    /// Share of the accesses that some kept template explains.
    pub coverage: f64,
    pub excluded: Vec<String>,
    /// Tables that could not be sampled, with the reason (never candidates).
    pub skipped: Vec<(String, String)>,
}

/// A query file without its comments and string literals (each replaced by
/// a space), so that only its own words remain.
fn code_only(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '-' if chars.peek() == Some(&'-') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                out.push('\n');
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
                out.push(' ');
            }
            '\'' => {
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                }
                out.push(' ');
            }
            c => out.push(c),
        }
    }
    out
}

/// The table named after the first FROM of a query file.
pub fn from_table(sql: &str) -> Option<String> {
    let sql = &code_only(sql);
    let lower = sql.to_ascii_lowercase();
    let mut idx = 0;
    while let Some(p) = lower[idx..].find("from") {
        let at = idx + p;
        let before = lower[..at].chars().last();
        let after = lower[at + 4..].chars().next();
        idx = at + 4;
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            || after.is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            continue;
        }
        let rest = sql[at + 4..].trim_start();
        let name: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, ';' | ')' | ','))
            .collect();
        let name = name.trim_matches(|c| c == '"' || c == '`' || c == '[' || c == ']');
        let name = name
            .rsplit('.')
            .next()
            .unwrap_or(name)
            .trim_matches(|c| c == '"' || c == '`' || c == '[' || c == ']');
        if !name.is_empty() && !name.starts_with('(') {
            return Some(name.to_string());
        }
    }
    None
}

fn share_known(t: &Table, i: usize, known: &HashSet<String>) -> f64 {
    let vals: Vec<&str> = t.values(i).collect();
    if vals.len() < 3 {
        return 0.0;
    }
    vals.iter().filter(|v| known.contains(v.trim())).count() as f64 / vals.len() as f64
}

const START: [&str; 14] = [
    "opened",
    "created",
    "start",
    "started",
    "from",
    "assigned",
    "placed",
    "begin",
    "since",
    "valid",
    "joined",
    "dispatched",
    "issued",
    "booked",
];
const END: [&str; 16] = [
    "closed",
    "end",
    "ended",
    "until",
    "to",
    "released",
    "shipped",
    "resolved",
    "finished",
    "expires",
    "left",
    "unassigned",
    "completed",
    "delivered",
    "returned",
    "discharged",
];

/// The start and end time columns of a table: by their names, else the
/// two whose sampled values come in that order in most rows.
fn time_pair(t: &Table) -> (Option<String>, Option<String>) {
    let times: Vec<(usize, &str)> = t
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind == Kind::Time)
        .map(|(i, c)| (i, c.name.as_str()))
        .collect();
    let find = |ws: &[&str]| {
        times
            .iter()
            .find(|(_, c)| words(c).iter().any(|w| ws.contains(&w.as_str())))
            .map(|(_, c)| c.to_string())
    };
    let start = find(&START);
    let end = find(&END).filter(|e| Some(e) != start.as_ref());
    if start.is_some() && end.is_some() {
        return (start, end);
    }
    // By order: the pair (a, b) with a <= b in the most sampled rows.
    let mut best: Option<(usize, &str, &str)> = None;
    for &(ia, a) in &times {
        for &(ib, b) in &times {
            if ia == ib
                || start.as_deref().is_some_and(|s| s != a)
                || end.as_deref().is_some_and(|e| e != b)
            {
                continue;
            }
            let (mut before, mut both) = (0, 0);
            for r in &t.sample {
                if let (Some(Some(x)), Some(Some(y))) = (r.get(ia), r.get(ib)) {
                    both += 1;
                    before += usize::from(x <= y);
                }
            }
            if both > 0 && before * 10 >= both * 9 && best.is_none_or(|(n, _, _)| before > n) {
                best = Some((before, a, b));
            }
        }
    }
    match (best, start, end) {
        (Some((_, a, b)), _, _) => (Some(a.to_string()), Some(b.to_string())),
        (None, Some(s), e) => (Some(s), e),
        (None, None, Some(e)) => (
            times
                .iter()
                .find(|(_, c)| *c != e)
                .map(|(_, c)| c.to_string()),
            Some(e),
        ),
        (None, None, None) => (times.first().map(|(_, c)| c.to_string()), None),
    }
}

fn cast_text(d: Dialect, e: &str) -> String {
    match d {
        Dialect::Mysql => format!("CAST({e} AS CHAR)"),
        _ => format!("CAST({e} AS TEXT)"),
    }
}

fn epoch(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "TIMESTAMPTZ '1970-01-01 00:00:00+00'",
        Dialect::Mysql => "TIMESTAMP('1970-01-01 00:00:00')",
        Dialect::Sqlite => "'1970-01-01 00:00:00'",
    }
}

fn no_end(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "CAST(NULL AS TIMESTAMPTZ)",
        Dialect::Mysql => "CAST(NULL AS DATETIME)",
        Dialect::Sqlite => "NULL",
    }
}

/// A column reference `alias."name"`.
fn col(d: Dialect, alias: &str, name: &str) -> String {
    format!("{alias}.{}", catalog::quote(d, name))
}

/// Finds the candidate templates (without scores).
pub async fn candidates(
    src: &mut Source,
    cat: &Catalog,
    staff_ids: &HashSet<String>,
    subject_ids: &HashSet<String>,
    excluded: &BTreeSet<String>,
) -> Result<Vec<Template>, SourceError> {
    let d = cat.dialect;
    let usable: Vec<&Table> = cat
        .tables
        .iter()
        .filter(|t| !excluded.contains(&t.bare.to_ascii_lowercase()))
        .collect();
    // Per table: its staff-like and subject-like columns.
    let mut staff_cols: HashMap<&str, Vec<String>> = HashMap::new();
    let mut subject_cols: HashMap<&str, Vec<String>> = HashMap::new();
    for t in &usable {
        for (i, c) in t.columns.iter().enumerate() {
            if !matches!(c.kind, Kind::Int | Kind::Text | Kind::Number) {
                continue;
            }
            let st = share_known(t, i, staff_ids);
            let su = share_known(t, i, subject_ids);
            if st >= ID_SHARE && st > su {
                staff_cols.entry(&t.name).or_default().push(c.name.clone());
            } else if su >= ID_SHARE && su > st {
                subject_cols
                    .entry(&t.name)
                    .or_default()
                    .push(c.name.clone());
            }
        }
    }
    let mut out = Vec::new();
    // One table.
    for t in &usable {
        let (Some(ss), Some(cs)) = (
            staff_cols.get(t.name.as_str()),
            subject_cols.get(t.name.as_str()),
        ) else {
            continue;
        };
        for s in ss {
            for c in cs {
                let (from, to) = time_pair(t);
                let id = super::draft::id_column(t).map(|i| t.columns[i].name.clone());
                let a = "t";
                let sql = format!(
                    "SELECT {} AS staff_id, {} AS subject_id, '{}' AS kind, {} AS reference, {} AS valid_from, {} AS valid_to\nFROM {} {a}\nWHERE {} IS NOT NULL AND {} IS NOT NULL",
                    cast_text(d, &col(d, a, s)),
                    cast_text(d, &col(d, a, c)),
                    t.name.replace('\'', "''"),
                    id.as_deref()
                        .filter(|i| i != s && i != c)
                        .map_or_else(|| "NULL".to_string(), |i| cast_text(d, &col(d, a, i))),
                    from.as_deref()
                        .map_or_else(|| epoch(d).to_string(), |f| col(d, a, f)),
                    to.as_deref()
                        .map_or_else(|| no_end(d).to_string(), |e| col(d, a, e)),
                    catalog::quote_table(d, &t.name),
                    col(d, a, s),
                    col(d, a, c),
                );
                out.push(Template {
                    kind: t.name.clone(),
                    path: vec![t.name.clone()],
                    staff_column: format!("{}.{s}", t.name),
                    subject_column: format!("{}.{c}", t.name),
                    valid_from: from.map(|f| format!("{}.{f}", t.name)),
                    valid_to: to.map(|e| format!("{}.{e}", t.name)),
                    ..Template::unscored(sql)
                });
            }
        }
    }
    // Two tables: A holds the subject, B the staff member, joined on a key
    // of A found in B.
    for a in &usable {
        let Some(cs) = subject_cols.get(a.name.as_str()) else {
            continue;
        };
        for b in &usable {
            if a.name == b.name {
                continue;
            }
            let Some(ss) = staff_cols.get(b.name.as_str()) else {
                continue;
            };
            if staff_cols.contains_key(a.name.as_str())
                && subject_cols.contains_key(b.name.as_str())
            {
                continue;
            }
            let Some(ka) = super::draft::id_column(a) else {
                continue;
            };
            let ka_col = &a.columns[ka];
            if cs.contains(&ka_col.name) {
                continue;
            }
            for kb in &b.columns {
                if !ka_col.kind.joins(kb.kind) || ss.contains(&kb.name) {
                    continue;
                }
                let keyish = super::draft::key_like(&kb.name);
                if !keyish {
                    continue;
                }
                let (n, hit) = catalog::overlap(src, &b.name, kb, &a.name, ka_col).await?;
                if n < 3 || (hit as f64) < 0.9 * n as f64 {
                    continue;
                }
                for s in ss {
                    for c in cs {
                        // The assignment's own times first, else the case's.
                        let (bf, bt) = time_pair(b);
                        let (af, at) = time_pair(a);
                        let (from, to) = if bf.is_some() {
                            (bf.map(|f| ("b", f)), bt.map(|e| ("b", e)))
                        } else {
                            (af.map(|f| ("a", f)), at.map(|e| ("a", e)))
                        };
                        let (bk, ak) = catalog::comparable(
                            d,
                            (&col(d, "b", &kb.name), kb),
                            (&col(d, "a", &ka_col.name), ka_col),
                        );
                        let sql = format!(
                            "SELECT {} AS staff_id, {} AS subject_id, '{}' AS kind, {} AS reference, {} AS valid_from, {} AS valid_to\nFROM {} a JOIN {} b ON {bk} = {ak}\nWHERE {} IS NOT NULL AND {} IS NOT NULL",
                            cast_text(d, &col(d, "b", s)),
                            cast_text(d, &col(d, "a", c)),
                            format!("{}+{}", a.name, b.name).replace('\'', "''"),
                            cast_text(d, &col(d, "a", &ka_col.name)),
                            from.as_ref()
                                .map_or_else(|| epoch(d).to_string(), |(t, f)| col(d, t, f)),
                            to.as_ref()
                                .map_or_else(|| no_end(d).to_string(), |(t, e)| col(d, t, e)),
                            catalog::quote_table(d, &a.name),
                            catalog::quote_table(d, &b.name),
                            col(d, "b", s),
                            col(d, "a", c),
                        );
                        let tname = |t: &str| if t == "a" { &a.name } else { &b.name };
                        out.push(Template {
                            kind: format!("{}+{}", a.name, b.name),
                            path: vec![a.name.clone(), b.name.clone()],
                            staff_column: format!("{}.{s}", b.name),
                            subject_column: format!("{}.{c}", a.name),
                            valid_from: from.as_ref().map(|(t, f)| format!("{}.{f}", tname(t))),
                            valid_to: to.as_ref().map(|(t, e)| format!("{}.{e}", tname(t))),
                            ..Template::unscored(sql)
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Whether any relationship of `staff` with `subject` explains an access at `t`.
fn explains(
    r: &Relationships,
    staff: &str,
    subject: &str,
    t: Instant,
    lead: chrono::Duration,
    grace: chrono::Duration,
) -> bool {
    r.of(staff, subject)
        .any(|x| x.valid_from - lead <= t && x.valid_to.is_none_or(|to| t < to + grace))
}

/// Mines the window `[from, to)`.
pub async fn mine(
    src: &mut Source,
    set: &QuerySet,
    policy: &Policy,
    window: Window,
    mut progress: impl FnMut(&str),
) -> Result<Mined, SourceError> {
    let tz = policy.timezone;
    progress("reading staff and subjects");
    let staff = load::load_staff(src, set, tz).await?;
    let subjects = load::load_subjects(src, set, tz).await?;
    let staff_ids: HashSet<String> = staff.iter().map(|s| s.staff_id.to_string()).collect();
    let subject_ids: HashSet<String> = subjects.iter().map(|s| s.subject_id.to_string()).collect();
    // subject → the staff member who is that person.
    let is_self: HashMap<String, String> = subjects
        .iter()
        .filter_map(|s| {
            s.staff_id
                .as_ref()
                .map(|st| (s.subject_id.to_string(), st.to_string()))
        })
        .collect();
    drop(staff);
    drop(subjects);
    let mut excluded = BTreeSet::new();
    for f in [
        QueryFile::AccessEvents,
        QueryFile::Staff,
        QueryFile::Subjects,
    ] {
        if let Some(t) = set.get(f).and_then(|q| from_table(&q.sql)) {
            excluded.insert(t.to_ascii_lowercase());
        }
    }
    progress("reading the catalogue");
    let cat = catalog::read(src).await?;
    let mut templates = candidates(src, &cat, &staff_ids, &subject_ids, &excluded).await?;
    // Every candidate's rows, each in keyhole's packed relationship table.
    let mut tables = Vec::with_capacity(templates.len());
    for (ti, t) in templates.iter_mut().enumerate() {
        progress(&format!("reading {}", t.kind));
        let one = set.with(
            QueryFile::Relationships,
            &format!("template {} ({})", ti + 1, t.kind),
            &t.sql,
        );
        let rels = load::load_relationships(src, &one, tz)
            .await?
            .unwrap_or_default();
        t.rows = rels.len();
        tables.push(rels);
    }
    // One pass over the window's accesses, a day at a time: each access is
    // tried against every template, and against a shuffled staff member.
    // Memory: the templates' tables, a ring of 4,096 staff ids, and a count
    // per pattern of templates that explained an access.
    progress("scoring the accesses");
    let lead = chrono::Duration::minutes(policy.thresholds.relationship_lead_minutes);
    let grace = chrono::Duration::minutes(policy.thresholds.relationship_grace_minutes);
    let k = templates.len().min(64);
    let mut hits = vec![0u64; k];
    let mut chance = vec![0u64; k];
    let mut patterns: HashMap<u64, u64> = HashMap::new();
    let mut n = 0u64;
    let mut syms = Interner::default();
    let mut ring = [None::<crate::model::Sym>; 4096];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut score = |ev: crate::model::AccessEvent, syms: &Interner| {
        let Some(subject) = ev.subject else {
            return;
        };
        let (staff, subject) = (syms.resolve(ev.staff), syms.resolve(subject));
        // Looking at oneself explains nothing; it is not counted.
        if is_self.get(subject).is_some_and(|s| s == staff) {
            return;
        }
        n += 1;
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let other = ring[((seed >> 33) as usize) % ring.len()]
            .filter(|o| *o != ev.staff)
            .map(|o| syms.resolve(o));
        ring[(n as usize) % ring.len()] = Some(ev.staff);
        let mut pattern = 0u64;
        for (i, rels) in tables.iter().take(k).enumerate() {
            if explains(rels, staff, subject, ev.occurred_at, lead, grace) {
                hits[i] += 1;
                pattern |= 1 << i;
            }
            if let Some(o) = other
                && explains(rels, o, subject, ev.occurred_at, lead, grace)
            {
                chance[i] += 1;
            }
        }
        *patterns.entry(pattern).or_default() += 1;
    };
    // One local day per statement, as the audit pipeline reads: no statement
    // runs longer than a day's rows take.
    let mut day = window.from.with_timezone(&tz).date_naive();
    loop {
        let start = crate::time::local_day_start(day, tz).max(window.from);
        if start >= window.to {
            break;
        }
        let next = day.succ_opt().expect("a next day");
        let end = crate::time::local_day_start(next, tz).min(window.to);
        load::stream_events(
            src,
            set,
            tz,
            Window {
                from: start,
                to: end,
            },
            &mut syms,
            |ev, syms| score(ev, syms),
            |_| {},
        )
        .await?;
        day = next;
    }
    drop(tables);
    let mut accepted = 0u64;
    for (i, t) in templates.iter_mut().enumerate().take(k) {
        t.explained = hits[i];
        t.coverage = if n == 0 {
            0.0
        } else {
            hits[i] as f64 / n as f64
        };
        let by_chance = if n == 0 {
            0.0
        } else {
            chance[i] as f64 / n as f64
        };
        t.lift = t.coverage / by_chance.max(1.0 / n.max(1) as f64);
        t.accepted = t.coverage >= MIN_COVERAGE && t.lift >= MIN_LIFT;
        if t.accepted {
            accepted |= 1 << i;
        }
    }
    let covered: u64 = patterns
        .iter()
        .filter(|(p, _)| *p & accepted != 0)
        .map(|(_, c)| c)
        .sum();
    templates.sort_by(|a, b| {
        b.accepted
            .cmp(&a.accepted)
            .then(b.coverage.total_cmp(&a.coverage))
            .then(a.kind.cmp(&b.kind))
    });
    Ok(Mined {
        accesses: n,
        templates,
        coverage: if n == 0 {
            0.0
        } else {
            covered as f64 / n as f64
        },
        excluded: excluded.into_iter().collect(),
        skipped: cat.skipped,
    })
}

/// relationships.sql: one `UNION ALL` branch per kept template, each with
/// its figures.
pub fn relationships_sql(m: &Mined, window: Window) -> String {
    let mut o = format!(
        "-- Relationships mined by keyhole explain --mine over {} to {}:\n\
         -- {} accesses naming a subject; the kept templates explain {:.1}% of them.\n\
         -- Kept: coverage >= {:.1}% and lift >= {:.0}. Review each branch before relying on it.\n",
        crate::time::rfc3339(window.from),
        crate::time::rfc3339(window.to),
        m.accesses,
        m.coverage * 100.0,
        MIN_COVERAGE * 100.0,
        MIN_LIFT
    );
    let kept: Vec<&Template> = m.templates.iter().filter(|t| t.accepted).collect();
    for (i, t) in kept.iter().enumerate() {
        if i > 0 {
            o.push_str("UNION ALL\n");
        }
        o.push_str(&format!(
            "-- {}: coverage {:.1}%, lift {:.0}, {} rows; staff {}, subject {}, from {}, to {}\n{}\n",
            t.kind,
            t.coverage * 100.0,
            t.lift,
            t.rows,
            t.staff_column,
            t.subject_column,
            t.valid_from.as_deref().unwrap_or("(none: always)"),
            t.valid_to.as_deref().unwrap_or("(none: still open)"),
            t.sql
        ));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_after_from_ignores_comments_strings_and_quotes() {
        assert_eq!(
            from_table("-- drafted from access_audit, one day\nSELECT a.x, 'from y' AS k\nFROM \"access_audit\" a WHERE 1").as_deref(),
            Some("access_audit")
        );
        assert_eq!(
            from_table("select * from public.`Orders`;").as_deref(),
            Some("Orders")
        );
        assert_eq!(from_table("SELECT x_from FROM t2").as_deref(), Some("t2"));
        assert_eq!(from_table("SELECT 1").as_deref(), None);
    }
}
