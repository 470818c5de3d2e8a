//! What one logged statement did, read from its text with the guard's own
//! tokenizer: the identifiers it names, whether a `*` stands in a select
//! list, the values compared with a column, and whether it exports. Nothing
//! is executed, and no literal leaves this module except as a subject id.

use crate::source::Dialect;
use crate::source::guard::{Token, TokenKind, statement_tokens};

/// A value a column is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A literal, unquoted.
    Literal(String),
    /// `$n` (1-based): the n-th bound parameter.
    Param(usize),
    /// `@name` (MariaDB): a user variable set earlier on the connection.
    Var(String),
}

/// What a statement's text shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    /// Every identifier, lower-cased (quoted ones unquoted), each once.
    pub idents: Vec<String>,
    /// A `*` or `alias.*` stands in a select list (or `RETURNING *`).
    pub star: bool,
    /// `COPY … TO` or `INTO OUTFILE`/`DUMPFILE`.
    pub export: bool,
    /// (column, value) for every `column = value`, `value = column` and
    /// `column IN (value, …)`, in text order; the column is the last part of
    /// a qualified name, lower-cased.
    pub compared: Vec<(String, Value)>,
    /// The first word, upper-cased (`SELECT`, `UPDATE`): the statement's kind.
    pub kind: String,
}

impl Reading {
    pub fn names(&self, column: &str) -> bool {
        self.idents.iter().any(|i| i == column)
    }
}

