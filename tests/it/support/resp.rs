//! A small RESP2/RESP3 reply reader for tests: finds where one reply ends in a
//! byte stream and decodes it into a tree for comparisons that ignore order.

/// One decoded reply. Aggregates keep their elements; scalars keep their text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reply {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Int(i64),
    Bulk(Vec<u8>),
    /// RESP2 `$-1`.
    NilBulk,
    Array(Vec<Reply>),
    /// RESP2 `*-1`.
    NilArray,
    /// RESP3 `_`.
    Null,
    Double(Vec<u8>),
    Bool(bool),
    BigNumber(Vec<u8>),
    BlobError(Vec<u8>),
    Verbatim(Vec<u8>),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Push(Vec<Reply>),
    /// RESP3 `|` attribute followed by the reply it annotates.
    Attribute(Vec<(Reply, Reply)>, Box<Reply>),
}

impl Reply {
    /// The elements of an array, set or push reply.
    pub fn items(&self) -> Option<&[Reply]> {
        match self {
            Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => Some(v),
            _ => None,
        }
    }

    /// The text of a bulk, simple, verbatim or double reply.
    pub fn text(&self) -> Option<String> {
        match self {
            Reply::Bulk(b) | Reply::Simple(b) | Reply::Verbatim(b) | Reply::Double(b) | Reply::Error(b) => {
                Some(String::from_utf8_lossy(b).into_owned())
            }
            Reply::Int(i) => Some(i.to_string()),
            _ => None,
        }
    }

    pub fn int(&self) -> Option<i64> {
        match self {
            Reply::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The same reply with every array/set/map sorted, for replies whose order
    /// Redis does not define (KEYS, SMEMBERS...).
    pub fn sorted(&self) -> Reply {
        match self {
            Reply::Array(v) => Reply::Array(sort_all(v)),
            Reply::Set(v) => Reply::Set(sort_all(v)),
            Reply::Push(v) => Reply::Push(sort_all(v)),
            Reply::Map(m) => {
                let mut m: Vec<(Reply, Reply)> = m.iter().map(|(k, v)| (k.sorted(), v.sorted())).collect();
                m.sort();
                Reply::Map(m)
            }
            other => other.clone(),
        }
    }
}

fn sort_all(v: &[Reply]) -> Vec<Reply> {
    let mut v: Vec<Reply> = v.iter().map(Reply::sorted).collect();
    v.sort();
    v
}

/// Parses the first complete reply in `buf`: `Ok(None)` when more bytes are
/// needed, `Ok(Some((reply, len)))` with the bytes it took, `Err` when the
/// bytes are not RESP.
pub fn parse(buf: &[u8]) -> Result<Option<(Reply, usize)>, String> {
    let Some(line_end) = find_crlf(buf) else {
        return Ok(None);
    };
    let Some(&kind) = buf.first() else {
        return Ok(None);
    };
    let line = &buf[1..line_end];
    let after = line_end + 2;
    let int = || -> Result<i64, String> {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or_else(|| format!("bad length/integer line {:?}", show(line)))
    };
    let blob = |n: i64| -> Result<Option<(Vec<u8>, usize)>, String> {
        let n = usize::try_from(n).map_err(|_| format!("negative blob length {n}"))?;
        if buf.len() < after + n + 2 {
            return Ok(None);
        }
        if &buf[after + n..after + n + 2] != b"\r\n" {
            return Err(format!("blob of length {n} not followed by CRLF"));
        }
        Ok(Some((buf[after..after + n].to_vec(), after + n + 2)))
    };
    match kind {
        b'+' => Ok(Some((Reply::Simple(line.to_vec()), after))),
        b'-' => Ok(Some((Reply::Error(line.to_vec()), after))),
        b':' => Ok(Some((Reply::Int(int()?), after))),
        b',' => Ok(Some((Reply::Double(line.to_vec()), after))),
        b'(' => Ok(Some((Reply::BigNumber(line.to_vec()), after))),
        b'_' => Ok(Some((Reply::Null, after))),
        b'#' => match line {
            b"t" => Ok(Some((Reply::Bool(true), after))),
            b"f" => Ok(Some((Reply::Bool(false), after))),
            _ => Err(format!("bad boolean {:?}", show(line))),
        },
        b'$' | b'!' | b'=' => {
            let n = int()?;
            if kind == b'$' && n == -1 {
                return Ok(Some((Reply::NilBulk, after)));
            }
            Ok(blob(n)?.map(|(data, len)| {
                let r = match kind {
                    b'$' => Reply::Bulk(data),
                    b'!' => Reply::BlobError(data),
                    _ => Reply::Verbatim(data),
                };
                (r, len)
            }))
        }
        b'*' | b'~' | b'>' => {
            let n = int()?;
            if kind == b'*' && n == -1 {
                return Ok(Some((Reply::NilArray, after)));
            }
            let Some((items, len)) = parse_items(buf, after, n)? else {
                return Ok(None);
            };
            let r = match kind {
                b'*' => Reply::Array(items),
                b'~' => Reply::Set(items),
                _ => Reply::Push(items),
            };
            Ok(Some((r, len)))
        }
        b'%' | b'|' => {
            let n = int()?;
            let Some((items, len)) = parse_items(buf, after, n.saturating_mul(2))? else {
                return Ok(None);
            };
            let mut pairs = Vec::new();
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            if kind == b'%' {
                return Ok(Some((Reply::Map(pairs), len)));
            }
            match parse(&buf[len..])? {
                Some((inner, n)) => Ok(Some((Reply::Attribute(pairs, Box::new(inner)), len + n))),
                None => Ok(None),
            }
        }
        other => Err(format!("unknown RESP type byte {:?} in {:?}", other as char, show(&buf[..buf.len().min(80)]))),
    }
}

fn parse_items(buf: &[u8], mut pos: usize, n: i64) -> Result<Option<(Vec<Reply>, usize)>, String> {
    let n = usize::try_from(n).map_err(|_| format!("negative aggregate length {n}"))?;
    let mut items = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        match parse(&buf[pos..])? {
            Some((r, len)) => {
                items.push(r);
                pos += len;
            }
            None => return Ok(None),
        }
    }
    Ok(Some((items, pos)))
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

/// Printable form of protocol bytes: text as is, CR/LF and binary escaped.
pub fn show(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

/// Encodes a command as a RESP multibulk request.
pub fn encode<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[test]
fn reader_handles_every_type() {
    let wire = b"*3\r\n$1\r\na\r\n$-1\r\n%1\r\n+k\r\n~2\r\n:1\r\n,1.5\r\n|1\r\n+a\r\n#t\r\n=7\r\ntxt:abc\r\n";
    let (r, n) = parse(wire).unwrap().unwrap();
    assert_eq!(n, 38);
    assert_eq!(r.items().unwrap().len(), 3);
    let (r, _) = parse(&wire[n..]).unwrap().unwrap();
    assert!(matches!(r, Reply::Attribute(_, _)));
    for cut in 0..n {
        assert!(parse(&wire[..cut]).unwrap().is_none(), "cut {cut}");
    }
}
