//! Sorted set commands: ZADD and the single-key reads and writes in `basic`;
//! the ZRANGE family, ZRANGESTORE and ZREMRANGEBY* in `range`; pops and
//! ZRANDMEMBER in `pop` (whose pop and reply helpers the blocking forms
//! share); ZUNION/ZINTER/ZDIFF, their STORE forms and
//! ZINTERCARD in `algebra`; ZSCAN in `scan`. Number and range parsing as
//! Redis does it (C's `strtod`) lives in `parse`.
//!
//! Handlers take a [`Ks`], so they run alike for a local command, inside a
//! cross-shard hop and in unit tests. Commands over several keys have a
//! coordinator for keys on different shards: it fetches owned copies of the
//! sources from their shards, computes on the connection's shard and stores
//! the result on the destination's shard. A sorted set emptied by a command
//! is deleted, as Redis does.

mod algebra;
mod basic;
pub(crate) mod parse;
pub(crate) mod pop;
mod range;
mod scan;
#[cfg(test)]
mod tests;

use super::{Handler, Ks, OpError};
use crate::async_handler;
use crate::cmd::ks::typed;
use crate::db::Entry;
use crate::on_shard;
use crate::resp::{Out, Proto};
use crate::shard::signal::class;
use crate::types::{Value, ZSet};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("zadd", Handler::Sync(on_shard!(basic::zadd))),
    ("zincrby", Handler::Sync(on_shard!(basic::zincrby))),
    ("zrem", Handler::Sync(on_shard!(basic::zrem))),
    ("zcard", Handler::Sync(on_shard!(basic::zcard))),
    ("zscore", Handler::Sync(on_shard!(basic::zscore))),
    ("zmscore", Handler::Sync(on_shard!(basic::zmscore))),
    ("zrank", Handler::Sync(on_shard!(basic::zrank))),
    ("zrevrank", Handler::Sync(on_shard!(basic::zrevrank))),
    ("zcount", Handler::Sync(on_shard!(basic::zcount))),
    ("zlexcount", Handler::Sync(on_shard!(basic::zlexcount))),
    ("zrange", Handler::Sync(on_shard!(range::zrange))),
    ("zrangestore", Handler::SyncCross(on_shard!(range::zrangestore), async_handler!(range::cross_zrangestore))),
    ("zrangebyscore", Handler::Sync(on_shard!(range::zrangebyscore))),
    ("zrevrangebyscore", Handler::Sync(on_shard!(range::zrevrangebyscore))),
    ("zrangebylex", Handler::Sync(on_shard!(range::zrangebylex))),
    ("zrevrangebylex", Handler::Sync(on_shard!(range::zrevrangebylex))),
    ("zrevrange", Handler::Sync(on_shard!(range::zrevrange))),
    ("zremrangebyrank", Handler::Sync(on_shard!(range::zremrangebyrank))),
    ("zremrangebyscore", Handler::Sync(on_shard!(range::zremrangebyscore))),
    ("zremrangebylex", Handler::Sync(on_shard!(range::zremrangebylex))),
    ("zpopmin", Handler::Sync(on_shard!(pop::zpopmin))),
    ("zpopmax", Handler::Sync(on_shard!(pop::zpopmax))),
    ("zmpop", Handler::SyncCross(on_shard!(pop::zmpop), async_handler!(pop::cross_zmpop))),
    ("zrandmember", Handler::Sync(on_shard!(pop::zrandmember))),
    ("zunion", Handler::SyncCross(on_shard!(algebra::zunion), async_handler!(algebra::cross_zunion))),
    ("zunionstore", Handler::SyncCross(on_shard!(algebra::zunionstore), async_handler!(algebra::cross_zunionstore))),
    ("zinter", Handler::SyncCross(on_shard!(algebra::zinter), async_handler!(algebra::cross_zinter))),
    ("zinterstore", Handler::SyncCross(on_shard!(algebra::zinterstore), async_handler!(algebra::cross_zinterstore))),
    ("zintercard", Handler::SyncCross(on_shard!(algebra::zintercard), async_handler!(algebra::cross_zintercard))),
    ("zdiff", Handler::SyncCross(on_shard!(algebra::zdiff), async_handler!(algebra::cross_zdiff))),
    ("zdiffstore", Handler::SyncCross(on_shard!(algebra::zdiffstore), async_handler!(algebra::cross_zdiffstore))),
    ("zscan", Handler::Sync(on_shard!(scan::zscan))),
];

/// The sorted set behind an entry: `WRONGTYPE` for another type.
pub(crate) fn zset_of(e: &Entry) -> Result<&ZSet, OpError> {
    typed(e)
}

/// Redis's `lookupKeyRead` plus `checkType` for a sorted set.
fn read_zset<'a>(ks: &'a mut Ks<'_>, key: &[u8]) -> Result<Option<&'a ZSet>, OpError> {
    ks.read_as(key)
}

/// Redis's `lookupKeyWrite` plus `checkType` for a sorted set.
fn write_zset<'a>(ks: &'a mut Ks<'_>, key: &[u8]) -> Result<Option<&'a mut ZSet>, OpError> {
    ks.write_as(key)
}

/// Stores `z` at `key`, replacing any value and its TTL (Redis's `setKey`),
/// or deletes `key` when `z` is empty. Returns the stored size.
/// `event` is the command's notification ("zunionstore", ...).
fn store(ks: &mut Ks<'_>, key: &[u8], z: ZSet, event: &'static str) -> usize {
    let n = z.len();
    if n == 0 {
        if ks.remove(key).is_some() {
            ks.changed(class::GENERIC, "del", key);
        }
    } else {
        // A lazily expired destination counts as Redis's lookupKeyWrite counts it.
        ks.db.expire_if_needed(key, ks.clock, ks.stats);
        ks.insert(Entry::new_obj(key, Value::ZSet(z), None));
        ks.changed(class::ZSET, event, key);
    }
    n
}

/// Writes `(member, score)` entries: members alone, or with scores as one
/// flat array in RESP2 and as `[member, score]` pairs in RESP3.
fn reply_entries(out: &mut Out, withscores: bool, items: &[(&[u8], f64)]) {
    let pairs = withscores && out.proto == Proto::Resp3;
    out.array(if withscores && !pairs { items.len() * 2 } else { items.len() });
    for (m, s) in items {
        if pairs {
            out.array(2);
        }
        out.bulk(m);
        if withscores {
            out.double(*s);
        }
    }
}
