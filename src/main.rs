//! The `keyhole` binary: parses the command line, installs the panic hook,
//! dispatches, and turns every error into one line on stderr with the exit
//! status of CONTRACT section 1.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use keyhole::cli::{Cli, Command, DemoArgs};
use keyhole::config::{ConfigError, Settings, data_dir};
use keyhole::demo::{self, DemoSettings, Outcome};
use keyhole::policy::Policy;
use keyhole::secrets;
use keyhole::source::queries::QuerySet;
use keyhole::source::{Source, SourceOptions, parse_url};

/// A failure with its exit status: 2 for usage, 1 for everything else.
enum Failure {
    Usage(String),
    Runtime(String),
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        match e {
            ConfigError::Usage(m) => Failure::Usage(m),
            ConfigError::Runtime(m) => Failure::Runtime(m),
        }
    }
}

fn main() -> ExitCode {
    install_panic_hook();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("keyhole: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(Failure::Usage(m)) => {
            eprintln!("keyhole: {}", secrets::redact(&m));
            ExitCode::from(2)
        }
        Err(Failure::Runtime(m)) => {
            eprintln!("keyhole: {}", secrets::redact(&m));
            ExitCode::from(1)
        }
    }
}

fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::env::var_os("RUST_BACKTRACE").is_some() {
            default(info);
        } else {
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            eprintln!(
                "keyhole: internal error: {}{at} (set RUST_BACKTRACE=1 for details)",
                secrets::redact(&msg)
            );
        }
    }));
}

async fn dispatch(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Some(Command::Demo(args)) => demo_command(&cli.global, args).await,
        Some(Command::Check) => check_command(&cli.global).await,
        Some(Command::Report(args)) => report_command(&cli.global, &args).await,
        Some(Command::Breach(args)) => breach_command(&cli.global, &args).await,
        None => dashboard(&cli.global).await,
    }
}

fn default_demo_path() -> PathBuf {
    data_dir().join("demo.sqlite")
}

fn progress_line(enabled: bool) -> impl FnMut(String) {
    move |msg: String| {
        if enabled {
            eprintln!("  {msg}");
        }
    }
}

async fn demo_command(g: &keyhole::cli::GlobalOpts, args: DemoArgs) -> Result<ExitCode, Failure> {
    let anchor = match &args.anchor {
        Some(a) => chrono::NaiveDate::parse_from_str(a.trim(), "%Y-%m-%d").map_err(|_| {
            Failure::Usage(format!("--anchor {a:?}: expected a date like 2026-11-24"))
        })?,
        None => demo::default_anchor(),
    };
    if args.events == 0 {
        return Err(Failure::Usage("--events must be at least 1".into()));
    }
    let s = DemoSettings {
        events: args.events,
        seed: args.seed,
        anchor,
    };
    let path = args.path.clone().unwrap_or_else(default_demo_path);
    let tty = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let outcome = demo::ensure_sqlite(&path, &s, args.force, progress_line(tty))
        .await
        .map_err(Failure::Runtime)?;
    let verb = match outcome {
        Outcome::Built(_) => format!("built in {:.1} s", started.elapsed().as_secs_f64()),
        Outcome::Reused => "already up to date".to_string(),
    };
    println!("demo database: {} ({verb})", path.display());
    println!(
        "  seed {}, {} events, history ends {} (America/New_York)",
        s.seed, s.events, s.anchor
    );
    for (table, n) in count_rows(&path).await.map_err(Failure::Runtime)? {
        println!("  {table:<24} {n:>9}");
    }
    println!("  try: keyhole check --db sqlite://{}", path.display());
    if let Some(url) = &args.load_into {
        let settings = Settings::resolve(&keyhole::cli::GlobalOpts {
            db: Some(url.clone()),
            ..g.clone()
        })?;
        let counts = demo::load_into(url, settings.password.as_deref(), &s, progress_line(tty))
            .await
            .map_err(Failure::Runtime)?;
        println!("loaded into {}:", secrets::redact_url(url));
        for (table, n) in counts.0 {
            println!("  {table:<24} {n:>9}");
        }
    }
    if !args.no_tui {
        let g = keyhole::cli::GlobalOpts {
            db: Some(format!("sqlite://{}", path.display())),
            ..g.clone()
        };
        return dashboard(&g).await;
    }
    Ok(ExitCode::SUCCESS)
}

