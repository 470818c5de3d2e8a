//! The dashboard: terminal setup and restore (on quit, panic, SIGTERM and
//! SIGHUP), one input task feeding a channel, the background load, and the
//! loop that applies actions and redraws. State lives in [`app`], drawing in
//! [`view`]; neither knows about the terminal set up here.

pub mod action;
pub mod app;
pub mod columns;
pub mod data;
pub mod keys;
pub mod overlays;
pub mod reveal;
pub mod screen;
pub mod tabs;
pub mod theme;
pub mod view;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossterm::event::{
    Event, EventStream, KeyCode, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::{Backend, CrosstermBackend, TestBackend};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use crate::audit::{AuditWindow, WindowChoice};
use crate::model::Instant;
use crate::policy::Policy;
use crate::source::Source;
use crate::source::queries::QuerySet;
use app::{Action, App, Mode};
use data::LoadEvent;

message_error!(
    /// The terminal cannot be used, or a window cannot be resolved.
    TuiError
);

/// What the dashboard needs to start.
pub struct Launch {
    pub source: Source,
    pub queries: QuerySet,
    pub policy: Policy,
    /// The window as chosen; a reload resolves it again at the new now.
    pub window: WindowChoice,
    pub now: Instant,
    pub color: bool,
    pub bindings: Vec<keys::Binding>,
    pub export_dir: PathBuf,
    /// The ledger: sessions, window changes and reveals with their reasons.
    pub ledger: Option<PathBuf>,
    /// The config's `display_timezone`, for the times on screen.
    pub display_timezone: Option<chrono_tz::Tz>,
    /// Database audit logs read beside the source.
    pub audit_logs: Vec<crate::dblog::LogSpec>,
    /// The breach review's deadline table and the `[breach]` switches on.
    pub deadlines: crate::report::deadlines::DeadlineTable,
    pub breach_switches: Vec<&'static str>,
}

fn restore_terminal() {
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::event::DisableMouseCapture,
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// The single background load: its task (which hands the source back)
/// and the flag that stops it between reads.
struct LoadJob {
    task: tokio::task::JoinHandle<Source>,
    stop: Arc<AtomicBool>,
}

fn spawn_load(
    tx: UnboundedSender<Action>,
    src: Source,
    set: data::Inputs,
    policy: Policy,
    window: AuditWindow,
    now: Instant,
    stop: Arc<AtomicBool>,
) -> LoadJob {
    let flag = stop.clone();
    // Until the first day of the window is judged, a line every quarter
    // second names the file being read and its rows so far: a million
    // subjects, or the month before the window that volume_spike compares
    // with, take seconds. Its own task, so a load that seldom yields
    // cannot hold it back.
    let begun = Arc::new(AtomicBool::new(false));
    let ticker = {
        let (tx, begun, reading) = (tx.clone(), begun.clone(), src.reading());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_millis(250));
            every.tick().await;
            loop {
                every.tick().await;
                if !begun.load(Ordering::Relaxed) {
                    let line = data::reading_line(&reading.now());
                    let _ = tx.send(Action::Load(LoadEvent::Step(line)));
                }
            }
        })
    };
    let task = tokio::spawn(async move {
        // A retry after a lost session starts on a new one.
        let mut src = src;
        if let Err(e) = src.revive().await {
            ticker.abort();
            let _ = tx.send(Action::Load(LoadEvent::Failed(e.to_string())));
            return src;
        }
        let t2 = tx.clone();
        let (src, result) = data::load(src, set, policy, window, now, &flag, move |e| {
            if matches!(e, LoadEvent::Day { .. }) {
                begun.store(true, Ordering::Relaxed);
            }
            let _ = t2.send(Action::Load(e));
        })
        .await;
        ticker.abort();
        let _ = tx.send(Action::Load(match result {
            Ok(d) => LoadEvent::Done(Arc::from(d)),
            // Stopped for a newer load: a statement cancelled on the server fails too.
            Err(_) if flag.load(Ordering::Relaxed) => LoadEvent::Cancelled,
            Err(e) => {
                tracing::error!(error = %e, "load failed");
                LoadEvent::Failed(e.to_string())
            }
        }));
        src
    });
    LoadJob { task, stop }
}

