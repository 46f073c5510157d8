//! The append-only file while the server runs: each shard logs the effects
//! of what it runs into its own file, written and synced by a task of its
//! own through io_uring.
//!
//! Effects, not requests: a single-shard command that is deterministic given
//! the data is logged as it came (`after_command`); everything else that
//! changed keys (relative TTLs, SPOP, blocking pops, scripts, the parts of
//! cross-shard commands, expiry, flushes) is logged as the resulting state
//! of each changed key when the shard hands its changes on (`physical`):
//! `SET key value [PXAT ms]`, `RESTORE key ms payload REPLACE ABSTTL`, or
//! `DEL key`. Replaying either gives the same data.
//!
//! A `Sync` handler whose request is not its effect but can say what is
//! (XADD with `*` or `~`, XTRIM `~`) names the argv to log instead with
//! [`log_as`], as Redis's `rewriteClientCommandArgument` does. Code that
//! changes a key in a way replayable by a few commands cheaper than its
//! state (XREADGROUP, XCLAIM, XAUTOCLAIM on a large stream) records them
//! with the change (`Signals::modified_as`), as Redis's `alsoPropagate`.
//!
//! `appendfsync always` is group commit: a connection that ran writes waits,
//! before its replies leave, until every shard has synced what it had logged
//! by then ([`durable`]).

use std::future::poll_fn;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::aof::Encoder;
use crate::cmd::Command;
use crate::config::Fsync;
use crate::runtime::fs::File;
use crate::shard::{Core, ShardState};

/// One shard's log buffer.
pub struct Log {
    enc: Encoder,
    /// Changes (`Signals::modified`) up to here are covered by logged commands.
    covered: usize,
    /// Bytes ever logged by this shard (the writer counts in the same units).
    logged: u64,
    waker: Option<Waker>,
    shared: Arc<crate::server::Shared>,
    id: usize,
    /// Logging was switched off: the writer ends once the buffer is written.
    stopping: bool,
    /// A rewrite began: bytes before this point of the buffer end the old
    /// file, the rest start this file.
    rotate: Option<(usize, PathBuf)>,
    /// Connections of this shard waiting for the next sync (`durable`).
    sync_waiters: Vec<Waker>,
    /// Effects of cross-shard transactions holding write locks here, logged
    /// as one frame each when they release (`end_frame`).
    frames: std::collections::BTreeMap<u64, Encoder>,
}

