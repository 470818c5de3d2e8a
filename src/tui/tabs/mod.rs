//! One file per tab: each holds the tab's state next to the function that
//! draws it. Drawing reads the app and never changes it, except to record
//! where its list went (the screen map).

pub mod access;
pub mod disclosures;
pub mod flags;
pub mod overview;
pub mod requests;
pub mod staff;
pub mod subjects;
