//! pgAudit's records, from a stderr log (with the server's
//! `log_line_prefix`) or from csvlog, assembled into statements: one per
//! backend and STATEMENT_ID. A parallel worker's copies are skipped; a
//! statement whose backend logs an `ERROR` and then the same text as its
//! `STATEMENT:` (csvlog: `query`) before its next statement failed.

use std::borrow::Cow;
use std::io::BufRead;

use rustc_hash::FxHashMap;

use super::prefix::{Prefix, message, parse_time};
use super::{Judge, Rec, Statement, client_ip};
use crate::model::Instant;

/// Splits one CSV record held in a string (pgAudit's payload, its
/// PARAMETER list): fields, unquoted; `None` when a quote is unterminated.
pub fn csv_fields(s: &str) -> Option<Vec<Cow<'_, str>>> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        if b.get(i) == Some(&b'"') {
            let mut v = String::new();
            let mut j = i + 1;
            loop {
                let k = s[j..].find('"')? + j;
                v.push_str(&s[j..k]);
                if b.get(k + 1) == Some(&b'"') {
                    v.push('"');
                    j = k + 2;
                } else {
                    i = k + 1;
                    break;
                }
            }
            out.push(Cow::Owned(v));
        } else {
            let end = s[i..].find(',').map_or(s.len(), |k| k + i);
            out.push(Cow::Borrowed(&s[i..end]));
            i = end;
        }
        match b.get(i) {
            Some(b',') => i += 1,
            None => return Some(out),
            // Text after a closing quote: not CSV.
            Some(_) => return None,
        }
    }
}

/// pgAudit's PARAMETER field: `<none>`, `<not logged>`, or the values as
/// a CSV list, `<null>` for a NULL.
fn parameters(field: &str) -> Vec<Option<String>> {
    if field.is_empty() || (field.starts_with('<') && field.ends_with('>') && !field.contains(','))
    {
        return Vec::new();
    }
    csv_fields(field)
        .unwrap_or_default()
        .into_iter()
        .map(|v| {
            let v = v.into_owned();
            (!(v == "<null>" || v == "<long param suppressed>")).then_some(v)
        })
        .collect()
}

/// A pgAudit payload: `AUDIT_TYPE,STATEMENT_ID,SUBSTATEMENT_ID,CLASS,
/// COMMAND,OBJECT_TYPE,OBJECT_NAME,STATEMENT,PARAMETER`.
struct Payload<'a> {
    statement_id: u64,
    command: Cow<'a, str>,
    object: Cow<'a, str>,
    statement: Cow<'a, str>,
    parameter: Cow<'a, str>,
}

fn payload(text: &str) -> Option<Payload<'_>> {
    let mut f = csv_fields(text)?;
    if f.len() < 8 {
        return None;
    }
    let parameter = if f.len() >= 9 {
        f.swap_remove(8)
    } else {
        Cow::Borrowed("")
    };
    let statement = f.swap_remove(7);
    let object = f.swap_remove(6);
    let command = f.swap_remove(4);
    Some(Payload {
        statement_id: f[1].parse().ok()?,
        command,
        object,
        statement,
        parameter,
    })
}

struct Pending {
    statement: Statement,
    statement_id: u64,
    saw_error: bool,
    last_line: u64,
}

/// Statements being assembled, by backend.
struct Assembly<'j, 'p> {
    judge: &'j mut Judge<'p>,
    pending: FxHashMap<String, Pending>,
}

/// Backends kept waiting for their next statement before the oldest are
/// finished: a log of many short sessions keeps memory flat.
const MAX_PENDING: usize = 4096;
const STALE_LINES: u64 = 200_000;

impl Assembly<'_, '_> {
    #[allow(clippy::too_many_arguments)]
    fn audit(
        &mut self,
        line: u64,
        at: Instant,
        pid: &str,
        user: &str,
        host: Option<&str>,
        p: Payload,
    ) {
        self.judge.summary.records += 1;
        self.judge.summary.saw(at);
        let same = self
            .pending
            .get(pid)
            .is_some_and(|x| x.statement_id == p.statement_id);
        if !same {
            if let Some(old) = self.pending.remove(pid) {
                self.judge.statement(old.statement, None);
            }
            if self.pending.len() >= MAX_PENDING {
                self.prune(line);
            }
            self.pending.insert(
                pid.to_string(),
                Pending {
                    statement: Statement::new(line, at, user, host.and_then(client_ip)),
                    statement_id: p.statement_id,
                    saw_error: false,
                    last_line: line,
                },
            );
        }
        let pend = self.pending.get_mut(pid).expect("inserted above");
        pend.last_line = line;
        let st = &mut pend.statement;
        let text = st.text(&p.statement);
        let object = p.object.trim();
        st.records.push(Rec {
            command: p.command.into_owned(),
            object: (!object.is_empty()).then(|| object.to_string()),
            text,
            params: parameters(&p.parameter),
            write: false,
        });
    }

