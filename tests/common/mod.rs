//! Scratch databases on the machine's PostgreSQL and MariaDB servers: one
//! per test, created empty, dropped afterwards. Without a reachable server a
//! test skips with a printed reason, unless KEYHOLE_REQUIRE_DBS=1, where it
//! fails.

#![allow(dead_code)]

pub mod cluster;
pub mod mariadb;

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor};

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const MY_ADMIN: &str = "mysql://root@127.0.0.1:3306/test";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    Postgres,
    Mariadb,
}

pub fn require_dbs() -> bool {
    std::env::var("KEYHOLE_REQUIRE_DBS").is_ok_and(|v| v == "1")
}

/// An empty database that is dropped when this value goes.
pub struct Scratch {
    pub server: Server,
    pub name: String,
}

impl Scratch {
    /// URL as the admin user.
    pub fn url(&self) -> String {
        match self.server {
            Server::Postgres => format!("postgres://postgres@127.0.0.1:5432/{}", self.name),
            Server::Mariadb => format!("mysql://root@127.0.0.1:3306/{}", self.name),
        }
    }

    /// Runs admin SQL (fixtures) in this database.
    pub async fn admin(&self, statements: &[&str]) {
        match self.server {
            Server::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url())
                    .await
                    .expect("admin connect");
                for s in statements {
                    c.execute(AssertSqlSafe(s.to_string()))
                        .await
                        .unwrap_or_else(|e| panic!("{s}: {e}"));
                }
                c.close().await.ok();
            }
            Server::Mariadb => {
                let mut c = sqlx::MySqlConnection::connect(&self.url())
                    .await
                    .expect("admin connect");
                for s in statements {
                    c.execute(AssertSqlSafe(s.to_string()))
                        .await
                        .unwrap_or_else(|e| panic!("{s}: {e}"));
                }
                c.close().await.ok();
            }
        }
    }

    /// One text value from admin SQL.
    pub async fn admin_text(&self, sql: &str) -> String {
        match self.server {
            Server::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url())
                    .await
                    .expect("admin connect");
                let v: Option<String> = sqlx::query_scalar(AssertSqlSafe(sql.to_string()))
                    .fetch_one(&mut c)
                    .await
                    .expect(sql);
                c.close().await.ok();
                v.unwrap_or_default()
            }
            Server::Mariadb => {
                let mut c = sqlx::MySqlConnection::connect(&self.url())
                    .await
                    .expect("admin connect");
                let v: Option<String> = sqlx::query_scalar(AssertSqlSafe(sql.to_string()))
                    .fetch_one(&mut c)
                    .await
                    .expect(sql);
                c.close().await.ok();
                v.unwrap_or_default()
            }
        }
    }

    /// Creates a login that may only SELECT in this database; returns its URL.
    pub async fn read_only_login(&self) -> String {
        let role = format!("{}_ro", self.name);
        match self.server {
            Server::Postgres => {
                self.admin(&[
                    &format!("DROP ROLE IF EXISTS {role}"),
                    &format!("CREATE ROLE {role} LOGIN"),
                    &format!("GRANT CONNECT ON DATABASE {} TO {role}", self.name),
                    &format!("GRANT USAGE ON SCHEMA public TO {role}"),
                    &format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"),
                ])
                .await;
                format!("postgres://{role}@127.0.0.1:5432/{}", self.name)
            }
            Server::Mariadb => {
                self.admin(&[
                    &format!("DROP USER IF EXISTS '{role}'@'%'"),
                    &format!("DROP USER IF EXISTS '{role}'@'localhost'"),
                    &format!("CREATE USER '{role}'@'%'"),
                    &format!("CREATE USER '{role}'@'localhost'"),
                    &format!("GRANT SELECT ON {}.* TO '{role}'@'%'", self.name),
                    &format!("GRANT SELECT ON {}.* TO '{role}'@'localhost'", self.name),
                ])
                .await;
                format!("mysql://{role}@127.0.0.1:3306/{}", self.name)
            }
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let (server, name) = (self.server, self.name.clone());
        // Drop runs outside any runtime guarantee: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                match server {
                    Server::Postgres => {
                        if let Ok(mut c) = sqlx::PgConnection::connect(PG_ADMIN).await {
                            let _ = c
                                .execute(AssertSqlSafe(format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                )))
                                .await;
                            let _ = c
                                .execute(AssertSqlSafe(format!("DROP ROLE IF EXISTS {name}_ro")))
                                .await;
                        }
                    }
                    Server::Mariadb => {
                        if let Ok(mut c) = sqlx::MySqlConnection::connect(MY_ADMIN).await {
                            let _ = c
                                .execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
                                .await;
                            let _ = c
                                .execute(AssertSqlSafe(format!(
                                    "DROP USER IF EXISTS '{name}_ro'@'%'"
                                )))
                                .await;
                            let _ = c
                                .execute(AssertSqlSafe(format!(
                                    "DROP USER IF EXISTS '{name}_ro'@'localhost'"
                                )))
                                .await;
                        }
                    }
                }
            });
        })
        .join();
    }
}

