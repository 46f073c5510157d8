//! The packed form of a small sorted set (Redis's "listpack" encoding): one
//! buffer of `[len:varint][member][score]` entries sorted by score, then
//! member bytes. A score that is an integer of at most 2^53 in magnitude is
//! one varint, `zigzag(score) << 1` (scores 0..31 take one byte), as listpack
//! stores integral scores as integers; any other is a `1` byte then the f64's
//! 8 bytes. Every operation is a linear walk, as in Redis; the sorted set
//! leaves this form past `zset-max-listpack-entries`/`-value`.

use crate::types::pack::{get_varint, put_varint, varint_len, Buf};

/// Largest magnitude of a score kept as an integer (every integer up to it is
/// exact in an f64).
const INT_SCORE_MAX: f64 = 9_007_199_254_740_992.0;

/// The score's integer form, if it has one.
fn int_score(score: f64) -> Option<i64> {
    (score == score.trunc() && score.abs() <= INT_SCORE_MAX).then_some(score as i64)
}

/// Bytes the score takes in a pack.
fn score_len(score: f64) -> usize {
    match int_score(score) {
        Some(i) => varint_len(zigzag(i) << 1),
        None => 9,
    }
}

fn zigzag(i: i64) -> usize {
    ((i << 1) ^ (i >> 63)) as u64 as usize
}

/// Appends a score (see the module comment).
fn put_score(out: &mut Vec<u8>, score: f64) {
    match int_score(score) {
        Some(i) => put_varint(out, zigzag(i) << 1),
        None => {
            out.push(1);
            out.extend_from_slice(&score.to_le_bytes());
        }
    }
}

/// (score, bytes read) of the score at the start of `b`.
fn get_score(b: &[u8]) -> (f64, usize) {
    let (v, n) = get_varint(b);
    if v & 1 == 0 {
        let z = (v >> 1) as u64;
        let i = ((z >> 1) as i64) ^ -((z & 1) as i64);
        return (i as f64, n);
    }
    let mut sb = [0u8; 8];
    sb.copy_from_slice(&b[n..n + 8]);
    (f64::from_le_bytes(sb), n + 8)
}

/// Bytes of the buffer's header: the entry count, as a little-endian u32.
const HEAD: usize = 4;

/// A packed sorted set.
#[derive(Clone, Default, PartialEq)]
pub struct Packed {
    buf: Buf<HEAD>,
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
        u32::from_le_bytes(self.buf.header()) as usize
    }

    fn count(n: usize) -> [u8; HEAD] {
        (n as u32).to_le_bytes()
    }

    /// Bytes of the buffer.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// The entry at byte offset `off`: member, score, offset of the next entry.
    fn at(&self, off: usize) -> (&[u8], f64, usize) {
        let buf = self.buf.data();
        let (n, h) = get_varint(&buf[off..]);
        let i = off + h;
        let member = &buf[i..i + n];
        let (score, sn) = get_score(&buf[i + n..]);
        (member, score, i + n + sn)
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter { pack: self, off: 0 }
    }

    /// Byte offset of entry `index` (the end for `index >= len`).
    fn offset_of(&self, index: usize) -> usize {
        let mut off = 0;
        for _ in 0..index.min(self.len()) {
            off = self.at(off).2;
        }
        off
    }

    /// Entry `index`.
    pub fn get(&self, index: usize) -> Option<(&[u8], f64)> {
        (index < self.len()).then(|| {
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
        let mut item = Vec::with_capacity(varint_len(member.len()) + member.len() + score_len(score));
        put_varint(&mut item, member.len());
        item.extend_from_slice(member);
        put_score(&mut item, score);
        self.buf.edit(Self::count(self.len() + 1), item.len(), |b| {
            b.splice(HEAD + off..HEAD + off, item);
        });
    }

    /// Appends an entry that sorts after every present one.
    pub fn push(&mut self, member: &[u8], score: f64) {
        let score = stored(score);
        let extra = varint_len(member.len()) + member.len() + score_len(score);
        self.buf.edit(Self::count(self.len() + 1), extra, |b| {
            put_varint(b, member.len());
            b.extend_from_slice(member);
            put_score(b, score);
        });
    }

    /// Removes entries `start..end` (clamped).
    pub fn remove_range(&mut self, start: usize, end: usize) {
        let end = end.min(self.len());
        if start >= end {
            return;
        }
        let a = self.offset_of(start);
        let mut b = a;
        for _ in start..end {
            b = self.at(b).2;
        }
        self.buf.edit(Self::count(self.len() - (end - start)), 0, |buf| {
            buf.drain(HEAD + a..HEAD + b);
        });
    }

    /// Removes `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let (i, s) = self.find(member)?;
        self.remove_range(i, i + 1);
        Some(s)
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.buf.heap_bytes()
    }

    /// Bytes the allocator holds for the buffer (MEMORY USAGE).
    pub fn mem_usage(&self) -> usize {
        self.buf.heap_bytes()
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
        if self.off >= self.pack.bytes() {
            return None;
        }
        let (m, s, next) = self.pack.at(self.off);
        self.off = next;
        Some((m, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_round_trip_in_their_compact_forms() {
        let scores = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            31.0,
            32.0,
            -123_456.0,
            INT_SCORE_MAX,
            -INT_SCORE_MAX,
            INT_SCORE_MAX * 4.0,
            1.5,
            -0.25,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            f64::MAX,
        ];
        let mut p = Packed::new();
        for (i, &s) in scores.iter().enumerate() {
            p.insert(format!("m{i}").as_bytes(), s);
        }
        for (i, &s) in scores.iter().enumerate() {
            let got = p.find(format!("m{i}").as_bytes()).map(|(_, g)| g);
            assert_eq!(got.map(f64::to_bits), Some(stored(s).to_bits()), "{s}");
        }
        let sorted: Vec<f64> = p.iter().map(|(_, s)| s).collect();
        assert!(sorted.windows(2).all(|w| w[0] <= w[1]));
        let mut small = Packed::new();
        small.push(b"a", 1.0);
        assert_eq!(small.bytes(), 3, "a member of one byte and score 1 take 3 bytes");
        small.push(b"b", 2.5);
        assert_eq!(small.bytes(), 3 + 11);
    }
}
