//! `keyhole breach`: the incident's scope becomes a pipeline filter, the
//! matching accesses fold into the incident, and the deadline table turns
//! it into notification duties.

use keyhole::audit::{self, DefaultStart, Plan, WindowFlags};
use keyhole::config::Settings;
use keyhole::report::breach::{DeadlineTable, Incident, IncidentSink, Scope};
use keyhole::rules::Engine;

use super::{Usage, audit_error, write_error};
use crate::cli::{BreachArgs, GlobalOpts};

/// The deadline table: `--deadlines`, else the config's `[breach]
/// deadlines`, else the built-in one.
pub fn deadline_table(
    flag: Option<&std::path::Path>,
    settings: &Settings,
) -> Result<DeadlineTable, Usage> {
    match (flag, settings.deadlines.as_deref()) {
        (Some(p), _) => DeadlineTable::load(p).map_err(|e| Usage(format!("--deadlines {e}"))),
        (None, Some(p)) => DeadlineTable::load(p).map_err(|e| {
            let config = settings
                .config_path
                .as_ref()
                .map_or_else(String::new, |c| format!("{}: ", c.display()));
            Usage(format!("{config}[breach] deadlines {e}"))
        }),
        (None, None) => Ok(DeadlineTable::builtin()),
    }
}

pub async fn command(g: &GlobalOpts, args: &BreachArgs) -> anyhow::Result<u8> {
    let settings = Settings::resolve(&super::overrides(g))?;
    let logs = super::log_specs(g)?;
    let (mut src, queries, policy) = super::open_source(g).await?;
    let progress = super::progress_enabled();
    let result = async {
        let tz = policy.timezone;
        let now = chrono::Utc::now();
        let flags = WindowFlags {
            from: Some(args.from.clone()),
            to: Some(args.to.clone()),
            as_of: args.as_of.clone(),
        };
        let w = audit::window::resolve(&flags, DefaultStart::Last30Days, tz, now)?;
        let aware_at =
            audit::window::flag_time("aware-at", args.aware_at.as_deref(), tz)?.unwrap_or(w.as_of);
        let networks = args
            .ip
            .iter()
            .map(|i| Scope::parse_ip(i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Usage(e.to_string()))?;
        let scope = Scope {
            staff: args.staff.iter().map(|s| s.trim().to_string()).collect(),
            networks,
        };
        let table = deadline_table(args.deadlines.as_deref(), &settings)?;
        // A reveal is recorded before anything is revealed.
        let reveal = args.reveal.then_some("");
        super::trail::record(g, super::trail::session("breach", &src, Some(&w), reveal)).await?;
        let mut output = super::Output::open(args.output.as_deref())?;
        let dir = super::directory(&mut src, &queries, &policy, &logs).await?;
        let mut engine = Engine::new(&policy, &dir, w.from, w.to, w.as_of);
        let show = |d| {
            if progress {
                super::show_day(d)
            }
        };
        let matches = |ev: &keyhole::model::AccessEvent, syms: &keyhole::model::Interner| {
            scope.matches(ev, syms)
        };
        // No flags are needed, so no history: only the incident's accesses are read on.
        let plan = Plan {
            history: false,
            only: Some(&matches),
            progress: Some(&show),
            ..Plan::default()
        };
        let mut sink = IncidentSink {
            incident: Incident::default(),
            tz,
        };
        audit::run(&mut src, &queries, &mut engine, &plan, &mut sink)
            .await
            .map_err(audit_error)?;
        let header = super::report::header(&src, &policy, &w, now);
        let format = super::format_of(args.format);
        let report = keyhole::report::breach::build(
            &header,
            aware_at,
            &scope,
            &table,
            &settings.breach_switches,
            sink.incident,
            &dir,
            args.reveal,
        );
        let text = keyhole::report::breach::render(&report, format, args.reveal);
        output
            .writer()
            .write_all(text.as_bytes())
            .map_err(write_error)?;
        super::clear_progress(progress);
        output.commit()?;
        Ok(0)
    }
    .await;
    super::clear_progress(progress);
    src.close().await;
    result
}
