//! `keyhole report KIND`: the clap arguments become a [`ReportRequest`],
//! the window is resolved, the pipeline runs into the report's consumer and
//! the writer renders it.

use keyhole::audit::{self, AuditWindow, DefaultStart, Plan, Symbols};
use keyhole::model::Instant;
use keyhole::policy::{Policy, norm};
use keyhole::report::accesses::AccessWriter;
use keyhole::report::staff::StaffTally;
use keyhole::report::subject::SubjectAccesses;
use keyhole::report::{self, FlagCollector, Format, Header, transparency};
use keyhole::rules::{Engine, Rule, Severity};
use keyhole::source::Source;
use keyhole::source::queries::QuerySet;

use super::{Usage, audit_error, write_error};
use crate::cli::{PeriodArg, ReportArgs, ReportKind};

/// A report as the library sees it: no clap types, every flag checked.
pub struct ReportRequest {
    pub kind: ReportKind,
    pub subject: Option<String>,
    pub window: AuditWindow,
    pub format: Format,
    pub rules: Vec<Rule>,
    pub min_severity: Option<Severity>,
    pub fail_on: Option<Severity>,
    pub reveal: bool,
    pub transparency: Option<transparency::Period>,
    /// With `--unreviewed`: the keys that have a verdict, to leave out.
    pub unreviewed: Option<std::collections::HashSet<String>>,
    pub width: usize,
    pub progress: bool,
    pub now: Instant,
    /// Database audit logs read beside the source.
    pub logs: Vec<keyhole::dblog::LogSpec>,
}

