//! The read-only database side: connect to PostgreSQL, MySQL/MariaDB or
//! SQLite, guard and run query files, decode rows into [`Value`]s.
//!
//! Read-only by construction (CONTRACT section 2): the session is read-only,
//! every statement runs in a transaction begun READ ONLY and ended by
//! ROLLBACK, user SQL only ever goes through a prepared `query()` after the
//! [`guard`] accepted it, and each statement has a server-side timeout. This
//! module must never write to a source and never send user SQL through
//! `raw_sql`.

pub mod guard;
pub mod load;
pub mod queries;
pub mod value;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use futures_util::TryStreamExt;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{
    AssertSqlSafe, Column, ConnectOptions, Connection, Executor, Row, SqlSafeStr, Statement,
};

use crate::model::Instant;
use crate::secrets;
pub use value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Postgres,
    Mysql,
    Sqlite,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::Mysql => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }
}

message_error!(
    /// A source URL keyhole cannot use.
    UrlError
);

/// A failure talking to a source, already free of credentials.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

impl From<UrlError> for SourceError {
    fn from(e: UrlError) -> Self {
        SourceError::new(e.0)
    }
}

impl SourceError {
    pub fn new(msg: impl AsRef<str>) -> Self {
        SourceError(secrets::redact(msg.as_ref()))
    }
}

fn db_err(context: &str, e: sqlx::Error) -> SourceError {
    // The server's own message: the driver's display adds the server's
    // source line (`at line 768`), which means nothing to a reader.
    match &e {
        sqlx::Error::Database(d) => SourceError::new(format!("{context}: {}", d.message())),
        other if connection_lost(other) => SourceError::new(format!(
            "{context}: the server closed the connection (the session was killed, or the server stopped or restarted): {other}"
        )),
        other => SourceError::new(format!("{context}: {other}")),
    }
}

/// Whether an error means the server went away mid-conversation: a read
/// that met the end of the stream, a reset or broken connection.
fn connection_lost(e: &sqlx::Error) -> bool {
    use std::io::ErrorKind::*;
    let io = |k: std::io::ErrorKind| {
        matches!(
            k,
            UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe
        )
    };
    // The MySQL driver reports a short read as an error of its own kind.
    let text = e.to_string();
    let short = text.contains("got 0 bytes at EOF") || text.contains("connection closed");
    match e {
        sqlx::Error::Io(i) => io(i.kind()) || short,
        _ => short,
    }
}

/// What names a source and how to reach it.
#[derive(Clone)]
pub struct SourceOptions {
    pub url: String,
    /// From `password_env`, `PGPASSWORD` or `MYSQL_PWD`; never the command line.
    pub password: Option<String>,
    pub statement_timeout: Duration,
    pub connect_timeout: Duration,
}

impl std::fmt::Debug for SourceOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceOptions")
            .field("url", &secrets::redact_url(&self.url))
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("statement_timeout", &self.statement_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// Parses the dialect and the database name (for `source.database`) out of a URL.
pub fn parse_url(url: &str) -> Result<(Dialect, String), UrlError> {
    let lower = url.trim().to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("sqlite:") {
        let _ = rest;
        let path = sqlite_path(url.trim())
            .ok_or_else(|| "sqlite URL has no file path (sqlite://PATH)".to_string())?;
        let name = std::path::Path::new(&path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or(path);
        return Ok((Dialect::Sqlite, name));
    }
    let dialect = if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        Dialect::Postgres
    } else if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
        Dialect::Mysql
    } else {
        return Err(format!(
            "unsupported database URL {:?}: use postgres://…, mysql://… or sqlite://PATH",
            secrets::redact_url(url)
        )
        .into());
    };
    let parsed = url::Url::parse(url.trim())
        .map_err(|e| format!("bad database URL {}: {e}", secrets::redact_url(url)))?;
    let name = parsed.path().trim_start_matches('/').to_string();
    Ok((dialect, name))
}

fn sqlite_path(url: &str) -> Option<String> {
    let rest = &url[url.find(':')? + 1..];
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() {
        None
    } else {
        Some(path.to_string())
    }
}

/// Does this URL carry a password in its user-info part?
pub fn url_has_password(url: &str) -> bool {
    url::Url::parse(url.trim())
        .ok()
        .and_then(|u| u.password().map(|p| !p.is_empty()))
        .unwrap_or(false)
}

