//! Decoding of any column a query file returns into a small [`Value`], per
//! dialect and by the value's runtime type, and the coercions of CONTRACT
//! section 3 from a `Value` to an id, text, timestamp, boolean or count.
//! Every step is fallible and says what it could not read; nothing here
//! panics on a type it did not expect.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use sqlx::{Column, Row, TypeInfo, ValueRef};

use crate::model::{Id, Instant};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    UInt(u64),
    Float(f64),
    Decimal(Decimal),
    Bool(bool),
    Text(String),
    Uuid(uuid::Uuid),
    Utc(DateTime<Utc>),
    Naive(NaiveDateTime),
    Date(NaiveDate),
}

impl Value {
    fn describe(&self) -> String {
        match self {
            Value::Null => "NULL".into(),
            Value::Text(s) => format!("text {:?}", crate::sanitize::clip(s, 40)),
            other => format!("{other:?}"),
        }
    }
}

pub use crate::time::local_day_start;

message_error!(
    /// A value that cannot be read as the type its column needs.
    ValueError
);

pub fn to_id(v: &Value) -> Result<Option<Id>, ValueError> {
    Ok(match v {
        Value::Null => None,
        Value::Int(i) => Some(Id::from_int(*i)),
        Value::UInt(u) => Some(Id::new(compact_str::ToCompactString::to_compact_string(u))),
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(format!("cannot use {f} as an id").into());
            }
            if f.fract() == 0.0 && f.abs() < 1e18 {
                Some(Id::new((*f as i64).to_string()))
            } else {
                Some(Id::new(f.to_string()))
            }
        }
        Value::Decimal(d) => Some(Id::new(d.normalize().to_string())),
        Value::Uuid(u) => Some(Id::new(u.hyphenated().to_string())),
        Value::Text(s) => {
            let t = s.trim();
            if t.is_empty() { None } else { Some(Id::new(t)) }
        }
        other => return Err(format!("cannot use {} as an id", other.describe()).into()),
    })
}

pub fn to_text(v: &Value) -> Option<String> {
    let s = match v {
        Value::Null => return None,
        Value::Text(s) => return Some(s.trim()).filter(|t| !t.is_empty()).map(str::to_string),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Decimal(d) => d.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Uuid(u) => u.hyphenated().to_string(),
        Value::Utc(t) => crate::time::rfc3339(*t),
        Value::Naive(t) => crate::time::rfc3339(Utc.from_utc_datetime(t)),
        Value::Date(d) => d.to_string(),
    };
    Some(s)
}

/// Text timestamps: RFC 3339, or `YYYY-MM-DD[ T]HH:MM[:SS[.f]]` (UTC), or a
/// date alone (start of that local day in `tz`).
pub fn parse_timestamp_text(s: &str, tz: Tz) -> Option<Instant> {
    let s = s.trim();
    if let Some(t) = fast_timestamp(s.as_bytes()) {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y-%m-%d %H:%M:%S%#z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.with_timezone(&Utc));
        }
    }
    let plain = s
        .strip_suffix('Z')
        .or_else(|| s.strip_suffix('z'))
        .unwrap_or(s);
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(plain, fmt) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(local_day_start(d, tz));
    }
    None
}

/// `YYYY-MM-DD[ T]HH:MM:SS` with an optional `Z`: the common shapes, parsed
/// without the general format machinery (it dominates a large load).
fn fast_timestamp(b: &[u8]) -> Option<Instant> {
    let body = match b {
        [rest @ .., b'Z' | b'z'] => rest,
        _ => b,
    };
    if body.len() != 19 || !(body[10] == b' ' || body[10] == b'T') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let mut v = 0u32;
        for &c in &body[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        Some(v)
    };
    if body[4] != b'-' || body[7] != b'-' || body[13] != b':' || body[16] != b':' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let t = date.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)?;
    Some(Utc.from_utc_datetime(&t))
}

pub fn to_timestamp(v: &Value, tz: Tz) -> Result<Option<Instant>, ValueError> {
    Ok(match v {
        Value::Null => None,
        Value::Utc(t) => Some(*t),
        Value::Naive(t) => Some(Utc.from_utc_datetime(t)),
        Value::Date(d) => Some(local_day_start(*d, tz)),
        Value::Text(s) if s.trim().is_empty() => None,
        Value::Text(s) => Some(
            parse_timestamp_text(s, tz)
                .ok_or_else(|| format!("cannot read {} as a timestamp", v.describe()))?,
        ),
        other => return Err(format!("cannot read {} as a timestamp", other.describe()).into()),
    })
}

