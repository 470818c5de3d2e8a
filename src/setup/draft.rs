//! `keyhole init`: from the catalogue alone, find the tables that hold
//! staff, the people whose data is looked at, the access log, legal process
//! and subject requests, and draft the contract's query files for them, with
//! a `-- guess:` comment wherever the choice is not certain, and a policy
//! skeleton naming every role found.
//!
//! How it decides:
//! - **References.** A declared foreign key, else a key-like column (its
//!   name ends in id, no, num, key, ref or code) of which at least 90 % of a
//!   bounded sample is found among another table's key values, the database
//!   doing the lookup; ties go to the target whose name the column shares,
//!   then to the smaller table.
//! - **The access log** is the table with a time column and references to
//!   two different tables, the largest such, with a bonus for a name like
//!   audit, access, log or event.
//! - **Staff and subjects** are the two tables it references, told apart by
//!   their names and columns (role, job, department, hired… against email,
//!   phone, address, country…).
//! - **Columns** are matched by the words of their names and their kinds.

use std::collections::BTreeMap;

use super::catalog::{self, Catalog, Kind, Table, words};
use crate::source::{Dialect, Source, SourceError};

/// How sure `init` is of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Confidence {
    None,
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn text(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
            Confidence::None => "not found",
        }
    }
}

/// One line of what `init` found.
#[derive(Debug, Clone)]
pub struct Finding {
    pub file: &'static str,
    pub table: Option<String>,
    pub confidence: Confidence,
    pub note: String,
}

/// A column of one table that holds another table's keys.
#[derive(Debug, Clone)]
pub struct Reference {
    pub table: String,
    pub column: String,
    pub target: String,
    pub key: String,
    pub declared: bool,
}

/// The drafted files: `(file name, text)`, the policy skeleton and the findings.
#[derive(Debug, Clone)]
pub struct Draft {
    pub files: Vec<(String, String)>,
    pub policy: String,
    pub findings: Vec<Finding>,
}

const KEY_WORDS: [&str; 8] = ["id", "no", "num", "number", "key", "ref", "code", "nr"];

/// Whether a column's name ends like a key: `customer_id`, `order_no`, `CaseRef`.
pub fn key_like(column: &str) -> bool {
    words(column)
        .last()
        .is_some_and(|w| KEY_WORDS.contains(&w.as_str()))
}

fn has_word(name: &str, any: &[&str]) -> bool {
    words(name).iter().any(|w| any.contains(&w.as_str()))
}

fn singular(w: &str) -> &str {
    w.strip_suffix("ies")
        .map(|_| &w[..w.len() - 1])
        .or_else(|| w.strip_suffix('s'))
        .unwrap_or(w)
}

/// The column that identifies a table's rows.
pub fn id_column(t: &Table) -> Option<usize> {
    let table_words: Vec<String> = words(&t.bare)
        .iter()
        .map(|w| singular(w).to_string())
        .collect();
    let keyish = |i: usize| key_like(&t.columns[i].name);
    let candidates: Vec<usize> = (0..t.columns.len())
        .filter(|&i| matches!(t.columns[i].kind, Kind::Int | Kind::Text | Kind::Number))
        .collect();
    // "id", or a key named after the table (customer_id in customers).
    if let Some(&i) = candidates.iter().find(|&&i| {
        let ws = words(&t.columns[i].name);
        (ws == ["id"] || (keyish(i) && ws.iter().any(|w| table_words.contains(w))))
            && (t.sample.is_empty() || t.unique(i))
    }) {
        return Some(i);
    }
    // Else the first column, when its values are distinct (ids come first),
    // else the first distinct key-like one.
    if candidates.first() == Some(&0) && (t.sample.is_empty() || t.unique(0)) {
        return Some(0);
    }
    candidates
        .iter()
        .copied()
        .find(|&i| keyish(i) && (t.sample.is_empty() || t.unique(i)))
        .or_else(|| candidates.first().copied())
}

/// Whether a column is named after its own table (`customer_id` in
/// `customers`, or plain `id`): a table's own key, never a reference.
fn own_key(t: &Table, column: &str) -> bool {
    let tw = table_words(t);
    let cw = words(column);
    cw == ["id"] || cw.iter().any(|w| tw.contains(&singular(w).to_string()))
}

fn affinity(column: &str, target: &Table, key: &str) -> usize {
    let generic = |w: &str| KEY_WORDS.contains(&w);
    let cw: Vec<String> = words(column).into_iter().filter(|w| !generic(w)).collect();
    let mut tw: Vec<String> = words(&target.bare)
        .iter()
        .map(|w| singular(w).to_string())
        .collect();
    tw.extend(words(key).into_iter().filter(|w| !generic(w)));
    cw.iter()
        .filter(|w| {
            tw.iter()
                .any(|t| t == singular(w) || t.starts_with(w.as_str()) || w.starts_with(t.as_str()))
        })
        .count()
}

