//! Tessera's own snapshot files: one per shard, a checksummed header, LZ4
//! blocks of key records whose values are in Redis's RDB encoding, and a
//! trailer with the key count and a CRC-64 of the whole file. The layout is
//! documented byte by byte in docs/persistence.md ("Snapshot format").
//!
//! This module is a pure codec: [`Writer`] turns entries into bytes, [`read`]
//! turns bytes back into keys, [`check_main`] is `tessera check-snapshot`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::cmd::keys::dump::{read_value, write_value, Reader, Restored};
use crate::db::Entry;
use crate::types::Limits;

/// The first 8 bytes of every snapshot (Redis's RDB files start with `REDIS`).
pub const MAGIC: [u8; 8] = *b"TESSNAP\0";
/// The format version this build writes and the only one it reads.
pub const VERSION: u16 = 1;

/// Magic, version, shard, shard count, creation time, header CRC.
const HEADER_LEN: usize = 8 + 2 + 2 + 2 + 8 + 8;
/// Kind, raw length, compressed length, CRC.
const BLOCK_HEAD_LEN: usize = 1 + 4 + 4 + 8;
/// Kind, key count, file CRC.
const TRAILER_LEN: usize = 1 + 8 + 8;

/// A block of key records.
const BLOCK_DATA: u8 = 1;
/// The trailer, always last.
const BLOCK_END: u8 = 0xff;

/// A key with its database, expiry and value.
const OP_KEY: u8 = 1;
/// Record flag: an absolute expiry (unix ms) follows.
const FLAG_EXPIRY: u8 = 1;

/// Uncompressed bytes per block the writer aims for.
const BLOCK_SIZE: usize = 256 * 1024;
/// The largest uncompressed block a reader accepts, so a length field can
/// never make it allocate more than this for one block.
const MAX_BLOCK_RAW: u32 = 4 * 1024 * 1024;

/// What a snapshot says about where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// The shard that wrote the file, from 0.
    pub shard: u16,
    /// How many shards the server had.
    pub shards: u16,
    /// When the snapshot was taken, unix ms.
    pub created_ms: u64,
}

/// What a whole, verified snapshot held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub meta: Meta,
    pub keys: u64,
    /// Keys per database, by database number, only databases with keys.
    pub per_db: Vec<(usize, u64)>,
    /// The file's size.
    pub bytes: u64,
    /// Keys with an expiry.
    pub with_expiry: u64,
    /// Data blocks (the trailer not counted).
    pub blocks: u64,
}

/// Why a snapshot could not be read. Offsets are byte offsets in the file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SnapError {
    #[error("not a Tessera snapshot (the file does not start with TESSNAP)")]
    NotSnapshot,
    #[error("snapshot format version {0} is not supported (this build reads version {VERSION})")]
    Version(u16),
    #[error("snapshot corrupt at byte offset {offset}: {why}")]
    Corrupt { offset: u64, why: String },
    #[error("snapshot truncated at byte offset {offset}")]
    Truncated { offset: u64 },
}

fn corrupt(offset: usize, why: impl Into<String>) -> SnapError {
    SnapError::Corrupt { offset: offset as u64, why: why.into() }
}

fn truncated(offset: usize) -> SnapError {
    SnapError::Truncated { offset: offset as u64 }
}

fn crc64(parts: &[&[u8]]) -> u64 {
    let mut d = crc64fast::Digest::new();
    for p in parts {
        d.write(p);
    }
    d.sum64()
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// An unsigned LEB128 number at `buf[*pos..]`: `Ok(None)` when the buffer
/// ends inside it, `Err` for more than 64 bits.
fn get_varint(buf: &[u8], pos: &mut usize) -> Result<Option<u64>, &'static str> {
    let mut v = 0u64;
    for i in 0..10 {
        let Some(&b) = buf.get(*pos + i) else { return Ok(None) };
        if i == 9 && b > 1 {
            return Err("a number over 64 bits");
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            *pos += i + 1;
            return Ok(Some(v));
        }
    }
    Err("a number over 64 bits")
}

fn le_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap_or_default())
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or_default())
}

/// Builds a snapshot as a stream of bytes: records are cut into 256 KiB
/// blocks, compressed when the caller takes them, so it can write the file
/// piece by piece with [`Writer::take`] and end it with [`Writer::finish`].
pub struct Writer {
    /// Encoded bytes the caller has not taken yet.
    out: Vec<u8>,
    /// Records not yet in a block.
    raw: Vec<u8>,
    /// A value being encoded.
    scratch: Vec<u8>,
    /// CRC-64 of every byte put in `out` so far, for the trailer.
    digest: crc64fast::Digest,
    keys: u64,
}

