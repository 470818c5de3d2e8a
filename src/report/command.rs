//! `keyhole report KIND`: resolves the window, runs the engine over the
//! source and writes the chosen report in the chosen format.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;

use chrono::Duration;
use serde::Serialize;

use super::{Format, Header, audit::run_days};
use crate::cli::{FormatArg, ReportArgs, ReportKind, SeverityArg};
use crate::model::{Id, Instant, Interner};
use crate::policy::{Policy, norm};
use crate::rules::{Engine, Rule, Severity};
use crate::sanitize::{clip, terminal};
use crate::source::Source;
use crate::source::load::Directory;
use crate::source::queries::QuerySet;
use crate::time::{parse_cli_time, rfc3339};

/// A failure: usage (exit 2) or runtime (exit 1).
#[derive(Debug)]
pub enum ReportError {
    Usage(String),
    Runtime(String),
    /// The reader went away (`| head`): stop quietly, like any Unix filter.
    Closed,
}

impl From<crate::source::SourceError> for ReportError {
    fn from(e: crate::source::SourceError) -> Self {
        ReportError::Runtime(e.to_string())
    }
}

fn io(e: std::io::Error) -> ReportError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return ReportError::Closed;
    }
    ReportError::Runtime(format!("writing the report: {e}"))
}

pub fn severity(s: SeverityArg) -> Severity {
    match s {
        SeverityArg::Low => Severity::Low,
        SeverityArg::Medium => Severity::Medium,
        SeverityArg::High => Severity::High,
        SeverityArg::Critical => Severity::Critical,
    }
}

/// The window and `as_of` of CONTRACT section 1, with `now` read once.
/// A `--flag` time, if given: RFC 3339 or a local date, in whole seconds.
fn cli_time(
    flag: &str,
    v: Option<&str>,
    tz: chrono_tz::Tz,
) -> Result<Option<Instant>, ReportError> {
    v.map(|s| parse_cli_time(s, tz).map_err(|e| ReportError::Usage(format!("--{flag}: {e}"))))
        .transpose()
}

/// `[from, to)` must hold at least one instant.
fn nonempty(from: Instant, to: Instant) -> Result<(), ReportError> {
    if from >= to {
        return Err(ReportError::Usage(format!(
            "the window is empty: --from {} is not before --to {}",
            rfc3339(from),
            rfc3339(to)
        )));
    }
    Ok(())
}

fn format_of(f: Option<FormatArg>) -> Format {
    match f.unwrap_or(FormatArg::Table) {
        FormatArg::Table => Format::Table,
        FormatArg::Json => Format::Json,
        FormatArg::Csv => Format::Csv,
        FormatArg::Md => Format::Md,
    }
}

pub fn resolve_window(
    args: &ReportArgs,
    tz: chrono_tz::Tz,
    now: Instant,
) -> Result<(Instant, Instant, Instant), ReportError> {
    let now = crate::time::parse_cli_time(&rfc3339(now), tz).map_err(ReportError::Usage)?;
    let t = |flag: &str, v: &Option<String>| cli_time(flag, v.as_deref(), tz);
    let to = t("to", &args.to)?.unwrap_or(now);
    let as_of = t("as-of", &args.as_of)?.unwrap_or(now);
    let from = match t("from", &args.from)? {
        Some(f) => f,
        None if args.kind == ReportKind::Subject || args.transparency => {
            chrono::DateTime::UNIX_EPOCH
        }
        None => {
            let d = (to - Duration::seconds(30 * 86_400))
                .with_timezone(&tz)
                .date_naive();
            crate::source::value::local_day_start(d, tz)
        }
    };
    nonempty(from, to)?;
    Ok((from, to, as_of))
}

pub struct Inputs<'a> {
    pub src: &'a mut Source,
    pub set: &'a QuerySet,
    pub policy: &'a Policy,
    pub now: Instant,
    /// Terminal width for tables.
    pub width: usize,
    /// Show the day being read on standard error (a terminal).
    pub progress: bool,
}

fn day_progress(on: bool) -> impl FnMut(chrono::NaiveDate) {
    move |d| {
        if on {
            eprint!("\r  reading {d}\x1b[K");
        }
    }
}

