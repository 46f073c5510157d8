//! Import of Redis RDB files (format versions 1 to 11, written by Redis up to
//! 7.2), so a Redis data directory can be served by Tessera as it is.
//!
//! A file is read in two passes over the bytes in memory:
//!
//! 1. a structural walk finds every opcode, key and value extent without
//!    decoding anything, and then checks the CRC-64 after the EOF opcode; a
//!    truncated or damaged file is refused here, before any key is handed out;
//! 2. the same walk again decodes each key and value (values through DUMP's
//!    codec, `crate::cmd::keys::dump`) and hands it to the caller.
//!
//! Every length field is checked against the bytes that remain before it is
//! used, so no input can make the reader allocate more than the file holds
//! (LZF output is capped by what the compressed bytes can expand to).
//!
//! Streams (types 15, 19 and 21) load with their consumer groups; module
//! values are parsed only to be skipped: they are named in
//! [`Summary::skipped`]. Keys that expired before `now_ms` are dropped, as a
//! Redis master does when it loads a file.

use crate::cmd::keys::dump::{read_value, Reader, Restored};
use crate::types::{Limits, Value};

/// The newest RDB format version this reader knows (Redis 7.2).
pub const MAX_VERSION: u32 = 11;

const OPCODE_FUNCTION2: u8 = 0xf5;
const OPCODE_FUNCTION: u8 = 0xf6;
const OPCODE_MODULE_AUX: u8 = 0xf7;
const OPCODE_IDLE: u8 = 0xf8;
const OPCODE_FREQ: u8 = 0xf9;
const OPCODE_AUX: u8 = 0xfa;
const OPCODE_RESIZEDB: u8 = 0xfb;
const OPCODE_EXPIRETIME_MS: u8 = 0xfc;
const OPCODE_EXPIRETIME: u8 = 0xfd;
const OPCODE_SELECTDB: u8 = 0xfe;
const OPCODE_EOF: u8 = 0xff;

const TYPE_MODULE_PRE_GA: u8 = 6;
const TYPE_MODULE_2: u8 = 7;
const TYPE_STREAM_LISTPACKS: u8 = 15;
const TYPE_STREAM_LISTPACKS_2: u8 = 19;
const TYPE_STREAM_LISTPACKS_3: u8 = 21;

/// Opcodes of a module's self-describing serialization (`RDB_MODULE_OPCODE_*`).
const MODULE_OPCODE_EOF: u64 = 0;
const MODULE_OPCODE_SINT: u64 = 1;
const MODULE_OPCODE_UINT: u64 = 2;
const MODULE_OPCODE_FLOAT: u64 = 3;
const MODULE_OPCODE_DOUBLE: u64 = 4;
const MODULE_OPCODE_STRING: u64 = 5;

/// A stream ID as stored raw in consumer-group PELs (ms and seq, big endian).
const STREAM_ID_LEN: u64 = 16;

const CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

/// What a load found besides the keys it handed out.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The file's RDB format version.
    pub version: u32,
    /// Keys handed to the caller.
    pub keys: u64,
    /// Keys already expired at `now_ms`, dropped.
    pub expired: u64,
    /// What was read but not loaded, one line each (stream keys, module
    /// values and module auxiliary data, empty keys).
    pub skipped: Vec<String>,
    /// The code of every function library, as `FUNCTION LOAD` takes it.
    pub functions: Vec<Vec<u8>>,
    /// The AUX fields (`redis-ver`, `ctime`, `used-mem`, `repl-id`, ...).
    pub aux: Vec<(String, String)>,
}

/// Why a file cannot be loaded. Offsets count bytes from the start of the file.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum RdbError {
    #[error("RDB format version {0} is not supported (Tessera reads versions 1 to {MAX_VERSION}, Redis up to 7.2)")]
    Version(u32),
    #[error("corrupt RDB file at byte {offset}: {why}")]
    Corrupt { offset: u64, why: String },
    #[error("RDB checksum mismatch: the file was damaged after Redis wrote it")]
    Checksum,
    #[error("RDB file truncated: it ends inside the item that starts at byte {offset}")]
    Truncated { offset: u64 },
}

fn corrupt(offset: usize, why: impl Into<String>) -> RdbError {
    RdbError::Corrupt { offset: offset as u64, why: why.into() }
}

/// Whether `bytes` starts like an RDB file: `REDIS` and a 4-digit version.
pub fn is_rdb(bytes: &[u8]) -> bool {
    bytes.len() >= 9 && bytes.starts_with(b"REDIS") && bytes[5..9].iter().all(u8::is_ascii_digit)
}

/// A key's value as read from an RDB file, for callers outside the crate.
#[derive(Debug)]
pub enum RdbValue {
    String(Vec<u8>),
    Collection(Value),
}

/// Reads an RDB file and hands each live key to `f` with its database, its
/// absolute expiry in Unix milliseconds and its value; collections are built
/// in the encodings `lim` calls for.
///
/// The file's structure, length and checksum are checked before `f` is first
/// called. Only a value that is well framed but malformed inside (possible
/// only in a file saved without a checksum, or written wrongly) can fail the
/// load after some keys were handed out; a caller must then discard them.
/// Databases are passed as the file numbers them: the caller checks them
/// against its own `databases`.
pub(crate) fn load(
    bytes: &[u8],
    lim: &Limits,
    now_ms: u64,
    f: impl FnMut(usize, &[u8], Option<u64>, Restored),
) -> Result<Summary, RdbError> {
    load_where(bytes, lim, now_ms, |_| true, f)
}

