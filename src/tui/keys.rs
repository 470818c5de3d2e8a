//! Key bindings: one table maps keys to actions, generates the help
//! overlay, and can be overridden (or unbound) from the config's `[keys]`.
//! Every action has a plain key and an arrow-key path; vim keys are aliases.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use crate::ledger::VerdictKind;

message_error!(
    /// A `[keys]` entry of the config that names no action or no key.
    BindingError
);

#[derive(Debug, Clone)]
pub struct Binding {
    pub name: &'static str,
    pub keys: Vec<String>,
    pub help: &'static str,
}

pub fn defaults() -> Vec<Binding> {
    let b = |name: &'static str, keys: &[&str], help: &'static str| Binding {
        name,
        keys: keys.iter().map(|k| k.to_string()).collect(),
        help,
    };
    vec![
        b("back", &["q", "esc"], "back out (quit from the overview)"),
        b("quit", &["ctrl-c"], "quit"),
        b(
            "next_tab",
            &["tab", "right", "l"],
            "next tab (1 … 7 jump to one)",
        ),
        b("prev_tab", &["backtab", "left", "h"], "previous tab"),
        b("up", &["up", "k"], "move up"),
        b("down", &["down", "j"], "move down"),
        b("page_up", &["pageup", "ctrl-b"], "page up"),
        b("page_down", &["pagedown", "ctrl-f", " "], "page down"),
        b("home", &["home", "g"], "first row"),
        b("end", &["end", "G"], "last row"),
        b(
            "open",
            &["enter"],
            "open: subject, staff member or their accesses",
        ),
        b(
            "search",
            &["/"],
            "fuzzy search staff, subjects, references, rules",
        ),
        b(
            "filter",
            &[":"],
            "filter: staff:104 rule:vip_access since:2026-03-01",
        ),
        b(
            "reveal",
            &["v"],
            "reveal (or mask again) the selected person, with a reason",
        ),
        b("sort", &["s"], "sort flags by time, severity, rule, staff"),
        b(
            "export",
            &["e"],
            "export the current view (Markdown or CSV)",
        ),
        b(
            "breach",
            &["b"],
            "breach review: the selected staff member or access address",
        ),
        b(
            "window",
            &["w"],
            "window: today, 7 or 30 days, this or last quarter, dates",
        ),
        b("reload", &["r"], "reload (restarts a load that is running)"),
        b("review", &["R"], "review a campaign: one verdict per item"),
        b("help", &["?"], "this help"),
        // In review mode only (shown on the review screen, not in help).
        b("justified", &["1"], "justified"),
        b("false_positive", &["2"], "false positive"),
        b("violation", &["3"], "violation"),
        b("needs_follow_up", &["4"], "needs follow-up"),
        b("escalated", &["5"], "escalated"),
        b("next_undecided", &["n"], "next undecided"),
        b("prev_undecided", &["p"], "previous undecided"),
    ]
}

/// The bindings that act only in review mode.
pub const REVIEW_ONLY: [&str; 7] = [
    "justified",
    "false_positive",
    "violation",
    "needs_follow_up",
    "escalated",
    "next_undecided",
    "prev_undecided",
];

/// What review mode answers to besides its own bindings.
const REVIEW_MOVES: [&str; 6] = ["up", "down", "page_up", "page_down", "back", "quit"];

/// Looks a key up among review mode's bindings (digits are verdicts here,
/// not tabs).
pub fn lookup_review(table: &[Binding], key: &KeyEvent) -> Option<Action> {
    let mods = key.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
    table
        .iter()
        .filter(|b| REVIEW_ONLY.contains(&b.name) || REVIEW_MOVES.contains(&b.name))
        .find(|b| {
            b.keys
                .iter()
                .filter_map(|k| parse_key(k))
                .any(|(code, m)| code == key.code && m == mods)
        })
        .and_then(|b| action_of(b.name))
}

