//! One segment of the keyspace table: open addressing with linear probing over
//! two parallel arrays, a byte of hash tag per slot (0 = empty) and the entry
//! pointers. Lookups scan tags with `memchr2` (SIMD) for the tag or an empty
//! slot and only dereference entries whose tag matches. Deletion shifts the
//! rest of the cluster back, so there are no tombstones.
//!
//! Capacities follow the allocator's size classes (2^k times 1, 1.25, 1.5 or
//! 1.75), so growing by one step costs 14-25% and the arrays waste no bytes to
//! rounding: the table stays between 72% and 90% full at every size. Each
//! array is one slot short of its class: mimalloc serves an 8-aligned block
//! whose size is not a power of two by over-allocating `size + 7`, which for a
//! block of exactly a class's size takes the next class (25% more).

use super::entry::Entry;

/// Largest fill before the segment grows (or splits).
const MAX_LOAD: f64 = 0.90;
/// Smallest capacity a segment starts with.
const MIN_CAPACITY: usize = 16;

/// The hash's home slot in a segment of `cap` slots (fast range reduction of the
/// low 32 bits).
#[inline]
fn home(hash: u64, cap: usize) -> usize {
    (((hash as u32) as u64 * cap as u64) >> 32) as usize
}

/// A hint to load the cache line holding `p`; never faults, whatever `p` is.
#[inline(always)]
fn prefetch_line<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetch is a hint with no architectural effect; it does not fault.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// A non-zero tag from hash bits that neither the home slot nor the directory use.
#[inline]
fn tag(hash: u64) -> u8 {
    let t = (hash >> 32) as u8;
    if t == 0 {
        1
    } else {
        t
    }
}

/// The next capacity step at or above `n`: 2^k * {1, 1.25, 1.5, 1.75}.
pub fn capacity_step(n: usize) -> usize {
    let n = n.max(MIN_CAPACITY);
    let pow = n.next_power_of_two();
    let half = pow / 2;
    for quarters in [5, 6, 7] {
        let c = half / 4 * quarters;
        if c >= n {
            return c;
        }
    }
    pow
}

/// Slots for `n` entries at no more than 80% fill (before rounding to a step).
pub fn capacity_for(n: usize) -> usize {
    (n as f64 / 0.8).ceil() as usize
}

/// The slot count of the smallest segment with at least `n` slots: a
/// [`capacity_step`] less one (see the module comment).
pub fn slots_for(n: usize) -> usize {
    capacity_step(n + 1) - 1
}

pub struct Segment {
    tags: Box<[u8]>,
    slots: Box<[Option<Entry>]>,
    len: usize,
}

