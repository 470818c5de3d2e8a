//! Pulls keyhole's model out of a source through the query files: matches
//! columns by name, applies the NULL and coercion rules of CONTRACT section 3
//! and streams access events one row at a time into compact state.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use chrono_tz::Tz;

use super::value::ValueError;
use crate::model::*;
use crate::source::queries::{QueryFile, QuerySet};
use crate::source::value::{self, Value};
use crate::source::{Source, SourceError, Window};

/// Where each spec column sits in a row.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    idx: Vec<Option<usize>>,
}

impl ColumnMap {
    /// Matches `cols` against the file's spec: case-insensitive, extra
    /// columns ignored, a missing required column or a used column that
    /// appears twice is an error naming the file and the column.
    pub fn resolve(label: &str, file: QueryFile, cols: &[String]) -> Result<ColumnMap, ValueError> {
        let mut idx = Vec::new();
        for (name, required) in file.columns() {
            let found: Vec<usize> = cols
                .iter()
                .enumerate()
                .filter(|(_, c)| c.trim().eq_ignore_ascii_case(name))
                .map(|(i, _)| i)
                .collect();
            match found.len() {
                0 if *required => {
                    return Err(format!("{label}: missing required column `{name}`").into());
                }
                0 => idx.push(None),
                1 => idx.push(Some(found[0])),
                _ => {
                    return Err(
                        format!("{label}: column `{name}` appears {} times", found.len()).into(),
                    );
                }
            }
        }
        Ok(ColumnMap { idx })
    }

    fn get<'a>(&self, row: &'a [Value], i: usize) -> &'a Value {
        match self.idx[i] {
            Some(j) => row.get(j).unwrap_or(&Value::Null),
            None => &Value::Null,
        }
    }
}

/// Reads one row's fields by spec position, with errors that name the
/// column and the row's id.
struct RowReader<'a> {
    file: QueryFile,
    map: &'a ColumnMap,
    row: &'a [Value],
    /// The row's number in the result, for errors.
    n: usize,
    tz: Tz,
}

impl RowReader<'_> {
    fn name(&self, i: usize) -> &'static str {
        self.file.columns()[i].0
    }
    fn fail(&self, i: usize, msg: impl std::fmt::Display) -> ValueError {
        let row = row_label(self.file, self.map, self.row, self.n);
        ValueError(format!("column `{}`, {row}: {msg}", self.name(i)))
    }
    /// Interns an id column (staff, subject) without building an [`Id`]
    /// when the value is an integer or text already.
    fn id_sym(&self, i: usize, symbols: &mut Interner) -> Result<Option<Sym>, ValueError> {
        match self.map.get(self.row, i) {
            // Formatted inline, with no allocation.
            Value::Int(v) => Ok(Some(symbols.intern(Id::from_int(*v).as_str()))),
            Value::Text(t) => Ok(Some(t.trim())
                .filter(|t| !t.is_empty())
                .map(|t| symbols.intern(t))),
            _ => Ok(self.id(i)?.map(|id| symbols.intern(id.as_str()))),
        }
    }
    fn id(&self, i: usize) -> Result<Option<Id>, ValueError> {
        value::to_id(self.map.get(self.row, i)).map_err(|e| self.fail(i, e))
    }
    fn req_id(&self, i: usize) -> Result<Id, ValueError> {
        self.id(i)?
            .ok_or_else(|| self.fail(i, "NULL in a required column"))
    }
    fn text(&self, i: usize) -> Option<String> {
        value::to_text(self.map.get(self.row, i))
    }
    /// A text column borrowed from the row when it is text already
    /// (trimmed, empty as absent), else converted.
    fn str(&self, i: usize) -> Option<Cow<'_, str>> {
        match self.map.get(self.row, i) {
            Value::Text(t) => Some(t.trim()).filter(|t| !t.is_empty()).map(Cow::Borrowed),
            other => value::to_text(other).map(Cow::Owned),
        }
    }
    /// Interns a text column without allocating when the value is text already.
    fn sym(&self, i: usize, symbols: &mut Interner) -> Option<Sym> {
        match self.map.get(self.row, i) {
            Value::Text(t) => Some(t.trim())
                .filter(|t| !t.is_empty())
                .map(|t| symbols.intern(t)),
            other => value::to_text(other).map(|t| symbols.intern(&t)),
        }
    }
    fn req_text(&self, i: usize) -> Result<String, ValueError> {
        self.text(i)
            .ok_or_else(|| self.fail(i, "NULL in a required column"))
    }
    fn time(&self, i: usize) -> Result<Option<Instant>, ValueError> {
        value::to_timestamp(self.map.get(self.row, i), self.tz).map_err(|e| self.fail(i, e))
    }
    fn req_time(&self, i: usize) -> Result<Instant, ValueError> {
        self.time(i)?
            .ok_or_else(|| self.fail(i, "NULL in a required column"))
    }
    fn bool(&self, i: usize) -> Result<Option<bool>, ValueError> {
        value::to_bool(self.map.get(self.row, i)).map_err(|e| self.fail(i, e))
    }
    fn count(&self, i: usize) -> Result<Option<i64>, ValueError> {
        value::to_count(self.map.get(self.row, i)).map_err(|e| self.fail(i, e))
    }
}

