//! String commands: GET/SET and their variants here; counters, ranges,
//! multi-key commands and LCS in the submodules.
//!
//! Every handler takes a [`Ks`] (the owning shard's database, counters, clock
//! and string size limit) rather than the full `Ctx`, so the same code runs for
//! a local command, inside a cross-shard coordinator's hop, and in unit tests
//! on a bare `Db`.

mod counter;
mod lcs;
pub(crate) mod ld;
mod multi;
mod range;
#[cfg(test)]
mod tests;

use bytes::Bytes;

use super::{args, CmdError, CmdResult, Handler, Ks, OpError};
use crate::db::{Entry, StrEncoding};
use crate::on_shard;
use crate::resp::Out;
use crate::shard::signal::class;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("get", Handler::Sync(on_shard!(get))),
    ("set", Handler::Sync(on_shard!(set))),
    ("setnx", Handler::Sync(on_shard!(setnx))),
    ("setex", Handler::Sync(on_shard!(setex))),
    ("psetex", Handler::Sync(on_shard!(psetex))),
    ("getset", Handler::Sync(on_shard!(getset))),
    ("getdel", Handler::Sync(on_shard!(getdel))),
    ("getex", Handler::Sync(on_shard!(getex))),
    ("append", Handler::Sync(on_shard!(range::append))),
    ("strlen", Handler::Sync(on_shard!(range::strlen))),
    ("getrange", Handler::Sync(on_shard!(range::getrange))),
    ("substr", Handler::Sync(on_shard!(range::getrange))),
    ("setrange", Handler::Sync(on_shard!(range::setrange))),
    ("incr", Handler::Sync(on_shard!(counter::incr))),
    ("decr", Handler::Sync(on_shard!(counter::decr))),
    ("incrby", Handler::Sync(on_shard!(counter::incrby))),
    ("decrby", Handler::Sync(on_shard!(counter::decrby))),
    ("incrbyfloat", Handler::Sync(on_shard!(counter::incrbyfloat))),
    ("mget", Handler::SyncCross(on_shard!(multi::mget), crate::async_handler!(multi::cross_mget))),
    ("mset", Handler::SyncCross(on_shard!(multi::mset), crate::async_handler!(multi::cross_mset))),
    ("msetnx", Handler::SyncCross(on_shard!(multi::msetnx), crate::async_handler!(multi::cross_msetnx))),
    ("lcs", Handler::SyncCross(on_shard!(lcs::lcs), crate::async_handler!(lcs::cross_lcs))),
];

/// The string behind an entry: `WRONGTYPE` for a collection.
pub fn str_value(e: &Entry) -> Result<&[u8], OpError> {
    if e.is_obj() {
        return Err(OpError::WrongType);
    }
    Ok(e.value())
}

/// The four ways to give an expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// Options of SET and GETEX, as Redis's `parseExtendedStringArgumentsOrReply` reads them.
#[derive(Debug, Default)]
struct SetOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<(Unit, &'a [u8])>,
}

/// Reads SET options (`for_set`) or GETEX options from `args[start..]`. As in
/// Redis, repeating the same expiry option is allowed (the last one wins), any
/// other combination of two expiry options is a syntax error.
fn parse_set_opts(args: &[Bytes], start: usize, for_set: bool) -> Result<SetOpts<'_>, CmdError> {
    let mut o = SetOpts::default();
    let mut j = start;
    while let Some(a) = args.get(j) {
        let next = args.get(j + 1);
        let unit = [("ex", Unit::Ex), ("px", Unit::Px), ("exat", Unit::ExAt), ("pxat", Unit::PxAt)]
            .into_iter()
            .find(|(w, _)| args::is(a, w))
            .map(|(_, u)| u);
        if for_set && args::is(a, "nx") && !o.xx {
            o.nx = true;
        } else if for_set && args::is(a, "xx") && !o.nx {
            o.xx = true;
        } else if for_set && args::is(a, "get") {
            o.get = true;
        } else if for_set && args::is(a, "keepttl") && !o.persist && o.expire.is_none() {
            o.keepttl = true;
        } else if !for_set && args::is(a, "persist") && o.expire.is_none() && !o.keepttl {
            o.persist = true;
        } else if let (Some(u), Some(v)) = (unit, next) {
            if o.keepttl || o.persist || o.expire.is_some_and(|(cur, _)| cur != u) {
                return Err(CmdError::syntax());
            }
            o.expire = Some((u, v));
            j += 1;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    Ok(o)
}

/// Redis's `getExpireMillisecondsOrReply`: the absolute expiry in ms, or
/// "invalid expire time" for values <= 0 and for overflows.
fn expire_at_ms(unit: Unit, arg: &[u8], now_ms: u64, cmd: &str) -> Result<u64, CmdError> {
    let v = args::int(arg)?;
    let seconds = matches!(unit, Unit::Ex | Unit::ExAt);
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(CmdError::invalid_expire(cmd));
    }
    let mut ms = if seconds { v * 1000 } else { v };
    if matches!(unit, Unit::Ex | Unit::Px) {
        // Redis adds in signed 64 bits and reports a wrap as invalid.
        ms = ms.wrapping_add(now_ms as i64);
    }
    if ms <= 0 {
        return Err(CmdError::invalid_expire(cmd));
    }
    Ok(ms as u64)
}

