//! Review campaigns replayed from the ledger: a campaign entry with its
//! frozen items, then verdicts, the latest one per item counting. The same
//! replay answers `review show` and `export` now, and `ledger verify
//! --export` as of the export's chain head.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::{Value, json};

use super::{Entry, Ledger, LedgerError};

/// The verdicts of CONTRACT section 7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    Justified,
    FalsePositive,
    Violation,
    NeedsFollowUp,
    Escalated,
}

impl VerdictKind {
    pub const ALL: [VerdictKind; 5] = [
        VerdictKind::Justified,
        VerdictKind::FalsePositive,
        VerdictKind::Violation,
        VerdictKind::NeedsFollowUp,
        VerdictKind::Escalated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            VerdictKind::Justified => "justified",
            VerdictKind::FalsePositive => "false_positive",
            VerdictKind::Violation => "violation",
            VerdictKind::NeedsFollowUp => "needs_follow_up",
            VerdictKind::Escalated => "escalated",
        }
    }

    pub fn from_name(s: &str) -> Option<VerdictKind> {
        VerdictKind::ALL.into_iter().find(|v| v.name() == s.trim())
    }

    pub fn needs_note(self) -> bool {
        matches!(
            self,
            VerdictKind::Justified | VerdictKind::FalsePositive | VerdictKind::Violation
        )
    }
}

/// What may follow a violation.
pub const FOLLOW_UPS: [&str; 4] = ["training", "warning", "access_revoked", "escalated"];

/// A verdict as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub kind: VerdictKind,
    pub note: Option<String>,
    pub follow_up: Option<String>,
    pub decided_by: String,
    pub decided_at: String,
    pub seq: i64,
}

/// Checks a verdict's note and follow-up before anything is written.
pub fn check_verdict(
    kind: VerdictKind,
    note: Option<&str>,
    follow_up: Option<&str>,
) -> Result<(), String> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if kind.needs_note() && note.is_none() {
        return Err(format!("a {} verdict needs --note", kind.name()));
    }
    match (kind, follow_up.map(str::trim).filter(|f| !f.is_empty())) {
        (VerdictKind::Violation, None) => Err(format!(
            "a violation needs --follow-up ({})",
            FOLLOW_UPS.join(", ")
        )),
        (_, Some(f)) if !FOLLOW_UPS.contains(&f) => Err(format!(
            "--follow-up {f:?}: expected one of {}",
            FOLLOW_UPS.join(", ")
        )),
        _ => Ok(()),
    }
}

/// A campaign's header, as frozen when it started.
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub from: String,
    pub to: String,
    pub as_of: String,
    pub created_by: String,
    pub created_at: String,
    pub policy_sha256: String,
    pub query_sha256: BTreeMap<String, String>,
    /// The flag filters it was started with (`--rule`, `--min-severity`).
    pub filters: Value,
    pub source: Value,
    pub seq: i64,
}

impl Campaign {
    fn from_entry(e: &Entry) -> Campaign {
        let b = e.body_json();
        let s = |k: &str| b[k].as_str().unwrap_or("").to_string();
        Campaign {
            id: b["campaign"].as_i64().unwrap_or(0),
            name: s("name"),
            from: b["window"]["from"].as_str().unwrap_or("").into(),
            to: b["window"]["to"].as_str().unwrap_or("").into(),
            as_of: b["window"]["as_of"].as_str().unwrap_or("").into(),
            created_by: e.actor.clone(),
            created_at: e.at.clone(),
            policy_sha256: s("policy_sha256"),
            query_sha256: b["query_sha256"]
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                        .collect()
                })
                .unwrap_or_default(),
            filters: b["filters"].clone(),
            source: b["source"].clone(),
            seq: e.seq,
        }
    }

    /// The campaign as the export's `campaign` object.
    pub fn json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "window": {"from": self.from, "to": self.to, "as_of": self.as_of},
            "created_by": self.created_by,
            "created_at": self.created_at,
            "policy_sha256": self.policy_sha256,
            "query_sha256": self.query_sha256,
        })
    }
}

