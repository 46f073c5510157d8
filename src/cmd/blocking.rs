//! Blocking pops: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX,
//! BZMPOP, and CLIENT UNBLOCK.
//!
//! Each command first tries to pop at once, as its non-blocking form would;
//! otherwise the call blocks on every key it names (see `shard::block`) until a
//! push on any shard serves it, its timeout passes, CLIENT UNBLOCK ends it or
//! its client goes away. Stream reads (XREAD, XREADGROUP) block through the
//! same [`block_on`], with their own `Serve` ops
//! (`cmd::stream::read::block_on_streams`).

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::{args, CmdError, CmdResult, Handler, Ks, OpError, Session};
use crate::cmd::list::moves::write_mpop_reply;
use crate::cmd::list::{parse_end, push_to, removed};
use crate::cmd::zset::pop::{pop_entries, popped_from, reply_popped, PopShape};
use crate::db::Clock;
use crate::resp::Out;
use crate::shard::block::{self, Claim, Probe, Serve, Served, Unblock, Woken};
use crate::shard::{Core, ShardId};
use crate::types::{Kind, Value};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("blpop", Handler::Async(crate::async_handler!(cmd_blpop))),
    ("brpop", Handler::Async(crate::async_handler!(cmd_brpop))),
    ("blmove", Handler::Async(crate::async_handler!(cmd_blmove))),
    ("brpoplpush", Handler::Async(crate::async_handler!(cmd_brpoplpush))),
    ("blmpop", Handler::Async(crate::async_handler!(cmd_blmpop))),
    ("bzpopmin", Handler::Async(crate::async_handler!(cmd_bzpopmin))),
    ("bzpopmax", Handler::Async(crate::async_handler!(cmd_bzpopmax))),
    ("bzmpop", Handler::Async(crate::async_handler!(cmd_bzmpop))),
    ("client|unblock", Handler::Async(crate::async_handler!(cmd_client_unblock))),
];

/// How often a blocked call checks its connection and timeout.
const TICK: Duration = Duration::from_millis(100);

/// Redis's `getTimeoutFromObjectOrReply` in seconds: the absolute deadline in
/// ms, or `None` to wait forever (a timeout below one millisecond is 0).
pub(crate) fn parse_timeout(arg: &[u8], now_ms: u64) -> Result<Option<u64>, CmdError> {
    let secs = args::parse_float(arg).ok_or_else(|| CmdError::err("timeout is not a float or out of range"))?;
    // C's (long long)(secs * 1000.0L): out of range (and infinities) give
    // LLONG_MIN on x86. The bounds are in seconds, where f64 is still exact.
    let ms = if (-9_223_372_036_854_775.0..=9_223_372_036_854_775.0).contains(&secs) {
        (secs * 1000.0) as i64
    } else {
        i64::MIN
    };
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    if ms == 0 {
        return Ok(None);
    }
    // Redis 7.0 has no upper bound (7.2 added "timeout is out of range"):
    // a deadline past the end of time is forever.
    Ok(now_ms.checked_add(ms as u64))
}

/// Where BLMOVE puts what it pops.
#[derive(Clone)]
struct Dest {
    key: Bytes,
    left: bool,
    shard: ShardId,
}

/// A list pop for a blocked call: `count` elements from one end, then (BLMOVE)
/// a push onto the destination when it is on the same shard.
struct ListPop {
    left: bool,
    count: usize,
    dest: Option<Dest>,
}

/// What a list pop produced.
enum ListServed {
    Popped(Vec<Vec<u8>>),
    /// BLMOVE's element, and whether it is already on the destination.
    Moved(Vec<u8>, bool),
}

/// Whether `key` holds something other than a list (a push there must fail).
fn not_a_list(ks: &mut Ks<'_>, key: &[u8]) -> bool {
    ks.write(key).is_some_and(|e| !matches!(e.obj(), Some(Value::List(_))))
}

