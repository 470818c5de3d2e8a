//! One snapshot per dashboard screen (`insta`, in `tests/snapshots`): every
//! tab at 80x24 and 160x48, the loading screen, help and the window picker.
//! Each screen is its own test, so one run shows every difference; volatile
//! values (temporary paths) are filtered. `cargo insta review` or
//! `INSTA_UPDATE=always` accepts a deliberate change.

mod common;

use std::sync::{Arc, OnceLock};

use keyhole::tui::app::{Action, App, Tab};
use keyhole::tui::data::{Dataset, LoadEvent};
use keyhole::tui::{keys, render_to_string};

/// The demo (5,000 events, seed 5) judged over October 2026, built once.
fn dataset() -> Arc<Dataset> {
    static DATA: OnceLock<Arc<Dataset>> = OnceLock::new();
    DATA.get_or_init(|| {
        std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let dir = tempfile::tempdir().unwrap().keep();
                common::judged_demo(&dir).await
            })
        })
        .join()
        .unwrap()
    })
    .clone()
}

fn loaded() -> App {
    let mut app = App::new(false);
    app.update(Action::Load(LoadEvent::Done(dataset())));
    app
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    app.update(Action::Resize(w, h));
    let s = render_to_string(app, &keys::defaults(), w, h);
    // The layout reaches the bottom row: the key hints sit on the last line.
    assert!(
        s.lines().last().is_some_and(|l| l.contains("? help")),
        "no key hints on the last line:\n{s}"
    );
    s
}

fn check(name: &str, screen: &str) {
    insta::with_settings!({
        filters => vec![(r"/tmp/\.tmp[A-Za-z0-9]+", "[tmp]")],
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, screen);
    });
}

fn tab(tab: Tab, w: u16, h: u16) {
    let mut app = loaded();
    let i = Tab::ALL.iter().position(|t| *t == tab).unwrap();
    app.update(Action::GoTab(i));
    if tab == Tab::Subjects {
        app.show_subject("15000".into());
    }
    let name = format!("{}-{w}x{h}", tab.title().to_lowercase().replace(' ', "_"));
    check(&name, &screen(&mut app, w, h));
}

macro_rules! tab_screens {
    ($($test:ident: $tab:expr, $w:expr, $h:expr;)*) => {
        $(
            #[test]
            fn $test() {
                tab($tab, $w, $h);
            }
        )*
    };
}

tab_screens! {
    overview_80x24: Tab::Overview, 80, 24;
    overview_160x48: Tab::Overview, 160, 48;
    flags_80x24: Tab::Flags, 80, 24;
    flags_160x48: Tab::Flags, 160, 48;
    access_log_80x24: Tab::Access, 80, 24;
    access_log_160x48: Tab::Access, 160, 48;
    staff_80x24: Tab::Staff, 80, 24;
    staff_160x48: Tab::Staff, 160, 48;
    subjects_80x24: Tab::Subjects, 80, 24;
    subjects_160x48: Tab::Subjects, 160, 48;
    disclosures_80x24: Tab::Disclosures, 80, 24;
    disclosures_160x48: Tab::Disclosures, 160, 48;
    requests_80x24: Tab::Requests, 80, 24;
    requests_160x48: Tab::Requests, 160, 48;
}

#[test]
fn loading_80x24() {
    // The first frame, before any data.
    check("loading-80x24", &screen(&mut App::new(false), 80, 24));
}

#[test]
fn help_80x24() {
    let mut app = loaded();
    app.update(Action::Help);
    check("help-80x24", &screen(&mut app, 80, 24));
}

#[test]
fn window_picker_80x24() {
    let mut app = loaded();
    app.update(Action::Window);
    for c in "2026-09-01 2026-10".chars() {
        app.update(Action::Input(c));
    }
    check("window-80x24", &screen(&mut app, 80, 24));
}