/// A new empty database on `server`, or None (printed) when the server is
/// unreachable and KEYHOLE_REQUIRE_DBS is not 1.
pub async fn scratch(server: Server) -> Option<Scratch> {
    let name = format!(
        "kh_t{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let admin = match server {
        Server::Postgres => sqlx::postgres::PgConnectOptions::new()
            .host("127.0.0.1")
            .username("postgres")
            .database("test")
            .disable_statement_logging()
            .connect()
            .await
            .map(Admin::Pg),
        Server::Mariadb => sqlx::MySqlConnection::connect(MY_ADMIN)
            .await
            .map(Admin::My),
    };
    let mut admin = match admin {
        Ok(c) => c,
        // Only a server that cannot be reached is a reason to skip; one that
        // answers and refuses (a login, a missing database) is a failure.
        Err(e) if !cannot_connect(&e) => {
            panic!("{server:?} answered but refused the test's admin login: {e}")
        }
        Err(e) if require_dbs() => {
            panic!("KEYHOLE_REQUIRE_DBS=1 but {server:?} is unreachable: {e}")
        }
        Err(e) => {
            skip(&format!(
                "{server:?} is unreachable ({e}); set KEYHOLE_REQUIRE_DBS=1 to fail instead"
            ));
            return None;
        }
    };
    let made = match &mut admin {
        Admin::Pg(c) => c
            .execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .map(|_| ()),
        Admin::My(c) => c
            .execute(AssertSqlSafe(format!(
                "CREATE DATABASE {name} CHARACTER SET utf8mb4"
            )))
            .await
            .map(|_| ()),
    };
    if let Err(e) = made {
        panic!("{server:?}: CREATE DATABASE {name}: {e}");
    }
    Some(Scratch { server, name })
}

enum Admin {
    Pg(sqlx::PgConnection),
    My(sqlx::MySqlConnection),
}

/// Whether a connection failed before any server answered (refused, no
/// route, timed out), as opposed to a server that answered with an error.
pub fn cannot_connect(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_)
    )
}

/// Says why a test is skipped where `cargo test` shows it: written to the
/// process's stderr directly, past the harness's capture of `eprintln!`.
pub fn skip(why: &str) {
    use std::io::Write;
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    let _ = writeln!(std::io::stderr(), "skipping {test}: {why}");
}

pub fn source_options(url: &str) -> keyhole::source::SourceOptions {
    keyhole::source::SourceOptions {
        url: url.to_string(),
        password: None,
        statement_timeout: std::time::Duration::from_secs(30),
        connect_timeout: std::time::Duration::from_secs(10),
    }
}

/// The demo (5,000 events, seed 5) judged over October 2026 as the
/// dashboard loads it, as of 2026-11-01T12:00:00Z.
pub async fn judged_demo(dir: &std::path::Path) -> std::sync::Arc<keyhole::tui::data::Dataset> {
    judged_demo_over(
        dir,
        ("2026-10-02T04:00:00Z", "2026-11-01T04:00:00Z"),
        Vec::new(),
    )
    .await
}

