//! The statement guard: accepts exactly one `SELECT` or `WITH … SELECT`
//! statement and refuses everything else before a byte reaches a server.
//!
//! It tokenises the way each dialect does (comments, quoted strings, quoted
//! identifiers, PostgreSQL dollar quoting, MySQL backslash escapes and
//! executable comments) so that a `;` or a keyword hidden in a literal is
//! neither missed nor mistaken. The server-side read-only modes are the second
//! wall; this is the first, and on SQLite the one that stops a second
//! statement from running at all.

use crate::source::Dialect;

/// Why a statement was refused, with the 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.reason
        )
    }
}

/// Keywords that write, lock, change session state or run other statements.
/// Refused anywhere outside literals, comments and quoted identifiers.
const FORBIDDEN_WORDS: &[&str] = &[
    "insert",
    "update",
    "delete",
    "merge",
    "upsert",
    "truncate",
    "drop",
    "alter",
    "create",
    "grant",
    "revoke",
    "call",
    "copy",
    "lock",
    "into",
    "attach",
    "detach",
    "pragma",
    "vacuum",
    "begin",
    "commit",
    "rollback",
    "savepoint",
    "notify",
    "listen",
];

/// Functions with side effects (settings, sequences, locks, files, backends).
const FORBIDDEN_FUNCTIONS: &[&str] = &[
    "set_config",
    "nextval",
    "setval",
    "pg_advisory_lock",
    "pg_advisory_lock_shared",
    "pg_advisory_xact_lock",
    "pg_advisory_xact_lock_shared",
    "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared",
    "pg_try_advisory_xact_lock",
    "pg_try_advisory_xact_lock_shared",
    "pg_advisory_unlock",
    "pg_advisory_unlock_all",
    "pg_advisory_unlock_shared",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_stat_file",
    "lo_import",
    "lo_export",
    "lo_unlink",
    "lo_create",
    "lo_from_bytea",
    "lo_put",
    "dblink",
    "dblink_exec",
    "pg_notify",
    "txid_current",
    "pg_current_xact_id",
    "get_lock",
    "release_lock",
    "release_all_locks",
    "is_free_lock",
    "load_file",
    "load_extension",
    "sys_exec",
    "sys_eval",
    "writefile",
    "readfile",
    "fts3_tokenizer",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    Word(&'a str),
    Semicolon,
    OpenParen,
    Other,
}

struct Lexer<'a> {
    sql: &'a str,
    bytes: &'a [u8],
    pos: usize,
    dialect: Dialect,
    /// Reading what a server already ran (an audit log's statement), not a
    /// query file: MySQL backslash escapes are read as the server's default
    /// reads them, and executable comments are skipped like comments.
    lenient: bool,
}

impl<'a> Lexer<'a> {
    fn at(&self, pos: usize) -> Refusal {
        let (line, column) = line_col(self.sql, pos);
        Refusal {
            line,
            column,
            reason: String::new(),
        }
    }

    fn refuse(&self, pos: usize, reason: impl Into<String>) -> Refusal {
        Refusal {
            reason: reason.into(),
            ..self.at(pos)
        }
    }

    fn peek(&self, off: usize) -> u8 {
        *self.bytes.get(self.pos + off).unwrap_or(&0)
    }

