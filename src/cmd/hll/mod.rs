//! HyperLogLog commands over string values: PFADD, PFCOUNT, PFMERGE, PFDEBUG
//! and PFSELFTEST, as Redis 7.0's hyperloglog.c runs them on the
//! representation in [`crate::types::hll`].
//!
//! A dense value is changed in place in its entry; a sparse one is copied,
//! changed and stored back raw (Redis unshares the value into a raw sds, so
//! OBJECT ENCODING says "raw" afterwards either way). PFCOUNT of one key
//! writes the estimate into the value's cached cardinality as Redis does:
//! a change of the key (WATCH, AOF) that replaying PFCOUNT reproduces.
//! Several keys spread over shards are united by the coordinators in
//! [`merge`].

mod merge;
#[cfg(test)]
mod tests;

use bytes::Bytes;

use super::string::str_value;
use super::{CmdError, CmdResult, Ctx, Handler, Ks};
use crate::db::{Entry, StrEncoding};
use crate::on_shard;
use crate::resp::Out;
use crate::shard::signal::class;
use crate::types::hll::{self, Encoding, HDR_SIZE, REGISTERS};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("pfadd", Handler::Sync(pfadd)),
    ("pfcount", Handler::SyncCross(on_shard!(pfcount), crate::async_handler!(merge::cross_pfcount))),
    ("pfmerge", Handler::SyncCross(pfmerge, crate::async_handler!(merge::cross_pfmerge))),
    ("pfdebug", Handler::Sync(on_shard!(pfdebug))),
    ("pfselftest", Handler::Sync(pfselftest)),
];

/// Registers of a union, as Redis's `max` array.
type Registers = Box<[u8; REGISTERS]>;

fn not_hll() -> CmdError {
    CmdError::new("WRONGTYPE Key is not a valid HyperLogLog string value.")
}

fn corrupt() -> CmdError {
    CmdError::new("INVALIDOBJ Corrupted HLL object detected")
}

/// Redis's `isHLLObjectOrReply`: the HLL string behind an entry and its
/// encoding; the usual WRONGTYPE for another type, HLL's own for a string
/// that is not one.
fn checked(e: &Entry) -> Result<(&[u8], Encoding), CmdError> {
    let v = str_value(e)?;
    let enc = hll::check(v).ok_or_else(not_hll)?;
    Ok((v, enc))
}

/// Stores `v` back at `key`, raw, keeping the TTL (Redis's unshared sds).
fn put_back(ks: &mut Ks<'_>, key: &[u8], v: &[u8], ttl: Option<u64>) {
    ks.overwrite(Entry::new_string(key, v, StrEncoding::Raw, ttl));
}

/// PFADD key [element ...] — O(1) per element. 1 if a register changed or
/// the key was created.
fn pfadd(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let max_bytes = ctx.state.config.hll_sparse_max_bytes;
    pfadd_in(&mut Ks::of(ctx), args, max_bytes, out)
}

fn pfadd_in(ks: &mut Ks<'_>, args: &[Bytes], max_bytes: usize, out: &mut Out) -> CmdResult {
    let (key, elements) = (&args[1], &args[2..]);
    // `raw`: None for a new key, else whether the value is a raw string.
    let (mut v, ttl, raw) = match ks.write(key) {
        None => (hll::new_empty(), None, None),
        Some(e) => {
            let (v, enc) = checked(e)?;
            if enc == Encoding::Dense && e.encoding() == StrEncoding::Raw {
                let value = e.value_mut();
                let mut updated = false;
                for ele in elements {
                    updated |= hll::dense_add(&mut value[HDR_SIZE..], ele);
                }
                if updated {
                    hll::invalidate(value);
                    ks.changed(class::STRING, "pfadd", key);
                }
                out.int(i64::from(updated));
                return Ok(());
            }
            (v.to_vec(), e.expire_at(), Some(e.encoding() == StrEncoding::Raw))
        }
    };
    let created = raw.is_none();
    let mut updated = created;
    let mut failed = false;
    for ele in elements {
        match hll::add(&mut v, ele, max_bytes) {
            Ok(changed) => updated |= changed,
            Err(hll::Corrupt) => {
                // Registers set before the corruption was found stay set,
                // as in Redis, but nothing is signalled.
                failed = true;
                break;
            }
        }
    }
    if updated && !failed {
        hll::invalidate(&mut v);
    }
    if created {
        ks.insert(Entry::new_string(key, &v, StrEncoding::Raw, None));
    } else if updated || raw == Some(false) {
        put_back(ks, key, &v, ttl);
    }
    if failed {
        return Err(corrupt());
    }
    if updated {
        ks.changed(class::STRING, "pfadd", key);
    }
    out.int(i64::from(updated));
    Ok(())
}

