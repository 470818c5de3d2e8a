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

/// An id as a hash key: the integer itself when the id is an integer's
/// canonical text (most production ids), so a lookup compares numbers, not
/// bytes behind a pointer; the text otherwise. Two ids have equal keys
/// exactly when their texts are equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdKey<'a> {
    Int(i64),
    Text(&'a str),
}

impl<'a> IdKey<'a> {
    pub fn of(s: &'a str) -> Self {
        match canonical_int(s) {
            Some(i) => IdKey::Int(i),
            None => IdKey::Text(s),
        }
    }
}

/// Numbers of ids, found by id: integers by value (a map of numbers, 16
/// bytes an entry), other ids by text, borrowed (`&str`) or owned
/// (`Box<str>`). A later duplicate replaces an earlier one.
#[derive(Debug, Clone)]
pub struct IdIndex<K = Box<str>> {
    ints: rustc_hash::FxHashMap<i64, u32>,
    texts: rustc_hash::FxHashMap<K, u32>,
}

impl<K> Default for IdIndex<K> {
    fn default() -> Self {
        IdIndex {
            ints: Default::default(),
            texts: Default::default(),
        }
    }
}

impl<K: std::borrow::Borrow<str> + std::hash::Hash + Eq> IdIndex<K> {
    pub fn insert(&mut self, id: K, n: u32) {
        match IdKey::of(id.borrow()) {
            IdKey::Int(i) => self.ints.insert(i, n),
            IdKey::Text(_) => self.texts.insert(id, n),
        };
    }
    pub fn get(&self, id: &str) -> Option<u32> {
        match IdKey::of(id) {
            IdKey::Int(i) => self.ints.get(&i),
            IdKey::Text(t) => self.texts.get(t),
        }
        .copied()
    }
    /// Each id's position in `ids`; only ids that are not integers are
    /// kept as text (borrowed or owned, as `K` is).
    pub fn positions<'a>(ids: impl ExactSizeIterator<Item = &'a str>) -> Self
    where
        K: From<&'a str>,
    {
        let mut ix = IdIndex::default();
        ix.ints.reserve(ids.len());
        for (i, id) in ids.enumerate() {
            match IdKey::of(id) {
                IdKey::Int(k) => ix.ints.insert(k, i as u32),
                IdKey::Text(t) => ix.texts.insert(K::from(t), i as u32),
            };
        }
        ix.ints.shrink_to_fit();
        ix
    }
}

/// The integer whose canonical decimal text `s` is: no sign but `-`, no
/// leading zero, not `-0`, within i64.
fn canonical_int(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    let canonical = !digits.is_empty()
        && digits.len() <= 19
        && digits.iter().all(u8::is_ascii_digit)
        && (digits == b"0" || digits[0] != b'0')
        && !(digits.len() < b.len() && digits == b"0");
    if !canonical {
        return None;
    }
    s.parse().ok()
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

/// A person whose data the staff see. Its six text fields live in one
/// allocation (a million subjects stay compact); read them through the
/// accessors, set them with the `set_` methods.
#[derive(Clone, PartialEq)]
pub struct Subject {
    pub subject_id: Id,
    pub is_vip: bool,
    pub staff_id: Option<Id>,
    text: Packed<6>,
}

/// The text fields of a [`Subject`], borrowed.
#[derive(Debug, Clone, Copy, Default)]
pub struct SubjectText<'a> {
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub postal_address: Option<&'a str>,
    pub family_name: Option<&'a str>,
    pub jurisdiction: Option<&'a str>,
}

const DISPLAY_NAME: usize = 0;
const EMAIL: usize = 1;
const PHONE: usize = 2;
const POSTAL_ADDRESS: usize = 3;
const FAMILY_NAME: usize = 4;
const JURISDICTION: usize = 5;

