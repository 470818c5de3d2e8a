//! The dashboard's accesses, kept by column: a few bytes per access instead
//! of a whole [`AccessEvent`], so a quarter of ten million accesses fits in
//! memory. A row is put back together only when it is shown.
//!
//! Columns grow in fixed chunks, never by doubling and copying, so the peak
//! while loading is the size at the end.

use compact_str::CompactString;
use rustc_hash::FxHashMap;

use crate::model::{AccessEvent, Id, IdKey, Instant, Sym};
use crate::rules::Rule;

const CHUNK_BITS: u32 = 16;
const CHUNK: usize = 1 << CHUNK_BITS;
/// An absent symbol or relationship in a `u32` column.
const NONE: u32 = u32::MAX;

/// A column that grows a chunk at a time.
#[derive(Debug, Clone)]
struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    fn push(&mut self, v: T) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(c) = self.chunks.last_mut() {
            c.push(v);
        }
        self.len += 1;
    }
    fn bytes(&self) -> usize {
        self.chunks.len() * CHUNK * std::mem::size_of::<T>()
    }
    fn slot(&self, i: usize) -> &T {
        &self.chunks[i >> CHUNK_BITS][i & (CHUNK - 1)]
    }
}

impl<T: Copy> Chunked<T> {
    fn get(&self, i: usize) -> T {
        self.chunks[i >> CHUNK_BITS][i & (CHUNK - 1)]
    }
    fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.chunks.iter().flatten().copied()
    }
}

/// A column of `u32` values coded per chunk: each chunk keeps its distinct
/// values once and a `u16` per row, which always fits, since a chunk has at
/// most 65,536 rows. Staff, addresses, references, record counts and
/// (action, category, purpose) repeat within a chunk: 2 bytes a row.
#[derive(Debug, Clone, Default)]
struct Coded {
    chunks: Vec<CodedChunk>,
    len: usize,
    /// Codes of the last chunk's values, while it fills.
    open: FxHashMap<u32, u16>,
}

#[derive(Debug, Clone)]
struct CodedChunk {
    values: Vec<u32>,
    codes: Vec<u16>,
}

impl Coded {
    fn push(&mut self, v: u32) {
        if self.len.is_multiple_of(CHUNK) {
            if let Some(last) = self.chunks.last_mut() {
                last.values.shrink_to_fit();
            }
            self.open.clear();
            self.chunks.push(CodedChunk {
                values: Vec::new(),
                codes: Vec::with_capacity(CHUNK),
            });
        }
        if let Some(c) = self.chunks.last_mut() {
            let next = c.values.len() as u16;
            let code = *self.open.entry(v).or_insert(next);
            if code == next {
                c.values.push(v);
            }
            c.codes.push(code);
        }
        self.len += 1;
    }
    fn get(&self, i: usize) -> u32 {
        let c = &self.chunks[i >> CHUNK_BITS];
        c.values[usize::from(c.codes[i & (CHUNK - 1)])]
    }
    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.chunks
            .iter()
            .flat_map(|c| c.codes.iter().map(|k| c.values[usize::from(*k)]))
    }
    fn bytes(&self) -> usize {
        self.chunks.len() * CHUNK * 2
            + self
                .chunks
                .iter()
                .map(|c| c.values.capacity() * 4)
                .sum::<usize>()
            + self.open.capacity() * 8
    }
}

/// Integer event ids, by chunk: as an offset from the chunk's first id when
/// every id of the chunk is within 2^31 of it (ids that grow with time, the
/// usual case), else whole.
#[derive(Debug, Clone)]
enum IntChunk {
    Near { first: i64, off: Vec<i32> },
    Far(Vec<i64>),
}

#[derive(Debug, Clone, Default)]
struct IntIds {
    chunks: Vec<IntChunk>,
    len: usize,
}

