//! keyhole: a read-only need-to-know audit of staff access to personal data.
//!
//! The crate is organised as the contract describes: [`source`] reads a
//! production database read-only through query files into the [`model`];
//! [`config`] resolves settings; [`demo`] builds the demo database;
//! [`check`] proves a source is safe to audit.

pub mod check;
pub mod cli;
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
