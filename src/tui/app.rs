//! The dashboard's state machine: one [`Action`] enum, and [`App::update`]
//! as the only place state changes. Drawing reads the state and never
//! changes it. Nothing here knows a terminal exists, so tests drive it with
//! actions alone.

use std::collections::HashSet;
use std::sync::Arc;

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

use super::data::{Dataset, LoadEvent};
use crate::rules::{Rule, Severity};

message_error!(
    /// A filter bar entry keyhole cannot read.
    FilterError
);

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
    fn index(self) -> usize {
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagSort {
    Time,
    Severity,
    Rule,
    Staff,
}

/// A fuzzy-search hit: what it points at and which characters matched.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub kind: HitKind,
    pub id: String,
    pub score: i64,
    pub matched: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitKind {
    Staff,
    Subject,
    Reference,
    Rule,
}

/// One line of a person's timeline: an access, a request or a disclosure.
#[derive(Debug, Clone)]
pub struct TimelineEntry {
    pub at: crate::model::Instant,
    pub what: &'static str,
    pub mark: &'static str,
    pub severity: Option<Severity>,
    pub who: String,
    pub detail: String,
}

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
    Sort,
    /// Breach review of the selected staff member, or of the selected access's address.
    Breach,
    Input(char),
    Backspace,
    Submit,
    Resize(u16, u16),
    Load(LoadEvent),
    SearchDone(u64, Vec<SearchHit>),
    ClickTab(usize),
    /// A click on screen line `y` (selects the row under it).
    ClickRow(u16),
    ScrollUp,
    ScrollDown,
    Tick,
}

/// The filter bar: `staff:104 rule:vip_access since:2026-03-01`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub staff: Option<String>,
    pub subject: Option<String>,
    pub rule: Option<Rule>,
    pub category: Option<String>,
    pub purpose: Option<String>,
    pub since: Option<chrono::NaiveDate>,
    pub until: Option<chrono::NaiveDate>,
    pub flagged_only: bool,
}

