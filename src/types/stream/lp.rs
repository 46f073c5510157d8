//! The listpack encoding of one stream node, as Redis's `listpack.c` writes
//! it: a 6-byte header (total bytes, element count), elements each followed
//! by their back-length, and a 0xFF end byte. Strings that are canonical
//! integers are stored as integers, as `lpAppend` does, so a node is
//! byte-identical to the listpack Redis builds from the same commands.
//!
//! Decoding never panics: a malformed buffer reads as `None`.

use std::borrow::Cow;

pub const HDR: usize = 6;
pub const EOF: u8 = 0xff;
/// The element count in the header when it does not fit 16 bits.
pub const NUMELE_UNKNOWN: u16 = u16::MAX;

/// One listpack element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem<'a> {
    Str(&'a [u8]),
    Int(i64),
}

impl<'a> Elem<'a> {
    /// The element as Redis hands it out: integers in decimal.
    pub fn bytes(self) -> Cow<'a, [u8]> {
        match self {
            Elem::Str(s) => Cow::Borrowed(s),
            Elem::Int(v) => Cow::Owned(itoa::Buffer::new().format(v).as_bytes().to_vec()),
        }
    }

    /// The element as an integer (Redis's `lpGetInteger`).
    pub fn int(self) -> Option<i64> {
        match self {
            Elem::Int(v) => Some(v),
            Elem::Str(s) => crate::resp::parse::parse_i64(s),
        }
    }

    /// Whether the element reads as `s`.
    pub fn eq_bytes(self, s: &[u8]) -> bool {
        match self {
            Elem::Str(x) => x == s,
            Elem::Int(v) => itoa::Buffer::new().format(v).as_bytes() == s,
        }
    }

    /// Bytes of the element's text form.
    pub fn text_len(self) -> usize {
        match self {
            Elem::Str(s) => s.len(),
            Elem::Int(v) => itoa::Buffer::new().format(v).len(),
        }
    }
}

/// An empty listpack (its buffer exactly its size).
pub fn new_lp() -> Vec<u8> {
    let mut lp = vec![0u8; HDR + 1];
    lp[HDR] = EOF;
    set_header(&mut lp, 0);
    lp
}

fn set_header(lp: &mut [u8], count: u16) {
    let total = lp.len() as u32;
    lp[..4].copy_from_slice(&total.to_le_bytes());
    lp[4..6].copy_from_slice(&count.to_le_bytes());
}

/// The header's element count (`NUMELE_UNKNOWN` past 65534).
pub fn header_count(lp: &[u8]) -> u16 {
    lp.get(4..6).map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
}

/// Redis's `lpEncodeBacklen`.
/// Redis's `lpEncodeBacklen`.
pub fn push_backlen(l: usize, out: &mut Vec<u8>) {
    let l = l as u64;
    let n = match l {
        0..=127 => 1,
        128..16383 => 2,
        16383..2097151 => 3,
        2097151..268435455 => 4,
        _ => 5,
    };
    for i in (0..n).rev() {
        let b = ((l >> (7 * i)) & 127) as u8;
        out.push(if i == n - 1 { b } else { b | 128 });
    }
}