fn row_label(file: QueryFile, map: &ColumnMap, row: &[Value], n: usize) -> String {
    let id_col = file.columns()[0].0;
    match value::to_id(map.get(row, 0)).ok().flatten() {
        Some(id)
            if id_col.ends_with("_id")
                && file != QueryFile::Relationships
                && file != QueryFile::DisclosureItems =>
        {
            format!("row {id_col}={id}")
        }
        _ => format!("row {n}"),
    }
}

/// Runs a non-windowed file and maps each row with `f`.
async fn load_rows<T>(
    src: &mut Source,
    set: &QuerySet,
    file: QueryFile,
    tz: Tz,
    mut f: impl FnMut(&RowReader) -> Result<T, ValueError>,
) -> Result<Option<Vec<T>>, SourceError> {
    let Some(q) = set.get(file) else {
        return Ok(None);
    };
    let label = q.label.clone();
    let mut out = Vec::new();
    let mut map: Option<ColumnMap> = None;
    let mut n = 0usize;
    let cols = src
        .run(&label, &q.sql, None, |cols, row| {
            n += 1;
            if map.is_none() {
                map = Some(
                    ColumnMap::resolve(&label, file, cols).map_err(|e| strip_label(&label, e))?,
                );
            }
            let m = map.as_ref().expect("set above");
            let reader = RowReader {
                file,
                map: m,
                row,
                n,
                tz,
            };
            out.push(f(&reader)?);
            Ok(())
        })
        .await?;
    if map.is_none() {
        ColumnMap::resolve(&label, file, &cols).map_err(SourceError::new)?;
    }
    Ok(Some(out))
}

fn strip_label(label: &str, e: ValueError) -> ValueError {
    match e.0.strip_prefix(&format!("{label}: ")) {
        Some(rest) => ValueError(rest.to_string()),
        None => e,
    }
}

fn dup_check<'a>(label: &str, ids: impl Iterator<Item = &'a Id>) -> Result<(), SourceError> {
    let mut seen = rustc_hash::FxHashSet::default();
    for id in ids {
        if !seen.insert(id) {
            return Err(SourceError::new(format!(
                "{label}: id {id} is returned twice"
            )));
        }
    }
    Ok(())
}

pub async fn load_staff(
    src: &mut Source,
    set: &QuerySet,
    tz: Tz,
) -> Result<Vec<Staff>, SourceError> {
    let v = load_rows(src, set, QueryFile::Staff, tz, |r| {
        Ok(Staff {
            staff_id: r.req_id(0)?,
            display_name: r.text(1).unwrap_or_default(),
            role: r.text(2),
            department: r.text(3),
            email: r.text(4),
            family_name: r.text(5),
            postal_address: r.text(6),
            db_user: r.text(7),
            hired_at: r.time(8)?,
            terminated_at: r.time(9)?,
        })
    })
    .await?
    .ok_or_else(|| SourceError::new("staff.sql is required"))?;
    dup_check(&label(set, QueryFile::Staff), v.iter().map(|s| &s.staff_id))?;
    Ok(v)
}

pub async fn load_subjects(
    src: &mut Source,
    set: &QuerySet,
    tz: Tz,
) -> Result<Vec<Subject>, SourceError> {
    let v = load_rows(src, set, QueryFile::Subjects, tz, |r| {
        let t: [Option<Cow<str>>; 6] = std::array::from_fn(|k| r.str(k + 1));
        Ok(Subject::new(
            r.req_id(0)?,
            SubjectText {
                display_name: t[0].as_deref().unwrap_or_default(),
                email: t[1].as_deref(),
                phone: t[2].as_deref(),
                postal_address: t[3].as_deref(),
                family_name: t[4].as_deref(),
                jurisdiction: t[5].as_deref(),
            },
            r.bool(7)?.unwrap_or(false),
            r.id(8)?,
        ))
    })
    .await?
    .ok_or_else(|| SourceError::new("subjects.sql is required"))?;
    dup_check(
        &label(set, QueryFile::Subjects),
        v.iter().map(|s| &s.subject_id),
    )?;
    Ok(v)
}

