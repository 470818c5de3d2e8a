//! What a database holds, read from its own catalogue in the same read-only
//! session as everything else: tables and views, columns with a coarse kind,
//! declared foreign keys, a row estimate (else a count bounded at 100,000
//! rows), and bounded samples (`LIMIT`). Nothing here reads a table whole.

use std::collections::BTreeMap;

use crate::source::{Dialect, Source, SourceError, value};

/// A column's kind, coarse enough to compare across dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
    Time,
    Bool,
    Number,
    Other,
}

impl Kind {
    /// From a declared type: `integer`, `varchar(80)`, `timestamp with time zone`…
    pub fn of(declared: &str) -> Kind {
        let t = declared.to_ascii_lowercase();
        let has = |s: &str| t.contains(s);
        // Types whose names hold "int" or "time" but are neither.
        let other = ["interval", "point", "range", "multi", "polygon", "geometry"];
        if other.iter().any(|o| has(o)) {
            Kind::Other
        } else if has("bool") {
            Kind::Bool
        } else if has("int") || has("serial") {
            Kind::Int
        } else if has("time") || has("date") {
            Kind::Time
        } else if has("char")
            || has("text")
            || has("clob")
            || has("uuid")
            || has("inet")
            || has("enum")
            || has("user-defined")
            || has("json")
            || t.is_empty()
        {
            Kind::Text
        } else if has("dec") || has("num") || has("real") || has("double") || has("float") {
            Kind::Number
        } else {
            Kind::Other
        }
    }

    /// Whether values of the two kinds can hold the same ids.
    pub fn joins(self, other: Kind) -> bool {
        matches!(
            (self, other),
            (Kind::Int, Kind::Int)
                | (Kind::Text, Kind::Text)
                | (Kind::Int, Kind::Number)
                | (Kind::Number, Kind::Int)
                | (Kind::Number, Kind::Number)
        )
    }
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub declared: String,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub column: String,
    pub table: String,
    pub references: String,
}

#[derive(Debug, Clone)]
pub struct Table {
    /// As the drafted SQL names it: bare in the current schema, database or
    /// file; `schema.table` for PostgreSQL's other schemas.
    pub name: String,
    /// The name without its schema: what the name tells of the contents.
    pub bare: String,
    pub columns: Vec<Column>,
    pub foreign_keys: Vec<ForeignKey>,
    /// The catalogue's estimate (SQLite: the largest rowid).
    pub rows: u64,
    /// Up to [`SAMPLE`] rows, as text, in column order.
    pub sample: Vec<Vec<Option<String>>>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<(usize, &Column)> {
        self.columns
            .iter()
            .enumerate()
            .find(|(_, c)| c.name.eq_ignore_ascii_case(name))
    }

    /// The sampled values of one column, NULLs left out.
    pub fn values(&self, i: usize) -> impl Iterator<Item = &str> {
        self.sample
            .iter()
            .filter_map(move |r| r.get(i).and_then(|v| v.as_deref()))
    }

    /// Whether a column's sampled values are all distinct (and there are some).
    pub fn unique(&self, i: usize) -> bool {
        let mut seen = std::collections::HashSet::new();
        let mut n = 0;
        for v in self.values(i) {
            n += 1;
            if !seen.insert(v) {
                return false;
            }
        }
        n > 0
    }
}

#[derive(Debug, Clone)]
pub struct Catalog {
    pub dialect: Dialect,
    pub tables: Vec<Table>,
    /// Tables and views left out because their sample could not be read
    /// (a slow view past the statement timeout), with the reason.
    pub skipped: Vec<(String, String)>,
}

impl Catalog {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    }
}

/// Rows sampled per table.
pub const SAMPLE: usize = 200;

/// Rows counted, at most, for a table or view without an estimate.
pub const COUNT_BOUND: usize = 100_000;

/// Rows read to list a column's distinct values.
pub const DISTINCT_SAMPLE: usize = 20_000;

