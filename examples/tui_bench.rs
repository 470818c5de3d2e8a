//! Dashboard benchmark: time to the first frame and to the first progress,
//! load, memory, frame render time per view, filter and search keystroke
//! latency.
//!
//!   cargo run --release --example tui_bench [EVENTS]
//!       a demo with EVENTS events (default a million), its whole history;
//!   cargo run --release --example tui_bench -- --db URL --from DATE --to DATE
//!       any source in the demo's schema over the local days given, as
//!       `bench/tui.sh` runs it on the scale benchmark's data.
//!
//! Figures go in the README.

use std::time::{Duration, Instant};

use keyhole::policy::Policy;
use keyhole::source::queries::QuerySet;
use keyhole::source::{Source, SourceOptions};
use keyhole::tui::app::{Action, App, Tab};
use keyhole::tui::data::LoadEvent;
use keyhole::tui::tabs::access::{AccessTab, Filter};
use keyhole::tui::{keys, render_to_string};

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Peak and current resident memory of this process, in MB.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            / 1024
    };
    (kb("VmHWM:"), kb("VmRSS:"))
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let policy = Policy::demo();
    let tz = policy.timezone;
    let day = |s: String| chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").expect("a date");
    let (url, window) = match arg("--db") {
        Some(url) => {
            let from = keyhole::time::local_day_start(day(arg("--from").expect("--from")), tz);
            let to = keyhole::time::local_day_start(day(arg("--to").expect("--to")), tz);
            let w = keyhole::audit::AuditWindow {
                from,
                to,
                as_of: to,
            };
            (url, w)
        }
        None => {
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
            let now: chrono::DateTime<chrono::Utc> =
                chrono::DateTime::parse_from_rfc3339("2026-11-24T05:00:00Z")
                    .unwrap()
                    .into();
            // The whole 90-day history, so every event of the demo is on screen.
            let w = keyhole::audit::AuditWindow {
                from: now - chrono::Duration::days(90),
                to: now,
                as_of: now,
            };
            (format!("sqlite://{}", path.display()), w)
        }
    };
    let b = keys::defaults();

    let start = Instant::now();
    let opts = SourceOptions {
        url: url.clone(),
        password: None,
        statement_timeout: Duration::from_secs(600),
        connect_timeout: Duration::from_secs(10),
    };
    let app = App::new(true);
    let _ = render_to_string(&app, &b, 160, 48);
    let first_frame = start.elapsed();
    let src = Source::connect(&opts).await.unwrap();
    let set = QuerySet::builtin(src.dialect);

    let t = Instant::now();
    let first_day = std::sync::OnceLock::new();
    let (_src, d) = keyhole::tui::data::load(
        src,
        keyhole::tui::data::Inputs {
            queries: set,
            logs: Vec::new(),
        },
        policy,
        window,
        window.as_of,
        &std::sync::atomic::AtomicBool::new(false),
        |ev| {
            if let LoadEvent::Day { .. } = ev {
                let _ = first_day.set(t.elapsed());
            }
        },
    )
    .await;
    let load = t.elapsed();
    let d: std::sync::Arc<keyhole::tui::data::Dataset> = std::sync::Arc::from(d.unwrap());
    let (peak_after_load, _) = memory();
    let t = Instant::now();
    let mut app = App::new(true);
    app.update(Action::Load(LoadEvent::Done(d.clone())));
    let done = t.elapsed();
    let accesses = d.rows.len();

    let mut frames = Vec::new();
    for (i, _) in Tab::ALL.iter().enumerate() {
        app.update(Action::GoTab(i));
        if Tab::ALL[i] == Tab::Subjects {
            let busiest = d
                .rows
                .subject(d.rows.len() / 2)
                .map(|s| d.symbols.resolve(s).to_string())
                .unwrap_or_default();
            app.show_subject(busiest);
        }
        let mut worst = Duration::ZERO;
        for k in 0..60 {
            app.update(if k % 2 == 0 {
                Action::Down
            } else {
                Action::PageDown
            });
            let t = Instant::now();
            let _ = render_to_string(&app, &b, 160, 48);
            frames.push(t.elapsed());
            worst = worst.max(t.elapsed());
            if std::env::var_os("KEYHOLE_BENCH_FRAMES").is_some() {
                eprintln!("    {:?} frame {k}: {:.2} ms", Tab::ALL[i], ms(t.elapsed()));
            }
        }
        if std::env::var_os("KEYHOLE_BENCH_VERBOSE").is_some() {
            eprintln!("  {:?}: worst frame {:.2} ms", Tab::ALL[i], ms(worst));
        }
    }

    // Filters: each is one Enter in the filter bar.
    let staff = d.symbols.resolve(d.rows.staff(accesses / 3)).to_string();
    let subject = d
        .rows
        .subject(accesses / 3)
        .map(|s| d.symbols.resolve(s).to_string())
        .unwrap_or_default();
    let mut filters = Vec::new();
    let mut filter_lines = Vec::new();
    for text in [
        format!("staff:{staff}"),
        format!("subject:{subject}"),
        "rule:no_relationship".to_string(),
        "flagged:yes".to_string(),
        "category:payment".to_string(),
        "purpose:marketing since:2026-10-01".to_string(),
        format!("staff:{staff} flagged:yes"),
        String::new(),
    ] {
        let mut tab = AccessTab {
            filter: Filter::parse(&text).unwrap(),
            ..AccessTab::default()
        };
        let t = Instant::now();
        tab.apply(&d);
        let e = t.elapsed();
        filters.push(e);
        filter_lines.push(format!(
            "  {:<40} {:>9} rows {:>7.1} ms",
            if text.is_empty() { "(none)" } else { &text },
            tab.view.len(),
            ms(e)
        ));
    }

    app.update(Action::GoTab(0));
    let mut keystrokes = Vec::new();
    let name_part = d
        .dir
        .subjects
        .get(d.dir.subjects.len() / 2)
        .map(|s| s.display_name().chars().take(5).collect::<String>())
        .unwrap_or_default();
    for q in [name_part.as_str(), "10450", "CS-7123", "vip"] {
        app.update(Action::Search);
        for c in q.chars() {
            let t = Instant::now();
            app.update(Action::Input(c));
            let _ = render_to_string(&app, &b, 160, 48);
            keystrokes.push(t.elapsed());
            if std::env::var_os("KEYHOLE_BENCH_VERBOSE").is_some() {
                eprintln!(
                    "  search {:<12} {:>8} matched {:>7.1} ms",
                    format!("{:?}", app.search.text),
                    app.search.last.as_ref().map_or(0, |l| l.matched.len()),
                    ms(t.elapsed())
                );
            }
        }
        app.update(Action::Back);
    }
    // A whole query typed faster than ranking: each keystroke's ranking
    // stops for the next, and the last runs over everything.
    let mut typed = Vec::new();
    for q in [name_part.as_str(), "10450", "CS-7123", "vip"] {
        let t = Instant::now();
        let _ = keyhole::tui::overlays::search::rank(&d, q, None, &|| false);
        typed.push(t.elapsed());
        if std::env::var_os("KEYHOLE_BENCH_VERBOSE").is_some() {
            eprintln!("  whole query {q:<12} {:>7.1} ms", ms(t.elapsed()));
        }
    }
    let (peak, rss) = memory();
    println!(
        "source                    {}",
        keyhole::secrets::redact_url(&url)
    );
    println!("accesses on screen        {accesses}");
    println!(
        "subjects, staff           {}, {}",
        d.dir.subjects.len(),
        d.dir.staff.len()
    );
    println!("time to first frame       {:.1} ms", ms(first_frame));
    println!(
        "first day judged          {:.0} ms (a loading line names the file and rows read before it)",
        first_day.get().copied().map_or(f64::NAN, ms)
    );
    println!("load and judge            {:.2} s", load.as_secs_f64());
    println!("hand-over to the screen   {:.0} ms", ms(done));
    println!(
        "access columns            {} MB ({:.1} bytes per access)",
        d.rows.bytes() >> 20,
        d.rows.bytes() as f64 / accesses.max(1) as f64
    );
    println!("peak RSS after load       {peak_after_load} MB");
    println!("peak RSS, end             {peak} MB (now {rss} MB)");
    println!(
        "frame render median       {:.2} ms",
        ms(pct(&mut frames, 0.5))
    );
    println!(
        "frame render p99          {:.2} ms",
        ms(pct(&mut frames, 0.99))
    );
    println!(
        "filter (Enter) median     {:.1} ms",
        ms(pct(&mut filters, 0.5))
    );
    println!(
        "filter (Enter) worst      {:.1} ms",
        ms(pct(&mut filters, 1.0))
    );
    for l in filter_lines {
        println!("{l}");
    }
    println!(
        "search keystroke median   {:.1} ms",
        ms(pct(&mut keystrokes, 0.5))
    );
    println!(
        "search keystroke p99      {:.1} ms",
        ms(pct(&mut keystrokes, 0.99))
    );
    println!(
        "search, a whole query     {:.1} ms median, {:.1} ms worst (typed faster than ranking)",
        ms(pct(&mut typed, 0.5)),
        ms(pct(&mut typed, 1.0))
    );
}
