//! Report writers shared by the command line and the dashboard: flags as
//! JSON, CSV, Markdown and a terminal table; the access log as JSON Lines;
//! the staff ranking; requests, disclosures and the subject report.
//! Nothing here talks to a database or a terminal; callers hand in data
//! and a width.

pub mod accesses;
pub mod breach;
pub mod deadlines;
pub mod legal;
pub mod review;
pub mod staff;
pub mod subject;
pub mod transparency;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write as _;

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::audit::{Day, Finish, Sink, SinkError};
use crate::model::{Directory, Id, Instant, Interner, RelRef};
use crate::rules::{Flag, JudgedEvent, Rule, Severity, flag_order};
use crate::sanitize::{clip, terminal};
use crate::time::rfc3339;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
    Md,
}

/// What every report says about itself.
#[derive(Debug, Clone)]
pub struct Header {
    pub generated_at: Instant,
    pub as_of: Instant,
    pub from: Instant,
    pub to: Instant,
    pub dialect: String,
    pub database: String,
    pub policy: String,
    pub timezone: chrono_tz::Tz,
}

#[derive(Debug, Serialize)]
pub struct WindowJson {
    pub from: String,
    pub to: String,
}

#[derive(Serialize)]
struct SourceJson<'a> {
    dialect: &'a str,
    database: &'a str,
}

#[derive(Serialize)]
pub struct FlagJson<'a> {
    rule: &'static str,
    severity: &'static str,
    staff_id: Option<&'a str>,
    subject_id: Option<&'a str>,
    event_ids: Vec<&'a str>,
    day: Option<String>,
    disclosure_id: Option<&'a str>,
    request_id: Option<&'a str>,
    occurred_at: String,
    staff_name: Option<&'a str>,
    subject_name: Option<&'a str>,
    detail: &'a str,
    key: &'a str,
}

impl<'a> FlagJson<'a> {
    pub fn of(f: &'a Flag) -> Self {
        FlagJson {
            rule: f.rule.name(),
            severity: f.severity.name(),
            staff_id: f.staff_id.as_ref().map(Id::as_str),
            subject_id: f.subject_id.as_ref().map(Id::as_str),
            event_ids: f.event_ids.iter().map(Id::as_str).collect(),
            day: f.day.map(|d| d.to_string()),
            disclosure_id: f.disclosure_id.as_ref().map(Id::as_str),
            request_id: f.request_id.as_ref().map(Id::as_str),
            occurred_at: rfc3339(f.occurred_at),
            staff_name: f.staff_name.as_deref(),
            subject_name: f.subject_name.as_deref(),
            detail: &f.detail,
            key: &f.key,
        }
    }
}

/// Counts per rule in section 5 order, non-zero only, as a JSON object.
struct ByRule<'a>(&'a [(Rule, u64)]);

impl Serialize for ByRule<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (r, n) in self.0 {
            m.serialize_entry(r.name(), n)?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct SummaryJson<'a> {
    events: u64,
    flags: u64,
    by_rule: ByRule<'a>,
}

#[derive(Serialize)]
struct FlagsReportJson<'a> {
    generated_at: String,
    as_of: String,
    window: WindowJson,
    source: SourceJson<'a>,
    flags: FlagList<'a>,
    summary: SummaryJson<'a>,
}

/// The flags as a JSON array, each turned into its object only while it is
/// written, so a long report is never held twice.
struct FlagList<'a>(&'a [Flag]);

impl Serialize for FlagList<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(FlagJson::of))
    }
}

/// Collects the flags of every judged day and, at the end, those about
/// disclosures and requests: the consumer behind `report flags`.
#[derive(Debug, Default)]
pub struct FlagCollector {
    pub flags: Vec<Flag>,
    /// Accesses judged in the window.
    pub events: u64,
    /// Add the disclosure and request flags at the end.
    pub legal: bool,
}

impl<'a> Sink<'a> for FlagCollector {
    fn day(&mut self, day: Day<'a, '_>) -> Result<bool, SinkError> {
        self.flags.extend(day.flags);
        Ok(true)
    }

    fn finish(&mut self, end: Finish<'_, 'a>) -> Result<(), SinkError> {
        self.events = end.events;
        if self.legal {
            self.flags.extend(end.engine.legal_flags());
        }
        Ok(())
    }
}