enum Conn {
    Pg(Box<PgConnection>),
    /// The flavour, and whether the session default READ ONLY was taken
    /// (then it is asserted again before each statement).
    My(Box<MySqlConnection>, MySqlFlavor, bool),
    Lite(Box<SqliteConnection>, Arc<AtomicI64>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MySqlFlavor {
    MariaDb,
    MySql,
}

/// One read-only session on a source database.
pub struct Source {
    conn: Conn,
    pub dialect: Dialect,
    pub database: String,
    pub statement_timeout: Duration,
    pub server_version: String,
    /// How to reach the server again, and this session's id there, so a
    /// running statement can be cancelled from another connection.
    cancel: Option<Canceller>,
    /// The session settings the server did not take, each with its refusal
    /// and what keyhole does instead: `check` shows them as warnings.
    pub degraded: Vec<String>,
    /// Names of the session settings the server took.
    pub settings: Vec<&'static str>,
    /// What the source is reading now, for a progress line elsewhere.
    reading: Arc<Reading>,
    /// The server enforces the statement timeout itself; when it does not,
    /// keyhole cancels a statement that runs past it from a second connection.
    server_timeout: bool,
}

/// The statement a source is running and the rows it has returned so far,
/// shared so another task can show progress while a long file is read.
#[derive(Debug, Default)]
pub struct Reading {
    label: std::sync::Mutex<String>,
    rows: std::sync::atomic::AtomicU64,
}

impl Reading {
    fn start(&self, label: &str) {
        if let Ok(mut l) = self.label.lock() {
            l.clear();
            l.push_str(label);
        }
        self.rows.store(0, Ordering::Relaxed);
    }
    /// The label of the statement running (or last run), and its rows so far.
    pub fn now(&self) -> (String, u64) {
        let label = self.label.lock().map(|l| l.clone()).unwrap_or_default();
        (label, self.rows.load(Ordering::Relaxed))
    }
}

/// A session setting keyhole asks of a server at connect: its name, the
/// statement (keyhole's own constant text, never user input) and whether
/// keyhole can go on without it.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub name: &'static str,
    pub sql: String,
    pub role: SettingRole,
}

/// SQLite's walls, read back from the open handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteWalls {
    /// The main database is open read-only.
    pub read_only: bool,
    /// `PRAGMA query_only`, as text (`1` when on).
    pub query_only: String,
    /// How many databases may be attached (0: none).
    pub attach_limit: i32,
}

/// What a session setting is for, which says what happens without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingRole {
    /// Times are read in UTC: without it times would be wrong, so a
    /// refusal fails the connection.
    Needed,
    /// The session default is read only; each statement's own READ ONLY
    /// transaction still holds without it.
    ReadOnlyDefault,
    /// The server stops a statement past the timeout; without it keyhole
    /// cancels the statement itself from a second connection.
    Timeout,
    /// Other limits (locks, idle transactions); nothing replaces them.
    Limit,
}

/// How long a statement may wait for a lock: half the statement timeout,
/// at least 1 s and at most 5 s.
pub fn lock_wait_s(timeout_s: u64) -> u64 {
    (timeout_s / 2).clamp(1, 5)
}

/// The session settings keyhole asks of a PostgreSQL or MySQL-family server.
pub fn session_settings(
    dialect: Dialect,
    flavor: Option<MySqlFlavor>,
    timeout_s: u64,
) -> Vec<Setting> {
    let set = |name, sql: String, role| Setting { name, sql, role };
    match dialect {
        Dialect::Postgres => vec![
            set(
                "TimeZone",
                "SET TimeZone = 'UTC'".into(),
                SettingRole::Needed,
            ),
            set(
                "default_transaction_read_only",
                "SET default_transaction_read_only = on".into(),
                SettingRole::ReadOnlyDefault,
            ),
            set(
                "statement_timeout",
                format!("SET statement_timeout = {}", timeout_s * 1000),
                SettingRole::Timeout,
            ),
            set(
                "lock_timeout",
                // A lock waited for queues others behind it: give up sooner
                // than the statement would (half its timeout, 1 to 5 s).
                format!("SET lock_timeout = {}", lock_wait_s(timeout_s) * 1000),
                SettingRole::Limit,
            ),
            set(
                "idle_in_transaction_session_timeout",
                format!(
                    "SET idle_in_transaction_session_timeout = {}",
                    (timeout_s + 30) * 1000
                ),
                SettingRole::Limit,
            ),
        ],
        Dialect::Mysql => vec![
            set(
                "time_zone",
                "SET SESSION time_zone = '+00:00'".into(),
                SettingRole::Needed,
            ),
            set(
                "transaction_read_only",
                "SET SESSION TRANSACTION READ ONLY".into(),
                SettingRole::ReadOnlyDefault,
            ),
            match flavor {
                Some(MySqlFlavor::MariaDb) => set(
                    "max_statement_time",
                    format!("SET SESSION max_statement_time = {timeout_s}"),
                    SettingRole::Timeout,
                ),
                _ => set(
                    "max_execution_time",
                    format!("SET SESSION max_execution_time = {}", timeout_s * 1000),
                    SettingRole::Timeout,
                ),
            },
        ],
        Dialect::Sqlite => Vec::new(),
    }
}