/// Every reference between tables: declared, else found by value overlap.
pub async fn references(src: &mut Source, cat: &Catalog) -> Result<Vec<Reference>, SourceError> {
    let ids: BTreeMap<&str, usize> = cat
        .tables
        .iter()
        .filter_map(|t| id_column(t).map(|i| (t.name.as_str(), i)))
        .collect();
    let mut out = Vec::new();
    for t in &cat.tables {
        for (ci, c) in t.columns.iter().enumerate() {
            if let Some(fk) = t
                .foreign_keys
                .iter()
                .find(|f| f.column.eq_ignore_ascii_case(&c.name))
            {
                out.push(Reference {
                    table: t.name.clone(),
                    column: c.name.clone(),
                    target: fk.table.clone(),
                    key: fk.references.clone(),
                    declared: true,
                });
                continue;
            }
            let keyish = key_like(&c.name);
            if ids.get(t.name.as_str()) == Some(&ci) && own_key(t, &c.name) {
                continue;
            }
            if !matches!(c.kind, Kind::Int | Kind::Text | Kind::Number) {
                continue;
            }
            // (affinity, -rows) of each target found; the best wins.
            let mut best: Option<(usize, i64, &Table, usize)> = None;
            for u in &cat.tables {
                if u.name == t.name {
                    continue;
                }
                let Some(&ki) = ids.get(u.name.as_str()) else {
                    continue;
                };
                if !c.kind.joins(u.columns[ki].kind) {
                    continue;
                }
                // A key-like name (…_id, …_no), or one that names the target
                // (crew_badge and crew_members).
                let named = affinity(&c.name, u, &u.columns[ki].name);
                if !keyish && named == 0 {
                    continue;
                }
                let (n, hit) = catalog::overlap(src, &t.name, c, &u.name, &u.columns[ki]).await?;
                if n < 3 || hit * 10 < n * 9 {
                    continue;
                }
                let score = (named, -(u.rows as i64));
                if best.is_none_or(|(a, r, _, _)| score > (a, r)) {
                    best = Some((score.0, score.1, u, ki));
                }
            }
            if let Some((_, _, u, ki)) = best {
                out.push(Reference {
                    table: t.name.clone(),
                    column: c.name.clone(),
                    target: u.name.clone(),
                    key: u.columns[ki].name.clone(),
                    declared: false,
                });
            }
        }
    }
    Ok(out)
}

const STAFF_NAMES: [&str; 14] = [
    "employee",
    "staff",
    "agent",
    "worker",
    "personnel",
    "crew",
    "team",
    "operator",
    "clerk",
    "associate",
    "colleague",
    "officer",
    "user",
    "rep",
];
const STAFF_COLUMNS: [&str; 14] = [
    "role",
    "job",
    "title",
    "department",
    "dept",
    "position",
    "hired",
    "hire",
    "terminated",
    "left",
    "login",
    "badge",
    "grade",
    "manager",
];
const SUBJECT_NAMES: [&str; 14] = [
    "customer", "client", "patient", "member", "subject", "person", "people", "account", "patron",
    "guest", "consumer", "resident", "citizen", "shopper",
];
const SUBJECT_COLUMNS: [&str; 14] = [
    "email", "phone", "mobile", "address", "street", "city", "country", "region", "zip", "postal",
    "vip", "tier", "birth", "dob",
];

fn table_words(t: &Table) -> Vec<String> {
    words(&t.bare)
        .iter()
        .map(|w| singular(w).to_string())
        .collect()
}

fn staff_score(t: &Table) -> i64 {
    let names = table_words(t)
        .iter()
        .filter(|w| STAFF_NAMES.contains(&w.as_str()))
        .count() as i64;
    let cols = t
        .columns
        .iter()
        .filter(|c| has_word(&c.name, &STAFF_COLUMNS))
        .count() as i64;
    names * 3 + cols
}

fn subject_score(t: &Table) -> i64 {
    let names = table_words(t)
        .iter()
        .filter(|w| SUBJECT_NAMES.contains(&w.as_str()))
        .count() as i64;
    let cols = t
        .columns
        .iter()
        .filter(|c| has_word(&c.name, &SUBJECT_COLUMNS))
        .count() as i64;
    names * 3 + cols
}

/// The tables keyhole's model needs, as found.
#[derive(Debug, Clone)]
pub struct Roles {
    pub access: Table,
    pub staff: Table,
    pub subjects: Table,
    /// The access log's column naming the staff member, and the key it holds.
    pub actor: Reference,
    /// The access log's column naming the person looked at.
    pub target: Reference,
    pub confidence: Confidence,
}

