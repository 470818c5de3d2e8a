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
        assert!(r.is_err(), "{sql:?} was not refused");
        assert!(
            r.unwrap_err().contains("refused"),
            "{sql:?} must be refused by the guard"
        );
    }
    for sql in server_side {
        let r = run(&mut src, sql).await;
        assert!(r.is_err(), "{sql:?} ran inside a read-only transaction");
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
    let path = dir.path().join("victims.sqlite");
    {
        use sqlx::{ConnectOptions, Executor};
        let mut c = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        c.execute("CREATE TABLE victims (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO victims VALUES (1,'a'),(2,'b');")
            .await
            .unwrap();
    }
    let bytes_before = std::fs::read(&path).unwrap();
    let url = format!("sqlite://{}", path.display());
    let mut src = Source::connect(&source_options(&url))
        .await
        .expect("connect");
    assert_eq!(
        src.sqlite_read_only().await.unwrap(),
        (true, "1".to_string())
    );
    for sql in common_cases().iter().chain(&[
        "SELECT load_extension('/tmp/evil')",
        "SELECT 1; PRAGMA query_only = OFF",
        "SELECT 1; ATTACH DATABASE '/tmp/other.db' AS other",
        "SELECT [a;b] FROM victims; DROP TABLE victims",
    ]) {
        let r = run(&mut src, sql).await;
        assert!(
            r.as_ref().is_err_and(|e| e.contains("refused")),
            "{sql:?}: {r:?}"
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
    let r = src.probe("SELECT SLEEP(5) AS slept").await;
    // MariaDB either raises 70100 or cuts SLEEP short, returning 1 (0 means it slept in full).
    assert!(
        r.as_ref()
            .map_or(true, |rows| rows[0][0].as_deref() == Some("1")),
        "{r:?}"
    );
    assert_eq!(run(&mut src, "SELECT 1").await, Ok(1));
    src.close().await;
}

#[tokio::test]
async fn sqlite_statement_timeout_interrupts_an_endless_query() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite");
    {
        use sqlx::{ConnectOptions, Executor};
        let mut c = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        c.execute("CREATE TABLE t (x INTEGER)").await.unwrap();
    }
    let mut o = source_options(&format!("sqlite://{}", path.display()));
    o.statement_timeout = Duration::from_secs(1);
    let mut src = Source::connect(&o).await.unwrap();
    let r = run(
        &mut src,
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    )
    .await;
    assert!(r.is_err(), "{r:?}");
    assert_eq!(run(&mut src, "SELECT 1").await, Ok(1));
    src.close().await;
}

async fn cancel_reaches_the_server(server: Server, sleep: &'static str) {
    let Some(s) = scratch(server).await else {
        return;
    };
    let mut o = source_options(&s.url());
    o.statement_timeout = Duration::from_secs(120);
    let mut src = Source::connect(&o).await.unwrap();
    let cancel = src.canceller().expect("a server source can be cancelled");
    let running = tokio::spawn(async move {
        let r = src
            .probe(sleep)
            .await
            .map_err(|e| e.to_string())
            .map(|rows| rows[0][0].clone().unwrap_or_default());
        (src, r)
    });
    // Let the statement start, then cancel it from a second connection.
    tokio::time::sleep(Duration::from_millis(500)).await;
    cancel.cancel().await.unwrap();
    let (mut src, r) = running.await.unwrap();
    match server {
        Server::Postgres => assert!(r.as_ref().is_err_and(|e| e.contains("cancelled")), "{r:?}"),
        // MariaDB's SLEEP returns 1 when interrupted (0 after a full sleep) instead of failing.
        Server::Mariadb => assert!(r.as_ref().map_or(true, |v| v == "1"), "{r:?}"),
    }
    assert_eq!(
        run(&mut src, "SELECT 1").await,
        Ok(1),
        "the session is usable afterwards"
    );
    src.close().await;
}

#[tokio::test]
async fn postgres_cancel_stops_the_statement_on_the_server() {
    cancel_reaches_the_server(Server::Postgres, "SELECT pg_sleep(60)").await;
}

#[tokio::test]
async fn mariadb_cancel_stops_the_statement_on_the_server() {
    cancel_reaches_the_server(Server::Mariadb, "SELECT SLEEP(60) AS slept").await;
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
