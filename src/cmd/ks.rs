//! [`Ks`]: the view of one shard's database that data commands (strings,
//! lists, hashes, sets, sorted sets) run against, locally, inside a cross-shard
//! hop, or in unit tests on a bare `Db`; and the helpers coordinators use to run
//! jobs on the shards that own their keys.

use bytes::Bytes;

use super::{Ctx, Session};
use crate::db::{Clock, Db, DbStats, Entry};
use crate::error::OpError;
use crate::shard::signal::class;
use crate::shard::{Core, ShardState};
use crate::types::{Collection, Limits};

/// Wraps a `fn(&mut Ks, &[Bytes], &mut Out) -> CmdResult` into a [`SyncFn`].
#[macro_export]
macro_rules! on_shard {
    ($f:path) => {{
        fn wrapper(
            ctx: &mut $crate::cmd::Ctx<'_>,
            args: &[bytes::Bytes],
            out: &mut $crate::resp::Out,
        ) -> $crate::cmd::CmdResult {
            $f(&mut $crate::cmd::Ks::of(ctx), args, out)
        }
        wrapper as $crate::cmd::SyncFn
    }};
}

/// What a data command needs from the shard that owns its keys.
pub struct Ks<'a> {
    pub db: &'a mut Db,
    pub stats: &'a mut DbStats,
    pub clock: Clock,
    /// `proto-max-bulk-len`: the longest string APPEND and SETRANGE may build.
    pub max_len: i64,
    /// Thresholds of the packed collection encodings.
    pub limits: Limits,
    /// The shard's random state (SPOP, SRANDMEMBER, HRANDFIELD, ...).
    pub rng: &'a mut u64,
    /// The index of `db`, for signals that name it.
    pub db_index: usize,
    /// Where changes are reported (WATCH, tracking, notifications).
    pub signals: &'a mut crate::shard::signal::Signals,
    /// The classes `notify-keyspace-events` enables.
    pub notify: u32,
}

impl<'a> Ks<'a> {
    pub fn of<'b>(ctx: &'b mut Ctx<'_>) -> Ks<'b> {
        Ks::from_state(ctx.state, ctx.db, ctx.clock)
    }

    /// For jobs sent to other shards: the database `db` of that shard's state.
    pub fn from_state(st: &'a mut ShardState, db: usize, clock: Clock) -> Ks<'a> {
        let ShardState { dbs, stats, config, rng, signals, .. } = st;
        Ks {
            db: &mut dbs[db],
            stats,
            clock,
            max_len: config.proto_max_bulk_len,
            limits: config.limits,
            rng,
            db_index: db,
            signals,
            notify: config.notify_keyspace_events,
        }
    }

    /// Redis's `lookupKeyRead`: lazy expiry, hit/miss counting, access
    /// update, and a "keymiss" event on a miss.
    pub fn read(&mut self, key: &[u8]) -> Option<&Entry> {
        let e = self.db.lookup_read(key, self.clock, self.stats);
        if e.is_none() {
            self.signals.notify(self.notify, class::KEY_MISS, "keymiss", self.db_index, key);
        }
        e
    }

    /// Redis's `lookupKeyWrite`: lazy expiry and access update, no counting.
    pub fn write(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.db.lookup_write(key, self.clock, self.stats)
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        self.db.remove(key, self.clock, self.stats)
    }

    /// Stores a value object, fresh in LRU terms as Redis's `createObject` is;
    /// a key that did not exist raises a "new" event, as Redis's `dbAdd` does.
    pub fn insert(&mut self, mut e: Entry) {
        e.set_access(self.access_for(e.key()));
        if self.notify & class::NEW != 0 && self.db.table().get(e.key()).is_none() {
            self.signals.notify(self.notify, class::NEW, "new", self.db_index, e.key());
        }
        self.db.insert(e);
    }

    /// Replaces a key's value (Redis's `dbOverwrite` or `setKey` on a key the
    /// command has just removed): no "new" event.
    pub fn overwrite(&mut self, mut e: Entry) {
        e.set_access(self.access_for(e.key()));
        self.db.insert(e);
    }

    /// The access field of a value stored at `key`: fresh, except that under
    /// an LFU policy a replaced value's counter carries over (Redis's
    /// `dbSetValue`), so rewriting a key does not make it look new.
    fn access_for(&self, key: &[u8]) -> u32 {
        use crate::db::evict::{lfu_from_reads, lfu_minutes, Access};
        if let Access::Lfu { log_factor, sketch, .. } = self.clock.access {
            if let Some(old) = self.db.table().get(key) {
                return old.access();
            }
            if sketch {
                // allkeys-tinylfu: the reads the sketch remembers, less the
                // miss that led to this write and one for the sketch's noise
                // (other keys sharing its counters).
                let reads = self.db.frequency(key).saturating_sub(2);
                return (lfu_minutes(self.clock.now_ms) << 8) | lfu_from_reads(reads, log_factor);
            }
        }
        self.clock.fresh_access()
    }

    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms
    }

