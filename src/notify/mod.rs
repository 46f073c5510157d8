//! Keyspace notifications and client-side caching: what a shard does with the
//! changes its commands recorded (`crate::shard::signal`).

pub mod tracking;

use bytes::Bytes;

use crate::cmd::{Command, Flags, Session};
use crate::server::client::ClientInfo;
use crate::shard::signal::{class, Caller, Event};
use crate::shard::{Core, ShardId, ShardState};
pub use tracking::{caller, remember, ClientTracking, Tracker};

/// Publishes keyspace events as Redis's `notifyKeyspaceEvent` does:
/// `__keyspace@<db>__:<key>` carries the event, `__keyevent@<db>__:<event>`
/// the key.
pub fn publish_events(core: &Core, flags: u32, events: &[Event]) {
    for e in events {
        if flags & class::KEYSPACE != 0 {
            let mut chan = format!("__keyspace@{}__:", e.db).into_bytes();
            chan.extend_from_slice(&e.key);
            publish(core, &chan, e.event.as_bytes());
        }
        if flags & class::KEYEVENT != 0 {
            let chan = format!("__keyevent@{}__:{}", e.db, e.event);
            publish(core, chan.as_bytes(), &e.key);
        }
    }
}

fn publish(core: &Core, channel: &[u8], message: &[u8]) {
    crate::pubsub::publish_nowait(core, channel, message);
}

/// Client-side caching: tells tracking clients that `modified` keys changed
/// and that `flushed` databases were emptied.
pub fn invalidate(core: &Core, st: &mut ShardState, modified: &[(usize, Bytes)], flushed: &[Option<usize>]) {
    if flushed.is_empty() && (modified.is_empty() || !st.signals.tables.active()) && !st.signals.tables.pending() {
        return;
    }
    tracking::invalidate(core, st, modified, !flushed.is_empty());
}

/// Tells every shard about a tracking client's new settings (`None`: it
/// stopped tracking or disconnected).
pub async fn publish_tracker(core: &Core, id: u64, t: Option<Tracker>) {
    core.call_all(move |c: &Core| {
        let mut st = c.state.borrow_mut();
        st.signals.tables.set_tracker(id, t.clone());
        st.signals.tracking = st.signals.tables.active();
    })
    .await;
}

/// Redis's `disableTracking` on the connection itself.
pub fn disable(client: &ClientInfo) {
    client.tracking.flags.set(0);
    client.tracking.prefixes.borrow_mut().clear();
}

/// A connection closes or RESETs: it stops tracking everywhere.
pub async fn client_gone(core: &Core, client: &ClientInfo) {
    if client.tracking.on() {
        disable(client);
        publish_tracker(core, client.id, None).await;
    }
}

/// The shard a client's connection lives on, if it is connected.
pub async fn find_client(core: &Core, id: u64) -> Option<ShardId> {
    let here = core.call_all(move |c: &Core| c.clients.borrow().clients.contains_key(&id)).await;
    here.iter().position(|&h| h)
}

/// After a command that ran as a coordinator (keys on several shards): the
/// keys a tracking client read are remembered on their shards.
pub async fn remember_across(s: &Session, caller: Caller, cmd: &Command, args: &[Bytes]) {
    if !caller.track || !cmd.flags.contains(Flags::READONLY) {
        return;
    }
    let keys: Vec<Bytes> = cmd.keys.positions(args).map(|i| args[i].clone()).collect();
    if keys.is_empty() {
        return;
    }
    let groups = crate::shard::slot::group_by_shard(s.core.nshards, keys, |k: &Bytes| &k[..]);
    s.core
        .call_each(groups, move |c: &Core, keys: Vec<Bytes>| {
            let mut st = c.state.borrow_mut();
            for k in &keys {
                st.signals.tables.remember(k, caller.id);
            }
            let max = st.config.tracking_table_max_keys;
            st.signals.tables.limit(max);
            st.signals.tracking = true;
        })
        .await;
}
