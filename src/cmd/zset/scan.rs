//! ZSCAN: a packed sorted set answers whole with cursor 0; an indexed one is
//! walked over its member index with Redis's reverse-binary bucket cursor.
//! Scores come back as bulk strings, as Redis writes them for every protocol.

use bytes::Bytes;

use super::zset_of;
use crate::cmd::keys::glob::string_match;
use crate::cmd::{args, CmdError, CmdResult, Ks};
use crate::resp::write::format_double;
use crate::resp::Out;

/// Redis's `parseScanCursorOrReply`: C's `strtoul` in base 10, refusing
/// leading spaces, trailing garbage and overflow; it takes a sign (`-1` is the
/// largest cursor), stops at a NUL byte and reads "" as 0.
fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let s = arg.split(|&b| b == 0).next().unwrap_or_default();
    if s.first().is_some_and(|&b| b == b' ' || (b'\t'..=b'\r').contains(&b)) {
        return None;
    }
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return s.is_empty().then_some(0);
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// ZSCAN's options (Redis's `scanGenericCommand`): COUNT and MATCH; TYPE
/// only applies to the keyspace SCAN.
fn parse_opts(args: &[Bytes]) -> Result<(usize, Option<&[u8]>), CmdError> {
    let (mut count, mut pattern) = (10usize, None);
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        if args::is(&args[j], "count") && more {
            let n = args::int(&args[j + 1])?;
            if n < 1 {
                return Err(CmdError::syntax());
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if args::is(&args[j], "match") && more {
            let p = &args[j + 1][..];
            // `*` matches everything: no matching at all, as in Redis.
            pattern = (p != b"*").then_some(p);
        } else {
            return Err(CmdError::syntax());
        }
        j += 2;
    }
    Ok((count, pattern))
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count] — O(1) a call, O(N) a full iteration.
pub(super) fn zscan(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let cursor = parse_cursor(&args[2]).ok_or_else(|| CmdError::err("invalid cursor"))?;
    let Some(e) = ks.read(&args[1]) else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let z = zset_of(e)?;
    // Options are checked only once the key is known to be a sorted set, as in Redis.
    let (count, pattern) = parse_opts(args)?;
    let mut found: Vec<(Vec<u8>, f64)> = Vec::new();
    let next = z.scan(cursor, count, |m, s| {
        if pattern.is_none_or(|p| string_match(p, m, false)) {
            found.push((m.to_vec(), s));
        }
    });
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(found.len() * 2);
    for (m, s) in &found {
        out.bulk(m);
        out.bulk(format_double(*s).as_bytes());
    }
    Ok(())
}
