//! The dashboard without a terminal: snapshots of every view at 80x24 and
//! 160x48 from the demo, headless runs driven by actions, and an end-to-end
//! run of the real binary in tmux.

mod common;

use std::path::Path;
use std::sync::Arc;

use keyhole::tui::app::{Action, App, Mode, Tab};
use keyhole::tui::data::{Dataset, LoadEvent};
use keyhole::tui::{keys, render_to_string};

async fn dataset(dir: &Path) -> Arc<Dataset> {
    common::judged_demo(dir).await
}

fn app_with(d: Arc<Dataset>, export: &Path) -> App {
    let mut app = App::new(false);
    app.export_dir = export.to_path_buf();
    app.update(Action::Load(LoadEvent::Done(d)));
    app
}

#[tokio::test]
async fn navigation_moves_the_selection_and_switches_tabs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(dir.path()).await;
    let mut app = app_with(d, dir.path());
    assert_eq!(app.tab, Tab::Overview);
    app.update(Action::NextTab);
    assert_eq!(app.tab, Tab::Flags);
    app.update(Action::Down);
    app.update(Action::Down);
    assert_eq!(app.flags.sel, 2);
    app.update(Action::End);
    assert_eq!(app.flags.sel, app.flags.order.len() - 1);
    app.update(Action::Down);
    assert_eq!(
        app.flags.sel,
        app.flags.order.len() - 1,
        "stays on the last row"
    );
    app.update(Action::Home);
    app.update(Action::PageDown);
    assert_eq!(app.flags.sel, app.page());
    app.update(Action::PrevTab);
    assert_eq!(app.tab, Tab::Overview);
    app.update(Action::PrevTab);
    assert_eq!(app.tab, Tab::Requests);
    app.update(Action::Back);
    assert_eq!(app.tab, Tab::Overview);
    app.update(Action::Back);
    assert!(app.quit, "q on the overview quits");
}

#[tokio::test]
async fn search_finds_a_subject_and_opens_their_page() {
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(dir.path()).await;
    let mut app = app_with(d, dir.path());
    app.update(Action::Search);
    assert_eq!(app.mode, Mode::Search);
    for c in "15000".chars() {
        app.update(Action::Input(c));
    }
    let first = app.search.hits.first().expect("a hit").clone();
    assert_eq!(first.id, "15000");
    assert_eq!(first.matched, vec![0, 1, 2, 3, 4], "the matched characters");
    app.update(Action::Submit);
    assert_eq!(app.tab, Tab::Subjects);
    assert_eq!(app.subjects.id.as_deref(), Some("15000"));
    let screen = render_to_string(&app, &keys::defaults(), 100, 30);
    assert!(screen.contains("subject 15000"), "{screen}");
    assert!(
        screen.contains("family_access"),
        "the planted family access shows: {screen}"
    );
}

#[tokio::test]
async fn the_filter_bar_narrows_the_access_log_and_reports_mistakes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(dir.path()).await;
    let mut app = app_with(d.clone(), dir.path());
    app.update(Action::Filter);
    for c in "staff:104 rule:bulk_access".chars() {
        app.update(Action::Input(c));
    }
    app.update(Action::Submit);
    assert_eq!(app.tab, Tab::Access);
    assert_eq!(app.access.view.len(), 120, "agent 104's night sweep");
    assert!(
        app.access
            .view
            .iter()
            .all(|i| d.symbols.resolve(d.rows.staff(*i as usize)) == "104")
    );
    app.update(Action::Filter);
    for c in " colour:red".chars() {
        app.update(Action::Input(c));
    }
    app.update(Action::Submit);
    assert_eq!(app.mode, Mode::Filter, "a bad filter keeps the bar open");
    assert!(app.status.contains("unknown filter"), "{}", app.status);
    assert_eq!(app.access.view.len(), 120, "and the last good filter stays");
}

/// Every filter keeps exactly the rows a plain reading of it keeps: each
/// access put back together whole and tested one condition at a time, with
/// days bounded in the policy's zone (New York, where a local day runs
/// from 04:00 to 04:00 UTC in October).
#[tokio::test]
async fn each_filter_keeps_exactly_the_rows_that_match_it_whole() {
    use keyhole::tui::tabs::access::{AccessTab, Filter};
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(dir.path()).await;
    let tz = d.policy.timezone;
    let staff_of_first_flag = d
        .symbols
        .resolve(d.rows.get(d.rows.flagged()[0].0 as usize).event.staff)
        .to_string();
    let cases = [
        String::new(),
        "flagged:yes".into(),
        "rule:off_hours".into(),
        "rule:bulk_access since:2026-10-15".into(),
        "since:2026-10-20 until:2026-10-20".into(),
        "until:2026-10-02".into(),
        "since:2026-10-19 until:2026-10-21 flagged:yes".into(),
        "category:PAYMENT".into(),
        "purpose:support_ticket category:contact".into(),
        format!("staff:{staff_of_first_flag}"),
        format!("staff:{staff_of_first_flag} flagged:yes until:2026-10-25"),
        "subject:15000".into(),
        "staff:nobody".into(),
    ];
    let mut sizes = Vec::new();
    for text in &cases {
        let f = Filter::parse(text).unwrap();
        let mut tab = AccessTab {
            filter: f.clone(),
            ..AccessTab::default()
        };
        tab.apply(&d);
        let plain: Vec<u32> = d
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                let e = &r.event;
                let day = e.occurred_at.with_timezone(&tz).date_naive();
                f.staff
                    .as_deref()
                    .is_none_or(|s| d.symbols.resolve(e.staff) == s)
                    && f.subject
                        .as_deref()
                        .is_none_or(|s| e.subject.map(|x| d.symbols.resolve(x)) == Some(s))
                    && f.rule.is_none_or(|x| r.rule_list().contains(&x))
                    && (!f.flagged_only || r.flagged())
                    && f.category
                        .as_deref()
                        .is_none_or(|c| d.text(e.data_category).to_lowercase() == c)
                    && f.purpose
                        .as_deref()
                        .is_none_or(|p| d.text(e.purpose).to_lowercase() == p)
                    && f.since.is_none_or(|x| day >= x)
                    && f.until.is_none_or(|x| day <= x)
            })
            .map(|(i, _)| i as u32)
            .collect();
        assert_eq!(tab.view, plain, "filter {text:?}");
        sizes.push((text.clone(), plain.len()));
    }
    // Each case but the first keeps fewer rows than the log, and only the
    // unknown staff member keeps none.
    for (k, (text, n)) in sizes.iter().enumerate() {
        let expect_none = text == "staff:nobody";
        assert!(
            (k == 0 || *n < d.rows.len()) && (*n == 0) == expect_none,
            "{sizes:?}"
        );
    }
}

