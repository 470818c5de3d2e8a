//! The same demo rows loaded into PostgreSQL, MariaDB and SQLite give the
//! same model through the built-in query files, and each server's own types
//! decode as the contract says.

mod common;

use chrono::NaiveDate;
use common::{Server, scratch, source_options};
use keyhole::demo::{self, DemoSettings};
use keyhole::model::Interner;
use keyhole::source::load::{Directory, stream_events};
use keyhole::source::queries::QuerySet;
use keyhole::source::value::{self, Value};
use keyhole::source::{Source, Window};

const TZ: chrono_tz::Tz = chrono_tz::America::New_York;

fn settings() -> DemoSettings {
    DemoSettings {
        events: 4_000,
        seed: 7,
        anchor: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
    }
}

/// Everything a source yields, as sorted text, so two sources compare equal
/// whatever order their rows came in.
async fn snapshot(url: &str) -> Vec<String> {
    let mut src = Source::connect(&source_options(url))
        .await
        .expect("connect");
    let set = QuerySet::builtin(src.dialect);
    let dir = Directory::load(&mut src, &set, TZ).await.expect("load");
    let mut out: Vec<String> = Vec::new();
    out.extend(dir.staff.iter().map(|x| format!("staff {x:?}")));
    out.extend(dir.subjects.iter().map(|x| format!("subject {x:?}")));
    out.extend(
        dir.relationships
            .unwrap()
            .iter()
            .map(|x| format!("rel {x:?}")),
    );
    out.extend(
        dir.disclosures
            .unwrap()
            .iter()
            .map(|x| format!("disc {x:?}")),
    );
    out.extend(
        dir.disclosure_items
            .unwrap()
            .iter()
            .map(|x| format!("item {x:?}")),
    );
    out.extend(dir.requests.unwrap().iter().map(|x| format!("req {x:?}")));
    let window = Window {
        from: chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .into(),
        to: chrono::DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
            .unwrap()
            .into(),
    };
    let mut symbols = Interner::default();
    let mut events = Vec::new();
    stream_events(
        &mut src,
        &set,
        TZ,
        window,
        &mut symbols,
        |ev, syms| {
            let t = |s: Option<keyhole::model::Sym>| s.map(|s| syms.resolve(s).to_string());
            events.push(format!(
                "event {} {} {} {:?} {:?} {:?} {:?} {:?} {:?} {}",
                ev.event_id,
                keyhole::time::rfc3339(ev.occurred_at),
                syms.resolve(ev.staff),
                t(ev.subject),
                t(ev.action),
                t(ev.data_category),
                t(ev.purpose),
                t(ev.reference),
                t(ev.client_ip),
                ev.record_count
            ));
        },
        |_| {},
    )
    .await
    .expect("events");
    assert_eq!(
        events.len() as u64,
        settings().events,
        "--events is the exact count"
    );
    out.extend(events);
    src.close().await;
    out.sort();
    out
}

#[tokio::test]
async fn demo_data_gives_the_same_model_from_postgres_mariadb_and_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.sqlite");
    demo::ensure_sqlite(&path, &settings(), false, |_| {})
        .await
        .unwrap();
    let lite = snapshot(&format!("sqlite://{}", path.display())).await;
    assert!(
        lite.iter()
            .any(|l| l.contains("\\u{1b}") || l.contains('\u{1b}')),
        "hostile text is in the demo"
    );

    let Some(pg) = scratch(Server::Postgres).await else {
        return;
    };
    demo::load_into(&pg.url(), None, &settings(), |_| {})
        .await
        .unwrap();
    let pg_snap = snapshot(&pg.url()).await;
    assert_eq!(
        first_difference(&lite, &pg_snap),
        None,
        "PostgreSQL differs from SQLite"
    );

    let Some(my) = scratch(Server::Mariadb).await else {
        return;
    };
    demo::load_into(&my.url(), None, &settings(), |_| {})
        .await
        .unwrap();
    let my_snap = snapshot(&my.url()).await;
    assert_eq!(
        first_difference(&lite, &my_snap),
        None,
        "MariaDB differs from SQLite"
    );
}

