//! The binary side of keyhole: turns clap arguments into plain requests for
//! the library, owns output files (written beside the target and renamed),
//! the progress line on standard error and the exit statuses of CONTRACT
//! section 1. Errors are `anyhow` here and typed below.

pub mod auditor;
pub mod breach;
pub mod check;
pub mod dashboard;
pub mod demo;
pub mod explain;
pub mod init;
pub mod ledger;
pub mod log;
pub mod report;
pub mod review;
pub mod trail;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::cli::{FormatArg, GlobalOpts, SeverityArg, WindowArgs};
use keyhole::audit::{WindowError, WindowFlags};
use keyhole::config::{ConfigError, Overrides, Settings, data_dir};
use keyhole::dblog::LogSpec;
use keyhole::demo::{self as demo_db, DemoSettings};
use keyhole::policy::Policy;
use keyhole::report::Format;
use keyhole::rules::Severity;
use keyhole::source::queries::QuerySet;
use keyhole::source::{Dialect, Source, SourceOptions, parse_url};

/// A usage error: exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// The reader of standard output went away (`| head`): stop quietly.
#[derive(Debug, thiserror::Error)]
#[error("the reader of the output went away")]
pub struct Closed;

/// The exit status after the dashboard: 0, or 128 + the signal that ended
/// it (130 SIGINT, 143 SIGTERM, 129 SIGHUP), as a shell reports one.
pub fn signal_status(signal: Option<i32>) -> u8 {
    signal.map_or(0, |n| 128 + n as u8)
}

/// The exit status for an error: 2 for usage, 0 for a closed pipe, else 1.
pub fn exit_status(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<Closed>().is_some() {
        return 0;
    }
    let log_usage =
        |l: &keyhole::dblog::DbLogError| matches!(l, keyhole::dblog::DbLogError::Usage(_));
    let usage = e.downcast_ref::<Usage>().is_some()
        || e.downcast_ref::<keyhole::dblog::DbLogError>()
            .is_some_and(log_usage)
        || matches!(e.downcast_ref::<keyhole::audit::AuditError>(), Some(keyhole::audit::AuditError::Log(l)) if log_usage(l))
        || e.downcast_ref::<WindowError>().is_some()
        || matches!(e.downcast_ref::<ConfigError>(), Some(ConfigError::Usage(_)));
    if usage { 2 } else { 1 }
}

pub fn overrides(g: &GlobalOpts) -> Overrides {
    Overrides {
        config: g.config.clone(),
        db: g.db.clone(),
        queries: g.queries.clone(),
        policy: g.policy.clone(),
        ledger: g.ledger.clone(),
        no_color: g.no_color,
        audit_logs: g.audit_logs.clone(),
    }
}

pub fn window_flags(w: &WindowArgs) -> WindowFlags {
    WindowFlags {
        from: w.from.clone(),
        to: w.to.clone(),
        as_of: w.as_of.clone(),
    }
}

pub fn format_of(f: Option<FormatArg>) -> Format {
    match f.unwrap_or(FormatArg::Table) {
        FormatArg::Table => Format::Table,
        FormatArg::Json => Format::Json,
        FormatArg::Csv => Format::Csv,
        FormatArg::Md => Format::Md,
    }
}

pub fn severity(s: SeverityArg) -> Severity {
    match s {
        SeverityArg::Low => Severity::Low,
        SeverityArg::Medium => Severity::Medium,
        SeverityArg::High => Severity::High,
        SeverityArg::Critical => Severity::Critical,
    }
}

/// An RFC 3339 time as the ledger stores it.
pub fn instant(s: &str) -> anyhow::Result<keyhole::model::Instant> {
    Ok(chrono::DateTime::parse_from_rfc3339(s)?.to_utc())
}

pub fn default_demo_path() -> PathBuf {
    data_dir().join("demo.sqlite")
}

/// Whether standard error is a terminal, where progress lines go.
pub fn progress_enabled() -> bool {
    std::io::stderr().is_terminal()
}

/// A one-line step of a long task on standard error.
pub fn progress_line(enabled: bool) -> impl FnMut(String) {
    move |msg: String| {
        if enabled {
            eprintln!("  {msg}");
        }
    }
}

/// Shows the local day being read, overwriting the line.
pub fn show_day(d: chrono::NaiveDate) {
    eprint!("\r  reading {d}\x1b[K");
}

/// Clears the progress line.
pub fn clear_progress(enabled: bool) {
    if enabled {
        eprint!("\r\x1b[K");
    }
}