/// A table's name as the catalogue gives it, quoted: on PostgreSQL a name
/// with a dot is `schema.table` (see [`read`]) and both parts are quoted.
pub fn quote_table(dialect: Dialect, name: &str) -> String {
    match (dialect, name.split_once('.')) {
        (Dialect::Postgres, Some((schema, table))) => {
            format!("{}.{}", quote(dialect, schema), quote(dialect, table))
        }
        _ => quote(dialect, name),
    }
}

/// A name as an identifier in `dialect`, quoted.
pub fn quote(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

async fn rows(src: &mut Source, sql: &str) -> Result<Vec<Vec<Option<String>>>, SourceError> {
    let mut out = Vec::new();
    src.run("catalog", sql, None, |_, vals| {
        out.push(vals.iter().map(value::to_text).collect());
        Ok(())
    })
    .await?;
    Ok(out)
}

fn text(r: &[Option<String>], i: usize) -> String {
    r.get(i).cloned().flatten().unwrap_or_default()
}

/// The catalogue statements of one dialect. Each gives rows that start
/// with the table's name: columns `(table, column, type)`, foreign keys
/// `(table, column, referenced table, referenced column)`, row estimates
/// `(table, rows)`.
struct CatalogSql {
    columns: Vec<String>,
    foreign_keys: Vec<String>,
    estimates: Vec<String>,
}

/// PostgreSQL: a table's name as keyhole writes it, from its schema `{s}`
/// and name `{t}`.
const PG_NAME: &str = "CASE WHEN {s} = current_schema() AND strpos({t}, '.') = 0 THEN {t}::text ELSE {s} || '.' || {t} END";

/// PostgreSQL: the schemas read, every one but the system's.
const PG_SCHEMAS: &str = "{s} NOT IN ('pg_catalog', 'information_schema') AND {s} NOT LIKE 'pg\\_%' \
     AND has_schema_privilege({s}, 'USAGE')";

async fn catalog_sql(src: &mut Source) -> Result<CatalogSql, SourceError> {
    Ok(match src.dialect {
        Dialect::Sqlite => {
            let names = rows(
                src,
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .await?;
            let names: Vec<String> = names.iter().map(|n| text(n, 0)).collect();
            let each = |f: &dyn Fn(&str, &str) -> String| -> Vec<String> {
                names.iter().map(|n| f(&literal(n), &quote(Dialect::Sqlite, n))).collect()
            };
            CatalogSql {
                columns: each(&|l, _| {
                    format!("SELECT {l}, name, type FROM pragma_table_info({l}) ORDER BY cid")
                }),
                foreign_keys: each(&|l, _| {
                    format!("SELECT {l}, \"from\", \"table\", \"to\" FROM pragma_foreign_key_list({l})")
                }),
                // The largest rowid: an estimate, read from the index's end.
                estimates: each(&|l, q| format!("SELECT {l}, max(rowid) FROM {q}")),
            }
        }
        // Every schema the login may read, not only the first on the search
        // path: a table outside the current schema (or with a dot in its
        // name) is named `schema.table`. A partitioned table is one table:
        // its partitions are left out. Foreign keys come from pg_constraint,
        // which a login with SELECT alone can read (information_schema shows
        // constraints only to a table's owner); a partition's copy of its
        // table's key (conparentid) is left out.
        Dialect::Postgres => CatalogSql {
            columns: vec![format!(
                "SELECT {}, c.column_name, CASE WHEN c.data_type = 'USER-DEFINED' THEN 'enum' ELSE c.data_type END \
                 FROM information_schema.columns c JOIN information_schema.tables t \
                   ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
                 WHERE t.table_type IN ('BASE TABLE', 'VIEW') AND {} \
                   AND has_table_privilege(format('%I.%I', c.table_schema, c.table_name), 'SELECT') \
                   AND NOT EXISTS (SELECT 1 FROM pg_class pc JOIN pg_namespace pn ON pn.oid = pc.relnamespace \
                     WHERE pn.nspname = c.table_schema AND pc.relname = c.table_name AND pc.relispartition) \
                 ORDER BY 1, c.ordinal_position",
                PG_NAME.replace("{s}", "c.table_schema").replace("{t}", "c.table_name"),
                PG_SCHEMAS.replace("{s}", "c.table_schema"),
            )],
            foreign_keys: vec![format!(
                "SELECT {}, a.attname, {}, b.attname \
                 FROM pg_constraint k \
                 JOIN pg_class sc ON sc.oid = k.conrelid JOIN pg_namespace sn ON sn.oid = sc.relnamespace \
                 JOIN pg_class dc ON dc.oid = k.confrelid JOIN pg_namespace dn ON dn.oid = dc.relnamespace \
                 CROSS JOIN LATERAL unnest(k.conkey, k.confkey) AS u(sk, dk) \
                 JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.sk \
                 JOIN pg_attribute b ON b.attrelid = k.confrelid AND b.attnum = u.dk \
                 WHERE k.contype = 'f' AND k.conparentid = 0 AND {}",
                PG_NAME.replace("{s}", "sn.nspname").replace("{t}", "sc.relname"),
                PG_NAME.replace("{s}", "dn.nspname").replace("{t}", "dc.relname"),
                PG_SCHEMAS.replace("{s}", "sn.nspname"),
            )],
            // A partitioned table's estimate is the sum of its leaves'.
            estimates: vec![format!(
                "SELECT {}, CASE WHEN c.relkind = 'p' THEN \
                   (SELECT COALESCE(sum(GREATEST(l.reltuples, 0)), 0) FROM pg_partition_tree(c.oid) pt \
                    JOIN pg_class l ON l.oid = pt.relid WHERE pt.isleaf) \
                 ELSE GREATEST(c.reltuples, 0) END::bigint FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {}",
                PG_NAME.replace("{s}", "n.nspname").replace("{t}", "c.relname"),
                PG_SCHEMAS.replace("{s}", "n.nspname"),
            )],
        },
        Dialect::Mysql => CatalogSql {
            columns: vec![
                "SELECT c.table_name, c.column_name, c.column_type \
                 FROM information_schema.columns c JOIN information_schema.tables t \
                   ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
                 WHERE c.table_schema = DATABASE() AND t.table_type IN ('BASE TABLE', 'VIEW') \
                 ORDER BY c.table_name, c.ordinal_position"
                    .into(),
            ],
            foreign_keys: vec![
                "SELECT table_name, column_name, referenced_table_name, referenced_column_name \
                 FROM information_schema.key_column_usage \
                 WHERE table_schema = DATABASE() AND referenced_table_name IS NOT NULL"
                    .into(),
            ],
            estimates: vec![
                "SELECT table_name, table_rows FROM information_schema.tables WHERE table_schema = DATABASE()"
                    .into(),
            ],
        },
    })
}

/// Reads the catalogue: every table and view the login may read in the
/// database (PostgreSQL: every schema but the system's), the current
/// database (MySQL/MariaDB) or the file (SQLite), with samples.
pub async fn read(src: &mut Source) -> Result<Catalog, SourceError> {
    let dialect = src.dialect;
    let sql = catalog_sql(src).await?;
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for q in &sql.columns {
        for c in rows(src, q).await? {
            let (t, ty) = (text(&c, 0), text(&c, 2));
            tables
                .entry(t.clone())
                .or_insert_with(|| Table {
                    bare: match (dialect, t.split_once('.')) {
                        (Dialect::Postgres, Some((_, bare))) => bare.to_string(),
                        _ => t.clone(),
                    },
                    name: t,
                    columns: Vec::new(),
                    foreign_keys: Vec::new(),
                    rows: 0,
                    sample: Vec::new(),
                })
                .columns
                .push(Column {
                    kind: Kind::of(&ty),
                    name: text(&c, 1),
                    declared: ty,
                });
        }
    }
    for q in &sql.foreign_keys {
        for f in rows(src, q).await? {
            if let Some(t) = tables.get_mut(&text(&f, 0)) {
                t.foreign_keys.push(ForeignKey {
                    column: text(&f, 1),
                    table: text(&f, 2),
                    references: text(&f, 3),
                });
            }
        }
    }
    // An estimate is a nicety: a table without one (SQLite WITHOUT ROWID)
    // is still read.
    for q in &sql.estimates {
        for r in rows(src, q).await.unwrap_or_default() {
            if let Some(t) = tables.get_mut(&text(&r, 0)) {
                t.rows = text(&r, 1).parse().unwrap_or(0);
            }
        }
    }
    let mut skipped = Vec::new();
    for t in tables.values_mut() {
        let cols: Vec<String> = t.columns.iter().map(|c| sample_expr(dialect, c)).collect();
        let sample = rows(
            src,
            &format!(
                "SELECT {} FROM {} LIMIT {SAMPLE}",
                cols.join(", "),
                quote_table(dialect, &t.name)
            ),
        )
        .await;
        t.sample = match sample {
            Ok(s) => s,
            // One table that cannot be sampled does not stop the others.
            Err(e) => {
                skipped.push((t.name.clone(), e.to_string()));
                continue;
            }
        };
        // A view has no estimate, and a table never analysed may say 0: a
        // full sample is counted, up to a bound. A count that fails (a slow
        // view past the statement timeout) leaves the sample's size.
        if t.sample.len() == SAMPLE && t.rows <= SAMPLE as u64 {
            let counted = rows(
                src,
                &format!(
                    "SELECT count(*) FROM (SELECT 1 AS one FROM {} LIMIT {COUNT_BOUND}) s",
                    quote_table(dialect, &t.name)
                ),
            )
            .await
            .unwrap_or_default();
            t.rows = counted
                .first()
                .and_then(|r| text(r, 0).parse().ok())
                .unwrap_or(0);
        }
        t.rows = t.rows.max(t.sample.len() as u64);
        // SQLite (and many schemas) keep times as text: the values decide.
        for i in 0..t.columns.len() {
            if matches!(t.columns[i].kind, Kind::Text | Kind::Other) {
                let vals: Vec<&str> = t.values(i).collect();
                let times = vals.iter().filter(|v| looks_like_time(v)).count();
                if !vals.is_empty() && times * 10 >= vals.len() * 9 {
                    t.columns[i].kind = Kind::Time;
                }
            }
        }
    }
    tables.retain(|name, _| !skipped.iter().any(|(n, _)| n == name));
    Ok(Catalog {
        dialect,
        tables: tables.into_values().collect(),
        skipped,
    })
}

/// A column as text in a sample: every type a production schema holds
/// (bytea, arrays, json, geometry, blobs…) reads, binary values as hex.
fn sample_expr(dialect: Dialect, c: &Column) -> String {
    let q = quote(dialect, &c.name);
    match dialect {
        // Every PostgreSQL type has a cast to text.
        Dialect::Postgres => format!("CAST({q} AS text)"),
        Dialect::Mysql => {
            let t = c.declared.to_ascii_lowercase();
            let binary = [
                "blob",
                "binary",
                "bit",
                "geometry",
                "point",
                "linestring",
                "polygon",
            ]
            .iter()
            .any(|b| t.contains(b));
            if binary {
                format!("HEX({q})")
            } else {
                format!("CAST({q} AS CHAR)")
            }
        }
        Dialect::Sqlite => {
            format!("CASE WHEN typeof({q}) = 'blob' THEN hex({q}) ELSE CAST({q} AS TEXT) END")
        }
    }
}

/// The two sides of `a = b` between columns of two tables. PostgreSQL has
/// no `=` between, say, a uuid or an enum and text; unless both columns are
/// numbers or plain strings, both sides are compared as text there. (MySQL
/// and SQLite compare any two values.)
pub fn comparable(d: Dialect, a: (&str, &Column), b: (&str, &Column)) -> (String, String) {
    let plain = |c: &Column| {
        let t = c.declared.to_ascii_lowercase();
        matches!(c.kind, Kind::Int | Kind::Number)
            || [
                "text",
                "character varying",
                "character",
                "varchar",
                "char",
                "bpchar",
                "name",
            ]
            .contains(&t.as_str())
    };
    if d == Dialect::Postgres && !(plain(a.1) && plain(b.1)) {
        (
            format!("CAST({} AS text)", a.0),
            format!("CAST({} AS text)", b.0),
        )
    } else {
        (a.0.to_string(), b.0.to_string())
    }
}

/// How many of up to [`SAMPLE`] non-null values of `table.column` are found
/// in `other.key`: a bounded probe run by the database itself.
pub async fn overlap(
    src: &mut Source,
    table: &str,
    column: &Column,
    other: &str,
    key: &Column,
) -> Result<(u64, u64), SourceError> {
    let d = src.dialect;
    let (t, c, o) = (
        quote_table(d, table),
        quote(d, &column.name),
        quote_table(d, other),
    );
    let (v, k) = comparable(d, ("s.v", column), (&quote(d, &key.name), key));
    let sql = format!(
        "SELECT count(*), count(CASE WHEN {v} IN (SELECT {k} FROM {o}) THEN 1 END) \
         FROM (SELECT {c} AS v FROM {t} WHERE {c} IS NOT NULL LIMIT {SAMPLE}) s"
    );
    let r = rows(src, &sql).await?;
    let n = |i| {
        r.first()
            .map(|r| text(r, i))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    };
    Ok((n(0), n(1)))
}

/// Up to `limit` distinct values of an expression over the first
/// [`DISTINCT_SAMPLE`] rows of a table, most frequent first.
pub async fn distinct(
    src: &mut Source,
    table: &str,
    alias: &str,
    expr: &str,
    limit: usize,
) -> Result<Vec<String>, SourceError> {
    let t = quote_table(src.dialect, table);
    let sql = format!(
        "SELECT v, count(*) AS n FROM (SELECT {expr} AS v FROM {t} {alias} LIMIT {DISTINCT_SAMPLE}) s \
         WHERE v IS NOT NULL GROUP BY v ORDER BY n DESC, v LIMIT {limit}"
    );
    Ok(rows(src, &sql)
        .await?
        .into_iter()
        .map(|r| text(&r, 0))
        .collect())
}

/// Splits a name into lower-case words: `AccessAudit` and `access_audit`
/// both give `access`, `audit`.
pub fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for ch in name.chars() {
        if !ch.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if ch.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = ch.is_lowercase() || ch.is_ascii_digit();
        cur.extend(ch.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `2026-11-01`, `2026-11-01 09:30:00`, `2026-11-01T09:30:00Z`…
pub fn looks_like_time(v: &str) -> bool {
    let v = v.trim();
    let b = v.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
        && (b.len() == 10 || matches!(b[10], b' ' | b'T'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, declared: &str) -> Column {
        Column {
            name: name.into(),
            declared: declared.into(),
            kind: Kind::of(declared),
        }
    }

    #[test]
    fn types_named_like_ints_or_times_are_neither() {
        for (t, k) in [
            ("integer", Kind::Int),
            ("bigint", Kind::Int),
            ("int(11)", Kind::Int),
            ("timestamp with time zone", Kind::Time),
            ("character varying", Kind::Text),
            ("interval", Kind::Other),
            ("point", Kind::Other),
            ("int4range", Kind::Other),
            ("multipolygon", Kind::Other),
            ("bytea", Kind::Other),
        ] {
            assert_eq!(Kind::of(t), k, "{t}");
        }
    }

    #[test]
    fn postgres_compares_unlike_columns_as_text() {
        let (id, big, uuid, txt, en) = (
            col("id", "integer"),
            col("ref", "bigint"),
            col("token", "uuid"),
            col("code", "text"),
            col("state", "enum"),
        );
        let pg = Dialect::Postgres;
        assert_eq!(
            comparable(pg, ("a.id", &id), ("b.ref", &big)),
            ("a.id".into(), "b.ref".into())
        );
        assert_eq!(
            comparable(pg, ("a.token", &uuid), ("b.code", &txt)),
            (
                "CAST(a.token AS text)".into(),
                "CAST(b.code AS text)".into()
            )
        );
        assert_eq!(
            comparable(pg, ("a.code", &txt), ("b.state", &en)).1,
            "CAST(b.state AS text)"
        );
        assert_eq!(
            comparable(Dialect::Mysql, ("a.token", &uuid), ("b.code", &txt)),
            ("a.token".into(), "b.code".into())
        );
    }
}