/// PFCOUNT key [key ...] — O(1) with a valid cached cardinality, else O(N)
/// in the registers; several keys: the cardinality of their union.
fn pfcount(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    if args.len() > 2 {
        let mut max: Registers = Box::new([0; REGISTERS]);
        union_local(ks, &args[1..], &mut max)?;
        out.int(hll::estimate(&hll::histogram_raw(&max)) as i64);
        return Ok(());
    }
    let key = &args[1];
    let Some(e) = ks.read(key) else {
        out.int(0);
        return Ok(());
    };
    let (v, _) = checked(e)?;
    let raw = e.encoding() == StrEncoding::Raw;
    let (card, fresh) = match hll::cached(v) {
        Some(card) => (Ok(card), false),
        None => (hll::count(v), true),
    };
    if let Some(e) = ks.write(key) {
        // Unshared into a raw string before the count, as in Redis.
        if raw {
            if let (Ok(card), true) = (card, fresh) {
                hll::set_cached(e.value_mut(), card);
            }
        } else {
            let mut v = e.value().to_vec();
            let ttl = e.expire_at();
            if let (Ok(card), true) = (card, fresh) {
                hll::set_cached(&mut v, card);
            }
            put_back(ks, key, &v, ttl);
        }
    }
    let card = card.map_err(|_| corrupt())?;
    if fresh {
        // The cache is part of the string: a change, without an event.
        ks.modified(key);
    }
    out.int(card as i64);
    Ok(())
}

/// Merges the HLLs at `keys` on this shard into `max` (missing keys count
/// as empty). Whether any was dense.
fn union_local(ks: &mut Ks<'_>, keys: &[Bytes], max: &mut [u8; REGISTERS]) -> Result<bool, CmdError> {
    let mut dense = false;
    for key in keys {
        let Some(e) = ks.read(key) else { continue };
        let (v, enc) = checked(e)?;
        dense |= enc == Encoding::Dense;
        hll::merge_into(max, v).map_err(|_| corrupt())?;
    }
    Ok(dense)
}

/// PFMERGE destkey [sourcekey ...] — O(N) in the number of sources. The
/// destination is a source too.
fn pfmerge(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let max_bytes = ctx.state.config.hll_sparse_max_bytes;
    pfmerge_in(&mut Ks::of(ctx), args, max_bytes, out)
}

fn pfmerge_in(ks: &mut Ks<'_>, args: &[Bytes], max_bytes: usize, out: &mut Out) -> CmdResult {
    let mut max: Registers = Box::new([0; REGISTERS]);
    let dense = union_local(ks, &args[1..], &mut max)?;
    store_merged(ks, &args[1], &max, dense, max_bytes)?;
    out.ok();
    Ok(())
}

