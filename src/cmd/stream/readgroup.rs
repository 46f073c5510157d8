//! XREADGROUP: reading a stream as a consumer of a group, new entries (`>`)
//! or the consumer's own pending history (an ID).
//!
//! The keys may live on several shards. The call first checks every key and
//! group where it lives (so errors come in argument order, as Redis reports
//! them), then serves each stream on its shard and puts the per-stream
//! replies together in argument order.

use std::any::Any;
use std::sync::Arc;

use bytes::Bytes;

use super::claim::{replay, GroupChange};
use super::group::{no_key_or_group, stream_pos};
use super::read::{block_on_streams, StreamWait};
use super::{parse_strict_id, reply_id, reply_stream_entry};
use crate::cmd::{args, CmdError, CmdResult, Ks, Session};
use crate::resp::{Out, Proto};
use crate::shard::block::Serve;
use crate::shard::signal::class;
use crate::shard::ShardId;
use crate::types::stream::{Stream, StreamId};

/// What XREADGROUP asks of one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    /// `>`: entries never delivered to the group.
    New,
    /// The consumer's pending entries with IDs above this one.
    History(StreamId),
}

/// The parsed command.
#[derive(Debug, Clone)]
pub(super) struct ReadGroup {
    pub group: Bytes,
    pub consumer: Bytes,
    /// 0: no limit.
    pub count: usize,
    pub noack: bool,
    /// BLOCK's deadline: absolute ms, or `None` (BLOCK 0) for ever.
    pub block: Option<Option<u64>>,
    pub keys: Vec<Bytes>,
    pub ids: Vec<Bytes>,
}

/// Parses XREADGROUP's options as Redis's `xreadCommand` does.
pub(super) fn parse(args: &[Bytes]) -> Result<ReadGroup, CmdError> {
    let mut group = None;
    let mut count = 0i64;
    let mut noack = false;
    let mut block = None;
    let mut streams_at = None;
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let a = &args[i];
        if args::is(a, "block") && more > 0 {
            i += 1;
            block = Some(super::read::parse_block_ms(&args[i], crate::db::Clock::now().now_ms)?);
        } else if args::is(a, "count") && more > 0 {
            i += 1;
            count = args::int(&args[i])?.max(0);
        } else if args::is(a, "streams") && more > 0 {
            streams_at = Some(i + 1);
            break;
        } else if args::is(a, "group") && more >= 2 {
            group = Some((args[i + 1].clone(), args[i + 2].clone()));
            i += 2;
        } else if args::is(a, "noack") {
            noack = true;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    let Some(at) = streams_at else { return Err(CmdError::syntax()) };
    let rest = &args[at..];
    if !rest.len().is_multiple_of(2) {
        return Err(CmdError::err(
            // Redis 7.0 words it so for XREADGROUP too.
            "Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
        ));
    }
    let Some((group, consumer)) = group else { return Err(CmdError::err("Missing GROUP option for XREADGROUP")) };
    let n = rest.len() / 2;
    Ok(ReadGroup {
        group,
        consumer,
        count: usize::try_from(count).unwrap_or(usize::MAX),
        noack,
        block,
        keys: rest[..n].to_vec(),
        ids: rest[n..].to_vec(),
    })
}

/// What a key holds for the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Found {
    WrongType,
    NoGroup,
    Ok,
}

/// Checks `key` for the call (Redis's `lookupKeyRead` plus the group lookup).
pub(super) fn check(ks: &mut Ks<'_>, key: &[u8], group: &[u8]) -> Found {
    match ks.read_as::<Stream>(key) {
        Err(_) => Found::WrongType,
        Ok(Some(s)) if s.groups.get(group).is_some() => Found::Ok,
        Ok(_) => Found::NoGroup,
    }
}

/// The IDs, parsed after the key checks, as Redis interleaves them.
fn parse_want(arg: &[u8]) -> Result<Want, CmdError> {
    match arg {
        b"$" => Err(CmdError::err(
            "The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
        )),
        b">" => Ok(Want::New),
        // Redis marks `>` with the largest ID, so that ID means `>` too.
        _ => match parse_strict_id(arg, 0)? {
            StreamId::MAX => Ok(Want::New),
            id => Ok(Want::History(id)),
        },
    }
}

/// NOGROUP as XREADGROUP words it.
pub(super) fn no_group_error(key: &[u8], group: &[u8]) -> CmdError {
    no_key_or_group(key, group, " in XREADGROUP with GROUP option")
}