/// The session as far as the settings went: the ones taken, the refusals
/// worded for `check`, and whether the server keeps the timeout.
struct Applied {
    taken: Vec<&'static str>,
    degraded: Vec<String>,
    server_timeout: bool,
}

/// Applies each setting by itself, so one the engine lacks costs a warning
/// and not the connection; a [`SettingRole::Needed`] one still fails it.
async fn apply_settings<C>(c: &mut C, settings: &[Setting]) -> Result<Applied, SourceError>
where
    for<'c> &'c mut C: sqlx::Executor<'c>,
{
    let mut out = Applied {
        taken: Vec::new(),
        degraded: Vec::new(),
        server_timeout: false,
    };
    for st in settings {
        match sqlx::raw_sql(AssertSqlSafe(st.sql.clone()))
            .execute(&mut *c)
            .await
        {
            Ok(_) => {
                out.taken.push(st.name);
                if st.role == SettingRole::Timeout {
                    out.server_timeout = true;
                }
            }
            Err(e) => {
                let why = match &e {
                    sqlx::Error::Database(d) => d.message().to_string(),
                    other => other.to_string(),
                };
                let instead = match st.role {
                    SettingRole::Needed => {
                        return Err(SourceError::new(format!(
                            "setting up the read-only session: the server refused {} ({}), which keyhole needs to read times correctly",
                            st.name, why
                        )));
                    }
                    SettingRole::ReadOnlyDefault => {
                        "each statement still runs in its own READ ONLY transaction ended by ROLLBACK"
                    }
                    SettingRole::Timeout => {
                        "keyhole cancels a statement past statement_timeout_s itself, from a second connection"
                    }
                    SettingRole::Limit => "keyhole goes on without it",
                };
                tracing::warn!(setting = st.name, error = %why, "session setting refused");
                out.degraded
                    .push(format!("the server refused {} ({why}): {instead}", st.name));
            }
        }
    }
    Ok(out)
}

/// Cancels the statement a [`Source`] is running, from a second connection
/// (PostgreSQL `pg_cancel_backend`, MySQL `KILL QUERY`). Dropping a future
/// does not stop a query on the server; this does.
#[derive(Debug, Clone)]
pub struct Canceller {
    opts: SourceOptions,
    dialect: Dialect,
    session: i64,
}

impl Canceller {
    pub async fn cancel(&self) -> Result<(), SourceError> {
        let url = self.opts.url.trim().replacen("mariadb://", "mysql://", 1);
        let e = |x: sqlx::Error| db_err("cancelling the running statement", x);
        let work = async {
            match self.dialect {
                Dialect::Postgres => {
                    let mut o = PgConnectOptions::from_str(&url).map_err(e)?;
                    if let Some(pw) = &self.opts.password {
                        o = o.password(pw);
                    }
                    let mut c = o
                        .application_name("keyhole-cancel")
                        .disable_statement_logging()
                        .connect()
                        .await
                        .map_err(e)?;
                    // Our own fixed statement: it stops our own backend's statement and writes nothing.
                    sqlx::query("SELECT pg_cancel_backend($1::int)")
                        .bind(self.session)
                        .execute(&mut c)
                        .await
                        .map_err(e)?;
                    let _ = c.close().await;
                }
                Dialect::Mysql => {
                    let mut o = MySqlConnectOptions::from_str(&url).map_err(e)?;
                    if let Some(pw) = &self.opts.password {
                        o = o.password(pw);
                    }
                    let mut c = o.disable_statement_logging().connect().await.map_err(e)?;
                    sqlx::raw_sql(AssertSqlSafe(format!("KILL QUERY {}", self.session)))
                        .execute(&mut c)
                        .await
                        .map_err(e)?;
                    let _ = c.close().await;
                }
                // SQLite runs in this process; its progress handler ends the statement.
                Dialect::Sqlite => {}
            }
            Ok(())
        };
        tokio::time::timeout(self.opts.connect_timeout, work)
            .await
            .unwrap_or_else(|_| {
                Err(SourceError::new(
                    "cancelling: the server did not answer in time",
                ))
            })
    }
}

/// The two bind parameters of a windowed file.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from: Instant,
    pub to: Instant,
}

