//! Positional list commands: LRANGE, LINDEX, LSET, LINSERT, LREM, LTRIM, LPOS.

use bytes::Bytes;

use super::{positive_arg, read_list, settle, write_list};
use crate::cmd::{args, CmdError, CmdResult, Ks, OpError};
use crate::resp::Out;
use crate::shard::signal::class;

/// An index that may count from the tail (-1 is the last element), resolved
/// against a list of `len`; None when outside the list.
fn resolve(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 { len as i128 + index as i128 } else { index as i128 };
    (0..len as i128).contains(&i).then_some(i as usize)
}

/// Redis's start/stop normalisation for LRANGE and LTRIM: the inclusive range
/// `[start, stop]` as (first index, count), count 0 when empty.
fn span(start: i64, stop: i64, len: usize) -> (usize, usize) {
    let len = len as i64;
    let start = if start < 0 { (len + start).max(0) } else { start };
    let stop = if stop < 0 { len + stop } else { stop };
    if start > stop || start >= len {
        return (0, 0);
    }
    let stop = stop.min(len - 1);
    (start as usize, (stop - start + 1) as usize)
}

/// LRANGE key start stop — O(S+N): S the distance of start from the nearer end.
pub(super) fn lrange(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (start, stop) = (args::int(&args[2])?, args::int(&args[3])?);
    let Some(l) = read_list(ks, &args[1])? else {
        out.array(0);
        return Ok(());
    };
    let (first, n) = span(start, stop, l.len());
    out.array(n);
    for v in l.range(first, n) {
        out.bulk(v);
    }
    Ok(())
}

/// LINDEX key index — O(N) in the nodes walked.
pub(super) fn lindex(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let Some(l) = read_list(ks, &args[1])? else {
        out.null();
        return Ok(());
    };
    let index = args::int(&args[2])?;
    match resolve(index, l.len()).and_then(|i| l.get(i)) {
        Some(v) => out.bulk(v),
        None => out.null(),
    }
    Ok(())
}

/// LSET key index element — O(N) in the nodes walked.
pub(super) fn lset(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let lim = ks.limits;
    let l = write_list(ks, &args[1])?.ok_or(OpError::NoSuchKey)?;
    let index = args::int(&args[2])?;
    let i = resolve(index, l.len()).ok_or(OpError::OutOfRange)?;
    l.set(i, &args[3], &lim);
    ks.changed(class::LIST, "lset", &args[1]);
    out.ok();
    Ok(())
}

/// LINSERT key BEFORE|AFTER pivot element — O(N) to find the pivot.
pub(super) fn linsert(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let after = if args::is(&args[2], "after") {
        true
    } else if args::is(&args[2], "before") {
        false
    } else {
        return Err(CmdError::syntax());
    };
    let (pivot, value) = (&args[3][..], &args[4][..]);
    let lim = ks.limits;
    let Some(l) = write_list(ks, &args[1])? else {
        out.int(0);
        return Ok(());
    };
    // As Redis 7.2: assume the insert happens, and convert before seeking.
    l.grow_for([value], &lim);
    match l.iter().position(|e| e == pivot) {
        Some(i) => {
            l.insert(i + after as usize, value, &lim);
            out.int(l.len() as i64);
            ks.changed(class::LIST, "linsert", &args[1]);
        }
        None => out.int(-1),
    }
    Ok(())
}

/// LREM key count element — O(N+M): removes `count` matches from the head
/// (from the tail for a negative count, all of them for 0).
pub(super) fn lrem(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let count = args::int(&args[2])?;
    let key = &args[1];
    let lim = ks.limits;
    let Some(l) = write_list(ks, key)? else {
        out.int(0);
        return Ok(());
    };
    let n = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let removed = l.remove_value(&args[3], n, count < 0);
    if removed > 0 {
        let empty = settle(l, &lim);
        super::removed(ks, key, "lrem", empty);
    }
    out.int(removed as i64);
    Ok(())
}

