//! One file per overlay drawn over the tabs: help, search, the breach
//! review and the window picker.

pub mod breach;
pub mod help;
pub mod review;
pub mod search;
pub mod window;
