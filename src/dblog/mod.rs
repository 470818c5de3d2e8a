//! Database audit logs (CONTRACT section 8): pgAudit's stderr and csvlog
//! lines and MariaDB's server_audit file, read as a stream, assembled into
//! statements, and turned into access events for the one pipeline. A
//! statement's text is read with the guard's tokenizer and never executed;
//! no statement text or literal leaves this module except a compared
//! subject id.

pub mod mariadb;
pub mod pg;
pub mod prefix;
pub mod statement;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::model::{DbAction, DbEvent, DbEvents, Instant};
use crate::policy::{AuditPolicy, AuditTable};
use crate::source::Dialect;
use statement::{Reading, Value};

/// The three formats of section 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pgaudit,
    PgauditCsv,
    ServerAudit,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Pgaudit => "pgaudit",
            Format::PgauditCsv => "pgaudit-csv",
            Format::ServerAudit => "server_audit",
        }
    }

    pub fn from_name(s: &str) -> Option<Format> {
        [Format::Pgaudit, Format::PgauditCsv, Format::ServerAudit]
            .into_iter()
            .find(|f| f.name() == s.trim())
    }
}

/// The prefix a pgAudit stderr log is read with when its `[[audit_log]]`
/// names none.
pub const DEFAULT_PREFIX: &str = "%m [%p] user=%u db=%d app=%a client=%h ";

/// One audit log to read, from `--audit-log` or an `[[audit_log]]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSpec {
    pub path: PathBuf,
    /// None: detected from the first records.
    pub format: Option<Format>,
    pub log_line_prefix: Option<String>,
    /// server_audit's timestamps carry no zone; pgAudit's may carry an
    /// abbreviation only this places.
    pub timezone: Option<chrono_tz::Tz>,
}

impl LogSpec {
    pub fn new(path: impl Into<PathBuf>) -> LogSpec {
        LogSpec {
            path: path.into(),
            format: None,
            log_line_prefix: None,
            timezone: None,
        }
    }

    /// The file's name without its folder: the first part of its event ids.
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbLogError {
    /// A problem with what the user named (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The log could not be read (exit 1).
    #[error("{0}")]
    Io(String),
}

/// Checks a list of logs before any is read: one file named twice, or two
/// files whose names would give the same event ids, is a usage error.
pub fn check_specs(specs: &[LogSpec]) -> Result<(), DbLogError> {
    let mut seen: BTreeMap<String, &Path> = BTreeMap::new();
    for s in specs {
        let name = s.file_name();
        if let Some(other) = seen.insert(name.clone(), &s.path) {
            return Err(DbLogError::Usage(if other == s.path {
                format!("audit log {} is named twice", s.path.display())
            } else {
                format!(
                    "audit logs {} and {} share the file name {name:?}, which starts every event id; rename one",
                    other.display(),
                    s.path.display()
                )
            }));
        }
        if s.format != Some(Format::ServerAudit) && s.format != Some(Format::PgauditCsv) {
            let p = s.log_line_prefix.as_deref().unwrap_or(DEFAULT_PREFIX);
            if s.format == Some(Format::Pgaudit) || s.log_line_prefix.is_some() {
                prefix::Prefix::parse(p).map_err(|e| {
                    DbLogError::Usage(format!("audit log {}: {e}", s.path.display()))
                })?;
            }
        }
    }
    Ok(())
}

/// What reading one log found, for `keyhole check` and the warnings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogSummary {
    pub file: String,
    pub format: Option<Format>,
    pub first: Option<Instant>,
    pub last: Option<Instant>,
    /// Audit records read (parallel workers' copies included).
    pub records: u64,
    /// Statements assembled, by database user.
    pub statements_by_user: BTreeMap<String, u64>,
    /// Statements that failed (no event).
    pub failed: u64,
    pub events: u64,
    /// Statements of service accounts, by account.
    pub service_skipped: BTreeMap<String, u64>,
    /// Logins with statements that no staff member's `db_user` names.
    pub unknown_users: BTreeSet<String>,
    /// Statements on a personal table that named none of its mapped columns.
    pub untouched: u64,
    /// Records that could not be read: how many, and the first lines.
    pub unparsed: u64,
    pub unparsed_lines: Vec<(u64, String)>,
}

const KEEP_UNPARSED: usize = 20;

impl LogSummary {
    fn unparsed(&mut self, line: u64, why: impl Into<String>) {
        self.unparsed += 1;
        if self.unparsed_lines.len() < KEEP_UNPARSED {
            self.unparsed_lines.push((line, why.into()));
        }
    }

