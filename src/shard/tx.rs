//! Cross-shard transactions, VLL style.
//!
//! A command or transaction whose keys live on several shards takes a global
//! sequence number and queues a lock request on every shard it touches: one
//! per key (shared for reads, exclusive for writes), or one for the whole
//! shard (FLUSHALL, KEYS, scripts that touch keys they did not declare). On
//! each key, requests are kept in sequence order and granted front to back,
//! readers together. A request that would have to jump ahead of a
//! conflicting request with a higher number is refused; the transaction then
//! withdraws everywhere and retries with a new number. Waits therefore only
//! ever go from a higher number to a lower one, so they cannot form a cycle.
//!
//! Once every request is granted, the transaction runs (in as many hops as
//! it needs: nothing else can touch its keys meanwhile), then releases its
//! locks. A command that runs on one shard never takes a number: it runs at
//! once unless one of its keys is locked, and then waits for the release.

use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::{Core, ShardId};
use crate::db::Map;

/// One lock request queued on a key.
#[derive(Debug, Clone, Copy)]
struct Req {
    seq: u64,
    write: bool,
}

/// What a transaction holds or waits for on one shard.
#[derive(Debug, Default)]
struct Held {
    keys: Vec<(usize, Bytes)>,
    whole: bool,
    /// This part may write: with the append-only file on, its effects are
    /// logged in one frame with the number of such parts (see `persist::log`).
    frame: Option<u32>,
}

/// The lock requests queued on one shard.
#[derive(Debug, Default)]
pub struct Locks {
    /// Per (database, key): requests in sequence order.
    keys: Map<(usize, Bytes), VecDeque<Req>>,
    /// Whole-shard requests, in sequence order.
    whole: VecDeque<u64>,
    /// Every transaction with requests here, by sequence number.
    txs: BTreeMap<u64, Held>,
}

/// What one shard is asked to lock for a transaction.
#[derive(Debug, Clone, Default)]
pub struct Part {
    pub db: usize,
    /// Keys and whether they are written.
    pub keys: Vec<(Bytes, bool)>,
    /// Lock the whole shard (every key of every database).
    pub whole: bool,
    /// The transaction may write here (its keys, or anything when whole).
    pub write: bool,
}

impl Locks {
    /// No transaction holds or waits for anything here: the fast path.
    #[inline]
    pub fn is_idle(&self) -> bool {
        self.txs.is_empty()
    }

    /// Whether a command outside any transaction may use `key` now (for a
    /// write when `write`). `owner` is the transaction the command runs in,
    /// whose own locks do not stop it.
    pub fn free(&self, db: usize, key: &[u8], write: bool, owner: Option<u64>) -> bool {
        if self.is_idle() {
            return true;
        }
        let q = self.queue(db, key);
        // A transaction runs only once all its locks are granted.
        if let Some(held) = owner.and_then(|seq| self.txs.get(&seq)) {
            if held.whole || q.is_some_and(|q| q.iter().any(|r| Some(r.seq) == owner)) {
                return true;
            }
        }
        if !self.whole.is_empty() {
            return false;
        }
        q.is_none_or(|q| !write && q.iter().all(|r| !r.write))
    }

    fn queue(&self, db: usize, key: &[u8]) -> Option<&VecDeque<Req>> {
        // Only reached while some transaction is queued: the copy is off the fast path.
        self.keys.get(&(db, Bytes::copy_from_slice(key)))
    }

    /// Queues transaction `seq`'s requests. False (and nothing queued) when a
    /// conflicting request with a higher number is already here.
    pub fn schedule(&mut self, seq: u64, part: &Part) -> bool {
        self.schedule_framed(seq, part, 1)
    }

    /// [`Locks::schedule`] for a transaction that writes on `writers` shards.
    pub fn schedule_framed(&mut self, seq: u64, part: &Part, writers: u32) -> bool {
        let later = self.txs.range(seq + 1..).next().is_some();
        if later {
            if part.whole || self.whole.iter().any(|&w| w > seq) {
                return false;
            }
            for (key, write) in &part.keys {
                if let Some(q) = self.keys.get(&(part.db, key.clone())) {
                    if q.iter().any(|r| r.seq > seq && (r.write || *write)) {
                        return false;
                    }
                }
            }
        }
        let held = self.txs.entry(seq).or_default();
        if part.write || part.keys.iter().any(|(_, w)| *w) {
            held.frame = Some(writers);
        }
        if part.whole {
            held.whole = true;
            let at = self.whole.partition_point(|&w| w < seq);
            self.whole.insert(at, seq);
        }
        for (key, write) in &part.keys {
            let id = (part.db, key.clone());
            let q = self.keys.entry(id.clone()).or_default();
            match q.iter_mut().find(|r| r.seq == seq) {
                // A key named twice: one request, exclusive if either is.
                Some(r) => r.write |= *write,
                None => {
                    let at = q.partition_point(|r| r.seq < seq);
                    q.insert(at, Req { seq, write: *write });
                    held.keys.push(id);
                }
            }
        }
        true
    }