/// One frozen item: its key and the flag's JSON as reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub key: String,
    pub flag: Value,
}

/// A campaign with its items and their current verdicts.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignState {
    pub campaign: Campaign,
    pub items: Vec<(Item, Option<Verdict>)>,
}

impl CampaignState {
    /// Items by verdict in the contract's order, then `open` for the undecided.
    pub fn counts(&self) -> Vec<(&'static str, u64)> {
        let mut c: Vec<(&'static str, u64)> =
            VerdictKind::ALL.iter().map(|v| (v.name(), 0)).collect();
        c.push(("open", 0));
        for (_, v) in &self.items {
            let name = v.as_ref().map_or("open", |v| v.kind.name());
            if let Some(slot) = c.iter_mut().find(|(k, _)| *k == name) {
                slot.1 += 1;
            }
        }
        c
    }

    /// The counts as a JSON object, in the same order.
    pub fn counts_json(&self) -> Value {
        Value::Object(
            self.counts()
                .into_iter()
                .map(|(k, n)| (k.to_string(), json!(n)))
                .collect(),
        )
    }

    pub fn decided(&self) -> usize {
        self.items.iter().filter(|(_, v)| v.is_some()).count()
    }

    /// The export's `items`, in the campaign's order.
    pub fn items_json(&self) -> Vec<Value> {
        self.items
            .iter()
            .map(|(i, v)| {
                json!({
                    "key": i.key,
                    "flag": i.flag,
                    "verdict": v.as_ref().map(|v| v.kind.name()),
                    "note": v.as_ref().and_then(|v| v.note.clone()),
                    "follow_up": v.as_ref().and_then(|v| v.follow_up.clone()),
                    "decided_by": v.as_ref().map(|v| v.decided_by.clone()),
                    "decided_at": v.as_ref().map(|v| v.decided_at.clone()),
                })
            })
            .collect()
    }
}

/// Replays a campaign from its entries, ignoring any after `upto`.
pub fn replay(
    campaign: &Entry,
    items: &[Entry],
    verdicts: &[Entry],
    upto: Option<i64>,
) -> CampaignState {
    let within = |e: &&Entry| upto.is_none_or(|u| e.seq <= u);
    let mut latest: HashMap<String, Verdict> = HashMap::new();
    for e in verdicts.iter().filter(within) {
        let b = e.body_json();
        let Some(kind) = b["verdict"].as_str().and_then(VerdictKind::from_name) else {
            continue;
        };
        let opt = |k: &str| b[k].as_str().map(str::to_string);
        latest.insert(
            b["key"].as_str().unwrap_or("").to_string(),
            Verdict {
                kind,
                note: opt("note"),
                follow_up: opt("follow_up"),
                decided_by: e.actor.clone(),
                decided_at: e.at.clone(),
                seq: e.seq,
            },
        );
    }
    let items = items
        .iter()
        .filter(within)
        .map(|e| {
            let b = e.body_json();
            let key = b["key"].as_str().unwrap_or("").to_string();
            let v = latest.remove(&key);
            (
                Item {
                    key,
                    flag: b["flag"].clone(),
                },
                v,
            )
        })
        .collect();
    CampaignState {
        campaign: Campaign::from_entry(campaign),
        items,
    }
}

/// What `review start` freezes.
pub struct NewCampaign {
    pub name: String,
    pub window: (String, String, String),
    pub filters: Value,
    pub source: Value,
    pub policy_sha256: String,
    pub query_sha256: BTreeMap<String, String>,
    /// Each flag's key and JSON, in the report's order.
    pub items: Vec<(String, Value)>,
}

impl Ledger {
    /// Freezes a campaign and its items; returns its id.
    pub async fn start_campaign(&mut self, c: NewCampaign) -> Result<i64, LedgerError> {
        let mut id = 0;
        self.write(|next| {
            id = next;
            let mut v = vec![(
                "campaign".to_string(),
                json!({
                    "campaign": next,
                    "name": c.name,
                    "window": {"from": c.window.0, "to": c.window.1, "as_of": c.window.2},
                    "filters": c.filters,
                    "source": c.source,
                    "policy_sha256": c.policy_sha256,
                    "query_sha256": c.query_sha256,
                    "items": c.items.len(),
                }),
            )];
            for (key, flag) in c.items {
                v.push((
                    "item".to_string(),
                    json!({"campaign": next, "key": key, "flag": flag}),
                ));
            }
            v
        })
        .await?;
        Ok(id)
    }

