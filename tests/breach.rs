//! `keyhole breach` on the demo: agent 104's phished account, scoped by its
//! address and by the account, against an affected set computed separately
//! with plain SQL and deadlines worked out by hand from the table.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sqlx::{ConnectOptions, Row};

fn keyhole(home: &Path, args: &[&str]) -> (i32, String, String) {
    let r = common::keyhole_in(home, args, &[]);
    (r.code, r.stdout, r.stderr)
}

/// The phished account's night: staff 104 from 06:00 to 09:00 UTC on
/// 20 October 2026.
const PHISHED: [&str; 6] = [
    "--staff",
    "104",
    "--from",
    "2026-10-20T06:00:00Z",
    "--to",
    "2026-10-20T09:00:00Z",
];

/// `keyhole breach` on `db` over the phished night, aware on 1 November
/// 2026 at 10:00 UTC, with `extra` after.
fn phished(db: &str, extra: &[&str]) -> Vec<String> {
    ["breach", "--db", db]
        .into_iter()
        .chain(PHISHED)
        .chain(["--aware-at", "2026-11-01T10:00:00Z"])
        .chain(extra.iter().copied())
        .map(String::from)
        .collect()
}

async fn demo(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("demo.sqlite");
    let s = keyhole::demo::DemoSettings {
        events: 5000,
        seed: 9,
        anchor: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
    };
    keyhole::demo::ensure_sqlite(&path, &s, false, |_| {})
        .await
        .unwrap();
    path
}

/// subject → (jurisdiction, categories), straight from the demo's own tables.
async fn expected(path: &Path) -> BTreeMap<String, (String, BTreeSet<String>)> {
    let mut c = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let rows = sqlx::query(
        "SELECT a.customer_id, CASE WHEN c.country IN ('US', 'CA') THEN c.country || '-' || c.region ELSE c.country END, a.dataset \
         FROM access_audit a JOIN customers c ON c.customer_id = a.customer_id WHERE a.src_ip = '203.0.113.77'",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    let mut m: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    for r in rows {
        let id: i64 = r.get(0);
        let e = m
            .entry(id.to_string())
            .or_insert_with(|| (r.get::<String, _>(1), BTreeSet::new()));
        e.1.insert(r.get::<String, _>(2));
    }
    m
}

/// Each person's earliest deadline, worked by hand from the statutes for
/// awareness at 2026-11-01T10:00:00Z (05:00 in New York, just after the
/// clocks went back): 72 hours to a European authority, 30 or 60 days to
/// American residents, and the words of the laws that set no clock.
fn by_hand(j: &str) -> &'static str {
    const EU: [&str; 6] = ["FR", "DE", "IT", "ES", "NL", "IE"];
    match j {
        j if EU.contains(&j) || j == "GB" => "2026-11-04T10:00:00Z",
        "US-CA" | "US-CO" | "US-FL" | "US-NY" | "US-WA" => "2026-12-01T10:00:00Z",
        "US-TX" => "2026-12-31T10:00:00Z",
        "US-IL" => "in the most expedient time possible and without unreasonable delay",
        "US-MA" => "as soon as practicable and without unreasonable delay",
        // PIPEDA's "as soon as feasible" sorts before Law 25's "promptly".
        "CA-ON" | "CA-QC" | "CA-BC" => "as soon as feasible",
        other => panic!("no hand-worked deadline for {other}"),
    }
}