    fn error(&mut self, pid: &str) {
        if let Some(p) = self.pending.get_mut(pid) {
            p.saw_error = true;
        }
    }

    /// The `STATEMENT:` after an `ERROR` (csvlog: the ERROR's `query`).
    fn failed_text(&mut self, pid: &str, text: &str) {
        if let Some(p) = self.pending.get_mut(pid)
            && p.saw_error
            && p.statement.texts.iter().any(|t| t == text)
        {
            p.statement.failed = true;
        }
    }

    fn prune(&mut self, line: u64) {
        let stale: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| p.last_line + STALE_LINES < line)
            .map(|(k, _)| k.clone())
            .collect();
        for k in stale {
            if let Some(p) = self.pending.remove(&k) {
                self.judge.statement(p.statement, None);
            }
        }
    }

    fn finish(mut self) {
        let mut rest: Vec<Pending> = self.pending.drain().map(|(_, p)| p).collect();
        rest.sort_by_key(|p| p.statement.line);
        for p in rest {
            self.judge.statement(p.statement, None);
        }
    }
}

/// One stderr entry: its first line's prefix fields and its message with
/// continuation lines joined. One is reused for every line, so reading
/// allocates only when a line is longer than any before it.
#[derive(Default)]
struct Entry {
    /// Whether it holds an entry not yet finished.
    open: bool,
    line: u64,
    time: String,
    pid: String,
    user: String,
    host: Option<String>,
    level: String,
    text: String,
}

fn set(dst: &mut String, src: &str) {
    dst.clear();
    dst.push_str(src);
}

/// The last time read and what it was: a statement's records share theirs.
#[derive(Default)]
struct LastTime {
    text: String,
    at: Option<Instant>,
}

fn finish_entry(e: &Entry, tz: Option<chrono_tz::Tz>, last: &mut LastTime, asm: &mut Assembly) {
    match e.level.as_str() {
        "LOG" => {
            let Some(body) = e.text.strip_prefix("AUDIT: ") else {
                return;
            };
            let at = match last.at {
                Some(t) if last.text == e.time => t,
                _ => match parse_time(&e.time, tz) {
                    Ok(t) => {
                        set(&mut last.text, &e.time);
                        last.at = Some(t);
                        t
                    }
                    Err(why) => return asm.judge.summary.unparsed(e.line, why),
                },
            };
            let Some(p) = payload(body) else {
                return asm
                    .judge
                    .summary
                    .unparsed(e.line, "an AUDIT record that is not pgAudit's nine fields");
            };
            if e.user.is_empty() {
                // A parallel worker's copy of its leader's record.
                asm.judge.summary.records += 1;
                return;
            }
            asm.audit(e.line, at, &e.pid, &e.user, e.host.as_deref(), p);
        }
        "ERROR" => asm.error(&e.pid),
        "STATEMENT" => asm.failed_text(&e.pid, &e.text),
        _ => {}
    }
}

/// Reads a stderr log.
pub(crate) fn read_stderr<R: BufRead>(
    mut reader: R,
    prefix: &Prefix,
    tz: Option<chrono_tz::Tz>,
    judge: &mut Judge,
) -> std::io::Result<()> {
    let mut asm = Assembly {
        judge,
        pending: FxHashMap::default(),
    };
    let mut buf = Vec::with_capacity(4096);
    let mut line_no = 0u64;
    let mut entry = Entry::default();
    let mut last = LastTime::default();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line_no += 1;
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        let line = match std::str::from_utf8(&buf) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(&buf),
        };
        if let Some(rest) = line.strip_prefix('\t') {
            if entry.open {
                entry.text.push('\n');
                entry.text.push_str(rest);
            }
            continue;
        }
        if entry.open {
            finish_entry(&entry, tz, &mut last, &mut asm);
            entry.open = false;
        }
        if line.is_empty() {
            continue;
        }
        let parsed = prefix
            .split(&line)
            .and_then(|(f, rest)| message(rest).map(|m| (f, m)));
        match parsed {
            Some((f, (level, text))) => {
                let e = &mut entry;
                e.open = true;
                e.line = line_no;
                set(&mut e.time, f.time.unwrap_or(""));
                set(&mut e.pid, f.pid.unwrap_or(""));
                set(&mut e.user, f.user.unwrap_or(""));
                match (f.host, e.host.as_mut()) {
                    (Some(h), Some(dst)) => set(dst, h),
                    (h, _) => e.host = h.map(str::to_string),
                }
                set(&mut e.level, level);
                set(&mut e.text, text);
            }
            None => asm.judge.summary.unparsed(
                line_no,
                "a line that does not start with the log_line_prefix",
            ),
        }
    }
    if entry.open {
        finish_entry(&entry, tz, &mut last, &mut asm);
    }
    asm.finish();
    Ok(())
}

