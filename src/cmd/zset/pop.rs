//! ZPOPMIN, ZPOPMAX, ZMPOP and ZRANDMEMBER, and the pop helpers the blocking
//! forms (BZPOPMIN, BZPOPMAX, BZMPOP) share.

use bytes::Bytes;

use super::{write_zset, zset_of};
use crate::cmd::{args, on_shards, CmdError, CmdResult, Ks, OpError, Session};
use crate::resp::{Out, Proto};
use crate::shard::signal::class;
use crate::types::ZSet;

/// The most entries one ZRANDMEMBER reply with a negative count may list
/// (Redis stops such a reply at the client's output buffer limit instead).
const MAX_REPLY_MEMBERS: u64 = 1 << 27;

/// Removes up to `count` entries from the low end (or the high end, `max`)
/// of `z`, in pop order.
pub(crate) fn pop_entries(z: &mut ZSet, max: bool, count: usize) -> Popped {
    let mut popped = Vec::with_capacity(count.min(z.len()));
    while popped.len() < count {
        match if max { z.pop_max() } else { z.pop_min() } {
            Some(e) => popped.push(e),
            None => break,
        }
    }
    popped
}

/// Shapes of a pop reply, as Redis's `genericZpopCommand` writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PopShape {
    /// ZPOPMIN/ZPOPMAX: `[member, score, ...]`.
    Flat,
    /// ZPOPMIN/ZPOPMAX with a count in RESP3: `[[member, score], ...]`.
    Pairs,
    /// BZPOPMIN/BZPOPMAX: `[key, member, score]`.
    KeyFlat,
    /// ZMPOP/BZMPOP: `[key, [[member, score], ...]]`.
    KeyPairs,
}

/// Writes popped entries of `key` in `shape`.
pub(crate) fn reply_popped(out: &mut Out, key: &[u8], popped: &[(Vec<u8>, f64)], shape: PopShape) {
    let pairs = matches!(shape, PopShape::Pairs | PopShape::KeyPairs);
    match shape {
        PopShape::Flat => out.array(popped.len() * 2),
        PopShape::Pairs => out.array(popped.len()),
        PopShape::KeyFlat => {
            out.array(popped.len() * 2 + 1);
            out.bulk(key);
        }
        PopShape::KeyPairs => {
            out.array(2);
            out.bulk(key);
            out.array(popped.len());
        }
    }
    for (m, s) in popped {
        if pairs {
            out.array(2);
        }
        out.bulk(m);
        out.double(*s);
    }
}

/// Entries popped from a sorted set, in pop order.
type Popped = Vec<(Vec<u8>, f64)>;

/// Pops up to `count` entries of the sorted set at `key`, deleting it once
/// empty: `None` for a missing key.
fn pop_key(ks: &mut Ks<'_>, key: &[u8], max: bool, count: usize) -> Result<Option<Popped>, OpError> {
    let Some(z) = write_zset(ks, key)? else { return Ok(None) };
    let popped = pop_entries(z, max, count);
    let emptied = z.is_empty();
    popped_from(ks, key, max, emptied);
    Ok(Some(popped))
}

/// After entries were popped from the sorted set at `key`: the event, the
/// deletion of an emptied set with its "del" event, the modification.
pub(crate) fn popped_from(ks: &mut Ks<'_>, key: &[u8], max: bool, emptied: bool) {
    ks.notify(class::ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
    if emptied {
        ks.remove(key);
        ks.notify(class::GENERIC, "del", key);
    }
    ks.modified(key);
}

fn zpop(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out, max: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::syntax());
    }
    let count = match args.get(2) {
        Some(a) => Some(args::range(a, 0, i64::MAX, Some("value is out of range, must be positive"))? as usize),
        None => None,
    };
    let key = &args[1];
    if write_zset(ks, key)?.is_none() || count == Some(0) {
        out.array(0);
        return Ok(());
    }
    let popped = pop_key(ks, key, max, count.unwrap_or(1))?.unwrap_or_default();
    let shape = if out.proto == Proto::Resp3 && count.is_some() { PopShape::Pairs } else { PopShape::Flat };
    reply_popped(out, key, &popped, shape);
    Ok(())
}

