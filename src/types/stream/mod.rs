//! Streams: entries in packed nodes keyed by their first ID, and consumer
//! groups with their pending entries.
//!
//! The entries live as Redis keeps them (`t_stream.c`): nodes ordered by
//! their *master ID* (the ID of the first entry added to it), each a
//! listpack in Redis's stream node layout (see [`lp`]):
//!
//! ```text
//! master entry: count | deleted | num-fields | field_1 .. field_N | 0
//! each entry:   flags | ms-diff | seq-diff | [num-fields | field_i value_i ..] | lp-count
//!               (SAMEFIELDS entries store only values: the master's fields)
//! ```
//!
//! IDs are deltas from the master ID; deleting an entry only sets its
//! DELETED flag and moves one from `count` to `deleted`; a node whose last
//! live entry goes is dropped whole. A node takes entries until it reaches
//! `stream-node-max-bytes` or `stream-node-max-entries`, so the nodes (and
//! DUMP, which copies them) are byte for byte what Redis builds from the
//! same commands.
//!
//! Where Redis indexes the nodes with a rax, the index here is a sorted
//! `VecDeque` of (master ID, listpack): 32 bytes a node, found by binary
//! search. Appends go to the last node and trims take whole nodes from the
//! front, both O(1); the index grows by an eighth at a time, so its slack
//! stays under about 0.05 byte per entry (nodes hold ~100 entries). Each
//! listpack is a boxed slice of exactly its length, reallocated on every
//! change as Redis's listpacks are (mimalloc keeps the block in place while
//! it stays in its size class).
//!
//! API for consumer groups and XINFO (all on [`Stream`]): [`Stream::range`]
//! and [`Stream::for_each_in`] read entries; [`Stream::get`] one entry;
//! [`Stream::first_entry_id`]/[`Stream::last_entry_id`] the live edges;
//! [`Stream::len`], the public metadata fields, [`Stream::node_count`] and
//! [`Stream::nodes`] what XINFO STREAM shows; [`Stream::mem_usage`] MEMORY
//! USAGE. `groups` is owned by `group.rs`.

pub mod group;
pub mod id;
pub mod lp;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

pub use group::Groups;
pub use id::{Seq, StreamId};
use lp::Elem;

use super::Limits;

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;
/// `STREAM_LISTPACK_MAX_SIZE`: no node (and no entry) grows past 1 GiB.
pub const LISTPACK_MAX_SIZE: usize = 1 << 30;
/// The fewest node slots the index grows by (or keeps spare after shrinking).
const INDEX_MIN_STEP: usize = 4;

/// A stream: its nodes and the metadata Redis keeps with them.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    /// (master ID, listpack) in ascending master ID order.
    nodes: VecDeque<(StreamId, Box<[u8]>)>,
    length: u64,
    /// The last ID handed out (or set by XSETID); new IDs are greater.
    pub last_id: StreamId,
    /// The first live entry's ID as Redis records it (0-0 when empty).
    pub first_id: StreamId,
    /// The greatest ID XDEL (or XSETID MAXDELETEDID) removed.
    pub max_deleted_entry_id: StreamId,
    /// Entries ever added (XADD), for consumer group lag.
    pub entries_added: u64,
    pub groups: Groups,
}

/// An entry copied out of its node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: StreamId,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

/// An entry inside its node, for reading without copying.
#[derive(Clone, Copy)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    lp: &'a [u8],
    /// Where the master's field names start (used for SAMEFIELDS entries).
    master_fields: usize,
    same: bool,
    nfields: usize,
    fields_at: usize,
}

impl<'a> EntryRef<'a> {
    /// Field/value pairs.
    pub fn num_fields(&self) -> usize {
        self.nfields
    }

    /// The field/value pairs in order.
    pub fn fields(&self) -> impl Iterator<Item = (Elem<'a>, Elem<'a>)> + 'a {
        let (lp, same) = (self.lp, self.same);
        let mut names = self.master_fields;
        let mut p = self.fields_at;
        (0..self.nfields).map_while(move |_| {
            let f = if same {
                let (f, n) = lp::decode(lp, names)?;
                names = n;
                f
            } else {
                let (f, n) = lp::decode(lp, p)?;
                p = n;
                f
            };
            let (v, n) = lp::decode(lp, p)?;
            p = n;
            Some((f, v))
        })
    }

    pub fn to_entry(&self) -> Entry {
        Entry {
            id: self.id,
            fields: self.fields().map(|(f, v)| (f.bytes().into_owned(), v.bytes().into_owned())).collect(),
        }
    }
}

