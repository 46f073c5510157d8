//! Cache hit ratio of the eviction policies on a skewed key stream, measured
//! through the real server: a client reads keys drawn from a Zipf
//! distribution and, like a cache-aside application, writes each key it
//! missed. Each policy runs on a fresh Tessera (1 shard) with the same
//! maxmemory, so every policy has the same memory to spend (the frequency
//! sketch of allkeys-tinylfu is counted in it).
//!
//! ```sh
//! cargo bench --bench hit_ratio
//! HIT_KEYS=1000000 HIT_REQUESTS=4000000 HIT_CACHE_MB=24 cargo bench --bench hit_ratio
//! HIT_POLICIES=allkeys-lru,allkeys-tinylfu HIT_SKEWS=0.8 cargo bench --bench hit_ratio
//! ```
//!
//! Prints one Markdown table row per (skew, policy): hit ratio over the
//! measured requests (after a warm-up of a quarter of them), keys held at the
//! end, evictions. Under `cargo test --benches` it runs a short stream on one
//! policy, to keep the code working.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_distr::{Distribution, Zipf};

const VALUE_SIZE: usize = 100;
const PIPELINE: usize = 100;

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn start() -> Server {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("tessera-hit-ratio-{port}"));
    let _ = std::fs::create_dir_all(&dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["--port", &port.to_string(), "--shards", "1", "--save", "", "--loglevel", "warning"])
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tessera");
    let stderr = child.stderr.take();
    std::thread::spawn(move || stderr.map(|e| BufReader::new(e).lines().for_each(drop)));
    let s = Server { child, port };
    for _ in 0..100 {
        if redis::Client::open(format!("redis://127.0.0.1:{port}/")).and_then(|c| c.get_connection()).is_ok() {
            return s;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("tessera did not start on port {port}");
}

fn info_field(c: &mut redis::Connection, section: &str, field: &str) -> u64 {
    let text: String = redis::cmd("INFO").arg(section).query(c).expect("INFO");
    text.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

struct Outcome {
    hit_ratio: f64,
    keys: u64,
    evicted: u64,
    secs: f64,
}

/// Runs `requests` reads of keys drawn from Zipf(`keys`, `skew`) against a
/// fresh server under `policy` with `cache` bytes of maxmemory above its
/// empty use.
fn run(policy: &str, keys: u64, skew: f64, requests: usize, cache: u64) -> Outcome {
    let server = start();
    let mut c = redis::Client::open(format!("redis://127.0.0.1:{}/", server.port))
        .and_then(|c| c.get_connection())
        .expect("connect");
    let base = info_field(&mut c, "memory", "used_memory");
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg(policy)
        .arg("maxmemory")
        .arg(base + cache)
        .query(&mut c)
        .expect("CONFIG SET");
    let zipf = Zipf::new(keys as f64, skew).expect("zipf parameters");
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x7e55e7a);
    let value = vec![b'v'; VALUE_SIZE];
    let warmup = requests / 4;
    let (mut hits, mut counted) = (0usize, 0usize);
    let started = Instant::now();
    let mut done = 0;
    while done < requests {
        let batch: Vec<String> = (0..PIPELINE).map(|_| format!("key:{:012}", zipf.sample(&mut rng) as u64)).collect();
        let mut p = redis::pipe();
        for k in &batch {
            p.cmd("GET").arg(k);
        }
        let got: Vec<Option<Vec<u8>>> = p.query(&mut c).expect("GET pipeline");
        let mut fill = redis::pipe();
        let mut missed = 0;
        for (k, v) in batch.iter().zip(&got) {
            if done >= warmup {
                counted += 1;
                hits += v.is_some() as usize;
            }
            done += 1;
            if v.is_none() {
                fill.cmd("SET").arg(k).arg(&value).ignore();
                missed += 1;
            }
        }
        if missed > 0 {
            let () = fill.query(&mut c).expect("SET pipeline");
        }
    }
    let secs = started.elapsed().as_secs_f64();
    Outcome {
        hit_ratio: hits as f64 / counted.max(1) as f64,
        keys: redis::cmd("DBSIZE").query(&mut c).expect("DBSIZE"),
        evicted: info_field(&mut c, "stats", "evicted_keys"),
        secs,
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not.
    let full = std::env::args().any(|a| a == "--bench");
    let keys = env_or("HIT_KEYS", if full { 1_000_000 } else { 20_000 });
    let requests = env_or("HIT_REQUESTS", if full { 4_000_000 } else { 40_000 }) as usize;
    let cache = env_or("HIT_CACHE_MB", if full { 24 } else { 1 }) << 20;
    let policies = std::env::var("HIT_POLICIES").unwrap_or_else(|_| {
        if full { "allkeys-random,allkeys-lru,allkeys-lfu,allkeys-tinylfu" } else { "allkeys-tinylfu" }.into()
    });
    let policies: Vec<&str> = policies.split(',').collect();
    let skews = std::env::var("HIT_SKEWS").unwrap_or_else(|_| if full { "0.8,0.99,1.2" } else { "0.99" }.into());
    let skews: Vec<f64> = skews.split(',').map(|v| v.parse().expect("HIT_SKEWS: numbers")).collect();
    println!(
        "{keys} keys (16-byte names, {VALUE_SIZE}-byte values), {requests} reads, maxmemory {} MiB above the empty server",
        cache >> 20
    );
    println!("| Zipf skew | policy | hit ratio | keys held | evictions | seconds |");
    println!("|---|---|---|---|---|---|");
    for &skew in &skews {
        for policy in &policies {
            let o = run(policy, keys, skew, requests, cache);
            println!(
                "| {skew} | {policy} | {:.2}% | {} | {} | {:.1} |",
                o.hit_ratio * 100.0,
                o.keys,
                o.evicted,
                o.secs
            );
        }
    }
}