/// A campaign of the first five flags of staff 104: one decided, one unsaved.
fn in_review() -> App {
    use keyhole::ledger::{Item, Verdict, VerdictKind};
    let d = dataset();
    let mut app = loaded();
    let items: Vec<(Item, Option<Verdict>)> = d
        .flags
        .iter()
        .filter(|f| f.staff_id.as_ref().is_some_and(|s| s.as_str() == "104"))
        .take(5)
        .map(|f| {
            (
                Item {
                    key: f.key.clone(),
                    flag: keyhole::report::flag_value(f),
                },
                None,
            )
        })
        .collect();
    let mut state = common::october_campaign(2, "October access review", items);
    state.items[0].1 = Some(Verdict {
        kind: VerdictKind::Justified,
        note: Some("ticket CS-70255 was open".into()),
        follow_up: None,
        decided_by: "reviewer".into(),
        decided_at: "2026-11-02T09:05:00Z".into(),
        seq: 9,
    });
    app.mode = keyhole::tui::app::Mode::Review;
    app.update(Action::CampaignsLoaded(Ok(vec![state])));
    app.update(Action::Submit);
    app.review.unsaved.insert(
        app.review.state().unwrap().items[2].0.key.clone(),
        keyhole::tui::overlays::review::Pending {
            kind: VerdictKind::Escalated,
            note: None,
            follow_up: None,
            failed: Some("ledger /srv/ledger.sqlite: read-only".into()),
        },
    );
    app
}

#[test]
fn review_80x24() {
    check("review-80x24", &screen(&mut in_review(), 80, 24));
}

#[test]
fn review_160x48() {
    let mut app = in_review();
    app.update(Action::Down);
    check("review-160x48", &screen(&mut app, 160, 48));
}

/// The demo with the captured pgAudit log beside it.
fn with_audit_log() -> App {
    static DATA: OnceLock<Arc<Dataset>> = OnceLock::new();
    let d = DATA
        .get_or_init(|| {
            std::thread::spawn(|| {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let dir = tempfile::tempdir().unwrap().keep();
                    common::judged_demo_with_audit_log(&dir).await
                })
            })
            .join()
            .unwrap()
        })
        .clone();
    let mut app = App::new(false);
    app.update(Action::Load(LoadEvent::Done(d)));
    app
}

#[test]
fn database_log_accesses_are_marked_and_filtered_80x24() {
    let mut app = with_audit_log();
    app.access.filter = keyhole::tui::tabs::access::Filter::parse("source:db").unwrap();
    app.access.filter_text = "source:db".into();
    app.refresh_access();
    app.update(Action::GoTab(2));
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("accesses 1/15 · filter source:db"), "{s}");
    // Every row that fits is one of the log's.
    assert_eq!(s.matches("⛁ database log").count(), 14, "{s}");
    // An unknown login shows whole.
    assert!(s.contains("⚑ db:u999 "), "{s}");
    check("database_log-80x24", &s);
    // Wide, all fifteen, and the reference column names the log and line.
    let s = screen(&mut app, 160, 48);
    assert_eq!(s.matches("⛁ database log").count(), 15, "{s}");
    assert!(s.contains("postgres.log:32"), "{s}");
    // source:app keeps only the application's.
    app.access.filter = keyhole::tui::tabs::access::Filter::parse("source:app").unwrap();
    app.refresh_access();
    let s = screen(&mut app, 160, 48);
    assert!(!s.contains("⛁ database log"), "{s}");
}

#[test]
fn the_staff_profile_counts_and_lists_direct_reads_160x48() {
    let mut app = with_audit_log();
    app.show_staff("200");
    let s = screen(&mut app, 160, 48);
    assert!(s.contains("⛁ 9 read in the database directly"), "{s}");
    assert!(s.contains("⛁ direct database reads: 9 (6 people)"), "{s}");
    assert!(s.contains("view crm.customers 10010 contact"), "{s}");
    check("staff_direct_reads-160x48", &s);
}

#[test]
fn an_audit_log_with_unreadable_records_says_so_in_the_status_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("broken.log");
    let mut text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/audit-logs/postgres.log"
    ))
    .unwrap();
    text.push_str("garbage that is no log line\n");
    let n = text.lines().count();
    std::fs::write(&log, text).unwrap();
    let d = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let home = tempfile::tempdir().unwrap();
            common::judged_demo_with_logs(home.path(), vec![keyhole::dblog::LogSpec::new(&log)])
                .await
        })
    })
    .join()
    .unwrap();
    let mut app = App::new(false);
    app.update(Action::Load(LoadEvent::Done(d)));
    let s = screen(&mut app, 160, 48);
    let want = format!("audit log broken.log: 1 record(s) could not be read, at line(s) {n}");
    assert!(s.lines().last().unwrap().contains(&want), "{s}");
}