/// The same demo with the captured pgAudit log read beside it, over the
/// last week of November 2026 and the day of the capture.
pub async fn judged_demo_with_audit_log(
    dir: &std::path::Path,
) -> std::sync::Arc<keyhole::tui::data::Dataset> {
    let log = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/audit-logs/postgres.log");
    judged_demo_over(
        dir,
        ("2026-11-25T05:00:00Z", "2026-12-02T05:00:00Z"),
        vec![keyhole::dblog::LogSpec::new(log)],
    )
    .await
}

/// The demo with these audit logs beside it, over the capture's week.
pub async fn judged_demo_with_logs(
    dir: &std::path::Path,
    logs: Vec<keyhole::dblog::LogSpec>,
) -> std::sync::Arc<keyhole::tui::data::Dataset> {
    judged_demo_over(dir, ("2026-11-25T05:00:00Z", "2026-12-02T05:00:00Z"), logs).await
}

async fn judged_demo_over(
    dir: &std::path::Path,
    (from, to): (&str, &str),
    logs: Vec<keyhole::dblog::LogSpec>,
) -> std::sync::Arc<keyhole::tui::data::Dataset> {
    let path = dir.join("demo.sqlite");
    let s = keyhole::demo::DemoSettings {
        events: 5000,
        seed: 5,
        anchor: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
    };
    keyhole::demo::ensure_sqlite(&path, &s, false, |_| {})
        .await
        .unwrap();
    let src =
        keyhole::source::Source::connect(&source_options(&format!("sqlite://{}", path.display())))
            .await
            .unwrap();
    let policy = keyhole::policy::Policy::demo();
    let t = |s: &str| -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().into()
    };
    let now = t("2026-11-01T12:00:00Z").max(t(to));
    let window = keyhole::audit::AuditWindow {
        from: t(from),
        to: t(to),
        as_of: now,
    };
    let (src, d) = keyhole::tui::data::load(
        src,
        keyhole::tui::data::Inputs {
            queries: keyhole::source::queries::QuerySet::builtin(keyhole::source::Dialect::Sqlite),
            logs,
        },
        policy,
        window,
        now,
        &std::sync::atomic::AtomicBool::new(false),
        |_| {},
    )
    .await;
    src.close().await;
    std::sync::Arc::from(d.unwrap())
}

/// A campaign over October 2026 as the ledger would replay it, for screens
/// and headless tests that need one without a ledger.
pub fn october_campaign(
    id: i64,
    name: &str,
    items: Vec<(keyhole::ledger::Item, Option<keyhole::ledger::Verdict>)>,
) -> keyhole::ledger::CampaignState {
    keyhole::ledger::CampaignState {
        campaign: keyhole::ledger::Campaign {
            id,
            name: name.into(),
            from: "2026-10-02T04:00:00Z".into(),
            to: "2026-11-01T04:00:00Z".into(),
            as_of: "2026-11-01T12:00:00Z".into(),
            created_by: "reviewer".into(),
            created_at: "2026-11-02T09:00:00Z".into(),
            policy_sha256: String::new(),
            query_sha256: Default::default(),
            filters: serde_json::Value::Null,
            source: serde_json::Value::Null,
            seq: 1,
        },
        items,
    }
}

/// What a run of the keyhole binary gave.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The keyhole binary to run in `home`, cut off from the machine's config,
/// data and state (its XDG folders are under `home`), from `DATABASE_URL`
/// and from a backtrace setting.
pub fn keyhole_command(home: &std::path::Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_keyhole"));
    c.current_dir(home)
        .env_remove("DATABASE_URL")
        .env_remove("KEYHOLE_CONFIG")
        .env_remove("RUST_BACKTRACE")
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"));
    c
}

/// Runs [`keyhole_command`] with `args`, and `env` set on top.
pub fn keyhole_in(home: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let o = keyhole_command(home)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run keyhole");
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into(),
        stderr: String::from_utf8_lossy(&o.stderr).into(),
    }
}
