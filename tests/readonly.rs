//! Read-only proofs: on each server, hostile query files are refused by the
//! guard or fail at the server, and every table is unchanged afterwards.
//! The source connects as a superuser on purpose: the walls must hold even
//! for a role that could write.

mod common;

use std::time::Duration;

use common::{Scratch, Server, scratch, source_options};
use keyhole::source::Source;

async fn run(src: &mut Source, sql: &str) -> Result<usize, String> {
    let mut n = 0;
    src.run("hostile.sql", sql, None, |_, _| {
        n += 1;
        Ok(())
    })
    .await
    .map(|_| n)
    .map_err(|e| e.to_string())
}

const PG_FIXTURE: &[&str] = &[
    "CREATE TABLE victims (id int PRIMARY KEY, name text)",
    "INSERT INTO victims VALUES (1, 'a'), (2, 'b'), (3, 'c')",
    "CREATE SEQUENCE s",
    "CREATE FUNCTION lift() RETURNS text LANGUAGE sql AS $$ SELECT set_config('default_transaction_read_only', 'off', false) $$",
    "CREATE FUNCTION wipe() RETURNS int LANGUAGE plpgsql AS $$ BEGIN DELETE FROM victims; RETURN 1; END $$",
    "CREATE FUNCTION bump() RETURNS bigint LANGUAGE sql AS $$ SELECT nextval('s') $$",
    "CREATE PROCEDURE p() LANGUAGE sql AS $$ DELETE FROM victims $$",
];

const PG_CHECKSUM: &str = "SELECT md5(string_agg(id::text || ':' || name, ',' ORDER BY id)) || '|' || \
                           (SELECT last_value::text || is_called::text FROM s) FROM victims";

const MY_FIXTURE: &[&str] = &[
    "CREATE TABLE victims (id INT PRIMARY KEY, name VARCHAR(10))",
    "INSERT INTO victims VALUES (1, 'a'), (2, 'b'), (3, 'c')",
    "CREATE SEQUENCE s",
    "CREATE FUNCTION wipe() RETURNS INT MODIFIES SQL DATA BEGIN DELETE FROM victims; RETURN 1; END",
    "CREATE FUNCTION bump() RETURNS BIGINT MODIFIES SQL DATA BEGIN RETURN NEXTVAL(s); END",
    "CREATE PROCEDURE p() MODIFIES SQL DATA DELETE FROM victims",
];

const MY_CHECKSUM: &str = "SELECT CONCAT(MD5(GROUP_CONCAT(CONCAT(id, ':', name) ORDER BY id)), '|', \
                           (SELECT next_not_cached_value FROM s)) FROM victims";

/// How the guard's refusal of a hostile file begins.
const GUARD: &str = "hostile.sql: refused: line ";
/// How a refusal by the server's read-only session begins.
const SERVER: &str = "hostile.sql: refused by the read-only session: ";

/// A SQLite file `name` in `dir`, made by `sql` over a writable connection
/// that is closed before keyhole opens the file.
async fn sqlite_file(dir: &std::path::Path, name: &str, sql: &str) -> std::path::PathBuf {
    use sqlx::{ConnectOptions, Connection, Executor};
    let path = dir.join(name);
    let mut c = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .connect()
        .await
        .unwrap();
    c.execute(sqlx::AssertSqlSafe(sql.to_string()))
        .await
        .unwrap();
    c.close().await.unwrap();
    path
}

/// The cases every server must refuse.
fn common_cases() -> Vec<&'static str> {
    vec![
        "DELETE FROM victims",
        "SELECT 1; DELETE FROM victims",
        "SELECT 1 AS one;\nDELETE FROM victims;",
        "WITH d AS (DELETE FROM victims RETURNING *) SELECT * FROM d",
        "CALL p()",
        "SELECT * FROM victims FOR UPDATE",
        "UPDATE victims SET name = 'x'",
    ]
}

async fn prove(
    s: &Scratch,
    fixture: &[&str],
    checksum: &str,
    extra: &[&str],
    server_side: &[&str],
) {
    let src = Source::connect(&source_options(&s.url()))
        .await
        .expect("connect");
    prove_on(s, src, fixture, checksum, extra, server_side).await;
}

