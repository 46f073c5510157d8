//! Redis's packed blobs inside RDB values: listpack (written byte for byte as
//! Redis 7.0 writes it, and read), intset (written and read), and the older
//! ziplist and zipmap (read only). Readers validate everything — header
//! sizes, every entry's bounds, back-lengths, counts, the end marker — so a
//! corrupt blob is bad data, never a panic.

use std::borrow::Cow;

use super::rdb::canonical_int;
use crate::types::stream::lp::{self, le, push_backlen, sext, Elem};

/// An entry of a packed blob: Redis stores integers in binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ent<'a> {
    Str(&'a [u8]),
    Int(i64),
}

impl<'a> Ent<'a> {
    pub fn bytes(self) -> Cow<'a, [u8]> {
        match self {
            Ent::Str(s) => Cow::Borrowed(s),
            Ent::Int(v) => Cow::Owned(itoa::Buffer::new().format(v).as_bytes().to_vec()),
        }
    }
}

const LP_HDR: usize = 6;
const LP_EOF: u8 = 0xff;
/// A listpack's element count when it does not fit the header.
const LP_NUMELE_UNKNOWN: usize = u16::MAX as usize;

/// Builds a listpack entry by entry, as Redis's `lpAppend` encodes them.
pub(super) struct LpWriter {
    buf: Vec<u8>,
    count: usize,
}

impl LpWriter {
    pub fn new() -> LpWriter {
        LpWriter { buf: vec![0; LP_HDR], count: 0 }
    }

    /// Entries so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The listpack's size once finished (`lpBytes`).
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    pub fn push(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let b = &mut self.buf;
        match canonical_int(s) {
            Some(v @ 0..=127) => b.push(v as u8),
            Some(v @ -4096..=4095) => {
                let u = (v as u64) & 0x1fff;
                b.extend_from_slice(&[0xc0 | (u >> 8) as u8, u as u8]);
            }
            Some(v @ -32768..=32767) => {
                b.push(0xf1);
                b.extend_from_slice(&(v as i16).to_le_bytes());
            }
            Some(v @ -8_388_608..=8_388_607) => {
                b.push(0xf2);
                b.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            Some(v) if i32::try_from(v).is_ok() => {
                b.push(0xf3);
                b.extend_from_slice(&(v as i32).to_le_bytes());
            }
            Some(v) => {
                b.push(0xf4);
                b.extend_from_slice(&v.to_le_bytes());
            }
            None => {
                let n = s.len();
                if n < 64 {
                    b.push(0x80 | n as u8);
                } else if n < 4096 {
                    b.extend_from_slice(&[0xe0 | (n >> 8) as u8, n as u8]);
                } else {
                    b.push(0xf0);
                    b.extend_from_slice(&(n as u32).to_le_bytes());
                }
                b.extend_from_slice(s);
            }
        }
        let len = self.buf.len() - start;
        push_backlen(len, &mut self.buf);
        self.count += 1;
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(LP_EOF);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let n = self.count.min(LP_NUMELE_UNKNOWN) as u16;
        self.buf[4..6].copy_from_slice(&n.to_le_bytes());
        self.buf
    }
}

/// A listpack of `items`.
pub(super) fn listpack<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut w = LpWriter::new();
    for i in items {
        w.push(i);
    }
    w.finish()
}

/// The entries of a listpack, or `None` if it is malformed.
pub(super) fn listpack_entries(lp: &[u8]) -> Option<Vec<Ent<'_>>> {
    let n = lp::validate(lp)?;
    let mut out = Vec::with_capacity(n);
    let mut p = LP_HDR;
    while let Some((e, next)) = lp::decode(lp, p) {
        out.push(match e {
            Elem::Str(s) => Ent::Str(s),
            Elem::Int(v) => Ent::Int(v),
        });
        p = next;
    }
    Some(out)
}

