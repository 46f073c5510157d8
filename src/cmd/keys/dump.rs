//! DUMP and RESTORE, with Redis's payload format byte for byte:
//!
//! ```text
//! [RDB type:1][RDB-encoded value][RDB version:2 LE][CRC-64 Jones:8 LE]
//! ```
//!
//! Only strings exist so far; a payload of any other type is refused as bad data.

use bytes::Bytes;

use super::lzf;
use super::object::LRU_CLOCK_MAX;
use crate::cmd::{args, CmdError, CmdResult, Ctx, OpError};
use crate::db::{Clock, Entry, StrEncoding};
use crate::resp::Out;

/// The RDB version Redis 7.0 writes (and the newest it reads).
pub(crate) const RDB_VERSION: u16 = 10;
const RDB_TYPE_STRING: u8 = 0;

const RDB_6BITLEN: u8 = 0;
const RDB_14BITLEN: u8 = 1;
const RDB_32BITLEN: u8 = 0x80;
const RDB_64BITLEN: u8 = 0x81;
const RDB_ENCVAL: u8 = 3;
const RDB_ENC_INT8: u64 = 0;
const RDB_ENC_INT16: u64 = 1;
const RDB_ENC_INT32: u64 = 2;
const RDB_ENC_LZF: u64 = 3;

const CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

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