impl ReportRequest {
    /// Checks the flags and resolves the window in the policy's zone.
    pub fn from_args(args: &ReportArgs, policy: &Policy, now: Instant) -> anyhow::Result<Self> {
        let default_start = if args.kind == ReportKind::Subject || args.transparency {
            DefaultStart::AllTime
        } else {
            DefaultStart::Last30Days
        };
        let flags = super::window_flags(&args.window);
        let window = audit::window::resolve(&flags, default_start, policy.timezone, now)?;
        let rules = args
            .rules
            .iter()
            .map(|r| {
                Rule::from_name(&norm(r))
                    .ok_or_else(|| Usage(format!("--rule {r:?}: unknown rule")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if args.transparency && args.kind != ReportKind::Disclosures {
            return Err(Usage("--transparency goes with `report disclosures`".into()).into());
        }
        if args.unreviewed && args.kind != ReportKind::Flags {
            return Err(Usage("--unreviewed goes with `report flags`".into()).into());
        }
        if args.kind == ReportKind::Subject && args.id.is_none() {
            return Err(Usage("report subject needs --id ID".into()).into());
        }
        Ok(ReportRequest {
            kind: args.kind,
            subject: args.id.as_deref().map(|s| s.trim().to_string()),
            window,
            format: super::format_of(args.format),
            rules,
            min_severity: args.min_severity.map(super::severity),
            fail_on: args.fail_on.map(super::severity),
            reveal: args.reveal,
            transparency: args.transparency.then_some(match args.period {
                PeriodArg::HalfYear => transparency::Period::HalfYear,
                PeriodArg::Year => transparency::Period::Year,
            }),
            unreviewed: None,
            width: super::terminal_width(),
            progress: super::progress_enabled(),
            now,
            logs: Vec::new(),
        })
    }
}

/// The window's flags as `report flags` gives them: judged, filtered by
/// `--rule` and `--min-severity`, sorted and keyed. Returns them with the
/// number of accesses judged.
pub async fn collect_flags(
    src: &mut Source,
    set: &QuerySet,
    engine: &mut Engine<'_>,
    plan: &Plan<'_>,
    rules: &[Rule],
    min: Option<Severity>,
) -> anyhow::Result<(Vec<keyhole::rules::Flag>, u64)> {
    let mut c = FlagCollector {
        legal: true,
        ..Default::default()
    };
    audit::run(src, set, engine, plan, &mut c)
        .await
        .map_err(audit_error)?;
    let mut flags = report::filter_flags(c.flags, rules, min);
    report::sort_flags(&mut flags);
    Ok((flags, c.events))
}

/// Checks `--rule` names.
pub fn parse_rules(names: &[String]) -> anyhow::Result<Vec<Rule>> {
    Ok(names
        .iter()
        .map(|r| {
            Rule::from_name(&norm(r)).ok_or_else(|| Usage(format!("--rule {r:?}: unknown rule")))
        })
        .collect::<Result<Vec<_>, _>>()?)
}

/// What every report says about itself.
pub fn header(src: &Source, policy: &Policy, w: &AuditWindow, now: Instant) -> Header {
    Header {
        // "now" is read once and truncated to whole seconds, like the window.
        generated_at: audit::window::whole_seconds(now),
        as_of: w.as_of,
        from: w.from,
        to: w.to,
        dialect: src.dialect.name().into(),
        database: src.database.clone(),
        policy: policy.origin.clone(),
        timezone: policy.timezone,
    }
}

fn kind_name(k: ReportKind) -> &'static str {
    match k {
        ReportKind::Flags => "flags",
        ReportKind::Accesses => "accesses",
        ReportKind::Staff => "staff",
        ReportKind::Disclosures => "disclosures",
        ReportKind::Requests => "requests",
        ReportKind::Subject => "subject",
        ReportKind::Auditor => "auditor",
    }
}

fn exit_for(sevs: impl IntoIterator<Item = Severity>, fail_on: Option<Severity>) -> u8 {
    match fail_on {
        Some(f) if sevs.into_iter().any(|s| s >= f) => 3,
        _ => 0,
    }
}

/// Runs one report into `out`; returns the exit status (0, or 3 for `--fail-on`).
pub async fn run(
    src: &mut Source,
    set: &QuerySet,
    policy: &Policy,
    req: &ReportRequest,
    out: &mut (dyn std::io::Write + Send),
) -> anyhow::Result<u8> {
    let tz = policy.timezone;
    let w = req.window;
    let dir = super::directory(src, set, policy, &req.logs).await?;
    let header = header(src, policy, &w, req.now);
    let mut engine = Engine::new(policy, &dir, w.from, w.to, w.as_of);
    let show = |d| {
        if req.progress {
            super::show_day(d)
        }
    };
    let plan = Plan {
        progress: Some(&show),
        ..Plan::default()
    };
    let write = |out: &mut (dyn std::io::Write + Send), text: String| {
        out.write_all(text.as_bytes()).map_err(write_error)
    };
    match req.kind {
        ReportKind::Flags => {
            let (mut flags, events) =
                collect_flags(src, set, &mut engine, &plan, &req.rules, req.min_severity).await?;
            if let Some(decided) = &req.unreviewed {
                flags.retain(|f| !decided.contains(&f.key));
            }
            if req.reveal {
                report::reveal(&mut flags, &dir);
            }
            if req.format == Format::Json {
                report::write_flags_json(out, &header, &flags, events).map_err(write_error)?;
                return Ok(exit_for(flags.iter().map(|f| f.severity), req.fail_on));
            }
            let text = match req.format {
                Format::Json => unreachable!("streamed above"),
                Format::Csv => report::flags_csv(&flags),
                Format::Md => report::flags_md(&header, policy, &flags, events),
                Format::Table => report::flags_table(&flags, req.width),
            };
            write(out, text)?;
            Ok(exit_for(flags.iter().map(|f| f.severity), req.fail_on))
        }
        ReportKind::Auditor => unreachable!("the auditor report reads the ledger only"),
        ReportKind::Accesses => {
            let mut sink =
                AccessWriter::new(&mut *out, req.format, req.width, policy).map_err(write_error)?;
            audit::run(src, set, &mut engine, &plan, &mut sink)
                .await
                .map_err(audit_error)?;
            Ok(exit_for(sink.worst, req.fail_on))
        }
        ReportKind::Staff => {
            let mut tally = StaffTally::default();
            let plan = Plan {
                symbols: Symbols::Keep,
                ..plan
            };
            audit::run(src, set, &mut engine, &plan, &mut tally)
                .await
                .map_err(audit_error)?;
            let flags = report::filter_flags(
                std::mem::take(&mut tally.flags),
                &req.rules,
                req.min_severity,
            );
            let ranked = tally.rank(&flags);
            report::staff::write(
                out, req.format, &header, &ranked, &dir.staff, req.reveal, req.width,
            )
            .map_err(write_error)?;
            Ok(exit_for(flags.iter().map(|f| f.severity), req.fail_on))
        }
        ReportKind::Disclosures if req.transparency.is_some() => {
            let period = req.transparency.expect("checked");
            let rows = keyhole::rules::legal::disclosures_as_of(&engine.ctx);
            let lines = transparency::aggregate(&rows, tz, period, w.from, w.to);
            write(
                out,
                transparency::render(&lines, req.format, &header, period),
            )?;
            Ok(0)
        }
        ReportKind::Requests | ReportKind::Disclosures => {
            // Requests link the accesses that came after them: judge the window's accesses too.
            let mut c = FlagCollector::default();
            if req.kind == ReportKind::Requests {
                audit::run(src, set, &mut engine, &plan, &mut c)
                    .await
                    .map_err(audit_error)?;
            }
            let linked = report::legal::linked_accesses(&c.flags);
            let flags = report::filter_flags(engine.legal_flags(), &req.rules, req.min_severity);
            let text = if req.kind == ReportKind::Requests {
                report::legal::requests_report(
                    &engine, &flags, &linked, req.format, &header, req.width,
                )
            } else {
                report::legal::disclosures_report(&engine, &flags, req.format, &header, req.width)
            };
            write(out, text)?;
            Ok(exit_for(flags.iter().map(|f| f.severity), req.fail_on))
        }
        ReportKind::Subject => {
            let id = req.subject.clone().unwrap_or_default();
            let mut kept = SubjectAccesses::new(&id, &dir, policy, req.reveal);
            let about = |ev: &keyhole::model::AccessEvent, syms: &keyhole::model::Interner| {
                SubjectAccesses::is_about(&id, ev, syms)
            };
            // A whole history by default: read in 30-day spans so no single
            // statement runs long on a big log, and judge only this person's accesses.
            let plan = Plan {
                history: false,
                span_days: 30,
                only: Some(&about),
                progress: None,
                ..plan
            };
            audit::run(src, set, &mut engine, &plan, &mut kept)
                .await
                .map_err(audit_error)?;
            let (text, severities) = report::subject::render(kept, &dir, req.format, &header)?;
            write(out, text)?;
            Ok(exit_for(severities, req.fail_on))
        }
    }
}

/// `keyhole report`: opens the source, runs the report into its output.
pub async fn command(g: &crate::cli::GlobalOpts, args: &ReportArgs) -> anyhow::Result<u8> {
    if args.kind == ReportKind::Auditor {
        return super::auditor::command(g, args).await;
    }
    let logs = super::log_specs(g)?;
    let (mut src, queries, policy) = super::open_source(g).await?;
    let prepared = async {
        let mut req = ReportRequest::from_args(args, &policy, chrono::Utc::now())?;
        req.logs = logs;
        if args.unreviewed {
            let mut ledger = super::trail::open(g).await?;
            let decided = ledger.decided_keys().await;
            ledger.close().await;
            req.unreviewed = Some(decided?);
        }
        // A reveal is recorded before anything is revealed.
        let reveal = args.reveal.then(|| args.reason.clone().unwrap_or_default());
        let body = super::trail::session(
            &format!("report {}", kind_name(args.kind)),
            &src,
            Some(&req.window),
            reveal.as_deref(),
        );
        super::trail::record(g, body).await?;
        Ok::<_, anyhow::Error>(req)
    }
    .await;
    let req = match prepared {
        Ok(r) => r,
        Err(e) => {
            src.close().await;
            return Err(e);
        }
    };
    let mut output = match super::Output::open(args.output.as_deref()) {
        Ok(o) => o,
        Err(e) => {
            src.close().await;
            return Err(e);
        }
    };
    let result = run(&mut src, &queries, &policy, &req, output.writer()).await;
    super::clear_progress(req.progress);
    src.close().await;
    let code = result?;
    output.commit()?;
    Ok(code)
}
