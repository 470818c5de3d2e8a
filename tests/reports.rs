//! `keyhole report` end to end: every violation planted in the demo is
//! reported, the same data in three databases gives the same flags, each
//! format matches its golden file, and the options behave.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Server, scratch};

const ANCHOR: &str = "2026-11-01";
const WINDOW: [&str; 6] = [
    "--from",
    "2026-08-03",
    "--to",
    "2026-11-01",
    "--as-of",
    "2026-11-01T12:00:00Z",
];

use common::Run as Out;

fn keyhole(home: &Path, args: &[&str]) -> Out {
    common::keyhole_in(home, args, &[("COLUMNS", "120")])
}

fn settings() -> keyhole::demo::DemoSettings {
    keyhole::demo::DemoSettings {
        events: 6000,
        seed: 3,
        anchor: chrono::NaiveDate::parse_from_str(ANCHOR, "%Y-%m-%d").unwrap(),
    }
}

async fn demo(dir: &Path) -> PathBuf {
    let path = dir.join("demo.sqlite");
    keyhole::demo::ensure_sqlite(&path, &settings(), false, |_| {})
        .await
        .unwrap();
    path
}

/// A home folder with the demo in it, and the demo's URL.
async fn demo_db() -> (tempfile::TempDir, String) {
    let home = tempfile::tempdir().unwrap();
    let path = demo(home.path()).await;
    let db = format!("sqlite://{}", path.display());
    (home, db)
}