/// Runs one report, writing it to `out`; returns the exit status (0 or 3).
pub async fn run(
    inp: Inputs<'_>,
    args: &ReportArgs,
    out: &mut (dyn Write + Send),
) -> Result<u8, ReportError> {
    let tz = inp.policy.timezone;
    let (from, to, as_of) = resolve_window(args, tz, inp.now)?;
    let rules: Vec<Rule> = args
        .rules
        .iter()
        .map(|r| {
            Rule::from_name(&norm(r))
                .ok_or_else(|| ReportError::Usage(format!("--rule {r:?}: unknown rule")))
        })
        .collect::<Result<_, _>>()?;
    let format = format_of(args.format);
    if args.transparency && args.kind != ReportKind::Disclosures {
        return Err(ReportError::Usage(
            "--transparency goes with `report disclosures`".into(),
        ));
    }
    if args.kind == ReportKind::Subject && args.id.is_none() {
        return Err(ReportError::Usage("report subject needs --id ID".into()));
    }
    let dir = Directory::load(inp.src, inp.set, tz).await?;
    let header = Header {
        // "now" is read once and truncated to whole seconds, like the window.
        generated_at: chrono::Timelike::with_nanosecond(&inp.now, 0).unwrap_or(inp.now),
        as_of,
        from,
        to,
        dialect: inp.src.dialect.name().into(),
        database: inp.src.database.clone(),
        policy: inp.policy.origin.clone(),
        timezone: tz,
    };
    let mut engine = Engine::new(inp.policy, &dir, from, to, as_of);
    let mut symbols = Interner::default();
    let fail_on = args.fail_on.map(severity);
    let min = args.min_severity.map(severity);
    match args.kind {
        ReportKind::Flags => {
            let mut flags = Vec::new();
            let events = run_days(
                inp.src,
                inp.set,
                &mut engine,
                &mut symbols,
                super::audit::Symbols::PerDay,
                |_, _, f, _| {
                    flags.extend(f);
                    Ok(())
                },
                day_progress(inp.progress),
            )
            .await?;
            flags.extend(engine.legal_flags());
            let mut flags = super::filter_flags(flags, &rules, min);
            if args.reveal {
                super::reveal(&mut flags, &dir);
            }
            super::sort_flags(&mut flags);
            let text = match format {
                Format::Json => super::flags_json(&header, &flags, events),
                Format::Csv => super::flags_csv(&flags),
                Format::Md => super::flags_md(&header, inp.policy, &flags, events),
                Format::Table => super::flags_table(&flags, inp.width),
            };
            out.write_all(text.as_bytes()).map_err(io)?;
            Ok(exit_for(flags.iter().map(|f| f.severity), fail_on))
        }
        ReportKind::Accesses => {
            let sev = |r: Rule| engine_severity(inp.policy, r);
            let mut worst: Option<Severity> = None;
            let mut failure: Option<std::io::Error> = None;
            if format == Format::Csv {
                out.write_all(super::csv_row(&super::ACCESS_COLUMNS.map(String::from)).as_bytes())
                    .map_err(io)?;
            }
            if format == Format::Md {
                out.write_all(b"| event | when (UTC) | staff | subject | action | category | purpose | reference | flags | why |\n|---|---|---|---|---|---|---|---|---|---|\n").map_err(io)?;
            }
            run_days(
                inp.src,
                inp.set,
                &mut engine,
                &mut symbols,
                super::audit::Symbols::PerDay,
                |_, judged, _, syms| {
                    for j in &judged {
                        worst = worst.max(super::event_severity(j, sev));
                        let line = match format {
                            Format::Json => super::access_json_line(j, syms),
                            Format::Csv => super::csv_row(&super::access_cells(j, syms)),
                            Format::Md => {
                                let c = super::access_cells(j, syms);
                                let m = |s: &str| terminal(s).replace('|', "\\|");
                                format!(
                                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                                    m(&c[0]),
                                    c[1],
                                    m(&c[2]),
                                    m(&c[3]),
                                    m(&c[4]),
                                    m(&c[5]),
                                    m(&c[6]),
                                    m(&c[7]),
                                    c[11],
                                    m(&c[12])
                                )
                            }
                            Format::Table => {
                                let c = super::access_cells(j, syms);
                                let mark = if c[11].is_empty() { "✓" } else { "⚑" };
                                let fixed = format!(
                                    "{:<20} {} {:<6} {:<8} {:<7} {:<14} ",
                                    c[1],
                                    mark,
                                    clip(&terminal(&c[2]), 6),
                                    clip(&terminal(&c[3]), 8),
                                    clip(&terminal(&c[4]), 7),
                                    clip(&terminal(&c[5]), 14)
                                );
                                let rest = inp.width.saturating_sub(fixed.chars().count()).max(10);
                                let verdict = if c[11].is_empty() { &c[12] } else { &c[11] };
                                let tail = if c[7].is_empty() {
                                    verdict.clone()
                                } else {
                                    format!("{} · {verdict}", c[7])
                                };
                                format!(
                                    "{}\n",
                                    clip(
                                        &format!("{fixed}{}", clip(&terminal(&tail), rest)),
                                        inp.width
                                    )
                                )
                            }
                        };
                        if let Err(e) = out.write_all(line.as_bytes()) {
                            failure = Some(e);
                            return Err("output closed".into());
                        }
                    }
                    Ok(())
                },
                day_progress(inp.progress),
            )
            .await
            .map_err(|e| match failure.take() {
                Some(io_err) => io(io_err),
                None => ReportError::from(e),
            })?;
            Ok(exit_for(worst, fail_on))
        }
        ReportKind::Staff => {
            let mut rows: HashMap<String, StaffRow> = HashMap::new();
            let mut subjects: HashMap<String, HashSet<crate::model::Sym>> = HashMap::new();
            let mut flags = Vec::new();
            run_days(
                inp.src,
                inp.set,
                &mut engine,
                &mut symbols,
                super::audit::Symbols::Keep,
                |_, judged, f, syms| {
                    for j in &judged {
                        let s = syms.resolve(j.event.staff);
                        rows.entry(s.to_string()).or_default().accesses += 1;
                        if let Some(sub) = j.event.subject {
                            subjects.entry(s.to_string()).or_default().insert(sub);
                        }
                    }
                    flags.extend(f);
                    Ok(())
                },
                day_progress(inp.progress),
            )
            .await?;
            let flags = super::filter_flags(flags, &rules, min);
            for f in &flags {
                if let Some(s) = &f.staff_id {
                    let r = rows.entry(s.to_string()).or_default();
                    r.by_severity[f.severity as usize] += 1;
                    *r.by_rule.entry(f.rule).or_default() += 1;
                }
            }
            let staff_dir: HashMap<&str, &crate::model::Staff> =
                dir.staff.iter().map(|s| (s.staff_id.as_str(), s)).collect();
            let mut ranked: Vec<(Id, StaffRow)> = rows
                .into_iter()
                .map(|(k, mut v)| {
                    v.distinct_subjects = subjects.get(&k).map_or(0, |s| s.len() as u64);
                    (Id::new(k), v)
                })
                .collect();
            ranked.sort_by(|a, b| {
                b.1.by_severity
                    .iter()
                    .rev()
                    .cmp(a.1.by_severity.iter().rev())
                    .then(b.1.accesses.cmp(&a.1.accesses))
                    .then(a.0.cmp(&b.0))
            });
            write_staff(
                out,
                format,
                &header,
                &ranked,
                &staff_dir,
                args.reveal,
                inp.width,
            )?;
            Ok(exit_for(flags.iter().map(|f| f.severity), fail_on))
        }
        ReportKind::Disclosures if args.transparency => {
            let period = match args.period {
                crate::cli::PeriodArg::HalfYear => super::transparency::Period::HalfYear,
                crate::cli::PeriodArg::Year => super::transparency::Period::Year,
            };
            let rows = crate::rules::legal::disclosures_as_of(&engine.ctx);
            let lines = super::transparency::aggregate(&rows, tz, period, from, to);
            out.write_all(super::transparency::render(&lines, format, &header, period).as_bytes())
                .map_err(io)?;
            Ok(0)
        }
        ReportKind::Requests | ReportKind::Disclosures => {
            // Requests link the accesses that came after them: judge the window's accesses too.
            let mut event_flags = Vec::new();
            if args.kind == ReportKind::Requests {
                run_days(
                    inp.src,
                    inp.set,
                    &mut engine,
                    &mut symbols,
                    super::audit::Symbols::PerDay,
                    |_, _, f, _| {
                        event_flags.extend(f);
                        Ok(())
                    },
                    day_progress(inp.progress),
                )
                .await?;
            }
            let linked = super::legal::linked_accesses(&event_flags);
            let flags = super::filter_flags(engine.legal_flags(), &rules, min);
            let text = if args.kind == ReportKind::Requests {
                super::legal::requests_report(&engine, &flags, &linked, format, &header, inp.width)
            } else {
                super::legal::disclosures_report(&engine, &flags, format, &header, inp.width)
            };
            out.write_all(text.as_bytes()).map_err(io)?;
            Ok(exit_for(flags.iter().map(|f| f.severity), fail_on))
        }
        ReportKind::Subject => {
            let id = args.id.clone().unwrap_or_default();
            let text = super::subject::report(
                inp.src,
                inp.set,
                &mut engine,
                &dir,
                id.trim(),
                format,
                &header,
                args.reveal,
            )
            .await?;
            out.write_all(text.0.as_bytes()).map_err(io)?;
            Ok(exit_for(text.1, fail_on))
        }
    }
}

