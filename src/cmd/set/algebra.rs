//! SUNION, SINTER, SDIFF, their STORE forms and SINTERCARD.
//!
//! One computation serves both paths: on one shard it reads the source sets
//! in place; across shards the coordinator fetches owned copies of them from
//! their shards (in parallel), computes on the connection's shard and stores a
//! result on the destination's shard. Not atomic across shards yet: another
//! client may change a source between the fetches (the transactions of
//! DESIGN.md §3 will close that window).
//!
//! Results are built as Redis builds them, so replies list members in Redis's
//! order where that order is defined (intset, listpack) and a stored result
//! gets Redis's encoding: a union or difference starts as an intset and grows
//! member by member; an intersection of integers is stored as an intset.

use crate::cmd::args;
use std::borrow::Cow;

use bytes::Bytes;

use super::{reply_members, set_of};
use crate::cmd::{by_shard, on_shards, CmdError, CmdResult, Ks, OpError, Session};
use crate::db::Entry;
use crate::resp::Out;
use crate::shard::signal::class;
use crate::types::{Limits, Set, Value};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Diff,
}

impl Op {
    /// The event a *STORE with this operation publishes.
    fn store_event(self) -> &'static str {
        match self {
            Op::Union => "sunionstore",
            Op::Diff => "sdiffstore",
        }
    }
}

/// The sets at `keys` on this shard (None for a missing key), or WRONGTYPE
/// if any key holds another type.
fn gather<'a>(ks: &'a mut Ks<'_>, keys: &[Bytes]) -> Result<Vec<Option<&'a Set>>, OpError> {
    for k in keys {
        if let Some(e) = ks.read(k) {
            set_of(e)?;
        }
    }
    // Lazy expiry ran above: what the table holds now is live.
    let table = ks.db.table();
    Ok(keys.iter().map(|k| table.get(k).and_then(|e| set_of(e).ok())).collect())
}

/// Owned copies of the sets at `keys`, fetched from their shards.
async fn fetch(s: &Session, keys: &[Bytes]) -> Result<Vec<Option<Set>>, OpError> {
    let groups = by_shard(s, keys.iter().cloned().enumerate().map(|(i, k)| (k, i)));
    let found = on_shards(s, groups, |ks, items: Vec<(Bytes, usize)>| {
        items.into_iter().map(|(k, i)| (i, ks.read(&k).map(|e| set_of(e).cloned()).transpose())).collect::<Vec<_>>()
    })
    .await;
    let mut sets: Vec<Option<Set>> = Vec::new();
    sets.resize_with(keys.len(), || None);
    for (i, r) in found.into_iter().flatten() {
        sets[i] = r?;
    }
    Ok(sets)
}

/// Stores `result` at `dst`, replacing any value (and its TTL), or deletes
/// `dst` when the result is empty. Returns the result's size.
/// `event` is the command's notification ("sunionstore", ...).
fn store(ks: &mut Ks<'_>, dst: &[u8], result: Set, event: &'static str) -> i64 {
    let n = result.len() as i64;
    if n == 0 {
        if ks.remove(dst).is_some() {
            ks.changed(class::GENERIC, "del", dst);
        }
    } else {
        // A lazily expired destination counts as Redis's lookupKeyWrite counts it.
        ks.db.expire_if_needed(dst, ks.clock, ks.stats);
        ks.insert(Entry::new_obj(dst, Value::Set(result), None));
        ks.changed(class::SET, event, dst);
    }
    n
}

/// Stores `result` at `dst` on the shard that owns it.
async fn store_on(s: &Session, dst: &Bytes, result: Set, event: &'static str) -> i64 {
    let groups = vec![(s.shard_of(dst), (dst.clone(), result))];
    on_shards(s, groups, move |ks, (dst, result): (Bytes, Set)| store(ks, &dst, result, event)).await[0]
}