/// Search ranks in place and narrows as a query grows; its hits are those
/// of ranking every staff member, subject, reference and rule from scratch
/// at every keystroke.
#[tokio::test]
async fn search_narrowing_as_the_query_grows_finds_what_a_full_ranking_finds() {
    use fuzzy_matcher::FuzzyMatcher;
    use keyhole::tui::overlays::search::rank;
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(dir.path()).await;
    // (kind rank, id, text): on equal scores staff come first, then
    // subjects, references and rules, each by id.
    let mut corpus: Vec<(u8, String, String)> = Vec::new();
    for s in &d.dir.staff {
        corpus.push((
            0,
            s.staff_id.to_string(),
            format!("{} {}", s.staff_id, s.display_name),
        ));
    }
    for s in &d.dir.subjects {
        corpus.push((
            1,
            s.subject_id.to_string(),
            format!("{} {}", s.subject_id, s.display_name()),
        ));
    }
    let mut refs: Vec<String> = d
        .rows
        .iter()
        .filter_map(|r| r.event.reference)
        .map(|s| d.symbols.resolve(s).to_string())
        .collect();
    refs.sort();
    refs.dedup();
    assert!(!refs.is_empty());
    corpus.extend(refs.into_iter().map(|r| (2, r.clone(), r)));
    corpus.extend(
        keyhole::rules::Rule::ALL
            .iter()
            .map(|r| (3, r.name().to_string(), r.name().to_string())),
    );
    let m = fuzzy_matcher::skim::SkimMatcherV2::default();
    let full = |q: &str| {
        let mut v: Vec<(i64, u8, String, Vec<usize>)> = corpus
            .iter()
            .filter_map(|(k, id, text)| {
                m.fuzzy_indices(text, q)
                    .map(|(s, ix)| (s, *k, id.clone(), ix))
            })
            .collect();
        v.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then(a.1.cmp(&b.1))
                .then_with(|| a.2.cmp(&b.2))
        });
        v.truncate(50);
        v.into_iter()
            .map(|(s, _, id, ix)| (s, id, ix))
            .collect::<Vec<_>>()
    };
    let mut compared = 0;
    for query in ["kenji", "100", "CS-7", "vip acc", "Ma", "zzzq", "é", "JOS"] {
        let mut prior = None;
        let chars: Vec<char> = query.chars().collect();
        for k in 1..=chars.len() {
            let q: &str = &chars[..k].iter().collect::<String>();
            let (hits, narrowed) = rank(&d, q, prior.as_ref(), &|| false).unwrap();
            let got: Vec<(i64, String, Vec<usize>)> = hits
                .into_iter()
                .map(|h| (h.score, h.id, h.matched))
                .collect();
            assert_eq!(got, full(q), "query {q:?}");
            compared += got.len();
            prior = Some(narrowed);
        }
    }
    assert!(compared > 500, "the queries find things: {compared}");
    // Every staff member named Kenji comes before the fifty customers of
    // that name, not cut off behind them.
    let (hits, _) = rank(&d, "kenji", None, &|| false).unwrap();
    let staff: Vec<&str> = hits
        .iter()
        .take_while(|h| h.kind == keyhole::tui::overlays::search::HitKind::Staff)
        .map(|h| h.id.as_str())
        .collect();
    let kenjis: Vec<&str> = d
        .dir
        .staff
        .iter()
        .filter(|s| s.display_name.starts_with("Kenji "))
        .map(|s| s.staff_id.as_str())
        .collect();
    assert!(!kenjis.is_empty());
    assert_eq!(staff, kenjis);
    assert!(hits.len() > staff.len(), "customers follow");
    // A ranking that a newer keystroke has made stale stops with nothing.
    assert!(rank(&d, "k", None, &|| true).is_none());
}

/// The flag behind each rule of each flagged access is the one a scan of
/// every flag finds: the first flag of that rule that lists the access.
#[tokio::test]
async fn each_flagged_access_finds_the_flag_that_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(dir.path()).await;
    let mut checked = [0usize; 2];
    for &(row, _) in d.rows.flagged() {
        let r = d.rows.get(row as usize);
        for rule in r.rule_list() {
            let scan = d
                .flags
                .iter()
                .find(|fl| fl.rule == rule && fl.event_ids.contains(&r.event.event_id));
            let found = d.flag_for(&r, rule);
            assert!(scan.is_some(), "row {row} {rule:?} has a flag");
            assert!(
                std::ptr::eq(found.unwrap(), scan.unwrap()),
                "row {row} {rule:?}"
            );
            checked[usize::from(rule.kind() == keyhole::rules::RuleKind::StaffDay)] += 1;
        }
    }
    assert!(checked[0] > 50 && checked[1] > 50, "{checked:?}");
}

#[tokio::test]
async fn reveal_needs_a_reason_and_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(dir.path()).await;
    let mut app = app_with(d.clone(), dir.path());
    let (ledger_tx, mut ledger_rx) = tokio::sync::mpsc::unbounded_channel();
    app.ledger = Some(ledger_tx);
    app.show_subject("15000".into());
    let real = d.subject_name("15000").unwrap().to_string();
    let b = keys::defaults();
    assert!(
        !render_to_string(&app, &b, 100, 30).contains(&real),
        "masked by default"
    );
    app.update(Action::Reveal);
    assert_eq!(app.mode, Mode::RevealReason);
    app.update(Action::Submit);
    assert_eq!(app.mode, Mode::RevealReason, "no reason, no reveal");
    for c in "DSAR 2026-114".chars() {
        app.update(Action::Input(c));
    }
    app.update(Action::Submit);
    // Nothing is shown until the ledger has recorded the reveal.
    assert!(!render_to_string(&app, &b, 100, 30).contains(&real));
    let Ok(keyhole::tui::reveal::LedgerWrite::Reveal { who, reason }) = ledger_rx.try_recv() else {
        panic!("the reveal was not sent to the ledger");
    };
    assert_eq!(
        (who.as_str(), reason.as_str()),
        ("subject:15000", "DSAR 2026-114")
    );
    // A ledger that cannot take it: still masked, and the status says why.
    app.update(Action::RevealRecorded {
        who: who.clone(),
        reason: reason.clone(),
        result: Err("ledger /x: read-only; a verdict cannot be saved here".into()),
    });
    assert!(!render_to_string(&app, &b, 100, 30).contains(&real));
    assert!(
        app.status.contains("not revealed") && app.status.contains("read-only"),
        "{}",
        app.status
    );
    app.update(Action::RevealRecorded {
        who,
        reason,
        result: Ok(()),
    });
    assert!(render_to_string(&app, &b, 100, 30).contains(&real));
    assert_eq!(
        app.reveals.log,
        vec![("subject:15000".to_string(), "DSAR 2026-114".to_string())]
    );
    app.update(Action::Reveal);
    assert!(
        !render_to_string(&app, &b, 100, 30).contains(&real),
        "v again masks"
    );
}

#[tokio::test]
async fn export_writes_the_current_view_through_the_report_writers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(dir.path()).await;
    let mut app = app_with(d, dir.path());
    app.update(Action::GoTab(1));
    app.update(Action::Export);
    assert!(app.status.starts_with("exported to"), "{}", app.status);
    let md: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".md"))
        .collect();
    assert_eq!(md.len(), 1);
    assert!(
        std::fs::read_to_string(md[0].path())
            .unwrap()
            .starts_with("# Access review")
    );
    app.update(Action::GoTab(2));
    app.update(Action::Export);
    let csv: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".csv"))
        .collect();
    let text = std::fs::read_to_string(csv[0].path()).unwrap();
    assert!(text.starts_with("event_id,occurred_at,"));
    assert_eq!(
        text.lines().count(),
        app.access.view.len() + 1,
        "header and every access shown"
    );
    assert!(app.access.view.len() > 1000);
    // The same rows and cells, `why` included, as `report accesses --format csv`.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_keyhole"))
        .args(["report", "accesses", "--format", "csv", "--db"])
        .arg(format!(
            "sqlite://{}",
            dir.path().join("demo.sqlite").display()
        ))
        .args([
            "--from",
            "2026-10-02T04:00:00Z",
            "--to",
            "2026-11-01T04:00:00Z",
            "--as-of",
            "2026-11-01T12:00:00Z",
        ])
        .env("KEYHOLE_LOG", "off")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text == String::from_utf8(out.stdout).unwrap(),
        "the dashboard's export differs from the report"
    );
}

#[tokio::test]
async fn a_click_selects_the_row_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(dir.path()).await;
    let mut app = app_with(d, dir.path());
    app.update(Action::Resize(80, 24));
    for tab in [1usize, 2, 3, 5, 6] {
        app.update(Action::GoTab(tab));
        app.update(Action::Home);
        // Line 1 is the list's border, 2 its header, 3 the first row; the
        // click is resolved against what the last frame drew.
        render_to_string(&app, &keys::defaults(), 80, 24);
        app.update(Action::Click(3, 5));
        let sel = match tab {
            1 => app.flags.sel,
            2 => app.access.sel,
            3 => app.staff.sel,
            5 => app.disclosures.sel,
            _ => app.requests.sel,
        };
        assert_eq!(sel, 2, "tab {tab}");
        app.update(Action::Click(3, 2));
        let again = match tab {
            1 => app.flags.sel,
            2 => app.access.sel,
            3 => app.staff.sel,
            5 => app.disclosures.sel,
            _ => app.requests.sel,
        };
        assert_eq!(again, 2, "a click on the header changes nothing");
    }
}

