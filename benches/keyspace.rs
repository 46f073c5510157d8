//! Keyspace benchmarks on a bare `Db` with a fixed clock: insert, get (hit and
//! miss), set-expire and the active-expiry step, on a table of 1M keys.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use tessera::db::{Clock, Db, DbStats, Entry, StrEncoding};

const KEYS: usize = 1_000_000;
const NOW: u64 = 1_700_000_000_000;

fn key(i: usize) -> Vec<u8> {
    format!("key:{i:010}").into_bytes()
}

fn entry(i: usize, expire_at: Option<u64>) -> Entry {
    let k = key(i);
    Entry::new_string(&k, b"value-0123456789", StrEncoding::Embstr, expire_at)
}

fn filled(n: usize) -> Db {
    let mut db = Db::new();
    for i in 0..n {
        db.insert(entry(i, None));
    }
    db
}

/// A cheap fixed-sequence index generator (no allocation in the timed loop).
struct Walk(u64);

impl Walk {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

fn keyspace(c: &mut Criterion) {
    let clock = Clock::at(NOW);
    let mut db = filled(KEYS);
    let keys: Vec<Vec<u8>> = (0..4096).map(|i| key(i * 241 % KEYS)).collect();
    let missing: Vec<Vec<u8>> = (0..4096).map(|i| format!("missing:{i}").into_bytes()).collect();
    let mut g = c.benchmark_group("keyspace_1m");
    g.throughput(Throughput::Elements(1));
    let mut stats = DbStats::default();
    let mut w = Walk(1);
    g.bench_function("get_hit", |b| {
        b.iter(|| {
            let k = &keys[w.next(keys.len())];
            black_box(db.lookup_read(k, clock, &mut stats).map(|e| e.value().len()))
        })
    });
    g.bench_function("get_miss", |b| {
        b.iter(|| {
            let k = &missing[w.next(missing.len())];
            black_box(db.lookup_read(k, clock, &mut stats).is_some())
        })
    });
    g.bench_function("overwrite", |b| {
        b.iter(|| {
            let i = w.next(KEYS);
            black_box(db.insert(entry(i, None)).is_some())
        })
    });
    g.bench_function("set_expire", |b| {
        b.iter(|| {
            let k = &keys[w.next(keys.len())];
            black_box(db.set_expire(k, Some(NOW + 3_600_000)))
        })
    });
    g.finish();

    // Growth: inserting fresh keys into a table that already holds 1M.
    let mut g = c.benchmark_group("keyspace_growth");
    g.throughput(Throughput::Elements(10_000));
    g.sample_size(10);
    let mut next = KEYS;
    g.bench_function("insert_10k_new_keys_into_1m", |b| {
        b.iter(|| {
            for _ in 0..10_000 {
                db.insert(entry(next, None));
                next += 1;
            }
        })
    });
    g.finish();

    // Active expiry: one bounded step over a table where every key has expired.
    let mut g = c.benchmark_group("active_expire");
    g.sample_size(10);
    g.bench_function("step_budget_20_all_expired_of_100k", |b| {
        b.iter_batched_ref(
            || {
                let mut db = Db::new();
                for i in 0..100_000 {
                    db.insert(entry(i, Some(NOW - 1)));
                }
                db
            },
            |db| {
                let mut stats = DbStats::default();
                for _ in 0..100 {
                    black_box(db.active_expire_step(clock, 20, &mut stats));
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, keyspace);
criterion_main!(benches);