fn unquote(text: &str, dialect: Dialect) -> Option<String> {
    let quote = match text.as_bytes().first()? {
        b'\'' => '\'',
        b'"' => '"',
        b'`' => '`',
        _ => return None,
    };
    // A quoted token opens and closes with its quote; anything else is not one.
    if text.len() < 2 || !text.ends_with(quote) {
        return None;
    }
    let body = &text[1..text.len() - 1];
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c == quote && chars.peek() == Some(&quote) {
            chars.next();
            out.push(c);
        } else if c == '\\' && dialect == Dialect::Mysql && quote != '`' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('0') => out.push('\0'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// A string literal's prefix (`E'…'`, `N'…'`, `_utf8'…'`) is dropped.
fn literal_body(text: &str) -> &str {
    match text.find('\'') {
        Some(i) if i > 0 && i <= 5 => &text[i..],
        _ => text,
    }
}

fn is_string(t: &Token, dialect: Dialect) -> bool {
    t.kind == TokenKind::Other
        && (literal_body(t.text).starts_with('\'')
            || (dialect == Dialect::Mysql && t.text.starts_with('"')))
}

fn is_ident(t: &Token, dialect: Dialect) -> bool {
    match t.kind {
        TokenKind::Word => true,
        TokenKind::Other if t.text.len() >= 2 => {
            (t.text.starts_with('`') && dialect == Dialect::Mysql)
                || (t.text.starts_with('"') && dialect != Dialect::Mysql)
        }
        _ => false,
    }
}

fn ident_name(t: &Token, dialect: Dialect) -> String {
    match t.kind {
        TokenKind::Word => t.text.to_lowercase(),
        _ => unquote(t.text, dialect).unwrap_or_default().to_lowercase(),
    }
}

fn is(t: Option<&Token>, s: &str) -> bool {
    t.is_some_and(|t| t.text.eq_ignore_ascii_case(s))
}

/// A value token at `i`, with a leading minus folded in; the index after it
/// (a `::type` cast is skipped).
fn value_at(toks: &[Token], i: usize, dialect: Dialect) -> Option<(Value, usize)> {
    let t = toks.get(i)?;
    let (v, next) = if t.text == "-"
        && let Some(n) = toks.get(i + 1)
        && n.text.as_bytes()[0].is_ascii_digit()
    {
        (Value::Literal(format!("-{}", n.text)), i + 2)
    } else if t.kind == TokenKind::Other && t.text.as_bytes()[0].is_ascii_digit() {
        (Value::Literal(t.text.to_string()), i + 1)
    } else if is_string(t, dialect) {
        (
            Value::Literal(unquote(literal_body(t.text), dialect)?),
            i + 1,
        )
    } else if dialect == Dialect::Postgres && t.text.starts_with('$') && t.text.len() > 1 {
        (Value::Param(t.text[1..].parse().ok()?), i + 1)
    } else if dialect == Dialect::Mysql
        && t.text == "@"
        && let Some(n) = toks.get(i + 1)
        && n.kind == TokenKind::Word
    {
        (Value::Var(n.text.to_lowercase()), i + 2)
    } else {
        return None;
    };
    let mut j = next;
    // `'42'::int`
    while toks.get(j).is_some_and(|t| t.text == ":")
        && toks.get(j + 1).is_some_and(|t| t.text == ":")
    {
        j += 3;
    }
    Some((v, j))
}

/// The column a name ending at `end` (inclusive) stands for: its last part.
fn colref_ending(toks: &[Token], end: usize, dialect: Dialect) -> Option<String> {
    let t = toks.get(end)?;
    if !is_ident(t, dialect) {
        return None;
    }
    Some(ident_name(t, dialect))
}

/// The column a name starting at `start` stands for, and the index after it.
fn colref_from(toks: &[Token], start: usize, dialect: Dialect) -> Option<(String, usize)> {
    let mut i = start;
    if !is_ident(toks.get(i)?, dialect) {
        return None;
    }
    while toks.get(i + 1).is_some_and(|t| t.text == ".")
        && toks.get(i + 2).is_some_and(|t| is_ident(t, dialect))
    {
        i += 2;
    }
    // A function call is not a column.
    if toks
        .get(i + 1)
        .is_some_and(|t| t.kind == TokenKind::OpenParen)
    {
        return None;
    }
    Some((ident_name(&toks[i], dialect), i + 1))
}

const SELECT_LIST_OPENERS: [&str; 5] = ["select", "distinct", "all", "returning", ","];

/// Reads a statement's text; `None` when it cannot be tokenized.
pub fn read(text: &str, dialect: Dialect) -> Option<Reading> {
    let toks = statement_tokens(text, dialect).ok()?;
    let mut r = Reading {
        kind: toks
            .iter()
            .find(|t| t.kind == TokenKind::Word)
            .map(|t| t.text.to_uppercase())
            .unwrap_or_default(),
        ..Reading::default()
    };
    let first_word = toks.first().map(|t| t.text);
    let copy = first_word.is_some_and(|w| w.eq_ignore_ascii_case("copy"));
    for (i, t) in toks.iter().enumerate() {
        if is_ident(t, dialect) {
            let name = ident_name(t, dialect);
            if !r.idents.contains(&name) {
                r.idents.push(name);
            }
        }
        if t.kind == TokenKind::Word {
            if copy && t.text.eq_ignore_ascii_case("to") {
                r.export = true;
            }
            if t.text.eq_ignore_ascii_case("into")
                && toks.get(i + 1).is_some_and(|n| {
                    n.text.eq_ignore_ascii_case("outfile")
                        || n.text.eq_ignore_ascii_case("dumpfile")
                })
            {
                r.export = true;
            }
        }
        if t.text == "*" && t.kind == TokenKind::Other {
            let prev = i.checked_sub(1).and_then(|p| toks.get(p));
            let opens = |p: Option<&Token>| {
                p.is_some_and(|p| {
                    SELECT_LIST_OPENERS
                        .iter()
                        .any(|o| p.text.eq_ignore_ascii_case(o))
                })
            };
            if opens(prev) {
                r.star = true;
            } else if prev.is_some_and(|p| p.text == ".") {
                // `alias.*` (or `schema.table.*`) right after a select-list opener.
                let mut j = i - 1;
                while j >= 2 && toks[j].text == "." && is_ident(&toks[j - 1], dialect) {
                    j -= 2;
                }
                if opens(toks.get(j)) && j + 1 < i {
                    r.star = true;
                }
            }
        }
    }
    // Comparisons.
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        if t.text == "=" && t.kind == TokenKind::Other {
            let before = i.checked_sub(1).map(|b| &toks[b]);
            // Not `>=`, `<=`, `!=`, `:=`.
            let compound = before.is_some_and(|b| matches!(b.text, "<" | ">" | "!" | ":"));
            if !compound {
                if let Some(col) = i
                    .checked_sub(1)
                    .and_then(|b| colref_ending(&toks, b, dialect))
                    && let Some((v, _)) = value_at(&toks, i + 1, dialect)
                {
                    r.compared.push((col, v));
                } else if let Some((col, _)) = colref_from(&toks, i + 1, dialect)
                    && let Some(v) = value_ending(&toks, i, dialect)
                {
                    r.compared.push((col, v));
                }
            }
        } else if t.kind == TokenKind::Word
            && t.text.eq_ignore_ascii_case("in")
            && toks
                .get(i + 1)
                .is_some_and(|n| n.kind == TokenKind::OpenParen)
            && !is(i.checked_sub(1).map(|b| &toks[b]), "not")
            && let Some(col) = i
                .checked_sub(1)
                .and_then(|b| colref_ending(&toks, b, dialect))
        {
            let mut j = i + 2;
            while let Some((v, next)) = value_at(&toks, j, dialect) {
                r.compared.push((col.clone(), v));
                j = next;
                if toks.get(j).is_some_and(|t| t.text == ",") {
                    j += 1;
                } else {
                    break;
                }
            }
            i = j;
            continue;
        }
        i += 1;
    }
    Some(r)
}

/// The value that ends just before the `=` at `eq`, for `value = column`.
fn value_ending(toks: &[Token], eq: usize, dialect: Dialect) -> Option<Value> {
    // Try the one- and two-token values that could end there.
    for start in [eq.checked_sub(1)?, eq.checked_sub(2).unwrap_or(usize::MAX)] {
        if start == usize::MAX {
            continue;
        }
        if let Some((v, next)) = value_at(toks, start, dialect)
            && next == eq
        {
            // `-5 = col` must not be read as `5 = col` after a minus.
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(s: &str) -> Reading {
        read(s, Dialect::Postgres).unwrap()
    }

    fn lit(s: &str) -> Value {
        Value::Literal(s.into())
    }

    #[test]
    fn identifiers_outside_comments_and_literals() {
        let r = pg(
            "SELECT c.surname /* email */, \"Phone\" FROM crm.customers c WHERE c.given_name <> 'it''s email' -- phone\n",
        );
        assert!(r.names("surname") && r.names("given_name") && r.names("phone"));
        assert!(!r.names("email"));
        assert!(!r.star);
        assert_eq!(r.kind, "SELECT");
    }

    #[test]
    fn stars_in_select_lists_but_not_count_or_products() {
        assert!(pg("SELECT * FROM t").star);
        assert!(pg("SELECT c.* FROM t c").star);
        assert!(pg("SELECT id, crm.t.* FROM crm.t").star);
        assert!(pg("UPDATE t SET a = 1 RETURNING *").star);
        assert!(!pg("SELECT count(*) FROM t").star);
        assert!(!pg("SELECT a * 2 FROM t").star);
        assert!(!pg("SELECT count(c.*) FROM t c").star);
    }

    #[test]
    fn compared_values_in_text_order() {
        let r = pg(
            "SELECT 1 FROM t c WHERE c.cust_id IN (1001, '1002') OR 7 = cust_id OR cust_id = $2::int OR cust_id = other.id OR cust_id NOT IN (5)",
        );
        assert_eq!(
            r.compared,
            vec![
                ("cust_id".into(), lit("1001")),
                ("cust_id".into(), lit("1002")),
                ("cust_id".into(), lit("7")),
                ("cust_id".into(), Value::Param(2)),
            ]
        );
        let r = pg(
            "SELECT 1 FROM t WHERE cust_id >= 5 AND cust_id <= 9 AND cust_id != 3 AND cust_id = -4",
        );
        assert_eq!(r.compared, vec![("cust_id".into(), lit("-4"))]);
    }

    #[test]
    fn mysql_strings_variables_and_placeholders() {
        let r = read(
            "SELECT email FROM shop.customers WHERE cust_id = @id OR cust_id = ? OR surname = 'O\\'Brien'",
            Dialect::Mysql,
        )
        .unwrap();
        assert_eq!(
            r.compared,
            vec![
                ("cust_id".into(), Value::Var("id".into())),
                ("surname".into(), lit("O'Brien")),
            ]
        );
    }

    #[test]
    fn exports() {
        assert!(pg("COPY (SELECT email FROM t) TO STDOUT").export);
        assert!(pg("copy t (email) to '/tmp/x'").export);
        assert!(!pg("COPY t FROM STDIN").export);
        assert!(
            read("SELECT * INTO OUTFILE '/tmp/x' FROM t", Dialect::Mysql)
                .unwrap()
                .export
        );
        assert!(!pg("SELECT to_char(now(), 'YYYY') FROM t").export);
    }
}
