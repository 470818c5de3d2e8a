//! Text from a database is untrusted: these helpers make it safe to print on
//! a terminal (no control, escape or bidirectional-override characters) and
//! to hand to a spreadsheet (no formula at the start of a cell).

/// Replaces control characters with `\xNN`/`\u{…}` escapes and neutralises
/// bidirectional overrides and isolates, so a value cannot move the cursor,
/// recolour the terminal or reorder the line it sits in.
pub fn terminal(s: &str) -> String {
    escaped(s, |_| false).into_owned()
}

/// [`terminal`] for a CSV cell: the same escapes, but tab, CR and LF stay,
/// since CSV quoting carries them (CONTRACT section 6) and a spreadsheet
/// shows them as the text's own layout.
/// Borrows `s` when there is nothing to escape, as in almost every cell.
pub fn spreadsheet(s: &str) -> std::borrow::Cow<'_, str> {
    escaped(s, |c| matches!(c, '\t' | '\r' | '\n'))
}

fn escaped(s: &str, keep: impl Fn(char) -> bool) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| needs_escape(c) && !keep(c)) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            c if keep(c) || !needs_escape(c) => out.push(c),
            '\u{1b}' => out.push_str("\\x1b"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// C0 and C1 controls, DEL, bidirectional overrides, isolates and marks,
/// and the line and paragraph separators.
fn needs_escape(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{061c}'
        | '\u{2028}'
        | '\u{2029}')
}

/// At most `n` characters of `s`, with `…` when cut.
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_controls_are_shown_not_sent() {
        assert_eq!(terminal("a\u{1b}[2Jb\r\n"), "a\\x1b[2Jb\\x0d\\x0a");
        assert_eq!(terminal("\u{9b}31m"), "\\u{9b}31m");
    }

    #[test]
    fn bidi_overrides_are_neutralised() {
        assert_eq!(terminal("abc\u{202e}fdp.exe"), "abc\\u{202e}fdp.exe");
        assert_eq!(terminal("名前"), "名前");
    }

    #[test]
    fn line_separators_are_escaped() {
        assert_eq!(terminal("a\u{2028}b\u{2029}"), "a\\u{2028}b\\u{2029}");
    }

    #[test]
    fn spreadsheet_cells_keep_their_layout_but_lose_escapes() {
        assert_eq!(
            spreadsheet("Eve\u{1b}]0;owned\u{7} J\tx\r\ny\u{202e}"),
            "Eve\\x1b]0;owned\\x07 J\tx\r\ny\\u{202e}"
        );
        assert_eq!(spreadsheet("plain"), "plain");
    }

    #[test]
    fn clip_counts_characters() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("名前", 4), "名前");
    }
}
