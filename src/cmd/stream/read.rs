//! XREAD, and the blocking wait on streams that XREAD and XREADGROUP share.
//!
//! XREAD's keys may live on several shards: each shard resolves `$` and
//! reads what is there for its keys; with nothing to read and BLOCK given,
//! the call blocks on every key (`cmd::blocking::block_on`) with a
//! [`StreamRead`] op holding the ID each key must pass. XADD marks the key
//! ready ([`signal_ready`]) even when the stream existed, and the owning
//! shard serves each waiter whose ID the new entries pass.

use std::any::Any;
use std::sync::Arc;

use bytes::Bytes;

use super::parse_strict_id;
use crate::cmd::blocking::{block_on, Outcome};
use crate::cmd::{args, by_shard, on_shards, CmdError, CmdResult, Ks, OpError, Session};
use crate::db::Clock;
use crate::resp::{Out, Proto};
use crate::shard::block::Serve;
use crate::shard::ShardId;
use crate::types::stream::{Entry, Stream, StreamId};
use crate::types::{Kind, Value};

/// Redis's `signalKeyAsReady(db, key, OBJ_STREAM)`: clients blocked reading
/// `key` (XREAD, XREADGROUP) are served after the current command. XADD
/// calls it; so must anything else that adds entries.
pub(crate) fn signal_ready(ks: &mut Ks<'_>, key: &[u8]) {
    crate::shard::block::stream_ready(ks.db_index, key);
}

/// How a blocking stream read ended.
pub(crate) enum StreamWait {
    /// A shard served the call from `key`: what the op's `serve` returned.
    Served(Bytes, Box<dyn Any + Send>),
    /// The timeout passed (or CLIENT UNBLOCK ... TIMEOUT, or inside
    /// MULTI/EXEC or a script, where nothing blocks): reply a null array.
    TimedOut,
}

/// Blocks until `op` can serve the call from one of `keys` (on whatever
/// shards they live), `deadline` (absolute ms, `None` for ever) passes, or
/// CLIENT UNBLOCK ends it (`Err` with Redis's UNBLOCKED error for ERROR).
///
/// For XREADGROUP: implement [`Serve`] for the group read, with
/// `fifo() -> false`, a `serve` that (on the shard owning `key`) returns
/// `None` while the stream has nothing for the call, else calls `claim()`
/// and only if it wins changes the group (PEL, last ID) and returns the
/// entries to reply with; then call this after the non-blocking attempt
/// found nothing. XADD wakes the waiters through [`signal_ready`]. A served
/// call gets the key and the boxed result back to reply with; changes made
/// in `serve` are logged to the AOF as the key's state.
pub(crate) async fn block_on_streams(
    s: &mut Session,
    keys: &[Bytes],
    deadline: Option<u64>,
    op: Arc<dyn Serve>,
) -> Result<StreamWait, CmdError> {
    match block_on(s, keys, Kind::Stream, deadline, op).await? {
        Outcome::Served((key, v)) => Ok(StreamWait::Served(key, v)),
        Outcome::Unblocked => Err(CmdError::new("UNBLOCKED client unblocked via CLIENT UNBLOCK")),
        Outcome::TimedOut | Outcome::Gone => Ok(StreamWait::TimedOut),
    }
}

