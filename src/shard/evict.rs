//! maxmemory on a shard: when the process's used memory is above the limit,
//! the shard running a write gives up some of its own keys, chosen by
//! `maxmemory-policy` (Redis's `performEvictions`).
//!
//! The limit is one number for the whole process, as in Redis, split over
//! the shards by what each holds: a shard over the limit frees its part of
//! the excess from the keys it owns. A shard reads the other threads'
//! allocation counters at most once per clock tick (a millisecond) and its
//! own counter live, so checking costs two loads when memory is below the
//! limit.

use std::cell::Cell;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{Core, ShardState};
use crate::db::evict::{score, Access, Policy};
use crate::db::Clock;

thread_local! {
    /// (clock ms when read, the other threads' used memory then).
    static OTHERS: Cell<(u64, i64)> = const { Cell::new((u64::MAX, 0)) };
}

/// Redis's `shared.oomerr`.
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Process-wide used memory as this shard sees it; `fresh` rereads every counter.
fn used(now_ms: u64, fresh: bool) -> u64 {
    let mine = crate::alloc::thread_used();
    let (at, mut others) = OTHERS.get();
    if fresh || at != now_ms {
        others = crate::alloc::used_memory() as i64 - mine;
        OTHERS.set((now_ms, others));
    }
    (others + mine).max(0) as u64
}

/// Eviction bookkeeping a shard keeps.
#[derive(Default)]
pub struct Evictions {
    /// Candidates scored under the current policy (cleared when the
    /// configuration changes).
    pub pool: crate::db::evict::Pool,
    /// Keys evicted (INFO stats `evicted_keys`).
    pub evicted_keys: u64,
    /// Next database random policies take a key from.
    next_db: usize,
    /// Since when used memory has been over the limit, and the time over it
    /// before that (INFO's `*_eviction_exceeded_time`), in ms.
    pub over_since: Option<u64>,
    pub over_total_ms: u64,
    /// Running a transaction's or script's commands: they are not refused for
    /// memory one by one (the whole was checked before it began).
    pub exempt: bool,
}