/// Returns freed heap pages to the system. glibc keeps what a load's
/// threads freed in their arenas, which a long session of reloads would
/// otherwise see as growth; elsewhere this does nothing.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: malloc_trim only walks glibc's own arenas; it takes no
        // pointer and is safe to call from any thread at any time.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// Keys in review mode: text while a note is typed, a digit for the
/// follow-up, arrows in the campaign list, else review's bindings.
fn review_key(
    app: &App,
    bindings: &[keys::Binding],
    k: &crossterm::event::KeyEvent,
) -> Option<Action> {
    use overlays::review::Step;
    match (&app.review.step, app.review.picking) {
        (_, true) => match k.code {
            KeyCode::Esc | KeyCode::Char('q') => Some(Action::Back),
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
            KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
            _ => None,
        },
        (Some(Step::Note { .. }), _) => match k.code {
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Backspace => Some(Action::Backspace),
            KeyCode::Char(c) => Some(Action::Input(c)),
            _ => None,
        },
        (Some(Step::FollowUp { .. }), _) => match k.code {
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Char(c) => Some(Action::Input(c)),
            _ => None,
        },
        _ => keys::lookup_review(bindings, k),
    }
}

/// The dashboard's ledger writer: one task that owns the ledger, records
/// sessions, and answers each reveal with whether it was recorded.
pub fn spawn_ledger(
    path: PathBuf,
    actions: UnboundedSender<Action>,
) -> UnboundedSender<reveal::LedgerWrite> {
    spawn_ledger_task(path, actions).0
}

/// The ledger's writer and its task, which ends once every sender is gone
/// and every write it was given is done: awaiting it flushes the ledger.
fn spawn_ledger_task(
    path: PathBuf,
    actions: UnboundedSender<Action>,
) -> (
    UnboundedSender<reveal::LedgerWrite>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, mut rx) = unbounded_channel::<reveal::LedgerWrite>();
    let task = tokio::spawn(async move {
        let mut ledger: Option<crate::ledger::Ledger> = None;
        while let Some(w) = rx.recv().await {
            if ledger.is_none() {
                match crate::ledger::Ledger::open(&path).await {
                    Ok(l) => ledger = Some(l),
                    Err(e) => {
                        tracing::warn!(error = %e, "ledger not opened");
                        let why = e.to_string();
                        let answer = match w {
                            reveal::LedgerWrite::Reveal { who, reason } => {
                                Some(Action::RevealRecorded {
                                    who,
                                    reason,
                                    result: Err(why),
                                })
                            }
                            reveal::LedgerWrite::LoadCampaigns => {
                                Some(Action::CampaignsLoaded(Err(why)))
                            }
                            reveal::LedgerWrite::Verdict { campaign, key, .. } => {
                                Some(Action::VerdictRecorded {
                                    campaign,
                                    key,
                                    result: Err(why),
                                })
                            }
                            reveal::LedgerWrite::Session(_) => None,
                        };
                        if let Some(a) = answer {
                            let _ = actions.send(a);
                        }
                        continue;
                    }
                }
            }
            let l = ledger.as_mut().expect("opened above");
            match w {
                reveal::LedgerWrite::Reveal { who, reason } => {
                    let body =
                        serde_json::json!({"who": who, "reason": reason, "where": "dashboard"});
                    let result = l
                        .append(&[("reveal", body)])
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string());
                    let _ = actions.send(Action::RevealRecorded {
                        who,
                        reason,
                        result,
                    });
                }
                reveal::LedgerWrite::Session(body) => {
                    if let Err(e) = l.append(&[("session", body)]).await {
                        tracing::warn!(error = %e, "session not recorded");
                    }
                }
                reveal::LedgerWrite::LoadCampaigns => {
                    let r = l.campaigns().await.map_err(|e| e.to_string());
                    let _ = actions.send(Action::CampaignsLoaded(r));
                }
                reveal::LedgerWrite::Verdict {
                    campaign,
                    key,
                    kind,
                    note,
                    follow_up,
                } => {
                    let r = async {
                        let seq = l
                            .decide(campaign, &key, kind, note.as_deref(), follow_up.as_deref())
                            .await?;
                        let e = l.entry(seq).await?;
                        Ok::<_, crate::ledger::LedgerError>(
                            e.map(|e| (e.actor, e.at)).unwrap_or_default(),
                        )
                    }
                    .await
                    .map_err(|e| e.to_string());
                    let _ = actions.send(Action::VerdictRecorded {
                        campaign,
                        key,
                        result: r,
                    });
                }
            }
        }
        if let Some(l) = ledger {
            l.close().await;
        }
    });
    (tx, task)
}