    /// Next token and its byte offset, or None at the end.
    fn next(&mut self) -> Result<Option<(Tok<'a>, usize)>, Refusal> {
        loop {
            let start = self.pos;
            let Some(&c) = self.bytes.get(self.pos) else {
                return Ok(None);
            };
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => self.pos += 1,
                b'-' if self.peek(1) == b'-' => {
                    // MySQL needs whitespace (or the end) after `--` for a comment.
                    if self.dialect == Dialect::Mysql {
                        let after = self.peek(2);
                        if !(after == 0 || after.is_ascii_whitespace() || after.is_ascii_control())
                        {
                            self.pos += 1;
                            return Ok(Some((Tok::Other, start)));
                        }
                    }
                    self.skip_line();
                }
                b'#' if self.dialect == Dialect::Mysql => self.skip_line(),
                b'/' if self.peek(1) == b'*' => {
                    if self.dialect == Dialect::Mysql
                        && !self.lenient
                        && matches!(self.peek(2), b'!' | b'+')
                    {
                        return Err(
                            self.refuse(start, "MySQL executable comment or hint (`/*!` or `/*+`)")
                        );
                    }
                    self.skip_block_comment(start)?;
                }
                b'\'' => {
                    self.skip_string(start, b'\'', self.backslash_escapes(start))?;
                    return Ok(Some((Tok::Other, start)));
                }
                b'"' => {
                    // An identifier in PostgreSQL and SQLite; a string in MySQL.
                    let esc = self.dialect == Dialect::Mysql;
                    self.skip_string(start, b'"', esc)?;
                    return Ok(Some((Tok::Other, start)));
                }
                b'`' if self.dialect != Dialect::Postgres => {
                    self.skip_string(start, b'`', false)?;
                    return Ok(Some((Tok::Other, start)));
                }
                b'[' if self.dialect == Dialect::Sqlite => {
                    match self.sql[self.pos + 1..].find(']') {
                        Some(end) => self.pos += end + 2,
                        None => return Err(self.refuse(start, "unterminated [identifier]")),
                    }
                    return Ok(Some((Tok::Other, start)));
                }
                b'$' if self.dialect == Dialect::Postgres => {
                    if let Some(tag_len) = self.dollar_tag() {
                        let tag = &self.sql[self.pos..self.pos + tag_len];
                        let body = self.pos + tag_len;
                        match self.sql[body..].find(tag) {
                            Some(end) => self.pos = body + end + tag_len,
                            None => {
                                return Err(self.refuse(start, "unterminated dollar-quoted string"));
                            }
                        }
                    } else {
                        self.pos += 1;
                        while self.peek(0).is_ascii_digit() {
                            self.pos += 1;
                        }
                    }
                    return Ok(Some((Tok::Other, start)));
                }
                b';' => {
                    self.pos += 1;
                    return Ok(Some((Tok::Semicolon, start)));
                }
                b'(' => {
                    self.pos += 1;
                    return Ok(Some((Tok::OpenParen, start)));
                }
                c if c.is_ascii_digit() => {
                    // A number is one token: `1001`, `10.5`, `1e3`.
                    let mut end = self.pos + 1;
                    while let Some(&b) = self.bytes.get(end) {
                        let exp_sign =
                            matches!(b, b'+' | b'-') && matches!(self.bytes[end - 1], b'e' | b'E');
                        if b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || exp_sign {
                            end += 1;
                        } else {
                            break;
                        }
                    }
                    self.pos = end;
                    return Ok(Some((Tok::Other, start)));
                }
                c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                    let mut end = self.pos;
                    while let Some(&b) = self.bytes.get(end) {
                        if b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80 {
                            end += 1;
                        } else {
                            break;
                        }
                    }
                    let word = &self.sql[self.pos..end];
                    self.pos = end;
                    // E'...' and similar prefixed strings.
                    if self.peek(0) == b'\'' && word.len() <= 2 {
                        let lower = word.to_ascii_lowercase();
                        let esc = lower == "e" || self.dialect == Dialect::Mysql;
                        if matches!(lower.as_str(), "e" | "b" | "x" | "n" | "u&" | "_utf8")
                            || word.len() == 1
                        {
                            let q = self.pos;
                            self.skip_string(q, b'\'', esc)?;
                            return Ok(Some((Tok::Other, start)));
                        }
                    }
                    return Ok(Some((Tok::Word(word), start)));
                }
                _ => {
                    self.pos += 1;
                    return Ok(Some((Tok::Other, start)));
                }
            }
        }
    }

    fn backslash_escapes(&self, quote_pos: usize) -> bool {
        match self.dialect {
            Dialect::Mysql => true,
            // Postgres: only E'' strings, handled at the prefix; plain strings do not.
            _ => {
                let _ = quote_pos;
                false
            }
        }
    }

    fn skip_line(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            self.pos += 1;
            if b == b'\n' {
                break;
            }
        }
    }

    fn skip_block_comment(&mut self, start: usize) -> Result<(), Refusal> {
        let nests = self.dialect == Dialect::Postgres;
        let mut depth = 0usize;
        while self.pos < self.bytes.len() {
            if self.peek(0) == b'/' && self.peek(1) == b'*' {
                if depth == 0 || nests {
                    depth += 1;
                }
                self.pos += 2;
            } else if self.peek(0) == b'*' && self.peek(1) == b'/' {
                depth -= 1;
                self.pos += 2;
                if depth == 0 {
                    return Ok(());
                }
            } else {
                self.pos += 1;
            }
        }
        Err(self.refuse(start, "unterminated /* comment"))
    }

    fn skip_string(&mut self, start: usize, quote: u8, backslash: bool) -> Result<(), Refusal> {
        self.pos += 1;
        while let Some(&b) = self.bytes.get(self.pos) {
            if backslash && b == b'\\' {
                if self.dialect == Dialect::Mysql && !self.lenient {
                    // Whether `\` escapes depends on the server's sql_mode
                    // (NO_BACKSLASH_ESCAPES); refuse rather than guess.
                    return Err(self.refuse(
                        self.pos,
                        "a backslash inside a quoted literal is ambiguous in MySQL; write it another way",
                    ));
                }
                self.pos += 2;
                continue;
            }
            self.pos += 1;
            if b == quote {
                if self.peek(0) == quote {
                    self.pos += 1;
                    continue;
                }
                return Ok(());
            }
        }
        Err(self.refuse(start, "unterminated quoted text"))
    }

    /// Length of a `$tag$` opener at the current position, if any.
    fn dollar_tag(&self) -> Option<usize> {
        let rest = &self.bytes[self.pos + 1..];
        let mut i = 0;
        while i < rest.len() {
            let b = rest[i];
            if b == b'$' {
                return Some(i + 2);
            }
            let ok =
                b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 || (i > 0 && b.is_ascii_digit());
            if !ok {
                return None;
            }
            i += 1;
        }
        None
    }
}

