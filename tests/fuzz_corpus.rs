//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the
//! same entries the coverage-guided targets run, on the stable toolchain:
//! every input the fuzzer found interesting, and every crash it ever found
//! (kept in the corpus once fixed), stays a test.

#[path = "../fuzz/entries.rs"]
mod entries;

use std::path::Path;

fn replay(target: &str, entry: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut n = 0;
    for f in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = f.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let r = std::panic::catch_unwind(|| entry(&data));
        assert!(r.is_ok(), "{} panics", path.display());
        n += 1;
    }
    // A corpus that went missing would make this test pass on nothing.
    assert!(n >= 20, "{}: only {n} inputs", dir.display());
}

#[test]
fn the_guard_corpus_replays_without_a_panic_or_a_bad_acceptance() {
    replay("guard", entries::guard);
}

#[test]
fn the_config_corpus_replays_without_a_panic() {
    replay("config", entries::config);
    // The entry's scratch folder for the config it writes.
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("keyhole-fuzz-{}", std::process::id())),
    );
}

#[test]
fn the_policy_corpus_replays_without_a_panic() {
    replay("policy", entries::policy);
}

#[test]
fn the_audit_log_corpus_replays_without_a_panic() {
    replay("audit_log", entries::audit_log);
}
