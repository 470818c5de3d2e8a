//! Writes the demo retailer's tables into a fresh SQLite file, or into an
//! empty PostgreSQL or MySQL/MariaDB database (for tests and trials of
//! `keyhole check`). This is the only code in keyhole that writes to a
//! database, and it refuses any target that already holds a table.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::mysql::MySqlConnection;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Database, Encode, Executor, Type};
use std::str::FromStr;

use super::DemoError;
use super::schema::{self, TableDef};
use crate::source::Dialect;

#[derive(Debug, Clone, PartialEq)]
pub enum DVal {
    Null,
    Int(i64),
    Text(String),
    Ts(DateTime<Utc>),
    Date(NaiveDate),
}

impl From<i64> for DVal {
    fn from(v: i64) -> Self {
        DVal::Int(v)
    }
}
impl From<&str> for DVal {
    fn from(v: &str) -> Self {
        DVal::Text(v.to_string())
    }
}
impl From<String> for DVal {
    fn from(v: String) -> Self {
        DVal::Text(v)
    }
}
impl From<DateTime<Utc>> for DVal {
    fn from(v: DateTime<Utc>) -> Self {
        DVal::Ts(v)
    }
}
impl<T: Into<DVal>> From<Option<T>> for DVal {
    fn from(v: Option<T>) -> Self {
        v.map_or(DVal::Null, Into::into)
    }
}

pub type DRow = Vec<DVal>;

pub enum DemoDb {
    Sqlite(Box<SqliteConnection>),
    Pg(Box<PgConnection>),
    My(Box<MySqlConnection>),
}

type Res<T> = Result<T, DemoError>;

fn e(ctx: &str) -> impl Fn(sqlx::Error) -> DemoError + '_ {
    move |x| DemoError(crate::secrets::redact(&format!("{ctx}: {x}")))
}

impl DemoDb {
    pub async fn create_sqlite(path: &std::path::Path) -> Res<DemoDb> {
        let o = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Off)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Off)
            .disable_statement_logging();
        let c = o.connect().await.map_err(e("creating the demo database"))?;
        Ok(DemoDb::Sqlite(Box::new(c)))
    }

    /// Connects to an existing, empty PostgreSQL or MySQL database.
    pub async fn connect_empty(url: &str, password: Option<&str>) -> Res<DemoDb> {
        let (dialect, _) = crate::source::parse_url(url)?;
        let mut db = match dialect {
            Dialect::Postgres => {
                let mut o =
                    sqlx::postgres::PgConnectOptions::from_str(url).map_err(e("bad URL"))?;
                if let Some(p) = password {
                    o = o.password(p);
                }
                DemoDb::Pg(Box::new(
                    o.disable_statement_logging()
                        .connect()
                        .await
                        .map_err(e("connecting"))?,
                ))
            }
            Dialect::Mysql => {
                let url = url.replacen("mariadb://", "mysql://", 1);
                let mut o =
                    sqlx::mysql::MySqlConnectOptions::from_str(&url).map_err(e("bad URL"))?;
                if let Some(p) = password {
                    o = o.password(p);
                }
                DemoDb::My(Box::new(
                    o.disable_statement_logging()
                        .connect()
                        .await
                        .map_err(e("connecting"))?,
                ))
            }
            Dialect::Sqlite => return Err("use --path for a SQLite demo".into()),
        };
        let count: i64 = match &mut db {
            DemoDb::Pg(c) => sqlx::query_scalar(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog','information_schema')",
            )
            .fetch_one(&mut **c)
            .await
            .map_err(e("listing tables"))?,
            DemoDb::My(c) => sqlx::query_scalar(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE()",
            )
            .fetch_one(&mut **c)
            .await
            .map_err(e("listing tables"))?,
            DemoDb::Sqlite(_) => 0,
        };
        if count > 0 {
            return Err(format!(
                "{}: the database already holds {count} table(s); the demo loads only into an empty database",
                crate::secrets::redact_url(url)
            ).into());
        }
        Ok(db)
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            DemoDb::Sqlite(_) => Dialect::Sqlite,
            DemoDb::Pg(_) => Dialect::Postgres,
            DemoDb::My(_) => Dialect::Mysql,
        }
    }

    async fn exec(&mut self, sql: String) -> Res<()> {
        let ctx = "building the demo schema";
        match self {
            DemoDb::Sqlite(c) => (&mut **c)
                .execute(AssertSqlSafe(sql))
                .await
                .map(|_| ())
                .map_err(e(ctx)),
            DemoDb::Pg(c) => (&mut **c)
                .execute(AssertSqlSafe(sql))
                .await
                .map(|_| ())
                .map_err(e(ctx)),
            DemoDb::My(c) => (&mut **c)
                .execute(AssertSqlSafe(sql))
                .await
                .map(|_| ())
                .map_err(e(ctx)),
        }
    }

    pub async fn begin(&mut self) -> Res<()> {
        let stmt = if self.dialect() == Dialect::Mysql {
            "START TRANSACTION"
        } else {
            "BEGIN"
        };
        self.exec(stmt.into()).await
    }

    pub async fn commit(&mut self) -> Res<()> {
        self.exec("COMMIT".into()).await
    }

    pub async fn create_schema(&mut self) -> Res<()> {
        let d = self.dialect();
        if d == Dialect::Postgres {
            self.exec("CREATE TYPE customer_tier AS ENUM ('standard', 'vip')".into())
                .await?;
        }
        for t in schema::ALL {
            self.exec(t.ddl(d)).await?;
        }
        Ok(())
    }

    pub async fn create_indexes(&mut self) -> Res<()> {
        for i in schema::indexes() {
            self.exec(i.to_string()).await?;
        }
        Ok(())
    }

    /// Inserts rows in multi-row statements.
    pub async fn insert(&mut self, t: &TableDef, rows: &[DRow]) -> Res<()> {
        let d = self.dialect();
        let per = (if d == Dialect::Sqlite { 4000 } else { 1000 } / t.columns.len()).max(1);
        for chunk in rows.chunks(per) {
            let sql = insert_sql(t, d, chunk.len());
            let ctx = format!("inserting into {}", t.name);
            match self {
                DemoDb::Sqlite(c) => bind_rows(sqlx::query(AssertSqlSafe(sql)), t, chunk, d)
                    .execute(&mut **c)
                    .await
                    .map_err(e(&ctx))?
                    .rows_affected(),
                DemoDb::Pg(c) => bind_rows(sqlx::query(AssertSqlSafe(sql)), t, chunk, d)
                    .execute(&mut **c)
                    .await
                    .map_err(e(&ctx))?
                    .rows_affected(),
                DemoDb::My(c) => bind_rows(sqlx::query(AssertSqlSafe(sql)), t, chunk, d)
                    .execute(&mut **c)
                    .await
                    .map_err(e(&ctx))?
                    .rows_affected(),
            };
        }
        Ok(())
    }

    pub async fn close(self) {
        match self {
            DemoDb::Sqlite(c) => drop(c.close().await),
            DemoDb::Pg(c) => drop(c.close().await),
            DemoDb::My(c) => drop(c.close().await),
        }
    }
}