impl Log {
    /// Publishes what was appended and wakes the writer.
    fn appended(&mut self, from: usize) {
        self.logged += (self.enc.len() - from) as u64;
        self.shared.persist.aof.shards[self.id].logged.store(self.logged, Ordering::Release);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

/// Each shard's progress in bytes since start, for `appendfsync always` waits.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes the shard logged.
    pub logged: AtomicU64,
    /// Of those, the bytes on disk (or, with `appendfsync no`, written).
    pub synced: AtomicU64,
}

/// Server-wide AOF state.
#[derive(Debug, Default)]
pub struct AofStatus {
    pub enabled: AtomicBool,
    pub shards: Vec<Progress>,
    pub last_write_ok: AtomicBool,
}

impl AofStatus {
    pub fn new(nshards: usize) -> AofStatus {
        AofStatus {
            enabled: AtomicBool::new(false),
            shards: (0..nshards).map(|_| Progress::default()).collect(),
            last_write_ok: AtomicBool::new(true),
        }
    }
}

/// Commands whose request is not their effect: their changed keys are
/// logged as their resulting state instead.
fn logged_as_state(cmd: &Command, args: &[Bytes]) -> bool {
    match cmd.name() {
        // Relative expiries become absolute.
        "expire" | "pexpire" | "setex" | "psetex" | "getex" | "restore" => true,
        "set" => args.len() > 3,
        // Random, or blocking (which must not block when replayed).
        "spop" | "blpop" | "brpop" | "blmove" | "brpoplpush" | "blmpop" | "bzpopmin" | "bzpopmax" | "bzmpop" => true,
        // Delivery times are the clock's (and XCLAIM's IDLE is relative).
        "xclaim" | "xautoclaim" => true,
        _ => false,
    }
}

thread_local! {
    /// The argv a handler asked its command to be logged as: (the command's
    /// own arguments, to recognise it; the replacement).
    static LOG_AS: std::cell::RefCell<Option<(Vec<Bytes>, Vec<Bytes>)>> = const { std::cell::RefCell::new(None) };
}

/// Makes the synchronous command running now on this shard, whose arguments
/// are `args`, go to the AOF (when it is logged as it came) as `logged`
/// instead: the deterministic form of a command that is not, such as XADD
/// with the ID it got and an exact trim. Call it from the handler, after the
/// change, at most once per command; `logged` must be a command that replays
/// to the same data. A command logged as its resulting state ignores it.
pub fn log_as(args: &[Bytes], logged: Vec<Bytes>) {
    LOG_AS.with(|l| *l.borrow_mut() = Some((args.to_vec(), logged)));
}

/// The replacement [`log_as`] set for the command with arguments `args`
/// (one set for another command is dropped).
fn take_log_as(args: &[Bytes]) -> Option<Vec<Bytes>> {
    let (orig, logged) = LOG_AS.with(|l| l.borrow_mut().take())?;
    let same =
        orig.len() == args.len() && orig.iter().zip(args).all(|(a, b)| a.as_ptr() == b.as_ptr() && a.len() == b.len());
    same.then_some(logged)
}

/// After a synchronous command ran on this shard: logs it as it came when
/// that is its effect (or as the handler asked, [`log_as`]). `before` is
/// `Signals::modified`'s length before it ran.
pub fn after_command(st: &mut ShardState, cmd: &Command, db: usize, args: &[Bytes], before: usize) {
    let replaced = take_log_as(args);
    let args = replaced.as_deref().unwrap_or(args);
    let Some(log) = st.aof.as_mut() else { return };
    let now = st.signals.modified.len();
    if now == before || logged_as_state(cmd, args) {
        return;
    }
    // Changes made before this command and not handed on yet go first.
    if before > log.covered {
        state_of(st, before);
    }
    let key: &[u8] = cmd.keys.positions(args).next().map_or(b"", |i| &args[i]);
    let frame = st.locks.framed_writer(db, key).map(|(seq, _)| seq);
    let Some(log) = st.aof.as_mut() else { return };
    let from = log.enc.len();
    match frame {
        Some(seq) => log.frames.entry(seq).or_default().command_bytes(db, args),
        None => log.enc.command_bytes(db, args),
    }
    log.covered = now;
    log.appended(from);
}

/// A cross-shard transaction releases this shard: what it changed here goes
/// to the file as one frame, `MULTI seq nparts` ... `EXEC` (empty if it
/// changed nothing here), which replay applies only if all `nparts` frames
/// are in the files.
pub fn end_frame(st: &mut ShardState, seq: u64, nparts: u32) {
    let Some(log) = st.aof.as_mut() else { return };
    let part = log.frames.remove(&seq).unwrap_or_default();
    let from = log.enc.len();
    log.enc.begin(Some((seq, nparts)));
    log.enc.append_commands(&part);
    log.enc.end();
    log.appended(from);
}

/// Logs the state of every changed key not covered by a logged command, and
/// the flushes; run as the shard hands its changes on.
pub fn physical(st: &mut ShardState) {
    let Some(log) = st.aof.as_mut() else { return };
    if !st.signals.flushed.is_empty() {
        let from = log.enc.len();
        for f in &st.signals.flushed {
            let frame = st.locks.framed_writer(f.unwrap_or(0), b"").map(|(seq, _)| seq);
            let enc = match frame {
                Some(seq) => log.frames.entry(seq).or_default(),
                None => &mut log.enc,
            };
            match f {
                Some(db) => enc.command(*db, &[b"FLUSHDB"]),
                None => enc.command(0, &[b"FLUSHALL"]),
            }
        }
        log.appended(from);
    }
    let end = st.signals.modified.len();
    state_of(st, end);
    if let Some(log) = st.aof.as_mut() {
        log.covered = 0;
    }
}

/// The commands handlers named for the changes of one batch
/// (`Signals::effects`): a key is logged as them instead of its state when
/// every change of it in the batch has them.
struct Replays<'a> {
    /// By index in `Signals::modified`.
    by_change: hashbrown::HashMap<usize, &'a [Vec<Bytes>], ahash::RandomState>,
    /// The keys with commands for some change.
    keys: hashbrown::HashSet<(usize, &'a [u8]), ahash::RandomState>,
}

impl<'a> Replays<'a> {
    /// `None` when no change in `changes` (which start at `start` in
    /// `Signals::modified`) has commands: the common case costs nothing.
    fn of(changes: &'a [(usize, Bytes)], start: usize, effects: &'a [(usize, Vec<Vec<Bytes>>)]) -> Option<Replays<'a>> {
        let end = start + changes.len();
        let by_change: hashbrown::HashMap<usize, &'a [Vec<Bytes>], ahash::RandomState> =
            effects.iter().filter(|(i, _)| (start..end).contains(i)).map(|(i, c)| (*i, &c[..])).collect();
        let keys = by_change.keys().map(|i| (changes[i - start].0, &changes[i - start].1[..])).collect();
        (!by_change.is_empty()).then_some(Replays { by_change, keys })
    }