impl Writer {
    pub fn new(meta: &Meta) -> Writer {
        let mut out = Vec::with_capacity(HEADER_LEN);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&meta.shard.to_le_bytes());
        out.extend_from_slice(&meta.shards.to_le_bytes());
        out.extend_from_slice(&meta.created_ms.to_le_bytes());
        let crc = crc64(&[&out]);
        out.extend_from_slice(&crc.to_le_bytes());
        let mut digest = crc64fast::Digest::new();
        digest.write(&out);
        Writer { out, raw: Vec::with_capacity(BLOCK_SIZE + 1024), scratch: Vec::new(), digest, keys: 0 }
    }

    /// Adds a key of database `db`; `lim` decides how list nodes are cut.
    pub fn add(&mut self, db: usize, e: &Entry, lim: &Limits) {
        let mut value = std::mem::take(&mut self.scratch);
        value.clear();
        write_value(e, lim, &mut value);
        self.add_parts(db, e.key(), e.expire_at(), &value);
        self.scratch = value;
    }

    /// Adds a key whose value is already RDB-encoded (type byte, encoding).
    pub fn add_parts(&mut self, db: usize, key: &[u8], expire_at_ms: Option<u64>, value_rdb: &[u8]) {
        let r = &mut self.raw;
        r.push(OP_KEY);
        put_varint(r, db as u64);
        match expire_at_ms {
            Some(at) => {
                r.push(FLAG_EXPIRY);
                r.extend_from_slice(&at.to_le_bytes());
            }
            None => r.push(0),
        }
        put_varint(r, key.len() as u64);
        r.extend_from_slice(key);
        put_varint(r, value_rdb.len() as u64);
        r.extend_from_slice(value_rdb);
        self.keys += 1;
    }

    /// The bytes ready to be written: the header the first time, then every
    /// full block of the records added so far, compressed now (so a caller
    /// can add keys while it holds a lock and compress after). May be empty.
    pub fn take(&mut self) -> Vec<u8> {
        if self.raw.len() >= BLOCK_SIZE {
            // Cut whole blocks, then move the rest down once (a value of many
            // blocks is not moved once per block).
            let mut start = 0;
            while self.raw.len() - start >= BLOCK_SIZE {
                emit_block(&mut self.out, &mut self.digest, BLOCK_DATA, &self.raw[start..start + BLOCK_SIZE]);
                start += BLOCK_SIZE;
            }
            self.raw.drain(..start);
        }
        std::mem::take(&mut self.out)
    }

    /// Keys added so far.
    pub fn keys(&self) -> u64 {
        self.keys
    }

    /// The rest of the file: what [`Writer::take`] has not returned, the
    /// last partial block and the trailer.
    pub fn finish(mut self) -> Vec<u8> {
        // Full blocks first, then what is left as a shorter one.
        self.out = self.take();
        if !self.raw.is_empty() {
            emit_block(&mut self.out, &mut self.digest, BLOCK_DATA, &self.raw);
        }
        let start = self.out.len();
        self.out.push(BLOCK_END);
        self.out.extend_from_slice(&self.keys.to_le_bytes());
        self.digest.write(&self.out[start..]);
        let crc = self.digest.sum64();
        self.out.extend_from_slice(&crc.to_le_bytes());
        self.out
    }
}

/// Appends one compressed block of `raw` bytes.
fn emit_block(out: &mut Vec<u8>, digest: &mut crc64fast::Digest, kind: u8, raw: &[u8]) {
    let comp = lz4_flex::block::compress(raw);
    let start = out.len();
    out.push(kind);
    out.extend_from_slice(&(raw.len() as u32).to_le_bytes());
    out.extend_from_slice(&(comp.len() as u32).to_le_bytes());
    let crc = crc64(&[&out[start..], &comp]);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&comp);
    digest.write(&out[start..]);
}

