//! The set type in Redis 7.2's three encodings:
//! - `intset`: sorted integers at the narrowest common width, while every
//!   member is a canonical integer (Redis's `string2ll`) and there are at most
//!   `set-max-intset-entries` of them;
//! - `listpack`: a [`Pack`] of members, while there are at most
//!   `set-max-listpack-entries` and none is longer than `set-max-listpack-value`;
//! - `hashtable`: a [`BlobTable`] of one-part thin blobs (8 bytes a slot and
//!   one small allocation a member), resized incrementally.
//!
//! A set only moves up (intset -> listpack -> hashtable, or intset ->
//! hashtable), as in Redis; a set built from scratch (a *STORE result, the
//! survivors of a large SPOP) starts over as an intset. Unlike Redis 7.2, the
//! encoding follows what a set holds, never a hint of how many members a
//! command might add: with `set-max-listpack-entries 0` the encodings are
//! exactly Redis 7.0's.

mod intset;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use super::blob::{Blob, BlobTable};
use super::pack::Pack;
use super::Limits;
use intset::IntSet;

/// The hash table encoding: members as one-part blobs.
type Members = BlobTable<1>;

/// Redis's `string2ll`: an optional '-', then digits without leading zeros
/// ("0" alone is zero); no '+', no spaces, no overflow.
pub fn parse_int(s: &[u8]) -> Option<i64> {
    crate::resp::parse::parse_i64(s)
}

/// Characters of `v` in decimal, sign included (Redis's `sdigits10`).
fn digits(v: i64) -> usize {
    itoa::Buffer::new().format(v).len()
}

/// Redis caps intsets at 2^30 entries whatever the configuration says.
fn intset_max(lim: &Limits) -> usize {
    lim.set_max_intset_entries.min(1 << 30)
}

/// A Redis set value.
#[derive(Clone)]
pub struct Set {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    Ints(IntSet),
    Pack(Pack),
    Table(Box<Members>),
}

impl Default for Set {
    fn default() -> Self {
        Set::new()
    }
}

impl Set {
    /// An empty set, encoded as an intset until a member says otherwise.
    pub fn new() -> Set {
        Set { repr: Repr::Ints(IntSet::new()) }
    }

