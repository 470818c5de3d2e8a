//! `keyhole review …` and `keyhole report auditor`: campaigns frozen from
//! the flags pipeline, verdicts, the evidence, and the auditor's view of the
//! trail. Everything here reads or appends the ledger; only `start` and
//! `show` also read the source.

use std::collections::{BTreeMap, HashSet};

use keyhole::audit::{self, AuditWindow, DefaultStart, Plan};
use keyhole::ledger::review::NewCampaign;
use keyhole::ledger::{CampaignState, Ledger, VerdictKind};
use keyhole::report::{self, Format};
use keyhole::rules::Engine;
use keyhole::time::rfc3339;
use serde_json::{Value, json};

use super::{Usage, write_error};
use crate::cli::{FormatArg, GlobalOpts, ReviewCommand, ReviewStartArgs};

pub async fn command(g: &GlobalOpts, cmd: ReviewCommand) -> anyhow::Result<u8> {
    match cmd {
        ReviewCommand::Start(args) => start(g, &args).await,
        ReviewCommand::List { format } => {
            let format = table_or_json(format)?;
            let mut l = super::trail::open(g).await?;
            let all = l.campaigns().await;
            l.close().await;
            print(&report::review::list(&all?, format))
        }
        ReviewCommand::Show { campaign, format } => show(g, campaign, format).await,
        ReviewCommand::Decide {
            campaign,
            item,
            verdict,
            note,
            follow_up,
        } => {
            let kind = VerdictKind::from_name(&verdict).ok_or_else(|| {
                Usage(format!(
                    "--verdict {verdict:?}: expected justified, false_positive, violation, needs_follow_up or escalated"
                ))
            })?;
            keyhole::ledger::review::check_verdict(kind, note.as_deref(), follow_up.as_deref())
                .map_err(Usage)?;
            let mut l = super::trail::open(g).await?;
            let r = l
                .decide(
                    campaign,
                    item.trim(),
                    kind,
                    note.as_deref(),
                    follow_up.as_deref(),
                )
                .await;
            l.close().await;
            r?;
            Ok(0)
        }
        ReviewCommand::Export {
            campaign,
            format,
            output,
        } => {
            let format = match format {
                None | Some(FormatArg::Md) => Format::Md,
                Some(FormatArg::Csv) => Format::Csv,
                Some(FormatArg::Json) => Format::Json,
                Some(FormatArg::Table) => {
                    return Err(Usage("review export: --format md, csv or json".into()).into());
                }
            };
            let mut l = super::trail::open(g).await?;
            let r = async {
                let state = l.campaign_state(campaign, None).await?;
                // The export is itself an entry, so the head it carries covers it.
                l.append(&[(
                    "export",
                    json!({"campaign": campaign, "format": format_name(format),
                           "output": output.as_ref().map(|p| p.display().to_string())}),
                )])
                .await?;
                let head = l.head().await?.expect("an entry was just written");
                Ok::<_, anyhow::Error>((state, head))
            }
            .await;
            l.close().await;
            let (state, head) = r?;
            let text = report::review::export(&state, format, (head.0, &head.1));
            let mut out = super::Output::open(output.as_deref())?;
            out.writer()
                .write_all(text.as_bytes())
                .map_err(write_error)?;
            out.commit()?;
            Ok(0)
        }
    }
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Md => "md",
        Format::Csv => "csv",
        Format::Json => "json",
        Format::Table => "table",
    }
}

fn table_or_json(f: Option<FormatArg>) -> anyhow::Result<Format> {
    match f {
        None | Some(FormatArg::Table) => Ok(Format::Table),
        Some(FormatArg::Json) => Ok(Format::Json),
        _ => Err(Usage("--format table or json".into()).into()),
    }
}

fn print(text: &str) -> anyhow::Result<u8> {
    super::say(text)?;
    Ok(0)
}

/// What the source reports now for a campaign: the flags with their keys,
/// the window, the source, and the policy's and query files' hashes.
type FlagsNow = (
    Vec<keyhole::rules::Flag>,
    AuditWindow,
    Value,
    String,
    BTreeMap<String, String>,
);