pub async fn load_relationships(
    src: &mut Source,
    set: &QuerySet,
    tz: Tz,
) -> Result<Option<Relationships>, SourceError> {
    // Rows go straight into the packed table; no row is kept as a struct.
    let mut table = RelationshipsBuilder::default();
    let read = load_rows(src, set, QueryFile::Relationships, tz, |r| {
        let kind = r
            .str(2)
            .ok_or_else(|| r.fail(2, "NULL in a required column"))?;
        table.push(
            r.req_id(0)?,
            r.req_id(1)?,
            &kind,
            r.str(3).as_deref(),
            r.req_time(4)?,
            r.time(5)?,
        );
        Ok(())
    })
    .await?;
    Ok(read.map(|_| table.finish()))
}

pub async fn load_disclosures(
    src: &mut Source,
    set: &QuerySet,
    tz: Tz,
) -> Result<Option<Vec<Disclosure>>, SourceError> {
    let v = load_rows(src, set, QueryFile::Disclosures, tz, |r| {
        Ok(Disclosure {
            disclosure_id: r.req_id(0)?,
            kind: r.req_text(1)?,
            requester: r.req_text(2)?,
            authority_ref: r.text(3),
            received_at: r.req_time(4)?,
            due_at: r.time(5)?,
            responded_at: r.time(6)?,
            status: r.req_text(7)?,
            approved_by: r.text(8),
            nondisclosure_until: r.time(9)?,
            subjects_notified_at: r.time(10)?,
            requested_categories: r.text(11).map(|s| split_categories(&s)).unwrap_or_default(),
            agreement_ref: r.text(12),
        })
    })
    .await?;
    if let Some(v) = &v {
        dup_check(
            &label(set, QueryFile::Disclosures),
            v.iter().map(|d| &d.disclosure_id),
        )?;
    }
    Ok(v)
}

pub async fn load_disclosure_items(
    src: &mut Source,
    set: &QuerySet,
    tz: Tz,
) -> Result<Option<Vec<DisclosureItem>>, SourceError> {
    load_rows(src, set, QueryFile::DisclosureItems, tz, |r| {
        Ok(DisclosureItem {
            disclosure_id: r.req_id(0)?,
            subject_id: r.req_id(1)?,
            data_category: r.text(2),
            disclosed_at: r.time(3)?,
        })
    })
    .await
}

pub async fn load_requests(
    src: &mut Source,
    set: &QuerySet,
    tz: Tz,
) -> Result<Option<Vec<SubjectRequest>>, SourceError> {
    let v = load_rows(src, set, QueryFile::SubjectRequests, tz, |r| {
        Ok(SubjectRequest {
            request_id: r.req_id(0)?,
            subject_id: r.req_id(1)?,
            kind: r.req_text(2)?,
            channel: r.text(3),
            received_at: r.req_time(4)?,
            completed_at: r.time(5)?,
            status: r.text(6),
        })
    })
    .await?;
    if let Some(v) = &v {
        dup_check(
            &label(set, QueryFile::SubjectRequests),
            v.iter().map(|d| &d.request_id),
        )?;
    }
    Ok(v)
}

fn label(set: &QuerySet, f: QueryFile) -> String {
    set.get(f)
        .map(|q| q.label.clone())
        .unwrap_or_else(|| f.file_name().to_string())
}