#[test]
fn hostile_text_never_reaches_the_screen_raw() {
    let mut app = App::new(false);
    app.update(Action::Load(LoadEvent::Failed(
        "bad \u{1b}[2J value \u{202e}txt".into(),
    )));
    let screen = render_to_string(&app, &keys::defaults(), 80, 24);
    assert!(!screen.contains('\u{1b}') && !screen.contains('\u{202e}'));
    assert!(screen.contains("\\x1b[2J"));
}

fn tmux(args: &[&str]) -> String {
    let o = std::process::Command::new("tmux")
        .args(args)
        .output()
        .expect("tmux");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Whether tmux is here; without it the end-to-end tests skip (and fail
/// under KEYHOLE_REQUIRE_DBS=1, where .ci/run has installed it).
fn tmux_available() -> bool {
    if std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok()
    {
        return true;
    }
    assert!(
        !common::require_dbs(),
        "tmux is needed for the end-to-end test"
    );
    common::skip("tmux is not installed");
    false
}

/// Waits up to 30 s for `needle` on the screen: generous, because a debug
/// binary started while other tests load the machine can take seconds to
/// draw its first frame; a needle that shows returns at once.
fn wait_for(session: &str, needle: &str) -> String {
    let mut screen = String::new();
    for _ in 0..300 {
        screen = tmux(&["capture-pane", "-p", "-t", session]);
        if screen.contains(needle) {
            return screen;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{needle:?} never appeared:\n{screen}");
}

/// Waits until `needle` has left the screen. A key sent right after Escape
/// would reach the terminal as Alt+key (one read, `ESC q`), as it would from
/// a fast typist; the tests wait for Escape to take effect first.
fn wait_gone(session: &str, needle: &str) {
    let mut screen = String::new();
    for _ in 0..300 {
        screen = tmux(&["capture-pane", "-p", "-t", session]);
        if !screen.contains(needle) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{needle:?} never went away:\n{screen}");
}

#[test]
fn the_real_binary_runs_in_tmux_and_leaves_the_shell_usable() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let session = format!("kh-e2e-{}", std::process::id());
    let bin = env!("CARGO_BIN_EXE_keyhole");
    // A window of fixed dates, then another one picked with `w`.
    let today = chrono::Utc::now().date_naive();
    let day = |n: i64| (today - chrono::Duration::days(n)).to_string();
    let cmd = format!(
        "XDG_DATA_HOME={d} XDG_STATE_HOME={d} {bin} demo --events 3000 --path {db} --from {from} --to {to}; echo SHELL-OK $?; sleep 30",
        d = dir.path().display(),
        db = db.display(),
        from = day(20),
        to = day(5),
    );
    let guard = new_session(&session, 80, 24, &cmd);
    wait_for(&session, "loaded");
    wait_for(&session, &format!("Window {}T", day(20)));
    tmux(&["send-keys", "-t", &session, "w"]);
    wait_for(&session, "last quarter");
    tmux(&[
        "send-keys",
        "-t",
        &session,
        "-l",
        &format!("{} {}", day(40), day(30)),
    ]);
    tmux(&["send-keys", "-t", &session, "Enter"]);
    let screen = wait_for(&session, &format!("Window {}T", day(40)));
    assert!(screen.contains(&format!("→ {}T", day(30))), "{screen}");
    tmux(&["send-keys", "-t", &session, "2"]);
    wait_for(&session, "sorted by time");
    tmux(&["send-keys", "-t", &session, "/"]);
    tmux(&["send-keys", "-t", &session, "-l", "vip_acc"]);
    wait_for(&session, "rule      vip_access");
    tmux(&["send-keys", "-t", &session, "Escape"]);
    wait_gone(&session, "rule      vip_access");
    tmux(&["send-keys", "-t", &session, "q"]);
    tmux(&["send-keys", "-t", &session, "q"]);
    let screen = wait_for(&session, "SHELL-OK 0");
    assert!(
        !screen.contains("Overview"),
        "the alternate screen is gone:\n{screen}"
    );
    drop(guard);
}

struct Kill(String);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = std::process::Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .output();
    }
}
/// A detached tmux session of `w` x `h` running `cmd`, killed when the
/// returned guard goes.
fn new_session(session: &str, w: u16, h: u16, cmd: &str) -> Kill {
    tmux(&[
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        &w.to_string(),
        "-y",
        &h.to_string(),
        cmd,
    ]);
    scopeguard(session)
}

fn scopeguard(s: &str) -> Kill {
    Kill(s.to_string())
}

#[tokio::test]
async fn a_breach_review_scopes_the_address_of_the_selected_access() {
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(dir.path()).await;
    let mut app = app_with(d, dir.path());
    app.update(Action::Filter);
    for c in "staff:104 rule:bulk_access".chars() {
        app.update(Action::Input(c));
    }
    app.update(Action::Submit);
    app.update(Action::Breach);
    assert_eq!(app.mode, Mode::Breach);
    let b = app.breach.as_ref().unwrap();
    assert_eq!(b.networks, vec!["203.0.113.77/32".to_string()]);
    assert_eq!(b.subjects, 120);
    let screen = render_to_string(&app, &keys::defaults(), 100, 30);
    assert!(screen.contains("120 people affected"), "{screen}");
    // The plan: the earliest obligation first, dated, with its people.
    let first = &b.obligations[0];
    assert_eq!(first.id, "GDPR/authority");
    let date = &first.deadline_at.as_ref().unwrap()[..10];
    let line = screen
        .lines()
        .find(|l| l.contains("EU/EEA (GDPR): the lead supervisory authority"))
        .unwrap_or_else(|| panic!("no GDPR line in\n{screen}"));
    assert!(line.contains(date), "{line}");
    assert!(
        line.contains(&format!(" {}  EU/EEA", first.people)),
        "{line}"
    );
    // A standard without a clock is said in words, not as a date.
    assert!(
        screen.contains("no fixed date") && screen.contains("as soon as feasible"),
        "{screen}"
    );
    // The config's switch and table reach the review: HIPAA on.
    app.update(Action::Back);
    app.breach_switches = vec!["hipaa"];
    app.update(Action::Breach);
    let b = app.breach.as_ref().unwrap();
    assert!(
        b.obligations.iter().any(|p| p.id == "HIPAA/individuals"),
        "{:?}",
        b.obligations.iter().map(|p| &p.id).collect::<Vec<_>>()
    );
    app.update(Action::Export);
    assert!(app.status.starts_with("exported"), "{}", app.status);
    app.update(Action::Back);
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.breach.is_none());
}

#[tokio::test]
async fn the_display_zone_changes_the_times_on_screen() {
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(dir.path()).await;
    let mut app = app_with(d, dir.path());
    app.update(Action::GoTab(1));
    let b = keys::defaults();
    let ny = render_to_string(&app, &b, 100, 30);
    app.display_timezone = Some(chrono_tz::Europe::Paris);
    let paris = render_to_string(&app, &b, 100, 30);
    // The first flag, at 2026-09-17T18:00:00Z: 14:00 in New York, 20:00 in Paris.
    assert!(ny.contains("09-17 14:00"), "{ny}");
    assert!(paris.contains("09-17 20:00"), "{paris}");
}

fn colour_codes(screen: &str) -> usize {
    // SGR foreground/background colours: ESC[3Xm, ESC[4Xm, ESC[9Xm and 38;/48; forms.
    let mut n = 0;
    for part in screen.split('\u{1b}').skip(1) {
        let Some(params) = part.strip_prefix('[').and_then(|p| p.split('m').next()) else {
            continue;
        };
        if params.split(';').any(|x| {
            x.len() == 2
                && (x.starts_with('3') || x.starts_with('4') || x.starts_with('9'))
                && x != "39"
                && x != "49"
        }) {
            n += 1;
        }
    }
    n
}

fn run_in_tmux(session: &str, env: &str, home: &Path) -> Kill {
    run_in_tmux_with(session, env, "", home)
}

/// [`run_in_tmux`] with `flags` after `demo`.
fn run_in_tmux_with(session: &str, env: &str, flags: &str, home: &Path) -> Kill {
    let bin = env!("CARGO_BIN_EXE_keyhole");
    let db = home.join("demo.sqlite");
    let cmd = format!(
        "{env} XDG_DATA_HOME={d} {bin} demo {flags} --events 3000 --path {db}; echo SHELL-OK $?; stty -a | tr ' ' '\\n' | grep icanon; echo STTY-DONE; sleep 30",
        d = home.display(),
        db = db.display()
    );
    new_session(session, 80, 24, &cmd)
}

#[test]
fn no_color_turns_colour_off_and_a_hangup_restores_the_terminal() {
    if std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_err()
    {
        assert!(
            !common::require_dbs(),
            "tmux is needed for the end-to-end test"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let colour = format!("kh-colour-{}", std::process::id());
    let _g1 = run_in_tmux(&colour, "TERM=xterm-256color", dir.path());
    wait_for(&colour, "loaded");
    let coloured = tmux(&["capture-pane", "-p", "-e", "-t", &colour]);
    assert!(
        colour_codes(&coloured) > 0,
        "the dashboard uses colour when allowed"
    );
    let plain = format!("kh-plain-{}", std::process::id());
    let _g2 = run_in_tmux(&plain, "NO_COLOR=1 TERM=xterm-256color", dir.path());
    wait_for(&plain, "loaded");
    let screen = tmux(&["capture-pane", "-p", "-e", "-t", &plain]);
    assert_eq!(colour_codes(&screen), 0, "NO_COLOR: no colour at all");
    let flagged = format!("kh-flag-{}", std::process::id());
    let _g3 = run_in_tmux_with(&flagged, "TERM=xterm-256color", "--no-color", dir.path());
    wait_for(&flagged, "loaded");
    let screen = tmux(&["capture-pane", "-p", "-e", "-t", &flagged]);
    assert_eq!(colour_codes(&screen), 0, "--no-color: no colour at all");
    // An SSH drop: SIGHUP, then the shell is back in its normal (cooked) mode.
    let pid = String::from_utf8_lossy(
        &std::process::Command::new("tmux")
            .args(["list-panes", "-t", &plain, "-F", "#{pane_pid}"])
            .output()
            .unwrap()
            .stdout,
    )
    .trim()
    .to_string();
    let child = String::from_utf8_lossy(
        &std::process::Command::new("pgrep")
            .args(["-P", &pid, "keyhole"])
            .output()
            .unwrap()
            .stdout,
    )
    .trim()
    .to_string();
    assert!(!child.is_empty(), "keyhole runs under the pane's shell");
    std::process::Command::new("kill")
        .args(["-HUP", &child])
        .status()
        .unwrap();
    // Wait for the whole report of the shell's mode, not only its first line.
    let after = wait_for(&plain, "STTY-DONE");
    assert!(after.contains("SHELL-OK 129"), "SIGHUP exits 129: {after}");
    assert!(
        after.lines().any(|l| l.trim() == "icanon"),
        "raw mode was left: {after}"
    );
    assert!(
        !after.contains("Overview"),
        "the alternate screen is gone: {after}"
    );
}

#[tokio::test]
async fn the_window_picker_asks_for_a_new_window_and_keeps_the_old_one_on_screen() {
    use keyhole::audit::{Preset, WindowChoice};
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(dir.path()).await;
    let mut app = app_with(d.clone(), dir.path());
    let b = keys::defaults();
    app.update(
        keys::lookup(
            &b,
            &crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('w')),
        )
        .unwrap(),
    );
    assert_eq!(app.mode, Mode::Window);
    // Nonsense is refused where it was typed; nothing is asked of the loader.
    for c in "March".chars() {
        app.update(Action::Input(c));
    }
    app.update(Action::Submit);
    assert_eq!(app.mode, Mode::Window);
    assert!(app.status.contains("FROM"), "{}", app.status);
    assert!(app.reload_requested.is_none());
    for _ in 0.."March".len() {
        app.update(Action::Backspace);
    }
    for c in "2026-10-10 2026-10-01".chars() {
        app.update(Action::Input(c));
    }
    app.update(Action::Submit);
    assert!(app.status.contains("window is empty"), "{}", app.status);
    assert!(app.reload_requested.is_none());
    // A preset: the loader is asked for it, the loaded window stays on screen.
    app.update(Action::Back);
    app.update(Action::Window);
    for _ in 0..4 {
        app.update(Action::Down);
    }
    app.update(Action::Submit);
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(
        app.reload_requested,
        Some(Some(WindowChoice::Preset(Preset::LastQuarter)))
    );
    assert!(app.data.is_some());
    let screen = render_to_string(&app, &b, 100, 30);
    assert!(screen.contains("Window 2026-10-02T04:00:00Z"), "{screen}");
    assert!(
        screen.contains("⟳"),
        "a load is shown as under way:\n{screen}"
    );
}

/// Feeds the app what its background tasks send until `done` holds.
async fn pump(
    app: &mut App,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Action>,
    done: impl Fn(&App) -> bool,
) {
    for _ in 0..200 {
        if done(app) {
            return;
        }
        if let Ok(Some(a)) =
            tokio::time::timeout(std::time::Duration::from_millis(50), rx.recv()).await
        {
            app.update(a);
        }
    }
    assert!(
        done(app),
        "the ledger never answered; status {:?}",
        app.status
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_mode_records_verdicts_one_key_at_a_time() {
    use keyhole::ledger::review::NewCampaign;
    use keyhole::ledger::{Ledger, VerdictKind};
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(dir.path()).await;
    let path = dir.path().join("ledger.sqlite");
    let event_items: Vec<(String, serde_json::Value)> = d
        .flags
        .iter()
        .filter(|f| f.staff_id.as_ref().is_some_and(|s| s.as_str() == "104"))
        .take(6)
        .map(|f| (f.key.clone(), keyhole::report::flag_value(f)))
        .collect();
    let new = |name: &str, items: Vec<(String, serde_json::Value)>| NewCampaign {
        name: name.into(),
        window: (
            "2026-10-02T04:00:00Z".into(),
            "2026-11-01T04:00:00Z".into(),
            "2026-11-01T12:00:00Z".into(),
        ),
        filters: serde_json::json!({}),
        source: serde_json::json!({"dialect": "sqlite", "database": "demo.sqlite"}),
        policy_sha256: "0".repeat(64),
        query_sha256: Default::default(),
        items,
    };
    let mut l = Ledger::open(&path).await.unwrap();
    // An earlier campaign where staff 104 was found in violation once.
    l.start_campaign(new("September", event_items[..1].to_vec()))
        .await
        .unwrap();
    l.decide(
        1,
        &event_items[0].0,
        VerdictKind::Violation,
        Some("no ticket"),
        Some("warning"),
    )
    .await
    .unwrap();
    l.start_campaign(new("October", event_items.clone()))
        .await
        .unwrap();
    l.close().await;

    let mut app = app_with(d, dir.path());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    app.ledger = Some(keyhole::tui::spawn_ledger(path.clone(), tx));
    let b = keys::defaults();
    app.update(Action::Resize(100, 30));
    let key = |c: char| {
        keys::lookup(
            &b,
            &crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c)),
        )
        .unwrap()
    };
    app.update(key('R'));
    assert_eq!(app.mode, Mode::Review);
    pump(&mut app, &mut rx, |a| a.review.picking).await;
    // The newest campaign with open items is offered first.
    assert_eq!(app.review.pick_sel, 1);
    app.update(Action::Submit);
    let screen = render_to_string(&app, &b, 100, 30);
    assert!(screen.contains("campaign 2 · October"), "{screen}");
    assert!(screen.contains("0 of 6 decided"), "{screen}");
    assert!(screen.contains("1 earlier violation, last "), "{screen}");
    assert!(screen.contains("campaign 1"), "{screen}");
    // In review mode the digits are verdicts, through the binding table.
    let review_key = |c: char| {
        keys::lookup_review(
            &b,
            &crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c)),
        )
    };
    assert!(matches!(
        review_key('1'),
        Some(Action::Verdict(VerdictKind::Justified))
    ));
    // justified: a note is required.
    app.update(review_key('1').unwrap());
    app.update(Action::Submit);
    assert!(app.status.contains("needs a note"), "{}", app.status);
    for c in "ticket CS-1 open".chars() {
        app.update(Action::Input(c));
    }
    app.update(Action::Submit);
    assert!(render_to_string(&app, &b, 100, 30).contains("UNSAVED"));
    pump(&mut app, &mut rx, |a| a.review.unsaved.is_empty()).await;
    let screen = render_to_string(&app, &b, 100, 30);
    assert!(screen.contains("1 of 6 decided"), "{screen}");
    assert!(screen.contains("saved, by"), "{screen}");
    // n moves to the next undecided item; a violation asks for a note, then a follow-up.
    app.update(review_key('n').unwrap());
    assert_eq!(app.review.sel, 1);
    app.update(review_key('3').unwrap());
    for c in "no reason".chars() {
        app.update(Action::Input(c));
    }
    app.update(Action::Submit);
    assert!(render_to_string(&app, &b, 100, 30).contains("1 training"));
    app.update(Action::Input('1'));
    pump(&mut app, &mut rx, |a| a.review.unsaved.is_empty()).await;
    // The ledger has both, as the command line would show them.
    let mut l = Ledger::open(&path).await.unwrap();
    let state = l.campaign_state(2, None).await.unwrap();
    l.close().await;
    let v0 = state.items[0].1.as_ref().unwrap();
    assert_eq!(
        (v0.kind, v0.note.as_deref()),
        (VerdictKind::Justified, Some("ticket CS-1 open"))
    );
    let v1 = state.items[1].1.as_ref().unwrap();
    assert_eq!(v1.kind, VerdictKind::Violation);
    assert_eq!(v1.follow_up.as_deref(), Some("training"));
    assert!(state.items[2].1.is_none());
}