/// Maps a terminal event to an action for the current mode.
pub fn action_for(app: &App, bindings: &[keys::Binding], ev: Event) -> Option<Action> {
    match ev {
        Event::Key(k) if k.kind == KeyEventKind::Press => {
            if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
                return Some(Action::Quit);
            }
            match app.mode {
                Mode::Normal => keys::lookup(bindings, &k),
                Mode::Help => Some(Action::Back),
                Mode::Breach => match k.code {
                    KeyCode::Char('e') => Some(Action::Export),
                    _ => Some(Action::Back),
                },
                Mode::Review => review_key(app, bindings, &k),
                Mode::Search | Mode::Filter | Mode::RevealReason | Mode::Window => match k.code {
                    KeyCode::Esc => Some(Action::Back),
                    KeyCode::Enter => Some(Action::Submit),
                    KeyCode::Backspace => Some(Action::Backspace),
                    KeyCode::Up => Some(Action::Up),
                    KeyCode::Down => Some(Action::Down),
                    KeyCode::Char(c) => Some(Action::Input(c)),
                    _ => None,
                },
            }
        }
        Event::Resize(w, h) => Some(Action::Resize(w, h)),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollUp => Some(Action::ScrollUp),
            MouseEventKind::ScrollDown => Some(Action::ScrollDown),
            MouseEventKind::Down(MouseButton::Left) => Some(Action::Click(m.column, m.row)),
            _ => None,
        },
        _ => None,
    }
}