/// [`prove`] on a session the caller opened (one whose server refused a
/// setting, say).
async fn prove_on(
    s: &Scratch,
    mut src: Source,
    fixture: &[&str],
    checksum: &str,
    extra: &[&str],
    server_side: &[&str],
) {
    s.admin(fixture).await;
    let before = s.admin_text(checksum).await;
    for sql in common_cases().iter().chain(extra) {
        let r = run(&mut src, sql).await;
        assert!(
            r.as_ref().is_err_and(|e| e.starts_with(GUARD)),
            "{sql:?} must be refused by the guard: {r:?}"
        );
    }
    for sql in server_side {
        let r = run(&mut src, sql).await;
        assert!(
            r.as_ref().is_err_and(|e| e.starts_with(SERVER)),
            "{sql:?} must be refused by the server's read-only transaction: {r:?}"
        );
    }
    // The session is still read-only and usable afterwards.
    assert_eq!(run(&mut src, "SELECT 1").await, Ok(1));
    src.close().await;
    assert_eq!(
        s.admin_text(checksum).await,
        before,
        "a table or sequence changed"
    );
}

#[tokio::test]
async fn postgres_refuses_every_write_and_tables_stay_unchanged() {
    let Some(s) = scratch(Server::Postgres).await else {
        return;
    };
    prove(
        &s,
        PG_FIXTURE,
        PG_CHECKSUM,
        &[
            "SELECT set_config('default_transaction_read_only', 'off', false)",
            "SELECT nextval('s')",
            "SELECT pg_advisory_xact_lock(1)",
            "SELECT $$;$$; DELETE FROM victims",
        ],
        // Side effects hidden in functions pass the guard and meet the server's wall.
        &["SELECT wipe()", "SELECT bump()"],
    )
    .await;
}

#[tokio::test]
async fn postgres_lifting_read_only_in_one_file_does_not_let_the_next_file_write() {
    let Some(s) = scratch(Server::Postgres).await else {
        return;
    };
    s.admin(PG_FIXTURE).await;
    let before = s.admin_text(PG_CHECKSUM).await;
    let mut src = Source::connect(&source_options(&s.url()))
        .await
        .expect("connect");
    // A plain SELECT that calls a function which lifts the session default.
    assert_eq!(run(&mut src, "SELECT lift()").await, Ok(1));
    let r = run(&mut src, "SELECT wipe()").await;
    assert!(r.as_ref().is_err_and(|e| e.contains("read-only")), "{r:?}");
    let setting = src
        .probe("SELECT current_setting('default_transaction_read_only')")
        .await
        .unwrap();
    assert_eq!(
        setting[0][0].as_deref(),
        Some("on"),
        "ROLLBACK must undo the lifted setting"
    );
    src.close().await;
    assert_eq!(s.admin_text(PG_CHECKSUM).await, before);
}

#[tokio::test]
async fn mariadb_refuses_every_write_and_tables_stay_unchanged() {
    let Some(s) = scratch(Server::Mariadb).await else {
        return;
    };
    prove(
        &s,
        MY_FIXTURE,
        MY_CHECKSUM,
        &[
            "SELECT NEXTVAL(s)",
            "SELECT GET_LOCK('k', 1)",
            "SELECT * FROM victims LOCK IN SHARE MODE",
            "SELECT 1 /*!99999 ; DELETE FROM victims */",
            "SELECT * INTO OUTFILE '/tmp/kh-leak' FROM victims",
        ],
        &["SELECT wipe()", "SELECT bump()"],
    )
    .await;
}

#[tokio::test]
async fn sqlite_is_opened_read_only_and_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = sqlite_file(
        dir.path(),
        "victims.sqlite",
        "CREATE TABLE victims (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO victims VALUES (1,'a'),(2,'b');",
    )
    .await;
    let bytes_before = std::fs::read(&path).unwrap();
    let url = format!("sqlite://{}", path.display());
    let mut src = Source::connect(&source_options(&url))
        .await
        .expect("connect");
    assert_eq!(
        src.sqlite_read_only().await.unwrap(),
        keyhole::source::SqliteWalls {
            read_only: true,
            query_only: "1".to_string(),
            attach_limit: 0,
        }
    );
    for sql in common_cases().iter().chain(&[
        "SELECT load_extension('/tmp/evil')",
        "SELECT 1; PRAGMA query_only = OFF",
        "SELECT 1; ATTACH DATABASE '/tmp/other.db' AS other",
        "SELECT [a;b] FROM victims; DROP TABLE victims",
    ]) {
        let r = run(&mut src, sql).await;
        assert!(
            r.as_ref().is_err_and(|e| e.starts_with(GUARD)),
            "{sql:?} must be refused by the guard: {r:?}"
        );
    }
    assert_eq!(run(&mut src, "SELECT * FROM victims").await, Ok(2));
    src.close().await;
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes_before,
        "the file changed"
    );
}

