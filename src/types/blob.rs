//! Thin blobs and the hash table of them that large hashes (and other keyed
//! collections) use.
//!
//! A [`Blob<N>`] is one heap allocation holding `N` byte strings, each as
//! `[len:varint][bytes]`, behind a single 8-byte pointer: a hash field and its
//! value cost their bytes, two length bytes and the allocator's rounding, where
//! Redis pays a dict entry, two sds headers and two robj-free allocations.
//!
//! A [`BlobTable<N>`] indexes blobs by their first part (the field or member)
//! in a `hashbrown::HashTable` of those pointers. It grows and shrinks
//! incrementally, as Redis's dict rehashes: the previous table is drained a few
//! buckets per write, so no single insert pays for rehashing millions of
//! entries. Its SCAN cursor walks bucket indexes with Redis's reverse-binary
//! increment over both tables while a resize is in progress.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;
use std::sync::OnceLock;

use hashbrown::HashTable;

use super::pack::{get_varint, varint_len};

/// `N` byte strings in one allocation, behind one pointer.
pub struct Blob<const N: usize> {
    ptr: NonNull<u8>,
}

// SAFETY: a blob owns its allocation exclusively (no shared interior state),
// so it can move to and be read from another thread like a `Box<[u8]>`.
unsafe impl<const N: usize> Send for Blob<N> {}
// SAFETY: `&Blob` only reads immutable bytes.
unsafe impl<const N: usize> Sync for Blob<N> {}

impl<const N: usize> Blob<N> {
    /// A blob holding `parts` in order.
    pub fn new(parts: [&[u8]; N]) -> Blob<N> {
        const { assert!(N > 0) };
        let size: usize = parts.iter().map(|p| varint_len(p.len()) + p.len()).sum();
        let layout = Layout::from_size_align(size, 1).expect("blob size overflows isize");
        // SAFETY: `size >= N >= 1`, so the layout is not zero-sized.
        let raw = unsafe { alloc(layout) };
        let Some(ptr) = NonNull::new(raw) else { handle_alloc_error(layout) };
        let mut off = 0;
        for p in parts {
            let mut head = [0u8; 10];
            let mut n = 0;
            let mut v = p.len();
            while v >= 0x80 {
                head[n] = (v as u8) | 0x80;
                n += 1;
                v >>= 7;
            }
            head[n] = v as u8;
            n += 1;
            // SAFETY: the allocation is `size` bytes, the sum of every part's
            // header and bytes, so each copy lands inside it; the sources are
            // other memory.
            unsafe {
                std::ptr::copy_nonoverlapping(head.as_ptr(), raw.add(off), n);
                std::ptr::copy_nonoverlapping(p.as_ptr(), raw.add(off + n), p.len());
            }
            off += n + p.len();
        }
        debug_assert_eq!(off, size);
        Blob { ptr }
    }

    /// Bytes taken by the first `parts` parts (all `N` gives the allocation size).
    fn span(&self, parts: usize) -> usize {
        let base = self.ptr.as_ptr();
        let mut off = 0;
        for _ in 0..parts {
            let mut len = 0usize;
            let mut shift = 0;
            loop {
                // SAFETY: `new` wrote a complete varint followed by that many
                // bytes for each of the `N >= parts` parts, so every byte read
                // here lies inside the allocation.
                let c = unsafe { *base.add(off) };
                off += 1;
                len |= ((c & 0x7f) as usize) << shift;
                shift += 7;
                if c & 0x80 == 0 {
                    break;
                }
            }
            off += len;
        }
        off
    }

    /// The bytes of the first `parts` parts, headers included.
    fn prefix(&self, parts: usize) -> &[u8] {
        let n = self.span(parts);
        // SAFETY: `span` stays inside the allocation, which lives as long as `self`
        // and is never written after `new`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), n) }
    }