/// LTRIM key start stop — O(N) in the elements removed.
pub(super) fn ltrim(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (start, stop) = (args::int(&args[2])?, args::int(&args[3])?);
    let key = &args[1];
    let lim = ks.limits;
    if let Some(l) = write_list(ks, key)? {
        let len = l.len();
        let (first, n) = span(start, stop, len);
        l.remove_range(first + n, len);
        l.remove_range(0, first);
        let empty = settle(l, &lim);
        super::removed(ks, key, "ltrim", empty);
    }
    out.ok();
    Ok(())
}

/// LPOS's options.
struct LposOpts {
    /// Which match to start from: 1 the first, -1 the first from the tail.
    rank: i64,
    /// Reply with an array of up to this many positions (0: all).
    count: Option<usize>,
    /// Compare at most this many elements (0: all).
    maxlen: usize,
}

fn parse_lpos(args: &[Bytes]) -> Result<LposOpts, CmdError> {
    let mut o = LposOpts { rank: 1, count: None, maxlen: 0 };
    let mut cur = args::Cursor::new(args, 3);
    while let Some(a) = cur.next() {
        let more = cur.remaining() > 0;
        if args::is(a, "rank") && more {
            o.rank = args::int(cur.value()?)?;
            if o.rank == 0 {
                return Err(CmdError::err(
                    "RANK can't be zero: use 1 to start from the first match, 2 from the second ... \
                     or use negative to start from the end of the list",
                ));
            }
        } else if args::is(a, "count") && more {
            o.count = Some(positive_arg(cur.value()?, Some("COUNT can't be negative"))?);
        } else if args::is(a, "maxlen") && more {
            o.maxlen = positive_arg(cur.value()?, Some("MAXLEN can't be negative"))?;
        } else {
            return Err(CmdError::syntax());
        }
    }
    Ok(o)
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] — O(N).
pub(super) fn lpos(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let o = parse_lpos(args)?;
    let element = &args[2][..];
    let Some(l) = read_list(ks, &args[1])? else {
        match o.count {
            Some(_) => out.array(0),
            None => out.null(),
        }
        return Ok(());
    };
    let len = l.len();
    let from_tail = o.rank < 0;
    // Redis 7.0 negates the rank in a C long: i64::MIN stays negative and
    // then counts as "the first match from the tail".
    let skip = if o.rank == i64::MIN { 0 } else { o.rank.unsigned_abs() - 1 };
    let scan = if o.maxlen == 0 { len } else { o.maxlen.min(len) };
    let want = match o.count {
        Some(0) => usize::MAX,
        Some(n) => n,
        None => 1,
    };
    let mut matches = 0u64;
    let mut found = Vec::new();
    let mut check = |index: usize, e: &[u8]| {
        if e == element {
            matches += 1;
            if matches > skip {
                found.push(if from_tail { len - index - 1 } else { index });
            }
        }
        found.len() < want
    };
    if from_tail {
        for (i, e) in l.rev_iter().take(scan).enumerate() {
            if !check(i, e) {
                break;
            }
        }
    } else {
        for (i, e) in l.range(0, scan).enumerate() {
            if !check(i, e) {
                break;
            }
        }
    }
    match (o.count, found.first()) {
        (Some(_), _) => {
            out.array(found.len());
            for i in &found {
                out.int(*i as i64);
            }
        }
        (None, Some(&i)) => out.int(i as i64),
        (None, None) => out.null(),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_like_redis() {
        assert_eq!(span(0, -1, 5), (0, 5));
        assert_eq!(span(-100, 100, 5), (0, 5));
        assert_eq!(span(2, 1, 5), (0, 0));
        assert_eq!(span(5, 10, 5), (0, 0));
        assert_eq!(span(-2, -1, 5), (3, 2));
        assert_eq!(span(i64::MIN, i64::MAX, 5), (0, 5));
        assert_eq!(span(0, i64::MIN, 5), (0, 0));
        assert_eq!(resolve(-1, 3), Some(2));
        assert_eq!(resolve(-4, 3), None);
        assert_eq!(resolve(i64::MIN, 3), None);
        assert_eq!(resolve(3, 3), None);
    }
}
