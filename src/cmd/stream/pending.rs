//! XACK and XPENDING: acknowledging and listing a group's pending entries.

use bytes::Bytes;

use super::group::no_key_or_group;
use super::{interval_end, interval_start, parse_strict_id, reply_id};
use crate::cmd::{CmdError, CmdResult, Ks};
use crate::resp::Out;
use crate::types::stream::{Stream, StreamId};

/// XACK key group id [id ...] — O(1) per ID. Replies with how many were pending.
pub(super) fn xack(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (key, name) = (&args[1], &args[2]);
    let Some(s) = ks.write_as::<Stream>(key)? else {
        out.int(0);
        return Ok(());
    };
    if s.groups.get(name).is_none() {
        out.int(0);
        return Ok(());
    }
    // All IDs are checked before any is acknowledged.
    let ids = args[3..].iter().map(|a| parse_strict_id(a, 0)).collect::<Result<Vec<_>, _>>()?;
    let Some(g) = s.groups.get_mut(name) else { return Ok(()) };
    let acked = ids.into_iter().filter(|&id| g.ack(id)).count();
    if acked > 0 {
        ks.modified(key);
    }
    out.int(acked as i64);
    Ok(())
}

/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]] —
/// O(N) in the entries returned (O(1) for the summary form).
pub(super) fn xpending(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (key, name) = (&args[1], &args[2]);
    let summary = args.len() == 3;
    if !summary && !(6..=9).contains(&args.len()) {
        return Err(CmdError::syntax());
    }
    let mut range = None;
    if !summary {
        let mut at = 3;
        let mut min_idle = 0i64;
        if crate::cmd::args::is(&args[3], "idle") {
            min_idle = crate::cmd::args::int(&args[4])?;
            if args.len() < 8 {
                return Err(CmdError::syntax());
            }
            at += 2;
        }
        let count = crate::cmd::args::int(&args[at + 2])?.max(0);
        let start = interval_start(&args[at])?;
        let end = interval_end(&args[at + 1])?;
        let consumer = args.get(at + 3);
        range = Some((min_idle, start, end, count, consumer));
    }
    let now = ks.now_ms() as i64;
    let group = ks.read_as::<Stream>(key)?.and_then(|s| s.groups.get(name));
    let Some(g) = group else { return Err(no_key_or_group(key, name, "")) };
    let Some((min_idle, start, end, count, consumer)) = range else {
        out.array(4);
        out.int(g.pending_len() as i64);
        match g.pending_bounds() {
            None => {
                out.null();
                out.null();
                out.null_array();
            }
            Some((first, last)) => {
                reply_id(out, first);
                reply_id(out, last);
                let busy: Vec<_> = g.consumers().filter(|c| c.pending_len() > 0).collect();
                out.array(busy.len());
                for c in busy {
                    out.array(2);
                    out.bulk(&c.name);
                    out.bulk_int(c.pending_len() as i64);
                }
            }
        }
        return Ok(());
    };
    let mut rows = Vec::new();
    let mut left = count;
    let mut take = |id: StreamId, n: &crate::types::stream::group::Nack| {
        if left == 0 {
            return false;
        }
        if min_idle != 0 && now.wrapping_sub(n.delivery_time) < min_idle {
            return true;
        }
        rows.push((id, *n));
        left -= 1;
        true
    };
    match consumer {
        Some(cname) => {
            let Some(c) = g.consumer(cname) else {
                out.array(0);
                return Ok(());
            };
            for id in c.pending_from(start).take_while(|&id| id <= end) {
                let Some(n) = g.nack(id) else { continue };
                if !take(id, n) {
                    break;
                }
            }
        }
        None => {
            for (id, n) in g.pending_range(start, end) {
                if !take(id, n) {
                    break;
                }
            }
        }
    }
    out.array(rows.len());
    for (id, n) in rows {
        out.array(4);
        reply_id(out, id);
        out.bulk(g.owner(&n));
        out.int(now.wrapping_sub(n.delivery_time).max(0));
        out.int(n.delivery_count as i64);
    }
    Ok(())
}