/// How SET-like commands answer: `+OK`/null (SET) or `:1`/`:0` (SETNX).
#[derive(Clone, Copy, PartialEq, Eq)]
enum SetReply {
    OkNull,
    OneZero,
}

/// Redis's `setGenericCommand`.
fn set_generic(
    ks: &mut Ks<'_>,
    key: &[u8],
    value: &[u8],
    o: &SetOpts<'_>,
    cmd: &str,
    reply: SetReply,
    out: &mut Out,
) -> CmdResult {
    let expire_at = match o.expire {
        Some((unit, arg)) => Some(expire_at_ms(unit, arg, ks.now_ms(), cmd)?),
        None => None,
    };
    if o.get {
        match ks.read(key) {
            Some(e) => out.bulk(str_value(e)?),
            None => out.null(),
        }
    }
    let old_ttl = ks.write(key).map(|e| e.expire_at());
    let found = old_ttl.is_some();
    if (o.nx && found) || (o.xx && !found) {
        if !o.get {
            match reply {
                SetReply::OkNull => out.null(),
                SetReply::OneZero => out.int(0),
            }
        }
        return Ok(());
    }
    // A past absolute expiry is stored as is and expires on next access, as in Redis 7.0.
    let ttl = if o.keepttl { old_ttl.flatten() } else { expire_at };
    ks.insert(Entry::new_string(key, value, StrEncoding::for_value(value), ttl));
    ks.changed(class::STRING, "set", key);
    if expire_at.is_some() {
        ks.notify(class::GENERIC, "expire", key);
    }
    if !o.get {
        match reply {
            SetReply::OkNull => out.ok(),
            SetReply::OneZero => out.int(1),
        }
    }
    Ok(())
}

/// GET key — O(1).
fn get(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    match ks.read(&args[1]) {
        Some(e) => out.bulk(str_value(e)?),
        None => out.null(),
    }
    Ok(())
}

/// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ms-ts | KEEPTTL] — O(1).
fn set(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let o = parse_set_opts(args, 3, true)?;
    set_generic(ks, &args[1], &args[2], &o, "set", SetReply::OkNull, out)
}

/// SETNX key value — O(1).
fn setnx(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let o = SetOpts { nx: true, ..SetOpts::default() };
    set_generic(ks, &args[1], &args[2], &o, "setnx", SetReply::OneZero, out)
}

/// SETEX key seconds value — O(1).
fn setex(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let o = SetOpts { expire: Some((Unit::Ex, &args[2][..])), ..SetOpts::default() };
    set_generic(ks, &args[1], &args[3], &o, "setex", SetReply::OkNull, out)
}

/// PSETEX key milliseconds value — O(1).
fn psetex(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let o = SetOpts { expire: Some((Unit::Px, &args[2][..])), ..SetOpts::default() };
    set_generic(ks, &args[1], &args[3], &o, "psetex", SetReply::OkNull, out)
}

/// GETSET key value — O(1). Replies with the old value; the TTL is dropped.
fn getset(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (key, value) = (&args[1], &args[2]);
    match ks.read(key) {
        Some(e) => out.bulk(str_value(e)?),
        None => out.null(),
    }
    ks.insert(Entry::new_string(key, value, StrEncoding::for_value(value), None));
    ks.changed(class::STRING, "set", key);
    Ok(())
}

/// GETDEL key — O(1).
fn getdel(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let key = &args[1];
    match ks.read(key) {
        Some(e) => out.bulk(str_value(e)?),
        None => {
            out.null();
            return Ok(());
        }
    }
    ks.remove(key);
    ks.changed(class::GENERIC, "del", key);
    Ok(())
}

/// GETEX key [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST] — O(1).
fn getex(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let o = parse_set_opts(args, 2, false)?;
    let key = &args[1];
    let now = ks.now_ms();
    let (at, had_ttl) = {
        let Some(e) = ks.read(key) else {
            out.null();
            return Ok(());
        };
        let v = str_value(e)?;
        // A missing key answers null before the expiry is even validated.
        let at = match o.expire {
            Some((unit, arg)) => Some((unit, expire_at_ms(unit, arg, now, "getex")?)),
            None => None,
        };
        out.bulk(v);
        (at, e.expire_at().is_some())
    };
    match at {
        // An absolute time already past deletes the key outright (no expired count).
        Some((Unit::ExAt | Unit::PxAt, ms)) if ms <= now => {
            ks.remove(key);
            ks.changed(class::GENERIC, "del", key);
        }
        Some((_, ms)) => {
            ks.db.set_expire(key, Some(ms));
            ks.changed(class::GENERIC, "expire", key);
        }
        None if o.persist && had_ttl => {
            ks.db.set_expire(key, None);
            ks.changed(class::GENERIC, "persist", key);
        }
        None => {}
    }
    Ok(())
}
