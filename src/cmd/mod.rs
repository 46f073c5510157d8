//! Commands: the table (metadata generated from Redis plus our handlers), the
//! contexts handlers run in, and the argument helpers they share.
//!
//! A handler is one of:
//! - `Sync`: runs synchronously on the shard that owns all of its keys (or on the
//!   connection's shard when it has none), with `&mut` access to that shard only;
//! - `Sync` plus a `cross` coordinator used when its keys span several shards;
//! - `Async`: runs on the connection's shard with the session, and may call other
//!   shards (server and connection commands, keyspace-wide commands).

pub mod args;
pub mod ks;
pub mod meta;
pub mod table;
#[cfg(test)]
pub mod test_util;

pub mod bitmap;
pub mod blocking;
pub mod connection;
pub mod geo;
pub mod hash;
pub mod hll;
pub mod keys;
pub mod list;
pub mod pubsub;
pub mod scan;
pub mod scripting;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod transaction;
pub mod zset;

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use bytes::Bytes;

use crate::db::{Clock, Db, DbStats, Entry};
pub use crate::error::{CmdError, CmdResult, OpError};
use crate::resp::Out;
use crate::shard::{Core, ShardState};
pub use ks::{by_shard, on_shards, Ks};
pub use table::{lookup, Command, Flags, KeySpec, TABLE};

/// Context of a synchronous handler, on the shard that owns its keys.
pub struct Ctx<'a> {
    pub core: &'a Core,
    pub state: &'a mut ShardState,
    pub db: usize,
    pub clock: Clock,
}

impl<'a> Ctx<'a> {
    pub fn db(&mut self) -> &mut Db {
        &mut self.state.dbs[self.db]
    }

    /// The selected database and the shard's keyspace counters, borrowed together.
    pub fn db_stats(&mut self) -> (&mut Db, &mut DbStats) {
        (&mut self.state.dbs[self.db], &mut self.state.stats)
    }

    pub fn read(&mut self, key: &[u8]) -> Option<&Entry> {
        let clock = self.clock;
        let (db, st) = self.db_stats();
        db.lookup_read(key, clock, st)
    }

    pub fn write(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let clock = self.clock;
        let (db, st) = self.db_stats();
        db.lookup_write(key, clock, st)
    }

    /// A live entry without counting a hit or touching access data.
    pub fn peek(&mut self, key: &[u8]) -> Option<&Entry> {
        let clock = self.clock;
        let (db, st) = self.db_stats();
        db.peek(key, clock, st)
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let clock = self.clock;
        let (db, st) = self.db_stats();
        db.remove(key, clock, st)
    }

    pub fn insert(&mut self, e: Entry) -> Option<Entry> {
        self.db().insert(e)
    }

    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms
    }
}

/// How a RESP reply to the client is to be suppressed (CLIENT REPLY).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    Skip,
}

/// Connection state an `Async` handler can read and change.
pub struct Session {
    pub core: Rc<Core>,
    pub client: Rc<crate::server::client::ClientInfo>,
    pub db: usize,
    pub authenticated: bool,
    /// CLIENT REPLY OFF (`Off`) or a SKIP requested for the next command (`Skip`).
    pub reply_mode: ReplyMode,
    /// The command being run has its reply skipped (Redis's CLIENT_REPLY_SKIP).
    pub skip_current: bool,
    /// Close the connection once the pending replies are written.
    pub close_after_reply: bool,
    /// The cross-shard transaction this connection's commands run in (EXEC,
    /// a cross-shard command): its own locks do not stop them.
    pub tx: Option<u64>,
    /// Commands queued since MULTI.
    pub multi: Option<transaction::Multi>,
    /// Running EXEC's commands: blocking commands do not block.
    pub in_exec: bool,
    /// WATCHed keys.
    pub watch: transaction::Watch,
}

impl Session {
    pub fn shard_of(&self, key: &[u8]) -> usize {
        crate::shard::key_shard(key, self.core.nshards)
    }
}

pub type SyncFn = fn(&mut Ctx<'_>, &[Bytes], &mut Out) -> CmdResult;
pub type AsyncFn =
    for<'a> fn(&'a mut Session, &'a [Bytes], &'a mut Out) -> Pin<Box<dyn Future<Output = CmdResult> + 'a>>;

#[derive(Clone, Copy)]
pub enum Handler {
    Sync(SyncFn),
    /// Sync on one shard; the coordinator runs when the keys span shards.
    SyncCross(SyncFn, AsyncFn),
    Async(AsyncFn),
}

