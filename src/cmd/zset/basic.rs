//! ZADD, ZINCRBY, ZREM and the single-key reads: ZCARD, ZSCORE, ZMSCORE,
//! ZRANK, ZREVRANK, ZCOUNT, ZLEXCOUNT.

use bytes::Bytes;

use super::parse::{lex_range, score_arg, score_range};
use super::{read_zset, write_zset};
use crate::cmd::{args, CmdError, CmdResult, Ks};
use crate::db::Entry;
use crate::resp::Out;
use crate::shard::signal::class;
use crate::types::zset::{AddFlags, Added};
use crate::types::{Value, ZSet};

/// ZADD's parsed arguments: flags, CH, and the (score, member) pairs.
struct ZaddArgs<'a> {
    flags: AddFlags,
    ch: bool,
    pairs: Vec<(f64, &'a [u8])>,
}

/// Redis's `zaddGenericCommand` argument checks, in its order.
fn parse_zadd(args: &[Bytes], incr: bool) -> Result<ZaddArgs<'_>, CmdError> {
    let mut flags = AddFlags { incr, ..Default::default() };
    let mut ch = false;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if args::is(a, "nx") {
            flags.nx = true;
        } else if args::is(a, "xx") {
            flags.xx = true;
        } else if args::is(a, "ch") {
            ch = true;
        } else if args::is(a, "incr") {
            flags.incr = true;
        } else if args::is(a, "gt") {
            flags.gt = true;
        } else if args::is(a, "lt") {
            flags.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = &args[i..];
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(CmdError::syntax());
    }
    if flags.nx && flags.xx {
        return Err(CmdError::err("XX and NX options at the same time are not compatible"));
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Err(CmdError::err("GT, LT, and/or NX options at the same time are not compatible"));
    }
    if flags.incr && rest.len() > 2 {
        return Err(CmdError::err("INCR option supports a single increment-element pair"));
    }
    let pairs = rest.chunks_exact(2).map(|p| Ok((score_arg(&p[0])?, &p[1][..]))).collect::<Result<_, CmdError>>()?;
    Ok(ZaddArgs { flags, ch, pairs })
}

/// What a ZADD did, for its reply.
#[derive(Default)]
struct Tally {
    added: i64,
    updated: i64,
    processed: i64,
    score: f64,
}

/// Applies the pairs in order; a NaN result stops at that pair with Redis's
/// error (the pairs before it stay applied, as in Redis).
fn apply(z: &mut ZSet, a: &ZaddArgs<'_>, ks_limits: &crate::types::Limits) -> (Tally, Option<CmdError>) {
    let mut t = Tally::default();
    for &(score, member) in &a.pairs {
        match z.add(member, score, a.flags, ks_limits) {
            Err(_) => return (t, Some(CmdError::err("resulting score is not a number (NaN)"))),
            Ok(Added::New(s)) => {
                t.added += 1;
                t.processed += 1;
                t.score = s;
            }
            Ok(Added::Updated(s)) => {
                t.updated += 1;
                t.processed += 1;
                t.score = s;
            }
            Ok(Added::Same(s)) => {
                t.processed += 1;
                t.score = s;
            }
            Ok(Added::Skipped) => {}
        }
    }
    (t, None)
}

fn zadd_generic(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out, incr: bool) -> CmdResult {
    let a = parse_zadd(args, incr)?;
    let key = &args[1];
    let lim = ks.limits;
    let (t, err) = match write_zset(ks, key)? {
        Some(z) => apply(z, &a, &lim),
        None if a.flags.xx => (Tally::default(), None),
        None => {
            let mut z = ZSet::new();
            let r = apply(&mut z, &a, &lim);
            if !z.is_empty() {
                ks.insert(Entry::new_obj(key, Value::ZSet(z), None));
            }
            r
        }
    };
    if t.added + t.updated > 0 {
        ks.changed(class::ZSET, if incr { "zincr" } else { "zadd" }, key);
    }
    if let Some(e) = err {
        return Err(e);
    }
    if a.flags.incr {
        if t.processed > 0 {
            out.double(t.score);
        } else {
            out.null();
        }
    } else {
        out.int(if a.ch { t.added + t.updated } else { t.added });
    }
    Ok(())
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...] —
/// O(log N) per member.
pub(super) fn zadd(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    zadd_generic(ks, args, out, false)
}

/// ZINCRBY key increment member — O(log N).
pub(super) fn zincrby(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    zadd_generic(ks, args, out, true)
}

/// ZREM key member [member ...] — O(M log N).
pub(super) fn zrem(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let key = &args[1];
    let Some(z) = write_zset(ks, key)? else {
        out.int(0);
        return Ok(());
    };
    let mut removed = 0;
    for m in &args[2..] {
        if z.remove(m) {
            removed += 1;
        }
        if z.is_empty() {
            break;
        }
    }
    let emptied = z.is_empty();
    if emptied {
        ks.remove(key);
    }
    if removed > 0 {
        ks.notify(class::ZSET, "zrem", key);
        if emptied {
            ks.notify(class::GENERIC, "del", key);
        }
        ks.modified(key);
    }
    out.int(removed);
    Ok(())
}

/// ZCARD key — O(1).
pub(super) fn zcard(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    out.int(read_zset(ks, &args[1])?.map_or(0, |z| z.len() as i64));
    Ok(())
}

/// ZSCORE key member — O(1).
pub(super) fn zscore(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    match read_zset(ks, &args[1])?.and_then(|z| z.score(&args[2])) {
        Some(s) => out.double(s),
        None => out.null(),
    }
    Ok(())
}

/// ZMSCORE key member [member ...] — O(N) in the members asked.
pub(super) fn zmscore(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let z = read_zset(ks, &args[1])?;
    out.array(args.len() - 2);
    for m in &args[2..] {
        match z.and_then(|z| z.score(m)) {
            Some(s) => out.double(s),
            None => out.null(),
        }
    }
    Ok(())
}

fn rank_generic(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out, rev: bool) -> CmdResult {
    let Some(z) = read_zset(ks, &args[1])? else {
        out.null();
        return Ok(());
    };
    match z.rank(&args[2]) {
        Some(r) => out.int(if rev { (z.len() - 1 - r) as i64 } else { r as i64 }),
        None => out.null(),
    }
    Ok(())
}

/// ZRANK key member — O(log N).
pub(super) fn zrank(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    rank_generic(ks, args, out, false)
}

/// ZREVRANK key member — O(log N).
pub(super) fn zrevrank(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    rank_generic(ks, args, out, true)
}

/// ZCOUNT key min max — O(log N).
pub(super) fn zcount(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let r = score_range(&args[2], &args[3])?;
    out.int(read_zset(ks, &args[1])?.map_or(0, |z| z.count_in_score(&r) as i64));
    Ok(())
}

/// ZLEXCOUNT key min max — O(log N).
pub(super) fn zlexcount(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let r = lex_range(&args[2], &args[3])?;
    out.int(read_zset(ks, &args[1])?.map_or(0, |z| z.count_in_lex(&r) as i64));
    Ok(())
}
