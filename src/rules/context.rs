//! Lookups the rules need, built once from the directory and the policy:
//! staff and subjects by id with normalised addresses and family names,
//! relationships by (staff, subject), and the requests that count as of
//! `as_of`. Also the per-event rules themselves.

use rustc_hash::FxHashMap as HashMap;

use chrono::{Datelike, Duration, Timelike};

use super::{EventView, Rule, Severity, Verdict, days_between, list, local_clock, rel_text};
use crate::model::{Directory, IdIndex, IdKey};
use crate::model::{Instant, RelRef, Relationships, Staff, Subject, SubjectRequest};
use crate::policy::{Hours, Policy, RolePolicy, norm, norm_cow};
use crate::time::rfc3339;

pub struct StaffFacts<'a> {
    pub staff: &'a Staff,
    pub role_name: String,
    pub role: Option<&'a RolePolicy>,
    pub postal: Option<String>,
    pub family: Option<String>,
}

/// A request as it stood at `as_of`.
#[derive(Debug, Clone)]
pub struct RequestAsOf<'a> {
    pub request: &'a SubjectRequest,
    pub kind: String,
    pub completed_at: Option<Instant>,
}

pub struct Context<'a> {
    pub policy: &'a Policy,
    pub dir: &'a Directory,
    pub as_of: Instant,
    pub staff: HashMap<IdKey<'a>, StaffFacts<'a>>,
    /// Subjects by id, as positions in the directory's list.
    subjects: IdIndex<&'a str>,
    rels: Option<&'a Relationships>,
    /// Counting requests (not denied or withdrawn, received by `as_of`) by subject.
    pub requests: HashMap<IdKey<'a>, Vec<RequestAsOf<'a>>>,
    /// Subjects per normalised family name, for the family names staff hold.
    family_counts: HashMap<String, u64>,
}

/// A postal address compared on its letters and digits alone, lower-cased;
/// none when it has no letter or digit.
pub fn postal_key(s: &str) -> Option<String> {
    let k: String = s
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    if k.is_empty() { None } else { Some(k) }
}

fn family_key(s: &Option<String>) -> Option<String> {
    s.as_deref().map(norm).filter(|x| !x.is_empty())
}

/// Does `addr`, by letters and digits lower-cased, equal `key` (a
/// [`postal_key`])? Compared without building the address's own key.
fn postal_matches(key: &str, addr: &str) -> bool {
    addr.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .eq(key.chars())
}

/// Does `name`, trimmed and lower-cased, equal `key` (a family key)?
fn family_matches(key: &str, name: &str) -> bool {
    norm_cow(name) == key
}

/// Does this request count? Not when denied or withdrawn.
pub fn request_counts(r: &SubjectRequest) -> bool {
    !matches!(
        r.status.as_deref().map(norm).as_deref(),
        Some("denied") | Some("withdrawn")
    )
}

impl<'a> Context<'a> {
    pub fn new(policy: &'a Policy, dir: &'a Directory, as_of: Instant) -> Self {
        let staff: HashMap<IdKey, StaffFacts> = dir
            .staff
            .iter()
            .map(|s| {
                let role_name = s.role.as_deref().map(norm).unwrap_or_default();
                (
                    IdKey::of(s.staff_id.as_str()),
                    StaffFacts {
                        staff: s,
                        role: policy.roles.get(&role_name),
                        role_name,
                        postal: s.postal_address.as_deref().and_then(postal_key),
                        family: family_key(&s.family_name),
                    },
                )
            })
            .collect();
        // Only the family names some staff member holds can ever be compared.
        let mut family_counts: HashMap<String, u64> = staff
            .values()
            .filter_map(|f: &StaffFacts| f.family.clone())
            .map(|f| (f, 0))
            .collect();
        if !family_counts.is_empty() {
            for s in &dir.subjects {
                if let Some(name) = s.family_name()
                    && let Some(n) = family_counts.get_mut(norm_cow(name).as_ref())
                {
                    *n += 1;
                }
            }
        }
        let subjects = IdIndex::positions(dir.subjects.iter().map(|s| s.subject_id.as_str()));
        let rels = dir.relationships.as_ref();
        let mut requests: HashMap<IdKey, Vec<RequestAsOf>> = HashMap::default();
        for r in dir.requests.iter().flatten() {
            if r.received_at > as_of || !request_counts(r) {
                continue;
            }
            requests
                .entry(IdKey::of(r.subject_id.as_str()))
                .or_default()
                .push(RequestAsOf {
                    request: r,
                    kind: norm(&r.kind),
                    completed_at: r.completed_at.filter(|c| *c <= as_of),
                });
        }
        Context {
            policy,
            dir,
            as_of,
            staff,
            subjects,
            rels,
            requests,
            family_counts,
        }
    }

