//! keyhole: a read-only need-to-know audit of staff access to personal data.
//!
//! The layers, from the inside out (each imports only those above it):
//!
//! - [`vocab`], [`model`], [`time`]: the rules' names, kinds and severities,
//!   plain data, and calendar arithmetic. No I/O.
//! - [`policy`], [`config`]: the policy and config files, with
//!   file:line:column errors.
//! - [`rules`]: the need-to-know engine, pure functions from the model to
//!   verdicts and flags.
//! - [`source`]: the read-only database side: connect, guard, run query
//!   files, decode rows. It knows nothing above it.
//! - [`audit`]: the one pipeline: a window, read a local day, judge it, push
//!   it into a [`audit::Sink`].
//! - [`report`]: the sinks and writers behind every report (JSON, CSV,
//!   Markdown, tables); no database, command line or terminal.
//! - [`tui`]: the dashboard; [`check`], [`setup`] and [`demo`]: proving a source safe, drafting the query files for a new schema,
//!   and building the demo database.
//!
//! The binary (`src/main.rs`, `src/cmd`) owns the command line, output
//! files, the progress line, exit statuses and the log.

/// Declares an error type whose value is one finished line for the user
/// (what failed and where), for the parts whose failures are messages.
macro_rules! message_error {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[error("{0}")]
        pub struct $name(pub String);

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_string())
            }
        }
    };
}

pub mod audit;
pub mod check;
pub mod config;
pub mod dblog;
pub mod demo;
pub mod ledger;
pub mod model;
pub mod policy;
pub mod report;
pub mod rules;
pub mod sanitize;
pub mod secrets;
pub mod setup;
pub mod source;
pub mod time;
pub mod tui;
pub mod vocab;
