//! Database audit logs (CONTRACT section 8), from logs real servers wrote.
//! The exercise in `capture.rs` ran on PostgreSQL with pgAudit (stderr and
//! csvlog) and on MariaDB with server_audit; the events each statement must
//! become are written down below from the exercise, not from keyhole's
//! output. The committed fixtures are checked everywhere; a fresh capture
//! is checked where the servers are (always under KEYHOLE_REQUIRE_DBS=1), so
//! a new server version is caught.

mod capture;
#[path = "../common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use keyhole::dblog::{Format, LogSpec, LogSummary, read_all};
use keyhole::model::{DbAccess, DbEvents};
use keyhole::policy::Policy;
use rustc_hash::FxHashMap;

const POLICY: &str = include_str!("../fixtures/audit-logs/policy.toml");

/// One event a statement must become: staff, table, subject, action,
/// category.
type Want = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
);

/// What each marked statement of the exercise must become, on both
/// servers unless the server is named.
fn expected(server: &str) -> BTreeMap<&'static str, Vec<Want>> {
    let mut m: BTreeMap<&'static str, Vec<Want>> = BTreeMap::new();
    // u101 is staff 101, u200 staff 200; u999 is nobody's login.
    m.insert(
        "s01",
        vec![("101", "crm.customers", Some("10001"), "view", "contact")],
    );
    m.insert(
        "s02",
        vec![("101", "crm.customers", None, "view", "contact")],
    );
    // A join: `email` in a comment and `phone` in a literal are not touched;
    // both tables' subject_key is compared through the IN list.
    m.insert(
        "s03",
        vec![
            ("200", "crm.customers", Some("10002"), "view", "identity"),
            ("200", "crm.customers", Some("10003"), "view", "identity"),
            ("200", "crm.orders", Some("10002"), "view", "order_history"),
            ("200", "crm.orders", Some("10003"), "view", "order_history"),
        ],
    );
    // An aggregate touches no personal column.
    m.insert("s04", vec![]);
    m.insert(
        "s05",
        vec![("db:u999", "crm.customers", Some("10004"), "view", "contact")],
    );
    // Denied, and failed while running: no event.
    m.insert("s06", vec![]);
    m.insert("s07", vec![]);
    m.insert(
        "s08",
        vec![("200", "crm.customers", None, "export", "contact")],
    );
    // Rolled back, but the person's data was read and written.
    m.insert(
        "s09",
        vec![("200", "crm.customers", Some("10005"), "update", "contact")],
    );
    // A prepared statement: pgAudit logs its parameter; server_audit logs
    // the text with `?`, which names nobody.
    m.insert(
        "s10",
        vec![(
            "101",
            "crm.customers",
            if server == "postgres" {
                Some("10006")
            } else {
                None
            },
            "view",
            "identity",
        )],
    );
    m.insert(
        "s11",
        vec![(
            "101",
            "crm.customers",
            if server == "postgres" {
                Some("10007")
            } else {
                None
            },
            "view",
            "contact",
        )],
    );
    // A service account's statement is never an event.
    m.insert("s12", vec![]);
    // `*` touches every mapped column; the smallest category by bytes wins.
    m.insert(
        "s13",
        vec![("200", "crm.customers", Some("10008"), "view", "address")],
    );
    m.insert(
        "s14",
        vec![
            ("200", "crm.customers", Some("10009"), "view", "contact"),
            ("200", "crm.customers", Some("10010"), "view", "contact"),
        ],
    );
    // UTF-8 in a comment and a literal; the name compared is not the key.
    m.insert(
        "s16",
        vec![("101", "crm.customers", Some("10012"), "view", "contact")],
    );
    if server == "mariadb" {
        // A user variable set earlier on the connection names its subject.
        m.insert(
            "s15",
            vec![("101", "crm.customers", Some("10006"), "view", "contact")],
        );
    }
    m
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audit-logs")
}

