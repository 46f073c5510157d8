//! XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS, XINFO HELP,
//! with Redis 7.0's fields in Redis 7.0's order.

use bytes::Bytes;

use super::group::{no_group, stream_pos};
use super::{reply_entries, reply_id, reply_stream_entry};
use crate::cmd::{args, CmdError, CmdResult, Ks};
use crate::resp::Out;
use crate::types::stream::group::{Group, INVALID_ENTRIES_READ};
use crate::types::stream::{Stream, StreamId};

/// The stream at `key`: `ERR no such key` when missing.
fn stream<'a>(ks: &'a mut Ks<'_>, key: &[u8]) -> Result<&'a Stream, CmdError> {
    ks.read_as::<Stream>(key)?.ok_or_else(|| CmdError::err("no such key"))
}

/// The nodes of the radix tree Redis would hold for these node keys (its
/// `rax->numnodes`): one per branching point, per run of single-child
/// bytes (compressed), and per key.
pub(super) fn rax_nodes(keys: &[[u8; 16]]) -> usize {
    fn count(keys: &[[u8; 16]], depth: usize) -> usize {
        if depth == 16 || keys.is_empty() {
            return 1;
        }
        let (first, last) = (&keys[0], &keys[keys.len() - 1]);
        if first[depth] == last[depth] {
            // One child: a compressed node up to where the keys part (or end).
            let mut d = depth;
            while d < 16 && first[d] == last[d] {
                d += 1;
            }
            return 1 + count(keys, d);
        }
        let mut n = 1;
        let mut i = 0;
        while i < keys.len() {
            let b = keys[i][depth];
            let j = i + keys[i..].iter().take_while(|k| k[depth] == b).count();
            n += count(&keys[i..j], depth + 1);
            i = j;
        }
        n
    }
    if keys.is_empty() {
        return 1;
    }
    count(keys, 0)
}

fn reply_entries_read(out: &mut Out, g: &Group) {
    if g.entries_read == INVALID_ENTRIES_READ {
        out.null();
    } else {
        out.int(g.entries_read);
    }
}

fn reply_lag(out: &mut Out, s: &Stream, g: &Group) {
    match g.lag(&stream_pos(s)) {
        Some(lag) => out.int(lag),
        None => out.null(),
    }
}

/// XINFO STREAM key [FULL [COUNT count]] — O(1), or O(N) with FULL in the
/// entries and pending entries shown (COUNT each, default 10, 0 for all).
pub(super) fn xinfo_stream(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let s = stream(ks, &args[2])?;
    let mut full = false;
    let mut count: i64 = 10;
    match args.len() {
        3 => {}
        4 if args::is(&args[3], "full") => full = true,
        6 if args::is(&args[3], "full") && args::is(&args[4], "count") => {
            full = true;
            count = args::int(&args[5])?.max(0);
        }
        _ => return Err(crate::cmd::server::subcommand_error("XINFO", &args[1])),
    }
    let limit = if count == 0 { usize::MAX } else { count as usize };
    let keys: Vec<[u8; 16]> = s.nodes().map(|(id, _)| id.to_be_bytes()).collect();
    // FULL: the 7 fields above, entries and groups; else groups, first and last entry too.
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(s.len() as i64);
    out.bulk(b"radix-tree-keys");
    out.int(s.node_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(rax_nodes(&keys) as i64);
    out.bulk(b"last-generated-id");
    reply_id(out, s.last_id);
    out.bulk(b"max-deleted-entry-id");
    reply_id(out, s.max_deleted_entry_id);
    out.bulk(b"entries-added");
    out.int(s.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    reply_id(out, s.first_id);
    if !full {
        out.bulk(b"groups");
        out.int(s.groups.len() as i64);
        for (name, rev) in [(&b"first-entry"[..], false), (b"last-entry", true)] {
            out.bulk(name);
            let mut found = false;
            s.for_each_in(StreamId::MIN, StreamId::MAX, rev, |e| {
                reply_stream_entry(out, &e);
                found = true;
                false
            });
            if !found {
                out.null();
            }
        }
        return Ok(());
    }
    out.bulk(b"entries");
    reply_entries(out, s, StreamId::MIN, StreamId::MAX, limit, false);
    out.bulk(b"groups");
    out.array(s.groups.len());
    for (name, g) in s.groups.iter() {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        reply_id(out, g.last_id);
        out.bulk(b"entries-read");
        reply_entries_read(out, g);
        out.bulk(b"lag");
        reply_lag(out, s, g);
        out.bulk(b"pel-count");
        out.int(g.pending_len() as i64);
        out.bulk(b"pending");
        let pel: Vec<_> = g.pending_range(StreamId::MIN, StreamId::MAX).take(limit).collect();
        out.array(pel.len());
        for (id, n) in pel {
            out.array(4);
            reply_id(out, id);
            out.bulk(g.owner(n));
            out.int(n.delivery_time);
            out.int(n.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumer_count());
        for c in g.consumers() {
            out.map(4);
            out.bulk(b"name");
            out.bulk(&c.name);
            out.bulk(b"seen-time");
            out.int(c.seen_time);
            out.bulk(b"pel-count");
            out.int(c.pending_len() as i64);
            out.bulk(b"pending");
            let ids: Vec<_> = c.pending_from(StreamId::MIN).take(limit).collect();
            out.array(ids.len());
            for id in ids {
                let n = g.nack(id).copied();
                out.array(3);
                reply_id(out, id);
                out.int(n.map_or(0, |n| n.delivery_time));
                out.int(n.map_or(0, |n| n.delivery_count as i64));
            }
        }
    }
    Ok(())
}

/// XINFO GROUPS key — O(1) per group.
pub(super) fn xinfo_groups(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let s = stream(ks, &args[2])?;
    out.array(s.groups.len());
    for (name, g) in s.groups.iter() {
        out.map(6);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"consumers");
        out.int(g.consumer_count() as i64);
        out.bulk(b"pending");
        out.int(g.pending_len() as i64);
        out.bulk(b"last-delivered-id");
        reply_id(out, g.last_id);
        out.bulk(b"entries-read");
        reply_entries_read(out, g);
        out.bulk(b"lag");
        reply_lag(out, s, g);
    }
    Ok(())
}

/// XINFO CONSUMERS key group — O(1) per consumer.
pub(super) fn xinfo_consumers(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (key, name) = (&args[2], &args[3]);
    let now = ks.now_ms() as i64;
    let s = stream(ks, key)?;
    let Some(g) = s.groups.get(name) else { return Err(no_group(key, name)) };
    out.array(g.consumer_count());
    for c in g.consumers() {
        out.map(3);
        out.bulk(b"name");
        out.bulk(&c.name);
        out.bulk(b"pending");
        out.int(c.pending_len() as i64);
        out.bulk(b"idle");
        out.int(now.wrapping_sub(c.seen_time).max(0));
    }
    Ok(())
}

/// XINFO HELP — O(1).
pub(super) fn xinfo_help(_ks: &mut Ks<'_>, _args: &[Bytes], out: &mut Out) -> CmdResult {
    crate::cmd::server::reply_help(
        out,
        "XINFO",
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ms: u64) -> [u8; 16] {
        StreamId::new(ms, 1).to_be_bytes()
    }

    #[test]
    fn rax_nodes_as_redis() {
        // Counts Redis 7.0 reports for streams with these node keys.
        assert_eq!(rax_nodes(&[]), 1);
        assert_eq!(rax_nodes(&[key(1)]), 2);
        assert_eq!(rax_nodes(&[key(1), key(101), key(201)]), 8);
    }
}