impl Filter {
    pub fn parse(s: &str) -> Result<Filter, FilterError> {
        let mut f = Filter::default();
        for word in s.split_whitespace() {
            let (k, v) = word
                .split_once(':')
                .ok_or_else(|| format!("{word:?}: expected key:value"))?;
            let date = |v: &str| {
                chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .map_err(|_| format!("{word:?}: expected a date like 2026-03-01"))
            };
            match k {
                "staff" => f.staff = Some(v.into()),
                "subject" => f.subject = Some(v.into()),
                "rule" => {
                    f.rule = Some(Rule::from_name(v).ok_or_else(|| format!("unknown rule {v:?}"))?)
                }
                "category" => f.category = Some(v.to_lowercase()),
                "purpose" => f.purpose = Some(v.to_lowercase()),
                "since" => f.since = Some(date(v)?),
                "until" => f.until = Some(date(v)?),
                "flagged" => f.flagged_only = matches!(v, "yes" | "true" | "1"),
                _ => {
                    return Err(format!(
                        "unknown filter {k:?} (staff, subject, rule, category, purpose, since, until, flagged)"
                    ).into());
                }
            }
        }
        Ok(f)
    }
}

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
    pub flag_sort: FlagSort,
    pub flag_order: Vec<u32>,
    pub flag_sel: usize,
    pub access_view: Vec<u32>,
    pub access_sel: usize,
    pub filter: Filter,
    pub filter_text: String,
    pub staff_sel: usize,
    pub subject: Option<String>,
    /// Rows of accesses to the current subject, computed when it is chosen.
    pub subject_view: Vec<u32>,
    /// Accesses, requests and disclosures about the current subject, in time order.
    pub subject_timeline: Vec<TimelineEntry>,
    pub subject_sel: usize,
    pub disclosure_sel: usize,
    pub request_sel: usize,
    pub search_text: String,
    pub search_hits: Vec<SearchHit>,
    pub search_sel: usize,
    search_generation: u64,
    search_corpus: Arc<Vec<(HitKind, String, String)>>,
    pub reveal_text: String,
    pending_reveal: Option<String>,
    pub revealed: HashSet<String>,
    /// Reveals with their reasons, for the log (and the ledger later).
    pub reveal_log: Vec<(String, String)>,
    /// Where `e` writes exports.
    pub export_dir: std::path::PathBuf,
    /// Where times are shown (the config's `display_timezone`); None: the policy's zone.
    pub display_timezone: Option<chrono_tz::Tz>,
    /// The breach review on screen, if any.
    pub breach: Option<crate::report::breach::BreachReport>,
    /// Reload requested: the event loop starts a new load.
    pub reload_requested: bool,
    /// Where search ranking results go; None ranks inline (tests).
    pub spawner: Option<tokio::sync::mpsc::UnboundedSender<Action>>,
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
            flag_sort: FlagSort::Time,
            flag_order: Vec::new(),
            flag_sel: 0,
            access_view: Vec::new(),
            access_sel: 0,
            filter: Filter::default(),
            filter_text: String::new(),
            staff_sel: 0,
            subject: None,
            subject_view: Vec::new(),
            subject_timeline: Vec::new(),
            subject_sel: 0,
            disclosure_sel: 0,
            request_sel: 0,
            search_text: String::new(),
            search_hits: Vec::new(),
            search_sel: 0,
            search_generation: 0,
            search_corpus: Arc::new(Vec::new()),
            reveal_text: String::new(),
            pending_reveal: None,
            revealed: HashSet::new(),
            reveal_log: Vec::new(),
            export_dir: std::path::PathBuf::from("."),
            reload_requested: false,
            breach: None,
            display_timezone: None,
            spawner: None,
        }
    }

    /// Rows a page holds in the current layout.
    pub fn page(&self) -> usize {
        (self.size.1 as usize).saturating_sub(8).max(1)
    }

    pub fn is_revealed(&self, key: &str) -> bool {
        self.revealed.contains(key)
    }

    /// The person under the cursor, as `staff:ID` or `subject:ID`.
    pub fn selected_person(&self) -> Option<String> {
        let d = self.data.as_ref()?;
        match self.tab {
            Tab::Flags => {
                let f = &d.flags[*self.flag_order.get(self.flag_sel)? as usize];
                f.subject_id
                    .as_ref()
                    .map(|s| format!("subject:{s}"))
                    .or(f.staff_id.as_ref().map(|s| format!("staff:{s}")))
            }
            Tab::Access => {
                let r = &d.rows[*self.access_view.get(self.access_sel)? as usize];
                r.event
                    .subject
                    .map(|s| format!("subject:{}", d.symbols.resolve(s)))
            }
            Tab::Staff => d
                .staff
                .get(self.staff_sel)
                .map(|s| format!("staff:{}", s.staff_id)),
            Tab::Subjects => self.subject.as_ref().map(|s| format!("subject:{s}")),
            _ => None,
        }
    }

    fn list_len(&self) -> usize {
        let Some(d) = &self.data else { return 0 };
        match self.tab {
            Tab::Overview => 0,
            Tab::Flags => self.flag_order.len(),
            Tab::Access => self.access_view.len(),
            Tab::Staff => d.staff.len(),
            Tab::Subjects => self.subject_timeline.len(),
            Tab::Disclosures => d.dir.disclosures.as_ref().map_or(0, Vec::len),
            Tab::Requests => d.dir.requests.as_ref().map_or(0, Vec::len),
        }
    }

    /// Row indices of accesses to the current subject.
    pub fn subject_rows(&self) -> Vec<u32> {
        let (Some(d), Some(id)) = (&self.data, &self.subject) else {
            return Vec::new();
        };
        let Some(sym) = d.symbols.get(id) else {
            return Vec::new();
        };
        d.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.event.subject == Some(sym))
            .map(|(i, _)| i as u32)
            .collect()
    }

    /// The current subject's accesses, requests and disclosure items, by time.
    fn timeline(&self) -> Vec<TimelineEntry> {
        let (Some(d), Some(id)) = (&self.data, &self.subject) else {
            return Vec::new();
        };
        let mut v: Vec<TimelineEntry> = Vec::new();
        for i in &self.subject_view {
            let r = &d.rows[*i as usize];
            let e = &r.event;
            let detail = if r.flagged() {
                r.rule_list()
                    .iter()
                    .map(|x| x.name())
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                d.relationship(r)
                    .map(|rel| {
                        format!("{} {}", rel.kind, rel.reference.clone().unwrap_or_default())
                    })
                    .unwrap_or_else(|| "permitted".into())
            };
            v.push(TimelineEntry {
                at: e.occurred_at,
                what: "access",
                mark: "✓",
                severity: d.row_severity(r),
                who: d.symbols.resolve(e.staff).to_string(),
                detail: format!(
                    "{} {} · {detail}",
                    d.text(e.action),
                    d.text(e.data_category)
                ),
            });
        }
        for q in d
            .dir
            .requests
            .iter()
            .flatten()
            .filter(|q| q.subject_id.as_str() == id)
        {
            let channel = q.channel.clone().unwrap_or_default();
            v.push(TimelineEntry {
                at: q.received_at,
                what: "request",
                mark: "→",
                severity: None,
                who: q.request_id.to_string(),
                detail: format!("{} request received via {channel}", q.kind),
            });
            if let Some(c) = q.completed_at.filter(|c| *c <= d.header.as_of) {
                v.push(TimelineEntry {
                    at: c,
                    what: "request",
                    mark: "✓",
                    severity: None,
                    who: q.request_id.to_string(),
                    detail: format!("{} request completed", q.kind),
                });
            }
        }
        let disclosures: std::collections::HashMap<&str, &crate::model::Disclosure> = d
            .dir
            .disclosures
            .iter()
            .flatten()
            .map(|x| (x.disclosure_id.as_str(), x))
            .collect();
        for it in d
            .dir
            .disclosure_items
            .iter()
            .flatten()
            .filter(|i| i.subject_id.as_str() == id)
        {
            let Some(at) = it.disclosed_at.filter(|t| *t <= d.header.as_of) else {
                continue;
            };
            let to = disclosures
                .get(it.disclosure_id.as_str())
                .map(|x| format!("{} to {}", x.kind, x.requester))
                .unwrap_or_default();
            v.push(TimelineEntry {
                at,
                what: "disclosure",
                mark: "◆",
                severity: None,
                who: it.disclosure_id.to_string(),
                detail: format!(
                    "{} data · {to}",
                    it.data_category.clone().unwrap_or_default()
                ),
            });
        }
        v.sort_by_key(|e| e.at);
        v
    }

    fn selection(&mut self) -> &mut usize {
        match self.tab {
            Tab::Flags => &mut self.flag_sel,
            Tab::Access => &mut self.access_sel,
            Tab::Staff => &mut self.staff_sel,
            Tab::Subjects => &mut self.subject_sel,
            Tab::Disclosures => &mut self.disclosure_sel,
            Tab::Requests | Tab::Overview => &mut self.request_sel,
        }
    }

    fn move_by(&mut self, delta: isize) {
        let len = self.list_len();
        let sel = self.selection();
        let max = len.saturating_sub(1) as isize;
        *sel = (*sel as isize + delta).clamp(0, max.max(0)) as usize;
    }

    pub fn update(&mut self, action: Action) {
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
                if self.tab == Tab::Subjects && self.subject.is_some() {
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
            Action::GoTab(i) | Action::ClickTab(i) => {
                if let Some(t) = Tab::ALL.get(i) {
                    self.tab = *t;
                }
            }
            Action::ClickRow(y) => {
                let len = self.list_len();
                let sel = *self.selection();
                if let Some(i) = super::view::row_at(self, sel, len, y) {
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
                    self.search_text.clear();
                    self.search_hits.clear();
                    self.search_sel = 0;
                }
            }
            Action::Filter => {
                self.mode = Mode::Filter;
                self.filter_text = self.filter_text.clone();
            }
            Action::Reveal => {
                if let Some(p) = self.selected_person() {
                    if self.revealed.contains(&p) {
                        self.revealed.remove(&p);
                        self.status = format!("{p} masked again");
                    } else {
                        self.pending_reveal = Some(p);
                        self.reveal_text.clear();
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
                self.reload_requested = true;
                self.loading = Some("reloading".into());
            }
            Action::Sort => {
                self.flag_sort = match self.flag_sort {
                    FlagSort::Time => FlagSort::Severity,
                    FlagSort::Severity => FlagSort::Rule,
                    FlagSort::Rule => FlagSort::Staff,
                    FlagSort::Staff => FlagSort::Time,
                };
                self.sort_flags();
                self.status = format!("flags sorted by {:?}", self.flag_sort).to_lowercase();
            }
            Action::Resize(w, h) => self.size = (w, h),
            Action::Load(ev) => self.on_load(ev),
            Action::SearchDone(g, hits) => {
                if g == self.search_generation {
                    self.search_hits = hits;
                }
            }
            Action::Input(_) | Action::Backspace | Action::Submit | Action::Tick => {}
        }
    }

    fn on_load(&mut self, ev: LoadEvent) {
        match ev {
            LoadEvent::Step(s) => self.loading = Some(s),
            LoadEvent::Day { day, rows } => {
                self.loading = Some(format!("reading {day}: {rows} accesses so far"))
            }
            LoadEvent::Failed(e) => {
                self.loading = None;
                self.error = Some(e);
            }
            LoadEvent::Done(d) => {
                self.loading = None;
                self.error = None;
                self.search_corpus = Arc::new(build_corpus(&d));
                self.data = Some(d);
                self.sort_flags();
                self.apply_filter();
                self.subject_view = self.subject_rows();
                self.subject_timeline = self.timeline();
                self.status = "loaded".into();
            }
        }
    }

    fn sort_flags(&mut self) {
        let Some(d) = &self.data else { return };
        let mut order: Vec<u32> = (0..d.flags.len() as u32).collect();
        match self.flag_sort {
            FlagSort::Time => {}
            FlagSort::Severity => {
                order.sort_by_key(|i| std::cmp::Reverse(d.flags[*i as usize].severity))
            }
            FlagSort::Rule => order.sort_by_key(|i| d.flags[*i as usize].rule),
            FlagSort::Staff => order.sort_by(|a, b| {
                d.flags[*a as usize]
                    .staff_id
                    .cmp(&d.flags[*b as usize].staff_id)
            }),
        }
        self.flag_order = order;
        self.flag_sel = self.flag_sel.min(self.flag_order.len().saturating_sub(1));
    }

    /// Recomputes the access log's visible rows (off the render path).
    pub fn apply_filter(&mut self) {
        let Some(d) = &self.data else { return };
        let f = &self.filter;
        let tz = d.policy.timezone;
        let staff = f.staff.as_deref().and_then(|s| d.symbols.get(s));
        let subject = f.subject.as_deref().and_then(|s| d.symbols.get(s));
        let missing =
            (f.staff.is_some() && staff.is_none()) || (f.subject.is_some() && subject.is_none());
        self.access_view = if missing {
            Vec::new()
        } else {
            d.rows
                .iter()
                .enumerate()
                .filter(|(_, r)| {
                    let e = &r.event;
                    staff.is_none_or(|s| e.staff == s)
                        && subject.is_none_or(|s| e.subject == Some(s))
                        && f.rule.is_none_or(|x| r.rules & (1 << (x as u32)) != 0)
                        && (!f.flagged_only || r.flagged())
                        && f.category
                            .as_deref()
                            .is_none_or(|c| d.text(e.data_category).to_lowercase() == c)
                        && f.purpose
                            .as_deref()
                            .is_none_or(|p| d.text(e.purpose).to_lowercase() == p)
                        && f.since
                            .is_none_or(|s| e.occurred_at.with_timezone(&tz).date_naive() >= s)
                        && f.until
                            .is_none_or(|u| e.occurred_at.with_timezone(&tz).date_naive() <= u)
                })
                .map(|(i, _)| i as u32)
                .collect()
        };
        self.access_sel = self
            .access_sel
            .min(self.access_view.len().saturating_sub(1));
    }

    fn open_selected(&mut self) {
        let Some(d) = self.data.clone() else { return };
        match self.tab {
            Tab::Flags => {
                let Some(f) = self
                    .flag_order
                    .get(self.flag_sel)
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
                if let Some(r) = self
                    .access_view
                    .get(self.access_sel)
                    .map(|i| &d.rows[*i as usize])
                    && let Some(s) = r.event.subject
                {
                    self.show_subject(d.symbols.resolve(s).to_string());
                }
            }
            Tab::Staff => {
                if let Some(s) = d.staff.get(self.staff_sel) {
                    self.filter = Filter {
                        staff: Some(s.staff_id.to_string()),
                        ..Filter::default()
                    };
                    self.filter_text = format!("staff:{}", s.staff_id);
                    self.apply_filter();
                    self.tab = Tab::Access;
                }
            }
            _ => {}
        }
    }

    pub fn show_subject(&mut self, id: String) {
        self.subject = Some(id);
        self.subject_view = self.subject_rows();
        self.subject_timeline = self.timeline();
        self.subject_sel = 0;
        self.tab = Tab::Subjects;
    }

    pub fn show_staff(&mut self, id: &str) {
        if let Some(d) = &self.data
            && let Some(i) = d.staff.iter().position(|s| s.staff_id.as_str() == id)
        {
            self.staff_sel = i;
            self.tab = Tab::Staff;
        }
    }

    fn update_search(&mut self, action: Action) {
        match action {
            Action::Back | Action::Quit => self.mode = Mode::Normal,
            Action::Input(c) => {
                self.search_text.push(c);
                self.rank();
            }
            Action::Backspace => {
                self.search_text.pop();
                self.rank();
            }
            Action::Up => self.search_sel = self.search_sel.saturating_sub(1),
            Action::Down => {
                self.search_sel =
                    (self.search_sel + 1).min(self.search_hits.len().saturating_sub(1))
            }
            Action::Submit | Action::Open => {
                self.mode = Mode::Normal;
                if let Some(h) = self.search_hits.get(self.search_sel).cloned() {
                    match h.kind {
                        HitKind::Subject => self.show_subject(h.id),
                        HitKind::Staff => self.show_staff(&h.id),
                        HitKind::Reference => {
                            self.status = format!("reference {}", h.id);
                            self.filter_text = String::new();
                            self.filter = Filter::default();
                            self.apply_filter();
                            if let Some(d) = &self.data
                                && let Some(sym) = d.symbols.get(&h.id)
                            {
                                self.access_view
                                    .retain(|i| d.rows[*i as usize].event.reference == Some(sym));
                            }
                            self.access_sel = 0;
                            self.tab = Tab::Access;
                        }
                        HitKind::Rule => {
                            self.filter = Filter {
                                rule: Rule::from_name(&h.id),
                                ..Filter::default()
                            };
                            self.filter_text = format!("rule:{}", h.id);
                            self.apply_filter();
                            self.tab = Tab::Access;
                        }
                    }
                }
            }
            Action::SearchDone(g, hits) if g == self.search_generation => {
                self.search_hits = hits;
                self.search_sel = 0;
            }
            Action::Resize(w, h) => self.size = (w, h),
            Action::Load(ev) => self.on_load(ev),
            _ => {}
        }
    }

    /// Ranks the corpus for the current query; only the newest query's
    /// results are kept (a single-slot job off the render path).
    fn rank(&mut self) {
        self.search_generation += 1;
        let g = self.search_generation;
        let q = self.search_text.clone();
        let corpus = self.search_corpus.clone();
        match &self.spawner {
            Some(tx) => {
                let tx = tx.clone();
                tokio::task::spawn_blocking(move || {
                    let hits = rank(&corpus, &q);
                    let _ = tx.send(Action::SearchDone(g, hits));
                });
            }
            None => {
                self.search_hits = rank(&corpus, &q);
                self.search_sel = 0;
            }
        }
    }

    fn update_filter(&mut self, action: Action) {
        match action {
            Action::Back | Action::Quit => self.mode = Mode::Normal,
            Action::Input(c) => self.filter_text.push(c),
            Action::Backspace => {
                self.filter_text.pop();
            }
            Action::Submit => match Filter::parse(&self.filter_text) {
                Ok(f) => {
                    self.filter = f;
                    self.mode = Mode::Normal;
                    self.apply_filter();
                    self.tab = Tab::Access;
                    self.status = format!("{} accesses match", self.access_view.len());
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
                self.pending_reveal = None;
                self.status = "reveal cancelled".into();
            }
            Action::Input(c) => self.reveal_text.push(c),
            Action::Backspace => {
                self.reveal_text.pop();
            }
            Action::Submit => {
                let reason = self.reveal_text.trim().to_string();
                if reason.is_empty() {
                    self.status = "a reason is required to reveal personal data".into();
                    return;
                }
                if let Some(p) = self.pending_reveal.take() {
                    self.revealed.insert(p.clone());
                    self.reveal_log.push((p.clone(), reason));
                    self.status = format!("{p} revealed");
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
        use crate::report::breach::{DeadlineTable, Incident, Scope, build};
        let Some(d) = self.data.clone() else { return };
        let scope = match self.tab {
            Tab::Staff => match d.staff.get(self.staff_sel) {
                Some(s) => Scope {
                    staff: vec![s.staff_id.to_string()],
                    networks: Vec::new(),
                },
                None => return,
            },
            Tab::Access => {
                let Some(r) = self
                    .access_view
                    .get(self.access_sel)
                    .map(|i| &d.rows[*i as usize])
                else {
                    return;
                };
                let Some(net) = r
                    .event
                    .client_ip
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
        for r in &d.rows {
            if scope.matches(&r.event, &d.symbols) {
                inc.add(&r.event, &d.symbols, d.policy.timezone);
            }
        }
        self.breach = Some(build(
            &d.header,
            d.header.as_of,
            &scope,
            &DeadlineTable::builtin(),
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
                    .flag_order
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
                let mut out =
                    crate::report::csv_row(&crate::report::ACCESS_COLUMNS.map(String::from));
                for i in &self.access_view {
                    let r = &d.rows[*i as usize];
                    let names: Vec<String> =
                        r.rule_list().iter().map(|x| x.name().to_string()).collect();
                    let why = match d.relationship(r) {
                        Some(rel) => format!("explained by {}", crate::rules::rel_text(rel)),
                        None if names.is_empty() => "no rule fired".into(),
                        None => String::new(),
                    };
                    let e = &r.event;
                    out.push_str(&crate::report::csv_row(&[
                        e.event_id.to_string(),
                        crate::time::rfc3339(e.occurred_at),
                        d.symbols.resolve(e.staff).to_string(),
                        d.text(e.subject).to_string(),
                        d.text(e.action).to_string(),
                        d.text(e.data_category).to_string(),
                        d.text(e.purpose).to_string(),
                        d.text(e.reference).to_string(),
                        d.text(e.client_ip).to_string(),
                        e.record_count.to_string(),
                        d.relationship(r)
                            .map(crate::rules::rel_text)
                            .unwrap_or_default(),
                        names.join(" "),
                        why,
                    ]));
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

/// Search corpus: (kind, id, text to match).
fn build_corpus(d: &Dataset) -> Vec<(HitKind, String, String)> {
    let mut v = Vec::new();
    for s in &d.dir.staff {
        v.push((
            HitKind::Staff,
            s.staff_id.to_string(),
            format!("{} {}", s.staff_id, s.display_name),
        ));
    }
    for s in &d.dir.subjects {
        v.push((
            HitKind::Subject,
            s.subject_id.to_string(),
            format!("{} {}", s.subject_id, s.display_name),
        ));
    }
    let mut refs: Vec<&str> = d
        .rows
        .iter()
        .filter_map(|r| r.event.reference)
        .map(|s| d.symbols.resolve(s))
        .collect();
    refs.sort_unstable();
    refs.dedup();
    for r in refs {
        v.push((HitKind::Reference, r.to_string(), r.to_string()));
    }
    for r in Rule::ALL {
        v.push((HitKind::Rule, r.name().to_string(), r.name().to_string()));
    }
    v
}

/// The best 50 hits for `q`, with the matched character positions.
pub fn rank(corpus: &[(HitKind, String, String)], q: &str) -> Vec<SearchHit> {
    if q.trim().is_empty() {
        return Vec::new();
    }
    let m = SkimMatcherV2::default();
    let mut hits: Vec<SearchHit> = corpus
        .iter()
        .filter_map(|(k, id, text)| {
            m.fuzzy_indices(text, q).map(|(score, matched)| SearchHit {
                kind: *k,
                id: id.clone(),
                score,
                matched,
            })
        })
        .collect();
    hits.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    hits.truncate(50);
    hits
}
