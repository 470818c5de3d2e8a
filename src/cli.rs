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
    /// The dashboard's window (with no command)
    #[command(flatten)]
    pub window: WindowArgs,
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
    /// A database audit log (pgAudit stderr or csvlog, MariaDB server_audit) to read beside the source (repeatable)
    #[arg(long = "audit-log", global = true, value_name = "FILE")]
    pub audit_logs: Vec<PathBuf>,
}

/// The audit window, for `report` and the dashboard alike.
#[derive(Debug, Args, Clone, Default)]
pub struct WindowArgs {
    /// Window start: RFC 3339 or a local date (default: the local midnight 30 days before --to; all time for `report subject` and --transparency)
    #[arg(long, value_name = "T")]
    pub from: Option<String>,
    /// Window end, exclusive (default: now)
    #[arg(long, value_name = "T")]
    pub to: Option<String>,
    /// Judge deadlines and requests as of this time (default: now)
    #[arg(long, value_name = "T")]
    pub as_of: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build (if missing) the deterministic demo database in SQLite
    Demo(DemoArgs),
    /// Connect, prove the session is read-only and validate every query file
    Check,
    /// Headless reports: flags, accesses, staff, disclosures, requests, subject
    Report(ReportArgs),
    /// Incident scoping: who was affected by these accounts or addresses, and by when to notify
    Breach(BreachArgs),
    /// Review campaigns: freeze flags, record verdicts, export the evidence
    Review(ReviewArgs),
    /// The ledger itself
    Ledger(LedgerArgs),
    /// Draft the query files and a policy skeleton from a database's catalogue
    Init(InitArgs),
    /// Mine the relationships that explain accesses (--mine)
    Explain(ExplainArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write queries/*.sql, policy.toml and keyhole.toml (never overwritten)
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Mine relationship templates from the access log, staff and subjects
    #[arg(long)]
    pub mine: bool,
    /// Window start: RFC 3339 or a local date (default: 30 days before --to)
    #[arg(long, value_name = "T")]
    pub from: Option<String>,
    /// Window end, exclusive (default: now)
    #[arg(long, value_name = "T")]
    pub to: Option<String>,
    /// Write the accepted templates as relationships.sql to FILE (never overwritten)
    #[arg(long, value_name = "FILE")]
    pub write: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    #[command(subcommand)]
    pub command: ReviewCommand,
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Freeze the flags of a window as a campaign's items; prints its id
    Start(ReviewStartArgs),
    /// Campaigns with their progress
    List {
        /// table or json
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
    },
    /// Every item of a campaign with its flag and current verdict
    Show {
        #[arg(long, value_name = "ID")]
        campaign: i64,
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
    },
    /// Record a verdict on one item (a later one supersedes it)
    Decide {
        #[arg(long, value_name = "ID")]
        campaign: i64,
        /// The item's key, as `review show` prints it
        #[arg(long, value_name = "KEY")]
        item: String,
        /// justified, false_positive, violation, needs_follow_up or escalated
        #[arg(long, value_name = "V")]
        verdict: String,
        /// Why (required for justified, false_positive and violation)
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// After a violation: training, warning, access_revoked or escalated
        #[arg(long, value_name = "F")]
        follow_up: Option<String>,
    },
    /// The evidence: scope, hashes, every item with its verdict, counts, the chain head
    Export {
        #[arg(long, value_name = "ID")]
        campaign: i64,
        /// md, csv or json (default: md)
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        /// Write to FILE instead of standard output
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ReviewStartArgs {
    /// The campaign's name
    #[arg(long, value_name = "NAME")]
    pub name: String,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Only these rules (repeatable)
    #[arg(long = "rule", value_name = "R")]
    pub rules: Vec<String>,
    /// Only flags of this severity or higher
    #[arg(long, value_enum, value_name = "S")]
    pub min_severity: Option<SeverityArg>,
}

#[derive(Debug, Args)]
pub struct LedgerArgs {
    #[command(subcommand)]
    pub command: LedgerCommand,
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Walk the whole chain; with --export, check an export against it
    Verify {
        /// A `review export` file (json or md) to check
        #[arg(long, value_name = "FILE")]
        export: Option<PathBuf>,
    },
}

#[derive(Debug, Args, Clone)]
#[command(group(clap::ArgGroup::new("scope").required(true).multiple(true).args(["staff", "ip"])))]
pub struct BreachArgs {
    /// A compromised staff account (repeatable)
    #[arg(long, value_name = "ID")]
    pub staff: Vec<String>,
    /// A compromised address or CIDR block (repeatable)
    #[arg(long, value_name = "CIDR")]
    pub ip: Vec<String>,
    /// Window start: RFC 3339 or a local date
    #[arg(long, value_name = "T")]
    pub from: String,
    /// Window end, exclusive
    #[arg(long, value_name = "T")]
    pub to: String,
    /// Judge as of this time (default: now)
    #[arg(long, value_name = "T")]
    pub as_of: Option<String>,
    /// When the organisation became aware; deadlines run from here (default: --as-of)
    #[arg(long, value_name = "T")]
    pub aware_at: Option<String>,
    /// Deadline table (default: the built-in assets/breach-deadlines.toml)
    #[arg(long, value_name = "FILE")]
    pub deadlines: Option<PathBuf>,
    /// table, json, csv (the notification list) or md (the incident summary)
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Write to FILE instead of standard output
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Include names and contact details
    #[arg(long)]
    pub reveal: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportKind {
    Flags,
    Accesses,
    Staff,
    Disclosures,
    Requests,
    Subject,
    /// Who used keyhole on which source and window, and every reveal
    Auditor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    Csv,
    Md,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum SeverityArg {
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// What to report
    #[arg(value_enum)]
    pub kind: ReportKind,
    /// The subject, for `report subject`
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Output format (default: table)
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Write the report to FILE instead of standard output
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only these rules (repeatable)
    #[arg(long = "rule", value_name = "R")]
    pub rules: Vec<String>,
    /// Only flags of this severity or higher
    #[arg(long, value_enum, value_name = "S")]
    pub min_severity: Option<SeverityArg>,
    /// Exit 3 when a reported flag has this severity or higher
    #[arg(long, value_enum, value_name = "S")]
    pub fail_on: Option<SeverityArg>,
    /// Show names of staff and subjects
    #[arg(long)]
    pub reveal: bool,
    /// Why names are revealed (recorded in the ledger with --reveal)
    #[arg(long, value_name = "TEXT", requires = "reveal")]
    pub reason: Option<String>,
    /// With `flags`: only flags whose key has no verdict in any campaign
    #[arg(long)]
    pub unreviewed: bool,
    /// With `disclosures`: the transparency report (window defaults to all time)
    #[arg(long)]
    pub transparency: bool,
    /// Transparency periods
    #[arg(long, value_enum, default_value = "half-year")]
    pub period: PeriodArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PeriodArg {
    HalfYear,
    Year,
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
    /// The dashboard's window
    #[command(flatten)]
    pub window: WindowArgs,
}