/// PFMERGE's write of the union `max` into `dst` as Redis 7.0 does it: a
/// missing destination starts as an empty sparse HLL, it becomes dense when
/// any input was (`dense`), and the registers are raised one by one (a
/// sparse destination may be promoted on the way).
fn store_merged(
    ks: &mut Ks<'_>,
    dst: &[u8],
    max: &[u8; REGISTERS],
    dense: bool,
    max_bytes: usize,
) -> Result<(), CmdError> {
    let (mut v, ttl, created) = match ks.write(dst) {
        None => (hll::new_empty(), None, true),
        Some(e) => {
            // Checked as a source already; checked again because this is
            // the value that is written to.
            let (v, enc) = checked(e)?;
            if enc == Encoding::Dense && e.encoding() == StrEncoding::Raw {
                let value = e.value_mut();
                for (i, &m) in max.iter().enumerate() {
                    if m != 0 {
                        hll::dense_set(&mut value[HDR_SIZE..], i, m);
                    }
                }
                hll::invalidate(value);
                ks.changed(class::STRING, "pfadd", dst);
                return Ok(());
            }
            (v.to_vec(), e.expire_at(), false)
        }
    };
    if dense {
        match hll::to_dense(&v) {
            Ok(d) => v = d,
            Err(hll::Corrupt) => {
                // Only an existing destination can be corrupt: Redis has
                // unshared it into a raw string by then.
                put_back(ks, dst, &v, ttl);
                return Err(corrupt());
            }
        }
    }
    hll::set_registers(&mut v, max, max_bytes);
    hll::invalidate(&mut v);
    if created {
        ks.insert(Entry::new_string(dst, &v, StrEncoding::Raw, None));
    } else {
        put_back(ks, dst, &v, ttl);
    }
    // Redis publishes "pfadd" for a merge: in effect a mass add.
    ks.changed(class::STRING, "pfadd", dst);
    Ok(())
}

/// PFDEBUG subcommand key — GETREG, DECODE, ENCODING or TODENSE.
fn pfdebug(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (sub, key) = (&args[1], &args[2]);
    let Some(e) = ks.write(key) else {
        return Err(CmdError::err("The specified key does not exist"));
    };
    let (v, enc) = checked(e)?;
    let (v, ttl, raw) = (v.to_vec(), e.expire_at(), e.encoding() == StrEncoding::Raw);
    if !raw {
        put_back(ks, key, &v, ttl);
    }
    // GETREG and TODENSE leave a sparse value dense. Redis only propagates
    // that; here it is a change (so the append-only file has it).
    let to_dense = |ks: &mut Ks<'_>| -> Result<Vec<u8>, CmdError> {
        let dense = hll::to_dense(&v).map_err(|_| corrupt())?;
        put_back(ks, key, &dense, ttl);
        ks.modified(key);
        Ok(dense)
    };
    if crate::cmd::args::is(sub, "getreg") {
        let dense = if enc == Encoding::Sparse { to_dense(ks)? } else { v.clone() };
        out.array(REGISTERS);
        for i in 0..REGISTERS {
            out.int(i64::from(hll::dense_get(&dense[HDR_SIZE..], i)));
        }
    } else if crate::cmd::args::is(sub, "decode") {
        if enc != Encoding::Sparse {
            return Err(CmdError::err("HLL encoding is not sparse"));
        }
        out.bulk(hll::decode(&v).as_bytes());
    } else if crate::cmd::args::is(sub, "encoding") {
        out.simple(enc.name());
    } else if crate::cmd::args::is(sub, "todense") {
        let converted = enc == Encoding::Sparse;
        if converted {
            to_dense(ks)?;
        }
        out.int(i64::from(converted));
    } else {
        return Err(CmdError::err(format!("Unknown PFDEBUG subcommand '{}'", printable(sub))));
    }
    Ok(())
}

/// An argument as Redis's `%s` shows it in an error: up to a NUL byte, with
/// line breaks turned into spaces.
fn printable(arg: &[u8]) -> String {
    let end = arg.iter().position(|&b| b == 0).unwrap_or(arg.len());
    String::from_utf8_lossy(&arg[..end]).replace(['\r', '\n'], " ")
}

/// PFSELFTEST — Redis's self test of the register code and the estimator
/// (ten million additions: it holds this shard for a while, as it holds Redis).
fn pfselftest(ctx: &mut Ctx<'_>, _args: &[Bytes], out: &mut Out) -> CmdResult {
    let max_bytes = ctx.state.config.hll_sparse_max_bytes;
    let rng = &mut ctx.state.rng;
    hll::selftest(|| crate::shard::xorshift(rng), max_bytes).map_err(CmdError::err)?;
    out.ok();
    Ok(())
}
