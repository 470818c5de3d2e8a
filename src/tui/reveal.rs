//! Masking and reasoned reveals: names stay masked until a person is
//! revealed with a reason, and a reveal takes effect only once the ledger
//! has recorded it with that reason (the auditor's trail). Without a ledger
//! (tests, benchmarks) reveals are kept in memory only.

use std::collections::HashSet;

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
}

impl Reveals {
    pub fn is_revealed(&self, key: &str) -> bool {
        self.revealed.contains(key)
    }

    /// A reveal the ledger has recorded (or that needs no record).
    pub fn grant(&mut self, who: String, reason: String) {
        self.revealed.insert(who.clone());
        self.log.push((who, reason));
    }
}

/// What the dashboard asks its ledger writer to record.
#[derive(Debug, Clone)]
pub enum LedgerWrite {
    /// A reveal with its reason; answered with [`crate::tui::action::Action::RevealRecorded`].
    Reveal { who: String, reason: String },
    /// A session or a window change.
    Session(serde_json::Value),
    /// Every campaign, for review mode; answered with `CampaignsLoaded`.
    LoadCampaigns,
    /// A verdict; answered with `VerdictRecorded`.
    Verdict {
        campaign: i64,
        key: String,
        kind: crate::ledger::VerdictKind,
        note: Option<String>,
        follow_up: Option<String>,
    },
}