/// Finds the access log, staff and subjects.
pub fn roles(cat: &Catalog, refs: &[Reference]) -> Option<Roles> {
    let mut best: Option<(i64, Roles)> = None;
    for t in &cat.tables {
        if !t.columns.iter().any(|c| c.kind == Kind::Time) {
            continue;
        }
        let out: Vec<&Reference> = refs.iter().filter(|r| r.table == t.name).collect();
        for a in &out {
            for b in &out {
                if a.target == b.target || a.column == b.column {
                    continue;
                }
                let (Some(staff), Some(subjects)) = (cat.table(&a.target), cat.table(&b.target))
                else {
                    continue;
                };
                let fit = staff_score(staff) + subject_score(subjects)
                    - staff_score(subjects)
                    - subject_score(staff)
                    + i64::from(subjects.rows > staff.rows);
                let logish = i64::from(has_word(
                    &t.name,
                    &[
                        "audit", "access", "log", "event", "view", "history", "lookup", "trail",
                    ],
                )) * 3;
                let size = (t.rows.max(1) as f64).ln() as i64;
                let score = fit * 4 + logish + size;
                if best.as_ref().is_none_or(|(s, _)| score > *s) {
                    let confidence = if fit >= 6 && (a.declared || b.declared || logish > 0) {
                        Confidence::High
                    } else if fit >= 3 {
                        Confidence::Medium
                    } else {
                        Confidence::Low
                    };
                    best = Some((
                        score,
                        Roles {
                            access: t.clone(),
                            staff: staff.clone(),
                            subjects: subjects.clone(),
                            actor: (*a).clone(),
                            target: (*b).clone(),
                            confidence,
                        },
                    ));
                }
            }
        }
    }
    best.map(|(_, r)| r)
}

/// The first column whose name has one of `any` words (in the order of
/// `any`, so earlier words are preferred), of one of `kinds`.
fn pick<'a>(t: &'a Table, any: &[&str], kinds: &[Kind], skip: &[&str]) -> Option<&'a str> {
    for w in any {
        if let Some(c) = t.columns.iter().find(|c| {
            kinds.contains(&c.kind)
                && !skip.iter().any(|s| s.eq_ignore_ascii_case(&c.name))
                && words(&c.name).iter().any(|x| x == w)
        }) {
            return Some(&c.name);
        }
    }
    None
}

const TEXTY: [Kind; 2] = [Kind::Text, Kind::Other];
const IDS: [Kind; 3] = [Kind::Int, Kind::Text, Kind::Number];
const TIMES: [Kind; 1] = [Kind::Time];

/// One select-list line of a drafted file.
struct Line {
    expr: String,
    alias: &'static str,
    guess: Option<String>,
}

struct Sql {
    dialect: Dialect,
    alias: &'static str,
    lines: Vec<Line>,
}

impl Sql {
    fn new(dialect: Dialect, alias: &'static str) -> Sql {
        Sql {
            dialect,
            alias,
            lines: Vec::new(),
        }
    }

    fn col(&self, c: &str) -> String {
        format!("{}.{}", self.alias, catalog::quote(self.dialect, c))
    }

    /// `LOWER(col)`, through text on PostgreSQL, where an enum has no LOWER.
    fn lower(&self, c: &str) -> String {
        match self.dialect {
            Dialect::Postgres => format!("LOWER(CAST({} AS TEXT))", self.col(c)),
            _ => format!("LOWER({})", self.col(c)),
        }
    }

    fn add(&mut self, alias: &'static str, expr: String, guess: Option<String>) {
        self.lines.push(Line { expr, alias, guess });
    }

    fn opt(&mut self, alias: &'static str, col: Option<&str>) {
        if let Some(c) = col {
            let e = self.col(c);
            self.add(alias, e, None);
        }
    }

    fn concat(&self, parts: &[String]) -> String {
        match self.dialect {
            Dialect::Mysql => format!("CONCAT_WS(' ', {})", parts.join(", ")),
            _ => parts.join(" || ' ' || "),
        }
    }

    fn render(&self, head: &str, table: &str, tail: &str) -> String {
        let mut o = String::new();
        for l in head.lines() {
            o.push_str(&format!("-- {}\n", one_line(l)));
        }
        o.push_str("SELECT\n");
        let n = self.lines.len();
        for (i, l) in self.lines.iter().enumerate() {
            let comma = if i + 1 < n { "," } else { "" };
            let item = format!("  {} AS {}{comma}", l.expr, l.alias);
            match &l.guess {
                Some(g) => o.push_str(&format!("{item} -- guess: {}\n", one_line(g))),
                None => o.push_str(&format!("{item}\n")),
            }
        }
        o.push_str(&format!(
            "FROM {} {}{tail}\n",
            catalog::quote_table(self.dialect, table),
            self.alias
        ));
        o
    }
}

/// Text from the database made safe inside a `--` comment: no line breaks
/// or other controls that would end the comment.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn window_params(d: Dialect) -> (&'static str, &'static str) {
    match d {
        Dialect::Postgres => ("$1", "$2"),
        Dialect::Mysql => ("?", "?"),
        Dialect::Sqlite => ("?1", "?2"),
    }
}

/// The contract's actions, and what common verbs mean.
const ACTIONS: [&str; 6] = ["view", "search", "export", "update", "print", "delete"];

