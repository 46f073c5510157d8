//! Commands that take elements from one list and hand them elsewhere: LMOVE,
//! RPOPLPUSH and LMPOP, on one shard or coordinated across shards.
//!
//! Across shards the steps are Redis's, each on the shard that owns the key:
//! LMOVE checks the destination's type, then pops the source (answering as
//! Redis does when the source is missing or of the wrong type), then pushes.
//! LMPOP tries its keys in order, a run of keys of one shard per hop, and the
//! first non-empty list wins. Not atomic across shards yet: another client may
//! see the element in neither list between the hops (the transaction scheme of
//! DESIGN.md §3 will close that window).

use bytes::Bytes;

use super::{check_dest, list_of_mut, parse_end, push_to, settle, write_list};
use crate::cmd::{args, CmdError, CmdResult, Ks, OpError, Session};
use crate::resp::Out;
use crate::shard::signal::class;
use crate::shard::Core;

/// Runs `job` with a [`Ks`] of the shard that owns `key`, in the session's database.
async fn on_key_shard<T, F>(s: &Session, key: &[u8], job: F) -> T
where
    T: Send + 'static,
    F: FnOnce(&mut Ks<'_>) -> T + Send + 'static,
{
    let db = s.db;
    s.core
        .call(s.shard_of(key), move |core: &Core| {
            let mut st = core.state.borrow_mut();
            let mut ks = Ks::from_state(&mut st, db, core.clock());
            job(&mut ks)
        })
        .await
}

/// Pops one element from `src` for a move, after checking `dst_ok` (the
/// destination's type), in Redis's order: a missing source answers null
/// whatever the destination, a source of another type answers WRONGTYPE.
/// With `src == dst` on this shard, pushes it back at `to_left` in place.
/// Returns the element and whether the source is left empty; the caller
/// finishes the pop with [`finish_pop`] once the push is done, so events come
/// in Redis's order (the push, then the pop).
fn take_for_move(
    ks: &mut Ks<'_>,
    src: &[u8],
    from_left: bool,
    same_key: Option<bool>,
    dst_ok: Result<(), OpError>,
) -> Result<Option<(Vec<u8>, bool)>, OpError> {
    let lim = ks.limits;
    let Some(l) = write_list(ks, src)? else { return Ok(None) };
    dst_ok?;
    let Some(v) = l.pop_end(from_left) else { return Ok(None) };
    if let Some(to_left) = same_key {
        l.push(&v, to_left, &lim);
    }
    let empty = settle(l, &lim);
    if let Some(to_left) = same_key {
        ks.changed(class::LIST, if to_left { "lpush" } else { "rpush" }, src);
    }
    Ok(Some((v, empty)))
}

/// The source side of a move after the push: its event, deleting it when
/// emptied, the modification (Redis's `lmoveGenericCommand` tail).
fn finish_pop(ks: &mut Ks<'_>, src: &[u8], from_left: bool, empty: bool) {
    super::removed(ks, src, if from_left { "lpop" } else { "rpop" }, empty);
}

/// LMOVE on one shard: source and destination checked, popped and pushed here.
fn move_local(ks: &mut Ks<'_>, src: &[u8], dst: &[u8], from_left: bool, to_left: bool, out: &mut Out) -> CmdResult {
    if src == dst {
        match take_for_move(ks, src, from_left, Some(to_left), Ok(()))? {
            Some((v, empty)) => {
                finish_pop(ks, src, from_left, empty);
                out.bulk(&v);
            }
            None => out.null(),
        }
        return Ok(());
    }
    let dst_ok = check_dest(ks, dst);
    let Some((v, empty)) = take_for_move(ks, src, from_left, None, dst_ok)? else {
        out.null();
        return Ok(());
    };
    push_to(ks, dst, &v, to_left)?;
    finish_pop(ks, src, from_left, empty);
    out.bulk(&v);
    Ok(())
}

/// LMOVE over two shards (see the module notes).
async fn move_across(
    s: &mut Session,
    src: Bytes,
    dst: Bytes,
    from_left: bool,
    to_left: bool,
    out: &mut Out,
) -> CmdResult {
    let d = dst.clone();
    let dst_ok = on_key_shard(s, &dst, move |ks| check_dest(ks, &d)).await;
    let sk = src.clone();
    let taken = on_key_shard(s, &src, move |ks| {
        let taken = take_for_move(ks, &sk, from_left, None, dst_ok)?;
        Ok::<_, OpError>(taken.map(|(v, empty)| {
            finish_pop(ks, &sk, from_left, empty);
            v
        }))
    })
    .await?;
    let Some(v) = taken else {
        out.null();
        return Ok(());
    };
    let v = Bytes::from(v);
    let (d, pushed) = (dst.clone(), v.clone());
    let r = on_key_shard(s, &dst, move |ks| push_to(ks, &d, &pushed, to_left)).await;
    if let Err(e) = r {
        // The destination changed type between the check and the push: give
        // the element back to the source rather than lose it.
        let sk = src.clone();
        let _ = on_key_shard(s, &src, move |ks| push_to(ks, &sk, &v, from_left)).await;
        return Err(e.into());
    }
    out.bulk(&v);
    Ok(())
}

fn lmove_ends(args: &[Bytes]) -> Result<(bool, bool), CmdError> {
    Ok((parse_end(&args[3])?, parse_end(&args[4])?))
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT — O(1).
pub(super) fn lmove(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (from_left, to_left) = lmove_ends(args)?;
    move_local(ks, &args[1], &args[2], from_left, to_left, out)
}

pub(super) async fn cross_lmove(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (from_left, to_left) = lmove_ends(args)?;
    move_across(s, args[1].clone(), args[2].clone(), from_left, to_left, out).await
}

/// RPOPLPUSH source destination — O(1); LMOVE source destination RIGHT LEFT.
pub(super) fn rpoplpush(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    move_local(ks, &args[1], &args[2], false, true, out)
}

pub(super) async fn cross_rpoplpush(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    move_across(s, args[1].clone(), args[2].clone(), false, true, out).await
}

/// Writes LMPOP's reply for elements popped from `key`: `[key, [elements...]]`.
pub(crate) fn write_mpop_reply<V: AsRef<[u8]>>(out: &mut Out, key: &[u8], elements: &[V]) {
    out.array(2);
    out.bulk(key);
    out.array(elements.len());
    for e in elements {
        out.bulk(e.as_ref());
    }
}

/// What LMPOP found in one run of keys.
type Popped = Option<(Bytes, Vec<Vec<u8>>)>;

/// Pops from the first non-empty list among `keys`, as Redis's
/// `mpopGenericCommand`: a key of another type before it is an error.
fn mpop_keys(ks: &mut Ks<'_>, keys: &[Bytes], left: bool, count: usize) -> Result<Popped, OpError> {
    let lim = ks.limits;
    for key in keys {
        let Some(e) = ks.write(key) else { continue };
        let l = list_of_mut(e)?;
        if l.is_empty() {
            continue;
        }
        let popped = l.pop_many(left, count, &lim);
        let empty = l.is_empty();
        super::removed(ks, key, if left { "lpop" } else { "rpop" }, empty);
        return Ok(Some((key.clone(), popped)));
    }
    Ok(None)
}

fn mpop_reply(found: Popped, out: &mut Out) {
    match found {
        Some((key, popped)) => write_mpop_reply(out, &key, &popped),
        None => out.null_array(),
    }
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count] — O(N+M).
pub(super) fn lmpop(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let a = args::mpop(args, 1, ("left", "right"))?;
    let found = mpop_keys(ks, &args[a.keys], a.first, a.count)?;
    mpop_reply(found, out);
    Ok(())
}

/// LMPOP with keys on several shards: runs of consecutive keys of one shard,
/// tried in order, one hop per run.
pub(super) async fn cross_lmpop(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let a = args::mpop(args, 1, ("left", "right"))?;
    let keys = &args[a.keys];
    let mut i = 0;
    while i < keys.len() {
        let shard = s.shard_of(&keys[i]);
        let mut j = i + 1;
        while j < keys.len() && s.shard_of(&keys[j]) == shard {
            j += 1;
        }
        let run: Vec<Bytes> = keys[i..j].to_vec();
        let (left, count) = (a.first, a.count);
        let found = on_key_shard(s, &keys[i], move |ks| mpop_keys(ks, &run, left, count)).await?;
        if found.is_some() {
            mpop_reply(found, out);
            return Ok(());
        }
        i = j;
    }
    out.null_array();
    Ok(())
}
