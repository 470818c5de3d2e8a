//! keyhole's model of a production schema: staff, subjects, access events,
//! relationships, disclosures and subject requests. Plain data, filled by the
//! source layer from the query files and read by the rules; no I/O here.

use chrono::{DateTime, Utc};
use std::cmp::Ordering;
use std::fmt;

pub type Instant = DateTime<Utc>;

/// An identifier as text (CONTRACT section 3), ordered integers first by
/// value, then every other id by its UTF-8 bytes. Up to 24 bytes are kept
/// inline (every integer id and most others), so millions of events and
/// relationships cost no allocation per id.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Id(compact_str::CompactString);

impl Id {
    pub fn new(s: impl Into<compact_str::CompactString>) -> Self {
        Id(s.into())
    }
    /// An integer id, formatted without an allocation.
    pub fn from_int(i: i64) -> Self {
        Id(compact_str::ToCompactString::to_compact_string(&i))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    fn integer(&self) -> Option<(bool, &str)> {
        let s = &*self.0;
        let (neg, digits) = match s.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, s),
        };
        let ok = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        if ok && !(neg && digits == "0") {
            Some((neg, digits))
        } else if ok {
            Some((false, "0"))
        } else {
            None
        }
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn cmp_integers(a: (bool, &str), b: (bool, &str)) -> Ordering {
    let mag = |d: &str, e: &str| d.len().cmp(&e.len()).then_with(|| d.cmp(e));
    match (a.0, b.0) {
        (false, false) => mag(a.1, b.1),
        (true, true) => mag(b.1, a.1),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
    }
}

impl Ord for Id {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.integer(), other.integer()) {
            (Some(a), Some(b)) => cmp_integers(a, b).then_with(|| self.0.cmp(&other.0)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => self.0.as_bytes().cmp(other.0.as_bytes()),
        }
    }
}

