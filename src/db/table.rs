//! The keyspace table: extendible hashing over small open-addressing segments.
//!
//! A directory indexed by the top bits of a key's hash points at segments
//! (`segment.rs`). A segment grows in small steps up to [`SEGMENT_MAX_CAPACITY`]
//! slots and then splits in two by the next hash bit, so no insert ever moves
//! more than one segment's entries, and the table stays 72-90% full at any size.
//! Segments never merge, which keeps SCAN cursors (hash prefixes) stable.

use super::entry::Entry;
use super::segment::{capacity_for, Segment};

/// Largest segment before it splits instead of growing (slots). A split or a
/// growth rehashes every key of one segment, and each key is a cache (and TLB)
/// miss: at 10M keys that is about 0.2 us a key here, so 511 slots (459 keys
/// at most) keep a resize's own work near 0.1 ms, and under 0.35 ms for
/// 99.9% of them (`benches/growth.rs`). Smaller segments cost 48 bytes each
/// (a hundredth of a byte a key) and a larger directory.
pub const SEGMENT_MAX_CAPACITY: usize = 511;
/// Entries a segment holds at most (90% of its largest capacity).
pub const SEGMENT_MAX: usize = SEGMENT_MAX_CAPACITY * 9 / 10;
/// Bits of hash prefix used in SCAN cursors.
pub const CURSOR_BITS: u32 = 40;

struct Seg {
    depth: u32,
    map: Segment,
    /// Entries with an expiry, so active expiry can skip segments without any.
    volatile: u32,
}

/// Where an entry lives: valid until the table is next changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    seg: usize,
    slot: usize,
}

/// What one look at a segment's volatile keys found.
#[derive(Debug, Default, Clone, Copy)]
pub struct ExpireSample {
    pub checked: usize,
    /// Remaining TTL of the live volatile keys seen, for INFO's avg_ttl.
    pub ttl_sum: u64,
    pub ttl_count: u64,
}

pub struct Table {
    hasher: ahash::RandomState,
    dir: Vec<u32>,
    global_depth: u32,
    segs: Vec<Seg>,
    len: usize,
    volatile: usize,
    /// Segment growths and splits so far (for the growth benchmark).
    resizes: u64,
}

impl Default for Table {
    fn default() -> Self {
        Self::new()
    }
}

impl Table {
    pub fn new() -> Self {
        Table {
            hasher: ahash::RandomState::new(),
            dir: Vec::new(),
            global_depth: 0,
            segs: Vec::new(),
            len: 0,
            volatile: 0,
            resizes: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keys that carry an expiry.
    pub fn volatile_len(&self) -> usize {
        self.volatile
    }

    #[inline]
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The directory uses the top bits of the hash; segments use the low 40.
    #[inline]
    fn seg_index(&self, hash: u64) -> usize {
        if self.global_depth == 0 {
            0
        } else {
            self.dir[(hash >> (64 - self.global_depth)) as usize] as usize
        }
    }

    /// Starts loading the tag and slot lines a lookup of the key with hash `h`
    /// (from [`Table::hash`]) will touch first.
    #[inline]
    pub fn prefetch(&self, h: u64) {
        if !self.segs.is_empty() {
            self.segs[self.seg_index(h)].map.prefetch(h);
        }
    }

    /// Starts loading the entry of the key with hash `h`, after `prefetch(h)`.
    #[inline]
    pub fn prefetch_entry(&self, h: u64) {
        if !self.segs.is_empty() {
            self.segs[self.seg_index(h)].map.prefetch_entry(h);
        }
    }

    /// Where `key` lives, found with one hash and one probe sequence.
    pub fn find(&self, key: &[u8]) -> Option<Pos> {
        if self.segs.is_empty() {
            return None;
        }
        let h = self.hash(key);
        let seg = self.seg_index(h);
        let slot = self.segs[seg].map.find(h, key)?;
        Some(Pos { seg, slot })
    }

    pub fn at(&self, p: Pos) -> Option<&Entry> {
        self.segs.get(p.seg)?.map.get(p.slot)
    }

    /// Mutable access for edits that keep the entry's expiry flag (access data,
    /// same-length value edits). Expiry changes go through [`Table::insert`].
    pub fn at_mut(&mut self, p: Pos) -> Option<&mut Entry> {
        self.segs.get_mut(p.seg)?.map.get_mut(p.slot)
    }

    /// Removes the entry at `p`.
    pub fn remove_at(&mut self, p: Pos) -> Option<Entry> {
        let hasher = &self.hasher;
        let seg = self.segs.get_mut(p.seg)?;
        let e = seg.map.remove_at(p.slot, |e| hasher.hash_one(e.key()))?;
        if e.expire_at().is_some() {
            seg.volatile -= 1;
            self.volatile -= 1;
        }
        self.len -= 1;
        Some(e)
    }

    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.at(self.find(key)?)
    }

    /// See [`Table::at_mut`].
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let p = self.find(key)?;
        self.at_mut(p)
    }