fn action_of(verb: &str) -> Option<&'static str> {
    let v = verb.trim().to_ascii_lowercase();
    if let Some(a) = ACTIONS.iter().find(|a| **a == v) {
        return Some(a);
    }
    let has = |ws: &[&str]| ws.iter().any(|w| v.contains(w));
    if has(&[
        "read", "open", "get", "show", "display", "select", "look", "detail",
    ]) {
        Some("view")
    } else if has(&["find", "query", "lookup", "search", "list", "browse"]) {
        Some("search")
    } else if has(&["download", "csv", "extract", "dump", "export"]) {
        Some("export")
    } else if has(&[
        "edit", "write", "modify", "change", "save", "update", "insert", "create",
    ]) {
        Some("update")
    } else if has(&["print", "pdf", "label"]) {
        Some("print")
    } else if has(&["delete", "erase", "remove", "purge"]) {
        Some("delete")
    } else {
        None
    }
}

fn name_expr(s: &Sql, t: &Table, skip: &[&str]) -> (String, Option<String>) {
    if let Some(c) = pick(t, &["display", "full", "name"], &TEXTY, skip).filter(|c| {
        !has_word(
            c,
            &["first", "last", "given", "family", "sur", "surname", "user"],
        )
    }) {
        return (s.col(c), None);
    }
    let first = pick(t, &["first", "given", "fname", "forename"], &TEXTY, skip);
    let last = pick(t, &["last", "family", "surname", "lname"], &TEXTY, skip);
    match (first, last) {
        (Some(f), Some(l)) => (s.concat(&[s.col(f), s.col(l)]), None),
        (Some(c), None) | (None, Some(c)) => (s.col(c), Some("only one name column found".into())),
        (None, None) => {
            let id = t
                .columns
                .first()
                .map(|c| c.name.clone())
                .unwrap_or_default();
            (
                s.col(&id),
                Some("no name column found: showing the id".into()),
            )
        }
    }
}

