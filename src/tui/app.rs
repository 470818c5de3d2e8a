//! The dashboard's state machine: one [`Action`] enum, and [`App::update`]
//! as the only place state changes. Drawing reads the state and never
//! changes it. Nothing here knows a terminal exists, so tests drive it with
//! actions alone.

use std::sync::Arc;

use std::cell::Cell;

use super::data::{Dataset, LoadEvent};
use super::overlays::review::{Outcome, ReviewState};
use super::overlays::search::{SearchState, rank};
use super::overlays::window::WindowPicker;
use super::reveal::{LedgerWrite, Reveals};
use super::screen::ScreenMap;
use super::tabs::access::AccessTab;
use super::tabs::disclosures::DisclosuresTab;
use super::tabs::flags::{FlagSort, FlagsTab};
use super::tabs::requests::RequestsTab;
use super::tabs::staff::StaffTab;
use super::tabs::subjects::SubjectsTab;
use crate::audit::WindowChoice;
use crate::rules::{Rule, Severity};

pub use super::action::Action;
pub use super::overlays::search::{HitKind, SearchHit};
pub use super::tabs::access::Filter;
pub use super::tabs::subjects::TimelineEntry;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Flags,
    Access,
    Staff,
    Subjects,
    Disclosures,
    Requests,
}

impl Tab {
    pub const ALL: [Tab; 7] = [
        Tab::Overview,
        Tab::Flags,
        Tab::Access,
        Tab::Staff,
        Tab::Subjects,
        Tab::Disclosures,
        Tab::Requests,
    ];
    pub fn title(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Flags => "Flags",
            Tab::Access => "Access log",
            Tab::Staff => "Staff",
            Tab::Subjects => "Subjects",
            Tab::Disclosures => "Disclosures",
            Tab::Requests => "Requests",
        }
    }
    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Search,
    Filter,
    RevealReason,
    Help,
    Breach,
    /// The window picker (`w`).
    Window,
    /// Review mode (`R`).
    Review,
}

/// The dashboard's state: what every tab shares, and each tab's and
/// overlay's own state (kept in their files).
pub struct App {
    pub tab: Tab,
    pub mode: Mode,
    pub data: Option<Arc<Dataset>>,
    pub loading: Option<String>,
    pub error: Option<String>,
    pub status: String,
    pub quit: bool,
    pub color: bool,
    pub size: (u16, u16),
    pub flags: FlagsTab,
    pub access: AccessTab,
    pub staff: StaffTab,
    pub subjects: SubjectsTab,
    pub disclosures: DisclosuresTab,
    pub requests: RequestsTab,
    pub search: SearchState,
    pub window: WindowPicker,
    pub review: ReviewState,
    pub reveals: Reveals,
    /// Where `e` writes exports.
    pub export_dir: std::path::PathBuf,
    /// Where times are shown (the config's `display_timezone`); None: the policy's zone.
    pub display_timezone: Option<chrono_tz::Tz>,
    /// The breach review on screen, if any.
    pub breach: Option<crate::report::breach::BreachReport>,
    /// The table a breach review applies, and the `[breach]` switches on.
    pub deadlines: crate::report::deadlines::DeadlineTable,
    pub breach_switches: Vec<&'static str>,
    /// A load asked for: the event loop cancels any running load and starts
    /// this window (None: the current window again).
    pub reload_requested: Option<Option<WindowChoice>>,
    /// Where search ranking results go; None ranks inline (tests).
    pub spawner: Option<tokio::sync::mpsc::UnboundedSender<Action>>,
    /// The ledger writer; None keeps reveals in memory (tests, benchmarks).
    pub ledger: Option<tokio::sync::mpsc::UnboundedSender<LedgerWrite>>,
    /// What the last frame drew where, written while drawing.
    pub screen: Cell<ScreenMap>,
}