/// Keeps the flags a user asked for: `--rule` (any of) and `--min-severity`.
pub fn filter_flags(flags: Vec<Flag>, rules: &[Rule], min: Option<Severity>) -> Vec<Flag> {
    flags
        .into_iter()
        .filter(|f| rules.is_empty() || rules.contains(&f.rule))
        .filter(|f| min.is_none_or(|m| f.severity >= m))
        .collect()
}

/// Sorts flags in the contract's order, the JSON text breaking last ties,
/// then names each with its `key` in that order.
pub fn sort_flags(flags: &mut [Flag]) {
    for f in flags.iter_mut() {
        f.key.clear();
    }
    sort_unkeyed(flags);
    assign_keys(flags);
}

/// Gives each flag its key: the base key, and `#2`, `#3`, … for the second
/// and later flags (in this order) that would share one.
pub fn assign_keys(flags: &mut [Flag]) {
    let mut seen: HashMap<String, u32> = HashMap::new();
    for f in flags.iter_mut() {
        let base = f.base_key();
        let n = seen.entry(base.clone()).or_insert(0);
        *n += 1;
        f.key = if *n == 1 { base } else { format!("{base}#{n}") };
    }
}

fn sort_unkeyed(flags: &mut [Flag]) {
    flags.sort_by(|a, b| {
        flag_order(a, b).then_with(|| {
            let ja = serde_json::to_string(&FlagJson::of(a)).unwrap_or_default();
            let jb = serde_json::to_string(&FlagJson::of(b)).unwrap_or_default();
            ja.cmp(&jb)
        })
    });
}

/// Fills `staff_name` and `subject_name` (for `--reveal`).
/// A flag as its JSON object in the flags report (frozen into a campaign).
pub fn flag_value(f: &Flag) -> serde_json::Value {
    serde_json::to_value(FlagJson::of(f)).expect("a flag serialises")
}

pub fn reveal(flags: &mut [Flag], dir: &Directory) {
    let staff: HashMap<&str, &str> = dir
        .staff
        .iter()
        .map(|s| (s.staff_id.as_str(), s.display_name.as_str()))
        .collect();
    // Only the flagged subjects, not a map of every subject.
    let wanted: rustc_hash::FxHashSet<&str> = flags
        .iter()
        .filter_map(|f| f.subject_id.as_ref())
        .map(Id::as_str)
        .collect();
    let subjects: HashMap<&str, &str> = dir
        .subjects
        .iter()
        .filter(|s| wanted.contains(s.subject_id.as_str()))
        .map(|s| (s.subject_id.as_str(), s.display_name()))
        .collect();
    drop(wanted);
    for f in flags {
        f.staff_name = f
            .staff_id
            .as_ref()
            .and_then(|i| staff.get(i.as_str()))
            .map(|s| s.to_string());
        f.subject_name = f
            .subject_id
            .as_ref()
            .and_then(|i| subjects.get(i.as_str()))
            .map(|s| s.to_string());
    }
}

pub fn by_rule(flags: &[Flag]) -> Vec<(Rule, u64)> {
    let mut counts = [0u64; Rule::COUNT];
    for f in flags {
        counts[f.rule as usize] += 1;
    }
    Rule::ALL
        .iter()
        .filter(|r| counts[**r as usize] > 0)
        .map(|r| (*r, counts[*r as usize]))
        .collect()
}

/// A report document: `generated_at`, `as_of`, `window`, then `name: rows`.
pub fn json_doc(h: &Header, name: &str, rows: &impl Serialize) -> String {
    let mut doc = serde_json::Map::new();
    doc.insert("generated_at".into(), rfc3339(h.generated_at).into());
    doc.insert("as_of".into(), rfc3339(h.as_of).into());
    doc.insert(
        "window".into(),
        serde_json::json!({"from": rfc3339(h.from), "to": rfc3339(h.to)}),
    );
    doc.insert(
        name.into(),
        serde_json::to_value(rows).expect("rows serialise"),
    );
    let mut s = serde_json::to_string_pretty(&doc).expect("a document serialises");
    s.push('\n');
    s
}

