//! Generic keyspace commands.

use bytes::Bytes;

use super::{CmdResult, Ctx, Handler, Session};
use crate::resp::Out;

pub const HANDLERS: &[(&str, Handler)] = &[("del", Handler::SyncCross(cmd_del, crate::async_handler!(cross_del)))];

/// DEL key [key ...] — O(N) in the number of keys.
fn cmd_del(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let n = args[1..].iter().filter(|k| ctx.remove(k).is_some()).count();
    out.int(n as i64);
    Ok(())
}

/// DEL over several shards: each shard deletes its keys, the counts add up.
async fn cross_del(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let db = s.db;
    let mut total = 0i64;
    for (shard, keys) in group_by_shard(s, &args[1..]) {
        total += s
            .core
            .call(shard, move |core| {
                let mut st = core.state.borrow_mut();
                let clock = core.clock();
                let crate::shard::ShardState { dbs, stats, .. } = &mut *st;
                keys.iter().filter(|k| dbs[db].remove(k, clock, stats).is_some()).count() as i64
            })
            .await;
    }
    out.int(total);
    Ok(())
}

/// Splits keys by owning shard, keeping each shard's keys in request order.
pub fn group_by_shard(s: &Session, keys: &[Bytes]) -> Vec<(usize, Vec<Bytes>)> {
    let mut groups: Vec<(usize, Vec<Bytes>)> = Vec::new();
    for k in keys {
        let shard = s.shard_of(k);
        match groups.iter_mut().find(|(sh, _)| *sh == shard) {
            Some((_, v)) => v.push(k.clone()),
            None => groups.push((shard, vec![k.clone()])),
        }
    }
    groups
}
