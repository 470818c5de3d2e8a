//! `keyhole` with no command: resolves the window like `report` does and
//! hands the source to the dashboard.

use std::io::IsTerminal;
use std::path::PathBuf;

use keyhole::audit::WindowChoice;
use keyhole::config::{Settings, data_dir};

use super::Usage;
use crate::cli::{GlobalOpts, WindowArgs};

pub async fn command(g: &GlobalOpts, window: &WindowArgs) -> anyhow::Result<u8> {
    let window = WindowChoice::Flags(super::window_flags(window));
    // A mistyped window is a usage error before anything else; the policy's
    // zone, known once the source is open, decides the exact instants.
    window.resolve(chrono_tz::UTC, chrono::Utc::now())?;
    if !std::io::stdout().is_terminal() {
        return Err(Usage(
            "the dashboard needs a terminal; use `keyhole report …` for output to a file or a pipe"
                .into(),
        )
        .into());
    }
    let settings = Settings::resolve(&super::overrides(g))?;
    let bindings =
        keyhole::tui::keys::with_overrides(keyhole::tui::keys::defaults(), &settings.keys)
            .map_err(|e| Usage(e.to_string()))?;
    let audit_logs = super::log_specs(g)?;
    let (source, queries, policy) = super::open_source(g).await?;
    let now = chrono::Utc::now();
    window.resolve(policy.timezone, now)?;
    super::trail::import_reveals(g, &data_dir().join("reveals.log")).await;
    let color = !settings.no_color && crossterm::style::available_color_count() >= 8;
    let launch = keyhole::tui::Launch {
        source,
        queries,
        window,
        policy,
        now,
        color,
        bindings,
        export_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        ledger: Some(super::trail::ledger_path(g)?),
        display_timezone: settings.display_timezone,
        audit_logs,
        deadlines: super::breach::deadline_table(None, &settings)?,
        breach_switches: settings.breach_switches.clone(),
    };
    Ok(super::signal_status(keyhole::tui::run(launch).await?))
}
