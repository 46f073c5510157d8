//! HyperLogLog: counts and bytes next to a real redis-server 7.0 for the same
//! commands (error rate at 1k to 1M distinct elements), PFCOUNT and PFMERGE
//! over keys on different shards (1 and 3 shards), and HLL values moving
//! between Redis and Tessera through DUMP/RESTORE and Redis's RDB files;
//! random sequences compared with Redis, and append-only file replay giving
//! back the same bytes.

use std::cell::RefCell;
use std::time::Duration;

use crate::differential::{random_seeds_with, seed_count, Cmp, Rng};
use crate::support::{
    against_redis, data_dir, each_shards, free_port, query, redis_server_path, spread_keys, start_redis, wait_until,
    Server,
};

/// Adds `e:{from}`..`e:{to}` to `key` in batches of 1000.
fn add_range(c: &mut redis::Connection, key: &str, from: u64, to: u64) {
    let mut p = redis::pipe();
    let mut i = from;
    while i < to {
        let end = (i + 1000).min(to);
        let mut cmd = redis::cmd("PFADD");
        cmd.arg(key);
        for j in i..end {
            cmd.arg(format!("e:{j}"));
        }
        p.add_command(cmd).ignore();
        i = end;
    }
    let _: () = p.query(c).unwrap();
}

fn get(c: &mut redis::Connection, key: &str) -> Vec<u8> {
    query(c, &["GET", key])
}

fn err(c: &mut redis::Connection, args: &[&str]) -> String {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    match cmd.query::<redis::Value>(c) {
        Err(e) => format!("{}: {}", e.code().unwrap_or("?"), e.detail().unwrap_or("")),
        Ok(v) => format!("no error: {v:?}"),
    }
}

#[test]
fn counts_and_error_rate_match_redis() {
    let redis = start_redis();
    let r = RefCell::new(redis.client());
    each_shards(|s| {
        let mut r = r.borrow_mut();
        let r = &mut *r;
        let mut c = s.client();
        for n in [1_000u64, 10_000, 100_000, 1_000_000] {
            let key = format!("h{n}");
            add_range(&mut c, &key, 0, n);
            if s.shards == 1 {
                add_range(r, &key, 0, n);
            }
            let ours: u64 = query(&mut c, &["PFCOUNT", &key]);
            let theirs: u64 = query(r, &["PFCOUNT", &key]);
            assert_eq!(ours, theirs, "PFCOUNT of {n} distinct elements");
            // Redis documents a standard error of 0.81%; four of them is far
            // outside what these fixed inputs give.
            let err = (ours as f64 - n as f64).abs() / n as f64;
            assert!(err < 4.0 * 0.0081, "{n}: count {ours}, error {err}");
            assert_eq!(get(&mut c, &key), get(r, &key), "bytes of {key} after PFCOUNT");
        }
    });
}

#[test]
fn union_across_shards() {
    let redis = start_redis();
    let mut r = redis.client();
    // With 3 shards these keys live on shards 0, 1, 2, 0 and 1.
    let k = spread_keys("hll", 5);
    let (a, b, x, d, str_key) = (k[0].as_str(), k[1].as_str(), k[2].as_str(), k[3].as_str(), k[4].as_str());
    add_range(&mut r, a, 0, 500);
    add_range(&mut r, b, 400, 1200);
    add_range(&mut r, x, 1000, 6000);
    let r = RefCell::new(r);
    each_shards(|s| {
        let mut r = r.borrow_mut();
        let r = &mut *r;
        let mut c = s.client();
        add_range(&mut c, a, 0, 500);
        add_range(&mut c, b, 400, 1200);
        add_range(&mut c, x, 1000, 6000);
        let _: () = query(&mut c, &["SET", str_key, "not an hll"]);
        for keys in [vec![a, b], vec![a, b, x], vec![x, a, "nokey"], vec![b, b]] {
            let mut args = vec!["PFCOUNT"];
            args.extend(keys.iter().copied());
            assert_eq!(query::<i64>(&mut c, &args), query::<i64>(r, &args), "{args:?}");
        }
        // A union does not touch the sources' caches.
        assert_eq!(get(&mut c, a), get(r, a));

        // Two sparse sources: a sparse destination, byte for byte Redis's.
        let _: () = query(&mut c, &["PFMERGE", d, a, b]);
        let _: () = query(r, &["PFMERGE", d, a, b]);
        assert_eq!(get(&mut c, d), get(r, d));
        assert_eq!(query::<String>(&mut c, &["PFDEBUG", "ENCODING", d]), "sparse");
        // A dense source makes it dense; the destination is a source too.
        let _: () = query(&mut c, &["PFMERGE", d, x]);
        let _: () = query(r, &["PFMERGE", d, x]);
        assert_eq!(get(&mut c, d), get(r, d));
        assert_eq!(query::<String>(&mut c, &["PFDEBUG", "ENCODING", d]), "dense");
        assert_eq!(query::<i64>(&mut c, &["PFCOUNT", d]), query::<i64>(r, &["PFCOUNT", d]));
        let _: () = query(&mut c, &["DEL", d]);
        let _: () = query(r, &["DEL", d]);

        // Errors come from the first bad key, wherever it lives.
        let wrong = "WRONGTYPE: Key is not a valid HyperLogLog string value.";
        assert_eq!(err(&mut c, &["PFCOUNT", a, str_key, b]), wrong);
        assert_eq!(err(&mut c, &["PFMERGE", d, a, str_key]), wrong);
        assert_eq!(query::<i64>(&mut c, &["EXISTS", d]), 0, "a failed merge stores nothing");
        let _: () = query(&mut c, &["SADD", d, "m"]);
        assert!(err(&mut c, &["PFCOUNT", a, d]).starts_with("WRONGTYPE: Operation against a key"));
        assert!(err(&mut c, &["PFMERGE", a, b, d]).starts_with("WRONGTYPE: Operation against a key"));
        let _: () = query(&mut c, &["DEL", d]);
        let corrupt = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f".to_vec();
        let _: () = redis::cmd("SET").arg(d).arg(corrupt).query(&mut c).unwrap();
        assert_eq!(err(&mut c, &["PFCOUNT", a, b, d]), "INVALIDOBJ: Corrupted HLL object detected");
        assert_eq!(err(&mut c, &["PFMERGE", a, d]), "INVALIDOBJ: Corrupted HLL object detected");
        // Merging into a key that is not an HLL fails before anything is written.
        assert_eq!(err(&mut c, &["PFMERGE", str_key, a]), wrong);
    });
}