#[tokio::test]
async fn the_phished_account_affects_exactly_the_people_its_attacker_saw() {
    let home = tempfile::tempdir().unwrap();
    let path = demo(home.path()).await;
    let want = expected(&path).await;
    assert_eq!(want.len(), 120, "the planted night sweep");
    let db = format!("sqlite://{}", path.display());
    let base = [
        "breach",
        "--db",
        &db,
        "--aware-at",
        "2026-11-01T10:00:00Z",
        "--as-of",
        "2026-11-01T12:00:00Z",
        "--format",
        "json",
    ];
    let mut by_ip = base.to_vec();
    by_ip.extend([
        "--ip",
        "203.0.113.0/24",
        "--from",
        "2026-08-03",
        "--to",
        "2026-11-01",
    ]);
    let (code, out, err) = keyhole(home.path(), &by_ip);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["subjects"], 120);
    assert_eq!(doc["accesses"], 120);
    let got: BTreeMap<String, (String, BTreeSet<String>, String)> = doc["affected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["subject_id"].as_str().unwrap().to_string(),
                (
                    a["jurisdiction"].as_str().unwrap().to_string(),
                    a["categories"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c.as_str().unwrap().to_string())
                        .collect(),
                    a["deadline"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    for (id, (j, cats)) in &want {
        let (gj, gcats, deadline) = got
            .get(id)
            .unwrap_or_else(|| panic!("subject {id} missing"));
        assert_eq!((gj, gcats), (j, cats), "subject {id}");
        assert_eq!(deadline, by_hand(j), "deadline for {id} in {j}");
    }
    assert_eq!(got.len(), want.len());
    assert_eq!(doc["earliest_deadline"], "2026-11-04T10:00:00Z");
    // The same incident scoped by the account over the night of the sweep.
    let mut by_staff = base.to_vec();
    by_staff.extend(PHISHED);
    let (code, out, err) = keyhole(home.path(), &by_staff);
    assert_eq!(code, 0, "{err}");
    let doc2: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        doc2["affected"], doc["affected"],
        "account and address scopes agree"
    );
}

#[tokio::test]
async fn the_notification_list_is_a_safe_csv_with_contacts_only_when_revealed() {
    let home = tempfile::tempdir().unwrap();
    let path = demo(home.path()).await;
    let db = format!("sqlite://{}", path.display());
    let args = [
        "breach",
        "--db",
        &db,
        "--ip",
        "203.0.113.77",
        "--from",
        "2026-10-01",
        "--to",
        "2026-11-01",
        "--format",
        "csv",
    ];
    let (code, out, _) = keyhole(home.path(), &args);
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().next().unwrap(),
        "subject_id,jurisdiction,categories,deadline,notify,rule,individuals_deadline"
    );
    assert_eq!(out.lines().count(), 121);
    // Each person's row says when the person must be told, apart from the
    // earliest duty (a French customer: the authority in 72 hours, the
    // person only under a high risk, without undue delay).
    let fr = out
        .lines()
        .find(|l| l.contains(",FR,"))
        .expect("a French customer");
    assert!(fr.contains(",GDPR/authority,without undue delay"), "{fr}");
    let ny = out
        .lines()
        .find(|l| l.contains(",US-NY,"))
        .expect("a New Yorker");
    let cells: Vec<&str> = ny.split(',').collect();
    assert_eq!(
        cells[3], cells[6],
        "New York's earliest duty is to its residents: {ny}"
    );
    assert!(cells[6].ends_with('Z'), "{ny}");
    let mut revealed = args.to_vec();
    revealed.push("--reveal");
    let (_, out, _) = keyhole(home.path(), &revealed);
    assert!(
        out.lines()
            .next()
            .unwrap()
            .ends_with(",name,email,phone,postal_address")
    );
    for line in out.lines() {
        for cell in line.split(',') {
            assert!(
                !cell.trim_start_matches('"').starts_with(['=', '+', '@']),
                "unsafe cell {cell:?}"
            );
        }
    }
    let (code, _, err) = keyhole(
        home.path(),
        &[
            "breach",
            "--db",
            &db,
            "--from",
            "2026-10-01",
            "--to",
            "2026-11-01",
        ],
    );
    assert_eq!(code, 2, "a scope is required: {err}");
    let (code, _, err) = keyhole(
        home.path(),
        &[
            "breach",
            "--db",
            &db,
            "--ip",
            "nope",
            "--from",
            "2026-10-01",
            "--to",
            "2026-11-01",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("--ip \"nope\""), "{err}");
}

#[tokio::test]
async fn the_incident_summary_counts_jurisdictions_and_categories() {
    let home = tempfile::tempdir().unwrap();
    let path = demo(home.path()).await;
    let db = format!("sqlite://{}", path.display());
    let args = phished(&db, &["--format", "md"]);
    let (code, out, _) = keyhole(
        home.path(),
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(code, 0);
    assert!(out.starts_with("# Incident summary"));
    assert!(out.contains("people affected: 120"), "{out}");
    assert!(
        out.contains("| payment | 12 |"),
        "every tenth look was at payment data: {out}"
    );
    assert!(out.contains("| 2026-10-20 | 120 |"), "{out}");
    // Each jurisdiction's count, recomputed from the demo's own tables:
    // the distinct customers staff 104 looked at in the window, by country
    // (US: by state), as the demo's subjects.sql maps them.
    let want: std::collections::BTreeMap<String, usize> = {
        use sqlx::{ConnectOptions, Row};
        let mut c = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .read_only(true)
            .connect()
            .await
            .unwrap();
        sqlx::query(
            "SELECT CASE WHEN c.country IN ('US', 'CA') THEN c.country || '-' || c.region ELSE c.country END AS j, \
             count(DISTINCT c.customer_id) AS n \
             FROM access_audit a JOIN customers c ON c.customer_id = a.customer_id \
             WHERE a.emp_no = 104 AND a.logged_at >= '2026-10-20 06:00:00' AND a.logged_at < '2026-10-20 09:00:00' \
             GROUP BY j",
        )
        .fetch_all(&mut c)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get::<String, _>("j"), r.get::<i64, _>("n") as usize))
        .collect()
    };
    assert_eq!(want.values().sum::<usize>(), 120);
    assert!(want.len() >= 5, "{want:?}");
    for (j, n) in &want {
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("| {j} | {n} |"))),
            "{j}: {n} people expected in\n{out}"
        );
    }
    let rows = out
        .lines()
        .skip_while(|l| !l.starts_with("## By jurisdiction"))
        // The heading, a blank line, the table's header and its rule.
        .skip(4)
        .take_while(|l| l.starts_with('|'))
        .count();
    assert_eq!(rows, want.len(), "one row per jurisdiction");
}

