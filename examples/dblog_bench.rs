//! Reads database audit logs the way every report does (parse, assemble,
//! judge which statements are events) and prints what it found and how
//! fast. `bench/dblog.sh` runs it beside pgbadger on the same log.
//!
//! usage: dblog_bench [--prefix PREFIX] LOG...

use std::time::Instant;

use keyhole::dblog::{LogSpec, read_all};
use keyhole::policy::Policy;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut prefix = None;
    let mut files = Vec::new();
    while let Some(a) = args.next() {
        if a == "--prefix" {
            prefix = args.next();
        } else {
            files.push(a);
        }
    }
    if files.is_empty() {
        eprintln!("usage: dblog_bench [--prefix PREFIX] LOG...");
        std::process::exit(2);
    }
    let policy = Policy::demo();
    let logins = [("u101", "101"), ("u200", "200")]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let specs: Vec<LogSpec> = files
        .iter()
        .map(|f| LogSpec {
            log_line_prefix: prefix.clone(),
            ..LogSpec::new(f)
        })
        .collect();
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum();
    let t = Instant::now();
    let (events, sums) = match read_all(&specs, &policy.audit, &logins) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("dblog_bench: {e}");
            std::process::exit(1);
        }
    };
    let secs = t.elapsed().as_secs_f64();
    let records: u64 = sums.iter().map(|s| s.records).sum();
    let statements: u64 = sums
        .iter()
        .flat_map(|s| s.statements_by_user.values())
        .sum();
    let unparsed: u64 = sums.iter().map(|s| s.unparsed).sum();
    println!(
        "{:.2} s, {:.0} MB/s: {} MB, {records} records, {statements} statements, {} events, {unparsed} unreadable",
        secs,
        bytes as f64 / 1e6 / secs,
        bytes / 1_000_000,
        events.len()
    );
}