fn first_difference(a: &[String], b: &[String]) -> Option<(String, String)> {
    if a.len() != b.len() {
        return Some((format!("{} rows", a.len()), format!("{} rows", b.len())));
    }
    a.iter()
        .zip(b)
        .find(|(x, y)| x != y)
        .map(|(x, y)| (x.clone(), y.clone()))
}

#[tokio::test]
async fn demo_refuses_to_load_into_a_database_that_has_tables() {
    let Some(pg) = scratch(Server::Postgres).await else {
        return;
    };
    pg.admin(&["CREATE TABLE precious (id int)"]).await;
    let err = demo::load_into(&pg.url(), None, &settings(), |_| {})
        .await
        .expect_err("refused");
    assert!(err.0.contains("already holds 1 table"), "{err}");
}

async fn one_row(url: &str, sql: &str) -> Vec<(String, Value)> {
    let mut src = Source::connect(&source_options(url))
        .await
        .expect("connect");
    let mut out = Vec::new();
    src.run("types.sql", sql, None, |cols, vals| {
        out = cols.iter().cloned().zip(vals.iter().cloned()).collect();
        Ok(())
    })
    .await
    .expect("query");
    src.close().await;
    out
}

fn get<'a>(row: &'a [(String, Value)], name: &str) -> &'a Value {
    &row.iter()
        .find(|(c, _)| c == name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .1
}

fn ts(v: &Value) -> String {
    keyhole::time::rfc3339(value::to_timestamp(v, TZ).unwrap().unwrap())
}

#[tokio::test]
async fn postgres_types_decode_as_the_contract_says() {
    let Some(s) = scratch(Server::Postgres).await else {
        return;
    };
    s.admin(&[
        "CREATE TYPE tier AS ENUM ('standard', 'vip')",
        "CREATE TABLE t (a int8, b numeric(10,2), c uuid, d inet, e cidr, f bool, g timestamp, h timestamptz, \
         i date, j tier, k text, l float8, m int2, n text, o numeric(6,3), p int4)",
        "INSERT INTO t VALUES (1000, 1000.00, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '10.1.2.3', '10.1.0.0/16', true, \
         '2026-03-01 08:00:00', '2026-03-01 09:00:00+01', '2026-03-01', 'vip', ' 007 ', 1000.0, 12, '2026-03-01T08:00:00Z', 1.500, 0)",
    ])
    .await;
    let row = one_row(&s.url(), "SELECT * FROM t").await;
    assert_eq!(
        value::to_id(get(&row, "a")).unwrap().unwrap().as_str(),
        "1000"
    );
    assert_eq!(
        value::to_id(get(&row, "b")).unwrap().unwrap().as_str(),
        "1000"
    );
    assert_eq!(
        value::to_id(get(&row, "c")).unwrap().unwrap().as_str(),
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
    );
    assert_eq!(value::to_text(get(&row, "d")).as_deref(), Some("10.1.2.3"));
    assert_eq!(
        value::to_text(get(&row, "e")).as_deref(),
        Some("10.1.0.0/16")
    );
    assert_eq!(value::to_bool(get(&row, "f")).unwrap(), Some(true));
    assert_eq!(ts(get(&row, "g")), "2026-03-01T08:00:00Z");
    assert_eq!(ts(get(&row, "h")), "2026-03-01T08:00:00Z");
    assert_eq!(
        ts(get(&row, "i")),
        "2026-03-01T05:00:00Z",
        "a date is local midnight in the policy zone"
    );
    assert_eq!(value::to_text(get(&row, "j")).as_deref(), Some("vip"));
    assert_eq!(
        value::to_id(get(&row, "k")).unwrap().unwrap().as_str(),
        "007"
    );
    assert_eq!(
        value::to_id(get(&row, "l")).unwrap().unwrap().as_str(),
        "1000"
    );
    assert_eq!(value::to_count(get(&row, "m")).unwrap(), Some(12));
    assert_eq!(ts(get(&row, "n")), "2026-03-01T08:00:00Z");
    assert_eq!(
        value::to_text(get(&row, "o")).as_deref(),
        Some("1.500"),
        "numeric prints as the source returned it"
    );
    assert_eq!(value::to_bool(get(&row, "p")).unwrap(), Some(false));
}

