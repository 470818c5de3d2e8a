//! `keyhole check`: connects, proves the session is read-only without trying
//! anything harmful (it reads settings and privileges, never attempts a
//! write), validates every query file and reports what it found, one line
//! per check.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use crate::model::{Instant, Interner};
use crate::policy::Policy;
use crate::sanitize::terminal;
use crate::source::queries::{QueryFile, QuerySet};
use crate::source::{Dialect, MySqlFlavor, Source, Window};
use crate::source::{guard, load};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Warn,
    Off,
    Fail,
}

#[derive(Debug, Clone)]
pub struct Line {
    pub status: Status,
    pub text: String,
}

#[derive(Debug, Default)]
pub struct Report {
    pub lines: Vec<Line>,
    /// Extra advice printed after the lines (how to make a read-only role).
    pub advice: Vec<String>,
}

impl Report {
    fn push(&mut self, status: Status, text: impl Into<String>) {
        self.lines.push(Line {
            status,
            text: text.into(),
        });
    }
    pub fn failed(&self) -> bool {
        self.lines.iter().any(|l| l.status == Status::Fail)
    }
    pub fn render(&self) -> String {
        let mut out = String::new();
        for l in &self.lines {
            let tag = match l.status {
                Status::Ok => "ok  ",
                Status::Warn => "warn",
                Status::Off => "off ",
                Status::Fail => "FAIL",
            };
            let _ = writeln!(out, "{tag}  {}", l.text);
        }
        for a in &self.advice {
            let _ = writeln!(out, "{a}");
        }
        out
    }
}