/// Drafts the query files and the policy skeleton.
pub async fn draft(src: &mut Source) -> Result<(Draft, Catalog), SourceError> {
    let cat = catalog::read(src).await?;
    let refs = references(src, &cat).await?;
    let d = cat.dialect;
    let mut files = Vec::new();
    let mut findings = Vec::new();
    let Some(r) = roles(&cat, &refs) else {
        findings.push(Finding {
            file: "access_events.sql",
            table: None,
            confidence: Confidence::None,
            note: "no table with a time column that references two other tables".into(),
        });
        return Ok((
            Draft {
                files,
                policy: String::new(),
                findings,
            },
            cat,
        ));
    };
    // staff.sql
    let st = &r.staff;
    let mut s = Sql::new(d, "e");
    s.add("staff_id", s.col(&r.actor.key), None);
    let (name, guess) = name_expr(&s, st, &[&r.actor.key]);
    s.add("display_name", name, guess);
    let role_col = pick(
        st,
        &[
            "role", "job", "title", "position", "function", "family", "group", "type",
        ],
        &TEXTY,
        &[],
    );
    let role_expr = match role_col {
        Some(c) if words(c) == ["role"] => (s.lower(c), None),
        Some(c) => (
            s.lower(c),
            Some(format!(
                "role from {c}; map its values onto your policy's roles with a CASE"
            )),
        ),
        None => (
            "'staff'".to_string(),
            Some("no role column found: every staff member is 'staff'".into()),
        ),
    };
    s.add("role", role_expr.0.clone(), role_expr.1.clone());
    s.opt(
        "department",
        pick(
            st,
            &["department", "dept", "team", "unit", "division"],
            &TEXTY,
            &[],
        ),
    );
    s.opt("email", pick(st, &["email", "mail"], &TEXTY, &[]));
    s.opt(
        "family_name",
        pick(st, &["last", "family", "surname", "lname"], &TEXTY, &[]),
    );
    s.opt(
        "postal_address",
        pick(st, &["address", "street", "home"], &TEXTY, &["email"]),
    );
    s.opt(
        "db_user",
        pick(st, &["login", "username", "db", "account"], &TEXTY, &[]),
    );
    s.opt(
        "hired_at",
        pick(
            st,
            &["hired", "hire", "start", "joined", "since"],
            &TIMES,
            &[],
        ),
    );
    s.opt(
        "terminated_at",
        pick(
            st,
            &[
                "terminated",
                "termination",
                "left",
                "departed",
                "exit",
                "end",
            ],
            &TIMES,
            &[],
        ),
    );
    files.push((
        "staff.sql".to_string(),
        s.render(
            &format!("Staff: drafted by keyhole init from {}.", st.name),
            &st.name,
            "",
        ),
    ));
    findings.push(Finding {
        file: "staff.sql",
        table: Some(st.name.clone()),
        confidence: if role_expr.1.is_none() {
            r.confidence
        } else {
            r.confidence.min(Confidence::Medium)
        },
        note: match role_col {
            Some(c) => format!("role from {c}"),
            None => "no role column".into(),
        },
    });
    // subjects.sql
    let su = &r.subjects;
    let mut s = Sql::new(d, "c");
    s.add("subject_id", s.col(&r.target.key), None);
    let (name, guess) = name_expr(&s, su, &[&r.target.key]);
    s.add("display_name", name, guess);
    s.opt("email", pick(su, &["email", "mail"], &TEXTY, &[]));
    s.opt(
        "phone",
        pick(su, &["phone", "mobile", "tel", "telephone"], &TEXTY, &[]),
    );
    match (
        pick(su, &["address", "street"], &TEXTY, &["email"]),
        pick(su, &["city", "town"], &TEXTY, &[]),
    ) {
        (Some(a), Some(city)) => {
            let (a, city) = (s.col(a), s.col(city));
            let e = match d {
                Dialect::Mysql => format!("CONCAT({a}, COALESCE(CONCAT(', ', {city}), ''))"),
                _ => format!("{a} || COALESCE(', ' || {city}, '')"),
            };
            s.add("postal_address", e, None);
        }
        (a, _) => s.opt("postal_address", a),
    }
    s.opt(
        "family_name",
        pick(su, &["last", "family", "surname", "lname"], &TEXTY, &[]),
    );
    let country = pick(su, &["country", "jurisdiction", "nation"], &TEXTY, &[]);
    let region = pick(su, &["region", "state", "province"], &TEXTY, &[]);
    match (country, region) {
        (Some(c), Some(rg)) => {
            let (cc, rr) = (s.col(c), s.col(rg));
            let e = match d {
                Dialect::Mysql => format!(
                    "CASE WHEN {cc} IN ('US', 'CA') THEN CONCAT({cc}, '-', {rr}) ELSE {cc} END"
                ),
                _ => {
                    format!("CASE WHEN {cc} IN ('US', 'CA') THEN {cc} || '-' || {rr} ELSE {cc} END")
                }
            };
            s.add(
                "jurisdiction",
                e,
                Some(format!("ISO 3166 from {c} and {rg}; check the codes")),
            );
        }
        (Some(c), None) => {
            let e = s.col(c);
            s.add("jurisdiction", e, Some(format!("{c} as an ISO 3166 code")));
        }
        _ => {}
    }
    if let Some(v) = pick(su, &["vip"], &[Kind::Bool, Kind::Int], &[]) {
        let e = s.col(v);
        s.add("is_vip", e, None);
    } else if let Some(tier) = pick(su, &["tier", "segment", "level", "class"], &TEXTY, &[]) {
        let e = format!("{} = 'vip'", s.col(tier));
        s.add(
            "is_vip",
            e,
            Some(format!("VIP from {tier}; check the value")),
        );
    }
    if let Some(link) = refs
        .iter()
        .find(|x| x.table == su.name && x.target == st.name)
    {
        let e = s.col(&link.column);
        s.add("staff_id", e, None);
    }
    files.push((
        "subjects.sql".to_string(),
        s.render(
            &format!("Subjects: drafted by keyhole init from {}.", su.name),
            &su.name,
            "",
        ),
    ));
    findings.push(Finding {
        file: "subjects.sql",
        table: Some(su.name.clone()),
        confidence: r.confidence,
        note: format!("{} rows (estimate)", su.rows),
    });
    // access_events.sql
    let ac = &r.access;
    let mut s = Sql::new(d, "a");
    let ai = id_column(ac).map(|i| ac.columns[i].name.clone());
    let when = pick(
        ac,
        &[
            "at",
            "time",
            "timestamp",
            "ts",
            "logged",
            "occurred",
            "when",
            "created",
            "date",
        ],
        &TIMES,
        &[],
    )
    .or_else(|| {
        ac.columns
            .iter()
            .find(|c| c.kind == Kind::Time)
            .map(|c| c.name.as_str())
    })
    .unwrap_or_default()
    .to_string();
    match &ai {
        Some(id) => {
            let e = s.col(id);
            s.add("event_id", e, None);
        }
        None => s.add("event_id", "NULL".into(), Some("no id column found".into())),
    }
    let w = s.col(&when);
    s.add("occurred_at", w.clone(), None);
    let e = s.col(&r.actor.column);
    s.add("staff_id", e, None);
    let e = s.col(&r.target.column);
    s.add("subject_id", e, None);
    let used: Vec<&str> = [
        r.actor.column.as_str(),
        r.target.column.as_str(),
        when.as_str(),
    ]
    .into_iter()
    .chain(ai.as_deref())
    .collect();
    let verb = pick(
        ac,
        &[
            "action",
            "op",
            "operation",
            "verb",
            "activity",
            "event",
            "type",
            "kind",
        ],
        &TEXTY,
        &used,
    );
    let mut action_note = String::new();
    match verb {
        Some(v) => {
            let vi = ac.column(v).map(|(i, _)| i).unwrap_or(0);
            let seen = catalog::distinct(src, &ac.name, "a", &s.col(v), 50)
                .await
                .unwrap_or_else(|_| {
                    let mut all: Vec<String> = ac.values(vi).map(str::to_string).collect();
                    all.sort();
                    all.dedup();
                    all
                });
            let direct = seen
                .iter()
                .all(|x| ACTIONS.contains(&x.trim().to_ascii_lowercase().as_str()));
            if direct {
                let e = s.lower(v);
                s.add("action", e, None);
            } else {
                let mut case = format!("CASE {}", s.col(v));
                for x in &seen {
                    let a = action_of(x).unwrap_or("view");
                    case.push_str(&format!(" WHEN '{}' THEN '{a}'", x.replace('\'', "''")));
                }
                case.push_str(&format!(" ELSE {} END", s.lower(v)));
                s.add(
                    "action",
                    case,
                    Some(format!(
                        "verbs of {v} mapped onto the contract's actions; check each"
                    )),
                );
                action_note = format!("; actions mapped from {v}");
            }
        }
        None => s.add(
            "action",
            "'view'".into(),
            Some("no verb column found: every access is a view".into()),
        ),
    }
    let mut used2 = used.clone();
    used2.extend(verb);
    let category = pick(
        ac,
        &[
            "category", "dataset", "data", "topic", "field", "section", "area", "resource",
            "screen", "table", "kind", "type",
        ],
        &TEXTY,
        &used2,
    );
    match category {
        Some(c) => {
            let e = s.lower(c);
            s.add(
                "data_category",
                e,
                if words(c).contains(&"category".to_string()) {
                    None
                } else {
                    Some(format!("data category from {c}"))
                },
            );
        }
        None => s.add(
            "data_category",
            "'unknown'".into(),
            Some("no data category column found".into()),
        ),
    }
    used2.extend(category);
    s.opt(
        "purpose",
        pick(
            ac,
            &["purpose", "reason", "justification", "why", "motive"],
            &TEXTY,
            &used2,
        ),
    );
    s.opt(
        "reference",
        pick(
            ac,
            &["reference", "ref", "case", "ticket", "incident"],
            &IDS,
            &used2,
        ),
    );
    s.opt(
        "client_ip",
        pick(
            ac,
            &["ip", "addr", "address", "host", "source", "src"],
            &TEXTY,
            &used2,
        ),
    );
    s.opt(
        "record_count",
        pick(
            ac,
            &["count", "rows", "records", "n", "num", "qty"],
            &[Kind::Int, Kind::Number],
            &used2,
        ),
    );
    let (p1, p2) = window_params(d);
    files.push((
        "access_events.sql".to_string(),
        s.render(
            &format!(
                "Access events: drafted by keyhole init from {}, one window at a time.",
                ac.name
            ),
            &ac.name,
            &format!("\nWHERE {w} >= {p1} AND {w} < {p2}"),
        ),
    ));
    findings.push(Finding {
        file: "access_events.sql",
        table: Some(ac.name.clone()),
        confidence: r.confidence,
        note: format!(
            "{} rows (estimate); staff by {}, subjects by {}{action_note}",
            ac.rows, r.actor.column, r.target.column
        ),
    });
    legal_files(&cat, &refs, &r, &mut files, &mut findings);
    findings.push(Finding {
        file: "relationships.sql",
        table: None,
        confidence: Confidence::None,
        note: "run `keyhole explain --mine --write relationships.sql` to find them".into(),
    });
    // The policy skeleton: every role the staff table holds.
    let roles_seen = catalog::distinct(src, &st.name, "e", &role_expr.0, 100)
        .await
        .unwrap_or_default();
    let cats: Vec<String> = match category {
        Some(c) => catalog::distinct(src, &ac.name, "a", &Sql::new(d, "a").lower(c), 30)
            .await
            .unwrap_or_default(),
        None => vec!["unknown".into()],
    };
    let policy = policy_skeleton(&roles_seen, &cats);
    Ok((
        Draft {
            files,
            policy,
            findings,
        },
        cat,
    ))
}

