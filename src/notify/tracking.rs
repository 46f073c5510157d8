//! Client-side caching (Redis's tracking.c) over shards.
//!
//! A tracking connection's settings live on its `ClientInfo`, on the shard
//! that serves it; every shard also keeps a copy of what it needs of every
//! tracking client (a [`Tracker`]: home shard, redirection, BCAST prefixes,
//! NOLOOP), refreshed by CLIENT TRACKING and on disconnection. A key read by
//! a tracking client is remembered on the shard that owns the key. When a
//! command there modifies the key, that shard sends the invalidation to the
//! shard of the connection that must receive it (the tracking client, or the
//! client it redirects to), which writes it in that connection's protocol.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;

use bytes::Bytes;

use crate::db::Map;
use crate::resp::{Out, Proto};
use crate::server::client::ClientInfo;
use crate::shard::signal::{spawn_on, Caller};
use crate::shard::{Core, ShardId, ShardState};

/// Redis's `CLIENT_TRACKING*` flags, as kept on a connection.
pub mod flag {
    pub const ON: u32 = 1 << 0;
    pub const BCAST: u32 = 1 << 1;
    pub const OPTIN: u32 = 1 << 2;
    pub const OPTOUT: u32 = 1 << 3;
    pub const NOLOOP: u32 = 1 << 4;
    /// CLIENT CACHING yes (OPTIN) or no (OPTOUT) for the next command.
    pub const CACHING: u32 = 1 << 5;
    /// The redirection target disconnected.
    pub const BROKEN_REDIR: u32 = 1 << 6;
}

/// A connection's tracking settings (on its `ClientInfo`).
#[derive(Debug, Default)]
pub struct ClientTracking {
    pub flags: Cell<u32>,
    /// REDIRECT client id (0: none).
    pub redirect: Cell<u64>,
    /// BCAST prefixes, sorted as Redis's radix tree lists them.
    pub prefixes: RefCell<Vec<Bytes>>,
}

impl ClientTracking {
    pub fn on(&self) -> bool {
        self.flags.get() & flag::ON != 0
    }

    /// The CLIENT LIST flag letters tracking adds (`t`, `R`, `B`, in Redis's order).
    pub fn letters(&self) -> &'static str {
        let f = self.flags.get();
        match (f & flag::ON != 0, f & flag::BROKEN_REDIR != 0, f & flag::BCAST != 0) {
            (false, _, _) => "",
            (true, false, false) => "t",
            (true, true, false) => "tR",
            (true, false, true) => "tB",
            (true, true, true) => "tRB",
        }
    }

    /// CLIENT LIST's `redir` field.
    pub fn redir(&self) -> i64 {
        if self.on() {
            self.redirect.get() as i64
        } else {
            -1
        }
    }
}

/// What every shard knows of one tracking client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracker {
    pub home: ShardId,
    pub bcast: bool,
    pub noloop: bool,
    /// Redirection client id (0: none) and the shard it lives on.
    pub redirect: u64,
    pub redirect_home: ShardId,
    /// BCAST prefixes.
    pub prefixes: Vec<Bytes>,
}

/// One shard's client-side caching state.
#[derive(Debug, Default)]
pub struct Tables {
    /// Keys of this shard read by tracking clients -> their ids (Redis's
    /// `TrackingTable`; like Redis, not per database).
    keys: Map<Bytes, Vec<u64>>,
    /// Every tracking client of the server.
    trackers: Map<u64, Tracker>,
    /// How many of them are in BCAST mode.
    bcast: usize,
    /// Keys dropped to keep within `tracking-table-max-keys`, with their
    /// readers, to invalidate.
    evicted: Vec<(Bytes, Vec<u64>)>,
}

impl Tables {
    /// Whether modified keys of this shard matter to any tracking client.
    pub fn active(&self) -> bool {
        !self.keys.is_empty() || self.bcast > 0
    }