    /// Inserts `entry`, replacing and returning any entry with the same key.
    pub fn insert(&mut self, entry: Entry) -> Option<Entry> {
        if self.segs.is_empty() {
            self.segs.push(Seg { depth: 0, map: Segment::with_capacity(0), volatile: 0 });
        }
        let h = self.hash(entry.key());
        let mut s = self.seg_index(h);
        let new_volatile = entry.expire_at().is_some() as u32;
        if let Some(slot) = self.segs[s].map.find(h, entry.key()) {
            let old = self.segs[s].map.replace(slot, entry)?;
            let old_volatile = old.expire_at().is_some() as u32;
            self.segs[s].volatile = self.segs[s].volatile + new_volatile - old_volatile;
            self.volatile = self.volatile + new_volatile as usize - old_volatile as usize;
            return Some(old);
        }
        if self.segs[s].map.is_full() {
            if self.segs[s].map.capacity() >= SEGMENT_MAX_CAPACITY && self.segs[s].depth < 40 {
                self.split(s, h);
                s = self.seg_index(h);
            } else {
                self.grow(s);
            }
        }
        self.segs[s].map.insert_new(h, entry);
        self.segs[s].volatile += new_volatile;
        self.volatile += new_volatile as usize;
        self.len += 1;
        None
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let p = self.find(key)?;
        self.remove_at(p)
    }

    /// Drops every entry.
    pub fn clear(&mut self) {
        *self = Table { hasher: self.hasher.clone(), ..Table::new() };
    }

    /// Segment growths and splits since the table was made: each one moved
    /// one segment's entries.
    pub fn resize_count(&self) -> u64 {
        self.resizes
    }

    /// Moves segment `s` into the next capacity step.
    fn grow(&mut self, s: usize) {
        self.resizes += 1;
        let mut bigger = Segment::with_capacity(self.segs[s].map.capacity() + 1);
        let hasher = &self.hasher;
        for e in self.segs[s].map.drain() {
            bigger.insert_new(hasher.hash_one(e.key()), e);
        }
        self.segs[s].map = bigger;
    }

