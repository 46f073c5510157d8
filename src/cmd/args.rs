//! Argument parsing shared by the command families, with Redis's rules and errors.

use bytes::Bytes;

use super::{CmdError, OpError};
use crate::resp::parse::parse_i64;

/// Case-insensitive keyword comparison as Redis's `strcasecmp` does it: only up
/// to a NUL byte (`"nx\0zz"` is NX). `kw` is lowercase ASCII.
pub fn is(arg: &[u8], kw: &str) -> bool {
    let end = memchr::memchr(0, arg).unwrap_or(arg.len());
    arg[..end].eq_ignore_ascii_case(kw.as_bytes())
}

/// An integer argument (`ERR value is not an integer or out of range`).
pub fn int(arg: &[u8]) -> Result<i64, CmdError> {
    parse_i64(arg).ok_or_else(|| OpError::NotInteger.into())
}

/// A float argument the way Redis's `getLongDoubleFromObject`/`strtold` reads
/// it: no leading or trailing spaces, no NaN; `inf` and friends accepted.
pub fn float(arg: &[u8]) -> Result<f64, CmdError> {
    parse_float(arg).ok_or_else(|| OpError::NotFloat.into())
}

pub fn parse_float(arg: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(arg).ok()?;
    if s.is_empty() || s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let v = match lower.trim_start_matches(['+', '-']) {
        "inf" | "infinity" => {
            if lower.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        }
        t if t.starts_with("nan") => return None,
        // strtold takes hex floats; Rust does not, and Redis users rarely send them.
        _ => s.parse::<f64>().ok()?,
    };
    Some(v)
}

/// Redis's `getRangeLongFromObjectOrReply`: an integer in `min..=max`. `msg`
/// replaces both default texts (not an integer; out of range) when given.
pub fn range(arg: &[u8], min: i64, max: i64, msg: Option<&'static str>) -> Result<i64, CmdError> {
    let err = |default: CmdError| msg.map_or(default, CmdError::err);
    let v = parse_i64(arg).ok_or_else(|| err(OpError::NotInteger.into()))?;
    if v < min || v > max {
        return Err(err(CmdError::err(format_args!("value is out of range, value must between {min} and {max}"))));
    }
    Ok(v)
}

/// Redis's `parseScanCursorOrReply`: C's `strtoul` in base 10, refusing leading
/// spaces, trailing garbage and overflow. As `strtoul` does, it takes a sign
/// (`-1` is the largest cursor), stops at a NUL byte, and reads "" as 0.
pub fn parse_cursor(arg: &[u8]) -> Option<u64> {
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
        // No digits: strtoul consumed nothing, so only "" ends where it started.
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

/// A SCAN-family cursor argument (`ERR invalid cursor`).
pub fn cursor(arg: &[u8]) -> Result<u64, CmdError> {
    parse_cursor(arg).ok_or_else(|| CmdError::err("invalid cursor"))
}

/// One of two keywords (`LEFT`/`RIGHT`, `MIN`/`MAX`): true for the first;
/// a syntax error for anything else.
pub fn either(arg: &[u8], first: &str, second: &str) -> Result<bool, CmdError> {
    if is(arg, first) {
        Ok(true)
    } else if is(arg, second) {
        Ok(false)
    } else {
        Err(CmdError::syntax())
    }
}

/// The arguments of LMPOP, BLMPOP, ZMPOP and BZMPOP after parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mpop {
    /// Where the keys are in the argument vector.
    pub keys: std::ops::Range<usize>,
    /// The first of the two end keywords (LEFT, MIN) was given.
    pub first: bool,
    /// Elements to pop at most (1 unless COUNT says otherwise).
    pub count: usize,
}

/// Parses `numkeys key [key ...] <first>|<second> [COUNT count]` from
/// `numkeys_at`, with Redis's errors in its order (`mpopGenericCommand`).
pub fn mpop(args: &[Bytes], numkeys_at: usize, ends: (&str, &str)) -> Result<Mpop, CmdError> {
    let numkeys = range(&args[numkeys_at], 1, i64::MAX, Some("numkeys should be greater than 0"))? as u64;
    let first = numkeys_at + 1;
    let where_at = (first as u64).saturating_add(numkeys);
    let Some(end_arg) = usize::try_from(where_at).ok().and_then(|i| args.get(i)) else {
        return Err(CmdError::syntax());
    };
    let where_at = where_at as usize;
    let first_end = either(end_arg, ends.0, ends.1)?;
    let mut count = None;
    let mut cur = Cursor::new(args, where_at + 1);
    while let Some(a) = cur.next() {
        if count.is_none() && is(a, "count") && cur.remaining() > 0 {
            count = Some(range(cur.value()?, 1, i64::MAX, Some("count should be greater than 0"))? as usize);
        } else {
            return Err(CmdError::syntax());
        }
    }
    Ok(Mpop { keys: first..where_at, first: first_end, count: count.unwrap_or(1) })
}

/// A cursor over a command's arguments, for option parsing.
pub struct Cursor<'a> {
    args: &'a [Bytes],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(args: &'a [Bytes], start: usize) -> Self {
        Cursor { args, pos: start }
    }

    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<&'a Bytes> {
        let a = self.args.get(self.pos)?;
        self.pos += 1;
        Some(a)
    }

    /// The value after an option keyword, or a syntax error if it is missing.
    pub fn value(&mut self) -> Result<&'a Bytes, CmdError> {
        self.next().ok_or_else(CmdError::syntax)
    }

    pub fn remaining(&self) -> usize {
        self.args.len().saturating_sub(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_redis() {
        assert_eq!(parse_float(b"1.5"), Some(1.5));
        assert_eq!(parse_float(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float(b"1e3"), Some(1000.0));
        assert_eq!(parse_float(b" 1"), None);
        assert_eq!(parse_float(b"nan"), None);
        assert_eq!(parse_float(b""), None);
        assert_eq!(parse_float(b"abc"), None);
    }
}
