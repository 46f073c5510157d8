//! [`LocalHost`]: runs a script's `redis.call`s on the current shard.

use std::time::Instant;

use bytes::Bytes;

use crate::cmd::{self, Command, Ctx, Handler};
use crate::resp::Out;
use crate::script::{BusyConfig, Elsewhere, Host};
use crate::shard::{Core, ShardState};

/// Runs commands on this shard's `ShardState`, as `cmd::run_sync` does, except
/// that clients blocked on keys are served only after the whole script (so
/// that nothing sees the script half done). Commands with a key on another
/// shard, and commands that need the connection's async path, are `Elsewhere`.
pub struct LocalHost<'a> {
    core: &'a Core,
    state: &'a mut ShardState,
}

impl<'a> LocalHost<'a> {
    pub fn new(core: &'a Core, state: &'a mut ShardState) -> Self {
        LocalHost { core, state }
    }

    /// The shard's state, between the script's commands.
    pub fn state(&mut self) -> &mut ShardState {
        self.state
    }
}

impl Host for LocalHost<'_> {
    fn call(&mut self, cmd: &'static Command, args: &[Bytes], db: usize, out: &mut Out) -> Result<(), Elsewhere> {
        let n = self.core.nshards;
        if n > 1 && cmd.keys.positions(args).any(|k| crate::shard::key_shard(&args[k], n) != self.core.id) {
            return Err(Elsewhere);
        }
        let f = match cmd.handler {
            Handler::Sync(f) | Handler::SyncCross(f, _) => f,
            Handler::Async(_) => return Err(Elsewhere),
        };
        let began = Instant::now();
        let start = out.len();
        let core = self.core;
        let clock = core.clock();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut ctx = Ctx { core, state: &mut *self.state, db, clock };
            f(&mut ctx, args, out)
        }))
        .unwrap_or_else(|p| {
            out.buf.truncate(start);
            Err(cmd::internal_error(cmd, &p))
        });
        cmd::record(self.state, cmd, &result, began.elapsed().as_nanos() as u64);
        if let Err(e) = result {
            out.error(&e.0);
        }
        Ok(())
    }

    fn busy_config(&self) -> BusyConfig {
        BusyConfig::of(&self.state.config)
    }

    fn databases(&self) -> usize {
        self.state.dbs.len()
    }
}
