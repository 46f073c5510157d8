//! Incremental RESP request parser: multibulk and inline commands, Redis's limits
//! and exact protocol error texts. It never panics on any input.

use bytes::{Bytes, BytesMut};

/// Longest inline command, and longest `*N`/`$N` header line, Redis accepts (64 KiB).
pub const INLINE_MAX: usize = 64 * 1024;
/// Redis 7 caps the multibulk count at `INT_MAX`.
const MULTIBULK_MAX: i64 = i32::MAX as i64;
/// Never reserve room for more arguments than this before they arrive.
const PREALLOC_ARGS_MAX: usize = 1024;
/// Argument vectors a parser keeps for reuse, and the largest it keeps: enough
/// for deep pipelines of ordinary commands, a few KiB per connection at most.
const POOL_MAX: usize = 64;
const POOL_ARGS_MAX: usize = 8;

/// A protocol violation: the text is Redis's, sent as `-ERR Protocol error: <text>`
/// before the connection is closed. Bytes, because Redis echoes the offending
/// byte as it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub Vec<u8>);

impl ProtocolError {
    /// The whole error reply text, `ERR Protocol error: ...`.
    pub fn reply_text(&self) -> Vec<u8> {
        let mut v = b"ERR Protocol error: ".to_vec();
        v.extend_from_slice(&self.0);
        v
    }
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Protocol error: {}", String::from_utf8_lossy(&self.0))
    }
}

fn proto(msg: impl Into<Vec<u8>>) -> ProtocolError {
    ProtocolError(msg.into())
}

/// What one call to [`Parser::next`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A whole command; its arguments share the consumed part of the buffer.
    Command(Vec<Bytes>),
    /// An empty line or a `*0`/`*-1` header: consumed, nothing to run.
    Empty,
    /// More bytes are needed.
    Incomplete,
}

/// Parser limits taken from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bulk_len: i64,
    /// Unauthenticated clients get Redis's tighter limits (10 args, 16 KiB bulks).
    pub authenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bulk_len: 512 * 1024 * 1024, authenticated: true }
    }
}

/// Resumable parser state for one connection. Keeps the positions of the
/// arguments parsed so far so that a large command arriving in many reads is
/// scanned once, not once per read.
#[derive(Debug, Default)]
pub struct Parser {
    /// Arguments left to read in the current multibulk, 0 when between commands.
    remaining: usize,
    /// (start, end) of each argument parsed so far, relative to the buffer start.
    spans: Vec<(usize, usize)>,
    /// Bytes of the buffer already consumed by the current command's headers/args.
    pos: usize,
    /// Length of the bulk whose `$N` header was read, waiting for its payload.
    bulk_len: Option<usize>,
    /// Argument vectors handed back by `recycle`, reused for later commands.
    pool: Vec<Vec<Bytes>>,
}