    /// Part `i` (`i < N`).
    pub fn part(&self, i: usize) -> &[u8] {
        assert!(i < N, "blob part {i} of {N}");
        let mut rest = self.prefix(i + 1);
        let mut out: &[u8] = &[];
        for _ in 0..=i {
            let (len, h) = get_varint(rest);
            out = &rest[h..h + len];
            rest = &rest[h + len..];
        }
        out
    }

    /// The first part: the key the table indexes.
    pub fn key(&self) -> &[u8] {
        self.part(0)
    }

    /// All parts.
    pub fn parts(&self) -> [&[u8]; N] {
        let mut rest = self.prefix(N);
        std::array::from_fn(|_| {
            let (len, h) = get_varint(rest);
            let p = &rest[h..h + len];
            rest = &rest[h + len..];
            p
        })
    }

    /// Bytes of the allocation (before the allocator's rounding).
    pub fn size(&self) -> usize {
        self.span(N)
    }
}

impl<const N: usize> Drop for Blob<N> {
    fn drop(&mut self) {
        let size = self.size();
        // SAFETY: the pointer came from `alloc` with exactly this layout (the
        // size is recomputed from the unchanged contents) and is freed once.
        unsafe { dealloc(self.ptr.as_ptr(), Layout::from_size_align_unchecked(size, 1)) }
    }
}

impl<const N: usize> Clone for Blob<N> {
    fn clone(&self) -> Self {
        Blob::new(self.parts())
    }
}

impl<const N: usize> PartialEq for Blob<N> {
    fn eq(&self, other: &Self) -> bool {
        self.prefix(N) == other.prefix(N)
    }
}

impl<const N: usize> Eq for Blob<N> {}

impl<const N: usize> std::fmt::Debug for Blob<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.parts().iter().map(|p| String::from_utf8_lossy(p))).finish()
    }
}

/// The hash of a key: one process-wide random seed, so a table keeps its
/// meaning when its collection moves to another shard's thread.
pub fn hash_key(key: &[u8]) -> u64 {
    static STATE: OnceLock<ahash::RandomState> = OnceLock::new();
    STATE.get_or_init(ahash::RandomState::new).hash_one(key)
}

fn rehash<const N: usize>(b: &Blob<N>) -> u64 {
    hash_key(b.key())
}

/// Tables up to this many entries grow and shrink in one step (cheap); larger
/// ones migrate incrementally.
#[cfg(not(test))]
const INCREMENTAL_MIN: usize = 1024;
#[cfg(test)]
const INCREMENTAL_MIN: usize = 8;

/// Per write: at most this many buckets of the old table are visited, and at
/// most `STEP_MOVES` entries moved, as Redis's `_dictRehashStep` bounds its
/// empty-bucket visits. A resize started when the table filled then ends
/// within `len / STEP_MOVES` writes, so both tables coexist only briefly.
const STEP_VISITS: usize = 128;
const STEP_MOVES: usize = 16;

/// The table being drained during a resize, and the next bucket to drain.
#[derive(Clone)]
struct Old<const N: usize> {
    table: HashTable<Blob<N>>,
    next: usize,
}

/// Blobs indexed by their first part.
#[derive(Clone, Default)]
pub struct BlobTable<const N: usize> {
    main: HashTable<Blob<N>>,
    /// While a resize is in progress: the previous table, drained by writes.
    old: Option<Box<Old<N>>>,
}

impl<const N: usize> BlobTable<N> {
    pub fn new() -> Self {
        BlobTable { main: HashTable::new(), old: None }
    }

    pub fn with_capacity(n: usize) -> Self {
        BlobTable { main: HashTable::with_capacity(n), old: None }
    }