    fn saw(&mut self, at: Instant) {
        if self.first.is_none_or(|f| at < f) {
            self.first = Some(at);
        }
        if self.last.is_none_or(|l| at > l) {
            self.last = Some(at);
        }
    }

    /// The one warning for records that could not be read, or none.
    pub fn warning(&self) -> Option<String> {
        if self.unparsed == 0 {
            return None;
        }
        let lines: Vec<String> = self
            .unparsed_lines
            .iter()
            .map(|(l, _)| l.to_string())
            .collect();
        let more = if self.unparsed as usize > lines.len() {
            ", …"
        } else {
            ""
        };
        let why = self
            .unparsed_lines
            .first()
            .map(|(_, w)| format!(" (line {}: {w})", self.unparsed_lines[0].0))
            .unwrap_or_default();
        Some(format!(
            "audit log {}: {} record(s) could not be read, at line(s) {}{more}{why}",
            self.file,
            self.unparsed,
            lines.join(", ")
        ))
    }
}

/// One record of a statement: its command, the object it names, its text
/// (an index into the statement's texts) and bound parameters.
#[derive(Debug, Clone)]
pub(crate) struct Rec {
    pub command: String,
    pub object: Option<String>,
    pub text: usize,
    pub params: Vec<Option<String>>,
    /// server_audit: a `WRITE` table record.
    pub write: bool,
}

/// A statement assembled from its records.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    pub line: u64,
    pub at: Instant,
    pub user: String,
    pub client: Option<String>,
    pub records: Vec<Rec>,
    pub texts: Vec<String>,
    pub failed: bool,
}

impl Statement {
    pub fn new(line: u64, at: Instant, user: &str, client: Option<String>) -> Statement {
        Statement {
            line,
            at,
            user: user.to_string(),
            client,
            records: Vec::new(),
            texts: Vec::new(),
            failed: false,
        }
    }

    /// The index of `text` among the statement's texts, added when new.
    pub fn text(&mut self, text: &str) -> usize {
        match self.texts.iter().position(|t| t == text) {
            Some(i) => i,
            None => {
                self.texts.push(text.to_string());
                self.texts.len() - 1
            }
        }
    }
}

/// A client address as an event keeps it: an IP address without a port;
/// a host name or a socket is none.
pub(crate) fn client_ip(host: &str) -> Option<String> {
    let h = host.trim();
    if h.is_empty() {
        return None;
    }
    if let Ok(ip) = h.parse::<std::net::IpAddr>() {
        return Some(ip.to_string());
    }
    // `10.1.2.3:5432`, `::1:5432`, `[::1]:5432`, `10.1.2.3(5432)`.
    let h = h.split_once('(').map_or(h, |(a, _)| a);
    if let Some((a, _)) = h.rsplit_once(':') {
        let a = a.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = a.parse::<std::net::IpAddr>() {
            return Some(ip.to_string());
        }
    }
    h.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string())
}

/// Turns statements into events: knows the policy's tables and service
/// accounts, and which staff member each login is.
pub(crate) struct Judge<'p> {
    audit: &'p AuditPolicy,
    logins: &'p FxHashMap<String, String>,
    dialect: Dialect,
    pub summary: LogSummary,
    out: &'p mut DbEvents,
    file_sym: u32,
}

const WRITES: [&str; 4] = ["INSERT", "UPDATE", "DELETE", "MERGE"];

impl<'p> Judge<'p> {
    fn new(
        audit: &'p AuditPolicy,
        logins: &'p FxHashMap<String, String>,
        file: String,
        dialect: Dialect,
        out: &'p mut DbEvents,
    ) -> Self {
        let file_sym = out.strings.intern(&file);
        Judge {
            audit,
            logins,
            summary: LogSummary {
                file,
                ..LogSummary::default()
            },
            dialect,
            out,
            file_sym,
        }
    }