fn flags_json(home: &Path, db: &str, extra: &[&str]) -> serde_json::Value {
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo-policy.toml");
    let mut args = vec![
        "report", "flags", "--format", "json", "--db", db, "--policy", policy,
    ];
    args.extend(WINDOW);
    args.extend(extra);
    let r = keyhole(home, &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

#[tokio::test]
async fn every_violation_planted_in_the_demo_is_reported() {
    let home = tempfile::tempdir().unwrap();
    let path = demo(home.path()).await;
    let db = format!("sqlite://{}", path.display());
    let doc = flags_json(home.path(), &db, &[]);
    let flags = doc["flags"].as_array().unwrap();
    let planted = planted_list(&path).await;
    assert!(planted.len() >= 24, "{planted:?}");
    let mut rules_seen = std::collections::BTreeSet::new();
    for (rule, key) in &planted {
        let found = flags.iter().any(|f| {
            f["rule"] == rule.as_str()
                && match keyhole::rules::Rule::from_name(rule).unwrap().kind() {
                    keyhole::rules::RuleKind::Event => f["event_ids"][0] == key.as_str(),
                    keyhole::rules::RuleKind::StaffDay => {
                        format!(
                            "{} {}",
                            f["staff_id"].as_str().unwrap(),
                            f["day"].as_str().unwrap()
                        ) == *key
                    }
                    keyhole::rules::RuleKind::Disclosure => f["disclosure_id"] == key.as_str(),
                    keyhole::rules::RuleKind::Request => f["request_id"] == key.as_str(),
                }
        });
        assert!(found, "planted {rule} {key} was not reported");
        rules_seen.insert(rule.clone());
    }
    // direct_db_access comes from a database audit log, not from the
    // demo database: the next test reads a captured one beside it.
    assert!(!rules_seen.contains("direct_db_access"));
    assert_eq!(
        rules_seen.len(),
        keyhole::rules::Rule::COUNT - 1,
        "a planted violation of every rule: {rules_seen:?}"
    );
}

/// A DBA exported customers: the captured pgAudit log read beside the demo
/// names who (staff 200, the demo's engineer with login u200), which people
/// and which data, and flags it.
#[tokio::test]
async fn a_direct_export_in_a_captured_audit_log_is_judged_beside_the_demo() {
    let (home, db) = demo_db().await;
    let log = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/audit-logs/postgres.log"
    );
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo-policy.toml");
    let window = [
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-02",
        "--as-of",
        "2026-12-02T12:00:00Z",
    ];
    let mut args = vec![
        "report",
        "accesses",
        "--format",
        "json",
        "--db",
        &db,
        "--policy",
        policy,
        "--audit-log",
        log,
    ];
    args.extend(window);
    let r = keyhole(home.path(), &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let export: Vec<&serde_json::Value> = rows.iter().filter(|e| e["action"] == "export").collect();
    assert_eq!(export.len(), 1, "{export:?}");
    let e = export[0];
    assert_eq!(e["staff_id"], "200");
    assert_eq!(e["data_category"], "contact");
    assert_eq!(e["purpose"], serde_json::Value::Null);
    assert_eq!(e["client_ip"], "127.0.0.1");
    let id = e["event_id"].as_str().unwrap();
    assert!(
        id.starts_with("postgres.log:") && id.ends_with(":crm.customers"),
        "{id}"
    );
    let flags: Vec<&str> = e["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    // Engineers may see order history only, and only view or search; a
    // database log has no purpose, so the purpose rules stay silent.
    assert_eq!(
        flags,
        [
            "category_not_permitted",
            "action_not_permitted",
            "off_hours",
            "direct_db_access"
        ]
    );
    // Every access from the log is marked by direct_db_access; the app's are not.
    for row in &rows {
        let from_log = row["event_id"]
            .as_str()
            .unwrap()
            .starts_with("postgres.log:");
        let marked = row["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "direct_db_access");
        assert_eq!(from_log, marked, "{row}");
    }
    // The flag's detail names file, line, login, table and kind, and no literal.
    let mut args = vec![
        "report",
        "flags",
        "--format",
        "json",
        "--db",
        &db,
        "--policy",
        policy,
        "--audit-log",
        log,
        "--rule",
        "direct_db_access",
    ];
    args.extend(window);
    let r = keyhole(home.path(), &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let flag = doc["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["event_ids"][0] == id)
        .unwrap();
    let detail = flag["detail"].as_str().unwrap();
    let line = id.split(':').nth(1).unwrap();
    assert_eq!(
        detail,
        format!(
            "database login u200 exported crm.customers directly in the database (COPY … TO; audit log postgres.log line {line})"
        )
    );
    assert_eq!(flag["severity"], "high");
    // Naming the same log twice is a usage error.
    let mut args = vec![
        "report",
        "flags",
        "--db",
        &db,
        "--policy",
        policy,
        "--audit-log",
        log,
        "--audit-log",
        log,
    ];
    args.extend(window);
    let r = keyhole(home.path(), &args);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is named twice"), "{}", r.stderr);
}

/// The planted list, read with keyhole's own read-only source.
async fn planted_list(path: &Path) -> Vec<(String, String)> {
    let url = format!("sqlite://{}", path.display());
    let mut src = keyhole::source::Source::connect(&common::source_options(&url))
        .await
        .unwrap();
    let rows = src
        .probe("SELECT rule, flag_key FROM keyhole_demo_planted")
        .await
        .unwrap();
    src.close().await;
    rows.into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
        .collect()
}

fn comparable(mut v: serde_json::Value) -> serde_json::Value {
    let o = v.as_object_mut().unwrap();
    o.remove("generated_at");
    o.remove("source");
    v
}

#[tokio::test]
async fn the_demo_in_postgres_mariadb_and_sqlite_gives_identical_flags() {
    let home = tempfile::tempdir().unwrap();
    let path = demo(home.path()).await;
    let lite = flags_json(
        home.path(),
        &format!("sqlite://{}", path.display()),
        &["--reveal"],
    );
    assert_eq!(lite["source"]["dialect"], "sqlite");
    assert!(lite["summary"]["flags"].as_u64().unwrap() > 100);
    let Some(pg) = scratch(Server::Postgres).await else {
        return;
    };
    keyhole::demo::load_into(&pg.url(), None, &settings(), |_| {})
        .await
        .unwrap();
    let p = flags_json(home.path(), &pg.url(), &["--reveal"]);
    assert_eq!(p["source"]["database"], pg.name.as_str());
    assert!(
        comparable(p) == comparable(lite.clone()),
        "PostgreSQL flags differ from SQLite"
    );
    let Some(my) = scratch(Server::Mariadb).await else {
        return;
    };
    keyhole::demo::load_into(&my.url(), None, &settings(), |_| {})
        .await
        .unwrap();
    let m = flags_json(home.path(), &my.url(), &["--reveal"]);
    assert!(
        comparable(m) == comparable(lite),
        "MariaDB flags differ from SQLite"
    );
}

fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden")).join(name);
    // generated_at is the only value that changes from run to run.
    let actual: String = actual
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("\"generated_at\"") {
                "  \"generated_at\": \"(volatile)\",".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &actual).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing; run with UPDATE_GOLDEN=1", path.display()));
    if want != actual {
        let line = want
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{name} differs from its golden file at line {}:\n  want: {}\n  got:  {}",
            line + 1,
            want.lines().nth(line).unwrap_or(""),
            actual.lines().nth(line).unwrap_or("")
        );
    }
}

#[tokio::test]
async fn each_format_matches_its_golden_file() {
    let (home, db) = demo_db().await;
    for (kind, format, file, extra) in [
        ("flags", "json", "flags.json", vec![]),
        ("flags", "csv", "flags.csv", vec!["--reveal"]),
        ("flags", "md", "flags.md", vec!["--min-severity", "high"]),
        (
            "flags",
            "table",
            "flags.txt",
            vec![
                "--rule",
                "bulk_access",
                "--rule",
                "after_termination",
                "--rule",
                "request_overdue",
            ],
        ),
        ("staff", "table", "staff.txt", vec![]),
        ("requests", "csv", "requests.csv", vec![]),
        ("disclosures", "md", "disclosures.md", vec![]),
    ] {
        let mut args = vec!["report", kind, "--db", &db, "--format", format];
        args.extend(WINDOW);
        args.extend(extra);
        let r = keyhole(home.path(), &args);
        assert_eq!(r.code, 0, "{kind} {format}: {}", r.stderr);
        golden(file, &r.stdout);
    }
}

/// The demo's hostile staff names, revealed, in the staff report: each
/// cell a spreadsheet would run is defused with `'` (CSV), and no escape,
/// control or bidi character reaches any format raw.
#[tokio::test]
async fn csv_markdown_and_tables_defuse_hostile_names() {
    let (home, db) = demo_db().await;
    let report = |format: &str| {
        let mut args = vec![
            "report", "staff", "--db", &db, "--reveal", "--reason", "test", "--format", format,
        ];
        args.extend(WINDOW);
        let r = keyhole(home.path(), &args);
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        r.stdout
    };
    let raw = |out: &str| {
        out.chars().any(|c| {
            let u = c as u32;
            (u < 0x20 && c != '\n') || (0x7f..=0x9f).contains(&u) || c == '\u{202e}'
        })
    };
    // CSV, read back as a spreadsheet would read it.
    let csv_text = report("csv");
    assert!(!raw(&csv_text), "a raw control in the CSV");
    let mut names = std::collections::BTreeMap::new();
    let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let (id, name) = (col("staff_id"), col("staff_name"));
    for rec in rdr.records() {
        let rec = rec.unwrap();
        names.insert(rec[id].to_string(), rec[name].to_string());
    }
    let name_of = |s: &str| {
        names
            .get(s)
            .cloned()
            .unwrap_or_else(|| panic!("staff {s} missing"))
    };
    assert_eq!(name_of("208"), "'@Robert =1+1");
    for (staff, prefix) in [("209", "'+"), ("210", "'-"), ("213", "'=")] {
        assert!(
            name_of(staff).starts_with(prefix),
            "{staff}: {:?}",
            name_of(staff)
        );
    }
    assert!(
        name_of("166").starts_with("Eve\\x1b]0;owned\\x07 "),
        "{:?}",
        name_of("166")
    );
    // A tab or CR in front is trimmed as the contract reads text: nothing
    // to defuse, nothing hidden.
    for staff in ["211", "212"] {
        let n = name_of(staff);
        assert!(n.starts_with(char::is_alphabetic), "{staff}: {n:?}");
    }
    // Markdown and the table show the same names escaped, never raw.
    // (The table clips the name to its column.)
    for (format, shown) in [
        ("md", "166 (Eve\\x1b]0;owned\\x07 "),
        ("table", "166 (Eve\\"),
    ] {
        let out = report(format);
        assert!(!raw(&out), "a raw control in the {format} output");
        assert!(out.contains(shown), "{format}: {out}");
    }
    // The hostile reference in the access log, on a terminal.
    let mut args = vec!["report", "accesses", "--db", &db, "--format", "table"];
    args.extend(WINDOW);
    let r = keyhole(home.path(), &args);
    assert!(!raw(&r.stdout), "raw escapes reached the terminal");
    assert!(
        r.stdout.contains("\\x1b[2K\\x1b[1A"),
        "the hostile reference is shown escaped"
    );
}

#[tokio::test]
async fn accesses_stream_in_order_with_explanations_and_flags() {
    let (home, db) = demo_db().await;
    let mut args = vec!["report", "accesses", "--db", &db, "--format", "json"];
    args.extend(WINDOW);
    let r = keyhole(home.path(), &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() > 5000);
    let keys: Vec<&str> = lines[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 12);
    let mut prev = String::new();
    for l in &lines {
        let t = l["occurred_at"].as_str().unwrap().to_string();
        assert!(t >= prev, "out of order at {t}");
        prev = t;
    }
    assert!(lines.iter().any(|l| l["explained_by"]["kind"] == "ticket"));
    let spike = lines
        .iter()
        .find(|l| {
            l["flags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == "volume_spike")
        })
        .expect("104's sweep");
    assert_eq!(spike["staff_id"], "104");
    assert!(
        spike["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "bulk_access")
    );
}

#[tokio::test]
async fn options_filter_fail_reveal_and_write_files() {
    let (home, db) = demo_db().await;
    let doc = flags_json(
        home.path(),
        &db,
        &["--rule", "vip_access", "--rule", "OFF_HOURS"],
    );
    let rules: std::collections::BTreeSet<&str> = doc["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["off_hours", "vip_access"].into_iter().collect());
    assert_eq!(
        doc["summary"]["by_rule"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        vec!["vip_access", "off_hours"],
        "section 5 order"
    );
    assert!(
        doc["flags"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["staff_name"].is_null())
    );
    let doc = flags_json(
        home.path(),
        &db,
        &["--min-severity", "critical", "--reveal"],
    );
    assert!(
        doc["flags"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "critical")
    );
    assert!(
        doc["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["staff_name"].is_string())
    );
    let mut base = vec!["report", "flags", "--db", &db];
    base.extend(WINDOW);
    let with = |extra: &[&str]| {
        let mut a = base.clone();
        a.extend(extra);
        keyhole(home.path(), &a)
    };
    assert_eq!(with(&["--fail-on", "critical"]).code, 3);
    assert_eq!(
        with(&["--rule", "off_hours", "--fail-on", "medium"]).code,
        0,
        "off_hours is low"
    );
    assert_eq!(with(&["--rule", "no_such_rule"]).code, 2);
    assert_eq!(
        keyhole(
            home.path(),
            &["report", "flags", "--db", &db, "--from", "yesterday"]
        )
        .code,
        2
    );
    let out = home.path().join("flags.csv");
    let r = with(&["--format", "csv", "--output", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("rule,severity,staff_id,subject_id,event_ids,day,")
    );
    let r = keyhole(
        home.path(),
        &[
            "report",
            "flags",
            "--db",
            &db,
            "--from",
            "2026-11-01",
            "--to",
            "2026-10-01",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("window is empty"), "{}", r.stderr);
}

#[tokio::test]
async fn the_subject_report_answers_an_access_request_and_an_unknown_id_fails() {
    let (home, db) = demo_db().await;
    // 15000 shares staff 182's address: a planted family access.
    let r = keyhole(
        home.path(),
        &[
            "report",
            "subject",
            "--id",
            "15000",
            "--db",
            &db,
            "--format",
            "json",
            "--as-of",
            "2026-11-01T12:00:00Z",
            "--to",
            ANCHOR,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        doc["window"]["from"], "1970-01-01T00:00:00Z",
        "from the beginning of time"
    );
    let acc = doc["accesses"].as_array().unwrap();
    assert!(acc.iter().any(|a| {
        a["staff_id"] == "182"
            && a["flags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == "family_access")
    }));
    assert!(
        doc["subject"]["display_name"].is_null(),
        "names only with --reveal"
    );
    let r = keyhole(
        home.path(),
        &["report", "subject", "--id", "no-such-person", "--db", &db],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("appears in no query file"),
        "{}",
        r.stderr
    );
}

#[tokio::test]
async fn requests_link_the_accesses_that_came_after_them_and_disclosures_sort_by_urgency() {
    let (home, db) = demo_db().await;
    let mut args = vec!["report", "requests", "--db", &db, "--format", "json"];
    args.extend(WINDOW);
    let r = keyhole(home.path(), &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let linked: Vec<(&str, usize)> = doc["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| !q["linked_accesses"].as_array().unwrap().is_empty())
        .map(|q| {
            (
                q["kind"].as_str().unwrap(),
                q["linked_accesses"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert!(
        linked.contains(&("deletion", 1)) && linked.contains(&("opt_out", 1)),
        "{linked:?}"
    );
    let mut args = vec!["report", "disclosures", "--db", &db, "--format", "json"];
    args.extend(WINDOW);
    let r = keyhole(home.path(), &args);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let first = &doc["disclosures"][0];
    assert_eq!(
        first["kind"], "subpoena",
        "the unanswered, overdue subpoena comes first"
    );
    assert!(first["deadline"].as_str().unwrap().starts_with("overdue"));
    let warrant = doc["disclosures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["disclosure_id"] == "39")
        .unwrap();
    let out: Vec<&str> = warrant["items_sent"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["in_scope"] == false)
        .map(|i| i["data_category"].as_str().unwrap())
        .collect();
    assert_eq!(out, vec!["payment"]);
}

#[tokio::test]
async fn tables_fit_the_terminal_width() {
    let (home, db) = demo_db().await;
    for width in ["80", "120"] {
        for kind in ["flags", "accesses", "staff", "requests", "disclosures"] {
            let mut args = vec!["report", kind, "--db", &db, "--format", "table"];
            args.extend(WINDOW);
            let o = Command::new(env!("CARGO_BIN_EXE_keyhole"))
                .args(&args)
                .current_dir(home.path())
                .env("COLUMNS", width)
                .env("XDG_DATA_HOME", home.path().join("data"))
                .env("XDG_STATE_HOME", home.path().join("state"))
                .output()
                .unwrap();
            assert!(o.status.success());
            let w: usize = width.parse().unwrap();
            for line in String::from_utf8_lossy(&o.stdout).lines() {
                assert!(
                    line.chars().count() <= w,
                    "{kind} at {width} columns: {line:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn every_flag_has_a_unique_key_built_from_its_kind() {
    let home = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", demo(home.path()).await.display());
    let doc = flags_json(home.path(), &db, &[]);
    let mut seen = std::collections::HashSet::new();
    for f in doc["flags"].as_array().unwrap() {
        let key = f["key"].as_str().unwrap();
        let rule = f["rule"].as_str().unwrap();
        let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
        let want = if !f["disclosure_id"].is_null() {
            format!("{rule}/d:{}", s("disclosure_id"))
        } else if !f["request_id"].is_null() {
            format!("{rule}/r:{}", s("request_id"))
        } else if !f["day"].is_null() {
            format!("{rule}/s:{}@{}", s("staff_id"), s("day"))
        } else {
            format!("{rule}/e:{}", f["event_ids"][0].as_str().unwrap())
        };
        assert_eq!(key, want);
        assert!(seen.insert(key.to_string()), "{key} twice");
        // The key follows every other key of the flag.
        assert_eq!(f.as_object().unwrap().keys().next_back().unwrap(), "key");
    }
    assert!(seen.len() > 100);
}

/// Keys of a JSON object, in the order printed.
fn keys(v: &serde_json::Value) -> Vec<&str> {
    v.as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// The flags JSON's keys, and the accesses JSON's, are the contract's
/// (section 6), name for name and in order: checked against the contract's
/// own lists, not against keyhole's earlier output.
#[tokio::test]
async fn flags_and_accesses_json_keys_are_the_contracts_in_order() {
    let (home, db) = demo_db().await;
    let doc = flags_json(home.path(), &db, &[]);
    assert_eq!(
        keys(&doc),
        [
            "generated_at",
            "as_of",
            "window",
            "source",
            "flags",
            "summary"
        ]
    );
    assert_eq!(keys(&doc["window"]), ["from", "to"]);
    assert_eq!(keys(&doc["source"]), ["dialect", "database"]);
    assert_eq!(keys(&doc["summary"]), ["events", "flags", "by_rule"]);
    let flags = doc["flags"].as_array().unwrap();
    assert!(flags.len() > 20, "{}", flags.len());
    for f in flags {
        assert_eq!(
            keys(f),
            [
                "rule",
                "severity",
                "staff_id",
                "subject_id",
                "event_ids",
                "day",
                "disclosure_id",
                "request_id",
                "occurred_at",
                "staff_name",
                "subject_name",
                "detail",
                "key"
            ],
            "{f}"
        );
        assert!(f["event_ids"].is_array(), "{f}");
    }
    let mut args = vec!["report", "accesses", "--db", &db, "--format", "json"];
    args.extend(WINDOW);
    let r = keyhole(home.path(), &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut explained = 0;
    for line in r.stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(
            keys(&v),
            [
                "event_id",
                "occurred_at",
                "staff_id",
                "subject_id",
                "action",
                "data_category",
                "purpose",
                "reference",
                "client_ip",
                "record_count",
                "explained_by",
                "flags"
            ],
            "{line}"
        );
        if v["explained_by"].is_object() {
            explained += 1;
            assert_eq!(
                keys(&v["explained_by"]),
                ["kind", "reference", "valid_from", "valid_to"],
                "{line}"
            );
        }
    }
    assert!(explained > 100, "{explained} explained events");
}

fn instant(v: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a timestamp"))
        .unwrap()
        .with_timezone(&chrono::Utc)
}

fn id_key(v: &serde_json::Value) -> (u8, u64, String) {
    let s = v.as_str().unwrap_or_default().to_string();
    match s.parse::<u64>() {
        Ok(n) => (0, n, s),
        Err(_) => (1, 0, s),
    }
}

/// The staff ranking's order, recomputed from the report's own counts by
/// the README's rule (critical, high, medium, low flags, then accesses, all
/// most first, then staff id), and the counts recomputed from the flags.
#[tokio::test]
async fn the_staff_ranking_follows_its_rule() {
    let (home, db) = demo_db().await;
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo-policy.toml");
    let mut args = vec![
        "report", "staff", "--db", &db, "--policy", policy, "--format", "json",
    ];
    args.extend(WINDOW);
    let r = keyhole(home.path(), &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let rows = doc["staff"].as_array().unwrap();
    assert!(rows.len() > 100, "{}", rows.len());
    let n = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap();
    let mut want = rows.clone();
    want.sort_by(|a, b| {
        (
            n(b, "critical"),
            n(b, "high"),
            n(b, "medium"),
            n(b, "low"),
            n(b, "accesses"),
        )
            .cmp(&(
                n(a, "critical"),
                n(a, "high"),
                n(a, "medium"),
                n(a, "low"),
                n(a, "accesses"),
            ))
            .then_with(|| id_key(&a["staff_id"]).cmp(&id_key(&b["staff_id"])))
    });
    let ids = |v: &[serde_json::Value]| v.iter().map(|r| r["staff_id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(rows), ids(&want));
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(n(r, "rank"), i as u64 + 1);
    }
    // The severities counted are the flags report's.
    let flags = flags_json(home.path(), &db, &[]);
    let mut counted: std::collections::BTreeMap<(String, String), u64> = Default::default();
    for f in flags["flags"].as_array().unwrap() {
        if let Some(s) = f["staff_id"].as_str() {
            *counted
                .entry((s.to_string(), f["severity"].as_str().unwrap().to_string()))
                .or_default() += 1;
        }
    }
    let mut nonzero = 0;
    for r in rows {
        let s = r["staff_id"].as_str().unwrap().to_string();
        for sev in ["critical", "high", "medium", "low"] {
            let c = counted
                .get(&(s.clone(), sev.to_string()))
                .copied()
                .unwrap_or(0);
            assert_eq!(n(r, sev), c, "staff {s} {sev}");
            nonzero += c;
        }
    }
    assert!(nonzero > 10, "{nonzero}");
}

/// The disclosure register's order, recomputed from its rows by the
/// README's rule: awaiting an answer with a due date (soonest or most
/// overdue first), awaiting without one (newest first), then the answered,
/// withdrawn and rejected (newest first); ties by id.
#[tokio::test]
async fn the_disclosure_register_sorts_by_urgency() {
    let (home, db) = demo_db().await;
    let r = keyhole(
        home.path(),
        &[
            "report",
            "disclosures",
            "--db",
            &db,
            "--format",
            "json",
            "--from",
            "2025-01-01",
            "--to",
            "2026-12-01",
            "--as-of",
            "2026-12-01",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let rows = doc["disclosures"].as_array().unwrap();
    let class = |d: &serde_json::Value| {
        let awaiting = d["responded_at"].is_null()
            && !matches!(d["status"].as_str(), Some("withdrawn" | "rejected"));
        match (awaiting, d["due_at"].is_null()) {
            (true, false) => 0,
            (true, true) => 1,
            (false, _) => 2,
        }
    };
    // The demo has one awaiting with a due date, and many answered.
    let count = |c| rows.iter().filter(|d| class(d) == c).count();
    assert!(
        count(0) >= 1 && count(2) >= 10,
        "{} {} {}",
        count(0),
        count(1),
        count(2)
    );
    let mut want = rows.clone();
    want.sort_by(|a, b| {
        class(a)
            .cmp(&class(b))
            .then_with(|| match class(a) {
                0 => instant(&a["due_at"]).cmp(&instant(&b["due_at"])),
                _ => instant(&b["received_at"]).cmp(&instant(&a["received_at"])),
            })
            .then_with(|| id_key(&a["disclosure_id"]).cmp(&id_key(&b["disclosure_id"])))
    });
    let ids = |v: &[serde_json::Value]| {
        v.iter()
            .map(|r| r["disclosure_id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(rows), ids(&want));
}

/// The transparency report: `--period year` sums the half-years; Markdown
/// and CSV carry the same figures; and each kind's count is the number of
/// disclosures of that kind received in the period, counted from the
/// disclosure register itself.
#[tokio::test]
async fn the_transparency_report_by_year_and_half_year_in_markdown_and_csv() {
    let (home, db) = demo_db().await;
    let run = |extra: &[&str]| {
        let mut a = vec![
            "report",
            "disclosures",
            "--transparency",
            "--db",
            &db,
            "--to",
            "2027-01-01",
        ];
        a.extend(extra);
        let r = keyhole(home.path(), &a);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    };
    // (period, kind) -> requests, from the CSV.
    let table = |csv_text: &str| {
        let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
        assert_eq!(
            rdr.headers().unwrap().iter().collect::<Vec<_>>(),
            [
                "period",
                "kind",
                "requests",
                "accounts_specified",
                "some_data_produced_pct",
                "rejected_or_withdrawn_pct"
            ]
        );
        rdr.records()
            .map(|r| {
                let r = r.unwrap();
                ((r[0].to_string(), r[1].to_string()), r[2].to_string())
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let halves = table(&run(&["--format", "csv"]));
    let years = table(&run(&["--format", "csv", "--period", "year"]));
    assert!(halves.keys().any(|(p, _)| p.ends_with("-H1")), "{halves:?}");
    assert!(halves.keys().any(|(p, _)| p.ends_with("-H2")), "{halves:?}");
    // Every year's count is its two halves' (national security is banded).
    let mut compared = 0;
    for ((year, kind), n) in &years {
        if kind == "national_security" {
            continue;
        }
        let half = |h: &str| {
            halves
                .get(&(format!("{year}-{h}"), kind.clone()))
                .map_or(0, |v| v.parse::<u64>().unwrap())
        };
        assert_eq!(
            n.parse::<u64>().unwrap(),
            half("H1") + half("H2"),
            "{year} {kind}"
        );
        compared += 1;
    }
    assert!(compared >= 4, "{years:?}");
    // The register, read as JSON, gives the same counts per kind and year.
    let r = keyhole(
        home.path(),
        &[
            "report",
            "disclosures",
            "--db",
            &db,
            "--format",
            "json",
            "--from",
            "1970-01-01",
            "--to",
            "2027-01-01",
        ],
    );
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let mut counted: std::collections::BTreeMap<(String, String), u64> = Default::default();
    for d in doc["disclosures"].as_array().unwrap() {
        let year = d["received_at"].as_str().unwrap()[..4].to_string();
        *counted
            .entry((year, d["kind"].as_str().unwrap().to_string()))
            .or_default() += 1;
    }
    for ((year, kind), n) in &counted {
        if matches!(
            kind.as_str(),
            "national_security" | "partner_share" | "acquisition_transfer"
        ) {
            continue;
        }
        assert_eq!(
            years.get(&(year.clone(), kind.clone())).map(String::as_str),
            Some(n.to_string().as_str()),
            "{year} {kind}"
        );
    }
    // Markdown: the same rows, as a table.
    let md = run(&["--format", "md", "--period", "year"]);
    assert!(md.starts_with("# Transparency report"), "{md}");
    for ((year, kind), n) in &years {
        assert!(
            md.lines()
                .any(|l| l.starts_with(&format!("| {year} | {kind} | {n} |"))),
            "{year} {kind} {n} missing in\n{md}"
        );
    }
}

/// Runs keyhole to the end with its output thrown away; returns the exit
/// code and the peak resident memory (KiB) the kernel measured for it.
// The child is reaped by wait4 below, which also gives its peak memory.
#[allow(clippy::zombie_processes)]
fn peak_rss_kib(home: &Path, args: &[&str]) -> (i32, i64) {
    let child = common::keyhole_command(home)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is this process's own child, not yet waited for.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, usage.ru_maxrss)
}

/// Memory is bounded by one day of events in `report accesses`, and by the
/// affected set in `breach`: over 300,000 events, a window of 90 days
/// peaks within a few MiB of a window of 5 days, where holding every event
/// would add tens of MiB. Measured by the kernel (peak RSS), not by time.
#[tokio::test]
async fn accesses_and_breach_memory_does_not_grow_with_the_window() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("big.sqlite");
    let s = keyhole::demo::DemoSettings {
        events: 300_000,
        seed: 3,
        anchor: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
    };
    keyhole::demo::ensure_sqlite(&path, &s, false, |_| {})
        .await
        .unwrap();
    let db = format!("sqlite://{}", path.display());
    let run = |cmd: &[&str], from: &str| {
        let mut a = cmd.to_vec();
        a.extend(["--db", &db, "--format", "json", "--from", from]);
        a.extend(["--to", "2026-11-01", "--as-of", "2026-11-01"]);
        let (code, kib) = peak_rss_kib(home.path(), &a);
        assert_eq!(code, 0, "{a:?}");
        kib
    };
    for cmd in [
        &["report", "accesses"][..],
        &["breach", "--staff", "104"][..],
    ] {
        let short = run(cmd, "2026-10-27");
        let long = run(cmd, "2026-08-03");
        assert!(
            long < short + 12 * 1024,
            "{cmd:?}: 5 days peak {short} KiB, 90 days peak {long} KiB"
        );
    }
}

/// The table's key column is as wide as the longest key, so every key can
/// be copied whole into a verdict (a staff-day key is the longest kind).
#[tokio::test]
async fn the_flags_table_shows_every_key_whole() {
    let (home, db) = demo_db().await;
    let doc = flags_json(home.path(), &db, &[]);
    let keys: Vec<String> = doc["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap().to_string())
        .collect();
    assert!(keys.len() > 20, "{}", keys.len());
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo-policy.toml");
    let mut args = vec![
        "report", "flags", "--db", &db, "--policy", policy, "--format", "table",
    ];
    args.extend(WINDOW);
    let r = keyhole(home.path(), &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for k in &keys {
        assert!(
            r.stdout
                .lines()
                .any(|l| l.split_whitespace().any(|w| w == k)),
            "{k} is not whole in the table"
        );
    }
}