/// Whether `bytes` start like a Tessera snapshot (rather than a Redis RDB file).
pub fn is_snapshot(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// A data block found by the structure pass.
struct Block {
    /// Where its header starts in the file.
    offset: usize,
    raw_len: usize,
    /// Where its uncompressed bytes start in the stream of all records.
    stream_start: u64,
}

/// The header, every block's framing and checksum, and the trailer: all that
/// can be checked without decompressing. Returns the meta, the data blocks
/// and the trailer's key count.
fn verify_structure(bytes: &[u8]) -> Result<(Meta, Vec<Block>, u64), SnapError> {
    if !is_snapshot(bytes) {
        return Err(if MAGIC.starts_with(bytes) { truncated(bytes.len()) } else { SnapError::NotSnapshot });
    }
    if bytes.len() < 10 {
        return Err(truncated(bytes.len()));
    }
    // The magic and the version keep their place in every version.
    let version = le_u16(bytes, 8);
    if version != VERSION {
        return Err(SnapError::Version(version));
    }
    if bytes.len() < HEADER_LEN {
        return Err(truncated(bytes.len()));
    }
    if crc64(&[&bytes[..HEADER_LEN - 8]]) != le_u64(bytes, HEADER_LEN - 8) {
        return Err(corrupt(HEADER_LEN - 8, "header checksum mismatch"));
    }
    let meta = Meta { shard: le_u16(bytes, 10), shards: le_u16(bytes, 12), created_ms: le_u64(bytes, 14) };
    if meta.shard >= meta.shards {
        return Err(corrupt(10, format!("shard index {} of {} shards", meta.shard, meta.shards)));
    }
    let mut blocks = Vec::new();
    let mut stream = 0u64;
    let mut pos = HEADER_LEN;
    loop {
        let Some(&kind) = bytes.get(pos) else { return Err(truncated(pos)) };
        match kind {
            BLOCK_DATA => {
                if bytes.len() - pos < BLOCK_HEAD_LEN {
                    return Err(truncated(bytes.len()));
                }
                let raw_len = le_u32(bytes, pos + 1);
                let comp_len = le_u32(bytes, pos + 5) as usize;
                if raw_len > MAX_BLOCK_RAW {
                    return Err(corrupt(pos + 1, format!("block of {raw_len} bytes (at most {MAX_BLOCK_RAW})")));
                }
                let data = pos + BLOCK_HEAD_LEN;
                if bytes.len() - data < comp_len {
                    return Err(truncated(bytes.len()));
                }
                let want = le_u64(bytes, pos + 9);
                if crc64(&[&bytes[pos..pos + 9], &bytes[data..data + comp_len]]) != want {
                    return Err(corrupt(pos, "block checksum mismatch"));
                }
                blocks.push(Block { offset: pos, raw_len: raw_len as usize, stream_start: stream });
                stream += u64::from(raw_len);
                pos = data + comp_len;
            }
            BLOCK_END => {
                if bytes.len() - pos < TRAILER_LEN {
                    return Err(truncated(bytes.len()));
                }
                let keys = le_u64(bytes, pos + 1);
                let crc_at = pos + 9;
                if crc64(&[&bytes[..crc_at]]) != le_u64(bytes, crc_at) {
                    return Err(corrupt(crc_at, "file checksum mismatch"));
                }
                if bytes.len() > pos + TRAILER_LEN {
                    return Err(corrupt(pos + TRAILER_LEN, "data after the trailer"));
                }
                return Ok((meta, blocks, keys));
            }
            k => return Err(corrupt(pos, format!("unknown block kind {k}"))),
        }
    }
}

/// Reads a whole snapshot: checks the header, every block's checksum and the
/// trailer's checksum of the whole file before any key is passed to `f`,
/// then decompresses and decodes the records, calling `f(db, key,
/// expire_at_ms, value)` for each (expired keys included: the caller decides).
/// Collections are built in the encodings `lim` calls for. Never panics and
/// never allocates more than a block's cap or the data actually present,
/// whatever the input; on `Err` the caller must discard what `f` received.
pub(crate) fn read(
    bytes: &[u8],
    lim: &Limits,
    mut f: impl FnMut(usize, &[u8], Option<u64>, Restored),
) -> Result<Summary, SnapError> {
    let (meta, blocks, want_keys) = verify_structure(bytes)?;
    let stream_total: u64 = blocks.iter().map(|b| b.raw_len as u64).sum();
    let mut per_db: BTreeMap<usize, u64> = BTreeMap::new();
    let mut keys = 0u64;
    let mut with_expiry = 0u64;
    // Decompressed bytes not yet decoded, starting at stream offset `base`;
    // a record may continue into the next blocks.
    let mut pending: Vec<u8> = Vec::new();
    let mut base = 0u64;
    for b in &blocks {
        let comp_len = le_u32(bytes, b.offset + 5) as usize;
        let comp = &bytes[b.offset + BLOCK_HEAD_LEN..b.offset + BLOCK_HEAD_LEN + comp_len];
        let old = pending.len();
        pending.resize(old + b.raw_len, 0);
        match lz4_flex::block::decompress_into(comp, &mut pending[old..]) {
            Ok(n) if n == b.raw_len => {}
            Ok(n) => return Err(corrupt(b.offset, format!("block holds {n} bytes, not {}", b.raw_len))),
            Err(e) => return Err(corrupt(b.offset, format!("block does not decompress: {e}"))),
        }
        let mut pos = 0;
        loop {
            let at = base + pos as u64;
            // Names the block the record starts in and its place there.
            let bad = |why: &str| {
                let start = &blocks[blocks.partition_point(|x| x.stream_start <= at).saturating_sub(1)];
                let n = keys + 1;
                corrupt(
                    start.offset,
                    format!("key record {n} at byte {} of the block's data: {why}", at - start.stream_start),
                )
            };
            let Some(rec) = parse_record(&pending[pos..], stream_total - at).map_err(|why| bad(&why))? else { break };
            let mut r = Reader::new(rec.value);
            let value = read_value(&mut r, lim).filter(|_| r.pos() == rec.value.len());
            let Some(value) = value else { return Err(bad("the value does not decode")) };
            keys += 1;
            *per_db.entry(rec.db).or_default() += 1;
            with_expiry += u64::from(rec.expire_at.is_some());
            f(rec.db, rec.key, rec.expire_at, value);
            pos += rec.len;
        }
        pending.drain(..pos);
        base += pos as u64;
    }
    let trailer = bytes.len() - TRAILER_LEN;
    if !pending.is_empty() {
        return Err(corrupt(trailer, format!("the last {} bytes of data are not a whole record", pending.len())));
    }
    if keys != want_keys {
        return Err(corrupt(trailer + 1, format!("trailer counts {want_keys} keys, the blocks hold {keys}")));
    }
    Ok(Summary {
        meta,
        keys,
        per_db: per_db.into_iter().collect(),
        bytes: bytes.len() as u64,
        with_expiry,
        blocks: blocks.len() as u64,
    })
}

/// Checks a whole snapshot as [`read`] does, decoding every value and
/// keeping none (`tessera check-snapshot`, fuzzing).
pub fn verify(bytes: &[u8], lim: &Limits) -> Result<Summary, SnapError> {
    read(bytes, lim, |_, _, _, _| {})
}

/// One key record, borrowed from the decompressed data.
struct Record<'a> {
    db: usize,
    key: &'a [u8],
    expire_at: Option<u64>,
    value: &'a [u8],
    /// Its length in the data.
    len: usize,
}

/// The record at the start of `buf`: `Ok(None)` when `buf` is empty or ends
/// inside it (the rest is in the next block), `Err` when it is malformed or
/// claims more than the `left` bytes of data the file holds from here on.
fn parse_record(buf: &[u8], left: u64) -> Result<Option<Record<'_>>, String> {
    let Some(&op) = buf.first() else { return Ok(None) };
    if op != OP_KEY {
        return Err(format!("unknown record type {op}"));
    }
    let mut pos = 1;
    let Some(db) = get_varint(buf, &mut pos)? else { return Ok(None) };
    let db = usize::try_from(db).ok().filter(|&d| d <= u32::MAX as usize).ok_or("database number out of range")?;
    let Some(&flags) = buf.get(pos) else { return Ok(None) };
    pos += 1;
    if flags & !FLAG_EXPIRY != 0 {
        return Err(format!("unknown record flags {flags:#04x}"));
    }
    let expire_at = if flags & FLAG_EXPIRY != 0 {
        if buf.len() - pos < 8 {
            return Ok(None);
        }
        pos += 8;
        Some(le_u64(buf, pos - 8))
    } else {
        None
    };
    let field = |pos: &mut usize| -> Result<Option<(usize, usize)>, String> {
        let Some(len) = get_varint(buf, pos)? else { return Ok(None) };
        // The length must fit in what the file has left, so a bad one fails
        // here rather than waiting for data that never comes.
        if len > left.saturating_sub(*pos as u64) {
            return Err(format!("a length of {len} bytes runs past the end of the data"));
        }
        let len = len as usize;
        if buf.len() - *pos < len {
            return Ok(None);
        }
        *pos += len;
        Ok(Some((*pos - len, *pos)))
    };
    let Some((k0, k1)) = field(&mut pos)? else { return Ok(None) };
    let Some((v0, v1)) = field(&mut pos)? else { return Ok(None) };
    if v0 == v1 {
        return Err("an empty value".into());
    }
    Ok(Some(Record { db, key: &buf[k0..k1], expire_at, value: &buf[v0..v1], len: pos }))
}

