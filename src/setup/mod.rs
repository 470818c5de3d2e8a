//! Setting keyhole up on a schema it has never seen: [`catalog`] reads what
//! the database holds (read-only, bounded samples), [`draft`] proposes the
//! query files and a policy skeleton (`keyhole init`), and [`mine`] finds
//! the relationships that explain accesses (`keyhole explain --mine`).

pub mod catalog;
pub mod draft;
pub mod mine;
