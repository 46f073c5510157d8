//! One keyspace entry = one heap block holding header, optional expiry, key and
//! value, addressed by a thin 8-byte pointer so the table stores 8 bytes a key.
//!
//! Block layout (no padding, unaligned fields):
//! ```text
//! [flags:1][access:3][expire_at_ms:8 if EXPIRE][key_len:varint][key][value part]
//! value part, string: [len:varint][bytes]
//! value part, collection: [pointer to a boxed `types::Value`:8]
//! ```

use std::ptr::NonNull;

use crate::types::{Kind, Value};

const FLAG_EXPIRE: u8 = 0b0000_0100;
/// The value part is `[len:u32][capacity:u32][capacity bytes]`, with room to grow
/// in place (strings built by APPEND/SETRANGE, as Redis's sds keeps free space).
const FLAG_SLACK: u8 = 0b0010_0000;
/// The value part is a pointer to a boxed collection ([`Value`]) the entry owns.
const FLAG_OBJ: u8 = 0b0100_0000;
/// The snapshot mark: an entry whose mark equals its database's is already
/// in (or, created later, not part of) the snapshot being taken.
const FLAG_MARK: u8 = 0b1000_0000;
const ENC_SHIFT: u8 = 3;
const ENC_MASK: u8 = 0b0001_1000;
const HEADER: usize = 4;

/// How Redis would encode a string value; reported by OBJECT ENCODING.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrEncoding {
    Raw = 0,
    Embstr = 1,
    Int = 2,
}

impl StrEncoding {
    /// Redis's `tryObjectEncoding` for a value stored by SET-like commands.
    pub fn for_value(v: &[u8]) -> StrEncoding {
        if v.len() <= 20 && crate::resp::parse::parse_i64(v).is_some() {
            StrEncoding::Int
        } else if v.len() <= 44 {
            StrEncoding::Embstr
        } else {
            StrEncoding::Raw
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            StrEncoding::Raw => "raw",
            StrEncoding::Embstr => "embstr",
            StrEncoding::Int => "int",
        }
    }
}

fn varint_len(mut v: usize) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Writes `v` at `p` and returns the bytes written.
///
/// SAFETY: the caller guarantees `varint_len(v)` bytes are writable at `p`.
unsafe fn put_varint(p: *mut u8, mut v: usize) -> usize {
    let mut i = 0;
    while v >= 0x80 {
        *p.add(i) = (v as u8) | 0x80;
        v >>= 7;
        i += 1;
    }
    *p.add(i) = v as u8;
    i + 1
}

/// Reads a varint at `p`, returning (value, bytes read).
///
/// SAFETY: `p` points into a block written by `put_varint`.
unsafe fn get_varint(p: *const u8) -> (usize, usize) {
    let mut v = 0usize;
    let mut shift = 0;
    let mut i = 0;
    loop {
        let b = *p.add(i);
        v |= ((b & 0x7f) as usize) << shift;
        i += 1;
        if b & 0x80 == 0 {
            return (v, i);
        }
        shift += 7;
    }
}

/// An owned keyspace entry holding a string value.
pub struct Entry {
    ptr: NonNull<u8>,
}

impl Entry {
    /// The address of the entry's block, for a prefetch hint.
    pub fn block_addr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    /// Builds an entry for `key` holding the string `value`.
    pub fn new_string(key: &[u8], value: &[u8], enc: StrEncoding, expire_at_ms: Option<u64>) -> Entry {
        Self::build(key, value, enc, expire_at_ms, None)
    }

    /// A raw string with room for `capacity` bytes, so appends up to that length
    /// happen in place. Capacity grows as Redis's `sdsMakeRoomFor`: double below
    /// 1 MiB, then 1 MiB more.
    pub fn new_growable(key: &[u8], value: &[u8], expire_at_ms: Option<u64>) -> Entry {
        let len = value.len();
        let capacity = if len < 1 << 20 { len * 2 } else { len + (1 << 20) };
        // Lengths are stored as u32 here; beyond that the value has no spare room.
        if capacity > u32::MAX as usize {
            return Self::new_string(key, value, StrEncoding::Raw, expire_at_ms);
        }
        Self::build(key, value, StrEncoding::Raw, expire_at_ms, Some(capacity))
    }

    /// Builds an entry for `key` owning the collection `value`.
    pub fn new_obj(key: &[u8], value: Value, expire_at_ms: Option<u64>) -> Entry {
        Self::from_obj_ptr(key, Box::into_raw(Box::new(value)), expire_at_ms)
    }

