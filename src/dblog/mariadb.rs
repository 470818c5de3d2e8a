//! MariaDB's server_audit file (`output_type=file`, events
//! `CONNECT,QUERY,TABLE`): `timestamp,serverhost,username,host,
//! connectionid,queryid,operation,database,object,retcode`. One statement
//! is every record of a connection and query id: its TABLE records (`READ`,
//! `WRITE`, …) and then its QUERY record, whose retcode says whether it
//! failed. A connection's `SET @var = value` is remembered, so a later
//! `… = @var` names its subject.

use std::io::BufRead;

use rustc_hash::FxHashMap;

use super::{Judge, Rec, Statement, client_ip};
use crate::source::Dialect;
use crate::source::guard::{TokenKind, statement_tokens};

/// One record's fields.
#[derive(Debug, PartialEq)]
struct Record<'a> {
    time: &'a str,
    user: &'a str,
    host: &'a str,
    connection: &'a str,
    query_id: &'a str,
    operation: &'a str,
    database: &'a str,
    object: String,
    retcode: &'a str,
}

/// A QUERY's object: single-quoted, with `\'`, `\\` and `\n` escapes.
fn unescape(quoted: &str) -> Option<(String, usize)> {
    let b = quoted.as_bytes();
    if b.first() != Some(&b'\'') {
        return None;
    }
    let mut out = String::with_capacity(quoted.len());
    let mut i = 1;
    let mut run = 1;
    while i < b.len() {
        match b[i] {
            b'\\' if i + 1 < b.len() => {
                out.push_str(&quoted[run..i]);
                let c = quoted[i + 1..].chars().next().unwrap_or('\\');
                out.push(match c {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    c => c,
                });
                i += 1 + c.len_utf8();
                run = i;
            }
            b'\'' => {
                out.push_str(&quoted[run..i]);
                return Some((out, i + 1));
            }
            _ => i += 1,
        }
    }
    None
}

fn record(line: &str) -> Option<Record<'_>> {
    let mut parts = line.splitn(9, ',');
    let mut next = || parts.next();
    let (time, _server, user, host, connection, query_id, operation, database) = (
        next()?,
        next()?,
        next()?,
        next()?,
        next()?,
        next()?,
        next()?,
        next()?,
    );
    let rest = next().unwrap_or("");
    let (object, retcode) = if rest.starts_with('\'') {
        let (obj, end) = unescape(rest)?;
        let tail = &rest[end..];
        (obj, tail.strip_prefix(',').unwrap_or(tail))
    } else {
        match rest.rsplit_once(',') {
            Some((o, r)) => (o.to_string(), r),
            None => (rest.to_string(), ""),
        }
    };
    Some(Record {
        time,
        user,
        host,
        connection,
        query_id,
        operation,
        database,
        object,
        retcode: retcode.trim(),
    })
}

/// `SET @a = 1, @b = 'x'`: the variables a connection sets to literals.
fn set_vars(text: &str, vars: &mut FxHashMap<String, String>) {
    let Ok(toks) = statement_tokens(text, Dialect::Mysql) else {
        return;
    };
    if !toks
        .first()
        .is_some_and(|t| t.text.eq_ignore_ascii_case("set"))
    {
        return;
    }
    let mut i = 1;
    while i + 3 < toks.len() + 1 {
        if toks[i].text == "@"
            && toks.get(i + 1).is_some_and(|t| t.kind == TokenKind::Word)
            && toks
                .get(i + 2)
                .is_some_and(|t| t.text == "=" || t.text == ":")
        {
            let name = toks[i + 1].text.to_lowercase();
            let mut j = i + 3;
            if toks[i + 2].text == ":" {
                j += 1; // `:=`
            }
            let value = toks.get(j).and_then(|v| {
                let t = v.text;
                if t.starts_with('\'') || t.starts_with('"') {
                    super::statement::read(&format!("SELECT 1 WHERE x = {t}"), Dialect::Mysql)
                        .and_then(|r| r.compared.into_iter().next())
                        .and_then(|(_, v)| match v {
                            super::statement::Value::Literal(s) => Some(s),
                            _ => None,
                        })
                } else if t.as_bytes()[0].is_ascii_digit() {
                    Some(t.to_string())
                } else {
                    None
                }
            });
            match value {
                Some(v) => vars.insert(name, v),
                None => vars.remove(&name),
            };
            i = j + 1;
        } else {
            i += 1;
        }
    }
}

struct Pending {
    statement: Statement,
    query_id: String,
}

#[derive(Default)]
struct Connection {
    pending: Option<Pending>,
    vars: FxHashMap<String, String>,
}

const TABLE_OPS: [&str; 6] = ["READ", "WRITE", "CREATE", "ALTER", "DROP", "RENAME"];