/// Gives `app` a ledger that cannot be written (under /proc) and a
/// campaign of one item, as if loaded before the ledger went away, then
/// records a verdict on it and waits until the ledger has refused it.
/// Returns the ledger's channel for later answers.
async fn unsaved_verdict(app: &mut App) -> tokio::sync::mpsc::UnboundedReceiver<Action> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    app.ledger = Some(keyhole::tui::spawn_ledger(
        "/proc/keyhole-test/ledger.sqlite".into(),
        tx,
    ));
    let item = keyhole::ledger::Item {
        key: "vip_access/e:1".into(),
        flag: serde_json::json!({"severity": "high", "detail": "a VIP was viewed", "staff_id": "104"}),
    };
    let state = common::october_campaign(1, "October", vec![(item, None)]);
    app.mode = Mode::Review;
    app.update(Action::CampaignsLoaded(Ok(vec![state])));
    app.update(Action::Submit);
    app.update(Action::Verdict(keyhole::ledger::VerdictKind::Escalated));
    app.update(Action::Submit);
    pump(app, &mut rx, |a| {
        a.review.unsaved.values().any(|p| p.failed.is_some())
    })
    .await;
    rx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verdict_the_ledger_cannot_take_stays_on_screen_marked_unsaved() {
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(dir.path()).await;
    let mut app = app_with(d, dir.path());
    let _ledger = unsaved_verdict(&mut app).await;
    assert_eq!(app.mode, Mode::Review, "the dashboard keeps running");
    let screen = render_to_string(&app, &keys::defaults(), 100, 30);
    assert!(screen.contains("escalated · unsaved"), "{screen}");
    assert!(screen.contains("UNSAVED"), "{screen}");
    assert!(
        app.status.contains("unsaved") && app.status.contains("/proc/keyhole-test"),
        "{}",
        app.status
    );
}

