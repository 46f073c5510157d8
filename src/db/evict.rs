//! maxmemory policies: which keys a shard gives up when used memory passes
//! `maxmemory`.

/// `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    NoEviction,
    AllKeysLru,
    AllKeysLfu,
    AllKeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    /// Tessera's own: allkeys-lfu whose new keys start from the reads a
    /// frequency sketch remembers of them, stored or not (TinyLFU's history),
    /// so a returning popular key is not evicted as a newcomer.
    AllKeysTinyLfu,
}

impl Policy {
    /// Redis's names, in the order its error message lists them, then Tessera's.
    pub const ALL: [Policy; 9] = [
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
        Policy::AllKeysLru,
        Policy::AllKeysLfu,
        Policy::AllKeysRandom,
        Policy::NoEviction,
        Policy::AllKeysTinyLfu,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Policy::NoEviction => "noeviction",
            Policy::AllKeysLru => "allkeys-lru",
            Policy::AllKeysLfu => "allkeys-lfu",
            Policy::AllKeysRandom => "allkeys-random",
            Policy::VolatileLru => "volatile-lru",
            Policy::VolatileLfu => "volatile-lfu",
            Policy::VolatileRandom => "volatile-random",
            Policy::VolatileTtl => "volatile-ttl",
            Policy::AllKeysTinyLfu => "allkeys-tinylfu",
        }
    }

    pub fn parse(s: &str) -> Option<Policy> {
        Policy::ALL.into_iter().find(|p| p.name().eq_ignore_ascii_case(s))
    }

    /// Whether the access field holds LFU data (Redis's `MAXMEMORY_FLAG_LFU`)
    /// rather than the LRU clock.
    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::AllKeysLfu | Policy::VolatileLfu | Policy::AllKeysTinyLfu)
    }

    /// Whether only keys with an expiry may be evicted.
    pub fn volatile_only(self) -> bool {
        matches!(self, Policy::VolatileLru | Policy::VolatileLfu | Policy::VolatileRandom | Policy::VolatileTtl)
    }
}

/// What a key's 24-bit access field holds and how an access updates it:
/// Redis's LRU clock, or its LFU data (16-bit minutes of the last decrement,
/// 8-bit logarithmic counter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    #[default]
    Lru,
    Lfu {
        log_factor: u32,
        decay_time: u32,
        /// Reads are also counted in the database's frequency sketch
        /// (allkeys-tinylfu).
        sketch: bool,
    },
}

/// Redis's `LRU_CLOCK_MAX`: the 24-bit access clock wraps at this value.
pub const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

/// Redis's `estimateObjectIdleTime` in seconds: the distance from the access
/// time to the (wrapping) 24-bit LRU clock.
pub fn idle_seconds(lru_now: u32, access: u32) -> u64 {
    if lru_now >= access {
        (lru_now - access) as u64
    } else {
        lru_now as u64 + (LRU_CLOCK_MAX - access.min(LRU_CLOCK_MAX)) as u64
    }
}

/// Redis's `LFU_INIT_VAL`: a new key's counter, so it is not evicted at once.
pub const LFU_INIT_VAL: u32 = 5;

impl Access {
    pub fn of(config: &crate::config::Config) -> Access {
        let p = config.maxmemory_policy;
        if !p.is_lfu() {
            return Access::Lru;
        }
        Access::Lfu {
            log_factor: config.lfu_log_factor,
            decay_time: config.lfu_decay_time,
            sketch: p == Policy::AllKeysTinyLfu,
        }
    }

    /// Whether reads are counted in the frequency sketch.
    pub fn sketch(self) -> bool {
        matches!(self, Access::Lfu { sketch: true, .. })
    }
}

/// Redis's `LFUGetTimeInMinutes`: minutes, modulo 2^16.
pub fn lfu_minutes(now_ms: u64) -> u32 {
    ((now_ms / 60_000) & 0xffff) as u32
}

/// Redis's `LFUTimeElapsed`: minutes since `ldt`, wrapping at 2^16.
fn lfu_elapsed(now_ms: u64, ldt: u32) -> u32 {
    let now = lfu_minutes(now_ms);
    if now >= ldt {
        now - ldt
    } else {
        65535 - ldt + now
    }
}

/// Redis's `LFUDecrAndReturn`: the counter after the decay owed for the time
/// since its last decrement (what OBJECT FREQ shows).
pub fn lfu_decayed(access: u32, now_ms: u64, decay_time: u32) -> u32 {
    let ldt = access >> 8;
    let counter = access & 255;
    let periods = lfu_elapsed(now_ms, ldt).checked_div(decay_time).unwrap_or(0);
    counter.saturating_sub(periods)
}