    pub fn len(&self) -> usize {
        self.main.len() + self.old.as_ref().map_or(0, |o| o.table.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a resize is still draining the previous table.
    pub fn resizing(&self) -> bool {
        self.old.is_some()
    }

    pub fn get(&self, key: &[u8]) -> Option<&Blob<N>> {
        let h = hash_key(key);
        self.main
            .find(h, |b| b.key() == key)
            .or_else(|| self.old.as_ref().and_then(|o| o.table.find(h, |b| b.key() == key)))
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Inserts `blob`, replacing (and returning) the blob with the same key.
    pub fn insert(&mut self, blob: Blob<N>) -> Option<Blob<N>> {
        self.step();
        let h = rehash(&blob);
        if let Some(slot) = self.main.find_mut(h, |b| b.key() == blob.key()) {
            return Some(std::mem::replace(slot, blob));
        }
        if let Some(old) = &mut self.old {
            if let Ok(e) = old.table.find_entry(h, |b| b.key() == blob.key()) {
                // Replaced entries move to the new table on the way.
                let (prev, _) = e.remove();
                self.insert_absent(h, blob);
                return Some(prev);
            }
        }
        self.insert_absent(h, blob);
        None
    }

    /// Inserts a blob whose key is known to be absent.
    pub fn insert_new(&mut self, blob: Blob<N>) {
        self.step();
        let h = rehash(&blob);
        self.insert_absent(h, blob);
    }

    fn insert_absent(&mut self, h: u64, blob: Blob<N>) {
        self.make_room();
        self.main.insert_unique(h, blob, rehash);
    }

    /// Removes and returns the blob with key `key`.
    pub fn remove(&mut self, key: &[u8]) -> Option<Blob<N>> {
        self.step();
        let h = hash_key(key);
        let removed = match self.main.find_entry(h, |b| b.key() == key) {
            Ok(e) => Some(e.remove().0),
            Err(_) => match &mut self.old {
                Some(old) => old.table.find_entry(h, |b| b.key() == key).ok().map(|e| e.remove().0),
                None => None,
            },
        };
        if removed.is_some() {
            self.maybe_shrink();
        }
        removed
    }

    /// Every blob (in table order).
    pub fn iter(&self) -> impl Iterator<Item = &Blob<N>> + '_ {
        self.main.iter().chain(self.old.iter().flat_map(|o| o.table.iter()))
    }

    /// Ensures the next insert into `main` cannot make hashbrown rehash a
    /// large table in one go: a full large table starts an incremental resize.
    fn make_room(&mut self) {
        if self.main.capacity() > self.main.len() {
            return;
        }
        if self.old.is_some() {
            // The new table filled before the old one drained (only if writes
            // outpaced the steps): finish the move first.
            self.finish();
            if self.main.capacity() > self.main.len() {
                return;
            }
        }
        let len = self.main.len();
        if len < INCREMENTAL_MIN {
            self.main.reserve(1, rehash);
            return;
        }
        self.start_resize(len * 2);
    }

    /// Starts moving every entry into a new table with room for `capacity`.
    fn start_resize(&mut self, capacity: usize) {
        let prev = std::mem::replace(&mut self.main, HashTable::with_capacity(capacity));
        self.old = Some(Box::new(Old { table: prev, next: 0 }));
    }

    /// After a delete: a large table that is mostly empty shrinks (Redis
    /// shrinks a dict below 10% fill), so memory and random sampling stay sane.
    fn maybe_shrink(&mut self) {
        if self.old.is_some() {
            return;
        }
        let (len, buckets) = (self.main.len(), self.main.num_buckets());
        if buckets <= 64 || len * 10 >= buckets {
            return;
        }
        if len < INCREMENTAL_MIN {
            self.main.shrink_to(len, rehash);
        } else {
            self.start_resize(len * 2);
        }
    }

    /// One incremental step of a resize in progress.
    fn step(&mut self) {
        let Some(old) = &mut self.old else { return };
        let buckets = old.table.num_buckets();
        let (mut visits, mut moves) = (0, 0);
        while old.next < buckets && visits < STEP_VISITS && moves < STEP_MOVES {
            if let Ok(e) = old.table.get_bucket_entry(old.next) {
                let (b, _) = e.remove();
                // `main` was sized for every entry of `old` plus as many writes
                // as the drain takes, so this insert does not reallocate.
                self.main.insert_unique(rehash(&b), b, rehash);
                moves += 1;
            }
            old.next += 1;
            visits += 1;
        }
        if old.table.is_empty() {
            self.old = None;
        }
    }

    /// Completes a resize in progress.
    fn finish(&mut self) {
        if let Some(mut old) = self.old.take() {
            let need = old.table.len();
            self.main.reserve(need, rehash);
            for b in old.table.drain() {
                self.main.insert_unique(rehash(&b), b, rehash);
            }
        }
    }

    /// One step of a SCAN from `cursor`: calls `f` for each blob in the cursor's
    /// bucket (in each table) and returns the next cursor (0 when done).
    ///
    /// Buckets are visited in Redis's reverse-binary order, so entries present
    /// for a whole scan are returned at least once, also when the table did not
    /// change size, and as few as possible are missed when it does (open
    /// addressing may displace an entry from its home bucket).
    pub fn scan_step<'a>(&'a self, cursor: u64, mut f: impl FnMut(&'a Blob<N>)) -> u64 {
        let mut v = cursor;
        let (small, large) = match &self.old {
            None => (&self.main, None),
            Some(o) if o.table.num_buckets() <= self.main.num_buckets() => (&o.table, Some(&self.main)),
            Some(o) => (&self.main, Some(&o.table)),
        };
        let m0 = small.num_buckets().max(1) as u64 - 1;
        if let Some(b) = small.get_bucket((v & m0) as usize) {
            f(b);
        }
        if let Some(large) = large {
            let m1 = large.num_buckets().max(1) as u64 - 1;
            // Every bucket of the larger table that expands the small one's.
            loop {
                if let Some(b) = large.get_bucket((v & m1) as usize) {
                    f(b);
                }
                v = (((v | m0).wrapping_add(1)) & !m0) | (v & m0);
                if v & (m0 ^ m1) == 0 {
                    break;
                }
            }
        }
        v |= !m0;
        v = v.reverse_bits().wrapping_add(1).reverse_bits();
        v
    }

    /// A random blob: probes random buckets as Redis's `dictGetFairRandomKey`
    /// samples, walking to the next full bucket if the table is very sparse.
    pub fn random(&self, mut rnd: impl FnMut() -> u64) -> Option<&Blob<N>> {
        let total = self.len();
        if total == 0 {
            return None;
        }
        let old_len = self.old.as_ref().map_or(0, |o| o.table.len());
        let t = match &self.old {
            Some(o) if (rnd() % total as u64) < old_len as u64 => &o.table,
            _ => &self.main,
        };
        let buckets = t.num_buckets();
        for _ in 0..64 {
            if let Some(b) = t.get_bucket((rnd() % buckets as u64) as usize) {
                return Some(b);
            }
        }
        let start = (rnd() % buckets as u64) as usize;
        (0..buckets).find_map(|i| t.get_bucket((start + i) % buckets))
    }

    /// Bytes this table holds: bucket arrays plus blob allocations.
    pub fn heap_bytes(&self) -> usize {
        let tables = self.main.allocation_size() + self.old.as_ref().map_or(0, |o| o.table.allocation_size());
        tables + self.iter().map(Blob::size).sum::<usize>()
    }

    /// Bytes the allocator holds for the table (MEMORY USAGE): the bucket
    /// arrays, plus the blobs' blocks estimated from the first `samples` of
    /// them as Redis's `objectComputeSize` does (exact when `samples >= len`).
    pub fn mem_usage(&self, samples: usize) -> usize {
        use crate::alloc::block_bytes;
        let old = self
            .old
            .as_ref()
            .map_or(0, |o| block_bytes(std::mem::size_of::<Old<N>>()) + block_bytes(o.table.allocation_size()));
        let blobs = super::sampled(self.iter().map(|b| block_bytes(b.size())), samples, self.len());
        block_bytes(self.main.allocation_size()) + old + blobs
    }
}

impl<const N: usize> std::fmt::Debug for BlobTable<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{HashMap, HashSet};

    #[test]
    fn parts_round_trip() {
        let long = vec![7u8; 20_000];
        let mid = vec![1u8; 200];
        let b = Blob::<3>::new([b"", &long, &mid]);
        assert_eq!(b.parts(), [&b""[..], &long[..], &mid[..]]);
        assert_eq!(b.part(1), &long[..]);
        assert_eq!(b.key(), b"");
        assert_eq!(b.size(), 1 + 3 + 20_000 + 2 + 200);
        let c = b.clone();
        assert_eq!(b, c);
        let one = Blob::<1>::new([b"member"]);
        assert_eq!(one.key(), b"member");
        assert_eq!(std::mem::size_of::<Blob<2>>(), 8);
        assert_eq!(std::mem::size_of::<Option<Blob<2>>>(), 8);
    }

    #[test]
    fn blobs_move_across_threads() {
        let b = Blob::<2>::new([b"f", b"v"]);
        let b = std::thread::spawn(move || b).join().unwrap();
        assert_eq!(b.parts(), [&b"f"[..], &b"v"[..]]);
    }

    fn full_scan(t: &BlobTable<2>) -> Vec<Vec<u8>> {
        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            cursor = t.scan_step(cursor, |b| seen.push(b.key().to_vec()));
            if cursor == 0 {
                return seen;
            }
        }
    }

