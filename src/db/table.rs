//! The keyspace table: extendible hashing over small hashbrown segments.
//!
//! A directory indexed by the top bits of a key's hash points at segments of at
//! most [`SEGMENT_MAX`] entries. A full segment splits in two, moving at most
//! `SEGMENT_MAX` entries, so no insert ever pays for rehashing the whole keyspace.
//! Segments never merge, which keeps SCAN cursors (hash prefixes) stable.

use hashbrown::HashTable;

use super::entry::Entry;

/// Entries a segment holds before it splits: 7/8 of 2048 buckets.
pub const SEGMENT_MAX: usize = 1792;
/// Below this many entries a segment with no room left rehashes in place instead.
const SPLIT_MIN: usize = SEGMENT_MAX / 2;
/// Bits of hash prefix used in SCAN cursors.
pub const CURSOR_BITS: u32 = 40;

struct Segment {
    depth: u32,
    map: HashTable<Entry>,
    /// Entries with an expiry, so active expiry can skip segments without any.
    volatile: u32,
}

/// The hash bits below hashbrown's 7-bit tag, as a prefix in the top bits.
#[inline]
fn prefix(hash: u64) -> u64 {
    hash << 7
}

pub struct Table {
    hasher: ahash::RandomState,
    dir: Vec<u32>,
    global_depth: u32,
    segs: Vec<Segment>,
    len: usize,
    volatile: usize,
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