    /// Whether every request of `seq` on this shard is granted.
    pub fn granted(&self, seq: u64) -> bool {
        let Some(held) = self.txs.get(&seq) else {
            return true;
        };
        if held.whole {
            return self.txs.keys().next() == Some(&seq);
        }
        if self.whole.front().is_some_and(|&w| w < seq) {
            return false;
        }
        held.keys.iter().all(|id| {
            let Some(q) = self.keys.get(id) else { return true };
            let mine = q.iter().find(|r| r.seq == seq).is_some_and(|r| r.write);
            q.iter().take_while(|r| r.seq != seq).all(|r| !r.write && !mine)
        })
    }

    /// The transaction whose granted write lock covers `key` here, if its
    /// effects are framed: who made a change to that key now.
    pub fn framed_writer(&self, db: usize, key: &[u8]) -> Option<(u64, u32)> {
        if self.is_idle() {
            return None;
        }
        if let Some(&w) = self.whole.front() {
            if self.txs.keys().next() == Some(&w) {
                if let Some(n) = self.txs.get(&w).and_then(|h| h.frame) {
                    return Some((w, n));
                }
            }
        }
        let q = self.queue(db, key)?;
        let front = q.front().filter(|r| r.write)?;
        self.granted(front.seq).then_some(())?;
        self.txs.get(&front.seq).and_then(|h| h.frame).map(|n| (front.seq, n))
    }

    /// The frame of transaction `seq` on this shard, if it writes here.
    pub fn frame(&self, seq: u64) -> Option<u32> {
        self.txs.get(&seq).and_then(|h| h.frame)
    }

    /// Drops every request of `seq`. True when it had any.
    pub fn release(&mut self, seq: u64) -> bool {
        let Some(held) = self.txs.remove(&seq) else {
            return false;
        };
        if held.whole {
            self.whole.retain(|&w| w != seq);
        }
        for id in held.keys {
            if let Some(q) = self.keys.get_mut(&id) {
                q.retain(|r| r.seq != seq);
                if q.is_empty() {
                    self.keys.remove(&id);
                }
            }
        }
        true
    }
}

/// A transaction holding its locks. Dropping it releases them (in the
/// background: the releases need no answer).
pub struct Tx {
    pub seq: u64,
    core: Rc<Core>,
    shards: Vec<ShardId>,
    released: Cell<bool>,
}

/// Locks `plan` (what to lock on each shard) for a new transaction and waits
/// until every request is granted.
pub async fn lock(core: &Rc<Core>, plan: Vec<(ShardId, Part)>) -> Tx {
    let shards: Vec<ShardId> = plan.iter().map(|(s, _)| *s).collect();
    let writers = plan.iter().filter(|(_, p)| p.write || p.keys.iter().any(|(_, w)| *w)).count() as u32;
    let mut backoff = 0u32;
    let seq = loop {
        let seq = core.shared.tx_seq.fetch_add(1, Ordering::Relaxed);
        let accepted = core
            .call_each(plan.clone(), move |c: &Core, part: Part| {
                c.state.borrow_mut().locks.schedule_framed(seq, &part, writers)
            })
            .await;
        if accepted.iter().all(|&a| a) {
            break seq;
        }
        let undo: Vec<(ShardId, ())> =
            shards.iter().zip(&accepted).filter(|(_, &a)| a).map(|(&s, _)| (s, ())).collect();
        core.call_each(undo, move |c: &Core, ()| c.unlock(seq)).await;
        // Let the transaction that refused us get ahead before retrying.
        backoff = (backoff + 1).min(8);
        if backoff > 2 {
            crate::runtime::sleep(std::time::Duration::from_micros(10 << backoff)).await;
        } else {
            crate::runtime::yield_now().await;
        }
    };
    let waits: Vec<_> =
        shards.iter().map(|&s| core.call_when(s, move |c: &Core| c.granted(seq).then_some(()))).collect();
    for w in waits {
        w.await;
    }
    Tx { seq, core: core.clone(), shards, released: Cell::new(false) }
}