/// Redis's `rdbSaveRawString` with `rdbcompression yes`: short canonical
/// integers as integers, strings over 20 bytes LZF-compressed when that saves
/// at least 4 bytes, everything else verbatim. (An int-encoded value saved by
/// `rdbSaveLongLongAsStringObject` comes out the same.)
pub(crate) fn save_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 11 {
        if let Some(v) = crate::resp::parse::parse_i64(s) {
            // Only the canonical decimal form round-trips ("-0", "01" do not).
            if itoa::Buffer::new().format(v).as_bytes() == s && encode_integer(v, out) {
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
fn finish_payload(mut p: Vec<u8>) -> Vec<u8> {
    p.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = CRC64.checksum(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// The DUMP payload of a string value.
pub(crate) fn dump_string(value: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(value.len() + 16);
    p.push(RDB_TYPE_STRING);
    save_string(&mut p, value);
    finish_payload(p)
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
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn read(&mut self, n: u64) -> Option<&'a [u8]> {
        let n = usize::try_from(n).ok()?;
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len())?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Some(s)
    }

    fn byte(&mut self) -> Option<u8> {
        self.read(1).map(|b| b[0])
    }

    /// Redis's `rdbLoadLen`: (value, is an encoding rather than a length).
    fn len(&mut self) -> Option<(u64, bool)> {
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

    /// Redis's `rdbGenericLoadStringObject`.
    fn string(&mut self) -> Option<Vec<u8>> {
        let (len, encoded) = self.len()?;
        if !encoded {
            return self.read(len).map(<[u8]>::to_vec);
        }
        let v: i64 = match len {
            RDB_ENC_INT8 => self.byte()? as i8 as i64,
            RDB_ENC_INT16 => i16::from_le_bytes(self.read(2)?.try_into().ok()?) as i64,
            RDB_ENC_INT32 => i32::from_le_bytes(self.read(4)?.try_into().ok()?) as i64,
            RDB_ENC_LZF => {
                // Both lengths are read without regard to an encoding flag, as Redis does.
                let (clen, _) = self.len()?;
                let (ulen, _) = self.len()?;
                let c = self.read(clen)?;
                return lzf::decompress(c, usize::try_from(ulen).ok()?);
            }
            _ => return None,
        };
        Some(itoa::Buffer::new().format(v).as_bytes().to_vec())
    }
}

/// The string value of a verified DUMP payload, or `None` for what Redis calls
/// bad data (including every type other than string, for now).
pub(crate) fn load_payload(p: &[u8]) -> Option<Vec<u8>> {
    let mut r = Reader { buf: p, pos: 0 };
    match r.byte()? {
        RDB_TYPE_STRING => r.string(),
        _ => None,
    }
}

/// DUMP key — O(1) to find the key, O(N) in the value size.
pub(super) fn cmd_dump(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    match ctx.read(&args[1]) {
        Some(e) => {
            let payload = dump_string(e.value());
            out.bulk(&payload);
        }
        None => out.null(),
    }
    Ok(())
}

/// RESTORE's options.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RestoreOpts {
    pub replace: bool,
    pub absttl: bool,
    pub idletime: Option<i64>,
    pub freq: Option<i64>,
}

pub(crate) fn parse_restore(args: &[Bytes]) -> Result<RestoreOpts, CmdError> {
    let mut o = RestoreOpts::default();
    let mut cur = args::Cursor::new(args, 4);
    while let Some(a) = cur.next() {
        let more = cur.remaining() >= 1;
        if args::is(a, "replace") {
            o.replace = true;
        } else if args::is(a, "absttl") {
            o.absttl = true;
        } else if args::is(a, "idletime") && more && o.freq.is_none() {
            let v = args::int(cur.value()?)?;
            if v < 0 {
                return Err(CmdError::err("Invalid IDLETIME value, must be >= 0"));
            }
            o.idletime = Some(v);
        } else if args::is(a, "freq") && more && o.idletime.is_none() {
            let v = args::int(cur.value()?)?;
            if !(0..=255).contains(&v) {
                return Err(CmdError::err("Invalid FREQ value, must be >= 0 and <= 255"));
            }
            o.freq = Some(v);
        } else {
            return Err(CmdError::syntax());
        }
    }
    Ok(o)
}

/// The access time for RESTORE ... IDLETIME `idle`, as Redis's
/// `objectSetLRUOrLFU` computes it (wrapping arithmetic and 24-bit field included).
pub(crate) fn lru_for_idle(clock: Clock, idle: i64) -> u32 {
    let idle = idle.wrapping_mul(1000) / 1000;
    let mut abs = (clock.lru() as i64).wrapping_sub(idle);
    if abs < 0 {
        abs += LRU_CLOCK_MAX as i64;
    }
    (abs as u64 & 0xff_ffff) as u32
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
/// — O(1) to create the key, O(N) in the value size.
pub(super) fn cmd_restore(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let opts = parse_restore(args)?;
    let key = &args[1];
    if !opts.replace && ctx.write(key).is_some() {
        return Err(OpError::BusyKey.into());
    }
    let ttl = args::int(&args[2])?;
    if ttl < 0 {
        return Err(CmdError::err("Invalid TTL value, must be >= 0"));
    }
    let payload = &args[3];
    if !verify_payload(payload) {
        return Err(CmdError::err("DUMP payload version or checksum are wrong"));
    }
    let value = load_payload(payload).ok_or_else(|| CmdError::err("Bad data format"))?;
    if opts.replace {
        ctx.remove(key);
    }
    let now = ctx.now_ms() as i64;
    let expire_at = match ttl {
        0 => None,
        t if opts.absttl => Some(t),
        t => Some(t.wrapping_add(now)),
    };
    if expire_at.is_some_and(|at| at <= now) {
        // Already expired: the key is not created (an old one is still replaced).
        out.ok();
        return Ok(());
    }
    let mut e = Entry::new_string(key, &value, StrEncoding::for_value(&value), expire_at.map(|at| at as u64));
    // FREQ only matters under an LFU policy, which cannot be selected yet.
    e.set_access(opts.idletime.map_or(ctx.clock.lru(), |idle| lru_for_idle(ctx.clock, idle)));
    ctx.db().insert(e);
    out.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::test_util::b;

    #[test]
    fn crc_is_redis_jones() {
        assert_eq!(CRC64.checksum(b"123456789"), 0xe9c6d914c4b8d9ca);
    }

    #[test]
    fn dumps_match_redis_byte_for_byte() {
        // Payloads captured from redis-server 7.0.15 (SET k <value>; DUMP k).
        let cases: &[(&[u8], &[u8])] = &[
            (b"", b"\x00\x00\n\x00]\x9b\\@\x0f\x7f\xa2\xda"),
            (b"hello", b"\x00\x05hello\n\x00cr\xdfve4 \n"),
            (b"0", b"\x00\xc0\x00\n\x00\x98@\xa7x\xf8P\x03\x08"),
            (b"-1", b"\x00\xc0\xff\n\x00\x0c\x93~$\x85\x08\x9d\xc5"),
            (b"128", b"\x00\xc1\x80\x00\n\x00\xebz\xb3\xb5\x10\xcfKe"),
            (b"32768", b"\x00\xc2\x00\x80\x00\x00\n\x00E\xd8.\xed\xd5\xbd\xa9\x10"),
            (b"2147483648", b"\x00\n2147483648\n\x00\xe7\xb1)\xa3L\x1dv\xee"),
            (b"-0", b"\x00\x02-0\n\x00\xd5A\x1f\xd9\xd6\xd0P\xcc"),
            (b"aaaaaaaaaaaaaaaaaaaaa", b"\x00\xc3\x06\x15\x01aa\xe0\n\x00\n\x00\xfd\x0c\xb3h\x07A?h"),
            (
                b"hello world hello world hello world",
                b"\x00\xc3\x14#\x0chello world h\xe0\x0b\x0b\x01ld\n\x00w\x83\x90ii4\xac\xb7",
            ),
            (b"abcdefghijklmnopqrstuvwxyz", b"\x00\x1aabcdefghijklmnopqrstuvwxyz\n\x00\x9e\x1b?4\xab\xfc_y"),
        ];
        for (v, want) in cases {
            assert_eq!(&dump_string(v)[..], *want, "{}", String::from_utf8_lossy(v));
            assert!(verify_payload(want));
            assert_eq!(load_payload(want).as_deref(), Some(*v));
        }
    }

    #[test]
    fn lengths_round_trip() {
        for len in [0usize, 63, 64, 16383, 16384, 70_000] {
            let v: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let p = dump_string(&v);
            assert!(verify_payload(&p));
            assert_eq!(load_payload(&p), Some(v));
        }
        let mut out = Vec::new();
        save_len(&mut out, 1 << 33);
        assert_eq!(out, b"\x81\x00\x00\x00\x02\x00\x00\x00\x00");
    }

    #[test]
    fn bad_payloads() {
        let good = dump_string(b"hello");
        let mut v11 = good.clone();
        let n = v11.len();
        v11[n - 10] = 11;
        assert!(!verify_payload(&v11), "newer RDB version");
        let mut flipped = good.clone();
        flipped[n - 1] ^= 1;
        assert!(!verify_payload(&flipped));
        assert!(!verify_payload(b"123456789"));
        // A list (type 1) checks out but is not a string.
        assert_eq!(load_payload(&finish_payload(b"\x01\x01\x01a".to_vec())), None);
        // Unknown string encoding, length past the end, corrupt LZF.
        assert_eq!(load_payload(&finish_payload(b"\x00\xc4".to_vec())), None);
        assert_eq!(load_payload(&finish_payload(b"\x00\x3f".to_vec())), None);
        assert_eq!(load_payload(&finish_payload(b"\x00\xc3\x02\x10\x01a".to_vec())), None);
        assert_eq!(load_payload(&finish_payload(b"\x00\x82".to_vec())), None);
        // Hand-made LZF and integer payloads Redis would accept.
        assert_eq!(load_payload(&finish_payload(b"\x00\xc3\x06\x15\x01aa\xe0\n\x00".to_vec())), Some(vec![b'a'; 21]));
        assert_eq!(load_payload(&finish_payload(b"\x00\xc2\x00\x00\x00\x80".to_vec())), Some(b"-2147483648".to_vec()));
    }

    #[test]
    fn restore_options() {
        let p = |v: &[&str]| {
            let mut a = b(&["restore", "k", "0", "payload"]);
            a.extend(b(v));
            parse_restore(&a)
        };
        assert_eq!(
            p(&["REPLACE", "absttl", "idletime", "5"]),
            Ok(RestoreOpts { replace: true, absttl: true, idletime: Some(5), freq: None })
        );
        assert_eq!(p(&["freq", "255"]).unwrap().freq, Some(255));
        assert_eq!(p(&["idletime"]), Err(CmdError::syntax()));
        assert_eq!(p(&["freq", "5", "idletime", "5"]), Err(CmdError::syntax()));
        assert_eq!(p(&["idletime", "5", "freq", "5"]), Err(CmdError::syntax()));
        assert_eq!(p(&["idletime", "-1"]).unwrap_err().0, "ERR Invalid IDLETIME value, must be >= 0");
        assert_eq!(p(&["freq", "256"]).unwrap_err().0, "ERR Invalid FREQ value, must be >= 0 and <= 255");
        assert_eq!(p(&["freq", "x"]).unwrap_err().0, "ERR value is not an integer or out of range");
        assert_eq!(p(&["foo"]), Err(CmdError::syntax()));
    }

    #[test]
    fn idle_times_like_redis_7_0_15() {
        // Observed with the LRU clock at 130368.
        let clock = Clock::at(130_368_000);
        let idle = |lru| super::super::object::idle_seconds(130_368, lru);
        assert_eq!(idle(lru_for_idle(clock, 100)), 100);
        assert_eq!(idle(lru_for_idle(clock, 1_000_000_000)), 10_144_256);
        assert_eq!(idle(lru_for_idle(clock, 100_000_000_000_000_000)), 11_057_233);
    }
}