fn line_col(sql: &str, pos: usize) -> (usize, usize) {
    let before = &sql[..pos.min(sql.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Accepts one `SELECT` or `WITH … SELECT` statement (a trailing `;` is
/// allowed) and returns the text to send, without the trailing semicolon.
/// What kind of token a query file's text holds at a place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A bare word: keyword, name or function.
    Word,
    Semicolon,
    OpenParen,
    /// Anything else, each as one token: a string, a quoted identifier, a
    /// PostgreSQL `$n` parameter, a punctuation character.
    Other,
}

/// One token of a query file, as the guard reads it: comments and
/// whitespace are skipped, per dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: TokenKind,
    pub text: &'a str,
    /// Byte offset of the token in the file.
    pub start: usize,
}

/// The tokens of `sql` read as the guard reads it, so that what another
/// reader of a query file sees (a column compared with the window, a table
/// and its alias) is what the database will see, never a word in a comment
/// or a string.
pub fn tokens(sql: &str, dialect: Dialect) -> Result<Vec<Token<'_>>, Refusal> {
    lex_all(sql, dialect, false)
}

/// The tokens of a statement a server has already run (an audit log's),
/// read as that server reads it: MySQL backslash escapes inside literals are
/// escapes, and executable comments are comments.
pub fn statement_tokens(sql: &str, dialect: Dialect) -> Result<Vec<Token<'_>>, Refusal> {
    lex_all(sql, dialect, true)
}