    /// Keys evicted from the table wait for their invalidation.
    pub fn pending(&self) -> bool {
        !self.evicted.is_empty()
    }

    /// Redis's `trackingLimitUsedSlots`: over `max` keys (0: no limit), keys
    /// leave the table and their readers are told, as for a modification.
    pub fn limit(&mut self, max: u64) {
        while max != 0 && self.keys.len() as u64 > max {
            let Some(k) = self.keys.keys().next().cloned() else { return };
            if let Some(ids) = self.keys.remove(&k) {
                self.evicted.push((k, ids));
            }
        }
    }

    /// Keys remembered here (for INFO's `tracking_total_keys`).
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Tracking clients known (every shard knows all of them).
    pub fn tracker_count(&self) -> usize {
        self.trackers.len()
    }

    /// Redis's `trackingRememberKeys` for one key.
    pub fn remember(&mut self, key: &[u8], id: u64) {
        match self.keys.get_mut(key) {
            Some(ids) => {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            None => {
                self.keys.insert(Bytes::copy_from_slice(key), vec![id]);
            }
        }
    }

    /// Installs or replaces (`Some`) or removes (`None`) a tracking client.
    pub fn set_tracker(&mut self, id: u64, t: Option<Tracker>) {
        let old = match t {
            Some(t) => {
                self.bcast += t.bcast as usize;
                self.trackers.insert(id, t)
            }
            None => self.trackers.remove(&id),
        };
        if let Some(old) = old {
            self.bcast -= old.bcast as usize;
        }
    }
}

/// What an invalidation carries: keys, or the null of a flush.
#[derive(Debug, Clone)]
enum Payload {
    Keys(Vec<Bytes>),
    /// FLUSHDB/FLUSHALL: a null in the tracking client's protocol (RESP3 `_`).
    Null {
        resp3: bool,
    },
}

/// One invalidation message for one tracking client.
#[derive(Debug, Clone)]
struct Inval {
    tracker: u64,
    home: ShardId,
    redirect: u64,
    payload: Payload,
}

impl Inval {
    fn new(id: u64, t: &Tracker, payload: Payload) -> (ShardId, Inval) {
        let dest = if t.redirect != 0 { t.redirect_home } else { t.home };
        (dest, Inval { tracker: id, home: t.home, redirect: t.redirect, payload })
    }
}

/// Redis's `trackingInvalidateKey` for the keys one command modified (and
/// the broadcast of BCAST prefixes), and `trackingInvalidateKeysOnFlush`.
pub fn invalidate(core: &Core, st: &mut ShardState, modified: &[(usize, Bytes)], flushed: bool) {
    let caller = st.signals.caller;
    let mut out: Vec<(ShardId, Inval)> = Vec::new();
    if flushed {
        flush(core, st, &mut out);
    }
    let t = &mut st.signals.tables;
    // Evicted keys: every reader is told, NOLOOP or not (Redis passes no client).
    for (key, ids) in std::mem::take(&mut t.evicted) {
        for id in ids {
            if let Some(tr) = t.trackers.get(&id).filter(|tr| !tr.bcast) {
                out.push(Inval::new(id, tr, Payload::Keys(vec![key.clone()])));
            }
        }
    }
    if !modified.is_empty() && t.active() {
        for (_, key) in modified {
            let Some(ids) = t.keys.remove(key) else { continue };
            for id in ids {
                let Some(tr) = t.trackers.get(&id) else { continue };
                if tr.bcast || (tr.noloop && id == caller.id) {
                    continue;
                }
                out.push(Inval::new(id, tr, Payload::Keys(vec![key.clone()])));
            }
        }
        if t.bcast > 0 {
            broadcast(t, modified, caller, &mut out);
        }
    }
    st.signals.tracking = st.signals.tables.active();
    send(core, out);
}

/// BCAST clients: one message per matching prefix with the keys under it,
/// sorted and without repeats as Redis's radix tree gives them.
fn broadcast(t: &Tables, modified: &[(usize, Bytes)], caller: Caller, out: &mut Vec<(ShardId, Inval)>) {
    for (&id, tr) in t.trackers.iter().filter(|(_, tr)| tr.bcast) {
        if tr.noloop && id == caller.id {
            continue;
        }
        for p in &tr.prefixes {
            let keys: BTreeSet<&Bytes> = modified.iter().map(|(_, k)| k).filter(|k| k.starts_with(p)).collect();
            if !keys.is_empty() {
                out.push(Inval::new(id, tr, Payload::Keys(keys.into_iter().cloned().collect())));
            }
        }
    }
}

/// A flush: every tracking client of this shard gets a null, and the keys
/// remembered here are forgotten.
fn flush(core: &Core, st: &mut ShardState, out: &mut Vec<(ShardId, Inval)>) {
    let t = &mut st.signals.tables;
    t.keys.clear();
    for c in core.clients.borrow().clients.values() {
        if !c.tracking.on() {
            continue;
        }
        let Some(tr) = t.trackers.get(&c.id) else { continue };
        let resp3 = c.proto.get() == Proto::Resp3;
        out.push(Inval::new(c.id, tr, Payload::Null { resp3 }));
    }
}

/// Sends invalidations, grouped by the shard whose connection writes them.
fn send(core: &Core, mut out: Vec<(ShardId, Inval)>) {
    while !out.is_empty() {
        let dest = out[0].0;
        let (here, rest): (Vec<_>, Vec<_>) = out.into_iter().partition(|(d, _)| *d == dest);
        out = rest;
        let batch: Vec<Inval> = here.into_iter().map(|(_, i)| i).collect();
        spawn_on(core, dest, move |c| batch.into_iter().for_each(|i| deliver(c, i)));
    }
}

/// Redis's `sendTrackingMessage`, on the shard of the receiving connection.
fn deliver(core: &Core, i: Inval) {
    let target = if i.redirect != 0 {
        let found = core.clients.borrow().clients.get(&i.redirect).cloned();
        match found {
            Some(c) => c,
            None => {
                let (tracker, redirect) = (i.tracker, i.redirect);
                spawn_on(core, i.home, move |c| redirect_broken(c, tracker, redirect));
                return;
            }
        }
    } else {
        match core.clients.borrow().clients.get(&i.tracker).cloned() {
            Some(c) => c,
            None => return,
        }
    };
    let resp3 = target.proto.get() == Proto::Resp3;
    // RESP2 can carry invalidations only as Pub/Sub messages, to a
    // redirection target in subscribed mode.
    let as_message = !resp3 && i.redirect != 0 && target.push.subscribed();
    if !resp3 && !as_message {
        return;
    }
    let payload = i.payload;
    crate::pubsub::push_to_client(
        core,
        core.id,
        target.id,
        Box::new(move |out: &mut Out| {
            if as_message {
                out.array(3);
                out.bulk(b"message");
                out.bulk(b"__redis__:invalidate");
            } else {
                out.push(2);
                out.bulk(b"invalidate");
            }
            match payload {
                Payload::Keys(keys) => {
                    out.array(keys.len());
                    for k in &keys {
                        out.bulk(k);
                    }
                }
                Payload::Null { resp3: true } => out.raw(b"_\r\n"),
                Payload::Null { resp3: false } => out.raw(b"$-1\r\n"),
            }
        }),
    );
}

/// The redirection target is gone: the tracking client is flagged and, in
/// RESP3, told so (`tracking-redir-broken`).
fn redirect_broken(core: &Core, tracker: u64, redirect: u64) {
    let Some(c) = core.clients.borrow().clients.get(&tracker).cloned() else { return };
    let t = &c.tracking;
    if !t.on() || t.redirect.get() != redirect {
        return;
    }
    t.flags.set(t.flags.get() | flag::BROKEN_REDIR);
    if c.proto.get() == Proto::Resp3 {
        crate::pubsub::push_to_client(
            core,
            core.id,
            tracker,
            Box::new(move |out: &mut Out| {
                out.push(2);
                out.bulk(b"tracking-redir-broken");
                out.int(redirect as i64);
            }),
        );
    }
}

/// The caller of a command about to run, for the tracking table and NOLOOP.
/// A CLIENT CACHING setting is used up by the next command that is not a
/// CLIENT subcommand (Redis's `resetClient`).
pub fn caller(client: &ClientInfo, home: ShardId, cmd: &crate::cmd::Command) -> Caller {
    let t = &client.tracking;
    let f = t.flags.get();
    if f & flag::ON == 0 {
        return Caller { id: client.id, home, track: false };
    }
    let caching = f & flag::CACHING != 0;
    if caching && !cmd.name().starts_with("client") {
        t.flags.set(f & !flag::CACHING);
    }
    let optin = f & flag::OPTIN != 0;
    let optout = f & flag::OPTOUT != 0;
    // Redis's trackingRememberKeys: OPTIN needs CACHING yes, OPTOUT skips on CACHING no.
    let track = f & flag::BCAST == 0 && (!optin || caching) && (!optout || !caching);
    Caller { id: client.id, home, track }
}

/// After a read-only command on this shard: remembers the keys it named for
/// its caller (Redis's `trackingRememberKeys`).
pub fn remember(st: &mut ShardState, caller: Caller, cmd: &crate::cmd::Command, args: &[Bytes]) {
    if !caller.track || !cmd.flags.contains(crate::cmd::Flags::READONLY) {
        return;
    }
    for i in cmd.keys.positions(args) {
        st.signals.tables.remember(&args[i], caller.id);
    }
    let max = st.config.tracking_table_max_keys;
    st.signals.tables.limit(max);
    st.signals.tracking = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker(bcast: bool, noloop: bool, prefixes: &[&str]) -> Tracker {
        Tracker {
            home: 0,
            bcast,
            noloop,
            redirect: 0,
            redirect_home: 0,
            prefixes: prefixes.iter().map(|p| Bytes::copy_from_slice(p.as_bytes())).collect(),
        }
    }

    #[test]
    fn tables_count_bcast_trackers_and_keys() {
        let mut t = Tables::default();
        assert!(!t.active());
        t.set_tracker(1, Some(tracker(true, false, &[""])));
        t.set_tracker(1, Some(tracker(true, false, &["a"])));
        assert_eq!((t.bcast, t.tracker_count()), (1, 1));
        t.set_tracker(1, None);
        assert_eq!(t.bcast, 0);
        t.remember(b"k", 2);
        t.remember(b"k", 2);
        t.remember(b"k", 3);
        assert_eq!(t.keys.get(&b"k"[..]).unwrap(), &vec![2, 3]);
        assert!(t.active());
    }

    #[test]
    fn broadcast_sorts_and_filters_by_prefix_and_noloop() {
        let mut t = Tables::default();
        t.set_tracker(7, Some(tracker(true, false, &["a", "b"])));
        t.set_tracker(8, Some(tracker(true, true, &[""])));
        let modified: Vec<(usize, Bytes)> =
            ["b1", "a2", "a1", "a2", "c"].iter().map(|k| (0, Bytes::copy_from_slice(k.as_bytes()))).collect();
        let mut out = Vec::new();
        broadcast(&t, &modified, Caller { id: 8, home: 0, track: false }, &mut out);
        let got: Vec<(u64, Vec<Bytes>)> = out
            .into_iter()
            .map(|(_, i)| match i.payload {
                Payload::Keys(k) => (i.tracker, k),
                Payload::Null { .. } => (i.tracker, vec![]),
            })
            .collect();
        let b = |v: &[&str]| v.iter().map(|k| Bytes::copy_from_slice(k.as_bytes())).collect::<Vec<_>>();
        assert_eq!(got, vec![(7, b(&["a1", "a2"])), (7, b(&["b1"]))]);
    }
}