#[test]
fn a_campaign_runs_from_the_command_line_through_the_dashboard_to_a_verified_export() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let bin = env!("CARGO_BIN_EXE_keyhole");
    let db = dir.path().join("demo.sqlite");
    let run = |args: &[&str]| {
        let o = std::process::Command::new(bin)
            .args(args)
            .env("XDG_DATA_HOME", dir.path())
            .env("XDG_STATE_HOME", dir.path())
            .env("KEYHOLE_LOG", "off")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    };
    let url = format!("sqlite://{}", db.display());
    run(&[
        "demo",
        "--no-tui",
        "--events",
        "3000",
        "--anchor",
        "2026-11-01",
        "--path",
        db.to_str().unwrap(),
    ]);
    let window = [
        "--from",
        "2026-10-01",
        "--to",
        "2026-11-01",
        "--as-of",
        "2026-11-01T12:00:00Z",
    ];
    let mut start = vec![
        "review",
        "start",
        "--name",
        "tmux review",
        "--db",
        &url,
        "--rule",
        "vip_access",
    ];
    start.extend_from_slice(&window);
    assert_eq!(run(&start), "1\n");
    // A reveals.log from an earlier version is imported when the dashboard starts.
    std::fs::create_dir_all(dir.path().join("keyhole")).unwrap();
    std::fs::write(
        dir.path().join("keyhole/reveals.log"),
        "2026-11-20T10:00:00Z\treveal\tsubject:10050\tDSAR 2026-099\n",
    )
    .unwrap();
    let session = format!("kh-review-{}", std::process::id());
    let cmd = format!(
        "XDG_DATA_HOME={d} XDG_STATE_HOME={d} {bin} --db {url} --from 2026-10-01 --to 2026-11-01; echo SHELL-OK $?; sleep 30"
    );
    let guard = new_session(&session, 100, 30, &cmd);
    wait_for(&session, "loaded");
    tmux(&["send-keys", "-t", &session, "R"]);
    wait_for(&session, "tmux review");
    tmux(&["send-keys", "-t", &session, "Enter"]);
    wait_for(&session, "0 of ");
    // needs_follow_up: no note needed, Enter records it.
    tmux(&["send-keys", "-t", &session, "4"]);
    wait_for(&session, "note for needs_follow_up");
    tmux(&["send-keys", "-t", &session, "Enter"]);
    wait_for(&session, "saved, by");
    wait_for(&session, "1 of ");
    tmux(&["send-keys", "-t", &session, "Escape"]);
    wait_for(&session, "choose a campaign");
    tmux(&["send-keys", "-t", &session, "Escape"]);
    wait_for(&session, "top flagged staff");
    tmux(&["send-keys", "-t", &session, "q"]);
    wait_for(&session, "SHELL-OK 0");
    drop(guard);
    let show = run(&[
        "review",
        "show",
        "--campaign",
        "1",
        "--format",
        "json",
        "--db",
        &url,
    ]);
    let doc: serde_json::Value = serde_json::from_str(&show).unwrap();
    assert_eq!(doc["items"][0]["verdict"], "needs_follow_up");
    let out = dir.path().join("evidence.md");
    run(&[
        "review",
        "export",
        "--campaign",
        "1",
        "--output",
        out.to_str().unwrap(),
    ]);
    let verified = run(&["ledger", "verify", "--export", out.to_str().unwrap()]);
    assert!(verified.contains("matches campaign 1"), "{verified}");
    // The trail: the dashboard's session, and the imported reveal (once, the file left as it was).
    let trail = run(&["report", "auditor"]);
    assert!(trail.contains("dashboard on sqlite demo.sqlite"), "{trail}");
    assert_eq!(
        trail
            .matches("revealed subject:10050 (reason: DSAR 2026-099)")
            .count(),
        1,
        "{trail}"
    );
    assert!(dir.path().join("keyhole/reveals.log").exists());
}