#[tokio::test]
async fn postgres_statement_timeout_stops_the_query_at_the_server() {
    let Some(s) = scratch(Server::Postgres).await else {
        return;
    };
    let mut o = source_options(&s.url());
    o.statement_timeout = Duration::from_secs(1);
    let mut src = Source::connect(&o).await.unwrap();
    let r = run(&mut src, "SELECT pg_sleep(5)").await;
    assert!(
        r.as_ref().is_err_and(|e| e.contains("statement_timeout_s")),
        "{r:?}"
    );
    assert_eq!(
        run(&mut src, "SELECT 1").await,
        Ok(1),
        "the connection is usable afterwards"
    );
    src.close().await;
}

#[tokio::test]
async fn mariadb_statement_timeout_stops_the_query_at_the_server() {
    let Some(s) = scratch(Server::Mariadb).await else {
        return;
    };
    let mut o = source_options(&s.url());
    o.statement_timeout = Duration::from_secs(1);
    let mut src = Source::connect(&o).await.unwrap();
    // Work the server must interrupt (SLEEP and BENCHMARK return early
    // without an error).
    let started = std::time::Instant::now();
    let r = run(&mut src, BUSY_MARIADB).await;
    assert!(
        r.as_ref().is_err_and(|e| e.contains(
            "hostile.sql: the statement ran past statement_timeout_s and the server stopped it"
        ) && e.contains("max_statement_time")),
        "{r:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the server let it run"
    );
    assert_eq!(run(&mut src, "SELECT 1").await, Ok(1));
    src.close().await;
}

/// Minutes of work on MariaDB (its Sequence engine), in one statement the
/// guard accepts.
const BUSY_MARIADB: &str =
    "SELECT count(*) AS busy FROM seq_1_to_100000 a, seq_1_to_100000 b WHERE a.seq + b.seq = 7";

#[tokio::test]
async fn sqlite_statement_timeout_interrupts_an_endless_query() {
    let dir = tempfile::tempdir().unwrap();
    let path = sqlite_file(dir.path(), "t.sqlite", "CREATE TABLE t (x INTEGER)").await;
    let mut o = source_options(&format!("sqlite://{}", path.display()));
    o.statement_timeout = Duration::from_secs(1);
    let mut src = Source::connect(&o).await.unwrap();
    // A hang guard: an endless query that is never interrupted fails the
    // test instead of hanging it.
    let r = tokio::time::timeout(
        Duration::from_secs(30),
        run(
            &mut src,
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
        ),
    )
    .await
    .expect("the statement timeout never interrupted the query");
    assert!(
        r.as_ref().is_err_and(|e| e.contains(
            "hostile.sql: the statement ran past statement_timeout_s and the server stopped it (interrupted)"
        )),
        "{r:?}"
    );
    assert_eq!(run(&mut src, "SELECT 1").await, Ok(1));
    src.close().await;
}