/// Redis's `LFULogIncr`: the counter grows with probability
/// 1 / ((counter - LFU_INIT_VAL) * log_factor + 1). `r` is uniform in [0, 1).
fn lfu_log_incr(counter: u32, log_factor: u32, r: f64) -> u32 {
    if counter >= 255 {
        return 255;
    }
    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let p = 1.0 / (base * log_factor as f64 + 1.0);
    if r < p {
        counter + 1
    } else {
        counter
    }
}

/// A uniform number in [0, 1) from this thread's generator.
fn uniform() -> f64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(ahash::RandomState::new().hash_one(0u8) | 1);
    }
    let x = STATE.with(|s| {
        let mut v = s.get();
        let r = crate::shard::xorshift(&mut v);
        s.set(v);
        r
    });
    (x >> 11) as f64 / (1u64 << 53) as f64
}

impl super::Clock {
    /// The access field of a key created now (Redis's `createObject`).
    pub fn fresh_access(&self) -> u32 {
        match self.access {
            Access::Lfu { .. } => (lfu_minutes(self.now_ms) << 8) | LFU_INIT_VAL,
            _ => self.lru(),
        }
    }

    /// The access field after an access to a key whose field was `old`
    /// (Redis's `updateLFU`, or the LRU clock).
    pub fn touched_access(&self, old: u32) -> u32 {
        match self.access {
            Access::Lfu { log_factor, decay_time, .. } => {
                let counter = lfu_decayed(old, self.now_ms, decay_time);
                let counter = lfu_log_incr(counter, log_factor, uniform());
                (lfu_minutes(self.now_ms) << 8) | counter
            }
            _ => self.lru(),
        }
    }
}

/// A count-min sketch of 4-bit counters (TinyLFU's frequency estimate): four
/// counters per key in one table of about four counters per stored key (two
/// bytes a key), halved after ten additions per stored key (TinyLFU's sample
/// of 10 times the cache size) so that old popularity fades. It also counts
/// keys that are not stored, which is what lets a returning popular key win
/// over a one-off.
pub struct Sketch {
    /// 16 counters per word.
    table: Vec<u64>,
    counters: u64,
    additions: u64,
    reset_at: u64,
}

const SEEDS: [u64; 4] = [0xc3a5_c85c_97cb_3127, 0xb492_b66f_be98_f273, 0x9ae1_6a3b_2f90_404f, 0xcbf2_9ce4_8422_2325];

impl Sketch {
    /// A sketch for about `keys` stored keys.
    pub fn new(keys: usize) -> Sketch {
        let keys = keys.max(1024);
        let words = keys.div_ceil(4);
        Sketch { table: vec![0; words], counters: words as u64 * 16, additions: 0, reset_at: keys as u64 * 10 }
    }

    /// Stored keys the sketch is sized for.
    pub fn capacity(&self) -> usize {
        self.counters as usize / 4
    }

    fn index(&self, hash: u64, row: usize) -> usize {
        let h = (hash ^ SEEDS[row]).wrapping_mul(SEEDS[(row + 1) & 3]);
        // Multiply-shift range reduction: any table size, no modulo.
        (((h ^ (h >> 29)) as u128 * self.counters as u128) >> 64) as usize
    }

    fn get(&self, i: usize) -> u64 {
        (self.table[i >> 4] >> ((i & 15) * 4)) & 15
    }

    /// Estimated accesses of the key with hash `hash` (0-15).
    pub fn estimate(&self, hash: u64) -> u32 {
        (0..4).map(|r| self.get(self.index(hash, r))).min().unwrap_or(0) as u32
    }

    /// Counts one access (conservative update: only the smallest counters grow).
    pub fn increment(&mut self, hash: u64) {
        let idx = [self.index(hash, 0), self.index(hash, 1), self.index(hash, 2), self.index(hash, 3)];
        let min = idx.iter().map(|&i| self.get(i)).min().unwrap_or(0);
        if min < 15 {
            for &i in &idx {
                if self.get(i) == min {
                    self.table[i >> 4] += 1 << ((i & 15) * 4);
                }
            }
        }
        self.additions += 1;
        if self.additions >= self.reset_at {
            for w in &mut self.table {
                *w = (*w >> 1) & 0x7777_7777_7777_7777;
            }
            self.additions /= 2;
        }
    }
}

/// One eviction candidate: the higher the score, the better the victim.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub score: u64,
    pub db: usize,
    pub key: bytes::Bytes,
}

/// Redis's eviction pool (`EVPOOL_SIZE`): the best candidates seen over
/// successive samplings, kept across evictions.
#[derive(Default)]
pub struct Pool {
    /// Ascending by score: the best victim is last.
    entries: Vec<Candidate>,
}

pub const POOL_SIZE: usize = 16;

