//! The indexed form of a large sorted set (Redis's "skiplist" encoding).
//!
//! Members live once, in a dense slab of thin blobs with a parallel array of
//! scores; a member's slab position is its id. An [`IdTable`] finds a member's
//! id by hash (ZSCORE, ZADD's lookup), and a [`Tree`] of `(score, id)` keeps
//! the order for ranks and ranges in O(log n). Removing a member moves the
//! slab's last member into the hole (its id changes in the table and the
//! tree), so the slab never has gaps and a random member is one array probe.
//!
//! Per member this costs the blob (member bytes plus a length byte, rounded
//! by the allocator), 8 bytes of slab pointer and 8 of score, 4 bytes of table
//! slot and about 12-24 bytes of tree entry: roughly half of Redis's dict entry,
//! sds and skiplist node.

use super::index::IdTable;
use super::packed::before;
use super::tree::{self, Tree};
use crate::types::blob::{hash_key, Blob};

#[derive(Clone, Debug, Default)]
pub struct Indexed {
    slab: Vec<Blob<1>>,
    scores: Vec<f64>,
    index: IdTable,
    tree: Tree,
}

impl Indexed {
    pub fn with_capacity(n: usize) -> Indexed {
        Indexed {
            slab: Vec::with_capacity(n),
            scores: Vec::with_capacity(n),
            index: IdTable::with_capacity(n),
            tree: Tree::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.slab.len()
    }

    fn member(&self, id: u32) -> &[u8] {
        self.slab[id as usize].key()
    }

    fn entry(&self, key: tree::Key) -> (&[u8], f64) {
        (self.member(key.1), key.0)
    }

    /// The slab id of `member`.
    pub fn find(&self, member: &[u8]) -> Option<u32> {
        self.index.find(hash_key(member), |id| self.slab[id as usize].key() == member)
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|id| self.scores[id as usize])
    }

    /// The number of entries sorting before `(score, member)`.
    fn rank_of(&self, score: f64, member: &[u8]) -> usize {
        self.tree.partition_point(|(s, id)| before(s, self.member(id), score, member))
    }

