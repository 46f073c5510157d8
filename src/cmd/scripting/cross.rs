//! Where a script runs, so that it is atomic whatever keys it touches.
//!
//! - **Fast path**: every declared key lives on one shard (or there are none).
//!   The script runs there, synchronously, in one hop (inline when that is the
//!   connection's shard), once no cross-shard transaction holds its declared
//!   keys. Nothing else runs on that shard meanwhile, so the script is atomic.
//!   Before its first write to a key the old value is kept, so that the run
//!   can be undone.
//! - **Across shards**: when the declared keys span shards, or the script
//!   touches a key of another shard (one it did not declare, as queue
//!   libraries do), or a key some transaction holds, or a command that needs
//!   more than its keys (KEYS, FLUSHALL...), the fast run is undone and the
//!   script runs again with every shard locked whole (a `shard::tx`
//!   transaction). It then runs on the connection's shard, and each
//!   `redis.call` for another shard is carried out there while this thread
//!   waits for it (`Core::sync_calls`): with every shard locked, nothing can
//!   wait on this one, so the wait cannot deadlock. Such a script is
//!   remembered (per shard, by SHA1 or function name) and goes straight to the
//!   locked run from then on.

use std::cell::RefCell;
use std::future::Future;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};

use super::{split_keys, LocalHost};
use crate::cmd::keys::OwnedValue;
use crate::cmd::{self, CmdError, CmdResult, Command, Handler, Session};
use crate::resp::{Out, Proto};
use crate::script::{self, Body, BusyConfig, Call, Elsewhere, Host, Outcome};
use crate::shard::{tx, Core, ShardState};

thread_local! {
    /// Scripts (by SHA1 or function name) that needed more than one shard.
    static SPANNING: RefCell<crate::db::Map<Vec<u8>, ()>> = RefCell::default();
}

/// What names a script for [`SPANNING`].
fn identity(body: &Body<'_>) -> Vec<u8> {
    match body {
        Body::Eval(text) => script::sha1_hex(text).into_bytes(),
        Body::Sha(sha) => sha.to_ascii_lowercase(),
        Body::Function(name) => [b"f:".as_slice(), name].concat(),
    }
}

/// EVAL, EVALSHA, FCALL and their read-only forms: runs `body` where it is
/// atomic (see the module documentation).
pub async fn run(s: &mut Session, args: &[Bytes], out: &mut Out, body: Body<'_>, readonly: bool) -> CmdResult {
    let (keys, _) = split_keys(args).map_err(|e| unknown(&s.core, &body).unwrap_or(e))?;
    let core = s.core.clone();
    let oom = crate::shard::evict::out_of_memory(&core);
    let n = core.nshards;
    let id = identity(&body);
    let spanning = n > 1 && SPANNING.with(|m| m.borrow().contains_key(&id));
    let home = keys.first().map_or(core.id, |k| s.shard_of(k));
    let one_shard = keys.iter().all(|k| s.shard_of(k) == home);
    // Inside EXEC (or another transaction) the locks are held already.
    if s.tx.is_none() && one_shard && !spanning {
        let (db, proto, owned) = (s.db, out.proto, args.to_vec());
        let (outcome, reply) = core
            .call_when(home, move |c: &Core| fast_run(c, &owned, db, proto, readonly, oom))
            .await
            .map_err(|e| CmdError(e.into()))?;
        if outcome == Outcome::Done {
            out.raw(&reply);
            return Ok(());
        }
        if n > 1 {
            SPANNING.with(|m| m.borrow_mut().insert(id, ()));
        }
    }
    let lock = if s.tx.is_none() && n > 1 {
        let plan = (0..n).map(|i| (i, tx::Part { db: s.db, keys: Vec::new(), whole: true, write: true })).collect();
        Some(tx::lock(&core, plan).await)
    } else {
        None
    };
    let outer = (s.tx, s.in_exec);
    if let Some(t) = &lock {
        s.tx = Some(t.seq);
    }
    let (keys, argv) = split_keys(args)?;
    let call = Call { body, keys, args: argv, readonly, db: s.db, oom };
    core.sync_calls.set(true);
    let result = {
        let mut host = Anywhere { s: &mut *s };
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| script::run(&core, &mut host, &call, out)))
    };
    core.sync_calls.set(false);
    (s.tx, s.in_exec) = outer;
    if let Some(t) = lock {
        t.finish().await;
    }
    match result {
        Ok(r) => r.map(|_| ()),
        Err(p) => std::panic::resume_unwind(p),
    }
}

/// Redis looks a SHA1 of the wrong length, or a function, up before it reads
/// `numkeys`: the error for an unknown one comes first.
fn unknown(core: &Core, body: &Body<'_>) -> Option<CmdError> {
    match body {
        Body::Sha(sha) if sha.len() != 40 => Some(CmdError::new("NOSCRIPT No matching script. Please use EVAL.")),
        Body::Function(name) if core.shared.scripts.function(&String::from_utf8_lossy(name)).is_none() => {
            Some(CmdError::err("Function not found"))
        }
        _ => None,
    }
}

