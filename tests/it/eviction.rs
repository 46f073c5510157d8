//! maxmemory: OOM refusals under noeviction, each eviction policy choosing the
//! keys it should, CONFIG SET maxmemory at run time, and used memory staying
//! near the limit under sustained writes.

use std::time::Duration;

use crate::support::{against_redis, each_shards, query, wait_until, Server};

const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

fn info_field(c: &mut redis::Connection, section: &str, field: &str) -> u64 {
    let text: String = query(c, &["INFO", section]);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
        .trim()
        .parse()
        .unwrap()
}

fn used(c: &mut redis::Connection) -> u64 {
    info_field(c, "memory", "used_memory")
}

fn err(c: &mut redis::Connection, args: &[&str]) -> String {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    match cmd.query::<redis::Value>(c) {
        Err(e) => format!("{} {}", e.code().unwrap_or(""), e.detail().unwrap_or("")).trim().to_string(),
        Ok(v) => panic!("{args:?} answered {v:?}, not an error"),
    }
}

/// `n` keys `{prefix}{i}` with `size`-byte values, pipelined.
fn load(c: &mut redis::Connection, prefix: &str, n: usize, size: usize, ttl: Option<u64>) {
    let value = "x".repeat(size);
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut p = redis::pipe();
        for i in chunk {
            let mut cmd = redis::cmd("SET");
            cmd.arg(format!("{prefix}{i}")).arg(&value);
            if let Some(t) = ttl {
                cmd.arg("EX").arg(t + *i as u64);
            }
            p.add_command(cmd).ignore();
        }
        let () = p.query(c).unwrap();
    }
}

fn exists(c: &mut redis::Connection, prefix: &str, range: std::ops::Range<usize>) -> usize {
    let keys: Vec<String> = range.map(|i| format!("{prefix}{i}")).collect();
    let mut cmd = redis::cmd("EXISTS");
    for k in &keys {
        cmd.arg(k);
    }
    cmd.query::<usize>(c).unwrap()
}

/// What INFO itself may allocate while it reads used_memory.
const INFO_SLACK: u64 = 64 << 10;

/// Sets maxmemory to free about `bytes` below the current use, and waits
/// until used memory is down to it.
fn squeeze(c: &mut redis::Connection, bytes: u64) -> u64 {
    let limit = used(c) - bytes;
    let _: () = query(c, &["CONFIG", "SET", "maxmemory", &limit.to_string()]);
    assert!(wait_until(Duration::from_secs(10), || used(c) <= limit + INFO_SLACK), "used memory stays above {limit}");
    limit
}

#[test]
fn noeviction_refuses_deny_oom_commands() {
    each_shards(|s| {
        let mut c = s.client();
        let _: () = query(&mut c, &["SET", "a", "1"]);
        let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory", "1"]);
        assert_eq!(err(&mut c, &["SET", "b", "2"]), OOM);
        assert_eq!(err(&mut c, &["INCR", "a"]), OOM);
        assert_eq!(err(&mut c, &["MSET", "k1", "1", "k2", "2", "k3", "3"]), OOM);
        assert_eq!(err(&mut c, &["RPUSH", "list", "x"]), OOM);
        // Reads and commands that free memory still run.
        assert_eq!(query::<String>(&mut c, &["GET", "a"]), "1");
        let mut raw = s.raw();
        // Nothing is queued over the limit, and EXEC then fails.
        assert_eq!(raw.cmd(&["MULTI"]), b"+OK\r\n");
        assert_eq!(raw.cmd(&["SET", "c", "3"]), format!("-{OOM}\r\n").into_bytes());
        assert_eq!(raw.cmd(&["GET", "a"]), format!("-{OOM}\r\n").into_bytes());
        assert_eq!(raw.cmd(&["EXEC"]), b"-EXECABORT Transaction discarded because of previous errors.\r\n");
        assert_eq!(query::<i64>(&mut c, &["DEL", "a"]), 1);
        let stats: String = query(&mut c, &["INFO", "errorstats"]);
        assert!(stats.contains("errorstat_OOM:count="), "{stats}");
        let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
        let _: () = query(&mut c, &["SET", "b", "2"]);
    });
}

