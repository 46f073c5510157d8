//! List commands: pushes, pops and LLEN here; positional commands (LRANGE,
//! LINDEX, LSET, LINSERT, LREM, LTRIM, LPOS) in `index`; commands that move
//! elements between keys (LMOVE, RPOPLPUSH, LMPOP), with their cross-shard
//! coordinators, in `moves`.
//!
//! Handlers take a [`Ks`], so they run alike for a local command, inside a
//! cross-shard hop and in unit tests. A list emptied by a command is deleted,
//! as Redis does; a new list is created with `Ks::insert`, which is what wakes
//! clients blocked on the key.

mod index;
pub(crate) mod moves;
#[cfg(test)]
mod tests;

use crate::cmd::ks::typed_mut;
use bytes::Bytes;

use super::{args, CmdError, CmdResult, Handler, Ks, OpError};
use crate::async_handler;
use crate::db::Entry;
use crate::on_shard;
use crate::resp::Out;
use crate::shard::signal::class;
use crate::types::{List, Value};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("lpush", Handler::Sync(on_shard!(lpush))),
    ("rpush", Handler::Sync(on_shard!(rpush))),
    ("lpushx", Handler::Sync(on_shard!(lpushx))),
    ("rpushx", Handler::Sync(on_shard!(rpushx))),
    ("lpop", Handler::Sync(on_shard!(lpop))),
    ("rpop", Handler::Sync(on_shard!(rpop))),
    ("llen", Handler::Sync(on_shard!(llen))),
    ("lrange", Handler::Sync(on_shard!(index::lrange))),
    ("lindex", Handler::Sync(on_shard!(index::lindex))),
    ("lset", Handler::Sync(on_shard!(index::lset))),
    ("linsert", Handler::Sync(on_shard!(index::linsert))),
    ("lrem", Handler::Sync(on_shard!(index::lrem))),
    ("ltrim", Handler::Sync(on_shard!(index::ltrim))),
    ("lpos", Handler::Sync(on_shard!(index::lpos))),
    ("lmove", Handler::SyncCross(on_shard!(moves::lmove), async_handler!(moves::cross_lmove))),
    ("rpoplpush", Handler::SyncCross(on_shard!(moves::rpoplpush), async_handler!(moves::cross_rpoplpush))),
    ("lmpop", Handler::SyncCross(on_shard!(moves::lmpop), async_handler!(moves::cross_lmpop))),
];

/// The list behind an entry: `WRONGTYPE` for another type.
pub(crate) fn list_of_mut(e: &mut Entry) -> Result<&mut List, OpError> {
    typed_mut(e)
}

/// Redis's `lookupKeyRead` plus `checkType` for a list.
fn read_list<'a>(ks: &'a mut Ks<'_>, key: &[u8]) -> Result<Option<&'a List>, OpError> {
    ks.read_as(key)
}

/// Redis's `lookupKeyWrite` plus `checkType` for a list.
fn write_list<'a>(ks: &'a mut Ks<'_>, key: &[u8]) -> Result<Option<&'a mut List>, OpError> {
    ks.write_as(key)
}

/// After elements were removed from `l`: lets it shrink back to a listpack and
/// says whether it is empty, so the caller deletes its key (Redis's
/// `listElementsRemoved`).
fn settle(l: &mut List, lim: &crate::types::Limits) -> bool {
    l.shrink_encoding(lim);
    l.is_empty()
}

/// Stores a new list holding `values` pushed in order at the head (`front`) or tail.
fn create<'a>(ks: &mut Ks<'_>, key: &[u8], values: impl Iterator<Item = &'a [u8]> + Clone, front: bool) -> usize {
    let lim = ks.limits;
    let mut l = List::new();
    l.grow_for(values.clone(), &lim);
    for v in values {
        l.push(v, front, &lim);
    }
    let len = l.len();
    ks.insert(Entry::new_obj(key, Value::List(l), None));
    len
}

/// Checks that `key` may receive a push: absent or a list (LMOVE's
/// destination check, which Redis makes before popping the source).
pub(crate) fn check_dest(ks: &mut Ks<'_>, key: &[u8]) -> Result<(), OpError> {
    write_list(ks, key).map(|_| ())
}

