//! The vocabulary every layer shares: the rules of CONTRACT section 5 with
//! their kinds and default severities, the severities, the disclosure kinds
//! of section 3, and how values are normalised before they are compared.
//! Plain data: no I/O, and no import from any other keyhole module, so that
//! `policy`, `rules`, `source` and `report` can all stand on it.

/// Declares [`Rule`] from one table, so a rule's name, kind, default
/// severity and position cannot drift apart when a rule is added.
macro_rules! rules {
    ($($variant:ident = $name:literal, $kind:ident, $severity:ident;)*) => {
        /// A rule of CONTRACT section 5, in the section's order (the order
        /// flags sort by).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule {
            $($variant,)*
        }

        impl Rule {
            pub const ALL: [Rule; Rule::COUNT] = [$(Rule::$variant,)*];

            /// The rule's name in the contract (`no_relationship`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Rule::$variant => $name,)*
                }
            }

            /// The severity a rule has when the policy does not set one.
            pub fn default_severity(self) -> Severity {
                match self {
                    $(Rule::$variant => Severity::$severity,)*
                }
            }

            /// What a flag of this rule is about: one event, a staff day, a
            /// disclosure or a subject request.
            pub fn kind(self) -> RuleKind {
                match self {
                    $(Rule::$variant => RuleKind::$kind,)*
                }
            }
        }
    };
}

rules! {
    NoPurpose = "no_purpose", Event, Medium;
    PurposeNotPermitted = "purpose_not_permitted", Event, Medium;
    CategoryNotPermitted = "category_not_permitted", Event, High;
    ActionNotPermitted = "action_not_permitted", Event, High;
    NoRelationship = "no_relationship", Event, High;
    AfterTermination = "after_termination", Event, Critical;
    SelfAccess = "self_access", Event, High;
    CoworkerAccess = "coworker_access", Event, High;
    FamilyAccess = "family_access", Event, High;
    VipAccess = "vip_access", Event, High;
    OffHours = "off_hours", Event, Low;
    BulkExport = "bulk_export", Event, High;
    OptOutIgnored = "opt_out_ignored", Event, High;
    AccessAfterDeletion = "access_after_deletion", Event, Critical;
    DirectDbAccess = "direct_db_access", Event, High;
    UnknownStaff = "unknown_staff", StaffDay, Critical;
    BulkAccess = "bulk_access", StaffDay, High;
    BulkRecords = "bulk_records", StaffDay, High;
    VolumeSpike = "volume_spike", StaffDay, Medium;
    DisclosureOverdue = "disclosure_overdue", Disclosure, High;
    DisclosureUnapproved = "disclosure_unapproved", Disclosure, High;
    DisclosureOutOfScope = "disclosure_out_of_scope", Disclosure, Critical;
    ShareWithoutAgreement = "share_without_agreement", Disclosure, High;
    NoticeMissing = "notice_missing", Disclosure, High;
    RequestOverdue = "request_overdue", Request, Medium;
}

impl Rule {
    pub const COUNT: usize = 25;

    pub fn from_name(s: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.name() == s)
    }
}

/// What a rule's flag is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    Event,
    StaffDay,
    Disclosure,
    Request,
}

/// A flag's severity, in rising order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn from_name(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.name() == s)
    }
}

/// The kinds of legal process among them: compelled or requested by an
/// authority, as opposed to shares and transfers.
pub const LEGAL_KINDS: [&str; 6] = [
    "subpoena",
    "court_order",
    "search_warrant",
    "emergency_request",
    "preservation_request",
    "national_security",
];

/// The disclosure kinds of CONTRACT section 3; any other reads as `other`.
pub const DISCLOSURE_KINDS: &[&str] = &[
    "subpoena",
    "court_order",
    "search_warrant",
    "emergency_request",
    "preservation_request",
    "national_security",
    "partner_share",
    "acquisition_transfer",
    "other",
];

/// How the contract compares values: trimmed and lower-cased.
pub fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

/// `norm` without an allocation when the value is already trimmed and lower-case.
pub fn norm_cow(s: &str) -> std::borrow::Cow<'_, str> {
    let t = s.trim();
    if t.chars().any(char::is_uppercase) {
        std::borrow::Cow::Owned(t.to_lowercase())
    } else {
        std::borrow::Cow::Borrowed(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_keep_the_contract_order_and_kinds() {
        let names: Vec<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
        assert_eq!(names[0], "no_purpose");
        assert_eq!(names[Rule::COUNT - 1], "request_overdue");
        for (i, r) in Rule::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i, "{} is out of place", r.name());
            assert_eq!(Rule::from_name(r.name()), Some(*r));
        }
        // Each kind is one contiguous run, in section 5's order.
        let kinds: Vec<RuleKind> = Rule::ALL.iter().map(|r| r.kind()).collect();
        let mut runs = kinds.clone();
        runs.dedup();
        assert_eq!(
            runs,
            [
                RuleKind::Event,
                RuleKind::StaffDay,
                RuleKind::Disclosure,
                RuleKind::Request
            ]
        );
    }

    #[test]
    fn legal_process_kinds_are_disclosure_kinds() {
        assert!(LEGAL_KINDS.iter().all(|k| DISCLOSURE_KINDS.contains(k)));
    }

    #[test]
    fn norm_trims_and_lowers_without_copying_when_it_can() {
        assert_eq!(norm("  Billing "), "billing");
        assert!(matches!(norm_cow("billing"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(norm_cow(" Billing"), "billing");
    }
}