pub fn to_bool(v: &Value) -> Result<Option<bool>, ValueError> {
    Ok(match v {
        Value::Null => None,
        Value::Bool(b) => Some(*b),
        Value::Int(0) | Value::UInt(0) => Some(false),
        Value::Int(1) | Value::UInt(1) => Some(true),
        Value::Float(f) if *f == 0.0 => Some(false),
        Value::Float(f) if *f == 1.0 => Some(true),
        Value::Decimal(d) if d.is_zero() => Some(false),
        Value::Decimal(d) if *d == Decimal::ONE => Some(true),
        Value::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
            "" => None,
            "t" | "true" | "1" => Some(true),
            "f" | "false" | "0" => Some(false),
            _ => return Err(format!("cannot read {} as a boolean", v.describe()).into()),
        },
        other => return Err(format!("cannot read {} as a boolean", other.describe()).into()),
    })
}

pub fn to_count(v: &Value) -> Result<Option<i64>, ValueError> {
    let bad = || format!("cannot read {} as a whole number", v.describe());
    Ok(match v {
        Value::Null => None,
        Value::Int(i) => Some(*i),
        Value::UInt(u) => Some(i64::try_from(*u).map_err(|_| bad())?),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => Some(*f as i64),
        Value::Decimal(d) if d.fract().is_zero() => {
            Some(i64::try_from(d.trunc()).map_err(|_| bad())?)
        }
        Value::Text(s) if s.trim().is_empty() => None,
        Value::Text(s) => Some(s.trim().parse::<i64>().map_err(|_| bad())?),
        _ => return Err(bad().into()),
    })
}

/// `10.1.2.3/32` → `10.1.2.3`; other prefixes stay.
fn net_text(n: ipnet::IpNet) -> String {
    if n.prefix_len() == n.max_prefix_len() {
        n.addr().to_string()
    } else {
        n.to_string()
    }
}

fn err_col(name: &str, ty: &str, e: impl std::fmt::Display) -> String {
    format!("column {name} (type {ty}): {e}")
}

/// How to decode one PostgreSQL column, decided once per statement from its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgKind {
    Bool,
    I16,
    I32,
    I64,
    Oid,
    F32,
    F64,
    Numeric,
    Text,
    Uuid,
    TsTz,
    Ts,
    Date,
    Inet,
    Unsupported,
}

pub fn pg_kind(info: &sqlx::postgres::PgTypeInfo) -> PgKind {
    use sqlx::postgres::PgTypeKind;
    match info.name() {
        "BOOL" => PgKind::Bool,
        "INT2" => PgKind::I16,
        "INT4" => PgKind::I32,
        "INT8" => PgKind::I64,
        "OID" => PgKind::Oid,
        "FLOAT4" => PgKind::F32,
        "FLOAT8" => PgKind::F64,
        "NUMERIC" => PgKind::Numeric,
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "CITEXT" | "UNKNOWN" => PgKind::Text,
        "UUID" => PgKind::Uuid,
        "TIMESTAMPTZ" => PgKind::TsTz,
        "TIMESTAMP" => PgKind::Ts,
        "DATE" => PgKind::Date,
        "INET" | "CIDR" => PgKind::Inet,
        // An enum's binary form is its label.
        _ if matches!(info.kind(), PgTypeKind::Enum(_)) => PgKind::Text,
        _ => PgKind::Unsupported,
    }
}

/// The decode plan for a row's columns.
pub fn pg_kinds(row: &sqlx::postgres::PgRow) -> Vec<PgKind> {
    row.columns()
        .iter()
        .map(|c| pg_kind(c.type_info()))
        .collect()
}

pub fn decode_pg(row: &sqlx::postgres::PgRow, i: usize) -> Result<Value, ValueError> {
    let kind = pg_kind(row.columns()[i].type_info());
    decode_pg_as(row, i, kind)
}

