//! A packed sequence of byte strings in one buffer, as Redis's listpack keeps
//! small collections: each element is `[len:varint][bytes][len:varint, bytes
//! reversed]`, so a collection of short strings costs two bytes of overhead per
//! element and one allocation, and both ends are reached in O(1) (the trailing
//! length is Redis's listpack "backlen"). Access by position is O(n); the types
//! use it only below their thresholds.

/// Bytes of the varint that encodes `v` (7 bits a byte, low bits first).
pub(crate) fn varint_len(mut v: usize) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Appends the varint of `v`.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: usize) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// (value, bytes read) of the varint at the start of `b`.
pub(crate) fn get_varint(b: &[u8]) -> (usize, usize) {
    let mut v = 0usize;
    for (i, &c) in b.iter().enumerate() {
        v |= ((c & 0x7f) as usize) << (7 * i);
        if c & 0x80 == 0 {
            return (v, i + 1);
        }
    }
    (v, b.len())
}

/// The buffer of a packed encoding: `H` header bytes its owner keeps there
/// (an element count, an integer width), then the packed bytes, in one heap
/// block of exactly that size, as Redis reallocates a listpack to its exact
/// size on every change (mimalloc resizes a block in place while it stays in
/// its size class, so most changes do not copy). Sixteen bytes inline; no
/// block at all while empty, when the header reads as zeros.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Buf<const H: usize> {
    b: Box<[u8]>,
}

impl<const H: usize> Buf<H> {
    pub fn header(&self) -> [u8; H] {
        self.b.get(..H).and_then(|h| h.try_into().ok()).unwrap_or([0; H])
    }

    /// The packed bytes after the header.
    pub fn data(&self) -> &[u8] {
        self.b.get(H..).unwrap_or_default()
    }

    /// Length of the packed bytes.
    pub fn len(&self) -> usize {
        self.b.len().saturating_sub(H)
    }

    /// Bytes the allocator holds for the block.
    pub fn heap_bytes(&self) -> usize {
        if self.b.is_empty() {
            0
        } else {
            crate::alloc::block_bytes(self.b.len())
        }
    }

    /// Changes the block as a `Vec` holding the header and the packed
    /// bytes (so the packed bytes start at offset `H`), with room for
    /// `extra` more bytes reserved exactly, then sets the header; a block
    /// left with no packed bytes and a zero header is freed.
    pub fn edit<R>(&mut self, header: [u8; H], extra: usize, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
        let mut v = Vec::from(std::mem::take(&mut self.b));
        if v.is_empty() {
            v.reserve_exact(H + extra);
            v.resize(H, 0);
        } else {
            v.reserve_exact(extra);
        }
        let r = f(&mut v);
        v[..H].copy_from_slice(&header);
        self.b = if v.len() == H && header == [0; H] { Box::default() } else { v.into_boxed_slice() };
        r
    }
}

/// Appends one element: its length, its bytes, its length reversed.
fn write_entry(out: &mut Vec<u8>, v: &[u8]) {
    put_varint(out, v.len());
    out.extend_from_slice(v);
    let back = out.len();
    put_varint(out, v.len());
    out[back..].reverse();
}

/// Bytes of a pack's header: its element count, as a little-endian u32.
const PACK_HEAD: usize = 4;

/// A packed sequence of byte strings; its element count is the buffer's
/// header.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Pack {
    buf: Buf<PACK_HEAD>,
}

impl Pack {
    pub fn new() -> Pack {
        Pack::default()
    }

    /// Bytes an element of `len` bytes takes in a pack.
    pub fn entry_size(len: usize) -> usize {
        2 * varint_len(len) + len
    }

    /// Elements in the pack.
    pub fn len(&self) -> usize {
        u32::from_le_bytes(self.buf.header()) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of the packed elements (for size thresholds and memory reports).
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    fn count(n: usize) -> [u8; PACK_HEAD] {
        (n as u32).to_le_bytes()
    }

    /// The element at byte offset `off` and the offset of the next one.
    fn at(&self, off: usize) -> (&[u8], usize) {
        let buf = self.buf.data();
        let (n, h) = get_varint(&buf[off..]);
        let start = off + h;
        (&buf[start..start + n], start + n + varint_len(n))
    }

    /// The element that ends at byte offset `end` and the offset it starts at.
    fn before(&self, end: usize) -> (&[u8], usize) {
        let buf = self.buf.data();
        let (mut n, mut shift, mut i) = (0usize, 0, end);
        loop {
            i -= 1;
            let c = buf[i];
            n |= ((c & 0x7f) as usize) << shift;
            shift += 7;
            if c & 0x80 == 0 {
                break;
            }
        }
        let start = i - n;
        (&buf[start..i], start - varint_len(n))
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter { pack: self, off: 0 }
    }

    /// The byte offset of element `index` (or the end when `index == len`),
    /// walking from the nearer end.
    fn offset_of(&self, index: usize) -> usize {
        let len = self.len();
        let index = index.min(len);
        if index > len / 2 {
            let mut off = self.buf.len();
            for _ in index..len {
                off = self.before(off).1;
            }
            return off;
        }
        let mut off = 0;
        for _ in 0..index {
            off = self.at(off).1;
        }
        off
    }

    pub fn get(&self, index: usize) -> Option<&[u8]> {
        (index < self.len()).then(|| self.at(self.offset_of(index)).0)
    }

    pub fn first(&self) -> Option<&[u8]> {
        self.get(0)
    }

    /// The last element, in O(1).
    pub fn last(&self) -> Option<&[u8]> {
        (!self.is_empty()).then(|| self.before(self.buf.len()).0)
    }

    /// Removes and returns the last element, in O(1).
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        if self.is_empty() {
            return None;
        }
        let (v, start) = self.before(self.buf.len());
        let v = v.to_vec();
        self.buf.edit(Self::count(self.len() - 1), 0, |b| b.truncate(PACK_HEAD + start));
        Some(v)
    }

