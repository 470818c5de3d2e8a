//! The `keyhole` binary: parses the command line, installs the panic hook
//! and the log, dispatches to [`cmd`], and turns every error into one line
//! on stderr with the exit status of CONTRACT section 1 (details go to the
//! log file).

mod cli;
mod cmd;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    tune_allocator();
    install_panic_hook();
    let cli = Cli::parse();
    cmd::log::init();
    // A test-only way to prove the panic path: one line on stderr, the report in the log.
    if std::env::var_os("KEYHOLE_TEST_PANIC").is_some_and(|v| v != "dashboard") {
        panic!("forced for a test");
    }
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
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let code = cmd::exit_status(&e);
            if code != 0 {
                cmd::log::error(&e);
                eprintln!("keyhole: {}", keyhole::secrets::redact(&e.to_string()));
            }
            ExitCode::from(code)
        }
    }
}

/// Fixes glibc's heap settings so that a long session of reloads keeps a
/// steady footprint. Left to itself, glibc raises its mmap threshold each
/// time a large block is freed, so the next load's big vectors land inside
/// the heap, where what is freed around them cannot be returned; and each
/// thread that allocates may get an arena of its own. A fixed threshold
/// gives every large block its own mapping, returned whole when it is
/// freed, and two arenas serve the runtime's few threads. Elsewhere this
/// does nothing.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const M_TRIM_THRESHOLD: std::ffi::c_int = -1;
        const M_MMAP_THRESHOLD: std::ffi::c_int = -3;
        const M_ARENA_MAX: std::ffi::c_int = -8;
        unsafe extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        // SAFETY: mallopt only changes glibc's own tunables; it is called
        // first thing in main, before any other thread exists.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 256 * 1024);
            mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
            mallopt(M_ARENA_MAX, 2);
        }
    }
}

/// One line on stderr (a backtrace only with `RUST_BACKTRACE`), and the
/// whole report in the log file.
fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
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
        let backtrace = std::backtrace::Backtrace::force_capture();
        tracing::error!(
            panic = %keyhole::secrets::redact(&msg),
            location = %at.trim(),
            backtrace = %backtrace,
            "internal error"
        );
        if std::env::var_os("RUST_BACKTRACE").is_some() {
            default(info);
        } else {
            eprintln!(
                "keyhole: internal error: {}{at} (details in {}; set RUST_BACKTRACE=1 for a backtrace)",
                keyhole::secrets::redact(&msg),
                cmd::log::path().display()
            );
        }
    }));
}

async fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    tracing::info!(command = ?cli.command.as_ref().map(command_name), "keyhole started");
    match cli.command {
        Some(Command::Demo(args)) => cmd::demo::command(&cli.global, args).await,
        Some(Command::Check) => cmd::check::command(&cli.global).await,
        Some(Command::Report(args)) => cmd::report::command(&cli.global, &args).await,
        Some(Command::Breach(args)) => cmd::breach::command(&cli.global, &args).await,
        Some(Command::Review(args)) => cmd::review::command(&cli.global, args.command).await,
        Some(Command::Ledger(args)) => cmd::ledger::command(&cli.global, args.command).await,
        Some(Command::Init(args)) => cmd::init::command(&cli.global, &args).await,
        Some(Command::Explain(args)) => cmd::explain::command(&cli.global, &args).await,
        None => cmd::dashboard::command(&cli.global, &cli.window).await,
    }
}

fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Demo(_) => "demo",
        Command::Check => "check",
        Command::Report(_) => "report",
        Command::Breach(_) => "breach",
        Command::Review(_) => "review",
        Command::Ledger(_) => "ledger",
        Command::Init(_) => "init",
        Command::Explain(_) => "explain",
    }
}