    /// The subject with this id, if `subjects.sql` returned it.
    pub fn subject(&self, id: &str) -> Option<&'a Subject> {
        self.subjects
            .get(id)
            .map(|i| &self.dir.subjects[i as usize])
    }

    pub fn severity(&self, r: Rule) -> Severity {
        self.policy.severity_of(r)
    }

    fn on(&self, r: Rule) -> bool {
        self.policy.enabled(r)
    }

    pub fn has_relationships(&self) -> bool {
        self.rels.is_some()
    }

    /// The relationship that explains an access, per the contract's tie-break.
    pub fn explaining(&self, staff: &str, subject: &str, t: Instant) -> Option<RelRef<'a>> {
        let th = &self.policy.thresholds;
        let lead = Duration::minutes(th.relationship_lead_minutes);
        let grace = Duration::minutes(th.relationship_grace_minutes);
        self.rels?
            .of(staff, subject)
            .filter(|r| r.valid_from - lead <= t && r.valid_to.is_none_or(|to| t < to + grace))
            .max_by(|a, b| {
                a.valid_from
                    .cmp(&b.valid_from)
                    .then_with(|| match (a.valid_to, b.valid_to) {
                        (None, None) => std::cmp::Ordering::Equal,
                        (None, Some(_)) => std::cmp::Ordering::Greater,
                        (Some(_), None) => std::cmp::Ordering::Less,
                        (Some(x), Some(y)) => x.cmp(&y),
                    })
                    // Smallest kind, then smallest reference (NULL first), win: reverse for max_by.
                    .then_with(|| norm(b.kind).as_bytes().cmp(norm(a.kind).as_bytes()))
                    .then_with(|| match (&a.reference, &b.reference) {
                        (None, None) => std::cmp::Ordering::Equal,
                        (None, Some(_)) => std::cmp::Ordering::Greater,
                        (Some(_), None) => std::cmp::Ordering::Less,
                        (Some(x), Some(y)) => y.as_bytes().cmp(x.as_bytes()),
                    })
            })
    }

    /// For a detail: the nearest relationship of the pair that did not cover `t`.
    fn nearest_relationship(&self, staff: &str, subject: &str, t: Instant) -> String {
        let Some(rels) = self.rels else {
            return "no relationship on record".into();
        };
        let ended = rels
            .of(staff, subject)
            .filter(|r| r.valid_to.is_some_and(|x| x <= t))
            .max_by_key(|r| r.valid_to);
        if let Some(r) = ended {
            return format!(
                "last {} closed {}",
                rel_text(&r).split(" from ").next().unwrap_or(""),
                rfc3339(r.valid_to.expect("ended"))
            );
        }
        let next = rels
            .of(staff, subject)
            .filter(|r| r.valid_from > t)
            .min_by_key(|r| r.valid_from);
        match next {
            Some(r) => format!(
                "next {} opened {}",
                rel_text(&r).split(" from ").next().unwrap_or(""),
                rfc3339(r.valid_from)
            ),
            None => "no relationship on record".into(),
        }
    }

    /// Working hours for a role: its own, else the policy's.
    fn hours_for(&self, role: Option<&'a RolePolicy>) -> Option<&'a Hours> {
        role.and_then(|r| r.working_hours.as_ref())
            .or(self.policy.working_hours.as_ref())
    }

    /// The per-event rules of CONTRACT section 5.
    pub fn judge_event(&self, ev: &EventView) -> Verdict<'a> {
        let p = self.policy;
        let th = &p.thresholds;
        let mut fired: Vec<(Rule, String)> = Vec::new();
        let staff = self.staff.get(&IdKey::of(ev.staff));
        let known = staff.is_some();
        let role = staff.and_then(|s| s.role);
        let role_name: &str = match staff {
            Some(s) if !s.role_name.is_empty() => &s.role_name,
            Some(_) => "(no role)",
            None => "unknown staff",
        };
        // A value that is empty after trimming counts as absent.
        let action = present(ev.action);
        let category = present(ev.category);
        let purpose = present(ev.purpose);
        // Formatted only when a rule fires: most accesses are fine.
        let what = What {
            known,
            role_name,
            staff: ev.staff,
            action: action.as_deref(),
            category: category.as_deref(),
            subject: ev.subject,
        };
        let subject = ev.subject.and_then(|s| self.subject(s));
        let explained = match ev.subject {
            Some(s) => self.explaining(ev.staff, s, ev.occurred_at),
            None => None,
        };
        let empty = RolePolicy::default();
        let rp = role.unwrap_or(&empty);

        // A database log has no purpose: its events skip the purpose rules.
        let logged = ev.db.is_some();
        if self.on(Rule::NoPurpose) && purpose.is_none() && !logged {
            fired.push((Rule::NoPurpose, format!("{what} with no purpose recorded")));
        }
        if known {
            if let Some(pu) = &purpose
                && !logged
                && self.on(Rule::PurposeNotPermitted)
                && !rp.purposes.contains(pu.as_ref())
            {
                fired.push((
                    Rule::PurposeNotPermitted,
                    format!("{what} for purpose {pu:?}, which the {role_name} role does not permit (permitted: {})", list(&rp.purposes)),
                ));
            }
            if self.on(Rule::CategoryNotPermitted)
                && category
                    .as_ref()
                    .is_none_or(|c| !rp.categories.contains(c.as_ref()))
            {
                fired.push((
                    Rule::CategoryNotPermitted,
                    format!(
                        "{what}; the {role_name} role may see {}",
                        list(&rp.categories)
                    ),
                ));
            }
            if let Some(actions) = &rp.actions
                && self.on(Rule::ActionNotPermitted)
                && action
                    .as_ref()
                    .is_none_or(|a| !actions.contains(a.as_ref()))
            {
                fired.push((
                    Rule::ActionNotPermitted,
                    format!("{what}; the {role_name} role may only {}", list(actions)),
                ));
            }
            if rp.requires_relationship
                && self.on(Rule::NoRelationship)
                && self.has_relationships()
                && explained.is_none()
                && let Some(s) = ev.subject
            {
                fired.push((
                    Rule::NoRelationship,
                    format!(
                        "{what} with no relationship in force ({})",
                        self.nearest_relationship(ev.staff, s, ev.occurred_at)
                    ),
                ));
            }
        }
        if let Some(sf) = staff
            && self.on(Rule::AfterTermination)
            && let Some(term) = sf.staff.terminated_at
            && ev.occurred_at >= term
            && !(sf
                .staff
                .hired_at
                .is_some_and(|h| h > term && ev.occurred_at >= h))
        {
            fired.push((
                Rule::AfterTermination,
                format!(
                    "{what} {} after staff {} was terminated at {}",
                    days_between(term, ev.occurred_at),
                    ev.staff,
                    rfc3339(term)
                ),
            ));
        }
        if let (Some(sid), Some(sub)) = (ev.subject, subject) {
            let own = sub
                .staff_id
                .as_ref()
                .is_some_and(|x| x.as_str() == ev.staff);
            let unexplained = explained.is_none();
            if own && self.on(Rule::SelfAccess) {
                fired.push((
                    Rule::SelfAccess,
                    format!("{what}: staff {} looked up their own record", ev.staff),
                ));
            }
            if let Some(other) = &sub.staff_id
                && !own
                && unexplained
                && self.on(Rule::CoworkerAccess)
            {
                fired.push((
                    Rule::CoworkerAccess,
                    format!("{what}, who is staff member {other}, with no relationship in force"),
                ));
            }
            if !own
                && unexplained
                && self.on(Rule::FamilyAccess)
                && let Some(sf) = staff
            {
                let same_address = matches!((&sf.postal, sub.postal_address()), (Some(a), Some(b)) if postal_matches(a, b));
                let same_family = match (&sf.family, sub.family_name()) {
                    (Some(a), Some(b)) if family_matches(a, b) => {
                        let n = self.family_counts.get(a).copied().unwrap_or(0);
                        (n <= th.family_name_max_subjects).then_some(n)
                    }
                    _ => None,
                };
                if same_address {
                    fired.push((
                        Rule::FamilyAccess,
                        format!("{what}, who shares staff {}'s postal address (letters and digits compared), with no relationship in force", ev.staff),
                    ));
                } else if let Some(n) = same_family {
                    fired.push((
                        Rule::FamilyAccess,
                        format!(
                            "{what}, who shares staff {}'s family name (held by {n} subject(s), limit {}), with no relationship in force",
                            ev.staff, th.family_name_max_subjects
                        ),
                    ));
                }
            }
            if sub.is_vip && unexplained && self.on(Rule::VipAccess) {
                fired.push((
                    Rule::VipAccess,
                    format!("{what}, a VIP, with no relationship in force"),
                ));
            }
            let _ = sid;
        }
        if self.on(Rule::OffHours)
            && let Some(h) = self.hours_for(role)
        {
            let l = ev.occurred_at.with_timezone(&p.timezone);
            let secs = l.num_seconds_from_midnight();
            if !h.contains(l.weekday().num_days_from_monday() as usize, secs) {
                fired.push((
                    Rule::OffHours,
                    format!(
                        "{what} at {} ({}), outside working hours {}",
                        local_clock(ev.occurred_at, p.timezone),
                        p.timezone.name(),
                        h.describe()
                    ),
                ));
            }
        }
        if self.on(Rule::BulkExport)
            && action
                .as_ref()
                .is_some_and(|a| p.export_actions.contains(a.as_ref()))
            && ev.record_count > th.bulk_export_records
        {
            fired.push((
                Rule::BulkExport,
                format!(
                    "{what}: an export of {} records, above bulk_export_records {}",
                    ev.record_count, th.bulk_export_records
                ),
            ));
        }
        if let Some(s) = ev.subject
            && let Some(reqs) = self.requests.get(&IdKey::of(s))
        {
            let pu = purpose.as_deref();
            if self.on(Rule::OptOutIgnored)
                && pu.is_some_and(|x| p.marketing_purposes.contains(x))
                && let Some(why) = lapsed(reqs, "opt_out", ev.occurred_at, th.opt_out_grace_days)
            {
                fired.push((
                    Rule::OptOutIgnored,
                    format!(
                        "{what} for marketing purpose {:?} although {why}",
                        pu.unwrap_or("")
                    ),
                ));
            }
            if self.on(Rule::AccessAfterDeletion)
                && !pu.is_some_and(|x| p.deletion_exempt_purposes.contains(x))
                && let Some(why) = lapsed(reqs, "deletion", ev.occurred_at, th.deletion_grace_days)
            {
                fired.push((Rule::AccessAfterDeletion, format!("{what} although {why}")));
            }
        }
        if let Some(d) = ev.db
            && self.on(Rule::DirectDbAccess)
        {
            fired.push((Rule::DirectDbAccess, d.to_string()));
        }
        let role: Option<&'a str> = staff.map(|s| {
            let st: &'a Staff = s.staff;
            st.role.as_deref().map(str::trim).unwrap_or("")
        });
        Verdict {
            fired,
            explained_by: explained,
            role,
        }
    }
}

