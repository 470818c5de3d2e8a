//! Masking and reasoned reveals: names stay masked until a person is
//! revealed with a reason, and every reveal is recorded with that reason
//! (appended to the reveal log until the review ledger records it).

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;

/// Who is revealed, the reveal being asked for, and the record.
#[derive(Debug, Clone, Default)]
pub struct Reveals {
    /// The reason being typed.
    pub text: String,
    /// The person (`staff:ID` or `subject:ID`) a reason is asked for.
    pub pending: Option<String>,
    pub revealed: HashSet<String>,
    /// This session's reveals with their reasons, in order.
    pub log: Vec<(String, String)>,
    /// Where each reveal is appended; None keeps them in memory (tests).
    pub log_path: Option<PathBuf>,
}

impl Reveals {
    pub fn is_revealed(&self, key: &str) -> bool {
        self.revealed.contains(key)
    }

    /// Records a reveal with its reason; returns a failure to write the log.
    pub fn record(&mut self, who: String, reason: String) -> std::io::Result<()> {
        self.revealed.insert(who.clone());
        self.log.push((who.clone(), reason.clone()));
        let Some(path) = &self.log_path else {
            return Ok(());
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        // A reason is one line in the log, whatever was typed.
        let reason: String = reason
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        writeln!(
            f,
            "{}\treveal\t{who}\t{reason}",
            crate::time::rfc3339(chrono::Utc::now())
        )
    }
}