    /// The commands that replay every change of `key`, in order, if all of
    /// them have some.
    fn of_key(&self, changes: &[(usize, Bytes)], start: usize, db: usize, key: &[u8]) -> Option<Vec<&'a Vec<Bytes>>> {
        if !self.keys.contains(&(db, key)) {
            return None;
        }
        let mut cmds = Vec::new();
        for (i, (d, k)) in changes.iter().enumerate() {
            if *d == db && k[..] == *key {
                cmds.extend(self.by_change.get(&(start + i))?.iter());
            }
        }
        Some(cmds)
    }
}

/// Logs the state of the keys changed in
/// `Signals::modified[covered..end]`; they are covered from then on.
fn state_of(st: &mut ShardState, end: usize) {
    let Some(log) = st.aof.as_mut() else { return };
    let start = log.covered.min(end);
    if start == end {
        return;
    }
    let ShardState { aof, signals, dbs, config, locks, .. } = st;
    let Some(log) = aof.as_mut() else { return };
    let from = log.enc.len();
    // The keys one command or job changed are logged together, as a
    // transaction when there are several: replay applies all or none.
    let mut batch = Encoder::new();
    let mut records = 0;
    let mut seen: hashbrown::HashSet<(usize, &[u8]), ahash::RandomState> = Default::default();
    let changes = &signals.modified[start..end];
    let replays = Replays::of(changes, start, &signals.effects);
    for (db, key) in changes {
        if !seen.insert((*db, &key[..])) {
            continue;
        }
        let Some(d) = dbs.get(*db) else { continue };
        let framed = locks.framed_writer(*db, key).map(|(seq, _)| seq);
        let enc = match framed {
            Some(seq) => log.frames.entry(seq).or_default(),
            None => &mut batch,
        };
        if let Some(cmds) = replays.as_ref().and_then(|r| r.of_key(changes, start, *db, key)) {
            for cmd in cmds {
                enc.command_bytes(*db, cmd);
                records += framed.is_none() as usize;
            }
            continue;
        }
        records += framed.is_none() as usize;
        match d.table().get(key) {
            None => enc.command(*db, &[b"DEL", key]),
            Some(e) => match e.obj() {
                None => match e.expire_at() {
                    Some(at) => {
                        enc.start(*db, 5);
                        enc.arg(b"SET");
                        enc.arg(key);
                        enc.arg(e.value());
                        enc.arg(b"PXAT");
                        enc.arg_int(at as i64);
                    }
                    None => enc.command(*db, &[b"SET", key, e.value()]),
                },
                Some(_) => {
                    let payload = crate::cmd::keys::dump::dump_entry(e, &config.limits);
                    enc.start(*db, 6);
                    enc.arg(b"RESTORE");
                    enc.arg(key);
                    enc.arg_int(e.expire_at().unwrap_or(0) as i64);
                    enc.arg(&payload);
                    enc.arg(b"REPLACE");
                    enc.arg(b"ABSTTL");
                }
            },
        }
    }
    if records > 1 {
        log.enc.begin(None);
        log.enc.append_commands(&batch);
        log.enc.end();
    } else {
        log.enc.append_commands(&batch);
    }
    log.covered = end;
    log.appended(from);
}