impl Pool {
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Offers a candidate: kept if the pool has room or it beats the worst one.
    /// A key already in the pool only has its score updated.
    pub fn offer(&mut self, score: u64, db: usize, key: &[u8]) {
        if let Some(i) = self.entries.iter().position(|c| c.db == db && c.key == key) {
            self.entries[i].score = score;
            self.entries.sort_by_key(|c| c.score);
            return;
        }
        if self.entries.len() >= POOL_SIZE {
            if self.entries[0].score >= score {
                return;
            }
            self.entries.remove(0);
        }
        let at = self.entries.partition_point(|c| c.score < score);
        self.entries.insert(at, Candidate { score, db, key: bytes::Bytes::copy_from_slice(key) });
    }

    /// Takes the best candidate out.
    pub fn pop(&mut self) -> Option<Candidate> {
        self.entries.pop()
    }
}

/// How good a victim `e` is under `policy` (higher: evict first), Redis's
/// `evictionPoolPopulate` scores: idle time, 255 - LFU counter, or the
/// inverse of the expiry time.
pub fn score(policy: Policy, e: &super::Entry, clock: super::Clock) -> u64 {
    match policy {
        p if p.is_lfu() => {
            let decay = match clock.access {
                Access::Lfu { decay_time, .. } => decay_time,
                _ => 1,
            };
            255 - lfu_decayed(e.access(), clock.now_ms, decay) as u64
        }
        Policy::VolatileTtl => u64::MAX - e.expire_at().unwrap_or(u64::MAX),
        _ => idle_seconds(clock.lru(), e.access()),
    }
}

/// The LFU counter a key reaches after `reads` accesses, on average (each
/// step from `c` takes `(c - LFU_INIT_VAL) * log_factor + 1` of them): what
/// allkeys-tinylfu gives a new key whose earlier reads the sketch remembers.
pub fn lfu_from_reads(reads: u32, log_factor: u32) -> u32 {
    let (mut k, mut spent) = (0u32, 0u64);
    while LFU_INIT_VAL + k < 255 {
        let step = k as u64 * log_factor as u64 + 1;
        if spent + step > reads as u64 {
            break;
        }
        spent += step;
        k += 1;
    }
    LFU_INIT_VAL + k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lfu_counter_grows_logarithmically_and_decays() {
        // With log factor 10, going from 5 to 6 is certain, 6 to 7 one in 11.
        assert_eq!(lfu_log_incr(5, 10, 0.99), 6);
        assert_eq!(lfu_log_incr(6, 10, 0.5), 6);
        assert_eq!(lfu_log_incr(6, 10, 0.05), 7);
        assert_eq!(lfu_log_incr(255, 0, 0.0), 255);
        let now = 10 * 60_000;
        let access = (lfu_minutes(now - 3 * 60_000) << 8) | 20;
        assert_eq!(lfu_decayed(access, now, 1), 17);
        assert_eq!(lfu_decayed(access, now, 2), 19);
        assert_eq!(lfu_decayed(access, now, 0), 20);
        assert_eq!(lfu_decayed(access, now + 100 * 60_000, 1), 0);
    }

    #[test]
    fn reads_map_to_the_counter_lfu_would_reach() {
        assert_eq!(lfu_from_reads(0, 10), 5);
        assert_eq!(lfu_from_reads(1, 10), 6);
        assert_eq!(lfu_from_reads(11, 10), 6);
        assert_eq!(lfu_from_reads(12, 10), 7);
        assert_eq!(lfu_from_reads(33, 10), 8);
        assert_eq!(lfu_from_reads(1000, 0), 255);
    }

    #[test]
    fn policy_names_round_trip() {
        for p in Policy::ALL {
            assert_eq!(Policy::parse(&p.name().to_ascii_uppercase()), Some(p));
        }
        assert_eq!(Policy::parse("lru"), None);
    }

    #[test]
    fn sketch_counts_and_ages() {
        let mut s = Sketch::new(0);
        for _ in 0..7 {
            s.increment(42);
        }
        s.increment(7);
        assert_eq!(s.estimate(42), 7);
        assert_eq!(s.estimate(7), 1);
        assert_eq!(s.estimate(99), 0);
        for _ in 0..20 {
            s.increment(42);
        }
        assert_eq!(s.estimate(42), 15);
        // Enough other additions halve every counter.
        for h in 0..s.capacity() as u64 * 10 {
            s.increment(h.wrapping_mul(0x9e37_79b9_7f4a_7c15) | (1 << 63));
        }
        assert!(s.estimate(42) <= 8);
    }

    #[test]
    fn pool_keeps_the_best_candidates() {
        let mut p = Pool::default();
        for i in 0..40u64 {
            p.offer(i, 0, format!("k{i}").as_bytes());
        }
        p.offer(39, 0, b"k39");
        assert_eq!(p.pop().map(|c| (c.score, c.key)), Some((39, bytes::Bytes::from("k39"))));
        assert_eq!(p.pop().map(|c| c.score), Some(38));
        let rest: Vec<u64> = std::iter::from_fn(|| p.pop().map(|c| c.score)).collect();
        assert_eq!(rest.len(), POOL_SIZE - 2);
        assert_eq!(rest.last(), Some(&24));
    }
}
