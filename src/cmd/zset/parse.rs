//! Numbers and ranges as the sorted set commands read them: C's `strtod`
//! (decimal and hex floats, `inf`, leading spaces, stopping at the first byte
//! that does not fit), then Redis's checks on top (`string2d` for scores and
//! weights, `zslParseRange` for score ranges, `zslParseLexRange` for
//! lexicographic ones), each with Redis's error text.

use crate::cmd::{CmdError, OpError};
use crate::types::zset::{LexBound, LexRange, ScoreRange};

/// What `strtod` read from the start of a string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Strtod {
    pub value: f64,
    /// Bytes consumed; 0 when no number was found.
    pub used: usize,
    /// `errno == ERANGE`: the value overflowed to infinity or underflowed to zero.
    pub erange: bool,
}

fn is_space(b: u8) -> bool {
    b == b' ' || (b'\t'..=b'\r').contains(&b)
}

fn starts_with_ci(s: &[u8], word: &[u8]) -> bool {
    s.len() >= word.len() && s[..word.len()].eq_ignore_ascii_case(word)
}

/// C's `strtod` on `s` (which ends at its first NUL, as a C string does).
pub(super) fn strtod(s: &[u8]) -> Strtod {
    let none = Strtod { value: 0.0, used: 0, erange: false };
    let s = s.split(|&b| b == 0).next().unwrap_or_default();
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let neg = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let rest = &s[i..];
    let sign = if neg { -1.0 } else { 1.0 };
    if starts_with_ci(rest, b"inf") {
        let n = if starts_with_ci(rest, b"infinity") { 8 } else { 3 };
        return Strtod { value: sign * f64::INFINITY, used: i + n, erange: false };
    }
    if starts_with_ci(rest, b"nan") {
        let mut n = 3;
        // "nan(chars)" takes the parenthesised part when it is well formed.
        if rest.get(3) == Some(&b'(') {
            if let Some(close) = rest[4..].iter().position(|&b| !(b.is_ascii_alphanumeric() || b == b'_')) {
                if rest[4 + close] == b')' {
                    n = 5 + close;
                }
            }
        }
        return Strtod { value: f64::NAN, used: i + n, erange: false };
    }
    if rest.len() > 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some((v, n)) = hex_float(&rest[2..]) {
            let value = sign * v;
            return Strtod { value, used: i + 2 + n, erange: value.is_infinite() };
        }
    }
    // Decimal: digits, an optional fraction, an optional exponent.
    let mut j = 0;
    let mut digits = 0;
    let mut nonzero = false;
    while j < rest.len() && rest[j].is_ascii_digit() {
        nonzero |= rest[j] != b'0';
        j += 1;
        digits += 1;
    }
    if rest.get(j) == Some(&b'.') {
        j += 1;
        while j < rest.len() && rest[j].is_ascii_digit() {
            nonzero |= rest[j] != b'0';
            j += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return none;
    }
    if matches!(rest.get(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        if matches!(rest.get(k), Some(b'-' | b'+')) {
            k += 1;
        }
        if rest.get(k).is_some_and(u8::is_ascii_digit) {
            while k < rest.len() && rest[k].is_ascii_digit() {
                k += 1;
            }
            j = k;
        }
    }
    let text = std::str::from_utf8(&rest[..j]).unwrap_or("0");
    let v: f64 = text.parse().unwrap_or(0.0);
    let erange = v.is_infinite() || (v == 0.0 && nonzero);
    Strtod { value: sign * v, used: i + j, erange }
}

/// A hex float after its `0x`: `(value, bytes used)`, or `None` when no hex
/// digit follows (strtod then reads just the `0`).
fn hex_float(s: &[u8]) -> Option<(f64, usize)> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut j = 0;
    let mut mant = 0f64;
    let mut exp: i64 = 0;
    let mut digits = 0;
    while let Some(d) = s.get(j).and_then(|&b| hex(b)) {
        mant = mant * 16.0 + d as f64;
        j += 1;
        digits += 1;
    }
    if s.get(j) == Some(&b'.') {
        let mut k = j + 1;
        let mut frac = 0;
        while let Some(d) = s.get(k).and_then(|&b| hex(b)) {
            mant = mant * 16.0 + d as f64;
            k += 1;
            frac += 1;
        }
        if digits + frac > 0 {
            j = k;
            digits += frac;
            exp -= 4 * frac;
        }
    }
    if digits == 0 {
        return None;
    }
    if matches!(s.get(j), Some(b'p' | b'P')) {
        let mut k = j + 1;
        let neg = s.get(k) == Some(&b'-');
        if matches!(s.get(k), Some(b'-' | b'+')) {
            k += 1;
        }
        if s.get(k).is_some_and(u8::is_ascii_digit) {
            let mut e: i64 = 0;
            while let Some(d) = s.get(k).filter(|b| b.is_ascii_digit()) {
                e = (e * 10 + (d - b'0') as i64).min(100_000);
                k += 1;
            }
            exp += if neg { -e } else { e };
            j = k;
        }
    }
    let v = mant * 2f64.powi(exp.clamp(-2000, 2000) as i32);
    Some((v, j))
}

