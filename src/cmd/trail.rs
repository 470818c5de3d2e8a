//! The auditor's trail: every report, breach scope and dashboard session is
//! an entry in the ledger (who, which source, which window), and so is
//! every reveal with its reason. A run that reveals names and cannot be
//! recorded does not run; any other run warns and goes on.

use std::path::PathBuf;

use keyhole::audit::AuditWindow;
use keyhole::config::Settings;
use keyhole::ledger::Ledger;
use keyhole::source::Source;
use keyhole::time::rfc3339;
use serde_json::{Value, json};

use crate::cli::GlobalOpts;

/// The ledger's path, from `--ledger`, the config, or the data directory.
pub fn ledger_path(g: &GlobalOpts) -> anyhow::Result<PathBuf> {
    Ok(Settings::resolve(&super::overrides(g))?.ledger)
}

pub async fn open(g: &GlobalOpts) -> anyhow::Result<Ledger> {
    Ok(Ledger::open(&ledger_path(g)?).await?)
}

/// A session's entry body.
pub fn session(
    command: &str,
    src: &Source,
    w: Option<&AuditWindow>,
    reveal: Option<&str>,
) -> Value {
    json!({
        "command": command,
        "source": {"dialect": src.dialect.name(), "database": src.database},
        "window": w.map(|w| json!({"from": rfc3339(w.from), "to": rfc3339(w.to), "as_of": rfc3339(w.as_of)})),
        "reveal": reveal.is_some(),
        "reason": reveal.filter(|r| !r.is_empty()),
    })
}

/// Records a session. With a reveal the failure is returned (the run must
/// not reveal unrecorded); without one it becomes a warning on stderr.
pub async fn record(g: &GlobalOpts, body: Value) -> anyhow::Result<()> {
    let reveal = body["reveal"].as_bool().unwrap_or(false);
    let result = async {
        let mut l = open(g).await?;
        let r = l.append(&[("session", body)]).await;
        l.close().await;
        r?;
        Ok::<_, anyhow::Error>(())
    }
    .await;
    match result {
        Ok(()) => Ok(()),
        Err(e) if reveal => Err(anyhow::anyhow!(
            "{e}; names are not revealed without a record"
        )),
        Err(e) => {
            tracing::warn!(error = %e, "session not recorded");
            eprintln!("keyhole: {e}; this run is not in the auditor's trail");
            Ok(())
        }
    }
}

/// Moves the reveals that earlier versions appended to `reveals.log` into
/// the ledger, once: an `import` entry names the file and its line count,
/// and the file itself is left where it is.
pub async fn import_reveals(g: &GlobalOpts, file: &std::path::Path) {
    let Ok(text) = std::fs::read_to_string(file) else {
        return;
    };
    let result = async {
        let mut l = open(g).await?;
        let done = l
            .of_kind("import")
            .await?
            .iter()
            .any(|e| e.body_json()["file"].as_str() == Some(&file.display().to_string()));
        if !done {
            let mut entries: Vec<(&str, Value)> = text
                .lines()
                .filter_map(|line| {
                    let f: Vec<&str> = line.splitn(4, '\t').collect();
                    (f.len() == 4 && f[1] == "reveal").then(|| {
                        (
                            "reveal",
                            json!({"who": f[2], "reason": f[3], "where": "dashboard", "at": f[0]}),
                        )
                    })
                })
                .collect();
            let n = entries.len();
            entries.push((
                "import",
                json!({"file": file.display().to_string(), "reveals": n}),
            ));
            l.append(&entries).await?;
        }
        l.close().await;
        Ok::<_, anyhow::Error>(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "reveals.log not imported");
    }
}