#[test]
fn exec_of_a_write_transaction_is_refused_over_the_limit() {
    each_shards(|s| {
        let mut raw = s.raw();
        let mut admin = s.client();
        assert_eq!(raw.cmd(&["MULTI"]), b"+OK\r\n");
        assert_eq!(raw.cmd(&["SET", "c", "3"]), b"+QUEUED\r\n");
        let _: () = query(&mut admin, &["CONFIG", "SET", "maxmemory", "1"]);
        assert_eq!(raw.cmd(&["EXEC"]), format!("-EXECABORT Transaction discarded because of: {OOM}\r\n").into_bytes());
        // A transaction of reads runs.
        assert_eq!(raw.cmd(&["MULTI"]), b"+OK\r\n");
        let _: () = query(&mut admin, &["CONFIG", "SET", "maxmemory", "0"]);
        assert_eq!(raw.cmd(&["GET", "c"]), b"+QUEUED\r\n");
        let _: () = query(&mut admin, &["CONFIG", "SET", "maxmemory", "1"]);
        assert_eq!(raw.cmd(&["EXEC"]), b"*1\r\n$-1\r\n");
        let _: () = query(&mut admin, &["CONFIG", "SET", "maxmemory", "0"]);
    });
}

#[test]
fn maxmemory_configuration() {
    let s = Server::start(1);
    let mut c = s.client();
    let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory", "100mb"]);
    let got: Vec<String> = query(&mut c, &["CONFIG", "GET", "maxmemory"]);
    assert_eq!(got, ["maxmemory", "104857600"]);
    assert_eq!(info_field(&mut c, "memory", "maxmemory"), 104857600);
    for p in ["volatile-lru", "allkeys-lfu", "volatile-ttl", "noeviction"] {
        let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory-policy", p]);
        let got: Vec<String> = query(&mut c, &["CONFIG", "GET", "maxmemory-policy"]);
        assert_eq!(got[1], p);
    }
    let e = err(&mut c, &["CONFIG", "SET", "maxmemory-policy", "lru"]);
    assert!(
        e.starts_with("ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"),
        "{e}"
    );
    let e = err(&mut c, &["CONFIG", "SET", "maxmemory-samples", "0"]);
    assert!(e.contains("argument must be between 1 and 2147483647 inclusive"), "{e}");
    let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
}

#[test]
fn lru_keeps_recently_read_keys() {
    each_shards(|s| {
        let mut c = s.client();
        let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
        let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory-samples", "10"]);
        load(&mut c, "k", 3000, 1000, None);
        // The LRU clock counts seconds.
        std::thread::sleep(Duration::from_millis(2100));
        for i in 0..300 {
            let _: String = query(&mut c, &["GET", &format!("k{i}")]);
        }
        squeeze(&mut c, 1_500_000);
        let hot = exists(&mut c, "k", 0..300);
        let cold = exists(&mut c, "k", 300..3000);
        assert!(hot >= 290, "only {hot} of 300 recently read keys kept");
        assert!(cold < 2000, "{cold} of 2700 cold keys kept");
        assert!(info_field(&mut c, "stats", "evicted_keys") as usize >= 3000 - hot - cold);
        let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
    });
}

#[test]
fn lfu_keeps_frequently_read_keys() {
    each_shards(|s| {
        let mut c = s.client();
        let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
        let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory-samples", "10"]);
        load(&mut c, "k", 3000, 1000, None);
        for _ in 0..10 {
            for i in 0..300 {
                let _: String = query(&mut c, &["GET", &format!("k{i}")]);
            }
        }
        let freq: i64 = query(&mut c, &["OBJECT", "FREQ", "k1"]);
        assert!(freq > 5, "OBJECT FREQ {freq}");
        squeeze(&mut c, 1_500_000);
        let hot = exists(&mut c, "k", 0..300);
        assert!(hot >= 290, "only {hot} of 300 frequently read keys kept");
        let e = err(&mut c, &["OBJECT", "IDLETIME", "k1"]);
        assert!(e.starts_with("ERR An LFU maxmemory policy is selected, idle time not tracked."), "{e}");
        let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
        let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
        let e = err(&mut c, &["OBJECT", "FREQ", "k1"]);
        assert!(e.starts_with("ERR An LFU maxmemory policy is not selected, access frequency not tracked."), "{e}");
    });
}