fn action_of(name: &str) -> Option<Action> {
    Some(match name {
        "back" => Action::Back,
        "quit" => Action::Quit,
        "next_tab" => Action::NextTab,
        "prev_tab" => Action::PrevTab,
        "up" => Action::Up,
        "down" => Action::Down,
        "page_up" => Action::PageUp,
        "page_down" => Action::PageDown,
        "home" => Action::Home,
        "end" => Action::End,
        "open" => Action::Open,
        "search" => Action::Search,
        "filter" => Action::Filter,
        "reveal" => Action::Reveal,
        "sort" => Action::Sort,
        "export" => Action::Export,
        "breach" => Action::Breach,
        "window" => Action::Window,
        "reload" => Action::Reload,
        "help" => Action::Help,
        "review" => Action::Review,
        "justified" => Action::Verdict(VerdictKind::Justified),
        "false_positive" => Action::Verdict(VerdictKind::FalsePositive),
        "violation" => Action::Verdict(VerdictKind::Violation),
        "needs_follow_up" => Action::Verdict(VerdictKind::NeedsFollowUp),
        "escalated" => Action::Verdict(VerdictKind::Escalated),
        "next_undecided" => Action::NextUndecided,
        "prev_undecided" => Action::PrevUndecided,
        _ => return None,
    })
}

/// The status line's key hints, from the bindings in force: each action's
/// first key, and an action left without a key is left out.
pub fn hint_line(table: &[Binding]) -> String {
    [
        ("help", "help"),
        ("search", "search"),
        ("filter", "filter"),
        ("reveal", "reveal"),
        ("export", "export"),
        ("back", "back"),
    ]
    .iter()
    .filter_map(|(name, label)| {
        let key = table.iter().find(|b| b.name == *name)?.keys.first()?;
        Some(format!("{key} {label}"))
    })
    .collect::<Vec<_>>()
    .join("  ")
}