/// Redis's `sunionDiffGenericCommand`: the union or difference, built into a
/// new set member by member as Redis builds it.
fn union_diff(op: Op, keys: &[Bytes], sets: &[Option<&Set>], lim: &Limits) -> Set {
    let mut out = Set::new();
    match op {
        Op::Union => {
            for s in sets.iter().flatten() {
                for m in s.iter() {
                    out.insert(&m, lim);
                }
            }
        }
        Op::Diff => {
            let Some(first) = sets[0] else {
                return out;
            };
            // A key that repeats the first one empties the result.
            if keys[1..].iter().any(|k| *k == keys[0]) {
                return out;
            }
            // Redis picks between two algorithms by estimated work; the choice
            // shows in the stored result's encoding, so it is made the same way.
            let present = sets.iter().flatten();
            let one: usize = present.clone().map(|_| first.len()).sum::<usize>() / 2;
            let two: usize = present.map(|s| s.len()).sum();
            let others: Vec<&Set> = sets[1..].iter().flatten().copied().collect();
            if one <= two {
                for m in first.iter() {
                    if !others.iter().any(|s| s.contains(&m)) {
                        out.insert(&m, lim);
                    }
                }
            } else {
                for m in first.iter() {
                    out.insert(&m, lim);
                }
                for s in others {
                    if out.is_empty() {
                        break;
                    }
                    for m in s.iter() {
                        out.remove(&m);
                    }
                }
            }
        }
    }
    out
}

/// Redis's `sinterGenericCommand`: calls `f` with each member of the
/// intersection, in the order of the smallest set, stopping after `limit`
/// members (0: no limit). Returns how many there were.
fn inter_each<'a>(keys: &[Bytes], sets: &[Option<&'a Set>], limit: usize, mut f: impl FnMut(Cow<'a, [u8]>)) -> usize {
    let Some(mut order) = sets.iter().enumerate().map(|(i, s)| s.map(|s| (i, s))).collect::<Option<Vec<_>>>() else {
        return 0;
    };
    order.sort_by_key(|(_, s)| s.len());
    let (first_key, first) = (&keys[order[0].0], order[0].1);
    let others: Vec<&Set> = order[1..].iter().filter(|(i, _)| keys[*i] != *first_key).map(|(_, s)| *s).collect();
    let mut n = 0;
    for m in first.iter() {
        if others.iter().all(|s| s.contains(&m)) {
            n += 1;
            f(m);
            if limit != 0 && n >= limit {
                break;
            }
        }
    }
    n
}

/// The intersection as Redis 7.2 stores it: an intset when every member is
/// an integer, else a listpack or hash table by size.
fn inter_set(keys: &[Bytes], sets: &[Option<&Set>], lim: &Limits) -> Set {
    let mut members = Vec::new();
    inter_each(keys, sets, 0, |m| members.push(m));
    Set::from_members(&members, lim)
}

/// The intersection in reply order.
fn inter_members<'a>(keys: &[Bytes], sets: &[Option<&'a Set>]) -> Vec<Cow<'a, [u8]>> {
    let mut members = Vec::new();
    inter_each(keys, sets, 0, |m| members.push(m));
    members
}

fn reply_set(out: &mut Out, s: &Set) {
    reply_members(out, s.len(), s.iter());
}

/// SUNION key [key ...] — O(N) in the members of all sets.
pub(super) fn sunion(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    union_diff_local(ks, &args[1..], None, Op::Union, out)
}

/// SUNIONSTORE destination key [key ...] — O(N) in the members of all sets.
pub(super) fn sunionstore(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    union_diff_local(ks, &args[2..], Some(&args[1]), Op::Union, out)
}

/// SDIFF key [key ...] — O(N) in the members of all sets.
pub(super) fn sdiff(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    union_diff_local(ks, &args[1..], None, Op::Diff, out)
}

/// SDIFFSTORE destination key [key ...] — O(N) in the members of all sets.
pub(super) fn sdiffstore(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    union_diff_local(ks, &args[2..], Some(&args[1]), Op::Diff, out)
}

fn union_diff_local(ks: &mut Ks<'_>, keys: &[Bytes], dst: Option<&Bytes>, op: Op, out: &mut Out) -> CmdResult {
    let lim = ks.limits;
    let result = union_diff(op, keys, &gather(ks, keys)?, &lim);
    match dst {
        None => reply_set(out, &result),
        Some(dst) => out.int(store(ks, dst, result, op.store_event())),
    }
    Ok(())
}