impl App {
    pub fn new(color: bool) -> App {
        App {
            tab: Tab::Overview,
            mode: Mode::Normal,
            data: None,
            loading: Some("connecting".into()),
            error: None,
            status: String::new(),
            quit: false,
            color,
            size: (80, 24),
            flags: FlagsTab::default(),
            access: AccessTab::default(),
            staff: StaffTab::default(),
            subjects: SubjectsTab::default(),
            disclosures: DisclosuresTab::default(),
            requests: RequestsTab::default(),
            search: SearchState::default(),
            window: WindowPicker::default(),
            review: ReviewState::default(),
            reveals: Reveals::default(),
            export_dir: std::path::PathBuf::from("."),
            reload_requested: None,
            breach: None,
            deadlines: crate::report::deadlines::DeadlineTable::builtin(),
            breach_switches: Vec::new(),
            display_timezone: None,
            spawner: None,
            ledger: None,
            screen: Cell::new(ScreenMap::default()),
        }
    }

    /// Rows a page holds: what the list showed last, else a guess from the size.
    pub fn page(&self) -> usize {
        self.screen
            .get()
            .page()
            .unwrap_or_else(|| (self.size.1 as usize).saturating_sub(8).max(1))
    }

    pub fn is_revealed(&self, key: &str) -> bool {
        self.reveals.is_revealed(key)
    }

    /// The person under the cursor, as `staff:ID` or `subject:ID`.
    pub fn selected_person(&self) -> Option<String> {
        let d = self.data.as_ref()?;
        match self.tab {
            Tab::Flags => {
                let f = &d.flags[*self.flags.order.get(self.flags.sel)? as usize];
                f.subject_id
                    .as_ref()
                    .map(|s| format!("subject:{s}"))
                    .or(f.staff_id.as_ref().map(|s| format!("staff:{s}")))
            }
            Tab::Access => {
                let i = *self.access.view.get(self.access.sel)? as usize;
                d.rows
                    .subject(i)
                    .map(|s| format!("subject:{}", d.symbols.resolve(s)))
            }
            Tab::Staff => d
                .staff
                .get(self.staff.sel)
                .map(|s| format!("staff:{}", s.staff_id)),
            Tab::Subjects => self.subjects.id.as_ref().map(|s| format!("subject:{s}")),
            _ => None,
        }
    }

    fn list_len(&self) -> usize {
        let Some(d) = &self.data else { return 0 };
        match self.tab {
            Tab::Overview => 0,
            Tab::Flags => self.flags.order.len(),
            Tab::Access => self.access.view.len(),
            Tab::Staff => d.staff.len(),
            Tab::Subjects => self.subjects.timeline.len(),
            Tab::Disclosures => d.dir.disclosures.as_ref().map_or(0, Vec::len),
            Tab::Requests => d.dir.requests.as_ref().map_or(0, Vec::len),
        }
    }

    fn selection(&mut self) -> &mut usize {
        match self.tab {
            Tab::Flags => &mut self.flags.sel,
            Tab::Access => &mut self.access.sel,
            Tab::Staff => &mut self.staff.sel,
            Tab::Subjects => &mut self.subjects.sel,
            Tab::Disclosures => &mut self.disclosures.sel,
            Tab::Requests | Tab::Overview => &mut self.requests.sel,
        }
    }

    fn move_by(&mut self, delta: isize) {
        let len = self.list_len();
        let sel = self.selection();
        let max = len.saturating_sub(1) as isize;
        *sel = (*sel as isize + delta).clamp(0, max.max(0)) as usize;
    }

