//! `keyhole explain --mine`: mines the relationship templates that explain
//! the window's accesses, prints them ranked with coverage and lift, and
//! with `--write FILE` writes the kept ones as relationships.sql (never
//! over an existing file).

use keyhole::audit::{self, DefaultStart, WindowFlags};
use keyhole::setup::mine;
use keyhole::source::Window;
use std::fmt::Write as _;

use super::Usage;
use crate::cli::{ExplainArgs, GlobalOpts};

pub async fn command(g: &GlobalOpts, args: &ExplainArgs) -> anyhow::Result<u8> {
    if !args.mine {
        return Err(Usage(
            "explain: give --mine (mine relationship templates from the access log)".into(),
        )
        .into());
    }
    if let Some(p) = &args.write
        && p.exists()
    {
        return Err(Usage(format!(
            "--write {}: the file exists; keyhole never overwrites it",
            p.display()
        ))
        .into());
    }
    let (mut src, queries, policy) = super::open_source(g).await?;
    let tty = super::progress_enabled();
    let result = async {
        let flags = WindowFlags {
            from: args.from.clone(),
            to: args.to.clone(),
            as_of: None,
        };
        let w = audit::window::resolve(&flags, DefaultStart::Last30Days, policy.timezone, chrono::Utc::now())?;
        let window = Window { from: w.from, to: w.to };
        let m = mine::mine(&mut src, &queries, &policy, window, |what| {
            if tty {
                eprint!("\r  {what}\x1b[K");
            }
        })
        .await?;
        super::clear_progress(tty);
        let mut text = format!(
            "{} accesses naming a subject, {} to {}; kept templates explain {:.1}% (kept: coverage >= {:.1}%, lift >= {:.0})\n",
            m.accesses,
            keyhole::time::rfc3339(window.from),
            keyhole::time::rfc3339(window.to),
            m.coverage * 100.0,
            mine::MIN_COVERAGE * 100.0,
            mine::MIN_LIFT
        );
        text.push('\n');
        let _ = writeln!(text, "  {:<4} {:>9} {:>7} {:>9}  template", "kept", "coverage", "lift", "rows");
        for t in &m.templates {
            let _ = writeln!(
                text,
                "  {:<4} {:>8.1}% {:>7.0} {:>9}  {} (staff {}, subject {}, from {}, to {})",
                if t.accepted { "yes" } else { "no" },
                t.coverage * 100.0,
                t.lift,
                t.rows,
                keyhole::sanitize::terminal(&t.kind),
                keyhole::sanitize::terminal(&t.staff_column),
                keyhole::sanitize::terminal(&t.subject_column),
                keyhole::sanitize::terminal(t.valid_from.as_deref().unwrap_or("—")),
                keyhole::sanitize::terminal(t.valid_to.as_deref().unwrap_or("—")),
            );
        }
        if m.templates.is_empty() {
            let _ = writeln!(text, "  (no table links a subject-like column to a staff-like one)");
        }
        let _ = writeln!(text, "\nNever part of a path: {}", m.excluded.join(", "));
        for (t, why) in &m.skipped {
            let _ = writeln!(
                text,
                "Could not be sampled, so not tried: {} ({})",
                keyhole::sanitize::terminal(t),
                keyhole::sanitize::terminal(why)
            );
        }
        super::say(&text)?;
        if let Some(p) = &args.write {
            let text = mine::relationships_sql(&m, window);
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(p)
                .map_err(|e| Usage(format!("--write {}: {e}", p.display())))?;
            std::io::Write::write_all(&mut f, text.as_bytes())
                .map_err(|e| anyhow::anyhow!("--write {}: {e}", p.display()))?;
            super::say(&format!("wrote {}\n", p.display()))?;
        }
        Ok(0)
    }
    .await;
    super::clear_progress(tty);
    src.close().await;
    result
}