pub fn flags_json(h: &Header, flags: &[Flag], events: u64) -> String {
    let mut out = Vec::new();
    write_flags_json(&mut out, h, flags, events).expect("writing to memory");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// The flags report as JSON, streamed into `w` (the same text as
/// [`flags_json`]).
pub fn write_flags_json(
    w: &mut dyn std::io::Write,
    h: &Header,
    flags: &[Flag],
    events: u64,
) -> std::io::Result<()> {
    let counts = by_rule(flags);
    let doc = FlagsReportJson {
        generated_at: rfc3339(h.generated_at),
        as_of: rfc3339(h.as_of),
        window: WindowJson {
            from: rfc3339(h.from),
            to: rfc3339(h.to),
        },
        source: SourceJson {
            dialect: &h.dialect,
            database: &h.database,
        },
        flags: FlagList(flags),
        summary: SummaryJson {
            events,
            flags: flags.len() as u64,
            by_rule: ByRule(&counts),
        },
    };
    let mut w = std::io::BufWriter::with_capacity(1 << 16, w);
    // serde_json hands a write's own error back with its kind (a closed pipe
    // stays a closed pipe).
    serde_json::to_writer_pretty(&mut w, &doc).map_err(std::io::Error::from)?;
    w.write_all(b"\n")?;
    w.flush()
}

/// One CSV cell: formula-looking text is prefixed with `'`, then quoted if needed.
pub fn csv_cell(s: &str) -> String {
    // Escapes cannot act on a terminal the CSV is printed to, nor hide in
    // a spreadsheet; tab, CR and LF stay, quoted below.
    let s = &*crate::sanitize::spreadsheet(s);
    let mut v = String::with_capacity(s.len() + 2);
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        v.push('\'');
    }
    v.push_str(s);
    if v.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

pub fn csv_row(cells: &[String]) -> String {
    // A lone empty cell would be an empty line, which readers skip.
    if let [only] = cells
        && only.is_empty()
    {
        return "\"\"\n".into();
    }
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

pub const FLAG_COLUMNS: [&str; 13] = [
    "rule",
    "severity",
    "staff_id",
    "subject_id",
    "event_ids",
    "day",
    "disclosure_id",
    "request_id",
    "occurred_at",
    "staff_name",
    "subject_name",
    "detail",
    "key",
];

pub fn flags_csv(flags: &[Flag]) -> String {
    let mut out = csv_row(&FLAG_COLUMNS.map(String::from));
    let s = |x: &Option<Id>| x.as_ref().map(|i| i.to_string()).unwrap_or_default();
    for f in flags {
        out.push_str(&csv_row(&[
            f.rule.name().into(),
            f.severity.name().into(),
            s(&f.staff_id),
            s(&f.subject_id),
            f.event_ids
                .iter()
                .map(Id::as_str)
                .collect::<Vec<_>>()
                .join(" "),
            f.day.map(|d| d.to_string()).unwrap_or_default(),
            s(&f.disclosure_id),
            s(&f.request_id),
            rfc3339(f.occurred_at),
            f.staff_name.clone().unwrap_or_default(),
            f.subject_name.clone().unwrap_or_default(),
            f.detail.clone(),
            f.key.clone(),
        ]));
    }
    out
}

/// Markdown table cell: one line, pipes escaped, control characters shown.
pub(crate) fn md(s: &str) -> String {
    terminal(s).replace('|', "\\|")
}

/// The access-review handout: window, policy, summary by rule and by staff, flags.
/// The policy in brief, for the handout: hours and each role's permissions.
pub fn policy_md(p: &crate::policy::Policy) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "## Policy
"
    );
    let _ = writeln!(
        o,
        "Working hours: {}. Marketing purposes: {}. Export actions: {}.
",
        p.working_hours
            .as_ref()
            .map(|h| h.describe())
            .unwrap_or_else(|| "not set".into()),
        crate::rules::list(&p.marketing_purposes),
        crate::rules::list(&p.export_actions)
    );
    let _ = writeln!(
        o,
        "| role | categories | purposes | actions | relationship | hours |\n|---|---|---|---|---|---|"
    );
    let mut roles: Vec<_> = p.roles.iter().collect();
    roles.sort_by(|a, b| a.0.cmp(b.0));
    for (name, r) in roles {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            md(name),
            md(&crate::rules::list(&r.categories)),
            md(&crate::rules::list(&r.purposes)),
            r.actions
                .as_ref()
                .map(|a| md(&crate::rules::list(a)))
                .unwrap_or_else(|| "any".into()),
            if r.requires_relationship {
                "required"
            } else {
                "—"
            },
            r.working_hours
                .as_ref()
                .map(|h| h.describe())
                .unwrap_or_else(|| "default".into())
        );
    }
    let _ = writeln!(
        o,
        "\nRoles not listed are denied every category and purpose.\n"
    );
    o
}

