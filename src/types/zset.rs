//! The sorted set type. A small sorted set is one packed buffer of
//! `(member, score)` entries in order (Redis's "listpack" encoding); past
//! `zset-max-listpack-entries` members, or once a member is longer than
//! `zset-max-listpack-value` bytes, it becomes an indexed set ("skiplist"): a
//! hash index of members plus an order-statistic tree, answering rank and
//! range queries in O(log n). As in Redis, a set never converts back on its
//! own; results built whole (ZUNIONSTORE and friends) pick their encoding by
//! size ([`ZSet::from_sorted`]).
//!
//! Scores are `f64` and never NaN; entries sort by score, then by member bytes.

mod index;
mod indexed;
mod packed;
mod tree;

use std::cmp::Ordering;

use indexed::Indexed;
use packed::Packed;

use super::Limits;

pub use packed::before;

/// A Redis sorted set value.
#[derive(Debug, Clone)]
pub struct ZSet {
    repr: Repr,
}

#[derive(Debug, Clone)]
enum Repr {
    Packed(Packed),
    Indexed(Box<Indexed>),
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::new()
    }
}

/// A score interval (`min`/`max` of ZRANGEBYSCORE, each inclusive or not).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

impl ScoreRange {
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    /// Whether no score can be in the range.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lexicographic range: `-`, `+` or a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    Min,
    Max,
    Member(Vec<u8>),
}

/// A member interval (ZRANGEBYLEX's `min`/`max`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
    pub minex: bool,
    pub maxex: bool,
}

/// How `v` compares with a range bound (`-` is below and `+` above everything).
fn cmp_bound(v: &[u8], b: &LexBound) -> Ordering {
    match b {
        LexBound::Min => Ordering::Greater,
        LexBound::Max => Ordering::Less,
        LexBound::Member(m) => v.cmp(m),
    }
}

impl LexRange {
    pub fn gte_min(&self, v: &[u8]) -> bool {
        let c = cmp_bound(v, &self.min);
        if self.minex {
            c == Ordering::Greater
        } else {
            c != Ordering::Less
        }
    }

    pub fn lte_max(&self, v: &[u8]) -> bool {
        let c = cmp_bound(v, &self.max);
        if self.maxex {
            c == Ordering::Less
        } else {
            c != Ordering::Greater
        }
    }

    /// Whether no member can be in the range (Redis's `sdscmplex` rules).
    pub fn is_empty(&self) -> bool {
        let c = match (&self.min, &self.max) {
            (LexBound::Min, LexBound::Min) | (LexBound::Max, LexBound::Max) => Ordering::Equal,
            (LexBound::Min, _) | (_, LexBound::Max) => Ordering::Less,
            (LexBound::Max, _) | (_, LexBound::Min) => Ordering::Greater,
            (LexBound::Member(a), LexBound::Member(b)) => a.cmp(b),
        };
        c == Ordering::Greater || (c == Ordering::Equal && (self.minex || self.maxex))
    }
}

/// ZADD's options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

/// What [`ZSet::add`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Added {
    /// A new member, with this score.
    New(f64),
    /// An existing member's score changed to this.
    Updated(f64),
    /// An existing member kept its score (this one).
    Same(f64),
    /// Nothing done because of NX, XX, GT or LT.
    Skipped,
}

/// The score an add would set is NaN (an increment of `inf` by `-inf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NanScore;

impl ZSet {
    pub fn new() -> ZSet {
        ZSet { repr: Repr::Packed(Packed::new()) }
    }

    /// An empty set in the indexed encoding.
    pub fn new_indexed() -> ZSet {
        ZSet { repr: Repr::Indexed(Box::default()) }
    }

    /// A set of `items`, which must be sorted by (score, member) without
    /// repeated members, packed if it fits the limits (Redis's
    /// `zsetConvertToListpackIfNeeded` on a result built whole).
    pub fn from_sorted<M: AsRef<[u8]>>(items: &[(M, f64)], lim: &Limits) -> ZSet {
        let longest = items.iter().map(|(m, _)| m.as_ref().len()).max().unwrap_or(0);
        if items.len() <= lim.zset_max_listpack_entries && longest <= lim.zset_max_listpack_value {
            let mut p = Packed::new();
            for (m, s) in items {
                p.push(m.as_ref(), *s);
            }
            return ZSet { repr: Repr::Packed(p) };
        }
        let mut x = Indexed::with_capacity(items.len());
        for (m, s) in items {
            x.push_last(m.as_ref(), *s);
        }
        ZSet { repr: Repr::Indexed(Box::new(x)) }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Packed(p) => p.len(),
            Repr::Indexed(x) => x.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's name.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Packed(_) => "listpack",
            Repr::Indexed(_) => "skiplist",
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Packed(p) => p.find(member).map(|(_, s)| s),
            Repr::Indexed(x) => x.score(member),
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        self.score(member).is_some()
    }

