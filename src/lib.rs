//! keyhole: a read-only need-to-know audit of staff access to personal data.
//!
//! The crate is organised as the contract describes: [`source`] reads a
//! production database read-only through query files into the [`model`];
//! [`config`] resolves settings; [`demo`] builds the demo database;
//! [`check`] proves a source is safe to audit.

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
pub mod demo;
pub mod model;
pub mod policy;
pub mod report;
pub mod rules;
pub mod sanitize;
pub mod secrets;
pub mod source;
pub mod time;
pub mod tui;
pub mod vocab;