impl Subject {
    pub fn new(subject_id: Id, text: SubjectText<'_>, is_vip: bool, staff_id: Option<Id>) -> Self {
        Subject {
            subject_id,
            is_vip,
            staff_id,
            text: Packed::new([
                Some(text.display_name),
                text.email,
                text.phone,
                text.postal_address,
                text.family_name,
                text.jurisdiction,
            ]),
        }
    }
    pub fn text(&self) -> SubjectText<'_> {
        SubjectText {
            display_name: self.display_name(),
            email: self.email(),
            phone: self.phone(),
            postal_address: self.postal_address(),
            family_name: self.family_name(),
            jurisdiction: self.jurisdiction(),
        }
    }
    pub fn display_name(&self) -> &str {
        self.text.get(DISPLAY_NAME).unwrap_or("")
    }
    pub fn email(&self) -> Option<&str> {
        self.text.get(EMAIL)
    }
    pub fn phone(&self) -> Option<&str> {
        self.text.get(PHONE)
    }
    pub fn postal_address(&self) -> Option<&str> {
        self.text.get(POSTAL_ADDRESS)
    }
    pub fn family_name(&self) -> Option<&str> {
        self.text.get(FAMILY_NAME)
    }
    pub fn jurisdiction(&self) -> Option<&str> {
        self.text.get(JURISDICTION)
    }
    pub fn set_display_name(&mut self, v: &str) {
        self.text.set(DISPLAY_NAME, Some(v));
    }
    pub fn set_email(&mut self, v: Option<&str>) {
        self.text.set(EMAIL, v);
    }
    pub fn set_postal_address(&mut self, v: Option<&str>) {
        self.text.set(POSTAL_ADDRESS, v);
    }
    pub fn set_family_name(&mut self, v: Option<&str>) {
        self.text.set(FAMILY_NAME, v);
    }
    pub fn set_jurisdiction(&mut self, v: Option<&str>) {
        self.text.set(JURISDICTION, v);
    }
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subject")
            .field("subject_id", &self.subject_id)
            .field("text", &self.text())
            .field("is_vip", &self.is_vip)
            .field("staff_id", &self.staff_id)
            .finish()
    }
}

/// `N` optional strings in one allocation: the lengths of the present ones
/// (LEB128), then their bytes one after another; a bit per field says
/// which are present.
#[derive(Clone, PartialEq)]
struct Packed<const N: usize> {
    buf: Box<[u8]>,
    present: u16,
}

fn push_len(buf: &mut Vec<u8>, mut n: usize) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            buf.push(b);
            return;
        }
        buf.push(b | 0x80);
    }
}

impl<const N: usize> Packed<N> {
    fn new(fields: [Option<&str>; N]) -> Self {
        let text: usize = fields.iter().flatten().map(|s| s.len()).sum();
        let mut buf = Vec::with_capacity(text + N);
        let mut present = 0u16;
        for (i, f) in fields.iter().enumerate() {
            if let Some(s) = f {
                push_len(&mut buf, s.len());
                present |= 1 << i;
            }
        }
        for s in fields.iter().flatten() {
            buf.extend_from_slice(s.as_bytes());
        }
        Packed {
            buf: buf.into_boxed_slice(),
            present,
        }
    }
    fn get(&self, i: usize) -> Option<&str> {
        if self.present & (1 << i) == 0 {
            return None;
        }
        // Read the lengths: the text starts after the last of them.
        let (mut at, mut start, mut len) = (0usize, 0usize, 0usize);
        for k in 0..N {
            if self.present & (1 << k) == 0 {
                continue;
            }
            let mut n = 0usize;
            let mut shift = 0;
            loop {
                let b = self.buf[at];
                at += 1;
                n |= usize::from(b & 0x7f) << shift;
                shift += 7;
                if b & 0x80 == 0 {
                    break;
                }
            }
            if k < i {
                start += n;
            } else if k == i {
                len = n;
            }
        }
        let bytes = &self.buf[at + start..at + start + len];
        Some(std::str::from_utf8(bytes).expect("packed from str"))
    }
    fn set(&mut self, i: usize, v: Option<&str>) {
        let mut fields: [Option<&str>; N] = [None; N];
        for (k, f) in fields.iter_mut().enumerate() {
            *f = if k == i { v } else { self.get(k) };
        }
        *self = Packed::new(fields);
    }
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
    /// Set when the event comes from a database audit log (CONTRACT
    /// section 8): what `direct_db_access` says of it (the log file and
    /// line, the login, the table, the statement's kind).
    pub db: Option<Sym>,
}

/// Text that many database-log accesses share (logins, tables, subjects,
/// categories, addresses), each kept once and named by a number.
#[derive(Debug, Clone, Default)]
pub struct DbStrings {
    list: Vec<Box<str>>,
    index: rustc_hash::FxHashMap<Box<str>, u32>,
}

