//! ZRANGE (BYSCORE, BYLEX, REV, LIMIT, WITHSCORES) and its older forms
//! ZREVRANGE, Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX; ZRANGESTORE; and
//! ZREMRANGEBYRANK/BYSCORE/BYLEX. One parser and one range walk serve them
//! all, as Redis's `zrangeGenericCommand` does.

use bytes::Bytes;

use super::parse::{lex_range, score_range};
use super::{read_zset, reply_entries, store, write_zset, zset_of};
use crate::cmd::{args, on_shards, CmdError, CmdResult, Ks, OpError, Session};
use crate::resp::Out;
use crate::shard::signal::class;
use crate::types::zset::{LexRange, ScoreRange};
use crate::types::ZSet;

/// What a range is over; `Auto` until ZRANGE's BYSCORE/BYLEX say.
#[derive(Clone, Copy, PartialEq, Eq)]
enum By {
    Auto,
    Rank,
    Score,
    Lex,
}

/// A parsed range.
#[derive(Debug, Clone, PartialEq)]
enum Spec {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// A parsed range request.
#[derive(Debug, Clone, PartialEq)]
struct Req {
    spec: Spec,
    rev: bool,
    withscores: bool,
    offset: i64,
    /// Negative: no limit.
    limit: i64,
}

/// Redis's `zrangeGenericCommand` parsing: `src` is the index of the source
/// key; `rev` is fixed by the older commands (`None` lets REV choose).
fn parse_req(args: &[Bytes], src: usize, store: bool, mut by: By, rev: Option<bool>) -> Result<Req, CmdError> {
    let (mut withscores, mut offset, mut limit) = (false, 0, -1);
    let mut dir = rev;
    let mut j = src + 3;
    while j < args.len() {
        let a = &args[j];
        let left = args.len() - j - 1;
        if !store && args::is(a, "withscores") {
            withscores = true;
        } else if args::is(a, "limit") && left >= 2 {
            offset = args::int(&args[j + 1])?;
            limit = args::int(&args[j + 2])?;
            j += 2;
        } else if dir.is_none() && args::is(a, "rev") {
            dir = Some(true);
        } else if by == By::Auto && args::is(a, "bylex") {
            by = By::Lex;
        } else if by == By::Auto && args::is(a, "byscore") {
            by = By::Score;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    let rev = dir.unwrap_or(false);
    if by == By::Auto {
        by = By::Rank;
    }
    // As Redis, a LIMIT count of -1 reads as no LIMIT at all.
    if limit != -1 && by == By::Rank {
        return Err(CmdError::err("syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"));
    }
    if withscores && by == By::Lex {
        return Err(CmdError::err("syntax error, WITHSCORES not supported in combination with BYLEX"));
    }
    let (mut min, mut max) = (&args[src + 1], &args[src + 2]);
    if rev && by != By::Rank {
        std::mem::swap(&mut min, &mut max);
    }
    let spec = match by {
        By::Score => Spec::Score(score_range(min, max)?),
        By::Lex => Spec::Lex(lex_range(min, max)?),
        _ => Spec::Rank(args::int(min)?, args::int(max)?),
    };
    Ok(Req { spec, rev, withscores, offset, limit })
}

/// Redis's rank range: negative ranks count from the end, the start is
/// clamped to 0 and the end to the last rank; `None` when nothing is in range.
fn rank_span(start: i64, end: i64, len: i64) -> Option<(usize, usize)> {
    let start = if start < 0 { start + len } else { start }.max(0);
    let end = if end < 0 { end + len } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

/// The entries a request selects, in reply order.
fn select<'a>(z: &'a ZSet, req: &Req) -> Vec<(&'a [u8], f64)> {
    let len = z.len() as i64;
    match &req.spec {
        Spec::Rank(start, end) => {
            let Some((start, end)) = rank_span(*start, *end, len) else { return Vec::new() };
            let (start, end) = (start as i64, end as i64);
            let n = (end - start + 1) as usize;
            if req.rev {
                z.range((len - 1 - start) as usize, true).take(n).collect()
            } else {
                z.range(start as usize, false).take(n).collect()
            }
        }
        Spec::Score(r) => {
            if req.offset > 0 && req.offset >= len {
                return Vec::new();
            }
            let first = if req.rev { z.last_in_score(r) } else { z.first_in_score(r) };
            walk(z, first, req, |_, s| if req.rev { r.gte_min(s) } else { r.lte_max(s) })
        }
        Spec::Lex(r) => {
            let first = if req.rev { z.last_in_lex(r) } else { z.first_in_lex(r) };
            walk(z, first, req, |m, _| if req.rev { r.gte_min(m) } else { r.lte_max(m) })
        }
    }
}

/// From rank `first`, skips `offset` entries, then takes entries while
/// `inside` holds, up to `limit` (Redis's loops in `genericZrangeby*`: a
/// negative offset skips everything, a negative limit takes everything).
fn walk<'a>(z: &'a ZSet, first: Option<usize>, req: &Req, inside: impl Fn(&[u8], f64) -> bool) -> Vec<(&'a [u8], f64)> {
    let Some(first) = first else { return Vec::new() };
    let Ok(skip) = usize::try_from(req.offset) else { return Vec::new() };
    let take = usize::try_from(req.limit).unwrap_or(usize::MAX);
    z.range(first, req.rev).skip(skip).take_while(|&(m, s)| inside(m, s)).take(take).collect()
}

fn range_reply(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out, by: By, rev: Option<bool>) -> CmdResult {
    let req = parse_req(args, 1, false, by, rev)?;
    let Some(z) = read_zset(ks, &args[1])? else {
        out.array(0);
        return Ok(());
    };
    reply_entries(out, req.withscores, &select(z, &req));
    Ok(())
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count]
/// [WITHSCORES] — O(log N + M).
pub(super) fn zrange(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    range_reply(ks, args, out, By::Auto, None)
}

/// ZREVRANGE key start stop [WITHSCORES] — O(log N + M).
pub(super) fn zrevrange(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    range_reply(ks, args, out, By::Rank, Some(true))
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count] — O(log N + M).
pub(super) fn zrangebyscore(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    range_reply(ks, args, out, By::Score, Some(false))
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count] — O(log N + M).
pub(super) fn zrevrangebyscore(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    range_reply(ks, args, out, By::Score, Some(true))
}

/// ZRANGEBYLEX key min max [LIMIT offset count] — O(log N + M).
pub(super) fn zrangebylex(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    range_reply(ks, args, out, By::Lex, Some(false))
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count] — O(log N + M).
pub(super) fn zrevrangebylex(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    range_reply(ks, args, out, By::Lex, Some(true))
}

/// The selected entries of the sorted set at `key`, owned and in range
/// order (`None` for a missing key).
type Picked = Option<Vec<(Vec<u8>, f64)>>;

fn pick(ks: &mut Ks<'_>, key: &[u8], req: &Req) -> Result<Picked, OpError> {
    let Some(e) = ks.read(key) else { return Ok(None) };
    let z = zset_of(e)?;
    Ok(Some(select(z, req).into_iter().map(|(m, s)| (m.to_vec(), s)).collect()))
}

/// Stores picked entries at `dst`; returns how many. As Redis 7.0, a rank
/// range (`by_rank`), whose size is known up front, starts indexed when it
/// is too long to pack; otherwise the result starts packed and takes the
/// entries one by one in range order, converting once past the limits (so
/// the scores added while packed are the packed form's: `-0` reads back as
/// `0`).
fn store_picked(ks: &mut Ks<'_>, dst: &[u8], picked: Picked, by_rank: bool) -> usize {
    let lim = ks.limits;
    let n = picked.as_ref().map_or(0, Vec::len);
    let mut z = if by_rank && n > lim.zset_max_listpack_entries { ZSet::new_indexed() } else { ZSet::new() };
    for (m, s) in picked.unwrap_or_default() {
        z.insert(&m, s, &lim);
    }
    store(ks, dst, z, "zrangestore")
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] —
/// O(log N + M).
pub(super) fn zrangestore(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let req = parse_req(args, 2, true, By::Auto, None)?;
    let picked = pick(ks, &args[2], &req)?;
    let by_rank = matches!(req.spec, Spec::Rank(..));
    out.int(store_picked(ks, &args[1], picked, by_rank) as i64);
    Ok(())
}

/// ZRANGESTORE with source and destination on different shards: the range
/// is read on the source's shard and stored on the destination's.
pub(super) async fn cross_zrangestore(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let req = parse_req(args, 2, true, By::Auto, None)?;
    let by_rank = matches!(req.spec, Spec::Rank(..));
    let (dst, src) = (args[1].clone(), args[2].clone());
    let job = vec![(s.shard_of(&src), (src, req))];
    let picked = on_shards(s, job, |ks, (src, req): (Bytes, Req)| pick(ks, &src, &req)).await;
    let picked = picked.into_iter().next().unwrap_or(Ok(None))?;
    let job = vec![(s.shard_of(&dst), (dst, picked))];
    let n = on_shards(s, job, move |ks, (dst, picked): (Bytes, Picked)| store_picked(ks, &dst, picked, by_rank)).await;
    out.int(n.into_iter().next().unwrap_or(0) as i64);
    Ok(())
}

fn zremrange(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out, by: By) -> CmdResult {
    let spec = match by {
        By::Score => Spec::Score(score_range(&args[2], &args[3])?),
        By::Lex => Spec::Lex(lex_range(&args[2], &args[3])?),
        _ => Spec::Rank(args::int(&args[2])?, args::int(&args[3])?),
    };
    let key = &args[1];
    let Some(z) = write_zset(ks, key)? else {
        out.int(0);
        return Ok(());
    };
    let removed = match &spec {
        Spec::Rank(start, end) => match rank_span(*start, *end, z.len() as i64) {
            Some((start, end)) => z.remove_ranks(start, end + 1),
            None => 0,
        },
        Spec::Score(r) => z.remove_in_score(r),
        Spec::Lex(r) => z.remove_in_lex(r),
    };
    let emptied = z.is_empty();
    if emptied {
        ks.remove(key);
    }
    if removed > 0 {
        let event = match spec {
            Spec::Rank(..) => "zremrangebyrank",
            Spec::Score(_) => "zremrangebyscore",
            Spec::Lex(_) => "zremrangebylex",
        };
        ks.changed(class::ZSET, event, key);
        if emptied {
            ks.notify(class::GENERIC, "del", key);
        }
    }
    out.int(removed as i64);
    Ok(())
}

/// ZREMRANGEBYRANK key start stop — O(log N + M).
pub(super) fn zremrangebyrank(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    zremrange(ks, args, out, By::Rank)
}

/// ZREMRANGEBYSCORE key min max — O(log N + M).
pub(super) fn zremrangebyscore(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    zremrange(ks, args, out, By::Score)
}

/// ZREMRANGEBYLEX key min max — O(log N + M).
pub(super) fn zremrangebylex(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    zremrange(ks, args, out, By::Lex)
}
