//! What the commands run on a shard changed, for those who watch for it:
//! WATCH, client-side caching and keyspace notifications. A command reports
//! a change as Redis's `signalModifiedKey` and `notifyKeyspaceEvent` do; the
//! shard hands the changes on after the command ([`hand_on`]).
//!
//! Recording costs a flag test when no one listens: modified keys are kept only
//! while some transaction watches or some client tracks keys here, events only
//! for the classes `notify-keyspace-events` enables.

use bytes::Bytes;

use super::{Core, ShardId, ShardState};

/// Redis's notification classes (`NOTIFY_*`), with the letters of
/// `notify-keyspace-events`.
pub mod class {
    /// `K`: publish on `__keyspace@<db>__:<key>`.
    pub const KEYSPACE: u32 = 1 << 0;
    /// `E`: publish on `__keyevent@<db>__:<event>`.
    pub const KEYEVENT: u32 = 1 << 1;
    /// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
    pub const GENERIC: u32 = 1 << 2;
    /// `$`
    pub const STRING: u32 = 1 << 3;
    /// `l`
    pub const LIST: u32 = 1 << 4;
    /// `s`
    pub const SET: u32 = 1 << 5;
    /// `h`
    pub const HASH: u32 = 1 << 6;
    /// `z`
    pub const ZSET: u32 = 1 << 7;
    /// `x`: a key expired.
    pub const EXPIRED: u32 = 1 << 8;
    /// `e`: a key was evicted for maxmemory.
    pub const EVICTED: u32 = 1 << 9;
    /// `t`
    pub const STREAM: u32 = 1 << 10;
    /// `m`: a read missed.
    pub const KEY_MISS: u32 = 1 << 11;
    /// Module key loaded (no letter).
    pub const LOADED: u32 = 1 << 12;
    /// `d`: module events.
    pub const MODULE: u32 = 1 << 13;
    /// `n`: a key was created.
    pub const NEW: u32 = 1 << 14;
    /// `A`: every class but `m` and `n`.
    pub const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// Redis's `keyspaceEventsStringToFlags`: `None` for a letter outside
/// `Ag$lshzxeKEtmdn`.
pub fn flags_from_str(s: &[u8]) -> Option<u32> {
    use class::*;
    s.iter().try_fold(0u32, |f, c| {
        Some(
            f | match c {
                b'A' => ALL,
                b'g' => GENERIC,
                b'$' => STRING,
                b'l' => LIST,
                b's' => SET,
                b'h' => HASH,
                b'z' => ZSET,
                b'x' => EXPIRED,
                b'e' => EVICTED,
                b'K' => KEYSPACE,
                b'E' => KEYEVENT,
                b't' => STREAM,
                b'm' => KEY_MISS,
                b'd' => MODULE,
                b'n' => NEW,
                _ => return None,
            },
        )
    })
}

/// Redis's `keyspaceEventsFlagsToString` (which, in 7.0, folds `n` into `A`).
pub fn flags_to_string(flags: u32) -> String {
    use class::*;
    let mut s = String::new();
    if flags & ALL == ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if flags & bit != 0 {
                s.push(c);
            }
        }
    }
    for (bit, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// One keyspace event to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub class: u32,
    pub event: &'static str,
    pub db: usize,
    pub key: Bytes,
}

/// The client whose command runs now (Redis's `server.current_client`):
/// whose reads a tracking table remembers, and whom NOLOOP spares.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// Client id; 0 for none (server-made changes such as expiry).
    pub id: u64,
    /// The shard the client's connection lives on.
    pub home: ShardId,
    /// The keys this command reads are to be remembered for client-side caching.
    pub track: bool,
}

/// Changes made by commands on this shard, not yet handed on.
#[derive(Debug, Default)]
pub struct Signals {
    /// Keys of this shard that some transaction WATCHes (maintained by WATCH).
    pub watched: usize,
    /// Some client tracks keys of this shard (client-side caching).
    pub tracking: bool,
    /// The append-only file logs changed keys.
    pub logging: bool,
    /// Keys modified since the last hand-on: (database, key).
    pub modified: Vec<(usize, Bytes)>,
    /// Commands that replay what `modified[i]` changed, where the code that
    /// changed the key named them (XREADGROUP's deliveries as XCLAIMs, as
    /// Redis propagates them): (i, commands). The append-only file logs
    /// them instead of the key's whole state when every change of the key
    /// it logs at once has them.
    pub effects: Vec<(usize, Vec<Vec<Bytes>>)>,
    /// Keyspace events since the last hand-on, in the order they happened.
    pub events: Vec<Event>,
    /// Databases flushed (`Some(db)`, FLUSHDB) or all of them (`None`, FLUSHALL).
    pub flushed: Vec<Option<usize>>,
    /// `DbStats::expired` when expired keys were last collected.
    expired_seen: u64,
    /// Who runs the current command (set around each command, reset by [`hand_on`]).
    pub caller: Caller,
    /// Client-side caching: the keys of this shard tracking clients read, and
    /// what every shard knows of every tracking client.
    pub tables: crate::notify::tracking::Tables,
}

impl Signals {
    /// Whether modified keys are to be recorded at all.
    pub fn wanted(&self) -> bool {
        self.watched > 0 || self.tracking || self.logging
    }

    /// Redis's `signalModifiedKey`.
    pub fn modified(&mut self, db: usize, key: &[u8]) {
        if self.wanted() {
            self.modified.push((db, Bytes::copy_from_slice(key)));
        }
    }