/// Logs a command that is its own effect, outside the command path (SWAPDB).
pub fn command(st: &mut ShardState, db: usize, args: &[&[u8]]) {
    if let Some(log) = st.aof.as_mut() {
        let from = log.enc.len();
        log.enc.command(db, args);
        log.appended(from);
    }
}

/// Starts logging on this shard into `path` (appended to, created if
/// absent): from this instant every change is logged; the writer task opens
/// the file and writes what accumulates.
pub fn start(core: &Core, path: PathBuf) {
    let log = Log {
        enc: Encoder::new(),
        covered: 0,
        logged: 0,
        waker: None,
        shared: core.shared.clone(),
        id: core.id,
        stopping: false,
        rotate: None,
        sync_waiters: Vec::new(),
        frames: Default::default(),
    };
    let mut st = core.state.borrow_mut();
    st.aof = Some(Box::new(log));
    st.signals.logging = true;
    drop(st);
    core.shared.persist.aof.enabled.store(true, Ordering::Release);
    if let Some(me) = core.rc() {
        crate::runtime::spawn(writer(me, path));
    }
}

/// Starts logging into `path`, or, if this shard logs already, moves to
/// `path` at this instant (an AOF rewrite): what was logged before goes to
/// the old file, what comes after to the new one.
pub fn start_or_rotate(core: &Core, path: PathBuf) {
    let mut st = core.state.borrow_mut();
    match st.aof.as_mut() {
        Some(log) if !log.stopping => {
            log.rotate = Some((log.enc.len(), path));
            log.enc.reset_db();
            if let Some(w) = log.waker.take() {
                w.wake();
            }
        }
        _ => {
            drop(st);
            start(core, path);
        }
    }
}

/// CONFIG SET appendonly no: every shard stops logging (its writer writes
/// what was logged, then ends).
pub async fn stop(core: &Core) {
    core.call_all(|c: &Core| {
        let mut st = c.state.borrow_mut();
        if let Some(log) = st.aof.as_mut() {
            log.stopping = true;
            if let Some(w) = log.waker.take() {
                w.wake();
            }
        }
        st.signals.logging = false;
    })
    .await;
    core.shared.persist.aof.enabled.store(false, Ordering::Release);
}

