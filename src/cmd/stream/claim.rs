//! XCLAIM and XAUTOCLAIM: moving pending entries to another consumer.
//! Entries deleted from the stream meanwhile are dropped from the PEL, as
//! Redis 7.0 does.

use bytes::Bytes;

use super::group::{int_or, no_key_or_group, reply_entry_at};
use super::{interval_start, parse_strict_id, reply_id};
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
fn signal_claim(ks: &mut Ks<'_>, key: &[u8], changed: bool, slot: Option<(Slot, bool)>, cmds: Vec<Vec<Bytes>>) {
    if slot.is_some_and(|(_, created)| created) {
        ks.notify(class::STREAM, "xgroup-createconsumer", key);
    }
    if changed || slot.is_some() {
        ks.modified_as(key, || cmds);
    }
}

/// What one read or claim changed in a group, for the append-only file.
pub(super) struct GroupChange<'a> {
    /// The consumer that read or claimed.
    pub consumer: &'a [u8],
    /// Whether the call created that consumer.
    pub created: bool,
    /// Entries delivered to or claimed by the consumer.
    pub claimed: &'a [StreamId],
    /// Pending entries dropped because the stream no longer holds them.
    pub acked: &'a [StreamId],
    /// Whether the group's last ID (and read counter) moved.
    pub set_id: bool,
}