/// Key bindings come from a real config file: `[keys]` in `./keyhole.toml`
/// moves search from `/` to `f`, and the dashboard obeys it.
#[test]
fn key_overrides_from_a_config_file_drive_the_real_binary() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("keyhole.toml"),
        "[keys]\nsearch = [\"f\"]\n",
    )
    .unwrap();
    let db = dir.path().join("demo.sqlite");
    let session = format!("kh-keys-{}", std::process::id());
    let cmd = format!(
        "cd {d} && XDG_DATA_HOME={d} XDG_STATE_HOME={d} XDG_CONFIG_HOME={d}/none {bin} demo --events 2000 --path {db}; echo SHELL-OK $?; sleep 30",
        d = dir.path().display(),
        bin = env!("CARGO_BIN_EXE_keyhole"),
        db = db.display(),
    );
    let guard = new_session(&session, 100, 30, &cmd);
    wait_for(&session, "loaded");
    // `/` is no longer search; `f` is.
    tmux(&["send-keys", "-t", &session, "/"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let screen = tmux(&["capture-pane", "-p", "-t", &session]);
    assert!(!screen.contains("Enter opens"), "{screen}");
    tmux(&["send-keys", "-t", &session, "f"]);
    wait_for(&session, "Enter opens");
    tmux(&["send-keys", "-t", &session, "Escape"]);
    wait_gone(&session, "Enter opens");
    tmux(&["send-keys", "-t", &session, "q"]);
    tmux(&["send-keys", "-t", &session, "q"]);
    wait_for(&session, "SHELL-OK 0");
    drop(guard);
}

/// The keyhole process running under a tmux session's shell.
fn keyhole_pid(session: &str) -> String {
    let pane = tmux(&["list-panes", "-t", session, "-F", "#{pane_pid}"]);
    let out = std::process::Command::new("pgrep")
        .args(["-P", pane.trim(), "keyhole"])
        .output()
        .unwrap();
    let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(!pid.is_empty(), "keyhole runs under the pane's shell");
    pid
}

/// SIGTERM and SIGINT end the dashboard like a hangup does: the terminal
/// comes back in cooked mode, a reveal made just before is in the ledger,
/// and the exit status is 128 + the signal (143, 130), as a shell reports.
#[test]
fn signals_restore_the_terminal_flush_the_ledger_and_exit_128_plus_the_signal() {
    if !tmux_available() {
        return;
    }
    for (sig, code) in [("TERM", 143), ("INT", 130)] {
        let dir = tempfile::tempdir().unwrap();
        let session = format!("kh-sig{sig}-{}", std::process::id());
        let _g = run_in_tmux(&session, "TERM=xterm-256color", dir.path());
        wait_for(&session, "loaded");
        let reason = format!("incident {sig}");
        // A flag's subject, masked until revealed.
        tmux(&["send-keys", "-t", &session, "2"]);
        wait_for(&session, "sorted by");
        tmux(&["send-keys", "-t", &session, "Enter"]);
        wait_for(&session, "•");
        tmux(&["send-keys", "-t", &session, "v"]);
        wait_for(&session, "reason for revealing");
        tmux(&["send-keys", "-t", &session, "-l", &reason]);
        tmux(&["send-keys", "-t", &session, "Enter"]);
        // The signal follows at once: the write may still be in flight.
        let pid = keyhole_pid(&session);
        std::process::Command::new("kill")
            .args([&format!("-{sig}"), &pid])
            .status()
            .unwrap();
        let after = wait_for(&session, "STTY-DONE");
        assert!(
            after.contains(&format!("SHELL-OK {code}")),
            "SIG{sig}: {after}"
        );
        assert!(
            after.lines().any(|l| l.trim() == "icanon"),
            "raw mode was left: {after}"
        );
        assert!(
            !after.contains("Overview"),
            "the alternate screen is gone: {after}"
        );
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_keyhole"))
            .args(["report", "auditor"])
            .env("XDG_DATA_HOME", dir.path())
            .env("XDG_STATE_HOME", dir.path())
            .output()
            .unwrap();
        let trail = String::from_utf8_lossy(&o.stdout);
        assert!(
            trail.contains(&reason),
            "the reveal before SIG{sig} is in the ledger: {trail}"
        );
    }
}

/// A panic while the dashboard is on screen (a test-only hook): the
/// terminal comes back in cooked mode, stderr has one line, and the log has
/// the report with its backtrace.
#[test]
fn a_panic_on_screen_restores_the_terminal_and_reports_in_the_log() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let session = format!("kh-panic-{}", std::process::id());
    let env = format!(
        "env -u RUST_BACKTRACE KEYHOLE_TEST_PANIC=dashboard XDG_STATE_HOME={} TERM=xterm-256color",
        dir.path().display()
    );
    let _g = run_in_tmux(&session, &env, dir.path());
    let after = wait_for(&session, "STTY-DONE");
    assert!(after.contains("SHELL-OK 101"), "{after}");
    assert!(
        after.lines().any(|l| l.trim() == "icanon"),
        "raw mode was left: {after}"
    );
    assert!(
        !after.contains("Overview"),
        "the alternate screen is gone: {after}"
    );
    assert!(
        after.contains("keyhole: internal error: forced for a test, on screen"),
        "{after}"
    );
    let log = std::fs::read_to_string(dir.path().join("keyhole/keyhole.log")).unwrap();
    assert!(
        log.contains("forced for a test, on screen") && log.contains("backtrace="),
        "{log}"
    );
}

/// A reload that fails keeps what was loaded on screen under a banner that
/// names the failure and offers a retry; a later load clears it.
#[tokio::test]
async fn a_failed_reload_keeps_the_data_under_a_banner_that_offers_retry() {
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(dir.path()).await;
    let mut app = app_with(d.clone(), dir.path());
    let b = keys::defaults();
    app.update(Action::GoTab(2));
    let before = render_to_string(&app, &b, 100, 30);
    let why = "queries/postgres/access_events.sql (built-in): terminating connection due to administrator command";
    app.update(Action::Load(LoadEvent::Failed(why.into())));
    let s = render_to_string(&app, &b, 100, 30);
    assert!(
        s.contains("⚠ reload failed · showing the data loaded before · r retries"),
        "{s}"
    );
    assert!(
        s.contains("queries/postgres/access_events.sql (built-in): terminating connection"),
        "{s}"
    );
    assert!(s.contains("r retries"), "{s}");
    // The flags loaded before are still there.
    let first_flag = before.lines().nth(3).unwrap().trim_matches('│').trim();
    assert!(!first_flag.is_empty());
    assert!(s.contains(first_flag), "{first_flag:?} gone:\n{s}");
    app.update(Action::Load(LoadEvent::Done(d)));
    let s = render_to_string(&app, &b, 100, 30);
    assert!(!s.contains("reload failed"), "{s}");
}