/// One statement the same way on every driver: begin the read-only
/// transaction, prepare (for the column names, known even with no row),
/// bind the window, stream and decode each row into `values`, hand it to
/// `on_row`, and end with ROLLBACK whatever happened.
macro_rules! read_only_statement {
    ($conn:expr, $begin:literal, $sql:expr, |$q:ident| $bind:expr, $decode:expr, $label:expr, $qerr:expr, $values:expr, $on_row:expr) => {{
        let mut tx = $conn.begin_with($begin).await.map_err($qerr)?;
        let stmt = (&mut *tx)
            .prepare(AssertSqlSafe($sql.clone()).into_sql_str())
            .await
            .map_err($qerr)?;
        let cols: Vec<String> = stmt
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        let $q = sqlx::query(AssertSqlSafe($sql));
        #[allow(unused_mut)]
        let mut decode = $decode;
        let mut rows = ($bind).fetch(&mut *tx);
        let mut failure = None;
        while let Some(row) = rows.try_next().await.map_err($qerr)? {
            // Slots are reused row after row, so text is copied, not allocated.
            $values.resize(row.len(), Value::Null);
            decode(&row, &mut $values).map_err(|e| SourceError::new(format!("{}: {e}", $label)))?;
            if let Err(e) = $on_row(&cols, &$values) {
                failure = Some(e);
                break;
            }
        }
        drop(rows);
        tx.rollback().await.map_err($qerr)?;
        match failure {
            Some(e) => Err(SourceError::new(format!("{}: {e}", $label))),
            None => Ok(cols),
        }
    }};
}

impl Source {
    pub async fn connect(opts: &SourceOptions) -> Result<Source, SourceError> {
        Self::connect_with_settings(opts, |_| {}).await
    }

    /// [`Source::connect`], with the list of [`session_settings`] edited
    /// first: how an engine that lacks a setting is tried against a server
    /// that has them all.
    pub async fn connect_with_settings(
        opts: &SourceOptions,
        edit: impl FnOnce(&mut Vec<Setting>) + Send,
    ) -> Result<Source, SourceError> {
        if let Some(pw) = &opts.password {
            secrets::register(pw);
        }
        secrets::register_url(&opts.url);
        let (dialect, database) = parse_url(&opts.url).map_err(SourceError::new)?;
        let fut = Self::connect_inner(opts, dialect, database, edit);
        match tokio::time::timeout(opts.connect_timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(SourceError::new(format!(
                "could not connect to {} within {} s (connect_timeout_s)",
                secrets::redact_url(&opts.url),
                opts.connect_timeout.as_secs()
            ))),
        }
    }