impl Serve for ListPop {
    fn serve(
        &self,
        ks: &mut Ks<'_>,
        key: &[u8],
        here: ShardId,
        claim: &mut dyn FnMut() -> bool,
    ) -> Option<Box<dyn Any + Send>> {
        let local_dest = self.dest.as_ref().filter(|d| d.shard == here);
        if local_dest.is_some_and(|d| not_a_list(ks, &d.key)) {
            return None;
        }
        let lim = ks.limits;
        let e = ks.write(key)?;
        let Some(Value::List(l)) = e.obj_mut() else { return None };
        if l.is_empty() || !claim() {
            return None;
        }
        let mut popped = Vec::new();
        while popped.len() < self.count {
            let v = if self.left { l.pop_front(&lim) } else { l.pop_back(&lim) };
            match v {
                Some(v) => popped.push(v),
                None => break,
            }
        }
        let emptied = l.is_empty();
        let event = if self.left { "lpop" } else { "rpop" };
        let Some(dest) = &self.dest else {
            removed(ks, key, event, emptied);
            return Some(Box::new(ListServed::Popped(popped)));
        };
        let v = popped.pop().unwrap_or_default();
        // As Redis's BLMOVE: the push (and its event) first, then the pop's.
        // Onto the same key, the (maybe momentarily empty) list takes it back.
        let pushed = local_dest.is_some() && push_to(ks, &dest.key, &v, dest.left).is_ok();
        removed(ks, key, event, emptied && &dest.key[..] != key);
        Some(Box::new(ListServed::Moved(v, pushed)))
    }
}

/// A sorted-set pop for a blocked call.
struct ZPop {
    max: bool,
    count: usize,
}

impl Serve for ZPop {
    fn serve(
        &self,
        ks: &mut Ks<'_>,
        key: &[u8],
        _here: ShardId,
        claim: &mut dyn FnMut() -> bool,
    ) -> Option<Box<dyn Any + Send>> {
        let e = ks.write(key)?;
        let Some(Value::ZSet(z)) = e.obj_mut() else { return None };
        if z.is_empty() || !claim() {
            return None;
        }
        let popped = pop_entries(z, self.max, self.count);
        let emptied = z.is_empty();
        popped_from(ks, key, self.max, emptied);
        Some(Box::new(popped))
    }
}

/// How a blocking call ended.
pub(crate) enum Outcome {
    Served(Served),
    TimedOut,
    /// CLIENT UNBLOCK ... ERROR.
    Unblocked,
    /// The client disconnected (or was killed): there is nobody to reply to.
    Gone,
}

/// Whether the peer of `fd` has closed its side or the socket failed.
fn peer_closed(fd: i32) -> bool {
    let mut p = libc::pollfd { fd, events: libc::POLLRDHUP, revents: 0 };
    // SAFETY: one valid pollfd, zero timeout.
    let n = unsafe { libc::poll(&mut p, 1, 0) };
    n > 0 && p.revents & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}