/// The dashboard's load when the server kills its session mid-load
/// (`pg_terminate_backend`, MariaDB `KILL`): the load fails with one line
/// naming the file and the cause, and the retry connects again and loads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_killed_mid_load_fails_the_load_and_the_retry_connects_again() {
    killed_mid_load(common::Server::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mariadb_session_killed_mid_load_fails_the_load_and_the_retry_connects_again() {
    killed_mid_load(common::Server::Mariadb).await;
}

/// A 120-day window ending today (New York).
fn load_window() -> keyhole::audit::AuditWindow {
    let today = chrono::Utc::now().date_naive();
    let t = |d: chrono::NaiveDate| keyhole::time::local_day_start(d, chrono_tz::America::New_York);
    keyhole::audit::AuditWindow {
        from: t(today - chrono::Duration::days(120)),
        to: t(today),
        as_of: t(today),
    }
}

async fn demo_source(url: &str) {
    let settings = keyhole::demo::DemoSettings {
        events: 60_000,
        seed: 1,
        anchor: chrono::Utc::now().date_naive(),
    };
    keyhole::demo::load_into(url, None, &settings, |_| {})
        .await
        .unwrap();
}

/// The dashboard's load of `src`, as `r` starts it.
async fn dashboard_load(
    src: keyhole::source::Source,
    dialect: keyhole::source::Dialect,
) -> (
    keyhole::source::Source,
    Result<Box<Dataset>, keyhole::audit::AuditError>,
) {
    let window = load_window();
    let inputs = keyhole::tui::data::Inputs {
        queries: keyhole::source::queries::QuerySet::builtin(dialect),
        logs: Vec::new(),
    };
    let stop = std::sync::atomic::AtomicBool::new(false);
    keyhole::tui::data::load(
        src,
        inputs,
        keyhole::policy::Policy::demo(),
        window,
        window.as_of,
        &stop,
        |_| {},
    )
    .await
}

async fn killed_mid_load(server: common::Server) {
    let Some(s) = common::scratch(server).await else {
        return;
    };
    demo_source(&s.url()).await;
    let dialect = match server {
        common::Server::Postgres => keyhole::source::Dialect::Postgres,
        common::Server::Mariadb => keyhole::source::Dialect::Mysql,
    };
    let src = keyhole::source::Source::connect(&common::source_options(&s.url()))
        .await
        .unwrap();
    let load = dashboard_load(src, dialect);
    // Kill the session while it reads the access log, from a thread of its
    // own (the load blocks its task while it judges), polling on one admin
    // connection as fast as it can.
    let (url, name) = (s.url(), s.name.clone());
    let killer = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            use sqlx::{AssertSqlSafe, Connection, Executor};
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            match server {
                common::Server::Postgres => {
                    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
                    while std::time::Instant::now() < deadline {
                        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%access_audit%'"
                        )))
                        .fetch_one(&mut admin)
                        .await
                        .unwrap();
                        if n > 0 {
                            return true;
                        }
                    }
                }
                common::Server::Mariadb => {
                    let mut admin = sqlx::MySqlConnection::connect(&url).await.unwrap();
                    while std::time::Instant::now() < deadline {
                        let ids: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                            "SELECT CAST(GROUP_CONCAT(ID) AS CHAR) FROM information_schema.PROCESSLIST WHERE DB = '{name}' AND ID <> CONNECTION_ID() AND INFO LIKE '%access_audit%'"
                        )))
                        .fetch_one(&mut admin)
                        .await
                        .unwrap();
                        let mut killed = false;
                        for id in ids.iter().flat_map(|x| x.split(',')) {
                            // The statement may have ended on its own.
                            killed |= admin
                                .execute(AssertSqlSafe(format!("KILL {id}")))
                                .await
                                .is_ok();
                        }
                        if killed {
                            return true;
                        }
                    }
                }
            }
            false
        })
    });
    let (mut src, result) = load.await;
    assert!(killer.join().unwrap(), "the load was never caught reading");
    let err = result
        .expect_err("the load outlived its session")
        .to_string();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("access_events.sql"), "{err}");
    let cause = match server {
        common::Server::Postgres => "terminating connection",
        // MariaDB tells the killed session nothing: its socket just closes.
        common::Server::Mariadb => "the server closed the connection",
    };
    assert!(err.contains(cause), "{err}");
    // The retry: the lost session is replaced, and the load completes.
    assert!(
        src.revive().await.unwrap(),
        "a killed session must be replaced"
    );
    let (src, result) = dashboard_load(src, dialect).await;
    let d = result.unwrap();
    assert!(d.rows.len() > 10_000, "{}", d.rows.len());
    src.close().await;
}

/// The dashboard's load when the server itself stops mid-load (a scratch
/// cluster, stopped immediately): the load fails with one line; a retry
/// while the server is down fails with one line saying it cannot connect;
/// once the server is back, the retry connects again and loads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_stopped_mid_load_fails_the_load_and_the_retry_after_restart_loads() {
    if !common::cluster::usable() {
        return;
    }
    let c = common::cluster::Cluster::start(
        "dashstop",
        &["--auth=trust"],
        "\nlisten_addresses = '127.0.0.1'\n",
    )
    .unwrap();
    c.psql("postgres", "CREATE DATABASE shop").unwrap();
    let url = format!("postgres://postgres@127.0.0.1:{}/shop", c.port);
    demo_source(&url).await;
    let dialect = keyhole::source::Dialect::Postgres;
    let src = keyhole::source::Source::connect(&common::source_options(&url))
        .await
        .unwrap();
    let load = dashboard_load(src, dialect);
    let remote = c.remote();
    let stopper = std::thread::spawn(move || {
        let seen = "SELECT count(*) FROM pg_stat_activity WHERE datname = 'shop' AND query LIKE '%FROM access_audit%' AND pid <> pg_backend_pid()";
        for _ in 0..3000 {
            if remote
                .psql("postgres", seen)
                .is_ok_and(|o| o.trim() != "0" && !o.trim().is_empty())
            {
                remote.stop_now().unwrap();
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        false
    });
    let (mut src, result) = load.await;
    assert!(stopper.join().unwrap(), "the load was never caught reading");
    let err = result
        .expect_err("the load outlived its server")
        .to_string();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("queries/"), "{err}");
    // The retry while the server is down: one line, no secret, no panic.
    let down = src
        .revive()
        .await
        .expect_err("a server that is down cannot be reached")
        .to_string();
    assert_eq!(down.lines().count(), 1, "{down}");
    assert!(down.contains("cannot connect"), "{down}");
    // The server comes back; the next retry loads.
    c.ctl("start").unwrap();
    assert!(src.revive().await.unwrap(), "the lost session is replaced");
    let (src, result) = dashboard_load(src, dialect).await;
    let d = result.unwrap();
    assert!(d.rows.len() > 10_000, "{}", d.rows.len());
    src.close().await;
}

/// A reload that fails, and one that succeeds, keep an unsaved verdict: it
/// stays in review mode, marked unsaved, until the ledger takes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsaved_verdict_survives_a_failed_and_a_new_load() {
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(dir.path()).await;
    let mut app = app_with(d.clone(), dir.path());
    let _ledger = unsaved_verdict(&mut app).await;
    let unsaved = app.review.unsaved.len();
    assert_eq!(unsaved, 1);
    app.update(Action::Load(LoadEvent::Failed(
        "queries/postgres/access_events.sql (built-in): the server closed the connection".into(),
    )));
    assert_eq!(app.mode, Mode::Review);
    assert_eq!(
        app.review.unsaved.len(),
        unsaved,
        "a failed load dropped a verdict"
    );
    let screen = render_to_string(&app, &keys::defaults(), 100, 30);
    assert!(screen.contains("escalated · unsaved"), "{screen}");
    app.update(Action::Load(LoadEvent::Done(d)));
    assert_eq!(
        app.review.unsaved.len(),
        unsaved,
        "a new load dropped a verdict"
    );
    let screen = render_to_string(&app, &keys::defaults(), 100, 30);
    assert!(screen.contains("escalated · unsaved"), "{screen}");
}

/// The first `MM-DD HH:MM` on a screen, as minutes of the day.
fn first_time_of_day(screen: &str) -> Option<u32> {
    let b: Vec<char> = screen.chars().collect();
    let d = |i: usize| b.get(i).is_some_and(|c| c.is_ascii_digit());
    (0..b.len()).find_map(|i| {
        let shape = d(i)
            && d(i + 1)
            && b.get(i + 2) == Some(&'-')
            && d(i + 3)
            && d(i + 4)
            && b.get(i + 5) == Some(&' ')
            && d(i + 6)
            && d(i + 7)
            && b.get(i + 8) == Some(&':')
            && d(i + 9)
            && d(i + 10);
        shape.then(|| {
            let n = |j: usize| b[j].to_digit(10).unwrap();
            (n(i + 6) * 10 + n(i + 7)) * 60 + n(i + 9) * 10 + n(i + 10)
        })
    })
}

/// The real binary with a config file: `display_timezone` moves the times
/// on screen (UTC, then Kathmandu at +5:45), and the key hints on the
/// bottom line follow a rebinding (`[keys] search = ["f"]`).
#[test]
fn the_configs_display_zone_and_key_hints_reach_the_screen() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let built = std::process::Command::new(env!("CARGO_BIN_EXE_keyhole"))
        .args(["demo", "--no-tui", "--events", "2000", "--path"])
        .arg(&db)
        .env("XDG_DATA_HOME", dir.path())
        .env("XDG_STATE_HOME", dir.path())
        .output()
        .unwrap();
    assert!(built.status.success());
    let mut first = Vec::new();
    for (n, zone) in ["UTC", "Asia/Kathmandu"].into_iter().enumerate() {
        let home = dir.path().join(format!("run{n}"));
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(
            home.join("keyhole.toml"),
            format!(
                "url = \"sqlite://{}\"\ndisplay_timezone = \"{zone}\"\n\n[keys]\nsearch = [\"f\"]\n",
                db.display()
            ),
        )
        .unwrap();
        let session = format!("kh-zone-{}-{n}", std::process::id());
        let cmd = format!(
            "cd {h} && XDG_DATA_HOME={h} XDG_STATE_HOME={h} XDG_CONFIG_HOME={h}/none {bin}; echo SHELL-OK $?; sleep 30",
            h = home.display(),
            bin = env!("CARGO_BIN_EXE_keyhole"),
        );
        let guard = new_session(&session, 200, 40, &cmd);
        let screen = wait_for(&session, "loaded");
        let hints = screen.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
        assert!(hints.contains("f search"), "{hints}");
        assert!(!hints.contains("/ search"), "{hints}");
        tmux(&["send-keys", "-t", &session, "3"]);
        let screen = wait_for(&session, "accesses 1/");
        first.push(first_time_of_day(&screen).unwrap_or_else(|| panic!("no time in\n{screen}")));
        tmux(&["send-keys", "-t", &session, "q"]);
        tmux(&["send-keys", "-t", &session, "q"]);
        wait_for(&session, "SHELL-OK 0");
        drop(guard);
    }
    // The same first access, 5 h 45 min later on the clock in Kathmandu.
    assert_eq!(
        (first[1] + 1440 - first[0]) % 1440,
        5 * 60 + 45,
        "{first:?}"
    );
}

