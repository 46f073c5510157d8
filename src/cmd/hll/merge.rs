//! PFCOUNT of several keys and PFMERGE when their keys live on different
//! shards: each shard hands over copies of its HLL strings (only strings that
//! are HLLs are copied), the union is computed on the connection's shard in
//! key order (so the first bad key gives Redis's error), and PFMERGE writes
//! the result on the destination's shard. The connection holds the keys'
//! locks while a coordinator runs, so no other client sees or makes a change
//! in between (DESIGN.md §3).

use bytes::Bytes;

use super::{corrupt, not_hll, store_merged, Registers};
use crate::cmd::string::str_value;
use crate::cmd::{by_shard, on_shards, CmdError, CmdResult, Ks, OpError, Session};
use crate::resp::Out;
use crate::types::hll::{self, Encoding, REGISTERS};

/// What a shard found at one key.
enum Found {
    Missing,
    /// A collection: the usual WRONGTYPE.
    WrongType,
    /// A string that is not an HLL.
    NotHll,
    Hll(Vec<u8>),
}

fn find(ks: &mut Ks<'_>, key: &[u8]) -> Found {
    let Some(e) = ks.read(key) else { return Found::Missing };
    match str_value(e) {
        Err(_) => Found::WrongType,
        Ok(v) if hll::check(v).is_some() => Found::Hll(v.to_vec()),
        Ok(_) => Found::NotHll,
    }
}

/// What is at each of `keys`, in their order.
async fn fetch(s: &Session, keys: &[Bytes]) -> Vec<Found> {
    let groups = by_shard(s, keys.iter().cloned().enumerate().map(|(i, k)| (k, i)));
    let found = on_shards(s, groups, |ks, items: Vec<(Bytes, usize)>| {
        items.into_iter().map(|(k, i)| (i, find(ks, &k))).collect::<Vec<_>>()
    })
    .await;
    let mut all: Vec<Found> = Vec::new();
    all.resize_with(keys.len(), || Found::Missing);
    for (i, f) in found.into_iter().flatten() {
        all[i] = f;
    }
    all
}

/// The union of what was found, as Redis's loop over the keys builds it.
/// Whether any input was dense.
fn union(found: &[Found], max: &mut [u8; REGISTERS]) -> Result<bool, CmdError> {
    let mut dense = false;
    for f in found {
        match f {
            Found::Missing => {}
            Found::WrongType => return Err(OpError::WrongType.into()),
            Found::NotHll => return Err(not_hll()),
            Found::Hll(v) => {
                dense |= hll::check(v) == Some(Encoding::Dense);
                hll::merge_into(max, v).map_err(|_| corrupt())?;
            }
        }
    }
    Ok(dense)
}

/// PFCOUNT key key [key ...] over several shards.
pub(super) async fn cross_pfcount(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let found = fetch(s, &args[1..]).await;
    let mut max: Registers = Box::new([0; REGISTERS]);
    union(&found, &mut max)?;
    out.int(hll::estimate(&hll::histogram_raw(&max)) as i64);
    Ok(())
}

/// PFMERGE destkey [sourcekey ...] over several shards.
pub(super) async fn cross_pfmerge(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let max_bytes = s.core.state.borrow().config.hll_sparse_max_bytes;
    let found = fetch(s, &args[1..]).await;
    let mut max: Registers = Box::new([0; REGISTERS]);
    let dense = union(&found, &mut max)?;
    let dst = args[1].clone();
    let jobs = vec![(s.shard_of(&dst), (dst, max))];
    let stored =
        on_shards(s, jobs, move |ks, (dst, max): (Bytes, Registers)| store_merged(ks, &dst, &max, dense, max_bytes))
            .await;
    for r in stored {
        r?;
    }
    out.ok();
    Ok(())
}