/// Redis's `getTimeoutFromObjectOrReply` in milliseconds: the absolute
/// deadline, or `None` for BLOCK 0 (for ever).
pub(crate) fn parse_block_ms(arg: &[u8], now_ms: u64) -> Result<Option<u64>, CmdError> {
    let ms =
        crate::resp::parse::parse_i64(arg).ok_or_else(|| CmdError::err("timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    Ok(if ms == 0 { None } else { now_ms.checked_add(ms as u64) })
}

/// An XREAD blocked on its keys: entries after the ID of the key that gets some.
struct StreamRead {
    after: Vec<(Bytes, StreamId)>,
    count: usize,
}

impl Serve for StreamRead {
    fn serve(
        &self,
        ks: &mut Ks<'_>,
        key: &[u8],
        _here: ShardId,
        claim: &mut dyn FnMut() -> bool,
    ) -> Option<Box<dyn Any + Send>> {
        let after = self.after.iter().find(|(k, _)| &k[..] == key)?.1;
        let e = ks.write(key)?;
        let Some(Value::Stream(s)) = e.obj() else { return None };
        let entries = entries_after(s, after, self.count)?;
        if !claim() {
            return None;
        }
        Some(Box::new(entries))
    }

    fn fifo(&self) -> bool {
        false
    }
}

/// Up to `count` (0: all) entries after `after`, or `None` if there are none.
fn entries_after(s: &Stream, after: StreamId, count: usize) -> Option<Vec<Entry>> {
    if s.last_entry_id().is_none_or(|last| last <= after) {
        return None;
    }
    let v = s.range(after.next()?, StreamId::MAX, count, false);
    (!v.is_empty()).then_some(v)
}

/// What XREAD's argument after STREAMS means for one key.
#[derive(Clone, Copy)]
enum Want {
    /// `$`: entries after the stream's last ID as of now.
    Last,
    After(StreamId),
}

/// One key's answer from its shard.
enum Found {
    WrongType,
    /// The ID resolved, and the entries after it (if any).
    Read(StreamId, Option<Vec<Entry>>),
}

fn write_entries(out: &mut Out, entries: &[Entry]) {
    out.array(entries.len());
    for e in entries {
        out.array(2);
        out.bulk(e.id.to_string().as_bytes());
        out.array(2 * e.fields.len());
        for (f, v) in &e.fields {
            out.bulk(f);
            out.bulk(v);
        }
    }
}

/// XREAD's reply: an array of `[key, entries]` in RESP2, a map in RESP3.
fn reply_streams(out: &mut Out, found: &[(&Bytes, &Vec<Entry>)]) {
    if out.proto == Proto::Resp3 {
        out.map(found.len());
    } else {
        out.array(found.len());
    }
    for (key, entries) in found {
        if out.proto != Proto::Resp3 {
            out.array(2);
        }
        out.bulk(key);
        write_entries(out, entries);
    }
}

/// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
/// — O(N) in the entries returned; blocks when nothing is there yet.
pub(super) async fn xread(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let mut block: Option<Option<u64>> = None;
    let mut count: i64 = 0;
    let mut streams_at = 0;
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let o = &args[i];
        if args::is(o, "block") && more > 0 {
            i += 1;
            block = Some(parse_block_ms(&args[i], Clock::now().now_ms)?);
        } else if args::is(o, "count") && more > 0 {
            i += 1;
            count = args::int(&args[i])?.max(0);
        } else if args::is(o, "streams") && more > 0 {
            streams_at = i + 1;
            if !(args.len() - streams_at).is_multiple_of(2) {
                return Err(CmdError::err(
                    "Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            break;
        } else if args::is(o, "group") && more >= 2 {
            return Err(CmdError::err("The GROUP option is only supported by XREADGROUP. You called XREAD instead."));
        } else if args::is(o, "noack") {
            return Err(CmdError::err("The NOACK option is only supported by XREADGROUP. You called XREAD instead."));
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    if streams_at == 0 {
        return Err(CmdError::syntax());
    }
    let n = (args.len() - streams_at) / 2;
    let keys = &args[streams_at..streams_at + n];
    // IDs are parsed here; an error counts at its key's position, after the
    // type checks of the keys before it (Redis checks key by key).
    let mut first_bad: Option<(usize, CmdError)> = None;
    let mut wants = Vec::with_capacity(n);
    for (j, a) in args[streams_at + n..].iter().enumerate() {
        let w = match &a[..] {
            b"$" => Ok(Want::Last),
            b">" => Err(CmdError::err(
                "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
            )),
            _ => parse_strict_id(a, 0).map(Want::After),
        };
        match w {
            Ok(w) => wants.push(Some(w)),
            Err(e) => {
                // Its key is still type-checked first.
                wants.push(None);
                first_bad = Some((j, e));
                break;
            }
        }
    }
    let upto = wants.len();
    let count = count as usize;
    let items = keys[..upto].iter().cloned().zip(wants.into_iter().enumerate());
    let groups = by_shard(s, items);
    let answers = on_shards(s, groups, move |ks, items: Vec<(Bytes, (usize, Option<Want>))>| {
        items
            .into_iter()
            .map(|(key, (j, want))| {
                let found = match ks.read_as::<Stream>(&key) {
                    Err(_) => Found::WrongType,
                    Ok(None) => match want {
                        Some(Want::After(id)) => Found::Read(id, None),
                        _ => Found::Read(StreamId::MIN, None),
                    },
                    Ok(Some(st)) => match want {
                        None => Found::Read(StreamId::MIN, None),
                        Some(Want::Last) => Found::Read(st.last_id, None),
                        Some(Want::After(id)) => Found::Read(id, entries_after(st, id, count)),
                    },
                };
                (j, key, found)
            })
            .collect::<Vec<_>>()
    })
    .await;
    let mut per_key: Vec<(usize, Bytes, Found)> = answers.into_iter().flatten().collect();
    per_key.sort_by_key(|(j, _, _)| *j);
    if let Some((j, _, _)) = per_key.iter().find(|(_, _, f)| matches!(f, Found::WrongType)) {
        if first_bad.as_ref().is_none_or(|(b, _)| j <= b) {
            return Err(OpError::WrongType.into());
        }
    }
    if let Some((_, e)) = first_bad {
        return Err(e);
    }
    let data: Vec<(&Bytes, &Vec<Entry>)> = per_key
        .iter()
        .filter_map(|(_, k, f)| match f {
            Found::Read(_, Some(e)) => Some((k, e)),
            _ => None,
        })
        .collect();
    if !data.is_empty() {
        reply_streams(out, &data);
        return Ok(());
    }
    let Some(deadline) = block else {
        out.null_array();
        return Ok(());
    };
    let after: Vec<(Bytes, StreamId)> = per_key
        .iter()
        .map(|(_, k, f)| (k.clone(), if let Found::Read(id, _) = f { *id } else { StreamId::MIN }))
        .collect();
    // A key named twice waits for the first of its IDs, as Redis's blockForKeys keeps the first.
    let op: Arc<dyn Serve> = Arc::new(StreamRead { after, count });
    match block_on_streams(s, keys, deadline, op).await? {
        StreamWait::Served(key, v) => {
            let Ok(entries) = v.downcast::<Vec<Entry>>() else {
                return Err(CmdError::err("internal error: unexpected blocked read result"));
            };
            reply_streams(out, &[(&key, &entries)]);
        }
        StreamWait::TimedOut => out.null_array(),
    }
    Ok(())
}