impl Segment {
    /// An empty segment of at least `cap` slots ([`slots_for`]).
    pub fn with_capacity(cap: usize) -> Self {
        let cap = slots_for(cap);
        let mut slots = Vec::with_capacity(cap);
        slots.resize_with(cap, || None);
        Segment { tags: vec![0u8; cap].into_boxed_slice(), slots: slots.into_boxed_slice(), len: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn capacity(&self) -> usize {
        self.tags.len()
    }

    /// Bytes of the slot arrays.
    pub fn memory_bytes(&self) -> usize {
        self.tags.len() * std::mem::size_of::<u8>() + self.slots.len() * std::mem::size_of::<Option<Entry>>()
    }

    /// True when one more insert would pass the maximum fill.
    pub fn is_full(&self) -> bool {
        (self.len + 1) as f64 > self.capacity() as f64 * MAX_LOAD
    }

    /// Asks the CPU to start loading the tag and slot lines a lookup of `hash`
    /// reads first, so that several lookups of one batch overlap their misses.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        let i = home(hash, self.tags.len());
        prefetch_line(self.tags.as_ptr().wrapping_add(i));
        prefetch_line(self.slots.as_ptr().wrapping_add(i));
    }

    /// Second stage of a prefetch, once the lines `prefetch` asked for have had
    /// time to arrive: starts loading the entry that the first tag match points
    /// to, which is the key's entry unless two tags collide.
    #[inline]
    pub fn prefetch_entry(&self, hash: u64) {
        let cap = self.tags.len();
        let (t, i) = (tag(hash), home(hash, cap));
        if let Some(off) = memchr::memchr2(t, 0, &self.tags[i..]) {
            if let Some(Some(e)) = self.slots.get(i + off) {
                if self.tags[i + off] == t {
                    prefetch_line(e.block_addr());
                }
            }
        }
    }

    /// The slot holding `key`, if any.
    #[inline]
    pub fn find(&self, hash: u64, key: &[u8]) -> Option<usize> {
        let cap = self.tags.len();
        let t = tag(hash);
        let mut i = home(hash, cap);
        loop {
            let Some(off) = memchr::memchr2(t, 0, &self.tags[i..]) else {
                i = 0;
                continue;
            };
            let j = i + off;
            if self.tags[j] == 0 {
                return None;
            }
            if let Some(e) = &self.slots[j] {
                if e.key() == key {
                    return Some(j);
                }
            }
            i = if j + 1 == cap { 0 } else { j + 1 };
        }
    }

    pub fn get(&self, slot: usize) -> Option<&Entry> {
        self.slots.get(slot)?.as_ref()
    }

    pub fn get_mut(&mut self, slot: usize) -> Option<&mut Entry> {
        self.slots.get_mut(slot)?.as_mut()
    }

    /// Puts a new entry in its first free slot. The key must be absent and the
    /// segment not full.
    pub fn insert_new(&mut self, hash: u64, entry: Entry) {
        let cap = self.tags.len();
        debug_assert!(self.len + 1 < cap, "insert into a full segment");
        let h = home(hash, cap);
        let j = match memchr::memchr(0, &self.tags[h..]) {
            Some(off) => h + off,
            // The table grows or splits a segment before it fills (`is_full`).
            None => memchr::memchr(0, &self.tags[..h]).expect("a segment always keeps an empty slot"),
        };
        self.tags[j] = tag(hash);
        self.slots[j] = Some(entry);
        self.len += 1;
    }

    /// Replaces the entry in `slot`, returning the old one.
    pub fn replace(&mut self, slot: usize, entry: Entry) -> Option<Entry> {
        self.slots.get_mut(slot)?.replace(entry)
    }

    /// Removes the entry in `slot`, shifting the rest of its cluster back.
    pub fn remove_at(&mut self, slot: usize, hash_of: impl Fn(&Entry) -> u64) -> Option<Entry> {
        let cap = self.tags.len();
        let removed = self.slots.get_mut(slot)?.take()?;
        self.tags[slot] = 0;
        self.len -= 1;
        let mut hole = slot;
        let mut j = slot;
        loop {
            j = if j + 1 == cap { 0 } else { j + 1 };
            if self.tags[j] == 0 {
                break;
            }
            let Some(e) = &self.slots[j] else { break };
            let k = home(hash_of(e), cap);
            // The entry at j may move back to the hole unless its home lies
            // cyclically in (hole, j].
            let stays = if hole <= j { hole < k && k <= j } else { hole < k || k <= j };
            if !stays {
                self.tags[hole] = self.tags[j];
                self.slots[hole] = self.slots[j].take();
                self.tags[j] = 0;
                hole = j;
            }
        }
        Some(removed)
    }

    /// Every entry, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.slots.iter().filter_map(|s| s.as_ref())
    }

    /// Takes every entry out, leaving the segment empty. Entries a few slots
    /// ahead are prefetched: the caller rehashes each key, and a segment's
    /// entries lie scattered over the slab, so without it every key is a
    /// cache miss in turn (a split or growth at millions of keys took several
    /// times longer).
    pub fn drain(&mut self) -> impl Iterator<Item = Entry> + '_ {
        const AHEAD: usize = 16;
        self.len = 0;
        self.tags.fill(0);
        let slots = &mut self.slots;
        for s in slots.iter().take(AHEAD).flatten() {
            prefetch_line(s.block_addr());
        }
        (0..slots.len()).filter_map(move |i| {
            if let Some(Some(e)) = slots.get(i + AHEAD) {
                prefetch_line(e.block_addr());
            }
            slots[i].take()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::entry::StrEncoding;
    use std::collections::HashMap;

    fn h(k: &[u8]) -> u64 {
        let s = ahash::RandomState::with_seeds(1, 2, 3, 4);
        s.hash_one(k)
    }

    #[test]
    fn capacity_steps_follow_size_classes() {
        assert_eq!(capacity_step(1), 16);
        assert_eq!(capacity_step(17), 20);
        assert_eq!(capacity_step(2049), 2560);
        assert_eq!(capacity_step(3073), 3584);
        assert_eq!(capacity_step(3585), 4096);
        assert_eq!(slots_for(0), 15);
        assert_eq!(slots_for(2559), 2559);
        assert_eq!(slots_for(2560), 3071);
        assert_eq!(Segment::with_capacity(2305).capacity(), 2559);
    }

    #[test]
    fn matches_a_model_under_inserts_and_removes() {
        let mut seg = Segment::with_capacity(4096);
        let mut model = HashMap::new();
        let mut x: u64 = 7;
        for _ in 0..50_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let k = format!("k{}", x % 3000).into_bytes();
            let hk = h(&k);
            if x.is_multiple_of(3) {
                let got = seg.find(hk, &k).and_then(|s| seg.remove_at(s, |e| h(e.key())));
                assert_eq!(got.is_some(), model.remove(&k).is_some());
            } else if seg.find(hk, &k).is_none() && !seg.is_full() {
                seg.insert_new(hk, Entry::new_string(&k, b"v", StrEncoding::Embstr, None));
                model.insert(k, ());
            }
            assert_eq!(seg.len(), model.len());
        }
        for k in model.keys() {
            assert!(seg.find(h(k), k).is_some());
        }
        assert_eq!(seg.iter().count(), model.len());
    }
}
