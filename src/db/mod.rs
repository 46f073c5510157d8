//! One keyspace per shard and database: lookups with lazy expiry, access
//! tracking, and the bounded active-expiry cycle.

pub mod entry;
pub mod evict;
pub mod segment;
pub mod slab;
pub mod table;

pub use entry::{Entry, StrEncoding};
pub use table::Table;

/// A hash map with ahash, for the small per-shard maps outside the keyspace.
pub type Map<K, V> = hashbrown::HashMap<K, V, ahash::RandomState>;

/// Time as seen by shard ops: taken once per batch by the caller, never read
/// inside an op, so ops are testable with a fixed clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Clock {
    pub now_ms: u64,
    /// How accesses update keys' access fields (from `maxmemory-policy`).
    pub access: evict::Access,
}

impl Clock {
    pub fn at(now_ms: u64) -> Clock {
        Clock { now_ms, access: evict::Access::Lru }
    }

    /// Wall-clock now.
    pub fn now() -> Clock {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Clock::at(ms)
    }

    /// Redis's 24-bit LRU clock, in seconds.
    pub fn lru(&self) -> u32 {
        ((self.now_ms / 1000) & 0xff_ffff) as u32
    }
}

/// Per-database counters that INFO reports.
#[derive(Debug, Default, Clone, Copy)]
pub struct DbStats {
    pub hits: u64,
    pub misses: u64,
    pub expired: u64,
}

/// Keyspace events a WATCH or notification layer can observe later.
#[derive(Default)]
pub struct Db {
    table: Table,
    /// Running average of the TTLs the expiry cycle saw, in ms (INFO keyspace's avg_ttl).
    pub avg_ttl: u64,
    expire_cursor: usize,
    /// Keys some client is blocked on (BLPOP...); creating one marks it ready.
    blocked: Map<bytes::Bytes, ()>,
    ready: Vec<bytes::Bytes>,
    /// Keys expired (lazily or actively) since the shard last collected them,
    /// for WATCH, client tracking and "expired" notifications.
    expired: Vec<bytes::Bytes>,
    /// The mark an entry carries once the snapshot being taken has it (every
    /// entry gets it when inserted); flipped when a snapshot starts, so that
    /// every entry existing then is not yet saved.
    mark: bool,
    snap: Option<Box<Snap>>,
    /// Under allkeys-tinylfu: every read counted, of stored keys or not.
    sketch: Option<Box<evict::Sketch>>,
}

/// A point-in-time snapshot in progress: the state of each key as it was when
/// the snapshot began is saved either by the walk over the table or, if the
/// key changes first, by the change itself (copy on write, per key).
struct Snap {
    /// Where the walk goes on; `None` once it has covered the table.
    cursor: Option<u64>,
    /// Entries as they were at the start, taken before a change.
    kept: Vec<Entry>,
}

impl Db {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn volatile_len(&self) -> usize {
        self.table.volatile_len()
    }

    pub fn table(&self) -> &Table {
        &self.table
    }

    fn is_expired(e: &Entry, clock: Clock) -> bool {
        matches!(e.expire_at(), Some(at) if at <= clock.now_ms)
    }

    /// Removes `key` if its TTL has passed. Returns true if it did.
    pub fn expire_if_needed(&mut self, key: &[u8], clock: Clock, stats: &mut DbStats) -> bool {
        matches!(self.table.find(key), Some(p) if self.expire_at_pos(p, clock, stats))
    }

    /// Removes the entry at `p` if its TTL has passed. Returns true if it did.
    fn expire_at_pos(&mut self, p: table::Pos, clock: Clock, stats: &mut DbStats) -> bool {
        match self.table.at(p) {
            Some(e) if Self::is_expired(e, clock) => {
                if let Some(e) = self.table.remove_at(p) {
                    self.expired.push(bytes::Bytes::copy_from_slice(e.key()));
                }
                stats.expired += 1;
                true
            }
            _ => false,
        }
    }

    /// Where a live `key` is, expiring it lazily first: one table lookup.
    fn live(&mut self, key: &[u8], clock: Clock, stats: &mut DbStats) -> Option<table::Pos> {
        let p = self.table.find(key)?;
        (!self.expire_at_pos(p, clock, stats)).then_some(p)
    }

