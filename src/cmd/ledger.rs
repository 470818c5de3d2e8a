//! `keyhole ledger verify [--export FILE]`: walks the chain, and checks that
//! an export's chain head is an entry of this ledger and that the export is
//! exactly what the ledger held at that entry.

use std::path::Path;

use keyhole::ledger::{Ledger, verify_chain};
use keyhole::report::Format;

use crate::cli::{GlobalOpts, LedgerCommand};

pub async fn command(g: &GlobalOpts, cmd: LedgerCommand) -> anyhow::Result<u8> {
    let LedgerCommand::Verify { export } = cmd;
    let path = super::trail::ledger_path(g)?;
    if !path.exists() {
        anyhow::bail!("ledger {}: no such file", path.display());
    }
    let mut l = Ledger::open(&path).await?;
    let r = verify(&mut l, &path, export.as_deref()).await;
    l.close().await;
    let msg = r?;
    super::say(&format!("{msg}\n"))?;
    Ok(0)
}

async fn verify(l: &mut Ledger, path: &Path, export: Option<&Path>) -> anyhow::Result<String> {
    let entries = l.entries().await?;
    let v = verify_chain(path, &entries)?;
    let mut msg = match &v.head {
        Some((seq, hash)) => format!(
            "ledger intact: {} entries, head {hash} (entry {seq})",
            v.entries
        ),
        None => "ledger intact: no entries yet".to_string(),
    };
    let Some(file) = export else { return Ok(msg) };
    let text =
        std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let (format, head, campaign) = read_export(&text).ok_or_else(|| {
        anyhow::anyhow!(
            "{}: not a review export (no chain head found)",
            file.display()
        )
    })?;
    let Some(at) = entries.iter().find(|e| e.hash == head) else {
        anyhow::bail!(
            "{}: its chain head {head} is not an entry of this ledger",
            file.display()
        );
    };
    let candidates: Vec<i64> = match campaign {
        Some(c) => vec![c],
        None => entries
            .iter()
            .filter(|e| e.kind == "campaign" && e.seq <= at.seq)
            .filter_map(|e| e.body_json()["campaign"].as_i64())
            .collect(),
    };
    for c in candidates {
        let Ok(state) = super::review::state_at(l, c, at.seq).await else {
            continue;
        };
        let same = match format {
            Format::Json => {
                let theirs: serde_json::Value = serde_json::from_str(&text)?;
                theirs == keyhole::report::review::export_json(&state, &head)
            }
            f => keyhole::report::review::export(&state, f, (at.seq, &head)) == text,
        };
        if same {
            msg.push_str(&format!(
                "\n{}: matches campaign {c} as of entry {}",
                file.display(),
                at.seq
            ));
            return Ok(msg);
        }
    }
    anyhow::bail!(
        "{}: does not match what the ledger held at entry {} (its chain head)",
        file.display(),
        at.seq
    )
}

/// The export's format, chain head and campaign (when it names one).
fn read_export(text: &str) -> Option<(Format, String, Option<i64>)> {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        let head = v["chain_head"].as_str()?.to_string();
        return Some((Format::Json, head, v["campaign"]["id"].as_i64()));
    }
    if let Some(line) = text.lines().find(|l| l.starts_with("# chain_head,")) {
        let head = line.split(',').nth(1)?.to_string();
        return Some((Format::Csv, head, None));
    }
    let head = text
        .lines()
        .find_map(|l| l.strip_prefix("- Chain head: `"))?
        .split('`')
        .next()?
        .to_string();
    let campaign = text
        .lines()
        .next()?
        .strip_prefix("# Access review: campaign ")?
        .split(',')
        .next()?
        .parse()
        .ok();
    Some((Format::Md, head, campaign))
}