impl IntIds {
    fn push(&mut self, n: i64) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(IntChunk::Near {
                first: n,
                off: Vec::with_capacity(CHUNK),
            });
        }
        if let Some(c) = self.chunks.last_mut() {
            match c {
                IntChunk::Near { first, off } => {
                    match n.checked_sub(*first).and_then(|d| i32::try_from(d).ok()) {
                        Some(d) => off.push(d),
                        None => {
                            let mut whole: Vec<i64> = Vec::with_capacity(CHUNK);
                            whole.extend(off.iter().map(|d| *first + i64::from(*d)));
                            whole.push(n);
                            *c = IntChunk::Far(whole);
                        }
                    }
                }
                IntChunk::Far(v) => v.push(n),
            }
        }
        self.len += 1;
    }
    fn get(&self, i: usize) -> i64 {
        match &self.chunks[i >> CHUNK_BITS] {
            IntChunk::Near { first, off } => *first + i64::from(off[i & (CHUNK - 1)]),
            IntChunk::Far(v) => v[i & (CHUNK - 1)],
        }
    }
    fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len).map(|i| self.get(i))
    }
    fn bytes(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| match c {
                IntChunk::Near { off, .. } => off.capacity() * 4,
                IntChunk::Far(v) => v.capacity() * 8,
            })
            .sum()
    }
}

/// Event ids: integers while every id is an integer's canonical text (the
/// usual case), text from the first one that is not.
#[derive(Debug, Clone)]
enum IdColumn {
    Ints(IntIds),
    Text(Chunked<CompactString>),
}

impl Default for IdColumn {
    fn default() -> Self {
        IdColumn::Ints(IntIds::default())
    }
}

impl IdColumn {
    fn push(&mut self, id: &Id) {
        if let IdColumn::Ints(ints) = self {
            if let IdKey::Int(n) = IdKey::of(id.as_str()) {
                ints.push(n);
                return;
            }
            let mut text = Chunked::default();
            for n in ints.iter() {
                text.push(Id::from_int(n).as_str().into());
            }
            *self = IdColumn::Text(text);
        }
        if let IdColumn::Text(t) = self {
            t.push(id.as_str().into());
        }
    }
    fn get(&self, i: usize) -> Id {
        match self {
            IdColumn::Ints(c) => Id::from_int(c.get(i)),
            IdColumn::Text(c) => Id::new(c.slot(i).clone()),
        }
    }
    fn is(&self, i: usize, id: &str) -> bool {
        match self {
            IdColumn::Ints(c) => IdKey::of(id) == IdKey::Int(c.get(i)),
            IdColumn::Text(c) => c.slot(i) == id,
        }
    }
    fn bytes(&self) -> usize {
        match self {
            IdColumn::Ints(c) => c.bytes(),
            IdColumn::Text(c) => {
                c.bytes()
                    + c.chunks
                        .iter()
                        .flatten()
                        .map(|s| {
                            if s.is_heap_allocated() {
                                s.capacity()
                            } else {
                                0
                            }
                        })
                        .sum::<usize>()
            }
        }
    }
}

/// What an access did, to what and why: the three repeat together, so each
/// distinct triple is kept once and an access holds its number.
type Shape = [Option<Sym>; 3];

/// One access as the screens use it, put back together from the columns.
#[derive(Debug, Clone)]
pub struct AccessRow {
    pub event: AccessEvent,
    pub rules: u32,
    /// Index into `Directory::relationships` of the relationship that explains it.
    pub explained_by: Option<u32>,
}

impl AccessRow {
    pub fn flagged(&self) -> bool {
        self.rules != 0
    }
    pub fn rule_list(&self) -> Vec<Rule> {
        rule_list(self.rules)
    }
}

/// The rules set in a mask, in the contract's order.
pub fn rule_list(mask: u32) -> Vec<Rule> {
    Rule::ALL
        .iter()
        .copied()
        .filter(|r| mask & (1 << (*r as u32)) != 0)
        .collect()
}

