//! EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX/XX/GT/LT), TTL, PTTL,
//! EXPIRETIME, PEXPIRETIME and PERSIST. Expiry times are absolute Unix ms.

use bytes::Bytes;

use super::read_notouch;
use crate::cmd::{args, CmdError, CmdResult, Ctx};
use crate::db::{Clock, Db, DbStats};
use crate::resp::Out;
use crate::shard::signal::{self, class};

/// Which of NX, XX, GT, LT were given.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExpireFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
}

/// Parses the options after `key` and the time, with Redis 7.0's errors.
pub(crate) fn parse_flags(opts: &[Bytes]) -> Result<ExpireFlags, CmdError> {
    let mut f = ExpireFlags::default();
    for o in opts {
        if args::is(o, "nx") {
            f.nx = true;
        } else if args::is(o, "xx") {
            f.xx = true;
        } else if args::is(o, "gt") {
            f.gt = true;
        } else if args::is(o, "lt") {
            f.lt = true;
        } else {
            return Err(CmdError::err(format_args!("Unsupported option {}", String::from_utf8_lossy(o))));
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        return Err(CmdError::err("NX and XX, GT or LT options at the same time are not compatible"));
    }
    if f.gt && f.lt {
        return Err(CmdError::err("GT and LT options at the same time are not compatible"));
    }
    Ok(f)
}

/// The absolute expiry time in ms for `when` (in seconds or ms) counted from
/// `base_ms` (now for EXPIRE/PEXPIRE, 0 for the AT forms), or Redis's
/// invalid-expire error on overflow. Times in the past are allowed: they
/// delete the key.
pub(crate) fn absolute_ms(when: i64, seconds: bool, base_ms: i64, cmd: &str) -> Result<i64, CmdError> {
    let when = if seconds { when.checked_mul(1000).ok_or_else(|| CmdError::invalid_expire(cmd))? } else { when };
    if when > i64::MAX - base_ms {
        return Err(CmdError::invalid_expire(cmd));
    }
    Ok(when + base_ms)
}

/// Outcome of an expire op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExpireResult {
    /// No key, or a condition (NX/XX/GT/LT) was not met.
    NotSet,
    Set,
    /// The time was already past: the key was deleted.
    Deleted,
}

/// Sets `key`'s expiry to `when_ms` under `flags`, as Redis's `expireGenericCommand`.
pub(crate) fn op_expire(
    db: &mut Db,
    key: &[u8],
    when_ms: i64,
    flags: ExpireFlags,
    clock: Clock,
    st: &mut DbStats,
) -> ExpireResult {
    let Some(e) = db.lookup_write(key, clock, st) else {
        return ExpireResult::NotSet;
    };
    let current = e.expire_at().map(|at| at as i64);
    let refused = (flags.nx && current.is_some())
        || (flags.xx && current.is_none())
        // No expiry counts as an infinite TTL: GT never beats it, LT always does.
        || (flags.gt && current.is_none_or(|c| when_ms <= c))
        || (flags.lt && current.is_some_and(|c| when_ms >= c));
    if refused {
        return ExpireResult::NotSet;
    }
    if when_ms <= clock.now_ms as i64 {
        db.remove(key, clock, st);
        return ExpireResult::Deleted;
    }
    db.set_expire(key, Some(when_ms as u64));
    ExpireResult::Set
}

fn expire_generic(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    out: &mut Out,
    seconds: bool,
    relative: bool,
    cmd: &str,
) -> CmdResult {
    let flags = parse_flags(&args[3..])?;
    let when = args::int(&args[2])?;
    let base = if relative { ctx.now_ms() as i64 } else { 0 };
    let when_ms = absolute_ms(when, seconds, base, cmd)?;
    let clock = ctx.clock;
    let (db, st) = ctx.db_stats();
    let r = op_expire(db, &args[1], when_ms, flags, clock, st);
    match r {
        ExpireResult::NotSet => {}
        ExpireResult::Set => changed(ctx, "expire", &args[1]),
        ExpireResult::Deleted => changed(ctx, "del", &args[1]),
    }
    out.int((r != ExpireResult::NotSet) as i64);
    Ok(())
}

/// EXPIRE key seconds [NX | XX | GT | LT] — O(1).
pub(super) fn cmd_expire(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    expire_generic(ctx, args, out, true, true, "expire")
}

