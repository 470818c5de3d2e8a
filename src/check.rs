//! `keyhole check`: connects, proves the session is read-only without trying
//! anything harmful (it reads settings and privileges, never attempts a
//! write), validates every query file and reports what it found, one line
//! per check.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use crate::model::{Instant, Interner};
use crate::policy::Policy;
use crate::sanitize::terminal;
use crate::source::load;
use crate::source::queries::{QueryFile, QuerySet};
use crate::source::{Dialect, MySqlFlavor, Source, Window};

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
    match load::load_staff(src, set, tz).await {
        Ok(staff) => {
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
    r
}

async fn read_only_session(src: &mut Source, r: &mut Report) {
    match src.dialect {
        Dialect::Postgres => {
            let q = "SELECT current_setting('transaction_read_only'), current_setting('default_transaction_read_only'), \
                     current_setting('statement_timeout'), current_setting('TimeZone')";
            match src.probe(q).await {
                Ok(rows) => {
                    let row = rows.first().cloned().unwrap_or_default();
                    let get = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
                    if get(0) == "on" && get(1) == "on" {
                        r.push(Status::Ok, format!("read-only: transaction and session default are read only; statement_timeout {}, TimeZone {}", get(2), get(3)));
                    } else {
                        r.push(Status::Fail, format!("read-only: transaction_read_only={}, default_transaction_read_only={}", get(0), get(1)));
                    }
                }
                Err(e) => r.push(Status::Fail, format!("read-only: {e}")),
            }
        }
        Dialect::Mysql => {
            let timeout_var = match src.mysql_flavor() {
                Some(MySqlFlavor::MariaDb) => {
                    "SELECT @@session.tx_read_only, @@session.max_statement_time, @@session.time_zone"
                }
                _ => {
                    "SELECT @@session.transaction_read_only, @@session.max_execution_time, @@session.time_zone"
                }
            };
            match src.probe(timeout_var).await {
                Ok(rows) => {
                    let row = rows.first().cloned().unwrap_or_default();
                    let get = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
                    if get(0) == "1" {
                        r.push(Status::Ok, format!("read-only: session transactions are READ ONLY; statement timeout {}, time_zone {}", get(1), get(2)));
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
            Ok((true, q)) => r.push(
                Status::Ok,
                format!(
                    "read-only: file opened read-only (mode=ro), query_only={q}, ATTACH disabled"
                ),
            ),
            Ok((false, _)) => r.push(
                Status::Fail,
                "read-only: the SQLite file is open for writing",
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