/// A decoded column: a value, or text still borrowed from the row, so a
/// slot that held text before can take it without a new allocation.
pub enum Cell<'r> {
    Value(Value),
    Text(&'r str),
    Bytes(&'r [u8]),
}

impl Cell<'_> {
    /// Writes the cell into `slot`, reusing the slot's text buffer. Fails
    /// only on bytes that are not UTF-8.
    pub fn store_in(self, slot: &mut Value) -> Result<(), NotUtf8> {
        let text = match self {
            Cell::Value(v) => {
                *slot = v;
                return Ok(());
            }
            Cell::Text(t) => t,
            Cell::Bytes(b) => std::str::from_utf8(b).map_err(|_| NotUtf8)?,
        };
        match slot {
            Value::Text(s) => {
                s.clear();
                s.push_str(text);
            }
            other => *other = Value::Text(text.to_owned()),
        }
        Ok(())
    }

    pub fn into_value<R: Row>(self, row: &R, i: usize) -> Result<Value, ValueError>
    where
        usize: sqlx::ColumnIndex<R>,
    {
        let mut v = Value::Null;
        self.store_in(&mut v).map_err(|_| not_utf8(row, i))?;
        Ok(v)
    }
}

/// Binary column data that is not text.
pub struct NotUtf8;

/// The error for column `i` of `row` holding bytes that are not UTF-8.
pub fn not_utf8<R: Row>(row: &R, i: usize) -> ValueError
where
    usize: sqlx::ColumnIndex<R>,
{
    let c = &row.columns()[i];
    // The value's own type, as the driver reports it (SQLite: its storage class).
    let ty = match row.try_get_raw(i) {
        Ok(raw) => raw.type_info().name().to_string(),
        Err(_) => c.type_info().name().to_string(),
    };
    err_col(c.name(), &ty, "binary value is not UTF-8 text").into()
}

pub fn decode_pg_as(
    row: &sqlx::postgres::PgRow,
    i: usize,
    kind: PgKind,
) -> Result<Value, ValueError> {
    decode_pg_cell(row, i, kind)?.into_value(row, i)
}

pub fn decode_pg_cell(
    row: &sqlx::postgres::PgRow,
    i: usize,
    kind: PgKind,
) -> Result<Cell<'_>, ValueError> {
    let raw = row.try_get_raw(i).map_err(|e| e.to_string())?;
    if raw.is_null() {
        return Ok(Cell::Value(Value::Null));
    }
    let e = |x: sqlx::Error| {
        err_col(
            row.columns()[i].name(),
            row.columns()[i].type_info().name(),
            x,
        )
    };
    // The kind was read from the column's own type, so the unchecked getters are safe.
    if kind == PgKind::Text {
        return Ok(Cell::Text(row.try_get_unchecked(i).map_err(e)?));
    }
    Ok(Cell::Value(match kind {
        PgKind::Bool => Value::Bool(row.try_get_unchecked(i).map_err(e)?),
        PgKind::I16 => Value::Int(row.try_get_unchecked::<i16, _>(i).map_err(e)?.into()),
        PgKind::I32 => Value::Int(row.try_get_unchecked::<i32, _>(i).map_err(e)?.into()),
        PgKind::I64 => Value::Int(row.try_get_unchecked(i).map_err(e)?),
        PgKind::Oid => Value::Int(
            row.try_get_unchecked::<sqlx::postgres::types::Oid, _>(i)
                .map_err(e)?
                .0
                .into(),
        ),
        PgKind::F32 => Value::Float(row.try_get_unchecked::<f32, _>(i).map_err(e)?.into()),
        PgKind::F64 => Value::Float(row.try_get_unchecked(i).map_err(e)?),
        PgKind::Numeric => Value::Decimal(row.try_get_unchecked(i).map_err(e)?),
        PgKind::Text => unreachable!("borrowed above"),
        PgKind::Uuid => Value::Uuid(row.try_get_unchecked(i).map_err(e)?),
        PgKind::TsTz => Value::Utc(row.try_get_unchecked(i).map_err(e)?),
        PgKind::Ts => Value::Naive(row.try_get_unchecked(i).map_err(e)?),
        PgKind::Date => Value::Date(row.try_get_unchecked(i).map_err(e)?),
        PgKind::Inet => Value::Text(net_text(row.try_get_unchecked(i).map_err(e)?)),
        PgKind::Unsupported => {
            return Err(err_col(
                row.columns()[i].name(),
                row.columns()[i].type_info().name(),
                "unsupported type; cast it to text in the query file",
            )
            .into());
        }
    }))
}

