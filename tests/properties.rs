//! Properties that must hold for any input, checked on generated ones
//! (`proptest`, a bounded number of cases so CI stays quick; set
//! `PROPTEST_CASES` for a longer run):
//! - whatever the statement guard accepts is one statement whose first
//!   keyword, after comments, is `SELECT` or `WITH`, in each dialect;
//! - the terminal sanitizer's output holds no C0 or C1 control, ESC or
//!   bidirectional override;
//! - a CSV row parses back (RFC 4180) to the same cells, formulas defused;
//! - the dashboard's filter bar and the audit-log statement reader never
//!   panic.

use proptest::prelude::*;

use keyhole::source::Dialect;
use keyhole::source::guard::{TokenKind, check_select, tokens};

/// Pieces of SQL that make guards stumble: keywords, separators, comments
/// of each dialect, quotes and dollar quotes, escapes, parentheses.
const PIECES: &[&str] = &[
    "SELECT", "select", "WITH", "with", "INSERT", "UPDATE", "DELETE", "DROP", "CREATE", "COPY",
    "INTO", "FROM", "AS", "x", "t", "1", " ", "\n", "\t", ";", ",", "(", ")", "*", "=", "'", "''",
    "'a;b'", "\"", "\"q;\"", "`", "`b`", "[c]", "--", "-- c\n", "#", "# c\n", "/*", "*/",
    "/* ; */", "/*! x */", "$$", "$t$;$t$", "$1", "?", "\\", "E'\\''", "-", "/", "e", "X'",
];

fn sql() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..24).prop_map(|v| v.join(""))
}

fn dialect() -> impl Strategy<Value = Dialect> {
    prop_oneof![
        Just(Dialect::Postgres),
        Just(Dialect::Mysql),
        Just(Dialect::Sqlite)
    ]
}

/// Characters that move the cursor, recolour or retitle a terminal, or
/// reorder text: C0 controls but tab, CR and LF; DEL and C1; bidirectional
/// controls; the line and paragraph separators.
fn acts_on_a_terminal(c: char) -> bool {
    let u = c as u32;
    (u < 0x20 && !matches!(c, '\t' | '\r' | '\n'))
        || (0x7f..=0x9f).contains(&u)
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{2028}' | '\u{2029}')
}

fn defused(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn what_the_guard_accepts_is_one_select_or_with(s in sql(), d in dialect()) {
        if let Ok(sent) = check_select(&s, d) {
            let toks = tokens(&sent, d).expect("what the guard sends, it can read");
            let first = toks.first().expect("an accepted statement has a token");
            prop_assert_eq!(first.kind, TokenKind::Word, "{:?} → {:?}", s, sent);
            let w = first.text.to_ascii_lowercase();
            prop_assert!(w == "select" || w == "with", "{:?} → {:?}", s, sent);
            prop_assert!(
                !toks.iter().any(|t| t.kind == TokenKind::Semicolon),
                "{:?} → {:?} holds a second statement", s, sent
            );
        }
    }

    #[test]
    fn the_sanitizer_leaves_no_control_escape_or_bidi_override(s in any::<String>()) {
        let out = keyhole::sanitize::terminal(&s);
        for c in out.chars() {
            let u = c as u32;
            prop_assert!(u >= 0x20 && u != 0x7f, "C0 or DEL {:?} in {:?}", c, out);
            prop_assert!(!(0x80..=0x9f).contains(&u), "C1 {:?} in {:?}", c, out);
            prop_assert!(!acts_on_a_terminal(c), "{:?} in {:?}", c, out);
            prop_assert!(
                !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'),
                "bidi control {:?} in {:?}", c, out
            );
        }
    }

    #[test]
    fn a_csv_row_parses_back_to_its_cells_with_formulas_defused(
        raw in prop::collection::vec(any::<String>(), 1..6)
    ) {
        // Text a spreadsheet may hold as it is: tab, CR and LF included.
        let cells: Vec<String> = raw
            .iter()
            .map(|c| c.chars().filter(|&ch| !acts_on_a_terminal(ch)).collect())
            .collect();
        let line = keyhole::report::csv_row(&cells);
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes());
        let rec = r.records().next().expect("one record").expect("RFC 4180");
        let got: Vec<&str> = rec.iter().collect();
        let want: Vec<String> = cells.iter().map(|c| defused(c)).collect();
        prop_assert_eq!(got, want.iter().map(String::as_str).collect::<Vec<_>>());
        prop_assert!(r.records().next().is_none(), "one row is one record: {:?}", line);
    }

    #[test]
    fn a_csv_row_holds_no_escape_control_or_bidi_override(
        cells in prop::collection::vec(any::<String>(), 1..6)
    ) {
        let line = keyhole::report::csv_row(&cells);
        prop_assert!(
            !line.chars().any(acts_on_a_terminal),
            "{:?} -> {:?}", cells, line
        );
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes());
        let rec = r.records().next().expect("one record").expect("RFC 4180");
        prop_assert_eq!(rec.len(), cells.len());
        prop_assert!(r.records().next().is_none(), "one row is one record: {:?}", line);
    }

    #[test]
    fn the_filter_bar_never_panics(s in any::<String>(), t in sql()) {
        let _ = keyhole::tui::tabs::access::Filter::parse(&s);
        let _ = keyhole::tui::tabs::access::Filter::parse(&t);
    }

    #[test]
    fn the_audit_log_statement_reader_never_panics(s in sql(), u in any::<String>()) {
        for d in [Dialect::Postgres, Dialect::Mysql] {
            let _ = keyhole::dblog::statement::read(&s, d);
            let _ = keyhole::dblog::statement::read(&u, d);
        }
    }
}