/// Up to 65,536 consecutive rows of the columns a filter reads: times,
/// subjects (`u32::MAX` for none), and staff and (action, category,
/// purpose) as codes into the chunk's distinct values.
pub struct ChunkView<'a> {
    /// The row number of the chunk's first row.
    pub first: usize,
    pub times: &'a [i64],
    pub subjects: &'a [u32],
    pub staff: (&'a [u16], &'a [u32]),
    pub shape: (&'a [u16], &'a [u32]),
}

/// Every access of the window, in the order read (by time), by column.
#[derive(Debug, Clone, Default)]
pub struct AccessLog {
    /// Nanoseconds since 1970 (exact for any time between 1678 and 2262).
    at: Chunked<i64>,
    ids: IdColumn,
    staff: Coded,
    subject: Chunked<u32>,
    shape: Coded,
    shapes: Vec<Shape>,
    shape_index: FxHashMap<Shape, u32>,
    reference: Coded,
    client_ip: Coded,
    /// Record counts that fit below `u32::MAX`; the rest in `big_counts`.
    count: Coded,
    big_counts: FxHashMap<u32, i64>,
    explained_by: Chunked<u32>,
    /// The flagged accesses (a few in a hundred): row and rule mask, by row.
    flagged: Vec<(u32, u32)>,
    /// The accesses read from a database audit log: row and what
    /// `direct_db_access` says of it, by row.
    db: Vec<(u32, u32)>,
}

fn opt(s: Option<Sym>) -> u32 {
    s.map_or(NONE, |s| s.0)
}

fn sym(v: u32) -> Option<Sym> {
    (v != NONE).then_some(Sym(v))
}

