//! The one audit pipeline, driven directly: days arrive in order, a sink
//! can stop it, its errors come back, a stop flag cancels it between reads,
//! and a filtered read in 30-day spans judges exactly what a daily read
//! judges.

mod common;

use std::sync::atomic::AtomicBool;

use chrono::NaiveDate;
use keyhole::audit::{self, AuditError, Day, Finish, Plan, Sink, SinkError, Symbols};
use keyhole::model::{AccessEvent, Directory, Interner};
use keyhole::policy::Policy;
use keyhole::rules::Engine;
use keyhole::source::Source;
use keyhole::source::queries::QuerySet;

fn t(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().into()
}

async fn demo(dir: &std::path::Path) -> (Source, QuerySet, Directory, Policy) {
    let path = dir.join("demo.sqlite");
    let s = keyhole::demo::DemoSettings {
        events: 4000,
        seed: 3,
        anchor: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
    };
    keyhole::demo::ensure_sqlite(&path, &s, false, |_| {})
        .await
        .unwrap();
    let mut src = Source::connect(&common::source_options(&format!(
        "sqlite://{}",
        path.display()
    )))
    .await
    .unwrap();
    let set = QuerySet::builtin(keyhole::source::Dialect::Sqlite);
    let policy = Policy::demo();
    let (dir, _) = audit::load_directory(&mut src, &set, &policy, &[])
        .await
        .unwrap();
    (src, set, dir, policy)
}

/// Records what it is given; stops after `stop_after` days if set.
#[derive(Default)]
struct Recorder {
    days: Vec<NaiveDate>,
    events: Vec<(String, Vec<&'static str>)>,
    stop_after: Option<usize>,
    finished_with: Option<(u64, usize)>,
}

impl<'a> Sink<'a> for Recorder {
    fn day(&mut self, day: Day<'a, '_>) -> Result<bool, SinkError> {
        self.days.push(day.date);
        for j in &day.judged {
            let rules = j.rules().iter().map(|r| r.name()).collect();
            self.events.push((j.event.event_id.to_string(), rules));
        }
        Ok(self.stop_after.is_none_or(|n| self.days.len() < n))
    }
    fn finish(&mut self, end: Finish<'_, 'a>) -> Result<(), SinkError> {
        self.finished_with = Some((end.events, end.symbols.len()));
        Ok(())
    }
}

const FROM: &str = "2026-10-02T04:00:00Z";
const TO: &str = "2026-11-01T04:00:00Z";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn days_arrive_in_order_then_finish_counts_every_access() {
    let dir = tempfile::tempdir().unwrap();
    let (mut src, set, d, policy) = demo(dir.path()).await;
    let mut engine = Engine::new(&policy, &d, t(FROM), t(TO), t(TO));
    let mut rec = Recorder::default();
    let plan = Plan {
        symbols: Symbols::Keep,
        ..Plan::default()
    };
    let n = audit::run(&mut src, &set, &mut engine, &plan, &mut rec)
        .await
        .unwrap();
    assert_eq!(rec.days.len(), 30, "one call per local day of the window");
    assert!(
        rec.days
            .windows(2)
            .all(|w| w[1] == w[0].succ_opt().unwrap())
    );
    assert_eq!(n as usize, rec.events.len());
    let (events, symbols) = rec.finished_with.unwrap();
    assert_eq!(events, n);
    assert!(symbols > 0, "kept symbols reach finish");
    src.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_that_says_stop_ends_the_reading() {
    let dir = tempfile::tempdir().unwrap();
    let (mut src, set, d, policy) = demo(dir.path()).await;
    let mut engine = Engine::new(&policy, &d, t(FROM), t(TO), t(TO));
    let mut rec = Recorder {
        stop_after: Some(3),
        ..Default::default()
    };
    audit::run(&mut src, &set, &mut engine, &Plan::default(), &mut rec)
        .await
        .unwrap();
    assert_eq!(rec.days.len(), 3);
    assert_eq!(
        rec.finished_with.unwrap().1,
        0,
        "per-day symbols are not kept"
    );
    src.close().await;
}

struct Failing;

impl<'a> Sink<'a> for Failing {
    fn day(&mut self, _: Day<'a, '_>) -> Result<bool, SinkError> {
        Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "closed").into())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_error_comes_back_as_itself() {
    let dir = tempfile::tempdir().unwrap();
    let (mut src, set, d, policy) = demo(dir.path()).await;
    let mut engine = Engine::new(&policy, &d, t(FROM), t(TO), t(TO));
    let e = audit::run(&mut src, &set, &mut engine, &Plan::default(), &mut Failing)
        .await
        .unwrap_err();
    assert_eq!(
        e.io().map(std::io::Error::kind),
        Some(std::io::ErrorKind::BrokenPipe)
    );
    src.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_raised_stop_flag_cancels_before_the_next_read() {
    let dir = tempfile::tempdir().unwrap();
    let (mut src, set, d, policy) = demo(dir.path()).await;
    let mut engine = Engine::new(&policy, &d, t(FROM), t(TO), t(TO));
    let stop = AtomicBool::new(true);
    let mut rec = Recorder::default();
    let plan = Plan {
        stop: Some(&stop),
        ..Plan::default()
    };
    let e = audit::run(&mut src, &set, &mut engine, &plan, &mut rec)
        .await
        .unwrap_err();
    assert!(matches!(e, AuditError::Cancelled), "{e}");
    assert!(rec.days.is_empty() && rec.finished_with.is_none());
    src.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_read_in_spans_judges_what_a_daily_read_judges() {
    let dir = tempfile::tempdir().unwrap();
    let (mut src, set, d, policy) = demo(dir.path()).await;
    let staff = "104";
    let only = |ev: &AccessEvent, syms: &Interner| syms.resolve(ev.staff) == staff;
    let mut runs = Vec::new();
    for span_days in [1, 30, 7] {
        let mut engine = Engine::new(&policy, &d, t(FROM), t(TO), t(TO));
        let mut rec = Recorder::default();
        let plan = Plan {
            history: false,
            span_days,
            only: Some(&only),
            ..Plan::default()
        };
        audit::run(&mut src, &set, &mut engine, &plan, &mut rec)
            .await
            .unwrap();
        assert_eq!(rec.days.len(), 30, "every local day, span {span_days}");
        runs.push(rec.events);
    }
    assert!(!runs[0].is_empty(), "staff 104 has accesses in the demo");
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0], runs[2]);
    src.close().await;
}