pub fn decode_mysql(row: &sqlx::mysql::MySqlRow, i: usize) -> Result<Value, ValueError> {
    decode_mysql_cell(row, i)?.into_value(row, i)
}

pub fn decode_mysql_cell(row: &sqlx::mysql::MySqlRow, i: usize) -> Result<Cell<'_>, ValueError> {
    let raw = row.try_get_raw(i).map_err(|e| e.to_string())?;
    if raw.is_null() {
        return Ok(Cell::Value(Value::Null));
    }
    let info = raw.type_info();
    let ty = info.name();
    let col = || row.columns()[i].name();
    let e = |x: sqlx::Error| err_col(col(), ty, x);
    Ok(Cell::Value(match ty {
        "BOOLEAN" => Value::Int(row.try_get_unchecked::<i64, _>(i).map_err(e)?),
        "TINYINT" | "SMALLINT" | "INT" | "MEDIUMINT" | "BIGINT" | "YEAR" => {
            Value::Int(row.try_get_unchecked::<i64, _>(i).map_err(e)?)
        }
        t if t.ends_with("UNSIGNED") => Value::UInt(row.try_get_unchecked::<u64, _>(i).map_err(e)?),
        "FLOAT" => Value::Float(row.try_get::<f32, _>(i).map_err(e)?.into()),
        "DOUBLE" => Value::Float(row.try_get(i).map_err(e)?),
        "DECIMAL" => {
            let s: String = row.try_get_unchecked(i).map_err(e)?;
            Value::Decimal(s.parse().map_err(|x| err_col(col(), ty, x))?)
        }
        "DATETIME" => Value::Naive(row.try_get(i).map_err(e)?),
        "TIMESTAMP" => Value::Utc(row.try_get(i).map_err(e)?),
        "DATE" => Value::Date(row.try_get(i).map_err(e)?),
        "CHAR" | "VARCHAR" | "TEXT" | "TINYTEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" | "SET"
        | "JSON" | "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BINARY" | "VARBINARY" => {
            return Ok(Cell::Bytes(row.try_get_unchecked(i).map_err(e)?));
        }
        _ => {
            return Err(err_col(
                col(),
                ty,
                "unsupported type; CAST it to CHAR in the query file",
            )
            .into());
        }
    }))
}

pub fn decode_sqlite(row: &sqlx::sqlite::SqliteRow, i: usize) -> Result<Value, ValueError> {
    decode_sqlite_cell(row, i)?.into_value(row, i)
}

