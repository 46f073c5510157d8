//! HINCRBY and HINCRBYFLOAT.

use bytes::Bytes;

use super::write_or_create;
use crate::cmd::string::ld;
use crate::cmd::{args, CmdError, CmdResult, Ks, OpError};
use crate::resp::parse::parse_i64;
use crate::resp::Out;
use crate::shard::signal::class;

/// HINCRBY key field increment — O(1). A missing field counts as 0.
pub fn hincrby(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let incr = args::int(&args[3])?;
    let lim = ks.limits;
    let h = write_or_create(ks, &args[1])?;
    let old = match h.get(&args[2]) {
        Some(v) => parse_i64(v).ok_or_else(|| CmdError::err("hash value is not an integer"))?,
        None => 0,
    };
    let new = old.checked_add(incr).ok_or(OpError::Overflow)?;
    let mut buf = itoa::Buffer::new();
    h.insert(&args[2], buf.format(new).as_bytes(), &lim);
    ks.changed(class::HASH, "hincrby", &args[1]);
    out.int(new);
    Ok(())
}

/// HINCRBYFLOAT key field increment — O(1). Adds in `long double` and stores
/// the `%.17Lf`-then-trimmed text, as Redis does.
pub fn hincrbyfloat(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let incr = ld::parse(&args[3]).ok_or(OpError::NotFloat)?;
    if !incr.is_finite() {
        return Err(CmdError::err("value is NaN or Infinity"));
    }
    let lim = ks.limits;
    let h = write_or_create(ks, &args[1])?;
    let old = match h.get(&args[2]) {
        Some(v) => ld::parse(v).ok_or_else(|| CmdError::err("hash value is not a float"))?,
        None => ld::Ld::ZERO,
    };
    let sum = old.add(incr);
    if !sum.is_finite() {
        return Err(OpError::IncrNanOrInf.into());
    }
    let text = ld::format_human(sum);
    h.insert(&args[2], &text, &lim);
    ks.changed(class::HASH, "hincrbyfloat", &args[1]);
    out.bulk(&text);
    Ok(())
}