/// How XADD picks the new entry's ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewId {
    /// `*`: the time in ms, or the last ID's successor.
    Auto,
    /// `<ms>-*`: this ms with the next free sequence.
    AutoSeq(u64),
    Given(StreamId),
}

/// Why an append failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddError {
    /// The ID is not greater than the last one (Redis's EDOM).
    NotGreater,
    /// The fields and values together pass 1 GiB (ERANGE).
    TooLarge,
}

/// What a trim keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trim {
    MaxLen(u64),
    MinId(StreamId),
}

/// XADD/XTRIM's trimming arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrimArgs {
    pub trim: Trim,
    /// `~`: only whole nodes go.
    pub approx: bool,
    /// Entries at most to remove (0: no limit); only with `approx`.
    pub limit: u64,
}

/// The master entry of a node.
struct Master {
    count: i64,
    deleted: i64,
    nfields: usize,
    fields_at: usize,
    entries_at: usize,
}

fn master(lp: &[u8]) -> Option<Master> {
    let (count, p) = lp::decode(lp, lp::HDR)?;
    let (deleted, p) = lp::decode(lp, p)?;
    let (nfields, p) = lp::decode(lp, p)?;
    let nfields = usize::try_from(nfields.int()?).ok()?;
    let fields_at = p;
    let mut q = p;
    for _ in 0..nfields {
        q = lp::skip(lp, q)?;
    }
    let (zero, entries_at) = lp::decode(lp, q)?;
    if zero.int()? != 0 {
        return None;
    }
    Some(Master { count: count.int()?, deleted: deleted.int()?, nfields, fields_at, entries_at })
}

/// One entry's place in its node.
struct Raw {
    at: usize,
    flags: i64,
    id: StreamId,
    nfields: usize,
    fields_at: usize,
    /// Where its lp-count element is.
    count_at: usize,
    next: usize,
}

fn raw_entry(lp: &[u8], p: usize, master_id: StreamId, m: &Master) -> Option<Raw> {
    let (flags, q) = lp::decode(lp, p)?;
    let flags = flags.int()?;
    let (ms, q) = lp::decode(lp, q)?;
    let (seq, q) = lp::decode(lp, q)?;
    let id = StreamId::new(master_id.ms.wrapping_add(ms.int()? as u64), master_id.seq.wrapping_add(seq.int()? as u64));
    let (nfields, fields_at, elems) = if flags & FLAG_SAMEFIELDS != 0 {
        (m.nfields, q, m.nfields)
    } else {
        let (n, q) = lp::decode(lp, q)?;
        let n = usize::try_from(n.int()?).ok()?;
        (n, q, n.checked_mul(2)?)
    };
    let mut end = fields_at;
    for _ in 0..elems {
        end = lp::skip(lp, end)?;
    }
    let next = lp::skip(lp, end)?;
    Some(Raw { at: p, flags, id, nfields, fields_at, count_at: end, next })
}

/// Every entry of a node (deleted ones too), in order.
fn raw_entries<'a>(lp: &'a [u8], master_id: StreamId, m: &'a Master) -> impl Iterator<Item = Raw> + 'a {
    let mut p = Some(m.entries_at);
    std::iter::from_fn(move || {
        let r = raw_entry(lp, p?, master_id, m);
        p = r.as_ref().map(|r| r.next);
        r
    })
}

fn entry_ref<'a>(lp: &'a [u8], m: &Master, r: &Raw) -> EntryRef<'a> {
    EntryRef {
        id: r.id,
        lp,
        master_fields: m.fields_at,
        same: r.flags & FLAG_SAMEFIELDS != 0,
        nfields: r.nfields,
        fields_at: r.fields_at,
    }
}