    /// One statement, with the connection's user variables (MariaDB).
    pub fn statement(&mut self, mut st: Statement, vars: Option<&FxHashMap<String, String>>) {
        // A record whose text never arrived (server_audit's TABLE records
        // without their QUERY) has nothing to read.
        let texts = st.texts.len();
        st.records.retain(|r| r.text < texts);
        *self
            .summary
            .statements_by_user
            .entry(st.user.clone())
            .or_default() += 1;
        if st.failed {
            self.summary.failed += 1;
            return;
        }
        if self.audit.service_accounts.contains(st.user.trim()) {
            *self
                .summary
                .service_skipped
                .entry(st.user.clone())
                .or_default() += 1;
            return;
        }
        // The personal tables it names, in the order its records name them.
        let mut tables: Vec<&AuditTable> = Vec::new();
        for r in &st.records {
            if let Some(t) = r
                .object
                .as_deref()
                .and_then(|o| self.audit.table(o, self.dialect == Dialect::Mysql))
                && !tables.iter().any(|x| std::ptr::eq(*x, t))
            {
                tables.push(t);
            }
        }
        if tables.is_empty() {
            return;
        }
        let mut readings: Vec<Option<Reading>> = Vec::with_capacity(st.texts.len());
        for t in &st.texts {
            readings.push(statement::read(t, self.dialect));
        }
        if readings.iter().any(Option::is_none) {
            self.summary
                .unparsed(st.line, "a statement's text could not be tokenized");
            return;
        }
        let readings: Vec<Reading> = readings.into_iter().map(Option::unwrap).collect();
        let action = if readings.iter().any(|r| r.export) {
            DbAction::Export
        } else if st
            .records
            .iter()
            .any(|r| r.write || WRITES.contains(&r.command.to_uppercase().as_str()))
        {
            DbAction::Update
        } else {
            DbAction::View
        };
        let login = st.user.trim();
        let staff = match self.logins.get(login) {
            Some(s) => s.clone(),
            None => {
                self.summary.unknown_users.insert(login.to_string());
                format!("db:{login}")
            }
        };
        let client = st.client.clone();
        for table in tables {
            let recs: Vec<&Rec> = st
                .records
                .iter()
                .filter(|r| {
                    r.object
                        .as_deref()
                        .and_then(|o| self.audit.table(o, self.dialect == Dialect::Mysql))
                        .is_some_and(|t| std::ptr::eq(t, table))
                })
                .collect();
            let mut texts: Vec<usize> = Vec::new();
            for r in &recs {
                if !texts.contains(&r.text) {
                    texts.push(r.text);
                }
            }
            let touched: Vec<&(String, String)> = table
                .columns
                .iter()
                .filter(|(c, _)| {
                    texts
                        .iter()
                        .any(|&i| readings[i].star || readings[i].names(c))
                })
                .collect();
            if touched.is_empty() {
                self.summary.untouched += 1;
                continue;
            }
            let mut cats: Vec<&str> = touched.iter().map(|(_, c)| c.as_str()).collect();
            cats.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            cats.dedup();
            let mut subjects: Vec<String> = Vec::new();
            for &i in &texts {
                let params = recs
                    .iter()
                    .find(|r| r.text == i && !r.params.is_empty())
                    .map(|r| r.params.as_slice())
                    .unwrap_or(&[]);
                for (col, v) in &readings[i].compared {
                    if *col != table.subject_key {
                        continue;
                    }
                    let value = match v {
                        Value::Literal(s) => Some(s.clone()),
                        Value::Param(n) => params.get(n.wrapping_sub(1)).cloned().flatten(),
                        Value::Var(name) => vars.and_then(|m| m.get(name)).cloned(),
                    };
                    if let Some(s) = value.map(|s| s.trim().to_string())
                        && !s.is_empty()
                        && !subjects.contains(&s)
                    {
                        subjects.push(s);
                    }
                }
            }
            let kind = recs
                .iter()
                .map(|r| r.command.trim())
                .find(|c| !c.is_empty() && !c.eq_ignore_ascii_case("QUERY"))
                .map(str::to_uppercase)
                .unwrap_or_else(|| readings[recs[0].text].kind.clone());
            // An export is named by how it left: `COPY … TO` or `INTO OUTFILE`.
            let kind = match action {
                DbAction::Export if readings.iter().any(|r| r.kind == "COPY") => {
                    "COPY … TO".to_string()
                }
                DbAction::Export => format!("{kind} … INTO OUTFILE"),
                _ => kind,
            };
            let strings = &mut self.out.strings;
            let others = if cats.len() > 1 {
                strings.intern(&cats[1..].join(", "))
            } else {
                DbEvent::NONE
            };
            let template = DbEvent {
                occurred_at: st.at,
                line: st.line,
                part: 0,
                file: self.file_sym,
                table: strings.intern(&table.name),
                staff: strings.intern(&staff),
                subject: DbEvent::NONE,
                action,
                category: strings.intern(cats[0]),
                client: client
                    .as_deref()
                    .map_or(DbEvent::NONE, |c| strings.intern(c)),
                login: strings.intern(login),
                kind: strings.intern(&kind),
                others,
            };
            let several = subjects.len() > 1;
            if subjects.is_empty() {
                self.out.events.push(template);
            }
            for (k, sub) in subjects.iter().enumerate() {
                let subject = self.out.strings.intern(sub);
                self.out.events.push(DbEvent {
                    part: if several { k as u32 + 1 } else { 0 },
                    subject,
                    ..template
                });
            }
            self.summary.events += subjects.len().max(1) as u64;
        }
    }
}