    async fn connect_inner(
        opts: &SourceOptions,
        dialect: Dialect,
        database: String,
        edit: impl FnOnce(&mut Vec<Setting>) + Send,
    ) -> Result<Source, SourceError> {
        let shown = secrets::redact_url(&opts.url);
        let timeout_s = opts.statement_timeout.as_secs().max(1);
        match dialect {
            Dialect::Postgres => {
                let mut o = PgConnectOptions::from_str(opts.url.trim())
                    .map_err(|e| db_err(&format!("bad URL {shown}"), e))?;
                if let Some(pw) = &opts.password {
                    o = o.password(pw);
                }
                let o = o.application_name("keyhole").disable_statement_logging();
                let mut c = o
                    .connect()
                    .await
                    .map_err(|e| db_err(&format!("cannot connect to {shown}"), e))?;
                let mut settings = session_settings(dialect, None, timeout_s);
                edit(&mut settings);
                let applied = apply_settings(&mut c, &settings).await?;
                let v: (String, i32) =
                    sqlx::query_as("SELECT current_setting('server_version'), pg_backend_pid()")
                        .fetch_one(&mut c)
                        .await
                        .map_err(|e| db_err("reading server version", e))?;
                Ok(Source {
                    conn: Conn::Pg(Box::new(c)),
                    dialect,
                    database,
                    statement_timeout: opts.statement_timeout,
                    server_version: v.0,
                    cancel: Some(Canceller {
                        opts: opts.clone(),
                        dialect,
                        session: i64::from(v.1),
                    }),
                    degraded: applied.degraded,
                    settings: applied.taken,
                    reading: Arc::default(),
                    server_timeout: applied.server_timeout,
                })
            }
            Dialect::Mysql => {
                let url = opts.url.trim().replacen("mariadb://", "mysql://", 1);
                let mut o = MySqlConnectOptions::from_str(&url)
                    .map_err(|e| db_err(&format!("bad URL {shown}"), e))?;
                if let Some(pw) = &opts.password {
                    o = o.password(pw);
                }
                let o = o
                    .timezone(Some("+00:00".to_string()))
                    .disable_statement_logging();
                let mut c = o
                    .connect()
                    .await
                    .map_err(|e| db_err(&format!("cannot connect to {shown}"), e))?;
                let v: (String, u64) = sqlx::query_as("SELECT VERSION(), CONNECTION_ID()")
                    .fetch_one(&mut c)
                    .await
                    .map_err(|e| db_err("reading server version", e))?;
                let flavor = if v.0.to_ascii_lowercase().contains("mariadb") {
                    MySqlFlavor::MariaDb
                } else {
                    MySqlFlavor::MySql
                };
                // Our own constant statements; never user SQL.
                let mut settings = session_settings(dialect, Some(flavor), timeout_s);
                edit(&mut settings);
                let applied = apply_settings(&mut c, &settings).await?;
                let read_only_default = applied.taken.contains(&"transaction_read_only");
                Ok(Source {
                    conn: Conn::My(Box::new(c), flavor, read_only_default),
                    dialect,
                    database,
                    statement_timeout: opts.statement_timeout,
                    server_version: v.0,
                    cancel: Some(Canceller {
                        opts: opts.clone(),
                        dialect,
                        session: v.1 as i64,
                    }),
                    degraded: applied.degraded,
                    settings: applied.taken,
                    reading: Arc::default(),
                    server_timeout: applied.server_timeout,
                })
            }
            Dialect::Sqlite => {
                let path = sqlite_path(opts.url.trim())
                    .ok_or_else(|| SourceError::new("sqlite URL has no path"))?;
                if !std::path::Path::new(&path).exists() {
                    return Err(SourceError::new(format!(
                        "cannot open {shown}: no such file {path:?}"
                    )));
                }
                let o = SqliteConnectOptions::new()
                    .filename(&path)
                    .read_only(true)
                    .create_if_missing(false)
                    .foreign_keys(false)
                    .pragma("query_only", "ON")
                    .row_buffer_size(4096)
                    .disable_statement_logging();
                let mut c = o
                    .connect()
                    .await
                    .map_err(|e| db_err(&format!("cannot open {shown}"), e))?;
                let deadline = Arc::new(AtomicI64::new(i64::MAX));
                {
                    let mut h = c
                        .lock_handle()
                        .await
                        .map_err(|e| db_err("locking the SQLite handle", e))?;
                    let raw = h.as_raw_handle();
                    // SAFETY: the handle is locked for the duration of the call and valid.
                    let attached = unsafe {
                        libsqlite3_sys::sqlite3_limit(
                            raw.as_ptr(),
                            libsqlite3_sys::SQLITE_LIMIT_ATTACHED,
                            0,
                        );
                        libsqlite3_sys::sqlite3_limit(
                            raw.as_ptr(),
                            libsqlite3_sys::SQLITE_LIMIT_ATTACHED,
                            -1,
                        )
                    };
                    if attached != 0 {
                        return Err(SourceError::new(
                            "could not forbid ATTACH on the SQLite connection",
                        ));
                    }
                    let d = deadline.clone();
                    // Returning false interrupts the running statement.
                    h.set_progress_handler(10_000, move || {
                        now_millis() < d.load(Ordering::Relaxed)
                    });
                }
                let v: (String,) = sqlx::query_as("SELECT sqlite_version()")
                    .fetch_one(&mut c)
                    .await
                    .map_err(|e| db_err("reading SQLite version", e))?;
                Ok(Source {
                    conn: Conn::Lite(Box::new(c), deadline),
                    dialect,
                    database,
                    statement_timeout: opts.statement_timeout,
                    server_version: v.0,
                    cancel: None,
                    degraded: Vec::new(),
                    settings: Vec::new(),
                    reading: Arc::default(),
                    // The progress handler keeps SQLite's deadline.
                    server_timeout: true,
                })
            }
        }
    }

    /// What this source is reading, readable from another task.
    pub fn reading(&self) -> Arc<Reading> {
        self.reading.clone()
    }

    /// A handle that cancels this session's running statement from elsewhere.
    pub fn canceller(&self) -> Option<Canceller> {
        self.cancel.clone()
    }

    pub fn mysql_flavor(&self) -> Option<MySqlFlavor> {
        match &self.conn {
            Conn::My(_, f, _) => Some(*f),
            _ => None,
        }
    }

