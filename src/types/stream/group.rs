//! Consumer groups: each group's last delivered ID, its pending entries list
//! (PEL) and its consumers, as Redis 7.0's `streamCG`, `streamNACK` and
//! `streamConsumer` hold them; the entries-read bookkeeping behind XINFO's
//! `lag`; and the groups' RDB form inside a stream value.
//!
//! Groups and consumers are ordered by name (Redis keeps them in radix trees,
//! which XINFO and RDB walk in byte order). A pending entry names its owner
//! by a small slot number rather than by name, so a NACK costs what Redis's
//! does: delivery time, delivery count and the owner.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use super::StreamId;
use crate::cmd::keys::dump::{save_len, save_string, Reader};

/// Redis's `SCG_INVALID_ENTRIES_READ`: the group's entries-read counter is
/// not known.
pub const INVALID_ENTRIES_READ: i64 = -1;

/// RDB types of a stream value (`RDB_TYPE_STREAM_LISTPACKS*`): Redis 5-6,
/// Redis 7.0 (adds the counters and each group's entries-read), Redis 7.2
/// (adds each consumer's active time).
pub const RDB_TYPE_STREAM_LISTPACKS: u8 = 15;
pub const RDB_TYPE_STREAM_LISTPACKS_2: u8 = 19;
pub const RDB_TYPE_STREAM_LISTPACKS_3: u8 = 21;

/// What the entries-read estimate needs to know of the stream (Redis's
/// `stream` fields of the same names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamPos {
    /// Entries in the stream now.
    pub length: u64,
    /// The ID of the last entry ever added (or set with XSETID).
    pub last_id: StreamId,
    /// The ID of the first entry now in the stream (0-0 when empty).
    pub first_id: StreamId,
    /// The largest ID ever deleted (0-0 when none).
    pub max_deleted_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
}

impl StreamPos {
    /// Redis's `streamEstimateDistanceFromFirstEverEntry`: the entries-read
    /// counter of `id`, or [`INVALID_ENTRIES_READ`] when it cannot be known
    /// (an ID between the first and last entries with deletions ahead, or in
    /// the future).
    pub fn estimate_entries_read(&self, id: StreamId) -> i64 {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return added;
        }
        match id.cmp(&self.last_id) {
            std::cmp::Ordering::Equal => return added,
            std::cmp::Ordering::Greater => return INVALID_ENTRIES_READ,
            std::cmp::Ordering::Less => {}
        }
        if self.max_deleted_id == StreamId::MIN || self.max_deleted_id < self.first_id {
            match id.cmp(&self.first_id) {
                std::cmp::Ordering::Less => return added.wrapping_sub(self.length as i64),
                std::cmp::Ordering::Equal => return added.wrapping_sub(self.length as i64).wrapping_add(1),
                std::cmp::Ordering::Greater => {}
            }
        }
        INVALID_ENTRIES_READ
    }

    /// Redis's `streamRangeHasTombstones(s, start, NULL)`: whether an entry
    /// at or after `start` may have been deleted.
    pub fn has_tombstones_from(&self, start: StreamId) -> bool {
        if self.length == 0 || self.max_deleted_id == StreamId::MIN {
            return false;
        }
        if self.first_id > self.max_deleted_id {
            return false;
        }
        start <= self.max_deleted_id
    }
}

/// The consumer groups of one stream. Empty, it is one null pointer: every
/// stream holds one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Groups {
    // Boxed so that a stream without groups pays one pointer, not a map.
    #[allow(clippy::box_collection)]
    map: Option<Box<BTreeMap<Box<[u8]>, Group>>>,
}

impl Groups {
    pub fn len(&self) -> usize {
        self.map.as_ref().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, name: &[u8]) -> Option<&Group> {
        self.map.as_ref()?.get(name)
    }

    pub fn get_mut(&mut self, name: &[u8]) -> Option<&mut Group> {
        self.map.as_mut()?.get_mut(name)
    }

