//! RDB value primitives as Redis 7.0's `rdb.c` writes and reads them: lengths,
//! strings (integer and LZF encodings), doubles, and the DUMP payload footer
//! (RDB version and CRC-64).

use crate::cmd::keys::lzf;

/// The RDB version Redis 7.0 writes (and the newest it reads).
pub(crate) const RDB_VERSION: u16 = 10;

pub(super) const RDB_6BITLEN: u8 = 0;
pub(super) const RDB_14BITLEN: u8 = 1;
pub(super) const RDB_32BITLEN: u8 = 0x80;
pub(super) const RDB_64BITLEN: u8 = 0x81;
pub(super) const RDB_ENCVAL: u8 = 3;
pub(super) const RDB_ENC_INT8: u64 = 0;
pub(super) const RDB_ENC_INT16: u64 = 1;
pub(super) const RDB_ENC_INT32: u64 = 2;
pub(super) const RDB_ENC_LZF: u64 = 3;

pub(super) const CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

/// Redis's `rdbSaveLen`.
pub(crate) fn save_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8 | (RDB_6BITLEN << 6));
    } else if len < 1 << 14 {
        out.push(((len >> 8) as u8) | (RDB_14BITLEN << 6));
        out.push(len as u8);
    } else if len <= u32::MAX as u64 {
        out.push(RDB_32BITLEN);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(RDB_64BITLEN);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// Redis's `rdbEncodeInteger`: the 8/16/32-bit integer encodings.
fn encode_integer(v: i64, out: &mut Vec<u8>) -> bool {
    let enc = |t: u64| (RDB_ENCVAL << 6) | t as u8;
    if let Ok(v) = i8::try_from(v) {
        out.push(enc(RDB_ENC_INT8));
        out.push(v as u8);
    } else if let Ok(v) = i16::try_from(v) {
        out.push(enc(RDB_ENC_INT16));
        out.extend_from_slice(&v.to_le_bytes());
    } else if let Ok(v) = i32::try_from(v) {
        out.push(enc(RDB_ENC_INT32));
        out.extend_from_slice(&v.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// The value of `s` if it is an integer in canonical decimal form (what
/// Redis's `string2ll` accepts: no sign on zero, no leading zeros or spaces).
pub(super) fn canonical_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let v = crate::resp::parse::parse_i64(s)?;
    (itoa::Buffer::new().format(v).as_bytes() == s).then_some(v)
}

/// Redis's `rdbSaveRawString` with `rdbcompression yes`: short canonical
/// integers as integers, strings over 20 bytes LZF-compressed when that saves
/// at least 4 bytes, everything else verbatim. (An int-encoded value saved by
/// `rdbSaveLongLongAsStringObject` comes out the same.)
pub(crate) fn save_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 11 {
        if let Some(v) = canonical_int(s) {
            if encode_integer(v, out) {
                return;
            }
        }
    }
    if s.len() > 20 {
        if let Some(c) = lzf::compress(s, s.len() - 4) {
            out.push((RDB_ENCVAL << 6) | RDB_ENC_LZF as u8);
            save_len(out, c.len() as u64);
            save_len(out, s.len() as u64);
            out.extend_from_slice(&c);
            return;
        }
    }
    save_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// Appends the footer: RDB version and the CRC-64 of everything before it.
pub(super) fn finish_payload(mut p: Vec<u8>) -> Vec<u8> {
    p.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = CRC64.checksum(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// Redis's `verifyDumpPayload`: a known RDB version and a matching checksum.
pub(crate) fn verify_payload(p: &[u8]) -> bool {
    if p.len() < 10 {
        return false;
    }
    let footer = &p[p.len() - 10..];
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_VERSION {
        return false;
    }
    CRC64.checksum(&p[..p.len() - 8]).to_le_bytes() == footer[2..]
}

/// Reads RDB data the way Redis's `rio` buffer does: over the whole payload,
/// footer included (Redis does not stop a value from reading into it).
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// Bytes read so far.
    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn read(&mut self, n: u64) -> Option<&'a [u8]> {
        let n = usize::try_from(n).ok()?;
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len())?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Some(s)
    }

    pub fn byte(&mut self) -> Option<u8> {
        self.read(1).map(|b| b[0])
    }

    /// Redis's `rdbLoadLen`: (value, is an encoding rather than a length).
    pub fn len_enc(&mut self) -> Option<(u64, bool)> {
        let b0 = self.byte()?;
        match (b0 & 0xc0) >> 6 {
            RDB_ENCVAL => Some(((b0 & 0x3f) as u64, true)),
            RDB_6BITLEN => Some(((b0 & 0x3f) as u64, false)),
            RDB_14BITLEN => Some(((((b0 & 0x3f) as u64) << 8) | self.byte()? as u64, false)),
            _ if b0 == RDB_32BITLEN => Some((u32::from_be_bytes(self.read(4)?.try_into().ok()?) as u64, false)),
            _ if b0 == RDB_64BITLEN => Some((u64::from_be_bytes(self.read(8)?.try_into().ok()?), false)),
            _ => None,
        }
    }

    /// A length (an encoding marker where a length belongs is bad data).
    pub fn len(&mut self) -> Option<u64> {
        match self.len_enc()? {
            (n, false) => Some(n),
            (_, true) => None,
        }
    }

    /// Redis's `rdbGenericLoadStringObject`.
    pub fn string(&mut self) -> Option<Vec<u8>> {
        let (len, encoded) = self.len_enc()?;
        if !encoded {
            return self.read(len).map(<[u8]>::to_vec);
        }
        let v: i64 = match len {
            RDB_ENC_INT8 => self.byte()? as i8 as i64,
            RDB_ENC_INT16 => i16::from_le_bytes(self.read(2)?.try_into().ok()?) as i64,
            RDB_ENC_INT32 => i32::from_le_bytes(self.read(4)?.try_into().ok()?) as i64,
            RDB_ENC_LZF => {
                // Both lengths are read without regard to an encoding flag, as Redis does.
                let (clen, _) = self.len_enc()?;
                let (ulen, _) = self.len_enc()?;
                let c = self.read(clen)?;
                return lzf::decompress(c, usize::try_from(ulen).ok()?);
            }
            _ => return None,
        };
        Some(itoa::Buffer::new().format(v).as_bytes().to_vec())
    }

    /// Redis's `rdbLoadDoubleValue` (RDB_TYPE_ZSET): a length byte and the
    /// number as text, or 253/254/255 for NaN, +inf, -inf.
    pub fn text_double(&mut self) -> Option<f64> {
        match self.byte()? {
            255 => Some(f64::NEG_INFINITY),
            254 => Some(f64::INFINITY),
            253 => Some(f64::NAN),
            n => {
                let s = std::str::from_utf8(self.read(n as u64)?).ok()?;
                crate::cmd::args::parse_float(s.as_bytes())
            }
        }
    }

    /// Redis's `rdbLoadBinaryDoubleValue`.
    pub fn binary_double(&mut self) -> Option<f64> {
        Some(f64::from_le_bytes(self.read(8)?.try_into().ok()?))
    }
}
