//! Stream entry IDs: `<ms>-<seq>`, ordered as the pair of 64-bit numbers,
//! and parsed as Redis's `streamGenericParseIDOrReply` parses them.

use std::fmt;

/// A stream entry ID. Ordered by `ms`, then `seq`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next ID, or None past `MAX` (Redis's `streamIncrID`).
    pub fn next(self) -> Option<StreamId> {
        match (self.seq.checked_add(1), self.ms.checked_add(1)) {
            (Some(seq), _) => Some(StreamId { ms: self.ms, seq }),
            (None, Some(ms)) => Some(StreamId { ms, seq: 0 }),
            (None, None) => None,
        }
    }

    /// The previous ID, or None before `MIN` (Redis's `streamDecrID`).
    pub fn prev(self) -> Option<StreamId> {
        match (self.seq.checked_sub(1), self.ms.checked_sub(1)) {
            (Some(seq), _) => Some(StreamId { ms: self.ms, seq }),
            (None, Some(ms)) => Some(StreamId { ms, seq: u64::MAX }),
            (None, None) => None,
        }
    }

    /// The 16-byte big-endian form Redis keys its radix tree with (and RDB
    /// stores): byte order is ID order.
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    pub fn from_be_bytes(b: [u8; 16]) -> StreamId {
        let (ms, seq) = b.split_at(8);
        StreamId {
            ms: u64::from_be_bytes(ms.try_into().unwrap_or_default()),
            seq: u64::from_be_bytes(seq.try_into().unwrap_or_default()),
        }
    }

    /// Parses an ID argument as Redis does.
    ///
    /// `-` and `+` are the smallest and largest IDs unless `strict`; a bare
    /// `<ms>` takes `missing_seq` as its sequence. With `allow_star`, `<ms>-*`
    /// is accepted and returned with `Seq::Auto` (XADD's form). Numbers are
    /// read as `string2ull` reads them, falling back to C's `strtoull`.
    pub fn parse(arg: &[u8], missing_seq: u64, strict: bool, allow_star: bool) -> Option<(StreamId, Seq)> {
        // Redis copies the argument into a 128-byte C buffer.
        if arg.len() > 127 {
            return None;
        }
        let arg = arg.split(|&b| b == 0).next().unwrap_or_default();
        match arg {
            b"-" | b"+" if strict => None,
            b"-" => Some((StreamId::MIN, Seq::Given)),
            b"+" => Some((StreamId::MAX, Seq::Given)),
            _ => {
                let (ms, seq) = match arg.iter().position(|&b| b == b'-') {
                    Some(dash) => (&arg[..dash], Some(&arg[dash + 1..])),
                    None => (arg, None),
                };
                let ms = string2ull(ms)?;
                match seq {
                    None => Some((StreamId { ms, seq: missing_seq }, Seq::Given)),
                    Some(b"*") if allow_star => Some((StreamId { ms, seq: 0 }, Seq::Auto)),
                    Some(seq) => Some((StreamId { ms, seq: string2ull(seq)? }, Seq::Given)),
                }
            }
        }
    }
}

/// Whether a parsed ID's sequence was given or is to be generated (`<ms>-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seq {
    Given,
    Auto,
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// Redis's `string2ull`: a canonical signed decimal that is not negative,
/// else whatever C's `strtoull` accepts whole (leading spaces, a sign, and a
/// `-` that wraps around).
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = crate::resp::parse::parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let mut i = s.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')).count();
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = &s[i..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = digits.iter().try_fold(0u64, |v, &d| v.checked_mul(10)?.checked_add(u64::from(d - b'0')))?;
    Some(if negative { v.wrapping_neg() } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<StreamId> {
        StreamId::parse(s.as_bytes(), 0, false, false).map(|(id, _)| id)
    }

    #[test]
    fn parses_as_redis() {
        assert_eq!(p("-"), Some(StreamId::MIN));
        assert_eq!(p("+"), Some(StreamId::MAX));
        assert_eq!(StreamId::parse(b"+", 0, true, false), None);
        assert_eq!(p("5"), Some(StreamId::new(5, 0)));
        assert_eq!(StreamId::parse(b"5", u64::MAX, false, false).unwrap().0, StreamId::new(5, u64::MAX));
        assert_eq!(p("5-3"), Some(StreamId::new(5, 3)));
        assert_eq!(p("18446744073709551615-18446744073709551615"), Some(StreamId::MAX));
        assert_eq!(p("18446744073709551616-0"), None);
        assert_eq!(p("5-"), None);
        assert_eq!(p("-5"), None);
        assert_eq!(p("5--1"), None);
        assert_eq!(p("5-1-1"), None);
        assert_eq!(p("abc"), None);
        assert_eq!(p(""), None);
        // strtoull's leniency, as Redis inherits it.
        assert_eq!(p(" 5-+3"), Some(StreamId::new(5, 3)));
        assert_eq!(p("5- -1"), Some(StreamId::new(5, u64::MAX)));
        assert_eq!(p("5-*"), None);
        assert_eq!(StreamId::parse(b"5-*", 0, false, true), Some((StreamId::new(5, 0), Seq::Auto)));
        assert_eq!(p(&"1".repeat(128)), None);
    }

    #[test]
    fn order_and_neighbours() {
        assert!(StreamId::new(1, u64::MAX) < StreamId::new(2, 0));
        assert_eq!(StreamId::new(1, u64::MAX).next(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.next(), None);
        assert_eq!(StreamId::new(2, 0).prev(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::MIN.prev(), None);
        let a = StreamId::new(7, 9);
        assert_eq!(StreamId::from_be_bytes(a.to_be_bytes()), a);
        assert!(StreamId::new(1, 300).to_be_bytes() < StreamId::new(2, 0).to_be_bytes());
        assert_eq!(a.to_string(), "7-9");
    }
}