fn logins() -> FxHashMap<String, String> {
    [("u101", "101"), ("u200", "200")]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn read(path: &Path) -> (std::sync::Arc<DbEvents>, LogSummary) {
    let policy = Policy::parse("test policy", POLICY).unwrap();
    let (events, mut sums) = read_all(&[LogSpec::new(path)], &policy.audit, &logins())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (events, sums.remove(0))
}

/// The marker (`s01`) of the statement whose first record is at `line`.
fn marker_at(path: &Path, format: Format, line: u64) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let find = |s: &str| {
        s.find("/* s")
            .map(|i| s[i + 3..i + 6].to_string())
            .unwrap_or_default()
    };
    let first = lines[line as usize - 1];
    match format {
        Format::ServerAudit => {
            // The statement's QUERY record carries its text: same connection and query id.
            let f: Vec<&str> = first.splitn(7, ',').collect();
            let (conn, query) = (f[4], f[5]);
            lines[line as usize - 1..]
                .iter()
                .find(|l| {
                    let g: Vec<&str> = l.splitn(8, ',').collect();
                    g.len() > 7 && g[4] == conn && g[5] == query && g[6] == "QUERY"
                })
                .map(|l| find(l))
                .unwrap_or_default()
        }
        _ => find(first),
    }
}

/// Checks a log's events against the table, statement by statement.
fn check(path: &Path, format: Format, server: &str) {
    let (log, summary) = read(path);
    let events: Vec<DbAccess> = log.events.iter().map(|e| log.get(e)).collect();
    assert_eq!(summary.format, Some(format), "{}", path.display());
    assert_eq!(summary.unparsed, 0, "{:?}", summary.unparsed_lines);
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut got: BTreeMap<String, Vec<Want>> = BTreeMap::new();
    let mut ids: Vec<String> = Vec::new();
    for e in &events {
        let id = e.event_id.to_string();
        let parts: Vec<&str> = id.split(':').collect();
        assert_eq!(parts[0], name, "{id}");
        let line: u64 = parts[1].parse().unwrap();
        let table = parts[2];
        let marker = marker_at(path, format, line);
        assert!(
            !marker.is_empty(),
            "{id}: no exercise statement at line {line}"
        );
        assert_eq!(e.client_ip, Some("127.0.0.1"), "{id}");
        assert!(e.detail.contains(&format!("line {line}")), "{}", e.detail);
        assert!(
            !e.detail.contains("10001") && !e.detail.contains("@example.com"),
            "{}",
            e.detail
        );
        ids.push(id.clone());
        let w: Want = (
            leak(e.staff_id),
            leak(table),
            e.subject_id.map(leak),
            e.action,
            leak(e.data_category),
        );
        got.entry(marker).or_default().push(w);
    }
    let want = expected(server);
    for (step, evs) in &want {
        let g = got.remove(*step).unwrap_or_default();
        assert_eq!(&g, evs, "{}: statement {step}", path.display());
        // Every step ran and reached the log (denied ones but for pgAudit, which logs none).
        let logged = std::fs::read_to_string(path)
            .unwrap()
            .contains(&format!("/* {step} "));
        assert!(
            logged || *step == "s06",
            "{}: {step} is not in the log",
            path.display()
        );
    }
    assert!(
        got.is_empty(),
        "{}: events of no expected statement: {got:?}",
        path.display()
    );
    // Several subjects: ids FILE:LINE:TABLE:N from 1 in text order.
    let multi: Vec<&String> = ids.iter().filter(|i| i.split(':').count() == 4).collect();
    assert!(
        multi.iter().all(|i| i.ends_with(":1") || i.ends_with(":2")),
        "{multi:?}"
    );
    // The summary says who ran what.
    assert!(
        summary.service_skipped.contains_key("app_svc"),
        "{summary:?}"
    );
    assert!(summary.unknown_users.contains("u999"), "{summary:?}");
    assert!(summary.failed >= 1, "{summary:?}");
    assert!(summary.untouched >= 1, "{summary:?}");
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

#[test]
fn the_committed_pgaudit_stderr_log_gives_the_written_down_events() {
    check(
        &fixtures().join("postgres.log"),
        Format::Pgaudit,
        "postgres",
    );
}

#[test]
fn the_committed_pgaudit_csvlog_gives_the_written_down_events() {
    check(
        &fixtures().join("postgres.csv"),
        Format::PgauditCsv,
        "postgres",
    );
}

#[test]
fn the_committed_server_audit_log_gives_the_written_down_events() {
    check(
        &fixtures().join("mariadb.log"),
        Format::ServerAudit,
        "mariadb",
    );
}

#[test]
fn both_postgres_formats_give_the_same_events_but_their_ids() {
    let strip = |v: std::sync::Arc<DbEvents>| {
        v.events
            .iter()
            .map(|e| {
                let a = v.get(e);
                (
                    a.occurred_at,
                    a.staff_id.to_string(),
                    a.subject_id.map(str::to_string),
                    a.action,
                    a.data_category.to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    let (a, _) = read(&fixtures().join("postgres.log"));
    let (b, _) = read(&fixtures().join("postgres.csv"));
    assert_eq!(strip(a), strip(b));
}

/// A scratch folder the MariaDB server may write into too.
fn shared_tempdir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    d
}

/// With KEYHOLE_WRITE_AUDIT_FIXTURES=1 a fresh capture replaces the
/// committed fixtures.
fn keep(out: &Path, names: &[&str]) {
    if std::env::var("KEYHOLE_WRITE_AUDIT_FIXTURES").is_ok_and(|v| v == "1") {
        for n in names {
            std::fs::copy(out.join(n), fixtures().join(n)).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_pgaudit_capture_gives_the_written_down_events() {
    if let Some(why) = capture::postgres_missing() {
        if common::require_dbs() {
            panic!("KEYHOLE_REQUIRE_DBS=1 but pgAudit cannot run: {why}");
        }
        common::skip(&why);
        return;
    }
    let out = shared_tempdir();
    capture::postgres(out.path()).await.unwrap();
    check(
        &out.path().join("postgres.log"),
        Format::Pgaudit,
        "postgres",
    );
    check(
        &out.path().join("postgres.csv"),
        Format::PgauditCsv,
        "postgres",
    );
    keep(out.path(), &["postgres.log", "postgres.csv"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_server_audit_capture_gives_the_written_down_events() {
    let out = shared_tempdir();
    match capture::mariadb(out.path()).await {
        Err(e) if e.starts_with("MariaDB:") && !common::require_dbs() => {
            common::skip(&e);
            return;
        }
        r => r.unwrap(),
    }
    check(
        &out.path().join("mariadb.log"),
        Format::ServerAudit,
        "mariadb",
    );
    keep(out.path(), &["mariadb.log"]);
}

/// A captured log with records broken in ways a real file breaks: a line
/// cut short, a stray line, an unterminated quote.
fn damaged(from: &str, to: &Path, edit: impl Fn(&mut Vec<String>)) {
    let text = std::fs::read_to_string(fixtures().join(from)).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    edit(&mut lines);
    std::fs::write(to, lines.join("\n") + "\n").unwrap();
}

#[test]
fn unreadable_records_are_counted_by_line_and_the_rest_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let pg = dir.path().join("pg.log");
    damaged("postgres.log", &pg, |l| {
        l.insert(5, "this line is not PostgreSQL's".into());
        let audit = l.iter().position(|x| x.contains("/* s05 */")).unwrap();
        l[audit] = l[audit].replace("AUDIT: OBJECT,1,1,READ", "AUDIT: \"OBJECT,1,1,READ");
    });
    let (log, s) = read(&pg);
    let events: Vec<DbAccess> = log.events.iter().map(|e| log.get(e)).collect();
    assert_eq!(s.unparsed, 2, "{:?}", s.unparsed_lines);
    assert_eq!(s.unparsed_lines[0].0, 6);
    let w = s.warning().unwrap();
    assert!(
        w.starts_with("audit log pg.log: 2 record(s) could not be read, at line(s) 6, "),
        "{w}"
    );
    // s05's SESSION twin still stands for the statement.
    assert!(events.iter().any(|e| e.staff_id == "db:u999"));
    assert!(events.iter().any(|e| e.action == "export"));

    let my = dir.path().join("my.log");
    damaged("mariadb.log", &my, |l| {
        let q = l.iter().position(|x| x.contains("/* s01 */")).unwrap();
        // The object's closing quote is lost.
        let cut = l[q].rfind("',").unwrap();
        l[q].truncate(cut);
        l.push("20261301 99:00:00,vm,u101,127.0.0.1,1,1,QUERY,crm,'x',0".into());
    });
    let (log, s) = read(&my);
    let events: Vec<DbAccess> = log.events.iter().map(|e| log.get(e)).collect();
    assert_eq!(s.unparsed, 2, "{:?}", s.unparsed_lines);
    assert!(
        s.unparsed_lines[1].1.contains("malformed time"),
        "{:?}",
        s.unparsed_lines
    );
    assert!(!events.iter().any(|e| e.subject_id == Some("10001")));
    assert!(events.iter().any(|e| e.action == "export"));
}

#[test]
fn a_prefix_without_the_user_is_a_usage_error_naming_it() {
    let spec = LogSpec {
        format: Some(Format::Pgaudit),
        log_line_prefix: Some("%m [%p] ".into()),
        ..LogSpec::new(fixtures().join("postgres.log"))
    };
    let policy = Policy::parse("test policy", POLICY).unwrap();
    let e = read_all(&[spec], &policy.audit, &logins()).unwrap_err();
    assert!(matches!(e, keyhole::dblog::DbLogError::Usage(_)));
    assert!(e.to_string().ends_with("lacks %u (the user)"), "{e}");
}

#[test]
fn a_log_read_with_the_wrong_prefix_gives_no_events_and_says_so() {
    let spec = LogSpec {
        format: Some(Format::Pgaudit),
        log_line_prefix: Some("%t [%p]: user=%u,db=%d ".into()),
        ..LogSpec::new(fixtures().join("postgres.log"))
    };
    let policy = Policy::parse("test policy", POLICY).unwrap();
    let (events, sums) = read_all(&[spec], &policy.audit, &logins()).unwrap();
    assert!(events.is_empty());
    assert!(sums[0].unparsed > 0 && sums[0].warning().is_some());
}

/// Each captured log cut, spliced and sprinkled with quotes, commas, tabs,
/// backslashes and multi-byte characters, a few hundred times over: every
/// damaged file is read to the end without a panic, and damage never makes
/// more events than the exercise has.
#[test]
fn damaged_logs_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let policy = Policy::parse("test policy", POLICY).unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    };
    const NOISE: [&str; 10] = ["'", "\"", ",", "\t", "\\", "\n", "é", "€", "\n\t", "''"];
    for (name, format) in [
        ("postgres.log", Format::Pgaudit),
        ("postgres.csv", Format::PgauditCsv),
        ("mariadb.log", Format::ServerAudit),
    ] {
        let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
        for round in 0..150 {
            let mut chars: Vec<char> = text.chars().collect();
            for _ in 0..1 + next(8) {
                let at = next(chars.len());
                match next(3) {
                    0 => {
                        let n = next(40).min(chars.len() - at);
                        chars.drain(at..at + n);
                    }
                    1 => {
                        for c in NOISE[next(NOISE.len())].chars().rev() {
                            chars.insert(at, c);
                        }
                    }
                    _ => chars.truncate(at),
                }
            }
            let path = dir.path().join(format!("{round}-{name}"));
            std::fs::write(&path, chars.into_iter().collect::<String>()).unwrap();
            let spec = LogSpec {
                format: Some(format),
                ..LogSpec::new(&path)
            };
            let r = std::panic::catch_unwind(|| read_all(&[spec], &policy.audit, &logins()));
            let Ok(r) = r else {
                panic!("reading {} panicked", path.display());
            };
            let (events, sums) = r.unwrap();
            assert!(events.len() <= 40, "{}", path.display());
            assert_eq!(sums.len(), 1);
        }
    }
}