fn insert_sql(t: &TableDef, d: Dialect, n: usize) -> String {
    let names: Vec<&str> = t.columns.iter().map(|c| c.name).collect();
    let mut sql = format!("INSERT INTO {} ({}) VALUES ", t.name, names.join(", "));
    let mut p = 1;
    for r in 0..n {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for i in 0..t.columns.len() {
            if i > 0 {
                sql.push(',');
            }
            match d {
                Dialect::Postgres => {
                    sql.push_str(&format!("${p}{}", t.pg_cast(i)));
                    p += 1;
                }
                _ => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql
}

fn bind_rows<'q, DB: Database>(
    mut q: sqlx::query::Query<'q, DB, <DB as Database>::Arguments>,
    t: &TableDef,
    rows: &[DRow],
    d: Dialect,
) -> sqlx::query::Query<'q, DB, <DB as Database>::Arguments>
where
    Option<i64>: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    Option<DateTime<Utc>>: Encode<'q, DB> + Type<DB>,
    Option<chrono::NaiveDateTime>: Encode<'q, DB> + Type<DB>,
    Option<NaiveDate>: Encode<'q, DB> + Type<DB>,
{
    for row in rows {
        for (i, v) in row.iter().enumerate() {
            q = match (v, d) {
                (DVal::Null, _) => match (t.columns[i].postgres, d) {
                    (ty, _) if ty.starts_with("BIGINT") => q.bind(None::<i64>),
                    ("TIMESTAMPTZ", Dialect::Postgres) => q.bind(None::<DateTime<Utc>>),
                    ("TIMESTAMPTZ", Dialect::Mysql) => q.bind(None::<chrono::NaiveDateTime>),
                    ("DATE", Dialect::Postgres | Dialect::Mysql) => q.bind(None::<NaiveDate>),
                    _ => q.bind(None::<String>),
                },
                (DVal::Int(i), _) => q.bind(Some(*i)),
                (DVal::Text(s), _) => q.bind(Some(s.clone())),
                (DVal::Ts(t), Dialect::Sqlite) => {
                    q.bind(Some(t.format("%Y-%m-%d %H:%M:%S").to_string()))
                }
                (DVal::Ts(t), Dialect::Postgres) => q.bind(Some(*t)),
                (DVal::Ts(t), Dialect::Mysql) => q.bind(Some(t.naive_utc())),
                (DVal::Date(x), Dialect::Sqlite) => q.bind(Some(x.format("%Y-%m-%d").to_string())),
                (DVal::Date(x), _) => q.bind(Some(*x)),
            };
        }
    }
    q
}