fn without_generated_at(out: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(out).unwrap();
    v.as_object_mut().unwrap().remove("generated_at");
    v
}

#[tokio::test]
async fn breach_transparency_requests_and_timelines_agree_between_sqlite_and_postgres() {
    let home = tempfile::tempdir().unwrap();
    let path = demo(home.path()).await;
    let Some(pg) = common::scratch(common::Server::Postgres).await else {
        return;
    };
    let s = keyhole::demo::DemoSettings {
        events: 5000,
        seed: 9,
        anchor: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
    };
    keyhole::demo::load_into(&pg.url(), None, &s, |_| {})
        .await
        .unwrap();
    let lite = format!("sqlite://{}", path.display());
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo-policy.toml");
    let runs: [&[&str]; 4] = [
        &[
            "breach",
            "--staff",
            "104",
            "--ip",
            "203.0.113.77",
            "--from",
            "2026-08-03",
            "--to",
            "2026-11-01",
            "--as-of",
            "2026-11-01T12:00:00Z",
            "--format",
            "json",
            "--reveal",
        ],
        &[
            "report",
            "disclosures",
            "--transparency",
            "--to",
            "2026-11-01",
            "--as-of",
            "2026-11-01T12:00:00Z",
            "--format",
            "json",
        ],
        &[
            "report",
            "requests",
            "--from",
            "2026-08-03",
            "--to",
            "2026-11-01",
            "--as-of",
            "2026-11-01T12:00:00Z",
            "--format",
            "json",
        ],
        &[
            "report",
            "subject",
            "--id",
            "15000",
            "--to",
            "2026-11-01",
            "--as-of",
            "2026-11-01T12:00:00Z",
            "--format",
            "json",
        ],
    ];
    for args in runs {
        let mut a = args.to_vec();
        a.extend(["--db", &lite]);
        let (code, sqlite_out, err) = keyhole(home.path(), &a);
        assert_eq!(code, 0, "{args:?}: {err}");
        let mut b = args.to_vec();
        let url = pg.url();
        b.extend(["--db", &url, "--policy", policy]);
        let (code, pg_out, err) = keyhole(home.path(), &b);
        assert_eq!(code, 0, "{args:?} on PostgreSQL: {err}");
        assert!(
            without_generated_at(&sqlite_out) == without_generated_at(&pg_out),
            "{args:?} differs between SQLite and PostgreSQL"
        );
    }
}