/// Appends the encoding of an integer element, with its back-length.
pub fn encode_int(v: i64, out: &mut Vec<u8>) {
    let start = out.len();
    match v {
        0..=127 => out.push(v as u8),
        -4096..=4095 => {
            let u = (v as u64) & 0x1fff;
            out.extend_from_slice(&[0xc0 | (u >> 8) as u8, u as u8]);
        }
        -32768..=32767 => {
            out.push(0xf1);
            out.extend_from_slice(&(v as i16).to_le_bytes());
        }
        -8_388_608..=8_388_607 => {
            out.push(0xf2);
            out.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        }
        _ if i32::try_from(v).is_ok() => {
            out.push(0xf3);
            out.extend_from_slice(&(v as i32).to_le_bytes());
        }
        _ => {
            out.push(0xf4);
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    let len = out.len() - start;
    push_backlen(len, out);
}

/// Appends the encoding of a string element as `lpAppend` stores it: a
/// canonical integer as an integer.
pub fn encode_str(s: &[u8], out: &mut Vec<u8>) {
    if let Some(v) = crate::resp::parse::parse_i64(s) {
        return encode_int(v, out);
    }
    let start = out.len();
    let n = s.len();
    if n < 64 {
        out.push(0x80 | n as u8);
    } else if n < 4096 {
        out.extend_from_slice(&[0xe0 | (n >> 8) as u8, n as u8]);
    } else {
        out.push(0xf0);
        out.extend_from_slice(&(n as u32).to_le_bytes());
    }
    out.extend_from_slice(s);
    let len = out.len() - start;
    push_backlen(len, out);
}

/// Bytes `encode_str` would write for `s`.
pub fn encoded_len(s: &[u8]) -> usize {
    let mut v = Vec::new();
    encode_str(s, &mut v);
    v.len()
}

/// A little-endian unsigned integer of up to 8 bytes.
pub fn le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0u64, |acc, &x| acc << 8 | x as u64)
}

/// Sign-extends the low `bits` bits of `v`.
pub fn sext(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

fn backlen_size(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..16383 => 2,
        16383..2097151 => 3,
        2097151..268435455 => 4,
        _ => 5,
    }
}

/// The element at `p` and the offset of the next one, or `None` at the end
/// byte or on a malformed element.
pub fn decode(lp: &[u8], p: usize) -> Option<(Elem<'_>, usize)> {
    decode_raw(lp, p).map(|(e, len)| (e, p + len + backlen_size(len)))
}

/// The element at `p` and the size of its encoding (without back-length).
fn decode_raw(lp: &[u8], p: usize) -> Option<(Elem<'_>, usize)> {
    let end = lp.len().checked_sub(1)?;
    if p >= end {
        return None;
    }
    let b = lp[p];
    let field = |off: usize, n: usize| lp.get(p + off..p + off + n).filter(|_| p + off + n <= end);
    let (e, len) = match b {
        0x00..=0x7f => (Elem::Int(b as i64), 1),
        0x80..=0xbf => {
            let n = (b & 0x3f) as usize;
            (Elem::Str(field(1, n)?), 1 + n)
        }
        0xc0..=0xdf => (Elem::Int(sext(((b & 0x1f) as u64) << 8 | *field(1, 1)?.first()? as u64, 13)), 2),
        0xe0..=0xef => {
            let n = ((b & 0x0f) as usize) << 8 | *field(1, 1)?.first()? as usize;
            (Elem::Str(field(2, n)?), 2 + n)
        }
        0xf0 => {
            let n = usize::try_from(le(field(1, 4)?)).ok()?;
            (Elem::Str(field(5, n)?), 5 + n)
        }
        0xf1 => (Elem::Int(sext(le(field(1, 2)?), 16)), 3),
        0xf2 => (Elem::Int(sext(le(field(1, 3)?), 24)), 4),
        0xf3 => (Elem::Int(sext(le(field(1, 4)?), 32)), 5),
        0xf4 => (Elem::Int(le(field(1, 8)?) as i64), 9),
        _ => return None,
    };
    (p + len + backlen_size(len) <= end).then_some((e, len))
}

/// Offset of the element after the one at `p`.
pub fn skip(lp: &[u8], p: usize) -> Option<usize> {
    decode(lp, p).map(|(_, n)| n)
}

/// Checks a listpack whole: header, every element and back-length, the
/// count. Returns its elements' count.
pub fn validate(lp: &[u8]) -> Option<usize> {
    if lp.len() < HDR + 1 || le(&lp[..4]) != lp.len() as u64 || lp[lp.len() - 1] != EOF {
        return None;
    }
    let mut p = HDR;
    let mut n = 0usize;
    while p < lp.len() - 1 {
        let (_, len) = decode_raw(lp, p)?;
        let next = p + len + backlen_size(len);
        // The back-length must say what the element takes.
        let mut want = Vec::with_capacity(5);
        push_backlen(len, &mut want);
        if lp.get(next - want.len()..next)? != want {
            return None;
        }
        p = next;
        n += 1;
    }
    let declared = header_count(lp);
    (declared == NUMELE_UNKNOWN || declared as usize == n).then_some(n)
}