#[test]
fn volatile_policies_evict_only_keys_with_a_ttl() {
    for policy in ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"] {
        let s = Server::start(2);
        let mut c = s.client();
        let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory-policy", policy]);
        load(&mut c, "p", 1000, 1000, None);
        load(&mut c, "v", 1000, 1000, Some(10_000));
        squeeze(&mut c, 500_000);
        assert_eq!(exists(&mut c, "p", 0..1000), 1000, "{policy} evicted a key without a TTL");
        assert!(exists(&mut c, "v", 0..1000) < 1000, "{policy}");
        // With no volatile key left to evict, writes are refused.
        let limit = used(&mut c) - 1_200_000;
        let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory", &limit.to_string()]);
        assert!(
            wait_until(Duration::from_secs(10), || exists(&mut c, "v", 0..1000) == 0),
            "{policy} left volatile keys"
        );
        assert_eq!(exists(&mut c, "p", 0..1000), 1000, "{policy}");
        assert_eq!(err(&mut c, &["SET", "new", "1"]), OOM, "{policy}");
    }
}

#[test]
fn volatile_ttl_evicts_the_soonest_to_expire() {
    let s = Server::start(1);
    let mut c = s.client();
    let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"]);
    let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory-samples", "10"]);
    // TTLs grow with the index.
    load(&mut c, "v", 2000, 1000, Some(10_000));
    squeeze(&mut c, 800_000);
    let soon = exists(&mut c, "v", 0..400);
    let late = exists(&mut c, "v", 1600..2000);
    assert!(late >= 390, "kept only {late} of the 400 latest to expire");
    assert!(soon < 200, "kept {soon} of the 400 soonest to expire");
}

#[test]
fn evictions_notify_and_count() {
    let s = Server::start(3);
    let mut c = s.client();
    let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]);
    let _: () = query(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "Ee"]);
    let mut sub = s.client();
    let _: () = query(&mut sub, &["PSUBSCRIBE", "__keyevent@0__:evicted"]);
    load(&mut c, "k", 2000, 1000, None);
    squeeze(&mut c, 500_000);
    let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
    let evicted = info_field(&mut c, "stats", "evicted_keys");
    assert!(evicted > 0);
    assert_eq!(exists(&mut c, "k", 0..2000) as u64, 2000 - evicted);
    let msg = sub.recv_response().unwrap();
    let items: Vec<String> = redis::from_redis_value(&msg).unwrap();
    assert_eq!(items[0], "pmessage");
    assert_eq!(items[2], "__keyevent@0__:evicted");
    assert!(items[3].starts_with('k'));
}

/// Under sustained writes of random sizes, used memory stays near the limit.
#[test]
fn used_memory_stays_near_maxmemory() {
    for shards in [1, 3] {
        let s = Server::start(shards);
        let mut c = s.client();
        let limit: u64 = 16 << 20;
        let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
        let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory", &limit.to_string()]);
        let mut seed = 7u64;
        let mut peak = 0;
        for round in 0..40 {
            let mut p = redis::pipe();
            for i in 0..250 {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let size = 100 + (seed >> 33) as usize % 10_000;
                p.cmd("SET").arg(format!("r{round}-{i}")).arg(vec![b'v'; size]).ignore();
            }
            let () = p.query(&mut c).unwrap();
            peak = peak.max(used(&mut c));
        }
        // 40 rounds of ~1.25 MB: about three times the limit went in.
        assert!(info_field(&mut c, "stats", "evicted_keys") > 1000, "{shards} shards");
        assert!(peak <= limit + limit / 20, "{shards} shards: used memory reached {peak}, limit {limit}");
        let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
    }
}