    fn from_obj_ptr(key: &[u8], obj: *mut Value, expire_at_ms: Option<u64>) -> Entry {
        let addr = (obj as usize).to_le_bytes();
        let e = Self::build(key, &addr, StrEncoding::Raw, expire_at_ms, None);
        // SAFETY: the header byte exists; marking it makes Drop free the box.
        unsafe { *e.ptr.as_ptr() |= FLAG_OBJ };
        e
    }

    /// Whether the entry holds a collection rather than a string.
    pub fn is_obj(&self) -> bool {
        self.flags() & FLAG_OBJ != 0
    }

    /// The Redis type of the value.
    pub fn kind(&self) -> Kind {
        self.obj().map_or(Kind::String, Value::kind)
    }

    fn obj_ptr(&self) -> Option<*mut Value> {
        if !self.is_obj() {
            return None;
        }
        let (off, _) = self.value_span();
        let mut b = [0u8; 8];
        // SAFETY: an object entry's value part is the 8-byte pointer written by from_obj_ptr.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.as_ptr().add(off), b.as_mut_ptr(), 8) };
        Some(usize::from_le_bytes(b) as *mut Value)
    }

    /// The collection, if the entry holds one.
    pub fn obj(&self) -> Option<&Value> {
        // SAFETY: the box is owned by this entry and lives as long as it.
        self.obj_ptr().map(|p| unsafe { &*p })
    }

    /// The collection for in-place changes.
    pub fn obj_mut(&mut self) -> Option<&mut Value> {
        // SAFETY: as in `obj`; `&mut self` makes the access exclusive.
        self.obj_ptr().map(|p| unsafe { &mut *p })
    }

    /// A deep copy (collections are cloned), keeping the access field.
    pub fn duplicate(&self) -> Entry {
        let mut e = match self.obj() {
            Some(v) => Entry::new_obj(self.key(), v.clone(), self.expire_at()),
            None => Entry::new_string(self.key(), self.value(), self.encoding(), self.expire_at()),
        };
        e.set_access(self.access());
        e
    }

    /// The same value under another key and expiry, consuming this entry:
    /// a collection moves without being copied.
    pub fn rebuild(self, key: &[u8], expire_at_ms: Option<u64>) -> Entry {
        let access = self.access();
        let mut e = match self.obj_ptr() {
            Some(p) => {
                let e = Self::from_obj_ptr(key, p, expire_at_ms);
                self.forget_obj();
                e
            }
            None => Entry::new_string(key, self.value(), self.encoding(), expire_at_ms),
        };
        e.set_access(access);
        e
    }

    /// Takes the collection out, freeing the entry's block.
    pub fn into_obj(self) -> Option<Value> {
        let p = self.obj_ptr()?;
        self.forget_obj();
        // SAFETY: the pointer came from Box::into_raw and no entry owns it any more.
        Some(*unsafe { Box::from_raw(p) })
    }

    /// Frees the block of an object entry without dropping its collection,
    /// whose ownership the caller took.
    fn forget_obj(self) {
        let me = std::mem::ManuallyDrop::new(self);
        // SAFETY: as in Drop, minus the collection.
        unsafe { super::slab::free_block(me.ptr.as_ptr(), me.size()) }
    }

    fn build(key: &[u8], value: &[u8], enc: StrEncoding, expire_at_ms: Option<u64>, slack: Option<usize>) -> Entry {
        let exp = if expire_at_ms.is_some() { 8 } else { 0 };
        let value_part = match slack {
            Some(cap) => 8 + cap.max(value.len()),
            None => varint_len(value.len()) + value.len(),
        };
        let size = HEADER + exp + varint_len(key.len()) + key.len() + value_part;
        // SAFETY: alloc_block returns `size` writable bytes; every byte of the
        // block is written below, in bounds of the size computed above.
        unsafe {
            let p = super::slab::alloc_block(size);
            let Some(ptr) = NonNull::new(p) else { unreachable!("alloc_block never returns null") };
            let slack_flag = if slack.is_some() { FLAG_SLACK } else { 0 };
            *p = (if exp > 0 { FLAG_EXPIRE } else { 0 }) | slack_flag | ((enc as u8) << ENC_SHIFT);
            std::ptr::write_bytes(p.add(1), 0, 3);
            let mut off = HEADER;
            if let Some(at) = expire_at_ms {
                std::ptr::copy_nonoverlapping(at.to_le_bytes().as_ptr(), p.add(off), 8);
                off += 8;
            }
            off += put_varint(p.add(off), key.len());
            std::ptr::copy_nonoverlapping(key.as_ptr(), p.add(off), key.len());
            off += key.len();
            match slack {
                Some(cap) => {
                    let cap = cap.max(value.len());
                    std::ptr::copy_nonoverlapping((value.len() as u32).to_le_bytes().as_ptr(), p.add(off), 4);
                    std::ptr::copy_nonoverlapping((cap as u32).to_le_bytes().as_ptr(), p.add(off + 4), 4);
                    off += 8;
                    std::ptr::write_bytes(p.add(off + value.len()), 0, cap - value.len());
                    debug_assert_eq!(off + cap, size);
                }
                None => {
                    off += put_varint(p.add(off), value.len());
                    debug_assert_eq!(off + value.len(), size);
                }
            }
            std::ptr::copy_nonoverlapping(value.as_ptr(), p.add(off), value.len());
            Entry { ptr }
        }
    }