/// Pops with `op` from the first of `keys` that can serve it, blocking until
/// one can (or `deadline`, in ms, passes). As Redis, a key of another type met
/// before any key with data is a WRONGTYPE error.
pub(crate) async fn block_on(
    s: &mut Session,
    keys: &[Bytes],
    kind: Kind,
    deadline: Option<u64>,
    op: Arc<dyn Serve>,
) -> Result<Outcome, CmdError> {
    let core = s.core.clone();
    let db = s.db;
    let groups = crate::shard::slot::group_by_shard(core.nshards, keys.iter().cloned(), |k| k);
    let found = core.call_each(groups.clone(), move |c: &Core, ks: Vec<Bytes>| block::probe(c, db, &ks, kind)).await;
    let state_of =
        |k: &Bytes| groups.iter().zip(&found).find_map(|((_, ks), p)| ks.iter().position(|x| x == k).map(|i| p[i]));
    let claim = Claim::default();
    let id = block::open(&core, s.client.id, claim.clone());
    for k in keys {
        match state_of(k) {
            Some(Probe::Wrong) => {
                block::close(&core, id);
                return Err(OpError::WrongType.into());
            }
            Some(Probe::Data) => {
                let (kk, c, o) = (vec![k.clone()], claim.clone(), op.clone());
                let shard = s.shard_of(k);
                let got =
                    core.call(shard, move |core: &Core| block::try_or_wait(core, db, &kk, id, &c, &o, false)).await;
                if let Some(v) = got {
                    block::close(&core, id);
                    return Ok(Outcome::Served(v));
                }
                break;
            }
            _ => {}
        }
    }
    let (c, o) = (claim.clone(), op.clone());
    // Inside EXEC a blocking command never blocks: it times out at once.
    let may_wait = !s.in_exec;
    let at_once = core
        .call_each(groups.clone(), move |core: &Core, ks: Vec<Bytes>| {
            block::try_or_wait(core, db, &ks, id, &c, &o, may_wait)
        })
        .await;
    let outcome = match at_once.into_iter().flatten().next() {
        Some(v) => Outcome::Served(v),
        None if !may_wait => Outcome::TimedOut,
        None => {
            let flags = s.client.flags.replace("b");
            let o = wait(s, &core, id, &claim, deadline).await;
            s.client.flags.set(flags);
            o
        }
    };
    let late = block::close(&core, id);
    // Take this call's waiters off every key (they are skipped already).
    let me = core.clone();
    crate::runtime::spawn(async move {
        me.call_each(groups, move |core: &Core, ks: Vec<Bytes>| {
            block::forget(&mut core.state.borrow_mut(), db, &ks, &claim)
        })
        .await;
    });
    Ok(match (outcome, late) {
        (Outcome::Served(v), _) | (_, Some(v)) => Outcome::Served(v),
        (o, None) => o,
    })
}

/// Waits for a blocked call's result, its timeout, CLIENT UNBLOCK or its client
/// leaving. Once a shard has claimed the call, waits for the result whatever else
/// happens, so a popped element is never dropped.
async fn wait(
    s: &Session,
    core: &std::rc::Rc<Core>,
    id: block::WaitId,
    claim: &Claim,
    deadline: Option<u64>,
) -> Outcome {
    loop {
        let now = Clock::now().now_ms;
        let tick = deadline.map_or(TICK, |d| Duration::from_millis(d.saturating_sub(now).clamp(1, 100)));
        match block::wait(core, id, tick).await {
            Woken::Served(v) => return Outcome::Served(v),
            Woken::Unblocked(Unblock::Timeout) => return Outcome::TimedOut,
            Woken::Unblocked(Unblock::Error) => return Outcome::Unblocked,
            Woken::Idle => {
                let gone = s.client.killed.get() || peer_closed(s.client.fd);
                let expired = deadline.is_some_and(|d| Clock::now().now_ms >= d);
                if (gone || expired) && claim.cancel() {
                    return if gone { Outcome::Gone } else { Outcome::TimedOut };
                }
            }
        }
    }
}

/// Replies for a call that ended without data: Redis's null array, or the
/// UNBLOCKED error.
fn reply_empty(o: &Outcome, out: &mut Out) -> CmdResult {
    match o {
        Outcome::Unblocked => Err(CmdError::new("UNBLOCKED client unblocked via CLIENT UNBLOCK")),
        _ => {
            out.null_array();
            Ok(())
        }
    }
}

/// BLPOP/BRPOP key [key ...] timeout — O(N) in the keys.
async fn bpop(s: &mut Session, args: &[Bytes], out: &mut Out, left: bool) -> CmdResult {
    let deadline = parse_timeout(&args[args.len() - 1], Clock::now().now_ms)?;
    let keys = &args[1..args.len() - 1];
    let op: Arc<dyn Serve> = Arc::new(ListPop { left, count: 1, dest: None });
    match block_on(s, keys, Kind::List, deadline, op).await? {
        Outcome::Served((key, v)) => {
            let Ok(v) = v.downcast::<ListServed>() else { return Err(internal()) };
            let ListServed::Popped(vals) = *v else { return Err(internal()) };
            out.array(2);
            out.bulk(&key);
            out.bulk(vals.first().map_or(&[][..], |v| v));
            Ok(())
        }
        o => reply_empty(&o, out),
    }
}

