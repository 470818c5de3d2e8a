//! Drives the rules engine over a source: reads the access log one local
//! day at a time (plus the 30 days before the window that `volume_spike`
//! needs), so memory stays bounded by a day of events plus per-staff state.

use chrono::{Duration, NaiveDate};

use crate::model::{AccessEvent, Instant, Interner};
use crate::rules::{Engine, Flag, JudgedEvent};
use crate::source::load::stream_events;
use crate::source::queries::QuerySet;
use crate::source::{Source, SourceError, Window};

/// Reads every event of `[start, end)` into a vector.
async fn read_span(
    src: &mut Source,
    set: &QuerySet,
    tz: chrono_tz::Tz,
    start: Instant,
    end: Instant,
    symbols: &mut Interner,
) -> Result<Vec<AccessEvent>, SourceError> {
    let mut out = Vec::new();
    stream_events(
        src,
        set,
        tz,
        Window {
            from: start,
            to: end,
        },
        symbols,
        |ev, _| out.push(ev),
        |_| {},
    )
    .await?;
    Ok(out)
}

/// Whether interned values must stay valid after their day (the dashboard
/// keeps rows) or may be forgotten, so a long report's memory does not grow
/// with every distinct reference it has seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbols {
    Keep,
    PerDay,
}

/// One local day to read: its date, the span to read, and whether it only
/// serves as history for `volume_spike`.
struct Step {
    day: NaiveDate,
    from: Instant,
    to: Instant,
    history: bool,
}

fn plan(engine: &Engine) -> Vec<Step> {
    let (from, to) = (engine.from, engine.to);
    let mut steps = Vec::new();
    if from >= to {
        return steps;
    }
    let first = engine.local_day(from);
    let last = engine.local_day(to - Duration::nanoseconds(1));
    if engine.needs_history() {
        let mut d = engine.history_start();
        while d < first {
            steps.push(Step {
                day: d,
                from: engine.day_start(d),
                to: engine.day_start(d + Duration::days(1)),
                history: true,
            });
            d += Duration::days(1);
        }
    }
    let mut d = first;
    while d <= last {
        let (ds, de) = (engine.day_start(d), engine.day_start(d + Duration::days(1)));
        // The whole day when its figures serve later days' history; else only the window part.
        let (s, e) = if engine.needs_history() {
            (ds, de)
        } else {
            (ds.max(from), de.min(to))
        };
        steps.push(Step {
            day: d,
            from: s,
            to: e,
            history: false,
        });
        d += Duration::days(1);
    }
    steps
}

/// Runs the engine over its window, calling `on_day` with each local day's
/// judged events (in `(occurred_at, event_id)` order) and flags. Returns the
/// number of events in the window. On a multi-threaded runtime the next day
/// is read while this one is judged on a second thread.
pub async fn run_days<'a, F>(
    src: &mut Source,
    set: &QuerySet,
    engine: &mut Engine<'a>,
    symbols: &mut Interner,
    keep: Symbols,
    mut on_day: F,
    mut progress: impl FnMut(NaiveDate),
) -> Result<u64, SourceError>
where
    F: FnMut(NaiveDate, Vec<JudgedEvent<'a>>, Vec<Flag>, &Interner) -> Result<(), String> + Send,
{
    let tz = engine.policy().timezone;
    let steps = plan(engine);
    if tokio::runtime::Handle::current().runtime_flavor()
        != tokio::runtime::RuntimeFlavor::MultiThread
    {
        let mut n = 0u64;
        for st in &steps {
            if !st.history {
                progress(st.day);
            }
            let evs = read_span(src, set, tz, st.from, st.to, symbols).await?;
            if st.history {
                engine.record_history(st.day, &evs, symbols);
            } else {
                let (judged, flags) = engine.judge_day(st.day, evs, symbols);
                n += judged.len() as u64;
                on_day(st.day, judged, flags, symbols).map_err(SourceError::new)?;
            }
            if keep == Symbols::PerDay {
                *symbols = Interner::default();
            }
        }
        return Ok(n);
    }
    let handle = tokio::runtime::Handle::current();
    let steps = &steps;
    tokio::task::block_in_place(move || {
        std::thread::scope(|scope| {
            let (tx, rx) =
                std::sync::mpsc::sync_channel::<(usize, Vec<AccessEvent>, Vec<Box<str>>)>(2);
            let per_day = keep == Symbols::PerDay;
            let mirror = &mut *symbols;
            let mut reader_syms = mirror.clone();
            let judge = scope.spawn(move || -> Result<u64, String> {
                let mut n = 0u64;
                for (k, evs, added) in rx {
                    mirror.extend_mirror(added);
                    let st = &steps[k];
                    if st.history {
                        engine.record_history(st.day, &evs, mirror);
                    } else {
                        let (judged, flags) = engine.judge_day(st.day, evs, mirror);
                        n += judged.len() as u64;
                        on_day(st.day, judged, flags, mirror)?;
                    }
                    if per_day {
                        *mirror = Interner::default();
                    }
                }
                Ok(n)
            });
            let read: Result<(), SourceError> = handle.block_on(async {
                let mut sent = reader_syms.len();
                for (k, st) in steps.iter().enumerate() {
                    if !st.history {
                        progress(st.day);
                    }
                    let evs = read_span(src, set, tz, st.from, st.to, &mut reader_syms).await?;
                    let added = reader_syms.strings_from(sent);
                    sent = reader_syms.len();
                    if per_day {
                        // The judge forgets the same way after this day.
                        reader_syms = Interner::default();
                        sent = 0;
                    }
                    if tx.send((k, evs, added)).is_err() {
                        break; // The judge stopped; its error says why.
                    }
                }
                Ok(())
            });
            drop(tx);
            let judged = judge
                .join()
                .map_err(|_| SourceError::new("internal error: the judging thread panicked"))?;
            read?;
            judged.map_err(SourceError::new)
        })
    })
}