#[tokio::test]
async fn mariadb_types_decode_as_the_contract_says() {
    let Some(s) = scratch(Server::Mariadb).await else {
        return;
    };
    s.admin(&[
        "CREATE TABLE t (a BIGINT UNSIGNED, b DECIMAL(10,2), c UUID, d INET6, f BOOLEAN, g DATETIME, h TIMESTAMP NULL, \
         i DATE, j ENUM('standard','vip'), k VARCHAR(10), l DOUBLE, m SMALLINT, n VARCHAR(40), o CHAR(1), p TINYINT)",
        "INSERT INTO t VALUES (1000, 1000.00, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '2001:db8::1', 1, \
         '2026-03-01 08:00:00', '2026-03-01 08:00:00', '2026-03-01', 'vip', ' 007 ', 1000.0, 12, '2026-03-01 08:00:00', 't', 0)",
    ])
    .await;
    let row = one_row(&s.url(), "SELECT t.*, t.f > 0 AS fx FROM t").await;
    assert_eq!(
        value::to_id(get(&row, "a")).unwrap().unwrap().as_str(),
        "1000"
    );
    assert_eq!(
        value::to_id(get(&row, "b")).unwrap().unwrap().as_str(),
        "1000"
    );
    assert_eq!(
        value::to_id(get(&row, "c")).unwrap().unwrap().as_str(),
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
    );
    assert_eq!(
        value::to_text(get(&row, "d")).as_deref(),
        Some("2001:db8::1")
    );
    assert_eq!(value::to_bool(get(&row, "f")).unwrap(), Some(true));
    assert_eq!(value::to_bool(get(&row, "fx")).unwrap(), Some(true));
    assert_eq!(ts(get(&row, "g")), "2026-03-01T08:00:00Z");
    assert_eq!(ts(get(&row, "h")), "2026-03-01T08:00:00Z");
    assert_eq!(ts(get(&row, "i")), "2026-03-01T05:00:00Z");
    assert_eq!(value::to_text(get(&row, "j")).as_deref(), Some("vip"));
    assert_eq!(
        value::to_id(get(&row, "k")).unwrap().unwrap().as_str(),
        "007"
    );
    assert_eq!(
        value::to_id(get(&row, "l")).unwrap().unwrap().as_str(),
        "1000"
    );
    assert_eq!(value::to_count(get(&row, "m")).unwrap(), Some(12));
    assert_eq!(ts(get(&row, "n")), "2026-03-01T08:00:00Z");
    assert_eq!(value::to_bool(get(&row, "o")).unwrap(), Some(true));
    assert_eq!(value::to_bool(get(&row, "p")).unwrap(), Some(false));
}

#[tokio::test]
async fn sqlite_values_decode_by_storage_class() {
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
        c.execute(
            "CREATE TABLE t (a, b, c, d, e, f, g); \
             INSERT INTO t VALUES (1000, 1000.0, ' 007 ', '2026-03-01 08:00:00', '2026-03-01', 'f', x'6869');",
        )
        .await
        .unwrap();
    }
    let row = one_row(&format!("sqlite://{}", path.display()), "SELECT * FROM t").await;
    assert_eq!(get(&row, "a"), &Value::Int(1000));
    assert_eq!(
        value::to_id(get(&row, "b")).unwrap().unwrap().as_str(),
        "1000"
    );
    assert_eq!(
        value::to_id(get(&row, "c")).unwrap().unwrap().as_str(),
        "007"
    );
    assert_eq!(ts(get(&row, "d")), "2026-03-01T08:00:00Z");
    assert_eq!(ts(get(&row, "e")), "2026-03-01T05:00:00Z");
    assert_eq!(value::to_bool(get(&row, "f")).unwrap(), Some(false));
    assert_eq!(value::to_text(get(&row, "g")).as_deref(), Some("hi"));
}