/// Reads a server_audit file; its times are local times in `tz`.
pub(crate) fn read<R: BufRead>(
    mut reader: R,
    tz: chrono_tz::Tz,
    judge: &mut Judge,
) -> std::io::Result<()> {
    let mut conns: FxHashMap<String, Connection> = FxHashMap::default();
    let mut buf = Vec::with_capacity(4096);
    let mut line_no = 0u64;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line_no += 1;
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        if buf.is_empty() {
            continue;
        }
        let line = String::from_utf8_lossy(&buf);
        let Some(r) = record(&line) else {
            judge.summary.unparsed(line_no, "not a server_audit record");
            continue;
        };
        let at = match chrono::NaiveDateTime::parse_from_str(r.time, "%Y%m%d %H:%M:%S")
            .ok()
            .and_then(|t| crate::time::local_to_utc(t, tz))
        {
            Some(t) => t,
            None => {
                judge
                    .summary
                    .unparsed(line_no, format!("malformed time {:?}", r.time));
                continue;
            }
        };
        let op = r.operation;
        let is_table = TABLE_OPS.contains(&op);
        if op != "QUERY" && !is_table {
            // CONNECT, DISCONNECT, FAILED_CONNECT, CHANGEUSER: a session ends or starts.
            if op == "DISCONNECT"
                && let Some(c) = conns.remove(r.connection)
                && let Some(p) = c.pending
            {
                judge.statement(p.statement, Some(&c.vars));
            }
            continue;
        }
        judge.summary.records += 1;
        judge.summary.saw(at);
        let conn = conns.entry(r.connection.to_string()).or_default();
        if conn
            .pending
            .as_ref()
            .is_some_and(|p| p.query_id != r.query_id)
            && let Some(p) = conn.pending.take()
        {
            judge.statement(p.statement, Some(&conn.vars));
        }
        let pending = conn.pending.get_or_insert_with(|| Pending {
            statement: Statement::new(line_no, at, r.user, client_ip(r.host)),
            query_id: r.query_id.to_string(),
        });
        if is_table {
            let object = if r.database.is_empty() {
                r.object.clone()
            } else {
                format!("{}.{}", r.database, r.object)
            };
            // The statement's text arrives with its QUERY record.
            pending.statement.records.push(Rec {
                command: op.to_string(),
                object: Some(object),
                text: usize::MAX,
                params: Vec::new(),
                write: op == "WRITE",
            });
            continue;
        }
        let mut p = conn.pending.take().expect("inserted above");
        let text = p.statement.text(&r.object);
        for rec in &mut p.statement.records {
            if rec.text == usize::MAX {
                rec.text = text;
            }
        }
        p.statement.records.push(Rec {
            command: String::new(),
            object: None,
            text,
            params: Vec::new(),
            write: false,
        });
        p.statement.failed = !(r.retcode.is_empty() || r.retcode == "0");
        if !p.statement.failed {
            set_vars(&r.object, &mut conn.vars);
        }
        judge.statement(p.statement, Some(&conn.vars));
    }
    let mut rest: Vec<(Statement, FxHashMap<String, String>)> = conns
        .into_values()
        .filter_map(|c| c.pending.map(|p| (p.statement, c.vars)))
        .collect();
    rest.sort_by_key(|(s, _)| s.line);
    for (s, vars) in rest {
        judge.statement(s, Some(&vars));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_record_unescapes_its_object() {
        let r = record(r"20261201 08:52:17,vm,kh_alice,127.0.0.1,10,27,QUERY,kh_shop,'SELECT c.surname FROM t WHERE n <> \'it\\\'s\' AND x = \'a,b\'\nOR 1',0").unwrap();
        assert_eq!(
            r.object,
            "SELECT c.surname FROM t WHERE n <> 'it\\'s' AND x = 'a,b'\nOR 1"
        );
        assert_eq!((r.operation, r.retcode, r.query_id), ("QUERY", "0", "27"));
        let r = record("20261201 08:52:17,vm,kh_alice,127.0.0.1,10,26,READ,kh_shop,customers,")
            .unwrap();
        assert_eq!(
            (r.operation, r.object.as_str(), r.retcode),
            ("READ", "customers", "")
        );
    }

    #[test]
    fn set_remembers_literal_variables() {
        let mut v = FxHashMap::default();
        set_vars("SET @id = 1002, @Who := 'ada'", &mut v);
        assert_eq!(v.get("id").map(String::as_str), Some("1002"));
        assert_eq!(v.get("who").map(String::as_str), Some("ada"));
        set_vars("SET @id = (SELECT 1)", &mut v);
        assert!(!v.contains_key("id"));
    }
}
