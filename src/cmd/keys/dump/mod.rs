//! DUMP and RESTORE, with Redis's payload format byte for byte:
//!
//! ```text
//! [RDB type:1][RDB-encoded value][RDB version:2 LE][CRC-64 Jones:8 LE]
//! ```
//!
//! DUMP writes what Redis 7.0 writes: strings with integer and LZF encodings,
//! lists as a quicklist of listpacks, small hashes and sorted sets as one
//! listpack, integer sets as an intset, larger ones element by element,
//! streams as their nodes verbatim (RDB type 19).
//! RESTORE reads every list, hash, set and sorted-set type an RDB 10 payload
//! can hold, down to the ziplists and zipmaps of older versions, and builds
//! the value in the encoding its size calls for.

mod codec;
mod rdb;
mod stream;
#[cfg(test)]
mod tests;
mod value;
mod zset;

use bytes::Bytes;

use crate::db::evict::{lfu_minutes, Access};

use super::object::LRU_CLOCK_MAX;
use crate::cmd::{args, CmdError, CmdResult, Ctx, Ks, OpError};
use crate::db::{Clock, Entry, StrEncoding};
use crate::resp::Out;
use crate::shard::signal::class;
use crate::types::{Limits, Value};
use rdb::finish_payload;
pub(crate) use rdb::{save_len, save_string, verify_payload, Reader};

/// The DUMP payload of a string value.
pub(crate) fn dump_string(value: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(value.len() + 16);
    p.push(value::RDB_TYPE_STRING);
    save_string(&mut p, value);
    finish_payload(p)
}

/// The DUMP payload of a collection; `lim` decides where list nodes are cut.
pub(crate) fn dump_collection(v: &Value, lim: &Limits) -> Vec<u8> {
    let mut p = Vec::new();
    value::dump_value(v, lim, &mut p);
    finish_payload(p)
}

/// The DUMP payload of a key's value.
pub(crate) fn dump_entry(e: &Entry, lim: &Limits) -> Vec<u8> {
    match e.obj() {
        Some(v) => dump_collection(v, lim),
        None => dump_string(e.value()),
    }
}

/// Appends a key's value as RDB files hold it (Redis's `rdbSaveObjectType`
/// then `rdbSaveObject`): its RDB type byte, then its encoding. Snapshots use
/// this too, so their type tags are Redis's and never change meaning.
pub(crate) fn write_value(e: &Entry, lim: &Limits, out: &mut Vec<u8>) {
    match e.obj() {
        Some(v) => value::dump_value(v, lim, out),
        None => {
            out.push(value::RDB_TYPE_STRING);
            save_string(out, e.value());
        }
    }
}

/// Reads a value written by [`write_value`] (or by Redis into an RDB file,
/// for the types Tessera has); `None` for bad data.
pub(crate) fn read_value(r: &mut Reader<'_>, lim: &Limits) -> Option<Restored> {
    match r.byte()? {
        value::RDB_TYPE_STRING => r.string().map(Restored::String),
        t => value::load_value(t, r, lim).map(Restored::Value),
    }
}

/// Builds the entry for a value read back, with its absolute expiry.
pub(crate) fn restored_entry(key: &[u8], value: Restored, expire_at_ms: Option<u64>) -> Entry {
    match value {
        Restored::String(v) => Entry::new_string(key, &v, StrEncoding::for_value(&v), expire_at_ms),
        Restored::Value(v) => Entry::new_obj(key, v, expire_at_ms),
    }
}

/// A value read from a DUMP payload.
#[derive(Debug)]
pub(crate) enum Restored {
    String(Vec<u8>),
    Value(Value),
}

/// The value of a verified DUMP payload, or `None` for what Redis calls bad
/// data. Collections are built in the encodings `lim` calls for.
pub(crate) fn load_payload(p: &[u8], lim: &Limits) -> Option<Restored> {
    read_value(&mut Reader::new(p), lim)
}

/// DUMP key — O(1) to find the key, O(N) in the value size.
pub(super) fn cmd_dump(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let mut ks = Ks::of(ctx);
    let lim = ks.limits;
    match ks.read(&args[1]) {
        Some(e) => out.bulk(&dump_entry(e, &lim)),
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
    let mut ks = Ks::of(ctx);
    let key = &args[1];
    if !opts.replace && ks.write(key).is_some() {
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
    let value = load_payload(payload, &ks.limits).ok_or_else(|| CmdError::err("Bad data format"))?;
    let deleted = opts.replace && ks.remove(key).is_some();
    let now = ks.now_ms() as i64;
    let expire_at = match ttl {
        0 => None,
        t if opts.absttl => Some(t),
        t => Some(t.wrapping_add(now)),
    };
    if expire_at.is_some_and(|at| at <= now) {
        // Already expired: the key is not created (an old one is still replaced).
        if deleted {
            ks.changed(class::GENERIC, "del", key);
        }
        out.ok();
        return Ok(());
    }
    let at = expire_at.map(|at| at as u64);
    let mut e = restored_entry(key, value, at);
    // Redis's objectSetLRUOrLFU: FREQ counts under an LFU policy, IDLETIME otherwise.
    let access = match (ks.clock.access, opts.freq, opts.idletime) {
        (Access::Lfu { .. }, Some(f), _) => (lfu_minutes(ks.clock.now_ms) << 8) | f as u32,
        (Access::Lfu { .. }, None, _) | (_, _, None) => ks.clock.fresh_access(),
        (_, _, Some(idle)) => lru_for_idle(ks.clock, idle),
    };
    e.set_access(access);
    // Inserting wakes clients blocked on the key.
    ks.notify(class::NEW, "new", key);
    ks.db.insert(e);
    ks.changed(class::GENERIC, "restore", key);
    out.ok();
    Ok(())
}
