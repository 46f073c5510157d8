//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! MULTI makes the connection queue its commands (the connection loop does
//! the queueing, see `server::conn`); EXEC runs them as one transaction. On
//! one shard that is one synchronous run. Across shards the transaction locks
//! every key its commands name (the whole keyspace when one of them reaches
//! beyond its keys, as FLUSHALL or KEYS do) through `shard::tx` and runs them
//! one after another while nothing else can touch those keys.
//!
//! WATCH registers the connection on the shard owning each key; any change to
//! the key there (a write, expiry, FLUSHDB, SWAPDB) raises the connection's
//! shared dirty flag, and EXEC then answers a null array.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use super::{CmdError, CmdResult, Command, Handler, Session};
use crate::db::Db;
use crate::resp::Out;
use crate::shard::{Core, ShardId, ShardState};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("multi", Handler::Async(crate::async_handler!(cmd_multi))),
    ("exec", Handler::Async(crate::async_handler!(cmd_exec))),
    ("discard", Handler::Async(crate::async_handler!(cmd_discard))),
    ("watch", Handler::Async(crate::async_handler!(cmd_watch))),
    ("unwatch", Handler::Async(crate::async_handler!(cmd_unwatch))),
];

/// A connection's queued transaction.
#[derive(Default)]
pub struct Multi {
    pub queued: Vec<(&'static Command, Vec<Bytes>)>,
    /// A command was refused while queueing: EXEC will abort.
    pub failed: bool,
}

/// The keys a connection watches, and whether any of them changed.
#[derive(Default)]
pub struct Watch {
    keys: Vec<(usize, Bytes)>,
    dirty: Arc<AtomicBool>,
}

impl Watch {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// One connection watching a key, registered on the key's shard.
#[derive(Debug)]
pub struct Watcher {
    /// The watching connection's flag (also what tells its registrations apart).
    dirty: Arc<AtomicBool>,
    /// The key had already expired (but was still stored) when watched: its
    /// removal then is no change (Redis 7's `expired` flag).
    expired: bool,
}

/// Watchers per (database, key) on one shard.
pub type Watchers = crate::db::Map<(usize, Bytes), Vec<Watcher>>;

/// Commands that MULTI does not queue.
pub fn runs_in_multi(cmd: &Command) -> bool {
    matches!(cmd.name(), "exec" | "discard" | "multi" | "watch" | "quit" | "reset")
}

async fn cmd_multi(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    if s.multi.is_some() {
        return Err(CmdError::err("MULTI calls can not be nested"));
    }
    s.multi = Some(Multi::default());
    s.client.multi.set(Some(0));
    out.ok();
    Ok(())
}

async fn cmd_discard(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    if s.multi.take().is_none() {
        return Err(CmdError::err("DISCARD without MULTI"));
    }
    s.client.multi.set(None);
    unwatch_all(s);
    out.ok();
    Ok(())
}

async fn cmd_unwatch(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    unwatch_all(s);
    out.ok();
    Ok(())
}

async fn cmd_watch(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    if s.multi.is_some() {
        return Err(CmdError::err("WATCH inside MULTI is not allowed"));
    }
    let db = s.db;
    let mut new = Vec::new();
    for key in &args[1..] {
        if !s.watch.keys.iter().any(|(d, k)| *d == db && k == key) && !new.contains(key) {
            new.push(key.clone());
        }
    }
    let dirty = s.watch.dirty.clone();
    let groups = crate::shard::slot::group_by_shard(s.core.nshards, new.iter().cloned(), |k| k);
    s.core
        .call_each(groups, move |core: &Core, keys: Vec<Bytes>| {
            let mut st = core.state.borrow_mut();
            let now = core.clock().now_ms;
            for key in keys {
                let expired = st.dbs[db].table().get(&key).is_some_and(|e| e.expire_at().is_some_and(|t| t <= now));
                st.watchers.entry((db, key)).or_default().push(Watcher { dirty: dirty.clone(), expired });
                st.signals.watched += 1;
            }
        })
        .await;
    s.watch.keys.extend(new.into_iter().map(|k| (db, k)));
    out.ok();
    Ok(())
}

/// Forgets every key the connection watches (EXEC, DISCARD, UNWATCH, RESET,
/// disconnect). The registrations go in the background: they are told apart
/// by their dirty flag, which a later WATCH does not share.
pub fn unwatch_all(s: &mut Session) {
    let keys = std::mem::take(&mut s.watch.keys);
    let old = std::mem::replace(&mut s.watch.dirty, Arc::new(AtomicBool::new(false)));
    if keys.is_empty() {
        return;
    }
    let groups = crate::shard::slot::group_by_shard(s.core.nshards, keys, |(_, k)| k);
    let core = s.core.clone();
    crate::runtime::spawn(async move {
        core.call_each(groups, move |core: &Core, keys: Vec<(usize, Bytes)>| {
            let mut st = core.state.borrow_mut();
            for id in keys {
                if let Some(ws) = st.watchers.get_mut(&id) {
                    let before = ws.len();
                    ws.retain(|w| !Arc::ptr_eq(&w.dirty, &old));
                    let gone = before - ws.len();
                    if ws.is_empty() {
                        st.watchers.remove(&id);
                    }
                    st.signals.watched -= gone;
                }
            }
        })
        .await;
    });
}

/// A key of database `db` changed: transactions watching it will fail (Redis's
/// `touchWatchedKey`).
pub fn touched(st: &mut ShardState, db: usize, key: &[u8]) {
    if st.signals.watched == 0 {
        return;
    }
    let ShardState { watchers, dbs, .. } = st;
    let Some(ws) = watchers.get_mut(&(db, Bytes::copy_from_slice(key))) else {
        return;
    };
    let exists = dbs[db].table().get(key).is_some();
    for w in ws {
        if w.expired {
            // An already expired key was deleted: no logical change.
            if !exists {
                w.expired = false;
            }
            continue;
        }
        w.dirty.store(true, Ordering::Relaxed);
    }
}

/// Before database `db` (every one when `None`) is emptied, or swapped with
/// `with`: Redis's `touchAllWatchedKeysInDb`.
pub fn flushing(st: &mut ShardState, db: Option<usize>, with: Option<usize>) {
    if st.signals.watched == 0 {
        return;
    }
    let now = crate::db::Clock::now().now_ms;
    let ShardState { watchers, dbs, .. } = st;
    for ((wdb, key), ws) in watchers.iter_mut() {
        if db.is_some_and(|d| d != *wdb) {
            continue;
        }
        let emptied: &Db = &dbs[*wdb];
        let in_emptied = emptied.table().get(key).is_some();
        let replaced = with.map(|w| &dbs[w]);
        let in_replaced = replaced.and_then(|r| r.table().get(key));
        if !in_emptied && in_replaced.is_none() {
            continue;
        }
        let replaced_expired = in_replaced.is_some_and(|e| e.expire_at().is_some_and(|t| t <= now));
        for w in ws.iter_mut() {
            if w.expired {
                if in_replaced.is_none() {
                    w.expired = false;
                    continue;
                } else if replaced_expired {
                    continue;
                }
            } else if !in_emptied && replaced_expired {
                w.expired = true;
                continue;
            }
            w.dirty.store(true, Ordering::Relaxed);
        }
    }
}

/// Redis's `isWatchedKeyExpired`: a watched key, live when watched, has
/// expired since (but is still stored).
fn expired_since(st: &ShardState, dirty: &Arc<AtomicBool>, keys: &[(usize, Bytes)], now: u64) -> bool {
    keys.iter().any(|id| {
        let live_when_watched =
            st.watchers.get(id).is_some_and(|ws| ws.iter().any(|w| Arc::ptr_eq(&w.dirty, dirty) && !w.expired));
        live_when_watched && st.dbs[id.0].table().get(&id.1).is_some_and(|e| e.expire_at().is_some_and(|t| t <= now))
    })
}

/// Whether a WATCHed key changed: the flag, or an expiry not yet acted on.
async fn watch_failed(s: &Session) -> bool {
    if s.watch.dirty.load(Ordering::Relaxed) {
        return true;
    }
    if s.watch.keys.is_empty() {
        return false;
    }
    let dirty = s.watch.dirty.clone();
    let groups = crate::shard::slot::group_by_shard(s.core.nshards, s.watch.keys.iter().cloned(), |(_, k)| k);
    let expired = s
        .core
        .call_each(groups, move |core: &Core, keys: Vec<(usize, Bytes)>| {
            expired_since(&core.state.borrow(), &dirty, &keys, core.clock().now_ms)
        })
        .await;
    expired.into_iter().any(|e| e) || s.watch.dirty.load(Ordering::Relaxed)
}

async fn cmd_exec(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    let Some(multi) = s.multi.take() else {
        return Err(CmdError::err("EXEC without MULTI"));
    };
    s.client.multi.set(None);
    if multi.failed {
        unwatch_all(s);
        return Err(CmdError::new("EXECABORT Transaction discarded because of previous errors."));
    }
    if s.core.nshards > 1 && s.tx.is_none() {
        if let Some(shard) = one_shard(s, &multi.queued) {
            return exec_on(s, shard, multi.queued, out).await;
        }
    }
    let tx = if s.core.nshards > 1 && s.tx.is_none() {
        let plan = plan(s, multi.queued.iter().map(|(c, a)| (*c, a.as_slice())));
        Some(crate::shard::tx::lock(&s.core, plan).await)
    } else {
        None
    };
    if watch_failed(s).await {
        unwatch_all(s);
        drop(tx);
        out.null_array();
        return Ok(());
    }
    let outer = s.tx;
    if let Some(t) = &tx {
        s.tx = Some(t.seq);
    }
    s.in_exec = true;
    out.array(multi.queued.len());
    // Clients blocked on keys the transaction fills are served after it (on
    // other shards the transaction's locks hold them back).
    let nested = std::mem::replace(&mut s.core.state.borrow_mut().hold_ready, true);
    crate::server::conn::run_queued(s, multi.queued, out).await;
    s.core.state.borrow_mut().hold_ready = nested;
    s.core.serve_blocked();
    s.in_exec = false;
    s.tx = outer;
    if let Some(t) = tx {
        t.release().await;
    }
    unwatch_all(s);
    Ok(())
}

/// The shard every key of the transaction (and every watched key) lives on,
/// when its commands are all plain synchronous ones: then EXEC is one
/// uninterrupted run there and takes no sequence number.
fn one_shard(s: &Session, cmds: &[(&'static Command, Vec<Bytes>)]) -> Option<ShardId> {
    let mut shard = None;
    let mut on = |key: &[u8]| {
        let k = s.shard_of(key);
        *shard.get_or_insert(k) == k
    };
    for (cmd, args) in cmds {
        let sync = matches!(cmd.handler, Handler::Sync(_) | Handler::SyncCross(..));
        if !sync || reaches_beyond_keys(cmd, args) || !cmd.keys.positions(args).all(|i| on(&args[i])) {
            return None;
        }
    }
    for (db, key) in &s.watch.keys {
        if *db != s.db || !on(key) {
            return None;
        }
    }
    Some(shard.unwrap_or(s.core.id))
}

/// EXEC of a transaction that lives on one shard: a single job there, run
/// once no cross-shard transaction holds its keys.
async fn exec_on(
    s: &mut Session,
    shard: ShardId,
    cmds: Vec<(&'static Command, Vec<Bytes>)>,
    out: &mut Out,
) -> CmdResult {
    let (db, proto, n) = (s.db, out.proto, cmds.len());
    let (dirty, watched) = (s.watch.dirty.clone(), s.watch.keys.clone());
    let done = s
        .core
        .call_when(shard, move |c: &Core| {
            let mut st = c.state.borrow_mut();
            let locked = !st.locks.is_idle()
                && !cmds.iter().all(|(cmd, args)| {
                    let write = cmd.flags.contains(super::Flags::WRITE);
                    cmd.keys.positions(args).all(|i| st.locks.free(db, &args[i], write, None))
                });
            if locked || !watched.iter().all(|(d, k)| st.locks.free(*d, k, false, None)) {
                return None;
            }
            if dirty.load(Ordering::Relaxed) || expired_since(&st, &dirty, &watched, c.clock().now_ms) {
                return Some(None);
            }
            let mut o = Out::new(proto);
            super::start_laps(&mut st);
            st.hold_ready = true;
            for (cmd, args) in &cmds {
                super::run_sync_in(c, &mut st, cmd, db, args, &mut o, true);
            }
            st.hold_ready = false;
            crate::shard::block::serve_ready(c, &mut st);
            Some(Some(o.buf))
        })
        .await;
    unwatch_all(s);
    match done {
        Some(replies) => {
            out.array(n);
            out.raw(&replies);
        }
        None => out.null_array(),
    }
    Ok(())
}

/// What a transaction must lock on each shard: every key its commands name
/// (exclusive when a command writes), and the watched keys (shared) so that
/// checking them and running the commands is one atomic step. A command that
/// reaches beyond the keys it names locks every shard whole.
pub fn plan<'c>(
    s: &Session,
    cmds: impl IntoIterator<Item = (&'c Command, &'c [Bytes])>,
) -> Vec<(ShardId, crate::shard::tx::Part)> {
    let n = s.core.nshards;
    let mut parts: Vec<crate::shard::tx::Part> =
        (0..n).map(|_| crate::shard::tx::Part { db: s.db, ..Default::default() }).collect();
    let mut whole = false;
    let mut any_write = false;
    let mut used = vec![false; n];
    // SELECT inside the transaction changes the database of what follows: lock whole then.
    for (cmd, args) in cmds {
        if reaches_beyond_keys(cmd, args) || cmd.name() == "select" {
            whole = true;
            any_write |= cmd.flags.intersects(super::Flags::WRITE | super::Flags::MAY_REPLICATE);
            continue;
        }
        let write = cmd.flags.contains(super::Flags::WRITE);
        any_write |= write;
        for i in cmd.keys.positions(args).chain(movable_keys(cmd, args)) {
            let shard = crate::shard::key_shard(&args[i], n);
            parts[shard].keys.push((args[i].clone(), write));
            used[shard] = true;
        }
    }
    for (db, key) in &s.watch.keys {
        if *db != s.db {
            whole = true;
        }
        let shard = crate::shard::key_shard(key, n);
        parts[shard].keys.push((key.clone(), false));
        used[shard] = true;
    }
    if whole {
        return (0..n)
            .map(|i| (i, crate::shard::tx::Part { db: s.db, keys: Vec::new(), whole: true, write: any_write }))
            .collect();
    }
    parts.into_iter().enumerate().filter(|(i, _)| used[*i]).collect()
}

/// Positions of the keys a command names outside its key spec (Redis's
/// `sortGetKeys`, `georadiusGetKeys`, `xreadGetKeys`): SORT's STORE
/// destination, the STORE/STOREDIST destination of GEORADIUS and
/// GEORADIUSBYMEMBER (the last one given wins, as in Redis), and the streams
/// of XREAD and XREADGROUP.
pub fn movable_keys(cmd: &Command, args: &[Bytes]) -> Vec<usize> {
    let is = |i: usize, w: &[u8]| args.get(i).is_some_and(|a| a.eq_ignore_ascii_case(w));
    let store_after = |from: usize, skips: &[(&[u8], usize)], stores: &[&[u8]]| {
        let (mut i, mut dest) = (from, None);
        while i < args.len() {
            if stores.iter().any(|w| is(i, w)) && i + 1 < args.len() {
                dest = Some(i + 1);
                i += 1;
            } else if let Some((_, n)) = skips.iter().find(|(w, _)| is(i, w)) {
                i += n;
            }
            i += 1;
        }
        dest.into_iter().collect()
    };
    match cmd.name() {
        "sort" => store_after(2, &[(b"limit", 2), (b"get", 1), (b"by", 1)], &[b"store"]),
        "georadius" | "georadiusbymember" => store_after(5, &[], &[b"store", b"storedist"]),
        "xread" | "xreadgroup" => {
            let mut i = 1;
            let at = loop {
                match () {
                    _ if i >= args.len() => return Vec::new(),
                    _ if is(i, b"block") || is(i, b"count") => i += 2,
                    _ if is(i, b"group") => i += 3,
                    _ if is(i, b"noack") => i += 1,
                    _ if is(i, b"streams") => break i,
                    _ => return Vec::new(),
                }
            };
            let rest = args.len() - at - 1;
            if rest == 0 || !rest.is_multiple_of(2) {
                return Vec::new();
            }
            (at + 1..at + 1 + rest / 2).collect()
        }
        _ => Vec::new(),
    }
}

/// Commands that read or change more than the keys they name: the keyspace-wide
/// ones, scripts (which may touch undeclared keys) and SORT with BY or GET
/// patterns.
pub fn reaches_beyond_keys(cmd: &Command, args: &[Bytes]) -> bool {
    match cmd.name() {
        "keys" | "dbsize" | "flushdb" | "flushall" | "swapdb" | "randomkey" | "scan" | "move" => true,
        "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro" => true,
        "sort" | "sort_ro" => args[2..].iter().any(|a| a.eq_ignore_ascii_case(b"by") || a.eq_ignore_ascii_case(b"get")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_of(line: &str) -> Vec<String> {
        let args: Vec<Bytes> = line.split(' ').map(|a| Bytes::copy_from_slice(a.as_bytes())).collect();
        let cmd = super::super::lookup(&args).expect("a known command");
        movable_keys(cmd, &args).into_iter().map(|i| String::from_utf8_lossy(&args[i]).into_owned()).collect()
    }

    #[test]
    fn movable_keys_as_redis_finds_them() {
        assert_eq!(keys_of("SORT src LIMIT 0 store BY w STORE dst"), ["dst"]);
        assert_eq!(keys_of("SORT src GET # STORE a STORE b"), ["b"]);
        assert_eq!(keys_of("SORT src"), Vec::<String>::new());
        assert_eq!(keys_of("GEORADIUS src 1 2 3 km STORE a STOREDIST b"), ["b"]);
        assert_eq!(keys_of("GEORADIUSBYMEMBER src m 3 km WITHDIST STORE a"), ["a"]);
        assert_eq!(keys_of("XREAD COUNT 2 BLOCK 0 STREAMS a b 0 0"), ["a", "b"]);
        assert_eq!(keys_of("XREADGROUP GROUP g c NOACK STREAMS a >"), ["a"]);
        assert_eq!(keys_of("XREAD STREAMS a b 0"), Vec::<String>::new());
        assert_eq!(keys_of("XREAD FOO STREAMS a 0"), Vec::<String>::new());
    }
}
