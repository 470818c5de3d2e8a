//! `keyhole init`: drafts `queries/*.sql`, `policy.toml` and `keyhole.toml`
//! from the catalogue, never overwriting a file, prints what it found and
//! how sure it is, then runs `check` on the result.

use std::fmt::Write as _;
use std::path::Path;

use keyhole::policy::Policy;
use keyhole::setup::draft;
use keyhole::source::queries::QuerySet;

use super::Usage;
use crate::cli::{GlobalOpts, InitArgs};

/// Writes `text` to `path` unless something is there; says which.
fn write_new(path: &Path, text: &str, said: &mut Vec<String>) -> anyhow::Result<()> {
    if path.exists() {
        said.push(format!(
            "  kept     {} (it exists; not overwritten)",
            path.display()
        ));
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Usage(format!("--out {}: {e}", dir.display())))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Usage(format!("{}: {e}", path.display())))?;
    std::io::Write::write_all(&mut f, text.as_bytes())
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    said.push(format!("  wrote    {}", path.display()));
    Ok(())
}

pub async fn command(g: &GlobalOpts, args: &InitArgs) -> anyhow::Result<u8> {
    let (mut src, settings) = super::connect_named(g, "init").await?;
    let result = async {
        let (d, cat) = draft::draft(&mut src).await?;
        let skipped: Vec<String> = cat
            .skipped
            .iter()
            .map(|(t, why)| {
                format!(
                    "  skipped  {}: {}",
                    keyhole::sanitize::terminal(t),
                    keyhole::sanitize::terminal(why)
                )
            })
            .collect();
        if d.files.is_empty() {
            // One line: what is missing, and what could not be read.
            let also = match cat.skipped.first() {
                Some((t, why)) => format!(
                    "; {} table(s) could not be sampled, first {}: {}",
                    cat.skipped.len(),
                    keyhole::sanitize::terminal(t),
                    keyhole::sanitize::terminal(why)
                ),
                None => String::new(),
            };
            for f in &d.findings {
                eprintln!("keyhole: init: {}: {}{also}", f.file, f.note);
            }
            return Ok(1);
        }
        let dir = &args.out;
        let qdir = dir.join("queries");
        let mut said = Vec::new();
        for (name, text) in &d.files {
            write_new(&qdir.join(name), text, &mut said)?;
        }
        if !d.policy.is_empty() {
            write_new(&dir.join("policy.toml"), &d.policy, &mut said)?;
        }
        let url = settings.url.clone().unwrap_or_default();
        let config = format!(
            "# Drafted by keyhole init. Passwords never go here: set password_env.\n\
             url = \"{}\"\n# password_env = \"KEYHOLE_DB_PASSWORD\"\nqueries = \"queries\"\npolicy = \"policy.toml\"\n",
            url.replace('\\', "\\\\").replace('"', "\\\"")
        );
        write_new(&dir.join("keyhole.toml"), &config, &mut said)?;
        let mut text = format!("What keyhole init found in {} ({}):\n\n", src.database, src.dialect.name());
        let _ = writeln!(text, "  {:<22} {:<24} {:<10} note", "file", "table", "sure");
        for f in &d.findings {
            let _ = writeln!(
                text,
                "  {:<22} {:<24} {:<10} {}",
                f.file,
                keyhole::sanitize::terminal(f.table.as_deref().unwrap_or("—")),
                f.confidence.text(),
                keyhole::sanitize::terminal(&f.note)
            );
        }
        text.push('\n');
        for l in skipped.iter().chain(&said) {
            let _ = writeln!(text, "{l}");
        }
        text.push_str("\nEvery `-- guess:` comment marks a choice to confirm.\n\n");
        super::say(&text)?;
        // Check what is now on disk (a kept file is checked as it is).
        let queries = QuerySet::from_dir(&qdir).map_err(|e| Usage(e.to_string()))?;
        let policy = Policy::load(&dir.join("policy.toml"))?;
        let now = chrono::Utc::now();
        let report = keyhole::check::run(&mut src, &queries, &policy, &[], now, |_| {}).await;
        super::say(&report.render())?;
        Ok(if report.failed() { 1 } else { 0 })
    }
    .await;
    src.close().await;
    result
}
