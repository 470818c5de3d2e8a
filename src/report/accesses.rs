//! `report accesses`: every access of the window with its verdict, written
//! as each day is judged (JSON Lines, CSV, Markdown or a terminal table), so
//! memory does not grow with the window.

use std::io::Write;

use super::{ACCESS_COLUMNS, Format, access_cells, access_json_line, csv_row, event_severity};
use crate::audit::{Day, Sink, SinkError};
use crate::policy::Policy;
use crate::rules::Severity;
use crate::sanitize::{clip, terminal};

/// Writes each judged day's accesses to `out` as they arrive.
pub struct AccessWriter<'p, W: Write> {
    out: W,
    format: Format,
    width: usize,
    policy: &'p Policy,
    /// The worst severity written (for `--fail-on`).
    pub worst: Option<Severity>,
}

impl<'p, W: Write> AccessWriter<'p, W> {
    /// Writes the header line of CSV and Markdown at once.
    pub fn new(
        mut out: W,
        format: Format,
        width: usize,
        policy: &'p Policy,
    ) -> std::io::Result<Self> {
        match format {
            Format::Csv => out.write_all(csv_row(&ACCESS_COLUMNS.map(String::from)).as_bytes())?,
            Format::Md => out.write_all(b"| event | when (UTC) | staff | subject | action | category | purpose | reference | flags | why |\n|---|---|---|---|---|---|---|---|---|---|\n")?,
            Format::Json | Format::Table => {}
        }
        Ok(AccessWriter {
            out,
            format,
            width,
            policy,
            worst: None,
        })
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn line(&self, c: &[String]) -> String {
        match self.format {
            Format::Json => unreachable!("JSON lines are written whole"),
            Format::Csv => csv_row(c),
            Format::Md => {
                let m = super::md;
                format!(
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                    m(&c[0]),
                    c[1],
                    m(&c[2]),
                    m(&c[3]),
                    m(&c[4]),
                    m(&c[5]),
                    m(&c[6]),
                    m(&c[7]),
                    c[11],
                    m(&c[12])
                )
            }
            Format::Table => {
                let mark = if c[11].is_empty() { "✓" } else { "⚑" };
                let fixed = format!(
                    "{:<20} {} {:<6} {:<8} {:<7} {:<14} ",
                    c[1],
                    mark,
                    clip(&terminal(&c[2]), 6),
                    clip(&terminal(&c[3]), 8),
                    clip(&terminal(&c[4]), 7),
                    clip(&terminal(&c[5]), 14)
                );
                let rest = self.width.saturating_sub(fixed.chars().count()).max(10);
                let verdict = if c[11].is_empty() { &c[12] } else { &c[11] };
                let tail = if c[7].is_empty() {
                    verdict.clone()
                } else {
                    format!("{} · {verdict}", c[7])
                };
                format!(
                    "{}\n",
                    clip(
                        &format!("{fixed}{}", clip(&terminal(&tail), rest)),
                        self.width
                    )
                )
            }
        }
    }
}

impl<'a, W: Write + Send> Sink<'a> for AccessWriter<'_, W> {
    fn day(&mut self, day: Day<'a, '_>) -> Result<bool, SinkError> {
        for j in &day.judged {
            self.worst = self
                .worst
                .max(event_severity(j, |r| self.policy.severity_of(r)));
            let line = match self.format {
                Format::Json => access_json_line(j, day.symbols),
                _ => self.line(&access_cells(j, day.symbols)),
            };
            self.out.write_all(line.as_bytes())?;
        }
        Ok(true)
    }
}
