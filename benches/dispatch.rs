//! Command dispatch benchmarks: finding a command in the table by name (any
//! case, as clients send it), the arity and subcommand checks of `lookup`, and
//! a whole GET or SET from parsed arguments to reply bytes through `lookup` and
//! `run_sync`, the path a local command takes on its shard.

use std::hint::black_box;
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tessera::cmd::{lookup, run_sync, TABLE};
use tessera::config::Config;
use tessera::resp::{Out, Proto};
use tessera::server::Shared;
use tessera::shard::{self, Core, ShardState};

fn args(words: &[&str]) -> Vec<Bytes> {
    words.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect()
}

fn table(c: &mut Criterion) {
    let mut g = c.benchmark_group("dispatch_table");
    g.throughput(Throughput::Elements(1));
    for name in ["get", "GET", "GeT", "set", "SET", "incrbyfloat", "INCRBYFLOAT", "nosuchcmd"] {
        g.bench_function(format!("get_{name}"), |b| {
            b.iter(|| black_box(TABLE.get(black_box(name.as_bytes()))).is_some())
        });
    }
    for words in [&["GET", "key:000001"][..], &["SET", "key:000001", "value"], &["CONFIG", "GET", "maxclients"]] {
        let a = args(words);
        g.bench_function(format!("lookup_{}", words[..words.len() - 1].join("_")), |b| {
            b.iter(|| black_box(lookup(black_box(&a))).is_ok())
        });
    }
    g.finish();
}

/// One shard with no peers, outside any executor: enough for `run_sync`, which
/// needs the shard's `Core` for its clock and its state for counters.
fn shard() -> Rc<Core> {
    let config = Config::default();
    let shared = Arc::new(Shared::new(vec![None], 0));
    let state = ShardState::new(config, TABLE.counters(), 1);
    let links = shard::mesh(1, 16).remove(0);
    // With one shard there are no channels to connect: start() never waits.
    futures_lite::future::block_on(Core::start(0, links, state, shared))
}

fn run(c: &mut Criterion) {
    const KEYS: usize = 10_000;
    let core = shard();
    let key = |i: usize| format!("key:{i:06}");
    let mut out = Out::new(Proto::Resp2);
    for i in 0..KEYS {
        let a = args(&["SET", &key(i), "value-0123456789"]);
        run_sync(&core, &mut core.state.borrow_mut(), lookup(&a).expect("SET"), 0, &a, &mut out);
    }
    let gets: Vec<Vec<Bytes>> = (0..1024).map(|i| args(&["GET", &key(i * 7 % KEYS)])).collect();
    let misses: Vec<Vec<Bytes>> = (0..1024).map(|i| args(&["get", &format!("missing:{i}")])).collect();
    let sets: Vec<Vec<Bytes>> = (0..1024).map(|i| args(&["SET", &key(i * 7 % KEYS), "value-9876543210"])).collect();
    let sets_ex: Vec<Vec<Bytes>> =
        (0..1024).map(|i| args(&["set", &key(i * 7 % KEYS), "value-9876543210", "EX", "3600"])).collect();

    let mut g = c.benchmark_group("dispatch_run");
    g.throughput(Throughput::Elements(1));
    for (label, cmds) in [("get_hit", &gets), ("get_miss", &misses), ("set_overwrite", &sets), ("set_ex", &sets_ex)] {
        let mut i = 0;
        g.bench_function(label, |b| {
            b.iter(|| {
                let a = &cmds[i % cmds.len()];
                i += 1;
                out.buf.clear();
                let cmd = lookup(a).expect("known command");
                run_sync(&core, &mut core.state.borrow_mut(), cmd, 0, a, &mut out);
                black_box(out.buf.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, table, run);
criterion_main!(benches);