pub fn flags_md(h: &Header, policy: &crate::policy::Policy, flags: &[Flag], events: u64) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Access review: flagged accesses\n");
    let _ = writeln!(
        o,
        "- Window: {} to {} (policy time zone {})",
        rfc3339(h.from),
        rfc3339(h.to),
        h.timezone.name()
    );
    let _ = writeln!(o, "- As of: {}", rfc3339(h.as_of));
    let _ = writeln!(o, "- Source: {} database `{}`", h.dialect, md(&h.database));
    let _ = writeln!(o, "- Policy: {}", md(&h.policy));
    let _ = writeln!(
        o,
        "- Accesses in the window: {events}; flags: {}\n",
        flags.len()
    );
    o.push_str(&policy_md(policy));
    let _ = writeln!(
        o,
        "## Summary by rule\n\n| rule | severity | flags |\n|---|---|---|"
    );
    for (r, n) in by_rule(flags) {
        let sev = flags
            .iter()
            .find(|f| f.rule == r)
            .map(|f| f.severity.name())
            .unwrap_or("");
        let _ = writeln!(o, "| {} | {sev} | {n} |", r.name());
    }
    let mut staff: BTreeMap<Id, [u64; 4]> = BTreeMap::new();
    for f in flags {
        if let Some(s) = &f.staff_id {
            staff.entry(s.clone()).or_default()[f.severity as usize] += 1;
        }
    }
    let mut ranked: Vec<_> = staff.into_iter().collect();
    ranked.sort_by(|a, b| b.1.iter().rev().cmp(a.1.iter().rev()).then(a.0.cmp(&b.0)));
    let _ = writeln!(
        o,
        "\n## Summary by staff\n\n| staff | critical | high | medium | low |\n|---|---|---|---|---|"
    );
    for (s, c) in ranked {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            md(s.as_str()),
            c[3],
            c[2],
            c[1],
            c[0]
        );
    }
    let _ = writeln!(
        o,
        "\n## Flags\n\n| # | when (UTC) | severity | rule | staff | subject | detail | key | verdict |\n|---|---|---|---|---|---|---|---|---|"
    );
    for (i, f) in flags.iter().enumerate() {
        let who = |id: &Option<Id>, name: &Option<String>| {
            let id = id.as_ref().map(|x| x.to_string()).unwrap_or_default();
            match name {
                Some(n) => format!("{} ({})", md(&id), md(n)),
                None => md(&id),
            }
        };
        let target = match (&f.subject_id, &f.disclosure_id, &f.request_id) {
            (_, Some(d), _) => format!("disclosure {}", md(d.as_str())),
            (_, _, Some(r)) => format!("request {}", md(r.as_str())),
            _ => who(&f.subject_id, &f.subject_name),
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} | |",
            i + 1,
            rfc3339(f.occurred_at),
            f.severity.name(),
            f.rule.name(),
            who(&f.staff_id, &f.staff_name),
            target,
            md(&f.detail),
            md(&f.key)
        );
    }
    o
}

/// A plain table that fits `width` columns: the detail column takes what is left.
/// Every line of a table clipped to the terminal width.
pub fn fit(text: &str, width: usize) -> String {
    text.lines().map(|l| clip(l, width) + "\n").collect()
}

pub fn flags_table(flags: &[Flag], width: usize) -> String {
    // A narrow terminal gets a shorter (still UTC) time so the detail keeps some room.
    let narrow = width < 100;
    let tw = if narrow { 12 } else { 20 };
    let mut o = String::new();
    // The key names the flag (its rule first) for a verdict, so it takes the
    // rule's column, as wide as the longest key: a cut key names nothing.
    let kw = flags
        .iter()
        .map(|f| terminal(&f.key).chars().count())
        .max()
        .unwrap_or(3)
        .clamp(24, 64);
    let head = format!(
        "{:<tw$} {:<8} {:<8} {:<10} {:<kw$} ",
        "when (UTC)", "severity", "staff", "subject", "key"
    );
    let detail_w = width.saturating_sub(head.chars().count()).max(10);
    let _ = writeln!(o, "{}", clip(&format!("{head}detail"), width));
    for f in flags {
        let target = f
            .subject_id
            .as_ref()
            .or(f.disclosure_id.as_ref())
            .or(f.request_id.as_ref())
            .map(|x| x.to_string())
            .unwrap_or_default();
        let staff = f
            .staff_id
            .as_ref()
            .map(|x| x.to_string())
            .unwrap_or_default();
        let t = if narrow {
            f.occurred_at.format("%m-%d %H:%MZ").to_string()
        } else {
            rfc3339(f.occurred_at)
        };
        let line = format!(
            "{:<tw$} {:<8} {:<8} {:<10} {:<kw$} {}",
            clip(&t, tw),
            f.severity.name(),
            clip(&terminal(&staff), 8),
            clip(&terminal(&target), 10),
            clip(&terminal(&f.key), kw),
            clip(&terminal(&f.detail), detail_w)
        );
        let _ = writeln!(o, "{}", clip(&line, width));
    }
    let _ = writeln!(o, "{} flag(s)", flags.len());
    o
}

