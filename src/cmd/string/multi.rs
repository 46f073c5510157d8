//! MGET, MSET and MSETNX, on one shard or coordinated across shards.

use bytes::Bytes;

use super::str_value;
use crate::cmd::{by_shard, on_shards, Ks};
use crate::cmd::{CmdError, CmdResult, Session};
use crate::db::{Entry, StrEncoding};
use crate::resp::Out;
use crate::shard::signal::class;

/// MGET's lookup of one key: null for a missing key or one of another type.
fn mget_one(ks: &mut Ks<'_>, key: &[u8]) -> Option<Bytes> {
    ks.read(key).and_then(|e| str_value(e).ok()).map(Bytes::copy_from_slice)
}

/// MGET key [key ...] — O(N) in the number of keys.
pub fn mget(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    out.array(args.len() - 1);
    for key in &args[1..] {
        match ks.read(key).and_then(|e| str_value(e).ok()) {
            Some(v) => out.bulk(v),
            None => out.null(),
        }
    }
    Ok(())
}

/// MGET over several shards: each shard reads its keys, replies keep request order.
pub async fn cross_mget(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let keys = &args[1..];
    let groups = by_shard(s, keys.iter().cloned().enumerate().map(|(i, k)| (k, i)));
    let positions: Vec<Vec<usize>> = groups.iter().map(|(_, g)| g.iter().map(|(_, i)| *i).collect()).collect();
    let jobs = groups.into_iter().map(|(sh, g)| (sh, g.into_iter().map(|(k, _)| k).collect::<Vec<_>>())).collect();
    let found =
        on_shards(s, jobs, |ks, keys: Vec<Bytes>| keys.iter().map(|k| mget_one(ks, k)).collect::<Vec<_>>()).await;
    let mut values: Vec<Option<Bytes>> = vec![None; keys.len()];
    for (pos, vals) in positions.iter().zip(found) {
        for (&i, v) in pos.iter().zip(vals) {
            values[i] = v;
        }
    }
    out.array(values.len());
    for v in &values {
        match v {
            Some(v) => out.bulk(v),
            None => out.null(),
        }
    }
    Ok(())
}

/// Key/value pairs of MSET/MSETNX, or Redis's arity error for an odd count
/// (dispatch only checks the minimum).
fn pairs<'a>(args: &'a [Bytes], cmd: &str) -> Result<std::slice::ChunksExact<'a, Bytes>, CmdError> {
    if args.len().is_multiple_of(2) {
        return Err(CmdError::wrong_args(cmd));
    }
    Ok(args[1..].chunks_exact(2))
}

/// Key/value pairs bound for one shard.
type Pairs = Vec<(Bytes, Bytes)>;

fn set_pair(ks: &mut Ks<'_>, key: &[u8], value: &[u8]) {
    ks.insert(Entry::new_string(key, value, StrEncoding::for_value(value), None));
    ks.changed(class::STRING, "set", key);
}

/// MSET key value [key value ...] — O(N). A repeated key keeps its last value.
pub fn mset(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    for kv in pairs(args, "mset")? {
        set_pair(ks, &kv[0], &kv[1]);
    }
    out.ok();
    Ok(())
}

/// Groups MSET/MSETNX pairs by shard.
fn pair_groups(s: &Session, args: &[Bytes], cmd: &str) -> Result<Vec<(usize, Pairs)>, CmdError> {
    let items = pairs(args, cmd)?.map(|kv| (kv[0].clone(), kv[1].clone()));
    Ok(by_shard(s, items.collect::<Vec<_>>()))
}

/// MSET over several shards: each shard sets its pairs. Not yet atomic across
/// shards (a reader may see some shards updated before others); the global
/// transaction scheme of DESIGN.md §3 will make it so.
pub async fn cross_mset(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let groups = pair_groups(s, args, "mset")?;
    on_shards(s, groups, |ks, pairs: Pairs| {
        for (k, v) in &pairs {
            set_pair(ks, k, v);
        }
    })
    .await;
    out.ok();
    Ok(())
}

/// MSETNX key value [key value ...] — O(N). Sets nothing if any key exists.
pub fn msetnx(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let kvs = pairs(args, "msetnx")?;
    if kvs.clone().any(|kv| ks.write(&kv[0]).is_some()) {
        out.int(0);
        return Ok(());
    }
    for kv in kvs {
        set_pair(ks, &kv[0], &kv[1]);
    }
    out.int(1);
    Ok(())
}

/// MSETNX over several shards: checks every shard for an existing key, then
/// sets on every shard. Not atomic across shards yet: a key created between
/// the two rounds is overwritten (the global transaction scheme of DESIGN.md
/// §3 will close that window).
pub async fn cross_msetnx(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let groups = pair_groups(s, args, "msetnx")?;
    let probes = groups.iter().map(|(sh, g)| (*sh, g.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>())).collect();
    let exists = on_shards(s, probes, |ks, keys: Vec<Bytes>| keys.iter().any(|k| ks.write(k).is_some())).await;
    if exists.into_iter().any(|e| e) {
        out.int(0);
        return Ok(());
    }
    on_shards(s, groups, |ks, pairs: Pairs| {
        for (k, v) in &pairs {
            set_pair(ks, k, v);
        }
    })
    .await;
    out.int(1);
    Ok(())
}
