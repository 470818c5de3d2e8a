//! `keyhole demo`: builds (if missing) the deterministic demo database of a
//! luxury online retailer in SQLite, with planted violations, and can load
//! the same rows into an empty PostgreSQL or MySQL/MariaDB database.

pub mod generate;
pub mod schema;
pub mod write;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

pub use generate::{Counts, DemoSettings};
use write::DemoDb;

/// The example policy that goes with the demo database.
pub use crate::policy::DEMO_POLICY;

message_error!(
    /// Building or loading the demo database failed (file or server, and why).
    DemoError
);

impl From<crate::source::UrlError> for DemoError {
    fn from(e: crate::source::UrlError) -> Self {
        DemoError(e.0)
    }
}

/// Reads the settings an existing demo file was built with.
async fn existing_settings(path: &Path) -> Option<Vec<(String, String)>> {
    use sqlx::ConnectOptions;
    let o = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .disable_statement_logging();
    let mut c = o.connect().await.ok()?;
    let ours: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = 'keyhole_demo_meta'")
            .fetch_one(&mut c)
            .await
            .ok()?;
    if ours == 0 {
        return None;
    }
    // A demo from another generator version may lack these columns: rebuild it.
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT setting, value FROM keyhole_demo_meta")
            .fetch_all(&mut c)
            .await
            .unwrap_or_default();
    drop(sqlx::Connection::close(c).await);
    Some(rows)
}

pub enum Outcome {
    Built(Counts),
    Reused,
}

/// Builds the demo at `path` unless a demo with the same settings is there.
/// Writes to a temporary file beside it and renames, so an interrupted build
/// never leaves a half-made database under the final name.
pub async fn ensure_sqlite(
    path: &Path,
    s: &DemoSettings,
    force: bool,
    progress: impl FnMut(String),
) -> Result<Outcome, DemoError> {
    if path.exists() && !force {
        match existing_settings(path).await {
            Some(meta) => {
                let get = |k: &str| {
                    meta.iter()
                        .find(|(a, _)| a == k)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                if get("seed") == s.seed.to_string()
                    && get("events") == s.events.to_string()
                    && get("anchor") == s.anchor.to_string()
                    && get("generator") == generate::GENERATOR_VERSION
                {
                    return Ok(Outcome::Reused);
                }
            }
            None => {
                return Err(format!(
                    "{}: exists and is not a keyhole demo database; choose another --path",
                    path.display()
                )
                .into());
            }
        }
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let tmp: PathBuf = path.with_extension(format!("building-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let result = async {
        let mut db = DemoDb::create_sqlite(&tmp).await?;
        let counts = generate::build(&mut db, s, progress).await?;
        db.close().await;
        Ok::<_, DemoError>(counts)
    }
    .await;
    match result {
        Ok(counts) => {
            std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(Outcome::Built(counts))
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Loads the demo rows into an empty PostgreSQL or MySQL/MariaDB database.
pub async fn load_into(
    url: &str,
    password: Option<&str>,
    s: &DemoSettings,
    progress: impl FnMut(String),
) -> Result<Counts, DemoError> {
    let mut db = DemoDb::connect_empty(url, password).await?;
    let counts = generate::build(&mut db, s, progress).await?;
    db.close().await;
    Ok(counts)
}

/// Today's date in UTC: the default anchor.
pub fn default_anchor() -> NaiveDate {
    chrono::Utc::now().date_naive()
}