    /// Redis's `lookupKeyRead` plus `checkType`: the collection at `key`.
    pub fn read_as<T: Collection>(&mut self, key: &[u8]) -> Result<Option<&T>, OpError> {
        self.read(key).map(typed).transpose()
    }

    /// Redis's `lookupKeyWrite` plus `checkType`: the collection at `key`.
    pub fn write_as<T: Collection>(&mut self, key: &[u8]) -> Result<Option<&mut T>, OpError> {
        self.write(key).map(typed_mut).transpose()
    }

    /// Redis's `signalModifiedKey`: `key` changed (WATCH, client tracking).
    pub fn modified(&mut self, key: &[u8]) {
        self.signals.modified(self.db_index, key);
    }

    /// [`Ks::modified`], naming the commands that replay the change for
    /// the append-only file ([`crate::shard::signal::Signals::modified_as`]).
    pub fn modified_as(&mut self, key: &[u8], effects: impl FnOnce() -> Vec<Vec<Bytes>>) {
        self.signals.modified_as(self.db_index, key, effects);
    }

    /// Redis's `notifyKeyspaceEvent`: records `event` of `class` on `key` when
    /// `notify-keyspace-events` enables the class.
    #[inline]
    pub fn notify(&mut self, class: u32, event: &'static str, key: &[u8]) {
        self.signals.notify(self.notify, class, event, self.db_index, key);
    }

    /// `signalModifiedKey` plus `notifyKeyspaceEvent`, the pair most writes end with.
    pub fn changed(&mut self, class: u32, event: &'static str, key: &[u8]) {
        self.modified(key);
        self.notify(class, event, key);
    }

    /// A random u64 from the shard's generator.
    pub fn random(&mut self) -> u64 {
        crate::shard::xorshift(self.rng)
    }
}

/// The collection of type `T` behind an entry: `WRONGTYPE` for another type.
pub fn typed<T: Collection>(e: &Entry) -> Result<&T, OpError> {
    e.obj().and_then(T::of).ok_or(OpError::WrongType)
}

/// As [`typed`], for changes in place.
pub fn typed_mut<T: Collection>(e: &mut Entry) -> Result<&mut T, OpError> {
    e.obj_mut().and_then(T::of_mut).ok_or(OpError::WrongType)
}

/// Runs `job` on each shard named in `groups` (the others in parallel, this
/// one inline) and returns the results in the order of `groups`.
pub async fn on_shards<G, T, F>(s: &Session, groups: Vec<(usize, G)>, job: F) -> Vec<T>
where
    G: Send + 'static,
    T: Send + 'static,
    F: Fn(&mut Ks<'_>, G) -> T + Send + Clone + 'static,
{
    let db = s.db;
    // The session's client is the caller on every shard (NOLOOP).
    let caller = crate::shard::signal::Caller { id: s.client.id, home: s.core.id, track: false };
    s.core
        .call_each(groups, move |core: &Core, g: G| {
            let mut st = core.state.borrow_mut();
            st.signals.caller = caller;
            let mut ks = Ks::from_state(&mut st, db, core.clock());
            job(&mut ks, g)
        })
        .await
}

/// Splits `items` by the shard of their key, keeping request order inside
/// each group (so a repeated key keeps its last-wins order).
pub fn by_shard<I>(s: &Session, items: impl IntoIterator<Item = (Bytes, I)>) -> Vec<(usize, Vec<(Bytes, I)>)> {
    crate::shard::slot::group_by_shard(s.core.nshards, items, |(k, _)| k)
}
