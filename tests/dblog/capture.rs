//! Captures real audit logs: a scratch PostgreSQL cluster with pgAudit on a
//! spare port (created with `pg_createcluster`, dropped afterwards; the
//! machine's main cluster is never touched), and a scratch MariaDB of its
//! own (a fresh data folder, a spare port) started with the server_audit
//! plugin logging into a temporary file. Both run the same scripted
//! exercise, each statement marked with a `/* sNN */` comment so the tests
//! can find it in the log.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use futures_util::TryStreamExt;
use sqlx::{AssertSqlSafe, Connection, Executor};

use super::common::cluster::Cluster;
use super::common::mariadb::Instance;

const PG_CONF: &str = "
shared_preload_libraries = 'pgaudit'
listen_addresses = '127.0.0.1'
logging_collector = on
log_destination = 'stderr,csvlog'
log_directory = 'log'
log_filename = 'audit.log'
log_line_prefix = '%m [%p] user=%u db=%d app=%a client=%h '
pgaudit.log = 'read, write, misc'
pgaudit.log_parameter = on
pgaudit.log_relation = on
pgaudit.role = 'auditor'
";

/// Why pgAudit cannot be captured here (not installed, no cluster tools).
pub fn postgres_missing() -> Option<String> {
    let version = super::common::cluster::version()?;
    let lib = format!("/usr/lib/postgresql/{version}/lib/pgaudit.so");
    if !Path::new(&lib).exists() {
        return Some(format!(
            "{lib} is missing (install postgresql-{version}-pgaudit)"
        ));
    }
    if Command::new("pg_createcluster")
        .arg("--help")
        .output()
        .is_err()
    {
        return Some("pg_createcluster is missing".into());
    }
    None
}

fn start_cluster() -> Result<Cluster, String> {
    Cluster::start("audit", &["--auth=trust"], PG_CONF)
}

