//! BITOP AND | OR | XOR | NOT destkey key [key ...].
//!
//! One computation serves both paths: on one shard it reads the source
//! strings in place; across shards the coordinator fetches owned copies of
//! them from their shards (in parallel), computes on the connection's shard
//! and stores the result on the destination's shard. As with the set
//! algebra, not atomic across shards yet (DESIGN.md §3).

use bytes::Bytes;

use super::str_value;
use crate::cmd::{args, by_shard, on_shards, CmdError, CmdResult, Ks, OpError, Session};
use crate::db::{Entry, StrEncoding};
use crate::resp::Out;
use crate::shard::signal::class;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    And,
    Or,
    Xor,
    Not,
}

/// The operation named by `args[1]`, with Redis's checks in its order.
fn parse(args: &[Bytes]) -> Result<Op, CmdError> {
    let a = &args[1];
    let op = [("and", Op::And), ("or", Op::Or), ("xor", Op::Xor), ("not", Op::Not)]
        .into_iter()
        .find(|(name, _)| args::is(a, name))
        .map(|(_, op)| op)
        .ok_or_else(CmdError::syntax)?;
    if op == Op::Not && args.len() != 4 {
        return Err(CmdError::err("BITOP NOT must be called with a single source key."));
    }
    Ok(op)
}

/// `dst[i] = f(dst[i], src[i])` over `src`'s length, eight bytes at a time
/// (`f` is bitwise, so it applies to bytes and words alike).
fn combine(dst: &mut [u8], src: &[u8], f: impl Fn(u64, u64) -> u64) {
    let n = src.len().min(dst.len());
    let (dst, src) = (&mut dst[..n], &src[..n]);
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (dc, sc) in (&mut d).zip(&mut s) {
        let mut a = [0u8; 8];
        a.copy_from_slice(dc);
        let mut b = [0u8; 8];
        b.copy_from_slice(sc);
        dc.copy_from_slice(&f(u64::from_ne_bytes(a), u64::from_ne_bytes(b)).to_ne_bytes());
    }
    for (x, &y) in d.into_remainder().iter_mut().zip(s.remainder()) {
        *x = f(*x as u64, y as u64) as u8;
    }
}

/// The result of `op` over `srcs` (None: a missing key, an empty string):
/// as long as the longest source, shorter ones padded with zero bytes.
pub(super) fn compute(op: Op, srcs: &[Option<&[u8]>]) -> Vec<u8> {
    let len_of = |s: &Option<&[u8]>| s.map_or(0, <[u8]>::len);
    let maxlen = srcs.iter().map(len_of).max().unwrap_or(0);
    if maxlen == 0 {
        return Vec::new();
    }
    let mut res = vec![0u8; maxlen];
    match op {
        Op::Not => {
            // A single source, as long as the result.
            combine(&mut res, srcs[0].unwrap_or_default(), |_, s| !s);
        }
        Op::And => {
            let first = srcs[0].unwrap_or_default();
            res[..first.len()].copy_from_slice(first);
            for s in &srcs[1..] {
                let s = s.unwrap_or_default();
                combine(&mut res, s, |d, s| d & s);
                // Past a source's end it counts as zeros.
                res[s.len()..].fill(0);
            }
        }
        Op::Or => {
            for s in srcs {
                combine(&mut res, s.unwrap_or_default(), |d, s| d | s);
            }
        }
        Op::Xor => {
            for s in srcs {
                combine(&mut res, s.unwrap_or_default(), |d, s| d ^ s);
            }
        }
    }
    res
}

/// Stores `result` at `dst` as Redis's `setKey` does (any old value and TTL
/// replaced, raw-encoded), or deletes `dst` for an empty result. Returns
/// the result's length, BITOP's reply.
fn store(ks: &mut Ks<'_>, dst: &[u8], result: Vec<u8>) -> i64 {
    let n = result.len() as i64;
    if n == 0 {
        if ks.remove(dst).is_some() {
            ks.changed(class::GENERIC, "del", dst);
        }
    } else {
        ks.db.expire_if_needed(dst, ks.clock, ks.stats);
        ks.insert(Entry::new_string(dst, &result, StrEncoding::Raw, None));
        ks.changed(class::STRING, "set", dst);
    }
    n
}

/// BITOP on one shard — O(N) in the longest source.
pub(super) fn bitop(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let op = parse(args)?;
    let keys = &args[3..];
    // Looked up in order as Redis does: the first non-string stops it.
    for k in keys {
        if let Some(e) = ks.read(k) {
            str_value(e)?;
        }
    }
    let table = ks.db.table();
    let srcs: Vec<Option<&[u8]>> = keys.iter().map(|k| table.get(k).map(|e| e.value())).collect();
    let result = compute(op, &srcs);
    out.int(store(ks, &args[2], result));
    Ok(())
}

/// Owned copies of the strings at `keys`, fetched from their shards.
async fn fetch(s: &Session, keys: &[Bytes]) -> Result<Vec<Option<Vec<u8>>>, OpError> {
    let groups = by_shard(s, keys.iter().cloned().enumerate().map(|(i, k)| (k, i)));
    let found = on_shards(s, groups, |ks, items: Vec<(Bytes, usize)>| {
        items
            .into_iter()
            .map(|(k, i)| (i, ks.read(&k).map(|e| str_value(e).map(<[u8]>::to_vec)).transpose()))
            .collect::<Vec<_>>()
    })
    .await;
    let mut strings: Vec<Option<Vec<u8>>> = vec![None; keys.len()];
    for (i, r) in found.into_iter().flatten() {
        strings[i] = r?;
    }
    Ok(strings)
}

/// BITOP with its keys on several shards.
pub(super) async fn cross_bitop(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let op = parse(args)?;
    let owned = fetch(s, &args[3..]).await?;
    let srcs: Vec<Option<&[u8]>> = owned.iter().map(|v| v.as_deref()).collect();
    let result = compute(op, &srcs);
    let dst = args[2].clone();
    let groups = vec![(s.shard_of(&dst), (dst, result))];
    let n = on_shards(s, groups, |ks, (dst, result): (Bytes, Vec<u8>)| store(ks, &dst, result)).await;
    out.int(n.first().copied().unwrap_or(0));
    Ok(())
}