    #[test]
    fn grows_incrementally_and_scans_everything() {
        let mut t = BlobTable::<2>::new();
        let mut resized = false;
        for i in 0..5000u32 {
            let k = i.to_string();
            assert!(t.insert(Blob::new([k.as_bytes(), b"v"])).is_none());
            resized |= t.resizing();
            if i % 97 == 0 {
                // Mid-resize, a scan still sees every key at least once.
                let seen: HashSet<Vec<u8>> = full_scan(&t).into_iter().collect();
                assert_eq!(seen.len(), t.len());
            }
        }
        assert!(resized);
        for i in 0..5000u32 {
            assert_eq!(t.get(i.to_string().as_bytes()).map(|b| b.part(1)), Some(&b"v"[..]));
        }
        let seen = full_scan(&t);
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 5000);
        for i in 0..4990u32 {
            assert!(t.remove(i.to_string().as_bytes()).is_some());
        }
        assert_eq!(t.len(), 10);
        assert!(t.main.num_buckets() + t.old.as_ref().map_or(0, |o| o.table.num_buckets()) < 1024);
        let mut x = 1u64;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let picked: HashSet<Vec<u8>> = (0..500).map(|_| t.random(&mut rnd).unwrap().key().to_vec()).collect();
        assert_eq!(picked.len(), 10);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16, u8),
        Remove(u16),
    }

    proptest! {
        #[test]
        fn behaves_like_a_hashmap(ops in proptest::collection::vec(
            prop_oneof![
                3 => (0..300u16, any::<u8>()).prop_map(|(k, v)| Op::Insert(k, v)),
                2 => (0..300u16).prop_map(Op::Remove),
            ], 0..1500)) {
            let mut t = BlobTable::<2>::new();
            let mut m: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
            for op in ops {
                match op {
                    Op::Insert(k, v) => {
                        let (k, v) = (k.to_string().into_bytes(), vec![v; v as usize % 5]);
                        let prev = t.insert(Blob::new([&k, &v])).map(|b| b.part(1).to_vec());
                        prop_assert_eq!(prev, m.insert(k, v));
                    }
                    Op::Remove(k) => {
                        let k = k.to_string().into_bytes();
                        prop_assert_eq!(t.remove(&k).map(|b| b.part(1).to_vec()), m.remove(&k));
                    }
                }
                prop_assert_eq!(t.len(), m.len());
            }
            let got: HashMap<Vec<u8>, Vec<u8>> =
                t.iter().map(|b| (b.part(0).to_vec(), b.part(1).to_vec())).collect();
            prop_assert_eq!(&got, &m);
            let scanned: HashSet<Vec<u8>> = full_scan(&t).into_iter().collect();
            prop_assert_eq!(scanned.len(), m.len());
        }
    }
}
