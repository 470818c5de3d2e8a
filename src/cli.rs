//! The command line (CONTRACT section 1): clap definitions and nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "keyhole",
    version,
    about = "Who on our staff looked at this person's data, and why? A read-only need-to-know audit."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct GlobalOpts {
    /// Config file (else $KEYHOLE_CONFIG, ./keyhole.toml, $XDG_CONFIG_HOME/keyhole/keyhole.toml)
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Source database: postgres://…, mysql://… or sqlite://PATH (no password here)
    #[arg(long, global = true, value_name = "URL")]
    pub db: Option<String>,
    /// Folder of query files (default: the built-in set for the URL's dialect)
    #[arg(long, global = true, value_name = "DIR")]
    pub queries: Option<PathBuf>,
    /// Need-to-know policy file
    #[arg(long, global = true, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// keyhole's own review store (SQLite)
    #[arg(long, global = true, value_name = "FILE")]
    pub ledger: Option<PathBuf>,
    /// Plain output without colour (NO_COLOR does the same)
    #[arg(long, global = true)]
    pub no_color: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build (if missing) the deterministic demo database in SQLite
    Demo(DemoArgs),
    /// Connect, prove the session is read-only and validate every query file
    Check,
}

#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// Number of access events to generate
    #[arg(long, default_value_t = 200_000, value_name = "N")]
    pub events: u64,
    /// Random seed; the same seed and anchor give the same database
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// Where to write the SQLite file (default: the data directory)
    #[arg(long, value_name = "FILE")]
    pub path: Option<PathBuf>,
    /// Build the database and print its path and row counts
    #[arg(long)]
    pub no_tui: bool,
    /// Last day of demo history, exclusive (default: today, UTC)
    #[arg(long, value_name = "DATE")]
    pub anchor: Option<String>,
    /// Rebuild even if a demo with the same settings exists
    #[arg(long)]
    pub force: bool,
    /// Also load the demo into this empty PostgreSQL or MySQL/MariaDB database
    #[arg(long, value_name = "URL")]
    pub load_into: Option<String>,
}
