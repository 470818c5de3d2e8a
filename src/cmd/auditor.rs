//! `keyhole report auditor`: who used keyhole on which source and window,
//! each reveal with its reason and each export, read from the ledger alone
//! (no source is opened).

use keyhole::audit::{self, AuditWindow, DefaultStart};
use keyhole::report::{self, Format};
use keyhole::time::rfc3339;
use serde_json::{Value, json};

use super::instant;
use super::write_error;
use crate::cli::{GlobalOpts, ReportArgs};

/// `report auditor`: sessions, reveals and exports in the window, from the ledger.
pub async fn command(g: &GlobalOpts, args: &ReportArgs) -> anyhow::Result<u8> {
    // The ledger keeps UTC instants; dates on the command line are UTC days here.
    let w = audit::window::resolve(
        &super::window_flags(&args.window),
        DefaultStart::Last30Days,
        chrono_tz::UTC,
        chrono::Utc::now(),
    )?;
    let mut l = super::trail::open(g).await?;
    // Only the trail's kinds, read through the index (not every frozen item).
    let entries = async {
        let mut all = Vec::new();
        for kind in ["session", "reveal", "export"] {
            all.extend(l.of_kind(kind).await?);
        }
        all.sort_by_key(|e| e.seq);
        Ok::<_, keyhole::ledger::LedgerError>(all)
    }
    .await;
    l.close().await;
    let rows: Vec<Value> = entries?
        .into_iter()
        // Without --to, everything up to now, this second's entries included.
        .filter(|e| {
            instant(&e.at).is_ok_and(|t| t >= w.from && (args.window.to.is_none() || t < w.to))
        })
        .map(|e| {
            let b = e.body_json();
            json!({"seq": e.seq, "at": e.at, "who": e.actor, "kind": e.kind, "what": b})
        })
        .collect();
    let format = super::format_of(args.format);
    let text = render_auditor(&rows, &w, format);
    let mut out = super::Output::open(args.output.as_deref())?;
    out.writer()
        .write_all(text.as_bytes())
        .map_err(write_error)?;
    out.commit()?;
    Ok(0)
}

fn summary(kind: &str, b: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    match kind {
        "session" => {
            let mut t = format!(
                "{} on {} {}",
                s(&b["command"]),
                s(&b["source"]["dialect"]),
                s(&b["source"]["database"])
            );
            if b["window"].is_object() {
                t.push_str(&format!(
                    ", window {} to {}",
                    s(&b["window"]["from"]),
                    s(&b["window"]["to"])
                ));
            }
            if b["reveal"].as_bool() == Some(true) {
                t.push_str(&format!(", names revealed (reason: {})", s(&b["reason"])));
            }
            t
        }
        "reveal" => format!("revealed {} (reason: {})", s(&b["who"]), s(&b["reason"])),
        _ => format!("exported campaign {} as {}", b["campaign"], s(&b["format"])),
    }
}

fn render_auditor(rows: &[Value], w: &AuditWindow, format: Format) -> String {
    use std::fmt::Write as _;
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    match format {
        Format::Json => {
            let mut t = serde_json::to_string_pretty(&json!({
                "window": {"from": rfc3339(w.from), "to": rfc3339(w.to)},
                "entries": rows,
            }))
            .expect("serialises");
            t.push('\n');
            t
        }
        Format::Csv => {
            let mut o = report::csv_row(&["seq", "at", "who", "kind", "what"].map(String::from));
            for r in rows {
                o.push_str(&report::csv_row(&[
                    r["seq"].to_string(),
                    s(&r["at"]),
                    s(&r["who"]),
                    s(&r["kind"]),
                    summary(r["kind"].as_str().unwrap_or(""), &r["what"]),
                ]));
            }
            o
        }
        Format::Md | Format::Table => {
            let md = format == Format::Md;
            let mut o = String::new();
            if md {
                let _ = writeln!(
                    o,
                    "# Who used keyhole\n\nWindow {} to {}\n\n| entry | when (UTC) | who | what |\n|---|---|---|---|",
                    rfc3339(w.from),
                    rfc3339(w.to)
                );
            }
            for r in rows {
                let what = keyhole::sanitize::terminal(&summary(
                    r["kind"].as_str().unwrap_or(""),
                    &r["what"],
                ));
                let who = keyhole::sanitize::terminal(&s(&r["who"]));
                if md {
                    let _ = writeln!(
                        o,
                        "| {} | {} | {} | {} |",
                        r["seq"],
                        s(&r["at"]),
                        who.replace('|', "\\|"),
                        what.replace('|', "\\|")
                    );
                } else {
                    let _ = writeln!(o, "{:>6} {:<24} {:<16} {what}", r["seq"], s(&r["at"]), who);
                }
            }
            if !md {
                let _ = writeln!(o, "{} entr(ies)", rows.len());
            }
            o
        }
    }
}