    /// Looks a key up for reading: lazy expiry, hit/miss counting, access update.
    pub fn lookup_read(&mut self, key: &[u8], clock: Clock, stats: &mut DbStats) -> Option<&Entry> {
        if clock.access.sketch() {
            self.count_access(key);
        }
        let Some(p) = self.live(key, clock, stats) else {
            stats.misses += 1;
            return None;
        };
        stats.hits += 1;
        let e = self.table.at_mut(p)?;
        e.set_access(clock.touched_access(e.access()));
        Some(e)
    }

    /// Looks a key up for writing: lazy expiry and access update, no hit counting.
    pub fn lookup_write(&mut self, key: &[u8], clock: Clock, stats: &mut DbStats) -> Option<&mut Entry> {
        let p = self.live(key, clock, stats)?;
        let e = self.table.at_mut(p)?;
        if let Some(snap) = &mut self.snap {
            keep(snap, self.mark, e);
        }
        e.set_access(clock.touched_access(e.access()));
        Some(e)
    }

    /// Counts a read of `key`, stored or not, in the frequency sketch
    /// (allkeys-tinylfu), sizing the sketch to the key count as the database
    /// grows. Only reads count: a cache-aside write after a miss is part of
    /// the same request.
    fn count_access(&mut self, key: &[u8]) {
        let want = self.table.len();
        let sketch = match &mut self.sketch {
            Some(s) if s.capacity() >= want => s,
            slot => slot.insert(Box::new(evict::Sketch::new(want + want / 4))),
        };
        sketch.increment(self.table.hash(key));
    }

    /// The sketch's estimate of how often `key` was accessed recently (0-15).
    pub fn frequency(&self, key: &[u8]) -> u32 {
        self.sketch.as_ref().map_or(0, |s| s.estimate(self.table.hash(key)))
    }

    /// Leaves the frequency data of allkeys-tinylfu behind (another policy was set).
    pub fn drop_sketch(&mut self) {
        self.sketch = None;
    }

    /// A live entry without touching access data or stats (TYPE-like peeks
    /// still expire lazily, as Redis does).
    pub fn peek(&mut self, key: &[u8], clock: Clock, stats: &mut DbStats) -> Option<&Entry> {
        let p = self.live(key, clock, stats)?;
        self.table.at(p)
    }

    /// Stores an entry, replacing any previous one; returns the old entry.
    pub fn insert(&mut self, mut entry: Entry) -> Option<Entry> {
        if !self.blocked.is_empty() {
            self.note_ready(entry.key());
        }
        // Created after a snapshot began: not part of it.
        entry.set_mark(self.mark);
        let mut old = self.table.insert(entry);
        if let (Some(snap), Some(o)) = (&mut self.snap, &mut old) {
            keep(snap, self.mark, o);
        }
        old
    }

    fn note_ready(&mut self, key: &[u8]) {
        if let Some((k, _)) = self.blocked.get_key_value(key) {
            if !self.ready.contains(k) {
                self.ready.push(k.clone());
            }
        }
    }

    /// A client blocks on `key`: its creation is to be reported by `pop_ready`.
    pub fn block_key(&mut self, key: &bytes::Bytes) {
        self.blocked.insert(key.clone(), ());
    }

    /// No client is blocked on `key` any more.
    pub fn unblock_key(&mut self, key: &[u8]) {
        self.blocked.remove(key);
        self.ready.retain(|k| k != key);
    }

    /// SWAPDB: exchanges the data of two databases. Clients stay blocked on
    /// their database index, so the blocked-on keys stay where they are, and
    /// those that now exist are ready (Redis's `scanDatabaseForReadyKeys`).
    pub fn swap_data(a: &mut Db, b: &mut Db) {
        // A snapshot in progress keeps both as they were, under their indexes.
        a.keep_all();
        b.keep_all();
        std::mem::swap(&mut a.table, &mut b.table);
        std::mem::swap(&mut a.avg_ttl, &mut b.avg_ttl);
        std::mem::swap(&mut a.expire_cursor, &mut b.expire_cursor);
        for db in [a, b] {
            let present: Vec<bytes::Bytes> = db.blocked.keys().filter(|k| db.table.get(k).is_some()).cloned().collect();
            for k in present {
                db.note_ready(&k);
            }
        }
    }

    /// A blocked-on key created since the last call, if any.
    pub fn pop_ready(&mut self) -> Option<bytes::Bytes> {
        self.ready.pop()
    }