    /// Removes and returns the first element.
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        self.remove(0)
    }

    /// Position of the first element equal to `v`.
    pub fn position(&self, v: &[u8]) -> Option<usize> {
        self.iter().position(|e| e == v)
    }

    pub fn push_back(&mut self, v: &[u8]) {
        self.buf.edit(Self::count(self.len() + 1), Self::entry_size(v.len()), |b| write_entry(b, v));
    }

    /// Inserts `v` before element `index` (at the end when `index >= len`).
    pub fn insert(&mut self, index: usize, v: &[u8]) {
        let off = self.offset_of(index);
        let mut item = Vec::with_capacity(Self::entry_size(v.len()));
        write_entry(&mut item, v);
        self.buf.edit(Self::count(self.len() + 1), item.len(), |b| {
            b.splice(PACK_HEAD + off..PACK_HEAD + off, item);
        });
    }

    pub fn push_front(&mut self, v: &[u8]) {
        self.insert(0, v);
    }

    /// Removes elements `start..end` (clamped to the pack).
    pub fn remove_range(&mut self, start: usize, end: usize) {
        let end = end.min(self.len());
        if start >= end {
            return;
        }
        let a = self.offset_of(start);
        let mut b = a;
        for _ in start..end {
            b = self.at(b).1;
        }
        self.buf.edit(Self::count(self.len() - (end - start)), 0, |buf| {
            buf.drain(PACK_HEAD + a..PACK_HEAD + b);
        });
    }

    /// Removes and returns element `index`.
    pub fn remove(&mut self, index: usize) -> Option<Vec<u8>> {
        let v = self.get(index)?.to_vec();
        self.remove_range(index, index + 1);
        Some(v)
    }

    /// Replaces element `index` with `v`.
    pub fn set(&mut self, index: usize, v: &[u8]) {
        if index < self.len() {
            self.remove_range(index, index + 1);
            self.insert(index, v);
        }
    }

    /// Bytes the allocator holds for the buffer (MEMORY USAGE).
    pub fn mem_usage(&self) -> usize {
        self.buf.heap_bytes()
    }
}

impl std::fmt::Debug for Pack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter().map(String::from_utf8_lossy)).finish()
    }
}

/// Elements of a [`Pack`], front to back.
pub struct Iter<'a> {
    pack: &'a Pack,
    off: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.off >= self.pack.bytes() {
            return None;
        }
        let (v, next) = self.pack.at(self.off);
        self.off = next;
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Push(Vec<u8>),
        Insert(usize, Vec<u8>),
        Remove(usize, usize),
        Set(usize, Vec<u8>),
        PopBack,
        PopFront,
    }

    fn op() -> impl Strategy<Value = Op> {
        let bytes = proptest::collection::vec(any::<u8>(), 0..300);
        prop_oneof![
            bytes.clone().prop_map(Op::Push),
            (0..20usize, bytes.clone()).prop_map(|(i, v)| Op::Insert(i, v)),
            (0..20usize, 0..5usize).prop_map(|(i, n)| Op::Remove(i, n)),
            (0..20usize, bytes).prop_map(|(i, v)| Op::Set(i, v)),
            Just(Op::PopBack),
            Just(Op::PopFront),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_vec(ops in proptest::collection::vec(op(), 0..60)) {
            let mut p = Pack::new();
            let mut m: Vec<Vec<u8>> = Vec::new();
            for o in ops {
                match o {
                    Op::Push(v) => { p.push_back(&v); m.push(v); }
                    Op::Insert(i, v) => { p.insert(i, &v); m.insert(i.min(m.len()), v); }
                    Op::Remove(i, n) => {
                        p.remove_range(i, i + n);
                        let end = (i + n).min(m.len());
                        if i < end { m.drain(i..end); }
                    }
                    Op::Set(i, v) => { p.set(i, &v); if i < m.len() { m[i] = v; } }
                    Op::PopBack => prop_assert_eq!(p.pop_back(), m.pop()),
                    Op::PopFront => {
                        let want = (!m.is_empty()).then(|| m.remove(0));
                        prop_assert_eq!(p.pop_front(), want);
                    }
                }
                prop_assert_eq!(p.last(), m.last().map(|v| &v[..]));
                prop_assert_eq!(p.len(), m.len());
                prop_assert!(p.iter().eq(m.iter().map(|v| &v[..])));
            }
            for (i, v) in m.iter().enumerate() {
                prop_assert_eq!(p.get(i), Some(&v[..]));
            }
            prop_assert_eq!(p.get(m.len()), None);
        }
    }
}