fn lex_all(sql: &str, dialect: Dialect, lenient: bool) -> Result<Vec<Token<'_>>, Refusal> {
    let mut lx = Lexer {
        sql,
        bytes: sql.as_bytes(),
        pos: 0,
        dialect,
        lenient,
    };
    let mut out = Vec::new();
    while let Some((tok, start)) = lx.next()? {
        let kind = match tok {
            Tok::Word(_) => TokenKind::Word,
            Tok::Semicolon => TokenKind::Semicolon,
            Tok::OpenParen => TokenKind::OpenParen,
            Tok::Other => TokenKind::Other,
        };
        out.push(Token {
            kind,
            text: &sql[start..lx.pos],
            start,
        });
    }
    Ok(out)
}

pub fn check_select(sql: &str, dialect: Dialect) -> Result<String, Refusal> {
    let mut lx = Lexer {
        sql,
        bytes: sql.as_bytes(),
        pos: 0,
        dialect,
        lenient: false,
    };
    let mut first: Option<(&str, usize)> = None;
    let mut end_of_statement: Option<usize> = None;
    let mut prev_word: Option<&str> = None;
    while let Some((tok, pos)) = lx.next()? {
        if let Some(semi) = end_of_statement {
            let _ = semi;
            if tok != Tok::Semicolon {
                return Err(lx.refuse(pos, "a query file must hold exactly one statement"));
            }
            continue;
        }
        match tok {
            Tok::Semicolon => end_of_statement = Some(pos),
            Tok::Word(w) => {
                let lower = w.to_ascii_lowercase();
                if first.is_none() {
                    first = Some((w, pos));
                    if lower != "select" && lower != "with" {
                        return Err(lx.refuse(
                            pos,
                            format!("`{w}`: a query file must be a single SELECT or WITH … SELECT statement"),
                        ));
                    }
                }
                if FORBIDDEN_WORDS.contains(&lower.as_str()) {
                    // `SHARE` and `UPDATE` after FOR are row locks; the words alone are refused anyway.
                    return Err(
                        lx.refuse(pos, format!("`{w}` is not allowed in a read-only query"))
                    );
                }
                if lower == "share" && prev_word.is_some_and(|p| p.eq_ignore_ascii_case("for")) {
                    return Err(lx.refuse(pos, "`FOR SHARE` takes row locks"));
                }
                prev_word = Some(w);
                // A function call: the next token is `(`.
                let save = lx.pos;
                let next = lx.next()?;
                lx.pos = save;
                if let Some((Tok::OpenParen, _)) = next
                    && FORBIDDEN_FUNCTIONS.contains(&lower.as_str())
                {
                    return Err(lx.refuse(pos, format!("function `{w}` has side effects")));
                }
                continue;
            }
            Tok::OpenParen | Tok::Other => {
                if first.is_none() {
                    return Err(lx.refuse(pos, "a query file must start with SELECT or WITH"));
                }
            }
        }
        prev_word = None;
    }
    if first.is_none() {
        return Err(Refusal {
            line: 1,
            column: 1,
            reason: "the query file holds no statement".into(),
        });
    }
    let text = match end_of_statement {
        Some(p) => &sql[..p],
        None => sql,
    };
    Ok(text.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(sql: &str, d: Dialect) {
        if let Err(e) = check_select(sql, d) {
            panic!("refused {sql:?}: {e}");
        }
    }
    fn refused(sql: &str, d: Dialect) -> Refusal {
        check_select(sql, d).expect_err(sql)
    }

    #[test]
    fn accepts_plain_select_and_with_and_one_trailing_semicolon() {
        for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
            ok("SELECT 1", d);
            ok("  -- leading comment\nselect a from t;  \n", d);
            ok("WITH x AS (SELECT 1 AS a) SELECT a FROM x", d);
            ok("/* c */ SELECT 'a;b' AS s", d);
        }
    }

    #[test]
    fn refuses_two_statements() {
        let r = refused("SELECT 1; SELECT 2", Dialect::Postgres);
        assert_eq!((r.line, r.column), (1, 11));
        refused("SELECT 1;\nDELETE FROM t", Dialect::Sqlite);
    }

    #[test]
    fn semicolons_inside_literals_comments_and_identifiers_do_not_split() {
        ok(
            "SELECT 'x;DELETE' AS \"a;b\" -- ;drop\n FROM t /* ; */",
            Dialect::Postgres,
        );
        ok(
            "SELECT $$;delete$$, $tag$ ; $$ $tag$ FROM t",
            Dialect::Postgres,
        );
        ok("SELECT `a;b` FROM t # ; delete\n", Dialect::Mysql);
        ok("SELECT [a;b] FROM t", Dialect::Sqlite);
        ok("SELECT 'it''s' FROM t", Dialect::Sqlite);
    }

    #[test]
    fn refuses_writes_and_side_effects_anywhere() {
        refused("DELETE FROM t", Dialect::Postgres);
        refused(
            "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
            Dialect::Postgres,
        );
        refused(
            "SELECT set_config('default_transaction_read_only','off',false)",
            Dialect::Postgres,
        );
        refused("SELECT nextval('s')", Dialect::Postgres);
        refused("CALL p()", Dialect::Mysql);
        refused("SELECT * FROM t FOR UPDATE", Dialect::Mysql);
        refused("SELECT * FROM t FOR SHARE", Dialect::Postgres);
        refused("SELECT * INTO OUTFILE '/tmp/x' FROM t", Dialect::Mysql);
        refused("SELECT GET_LOCK('a', 1)", Dialect::Mysql);
        refused("SELECT pg_advisory_xact_lock(1)", Dialect::Postgres);
        refused("SELECT load_extension('x')", Dialect::Sqlite);
        refused("SELECT * FROM t LOCK IN SHARE MODE", Dialect::Mysql);
    }

    #[test]
    fn keywords_inside_literals_are_fine() {
        ok(
            "SELECT 'delete' AS action, \"update\" FROM t",
            Dialect::Postgres,
        );
        ok("SELECT E'it\\'s; delete' FROM t", Dialect::Postgres);
    }

    #[test]
    fn mysql_dash_dash_needs_a_space_to_be_a_comment() {
        // `--1` is minus minus one in MySQL, so the `;` after it is real
        // and a second statement follows; in PostgreSQL it is a comment.
        let r = refused("SELECT 1 --1; SELECT 2", Dialect::Mysql);
        assert_eq!(r.reason, "a query file must hold exactly one statement");
        assert_eq!((r.line, r.column), (1, 15), "at the second statement");
        ok("SELECT 1 --1; SELECT 2", Dialect::Postgres);
        ok("SELECT 1 -- ; SELECT 2", Dialect::Mysql);
    }

    #[test]
    fn refuses_mysql_executable_comments_and_backslashes() {
        let r = refused("SELECT 1 /*!50000 , SLEEP(1) */", Dialect::Mysql);
        assert!(r.reason.contains("executable comment"), "{r}");
        // Nothing else in it is refused: the backslash alone decides.
        let r = refused("SELECT 'a\\'; SELECT 2; -- '", Dialect::Mysql);
        assert!(r.reason.contains("backslash"), "{r}");
        assert_eq!((r.line, r.column), (1, 10));
    }

    #[test]
    fn postgres_nested_comments_and_dollar_quotes() {
        ok("SELECT 1 /* a /* b */ ; */", Dialect::Postgres);
        refused("SELECT $$ unterminated", Dialect::Postgres);
        ok("SELECT $1, $2", Dialect::Postgres);
    }

    #[test]
    fn empty_file_is_refused() {
        let r = refused("  -- nothing\n", Dialect::Sqlite);
        assert!(r.reason.contains("no statement"));
    }

    #[test]
    fn refusal_reports_line_and_column() {
        let r = refused(
            "SELECT a\n  FROM t\n  WHERE x = 1; UPDATE t SET a = 1",
            Dialect::Sqlite,
        );
        assert_eq!((r.line, r.column), (3, 16));
    }
}
