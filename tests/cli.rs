//! The `keyhole` binary as a user meets it: the demo, `keyhole check` on
//! every kind of source, and one clear line for each kind of bad input, with
//! no password anywhere in the output.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Server, scratch};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn keyhole(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_keyhole"));
    c.args(args)
        .current_dir(home)
        .env_remove("DATABASE_URL")
        .env_remove("KEYHOLE_CONFIG")
        .env_remove("PGPASSWORD")
        .env_remove("MYSQL_PWD")
        .env_remove("RUST_BACKTRACE")
        .env_remove("KEYHOLE_LOG")
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"));
    for (k, v) in env {
        c.env(k, v);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().expect("run keyhole");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

fn demo(home: &Path, name: &str) -> PathBuf {
    let path = home.join(name);
    let p = path.to_str().unwrap();
    let r = keyhole(
        home,
        &[
            "demo",
            "--no-tui",
            "--path",
            p,
            "--events",
            "3000",
            "--anchor",
            "2026-11-01",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    path
}

#[test]
fn demo_builds_prints_path_and_counts_and_is_deterministic() {
    let home = tempfile::tempdir().unwrap();
    let a = demo(home.path(), "a.sqlite");
    let b = demo(home.path(), "b.sqlite");
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        "same seed and anchor, same bytes"
    );
    let r = keyhole(
        home.path(),
        &[
            "demo",
            "--no-tui",
            "--path",
            a.to_str().unwrap(),
            "--events",
            "3000",
            "--anchor",
            "2026-11-01",
        ],
        &[],
    );
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("already up to date"), "{}", r.stdout);
    assert!(r.stdout.contains(&a.display().to_string()));
    assert!(
        r.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("access_audit") && l.trim_end().ends_with("3000")),
        "{}",
        r.stdout
    );
    let r = keyhole(
        home.path(),
        &[
            "demo",
            "--no-tui",
            "--path",
            a.to_str().unwrap(),
            "--events",
            "3000",
            "--seed",
            "2",
            "--anchor",
            "2026-11-01",
        ],
        &[],
    );
    assert!(
        r.stdout.contains("built in"),
        "a different seed rebuilds: {}",
        r.stdout
    );
    assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn demo_refuses_to_overwrite_a_file_that_is_not_a_demo() {
    let home = tempfile::tempdir().unwrap();
    let p = home.path().join("precious.sqlite");
    std::fs::write(&p, b"not a database").unwrap();
    let r = keyhole(
        home.path(),
        &["demo", "--no-tui", "--path", p.to_str().unwrap()],
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("is not a keyhole demo database"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read(&p).unwrap(), b"not a database");
}

#[test]
fn check_passes_on_the_demo_and_lists_unnamed_roles() {
    let home = tempfile::tempdir().unwrap();
    let path = demo(home.path(), "demo.sqlite");
    let url = format!("sqlite://{}", path.display());
    let r = keyhole(home.path(), &["check", "--db", &url], &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    for want in [
        "ok    read-only: file opened read-only (mode=ro), query_only=1, ATTACH limit 0",
        "ok    staff.sql: 150 rows",
        "ok    subjects.sql: 20000 rows",
        "warn  roles the policy does not name (deny by default): contractor (2 staff)",
    ] {
        assert!(r.stdout.contains(want), "missing {want:?} in\n{}", r.stdout);
    }
    assert!(!r.stdout.contains("FAIL"));
}

#[test]
fn check_with_no_source_uses_the_demo_database() {
    let home = tempfile::tempdir().unwrap();
    // DATABASE_URL is the fallback when nothing else names a source.
    let path = demo(home.path(), "demo.sqlite");
    let url = format!("sqlite://{}", path.display());
    let r = keyhole(home.path(), &["check"], &[("DATABASE_URL", &url)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("database demo.sqlite"), "{}", r.stdout);
}

/// With no `--db`, no config and no DATABASE_URL, keyhole builds the demo
/// in its data folder and works on it; a second run reuses the same file.
#[test]
fn with_no_source_anywhere_keyhole_builds_and_uses_the_demo() {
    let home = tempfile::tempdir().unwrap();
    let r = keyhole(home.path(), &["check"], &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.starts_with("ok    connected: sqlite ")
            && r.stdout
                .lines()
                .next()
                .unwrap()
                .ends_with("(database demo.sqlite)"),
        "{}",
        r.stdout
    );
    let demo = home.path().join("data/keyhole/demo.sqlite");
    let built = std::fs::metadata(&demo).expect("the demo in the data folder");
    let r = keyhole(
        home.path(),
        &[
            "report",
            "flags",
            "--format",
            "json",
            "--from",
            "2026-01-01",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["source"]["dialect"], "sqlite");
    assert_eq!(v["source"]["database"], "demo.sqlite");
    assert!(v["flags"].as_array().unwrap().len() > 10);
    assert_eq!(
        std::fs::metadata(&demo).unwrap().modified().unwrap(),
        built.modified().unwrap(),
        "the second run reuses the demo"
    );
}

/// The config is found in the documented order (`--config`,
/// `$KEYHOLE_CONFIG`, `./keyhole.toml`, `$XDG_CONFIG_HOME/keyhole/`), each
/// naming a different copy of the demo; and a config's `queries`, `policy`
/// and `ledger` are relative to the config file, not to the working folder.
#[test]
fn the_config_is_found_in_order_and_its_paths_are_relative_to_it() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let demo = demo(h, "demo.sqlite");
    let write = |path: &Path, text: String| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    for name in ["a", "b", "c", "d"] {
        std::fs::copy(&demo, h.join(format!("{name}.sqlite"))).unwrap();
    }
    let url = |name: &str| {
        format!(
            "url = \"sqlite://{}\"\n",
            h.join(format!("{name}.sqlite")).display()
        )
    };
    write(&h.join("explicit/keyhole.toml"), url("a"));
    write(&h.join("env.toml"), url("b"));
    write(&h.join("keyhole.toml"), url("c"));
    write(&h.join("config/keyhole/keyhole.toml"), url("d"));
    let explicit = h.join("explicit/keyhole.toml");
    let env_cfg = h.join("env.toml");
    let used = |args: &[&str], env: &[(&str, &str)]| {
        let r = keyhole(h, args, env);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        r.stdout.lines().next().unwrap().to_string()
    };
    let env = [("KEYHOLE_CONFIG", env_cfg.to_str().unwrap())];
    assert!(
        used(&["check", "--config", explicit.to_str().unwrap()], &env)
            .ends_with("(database a.sqlite)")
    );
    assert!(used(&["check"], &env).ends_with("(database b.sqlite)"));
    assert!(used(&["check"], &[]).ends_with("(database c.sqlite)"));
    std::fs::remove_file(h.join("keyhole.toml")).unwrap();
    assert!(used(&["check"], &[]).ends_with("(database d.sqlite)"));
    // Relative paths: from the config's folder, whatever the working folder.
    let sub = h.join("sub");
    std::fs::create_dir_all(sub.join("q")).unwrap();
    for f in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/queries/sqlite")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), sub.join("q").join(f.file_name())).unwrap();
    }
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo-policy.toml"),
        sub.join("p.toml"),
    )
    .unwrap();
    write(
        &sub.join("keyhole.toml"),
        format!(
            "{}queries = \"q\"\npolicy = \"p.toml\"\nledger = \"l.sqlite\"\n",
            url("a")
        ),
    );
    let cfg = sub.join("keyhole.toml");
    let r = keyhole(h, &["check", "--config", cfg.to_str().unwrap()], &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let shown = |p: &str| format!("{}/{p}", sub.display());
    assert!(
        r.stdout
            .contains(&format!("ok    queries: {}\n", shown("q"))),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains(&format!("ok    policy: {} ", shown("p.toml"))),
        "{}",
        r.stdout
    );
    let r = keyhole(
        h,
        &[
            "report",
            "flags",
            "--config",
            cfg.to_str().unwrap(),
            "--reveal",
            "--reason",
            "test",
            "--from",
            "2026-01-01",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        sub.join("l.sqlite").exists(),
        "the ledger beside the config"
    );
    assert!(!h.join("l.sqlite").exists());
}

fn copy_queries(home: &Path) -> PathBuf {
    let dir = home.join("q");
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/queries/sqlite")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    dir
}

#[test]
fn a_missing_column_names_the_file_and_the_column() {
    let home = tempfile::tempdir().unwrap();
    let path = demo(home.path(), "demo.sqlite");
    let q = copy_queries(home.path());
    let staff = std::fs::read_to_string(q.join("staff.sql")).unwrap();
    std::fs::write(
        q.join("staff.sql"),
        staff.replace("END AS role", "END AS job"),
    )
    .unwrap();
    let url = format!("sqlite://{}", path.display());
    let r = keyhole(
        home.path(),
        &["check", "--db", &url, "--queries", q.to_str().unwrap()],
        &[],
    );
    assert_eq!(r.code, 1);
    let line = format!(
        "FAIL  {}: missing required column `role`",
        q.join("staff.sql").display()
    );
    assert!(r.stdout.contains(&line), "{}", r.stdout);
}

#[test]
fn a_missing_required_file_is_a_usage_error_and_a_missing_optional_one_turns_a_feature_off() {
    let home = tempfile::tempdir().unwrap();
    let path = demo(home.path(), "demo.sqlite");
    let url = format!("sqlite://{}", path.display());
    let q = copy_queries(home.path());
    std::fs::remove_file(q.join("relationships.sql")).unwrap();
    let r = keyhole(
        home.path(),
        &["check", "--db", &url, "--queries", q.to_str().unwrap()],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout.contains(
            "off   relationships.sql absent: relationships (no_relationship is not evaluated"
        ),
        "{}",
        r.stdout
    );
    std::fs::remove_file(q.join("subjects.sql")).unwrap();
    let r = keyhole(
        home.path(),
        &["check", "--db", &url, "--queries", q.to_str().unwrap()],
        &[],
    );
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr.trim(),
        format!(
            "keyhole: {}: required query file is missing",
            q.join("subjects.sql").display()
        )
    );
}

#[test]
fn a_refused_query_file_names_file_line_and_column() {
    let home = tempfile::tempdir().unwrap();
    let path = demo(home.path(), "demo.sqlite");
    let url = format!("sqlite://{}", path.display());
    let q = copy_queries(home.path());
    std::fs::write(
        q.join("disclosures.sql"),
        "SELECT 1 AS disclosure_id;\n  DELETE FROM legal_requests",
    )
    .unwrap();
    let r = keyhole(
        home.path(),
        &["check", "--db", &url, "--queries", q.to_str().unwrap()],
        &[],
    );
    assert_eq!(r.code, 1);
    let line = format!(
        "FAIL  {}: refused: line 2, column 3: a query file must hold exactly one statement",
        q.join("disclosures.sql").display()
    );
    assert!(r.stdout.contains(&line), "{}", r.stdout);
}

#[test]
fn bad_urls_and_missing_files_get_one_line() {
    let home = tempfile::tempdir().unwrap();
    let r = keyhole(
        home.path(),
        &["check", "--db", "oracle://db/prod", "--policy", "x.toml"],
        &[],
    );
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("unsupported database URL"),
        "{}",
        r.stderr
    );
    let r = keyhole(
        home.path(),
        &["check", "--db", "sqlite:///nonexistent/k.sqlite"],
        &[],
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("no such file"), "{}", r.stderr);
}

#[test]
fn a_server_source_without_a_policy_is_a_usage_error() {
    let home = tempfile::tempdir().unwrap();
    let r = keyhole(
        home.path(),
        &["check", "--db", "postgres://nobody@127.0.0.1/prod"],
        &[],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no policy"), "{}", r.stderr);
}

#[test]
fn a_password_on_the_command_line_is_refused_and_never_echoed() {
    let home = tempfile::tempdir().unwrap();
    let r = keyhole(
        home.path(),
        &[
            "check",
            "--db",
            "postgres://auditor:Hunter2-secret@127.0.0.1/prod",
            "--policy",
            "p.toml",
        ],
        &[],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("passwords never come from the command line"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("Hunter2-secret") && !r.stdout.contains("Hunter2-secret"));
}

#[test]
fn config_errors_name_file_line_and_column() {
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join("keyhole.toml");
    std::fs::write(&cfg, "url = \"sqlite://x\"\nstatement_timeout = 5\n").unwrap();
    let r = keyhole(home.path(), &["check"], &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("keyhole: keyhole.toml:2:1: unknown field `statement_timeout`"),
        "{}",
        r.stderr
    );
}

#[tokio::test]
async fn a_wrong_password_fails_in_one_line_without_the_password() {
    let Some(my) = scratch(Server::Mariadb).await else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let policy = DEMO_POLICY;
    std::fs::write(
        home.path().join("keyhole.toml"),
        format!("url = \"{}\"\npassword_env = \"KH_TEST_PW\"\npolicy = \"{policy}\"\nconnect_timeout_s = 5\n", my.url()),
    )
    .unwrap();
    let secret = "Wr0ng-Pa55word!";
    let r = keyhole(home.path(), &["check"], &[("KH_TEST_PW", secret)]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("cannot connect"), "{}", r.stderr);
    assert!(!r.stderr.contains(secret) && !r.stdout.contains(secret));
    // The log has the failure with its chain, and never the password.
    let log = std::fs::read_to_string(home.path().join("state/keyhole/keyhole.log")).unwrap();
    assert!(
        log.contains("ERROR") && log.contains("cannot connect"),
        "{log}"
    );
    assert!(!log.contains(secret), "{log}");
    // A password inside a configured URL is masked in errors too.
    std::fs::write(
        home.path().join("keyhole.toml"),
        format!("url = \"postgres://auditor:{}@127.0.0.1:1/prod\"\npolicy = \"{policy}\"\nconnect_timeout_s = 3\n", "Url-S3cret"),
    )
    .unwrap();
    let r = keyhole(home.path(), &["check"], &[]);
    assert_eq!(r.code, 1);
    assert!(!r.stderr.contains("Url-S3cret"), "{}", r.stderr);
    assert!(r.stderr.contains("auditor:***@"), "{}", r.stderr);
}

const DEMO_POLICY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo-policy.toml");

/// A scratch database on `server` holding a demo of `events` events ending
/// today, and a home directory to run keyhole from.
async fn demo_on(server: Server, events: u64) -> Option<(common::Scratch, tempfile::TempDir)> {
    let s = scratch(server).await?;
    let settings = keyhole::demo::DemoSettings {
        events,
        seed: 1,
        anchor: chrono::Utc::now().date_naive(),
    };
    keyhole::demo::load_into(&s.url(), None, &settings, |_| {})
        .await
        .unwrap();
    Some((s, tempfile::tempdir().unwrap()))
}

async fn check_server(server: Server) {
    let Some((s, home)) = demo_on(server, 3000).await else {
        return;
    };
    let policy = DEMO_POLICY;
    // As an administrator: every query works, but the role could write.
    let r = keyhole(
        home.path(),
        &["check", "--db", &s.url(), "--policy", policy],
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("could write"), "{}", r.stdout);
    assert!(
        r.stdout.contains("keyhole_ro"),
        "the advice shows how to make a read-only role: {}",
        r.stdout
    );
    assert!(
        r.stdout.contains("ok    access_events.sql:"),
        "{}",
        r.stdout
    );
    // As a SELECT-only login: every check passes.
    let ro = s.read_only_login().await;
    let r = keyhole(
        home.path(),
        &["check", "--db", &ro, "--policy", policy],
        &[],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("FAIL"), "{}", r.stdout);
    assert!(
        r.stdout.contains("ok    staff.sql: 150 rows"),
        "{}",
        r.stdout
    );
}

#[tokio::test]
async fn check_passes_on_postgres_for_a_read_only_role_and_fails_for_one_that_can_write() {
    check_server(Server::Postgres).await;
}

#[tokio::test]
async fn check_passes_on_mariadb_for_a_read_only_user_and_fails_for_one_that_can_write() {
    check_server(Server::Mariadb).await;
}

/// A tiny schema whose query files exercise the contract's edge cases.
fn edge_fixture(home: &Path) -> (String, PathBuf) {
    let db = home.join("edge.sqlite");
    let q = home.join("edge-queries");
    std::fs::create_dir_all(&q).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::{ConnectOptions, Executor};
        let mut c = sqlx::sqlite::SqliteConnectOptions::new().filename(&db).create_if_missing(true).connect().await.unwrap();
        c.execute(
            "CREATE TABLE s (id, name, role); INSERT INTO s VALUES (1, 'A', 'support'), (2, 'B', ' Intern ');
             CREATE TABLE c (id, name); INSERT INTO c VALUES (10, 'X');
             CREATE TABLE e (id, at, staff, subj); INSERT INTO e VALUES (100, '2026-03-02 10:00:00', 1, 10), (100, '2026-03-02 11:00:00', 1, 10);
             CREATE TABLE d (id, kind, status); INSERT INTO d VALUES (5, 'subpoena', 'pending'), (6, 'letter', 'open');
             CREATE TABLE i (did, subj); INSERT INTO i VALUES (5, 10), (99, 10);",
        )
        .await
        .unwrap();
    });
    let w = |name: &str, sql: &str| std::fs::write(q.join(name), sql).unwrap();
    w(
        "staff.sql",
        "SELECT id AS staff_id, name AS display_name, role FROM s",
    );
    w(
        "subjects.sql",
        "SELECT id AS Subject_ID, name AS display_name FROM c",
    );
    w(
        "access_events.sql",
        "SELECT id AS event_id, at AS occurred_at, staff AS staff_id, subj AS subject_id, 'view' AS action, 'contact' AS data_category \
         FROM e WHERE at >= ?1 AND at < ?2",
    );
    w(
        "disclosures.sql",
        "SELECT id AS disclosure_id, kind, 'Court' AS requester, '2026-03-01' AS received_at, status FROM d",
    );
    w(
        "disclosure_items.sql",
        "SELECT did AS disclosure_id, subj AS subject_id, 'contact' AS data_category FROM i",
    );
    (format!("sqlite://{}", db.display()), q)
}

#[test]
fn check_warns_about_duplicates_unknown_values_roles_and_an_empty_marketing_list() {
    let home = tempfile::tempdir().unwrap();
    let (db, q) = edge_fixture(home.path());
    let policy = home.path().join("p.toml");
    std::fs::write(&policy, "[roles.support]\ncategories = [\"contact\"]\n").unwrap();
    let r = keyhole(
        home.path(),
        &[
            "check",
            "--db",
            &db,
            "--queries",
            q.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
        ],
        &[],
    );
    // The fixture's two accesses are in March 2026: outside check's last-30-days window,
    // so the duplicate event id is checked through a report below.
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    for want in [
        "warn  disclosure_items.sql: 1 item(s) name unknown disclosure 99; they are ignored",
        "warn  disclosures.sql: disclosure 5 has unknown status \"pending\"; treated as open",
        "warn  disclosures.sql: disclosure 6 has unknown kind \"letter\"; treated as other",
        "warn  roles the policy does not name (deny by default): intern (1 staff)",
        "warn  policy: marketing_purposes is empty, so opt_out_ignored cannot fire",
        "off   relationships.sql absent",
    ] {
        assert!(r.stdout.contains(want), "missing {want:?} in\n{}", r.stdout);
    }
    // A duplicate event id is judged as two events.
    let r = keyhole(
        home.path(),
        &[
            "report",
            "accesses",
            "--format",
            "json",
            "--db",
            &db,
            "--queries",
            q.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-03",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.contains("\"event_id\":\"100\""))
            .count(),
        2
    );
    // Their flags share a key, so the second is numbered in the report's order.
    let r = keyhole(
        home.path(),
        &[
            "report",
            "flags",
            "--format",
            "json",
            "--db",
            &db,
            "--queries",
            q.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-03",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let keys: Vec<&str> = doc["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .filter(|k| k.contains("/e:100"))
        .collect();
    assert!(!keys.is_empty());
    for k in &keys {
        let base = k.trim_end_matches("#2");
        assert!(keys.contains(&base), "{k} without its first: {keys:?}");
    }
    assert_eq!(
        keys.iter().filter(|k| k.ends_with("#2")).count() * 2,
        keys.len(),
        "{keys:?}"
    );
}

#[test]
fn column_and_row_errors_name_the_file_the_column_and_the_row() {
    let home = tempfile::tempdir().unwrap();
    let (db, q) = edge_fixture(home.path());
    let policy = home.path().join("p.toml");
    std::fs::write(&policy, "").unwrap();
    let args = |q: &Path| {
        vec![
            "check".to_string(),
            "--db".into(),
            db.clone(),
            "--queries".into(),
            q.display().to_string(),
            "--policy".into(),
            policy.display().to_string(),
        ]
    };
    let run = |q: &Path| {
        let a = args(q);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        keyhole(home.path(), &a, &[])
    };
    // A used column twice.
    std::fs::write(
        q.join("staff.sql"),
        "SELECT id AS staff_id, name AS display_name, role, role AS ROLE FROM s",
    )
    .unwrap();
    let r = run(&q);
    assert!(
        r.stdout.contains(&format!(
            "FAIL  {}: column `role` appears 2 times",
            q.join("staff.sql").display()
        )),
        "{}",
        r.stdout
    );
    // NULL in a required column names the row's id.
    std::fs::write(
        q.join("staff.sql"),
        "SELECT id AS staff_id, name AS display_name, role FROM s",
    )
    .unwrap();
    std::fs::write(
        q.join("subjects.sql"),
        "SELECT id AS subject_id, name AS display_name FROM c UNION ALL SELECT 11, NULL",
    )
    .unwrap();
    std::fs::write(
        q.join("disclosures.sql"),
        "SELECT id AS disclosure_id, kind, NULL AS requester, '2026-03-01' AS received_at, status FROM d",
    )
    .unwrap();
    let r = run(&q);
    assert!(
        r.stdout.contains("ok    subjects.sql: 2 rows"),
        "a NULL display_name is empty: {}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!(
            "FAIL  {}: column `requester`, row disclosure_id=5: NULL in a required column",
            q.join("disclosures.sql").display()
        )),
        "{}",
        r.stdout
    );
    // An id returned twice.
    std::fs::write(q.join("staff.sql"), "SELECT 1 AS staff_id, 'A' AS display_name, 'support' AS role UNION ALL SELECT 1, 'B', 'support'").unwrap();
    let r = run(&q);
    assert!(
        r.stdout.contains(&format!(
            "FAIL  {}: id 1 is returned twice",
            q.join("staff.sql").display()
        )),
        "{}",
        r.stdout
    );
    assert_eq!(r.code, 1);
}

#[test]
fn the_log_records_the_source_each_query_file_and_the_window_but_no_personal_value() {
    let home = tempfile::tempdir().unwrap();
    let db = demo(home.path(), "demo.sqlite");
    let url = format!("sqlite://{}", db.display());
    let r = keyhole(
        home.path(),
        &[
            "report", "subject", "--id", "10050", "--db", &url, "--format", "json", "--reveal",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let log = std::fs::read_to_string(home.path().join("state/keyhole/keyhole.log")).unwrap();
    assert!(
        log.contains("source opened") && log.contains("dialect=\"sqlite\""),
        "{log}"
    );
    for file in ["staff.sql", "subjects.sql", "relationships.sql"] {
        let line = log
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("{file}: {log}"));
        assert!(line.contains("rows=") && line.contains("ms="), "{line}");
    }
    assert!(
        log.contains("audit started") && log.contains("from=1970-01-01T00:00:00Z"),
        "{log}"
    );
    // The report names the subject; the log does not.
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let name = doc["subject"]["display_name"].as_str().unwrap();
    assert!(!log.contains(name), "a personal value reached the log");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.path().join("state/keyhole/keyhole.log"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the log is readable by others: {mode:o}");
    }
}

#[test]
fn a_window_flag_before_to_is_a_usage_error_for_the_dashboard_too() {
    let home = tempfile::tempdir().unwrap();
    let db = demo(home.path(), "demo.sqlite");
    let url = format!("sqlite://{}", db.display());
    // The dashboard needs a terminal; a bad window is refused before that check matters.
    for args in [
        vec![
            "report",
            "flags",
            "--db",
            &url,
            "--from",
            "2026-10-02",
            "--to",
            "2026-10-01",
        ],
        vec!["--db", &url, "--from", "tomorrow"],
    ] {
        let r = keyhole(home.path(), &args, &[]);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(
            r.stderr.contains("--from") && !r.stderr.contains("terminal"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn an_unwritable_output_names_the_target_and_leaves_nothing_behind() {
    let home = tempfile::tempdir().unwrap();
    let db = demo(home.path(), "demo.sqlite");
    let url = format!("sqlite://{}", db.display());
    let target = home.path().join("missing/dir/flags.json");
    let t = target.to_str().unwrap();
    let r = keyhole(
        home.path(),
        &["report", "flags", "--db", &url, "--output", t],
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("--output {t}")), "{}", r.stderr);
    // A report that fails after the file was opened leaves neither it nor its temporary.
    let out = home.path().join("flags.json");
    let o = out.to_str().unwrap();
    let r = keyhole(
        home.path(),
        &[
            "report",
            "subject",
            "--id",
            "no-such-person",
            "--db",
            &url,
            "--output",
            o,
        ],
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!out.exists() && !out.with_extension("partial").exists());
}

#[test]
fn a_panic_is_one_line_on_stderr_and_a_full_report_in_the_log() {
    let home = tempfile::tempdir().unwrap();
    let r = keyhole(home.path(), &["check"], &[("KEYHOLE_TEST_PANIC", "1")]);
    assert_eq!(r.code, 101, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr
            .starts_with("keyhole: internal error: forced for a test"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("keyhole.log"), "{}", r.stderr);
    let log = std::fs::read_to_string(home.path().join("state/keyhole/keyhole.log")).unwrap();
    assert!(
        log.contains("internal error") && log.contains("forced for a test"),
        "{log}"
    );
    assert!(log.contains("backtrace="), "{log}");
}

/// `check` prints the plan of the windowed access query and warns when it
/// scans a large access log whole, naming the index to create; with the
/// index in place the warning goes.
async fn check_plan_on_server(server: Server) {
    let Some((s, home)) = demo_on(server, 2000).await else {
        return;
    };
    let policy = DEMO_POLICY;
    let check = || {
        keyhole(
            home.path(),
            &["check", "--db", &s.url(), "--policy", policy],
            &[],
        )
    };
    let warning = "full scan of access_audit";
    let r = check();
    assert!(
        r.stdout
            .contains("access_events.sql (built-in): plan of the windowed query (EXPLAIN):"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains(warning),
        "a small or indexed log: {}",
        r.stdout
    );
    // 150,000 more rows over three years, no index on the window column.
    let fill = match server {
        Server::Postgres => {
            "INSERT INTO access_audit (log_id, logged_at, emp_no, customer_id, op) \
             SELECT 10000000 + g, now() - g * interval '10 minutes', 1, 1, 'view' FROM generate_series(1, 150000) g"
        }
        Server::Mariadb => {
            "INSERT INTO access_audit (log_id, logged_at, emp_no, customer_id, op) \
             SELECT 10000000 + seq, NOW() - INTERVAL seq * 10 MINUTE, 1, 1, 'view' FROM seq_1_to_150000"
        }
    };
    let (drop, analyze) = match server {
        Server::Postgres => ("DROP INDEX access_audit_logged_at", "ANALYZE access_audit"),
        Server::Mariadb => (
            "DROP INDEX access_audit_logged_at ON access_audit",
            "ANALYZE TABLE access_audit",
        ),
    };
    s.admin(&[fill, drop, analyze]).await;
    let r = check();
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains(warning))
        .unwrap_or_else(|| panic!("no full-scan warning in\n{}", r.stdout));
    assert!(line.starts_with("warn  "), "{line}");
    assert!(
        line.contains("CREATE INDEX ON access_audit (logged_at)"),
        "{line}"
    );
    let rows: u64 = line
        .split("(about ")
        .nth(1)
        .and_then(|x| x.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no row estimate in {line}"));
    assert!(rows >= 100_000, "{line}");
    s.admin(&[
        "CREATE INDEX access_audit_logged_at ON access_audit (logged_at)",
        analyze,
    ])
    .await;
    let r = check();
    assert!(!r.stdout.contains(warning), "indexed again: {}", r.stdout);
}

#[tokio::test]
async fn check_prints_the_plan_and_names_the_missing_index_on_postgres() {
    check_plan_on_server(Server::Postgres).await;
}

#[tokio::test]
async fn check_prints_the_plan_and_names_the_missing_index_on_mariadb() {
    check_plan_on_server(Server::Mariadb).await;
}

#[tokio::test]
async fn check_prints_the_sqlite_plan_and_warns_without_the_window_index() {
    use sqlx::{Connection, Executor};
    let home = tempfile::tempdir().unwrap();
    let path = demo(home.path(), "demo.sqlite");
    let url = format!("sqlite://{}", path.display());
    let r = keyhole(home.path(), &["check", "--db", &url], &[]);
    assert!(
        r.stdout
            .contains("plan of the windowed query (EXPLAIN QUERY PLAN):"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("USING INDEX access_audit_logged_at"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("full scan of"), "{}", r.stdout);
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    c.execute("DROP INDEX access_audit_logged_at")
        .await
        .unwrap();
    c.close().await.unwrap();
    let r = keyhole(home.path(), &["check", "--db", &url], &[]);
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("full scan of access_audit"))
        .unwrap_or_else(|| panic!("no full-scan warning in\n{}", r.stdout));
    assert!(line.starts_with("warn  "), "{line}");
    assert!(
        line.contains("CREATE INDEX ON access_audit (logged_at)"),
        "{line}"
    );
}

/// A report over a quarter holds at most two sessions on the server while it
/// runs (one reads, a second only ever cancels), and leaves none behind.
async fn sessions_during_a_report(server: Server) {
    let Some(s) = scratch(server).await else {
        return;
    };
    let today = chrono::Utc::now().date_naive();
    let settings = keyhole::demo::DemoSettings {
        events: 20_000,
        seed: 1,
        anchor: today,
    };
    keyhole::demo::load_into(&s.url(), None, &settings, |_| {})
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let policy = DEMO_POLICY;
    let from = (today - chrono::Duration::days(90)).to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyhole"))
        .args([
            "report",
            "accesses",
            "--format",
            "csv",
            "--db",
            &s.url(),
            "--policy",
            policy,
            "--from",
            &from,
            "--to",
            &today.to_string(),
        ])
        .env("XDG_STATE_HOME", home.path())
        .env("XDG_DATA_HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let count = match server {
        Server::Postgres => format!(
            "SELECT count(*)::text FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
            s.name
        ),
        Server::Mariadb => format!(
            "SELECT CAST(count(*) AS CHAR) FROM information_schema.PROCESSLIST WHERE DB = '{}' AND ID <> CONNECTION_ID()",
            s.name
        ),
    };
    let mut most = 0u32;
    let status = loop {
        let n: u32 = s.admin_text(&count).await.parse().unwrap();
        most = most.max(n);
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
    };
    assert!(status.success(), "{status}");
    assert!(most >= 1, "the report's session was never seen");
    assert!(most <= 2, "{most} sessions at once");
    let mut left = u32::MAX;
    for _ in 0..50 {
        left = s.admin_text(&count).await.parse().unwrap();
        if left == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(left, 0, "sessions left behind");
}

#[tokio::test]
async fn a_report_holds_at_most_two_postgres_sessions_and_leaves_none() {
    sessions_during_a_report(Server::Postgres).await;
}

#[tokio::test]
async fn a_report_holds_at_most_two_mariadb_sessions_and_leaves_none() {
    sessions_during_a_report(Server::Mariadb).await;
}

fn audit_fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/audit-logs/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// `keyhole check --audit-log` says, per log, its format, span and records,
/// statements by user, events, service accounts skipped, unknown users and
/// the records it could not read, by line.
#[test]
fn check_describes_each_audit_log() {
    let home = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", demo(home.path(), "demo.sqlite").display());
    let broken = home.path().join("broken.log");
    let mut text = std::fs::read_to_string(audit_fixture("mariadb.log")).unwrap();
    text.push_str("not a record\n");
    std::fs::write(&broken, text).unwrap();
    let pg = audit_fixture("postgres.csv");
    let r = keyhole(
        home.path(),
        &[
            "check",
            "--db",
            &db,
            "--audit-log",
            &pg,
            "--audit-log",
            broken.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains("audit log"))
        .collect();
    let has = |s: &str| lines.iter().any(|l| l.contains(s));
    assert!(
        has("ok    audit log postgres.csv: pgaudit-csv, 2026-12-01T"),
        "{lines:#?}"
    );
    assert!(
        has("audit log postgres.csv: statements by user: app_svc 1, u101 6, u200 9, u999 1"),
        "{lines:#?}"
    );
    assert!(
        has("audit log postgres.csv: 15 events; 1 failed statement(s) skipped"),
        "{lines:#?}"
    );
    assert!(
        has("audit log postgres.csv: service accounts skipped: app_svc 1"),
        "{lines:#?}"
    );
    assert!(
        has(
            "warn  audit log postgres.csv: database users no staff member's db_user names (their events go to staff db:USER): u999"
        ),
        "{lines:#?}"
    );
    assert!(
        has("ok    audit log broken.log: server_audit,"),
        "{lines:#?}"
    );
    let n = std::fs::read_to_string(&broken).unwrap().lines().count();
    assert!(
        has(&format!(
            "warn  audit log broken.log: 1 record(s) could not be read: line {n} (not a server_audit record)"
        )),
        "{lines:#?}"
    );
}

/// `[[audit_log]]` in the config names logs with their settings; a wrong
/// one is a usage error naming the file, line and column.
#[test]
fn the_config_names_audit_logs_and_a_wrong_setting_names_its_line() {
    let home = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", demo(home.path(), "demo.sqlite").display());
    let cfg = home.path().join("keyhole.toml");
    std::fs::write(
        &cfg,
        format!(
            "url = \"{db}\"\n[[audit_log]]\npath = \"{}\"\nformat = \"server_audit\"\ntimezone = \"UTC\"\n",
            audit_fixture("mariadb.log")
        ),
    )
    .unwrap();
    let r = keyhole(
        home.path(),
        &[
            "report",
            "accesses",
            "--format",
            "json",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-02",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout.matches("\"mariadb.log:").count(),
        16,
        "{}",
        r.stdout
    );
    std::fs::write(
        &cfg,
        format!("url = \"{db}\"\n[[audit_log]]\npath = \"x.log\"\nformat = \"pgbadger\"\n"),
    )
    .unwrap();
    let r = keyhole(home.path(), &["check"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // Found as ./keyhole.toml, it is named so.
    assert_eq!(
        r.stderr.trim(),
        "keyhole: keyhole.toml:4:10: unknown audit log format \"pgbadger\" (pgaudit, pgaudit-csv or server_audit)"
    );
    // A missing log is a runtime error naming it.
    std::fs::remove_file(&cfg).unwrap();
    let r = keyhole(
        home.path(),
        &[
            "report",
            "flags",
            "--db",
            &db,
            "--audit-log",
            "/nonexistent/pg.log",
        ],
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("audit log /nonexistent/pg.log: No such file"),
        "{}",
        r.stderr
    );
}

/// The progress line goes to standard error only when it is a terminal
/// (here a pty made by `script`): a day at a time, overwritten in place and
/// cleared at the end; into a pipe, nothing.
#[test]
fn the_progress_line_shows_on_a_terminal_and_is_cleared() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            !common::require_dbs(),
            "script(1) is needed for the pty test"
        );
        common::skip("script(1) is not installed");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", demo(home.path(), "demo.sqlite").display());
    let typescript = home.path().join("pty.txt");
    let cmd = format!(
        "XDG_STATE_HOME={h} XDG_DATA_HOME={h} {bin} report flags --db {db} --from 2026-10-01 --to 2026-10-04 --output {h}/flags.txt",
        h = home.path().display(),
        bin = env!("CARGO_BIN_EXE_keyhole"),
    );
    let o = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &cmd])
        .arg(&typescript)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let pty = std::fs::read_to_string(&typescript).unwrap();
    for day in ["2026-10-01", "2026-10-02", "2026-10-03"] {
        assert!(pty.contains(&format!("\r  reading {day}\x1b[K")), "{pty:?}");
    }
    // The last thing on the line is the clearing: no progress is left behind.
    let last = pty.rfind("reading").unwrap();
    assert!(pty[last..].contains("\r\x1b[K"), "{pty:?}");
    assert!(home.path().join("flags.txt").exists());
    // Into a pipe: no progress at all.
    let r = keyhole(
        home.path(),
        &[
            "report",
            "flags",
            "--db",
            &db,
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-04",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("reading"), "{:?}", r.stderr);
}

/// Another session holds ACCESS EXCLUSIVE on the access log (a migration,
/// say): keyhole's statement gives up at lock_timeout with one line naming
/// the query file, and leaves no session of its own behind.
#[tokio::test]
async fn a_locked_access_log_gives_up_at_lock_timeout_in_one_line() {
    let Some((s, home)) = demo_on(Server::Postgres, 2000).await else {
        return;
    };
    std::fs::write(
        home.path().join("keyhole.toml"),
        format!(
            "url = \"{}\"\npolicy = \"{DEMO_POLICY}\"\nstatement_timeout_s = 6\n",
            s.url()
        ),
    )
    .unwrap();
    use sqlx::{Connection, Executor};
    let mut locker = sqlx::PgConnection::connect(&s.url()).await.unwrap();
    locker.execute("BEGIN").await.unwrap();
    locker
        .execute("LOCK TABLE access_audit IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let h = home.path().to_path_buf();
    let r = tokio::task::spawn_blocking(move || keyhole(&h, &["report", "flags"], &[]))
        .await
        .unwrap();
    let took = started.elapsed();
    eprintln!("stderr: {}", r.stderr.trim());
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("access_events.sql"), "{}", r.stderr);
    assert!(r.stderr.contains("lock timeout"), "{}", r.stderr);
    // lock_timeout is half the statement timeout: 3 s, not 6.
    assert!(took < std::time::Duration::from_secs(6), "{took:?}");
    let count = format!(
        "SELECT count(*)::text FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid() AND pid <> {}",
        s.name,
        sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()")
            .fetch_one(&mut locker)
            .await
            .unwrap()
    );
    let mut left = u32::MAX;
    for _ in 0..50 {
        left = s.admin_text(&count).await.parse().unwrap();
        if left == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(left, 0, "keyhole left sessions behind");
    locker.execute("ROLLBACK").await.unwrap();
    locker.close().await.ok();
}

/// The report's session, killed on the server in the middle of a report
/// (`pg_terminate_backend`, MariaDB `KILL`): exit 1 with one line, and no
/// `--output` file, whole or partial.
async fn a_backend_killed_mid_report(server: Server) {
    let Some((s, home)) = demo_on(server, 60_000).await else {
        return;
    };
    let mut child = spawn_accesses_report(&s.url(), home.path());
    let (find, kill) = match server {
        Server::Postgres => (
            format!(
                "SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid() AND query LIKE '%access_audit%'",
                s.name
            ),
            "SELECT pg_terminate_backend({})::text",
        ),
        Server::Mariadb => (
            format!(
                "SELECT CAST(GROUP_CONCAT(ID) AS CHAR) FROM information_schema.PROCESSLIST WHERE DB = '{}' AND ID <> CONNECTION_ID() AND INFO LIKE '%access_audit%'",
                s.name
            ),
            "KILL {}",
        ),
    };
    // One admin connection polls as fast as it can: a day's statement is
    // short, and the report must be caught inside one.
    use sqlx::{AssertSqlSafe, Connection, Executor};
    let mut killed = false;
    match server {
        Server::Postgres => {
            let mut admin = sqlx::PgConnection::connect(&s.url()).await.unwrap();
            while child.try_wait().unwrap().is_none() && !killed {
                let ids: Option<String> = sqlx::query_scalar(AssertSqlSafe(find.clone()))
                    .fetch_one(&mut admin)
                    .await
                    .unwrap();
                for id in ids.iter().flat_map(|x| x.split(',')) {
                    admin
                        .execute(AssertSqlSafe(kill.replace("{}", id)))
                        .await
                        .unwrap();
                    killed = true;
                }
            }
        }
        Server::Mariadb => {
            let mut admin = sqlx::MySqlConnection::connect(&s.url()).await.unwrap();
            while child.try_wait().unwrap().is_none() && !killed {
                let ids: Option<String> = sqlx::query_scalar(AssertSqlSafe(find.clone()))
                    .fetch_one(&mut admin)
                    .await
                    .unwrap();
                for id in ids.iter().flat_map(|x| x.split(',')) {
                    // The session may have ended on its own in between.
                    killed |= admin
                        .execute(AssertSqlSafe(kill.replace("{}", id)))
                        .await
                        .is_ok();
                }
            }
        }
    }
    let o = child.wait_with_output().unwrap();
    assert!(
        killed,
        "the report ended before its session could be killed"
    );
    let stderr = failed_cleanly(o, home.path());
    assert!(stderr.starts_with("keyhole: queries/"), "{stderr}");
    assert!(
        stderr.contains("terminating connection due to administrator command")
            || stderr.contains("the server closed the connection"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_postgres_backend_killed_mid_report_exits_1_and_leaves_no_output() {
    a_backend_killed_mid_report(Server::Postgres).await;
}

#[tokio::test]
async fn a_mariadb_connection_killed_mid_report_exits_1_and_leaves_no_output() {
    a_backend_killed_mid_report(Server::Mariadb).await;
}

/// The rest of the bad input a user can give, each with one line that says
/// what and where, and its exit status.
#[test]
fn more_bad_input_gets_one_line_and_the_right_exit_status() {
    let home = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", demo(home.path(), "demo.sqlite").display());
    let one_line = |r: &Run, code: i32, want: &str| {
        assert_eq!(r.code, code, "{}{}", r.stdout, r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.contains(want), "want {want:?} in {}", r.stderr);
    };
    // An unknown --rule.
    let r = keyhole(
        home.path(),
        &["report", "flags", "--db", &db, "--rule", "vip_acess"],
        &[],
    );
    one_line(&r, 2, "--rule \"vip_acess\": unknown rule");
    // A query file the server cannot run: its message, with the file.
    let q = copy_queries(home.path());
    std::fs::write(
        q.join("staff.sql"),
        "SELECT staff_id, display_name, role FROM no_such_table\n",
    )
    .unwrap();
    let r = keyhole(
        home.path(),
        &[
            "report",
            "flags",
            "--db",
            &db,
            "--queries",
            q.to_str().unwrap(),
        ],
        &[],
    );
    one_line(&r, 1, "staff.sql: no such table: no_such_table");
    // A ledger that is not one.
    let ledger = home.path().join("not-a-ledger.sqlite");
    std::fs::write(&ledger, "this is no SQLite file, and certainly no ledger\n").unwrap();
    let r = keyhole(
        home.path(),
        &["review", "list", "--ledger", ledger.to_str().unwrap()],
        &[],
    );
    one_line(&r, 1, "not-a-ledger.sqlite");
    assert!(r.stderr.contains("not a database"), "{}", r.stderr);
    // A config whose password_env names a variable that is not set.
    let cfg = home.path().join("pw.toml");
    std::fs::write(
        &cfg,
        format!("url = \"{db}\"\npassword_env = \"KH_NOT_SET_ANYWHERE\"\n"),
    )
    .unwrap();
    let r = keyhole(
        home.path(),
        &["check", "--config", cfg.to_str().unwrap()],
        &[],
    );
    one_line(
        &r,
        2,
        "password_env names KH_NOT_SET_ANYWHERE, which is not set",
    );
}

/// The server itself stops in the middle of a report (a scratch cluster of
/// the test's own, stopped with `pg_ctlcluster … stop -m immediate`): exit 1
/// with one line, and no output file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_stopped_mid_report_exits_1_and_leaves_no_output() {
    if !common::cluster::usable() {
        return;
    }
    let c = common::cluster::Cluster::start(
        "stop",
        &["--auth=trust"],
        "\nlisten_addresses = '127.0.0.1'\n",
    )
    .unwrap();
    c.psql("postgres", "CREATE DATABASE shop").unwrap();
    let seen = "SELECT count(*) FROM pg_stat_activity WHERE datname = 'shop' AND query LIKE '%FROM access_audit%' AND query NOT LIKE 'INSERT%' AND query NOT LIKE 'COPY%' AND pid <> pg_backend_pid()";
    server_stopped_mid_report(
        &format!("postgres://postgres@127.0.0.1:{}/shop", c.port),
        || c.psql("postgres", seen),
        || {
            c.stop_now().unwrap();
        },
    )
    .await;
}

/// The same on MariaDB: a server of the test's own, killed outright while
/// the report reads the access log.
#[tokio::test]
async fn a_mariadb_server_stopped_mid_report_exits_1_and_leaves_no_output() {
    if !common::mariadb::available() {
        assert!(!common::require_dbs(), "a scratch MariaDB is needed");
        common::skip("no mariadb-install-db here");
        return;
    }
    let m = std::cell::RefCell::new(common::mariadb::Instance::start(&[]).unwrap());
    m.borrow().sql("CREATE DATABASE shop").unwrap();
    let url = m.borrow().url("root", "shop");
    let seen = "SELECT count(*) FROM information_schema.PROCESSLIST WHERE DB = 'shop' AND INFO LIKE '%FROM access_audit%' AND ID <> CONNECTION_ID()";
    server_stopped_mid_report(&url, || m.borrow().sql(seen), || m.borrow_mut().crash()).await;
}

/// Loads the demo into `url`, starts a report on it, and calls `stop` as
/// soon as `seen` (a count, run by the admin) shows it reading the access
/// log: the report must exit 1 with one line saying the server went away,
/// and leave no output file.
async fn server_stopped_mid_report(
    url: &str,
    seen: impl Fn() -> Result<String, String>,
    stop: impl FnOnce(),
) {
    let settings = keyhole::demo::DemoSettings {
        events: 60_000,
        seed: 1,
        anchor: chrono::Utc::now().date_naive(),
    };
    keyhole::demo::load_into(url, None, &settings, |_| {})
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let child = spawn_accesses_report(url, home.path());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut stop = Some(stop);
    while std::time::Instant::now() < deadline && stop.is_some() {
        if seen().is_ok_and(|o| o.trim() != "0" && !o.trim().is_empty()) {
            (stop.take().unwrap())();
        }
    }
    let o = child.wait_with_output().unwrap();
    assert!(
        stop.is_none(),
        "the report ended before the server could be stopped"
    );
    let stderr = failed_cleanly(o, home.path());
    // Wherever the report was (connecting, or reading a file), the line
    // says the server went away.
    assert!(
        stderr.contains("the server closed the connection") || stderr.contains("cannot connect"),
        "{stderr}"
    );
}

/// `report accesses` over the 120 days before today into `home/accesses.csv`,
/// with stderr captured: the report the fault tests break.
fn spawn_accesses_report(url: &str, home: &Path) -> std::process::Child {
    let today = chrono::Utc::now().date_naive();
    let from = (today - chrono::Duration::days(120)).to_string();
    let out = home.join("accesses.csv");
    Command::new(env!("CARGO_BIN_EXE_keyhole"))
        .args([
            "report",
            "accesses",
            "--format",
            "csv",
            "--db",
            url,
            "--policy",
            DEMO_POLICY,
        ])
        .args([
            "--from",
            &from,
            "--to",
            &today.to_string(),
            "--output",
            out.to_str().unwrap(),
        ])
        .env("XDG_STATE_HOME", home)
        .env("XDG_DATA_HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env_remove("RUST_BACKTRACE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// A report that failed as it should: exit 1, one line on stderr (returned),
/// and no output file, whole or partial.
fn failed_cleanly(o: std::process::Output, home: &Path) -> String {
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    eprintln!("stderr: {}", stderr.trim());
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let left: Vec<_> = std::fs::read_dir(home)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("accesses"))
        .collect();
    assert!(left.is_empty(), "output left behind: {left:?}");
    stderr
}

/// `keyhole report flags | head` and the like: when whoever reads stdout has
/// gone, every command stops quietly with status 0, in every format.
#[test]
fn a_closed_stdout_stops_every_command_quietly() {
    let home = tempfile::tempdir().unwrap();
    let db = demo(home.path(), "d.sqlite");
    let url = format!("sqlite://{}", db.display());
    let window = ["--from", "2026-09-01", "--to", "2026-11-01"];
    let mut cases: Vec<Vec<&str>> = Vec::new();
    for format in ["table", "csv", "json", "md"] {
        let mut a = vec!["--db", &url, "report", "flags", "--format", format];
        a.extend(window);
        cases.push(a);
    }
    cases.push(vec!["--db", &url, "check"]);
    let mut mine = vec!["--db", &url, "explain", "--mine"];
    mine.extend(window);
    cases.push(mine);
    for args in &cases {
        let mut c = common::keyhole_command(home.path());
        c.args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        // The reader is gone before keyhole writes a byte.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("Broken pipe") && !stderr.contains("panicked"),
            "{args:?}: {stderr}"
        );
    }
}
