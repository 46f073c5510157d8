//! Streams in RDB form (Redis's `rdbSaveObject`/`rdbLoadObject`): the node
//! count, each node as its 16-byte big-endian master ID and its listpack
//! verbatim, then the length and last ID, and (types 19 and 21) the first
//! ID, the max deleted ID and entries added, then the consumer groups.
//! DUMP writes type 19 as Redis 7.0 does; types 15, 19 and 21 are read.

use super::rdb::{save_len, save_string, Reader};
use crate::types::stream::group::{
    StreamPos, RDB_TYPE_STREAM_LISTPACKS, RDB_TYPE_STREAM_LISTPACKS_2, RDB_TYPE_STREAM_LISTPACKS_3,
};
use crate::types::stream::{Groups, Stream, StreamId};
use crate::types::Value;

pub(super) fn is_stream_type(t: u8) -> bool {
    matches!(t, RDB_TYPE_STREAM_LISTPACKS | RDB_TYPE_STREAM_LISTPACKS_2 | RDB_TYPE_STREAM_LISTPACKS_3)
}

/// Writes a stream as `RDB_TYPE_STREAM_LISTPACKS_2`, type byte first.
pub(super) fn dump_stream(s: &Stream, out: &mut Vec<u8>) {
    out.push(RDB_TYPE_STREAM_LISTPACKS_2);
    save_len(out, s.node_count() as u64);
    for (master, lp) in s.nodes() {
        save_string(out, &master.to_be_bytes());
        save_string(out, lp);
    }
    save_len(out, s.len());
    for id in [s.last_id, s.first_id, s.max_deleted_entry_id] {
        save_len(out, id.ms);
        save_len(out, id.seq);
    }
    save_len(out, s.entries_added);
    s.groups.write_rdb(out);
}

/// Reads a stream of RDB type `t`; `None` for bad data: a node key that is
/// not an ID, a malformed or empty node, entries out of order, a length or
/// last ID that does not match the entries, or bad groups.
pub(super) fn load_stream(t: u8, r: &mut Reader<'_>) -> Option<Value> {
    let mut s = Stream::new();
    let nodes = r.len()?;
    for _ in 0..nodes {
        let key: [u8; 16] = r.string()?.try_into().ok()?;
        let lp = r.string()?;
        s.load_node(StreamId::from_be_bytes(key), lp)?;
    }
    let length = r.len()?;
    let last_id = StreamId::new(r.len()?, r.len()?);
    if length != s.len() || s.last_entry_id().is_some_and(|l| l > last_id) {
        return None;
    }
    s.last_id = last_id;
    if t >= RDB_TYPE_STREAM_LISTPACKS_2 {
        s.first_id = StreamId::new(r.len()?, r.len()?);
        s.max_deleted_entry_id = StreamId::new(r.len()?, r.len()?);
        s.entries_added = r.len()?;
    } else {
        // As Redis 7.0 upgrades a Redis 5/6 stream.
        s.max_deleted_entry_id = StreamId::MIN;
        s.entries_added = s.len();
        s.first_id = s.first_entry_id().unwrap_or(StreamId::MAX);
    }
    let pos = StreamPos {
        length: s.len(),
        last_id: s.last_id,
        first_id: s.first_id,
        max_deleted_id: s.max_deleted_entry_id,
        entries_added: s.entries_added,
    };
    s.groups = Groups::read_rdb(r, t, &pos).ok()?;
    Some(Value::Stream(Box::new(s)))
}
