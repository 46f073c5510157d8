//! One keyspace per shard and database: lookups with lazy expiry, access
//! tracking, and the bounded active-expiry cycle.

pub mod entry;
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
}

impl Clock {
    pub fn at(now_ms: u64) -> Clock {
        Clock { now_ms }
    }

    /// Wall-clock now.
    pub fn now() -> Clock {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Clock { now_ms: ms }
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
        let Some(p) = self.live(key, clock, stats) else {
            stats.misses += 1;
            return None;
        };
        stats.hits += 1;
        let e = self.table.at_mut(p)?;
        e.set_access(clock.lru());
        Some(e)
    }

    /// Looks a key up for writing: lazy expiry and access update, no hit counting.
    pub fn lookup_write(&mut self, key: &[u8], clock: Clock, stats: &mut DbStats) -> Option<&mut Entry> {
        let p = self.live(key, clock, stats)?;
        let e = self.table.at_mut(p)?;
        e.set_access(clock.lru());
        Some(e)
    }

    /// A live entry without touching access data or stats (TYPE-like peeks
    /// still expire lazily, as Redis does).
    pub fn peek(&mut self, key: &[u8], clock: Clock, stats: &mut DbStats) -> Option<&Entry> {
        let p = self.live(key, clock, stats)?;
        self.table.at(p)
    }

    /// Stores an entry, replacing any previous one; returns the old entry.
    pub fn insert(&mut self, entry: Entry) -> Option<Entry> {
        if !self.blocked.is_empty() {
            self.note_ready(entry.key());
        }
        self.table.insert(entry)
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
        self.table.remove_at(p)
    }

    /// Sets or clears the expiry of a live key; returns false if the key is absent.
    pub fn set_expire(&mut self, key: &[u8], at: Option<u64>) -> bool {
        let Some(e) = self.table.get_mut(key) else {
            return false;
        };
        match (e.expire_at(), at) {
            (Some(_), Some(at)) => e.set_expire_in_place(at),
            (None, None) => {}
            _ => {
                if let Some(old) = self.table.remove(key) {
                    self.table.insert(old.rebuild(key, at));
                }
            }
        }
        true
    }

    pub fn clear(&mut self) {
        self.table.clear();
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
}