/// Reads the first bytes of a log to tell its format.
pub fn detect(path: &Path) -> Result<Format, DbLogError> {
    let mut f = std::fs::File::open(path)
        .map_err(|e| DbLogError::Io(format!("audit log {}: {e}", path.display())))?;
    let mut head = vec![0u8; 64 * 1024];
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(DbLogError::Io(format!("audit log {}: {e}", path.display()))),
        }
    }
    let text = String::from_utf8_lossy(&head[..n]);
    Ok(detect_text(&text))
}

/// Tells a log's format from its first non-blank line.
pub fn detect_text(text: &str) -> Format {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let b = line.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if digits(0..8) && b.get(8) == Some(&b' ') && b.get(17) == Some(&b',') {
        return Format::ServerAudit;
    }
    if digits(0..4) && b.get(4) == Some(&b'-') && b.get(10) == Some(&b' ') {
        // csvlog: the first field is the time alone (`… 08:52:04.230 UTC`);
        // a stderr line's prefix goes on past its time.
        let first = line.split(',').next().unwrap_or("");
        if first.len() < line.len() && first.matches(' ').count() == 2 && first.len() <= 40 {
            return Format::PgauditCsv;
        }
    }
    Format::Pgaudit
}

/// Reads one log, adding its events to `out` (not yet in time order);
/// returns what was found.
pub fn read_log(
    spec: &LogSpec,
    audit: &AuditPolicy,
    logins: &FxHashMap<String, String>,
    out: &mut DbEvents,
) -> Result<LogSummary, DbLogError> {
    let format = match spec.format {
        Some(f) => f,
        None => detect(&spec.path)?,
    };
    let file = std::fs::File::open(&spec.path)
        .map_err(|e| DbLogError::Io(format!("audit log {}: {e}", spec.path.display())))?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    read_from(reader, format, spec, audit, logins, out)
}

/// Reads one log of a known format from `reader`; `spec` gives its name,
/// prefix and zone. What [`read_log`] does once the file is open.
pub fn read_from<R: std::io::BufRead>(
    reader: R,
    format: Format,
    spec: &LogSpec,
    audit: &AuditPolicy,
    logins: &FxHashMap<String, String>,
    out: &mut DbEvents,
) -> Result<LogSummary, DbLogError> {
    let dialect = match format {
        Format::ServerAudit => Dialect::Mysql,
        _ => Dialect::Postgres,
    };
    let mut judge = Judge::new(audit, logins, spec.file_name(), dialect, out);
    judge.summary.format = Some(format);
    let io = |e: std::io::Error| DbLogError::Io(format!("audit log {}: {e}", spec.path.display()));
    match format {
        Format::Pgaudit => {
            let p =
                prefix::Prefix::parse(spec.log_line_prefix.as_deref().unwrap_or(DEFAULT_PREFIX))
                    .map_err(|e| {
                        DbLogError::Usage(format!("audit log {}: {e}", spec.path.display()))
                    })?;
            pg::read_stderr(reader, &p, spec.timezone, &mut judge).map_err(io)?
        }
        Format::PgauditCsv => pg::read_csv(reader, spec.timezone, &mut judge)
            .map_err(|e| DbLogError::Io(format!("audit log {}: {e}", spec.path.display())))?,
        Format::ServerAudit => {
            mariadb::read(reader, spec.timezone.unwrap_or(chrono_tz::UTC), &mut judge)
                .map_err(io)?
        }
    }
    Ok(judge.summary)
}

/// Each staff member's database login (`db_user`, trimmed) to their staff
/// id; a login two staff members share goes to the first.
pub fn logins(staff: &[crate::model::Staff]) -> FxHashMap<String, String> {
    let mut m = FxHashMap::default();
    for s in staff {
        if let Some(u) = s
            .db_user
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            m.entry(u.to_string())
                .or_insert_with(|| s.staff_id.to_string());
        }
    }
    m
}

