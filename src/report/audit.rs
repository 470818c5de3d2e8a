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

/// Runs the engine over its window, calling `on_day` with each local day's
/// judged events (in `(occurred_at, event_id)` order) and flags. Returns the
/// number of events in the window.
pub async fn run_days<'a>(
    src: &mut Source,
    set: &QuerySet,
    engine: &mut Engine<'a>,
    symbols: &mut Interner,
    mut on_day: impl FnMut(NaiveDate, Vec<JudgedEvent<'a>>, Vec<Flag>, &Interner) -> Result<(), String>,
    mut progress: impl FnMut(NaiveDate),
) -> Result<u64, SourceError> {
    let tz = engine.policy().timezone;
    let (from, to) = (engine.from, engine.to);
    if from >= to {
        return Ok(0);
    }
    let first = engine.local_day(from);
    let last = engine.local_day(to - Duration::nanoseconds(1));
    if engine.needs_history() {
        let mut d = engine.history_start();
        while d < first {
            let evs = read_span(
                src,
                set,
                tz,
                engine.day_start(d),
                engine.day_start(d + Duration::days(1)),
                symbols,
            )
            .await?;
            engine.record_history(d, &evs, symbols);
            d += Duration::days(1);
        }
    }
    let mut n = 0u64;
    let mut d = first;
    while d <= last {
        progress(d);
        let (ds, de) = (engine.day_start(d), engine.day_start(d + Duration::days(1)));
        // The whole day when its figures serve later days' history; else only the window part.
        let (s, e) = if engine.needs_history() {
            (ds, de)
        } else {
            (ds.max(from), de.min(to))
        };
        let evs = read_span(src, set, tz, s, e, symbols).await?;
        let (judged, flags) = engine.judge_day(d, evs, symbols);
        n += judged.len() as u64;
        on_day(d, judged, flags, symbols).map_err(SourceError::new)?;
        d += Duration::days(1);
    }
    Ok(n)
}