async fn pg(port: u16, user: &str, db: &str) -> sqlx::PgConnection {
    let url = format!("postgres://{user}@127.0.0.1:{port}/{db}");
    for _ in 0..50 {
        if let Ok(c) = sqlx::PgConnection::connect(&url).await {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("cannot connect to {url}");
}

async fn exec_pg(c: &mut sqlx::PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    c.execute(AssertSqlSafe(sql.to_string())).await.map(|_| ())
}

/// Runs the exercise on a fresh pgAudit cluster; writes `postgres.log` and
/// `postgres.csv` into `out`.
pub async fn postgres(out: &Path) -> Result<(), String> {
    let c = start_cluster()?;
    let port = c.port;
    {
        let mut admin = pg(port, "postgres", "postgres").await;
        // The set-up is not part of the exercise: the superuser's own
        // statements are not audited.
        for s in [
            "ALTER ROLE postgres SET pgaudit.log = 'none'",
            "CREATE DATABASE shop",
        ] {
            exec_pg(&mut admin, s)
                .await
                .map_err(|e| format!("{s}: {e}"))?;
        }
        admin.close().await.ok();
        let mut admin = pg(port, "postgres", "shop").await;
        for s in [
            "CREATE EXTENSION pgaudit",
            "CREATE ROLE auditor NOLOGIN",
            "CREATE ROLE u101 LOGIN",
            "CREATE ROLE u200 LOGIN",
            "CREATE ROLE u999 LOGIN",
            "CREATE ROLE app_svc LOGIN",
            "CREATE SCHEMA crm",
            "CREATE TABLE crm.customers (customer_id int PRIMARY KEY, first_name text, last_name text, email text, phone text, street text, city text)",
            "CREATE TABLE crm.orders (order_id int PRIMARY KEY, customer_id int, total numeric)",
            "INSERT INTO crm.customers SELECT g, 'First' || g, 'Last' || g, 'c' || g || '@example.com', '555-' || g, g || ' Main St', 'Springfield' FROM generate_series(10001, 10020) g",
            "UPDATE crm.customers SET email = 'ada@example.com' WHERE customer_id = 10011",
            "INSERT INTO crm.orders SELECT g, 10000 + g, g * 10 FROM generate_series(1, 10) g",
            "GRANT USAGE ON SCHEMA crm TO u101, u200, u999, app_svc",
            "GRANT SELECT, UPDATE ON crm.customers TO u101, u200, u999, app_svc",
            "GRANT SELECT ON crm.orders TO u101, u200, app_svc",
            "GRANT SELECT ON crm.customers, crm.orders TO auditor",
        ] {
            exec_pg(&mut admin, s)
                .await
                .map_err(|e| format!("{s}: {e}"))?;
        }
        admin.close().await.ok();
    }
    let mut u101 = pg(port, "u101", "shop").await;
    let mut u200 = pg(port, "u200", "shop").await;
    let mut u999 = pg(port, "u999", "shop").await;
    let mut svc = pg(port, "app_svc", "shop").await;
    let ok = |r: Result<(), sqlx::Error>, s: &str| r.map_err(|e| format!("{s}: {e}"));
    let s01 = "/* s01 */ SELECT first_name, email FROM crm.customers WHERE customer_id = 10001";
    ok(exec_pg(&mut u101, s01).await, s01)?;
    let s02 =
        "/* s02 */ SELECT customer_id, phone FROM crm.customers WHERE email = 'ada@example.com'";
    ok(exec_pg(&mut u101, s02).await, s02)?;
    let s03 = "/* s03 */ SELECT c.last_name /* email */, o.total -- phone\nFROM crm.customers c JOIN crm.orders o ON o.customer_id = c.customer_id\nWHERE c.customer_id IN (10002, '10003') AND c.first_name <> 'it''s the phone'";
    ok(exec_pg(&mut u200, s03).await, s03)?;
    let s04 = "/* s04 */ SELECT count(*) FROM crm.customers";
    ok(exec_pg(&mut u200, s04).await, s04)?;
    let s05 = "/* s05 */ SELECT email FROM crm.customers WHERE customer_id = 10004";
    ok(exec_pg(&mut u999, s05).await, s05)?;
    // Denied: u999 may not read orders.
    let s06 = "/* s06 */ SELECT total FROM crm.orders WHERE customer_id = 10001";
    if exec_pg(&mut u999, s06).await.is_ok() {
        return Err("s06 should have been denied".into());
    }
    // Fails while running, after pgAudit logged it.
    let s07 = "/* s07 */ SELECT email, 1 / (customer_id - 10001) FROM crm.customers WHERE customer_id = 10001";
    if exec_pg(&mut u200, s07).await.is_ok() {
        return Err("s07 should have failed".into());
    }
    let s08 = "/* s08 */ COPY (SELECT customer_id, email, phone FROM crm.customers) TO STDOUT WITH (FORMAT csv)";
    {
        let stream = u200
            .copy_out_raw(s08)
            .await
            .map_err(|e| format!("{s08}: {e}"))?;
        let chunks: Vec<_> = stream
            .try_collect()
            .await
            .map_err(|e| format!("{s08}: {e}"))?;
        if chunks.is_empty() {
            return Err("s08 exported nothing".into());
        }
    }
    for s in [
        "BEGIN",
        "/* s09 */ UPDATE crm.customers SET phone = '555-0000' WHERE customer_id = 10005",
        "ROLLBACK",
    ] {
        ok(exec_pg(&mut u200, s).await, s)?;
    }
    for s in [
        "PREPARE q10(int) AS /* s10 */ SELECT last_name FROM crm.customers WHERE customer_id = $1",
        "EXECUTE q10(10006)",
    ] {
        ok(exec_pg(&mut u101, s).await, s)?;
    }
    // The extended protocol: a bound parameter.
    let s11 = "/* s11 */ SELECT email FROM crm.customers WHERE customer_id = $1";
    sqlx::query(s11)
        .bind(10007i32)
        .fetch_all(&mut u101)
        .await
        .map_err(|e| format!("{s11}: {e}"))?;
    let s12 = "/* s12 */ SELECT email FROM crm.customers WHERE customer_id = 10001";
    ok(exec_pg(&mut svc, s12).await, s12)?;
    let s13 = "/* s13 */ SELECT * FROM crm.customers WHERE customer_id = 10008";
    ok(exec_pg(&mut u200, s13).await, s13)?;
    let s14 = "/* s14 */ SELECT email\nFROM crm.customers\nWHERE customer_id = 10009 OR customer_id = 10010";
    ok(exec_pg(&mut u200, s14).await, s14)?;
    let s16 = "/* s16 — Łódź */ SELECT email FROM crm.customers WHERE last_name = 'Müller-Łukasiewicz' OR customer_id = '10012'";
    ok(exec_pg(&mut u101, s16).await, s16)?;
    for conn in [u101, u200, u999, svc] {
        conn.close().await.ok();
    }
    // The collector writes on its own time: wait for the last record, the
    // SESSION line of the last statement, in both files.
    let log = c.data.join("log/audit.log");
    let csv = c.data.join("log/audit.csv");
    let last = |t: &str| {
        t.lines()
            .any(|l| l.contains("SESSION") && l.contains("s16 "))
    };
    written(&[&log, &csv], last, "the last statement (s16)").await?;
    std::fs::copy(&log, out.join("postgres.log")).map_err(|e| format!("{}: {e}", log.display()))?;
    std::fs::copy(&csv, out.join("postgres.csv")).map_err(|e| format!("{}: {e}", csv.display()))?;
    drop(c);
    Ok(())
}

const MY_USERS: [&str; 4] = ["u101", "u200", "u999", "app_svc"];

async fn my(m: &Instance, user: &str) -> sqlx::MySqlConnection {
    let url = m.url(user, "crm");
    sqlx::MySqlConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"))
}

async fn exec_my(c: &mut sqlx::MySqlConnection, sql: &str) -> Result<(), sqlx::Error> {
    c.execute(AssertSqlSafe(sql.to_string())).await.map(|_| ())
}

/// Runs the exercise on a scratch MariaDB with server_audit logging into
/// `out/mariadb.log`.
pub async fn mariadb(out: &Path) -> Result<(), String> {
    if !super::common::mariadb::available() {
        return Err("MariaDB: no mariadb-install-db or mariadbd here".into());
    }
    let file = out.join("mariadb.log");
    let export = out.join("s08-export.csv");
    let m = Instance::start(&[
        "--plugin-load-add=server_audit",
        &format!("--server-audit-file-path={}", file.display()),
        "--server-audit-events=CONNECT,QUERY,TABLE",
        &format!("--server-audit-incl-users={}", MY_USERS.join(",")),
        "--server-audit-logging=ON",
        "--secure-file-priv=",
        // Clients logged by address, as on a server that resolves no names.
        "--skip-name-resolve",
    ])
    .map_err(|e| format!("MariaDB: {e}"))?;
    let mut admin = sqlx::MySqlConnection::connect(&m.socket_url("root", "mysql"))
        .await
        .map_err(|e| format!("MariaDB: {e}"))?;
    let result = async {
        let mut setup = vec![
            "CREATE DATABASE crm".to_string(),
            "CREATE TABLE crm.customers (customer_id int PRIMARY KEY, first_name varchar(50), last_name varchar(50), email varchar(80), phone varchar(30), street varchar(80), city varchar(50))".into(),
            "CREATE TABLE crm.orders (order_id int PRIMARY KEY, customer_id int, total decimal(10,2))".into(),
            "INSERT INTO crm.customers SELECT seq, CONCAT('First', seq), CONCAT('Last', seq), CONCAT('c', seq, '@example.com'), CONCAT('555-', seq), CONCAT(seq, ' Main St'), 'Springfield' FROM seq_10001_to_10020".into(),
            "UPDATE crm.customers SET email = 'ada@example.com' WHERE customer_id = 10011".into(),
            "INSERT INTO crm.orders SELECT seq, 10000 + seq, seq * 10 FROM seq_1_to_10".into(),
        ];
        for u in MY_USERS {
            setup.push(format!("CREATE USER '{u}'@'%'"));
            setup.push(format!("GRANT SELECT, UPDATE ON crm.customers TO '{u}'@'%'"));
        }
        for u in ["u101", "u200", "app_svc"] {
            setup.push(format!("GRANT SELECT ON crm.orders TO '{u}'@'%'"));
        }
        setup.push("GRANT FILE ON *.* TO 'u200'@'%'".into());
        for s in &setup {
            exec_my(&mut admin, s).await.map_err(|e| format!("{s}: {e}"))?;
        }
        let mut u101 = my(&m, "u101").await;
        let mut u200 = my(&m, "u200").await;
        let mut u999 = my(&m, "u999").await;
        let mut svc = my(&m, "app_svc").await;
        let ok = |r: Result<(), sqlx::Error>, s: &str| r.map_err(|e| format!("{s}: {e}"));
        let s01 = "/* s01 */ SELECT first_name, email FROM crm.customers WHERE customer_id = 10001";
        ok(exec_my(&mut u101, s01).await, s01)?;
        let s02 = "/* s02 */ SELECT customer_id, phone FROM crm.customers WHERE email = 'ada@example.com'";
        ok(exec_my(&mut u101, s02).await, s02)?;
        let s03 = "/* s03 */ SELECT c.last_name /* email */, o.total -- phone\nFROM crm.customers c JOIN crm.orders o ON o.customer_id = c.customer_id\nWHERE c.customer_id IN (10002, '10003') AND c.first_name <> 'it\\'s the ''phone'''";
        ok(exec_my(&mut u200, s03).await, s03)?;
        let s04 = "/* s04 */ SELECT count(*) FROM crm.customers";
        ok(exec_my(&mut u200, s04).await, s04)?;
        let s05 = "/* s05 */ SELECT email FROM crm.customers WHERE customer_id = 10004";
        ok(exec_my(&mut u999, s05).await, s05)?;
        let s06 = "/* s06 */ SELECT total FROM crm.orders WHERE customer_id = 10001";
        if exec_my(&mut u999, s06).await.is_ok() {
            return Err("s06 should have been denied".to_string());
        }
        let s07 = "/* s07 */ SELECT email FROM crm.customers WHERE customer_idx = 10001";
        if exec_my(&mut u200, s07).await.is_ok() {
            return Err("s07 should have failed".to_string());
        }
        let s08 = format!(
            "/* s08 */ SELECT customer_id, email, phone INTO OUTFILE '{}' FROM crm.customers",
            export.display()
        );
        ok(exec_my(&mut u200, &s08).await, &s08)?;
        for s in [
            "BEGIN",
            "/* s09 */ UPDATE crm.customers SET phone = '555-0000' WHERE customer_id = 10005",
            "ROLLBACK",
        ] {
            ok(exec_my(&mut u200, s).await, s)?;
        }
        for s in [
            "SET @cid = 10006",
            "PREPARE q10 FROM '/* s10 */ SELECT last_name FROM crm.customers WHERE customer_id = ?'",
            "EXECUTE q10 USING @cid",
            "/* s15 */ SELECT email FROM crm.customers WHERE customer_id = @cid",
        ] {
            ok(exec_my(&mut u101, s).await, s)?;
        }
        // The binary protocol: a bound parameter.
        let s11 = "/* s11 */ SELECT email FROM crm.customers WHERE customer_id = ?";
        sqlx::query(s11)
            .bind(10007i32)
            .fetch_all(&mut u101)
            .await
            .map_err(|e| format!("{s11}: {e}"))?;
        let s12 = "/* s12 */ SELECT email FROM crm.customers WHERE customer_id = 10001";
        ok(exec_my(&mut svc, s12).await, s12)?;
        let s13 = "/* s13 */ SELECT * FROM crm.customers WHERE customer_id = 10008";
        ok(exec_my(&mut u200, s13).await, s13)?;
        let s14 = "/* s14 */ SELECT email\nFROM crm.customers\nWHERE customer_id = 10009 OR customer_id = 10010";
        ok(exec_my(&mut u200, s14).await, s14)?;
        let s16 = "/* s16 — Łódź */ SELECT email FROM crm.customers WHERE last_name = 'Müller-Łukasiewicz' OR customer_id = '10012'";
        ok(exec_my(&mut u101, s16).await, s16)?;
        for conn in [u101, u200, u999, svc] {
            conn.close().await.ok();
        }
        // The plugin writes a statement's record after the client has its
        // answer, and a connection's DISCONNECT after its last statement's
        // record: wait for all four before logging stops and the server goes.
        let done = |t: &str| {
            MY_USERS.iter().all(|u| {
                let who = format!(",{u},");
                t.lines()
                    .any(|l| l.contains(&who) && l.contains(",DISCONNECT,"))
            })
        };
        written(&[&file], done, "every disconnection").await?;
        exec_my(&mut admin, "SET GLOBAL server_audit_logging = OFF")
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }
    .await;
    admin.close().await.ok();
    drop(m);
    let _ = std::fs::remove_file(&export);
    result
}

/// Waits up to 30 s until every file holds what `done` looks for.
async fn written(files: &[&Path], done: impl Fn(&str) -> bool, what: &str) -> Result<(), String> {
    for _ in 0..300 {
        if files
            .iter()
            .all(|f| std::fs::read_to_string(f).is_ok_and(|t| done(&t)))
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    Err(format!(
        "{}: {what} not logged within 30 s",
        names.join(", ")
    ))
}