/// [`load`], decoding only the values of keys `keep` accepts (a shard
/// loading the keys it owns need not build everyone else's). The rest of
/// the summary (`expired`, `skipped`, `functions`, `aux`) covers the whole
/// file; `keys` counts the keys handed out.
pub(crate) fn load_where(
    bytes: &[u8],
    lim: &Limits,
    now_ms: u64,
    mut keep: impl FnMut(&[u8]) -> bool,
    mut f: impl FnMut(usize, &[u8], Option<u64>, Restored),
) -> Result<Summary, RdbError> {
    let version = header(bytes)?;
    let eof = walk(bytes, version, |_| Ok(()))?;
    verify_checksum(bytes, version, eof)?;
    let mut sum = Summary { version, ..Summary::default() };
    walk(bytes, version, |ev| {
        match ev {
            Event::Aux { key, value } => {
                let text = |s: Str<'_>| s.decode().map(|v| String::from_utf8_lossy(&v).into_owned());
                sum.aux.push((text(key)?, text(value)?));
            }
            Event::Function(code) => sum.functions.push(code.decode()?),
            Event::ModuleAux { name } => {
                sum.skipped.push(format!("auxiliary data of module type '{name}' (modules are not supported)"))
            }
            Event::Key { db, key, expire_at, value } => {
                let k = key.decode()?;
                if expire_at.is_some_and(|at| at <= now_ms) {
                    sum.expired += 1;
                    return Ok(());
                }
                match value {
                    Body::Value { .. } if !keep(&k) => {}
                    Body::Value { at, t, raw } => match decode_value(t, raw, lim) {
                        Some(v) => {
                            sum.keys += 1;
                            f(db, &k, expire_at, v);
                        }
                        _ if is_empty_value(t, raw) => sum.skipped.push(format!(
                            "empty {} key '{}' in db {db} (Redis skips empty keys too)",
                            type_name(t),
                            show(&k)
                        )),
                        _ => {
                            return Err(corrupt(
                                at,
                                format!("bad {} value (RDB type {t}) for key '{}'", type_name(t), show(&k)),
                            ))
                        }
                    },
                    Body::Module { name } => sum.skipped.push(format!(
                        "key '{}' in db {db} holds a value of module type '{name}' (modules are not supported)",
                        show(&k)
                    )),
                }
            }
        }
        Ok(())
    })?;
    Ok(sum)
}

/// Decodes a value framed by the walk (`raw` is what follows the key),
/// which must use all of its bytes.
fn decode_value(t: u8, raw: &[u8], lim: &Limits) -> Option<Restored> {
    if t == 0 {
        return Str { at: 0, raw }.decode().ok().map(Restored::String);
    }
    // DUMP's codec reads the type byte itself; in the file the key sits
    // between the two.
    let mut typed = Vec::with_capacity(raw.len() + 1);
    typed.push(t);
    typed.extend_from_slice(raw);
    let mut r = Reader::new(&typed);
    read_value(&mut r, lim).filter(|_| r.pos() == typed.len())
}

/// [`load`] with values as public types, for callers outside the crate
/// (integration tests, fuzz targets, tools).
pub fn load_values(
    bytes: &[u8],
    lim: &Limits,
    now_ms: u64,
    mut f: impl FnMut(usize, &[u8], Option<u64>, RdbValue),
) -> Result<Summary, RdbError> {
    load(bytes, lim, now_ms, |db, key, at, v| {
        let v = match v {
            Restored::String(s) => RdbValue::String(s),
            Restored::Value(v) => RdbValue::Collection(v),
        };
        f(db, key, at, v)
    })
}

/// The version in the header `REDIS0011`.
fn header(bytes: &[u8]) -> Result<u32, RdbError> {
    if bytes.len() < 9 && b"REDIS0000".starts_with(&bytes[..bytes.len().min(5)]) {
        return Err(RdbError::Truncated { offset: 0 });
    }
    if !is_rdb(bytes) {
        return Err(corrupt(0, "not an RDB file (no REDIS signature and version)"));
    }
    let version = bytes[5..9].iter().fold(0u32, |v, d| v * 10 + u32::from(d - b'0'));
    if !(1..=MAX_VERSION).contains(&version) {
        return Err(RdbError::Version(version));
    }
    Ok(version)
}

/// Checks the CRC-64 that follows the EOF opcode at `eof` (RDB 5 and later;
/// zero means Redis saved with `rdbchecksum no`). Bytes after it are ignored,
/// as Redis ignores them.
fn verify_checksum(bytes: &[u8], version: u32, eof: usize) -> Result<(), RdbError> {
    if version < 5 {
        return Ok(());
    }
    let end = eof + 1;
    let stored = bytes.get(end..end + 8).ok_or(RdbError::Truncated { offset: end as u64 })?;
    let stored = u64::from_le_bytes(stored.try_into().map_err(|_| RdbError::Truncated { offset: end as u64 })?);
    if stored != 0 && stored != CRC64.checksum(&bytes[..end]) {
        return Err(RdbError::Checksum);
    }
    Ok(())
}

/// An RDB string as stored (possibly integer- or LZF-encoded), not yet decoded.
#[derive(Clone, Copy)]
struct Str<'a> {
    at: usize,
    raw: &'a [u8],
}

impl Str<'_> {
    fn decode(self) -> Result<Vec<u8>, RdbError> {
        Reader::new(self.raw).string().ok_or_else(|| corrupt(self.at, "bad compressed string"))
    }
}

/// A function library's code, in either of the two layouts Redis 7.0 used.
enum Function<'a> {
    /// `FUNCTION2`: the code as `FUNCTION LOAD` takes it.
    Code(Str<'a>),
    /// `FUNCTION` (7.0 release candidates): name, engine and code apart.
    Parts { name: Str<'a>, engine: Str<'a>, code: Str<'a> },
}

impl Function<'_> {
    /// The code, with the old layout's name and engine put back into its
    /// shebang line as Redis does when it meets one.
    fn decode(self) -> Result<Vec<u8>, RdbError> {
        match self {
            Function::Code(s) => s.decode(),
            Function::Parts { name, engine, code } => {
                let mut out = b"#!".to_vec();
                out.extend_from_slice(&engine.decode()?);
                out.extend_from_slice(b" name=");
                out.extend_from_slice(&name.decode()?);
                out.push(b'\n');
                out.extend_from_slice(&code.decode()?);
                Ok(out)
            }
        }
    }
}

/// What a key holds, as framed by the walk.
enum Body<'a> {
    /// A type DUMP's codec reads: its type byte is at `at`, its encoding
    /// (after the key) is `raw`.
    Value {
        at: usize,
        t: u8,
        raw: &'a [u8],
    },
    Module {
        name: String,
    },
}

enum Event<'a> {
    Aux { key: Str<'a>, value: Str<'a> },
    Function(Function<'a>),
    ModuleAux { name: String },
    Key { db: usize, key: Str<'a>, expire_at: Option<u64>, value: Body<'a> },
}