/// The flags of a window with their keys, as `report flags` reports them;
/// `window` resolves the window once the policy (and its zone) is known.
async fn flags_now(
    g: &GlobalOpts,
    window: impl FnOnce(&keyhole::policy::Policy) -> anyhow::Result<AuditWindow>,
    rules: &[keyhole::rules::Rule],
    min: Option<keyhole::rules::Severity>,
) -> anyhow::Result<FlagsNow> {
    let logs = super::log_specs(g)?;
    let (mut src, set, policy) = super::open_source(g).await?;
    let w = match window(&policy) {
        Ok(w) => w,
        Err(e) => {
            src.close().await;
            return Err(e);
        }
    };
    let r = async {
        let dir = super::directory(&mut src, &set, &policy, &logs).await?;
        let mut engine = Engine::new(&policy, &dir, w.from, w.to, w.as_of);
        let (flags, _) =
            super::report::collect_flags(&mut src, &set, &mut engine, &Plan::default(), rules, min)
                .await?;
        Ok::<_, anyhow::Error>(flags)
    }
    .await;
    let source = json!({"dialect": src.dialect.name(), "database": src.database});
    src.close().await;
    let queries = set
        .texts()
        .map(|(name, sql)| {
            (
                name.to_string(),
                keyhole::ledger::sha256_hex(sql.as_bytes()),
            )
        })
        .collect();
    Ok((r?, w, source, policy.sha256.clone(), queries))
}

async fn start(g: &GlobalOpts, args: &ReviewStartArgs) -> anyhow::Result<u8> {
    if args.name.trim().is_empty() {
        return Err(Usage("--name must not be empty".into()).into());
    }
    let rules = super::report::parse_rules(&args.rules)?;
    let min = args.min_severity.map(super::severity);
    let flags_given = super::window_flags(&args.window);
    let (flags, w, source, policy_sha256, query_sha256) = flags_now(
        g,
        |policy| {
            Ok(audit::window::resolve(
                &flags_given,
                DefaultStart::Last30Days,
                policy.timezone,
                chrono::Utc::now(),
            )?)
        },
        &rules,
        min,
    )
    .await?;
    let items = flags
        .iter()
        .map(|f| (f.key.clone(), report::flag_value(f)))
        .collect();
    let mut l = super::trail::open(g).await?;
    let id = l
        .start_campaign(NewCampaign {
            name: args.name.trim().to_string(),
            window: (rfc3339(w.from), rfc3339(w.to), rfc3339(w.as_of)),
            filters: json!({
                "rules": args.rules,
                "min_severity": min.map(|s| s.name()),
            }),
            source,
            policy_sha256,
            query_sha256,
            items,
        })
        .await;
    l.close().await;
    print(&format!("{}\n", id?))
}

async fn show(g: &GlobalOpts, campaign: i64, format: Option<FormatArg>) -> anyhow::Result<u8> {
    let format = super::format_of(format);
    let mut l = super::trail::open(g).await?;
    let state = l.campaign_state(campaign, None).await;
    l.close().await;
    let state = state?;
    // Which items the source no longer reports for the frozen window.
    let c = &state.campaign;
    let checked = async {
        let w = AuditWindow {
            from: super::instant(&c.from)?,
            to: super::instant(&c.to)?,
            as_of: super::instant(&c.as_of)?,
        };
        let rules = super::report::parse_rules(
            &c.filters["rules"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|r| r.as_str().map(str::to_string))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default(),
        )?;
        let min = c.filters["min_severity"]
            .as_str()
            .and_then(keyhole::rules::Severity::from_name);
        let (flags, ..) = flags_now(g, |_| Ok(w), &rules, min).await?;
        let now: HashSet<String> = flags.into_iter().map(|f| f.key).collect();
        Ok::<_, anyhow::Error>(
            state
                .items
                .iter()
                .filter(|(i, _)| !now.contains(&i.key))
                .map(|(i, _)| i.key.clone())
                .collect::<HashSet<String>>(),
        )
    }
    .await;
    let gone = match checked {
        Ok(g) => Some(g),
        Err(e) => {
            eprintln!("keyhole: the source was not checked for changes: {e}");
            None
        }
    };
    print(&report::review::show(
        &state,
        format,
        gone.as_ref(),
        super::terminal_width(),
    ))
}

/// Replays a campaign as of an entry (for `ledger verify --export`).
pub async fn state_at(l: &mut Ledger, campaign: i64, seq: i64) -> anyhow::Result<CampaignState> {
    Ok(l.campaign_state(campaign, Some(seq)).await?)
}