fn nanos(t: Instant) -> i64 {
    t.timestamp_nanos_opt().unwrap_or(if t.timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

impl AccessLog {
    pub fn push(&mut self, e: &AccessEvent, rules: u32, explained_by: Option<u32>) {
        let row = self.at.len as u32;
        self.at.push(nanos(e.occurred_at));
        self.ids.push(&e.event_id);
        self.staff.push(e.staff.0);
        self.subject.push(opt(e.subject));
        let shape = [e.action, e.data_category, e.purpose];
        let next = self.shapes.len() as u32;
        let code = *self.shape_index.entry(shape).or_insert(next);
        if code == next {
            self.shapes.push(shape);
        }
        self.shape.push(code);
        self.reference.push(opt(e.reference));
        self.client_ip.push(opt(e.client_ip));
        match u32::try_from(e.record_count) {
            Ok(n) if n != u32::MAX => self.count.push(n),
            _ => {
                self.count.push(u32::MAX);
                self.big_counts.insert(row, e.record_count);
            }
        }
        self.explained_by.push(explained_by.unwrap_or(NONE));
        if rules != 0 {
            self.flagged.push((row, rules));
        }
        if let Some(d) = e.db {
            self.db.push((row, d.0));
        }
    }

    /// What the database audit log says of row `i`, when it came from one.
    pub fn db(&self, i: usize) -> Option<Sym> {
        self.db
            .binary_search_by_key(&(i as u32), |x| x.0)
            .ok()
            .map(|k| Sym(self.db[k].1))
    }

    /// The rows read from database audit logs, in order.
    pub fn db_rows(&self) -> impl Iterator<Item = usize> + '_ {
        self.db.iter().map(|x| x.0 as usize)
    }

    pub fn len(&self) -> usize {
        self.at.len
    }
    pub fn is_empty(&self) -> bool {
        self.at.len == 0
    }

    /// The access at row `i`, whole.
    pub fn get(&self, i: usize) -> AccessRow {
        let [action, data_category, purpose] = self.shapes[self.shape.get(i) as usize];
        let record_count = match self.count.get(i) {
            u32::MAX => self.big_counts.get(&(i as u32)).copied().unwrap_or(0),
            n => i64::from(n),
        };
        AccessRow {
            event: AccessEvent {
                event_id: self.ids.get(i),
                occurred_at: self.at(i),
                staff: Sym(self.staff.get(i)),
                subject: self.subject(i),
                action,
                data_category,
                purpose,
                reference: sym(self.reference.get(i)),
                client_ip: sym(self.client_ip.get(i)),
                record_count,
                db: self.db(i),
            },
            rules: self.rules(i),
            explained_by: Some(self.explained_by.get(i)).filter(|x| *x != NONE),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = AccessRow> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    pub fn at(&self, i: usize) -> Instant {
        chrono::DateTime::from_timestamp_nanos(self.at.get(i))
    }
    /// Row `i`'s time in nanoseconds since 1970.
    pub fn time(&self, i: usize) -> i64 {
        self.at.get(i)
    }
    /// Row `i`'s (action, category, purpose), as a number into [`AccessLog::shapes`].
    pub fn shape(&self, i: usize) -> u32 {
        self.shape.get(i)
    }
    pub fn staff(&self, i: usize) -> Sym {
        Sym(self.staff.get(i))
    }
    pub fn subject(&self, i: usize) -> Option<Sym> {
        sym(self.subject.get(i))
    }
    pub fn reference(&self, i: usize) -> Option<Sym> {
        sym(self.reference.get(i))
    }
    pub fn client_ip(&self, i: usize) -> Option<Sym> {
        sym(self.client_ip.get(i))
    }
    /// The rules an access broke, as a mask of `1 << rule`.
    pub fn rules(&self, i: usize) -> u32 {
        self.flagged
            .binary_search_by_key(&(i as u32), |x| x.0)
            .map_or(0, |k| self.flagged[k].1)
    }
    /// The flagged rows with their rule masks, by row.
    pub fn flagged(&self) -> &[(u32, u32)] {
        &self.flagged
    }
    /// The (action, category, purpose) of each row, as a number into
    /// [`AccessLog::shapes`].
    pub fn shape_codes(&self) -> impl Iterator<Item = u32> + '_ {
        self.shape.iter()
    }
    pub fn shapes(&self) -> &[[Option<Sym>; 3]] {
        &self.shapes
    }
    pub fn staff_column(&self) -> impl Iterator<Item = Sym> + '_ {
        self.staff.iter().map(Sym)
    }
    pub fn subject_column(&self) -> impl Iterator<Item = Option<Sym>> + '_ {
        self.subject.iter().map(sym)
    }
    /// Times as nanoseconds since 1970.
    pub fn time_column(&self) -> impl Iterator<Item = i64> + '_ {
        self.at.iter()
    }

    /// The columns a filter reads, a chunk at a time.
    pub fn chunks(&self) -> impl Iterator<Item = ChunkView<'_>> + '_ {
        (0..self.at.chunks.len()).map(move |k| ChunkView {
            first: k << CHUNK_BITS,
            times: &self.at.chunks[k],
            subjects: &self.subject.chunks[k],
            staff: (&self.staff.chunks[k].codes, &self.staff.chunks[k].values),
            shape: (&self.shape.chunks[k].codes, &self.shape.chunks[k].values),
        })
    }

    /// The rows with a time in `times` (nanoseconds), of the staff member
    /// and subject given, whose (action, category, purpose) is kept by
    /// `shape_ok` (by shape number). A chunk at a time: its codes for the
    /// staff member and for the kept shapes are found once, and a chunk
    /// without the staff member or outside the times is skipped whole (rows
    /// are in time order).
    pub fn scan(
        &self,
        times: std::ops::Range<i64>,
        staff: Option<Sym>,
        subject: Option<Sym>,
        shape_ok: &[bool],
    ) -> Vec<u32> {
        let mut view = Vec::new();
        let subject = subject.map(|s| s.0);
        for c in self.chunks() {
            let (Some(&t0), Some(&t1)) = (c.times.first(), c.times.last()) else {
                continue;
            };
            if t1 < times.start || t0 >= times.end {
                continue;
            }
            let staff_code = match staff {
                Some(s) => match c.staff.1.iter().position(|v| *v == s.0) {
                    Some(k) => Some(k as u16),
                    None => continue,
                },
                None => None,
            };
            let shape_kept: Vec<bool> = c.shape.1.iter().map(|v| shape_ok[*v as usize]).collect();
            for (k, t) in c.times.iter().enumerate() {
                if times.contains(t)
                    && staff_code.is_none_or(|x| c.staff.0[k] == x)
                    && subject.is_none_or(|x| c.subjects[k] == x)
                    && shape_kept[usize::from(c.shape.0[k])]
                {
                    view.push((c.first + k) as u32);
                }
            }
        }
        view
    }

    /// The row of an event, found by its time and id.
    pub fn find(&self, id: &str, at: Instant) -> Option<u32> {
        let t = nanos(at);
        let (mut lo, mut hi) = (0usize, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.at.get(mid) < t {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        (lo..self.len())
            .take_while(|i| self.at.get(*i) == t)
            .find(|i| self.ids.is(*i, id))
            .map(|i| i as u32)
    }

    /// Heap bytes held, for the benchmark.
    pub fn bytes(&self) -> usize {
        self.at.bytes()
            + self.ids.bytes()
            + self.staff.bytes()
            + self.subject.bytes()
            + self.shape.bytes()
            + self.reference.bytes()
            + self.client_ip.bytes()
            + self.count.bytes()
            + self.explained_by.bytes()
            + self.flagged.capacity() * 8
            + self.shapes.capacity() * std::mem::size_of::<Shape>()
            + self.shape_index.capacity() * (std::mem::size_of::<Shape>() + 5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, secs: i64, nanos: u32, staff: u32, count: i64) -> AccessEvent {
        AccessEvent {
            event_id: Id::new(id),
            occurred_at: chrono::DateTime::from_timestamp(secs, nanos).unwrap(),
            staff: Sym(staff),
            subject: staff.is_multiple_of(2).then_some(Sym(staff + 1)),
            action: Some(Sym(1)),
            data_category: Some(Sym(2)),
            purpose: staff.is_multiple_of(3).then_some(Sym(3)),
            reference: None,
            client_ip: Some(Sym(9)),
            record_count: count,
            db: staff.is_multiple_of(5).then_some(Sym(11)),
        }
    }

    #[test]
    fn a_row_comes_back_as_it_went_in_across_chunks_and_id_kinds() {
        let mut log = AccessLog::default();
        let mut events = Vec::new();
        for i in 0..(CHUNK as i64 + 10) {
            events.push(event(
                &i.to_string(),
                1_700_000_000 + i,
                123_456_789,
                i as u32,
                i,
            ));
        }
        // A count beyond u32, a negative one, then an id that is not an integer.
        events.push(event("70000", 1_800_000_000, 0, 4, 5_000_000_000));
        events.push(event("70001", 1_800_000_001, 0, 6, -3));
        events.push(event("0042", 1_800_000_002, 1, 8, u32::MAX as i64));
        events.push(event("évé-9", 1_800_000_003, 2, 10, 1));
        for (k, e) in events.iter().enumerate() {
            log.push(
                e,
                if k % 7 == 0 { 1 << 3 } else { 0 },
                (k % 5 == 0).then_some(k as u32),
            );
        }
        assert_eq!(log.len(), events.len());
        for (k, e) in events.iter().enumerate() {
            let r = log.get(k);
            assert_eq!(&r.event, e, "row {k}");
            assert_eq!(r.rules, if k % 7 == 0 { 1 << 3 } else { 0 });
            assert_eq!(r.explained_by, (k % 5 == 0).then_some(k as u32));
            assert_eq!(log.find(e.event_id.as_str(), e.occurred_at), Some(k as u32));
        }
        assert_eq!(log.find("0042", events[2].occurred_at), None);
        assert_eq!(
            log.shapes().len(),
            2,
            "two distinct (action, category, purpose)"
        );
    }

    #[test]
    fn ids_far_apart_in_one_chunk_and_many_distinct_values_come_back_whole() {
        let mut log = AccessLog::default();
        let ids = [5i64, 4, i64::MAX, -7, i64::MIN, 6, 3_000_000_000, 2];
        let mut events = Vec::new();
        for k in 0..(2 * CHUNK + 3) {
            let id = ids[k % ids.len()].wrapping_add((k / ids.len()) as i64);
            // Every staff value distinct: a chunk's dictionary fills to 65,536.
            let mut e = event(&id.to_string(), 1_700_000_000 + k as i64, 0, k as u32, 1);
            e.client_ip = Some(Sym((k % 3) as u32));
            events.push(e);
        }
        for e in &events {
            log.push(e, 0, None);
        }
        for (k, e) in events.iter().enumerate() {
            assert_eq!(log.get(k).event, *e, "row {k}");
        }
        let staff: Vec<Sym> = log.staff_column().collect();
        assert_eq!(staff, events.iter().map(|e| e.staff).collect::<Vec<_>>());
    }

    /// A scan over several chunks keeps exactly the rows a row-by-row test
    /// keeps, including chunks skipped whole for their times or their staff.
    #[test]
    fn a_scan_keeps_what_a_row_by_row_test_keeps() {
        let mut log = AccessLog::default();
        let n = 3 * CHUNK + 100;
        let mut events = Vec::with_capacity(n);
        for k in 0..n {
            let mut e = event(&k.to_string(), 1_700_000_000 + k as i64, 0, 0, 1);
            // Staff 1 to 7, but staff 9 only in the second chunk.
            e.staff = Sym(if (CHUNK..2 * CHUNK).contains(&k) && k % 11 == 0 {
                9
            } else {
                1 + (k % 7) as u32
            });
            e.subject = (k % 5 != 0).then_some(Sym(100 + (k % 13) as u32));
            e.purpose = Some(Sym(200 + (k % 3) as u32));
            log.push(&e, 0, None);
            events.push(e);
        }
        let ns = |k: usize| (1_700_000_000 + k as i64) * 1_000_000_000;
        let ranges = [
            i64::MIN..i64::MAX,
            ns(10)..ns(20),
            ns(CHUNK + 5)..ns(2 * CHUNK + 5),
            ns(n + 1)..i64::MAX,
            i64::MIN..ns(0),
        ];
        let shapes = log.shapes().to_vec();
        for times in ranges {
            for staff in [None, Some(Sym(9)), Some(Sym(3)), Some(Sym(42))] {
                for subject in [None, Some(Sym(104))] {
                    for keep in [200u32, 201] {
                        let shape_ok: Vec<bool> =
                            shapes.iter().map(|s| s[2] != Some(Sym(keep))).collect();
                        let want: Vec<u32> = (0..n)
                            .filter(|&i| {
                                let r = &events[i];
                                times.contains(&nanos(r.occurred_at))
                                    && staff.is_none_or(|s| r.staff == s)
                                    && subject.is_none_or(|s| r.subject == Some(s))
                                    && r.purpose != Some(Sym(keep))
                            })
                            .map(|i| i as u32)
                            .collect();
                        let got = log.scan(times.clone(), staff, subject, &shape_ok);
                        assert_eq!(got, want, "{times:?} {staff:?} {subject:?} {keep}");
                    }
                }
            }
        }
    }

    #[test]
    fn find_tells_apart_events_at_the_same_instant() {
        let mut log = AccessLog::default();
        for id in ["7", "8", "9"] {
            log.push(&event(id, 1_700_000_000, 5, 1, 1), 0, None);
        }
        let t = chrono::DateTime::from_timestamp(1_700_000_000, 5).unwrap();
        assert_eq!(log.find("8", t), Some(1));
        assert_eq!(log.find("8", t + chrono::Duration::nanoseconds(1)), None);
        assert_eq!(log.find("10", t), None);
    }
}
