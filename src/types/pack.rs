//! A packed sequence of byte strings in one buffer, as Redis's listpack keeps
//! small collections: each element is `[len:varint][bytes][len:varint, bytes
//! reversed]`, so a collection of short strings costs two bytes of overhead per
//! element and one allocation, and both ends are reached in O(1) (the trailing
//! length is Redis's listpack "backlen"). Access by position is O(n); the types
//! use it only below their thresholds.

/// A packed sequence of byte strings.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Pack {
    buf: Vec<u8>,
    len: usize,
}

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

/// Makes room for `extra` more bytes in a packed buffer, growing it to the
/// allocator's size class for the new length rather than doubling it: packed
/// collections are many and small, and Redis's listpack is reallocated to its
/// exact size on every change too. A block that stays within its class is
/// resized in place by mimalloc, so most appends do not copy.
pub(crate) fn reserve_packed(buf: &mut Vec<u8>, extra: usize) {
    let need = buf.len() + extra;
    if need > buf.capacity() {
        let want = crate::alloc::block_bytes(need).max(need);
        buf.reserve_exact(want - buf.len());
    }
}

/// Gives back spare room once a packed buffer holds less than half of it.
pub(crate) fn shrink_packed(buf: &mut Vec<u8>) {
    if buf.capacity() > 2 * crate::alloc::block_bytes(buf.len()).max(16) {
        buf.shrink_to(crate::alloc::block_bytes(buf.len()));
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
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of the packed buffer (for size thresholds and memory reports).
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// The element at byte offset `off` and the offset of the next one.
    fn at(&self, off: usize) -> (&[u8], usize) {
        let (n, h) = get_varint(&self.buf[off..]);
        let start = off + h;
        (&self.buf[start..start + n], start + n + varint_len(n))
    }

    /// The element that ends at byte offset `end` and the offset it starts at.
    fn before(&self, end: usize) -> (&[u8], usize) {
        let (mut n, mut shift, mut i) = (0usize, 0, end);
        loop {
            i -= 1;
            let c = self.buf[i];
            n |= ((c & 0x7f) as usize) << shift;
            shift += 7;
            if c & 0x80 == 0 {
                break;
            }
        }
        let start = i - n;
        (&self.buf[start..i], start - varint_len(n))
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter { pack: self, off: 0 }
    }

    /// The byte offset of element `index` (or the end when `index == len`),
    /// walking from the nearer end.
    fn offset_of(&self, index: usize) -> usize {
        let index = index.min(self.len);
        if index > self.len / 2 {
            let mut off = self.buf.len();
            for _ in index..self.len {
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
        (index < self.len).then(|| self.at(self.offset_of(index)).0)
    }

    pub fn first(&self) -> Option<&[u8]> {
        self.get(0)
    }

    /// The last element, in O(1).
    pub fn last(&self) -> Option<&[u8]> {
        (self.len > 0).then(|| self.before(self.buf.len()).0)
    }

    /// Removes and returns the last element, in O(1).
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        if self.len == 0 {
            return None;
        }
        let (v, start) = self.before(self.buf.len());
        let v = v.to_vec();
        self.buf.truncate(start);
        self.len -= 1;
        shrink_packed(&mut self.buf);
        Some(v)
    }

    /// Removes and returns the first element.
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        if self.len == 0 {
            return None;
        }
        let (v, next) = self.at(0);
        let v = v.to_vec();
        self.buf.drain(..next);
        self.len -= 1;
        shrink_packed(&mut self.buf);
        Some(v)
    }

    /// Position of the first element equal to `v`.
    pub fn position(&self, v: &[u8]) -> Option<usize> {
        self.iter().position(|e| e == v)
    }

    pub fn push_back(&mut self, v: &[u8]) {
        reserve_packed(&mut self.buf, Self::entry_size(v.len()));
        write_entry(&mut self.buf, v);
        self.len += 1;
    }

    /// Inserts `v` before element `index` (at the end when `index >= len`).
    pub fn insert(&mut self, index: usize, v: &[u8]) {
        let off = self.offset_of(index);
        let mut item = Vec::with_capacity(Self::entry_size(v.len()));
        write_entry(&mut item, v);
        reserve_packed(&mut self.buf, item.len());
        self.buf.splice(off..off, item);
        self.len += 1;
    }

    pub fn push_front(&mut self, v: &[u8]) {
        self.insert(0, v);
    }

    /// Removes elements `start..end` (clamped to the pack).
    pub fn remove_range(&mut self, start: usize, end: usize) {
        let end = end.min(self.len);
        if start >= end {
            return;
        }
        let a = self.offset_of(start);
        let mut b = a;
        for _ in start..end {
            b = self.at(b).1;
        }
        self.buf.drain(a..b);
        self.len -= end - start;
        shrink_packed(&mut self.buf);
    }

    /// Removes and returns element `index`.
    pub fn remove(&mut self, index: usize) -> Option<Vec<u8>> {
        let v = self.get(index)?.to_vec();
        self.remove_range(index, index + 1);
        Some(v)
    }

    /// Replaces element `index` with `v`.
    pub fn set(&mut self, index: usize, v: &[u8]) {
        if index < self.len {
            self.remove_range(index, index + 1);
            self.insert(index, v);
        }
    }

    /// Frees spare capacity (after a collection shrinks a lot).
    pub fn shrink(&mut self) {
        self.buf.shrink_to_fit();
    }

    /// Bytes the allocator holds for the buffer (MEMORY USAGE).
    pub fn mem_usage(&self) -> usize {
        crate::alloc::block_bytes(self.buf.capacity())
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
        if self.off >= self.pack.buf.len() {
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