/// The first value of a fixed probe, through keyhole's read-only session.
async fn probe_one(url: &str, sql: &'static str) -> Result<String, String> {
    let mut src = Source::connect(&source_options(url))
        .await
        .map_err(|e| e.to_string())?;
    let rows = src.probe(sql).await.map_err(|e| e.to_string())?;
    src.close().await;
    Ok(rows[0][0].clone().unwrap_or_default())
}

/// The socket is proven, not assumed: the URL's host cannot resolve, and
/// the server sees no TCP peer (PostgreSQL: no server address; MariaDB: a
/// client host without a port), where the same query over TCP does.
#[tokio::test]
async fn unix_sockets_reach_postgres_and_mariadb() {
    let Some(pg) = scratch(Server::Postgres).await else {
        return;
    };
    const PG_OVER_SOCKET: &str = "SELECT (inet_server_addr() IS NULL)::text";
    let url = format!(
        "postgres://postgres@no-such-host.invalid/{}?host=/var/run/postgresql",
        pg.name
    );
    assert_eq!(probe_one(&url, PG_OVER_SOCKET).await, Ok("true".into()));
    assert_eq!(
        probe_one(&pg.url(), PG_OVER_SOCKET).await,
        Ok("false".into()),
        "over TCP the server has an address"
    );
    let Some(my) = scratch(Server::Mariadb).await else {
        return;
    };
    const MY_HOST: &str =
        "SELECT HOST FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()";
    let url = format!(
        "mysql://root@no-such-host.invalid/{}?socket=/run/mysqld/mysqld.sock",
        my.name
    );
    assert_eq!(probe_one(&url, MY_HOST).await, Ok("localhost".into()));
    let tcp = probe_one(&my.url(), MY_HOST).await.unwrap();
    assert!(tcp.contains(':'), "over TCP the client has a port: {tcp}");
}

/// PostgreSQL: `pg_stat_ssl` for keyhole's own backend says whether the
/// session is encrypted, as `sslmode` asks; `verify-full` against the
/// server's self-signed certificate fails in one line that says so.
#[tokio::test]
async fn postgres_tls_follows_the_sslmode_the_url_asks_for() {
    let Some(pg) = scratch(Server::Postgres).await else {
        return;
    };
    if pg.admin_text("SELECT current_setting('ssl')").await != "on" {
        assert!(!common::require_dbs(), "the PostgreSQL server has no TLS");
        common::skip("the PostgreSQL server has no TLS");
        return;
    }
    const ENCRYPTED: &str = "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    let base = format!("postgres://postgres@127.0.0.1:5432/{}", pg.name);
    assert_eq!(
        probe_one(&format!("{base}?sslmode=disable"), ENCRYPTED).await,
        Ok("false".into())
    );
    assert_eq!(
        probe_one(&format!("{base}?sslmode=require"), ENCRYPTED).await,
        Ok("true".into())
    );
    let err = probe_one(&format!("{base}?sslmode=verify-full"), ENCRYPTED)
        .await
        .expect_err("a self-signed certificate cannot be verified");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("cannot connect to postgres://postgres@127.0.0.1:5432/"),
        "{err}"
    );
    assert!(err.contains("certificate"), "{err}");
}

