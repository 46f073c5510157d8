//! OBJECT ENCODING, FREQ, IDLETIME, REFCOUNT and HELP.

use bytes::Bytes;

use crate::cmd::{CmdError, CmdResult, Ctx};
use crate::db::{Entry, StrEncoding};
use crate::resp::Out;

pub(crate) use crate::db::evict::{idle_seconds, LRU_CLOCK_MAX};
/// Redis's `OBJ_SHARED_REFCOUNT` (INT_MAX), reported for shared integers.
const SHARED_REFCOUNT: i64 = i32::MAX as i64;
/// Integers 0..10000 are Redis's shared objects (`OBJ_SHARED_INTEGERS`).
const SHARED_INTEGERS: i64 = 10_000;

const LFU_OFF: &str = "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

const HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// What OBJECT REFCOUNT answers: Redis shares the integers 0..9999 it stores
/// with int encoding.
pub(crate) fn refcount(e: &Entry) -> i64 {
    let shared = !e.is_obj()
        && e.encoding() == StrEncoding::Int
        && crate::resp::parse::parse_i64(e.value()).is_some_and(|v| (0..SHARED_INTEGERS).contains(&v));
    if shared {
        SHARED_REFCOUNT
    } else {
        1
    }
}

/// Whether an LFU maxmemory-policy is in force (the access field holds LFU data).
fn lfu_policy(ctx: &Ctx<'_>) -> bool {
    ctx.state.config.maxmemory_policy.is_lfu()
}

/// The entry behind an OBJECT subcommand: counts a hit or miss, never touches.
fn lookup<'c>(ctx: &'c mut Ctx<'_>, key: &[u8], out: &mut Out) -> Option<&'c Entry> {
    let e = ctx.read_notouch(key);
    if e.is_none() {
        out.null();
    }
    e
}

/// OBJECT ENCODING key — O(1).
pub(super) fn cmd_encoding(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    if let Some(e) = lookup(ctx, &args[2], out) {
        let name = e.obj().map_or(e.encoding().name(), |v| v.encoding());
        out.bulk(name.as_bytes());
    }
    Ok(())
}

/// OBJECT FREQ key — O(1).
pub(super) fn cmd_freq(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (now, decay) = (ctx.clock.now_ms, ctx.state.config.lfu_decay_time);
    let Some(access) = lookup(ctx, &args[2], out).map(Entry::access) else {
        return Ok(());
    };
    if !lfu_policy(ctx) {
        return Err(CmdError::err(LFU_OFF));
    }
    out.int(crate::db::evict::lfu_decayed(access, now, decay) as i64);
    Ok(())
}

/// OBJECT IDLETIME key — O(1).
pub(super) fn cmd_idletime(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let lru_now = ctx.clock.lru();
    let Some(access) = lookup(ctx, &args[2], out).map(Entry::access) else {
        return Ok(());
    };
    if lfu_policy(ctx) {
        return Err(CmdError::err("An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    out.int(idle_seconds(lru_now, access) as i64);
    Ok(())
}

/// OBJECT REFCOUNT key — O(1).
pub(super) fn cmd_refcount(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    if let Some(e) = lookup(ctx, &args[2], out) {
        let n = refcount(e);
        out.int(n);
    }
    Ok(())
}

/// OBJECT HELP — O(1).
pub(super) fn cmd_help(_ctx: &mut Ctx<'_>, _args: &[Bytes], out: &mut Out) -> CmdResult {
    out.array(HELP.len());
    for line in HELP {
        out.simple(line);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_time_wraps_like_redis() {
        assert_eq!(idle_seconds(100, 40), 60);
        assert_eq!(idle_seconds(100, 100), 0);
        // The clock wrapped since the access.
        assert_eq!(idle_seconds(5, LRU_CLOCK_MAX - 10), 15);
    }

    #[test]
    fn shared_integers() {
        let e = |v: &str, enc| Entry::new_string(b"k", v.as_bytes(), enc, None);
        assert_eq!(refcount(&e("100", StrEncoding::Int)), 2147483647);
        assert_eq!(refcount(&e("0", StrEncoding::Int)), 2147483647);
        assert_eq!(refcount(&e("9999", StrEncoding::Int)), 2147483647);
        assert_eq!(refcount(&e("10000", StrEncoding::Int)), 1);
        assert_eq!(refcount(&e("-1", StrEncoding::Int)), 1);
        assert_eq!(refcount(&e("100", StrEncoding::Raw)), 1, "APPEND leaves a raw string");
        assert_eq!(refcount(&e("abc", StrEncoding::Embstr)), 1);
    }
}