impl DbStrings {
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(s.into());
        self.index.insert(s.into(), i);
        i
    }
    pub fn get(&self, i: u32) -> &str {
        &self.list[i as usize]
    }
    fn opt(&self, i: u32) -> Option<&str> {
        (i != DbEvent::NONE).then(|| self.get(i))
    }
}

/// An access read from a database audit log, compactly: numbers into the
/// [`DbStrings`] of its [`DbEvents`] (a log of millions of statements keeps
/// tens of bytes a read).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DbEvent {
    pub occurred_at: Instant,
    /// The line where the statement's first record starts.
    pub line: u64,
    /// `N` of `FILE:LINE:TABLE:N` when the statement named several
    /// subjects; 0 otherwise.
    pub part: u32,
    pub file: u32,
    /// The table as the policy names it.
    pub table: u32,
    pub staff: u32,
    pub subject: u32,
    pub action: DbAction,
    pub category: u32,
    pub client: u32,
    pub login: u32,
    /// The statement's kind (`SELECT`, `COPY … TO`).
    pub kind: u32,
    /// The other categories touched, `, `-joined, or NONE.
    pub others: u32,
}

/// What a logged statement did to a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbAction {
    View,
    Update,
    Export,
}

impl DbAction {
    pub fn name(self) -> &'static str {
        match self {
            DbAction::View => "view",
            DbAction::Update => "update",
            DbAction::Export => "export",
        }
    }
    fn verb(self) -> &'static str {
        match self {
            DbAction::View => "read",
            DbAction::Update => "changed",
            DbAction::Export => "exported",
        }
    }
}

impl DbEvent {
    /// No value (a NULL subject or address, no other categories).
    pub const NONE: u32 = u32::MAX;
}

/// A database-log access with its values as text.
#[derive(Debug, Clone, PartialEq)]
pub struct DbAccess<'a> {
    pub event_id: Id,
    pub occurred_at: Instant,
    pub staff_id: &'a str,
    pub subject_id: Option<&'a str>,
    pub action: &'static str,
    pub data_category: &'a str,
    pub client_ip: Option<&'a str>,
    /// What `direct_db_access` says: the log file and line, the login, the
    /// table and the statement's kind; never its text or a literal.
    pub detail: String,
}

/// Every access read from the database audit logs, by (`occurred_at`,
/// `event_id`), with the text they share.
#[derive(Debug, Clone, Default)]
pub struct DbEvents {
    pub events: Vec<DbEvent>,
    pub strings: DbStrings,
}

impl DbEvents {
    pub fn len(&self) -> usize {
        self.events.len()
    }
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// `FILE:LINE:TABLE`, or `FILE:LINE:TABLE:N`.
    pub fn event_id(&self, e: &DbEvent) -> Id {
        let s = &self.strings;
        let mut id = format!("{}:{}:{}", s.get(e.file), e.line, s.get(e.table));
        if e.part > 0 {
            id.push_str(&format!(":{}", e.part));
        }
        Id::new(id)
    }

    pub fn get(&self, e: &DbEvent) -> DbAccess<'_> {
        let s = &self.strings;
        let mut detail = format!(
            "database login {} {} {} directly in the database ({}; audit log {} line {})",
            s.get(e.login),
            e.action.verb(),
            s.get(e.table),
            s.get(e.kind),
            s.get(e.file),
            e.line
        );
        if let Some(o) = s.opt(e.others) {
            detail.push_str("; also touched ");
            detail.push_str(o);
        }
        DbAccess {
            event_id: self.event_id(e),
            occurred_at: e.occurred_at,
            staff_id: s.get(e.staff),
            subject_id: s.opt(e.subject),
            action: e.action.name(),
            data_category: s.get(e.category),
            client_ip: s.opt(e.client),
            detail,
        }
    }

    /// Puts the events in (`occurred_at`, `event_id`) order.
    pub fn sort(&mut self) {
        let mut ev = std::mem::take(&mut self.events);
        ev.sort_by(|a, b| {
            a.occurred_at
                .cmp(&b.occurred_at)
                .then_with(|| self.event_id(a).cmp(&self.event_id(b)))
        });
        self.events = ev;
    }

    /// The events from `from` (inclusive) to `to` (exclusive).
    pub fn between(&self, from: Instant, to: Instant) -> &[DbEvent] {
        let a = self.events.partition_point(|e| e.occurred_at < from);
        let b = self.events.partition_point(|e| e.occurred_at < to);
        &self.events[a..b.max(a)]
    }
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