    /// A set of `members` built from scratch: an intset if they are all
    /// integers and few enough, else as inserting them one by one makes it.
    pub fn from_members(members: impl IntoIterator<Item = impl AsRef<[u8]>>, lim: &Limits) -> Set {
        let mut s = Set::new();
        for m in members {
            s.insert(m.as_ref(), lim);
        }
        s
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Ints(s) => s.len(),
            Repr::Pack(p) => p.len(),
            Repr::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's name.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Ints(_) => "intset",
            Repr::Pack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Whether the set is intset-encoded (every member a canonical integer).
    pub fn is_intset(&self) -> bool {
        matches!(self.repr, Repr::Ints(_))
    }

    /// Adds `m`; true if it was not a member. Converts the encoding as
    /// Redis 7.2's `setTypeAdd` does.
    pub fn insert(&mut self, m: &[u8], lim: &Limits) -> bool {
        match &mut self.repr {
            Repr::Ints(s) => {
                if let Some(v) = parse_int(m) {
                    if !s.insert(v) {
                        return false;
                    }
                    if s.len() > intset_max(lim) {
                        self.convert_to_table(0);
                    }
                    return true;
                }
                // A string joins: listpack if everything would fit there.
                let n = s.len();
                let widest = match (s.min(), s.max()) {
                    (Some(lo), Some(hi)) => digits(lo).max(digits(hi)),
                    _ => 0,
                };
                if n < lim.set_max_listpack_entries
                    && m.len() <= lim.set_max_listpack_value
                    && widest <= lim.set_max_listpack_value
                {
                    let mut p = Pack::new();
                    let mut buf = itoa::Buffer::new();
                    for v in s.iter() {
                        p.push_back(buf.format(v).as_bytes());
                    }
                    p.push_back(m);
                    self.repr = Repr::Pack(p);
                } else {
                    self.convert_to_table(1);
                    if let Repr::Table(t) = &mut self.repr {
                        t.insert_new(Blob::new([m]));
                    }
                }
                true
            }
            Repr::Pack(p) => {
                if p.position(m).is_some() {
                    return false;
                }
                if p.len() < lim.set_max_listpack_entries && m.len() <= lim.set_max_listpack_value {
                    p.push_back(m);
                } else {
                    self.convert_to_table(1);
                    if let Repr::Table(t) = &mut self.repr {
                        t.insert_new(Blob::new([m]));
                    }
                }
                true
            }
            Repr::Table(t) => table_insert(t, m),
        }
    }

    /// Converts to a hash table with room for `extra` more members.
    fn convert_to_table(&mut self, extra: usize) {
        if matches!(self.repr, Repr::Table(_)) {
            return;
        }
        let mut t = Members::with_capacity(self.len() + extra);
        for m in self.iter() {
            t.insert_new(Blob::new([&m]));
        }
        self.repr = Repr::Table(Box::new(t));
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match &self.repr {
            Repr::Ints(s) => parse_int(m).is_some_and(|v| s.contains(v)),
            Repr::Pack(p) => p.position(m).is_some(),
            Repr::Table(t) => t.contains(m),
        }
    }

    /// Removes `m`; true if it was a member. The encoding stays.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Ints(s) => parse_int(m).is_some_and(|v| s.remove(v)),
            Repr::Pack(p) => match p.position(m) {
                Some(i) => {
                    p.remove_range(i, i + 1);
                    true
                }
                None => false,
            },
            Repr::Table(t) => t.remove(m).is_some(),
        }
    }

    /// Members in the encoding's order: ascending for an intset, insertion
    /// order for a listpack, table order for a hash table.
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Ints(s) => Iter(IterRepr::Ints(s, 0)),
            Repr::Pack(p) => Iter(IterRepr::Pack(p.iter())),
            Repr::Table(t) => Iter(IterRepr::Table(Box::new(t.iter().map(Blob::key)))),
        }
    }

    /// The members, ascending, when the set is an intset.
    pub fn ints(&self) -> Option<Vec<i64>> {
        match &self.repr {
            Repr::Ints(s) => Some(s.iter().collect()),
            _ => None,
        }
    }

    /// A uniformly random member, if any.
    pub fn random(&self, rng: &mut impl FnMut() -> u64) -> Option<Cow<'_, [u8]>> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        match &self.repr {
            Repr::Ints(s) => Some(int_cow(s.get((rng() % n as u64) as usize))),
            Repr::Pack(p) => p.get((rng() % n as u64) as usize).map(Cow::Borrowed),
            Repr::Table(t) => t.random(rng).map(|b| Cow::Borrowed(b.key())),
        }
    }

    /// Removes and returns a uniformly random member, if any.
    pub fn pop_random(&mut self, rng: &mut impl FnMut() -> u64) -> Option<Vec<u8>> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        match &mut self.repr {
            Repr::Ints(s) => {
                let v = s.get((rng() % n as u64) as usize);
                s.remove(v);
                Some(itoa::Buffer::new().format(v).as_bytes().to_vec())
            }
            Repr::Pack(p) => p.remove((rng() % n as u64) as usize),
            Repr::Table(t) => {
                let m = t.random(rng)?.key().to_vec();
                t.remove(&m);
                Some(m)
            }
        }
    }

    /// `count` distinct members chosen uniformly (fewer if the set is
    /// smaller): in the set's order, except for a few drawn from a large
    /// hash table.
    pub fn sample(&self, count: usize, rng: &mut impl FnMut() -> u64) -> Vec<Cow<'_, [u8]>> {
        let n = self.len();
        if count >= n {
            return self.iter().collect();
        }
        if let Repr::Table(t) = &self.repr {
            if count * 3 <= n {
                // Few from many: draw until enough distinct ones came up.
                let mut seen: std::collections::HashSet<&[u8]> = std::collections::HashSet::with_capacity(count);
                while seen.len() < count {
                    if let Some(b) = t.random(&mut *rng) {
                        seen.insert(b.key());
                    }
                }
                return seen.into_iter().map(Cow::Borrowed).collect();
            }
        }
        // Selection sampling (Knuth's algorithm S): one pass, in order.
        let mut out = Vec::with_capacity(count);
        let mut left = n as u64;
        for m in self.iter() {
            if out.len() == count {
                break;
            }
            let need = (count - out.len()) as u64;
            if rng() % left < need {
                out.push(m);
            }
            left -= 1;
        }
        out
    }

    /// Bytes the allocator holds for the set, members of a hash table sampled
    /// as [`BlobTable::mem_usage`] does (MEMORY USAGE).
    pub fn mem_usage(&self, samples: usize) -> usize {
        match &self.repr {
            Repr::Ints(s) => s.mem_usage(),
            Repr::Pack(p) => p.mem_usage(),
            Repr::Table(t) => t.mem_usage(samples),
        }
    }

    /// One SSCAN step. A packed set answers everything at once with cursor 0;
    /// a hash table walks from `cursor` and returns the next one.
    pub fn scan(&self, cursor: u64, count: usize, mut emit: impl FnMut(&[u8])) -> u64 {
        match &self.repr {
            Repr::Table(t) => {
                // As Redis's scanGenericCommand: buckets until `count` members
                // came up, at most 10 * count buckets, or the walk is over.
                let (mut seen, mut steps, mut v) = (0, 0, cursor);
                loop {
                    v = t.scan_step(v, |b| {
                        emit(b.key());
                        seen += 1;
                    });
                    steps += 1;
                    if v == 0 || seen >= count || steps >= count.saturating_mul(10) {
                        return v;
                    }
                }
            }
            _ => {
                for m in self.iter() {
                    emit(&m);
                }
                0
            }
        }
    }
}

fn table_insert(t: &mut Members, m: &[u8]) -> bool {
    if t.contains(m) {
        return false;
    }
    t.insert_new(Blob::new([m]));
    true
}

fn int_cow(v: i64) -> Cow<'static, [u8]> {
    Cow::Owned(itoa::Buffer::new().format(v).as_bytes().to_vec())
}

impl std::fmt::Debug for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.repr {
            Repr::Ints(s) => write!(f, "Set::intset({s:?})"),
            Repr::Pack(p) => write!(f, "Set::listpack({p:?})"),
            Repr::Table(t) => write!(f, "Set::hashtable({t:?})"),
        }
    }
}

/// Members of a [`Set`]; integers of an intset are formatted as they come.
pub struct Iter<'a>(IterRepr<'a>);

enum IterRepr<'a> {
    Ints(&'a IntSet, usize),
    Pack(super::pack::Iter<'a>),
    Table(Box<dyn Iterator<Item = &'a [u8]> + 'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Cow<'a, [u8]>;

    fn next(&mut self) -> Option<Cow<'a, [u8]>> {
        match &mut self.0 {
            IterRepr::Ints(s, i) => {
                if *i >= s.len() {
                    return None;
                }
                *i += 1;
                Some(int_cow(s.get(*i - 1)))
            }
            IterRepr::Pack(it) => it.next().map(Cow::Borrowed),
            IterRepr::Table(it) => it.next().map(Cow::Borrowed),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            IterRepr::Ints(s, i) => (s.len() - i, Some(s.len() - i)),
            IterRepr::Pack(it) => it.size_hint(),
            IterRepr::Table(it) => it.size_hint(),
        }
    }
}