#[test]
fn dump_and_restore_between_redis_and_tessera() {
    let redis = start_redis();
    let mut r = redis.client();
    add_range(&mut r, "sparse", 0, 300);
    add_range(&mut r, "dense", 0, 20_000);
    let _: i64 = query(&mut r, &["PFCOUNT", "dense"]);
    let r = RefCell::new(r);
    each_shards(|s| {
        let mut r = r.borrow_mut();
        let r = &mut *r;
        let mut c = s.client();
        for key in ["sparse", "dense"] {
            let payload: Vec<u8> = query(r, &["DUMP", key]);
            let _: () = redis::cmd("RESTORE").arg(key).arg(0).arg(&payload).query(&mut c).unwrap();
            assert_eq!(get(&mut c, key), get(r, key));
            let want: i64 = query(r, &["PFCOUNT", key]);
            assert_eq!(query::<i64>(&mut c, &["PFCOUNT", key]), want, "{key}");
            // Both go on the same way.
            let copy = format!("{key}-copy");
            let _: () = redis::cmd("RESTORE").arg(&copy).arg(0).arg(&payload).query(r).unwrap();
            let _: i64 = query(r, &["PFCOUNT", &copy]);
            let _: i64 = query(r, &["PFADD", &copy, "x", "y", "z"]);
            let _: i64 = query(&mut c, &["PFADD", key, "x", "y", "z"]);
            assert_eq!(get(&mut c, key), get(r, &copy));
            let _: () = query(r, &["DEL", &copy]);
            // And what Tessera dumps, Redis restores with the same count.
            let ours: Vec<u8> = query(&mut c, &["DUMP", key]);
            let _: () = redis::cmd("RESTORE").arg(&copy).arg(0).arg(&ours).query(r).unwrap();
            assert_eq!(query::<i64>(r, &["PFCOUNT", &copy]), query::<i64>(&mut c, &["PFCOUNT", key]));
            let _: () = query(r, &["DEL", &copy]);
        }
    });
}

/// A random HyperLogLog command over a few keys (two share a hash tag),
/// GETs of the raw bytes included, with `hll-sparse-max-bytes` changing now
/// and then so that values go dense at different sizes.
fn gen(r: &mut Rng) -> (Vec<String>, Cmp) {
    const KEYS: &[&str] = &["h1", "h2", "h3", "{t}a", "{t}b"];
    let keys = |r: &mut Rng, n: usize| (0..n).map(|_| r.pick(KEYS).to_string()).collect::<Vec<_>>();
    let p = r.below(100);
    let cmd: Vec<String> = if p < 45 {
        let n = r.below(40);
        let spread = [50, 2000, 100_000][r.below(3)];
        let mut c = vec!["PFADD".to_string(), r.pick(KEYS).to_string()];
        c.extend((0..n).map(|_| format!("m{}", r.below(spread))));
        c
    } else if p < 55 {
        vec!["PFCOUNT".into(), r.pick(KEYS).into()]
    } else if p < 63 {
        let n = 2 + r.below(3);
        [vec!["PFCOUNT".to_string()], keys(r, n)].concat()
    } else if p < 71 {
        let n = 1 + r.below(3);
        [vec!["PFMERGE".to_string()], keys(r, n)].concat()
    } else if p < 85 {
        vec!["GET".into(), r.pick(KEYS).into()]
    } else if p < 92 {
        let sub = r.pick(&["ENCODING", "DECODE", "TODENSE", "GETREG"]);
        vec!["PFDEBUG".into(), sub.into(), r.pick(KEYS).into()]
    } else if p < 95 {
        vec!["CONFIG".into(), "SET".into(), "hll-sparse-max-bytes".into(), r.pick(&["60", "200", "800", "3000"]).into()]
    } else if p < 97 {
        vec!["DEL".into(), r.pick(KEYS).into()]
    } else {
        vec!["SET".into(), r.pick(KEYS).into(), "not an hll".into()]
    };
    (cmd, Cmp::Exact)
}

