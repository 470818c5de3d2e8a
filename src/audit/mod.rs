//! The one audit pipeline: resolve a window, read the access log one local
//! day at a time (plus the 30 days before the window that `volume_spike`
//! needs), judge each day with the rules engine and push the result into a
//! [`Sink`]. Every consumer is a sink: the flags report, the access log,
//! the staff ranking, the subject report, the breach scope and the
//! dashboard's load. Memory stays bounded by a day of events plus what the
//! sink keeps.
//!
//! This layer reads the source and runs the rules; it formats nothing and
//! knows neither a terminal nor the command line.

pub mod window;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant as Clock;

use chrono::{Duration, NaiveDate};

use crate::dblog::{DbLogError, LogSpec, LogSummary};
use crate::model::{AccessEvent, DbEvents, Directory, Instant, Interner};
use crate::policy::Policy;
use crate::rules::{Engine, Flag, JudgedEvent};
use crate::source::load::stream_events;
use crate::source::queries::QuerySet;
use crate::source::{Source, SourceError, Window};

pub use window::{AuditWindow, DefaultStart, Preset, WindowChoice, WindowError, WindowFlags};

/// An error a sink reports; the pipeline stops and hands it back.
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Sink(SinkError),
    #[error("internal error: the judging thread panicked")]
    Panicked,
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Log(#[from] DbLogError),
}

impl AuditError {
    /// The sink's error, when it was an I/O error (a closed pipe, a full disk).
    pub fn io(&self) -> Option<&std::io::Error> {
        match self {
            AuditError::Sink(e) => e.downcast_ref::<std::io::Error>(),
            _ => None,
        }
    }
}

/// One local day of the window, judged: its accesses in
/// `(occurred_at, event_id)` order with their verdicts, and its flags.
pub struct Day<'a, 's> {
    pub date: NaiveDate,
    pub judged: Vec<JudgedEvent<'a>>,
    pub flags: Vec<Flag>,
    /// Resolves the interned values of this day's events.
    pub symbols: &'s Interner,
}

/// What the pipeline knows when the last day is done.
pub struct Finish<'e, 'a> {
    /// The engine, for the flags that are not about access events
    /// (disclosures and requests) and for the context.
    pub engine: &'e Engine<'a>,
    /// Accesses judged in the window.
    pub events: u64,
    /// Every value interned, when the plan keeps symbols
    /// ([`Symbols::Keep`]); empty otherwise.
    pub symbols: Interner,
}

/// A consumer of judged days, modelled on ripgrep's `Sink`: days arrive in
/// order, then `finish` once. Returning `Ok(false)` from `day` stops the
/// reading early (a reader went away); an error stops it and is returned.
pub trait Sink<'a> {
    fn day(&mut self, day: Day<'a, '_>) -> Result<bool, SinkError>;
    fn finish(&mut self, end: Finish<'_, 'a>) -> Result<(), SinkError> {
        let _ = end;
        Ok(())
    }
}

/// Whether interned values must stay valid after their day (the dashboard
/// keeps rows) or may be forgotten, so a long report's memory does not grow
/// with every distinct reference it has seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbols {
    Keep,
    PerDay,
}

/// An event filter applied while reading, before anything is judged.
pub type EventFilter<'f> = &'f (dyn Fn(&AccessEvent, &Interner) -> bool + Sync);

/// How to read the window.
#[derive(Clone, Copy)]
pub struct Plan<'f> {
    pub symbols: Symbols,
    /// Read the days before the window that `volume_spike` compares with
    /// (when the policy enables it). Off for scopes that use no flags.
    pub history: bool,
    /// Local days one statement reads. 1 for every full audit; a filtered,
    /// sparse read (one person's whole history) reads 30 at a time so a long
    /// window costs few statements.
    pub span_days: u32,
    /// Only these events are judged and passed on.
    pub only: Option<EventFilter<'f>>,
    /// Told the local day being read.
    pub progress: Option<&'f (dyn Fn(NaiveDate) + Sync)>,
    /// Set from elsewhere to stop before the next read (a reload, a quit).
    pub stop: Option<&'f AtomicBool>,
}

impl Default for Plan<'_> {
    fn default() -> Self {
        Plan {
            symbols: Symbols::PerDay,
            history: true,
            span_days: 1,
            only: None,
            progress: None,
            stop: None,
        }
    }
}

/// Reads staff, subjects, relationships, disclosures and requests, logging
/// what each took, then the database audit logs (section 8) with what
/// each held.
pub async fn load_directory(
    src: &mut Source,
    set: &QuerySet,
    policy: &Policy,
    logs: &[LogSpec],
) -> Result<(Directory, Vec<LogSummary>), AuditError> {
    crate::dblog::check_specs(logs)?;
    let started = Clock::now();
    let mut dir = Directory::load(src, set, policy.timezone).await?;
    tracing::info!(
        staff = dir.staff.len(),
        subjects = dir.subjects.len(),
        relationships = dir.relationships.as_ref().map_or(0, |t| t.len()),
        disclosures = dir.disclosures.as_ref().map_or(0, Vec::len),
        requests = dir.requests.as_ref().map_or(0, Vec::len),
        ms = started.elapsed().as_millis() as u64,
        "directory loaded"
    );
    let mut read = || attach_logs(&mut dir, policy, logs);
    let summaries = if logs.is_empty()
        || tokio::runtime::Handle::current().runtime_flavor()
            != tokio::runtime::RuntimeFlavor::MultiThread
    {
        read()?
    } else {
        tokio::task::block_in_place(read)?
    };
    Ok((dir, summaries))
}

