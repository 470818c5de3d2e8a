//! `keyhole demo`: builds (or reuses) the demo database, prints what it
//! holds, optionally loads it into a server, then opens the dashboard.

use std::path::Path;

use keyhole::config::Settings;
use keyhole::demo::{self, DemoSettings, Outcome};

use std::io::Write;

use super::{Usage, progress_enabled, progress_line, write_error};
use crate::cli::{DemoArgs, GlobalOpts};

pub async fn command(g: &GlobalOpts, args: DemoArgs) -> anyhow::Result<u8> {
    let anchor = match &args.anchor {
        Some(a) => chrono::NaiveDate::parse_from_str(a.trim(), "%Y-%m-%d")
            .map_err(|_| Usage(format!("--anchor {a:?}: expected a date like 2026-11-24")))?,
        None => demo::default_anchor(),
    };
    if args.events == 0 {
        return Err(Usage("--events must be at least 1".into()).into());
    }
    let s = DemoSettings {
        events: args.events,
        seed: args.seed,
        anchor,
    };
    let path = args.path.clone().unwrap_or_else(super::default_demo_path);
    // Written through a handle so that `| head` ends quietly instead of panicking.
    let mut out = std::io::stdout().lock();
    let tty = progress_enabled();
    let started = std::time::Instant::now();
    let outcome = demo::ensure_sqlite(&path, &s, args.force, progress_line(tty)).await?;
    let verb = match outcome {
        Outcome::Built(_) => format!("built in {:.1} s", started.elapsed().as_secs_f64()),
        Outcome::Reused => "already up to date".to_string(),
    };
    writeln!(out, "demo database: {} ({verb})", path.display()).map_err(write_error)?;
    writeln!(
        out,
        "  seed {}, {} events, history ends {} (America/New_York)",
        s.seed, s.events, s.anchor
    )
    .map_err(write_error)?;
    for (table, n) in count_rows(&path).await? {
        writeln!(out, "  {table:<24} {n:>9}").map_err(write_error)?;
    }
    writeln!(out, "  try: keyhole check --db sqlite://{}", path.display()).map_err(write_error)?;
    if let Some(url) = &args.load_into {
        let o = keyhole::config::Overrides {
            db: Some(url.clone()),
            ..super::overrides(g)
        };
        let settings = Settings::resolve(&o)?;
        let counts =
            demo::load_into(url, settings.password.as_deref(), &s, progress_line(tty)).await?;
        writeln!(out, "loaded into {}:", keyhole::secrets::redact_url(url)).map_err(write_error)?;
        for (table, n) in counts.0 {
            writeln!(out, "  {table:<24} {n:>9}").map_err(write_error)?;
        }
    }
    drop(out);
    if !args.no_tui {
        let g = GlobalOpts {
            db: Some(format!("sqlite://{}", path.display())),
            ..g.clone()
        };
        return super::dashboard::command(&g, &args.window).await;
    }
    Ok(0)
}

/// Rows per demo table, read from the file just built.
async fn count_rows(path: &Path) -> anyhow::Result<Vec<(&'static str, i64)>> {
    use sqlx::{AssertSqlSafe, ConnectOptions};
    let o = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .disable_statement_logging();
    let fail = |e: sqlx::Error| anyhow::anyhow!("{}: {e}", path.display());
    let mut c = o.connect().await.map_err(fail)?;
    let mut out = Vec::new();
    for t in demo::schema::ALL {
        if t.name.starts_with("keyhole_") {
            continue;
        }
        // Table names are our own constants, not user input.
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {}", t.name)))
            .fetch_one(&mut c)
            .await
            .map_err(fail)?;
        out.push((t.name, n));
    }
    Ok(out)
}