/// Whether a screen holds a character that would act on a terminal.
fn raw_control(s: &str) -> bool {
    s.chars().any(|c| {
        let u = c as u32;
        (u < 0x20 && c != '\n')
            || (0x7f..=0x9f).contains(&u)
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

/// The demo's hostile text on the dashboard: a staff name with an OSC
/// title sequence and the formula-like names, revealed; a customer named
/// with an escape and one with an RTL override, revealed; a reference with
/// cursor movements. Each is shown escaped, never sent.
#[test]
fn hostile_names_and_references_are_shown_escaped_160x48() {
    let mut app = loaded();
    for who in [
        "staff:166",
        "staff:208",
        "staff:209",
        "staff:210",
        "staff:213",
    ] {
        app.reveals.grant(who.into(), "test".into());
    }
    let staff = Tab::ALL.iter().position(|t| *t == Tab::Staff).unwrap();
    app.update(Action::GoTab(staff));
    app.show_staff("166");
    let s = screen(&mut app, 160, 48);
    assert!(!raw_control(&s), "{s:?}");
    assert!(s.contains("Eve\\x1b]0;owned\\x07"), "{s}");
    app.show_staff("208");
    let s = screen(&mut app, 160, 48);
    assert!(s.contains("@Robert =1+1"), "{s}");
    // The reference with cursor movements, in the access log of staff 110.
    let access = Tab::ALL.iter().position(|t| *t == Tab::Access).unwrap();
    app.update(Action::GoTab(access));
    app.access.filter = keyhole::tui::tabs::access::Filter::parse("staff:110").unwrap();
    app.access.filter_text = "staff:110".into();
    app.refresh_access();
    let s = screen(&mut app, 160, 48);
    assert!(!raw_control(&s), "{s:?}");
    assert!(s.contains("\\x1b[2K\\x1b[1A"), "{s}");
    check("hostile_reference-160x48", &s);
    // Customers with an escape and with an RTL override, revealed.
    let d = dataset();
    let named = |needle: &str| {
        d.dir
            .subjects
            .iter()
            .find(|s| s.text().display_name.contains(needle))
            .map(|s| s.subject_id.to_string())
            .unwrap_or_else(|| panic!("no demo customer named {needle:?}"))
    };
    for (needle, shown) in [
        ("Eve\u{1b}[2J", "Eve\\x1b[2J"),
        ("gnp.exe", "\\u{202e}gnp.exe"),
    ] {
        let id = named(needle);
        app.reveals.grant(format!("subject:{id}"), "test".into());
        app.show_subject(id.clone());
        let s = screen(&mut app, 160, 48);
        assert!(!raw_control(&s), "{id}: {s:?}");
        assert!(s.contains(shown), "{id}: {s}");
    }
}

/// Between the narrow and the wide layout (100 to 160 columns) every
/// column of the access log stays whole: the time is never cut.
#[test]
fn the_access_log_keeps_its_times_whole_at_every_width() {
    let mut app = loaded();
    let access = Tab::ALL.iter().position(|t| *t == Tab::Access).unwrap();
    app.update(Action::GoTab(access));
    for w in [80, 100, 110, 120, 129, 130, 140, 160, 200] {
        let s = screen(&mut app, w, 30);
        assert!(s.contains("10-02 07:07 ✓ 237"), "{w} columns:\n{s}");
    }
}

/// The overview says when database audit logs were read beside the source,
/// how many events they gave and from which files; without logs it keeps
/// its four lines of figures.
#[test]
fn the_overview_names_the_audit_logs_read() {
    let mut app = with_audit_log();
    let s = screen(&mut app, 100, 30);
    assert!(
        s.contains("⛁ 15 database-log events from 1 audit log: postgres.log"),
        "{s}"
    );
    let s = screen(&mut loaded(), 100, 30);
    assert!(!s.contains("database-log events"), "{s}");
}
