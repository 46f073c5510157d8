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
