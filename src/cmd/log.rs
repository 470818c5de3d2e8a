//! keyhole's log file: `keyhole.log` in the state directory, never the
//! screen. It records the source and dialect, each query file's rows and
//! time, the window, and errors with their chain; never a password (every
//! line passes through the redactor) nor a value read from a row.
//! `KEYHOLE_LOG=debug` records every statement's span; `off` records nothing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Past this size the log is moved to `keyhole.log.old` at start.
const ROTATE_AT: u64 = 10 * 1024 * 1024;

/// Writes lines through the password redactor.
struct Redacted(Mutex<std::fs::File>);

impl Write for &Redacted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = keyhole::secrets::redact(&String::from_utf8_lossy(buf));
        let mut f = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f.write_all(text.as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).flush()
    }
}

/// The log file's path.
pub fn path() -> PathBuf {
    keyhole::config::state_dir().join("keyhole.log")
}

fn open(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if std::fs::metadata(path).is_ok_and(|m| m.len() > ROTATE_AT) {
        let _ = std::fs::rename(path, path.with_extension("log.old"));
    }
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

/// Starts logging to the file; a log that cannot be opened is skipped
/// silently, since the terminal belongs to the report or the dashboard.
pub fn init() {
    let level = match std::env::var("KEYHOLE_LOG").as_deref().map(str::trim) {
        Ok("off") => return,
        Ok("debug") => tracing::Level::DEBUG,
        Ok("trace") => tracing::Level::TRACE,
        Ok("warn") => tracing::Level::WARN,
        _ => tracing::Level::INFO,
    };
    let Ok(file) = open(&path()) else { return };
    let writer: &'static Redacted = Box::leak(Box::new(Redacted(Mutex::new(file))));
    let _ = tracing_subscriber::fmt()
        .with_writer(move || writer)
        .with_ansi(false)
        .with_max_level(level)
        .with_target(false)
        .try_init();
}

/// Records an error with its whole chain.
pub fn error(e: &anyhow::Error) {
    let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
    tracing::error!(chain = %chain.join(" <- "), "failed");
}