/// Writes what the shard logs, and syncs it as `appendfsync` says.
async fn writer(core: Rc<Core>, mut path: PathBuf) {
    let progress = &core.shared.persist.aof.shards[core.id];
    let mut file = loop {
        match File::append(&path).await {
            Ok(f) => break f,
            Err(e) => {
                tracing::warn!("cannot open the AOF file {}: {e}; retrying", path.display());
                core.shared.persist.aof.last_write_ok.store(false, Ordering::Relaxed);
                crate::runtime::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let mut written = 0u64;
    let mut last_sync = Instant::now();
    let mut unsynced = false;
    loop {
        let policy = core.state.borrow().config.appendfsync;
        // Wait for bytes, or (everysec) for the next second's sync.
        let buf = {
            let wait_data = poll_fn(|cx| {
                let mut st = core.state.borrow_mut();
                let Some(log) = st.aof.as_mut() else { return Poll::Ready(None) };
                if let Some((cut, next)) = log.rotate.take() {
                    let mut old = log.enc.take();
                    let new = old.split_off(cut.min(old.len()));
                    return Poll::Ready(Some(Some((old, Some((next, new))))));
                }
                if !log.enc.is_empty() {
                    return Poll::Ready(Some(Some((log.enc.take(), None))));
                }
                if log.stopping {
                    st.aof = None;
                    return Poll::Ready(None);
                }
                log.waker = Some(cx.waker().clone());
                Poll::Pending
            });
            let tick = async {
                crate::runtime::sleep(Duration::from_millis(if unsynced { 200 } else { 1000 })).await;
                Some(None)
            };
            match futures_lite::future::or(wait_data, tick).await {
                None => {
                    let _ = file.sync().await;
                    progress.synced.store(written, Ordering::Release);
                    return;
                }
                Some(b) => b,
            }
        };
        if let Some((buf, rotate)) = buf {
            let n = buf.len() as u64;
            if let Err(e) = file.write(buf).await {
                tracing::warn!("Error writing to the AOF file {}: {e}", path.display());
                core.shared.persist.aof.last_write_ok.store(false, Ordering::Relaxed);
                crate::runtime::sleep(Duration::from_millis(100)).await;
            } else {
                core.shared.persist.aof.last_write_ok.store(true, Ordering::Relaxed);
            }
            written += n;
            unsynced = true;
            if let Some((next, rest)) = rotate {
                // The old file ends here: synced, closed, then the new one.
                let _ = file.sync().await;
                progress.synced.store(written, Ordering::Release);
                let old = std::mem::replace(
                    &mut file,
                    loop {
                        match File::append(&next).await {
                            Ok(f) => break f,
                            Err(e) => {
                                tracing::warn!("cannot open the AOF file {}: {e}; retrying", next.display());
                                crate::runtime::sleep(Duration::from_secs(1)).await;
                            }
                        }
                    },
                );
                let _ = old.close().await;
                path = next;
                let n = rest.len() as u64;
                if let Err(e) = file.write(rest).await {
                    tracing::warn!("Error writing to the AOF file {}: {e}", path.display());
                }
                written += n;
            }
        }
        let sync_now = match policy {
            Fsync::Always => unsynced,
            Fsync::EverySec => unsynced && last_sync.elapsed() >= Duration::from_secs(1),
            Fsync::No => false,
        };
        if sync_now {
            if let Err(e) = file.sync().await {
                tracing::warn!("Error syncing the AOF file {}: {e}", path.display());
                continue;
            }
            last_sync = Instant::now();
            unsynced = false;
        }
        if policy == Fsync::No || !unsynced {
            progress.synced.store(written, Ordering::Release);
            if let Some(log) = core.state.borrow_mut().aof.as_mut() {
                for w in log.sync_waiters.drain(..) {
                    w.wake();
                }
            }
        }
    }
}

/// `appendfsync always`: waits until every shard has synced what it had
/// logged when this is called (one fsync serves every connection waiting).
pub async fn durable(core: &Core) {
    let aof = &core.shared.persist.aof;
    let targets: Vec<u64> = aof.shards.iter().map(|p| p.logged.load(Ordering::Acquire)).collect();
    let behind = |i: usize| aof.shards[i].synced.load(Ordering::Acquire) < targets[i];
    loop {
        let others = (0..targets.len()).any(|i| i != core.id && behind(i));
        if !others && !behind(core.id) {
            return;
        }
        if others {
            // Another shard's writer cannot wake this one: look again shortly.
            crate::runtime::sleep(Duration::from_micros(50)).await;
            continue;
        }
        // Only this shard's sync is awaited: its writer wakes us.
        poll_fn(|cx| {
            if !behind(core.id) {
                return Poll::Ready(());
            }
            match core.state.borrow_mut().aof.as_mut() {
                Some(log) => {
                    log.sync_waiters.push(cx.waker().clone());
                    Poll::Pending
                }
                None => Poll::Ready(()),
            }
        })
        .await;
    }
}

/// The directory of the append-only files.
pub fn aof_dir(dir: &str, appenddirname: &str) -> PathBuf {
    Path::new(dir).join(appenddirname)
}
