//! HRANDFIELD, with Redis's count semantics: a negative count samples with
//! repetition, a positive one returns distinct fields (the whole hash when
//! the count reaches its size).

use bytes::Bytes;

use super::read;
use crate::cmd::{args, CmdError, CmdResult, Ks};
use crate::resp::{Out, Proto};
use crate::shard::xorshift;
use crate::types::Hash;

/// Past this ratio of size to count, distinct fields are drawn until enough
/// are distinct; below it, random ones are dropped from a copy of the hash
/// (Redis's `HRANDFIELD_SUB_STRATEGY_MUL`).
const SUB_STRATEGY_MUL: usize = 3;

/// HRANDFIELD key [count [WITHVALUES]] — O(N) in the count (O(size) for a
/// positive count close to the size).
pub fn hrandfield(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    if args.len() >= 3 {
        let count = args::int(&args[2])?;
        if count == i64::MIN {
            return Err(CmdError::err(format_args!(
                "value is out of range, value must between {} and {}",
                -i64::MAX,
                i64::MAX
            )));
        }
        if args.len() > 4 || (args.len() == 4 && !args::is(&args[3], "withvalues")) {
            return Err(CmdError::syntax());
        }
        let with_values = args.len() == 4;
        // RESP2 replies 2 * count bulk strings: that must fit a long.
        if with_values && !(-i64::MAX / 2..=i64::MAX / 2).contains(&count) {
            return Err(CmdError::err("value is out of range"));
        }
        return with_count(ks, &args[1], count, with_values, out);
    }
    let mut rnd = Draws::new(ks);
    match read(ks, &args[1])?.and_then(|h| rnd.pick(h, &[])) {
        Some((f, _)) => out.bulk(f),
        None => out.null(),
    }
    Ok(())
}

/// One field (and its value, as a pair of its own in RESP3) of the reply.
fn reply_pair(out: &mut Out, f: &[u8], v: &[u8], with_values: bool) {
    if with_values && out.proto == Proto::Resp3 {
        out.array(2);
    }
    out.bulk(f);
    if with_values {
        out.bulk(v);
    }
}

/// The reply header for `n` fields: RESP2 flattens the pairs.
fn reply_len(out: &mut Out, n: usize, with_values: bool) {
    if with_values && out.proto == Proto::Resp2 {
        out.array(n.saturating_mul(2));
    } else {
        out.array(n);
    }
}

/// Redis's `hrandfieldWithCountCommand`.
fn with_count(ks: &mut Ks<'_>, key: &[u8], count: i64, with_values: bool, out: &mut Out) -> CmdResult {
    let mut rnd = Draws::new(ks);
    let Some(h) = read(ks, key)? else {
        out.array(0);
        return Ok(());
    };
    let size = h.len();
    let n = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    if n == 0 {
        out.array(0);
        return Ok(());
    }
    // Negative count (or a single field): independent draws, repeats allowed.
    if count < 0 || n == 1 {
        reply_len(out, n, with_values);
        let packed = packed_pairs(h);
        for _ in 0..n {
            if let Some((f, v)) = rnd.pick(h, &packed) {
                reply_pair(out, f, v, with_values);
            }
        }
        return Ok(());
    }
    // The count covers the hash: all of it, in its own order.
    if n >= size {
        reply_len(out, size, with_values);
        for (f, v) in h.iter() {
            reply_pair(out, f, v, with_values);
        }
        return Ok(());
    }
    reply_len(out, n, with_values);
    if n * SUB_STRATEGY_MUL > size {
        // Most of the hash: drop random pairs from a copy until `n` remain.
        let mut pairs: Vec<(&[u8], &[u8])> = h.iter().collect();
        while pairs.len() > n {
            let i = rnd.below(pairs.len());
            pairs.swap_remove(i);
        }
        for (f, v) in pairs {
            reply_pair(out, f, v, with_values);
        }
    } else {
        // A small part: draw until `n` distinct fields came up.
        let packed = packed_pairs(h);
        let mut seen: hashbrown::HashSet<&[u8], ahash::RandomState> =
            hashbrown::HashSet::with_capacity_and_hasher(n, ahash::RandomState::new());
        while seen.len() < n {
            let Some((f, v)) = rnd.pick(h, &packed) else { break };
            if seen.insert(f) {
                reply_pair(out, f, v, with_values);
            }
        }
    }
    Ok(())
}

/// A packed hash's pairs, collected once for repeated draws (reaching a
/// pair by position in a pack is O(n)); empty for a table.
fn packed_pairs(h: &Hash) -> Vec<(&[u8], &[u8])> {
    if h.is_packed() {
        h.iter().collect()
    } else {
        Vec::new()
    }
}

/// Random draws for one command, seeded from the shard's generator.
struct Draws {
    state: u64,
}

impl Draws {
    fn new(ks: &mut Ks<'_>) -> Draws {
        // xorshift must never hold 0.
        Draws { state: ks.random() | 1 }
    }

    fn below(&mut self, n: usize) -> usize {
        (xorshift(&mut self.state) % n as u64) as usize
    }

    /// A random pair of `h`, from `packed` when that holds its pairs.
    fn pick<'h>(&mut self, h: &'h Hash, packed: &[(&'h [u8], &'h [u8])]) -> Option<(&'h [u8], &'h [u8])> {
        if !packed.is_empty() {
            return Some(packed[self.below(packed.len())]);
        }
        let state = &mut self.state;
        h.random(|| xorshift(state))
    }
}