    /// The groups in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Group)> {
        self.map.iter().flat_map(|m| m.iter()).map(|(k, g)| (&k[..], g))
    }

    /// Redis's `streamCreateCG`: false if a group of that name exists.
    pub fn create(&mut self, name: &[u8], last_id: StreamId, entries_read: i64) -> bool {
        let map = self.map.get_or_insert_with(Default::default);
        if map.contains_key(name) {
            return false;
        }
        map.insert(name.into(), Group::new(last_id, entries_read));
        true
    }

    /// Removes a group; false if there was none.
    pub fn destroy(&mut self, name: &[u8]) -> bool {
        let Some(map) = self.map.as_mut() else { return false };
        let found = map.remove(name).is_some();
        if map.is_empty() {
            self.map = None;
        }
        found
    }

    /// Heap bytes, roughly (MEMORY USAGE).
    pub fn heap_bytes(&self) -> usize {
        const NODE: usize = 48;
        self.iter()
            .map(|(name, g)| {
                name.len()
                    + std::mem::size_of::<Group>()
                    + NODE
                    + g.pel.len() * (std::mem::size_of::<Nack>() + 16 + NODE)
                    + g.consumers.iter().flatten().map(|c| c.name.len() + 64 + c.pel.len() * (16 + NODE)).sum::<usize>()
            })
            .sum()
    }

    /// Appends the groups as Redis 7.0 writes them after a stream's entries
    /// in an `RDB_TYPE_STREAM_LISTPACKS_2` value (`rdbSaveObject`): the group
    /// count, then per group its name, last ID, entries-read, the group PEL
    /// (ID, delivery time, delivery count) and the consumers (name, seen
    /// time, the IDs they own).
    ///
    /// For the stream code's DUMP/snapshot writer: call this last, after the
    /// stream's `entries_added`, `max_deleted_entry_id` and `first_id` are
    /// written.
    pub fn write_rdb(&self, out: &mut Vec<u8>) {
        save_len(out, self.len() as u64);
        for (name, g) in self.iter() {
            save_string(out, name);
            save_len(out, g.last_id.ms);
            save_len(out, g.last_id.seq);
            // Redis saves the signed counter as an unsigned length (-1 included).
            save_len(out, g.entries_read as u64);
            save_len(out, g.pel.len() as u64);
            for (id, n) in &g.pel {
                out.extend_from_slice(&id.to_be_bytes());
                out.extend_from_slice(&n.delivery_time.to_le_bytes());
                save_len(out, n.delivery_count);
            }
            save_len(out, g.consumer_count() as u64);
            for c in g.consumers() {
                save_string(out, &c.name);
                out.extend_from_slice(&c.seen_time.to_le_bytes());
                save_len(out, c.pel.len() as u64);
                for id in &c.pel {
                    out.extend_from_slice(&id.to_be_bytes());
                }
            }
        }
    }

    /// Reads the groups of a stream value of RDB type `rdb_type` (15, 19 or
    /// 21) written as [`Groups::write_rdb`] describes, as Redis's
    /// `rdbLoadObject` does. `pos` is the stream already read: type 15 has
    /// no entries-read counters, which are estimated from it. Type 21's
    /// consumer active times (Redis 7.2) are read and dropped.
    ///
    /// For the stream code's RESTORE/snapshot reader: call it where the
    /// groups begin; any error means the payload is bad.
    pub(crate) fn read_rdb(r: &mut Reader<'_>, rdb_type: u8, pos: &StreamPos) -> Result<Groups, Corrupt> {
        let mut groups = Groups::default();
        let count = r.len().ok_or(Corrupt::TRUNCATED)?;
        for _ in 0..count {
            let name = r.string().ok_or(Corrupt::TRUNCATED)?;
            let ms = r.len().ok_or(Corrupt::TRUNCATED)?;
            let seq = r.len().ok_or(Corrupt::TRUNCATED)?;
            let last_id = StreamId::new(ms, seq);
            let entries_read = if rdb_type >= RDB_TYPE_STREAM_LISTPACKS_2 {
                r.len().ok_or(Corrupt::TRUNCATED)? as i64
            } else {
                pos.estimate_entries_read(last_id)
            };
            if !groups.create(&name, last_id, entries_read) {
                return Err(Corrupt("Duplicated consumer group name"));
            }
            let g = groups.get_mut(&name).ok_or(Corrupt::TRUNCATED)?;
            let pel = r.len().ok_or(Corrupt::TRUNCATED)?;
            for _ in 0..pel {
                let id = read_id(r)?;
                let delivery_time = read_ms(r)?;
                let delivery_count = r.len().ok_or(Corrupt::TRUNCATED)?;
                let nack = Nack { delivery_time, delivery_count, consumer: UNOWNED };
                if g.pel.insert(id, nack).is_some() {
                    return Err(Corrupt("Duplicated global PEL entry loading stream consumer group"));
                }
            }
            let consumers = r.len().ok_or(Corrupt::TRUNCATED)?;
            for _ in 0..consumers {
                let cname = r.string().ok_or(Corrupt::TRUNCATED)?;
                if g.by_name.contains_key(&cname[..]) {
                    return Err(Corrupt("Duplicate stream consumer detected."));
                }
                let seen_time = read_ms(r)?;
                if rdb_type >= RDB_TYPE_STREAM_LISTPACKS_3 {
                    read_ms(r)?;
                }
                let slot = g.add_consumer(&cname, seen_time);
                let owned = r.len().ok_or(Corrupt::TRUNCATED)?;
                for _ in 0..owned {
                    let id = read_id(r)?;
                    let nack = g.pel.get_mut(&id).ok_or(Corrupt("Consumer entry not found in group global PEL"))?;
                    if nack.consumer != UNOWNED {
                        return Err(Corrupt("Duplicated consumer PEL entry loading a stream consumer group"));
                    }
                    nack.consumer = slot;
                    if let Some(c) = g.slot_mut(slot) {
                        c.pel.insert(id);
                    }
                }
            }
            // Redis checks this only under deep sanitization, then crashes
            // later on such an entry; it is refused here.
            if g.pel.values().any(|n| n.consumer == UNOWNED) {
                return Err(Corrupt("Stream CG PEL entry without consumer"));
            }
        }
        Ok(groups)
    }
}