    /// Splits segment `s` by the next hash bit, doubling the directory if needed.
    fn split(&mut self, s: usize, h: u64) {
        self.resizes += 1;
        let depth = self.segs[s].depth;
        if depth == self.global_depth {
            let old = std::mem::take(&mut self.dir);
            self.dir = if old.is_empty() { vec![0, 0] } else { old.iter().flat_map(|&x| [x, x]).collect() };
            self.global_depth += 1;
        }
        let new_index = self.segs.len() as u32;
        let bit = 1u64 << (63 - depth);
        let half = capacity_for(self.segs[s].map.len() / 2 + 1);
        let hasher = &self.hasher;
        let mut low = Segment::with_capacity(half);
        let mut high = Segment::with_capacity(half);
        let (mut vlow, mut vhigh) = (0u32, 0u32);
        for e in self.segs[s].map.drain() {
            let eh = hasher.hash_one(e.key());
            let vol = e.expire_at().is_some() as u32;
            let (seg, v) = if eh & bit == 0 { (&mut low, &mut vlow) } else { (&mut high, &mut vhigh) };
            if seg.is_full() {
                // A skewed split: give that half the next capacity step.
                let mut bigger = Segment::with_capacity(seg.capacity() + 1);
                for moved in seg.drain() {
                    bigger.insert_new(hasher.hash_one(moved.key()), moved);
                }
                *seg = bigger;
            }
            *v += vol;
            seg.insert_new(eh, e);
        }
        self.segs[s] = Seg { depth: depth + 1, map: low, volatile: vlow };
        self.segs.push(Seg { depth: depth + 1, map: high, volatile: vhigh });
        // Directory slots of `s` whose next bit is 1 now point at the new segment.
        let gd = self.global_depth;
        let span = 1usize << (gd - depth);
        let first = ((h >> (63 - depth) >> 1) as usize) << (gd - depth);
        for slot in &mut self.dir[first + span / 2..first + span] {
            *slot = new_index;
        }
    }

    /// Visits whole segments from SCAN position `pos` (a [`CURSOR_BITS`]-bit hash
    /// prefix), calling `f` for each entry, until `f` has been given at least
    /// `count` entries or `max_segments` were visited. Returns the next position,
    /// or `None` when the table has been covered.
    pub fn scan(&self, mut pos: u64, count: usize, max_segments: usize, mut f: impl FnMut(&Entry)) -> Option<u64> {
        if self.segs.is_empty() {
            return None;
        }
        let end = 1u64 << CURSOR_BITS;
        let mut seen = 0;
        let mut visited = 0;
        while pos < end {
            let s = if self.global_depth == 0 {
                0
            } else {
                self.dir[(pos >> (CURSOR_BITS - self.global_depth)) as usize] as usize
            };
            let seg = &self.segs[s];
            seg.map.iter().for_each(&mut f);
            seen += seg.map.len();
            visited += 1;
            let width = CURSOR_BITS - seg.depth;
            pos = ((pos >> width) + 1) << width;
            if seen >= count || visited >= max_segments {
                break;
            }
        }
        (pos < end).then_some(pos)
    }

    /// [`Table::scan`] with mutable entries (to set their snapshot marks).
    pub fn scan_mut(&mut self, mut pos: u64, count: usize, mut f: impl FnMut(&mut Entry)) -> Option<u64> {
        if self.segs.is_empty() {
            return None;
        }
        let end = 1u64 << CURSOR_BITS;
        let mut seen = 0;
        while pos < end {
            let s = if self.global_depth == 0 {
                0
            } else {
                self.dir[(pos >> (CURSOR_BITS - self.global_depth)) as usize] as usize
            };
            let seg = &mut self.segs[s];
            for slot in 0..seg.map.capacity() {
                if let Some(e) = seg.map.get_mut(slot) {
                    f(e);
                }
            }
            seen += seg.map.len();
            let width = CURSOR_BITS - seg.depth;
            pos = ((pos >> width) + 1) << width;
            if seen >= count {
                break;
            }
        }
        (pos < end).then_some(pos)
    }

    /// A key picked at random (each about as likely), using `r` as the
    /// source of randomness: one [`Table::sample`].
    pub fn random_entry(&self, r: impl FnMut() -> u64) -> Option<&Entry> {
        let mut picked = None;
        self.sample(1, false, r, |e| picked = Some(e));
        picked
    }