/// Runs `f` on a node's listpack as a `Vec` and stores it back as a boxed
/// slice of exactly its length. `lp::append` and `lp::replace_int` reserve
/// exactly what they add, so the block is the size class of the length.
fn edit<R>(lp: &mut Box<[u8]>, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    let mut v = Vec::from(std::mem::take(lp));
    let r = f(&mut v);
    *lp = v.into_boxed_slice();
    r
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    /// The position of the node that holds `id` if any does: the last one
    /// whose master ID is at most `id`.
    fn node_for(&self, id: StreamId) -> Option<usize> {
        self.nodes.partition_point(|(k, _)| *k <= id).checked_sub(1)
    }

    /// Appends a node after every other. The index grows by an eighth of
    /// its length at a time: little slack, amortised O(1) appends.
    fn push_node(&mut self, master_id: StreamId, lp: Box<[u8]>) {
        if self.nodes.len() == self.nodes.capacity() {
            self.nodes.reserve_exact((self.nodes.len() / 8).max(INDEX_MIN_STEP));
        }
        self.nodes.push_back((master_id, lp));
    }

    /// After nodes went (trims, XDEL): once under half the index is used,
    /// gives the slack back down to an eighth over its length.
    fn shrink_index(&mut self) {
        let n = self.nodes.len();
        if self.nodes.capacity() > 2 * n + INDEX_MIN_STEP {
            self.nodes.shrink_to(n + (n / 8).max(INDEX_MIN_STEP));
        }
    }

    /// Live entries.
    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Nodes (XINFO STREAM's radix-tree-keys).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The nodes in order: master ID and listpack (Redis's node layout).
    pub fn nodes(&self) -> impl DoubleEndedIterator<Item = (StreamId, &[u8])> + '_ {
        self.nodes.iter().map(|(k, v)| (*k, &v[..]))
    }

    /// The stream in comparable form for tests: its counters, then each
    /// node as master ID and listpack bytes (groups left out).
    #[cfg(test)]
    pub(crate) fn fingerprint(&self) -> Vec<Vec<u8>> {
        let head = format!(
            "{} {} {} {} {}",
            self.length, self.last_id, self.first_id, self.max_deleted_entry_id, self.entries_added
        );
        let mut els = vec![head.into_bytes()];
        els.extend(self.nodes().map(|(k, lp)| [&k.to_be_bytes()[..], lp].concat()));
        els
    }

    /// Calls `f` on each live entry with `start <= id <= end`, ascending (or
    /// descending with `rev`), until it returns false.
    pub fn for_each_in<'a>(
        &'a self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        mut f: impl FnMut(EntryRef<'a>) -> bool,
    ) {
        if start > end {
            return;
        }
        if !rev {
            // The node holding `start` begins at or before it.
            let from = self.node_for(start).unwrap_or(0);
            for (mid, lp) in self.nodes.range(from..) {
                if *mid > end {
                    return;
                }
                let Some(m) = master(lp) else { continue };
                for r in raw_entries(lp, *mid, &m) {
                    if r.id > end {
                        return;
                    }
                    if r.id >= start && r.flags & FLAG_DELETED == 0 && !f(entry_ref(lp, &m, &r)) {
                        return;
                    }
                }
            }
        } else {
            let to = self.nodes.partition_point(|(k, _)| *k <= end);
            for (mid, lp) in self.nodes.range(..to).rev() {
                let Some(m) = master(lp) else { continue };
                let raws: Vec<Raw> = raw_entries(lp, *mid, &m).collect();
                for r in raws.iter().rev() {
                    if r.id < start {
                        return;
                    }
                    if r.id <= end && r.flags & FLAG_DELETED == 0 && !f(entry_ref(lp, &m, r)) {
                        return;
                    }
                }
            }
        }
    }

    /// Up to `count` live entries (0: all) with `start <= id <= end`.
    pub fn range(&self, start: StreamId, end: StreamId, count: usize, rev: bool) -> Vec<Entry> {
        let mut out = Vec::new();
        self.for_each_in(start, end, rev, |e| {
            out.push(e.to_entry());
            count == 0 || out.len() < count
        });
        out
    }

    /// The live entry `id`, if any.
    pub fn get(&self, id: StreamId) -> Option<Entry> {
        self.range(id, id, 1, false).pop()
    }

    /// The first live entry's ID (Redis's `streamGetEdgeID(s,1,1)`).
    pub fn first_entry_id(&self) -> Option<StreamId> {
        let mut id = None;
        self.for_each_in(StreamId::MIN, StreamId::MAX, false, |e| {
            id = Some(e.id);
            false
        });
        id
    }

    /// The first entry's ID, deleted or not (`streamGetEdgeID(s,1,0)`).
    pub fn first_id_with_tombstones(&self) -> Option<StreamId> {
        let (mid, lp) = self.nodes.front()?;
        let m = master(lp)?;
        raw_entry(lp, m.entries_at, *mid, &m).map(|r| r.id)
    }

    /// The last live entry's ID (`streamLastValidID`).
    pub fn last_entry_id(&self) -> Option<StreamId> {
        let mut id = None;
        self.for_each_in(StreamId::MIN, StreamId::MAX, true, |e| {
            id = Some(e.id);
            false
        });
        id
    }

    /// Appends an entry of `fields` (field, value, field, value, ...: an even
    /// count of at least two) as Redis's `streamAppendItem` does, with the ID
    /// rules of XADD; `now_ms` is the time `*` uses. Returns the new ID.
    pub fn add<T: AsRef<[u8]>>(
        &mut self,
        new: NewId,
        fields: &[T],
        now_ms: u64,
        lim: &Limits,
    ) -> Result<StreamId, AddError> {
        let last = self.last_id;
        let id = match new {
            NewId::Auto if now_ms > last.ms => StreamId::new(now_ms, 0),
            NewId::Auto => last.next().ok_or(AddError::NotGreater)?,
            // Redis 7.0 reports an exhausted sequence as ERANGE.
            NewId::AutoSeq(ms) if ms == last.ms => {
                StreamId::new(ms, last.seq.checked_add(1).ok_or(AddError::TooLarge)?)
            }
            NewId::AutoSeq(ms) => StreamId::new(ms, 0),
            NewId::Given(id) => id,
        };
        if id <= last {
            return Err(AddError::NotGreater);
        }
        let total: usize = fields.iter().map(|f| f.as_ref().len()).sum();
        if total > LISTPACK_MAX_SIZE {
            return Err(AddError::TooLarge);
        }
        let nfields = fields.len() / 2;
        let max_bytes = match lim.stream_node_max_bytes {
            0 => LISTPACK_MAX_SIZE,
            n => n.min(LISTPACK_MAX_SIZE),
        };
        // The tail node, unless it is full: its master ID, live count and
        // whether the entry has the master's fields.
        let mut tail = None;
        if let Some((k, lp)) = self.nodes.back() {
            let full = lp.len() + total >= max_bytes
                || (lim.stream_node_max_entries > 0
                    && master(lp).is_some_and(|m| {
                        m.count.saturating_add(m.deleted) >= lim.stream_node_max_entries.min(i64::MAX as usize) as i64
                    }));
            if !full {
                let m = master(lp).ok_or(AddError::TooLarge)?;
                let mut p = m.fields_at;
                let same = m.nfields == nfields
                    && fields.iter().step_by(2).all(|f| match lp::decode(lp, p) {
                        Some((e, n)) if e.eq_bytes(f.as_ref()) => {
                            p = n;
                            true
                        }
                        _ => false,
                    });
                tail = Some((*k, m.count, same));
            }
        }
        let mut enc = Vec::with_capacity(16 + total + 4 * fields.len());
        let mut elems = 0;
        let (master_id, flags) = match tail {
            Some((k, _, same)) => (k, if same { FLAG_SAMEFIELDS } else { 0 }),
            None => {
                lp::encode_int(1, &mut enc);
                lp::encode_int(0, &mut enc);
                lp::encode_int(nfields as i64, &mut enc);
                for f in fields.iter().step_by(2) {
                    lp::encode_str(f.as_ref(), &mut enc);
                }
                lp::encode_int(0, &mut enc);
                elems += 4 + nfields;
                (id, FLAG_SAMEFIELDS)
            }
        };
        lp::encode_int(flags, &mut enc);
        lp::encode_int(id.ms.wrapping_sub(master_id.ms) as i64, &mut enc);
        lp::encode_int(id.seq.wrapping_sub(master_id.seq) as i64, &mut enc);
        let same = flags & FLAG_SAMEFIELDS != 0;
        if !same {
            lp::encode_int(nfields as i64, &mut enc);
        }
        for pair in fields.chunks_exact(2) {
            if !same {
                lp::encode_str(pair[0].as_ref(), &mut enc);
            }
            lp::encode_str(pair[1].as_ref(), &mut enc);
        }
        let lp_count = if same { nfields + 3 } else { 2 * nfields + 4 };
        lp::encode_int(lp_count as i64, &mut enc);
        elems += lp_count + 1;
        match tail {
            Some((_, count, _)) => {
                let Some((_, lp)) = self.nodes.back_mut() else { return Err(AddError::TooLarge) };
                edit(lp, |lp| {
                    lp::replace_int(lp, lp::HDR, count + 1);
                    lp::append(lp, &enc, elems);
                });
            }
            None => {
                let mut lp = lp::new_lp();
                lp::append(&mut lp, &enc, elems);
                self.push_node(id, lp.into_boxed_slice());
            }
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(id)
    }

    /// Marks entry `id` deleted (Redis's `streamDeleteItem`); a node left
    /// without live entries goes. False if there is no such live entry.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some(i) = self.node_for(id) else { return false };
        let Some((mid, lp)) = self.nodes.get_mut(i) else { return false };
        let Some(m) = master(lp) else { return false };
        let Some(r) = raw_entries(lp, *mid, &m).find(|r| r.id >= id) else { return false };
        if r.id != id || r.flags & FLAG_DELETED != 0 {
            return false;
        }
        if m.count <= 1 {
            // O(nodes) in the middle of the index at worst (a memmove of
            // 32 bytes a node), O(1) at either end.
            self.nodes.remove(i);
            self.shrink_index();
        } else {
            edit(lp, |lp| {
                lp::replace_int(lp, r.at, r.flags | FLAG_DELETED);
                mark_counts(lp, m.count - 1, m.deleted + 1);
            });
        }
        self.length = self.length.saturating_sub(1);
        true
    }

    /// XDEL: deletes the live entries among `ids`, keeping Redis's
    /// first_id and max_deleted_entry_id; returns how many went.
    pub fn delete_ids(&mut self, ids: &[StreamId]) -> usize {
        let mut deleted = 0;
        let mut first = false;
        for &id in ids {
            if self.delete(id) {
                first |= id == self.first_id;
                if id > self.max_deleted_entry_id {
                    self.max_deleted_entry_id = id;
                }
                deleted += 1;
            }
        }
        if deleted > 0 {
            if self.length == 0 {
                self.first_id = StreamId::MIN;
            } else if first {
                self.first_id = self.first_entry_id().unwrap_or(StreamId::MAX);
            }
        }
        deleted
    }

    /// Trims as Redis's `streamTrim`: whole nodes from the head while they
    /// can all go, then (unless `approx`) single entries of the next node.
    /// Returns the entries removed.
    pub fn trim(&mut self, args: &TrimArgs) -> u64 {
        let mut deleted: u64 = 0;
        loop {
            if let Trim::MaxLen(max) = args.trim {
                if self.length <= max {
                    break;
                }
            }
            let Some((mid, lp)) = self.nodes.front() else { break };
            let (mid, Some(m)) = (*mid, master(lp)) else { break };
            let entries = m.count.max(0) as u64;
            if args.limit > 0 && deleted + entries > args.limit {
                break;
            }
            let whole = match args.trim {
                Trim::MaxLen(max) => self.length.saturating_sub(entries) >= max,
                Trim::MinId(min) => raw_entries(lp, mid, &m).last().is_some_and(|r| r.id < min),
            };
            if whole {
                self.nodes.pop_front();
                self.length = self.length.saturating_sub(entries);
                deleted += entries;
                continue;
            }
            if args.approx {
                break;
            }
            let Some((_, lp)) = self.nodes.front_mut() else { break };
            let length = &mut self.length;
            let from_node = edit(lp, |lp| {
                let mut from_node = 0i64;
                let mut p = m.entries_at;
                while let Some(r) = raw_entry(lp, p, mid, &m) {
                    let stop = match args.trim {
                        Trim::MaxLen(max) => *length <= max,
                        Trim::MinId(min) => r.id >= min,
                    };
                    if stop {
                        break;
                    }
                    if r.flags & FLAG_DELETED == 0 {
                        // The flag stays one byte: nothing after it moves.
                        lp::replace_int(lp, r.at, r.flags | FLAG_DELETED);
                        from_node += 1;
                        *length = length.saturating_sub(1);
                    }
                    p = r.next;
                }
                mark_counts(lp, m.count - from_node, m.deleted + from_node);
                from_node
            });
            deleted += from_node as u64;
            break;
        }
        self.shrink_index();
        if deleted > 0 {
            self.first_id =
                if self.length == 0 { StreamId::MIN } else { self.first_entry_id().unwrap_or(StreamId::MAX) };
        }
        deleted
    }

    /// Bytes the allocator holds for the stream, with the nodes past the
    /// first `samples` estimated from their average and the last node counted
    /// as it is, as Redis's `objectComputeSize` does.
    pub fn mem_usage(&self, samples: usize) -> usize {
        use crate::alloc::block_bytes;
        let n = self.nodes.len();
        let index = block_bytes(self.nodes.capacity() * std::mem::size_of::<(StreamId, Box<[u8]>)>());
        let mut size = block_bytes(std::mem::size_of::<Stream>()) + index;
        let sizes = self.nodes.iter().map(|(_, lp)| block_bytes(lp.len()));
        let (mut k, mut sum) = (0usize, 0usize);
        for s in sizes.take(samples.max(1)) {
            k += 1;
            sum += s;
        }
        if n <= k {
            size += sum;
        } else {
            size += sum / k.max(1) * (n - 1);
            size += self.nodes.back().map_or(0, |(_, lp)| block_bytes(lp.len()));
        }
        size + self.groups.heap_bytes()
    }

    /// Adds a node read from an RDB payload or snapshot, checking it whole:
    /// a valid listpack in the node layout, its entries after every entry
    /// already loaded and its counters true. `None` for bad data.
    pub fn load_node(&mut self, master_id: StreamId, lp: Vec<u8>) -> Option<()> {
        lp::validate(&lp)?;
        let m = master(&lp)?;
        if let Some((prev, _)) = self.nodes.back() {
            if master_id <= *prev {
                return None;
            }
        }
        let mut after = self.loaded_last()?;
        let (mut live, mut dead) = (0i64, 0i64);
        let mut p = m.entries_at;
        let end = lp.len() - 1;
        while p < end {
            let r = raw_entry(&lp, p, master_id, &m)?;
            if after.is_some_and(|a| r.id <= a) || r.flags & !(FLAG_DELETED | FLAG_SAMEFIELDS) != 0 {
                return None;
            }
            // The lp-count must say how many elements the entry takes.
            let (count, _) = lp::decode(&lp, r.count_at)?;
            let want = if r.flags & FLAG_SAMEFIELDS != 0 { r.nfields + 3 } else { 2 * r.nfields + 4 };
            if count.int()? != want as i64 {
                return None;
            }
            after = Some(r.id);
            if r.flags & FLAG_DELETED != 0 {
                dead += 1;
            } else {
                live += 1;
            }
            p = r.next;
        }
        if live != m.count || dead != m.deleted || live + dead == 0 {
            return None;
        }
        self.length += live as u64;
        self.push_node(master_id, lp.into_boxed_slice());
        Some(())
    }

    /// The last entry (live or not) of the last node; `Some(None)` when there
    /// are no nodes, `None` if a node is malformed.
    fn loaded_last(&self) -> Option<Option<StreamId>> {
        let Some((mid, lp)) = self.nodes.back() else { return Some(None) };
        let m = master(lp)?;
        Some(raw_entries(lp, *mid, &m).last().map(|r| r.id))
    }
}

/// Rewrites a node's live and deleted counters.
fn mark_counts(lp: &mut Vec<u8>, count: i64, deleted: i64) {
    lp::replace_int(lp, lp::HDR, count);
    if let Some(p) = lp::skip(lp, lp::HDR) {
        lp::replace_int(lp, p, deleted);
    }
}