impl Parser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes back a command's argument vector once the command has run, so
    /// the next command parsed reuses its allocation.
    pub fn recycle(&mut self, mut args: Vec<Bytes>) {
        if args.capacity() <= POOL_ARGS_MAX && self.pool.len() < POOL_MAX {
            args.clear();
            self.pool.push(args);
        }
    }

    /// Parses the next command at the front of `buf`, removing its bytes from `buf`
    /// once it is complete.
    pub fn next(&mut self, buf: &mut BytesMut, limits: Limits) -> Result<Parsed, ProtocolError> {
        if self.remaining == 0 {
            let Some(&first) = buf.first() else {
                return Ok(Parsed::Incomplete);
            };
            if first != b'*' {
                return parse_inline(buf);
            }
            let Some((n, after)) = read_line_int(buf, 0, "too big mbulk count string")? else {
                return Ok(Parsed::Incomplete);
            };
            let n = n.ok_or_else(|| proto("invalid multibulk length"))?;
            if n > MULTIBULK_MAX {
                return Err(proto("invalid multibulk length"));
            }
            if n > 10 && !limits.authenticated {
                return Err(proto("unauthenticated multibulk length"));
            }
            if n <= 0 {
                let _ = buf.split_to(after);
                return Ok(Parsed::Empty);
            }
            self.remaining = n as usize;
            self.spans.clear();
            self.spans.reserve((n as usize).min(PREALLOC_ARGS_MAX));
            self.pos = after;
            self.bulk_len = None;
        }
        while self.remaining > 0 {
            let len = match self.bulk_len {
                Some(len) => len,
                None => {
                    let Some(&first) = buf.get(self.pos) else {
                        return Ok(Parsed::Incomplete);
                    };
                    let Some((n, after)) = read_line_int(buf, self.pos, "too big bulk count string")? else {
                        return Ok(Parsed::Incomplete);
                    };
                    if first != b'$' {
                        let mut msg = b"expected '$', got '".to_vec();
                        msg.extend_from_slice(&[first, b'\'']);
                        return Err(proto(msg));
                    }
                    let n = match n {
                        Some(n) if n >= 0 && n <= limits.max_bulk_len => n,
                        _ => return Err(proto("invalid bulk length")),
                    };
                    if n > 16384 && !limits.authenticated {
                        return Err(proto("unauthenticated bulk length"));
                    }
                    self.pos = after;
                    self.bulk_len = Some(n as usize);
                    // Let a large payload arrive in one buffer instead of many regrowths.
                    if buf.capacity() < after + n as usize + 2 {
                        buf.reserve(after + n as usize + 2 - buf.len());
                    }
                    n as usize
                }
            };
            // Redis skips the two bytes after the payload without checking them.
            if buf.len() < self.pos + len + 2 {
                return Ok(Parsed::Incomplete);
            }
            self.spans.push((self.pos, self.pos + len));
            self.pos += len + 2;
            self.bulk_len = None;
            self.remaining -= 1;
        }
        let frame = buf.split_to(self.pos).freeze();
        self.pos = 0;
        let mut args = self.pool.pop().unwrap_or_default();
        args.extend(self.spans.drain(..).map(|(s, e)| frame.slice(s..e)));
        Ok(Parsed::Command(args))
    }
}

/// Reads a `*N` or `$N` header line starting at `at` (the type byte). `Ok(None)`
/// means the line is not complete yet; the inner `None` means the number did not parse.
#[allow(clippy::type_complexity)]
fn read_line_int(buf: &[u8], at: usize, too_big: &str) -> Result<Option<(Option<i64>, usize)>, ProtocolError> {
    let rest = &buf[at..];
    let Some(cr) = memchr::memchr(b'\r', rest) else {
        if rest.len() > INLINE_MAX {
            return Err(proto(too_big));
        }
        return Ok(None);
    };
    // Redis wants the byte after '\r' to be present before it looks at the line.
    if cr + 1 >= rest.len() {
        return Ok(None);
    }
    // The line may be just "\r\n" where a type byte was expected.
    let digits = rest.get(1..cr).unwrap_or(&[]);
    Ok(Some((parse_i64(digits), at + cr + 2)))
}

/// Redis's `string2ll`: optional '-', digits, no leading zeros or '+', no spaces.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

