//! The need-to-know policy file (CONTRACT section 4): serde types, defaults
//! and validation. Every error names the file and the line (and column).
//! Values are compared trimmed and lower-cased, so they are stored that way.

use std::collections::BTreeMap;

/// The policy's sets of names, looked up for every access.
pub type NameSet = rustc_hash::FxHashSet<String>;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::config::{ConfigError, line_col};
use crate::vocab::{Rule, Severity};
pub use crate::vocab::{norm, norm_cow};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    timezone: Option<Spanned<String>>,
    marketing_purposes: Option<Vec<String>>,
    export_actions: Option<Vec<String>>,
    deletion_exempt_purposes: Option<Vec<String>>,
    notify_subjects_of_legal_process: Option<bool>,
    working_hours: Option<Spanned<RawHours>>,
    thresholds: Option<Thresholds>,
    #[serde(default)]
    roles: BTreeMap<Spanned<String>, Spanned<RawRole>>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
    audit: Option<RawAudit>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    service_accounts: Option<Vec<String>>,
    #[serde(default)]
    tables: BTreeMap<Spanned<String>, Spanned<RawAuditTable>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuditTable {
    subject_key: Spanned<String>,
    #[serde(default)]
    columns: BTreeMap<String, String>,
}

/// The `[audit]` table (CONTRACT section 8): the database users of
/// applications and the tables that hold personal data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditPolicy {
    /// Database logins whose statements are never events, trimmed and
    /// compared exactly (a login is an account name, like a staff id).
    pub service_accounts: std::collections::BTreeSet<String>,
    pub tables: Vec<AuditTable>,
}

/// A table that holds personal data, as the audit log names it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditTable {
    /// As written in the policy (trimmed): `crm.customers`, `shop.customers`.
    pub name: String,
    /// The column that identifies the person, lower-cased.
    pub subject_key: String,
    /// Mapped column (lower-cased) and its data category (normalised), by column.
    pub columns: Vec<(String, String)>,
}

