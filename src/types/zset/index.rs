//! The member index of a large sorted set: a hash table of 4-byte slab ids,
//! hashed by the member bytes the slab holds.
//!
//! It resizes incrementally, as Redis's dict rehashes: a full large table
//! starts a bigger one and each later write moves a few entries over, so no
//! single ZADD pays for rehashing millions of members. The SCAN cursor walks
//! buckets in Redis's reverse-binary order across both tables.

use hashbrown::HashTable;

use crate::types::blob::{hash_key, Blob};

/// Tables up to this many entries grow and shrink in one step.
#[cfg(not(test))]
const INCREMENTAL_MIN: usize = 1024;
#[cfg(test)]
const INCREMENTAL_MIN: usize = 16;

/// Per write: buckets of the old table visited / entries moved, at most.
const STEP_VISITS: usize = 64;
const STEP_MOVES: usize = 8;

#[derive(Clone, Debug)]
struct Old {
    table: HashTable<u32>,
    next: usize,
}

/// Slab ids indexed by member.
#[derive(Clone, Debug, Default)]
pub struct IdTable {
    main: HashTable<u32>,
    old: Option<Box<Old>>,
}

/// The rehash function of a table over `slab`.
fn hasher(slab: &[Blob<1>]) -> impl Fn(&u32) -> u64 + '_ {
    move |&id| hash_key(slab[id as usize].key())
}

impl IdTable {
    pub fn with_capacity(n: usize) -> IdTable {
        IdTable { main: HashTable::with_capacity(n), old: None }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.main.len() + self.old.as_ref().map_or(0, |o| o.table.len())
    }

    /// The id whose member hashes to `h` and satisfies `eq`.
    pub fn find(&self, h: u64, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        if let Some(&id) = self.main.find(h, |&id| eq(id)) {
            return Some(id);
        }
        self.old.as_ref().and_then(|o| o.table.find(h, |&id| eq(id)).copied())
    }

    /// Adds `id` (its member, hashing to `h`, is absent and already in `slab`).
    pub fn insert(&mut self, h: u64, id: u32, slab: &[Blob<1>]) {
        self.step(slab);
        if self.main.capacity() == self.main.len() {
            if self.old.is_some() {
                self.finish(slab);
            }
            let len = self.main.len();
            if self.main.capacity() == len {
                if len < INCREMENTAL_MIN {
                    self.main.reserve(1, hasher(slab));
                } else {
                    let prev = std::mem::replace(&mut self.main, HashTable::with_capacity(len * 2));
                    self.old = Some(Box::new(Old { table: prev, next: 0 }));
                }
            }
        }
        self.main.insert_unique(h, id, hasher(slab));
    }

    /// Removes `id` (hashing to `h`); every id in the table must be in `slab`.
    pub fn remove(&mut self, h: u64, id: u32, slab: &[Blob<1>]) -> bool {
        self.step(slab);
        let found = match self.main.find_entry(h, |&x| x == id) {
            Ok(e) => {
                e.remove();
                true
            }
            Err(_) => match &mut self.old {
                Some(o) => o.table.find_entry(h, |&x| x == id).map(|e| e.remove()).is_ok(),
                None => false,
            },
        };
        if found && self.old.is_none() {
            let (len, buckets) = (self.main.len(), self.main.num_buckets());
            if buckets > 64 && len * 10 < buckets {
                if len < INCREMENTAL_MIN {
                    self.main.shrink_to(len, hasher(slab));
                } else {
                    let prev = std::mem::replace(&mut self.main, HashTable::with_capacity(len * 2));
                    self.old = Some(Box::new(Old { table: prev, next: 0 }));
                }
            }
        }
        found
    }

    /// Renames id `from` (hashing to `h`) to `to`.
    pub fn renumber(&mut self, h: u64, from: u32, to: u32) {
        if let Some(slot) = self.main.find_mut(h, |&x| x == from) {
            *slot = to;
        } else if let Some(slot) = self.old.as_mut().and_then(|o| o.table.find_mut(h, |&x| x == from)) {
            *slot = to;
        }
    }

    /// One step of a resize in progress.
    fn step(&mut self, slab: &[Blob<1>]) {
        let Some(old) = &mut self.old else { return };
        let buckets = old.table.num_buckets();
        let (mut visits, mut moves) = (0, 0);
        while old.next < buckets && visits < STEP_VISITS && moves < STEP_MOVES {
            if let Ok(e) = old.table.get_bucket_entry(old.next) {
                let (id, _) = e.remove();
                let h = hash_key(slab[id as usize].key());
                self.main.insert_unique(h, id, hasher(slab));
                moves += 1;
            }
            old.next += 1;
            visits += 1;
        }
        if old.table.is_empty() {
            self.old = None;
        }
    }

    /// Completes a resize in progress.
    fn finish(&mut self, slab: &[Blob<1>]) {
        if let Some(mut old) = self.old.take() {
            self.main.reserve(old.table.len(), hasher(slab));
            for id in old.table.drain() {
                let h = hash_key(slab[id as usize].key());
                self.main.insert_unique(h, id, hasher(slab));
            }
        }
    }

    /// One SCAN step from `cursor`: calls `f` for the ids in the cursor's
    /// bucket of each table and returns the next cursor (0 when done).
    pub fn scan_step(&self, cursor: u64, mut f: impl FnMut(u32)) -> u64 {
        let mut v = cursor;
        let (small, large) = match &self.old {
            None => (&self.main, None),
            Some(o) if o.table.num_buckets() <= self.main.num_buckets() => (&o.table, Some(&self.main)),
            Some(o) => (&self.main, Some(&o.table)),
        };
        let m0 = small.num_buckets().max(1) as u64 - 1;
        if let Some(&id) = small.get_bucket((v & m0) as usize) {
            f(id);
        }
        if let Some(large) = large {
            let m1 = large.num_buckets().max(1) as u64 - 1;
            loop {
                if let Some(&id) = large.get_bucket((v & m1) as usize) {
                    f(id);
                }
                v = (((v | m0).wrapping_add(1)) & !m0) | (v & m0);
                if v & (m0 ^ m1) == 0 {
                    break;
                }
            }
        }
        v |= !m0;
        v.reverse_bits().wrapping_add(1).reverse_bits()
    }

    /// Bytes of the bucket arrays.
    pub fn heap_bytes(&self) -> usize {
        self.main.allocation_size() + self.old.as_ref().map_or(0, |o| o.table.allocation_size())
    }
}