/// MySQL-family `ssl-mode`, on a MariaDB of the test's own with the
/// machine's self-signed certificate: `disabled` is plaintext, `required`
/// is encrypted (the server's `Ssl_cipher` for this session), and
/// `verify_identity` fails on the certificate; on the main server, which
/// has no TLS, `required` fails in one line.
#[tokio::test]
async fn mysql_tls_follows_the_ssl_mode_the_url_asks_for() {
    let cert = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
    let key = "/etc/ssl/private/ssl-cert-snakeoil.key";
    if !common::mariadb::available() || !std::path::Path::new(key).exists() {
        assert!(
            !common::require_dbs(),
            "a scratch MariaDB with TLS needs mariadb-install-db and {key}"
        );
        common::skip("no scratch MariaDB with TLS here");
        return;
    }
    let m = common::mariadb::Instance::start(&[
        &format!("--ssl-cert={cert}"),
        &format!("--ssl-key={key}"),
    ])
    .unwrap();
    m.sql("CREATE DATABASE shop").unwrap();
    const CIPHER: &str = "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_CIPHER'";
    let base = m.url("root", "shop");
    assert_eq!(
        probe_one(&format!("{base}?ssl-mode=disabled"), CIPHER).await,
        Ok(String::new())
    );
    let cipher = probe_one(&format!("{base}?ssl-mode=required"), CIPHER)
        .await
        .unwrap();
    assert!(cipher.starts_with("TLS_"), "{cipher:?}");
    let err = probe_one(&format!("{base}?ssl-mode=verify_identity"), CIPHER)
        .await
        .expect_err("a self-signed certificate cannot be verified");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("certificate"), "{err}");
    let Some(my) = scratch(Server::Mariadb).await else {
        return;
    };
    let err = probe_one(&format!("{}?ssl-mode=required", my.url()), CIPHER)
        .await
        .expect_err("the main server has no TLS");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("cannot connect to mysql://root@127.0.0.1:3306/"),
        "{err}"
    );
}

/// A file being read can be watched from elsewhere: its label and its rows
/// so far, which the dashboard shows while a large directory loads.
#[tokio::test]
async fn the_rows_read_so_far_are_visible_from_another_task() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.sqlite");
    demo::ensure_sqlite(&path, &settings(), false, |_| {})
        .await
        .unwrap();
    let mut src = Source::connect(&source_options(&format!("sqlite://{}", path.display())))
        .await
        .unwrap();
    let reading = src.reading();
    let set = QuerySet::builtin(src.dialect);
    let subjects = keyhole::source::load::load_subjects(&mut src, &set, TZ)
        .await
        .unwrap();
    let (label, rows) = reading.now();
    assert!(label.contains("subjects.sql"), "{label}");
    assert_eq!(rows, subjects.len() as u64);
    assert!(rows > 1000, "{rows}");
    let line = keyhole::tui::data::reading_line(&(label, rows));
    assert_eq!(
        line,
        format!(
            "reading subjects.sql: {} rows",
            keyhole::tui::data::thousands(rows)
        )
    );
    assert_eq!(keyhole::tui::data::thousands(1_000), "1,000");
    assert_eq!(keyhole::tui::data::thousands(999), "999");
    // The next file starts again from nought.
    let staff = keyhole::source::load::load_staff(&mut src, &set, TZ)
        .await
        .unwrap();
    assert_eq!(reading.now().1, staff.len() as u64);
    assert_eq!(
        keyhole::tui::data::reading_line(&(
            "queries/x/relationships.sql (built-in)".into(),
            1_234_567
        )),
        "reading relationships.sql: 1,234,567 rows"
    );
    src.close().await;
}

/// What the scratch helper may skip on: a port where no server listens
/// cannot be connected to; a server that answers with an error (a missing
/// database, an unknown user) is a failure, never a skip.
#[tokio::test]
async fn only_an_unreachable_server_is_a_reason_to_skip() {
    use sqlx::Connection;
    let port = common::cluster::free_port();
    let nobody = sqlx::PgConnection::connect(&format!("postgres://postgres@127.0.0.1:{port}/test"))
        .await
        .expect_err("no server listens there");
    assert!(common::cannot_connect(&nobody), "{nobody:?}");
    let Some(_pg) = scratch(Server::Postgres).await else {
        return;
    };
    let missing = sqlx::PgConnection::connect("postgres://postgres@127.0.0.1:5432/kh_no_such_db")
        .await
        .expect_err("no such database");
    assert!(!common::cannot_connect(&missing), "{missing:?}");
    let Some(_my) = scratch(Server::Mariadb).await else {
        return;
    };
    let stranger = sqlx::MySqlConnection::connect("mysql://kh_no_such_user@127.0.0.1:3306/test")
        .await
        .expect_err("no such user");
    assert!(!common::cannot_connect(&stranger), "{stranger:?}");
}
