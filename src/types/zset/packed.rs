//! The packed form of a small sorted set (Redis's "listpack" encoding): one
//! buffer of `[len:varint][member][score:f64 LE]` entries sorted by score, then
//! member bytes. Every operation is a linear walk, as in Redis; the sorted set
//! leaves this form past `zset-max-listpack-entries`/`-value`.

use crate::types::pack::{get_varint, put_varint};

/// A packed sorted set.
#[derive(Clone, Default, PartialEq)]
pub struct Packed {
    buf: Vec<u8>,
    len: usize,
}

/// A score as the packed form keeps it: Redis stores integral scores of a
/// listpack as integers, so `-0` comes back as `0`.
fn stored(score: f64) -> f64 {
    if score == 0.0 {
        0.0
    } else {
        score
    }
}

/// Whether `(s1, m1)` sorts before `(s2, m2)`.
pub fn before(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> bool {
    s1 < s2 || (s1 == s2 && m1 < m2)
}

impl Packed {
    pub fn new() -> Packed {
        Packed::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Bytes of the buffer.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// The entry at byte offset `off`: member, score, offset of the next entry.
    fn at(&self, off: usize) -> (&[u8], f64, usize) {
        let (n, h) = get_varint(&self.buf[off..]);
        let i = off + h;
        let member = &self.buf[i..i + n];
        let mut sb = [0u8; 8];
        sb.copy_from_slice(&self.buf[i + n..i + n + 8]);
        (member, f64::from_le_bytes(sb), i + n + 8)
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter { pack: self, off: 0 }
    }

    /// Byte offset of entry `index` (the end for `index >= len`).
    fn offset_of(&self, index: usize) -> usize {
        let mut off = 0;
        for _ in 0..index.min(self.len) {
            off = self.at(off).2;
        }
        off
    }

    /// Entry `index`.
    pub fn get(&self, index: usize) -> Option<(&[u8], f64)> {
        (index < self.len).then(|| {
            let (m, s, _) = self.at(self.offset_of(index));
            (m, s)
        })
    }

    /// Entries from `index` on.
    pub fn iter_from(&self, index: usize) -> Iter<'_> {
        Iter { pack: self, off: self.offset_of(index) }
    }

    /// (index, score) of `member`.
    pub fn find(&self, member: &[u8]) -> Option<(usize, f64)> {
        self.iter().enumerate().find(|(_, (m, _))| *m == member).map(|(i, (_, s))| (i, s))
    }

    /// Inserts a member known to be absent at its sorted position.
    pub fn insert(&mut self, member: &[u8], score: f64) {
        let score = stored(score);
        let mut off = 0;
        while off < self.buf.len() {
            let (m, s, next) = self.at(off);
            if before(score, member, s, m) {
                break;
            }
            off = next;
        }
        let mut item = Vec::with_capacity(member.len() + 10);
        put_varint(&mut item, member.len());
        item.extend_from_slice(member);
        item.extend_from_slice(&score.to_le_bytes());
        self.buf.splice(off..off, item);
        self.len += 1;
    }

    /// Appends an entry that sorts after every present one.
    pub fn push(&mut self, member: &[u8], score: f64) {
        let score = stored(score);
        put_varint(&mut self.buf, member.len());
        self.buf.extend_from_slice(member);
        self.buf.extend_from_slice(&score.to_le_bytes());
        self.len += 1;
    }

    /// Removes entries `start..end` (clamped).
    pub fn remove_range(&mut self, start: usize, end: usize) {
        let end = end.min(self.len);
        if start >= end {
            return;
        }
        let a = self.offset_of(start);
        let mut b = a;
        for _ in start..end {
            b = self.at(b).2;
        }
        self.buf.drain(a..b);
        self.len -= end - start;
        if self.buf.capacity() > 256 && self.buf.len() < self.buf.capacity() / 4 {
            self.buf.shrink_to_fit();
        }
    }

    /// Removes `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let (i, s) = self.find(member)?;
        self.remove_range(i, i + 1);
        Some(s)
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Bytes the allocator holds for the buffer (MEMORY USAGE).
    pub fn mem_usage(&self) -> usize {
        crate::alloc::block_bytes(self.buf.capacity())
    }
}

impl std::fmt::Debug for Packed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter().map(|(m, s)| (String::from_utf8_lossy(m), s))).finish()
    }
}

/// Entries of a [`Packed`] in order.
pub struct Iter<'a> {
    pack: &'a Packed,
    off: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.off >= self.pack.buf.len() {
            return None;
        }
        let (m, s, next) = self.pack.at(self.off);
        self.off = next;
        Some((m, s))
    }
}