    /// Removes a live key, returning its entry.
    pub fn remove(&mut self, key: &[u8], clock: Clock, stats: &mut DbStats) -> Option<Entry> {
        let p = self.live(key, clock, stats)?;
        let mut e = self.table.remove_at(p)?;
        if let Some(snap) = &mut self.snap {
            keep(snap, self.mark, &mut e);
        }
        Some(e)
    }

    /// Sets or clears the expiry of a live key; returns false if the key is absent.
    pub fn set_expire(&mut self, key: &[u8], at: Option<u64>) -> bool {
        let Some(e) = self.table.get_mut(key) else {
            return false;
        };
        if let Some(snap) = &mut self.snap {
            keep(snap, self.mark, e);
        }
        match (e.expire_at(), at) {
            (Some(_), Some(at)) => e.set_expire_in_place(at),
            (None, None) => {}
            _ => {
                if let Some(old) = self.table.remove(key) {
                    let mut e = old.rebuild(key, at);
                    e.set_mark(self.mark);
                    self.table.insert(e);
                }
            }
        }
        true
    }

    pub fn clear(&mut self) {
        self.keep_all();
        self.table.clear();
    }

    /// Starts a point-in-time snapshot of this database: from now on the first
    /// change to each existing key saves its current state first.
    pub fn snapshot_begin(&mut self) {
        self.mark = !self.mark;
        self.snap = Some(Box::new(Snap { cursor: Some(0), kept: Vec::new() }));
    }

    /// Hands `f` the saved states, then walks on over about `budget` entries
    /// not yet in the snapshot. True once everything has been handed over.
    pub fn snapshot_step(&mut self, budget: usize, mut f: impl FnMut(&Entry)) -> bool {
        let mark = self.mark;
        let Some(snap) = &mut self.snap else { return true };
        for e in snap.kept.drain(..) {
            f(&e);
        }
        if let Some(pos) = snap.cursor {
            snap.cursor = self.table.scan_mut(pos, budget, |e| {
                if e.mark() != mark {
                    e.set_mark(mark);
                    f(e);
                }
            });
        }
        snap.cursor.is_none()
    }

    /// Ends the snapshot (finished or abandoned).
    pub fn snapshot_end(&mut self) {
        self.snap = None;
    }

    /// Whether a snapshot of this database is in progress.
    pub fn snapshotting(&self) -> bool {
        self.snap.is_some()
    }

    /// Saves every entry the snapshot has not got yet (before a flush or swap).
    fn keep_all(&mut self) {
        let mark = self.mark;
        let Some(snap) = &mut self.snap else { return };
        if snap.cursor.is_some() {
            self.table.scan_mut(0, usize::MAX, |e| keep(snap, mark, e));
            snap.cursor = None;
        }
    }

    /// One step of active expiry: walks segments round robin from where the
    /// last step stopped, deleting expired keys, until `budget` volatile keys were
    /// checked. Returns (checked, expired).
    pub fn active_expire_step(&mut self, clock: Clock, budget: usize, stats: &mut DbStats) -> (usize, usize) {
        let segs = self.table.segment_count();
        if segs == 0 || self.table.volatile_len() == 0 {
            self.avg_ttl = 0;
            return (0, 0);
        }
        let mut checked = 0;
        let (mut ttl_sum, mut ttl_count) = (0u64, 0u64);
        let mut expired = Vec::new();
        let mut visited = 0;
        while checked < budget && visited < segs {
            let s = self.expire_cursor % segs;
            let sample = self.table.expired_in_segment(s, clock.now_ms, budget, &mut expired);
            checked += sample.checked;
            ttl_sum += sample.ttl_sum;
            ttl_count += sample.ttl_count;
            self.expire_cursor = (s + 1) % segs;
            visited += 1;
        }
        // Redis's running estimate: each sample moves the average by 1/50.
        if let Some(avg) = ttl_sum.checked_div(ttl_count) {
            self.avg_ttl = if self.avg_ttl == 0 { avg } else { self.avg_ttl / 50 * 49 + avg / 50 };
        }
        for k in &expired {
            self.table.remove(k);
        }
        stats.expired += expired.len() as u64;
        let n = expired.len();
        self.expired.extend(expired.into_iter().map(bytes::Bytes::from));
        (checked, n)
    }

    /// The keys expired since the last call (see `crate::shard::signal`).
    pub fn take_expired(&mut self) -> Vec<bytes::Bytes> {
        std::mem::take(&mut self.expired)
    }
}