/// allkeys-tinylfu: keys read often survive a flood of keys written once,
/// which sweeps them out under allkeys-lru.
#[test]
fn tinylfu_resists_one_off_keys() {
    if against_redis() {
        return;
    }
    let kept = |policy: &str| {
        let s = Server::start(1);
        let mut c = s.client();
        let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory-policy", policy]);
        load(&mut c, "hot", 500, 1000, None);
        // 30 reads each: an LFU counter of 7 or more, which a minute of
        // decay (if one ends during the test) leaves above a new key's 5.
        for _ in 0..30 {
            let mut p = redis::pipe();
            for i in 0..500 {
                p.cmd("GET").arg(format!("hot{i}")).ignore();
            }
            let () = p.query(&mut c).unwrap();
        }
        let limit = used(&mut c) + 200_000;
        let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory", &limit.to_string()]);
        std::thread::sleep(Duration::from_millis(1100));
        load(&mut c, "once", 3000, 1000, None);
        exists(&mut c, "hot", 0..500)
    };
    let lru = kept("allkeys-lru");
    let tiny = kept("allkeys-tinylfu");
    // Typically 465-490 are kept: a hot key goes only when no newcomer is
    // among the sampled candidates.
    assert!(tiny >= 440, "allkeys-tinylfu kept {tiny} of 500 hot keys (allkeys-lru {lru})");
    assert!(lru < tiny, "allkeys-lru kept {lru}, allkeys-tinylfu {tiny}");
}

/// allkeys-tinylfu remembers reads of keys that are not stored: a key read
/// while absent starts with the LFU counter those reads would have given it,
/// where allkeys-lfu starts every new key at 5.
#[test]
fn tinylfu_remembers_reads_of_absent_keys() {
    if against_redis() {
        return;
    }
    let s = Server::start(1);
    let mut c = s.client();
    let start_freq = |c: &mut redis::Connection, policy: &str, key: &str| -> i64 {
        let _: () = query(c, &["CONFIG", "SET", "maxmemory-policy", policy]);
        for _ in 0..20 {
            let _: Option<String> = query(c, &["GET", key]);
        }
        let _: () = query(c, &["SET", key, "v"]);
        query(c, &["OBJECT", "FREQ", key])
    };
    assert_eq!(start_freq(&mut c, "allkeys-lfu", "plain"), 5);
    assert!(start_freq(&mut c, "allkeys-tinylfu", "ghost") >= 6);
    // A key never read starts as under allkeys-lfu.
    let _: () = query(&mut c, &["SET", "fresh", "v"]);
    assert_eq!(query::<i64>(&mut c, &["OBJECT", "FREQ", "fresh"]), 5);
}

/// Scripts over the limit, as Redis 7 treats them: a script that may write is
/// refused, `no-writes` and `allow-oom` scripts run, and in a script without a
/// shebang deny-oom calls fail until the script has written.
#[test]
fn scripts_over_the_limit() {
    each_shards(|s| {
        let mut c = s.client();
        let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory", "1"]);
        assert_eq!(err(&mut c, &["EVAL", "#!lua\nreturn 1", "0"]), OOM);
        assert_eq!(query::<i64>(&mut c, &["EVAL", "#!lua flags=no-writes\nreturn 1", "0"]), 1);
        let ok: String =
            query(&mut c, &["EVAL", "#!lua flags=allow-oom\nreturn redis.call('set','{k}y','1')", "1", "{k}y"]);
        assert_eq!(ok, "OK");
        let e = err(&mut c, &["EVAL", "return redis.call('set',KEYS[1],'1')", "1", "{k}x"]);
        assert!(e.starts_with(OOM), "{e}");
        let ok: String =
            query(&mut c, &["EVAL", "redis.call('del',KEYS[1]) return redis.call('set',KEYS[1],'1')", "1", "{k}x"]);
        assert_eq!(ok, "OK");
        let _: () = query(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
    });
}