/// A relationship as `relationships.sql` returns it: what a
/// [`Relationships`] table is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    pub staff_id: Id,
    pub subject_id: Id,
    pub kind: String,
    pub reference: Option<String>,
    pub valid_from: Instant,
    pub valid_to: Option<Instant>,
}

/// One relationship of a [`Relationships`] table, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RelRef<'a> {
    /// Its place in the table, stable while the table lives.
    pub index: u32,
    pub staff_id: &'a Id,
    pub subject_id: &'a Id,
    pub kind: &'a str,
    pub reference: Option<&'a str>,
    pub valid_from: Instant,
    pub valid_to: Option<Instant>,
}

/// Every relationship, packed by column: ids and kinds stored once and
/// named by number, references in one buffer. Rows are kept grouped by
/// staff member and then subject, so one pair's rows are found by a lookup
/// and a binary search, with no map of pairs. Millions of rows take about
/// fifty bytes each.
#[derive(Debug, Clone, Default)]
pub struct Relationships {
    ids: Vec<Id>,
    by_id: IdIndex,
    kinds: Vec<Box<str>>,
    refs: String,
    /// Rows grouped by staff, then subject, then the order they were read.
    rows: Vec<RelRow>,
    /// For each id (as staff), where its rows start and end.
    staff_rows: rustc_hash::FxHashMap<u32, (u32, u32)>,
    /// Row numbers sorted by subject, built the first time they are asked for.
    by_subject: std::sync::OnceLock<Vec<u32>>,
}

#[derive(Debug, Clone, Copy)]
struct RelRow {
    staff: u32,
    subject: u32,
    kind: u32,
    /// `refs[ref_start..ref_end]`; `ref_start == u32::MAX` when there is none.
    ref_start: u32,
    ref_end: u32,
    valid_from: Instant,
    valid_to: Option<Instant>,
}

impl Relationships {
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    fn view(&self, i: usize) -> RelRef<'_> {
        let r = &self.rows[i];
        RelRef {
            index: i as u32,
            staff_id: &self.ids[r.staff as usize],
            subject_id: &self.ids[r.subject as usize],
            kind: &self.kinds[r.kind as usize],
            reference: (r.ref_start != u32::MAX)
                .then(|| &self.refs[r.ref_start as usize..r.ref_end as usize]),
            valid_from: r.valid_from,
            valid_to: r.valid_to,
        }
    }
    pub fn get(&self, i: usize) -> Option<RelRef<'_>> {
        (i < self.rows.len()).then(|| self.view(i))
    }
    pub fn iter(&self) -> impl Iterator<Item = RelRef<'_>> + '_ {
        (0..self.rows.len()).map(|i| self.view(i))
    }
    /// Every relationship with one subject, whoever the staff member. The
    /// index behind it is built on first use (one `u32` per row).
    pub fn with_subject<'s>(&'s self, subject: &str) -> impl Iterator<Item = RelRef<'s>> + 's {
        let index = self.by_subject.get_or_init(|| {
            let mut v: Vec<u32> = (0..self.rows.len() as u32).collect();
            v.sort_by_key(|&i| self.rows[i as usize].subject);
            v
        });
        let found = self.by_id.get(subject).map(|su| {
            let lo = index.partition_point(|&i| self.rows[i as usize].subject < su);
            let hi = lo + index[lo..].partition_point(|&i| self.rows[i as usize].subject == su);
            lo..hi
        });
        found
            .into_iter()
            .flatten()
            .map(move |k| self.view(index[k] as usize))
    }

    /// The relationships of one staff member with one subject.
    pub fn of<'s>(&'s self, staff: &str, subject: &str) -> impl Iterator<Item = RelRef<'s>> + 's {
        let found = (|| {
            let st = self.by_id.get(staff)?;
            let su = self.by_id.get(subject)?;
            let &(a, b) = self.staff_rows.get(&st)?;
            let run = &self.rows[a as usize..b as usize];
            let lo = run.partition_point(|r| r.subject < su);
            let hi = lo + run[lo..].partition_point(|r| r.subject == su);
            Some(a as usize + lo..a as usize + hi)
        })();
        found.into_iter().flatten().map(|i| self.view(i))
    }
}