    async fn campaign_entry(&mut self, id: i64) -> Result<Entry, LedgerError> {
        self.of_campaign("campaign", id)
            .await?
            .into_iter()
            .next()
            .ok_or(LedgerError::UnknownCampaign(id))
    }

    /// A campaign's items and current verdicts (as of entry `upto`, if given).
    pub async fn campaign_state(
        &mut self,
        id: i64,
        upto: Option<i64>,
    ) -> Result<CampaignState, LedgerError> {
        let c = self.campaign_entry(id).await?;
        if upto.is_some_and(|u| c.seq > u) {
            return Err(LedgerError::UnknownCampaign(id));
        }
        let items = self.of_campaign("item", id).await?;
        let verdicts = self.of_campaign("verdict", id).await?;
        Ok(replay(&c, &items, &verdicts, upto))
    }

    /// Every campaign, oldest first.
    pub async fn campaigns(&mut self) -> Result<Vec<CampaignState>, LedgerError> {
        let ids: Vec<i64> = self
            .of_kind("campaign")
            .await?
            .iter()
            .map(|e| e.body_json()["campaign"].as_i64().unwrap_or(0))
            .collect();
        let mut out = Vec::new();
        for id in ids {
            out.push(self.campaign_state(id, None).await?);
        }
        Ok(out)
    }

    /// Records a verdict on one item; a later one supersedes it. Returns
    /// the entry's sequence number once it is committed and synced.
    pub async fn decide(
        &mut self,
        campaign: i64,
        key: &str,
        kind: VerdictKind,
        note: Option<&str>,
        follow_up: Option<&str>,
    ) -> Result<i64, LedgerError> {
        check_verdict(kind, note, follow_up).map_err(LedgerError::Invalid)?;
        self.campaign_entry(campaign).await?;
        if !self.has_item(campaign, key).await? {
            return Err(LedgerError::UnknownItem {
                campaign,
                key: key.to_string(),
            });
        }
        let clean = |s: Option<&str>| {
            s.map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let body = json!({
            "campaign": campaign,
            "key": key,
            "verdict": kind.name(),
            "note": clean(note),
            "follow_up": clean(follow_up),
        });
        Ok(self.append(&[("verdict", body)]).await?[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_and_follow_ups_are_required_where_the_contract_says() {
        use VerdictKind::*;
        assert!(check_verdict(Justified, None, None).is_err());
        assert!(check_verdict(Justified, Some("  "), None).is_err());
        assert!(check_verdict(Justified, Some("ticket T-1"), None).is_ok());
        assert!(check_verdict(NeedsFollowUp, None, None).is_ok());
        assert!(check_verdict(Escalated, None, None).is_ok());
        assert!(check_verdict(Violation, Some("no reason"), None).is_err());
        assert!(check_verdict(Violation, Some("no reason"), Some("warning")).is_ok());
        assert!(check_verdict(Violation, Some("no reason"), Some("fired")).is_err());
        assert_eq!(
            VerdictKind::from_name("false_positive"),
            Some(FalsePositive)
        );
        assert_eq!(VerdictKind::from_name("fine"), None);
    }
}