/// Reads the database audit logs into `dir.db_events`, each staff member
/// known by their `db_user`; returns what each log held.
pub fn attach_logs(
    dir: &mut Directory,
    policy: &Policy,
    logs: &[LogSpec],
) -> Result<Vec<LogSummary>, DbLogError> {
    if logs.is_empty() {
        return Ok(Vec::new());
    }
    let started = Clock::now();
    let logins = crate::dblog::logins(&dir.staff);
    let (events, summaries) = crate::dblog::read_all(logs, &policy.audit, &logins)?;
    tracing::info!(
        logs = logs.len(),
        events = events.len(),
        ms = started.elapsed().as_millis() as u64,
        "audit logs read"
    );
    dir.db_events = events;
    Ok(summaries)
}

/// One read: a span of local days, and whether it only serves as history.
struct Step {
    first: NaiveDate,
    days: u32,
    from: Instant,
    to: Instant,
    history: bool,
}

fn plan_steps(engine: &Engine, plan: &Plan) -> Vec<Step> {
    let (from, to) = (engine.from, engine.to);
    let mut steps = Vec::new();
    if from >= to {
        return steps;
    }
    let first = engine.local_day(from);
    let last = engine.local_day(to - Duration::nanoseconds(1));
    let history = plan.history && engine.needs_history();
    if history {
        let mut d = engine.history_start();
        while d < first {
            steps.push(Step {
                first: d,
                days: 1,
                from: engine.day_start(d),
                to: engine.day_start(d + Duration::days(1)),
                history: true,
            });
            d += Duration::days(1);
        }
    }
    let span = plan.span_days.max(1) as i64;
    let mut d = first;
    while d <= last {
        let end = (d + Duration::days(span)).min(last + Duration::days(1));
        let (ds, de) = (engine.day_start(d), engine.day_start(end));
        // Whole days when their figures serve later days' history; else only the window part.
        let (s, e) = if history {
            (ds, de)
        } else {
            (ds.max(from), de.min(to))
        };
        steps.push(Step {
            first: d,
            days: (end - d).num_days() as u32,
            from: s,
            to: e,
            history: false,
        });
        d = end;
    }
    steps
}

/// What the reader hands the judge with a step's events: its whole
/// interner when symbols are forgotten after each step, else the strings
/// added since the last step.
enum Strings {
    Whole(Interner),
    Added(crate::model::Added),
}

/// Reads one step's events, filtered, bucketed by local day.
async fn read_step(
    src: &mut Source,
    set: &QuerySet,
    tz: chrono_tz::Tz,
    step: &Step,
    only: Option<EventFilter<'_>>,
    db: &DbEvents,
    symbols: &mut Interner,
) -> Result<Vec<Vec<AccessEvent>>, SourceError> {
    let mut days: Vec<Vec<AccessEvent>> = (0..step.days).map(|_| Vec::new()).collect();
    let bucket = |ev: &AccessEvent| {
        if step.days == 1 {
            0
        } else {
            let d = ev.occurred_at.with_timezone(&tz).date_naive();
            ((d - step.first).num_days().max(0) as usize).min(step.days as usize - 1)
        }
    };
    // The database audit logs' events of the step, beside the source's.
    for e in db.between(step.from, step.to) {
        let a = db.get(e);
        let ev = AccessEvent {
            event_id: a.event_id,
            occurred_at: a.occurred_at,
            staff: symbols.intern(a.staff_id),
            subject: a.subject_id.map(|s| symbols.intern(s)),
            action: Some(symbols.intern(a.action)),
            data_category: Some(symbols.intern(a.data_category)),
            purpose: None,
            reference: None,
            client_ip: a.client_ip.map(|s| symbols.intern(s)),
            record_count: 1,
            db: Some(symbols.intern(&a.detail)),
        };
        if only.is_some_and(|keep| !keep(&ev, symbols)) {
            continue;
        }
        let k = bucket(&ev);
        days[k].push(ev);
    }
    stream_events(
        src,
        set,
        tz,
        Window {
            from: step.from,
            to: step.to,
        },
        symbols,
        |ev, syms| {
            if only.is_some_and(|keep| !keep(&ev, syms)) {
                return;
            }
            let k = bucket(&ev);
            days[k].push(ev);
        },
        |_| {},
    )
    .await?;
    Ok(days)
}