    pub fn update(&mut self, action: Action) {
        // The ledger's answers count in every mode.
        match action {
            Action::RevealRecorded { .. } => return self.on_reveal_recorded(action),
            Action::CampaignsLoaded(result) => {
                match result {
                    Ok(c) => self.review.loaded(c),
                    Err(e) => {
                        self.status = format!("review: {e}");
                        if self.mode == Mode::Review {
                            self.mode = Mode::Normal;
                        }
                    }
                }
                return;
            }
            Action::VerdictRecorded {
                campaign,
                key,
                result,
            } => {
                let o = self.review.recorded(campaign, &key, result);
                return self.review_outcome(o);
            }
            Action::Tick if !self.review.unsaved.is_empty() => {
                let campaign = self.review.state().map(|s| s.campaign.id);
                for w in self.review.retries(campaign) {
                    self.send_ledger(w);
                }
            }
            _ => {}
        }
        match self.mode {
            Mode::Search => return self.update_search(action),
            Mode::Filter => return self.update_filter(action),
            Mode::RevealReason => return self.update_reveal(action),
            Mode::Breach => {
                match action {
                    Action::Export => self.export_breach(),
                    Action::Back | Action::Quit | Action::Submit | Action::Breach => {
                        self.mode = Mode::Normal;
                        self.breach = None;
                    }
                    Action::Resize(w, h) => self.size = (w, h),
                    Action::Load(ev) => self.on_load(ev),
                    _ => {}
                }
                return;
            }
            Mode::Window => return self.update_window(action),
            Mode::Review => {
                return match action {
                    Action::Resize(w, h) => self.size = (w, h),
                    Action::Load(ev) => self.on_load(ev),
                    Action::Tick => {}
                    a => {
                        let o = self.review.update(a, self.page());
                        self.review_outcome(o)
                    }
                };
            }
            Mode::Help => {
                if matches!(
                    action,
                    Action::Back | Action::Help | Action::Quit | Action::Submit
                ) {
                    self.mode = Mode::Normal;
                } else if let Action::Resize(w, h) = action {
                    self.size = (w, h);
                }
                return;
            }
            Mode::Normal => {}
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Back => {
                if self.tab == Tab::Subjects && self.subjects.id.is_some() {
                    self.tab = Tab::Flags;
                } else if self.tab != Tab::Overview {
                    self.tab = Tab::Overview;
                } else {
                    self.quit = true;
                }
            }
            Action::NextTab => self.tab = Tab::ALL[(self.tab.index() + 1) % Tab::ALL.len()],
            Action::PrevTab => {
                self.tab = Tab::ALL[(self.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
            }
            Action::GoTab(i) => {
                if let Some(t) = Tab::ALL.get(i) {
                    self.tab = *t;
                }
            }
            Action::Click(x, y) => {
                let map = self.screen.get();
                if y == 0 {
                    if let Some(t) = map.tab_at(x).and_then(|i| Tab::ALL.get(i)) {
                        self.tab = *t;
                    }
                } else if let Some(i) = map.row_at(y) {
                    *self.selection() = i;
                }
            }
            Action::Up | Action::ScrollUp => self.move_by(-1),
            Action::Down | Action::ScrollDown => self.move_by(1),
            Action::PageUp => self.move_by(-(self.page() as isize)),
            Action::PageDown => self.move_by(self.page() as isize),
            Action::Home => *self.selection() = 0,
            Action::End => {
                let len = self.list_len();
                *self.selection() = len.saturating_sub(1);
            }
            Action::Open => self.open_selected(),
            Action::Search => {
                if self.data.is_some() {
                    self.mode = Mode::Search;
                    self.search.text.clear();
                    self.search.hits.clear();
                    self.search.sel = 0;
                }
            }
            Action::Filter => {
                self.mode = Mode::Filter;
                self.access.filter_text = self.access.filter_text.clone();
            }
            Action::Reveal => {
                if let Some(p) = self.selected_person() {
                    if self.reveals.revealed.contains(&p) {
                        self.reveals.revealed.remove(&p);
                        self.status = format!("{p} masked again");
                    } else {
                        self.reveals.pending = Some(p);
                        self.reveals.text.clear();
                        self.mode = Mode::RevealReason;
                    }
                } else {
                    self.status = "select a person to reveal".into();
                }
            }
            Action::Help => self.mode = Mode::Help,
            Action::Breach => self.start_breach(),
            Action::Export => self.export(),
            Action::Reload => {
                self.reload_requested = Some(None);
                self.loading = Some("reloading".into());
            }
            Action::Window => {
                self.window.open();
                self.mode = Mode::Window;
            }
            Action::Review => match &self.ledger {
                Some(tx) => {
                    self.review.loading = tx.send(LedgerWrite::LoadCampaigns).is_ok();
                    self.mode = Mode::Review;
                }
                None => self.status = "review needs the ledger".into(),
            },
            Action::Verdict(_) | Action::NextUndecided | Action::PrevUndecided => {}
            Action::CampaignsLoaded(_) | Action::VerdictRecorded { .. } => {}
            Action::Sort => {
                self.flags.sort = match self.flags.sort {
                    FlagSort::Time => FlagSort::Severity,
                    FlagSort::Severity => FlagSort::Rule,
                    FlagSort::Rule => FlagSort::Staff,
                    FlagSort::Staff => FlagSort::Time,
                };
                self.refresh_flags();
                self.status = format!("flags sorted by {:?}", self.flags.sort).to_lowercase();
            }
            Action::Resize(w, h) => self.size = (w, h),
            Action::Load(ev) => self.on_load(ev),
            Action::SearchDone(g, hits, narrowed) => {
                if g == self.search.generation {
                    self.search.hits = hits;
                    self.search.last = Some(narrowed);
                }
            }
            Action::RevealRecorded { .. } => {}
            Action::Input(_) | Action::Backspace | Action::Submit | Action::Tick => {}
        }
    }

    fn send_ledger(&mut self, w: LedgerWrite) {
        match &self.ledger {
            Some(tx) if tx.send(w.clone()).is_ok() => {}
            _ => self.status = "the ledger writer stopped; the verdict stays unsaved".into(),
        }
    }

    fn review_outcome(&mut self, o: Outcome) {
        match o {
            Outcome::Stay => {}
            Outcome::Close => self.mode = Mode::Normal,
            Outcome::Status(s) => self.status = s,
            Outcome::Send(w) => {
                self.review.sent(&w);
                self.status = "saving the verdict…".into();
                self.send_ledger(w);
            }
        }
    }

    fn on_reveal_recorded(&mut self, action: Action) {
        if let Action::RevealRecorded {
            who,
            reason,
            result,
        } = action
        {
            self.status = match result {
                Ok(()) => {
                    self.reveals.grant(who.clone(), reason);
                    format!("{who} revealed (recorded in the ledger)")
                }
                Err(e) => format!("{who} not revealed: {e}"),
            };
        }
    }

    fn refresh_flags(&mut self) {
        if let Some(d) = self.data.clone() {
            self.flags.resort(&d);
        }
    }

    /// Recomputes the access log's visible rows (off the render path).
    pub fn refresh_access(&mut self) {
        if let Some(d) = self.data.clone() {
            self.access.apply(&d);
        }
    }

    fn on_load(&mut self, ev: LoadEvent) {
        match ev {
            LoadEvent::Step(s) => self.loading = Some(s),
            LoadEvent::Day { day, rows } => {
                self.loading = Some(format!(
                    "reading {day}: {} accesses so far",
                    super::data::thousands(rows)
                ))
            }
            LoadEvent::Failed(e) => {
                self.loading = None;
                self.error = Some(e);
            }
            LoadEvent::Cancelled => self.loading = Some("restarting".into()),
            LoadEvent::Done(d) => {
                self.loading = None;
                self.error = None;
                self.search.last = None;
                self.flags.resort(&d);
                self.access.apply(&d);
                self.subjects.show(Some(&d), self.subjects.id.clone());
                // An audit log's unreadable records are said once, where it shows.
                let warnings: Vec<String> = d.db_logs.iter().filter_map(|l| l.warning()).collect();
                self.status = if warnings.is_empty() {
                    "loaded".into()
                } else {
                    crate::sanitize::terminal(&warnings.join("; "))
                };
                self.data = Some(d);
            }
        }
    }

    fn open_selected(&mut self) {
        let Some(d) = self.data.clone() else { return };
        match self.tab {
            Tab::Flags => {
                let Some(f) = self
                    .flags
                    .order
                    .get(self.flags.sel)
                    .map(|i| &d.flags[*i as usize])
                else {
                    return;
                };
                if let Some(s) = &f.subject_id {
                    self.show_subject(s.to_string());
                } else if let Some(s) = &f.staff_id {
                    self.show_staff(s.as_str());
                }
            }
            Tab::Access => {
                if let Some(r) = self.access.view.get(self.access.sel)
                    && let Some(s) = d.rows.subject(*r as usize)
                {
                    self.show_subject(d.symbols.resolve(s).to_string());
                }
            }
            Tab::Staff => {
                if let Some(s) = d.staff.get(self.staff.sel) {
                    self.access.filter = Filter {
                        staff: Some(s.staff_id.to_string()),
                        ..Filter::default()
                    };
                    self.access.filter_text = format!("staff:{}", s.staff_id);
                    self.refresh_access();
                    self.tab = Tab::Access;
                }
            }
            _ => {}
        }
    }

    pub fn show_subject(&mut self, id: String) {
        self.subjects.id = Some(id);
        let d = self.data.clone();
        self.subjects.show(d.as_deref(), self.subjects.id.clone());
        self.subjects.sel = 0;
        self.tab = Tab::Subjects;
    }

    pub fn show_staff(&mut self, id: &str) {
        if let Some(d) = &self.data
            && let Some(i) = d.staff.iter().position(|s| s.staff_id.as_str() == id)
        {
            self.staff.sel = i;
            self.tab = Tab::Staff;
        }
    }

    fn update_search(&mut self, action: Action) {
        match action {
            Action::Back | Action::Quit => self.mode = Mode::Normal,
            Action::Input(c) => {
                self.search.text.push(c);
                self.rank();
            }
            Action::Backspace => {
                self.search.text.pop();
                self.rank();
            }
            Action::Up => self.search.sel = self.search.sel.saturating_sub(1),
            Action::Down => {
                self.search.sel =
                    (self.search.sel + 1).min(self.search.hits.len().saturating_sub(1))
            }
            Action::Submit | Action::Open => {
                self.mode = Mode::Normal;
                if let Some(h) = self.search.hits.get(self.search.sel).cloned() {
                    match h.kind {
                        HitKind::Subject => self.show_subject(h.id),
                        HitKind::Staff => self.show_staff(&h.id),
                        HitKind::Reference => {
                            self.status = format!("reference {}", h.id);
                            self.access.filter_text = String::new();
                            self.access.filter = Filter::default();
                            self.refresh_access();
                            if let Some(d) = &self.data
                                && let Some(sym) = d.symbols.get(&h.id)
                            {
                                self.access
                                    .view
                                    .retain(|i| d.rows.reference(*i as usize) == Some(sym));
                            }
                            self.access.sel = 0;
                            self.tab = Tab::Access;
                        }
                        HitKind::DbReads => {
                            self.access.filter = Filter {
                                staff: Some(h.id.clone()),
                                source: Some(crate::tui::tabs::access::Origin::Db),
                                ..Filter::default()
                            };
                            self.access.filter_text = format!("staff:{} source:db", h.id);
                            self.refresh_access();
                            self.tab = Tab::Access;
                        }
                        HitKind::Rule => {
                            self.access.filter = Filter {
                                rule: Rule::from_name(&h.id),
                                ..Filter::default()
                            };
                            self.access.filter_text = format!("rule:{}", h.id);
                            self.refresh_access();
                            self.tab = Tab::Access;
                        }
                    }
                }
            }
            Action::SearchDone(g, hits, narrowed) if g == self.search.generation => {
                self.search.hits = hits;
                self.search.last = Some(narrowed);
                self.search.sel = 0;
            }
            Action::Resize(w, h) => self.size = (w, h),
            Action::Load(ev) => self.on_load(ev),
            _ => {}
        }
    }

    /// Ranks the corpus for the current query; only the newest query's
    /// results are kept (a single-slot job off the render path).
    fn rank(&mut self) {
        self.search.generation += 1;
        let g = self.search.generation;
        self.search
            .newest
            .store(g, std::sync::atomic::Ordering::Relaxed);
        let q = self.search.text.clone();
        let Some(d) = self.data.clone() else {
            return;
        };
        let prior = self.search.last.clone();
        match &self.spawner {
            Some(tx) => {
                let tx = tx.clone();
                let newest = self.search.newest.clone();
                tokio::task::spawn_blocking(move || {
                    let stale = || newest.load(std::sync::atomic::Ordering::Relaxed) != g;
                    if let Some((hits, narrowed)) = rank(&d, &q, prior.as_deref(), &stale) {
                        let _ = tx.send(Action::SearchDone(g, hits, Arc::new(narrowed)));
                    }
                });
            }
            None => {
                if let Some((hits, narrowed)) = rank(&d, &q, prior.as_deref(), &|| false) {
                    self.search.hits = hits;
                    self.search.last = Some(Arc::new(narrowed));
                    self.search.sel = 0;
                }
            }
        }
    }

    fn update_window(&mut self, action: Action) {
        use super::overlays::window::PickerOutcome;
        match action {
            Action::Resize(w, h) => self.size = (w, h),
            Action::Load(ev) => self.on_load(ev),
            a => match self.window.update(a) {
                PickerOutcome::Stay => {}
                PickerOutcome::Cancel => self.mode = Mode::Normal,
                PickerOutcome::Invalid(m) => self.status = m,
                PickerOutcome::Choose(choice) => {
                    let tz = self
                        .data
                        .as_ref()
                        .map_or(chrono_tz::UTC, |d| d.policy.timezone);
                    match choice.resolve(tz, chrono::Utc::now()) {
                        Ok(w) => {
                            self.status = format!(
                                "loading {} → {}",
                                crate::time::rfc3339(w.from),
                                crate::time::rfc3339(w.to)
                            );
                            self.loading = Some("loading the new window".into());
                            self.reload_requested = Some(Some(choice));
                            self.mode = Mode::Normal;
                        }
                        Err(e) => self.status = e.to_string(),
                    }
                }
            },
        }
    }

    fn update_filter(&mut self, action: Action) {
        match action {
            Action::Back | Action::Quit => self.mode = Mode::Normal,
            Action::Input(c) => self.access.filter_text.push(c),
            Action::Backspace => {
                self.access.filter_text.pop();
            }
            Action::Submit => match Filter::parse(&self.access.filter_text) {
                Ok(f) => {
                    self.access.filter = f;
                    self.mode = Mode::Normal;
                    self.refresh_access();
                    self.tab = Tab::Access;
                    self.status = format!("{} accesses match", self.access.view.len());
                }
                Err(e) => self.status = e.to_string(),
            },
            Action::Resize(w, h) => self.size = (w, h),
            Action::Load(ev) => self.on_load(ev),
            _ => {}
        }
    }

    fn update_reveal(&mut self, action: Action) {
        match action {
            Action::Back | Action::Quit => {
                self.mode = Mode::Normal;
                self.reveals.pending = None;
                self.status = "reveal cancelled".into();
            }
            Action::Input(c) => self.reveals.text.push(c),
            Action::Backspace => {
                self.reveals.text.pop();
            }
            Action::Submit => {
                let reason = self.reveals.text.trim().to_string();
                if reason.is_empty() {
                    self.status = "a reason is required to reveal personal data".into();
                    return;
                }
                if let Some(p) = self.reveals.pending.take() {
                    match &self.ledger {
                        // Shown once the ledger has it: no reveal without a record.
                        Some(tx) => {
                            let sent = tx.send(LedgerWrite::Reveal {
                                who: p.clone(),
                                reason,
                            });
                            self.status = match sent {
                                Ok(()) => format!("recording the reveal of {p}…"),
                                Err(_) => format!("{p} not revealed: the ledger writer stopped"),
                            };
                        }
                        None => {
                            self.reveals.grant(p.clone(), reason);
                            self.status = format!("{p} revealed");
                        }
                    }
                }
                self.mode = Mode::Normal;
            }
            Action::Resize(w, h) => self.size = (w, h),
            Action::Load(ev) => self.on_load(ev),
            _ => {}
        }
    }

    /// Scopes a breach from what is loaded: every access by the selected staff
    /// member (Staff tab) or from the selected access's address (Access log).
    fn start_breach(&mut self) {
        use crate::report::breach::{Incident, Scope, build};
        let Some(d) = self.data.clone() else { return };
        let scope = match self.tab {
            Tab::Staff => match d.staff.get(self.staff.sel) {
                Some(s) => Scope {
                    staff: vec![s.staff_id.to_string()],
                    networks: Vec::new(),
                },
                None => return,
            },
            Tab::Access => {
                let Some(r) = self.access.view.get(self.access.sel) else {
                    return;
                };
                let Some(net) = d
                    .rows
                    .client_ip(*r as usize)
                    .and_then(|ip| Scope::parse_ip(d.symbols.resolve(ip)).ok())
                else {
                    self.status = "this access has no address to scope a breach by".into();
                    return;
                };
                Scope {
                    staff: Vec::new(),
                    networks: vec![net],
                }
            }
            _ => {
                self.status =
                    "breach review: choose a staff member (4) or an access (3) first".into();
                return;
            }
        };
        let mut inc = Incident::default();
        for r in d.rows.iter() {
            if scope.matches(&r.event, &d.symbols) {
                inc.add(&r.event, &d.symbols, d.policy.timezone);
            }
        }
        self.breach = Some(build(
            &d.header,
            d.header.as_of,
            &scope,
            &self.deadlines,
            &self.breach_switches,
            inc,
            &d.dir,
            false,
        ));
        self.mode = Mode::Breach;
    }

    fn export_breach(&mut self) {
        let Some(b) = &self.breach else { return };
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let md = self.export_dir.join(format!("keyhole-incident-{stamp}.md"));
        let csv = self.export_dir.join(format!("keyhole-notify-{stamp}.csv"));
        let r = std::fs::write(
            &md,
            crate::report::breach::render(b, crate::report::Format::Md, false),
        )
        .and_then(|_| {
            std::fs::write(
                &csv,
                crate::report::breach::render(b, crate::report::Format::Csv, false),
            )
        });
        self.status = match r {
            Ok(()) => format!("exported {} and {}", md.display(), csv.display()),
            Err(e) => format!("export failed: {e}"),
        };
    }

    /// Writes the current view through the report writers.
    fn export(&mut self) {
        let Some(d) = self.data.clone() else { return };
        let stamp = d.header.generated_at.format("%Y%m%dT%H%M%SZ");
        let result = match self.tab {
            Tab::Flags | Tab::Overview => {
                let flags: Vec<_> = self
                    .flags
                    .order
                    .iter()
                    .map(|i| d.flags[*i as usize].clone())
                    .collect();
                let path = self.export_dir.join(format!("keyhole-flags-{stamp}.md"));
                std::fs::write(
                    &path,
                    crate::report::flags_md(&d.header, &d.policy, &flags, d.rows.len() as u64),
                )
                .map(|_| path)
            }
            _ => {
                let path = self
                    .export_dir
                    .join(format!("keyhole-accesses-{stamp}.csv"));
                // The same cells as `report accesses --format csv`: the verdict's
                // reasons are judged again from the loaded context, not kept per row.
                let ctx = crate::rules::Context::new(&d.policy, &d.dir, d.header.as_of);
                let mut out =
                    crate::report::csv_row(&crate::report::ACCESS_COLUMNS.map(String::from));
                for i in &self.access.view {
                    let r = d.rows.get(*i as usize);
                    let judged = crate::rules::JudgedEvent {
                        event: r.event.clone(),
                        verdict: ctx
                            .judge_event(&crate::rules::EventView::new(&r.event, &d.symbols)),
                        day_rules: r
                            .rule_list()
                            .into_iter()
                            .filter(|x| x.kind() == crate::rules::RuleKind::StaffDay)
                            .collect(),
                    };
                    out.push_str(&crate::report::csv_row(&crate::report::access_cells(
                        &judged, &d.symbols,
                    )));
                }
                std::fs::write(&path, out).map(|_| path)
            }
        };
        self.status = match result {
            Ok(p) => format!("exported to {}", p.display()),
            Err(e) => format!("export failed: {e}"),
        };
    }

    /// Severity counts of the flags, for the overview.
    pub fn severity_counts(&self) -> [u64; 4] {
        let mut c = [0u64; 4];
        if let Some(d) = &self.data {
            for f in &d.flags {
                c[f.severity as usize] += 1;
            }
        }
        c
    }

    pub fn worst(&self) -> Option<Severity> {
        self.data.as_ref()?.flags.iter().map(|f| f.severity).max()
    }
}