    fn flags(&self) -> u8 {
        // SAFETY: the block is at least HEADER bytes long.
        unsafe { *self.ptr.as_ptr() }
    }

    fn key_offset(&self) -> usize {
        HEADER + if self.flags() & FLAG_EXPIRE != 0 { 8 } else { 0 }
    }

    /// (offset, len) of the key bytes and of the value part start.
    fn key_span(&self) -> (usize, usize) {
        let off = self.key_offset();
        // SAFETY: a varint key length is stored at key_offset.
        let (len, n) = unsafe { get_varint(self.ptr.as_ptr().add(off)) };
        (off + n, len)
    }

    pub fn key(&self) -> &[u8] {
        let (off, len) = self.key_span();
        // SAFETY: the key's bytes lie inside the block, which lives as long as self.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(off), len) }
    }

    fn value_span(&self) -> (usize, usize) {
        let (koff, klen) = self.key_span();
        let voff = koff + klen;
        if self.flags() & FLAG_SLACK != 0 {
            return (voff + 8, self.slack_field(voff) as usize);
        }
        // SAFETY: a varint value length follows the key.
        let (len, n) = unsafe { get_varint(self.ptr.as_ptr().add(voff)) };
        (voff + n, len)
    }

    /// A u32 of the slack value header at `at`.
    fn slack_field(&self, at: usize) -> u32 {
        let mut b = [0u8; 4];
        // SAFETY: with FLAG_SLACK, 8 bytes of length and capacity follow the key.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.as_ptr().add(at), b.as_mut_ptr(), 4) };
        u32::from_le_bytes(b)
    }

    /// Appends in place if the entry has room; false if it must be rebuilt.
    pub fn try_append(&mut self, tail: &[u8]) -> bool {
        if self.flags() & FLAG_SLACK == 0 {
            return false;
        }
        let (off, len) = self.value_span();
        let cap = self.slack_field(off - 4) as usize;
        if len + tail.len() > cap {
            return false;
        }
        let new_len = (len + tail.len()) as u32;
        // SAFETY: len + tail.len() <= capacity, so the bytes lie inside the block;
        // `&mut self` makes the write exclusive.
        unsafe {
            let p = self.ptr.as_ptr();
            std::ptr::copy_nonoverlapping(tail.as_ptr(), p.add(off + len), tail.len());
            std::ptr::copy_nonoverlapping(new_len.to_le_bytes().as_ptr(), p.add(off - 8), 4);
        }
        true
    }

    /// The string value (empty for a collection: check [`Entry::is_obj`] first).
    pub fn value(&self) -> &[u8] {
        if self.is_obj() {
            return &[];
        }
        let (off, len) = self.value_span();
        // SAFETY: the value's bytes lie inside the block.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(off), len) }
    }

    /// The value's bytes for in-place edits that keep its length.
    pub fn value_mut(&mut self) -> &mut [u8] {
        if self.is_obj() {
            return &mut [];
        }
        let (off, len) = self.value_span();
        // SAFETY: as in `value`, and `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().add(off), len) }
    }

    pub fn encoding(&self) -> StrEncoding {
        match (self.flags() & ENC_MASK) >> ENC_SHIFT {
            2 => StrEncoding::Int,
            1 => StrEncoding::Embstr,
            _ => StrEncoding::Raw,
        }
    }

    pub fn expire_at(&self) -> Option<u64> {
        if self.flags() & FLAG_EXPIRE == 0 {
            return None;
        }
        let mut b = [0u8; 8];
        // SAFETY: 8 expiry bytes follow the header when FLAG_EXPIRE is set.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.as_ptr().add(HEADER), b.as_mut_ptr(), 8) };
        Some(u64::from_le_bytes(b))
    }

    /// Changes an existing expiry in place (the entry must already have one).
    pub fn set_expire_in_place(&mut self, at: u64) {
        debug_assert!(self.flags() & FLAG_EXPIRE != 0);
        if self.flags() & FLAG_EXPIRE != 0 {
            // SAFETY: the expiry field exists (checked above).
            unsafe { std::ptr::copy_nonoverlapping(at.to_le_bytes().as_ptr(), self.ptr.as_ptr().add(HEADER), 8) };
        }
    }