/// Appends encoded elements (`enc`, holding `n` of them) at the end. The
/// buffer grows by exactly what it needs, as Redis's `lpInsert` reallocates.
pub fn append(lp: &mut Vec<u8>, enc: &[u8], n: usize) {
    lp.pop();
    lp.reserve_exact(enc.len() + 1);
    lp.extend_from_slice(enc);
    lp.push(EOF);
    let count = header_count(lp);
    let count = if count == NUMELE_UNKNOWN { count } else { (count as usize + n).min(NUMELE_UNKNOWN as usize) as u16 };
    set_header(lp, count);
}

/// Replaces the element at `p` with the integer `v` (`lpReplaceInteger`);
/// returns the change in the buffer's size.
pub fn replace_int(lp: &mut Vec<u8>, p: usize, v: i64) -> isize {
    let Some(next) = skip(lp, p) else { return 0 };
    let mut enc = Vec::with_capacity(10);
    encode_int(v, &mut enc);
    let delta = enc.len() as isize - (next - p) as isize;
    if delta == 0 {
        lp[p..next].copy_from_slice(&enc);
    } else {
        // Exact growth: `splice` alone would double the buffer.
        lp.reserve_exact(delta.max(0) as usize);
        lp.splice(p..next, enc);
    }
    let count = header_count(lp);
    set_header(lp, count);
    delta
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_encoding() {
        let ints = [
            0i64,
            127,
            128,
            -1,
            4095,
            -4096,
            4096,
            32767,
            -32768,
            40000,
            8_388_607,
            -8_388_609,
            i32::MAX as i64,
            i64::MIN,
            i64::MAX,
        ];
        let mut lp = new_lp();
        let mut enc = Vec::new();
        for v in ints {
            encode_int(v, &mut enc);
        }
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        for s in [&b"abc"[..], b"", &mid, &long, b"007", b"-0", b"12"] {
            encode_str(s, &mut enc);
        }
        append(&mut lp, &enc, ints.len() + 7);
        assert_eq!(validate(&lp), Some(ints.len() + 7));
        let mut p = HDR;
        let mut got = Vec::new();
        while let Some((e, n)) = decode(&lp, p) {
            got.push(e.bytes().into_owned());
            p = n;
        }
        let mut want: Vec<Vec<u8>> = ints.iter().map(|v| v.to_string().into_bytes()).collect();
        for s in [&b"abc"[..], b"", &mid, &long, b"007", b"-0", b"12"] {
            want.push(s.to_vec());
        }
        assert_eq!(got, want);
        // "12" is stored as an integer.
        assert_eq!(decode(&lp, lp.len() - 3).map(|x| x.0), Some(Elem::Int(12)));
        // Replacing with a wider integer moves the rest.
        let d = replace_int(&mut lp, HDR, 1_000_000);
        assert_eq!(d, 3);
        assert_eq!(validate(&lp), Some(ints.len() + 7));
        assert_eq!(decode(&lp, HDR).unwrap().0, Elem::Int(1_000_000));
    }

    #[test]
    fn malformed_is_none() {
        assert_eq!(validate(&[]), None);
        let mut lp = new_lp();
        let mut enc = Vec::new();
        encode_str(b"hello", &mut enc);
        append(&mut lp, &enc, 1);
        for cut in 0..lp.len() {
            let mut bad = lp.clone();
            bad[cut] ^= 0x55;
            let _ = validate(&bad);
            let _ = decode(&bad, HDR);
        }
        assert_eq!(decode(&lp[..lp.len() - 2], HDR), None);
    }
}