/// A value trimmed and lower-cased; empty after trimming counts as absent.
fn present(v: Option<&str>) -> Option<std::borrow::Cow<'_, str>> {
    v.map(norm_cow).filter(|x| !x.is_empty())
}

/// "support role viewed contact data of subject 88121", written on demand.
struct What<'x> {
    known: bool,
    role_name: &'x str,
    staff: &'x str,
    action: Option<&'x str>,
    category: Option<&'x str>,
    subject: Option<&'x str>,
}

impl std::fmt::Display for What<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.known {
            write!(f, "{} role ", self.role_name)?;
        } else {
            write!(f, "staff {} ", self.staff)?;
        }
        write!(
            f,
            "{} {} data",
            past(self.action),
            self.category.unwrap_or("(no category)")
        )?;
        match self.subject {
            Some(s) => write!(f, " of subject {s}"),
            None => write!(f, " of many records"),
        }
    }
}

fn past(action: Option<&str>) -> String {
    match action {
        Some("view") => "viewed".into(),
        Some("search") => "searched".into(),
        Some("export") => "exported".into(),
        Some("update") => "updated".into(),
        Some("print") => "printed".into(),
        Some(a) => format!("used {a:?} on"),
        None => "accessed (no action recorded)".into(),
    }
}

/// The first request of `kind` whose completion or grace has passed at `t`.
fn lapsed(reqs: &[RequestAsOf], kind: &str, t: Instant, grace_days: i64) -> Option<String> {
    let grace = Duration::seconds(grace_days * 86_400);
    let mut hits: Vec<&RequestAsOf> = reqs
        .iter()
        .filter(|r| {
            r.kind == kind
                && (r.completed_at.is_some_and(|c| c < t) || t - r.request.received_at > grace)
        })
        .collect();
    hits.sort_by(|a, b| {
        a.request
            .received_at
            .cmp(&b.request.received_at)
            .then_with(|| a.request.request_id.cmp(&b.request.request_id))
    });
    let r = hits.first()?;
    let label = kind.replace('_', "-");
    Some(match r.completed_at.filter(|c| *c < t) {
        Some(c) => format!(
            "{label} request {} received {} was completed {}",
            r.request.request_id,
            rfc3339(r.request.received_at),
            rfc3339(c)
        ),
        None => format!(
            "{label} request {} received {} was past its {grace_days}-day grace on {}",
            r.request.request_id,
            rfc3339(r.request.received_at),
            rfc3339(r.request.received_at + grace)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postal_addresses_compare_on_letters_and_digits() {
        assert_eq!(
            postal_key("12 Harbor Lane, Apt. 3B"),
            postal_key("12 HARBOR LANE APT 3B")
        );
        assert_eq!(postal_key(" ,- "), None);
        let key = postal_key("12 Harbor Lane, Apt. 3B").unwrap();
        assert!(postal_matches(&key, "12 HARBOR LANE APT 3B"));
        assert!(!postal_matches(&key, "12 HARBOR LANE APT 3"));
        assert!(!postal_matches(&key, ""));
        assert_eq!(postal_key("Straße 5").as_deref(), Some("straße5"));
    }
}