async fn union_diff_cross(s: &mut Session, keys: &[Bytes], dst: Option<&Bytes>, op: Op, out: &mut Out) -> CmdResult {
    let lim = s.core.state.borrow().config.limits;
    let owned = fetch(s, keys).await?;
    let sets: Vec<Option<&Set>> = owned.iter().map(Option::as_ref).collect();
    let result = union_diff(op, keys, &sets, &lim);
    match dst {
        None => reply_set(out, &result),
        Some(dst) => out.int(store_on(s, dst, result, op.store_event()).await),
    }
    Ok(())
}

pub(super) async fn cross_sunion(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    union_diff_cross(s, &args[1..], None, Op::Union, out).await
}

pub(super) async fn cross_sunionstore(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    union_diff_cross(s, &args[2..], Some(&args[1]), Op::Union, out).await
}

pub(super) async fn cross_sdiff(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    union_diff_cross(s, &args[1..], None, Op::Diff, out).await
}

pub(super) async fn cross_sdiffstore(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    union_diff_cross(s, &args[2..], Some(&args[1]), Op::Diff, out).await
}

/// SINTER key [key ...] — O(N*M): N the smallest set's size, M the number of sets.
pub(super) fn sinter(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let keys = &args[1..];
    let sets = gather(ks, keys)?;
    let members = inter_members(keys, &sets);
    reply_members(out, members.len(), members.into_iter());
    Ok(())
}

/// SINTERSTORE destination key [key ...] — O(N*M).
pub(super) fn sinterstore(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (dst, keys) = (&args[1], &args[2..]);
    let lim = ks.limits;
    let result = inter_set(keys, &gather(ks, keys)?, &lim);
    out.int(store(ks, dst, result, "sinterstore"));
    Ok(())
}

pub(super) async fn cross_sinter(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let keys = &args[1..];
    let owned = fetch(s, keys).await?;
    let sets: Vec<Option<&Set>> = owned.iter().map(Option::as_ref).collect();
    let members = inter_members(keys, &sets);
    reply_members(out, members.len(), members.into_iter());
    Ok(())
}

pub(super) async fn cross_sinterstore(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (dst, keys) = (&args[1], &args[2..]);
    let lim = s.core.state.borrow().config.limits;
    let owned = fetch(s, keys).await?;
    let sets: Vec<Option<&Set>> = owned.iter().map(Option::as_ref).collect();
    let result = inter_set(keys, &sets, &lim);
    out.int(store_on(s, dst, result, "sinterstore").await);
    Ok(())
}

/// SINTERCARD's arguments: the keys and the LIMIT (0: none).
fn parse_intercard(args: &[Bytes]) -> Result<(&[Bytes], usize), CmdError> {
    let numkeys = args::range(&args[1], 1, i64::MAX, Some("numkeys should be greater than 0"))? as u64;
    if numkeys > (args.len() - 2) as u64 {
        return Err(CmdError::err("Number of keys can't be greater than number of args"));
    }
    let end = 2 + numkeys as usize;
    let mut limit = 0;
    let mut j = end;
    while j < args.len() {
        if crate::cmd::args::is(&args[j], "limit") && j + 1 < args.len() {
            j += 1;
            limit = args::range(&args[j], 0, i64::MAX, Some("LIMIT can't be negative"))?;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    Ok((&args[2..end], usize::try_from(limit).unwrap_or(usize::MAX)))
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit] — O(N*M), less with LIMIT.
pub(super) fn sintercard(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (keys, limit) = parse_intercard(args)?;
    let sets = gather(ks, keys)?;
    out.int(inter_each(keys, &sets, limit, |_| {}) as i64);
    Ok(())
}

pub(super) async fn cross_sintercard(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (keys, limit) = parse_intercard(args)?;
    let owned = fetch(s, keys).await?;
    let sets: Vec<Option<&Set>> = owned.iter().map(Option::as_ref).collect();
    out.int(inter_each(keys, &sets, limit, |_| {}) as i64);
    Ok(())
}