/// A unix time in ms as `YYYY-MM-DD HH:MM:SS.mmm UTC`.
fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03} UTC", rem / 3600, rem / 60 % 60, rem % 60, ms % 1000)
}

/// What `tessera check-snapshot` prints and its exit code.
struct Checked {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `tessera check-snapshot` without printing. `PATH` is one snapshot part,
/// or the snapshot set file that names a server's parts (`dbfilename`), in
/// which case every part is checked.
fn check(args: &[String]) -> Checked {
    const USAGE: &str = "usage: tessera check-snapshot PATH";
    let mut c = Checked { code: 0, stdout: String::new(), stderr: String::new() };
    let path = match args {
        [a] if a == "-h" || a == "--help" => {
            c.stdout = format!("{USAGE}\n");
            return c;
        }
        [p] if !p.starts_with('-') => p,
        _ => {
            c.code = 2;
            c.stderr = format!("{USAGE}\n");
            return c;
        }
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            c.code = 2;
            c.stderr = format!("{path}: cannot read: {e}\n");
            return c;
        }
    };
    if !super::save::is_set(&bytes) {
        check_part(path, &bytes, None, &mut c);
        return c;
    }
    let parts = match super::save::read_set(&String::from_utf8_lossy(&bytes)) {
        Ok(p) => p,
        Err(e) => {
            c.code = 1;
            c.stderr = format!("{path}: bad snapshot set file: {e} (tessera check-snapshot)\n");
            return c;
        }
    };
    let _ = writeln!(c.stdout, "{path}: snapshot set of {} parts\n", parts.len());
    let dir = std::path::Path::new(path).parent().unwrap_or(std::path::Path::new(""));
    let mut keys = 0;
    for (i, part) in parts.iter().enumerate() {
        let part_path = dir.join(part);
        let shown = part_path.to_string_lossy();
        match std::fs::read(&part_path) {
            Ok(b) => keys += check_part(&shown, &b, Some((i, parts.len())), &mut c).unwrap_or(0),
            Err(e) => {
                c.code = 2;
                let _ = writeln!(c.stderr, "{shown}: cannot read: {e}");
            }
        }
        c.stdout.push('\n');
    }
    if c.code == 0 {
        let _ = writeln!(c.stdout, "snapshot set OK: {} parts, {keys} keys", parts.len());
    }
    c
}

/// Checks one part, `expect`ed to be shard i of n when a set names it, and
/// reports to `c`; its key count when it is good.
fn check_part(path: &str, bytes: &[u8], expect: Option<(usize, usize)>, c: &mut Checked) -> Option<u64> {
    let s = match verify(bytes, &Limits::default()) {
        Ok(s) => s,
        Err(e) => {
            c.code = c.code.max(1);
            if bytes.starts_with(b"REDIS") {
                let _ = writeln!(c.stderr, "{path}: a Redis RDB file, not a Tessera snapshot (tessera check-snapshot)");
            } else {
                let _ = writeln!(c.stderr, "{path}: {e} (tessera check-snapshot)");
            }
            return None;
        }
    };
    let out = &mut c.stdout;
    let _ = writeln!(out, "{path}");
    let _ = writeln!(out, "format version: {VERSION}");
    let _ = writeln!(out, "shard: {} of {}", s.meta.shard, s.meta.shards);
    let _ = writeln!(out, "created: {} ({} ms)", utc(s.meta.created_ms), s.meta.created_ms);
    let _ = writeln!(out, "keys: {} ({} with an expiry)", s.keys, s.with_expiry);
    for (db, n) in &s.per_db {
        let _ = writeln!(out, "  db{db}: {n} keys");
    }
    let _ = writeln!(out, "blocks: {}", s.blocks);
    let _ = writeln!(out, "bytes: {}", s.bytes);
    let (shard, shards) = (usize::from(s.meta.shard), usize::from(s.meta.shards));
    if let Some((i, n)) = expect.filter(|&e| e != (shard, shards)) {
        c.code = c.code.max(1);
        let _ = writeln!(
            c.stderr,
            "{path}: the set file names it as part {i} of {n}, but it is shard {shard} of {shards} (tessera check-snapshot)"
        );
        return None;
    }
    out.push_str("snapshot OK\n");
    Some(s.keys)
}

