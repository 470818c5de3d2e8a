//! Everything the user or the background can ask the dashboard for: key
//! bindings map to these, the loader and search send them, and
//! `App::update` is the only place they change state.

use super::data::LoadEvent;
use super::overlays::search::SearchHit;

/// Everything the user or the background can ask for.
#[derive(Debug, Clone)]
pub enum Action {
    Quit,
    Back,
    NextTab,
    PrevTab,
    GoTab(usize),
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Open,
    Search,
    Filter,
    Reveal,
    Help,
    Export,
    Reload,
    /// Open the window picker.
    Window,
    Sort,
    /// Breach review of the selected staff member, or of the selected access's address.
    Breach,
    Input(char),
    Backspace,
    Submit,
    Resize(u16, u16),
    Load(LoadEvent),
    /// A query's hits, and what it matched for the next keystroke to narrow.
    SearchDone(
        u64,
        Vec<SearchHit>,
        std::sync::Arc<super::overlays::search::Narrowed>,
    ),
    /// A left click at (column, line): a tab on line 0, else the list row under it.
    Click(u16, u16),
    ScrollUp,
    ScrollDown,
    Tick,
    /// Open the review of a campaign (the campaign list first).
    Review,
    /// A verdict on the current review item.
    Verdict(crate::ledger::VerdictKind),
    NextUndecided,
    PrevUndecided,
    /// The ledger's campaigns, for review mode.
    CampaignsLoaded(Result<Vec<crate::ledger::CampaignState>, String>),
    /// The ledger's answer to a verdict: who and when, or why not.
    VerdictRecorded {
        campaign: i64,
        key: String,
        result: Result<(String, String), String>,
    },
    /// The ledger's answer to a reveal: recorded, or why not.
    RevealRecorded {
        who: String,
        reason: String,
        result: Result<(), String>,
    },
}
