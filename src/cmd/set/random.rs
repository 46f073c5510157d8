//! SPOP and SRANDMEMBER: random members, with Redis's count rules (a
//! negative SRANDMEMBER count allows repeats) and its strategies for which
//! members a large SPOP keeps.

use crate::cmd::args;
use std::borrow::Cow;

use bytes::Bytes;

use super::{reply_members, set_of, set_of_mut};
use crate::cmd::{CmdError, CmdResult, Ks};
use crate::resp::Out;
use crate::shard::signal::class;
use crate::types::Set;

/// SPOP keeps the survivors in a new set instead once it would pop this many
/// times more members than it keeps (Redis's `SPOP_MOVE_STRATEGY_MUL`).
const SPOP_MOVE_STRATEGY_MUL: u64 = 5;

/// The most members one reply may list: far beyond any useful sample, and
/// low enough that a count of 2^63 cannot exhaust memory building the reply
/// (Redis stops such a reply at the client's output buffer limit instead).
const MAX_REPLY_MEMBERS: u64 = 1 << 27;

/// SPOP key [count] — O(1) without count, O(N) with.
pub(super) fn spop(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::syntax());
    }
    if args.len() == 3 {
        return spop_count(ks, args, out);
    }
    let key = &args[1];
    let Some(e) = ks.db.lookup_write(key, ks.clock, ks.stats) else {
        out.null();
        return Ok(());
    };
    let s = set_of_mut(e)?;
    let mut rng = || crate::shard::xorshift(ks.rng);
    let m = s.pop_random(&mut rng).expect("a stored set is never empty");
    out.bulk(&m);
    let emptied = s.is_empty();
    ks.notify(class::SET, "spop", key);
    if emptied {
        ks.remove(key);
        ks.notify(class::GENERIC, "del", key);
    }
    ks.modified(key);
    Ok(())
}

fn spop_count(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let count = args::range(&args[2], 0, i64::MAX, Some("value is out of range, must be positive"))? as u64;
    let key = &args[1];
    let lim = ks.limits;
    let Some(e) = ks.db.lookup_write(key, ks.clock, ks.stats) else {
        out.set(0);
        return Ok(());
    };
    let s = set_of_mut(e)?;
    if count == 0 {
        out.set(0);
        return Ok(());
    }
    let size = s.len() as u64;
    let mut rng = || crate::shard::xorshift(ks.rng);
    if count >= size {
        // Everything goes: reply with the set, as SMEMBERS would, and delete it.
        reply_members(out, s.len(), s.iter());
        ks.remove(key);
        ks.notify(class::SET, "spop", key);
        ks.notify(class::GENERIC, "del", key);
        ks.modified(key);
        return Ok(());
    }
    out.set(count as usize);
    let remaining = size - count;
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        for _ in 0..count {
            let m = s.pop_random(&mut rng).expect("count < size");
            out.bulk(&m);
        }
    } else {
        // Most members go: draw the few that stay into a set built from
        // scratch (an intset if they are all integers), reply with the rest.
        let mut keep = Set::new();
        for _ in 0..remaining {
            let m = s.pop_random(&mut rng).expect("remaining < size");
            keep.insert(&m, &lim);
        }
        for m in s.iter() {
            out.bulk(&m);
        }
        *s = keep;
    }
    ks.changed(class::SET, "spop", key);
    Ok(())
}

/// SRANDMEMBER key [count] — O(1) without count, O(|count|) with.
pub(super) fn srandmember(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::syntax());
    }
    if args.len() == 3 {
        return srandmember_count(ks, args, out);
    }
    let Some(e) = ks.db.lookup_read(&args[1], ks.clock, ks.stats) else {
        ks.notify(class::KEY_MISS, "keymiss", &args[1]);
        out.null();
        return Ok(());
    };
    let s = set_of(e)?;
    let mut rng = || crate::shard::xorshift(ks.rng);
    out.bulk(&s.random(&mut rng).expect("a stored set is never empty"));
    Ok(())
}

fn srandmember_count(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let l = args::range(&args[2], -i64::MAX, i64::MAX, None)?;
    let (count, unique) = (l.unsigned_abs(), l >= 0);
    let Some(e) = ks.db.lookup_read(&args[1], ks.clock, ks.stats) else {
        ks.notify(class::KEY_MISS, "keymiss", &args[1]);
        out.array(0);
        return Ok(());
    };
    let s = set_of(e)?;
    if count == 0 {
        out.array(0);
        return Ok(());
    }
    let mut rng = || crate::shard::xorshift(ks.rng);
    if !unique || count == 1 {
        // Independent draws: repeats allowed, order random.
        if count > MAX_REPLY_MEMBERS {
            return Err(CmdError::err("value is out of range, count is too large"));
        }
        out.array(count as usize);
        for _ in 0..count {
            out.bulk(&s.random(&mut rng).expect("a stored set is never empty"));
        }
        return Ok(());
    }
    let picked: Vec<Cow<'_, [u8]>> = s.sample(count.min(s.len() as u64) as usize, &mut rng);
    out.array(picked.len());
    for m in &picked {
        out.bulk(m);
    }
    Ok(())
}
