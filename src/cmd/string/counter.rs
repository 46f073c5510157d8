//! INCR, DECR, INCRBY, DECRBY and INCRBYFLOAT.

use bytes::Bytes;

use super::ld::{self, Ld};
use super::str_value;
use crate::cmd::Ks;
use crate::cmd::{args, CmdError, CmdResult, OpError};
use crate::db::{Entry, StrEncoding};
use crate::resp::parse::parse_i64;
use crate::resp::Out;
use crate::shard::signal::class;

/// Redis's `incrDecrCommand`: adds `incr` to the integer at `key` (0 if absent),
/// keeping its TTL, and stores the result int-encoded.
fn incr_by(ks: &mut Ks<'_>, key: &[u8], incr: i64) -> Result<i64, CmdError> {
    let mut buf = itoa::Buffer::new();
    let (new, ttl) = match ks.write(key) {
        Some(e) => {
            let old = parse_i64(str_value(e)?).ok_or(OpError::NotInteger)?;
            let new = old.checked_add(incr).ok_or(OpError::Overflow)?;
            let digits = buf.format(new).as_bytes();
            // Same length and already an integer: rewrite the digits in place.
            if e.encoding() == StrEncoding::Int && e.value().len() == digits.len() {
                e.value_mut().copy_from_slice(digits);
                ks.changed(class::STRING, "incrby", key);
                return Ok(new);
            }
            (new, e.expire_at())
        }
        None => (incr, None),
    };
    ks.insert(Entry::new_string(key, buf.format(new).as_bytes(), StrEncoding::Int, ttl));
    ks.changed(class::STRING, "incrby", key);
    Ok(new)
}

/// INCR key — O(1).
pub fn incr(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    out.int(incr_by(ks, &args[1], 1)?);
    Ok(())
}

/// DECR key — O(1).
pub fn decr(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    out.int(incr_by(ks, &args[1], -1)?);
    Ok(())
}

/// INCRBY key increment — O(1).
pub fn incrby(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let incr = args::int(&args[2])?;
    out.int(incr_by(ks, &args[1], incr)?);
    Ok(())
}

/// DECRBY key decrement — O(1).
pub fn decrby(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let decr = args::int(&args[2])?;
    let Some(incr) = decr.checked_neg() else {
        return Err(CmdError::err("decrement would overflow"));
    };
    out.int(incr_by(ks, &args[1], incr)?);
    Ok(())
}

/// INCRBYFLOAT key increment — O(1). Computes in x87 `long double` as Redis
/// does and stores the `%.17Lf`-then-trimmed text, keeping the TTL.
pub fn incrbyfloat(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let key = &args[1];
    let (cur, ttl) = match ks.write(key) {
        Some(e) => (ld::parse(str_value(e)?).ok_or(OpError::NotFloat)?, e.expire_at()),
        None => (Ld::ZERO, None),
    };
    let incr = ld::parse(&args[2]).ok_or(OpError::NotFloat)?;
    let sum = cur.add(incr);
    if !sum.is_finite() {
        return Err(OpError::IncrNanOrInf.into());
    }
    let text = ld::format_human(sum);
    let enc = if text.len() <= 44 { StrEncoding::Embstr } else { StrEncoding::Raw };
    ks.insert(Entry::new_string(key, &text, enc, ttl));
    ks.changed(class::STRING, "incrbyfloat", key);
    out.bulk(&text);
    Ok(())
}
