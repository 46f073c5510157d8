//! Blocked clients (BLPOP, BLMOVE, BZPOPMIN, ...).
//!
//! A blocked call lives in a *slot* on its connection's shard (the home) and has
//! a *waiter* in the per-key FIFO of every key it waits on, on the shards that own
//! those keys. When a command creates one of those keys (`Db::insert` marks it
//! ready), the owning shard serves the key's waiters in FIFO order right after
//! that command, popping for them as Redis's `handleClientsBlockedOnKeys` does,
//! and sends each result home.
//!
//! A call blocked on keys of several shards has one waiter per shard, all
//! sharing one claim flag: the shard that pops for it first must win the claim
//! (0 -> served) before it pops, so a call is served exactly once; a timeout,
//! CLIENT UNBLOCK or a disconnect wins the same flag (0 -> cancelled) before the
//! call gives up. Waiters whose claim was taken are dropped when met, and the
//! home removes its waiters when the call ends, so nothing stays behind.
//!
//! Streams: a key that already exists becomes ready again when entries are
//! added to it (`stream_ready`, called by XADD), and a waiter that cannot be
//! served (its ID is past the new entries) does not hold up the ones behind
//! it ([`Serve::fifo`]).

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::Waker;

use bytes::Bytes;

use super::{Core, ShardId, ShardState};
use crate::cmd::Ks;
use crate::db::Map;

const WAITING: u8 = 0;
const SERVED: u8 = 1;
const CANCELLED: u8 = 2;

/// The claim shared by one blocked call's waiters.
#[derive(Clone, Debug, Default)]
pub struct Claim(Arc<AtomicU8>);

impl Claim {
    fn is_open(&self) -> bool {
        self.0.load(Ordering::Acquire) == WAITING
    }

