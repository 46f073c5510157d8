//! Set commands: membership commands here; SPOP and SRANDMEMBER in `random`;
//! SUNION/SINTER/SDIFF, their STORE forms and SINTERCARD in `algebra`; SMOVE
//! in `smove`; SSCAN in `scan`.
//!
//! Handlers take a [`Ks`], so they run alike for a local command, inside a
//! cross-shard hop and in unit tests. Commands over several keys also have a
//! coordinator for keys on different shards: it fetches owned copies of the
//! source sets from their shards, computes on the connection's shard and
//! stores the result on the destination's shard. A set emptied by a command
//! is deleted, as Redis does.

mod algebra;
mod random;
mod scan;
mod smove;
#[cfg(test)]
mod tests;

use crate::cmd::ks::{typed, typed_mut};
use std::borrow::Cow;

use bytes::Bytes;

use super::{CmdResult, Handler, Ks, OpError};
use crate::async_handler;
use crate::db::Entry;
use crate::on_shard;
use crate::resp::Out;
use crate::shard::signal::class;
use crate::types::{Set, Value};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("sadd", Handler::Sync(on_shard!(sadd))),
    ("srem", Handler::Sync(on_shard!(srem))),
    ("scard", Handler::Sync(on_shard!(scard))),
    ("sismember", Handler::Sync(on_shard!(sismember))),
    ("smismember", Handler::Sync(on_shard!(smismember))),
    ("smembers", Handler::Sync(on_shard!(smembers))),
    ("srandmember", Handler::Sync(on_shard!(random::srandmember))),
    ("spop", Handler::Sync(on_shard!(random::spop))),
    ("sscan", Handler::Sync(on_shard!(scan::sscan))),
    ("smove", Handler::SyncCross(on_shard!(smove::smove), async_handler!(smove::cross_smove))),
    ("sunion", Handler::SyncCross(on_shard!(algebra::sunion), async_handler!(algebra::cross_sunion))),
    ("sunionstore", Handler::SyncCross(on_shard!(algebra::sunionstore), async_handler!(algebra::cross_sunionstore))),
    ("sinter", Handler::SyncCross(on_shard!(algebra::sinter), async_handler!(algebra::cross_sinter))),
    ("sinterstore", Handler::SyncCross(on_shard!(algebra::sinterstore), async_handler!(algebra::cross_sinterstore))),
    ("sintercard", Handler::SyncCross(on_shard!(algebra::sintercard), async_handler!(algebra::cross_sintercard))),
    ("sdiff", Handler::SyncCross(on_shard!(algebra::sdiff), async_handler!(algebra::cross_sdiff))),
    ("sdiffstore", Handler::SyncCross(on_shard!(algebra::sdiffstore), async_handler!(algebra::cross_sdiffstore))),
];

/// The set behind an entry: `WRONGTYPE` for another type.
pub(crate) fn set_of(e: &Entry) -> Result<&Set, OpError> {
    typed(e)
}

pub(crate) fn set_of_mut(e: &mut Entry) -> Result<&mut Set, OpError> {
    typed_mut(e)
}

/// Redis's `lookupKeyRead` plus `checkType` for a set.
fn read_set<'a>(ks: &'a mut Ks<'_>, key: &[u8]) -> Result<Option<&'a Set>, OpError> {
    ks.read_as(key)
}

/// Redis's `lookupKeyWrite` plus `checkType` for a set.
fn write_set<'a>(ks: &'a mut Ks<'_>, key: &[u8]) -> Result<Option<&'a mut Set>, OpError> {
    ks.write_as(key)
}

/// Writes `members` as a set reply (an array in RESP2).
fn reply_members<'a>(out: &mut Out, n: usize, members: impl Iterator<Item = Cow<'a, [u8]>>) {
    out.set(n);
    for m in members {
        out.bulk(&m);
    }
}

/// SADD key member [member ...] — O(1) per member.
fn sadd(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let key = &args[1];
    let lim = ks.limits;
    let added = match write_set(ks, key)? {
        Some(s) => args[2..].iter().filter(|m| s.insert(m, &lim)).count(),
        None => {
            let mut s = Set::new();
            let n = args[2..].iter().filter(|m| s.insert(m, &lim)).count();
            ks.insert(Entry::new_obj(key, Value::Set(s), None));
            n
        }
    };
    if added > 0 {
        ks.changed(class::SET, "sadd", key);
    }
    out.int(added as i64);
    Ok(())
}

/// SREM key member [member ...] — O(1) per member.
fn srem(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let key = &args[1];
    let Some(s) = write_set(ks, key)? else {
        out.int(0);
        return Ok(());
    };
    let mut removed = 0;
    for m in &args[2..] {
        if s.remove(m) {
            removed += 1;
            if s.is_empty() {
                break;
            }
        }
    }
    let emptied = s.is_empty();
    if emptied {
        ks.remove(key);
    }
    if removed > 0 {
        ks.changed(class::SET, "srem", key);
        if emptied {
            ks.notify(class::GENERIC, "del", key);
        }
    }
    out.int(removed);
    Ok(())
}

/// SCARD key — O(1).
fn scard(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    out.int(read_set(ks, &args[1])?.map_or(0, |s| s.len() as i64));
    Ok(())
}

/// SISMEMBER key member — O(1).
fn sismember(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    out.int(read_set(ks, &args[1])?.is_some_and(|s| s.contains(&args[2])) as i64);
    Ok(())
}

/// SMISMEMBER key member [member ...] — O(N) in the number of members.
fn smismember(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let s = read_set(ks, &args[1])?;
    out.array(args.len() - 2);
    for m in &args[2..] {
        out.int(s.is_some_and(|s| s.contains(m)) as i64);
    }
    Ok(())
}

/// SMEMBERS key — O(N).
fn smembers(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    match read_set(ks, &args[1])? {
        Some(s) => reply_members(out, s.len(), s.iter()),
        None => out.set(0),
    }
    Ok(())
}