fn internal() -> CmdError {
    CmdError::err("internal error: unexpected blocked pop result")
}

async fn cmd_blpop(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    bpop(s, args, out, true).await
}

async fn cmd_brpop(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    bpop(s, args, out, false).await
}

/// BLMOVE/BRPOPLPUSH: pops from `src`, pushes onto `dst`.
async fn bmove(
    s: &mut Session,
    src: &Bytes,
    dst: &Bytes,
    from_left: bool,
    to_left: bool,
    timeout: &[u8],
    out: &mut Out,
) -> CmdResult {
    let deadline = parse_timeout(timeout, Clock::now().now_ms)?;
    let db = s.db;
    let dest = Dest { key: dst.clone(), left: to_left, shard: s.shard_of(dst) };
    // As Redis: with data in the source, a destination of another type is an
    // error; with none, the call blocks and the destination is checked when
    // data arrives.
    let (sk, sh) = (src.clone(), s.shard_of(src));
    let src_has_data =
        s.core.call(sh, move |core: &Core| block::probe(core, db, &[sk], Kind::List)[0] == Probe::Data).await;
    if src_has_data {
        let dkey = dst.clone();
        let wrong = s
            .core
            .call(dest.shard, move |core: &Core| block::probe(core, db, &[dkey], Kind::List)[0] == Probe::Wrong)
            .await;
        if wrong {
            return Err(OpError::WrongType.into());
        }
    }
    let op: Arc<dyn Serve> = Arc::new(ListPop { left: from_left, count: 1, dest: Some(dest.clone()) });
    match block_on(s, std::slice::from_ref(src), Kind::List, deadline, op).await? {
        Outcome::Served((key, v)) => {
            let Ok(v) = v.downcast::<ListServed>() else { return Err(internal()) };
            let ListServed::Moved(v, pushed) = *v else { return Err(internal()) };
            if !pushed {
                // The destination is on another shard: push there now. If it
                // changed type meanwhile, put the element back where it was.
                let (dk, val, left) = (dest.key.clone(), v.clone(), dest.left);
                let r = s
                    .core
                    .call(dest.shard, move |core: &Core| {
                        let mut st = core.state.borrow_mut();
                        push_to(&mut Ks::from_state(&mut st, db, core.clock()), &dk, &val, left)
                    })
                    .await;
                if let Err(e) = r {
                    let (sk, val) = (key.clone(), v.clone());
                    let sh = s.shard_of(&key);
                    let _ = s
                        .core
                        .call(sh, move |core: &Core| {
                            let mut st = core.state.borrow_mut();
                            push_to(&mut Ks::from_state(&mut st, db, core.clock()), &sk, &val, from_left)
                        })
                        .await;
                    return Err(e.into());
                }
            }
            out.bulk(&v);
            Ok(())
        }
        // Inside EXEC Redis answers a null bulk here (a timeout is a null array).
        Outcome::TimedOut if s.in_exec => {
            out.null();
            Ok(())
        }
        o => reply_empty(&o, out),
    }
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout — O(1).
async fn cmd_blmove(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (from, to) = (parse_end(&args[3])?, parse_end(&args[4])?);
    bmove(s, &args[1], &args[2], from, to, &args[5], out).await
}

/// BRPOPLPUSH source destination timeout — O(1).
async fn cmd_brpoplpush(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    bmove(s, &args[1], &args[2], false, true, &args[3], out).await
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count] — O(N+M).
async fn cmd_blmpop(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let m = args::mpop(args, 2, ("left", "right"))?;
    let deadline = parse_timeout(&args[1], Clock::now().now_ms)?;
    let op: Arc<dyn Serve> = Arc::new(ListPop { left: m.first, count: m.count, dest: None });
    match block_on(s, &args[m.keys], Kind::List, deadline, op).await? {
        Outcome::Served((key, v)) => {
            let Ok(v) = v.downcast::<ListServed>() else { return Err(internal()) };
            let ListServed::Popped(vals) = *v else { return Err(internal()) };
            write_mpop_reply(out, &key, &vals);
            Ok(())
        }
        o => reply_empty(&o, out),
    }
}

/// BZPOPMIN/BZPOPMAX key [key ...] timeout — O(log N).
async fn bzpop(s: &mut Session, args: &[Bytes], out: &mut Out, max: bool) -> CmdResult {
    let deadline = parse_timeout(&args[args.len() - 1], Clock::now().now_ms)?;
    let keys = &args[1..args.len() - 1];
    let op: Arc<dyn Serve> = Arc::new(ZPop { max, count: 1 });
    match block_on(s, keys, Kind::ZSet, deadline, op).await? {
        Outcome::Served((key, v)) => {
            let Ok(v) = v.downcast::<Vec<(Vec<u8>, f64)>>() else { return Err(internal()) };
            reply_popped(out, &key, &v, PopShape::KeyFlat);
            Ok(())
        }
        o => reply_empty(&o, out),
    }
}

async fn cmd_bzpopmin(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    bzpop(s, args, out, false).await
}

async fn cmd_bzpopmax(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    bzpop(s, args, out, true).await
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] — O(K) + O(M*log(N)).
async fn cmd_bzmpop(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let m = args::mpop(args, 2, ("min", "max"))?;
    let deadline = parse_timeout(&args[1], Clock::now().now_ms)?;
    let op: Arc<dyn Serve> = Arc::new(ZPop { max: !m.first, count: m.count });
    match block_on(s, &args[m.keys], Kind::ZSet, deadline, op).await? {
        Outcome::Served((key, v)) => {
            let Ok(v) = v.downcast::<Vec<(Vec<u8>, f64)>>() else { return Err(internal()) };
            reply_popped(out, &key, &v, PopShape::KeyPairs);
            Ok(())
        }
        o => reply_empty(&o, out),
    }
}

/// CLIENT UNBLOCK client-id [TIMEOUT|ERROR] — O(log N).
async fn cmd_client_unblock(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    if args.len() > 4 {
        return Err(CmdError::err(format_args!(
            "unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
            String::from_utf8_lossy(&args[1])
        )));
    }
    let id = args::int(&args[2])?;
    let how = match args.get(3) {
        None => Unblock::Timeout,
        Some(a) if args::is(a, "timeout") => Unblock::Timeout,
        Some(a) if args::is(a, "error") => Unblock::Error,
        Some(_) => return Err(CmdError::err("CLIENT UNBLOCK reason should be TIMEOUT or ERROR")),
    };
    let found = s.core.call_all(move |core: &Core| block::unblock_client(core, id as u64, how)).await;
    out.int(found.into_iter().any(|f| f) as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_like_redis() {
        let now = 1_000_000;
        assert_eq!(parse_timeout(b"0", now).unwrap(), None);
        assert_eq!(parse_timeout(b"0.0001", now).unwrap(), None);
        assert_eq!(parse_timeout(b"1.5", now).unwrap(), Some(now + 1500));
        let err = |a: &[u8]| parse_timeout(a, now).unwrap_err().0;
        assert_eq!(err(b"-1"), "ERR timeout is negative");
        assert_eq!(err(b"1e100"), "ERR timeout is negative");
        assert_eq!(err(b"inf"), "ERR timeout is negative");
        assert_eq!(err(b"abc"), "ERR timeout is not a float or out of range");
        assert_eq!(err(b"nan"), "ERR timeout is not a float or out of range");
        assert!(parse_timeout(b"9223372036854775", now).unwrap().is_some_and(|d| d > 1 << 62));
    }
}
