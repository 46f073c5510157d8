//! XCLAIM and XAUTOCLAIM: moving pending entries to another consumer.
//! Entries deleted from the stream meanwhile are dropped from the PEL, as
//! Redis 7.0 does.

use bytes::Bytes;

use super::group::{int_or, no_key_or_group, parse_strict_id, reply_entry_at, reply_id};
use super::pending::parse_interval_id;
use crate::cmd::{args, CmdError, CmdResult, Ks};
use crate::resp::Out;
use crate::shard::signal::class;
use crate::types::stream::group::{Group, Retry, Slot};
use crate::types::stream::{Stream, StreamId};

/// Whether the live entry `id` is in the stream (`streamEntryExists`).
fn exists(s: &Stream, id: StreamId) -> bool {
    let mut found = false;
    s.for_each_in(id, id, false, |_| {
        found = true;
        false
    });
    found
}

/// The claiming consumer, looked up (or created) on first use, as Redis does:
/// a claim that takes nothing leaves the consumers as they were.
fn claimer(g: &mut Group, slot: &mut Option<(Slot, bool)>, name: &[u8], now: i64) -> Slot {
    slot.get_or_insert_with(|| g.touch_consumer(name, now)).0
}

/// Signals a claim's changes: the key, and the consumer it created.
fn signal_claim(ks: &mut Ks<'_>, key: &[u8], changed: bool, slot: Option<(Slot, bool)>) {
    if slot.is_some_and(|(_, created)| created) {
        ks.notify(class::STREAM, "xgroup-createconsumer", key);
    }
    if changed || slot.is_some() {
        ks.modified(key);
    }
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME ms]
/// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id] — O(log N) per ID.
pub(super) fn xclaim(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (key, name, cname) = (&args[1], &args[2], &args[3]);
    let now = ks.now_ms() as i64;
    let has_group = ks.read_as::<Stream>(key)?.is_some_and(|s| s.groups.get(name).is_some());
    if !has_group {
        return Err(no_key_or_group(key, name, ""));
    }
    let min_idle = int_or(&args[4], "Invalid min-idle-time argument for XCLAIM")?.max(0);
    // The IDs run up to the first argument that is not one; options follow.
    let mut ids = Vec::new();
    let mut j = 5;
    while let Some(id) = args.get(j).and_then(|a| parse_strict_id(a, 0).ok()) {
        ids.push(id);
        j += 1;
    }
    let (mut force, mut justid) = (false, false);
    let mut delivery: Option<i64> = None;
    let mut retry: Option<i64> = None;
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let more = j + 1 < args.len();
        let opt = &args[j];
        if args::is(opt, "force") {
            force = true;
        } else if args::is(opt, "justid") {
            justid = true;
        } else if args::is(opt, "idle") && more {
            j += 1;
            let idle = int_or(&args[j], "Invalid IDLE option argument for XCLAIM")?;
            delivery = Some(now.wrapping_sub(idle));
        } else if args::is(opt, "time") && more {
            j += 1;
            delivery = Some(int_or(&args[j], "Invalid TIME option argument for XCLAIM")?);
        } else if args::is(opt, "retrycount") && more {
            j += 1;
            retry = Some(int_or(&args[j], "Invalid RETRYCOUNT option argument for XCLAIM")?);
        } else if args::is(opt, "lastid") && more {
            j += 1;
            last_id = parse_strict_id(&args[j], 0)?;
        } else {
            return Err(CmdError::err(format_args!("Unrecognized XCLAIM option '{}'", super::group::c_str(opt))));
        }
        j += 1;
    }
    // A bogus time (the client's clock ahead of ours) is now, not an error.
    let delivery_time = match delivery {
        Some(t) if (0..=now).contains(&t) => t,
        _ => now,
    };
    let retry = match retry {
        Some(n) if n >= 0 => Retry::Set(n as u64),
        _ if justid => Retry::Keep,
        _ => Retry::Increment,
    };
    let Some(s) = ks.write_as::<Stream>(key)? else { return Err(no_key_or_group(key, name, "")) };
    let Some(g) = s.groups.get_mut(name) else { return Err(no_key_or_group(key, name, "")) };
    let mut changed = false;
    if last_id > g.last_id {
        g.last_id = last_id;
        changed = true;
    }
    let mut slot = None;
    let mut claimed = Vec::new();
    for id in ids {
        let alive = exists(s, id);
        let Some(g) = s.groups.get_mut(name) else { break };
        if !alive {
            // Deleted from the stream: it cannot be delivered again.
            changed |= g.ack(id);
            continue;
        }
        match g.nack(id) {
            None if !force => continue,
            Some(n) if min_idle != 0 && now.wrapping_sub(n.delivery_time) < min_idle => continue,
            _ => {}
        }
        let to = claimer(g, &mut slot, cname, now);
        g.claim(id, to, delivery_time, retry);
        claimed.push(id);
        changed = true;
    }
    out.array(claimed.len());
    for id in claimed {
        if justid {
            reply_id(out, id);
        } else if !reply_entry_at(out, s, id) {
            out.null();
        }
    }
    signal_claim(ks, key, changed, slot);
    Ok(())
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
/// — O(1) per pending entry looked at (at most ten per COUNT). Replies with
/// the next start, the claimed entries and the IDs deleted from the stream.
pub(super) fn xautoclaim(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    const ATTEMPTS_FACTOR: i64 = 10;
    let (key, name, cname) = (&args[1], &args[2], &args[3]);
    let min_idle = int_or(&args[4], "Invalid min-idle-time argument for XAUTOCLAIM")?.max(0);
    let (mut start, ex) = parse_interval_id(&args[5], 0)?;
    if ex {
        start = start.next().ok_or_else(|| CmdError::err("invalid start ID for the interval"))?;
    }
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = j + 1 < args.len();
        if args::is(&args[j], "count") && more {
            // LONG_MAX / max(sizeof(streamID), attempts factor).
            const MAX_COUNT: i64 = i64::MAX / 16;
            count = crate::resp::parse::parse_i64(&args[j + 1])
                .filter(|c| (1..=MAX_COUNT).contains(c))
                .ok_or_else(|| CmdError::err("COUNT must be > 0"))?;
            j += 1;
        } else if args::is(&args[j], "justid") {
            justid = true;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    let now = ks.now_ms() as i64;
    let has_group = ks.read_as::<Stream>(key)?.is_some_and(|s| s.groups.get(name).is_some());
    if !has_group {
        return Err(no_key_or_group(key, name, ""));
    }
    // Redis allocates room for COUNT deleted IDs up front; a COUNT no
    // machine has memory for is refused as its failed allocation is.
    if count > (1 << 40) / 16 {
        return Err(CmdError::err("Insufficient memory, failed allocating transient memory, COUNT too high."));
    }
    let Some(s) = ks.write_as::<Stream>(key)? else { return Err(no_key_or_group(key, name, "")) };
    let mut attempts = count.saturating_mul(ATTEMPTS_FACTOR);
    let mut slot = None;
    let mut claimed_ids = Vec::new();
    let mut deleted = Vec::new();
    // `cursor`: where the next pending entry is looked for (None past the end).
    let mut cursor = Some(start);
    while attempts > 0 && count > 0 {
        attempts -= 1;
        let Some(from) = cursor else { break };
        let Some(g) = s.groups.get(name) else { break };
        let Some((id, n)) = g.pending_range(from, StreamId::MAX).next().map(|(id, n)| (id, *n)) else {
            cursor = None;
            break;
        };
        cursor = id.next();
        if !exists(s, id) {
            if let Some(g) = s.groups.get_mut(name) {
                g.ack(id);
            }
            deleted.push(id);
            count -= 1;
            continue;
        }
        if min_idle != 0 && now.wrapping_sub(n.delivery_time) < min_idle {
            continue;
        }
        let Some(g) = s.groups.get_mut(name) else { break };
        let to = claimer(g, &mut slot, cname, now);
        g.claim(id, to, now, if justid { Retry::Keep } else { Retry::Increment });
        claimed_ids.push(id);
        count -= 1;
    }
    let next = cursor
        .and_then(|c| s.groups.get(name)?.pending_range(c, StreamId::MAX).next().map(|(id, _)| id))
        .unwrap_or(StreamId::MIN);
    out.array(3);
    reply_id(out, next);
    out.array(claimed_ids.len());
    for &id in &claimed_ids {
        if justid {
            reply_id(out, id);
        } else if !reply_entry_at(out, s, id) {
            out.null();
        }
    }
    out.array(deleted.len());
    for &id in &deleted {
        reply_id(out, id);
    }
    let changed = !claimed_ids.is_empty() || !deleted.is_empty();
    signal_claim(ks, key, changed, slot);
    Ok(())
}