    /// Segments in storage order, for active expiry's round robin. Returns the
    /// keys of expired entries among segment `s` (at most `limit`) and whether the
    /// segment holds volatile keys at all.
    pub fn expired_in_segment(&self, s: usize, now_ms: u64, limit: usize, out: &mut Vec<Vec<u8>>) -> ExpireSample {
        let mut sample = ExpireSample::default();
        let Some(seg) = self.segs.get(s) else {
            return sample;
        };
        if seg.volatile == 0 {
            return sample;
        }
        for e in seg.map.iter() {
            if let Some(at) = e.expire_at() {
                sample.checked += 1;
                if at <= now_ms {
                    out.push(e.key().to_vec());
                    if out.len() >= limit {
                        break;
                    }
                } else {
                    sample.ttl_sum += at - now_ms;
                    sample.ttl_count += 1;
                }
            }
        }
        sample
    }

    pub fn segment_count(&self) -> usize {
        self.segs.len()
    }

    /// Bytes the table itself takes beyond its entries: the directory, the
    /// segment list and every segment's slot arrays (Redis's
    /// `overhead.hashtable.main`).
    pub fn overhead_bytes(&self) -> usize {
        self.dir.capacity() * std::mem::size_of::<u32>()
            + self.segs.capacity() * std::mem::size_of::<Seg>()
            + self.segs.iter().map(|s| s.map.memory_bytes()).sum::<usize>()
    }

