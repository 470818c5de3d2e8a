//! The review ledger from the command line: a whole campaign from `review
//! start` to `ledger verify --export`, tampering found and named, verdicts
//! that survive `kill -9`, and two processes deciding at once.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::Run;

fn keyhole(home: &Path, args: &[&str]) -> Run {
    common::keyhole_in(home, args, &[("KEYHOLE_LOG", "off")])
}

fn ledger(home: &Path) -> PathBuf {
    home.join("data/keyhole/ledger.sqlite")
}

/// A demo database and a campaign over October 2026; returns the db URL.
fn campaign(home: &Path, extra: &[&str]) -> String {
    let path = home.join("demo.sqlite");
    let r = keyhole(
        home,
        &[
            "demo",
            "--no-tui",
            "--path",
            path.to_str().unwrap(),
            "--events",
            "4000",
            "--anchor",
            "2026-11-01",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let db = format!("sqlite://{}", path.display());
    let mut args = vec![
        "review",
        "start",
        "--name",
        "October review",
        "--db",
        &db,
        "--from",
        "2026-10-01",
        "--to",
        "2026-11-01",
        "--as-of",
        "2026-11-01T12:00:00Z",
    ];
    args.extend_from_slice(extra);
    let r = keyhole(home, &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "1\n", "the first campaign is 1");
    db
}

/// `report flags --format json` over the campaign's window.
fn october_flags(home: &Path, db: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "report",
        "flags",
        "--format",
        "json",
        "--db",
        db,
        "--from",
        "2026-10-01",
        "--to",
        "2026-11-01",
        "--as-of",
        "2026-11-01T12:00:00Z",
    ];
    args.extend_from_slice(extra);
    let r = keyhole(home, &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

fn items(home: &Path, db: &str) -> Vec<serde_json::Value> {
    let r = keyhole(
        home,
        &[
            "review",
            "show",
            "--campaign",
            "1",
            "--format",
            "json",
            "--db",
            db,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    doc["items"].as_array().unwrap().clone()
}

#[test]
fn a_whole_campaign_runs_from_start_to_a_verified_export() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let db = campaign(h, &[]);
    // The items are exactly the flags of the same window, keys and all.
    let report = october_flags(h, &db, &[]);
    let all = items(h, &db);
    assert_eq!(all.len(), report["flags"].as_array().unwrap().len());
    for (item, flag) in all.iter().zip(report["flags"].as_array().unwrap()) {
        assert_eq!(item["key"], flag["key"]);
        assert_eq!(&item["flag"], flag);
        assert!(item["verdict"].is_null());
        assert_eq!(item["in_source"], true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(ledger(h)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let key = |i: usize| all[i]["key"].as_str().unwrap().to_string();
    let (k0, k1, k2) = (key(0), key(1), key(2));
    let decide = |args: &[&str]| {
        let mut a = vec!["review", "decide", "--campaign", "1"];
        a.extend_from_slice(args);
        keyhole(h, &a)
    };
    // Usage errors: a missing note or follow-up, an unknown verdict.
    assert_eq!(decide(&["--item", &k0, "--verdict", "justified"]).code, 2);
    assert_eq!(
        decide(&["--item", &k0, "--verdict", "violation", "--note", "x"]).code,
        2
    );
    assert_eq!(decide(&["--item", &k0, "--verdict", "fine"]).code, 2);
    // Runtime errors: an item or campaign that does not exist.
    let r = decide(&["--item", "no_purpose/e:none", "--verdict", "escalated"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no item"), "{}", r.stderr);
    assert_eq!(
        keyhole(h, &["review", "show", "--campaign", "7", "--db", &db]).code,
        1
    );
    // Verdicts; the later one on k0 supersedes the earlier.
    for args in [
        vec![
            "--item",
            k0.as_str(),
            "--verdict",
            "justified",
            "--note",
            "ticket CS-1 was open",
        ],
        vec![
            "--item",
            k1.as_str(),
            "--verdict",
            "violation",
            "--note",
            "no reason",
            "--follow-up",
            "training",
        ],
        vec!["--item", k2.as_str(), "--verdict", "needs_follow_up"],
        vec![
            "--item",
            k0.as_str(),
            "--verdict",
            "false_positive",
            "--note",
            "test account",
        ],
    ] {
        let r = decide(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    }
    let now = items(h, &db);
    assert_eq!(now[0]["verdict"], "false_positive");
    assert_eq!(now[0]["note"], "test account");
    assert_eq!(now[1]["follow_up"], "training");
    assert_eq!(now[2]["verdict"], "needs_follow_up");
    assert!(now[0]["decided_by"].as_str().is_some_and(|s| !s.is_empty()));
    let r = keyhole(h, &["review", "list", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(list["campaigns"][0]["decided"], 3);
    assert_eq!(list["campaigns"][0]["name"], "October review");
    // --unreviewed leaves out the decided keys, and only those.
    let open = october_flags(h, &db, &["--unreviewed"]);
    let open_keys: Vec<&str> = open["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(open_keys.len(), all.len() - 3);
    for k in [&k0, &k1, &k2] {
        assert!(!open_keys.contains(&k.as_str()));
    }
    // Every export verifies; an edited export does not.
    for format in ["md", "json", "csv"] {
        let out = h.join(format!("evidence.{format}"));
        let r = keyhole(
            h,
            &[
                "review",
                "export",
                "--campaign",
                "1",
                "--format",
                format,
                "--output",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let text = std::fs::read_to_string(&out).unwrap();
        let r = keyhole(h, &["ledger", "verify", "--export", out.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{format}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("matches campaign 1"), "{}", r.stdout);
        std::fs::write(&out, text.replacen("test account", "test acc0unt", 1)).unwrap();
        let r = keyhole(h, &["ledger", "verify", "--export", out.to_str().unwrap()]);
        assert_eq!(r.code, 1, "{format}: an edited export verifies");
        assert!(r.stderr.contains("does not match"), "{}", r.stderr);
    }
    let json: serde_json::Value = {
        let out = h.join("e.json");
        keyhole(
            h,
            &[
                "review",
                "export",
                "--campaign",
                "1",
                "--format",
                "json",
                "--output",
                out.to_str().unwrap(),
            ],
        );
        serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
    };
    assert_eq!(json["counts"]["false_positive"], 1);
    assert_eq!(json["counts"]["open"], all.len() as u64 - 3);
    assert_eq!(json["campaign"]["window"]["as_of"], "2026-11-01T12:00:00Z");
    assert_eq!(
        json["campaign"]["query_sha256"].as_object().unwrap().len(),
        7
    );
    assert_eq!(json["chain_head"].as_str().unwrap().len(), 64);
    let md = keyhole(h, &["review", "export", "--campaign", "1"]).stdout;
    assert!(
        md.starts_with("# Access review: campaign 1, October review"),
        "{md}"
    );
    assert!(md.contains("- Policy SHA-256: `") && md.contains("- Chain head: `"));
}

/// Whether the sqlite3 CLI is here (.ci/run installs it).
fn sqlite3_available() -> bool {
    if Command::new("sqlite3").arg("--version").output().is_ok() {
        return true;
    }
    assert!(!common::require_dbs(), "the sqlite3 CLI is needed");
    common::skip("no sqlite3 CLI");
    false
}

fn escalate(home: &Path, key: &str) -> Run {
    keyhole(
        home,
        &[
            "review",
            "decide",
            "--campaign",
            "1",
            "--item",
            key,
            "--verdict",
            "escalated",
        ],
    )
}

fn sqlite3(db: &Path, sql: &str) {
    let o = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("the sqlite3 CLI (installed by .ci/run)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn editing_any_cell_or_deleting_an_entry_breaks_the_chain_at_that_entry() {
    if !sqlite3_available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let db = campaign(home.path(), &["--rule", "vip_access"]);
    let key = items(home.path(), &db)[0]["key"]
        .as_str()
        .unwrap()
        .to_string();
    let r = escalate(home.path(), &key);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let pristine = home.path().join("pristine.sqlite");
    std::fs::copy(ledger(home.path()), &pristine).unwrap();
    assert_eq!(keyhole(home.path(), &["ledger", "verify"]).code, 0);
    // The triggers refuse a plain edit; someone who drops them is caught by the chain.
    let o = Command::new("sqlite3")
        .arg(ledger(home.path()))
        .arg("UPDATE entries SET actor = 'mallory' WHERE seq = 2")
        .output()
        .unwrap();
    assert!(!o.status.success(), "an edit went through the triggers");
    for (column, value) in [
        ("at", "'2020-01-01T00:00:00Z'"),
        ("actor", "'mallory'"),
        ("kind", "'note'"),
        ("body", "replace(body, 'vip_access', 'off_hours')"),
        ("prev_hash", "'00'"),
        ("hash", "'ff'"),
    ] {
        std::fs::copy(&pristine, ledger(home.path())).unwrap();
        let _ = std::fs::remove_file(ledger(home.path()).with_extension("sqlite-wal"));
        sqlite3(
            &ledger(home.path()),
            &format!(
                "DROP TRIGGER entries_no_update; UPDATE entries SET {column} = {value} WHERE seq = 2"
            ),
        );
        let r = keyhole(home.path(), &["ledger", "verify"]);
        assert_eq!(r.code, 1, "{column}: {}", r.stdout);
        assert!(
            r.stderr.contains("entry 2 is broken"),
            "{column}: {}",
            r.stderr
        );
    }
    std::fs::copy(&pristine, ledger(home.path())).unwrap();
    sqlite3(
        &ledger(home.path()),
        "DROP TRIGGER entries_no_delete; DELETE FROM entries WHERE seq = 3",
    );
    let r = keyhole(home.path(), &["ledger", "verify"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("entry 3 is broken: missing"),
        "{}",
        r.stderr
    );
}

/// A shell loop deciding `keys` one `decide` at a time, logging each key
/// whose `decide` exited 0.
fn decide_loop(home: &Path, keys: &[String], done: &Path) -> std::process::Child {
    let bin = env!("CARGO_BIN_EXE_keyhole");
    let mut script = String::new();
    for k in keys {
        script.push_str(&format!(
            "'{bin}' review decide --campaign 1 --item '{k}' --verdict needs_follow_up && echo '{k}' >> '{}'\n",
            done.display()
        ));
    }
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(script)
        .current_dir(home)
        .env("KEYHOLE_LOG", "off")
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c.spawn().unwrap()
}

fn decided(home: &Path, db: &str) -> std::collections::HashSet<String> {
    items(home, db)
        .iter()
        .filter(|i| !i["verdict"].is_null())
        .map(|i| i["key"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn kill_9_in_a_stream_of_decides_loses_no_acknowledged_verdict() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let db = campaign(h, &[]);
    let keys: Vec<String> = items(h, &db)
        .iter()
        .map(|i| i["key"].as_str().unwrap().to_string())
        .collect();
    let mut acknowledged = Vec::new();
    let mut killed = 0;
    for (n, k) in keys.iter().take(60).enumerate() {
        let mut child = Command::new(env!("CARGO_BIN_EXE_keyhole"))
            .args([
                "review",
                "decide",
                "--campaign",
                "1",
                "--item",
                k,
                "--verdict",
                "needs_follow_up",
            ])
            .current_dir(h)
            .env("KEYHOLE_LOG", "off")
            .env("XDG_DATA_HOME", h.join("data"))
            .env("XDG_STATE_HOME", h.join("state"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if n % 3 == 2 {
            // SIGKILL somewhere between start and finish.
            std::thread::sleep(std::time::Duration::from_millis((n as u64 * 7) % 25));
            let _ = child.kill();
            killed += 1;
        }
        if child.wait().unwrap().success() {
            acknowledged.push(k.clone());
        }
    }
    assert!(
        killed >= 20 && acknowledged.len() >= 40,
        "{}",
        acknowledged.len()
    );
    let saved = decided(h, &db);
    for k in &acknowledged {
        assert!(saved.contains(k), "{k} was acknowledged but lost");
    }
    let r = keyhole(h, &["ledger", "verify"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn two_processes_deciding_at_once_both_succeed() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let db = campaign(h, &[]);
    let keys: Vec<String> = items(h, &db)
        .iter()
        .map(|i| i["key"].as_str().unwrap().to_string())
        .collect();
    assert!(keys.len() >= 200, "{}", keys.len());
    let (a, b) = (h.join("a.txt"), h.join("b.txt"));
    let first = decide_loop(h, &keys[..100], &a);
    let second = decide_loop(h, &keys[100..200], &b);
    assert!(first.wait_with_output().unwrap().status.success());
    assert!(second.wait_with_output().unwrap().status.success());
    let lines = |p: &Path| std::fs::read_to_string(p).unwrap().lines().count();
    assert_eq!((lines(&a), lines(&b)), (100, 100), "every decide exited 0");
    assert_eq!(decided(h, &db).len(), 200);
    let r = keyhole(h, &["ledger", "verify"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_ledger_that_cannot_be_written_gives_one_line_and_reveals_nothing() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let db = campaign(h, &[]);
    // A place no file can be made (a read-only file system here).
    let nowhere = "/proc/keyhole-test/ledger.sqlite";
    let r = keyhole(h, &["--ledger", nowhere, "review", "list"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("ledger {nowhere}")),
        "{}",
        r.stderr
    );
    // A report that would reveal names does not run unrecorded ...
    let r = keyhole(
        h,
        &[
            "--ledger", nowhere, "report", "flags", "--db", &db, "--reveal", "--reason", "DSAR 7",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.is_empty(), "names went out unrecorded");
    assert!(
        r.stderr.contains("not revealed without a record"),
        "{}",
        r.stderr
    );
    // ... while one that reveals nothing warns and goes on.
    let r = keyhole(
        h,
        &[
            "--ledger", nowhere, "report", "flags", "--db", &db, "--format", "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("not in the auditor's trail"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_locked_ledger_gives_one_line_naming_the_lock() {
    if !sqlite3_available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let db = campaign(h, &[]);
    let key = items(h, &db)[0]["key"].as_str().unwrap().to_string();
    // Another process holds the write lock and keeps it.
    let mut holder = Command::new("sqlite3")
        .arg(ledger(h))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let stdin = holder.stdin.as_mut().unwrap();
        writeln!(stdin, "BEGIN EXCLUSIVE; SELECT count(*) FROM entries;").unwrap();
        stdin.flush().unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let r = escalate(h, &key);
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("locked"), "{}", r.stderr);
    // Once the lock is gone the same verdict is saved.
    let r = escalate(h, &key);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn the_auditor_report_lists_sessions_reveals_and_exports() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let db = campaign(h, &[]);
    for args in [
        vec![
            "report",
            "staff",
            "--db",
            db.as_str(),
            "--from",
            "2026-10-01",
            "--to",
            "2026-11-01",
        ],
        vec![
            "report",
            "flags",
            "--db",
            db.as_str(),
            "--reveal",
            "--reason",
            "DSAR 2026-114",
        ],
        vec!["review", "export", "--campaign", "1", "--format", "json"],
    ] {
        let r = keyhole(h, &args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    }
    let r = keyhole(h, &["report", "auditor", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let entries = doc["entries"].as_array().unwrap();
    let staff = entries
        .iter()
        .find(|e| e["what"]["command"] == "report staff")
        .unwrap();
    assert_eq!(staff["what"]["window"]["from"], "2026-10-01T04:00:00Z");
    assert_eq!(staff["what"]["reveal"], false);
    let revealed = entries
        .iter()
        .find(|e| e["what"]["command"] == "report flags")
        .unwrap();
    assert_eq!(revealed["what"]["reveal"], true);
    assert_eq!(revealed["what"]["reason"], "DSAR 2026-114");
    assert!(
        entries
            .iter()
            .any(|e| e["kind"] == "export" && e["what"]["campaign"] == 1)
    );
    assert!(
        entries
            .iter()
            .all(|e| e["who"].as_str().is_some_and(|w| !w.is_empty()))
    );
    let table = keyhole(h, &["report", "auditor"]).stdout;
    assert!(
        table.contains("names revealed (reason: DSAR 2026-114)"),
        "{table}"
    );
}

#[test]
fn show_marks_an_item_whose_flag_the_source_no_longer_reports() {
    if !sqlite3_available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let db = campaign(h, &["--rule", "vip_access"]);
    let before = items(h, &db);
    assert!(before.len() >= 2 && before.iter().all(|i| i["in_source"] == true));
    // The access behind the first item disappears from the source's log.
    let event = before[0]["flag"]["event_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    sqlite3(
        &h.join("demo.sqlite"),
        &format!("DELETE FROM access_audit WHERE log_id = {event}"),
    );
    let after = items(h, &db);
    assert_eq!(
        after.len(),
        before.len(),
        "the campaign's items stay frozen"
    );
    assert_eq!(after[0]["in_source"], false);
    assert!(after[1..].iter().all(|i| i["in_source"] == true));
    let table = keyhole(h, &["review", "show", "--campaign", "1", "--db", &db]).stdout;
    assert!(table.contains("(no longer in the source)"), "{table}");
}

#[tokio::test]
async fn a_campaign_on_postgres_freezes_the_same_items_as_on_sqlite() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path().to_path_buf();
    let lite = campaign(&h, &["--rule", "no_relationship"]);
    let Some(pg) = common::scratch(common::Server::Postgres).await else {
        return;
    };
    let settings = keyhole::demo::DemoSettings {
        events: 4000,
        seed: 1,
        anchor: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
    };
    keyhole::demo::load_into(&pg.url(), None, &settings, |_| {})
        .await
        .unwrap();
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo-policy.toml");
    let url = pg.url();
    let r = keyhole(
        &h,
        &[
            "review",
            "start",
            "--name",
            "on postgres",
            "--db",
            &url,
            "--policy",
            policy,
            "--rule",
            "no_relationship",
            "--from",
            "2026-10-01",
            "--to",
            "2026-11-01",
            "--as-of",
            "2026-11-01T12:00:00Z",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "2\n");
    let show = |campaign: &str, db: &str, extra: &[&str]| {
        let mut args = vec![
            "review",
            "show",
            "--campaign",
            campaign,
            "--format",
            "json",
            "--db",
            db,
        ];
        args.extend_from_slice(extra);
        let r = keyhole(&h, &args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        v["items"].as_array().unwrap().clone()
    };
    let on_pg = show("2", &url, &["--policy", policy]);
    let on_lite = show("1", &lite, &[]);
    let keys = |v: &[serde_json::Value]| v.iter().map(|i| i["key"].clone()).collect::<Vec<_>>();
    assert!(!on_pg.is_empty());
    assert_eq!(keys(&on_pg), keys(&on_lite));
    assert!(
        on_pg.iter().all(|i| i["in_source"] == true),
        "re-read from PostgreSQL"
    );
}