    /// Runs one guarded statement of a query file inside a READ ONLY
    /// transaction that ends with ROLLBACK, calling `on_row` for each row
    /// with the column names and the decoded values. Returns the column
    /// names (known even when no row came back).
    pub async fn run(
        &mut self,
        label: &str,
        sql: &str,
        window: Option<Window>,
        mut on_row: impl FnMut(&[String], &[Value]) -> Result<(), value::ValueError>,
    ) -> Result<Vec<String>, SourceError> {
        let started = std::time::Instant::now();
        let mut rows = 0u64;
        let reading = self.reading.clone();
        reading.start(label);
        let result = self
            .run_statement(label, sql, window, |cols, vals| {
                rows += 1;
                reading.rows.fetch_add(1, Ordering::Relaxed);
                on_row(cols, vals)
            })
            .await;
        let ms = started.elapsed().as_millis() as u64;
        match (&result, window) {
            (Err(e), _) => tracing::warn!(query = label, rows, ms, error = %e, "statement failed"),
            // A windowed file runs once per local day: its lines are detail.
            (Ok(_), Some(_)) => tracing::debug!(query = label, rows, ms, "statement"),
            (Ok(_), None) => tracing::info!(query = label, rows, ms, "statement"),
        }
        result
    }

    async fn run_statement(
        &mut self,
        label: &str,
        sql: &str,
        window: Option<Window>,
        on_row: impl FnMut(&[String], &[Value]) -> Result<(), value::ValueError>,
    ) -> Result<Vec<String>, SourceError> {
        let sql = guard::check_select(sql, self.dialect)
            .map_err(|r| SourceError::new(format!("{label}: refused: {r}")))?;
        self.run_accepted(label, sql, window, on_row).await
    }

    /// Runs `sql` past the statement guard, behind the session's other walls
    /// only (the read-only transaction, the session defaults, one prepared
    /// statement, SQLite's read-only open, `query_only` and ATTACH limit),
    /// and counts its rows. keyhole itself never calls it: it lets the tests
    /// prove that each of those walls holds on its own.
    #[doc(hidden)]
    pub async fn run_past_the_guard(&mut self, label: &str, sql: &str) -> Result<u64, SourceError> {
        let mut n = 0;
        self.run_accepted(label, sql.to_string(), None, |_, _| {
            n += 1;
            Ok(())
        })
        .await?;
        Ok(n)
    }

    /// The database's plan for a windowed query file, without running it:
    /// `EXPLAIN` (PostgreSQL, MySQL/MariaDB) or `EXPLAIN QUERY PLAN`
    /// (SQLite) of the statement the guard accepted, never `ANALYZE`, in the
    /// same read-only transaction ended by ROLLBACK. Rows come back as text.
    pub async fn explain(
        &mut self,
        label: &str,
        sql: &str,
        window: Window,
    ) -> Result<Vec<Vec<Option<String>>>, SourceError> {
        let accepted = guard::check_select(sql, self.dialect)
            .map_err(|r| SourceError::new(format!("{label}: refused: {r}")))?;
        let prefix = match self.dialect {
            Dialect::Sqlite => "EXPLAIN QUERY PLAN",
            Dialect::Postgres | Dialect::Mysql => "EXPLAIN",
        };
        let mut out = Vec::new();
        self.run_accepted(
            label,
            format!("{prefix} {accepted}"),
            Some(window),
            |_, vals| {
                out.push(vals.iter().map(value::to_text).collect());
                Ok(())
            },
        )
        .await?;
        Ok(out)
    }

    /// Runs a statement the guard has accepted (or keyhole's own `EXPLAIN`
    /// of one), read-only, as [`Source::run`] describes.
    async fn run_accepted(
        &mut self,
        label: &str,
        sql: String,
        window: Option<Window>,
        on_row: impl FnMut(&[String], &[Value]) -> Result<(), value::ValueError>,
    ) -> Result<Vec<String>, SourceError> {
        // A server without a statement timeout of its own: a timer cancels
        // the statement from a second connection once it runs past it.
        let watchdog = match (&self.cancel, self.server_timeout) {
            (Some(c), false) => {
                let (c, fired) = (c.clone(), Arc::new(AtomicBool::new(false)));
                let (timeout, f) = (self.statement_timeout, fired.clone());
                let timer = tokio::spawn(async move {
                    tokio::time::sleep(timeout).await;
                    f.store(true, Ordering::SeqCst);
                    if let Err(e) = c.cancel().await {
                        tracing::warn!(error = %e, "cancelling a statement past its timeout");
                    }
                });
                Some((timer, fired))
            }
            _ => None,
        };
        let result = self.run_one(label, sql, window, on_row).await;
        match watchdog {
            Some((timer, fired)) => {
                timer.abort();
                match result {
                    _ if fired.load(Ordering::SeqCst) => Err(SourceError::new(format!(
                        "{label}: the statement ran past statement_timeout_s and keyhole cancelled it (the server keeps no statement timeout)"
                    ))),
                    r => r,
                }
            }
            None => result,
        }
    }