/// Judges one step's days into the sink; returns whether to go on.
fn judge_step<'a, S: Sink<'a> + ?Sized>(
    engine: &mut Engine<'a>,
    step: &Step,
    days: Vec<Vec<AccessEvent>>,
    symbols: &Interner,
    sink: &mut S,
    events: &mut u64,
) -> Result<bool, SinkError> {
    for (i, evs) in days.into_iter().enumerate() {
        let date = step.first + Duration::days(i as i64);
        if step.history {
            engine.record_history(date, &evs, symbols);
            continue;
        }
        let (judged, flags) = engine.judge_day(date, evs, symbols);
        *events += judged.len() as u64;
        let go_on = sink.day(Day {
            date,
            judged,
            flags,
            symbols,
        })?;
        if !go_on {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Runs the engine over its window and pushes every judged day into `sink`,
/// then calls `finish`. Returns the number of accesses judged. On a
/// multi-threaded runtime the next span is read while this one is judged on
/// a second thread.
pub async fn run<'a, S>(
    src: &mut Source,
    set: &QuerySet,
    engine: &mut Engine<'a>,
    plan: &Plan<'_>,
    sink: &mut S,
) -> Result<u64, AuditError>
where
    S: Sink<'a> + Send + ?Sized,
{
    let tz = engine.policy().timezone;
    let db: &'a DbEvents = &engine.ctx.dir.db_events;
    let steps = plan_steps(engine, plan);
    let started = Clock::now();
    tracing::info!(
        from = %crate::time::rfc3339(engine.from),
        to = %crate::time::rfc3339(engine.to),
        as_of = %crate::time::rfc3339(engine.ctx.as_of),
        statements = steps.len(),
        "audit started"
    );
    let progress = |st: &Step| {
        if let (false, Some(p)) = (st.history, plan.progress) {
            p(st.first);
        }
    };
    let stopped = || plan.stop.is_some_and(|s| s.load(Ordering::Relaxed));
    let mut events = 0u64;
    let mut symbols = Interner::default();
    let per_step = plan.symbols == Symbols::PerDay;
    if tokio::runtime::Handle::current().runtime_flavor()
        != tokio::runtime::RuntimeFlavor::MultiThread
    {
        for st in &steps {
            if stopped() {
                return Err(AuditError::Cancelled);
            }
            progress(st);
            let days = read_step(src, set, tz, st, plan.only, db, &mut symbols).await?;
            let go_on = judge_step(engine, st, days, &symbols, sink, &mut events)
                .map_err(AuditError::Sink)?;
            if per_step {
                symbols = Interner::default();
            }
            if !go_on {
                break;
            }
        }
    } else {
        let handle = tokio::runtime::Handle::current();
        let steps = &steps;
        let only = plan.only;
        let (n, mirror) = tokio::task::block_in_place(|| {
            std::thread::scope(|scope| {
                type Batch = (usize, Vec<Vec<AccessEvent>>, Strings);
                let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(2);
                let engine = &mut *engine;
                let sink = &mut *sink;
                let judge = scope.spawn(move || -> Result<(u64, Interner), SinkError> {
                    let mut mirror = Interner::default();
                    let mut n = 0u64;
                    let mut busy = std::time::Duration::ZERO;
                    for (k, days, strings) in rx {
                        let t = Clock::now();
                        match strings {
                            // Forgotten after each step: the reader's own interner.
                            Strings::Whole(i) => mirror = i,
                            Strings::Added(a) => mirror.extend_mirror(a),
                        }
                        let st = &steps[k];
                        let go_on = judge_step(engine, st, days, &mirror, sink, &mut n)?;
                        busy += t.elapsed();
                        if !go_on {
                            break; // Dropping the receiver stops the reader.
                        }
                    }
                    // Against the whole run's time, whether judging or reading is the bottleneck.
                    tracing::info!(ms = busy.as_millis() as u64, "judging and sinks busy");
                    Ok((n, mirror))
                });
                let read: Result<(), AuditError> = handle.block_on(async {
                    let mut reader = Interner::default();
                    let mut sent = 0;
                    for (k, st) in steps.iter().enumerate() {
                        if stopped() {
                            return Err(AuditError::Cancelled);
                        }
                        progress(st);
                        let days = read_step(src, set, tz, st, only, db, &mut reader).await?;
                        let strings = if per_step {
                            Strings::Whole(std::mem::take(&mut reader))
                        } else {
                            let added = reader.added_since(sent);
                            sent = reader.len();
                            Strings::Added(added)
                        };
                        if tx.send((k, days, strings)).is_err() {
                            break; // The judge stopped; its result says why.
                        }
                    }
                    Ok(())
                });
                drop(tx);
                let judged = judge.join().map_err(|_| AuditError::Panicked)?;
                let judged = judged.map_err(AuditError::Sink)?;
                read?;
                Ok::<_, AuditError>(judged)
            })
        })?;
        events = n;
        symbols = mirror;
    }
    tracing::info!(
        events,
        ms = started.elapsed().as_millis() as u64,
        "audit judged"
    );
    if per_step {
        symbols = Interner::default();
    }
    sink.finish(Finish {
        engine,
        events,
        symbols,
    })
    .map_err(AuditError::Sink)?;
    Ok(events)
}
