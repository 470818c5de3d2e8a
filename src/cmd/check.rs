//! `keyhole check`: connects, proves the session read-only and validates
//! every query file; the progress of counting access events goes to stderr.

use crate::cli::GlobalOpts;

pub async fn command(g: &GlobalOpts) -> anyhow::Result<u8> {
    let logs = super::log_specs(g)?;
    let (mut src, queries, policy) = super::open_source(g).await?;
    let tty = super::progress_enabled();
    let now = chrono::Utc::now();
    let report = keyhole::check::run(&mut src, &queries, &policy, &logs, now, |n| {
        if tty {
            eprint!("\r  reading access events: {n} rows\x1b[K");
        }
    })
    .await;
    super::clear_progress(tty);
    src.close().await;
    super::say(&report.render())?;
    Ok(if report.failed() { 1 } else { 0 })
}
