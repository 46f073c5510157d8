//! Stream entries: XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID, with
//! Redis 7.0's argument rules and error texts (`t_stream.c`).
//!
//! XADD and XTRIM with `~` trim by whole nodes, which depends on how the
//! nodes were cut, and XADD with `*`/`<ms>-*` picks an ID from the clock: as
//! Redis propagates them, they are logged to the AOF with the ID they got
//! and `~` rewritten to `=` with the threshold that resulted
//! (`streamRewriteApproxSpecifier`, `streamRewriteTrimArgument`).

use bytes::Bytes;

use super::{interval_end, interval_start, parse_strict_id, reply_entries, stream_mut};
use crate::cmd::{args, CmdError, CmdResult, Ks, OpError};
use crate::db::Entry;
use crate::resp::Out;
use crate::shard::signal::class;
use crate::types::stream::{AddError, NewId, Seq, Stream, StreamId, Trim, TrimArgs};
use crate::types::Value;

/// Parsed XADD/XTRIM options (Redis's `streamAddTrimArgs`).
struct AddTrim {
    trim: Option<TrimArgs>,
    /// Index of the MAXLEN/MINID threshold argument.
    trim_at: usize,
    /// Index of the LIMIT keyword, if given.
    limit_at: Option<usize>,
    nomkstream: bool,
    /// XADD: the ID argument (None for `*`) and where it is.
    id: Option<(StreamId, Seq)>,
    id_at: usize,
}

fn err(msg: &'static str) -> CmdError {
    CmdError::err(msg)
}

