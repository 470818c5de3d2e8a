//! Dashboard benchmark: time to first frame, frame render time per view and
//! search keystroke-to-frame latency over a demo with a million events.
//! `cargo run --release --example tui_bench [EVENTS]`; figures go in the README.

use std::time::{Duration, Instant};

use keyhole::policy::Policy;
use keyhole::source::queries::QuerySet;
use keyhole::source::{Dialect, Source, SourceOptions};
use keyhole::tui::app::{Action, App, Tab};
use keyhole::tui::data::LoadEvent;
use keyhole::tui::{keys, render_to_string};

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let events: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join("keyhole-tui-bench");
    let path = dir.join(format!("demo-{events}.sqlite"));
    let anchor = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let s = keyhole::demo::DemoSettings {
        events,
        seed: 1,
        anchor,
    };
    keyhole::demo::ensure_sqlite(&path, &s, false, |_| {})
        .await
        .unwrap();
    let b = keys::defaults();

    let start = Instant::now();
    let opts = SourceOptions {
        url: format!("sqlite://{}", path.display()),
        password: None,
        statement_timeout: Duration::from_secs(30),
        connect_timeout: Duration::from_secs(10),
    };
    let src = Source::connect(&opts).await.unwrap();
    let policy = Policy::demo();
    let app = App::new(true);
    let _ = render_to_string(&app, &b, 160, 48);
    let first_frame = start.elapsed();

    let now: chrono::DateTime<chrono::Utc> =
        chrono::DateTime::parse_from_rfc3339("2026-11-24T05:00:00Z")
            .unwrap()
            .into();
    // The whole 90-day history, so every event of the demo is on screen.
    let window = keyhole::audit::AuditWindow {
        from: now - chrono::Duration::days(90),
        to: now,
        as_of: now,
    };
    let t = Instant::now();
    let (_src, d) = keyhole::tui::data::load(
        src,
        QuerySet::builtin(Dialect::Sqlite),
        policy,
        window,
        now,
        &std::sync::atomic::AtomicBool::new(false),
        |_| {},
    )
    .await;
    let load = t.elapsed();
    let d = std::sync::Arc::from(d.unwrap());
    let mut app = App::new(true);
    app.update(Action::Load(LoadEvent::Done(d)));
    let accesses = app.data.as_ref().unwrap().rows.len();
    {
        let d = app.data.as_ref().unwrap();
        eprintln!(
            "DIAG rows={} rowsz={} flags={} syms={} evids={}",
            d.rows.len(),
            std::mem::size_of::<keyhole::tui::data::AccessRow>(),
            d.flags.len(),
            d.symbols.len(),
            d.flags.iter().map(|f| f.event_ids.len()).sum::<usize>()
        );
    }

    let mut frames = Vec::new();
    for (i, _) in Tab::ALL.iter().enumerate() {
        app.update(Action::GoTab(i));
        if Tab::ALL[i] == Tab::Subjects {
            app.show_subject("15000".into());
        }
        for k in 0..60 {
            app.update(if k % 2 == 0 {
                Action::Down
            } else {
                Action::PageDown
            });
            let t = Instant::now();
            let _ = render_to_string(&app, &b, 160, 48);
            frames.push(t.elapsed());
        }
    }

    app.update(Action::GoTab(0));
    let mut keystrokes = Vec::new();
    for q in ["kenji", "10450", "CS-7123", "vip"] {
        app.update(Action::Search);
        for c in q.chars() {
            let t = Instant::now();
            app.update(Action::Input(c));
            let _ = render_to_string(&app, &b, 160, 48);
            keystrokes.push(t.elapsed());
        }
        app.update(Action::Back);
    }
    println!("accesses on screen        {accesses}");
    println!(
        "time to first frame       {:.1} ms",
        first_frame.as_secs_f64() * 1e3
    );
    println!("load and judge            {:.2} s", load.as_secs_f64());
    println!(
        "frame render median       {:.2} ms",
        pct(&mut frames, 0.5).as_secs_f64() * 1e3
    );
    println!(
        "frame render p99          {:.2} ms",
        pct(&mut frames, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "search keystroke median   {:.1} ms",
        pct(&mut keystrokes, 0.5).as_secs_f64() * 1e3
    );
    println!(
        "search keystroke p99      {:.1} ms",
        pct(&mut keystrokes, 0.99).as_secs_f64() * 1e3
    );
}
