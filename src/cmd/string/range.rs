//! APPEND, STRLEN, GETRANGE/SUBSTR and SETRANGE.

use bytes::Bytes;

use super::str_value;
use crate::cmd::Ks;
use crate::cmd::{args, CmdError, CmdResult, OpError};
use crate::db::{Entry, StrEncoding};
use crate::resp::Out;
use crate::shard::signal::class;

/// Redis's `checkStringLength`: a string may not grow past `proto-max-bulk-len`.
fn check_len(max_len: i64, size: u64, append: u64) -> Result<(), CmdError> {
    if size + append > max_len.max(0) as u64 {
        return Err(OpError::StringTooLong.into());
    }
    Ok(())
}

/// APPEND key value — amortized O(1): a string that grows keeps spare room, as
/// Redis's sds does, and appends within it happen in place.
pub fn append(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (key, tail) = (&args[1], &args[2]);
    let max_len = ks.max_len;
    let (value, ttl) = match ks.write(key) {
        None => {
            // A new key is stored as SET would store it.
            ks.insert(Entry::new_string(key, tail, StrEncoding::for_value(tail), None));
            ks.changed(class::STRING, "append", key);
            out.int(tail.len() as i64);
            return Ok(());
        }
        Some(e) => {
            let old_len = str_value(e)?.len();
            check_len(max_len, old_len as u64, tail.len() as u64)?;
            if e.try_append(tail) {
                ks.changed(class::STRING, "append", key);
                out.int((old_len + tail.len()) as i64);
                return Ok(());
            }
            let old = e.value();
            let mut v = Vec::with_capacity(old.len() + tail.len());
            v.extend_from_slice(old);
            v.extend_from_slice(tail);
            (v, e.expire_at())
        }
    };
    // Redis unshares the value into a raw sds, even for an empty append.
    ks.insert(Entry::new_growable(key, &value, ttl));
    ks.changed(class::STRING, "append", key);
    out.int(value.len() as i64);
    Ok(())
}

/// STRLEN key — O(1).
pub fn strlen(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let n = match ks.read(&args[1]) {
        Some(e) => str_value(e)?.len(),
        None => 0,
    };
    out.int(n as i64);
    Ok(())
}

/// The byte range GETRANGE returns, with Redis's index arithmetic (negative
/// indexes from the end, wrapping as its unsigned sums do, clamped).
fn range_of(len: usize, mut start: i64, mut end: i64) -> Option<(usize, usize)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let n = len as i64;
    if start < 0 {
        start = n.wrapping_add(start);
    }
    if end < 0 {
        end = n.wrapping_add(end);
    }
    start = start.max(0);
    end = end.max(0);
    if end >= n {
        end = n - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

/// GETRANGE key start end (and SUBSTR) — O(N) in the returned length.
pub fn getrange(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let start = args::int(&args[2])?;
    let end = args::int(&args[3])?;
    let Some(e) = ks.read(&args[1]) else {
        out.bulk(b"");
        return Ok(());
    };
    let v = str_value(e)?;
    match range_of(v.len(), start, end).and_then(|(s, e)| v.get(s..=e)) {
        Some(part) => out.bulk(part),
        None => out.bulk(b""),
    }
    Ok(())
}

/// SETRANGE key offset value — O(1) when the length is unchanged, O(N) when
/// the string grows.
pub fn setrange(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (key, value) = (&args[1], &args[3]);
    let offset = args::int(&args[2])?;
    if offset < 0 {
        return Err(CmdError::err("offset is out of range"));
    }
    let offset_u = offset as u64;
    let max_len = ks.max_len;
    let (new, ttl) = match ks.write(key) {
        None => {
            if value.is_empty() {
                out.int(0);
                return Ok(());
            }
            check_len(max_len, offset_u, value.len() as u64)?;
            let mut v = vec![0u8; offset as usize + value.len()];
            v[offset as usize..].copy_from_slice(value);
            (v, None)
        }
        Some(e) => {
            let old = str_value(e)?;
            if value.is_empty() {
                out.int(old.len() as i64);
                return Ok(());
            }
            check_len(max_len, offset_u, value.len() as u64)?;
            let off = offset as usize;
            let end = off + value.len();
            let len = old.len();
            if e.encoding() == StrEncoding::Raw {
                if let Some(dst) = e.value_mut().get_mut(off..end) {
                    dst.copy_from_slice(value);
                    ks.changed(class::STRING, "setrange", key);
                    out.int(len as i64);
                    return Ok(());
                }
            }
            let old = e.value();
            let mut v = Vec::with_capacity(old.len().max(end));
            v.extend_from_slice(old);
            if v.len() < end {
                v.resize(end, 0);
            }
            v[off..end].copy_from_slice(value);
            (v, e.expire_at())
        }
    };
    ks.insert(Entry::new_string(key, &new, StrEncoding::Raw, ttl));
    ks.changed(class::STRING, "setrange", key);
    out.int(new.len() as i64);
    Ok(())
}
