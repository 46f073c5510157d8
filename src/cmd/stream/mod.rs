//! Stream commands: entries (XADD, XRANGE, XREAD, ...) and consumer groups
//! (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO).

//!
//! Entries (`entries`, `read`) are H-stream's; the shared helpers below
//! parse IDs and write entries as Redis replies with them. `read` also holds
//! the blocking wait on streams that XREAD and XREADGROUP share
//! ([`read::block_on_streams`]).

mod claim;
mod entries;
mod group;
mod info;
mod pending;
pub(crate) mod read;
mod readgroup;

use super::{CmdError, Handler, Ks, OpError};
use crate::resp::Out;
use crate::types::stream::lp::Elem;
use crate::types::stream::{EntryRef, Stream, StreamId};
use crate::{async_handler, on_shard};

pub const HANDLERS: &[(&str, Handler)] = &[
    // Entries.
    ("xadd", Handler::Sync(on_shard!(entries::xadd))),
    ("xlen", Handler::Sync(on_shard!(entries::xlen))),
    ("xrange", Handler::Sync(on_shard!(entries::xrange))),
    ("xrevrange", Handler::Sync(on_shard!(entries::xrevrange))),
    ("xdel", Handler::Sync(on_shard!(entries::xdel))),
    ("xtrim", Handler::Sync(on_shard!(entries::xtrim))),
    ("xsetid", Handler::Sync(on_shard!(entries::xsetid))),
    ("xread", Handler::Async(async_handler!(read::xread))),
    // Consumer groups.
    ("xgroup|create", Handler::Sync(on_shard!(group::xgroup_create))),
    ("xgroup|setid", Handler::Sync(on_shard!(group::xgroup_setid))),
    ("xgroup|destroy", Handler::Sync(on_shard!(group::xgroup_destroy))),
    ("xgroup|createconsumer", Handler::Sync(on_shard!(group::xgroup_createconsumer))),
    ("xgroup|delconsumer", Handler::Sync(on_shard!(group::xgroup_delconsumer))),
    ("xgroup|help", Handler::Sync(on_shard!(group::xgroup_help))),
    ("xreadgroup", Handler::Async(async_handler!(readgroup::xreadgroup))),
    ("xack", Handler::Sync(on_shard!(pending::xack))),
    ("xpending", Handler::Sync(on_shard!(pending::xpending))),
    ("xclaim", Handler::Sync(on_shard!(claim::xclaim))),
    ("xautoclaim", Handler::Sync(on_shard!(claim::xautoclaim))),
    ("xinfo|stream", Handler::Sync(on_shard!(info::xinfo_stream))),
    ("xinfo|groups", Handler::Sync(on_shard!(info::xinfo_groups))),
    ("xinfo|consumers", Handler::Sync(on_shard!(info::xinfo_consumers))),
    ("xinfo|help", Handler::Sync(on_shard!(info::xinfo_help))),
];

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

/// Redis's `streamParseIDOrReply`: `-`/`+` allowed, a bare `<ms>` takes `missing_seq`.
pub(crate) fn parse_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, CmdError> {
    StreamId::parse(arg, missing_seq, false, false).map(|(id, _)| id).ok_or(CmdError::new(INVALID_ID))
}

/// Redis's `streamParseStrictIDOrReply`: `-`/`+` refused, a bare `<ms>`
/// takes `missing_seq`.
pub(crate) fn parse_strict_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, CmdError> {
    StreamId::parse(arg, missing_seq, true, false).map(|(id, _)| id).ok_or(CmdError::new(INVALID_ID))
}

/// Redis's `streamParseIntervalIDOrReply`: `(id` excludes `id` (then `-`
/// and `+` are not IDs); returns the ID and whether it is excluded.
fn parse_interval_id(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CmdError> {
    match arg {
        [b'(', rest @ ..] if !rest.is_empty() => Ok((parse_strict_id(rest, missing_seq)?, true)),
        _ => Ok((parse_id(arg, missing_seq)?, false)),
    }
}

/// The first ID of an interval: `(id` starts after `id`.
pub(crate) fn interval_start(arg: &[u8]) -> Result<StreamId, CmdError> {
    match parse_interval_id(arg, 0)? {
        (id, true) => id.next().ok_or_else(|| CmdError::err("invalid start ID for the interval")),
        (id, false) => Ok(id),
    }
}

/// The last ID of an interval: `(id` ends before `id`; a bare `<ms>` ends
/// at its last sequence.
pub(crate) fn interval_end(arg: &[u8]) -> Result<StreamId, CmdError> {
    match parse_interval_id(arg, u64::MAX)? {
        (id, true) => id.prev().ok_or_else(|| CmdError::err("invalid end ID for the interval")),
        (id, false) => Ok(id),
    }
}

/// An ID as a bulk string, `<ms>-<seq>`.
pub(crate) fn reply_id(out: &mut Out, id: StreamId) {
    let mut buf = itoa::Buffer::new();
    let mut s = Vec::with_capacity(41);
    s.extend_from_slice(buf.format(id.ms).as_bytes());
    s.push(b'-');
    s.extend_from_slice(buf.format(id.seq).as_bytes());
    out.bulk(&s);
}

/// Redis's `lookupKeyWrite` plus `checkType` for a stream.
pub(crate) fn stream_mut<'a>(ks: &'a mut Ks<'_>, key: &[u8]) -> Result<Option<&'a mut Stream>, OpError> {
    ks.write_as(key)
}

/// One listpack element as a bulk string.
fn reply_elem(out: &mut Out, e: Elem<'_>) {
    match e {
        Elem::Str(s) => out.bulk(s),
        Elem::Int(v) => out.bulk_int(v),
    }
}

/// An entry as Redis replies with it: `[id, [field, value, ...]]` (RESP2
/// and RESP3 alike).
pub(crate) fn reply_stream_entry(out: &mut Out, e: &EntryRef<'_>) {
    out.array(2);
    reply_id(out, e.id);
    out.array(2 * e.num_fields());
    for (f, v) in e.fields() {
        reply_elem(out, f);
        reply_elem(out, v);
    }
}

/// Up to `count` (0: all) entries from `start` to `end` as an array
/// (Redis's `streamReplyWithRange` without a group); returns how many.
pub(crate) fn reply_entries(
    out: &mut Out,
    s: &Stream,
    start: StreamId,
    end: StreamId,
    count: usize,
    rev: bool,
) -> usize {
    let mut v = Vec::new();
    s.for_each_in(start, end, rev, |e| {
        v.push(e);
        count == 0 || v.len() < count
    });
    out.array(v.len());
    for e in &v {
        reply_stream_entry(out, e);
    }
    v.len()
}