fn parse_inline(buf: &mut BytesMut) -> Result<Parsed, ProtocolError> {
    let Some(nl) = memchr::memchr(b'\n', buf) else {
        if buf.len() > INLINE_MAX {
            return Err(proto("too big inline request"));
        }
        return Ok(Parsed::Incomplete);
    };
    let line = buf.split_to(nl + 1);
    let mut end = nl;
    if end > 0 && line[end - 1] == b'\r' {
        end -= 1;
    }
    let args = split_args(&line[..end]).ok_or_else(|| proto("unbalanced quotes in request"))?;
    if args.is_empty() {
        return Ok(Parsed::Empty);
    }
    Ok(Parsed::Command(args))
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Redis's `sdssplitargs`: splits on blanks, honours "double quotes" with C escapes
/// and 'single quotes' with only \' . `None` on unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Bytes>> {
    let mut out = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            return Some(out);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && hex_val(line[i + 2]).is_some()
                    && hex_val(line[i + 3]).is_some()
                {
                    cur.push(hex_val(line[i + 2])? * 16 + hex_val(line[i + 3])?);
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    // A closing quote must be followed by a blank or the end.
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if in_sq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        i += 1;
                        break;
                    }
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(Bytes::from(cur));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        let mut p = Parser::new();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        loop {
            match p.next(&mut buf, Limits::default())? {
                Parsed::Command(a) => out.push(a.iter().map(|b| b.to_vec()).collect()),
                Parsed::Empty => {}
                Parsed::Incomplete => return Ok(out),
            }
        }
    }

    #[test]
    fn multibulk_and_inline() {
        let cmds = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n").unwrap();
        assert_eq!(cmds, vec![vec![b"GET".to_vec(), b"k".to_vec()], vec![b"PING".to_vec()]]);
    }

    #[test]
    fn error_texts_match_redis() {
        let err = |i: &[u8]| parse_all(i).unwrap_err().to_string();
        assert_eq!(err(b"*a\r\n"), "Protocol error: invalid multibulk length");
        assert_eq!(err(b"*2147483648\r\n"), "Protocol error: invalid multibulk length");
        assert_eq!(err(b"*1\r\nx\r\n"), "Protocol error: expected '$', got 'x'");
        assert_eq!(err(b"*1\r\n\r\nx"), "Protocol error: expected '$', got '\r'");
        assert_eq!(parse_all(b"*1\r\n\xff\r\n").unwrap_err().0, b"expected '$', got '\xff'");
        assert_eq!(err(b"*1\r\n$-1\r\n"), "Protocol error: invalid bulk length");
        assert_eq!(err(b"*1\r\n$536870913\r\n"), "Protocol error: invalid bulk length");
        assert_eq!(err(b"set a \"b\r\n"), "Protocol error: unbalanced quotes in request");
        assert_eq!(err(&[b'a'; INLINE_MAX + 1]), "Protocol error: too big inline request");
        let mut big = b"*".to_vec();
        big.extend(std::iter::repeat_n(b'1', INLINE_MAX + 1));
        assert_eq!(err(&big), "Protocol error: too big mbulk count string");
    }

    #[test]
    fn empty_and_negative_counts_are_skipped() {
        assert_eq!(parse_all(b"*0\r\n*-5\r\n\r\nPING\r\n").unwrap(), vec![vec![b"PING".to_vec()]]);
    }

    #[test]
    fn inline_quotes() {
        let args = split_args(br#"set "a\x41\n" 'x\'y' plain"#).unwrap();
        assert_eq!(args, vec![&b"set"[..], b"aA\n", b"x'y", b"plain"]);
        assert!(split_args(br#"set "a"b"#).is_none());
        assert!(split_args(b"set 'a").is_none());
    }

    #[test]
    fn unauthenticated_limits() {
        let mut p = Parser::new();
        let lim = Limits { authenticated: false, ..Limits::default() };
        let mut buf = BytesMut::from(&b"*11\r\n"[..]);
        assert_eq!(p.next(&mut buf, lim).unwrap_err().0, b"unauthenticated multibulk length");
        let mut p = Parser::new();
        let mut buf = BytesMut::from(&b"*1\r\n$16385\r\n"[..]);
        assert_eq!(p.next(&mut buf, lim).unwrap_err().0, b"unauthenticated bulk length");
    }

    #[test]
    fn string2ll_rules() {
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        for bad in [&b"01"[..], b"+1", b" 1", b"", b"-", b"-0", b"1a"] {
            assert_eq!(parse_i64(bad), None, "{:?}", bad);
        }
    }

    proptest::proptest! {
        /// Any split of a valid stream into two reads yields the same commands.
        #[test]
        fn split_at_every_byte(args in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..20), 1..5)) {
            let mut wire = Vec::new();
            wire.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
            for a in &args {
                wire.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                wire.extend_from_slice(a);
                wire.extend_from_slice(b"\r\n");
            }
            wire.extend_from_slice(b"PING\r\n");
            for cut in 0..=wire.len() {
                let mut p = Parser::new();
                let mut buf = BytesMut::from(&wire[..cut]);
                let mut got = Vec::new();
                let feed = |buf: &mut BytesMut, p: &mut Parser, got: &mut Vec<Vec<Bytes>>| loop {
                    match p.next(buf, Limits::default()).unwrap() {
                        Parsed::Command(a) => got.push(a),
                        Parsed::Empty => {}
                        Parsed::Incomplete => break,
                    }
                };
                feed(&mut buf, &mut p, &mut got);
                buf.extend_from_slice(&wire[cut..]);
                feed(&mut buf, &mut p, &mut got);
                proptest::prop_assert_eq!(got.len(), 2);
                let want: Vec<Bytes> = args.iter().map(|a| Bytes::from(a.clone())).collect();
                proptest::prop_assert_eq!(&got[0], &want);
            }
        }

        /// Arbitrary bytes never panic the parser.
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let mut p = Parser::new();
            let mut buf = BytesMut::from(&data[..]);
            for _ in 0..64 {
                match p.next(&mut buf, Limits::default()) {
                    Ok(Parsed::Incomplete) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        }
    }
}