    async fn run_one(
        &mut self,
        label: &str,
        sql: String,
        window: Option<Window>,
        mut on_row: impl FnMut(&[String], &[Value]) -> Result<(), value::ValueError>,
    ) -> Result<Vec<String>, SourceError> {
        let qerr = |e: sqlx::Error| classify(label, e);
        let timeout = self.statement_timeout;
        let mut values: Vec<Value> = Vec::new();
        match &mut self.conn {
            Conn::Pg(c) => {
                let mut kinds: Vec<value::PgKind> = Vec::new();
                read_only_statement!(
                    c,
                    "BEGIN TRANSACTION READ ONLY",
                    sql,
                    |q| match window {
                        Some(w) => q.bind(w.from).bind(w.to),
                        None => q,
                    },
                    |row: &sqlx::postgres::PgRow,
                     out: &mut Vec<Value>|
                     -> Result<(), value::ValueError> {
                        // The decode plan is read once, from the first row's column types.
                        if kinds.is_empty() {
                            kinds = value::pg_kinds(row);
                        }
                        for (i, kind) in kinds.iter().enumerate() {
                            value::decode_pg_cell(row, i, *kind)?
                                .store_in(&mut out[i])
                                .map_err(|_| value::not_utf8(row, i))?;
                        }
                        Ok(())
                    },
                    label,
                    qerr,
                    values,
                    on_row
                )
            }
            Conn::My(c, _, read_only_default) => {
                // SET SESSION TRANSACTION READ WRITE survives a ROLLBACK: re-assert per statement.
                if *read_only_default {
                    sqlx::raw_sql("SET SESSION TRANSACTION READ ONLY")
                        .execute(&mut **c)
                        .await
                        .map_err(qerr)?;
                }
                read_only_statement!(
                    c,
                    "START TRANSACTION READ ONLY",
                    sql,
                    |q| match window {
                        Some(w) => q.bind(w.from.naive_utc()).bind(w.to.naive_utc()),
                        None => q,
                    },
                    |row: &sqlx::mysql::MySqlRow,
                     out: &mut Vec<Value>|
                     -> Result<(), value::ValueError> {
                        for (i, slot) in out.iter_mut().enumerate() {
                            value::decode_mysql_cell(row, i)?
                                .store_in(slot)
                                .map_err(|_| value::not_utf8(row, i))?;
                        }
                        Ok(())
                    },
                    label,
                    qerr,
                    values,
                    on_row
                )
            }
            Conn::Lite(c, deadline) => {
                deadline.store(now_millis() + timeout.as_millis() as i64, Ordering::Relaxed);
                let result = async {
                    read_only_statement!(
                        c,
                        "BEGIN DEFERRED",
                        sql,
                        |q| match window {
                            Some(w) => {
                                let f = |t: Instant| t.format("%Y-%m-%d %H:%M:%S").to_string();
                                q.bind(f(w.from)).bind(f(w.to))
                            }
                            None => q,
                        },
                        |row: &sqlx::sqlite::SqliteRow,
                         out: &mut Vec<Value>|
                         -> Result<(), value::ValueError> {
                            for (i, slot) in out.iter_mut().enumerate() {
                                value::decode_sqlite_cell(row, i)?
                                    .store_in(slot)
                                    .map_err(|_| value::not_utf8(row, i))?;
                            }
                            Ok(())
                        },
                        label,
                        qerr,
                        values,
                        on_row
                    )
                }
                .await;
                deadline.store(i64::MAX, Ordering::Relaxed);
                result
            }
        }
    }