/// PEXPIRE key milliseconds [NX | XX | GT | LT] — O(1).
pub(super) fn cmd_pexpire(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    expire_generic(ctx, args, out, false, true, "pexpire")
}

/// EXPIREAT key unix-time-seconds [NX | XX | GT | LT] — O(1).
pub(super) fn cmd_expireat(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    expire_generic(ctx, args, out, true, false, "expireat")
}

/// PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT] — O(1).
pub(super) fn cmd_pexpireat(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    expire_generic(ctx, args, out, false, false, "pexpireat")
}

/// TTL-family answer: -2 missing, -1 no expiry, else the remaining (or absolute)
/// time in ms or in rounded seconds, as Redis's `ttlGenericCommand`.
pub(crate) fn op_ttl(db: &mut Db, key: &[u8], in_ms: bool, absolute: bool, clock: Clock, st: &mut DbStats) -> i64 {
    let Some(e) = read_notouch(db, key, clock, st) else {
        return -2;
    };
    let Some(at) = e.expire_at() else {
        return -1;
    };
    let at = at as i128;
    let ttl = if absolute { at } else { (at - clock.now_ms as i128).max(0) };
    let v = if in_ms { ttl } else { (ttl + 500) / 1000 };
    v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

fn ttl_generic(ctx: &mut Ctx<'_>, key: &[u8], out: &mut Out, in_ms: bool, absolute: bool) -> CmdResult {
    let clock = ctx.clock;
    let (db, st) = ctx.db_stats();
    let ttl = op_ttl(db, key, in_ms, absolute, clock, st);
    if ttl == -2 {
        signal::notify(ctx.state, class::KEY_MISS, "keymiss", ctx.db, key);
    }
    out.int(ttl);
    Ok(())
}

/// TTL key — O(1).
pub(super) fn cmd_ttl(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    ttl_generic(ctx, &args[1], out, false, false)
}

/// PTTL key — O(1).
pub(super) fn cmd_pttl(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    ttl_generic(ctx, &args[1], out, true, false)
}

/// EXPIRETIME key — O(1).
pub(super) fn cmd_expiretime(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    ttl_generic(ctx, &args[1], out, false, true)
}

/// PEXPIRETIME key — O(1).
pub(super) fn cmd_pexpiretime(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    ttl_generic(ctx, &args[1], out, true, true)
}

/// Removes `key`'s expiry; true if it had one.
pub(crate) fn op_persist(db: &mut Db, key: &[u8], clock: Clock, st: &mut DbStats) -> bool {
    match db.lookup_write(key, clock, st) {
        Some(e) if e.expire_at().is_some() => db.set_expire(key, None),
        _ => false,
    }
}

/// PERSIST key — O(1).
pub(super) fn cmd_persist(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let clock = ctx.clock;
    let (db, st) = ctx.db_stats();
    let done = op_persist(db, &args[1], clock, st);
    if done {
        changed(ctx, "persist", &args[1]);
    }
    out.int(done as i64);
    Ok(())
}

/// `signalModifiedKey` and a generic-class event on `key`.
fn changed(ctx: &mut Ctx<'_>, event: &'static str, key: &[u8]) {
    signal::modified(ctx.state, ctx.db, key);
    signal::notify(ctx.state, class::GENERIC, event, ctx.db, key);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Entry, StrEncoding};

    fn flags(v: &[&str]) -> Result<ExpireFlags, CmdError> {
        let v: Vec<Bytes> = v.iter().map(|s| Bytes::copy_from_slice(s.as_bytes())).collect();
        parse_flags(&v)
    }

    fn put(db: &mut Db, k: &str, exp: Option<u64>) {
        db.insert(Entry::new_string(k.as_bytes(), b"v", StrEncoding::Embstr, exp));
    }

    #[test]
    fn flag_errors_match_redis() {
        assert_eq!(flags(&["foo"]).unwrap_err().0, "ERR Unsupported option foo");
        let nx = "ERR NX and XX, GT or LT options at the same time are not compatible";
        assert_eq!(flags(&["nx", "xx"]).unwrap_err().0, nx);
        assert_eq!(flags(&["NX", "gt"]).unwrap_err().0, nx);
        assert_eq!(flags(&["lt", "nx"]).unwrap_err().0, nx);
        assert_eq!(flags(&["gt", "LT"]).unwrap_err().0, "ERR GT and LT options at the same time are not compatible");
        assert_eq!(flags(&["xx", "gt"]).unwrap(), ExpireFlags { xx: true, gt: true, ..Default::default() });
    }

    #[test]
    fn overflow_is_an_invalid_expire_time() {
        let now = 1_700_000_000_000;
        assert_eq!(absolute_ms(10, true, now, "expire"), Ok(now + 10_000));
        assert!(absolute_ms(i64::MAX, true, now, "expire").is_err());
        assert!(absolute_ms(9_223_372_036_854_775, true, now, "expire").is_err());
        assert_eq!(absolute_ms(-9_223_372_036_854_775, true, now, "expire"), Ok(-9_223_372_036_854_775_000 + now));
        assert!(absolute_ms(-9_223_372_036_854_776, true, now, "expire").is_err());
        assert_eq!(absolute_ms(i64::MAX, false, 0, "pexpireat"), Ok(i64::MAX));
        assert_eq!(
            absolute_ms(i64::MAX, false, now, "pexpire").unwrap_err().0,
            "ERR invalid expire time in 'pexpire' command"
        );
    }

    #[test]
    fn conditions_and_past_times() {
        let mut db = Db::new();
        let mut st = DbStats::default();
        let c = Clock::at(10_000);
        let none = ExpireFlags::default();
        let gt = ExpireFlags { gt: true, ..none };
        let lt = ExpireFlags { lt: true, ..none };
        assert_eq!(op_expire(&mut db, b"k", 20_000, none, c, &mut st), ExpireResult::NotSet);
        put(&mut db, "k", None);
        assert_eq!(
            op_expire(&mut db, b"k", 20_000, ExpireFlags { xx: true, ..none }, c, &mut st),
            ExpireResult::NotSet
        );
        assert_eq!(op_expire(&mut db, b"k", 20_000, gt, c, &mut st), ExpireResult::NotSet);
        assert_eq!(op_expire(&mut db, b"k", 20_000, lt, c, &mut st), ExpireResult::Set);
        assert_eq!(
            op_expire(&mut db, b"k", 30_000, ExpireFlags { nx: true, ..none }, c, &mut st),
            ExpireResult::NotSet
        );
        assert_eq!(op_expire(&mut db, b"k", 30_000, lt, c, &mut st), ExpireResult::NotSet);
        assert_eq!(op_expire(&mut db, b"k", 20_000, gt, c, &mut st), ExpireResult::NotSet);
        assert_eq!(op_expire(&mut db, b"k", 30_000, gt, c, &mut st), ExpireResult::Set);
        assert_eq!(op_ttl(&mut db, b"k", true, false, c, &mut st), 20_000);
        assert_eq!(op_ttl(&mut db, b"k", false, false, c, &mut st), 20);
        assert_eq!(op_ttl(&mut db, b"k", true, true, c, &mut st), 30_000);
        assert_eq!(op_expire(&mut db, b"k", 10_000, none, c, &mut st), ExpireResult::Deleted);
        assert_eq!(op_ttl(&mut db, b"k", true, false, c, &mut st), -2);
        // A deletion by EXPIRE is not an expiry.
        assert_eq!(st.expired, 0);
    }

    #[test]
    fn ttl_rounding_and_persist() {
        let mut db = Db::new();
        let mut st = DbStats::default();
        let c = Clock::at(1_000);
        put(&mut db, "a", Some(2_499));
        put(&mut db, "b", Some(2_500));
        put(&mut db, "p", None);
        put(&mut db, "m", Some(i64::MAX as u64));
        assert_eq!(op_ttl(&mut db, b"a", false, false, c, &mut st), 1);
        assert_eq!(op_ttl(&mut db, b"b", false, false, c, &mut st), 2);
        assert_eq!(op_ttl(&mut db, b"b", false, true, c, &mut st), 3);
        assert_eq!(op_ttl(&mut db, b"p", false, false, c, &mut st), -1);
        assert_eq!(op_ttl(&mut db, b"m", false, true, c, &mut st), 9_223_372_036_854_776);
        assert!(op_persist(&mut db, b"a", c, &mut st));
        assert!(!op_persist(&mut db, b"a", c, &mut st));
        assert!(!op_persist(&mut db, b"zz", c, &mut st));
        assert_eq!(op_ttl(&mut db, b"a", false, false, c, &mut st), -1);
        assert_eq!(db.volatile_len(), 2);
    }
}
