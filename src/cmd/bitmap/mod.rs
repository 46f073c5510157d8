//! Bitmap commands over string values: SETBIT and GETBIT here; BITCOUNT and
//! BITPOS in `count`; BITOP (and its cross-shard coordinator) in `bitop`;
//! BITFIELD and BITFIELD_RO in `field`.
//!
//! A bitmap is a string read as bits, bit 0 being the most significant bit
//! of the first byte, as in Redis. Reads treat the bytes past the end as
//! zeros. Writes pad the string with zero bytes up to the highest bit they
//! touch (in place when the string has spare room, as an sds grown by
//! `sdsgrowzero` has) and leave it raw-encoded, as Redis's
//! `lookupStringForBitCommand` does, even when no bit changes.

mod bitop;
mod count;
mod field;
#[cfg(test)]
mod tests;

use bytes::Bytes;

use super::string::str_value;
use super::{CmdError, CmdResult, Handler, Ks, OpError};
use crate::db::{Entry, StrEncoding};
use crate::resp::parse::parse_i64;
use crate::resp::Out;
use crate::shard::signal::class;
use crate::{async_handler, on_shard};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("setbit", Handler::Sync(on_shard!(setbit))),
    ("getbit", Handler::Sync(on_shard!(getbit))),
    ("bitcount", Handler::Sync(on_shard!(count::bitcount))),
    ("bitpos", Handler::Sync(on_shard!(count::bitpos))),
    ("bitop", Handler::SyncCross(on_shard!(bitop::bitop), async_handler!(bitop::cross_bitop))),
    ("bitfield", Handler::Sync(on_shard!(field::bitfield))),
    ("bitfield_ro", Handler::Sync(on_shard!(field::bitfield_ro))),
];

const OFFSET_ERR: &str = "bit offset is not an integer or out of range";

/// Redis's `getBitOffsetFromArgument`: a bit offset below
/// `proto-max-bulk-len` bytes. With `width` (BITFIELD), `#N` means N times
/// the field width; the product wraps as Redis's signed multiply does.
fn bit_offset(arg: &[u8], max_len: i64, width: Option<u32>) -> Result<u64, CmdError> {
    let err = || CmdError::err(OFFSET_ERR);
    let (width, digits) = match (arg.first(), width) {
        (Some(b'#'), Some(w)) if w > 0 => (Some(w), &arg[1..]),
        _ => (None, arg),
    };
    let mut v = parse_i64(digits).ok_or_else(err)?;
    if let Some(w) = width {
        v = v.wrapping_mul(w as i64);
    }
    if v < 0 || (v >> 3) >= max_len {
        return Err(err());
    }
    Ok(v as u64)
}

/// The bit at `offset` (0 past the end).
fn bit_at(v: &[u8], offset: u64) -> bool {
    usize::try_from(offset >> 3).ok().and_then(|i| v.get(i)).is_some_and(|b| b & (0x80 >> (offset & 7)) != 0)
}

/// `n` zero bytes; a size the allocator cannot give (possible only with a
/// huge `proto-max-bulk-len`) is refused instead of aborting the server.
fn zeros(n: usize) -> Result<Vec<u8>, OpError> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| OpError::StringTooLong)?;
    v.resize(n, 0);
    Ok(v)
}

/// Redis's `lookupStringForBitCommand` followed by the edit: the string at
/// `key`, created if absent, made raw and padded with zeros to hold bit
/// `max_bit`, is handed to `edit` with whether it was created or grown
/// (Redis's "dirty"). WRONGTYPE for another type, before `edit` runs. The
/// caller signals the change: Redis does only if a bit changed or the string
/// grew.
fn edit_bits<R>(
    ks: &mut Ks<'_>,
    key: &[u8],
    max_bit: u64,
    edit: impl FnOnce(&mut [u8], bool) -> R,
) -> Result<R, OpError> {
    // max_bit < proto-max-bulk-len * 8 + 64, checked by the offset parsers.
    let need = usize::try_from(max_bit >> 3).map_err(|_| OpError::StringTooLong)? + 1;
    let Some(e) = ks.write(key) else {
        let mut v = zeros(need)?;
        let r = edit(&mut v, true);
        ks.insert(Entry::new_string(key, &v, StrEncoding::Raw, None));
        return Ok(r);
    };
    let len = str_value(e)?.len();
    if e.encoding() == StrEncoding::Raw {
        if len >= need {
            return Ok(edit(e.value_mut(), false));
        }
        if e.try_append(&zeros(need - len)?) {
            return Ok(edit(e.value_mut(), true));
        }
    }
    // Int or embstr (Redis unshares it into a raw sds), or no room to grow.
    let grown = need > len;
    let mut v = zeros(len.max(need))?;
    v[..len].copy_from_slice(e.value());
    let ttl = e.expire_at();
    let r = edit(&mut v, grown);
    // A grown sds keeps spare room (sdsMakeRoomFor), so rising offsets grow in place.
    let entry =
        if grown { Entry::new_growable(key, &v, ttl) } else { Entry::new_string(key, &v, StrEncoding::Raw, ttl) };
    ks.overwrite(entry);
    Ok(r)
}

/// SETBIT key offset value — O(1), O(N) when the string grows. Replies with
/// the bit's previous value.
fn setbit(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let key = &args[1];
    let offset = bit_offset(&args[2], ks.max_len, None)?;
    let on = match parse_i64(&args[3]) {
        Some(v) if v & !1 == 0 => v == 1,
        _ => return Err(CmdError::err("bit is not an integer or out of range")),
    };
    let (old, dirty) = edit_bits(ks, key, offset, |v, grown| {
        let mask = 0x80u8 >> (offset & 7);
        let Some(byte) = usize::try_from(offset >> 3).ok().and_then(|i| v.get_mut(i)) else {
            return (false, grown);
        };
        let old = *byte & mask != 0;
        if on {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
        (old, grown || old != on)
    })?;
    if dirty {
        ks.changed(class::STRING, "setbit", key);
    }
    out.int(old as i64);
    Ok(())
}

/// GETBIT key offset — O(1).
fn getbit(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let offset = bit_offset(&args[2], ks.max_len, None)?;
    let bit = match ks.read(&args[1]) {
        Some(e) => bit_at(str_value(e)?, offset),
        None => false,
    };
    out.int(bit as i64);
    Ok(())
}