/// `tessera check-snapshot PATH`: verifies every checksum and decodes every
/// value, prints a summary and `snapshot OK` (exit 0), or the error with its
/// byte offset (exit 1); a usage or I/O error exits 2. PATH may be a single
/// part or the set file naming all of a server's parts.
pub fn check_main(args: &[String]) -> i32 {
    let c = check(args);
    print!("{}", c.stdout);
    eprint!("{}", c.stderr);
    c.code
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::StrEncoding;
    use crate::types::{Hash, List, Set, Value, ZSet};

    const META: Meta = Meta { shard: 1, shards: 3, created_ms: 1_795_000_000_123 };

    fn string(key: &str, v: &[u8], exp: Option<u64>) -> Entry {
        Entry::new_string(key.as_bytes(), v, StrEncoding::for_value(v), exp)
    }

    fn obj(key: &str, v: Value, exp: Option<u64>) -> Entry {
        Entry::new_obj(key.as_bytes(), v, exp)
    }

    /// Bytes that do not compress (xorshift).
    fn noise(len: usize, mut seed: u64) -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect()
    }

    /// A value in comparable form: type, encoding, elements (hashes and sets
    /// sorted, lists and sorted sets in order, scores as bits).
    fn flat_value(v: &Value) -> (String, Vec<Vec<u8>>) {
        let mut els: Vec<Vec<u8>> = match v {
            Value::List(l) => l.iter().map(<[u8]>::to_vec).collect(),
            Value::Hash(h) => h.iter().map(|(f, v)| [f, b"=", v].concat()).collect(),
            Value::Set(s) => s.iter().map(|m| m.to_vec()).collect(),
            Value::ZSet(z) => z.iter().map(|(m, s)| [m, &s.to_bits().to_le_bytes()].concat()).collect(),
            Value::Stream(s) => s.fingerprint(),
        };
        if matches!(v, Value::Hash(_) | Value::Set(_)) {
            els.sort();
        }
        (format!("{}/{}", v.kind().name(), v.encoding()), els)
    }

    fn flat_entry(e: &Entry) -> (String, Vec<Vec<u8>>) {
        match e.obj() {
            Some(v) => flat_value(v),
            None => ("string".into(), vec![e.value().to_vec()]),
        }
    }

    fn flat_restored(r: &Restored) -> (String, Vec<Vec<u8>>) {
        match r {
            Restored::Value(v) => flat_value(v),
            Restored::String(s) => ("string".into(), vec![s.clone()]),
        }
    }

    type Key = (usize, Vec<u8>, Option<u64>, (String, Vec<Vec<u8>>));

    fn read_all(bytes: &[u8]) -> (Result<Summary, SnapError>, Vec<Key>) {
        let mut got = Vec::new();
        let r = read(bytes, &Limits::default(), |db, k, exp, v| got.push((db, k.to_vec(), exp, flat_restored(&v))));
        (r, got)
    }

    fn write_all(entries: &[(usize, Entry)]) -> Vec<u8> {
        let lim = Limits::default();
        let mut w = Writer::new(&META);
        let mut file = Vec::new();
        for (db, e) in entries {
            w.add(*db, e, &lim);
            file.extend(w.take());
        }
        file.extend(w.finish());
        file
    }

    fn every_type() -> Vec<(usize, Entry)> {
        let lim = Limits::default();
        let mut v = vec![
            (0, string("int", b"12345", None)),
            (0, string("neg", b"-7", Some(1_800_000_000_000))),
            (0, string("small", b"hello", None)),
            (0, string("empty", b"", None)),
            (0, string("big-noise", &noise(1 << 20, 7), Some(1))),
            (3, string("big-text", &b"abc".repeat(100_000), None)),
        ];
        let mut small_list = List::new();
        for x in ["a", "bb", "123"] {
            small_list.push_back(x.as_bytes(), &lim);
        }
        let mut big_list = List::new();
        for i in 0..10_000 {
            big_list.push_back(format!("element-{i}").as_bytes(), &lim);
        }
        v.push((0, obj("list-small", Value::List(small_list), None)));
        v.push((3, obj("list-big", Value::List(big_list), Some(2_000_000_000_000))));
        let mut small_hash = Hash::new();
        small_hash.insert(b"f", b"v", &lim);
        small_hash.insert(b"n", b"42", &lim);
        let mut big_hash = Hash::new();
        for i in 0..1000 {
            big_hash.insert(format!("field:{i}").as_bytes(), &noise(20, i + 1), &lim);
        }
        v.push((15, obj("hash-small", Value::Hash(small_hash), None)));
        let mut stream = crate::types::Stream::new();
        for i in 1..=500u64 {
            let fields = [
                format!("f{}", i % 3),
                noise(i as usize % 50 + 1, i).iter().map(|b| b % 26 + b'a').map(char::from).collect(),
            ];
            stream
                .add(
                    crate::types::stream::NewId::Given(crate::types::stream::StreamId::new(i / 7, i % 7)),
                    &fields,
                    0,
                    &lim,
                )
                .unwrap();
        }
        stream.delete_ids(&[crate::types::stream::StreamId::new(0, 1), crate::types::stream::StreamId::new(30, 2)]);
        v.push((2, obj("stream", Value::Stream(Box::new(stream)), None)));
        v.push((2, obj("stream-empty", Value::Stream(Box::default()), None)));
        v.push((15, obj("hash-big", Value::Hash(big_hash), None)));
        let set = |members: Vec<String>| {
            let mut s = Set::new();
            for m in members {
                s.insert(m.as_bytes(), &lim);
            }
            Value::Set(s)
        };
        v.push((0, obj("set-ints", set((0..100).map(|i| (i * 37 - 1000).to_string()).collect()), None)));
        v.push((0, obj("set-ints-big", set((0..600).map(|i| i.to_string()).collect()), None)));
        v.push((0, obj("set-small", set(vec!["x".into(), "y".into()]), None)));
        v.push((0, obj("set-big", set((0..1000).map(|i| format!("m{i}")).collect()), Some(5))));
        let zset = |n: usize| {
            let mut z = ZSet::new();
            for i in 0..n {
                z.insert(format!("member-{i}").as_bytes(), i as f64 * 1.5 - 3.0, &lim);
            }
            z.insert(b"top", f64::INFINITY, &lim);
            z.insert(b"bottom", f64::NEG_INFINITY, &lim);
            Value::ZSet(z)
        };
        v.push((1, obj("zset-small", zset(5), None)));
        v.push((1, obj("zset-big", zset(500), None)));
        v
    }

    #[test]
    fn round_trip_every_type() {
        let entries = every_type();
        let encodings: Vec<String> = entries.iter().map(|(_, e)| flat_entry(e).0).collect();
        for want in ["list/quicklist", "hash/listpack", "hash/hashtable", "set/intset", "set/listpack"] {
            assert!(encodings.iter().any(|e| e == want), "no {want} in {encodings:?}");
        }
        for want in ["set/hashtable", "zset/listpack", "zset/skiplist"] {
            assert!(encodings.iter().any(|e| e == want), "no {want} in {encodings:?}");
        }
        let file = write_all(&entries);
        assert!(is_snapshot(&file));
        let (r, got) = read_all(&file);
        let s = r.unwrap();
        assert_eq!(s.meta, META);
        assert_eq!(s.keys, entries.len() as u64);
        assert_eq!(s.per_db, vec![(0, 10), (1, 2), (2, 2), (3, 2), (15, 2)]);
        assert_eq!(s.with_expiry, 4);
        assert_eq!(s.bytes, file.len() as u64);
        assert!(s.blocks >= 5, "the noise alone spans 4 blocks: {}", s.blocks);
        assert!(file.len() < (1 << 20) + 200_000, "compressed: {}", file.len());
        assert_eq!(got.len(), entries.len());
        for ((db, e), (gdb, key, exp, value)) in entries.iter().zip(&got) {
            assert_eq!((*db, e.key(), e.expire_at()), (*gdb, &key[..], *exp));
            assert_eq!(flat_entry(e), *value, "{}", String::from_utf8_lossy(e.key()));
        }
    }

    #[test]
    fn empty_snapshot() {
        let file = Writer::new(&META).finish();
        assert_eq!(file.len(), HEADER_LEN + TRAILER_LEN);
        let (r, got) = read_all(&file);
        let s = r.unwrap();
        assert_eq!((s.keys, s.blocks, s.with_expiry, s.per_db.len()), (0, 0, 0, 0));
        assert!(got.is_empty());
    }

    #[test]
    fn take_at_any_time_gives_the_same_file() {
        let entries = every_type();
        let lim = Limits::default();
        let mut w = Writer::new(&META);
        for (db, e) in &entries {
            w.add(*db, e, &lim);
        }
        assert_eq!(w.keys(), entries.len() as u64);
        assert_eq!(w.finish(), write_all(&entries));
    }

    #[test]
    fn add_parts_matches_add() {
        let lim = Limits::default();
        let e = string("k", b"some value", Some(99));
        let mut a = Writer::new(&META);
        a.add(2, &e, &lim);
        let mut value = Vec::new();
        write_value(&e, &lim, &mut value);
        let mut b = Writer::new(&META);
        b.add_parts(2, b"k", Some(99), &value);
        assert_eq!(a.finish(), b.finish());
    }

    fn small_file() -> Vec<u8> {
        let lim = Limits::default();
        let mut l = List::new();
        l.push_back(b"x", &lim);
        write_all(&[
            (0, string("a", b"1", None)),
            (1, string("b", b"hello", Some(1_800_000_000_000))),
            (2, obj("c", Value::List(l), None)),
        ])
    }

    #[test]
    fn every_truncation_is_reported_where_the_file_ends() {
        let file = small_file();
        for len in 0..file.len() {
            let (r, got) = read_all(&file[..len]);
            assert_eq!(r, Err(SnapError::Truncated { offset: len as u64 }), "length {len}");
            assert!(got.is_empty(), "length {len}");
        }
        assert!(read_all(&file).0.is_ok());
    }

    #[test]
    fn every_flipped_byte_is_refused_before_any_key() {
        let file = small_file();
        for i in 0..file.len() {
            for mask in [0x01, 0x80, 0xff] {
                let mut bad = file.clone();
                bad[i] ^= mask;
                let (r, got) = read_all(&bad);
                assert!(r.is_err(), "byte {i} ^ {mask:#x}");
                assert!(got.is_empty(), "byte {i} ^ {mask:#x}");
            }
        }
    }

    /// The header and a data block of `raw` with the given length fields.
    fn file_with_block(raw: &[u8], raw_len: u32, comp_len: Option<u32>, keys: u64) -> Vec<u8> {
        let mut f = Writer::new(&META).take();
        let comp = lz4_flex::block::compress(raw);
        let start = f.len();
        f.push(BLOCK_DATA);
        f.extend_from_slice(&raw_len.to_le_bytes());
        f.extend_from_slice(&comp_len.unwrap_or(comp.len() as u32).to_le_bytes());
        let crc = crc64(&[&f[start..], &comp]);
        f.extend_from_slice(&crc.to_le_bytes());
        f.extend_from_slice(&comp);
        with_trailer(f, keys)
    }

    fn with_trailer(mut f: Vec<u8>, keys: u64) -> Vec<u8> {
        f.push(BLOCK_END);
        f.extend_from_slice(&keys.to_le_bytes());
        let crc = crc64(&[&f]);
        f.extend_from_slice(&crc.to_le_bytes());
        f
    }

    fn records(raw: &[u8], keys: u64) -> Vec<u8> {
        file_with_block(raw, raw.len() as u32, None, keys)
    }

    fn corrupt_why(r: Result<Summary, SnapError>) -> String {
        match r {
            Err(SnapError::Corrupt { why, .. }) => why,
            other => panic!("not corrupt: {other:?}"),
        }
    }

    #[test]
    fn huge_lengths_fail_cleanly() {
        let good = [OP_KEY, 0, 0, 1, b'k', 2, 0, 0];
        assert_eq!(read_all(&records(&good, 1)).0.unwrap().keys, 1);
        // A block claiming 4 GiB uncompressed, with a valid checksum.
        let r = read_all(&file_with_block(&good, u32::MAX, None, 1)).0;
        assert!(corrupt_why(r).contains("block of 4294967295 bytes"));
        // A block claiming more compressed bytes than the file has.
        let r = read_all(&file_with_block(&good, 8, Some(u32::MAX), 1)).0;
        assert!(matches!(r, Err(SnapError::Truncated { .. })), "{r:?}");
        // Key and value lengths of 2^64-1 and 2^40.
        let mut rec = vec![OP_KEY, 0, 0];
        put_varint(&mut rec, u64::MAX);
        rec.push(b'k');
        assert!(corrupt_why(read_all(&records(&rec, 1)).0).contains("runs past the end"));
        let mut rec = vec![OP_KEY, 0, 0, 1, b'k'];
        put_varint(&mut rec, 1 << 40);
        rec.push(0);
        assert!(corrupt_why(read_all(&records(&rec, 1)).0).contains("runs past the end"));
        // A list value claiming 2^40 elements.
        let mut value = vec![1u8];
        crate::cmd::keys::dump::save_len(&mut value, 1 << 40);
        let mut rec = vec![OP_KEY, 0, 0, 1, b'k', value.len() as u8];
        rec.extend_from_slice(&value);
        assert!(corrupt_why(read_all(&records(&rec, 1)).0).contains("does not decode"));
        // A number over 64 bits.
        let rec = [OP_KEY, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0];
        assert!(corrupt_why(read_all(&records(&rec, 1)).0).contains("over 64 bits"));
    }

    #[test]
    fn malformed_but_checksummed_data_is_refused() {
        let why = |raw: &[u8], keys| corrupt_why(read_all(&records(raw, keys)).0);
        assert!(why(&[7, 0, 0, 1, b'k', 2, 0, 0], 1).contains("unknown record type 7"));
        assert!(why(&[OP_KEY, 0, 2, 1, b'k', 2, 0, 0], 1).contains("unknown record flags 0x02"));
        assert!(why(&[OP_KEY, 0, 0, 1, b'k', 0], 1).contains("empty value"));
        // A value with a byte its encoding does not use.
        assert!(why(&[OP_KEY, 0, 0, 1, b'k', 3, 0, 0, 9], 1).contains("does not decode"));
        // A record cut short by the end of the data.
        assert!(why(&[OP_KEY, 0, 1, 0, 0], 0).contains("not a whole record"));
        assert!(why(&[OP_KEY, 0, 0, 1, b'k', 2, 0, 0], 2).contains("trailer counts 2 keys, the blocks hold 1"));
        // Bytes after the trailer, an unknown block kind, a bad shard index.
        let mut f = small_file();
        f.push(0);
        assert_eq!(read_all(&f).0, Err(corrupt(f.len() - 1, "data after the trailer")));
        let mut f = Writer::new(&META).take();
        f.push(9);
        assert_eq!(read_all(&with_trailer(f, 0)).0, Err(corrupt(HEADER_LEN, "unknown block kind 9")));
        let f = Writer::new(&Meta { shard: 3, shards: 3, created_ms: 0 }).finish();
        assert!(corrupt_why(read_all(&f).0).contains("shard index 3 of 3"));
    }

    #[test]
    fn other_files_and_versions() {
        assert_eq!(read_all(b"REDIS0010\xfa").0, Err(SnapError::NotSnapshot));
        assert!(!is_snapshot(b"REDIS0010"));
        let mut f = small_file();
        f[8] = 2;
        assert_eq!(read_all(&f).0, Err(SnapError::Version(2)));
        assert_eq!(
            SnapError::Version(2).to_string(),
            "snapshot format version 2 is not supported (this build reads version 1)"
        );
        assert_eq!(
            corrupt(40, "block checksum mismatch").to_string(),
            "snapshot corrupt at byte offset 40: block checksum mismatch"
        );
    }

    #[test]
    fn checksums_are_crc64_xz_and_varints_leb128() {
        assert_eq!(crc64(&[b"1234", b"56789"]), 0x995dc9bbdf1939fa);
        for v in [0, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            let mut pos = 0;
            assert_eq!(get_varint(&b, &mut pos), Ok(Some(v)));
            assert_eq!(pos, b.len());
            pos = 0;
            assert_eq!(get_varint(&b[..b.len() - 1], &mut pos), Ok(None));
        }
        assert_eq!(utc(0), "1970-01-01 00:00:00.000 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00.000 UTC");
        assert_eq!(utc(951_868_800_000), "2000-03-01 00:00:00.000 UTC");
        assert_eq!(utc(META.created_ms), "2026-11-18 11:06:40.123 UTC");
    }

    #[test]
    fn errors_name_the_block() {
        // Two blocks: a value of 300 KiB of noise fills the first and spills over.
        let file = write_all(&[(0, string("a", &noise(300 << 10, 3), None)), (0, string("b", b"x", None))]);
        let (meta, blocks, keys) = verify_structure(&file).unwrap();
        assert_eq!((meta, blocks.len(), keys), (META, 2, 2));
        let second = blocks[1].offset;
        let mut bad = file.clone();
        bad[second + BLOCK_HEAD_LEN + 3] ^= 0x10;
        assert_eq!(read_all(&bad).0, Err(corrupt(second, "block checksum mismatch")));
        // Cut at the second block or at the trailer: truncated there.
        for cut in [second, file.len() - TRAILER_LEN] {
            assert_eq!(read_all(&file[..cut]).0, Err(SnapError::Truncated { offset: cut as u64 }));
        }
        // A record that starts in the second block names it and its place in it.
        let n = BLOCK_SIZE - 14;
        let mut value = vec![0];
        crate::cmd::keys::dump::save_len(&mut value, n as u64);
        value.extend(noise(n, 5));
        let mut w = Writer::new(&META);
        w.add_parts(0, b"k", None, &value);
        let mut file = w.take();
        assert!(w.raw.is_empty(), "the record fills the first block exactly");
        w.raw.push(0xee);
        file.extend(w.finish());
        let (_, blocks, _) = verify_structure(&file).unwrap();
        let (r, got) = read_all(&file);
        assert_eq!(
            r,
            Err(corrupt(blocks[1].offset, "key record 2 at byte 0 of the block's data: unknown record type 238"))
        );
        assert_eq!(got.len(), 1);
    }

    /// A file whose record stream is `raw`, cut into blocks as the writer cuts it.
    fn file_of_raw(raw: &[u8], keys: u64) -> Vec<u8> {
        let mut w = Writer::new(&META);
        for chunk in raw.chunks(BLOCK_SIZE) {
            emit_block(&mut w.out, &mut w.digest, BLOCK_DATA, chunk);
        }
        w.keys = keys;
        w.finish()
    }

    #[test]
    fn garbage_records_with_good_checksums_never_panic() {
        let lim = Limits::default();
        let mut w = Writer::new(&META);
        for (db, e) in every_type().iter().filter(|(_, e)| e.key().len() < 6 || e.key().ends_with(b"-small")) {
            w.add(*db, e, &lim);
        }
        let good = std::mem::take(&mut w.raw);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut ok = 0;
        for _ in 0..3000 {
            let mut raw = good.clone();
            for _ in 0..1 + next() % 4 {
                let i = (next() % raw.len() as u64) as usize;
                match next() % 4 {
                    0 => raw[i] = next() as u8,
                    1 => raw[i] ^= 1 << (next() % 8),
                    2 => raw.truncate(i),
                    _ => raw.insert(i, next() as u8),
                }
                if raw.is_empty() {
                    raw.push(0);
                }
            }
            let keys = next() % 12;
            if read_all(&file_of_raw(&raw, keys)).0.is_ok() {
                ok += 1;
            }
        }
        assert!(ok < 3000);
    }

    #[test]
    fn check_tool() {
        let dir = std::env::temp_dir().join(format!("tessera-check-snapshot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let at = |name: &str| dir.join(name).to_string_lossy().into_owned();
        let run = |path: &str| check(&[path.to_string()]);
        let p = at("one.tsnap");
        std::fs::write(&p, small_file()).unwrap();
        let c = run(&p);
        assert_eq!((c.code, c.stderr.as_str()), (0, ""), "{}", c.stdout);
        let want = format!(
            "{p}\nformat version: 1\nshard: 1 of 3\ncreated: 2026-11-18 11:06:40.123 UTC (1795000000123 ms)\n\
             keys: 3 (1 with an expiry)\n  db0: 1 keys\n  db1: 1 keys\n  db2: 1 keys\nblocks: 1\nbytes: {}\nsnapshot OK\n",
            small_file().len()
        );
        assert_eq!(c.stdout, want);
        // A damaged part: one line on stderr, naming the file, the offset and the tool.
        let mut bad = small_file();
        let n = bad.len();
        bad[n - 20] ^= 1;
        std::fs::write(&p, &bad).unwrap();
        let c = run(&p);
        assert_eq!((c.code, c.stdout.as_str()), (1, ""));
        assert_eq!(
            c.stderr,
            format!("{p}: snapshot corrupt at byte offset 30: block checksum mismatch (tessera check-snapshot)\n")
        );
        std::fs::write(&p, b"REDIS0010\xfa\x09redis-ver").unwrap();
        assert!(run(&p).stderr.contains("a Redis RDB file, not a Tessera snapshot"));
        // A set file naming two parts, in shard order.
        let part = |shard| {
            let lim = Limits::default();
            let mut w = Writer::new(&Meta { shard, shards: 2, created_ms: 5 });
            for i in 0..=shard {
                w.add(0, &string(&format!("k{i}"), b"v", None), &lim);
            }
            w.finish()
        };
        std::fs::write(at("p0.tsnap"), part(0)).unwrap();
        std::fs::write(at("p1.tsnap"), part(1)).unwrap();
        let set = at("dump.rdb");
        let header = super::super::save::SET_HEADER;
        std::fs::write(&set, format!("{header}\nshards 2\npart p0.tsnap\npart p1.tsnap\n")).unwrap();
        let c = run(&set);
        assert_eq!((c.code, c.stderr.as_str()), (0, ""), "{}", c.stdout);
        assert!(c.stdout.starts_with(&format!("{set}: snapshot set of 2 parts\n")), "{}", c.stdout);
        assert!(c.stdout.ends_with("snapshot set OK: 2 parts, 3 keys\n"), "{}", c.stdout);
        assert_eq!(c.stdout.matches("snapshot OK\n").count(), 2);
        // Parts in the wrong order, a missing part.
        std::fs::write(&set, format!("{header}\nshards 2\npart p1.tsnap\npart p0.tsnap\n")).unwrap();
        let c = run(&set);
        assert_eq!(c.code, 1);
        assert!(
            c.stderr.contains("p1.tsnap: the set file names it as part 0 of 2, but it is shard 1 of 2"),
            "{}",
            c.stderr
        );
        std::fs::write(&set, format!("{header}\nshards 2\npart p0.tsnap\npart gone.tsnap\n")).unwrap();
        let c = run(&set);
        assert_eq!(c.code, 2);
        assert!(c.stderr.contains("gone.tsnap: cannot read"), "{}", c.stderr);
        std::fs::remove_dir_all(&dir).unwrap();
        // Usage and I/O errors.
        assert_eq!(run(&p).code, 2);
        assert_eq!(check(&[]).code, 2);
        assert_eq!(check(&[p.clone(), p]).code, 2);
        assert_eq!(check(&["--help".into()]).code, 0);
    }
}
