//! The query files that map a production schema onto keyhole's model: the
//! built-in sets (compiled in, one per dialect) or a user's folder.

use std::path::{Path, PathBuf};

use crate::source::Dialect;

message_error!(
    /// A query folder keyhole cannot use: missing, unreadable, or refused by the guard.
    QueryDirError
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryFile {
    Staff,
    Subjects,
    AccessEvents,
    Relationships,
    Disclosures,
    DisclosureItems,
    SubjectRequests,
}

impl QueryFile {
    pub const ALL: [QueryFile; 7] = [
        QueryFile::Staff,
        QueryFile::Subjects,
        QueryFile::AccessEvents,
        QueryFile::Relationships,
        QueryFile::Disclosures,
        QueryFile::DisclosureItems,
        QueryFile::SubjectRequests,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            QueryFile::Staff => "staff.sql",
            QueryFile::Subjects => "subjects.sql",
            QueryFile::AccessEvents => "access_events.sql",
            QueryFile::Relationships => "relationships.sql",
            QueryFile::Disclosures => "disclosures.sql",
            QueryFile::DisclosureItems => "disclosure_items.sql",
            QueryFile::SubjectRequests => "subject_requests.sql",
        }
    }

    pub fn required(self) -> bool {
        matches!(
            self,
            QueryFile::Staff | QueryFile::Subjects | QueryFile::AccessEvents
        )
    }

    pub fn windowed(self) -> bool {
        self == QueryFile::AccessEvents
    }

    /// What turns off when an optional file is absent.
    pub fn feature(self) -> &'static str {
        match self {
            QueryFile::Relationships => {
                "relationships (no_relationship is not evaluated; every access counts as unexplained)"
            }
            QueryFile::Disclosures => "the disclosure register and its rules",
            QueryFile::DisclosureItems => "disclosure items (scope and notice checks)",
            QueryFile::SubjectRequests => "subject requests (opt-out, deletion and request rules)",
            _ => "",
        }
    }

    /// The columns, `true` where required.
    pub fn columns(self) -> &'static [(&'static str, bool)] {
        match self {
            QueryFile::Staff => &[
                ("staff_id", true),
                ("display_name", true),
                ("role", true),
                ("department", false),
                ("email", false),
                ("family_name", false),
                ("postal_address", false),
                ("db_user", false),
                ("hired_at", false),
                ("terminated_at", false),
            ],
            QueryFile::Subjects => &[
                ("subject_id", true),
                ("display_name", true),
                ("email", false),
                ("phone", false),
                ("postal_address", false),
                ("family_name", false),
                ("jurisdiction", false),
                ("is_vip", false),
                ("staff_id", false),
            ],
            QueryFile::AccessEvents => &[
                ("event_id", true),
                ("occurred_at", true),
                ("staff_id", true),
                ("subject_id", false),
                ("action", true),
                ("data_category", true),
                ("purpose", false),
                ("reference", false),
                ("client_ip", false),
                ("record_count", false),
            ],
            QueryFile::Relationships => &[
                ("staff_id", true),
                ("subject_id", true),
                ("kind", true),
                ("reference", false),
                ("valid_from", true),
                ("valid_to", false),
            ],
            QueryFile::Disclosures => &[
                ("disclosure_id", true),
                ("kind", true),
                ("requester", true),
                ("authority_ref", false),
                ("received_at", true),
                ("due_at", false),
                ("responded_at", false),
                ("status", true),
                ("approved_by", false),
                ("nondisclosure_until", false),
                ("subjects_notified_at", false),
                ("requested_categories", false),
                ("agreement_ref", false),
            ],
            QueryFile::DisclosureItems => &[
                ("disclosure_id", true),
                ("subject_id", true),
                ("data_category", true),
                ("disclosed_at", false),
            ],
            QueryFile::SubjectRequests => &[
                ("request_id", true),
                ("subject_id", true),
                ("kind", true),
                ("channel", false),
                ("received_at", true),
                ("completed_at", false),
                ("status", false),
            ],
        }
    }
}

/// One query file's text and where it came from (for messages).
#[derive(Debug, Clone)]
pub struct QueryText {
    pub label: String,
    pub sql: String,
}

#[derive(Debug, Clone)]
pub struct QuerySet {
    pub origin: String,
    files: Vec<(QueryFile, Option<QueryText>)>,
}

macro_rules! builtin {
    ($d:literal) => {
        [
            include_str!(concat!("../../queries/", $d, "/staff.sql")),
            include_str!(concat!("../../queries/", $d, "/subjects.sql")),
            include_str!(concat!("../../queries/", $d, "/access_events.sql")),
            include_str!(concat!("../../queries/", $d, "/relationships.sql")),
            include_str!(concat!("../../queries/", $d, "/disclosures.sql")),
            include_str!(concat!("../../queries/", $d, "/disclosure_items.sql")),
            include_str!(concat!("../../queries/", $d, "/subject_requests.sql")),
        ]
    };
}

impl QuerySet {
    /// The compiled-in files for a dialect (they map the demo schema).
    pub fn builtin(dialect: Dialect) -> QuerySet {
        let texts: [&str; 7] = match dialect {
            Dialect::Postgres => builtin!("postgres"),
            Dialect::Mysql => builtin!("mysql"),
            Dialect::Sqlite => builtin!("sqlite"),
        };
        let files = QueryFile::ALL
            .iter()
            .zip(texts)
            .map(|(f, sql)| {
                let label = format!("queries/{}/{} (built-in)", dialect.name(), f.file_name());
                (
                    *f,
                    Some(QueryText {
                        label,
                        sql: sql.to_string(),
                    }),
                )
            })
            .collect();
        QuerySet {
            origin: format!("built-in queries/{}", dialect.name()),
            files,
        }
    }

    /// Reads a folder. A missing required file is an error; a missing
    /// optional one turns its feature off.
    pub fn from_dir(dir: &Path) -> Result<QuerySet, QueryDirError> {
        if !dir.is_dir() {
            return Err(format!("--queries {}: not a folder", dir.display()).into());
        }
        let mut files = Vec::new();
        for f in QueryFile::ALL {
            let path: PathBuf = dir.join(f.file_name());
            match std::fs::read_to_string(&path) {
                Ok(sql) => files.push((
                    f,
                    Some(QueryText {
                        label: path.display().to_string(),
                        sql,
                    }),
                )),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if f.required() {
                        return Err(
                            format!("{}: required query file is missing", path.display()).into(),
                        );
                    }
                    files.push((f, None));
                }
                Err(e) => return Err(format!("{}: {e}", path.display()).into()),
            }
        }
        Ok(QuerySet {
            origin: dir.display().to_string(),
            files,
        })
    }

    /// Each present file's name and text, in the contract's order.
    pub fn texts(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.files
            .iter()
            .filter_map(|(f, t)| t.as_ref().map(|t| (f.file_name(), t.sql.as_str())))
    }

    /// The same set with one file replaced (or added), as `label`.
    pub fn with(&self, f: QueryFile, label: &str, sql: &str) -> QuerySet {
        let mut out = self.clone();
        for (k, t) in &mut out.files {
            if *k == f {
                *t = Some(QueryText {
                    label: label.to_string(),
                    sql: sql.to_string(),
                });
            }
        }
        out
    }

    pub fn get(&self, f: QueryFile) -> Option<&QueryText> {
        self.files
            .iter()
            .find(|(k, _)| *k == f)
            .and_then(|(_, t)| t.as_ref())
    }
}