/// An intset of sorted, distinct `values` in the narrowest width that holds
/// them all (what Redis has unless a wider member was removed).
pub(super) fn intset(values: &[i64]) -> Vec<u8> {
    let width: usize = if values.iter().all(|&v| i16::try_from(v).is_ok()) {
        2
    } else if values.iter().all(|&v| i32::try_from(v).is_ok()) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + width * values.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for v in values {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

/// The members of an intset, or `None` if it is malformed (bad width, size
/// or members not strictly ascending).
pub(super) fn intset_values(blob: &[u8]) -> Option<Vec<i64>> {
    if blob.len() < 8 {
        return None;
    }
    let width = le(&blob[..4]) as usize;
    let count = le(&blob[4..8]) as usize;
    if !matches!(width, 2 | 4 | 8) || count.checked_mul(width)?.checked_add(8)? != blob.len() {
        return None;
    }
    let values: Vec<i64> = blob[8..].chunks_exact(width).map(|c| sext(le(c), 8 * width as u32)).collect();
    values.windows(2).all(|w| w[0] < w[1]).then_some(values)
}

const ZIP_END: u8 = 0xff;
const ZIP_BIG_PREVLEN: u8 = 0xfe;

/// The entries of a ziplist (RDB types 10, 12, 13, 14), or `None` if it is
/// malformed: header sizes, every entry, the previous-entry lengths, the tail
/// offset and the count are all checked.
pub(super) fn ziplist_entries(zl: &[u8]) -> Option<Vec<Ent<'_>>> {
    if zl.len() < 11 || le(&zl[..4]) != zl.len() as u64 || zl[zl.len() - 1] != ZIP_END {
        return None;
    }
    let tail = le(&zl[4..8]) as usize;
    let declared = le(&zl[8..10]) as usize;
    let end = zl.len() - 1;
    let mut out = Vec::new();
    let (mut p, mut prev_len, mut last) = (10usize, 0usize, 10usize);
    while p < end {
        let at = |off: usize, n: usize| zl.get(p + off..p + off + n).filter(|_| p + off + n <= end);
        let (prevlen, mut h) = match zl[p] {
            ZIP_BIG_PREVLEN => (le(at(1, 4)?) as usize, 5),
            ZIP_END => return None,
            b => (b as usize, 1),
        };
        if prevlen != prev_len {
            return None;
        }
        let enc = *at(h, 1)?.first()?;
        let ent = match enc >> 6 {
            0 => {
                let n = (enc & 0x3f) as usize;
                h += 1;
                Ent::Str(at(h, n).inspect(|_| h += n)?)
            }
            1 => {
                let n = ((enc & 0x3f) as usize) << 8 | *at(h + 1, 1)?.first()? as usize;
                h += 2;
                Ent::Str(at(h, n).inspect(|_| h += n)?)
            }
            2 => {
                let n = u32::from_be_bytes(at(h + 1, 4)?.try_into().ok()?) as usize;
                h += 5;
                Ent::Str(at(h, n).inspect(|_| h += n)?)
            }
            _ => {
                let (size, bits) = match enc {
                    0xc0 => (2, 16),
                    0xd0 => (4, 32),
                    0xe0 => (8, 64),
                    0xf0 => (3, 24),
                    0xfe => (1, 8),
                    0xf1..=0xfd => (0, 0),
                    _ => return None,
                };
                let v = if size == 0 { (enc & 0x0f) as i64 - 1 } else { sext(le(at(h + 1, size)?), bits) };
                h += 1 + size;
                Ent::Int(v)
            }
        };
        out.push(ent);
        last = p;
        prev_len = h;
        p += h;
    }
    let expected_tail = if out.is_empty() { 10 } else { last };
    if p != end || tail != expected_tail || (declared != u16::MAX as usize && declared != out.len()) {
        return None;
    }
    Some(out)
}

/// The field/value pairs of a zipmap (RDB type 9, hashes of Redis before
/// 2.6), or `None` if it is malformed.
pub(super) fn zipmap_pairs(zm: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let declared = *zm.first()? as usize;
    let mut p = 1usize;
    let len = |p: &mut usize| -> Option<usize> {
        match *zm.get(*p)? {
            254 => {
                let n = le(zm.get(*p + 1..*p + 5)?) as usize;
                *p += 5;
                Some(n)
            }
            255 => None,
            b => {
                *p += 1;
                Some(b as usize)
            }
        }
    };
    let mut out = Vec::new();
    while *zm.get(p)? != 255 {
        let klen = len(&mut p)?;
        let key = zm.get(p..p.checked_add(klen)?)?;
        p += klen;
        let vlen = len(&mut p)?;
        let free = *zm.get(p)? as usize;
        p += 1;
        let value = zm.get(p..p.checked_add(vlen)?)?;
        p = p.checked_add(vlen)?.checked_add(free)?;
        out.push((key, value));
    }
    if p + 1 != zm.len() || (declared < 254 && declared != out.len()) {
        return None;
    }
    Some(out)
}