/// Bad RDB data for groups, with the reason Redis's loader would log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt(pub &'static str);

impl Corrupt {
    const TRUNCATED: Corrupt = Corrupt("Stream consumer groups data truncated");
}

fn read_id(r: &mut Reader<'_>) -> Result<StreamId, Corrupt> {
    let raw: [u8; 16] = r.read(16).and_then(|b| b.try_into().ok()).ok_or(Corrupt::TRUNCATED)?;
    Ok(StreamId::from_be_bytes(raw))
}

/// Redis's `rdbLoadMillisecondTime`: 8 bytes, little-endian.
fn read_ms(r: &mut Reader<'_>) -> Result<i64, Corrupt> {
    let raw: [u8; 8] = r.read(8).and_then(|b| b.try_into().ok()).ok_or(Corrupt::TRUNCATED)?;
    Ok(i64::from_le_bytes(raw))
}

/// A consumer's slot in its group (the owner of a pending entry).
pub type Slot = u32;
const UNOWNED: Slot = Slot::MAX;

/// One consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The last ID delivered to a consumer with `>`.
    pub last_id: StreamId,
    /// The group's logical reads counter, or [`INVALID_ENTRIES_READ`].
    pub entries_read: i64,
    pel: BTreeMap<StreamId, Nack>,
    /// Consumers by slot; a deleted consumer's slot is reused.
    consumers: Vec<Option<Consumer>>,
    by_name: BTreeMap<Box<[u8]>, Slot>,
}

/// A pending entry: delivered, not acknowledged yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nack {
    /// When it was last delivered, in Unix milliseconds.
    pub delivery_time: i64,
    /// How many times it was delivered.
    pub delivery_count: u64,
    /// The consumer that owns it.
    pub consumer: Slot,
}