impl PartialOrd for Id {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A small interned string: staff ids, actions, categories, purposes and
/// other values that repeat across millions of access events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(pub u32);

/// Interned strings, each stored once in one growing buffer: a new string
/// costs no allocation of its own, and a symbol is its number.
#[derive(Default, Debug, Clone)]
pub struct Interner {
    table: hashbrown::HashTable<u32>,
    buf: String,
    /// Where each string ends in `buf`; it starts where the one before ends.
    ends: Vec<u32>,
}

/// The strings an interner added after a point, to mirror it elsewhere.
#[derive(Debug, Default)]
pub struct Added {
    buf: String,
    lens: Vec<u32>,
}

fn str_hash(s: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(s)
}

impl Interner {
    fn at<'b>(buf: &'b str, ends: &[u32], i: u32) -> &'b str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { ends[i - 1] as usize };
        &buf[start..ends[i] as usize]
    }

    pub fn intern(&mut self, s: &str) -> Sym {
        let hash = str_hash(s);
        let Interner { table, buf, ends } = self;
        if let Some(&i) = table.find(hash, |&i| Self::at(buf, ends, i) == s) {
            return Sym(i);
        }
        let i = ends.len() as u32;
        buf.push_str(s);
        let end = u32::try_from(buf.len()).expect("interned text stays under 4 GiB");
        ends.push(end);
        table.insert_unique(hash, i, |&j| str_hash(Self::at(buf, ends, j)));
        Sym(i)
    }
    pub fn get(&self, s: &str) -> Option<Sym> {
        self.table
            .find(str_hash(s), |&i| self.resolve(Sym(i)) == s)
            .map(|&i| Sym(i))
    }
    pub fn resolve(&self, sym: Sym) -> &str {
        Self::at(&self.buf, &self.ends, sym.0)
    }
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    /// The strings interned since the first `n`, to mirror this interner elsewhere.
    pub fn added_since(&self, n: usize) -> Added {
        let n = n.min(self.ends.len());
        let start = if n == 0 { 0 } else { self.ends[n - 1] as usize };
        let mut prev = start as u32;
        let lens = self.ends[n..]
            .iter()
            .map(|&e| {
                let l = e - prev;
                prev = e;
                l
            })
            .collect();
        Added {
            buf: self.buf[start..].to_string(),
            lens,
        }
    }
    /// Appends strings another interner added, keeping the same numbering.
    pub fn extend_mirror(&mut self, added: Added) {
        let mut at = 0usize;
        for l in added.lens {
            let end = at + l as usize;
            self.intern(&added.buf[at..end]);
            at = end;
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Staff {
    pub staff_id: Id,
    pub display_name: String,
    pub role: Option<String>,
    pub department: Option<String>,
    pub email: Option<String>,
    pub family_name: Option<String>,
    pub postal_address: Option<String>,
    pub db_user: Option<String>,
    pub hired_at: Option<Instant>,
    pub terminated_at: Option<Instant>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    pub subject_id: Id,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub postal_address: Option<String>,
    pub family_name: Option<String>,
    pub jurisdiction: Option<String>,
    pub is_vip: bool,
    pub staff_id: Option<Id>,
}

/// One access to personal data. Repeating values are interned in the
/// [`EventLog`]'s interner to keep a million events compact.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessEvent {
    pub event_id: Id,
    pub occurred_at: Instant,
    pub staff: Sym,
    pub subject: Option<Sym>,
    pub action: Option<Sym>,
    pub data_category: Option<Sym>,
    pub purpose: Option<Sym>,
    pub reference: Option<Sym>,
    pub client_ip: Option<Sym>,
    pub record_count: i64,
}

/// Access events with the interner their symbols point into.
#[derive(Debug, Default, Clone)]
pub struct EventLog {
    pub symbols: Interner,
    pub events: Vec<AccessEvent>,
}

impl EventLog {
    pub fn text(&self, sym: Option<Sym>) -> Option<&str> {
        sym.map(|s| self.symbols.resolve(s))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    pub staff_id: Id,
    pub subject_id: Id,
    pub kind: String,
    pub reference: Option<String>,
    pub valid_from: Instant,
    pub valid_to: Option<Instant>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Disclosure {
    pub disclosure_id: Id,
    pub kind: String,
    pub requester: String,
    pub authority_ref: Option<String>,
    pub received_at: Instant,
    pub due_at: Option<Instant>,
    pub responded_at: Option<Instant>,
    pub status: String,
    pub approved_by: Option<String>,
    pub nondisclosure_until: Option<Instant>,
    pub subjects_notified_at: Option<Instant>,
    pub requested_categories: Vec<String>,
    pub agreement_ref: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DisclosureItem {
    pub disclosure_id: Id,
    pub subject_id: Id,
    pub data_category: Option<String>,
    pub disclosed_at: Option<Instant>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SubjectRequest {
    pub request_id: Id,
    pub subject_id: Id,
    pub kind: String,
    pub channel: Option<String>,
    pub received_at: Instant,
    pub completed_at: Option<Instant>,
    pub status: Option<String>,
}

/// Every non-windowed file, loaded.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub staff: Vec<Staff>,
    pub subjects: Vec<Subject>,
    pub relationships: Option<Vec<Relationship>>,
    pub disclosures: Option<Vec<Disclosure>>,
    pub disclosure_items: Option<Vec<DisclosureItem>>,
    pub requests: Option<Vec<SubjectRequest>>,
}

/// Splits `requested_categories`: commas, each part trimmed and lower-cased,
/// empty parts dropped.
pub fn split_categories(s: &str) -> Vec<String> {
    s.split(',')
        .map(|p| p.trim().to_lowercase())
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(ids: &[&str]) -> Vec<String> {
        let mut v: Vec<Id> = ids.iter().map(|s| Id::new(*s)).collect();
        v.sort();
        v.into_iter().map(|i| i.to_string()).collect()
    }

    #[test]
    fn integer_ids_sort_by_value_before_text_ids() {
        assert_eq!(
            sorted(&[
                "b",
                "10",
                "9",
                "-3",
                "007",
                "A",
                "100000000000000000000",
                "1.5"
            ]),
            vec![
                "-3",
                "9",
                "10",
                "100000000000000000000",
                "007",
                "1.5",
                "A",
                "b"
            ]
        );
    }

    #[test]
    fn leading_zero_ids_are_text_and_keep_their_form() {
        assert_eq!(sorted(&["07", "7"]), vec!["7", "07"]);
    }

    #[test]
    fn requested_categories_split_trim_lowercase_and_drop_empty() {
        assert_eq!(
            split_categories(" Contact, ,PAYMENT ,,"),
            vec!["contact", "payment"]
        );
    }

    #[test]
    fn interner_returns_the_same_symbol_for_the_same_text() {
        let mut i = Interner::default();
        let a = i.intern("view");
        let b = i.intern("export");
        assert_eq!(i.intern("view"), a);
        assert_ne!(a, b);
        assert_eq!(i.resolve(b), "export");
        assert_eq!(i.get("export"), Some(b));
        assert_eq!(i.get("print"), None);
    }

    #[test]
    fn a_mirror_numbers_added_strings_the_same_way() {
        let mut a = Interner::default();
        a.intern("view");
        let mut m = Interner::default();
        m.extend_mirror(a.added_since(0));
        let n = a.len();
        for s in ["export", "", "view", "T-1", "é"] {
            a.intern(s);
        }
        m.extend_mirror(a.added_since(n));
        assert_eq!(m.len(), a.len());
        for i in 0..a.len() as u32 {
            assert_eq!(m.resolve(Sym(i)), a.resolve(Sym(i)));
        }
        assert_eq!(m.get(""), a.get(""));
    }
}