#[derive(Serialize)]
struct ExplainedJson<'a> {
    kind: &'a str,
    reference: Option<&'a str>,
    valid_from: String,
    valid_to: Option<String>,
}

impl<'a> ExplainedJson<'a> {
    fn of(r: RelRef<'a>) -> Self {
        ExplainedJson {
            kind: r.kind,
            reference: r.reference,
            valid_from: rfc3339(r.valid_from),
            valid_to: r.valid_to.map(rfc3339),
        }
    }
}

#[derive(Serialize)]
struct AccessJson<'a> {
    event_id: &'a str,
    occurred_at: String,
    staff_id: &'a str,
    subject_id: Option<&'a str>,
    action: Option<&'a str>,
    data_category: Option<&'a str>,
    purpose: Option<&'a str>,
    reference: Option<&'a str>,
    client_ip: Option<&'a str>,
    record_count: i64,
    explained_by: Option<ExplainedJson<'a>>,
    flags: Vec<&'static str>,
}

/// One line of `report accesses`.
pub fn access_json_line(j: &JudgedEvent, syms: &Interner) -> String {
    let e = &j.event;
    let t = |s: Option<crate::model::Sym>| s.map(|s| syms.resolve(s));
    let line = AccessJson {
        event_id: e.event_id.as_str(),
        occurred_at: rfc3339(e.occurred_at),
        staff_id: syms.resolve(e.staff),
        subject_id: t(e.subject),
        action: t(e.action),
        data_category: t(e.data_category),
        purpose: t(e.purpose),
        reference: t(e.reference),
        client_ip: t(e.client_ip),
        record_count: e.record_count,
        explained_by: j.verdict.explained_by.map(ExplainedJson::of),
        flags: j.rules().iter().map(|r| r.name()).collect(),
    };
    let mut s = serde_json::to_string(&line).expect("an access serialises");
    s.push('\n');
    s
}

pub const ACCESS_COLUMNS: [&str; 13] = [
    "event_id",
    "occurred_at",
    "staff_id",
    "subject_id",
    "action",
    "data_category",
    "purpose",
    "reference",
    "client_ip",
    "record_count",
    "explained_by",
    "flags",
    "why",
];

/// One CSV/table row of `report accesses`.
pub fn access_cells(j: &JudgedEvent, syms: &Interner) -> Vec<String> {
    let e = &j.event;
    let t =
        |s: Option<crate::model::Sym>| s.map(|s| syms.resolve(s).to_string()).unwrap_or_default();
    let why = j.verdict.why();
    vec![
        e.event_id.to_string(),
        rfc3339(e.occurred_at),
        syms.resolve(e.staff).to_string(),
        t(e.subject),
        t(e.action),
        t(e.data_category),
        t(e.purpose),
        t(e.reference),
        t(e.client_ip),
        e.record_count.to_string(),
        j.verdict
            .explained_by
            .as_ref()
            .map(crate::rules::rel_text)
            .unwrap_or_default(),
        j.rules()
            .iter()
            .map(|r| r.name())
            .collect::<Vec<_>>()
            .join(" "),
        why,
    ]
}

/// The highest severity among an event's flags.
pub fn event_severity(j: &JudgedEvent, sev: impl Fn(Rule) -> Severity) -> Option<Severity> {
    j.rules().into_iter().map(sev).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_that_look_like_formulas_are_defused_then_quoted() {
        assert_eq!(
            csv_cell("=HYPERLINK(\"x\",\"y\")"),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2+3"), "'-2+3");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("\rx"), "\"'\rx\"");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("Eve\u{1b}]0;x\u{7}"), "Eve\\x1b]0;x\\x07");
        assert_eq!(csv_cell("=\u{1b}"), "'=\\x1b");
    }
}