async fn count_rows(path: &Path) -> Result<Vec<(&'static str, i64)>, String> {
    use sqlx::{AssertSqlSafe, ConnectOptions};
    let o = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .disable_statement_logging();
    let mut c = o
        .connect()
        .await
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for t in demo::schema::ALL {
        if t.name.starts_with("keyhole_") {
            continue;
        }
        // Table names are our own constants, not user input.
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {}", t.name)))
            .fetch_one(&mut c)
            .await
            .map_err(|e| format!("{}: {e}", path.display()))?;
        out.push((t.name, n));
    }
    Ok(out)
}

/// Connects to the configured source (or the demo database when nothing
/// names one) and picks its query files and policy.
async fn open_source(g: &keyhole::cli::GlobalOpts) -> Result<(Source, QuerySet, Policy), Failure> {
    let settings = Settings::resolve(g)?;
    let url = match &settings.url {
        Some(u) => u.clone(),
        None => {
            let path = default_demo_path();
            let s = DemoSettings {
                events: 200_000,
                seed: 1,
                anchor: demo::default_anchor(),
            };
            let tty = std::io::stderr().is_terminal();
            demo::ensure_sqlite(&path, &s, false, progress_line(tty))
                .await
                .map_err(Failure::Runtime)?;
            format!("sqlite://{}", path.display())
        }
    };
    let (dialect, _) = parse_url(&url).map_err(Failure::Usage)?;
    let policy = match &settings.policy {
        Some(p) => Some(Policy::load(p)?),
        None => None,
    };
    let queries = match &settings.queries {
        Some(dir) => QuerySet::from_dir(dir).map_err(Failure::Usage)?,
        None => QuerySet::builtin(dialect),
    };
    let opts = SourceOptions {
        url,
        password: settings.password.clone(),
        statement_timeout: settings.statement_timeout,
        connect_timeout: settings.connect_timeout,
    };
    if policy.is_none() && dialect != keyhole::source::Dialect::Sqlite {
        return Err(Failure::Usage(
            "no policy: give --policy FILE or set policy in the config (the built-in policy is for the demo database only)".into(),
        ));
    }
    let mut src = Source::connect(&opts)
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    let policy = match policy {
        Some(p) => p,
        None if src.is_demo().await => Policy::demo(),
        None => {
            return Err(Failure::Usage(
                "no policy: give --policy FILE or set policy in the config (the built-in policy is for the demo database only)".into(),
            ));
        }
    };
    Ok((src, queries, policy))
}