/// Builds a [`Relationships`] table row by row.
#[derive(Default)]
pub struct RelationshipsBuilder {
    t: Relationships,
    kinds: rustc_hash::FxHashMap<Box<str>, u32>,
}

impl RelationshipsBuilder {
    fn id(&mut self, id: Id) -> u32 {
        if let Some(n) = self.t.by_id.get(id.as_str()) {
            return n;
        }
        let n = self.t.ids.len() as u32;
        self.t.by_id.insert(id.as_str().into(), n);
        self.t.ids.push(id);
        n
    }
    pub fn push(
        &mut self,
        staff_id: Id,
        subject_id: Id,
        kind: &str,
        reference: Option<&str>,
        valid_from: Instant,
        valid_to: Option<Instant>,
    ) {
        let staff = self.id(staff_id);
        let subject = self.id(subject_id);
        let next = self.t.kinds.len() as u32;
        let kind = match self.kinds.get(kind) {
            Some(&k) => k,
            None => {
                self.kinds.insert(kind.into(), next);
                self.t.kinds.push(kind.into());
                next
            }
        };
        let (ref_start, ref_end) = match reference {
            Some(r) => {
                let start = self.t.refs.len();
                self.t.refs.push_str(r);
                let end = u32::try_from(self.t.refs.len()).expect("references stay under 4 GiB");
                (start as u32, end)
            }
            None => (u32::MAX, 0),
        };
        self.t.rows.push(RelRow {
            staff,
            subject,
            kind,
            ref_start,
            ref_end,
            valid_from,
            valid_to,
        });
    }
    pub fn finish(self) -> Relationships {
        let mut t = self.t;
        t.rows.shrink_to_fit();
        t.refs.shrink_to_fit();
        // Sort a permutation (4 bytes a row), then move the rows into place
        // by following its cycles: no second copy of the rows, and rows of
        // one pair keep the order they were read in.
        let rows = &mut t.rows;
        let mut order: Vec<u32> = (0..rows.len() as u32).collect();
        order.sort_unstable_by_key(|&k| (rows[k as usize].staff, rows[k as usize].subject, k));
        const PLACED: u32 = u32::MAX;
        for i in 0..order.len() {
            if order[i] == PLACED {
                continue;
            }
            let held = rows[i];
            let mut j = i;
            loop {
                let from = order[j] as usize;
                order[j] = PLACED;
                if from == i {
                    rows[j] = held;
                    break;
                }
                rows[j] = rows[from];
                j = from;
            }
        }
        drop(order);
        let mut start = 0;
        for i in 1..=rows.len() {
            if i == rows.len() || rows[i].staff != rows[start].staff {
                t.staff_rows
                    .insert(rows[start].staff, (start as u32, i as u32));
                start = i;
            }
        }
        t
    }
}

impl From<Vec<Relationship>> for Relationships {
    fn from(v: Vec<Relationship>) -> Self {
        let mut b = RelationshipsBuilder::default();
        for r in v {
            b.push(
                r.staff_id,
                r.subject_id,
                &r.kind,
                r.reference.as_deref(),
                r.valid_from,
                r.valid_to,
            );
        }
        b.finish()
    }
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
    pub relationships: Option<Relationships>,
    pub disclosures: Option<Vec<Disclosure>>,
    pub disclosure_items: Option<Vec<DisclosureItem>>,
    pub requests: Option<Vec<SubjectRequest>>,
    /// Accesses read from database audit logs (section 8), by
    /// (`occurred_at`, `event_id`); empty without logs.
    pub db_events: std::sync::Arc<DbEvents>,
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
    fn integer_ids_keep_their_canonical_text() {
        for v in [0, 7, -7, 10, 1_000_000, i64::MAX, i64::MIN] {
            assert_eq!(Id::from_int(v).as_str(), v.to_string());
            assert_eq!(IdKey::of(Id::from_int(v).as_str()), IdKey::Int(v));
        }
    }