    /// The snapshot mark (see `Db`'s snapshot hooks).
    pub fn mark(&self) -> bool {
        self.flags() & FLAG_MARK != 0
    }

    pub fn set_mark(&mut self, on: bool) {
        // SAFETY: the header byte exists, exclusive through &mut self.
        unsafe {
            let p = self.ptr.as_ptr();
            *p = if on { *p | FLAG_MARK } else { *p & !FLAG_MARK };
        }
    }

    /// The 24-bit access field (LRU clock or LFU data, as Redis keeps in `lru`).
    pub fn access(&self) -> u32 {
        // SAFETY: bytes 1..4 of the header.
        unsafe {
            let p = self.ptr.as_ptr();
            u32::from_le_bytes([*p.add(1), *p.add(2), *p.add(3), 0])
        }
    }

    pub fn set_access(&mut self, v: u32) {
        let b = v.to_le_bytes();
        // SAFETY: bytes 1..4 of the header, exclusive through &mut self.
        unsafe {
            let p = self.ptr.as_ptr();
            *p.add(1) = b[0];
            *p.add(2) = b[1];
            *p.add(3) = b[2];
        }
    }

    /// Bytes the entry's block takes: its slab slot, or the allocator's block
    /// for a large one (spare room of a growable string included).
    pub fn block_bytes(&self) -> usize {
        let n = self.size();
        if n > super::slab::MAX_SMALL {
            crate::alloc::block_bytes(n)
        } else {
            super::slab::block_size(n)
        }
    }

    fn size(&self) -> usize {
        let (off, len) = self.value_span();
        if self.flags() & FLAG_SLACK != 0 {
            return off + self.slack_field(off - 4) as usize;
        }
        off + len
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        if let Some(p) = self.obj_ptr() {
            // SAFETY: the pointer came from Box::into_raw and this entry owns it.
            drop(unsafe { Box::from_raw(p) });
        }
        // SAFETY: allocated in `new_string` by alloc_block with this size, on this
        // thread (Entry is not Send).
        unsafe { super::slab::free_block(self.ptr.as_ptr(), self.size()) }
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("expire_at", &self.expire_at())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_fields() {
        for klen in [0usize, 1, 127, 128, 300, 20_000] {
            for vlen in [0usize, 5, 127, 128, 70_000] {
                let key = vec![b'k'; klen];
                let val: Vec<u8> = (0..vlen).map(|i| i as u8).collect();
                for exp in [None, Some(1_700_000_000_123u64)] {
                    let mut e = Entry::new_string(&key, &val, StrEncoding::Raw, exp);
                    assert_eq!(e.key(), &key[..]);
                    assert_eq!(e.value(), &val[..]);
                    assert_eq!(e.expire_at(), exp);
                    e.set_access(0xabcdef);
                    assert_eq!(e.access(), 0xabcdef);
                    assert_eq!(e.value(), &val[..]);
                    let e2 = e.rebuild(&key, Some(5));
                    assert_eq!(
                        (e2.key(), e2.value(), e2.expire_at(), e2.access()),
                        (&key[..], &val[..], Some(5), 0xabcdef)
                    );
                }
            }
        }
    }

    #[test]
    fn growable_values_append_in_place() {
        let mut e = Entry::new_growable(b"key", b"abc", Some(9));
        assert_eq!((e.value(), e.encoding(), e.expire_at()), (&b"abc"[..], StrEncoding::Raw, Some(9)));
        assert!(e.try_append(b"def"));
        assert_eq!(e.value(), b"abcdef");
        assert!(!e.try_append(b"g"));
        assert_eq!(e.key(), b"key");
        let mut big = Entry::new_growable(b"k", &[7u8; 300], None);
        assert!(big.try_append(&[8u8; 300]));
        assert_eq!(big.value().len(), 600);
        assert!(big.value()[300..].iter().all(|&b| b == 8));
        assert!(!Entry::new_string(b"k", b"v", StrEncoding::Raw, None).try_append(b"x"));
    }

    #[test]
    fn encodings() {
        assert_eq!(StrEncoding::for_value(b"12345"), StrEncoding::Int);
        assert_eq!(StrEncoding::for_value(b"012"), StrEncoding::Embstr);
        assert_eq!(StrEncoding::for_value(&[b'a'; 45]), StrEncoding::Raw);
        let e = Entry::new_string(b"k", b"1", StrEncoding::Int, None);
        assert_eq!(e.encoding(), StrEncoding::Int);
    }
}