pub fn terminal_width() -> usize {
    if std::io::stdout().is_terminal()
        && let Ok((w, _)) = crossterm::terminal::size()
    {
        return w as usize;
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(120)
}

/// The database audit logs that the config's `[[audit_log]]` tables and
/// `--audit-log` name, checked (one file named twice is a usage error).
pub fn log_specs(g: &GlobalOpts) -> anyhow::Result<Vec<LogSpec>> {
    let settings = Settings::resolve(&overrides(g))?;
    let specs: Vec<LogSpec> = settings
        .audit_logs
        .iter()
        .map(|a| LogSpec {
            path: a.path.clone(),
            format: a
                .format
                .as_deref()
                .and_then(keyhole::dblog::Format::from_name),
            log_line_prefix: a.log_line_prefix.clone(),
            timezone: a.timezone,
        })
        .collect();
    keyhole::dblog::check_specs(&specs).map_err(|e| Usage(e.to_string()))?;
    Ok(specs)
}

/// Reads the directory and the audit logs; a log's records that could not
/// be read make one warning line on standard error.
pub async fn directory(
    src: &mut Source,
    set: &QuerySet,
    policy: &Policy,
    logs: &[LogSpec],
) -> anyhow::Result<keyhole::model::Directory> {
    let (dir, summaries) = keyhole::audit::load_directory(src, set, policy, logs).await?;
    for s in &summaries {
        if let Some(w) = s.warning() {
            eprintln!("keyhole: warning: {}", keyhole::sanitize::terminal(&w));
        }
    }
    Ok(dir)
}

const NO_POLICY: &str = "no policy: give --policy FILE or set policy in the config (the built-in policy is for the demo database only)";

/// Connects to the configured source (or the demo database when nothing
/// names one) and picks its query files and policy.
pub async fn open_source(g: &GlobalOpts) -> anyhow::Result<(Source, QuerySet, Policy)> {
    let settings = Settings::resolve(&overrides(g))?;
    let url = match &settings.url {
        Some(u) => u.clone(),
        None => {
            let path = default_demo_path();
            let s = DemoSettings {
                events: 200_000,
                seed: 1,
                anchor: demo_db::default_anchor(),
            };
            demo_db::ensure_sqlite(&path, &s, false, progress_line(progress_enabled())).await?;
            format!("sqlite://{}", path.display())
        }
    };
    let (dialect, _) = parse_url(&url).map_err(|e| Usage(e.to_string()))?;
    let policy = match &settings.policy {
        Some(p) => Some(Policy::load(p)?),
        None => None,
    };
    let queries = match &settings.queries {
        Some(dir) => QuerySet::from_dir(dir).map_err(|e| Usage(e.to_string()))?,
        None => QuerySet::builtin(dialect),
    };
    let opts = SourceOptions {
        url,
        password: settings.password.clone(),
        statement_timeout: settings.statement_timeout,
        connect_timeout: settings.connect_timeout,
    };
    if policy.is_none() && dialect != Dialect::Sqlite {
        return Err(Usage(NO_POLICY.into()).into());
    }
    let mut src = Source::connect(&opts).await?;
    let policy = match policy {
        Some(p) => p,
        None if src.is_demo().await => Policy::demo(),
        None => return Err(Usage(NO_POLICY.into()).into()),
    };
    tracing::info!(
        dialect = src.dialect.name(),
        database = %src.database,
        queries = %settings
            .queries
            .as_ref()
            .map_or_else(|| "built-in".to_string(), |d| d.display().to_string()),
        policy = %policy.origin,
        "source opened"
    );
    Ok((src, queries, policy))
}

/// Where a report goes: standard output, or a file written beside its
/// target and renamed into place only when the report is complete, so a
/// failed run leaves no half report.
pub struct Output {
    target: Option<PathBuf>,
    tmp: Option<PathBuf>,
    w: Option<std::io::BufWriter<Box<dyn Write + Send>>>,
}

impl Output {
    pub fn open(target: Option<&Path>) -> anyhow::Result<Output> {
        let (tmp, sink): (Option<PathBuf>, Box<dyn Write + Send>) = match target {
            Some(path) => {
                let tmp = path.with_extension("partial");
                // The user named the target, so the message names it too.
                let file = std::fs::File::create(&tmp)
                    .map_err(|e| anyhow::anyhow!("--output {}: {e}", path.display()))?;
                (Some(tmp), Box::new(file))
            }
            None => (None, Box::new(std::io::stdout())),
        };
        Ok(Output {
            target: target.map(Path::to_path_buf),
            tmp,
            w: Some(std::io::BufWriter::new(sink)),
        })
    }

    pub fn writer(&mut self) -> &mut (dyn Write + Send) {
        self.w.as_mut().expect("open until committed")
    }

    /// Flushes and, for a file, renames it into place.
    pub fn commit(mut self) -> anyhow::Result<()> {
        let mut w = self.w.take().expect("open until committed");
        let flushed = w.flush();
        drop(w);
        let tmp = self.tmp.take();
        match (flushed, tmp, &self.target) {
            (Err(e), Some(tmp), Some(path)) => {
                let _ = std::fs::remove_file(&tmp);
                anyhow::bail!("{}: {e}", path.display())
            }
            (Err(e), _, _) => Err(write_error(e)),
            (Ok(()), Some(tmp), Some(path)) => {
                std::fs::rename(&tmp, path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
            }
            (Ok(()), _, _) => Ok(()),
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // Not committed: leave nothing half written behind.
        if let Some(tmp) = self.tmp.take() {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Writes a command's text to stdout: a closed pipe (`| head`) stops the
/// command quietly, any other failure is one line.
pub fn say(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(write_error)
}

/// A failed write of the report: a closed pipe stops quietly.
pub fn write_error(e: std::io::Error) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return Closed.into();
    }
    anyhow::anyhow!("writing the report: {e}")
}

/// An audit's error: a write failure of the sink, or the source's error.
pub fn audit_error(e: keyhole::audit::AuditError) -> anyhow::Error {
    match e.io() {
        Some(io) => write_error(std::io::Error::new(io.kind(), io.to_string())),
        None => e.into(),
    }
}

/// Connects to the source a command names (`--db`, the config's `url` or
/// `DATABASE_URL`), for the commands that read a schema rather than query
/// files (`init`). Without one, a usage error.
pub async fn connect_named(g: &GlobalOpts, command: &str) -> anyhow::Result<(Source, Settings)> {
    let settings = Settings::resolve(&overrides(g))?;
    let Some(url) = settings.url.clone() else {
        return Err(Usage(format!("{command} needs a database: give --db URL")).into());
    };
    parse_url(&url).map_err(|e| Usage(e.to_string()))?;
    let opts = SourceOptions {
        url,
        password: settings.password.clone(),
        statement_timeout: settings.statement_timeout,
        connect_timeout: settings.connect_timeout,
    };
    Ok((Source::connect(&opts).await?, settings))
}
