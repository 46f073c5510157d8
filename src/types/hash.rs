//! The hash type. A small hash is one [`Pack`] of `field, value, field, value...`
//! (Redis's "listpack" encoding); past `hash-max-listpack-entries` fields, or
//! once a field or value is longer than `hash-max-listpack-value` bytes, it
//! becomes a [`BlobTable`] of `[field][value]` blobs ("hashtable") and never
//! converts back, as in Redis. A hash built whole (RESTORE) picks its encoding
//! by size.

use super::blob::{Blob, BlobTable};
use super::pack::{self, Pack};
use super::Limits;

/// A Redis hash value.
#[derive(Debug, Clone)]
pub struct Hash {
    repr: Repr,
}

#[derive(Debug, Clone)]
enum Repr {
    Pack(Pack),
    Table(Box<BlobTable<2>>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::new()
    }
}

/// Whether a pair may stay in the packed encoding.
fn fits(f: &[u8], v: &[u8], lim: &Limits) -> bool {
    f.len() <= lim.hash_max_listpack_value && v.len() <= lim.hash_max_listpack_value
}

/// The value and pair index of `field` in a packed hash.
fn pack_find<'a>(p: &'a Pack, field: &[u8]) -> Option<(usize, &'a [u8])> {
    let mut it = p.iter();
    let mut i = 0;
    while let (Some(f), Some(v)) = (it.next(), it.next()) {
        if f == field {
            return Some((i, v));
        }
        i += 1;
    }
    None
}

impl Hash {
    pub fn new() -> Hash {
        Hash { repr: Repr::Pack(Pack::new()) }
    }

    /// A hash holding `pairs` (a later duplicate field wins), encoded by its
    /// size as Redis does when it loads a hash whole.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>, lim: &Limits) -> Hash {
        let pairs: Vec<(&[u8], &[u8])> = pairs.into_iter().collect();
        let small = pairs.len() <= lim.hash_max_listpack_entries && pairs.iter().all(|(f, v)| fits(f, v, lim));
        let mut h = if small {
            Hash::new()
        } else {
            Hash { repr: Repr::Table(Box::new(BlobTable::with_capacity(pairs.len()))) }
        };
        for (f, v) in pairs {
            h.set(f, v);
        }
        h
    }

    /// Fields in the hash.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.len() / 2,
            Repr::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's name.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Pack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Whether the hash is in the packed encoding (HSCAN answers it in one call).
    pub fn is_packed(&self) -> bool {
        matches!(self.repr, Repr::Pack(_))
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Pack(p) => pack_find(p, field).map(|(_, v)| v),
            Repr::Table(t) => t.get(field).map(|b| b.part(1)),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Sets `field` to `value`; true if the field is new. Converts to the
    /// table when the pair is too long for the packed form or the hash grows
    /// past the entry limit.
    pub fn insert(&mut self, field: &[u8], value: &[u8], lim: &Limits) -> bool {
        if !fits(field, value, lim) {
            self.convert();
        }
        let new = self.set(field, value);
        if self.len() > lim.hash_max_listpack_entries {
            self.convert();
        }
        new
    }

    /// Redis's `hashTypeTryConversion`: converts a packed hash before a write
    /// that brings any string longer than `hash-max-listpack-value`, whether
    /// or not the write then happens.
    pub fn fit<'a>(&mut self, strings: impl IntoIterator<Item = &'a [u8]>, lim: &Limits) {
        if self.is_packed() && strings.into_iter().any(|s| s.len() > lim.hash_max_listpack_value) {
            self.convert();
        }
    }

    /// Sets a pair without looking at the limits; true if the field is new.
    fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Pack(p) => match pack_find(p, field) {
                Some((i, _)) => {
                    p.set(2 * i + 1, value);
                    false
                }
                None => {
                    p.push_back(field);
                    p.push_back(value);
                    true
                }
            },
            Repr::Table(t) => t.insert(Blob::new([field, value])).is_none(),
        }
    }

    /// Removes `field`; true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Pack(p) => match pack_find(p, field) {
                Some((i, _)) => {
                    p.remove_range(2 * i, 2 * i + 2);
                    true
                }
                None => false,
            },
            Repr::Table(t) => t.remove(field).is_some(),
        }
    }

    /// Packed to table (never back).
    fn convert(&mut self) {
        if let Repr::Pack(p) = &self.repr {
            let mut t = BlobTable::with_capacity(p.len() / 2);
            for (f, v) in PackPairs(p.iter()) {
                t.insert(Blob::new([f, v]));
            }
            self.repr = Repr::Table(Box::new(t));
        }
    }

    /// Every (field, value): insertion order when packed, table order otherwise.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        match &self.repr {
            Repr::Pack(p) => Either::A(PackPairs(p.iter())),
            Repr::Table(t) => Either::B(t.iter().map(|b| {
                let [f, v] = b.parts();
                (f, v)
            })),
        }
    }

    /// A random (field, value), drawn with `rnd` (uniform enough for HRANDFIELD).
    pub fn random(&self, mut rnd: impl FnMut() -> u64) -> Option<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Pack(p) => {
                let n = p.len() / 2;
                if n == 0 {
                    return None;
                }
                let i = (rnd() % n as u64) as usize;
                PackPairs(p.iter()).nth(i)
            }
            Repr::Table(t) => t.random(rnd).map(|b| {
                let [f, v] = b.parts();
                (f, v)
            }),
        }
    }

    /// One step of HSCAN from `cursor`: calls `f` for the pairs it covers and
    /// returns the next cursor. A packed hash is covered whole, returning 0.
    pub fn scan_step<'a>(&'a self, cursor: u64, mut f: impl FnMut(&'a [u8], &'a [u8])) -> u64 {
        match &self.repr {
            Repr::Pack(p) => {
                for (k, v) in PackPairs(p.iter()) {
                    f(k, v);
                }
                0
            }
            Repr::Table(t) => t.scan_step(cursor, |b| {
                let [k, v] = b.parts();
                f(k, v)
            }),
        }
    }

    /// Bytes of heap the hash holds (packed buffer, or table and blobs).
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.bytes(),
            Repr::Table(t) => t.heap_bytes(),
        }
    }

    /// Bytes the allocator holds for the hash, fields sampled as
    /// [`BlobTable::mem_usage`] does (MEMORY USAGE).
    pub fn mem_usage(&self, samples: usize) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.mem_usage(),
            Repr::Table(t) => t.mem_usage(samples),
        }
    }
}

