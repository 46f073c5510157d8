//! BITFIELD and BITFIELD_RO: signed (i1..i64) and unsigned (u1..u63)
//! integers at any bit offset, read, written and incremented with the
//! overflow handling (WRAP, SAT, FAIL) given before each operation.

use bytes::Bytes;

use super::{bit_offset, edit_bits, str_value};
use crate::cmd::{args, CmdError, CmdResult, Ks};
use crate::resp::parse::parse_i64;
use crate::resp::Out;
use crate::shard::signal::class;

const TYPE_ERR: &str = "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Action {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// One subcommand, parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Field {
    pub action: Action,
    pub signed: bool,
    pub bits: u32,
    pub offset: u64,
    pub overflow: Overflow,
}

/// Redis's `getBitfieldTypeFromArgument`: `i1`..`i64` or `u1`..`u63`
/// (lowercase; the width is read up to a NUL byte, as C's strlen stops).
fn parse_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let err = || CmdError::err(TYPE_ERR);
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(err()),
    };
    let digits = arg[1..].split(|&b| b == 0).next().unwrap_or_default();
    match parse_i64(digits) {
        Some(n) if n >= 1 && n <= if signed { 64 } else { 63 } => Ok((signed, n as u32)),
        _ => Err(err()),
    }
}

/// The operations of a BITFIELD command, in Redis's parsing order and with
/// its errors, and the highest bit a write touches (None: read only).
pub(super) fn parse(args: &[Bytes], max_len: i64) -> Result<(Vec<Field>, Option<u64>), CmdError> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut highest: Option<u64> = None;
    let mut j = 2;
    while let Some(sub) = args.get(j) {
        let rem = args.len() - j - 1;
        let action = if args::is(sub, "get") && rem >= 2 {
            Action::Get
        } else if args::is(sub, "set") && rem >= 3 {
            Action::Set(0)
        } else if args::is(sub, "incrby") && rem >= 3 {
            Action::IncrBy(0)
        } else if args::is(sub, "overflow") && rem >= 1 {
            let a = &args[j + 1];
            overflow = if args::is(a, "wrap") {
                Overflow::Wrap
            } else if args::is(a, "sat") {
                Overflow::Sat
            } else if args::is(a, "fail") {
                Overflow::Fail
            } else {
                return Err(CmdError::err("Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(CmdError::syntax());
        };
        let (signed, bits) = parse_type(&args[j + 1])?;
        let offset = bit_offset(&args[j + 2], max_len, Some(bits))?;
        let action = match action {
            Action::Get => Action::Get,
            write => {
                let top = offset + bits as u64 - 1;
                highest = Some(highest.map_or(top, |h| h.max(top)));
                let v = args::int(&args[j + 3])?;
                if matches!(write, Action::Set(_)) {
                    Action::Set(v)
                } else {
                    Action::IncrBy(v)
                }
            }
        };
        fields.push(Field { action, signed, bits, offset, overflow });
        j += if action == Action::Get { 3 } else { 4 };
    }
    Ok((fields, highest))
}

/// The `bits`-wide unsigned field at bit `offset` (bytes past the end read as 0).
pub(super) fn get_unsigned(v: &[u8], offset: u64, bits: u32) -> u64 {
    let mut buf = [0u8; 16];
    if let Some(tail) = usize::try_from(offset >> 3).ok().and_then(|i| v.get(i..)) {
        let n = tail.len().min(9);
        buf[..n].copy_from_slice(&tail[..n]);
    }
    let w = u128::from_be_bytes(buf);
    let shift = 128 - (offset & 7) as u32 - bits;
    ((w >> shift) & ((1u128 << bits) - 1)) as u64
}

/// The `bits`-wide two's complement field at bit `offset`.
pub(super) fn get_signed(v: &[u8], offset: u64, bits: u32) -> i64 {
    let u = get_unsigned(v, offset, bits);
    // Sign-extend from the field's top bit.
    ((u << (64 - bits)) as i64) >> (64 - bits)
}

/// Writes the low `bits` bits of `value` at bit `offset`; bytes past the end
/// of `v` (none, after `edit_bits`) are left out.
pub(super) fn set_field(v: &mut [u8], offset: u64, bits: u32, value: u64) {
    let Some(tail) = usize::try_from(offset >> 3).ok().and_then(|i| v.get_mut(i..)) else {
        return;
    };
    let n = tail.len().min(9);
    let mut buf = [0u8; 16];
    buf[..n].copy_from_slice(&tail[..n]);
    let shift = 128 - (offset & 7) as u32 - bits;
    let mask = ((1u128 << bits) - 1) << shift;
    let w = (u128::from_be_bytes(buf) & !mask) | (((value as u128) << shift) & mask);
    tail[..n].copy_from_slice(&w.to_be_bytes()[..n]);
}

/// `value + incr` in a signed field of `bits`: the value stored and whether
/// it overflowed, as Redis's `checkSignedBitfieldOverflow` decides it, with
/// its wrapping 64-bit arithmetic. One quirk follows: a SET value at or below
/// `-(2^63 - max)` overflows "upwards", so SAT stores the maximum.
pub(super) fn signed_add(value: i64, incr: i64, bits: u32, ow: Overflow) -> (i64, bool) {
    let max: i64 = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrapped = || {
        let c = (value as u64).wrapping_add(incr as u64);
        if bits == 64 {
            c as i64
        } else {
            ((c << (64 - bits)) as i64) >> (64 - bits)
        }
    };
    if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr) {
        (if ow == Overflow::Sat { max } else { wrapped() }, true)
    } else if value < min || (bits != 64 && incr < min_incr) || (value < 0 && incr < 0 && incr < min_incr) {
        (if ow == Overflow::Sat { min } else { wrapped() }, true)
    } else {
        (value.wrapping_add(incr), false)
    }
}

/// `value + incr` in an unsigned field of `bits` (at most 63): the value
/// stored and whether it overflowed (Redis's `checkUnsignedBitfieldOverflow`;
/// a SET value is `value` with no increment, negative ones read as u64).
pub(super) fn unsigned_add(value: u64, incr: i64, bits: u32, ow: Overflow) -> (u64, bool) {
    let max = (1u64 << bits) - 1;
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = value.wrapping_neg() as i64;
    let wrapped = || value.wrapping_add(incr as u64) & max;
    if value > max || (incr > 0 && incr > max_incr) {
        (if ow == Overflow::Sat { max } else { wrapped() }, true)
    } else if incr < 0 && incr < min_incr {
        (if ow == Overflow::Sat { 0 } else { wrapped() }, true)
    } else {
        (value.wrapping_add(incr as u64), false)
    }
}

/// Runs a write operation on `v`: the reply value (None for a FAIL that left
/// the field alone) and whether the field's value changed.
pub(super) fn apply(v: &mut [u8], f: &Field) -> (Option<i64>, bool) {
    let (old, new, reply, overflow) = if f.signed {
        let old = get_signed(v, f.offset, f.bits);
        let (new, reply, of) = match f.action {
            Action::IncrBy(incr) => {
                let (n, of) = signed_add(old, incr, f.bits, f.overflow);
                (n, n, of)
            }
            Action::Set(x) => {
                let (n, of) = signed_add(x, 0, f.bits, f.overflow);
                (n, old, of)
            }
            Action::Get => (old, old, false),
        };
        (old as u64, new as u64, reply, of)
    } else {
        let old = get_unsigned(v, f.offset, f.bits);
        let (new, reply, of) = match f.action {
            Action::IncrBy(incr) => {
                let (n, of) = unsigned_add(old, incr, f.bits, f.overflow);
                (n, n as i64, of)
            }
            Action::Set(x) => {
                let (n, of) = unsigned_add(x as u64, 0, f.bits, f.overflow);
                (n, old as i64, of)
            }
            Action::Get => (old, old as i64, false),
        };
        (old, new, reply, of)
    };
    if overflow && f.overflow == Overflow::Fail {
        return (None, false);
    }
    set_field(v, f.offset, f.bits, new);
    (Some(reply), old != new)
}

/// The value a GET reads.
fn read(v: &[u8], f: &Field) -> i64 {
    if f.signed {
        get_signed(v, f.offset, f.bits)
    } else {
        get_unsigned(v, f.offset, f.bits) as i64
    }
}

/// Redis's `bitfieldGeneric`.
fn bitfield_generic(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out, read_only: bool) -> CmdResult {
    let key = &args[1];
    let (fields, highest) = parse(args, ks.max_len)?;
    let Some(highest) = highest else {
        // Only reads: a missing key reads as zeros, another type is an error.
        let v = match ks.read(key) {
            Some(e) => str_value(e)?,
            None => &[],
        };
        out.array(fields.len());
        for f in &fields {
            out.int(read(v, f));
        }
        return Ok(());
    };
    if read_only {
        return Err(CmdError::err("BITFIELD_RO only supports the GET subcommand"));
    }
    let changed = edit_bits(ks, key, highest, |v, grown| {
        out.array(fields.len());
        let mut changed = false;
        for f in &fields {
            if f.action == Action::Get {
                out.int(read(v, f));
                continue;
            }
            match apply(v, f) {
                (Some(reply), differs) => {
                    out.int(reply);
                    changed |= grown || differs;
                }
                (None, _) => out.null(),
            }
        }
        changed
    })?;
    if changed {
        ks.changed(class::STRING, "setbit", key);
    }
    Ok(())
}

/// BITFIELD key [GET type offset | [OVERFLOW WRAP | SAT | FAIL]
/// SET type offset value | INCRBY type offset increment ...] — O(1) per
/// subcommand (O(N) when the string grows).
pub(super) fn bitfield(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    bitfield_generic(ks, args, out, false)
}

/// BITFIELD_RO key [GET type offset ...] — O(1) per subcommand.
pub(super) fn bitfield_ro(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    bitfield_generic(ks, args, out, true)
}