/// Walks the file's opcodes and values after the header, calling `visit` for
/// each, and returns the offset of the EOF opcode.
fn walk<'a>(
    bytes: &'a [u8],
    version: u32,
    mut visit: impl FnMut(Event<'a>) -> Result<(), RdbError>,
) -> Result<usize, RdbError> {
    let mut c = Cur { b: bytes, pos: 9 };
    let mut db = 0usize;
    let mut expire_at: Option<u64> = None;
    loop {
        let at = c.pos;
        let t = c.byte()?;
        match t {
            OPCODE_EOF => return Ok(at),
            OPCODE_SELECTDB => {
                let n = c.len()?;
                db = usize::try_from(n).map_err(|_| corrupt(at, format!("database number {n} is out of range")))?;
            }
            OPCODE_RESIZEDB => {
                c.len()?;
                c.len()?;
            }
            OPCODE_EXPIRETIME_MS => {
                let ms = i64::from_le_bytes(c.array()?);
                expire_at = Some(ms.max(0) as u64);
            }
            OPCODE_EXPIRETIME => {
                let s = i32::from_le_bytes(c.array()?);
                expire_at = Some((s.max(0) as u64) * 1000);
            }
            // Eviction hints: Tessera keeps its own access times.
            OPCODE_IDLE => {
                c.len()?;
            }
            OPCODE_FREQ => {
                c.byte()?;
            }
            OPCODE_AUX => {
                let key = c.string()?;
                let value = c.string()?;
                visit(Event::Aux { key, value })?;
            }
            OPCODE_MODULE_AUX => {
                let id = c.len()?;
                let when_at = c.pos;
                if c.len()? != MODULE_OPCODE_UINT {
                    return Err(corrupt(when_at, "module aux data without its 'when' field"));
                }
                c.len()?;
                c.skip_module_body()?;
                visit(Event::ModuleAux { name: module_name(id) })?;
            }
            OPCODE_FUNCTION2 => visit(Event::Function(Function::Code(c.string()?)))?,
            OPCODE_FUNCTION => {
                let name = c.string()?;
                let engine = c.string()?;
                if c.len()? != 0 {
                    c.string()?; // The description, which the code's shebang line cannot hold.
                }
                let code = c.string()?;
                visit(Event::Function(Function::Parts { name, engine, code }))?;
            }
            0xf0..=0xf4 => return Err(corrupt(at, format!("unknown RDB opcode 0x{t:02x}"))),
            _ => {
                let key = c.string()?;
                let value = c.value(at, t, version)?;
                visit(Event::Key { db, key, expire_at: expire_at.take(), value })?;
            }
        }
    }
}

/// A cursor over the file that frames items without decoding them; every
/// read checks the bytes that remain first.
struct Cur<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cur<'a> {
    /// The next `n` bytes; a field that runs past the end is a truncation at
    /// the field's start.
    fn take(&mut self, n: u64) -> Result<&'a [u8], RdbError> {
        let truncated = RdbError::Truncated { offset: self.pos as u64 };
        let n = usize::try_from(n).map_err(|_| truncated.clone())?;
        let end = self.pos.checked_add(n).filter(|&e| e <= self.b.len()).ok_or(truncated)?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn skip(&mut self, n: u64) -> Result<(), RdbError> {
        self.take(n).map(drop)
    }

    fn byte(&mut self) -> Result<u8, RdbError> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], RdbError> {
        let at = self.pos;
        self.take(N as u64)?.try_into().map_err(|_| RdbError::Truncated { offset: at as u64 })
    }

    /// Redis's `rdbLoadLen`: (value, is a string encoding rather than a length).
    fn len_enc(&mut self) -> Result<(u64, bool), RdbError> {
        let at = self.pos;
        let b0 = self.byte()?;
        Ok(match b0 >> 6 {
            0 => ((b0 & 0x3f) as u64, false),
            1 => ((((b0 & 0x3f) as u64) << 8) | self.byte()? as u64, false),
            3 => ((b0 & 0x3f) as u64, true),
            _ if b0 == 0x80 => (u32::from_be_bytes(self.array()?) as u64, false),
            _ if b0 == 0x81 => (u64::from_be_bytes(self.array()?), false),
            _ => return Err(corrupt(at, format!("unknown length encoding 0x{b0:02x}"))),
        })
    }

    fn len(&mut self) -> Result<u64, RdbError> {
        let at = self.pos;
        match self.len_enc()? {
            (n, false) => Ok(n),
            (_, true) => Err(corrupt(at, "a string encoding where a length belongs")),
        }
    }

    /// Frames one string (plain, integer or LZF) without decoding it.
    fn string(&mut self) -> Result<Str<'a>, RdbError> {
        let at = self.pos;
        match self.len_enc()? {
            (n, false) => self.skip(n)?,
            (0, true) => self.skip(1)?,
            (1, true) => self.skip(2)?,
            (2, true) => self.skip(4)?,
            (3, true) => {
                // Both lengths are read without regard to an encoding flag, as Redis does.
                let (clen, _) = self.len_enc()?;
                self.len_enc()?;
                self.skip(clen)?;
            }
            (e, true) => return Err(corrupt(at, format!("unknown string encoding {e}"))),
        }
        Ok(Str { at, raw: &self.b[at..self.pos] })
    }

    /// `n` repetitions of `item`; each consumes at least one byte, so a huge
    /// count fails at the end of the file instead of looping on.
    fn repeat(&mut self, n: u64, mut item: impl FnMut(&mut Self) -> Result<(), RdbError>) -> Result<(), RdbError> {
        for _ in 0..n {
            item(self)?;
        }
        Ok(())
    }

    /// Frames the value of RDB type `t` whose type byte is at `at`.
    fn value(&mut self, at: usize, t: u8, version: u32) -> Result<Body<'a>, RdbError> {
        let start = self.pos;
        match t {
            // String; set listpack (RDB 11); zipmap, ziplist, intset and listpack blobs.
            0 | 9..=13 | 16 | 17 | 20 => {
                self.string()?;
            }
            // List, set, and quicklist of ziplists: strings.
            1 | 2 | 14 => {
                let n = self.len()?;
                self.repeat(n, |c| c.string().map(drop))?;
            }
            // Sorted set with text scores (253-255 are NaN and infinities).
            3 => {
                let n = self.len()?;
                self.repeat(n, |c| {
                    c.string()?;
                    match c.byte()? {
                        253..=255 => Ok(()),
                        len => c.skip(len as u64),
                    }
                })?;
            }
            4 => {
                let n = self.len()?;
                self.repeat(n, |c| c.string().and_then(|_| c.string()).map(drop))?;
            }
            // Sorted set with binary scores.
            5 => {
                let n = self.len()?;
                self.repeat(n, |c| c.string().and_then(|_| c.skip(8)))?;
            }
            // Quicklist of listpacks: container kind, then the node.
            18 => {
                let n = self.len()?;
                self.repeat(n, |c| c.len().and_then(|_| c.string()).map(drop))?;
            }
            TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 | TYPE_STREAM_LISTPACKS_3 => {
                self.skip_stream(t)?;
            }
            TYPE_MODULE_2 => {
                let id = self.len()?;
                self.skip_module_body()?;
                return Ok(Body::Module { name: module_name(id) });
            }
            TYPE_MODULE_PRE_GA => {
                return Err(corrupt(
                    at,
                    "a module value in the pre-GA module format (RDB type 6), which only its module can read",
                ))
            }
            _ => {
                return Err(corrupt(
                    at,
                    format!("unknown value type {t} (this RDB {version} file may need a newer Tessera)"),
                ))
            }
        }
        Ok(Body::Value { at, t, raw: &self.b[start..self.pos] })
    }

    /// Frames a stream as `rdbLoadObject` reads types 15, 19 and 21.
    fn skip_stream(&mut self, t: u8) -> Result<(), RdbError> {
        let nodes = self.len()?;
        self.repeat(nodes, |c| {
            let at = c.pos;
            if c.string()?.decode()?.len() != STREAM_ID_LEN as usize {
                return Err(corrupt(at, "a stream node key that is not a stream ID"));
            }
            c.string().map(drop)
        })?;
        // Length and last ID; then first ID, max deleted ID and entries added.
        let fields = if t == TYPE_STREAM_LISTPACKS { 3 } else { 8 };
        self.repeat(fields, |c| c.len().map(drop))?;
        let groups = self.len()?;
        self.repeat(groups, |c| {
            c.string()?;
            c.len()?;
            c.len()?;
            if t != TYPE_STREAM_LISTPACKS {
                c.len()?; // The group's entries-read counter.
            }
            let pending = c.len()?;
            // Entry ID, delivery time, delivery count.
            c.repeat(pending, |c| c.skip(STREAM_ID_LEN + 8).and_then(|_| c.len()).map(drop))?;
            let consumers = c.len()?;
            c.repeat(consumers, |c| {
                c.string()?;
                c.skip(8)?; // Seen time.
                if t == TYPE_STREAM_LISTPACKS_3 {
                    c.skip(8)?; // Active time.
                }
                let owned = c.len()?;
                c.repeat(owned, |c| c.skip(STREAM_ID_LEN))
            })
        })
    }

    /// Skips a module's opcode-tagged values up to its EOF opcode (what
    /// `rdbLoadCheckModuleValue` does for modules it does not have).
    fn skip_module_body(&mut self) -> Result<(), RdbError> {
        loop {
            let at = self.pos;
            match self.len()? {
                MODULE_OPCODE_EOF => return Ok(()),
                MODULE_OPCODE_SINT | MODULE_OPCODE_UINT => self.len().map(drop)?,
                MODULE_OPCODE_FLOAT => self.skip(4)?,
                MODULE_OPCODE_DOUBLE => self.skip(8)?,
                MODULE_OPCODE_STRING => self.string().map(drop)?,
                op => return Err(corrupt(at, format!("unknown module value opcode {op}"))),
            }
        }
    }
}