    /// The number of leading entries for which `pred(member, score)` holds
    /// (it must hold for a prefix).
    pub fn partition_point(&self, mut pred: impl FnMut(&[u8], f64) -> bool) -> usize {
        self.tree.partition_point(|(s, id)| pred(self.member(id), s))
    }

    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let id = self.find(member)?;
        Some(self.rank_of(self.scores[id as usize], member))
    }

    pub fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        self.tree.get(rank).map(|k| self.entry(k))
    }

    /// Entries from `rank` on (ascending), or from `rank` down (`rev`).
    pub fn iter_from(&self, rank: usize, rev: bool) -> Iter<'_> {
        Iter { set: self, keys: self.tree.iter_from(rank, rev) }
    }

    /// Makes room for one more member, growing the slab and the scores by
    /// half (not double) so that spare capacity stays under a third.
    fn reserve_one(&mut self) {
        if self.slab.len() == self.slab.capacity() {
            let extra = (self.slab.len() / 2).max(4);
            self.slab.reserve_exact(extra);
            self.scores.reserve_exact(extra);
        }
    }

    /// Adds a member known to be absent.
    pub fn insert_new(&mut self, member: &[u8], score: f64) {
        let id = u32::try_from(self.slab.len()).expect("sorted set over 4G members");
        self.reserve_one();
        self.slab.push(Blob::new([member]));
        self.scores.push(score);
        self.index.insert(hash_key(member), id, &self.slab);
        let r = self.rank_of(score, member);
        self.tree.insert(r, (score, id));
    }

    /// Appends a member that sorts after every present one (bulk builds).
    pub fn push_last(&mut self, member: &[u8], score: f64) {
        let id = u32::try_from(self.slab.len()).expect("sorted set over 4G members");
        self.reserve_one();
        self.slab.push(Blob::new([member]));
        self.scores.push(score);
        self.index.insert(hash_key(member), id, &self.slab);
        self.tree.insert(self.tree.len(), (score, id));
    }

    /// Changes the score of the member with id `id`.
    pub fn update(&mut self, id: u32, score: f64) {
        let old = self.scores[id as usize];
        let member = self.member(id);
        let r = self.rank_of(old, member);
        let fits_before = r == 0 || self.tree.get(r - 1).is_some_and(|(s, p)| before(s, self.member(p), score, member));
        let fits_after = self.tree.get(r + 1).is_none_or(|(s, n)| before(score, member, s, self.member(n)));
        if fits_before && fits_after {
            self.tree.replace(r, (score, id));
        } else {
            self.tree.remove(r);
            let r = self.rank_of(score, self.member(id));
            self.tree.insert(r, (score, id));
        }
        self.scores[id as usize] = score;
    }

    /// Removes the member with id `id`, at tree rank `rank`.
    fn remove_id(&mut self, id: u32, rank: usize) {
        let h = hash_key(self.member(id));
        self.tree.remove(rank);
        self.index.remove(h, id, &self.slab);
        let last = (self.slab.len() - 1) as u32;
        if id != last {
            let (ls, lm) = (self.scores[last as usize], self.member(last));
            let (r, lh) = (self.rank_of(ls, lm), hash_key(lm));
            self.tree.replace(r, (ls, id));
            self.index.renumber(lh, last, id);
        }
        self.slab.swap_remove(id as usize);
        self.scores.swap_remove(id as usize);
        let cap = self.slab.capacity();
        if cap > 64 && self.slab.len() < cap / 4 {
            self.slab.shrink_to(self.slab.len() * 2);
            self.scores.shrink_to(self.slab.len() * 2);
        }
    }

    /// Removes `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let id = self.find(member)?;
        let score = self.scores[id as usize];
        let r = self.rank_of(score, member);
        self.remove_id(id, r);
        Some(score)
    }

    /// Removes the entry at `rank` and returns it.
    pub fn remove_at(&mut self, rank: usize) -> Option<(Vec<u8>, f64)> {
        let (score, id) = self.tree.get(rank)?;
        let member = self.member(id).to_vec();
        self.remove_id(id, rank);
        Some((member, score))
    }

    /// Removes ranks `start..end`. Removing most of the set rebuilds it from
    /// the survivors in one pass instead of unlinking member by member.
    pub fn remove_ranks(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        if (end - start) * 2 > self.len() {
            let keep: Vec<(Vec<u8>, f64)> = self
                .iter_from(0, false)
                .take(start)
                .chain(self.iter_from(end, false))
                .map(|(m, s)| (m.to_vec(), s))
                .collect();
            let mut rebuilt = Indexed::with_capacity(keep.len());
            for (m, s) in &keep {
                rebuilt.push_last(m, *s);
            }
            *self = rebuilt;
            return end - start;
        }
        for _ in start..end {
            let (_, id) = self.tree.get(start).expect("rank in range");
            self.remove_id(id, start);
        }
        end.saturating_sub(start)
    }

    /// The member at slab position `i` (a uniform pick for random `i`).
    pub fn slot(&self, i: usize) -> (&[u8], f64) {
        (self.slab[i].key(), self.scores[i])
    }

    /// One ZSCAN step (see [`IdTable::scan_step`]).
    pub fn scan_step(&self, cursor: u64, mut f: impl FnMut(&[u8], f64)) -> u64 {
        self.index.scan_step(cursor, |id| f(self.member(id), self.scores[id as usize]))
    }

    /// Heap bytes held: slab, blobs, scores, table and tree.
    pub fn heap_bytes(&self) -> usize {
        self.slab.capacity() * 8
            + self.slab.iter().map(Blob::size).sum::<usize>()
            + self.scores.capacity() * 8
            + self.index.heap_bytes()
            + self.tree.heap_bytes()
    }

    /// Bytes the allocator holds (MEMORY USAGE): slab and score arrays, table
    /// and tree, plus the member blobs estimated from the first `samples`.
    pub fn mem_usage(&self, samples: usize) -> usize {
        use crate::alloc::block_bytes;
        block_bytes(self.slab.capacity() * std::mem::size_of::<Blob<1>>())
            + block_bytes(self.scores.capacity() * 8)
            + self.index.heap_bytes()
            + self.tree.heap_bytes()
            + crate::types::sampled(self.slab.iter().map(|b| block_bytes(b.size())), samples, self.slab.len())
    }

    /// Checks that slab, table and tree agree (tests only).
    #[cfg(test)]
    pub fn check(&self) {
        self.tree.check();
        assert_eq!(self.tree.len(), self.slab.len());
        assert_eq!(self.index.len(), self.slab.len());
        assert_eq!(self.scores.len(), self.slab.len());
        let mut prev: Option<(&[u8], f64)> = None;
        for (s, id) in self.tree.iter_from(0, false) {
            assert_eq!(s.to_bits(), self.scores[id as usize].to_bits());
            let m = self.member(id);
            assert_eq!(self.find(m), Some(id));
            if let Some((pm, ps)) = prev {
                assert!(before(ps, pm, s, m));
            }
            prev = Some((m, s));
        }
    }
}

/// Entries of an [`Indexed`] in rank order (or reverse).
pub struct Iter<'a> {
    set: &'a Indexed,
    keys: tree::Iter<'a>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        self.keys.next().map(|k| self.set.entry(k))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.keys.size_hint()
    }
}