/// Runs every check on an open source. `now` fixes the window of the
/// access-events check: the default window, from the local midnight 30 days
/// before `now`.
pub async fn run(
    src: &mut Source,
    set: &QuerySet,
    policy: &Policy,
    logs: &[crate::dblog::LogSpec],
    now: Instant,
    mut progress: impl FnMut(u64),
) -> Report {
    let mut r = Report::default();
    r.push(
        Status::Ok,
        format!(
            "connected: {} {} (database {})",
            src.dialect.name(),
            terminal(&src.server_version),
            terminal(&src.database)
        ),
    );
    read_only_session(src, &mut r).await;
    privileges(src, &mut r).await;
    r.push(Status::Ok, format!("queries: {}", set.origin));

    let tz = policy.timezone;
    let mut staff_roles: BTreeMap<String, usize> = BTreeMap::new();
    let mut logins = rustc_hash::FxHashMap::default();
    match load::load_staff(src, set, tz).await {
        Ok(staff) => {
            logins = crate::dblog::logins(&staff);
            r.push(Status::Ok, format!("staff.sql: {} rows", staff.len()));
            for s in &staff {
                let role = s
                    .role
                    .as_deref()
                    .map(|x| x.trim().to_lowercase())
                    .unwrap_or_else(|| "(none)".into());
                *staff_roles.entry(role).or_default() += 1;
            }
        }
        Err(e) => r.push(Status::Fail, e.to_string()),
    }
    match load::load_subjects(src, set, tz).await {
        Ok(v) => r.push(Status::Ok, format!("subjects.sql: {} rows", v.len())),
        Err(e) => r.push(Status::Fail, e.to_string()),
    }
    // The same default window as every report and the dashboard.
    let w = crate::audit::window::resolve(
        &crate::audit::WindowFlags::default(),
        crate::audit::DefaultStart::Last30Days,
        tz,
        now,
    )
    .expect("the default window is never empty");
    let window = Window {
        from: w.from,
        to: w.to,
    };
    let mut ids: HashSet<Box<str>> = HashSet::new();
    let mut dups = 0u64;
    let mut symbols = Interner::default();
    match load::stream_events(
        src,
        set,
        tz,
        window,
        &mut symbols,
        |ev, _| {
            if !ids.insert(ev.event_id.as_str().into()) {
                dups += 1;
            }
        },
        &mut progress,
    )
    .await
    {
        Ok(n) => {
            r.push(
                Status::Ok,
                format!("access_events.sql: {n} rows in the last 30 days"),
            );
            if dups > 0 {
                r.push(Status::Warn, format!("access_events.sql: {dups} duplicate event_id(s); each is judged as its own event"));
            }
        }
        Err(e) => r.push(Status::Fail, e.to_string()),
    }
    if let Some(q) = set.get(QueryFile::AccessEvents) {
        plan(src, &q.label, &q.sql, window, &mut r).await;
    }
    let mut dir = load::Directory::default();
    for f in [
        QueryFile::Relationships,
        QueryFile::Disclosures,
        QueryFile::DisclosureItems,
        QueryFile::SubjectRequests,
    ] {
        if set.get(f).is_none() {
            r.push(
                Status::Off,
                format!("{} absent: {} turned off", f.file_name(), f.feature()),
            );
            continue;
        }
        let res = match f {
            QueryFile::Relationships => load::load_relationships(src, set, tz).await.map(|v| {
                let n = v.as_ref().map_or(0, |t| t.len());
                dir.relationships = v;
                n
            }),
            QueryFile::Disclosures => load::load_disclosures(src, set, tz).await.map(|v| {
                let n = v.as_ref().map_or(0, Vec::len);
                dir.disclosures = v;
                n
            }),
            QueryFile::DisclosureItems => {
                load::load_disclosure_items(src, set, tz).await.map(|v| {
                    let n = v.as_ref().map_or(0, Vec::len);
                    dir.disclosure_items = v;
                    n
                })
            }
            _ => load::load_requests(src, set, tz).await.map(|v| {
                let n = v.as_ref().map_or(0, Vec::len);
                dir.requests = v;
                n
            }),
        };
        match res {
            Ok(n) => r.push(Status::Ok, format!("{}: {n} rows", f.file_name())),
            Err(e) => r.push(Status::Fail, e.to_string()),
        }
    }
    for w in dir.warnings() {
        r.push(Status::Warn, w);
    }

    r.push(
        Status::Ok,
        format!(
            "policy: {} (time zone {})",
            policy.origin,
            policy.timezone.name()
        ),
    );
    let unnamed: Vec<String> = staff_roles
        .iter()
        .filter(|(role, _)| !policy.roles.contains_key(*role))
        .map(|(role, n)| format!("{} ({n} staff)", terminal(role)))
        .collect();
    if !unnamed.is_empty() {
        r.push(
            Status::Warn,
            format!(
                "roles the policy does not name (deny by default): {}",
                unnamed.join(", ")
            ),
        );
    }
    if policy.marketing_purposes.is_empty() {
        r.push(
            Status::Warn,
            "policy: marketing_purposes is empty, so opt_out_ignored cannot fire",
        );
    }
    audit_logs(policy, logs, &logins, &mut r);
    r
}