impl AuditPolicy {
    /// The table a log's object name stands for: the policy's name compared
    /// case-insensitively; with `bare`, a `database.table` name (MariaDB's)
    /// also matches the policy's bare table.
    pub fn table(&self, object: &str, bare: bool) -> Option<&AuditTable> {
        let object = object.trim();
        let find = |n: &str| self.tables.iter().find(|t| t.name.eq_ignore_ascii_case(n));
        find(object).or_else(|| {
            object
                .rsplit_once('.')
                .filter(|_| bare)
                .and_then(|(_, b)| find(b))
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHours {
    start: Spanned<String>,
    end: Spanned<String>,
    days: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    categories: Option<Vec<String>>,
    purposes: Option<Vec<String>>,
    actions: Option<Vec<String>>,
    requires_relationship: Option<bool>,
    working_hours: Option<Spanned<RawHours>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    pub bulk_daily_subjects: u64,
    pub bulk_daily_records: i64,
    pub bulk_export_records: i64,
    pub volume_spike_factor: f64,
    pub volume_spike_min: u64,
    pub family_name_max_subjects: u64,
    pub relationship_lead_minutes: i64,
    pub relationship_grace_minutes: i64,
    pub deletion_grace_days: i64,
    pub opt_out_grace_days: i64,
    pub access_grace_days: i64,
    pub correction_grace_days: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            bulk_daily_subjects: 50,
            bulk_daily_records: 2000,
            bulk_export_records: 500,
            volume_spike_factor: 3.0,
            volume_spike_min: 20,
            family_name_max_subjects: 25,
            relationship_lead_minutes: 0,
            relationship_grace_minutes: 0,
            deletion_grace_days: 30,
            opt_out_grace_days: 10,
            access_grace_days: 30,
            correction_grace_days: 30,
        }
    }
}

/// Working hours: `[start, end)` in seconds after local midnight on the
/// listed weekdays; `end < start` wraps past midnight.
#[derive(Debug, Clone, PartialEq)]
pub struct Hours {
    pub start: u32,
    pub end: u32,
    /// Monday first.
    pub days: [bool; 7],
}

impl Hours {
    /// Inside means a listed weekday (the instant's own) and
    /// `start <= time < end`, or for a wrapping range `time >= start or time < end`.
    pub fn contains(&self, weekday_from_monday: usize, secs: u32) -> bool {
        if !self.days[weekday_from_monday] {
            return false;
        }
        if self.start < self.end {
            secs >= self.start && secs < self.end
        } else {
            secs >= self.start || secs < self.end
        }
    }

    pub fn describe(&self) -> String {
        const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let days: Vec<&str> = (0..7).filter(|d| self.days[*d]).map(|d| NAMES[d]).collect();
        let days = if days.len() == 7 {
            "every day".to_string()
        } else {
            days.join(",")
        };
        format!("{}–{} {days}", hhmm(self.start), hhmm(self.end))
    }
}

fn hhmm(secs: u32) -> String {
    format!("{:02}:{:02}", secs / 3600, secs % 3600 / 60)
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RolePolicy {
    pub categories: NameSet,
    pub purposes: NameSet,
    /// None: any action.
    pub actions: Option<NameSet>,
    pub requires_relationship: bool,
    pub working_hours: Option<Hours>,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub origin: String,
    /// SHA-256 of the policy file's bytes (hex), frozen with a campaign.
    pub sha256: String,
    pub timezone: chrono_tz::Tz,
    pub marketing_purposes: NameSet,
    pub export_actions: NameSet,
    pub deletion_exempt_purposes: NameSet,
    pub notify_subjects_of_legal_process: bool,
    pub working_hours: Option<Hours>,
    pub thresholds: Thresholds,
    pub roles: std::collections::HashMap<String, RolePolicy>,
    /// Effective severity per rule; None: off.
    pub severity: [Option<Severity>; Rule::COUNT],
    pub audit: AuditPolicy,
}

fn norm_set(v: Option<Vec<String>>, default: &[&str]) -> NameSet {
    match v {
        Some(v) => v
            .iter()
            .map(|s| norm(s))
            .filter(|s| !s.is_empty())
            .collect(),
        None => default.iter().map(|s| s.to_string()).collect(),
    }
}

struct Ctx<'a> {
    origin: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, span: std::ops::Range<usize>, msg: impl std::fmt::Display) -> ConfigError {
        let (l, c) = line_col(self.text, span.start);
        ConfigError::Usage(format!("{}:{l}:{c}: {msg}", self.origin))
    }

    fn time(&self, s: &Spanned<String>, allow_24: bool) -> Result<u32, ConfigError> {
        let v = s.get_ref().trim();
        let bad = || {
            self.err(
                s.span(),
                format!("malformed time {v:?}: expected \"HH:MM\""),
            )
        };
        let (h, m) = v.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: u32 = h.parse().map_err(|_| bad())?;
        let m: u32 = m.parse().map_err(|_| bad())?;
        if (h == 24 && m == 0 && allow_24) || (h < 24 && m < 60) {
            Ok(h * 3600 + m * 60)
        } else {
            Err(bad())
        }
    }

    fn audit(&self, raw: &RawAudit) -> Result<AuditPolicy, ConfigError> {
        let service_accounts = raw
            .service_accounts
            .iter()
            .flatten()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let mut tables: Vec<AuditTable> = Vec::new();
        for (name, table) in &raw.tables {
            let n = name.get_ref().trim().to_string();
            if n.is_empty() {
                return Err(self.err(name.span(), "an audit table needs a name"));
            }
            if tables.iter().any(|t| t.name.eq_ignore_ascii_case(&n)) {
                return Err(self.err(name.span(), format!("audit table {n:?} is named twice")));
            }
            let t = table.get_ref();
            let key = t.subject_key.get_ref().trim().to_lowercase();
            if key.is_empty() {
                return Err(self.err(t.subject_key.span(), "subject_key is empty"));
            }
            let mut columns: Vec<(String, String)> = Vec::new();
            for (col, cat) in &t.columns {
                let (col, cat) = (col.trim().to_lowercase(), norm(cat));
                if col.is_empty() || cat.is_empty() {
                    return Err(self.err(
                        table.span(),
                        format!("audit table {n:?}: a column and its category must not be empty"),
                    ));
                }
                if columns.iter().any(|(c, _)| *c == col) {
                    return Err(self.err(
                        table.span(),
                        format!("audit table {n:?}: column {col:?} is mapped twice"),
                    ));
                }
                columns.push((col, cat));
            }
            tables.push(AuditTable {
                name: n,
                subject_key: key,
                columns,
            });
        }
        Ok(AuditPolicy {
            service_accounts,
            tables,
        })
    }

    fn hours(&self, raw: &Spanned<RawHours>) -> Result<Hours, ConfigError> {
        let r = raw.get_ref();
        let start = self.time(&r.start, false)?;
        let end = self.time(&r.end, true)?;
        if start == end {
            return Err(self.err(r.start.span(), "working hours start and end are equal"));
        }
        let mut days = [false; 7];
        match &r.days {
            None => days = [true; 7],
            Some(list) => {
                for d in list {
                    let i = match norm(d.get_ref()).as_str() {
                        "mon" => 0,
                        "tue" => 1,
                        "wed" => 2,
                        "thu" => 3,
                        "fri" => 4,
                        "sat" => 5,
                        "sun" => 6,
                        _ => {
                            return Err(self.err(
                                d.span(),
                                format!("unknown weekday {:?} (use mon … sun)", d.get_ref()),
                            ));
                        }
                    };
                    days[i] = true;
                }
            }
        }
        Ok(Hours { start, end, days })
    }
}

/// The demo database's policy, shipped in `assets/`.
pub const DEMO_POLICY: &str = include_str!("../assets/demo-policy.toml");

impl Policy {
    pub fn parse(origin: &str, text: &str) -> Result<Policy, ConfigError> {
        let raw: RawPolicy = crate::config::parse_toml(Path::new(origin), text)?;
        let cx = Ctx { origin, text };
        let timezone =
            match &raw.timezone {
                Some(z) => z.get_ref().trim().parse::<chrono_tz::Tz>().map_err(|_| {
                    cx.err(z.span(), format!("unknown time zone {:?}", z.get_ref()))
                })?,
                None => chrono_tz::UTC,
            };
        let working_hours = raw
            .working_hours
            .as_ref()
            .map(|h| cx.hours(h))
            .transpose()?;
        let mut roles = std::collections::HashMap::new();
        // In file order, so that the second of two names is the one reported.
        let mut in_order: Vec<_> = raw.roles.iter().collect();
        in_order.sort_by_key(|(name, _)| name.span().start);
        for (name, role) in in_order {
            let key = norm(name.get_ref());
            if key.is_empty() {
                return Err(cx.err(name.span(), "a role needs a name"));
            }
            let r = role.get_ref();
            let policy = RolePolicy {
                categories: norm_set(r.categories.clone(), &[]),
                purposes: norm_set(r.purposes.clone(), &[]),
                actions: r.actions.clone().map(|a| norm_set(Some(a), &[])),
                requires_relationship: r.requires_relationship.unwrap_or(false),
                working_hours: r.working_hours.as_ref().map(|h| cx.hours(h)).transpose()?,
            };
            if roles.insert(key.clone(), policy).is_some() {
                return Err(cx.err(name.span(), format!("role {key:?} is named twice")));
            }
        }
        let mut severity: [Option<Severity>; Rule::COUNT] =
            std::array::from_fn(|i| Some(Rule::ALL[i].default_severity()));
        for (rule, sev) in &raw.severity {
            let r = Rule::from_name(&norm(rule.get_ref()))
                .ok_or_else(|| cx.err(rule.span(), format!("unknown rule {:?}", rule.get_ref())))?;
            let s = match norm(sev.get_ref()).as_str() {
                "off" => None,
                other => Some(Severity::from_name(other).ok_or_else(|| {
                    cx.err(
                        sev.span(),
                        format!(
                            "unknown severity {:?} (low, medium, high, critical or off)",
                            sev.get_ref()
                        ),
                    )
                })?),
            };
            severity[r as usize] = s;
        }
        let thresholds = raw.thresholds.unwrap_or_default();
        let audit = match &raw.audit {
            None => AuditPolicy::default(),
            Some(a) => cx.audit(a)?,
        };
        Ok(Policy {
            origin: origin.to_string(),
            sha256: sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(text))
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            timezone,
            marketing_purposes: norm_set(raw.marketing_purposes, &[]),
            export_actions: norm_set(raw.export_actions, &["export"]),
            deletion_exempt_purposes: norm_set(raw.deletion_exempt_purposes, &[]),
            notify_subjects_of_legal_process: raw.notify_subjects_of_legal_process.unwrap_or(false),
            working_hours,
            thresholds,
            roles,
            severity,
            audit,
        })
    }