/// A TOML basic string: quotes, backslashes and controls escaped.
fn toml_string(x: &str) -> String {
    let mut o = String::from("\"");
    for c in x.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if c.is_control() => o.push_str(&format!("\\u{:04X}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn toml_list(xs: &[String]) -> String {
    format!(
        "[{}]",
        xs.iter()
            .map(|x| toml_string(x))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// A policy that parses and names every role, with every category open
/// until someone narrows it: need-to-know is a decision, not a guess.
pub fn policy_skeleton(roles: &[String], categories: &[String]) -> String {
    let mut o = String::from(
        "# Need-to-know policy drafted by keyhole init. Every role the staff table\n\
         # holds is listed with every data category seen in the access log: narrow\n\
         # each role to what it needs, add purposes and actions, and set\n\
         # requires_relationship once relationships.sql exists.\n\n\
         timezone = \"UTC\"   # guess: the zone your working hours are written in\n\n",
    );
    let mut seen = std::collections::BTreeSet::new();
    for r in roles {
        let key = r.trim().to_lowercase();
        if key.is_empty() || !seen.insert(key.clone()) {
            continue;
        }
        o.push_str(&format!(
            "[roles.{}]\ncategories = {}   # guess: narrow to need-to-know\n# purposes = []\n# actions = [\"view\"]\n# requires_relationship = true\n\n",
            toml_string(&key),
            toml_list(categories)
        ));
    }
    o
}

/// Legal process (disclosures and their items) and subject requests, when a
/// table looks like them; otherwise a finding says what is missing.
fn legal_files(
    cat: &Catalog,
    refs: &[Reference],
    r: &Roles,
    files: &mut Vec<(String, String)>,
    findings: &mut Vec<Finding>,
) {
    let d = cat.dialect;
    let taken = [
        r.access.name.as_str(),
        r.staff.name.as_str(),
        r.subjects.name.as_str(),
    ];
    let legalish = |t: &Table| {
        has_word(
            &t.name,
            &[
                "legal",
                "subpoena",
                "warrant",
                "disclosure",
                "court",
                "police",
                "lawful",
                "production",
            ],
        ) && t.columns.iter().any(|c| c.kind == Kind::Time)
    };
    let disclosures = cat
        .tables
        .iter()
        .filter(|t| !taken.contains(&t.name.as_str()) && legalish(t))
        .find(|t| {
            !refs
                .iter()
                .any(|x| x.table == t.name && x.target == r.subjects.name)
        });
    let mut found_disclosures = None;
    if let Some(t) = disclosures {
        let mut s = Sql::new(d, "r");
        let id = id_column(t)
            .map(|i| t.columns[i].name.clone())
            .unwrap_or_default();
        let kind = pick(t, &["kind", "type", "category"], &TEXTY, &[&id]);
        let requester = pick(
            t,
            &[
                "requester",
                "requesting",
                "party",
                "agency",
                "from",
                "authority",
                "requestor",
            ],
            &TEXTY,
            &[&id],
        );
        let received = pick(
            t,
            &["received", "opened", "created", "arrived"],
            &TIMES,
            &[],
        );
        let status = pick(t, &["status", "state", "outcome"], &TEXTY, &[&id]);
        if let (Some(k), Some(q), Some(rc), Some(st)) = (kind, requester, received, status) {
            s.add("disclosure_id", s.col(&id), None);
            s.add(
                "kind",
                s.col(k),
                Some(format!(
                    "kinds from {k}; the contract's vocabulary is in section 5"
                )),
            );
            s.add("requester", s.col(q), None);
            s.opt(
                "authority_ref",
                pick(
                    t,
                    &["docket", "authority", "case", "reference", "ref"],
                    &TEXTY,
                    &[&id, q],
                ),
            );
            s.add("received_at", s.col(rc), None);
            s.opt("due_at", pick(t, &["due", "deadline"], &TIMES, &[]));
            s.opt(
                "responded_at",
                pick(
                    t,
                    &["responded", "answered", "response", "closed", "produced"],
                    &TIMES,
                    &[],
                ),
            );
            s.add(
                "status",
                s.col(st),
                Some(format!(
                    "status from {st}; check it against the contract's statuses"
                )),
            );
            s.opt("approved_by", pick(t, &["approver", "approved"], &IDS, &[]));
            s.opt(
                "nondisclosure_until",
                pick(
                    t,
                    &["gag", "nondisclosure", "secrecy", "sealed"],
                    &TIMES,
                    &[],
                ),
            );
            s.opt("subjects_notified_at", pick(t, &["notified"], &TIMES, &[]));
            s.opt(
                "requested_categories",
                pick(
                    t,
                    &["scope", "categories", "requested"],
                    &TEXTY,
                    &[&id, q, k, st],
                ),
            );
            s.opt(
                "agreement_ref",
                pick(t, &["nda", "agreement", "contract"], &TEXTY, &[&id]),
            );
            files.push((
                "disclosures.sql".into(),
                s.render(
                    &format!("Disclosures: drafted by keyhole init from {}.", t.name),
                    &t.name,
                    "",
                ),
            ));
            findings.push(Finding {
                file: "disclosures.sql",
                table: Some(t.name.clone()),
                confidence: Confidence::Medium,
                note: format!("kind from {k}, status from {st}"),
            });
            found_disclosures = Some((t.name.clone(), id));
        }
    }
    if found_disclosures.is_none() {
        findings.push(Finding {
            file: "disclosures.sql",
            table: None,
            confidence: Confidence::None,
            note: "no legal-process table found (optional file)".into(),
        });
    }
    // Items: a table that references the disclosures and the subjects.
    let items = found_disclosures.as_ref().and_then(|(dt, _)| {
        cat.tables.iter().find(|t| {
            refs.iter().any(|x| x.table == t.name && &x.target == dt)
                && refs
                    .iter()
                    .any(|x| x.table == t.name && x.target == r.subjects.name)
        })
    });
    match (items, &found_disclosures) {
        (Some(t), Some((dt, _))) => {
            let mut s = Sql::new(d, "i");
            let to_d = refs
                .iter()
                .find(|x| x.table == t.name && &x.target == dt)
                .unwrap();
            let to_s = refs
                .iter()
                .find(|x| x.table == t.name && x.target == r.subjects.name)
                .unwrap();
            s.add("disclosure_id", s.col(&to_d.column), None);
            s.add("subject_id", s.col(&to_s.column), None);
            match pick(
                t,
                &["category", "dataset", "data", "field", "kind", "type"],
                &TEXTY,
                &[],
            ) {
                Some(c) => s.add("data_category", s.lower(c), None),
                None => s.add(
                    "data_category",
                    "'unknown'".into(),
                    Some("no category column".into()),
                ),
            }
            s.opt(
                "disclosed_at",
                pick(
                    t,
                    &["sent", "disclosed", "produced", "at", "date"],
                    &TIMES,
                    &[],
                ),
            );
            files.push((
                "disclosure_items.sql".into(),
                s.render(
                    &format!("Disclosure items: drafted by keyhole init from {}.", t.name),
                    &t.name,
                    "",
                ),
            ));
            findings.push(Finding {
                file: "disclosure_items.sql",
                table: Some(t.name.clone()),
                confidence: Confidence::Medium,
                note: String::new(),
            });
        }
        _ => findings.push(Finding {
            file: "disclosure_items.sql",
            table: None,
            confidence: Confidence::None,
            note: "no table of disclosed items found (optional file)".into(),
        }),
    }
    // Subject requests: references the subjects, has a kind and a received time.
    let mut used_tables: Vec<String> = found_disclosures.iter().map(|(n, _)| n.clone()).collect();
    used_tables.extend(items.map(|t| t.name.clone()));
    let req = cat.tables.iter().find(|t| {
        !taken.contains(&t.name.as_str())
            && !used_tables.contains(&t.name)
            && has_word(
                &t.name,
                &[
                    "privacy", "dsar", "gdpr", "ccpa", "rights", "request", "requests", "optout",
                    "erasure",
                ],
            )
            && refs
                .iter()
                .any(|x| x.table == t.name && x.target == r.subjects.name)
            && pick(t, &["kind", "type", "category"], &TEXTY, &[]).is_some()
            && t.columns.iter().any(|c| c.kind == Kind::Time)
    });
    let mut done = false;
    if let Some(t) = req {
        let to_s = refs
            .iter()
            .find(|x| x.table == t.name && x.target == r.subjects.name)
            .unwrap();
        let id = id_column(t)
            .map(|i| t.columns[i].name.clone())
            .unwrap_or_default();
        let kind = pick(t, &["kind", "type", "category"], &TEXTY, &[&id]);
        let received = pick(
            t,
            &["received", "opened", "created", "submitted", "at"],
            &TIMES,
            &[],
        );
        if let (Some(k), Some(rc)) = (kind, received) {
            let mut s = Sql::new(d, "p");
            s.add("request_id", s.col(&id), None);
            s.add("subject_id", s.col(&to_s.column), None);
            s.add(
                "kind",
                s.col(k),
                Some(format!(
                    "kinds from {k}: opt_out, deletion, access, correction"
                )),
            );
            s.opt(
                "channel",
                pick(
                    t,
                    &["channel", "via", "source", "medium"],
                    &TEXTY,
                    &[&id, k],
                ),
            );
            s.add("received_at", s.col(rc), None);
            s.opt(
                "completed_at",
                pick(
                    t,
                    &["completed", "done", "closed", "fulfilled", "resolved"],
                    &TIMES,
                    &[],
                ),
            );
            s.opt(
                "status",
                pick(t, &["status", "state", "outcome"], &TEXTY, &[&id, k]),
            );
            files.push((
                "subject_requests.sql".into(),
                s.render(
                    &format!("Subject requests: drafted by keyhole init from {}.", t.name),
                    &t.name,
                    "",
                ),
            ));
            findings.push(Finding {
                file: "subject_requests.sql",
                table: Some(t.name.clone()),
                confidence: Confidence::Medium,
                note: format!("kind from {k}"),
            });
            done = true;
        }
    }
    if !done {
        findings.push(Finding {
            file: "subject_requests.sql",
            table: None,
            confidence: Confidence::None,
            note: "no subject-request table found (optional file)".into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_stay_inside_their_comment_and_their_toml_string() {
        assert_eq!(
            one_line("role from x\nDROP TABLE t; --"),
            "role from x DROP TABLE t; --"
        );
        let p = policy_skeleton(
            &[
                "desk \"clerk\"\n[roles.x]".into(),
                "ops\\".into(),
                "ops\\".into(),
            ],
            &["contact".into(), "a\u{7}b".into()],
        );
        let parsed: toml::Value = toml::from_str(&p).expect("the skeleton parses");
        let roles = parsed["roles"].as_table().unwrap();
        assert_eq!(roles.len(), 2, "{p}");
        assert!(roles.contains_key("desk \"clerk\"\n[roles.x]"));
        assert_eq!(roles["ops\\"]["categories"][1].as_str(), Some("a\u{7}b"));
        crate::policy::Policy::parse("skeleton", &p).expect("keyhole reads it");
    }
}