/// `--deadlines FILE` replaces the built-in table: its clock, its wording
/// and its review date reach every row it matches; a broken file is one
/// line naming the file, line and column.
#[tokio::test]
async fn a_deadlines_file_replaces_the_built_in_table() {
    let home = tempfile::tempdir().unwrap();
    let path = demo(home.path()).await;
    let db = format!("sqlite://{}", path.display());
    let table = home.path().join("deadlines.toml");
    std::fs::write(
        &table,
        "reviewed = \"2026-10-30\"\n\n[[jurisdiction]]\nname = \"Counsel's EU reading\"\ncodes = [\"DE\", \"FR\"]\nnotify = \"the lead authority\"\nhours = 24\nsource = \"memo 2026-07\"\n",
    )
    .unwrap();
    let args = |extra: &[&str]| {
        let mut a = phished(&db, &["--format", "json"]);
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        keyhole(home.path(), &a)
    };
    let (code, out, err) = run(args(&["--deadlines", table.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["deadline_table_reviewed"], "2026-10-30");
    let rows = v["by_jurisdiction"].as_array().unwrap();
    let row = |j: &str| rows.iter().find(|r| r["jurisdiction"] == j).cloned();
    for j in ["DE", "FR"] {
        let r = row(j).unwrap_or_else(|| panic!("no {j} row: {rows:?}"));
        assert_eq!(r["deadline"], "2026-11-02T10:00:00Z", "{r}");
        assert_eq!(r["notify"], "the lead authority");
        assert_eq!(r["source"], "memo 2026-07");
    }
    // GB is not in this table: no rule, no invented deadline.
    let gb = row("GB").expect("a GB row");
    assert_ne!(gb["source"], "UK GDPR Art. 33(1)", "{gb}");
    // The built-in table gives the GDPR's 72 hours.
    let (_, out, _) = run(args(&[]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let de = v["by_jurisdiction"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["jurisdiction"] == "DE")
        .cloned()
        .unwrap();
    assert_eq!(de["deadline"], "2026-11-04T10:00:00Z");
    // A broken table: one line with file, line and column.
    std::fs::write(&table, "reviewed = \"2026-10-30\"\n[[jurisdiction]\n").unwrap();
    let (code, _, err) = run(args(&["--deadlines", table.to_str().unwrap()]));
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(&format!("{}:2:", table.display())), "{err}");
}

/// The notification plan: one line per obligation, in the JSON and at the
/// head of the Markdown; the config's `[breach]` table names counsel's own
/// deadline file and switches HIPAA on; `--deadlines` wins over the config.
#[tokio::test]
async fn the_plan_lists_every_obligation_and_follows_the_configs_breach_table() {
    let home = tempfile::tempdir().unwrap();
    let path = demo(home.path()).await;
    let db = format!("sqlite://{}", path.display());
    let args = |extra: &[&str]| phished(&db, extra);
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        keyhole(home.path(), &a)
    };
    let json = |out: &str| -> serde_json::Value { serde_json::from_str(out).unwrap() };
    // The built-in table.
    let (code, out, err) = run(args(&["--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    let plan = v["obligations"].as_array().unwrap();
    let line = |id: &str| {
        plan.iter()
            .find(|p| p["id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {plan:#?}"))
            .clone()
    };
    let gdpr = line("GDPR/authority");
    assert_eq!(gdpr["deadline_at"], "2026-11-04T10:00:00Z");
    assert_eq!(gdpr["recipient"], "regulator");
    assert_eq!(gdpr["threshold_met"], true);
    assert_eq!(
        plan[0]["deadline_at"], "2026-11-04T10:00:00Z",
        "earliest first"
    );
    // The people a line counts are the affected people of its places.
    let by_j: BTreeMap<String, u64> = v["by_jurisdiction"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["jurisdiction"].as_str().unwrap().to_string(),
                r["subjects"].as_u64().unwrap(),
            )
        })
        .collect();
    let ca = line("California/individuals");
    assert_eq!(ca["people"].as_u64(), by_j.get("US-CA").copied());
    assert_eq!(ca["deadline_at"], "2026-12-01T10:00:00Z");
    assert_eq!(ca["effective"], "2026-01-01");
    let ag = line("California/attorney general");
    assert_eq!(
        ag["threshold_met"], false,
        "a handful of Californians, not 501"
    );
    assert_eq!(ag["recipient"], "attorney_general");
    // Thresholds not met come after every obligation that applies.
    let first_unmet = plan
        .iter()
        .position(|p| p["threshold_met"] == false)
        .unwrap();
    assert!(
        plan[first_unmet..]
            .iter()
            .all(|p| p["threshold_met"] == false)
    );
    // Quebec's Law 25 beside PIPEDA.
    if by_j.contains_key("CA-QC") {
        assert_eq!(line("QC/commission")["deadline"], "promptly");
        let pipeda = line("PIPEDA/commissioner");
        assert!(
            pipeda["codes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == "CA-QC")
        );
    }
    assert!(
        plan.iter()
            .all(|p| p["id"].as_str().unwrap() != "HIPAA/individuals")
    );
    // --aware-at decides the law of the day: discovered in 2025, California's
    // residents are owed notice without unreasonable delay, with no clock.
    let mut in_2025 = args(&["--format", "json"]);
    let at = in_2025.iter().position(|a| a == "--aware-at").unwrap();
    in_2025[at + 1] = "2025-11-01T10:00:00Z".into();
    let (code, out, err) = run(in_2025);
    assert_eq!(code, 0, "{err}");
    let v2025 = json(&out);
    let ca_2025 = v2025["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "California/individuals")
        .cloned()
        .unwrap();
    assert_eq!(ca_2025["deadline_at"], serde_json::Value::Null);
    assert_eq!(
        ca_2025["deadline"],
        "in the most expedient time possible and without unreasonable delay"
    );
    assert_eq!(ca_2025["effective"], "2003-07-01");
    // The Markdown opens with the plan.
    let (_, md, _) = run(args(&["--format", "md"]));
    let heads: Vec<&str> = md.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(heads[0], "## Notification plan", "{md}");
    assert!(md.contains("not legal advice"), "{md}");
    assert!(
        md.contains("| 2026-11-04T10:00:00Z | EU/EEA (GDPR) ("),
        "{md}"
    );

    // Counsel's table and HIPAA, from the config.
    std::fs::write(
        home.path().join("counsel.toml"),
        "reviewed = \"2026-11-15\"\n\n[[obligation]]\njurisdiction = \"New York\"\ncodes = [\"US-NY\"]\n\
         recipient = \"individuals\"\ndays = 10\neffective = 2024-12-21\nsource = \"counsel's memo of 2026-11-15\"\n\n\
         [[obligation]]\nid = \"HIPAA/individuals\"\njurisdiction = \"HIPAA\"\ncodes = [\"*\"]\nrecipient = \"individuals\"\n\
         days = 60\nrequires = \"hipaa\"\neffective = 2009-09-23\nsource = \"45 C.F.R. § 164.404(b)\"\n",
    )
    .unwrap();
    std::fs::write(
        home.path().join("keyhole.toml"),
        "[breach]\ndeadlines = \"counsel.toml\"\nhipaa = true\n",
    )
    .unwrap();
    let (code, out, err) = run(args(&["--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["deadline_table_reviewed"], "2026-11-15");
    let plan = v["obligations"].as_array().unwrap();
    let ny = plan
        .iter()
        .find(|p| p["jurisdiction"] == "New York")
        .unwrap();
    assert_eq!(ny["deadline_at"], "2026-11-11T10:00:00Z");
    let hipaa = plan
        .iter()
        .find(|p| p["id"] == "HIPAA/individuals")
        .unwrap();
    assert_eq!(hipaa["deadline_at"], "2026-12-31T10:00:00Z");
    assert_eq!(hipaa["people"], v["subjects"]);
    // Everyone else is a line for counsel, not a guessed clock.
    let de = plan
        .iter()
        .find(|p| p["codes"] == serde_json::json!(["DE"]))
        .unwrap();
    assert_eq!(
        de["deadline"],
        "no rule in the deadline table: review with counsel"
    );
    // Without the switch, the HIPAA row stays off.
    std::fs::write(
        home.path().join("keyhole.toml"),
        "[breach]\ndeadlines = \"counsel.toml\"\n",
    )
    .unwrap();
    let (_, out, _) = run(args(&["--format", "json"]));
    let v = json(&out);
    assert!(
        v["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["id"] != "HIPAA/individuals")
    );
    // The sector switches turn on the built-in table's sector rules.
    std::fs::write(
        home.path().join("keyhole.toml"),
        "[breach]\nnydfs = true\nsec = true\n",
    )
    .unwrap();
    let (code, out, err) = run(args(&["--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    let ids: Vec<&str> = v["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert!(ids.contains(&"NYDFS/superintendent"), "{ids:?}");
    assert!(ids.contains(&"SEC/8-K"), "{ids:?}");
    assert!(!ids.contains(&"FTC Safeguards/ftc"), "{ids:?}");
    assert!(!ids.contains(&"HIPAA/individuals"), "{ids:?}");
    // In the Markdown a rule for everyone counts its places, past six.
    let dfs_codes = v["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "NYDFS/superintendent")
        .unwrap()["codes"]
        .as_array()
        .unwrap()
        .len();
    assert!(dfs_codes > 6, "{dfs_codes}");
    let (_, md, _) = run(args(&["--format", "md"]));
    assert!(
        md.contains(&format!(
            "| NYDFS (23 NYCRR Part 500) ({dfs_codes} places) |"
        )),
        "{md}"
    );
    // A switch keyhole does not know: one line naming the file and the key.
    std::fs::write(home.path().join("keyhole.toml"), "[breach]\nsox = true\n").unwrap();
    let (code, _, err) = run(args(&["--format", "json"]));
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("keyhole.toml") && err.contains("sox"), "{err}");
    std::fs::write(
        home.path().join("keyhole.toml"),
        "[breach]\ndeadlines = \"counsel.toml\"\n",
    )
    .unwrap();
    // --deadlines wins over the config: the built-in table's 30 days for New York.
    let builtin = home.path().join("builtin.toml");
    std::fs::write(&builtin, keyhole::report::deadlines::DEFAULT_TABLE).unwrap();
    let (_, out, _) = run(args(&[
        "--format",
        "json",
        "--deadlines",
        builtin.to_str().unwrap(),
    ]));
    let v = json(&out);
    let ny = v["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "New York/individuals")
        .cloned()
        .unwrap();
    assert_eq!(ny["deadline_at"], "2026-12-01T10:00:00Z");
    // A broken row in the config's table: one line naming the file and row.
    std::fs::write(
        home.path().join("counsel.toml"),
        "reviewed = \"2026-11-15\"\n[[obligation]]\njurisdiction = \"New York\"\ncodes = [\"US-NY\"]\nrecipient = \"individuals\"\ndays = 10\nsource = \"memo\"\n",
    )
    .unwrap();
    let (code, _, err) = run(args(&["--format", "json"]));
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("counsel.toml: obligation 1 (New York): no effective date"),
        "{err}"
    );
}