    pub fn load(path: &Path) -> Result<Policy, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Usage(format!("{}: {e}", path.display())))?;
        Self::parse(&path.display().to_string(), &text)
    }

    pub fn demo() -> Policy {
        Self::parse("built-in demo policy", DEMO_POLICY).expect("the built-in policy parses")
    }

    /// A role's policy; a role the policy does not name gets deny-by-default.
    pub fn role(&self, role: Option<&str>) -> Option<&RolePolicy> {
        role.and_then(|r| self.roles.get(&norm(r)))
    }

    pub fn enabled(&self, r: Rule) -> bool {
        self.severity[r as usize].is_some()
    }

    /// A rule's effective severity: the policy's, else the rule's default.
    pub fn severity_of(&self, r: Rule) -> Severity {
        self.severity[r as usize].unwrap_or(r.default_severity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Policy::parse("p.toml", text).unwrap_err().to_string()
    }

    #[test]
    fn the_demo_policy_parses_with_defaults_filled_in() {
        let p = Policy::demo();
        assert_eq!(p.timezone, chrono_tz::America::New_York);
        assert!(p.roles["support"].requires_relationship);
        assert_eq!(p.roles["marketing"].actions.as_ref().unwrap().len(), 3);
        assert_eq!(p.roles["finance"].actions, None);
        assert_eq!(p.thresholds.bulk_export_records, 500);
        assert_eq!(p.severity[Rule::OffHours as usize], Some(Severity::Low));
    }

    #[test]
    fn an_empty_policy_is_deny_by_default_in_utc() {
        let p = Policy::parse("p.toml", "").unwrap();
        assert_eq!(p.timezone, chrono_tz::UTC);
        assert!(p.roles.is_empty());
        assert!(p.export_actions.contains("export"));
        assert!(p.working_hours.is_none());
        assert_eq!(p.thresholds, Thresholds::default());
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            err("timezone = \"UTC\"\ncolour = 1\n"),
            "p.toml:2:1: unknown field `colour`, expected one of `timezone`, `marketing_purposes`, `export_actions`, `deletion_exempt_purposes`, `notify_subjects_of_legal_process`, `working_hours`, `thresholds`, `roles`, `severity`, `audit`"
        );
        assert_eq!(
            err("[working_hours]\nstart = \"7:00\"\nend = \"20:00\"\n"),
            "p.toml:2:9: malformed time \"7:00\": expected \"HH:MM\""
        );
        assert_eq!(
            err("[working_hours]\nstart = \"07:00\"\nend = \"07:00\"\n"),
            "p.toml:2:9: working hours start and end are equal"
        );
        assert_eq!(
            err("[working_hours]\nstart = \"07:00\"\nend = \"20:00\"\ndays = [\"mon\", \"fry\"]\n"),
            "p.toml:4:16: unknown weekday \"fry\" (use mon … sun)"
        );
        assert_eq!(
            err("[severity]\noff_hours = \"loud\"\n"),
            "p.toml:2:13: unknown severity \"loud\" (low, medium, high, critical or off)"
        );
        assert_eq!(
            err("[severity]\nlate_night = \"low\"\n"),
            "p.toml:2:1: unknown rule \"late_night\""
        );
        assert_eq!(
            err("timezone = \"Mars/Olympus\"\n"),
            "p.toml:1:12: unknown time zone \"Mars/Olympus\""
        );
        // The second name is reported, at its own line and column.
        assert_eq!(
            err("[roles.support]\n[roles.\" Support\"]\n"),
            "p.toml:2:8: role \"support\" is named twice"
        );
        assert_eq!(
            err("[roles.\"B \"]\n[roles.a]\n[roles.b]\n"),
            "p.toml:3:8: role \"b\" is named twice"
        );
        assert!(
            err("[roles.support]\ncategory = []\n")
                .starts_with("p.toml:2:1: unknown field `category`")
        );
        assert!(
            err("[thresholds]\nbulk_daily_subject = 3\n").starts_with("p.toml:2:1: unknown field")
        );
    }

    #[test]
    fn end_may_be_24_00_and_a_range_may_wrap() {
        let p = Policy::parse(
            "p.toml",
            "[working_hours]\nstart = \"22:00\"\nend = \"06:00\"\n",
        )
        .unwrap();
        let h = p.working_hours.unwrap();
        assert!(h.contains(0, 23 * 3600));
        assert!(h.contains(0, 5 * 3600 + 3599));
        assert!(!h.contains(0, 6 * 3600));
        let p = Policy::parse(
            "p.toml",
            "[working_hours]\nstart = \"08:00\"\nend = \"24:00\"\ndays = [\"sat\"]\n",
        )
        .unwrap();
        let h = p.working_hours.unwrap();
        assert!(h.contains(5, 86_399));
        assert!(!h.contains(4, 12 * 3600));
        assert!(!h.contains(5, 8 * 3600 - 1));
    }

    #[test]
    fn severity_off_disables_a_rule() {
        let p = Policy::parse(
            "p.toml",
            "[severity]\nvip_access = \"off\"\nno_purpose = \"CRITICAL\"\n",
        )
        .unwrap();
        assert!(!p.enabled(Rule::VipAccess));
        assert_eq!(
            p.severity[Rule::NoPurpose as usize],
            Some(Severity::Critical)
        );
    }

    #[test]
    fn the_audit_table_maps_tables_columns_and_service_accounts() {
        let p = Policy::parse(
            "p.toml",
            "[audit]\nservice_accounts = [\" app_svc \"]\n[audit.tables.\"crm.Customers\"]\nsubject_key = \" Customer_ID \"\ncolumns = { Email = \" Contact \" }\n",
        )
        .unwrap();
        assert!(p.audit.service_accounts.contains("app_svc"));
        let t = p.audit.table("CRM.customers", false).unwrap();
        assert_eq!(t.subject_key, "customer_id");
        assert_eq!(
            t.columns,
            vec![("email".to_string(), "contact".to_string())]
        );
        // MariaDB's database.table matches a bare policy table; PostgreSQL's
        // schema.table only as written.
        let p =
            Policy::parse("p.toml", "[audit.tables.customers]\nsubject_key = \"id\"\n").unwrap();
        assert!(p.audit.table("shop.customers", true).is_some());
        assert!(p.audit.table("shop.customers", false).is_none());
        assert!(p.audit.table("shop.orders", true).is_none());
        assert_eq!(
            err("[audit.tables.t]\nsubject_key = \" \"\n"),
            "p.toml:2:15: subject_key is empty"
        );
        assert!(
            err("[audit.tables.t]\nsubject_key = \"id\"\n[audit.tables.T]\nsubject_key = \"id\"\n")
                .contains("is named twice")
        );
    }

    #[test]
    fn role_names_compare_trimmed_and_lower_cased() {
        let p = Policy::parse(
            "p.toml",
            "[roles.\" Support \"]\ncategories = [\" Contact \"]\n",
        )
        .unwrap();
        let r = p.role(Some("SUPPORT")).unwrap();
        assert!(r.categories.contains("contact"));
        assert!(p.role(Some("marketing")).is_none());
    }
}