/// A consumer of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    pub name: Box<[u8]>,
    /// When it last read or claimed (or was created), in Unix milliseconds.
    pub seen_time: i64,
    /// The IDs it owns in the group's PEL.
    pel: BTreeSet<StreamId>,
}

impl Consumer {
    pub fn pending_len(&self) -> usize {
        self.pel.len()
    }

    /// The IDs it owns, from `start` on.
    pub fn pending_from(&self, start: StreamId) -> impl Iterator<Item = StreamId> + '_ {
        self.pel.range(start..).copied()
    }
}

/// How XCLAIM sets a claimed entry's delivery count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Add one (a plain claim).
    Increment,
    /// Leave it (JUSTID).
    Keep,
    /// Set it (RETRYCOUNT).
    Set(u64),
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group { last_id, entries_read, pel: BTreeMap::new(), consumers: Vec::new(), by_name: BTreeMap::new() }
    }

    /// Entries pending in the group.
    pub fn pending_len(&self) -> usize {
        self.pel.len()
    }

    pub fn nack(&self, id: StreamId) -> Option<&Nack> {
        self.pel.get(&id)
    }

    /// The group's pending entries from `start` to `end`, both inclusive.
    pub fn pending_range(&self, start: StreamId, end: StreamId) -> impl Iterator<Item = (StreamId, &Nack)> {
        let range = if start <= end { (Bound::Included(start), Bound::Included(end)) } else { empty_range() };
        self.pel.range(range).map(|(id, n)| (*id, n))
    }

    /// The smallest and largest pending IDs.
    pub fn pending_bounds(&self) -> Option<(StreamId, StreamId)> {
        Some((*self.pel.keys().next()?, *self.pel.keys().next_back()?))
    }

    pub fn consumer_count(&self) -> usize {
        self.by_name.len()
    }

    /// The consumers in name order.
    pub fn consumers(&self) -> impl Iterator<Item = &Consumer> {
        self.by_name.values().filter_map(|&s| self.slot(s))
    }

    pub fn consumer(&self, name: &[u8]) -> Option<&Consumer> {
        self.slot(*self.by_name.get(name)?)
    }

    pub fn consumer_slot(&self, name: &[u8]) -> Option<Slot> {
        self.by_name.get(name).copied()
    }

    /// The consumer in `slot`.
    pub fn slot(&self, slot: Slot) -> Option<&Consumer> {
        self.consumers.get(slot as usize)?.as_ref()
    }

    /// The name of the consumer that owns a pending entry.
    pub fn owner(&self, nack: &Nack) -> &[u8] {
        self.slot(nack.consumer).map_or(&[], |c| &c.name)
    }

    fn slot_mut(&mut self, slot: Slot) -> Option<&mut Consumer> {
        self.consumers.get_mut(slot as usize)?.as_mut()
    }

    fn add_consumer(&mut self, name: &[u8], seen_time: i64) -> Slot {
        let c = Consumer { name: name.into(), seen_time, pel: BTreeSet::new() };
        let slot = match self.consumers.iter().position(Option::is_none) {
            Some(free) => {
                self.consumers[free] = Some(c);
                free
            }
            None => {
                self.consumers.push(Some(c));
                self.consumers.len() - 1
            }
        } as Slot;
        self.by_name.insert(name.into(), slot);
        slot
    }

    /// Redis's `streamCreateConsumer` (XGROUP CREATECONSUMER): the new
    /// consumer's slot, or None if it exists.
    pub fn create_consumer(&mut self, name: &[u8], now: i64) -> Option<Slot> {
        if self.by_name.contains_key(name) {
            return None;
        }
        Some(self.add_consumer(name, now))
    }

    /// Redis's `streamLookupConsumer` that refreshes the seen time, creating
    /// the consumer if missing: its slot and whether it was created.
    pub fn touch_consumer(&mut self, name: &[u8], now: i64) -> (Slot, bool) {
        match self.by_name.get(name) {
            Some(&slot) => {
                if let Some(c) = self.slot_mut(slot) {
                    c.seen_time = now;
                }
                (slot, false)
            }
            None => (self.add_consumer(name, now), true),
        }
    }

    /// Redis's `streamDelConsumer`: removes the consumer and its pending
    /// entries; how many it had, or None if there was no such consumer.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let slot = self.by_name.remove(name)?;
        let c = self.consumers.get_mut(slot as usize).and_then(Option::take)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        while self.consumers.last().is_some_and(Option::is_none) {
            self.consumers.pop();
        }
        Some(c.pel.len())
    }

    /// Delivers the new entry `id` to `to` (XREADGROUP `>`): a pending entry
    /// with one delivery, taken from another owner if the group had it
    /// pending already (after XGROUP SETID moved back).
    pub fn deliver(&mut self, id: StreamId, to: Slot, now: i64) -> Nack {
        let nack = Nack { delivery_time: now, delivery_count: 1, consumer: to };
        if let Some(old) = self.pel.insert(id, nack) {
            if old.consumer != to {
                if let Some(Some(c)) = self.consumers.get_mut(old.consumer as usize) {
                    c.pel.remove(&id);
                }
            }
        }
        if let Some(c) = self.slot_mut(to) {
            c.pel.insert(id);
        }
        nack
    }

    /// Delivers a pending entry again (XREADGROUP with a history ID): one
    /// more delivery, now.
    pub fn redeliver(&mut self, id: StreamId, now: i64) {
        if let Some(n) = self.pel.get_mut(&id) {
            n.delivery_time = now;
            n.delivery_count = n.delivery_count.saturating_add(1);
        }
    }

    /// Removes `id` from the PEL and from its owner's (XACK, or an entry
    /// deleted from the stream); false if it was not pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        let Some(n) = self.pel.remove(&id) else { return false };
        if let Some(Some(c)) = self.consumers.get_mut(n.consumer as usize) {
            c.pel.remove(&id);
        }
        true
    }

    /// Gives the pending entry `id` to `to` (XCLAIM, XAUTOCLAIM), creating
    /// it if it was not pending (FORCE): sets its delivery time and count.
    pub fn claim(&mut self, id: StreamId, to: Slot, delivery_time: i64, retry: Retry) -> Nack {
        let mut old_owner = None;
        let n = self.pel.entry(id).or_insert(Nack { delivery_time, delivery_count: 0, consumer: UNOWNED });
        if n.consumer != to {
            old_owner = Some(n.consumer);
            n.consumer = to;
        }
        n.delivery_time = delivery_time;
        match retry {
            Retry::Increment => n.delivery_count = n.delivery_count.saturating_add(1),
            Retry::Keep => {}
            Retry::Set(v) => n.delivery_count = v,
        }
        let nack = *n;
        if let Some(old) = old_owner {
            if let Some(Some(c)) = self.consumers.get_mut(old as usize) {
                c.pel.remove(&id);
            }
            if let Some(c) = self.slot_mut(to) {
                c.pel.insert(id);
            }
        }
        nack
    }

    /// The group read the new entry `id` (XREADGROUP `>`): moves the last
    /// delivered ID and keeps the entries-read counter, as Redis's
    /// `streamReplyWithRange` does. False if `id` is not past the last ID.
    pub fn advance(&mut self, id: StreamId, pos: &StreamPos) -> bool {
        if id <= self.last_id {
            return false;
        }
        if self.entries_read != INVALID_ENTRIES_READ && !pos.has_tombstones_from(id) {
            self.entries_read = self.entries_read.wrapping_add(1);
        } else if pos.entries_added != 0 {
            self.entries_read = pos.estimate_entries_read(id);
        }
        self.last_id = id;
        true
    }

    /// Redis's `streamReplyWithCGLag`: entries added to the stream the group
    /// has not read yet, or None when that cannot be known.
    pub fn lag(&self, pos: &StreamPos) -> Option<i64> {
        let added = pos.entries_added as i64;
        if pos.entries_added == 0 {
            return Some(0);
        }
        if self.entries_read != INVALID_ENTRIES_READ && !pos.has_tombstones_from(self.last_id) {
            return Some(added.wrapping_sub(self.entries_read));
        }
        match pos.estimate_entries_read(self.last_id) {
            INVALID_ENTRIES_READ => None,
            read => Some(added.wrapping_sub(read)),
        }
    }
}