/// (field, value) pairs of a packed hash.
struct PackPairs<'a>(pack::Iter<'a>);

impl<'a> Iterator for PackPairs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        Some((self.0.next()?, self.0.next()?))
    }
}

enum Either<A, B> {
    A(A),
    B(B),
}

impl<T, A: Iterator<Item = T>, B: Iterator<Item = T>> Iterator for Either<A, B> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match self {
            Either::A(a) => a.next(),
            Either::B(b) => b.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn lim(entries: usize, value: usize) -> Limits {
        Limits { hash_max_listpack_entries: entries, hash_max_listpack_value: value, ..Limits::default() }
    }

    #[test]
    fn converts_past_the_entry_limit() {
        let l = lim(4, 64);
        let mut h = Hash::new();
        for i in 0..4 {
            assert!(h.insert(format!("f{i}").as_bytes(), b"v", &l));
        }
        assert_eq!(h.encoding(), "listpack");
        assert!(!h.insert(b"f0", b"w", &l));
        assert_eq!(h.encoding(), "listpack");
        assert!(h.insert(b"f4", b"v", &l));
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 5);
        assert_eq!(h.get(b"f0"), Some(&b"w"[..]));
        // Never back, even when it shrinks.
        for i in 0..5 {
            assert!(h.remove(format!("f{i}").as_bytes()));
        }
        assert!(h.is_empty());
        h.insert(b"a", b"b", &l);
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn converts_on_a_long_field_or_value() {
        let l = lim(128, 8);
        let mut h = Hash::new();
        h.insert(b"12345678", b"12345678", &l);
        assert_eq!(h.encoding(), "listpack");
        h.insert(b"f", b"123456789", &l);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        h.insert(b"a", b"1", &l);
        h.insert(b"123456789", b"x", &l);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"a"), Some(&b"1"[..]));
        // `fit` converts on the arguments alone.
        let mut h = Hash::new();
        h.insert(b"a", b"1", &l);
        h.fit([&b"a"[..], b"a-long-value"], &l);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        h.fit([&b"short"[..]], &l);
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn built_whole_by_size() {
        let l = lim(2, 4);
        let small = Hash::from_pairs([(&b"a"[..], &b"1"[..]), (b"b", b"2")], &l);
        assert_eq!(small.encoding(), "listpack");
        let many = Hash::from_pairs([(&b"a"[..], &b"1"[..]), (b"b", b"2"), (b"c", b"3")], &l);
        assert_eq!(many.encoding(), "hashtable");
        assert_eq!(many.len(), 3);
        let long = Hash::from_pairs([(&b"a"[..], &b"12345"[..])], &l);
        assert_eq!(long.encoding(), "hashtable");
    }

    #[test]
    fn scans_and_samples() {
        let l = lim(16, 64);
        let mut h = Hash::new();
        for i in 0..1000 {
            h.insert(format!("f{i}").as_bytes(), format!("v{i}").as_bytes(), &l);
        }
        let mut seen = HashMap::new();
        let mut cursor = 0;
        loop {
            cursor = h.scan_step(cursor, |f, v| {
                seen.insert(f.to_vec(), v.to_vec());
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
        assert_eq!(seen[&b"f7".to_vec()], b"v7");
        let mut x = 7u64;
        let (f, v) = h
            .random(|| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                x >> 11
            })
            .unwrap();
        assert_eq!(&v[1..], &f[1..]);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, usize),
        Remove(u8),
    }

    proptest! {
        #[test]
        fn behaves_like_a_hashmap(
            entries in 0..12usize,
            value in 0..10usize,
            ops in proptest::collection::vec(prop_oneof![
                3 => (0..24u8, 0..14usize).prop_map(|(f, n)| Op::Insert(f, n)),
                1 => (0..24u8).prop_map(Op::Remove),
            ], 0..200),
        ) {
            let l = lim(entries, value);
            let mut h = Hash::new();
            let mut m: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
            let mut converted = false;
            for op in ops {
                match op {
                    Op::Insert(f, n) => {
                        let f = format!("f{f}").into_bytes();
                        let v = vec![b'x'; n];
                        converted |= f.len() > value || v.len() > value;
                        prop_assert_eq!(h.insert(&f, &v, &l), m.insert(f, v).is_none());
                        converted |= m.len() > entries;
                    }
                    Op::Remove(f) => {
                        let f = format!("f{f}").into_bytes();
                        prop_assert_eq!(h.remove(&f), m.remove(&f).is_some());
                    }
                }
                prop_assert_eq!(h.len(), m.len());
                prop_assert_eq!(h.encoding(), if converted { "hashtable" } else { "listpack" });
            }
            let got: HashMap<Vec<u8>, Vec<u8>> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
            prop_assert_eq!(&got, &m);
            for (f, v) in &m {
                prop_assert_eq!(h.get(f), Some(&v[..]));
            }
            prop_assert_eq!(h.get(b"missing"), None);
            let copy = h.clone();
            prop_assert_eq!(copy.len(), h.len());
        }
    }
}