/// Pushes `value` at the head (`left`) or tail of the list at `key`, creating
/// it if absent; `WRONGTYPE` for a key of another type (LMOVE's push side).
pub(crate) fn push_to(ks: &mut Ks<'_>, key: &[u8], value: &[u8], left: bool) -> Result<(), OpError> {
    let lim = ks.limits;
    match write_list(ks, key)? {
        Some(l) => l.push(value, left, &lim),
        None => {
            create(ks, key, std::iter::once(value), left);
        }
    }
    ks.changed(class::LIST, if left { "lpush" } else { "rpush" }, key);
    Ok(())
}

/// LEFT or RIGHT (true for LEFT), case-insensitively; syntax error otherwise.
pub(crate) fn parse_end(arg: &[u8]) -> Result<bool, CmdError> {
    args::either(arg, "left", "right")
}

/// Redis's `getPositiveLongFromObjectOrReply`.
fn positive_arg(arg: &[u8], msg: Option<&'static str>) -> Result<usize, CmdError> {
    let v = args::range(arg, 0, i64::MAX, Some(msg.unwrap_or("value is out of range, must be positive")))?;
    Ok(v as usize)
}

fn push_generic(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out, front: bool, existing_only: bool) -> CmdResult {
    let key = &args[1];
    let values = args[2..].iter().map(|v| &v[..]);
    let lim = ks.limits;
    let len = match write_list(ks, key)? {
        Some(l) => {
            l.grow_for(values.clone(), &lim);
            for v in values {
                l.push(v, front, &lim);
            }
            l.len()
        }
        None if existing_only => {
            out.int(0);
            return Ok(());
        }
        None => create(ks, key, values, front),
    };
    ks.changed(class::LIST, if front { "lpush" } else { "rpush" }, key);
    out.int(len as i64);
    Ok(())
}

/// LPUSH key element [element ...] — O(1) per element.
fn lpush(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    push_generic(ks, args, out, true, false)
}

/// RPUSH key element [element ...] — O(1) per element.
fn rpush(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    push_generic(ks, args, out, false, false)
}

/// LPUSHX key element [element ...] — O(1) per element; only onto an existing list.
fn lpushx(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    push_generic(ks, args, out, true, true)
}

/// RPUSHX key element [element ...] — O(1) per element; only onto an existing list.
fn rpushx(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    push_generic(ks, args, out, false, true)
}

/// Replies with up to `n` elements of `l` taken from the head (`front`) or the
/// tail, in the order they come off, and removes them.
fn pop_range_reply(l: &mut List, front: bool, n: usize, out: &mut Out) {
    let n = n.min(l.len());
    out.array(n);
    if front {
        for v in l.range(0, n) {
            out.bulk(v);
        }
        l.remove_range(0, n);
    } else {
        for v in l.rev_iter().take(n) {
            out.bulk(v);
        }
        l.remove_range(l.len() - n, n);
    }
}

/// LPOP/RPOP: a bulk string without a count (null when absent), an array with
/// one (null array when absent, empty for a count of 0).
fn pop_generic(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out, front: bool, name: &str) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::wrong_args(name));
    }
    let count = args.get(2).map(|c| positive_arg(c, None)).transpose()?;
    let key = &args[1];
    let lim = ks.limits;
    let Some(l) = write_list(ks, key)? else {
        match count {
            Some(_) => out.null_array(),
            None => out.null(),
        }
        return Ok(());
    };
    match count {
        Some(0) => {
            out.array(0);
            return Ok(());
        }
        Some(n) => pop_range_reply(l, front, n, out),
        None => match l.pop_end(front) {
            Some(v) => out.bulk(&v),
            None => out.null(),
        },
    }
    let empty = settle(l, &lim);
    removed(ks, key, if front { "lpop" } else { "rpop" }, empty);
    Ok(())
}

/// Redis's `listElementsRemoved` after the elements are gone: the event,
/// deleting the emptied list (with a "del" event), and the modification.
pub(crate) fn removed(ks: &mut Ks<'_>, key: &[u8], event: &'static str, empty: bool) {
    ks.notify(class::LIST, event, key);
    if empty {
        ks.remove(key);
        ks.notify(class::GENERIC, "del", key);
    }
    ks.modified(key);
}

/// LPOP key [count] — O(N) in the elements returned.
fn lpop(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    pop_generic(ks, args, out, true, "lpop")
}

/// RPOP key [count] — O(N) in the elements returned.
fn rpop(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    pop_generic(ks, args, out, false, "rpop")
}

/// LLEN key — O(1).
fn llen(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let len = read_list(ks, &args[1])?.map_or(0, List::len);
    out.int(len as i64);
    Ok(())
}