fn engine_severity(p: &Policy, r: Rule) -> Severity {
    p.severity[r as usize].unwrap_or(r.default_severity())
}

fn exit_for(sevs: impl IntoIterator<Item = Severity>, fail_on: Option<Severity>) -> u8 {
    match fail_on {
        Some(f) if sevs.into_iter().any(|s| s >= f) => 3,
        _ => 0,
    }
}

#[derive(Default, Debug, Clone)]
struct StaffRow {
    accesses: u64,
    distinct_subjects: u64,
    by_severity: [u64; 4],
    by_rule: BTreeMap<Rule, u64>,
}

#[derive(Serialize)]
struct StaffJson<'a> {
    rank: usize,
    staff_id: &'a str,
    staff_name: Option<&'a str>,
    role: Option<&'a str>,
    department: Option<&'a str>,
    accesses: u64,
    distinct_subjects: u64,
    flags: u64,
    critical: u64,
    high: u64,
    medium: u64,
    low: u64,
    by_rule: BTreeMap<&'static str, u64>,
}

fn write_staff(
    out: &mut dyn Write,
    format: Format,
    h: &Header,
    ranked: &[(Id, StaffRow)],
    dir: &HashMap<&str, &crate::model::Staff>,
    reveal: bool,
    width: usize,
) -> Result<(), ReportError> {
    let rows: Vec<StaffJson> = ranked
        .iter()
        .enumerate()
        .map(|(i, (id, r))| {
            let s = dir.get(id.as_str());
            StaffJson {
                rank: i + 1,
                staff_id: id.as_str(),
                staff_name: if reveal {
                    s.map(|s| s.display_name.as_str())
                } else {
                    None
                },
                role: s.and_then(|s| s.role.as_deref()),
                department: s.and_then(|s| s.department.as_deref()),
                accesses: r.accesses,
                distinct_subjects: r.distinct_subjects,
                flags: r.by_severity.iter().sum(),
                critical: r.by_severity[3],
                high: r.by_severity[2],
                medium: r.by_severity[1],
                low: r.by_severity[0],
                by_rule: r.by_rule.iter().map(|(k, v)| (k.name(), *v)).collect(),
            }
        })
        .collect();
    let text = match format {
        Format::Json => {
            #[derive(Serialize)]
            struct Doc<'a> {
                generated_at: String,
                as_of: String,
                window: super::WindowJson,
                staff: &'a [StaffJson<'a>],
            }
            let mut s = serde_json::to_string_pretty(&Doc {
                generated_at: rfc3339(h.generated_at),
                as_of: rfc3339(h.as_of),
                window: super::WindowJson {
                    from: rfc3339(h.from),
                    to: rfc3339(h.to),
                },
                staff: &rows,
            })
            .expect("serialises");
            s.push('\n');
            s
        }
        Format::Csv => {
            let mut o = super::csv_row(
                &[
                    "rank",
                    "staff_id",
                    "staff_name",
                    "role",
                    "department",
                    "accesses",
                    "distinct_subjects",
                    "flags",
                    "critical",
                    "high",
                    "medium",
                    "low",
                    "by_rule",
                ]
                .map(String::from),
            );
            for r in &rows {
                o.push_str(&super::csv_row(&[
                    r.rank.to_string(),
                    r.staff_id.into(),
                    r.staff_name.unwrap_or_default().into(),
                    r.role.unwrap_or_default().into(),
                    r.department.unwrap_or_default().into(),
                    r.accesses.to_string(),
                    r.distinct_subjects.to_string(),
                    r.flags.to_string(),
                    r.critical.to_string(),
                    r.high.to_string(),
                    r.medium.to_string(),
                    r.low.to_string(),
                    r.by_rule
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                ]));
            }
            o
        }
        Format::Md | Format::Table => {
            let md = format == Format::Md;
            let mut o = String::new();
            if md {
                o.push_str(&format!("# Staff ranked by risk\n\nWindow {} to {}\n\n| rank | staff | role | accesses | subjects | critical | high | medium | low | top rules |\n|---|---|---|---|---|---|---|---|---|---|\n", rfc3339(h.from), rfc3339(h.to)));
            } else {
                o.push_str(&format!(
                    "{:>4} {:<10} {:<16} {:>8} {:>8} {:>4} {:>4} {:>4} {:>4}  top rules\n",
                    "rank", "staff", "role", "accesses", "subjects", "crit", "high", "med", "low"
                ));
            }
            for r in &rows {
                let mut top: Vec<(&&str, &u64)> = r.by_rule.iter().collect();
                top.sort_by(|a, b| b.1.cmp(a.1));
                let top = top
                    .iter()
                    .take(3)
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let who = match r.staff_name {
                    Some(n) => format!("{} ({})", r.staff_id, n),
                    None => r.staff_id.to_string(),
                };
                if md {
                    let m = |s: &str| terminal(s).replace('|', "\\|");
                    o.push_str(&format!(
                        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                        r.rank,
                        m(&who),
                        m(r.role.unwrap_or("")),
                        r.accesses,
                        r.distinct_subjects,
                        r.critical,
                        r.high,
                        r.medium,
                        r.low,
                        top
                    ));
                } else {
                    let line = format!(
                        "{:>4} {:<10} {:<16} {:>8} {:>8} {:>4} {:>4} {:>4} {:>4}  {}",
                        r.rank,
                        clip(&terminal(&who), 10),
                        clip(&terminal(r.role.unwrap_or("")), 16),
                        r.accesses,
                        r.distinct_subjects,
                        r.critical,
                        r.high,
                        r.medium,
                        r.low,
                        top
                    );
                    o.push_str(&line);
                    o.push('\n');
                }
            }
            if md { o } else { super::fit(&o, width) }
        }
    };
    out.write_all(text.as_bytes()).map_err(io)
}