    /// [`Signals::modified`], with the commands that replay the change
    /// (built only when the append-only file is on).
    pub fn modified_as(&mut self, db: usize, key: &[u8], effects: impl FnOnce() -> Vec<Vec<Bytes>>) {
        if self.wanted() {
            self.modified.push((db, Bytes::copy_from_slice(key)));
            if self.logging {
                // None named: the key's state is logged.
                let cmds = effects();
                if !cmds.is_empty() {
                    self.effects.push((self.modified.len() - 1, cmds));
                }
            }
        }
    }

    /// Redis's `notifyKeyspaceEvent`, given the configured classes `flags`.
    #[inline]
    pub fn notify(&mut self, flags: u32, class: u32, event: &'static str, db: usize, key: &[u8]) {
        if flags & class != 0 {
            self.events.push(Event { class, event, db, key: Bytes::copy_from_slice(key) });
        }
    }

    /// Redis's `signalFlushedDb`: `None` for every database.
    pub fn flushed(&mut self, db: Option<usize>) {
        self.flushed.push(db);
    }

    fn pending(&self) -> bool {
        !(self.modified.is_empty() && self.events.is_empty() && self.flushed.is_empty()) || self.tables.pending()
    }
}

/// Redis's `signalModifiedKey` for code that holds the whole shard state.
pub fn modified(st: &mut ShardState, db: usize, key: &[u8]) {
    st.signals.modified(db, key);
}

/// Redis's `notifyKeyspaceEvent` for code that holds the whole shard state.
pub fn notify(st: &mut ShardState, class: u32, event: &'static str, db: usize, key: &[u8]) {
    let flags = st.config.notify_keyspace_events;
    st.signals.notify(flags, class, event, db, key);
}

/// Redis's eviction path (`performEvictions`): the key is gone, watchers and
/// trackers learn it changed, and an "evicted" event is published.
pub fn evicted(st: &mut ShardState, db: usize, key: &[u8]) {
    modified(st, db, key);
    notify(st, class::EVICTED, "evicted", db, key);
}

/// Hands on what the last command (or job) changed: WATCH, then client-side
/// caching invalidations, then keyspace notifications. Runs after every
/// command; when nothing was recorded it costs two comparisons. Returns the
/// command's caller and forgets it, so later jobs do not inherit it.
pub fn hand_on(core: &Core, st: &mut ShardState) -> Caller {
    if !st.signals.pending() && st.stats.expired == st.signals.expired_seen {
        return std::mem::take(&mut st.signals.caller);
    }
    if st.stats.expired != st.signals.expired_seen {
        collect_expired(st);
    }
    crate::persist::log::physical(st);
    st.signals.effects.clear();
    // WATCH learns of flushes and swaps before the keys go (`transaction::flushing`).
    let flushed = std::mem::take(&mut st.signals.flushed);
    let modified = std::mem::take(&mut st.signals.modified);
    for (db, key) in &modified {
        crate::cmd::transaction::touched(st, *db, key);
    }
    crate::notify::invalidate(core, st, &modified, &flushed);
    let events = std::mem::take(&mut st.signals.events);
    if !events.is_empty() {
        let flags = st.config.notify_keyspace_events;
        crate::notify::publish_events(core, flags, &events);
    }
    // Give the buffers back so the next command does not allocate them again.
    let mut modified = modified;
    modified.clear();
    if st.signals.modified.is_empty() {
        st.signals.modified = modified;
    }
    std::mem::take(&mut st.signals.caller)
}

/// Runs `job` on shard `target` without waiting for it: inline when the
/// target is this shard, otherwise in a task of this shard that makes the
/// call. Jobs to one target leave in the order they were made.
pub fn spawn_on(core: &Core, target: ShardId, job: impl FnOnce(&Core) + Send + 'static) {
    if target == core.id {
        job(core);
        return;
    }
    let Some(me) = core.me.upgrade() else { return };
    crate::runtime::spawn(async move {
        me.call(target, job).await;
    });
}

/// Expired keys (lazily or by the active cycle) signal a modification and an
/// "expired" event, ahead of what the command itself did after the lookup.
fn collect_expired(st: &mut ShardState) {
    st.signals.expired_seen = st.stats.expired;
    let flags = st.config.notify_keyspace_events;
    let mut expired = Vec::new();
    let ShardState { dbs, signals, .. } = st;
    for (i, db) in dbs.iter_mut().enumerate() {
        for key in db.take_expired() {
            signals.modified(i, &key);
            if flags & class::EXPIRED != 0 {
                expired.push(Event { class: class::EXPIRED, event: "expired", db: i, key });
            }
        }
    }
    if !expired.is_empty() {
        expired.append(&mut signals.events);
        signals.events = expired;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_letters_round_trip_as_redis() {
        assert_eq!(flags_from_str(b"KEA"), Some(class::KEYSPACE | class::KEYEVENT | class::ALL));
        assert_eq!(flags_to_string(flags_from_str(b"KEAmn").unwrap()), "AKEm");
        assert_eq!(flags_to_string(flags_from_str(b"Kgx").unwrap()), "gxK");
        assert_eq!(flags_to_string(flags_from_str(b"Elgn$").unwrap()), "g$lnE");
        assert_eq!(flags_to_string(0), "");
        assert_eq!(flags_from_str(b""), Some(0));
        assert_eq!(flags_from_str(b"Kq"), None);
    }

    #[test]
    fn nothing_recorded_when_no_one_listens() {
        let mut s = Signals::default();
        s.modified(0, b"k");
        s.notify(0, class::STRING, "set", 0, b"k");
        assert!(!s.pending());
        s.tracking = true;
        s.modified(0, b"k");
        s.notify(class::STRING | class::KEYSPACE, class::STRING, "set", 0, b"k");
        assert_eq!(s.modified.len(), 1);
        assert_eq!(s.events.len(), 1);
    }
}