    /// Eviction sampling (as Redis's `dictGetSomeKeys` feeds its eviction
    /// pool): hands `f` up to `n` entries (only those with an expiry if
    /// `volatile_only`) of one segment picked by a random hash, so each key is
    /// as likely to be seen whatever its segment's size. Each entry is the
    /// first candidate at or after its own random slot, so a sample does not
    /// see one cluster of neighbours (say, keys written together) more than
    /// any other keys. `r` is the source of randomness. Returns how many
    /// entries `f` was given (an entry may come twice).
    pub fn sample<'a>(
        &'a self,
        n: usize,
        volatile_only: bool,
        mut r: impl FnMut() -> u64,
        mut f: impl FnMut(&'a Entry),
    ) -> usize {
        if self.len == 0 || (volatile_only && self.volatile == 0) {
            return 0;
        }
        let has_candidates = |s: &Seg| !s.map.is_empty() && (!volatile_only || s.volatile > 0);
        // A few random hashes, then the first segment that has candidates.
        let Some(s) =
            (0..8).map(|_| self.seg_index(r())).chain(0..self.segs.len()).find(|&s| has_candidates(&self.segs[s]))
        else {
            return 0;
        };
        let map = &self.segs[s].map;
        let cap = map.capacity();
        // A random slot holding a candidate (up to 8 tries, which with the
        // table 72-90% full nearly always find one, so every entry is as
        // likely); failing that, the first candidate after the last try.
        // Slots looked at in all: at most twice the segment's capacity, as
        // volatile keys may be few and far between.
        let is_candidate = |e: &&Entry| !volatile_only || e.expire_at().is_some();
        let mut budget = 2 * cap;
        let mut given = 0;
        while given < n && budget > 0 {
            let mut slot = 0;
            let mut found = None;
            for _ in 0..8.min(budget) {
                budget -= 1;
                slot = (r() % cap as u64) as usize;
                found = map.get(slot).filter(is_candidate);
                if found.is_some() {
                    break;
                }
            }
            if found.is_none() {
                for i in 1..cap.min(budget + 1) {
                    budget -= 1;
                    found = map.get((slot + i) % cap).filter(is_candidate);
                    if found.is_some() {
                        break;
                    }
                }
            }
            let Some(e) = found else { break };
            f(e);
            given += 1;
        }
        given
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.segs.iter().flat_map(|s| s.map.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::entry::StrEncoding;
    use std::collections::HashSet;

    fn ent(k: &str, exp: Option<u64>) -> Entry {
        Entry::new_string(k.as_bytes(), b"v", StrEncoding::Embstr, exp)
    }

    #[test]
    fn insert_get_remove_many() {
        let mut t = Table::new();
        for i in 0..20_000 {
            assert!(t.insert(ent(&format!("key:{i}"), (i % 3 == 0).then_some(i as u64))).is_none());
        }
        assert_eq!(t.len(), 20_000);
        assert!(t.segment_count() > 4);
        assert_eq!(t.volatile_len(), (0..20_000).filter(|i| i % 3 == 0).count());
        for i in 0..20_000 {
            assert!(t.get(format!("key:{i}").as_bytes()).is_some(), "{i}");
        }
        for i in (0..20_000).step_by(2) {
            assert!(t.remove(format!("key:{i}").as_bytes()).is_some());
        }
        assert_eq!(t.len(), 10_000);
        assert!(t.get(b"key:2").is_none());
        assert_eq!(super::super::segment::slots_for(SEGMENT_MAX_CAPACITY), SEGMENT_MAX_CAPACITY);
        assert!(t.insert(ent("key:1", None)).is_some());
    }

    #[test]
    fn scan_sees_every_key_once_despite_splits() {
        let mut t = Table::new();
        for i in 0..3000 {
            t.insert(ent(&format!("a{i}"), None));
        }
        let mut seen = HashSet::new();
        let mut pos = 0;
        let mut round = 0;
        loop {
            let next = t.scan(pos, 10, 1, |e| {
                assert!(seen.insert(e.key().to_vec()), "duplicate");
            });
            // Grow the table while a scan is under way.
            for j in 0..500 {
                t.insert(ent(&format!("b{round}-{j}"), None));
            }
            round += 1;
            match next {
                Some(p) => pos = p,
                None => break,
            }
        }
        for i in 0..3000 {
            assert!(seen.contains(format!("a{i}").as_bytes()));
        }
    }

    /// The shards' generator, seeded, for the sampling tests.
    fn rng(mut state: u64) -> impl FnMut() -> u64 {
        move || crate::shard::xorshift(&mut state)
    }

    #[test]
    fn sampling_sees_every_part_of_the_table_alike() {
        let mut t = Table::new();
        for i in 0..50_000 {
            t.insert(ent(&format!("k{i}"), None));
        }
        // Deletions leave runs of empty slots behind some keys.
        for i in (0..50_000).filter(|i| i % 10 < 5 && i % 7 != 0) {
            t.remove(format!("k{i}").as_bytes());
        }
        let mut r = rng(7);
        let mut seen = std::collections::HashMap::new();
        let mut given = 0;
        for _ in 0..20_000 {
            given += t.sample(5, false, &mut r, |e| *seen.entry(e.key().to_vec()).or_insert(0usize) += 1);
        }
        assert_eq!(given, 100_000);
        // Each live key is about as likely to be picked: 3.5 picks each on
        // average, so about 97% of them are seen and none very often.
        let live = t.len() as f64;
        assert!(seen.len() as f64 > live * 0.94, "{} of {live} keys seen", seen.len());
        let most = seen.values().max().copied().unwrap_or(0);
        assert!(most <= 20, "a key picked {most} times");
        // RANDOMKEY's pick is one such sample: 20,000 picks of ~28,600 keys
        // see about half of them (1 - e^-0.7) when each is as likely.
        let picks: HashSet<Vec<u8>> =
            (0..20_000).filter_map(|_| t.random_entry(&mut r)).map(|e| e.key().to_vec()).collect();
        assert!(picks.len() as f64 > live * 0.46, "{} distinct of {live}", picks.len());
    }

    #[test]
    fn volatile_sampling_finds_sparse_expiring_keys() {
        let mut t = Table::new();
        for i in 0..20_000 {
            t.insert(ent(&format!("k{i}"), (i % 5_000 == 0).then_some(1_000 + i as u64)));
        }
        let mut r = rng(11);
        let mut seen = HashSet::new();
        for _ in 0..200 {
            let n = t.sample(3, true, &mut r, |e| {
                assert!(e.expire_at().is_some(), "a key without a TTL");
                seen.insert(e.key().to_vec());
            });
            assert!(n > 0);
        }
        assert_eq!(seen.len(), 4);
        let mut empty = Table::new();
        empty.insert(ent("p", None));
        assert_eq!(empty.sample(5, true, &mut r, |_| panic!("no volatile key")), 0);
    }
}
