//! Hash commands: setting, reading and deleting fields here; counters
//! (HINCRBY, HINCRBYFLOAT), HRANDFIELD and HSCAN in the submodules.
//!
//! Every handler runs on the shard that owns its key with a [`Ks`]; the
//! checks come in Redis's order (argument errors, then the key's type, then
//! option errors), so error replies match Redis's for every mix of mistakes.

mod incr;
mod random;
mod scan;
#[cfg(test)]
mod tests;

use crate::cmd::ks::typed;
use bytes::Bytes;

use super::{CmdError, CmdResult, Handler, Ks, OpError};
use crate::db::Entry;
use crate::on_shard;
use crate::resp::Out;
use crate::shard::signal::class;
use crate::types::{Hash, Value};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("hset", Handler::Sync(on_shard!(hset))),
    ("hmset", Handler::Sync(on_shard!(hmset))),
    ("hsetnx", Handler::Sync(on_shard!(hsetnx))),
    ("hget", Handler::Sync(on_shard!(hget))),
    ("hmget", Handler::Sync(on_shard!(hmget))),
    ("hdel", Handler::Sync(on_shard!(hdel))),
    ("hlen", Handler::Sync(on_shard!(hlen))),
    ("hstrlen", Handler::Sync(on_shard!(hstrlen))),
    ("hexists", Handler::Sync(on_shard!(hexists))),
    ("hkeys", Handler::Sync(on_shard!(hkeys))),
    ("hvals", Handler::Sync(on_shard!(hvals))),
    ("hgetall", Handler::Sync(on_shard!(hgetall))),
    ("hincrby", Handler::Sync(on_shard!(incr::hincrby))),
    ("hincrbyfloat", Handler::Sync(on_shard!(incr::hincrbyfloat))),
    ("hrandfield", Handler::Sync(on_shard!(random::hrandfield))),
    ("hscan", Handler::Sync(on_shard!(scan::hscan))),
];

/// The hash behind an entry: `WRONGTYPE` for another type.
fn as_hash(e: &Entry) -> Result<&Hash, OpError> {
    typed(e)
}

/// The hash at `key` for a read command (counts a hit or a miss).
pub(crate) fn read<'k>(ks: &'k mut Ks<'_>, key: &[u8]) -> Result<Option<&'k Hash>, OpError> {
    ks.read_as(key)
}

/// The hash at `key` for a write command.
pub(crate) fn write<'k>(ks: &'k mut Ks<'_>, key: &[u8]) -> Result<Option<&'k mut Hash>, OpError> {
    ks.write_as(key)
}

/// Redis's `hashTypeLookupWriteOrCreate`: the hash at `key`, created empty
/// (and stored) if the key is missing. Callers leave it non-empty.
pub(crate) fn write_or_create<'k>(ks: &'k mut Ks<'_>, key: &[u8]) -> Result<&'k mut Hash, OpError> {
    match ks.write(key) {
        Some(e) => {
            as_hash(e)?;
        }
        None => ks.insert(Entry::new_obj(key, Value::Hash(Hash::new()), None)),
    }
    write(ks, key)?.ok_or(OpError::NoSuchKey)
}

/// HSET and HMSET: `key field value [field value ...]`; the count of new fields.
fn set_pairs(ks: &mut Ks<'_>, args: &[Bytes], name: &str) -> Result<i64, CmdError> {
    if !args.len().is_multiple_of(2) {
        return Err(CmdError::wrong_args(name));
    }
    let lim = ks.limits;
    let h = write_or_create(ks, &args[1])?;
    h.fit(args[2..].iter().map(|a| &a[..]), &lim);
    let mut created = 0;
    for pair in args[2..].chunks_exact(2) {
        created += h.insert(&pair[0], &pair[1], &lim) as i64;
    }
    ks.changed(class::HASH, "hset", &args[1]);
    Ok(created)
}

/// HSET key field value [field value ...] — O(1) per pair. Replies with the number of new fields.
fn hset(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    out.int(set_pairs(ks, args, "hset")?);
    Ok(())
}

/// HMSET key field value [field value ...] — O(1) per pair. Replies OK.
fn hmset(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    set_pairs(ks, args, "hmset")?;
    out.ok();
    Ok(())
}

/// HSETNX key field value — O(1).
fn hsetnx(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let lim = ks.limits;
    let h = write_or_create(ks, &args[1])?;
    if h.contains(&args[2]) {
        out.int(0);
    } else {
        h.insert(&args[2], &args[3], &lim);
        out.int(1);
        ks.changed(class::HASH, "hset", &args[1]);
    }
    Ok(())
}

/// HGET key field — O(1).
fn hget(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    match read(ks, &args[1])?.and_then(|h| h.get(&args[2])) {
        Some(v) => out.bulk(v),
        None => out.null(),
    }
    Ok(())
}

/// HMGET key field [field ...] — O(N) in the fields asked for.
fn hmget(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let h = read(ks, &args[1])?;
    out.array(args.len() - 2);
    for f in &args[2..] {
        match h.and_then(|h| h.get(f)) {
            Some(v) => out.bulk(v),
            None => out.null(),
        }
    }
    Ok(())
}

/// HDEL key field [field ...] — O(N) in the fields given. Deletes the key
/// once its last field goes.
fn hdel(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let key = &args[1];
    let Some(h) = write(ks, key)? else {
        out.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    let mut emptied = false;
    for f in &args[2..] {
        if h.remove(f) {
            deleted += 1;
            if h.is_empty() {
                emptied = true;
                break;
            }
        }
    }
    if emptied {
        ks.remove(key);
    }
    if deleted > 0 {
        ks.changed(class::HASH, "hdel", key);
        if emptied {
            ks.notify(class::GENERIC, "del", key);
        }
    }
    out.int(deleted);
    Ok(())
}

/// HLEN key — O(1).
fn hlen(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    out.int(read(ks, &args[1])?.map_or(0, |h| h.len() as i64));
    Ok(())
}

/// HSTRLEN key field — O(1).
fn hstrlen(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let n = read(ks, &args[1])?.and_then(|h| h.get(&args[2])).map_or(0, <[u8]>::len);
    out.int(n as i64);
    Ok(())
}

/// HEXISTS key field — O(1).
fn hexists(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let found = read(ks, &args[1])?.is_some_and(|h| h.contains(&args[2]));
    out.int(found as i64);
    Ok(())
}

/// Which halves of each pair HKEYS, HVALS and HGETALL return.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Halves {
    Fields,
    Values,
    Both,
}

/// Redis's `genericHgetallCommand`: a map for HGETALL, an array otherwise.
fn get_all(ks: &mut Ks<'_>, key: &[u8], halves: Halves, out: &mut Out) -> CmdResult {
    let Some(h) = read(ks, key)? else {
        if halves == Halves::Both {
            out.map(0);
        } else {
            out.array(0);
        }
        return Ok(());
    };
    if halves == Halves::Both {
        out.map(h.len());
    } else {
        out.array(h.len());
    }
    for (f, v) in h.iter() {
        if halves != Halves::Values {
            out.bulk(f);
        }
        if halves != Halves::Fields {
            out.bulk(v);
        }
    }
    Ok(())
}

/// HKEYS key — O(N).
fn hkeys(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    get_all(ks, &args[1], Halves::Fields, out)
}

/// HVALS key — O(N).
fn hvals(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    get_all(ks, &args[1], Halves::Values, out)
}

/// HGETALL key — O(N). A map in RESP3, a flat array of pairs in RESP2.
fn hgetall(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    get_all(ks, &args[1], Halves::Both, out)
}