/// Runs the dashboard until the user quits.
/// Runs the dashboard until the user quits, or a signal ends it: then the
/// signal's number (SIGINT 2, SIGTERM 15, SIGHUP 1), after the terminal is
/// restored and the ledger flushed.
pub async fn run(launch: Launch) -> Result<Option<i32>, TuiError> {
    crossterm::terminal::enable_raw_mode()
        .map_err(|e| TuiError(format!("cannot use this terminal: {e}")))?;
    let mut stdout = std::io::stdout();
    if let Err(e) = crossterm::execute!(
        stdout,
        crossterm::terminal::EnterAlternateScreen,
        crossterm::event::EnableMouseCapture
    ) {
        restore_terminal();
        return Err(format!("cannot use this terminal: {e}").into());
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
    let mut terminal = match Terminal::new(CrosstermBackend::new(std::io::stdout())) {
        Ok(t) => t,
        Err(e) => {
            restore_terminal();
            return Err(format!("cannot use this terminal: {e}").into());
        }
    };
    let result = event_loop(&mut terminal, launch).await;
    restore_terminal();
    result
}

async fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    launch: Launch,
) -> Result<Option<i32>, TuiError> {
    let Launch {
        source,
        queries,
        policy,
        window,
        now,
        color,
        bindings,
        export_dir,
        ledger,
        display_timezone,
        audit_logs,
        deadlines,
        breach_switches,
    } = launch;
    let inputs = data::Inputs {
        queries,
        logs: audit_logs,
    };
    let (tx, mut rx) = unbounded_channel::<Action>();
    let mut app = App::new(color);
    app.spawner = Some(tx.clone());
    app.export_dir = export_dir;
    app.display_timezone = display_timezone;
    app.deadlines = deadlines;
    app.breach_switches = breach_switches;
    let source_json =
        serde_json::json!({"dialect": source.dialect.name(), "database": source.database});
    let (ledger_tx, ledger_task) = match ledger.map(|p| spawn_ledger_task(p, tx.clone())) {
        Some((t, h)) => (Some(t), Some(h)),
        None => (None, None),
    };
    app.ledger = ledger_tx.clone();
    let record_window = |w: &AuditWindow| {
        if let Some(l) = &ledger_tx {
            let _ = l.send(reveal::LedgerWrite::Session(serde_json::json!({
                "command": "dashboard",
                "source": source_json,
                "window": {
                    "from": crate::time::rfc3339(w.from),
                    "to": crate::time::rfc3339(w.to),
                    "as_of": crate::time::rfc3339(w.as_of),
                },
                "reveal": false,
                "reason": null,
            })));
        }
    };
    if let Ok(size) = terminal.size() {
        app.size = (size.width, size.height);
    }
    let (term_tx, mut term_rx) = unbounded_channel::<Event>();
    let input = tokio::spawn(async move {
        let mut events = EventStream::new();
        while let Some(Ok(ev)) = events.next().await {
            if term_tx.send(ev).is_err() {
                break;
            }
        }
    });
    let sig_tx = tx.clone();
    let signalled = Arc::new(std::sync::atomic::AtomicI32::new(0));
    let got = signalled.clone();
    let signals = tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        let n = tokio::select! {
            _ = term.recv() => 15,
            _ = hup.recv() => 1,
            _ = int.recv() => 2,
        };
        got.store(n, Ordering::SeqCst);
        let _ = sig_tx.send(Action::Quit);
    });
    let canceller = source.canceller();
    let mut window = window;
    let first = window
        .resolve(policy.timezone, now)
        .map_err(|e| TuiError(e.to_string()))?;
    record_window(&first);
    let mut job = Some(spawn_load(
        tx.clone(),
        source,
        inputs.clone(),
        policy.clone(),
        first,
        now,
        Arc::new(AtomicBool::new(false)),
    ));
    // The source rests here between loads; a load waits here for it.
    let mut parked: Option<Source> = None;
    let mut pending: Option<AuditWindow> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    // A test-only way to prove that a panic on screen restores the terminal.
    let forced_panic = std::env::var_os("KEYHOLE_TEST_PANIC").is_some_and(|v| v == "dashboard");
    loop {
        terminal
            .draw(|f| view::draw(&app, &bindings, f))
            .map_err(|e| TuiError(e.to_string()))?;
        if forced_panic && app.data.is_some() {
            panic!("forced for a test, on screen");
        }
        let mut batch: Vec<Action> = Vec::new();
        tokio::select! {
            a = rx.recv() => match a { Some(a) => batch.push(a), None => break },
            ev = term_rx.recv() => match ev {
                Some(ev) => batch.extend(action_for(&app, &bindings, ev)),
                None => break,
            },
            _ = tick.tick() => batch.push(Action::Tick),
        }
        for a in batch {
            app.update(a);
        }
        // Apply whatever else is already waiting before drawing again.
        while let Ok(a) = rx.try_recv() {
            app.update(a);
        }
        while let Ok(ev) = term_rx.try_recv() {
            if let Some(a) = action_for(&app, &bindings, ev) {
                app.update(a);
            }
        }
        if app.quit {
            break;
        }
        if let Some(request) = app.reload_requested.take() {
            if let Some(choice) = request {
                window = choice;
            }
            let now = chrono::Utc::now();
            match window.resolve(policy.timezone, now) {
                Ok(w) => {
                    tracing::info!(from = %crate::time::rfc3339(w.from), to = %crate::time::rfc3339(w.to), "dashboard load requested");
                    pending = Some(w);
                }
                Err(e) => tracing::warn!(error = %e, "window not resolved"),
            }
            // A running load is stopped between reads and on the server.
            if let Some(j) = &job
                && !j.task.is_finished()
            {
                j.stop.store(true, Ordering::Relaxed);
                if let Some(c) = &canceller {
                    let _ = c.cancel().await;
                }
            }
        }
        if let Some(j) = job.take_if(|j| j.task.is_finished())
            && let Ok(src) = j.task.await
        {
            parked = Some(src);
            // The load's working memory and the dataset it replaced are
            // freed by now; give the pages back, so that a dashboard that
            // reloads all night stays the size of one dataset.
            release_freed_memory();
        }
        if job.is_none()
            && let Some(w) = pending.take()
        {
            match parked.take() {
                Some(src) => {
                    record_window(&w);
                    job = Some(spawn_load(
                        tx.clone(),
                        src,
                        inputs.clone(),
                        policy.clone(),
                        w,
                        chrono::Utc::now(),
                        Arc::new(AtomicBool::new(false)),
                    ))
                }
                None => tracing::warn!("no source to reload from"),
            }
        }
    }
    if let Some(j) = job
        && !j.task.is_finished()
    {
        // Stop the statement on the server, not just the task that waits for it.
        j.stop.store(true, Ordering::Relaxed);
        if let Some(c) = &canceller {
            let _ = c.cancel().await;
        }
        j.task.abort();
    }
    input.abort();
    signals.abort();
    // Every write the ledger was given is done before the process ends.
    drop(app);
    drop(ledger_tx);
    if let Some(t) = ledger_task {
        let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
    }
    Ok(match signalled.load(Ordering::SeqCst) {
        0 => None,
        n => Some(n),
    })
}