/// csvlog columns (PostgreSQL 13 to 17).
const LOG_TIME: usize = 0;
const USER_NAME: usize = 1;
const PROCESS_ID: usize = 3;
const CONNECTION_FROM: usize = 4;
const ERROR_SEVERITY: usize = 11;
const MESSAGE: usize = 13;
const QUERY: usize = 19;
const BACKEND_TYPE: usize = 23;

/// Reads a csvlog.
pub(crate) fn read_csv<R: std::io::Read>(
    reader: R,
    tz: Option<chrono_tz::Tz>,
    judge: &mut Judge,
) -> Result<(), csv::Error> {
    let mut asm = Assembly {
        judge,
        pending: FxHashMap::default(),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut rec = csv::ByteRecord::new();
    loop {
        let line = rdr.position().line() + 1;
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                if e.is_io_error() {
                    return Err(e);
                }
                let l = e.position().map_or(line, |p| p.line());
                asm.judge.summary.unparsed(l, "not a csvlog record");
                continue;
            }
        }
        let line = rec.position().map_or(line, |p| p.line());
        let field = |i: usize| rec.get(i).map(String::from_utf8_lossy);
        if rec.len() < 23 {
            asm.judge
                .summary
                .unparsed(line, format!("a csvlog record of {} fields", rec.len()));
            continue;
        }
        let severity = field(ERROR_SEVERITY).unwrap_or_default();
        let pid = field(PROCESS_ID).unwrap_or_default();
        match severity.as_ref() {
            "LOG" => {
                let msg = field(MESSAGE).unwrap_or_default();
                let Some(body) = msg.strip_prefix("AUDIT: ") else {
                    continue;
                };
                let time = field(LOG_TIME).unwrap_or_default();
                let at = match parse_time(&time, tz) {
                    Ok(t) => t,
                    Err(why) => {
                        asm.judge.summary.unparsed(line, why);
                        continue;
                    }
                };
                let Some(p) = payload(body) else {
                    asm.judge
                        .summary
                        .unparsed(line, "an AUDIT record that is not pgAudit's nine fields");
                    continue;
                };
                let user = field(USER_NAME).unwrap_or_default();
                let worker = match field(BACKEND_TYPE) {
                    Some(b) => b == "parallel worker",
                    None => user.is_empty(),
                };
                if worker {
                    asm.judge.summary.records += 1;
                    continue;
                }
                let host = field(CONNECTION_FROM);
                asm.audit(line, at, &pid, &user, host.as_deref(), p);
            }
            "ERROR" => {
                asm.error(&pid);
                if let Some(q) = field(QUERY)
                    && !q.is_empty()
                {
                    asm.failed_text(&pid, &q);
                }
            }
            _ => {}
        }
    }
    asm.finish();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_unquote() {
        let f =
            csv_fields(r#"SESSION,2,1,READ,SELECT,TABLE,crm.t,"SELECT a, ""b"" FROM t",<none>"#)
                .unwrap();
        assert_eq!(f.len(), 9);
        assert_eq!(f[7], "SELECT a, \"b\" FROM t");
        assert_eq!(csv_fields("a,,b").unwrap(), vec!["a", "", "b"]);
        assert!(csv_fields("\"open").is_none());
    }

    #[test]
    fn parameters_are_a_csv_list() {
        assert_eq!(parameters("<none>"), Vec::<Option<String>>::new());
        assert_eq!(parameters("<not logged>"), Vec::<Option<String>>::new());
        assert_eq!(
            parameters(r#"1002,"a,b",<null>"#),
            vec![Some("1002".into()), Some("a,b".into()), None]
        );
    }
}