    #[test]
    fn id_keys_are_numbers_only_for_canonical_integers() {
        assert_eq!(IdKey::of("1042"), IdKey::Int(1042));
        assert_eq!(IdKey::of("-7"), IdKey::Int(-7));
        assert_eq!(IdKey::of("0"), IdKey::Int(0));
        for text in [
            "007",
            "-0",
            "+7",
            "1.0",
            "",
            "-",
            "9223372036854775808",
            " 7",
            "a1",
        ] {
            assert_eq!(IdKey::of(text), IdKey::Text(text), "{text:?}");
        }
        assert_eq!(IdKey::of("9223372036854775807"), IdKey::Int(i64::MAX));
        assert_eq!(IdKey::of("-9223372036854775808"), IdKey::Int(i64::MIN));
        assert_ne!(IdKey::of("07"), IdKey::of("7"));
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
    fn a_subject_keeps_each_text_field_apart_and_absent_ones_absent() {
        let mut s = Subject::new(
            Id::new("1"),
            SubjectText {
                display_name: "Ava Okafor",
                email: Some(""),
                phone: None,
                postal_address: Some("12 Harbor Lane"),
                family_name: Some("Okafor"),
                jurisdiction: None,
            },
            true,
            None,
        );
        assert_eq!(s.display_name(), "Ava Okafor");
        assert_eq!(s.email(), Some(""));
        assert_eq!(s.phone(), None);
        assert_eq!(s.postal_address(), Some("12 Harbor Lane"));
        assert_eq!(s.family_name(), Some("Okafor"));
        assert_eq!(s.jurisdiction(), None);
        s.set_jurisdiction(Some("US-NY"));
        s.set_postal_address(None);
        assert_eq!(s.jurisdiction(), Some("US-NY"));
        assert_eq!(s.postal_address(), None);
        assert_eq!(s.family_name(), Some("Okafor"));
        assert_eq!(s.display_name(), "Ava Okafor");
        let long = "é".repeat(200);
        s.set_email(Some(&long));
        assert_eq!(s.email(), Some(long.as_str()));
        assert_eq!(s.family_name(), Some("Okafor"));
        assert_eq!(s.jurisdiction(), Some("US-NY"));
    }

    #[test]
    fn a_relationship_table_finds_each_pair_and_nothing_else() {
        let t0: Instant = "2026-03-01T00:00:00Z".parse().unwrap();
        let row = |st: &str, su: &str, kind: &str, r: Option<&str>| Relationship {
            staff_id: Id::new(st),
            subject_id: Id::new(su),
            kind: kind.into(),
            reference: r.map(Into::into),
            valid_from: t0,
            valid_to: None,
        };
        let t: Relationships = vec![
            row("7", "100", "ticket", Some("T-1")),
            row("agent-x", "100", "order", None),
            row("7", "007", "ticket", Some("T-2")),
            row("7", "100", "order", Some("O-1")),
            row("8", "100", "ticket", None),
        ]
        .into();
        assert_eq!(t.len(), 5);
        let mut found: Vec<(&str, Option<&str>)> =
            t.of("7", "100").map(|r| (r.kind, r.reference)).collect();
        found.sort();
        assert_eq!(found, vec![("order", Some("O-1")), ("ticket", Some("T-1"))]);
        let leading_zero: Vec<_> = t.of("7", "007").map(|r| r.reference).collect();
        assert_eq!(leading_zero, vec![Some("T-2")]);
        assert_eq!(t.of("7", "7").count(), 0);
        assert_eq!(t.of("agent-x", "100").count(), 1);
        assert_eq!(t.of("9", "100").count(), 0);
        assert_eq!(t.of("100", "7").count(), 0);
        for r in t.iter() {
            assert_eq!(t.get(r.index as usize), Some(r));
        }
        // Rows of one pair keep the order they were read in.
        let many: Relationships = (0..50)
            .map(|k| row(&(k % 3).to_string(), "1", "ticket", Some(&format!("T-{k}"))))
            .collect::<Vec<_>>()
            .into();
        for staff in ["0", "1", "2"] {
            let refs: Vec<u32> = many
                .of(staff, "1")
                .map(|r| r.reference.unwrap()[2..].parse().unwrap())
                .collect();
            let want: Vec<u32> = (0..50).filter(|k| (k % 3).to_string() == staff).collect();
            assert_eq!(refs, want);
        }
        assert_eq!(t.get(5), None);
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