/// Applies `[keys]` overrides: `reload = ["f5"]` rebinds, `export = []` unbinds.
pub fn with_overrides(
    mut table: Vec<Binding>,
    overrides: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<Binding>, BindingError> {
    for (name, keys) in overrides {
        let b = table
            .iter_mut()
            .find(|b| b.name == name)
            .ok_or_else(|| format!("[keys]: unknown action {name:?}"))?;
        for k in keys {
            parse_key(k).ok_or_else(|| format!("[keys] {name}: unknown key {k:?}"))?;
        }
        b.keys = keys.clone();
    }
    // Ctrl-C always quits, whatever the config says.
    if !table.iter().any(|b| b.keys.iter().any(|k| k == "ctrl-c"))
        && let Some(q) = table.iter_mut().find(|b| b.name == "quit")
    {
        q.keys.push("ctrl-c".into());
    }
    Ok(table)
}

/// `"ctrl-c"`, `"q"`, `"G"`, `"enter"`, `"f5"` → key code and modifiers.
pub fn parse_key(s: &str) -> Option<(KeyCode, KeyModifiers)> {
    let (mods, key) = match s.strip_prefix("ctrl-") {
        Some(k) => (KeyModifiers::CONTROL, k),
        None => (KeyModifiers::NONE, s),
    };
    let code = match key {
        "esc" => KeyCode::Esc,
        "enter" => KeyCode::Enter,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "pageup" => KeyCode::PageUp,
        "pagedown" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        k if k.starts_with('f') && k.len() > 1 => KeyCode::F(k[1..].parse().ok()?),
        k if k.chars().count() == 1 => KeyCode::Char(k.chars().next()?),
        _ => return None,
    };
    Some((code, mods))
}

/// The action a key press means in normal mode.
pub fn lookup(table: &[Binding], key: &KeyEvent) -> Option<Action> {
    let mods = key.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
    if let KeyCode::Char(c @ '1'..='7') = key.code
        && mods.is_empty()
    {
        return Some(Action::GoTab(c as usize - '1' as usize));
    }
    for b in table {
        for k in &b.keys {
            if let Some((code, m)) = parse_key(k)
                && code == key.code
                && m == mods
            {
                return action_of(b.name);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hint_line_follows_the_bindings() {
        let d = defaults();
        assert_eq!(
            hint_line(&d),
            "? help  / search  : filter  v reveal  e export  q back"
        );
        let mut o = BTreeMap::new();
        o.insert("search".to_string(), vec!["f".to_string()]);
        o.insert("export".to_string(), vec![]);
        assert_eq!(
            hint_line(&with_overrides(d, &o).unwrap()),
            "? help  f search  : filter  v reveal  q back"
        );
    }

    fn key(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn every_action_has_a_default_key() {
        let names: Vec<&str> = defaults().iter().map(|b| b.name).collect();
        for n in [
            "back",
            "quit",
            "next_tab",
            "prev_tab",
            "up",
            "down",
            "page_up",
            "page_down",
            "home",
            "end",
            "open",
            "search",
            "filter",
            "reveal",
            "sort",
            "export",
            "window",
            "reload",
            "help",
            "breach",
        ] {
            assert!(names.contains(&n), "{n} has no default key");
            assert!(action_of(n).is_some());
        }
        assert!(matches!(
            lookup(&defaults(), &key(KeyCode::Char('b'), KeyModifiers::NONE)),
            Some(Action::Breach)
        ));
    }

    #[test]
    fn arrows_and_vim_keys_move() {
        let t = defaults();
        assert!(matches!(
            lookup(&t, &key(KeyCode::Down, KeyModifiers::NONE)),
            Some(Action::Down)
        ));
        assert!(matches!(
            lookup(&t, &key(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Action::Down)
        ));
        assert!(matches!(
            lookup(&t, &key(KeyCode::Char('3'), KeyModifiers::NONE)),
            Some(Action::GoTab(2))
        ));
        assert!(matches!(
            lookup(&t, &key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        ));
    }

    #[test]
    fn bindings_can_be_overridden_and_unbound() {
        let mut o = BTreeMap::new();
        o.insert("reload".to_string(), vec!["f5".to_string()]);
        o.insert("export".to_string(), vec![]);
        let t = with_overrides(defaults(), &o).unwrap();
        assert!(matches!(
            lookup(&t, &key(KeyCode::F(5), KeyModifiers::NONE)),
            Some(Action::Reload)
        ));
        assert!(lookup(&t, &key(KeyCode::Char('r'), KeyModifiers::NONE)).is_none());
        assert!(lookup(&t, &key(KeyCode::Char('e'), KeyModifiers::NONE)).is_none());
        o.insert("quit".to_string(), vec![]);
        let t = with_overrides(defaults(), &o).unwrap();
        assert!(
            matches!(
                lookup(&t, &key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
                Some(Action::Quit)
            ),
            "ctrl-c always quits"
        );
        o.insert("launch".to_string(), vec![]);
        assert!(with_overrides(defaults(), &o).is_err());
    }

    #[test]
    fn in_review_mode_digits_are_verdicts_and_can_be_rebound() {
        let d = |c| key(KeyCode::Char(c), KeyModifiers::NONE);
        assert!(matches!(
            lookup(&defaults(), &d('3')),
            Some(Action::GoTab(2))
        ));
        assert!(matches!(
            lookup_review(&defaults(), &d('3')),
            Some(Action::Verdict(VerdictKind::Violation))
        ));
        assert!(
            lookup_review(&defaults(), &d('s')).is_none(),
            "sort is not a review key"
        );
        let mut o = BTreeMap::new();
        o.insert("justified".to_string(), vec!["J".to_string()]);
        let t = with_overrides(defaults(), &o).unwrap();
        assert!(lookup_review(&t, &d('1')).is_none());
        assert!(matches!(
            lookup_review(&t, &key(KeyCode::Char('J'), KeyModifiers::SHIFT)),
            Some(Action::Verdict(VerdictKind::Justified))
        ));
    }
}