/// The loading line names the local day being read: a real load reports
/// each day of the window in order with the accesses read so far, and the
/// screen shows the latest of them while the load runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loading_line_shows_the_day_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let _ = dataset(dir.path()).await;
    let url = format!("sqlite://{}", dir.path().join("demo.sqlite").display());
    let src = keyhole::source::Source::connect(&common::source_options(&url))
        .await
        .unwrap();
    let t = |s: &str| -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().into()
    };
    let window = keyhole::audit::AuditWindow {
        from: t("2026-10-02T04:00:00Z"),
        to: t("2026-10-09T04:00:00Z"),
        as_of: t("2026-11-01T12:00:00Z"),
    };
    let events = std::sync::Mutex::new(Vec::new());
    let (src, d) = keyhole::tui::data::load(
        src,
        keyhole::tui::data::Inputs {
            queries: keyhole::source::queries::QuerySet::builtin(keyhole::source::Dialect::Sqlite),
            logs: Vec::new(),
        },
        keyhole::policy::Policy::demo(),
        window,
        window.as_of,
        &std::sync::atomic::AtomicBool::new(false),
        |e| {
            if let LoadEvent::Day { day, rows } = e {
                events.lock().unwrap().push((day, rows));
            }
        },
    )
    .await;
    src.close().await;
    let d = d.unwrap();
    let days = events.into_inner().unwrap();
    // New York's days from 2 October to 8 October, each once, in order,
    // the count growing to every access of the window.
    let want: Vec<chrono::NaiveDate> = (2..=8)
        .map(|n| chrono::NaiveDate::from_ymd_opt(2026, 10, n).unwrap())
        .collect();
    assert_eq!(days.iter().map(|(d, _)| *d).collect::<Vec<_>>(), want);
    assert!(days.windows(2).all(|w| w[0].1 <= w[1].1), "{days:?}");
    assert_eq!(days.last().unwrap().1, d.rows.len() as u64);
    // On screen, during the first load and under a loaded screen alike.
    let b = keys::defaults();
    let (day, rows) = days[3];
    let line = format!(
        "reading {day}: {} accesses so far",
        keyhole::tui::data::thousands(rows)
    );
    let mut app = App::new(false);
    app.update(Action::Load(LoadEvent::Day { day, rows }));
    let s = render_to_string(&app, &b, 100, 30);
    assert!(s.contains(&line), "{line:?} not in\n{s}");
    let mut app = app_with(Arc::new(*d), dir.path());
    app.update(Action::Load(LoadEvent::Day { day, rows }));
    let s = render_to_string(&app, &b, 100, 30);
    assert!(s.contains(&format!("⟳ {day}")), "{s}");
}

/// Quitting while a load waits on the server cancels the statement there:
/// the access-log file sleeps 60 s per day on PostgreSQL, `q` is pressed
/// while it runs, and the server shows the statement gone within seconds
/// (a client that just disconnected would leave it running its minute).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_mid_load_cancels_the_statement_on_the_server() {
    if !tmux_available() {
        return;
    }
    let Some(s) = common::scratch(common::Server::Postgres).await else {
        return;
    };
    let settings = keyhole::demo::DemoSettings {
        events: 2000,
        seed: 1,
        anchor: chrono::Utc::now().date_naive(),
    };
    keyhole::demo::load_into(&s.url(), None, &settings, |_| {})
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q");
    std::fs::create_dir_all(&q).unwrap();
    for f in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/queries/postgres")).unwrap() {
        let f = f.unwrap();
        let mut text = std::fs::read_to_string(f.path()).unwrap();
        if f.file_name() == "access_events.sql" {
            text = text.replace(
                "FROM access_audit a",
                "FROM access_audit a CROSS JOIN (SELECT pg_sleep(60) AS slept) s",
            );
        }
        std::fs::write(q.join(f.file_name()), text).unwrap();
    }
    std::fs::write(
        dir.path().join("keyhole.toml"),
        format!(
            "url = \"{}\"\nqueries = \"q\"\npolicy = \"{}\"\nstatement_timeout_s = 300\n",
            s.url(),
            concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo-policy.toml")
        ),
    )
    .unwrap();
    let session = format!("kh-quit-{}", std::process::id());
    let cmd = format!(
        "cd {d} && XDG_DATA_HOME={d} XDG_STATE_HOME={d} XDG_CONFIG_HOME={d}/none {bin}; echo SHELL-OK $?; sleep 30",
        d = dir.path().display(),
        bin = env!("CARGO_BIN_EXE_keyhole"),
    );
    let guard = new_session(&session, 100, 30, &cmd);
    let sleeping = format!(
        "SELECT count(*)::text FROM pg_stat_activity WHERE datname = '{}' AND state = 'active' AND query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()",
        s.name
    );
    let mut running = false;
    for _ in 0..200 {
        if s.admin_text(&sleeping).await == "1" {
            running = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(running, "the load never reached the server");
    tmux(&["send-keys", "-t", &session, "q"]);
    wait_for(&session, "SHELL-OK 0");
    let mut gone = false;
    for _ in 0..100 {
        if s.admin_text(&sleeping).await == "0" {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    drop(guard);
    assert!(
        gone,
        "the statement still runs on the server 5 s after quitting"
    );
}

/// An access no relationship explains says, under its flag, the nearest
/// relationship that would have and why it did not.
#[tokio::test]
async fn an_unexplained_access_shows_the_nearest_relationship_and_why_it_missed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(dir.path()).await;
    let mut app = app_with(d.clone(), dir.path());
    app.update(Action::Filter);
    for c in "rule:no_relationship".chars() {
        app.update(Action::Input(c));
    }
    app.update(Action::Submit);
    assert_eq!(app.tab, Tab::Access);
    assert!(!app.access.view.is_empty());
    // Walk the unexplained accesses until each kind of answer has been seen.
    let (mut own, mut other, mut none) = (false, false, false);
    for _ in 0..app.access.view.len().min(400) {
        let r = d.rows.get(app.access.view[app.access.sel] as usize);
        let screen = render_to_string(&app, &keys::defaults(), 160, 48);
        // The "why" pane, right of the list, unwrapped into one text.
        let pane: Vec<&str> = screen
            .lines()
            .filter_map(|l| {
                l.split_once("││")
                    .map(|(_, p)| p.trim_end_matches('│').trim())
            })
            .collect();
        let text = pane.join(" ");
        let line = text
            .split_once("nearest:")
            .map(|(_, rest)| rest.to_string())
            .unwrap_or_else(|| panic!("no nearest line:\n{screen}"));
        match d.nearest_miss(&r) {
            Some(keyhole::rules::Miss::OutOfWindow { .. }) => {
                own = true;
                assert!(line.contains("this staff member's"), "{line}");
            }
            Some(keyhole::rules::Miss::OtherStaff { rel }) => {
                other = true;
                assert!(
                    line.contains(&format!("staff {}'s", rel.staff_id.as_str())),
                    "{line}"
                );
            }
            None => {
                none = true;
                assert!(line.contains("no relationship of any kind"), "{line}");
            }
        }
        if own && other && none {
            break;
        }
        app.update(Action::Down);
    }
    assert!(
        own || other,
        "no unexplained access had a near relationship"
    );
}
