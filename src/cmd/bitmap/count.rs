//! BITCOUNT and BITPOS, with their byte and bit ranges, and the word-at-a-time
//! scans they run on.

use bytes::Bytes;

use super::str_value;
use crate::cmd::{args, CmdError, CmdResult, Ks};
use crate::resp::parse::parse_i64;
use crate::resp::Out;

/// A big-endian u64 from 8 bytes (the caller passes exactly 8).
#[inline]
fn word(c: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(c);
    u64::from_be_bytes(b)
}

/// The set bits in `v`, eight bytes at a time.
pub(super) fn popcount(v: &[u8]) -> u64 {
    let mut chunks = v.chunks_exact(32);
    let mut n = [0u64; 4];
    for c in &mut chunks {
        // Four independent sums keep the popcounts from waiting on each other.
        n[0] += word(&c[..8]).count_ones() as u64;
        n[1] += word(&c[8..16]).count_ones() as u64;
        n[2] += word(&c[16..24]).count_ones() as u64;
        n[3] += word(&c[24..]).count_ones() as u64;
    }
    let rest = chunks.remainder();
    let mut words = rest.chunks_exact(8);
    let mut total = n.iter().sum::<u64>();
    for c in &mut words {
        total += word(c).count_ones() as u64;
    }
    total + words.remainder().iter().map(|b| b.count_ones() as u64).sum::<u64>()
}

/// The set bits among bits `start..=end` of `v` (both inside it).
fn count_bits(v: &[u8], start: u64, end: u64) -> u64 {
    let (sb, eb) = ((start >> 3) as usize, (end >> 3) as usize);
    let Some(span) = v.get(sb..=eb) else {
        return 0;
    };
    let mut n = popcount(span);
    // Take off the bits of the edge bytes that lie outside the range.
    let before = !(0xffu8 >> (start & 7));
    let after = (0xffu32 >> ((end & 7) + 1)) as u8;
    n -= (span[0] & before).count_ones() as u64;
    n -= (span[span.len() - 1] & after).count_ones() as u64;
    n
}

/// The index of the first byte of `v` that is not `skip`, skipping whole
/// words of it at a time.
fn first_not(v: &[u8], skip: u8) -> Option<usize> {
    let skip_word = u64::from_ne_bytes([skip; 8]);
    let mut chunks = v.chunks_exact(8);
    let mut i = 0;
    for c in &mut chunks {
        if u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) != skip_word {
            break;
        }
        i += 8;
    }
    v.get(i..)?.iter().position(|&b| b != skip).map(|p| i + p)
}

/// The first bit equal to `bit` among bits `start..=end` of `v` (both inside it).
pub(super) fn find_bit(v: &[u8], start: u64, end: u64, bit: bool) -> Option<u64> {
    let (sb, eb) = ((start >> 3) as usize, (end >> 3) as usize);
    // Bytes are flipped when looking for a 0, so the search is always for a 1.
    let norm = |b: u8| if bit { b } else { !b };
    let first_mask = 0xffu8 >> (start & 7);
    let last_mask = !((0xffu32 >> ((end & 7) + 1)) as u8);
    let at = |i: usize, x: u8| Some(i as u64 * 8 + x.leading_zeros() as u64);
    let first = norm(*v.get(sb)?) & first_mask;
    if sb == eb {
        let x = first & last_mask;
        return if x != 0 { at(sb, x) } else { None };
    }
    if first != 0 {
        return at(sb, first);
    }
    let skip = if bit { 0 } else { 0xff };
    if let Some(p) = first_not(v.get(sb + 1..eb)?, skip) {
        let i = sb + 1 + p;
        return at(i, norm(v[i]));
    }
    let last = norm(*v.get(eb)?) & last_mask;
    if last != 0 {
        at(eb, last)
    } else {
        None
    }
}

/// Whether a BYTE | BIT argument says BIT (a syntax error if neither).
fn is_bit_unit(arg: &[u8]) -> Result<bool, CmdError> {
    args::either(arg, "bit", "byte")
}

/// Redis's range arithmetic: negative indexes count from `total`, then both
/// ends are clamped into it. Returns None for an empty range.
fn clamp(mut start: i64, mut end: i64, total: i64) -> Option<(u64, u64)> {
    if start < 0 {
        start += total;
    }
    if end < 0 {
        end += total;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    (start <= end).then_some((start as u64, end as u64))
}

/// BITCOUNT key [start end [BYTE | BIT]] — O(N).
pub(super) fn bitcount(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    // Redis 7.0 looks the key up before it reads the range: a missing key
    // answers 0 whatever the arguments.
    let Some(e) = ks.read(&args[1]) else {
        out.int(0);
        return Ok(());
    };
    let v = str_value(e)?;
    let n = match args.len() {
        2 => popcount(v),
        4 | 5 => {
            let start = args::int(&args[2])?;
            let end = args::int(&args[3])?;
            let bits = match args.get(4) {
                Some(a) => is_bit_unit(a)?,
                None => false,
            };
            let total = if bits { v.len() as i64 * 8 } else { v.len() as i64 };
            if start < 0 && end < 0 && start > end {
                0
            } else {
                match clamp(start, end, total) {
                    None => 0,
                    Some((s, e)) if bits => count_bits(v, s, e),
                    Some((s, e)) => v.get(s as usize..=e as usize).map_or(0, popcount),
                }
            }
        }
        _ => return Err(CmdError::syntax()),
    };
    out.int(n as i64);
    Ok(())
}

/// BITPOS key bit [start [end [BYTE | BIT]]] — O(N).
pub(super) fn bitpos(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let bit = match args::int(&args[2])? {
        0 => false,
        1 => true,
        _ => return Err(CmdError::err("The bit argument must be 1 or 0.")),
    };
    // A missing key is an endless run of zeros.
    let Some(e) = ks.read(&args[1]) else {
        out.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let v = str_value(e)?;
    if args.len() > 6 {
        return Err(CmdError::syntax());
    }
    let start = match args.get(3) {
        Some(a) => args::int(a)?,
        None => 0,
    };
    let bits = match args.get(5) {
        Some(a) => is_bit_unit(a)?,
        None => false,
    };
    let end = args.get(4).map(|a| parse_i64(a).ok_or_else(|| CmdError::from(crate::cmd::OpError::NotInteger)));
    let end_given = end.is_some();
    let end = end.transpose()?.unwrap_or(-1);
    let total = if bits { v.len() as i64 * 8 } else { v.len() as i64 };
    let Some((s, e)) = clamp(start, end, total) else {
        out.int(-1);
        return Ok(());
    };
    let (s, e) = if bits { (s, e) } else { (s * 8, e * 8 + 7) };
    let pos = match find_bit(v, s, e, bit) {
        Some(p) => p as i64,
        // Without an end the string counts as padded with zeros on the right.
        None if !bit && !end_given => e as i64 + 1,
        None => -1,
    };
    out.int(pos);
    Ok(())
}
