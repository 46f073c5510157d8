//! SMOVE, on one shard or with source and destination on different shards.

use bytes::Bytes;

use super::{set_of, set_of_mut};
use crate::cmd::{on_shards, CmdResult, Ks, OpError, Session};
use crate::db::Entry;
use crate::resp::Out;
use crate::shard::signal::class;
use crate::types::{Set, Value};

/// What the destination key holds, as SMOVE needs to know first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dst {
    Missing,
    Set,
    Other,
}

fn probe_dst(ks: &mut Ks<'_>, dst: &[u8]) -> Dst {
    match ks.write(dst) {
        None => Dst::Missing,
        Some(e) if set_of(e).is_ok() => Dst::Set,
        Some(_) => Dst::Other,
    }
}

/// SMOVE's source half: removes `member` from the set at `src` (deleting it
/// once empty). `Ok(false)` when there was nothing to move. Errors follow
/// Redis's order: a missing source wins over a destination of the wrong type.
fn take(ks: &mut Ks<'_>, src: &[u8], member: &[u8], dst: Dst) -> Result<bool, OpError> {
    let Some(e) = ks.write(src) else {
        return Ok(false);
    };
    let s = set_of_mut(e)?;
    if dst == Dst::Other {
        return Err(OpError::WrongType);
    }
    if !s.remove(member) {
        return Ok(false);
    }
    let emptied = s.is_empty();
    ks.notify(class::SET, "srem", src);
    if emptied {
        ks.remove(src);
        ks.notify(class::GENERIC, "del", src);
    }
    ks.modified(src);
    Ok(true)
}

/// SMOVE's destination half: adds `member` to the set at `dst`, creating it
/// if needed. False if `dst` holds another type by now.
fn put(ks: &mut Ks<'_>, dst: &[u8], member: &[u8]) -> bool {
    let lim = ks.limits;
    match ks.write(dst) {
        Some(e) => match set_of_mut(e) {
            Ok(s) => {
                if s.insert(member, &lim) {
                    ks.changed(class::SET, "sadd", dst);
                }
                true
            }
            Err(_) => false,
        },
        None => {
            let mut s = Set::new();
            s.insert(member, &lim);
            ks.insert(Entry::new_obj(dst, Value::Set(s), None));
            ks.changed(class::SET, "sadd", dst);
            true
        }
    }
}

/// SMOVE source destination member — O(1).
pub(super) fn smove(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (src, dst, member) = (&args[1], &args[2], &args[3]);
    let d = probe_dst(ks, dst);
    if src == dst {
        // Same key: a no-op that says whether the member is there.
        let found = match ks.write(src) {
            None => false,
            Some(e) => set_of(e)?.contains(member),
        };
        out.int(found as i64);
        return Ok(());
    }
    let moved = take(ks, src, member, d)?;
    if moved {
        put(ks, dst, member);
    }
    out.int(moved as i64);
    Ok(())
}

/// SMOVE whose keys live on two shards: checks the destination's type, takes
/// the member out of the source, then adds it to the destination. Not atomic
/// yet: a reader may briefly see the member in neither set. If the
/// destination changed type in between, the member goes back to the source.
pub(super) async fn cross_smove(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (src, dst, member) = (args[1].clone(), args[2].clone(), args[3].clone());
    let (src_shard, dst_shard) = (s.shard_of(&src), s.shard_of(&dst));
    let d = on_shards(s, vec![(dst_shard, dst.clone())], |ks, dst: Bytes| probe_dst(ks, &dst)).await[0];
    let job = (src.clone(), member.clone(), d);
    let moved = on_shards(s, vec![(src_shard, job)], |ks, (src, m, d): (Bytes, Bytes, Dst)| take(ks, &src, &m, d))
        .await
        .remove(0)?;
    if !moved {
        out.int(0);
        return Ok(());
    }
    let job = (dst, member.clone());
    let placed = on_shards(s, vec![(dst_shard, job)], |ks, (dst, m): (Bytes, Bytes)| put(ks, &dst, &m)).await[0];
    if !placed {
        on_shards(s, vec![(src_shard, (src, member))], |ks, (src, m): (Bytes, Bytes)| put(ks, &src, &m)).await;
        return Err(OpError::WrongType.into());
    }
    out.int(1);
    Ok(())
}