/// `keyhole breach`: streams the window a day at a time and folds the
/// matching accesses into the incident.
pub async fn breach(
    inp: Inputs<'_>,
    args: &crate::cli::BreachArgs,
    out: &mut dyn Write,
) -> Result<u8, ReportError> {
    use super::breach::{DeadlineTable, Incident, Scope};
    let tz = inp.policy.timezone;
    let now = chrono::Timelike::with_nanosecond(&inp.now, 0).unwrap_or(inp.now);
    let from = cli_time("from", Some(&args.from), tz)?.expect("given");
    let to = cli_time("to", Some(&args.to), tz)?.expect("given");
    nonempty(from, to)?;
    let as_of = cli_time("as-of", args.as_of.as_deref(), tz)?.unwrap_or(now);
    let aware_at = cli_time("aware-at", args.aware_at.as_deref(), tz)?.unwrap_or(as_of);
    let networks = args
        .ip
        .iter()
        .map(|i| Scope::parse_ip(i))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ReportError::Usage)?;
    let scope = Scope {
        staff: args.staff.iter().map(|s| s.trim().to_string()).collect(),
        networks,
    };
    let table = match &args.deadlines {
        Some(p) => DeadlineTable::load(p).map_err(|e| ReportError::Usage(e.to_string()))?,
        None => DeadlineTable::builtin(),
    };
    let dir = Directory::load(inp.src, inp.set, tz).await?;
    let mut inc = Incident::default();
    let mut symbols = Interner::default();
    let mut day = from.with_timezone(&tz).date_naive();
    let mut progress = day_progress(inp.progress);
    while crate::source::value::local_day_start(day, tz) < to {
        progress(day);
        let ds = crate::source::value::local_day_start(day, tz).max(from);
        let de = crate::source::value::local_day_start(day + Duration::days(1), tz).min(to);
        crate::source::load::stream_events(
            inp.src,
            inp.set,
            tz,
            crate::source::Window { from: ds, to: de },
            &mut symbols,
            |ev, syms| {
                if scope.matches(&ev, syms) {
                    inc.add(&ev, syms, tz);
                }
            },
            |_| {},
        )
        .await?;
        day += Duration::days(1);
    }
    let header = Header {
        generated_at: now,
        as_of,
        from,
        to,
        dialect: inp.src.dialect.name().into(),
        database: inp.src.database.clone(),
        policy: inp.policy.origin.clone(),
        timezone: tz,
    };
    let format = format_of(args.format);
    let report = super::breach::build(&header, aware_at, &scope, &table, inc, &dir, args.reveal);
    out.write_all(super::breach::render(&report, format, args.reveal).as_bytes())
        .map_err(io)?;
    Ok(0)
}
