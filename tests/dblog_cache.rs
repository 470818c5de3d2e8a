//! The audit logs are parsed again only when something a read depends on
//! has changed: a log's file (device, inode, length, modification time),
//! the policy's `[audit]` or the staff's logins. A dashboard reload or a new
//! window over yesterday's exported logs then costs no second parse. Alone
//! in its test binary: the last read is kept per process.

use std::path::Path;

use keyhole::dblog::{LogSpec, read_all};
use keyhole::policy::Policy;
use rustc_hash::FxHashMap;

const POLICY: &str = include_str!("fixtures/audit-logs/policy.toml");

fn staff_of(events: &keyhole::model::DbEvents) -> Vec<String> {
    events
        .events
        .iter()
        .map(|e| events.get(e).staff_id.to_string())
        .collect()
}

fn logins(pairs: &[(&str, &str)]) -> FxHashMap<String, String> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn logs_are_parsed_again_only_when_something_they_depend_on_changed() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audit-logs/postgres.log");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pg.log");
    let original = std::fs::read_to_string(&fixture).unwrap();
    std::fs::write(&path, &original).unwrap();
    let policy = Policy::parse("test policy", POLICY).unwrap();
    let staff = logins(&[("u101", "101"), ("u200", "200")]);
    let spec = [LogSpec::new(&path)];

    let (first, sums) = read_all(&spec, &policy.audit, &staff).unwrap();
    assert!(staff_of(&first).contains(&"101".to_string()));
    assert!(sums[0].records > 0);

    // The same bytes' length, another login, and the old modification
    // time put back: to the cache the file has not changed, so the events
    // it returns are the first read's, shared, not parsed again.
    let stamp = std::fs::metadata(&path).unwrap().modified().unwrap();
    let edited = original.replace("user=u101", "user=u102");
    assert_ne!(edited, original);
    assert_eq!(edited.len(), original.len());
    std::fs::write(&path, &edited).unwrap();
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(stamp).unwrap();
    drop(f);
    let (again, _) = read_all(&spec, &policy.audit, &staff).unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &again), "not parsed again");

    // A newer modification time: parsed again, and u102 is nobody's login.
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(stamp + std::time::Duration::from_secs(1))
        .unwrap();
    drop(f);
    let (touched, sums) = read_all(&spec, &policy.audit, &staff).unwrap();
    assert!(!std::sync::Arc::ptr_eq(&first, &touched));
    assert!(!staff_of(&touched).contains(&"101".to_string()));
    assert!(sums[0].unknown_users.contains("u102"), "{:?}", sums[0]);

    // Unchanged file, other logins: parsed again, u102 is staff 102 now.
    let more = logins(&[("u101", "101"), ("u102", "102"), ("u200", "200")]);
    let (relogged, _) = read_all(&spec, &policy.audit, &more).unwrap();
    assert!(!std::sync::Arc::ptr_eq(&touched, &relogged));
    assert!(staff_of(&relogged).contains(&"102".to_string()));

    // Another [audit] policy: parsed again.
    let narrower = Policy::parse(
        "narrower policy",
        "[audit]\nservice_accounts = [\"app_svc\", \"u102\"]\n[audit.tables.\"crm.customers\"]\nsubject_key = \"customer_id\"\ncolumns = { email = \"contact\" }\n",
    )
    .unwrap();
    let (narrow, _) = read_all(&spec, &narrower.audit, &more).unwrap();
    assert!(!std::sync::Arc::ptr_eq(&relogged, &narrow));
    assert!(!staff_of(&narrow).contains(&"102".to_string()));

    // A file that grew: parsed again (its length changed).
    let mut grown = edited.clone();
    grown.push_str(original.lines().last().unwrap());
    grown.push('\n');
    std::fs::write(&path, &grown).unwrap();
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(stamp).unwrap();
    drop(f);
    let (longer, sums) = read_all(&spec, &narrower.audit, &more).unwrap();
    assert!(!std::sync::Arc::ptr_eq(&narrow, &longer));
    assert!(sums[0].records > 0);
}