/// Cancels a long statement from a second connection once the server shows
/// it running, then checks that the server no longer runs it and that the
/// session is usable.
async fn cancel_reaches_the_server(server: Server, busy: &'static str) {
    let Some(s) = scratch(server).await else {
        return;
    };
    let mut o = source_options(&s.url());
    o.statement_timeout = Duration::from_secs(120);
    let mut src = Source::connect(&o).await.unwrap();
    let cancel = src.canceller().expect("a server source can be cancelled");
    let running = tokio::spawn(async move {
        let r = run(&mut src, busy).await;
        (src, r)
    });
    let count = match server {
        Server::Postgres => format!(
            "SELECT count(*)::text FROM pg_stat_activity WHERE datname = '{}' AND state = 'active' AND query LIKE '%busy%' AND pid <> pg_backend_pid()",
            s.name
        ),
        Server::Mariadb => format!(
            "SELECT CAST(count(*) AS CHAR) FROM information_schema.PROCESSLIST WHERE DB = '{}' AND INFO LIKE '%busy%' AND ID <> CONNECTION_ID()",
            s.name
        ),
    };
    let mut seen = false;
    for _ in 0..500 {
        if s.admin_text(&count).await == "1" {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(seen, "the statement never showed as running");
    cancel.cancel().await.unwrap();
    let (mut src, r) = tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("the cancelled statement went on")
        .unwrap();
    assert!(
        r.as_ref()
            .is_err_and(|e| e.starts_with("hostile.sql: cancelled")),
        "{r:?}"
    );
    // The server may take a moment to clear the killed statement away.
    let mut gone = false;
    for _ in 0..100 {
        if s.admin_text(&count).await == "0" {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        gone,
        "the server still runs the cancelled statement after 5 s"
    );
    assert_eq!(
        run(&mut src, "SELECT 1").await,
        Ok(1),
        "the session is usable afterwards"
    );
    src.close().await;
}

#[tokio::test]
async fn postgres_cancel_stops_the_statement_on_the_server() {
    cancel_reaches_the_server(Server::Postgres, "SELECT pg_sleep(60) AS busy").await;
}

#[tokio::test]
async fn mariadb_cancel_stops_the_statement_on_the_server() {
    cancel_reaches_the_server(Server::Mariadb, BUSY_MARIADB).await;
}

/// Connects as an engine would that lacks the named setting: its statement
/// is replaced by one this server refuses in the same way (an unknown
/// parameter).
async fn connect_without(
    url: &str,
    missing: keyhole::source::SettingRole,
    refused: &str,
) -> Result<Source, String> {
    let mut o = source_options(url);
    o.statement_timeout = Duration::from_secs(1);
    let refused = refused.to_string();
    Source::connect_with_settings(&o, move |settings| {
        for s in settings.iter_mut().filter(|s| s.role == missing) {
            s.sql = refused.clone();
        }
    })
    .await
    .map_err(|e| e.to_string())
}

async fn session_lines(src: &mut Source) -> Vec<(keyhole::check::Status, String)> {
    let set = keyhole::source::queries::QuerySet::builtin(src.dialect);
    let now = chrono::Utc::now();
    let report = keyhole::check::run(
        src,
        &set,
        &keyhole::policy::Policy::demo(),
        &[],
        now,
        |_| {},
    )
    .await;
    report
        .lines
        .into_iter()
        .filter(|l| l.text.starts_with("session:") || l.text.starts_with("read-only:"))
        .map(|l| (l.status, l.text))
        .collect()
}

#[tokio::test]
async fn postgres_without_a_statement_timeout_degrades_with_a_warning_and_keyhole_keeps_the_timeout()
 {
    use keyhole::check::Status;
    let Some(s) = scratch(Server::Postgres).await else {
        return;
    };
    let mut src = connect_without(
        &s.url(),
        keyhole::source::SettingRole::Timeout,
        "SET keyhole_no_statement_timeout = 1000",
    )
    .await
    .expect("a missing timeout setting does not fail the connection");
    assert_eq!(src.degraded.len(), 1, "{:?}", src.degraded);
    assert!(
        src.degraded[0].contains("statement_timeout") && src.degraded[0].contains("cancels"),
        "{:?}",
        src.degraded
    );
    // The server would let pg_sleep(5) finish; keyhole's own timer stops it.
    let r = run(&mut src, "SELECT pg_sleep(5)").await;
    assert!(
        r.as_ref()
            .is_err_and(|e| e.contains("statement_timeout_s") && e.contains("keyhole cancelled")),
        "{r:?}"
    );
    assert_eq!(run(&mut src, "SELECT 1").await, Ok(1), "usable afterwards");
    let lines = session_lines(&mut src).await;
    assert!(
        lines
            .iter()
            .any(|(st, t)| *st == Status::Warn && t.contains("statement_timeout")),
        "{lines:?}"
    );
    assert!(lines.iter().all(|(st, _)| *st != Status::Fail), "{lines:?}");
    src.close().await;
}

#[tokio::test]
async fn postgres_without_a_read_only_default_warns_and_each_statement_stays_read_only() {
    use keyhole::check::Status;
    let Some(s) = scratch(Server::Postgres).await else {
        return;
    };
    let mut src = connect_without(
        &s.url(),
        keyhole::source::SettingRole::ReadOnlyDefault,
        "SET keyhole_no_read_only_default = on",
    )
    .await
    .expect("connects");
    let lines = session_lines(&mut src).await;
    assert!(
        lines.iter().any(|(st, t)| *st == Status::Warn
            && t.starts_with("read-only: each statement's transaction is read only")),
        "{lines:?}"
    );
    // Every write the full session refuses is refused here too.
    prove_on(
        &s,
        src,
        PG_FIXTURE,
        PG_CHECKSUM,
        &["SELECT nextval('s')"],
        &["SELECT wipe()", "SELECT bump()", "SELECT lift(), wipe()"],
    )
    .await;
}

#[tokio::test]
async fn postgres_refusing_the_utc_time_zone_fails_the_connection_in_one_line() {
    let Some(s) = scratch(Server::Postgres).await else {
        return;
    };
    let r = connect_without(
        &s.url(),
        keyhole::source::SettingRole::Needed,
        "SET TimeZone = 'Mars/Olympus_Mons'",
    )
    .await;
    let e = r.err().expect("a wrong clock is not a warning");
    assert!(e.contains("TimeZone") && e.contains("times"), "{e}");
    assert!(!e.contains('\n'), "{e}");
}

#[tokio::test]
async fn mariadb_given_mysqls_timeout_setting_warns_and_keyhole_keeps_the_timeout() {
    use keyhole::check::Status;
    let Some(s) = scratch(Server::Mariadb).await else {
        return;
    };
    // MySQL's max_execution_time, which MariaDB does not have.
    let mut src = connect_without(
        &s.url(),
        keyhole::source::SettingRole::Timeout,
        "SET SESSION max_execution_time = 1000",
    )
    .await
    .expect("a missing timeout setting does not fail the connection");
    assert!(
        src.degraded.len() == 1 && src.degraded[0].contains("Unknown system variable"),
        "{:?}",
        src.degraded
    );
    let r = src.probe("SELECT SLEEP(5) AS slept").await;
    assert!(
        r.as_ref()
            .is_err_and(|e| e.to_string().contains("keyhole cancelled")),
        "{r:?}"
    );
    assert_eq!(run(&mut src, "SELECT 1").await, Ok(1), "usable afterwards");
    let lines = session_lines(&mut src).await;
    assert!(
        lines
            .iter()
            .any(|(st, t)| *st == Status::Warn && t.contains("max_statement_time")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|(st, t)| *st == Status::Ok && t.contains("statement timeout kept by keyhole")),
        "{lines:?}"
    );
    src.close().await;
}

/// A statement past the guard, on the session's other walls only.
async fn past_the_guard(src: &mut Source, sql: &str) -> Result<u64, String> {
    src.run_past_the_guard("hostile.sql", sql)
        .await
        .map_err(|e| e.to_string())
}

/// Each server wall alone, with the guard out of the way: two statements in
/// one prepared query fail at the server; a write fails in the read-only
/// transaction; the tables stay as they were.
async fn server_walls_hold_without_the_guard(server: Server) {
    let Some(s) = scratch(server).await else {
        return;
    };
    let (fixture, checksum, multiple) = match server {
        Server::Postgres => (
            PG_FIXTURE,
            PG_CHECKSUM,
            "cannot insert multiple commands into a prepared statement",
        ),
        Server::Mariadb => (
            MY_FIXTURE,
            MY_CHECKSUM,
            "You have an error in your SQL syntax",
        ),
    };
    s.admin(fixture).await;
    let before = s.admin_text(checksum).await;
    let mut src = Source::connect(&source_options(&s.url())).await.unwrap();
    // One prepared statement: the second command never runs, and the
    // server says why (not the read-only wall: a SELECT comes second).
    for sql in [
        "SELECT 1; DELETE FROM victims",
        "DELETE FROM victims; SELECT 1",
    ] {
        let r = past_the_guard(&mut src, sql).await;
        assert!(
            r.as_ref().is_err_and(|e| e.contains(multiple)),
            "{sql:?}: {r:?}"
        );
    }
    // The read-only transaction: each write is refused as such.
    for sql in [
        "DELETE FROM victims",
        "UPDATE victims SET name = 'x'",
        "INSERT INTO victims VALUES (9, 'z')",
        "CREATE TABLE planted (x int)",
        "SELECT wipe()",
        "SELECT bump()",
    ] {
        let r = past_the_guard(&mut src, sql).await;
        assert!(
            r.as_ref().is_err_and(|e| e.starts_with(SERVER)),
            "{sql:?} must be refused by the read-only transaction: {r:?}"
        );
    }
    assert_eq!(
        past_the_guard(&mut src, "SELECT * FROM victims").await,
        Ok(3)
    );
    src.close().await;
    assert_eq!(s.admin_text(checksum).await, before, "a table changed");
    let planted = s
        .admin_text(match server {
            Server::Postgres => "SELECT count(*)::text FROM pg_tables WHERE tablename = 'planted'",
            Server::Mariadb => "SELECT CAST(count(*) AS CHAR) FROM information_schema.TABLES WHERE TABLE_NAME = 'planted' AND TABLE_SCHEMA = DATABASE()",
        })
        .await;
    assert_eq!(planted, "0");
}

#[tokio::test]
async fn postgres_server_walls_hold_without_the_guard() {
    server_walls_hold_without_the_guard(Server::Postgres).await;
}

#[tokio::test]
async fn mariadb_server_walls_hold_without_the_guard() {
    server_walls_hold_without_the_guard(Server::Mariadb).await;
}

/// MariaDB keeps `SET SESSION TRANSACTION READ WRITE` past a ROLLBACK, and a
/// DDL statement commits the READ ONLY transaction around it and runs under
/// the session default. keyhole sets the default back to READ ONLY before
/// every statement; without that reset, this DROP would go through.
#[tokio::test]
async fn mariadb_a_session_lifted_to_read_write_is_read_only_again_for_the_next_statement() {
    let Some(s) = scratch(Server::Mariadb).await else {
        return;
    };
    s.admin(MY_FIXTURE).await;
    let before = s.admin_text(MY_CHECKSUM).await;
    let mut src = Source::connect(&source_options(&s.url())).await.unwrap();
    // The lift itself is allowed inside the transaction.
    assert_eq!(
        past_the_guard(&mut src, "SET SESSION TRANSACTION READ WRITE").await,
        Ok(0)
    );
    let r = past_the_guard(&mut src, "DROP TABLE victims").await;
    assert!(
        r.as_ref()
            .is_err_and(|e| e.starts_with(SERVER) && e.contains("READ ONLY")),
        "the DROP must meet the read-only session default: {r:?}"
    );
    src.close().await;
    assert_eq!(s.admin_text(MY_CHECKSUM).await, before, "the table changed");
}

/// SQLite's three walls, each alone with the guard out of the way:
/// `query_only` refuses a TEMP table (which the read-only open allows); the
/// read-only open refuses a write once `query_only` is lifted; the ATTACH
/// limit refuses any attached file.
#[tokio::test]
async fn sqlite_walls_hold_each_on_its_own_without_the_guard() {
    let dir = tempfile::tempdir().unwrap();
    let path = sqlite_file(
        dir.path(),
        "victims.sqlite",
        "CREATE TABLE victims (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO victims VALUES (1,'a'),(2,'b');",
    )
    .await;
    let bytes_before = std::fs::read(&path).unwrap();
    let url = format!("sqlite://{}", path.display());
    let mut src = Source::connect(&source_options(&url)).await.unwrap();
    // query_only alone: the temp schema is writable on a read-only file.
    let r = past_the_guard(&mut src, "CREATE TEMP TABLE planted (x)").await;
    assert!(
        r.as_ref()
            .is_err_and(|e| e.starts_with(SERVER) && e.contains("readonly")),
        "{r:?}"
    );
    // The ATTACH limit alone: the file would be created otherwise.
    let other = dir.path().join("other.sqlite");
    let r = past_the_guard(
        &mut src,
        &format!("ATTACH DATABASE '{}' AS other", other.display()),
    )
    .await;
    assert!(
        r.as_ref()
            .is_err_and(|e| e.contains("too many attached databases")),
        "{r:?}"
    );
    assert!(!other.exists(), "ATTACH created a file");
    // The read-only open alone: query_only lifted for this statement's
    // transaction, the write still fails.
    let r = past_the_guard(&mut src, "PRAGMA query_only = OFF").await;
    assert!(r.is_ok(), "{r:?}");
    let r = past_the_guard(&mut src, "PRAGMA query_only").await;
    assert_eq!(r, Ok(1));
    let r = past_the_guard(&mut src, "DELETE FROM victims").await;
    assert!(
        r.as_ref()
            .is_err_and(|e| e.starts_with(SERVER) && e.contains("readonly")),
        "{r:?}"
    );
    src.close().await;
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes_before,
        "the file changed"
    );
}

/// The way past the guard is for these tests only: keyhole's own code
/// never calls it.
#[test]
fn only_tests_go_past_the_guard() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut calls = Vec::new();
    let mut stack = vec![src];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for (i, l) in text.lines().enumerate() {
                    if l.contains("run_past_the_guard")
                        && !l.contains("pub async fn run_past_the_guard")
                    {
                        calls.push(format!("{}:{}", p.display(), i + 1));
                    }
                }
            }
        }
    }
    assert!(calls.is_empty(), "called from keyhole itself: {calls:?}");
}