    fn take(&self, to: u8) -> bool {
        self.0.compare_exchange(WAITING, to, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Wins the call for serving; false if it was served or cancelled already.
    pub fn serve(&self) -> bool {
        self.take(SERVED)
    }

    /// Wins the call for giving up; false if a shard is serving it.
    pub fn cancel(&self) -> bool {
        self.take(CANCELLED)
    }

    fn same(&self, other: &Claim) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// What a served call gets: the key and whatever its pop produced.
pub type Served = (Bytes, Box<dyn Any + Send>);

/// The pop a blocked call wants, run on the shard that owns a ready key.
pub trait Serve: Send + Sync {
    /// Pops for the call from `key` of shard `here` if the key can serve it: it
    /// must call `claim` after checking the key has data and before changing
    /// anything, and give up (returning `None`) if the claim fails.
    fn serve(
        &self,
        ks: &mut Ks<'_>,
        key: &[u8],
        here: ShardId,
        claim: &mut dyn FnMut() -> bool,
    ) -> Option<Box<dyn Any + Send>>;

    /// Whether waiters are served strictly in order: a pop that finds
    /// nothing stops the key's queue (lists, sorted sets). Stream reads say
    /// false: each waiter wants entries after its own ID.
    fn fifo(&self) -> bool {
        true
    }
}

thread_local! {
    /// Stream keys (database, key) that got entries since this shard last
    /// served its waiters, noted only while someone waits here.
    static STREAMS_READY: RefCell<Vec<(usize, Bytes)>> = const { RefCell::new(Vec::new()) };
    static ANY_WAITER: Cell<bool> = const { Cell::new(false) };
}

/// Redis's `signalKeyAsReady` for a stream that got entries (it may have
/// existed before, so `Db::insert` did not mark it): clients blocked on it
/// are served after the current command. Costs one thread-local read when
/// nobody on this shard waits.
pub fn stream_ready(db: usize, key: &[u8]) {
    if !ANY_WAITER.with(Cell::get) {
        return;
    }
    STREAMS_READY.with(|r| {
        let mut r = r.borrow_mut();
        if !r.iter().any(|(d, k)| *d == db && &k[..] == key) {
            r.push((db, Bytes::copy_from_slice(key)));
        }
    });
}

fn take_stream_ready(db: usize) -> Option<Bytes> {
    STREAMS_READY.with(|r| {
        let mut r = r.borrow_mut();
        let i = r.iter().position(|(d, _)| *d == db)?;
        Some(r.swap_remove(i).1)
    })
}

/// Where a blocked call's slot is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitId {
    pub home: ShardId,
    pub slot: u64,
}

/// One blocked call in a key's FIFO.
pub struct Waiter {
    pub id: WaitId,
    pub claim: Claim,
    pub op: Arc<dyn Serve>,
}

/// The FIFO of waiters on each (database, key) of this shard.
pub type Queues = Map<(usize, Bytes), VecDeque<Waiter>>;

/// How a blocked call was ended early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unblock {
    /// Its timeout passed, or CLIENT UNBLOCK ... TIMEOUT.
    Timeout,
    /// CLIENT UNBLOCK ... ERROR.
    Error,
}

struct Slot {
    client: u64,
    claim: Claim,
    served: Option<Served>,
    unblock: Option<Unblock>,
    waker: Option<Waker>,
}

/// The blocked calls whose connections live on this shard.
#[derive(Default)]
pub struct Slots {
    next: u64,
    slots: Map<u64, Slot>,
}

impl Slots {
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

/// Serves the waiters of every key made ready since the last call. Runs on the
/// owning shard after each command and each cross-shard job; costs one compare
/// when nobody is blocked here.
pub fn serve_ready(core: &Core, state: &mut ShardState) {
    // Blocked clients are served after a transaction, as Redis serves them
    // after EXEC: the release serves them (see `Core::unlock`).
    if state.waiters == 0 {
        if ANY_WAITER.with(Cell::get) {
            ANY_WAITER.with(|w| w.set(false));
            STREAMS_READY.with(|r| r.borrow_mut().clear());
        }
        return;
    }
    if state.hold_ready || !state.locks.is_idle() {
        return;
    }
    let clock = core.clock();
    for db in 0..state.dbs.len() {
        while let Some(key) = state.dbs[db].pop_ready().or_else(|| take_stream_ready(db)) {
            let Some(mut queue) = state.blocked.remove(&(db, key.clone())) else { continue };
            let mut i = 0;
            while let Some(w) = queue.get(i) {
                if !w.claim.is_open() {
                    queue.remove(i);
                    state.waiters -= 1;
                    continue;
                }
                let mut lost = false;
                let op = w.op.clone();
                let claim = w.claim.clone();
                let result = {
                    let mut ks = Ks::from_state(state, db, clock);
                    op.serve(&mut ks, &key, core.id, &mut || {
                        let won = claim.serve();
                        lost = !won;
                        won
                    })
                };
                match result {
                    Some(v) => {
                        let id = w.id;
                        queue.remove(i);
                        state.waiters -= 1;
                        deliver(core, id, (key.clone(), v));
                    }
                    None if lost => {
                        queue.remove(i);
                        state.waiters -= 1;
                    }
                    None if op.fifo() => break,
                    None => i += 1,
                }
            }
            if queue.is_empty() {
                state.dbs[db].unblock_key(&key);
            } else {
                state.blocked.insert((db, key), queue);
            }
        }
    }
}

/// Sends a served result to its call's slot.
fn deliver(core: &Core, id: WaitId, served: Served) {
    if id.home == core.id {
        fill(core, id.slot, served);
        return;
    }
    let Some(me) = core.me.upgrade() else { return };
    crate::runtime::spawn(async move {
        me.call(id.home, move |home| fill(home, id.slot, served)).await;
    });
}

fn fill(core: &Core, slot: u64, served: Served) {
    let mut slots = core.slots.borrow_mut();
    if let Some(s) = slots.slots.get_mut(&slot) {
        s.served = Some(served);
        if let Some(w) = s.waker.take() {
            w.wake();
        }
    }
}

/// Tries `op` on `keys` of this shard's database `db` in order, and if none can
/// serve it and `wait` is set, queues a waiter on each. Returns what a key
/// served at once.
pub fn try_or_wait(
    core: &Core,
    db: usize,
    keys: &[Bytes],
    id: WaitId,
    claim: &Claim,
    op: &Arc<dyn Serve>,
    wait: bool,
) -> Option<Served> {
    let mut state = core.state.borrow_mut();
    let state = &mut *state;
    if !claim.is_open() {
        return None;
    }
    let clock = core.clock();
    for key in keys {
        let mut ks = Ks::from_state(state, db, clock);
        if let Some(v) = op.serve(&mut ks, key, core.id, &mut || claim.serve()) {
            return Some((key.clone(), v));
        }
        if !claim.is_open() {
            return None;
        }
    }
    if !wait {
        return None;
    }
    for (i, key) in keys.iter().enumerate() {
        if keys[..i].contains(key) {
            continue;
        }
        let queue = state.blocked.entry((db, key.clone())).or_default();
        if queue.is_empty() {
            state.dbs[db].block_key(key);
        }
        queue.push_back(Waiter { id, claim: claim.clone(), op: op.clone() });
        state.waiters += 1;
        ANY_WAITER.with(|w| w.set(true));
    }
    None
}

/// What a key holds, for a blocking command's first look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    Missing,
    /// A value of another type than the command pops (WRONGTYPE).
    Wrong,
    Data,
}

/// What each of `keys` holds for a pop of `kind` (lookupKeyWrite, no stats).
pub fn probe(core: &Core, db: usize, keys: &[Bytes], kind: crate::types::Kind) -> Vec<Probe> {
    let mut state = core.state.borrow_mut();
    let clock = core.clock();
    let mut ks = Ks::from_state(&mut state, db, clock);
    keys.iter()
        .map(|key| match ks.write(key) {
            None => Probe::Missing,
            Some(e) if e.kind() != kind => Probe::Wrong,
            Some(_) => Probe::Data,
        })
        .collect()
}

/// Removes a finished call's waiters from `keys` of database `db`.
pub fn forget(state: &mut ShardState, db: usize, keys: &[Bytes], claim: &Claim) {
    for key in keys {
        let k = (db, key.clone());
        let Some(q) = state.blocked.get_mut(&k) else { continue };
        let before = q.len();
        q.retain(|w| !w.claim.same(claim));
        state.waiters -= before - q.len();
        if q.is_empty() {
            state.blocked.remove(&k);
            state.dbs[db].unblock_key(key);
        }
    }
}

/// Opens a slot for a call of client `client` about to block.
pub fn open(core: &Core, client: u64, claim: Claim) -> WaitId {
    let mut slots = core.slots.borrow_mut();
    slots.next += 1;
    let slot = slots.next;
    slots.slots.insert(slot, Slot { client, claim, served: None, unblock: None, waker: None });
    WaitId { home: core.id, slot }
}

/// Closes a slot, returning what was delivered to it (if anything).
pub fn close(core: &Core, id: WaitId) -> Option<Served> {
    core.slots.borrow_mut().slots.remove(&id.slot).and_then(|s| s.served)
}

/// CLIENT UNBLOCK on this shard: ends the blocked call of `client`, if it has
/// one that is not being served. True if it did.
pub fn unblock_client(core: &Core, client: u64, how: Unblock) -> bool {
    let mut slots = core.slots.borrow_mut();
    for s in slots.slots.values_mut() {
        if s.client == client && s.served.is_none() && s.unblock.is_none() && s.claim.cancel() {
            s.unblock = Some(how);
            if let Some(w) = s.waker.take() {
                w.wake();
            }
            return true;
        }
    }
    false
}

/// What ended a wait.
pub enum Woken {
    Served(Served),
    Unblocked(Unblock),
    /// Nothing yet: the caller checks its timeout and connection.
    Idle,
}

/// Resolves when the slot is served or unblocked, or after `tick`.
pub async fn wait(core: &Rc<Core>, id: WaitId, tick: std::time::Duration) -> Woken {
    let slot_ready = std::future::poll_fn(|cx| {
        let mut slots = core.slots.borrow_mut();
        let Some(s) = slots.slots.get_mut(&id.slot) else {
            return std::task::Poll::Ready(Woken::Unblocked(Unblock::Timeout));
        };
        if let Some(v) = s.served.take() {
            return std::task::Poll::Ready(Woken::Served(v));
        }
        if let Some(u) = s.unblock {
            return std::task::Poll::Ready(Woken::Unblocked(u));
        }
        s.waker = Some(cx.waker().clone());
        std::task::Poll::Pending
    });
    futures_lite::future::or(slot_ready, async {
        crate::runtime::sleep(tick).await;
        Woken::Idle
    })
    .await
}

/// Blocked calls whose connections are on this shard (INFO blocked_clients).
pub fn blocked_here(core: &Core) -> usize {
    core.slots.borrow().len()
}