async fn check_command(g: &keyhole::cli::GlobalOpts) -> Result<ExitCode, Failure> {
    let (mut src, queries, policy) = open_source(g).await?;
    let tty = std::io::stderr().is_terminal();
    let now = chrono::Utc::now();
    let report = keyhole::check::run(&mut src, &queries, &policy, now, |n| {
        if tty {
            eprint!("\r  reading access events: {n} rows\x1b[K");
        }
    })
    .await;
    if tty {
        eprint!("\r\x1b[K");
    }
    src.close().await;
    print!("{}", report.render());
    Ok(if report.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn terminal_width() -> usize {
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

async fn report_command(
    g: &keyhole::cli::GlobalOpts,
    args: &keyhole::cli::ReportArgs,
) -> Result<ExitCode, Failure> {
    use keyhole::report::command::{Inputs, ReportError, run};
    let (mut src, queries, policy) = open_source(g).await?;
    let now = chrono::Utc::now();
    let progress = std::io::stderr().is_terminal();
    let inputs = Inputs {
        src: &mut src,
        set: &queries,
        policy: &policy,
        now,
        width: terminal_width(),
        progress,
    };
    let result = match &args.output {
        Some(path) => {
            // Written beside the target and renamed, so a failed run leaves no half report.
            let tmp = path.with_extension("partial");
            let file = std::fs::File::create(&tmp)
                .map_err(|e| Failure::Runtime(format!("{}: {e}", tmp.display())))?;
            let mut w = std::io::BufWriter::new(file);
            let r = run(inputs, args, &mut w).await;
            let flushed = std::io::Write::flush(&mut w);
            drop(w);
            match (&r, flushed) {
                (Ok(_), Ok(())) => std::fs::rename(&tmp, path)
                    .map_err(|e| Failure::Runtime(format!("{}: {e}", path.display())))?,
                (_, Err(e)) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(Failure::Runtime(format!("{}: {e}", path.display())));
                }
                _ => {
                    let _ = std::fs::remove_file(&tmp);
                }
            }
            r
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout);
            let r = run(inputs, args, &mut w).await;
            match (r, std::io::Write::flush(&mut w)) {
                (Ok(code), Err(e)) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    let _ = code;
                    Err(ReportError::Runtime(format!("writing the report: {e}")))
                }
                (r, _) => r,
            }
        }
    };
    if progress {
        eprint!("\r\x1b[K");
    }
    src.close().await;
    match result {
        Ok(code) => Ok(ExitCode::from(code)),
        Err(ReportError::Usage(m)) => Err(Failure::Usage(m)),
        Err(ReportError::Runtime(m)) => Err(Failure::Runtime(m)),
        Err(ReportError::Closed) => Ok(ExitCode::SUCCESS),
    }
}

async fn dashboard(g: &keyhole::cli::GlobalOpts) -> Result<ExitCode, Failure> {
    if !std::io::stdout().is_terminal() {
        return Err(Failure::Usage(
            "the dashboard needs a terminal; use `keyhole report …` for output to a file or a pipe"
                .into(),
        ));
    }
    let settings = Settings::resolve(g)?;
    let bindings =
        keyhole::tui::keys::with_overrides(keyhole::tui::keys::defaults(), &settings.keys)
            .map_err(Failure::Usage)?;
    let (source, queries, policy) = open_source(g).await?;
    let now = chrono::Utc::now();
    let color = !settings.no_color && crossterm::style::available_color_count() >= 8;
    let launch = keyhole::tui::Launch {
        source,
        queries,
        window: keyhole::tui::default_window(&policy, now),
        policy,
        now,
        color,
        bindings,
        export_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        reveal_log: data_dir().join("reveals.log"),
        display_timezone: settings.display_timezone,
    };
    keyhole::tui::run(launch).await.map_err(Failure::Runtime)?;
    Ok(ExitCode::SUCCESS)
}

async fn breach_command(
    g: &keyhole::cli::GlobalOpts,
    args: &keyhole::cli::BreachArgs,
) -> Result<ExitCode, Failure> {
    use keyhole::report::command::{Inputs, ReportError, breach};
    let (mut src, queries, policy) = open_source(g).await?;
    let progress = std::io::stderr().is_terminal();
    let inputs = Inputs {
        src: &mut src,
        set: &queries,
        policy: &policy,
        now: chrono::Utc::now(),
        width: terminal_width(),
        progress,
    };
    let mut buf: Vec<u8> = Vec::new();
    let result = breach(inputs, args, &mut buf).await;
    if progress {
        eprint!("\r\x1b[K");
    }
    src.close().await;
    match result {
        Ok(_) => {
            match &args.output {
                Some(path) => std::fs::write(path, &buf)
                    .map_err(|e| Failure::Runtime(format!("{}: {e}", path.display())))?,
                None => {
                    let mut out = std::io::stdout().lock();
                    if let Err(e) = std::io::Write::write_all(&mut out, &buf)
                        .and_then(|_| std::io::Write::flush(&mut out))
                        && e.kind() != std::io::ErrorKind::BrokenPipe
                    {
                        return Err(Failure::Runtime(format!("writing the report: {e}")));
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ReportError::Usage(m)) => Err(Failure::Usage(m)),
        Err(ReportError::Runtime(m)) => Err(Failure::Runtime(m)),
        Err(ReportError::Closed) => Ok(ExitCode::SUCCESS),
    }
}