/// Redis's `streamParseAddOrTrimArgsOrReply` (from the argument after the key).
fn parse_add_trim(args: &[Bytes], xadd: bool, node_max_entries: usize) -> Result<AddTrim, CmdError> {
    let mut o = AddTrim { trim: None, trim_at: 0, limit_at: None, nomkstream: false, id: None, id_at: 0 };
    let (mut approx, mut limit): (bool, Option<i64>) = (false, None);
    let mut trim: Option<Trim> = None;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = &args[i][..];
        if xadd && opt == b"*" {
            break;
        } else if (args::is(opt, "maxlen") || args::is(opt, "minid")) && more > 0 {
            if trim.is_some() {
                return Err(err("syntax error, MAXLEN and MINID options at the same time are not compatible"));
            }
            approx = false;
            let next = &args[i + 1][..];
            if more >= 2 && next == b"~" {
                approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            if args::is(opt, "maxlen") {
                let v = args::int(&args[i + 1])?;
                if v < 0 {
                    return Err(err("The MAXLEN argument must be >= 0."));
                }
                trim = Some(Trim::MaxLen(v as u64));
            } else {
                trim = Some(Trim::MinId(parse_strict_id(&args[i + 1], 0)?));
            }
            i += 1;
            o.trim_at = i;
        } else if args::is(opt, "limit") && more > 0 {
            let v = args::int(&args[i + 1])?;
            if v < 0 {
                return Err(err("The LIMIT argument must be >= 0."));
            }
            limit = Some(v);
            o.limit_at = Some(i);
            i += 1;
        } else if xadd && args::is(opt, "nomkstream") {
            o.nomkstream = true;
        } else if xadd {
            o.id = Some(
                StreamId::parse(opt, 0, true, true)
                    .ok_or_else(|| err("Invalid stream ID specified as stream command argument"))?,
            );
            break;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    o.id_at = i;
    if limit.is_some_and(|l| l > 0) && trim.is_none() {
        return Err(err("syntax error, LIMIT cannot be used without specifying a trimming strategy"));
    }
    let Some(trim) = trim else {
        if !xadd {
            return Err(err("syntax error, XTRIM must be called with a trimming strategy"));
        }
        if limit.is_some() {
            return Err(err("syntax error, LIMIT cannot be used without the special ~ option"));
        }
        return Ok(o);
    };
    let limit = match limit {
        Some(_) if !approx => return Err(err("syntax error, LIMIT cannot be used without the special ~ option")),
        Some(l) => l as u64,
        None if approx => match 100u64.saturating_mul(node_max_entries as u64) {
            0 => 10_000,
            l => l,
        },
        None => 0,
    };
    o.trim = Some(TrimArgs { trim, approx, limit });
    Ok(o)
}

/// The argv to log for a trim that was approximate: `~` as `=`, the
/// threshold that resulted, and no LIMIT (replay must trim exactly there).
fn rewrite_trim(args: &[Bytes], o: &AddTrim, s: &Stream, new_id: Option<StreamId>) -> Vec<Bytes> {
    let mut v: Vec<Bytes> = Vec::with_capacity(args.len());
    for (i, a) in args.iter().enumerate() {
        if o.limit_at.is_some_and(|l| i == l || i == l + 1) {
            continue;
        }
        if o.trim.is_some_and(|t| t.approx) && i + 1 == o.trim_at {
            v.push(Bytes::from_static(b"="));
        } else if o.trim.is_some_and(|t| t.approx) && i == o.trim_at {
            v.push(match o.trim.map(|t| t.trim) {
                Some(Trim::MaxLen(_)) => Bytes::from(s.len().to_string()),
                // Redis's streamGetEdgeID(s,1,0): the first entry, deleted or not.
                _ => Bytes::from(s.first_id_with_tombstones().unwrap_or(StreamId::MAX).to_string()),
            });
        } else if new_id.is_some() && i == o.id_at {
            v.push(Bytes::from(new_id.unwrap_or_default().to_string()));
        } else {
            v.push(a.clone());
        }
    }
    v
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
/// — O(1) to add, O(N) in the entries trimmed.
pub(super) fn xadd(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let lim = ks.limits;
    let o = parse_add_trim(args, true, lim.stream_node_max_entries)?;
    let fields = &args[o.id_at + 1..];
    if fields.len() < 2 || !fields.len().is_multiple_of(2) {
        return Err(CmdError::wrong_args("xadd"));
    }
    let new = match o.id {
        None => NewId::Auto,
        Some((id, Seq::Given)) if id == StreamId::MIN => {
            return Err(err("The ID specified in XADD must be greater than 0-0"));
        }
        Some((id, Seq::Given)) => NewId::Given(id),
        Some((id, Seq::Auto)) => NewId::AutoSeq(id.ms),
    };
    let key = &args[1];
    let now = ks.now_ms();
    if ks.write(key).is_none() {
        if o.nomkstream {
            out.null();
            return Ok(());
        }
        ks.insert(Entry::new_obj(key, Value::Stream(Box::default()), None));
    }
    let Some(s) = stream_mut(ks, key)? else { return Err(OpError::WrongType.into()) };
    if s.last_id == StreamId::MAX {
        return Err(err("The stream has exhausted the last possible ID, unable to add more items"));
    }
    let id = match s.add(new, fields, now, &lim) {
        Ok(id) => id,
        Err(AddError::NotGreater) => {
            return Err(err("The ID specified in XADD is equal or smaller than the target stream top item"))
        }
        Err(AddError::TooLarge) => return Err(err("Elements are too large to be stored")),
    };
    let trimmed = o.trim.is_some_and(|t| s.trim(&t) > 0);
    let approx = o.trim.is_some_and(|t| t.approx);
    let logged = (approx || !matches!(o.id, Some((_, Seq::Given))))
        .then(|| rewrite_trim(args, &o, s, (!matches!(o.id, Some((_, Seq::Given)))).then_some(id)));
    out.bulk(id.to_string().as_bytes());
    ks.changed(class::STREAM, "xadd", key);
    if trimmed {
        ks.notify(class::STREAM, "xtrim", key);
    }
    if let Some(v) = logged {
        crate::persist::log::log_as(args, v);
    }
    super::read::signal_ready(ks, key);
    Ok(())
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count] — O(N) in the entries removed.
pub(super) fn xtrim(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let o = parse_add_trim(args, false, ks.limits.stream_node_max_entries)?;
    let key = &args[1];
    let Some(s) = stream_mut(ks, key)? else {
        out.int(0);
        return Ok(());
    };
    let Some(t) = o.trim else { return Err(CmdError::syntax()) };
    let deleted = s.trim(&t);
    if deleted > 0 {
        let logged = t.approx.then(|| rewrite_trim(args, &o, s, None));
        ks.notify(class::STREAM, "xtrim", key);
        ks.modified(key);
        if let Some(v) = logged {
            crate::persist::log::log_as(args, v);
        }
    }
    out.int(deleted as i64);
    Ok(())
}

/// XLEN key — O(1).
pub(super) fn xlen(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let n = ks.read_as::<Stream>(&args[1])?.map_or(0, |s| s.len());
    out.int(n as i64);
    Ok(())
}

/// XRANGE key start end [COUNT count] and XREVRANGE key end start [COUNT count].
fn range(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out, rev: bool) -> CmdResult {
    let (start_arg, end_arg) = if rev { (&args[3], &args[2]) } else { (&args[2], &args[3]) };
    let start = interval_start(start_arg)?;
    let end = interval_end(end_arg)?;
    let mut count: i64 = -1;
    let mut i = 4;
    while i < args.len() {
        if args::is(&args[i], "count") && i + 1 < args.len() {
            count = args::int(&args[i + 1])?.max(0);
            i += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let Some(s) = ks.read_as::<Stream>(&args[1])? else {
        out.array(0);
        return Ok(());
    };
    if count == 0 {
        out.null_array();
        return Ok(());
    }
    reply_entries(out, s, start, end, count.max(0) as usize, rev);
    Ok(())
}

/// XRANGE key start end [COUNT count] — O(log N + M).
pub(super) fn xrange(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    range(ks, args, out, false)
}

/// XREVRANGE key end start [COUNT count] — O(log N + M).
pub(super) fn xrevrange(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    range(ks, args, out, true)
}

/// XDEL key id [id ...] — O(1) per entry.
pub(super) fn xdel(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let key = &args[1];
    if stream_mut(ks, key)?.is_none() {
        out.int(0);
        return Ok(());
    }
    let ids = args[2..].iter().map(|a| parse_strict_id(a, 0)).collect::<Result<Vec<_>, _>>()?;
    let Some(s) = stream_mut(ks, key)? else { return Ok(()) };
    let deleted = s.delete_ids(&ids);
    if deleted > 0 {
        ks.changed(class::STREAM, "xdel", key);
    }
    out.int(deleted as i64);
    Ok(())
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id] — O(1).
pub(super) fn xsetid(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let id = parse_strict_id(&args[2], 0)?;
    let (mut entries_added, mut max_deleted): (Option<u64>, StreamId) = (None, StreamId::MIN);
    let mut i = 3;
    while i < args.len() {
        let more = i + 1 < args.len();
        if args::is(&args[i], "entriesadded") && more {
            let v = args::int(&args[i + 1])?;
            if v < 0 {
                return Err(err("entries_added must be positive"));
            }
            entries_added = Some(v as u64);
        } else if args::is(&args[i], "maxdeletedid") && more {
            max_deleted = parse_strict_id(&args[i + 1], 0)?;
            if id < max_deleted {
                return Err(err("The ID specified in XSETID is smaller than the provided max_deleted_entry_id"));
            }
        } else {
            return Err(CmdError::syntax());
        }
        i += 2;
    }
    let key = &args[1];
    let Some(s) = stream_mut(ks, key)? else { return Err(err("no such key")) };
    if !s.is_empty() {
        if s.last_entry_id().is_some_and(|top| id < top) {
            return Err(err("The ID specified in XSETID is smaller than the target stream top item"));
        }
        if entries_added.is_some_and(|n| s.len() > n) {
            return Err(err("The entries_added specified in XSETID is smaller than the target stream length"));
        }
    }
    s.last_id = id;
    if let Some(n) = entries_added {
        s.entries_added = n;
    }
    if max_deleted != StreamId::MIN {
        s.max_deleted_entry_id = max_deleted;
    }
    ks.changed(class::STREAM, "xsetid", key);
    out.ok();
    Ok(())
}