/// The fast run on the shard of the declared keys: `None` while a
/// transaction holds one of them, else the outcome and the reply bytes.
/// Undone when it needed another shard.
fn fast_run(
    core: &Core,
    args: &[Bytes],
    db: usize,
    proto: Proto,
    readonly: bool,
    oom: bool,
) -> Option<Result<(Outcome, BytesMut), String>> {
    let mut st = core.state.borrow_mut();
    let (keys, argv) = match split_keys(args) {
        Ok(k) => k,
        Err(e) => return Some(Err(e.0.into_owned())),
    };
    if !st.locks.is_idle() && !keys.iter().all(|k| st.locks.free(db, k, !readonly, None)) {
        return None;
    }
    let body = match args[0].to_ascii_lowercase().as_slice() {
        b"eval" | b"eval_ro" => Body::Eval(&args[1]),
        b"evalsha" | b"evalsha_ro" => Body::Sha(&args[1]),
        _ => Body::Function(&args[1]),
    };
    let call = Call { body, keys, args: argv, readonly, db, oom };
    let mut out = Out::new(proto);
    let mut host = Undoable { local: LocalHost::new(core, &mut st), saved: Vec::new() };
    let outcome = match script::run(core, &mut host, &call, &mut out) {
        Ok(o) => o,
        Err(e) => {
            out.error(&e.0);
            Outcome::Done
        }
    };
    if outcome != Outcome::Done {
        host.undo(core);
        out.buf.clear();
    }
    drop(host);
    drop(st);
    core.serve_blocked();
    Some(Ok((outcome, out.buf)))
}

/// The fast run's host: this shard only, never a key some transaction
/// holds, and every written key's old value kept for [`Undoable::undo`].
struct Undoable<'a> {
    local: LocalHost<'a>,
    saved: Vec<(usize, Bytes, Option<OwnedValue>)>,
}

impl Undoable<'_> {
    /// Puts back every value the run changed.
    fn undo(&mut self, core: &Core) {
        let clock = core.clock();
        let st = self.local.state();
        for (db, key, old) in self.saved.drain(..).rev() {
            let ShardState { dbs, stats, .. } = &mut *st;
            match old {
                Some(v) => {
                    dbs[db].insert(v.to_entry(&key));
                }
                None => {
                    dbs[db].remove(&key, clock, stats);
                }
            }
        }
    }
}

impl Host for Undoable<'_> {
    fn call(&mut self, cmd: &'static Command, args: &[Bytes], db: usize, out: &mut Out) -> Result<(), Elsewhere> {
        if cmd::transaction::reaches_beyond_keys(cmd, args) || cmd.name() == "copy" {
            return Err(Elsewhere);
        }
        let write = cmd.flags.contains(cmd::Flags::WRITE);
        let st = self.local.state();
        let n = st.locks.is_idle();
        for i in cmd.keys.positions(args) {
            let key = &args[i];
            if !n && !st.locks.free(db, key, write, None) {
                return Err(Elsewhere);
            }
            if write && !self.saved.iter().any(|(d, k, _)| *d == db && k == key) {
                let old = st.dbs[db].table().get(key).map(OwnedValue::of);
                self.saved.push((db, key.clone(), old));
            }
        }
        self.local.call(cmd, args, db, out)
    }

    fn busy_config(&self) -> BusyConfig {
        self.local.busy_config()
    }

    fn databases(&self) -> usize {
        self.local.databases()
    }
}

/// The locked run's host: runs each command where its keys are, as the
/// connection would, completing calls to other shards in place.
struct Anywhere<'a> {
    s: &'a mut Session,
}

impl Host for Anywhere<'_> {
    fn call(&mut self, cmd: &'static Command, args: &[Bytes], db: usize, out: &mut Out) -> Result<(), Elsewhere> {
        let s = &mut *self.s;
        let core = s.core.clone();
        let n = core.nshards;
        let mut keys = cmd.keys.positions(args).map(|i| crate::shard::key_shard(&args[i], n));
        let first = keys.next();
        let spans = first.is_some_and(|f| keys.any(|k| k != f));
        let saved_db = s.db;
        s.db = db;
        let result = match (cmd.handler, spans) {
            (Handler::Sync(_) | Handler::SyncCross(..), false) => {
                let target = first.unwrap_or(core.id);
                let (owned, proto) = (args.to_vec(), out.proto);
                let reply = core.call(target, move |c: &Core| {
                    let mut o = Out::new(proto);
                    cmd::run_sync_in(c, &mut c.state.borrow_mut(), cmd, db, &owned, &mut o, true);
                    o.buf
                });
                now(reply).map(|b| out.raw(&b))
            }
            (Handler::SyncCross(_, f), true) | (Handler::Async(f), _) => {
                s.in_exec = true;
                let start = out.len();
                let r = now(f(s, args, out)).map(|r| {
                    if let Err(e) = r {
                        out.error(&e.0);
                    }
                });
                if r.is_err() {
                    out.buf.truncate(start);
                }
                r
            }
            (Handler::Sync(_), true) => Err(()),
        };
        s.db = saved_db;
        if result.is_err() {
            out.error("ERR this command cannot run inside a script that spans shards");
        }
        Ok(())
    }

    fn busy_config(&self) -> BusyConfig {
        BusyConfig::of(&self.s.core.state.borrow().config)
    }

    fn databases(&self) -> usize {
        self.s.core.state.borrow().dbs.len()
    }
}

/// Polls a future once: with `sync_calls` set, cross-shard calls complete in
/// place, so a command's future is ready at once unless it would wait for
/// something else (a timer, a lock), which a script cannot do.
fn now<F: Future>(f: F) -> Result<F::Output, ()> {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(v) => Ok(v),
        Poll::Pending => Err(()),
    }
}
