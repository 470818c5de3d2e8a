//! What each fuzz target does with one input. Shared by the targets under
//! `fuzz_targets/` and by `tests/fuzz_corpus.rs`, which replays the
//! committed corpus on the stable toolchain in every test run.
//!
//! Each entry must never panic; the guard's also checks what it accepts.

#![allow(dead_code)]

use keyhole::source::Dialect;

const DIALECTS: [Dialect; 3] = [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite];

/// The statement guard, the lenient reader of statements a server ran, and
/// the audit-log statement reader, in each dialect. What the guard accepts
/// is one statement whose first token is `SELECT` or `WITH`.
pub fn guard(data: &[u8]) {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    use keyhole::source::guard::{TokenKind, check_select, statement_tokens, tokens};
    for d in DIALECTS {
        if let Ok(sent) = check_select(sql, d) {
            let toks = tokens(&sent, d).expect("what the guard sends, it can read");
            let first = toks.first().expect("an accepted statement has a token");
            assert_eq!(first.kind, TokenKind::Word, "{sql:?} -> {sent:?}");
            let w = first.text.to_ascii_lowercase();
            assert!(w == "select" || w == "with", "{sql:?} -> {sent:?}");
            assert!(
                !toks.iter().any(|t| t.kind == TokenKind::Semicolon),
                "{sql:?} -> {sent:?} holds a second statement"
            );
        }
        let _ = statement_tokens(sql, d);
        let _ = keyhole::dblog::statement::read(sql, d);
    }
}

/// `keyhole.toml` as the program reads it: from a file, resolved into
/// settings, with its `[keys]` applied to the dashboard's bindings.
pub fn config(data: &[u8]) {
    thread_local! {
        static DIR: std::path::PathBuf = {
            let d = std::env::temp_dir().join(format!("keyhole-fuzz-{}", std::process::id()));
            std::fs::create_dir_all(&d).expect("a scratch folder");
            d
        };
    }
    let path = DIR.with(|d| d.join("keyhole.toml"));
    std::fs::write(&path, data).expect("the scratch config is writable");
    let g = keyhole::config::Overrides {
        config: Some(path),
        ..Default::default()
    };
    if let Ok(s) = keyhole::config::Settings::resolve(&g) {
        let _ = keyhole::tui::keys::with_overrides(keyhole::tui::keys::defaults(), &s.keys);
    }
}

/// A policy file; when one parses, its rules are asked about every rule
/// and a week of working hours.
pub fn policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = keyhole::policy::Policy::parse("policy.toml", text) {
        for r in keyhole::vocab::Rule::ALL {
            let _ = (p.enabled(r), p.severity_of(r));
        }
        if let Some(h) = &p.working_hours {
            for day in 0..7 {
                for secs in [0, 1, 43_200, 86_399, 86_400] {
                    let _ = h.contains(day, secs);
                }
            }
            let _ = h.describe();
        }
    }
}

/// An audit log in each of the three formats, the first byte choosing the
/// `log_line_prefix` (the default, one without the client, or `%t`) so the
/// prefix matcher is exercised too. Format detection sees the same text.
pub fn audit_log(data: &[u8]) {
    use keyhole::dblog::{DEFAULT_PREFIX, Format, LogSpec, read_from};
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let prefix = match pick % 3 {
        0 => DEFAULT_PREFIX,
        1 => "%m [%p] %q%u@%d ",
        _ => "%t [%p-%l] user=%u,db=%d,client=%r ",
    };
    let _ = keyhole::dblog::detect_text(&String::from_utf8_lossy(body));
    let audit = keyhole::policy::Policy::demo().audit;
    let mut logins = rustc_hash::FxHashMap::default();
    logins.insert("agent104".to_string(), "104".to_string());
    for format in [Format::Pgaudit, Format::PgauditCsv, Format::ServerAudit] {
        let spec = LogSpec {
            log_line_prefix: Some(prefix.to_string()),
            timezone: Some(chrono_tz::Europe::Berlin),
            ..LogSpec::new("fuzz.log")
        };
        let mut out = keyhole::model::DbEvents::default();
        let _ = read_from(body, format, &spec, &audit, &logins, &mut out);
    }
}