/// Serves one stream if there is something to serve: the reply's
/// `[key, entries]` pair, in protocol `proto`. History is always served
/// (possibly empty); new entries only when the stream has some the group has
/// not read. `Err` when the key or group went away.
pub(super) fn serve_stream(
    ks: &mut Ks<'_>,
    key: &[u8],
    rg: &ReadGroup,
    want: Want,
    proto: Proto,
) -> Result<Option<Vec<u8>>, CmdError> {
    let now = ks.now_ms() as i64;
    let logging = ks.signals.logging;
    let s = match ks.write_as::<Stream>(key) {
        Ok(Some(s)) => s,
        _ => return Err(no_group_error(key, &rg.group)),
    };
    let pos = stream_pos(s);
    let last_valid = s.last_entry_id();
    let Some(g) = s.groups.get_mut(&rg.group) else { return Err(no_group_error(key, &rg.group)) };
    if want == Want::New && last_valid.is_none_or(|last| last <= g.last_id) {
        return Ok(None);
    }
    let (slot, created) = g.touch_consumer(&rg.consumer, now);
    let mut out = Out::new(proto);
    // RESP3 replies with a map of key -> entries, RESP2 with [key, entries] pairs.
    if proto == Proto::Resp2 {
        out.array(2);
    }
    out.bulk(key);
    let mut changed = created;
    let mut delivered: Vec<StreamId> = Vec::new();
    let mut advanced = false;
    match want {
        Want::History(after) => {
            // Redis's streamIncrID: past the largest ID it wraps to 0-0.
            let start = after.next().unwrap_or(StreamId::MIN);
            let ids: Vec<StreamId> = {
                let c = g.slot(slot).map(|c| c.pending_from(start).collect::<Vec<_>>()).unwrap_or_default();
                if rg.count == 0 {
                    c
                } else {
                    c.into_iter().take(rg.count).collect()
                }
            };
            out.array(ids.len());
            for id in ids {
                let mut found = false;
                s.for_each_in(id, id, false, |e| {
                    reply_stream_entry(&mut out, &e);
                    found = true;
                    false
                });
                if found {
                    if let Some(g) = s.groups.get_mut(&rg.group) {
                        g.redeliver(id, now);
                    }
                    if logging {
                        delivered.push(id);
                    }
                    changed = true;
                } else {
                    // Deleted from the stream: the ID with no fields.
                    out.array(2);
                    reply_id(&mut out, id);
                    out.null_array();
                }
            }
        }
        Want::New => {
            let start = g.last_id.next().unwrap_or(StreamId::MAX);
            let mut ids = Vec::new();
            let mut body = Out::new(proto);
            s.for_each_in(start, StreamId::MAX, false, |e| {
                reply_stream_entry(&mut body, &e);
                ids.push(e.id);
                rg.count == 0 || ids.len() < rg.count
            });
            if let Some(g) = s.groups.get_mut(&rg.group) {
                for &id in &ids {
                    g.advance(id, &pos);
                    if !rg.noack {
                        g.deliver(id, slot, now);
                    }
                }
            }
            advanced = !ids.is_empty();
            changed |= advanced;
            out.array(ids.len());
            out.raw(&body.buf);
            if !rg.noack {
                delivered = ids;
            }
        }
    }
    // What replays this read, as Redis propagates it: the consumer's
    // creation, every delivery as an XCLAIM, the group's new last ID.
    let change = GroupChange { consumer: &rg.consumer, created, claimed: &delivered, acked: &[], set_id: advanced };
    let cmds = if logging && changed { replay(s, key, &rg.group, &change) } else { Vec::new() };
    if created {
        ks.notify(class::STREAM, "xgroup-createconsumer", key);
    }
    if changed {
        ks.modified_as(key, || cmds);
    }
    Ok(Some(out.buf.to_vec()))
}