/// Redis's `evictionTimeLimitUs` for `maxmemory-eviction-tenacity`.
pub fn time_limit(tenacity: u32) -> Duration {
    if tenacity <= 10 {
        Duration::from_micros(50 * tenacity as u64)
    } else if tenacity < 100 {
        Duration::from_micros((500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64)
    } else {
        Duration::MAX
    }
}

/// Evicts this shard's keys while the process uses more than `maxmemory`,
/// for at most `limit`. Each shard frees its part of the excess, in
/// proportion to the memory it holds (at least one key), so shards evicting
/// at once neither starve one another's keys nor overshoot; what is left
/// over is freed by the next write or cron run. False if memory is over the
/// limit and this shard can evict nothing (the caller refuses deny-oom
/// commands then); true otherwise, as Redis lets a command run while its
/// eviction is still in progress.
pub fn make_room(core: &Core, st: &mut ShardState, limit: Duration) -> bool {
    let max = st.config.maxmemory;
    if max == 0 {
        return true;
    }
    let clock = core.clock();
    let now = clock.now_ms;
    if used(now, false) <= max {
        if let Some(since) = st.evictions.over_since.take() {
            st.evictions.over_total_ms += now.saturating_sub(since);
        }
        return true;
    }
    st.evictions.over_since.get_or_insert(now);
    if st.config.maxmemory_policy == Policy::NoEviction {
        return false;
    }
    let total = used(now, false);
    let mine = crate::alloc::thread_used();
    let goal = ((total - max) as u128 * mine.max(0) as u128 / total as u128) as i64;
    let started = Instant::now();
    let mut n = 0u32;
    loop {
        let Some((db, key)) = victim(st, clock) else {
            return n > 0 || used(now, true) <= max;
        };
        let ShardState { dbs, stats, .. } = st;
        if dbs[db].remove(&key, clock, stats).is_some() {
            st.evictions.evicted_keys += 1;
            super::signal::evicted(st, db, &key);
        }
        n += 1;
        if mine - crate::alloc::thread_used() >= goal || used(now, n.is_multiple_of(16)) <= max {
            return true;
        }
        if n.is_multiple_of(16) && started.elapsed() > limit {
            return true;
        }
    }
}

/// The next key to evict under the configured policy, if any key qualifies.
fn victim(st: &mut ShardState, clock: Clock) -> Option<(usize, Bytes)> {
    let policy = st.config.maxmemory_policy;
    if matches!(policy, Policy::AllKeysRandom | Policy::VolatileRandom) {
        return random_victim(st, policy.volatile_only());
    }
    let samples = st.config.maxmemory_samples as usize;
    let volatile = policy.volatile_only();
    // Redis's loop: fill the pool from every database, take the best
    // candidate that still exists, and sample again if none does.
    for _ in 0..16 {
        let ShardState { dbs, evictions, rng, .. } = st;
        let mut any = false;
        for (d, db) in dbs.iter().enumerate() {
            let pool = &mut evictions.pool;
            let given = db.table().sample(
                samples,
                volatile,
                || super::xorshift(rng),
                |e| {
                    pool.offer(score(policy, e, clock), d, e.key());
                },
            );
            any |= given > 0;
        }
        while let Some(c) = st.evictions.pool.pop() {
            if st.dbs.get(c.db).is_some_and(|db| db.table().get(&c.key).is_some()) {
                return Some((c.db, c.key));
            }
        }
        if !any {
            return None;
        }
    }
    None
}

/// allkeys-random and volatile-random: a random key of the next database
/// that has one (Redis visits the databases round robin).
fn random_victim(st: &mut ShardState, volatile: bool) -> Option<(usize, Bytes)> {
    let ndb = st.dbs.len();
    for _ in 0..ndb {
        let d = st.evictions.next_db % ndb;
        st.evictions.next_db = (d + 1) % ndb;
        let ShardState { dbs, rng, .. } = st;
        let mut key = None;
        dbs[d].table().sample(1, volatile, || super::xorshift(rng), |e| key = Some(Bytes::copy_from_slice(e.key())));
        if let Some(k) = key {
            return Some((d, k));
        }
    }
    None
}

/// Applies a configuration change on this shard: how accesses are recorded,
/// and a lower limit starts evicting at once (the cron goes on with it).
pub fn configured(core: &Core, st: &mut ShardState) {
    // The policy may have changed: scores computed under another are void.
    st.evictions.pool.clear();
    let access = Access::of(&st.config);
    if !access.sketch() {
        for db in &mut st.dbs {
            db.drop_sketch();
        }
    }
    core.set_access(access);
    make_room(core, st, CRON_LIMIT);
}

/// How long the cron may evict per run while memory is over the limit.
pub const CRON_LIMIT: Duration = Duration::from_millis(25);

/// Redis's `getMaxmemoryState` check before a command: make room, and say
/// whether a deny-oom command must be refused.
pub fn refuse(core: &Core, st: &mut ShardState) -> bool {
    !make_room(core, st, time_limit(st.config.maxmemory_eviction_tenacity))
}

/// [`refuse`] for code outside the shard's state (the connection before
/// MULTI queuing, EXEC, a script or a command across shards): this shard
/// makes room from its own keys and hands on what it evicted.
pub fn out_of_memory(core: &Core) -> bool {
    let mut st = core.state.borrow_mut();
    if st.config.maxmemory == 0 {
        return false;
    }
    let refused = refuse(core, &mut st);
    super::signal::hand_on(core, &mut st);
    refused
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenacity_limits_match_redis() {
        assert_eq!(time_limit(0), Duration::ZERO);
        assert_eq!(time_limit(10), Duration::from_micros(500));
        assert_eq!(time_limit(11), Duration::from_micros(575));
        assert_eq!(time_limit(100), Duration::MAX);
    }
}