    #[inline]
    fn seg_index(&self, hash: u64) -> usize {
        if self.global_depth == 0 {
            0
        } else {
            self.dir[(prefix(hash) >> (64 - self.global_depth)) as usize] as usize
        }
    }

    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        if self.segs.is_empty() {
            return None;
        }
        let h = self.hash(key);
        self.segs[self.seg_index(h)].map.find(h, |e| e.key() == key)
    }

    /// Mutable access for edits that keep the entry's expiry flag (access data,
    /// same-length value edits). Expiry changes go through [`Table::replace`].
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        if self.segs.is_empty() {
            return None;
        }
        let h = self.hash(key);
        let s = self.seg_index(h);
        self.segs[s].map.find_mut(h, |e| e.key() == key)
    }

    /// Inserts `entry`, replacing and returning any entry with the same key.
    pub fn insert(&mut self, entry: Entry) -> Option<Entry> {
        if self.segs.is_empty() {
            self.segs.push(Segment { depth: 0, map: HashTable::new(), volatile: 0 });
        }
        let h = self.hash(entry.key());
        let mut s = self.seg_index(h);
        let new_volatile = entry.expire_at().is_some() as u32;
        if let Some(slot) = self.segs[s].map.find_mut(h, |e| e.key() == entry.key()) {
            let old = std::mem::replace(slot, entry);
            let old_volatile = old.expire_at().is_some() as u32;
            self.segs[s].volatile = self.segs[s].volatile + new_volatile - old_volatile;
            self.volatile = self.volatile + new_volatile as usize - old_volatile as usize;
            return Some(old);
        }
        let seg = &self.segs[s];
        if seg.map.len() >= SEGMENT_MAX || (seg.map.len() >= SPLIT_MIN && seg.map.len() == seg.map.capacity()) {
            self.split(s, h);
            s = self.seg_index(h);
        }
        let hasher = &self.hasher;
        self.segs[s].map.insert_unique(h, entry, |e| hasher.hash_one(e.key()));
        self.segs[s].volatile += new_volatile;
        self.volatile += new_volatile as usize;
        self.len += 1;
        None
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        if self.segs.is_empty() {
            return None;
        }
        let h = self.hash(key);
        let s = self.seg_index(h);
        let Ok(found) = self.segs[s].map.find_entry(h, |e| e.key() == key) else {
            return None;
        };
        let (e, _) = found.remove();
        if e.expire_at().is_some() {
            self.segs[s].volatile -= 1;
            self.volatile -= 1;
        }
        self.len -= 1;
        Some(e)
    }

    /// Drops every entry.
    pub fn clear(&mut self) {
        *self = Table { hasher: self.hasher.clone(), ..Table::new() };
    }

    /// Splits segment `s` by the next hash bit, doubling the directory if needed.
    fn split(&mut self, s: usize, h: u64) {
        let depth = self.segs[s].depth;
        if depth >= 40 {
            return;
        }
        if depth == self.global_depth {
            let old = std::mem::take(&mut self.dir);
            self.dir = if old.is_empty() { vec![0, 0] } else { old.iter().flat_map(|&x| [x, x]).collect() };
            self.global_depth += 1;
        }
        let new_index = self.segs.len() as u32;
        let bit = 1u64 << (63 - depth);
        let old_map = std::mem::take(&mut self.segs[s].map);
        let hasher = &self.hasher;
        let mut low = HashTable::with_capacity(SEGMENT_MAX);
        let mut high = HashTable::with_capacity(SEGMENT_MAX);
        let (mut vlow, mut vhigh) = (0u32, 0u32);
        for e in old_map {
            let h = hasher.hash_one(e.key());
            let vol = e.expire_at().is_some() as u32;
            if prefix(h) & bit == 0 {
                vlow += vol;
                low.insert_unique(h, e, |e| hasher.hash_one(e.key()));
            } else {
                vhigh += vol;
                high.insert_unique(h, e, |e| hasher.hash_one(e.key()));
            }
        }
        self.segs[s] = Segment { depth: depth + 1, map: low, volatile: vlow };
        self.segs.push(Segment { depth: depth + 1, map: high, volatile: vhigh });
        // Directory slots of `s` whose next bit is 1 now point at the new segment.
        let gd = self.global_depth;
        let span = 1usize << (gd - depth);
        let first = ((prefix(h) >> (63 - depth) >> 1) as usize) << (gd - depth);
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
            for e in seg.map.iter() {
                f(e);
            }
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

    /// A key picked at random (uniform over segments, then within one), using `r`
    /// as the source of randomness.
    pub fn random_entry(&self, mut r: impl FnMut() -> u64) -> Option<&Entry> {
        if self.len == 0 {
            return None;
        }
        for _ in 0..64 {
            let seg = &self.segs[(r() % self.segs.len() as u64) as usize];
            if !seg.map.is_empty() {
                let n = (r() % seg.map.len() as u64) as usize;
                return seg.map.iter().nth(n);
            }
        }
        self.segs.iter().flat_map(|s| s.map.iter()).next()
    }

    /// Segments in storage order, for active expiry's round robin. Returns the
    /// keys of expired entries among segment `s` (at most `limit`) and whether the
    /// segment holds volatile keys at all.
    pub fn expired_in_segment(&self, s: usize, now_ms: u64, limit: usize, out: &mut Vec<Vec<u8>>) -> usize {
        let Some(seg) = self.segs.get(s) else {
            return 0;
        };
        if seg.volatile == 0 {
            return 0;
        }
        let mut checked = 0;
        for e in seg.map.iter() {
            if let Some(at) = e.expire_at() {
                checked += 1;
                if at <= now_ms {
                    out.push(e.key().to_vec());
                    if out.len() >= limit {
                        break;
                    }
                }
            }
        }
        checked
    }

    pub fn segment_count(&self) -> usize {
        self.segs.len()
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
        assert!(t.segment_count() > 10);
        assert_eq!(t.volatile_len(), (0..20_000).filter(|i| i % 3 == 0).count());
        for i in 0..20_000 {
            assert!(t.get(format!("key:{i}").as_bytes()).is_some(), "{i}");
        }
        for i in (0..20_000).step_by(2) {
            assert!(t.remove(format!("key:{i}").as_bytes()).is_some());
        }
        assert_eq!(t.len(), 10_000);
        assert!(t.get(b"key:2").is_none());
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
}