    /// Moves a packed set to the indexed encoding.
    fn convert(&mut self) {
        if let Repr::Packed(p) = &self.repr {
            let mut x = Indexed::with_capacity(p.len() + 1);
            for (m, s) in p.iter() {
                x.push_last(m, s);
            }
            self.repr = Repr::Indexed(Box::new(x));
        }
    }

    /// Adds `member` or changes its score, as Redis's `zsetAdd` with `flags`.
    pub fn add(&mut self, member: &[u8], score: f64, flags: AddFlags, lim: &Limits) -> Result<Added, NanScore> {
        if score.is_nan() {
            return Err(NanScore);
        }
        let current = self.score(member);
        let Some(cur) = current else {
            if flags.xx {
                return Ok(Added::Skipped);
            }
            if let Repr::Packed(p) = &self.repr {
                let too_big = p.len() + 1 > lim.zset_max_listpack_entries
                    || member.len() > lim.zset_max_listpack_value
                    || p.bytes() + member.len() + 16 > (1 << 30);
                if too_big {
                    self.convert();
                }
            }
            match &mut self.repr {
                Repr::Packed(p) => p.insert(member, score),
                Repr::Indexed(x) => x.insert_new(member, score),
            }
            return Ok(Added::New(score));
        };
        if flags.nx {
            return Ok(Added::Skipped);
        }
        let score = if flags.incr { score + cur } else { score };
        if score.is_nan() {
            return Err(NanScore);
        }
        if (flags.lt && score >= cur) || (flags.gt && score <= cur) {
            return Ok(Added::Skipped);
        }
        if score == cur {
            return Ok(Added::Same(score));
        }
        match &mut self.repr {
            Repr::Packed(p) => {
                p.remove(member);
                p.insert(member, score);
            }
            Repr::Indexed(x) => {
                let id = x.find(member).expect("member present");
                x.update(id, score);
            }
        }
        Ok(Added::Updated(score))
    }

    /// Adds `member` with `score` or changes its score (`score` is not NaN);
    /// true if the member is new.
    pub fn insert(&mut self, member: &[u8], score: f64, lim: &Limits) -> bool {
        matches!(self.add(member, score, AddFlags::default(), lim), Ok(Added::New(_)))
    }