#[test]
fn random_sequences() {
    random_seeds_with("hll random (one command per write)", gen, 1..=seed_count(6), 400, 1, false);
}

#[test]
fn random_sequences_pipelined() {
    random_seeds_with("hll random (pipelined)", gen, (1..=seed_count(4)).map(|s| 800_000 + s), 400, 40, false);
}

/// The raw value of every key, sorted by key.
fn values(c: &mut redis::Connection) -> Vec<(String, Vec<u8>)> {
    let mut keys: Vec<String> = query(c, &["KEYS", "*"]);
    keys.sort();
    keys.into_iter().map(|k| (k.clone(), get(c, &k))).collect()
}

#[test]
fn aof_replay_rebuilds_the_same_bytes() {
    if against_redis() {
        return;
    }
    let dir = data_dir("hll-aof");
    let s =
        Server::start_in(3, &dir, &["--appendonly", "yes", "--appendfsync", "always", "--hll-sparse-max-bytes", "400"]);
    let mut c = s.client();
    let keys = spread_keys("hllaof", 6);
    let mut r = Rng::new(42);
    for _ in 0..1500 {
        let k = r.pick(&keys.iter().map(String::as_str).collect::<Vec<_>>()).to_string();
        let k2 = keys[r.below(keys.len())].clone();
        let args: Vec<String> = match r.below(10) {
            0..=4 => {
                let mut a = vec!["PFADD".to_string(), k];
                a.extend((0..r.below(30)).map(|_| format!("m{}", r.below(20_000))));
                a
            }
            5 | 6 => vec!["PFCOUNT".into(), k],
            7 => vec!["PFMERGE".into(), k, k2],
            8 => vec!["PFCOUNT".into(), k, k2],
            _ => vec!["PFDEBUG".into(), "TODENSE".into(), k],
        };
        let mut cmd = redis::cmd(&args[0]);
        for a in &args[1..] {
            cmd.arg(a);
        }
        let _ = cmd.query::<redis::Value>(&mut c);
    }
    let before = values(&mut c);
    assert_eq!(before.len(), keys.len());
    drop(s);
    for shards in [3, 1] {
        let s = Server::start_in(shards, &dir, &["--appendonly", "yes"]);
        assert_eq!(values(&mut s.client()), before, "replayed on {shards} shard(s)");
    }
}

/// A redis-server saving into `dir` (the shared one may not change its
/// `dir`), killed on drop.
struct RedisIn(std::process::Child, u16);

impl RedisIn {
    fn start(dir: &std::path::Path) -> RedisIn {
        let port = free_port();
        let child = std::process::Command::new(redis_server_path())
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--dbfilename", "dump.rdb", "--logfile", ""])
            .arg("--dir")
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let up = wait_until(Duration::from_secs(10), || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
        assert!(up, "redis-server did not start");
        RedisIn(child, port)
    }

    fn client(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.1)).unwrap().get_connection().unwrap()
    }
}

impl Drop for RedisIn {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn redis_rdb_loads_with_the_same_bytes_and_counts() {
    if against_redis() {
        return;
    }
    let dir = data_dir("hll-rdb");
    let redis = RedisIn::start(&dir);
    let mut r = redis.client();
    add_range(&mut r, "sparse", 0, 300);
    add_range(&mut r, "dense", 0, 20_000);
    add_range(&mut r, "cached", 0, 5_000);
    let _: i64 = query(&mut r, &["PFCOUNT", "cached"]);
    let _: () = query(&mut r, &["SAVE"]);
    let want = values(&mut r);
    for shards in [1, 3] {
        let s = Server::start_with(shards, &["--dir", dir.to_str().unwrap(), "--dbfilename", "dump.rdb"]);
        let mut c = s.client();
        let loaded = wait_until(Duration::from_secs(20), || {
            query::<String>(&mut c, &["INFO", "persistence"]).contains("\nloading:0")
        });
        assert!(loaded, "still loading");
        assert_eq!(values(&mut c), want, "{shards} shard(s)");
        for key in ["sparse", "dense", "cached"] {
            assert_eq!(query::<i64>(&mut c, &["PFCOUNT", key]), query::<i64>(&mut r, &["PFCOUNT", key]), "{key}");
        }
    }
}
