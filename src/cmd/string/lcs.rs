//! LCS: longest common subsequence of two strings, as Redis 7.0 computes and
//! reports it (same table, same walk back, same tie-breaks).

use bytes::Bytes;

use super::str_value;
use crate::cmd::on_shards;
use crate::cmd::Ks;
use crate::cmd::{args, CmdError, CmdResult, OpError, Session};
use crate::resp::Out;

/// A key's value as LCS sees it: missing keys are empty strings.
type Fetched = Result<Option<Bytes>, OpError>;

fn fetch(ks: &mut Ks<'_>, key: &[u8]) -> Fetched {
    match ks.read(key) {
        Some(e) => str_value(e).map(|v| Some(Bytes::copy_from_slice(v))),
        None => Ok(None),
    }
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] — O(N*M).
pub fn lcs(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let a = fetch(ks, &args[1]);
    let b = fetch(ks, &args[2]);
    reply(a, b, args, ks.max_len, out)
}

/// LCS with its two keys on different shards: fetch both values, compute here.
pub async fn cross_lcs(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let keys = vec![(s.shard_of(&args[1]), args[1].clone()), (s.shard_of(&args[2]), args[2].clone())];
    let mut got = on_shards(s, keys, |ks, k: Bytes| fetch(ks, &k)).await.into_iter();
    let (Some(a), Some(b)) = (got.next(), got.next()) else {
        return Err(CmdError::err("internal error: missing LCS operand"));
    };
    let max_len = s.core.state.borrow().config.proto_max_bulk_len;
    reply(a, b, args, max_len, out)
}

/// One matching range of IDX output: (a_start, a_end, b_start, b_end).
type Range = (u32, u32, u32, u32);

fn reply(a: Fetched, b: Fetched, args: &[Bytes], max_len: i64, out: &mut Out) -> CmdResult {
    let (a, b) = match (a, b) {
        (Ok(a), Ok(b)) => (a.unwrap_or_default(), b.unwrap_or_default()),
        _ => return Err(CmdError::err("The specified keys must contain string values")),
    };
    let (mut getlen, mut getidx, mut withmatchlen, mut minmatchlen) = (false, false, false, 0i64);
    let mut j = 3;
    while let Some(opt) = args.get(j) {
        if args::is(opt, "idx") {
            getidx = true;
        } else if args::is(opt, "len") {
            getlen = true;
        } else if args::is(opt, "withmatchlen") {
            withmatchlen = true;
        } else if args::is(opt, "minmatchlen") && j + 1 < args.len() {
            minmatchlen = args::int(&args[j + 1])?.max(0);
            j += 1;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    if getidx && getlen {
        return Err(CmdError::err("If you want both the length and indexes, please just use IDX."));
    }
    if a.len() as u64 >= u32::MAX as u64 - 1 || b.len() as u64 >= u32::MAX as u64 - 1 {
        return Err(CmdError::err("String too long for LCS"));
    }
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    if cells.saturating_mul(4) > max_len.max(0) as u64 {
        return Err(CmdError::err("Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"));
    }
    let table = build_table(&a, &b, cells as usize)
        .ok_or_else(|| CmdError::err("Insufficient memory, failed allocating transient memory for LCS"))?;
    let (text, ranges) = walk(&a, &b, &table, getidx || !getlen, minmatchlen);
    let total = table.last().copied().unwrap_or(0) as i64;
    if getidx {
        out.map(2);
        out.bulk(b"matches");
        out.array(ranges.len());
        for (as_, ae, bs, be) in ranges {
            out.array(2 + withmatchlen as usize);
            out.array(2);
            out.int(as_ as i64);
            out.int(ae as i64);
            out.array(2);
            out.int(bs as i64);
            out.int(be as i64);
            if withmatchlen {
                out.int((ae - as_ + 1) as i64);
            }
        }
        out.bulk(b"len");
        out.int(total);
    } else if getlen {
        out.int(total);
    } else {
        out.bulk(&text);
    }
    Ok(())
}

/// The dynamic-programming table: cell (i, j) holds the LCS length of
/// `a[..i]` and `b[..j]`, stored row-major with rows of `b.len() + 1`.
fn build_table(a: &[u8], b: &[u8], cells: usize) -> Option<Vec<u32>> {
    let mut t: Vec<u32> = Vec::new();
    t.try_reserve_exact(cells).ok()?;
    t.resize(cells, 0);
    let w = b.len() + 1;
    for (i, &ca) in a.iter().enumerate() {
        let (prev, cur) = t.split_at_mut((i + 1) * w);
        let prev = &prev[i * w..];
        for (j, &cb) in b.iter().enumerate() {
            cur[j + 1] = if ca == cb { prev[j] + 1 } else { prev[j + 1].max(cur[j]) };
        }
    }
    Some(t)
}

/// Walks the table back from the end as Redis does, building the LCS text
/// (when `compute`) and the matching ranges of at least `minmatchlen` bytes.
fn walk(a: &[u8], b: &[u8], t: &[u32], compute: bool, minmatchlen: i64) -> (Vec<u8>, Vec<Range>) {
    let w = b.len() + 1;
    let at = |i: usize, j: usize| t.get(i * w + j).copied().unwrap_or(0);
    let alen = a.len() as u32;
    let mut idx = at(a.len(), b.len()) as usize;
    let mut text = if compute { vec![0u8; idx] } else { Vec::new() };
    let mut ranges = Vec::new();
    // `arange_start == alen` means no range is open.
    let (mut arange_start, mut arange_end, mut brange_start, mut brange_end) = (alen, 0u32, 0u32, 0u32);
    let (mut i, mut j) = (a.len(), b.len());
    while compute && i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            if let Some(c) = idx.checked_sub(1).and_then(|k| text.get_mut(k)) {
                *c = a[i - 1];
            }
            if arange_start == alen {
                arange_start = (i - 1) as u32;
                arange_end = (i - 1) as u32;
                brange_start = (j - 1) as u32;
                brange_end = (j - 1) as u32;
            } else if arange_start as usize == i && brange_start as usize == j {
                arange_start -= 1;
                brange_start -= 1;
            } else {
                emit = true;
            }
            if arange_start == 0 || brange_start == 0 {
                emit = true;
            }
            idx = idx.saturating_sub(1);
            i -= 1;
            j -= 1;
        } else {
            if at(i - 1, j) > at(i, j - 1) {
                i -= 1;
            } else {
                j -= 1;
            }
            if arange_start != alen {
                emit = true;
            }
        }
        if emit {
            let match_len = arange_end.wrapping_sub(arange_start).wrapping_add(1);
            if minmatchlen == 0 || match_len as i64 >= minmatchlen {
                ranges.push((arange_start, arange_end, brange_start, brange_end));
            }
            arange_start = alen;
        }
    }
    (text, ranges)
}