impl Tx {
    /// Releases the locks when the command is done: in the background, but
    /// now with `appendfsync always`, where releasing writes the
    /// transaction's frames that the reply must wait for.
    pub async fn finish(self) {
        let always = self.core.shared.persist.aof.enabled.load(Ordering::Relaxed)
            && self.core.state.borrow().config.appendfsync == crate::config::Fsync::Always;
        if always {
            self.release().await;
        }
    }

    /// Releases the locks on every shard now.
    pub async fn release(self) {
        self.released.set(true);
        let seq = self.seq;
        let groups: Vec<(ShardId, ())> = self.shards.iter().map(|&s| (s, ())).collect();
        self.core.call_each(groups, move |c: &Core, ()| c.unlock(seq)).await;
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if self.released.get() {
            return;
        }
        let core = self.core.clone();
        let seq = self.seq;
        let groups: Vec<(ShardId, ())> = self.shards.iter().map(|&s| (s, ())).collect();
        crate::runtime::spawn(async move {
            core.call_each(groups, move |c: &Core, ()| c.unlock(seq)).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(keys: &[(&str, bool)]) -> Part {
        Part {
            db: 0,
            keys: keys.iter().map(|(k, w)| (Bytes::copy_from_slice(k.as_bytes()), *w)).collect(),
            whole: false,
            write: false,
        }
    }

    #[test]
    fn requests_are_granted_in_sequence_order() {
        let mut l = Locks::default();
        assert!(l.schedule(1, &part(&[("a", true)])));
        assert!(l.schedule(2, &part(&[("a", true), ("b", false)])));
        assert!(l.granted(1));
        assert!(!l.granted(2));
        assert!(!l.free(0, b"a", false, None));
        assert!(l.free(0, b"b", false, None));
        assert!(!l.free(0, b"b", true, None));
        assert!(l.free(0, b"a", true, Some(1)));
        assert!(l.release(1));
        assert!(l.granted(2));
        assert!(l.release(2));
        assert!(l.is_idle());
        assert!(l.free(0, b"a", true, None));
    }

    #[test]
    fn readers_share_and_writers_wait() {
        let mut l = Locks::default();
        assert!(l.schedule(1, &part(&[("a", false)])));
        assert!(l.schedule(2, &part(&[("a", false)])));
        assert!(l.schedule(3, &part(&[("a", true)])));
        assert!(l.granted(1) && l.granted(2) && !l.granted(3));
        l.release(2);
        assert!(!l.granted(3));
        l.release(1);
        assert!(l.granted(3));
    }

    #[test]
    fn a_lower_number_behind_a_conflicting_higher_one_is_refused() {
        let mut l = Locks::default();
        assert!(l.schedule(5, &part(&[("a", true)])));
        assert!(!l.schedule(4, &part(&[("a", false)])));
        // Not a conflict: another key, or readers together.
        assert!(l.schedule(3, &part(&[("b", true)])));
        let mut r = Locks::default();
        assert!(r.schedule(5, &part(&[("a", false)])));
        assert!(r.schedule(4, &part(&[("a", false)])));
        assert!(r.granted(4) && r.granted(5));
        assert_eq!(r.txs.len(), 2);
        assert!(!l.txs.contains_key(&4), "a refused request leaves nothing behind");
    }

    #[test]
    fn the_whole_shard_waits_for_everything_before_it() {
        let mut l = Locks::default();
        assert!(l.schedule(1, &part(&[("a", false)])));
        assert!(l.schedule(2, &Part { whole: true, ..Part::default() }));
        assert!(l.schedule(3, &part(&[("b", false)])));
        assert!(!l.granted(2));
        assert!(!l.granted(3), "requests after a whole-shard lock wait for it");
        assert!(!l.free(0, b"zzz", false, None));
        assert!(l.free(0, b"a", true, Some(1)), "a running transaction uses its own keys");
        l.release(1);
        assert!(l.granted(2));
        assert!(l.free(0, b"zzz", true, Some(2)));
        assert!(!l.schedule(0, &part(&[("q", false)])), "a lower number cannot pass a whole-shard lock");
        l.release(2);
        assert!(l.granted(3));
    }

    #[test]
    fn a_key_named_twice_is_one_request() {
        let mut l = Locks::default();
        assert!(l.schedule(1, &part(&[("a", false), ("a", true)])));
        assert!(l.granted(1));
        assert!(!l.free(0, b"a", false, None));
        l.release(1);
        assert!(l.is_idle() && l.keys.is_empty());
    }
}