/// A file as it stands: device, inode, length and modification time.
#[derive(Debug, Clone, PartialEq)]
struct FileState {
    dev: u64,
    ino: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl FileState {
    fn of(path: &Path) -> Option<FileState> {
        let m = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let (dev, ino) = {
            use std::os::unix::fs::MetadataExt;
            (m.dev(), m.ino())
        };
        #[cfg(not(unix))]
        let (dev, ino) = (0, 0);
        Some(FileState {
            dev,
            ino,
            len: m.len(),
            modified: m.modified().ok(),
        })
    }
}

/// What a read of the logs depends on: the logs as they stood before it,
/// the `[audit]` policy and the staff's logins.
#[derive(Debug, Clone, PartialEq)]
struct ReadKey {
    logs: Vec<(LogSpec, FileState)>,
    audit: AuditPolicy,
    logins: Vec<(String, String)>,
}

type LastRead = (ReadKey, Arc<DbEvents>, Vec<LogSummary>);

/// The last read, kept so that a dashboard reload or a new window over logs
/// that have not changed does not parse them again.
static LAST_READ: std::sync::Mutex<Option<LastRead>> = std::sync::Mutex::new(None);

/// Reads every log into events in (`occurred_at`, `event_id`) order.
/// `logins` maps a staff member's `db_user` to their staff id. When no log
/// has changed (same file, length and modification time) and neither have
/// the policy's `[audit]` or the logins, the last read's events are shared
/// instead of parsed again.
pub fn read_all(
    specs: &[LogSpec],
    audit: &AuditPolicy,
    logins: &FxHashMap<String, String>,
) -> Result<(Arc<DbEvents>, Vec<LogSummary>), DbLogError> {
    check_specs(specs)?;
    let states: Option<Vec<(LogSpec, FileState)>> = specs
        .iter()
        .map(|s| FileState::of(&s.path).map(|f| (s.clone(), f)))
        .collect();
    let key = states.map(|logs| {
        let mut l: Vec<(String, String)> =
            logins.iter().map(|(a, b)| (a.clone(), b.clone())).collect();
        l.sort();
        ReadKey {
            logs,
            audit: audit.clone(),
            logins: l,
        }
    });
    let last = || LAST_READ.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(k) = &key
        && let Some((lk, events, summaries)) = last().as_ref()
        && lk == k
    {
        tracing::info!(
            logs = specs.len(),
            "audit logs unchanged since the last read"
        );
        return Ok((events.clone(), summaries.clone()));
    }
    let mut events = DbEvents::default();
    let mut summaries = Vec::new();
    for s in specs {
        summaries.push(read_log(s, audit, logins, &mut events)?);
    }
    events.sort();
    let events = Arc::new(events);
    if let Some(k) = key {
        *last() = Some((k, events.clone(), summaries.clone()));
    }
    Ok((events, summaries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_from_the_first_line() {
        assert_eq!(
            detect_text("20261201 08:52:17,vm,root,localhost,9,17,QUERY,,'x',0\n"),
            Format::ServerAudit
        );
        assert_eq!(
            detect_text("2026-12-01 08:52:04.230 UTC,,,5471,,6b0e8ab4.155f,1,,x\n"),
            Format::PgauditCsv
        );
        assert_eq!(
            detect_text("2026-12-01 08:51:43.149 UTC [5368] user= db= LOG:  x\n"),
            Format::Pgaudit
        );
    }

    #[test]
    fn client_addresses_lose_their_port_and_names_are_none() {
        assert_eq!(client_ip("127.0.0.1:46502").as_deref(), Some("127.0.0.1"));
        assert_eq!(client_ip("::1:46502").as_deref(), Some("::1"));
        assert_eq!(client_ip("10.0.0.9").as_deref(), Some("10.0.0.9"));
        assert_eq!(client_ip("10.0.0.9(5544)").as_deref(), Some("10.0.0.9"));
        assert_eq!(client_ip("localhost"), None);
        assert_eq!(client_ip("[local]"), None);
        assert_eq!(client_ip(""), None);
    }

    #[test]
    fn one_file_twice_is_a_usage_error() {
        let e = check_specs(&[LogSpec::new("/a/pg.log"), LogSpec::new("/a/pg.log")]).unwrap_err();
        assert_eq!(e.to_string(), "audit log /a/pg.log is named twice");
        let e = check_specs(&[LogSpec::new("/a/pg.log"), LogSpec::new("/b/pg.log")]).unwrap_err();
        assert!(e.to_string().contains("share the file name"), "{e}");
    }
}