/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS
/// key [key ...] id [id ...] — O(M) in the entries returned.
pub(super) async fn xreadgroup(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let rg = parse(args)?;
    let n = rg.keys.len();
    // Check every key where it lives, then report the first problem in
    // argument order, each key's ID parsed after its checks.
    let group = rg.group.clone();
    let items = rg.keys.iter().enumerate().map(|(i, k)| (k.clone(), i));
    let by = crate::cmd::by_shard(s, items);
    let found = crate::cmd::on_shards(s, by.clone(), move |ks, keys: Vec<(Bytes, usize)>| {
        keys.into_iter().map(|(k, i)| (i, check(ks, &k, &group))).collect::<Vec<_>>()
    })
    .await;
    let mut status = vec![Found::Ok; n];
    for (i, f) in found.into_iter().flatten() {
        status[i] = f;
    }
    let mut wants = Vec::with_capacity(n);
    for (i, st) in status.iter().enumerate() {
        match st {
            Found::WrongType => return Err(crate::cmd::OpError::WrongType.into()),
            Found::NoGroup => return Err(no_group_error(&rg.keys[i], &rg.group)),
            Found::Ok => {}
        }
        wants.push(parse_want(&rg.ids[i])?);
    }
    let proto = out.proto;
    let served = serve_all(s, &rg, &wants, proto).await?;
    if !served.is_empty() {
        reply_parts(out, &served);
        return Ok(());
    }
    let Some(deadline) = rg.block else {
        out.null_array();
        return Ok(());
    };
    // Only `>` reads get here (history is always served): wait for entries
    // the group has not read, at most 1000 at a time without COUNT.
    let mut op = GroupRead { rg: rg.clone(), proto };
    if op.rg.count == 0 {
        op.rg.count = BLOCKED_DEFAULT_COUNT;
    }
    match block_on_streams(s, &rg.keys, deadline, Arc::new(op)).await? {
        StreamWait::TimedOut => out.null_array(),
        StreamWait::Served(_, v) => match v.downcast::<Result<Vec<u8>, CmdError>>() {
            Ok(r) => reply_parts(out, &[(*r)?]),
            Err(_) => return Err(CmdError::err("internal error in 'xreadgroup': unexpected result")),
        },
    }
    Ok(())
}

/// Redis's `XREAD_BLOCKED_DEFAULT_COUNT`.
const BLOCKED_DEFAULT_COUNT: usize = 1000;

/// The whole reply from the served streams' parts.
fn reply_parts(out: &mut Out, parts: &[Vec<u8>]) {
    if out.proto == Proto::Resp2 {
        out.array(parts.len());
    } else {
        out.map(parts.len());
    }
    for p in parts {
        out.raw(p);
    }
}

/// An XREADGROUP blocked for new entries, served on the shard of the key
/// that gets some (or that lost its group or its stream: an error then, as
/// Redis 7.0 replies).
struct GroupRead {
    rg: ReadGroup,
    proto: Proto,
}

impl Serve for GroupRead {
    fn serve(
        &self,
        ks: &mut Ks<'_>,
        key: &[u8],
        _here: ShardId,
        claim: &mut dyn FnMut() -> bool,
    ) -> Option<Box<dyn Any + Send>> {
        let gone = match ks.write_as::<Stream>(key) {
            Ok(Some(s)) => match s.groups.get(&self.rg.group) {
                None => Some(CmdError::new("NOGROUP the consumer group this client was blocked on no longer exists")),
                Some(g) => {
                    if s.last_entry_id().is_none_or(|last| last <= g.last_id) {
                        return None;
                    }
                    None
                }
            },
            _ => Some(CmdError::new("UNBLOCKED the stream key no longer exists")),
        };
        if !claim() {
            return None;
        }
        let r = match gone {
            Some(e) => Err(e),
            None => serve_stream(ks, key, &self.rg, Want::New, self.proto).map(Option::unwrap_or_default),
        };
        Some(Box::new(r))
    }

    fn fifo(&self) -> bool {
        false
    }
}

/// Serves every stream on its shard; the replies of those served, in
/// argument order.
pub(super) async fn serve_all(
    s: &Session,
    rg: &ReadGroup,
    wants: &[Want],
    proto: Proto,
) -> Result<Vec<Vec<u8>>, CmdError> {
    let items = rg.keys.iter().cloned().zip(wants.iter().copied().enumerate());
    let by = crate::cmd::by_shard(s, items);
    let rg2 = rg.clone();
    let results = crate::cmd::on_shards(s, by, move |ks, keys: Vec<(Bytes, (usize, Want))>| {
        keys.into_iter().map(|(k, (i, w))| (i, serve_stream(ks, &k, &rg2, w, proto))).collect::<Vec<_>>()
    })
    .await;
    let mut parts: Vec<Option<Vec<u8>>> = vec![None; wants.len()];
    for (i, r) in results.into_iter().flatten() {
        parts[i] = r?;
    }
    Ok(parts.into_iter().flatten().collect())
}