pub fn decode_sqlite_cell(row: &sqlx::sqlite::SqliteRow, i: usize) -> Result<Cell<'_>, ValueError> {
    let raw = row.try_get_raw(i).map_err(|e| e.to_string())?;
    if raw.is_null() {
        return Ok(Cell::Value(Value::Null));
    }
    // The storage class of this value, not the column's declared type.
    let info = raw.type_info();
    let ty = info.name();
    let col = || row.columns()[i].name();
    let e = |x: sqlx::Error| err_col(col(), ty, x);
    Ok(match ty {
        "INTEGER" => Cell::Value(Value::Int(row.try_get_unchecked(i).map_err(e)?)),
        "REAL" => Cell::Value(Value::Float(row.try_get_unchecked(i).map_err(e)?)),
        "BLOB" => Cell::Bytes(row.try_get_unchecked(i).map_err(e)?),
        _ => Cell::Text(row.try_get_unchecked(i).map_err(e)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_become_plain_text() {
        assert_eq!(to_id(&Value::Int(1000)).unwrap().unwrap().as_str(), "1000");
        assert_eq!(
            to_id(&Value::Float(1000.0)).unwrap().unwrap().as_str(),
            "1000"
        );
        assert_eq!(
            to_id(&Value::Decimal("1000.00".parse().unwrap()))
                .unwrap()
                .unwrap()
                .as_str(),
            "1000"
        );
        assert_eq!(
            to_id(&Value::Text("  007 ".into()))
                .unwrap()
                .unwrap()
                .as_str(),
            "007"
        );
        assert_eq!(to_id(&Value::Text("   ".into())).unwrap(), None);
        let u = uuid::Uuid::parse_str("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11").unwrap();
        assert_eq!(
            to_id(&Value::Uuid(u)).unwrap().unwrap().as_str(),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
        );
        assert!(to_id(&Value::Bool(true)).is_err());
    }

    #[test]
    fn text_timestamps_with_and_without_zone() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let t = |s: &str| {
            to_timestamp(&Value::Text(s.into()), tz)
                .unwrap()
                .unwrap()
                .to_rfc3339()
        };
        assert_eq!(t("2026-03-01T08:00:00Z"), "2026-03-01T08:00:00+00:00");
        assert_eq!(t("2026-03-01 08:00:00"), "2026-03-01T08:00:00+00:00");
        assert_eq!(t("2026-03-01T09:00:00+01:00"), "2026-03-01T08:00:00+00:00");
        assert_eq!(
            t("2026-03-01 08:00:00.250"),
            "2026-03-01T08:00:00.250+00:00"
        );
        // A date alone is the start of that local day in the policy zone.
        assert_eq!(t("2026-03-01"), "2026-03-01T05:00:00+00:00");
        assert!(to_timestamp(&Value::Text("yesterday".into()), tz).is_err());
        assert_eq!(to_timestamp(&Value::Text(" ".into()), tz).unwrap(), None);
    }

    #[test]
    fn native_date_is_local_midnight_and_naive_is_utc() {
        let tz: Tz = "Europe/Paris".parse().unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        assert_eq!(
            to_timestamp(&Value::Date(d), tz)
                .unwrap()
                .unwrap()
                .to_rfc3339(),
            "2026-06-30T22:00:00+00:00"
        );
        let n = d.and_hms_opt(12, 0, 0).unwrap();
        assert_eq!(
            to_timestamp(&Value::Naive(n), tz)
                .unwrap()
                .unwrap()
                .to_rfc3339(),
            "2026-07-01T12:00:00+00:00"
        );
    }

    #[test]
    fn local_day_start_skips_a_midnight_gap() {
        // America/Santiago skipped 2022-09-11 00:00 → 01:00.
        let tz: Tz = "America/Santiago".parse().unwrap();
        let d = NaiveDate::from_ymd_opt(2022, 9, 11).unwrap();
        assert_eq!(
            local_day_start(d, tz).to_rfc3339(),
            "2022-09-11T04:00:00+00:00"
        );
    }

    #[test]
    fn booleans_from_bool_numbers_and_text() {
        for (v, want) in [
            (Value::Bool(true), Some(true)),
            (Value::Int(0), Some(false)),
            (Value::Int(1), Some(true)),
            (Value::Text("t".into()), Some(true)),
            (Value::Text(" FALSE ".into()), Some(false)),
            (Value::Text("f".into()), Some(false)),
            (Value::Null, None),
        ] {
            assert_eq!(to_bool(&v).unwrap(), want, "{v:?}");
        }
        assert!(to_bool(&Value::Int(2)).is_err());
        assert!(to_bool(&Value::Text("yes".into())).is_err());
    }

    #[test]
    fn counts_from_numbers_and_text() {
        assert_eq!(
            to_count(&Value::Decimal("12".parse().unwrap())).unwrap(),
            Some(12)
        );
        assert_eq!(to_count(&Value::Text(" 7 ".into())).unwrap(), Some(7));
        assert!(to_count(&Value::Float(1.5)).is_err());
    }

    #[test]
    fn text_is_trimmed_and_blank_is_null() {
        assert_eq!(to_text(&Value::Text("  a b ".into())), Some("a b".into()));
        assert_eq!(to_text(&Value::Text(" \t ".into())), None);
        assert_eq!(
            to_text(&Value::Decimal("1.50".parse().unwrap())),
            Some("1.50".into())
        );
    }

    #[test]
    fn full_length_prefix_is_dropped_from_addresses() {
        assert_eq!(net_text("10.1.2.3/32".parse().unwrap()), "10.1.2.3");
        assert_eq!(net_text("10.1.0.0/16".parse().unwrap()), "10.1.0.0/16");
        assert_eq!(net_text("::1/128".parse().unwrap()), "::1");
    }
}
