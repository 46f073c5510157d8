//! Keyspace growth without stalls: grows one `Table` (one shard's keyspace) to
//! `GROWTH_KEYS` keys (default 10,000,000) with 16-byte names and 16-byte
//! values, timing every insert, by kind: those that split a segment (and maybe
//! doubled the directory or moved the segment list), those that grew one, and
//! the others. Each insert is
//! timed by the wall clock and by the thread's CPU clock: the machine is shared,
//! and a wall-clock maximum can be a time slice lost to another process, which
//! the CPU clock does not count (page faults it does). Percentiles of the CPU
//! time tell what the table's work costs; the maxima mostly tell how noisy the
//! machine was. Inserts that took a page fault are counted: in a virtual
//! machine the first touch of fresh memory can cost milliseconds that have
//! nothing to do with the table.
//!
//! Also prints used memory per key at every million keys, as the server's
//! allocator (mimalloc with the counting wrapper) sees it.
//!
//! ```sh
//! cargo bench --bench growth                  # 10M keys
//! GROWTH_KEYS=2000000 cargo bench --bench growth
//! ```
//!
//! Not a criterion benchmark: the number that matters is one maximum over a
//! single run, not a mean. Under `cargo test --benches` it runs 100,000 keys.

use std::hint::black_box;
use std::time::{Duration, Instant};

use tessera::alloc::Mimalloc;
use tessera::db::{Entry, StrEncoding, Table};

#[global_allocator]
static GLOBAL: tessera::alloc::Counting<Mimalloc> = tessera::alloc::Counting::new(Mimalloc);

/// Page faults this thread has taken (minor and major).
fn thread_faults() -> i64 {
    // SAFETY: an all-zero rusage is valid, and getrusage only writes to it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid rusage to write to.
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
    ru.ru_minflt + ru.ru_majflt
}

/// CPU time this thread has used.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec to write to.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Times of one kind of insert.
#[derive(Default)]
struct Times {
    /// CPU times of the inserts that took no page fault.
    cpu: Vec<Duration>,
    wall_max: Duration,
    /// CPU times of those that took one.
    faulted: Vec<Duration>,
}

impl Times {
    fn add(&mut self, wall: Duration, cpu: Duration, faulted: bool) {
        self.wall_max = self.wall_max.max(wall);
        if faulted {
            self.faulted.push(cpu);
        } else {
            self.cpu.push(cpu);
        }
    }

    fn print(&mut self, what: &str) {
        self.cpu.sort();
        self.faulted.sort();
        let us = |v: &[Duration], f: f64| {
            v.get(((v.len() as f64 * f) as usize).min(v.len().saturating_sub(1))).map_or(0.0, |d| d.as_secs_f64() * 1e6)
        };
        let over_1ms = |v: &[Duration]| v.iter().filter(|d| **d > Duration::from_millis(1)).count();
        let (c, f) = (&self.cpu, &self.faulted);
        println!(
            "| {what} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {:.1} | {:.1} | {} | {:.1} |",
            c.len(),
            us(c, 0.5),
            us(c, 0.99),
            us(c, 0.999),
            us(c, 0.9999),
            us(c, 1.0),
            over_1ms(c),
            f.len(),
            us(f, 0.5),
            us(f, 1.0),
            over_1ms(f),
            self.wall_max.as_secs_f64() * 1e6
        );
    }
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::var("GROWTH_KEYS").ok().and_then(|v| v.parse().ok()).unwrap_or(if bench {
        10_000_000
    } else {
        100_000
    });
    let mut t = Table::new();
    let start_mem = tessera::alloc::used_memory();
    let (mut split, mut grow, mut other) = (Times::default(), Times::default(), Times::default());
    let mut over_1ms_cpu = 0usize;
    let mut over_1ms_wall = 0usize;
    let started = Instant::now();
    let mut checkpoint = 1_000_000.min(n);
    println!("| keys | segments | used memory/key (B) | table/key (B) |");
    println!("|---|---|---|---|");
    for i in 0..n {
        let key = format!("key:{i:012}");
        let val = format!("{i:016}");
        let e = Entry::new_string(key.as_bytes(), val.as_bytes(), StrEncoding::Embstr, None);
        let (segs, resizes) = (t.segment_count(), t.resize_count());
        let f0 = thread_faults();
        let c0 = thread_cpu();
        let t0 = Instant::now();
        black_box(t.insert(e));
        let wall = t0.elapsed();
        let cpu = thread_cpu().saturating_sub(c0);
        let faulted = thread_faults() != f0;
        if t.segment_count() != segs {
            split.add(wall, cpu, faulted);
        } else if t.resize_count() != resizes {
            grow.add(wall, cpu, faulted);
        } else {
            other.add(wall, cpu, faulted);
        }
        over_1ms_cpu += (cpu > Duration::from_millis(1)) as usize;
        over_1ms_wall += (wall > Duration::from_millis(1)) as usize;
        if i + 1 == checkpoint {
            let used = tessera::alloc::used_memory() - start_mem;
            println!(
                "| {} | {} | {:.1} | {:.1} |",
                i + 1,
                t.segment_count(),
                used as f64 / (i + 1) as f64,
                t.overhead_bytes() as f64 / (i + 1) as f64
            );
            checkpoint = (checkpoint + 1_000_000).min(n);
        }
    }
    println!();
    println!("{n} keys in {:.1} s", started.elapsed().as_secs_f64());
    println!();
    println!(
        "| inserts | without page faults | p50 CPU (us) | p99 CPU (us) | p99.9 CPU (us) | p99.99 CPU (us) | max CPU (us) | over 1 ms | with page faults | their p50 CPU (us) | their max CPU (us) | their over 1 ms | max wall, all (us) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    split.print("splitting a segment");
    grow.print("growing a segment");
    other.print("others");
    println!();
    println!("inserts over 1 ms: {over_1ms_cpu} by CPU time, {over_1ms_wall} by wall time");
}