/// Redis's `string2d`: the whole argument is a float, without leading space,
/// overflow, underflow to zero or NaN.
pub(crate) fn string2d(arg: &[u8]) -> Option<f64> {
    if arg.is_empty() || is_space(arg[0]) {
        return None;
    }
    let r = strtod(arg);
    let bad_range = r.erange && (r.value.is_infinite() || r.value == 0.0);
    (r.used == arg.len() && !bad_range && !r.value.is_nan()).then_some(r.value)
}

/// A score or increment (`ERR value is not a valid float`).
pub(super) fn score_arg(arg: &[u8]) -> Result<f64, CmdError> {
    string2d(arg).ok_or_else(|| OpError::NotFloat.into())
}

/// One end of a score range: `(` makes it exclusive; the rest is read by
/// `strtod` up to the end (or a NUL byte), NaN refused.
fn score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    let (text, ex) = match arg.first() {
        Some(b'(') => (&arg[1..], true),
        _ => (arg, false),
    };
    let r = strtod(text);
    let end = text.get(r.used).copied().unwrap_or(0);
    (end == 0 && !r.value.is_nan()).then_some((r.value, ex))
}

/// Redis's `zslParseRange` (`ERR min or max is not a float`).
pub(super) fn score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    let err = || CmdError::err("min or max is not a float");
    let (min, minex) = score_bound(min).ok_or_else(err)?;
    let (max, maxex) = score_bound(max).ok_or_else(err)?;
    Ok(ScoreRange { min, max, minex, maxex })
}

/// One end of a lexicographic range: `-`, `+`, `[member` or `(member`.
fn lex_bound(arg: &[u8]) -> Option<(LexBound, bool)> {
    // `+` and `-` must stand alone (the byte after them is the C string's NUL).
    let alone = arg.get(1).is_none_or(|&b| b == 0);
    match arg.first()? {
        b'+' if alone => Some((LexBound::Max, true)),
        b'-' if alone => Some((LexBound::Min, true)),
        b'(' => Some((LexBound::Member(arg[1..].to_vec()), true)),
        b'[' => Some((LexBound::Member(arg[1..].to_vec()), false)),
        _ => None,
    }
}

/// Redis's `zslParseLexRange` (`ERR min or max not valid string range item`).
pub(super) fn lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, CmdError> {
    let err = || CmdError::err("min or max not valid string range item");
    let (min, minex) = lex_bound(min).ok_or_else(err)?;
    let (max, maxex) = lex_bound(max).ok_or_else(err)?;
    Ok(LexRange { min, max, minex, maxex })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtod_like_c() {
        let r = |s: &str| {
            let r = strtod(s.as_bytes());
            (r.value, r.used, r.erange)
        };
        assert_eq!(r("1.5"), (1.5, 3, false));
        assert_eq!(r("  -2e3x"), (-2000.0, 6, false));
        assert_eq!(r("1e"), (1.0, 1, false));
        assert_eq!(r(".5"), (0.5, 2, false));
        assert_eq!(r("5."), (5.0, 2, false));
        assert_eq!(r("."), (0.0, 0, false));
        assert_eq!(r(""), (0.0, 0, false));
        assert_eq!(r("0x10"), (16.0, 4, false));
        assert_eq!(r("0x1p-2"), (0.25, 6, false));
        assert_eq!(r("0x"), (0.0, 1, false));
        assert_eq!(r("-Infinity"), (f64::NEG_INFINITY, 9, false));
        assert_eq!(r("+inf"), (f64::INFINITY, 4, false));
        assert_eq!(r("1e400"), (f64::INFINITY, 5, true));
        assert_eq!(r("1e-400"), (0.0, 6, true));
        assert_eq!(r("0e-400"), (0.0, 6, false));
        assert!(strtod(b"nan").value.is_nan());
    }

    #[test]
    fn scores_like_string2d() {
        assert_eq!(string2d(b"1.5"), Some(1.5));
        assert_eq!(string2d(b"0x10"), Some(16.0));
        assert_eq!(string2d(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(string2d(b" 1"), None);
        assert_eq!(string2d(b"1 "), None);
        assert_eq!(string2d(b""), None);
        assert_eq!(string2d(b"nan"), None);
        assert_eq!(string2d(b"1e400"), None);
        assert_eq!(string2d(b"1e-400"), None);
        assert_eq!(string2d(b"1\0"), None);
    }

    #[test]
    fn ranges_like_redis() {
        let r = score_range(b"(1", b"+inf").unwrap();
        assert_eq!((r.min, r.minex, r.max, r.maxex), (1.0, true, f64::INFINITY, false));
        // strtod leaves "" and "(" as 0 and skips leading spaces.
        assert_eq!(score_range(b"", b"(").unwrap().max, 0.0);
        assert_eq!(score_range(b" 1", b"2").unwrap().min, 1.0);
        assert!(score_range(b"  ", b"1").is_err());
        assert!(score_range(b"nan", b"1").is_err());
        assert!(score_range(b"1x", b"1").is_err());
        assert_eq!(score_range(b"1\0x", b"1").unwrap().min, 1.0);
        assert!(lex_range(b"-", b"+").is_ok());
        assert!(lex_range(b"-a", b"+").is_err());
        assert!(lex_range(b"a", b"+").is_err());
        assert_eq!(lex_range(b"(a", b"[").unwrap().max, LexBound::Member(vec![]));
    }
}