/// ZPOPMIN key [count] — O(M log N).
pub(super) fn zpopmin(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    zpop(ks, args, out, false)
}

/// ZPOPMAX key [count] — O(M log N).
pub(super) fn zpopmax(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    zpop(ks, args, out, true)
}

/// ZMPOP's arguments: the keys, MAX, and the count.
fn parse_zmpop(args: &[Bytes]) -> Result<(&[Bytes], bool, usize), CmdError> {
    let m = args::mpop(args, 1, ("min", "max"))?;
    Ok((&args[m.keys], !m.first, m.count))
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] — O(K) + O(M log N).
pub(super) fn zmpop(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (keys, max, count) = parse_zmpop(args)?;
    for key in keys {
        if let Some(popped) = pop_key(ks, key, max, count)? {
            reply_popped(out, key, &popped, PopShape::KeyPairs);
            return Ok(());
        }
    }
    out.null_array();
    Ok(())
}

/// ZMPOP over keys on several shards: each key's shard is asked in key
/// order until one holds a sorted set.
pub(super) async fn cross_zmpop(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (keys, max, count) = parse_zmpop(args)?;
    for key in keys {
        let job = vec![(s.shard_of(key), key.clone())];
        let r = on_shards(s, job, move |ks, key: Bytes| pop_key(ks, &key, max, count)).await;
        if let Some(popped) = r.into_iter().next().transpose()?.flatten() {
            reply_popped(out, key, &popped, PopShape::KeyPairs);
            return Ok(());
        }
    }
    out.null_array();
    Ok(())
}

/// ZRANDMEMBER key [count [WITHSCORES]] — O(N) in the count.
pub(super) fn zrandmember(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    if args.len() >= 3 {
        let l = args::range(&args[2], -i64::MAX, i64::MAX, None)?;
        let withscores = match args.len() {
            3 => false,
            4 if args::is(&args[3], "withscores") => true,
            _ => return Err(CmdError::syntax()),
        };
        return zrandmember_count(ks, &args[1], l, withscores, out);
    }
    let Some(e) = ks.db.lookup_read(&args[1], ks.clock, ks.stats) else {
        ks.notify(class::KEY_MISS, "keymiss", &args[1]);
        out.null();
        return Ok(());
    };
    let z = zset_of(e)?;
    let r = crate::shard::xorshift(ks.rng);
    out.bulk(z.random(r).0);
    Ok(())
}

fn zrandmember_count(ks: &mut Ks<'_>, key: &[u8], l: i64, withscores: bool, out: &mut Out) -> CmdResult {
    let Some(e) = ks.db.lookup_read(key, ks.clock, ks.stats) else {
        ks.notify(class::KEY_MISS, "keymiss", key);
        out.array(0);
        return Ok(());
    };
    let z = zset_of(e)?;
    let (count, unique) = (l.unsigned_abs(), l >= 0);
    if count == 0 {
        out.array(0);
        return Ok(());
    }
    let mut rnd = || crate::shard::xorshift(ks.rng);
    let size = z.len() as u64;
    let picked: Vec<(&[u8], f64)> = if !unique || count == 1 {
        // Independent draws: repeats allowed, order random.
        if count > MAX_REPLY_MEMBERS {
            return Err(CmdError::err("value is out of range, count is too large"));
        }
        (0..count).map(|_| z.random(rnd())).collect()
    } else if count >= size {
        // The whole set, from the highest entry down, as Redis walks it.
        z.range(z.len() - 1, true).collect()
    } else if count * 3 > size {
        // Most of the set: drop random entries until `count` remain.
        let mut all: Vec<(&[u8], f64)> = z.iter().collect();
        while all.len() as u64 > count {
            let i = (rnd() % all.len() as u64) as usize;
            all.swap_remove(i);
        }
        all
    } else {
        // A few of many: distinct random picks in the order drawn.
        let mut seen = std::collections::HashSet::with_capacity(count as usize);
        let mut v = Vec::with_capacity(count as usize);
        while (v.len() as u64) < count {
            let e = z.random(rnd());
            if seen.insert(e.0) {
                v.push(e);
            }
        }
        v
    };
    super::reply_entries(out, withscores, &picked);
    Ok(())
}