/// `name 3, other 1`, sanitised.
fn counts(m: &BTreeMap<String, u64>) -> String {
    m.iter()
        .map(|(k, n)| format!("{} {n}", terminal(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What each database audit log holds: its format, time span and records,
/// statements by user, events, service accounts skipped, unknown users and
/// the records that could not be read.
fn audit_logs(
    policy: &Policy,
    logs: &[crate::dblog::LogSpec],
    logins: &rustc_hash::FxHashMap<String, String>,
    r: &mut Report,
) {
    if logs.is_empty() {
        return;
    }
    if policy.audit.tables.is_empty() {
        r.push(
            Status::Warn,
            "policy: [audit.tables] names no table, so no audit log statement can become an event",
        );
    }
    if let Err(e) = crate::dblog::check_specs(logs) {
        r.push(Status::Fail, e.to_string());
        return;
    }
    for spec in logs {
        let mut events = crate::model::DbEvents::default();
        let s = match crate::dblog::read_log(spec, &policy.audit, logins, &mut events) {
            Ok(x) => x,
            Err(e) => {
                r.push(Status::Fail, terminal(&e.to_string()));
                continue;
            }
        };
        let name = format!("audit log {}", terminal(&s.file));
        let span = match (s.first, s.last) {
            (Some(a), Some(b)) => {
                format!("{} to {}", crate::time::rfc3339(a), crate::time::rfc3339(b))
            }
            _ => "no audit records".into(),
        };
        r.push(
            Status::Ok,
            format!(
                "{name}: {}, {span}, {} records",
                s.format.map_or("?", |f| f.name()),
                s.records
            ),
        );
        if !s.statements_by_user.is_empty() {
            r.push(
                Status::Ok,
                format!(
                    "{name}: statements by user: {}",
                    counts(&s.statements_by_user)
                ),
            );
        }
        r.push(
            Status::Ok,
            format!(
                "{name}: {} events; {} failed statement(s) skipped; {} statement(s) on a personal table touched no mapped column",
                s.events, s.failed, s.untouched
            ),
        );
        if !s.service_skipped.is_empty() {
            r.push(
                Status::Ok,
                format!(
                    "{name}: service accounts skipped: {}",
                    counts(&s.service_skipped)
                ),
            );
        }
        if !s.unknown_users.is_empty() {
            let users: Vec<String> = s.unknown_users.iter().map(|u| terminal(u)).collect();
            r.push(
                Status::Warn,
                format!(
                    "{name}: database users no staff member's db_user names (their events go to staff db:USER): {}",
                    users.join(", ")
                ),
            );
        }
        if s.unparsed > 0 {
            let lines: Vec<String> = s
                .unparsed_lines
                .iter()
                .map(|(l, why)| format!("line {l} ({})", terminal(why)))
                .collect();
            let more = if s.unparsed as usize > lines.len() {
                format!(" and {} more", s.unparsed as usize - lines.len())
            } else {
                String::new()
            };
            r.push(
                Status::Warn,
                format!(
                    "{name}: {} record(s) could not be read: {}{more}",
                    s.unparsed,
                    lines.join("; ")
                ),
            );
        }
    }
}

/// A table of at least this many rows is large: scanning it whole for
/// every local day is what makes a long window slow.
pub const LARGE_TABLE_ROWS: u64 = 100_000;

/// Prints the database's plan for the windowed access query and warns on a
/// full scan of a large table, naming the index that would serve the window.
async fn plan(src: &mut Source, label: &str, sql: &str, window: Window, r: &mut Report) {
    let rows = match src.explain(label, sql, window).await {
        Ok(rows) => rows,
        Err(e) => {
            r.push(Status::Warn, format!("could not read the plan: {e}"));
            return;
        }
    };
    let how = match src.dialect {
        Dialect::Sqlite => "EXPLAIN QUERY PLAN",
        _ => "EXPLAIN",
    };
    r.push(
        Status::Ok,
        format!("{label}: plan of the windowed query ({how}):"),
    );
    let text =
        |row: &Vec<Option<String>>, i: usize| row.get(i).cloned().flatten().unwrap_or_default();
    let mut scans: Vec<(String, Option<u64>)> = Vec::new();
    match src.dialect {
        Dialect::Postgres => {
            for row in &rows {
                let line = text(row, 0);
                if let Some(rest) = line.split("Seq Scan on ").nth(1) {
                    let table = rest.split_whitespace().next().unwrap_or("").to_string();
                    scans.push((table, None));
                }
                r.push(Status::Ok, format!("    {}", terminal(&line)));
            }
            let sizes = src
                .probe("SELECT c.relname, c.reltuples::bigint FROM pg_class c WHERE c.relkind IN ('r', 'p', 'm')")
                .await
                .unwrap_or_default();
            for (table, size) in &mut scans {
                let bare = table.rsplit('.').next().unwrap_or(table).trim_matches('"');
                *size = sizes
                    .iter()
                    .find(|row| row.first().cloned().flatten().as_deref() == Some(bare))
                    .and_then(|row| row.get(1).cloned().flatten())
                    .and_then(|n| n.parse::<i64>().ok())
                    .map(|n| n.max(0) as u64);
            }
        }
        Dialect::Mysql => {
            // id, select_type, table, type, possible_keys, key, key_len, ref, rows, Extra
            for row in &rows {
                let (table, access, key, n) =
                    (text(row, 2), text(row, 3), text(row, 5), text(row, 8));
                r.push(
                    Status::Ok,
                    format!(
                        "    table {}: access {}, key {}, rows {}",
                        terminal(&table),
                        terminal(&access),
                        if key.is_empty() {
                            "none".into()
                        } else {
                            terminal(&key)
                        },
                        terminal(&n)
                    ),
                );
                if access.eq_ignore_ascii_case("ALL") {
                    scans.push((resolve_alias(sql, src.dialect, &table), n.parse().ok()));
                }
            }
        }
        Dialect::Sqlite => {
            // id, parent, notused, detail
            for row in &rows {
                let detail = text(row, 3);
                r.push(Status::Ok, format!("    {}", terminal(&detail)));
                let mut words = detail.split_whitespace();
                if words.next() == Some("SCAN") && !detail.contains(" USING ") {
                    let alias = words.next().unwrap_or("").to_string();
                    scans.push((resolve_alias(sql, src.dialect, &alias), None));
                }
            }
            let stats = src
                .probe("SELECT tbl, stat FROM sqlite_stat1")
                .await
                .unwrap_or_default();
            for (table, size) in &mut scans {
                *size = stats
                    .iter()
                    .filter(|row| {
                        row.first()
                            .cloned()
                            .flatten()
                            .is_some_and(|t| t.eq_ignore_ascii_case(table))
                    })
                    .filter_map(|row| row.get(1).cloned().flatten())
                    .filter_map(|st| {
                        st.split_whitespace()
                            .next()
                            .and_then(|n| n.parse::<u64>().ok())
                    })
                    .max();
            }
        }
    }
    let column = window_column(sql, src.dialect);
    for (table, size) in scans {
        if size.is_some_and(|n| n < LARGE_TABLE_ROWS) {
            continue;
        }
        let how_big = match size {
            Some(n) => format!("about {n} rows"),
            None => "size unknown".to_string(),
        };
        let advice = match &column {
            Some(c) => format!(
                "; create an index on the window column: CREATE INDEX ON {} ({c})",
                terminal(&table)
            ),
            None => "; index the column the window compares with $1 and $2".to_string(),
        };
        r.push(
            Status::Warn,
            format!(
                "{label}: full scan of {} ({how_big}) for every local day read{advice}",
                terminal(&table)
            ),
        );
    }
}

/// A name as a query file writes it: a bare word or a quoted identifier.
fn is_name(t: &guard::Token<'_>) -> bool {
    t.kind == guard::TokenKind::Word
        || (t.kind == guard::TokenKind::Other
            && t.text.len() >= 2
            && matches!(t.text.as_bytes()[0], b'"' | b'`' | b'['))
}

/// The table an alias in `FROM table alias` / `JOIN table AS alias` names;
/// the alias itself when it is not found (it may be the table's name).
/// The file is read as the guard reads it, so a comment or a string cannot
/// mislead it.
pub fn resolve_alias(sql: &str, dialect: Dialect, alias: &str) -> String {
    let Ok(toks) = guard::tokens(sql, dialect) else {
        return alias.to_string();
    };
    let words: Vec<&str> = toks.iter().filter(|t| is_name(t)).map(|t| t.text).collect();
    let after_from = |i: usize| {
        i > 0
            && (words[i - 1].eq_ignore_ascii_case("FROM")
                || words[i - 1].eq_ignore_ascii_case("JOIN"))
    };
    for (i, w) in words.iter().enumerate() {
        if !w.eq_ignore_ascii_case(alias) || i == 0 {
            continue;
        }
        if after_from(i) {
            return (*w).to_string();
        }
        if after_from(i - 1) {
            return words[i - 1].to_string();
        }
        if words[i - 1].eq_ignore_ascii_case("AS") && i >= 2 && after_from(i - 2) {
            return words[i - 2].to_string();
        }
    }
    alias.to_string()
}

/// The column the window's start is compared with (`col >= $1`, `?1` or
/// the first `?`), without its table alias or quotes, read as the guard
/// reads the file.
pub fn window_column(sql: &str, dialect: Dialect) -> Option<String> {
    let toks = guard::tokens(sql, dialect).ok()?;
    let text = |k: usize| toks.get(k).map(|t| t.text);
    let next_to = |a: usize, b: usize| match (toks.get(a), toks.get(b)) {
        (Some(x), Some(y)) => x.start + x.text.len() == y.start,
        _ => false,
    };
    for i in 1..toks.len() {
        // `>=` is two tokens, written together.
        if text(i) != Some(">") || text(i + 1) != Some("=") || !next_to(i, i + 1) {
            continue;
        }
        let p = i + 2;
        let is_start = match dialect {
            Dialect::Postgres => text(p) == Some("$1"),
            // `?1`, not `?10`: the digits after `?` come one token each.
            Dialect::Sqlite => {
                text(p) == Some("?")
                    && text(p + 1) == Some("1")
                    && next_to(p, p + 1)
                    && !(next_to(p + 1, p + 2)
                        && text(p + 2).is_some_and(|t| t.as_bytes()[0].is_ascii_digit()))
            }
            Dialect::Mysql => text(p) == Some("?"),
        };
        if !is_start {
            continue;
        }
        let col = &toks[i - 1];
        if !is_name(col) {
            return None;
        }
        let name = col.text.trim_matches(['"', '`', '[', ']']);
        return (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'))
            .then(|| name.to_string());
    }
    None
}

async fn read_only_session(src: &mut Source, r: &mut Report) {
    for d in src.degraded.clone() {
        r.push(Status::Warn, format!("session: {}", terminal(&d)));
    }
    let settings = src.settings.clone();
    let taken = |name: &str| settings.contains(&name);
    match src.dialect {
        Dialect::Postgres => {
            // `missing_ok`: an engine without one of them answers NULL, not an error.
            let q = "SELECT current_setting('transaction_read_only', true), current_setting('default_transaction_read_only', true), \
                     current_setting('statement_timeout', true), current_setting('TimeZone', true)";
            let default_taken = taken("default_transaction_read_only");
            match src.probe(q).await {
                Ok(rows) => {
                    let row = rows.first().cloned().unwrap_or_default();
                    let get = |i: usize| {
                        row.get(i)
                            .cloned()
                            .flatten()
                            .unwrap_or_else(|| "(none)".into())
                    };
                    let timeouts = format!("statement_timeout {}, TimeZone {}", get(2), get(3));
                    if get(0) == "on" && get(1) == "on" {
                        r.push(Status::Ok, format!("read-only: transaction and session default are read only; {timeouts}"));
                    } else if get(0) == "on" && !default_taken {
                        r.push(Status::Warn, format!("read-only: each statement's transaction is read only; the session default is not ({timeouts})"));
                    } else {
                        r.push(Status::Fail, format!("read-only: transaction_read_only={}, default_transaction_read_only={}", get(0), get(1)));
                    }
                }
                Err(e) => r.push(Status::Fail, format!("read-only: {e}")),
            }
        }
        Dialect::Mysql => {
            let mariadb = src.mysql_flavor() == Some(MySqlFlavor::MariaDb);
            let read_only: &'static str = if mariadb {
                "SELECT @@session.tx_read_only, @@session.time_zone"
            } else {
                "SELECT @@session.transaction_read_only, @@session.time_zone"
            };
            let timeout = if taken("max_statement_time") {
                Some("SELECT @@session.max_statement_time")
            } else if taken("max_execution_time") {
                Some("SELECT @@session.max_execution_time")
            } else {
                None
            };
            let first =
                |rows: Vec<Vec<Option<String>>>| rows.into_iter().next().unwrap_or_default();
            let timeout = match timeout {
                Some(q) => match src.probe(q).await {
                    Ok(rows) => first(rows).first().cloned().flatten().unwrap_or_default(),
                    Err(e) => format!("unreadable ({e})"),
                },
                None => "kept by keyhole".into(),
            };
            match src.probe(read_only).await {
                Ok(rows) => {
                    let row = first(rows);
                    let get = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
                    if get(0) == "1" {
                        r.push(Status::Ok, format!("read-only: session transactions are READ ONLY; statement timeout {timeout}, time_zone {}", get(1)));
                    } else if !taken("transaction_read_only") {
                        r.push(Status::Warn, format!("read-only: each statement's transaction is READ ONLY; the session default is not; statement timeout {timeout}, time_zone {}", get(1)));
                    } else {
                        r.push(
                            Status::Fail,
                            format!("read-only: transaction_read_only={}", get(0)),
                        );
                    }
                }
                Err(e) => r.push(Status::Fail, format!("read-only: {e}")),
            }
        }
        Dialect::Sqlite => match src.sqlite_read_only().await {
            Ok(w) if w.read_only && w.query_only == "1" && w.attach_limit == 0 => r.push(
                Status::Ok,
                "read-only: file opened read-only (mode=ro), query_only=1, ATTACH limit 0",
            ),
            Ok(w) if !w.read_only => r.push(
                Status::Fail,
                "read-only: the SQLite file is open for writing",
            ),
            Ok(w) => r.push(
                Status::Fail,
                format!(
                    "read-only: file opened read-only, but query_only={} and ATTACH limit {}",
                    w.query_only, w.attach_limit
                ),
            ),
            Err(e) => r.push(Status::Fail, format!("read-only: {e}")),
        },
    }
}

const PG_ADVICE: &str = "  To audit with a role that cannot write, as a superuser run:
    CREATE ROLE keyhole_ro LOGIN PASSWORD '…' NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    ALTER ROLE keyhole_ro SET default_transaction_read_only = on;
    GRANT CONNECT ON DATABASE <db> TO keyhole_ro;
    GRANT USAGE ON SCHEMA public TO keyhole_ro;
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO keyhole_ro;
  and connect as keyhole_ro (PGPASSWORD or password_env supplies the password).";

const MYSQL_ADVICE: &str = "  To audit with a user that cannot write, as an administrator run:
    CREATE USER 'keyhole_ro'@'%' IDENTIFIED BY '…';
    GRANT SELECT ON <db>.* TO 'keyhole_ro'@'%';
  and connect as keyhole_ro (MYSQL_PWD or password_env supplies the password).";

async fn privileges(src: &mut Source, r: &mut Report) {
    match src.dialect {
        Dialect::Postgres => {
            let role = src
                .probe("SELECT current_user, r.rolsuper, r.rolcreaterole, r.rolcreatedb FROM pg_roles r WHERE r.rolname = current_user")
                .await;
            let tables = src
                .probe(
                    "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE c.relkind IN ('r', 'p', 'v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
                     AND n.nspname NOT LIKE 'pg_toast%' \
                     AND (has_table_privilege(c.oid, 'INSERT') OR has_table_privilege(c.oid, 'UPDATE') \
                          OR has_table_privilege(c.oid, 'DELETE') OR has_table_privilege(c.oid, 'TRUNCATE')) \
                     ORDER BY 1",
                )
                .await;
            match (role, tables) {
                (Ok(role), Ok(tables)) => {
                    let row = role.first().cloned().unwrap_or_default();
                    let get = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
                    let mut could = Vec::new();
                    if get(1) == "true" {
                        could.push("is a superuser".to_string());
                    }
                    if get(2) == "true" {
                        could.push("can create roles".to_string());
                    }
                    if get(3) == "true" {
                        could.push("can create databases".to_string());
                    }
                    if !tables.is_empty() {
                        let names: Vec<String> = tables
                            .iter()
                            .take(5)
                            .filter_map(|t| t.first().cloned().flatten())
                            .collect();
                        could.push(format!(
                            "may write {} table(s) ({}{})",
                            tables.len(),
                            terminal(&names.join(", ")),
                            if tables.len() > 5 { ", …" } else { "" }
                        ));
                    }
                    let user = terminal(&get(0));
                    if could.is_empty() {
                        r.push(
                            Status::Ok,
                            format!("role {user}: SELECT only; it cannot write"),
                        );
                    } else {
                        r.push(
                            Status::Fail,
                            format!("role {user} could write: {}", could.join("; ")),
                        );
                        r.advice.push(PG_ADVICE.to_string());
                    }
                }
                (Err(e), _) | (_, Err(e)) => r.push(Status::Fail, format!("privileges: {e}")),
            }
        }
        Dialect::Mysql => match src.probe_show("SHOW GRANTS").await {
            Ok(grants) => {
                let writes = [
                    "ALL PRIVILEGES",
                    "INSERT",
                    "UPDATE",
                    "DELETE",
                    "CREATE",
                    "DROP",
                    "ALTER",
                    "SUPER",
                    "FILE",
                    "GRANT OPTION",
                    "EXECUTE",
                    "INDEX",
                    "TRIGGER",
                    "EVENT",
                    "LOCK TABLES",
                ];
                let bad: Vec<&String> = grants
                    .iter()
                    .filter(|g| {
                        let privs = g.to_ascii_uppercase();
                        let privs = privs.split(" ON ").next().unwrap_or("");
                        writes.iter().any(|w| privs.contains(w))
                    })
                    .collect();
                if bad.is_empty() {
                    r.push(Status::Ok, "grants: SELECT only; this user cannot write");
                } else {
                    r.push(
                        Status::Fail,
                        format!(
                            "grants: this user could write: {}",
                            terminal(&crate::sanitize::clip(bad[0], 160))
                        ),
                    );
                    r.advice.push(MYSQL_ADVICE.to_string());
                }
            }
            Err(e) => r.push(Status::Fail, format!("grants: {e}")),
        },
        Dialect::Sqlite => {
            r.push(
                Status::Ok,
                "privileges: SQLite has no roles; the connection itself is read-only",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_column_and_the_aliased_table_are_found() {
        let pg = "SELECT a.log_id AS event_id FROM access_audit a\nWHERE a.logged_at >= $1 AND a.logged_at < $2";
        assert_eq!(
            window_column(pg, Dialect::Postgres).as_deref(),
            Some("logged_at")
        );
        assert_eq!(resolve_alias(pg, Dialect::Postgres, "a"), "access_audit");
        let my =
            "SELECT * FROM `log` AS l JOIN staff s ON s.id = l.who WHERE (l.`at`>=? AND l.at < ?)";
        assert_eq!(window_column(my, Dialect::Mysql).as_deref(), Some("at"));
        assert_eq!(resolve_alias(my, Dialect::Mysql, "s"), "staff");
        assert_eq!(resolve_alias(my, Dialect::Mysql, "l"), "`log`");
        let lite = "SELECT * FROM events WHERE ts >= ?1 AND ts < ?2";
        assert_eq!(window_column(lite, Dialect::Sqlite).as_deref(), Some("ts"));
        assert_eq!(resolve_alias(lite, Dialect::Sqlite, "events"), "events");
        assert_eq!(window_column("SELECT 1", Dialect::Sqlite), None);
    }

    /// Comments, strings and longer parameters do not mislead: the file is
    /// read as the guard (and the database) reads it.
    #[test]
    fn comments_strings_and_other_parameters_do_not_mislead() {
        let pg = "-- old: WHERE a.created >= $1 FROM decoy a\n\
                  SELECT a.id FROM /* FROM decoy a */ audit_log a\n\
                  WHERE a.note <> 'x >= $1' AND a.\"seen_at\" >= $1 AND a.\"seen_at\" < $2";
        assert_eq!(
            window_column(pg, Dialect::Postgres).as_deref(),
            Some("seen_at")
        );
        assert_eq!(resolve_alias(pg, Dialect::Postgres, "a"), "audit_log");
        // `?10` is not `?1`; `>` then `=` apart is not `>=`.
        let lite = "SELECT * FROM t WHERE x > =?1 OR y >= ?10 OR ts >= ?1 AND ts < ?2";
        assert_eq!(window_column(lite, Dialect::Sqlite).as_deref(), Some("ts"));
        // MySQL's `#` comment and a string in double quotes.
        let my = "# FROM decoy l\nSELECT * FROM events l WHERE l.kind <> \"k >= ?\" AND l.at >= ? AND l.at < ?";
        assert_eq!(window_column(my, Dialect::Mysql).as_deref(), Some("at"));
        assert_eq!(resolve_alias(my, Dialect::Mysql, "l"), "events");
        // A window compared with an expression names no column.
        let expr = "SELECT * FROM t WHERE date(ts) >= $1";
        assert_eq!(window_column(expr, Dialect::Postgres), None);
    }
}