/// Renders the app into a plain-text screen of `w`×`h` (tests, snapshots, benchmarks).
pub fn render_to_string(app: &App, bindings: &[keys::Binding], w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("a test backend");
    t.draw(|f| view::draw(app, bindings, f)).expect("draws");
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyEvent, MouseEvent};

    fn mouse(kind: MouseEventKind, column: u16, row: u16) -> Event {
        Event::Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    }

    #[test]
    fn the_wheel_scrolls_and_clicks_pick_tabs_and_rows() {
        let mut app = App::new(false);
        app.size = (80, 24);
        let b = keys::defaults();
        assert!(matches!(
            action_for(&app, &b, mouse(MouseEventKind::ScrollDown, 5, 5)),
            Some(Action::ScrollDown)
        ));
        assert!(matches!(
            action_for(&app, &b, mouse(MouseEventKind::ScrollUp, 5, 5)),
            Some(Action::ScrollUp)
        ));
        assert!(matches!(
            action_for(
                &app,
                &b,
                mouse(MouseEventKind::Down(MouseButton::Left), 13, 0)
            ),
            Some(Action::Click(13, 0))
        ));
        // The tab under the click comes from what the last frame drew.
        render_to_string(&app, &b, 80, 24);
        app.update(Action::Click(13, 0));
        assert_eq!(
            app.tab,
            app::Tab::Flags,
            "\" 1 Overview \" is 12 columns wide"
        );
        app.update(Action::Click(0, 0));
        assert_eq!(app.tab, app::Tab::Overview);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stopped_load_says_cancelled_and_hands_the_source_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.sqlite");
        let s = crate::demo::DemoSettings {
            events: 2000,
            seed: 2,
            anchor: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        };
        crate::demo::ensure_sqlite(&path, &s, false, |_| {})
            .await
            .unwrap();
        let opts = crate::source::SourceOptions {
            url: format!("sqlite://{}", path.display()),
            password: None,
            statement_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
        };
        let policy = Policy::demo();
        let now = chrono::Utc::now();
        let window = WindowChoice::default()
            .resolve(policy.timezone, now)
            .unwrap();
        for stopped in [true, false] {
            let src = Source::connect(&opts).await.unwrap();
            let (tx, mut rx) = unbounded_channel();
            let job = spawn_load(
                tx,
                src,
                data::Inputs {
                    queries: QuerySet::builtin(crate::source::Dialect::Sqlite),
                    logs: Vec::new(),
                },
                policy.clone(),
                window,
                now,
                Arc::new(AtomicBool::new(stopped)),
            );
            // The source comes back either way, ready for the next load.
            let src = job.task.await.unwrap();
            let mut last = None;
            while let Ok(a) = rx.try_recv() {
                if let Action::Load(e) = a {
                    last = Some(e);
                }
            }
            match (stopped, last) {
                (true, Some(LoadEvent::Cancelled)) | (false, Some(LoadEvent::Done(_))) => {}
                (_, other) => panic!("stopped {stopped}: {other:?}"),
            }
            src.close().await;
        }
    }

    #[test]
    fn in_a_prompt_keys_are_text_and_ctrl_c_still_quits() {
        let mut app = App::new(false);
        app.mode = Mode::Filter;
        let b = keys::defaults();
        let key = |c, m| Event::Key(KeyEvent::new(c, m));
        assert!(matches!(
            action_for(&app, &b, key(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Input('q'))
        ));
        assert!(matches!(
            action_for(&app, &b, key(KeyCode::Esc, KeyModifiers::NONE)),
            Some(Action::Back)
        ));
        assert!(matches!(
            action_for(&app, &b, key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        ));
    }
}