/// A range no ID falls in (for a start past the end, which BTreeMap refuses).
fn empty_range() -> (Bound<StreamId>, Bound<StreamId>) {
    (Bound::Included(StreamId::MIN), Bound::Excluded(StreamId::MIN))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    #[test]
    fn empty_groups_are_one_pointer() {
        assert_eq!(std::mem::size_of::<Groups>(), std::mem::size_of::<usize>());
        assert_eq!(std::mem::size_of::<Nack>(), 24);
    }

    #[test]
    fn groups_in_name_order() {
        let mut gs = Groups::default();
        assert!(gs.create(b"b", id(1, 0), INVALID_ENTRIES_READ));
        assert!(gs.create(b"a", id(0, 0), 0));
        assert!(!gs.create(b"a", id(5, 0), 0));
        assert_eq!(gs.iter().map(|(n, _)| n.to_vec()).collect::<Vec<_>>(), vec![b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(gs.get(b"a").unwrap().last_id, id(0, 0));
        assert!(gs.destroy(b"a"));
        assert!(!gs.destroy(b"a"));
        assert!(gs.destroy(b"b"));
        assert!(gs.map.is_none());
    }

    #[test]
    fn deliver_ack_claim_and_delete() {
        let mut g = Group::new(StreamId::MIN, 0);
        let (alice, created) = g.touch_consumer(b"alice", 100);
        assert!(created);
        let (bob, _) = g.touch_consumer(b"bob", 100);
        assert_eq!(g.create_consumer(b"bob", 5), None);
        g.deliver(id(1, 0), alice, 100);
        g.deliver(id(2, 0), alice, 100);
        g.deliver(id(3, 0), bob, 110);
        assert_eq!(g.pending_len(), 3);
        assert_eq!(g.consumer(b"alice").unwrap().pending_len(), 2);
        // Delivered again as new after SETID: the entry changes owner.
        g.deliver(id(2, 0), bob, 120);
        assert_eq!(g.consumer(b"alice").unwrap().pending_len(), 1);
        assert_eq!(g.owner(g.nack(id(2, 0)).unwrap()), b"bob");
        g.redeliver(id(2, 0), 130);
        assert_eq!(g.nack(id(2, 0)).unwrap().delivery_count, 2);
        // Claims.
        let n = g.claim(id(1, 0), bob, 140, Retry::Increment);
        assert_eq!((n.delivery_count, n.delivery_time), (2, 140));
        assert_eq!(g.consumer(b"alice").unwrap().pending_len(), 0);
        let n = g.claim(id(9, 0), alice, 150, Retry::Set(7));
        assert_eq!(n.delivery_count, 7);
        let n = g.claim(id(9, 0), alice, 160, Retry::Keep);
        assert_eq!(n.delivery_count, 7);
        assert_eq!(g.pending_bounds(), Some((id(1, 0), id(9, 0))));
        assert_eq!(g.pending_range(id(2, 0), id(3, 0)).count(), 2);
        assert_eq!(g.pending_range(id(3, 0), id(2, 0)).count(), 0);
        assert!(g.ack(id(3, 0)));
        assert!(!g.ack(id(3, 0)));
        assert_eq!(g.delete_consumer(b"bob"), Some(2));
        assert_eq!(g.delete_consumer(b"bob"), None);
        assert_eq!(g.pending_len(), 1);
        // The slot is reused.
        let (carol, _) = g.touch_consumer(b"carol", 200);
        assert_eq!(carol, bob);
        assert_eq!(g.consumers().map(|c| &c.name[..]).collect::<Vec<_>>(), vec![&b"alice"[..], b"carol"]);
        assert_eq!(g.consumer(b"carol").unwrap().pending_len(), 0);
    }

    fn pos(length: u64, first: StreamId, last: StreamId, max_deleted: StreamId, added: u64) -> StreamPos {
        StreamPos { length, last_id: last, first_id: first, max_deleted_id: max_deleted, entries_added: added }
    }

    #[test]
    fn entries_read_and_lag() {
        // Never written.
        let p = pos(0, StreamId::MIN, StreamId::MIN, StreamId::MIN, 0);
        assert_eq!(p.estimate_entries_read(id(5, 0)), 0);
        // Three entries 1..3, none deleted.
        let p = pos(3, id(1, 0), id(3, 0), StreamId::MIN, 3);
        assert_eq!(p.estimate_entries_read(id(3, 0)), 3);
        assert_eq!(p.estimate_entries_read(id(4, 0)), INVALID_ENTRIES_READ);
        assert_eq!(p.estimate_entries_read(id(1, 0)), 1);
        assert_eq!(p.estimate_entries_read(id(0, 0)), 0);
        assert_eq!(p.estimate_entries_read(id(2, 0)), INVALID_ENTRIES_READ);
        let mut g = Group::new(StreamId::MIN, INVALID_ENTRIES_READ);
        assert_eq!(g.lag(&p), Some(3));
        assert!(g.advance(id(1, 0), &p));
        assert_eq!((g.entries_read, g.lag(&p)), (1, Some(2)));
        assert!(g.advance(id(2, 0), &p));
        assert_eq!(g.lag(&p), Some(1));
        assert!(!g.advance(id(2, 0), &p));
        // Entry 2 deleted: the counter ahead of it is not trusted.
        let p = pos(2, id(1, 0), id(3, 0), id(2, 0), 3);
        let g = Group::new(id(1, 0), 1);
        assert_eq!(g.lag(&p), None);
        let g = Group::new(id(3, 0), 3);
        assert_eq!(g.lag(&p), Some(0));
        // An emptied stream.
        let p = pos(0, StreamId::MIN, id(1, 1), id(1, 1), 1);
        assert_eq!(Group::new(StreamId::MIN, INVALID_ENTRIES_READ).lag(&p), Some(0));
    }

    fn sample() -> Groups {
        let mut gs = Groups::default();
        gs.create(b"g1", id(3, 0), 3);
        gs.create(b"g0", id(0, 0), INVALID_ENTRIES_READ);
        let g = gs.get_mut(b"g1").unwrap();
        let a = g.create_consumer(b"alice", 1_700_000_000_000).unwrap();
        let b = g.create_consumer(b"12345", 1_700_000_000_001).unwrap();
        g.create_consumer(b"idle", 1_700_000_000_002);
        g.deliver(id(1, 0), a, 1_700_000_000_010);
        g.deliver(id(2, 0), b, 1_700_000_000_020);
        g.claim(id(3, 0), a, 1_700_000_000_030, Retry::Set(1000));
        gs
    }

    #[test]
    fn rdb_round_trip() {
        let gs = sample();
        let mut out = Vec::new();
        gs.write_rdb(&mut out);
        let p = StreamPos::default();
        let back = Groups::read_rdb(&mut Reader::new(&out), RDB_TYPE_STREAM_LISTPACKS_2, &p).unwrap();
        assert_eq!(back.len(), 2);
        let (g, h) = (gs.get(b"g1").unwrap(), back.get(b"g1").unwrap());
        assert_eq!((h.last_id, h.entries_read), (g.last_id, g.entries_read));
        assert_eq!(back.get(b"g0").unwrap().entries_read, INVALID_ENTRIES_READ);
        let pel = |g: &Group| {
            g.pending_range(StreamId::MIN, StreamId::MAX)
                .map(|(id, n)| (id, n.delivery_time, n.delivery_count, g.owner(n).to_vec()))
                .collect::<Vec<_>>()
        };
        assert_eq!(pel(g), pel(h));
        let cons =
            |g: &Group| g.consumers().map(|c| (c.name.to_vec(), c.seen_time, c.pending_len())).collect::<Vec<_>>();
        assert_eq!(cons(g), cons(h));
        // Writing again gives the same bytes.
        let mut again = Vec::new();
        back.write_rdb(&mut again);
        assert_eq!(out, again);
    }

    #[test]
    fn rdb_bytes_as_redis() {
        // One group "g" at 5-1 having read 2, one entry pending for consumer "c".
        let mut gs = Groups::default();
        gs.create(b"g", id(5, 1), 2);
        let g = gs.get_mut(b"g").unwrap();
        let c = g.create_consumer(b"c", 0x0102).unwrap();
        g.deliver(id(5, 1), c, 0x0304);
        let mut out = Vec::new();
        gs.write_rdb(&mut out);
        let mut want = vec![1, 1, b'g', 5, 1, 2, 1];
        want.extend_from_slice(&id(5, 1).to_be_bytes());
        want.extend_from_slice(&0x0304i64.to_le_bytes());
        want.extend_from_slice(&[1, 1, 1, b'c']);
        want.extend_from_slice(&0x0102i64.to_le_bytes());
        want.push(1);
        want.extend_from_slice(&id(5, 1).to_be_bytes());
        assert_eq!(out, want);
    }

    #[test]
    fn rdb_types_and_corruption() {
        let gs = sample();
        let mut out = Vec::new();
        gs.write_rdb(&mut out);
        // Type 15 has no entries-read: it is estimated from the stream.
        let mut v15 = vec![1, 2, b'g', b'x', 3, 0];
        v15.extend_from_slice(&[0, 0]);
        let p = pos(3, id(1, 0), id(3, 0), StreamId::MIN, 3);
        let back = Groups::read_rdb(&mut Reader::new(&v15), RDB_TYPE_STREAM_LISTPACKS, &p).unwrap();
        assert_eq!(back.get(b"gx").unwrap().entries_read, 3);
        // Type 21 carries an active time after the seen time.
        let mut v21 = vec![1, 1, b'g', 3, 0, 3, 0, 1, 1, b'c'];
        v21.extend_from_slice(&7i64.to_le_bytes());
        v21.extend_from_slice(&8i64.to_le_bytes());
        v21.push(0);
        let back = Groups::read_rdb(&mut Reader::new(&v21), RDB_TYPE_STREAM_LISTPACKS_3, &p).unwrap();
        assert_eq!(back.get(b"g").unwrap().consumer(b"c").unwrap().seen_time, 7);
        // Every truncation is an error, never a panic.
        for n in 0..out.len() {
            assert!(Groups::read_rdb(&mut Reader::new(&out[..n]), RDB_TYPE_STREAM_LISTPACKS_2, &p).is_err());
        }
        // A pending entry nobody owns, and a consumer owning an unknown entry.
        let mut orphan = vec![1, 1, b'g', 0, 0, 0, 1];
        orphan.extend_from_slice(&id(1, 0).to_be_bytes());
        orphan.extend_from_slice(&0i64.to_le_bytes());
        orphan.extend_from_slice(&[1, 0]);
        assert!(Groups::read_rdb(&mut Reader::new(&orphan), RDB_TYPE_STREAM_LISTPACKS_2, &p).is_err());
        let mut unknown = vec![1, 1, b'g', 0, 0, 0, 0, 1, 1, b'c'];
        unknown.extend_from_slice(&0i64.to_le_bytes());
        unknown.push(1);
        unknown.extend_from_slice(&id(1, 0).to_be_bytes());
        assert!(Groups::read_rdb(&mut Reader::new(&unknown), RDB_TYPE_STREAM_LISTPACKS_2, &p).is_err());
        // Duplicate group names.
        let dup = vec![2, 1, b'g', 0, 0, 0, 0, 0, 1, b'g', 0, 0, 0, 0, 0];
        assert_eq!(
            Groups::read_rdb(&mut Reader::new(&dup), RDB_TYPE_STREAM_LISTPACKS_2, &p),
            Err(Corrupt("Duplicated consumer group name"))
        );
    }
}