    /// Removes `member`; true if it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Packed(p) => p.remove(member).is_some(),
            Repr::Indexed(x) => x.remove(member).is_some(),
        }
    }

    /// The 0-based rank of `member` by ascending score.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.repr {
            Repr::Packed(p) => p.find(member).map(|(i, _)| i),
            Repr::Indexed(x) => x.rank(member),
        }
    }

    /// The entry at `rank`.
    pub fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        match &self.repr {
            Repr::Packed(p) => p.get(rank),
            Repr::Indexed(x) => x.get(rank),
        }
    }

    /// Entries from rank `rank` on, ascending; or (`rev`) from `rank` down to
    /// rank 0. Starting past the end yields nothing (forward) or everything
    /// from the last entry (`rev`).
    pub fn range(&self, rank: usize, rev: bool) -> Range<'_> {
        match &self.repr {
            Repr::Packed(p) if rev => {
                let mut v: Vec<(&[u8], f64)> = p.iter().take(rank.saturating_add(1)).collect();
                v.reverse();
                Range::List(v.into_iter())
            }
            Repr::Packed(p) => Range::Packed(p.iter_from(rank)),
            Repr::Indexed(x) => Range::Indexed(x.iter_from(rank, rev)),
        }
    }

    /// Every entry, ascending by score, then member.
    pub fn iter(&self) -> Range<'_> {
        self.range(0, false)
    }

    /// Removes ranks `start..end` (clamped); returns how many went.
    pub fn remove_ranks(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        match &mut self.repr {
            Repr::Packed(p) => p.remove_range(start, end),
            Repr::Indexed(x) => {
                x.remove_ranks(start, end);
            }
        }
        end - start
    }

    /// Removes and returns the entry at `rank`.
    fn remove_at(&mut self, rank: usize) -> Option<(Vec<u8>, f64)> {
        match &mut self.repr {
            Repr::Packed(p) => {
                let (m, s) = p.get(rank).map(|(m, s)| (m.to_vec(), s))?;
                p.remove_range(rank, rank + 1);
                Some((m, s))
            }
            Repr::Indexed(x) => x.remove_at(rank),
        }
    }

    /// Removes and returns the lowest-ranked entry.
    pub fn pop_min(&mut self) -> Option<(Vec<u8>, f64)> {
        self.remove_at(0)
    }

    /// Removes and returns the highest-ranked entry.
    pub fn pop_max(&mut self) -> Option<(Vec<u8>, f64)> {
        let n = self.len();
        n.checked_sub(1).and_then(|r| self.remove_at(r))
    }

    /// Rank of the first entry in a range given by `gte` (at or above its
    /// start) and `lte` (at or below its end), as Redis's `z*FirstIn*Range`:
    /// a packed set walks from the front, an indexed one bisects.
    fn first_in(
        &self,
        empty: bool,
        gte: impl Fn(&[u8], f64) -> bool,
        lte: impl Fn(&[u8], f64) -> bool,
    ) -> Option<usize> {
        if empty || !self.overlaps(&gte, &lte) {
            return None;
        }
        let r = match &self.repr {
            Repr::Packed(p) => p.iter().position(|(m, s)| gte(m, s))?,
            Repr::Indexed(x) => x.partition_point(|m, s| !gte(m, s)),
        };
        let (m, s) = self.get(r)?;
        lte(m, s).then_some(r)
    }

    /// Rank of the last entry in a range (Redis's `z*LastIn*Range`).
    fn last_in(
        &self,
        empty: bool,
        gte: impl Fn(&[u8], f64) -> bool,
        lte: impl Fn(&[u8], f64) -> bool,
    ) -> Option<usize> {
        if empty || !self.overlaps(&gte, &lte) {
            return None;
        }
        let r = match &self.repr {
            // Entries are sorted, so those at or below the end are a prefix.
            Repr::Packed(p) => p.iter().take_while(|&(m, s)| lte(m, s)).count().checked_sub(1)?,
            Repr::Indexed(x) => x.partition_point(|m, s| lte(m, s)).checked_sub(1)?,
        };
        let (m, s) = self.get(r)?;
        gte(m, s).then_some(r)
    }

    /// Redis's `z*IsIn*Range`: the last entry is past the start and the first
    /// before the end.
    fn overlaps(&self, gte: &impl Fn(&[u8], f64) -> bool, lte: &impl Fn(&[u8], f64) -> bool) -> bool {
        let n = self.len();
        match (self.get(0), n.checked_sub(1).and_then(|r| self.get(r))) {
            (Some((fm, fs)), Some((lm, ls))) => gte(lm, ls) && lte(fm, fs),
            _ => false,
        }
    }

    /// Rank of the first entry whose score is in `r`.
    pub fn first_in_score(&self, r: &ScoreRange) -> Option<usize> {
        self.first_in(r.is_empty(), |_, s| r.gte_min(s), |_, s| r.lte_max(s))
    }

    /// Rank of the last entry whose score is in `r`.
    pub fn last_in_score(&self, r: &ScoreRange) -> Option<usize> {
        self.last_in(r.is_empty(), |_, s| r.gte_min(s), |_, s| r.lte_max(s))
    }

    /// Rank of the first entry whose member is in `r`.
    pub fn first_in_lex(&self, r: &LexRange) -> Option<usize> {
        self.first_in(r.is_empty(), |m, _| r.gte_min(m), |m, _| r.lte_max(m))
    }

    /// Rank of the last entry whose member is in `r`.
    pub fn last_in_lex(&self, r: &LexRange) -> Option<usize> {
        self.last_in(r.is_empty(), |m, _| r.gte_min(m), |m, _| r.lte_max(m))
    }

    /// Entries in a range (ZCOUNT/ZLEXCOUNT): a packed set counts from the
    /// first entry in range while entries stay below the end; an indexed one
    /// subtracts ranks, as Redis does for each encoding.
    fn count_in(
        &self,
        first: Option<usize>,
        last: impl FnOnce() -> Option<usize>,
        lte: impl Fn(&[u8], f64) -> bool,
    ) -> usize {
        let Some(first) = first else { return 0 };
        match &self.repr {
            Repr::Packed(p) => p.iter_from(first).take_while(|&(m, s)| lte(m, s)).count(),
            Repr::Indexed(x) => {
                let n = x.len();
                let mut count = n - first;
                if let Some(l) = last() {
                    count -= n - (l + 1);
                }
                count
            }
        }
    }

    /// ZCOUNT.
    pub fn count_in_score(&self, r: &ScoreRange) -> usize {
        self.count_in(self.first_in_score(r), || self.last_in_score(r), |_, s| r.lte_max(s))
    }

    /// ZLEXCOUNT.
    pub fn count_in_lex(&self, r: &LexRange) -> usize {
        self.count_in(self.first_in_lex(r), || self.last_in_lex(r), |m, _| r.lte_max(m))
    }

    /// Removes the entries from the first in range on while they stay below
    /// the end (ZREMRANGEBYSCORE/ZREMRANGEBYLEX). A packed set finds the
    /// first as `first_in` does; an indexed one bisects for the start alone,
    /// as Redis's skiplist deletion does.
    fn remove_in(
        &mut self,
        first: Option<usize>,
        gte: impl Fn(&[u8], f64) -> bool,
        lte: impl Fn(&[u8], f64) -> bool,
    ) -> usize {
        let start = match &self.repr {
            Repr::Packed(_) => first,
            Repr::Indexed(x) => Some(x.partition_point(|m, s| !gte(m, s))),
        };
        let Some(start) = start else { return 0 };
        let n = self.range(start, false).take_while(|&(m, s)| lte(m, s)).count();
        self.remove_ranks(start, start + n)
    }

    /// ZREMRANGEBYSCORE.
    pub fn remove_in_score(&mut self, r: &ScoreRange) -> usize {
        let first = self.first_in_score(r);
        self.remove_in(first, |_, s| r.gte_min(s), |_, s| r.lte_max(s))
    }

    /// ZREMRANGEBYLEX.
    pub fn remove_in_lex(&mut self, r: &LexRange) -> usize {
        let first = self.first_in_lex(r);
        self.remove_in(first, |m, _| r.gte_min(m), |m, _| r.lte_max(m))
    }

    /// A member picked uniformly by the random number `rnd` (the set must
    /// not be empty).
    pub fn random(&self, rnd: u64) -> (&[u8], f64) {
        let i = (rnd % self.len().max(1) as u64) as usize;
        match &self.repr {
            Repr::Packed(p) => p.get(i).expect("non-empty set"),
            Repr::Indexed(x) => x.slot(i),
        }
    }

    /// One ZSCAN step from `cursor`: calls `f` for the entries it covers and
    /// returns the next cursor (0 when done). A packed set answers whole with
    /// cursor 0; an indexed one visits up to `count` non-empty buckets (and
    /// at most ten times as many buckets) of its member index, as Redis's
    /// dict scan does.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match &self.repr {
            Repr::Packed(p) => {
                for (m, s) in p.iter() {
                    f(m, s);
                }
                0
            }
            Repr::Indexed(x) => {
                let mut cursor = cursor;
                let mut found = 0;
                let mut budget = count.saturating_mul(10);
                loop {
                    cursor = x.scan_step(cursor, |m, s| {
                        found += 1;
                        f(m, s)
                    });
                    if cursor == 0 || budget == 0 || found >= count {
                        return cursor;
                    }
                    budget -= 1;
                }
            }
        }
    }

    /// Heap bytes held by the value (for MEMORY USAGE-style reports).
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Packed(p) => p.heap_bytes(),
            Repr::Indexed(x) => std::mem::size_of::<Indexed>() + x.heap_bytes(),
        }
    }

    /// Bytes the allocator holds for the sorted set, members of the indexed
    /// form sampled (MEMORY USAGE).
    pub fn mem_usage(&self, samples: usize) -> usize {
        match &self.repr {
            Repr::Packed(p) => p.mem_usage(),
            Repr::Indexed(x) => crate::alloc::block_bytes(std::mem::size_of::<Indexed>()) + x.mem_usage(samples),
        }
    }
}

/// Entries of a [`ZSet`] in rank order (or reverse).
pub enum Range<'a> {
    Packed(packed::Iter<'a>),
    List(std::vec::IntoIter<(&'a [u8], f64)>),
    Indexed(indexed::Iter<'a>),
}

impl<'a> Iterator for Range<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Range::Packed(i) => i.next(),
            Range::List(i) => i.next(),
            Range::Indexed(i) => i.next(),
        }
    }
}

#[cfg(test)]
mod tests;