/// Wraps an `async fn(&mut Session, &[Bytes], &mut Out) -> CmdResult` into an [`AsyncFn`].
#[macro_export]
macro_rules! async_handler {
    ($f:path) => {{
        fn wrapper<'a>(
            s: &'a mut $crate::cmd::Session,
            a: &'a [bytes::Bytes],
            o: &'a mut $crate::resp::Out,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = $crate::cmd::CmdResult> + 'a>> {
            Box::pin($f(s, a, o))
        }
        wrapper as $crate::cmd::AsyncFn
    }};
}

/// Runs a `Sync` command on the current shard: the one place that counts calls.
/// Its time is measured from `state.lap`, which the caller sets with
/// [`start_laps`] before a run of commands; each command then costs one clock read.
pub fn run_sync(core: &Core, state: &mut ShardState, cmd: &Command, db: usize, args: &[Bytes], out: &mut Out) {
    let f = match cmd.handler {
        Handler::Sync(f) | Handler::SyncCross(f, _) => f,
        Handler::Async(_) => unreachable!("async handlers never run on a shard"),
    };
    // maxmemory: writes make room first; deny-oom ones are refused if none can be made.
    if state.config.maxmemory > 0
        && cmd.flags.intersects(Flags::WRITE | Flags::DENYOOM)
        && crate::shard::evict::refuse(core, state)
        && cmd.flags.contains(Flags::DENYOOM)
        && !state.evictions.exempt
    {
        let e = CmdError::new(crate::shard::evict::OOM);
        count_rejection(state, Some(cmd), &e);
        out.error(&e.0);
        crate::shard::signal::hand_on(core, state);
        return;
    }
    let clock = core.clock();
    let start = out.len();
    let changes = state.signals.modified.len();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut ctx = Ctx { core, state: &mut *state, db, clock };
        f(&mut ctx, args, out)
    }))
    .unwrap_or_else(|p| {
        out.buf.truncate(start);
        Err(internal_error(cmd, &p))
    });
    let now = std::time::Instant::now();
    let nanos = now.saturating_duration_since(state.lap).as_nanos() as u64;
    state.lap = now;
    record(state, cmd, &result, nanos);
    if let Err(e) = result {
        out.error(&e.0);
    }
    crate::persist::log::after_command(state, cmd, db, args, changes);
    crate::shard::block::serve_ready(core, state);
    let caller = crate::shard::signal::hand_on(core, state);
    crate::notify::remember(state, caller, cmd, args);
}

/// [`run_sync`] for a command that may be part of a transaction or script:
/// with `whole_checked` (the whole was checked against maxmemory before it
/// began) it is never refused for memory alone.
pub fn run_sync_in(
    core: &Core,
    state: &mut ShardState,
    cmd: &Command,
    db: usize,
    args: &[Bytes],
    out: &mut Out,
    whole_checked: bool,
) {
    let was = state.evictions.exempt;
    state.evictions.exempt = was || whole_checked;
    run_sync(core, state, cmd, db, args, out);
    state.evictions.exempt = was;
}

/// Starts timing a run of synchronous commands on this shard.
pub fn start_laps(state: &mut ShardState) {
    state.lap = std::time::Instant::now();
}

/// Logs a handler panic and turns it into an error reply; the shard keeps serving.
pub fn internal_error(cmd: &Command, p: &Box<dyn std::any::Any + Send>) -> CmdError {
    let msg = crate::shard::panic_message(p);
    tracing::error!(command = cmd.name(), "command panicked: {msg}");
    CmdError::err(format_args!("internal error in '{}': {msg}", cmd.name()))
}

/// Counts one call and its outcome in INFO commandstats/errorstats.
pub fn record(state: &mut ShardState, cmd: &Command, result: &CmdResult, nanos: u64) {
    let st = &mut state.cmd_stats[cmd.index];
    st.calls += 1;
    st.nanos += nanos;
    if result.is_ok() && cmd.flags.contains(Flags::WRITE) {
        state.dirty += 1;
    }
    if let Err(e) = result {
        st.failed += 1;
        count_error(state, e);
    }
}

/// Counts a command refused before it ran (unknown, arity, auth).
pub fn count_rejection(state: &mut ShardState, cmd: Option<&Command>, e: &CmdError) {
    if let Some(c) = cmd {
        state.cmd_stats[c.index].rejected += 1;
    }
    count_error(state, e);
    state.rejected_calls += 1;
}

pub fn count_error(state: &mut ShardState, e: &CmdError) {
    let code = e.code();
    match state.error_stats.get_mut(code) {
        Some(n) => *n += 1,
        None => {
            state.error_stats.insert(code.to_string(), 1);
        }
    }
}