/// Streams `access_events.sql` over `[from, to)`, interning repeating values
/// into `symbols` and handing each in-window event to `on_event`. Rows the
/// query returns outside the window are dropped. `on_progress` gets the
/// number of rows read so far, every 10,000 rows.
pub async fn stream_events(
    src: &mut Source,
    set: &QuerySet,
    tz: Tz,
    window: Window,
    symbols: &mut Interner,
    mut on_event: impl FnMut(AccessEvent, &Interner),
    mut on_progress: impl FnMut(u64),
) -> Result<u64, SourceError> {
    let file = QueryFile::AccessEvents;
    let q = set
        .get(file)
        .ok_or_else(|| SourceError::new("access_events.sql is required"))?;
    let label = q.label.clone();
    let mut map: Option<ColumnMap> = None;
    let mut n = 0u64;
    let mut kept = 0u64;
    let cols = src
        .run(&label, &q.sql, Some(window), |cols, row| {
            n += 1;
            if map.is_none() {
                map = Some(
                    ColumnMap::resolve(&label, file, cols).map_err(|e| strip_label(&label, e))?,
                );
            }
            let m = map.as_ref().expect("set above");
            let r = RowReader {
                file,
                map: m,
                row,
                n: n as usize,
                tz,
            };
            let occurred_at = r.req_time(1)?;
            if n.is_multiple_of(10_000) {
                on_progress(n);
            }
            if occurred_at < window.from || occurred_at >= window.to {
                return Ok(());
            }
            let staff = r
                .id_sym(2, symbols)?
                .ok_or_else(|| r.fail(2, "NULL in a required column"))?;
            let ev = AccessEvent {
                event_id: r.req_id(0)?,
                occurred_at,
                staff,
                subject: r.id_sym(3, symbols)?,
                action: r.sym(4, symbols),
                data_category: r.sym(5, symbols),
                purpose: r.sym(6, symbols),
                reference: r.sym(7, symbols),
                client_ip: r.sym(8, symbols),
                record_count: r.count(9)?.unwrap_or(1),
                db: None,
            };
            kept += 1;
            on_event(ev, symbols);
            Ok(())
        })
        .await?;
    if map.is_none() {
        ColumnMap::resolve(&label, file, &cols).map_err(SourceError::new)?;
    }
    on_progress(n);
    Ok(kept)
}

pub use crate::model::Directory;

impl Directory {
    pub async fn load(src: &mut Source, set: &QuerySet, tz: Tz) -> Result<Directory, SourceError> {
        Ok(Directory {
            staff: load_staff(src, set, tz).await?,
            subjects: load_subjects(src, set, tz).await?,
            relationships: load_relationships(src, set, tz).await?,
            disclosures: load_disclosures(src, set, tz).await?,
            disclosure_items: load_disclosure_items(src, set, tz).await?,
            requests: load_requests(src, set, tz).await?,
            db_events: Default::default(),
        })
    }

    /// Non-fatal findings for `keyhole check`.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if let (Some(d), Some(items)) = (&self.disclosures, &self.disclosure_items) {
            let known: HashSet<&Id> = d.iter().map(|x| &x.disclosure_id).collect();
            let mut unknown: HashMap<&Id, usize> = HashMap::new();
            for it in items {
                if !known.contains(&it.disclosure_id) {
                    *unknown.entry(&it.disclosure_id).or_default() += 1;
                }
            }
            let mut u: Vec<_> = unknown.into_iter().collect();
            u.sort();
            for (id, n) in u {
                w.push(format!("disclosure_items.sql: {n} item(s) name unknown disclosure {id}; they are ignored"));
            }
            for x in d {
                let st = x.status.trim().to_lowercase();
                if ![
                    "open",
                    "produced",
                    "partially_produced",
                    "rejected",
                    "withdrawn",
                ]
                .contains(&st.as_str())
                {
                    w.push(format!(
                        "disclosures.sql: disclosure {} has unknown status {:?}; treated as open",
                        x.disclosure_id,
                        crate::sanitize::terminal(&x.status)
                    ));
                }
                if !DISCLOSURE_KINDS.contains(&x.kind.trim().to_lowercase().as_str()) {
                    w.push(format!(
                        "disclosures.sql: disclosure {} has unknown kind {:?}; treated as other",
                        x.disclosure_id,
                        crate::sanitize::terminal(&x.kind)
                    ));
                }
            }
        }
        if let Some(r) = &self.requests {
            for x in r {
                if let Some(st) = &x.status
                    && !["open", "completed", "denied", "withdrawn"]
                        .contains(&st.trim().to_lowercase().as_str())
                {
                    w.push(format!(
                        "subject_requests.sql: request {} has unknown status {:?}; treated as open",
                        x.request_id,
                        crate::sanitize::terminal(st)
                    ));
                }
                if !["opt_out", "deletion", "access", "correction"]
                    .contains(&x.kind.trim().to_lowercase().as_str())
                {
                    w.push(format!(
                        "subject_requests.sql: request {} has unknown kind {:?}; it takes access_grace_days",
                        x.request_id,
                        crate::sanitize::terminal(&x.kind)
                    ));
                }
            }
        }
        w
    }
}

pub use crate::vocab::DISCLOSURE_KINDS;