/// Saves `e` as it is now if the snapshot does not have it yet.
fn keep(snap: &mut Snap, mark: bool, e: &mut Entry) {
    if e.mark() != mark {
        e.set_mark(mark);
        let mut copy = e.duplicate();
        copy.set_mark(mark);
        snap.kept.push(copy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(db: &mut Db, k: &str, exp: Option<u64>) {
        db.insert(Entry::new_string(k.as_bytes(), b"v", StrEncoding::Embstr, exp));
    }

    #[test]
    fn lazy_expiry() {
        let mut db = Db::new();
        let mut st = DbStats::default();
        put(&mut db, "a", Some(100));
        assert!(db.lookup_read(b"a", Clock::at(99), &mut st).is_some());
        assert!(db.lookup_read(b"a", Clock::at(100), &mut st).is_none());
        assert_eq!((st.hits, st.misses, st.expired), (1, 1, 1));
        assert_eq!(db.len(), 0);
    }

    #[test]
    fn set_expire_moves_between_volatile_and_persistent() {
        let mut db = Db::new();
        put(&mut db, "a", None);
        assert!(db.set_expire(b"a", Some(50)));
        assert_eq!(db.volatile_len(), 1);
        assert!(db.set_expire(b"a", Some(60)));
        assert_eq!(db.table().get(b"a").unwrap().expire_at(), Some(60));
        assert!(db.set_expire(b"a", None));
        assert_eq!(db.volatile_len(), 0);
        assert!(!db.set_expire(b"zz", None));
    }

    #[test]
    fn active_expiry_is_bounded_and_complete() {
        let mut db = Db::new();
        let mut st = DbStats::default();
        for i in 0..10_000 {
            put(&mut db, &format!("k{i}"), if i % 2 == 0 { Some(10) } else { None });
        }
        let (checked, expired) = db.active_expire_step(Clock::at(20), 100, &mut st);
        assert!(checked <= 100 + crate::db::table::SEGMENT_MAX && expired <= 100);
        for _ in 0..1000 {
            db.active_expire_step(Clock::at(20), 100, &mut st);
        }
        assert_eq!(db.len(), 5000);
        assert_eq!(db.volatile_len(), 0);
    }

    /// Whatever changes while a snapshot is taken, it hands over exactly the
    /// keys and values that existed when it began, each once.
    #[test]
    fn snapshot_is_point_in_time() {
        let mut db = Db::new();
        let mut st = DbStats::default();
        let clock = Clock::at(1);
        for i in 0..20_000 {
            db.insert(Entry::new_string(format!("k{i}").as_bytes(), b"old", StrEncoding::Embstr, None));
        }
        for round in 0..2 {
            db.snapshot_begin();
            let mut seen: std::collections::HashMap<Vec<u8>, Vec<u8>> = Default::default();
            let mut take = |e: &Entry| {
                assert!(seen.insert(e.key().to_vec(), e.value().to_vec()).is_none(), "{:?} twice", e.key());
            };
            let mut i = 0;
            let mut done = false;
            while !done {
                // Between steps: overwrite, change in place, delete, create, expire.
                for _ in 0..50 {
                    let k = format!("k{}", (i * 7919) % 20_000);
                    match i % 5 {
                        0 => drop(db.insert(Entry::new_string(k.as_bytes(), b"new", StrEncoding::Embstr, None))),
                        1 => drop(db.remove(k.as_bytes(), clock, &mut st)),
                        2 => drop(db.insert(Entry::new_string(
                            format!("n{round}-{i}").as_bytes(),
                            b"new",
                            StrEncoding::Embstr,
                            None,
                        ))),
                        3 => drop(db.set_expire(k.as_bytes(), Some(1_000_000))),
                        _ => {
                            if let Some(e) = db.lookup_write(k.as_bytes(), clock, &mut st) {
                                e.value_mut()[0] = b'X';
                            }
                        }
                    }
                    i += 1;
                }
                done = db.snapshot_step(500, &mut take);
            }
            db.snapshot_end();
            if round == 0 {
                assert_eq!(seen.len(), 20_000);
                assert!(seen.values().all(|v| v == b"old"));
            } else {
                // The second snapshot sees the state the first round left.
                assert!(seen.keys().any(|k| k.starts_with(b"n0-")));
                assert!(!seen.keys().any(|k| k.starts_with(b"n1-")));
            }
        }
    }
}