/// The 9-character name of a module type from its 64-bit id (the low 10
/// bits are the encoding version), as Redis's `moduleTypeNameByID` spells it.
fn module_name(id: u64) -> String {
    const CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut name = [0u8; 9];
    let mut v = id >> 10;
    for c in name.iter_mut().rev() {
        *c = CHARSET[(v & 63) as usize];
        v >>= 6;
    }
    String::from_utf8_lossy(&name).into_owned()
}

fn type_name(t: u8) -> &'static str {
    match t {
        0 => "string",
        1 | 10 | 14 | 18 => "list",
        2 | 11 | 20 => "set",
        3 | 5 | 12 | 17 => "zset",
        4 | 9 | 13 | 16 => "hash",
        15 | 19 | 21 => "stream",
        _ => "unknown",
    }
}

/// A key for messages: escaped, and cut short when long.
fn show(key: &[u8]) -> String {
    const MAX: usize = 64;
    let mut s = key[..key.len().min(MAX)].escape_ascii().to_string();
    if key.len() > MAX {
        s.push_str("...");
    }
    s
}

/// Whether a value that did not load is an empty collection (which old Redis
/// versions could save by mistake, and Redis skips when it loads).
fn is_empty_value(t: u8, raw: &[u8]) -> bool {
    let mut r = Reader::new(raw);
    match t {
        1..=5 | 14 | 18 => r.len() == Some(0),
        // Empty packed blobs: a ziplist, a listpack, an intset, a zipmap.
        9..=13 | 16 | 17 | 20 => match r.string() {
            Some(b) => match t {
                9 => b == [0, 0xff],
                10 | 12 | 13 => b.len() == 11 && b[8..10] == [0, 0],
                11 => b.len() == 8 && b[4..8] == [0, 0, 0, 0],
                _ => b.len() == 7 && b[4..6] == [0, 0],
            },
            None => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::keys::dump::{save_len, save_string};

    /// A whole file: header, `body`, EOF and the CRC-64 Redis writes.
    fn file(version: u32, body: &[u8]) -> Vec<u8> {
        let mut f = format!("REDIS{version:04}").into_bytes();
        f.extend_from_slice(body);
        f.push(OPCODE_EOF);
        let crc = CRC64.checksum(&f);
        f.extend_from_slice(&crc.to_le_bytes());
        f
    }

    fn s(out: &mut Vec<u8>, v: &[u8]) {
        save_string(out, v);
    }

    fn len(out: &mut Vec<u8>, n: u64) {
        save_len(out, n);
    }

    /// A value as text: `string:v`, `list:[a,b]`, `hash:{f=v}` and `set:{a,b}`
    /// sorted, `zset:[m=1]` by score, each followed by its encoding.
    fn view(v: Restored) -> String {
        let t = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        match v {
            Restored::String(v) => format!("string:{}", t(&v)),
            Restored::Value(v) => {
                let body = match &v {
                    Value::List(l) => format!("list:[{}]", l.iter().map(t).collect::<Vec<_>>().join(",")),
                    Value::Hash(h) => {
                        let mut p: Vec<String> = h.iter().map(|(f, v)| format!("{}={}", t(f), t(v))).collect();
                        p.sort();
                        format!("hash:{{{}}}", p.join(","))
                    }
                    Value::Set(st) => {
                        let mut m: Vec<String> = st.iter().map(|m| t(&m)).collect();
                        m.sort();
                        format!("set:{{{}}}", m.join(","))
                    }
                    Value::ZSet(z) => {
                        format!(
                            "zset:[{}]",
                            z.iter().map(|(m, sc)| format!("{}={sc}", t(m))).collect::<Vec<_>>().join(",")
                        )
                    }
                    Value::Stream(s) => {
                        let entries = s.range(Default::default(), crate::types::stream::StreamId::MAX, 0, false);
                        let e: Vec<String> = entries
                            .iter()
                            .map(|e| {
                                let f: Vec<String> =
                                    e.fields.iter().map(|(f, v)| format!("{}={}", t(f), t(v))).collect();
                                format!("{}:{}", e.id, f.join(","))
                            })
                            .collect();
                        format!("stream:[{}] last {} groups {}", e.join(";"), s.last_id, s.groups.len())
                    }
                };
                format!("{body} {}", v.encoding())
            }
        }
    }

    type Got = Vec<(usize, String, Option<u64>, String)>;

    fn load_at(bytes: &[u8], now_ms: u64) -> Result<(Summary, Got), RdbError> {
        let mut got = Vec::new();
        let sum = load(bytes, &Limits::default(), now_ms, |db, k, at, v| {
            got.push((db, String::from_utf8_lossy(k).into_owned(), at, view(v)))
        })?;
        Ok((sum, got))
    }

    const NOW: u64 = 1_800_000_000_000;

    /// A listpack of short strings and small integers.
    fn listpack(items: &[&[u8]]) -> Vec<u8> {
        let mut lp = vec![0; 6];
        for i in items {
            match std::str::from_utf8(i).ok().and_then(|x| x.parse::<u8>().ok()).filter(|v| *v < 128) {
                Some(v) if v.to_string().as_bytes() == *i => lp.extend_from_slice(&[v, 1]),
                _ => {
                    lp.push(0x80 | i.len() as u8);
                    lp.extend_from_slice(i);
                    lp.push(1 + i.len() as u8);
                }
            }
        }
        lp.push(0xff);
        let total = lp.len() as u32;
        lp[..4].copy_from_slice(&total.to_le_bytes());
        lp[4..6].copy_from_slice(&(items.len() as u16).to_le_bytes());
        lp
    }

    /// A ziplist of short strings (integers as 8-bit integer entries).
    fn ziplist(items: &[&[u8]]) -> Vec<u8> {
        let mut zl = vec![0; 10];
        let (mut prev, mut tail) = (0usize, 10usize);
        for i in items {
            tail = zl.len();
            let start = zl.len();
            zl.push(prev as u8);
            match std::str::from_utf8(i).ok().and_then(|x| x.parse::<i8>().ok()) {
                Some(v) if v.to_string().as_bytes() == *i => zl.extend_from_slice(&[0xfe, v as u8]),
                _ => {
                    zl.push(i.len() as u8);
                    zl.extend_from_slice(i);
                }
            }
            prev = zl.len() - start;
        }
        zl.push(0xff);
        let total = zl.len() as u32;
        zl[..4].copy_from_slice(&total.to_le_bytes());
        zl[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
        zl[8..10].copy_from_slice(&(items.len() as u16).to_le_bytes());
        zl
    }

    fn key(out: &mut Vec<u8>, t: u8, k: &str) {
        out.push(t);
        s(out, k.as_bytes());
    }

    /// A module type id from its 9-character name and encoding version.
    fn module_id(name: &str, ver: u64) -> u64 {
        const CHARSET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let id = name.bytes().fold(0u64, |id, c| id << 6 | CHARSET.iter().position(|&x| x == c).unwrap() as u64);
        id << 10 | ver
    }

    /// Every module value opcode, then EOF.
    fn module_body(out: &mut Vec<u8>) {
        len(out, MODULE_OPCODE_UINT);
        len(out, 5);
        len(out, MODULE_OPCODE_SINT);
        len(out, 70000);
        len(out, MODULE_OPCODE_STRING);
        s(out, b"module text that is long enough for LZF LZF LZF LZF");
        len(out, MODULE_OPCODE_FLOAT);
        out.extend_from_slice(&1.5f32.to_le_bytes());
        len(out, MODULE_OPCODE_DOUBLE);
        out.extend_from_slice(&2.5f64.to_le_bytes());
        len(out, MODULE_OPCODE_EOF);
    }

    /// A stream of one node and one consumer group with one pending entry, in
    /// the layout of RDB type `t` (15, 19 or 21).
    fn stream(out: &mut Vec<u8>, t: u8) {
        len(out, 1);
        // One node, master ID 395-0, holding entry 395-0 {f: v} (SAMEFIELDS).
        s(out, &[0, 0, 0, 0, 0, 0, 1, 0x8b, 0, 0, 0, 0, 0, 0, 0, 0]);
        s(out, &listpack(&[b"1", b"0", b"1", b"f", b"0", b"2", b"0", b"0", b"v", b"4"]));
        let metadata: &[u64] = if t == 15 { &[1, 395, 0] } else { &[1, 395, 0, 395, 0, 0, 0, 1] };
        for &v in metadata {
            len(out, v);
        }
        len(out, 1);
        s(out, b"group");
        len(out, 395);
        len(out, 0);
        if t != 15 {
            len(out, 1);
        }
        len(out, 1);
        out.extend_from_slice(&[0; 15]);
        out.push(1);
        out.extend_from_slice(&NOW.to_le_bytes());
        len(out, 1);
        len(out, 1);
        s(out, b"alice");
        out.extend_from_slice(&NOW.to_le_bytes());
        if t == 21 {
            out.extend_from_slice(&NOW.to_le_bytes());
        }
        len(out, 1);
        out.extend_from_slice(&[0; 15]);
        out.push(1);
    }

    /// An RDB 11 file with every opcode and the types Redis 7.2 writes.
    fn rdb11() -> Vec<u8> {
        let mut b = Vec::new();
        b.push(OPCODE_AUX);
        s(&mut b, b"redis-ver");
        s(&mut b, b"7.2.4");
        b.push(OPCODE_AUX);
        s(&mut b, b"redis-bits");
        s(&mut b, b"64"); // Integer-encoded, as Redis writes it.
        b.push(OPCODE_MODULE_AUX);
        len(&mut b, module_id("scripting", 1));
        len(&mut b, MODULE_OPCODE_UINT);
        len(&mut b, 2);
        module_body(&mut b);
        b.push(OPCODE_FUNCTION2);
        s(&mut b, b"#!lua name=lib1\nredis.register_function('f1', function() return 1 end)");
        b.push(OPCODE_FUNCTION);
        s(&mut b, b"old");
        s(&mut b, b"LUA");
        len(&mut b, 1);
        s(&mut b, b"a description");
        s(&mut b, b"redis.register_function('f2', function() return 2 end)");
        b.push(OPCODE_SELECTDB);
        len(&mut b, 0);
        b.push(OPCODE_RESIZEDB);
        len(&mut b, 5);
        len(&mut b, 2);
        b.push(OPCODE_IDLE);
        len(&mut b, 1000);
        key(&mut b, 0, "int");
        s(&mut b, b"12345");
        b.push(OPCODE_FREQ);
        b.push(5);
        b.push(OPCODE_EXPIRETIME_MS);
        b.extend_from_slice(&(NOW + 5000).to_le_bytes());
        key(&mut b, 0, "lzf");
        s(&mut b, &b"abcabcabc".repeat(20));
        b.push(OPCODE_EXPIRETIME);
        b.extend_from_slice(&((NOW / 1000 - 10) as i32).to_le_bytes());
        key(&mut b, 0, "gone");
        s(&mut b, b"x");
        b.push(OPCODE_EXPIRETIME_MS);
        b.extend_from_slice(&NOW.to_le_bytes());
        key(&mut b, 0, "expires-now");
        s(&mut b, b"x");
        b.push(OPCODE_SELECTDB);
        len(&mut b, 3);
        key(&mut b, 20, "set-lp");
        s(&mut b, &listpack(&[b"b", b"a", b"7"]));
        key(&mut b, 16, "hash-lp");
        s(&mut b, &listpack(&[b"f", b"v", b"g", b"1"]));
        key(&mut b, 17, "zset-lp");
        s(&mut b, &listpack(&[b"m", b"1", b"n", b"2.5"]));
        key(&mut b, TYPE_STREAM_LISTPACKS_3, "events");
        stream(&mut b, TYPE_STREAM_LISTPACKS_3);
        key(&mut b, TYPE_MODULE_2, "bloom");
        len(&mut b, module_id("MBbloom--", 3));
        module_body(&mut b);
        b.push(OPCODE_SELECTDB);
        len(&mut b, 15);
        key(&mut b, 18, "list");
        len(&mut b, 2);
        len(&mut b, 2);
        s(&mut b, &listpack(&[b"a", b"b"]));
        len(&mut b, 1);
        s(&mut b, b"plain node");
        key(&mut b, 11, "ints");
        s(&mut b, b"\x02\x00\x00\x00\x02\x00\x00\x00\xfb\xff\x05\x00");
        file(11, &b)
    }

    #[test]
    fn reads_every_opcode_and_redis_7_2_type() {
        let (sum, got) = load_at(&rdb11(), NOW).unwrap();
        let lzf = format!("string:{}", "abc".repeat(60));
        let want: Vec<(usize, &str, Option<u64>, &str)> = vec![
            (0, "int", None, "string:12345"),
            (0, "lzf", Some(NOW + 5000), &lzf),
            (3, "set-lp", None, "set:{7,a,b} listpack"),
            (3, "hash-lp", None, "hash:{f=v,g=1} listpack"),
            (3, "zset-lp", None, "zset:[m=1,n=2.5] listpack"),
            (3, "events", None, "stream:[395-0:f=v] last 395-0 groups 1 stream"),
            (15, "list", None, "list:[a,b,plain node] listpack"),
            (15, "ints", None, "set:{-5,5} intset"),
        ];
        let got: Vec<(usize, &str, Option<u64>, &str)> =
            got.iter().map(|(db, k, at, v)| (*db, k.as_str(), *at, v.as_str())).collect();
        assert_eq!(got, want);
        assert_eq!(sum.version, 11);
        assert_eq!((sum.keys, sum.expired), (8, 2));
        assert_eq!(sum.aux, vec![("redis-ver".into(), "7.2.4".into()), ("redis-bits".into(), "64".into())]);
        assert_eq!(
            sum.functions,
            vec![
                b"#!lua name=lib1\nredis.register_function('f1', function() return 1 end)".to_vec(),
                b"#!LUA name=old\nredis.register_function('f2', function() return 2 end)".to_vec(),
            ]
        );
        assert_eq!(
            sum.skipped,
            vec![
                "auxiliary data of module type 'scripting' (modules are not supported)",
                "key 'bloom' in db 3 holds a value of module type 'MBbloom--' (modules are not supported)",
            ]
        );
    }

    #[test]
    fn reads_rdb_9_encodings() {
        let mut b = Vec::new();
        b.push(OPCODE_AUX);
        s(&mut b, b"redis-ver");
        s(&mut b, b"5.0.14");
        b.push(OPCODE_SELECTDB);
        len(&mut b, 0);
        key(&mut b, 9, "zipmap");
        s(&mut b, b"\x02\x01f\x01\x00v\x01g\x02\x0012\xff");
        key(&mut b, 10, "zl-list");
        s(&mut b, &ziplist(&[b"a", b"-3", b"long"]));
        key(&mut b, 12, "zl-zset");
        s(&mut b, &ziplist(&[b"m", b"1", b"n", b"2.5"]));
        key(&mut b, 13, "zl-hash");
        s(&mut b, &ziplist(&[b"f", b"v"]));
        key(&mut b, 14, "ql");
        len(&mut b, 2);
        s(&mut b, &ziplist(&[b"a", b"b"]));
        s(&mut b, &ziplist(&[b"c"]));
        key(&mut b, 1, "list");
        len(&mut b, 2);
        s(&mut b, b"x");
        s(&mut b, b"y");
        key(&mut b, 2, "set");
        len(&mut b, 2);
        s(&mut b, b"x");
        s(&mut b, b"1");
        key(&mut b, 3, "zset-text");
        len(&mut b, 3);
        s(&mut b, b"a");
        b.extend_from_slice(b"\x031.5");
        s(&mut b, b"b");
        b.push(254);
        s(&mut b, b"c");
        b.push(255);
        key(&mut b, 4, "hash");
        len(&mut b, 1);
        s(&mut b, b"f");
        s(&mut b, b"v");
        key(&mut b, 5, "zset-bin");
        len(&mut b, 1);
        s(&mut b, b"m");
        b.extend_from_slice(&(-0.25f64).to_le_bytes());
        key(&mut b, TYPE_STREAM_LISTPACKS, "stream");
        stream(&mut b, TYPE_STREAM_LISTPACKS);
        let (sum, got) = load_at(&file(9, &b), NOW).unwrap();
        let got: Vec<String> = got.into_iter().map(|(db, k, _, v)| format!("{db} {k} {v}")).collect();
        assert_eq!(
            got,
            [
                "0 zipmap hash:{f=v,g=12} listpack",
                "0 zl-list list:[a,-3,long] listpack",
                "0 zl-zset zset:[m=1,n=2.5] listpack",
                "0 zl-hash hash:{f=v} listpack",
                "0 ql list:[a,b,c] listpack",
                "0 list list:[x,y] listpack",
                "0 set set:{1,x} listpack",
                "0 zset-text zset:[c=-inf,a=1.5,b=inf] listpack",
                "0 hash hash:{f=v} listpack",
                "0 zset-bin zset:[m=-0.25] listpack",
                "0 stream stream:[395-0:f=v] last 395-0 groups 1 stream",
            ]
        );
        assert_eq!((sum.version, sum.keys, sum.expired), (9, 11, 0));
        assert!(sum.skipped.is_empty());
    }

    #[test]
    fn stream_layouts_of_rdb_10() {
        let mut b = Vec::new();
        key(&mut b, TYPE_STREAM_LISTPACKS_2, "s");
        stream(&mut b, TYPE_STREAM_LISTPACKS_2);
        key(&mut b, 0, "after");
        s(&mut b, b"v");
        let (sum, got) = load_at(&file(10, &b), NOW).unwrap();
        assert_eq!(got.len(), 2);
        assert!(sum.skipped.is_empty());
        // A node whose entry does not parse is a bad value.
        let mut b = Vec::new();
        key(&mut b, TYPE_STREAM_LISTPACKS_2, "s");
        let mut st = Vec::new();
        stream(&mut st, TYPE_STREAM_LISTPACKS_2);
        let at = st.windows(2).position(|w| w == [0x81, b'v']).unwrap();
        st[at + 1] = 0x7f;
        st[at] = 0x7f;
        b.extend_from_slice(&st);
        assert!(load_at(&file(10, &b), NOW).is_err());
        // A node key that is not a stream ID is corrupt.
        let mut b = Vec::new();
        key(&mut b, TYPE_STREAM_LISTPACKS_2, "s");
        len(&mut b, 1);
        s(&mut b, b"short");
        assert_eq!(load_at(&file(10, &b), NOW).unwrap_err(), corrupt(13, "a stream node key that is not a stream ID"));
    }

    #[test]
    fn header_version_and_signature() {
        assert!(is_rdb(b"REDIS0011\xfa"));
        assert!(!is_rdb(b"REDIS001"));
        assert!(!is_rdb(b"REDIS00a1"));
        assert!(!is_rdb(b"*2\r\n$3\r\nSET"));
        assert_eq!(load_at(&file(12, &[]), NOW).unwrap_err(), RdbError::Version(12));
        assert_eq!(load_at(&file(0, &[]), NOW).unwrap_err(), RdbError::Version(0));
        assert_eq!(load_at(b"REDIS00", NOW).unwrap_err(), RdbError::Truncated { offset: 0 });
        assert_eq!(load_at(b"", NOW).unwrap_err(), RdbError::Truncated { offset: 0 });
        assert!(matches!(load_at(b"*1\r\n$4\r\nPING\r\n", NOW), Err(RdbError::Corrupt { offset: 0, .. })));
        let (sum, got) = load_at(&file(11, &[]), NOW).unwrap();
        assert_eq!((sum.version, got.len()), (11, 0));
        assert_eq!(
            RdbError::Version(12).to_string(),
            "RDB format version 12 is not supported (Tessera reads versions 1 to 11, Redis up to 7.2)"
        );
    }

    #[test]
    fn checksum() {
        let good = rdb11();
        let n = good.len();
        // Zero: saved with `rdbchecksum no`, not checked.
        let mut zero = good.clone();
        zero[n - 8..].fill(0);
        assert!(load_at(&zero, NOW).is_ok());
        let mut wrong = good.clone();
        wrong[n - 1] ^= 1;
        assert_eq!(load_at(&wrong, NOW).unwrap_err(), RdbError::Checksum);
        // Bytes after the checksum are ignored, as Redis ignores them.
        let mut tail = good.clone();
        tail.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        assert!(load_at(&tail, NOW).is_ok());
        // Before RDB 5 there is no checksum.
        let mut v4 = b"REDIS0004\xfe\x00\x00\x01k\x01v\xff".to_vec();
        assert_eq!(load_at(&v4, NOW).unwrap().1.len(), 1);
        v4.pop();
        assert_eq!(load_at(&v4, NOW).unwrap_err(), RdbError::Truncated { offset: 16 });
    }

    #[test]
    fn truncated_files_are_refused_before_any_key() {
        for good in [rdb11(), file(9, b"\x0a\x01k\x0b\x0b\x00\x00\x00\x0a\x00\x00\x00\x00\x00\xff")] {
            for n in 0..good.len() {
                let mut called = false;
                let res = load(&good[..n], &Limits::default(), NOW, |_, _, _, _| called = true);
                assert!(matches!(res, Err(RdbError::Truncated { .. })), "cut at {n}: {res:?}");
                assert!(!called, "cut at {n}: a key was handed out");
            }
        }
    }

    #[test]
    fn flipped_bytes_are_refused_or_harmless() {
        let good = rdb11();
        for i in 0..good.len() {
            for delta in [1u8, 0x40, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[i] = bad[i].wrapping_add(delta);
                // CRC-64 catches every single-byte change, if the walk gets that far
                // (a version digit may turn into one before checksums, 1 to 4).
                let res = load_at(&bad, NOW);
                assert!(res.is_err() || (5..9).contains(&i), "byte {i} + {delta}");
                // Without a checksum, whatever loads, nothing panics.
                let n = bad.len();
                bad[n - 8..].fill(0);
                let _ = load_at(&bad, NOW);
            }
        }
    }

    /// Random changes of a few bytes at once, in a file without a checksum so
    /// they reach the decoder: refused or loaded, never a panic.
    #[test]
    fn random_damage_never_panics() {
        let good = rdb11();
        let n = good.len();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..3000 {
            let mut bad = good.clone();
            bad[n - 8..].fill(0);
            for _ in 0..3 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = 9 + (seed as usize) % (n - 17);
                bad[i] = (seed >> 32) as u8;
            }
            let _ = load_at(&bad, NOW);
        }
    }

    #[test]
    fn lengths_beyond_the_file_are_truncation_not_allocation() {
        // A string claiming 2^64-1 bytes, a list claiming 2^62 elements.
        let mut b = Vec::new();
        key(&mut b, 0, "k");
        b.push(0x81);
        b.extend_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(load_at(&file(11, &b), NOW).unwrap_err(), RdbError::Truncated { offset: 21 });
        let mut b = b"REDIS0011".to_vec();
        key(&mut b, 1, "k");
        len(&mut b, 1 << 62);
        s(&mut b, b"a");
        assert_eq!(load_at(&b, NOW).unwrap_err(), RdbError::Truncated { offset: 23 });
        // An LZF string claiming a huge uncompressed size is refused, not allocated.
        let mut b = Vec::new();
        key(&mut b, 0, "k");
        b.push(0xc3);
        len(&mut b, 2);
        len(&mut b, u32::MAX as u64);
        b.extend_from_slice(&[0x00, b'a']);
        assert_eq!(load_at(&file(11, &b), NOW).unwrap_err(), corrupt(9, "bad string value (RDB type 0) for key 'k'"));
        // The same as a key.
        let mut b = vec![0, 0xc3];
        len(&mut b, 2);
        len(&mut b, u32::MAX as u64);
        b.extend_from_slice(&[0x00, b'a']);
        s(&mut b, b"v");
        assert_eq!(load_at(&file(11, &b), NOW).unwrap_err(), corrupt(10, "bad compressed string"));
    }

    #[test]
    fn bad_values_inside_a_sound_frame() {
        // A listpack with a wrong count, under a valid checksum.
        let mut lp = listpack(&[b"a", b"b"]);
        lp[4] = 3;
        let mut b = Vec::new();
        key(&mut b, 0, "fine");
        s(&mut b, b"v");
        key(&mut b, 20, "k\n");
        s(&mut b, &lp);
        let mut keys = 0;
        let err = load(&file(11, &b), &Limits::default(), NOW, |_, _, _, _| keys += 1).unwrap_err();
        assert_eq!(err, corrupt(17, r"bad set value (RDB type 20) for key 'k\n'"));
        assert_eq!(err.to_string(), r"corrupt RDB file at byte 17: bad set value (RDB type 20) for key 'k\n'");
        assert_eq!(keys, 1);
        // Unknown types and opcodes, the pre-GA module format, a bad module opcode.
        for (body, at, why) in [
            (&b"\x08\x01k"[..], 9, "unknown value type 8 (this RDB 11 file may need a newer Tessera)"),
            (b"\xf4", 9, "unknown RDB opcode 0xf4"),
            (
                b"\x06\x01k\x01",
                9,
                "a module value in the pre-GA module format (RDB type 6), which only its module can read",
            ),
            (b"\x07\x01k\x01\x09", 13, "unknown module value opcode 9"),
            (b"\xf7\x01\x01", 11, "module aux data without its 'when' field"),
            (b"\xfe\xbf", 10, "unknown length encoding 0xbf"),
            (b"\x00\x01k\xc5", 12, "unknown string encoding 5"),
            (b"\xfe\xc0", 10, "a string encoding where a length belongs"),
        ] {
            assert_eq!(load_at(&file(11, body), NOW).unwrap_err(), corrupt(at, why), "{body:?}");
        }
    }

    #[test]
    fn empty_keys_are_skipped_as_redis_does() {
        let mut b = Vec::new();
        key(&mut b, 2, "no-members");
        len(&mut b, 0);
        key(&mut b, 16, "empty-lp");
        s(&mut b, &listpack(&[]));
        key(&mut b, 10, "empty-zl");
        s(&mut b, &ziplist(&[]));
        key(&mut b, 0, "k");
        s(&mut b, b"v");
        let (sum, got) = load_at(&file(9, &b), NOW).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            sum.skipped,
            [
                "empty set key 'no-members' in db 0 (Redis skips empty keys too)",
                "empty hash key 'empty-lp' in db 0 (Redis skips empty keys too)",
                "empty list key 'empty-zl' in db 0 (Redis skips empty keys too)",
            ]
        );
    }

    #[test]
    fn expiry_before_1970_and_at_now() {
        let mut b = Vec::new();
        b.push(OPCODE_EXPIRETIME_MS);
        b.extend_from_slice(&(-5i64).to_le_bytes());
        key(&mut b, 0, "old");
        s(&mut b, b"v");
        b.push(OPCODE_EXPIRETIME_MS);
        b.extend_from_slice(&(NOW + 1).to_le_bytes());
        key(&mut b, 0, "live");
        s(&mut b, b"v");
        let (sum, got) = load_at(&file(11, &b), NOW).unwrap();
        assert_eq!(sum.expired, 1);
        assert_eq!(got, [(0, "live".to_string(), Some(NOW + 1), "string:v".to_string())]);
        // The expiry belongs to the next key only.
        let (sum, got) = load_at(&file(11, &[&b[..], b"\x00\x01k\x01v"].concat()), NOW + 1).unwrap();
        assert_eq!((sum.expired, got.len()), (2, 1));
        assert_eq!(got[0].2, None);
    }

    #[test]
    fn only_kept_keys_are_decoded() {
        let mut got = Vec::new();
        let sum = load_where(
            &rdb11(),
            &Limits::default(),
            NOW,
            |k| k.starts_with(b"s"),
            |db, k, _, v| got.push(format!("{db} {} {}", String::from_utf8_lossy(k), view(v))),
        )
        .unwrap();
        assert_eq!(got, ["3 set-lp set:{7,a,b} listpack"]);
        assert_eq!((sum.keys, sum.expired, sum.skipped.len(), sum.functions.len()), (1, 2, 2, 2));
    }

    #[test]
    fn module_names() {
        assert_eq!(module_name(module_id("MBbloom--", 3)), "MBbloom--");
        assert_eq!(module_name(module_id("ReJSON-RL", 3)), "ReJSON-RL");
    }

    #[test]
    fn public_values() {
        let mut got = Vec::new();
        let sum = load_values(&rdb11(), &Limits::default(), NOW, |db, k, _, v| {
            got.push((db, k.to_vec(), matches!(v, RdbValue::String(_))))
        })
        .unwrap();
        assert_eq!(sum.keys, 8);
        assert_eq!(got[0], (0, b"int".to_vec(), true));
        assert_eq!(got[2], (3, b"set-lp".to_vec(), false));
    }
}