    /// Runs one of keyhole's own fixed catalogue statements (privilege and
    /// setting checks), read-only like any other, returning rows as text.
    pub async fn probe(
        &mut self,
        sql: &'static str,
    ) -> Result<Vec<Vec<Option<String>>>, SourceError> {
        let mut out = Vec::new();
        self.run("check", sql, None, |_, vals| {
            out.push(vals.iter().map(value::to_text).collect());
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// Runs one of keyhole's own fixed statements that is not a SELECT
    /// (`SHOW GRANTS`), inside the same read-only transaction.
    pub async fn probe_show(&mut self, sql: &'static str) -> Result<Vec<String>, SourceError> {
        let qerr = |e: sqlx::Error| classify("check", e);
        match &mut self.conn {
            Conn::My(c, ..) => {
                let mut tx = c
                    .begin_with("START TRANSACTION READ ONLY")
                    .await
                    .map_err(qerr)?;
                let rows = sqlx::query(sql).fetch_all(&mut *tx).await.map_err(qerr)?;
                tx.rollback().await.map_err(qerr)?;
                let mut out = Vec::new();
                for r in rows {
                    let v = value::decode_mysql(&r, 0).map_err(SourceError::new)?;
                    out.extend(value::to_text(&v));
                }
                Ok(out)
            }
            _ => Err(SourceError::new("SHOW is only used on MySQL")),
        }
    }

    /// SQLite's walls as the open handle reports them: whether the main
    /// database is open read-only, `query_only`, and the ATTACH limit.
    pub async fn sqlite_read_only(&mut self) -> Result<SqliteWalls, SourceError> {
        let Conn::Lite(c, _) = &mut self.conn else {
            return Err(SourceError::new("not a SQLite source"));
        };
        let (ro, attach_limit) = {
            let mut h = c
                .lock_handle()
                .await
                .map_err(|e| db_err("locking the SQLite handle", e))?;
            let raw = h.as_raw_handle();
            // SAFETY: the handle is locked and valid; "main" is a NUL-terminated
            // name; a limit of -1 reads the limit without changing it.
            unsafe {
                (
                    libsqlite3_sys::sqlite3_db_readonly(raw.as_ptr(), c"main".as_ptr()),
                    libsqlite3_sys::sqlite3_limit(
                        raw.as_ptr(),
                        libsqlite3_sys::SQLITE_LIMIT_ATTACHED,
                        -1,
                    ),
                )
            }
        };
        let rows = self
            .probe("SELECT query_only FROM pragma_query_only")
            .await?;
        let query_only = rows
            .first()
            .and_then(|r| r.first().cloned().flatten())
            .unwrap_or_default();
        Ok(SqliteWalls {
            read_only: ro == 1,
            query_only,
            attach_limit,
        })
    }

    /// Is this SQLite source a keyhole demo database?
    pub async fn is_demo(&mut self) -> bool {
        self.dialect == Dialect::Sqlite
            && self
                .probe("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'keyhole_demo_meta'")
                .await
                .ok()
                .and_then(|r| r.first().and_then(|x| x.first().cloned().flatten()))
                .is_some_and(|n| n == "1")
    }

    /// Makes sure the session is alive: one the server killed, or lost in a
    /// restart, is replaced by a new session with the same settings (a retry
    /// after a failure starts here). Returns whether it was replaced. SQLite
    /// needs none.
    pub async fn revive(&mut self) -> Result<bool, SourceError> {
        let alive = match &mut self.conn {
            Conn::Pg(c) => c.ping().await.is_ok(),
            Conn::My(c, ..) => c.ping().await.is_ok(),
            Conn::Lite(..) => true,
        };
        let Some(opts) = self.cancel.as_ref().map(|c| c.opts.clone()) else {
            return Ok(false);
        };
        if alive {
            return Ok(false);
        }
        tracing::warn!("the source's session was lost; connecting again");
        // Connected on a thread of its own: the driver's connect future is
        // not Send for every lifetime, which a load's spawned task needs.
        let handle = tokio::runtime::Handle::current();
        let fresh = tokio::task::spawn_blocking(move || handle.block_on(Source::connect(&opts)))
            .await
            .map_err(|_| SourceError::new("connecting again: the connecting thread failed"))??;
        let reading = self.reading.clone();
        *self = Source { reading, ..fresh };
        Ok(true)
    }

    pub async fn close(self) {
        match self.conn {
            Conn::Pg(c) => {
                let _ = c.close().await;
            }
            Conn::My(c, ..) => {
                let _ = c.close().await;
            }
            Conn::Lite(c, _) => {
                let _ = c.close().await;
            }
        }
    }
}

fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Turns a driver error into one line, naming a timeout as such.
fn classify(label: &str, e: sqlx::Error) -> SourceError {
    if let sqlx::Error::Database(db) = &e {
        let code = db.code().map(|c| c.to_string()).unwrap_or_default();
        let msg = db.message();
        if msg.contains("user request") || (code == "70100" && !msg.contains("max_statement_time"))
        {
            return SourceError::new(format!("{label}: cancelled ({msg})"));
        }
        if code == "57014"
            || code == "70100"
            || msg.contains("max_statement_time")
            || msg.contains("interrupted")
        {
            return SourceError::new(format!(
                "{label}: the statement ran past statement_timeout_s and the server stopped it ({msg})"
            ));
        }
        if code == "25006"
            || msg.contains("read-only")
            || msg.contains("READ ONLY")
            || msg.contains("readonly")
        {
            return SourceError::new(format!("{label}: refused by the read-only session: {msg}"));
        }
        return SourceError::new(format!("{label}: {msg}"));
    }
    db_err(label, e)
}