/// The commands that replay `change` to group `group` of stream `s` at
/// `key`, as Redis propagates it: the consumer's creation, an XCLAIM of each
/// entry claimed with its delivery time and count as they are now
/// (`streamPropagateXCLAIM`), an XACK of the entries dropped, and the
/// group's last ID and read counter (`streamPropagateGroupID`).
pub(super) fn replay(s: &Stream, key: &[u8], group: &[u8], change: &GroupChange<'_>) -> Vec<Vec<Bytes>> {
    let b = Bytes::copy_from_slice;
    let text = |v: &dyn std::fmt::Display| Bytes::from(v.to_string());
    let Some(g) = s.groups.get(group) else { return Vec::new() };
    let GroupChange { consumer, created, claimed, acked, set_id } = *change;
    let (key, group, consumer) = (b(key), b(group), b(consumer));
    let mut cmds = Vec::with_capacity(claimed.len() + 3);
    if created {
        cmds.push(vec![b(b"XGROUP"), b(b"CREATECONSUMER"), key.clone(), group.clone(), consumer.clone()]);
    }
    for &id in claimed {
        let Some(n) = g.nack(id) else { continue };
        cmds.push(vec![
            b(b"XCLAIM"),
            key.clone(),
            group.clone(),
            consumer.clone(),
            b(b"0"),
            text(&id),
            b(b"TIME"),
            text(&n.delivery_time),
            b(b"RETRYCOUNT"),
            text(&n.delivery_count),
            b(b"FORCE"),
            b(b"JUSTID"),
            b(b"LASTID"),
            text(&g.last_id),
        ]);
    }
    if !acked.is_empty() {
        let mut xack = vec![b(b"XACK"), key.clone(), group.clone()];
        xack.extend(acked.iter().map(|id| text(id)));
        cmds.push(xack);
    }
    if set_id {
        cmds.push(vec![
            b(b"XGROUP"),
            b(b"SETID"),
            key,
            group,
            text(&g.last_id),
            b(b"ENTRIESREAD"),
            text(&g.entries_read),
        ]);
    }
    cmds
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME ms]
/// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id] — O(log N) per ID.
pub(super) fn xclaim(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (key, name, cname) = (&args[1], &args[2], &args[3]);
    let now = ks.now_ms() as i64;
    let logging = ks.signals.logging;
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
    let set_id = last_id > g.last_id;
    if set_id {
        g.last_id = last_id;
        changed = true;
    }
    let mut slot = None;
    let mut claimed = Vec::new();
    let mut acked = Vec::new();
    for id in ids {
        let alive = exists(s, id);
        let Some(g) = s.groups.get_mut(name) else { break };
        if !alive {
            // Deleted from the stream: it cannot be delivered again.
            if g.ack(id) {
                acked.push(id);
                changed = true;
            }
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
    for &id in &claimed {
        if justid {
            reply_id(out, id);
        } else if !reply_entry_at(out, s, id) {
            out.null();
        }
    }
    let change = GroupChange { consumer: cname, created: false, claimed: &claimed, acked: &acked, set_id };
    let cmds = if logging { replay(s, key, name, &change) } else { Vec::new() };
    signal_claim(ks, key, changed, slot, cmds);
    Ok(())
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
/// — O(1) per pending entry looked at (at most ten per COUNT). Replies with
/// the next start, the claimed entries and the IDs deleted from the stream.
pub(super) fn xautoclaim(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    const ATTEMPTS_FACTOR: i64 = 10;
    let (key, name, cname) = (&args[1], &args[2], &args[3]);
    let min_idle = int_or(&args[4], "Invalid min-idle-time argument for XAUTOCLAIM")?.max(0);
    let start = interval_start(&args[5])?;
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
    let logging = ks.signals.logging;
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
    let change = GroupChange { consumer: cname, created: false, claimed: &claimed_ids, acked: &deleted, set_id: false };
    let cmds = if logging { replay(s, key, name, &change) } else { Vec::new() };
    signal_claim(ks, key, changed, slot, cmds);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::entries::xadd;
    use super::super::group::{xgroup_create, xgroup_createconsumer};
    use super::super::info::xinfo_consumers;
    use super::super::pending::{xack, xpending};
    use super::super::readgroup::{serve_stream, ReadGroup, Want};
    use super::*;
    use crate::cmd::test_util::{b, TestDb};
    use crate::resp::Proto;

    /// A stream `s` with entries 1-1..=3-1, group `g`, all read by `alice` at `now`.
    fn setup() -> TestDb {
        let mut t = TestDb::notifying();
        for i in 1..=3 {
            t.run(xadd, &["XADD", "s", &format!("{i}-1"), "f", &i.to_string()]);
        }
        assert_eq!(t.run(xgroup_create, &["XGROUP", "CREATE", "s", "g", "0"]), "+OK\r\n");
        let rg = ReadGroup {
            group: "g".into(),
            consumer: "alice".into(),
            count: 0,
            noack: false,
            block: None,
            keys: b(&["s"]),
            ids: b(&[">"]),
        };
        let served = serve_stream(&mut t.ks(), b"s", &rg, Want::New, Proto::Resp2).unwrap().unwrap();
        assert!(String::from_utf8_lossy(&served).starts_with("*2\r\n$1\r\ns\r\n*3\r\n"));
        t.events();
        t
    }

    #[test]
    fn idle_times_on_a_fixed_clock() {
        let mut t = setup();
        t.now += 1500;
        assert_eq!(
            t.run(xpending, &["XPENDING", "s", "g", "IDLE", "1000", "-", "+", "1"]),
            "*1\r\n*4\r\n$3\r\n1-1\r\n$5\r\nalice\r\n:1500\r\n:1\r\n"
        );
        assert_eq!(t.run(xpending, &["XPENDING", "s", "g", "IDLE", "2000", "-", "+", "10"]), "*0\r\n");
        // Too recent for 2 s; IDLE makes 2-1 look 5 s old, then it can be taken.
        assert_eq!(t.run(xclaim, &["XCLAIM", "s", "g", "bob", "2000", "2-1"]), "*0\r\n");
        assert_eq!(t.events(), Vec::<String>::new(), "a claim that takes nothing creates no consumer");
        t.run(xclaim, &["XCLAIM", "s", "g", "alice", "0", "2-1", "IDLE", "5000", "JUSTID"]);
        assert_eq!(t.run(xclaim, &["XCLAIM", "s", "g", "bob", "2000", "2-1", "JUSTID"]), "*1\r\n$3\r\n2-1\r\n");
        assert_eq!(t.events(), vec!["xgroup-createconsumer s".to_string()]);
        assert_eq!(
            t.run(xpending, &["XPENDING", "s", "g", "-", "+", "10", "bob"]),
            "*1\r\n*4\r\n$3\r\n2-1\r\n$3\r\nbob\r\n:0\r\n:1\r\n"
        );
        // XAUTOCLAIM takes what is idle enough, from the start given.
        t.now += 3000;
        assert_eq!(
            t.run(xautoclaim, &["XAUTOCLAIM", "s", "g", "carol", "4000", "0", "JUSTID"]),
            "*3\r\n$3\r\n0-0\r\n*2\r\n$3\r\n1-1\r\n$3\r\n3-1\r\n*0\r\n"
        );
        assert_eq!(
            t.run(xinfo_consumers, &["XINFO", "CONSUMERS", "s", "g"]),
            "*3\r\n*6\r\n$4\r\nname\r\n$5\r\nalice\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:3000\r\n\
             *6\r\n$4\r\nname\r\n$3\r\nbob\r\n$7\r\npending\r\n:1\r\n$4\r\nidle\r\n:3000\r\n\
             *6\r\n$4\r\nname\r\n$5\r\ncarol\r\n$7\r\npending\r\n:2\r\n$4\r\nidle\r\n:0\r\n"
        );
        assert_eq!(t.run(xack, &["XACK", "s", "g", "1-1", "2-1", "3-1"]), ":3\r\n");
        assert_eq!(t.run(xpending, &["XPENDING", "s", "g"]), "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n");
    }

    #[test]
    fn consumer_events() {
        let mut t = setup();
        assert_eq!(t.run(xgroup_createconsumer, &["XGROUP", "CREATECONSUMER", "s", "g", "zed"]), ":1\r\n");
        assert_eq!(t.run(xgroup_createconsumer, &["XGROUP", "CREATECONSUMER", "s", "g", "zed"]), ":0\r\n");
        assert_eq!(t.events(), vec!["xgroup-createconsumer s".to_string()]);
        // Claims of entries deleted from the stream drop them and create nobody.
        t.run(crate::cmd::stream::entries::xdel, &["XDEL", "s", "1-1"]);
        t.events();
        assert_eq!(
            t.run(xautoclaim, &["XAUTOCLAIM", "s", "g", "new", "0", "0", "COUNT", "1"]),
            "*3\r\n$3\r\n2-1\r\n*0\r\n*1\r\n$3\r\n1-1\r\n"
        );
        assert_eq!(t.events(), Vec::<String>::new());
    }
}
